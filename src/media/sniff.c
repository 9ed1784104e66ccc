#include "media/sniff.h"

#include <string.h>

const char *media_sniff(const void *data, size_t len)
{
	const unsigned char *p = data;
	if (!p)
		return NULL;
	if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
		return "image/jpeg";
	if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
		return "image/webp";
	if (len >= 8 && memcmp(p + 4, "ftyp", 4) == 0)
		return "video/mp4";
	if (len >= 4 && memcmp(p, "\x1a\x45\xdf\xa3", 4) == 0)
		return "video/webm";
	return NULL;
}

bool media_sniff_matches(const char *content_type, const void *data, size_t len)
{
	const char *t = media_sniff(data, len);
	return t && content_type && strcmp(t, content_type) == 0;
}
