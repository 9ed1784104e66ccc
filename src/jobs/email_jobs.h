/* The email_jobs table as the scheduler sees it: claim, finish, retry.
 * (Producers use include/cinema/jobs.h.) */
#ifndef CINEMA_JOBS_EMAIL_JOBS_H
#define CINEMA_JOBS_EMAIL_JOBS_H

#include <jansson.h>
#include <stdbool.h>

#include "cinema/db.h"

struct email_job {
	long long id;
	char *kind;	 /* owned */
	char *recipient; /* owned */
	json_t *payload; /* owned */
	int attempts;	 /* including the one just claimed */
};

void email_job_clear(struct email_job *job);

/* Claims job id if it is pending and due: status becomes sending, attempts
 * grows by one, the lease runs for lease_s seconds. ERR_OK with *job filled,
 * or ERR_NOT_FOUND when someone else has it, it is done, or not yet due. */
enum err email_job_claim(struct db_conn *conn, long long id, int lease_s, struct email_job *job);
/* Claims the oldest due pending job, skipping rows other schedulers hold.
 * ERR_NOT_FOUND when there is none. */
enum err email_job_claim_next(struct db_conn *conn, int lease_s, struct email_job *job);
/* Marks the job sent and empties its payload. */
enum err email_job_sent(struct db_conn *conn, long long id);
/* Puts the job back to pending, due after delay_ms, with the error text. */
enum err email_job_retry(struct db_conn *conn, long long id, long long delay_ms, const char *error);
/* Marks the job failed for good (and empties its payload). */
enum err email_job_failed(struct db_conn *conn, long long id, const char *error);
/* Returns jobs whose lease ran out (a scheduler died while sending) to
 * pending; *count gets how many. */
enum err email_job_requeue_expired(struct db_conn *conn, long long *count);

/* Opens payload's "sealed" member (see email_payload_seal in
 * include/cinema/jobs.h) with the key from key_secret: replaces it by the
 * variables it holds. ERR_OK when it opened or there was none; ERR_VALIDATION,
 * payload unchanged, when it does not open: another key, an altered value,
 * or a row whose kind or recipient is not the one it was sealed for. */
enum err email_payload_open(json_t *payload, const char *key_secret, const char *kind,
			    const char *recipient);

/* Counts by status for `cinema-scheduler status`; owned JSON object. */
enum err email_job_stats(struct db_conn *conn, json_t **out);

/* Claims the periodic job name for this period: true when this process
 * should run it now (it last ran at least interval_s seconds ago). */
enum err scheduler_claim_period(struct db_conn *conn, const char *name, int interval_s,
				bool *claimed);

#endif
