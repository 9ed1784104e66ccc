/* SQL for email_jobs and scheduler_runs (migrations/0002_email_jobs.sql). */
#include "jobs/email_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/jobs.h"
#include "cinema/kv.h"
#include "cinema/log.h"
#include "cinema/mem.h"

static const struct db_stmt stmt_enqueue = {
	"email_job_enqueue",
	"INSERT INTO email_jobs (kind, recipient, payload) VALUES ($1, $2, $3::jsonb) "
	"RETURNING id"};

enum err email_job_enqueue(struct db_conn *conn, const char *kind, const char *recipient,
			   const json_t *payload, long long *id)
{
	PGresult *res = NULL;
	char *json = json_dumps(payload, JSON_COMPACT);
	const char *params[] = {kind, recipient, json ? json : "{}"};
	enum err rc = db_exec(conn, &stmt_enqueue, 3, params, &res);
	if (rc == ERR_OK)
		*id = db_int(res, 0, 0);
	PQclear(res);
	free(json);
	return rc;
}

void email_job_announce(struct kv *kv, const char *queue_key, long long id)
{
	if (kv_command(kv, NULL, "LPUSH %s %lld", queue_key, id) != ERR_OK)
		LOG_WARN("email job not announced; the sweep will send it", LOG_INT("job_id", id));
}

void email_job_clear(struct email_job *job)
{
	free(job->kind);
	free(job->recipient);
	json_decref(job->payload);
	memset(job, 0, sizeof(*job));
}

/* $1 is the lease in seconds. */
#define CLAIM_SET                                                             \
	"UPDATE email_jobs SET status = 'sending', attempts = attempts + 1, " \
	"locked_until = now() + make_interval(secs => $1::int) "
#define CLAIM_RETURNING " RETURNING id, kind, recipient, payload::text, attempts"

static const struct db_stmt stmt_claim = {"email_job_claim", CLAIM_SET
					  "WHERE id = (SELECT id FROM email_jobs WHERE id = $2 "
					  "AND status = 'pending' AND next_attempt_at <= now() "
					  "FOR UPDATE SKIP LOCKED)" CLAIM_RETURNING};

static const struct db_stmt stmt_claim_next = {
	"email_job_claim_next",
	CLAIM_SET "WHERE id = (SELECT id FROM email_jobs WHERE status = 'pending' "
		  "AND next_attempt_at <= now() "
		  "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)" CLAIM_RETURNING};

/* Runs a claim statement ($1 lease, optional $2 id) and reads the job. */
static enum err claim(struct db_conn *conn, const struct db_stmt *stmt, int lease_s, const char *id,
		      struct email_job *job)
{
	PGresult *res = NULL;
	char lease[16];
	snprintf(lease, sizeof(lease), "%d", lease_s);
	const char *params[] = {lease, id};
	memset(job, 0, sizeof(*job));
	enum err rc = db_exec(conn, stmt, id ? 2 : 1, params, &res);
	if (rc != ERR_OK)
		goto out;
	if (PQntuples(res) == 0) {
		rc = ERR_NOT_FOUND;
		goto out;
	}
	job->id = db_int(res, 0, 0);
	job->kind = xstrdup(db_text(res, 0, 1));
	job->recipient = xstrdup(db_text(res, 0, 2));
	job->payload = json_loads(db_text(res, 0, 3), 0, NULL);
	if (!job->payload)
		job->payload = json_object();
	job->attempts = (int)db_int(res, 0, 4);
out:
	PQclear(res);
	return rc;
}

enum err email_job_claim(struct db_conn *conn, long long id, int lease_s, struct email_job *job)
{
	char idstr[24];
	snprintf(idstr, sizeof(idstr), "%lld", id);
	return claim(conn, &stmt_claim, lease_s, idstr, job);
}

enum err email_job_claim_next(struct db_conn *conn, int lease_s, struct email_job *job)
{
	return claim(conn, &stmt_claim_next, lease_s, NULL, job);
}

static enum err exec_id(struct db_conn *conn, const struct db_stmt *stmt, long long id,
			const char *extra1, const char *extra2)
{
	char idstr[24];
	snprintf(idstr, sizeof(idstr), "%lld", id);
	const char *params[] = {idstr, extra1, extra2};
	int n = extra2 ? 3 : extra1 ? 2 : 1;
	return db_exec(conn, stmt, n, params, NULL);
}

static const struct db_stmt stmt_sent = {
	"email_job_sent", "UPDATE email_jobs SET status = 'sent', sent_at = now(), "
			  "locked_until = NULL, last_error = NULL, payload = '{}' WHERE id = $1"};

enum err email_job_sent(struct db_conn *conn, long long id)
{
	return exec_id(conn, &stmt_sent, id, NULL, NULL);
}

static const struct db_stmt stmt_retry = {
	"email_job_retry",
	"UPDATE email_jobs SET status = 'pending', locked_until = NULL, last_error = $3, "
	"next_attempt_at = now() + make_interval(secs => $2::double precision / 1000) "
	"WHERE id = $1"};

enum err email_job_retry(struct db_conn *conn, long long id, long long delay_ms, const char *error)
{
	char delay[24];
	snprintf(delay, sizeof(delay), "%lld", delay_ms);
	return exec_id(conn, &stmt_retry, id, delay, error);
}

static const struct db_stmt stmt_failed = {
	"email_job_failed", "UPDATE email_jobs SET status = 'failed', locked_until = NULL, "
			    "last_error = $2, payload = '{}' WHERE id = $1"};

enum err email_job_failed(struct db_conn *conn, long long id, const char *error)
{
	return exec_id(conn, &stmt_failed, id, error, NULL);
}

static const struct db_stmt stmt_requeue = {
	"email_job_requeue_expired",
	"UPDATE email_jobs SET status = 'pending', locked_until = NULL, "
	"last_error = 'lease expired: the scheduler sending it stopped' "
	"WHERE id IN (SELECT id FROM email_jobs WHERE status = 'sending' "
	"AND locked_until < now() FOR UPDATE SKIP LOCKED)"};

enum err email_job_requeue_expired(struct db_conn *conn, long long *count)
{
	PGresult *res = NULL;
	enum err rc = db_exec(conn, &stmt_requeue, 0, NULL, &res);
	*count = rc == ERR_OK ? strtoll(PQcmdTuples(res), NULL, 10) : 0;
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_stats = {
	"email_job_stats",
	"SELECT s.status::text, count(j.id), min(j.created_at) "
	"FILTER (WHERE j.status IN ('pending', 'sending')) "
	"FROM unnest(enum_range(NULL::email_job_status)) AS s(status) "
	"LEFT JOIN email_jobs j ON j.status = s.status GROUP BY s.status ORDER BY s.status"};

enum err email_job_stats(struct db_conn *conn, json_t **out)
{
	PGresult *res = NULL;
	enum err rc = db_exec(conn, &stmt_stats, 0, NULL, &res);
	if (rc != ERR_OK)
		return rc;
	json_t *counts = json_object();
	json_t *oldest = json_null();
	for (int i = 0; i < PQntuples(res); i++) {
		json_object_set_new(counts, db_text(res, i, 0), json_integer(db_int(res, i, 1)));
		if (!db_is_null(res, i, 2) && json_is_null(oldest)) {
			json_decref(oldest);
			oldest = json_string(db_text(res, i, 2));
		}
	}
	*out = json_pack("{s:o,s:o}", "email_jobs", counts, "oldest_unsent_created_at", oldest);
	PQclear(res);
	return ERR_OK;
}

static const struct db_stmt stmt_claim_period = {
	"scheduler_claim_period",
	"UPDATE scheduler_runs SET last_run_at = now() WHERE job = $1 "
	"AND last_run_at <= now() - make_interval(secs => $2::int) RETURNING job"};

enum err scheduler_claim_period(struct db_conn *conn, const char *name, int interval_s,
				bool *claimed)
{
	PGresult *res = NULL;
	char interval[16];
	snprintf(interval, sizeof(interval), "%d", interval_s);
	const char *params[] = {name, interval};
	enum err rc = db_exec(conn, &stmt_claim_period, 2, params, &res);
	*claimed = rc == ERR_OK && PQntuples(res) == 1;
	PQclear(res);
	return rc;
}
