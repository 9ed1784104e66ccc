#include "cinema/validate.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cinema/http.h"

void validator_init(struct validator *v, const json_t *obj)
{
	v->obj = obj;
	v->errors = json_array();
}

void validator_clear(struct validator *v)
{
	json_decref(v->errors);
	v->errors = NULL;
}

void validator_fail(struct validator *v, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(v->errors, json_pack("{s:s,s:s}", "field", field, "message", msg));
}

void validator_only(struct validator *v, const char *const *allowed)
{
	const char *key;
	json_t *val;
	json_object_foreach ((json_t *)v->obj, key, val) {
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, key) == 0;
		if (!ok)
			validator_fail(v, key, "unknown field");
	}
}

bool validator_has(const struct validator *v, const char *field)
{
	return json_object_get(v->obj, field) != NULL;
}

/* The member, or NULL after recording an error for a missing required one. */
static const json_t *member(struct validator *v, const char *field, enum v_presence p)
{
	const json_t *j = json_object_get(v->obj, field);
	if ((!j || json_is_null(j)) && p == V_REQUIRED) {
		validator_fail(v, field, "is required");
		return NULL;
	}
	return j && !json_is_null(j) ? j : NULL;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

const char *validator_string(struct validator *v, const char *field, enum v_presence p,
			     size_t min_chars, size_t max_chars)
{
	const json_t *j = member(v, field, p);
	if (!j)
		return NULL;
	if (!json_is_string(j)) {
		validator_fail(v, field, "must be a string");
		return NULL;
	}
	const char *s = json_string_value(j);
	if (strlen(s) != json_string_length(j)) {
		validator_fail(v, field, "must not contain NUL characters");
		return NULL;
	}
	size_t n = utf8_chars(s);
	if (n < min_chars || n > max_chars) {
		if (min_chars == max_chars)
			validator_fail(v, field, "must be %zu characters long", min_chars);
		else if (n < min_chars)
			validator_fail(v, field, "must be at least %zu characters long", min_chars);
		else
			validator_fail(v, field, "must be at most %zu characters long", max_chars);
		return NULL;
	}
	return s;
}

bool validator_int(struct validator *v, const char *field, enum v_presence p, long long min,
		   long long max, long long *out)
{
	const json_t *j = member(v, field, p);
	if (!j)
		return false;
	if (!json_is_integer(j)) {
		validator_fail(v, field, "must be an integer");
		return false;
	}
	long long x = json_integer_value(j);
	if (x < min || x > max) {
		validator_fail(v, field, "must be between %lld and %lld", min, max);
		return false;
	}
	*out = x;
	return true;
}

bool validator_bool(struct validator *v, const char *field, enum v_presence p, bool *out)
{
	const json_t *j = member(v, field, p);
	if (!j)
		return false;
	if (!json_is_boolean(j)) {
		validator_fail(v, field, "must be true or false");
		return false;
	}
	*out = json_is_true(j);
	return true;
}

/* A pragmatic address check: one '@', a non-empty local part without spaces
 * or control characters, a domain of dot-separated labels with a dot. */
static bool email_valid(const char *s)
{
	const char *at = strchr(s, '@');
	if (!at || at == s || strchr(at + 1, '@') || at - s > 64)
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '<' || *c == '>' ||
		    *c == ',' || *c == ';' || *c == '"' || *c == '\\')
			return false;
	const char *d = at + 1;
	if (!strchr(d, '.') || *d == '.' || d[strlen(d) - 1] == '.' || strstr(d, ".."))
		return false;
	for (const char *c = d; *c; c++)
		if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '.' ||
		      (unsigned char)*c >= 0x80))
			return false;
	return true;
}

bool validator_email(struct validator *v, const char *field, char *out, size_t outlen)
{
	const char *s = validator_string(v, field, V_REQUIRED, 3, 254);
	if (!s)
		return false;
	if (!email_valid(s) || strlen(s) >= outlen) {
		validator_fail(v, field, "must be a valid email address");
		return false;
	}
	size_t i = 0;
	for (; s[i]; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
	return true;
}

bool password_rules_check(const char *pw, const char *field, json_t *errors)
{
	bool lower = false, upper = false, digit = false, special = false;
	size_t n = pw ? utf8_chars(pw) : 0;
	size_t before = json_array_size(errors);
	for (const char *c = pw ? pw : ""; *c; c++) {
		unsigned char ch = (unsigned char)*c;
		if (ch >= 'a' && ch <= 'z')
			lower = true;
		else if (ch >= 'A' && ch <= 'Z')
			upper = true;
		else if (ch >= '0' && ch <= '9')
			digit = true;
		else if (ch >= 0x21 && ch != 0x7f && (ch < 0x80 || ch >= 0xC0))
			special = true; /* punctuation, or a non-ASCII character */
	}
#define RULE(ok, msg)                                                                            \
	do {                                                                                     \
		if (!(ok))                                                                       \
			json_array_append_new(                                                   \
				errors, json_pack("{s:s,s:s}", "field", field, "message", msg)); \
	} while (0)
	RULE(n >= 8, "must be at least 8 characters long");
	RULE(n <= 128, "must be at most 128 characters long");
	RULE(lower, "must contain a lower-case letter");
	RULE(upper, "must contain an upper-case letter");
	RULE(digit, "must contain a digit");
	RULE(special, "must contain a special character");
#undef RULE
	return json_array_size(errors) == before;
}

bool validator_password(struct validator *v, const char *field, const char **out)
{
	const json_t *j = member(v, field, V_REQUIRED);
	if (!j)
		return false;
	if (!json_is_string(j)) {
		validator_fail(v, field, "must be a string");
		return false;
	}
	if (strlen(json_string_value(j)) != json_string_length(j)) {
		validator_fail(v, field, "must not contain NUL characters");
		return false;
	}
	*out = json_string_value(j);
	return password_rules_check(*out, field, v->errors);
}

bool validator_ok(const struct validator *v)
{
	return json_array_size(v->errors) == 0;
}

unsigned validator_respond(struct validator *v, struct http_response *res)
{
	json_t *errors = v->errors;
	v->errors = NULL;
	return http_validation_error(res, errors);
}
