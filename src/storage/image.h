/* Image uploads whose declared Content-Type and content are not to be
 * trusted: type sniffing from the first bytes, and a copy without metadata.
 * Pure; thread-safe. */
#ifndef CINEMA_STORAGE_IMAGE_H
#define CINEMA_STORAGE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "cinema/buf.h"

/* Returns "image/png", "image/jpeg" or "image/webp" (static strings) when
 * data starts like such a file, NULL otherwise (including data == NULL):
 *   PNG   the 8-byte signature followed by the IHDR chunk header (16 bytes);
 *   JPEG  FF D8 FF, start of image then the next marker (3 bytes);
 *   WebP  "RIFF", a size, "WEBP" and a VP8, VP8L or VP8X chunk (16 bytes).
 * Only the header is checked; a truncated or corrupt body still passes. */
const char *image_content_type(const void *data, size_t len);

/* Appends to out a copy of the image data of type (one of the strings
 * image_content_type returns) without the metadata a photo carries:
 *   JPEG  APP1..APP15 (EXIF with GPS, XMP, IPTC/Photoshop, ...) and COM
 *         segments; kept: APP0 (JFIF), APP2 ICC_PROFILE and APP14 Adobe,
 *         which decoders need to render the colours; nothing after EOI;
 *   PNG   tEXt, zTXt, iTXt, eXIf and tIME chunks; nothing after IEND;
 *   WebP  EXIF and XMP chunks, with the VP8X flags and the RIFF size fixed.
 * Every segment and chunk is bounds-checked; the pixel data is copied as
 * is, never decoded. Returns false, leaving out in an unspecified state,
 * when data is not a well-formed file of that type (truncated, a length
 * past the end, a missing end marker, no image data). */
bool image_strip_metadata(const void *data, size_t len, const char *type, struct buf *out);

#endif
