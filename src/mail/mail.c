#include "mail/mail.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cinema/mem.h"

static bool has_crlf(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

bool mail_address(const char *from, char *out, size_t outlen)
{
	const char *start = from, *end;
	const char *lt = strrchr(from, '<');
	if (lt) {
		start = lt + 1;
		end = strchr(start, '>');
		if (!end || end[1] != '\0')
			return false;
	} else {
		end = from + strlen(from);
	}
	size_t n = (size_t)(end - start);
	if (n < 3 || n >= outlen)
		return false;
	const char *at = memchr(start, '@', n);
	if (!at || at == start || at == end - 1)
		return false;
	for (const char *p = start; p < end; p++)
		if (*p == '\r' || *p == '\n' || *p == ' ' || *p == '<' || *p == '>' || *p == '\t')
			return false;
	memcpy(out, start, n);
	out[n] = '\0';
	return true;
}

#define QP_LINE 76 /* RFC 2045 6.7: encoded lines, soft break '=' included */

static bool is_crlf(const char *s, size_t len, size_t i)
{
	return i + 1 < len && s[i] == '\r' && s[i + 1] == '\n';
}

/* Appends text in canonical form (CRLF line breaks) as quoted-printable
 * (RFC 2045 6.7), so that a person reading a stored message sees its text
 * and links: printable ASCII as is, '=' and every other byte as =XX, a space
 * or tab at the end of a line encoded, CRLF kept as a line break, and soft
 * breaks ("=" CRLF) keeping every line within 76 characters. The bytes of one
 * UTF-8 character stay on one line, and so does an escape. */
static void append_qp(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;
	for (size_t i = 0; i < len;) {
		if (is_crlf(s, len, i)) {
			buf_append_str(out, "\r\n");
			col = 0;
			i += 2;
			continue;
		}
		unsigned char c = (unsigned char)s[i];
		size_t n = 1; /* bytes of this character */
		if (c >= 0xC0)
			while (n < 4 && i + n < len && ((unsigned char)s[i + n] & 0xC0) == 0x80)
				n++;
		bool eol = i + n == len || is_crlf(s, len, i + n);
		char enc[12];
		size_t elen = 0;
		if (n == 1 &&
		    ((c > ' ' && c < 0x7F && c != '=') || ((c == ' ' || c == '\t') && !eol))) {
			enc[elen++] = (char)c;
		} else {
			for (size_t k = 0; k < n; k++) {
				unsigned char b = (unsigned char)s[i + k];
				enc[elen++] = '=';
				enc[elen++] = hex[b >> 4];
				enc[elen++] = hex[b & 0xF];
			}
		}
		/* Room for the soft break after it, unless a line break follows. */
		if (col + elen > (eol ? QP_LINE : QP_LINE - 1)) {
			buf_append_str(out, "=\r\n");
			col = 0;
		}
		buf_append(out, enc, elen);
		col += elen;
		i += n;
	}
}

/* The longest header text written as is: with "From: ", " <", an address
 * of up to 255 bytes and ">" its line stays within the 998 characters RFC
 * 5322 (2.1.1) allows. Longer text goes out as folded encoded words. */
#define HEADER_TEXT_MAX 700

/* Appends s as RFC 2047 encoded words, splitting only between UTF-8
 * characters. Each word is at most 64 characters, so a line holding one,
 * after "Subject: " or the folding space, stays within the 76 characters
 * RFC 2047 allows. */
static void append_encoded_words(struct buf *out, const char *s)
{
	const size_t max_bytes = 39; /* 39 bytes -> 52 base64 chars + 12 overhead */
	char enc[80];
	size_t len = strlen(s), off = 0;
	bool first = true;
	while (off < len) {
		size_t n = len - off < max_bytes ? len - off : max_bytes;
		while (n > 1 && off + n < len && ((unsigned char)s[off + n] & 0xC0) == 0x80)
			n--; /* do not cut a character in two (nor loop on bad UTF-8) */
		sodium_bin2base64(enc, sizeof(enc), (const unsigned char *)s + off, n,
				  sodium_base64_VARIANT_ORIGINAL);
		buf_printf(out, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", enc);
		first = false;
		off += n;
	}
}

/* Appends s as is when it is plain ASCII that fits on a line, else as encoded
 * words; returns whether it wrote encoded words. */
static bool append_header_text(struct buf *out, const char *s)
{
	if (is_ascii(s) && strlen(s) <= HEADER_TEXT_MAX) {
		buf_append_str(out, s);
		return false;
	}
	append_encoded_words(out, s);
	return true;
}

/* Appends an ASCII display name as is when it is a plain phrase, else as a
 * quoted-string: a ',' or '@' left bare would split or change the address.
 * Returns whether it wrote encoded words (non-ASCII or too long a name). */
static bool append_display_name(struct buf *out, const char *name)
{
	size_t n = strlen(name), quoted = n + 2;
	for (const char *p = name; *p; p++)
		quoted += *p == '"' || *p == '\\';
	if (!is_ascii(name) || strpbrk(name, "()<>[]:;@\\,.\"") == NULL ||
	    (n >= 2 && name[0] == '"' && name[n - 1] == '"'))
		return append_header_text(out, name);
	if (quoted > HEADER_TEXT_MAX) {
		append_encoded_words(out, name);
		return true;
	}
	buf_append_char(out, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_append_char(out, '\\');
		buf_append_char(out, *p);
	}
	buf_append_char(out, '"');
	return false;
}

/* A text part in canonical form (RFC 2046 4.1.1): every line break CRLF
 * before it is encoded as quoted-printable. In a multipart body the CRLF
 * before the next delimiter belongs to the delimiter, so one is added after
 * the text; a single part ends with a soft break when its text does not end
 * with a line break, so the message ends with CRLF and the text is exact. */
static void append_part(struct buf *out, const char *type, const char *body, bool multipart)
{
	struct buf crlf = BUF_INIT;
	for (const char *p = body; *p; p++) {
		if (*p == '\n' && (p == body || p[-1] != '\r'))
			buf_append_char(&crlf, '\r');
		buf_append_char(&crlf, *p);
	}
	buf_printf(out,
		   "Content-Type: %s; charset=UTF-8\r\n"
		   "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
		   type);
	append_qp(out, crlf.data ? crlf.data : "", crlf.len);
	if (multipart)
		buf_append_str(out, "\r\n");
	else if (crlf.len && !(crlf.len >= 2 && crlf.data[crlf.len - 1] == '\n' &&
			       crlf.data[crlf.len - 2] == '\r'))
		buf_append_str(out, "=\r\n");
	buf_free(&crlf);
}

enum err mail_build(const struct mail_message *m, struct buf *out)
{
	char from_addr[256], to_addr[256], domain[256], boundary[40], idhex[33];
	unsigned char rnd[16];

	if (has_crlf(m->from) || has_crlf(m->to) || has_crlf(m->subject))
		return ERR_VALIDATION;
	if (!mail_address(m->from, from_addr, sizeof(from_addr)) ||
	    !mail_address(m->to, to_addr, sizeof(to_addr)) || strcmp(m->to, to_addr) != 0)
		return ERR_VALIDATION;
	snprintf(domain, sizeof(domain), "%s", strchr(from_addr, '@') + 1);

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(idhex, sizeof(idhex), rnd, sizeof(rnd));
	/* "=_" never occurs in quoted-printable text, so no part can hold
	 * the boundary (RFC 2045 6.7, RFC 2046 5.1.1). */
	snprintf(boundary, sizeof(boundary), "=_cinema_%.24s", idhex);

	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);

	buf_printf(out, "Date: %s\r\n", date);
	buf_append_str(out, "From: ");
	const char *lt = strrchr(m->from, '<');
	if (lt && lt > m->from) {
		size_t n = (size_t)(lt - m->from);
		while (n && m->from[n - 1] == ' ')
			n--;
		char *name = xstrndup(m->from, n);
		bool encoded = append_display_name(out, name);
		/* After encoded words the address goes on a folded line of its
		 * own, keeping their line within 76 characters. */
		buf_printf(out, "%s<%s>\r\n", encoded ? "\r\n " : " ", from_addr);
		free(name);
	} else {
		buf_printf(out, "%s\r\n", from_addr);
	}
	buf_printf(out, "To: %s\r\n", to_addr);
	buf_append_str(out, "Subject: ");
	(void)append_header_text(out, m->subject);
	buf_printf(out,
		   "\r\nMessage-ID: <%s.%lld@%s>\r\n"
		   "MIME-Version: 1.0\r\n",
		   idhex, (long long)now, domain);
	if (!m->html) {
		append_part(out, "text/plain", m->text, false);
		return ERR_OK;
	}
	buf_printf(out,
		   "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n"
		   "This is a multi-part message in MIME format.\r\n",
		   boundary);
	buf_printf(out, "--%s\r\n", boundary);
	append_part(out, "text/plain", m->text, true);
	buf_printf(out, "--%s\r\n", boundary);
	append_part(out, "text/html", m->html, true);
	buf_printf(out, "--%s--\r\n", boundary);
	return ERR_OK;
}

struct mail_sender {
	CURL *curl;
	char *url;
	int timeout_ms;
	bool allow_plain;
};

struct upload {
	const char *data;
	size_t len, off;
};

static size_t read_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct upload *u = ud;
	size_t n = size * nmemb;
	if (n > u->len - u->off)
		n = u->len - u->off;
	memcpy(ptr, u->data + u->off, n);
	u->off += n;
	return n;
}

struct mail_sender *mail_sender_new(const struct mail_smtp *smtp)
{
	struct mail_sender *s = xcalloc(1, sizeof(*s));
	s->url = xstrdup(smtp->url);
	s->timeout_ms = smtp->timeout_ms;
	s->allow_plain = smtp->allow_plain;
	return s;
}

void mail_sender_free(struct mail_sender *s)
{
	if (!s)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	free(s->url);
	free(s);
}

const char *mail_sender_tls_mode(const struct mail_sender *s)
{
	if (strncmp(s->url, "smtps://", 8) == 0)
		return "implicit (smtps)";
	return s->allow_plain ? "starttls if offered, else plain (SMTP_ALLOW_PLAIN=1)"
			      : "starttls required";
}

enum err mail_send(struct mail_sender *s, const char *from_addr, const char *to_addr,
		   const char *data, size_t len, char *err, size_t errlen)
{
	struct curl_slist *rcpt = NULL;
	struct upload up = {data, len, 0};
	char curlerr[CURL_ERROR_SIZE] = "";
	enum err rc = ERR_INTERNAL;

	if (!s->curl && !(s->curl = curl_easy_init())) {
		snprintf(err, errlen, "curl_easy_init failed");
		return ERR_INTERNAL;
	}
	CURL *c = s->curl;
	curl_easy_reset(c); /* keeps the open connection, clears options */
	rcpt = curl_slist_append(rcpt, to_addr);
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* STARTTLS, required unless plain SMTP is allowed (a local sink);
	 * smtps:// is TLS from the start. */
	curl_easy_setopt(c, CURLOPT_USE_SSL,
			 (long)(s->allow_plain ? CURLUSESSL_TRY : CURLUSESSL_ALL));
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_addr);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(s->timeout_ms < 5000 ? s->timeout_ms : 5000));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curlerr);
	CURLcode cc = curl_easy_perform(c);
	if (cc == CURLE_OK) {
		rc = ERR_OK;
	} else {
		if (cc == CURLE_USE_SSL_FAILED)
			snprintf(err, errlen,
				 "TLS required but not established (the server offers no "
				 "STARTTLS; SMTP_ALLOW_PLAIN=1 allows plain SMTP): %s",
				 curlerr[0] ? curlerr : curl_easy_strerror(cc));
		else
			snprintf(err, errlen, "%s", curlerr[0] ? curlerr : curl_easy_strerror(cc));
		/* A failed transfer may leave the connection in any state. */
		curl_easy_cleanup(s->curl);
		s->curl = NULL;
	}
	curl_slist_free_all(rcpt);
	return rc;
}
