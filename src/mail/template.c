#include "mail/template.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/mem.h"

#define TEMPLATE_MAX_BYTES (256 * 1024)

static void append_html_escaped(struct buf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			buf_append_str(out, "&amp;");
			break;
		case '<':
			buf_append_str(out, "&lt;");
			break;
		case '>':
			buf_append_str(out, "&gt;");
			break;
		case '"':
			buf_append_str(out, "&quot;");
			break;
		case '\'':
			buf_append_str(out, "&#39;");
			break;
		default:
			buf_append_char(out, *s);
		}
	}
}

enum err template_render(const char *tmpl, const json_t *vars, enum template_escape esc,
			 struct buf *out, char *err, size_t errlen)
{
	const char *p = tmpl;
	size_t start = out->len;
	for (;;) {
		const char *open = strstr(p, "{{");
		if (!open) {
			buf_append_str(out, p);
			return ERR_OK;
		}
		buf_append(out, p, (size_t)(open - p));
		const char *close = strstr(open + 2, "}}");
		if (!close) {
			snprintf(err, errlen, "unterminated placeholder");
			goto fail;
		}
		const char *name = open + 2;
		size_t n = (size_t)(close - name);
		while (n && *name == ' ') {
			name++;
			n--;
		}
		while (n && name[n - 1] == ' ')
			n--;
		if (n == 0 || n > 64) {
			snprintf(err, errlen, "empty or overlong placeholder");
			goto fail;
		}
		char key[65];
		memcpy(key, name, n);
		key[n] = '\0';
		const json_t *v = json_object_get(vars, key);
		char num[32];
		const char *s = NULL;
		if (json_is_string(v)) {
			s = json_string_value(v);
		} else if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			s = num;
		} else if (json_is_real(v)) {
			snprintf(num, sizeof(num), "%.2f", json_real_value(v));
			s = num;
		}
		if (!s) {
			snprintf(err, errlen, "no value for {{%s}}", key);
			goto fail;
		}
		if (esc == TEMPLATE_HTML)
			append_html_escaped(out, s);
		else
			buf_append_str(out, s);
		p = close + 2;
	}
fail:
	out->len = start;
	if (out->data)
		out->data[start] = '\0';
	return ERR_VALIDATION;
}

/* Reads dir/kind.suffix into an owned string; NULL if absent or too big. */
static char *read_template(const char *dir, const char *kind, const char *suffix)
{
	char path[1024];
	char *data = NULL;
	snprintf(path, sizeof(path), "%s/%s.%s", dir, kind, suffix);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > TEMPLATE_MAX_BYTES) {
			buf_free(&b);
			goto out;
		}
		buf_append(&b, chunk, n);
	}
	data = buf_steal(&b, NULL);
out:
	fclose(f);
	return data;
}

static bool kind_valid(const char *kind)
{
	if (!*kind || strlen(kind) > 64)
		return false;
	for (const char *c = kind; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || *c == '_'))
			return false;
	return true;
}

enum err template_render_mail(const char *dir, const char *kind, const json_t *vars,
			      struct rendered_mail *out, char *err, size_t errlen)
{
	char *subject_t = NULL, *text_t = NULL, *html_t = NULL;
	struct buf b = BUF_INIT;
	enum err rc = ERR_NOT_FOUND;

	memset(out, 0, sizeof(*out));
	if (!kind_valid(kind)) {
		snprintf(err, errlen, "invalid email kind");
		return ERR_VALIDATION;
	}
	subject_t = read_template(dir, kind, "subject.txt");
	text_t = read_template(dir, kind, "txt");
	html_t = read_template(dir, kind, "html");
	if (!subject_t || !text_t) {
		snprintf(err, errlen, "no template for %s in %s", kind, dir);
		goto out;
	}
	subject_t[strcspn(subject_t, "\r\n")] = '\0';
	if ((rc = template_render(subject_t, vars, TEMPLATE_RAW, &b, err, errlen)) != ERR_OK)
		goto out;
	out->subject = buf_steal(&b, NULL);
	if ((rc = template_render(text_t, vars, TEMPLATE_RAW, &b, err, errlen)) != ERR_OK)
		goto out;
	out->text = buf_steal(&b, NULL);
	if (html_t) {
		if ((rc = template_render(html_t, vars, TEMPLATE_HTML, &b, err, errlen)) != ERR_OK)
			goto out;
		out->html = buf_steal(&b, NULL);
	}
	rc = ERR_OK;
out:
	if (rc != ERR_OK)
		rendered_mail_free(out);
	buf_free(&b);
	free(subject_t);
	free(text_t);
	free(html_t);
	return rc;
}

void rendered_mail_free(struct rendered_mail *m)
{
	free(m->subject);
	free(m->text);
	free(m->html);
	memset(m, 0, sizeof(*m));
}
