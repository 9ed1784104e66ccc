/* The ?cursor= of keyset pages (src/catalog/cursor.c): made and read back,
 * and every value that PostgreSQL would refuse for the sort's type refused
 * here (a refused cursor answers 422; one that reached the statement would
 * fail it). No database: tests/catalog/test_movies.c pages with them. */
#include <check.h>
#include <sodium.h>
#include <string.h>

#include "catalog/cursor.h"

static char text[MOVIE_CURSOR_MAX];
static struct movie_cursor cur;
static const char *why;

/* Makes a cursor of (sort, tier, value, id) and reads it back for sort
 * with key type type. */
static bool round_trip(const char *sort, int tier, const char *value, long long id,
		       const char *type)
{
	memset(&cur, 0, sizeof(cur));
	why = NULL;
	ck_assert(movie_cursor_make(sort, tier, value, id, text, sizeof(text)));
	return movie_cursor_read(text, sort, type, &cur, &why);
}

START_TEST(reads_back_what_it_made)
{
	ck_assert(round_trip("name", 0, "Jaws", 42, "text"));
	ck_assert_str_eq(cur.value, "Jaws");
	ck_assert_int_eq(cur.id, 42);
	ck_assert_int_eq(cur.tier, 0);
	ck_assert(round_trip("", 1, "12.5", 7, "float8"));
	ck_assert_int_eq(cur.tier, 1);
	ck_assert_str_eq(cur.value, "12.5");
	ck_assert(round_trip("-rating", 0, "-Infinity", 3, "float8"));
	ck_assert_str_eq(cur.value, "-Infinity");
	ck_assert(round_trip("price", 0, "9.99", 3, "numeric"));
	ck_assert_str_eq(cur.value, "9.99");
	ck_assert(round_trip("year", 0, "-12", 3, "int"));
	ck_assert_str_eq(cur.value, "-12");
	ck_assert(round_trip("created_at", 0, "2024-02-29T23:59:59.999999Z", 3, "timestamptz"));
	ck_assert_str_eq(cur.value, "2024-02-29T23:59:59.999999Z");
}
END_TEST

START_TEST(other_sort_or_tier_is_refused)
{
	ck_assert(movie_cursor_make("name", 0, "Jaws", 1, text, sizeof(text)));
	ck_assert(!movie_cursor_read(text, "-name", "text", &cur, &why));
	ck_assert_ptr_nonnull(strstr(why, "another sort"));
	/* tier 1 only in relevance order */
	ck_assert(!round_trip("name", 1, "Jaws", 1, "text"));
	ck_assert(!round_trip("", 2, "1", 1, "float8"));
	ck_assert(!round_trip("", -1, "1", 1, "float8"));
	ck_assert(!round_trip("name", 0, "Jaws", 0, "text"));
	ck_assert(!round_trip("name", 0, "Jaws", 1000000000000000000LL, "text"));
}
END_TEST

START_TEST(values_postgresql_refuses_are_refused)
{
	/* timestamps: a real instant, in the one shape to_char writes */
	ck_assert(!round_trip("created_at", 0, "2026-02-31T00:00:00.000000Z", 1, "timestamptz"));
	ck_assert(!round_trip("created_at", 0, "2026-02-28T24:00:00.000000Z", 1, "timestamptz"));
	ck_assert(!round_trip("created_at", 0, "2026-02-28T00:00:60.000000Z", 1, "timestamptz"));
	ck_assert(!round_trip("created_at", 0, "0000-01-01T00:00:00.000000Z", 1, "timestamptz"));
	ck_assert(!round_trip("created_at", 0, "2026-02-28 00:00:00", 1, "timestamptz"));
	ck_assert(round_trip("created_at", 0, "0001-01-01T00:00:00.000000Z", 1, "timestamptz"));
	/* the second whose time_t is -1 is a real instant */
	ck_assert(round_trip("created_at", 0, "1969-12-31T23:59:59.500000Z", 1, "timestamptz"));
	/* int */
	ck_assert(!round_trip("year", 0, "2147483648", 1, "int"));
	ck_assert(!round_trip("year", 0, "+1", 1, "int"));
	ck_assert(!round_trip("year", 0, " 1", 1, "int"));
	ck_assert(!round_trip("year", 0, "1x", 1, "int"));
	ck_assert(!round_trip("year", 0, "", 1, "int"));
	/* numeric(10, 2) */
	ck_assert(!round_trip("price", 0, "1e3", 1, "numeric"));
	ck_assert(!round_trip("price", 0, "123456789", 1, "numeric"));
	ck_assert(!round_trip("price", 0, "1.234", 1, "numeric"));
	ck_assert(!round_trip("price", 0, "", 1, "numeric"));
	/* float8: finite, or +/-Infinity; normalised to text that reads back */
	ck_assert(!round_trip("imdb", 0, "nan", 1, "float8"));
	ck_assert(!round_trip("imdb", 0, "1e999", 1, "float8"));
	ck_assert(!round_trip("imdb", 0, "inf", 1, "float8"));
	ck_assert(!round_trip("imdb", 0, " 1", 1, "float8"));
	ck_assert(round_trip("imdb", 0, "0x10", 1, "float8"));
	ck_assert_str_eq(cur.value, "16");
}
END_TEST

/* The longest name (300 characters of 4 bytes, or 300 that JSON escapes as
 * \u00XX) fits both the cursor text and the value buffer. */
START_TEST(longest_names_fit)
{
	char name[300 * 4 + 1];
	for (int i = 0; i < 300; i++)
		memcpy(name + 4 * i, "\xF0\x9F\x8E\xAC", 4);
	name[sizeof(name) - 1] = '\0';
	ck_assert(round_trip("name", 0, name, 999999999999999999LL, "text"));
	ck_assert_str_eq(cur.value, name);
	memset(name, '\x01', 300);
	name[300] = '\0';
	ck_assert(round_trip("-name", 0, name, 1, "text"));
	ck_assert_str_eq(cur.value, name);
	memset(name, '"', 300);
	ck_assert(round_trip("-name", 0, name, 1, "text"));
	ck_assert_str_eq(cur.value, name);
}
END_TEST

START_TEST(garbage_is_refused)
{
	static const char *const bad[] = {
		"",
		"nonsense!",
		"W10",				/* "[]" */
		"WyJuYW1lIiwwLCJKYXdzIiwxLDJd", /* ["name",0,"Jaws",1,2] */
		"eyJhIjoxfQ",			/* {"a":1} */
		NULL};
	for (int i = 0; bad[i]; i++)
		ck_assert_msg(!movie_cursor_read(bad[i], "name", "text", &cur, &why), "%s", bad[i]);
	/* longer than any cursor */
	static char big[5000];
	memset(big, 'A', sizeof(big) - 1);
	ck_assert(!movie_cursor_read(big, "name", "text", &cur, &why));
	/* invalid UTF-8 in the value never reaches PostgreSQL */
	const char *json = "[\"name\",0,\"\xC3\x28\",1]";
	char b64[64];
	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)json, strlen(json),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	ck_assert(!movie_cursor_read(b64, "name", "text", &cur, &why));
}
END_TEST

static Suite *cursor_suite(void)
{
	Suite *s = suite_create("cursor");
	TCase *tc = tcase_create("cursor");
	tcase_add_test(tc, reads_back_what_it_made);
	tcase_add_test(tc, other_sort_or_tier_is_refused);
	tcase_add_test(tc, values_postgresql_refuses_are_refused);
	tcase_add_test(tc, longest_names_fit);
	tcase_add_test(tc, garbage_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cursor_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
