/* The docs sign-in form (src/docs/form.c). Input: an
 * application/x-www-form-urlencoded body. A decoded value is never longer
 * than its encoded text and fits the buffer. */
#include <stdlib.h>
#include <string.h>

#include "docs/form.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void field(const char *body, const char *name, size_t outlen)
{
	char *out = malloc(outlen);
	if (docs_form_field(body, name, out, outlen) && strlen(out) >= outlen)
		abort();
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
