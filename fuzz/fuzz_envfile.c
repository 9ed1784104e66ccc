/* Settings files of NAME=value lines (envfile_parse, src/core/envfile.c),
 * the .data/env that scripts/run.sh writes. Input: the file. Every name
 * handed over is a shell variable name, every value a string no longer than
 * the file, and a refusal says why. */
#include <stdlib.h>
#include <string.h>

#include "cinema/envfile.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool set(const char *name, const char *value, void *ctx)
{
	size_t size = *(const size_t *)ctx;
	if (!name[0] || (name[0] >= '0' && name[0] <= '9') ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
		    strlen(name) ||
	    strlen(name) + strlen(value) > size)
		abort();
	return value[0] != '!'; /* let the caller stop the parse now and then */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly size bytes, no NUL after them: ASan sees any read past. */
	char *text = malloc(size ? size : 1);
	if (size)
		memcpy(text, data, size);
	char err[128];
	err[0] = '\0';
	if (!envfile_parse(text, size, "fuzz.env", set, &size, err, sizeof(err)) &&
	    !memchr(err, '\0', sizeof(err)))
		abort();
	free(text);
	return 0;
}
