#include "docs/form.h"

#include <string.h>

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one application/x-www-form-urlencoded value in place: "%" with two
 * hex digits is a byte (but %00, which stays as written, as does a "%" not
 * followed by two hex digits). */
static void form_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		int hi = *s == '%' ? hex_digit(s[1]) : -1;
		int lo = hi >= 0 ? hex_digit(s[2]) : -1;
		if (*s == '+') {
			*o++ = ' ';
		} else if (lo >= 0 && (hi | lo) != 0) {
			*o++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Copies the decoded value of field name from a form body into out. */
bool docs_form_field(const char *body, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);
	for (const char *p = body; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		if (strncmp(p, name, n) != 0 || p[n] != '=')
			continue;
		size_t len = strcspn(p + n + 1, "&");
		if (len >= outlen)
			return false;
		memcpy(out, p + n + 1, len);
		out[len] = '\0';
		form_decode(out);
		return true;
	}
	return false;
}
