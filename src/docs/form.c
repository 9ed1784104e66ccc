#include "docs/form.h"

#include <stdlib.h>
#include <string.h>

/* Decodes one application/x-www-form-urlencoded value in place. */
static void form_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '+') {
			*o++ = ' ';
		} else if (*s == '%' && s[1] && s[2]) {
			char hex[3] = {s[1], s[2], 0};
			char *end;
			long v = strtol(hex, &end, 16);
			if (*end || v == 0) {
				*o++ = *s;
				continue;
			}
			*o++ = (char)v;
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
