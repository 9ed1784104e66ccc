/* The content type of a media file from its first bytes (magic numbers):
 * JPEG FF D8 FF, PNG 89 50 4E 47 0D 0A 1A 0A, WebP "RIFF" size "WEBP",
 * MP4 size "ftyp", WebM (EBML) 1A 45 DF A3. Pure; thread-safe. */
#ifndef CINEMA_MEDIA_SNIFF_H
#define CINEMA_MEDIA_SNIFF_H

#include <stdbool.h>
#include <stddef.h>

/* The type whose magic bytes start data (len bytes), one of image/jpeg,
 * image/png, image/webp, video/mp4, video/webm (static strings); NULL when
 * none does. */
const char *media_sniff(const void *data, size_t len);

/* Whether data starts with the magic bytes of content_type. */
bool media_sniff_matches(const char *content_type, const void *data, size_t len);

#endif
