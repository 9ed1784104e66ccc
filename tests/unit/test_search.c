/* Catalog search text: UTF-8 checking, word separators and the to_tsquery
 * input built from free text. No database: tests/catalog/test_movies.c
 * runs the same texts through PostgreSQL. */
#include <check.h>
#include <string.h>

#include "catalog/search.h"

static char out[512];

/* The tsquery input of s with a 512-byte buffer ("" when no word). */
static const char *tsq(const char *s)
{
	memset(out, 'x', sizeof(out));
	if (!search_to_tsquery(s, out, sizeof(out)))
		ck_assert_str_eq(out, "");
	return out;
}

START_TEST(length_counts_characters)
{
	ck_assert_int_eq(search_utf8_length(""), 0);
	ck_assert_int_eq(search_utf8_length("abc"), 3);
	ck_assert_int_eq(search_utf8_length("Am\xC3\xA9lie"), 6);
	ck_assert_int_eq(search_utf8_length("a\xE3\x80\x80"
					    "b"),
			 3);
	ck_assert_int_eq(search_utf8_length("\xF0\x9F\x8E\xAC"), 1);
	ck_assert_int_eq(search_utf8_length("\xF4\x8F\xBF\xBF"), 1); /* U+10FFFF */
}
END_TEST

START_TEST(length_refuses_invalid_utf8)
{
	/* bytes that start no character, cut sequences, a stray continuation
	 * byte, overlong forms, a surrogate, a code point past U+10FFFF */
	static const char *const bad[] = {
		"\xFF",
		"ab\xC3",
		"\x80",
		"\xC0\xAF",
		"\xE0\x80\xAF",
		"\xED\xA0\x80",
		"\xF4\x90\x80\x80",
		"\xF5\x80\x80\x80",
		"\xE3\x80",
		"\xE3\x80"
		"a",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(search_utf8_length(bad[i]) == -1, "bad[%zu] accepted", i);
}
END_TEST

START_TEST(separators_cover_unicode_spaces_and_punctuation)
{
	static const unsigned long sep[] = {
		' ',	'\t',	'\n',	'!',	'"',	'#',	'&',	'\'',	'(',	')',
		'*',	':',	'<',	'@',	'[',	'\\',	']',	'^',	'_',	'`',
		'{',	'|',	'}',	'~',	0x7F,	0x85,	0xA0,	0xAB,	0xBF,	0xD7,
		0x1680, 0x2000, 0x2003, 0x200A, 0x200B, 0x200D, 0x2014, 0x201C, 0x2026, 0x2028,
		0x2029, 0x202F, 0x205F, 0x2060, 0x3000, 0x3001, 0x3002, 0x300C, 0x30FB, 0xFEFF,
		0xFF01, 0xFF0C, 0xFF1F, 0xFF5E, 0xFFE5, 0xFFFD,
	};
	static const unsigned long word[] = {
		'a',	'Z',	'0',	'9',	 0xAA,	  0xB2,	   0xB5,     0xBA,   0xC9,
		0xE9,	0x0301, 0x0416, 0x05D0,	 0x0663,  0x3005,  0x3042,   0x30A2, 0x4E2D,
		0xAC00, 0xFF21, 0xFF41, 0x1F3AC, 0x1F600, 0x20000, 0x10FFFF,
	};
	for (size_t i = 0; i < sizeof(sep) / sizeof(sep[0]); i++)
		ck_assert_msg(search_is_separator(sep[i]), "U+%04lX is no separator", sep[i]);
	for (size_t i = 0; i < sizeof(word) / sizeof(word[0]); i++)
		ck_assert_msg(!search_is_separator(word[i]), "U+%04lX is a separator", word[i]);
}
END_TEST

START_TEST(words_are_quoted_prefixes)
{
	ck_assert_str_eq(tsq("godfather"), "'godfather':*");
	ck_assert_str_eq(tsq("  The   Godfather "), "'The':* & 'Godfather':*");
	ck_assert_str_eq(tsq("Am\xC3\xA9lie"), "'Am\xC3\xA9lie':*");
	ck_assert_str_eq(tsq(""), "");
	ck_assert_str_eq(tsq("!!! ... ---"), "");
}
END_TEST

START_TEST(unicode_spaces_separate_words)
{
	ck_assert_str_eq(tsq("a\xE3\x80\x80"
			     "b"),
			 "'a':* & 'b':*"); /* U+3000 */
	ck_assert_str_eq(tsq("a\xE2\x80\x83"
			     "b"),
			 "'a':* & 'b':*"); /* U+2003 */
	ck_assert_str_eq(tsq("a\xC2\xA0"
			     "b"),
			 "'a':* & 'b':*"); /* NBSP */
	ck_assert_str_eq(tsq("a\xE2\x80\x8B"
			     "b"),
			 "'a':* & 'b':*"); /* zero width space */
	ck_assert_str_eq(tsq("\xEF\xBB\xBF"
			     "a"),
			 "'a':*"); /* BOM */
	ck_assert_str_eq(tsq("\xE3\x80\x8C\xE4\xB8\x83\xE4\xBA\xBA\xE3\x80\x8D"),
			 "'\xE4\xB8\x83\xE4\xBA\xBA':*"); /* 「七人」 */
	ck_assert_str_eq(tsq("a\xEF\xBC\x81"
			     "b"),
			 "'a':* & 'b':*"); /* fullwidth ! */
}
END_TEST

START_TEST(query_syntax_is_never_passed_through)
{
	ck_assert_str_eq(tsq("a & b | !c:*"), "'a':* & 'b':* & 'c':*");
	ck_assert_str_eq(tsq("it's \"x\" a\\b <-> (c)"),
			 "'it':* & 's':* & 'x':* & 'a':* & 'b':* & 'c':*");
	ck_assert_str_eq(tsq("'"), "");
	ck_assert_str_eq(tsq("\\"), "");
	ck_assert_str_eq(tsq("''':*"), "");
}
END_TEST

START_TEST(marks_and_emoji_stay_in_words)
{
	/* e + U+0301 combining acute; a film clapper between letters */
	ck_assert_str_eq(tsq("ame\xCC\x81lie"), "'ame\xCC\x81lie':*");
	ck_assert_str_eq(tsq("\xCC\x81"), "'\xCC\x81':*");
	ck_assert_str_eq(tsq("star\xF0\x9F\x8E\xAC"
			     "wars"),
			 "'star\xF0\x9F\x8E\xAC"
			 "wars':*");
	ck_assert_str_eq(tsq("\xF0\x9F\x98\x80"), "'\xF0\x9F\x98\x80':*");
}
END_TEST

START_TEST(invalid_bytes_separate_words)
{
	/* The handler refuses them first; the splitter never copies them. */
	ck_assert_str_eq(tsq("a\xFF"
			     "b\xC3"),
			 "'a':* & 'b':*");
}
END_TEST

START_TEST(at_most_eight_words)
{
	ck_assert_str_eq(tsq("a b c d e f g h i j"),
			 "'a':* & 'b':* & 'c':* & 'd':* & 'e':* & 'f':* & 'g':* & 'h':*");
}
END_TEST

START_TEST(long_words_are_cut_on_characters)
{
	char small[16];
	/* 'abc':* is 8 bytes with the NUL: a 10-byte buffer takes abc, not 'd'. */
	ck_assert(search_to_tsquery("abc d", small, 10));
	ck_assert_str_eq(small, "'abc':*");
	ck_assert(search_to_tsquery("abcdefgh", small, 10));
	ck_assert_str_eq(small, "'abcde':*");
	/* é is two bytes: never half of it. */
	ck_assert(search_to_tsquery("\xC3\xA9\xC3\xA9\xC3\xA9", small, 10));
	ck_assert_str_eq(small, "'\xC3\xA9\xC3\xA9':*");
	ck_assert(!search_to_tsquery("abc", small, 5));
	ck_assert_str_eq(small, "");
	/* Every word of 200 four-byte characters fits the handler's buffer. */
	char text[801] = "";
	for (int i = 0; i < 200; i++)
		strcat(text, "\xF0\x9F\x8E\xAC");
	ck_assert(search_to_tsquery(text, out, sizeof(out)));
	ck_assert_uint_lt(strlen(out), sizeof(out));
	ck_assert_uint_eq(strlen(out) % 4, 0); /* 4 bytes of '':* around whole characters */
}
END_TEST

static Suite *search_suite(void)
{
	Suite *s = suite_create("search");
	TCase *tc = tcase_create("utf8");
	tcase_add_test(tc, length_counts_characters);
	tcase_add_test(tc, length_refuses_invalid_utf8);
	tcase_add_test(tc, separators_cover_unicode_spaces_and_punctuation);
	suite_add_tcase(s, tc);

	tc = tcase_create("tsquery");
	tcase_add_test(tc, words_are_quoted_prefixes);
	tcase_add_test(tc, unicode_spaces_separate_words);
	tcase_add_test(tc, query_syntax_is_never_passed_through);
	tcase_add_test(tc, marks_and_emoji_stay_in_words);
	tcase_add_test(tc, invalid_bytes_separate_words);
	tcase_add_test(tc, at_most_eight_words);
	tcase_add_test(tc, long_words_are_cut_on_characters);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(search_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
