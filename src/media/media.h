/* Media of a movie (docs/MEDIA.md): the three kinds, their content types and
 * size limits, and the object key format media/{movie_id}/{kind}/{token}.
 * Shared by the upload side (handlers, service, cleanup, seed) and playback.
 * Pure functions, no I/O; thread-safe. */
#ifndef CINEMA_MEDIA_MEDIA_H
#define CINEMA_MEDIA_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cinema/config.h"

enum media_kind { MEDIA_POSTER = 0, MEDIA_TRAILER, MEDIA_FEATURE, MEDIA_KINDS };

#define MEDIA_TOKEN_LEN 32 /* lower-case hex characters */
#define MEDIA_KEY_MAX	80 /* "media/" + 19 digits + "/trailer/" + 32 + NUL fits */
#define MEDIA_MAX_PARTS 1000
#define MEDIA_MIB	(1024LL * 1024LL)
/* How many of an object's first bytes are read to check its type. */
#define MEDIA_SNIFF_BYTES 64

static const char *const media_kind_names[MEDIA_KINDS] = {"poster", "trailer", "feature"};

/* The kind named s ("poster", "trailer", "feature"); false for anything else. */
static inline bool media_kind_parse(const char *s, enum media_kind *out)
{
	for (int k = 0; s && k < MEDIA_KINDS; k++)
		if (strcmp(s, media_kind_names[k]) == 0) {
			*out = (enum media_kind)k;
			return true;
		}
	return false;
}

static inline const char *media_kind_name(enum media_kind k)
{
	return k >= MEDIA_POSTER && k < MEDIA_KINDS ? media_kind_names[k] : "";
}

/* Whether everyone may see the kind (poster_url, trailer_url). */
static inline bool media_kind_public(enum media_kind k)
{
	return k == MEDIA_POSTER || k == MEDIA_TRAILER;
}

/* Whether content_type is accepted for kind: JPEG, PNG, WebP posters; MP4
 * and WebM videos. */
static inline bool media_type_allowed(enum media_kind k, const char *content_type)
{
	static const char *const images[] = {"image/jpeg", "image/png", "image/webp", NULL};
	static const char *const videos[] = {"video/mp4", "video/webm", NULL};
	const char *const *list = k == MEDIA_POSTER ? images : videos;
	for (; content_type && *list; list++)
		if (strcmp(content_type, *list) == 0)
			return true;
	return false;
}

/* The types of kind, for messages: "image/jpeg, image/png or image/webp". */
static inline const char *media_types_text(enum media_kind k)
{
	return k == MEDIA_POSTER ? "image/jpeg, image/png or image/webp"
				 : "video/mp4 or video/webm";
}

/* The largest upload of kind (MEDIA_*_MAX_BYTES). */
static inline long long media_max_bytes(const struct config *cfg, enum media_kind k)
{
	return k == MEDIA_POSTER    ? cfg->media_poster_max_bytes
	       : k == MEDIA_TRAILER ? cfg->media_trailer_max_bytes
				    : cfg->media_feature_max_bytes;
}

/* The part size of an upload of size bytes: 0 for a single PUT (size up to
 * part_bytes), else part_bytes, grown to whole MiB when that would make more
 * than MEDIA_MAX_PARTS parts. */
static inline long long media_part_size(long long size, long long part_bytes)
{
	if (size <= part_bytes)
		return 0;
	long long part = part_bytes;
	if ((size + part - 1) / part > MEDIA_MAX_PARTS) {
		long long need = (size + MEDIA_MAX_PARTS - 1) / MEDIA_MAX_PARTS;
		part = (need + MEDIA_MIB - 1) / MEDIA_MIB * MEDIA_MIB;
	}
	return part;
}

/* Whether s is a token: MEDIA_TOKEN_LEN lower-case hex characters. */
static inline bool media_token_valid(const char *s)
{
	size_t n = 0;
	for (; s && s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == MEDIA_TOKEN_LEN;
}

/* media/{movie_id}/{kind}/{token} into out (MEDIA_KEY_MAX bytes). */
static inline void media_key_format(char *out, size_t outlen, long long movie_id, enum media_kind k,
				    const char *token)
{
	snprintf(out, outlen, "media/%lld/%s/%s", movie_id, media_kind_name(k), token);
}

#endif
