/* One loop, one thread:
 *
 *   every SCHEDULER_SWEEP_MS: return expired leases to pending, run periodic
 *     jobs whose period this process claims (token cleanup, payment
 *     reconciliation), ask Stripe for new automatic refunds, send every due
 *     pending email (retries, and jobs whose announcement was lost);
 *   otherwise: block up to a second on the Redis lists for a new job id
 *     (claim it and send it) or a media trash announcement (delete the
 *     objects just queued in media_trash).
 *
 * Claims are row updates guarded by FOR UPDATE SKIP LOCKED, so any number of
 * schedulers can share the queue without sending an email twice. */
#include "scheduler/scheduler.h"

#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/repo.h"
#include "cinema/clock.h"
#include "cinema/config.h"
#include "cinema/db.h"
#include "cinema/app.h"
#include "cinema/kv.h"
#include "cinema/log.h"
#include "commerce/service.h"
#include "jobs/email_jobs.h"
#include "mail/mail.h"
#include "mail/template.h"
#include "media/cleanup.h"
#include "storage/s3.h"

#define BRPOP_TIMEOUT_S 1
#define SWEEP_BATCH	200
#define REFUND_BATCH	50

struct scheduler {
	const struct config *cfg;
	struct db_pool *db;
	struct kv *kv;
	struct mail_sender *mail;
	struct s3_client *s3; /* NULL when S3_ACCESS_KEY or S3_SECRET_KEY is unset */
	char from_addr[256];
	sigset_t stop_signals;
	bool stopping;
};

/* Waits up to ms for a stop signal; true once one has arrived. */
static bool stop_wait(struct scheduler *s, long ms)
{
	if (s->stopping)
		return true;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	int sig = sigtimedwait(&s->stop_signals, NULL, &ts);
	if (sig > 0) {
		LOG_INFO("scheduler stopping",
			 LOG_STR("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
		s->stopping = true;
	}
	return s->stopping;
}

/* Delay before attempt n+1: base * 2^(n-1), capped, with equal jitter. */
static long long retry_delay_ms(const struct config *cfg, int attempts)
{
	long long d = cfg->email_retry_base_ms;
	for (int i = 1; i < attempts && d < cfg->email_retry_max_ms; i++)
		d *= 2;
	if (d > cfg->email_retry_max_ms)
		d = cfg->email_retry_max_ms;
	long long half = d / 2;
	return half + (long long)randombytes_uniform((uint32_t)(half > 0 ? half : 1));
}

enum outcome { OUTCOME_SENT, OUTCOME_RETRY, OUTCOME_FAILED };

static const char *const outcome_names[] = {"sent", "retry", "failed"};

/* Records how an attempt ended and logs it (never the token or link). */
static void finish(struct scheduler *s, const struct email_job *job, enum outcome outcome,
		   const char *error)
{
	struct db_conn *conn = NULL;
	long long delay = 0;
	enum err rc = db_acquire(s->db, &conn);
	if (rc == ERR_OK) {
		switch (outcome) {
		case OUTCOME_SENT:
			rc = email_job_sent(conn, job->id);
			break;
		case OUTCOME_RETRY:
			delay = retry_delay_ms(s->cfg, job->attempts);
			rc = email_job_retry(conn, job->id, delay, error);
			break;
		case OUTCOME_FAILED:
			rc = email_job_failed(conn, job->id, error);
			break;
		}
	}
	db_release(conn);
	if (rc != ERR_OK) /* the lease expires and the job is tried again */
		LOG_ERROR("email job state not saved", LOG_INT("job_id", job->id),
			  LOG_STR("outcome", outcome_names[outcome]));
	if (outcome == OUTCOME_SENT)
		LOG_INFO("email job", LOG_INT("job_id", job->id), LOG_STR("kind", job->kind),
			 LOG_INT("attempt", job->attempts), LOG_STR("outcome", "sent"));
	else
		LOG_WARN("email job", LOG_INT("job_id", job->id), LOG_STR("kind", job->kind),
			 LOG_INT("attempt", job->attempts),
			 LOG_STR("outcome", outcome_names[outcome]), LOG_STR("error", error),
			 LOG_INT("retry_in_ms", delay));
}

/* Renders, builds and sends one claimed job, then records the outcome. */
static void deliver(struct scheduler *s, struct email_job *job)
{
	const struct config *cfg = s->cfg;
	struct rendered_mail rm = {0};
	struct buf msg = BUF_INIT;
	char error[256] = "";

	json_t *vars = json_deep_copy(job->payload);
	if (email_payload_open(vars, cfg->email_payload_key, job->kind, job->recipient) != ERR_OK) {
		finish(s, job, OUTCOME_FAILED,
		       "sealed payload does not open: EMAIL_PAYLOAD_KEY differs from the "
		       "producer's, or the row was altered");
		goto out;
	}
	json_object_set_new(vars, "base_url", json_string(cfg->public_base_url));
	json_object_set_new(vars, "email", json_string(job->recipient));
	if (template_render_mail(cfg->templates_dir, job->kind, vars, &rm, error, sizeof(error)) !=
	    ERR_OK) {
		finish(s, job, OUTCOME_FAILED, error); /* retrying cannot help */
		goto out;
	}
	struct mail_message m = {.from = cfg->mail_from,
				 .to = job->recipient,
				 .subject = rm.subject,
				 .text = rm.text,
				 .html = rm.html};
	if (mail_build(&m, &msg) != ERR_OK) {
		finish(s, job, OUTCOME_FAILED,
		       "refused: a header holds CR or LF, or an address is malformed");
		goto out;
	}
	enum err rc = mail_send(s->mail, s->from_addr, job->recipient, msg.data, msg.len, error,
				sizeof(error));
	if (rc == ERR_OK)
		finish(s, job, OUTCOME_SENT, NULL);
	else
		finish(s, job,
		       job->attempts >= cfg->email_max_attempts ? OUTCOME_FAILED : OUTCOME_RETRY,
		       error);
out:
	json_decref(vars);
	rendered_mail_free(&rm);
	buf_free(&msg);
}

/* Claims job id (0: the next due one) and delivers it. False when there was
 * nothing to claim or the database failed. */
static bool claim_and_deliver(struct scheduler *s, long long id)
{
	struct db_conn *conn = NULL;
	struct email_job job = {0};
	enum err rc = db_acquire(s->db, &conn);
	if (rc == ERR_OK)
		rc = id ? email_job_claim(conn, id, s->cfg->email_lease_s, &job)
			: email_job_claim_next(conn, s->cfg->email_lease_s, &job);
	db_release(conn); /* never hold a connection across the SMTP call */
	if (rc != ERR_OK) {
		if (rc != ERR_NOT_FOUND)
			LOG_WARN("email job claim failed", LOG_STR("error", err_code(rc)));
		return false;
	}
	deliver(s, &job);
	email_job_clear(&job);
	return true;
}

/* Pending checkouts whose outcome never arrived, and automatic refunds
 * Stripe has not accepted yet (src/commerce/settle.c). Runs with no
 * connection held: each Stripe call is bounded by STRIPE_TIMEOUT_MS and
 * each change is its own short transaction. */
static void reconcile_payments(struct scheduler *s)
{
	struct app app = {.cfg = s->cfg, .db = s->db, .kv = s->kv};
	struct reconcile_counts n;
	enum err rc = payments_reconcile(&app, &n);
	LOG_INFO("periodic job", LOG_STR("job", "reconcile_payments"),
		 LOG_STR("outcome", rc == ERR_OK ? "done" : err_code(rc)),
		 LOG_INT("sessions_checked", n.checked), LOG_INT("paid", n.paid),
		 LOG_INT("expired", n.expired), LOG_INT("in_progress", n.in_progress),
		 LOG_INT("failed", n.failed), LOG_INT("refunds_tried", n.refunds_tried),
		 LOG_INT("refunds_left", n.refunds_left));
}

static bool drain_should_stop(void *ctx)
{
	return stop_wait(ctx, 0);
}

/* Deletes what media_trash holds (all of it, or only rows never tried). */
static void drain_media_trash(struct scheduler *s, bool only_new)
{
	struct media_drain_counts n;
	enum err rc = media_trash_drain(s->db, s->s3, only_new, drain_should_stop, s, &n);
	if (rc != ERR_OK || n.deleted || n.failed)
		LOG_INFO("media trash drained",
			 LOG_STR("outcome", rc == ERR_OK ? "done" : err_code(rc)),
			 LOG_BOOL("only_new", only_new), LOG_INT("deleted", n.deleted),
			 LOG_INT("failed", n.failed));
}

/* Abandoned uploads go to the trash, then the whole trash is drained
 * (retrying earlier failures). */
static void cleanup_media(struct scheduler *s)
{
	long long expired = 0;
	enum err rc = media_cleanup_expired(s->db, s->cfg->media_upload_grace_s, &expired);
	LOG_INFO("periodic job", LOG_STR("job", "cleanup_media"),
		 LOG_STR("outcome", rc == ERR_OK ? "done" : err_code(rc)),
		 LOG_INT("expired_uploads", expired));
	drain_media_trash(s, false);
}

static void run_periodic(struct scheduler *s)
{
	struct db_conn *conn = NULL;
	bool claimed = false, reconcile = false, media = false;
	long long requeued = 0;
	if (db_acquire(s->db, &conn) != ERR_OK)
		return;
	email_job_requeue_expired(conn, &requeued);
	scheduler_claim_period(conn, "cleanup_expired_tokens", s->cfg->token_cleanup_interval_s,
			       &claimed);
	/* Without a Stripe key there is nothing to ask: the period is not
	 * claimed, so a scheduler that has one runs it. */
	if (*s->cfg->stripe_secret_key)
		scheduler_claim_period(conn, "reconcile_payments",
				       s->cfg->payment_reconcile_interval_s, &reconcile);
	/* Likewise without S3 keys: a scheduler that has them runs it. */
	if (s->s3)
		scheduler_claim_period(conn, "cleanup_media", s->cfg->media_cleanup_interval_s,
				       &media);
	db_release(conn);
	if (reconcile)
		reconcile_payments(s);
	if (media)
		cleanup_media(s);
	if (requeued)
		LOG_WARN("email jobs with expired leases requeued", LOG_INT("count", requeued));
	if (claimed) {
		struct expired_tokens n;
		enum err rc = accounts_delete_expired_tokens(s->db, &n);
		LOG_INFO("periodic job", LOG_STR("job", "cleanup_expired_tokens"),
			 LOG_STR("outcome", rc == ERR_OK ? "done" : err_code(rc)),
			 LOG_INT("activation_tokens", n.activation),
			 LOG_INT("password_reset_tokens", n.password_reset),
			 LOG_INT("refresh_tokens", n.refresh), LOG_INT("sessions", n.sessions));
	}
}

/* Automatic refunds recorded since the last sweep (money taken for an
 * order that will not be fulfilled): asked of Stripe now, with no
 * connection held; failures wait for reconcile_payments. */
static void refund_new_payments(struct scheduler *s)
{
	struct app app = {.cfg = s->cfg, .db = s->db, .kv = s->kv};
	int tried = 0;
	if (!*s->cfg->stripe_secret_key)
		return;
	enum err rc = payments_refund_new(&app, REFUND_BATCH, &tried);
	if (rc != ERR_OK)
		LOG_WARN("automatic refunds not attempted", LOG_STR("error", err_code(rc)),
			 LOG_INT("tried", tried));
}

static void sweep(struct scheduler *s)
{
	run_periodic(s);
	refund_new_payments(s);
	for (int i = 0; i < SWEEP_BATCH && !stop_wait(s, 0); i++)
		if (!claim_and_deliver(s, 0))
			break;
}

/* Blocks up to BRPOP_TIMEOUT_S for an announced email job id (returned; 0
 * if none) or, with S3, an announcement of media trash (*trash set). */
static long long next_announced(struct scheduler *s, bool *trash)
{
	redisReply *r = NULL;
	long long id = 0;
	const char *media_key = s->cfg->media_trash_queue_key;
	enum err rc = s->s3 ? kv_command(s->kv, &r, "BRPOP %s %s %d", s->cfg->email_queue_key,
					 media_key, BRPOP_TIMEOUT_S)
			    : kv_command(s->kv, &r, "BRPOP %s %d", s->cfg->email_queue_key,
					 BRPOP_TIMEOUT_S);
	*trash = false;
	if (rc != ERR_OK) {
		stop_wait(s, 1000); /* Redis down: the sweep still sends everything */
		return 0;
	}
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[1]->type == REDIS_REPLY_STRING) {
		if (s->s3 && strcmp(r->element[0]->str, media_key) == 0)
			*trash = true;
		else
			id = strtoll(r->element[1]->str, NULL, 10);
	}
	freeReplyObject(r);
	return id;
}

static enum err open_handles(struct scheduler *s, const struct config *cfg)
{
	char err[256];
	struct db_pool_options dbo = {
		.conninfo = cfg->database_url,
		.size = 2,
		.acquire_timeout_ms = cfg->db_acquire_timeout_ms,
		.connect_timeout_s = cfg->db_connect_timeout_s,
		.statement_timeout_ms = cfg->db_statement_timeout_ms,
	};
	/* The socket timeout must outlast BRPOP's own wait. */
	struct kv_options kvo = {.url = cfg->redis_url,
				 .pool_size = 1,
				 .timeout_ms = cfg->redis_timeout_ms + BRPOP_TIMEOUT_S * 1000};
	s->cfg = cfg;
	if ((long long)cfg->email_lease_s * 1000 <= cfg->smtp_timeout_ms) {
		/* A lease shorter than one send would let a second scheduler send
		 * the same email while the first is still at it. */
		fprintf(stderr, "cinema-scheduler: EMAIL_LEASE_SECONDS must be longer than "
				"SMTP_TIMEOUT_MS\n");
		return ERR_VALIDATION;
	}
	if (!mail_address(cfg->mail_from, s->from_addr, sizeof(s->from_addr))) {
		fprintf(stderr, "cinema-scheduler: MAIL_FROM must be \"Name <addr@host>\" or "
				"\"addr@host\"\n");
		return ERR_VALIDATION;
	}
	if (!(s->db = db_pool_new(&dbo))) {
		fprintf(stderr,
			"cinema-scheduler: DATABASE_URL is not a valid connection string\n");
		return ERR_VALIDATION;
	}
	if (!(s->kv = kv_new(&kvo, err, sizeof(err)))) {
		fprintf(stderr, "cinema-scheduler: %s\n", err);
		return ERR_VALIDATION;
	}
	struct mail_smtp smtp = {.url = cfg->smtp_url,
				 .timeout_ms = cfg->smtp_timeout_ms,
				 .allow_plain = cfg->smtp_allow_plain != 0};
	s->mail = mail_sender_new(&smtp);
	if (s3_client_from_config(cfg, &s->s3) != ERR_OK) {
		fprintf(stderr, "cinema-scheduler: S3_ENDPOINT, S3_PUBLIC_ENDPOINT, "
				"S3_BUCKET or S3_REGION is malformed\n");
		return ERR_VALIDATION;
	}
	if (!s->s3)
		LOG_WARN("S3_ACCESS_KEY or S3_SECRET_KEY unset: media objects are not deleted");
	return ERR_OK;
}

static void close_handles(struct scheduler *s)
{
	s3_client_free(s->s3);
	mail_sender_free(s->mail);
	kv_free(s->kv);
	db_pool_free(s->db);
}

int scheduler_run(const struct config *cfg)
{
	struct scheduler s = {0};
	int rc = 2;
	sigemptyset(&s.stop_signals);
	sigaddset(&s.stop_signals, SIGTERM);
	sigaddset(&s.stop_signals, SIGINT);
	if (open_handles(&s, cfg) != ERR_OK)
		goto out;
	LOG_INFO("scheduler started", LOG_STR("queue", cfg->email_queue_key),
		 LOG_INT("sweep_ms", cfg->scheduler_sweep_ms),
		 LOG_INT("max_attempts", cfg->email_max_attempts),
		 LOG_STR("smtp_tls", mail_sender_tls_mode(s.mail)));
	long long next_sweep = 0;
	while (!stop_wait(&s, 0)) {
		if (mono_ms() >= next_sweep) {
			sweep(&s);
			next_sweep = mono_ms() + cfg->scheduler_sweep_ms;
			continue;
		}
		bool trash = false;
		long long id = next_announced(&s, &trash);
		if (id > 0)
			claim_and_deliver(&s, id);
		else if (trash)
			drain_media_trash(&s, true);
	}
	LOG_INFO("scheduler stopped");
	rc = 0;
out:
	close_handles(&s);
	return rc;
}

int scheduler_status(const struct config *cfg)
{
	struct scheduler s = {0};
	struct db_conn *conn = NULL;
	json_t *stats = NULL;
	redisReply *r = NULL;
	int rc = 1;
	if (open_handles(&s, cfg) != ERR_OK) {
		rc = 2;
		goto out;
	}
	if (db_acquire(s.db, &conn) != ERR_OK || email_job_stats(conn, &stats) != ERR_OK) {
		fprintf(stderr, "cinema-scheduler: cannot read email_jobs from PostgreSQL\n");
		goto out;
	}
	if (kv_command(s.kv, &r, "LLEN %s", cfg->email_queue_key) == ERR_OK &&
	    r->type == REDIS_REPLY_INTEGER)
		json_object_set_new(stats, "queue_length", json_integer(r->integer));
	else
		json_object_set_new(stats, "queue_length", json_null());
	char *text = json_dumps(stats, JSON_INDENT(2));
	printf("%s\n", text);
	free(text);
	rc = 0;
out:
	freeReplyObject(r);
	json_decref(stats);
	db_release(conn);
	close_handles(&s);
	return rc;
}
