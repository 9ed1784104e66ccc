#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "cinema/mem.h"

char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void fuzz_fields_split(struct fuzz_fields *ff, const uint8_t *data, size_t size)
{
	ff->copy = fuzz_strndup(data, size);
	ff->n = 0;
	size_t at = 0;
	while (ff->n < FUZZ_MAX_FIELDS && at <= size) {
		ff->f[ff->n++] = ff->copy + at;
		at += strlen(ff->copy + at) + 1;
	}
	for (size_t i = ff->n; i < FUZZ_MAX_FIELDS; i++)
		ff->f[i] = "";
}

void fuzz_fields_free(struct fuzz_fields *ff)
{
	free(ff->copy);
	ff->copy = NULL;
}

void fuzz_response_free(struct http_response *res)
{
	buf_free(&res->body);
	for (int i = 0; i < res->nheaders; i++)
		free(res->headers[i].value);
	res->nheaders = 0;
}
