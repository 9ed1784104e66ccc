/* Image type sniffing of uploads (src/storage/image.c). Input: the file. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "storage/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so that ASan sees any read past it. */
	void *copy = malloc(size ? size : 1);
	if (size)
		memcpy(copy, data, size);
	const char *type = image_content_type(copy, size);
	if (type && strcmp(type, "image/png") != 0 && strcmp(type, "image/jpeg") != 0 &&
	    strcmp(type, "image/webp") != 0)
		abort();
	free(copy);
	return 0;
}
