/* Reading what cinema-mailsink stored: one DIR/<ms>-<pid>-<n>.eml file per
 * message, starting with X-Sink-Mail-From and X-Sink-Rcpt-To lines, then
 * the message as the scheduler built it (multipart/alternative, each part
 * quoted-printable). Call inside a test: failures are check assertions. */
#ifndef CINEMA_TEST_MAILBOX_H
#define CINEMA_TEST_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>

struct mailbox_msg {
	char file[512];	   /* full path */
	char rcpt[256];	   /* first envelope recipient, without <> */
	char subject[256]; /* the Subject header as stored (encoded words left as is) */
	char *text;	   /* the decoded text/plain part (owned), "" if none */
};

/* Number of stored messages in dir (temporary files not counted). */
int mailbox_count(const char *dir);
/* Loads every stored message of dir, oldest first (by file name). Returns
 * the count; *out is an owned array (free with mailbox_free). */
size_t mailbox_load(const char *dir, struct mailbox_msg **out);
void mailbox_free(struct mailbox_msg *msgs, size_t n);
/* Finds marker (e.g. "/accounts/activate?token=") in text and copies the
 * token that follows (base64url characters) into out. False if absent. */
bool mailbox_token_after(const char *text, const char *marker, char *out, size_t outlen);

#endif
