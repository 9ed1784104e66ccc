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
#define EMAIL_PAYMENT_REFUND	   "payment_refund"
#define EMAIL_COMMENT_REPLY	   "comment_reply"
#define EMAIL_COMMENT_LIKE	   "comment_like"

/* The Redis list the scheduler blocks on. */
#define EMAIL_QUEUE_KEY_DEFAULT "cinema:email_jobs"

/* Inserts a pending job for recipient with the template variables in payload
 * (borrowed JSON object of strings and numbers). *id gets the job id. */
enum err email_job_enqueue(struct db_conn *conn, const char *kind, const char *recipient,
			   const json_t *payload, long long *id);
/* The payload member holding sealed variables. */
#define EMAIL_SEALED "sealed"

/* Adds to payload (an object) the member "sealed": the variables of secrets
 * (borrowed JSON object; e.g. a one-time token) encrypted and authenticated
 * with the key taken from key_secret (EMAIL_PAYLOAD_KEY) and bound to kind
 * and recipient, so that a reader of email_jobs cannot use them. Only the
 * scheduler opens it, just before rendering (src/jobs/seal.c says why and
 * how). ERR_INTERNAL when secrets is not an object. */
enum err email_payload_seal(json_t *payload, const json_t *secrets, const char *key_secret,
			    const char *kind, const char *recipient);

/* Pushes the id on the queue list. Best effort: a failure is logged and left
 * to the scheduler's sweep. */
void email_job_announce(struct kv *kv, const char *queue_key, long long id);

#endif
