#include "cinema/envfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/mem.h"

static bool name_char(char c, bool first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (!first && c >= '0' && c <= '9');
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Parses the value of one line [p, end) into out (at least end - p + 1
 * bytes). Returns NULL or the reason it is malformed. */
static const char *parse_value(const char *p, const char *end, char *out)
{
	size_t n = 0;
	if (p < end && (*p == '\'' || *p == '"')) {
		char q = *p++;
		for (;; p++) {
			if (p == end)
				return "unterminated quote";
			if (*p == q)
				break;
			if (q == '"' && *p == '\\' && p + 1 < end && strchr("\\\"$`", p[1]))
				p++;
			out[n++] = *p;
		}
		for (p++; p < end && blank(*p); p++)
			;
		if (p < end && *p != '#')
			return "unexpected text after the closing quote";
	} else {
		for (; p < end; p++) {
			if (*p == '#' && (n == 0 || blank(out[n - 1])))
				break;
			if (*p == '\'' || *p == '"')
				return "quote inside a bare value (quote the whole value)";
			out[n++] = *p;
		}
		while (n && blank(out[n - 1]))
			n--;
	}
	out[n] = '\0';
	return NULL;
}

bool envfile_parse(const char *text, size_t len, const char *label,
		   bool (*set)(const char *name, const char *value, void *ctx), void *ctx,
		   char *err, size_t errlen)
{
	bool ok = false;
	char *buf = NULL;
	const char *why = NULL;
	unsigned line = 0;

	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "%s: contains a NUL byte", label);
		return false;
	}
	buf = xmalloc(len + 1);
	for (const char *p = text, *stop = text + len; p < stop;) {
		const char *eol = memchr(p, '\n', (size_t)(stop - p));
		const char *next = eol ? eol + 1 : stop;
		const char *end = eol ? eol : stop;
		line++;
		if (end > p && end[-1] == '\r')
			end--;
		while (p < end && blank(*p))
			p++;
		if (p == end || *p == '#') {
			p = next;
			continue;
		}
		if ((size_t)(end - p) > 7 && strncmp(p, "export", 6) == 0 && blank(p[6]))
			for (p += 7; p < end && blank(*p); p++)
				;
		const char *name = p;
		while (p < end && name_char(*p, p == name))
			p++;
		if (p == name || p == end || *p != '=') {
			why = "expected NAME=value";
			goto out;
		}
		size_t name_len = (size_t)(p - name);
		memcpy(buf, name, name_len);
		buf[name_len] = '\0';
		/* The value goes right after the name's terminator: it is never
		 * longer than the rest of the line. */
		if ((why = parse_value(p + 1, end, buf + name_len + 1)))
			goto out;
		if (!set(buf, buf + name_len + 1, ctx))
			goto out;
		p = next;
	}
	ok = true;
out:
	if (why)
		snprintf(err, errlen, "%s:%u: %s", label, line, why);
	free(buf);
	return ok;
}

static bool set_env(const char *name, const char *value, void *ctx)
{
	char *err = ctx;
	/* overwrite 0: a variable of the real environment wins */
	if (setenv(name, value, 0) != 0) {
		snprintf(err, 256, "cannot set %s: %s", name, strerror(errno));
		return false;
	}
	return true;
}

bool envfile_load(const char **used, char *err, size_t errlen)
{
	const char *path = getenv("CINEMA_ENV_FILE");
	bool required = path != NULL;
	char *text = NULL;
	char set_err[256] = "";
	bool ok = false;
	FILE *f = NULL;

	*used = NULL;
	if (!path)
		path = ENVFILE_DEFAULT;
	if (!*path)
		return true;
	if (!(f = fopen(path, "r"))) {
		if (!required && errno == ENOENT)
			return true;
		snprintf(err, errlen, "%s%s: %s", required ? "CINEMA_ENV_FILE " : "", path,
			 strerror(errno));
		return false;
	}
	text = xmalloc(ENVFILE_MAX_BYTES + 1);
	size_t len = fread(text, 1, ENVFILE_MAX_BYTES + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (len > ENVFILE_MAX_BYTES) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, ENVFILE_MAX_BYTES);
		goto out;
	}
	if (!envfile_parse(text, len, path, set_env, set_err, err, errlen)) {
		if (*set_err)
			snprintf(err, errlen, "%s: %s", path, set_err);
		goto out;
	}
	*used = path;
	ok = true;
out:
	free(text);
	fclose(f);
	return ok;
}
