/* Image type sniffing from the first bytes of a file, for uploads whose
 * declared Content-Type is not to be trusted. Pure; thread-safe. */
#ifndef CINEMA_STORAGE_IMAGE_H
#define CINEMA_STORAGE_IMAGE_H

#include <stddef.h>

/* Returns "image/png", "image/jpeg" or "image/webp" (static strings) when
 * data starts like such a file, NULL otherwise (including data == NULL):
 *   PNG   the 8-byte signature followed by the IHDR chunk header (16 bytes);
 *   JPEG  FF D8 FF, start of image then the next marker (3 bytes);
 *   WebP  "RIFF", a size, "WEBP" and a VP8, VP8L or VP8X chunk (16 bytes).
 * Only the header is checked; a truncated or corrupt body still passes. */
const char *image_content_type(const void *data, size_t len);

#endif
