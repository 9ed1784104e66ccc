/* The docs sign-in form (src/docs/form.c). Input: an
 * application/x-www-form-urlencoded body. Each value must decode as a
 * simple reference decoder here says (which caught "%-1" and "% f" read as
 * bytes through strtol), and fit its buffer. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docs/form.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value of the first "name=" at the start or after a '&', decoded;
 * NULL when absent. Owned. */
static char *reference(const char *body, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = body; p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		if (strncmp(p, name, n) != 0 || p[n] != '=')
			continue;
		const char *v = p + n + 1;
		size_t len = strcspn(v, "&");
		char *out = malloc(len + 1), *o = out;
		for (size_t i = 0; i < len; i++) {
			unsigned x;
			if (v[i] == '+') {
				*o++ = ' ';
			} else if (v[i] == '%' && i + 2 < len &&
				   isxdigit((unsigned char)v[i + 1]) &&
				   isxdigit((unsigned char)v[i + 2]) &&
				   sscanf(v + i + 1, "%2x", &x) == 1 && x != 0) {
				*o++ = (char)x;
				i += 2;
			} else {
				*o++ = v[i];
			}
		}
		*o = '\0';
		return out;
	}
	return NULL;
}

static void field(const char *body, const char *name, size_t outlen)
{
	char *out = malloc(outlen);
	char *want = reference(body, name);
	bool found = docs_form_field(body, name, out, outlen);
	if (found && (!want || strcmp(out, want) != 0 || strlen(out) >= outlen))
		abort();
	if (!found && want && strlen(want) < outlen / 3)
		abort(); /* present, and short enough to fit even fully encoded */
	free(want);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_strndup(data, size);
	field(body, "email", 255);
	field(body, "password", 129);
	field(body, "password", 1);
	field(body, "", 8);
	(void)docs_form_field(NULL, "email", (char[4]){0}, 4);
	free(body);
	return 0;
}
