/* Email: building RFC 5322 / MIME messages and sending them over SMTP with
 * libcurl. Knows nothing about jobs or templates. */
#ifndef CINEMA_MAIL_H
#define CINEMA_MAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "cinema/buf.h"
#include "cinema/error.h"

struct mail_message {
	const char *from;    /* "Display Name <addr@host>" or "addr@host" */
	const char *to;	     /* "addr@host" */
	const char *subject; /* UTF-8 */
	const char *text;    /* UTF-8 plain-text body */
	const char *html;    /* UTF-8 HTML body, or NULL for text only */
};

/* Appends the whole message (headers and body, CRLF line ends) to out:
 * Date, Message-ID, MIME-Version, multipart/alternative when html is given,
 * UTF-8 bodies in quoted-printable (links stay readable in a stored
 * message), non-ASCII subject and display name as RFC 2047 encoded words.
 * Returns ERR_VALIDATION, appending nothing, if any header value holds CR or
 * LF (header injection) or an address is malformed. */
enum err mail_build(const struct mail_message *m, struct buf *out);

/* Copies the bare address of "Name <addr>" or "addr" into out. False if there
 * is none, it holds CR, LF, spaces or angle brackets, or it lacks an '@'. */
bool mail_address(const char *from, char *out, size_t outlen);

struct mail_smtp {
	const char *url; /* smtp://[user:pass@]host[:port] or smtps://... */
	int timeout_ms;	 /* whole-transfer timeout; connect gets the smaller of it and 5 s */
	/* smtp:// uses STARTTLS and, unless allow_plain, fails (naming TLS)
	 * when the server does not offer it, so that a man in the middle
	 * cannot strip it; smtps:// is TLS from the start either way. */
	bool allow_plain;
};

struct mail_sender;

/* A reusable SMTP sender (keeps the connection open between messages). One
 * thread at a time. */
struct mail_sender *mail_sender_new(const struct mail_smtp *smtp);
void mail_sender_free(struct mail_sender *s);
/* How the sender protects mail, for the start-up log: "implicit (smtps)",
 * "starttls required", or "starttls if offered, else plain
 * (SMTP_ALLOW_PLAIN=1)". */
const char *mail_sender_tls_mode(const struct mail_sender *s);
/* Sends data (a built message) from from_addr to to_addr. On failure returns
 * ERR_INTERNAL and writes curl's reason into err (never credentials). */
enum err mail_send(struct mail_sender *s, const char *from_addr, const char *to_addr,
		   const char *data, size_t len, char *err, size_t errlen);

#endif
