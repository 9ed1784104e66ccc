/* Reading mail stored by cinema-mailsink (see mailbox.h). */
#include "mailbox.h"

#include <check.h>
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/buf.h"
#include "e2e.h"

static bool is_eml(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && name[0] != '.' && strcmp(name + n - 4, ".eml") == 0;
}

int mailbox_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	ck_assert_msg(d != NULL, "mailbox: cannot open %s", dir);
	while ((de = readdir(d)) != NULL)
		n += is_eml(de->d_name);
	closedir(d);
	return n;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct mailbox_msg *)a)->file, ((const struct mailbox_msg *)b)->file);
}

/* Copies the value of the first header line "name: value" of msg into out. */
static void header_value(const char *msg, const char *name, char *out, size_t outlen)
{
	char want[64];
	out[0] = '\0';
	snprintf(want, sizeof(want), "%s: ", name);
	for (const char *p = msg; p && *p;) {
		if (strncmp(p, "\r\n", 2) == 0)
			return; /* end of the headers */
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len >= strlen(want) && strncmp(p, want, strlen(want)) == 0) {
			size_t vlen = len - strlen(want);
			if (vlen >= outlen)
				vlen = outlen - 1;
			memcpy(out, p + strlen(want), vlen);
			out[vlen] = '\0';
			return;
		}
		if (!eol)
			return;
		p = eol + 2;
	}
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Quoted-printable (RFC 2045 6.7) to bytes: soft breaks dropped, =XX
 * decoded. Owned, NUL-terminated. */
static char *qp_decode(const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '=') {
			buf_append_char(&b, s[i]);
		} else if (i + 2 < len && strncmp(s + i + 1, "\r\n", 2) == 0) {
			i += 2; /* soft line break */
		} else {
			ck_assert_msg(i + 2 < len && hex_digit(s[i + 1]) >= 0 &&
					      hex_digit(s[i + 2]) >= 0,
				      "mailbox: the text part is not valid quoted-printable");
			buf_append_char(&b, (char)(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2])));
			i += 2;
		}
	}
	if (!b.data)
		buf_append(&b, "", 0);
	return buf_steal(&b, NULL);
}

/* The decoded body of the first text/plain part (quoted-printable, base64
 * or as is). */
static char *text_part(const char *msg)
{
	const char *ct = strstr(msg, "Content-Type: text/plain");
	if (!ct)
		return strdup("");
	const char *hdr_end = strstr(ct, "\r\n\r\n");
	if (!hdr_end)
		return strdup("");
	bool b64 = false, qp = false;
	for (const char *p = ct; p < hdr_end; p++) {
		if (strncmp(p, "Content-Transfer-Encoding: base64", 33) == 0)
			b64 = true;
		if (strncmp(p, "Content-Transfer-Encoding: quoted-printable", 43) == 0)
			qp = true;
	}
	const char *body = hdr_end + 4;
	/* The next delimiter: the scheduler's boundaries start with "=_",
	 * which quoted-printable text never holds. */
	const char *end = strstr(body, "\r\n--=_");
	size_t len = end ? (size_t)(end - body) : strlen(body);
	if (qp)
		return qp_decode(body, len);
	if (!b64)
		return strndup(body, len);
	unsigned char *bin = malloc(len + 1);
	size_t bin_len = 0;
	ck_assert_ptr_nonnull(bin);
	int rc = sodium_base642bin(bin, len, body, len, "\r\n", &bin_len, NULL,
				   sodium_base64_VARIANT_ORIGINAL);
	ck_assert_msg(rc == 0, "mailbox: the text part is not valid base64");
	bin[bin_len] = '\0';
	return (char *)bin;
}

size_t mailbox_load(const char *dir, struct mailbox_msg **out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0, cap = 8;
	struct mailbox_msg *msgs = calloc(cap, sizeof(*msgs));
	ck_assert_msg(d != NULL, "mailbox: cannot open %s", dir);
	ck_assert_ptr_nonnull(msgs);
	while ((de = readdir(d)) != NULL) {
		if (!is_eml(de->d_name))
			continue;
		if (n == cap) {
			cap *= 2;
			msgs = realloc(msgs, cap * sizeof(*msgs));
			ck_assert_ptr_nonnull(msgs);
		}
		struct mailbox_msg *m = &msgs[n++];
		memset(m, 0, sizeof(*m));
		snprintf(m->file, sizeof(m->file), "%s/%s", dir, de->d_name);
		struct buf b = BUF_INIT;
		ck_assert_msg(e2e_read_file(m->file, &b), "mailbox: cannot read %s", m->file);
		char rcpt[260];
		header_value(b.data, "X-Sink-Rcpt-To", rcpt, sizeof(rcpt));
		const char *r = rcpt[0] == '<' ? rcpt + 1 : rcpt;
		snprintf(m->rcpt, sizeof(m->rcpt), "%.*s", (int)strcspn(r, ">"), r);
		header_value(b.data, "Subject", m->subject, sizeof(m->subject));
		m->text = text_part(b.data);
		buf_free(&b);
	}
	closedir(d);
	qsort(msgs, n, sizeof(*msgs), by_name);
	*out = msgs;
	return n;
}

void mailbox_free(struct mailbox_msg *msgs, size_t n)
{
	for (size_t i = 0; msgs && i < n; i++)
		free(msgs[i].text);
	free(msgs);
}

bool mailbox_token_after(const char *text, const char *marker, char *out, size_t outlen)
{
	const char *p = text ? strstr(text, marker) : NULL;
	if (!p)
		return false;
	p += strlen(marker);
	size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
	if (n == 0 || n >= outlen)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}
