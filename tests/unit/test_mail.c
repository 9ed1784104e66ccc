/* Building email messages (src/mail/mail.h): the RFC 5322 / MIME output of
 * mail_build (quoted-printable bodies checked strictly here and read back
 * with python3's email package), its refusal of header injection, and
 * mail_address. No network: sending is covered by tests/scheduler against a
 * real SMTP sink. */
#include <check.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "e2e.h"
#include "mail/mail.h"

static struct buf out;

static void setup(void)
{
	buf_free(&out);
}

static void teardown(void)
{
	buf_free(&out);
}

/* --- helpers --- */

/* The header block (up to the blank line), as an owned string. */
static char *headers_of(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");
	ck_assert_msg(end != NULL, "no blank line after the headers:\n%s", msg);
	return strndup(msg, (size_t)(end - msg) + 2);
}

/* The body after the header block (borrowed). */
static const char *body_of(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");
	ck_assert_ptr_nonnull(end);
	return end + 4;
}

/* The value of header name in the header block hdrs, unfolded (RFC 5322:
 * CRLF before whitespace removed), or NULL when absent. Owned. Fails if the
 * header appears more than once. */
static char *header(const char *hdrs, const char *name)
{
	size_t n = strlen(name);
	char *found = NULL;
	for (const char *p = hdrs; *p;) {
		const char *eol = strstr(p, "\r\n");
		ck_assert_ptr_nonnull(eol);
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			ck_assert_msg(found == NULL, "header %s appears twice", name);
			struct buf v = BUF_INIT;
			const char *s = p + n + 1;
			while (*s == ' ')
				s++;
			buf_append(&v, s, (size_t)(eol - s));
			while (eol[2] == ' ' || eol[2] == '\t') {
				const char *next = strstr(eol + 2, "\r\n");
				ck_assert_ptr_nonnull(next);
				buf_append(&v, eol + 2, (size_t)(next - eol - 2));
				eol = next;
			}
			found = buf_steal(&v, NULL);
		}
		p = eol + 2;
	}
	return found;
}

static bool valid_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t extra = c < 0x80		    ? 0
			       : (c & 0xE0) == 0xC0 ? 1
			       : (c & 0xF0) == 0xE0 ? 2
			       : (c & 0xF8) == 0xF0 ? 3
						    : 9;
		if (extra == 9 || i + extra >= len)
			return false;
		for (size_t k = 1; k <= extra; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		i += extra + 1;
	}
	return true;
}

/* Base64 (line breaks ignored) to bytes; owned and NUL-terminated. */
static char *b64_decode(const char *b64, size_t len, size_t *outlen)
{
	char *bin = malloc(len + 1);
	size_t n = 0;
	const char *end = NULL;
	ck_assert_ptr_nonnull(bin);
	ck_assert_msg(sodium_base642bin((unsigned char *)bin, len, b64, len, "\r\n", &n, &end,
					sodium_base64_VARIANT_ORIGINAL) == 0,
		      "bad base64: %.*s", (int)len, b64);
	ck_assert_msg(end == b64 + len, "base64 stops early");
	bin[n] = '\0';
	if (outlen)
		*outlen = n;
	return bin;
}

/* Decodes a header value made of RFC 2047 B-encoded UTF-8 words (separated
 * by whitespace, which is then ignored) and plain ASCII text. Checks each
 * word's length and that each holds whole UTF-8 characters. Owned. */
static char *decode_words(const char *v)
{
	struct buf b = BUF_INIT;
	const char *p = v;
	while (*p) {
		if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
			const char *end = strstr(p + 10, "?=");
			ck_assert_ptr_nonnull(end);
			size_t wlen = (size_t)(end + 2 - p);
			ck_assert_msg(wlen <= 75, "encoded word of %zu characters", wlen);
			size_t n;
			char *bin = b64_decode(p + 10, (size_t)(end - p - 10), &n);
			ck_assert_msg(valid_utf8((unsigned char *)bin, n),
				      "an encoded word splits a UTF-8 character");
			buf_append(&b, bin, n);
			free(bin);
			p = end + 2;
			const char *q = p;
			while (*q == ' ' || *q == '\t')
				q++;
			if (strncmp(q, "=?", 2) == 0)
				p = q; /* adjacent words: drop the space between */
		} else {
			buf_append_char(&b, *p++);
		}
	}
	if (!b.data)
		buf_append(&b, "", 0);
	return buf_steal(&b, NULL);
}

/* Checks CRLF everywhere and the length of every line. */
static void assert_lines(const char *msg, size_t max_line)
{
	size_t lineno = 1;
	const char *line = msg;
	for (const char *p = msg; *p; p++) {
		if (*p == '\r')
			ck_assert_msg(p[1] == '\n', "bare CR on line %zu", lineno);
		if (*p == '\n') {
			ck_assert_msg(p > msg && p[-1] == '\r', "bare LF on line %zu", lineno);
			size_t len = (size_t)(p - 1 - line);
			ck_assert_msg(len <= max_line, "line %zu has %zu characters: %.*s", lineno,
				      len, (int)len, line);
			line = p + 1;
			lineno++;
		}
		ck_assert_msg((unsigned char)*p < 0x80, "non-ASCII byte on line %zu", lineno);
	}
	ck_assert_msg(*line == '\0', "the message does not end with CRLF");
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* lower case is not the canonical form (RFC 2045 6.7 (1)) */
}

/* Checks quoted-printable text strictly (RFC 2045 6.7: lines of at most 76
 * characters, CRLF only, printable ASCII, '=' only before two upper-case hex
 * digits or as the soft break ending a line, no space or tab ending a line,
 * no escape of a byte that could be written as is) and decodes it. Owned,
 * NUL-terminated. */
static char *qp_decode(const char *qp, size_t len)
{
	struct buf b = BUF_INIT;
	const char *end = qp + len;
	for (const char *l = qp; l < end;) {
		const char *eol = strstr(l, "\r\n");
		if (!eol || eol > end)
			eol = end;
		size_t n = (size_t)(eol - l);
		ck_assert_msg(n <= 76, "quoted-printable line of %zu characters: %.*s", n, (int)n,
			      l);
		bool soft = n > 0 && l[n - 1] == '=';
		if (!soft && n > 0)
			ck_assert_msg(l[n - 1] != ' ' && l[n - 1] != '\t',
				      "whitespace ends a line: %.*s", (int)n, l);
		for (size_t i = 0; i < n - (soft ? 1 : 0); i++) {
			unsigned char c = (unsigned char)l[i];
			ck_assert_msg(c == ' ' || c == '\t' || (c > ' ' && c < 0x7F),
				      "byte %02x in quoted-printable", c);
			if (c != '=') {
				buf_append_char(&b, (char)c);
				continue;
			}
			ck_assert_msg(i + 2 < n + (soft ? 0 : 1) && hex_value(l[i + 1]) >= 0 &&
					      hex_value(l[i + 2]) >= 0,
				      "bad escape in: %.*s", (int)n, l);
			int v = hex_value(l[i + 1]) * 16 + hex_value(l[i + 2]);
			ck_assert_msg(!(v > ' ' && v < 0x7F && v != '='),
				      "'%c' escaped needlessly in: %.*s", v, (int)n, l);
			buf_append_char(&b, (char)v);
			i += 2;
		}
		if (eol < end && !soft)
			buf_append_str(&b, "\r\n");
		l = eol + 2;
	}
	if (!b.data)
		buf_append(&b, "", 0);
	return buf_steal(&b, NULL);
}

/* Finds the part with Content-Type ctype in body (up to the next delimiter:
 * the boundaries start with "=_cinema_"), checks its quoted-printable lines
 * and returns it decoded. Owned. */
static char *part(const char *body, const char *ctype)
{
	char want[160];
	snprintf(want, sizeof(want),
		 "Content-Type: %s; charset=UTF-8\r\n"
		 "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
		 ctype);
	const char *p = strstr(body, want);
	ck_assert_msg(p != NULL, "no %s part in:\n%s", ctype, body);
	p += strlen(want);
	const char *end = strstr(p, "\r\n--=_cinema_");
	if (!end)
		end = p + strlen(p);
	return qp_decode(p, (size_t)(end - p));
}

/* Parses the built message with Python's email package (policy.default):
 * no defects, and its text/plain and text/html parts, quoted-printable,
 * decode to text and html (line breaks compared as LF). */
static void assert_python_reads(const char *text, const char *html)
{
	static const char py[] =
		"import sys, email\n"
		"from email import policy\n"
		"msg = email.message_from_bytes(open(sys.argv[1], 'rb').read(), "
		"policy=policy.default)\n"
		"errs = ['defects: %r' % (p.defects,) for p in msg.walk() if p.defects]\n"
		"lf = lambda s: s.replace('\\r\\n', '\\n')\n"
		"for kind, want in (('plain', sys.argv[2]), ('html', sys.argv[3])):\n"
		"    part = msg.get_body((kind,))\n"
		"    if part is None:\n"
		"        errs.append('no %s part' % kind)\n"
		"        continue\n"
		"    if part['Content-Transfer-Encoding'] != 'quoted-printable':\n"
		"        errs.append('%s: %s' % (kind, part['Content-Transfer-Encoding']))\n"
		"    got = part.get_content()\n"
		"    if lf(got) != lf(want):\n"
		"        errs.append('%s: %r, want %r' % (kind, got, want))\n"
		"print('\\n'.join(errs) or 'ok')\n"
		"sys.exit(1 if errs else 0)\n";
	char path[] = "/tmp/cinema-test-mail-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert(write(fd, out.data, out.len) == (ssize_t)out.len);
	close(fd);
	char *argv[] = {(char *)"python3", (char *)"-c", (char *)py, path,
			(char *)text,	   (char *)html, NULL};
	struct buf o = BUF_INIT, e = BUF_INIT;
	int rc = e2e_run_capture("python3", argv, NULL, NULL, 60, &o, &e);
	unlink(path);
	ck_assert_msg(rc == 0, "python3 exited %d:\n%s%s\n--- message ---\n%s", rc, o.data, e.data,
		      out.data);
	buf_free(&o);
	buf_free(&e);
}

static enum err build(const char *from, const char *to, const char *subject, const char *text,
		      const char *html)
{
	struct mail_message m = {
		.from = from, .to = to, .subject = subject, .text = text, .html = html};
	return mail_build(&m, &out);
}

/* --- mail_build: structure --- */

START_TEST(build_multipart_message)
{
	ck_assert_int_eq(build("Online Cinema <no-reply@cinema.example>", "user@example.com",
			       "Activate your account", "Hello,\nclick here.\n",
			       "<p>Hello,</p>\n<p>click</p>\n"),
			 ERR_OK);
	assert_lines(out.data, 78);
	char *h = headers_of(out.data);
	char *v;

	v = header(h, "From");
	ck_assert_str_eq(v, "Online Cinema <no-reply@cinema.example>");
	free(v);
	v = header(h, "To");
	ck_assert_str_eq(v, "user@example.com");
	free(v);
	v = header(h, "Subject");
	ck_assert_str_eq(v, "Activate your account");
	free(v);
	v = header(h, "MIME-Version");
	ck_assert_str_eq(v, "1.0");
	free(v);

	v = header(h, "Date");
	ck_assert_ptr_nonnull(v);
	struct tm tm = {0};
	const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	ck_assert_msg(end && *end == '\0', "Date: %s", v);
	time_t when = timegm(&tm);
	ck_assert_msg(llabs((long long)(when - time(NULL))) < 3600, "Date: %s", v);
	free(v);

	v = header(h, "Message-ID");
	ck_assert_ptr_nonnull(v);
	size_t n = strlen(v);
	ck_assert_msg(v[0] == '<' && v[n - 1] == '>', "Message-ID: %s", v);
	ck_assert_msg(n > 18 && strcmp(v + n - 16, "@cinema.example>") == 0, "Message-ID: %s", v);
	ck_assert_msg(strchr(v, ' ') == NULL, "Message-ID: %s", v);
	free(v);

	v = header(h, "Content-Type");
	ck_assert_ptr_nonnull(v);
	const char *prefix = "multipart/alternative; boundary=\"";
	ck_assert_msg(strncmp(v, prefix, strlen(prefix)) == 0, "Content-Type: %s", v);
	char boundary[128];
	snprintf(boundary, sizeof(boundary), "%s", v + strlen(prefix));
	ck_assert_uint_gt(strlen(boundary), 1);
	boundary[strlen(boundary) - 1] = '\0'; /* the closing quote */
	free(v);
	free(h);

	/* Two parts, then the closing delimiter as the last line. */
	const char *body = body_of(out.data);
	char delim[160], close[160];
	snprintf(delim, sizeof(delim), "\r\n--%s\r\n", boundary);
	snprintf(close, sizeof(close), "\r\n--%s--\r\n", boundary);
	const char *first = strstr(body, delim);
	ck_assert_ptr_nonnull(first);
	const char *second = strstr(first + 1, delim);
	ck_assert_ptr_nonnull(second);
	ck_assert_ptr_null(strstr(second + 1, delim));
	const char *last = strstr(body, close);
	ck_assert_ptr_nonnull(last);
	ck_assert_str_eq(last + strlen(close), "");

	char *text = part(first, "text/plain");
	ck_assert_str_eq(text, "Hello,\r\nclick here.\r\n");
	free(text);
	char *html = part(second, "text/html");
	ck_assert_str_eq(html, "<p>Hello,</p>\r\n<p>click</p>\r\n");
	free(html);
}
END_TEST

START_TEST(build_text_only_message)
{
	ck_assert_int_eq(
		build("no-reply@cinema.example", "user@example.com", "Hi", "just text", NULL),
		ERR_OK);
	assert_lines(out.data, 78);
	char *h = headers_of(out.data);
	char *v = header(h, "Content-Type");
	ck_assert_str_eq(v, "text/plain; charset=UTF-8");
	free(v);
	v = header(h, "Content-Transfer-Encoding");
	ck_assert_str_eq(v, "quoted-printable");
	free(v);
	v = header(h, "From");
	ck_assert_str_eq(v, "no-reply@cinema.example");
	free(v);
	free(h);
	ck_assert_ptr_null(strstr(out.data, "multipart"));
	ck_assert_ptr_null(strstr(out.data, "text/html"));
	/* Readable as is; a soft break ends the message with CRLF. */
	ck_assert_str_eq(body_of(out.data), "just text=\r\n");
	char *text = qp_decode(body_of(out.data), strlen(body_of(out.data)));
	ck_assert_str_eq(text, "just text");
	free(text);
}
END_TEST

START_TEST(build_long_utf8_body_round_trips)
{
	struct buf text = BUF_INIT, want = BUF_INIT;
	for (int i = 0; i < 300; i++) {
		buf_printf(&text, "Строка %d: «Сталкер» — 映画 🎬 line\n", i);
		buf_printf(&want, "Строка %d: «Сталкер» — 映画 🎬 line\r\n", i);
	}
	buf_append_str(&text, "already CRLF\r\nend without newline");
	buf_append_str(&want, "already CRLF\r\nend without newline");
	ck_assert_int_eq(build("a@cinema.example", "b@example.com", "Long", text.data, text.data),
			 ERR_OK);
	assert_lines(out.data, 76);
	const char *body = body_of(out.data);
	char *plain = part(body, "text/plain");
	ck_assert_str_eq(plain, want.data);
	free(plain);
	char *html = part(body, "text/html");
	ck_assert_str_eq(html, want.data);
	free(html);
	assert_python_reads(want.data, want.data);
	buf_free(&text);
	buf_free(&want);
}
END_TEST

/* --- mail_build: quoted-printable bodies --- */

START_TEST(build_link_is_readable_in_the_raw_message)
{
	static const char link[] = "http://127.0.0.1:8000/accounts/"
				   "activate?token=Zm9vYmFyLXRoZS1vbmUtdGltZS10b2tlbi0xMjM";
	char text[256], html[512];
	snprintf(text, sizeof(text), "Welcome!\n\nActivate your account:\n%s\n", link);
	snprintf(html, sizeof(html), "<p><a href=\"%s\">Activate</a></p>\n", link);
	ck_assert_int_eq(build("a@cinema.example", "b@example.com", "Hi", text, html), ERR_OK);
	assert_lines(out.data, 76);
	/* Readable in the raw message: the link as written, but for its '='
	 * (=3D) and the soft line breaks (=CRLF) that keep lines short. */
	struct buf joined = BUF_INIT;
	for (const char *p = out.data; *p; p++) {
		if (strncmp(p, "=\r\n", 3) == 0)
			p += 2;
		else
			buf_append_char(&joined, *p);
	}
	const char *q = strchr(link, '?');
	char want[256];
	snprintf(want, sizeof(want), "%.*s?token=3D%s", (int)(q - link), link,
		 q + strlen("?token="));
	ck_assert_msg(strstr(joined.data, want) != NULL, "%s not in:\n%s", want, out.data);
	buf_free(&joined);
	char *plain = part(body_of(out.data), "text/plain");
	ck_assert_ptr_nonnull(strstr(plain, link));
	free(plain);
	assert_python_reads(text, html);
}
END_TEST

START_TEST(build_qp_escapes_and_soft_breaks)
{
	/* '=', trailing blanks, a tab, control bytes, a bare CR, a line of
	 * exactly 76 characters, a longer one, and one ending in a blank. */
	struct buf text = BUF_INIT, want = BUF_INIT;
	char line76[77], line200[201];
	memset(line76, 'x', 76);
	line76[76] = '\0';
	for (int i = 0; i < 200; i++)
		line200[i] = (char)('a' + i % 26);
	line200[200] = '\0';
	buf_printf(&text,
		   "a=b == c\ntrailing space \ntrailing tab\t\n\tindented\nctl\x01\x7f"
		   "\rbare\n%s\n%s\n%s \n.dot\nFrom here\n",
		   line76, line200, line76);
	buf_printf(&want,
		   "a=b == c\r\ntrailing space \r\ntrailing tab\t\r\n\tindented\r\nctl"
		   "\x01\x7f\rbare\r\n%s\r\n%s\r\n%s \r\n.dot\r\nFrom here\r\n",
		   line76, line200, line76);
	ck_assert_int_eq(build("a@cinema.example", "b@example.com", "x", text.data, text.data),
			 ERR_OK);
	assert_lines(out.data, 76);
	const char *body = body_of(out.data);
	ck_assert_ptr_nonnull(strstr(body, "\r\na=3Db =3D=3D c\r\n"));
	ck_assert_ptr_nonnull(strstr(body, "\r\ntrailing space=20\r\n"));
	ck_assert_ptr_nonnull(strstr(body, "\r\ntrailing tab=09\r\n"));
	ck_assert_ptr_nonnull(strstr(body, "\r\nctl=01=7F=0Dbare\r\n"));
	char l76[90];
	snprintf(l76, sizeof(l76), "\r\n%s\r\n", line76);
	ck_assert_ptr_nonnull(strstr(body, l76)); /* fits: no soft break */
	char *plain = part(body, "text/plain");
	ck_assert_str_eq(plain, want.data);
	free(plain);
	char *html = part(body, "text/html");
	ck_assert_str_eq(html, want.data);
	free(html);
	assert_python_reads(want.data, want.data);
	buf_free(&text);
	buf_free(&want);
}
END_TEST

START_TEST(build_qp_keeps_utf8_characters_whole)
{
	/* Lines of 2-, 3- and 4-byte characters at every offset: no encoded
	 * line ends inside a character, and every line is full (a soft break
	 * only where the next character would not fit). */
	static const char *const chars[] = {"é", "映", "🎬"};
	for (size_t c = 0; c < 3; c++) {
		for (int shift = 0; shift < 4; shift++) {
			struct buf text = BUF_INIT;
			for (int i = 0; i < shift; i++)
				buf_append_char(&text, 'x');
			for (int i = 0; i < 40; i++)
				buf_append_str(&text, chars[c]);
			buf_reset(&out);
			ck_assert_int_eq(
				build("a@cinema.example", "b@example.com", "x", text.data, NULL),
				ERR_OK);
			assert_lines(out.data, 76);
			const char *body = body_of(out.data);
			for (const char *l = body; *l;) {
				const char *eol = strstr(l, "\r\n");
				size_t n = (size_t)(eol - l);
				if (n && l[n - 1] == '=') {
					/* A soft break: the line's escapes decode to
					 * whole characters. */
					char *dec = qp_decode(l, n);
					ck_assert_msg(valid_utf8((unsigned char *)dec, strlen(dec)),
						      "a line splits a character: %.*s", (int)n, l);
					/* (The last one ends a text without a
					 * final line break.) */
					ck_assert_msg(
						eol[2] == '\0' || n + 3 * strlen(chars[c]) > 76,
						"a soft break where more fit: %.*s", (int)n, l);
					free(dec);
				}
				l = eol + 2;
			}
			char *plain = qp_decode(body, strlen(body));
			ck_assert_str_eq(plain, text.data);
			free(plain);
			buf_free(&text);
		}
	}
}
END_TEST

START_TEST(build_empty_body)
{
	ck_assert_int_eq(build("a@cinema.example", "b@example.com", "", "", NULL), ERR_OK);
	assert_lines(out.data, 78);
	char *h = headers_of(out.data);
	char *v = header(h, "Subject");
	ck_assert_str_eq(v, "");
	free(v);
	free(h);
	ck_assert_str_eq(body_of(out.data), "");
}
END_TEST

START_TEST(build_message_ids_differ)
{
	ck_assert_int_eq(build("a@cinema.example", "b@example.com", "x", "y", NULL), ERR_OK);
	char *h1 = headers_of(out.data);
	char *id1 = header(h1, "Message-ID");
	buf_reset(&out);
	ck_assert_int_eq(build("a@cinema.example", "b@example.com", "x", "y", NULL), ERR_OK);
	char *h2 = headers_of(out.data);
	char *id2 = header(h2, "Message-ID");
	ck_assert_str_ne(id1, id2);
	free(h1);
	free(h2);
	free(id1);
	free(id2);
}
END_TEST

START_TEST(build_message_id_domain_from_sender)
{
	ck_assert_int_eq(
		build("Mailer <bounce@mail.cinema.example>", "b@example.com", "x", "y", NULL),
		ERR_OK);
	char *h = headers_of(out.data);
	char *v = header(h, "Message-ID");
	const char *at = strrchr(v, '@');
	ck_assert_ptr_nonnull(at);
	ck_assert_str_eq(at, "@mail.cinema.example>");
	free(v);
	free(h);
}
END_TEST

START_TEST(build_appends_to_existing_content)
{
	buf_append_str(&out, "X-Prefix: 1\r\n");
	ck_assert_int_eq(build("a@cinema.example", "b@example.com", "x", "y", NULL), ERR_OK);
	ck_assert_int_eq(strncmp(out.data, "X-Prefix: 1\r\nDate: ", 19), 0);
}
END_TEST

/* --- mail_build: encoded words --- */

START_TEST(build_non_ascii_subject_is_encoded)
{
	static const char subject[] =
		"Ваш заказ №42 подтверждён: «Сталкер», «Солярис» и ещё "
		"три фильма — приятного просмотра! 🎬🍿 映画館";
	ck_assert_int_eq(build("a@cinema.example", "b@example.com", subject, "x", NULL), ERR_OK);
	/* RFC 2047: a line holding encoded words has at most 76 characters. */
	assert_lines(out.data, 76);
	char *h = headers_of(out.data);
	char *v = header(h, "Subject");
	ck_assert_msg(strncmp(v, "=?UTF-8?B?", 10) == 0, "Subject: %s", v);
	char *decoded = decode_words(v);
	ck_assert_str_eq(decoded, subject);
	free(decoded);
	free(v);
	free(h);
}
END_TEST

START_TEST(build_short_non_ascii_subject)
{
	ck_assert_int_eq(build("a@cinema.example", "b@example.com", "é", "x", NULL), ERR_OK);
	char *h = headers_of(out.data);
	char *v = header(h, "Subject");
	ck_assert_str_eq(v, "=?UTF-8?B?w6k=?=");
	free(v);
	free(h);
}
END_TEST

START_TEST(build_bad_utf8_subject_terminates)
{
	/* Bytes that are not UTF-8 must not hang the encoder. */
	char subject[200];
	memset(subject, 0x80, sizeof(subject) - 1);
	subject[sizeof(subject) - 1] = '\0';
	ck_assert_int_eq(build("a@cinema.example", "b@example.com", subject, "x", NULL), ERR_OK);
	assert_lines(out.data, 76);
}
END_TEST

START_TEST(build_non_ascii_display_name_is_encoded)
{
	static const char name[] = "Онлайн Кинотеатр «Синема» — рассылка уведомлений";
	char from[256];
	snprintf(from, sizeof(from), "%s <no-reply@cinema.example>", name);
	ck_assert_int_eq(build(from, "b@example.com", "x", "y", NULL), ERR_OK);
	assert_lines(out.data, 76);
	char *h = headers_of(out.data);
	char *v = header(h, "From");
	ck_assert_msg(strncmp(v, "=?UTF-8?B?", 10) == 0, "From: %s", v);
	const char *lt = strrchr(v, '<');
	ck_assert_ptr_nonnull(lt);
	ck_assert_str_eq(lt, "<no-reply@cinema.example>");
	char *words = strndup(v, (size_t)(lt - v));
	while (words[0] && words[strlen(words) - 1] == ' ')
		words[strlen(words) - 1] = '\0';
	char *decoded = decode_words(words);
	ck_assert_str_eq(decoded, name);
	free(decoded);
	free(words);
	free(v);
	v = header(h, "Message-ID");
	ck_assert_str_eq(strrchr(v, '@'), "@cinema.example>");
	free(v);
	free(h);
}
END_TEST

START_TEST(build_display_name_with_specials_is_quoted)
{
	static const struct {
		const char *from, *want;
	} cases[] = {
		{"Cinema, Inc. <a@cinema.example>", "\"Cinema, Inc.\" <a@cinema.example>"},
		{"Say \"hi\" <a@cinema.example>", "\"Say \\\"hi\\\"\" <a@cinema.example>"},
		{"\"Already, quoted\" <a@cinema.example>",
		 "\"Already, quoted\" <a@cinema.example>"},
		{"Plain Name   <a@cinema.example>", "Plain Name <a@cinema.example>"},
		{"<a@cinema.example>", "a@cinema.example"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&out);
		ck_assert_int_eq(build(cases[i].from, "b@example.com", "x", "y", NULL), ERR_OK);
		char *h = headers_of(out.data);
		char *v = header(h, "From");
		ck_assert_msg(strcmp(v, cases[i].want) == 0, "From %s -> %s", cases[i].from, v);
		free(v);
		free(h);
	}
}
END_TEST

/* Found by fuzz/fuzz_mail.c: long ASCII header text went out on one line,
 * past the 998 characters RFC 5322 allows; it is now encoded words. */
START_TEST(build_long_ascii_header_text_is_folded)
{
	char subject[1201], name[601], from[700];
	memset(subject, 'a', sizeof(subject) - 1);
	subject[sizeof(subject) - 1] = '\0';
	memset(name, '\\', sizeof(name) - 1); /* doubles when quoted */
	name[sizeof(name) - 1] = '\0';
	snprintf(from, sizeof(from), "%s <no-reply@cinema.example>", name);
	ck_assert_int_eq(build(from, "b@example.com", subject, "x", NULL), ERR_OK);
	assert_lines(out.data, 998);
	char *h = headers_of(out.data);
	char *v = header(h, "Subject");
	char *decoded = decode_words(v);
	ck_assert_str_eq(decoded, subject);
	free(decoded);
	free(v);
	v = header(h, "From");
	const char *lt = strrchr(v, '<');
	ck_assert_ptr_nonnull(lt);
	ck_assert_str_eq(lt, "<no-reply@cinema.example>");
	char *words = strndup(v, (size_t)(lt - v));
	while (words[0] && words[strlen(words) - 1] == ' ')
		words[strlen(words) - 1] = '\0';
	decoded = decode_words(words);
	ck_assert_str_eq(decoded, name);
	free(decoded);
	free(words);
	free(v);
	free(h);
}
END_TEST

/* --- mail_build: refusals --- */

/* Builds into a buffer that already holds something; asserts the refusal
 * left it exactly as it was. */
static void assert_refused(const char *from, const char *to, const char *subject)
{
	buf_reset(&out);
	buf_append_str(&out, "untouched");
	enum err rc = build(from, to, subject, "text", "<p>html</p>");
	ck_assert_msg(rc == ERR_VALIDATION, "accepted from=%s to=%s subject=%s", from, to, subject);
	ck_assert_uint_eq(out.len, 9);
	ck_assert_str_eq(out.data, "untouched");
}

START_TEST(build_refuses_cr_or_lf_in_headers)
{
	static const char *const breaks[] = {"\r\n", "\n", "\r"};
	char bad[256];
	for (size_t i = 0; i < 3; i++) {
		snprintf(bad, sizeof(bad), "Hello%sBcc: victim@example.org", breaks[i]);
		assert_refused("a@cinema.example", "b@example.com", bad);
		snprintf(bad, sizeof(bad), "Привет%sBcc: victim@example.org", breaks[i]);
		assert_refused("a@cinema.example", "b@example.com", bad);
		snprintf(bad, sizeof(bad), "b@example.com%sBcc: victim@example.org", breaks[i]);
		assert_refused("a@cinema.example", bad, "Hi");
		snprintf(bad, sizeof(bad), "Cinema%sBcc: victim@example.org <a@cinema.example>",
			 breaks[i]);
		assert_refused(bad, "b@example.com", "Hi");
		snprintf(bad, sizeof(bad), "a@cinema.example%sBcc: victim@example.org", breaks[i]);
		assert_refused(bad, "b@example.com", "Hi");
		snprintf(bad, sizeof(bad), "Hi%s", breaks[i]);
		assert_refused("a@cinema.example", "b@example.com", bad);
	}
}
END_TEST

START_TEST(build_refuses_malformed_addresses)
{
	assert_refused("a@cinema.example", "Name <b@example.com>", "x");
	assert_refused("a@cinema.example", "not an address", "x");
	assert_refused("a@cinema.example", "", "x");
	assert_refused("a@cinema.example", "b@", "x");
	assert_refused("a@cinema.example", "@example.com", "x");
	assert_refused("a@cinema.example", "b@example.com>", "x");
	assert_refused("no sender", "b@example.com", "x");
	assert_refused("Name <a@cinema.example", "b@example.com", "x");
	assert_refused("Name <a@cinema.example> trailing", "b@example.com", "x");
	assert_refused("", "b@example.com", "x");
}
END_TEST

/* --- mail_address --- */

START_TEST(address_accepts)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"Name <a@b.example>", "a@b.example"},
		{"a@b.example", "a@b.example"},
		{"<a@b.example>", "a@b.example"},
		{"\"Q, Name\" <first.last+tag@sub.b.example>", "first.last+tag@sub.b.example"},
		{"Кино <no-reply@cinema.example>", "no-reply@cinema.example"},
		{"a@b", "a@b"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char addr[256] = "";
		ck_assert_msg(mail_address(cases[i].in, addr, sizeof(addr)), "refused %s",
			      cases[i].in);
		ck_assert_str_eq(addr, cases[i].want);
	}
}
END_TEST

START_TEST(address_refuses)
{
	static const char *const cases[] = {
		"",
		"ab",
		"abc",
		"no-at-sign.example",
		"@b.example",
		"a@",
		"a b@c.example",
		"a@b.example ",
		" a@b.example",
		"a\t@b.example",
		"a\r@b.example",
		"a@b.example\n",
		"a@b.example\r\nBcc: x@y",
		"Name <a@b.example",
		"Name <a@b.example> ",
		"Name <a@b.example>x",
		"Name <>",
		"Name <a b@c.example>",
		"a>b@c.example",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char addr[256] = "unchanged";
		ck_assert_msg(!mail_address(cases[i], addr, sizeof(addr)), "accepted \"%s\"",
			      cases[i]);
	}
}
END_TEST

START_TEST(address_respects_output_size)
{
	char addr[16];
	ck_assert(mail_address("a@b.example", addr, 12)); /* 11 characters + NUL */
	ck_assert_str_eq(addr, "a@b.example");
	ck_assert(!mail_address("a@b.example", addr, 11));
	ck_assert(!mail_address("Name <a@b.example>", addr, 11));
	ck_assert(!mail_address("a@b.example", addr, 0));
}
END_TEST

static Suite *mail_suite(void)
{
	Suite *s = suite_create("mail");
	TCase *tc = tcase_create("build");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, build_multipart_message);
	tcase_add_test(tc, build_text_only_message);
	tcase_add_test(tc, build_long_utf8_body_round_trips);
	tcase_add_test(tc, build_empty_body);
	tcase_add_test(tc, build_message_ids_differ);
	tcase_add_test(tc, build_message_id_domain_from_sender);
	tcase_add_test(tc, build_appends_to_existing_content);
	tcase_add_test(tc, build_link_is_readable_in_the_raw_message);
	tcase_add_test(tc, build_qp_escapes_and_soft_breaks);
	tcase_add_test(tc, build_qp_keeps_utf8_characters_whole);
	suite_add_tcase(s, tc);

	tc = tcase_create("encoded_words");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, build_non_ascii_subject_is_encoded);
	tcase_add_test(tc, build_short_non_ascii_subject);
	tcase_add_test(tc, build_bad_utf8_subject_terminates);
	tcase_add_test(tc, build_non_ascii_display_name_is_encoded);
	tcase_add_test(tc, build_display_name_with_specials_is_quoted);
	tcase_add_test(tc, build_long_ascii_header_text_is_folded);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, build_refuses_cr_or_lf_in_headers);
	tcase_add_test(tc, build_refuses_malformed_addresses);
	suite_add_tcase(s, tc);

	tc = tcase_create("address");
	tcase_add_test(tc, address_accepts);
	tcase_add_test(tc, address_refuses);
	tcase_add_test(tc, address_respects_output_size);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "libsodium failed to initialise\n");
		return 1;
	}
	SRunner *sr = srunner_create(mail_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
