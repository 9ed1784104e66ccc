/* Durable email jobs, for every domain that needs an email sent.
 *
 * Record the job with email_job_enqueue inside the same transaction as the
 * change that causes it; after COMMIT, announce it with email_job_announce.
 * The scheduler sends it. If the announcement is lost (Redis down, a crash
 * between commit and announce), the scheduler's sweep still finds the row:
 * no email is lost, and row claims make sure none is sent twice. */
#ifndef CINEMA_JOBS_H
#define CINEMA_JOBS_H

#include <jansson.h>

#include "cinema/error.h"

struct db_conn;
struct kv;

/* Email kinds; each has templates in TEMPLATES_DIR (see src/mail/template.h). */
#define EMAIL_ACTIVATION	   "activation"
#define EMAIL_PASSWORD_RESET	   "password_reset"
#define EMAIL_PASSWORD_CHANGED	   "password_changed"
#define EMAIL_PAYMENT_CONFIRMATION "payment_confirmation"
#define EMAIL_COMMENT_REPLY	   "comment_reply"
#define EMAIL_COMMENT_LIKE	   "comment_like"

/* The Redis list the scheduler blocks on. */
#define EMAIL_QUEUE_KEY_DEFAULT "cinema:email_jobs"

/* Inserts a pending job for recipient with the template variables in payload
 * (borrowed JSON object of strings and numbers). *id gets the job id. */
enum err email_job_enqueue(struct db_conn *conn, const char *kind, const char *recipient,
			   const json_t *payload, long long *id);
/* Pushes the id on the queue list. Best effort: a failure is logged and left
 * to the scheduler's sweep. */
void email_job_announce(struct kv *kv, const char *queue_key, long long id);

#endif
