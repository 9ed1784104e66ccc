/* Request-body validation that names every bad field at once.
 *
 *   struct validator v;
 *   validator_init(&v, body);
 *   validator_only(&v, (const char *const[]){"email", "password", NULL});
 *   const char *email = validator_string(&v, "email", V_REQUIRED, 3, 254);
 *   if (!validator_ok(&v))
 *           return validator_respond(&v, res);   // 422 with every error
 *
 * Strings returned are borrowed from the JSON body. Lengths count Unicode
 * characters (jansson guarantees valid UTF-8). A string holding a NUL
 * character (\u0000, which http_json_body lets through) is refused on its
 * field as "must not contain NUL characters", so no string returned is cut
 * short. Not thread-safe; one per request. */
#ifndef CINEMA_VALIDATE_H
#define CINEMA_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct http_response;

enum v_presence {
	V_OPTIONAL = 0, /* absent is fine */
	V_REQUIRED,	/* absent or null is an error */
	V_NULLABLE,	/* absent is fine; null is a value (clears the field) */
};

struct validator {
	const json_t *obj; /* borrowed */
	json_t *errors;	   /* owned array of {field, message} */
};

void validator_init(struct validator *v, const json_t *obj);
/* Releases the errors (validator_respond does it too). */
void validator_clear(struct validator *v);
/* Records an error on field (message formatted). */
void validator_fail(struct validator *v, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Rejects every member not in allowed (NULL-terminated). */
void validator_only(struct validator *v, const char *const *allowed);
/* Whether field is present in the body (null included). */
bool validator_has(const struct validator *v, const char *field);
/* A string of min..max characters, or NULL (absent, null, or invalid). */
const char *validator_string(struct validator *v, const char *field, enum v_presence p,
			     size_t min_chars, size_t max_chars);
/* An integer in [min, max]; false if absent or invalid. */
bool validator_int(struct validator *v, const char *field, enum v_presence p, long long min,
		   long long max, long long *out);
/* A boolean; false if absent or invalid. */
bool validator_bool(struct validator *v, const char *field, enum v_presence p, bool *out);
/* An email address (lower-cased copy into out, at most 254 bytes). */
bool validator_email(struct validator *v, const char *field, char *out, size_t outlen);
/* A password meeting the rules of API.md; each broken rule is one error. */
bool validator_password(struct validator *v, const char *field, const char **out);
/* Checks a password against the rules; NULL-safe. Appends one message per
 * broken rule to errors (owned array) under field. Returns true if none. */
bool password_rules_check(const char *pw, const char *field, json_t *errors);

bool validator_ok(const struct validator *v);
/* Answers 422 with every error (consumes them). Returns the status. */
unsigned validator_respond(struct validator *v, struct http_response *res);

#endif
