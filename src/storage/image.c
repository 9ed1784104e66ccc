#include "storage/image.h"

#include <stdbool.h>
#include <string.h>

static bool starts_with(const unsigned char *p, size_t len, size_t off, const char *magic, size_t n)
{
	return len >= off + n && memcmp(p + off, magic, n) == 0;
}

const char *image_content_type(const void *data, size_t len)
{
	const unsigned char *p = data;
	if (!p)
		return NULL;
	/* PNG: signature, then the first chunk, which must be IHDR (PNG spec 5.2, 5.6). */
	if (starts_with(p, len, 0, "\x89PNG\r\n\x1a\n", 8) && starts_with(p, len, 12, "IHDR", 4))
		return "image/png";
	/* JPEG: SOI marker FF D8, then the FF of the next marker (APPn, DQT, ...). */
	if (starts_with(p, len, 0, "\xff\xd8\xff", 3))
		return "image/jpeg";
	/* WebP: a RIFF container of form type WEBP whose first chunk is lossy,
	 * lossless or extended image data. */
	if (starts_with(p, len, 0, "RIFF", 4) && starts_with(p, len, 8, "WEBP", 4) &&
	    (starts_with(p, len, 12, "VP8 ", 4) || starts_with(p, len, 12, "VP8L", 4) ||
	     starts_with(p, len, 12, "VP8X", 4)))
		return "image/webp";
	return NULL;
}
