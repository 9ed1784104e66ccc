#include "storage/image.h"

#include <stdint.h>
#include <string.h>

static bool starts_with(const unsigned char *p, size_t len, size_t off, const char *magic, size_t n)
{
	return len >= off && len - off >= n && memcmp(p + off, magic, n) == 0;
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

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* ---- JPEG (ITU T.81 annex B; JFIF; ICC.1 annex B.4; Adobe TN 5116) ---- */

static bool jpeg_keep_app(unsigned char marker, const unsigned char *body, size_t n)
{
	if (marker == 0xe0) /* APP0: JFIF / JFXX */
		return true;
	if (marker == 0xe2) /* APP2: only an ICC profile */
		return starts_with(body, n, 0, "ICC_PROFILE\0", 12);
	if (marker == 0xee) /* APP14: the Adobe colour transform flag */
		return starts_with(body, n, 0, "Adobe", 5);
	return false;
}

/* Entropy-coded data after SOS runs to the first marker that is neither a
 * stuffed FF 00 nor a restart marker FF D0..D7. Returns its offset, or len
 * when there is none. */
static size_t jpeg_scan_end(const unsigned char *p, size_t len, size_t pos)
{
	while (pos + 1 < len) {
		if (p[pos] != 0xff) {
			pos++;
			continue;
		}
		unsigned char m = p[pos + 1];
		if (m == 0x00 || (m >= 0xd0 && m <= 0xd7))
			pos += 2;
		else if (m == 0xff)
			pos++; /* fill byte before a marker */
		else
			return pos;
	}
	return len;
}

static bool jpeg_strip(const unsigned char *p, size_t len, struct buf *out)
{
	bool seen_frame = false, seen_scan = false;
	size_t pos = 2;
	if (!starts_with(p, len, 0, "\xff\xd8", 2))
		return false;
	buf_append(out, p, 2);
	for (;;) {
		if (pos >= len || p[pos] != 0xff)
			return false;
		while (pos < len && p[pos] == 0xff)
			pos++; /* fill bytes (B.1.1.2) */
		if (pos >= len)
			return false;
		unsigned char m = p[pos++];
		if (m == 0xd9) { /* EOI: whatever follows is not the image */
			buf_append(out, "\xff\xd9", 2);
			return seen_frame && seen_scan;
		}
		if (m == 0x00 || m == 0xd8 || (m >= 0xd0 && m <= 0xd7) || m == 0x01)
			return false; /* stray SOI, RSTn or TEM outside a scan */
		if (len - pos < 2)
			return false;
		size_t seg = (size_t)p[pos] << 8 | p[pos + 1]; /* counts its own 2 bytes */
		if (seg < 2 || seg > len - pos)
			return false;
		const unsigned char *body = p + pos + 2;
		size_t body_len = seg - 2;
		bool drop =
			m == 0xfe || (m >= 0xe0 && m <= 0xef && !jpeg_keep_app(m, body, body_len));
		if (!drop) {
			buf_append_char(out, (char)0xff);
			buf_append_char(out, (char)m);
			buf_append(out, p + pos, seg);
		}
		pos += seg;
		if ((m >= 0xc0 && m <= 0xcf) && m != 0xc4 && m != 0xc8 && m != 0xcc)
			seen_frame = true; /* SOFn */
		if (m == 0xda) {
			if (!seen_frame)
				return false;
			seen_scan = true;
			size_t end = jpeg_scan_end(p, len, pos);
			if (end >= len)
				return false;
			buf_append(out, p + pos, end - pos);
			pos = end;
		}
	}
}

/* ---- PNG (PNG spec, 3rd edition, 5.3 and 11.3) ---- */

static bool png_drop(const unsigned char *type)
{
	static const char *const drop[] = {"tEXt", "zTXt", "iTXt", "eXIf", "tIME"};
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if (memcmp(type, drop[i], 4) == 0)
			return true;
	return false;
}

static bool png_strip(const unsigned char *p, size_t len, struct buf *out)
{
	bool seen_data = false;
	size_t pos = 8;
	if (!starts_with(p, len, 0, "\x89PNG\r\n\x1a\n", 8))
		return false;
	buf_append(out, p, 8);
	for (bool first = true;; first = false) {
		if (len - pos < 12)
			return false;
		uint32_t n = be32(p + pos);
		const unsigned char *type = p + pos + 4;
		if (n > 0x7fffffffu || n > len - pos - 12)
			return false;
		for (size_t i = 0; i < 4; i++)
			if (!((type[i] >= 'A' && type[i] <= 'Z') ||
			      (type[i] >= 'a' && type[i] <= 'z')))
				return false;
		if (first != (memcmp(type, "IHDR", 4) == 0))
			return false; /* IHDR first, and only first */
		if (memcmp(type, "IDAT", 4) == 0)
			seen_data = true;
		if (!png_drop(type))
			buf_append(out, p + pos, (size_t)n + 12);
		pos += (size_t)n + 12;
		if (memcmp(type, "IEND", 4) == 0)
			return seen_data;
	}
}

/* ---- WebP (RFC 9649) ---- */

#define VP8X_FLAG_XMP  0x04u
#define VP8X_FLAG_EXIF 0x08u

static bool webp_strip(const unsigned char *p, size_t len, struct buf *out)
{
	if (!starts_with(p, len, 0, "RIFF", 4) || !starts_with(p, len, 8, "WEBP", 4))
		return false;
	uint32_t riff = le32(p + 4);
	if (riff < 4 || riff > len - 8)
		return false;
	size_t end = (size_t)riff + 8, pos = 12, vp8x_at = 0;
	bool seen_image = false;
	buf_append(out, p, 12);
	while (pos < end) {
		if (end - pos < 8)
			return false;
		const unsigned char *fourcc = p + pos;
		uint32_t n = le32(p + pos + 4);
		size_t padded = (size_t)n + (n & 1u);
		if (n > end - pos - 8 || padded > end - pos - 8)
			return false;
		if (pos == 12) {
			if (memcmp(fourcc, "VP8X", 4) == 0) {
				if (n < 10)
					return false;
				vp8x_at = out->len;
			} else if (memcmp(fourcc, "VP8 ", 4) != 0 &&
				   memcmp(fourcc, "VP8L", 4) != 0) {
				return false;
			}
		}
		if (memcmp(fourcc, "VP8 ", 4) == 0 || memcmp(fourcc, "VP8L", 4) == 0 ||
		    memcmp(fourcc, "ANIM", 4) == 0)
			seen_image = true;
		if (memcmp(fourcc, "EXIF", 4) != 0 && memcmp(fourcc, "XMP ", 4) != 0)
			buf_append(out, p + pos, padded + 8);
		pos += padded + 8;
	}
	if (!seen_image || out->len - 8 > UINT32_MAX)
		return false;
	unsigned char *o = (unsigned char *)out->data;
	if (vp8x_at)
		o[vp8x_at + 8] &= (unsigned char)~(VP8X_FLAG_XMP | VP8X_FLAG_EXIF);
	uint32_t size = (uint32_t)(out->len - 8);
	for (int i = 0; i < 4; i++)
		o[4 + i] = (unsigned char)(size >> (8 * i));
	return true;
}

bool image_strip_metadata(const void *data, size_t len, const char *type, struct buf *out)
{
	const unsigned char *p = data;
	if (!p || !type)
		return false;
	if (strcmp(type, "image/jpeg") == 0)
		return jpeg_strip(p, len, out);
	if (strcmp(type, "image/png") == 0)
		return png_strip(p, len, out);
	if (strcmp(type, "image/webp") == 0)
		return webp_strip(p, len, out);
	return false;
}
