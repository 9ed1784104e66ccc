/* Free-text search to to_tsquery input (src/catalog/search.c). Input: the
 * first byte picks the output size (1 to 256 bytes), the rest is the text.
 * What comes out must fit, be valid UTF-8 and be made of quoted prefix
 * operands joined by " & ". */
#include <stdlib.h>
#include <string.h>

#include "catalog/search.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether s is a list of 'word':* joined by " & ", with no quote inside a
 * word but doubled ones. */
static int well_formed(const char *s)
{
	while (*s) {
		if (*s++ != '\'')
			return 0;
		for (;;) {
			if (!*s)
				return 0;
			if (*s == '\'') {
				if (s[1] == '\'') {
					s += 2;
					continue;
				}
				break;
			}
			s++;
		}
		if (strncmp(s, "':*", 3) != 0)
			return 0;
		s += 3;
		if (!*s)
			return 1;
		if (strncmp(s, " & ", 3) != 0)
			return 0;
		s += 3;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t outlen = (size_t)data[0] + 1;
	char *s = fuzz_strndup(data + 1, size - 1);
	long n = search_utf8_length(s);
	if (n >= 0) {
		char *out = malloc(outlen);
		if (search_to_tsquery(s, out, outlen)) {
			if (strlen(out) >= outlen || search_utf8_length(out) < 0 ||
			    !well_formed(out))
				abort();
		}
		free(out);
	}
	free(s);
	return 0;
}
