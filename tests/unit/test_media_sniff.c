/* Media without I/O: magic bytes (src/media/sniff.c), and the kinds, types,
 * part sizes, tokens and keys of src/media/media.h. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "media/media.h"
#include "media/service.h"
#include "media/sniff.h"

#define MIB (1024LL * 1024LL)

static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F'};
static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13};
static const unsigned char webp[] = {'R', 'I', 'F', 'F', 0x24, 0,   0,	 0,
				     'W', 'E', 'B', 'P', 'V',  'P', '8', ' '};
static const unsigned char mp4[] = {0, 0, 0, 0x20, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm'};
static const unsigned char webm[] = {0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81};

/* --- sniffing --- */

START_TEST(each_type_is_recognised)
{
	ck_assert_str_eq(media_sniff(jpeg, sizeof(jpeg)), "image/jpeg");
	ck_assert_str_eq(media_sniff(png, sizeof(png)), "image/png");
	ck_assert_str_eq(media_sniff(webp, sizeof(webp)), "image/webp");
	ck_assert_str_eq(media_sniff(mp4, sizeof(mp4)), "video/mp4");
	ck_assert_str_eq(media_sniff(webm, sizeof(webm)), "video/webm");
}
END_TEST

START_TEST(matches_only_the_declared_type)
{
	ck_assert(media_sniff_matches("image/png", png, sizeof(png)));
	ck_assert(!media_sniff_matches("image/png", jpeg, sizeof(jpeg)));
	ck_assert(!media_sniff_matches("image/jpeg", png, sizeof(png)));
	ck_assert(!media_sniff_matches("video/webm", mp4, sizeof(mp4)));
	ck_assert(!media_sniff_matches("video/mp4", webm, sizeof(webm)));
	ck_assert(!media_sniff_matches(NULL, png, sizeof(png)));
	ck_assert(!media_sniff_matches("image/png", NULL, 0));
}
END_TEST

START_TEST(short_or_unknown_bytes_are_nothing)
{
	static const unsigned char riff_wav[] = {'R', 'I', 'F', 'F', 0x24, 0,	0,   0,
						 'W', 'A', 'V', 'E', 'f',  'm', 't', ' '};
	ck_assert_ptr_null(media_sniff("", 0));
	ck_assert_ptr_null(media_sniff(jpeg, 2));
	ck_assert_ptr_null(media_sniff(png, 7));
	ck_assert_ptr_null(media_sniff(webp, 11));
	ck_assert_ptr_null(media_sniff(mp4, 7));
	ck_assert_ptr_null(media_sniff(webm, 3));
	ck_assert_ptr_null(media_sniff(riff_wav, sizeof(riff_wav)));
	ck_assert_ptr_null(media_sniff("GIF89a", 6));
	ck_assert_ptr_null(media_sniff("<svg xmlns=", 11));
}
END_TEST

/* --- kinds and types --- */

START_TEST(kinds_parse_and_name)
{
	enum media_kind k;
	ck_assert(media_kind_parse("poster", &k) && k == MEDIA_POSTER);
	ck_assert(media_kind_parse("trailer", &k) && k == MEDIA_TRAILER);
	ck_assert(media_kind_parse("feature", &k) && k == MEDIA_FEATURE);
	ck_assert(!media_kind_parse("Poster", &k));
	ck_assert(!media_kind_parse("", &k));
	ck_assert(!media_kind_parse(NULL, &k));
	ck_assert_str_eq(media_kind_name(MEDIA_TRAILER), "trailer");
	ck_assert(media_kind_public(MEDIA_POSTER) && media_kind_public(MEDIA_TRAILER));
	ck_assert(!media_kind_public(MEDIA_FEATURE));
}
END_TEST

START_TEST(types_per_kind)
{
	ck_assert(media_type_allowed(MEDIA_POSTER, "image/jpeg"));
	ck_assert(media_type_allowed(MEDIA_POSTER, "image/png"));
	ck_assert(media_type_allowed(MEDIA_POSTER, "image/webp"));
	ck_assert(!media_type_allowed(MEDIA_POSTER, "video/mp4"));
	ck_assert(!media_type_allowed(MEDIA_POSTER, "image/gif"));
	ck_assert(!media_type_allowed(MEDIA_POSTER, "image/svg+xml"));
	ck_assert(!media_type_allowed(MEDIA_POSTER, "image/PNG"));
	for (int k = MEDIA_TRAILER; k <= MEDIA_FEATURE; k++) {
		ck_assert(media_type_allowed((enum media_kind)k, "video/mp4"));
		ck_assert(media_type_allowed((enum media_kind)k, "video/webm"));
		ck_assert(!media_type_allowed((enum media_kind)k, "image/png"));
		ck_assert(!media_type_allowed((enum media_kind)k, "video/webm; codecs=vp9"));
	}
	ck_assert(!media_type_allowed(MEDIA_TRAILER, NULL));
}
END_TEST

/* --- part sizes (docs/MEDIA.md) --- */

START_TEST(single_put_up_to_the_part_size)
{
	ck_assert_int_eq(media_part_size(1, 8 * MIB), 0);
	ck_assert_int_eq(media_part_size(8 * MIB, 8 * MIB), 0);
	ck_assert_int_eq(media_part_size(8 * MIB + 1, 8 * MIB), 8 * MIB);
}
END_TEST

START_TEST(parts_grow_in_whole_mib_past_1000)
{
	/* 1,000 parts of 8 MiB still fit. */
	ck_assert_int_eq(media_part_size(8000 * MIB, 8 * MIB), 8 * MIB);
	ck_assert_int_eq(media_part_size(8000 * MIB + 1, 8 * MIB), 9 * MIB);
	/* 100 GiB: 102,400 MiB over 1,000 parts is 102.4, so 103 MiB. */
	long long size = 100LL * 1024 * MIB;
	long long part = media_part_size(size, 8 * MIB);
	ck_assert_int_eq(part, 103 * MIB);
	ck_assert_int_le((size + part - 1) / part, MEDIA_MAX_PARTS);
	/* A part size that is no whole MiB is kept while it fits. */
	ck_assert_int_eq(media_part_size(6 * MIB, 5 * MIB + 7), 5 * MIB + 7);
	for (long long s = 5 * MIB; s < 6000 * 1024 * MIB; s = s * 3 + 12345) {
		long long p = media_part_size(s, 5 * MIB);
		ck_assert(p == 0 || (s + p - 1) / p <= MEDIA_MAX_PARTS);
	}
}
END_TEST

/* --- tokens, keys, upload ids --- */

START_TEST(tokens_and_keys)
{
	char key[MEDIA_KEY_MAX];
	const char *t = "0123456789abcdef0123456789abcdef";
	ck_assert(media_token_valid(t));
	ck_assert(!media_token_valid("0123456789ABCDEF0123456789abcdef"));
	ck_assert(!media_token_valid("0123456789abcdef0123456789abcde"));
	ck_assert(!media_token_valid("0123456789abcdef0123456789abcdef0"));
	ck_assert(!media_token_valid("../23456789abcdef0123456789abcdef"));
	ck_assert(!media_token_valid(""));
	ck_assert(!media_token_valid(NULL));
	media_key_format(key, sizeof(key), 42, MEDIA_POSTER, t);
	ck_assert_str_eq(key, "media/42/poster/0123456789abcdef0123456789abcdef");
	media_key_format(key, sizeof(key), 999999999999999999LL, MEDIA_TRAILER, t);
	ck_assert_str_eq(key, "media/999999999999999999/trailer/0123456789abcdef0123456789abcdef");
}
END_TEST

START_TEST(upload_ids_are_uuids)
{
	ck_assert(media_uuid_valid("8d6d3ef4-93a9-42d3-8aaa-057b0f598f89"));
	ck_assert(media_uuid_valid("8D6D3EF4-93A9-42D3-8AAA-057B0F598F89"));
	ck_assert(!media_uuid_valid("8d6d3ef493a942d38aaa057b0f598f89"));
	ck_assert(!media_uuid_valid("8d6d3ef4-93a9-42d3-8aaa-057b0f598f8"));
	ck_assert(!media_uuid_valid("8d6d3ef4-93a9-42d3-8aaa-057b0f598f899"));
	ck_assert(!media_uuid_valid("8d6d3ef4-93a9-42d3-8aaa_057b0f598f89"));
	ck_assert(!media_uuid_valid("zd6d3ef4-93a9-42d3-8aaa-057b0f598f89"));
	ck_assert(!media_uuid_valid(""));
	ck_assert(!media_uuid_valid(NULL));
}
END_TEST

static Suite *media_suite(void)
{
	Suite *s = suite_create("media_sniff");
	TCase *tc = tcase_create("sniff");
	tcase_add_test(tc, each_type_is_recognised);
	tcase_add_test(tc, matches_only_the_declared_type);
	tcase_add_test(tc, short_or_unknown_bytes_are_nothing);
	suite_add_tcase(s, tc);
	tc = tcase_create("rules");
	tcase_add_test(tc, kinds_parse_and_name);
	tcase_add_test(tc, types_per_kind);
	tcase_add_test(tc, single_put_up_to_the_part_size);
	tcase_add_test(tc, parts_grow_in_whole_mib_past_1000);
	tcase_add_test(tc, tokens_and_keys);
	tcase_add_test(tc, upload_ids_are_uuids);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(media_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
