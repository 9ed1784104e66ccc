/* Catalog search text: UTF-8 checking, word separators and the to_tsquery
 * input built from free text. No database: tests/catalog/test_movies.c
 * runs the same texts through PostgreSQL. */
#include <check.h>
#include <stdio.h>
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

/* --- search_parse: web-search syntax --- */

static struct search_query sq;

/* search_parse of s: its tsq, or "-" when there is no search (then every
 * output must be empty). */
static const char *parse(const char *s)
{
	memset(&sq, 'x', sizeof(sq));
	if (!search_parse(s, &sq)) {
		ck_assert_str_eq(sq.tsq, "");
		ck_assert_str_eq(sq.tsq_title, "");
		ck_assert_str_eq(sq.plain, "");
		return "-";
	}
	ck_assert_uint_lt(strlen(sq.tsq), sizeof(sq.tsq));
	ck_assert_uint_lt(strlen(sq.tsq_title), sizeof(sq.tsq_title));
	ck_assert_uint_lt(strlen(sq.plain), sizeof(sq.plain));
	return sq.tsq;
}

/* Checks all three outputs of search_parse(s). */
#define check_parse(s, tsq_, title_, plain_)            \
	do {                                            \
		ck_assert_str_eq(parse(s), tsq_);       \
		ck_assert_str_eq(sq.tsq_title, title_); \
		ck_assert_str_eq(sq.plain, plain_);     \
	} while (0)

START_TEST(parse_words_are_prefixes)
{
	check_parse("casa", "'casa':*", "'casa':*A", "casa");
	check_parse("  The   Godfather ", "'The' & 'Godfather':*", "'The':A & 'Godfather':*A",
		    "the godfather");
	check_parse("AM\xC3\x89LIE", "'AM\xC3\x89LIE':*", "'AM\xC3\x89LIE':*A",
		    "am\xC3\x89lie"); /* only ASCII is lowercased */
	check_parse("a & b | !c:* <-> (d) \\ '", "'a' & 'b' & 'c' & 'd':*",
		    "'a':A & 'b':A & 'c':A & 'd':*A", "a b c d");
}
END_TEST

START_TEST(parse_nothing_to_search)
{
	static const char *const none[] = {
		"",	" ",	     "!!! ... ---", "-",	"- -",		"--",
		"\"\"", "\"\" \"\"", "\"",	    "\" \"",	"-\"\"",	"-\"",
		"-a",	"-a -b",     "-\"a b\"",    "-a or -b", "\xE3\x80\x80", "''':*",
	};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		ck_assert_msg(strcmp(parse(none[i]), "-") == 0, "none[%zu] \"%s\" gave %s", i,
			      none[i], sq.tsq);
}
END_TEST

START_TEST(parse_phrases)
{
	check_parse("\"star wars\"", "'star' <-> 'wars'", "'star':A <-> 'wars':A", "star wars");
	check_parse("\"Star  Wars\" empire", "'Star' <-> 'Wars' & 'empire':*",
		    "'Star':A <-> 'Wars':A & 'empire':*A", "star wars empire");
	/* one word in quotes: a whole word, not a prefix */
	check_parse("\"casa\"", "'casa'", "'casa':A", "casa");
	/* an unclosed quote runs to the end */
	check_parse("empire \"star wars", "'empire':* & 'star' <-> 'wars'",
		    "'empire':*A & 'star':A <-> 'wars':A", "empire star wars");
	/* punctuation inside separates the words of the phrase */
	check_parse(
		"\"star-wars: a (new) hope!\"", "'star' <-> 'wars' <-> 'a' <-> 'new' <-> 'hope'",
		"'star':A <-> 'wars':A <-> 'a':A <-> 'new':A <-> 'hope':A", "star wars a new hope");
	/* no space needed around quotes; empty phrases vanish */
	check_parse("a\"b c\"d", "'a' & 'b' <-> 'c' & 'd':*", "'a':A & 'b':A <-> 'c':A & 'd':*A",
		    "a b c d");
	check_parse("\"\" a \"\"", "'a':*", "'a':*A", "a");
	/* inside quotes, "or" and -word are plain words */
	check_parse("\"war or peace -x\"", "'war' <-> 'or' <-> 'peace' <-> 'x'",
		    "'war':A <-> 'or':A <-> 'peace':A <-> 'x':A", "war or peace x");
	/* curly quotes (phone keyboards) work as the ASCII one, in any pairing */
	check_parse("\xE2\x80\x9Cstar wars\xE2\x80\x9D", "'star' <-> 'wars'",
		    "'star':A <-> 'wars':A", "star wars");
	check_parse("\xE2\x80\x9E"
		    "a b\" c",
		    "'a' <-> 'b' & 'c':*", "'a':A <-> 'b':A & 'c':*A", "a b c");
}
END_TEST

START_TEST(parse_negations)
{
	check_parse("star -wars", "'star':* & !'wars'", "'star':*A & !'wars'", "star");
	check_parse("-wars star", "!'wars' & 'star':*", "!'wars' & 'star':*A", "star");
	check_parse("star -\"the empire\"", "'star':* & !('the' <-> 'empire')",
		    "'star':*A & !('the' <-> 'empire')", "star");
	check_parse("star -\"empire\"", "'star':* & !'empire'", "'star':*A & !'empire'", "star");
	/* only at the start of a word after white space (any) or the start */
	check_parse("spider-man", "'spider' & 'man':*", "'spider':A & 'man':*A", "spider man");
	check_parse("a\t-b\xE3\x80\x80-c", "'a':* & !'b' & !'c'", "'a':*A & !'b' & !'c'", "a");
	check_parse("a (-b)", "'a' & 'b':*", "'a':A & 'b':*A", "a b");
	check_parse("a \"b\"-c", "'a' & 'b' & 'c':*", "'a':A & 'b':A & 'c':*A", "a b c");
	/* a dash not right before a word or quote is punctuation */
	check_parse("a - b", "'a' & 'b':*", "'a':A & 'b':*A", "a b");
	check_parse("a --b", "'a' & 'b':*", "'a':A & 'b':*A", "a b");
	check_parse("a -", "'a':*", "'a':*A", "a");
	check_parse("a -\"\"", "'a':*", "'a':*A", "a");
	/* -or is a negated word, not an operator */
	check_parse("a -or b", "'a' & !'or' & 'b':*", "'a':A & !'or' & 'b':*A", "a b");
	/* other dashes are punctuation (the minus sign U+2212, a symbol of
	 * mathematics, belongs to words as search_is_separator says) */
	check_parse("a \xE2\x80\x94"
		    "b \xE2\x80\x93"
		    "c",
		    "'a' & 'b' & 'c':*", "'a':A & 'b':A & 'c':*A", "a b c");
}
END_TEST

START_TEST(parse_or)
{
	check_parse("a or b", "'a' | 'b':*", "'a':A | 'b':*A", "a b");
	check_parse("a OR b Or c oR d", "'a' | 'b' | 'c' | 'd':*", "'a':A | 'b':A | 'c':A | 'd':*A",
		    "a b c d");
	/* AND binds tighter: the groups are parenthesised */
	check_parse("a b or c d", "('a' & 'b') | ('c' & 'd':*)",
		    "('a':A & 'b':A) | ('c':A & 'd':*A)", "a b c d");
	check_parse("\"star wars\" or trek -voyager", "'star' <-> 'wars' | ('trek':* & !'voyager')",
		    "'star':A <-> 'wars':A | ('trek':*A & !'voyager')", "star wars trek");
	/* leading, trailing or doubled: a word */
	check_parse("or a", "'or' & 'a':*", "'or':A & 'a':*A", "or a");
	check_parse("a or", "'a' & 'or':*", "'a':A & 'or':*A", "a or");
	check_parse("or", "'or':*", "'or':*A", "or");
	check_parse("or or", "'or' & 'or':*", "'or':A & 'or':*A", "or or");
	check_parse("or or or", "'or' | 'or':*", "'or':A | 'or':*A", "or or");
	check_parse("a or or b", "'a' | ('or' & 'b':*)", "'a':A | ('or':A & 'b':*A)", "a or b");
	/* only the word: "ore" and a quoted "or" are words */
	check_parse("a ore b", "'a' & 'ore' & 'b':*", "'a':A & 'ore':A & 'b':*A", "a ore b");
	check_parse("a \"or\" b", "'a' & 'or' & 'b':*", "'a':A & 'or':A & 'b':*A", "a or b");
	check_parse("a, or, b", "'a' | 'b':*", "'a':A | 'b':*A", "a b");
	/* a branch with no positive operand is left out */
	check_parse("a or -b", "'a':*", "'a':*A", "a");
	check_parse("-b or a", "'a':*", "'a':*A", "a");
	check_parse("a or -b or c", "'a' | 'c':*", "'a':A | 'c':*A", "a c");
	check_parse("a or -b c", "'a' | (!'b' & 'c':*)", "'a':A | (!'b' & 'c':*A)", "a c");
	check_parse("a or \"\" b", "'a' | 'b':*", "'a':A | 'b':*A", "a b");
	check_parse("a or \"\"", "'a' & 'or':*", "'a':A & 'or':*A", "a or");
}
END_TEST

START_TEST(parse_at_most_eight_words)
{
	check_parse("a b c d e f g h i j", "'a' & 'b' & 'c' & 'd' & 'e' & 'f' & 'g' & 'h':*",
		    "'a':A & 'b':A & 'c':A & 'd':A & 'e':A & 'f':A & 'g':A & 'h':*A",
		    "a b c d e f g h");
	/* phrase words count, and a phrase is cut at the eighth */
	check_parse("a b c d e f \"g h i\" j", "'a' & 'b' & 'c' & 'd' & 'e' & 'f':* & 'g' <-> 'h'",
		    "'a':A & 'b':A & 'c':A & 'd':A & 'e':A & 'f':*A & 'g':A <-> 'h':A",
		    "a b c d e f g h");
	check_parse("\"a b c d e f g h i\"",
		    "'a' <-> 'b' <-> 'c' <-> 'd' <-> 'e' <-> 'f' <-> 'g' <-> 'h'",
		    "'a':A <-> 'b':A <-> 'c':A <-> 'd':A <-> 'e':A <-> 'f':A <-> 'g':A <-> 'h':A",
		    "a b c d e f g h");
	/* negated words count; "or" operators do not */
	check_parse("a -b c -d e -f g -h i", "'a' & !'b' & 'c' & !'d' & 'e' & !'f' & 'g':* & !'h'",
		    "'a':A & !'b' & 'c':A & !'d' & 'e':A & !'f' & 'g':*A & !'h'", "a c e g");
	check_parse("a or b or c or d or e or f or g or h or i",
		    "'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h':*",
		    "'a':A | 'b':A | 'c':A | 'd':A | 'e':A | 'f':A | 'g':A | 'h':*A",
		    "a b c d e f g h");
	/* an or whose right side is past the cap is dropped */
	check_parse("a b c d e f g h or i", "'a' & 'b' & 'c' & 'd' & 'e' & 'f' & 'g' & 'h':*",
		    "'a':A & 'b':A & 'c':A & 'd':A & 'e':A & 'f':A & 'g':A & 'h':*A",
		    "a b c d e f g h");
	/* eight negations first: the positive word is past the cap */
	ck_assert_str_eq(parse("-a -b -c -d -e -f -g -h i"), "-");
	/* many empty phrases and lone dashes (no words) before a word */
	char text[256] = "";
	for (int i = 0; i < 40; i++)
		strcat(text, "\"\" - ");
	strcat(text, "a");
	check_parse(text, "'a':*", "'a':*A", "a");
}
END_TEST

START_TEST(parse_unicode)
{
	/* emoji and CJK are words; U+3000 and 「」 separate them */
	check_parse("\xF0\x9F\x8E\xAC", "'\xF0\x9F\x8E\xAC':*", "'\xF0\x9F\x8E\xAC':*A",
		    "\xF0\x9F\x8E\xAC");
	check_parse("\xE4\xB8\x83\xE4\xBA\xBA\xE3\x80\x80\xE3\x80\x8C\xE4\xBE\x8D\xE3\x80\x8D",
		    "'\xE4\xB8\x83\xE4\xBA\xBA' & '\xE4\xBE\x8D':*",
		    "'\xE4\xB8\x83\xE4\xBA\xBA':A & '\xE4\xBE\x8D':*A",
		    "\xE4\xB8\x83\xE4\xBA\xBA \xE4\xBE\x8D");
	check_parse("\"\xE4\xB8\x83\xE4\xBA\xBA \xE4\xBE\x8D\" -\xF0\x9F\x98\x80",
		    "'\xE4\xB8\x83\xE4\xBA\xBA' <-> '\xE4\xBE\x8D' & !'\xF0\x9F\x98\x80'",
		    "'\xE4\xB8\x83\xE4\xBA\xBA':A <-> '\xE4\xBE\x8D':A & !'\xF0\x9F\x98\x80'",
		    "\xE4\xB8\x83\xE4\xBA\xBA \xE4\xBE\x8D");
	/* invalid bytes (the handler refuses them first) separate words */
	check_parse("a\xFF"
		    "b\xC3",
		    "'a' & 'b':*", "'a':A & 'b':*A", "a b");
	check_parse("-\xFF"
		    "a",
		    "'a':*", "'a':*A", "a");
}
END_TEST

/* Text of n characters c in buf. */
static char *repeat(char *buf, const char *c, int n)
{
	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		strcat(buf, c);
	return buf;
}

/* The number of characters between quotes in tsq; checks that quotes
 * pair up and no quoted operand starts inside a character. */
static long quoted_chars(const char *tsq)
{
	long n = 0;
	bool in = false;
	for (const char *p = tsq; *p; p++) {
		if (*p == '\'') {
			in = !in;
			if (in)
				ck_assert_int_ne((unsigned char)p[1] & 0xC0, 0x80);
			continue;
		}
		if (in && ((unsigned char)*p & 0xC0) != 0x80)
			n++;
	}
	ck_assert(!in);
	return n;
}

START_TEST(parse_long_inputs_fit)
{
	static const char *const chars[] = {"a", "\xC3\xA9", "\xE4\xB8\x83", "\xF0\x9F\x8E\xAC"};
	static const char *const joins[] = {" ", " or ", " -", "\" \"", " -\""};
	char text[SEARCH_MAX_CHARS * 4 + 1], word[SEARCH_MAX_CHARS * 4 + 1];
	for (size_t c = 0; c < 4; c++) {
		int size = (int)c + 1;
		/* one word of 200 characters: cut to a prefix that fits; plain
		 * keeps it whole */
		repeat(text, chars[c], SEARCH_MAX_CHARS);
		ck_assert_str_ne(parse(text), "-");
		ck_assert_int_eq(quoted_chars(sq.tsq),
				 SEARCH_MAX_CHARS * size <= 519 ? SEARCH_MAX_CHARS : 519 / size);
		ck_assert_str_eq(sq.plain, text);
		/* the same in quotes: whole when it fits, else cut to a prefix */
		text[0] = '"';
		repeat(text + 1, chars[c], SEARCH_MAX_CHARS - 1);
		ck_assert_str_ne(parse(text), "-");
		ck_assert_int_eq(quoted_chars(sq.tsq), (SEARCH_MAX_CHARS - 1) * size <= 519
							       ? SEARCH_MAX_CHARS - 1
							       : 519 / size);
		ck_assert_int_eq(strstr(sq.tsq, "':*") != NULL,
				 (SEARCH_MAX_CHARS - 1) * size > 519);
		/* negated: whole or not at all, so no search either way */
		text[0] = '-';
		ck_assert_str_eq(parse(text), "-");
		/* 8 words of 20-odd characters, and with phrases, negations, or */
		for (size_t j = 0; j < sizeof(joins) / sizeof(joins[0]); j++) {
			repeat(word, chars[c], SEARCH_MAX_CHARS / 8 - (int)strlen(joins[j]));
			strcpy(text, word);
			for (int i = 1; i < 8; i++) {
				strcat(text, joins[j]);
				strcat(text, word);
			}
			ck_assert_int_le(search_utf8_length(text), SEARCH_MAX_CHARS);
			ck_assert_str_ne(parse(text), "-");
			quoted_chars(sq.tsq);
			quoted_chars(sq.tsq_title);
			/* the first word always fits whole */
			ck_assert_msg(sq.tsq[0] == '\'' &&
					      strncmp(sq.tsq + 1, word, strlen(word)) == 0 &&
					      sq.tsq[1 + strlen(word)] == '\'',
				      "%zu %zu: %s", c, j, sq.tsq);
		}
	}
	/* every operator around 8 words of 20 4-byte characters: the positive
	 * words first (400 bytes), then each negation if it fits whole (the
	 * phrase of 160 bytes does not, the word of 80 does) */
	char w20[20 * 4 + 1];
	repeat(w20, "\xF0\x9F\x8E\xAC", 20);
	snprintf(text, sizeof(text), "%s -\"%s %s\" %s or \"%s %s\" -%s %s", w20, w20, w20, w20,
		 w20, w20, w20, w20);
	ck_assert_int_le(search_utf8_length(text), SEARCH_MAX_CHARS);
	ck_assert_str_ne(parse(text), "-");
	ck_assert_int_eq(quoted_chars(sq.tsq), 6 * 20);
	ck_assert_ptr_null(strstr(sq.tsq, "!("));
	ck_assert_ptr_nonnull(strstr(sq.tsq, "!'"));
}
END_TEST

/* A small generator (xorshift64) for the property test. */
static unsigned long long rnd_state = 88172645463325252ULL;
static unsigned long long rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Checks the shape of a tsquery search_parse wrote: quoted non-empty
 * operands with no backslash, outside quotes only the operators it emits,
 * operands and operators alternating, parentheses balanced, at most
 * SEARCH_MAX_WORDS operands, at least one not negated. */
static void check_shape(const char *t, bool title)
{
	int depth = 0, neg_depth = 0, operands = 0, positive = 0;
	bool want_operand = true, neg = false;
	const char *p = t;
	while (*p) {
		if (*p == '\'') {
			ck_assert_msg(want_operand, "operand out of place: %s", t);
			const char *end = strchr(p + 1, '\'');
			ck_assert_msg(end && end > p + 1, "unclosed or empty quote: %s", t);
			ck_assert_msg(!memchr(p + 1, '\\', (size_t)(end - p - 1)), "backslash: %s",
				      t);
			p = end + 1;
			if (title && strncmp(p, ":*A", 3) == 0)
				p += 3;
			else if (title && strncmp(p, ":A", 2) == 0)
				p += 2;
			else if (!title && strncmp(p, ":*", 2) == 0)
				p += 2;
			operands++;
			positive += !neg && !neg_depth;
			neg = false;
			want_operand = false;
		} else if (*p == '!') {
			ck_assert_msg(want_operand && !neg, "! out of place: %s", t);
			if (p[1] == '(')
				neg_depth = depth + 1;
			else
				neg = true;
			p++;
		} else if (*p == '(') {
			ck_assert_msg(want_operand, "( out of place: %s", t);
			depth++;
			p++;
		} else if (*p == ')') {
			ck_assert_msg(!want_operand && depth > 0, ") out of place: %s", t);
			if (neg_depth == depth)
				neg_depth = 0;
			depth--;
			p++;
		} else if (strncmp(p, " & ", 3) == 0 || strncmp(p, " | ", 3) == 0 ||
			   strncmp(p, " <-> ", 5) == 0) {
			ck_assert_msg(!want_operand, "operator out of place: %s", t);
			p += p[1] == '<' ? 5 : 3;
			want_operand = true;
		} else {
			ck_abort_msg("syntax %c outside quotes: %s", *p, t);
		}
	}
	ck_assert_msg(!want_operand && depth == 0, "unfinished: %s", t);
	ck_assert_int_le(operands, SEARCH_MAX_WORDS);
	ck_assert_msg(positive > 0, "no positive operand: %s", t);
}

START_TEST(parse_random_text_is_always_valid)
{
	/* pieces chosen to hit the syntax: quotes, dashes, or, separators of
	 * tsquery and of words, characters of 1 to 4 bytes */
	static const char *const piece[] = {
		"\"",
		"-",
		"-",
		"or",
		"OR",
		" ",
		" ",
		" ",
		"a",
		"b",
		"xyz",
		"\xC3\xA9",
		"\xE4\xB8\x83",
		"\xF0\x9F\x8E\xAC",
		"\xE3\x80\x80",
		"\xE2\x80\x9C",
		"\xE2\x80\x9D",
		"'",
		"\\",
		"!",
		"(",
		")",
		":",
		"*",
		"&",
		"|",
		"<",
		">",
		"\t",
	};
	char text[SEARCH_MAX_CHARS * 4 + 1];
	for (int round = 0; round < 20000; round++) {
		size_t n = 0;
		long chars = 0, want = (long)(rnd() % (SEARCH_MAX_CHARS + 1));
		while (chars < want) {
			const char *pc = piece[rnd() % (sizeof(piece) / sizeof(piece[0]))];
			long len = search_utf8_length(pc);
			if (chars + len > SEARCH_MAX_CHARS)
				break;
			memcpy(text + n, pc, strlen(pc));
			n += strlen(pc);
			chars += len;
		}
		text[n] = '\0';
		memset(&sq, 'x', sizeof(sq));
		if (!search_parse(text, &sq)) {
			ck_assert_str_eq(sq.tsq, "");
			continue;
		}
		check_shape(sq.tsq, false);
		check_shape(sq.tsq_title, true);
		ck_assert_uint_lt(strlen(sq.plain), sizeof(sq.plain));
		ck_assert_uint_gt(strlen(sq.plain), 0);
	}
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

	tc = tcase_create("parse");
	tcase_add_test(tc, parse_words_are_prefixes);
	tcase_add_test(tc, parse_nothing_to_search);
	tcase_add_test(tc, parse_phrases);
	tcase_add_test(tc, parse_negations);
	tcase_add_test(tc, parse_or);
	tcase_add_test(tc, parse_at_most_eight_words);
	tcase_add_test(tc, parse_unicode);
	tcase_add_test(tc, parse_long_inputs_fit);
	tcase_add_test(tc, parse_random_text_is_always_valid);
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
