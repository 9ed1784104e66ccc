/* Metadata stripping of avatar images (storage/image.c) on crafted files:
 * what goes, what stays byte for byte, and malformed input refused. No
 * server needed. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/buf.h"
#include "storage/image.h"

#define LEN(a) (sizeof(a) - 1) /* string literals: without the final NUL */

static bool contains(const struct buf *b, const char *needle, size_t n)
{
	for (size_t i = 0; b->len >= n && i <= b->len - n; i++)
		if (memcmp(b->data + i, needle, n) == 0)
			return true;
	return false;
}

/* ---- JPEG: segments concatenated; the expected output is the same
 * without the metadata segments. ---- */

#define J_SOI  "\xff\xd8"
#define J_APP0 "\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
/* APP1 EXIF with a GPS IFD (tag 0x8825) pointing at a latitude. */
#define J_EXIF                                                                                   \
	"\xff\xe1\x00\x2a"                                                                       \
	"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x88\x25\x00\x04\x00\x00\x00\x01\x00\x00" \
	"\x00\x1aGPS 48N 2E \x00"
#define J_XMP  "\xff\xe1\x00\x1fhttp://ns.adobe.com/xap/1.0/\x00"
#define J_IPTC "\xff\xed\x00\x10Photoshop 3.0\x00"
#define J_ICC  "\xff\xe2\x00\x12ICC_PROFILE\x00\x01\x01\xaa\xbb"
#define J_COM  "\xff\xfe\x00\x0bsecret!!!"
#define J_DQT  "\xff\xdb\x00\x07\x00\x01\x02\x03\x04"
#define J_SOF0 "\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
#define J_DHT  "\xff\xc4\x00\x06\x00\x00\x00\x00"
#define J_SOS  "\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
/* Entropy-coded data with a stuffed FF 00, a restart marker and fill. */
#define J_SCAN "\x12\xff\x00\x34\xff\xd0\x56\xff"
#define J_EOI  "\xff\xd9"

static const char jpeg_in[] =
	J_SOI J_APP0 J_EXIF J_XMP J_IPTC J_ICC J_COM J_DQT J_SOF0 J_DHT J_SOS J_SCAN J_EOI
	"trailing junk after EOI";
static const char jpeg_out[] = J_SOI J_APP0 J_ICC J_DQT J_SOF0 J_DHT J_SOS J_SCAN J_EOI;

START_TEST(jpeg_gps_exif_removed)
{
	struct buf out = BUF_INIT;
	ck_assert_str_eq(image_content_type(jpeg_in, LEN(jpeg_in)), "image/jpeg");
	ck_assert(image_strip_metadata(jpeg_in, LEN(jpeg_in), "image/jpeg", &out));
	ck_assert_uint_eq(out.len, LEN(jpeg_out));
	ck_assert(memcmp(out.data, jpeg_out, out.len) == 0);
	ck_assert(!contains(&out, "Exif", 4));
	ck_assert(!contains(&out, "GPS", 3));
	ck_assert(!contains(&out, "secret", 6));
	ck_assert(!contains(&out, "Photoshop", 9));
	ck_assert(!contains(&out, "adobe.com", 9));
	/* Stripping twice changes nothing. */
	struct buf again = BUF_INIT;
	ck_assert(image_strip_metadata(out.data, out.len, "image/jpeg", &again));
	ck_assert_uint_eq(again.len, out.len);
	ck_assert(memcmp(again.data, out.data, out.len) == 0);
	buf_free(&again);
	buf_free(&out);
}
END_TEST

START_TEST(jpeg_malformed_refused)
{
	static const char *const bad[] = {
		J_SOI,					    /* nothing else */
		J_SOI J_APP0 J_EOI,			    /* no frame, no scan */
		J_SOI J_APP0 J_SOS J_SCAN J_EOI,	    /* scan before any frame */
		J_SOI J_SOF0 J_SOS J_SCAN,		    /* no EOI */
		J_SOI J_SOF0 "\xff\xe1\x00",		    /* length cut short */
		J_SOI J_SOF0 "\xff\xe1\xff\xff\x00" J_EOI,  /* length past the end */
		J_SOI J_SOF0 "\xff\xe1\x00\x01" J_EOI,	    /* length below 2 */
		J_SOI J_SOF0 "\x00\x00" J_SOS J_SCAN J_EOI, /* not a marker */
		J_SOI J_SOF0 "\xff\xd0" J_SOS J_SCAN J_EOI, /* RST outside a scan */
		"\xff\xd8\xff\xff\xff",			    /* fill bytes to the end */
	};
	/* Lengths without the NUL, for literals holding NULs. */
	static const size_t bad_len[] = {
		LEN(J_SOI),
		LEN(J_SOI J_APP0 J_EOI),
		LEN(J_SOI J_APP0 J_SOS J_SCAN J_EOI),
		LEN(J_SOI J_SOF0 J_SOS J_SCAN),
		LEN(J_SOI J_SOF0 "\xff\xe1\x00"),
		LEN(J_SOI J_SOF0 "\xff\xe1\xff\xff\x00" J_EOI),
		LEN(J_SOI J_SOF0 "\xff\xe1\x00\x01" J_EOI),
		LEN(J_SOI J_SOF0 "\x00\x00" J_SOS J_SCAN J_EOI),
		LEN(J_SOI J_SOF0 "\xff\xd0" J_SOS J_SCAN J_EOI),
		LEN("\xff\xd8\xff\xff\xff"),
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf out = BUF_INIT;
		ck_assert_msg(!image_strip_metadata(bad[i], bad_len[i], "image/jpeg", &out),
			      "case %zu accepted", i);
		buf_free(&out);
	}
	/* Every prefix of a good file is refused, none read past its end
	 * (ASan checks the last part). */
	for (size_t n = 0; n < LEN(jpeg_in) - LEN("trailing junk after EOI"); n++) {
		char *copy = malloc(n ? n : 1);
		memcpy(copy, jpeg_in, n);
		struct buf out = BUF_INIT;
		ck_assert_msg(!image_strip_metadata(copy, n, "image/jpeg", &out), "prefix %zu", n);
		buf_free(&out);
		free(copy);
	}
}
END_TEST

/* ---- PNG ---- */

#define P_SIG "\x89PNG\r\n\x1a\n"
#define P_IHDR \
	"\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
#define P_TEXT                           \
	"\x00\x00\x00\x0ctEXtAuthor\x00" \
	"Alice\x11\x22\x33\x44"
#define P_ZTXT "\x00\x00\x00\x05zTXtk\x00\x00xx\x11\x22\x33\x44"
#define P_ITXT "\x00\x00\x00\x06iTXtXMP\x00\x00\x00\x11\x22\x33\x44"
#define P_EXIF             \
	"\x00\x00\x00\x08" \
	"eXIfMM\x00\x2aGPS!\x11\x22\x33\x44"
#define P_TIME "\x00\x00\x00\x07tIME\x07\xea\x0c\x05\x04\x35\x00\x11\x22\x33\x44"
#define P_ICCP "\x00\x00\x00\x03iCCPabc\x11\x22\x33\x44"
#define P_IDAT \
	"\x00\x00\x00\x0dIDATx\x9c\x63\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99\x3d\x1d"
#define P_IEND "\x00\x00\x00\x00IEND\xae\x42\x60\x82"

static const char png_in[] =
	P_SIG P_IHDR P_TEXT P_ICCP P_ZTXT P_EXIF P_IDAT P_ITXT P_TIME P_IEND "after the end";
static const char png_out[] = P_SIG P_IHDR P_ICCP P_IDAT P_IEND;

START_TEST(png_text_and_exif_removed)
{
	struct buf out = BUF_INIT;
	ck_assert(image_strip_metadata(png_in, LEN(png_in), "image/png", &out));
	ck_assert_uint_eq(out.len, LEN(png_out));
	ck_assert(memcmp(out.data, png_out, out.len) == 0);
	ck_assert(!contains(&out, "GPS", 3));
	ck_assert(!contains(&out, "Alice", 5));
	buf_free(&out);
}
END_TEST

START_TEST(png_malformed_refused)
{
	static const char no_iend[] = P_SIG P_IHDR P_IDAT;
	static const char no_idat[] = P_SIG P_IHDR P_IEND;
	static const char ihdr_late[] = P_SIG P_TEXT P_IHDR P_IDAT P_IEND;
	static const char two_ihdr[] = P_SIG P_IHDR P_IHDR P_IDAT P_IEND;
	static const char huge[] = P_SIG P_IHDR "\x7f\xff\xff\xf0IDAT" P_IEND;
	static const char negative[] = P_SIG P_IHDR "\xff\xff\xff\xf0IDAT" P_IEND;
	static const char bad_type[] = P_SIG P_IHDR "\x00\x00\x00\x00ID\x01T\0\0\0\0" P_IEND;
	const struct {
		const char *d;
		size_t n;
	} bad[] = {{no_iend, LEN(no_iend)},   {no_idat, LEN(no_idat)}, {ihdr_late, LEN(ihdr_late)},
		   {two_ihdr, LEN(two_ihdr)}, {huge, LEN(huge)},       {negative, LEN(negative)},
		   {bad_type, LEN(bad_type)}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf out = BUF_INIT;
		ck_assert_msg(!image_strip_metadata(bad[i].d, bad[i].n, "image/png", &out),
			      "case %zu accepted", i);
		buf_free(&out);
	}
	for (size_t n = 0; n < LEN(png_out); n++) {
		char *copy = malloc(n ? n : 1);
		memcpy(copy, png_out, n);
		struct buf out = BUF_INIT;
		ck_assert_msg(!image_strip_metadata(copy, n, "image/png", &out), "prefix %zu", n);
		buf_free(&out);
		free(copy);
	}
}
END_TEST

/* ---- WebP ---- */

/* VP8X with ICC (0x20), alpha (0x10), EXIF (0x08) and XMP (0x04) set. */
#define W_VP8X "VP8X\x0a\x00\x00\x00\x3c\x00\x00\x00\x00\x00\x00\x00\x00\x00"
#define W_ICCP                 \
	"ICCP\x03\x00\x00\x00" \
	"abc\x00"
#define W_ALPH "ALPH\x02\x00\x00\x00\x01\x02"
#define W_VP8  "VP8 \x05\x00\x00\x00\x01\x02\x03\x04\x05\x00"
#define W_EXIF "EXIF\x08\x00\x00\x00MM\x00\x2aGPS!"
#define W_XMP  "XMP \x04\x00\x00\x00<x/>"
/* RIFF size = 4 + chunks. In: 18+12+10+14+16+12 = 82 + 4 = 86 (0x56);
 * out: 18+12+10+14 = 54 + 4 = 58 (0x3a); flags 0x3c -> 0x30. */
static const char webp_in[] = "RIFF\x56\x00\x00\x00WEBP" W_VP8X W_ICCP W_ALPH W_VP8 W_EXIF W_XMP;
static const char webp_out[] =
	"RIFF\x3a\x00\x00\x00WEBP"
	"VP8X\x0a\x00\x00\x00\x30\x00\x00\x00\x00\x00\x00\x00\x00\x00" W_ICCP W_ALPH W_VP8;

START_TEST(webp_exif_and_xmp_removed)
{
	struct buf out = BUF_INIT;
	ck_assert_str_eq(image_content_type(webp_in, LEN(webp_in)), "image/webp");
	ck_assert(image_strip_metadata(webp_in, LEN(webp_in), "image/webp", &out));
	ck_assert_uint_eq(out.len, LEN(webp_out));
	ck_assert(memcmp(out.data, webp_out, out.len) == 0);
	/* A simple lossy file without metadata passes unchanged. */
	static const char simple[] = "RIFF\x12\x00\x00\x00WEBP" W_VP8;
	buf_reset(&out);
	ck_assert(image_strip_metadata(simple, LEN(simple), "image/webp", &out));
	ck_assert_uint_eq(out.len, LEN(simple));
	ck_assert(memcmp(out.data, simple, out.len) == 0);
	buf_free(&out);
}
END_TEST

START_TEST(webp_malformed_refused)
{
	static const char riff_past_end[] = "RIFF\xff\x00\x00\x00WEBP" W_VP8;
	static const char chunk_past_end[] =
		"RIFF\x12\x00\x00\x00WEBPVP8 \x07\x00\x00\x00\x01\x02\x03\x04\x05\x00";
	static const char only_metadata[] = "RIFF\x16\x00\x00\x00WEBP" W_VP8X;
	static const char short_vp8x[] =
		"RIFF\x1c\x00\x00\x00WEBPVP8X\x02\x00\x00\x00\x00\x00" W_VP8;
	static const char exif_first[] = "RIFF\x22\x00\x00\x00WEBP" W_EXIF W_VP8;
	static const char half_header[] = "RIFF\x15\x00\x00\x00WEBP" W_VP8 "ALP";
	const struct {
		const char *d;
		size_t n;
	} bad[] = {{riff_past_end, LEN(riff_past_end)}, {chunk_past_end, LEN(chunk_past_end)},
		   {only_metadata, LEN(only_metadata)}, {short_vp8x, LEN(short_vp8x)},
		   {exif_first, LEN(exif_first)},	{half_header, LEN(half_header)}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf out = BUF_INIT;
		ck_assert_msg(!image_strip_metadata(bad[i].d, bad[i].n, "image/webp", &out),
			      "case %zu accepted", i);
		buf_free(&out);
	}
	for (size_t n = 0; n < LEN(webp_in); n++) {
		char *copy = malloc(n ? n : 1);
		memcpy(copy, webp_in, n);
		struct buf out = BUF_INIT;
		ck_assert_msg(!image_strip_metadata(copy, n, "image/webp", &out), "prefix %zu", n);
		buf_free(&out);
		free(copy);
	}
	struct buf out = BUF_INIT;
	ck_assert(!image_strip_metadata(NULL, 10, "image/webp", &out));
	ck_assert(!image_strip_metadata(webp_in, LEN(webp_in), "image/gif", &out));
	buf_free(&out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("image");
	TCase *tc = tcase_create("strip");
	tcase_add_test(tc, jpeg_gps_exif_removed);
	tcase_add_test(tc, jpeg_malformed_refused);
	tcase_add_test(tc, png_text_and_exif_removed);
	tcase_add_test(tc, png_malformed_refused);
	tcase_add_test(tc, webp_exif_and_xmp_removed);
	tcase_add_test(tc, webp_malformed_refused);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
