/* struct buf: growth, printf, steal, and JSON string escaping. */
#include <check.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/buf.h"

static struct buf b;

static void setup(void)
{
	b = (struct buf)BUF_INIT;
}

static void teardown(void)
{
	buf_free(&b);
}

/* A string of n copies of c, owned by the caller. */
static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* --- append and growth --- */

START_TEST(init_is_empty_without_memory)
{
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
}
END_TEST

START_TEST(append_nothing_gives_empty_string)
{
	buf_append(&b, "", 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(b.data, "");
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(append_str_and_char)
{
	buf_append_str(&b, "abc");
	buf_append_char(&b, 'd');
	buf_append_str(&b, "");
	ck_assert_str_eq(b.data, "abcd");
	ck_assert_uint_eq(b.len, 4);
}
END_TEST

START_TEST(append_keeps_embedded_nul)
{
	buf_append(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_mem_eq(b.data, "a\0b", 4); /* and stays terminated */
}
END_TEST

START_TEST(append_grows_past_initial_capacity)
{
	for (int i = 0; i < 1000; i++)
		buf_append_char(&b, (char)('a' + i % 26));
	ck_assert_uint_eq(b.len, 1000);
	ck_assert_uint_gt(b.cap, b.len);
	ck_assert_int_eq(b.data[1000], '\0');
	ck_assert_int_eq(b.data[0], 'a');
	ck_assert_int_eq(b.data[999], 'a' + 999 % 26);
}
END_TEST

START_TEST(append_one_large_block)
{
	char *big = repeat('x', 100000);
	buf_append_str(&b, "<");
	buf_append_str(&b, big);
	buf_append_str(&b, ">");
	ck_assert_uint_eq(b.len, 100002);
	ck_assert_int_eq(b.data[0], '<');
	ck_assert_int_eq(memcmp(b.data + 1, big, 100000), 0);
	ck_assert_str_eq(b.data + 100001, ">");
	free(big);
}
END_TEST

START_TEST(reserve_does_not_change_content)
{
	buf_append_str(&b, "keep");
	buf_reserve(&b, 5000);
	ck_assert_uint_ge(b.cap, b.len + 5000 + 1);
	ck_assert_str_eq(b.data, "keep");
}
END_TEST

START_TEST(reserve_on_empty_buf_gives_empty_string)
{
	buf_reserve(&b, 10);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(b.data, "");
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(reset_empties_and_keeps_memory)
{
	buf_append_str(&b, "something");
	size_t cap = b.cap;
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, cap);
	ck_assert_str_eq(b.data, "");
	buf_append_str(&b, "new");
	ck_assert_str_eq(b.data, "new");
}
END_TEST

START_TEST(reset_of_empty_buf_is_harmless)
{
	buf_reset(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(free_leaves_buf_reusable)
{
	buf_append_str(&b, "first");
	buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
	buf_free(&b); /* twice is fine */
	buf_append_str(&b, "second");
	ck_assert_str_eq(b.data, "second");
}
END_TEST

/* --- printf --- */

START_TEST(printf_short)
{
	buf_printf(&b, "x=%d, s=%s", 42, "ok");
	ck_assert_str_eq(b.data, "x=42, s=ok");
	ck_assert_uint_eq(b.len, 10);
}
END_TEST

START_TEST(printf_appends)
{
	buf_append_str(&b, "a");
	buf_printf(&b, "%c", 'b');
	buf_printf(&b, "%u", 12u);
	ck_assert_str_eq(b.data, "ab12");
	ck_assert_uint_eq(b.len, 4);
}
END_TEST

START_TEST(printf_empty_result)
{
	buf_printf(&b, "%s", "");
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(printf_longer_than_stack_buffer)
{
	/* more than 256 bytes goes through the second vsnprintf */
	char *long_s = repeat('y', 300);
	buf_printf(&b, "[%s]%d", long_s, 7);
	ck_assert_uint_eq(b.len, 303);
	ck_assert_uint_eq(strlen(b.data), 303);
	ck_assert_int_eq(b.data[0], '[');
	ck_assert_int_eq(memcmp(b.data + 1, long_s, 300), 0);
	ck_assert_str_eq(b.data + 301, "]7");
	free(long_s);
}
END_TEST

START_TEST(printf_long_after_existing_content)
{
	char *long_s = repeat('z', 1000);
	buf_append_str(&b, "head:");
	buf_printf(&b, "%s", long_s);
	buf_append_str(&b, ":tail");
	ck_assert_uint_eq(b.len, 1010);
	ck_assert_int_eq(memcmp(b.data, "head:", 5), 0);
	ck_assert_int_eq(memcmp(b.data + 5, long_s, 1000), 0);
	ck_assert_str_eq(b.data + 1005, ":tail");
	free(long_s);
}
END_TEST

START_TEST(printf_at_stack_buffer_boundary)
{
	/* 255 bytes fit the 256-byte stack buffer with its NUL; 256 do not */
	for (size_t n = 254; n <= 258; n++) {
		char *s = repeat('q', n);
		buf_reset(&b);
		buf_printf(&b, "%s", s);
		ck_assert_uint_eq(b.len, n);
		ck_assert_str_eq(b.data, s);
		free(s);
	}
}
END_TEST

/* --- steal --- */

START_TEST(steal_empty_buf_gives_empty_string)
{
	size_t len = 99;
	char *s = buf_steal(&b, &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(b.data);
	free(s);
}
END_TEST

START_TEST(steal_hands_over_data)
{
	buf_append_str(&b, "owned");
	size_t len = 0;
	char *s = buf_steal(&b, &len);
	ck_assert_str_eq(s, "owned");
	ck_assert_uint_eq(len, 5);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
	free(s);
}
END_TEST

START_TEST(steal_without_length)
{
	buf_append_str(&b, "x");
	char *s = buf_steal(&b, NULL);
	ck_assert_str_eq(s, "x");
	free(s);
}
END_TEST

START_TEST(steal_after_reset_gives_empty_string)
{
	buf_append_str(&b, "gone");
	buf_reset(&b);
	char *s = buf_steal(&b, NULL);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

/* --- JSON escaping --- */

static const char *esc(const char *s, size_t n)
{
	buf_reset(&b);
	buf_append_json_escaped(&b, s, n);
	return b.data;
}

#define ESC(lit) esc(lit, sizeof(lit) - 1)

/* The escaped buffer, minus every U+FFFD, must be `rest`: the bad bytes were
 * replaced, none leaked through, the good ones around them kept. How many
 * U+FFFD one bad sequence becomes is not part of the contract. */
static void assert_replaced(const char *out, const char *rest)
{
	static const char fffd[] = "\xEF\xBF\xBD";
	char kept[64] = "";
	size_t k = 0;
	ck_assert_ptr_nonnull(strstr(out, fffd));
	for (const char *p = out; *p;) {
		if (strncmp(p, fffd, 3) == 0) {
			p += 3;
			continue;
		}
		ck_assert_uint_lt(k, sizeof(kept) - 1);
		kept[k++] = *p++;
	}
	kept[k] = '\0';
	ck_assert_str_eq(kept, rest);
}

/* out, quoted, must load as a JSON string (jansson checks UTF-8). */
static void assert_valid_json_string(const char *out)
{
	struct buf q = BUF_INIT;
	json_error_t jerr;
	buf_printf(&q, "\"%s\"", out);
	json_t *j = json_loads(q.data, JSON_DECODE_ANY, &jerr);
	ck_assert_msg(j != NULL, "not a JSON string: %s (%s)", q.data, jerr.text);
	ck_assert(json_is_string(j));
	json_decref(j);
	buf_free(&q);
}

START_TEST(escape_plain_ascii_unchanged)
{
	ck_assert_str_eq(ESC("Hello, world / 1 + 1 = 2 ~"), "Hello, world / 1 + 1 = 2 ~");
}
END_TEST

START_TEST(escape_empty)
{
	ck_assert_str_eq(ESC(""), "");
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(escape_quote_and_backslash)
{
	ck_assert_str_eq(ESC("say \"hi\" \\o/"), "say \\\"hi\\\" \\\\o/");
}
END_TEST

START_TEST(escape_common_control_chars)
{
	ck_assert_str_eq(ESC("a\nb\rc\td"), "a\\nb\\rc\\td");
}
END_TEST

START_TEST(escape_other_control_chars_as_u00xx)
{
	ck_assert_str_eq(ESC("\x01"), "\\u0001");
	ck_assert_str_eq(ESC("\b\f"), "\\u0008\\u000c");
	ck_assert_str_eq(ESC("\x1f"), "\\u001f");
}
END_TEST

START_TEST(escape_nul_inside_length)
{
	ck_assert_str_eq(ESC("a\0b"), "a\\u0000b");
}
END_TEST

START_TEST(escape_stops_at_length)
{
	ck_assert_str_eq(esc("abcdef", 3), "abc");
}
END_TEST

START_TEST(escape_appends_to_existing_content)
{
	buf_append_str(&b, "{\"k\":\"");
	buf_append_json_escaped(&b, "v\"", 2);
	buf_append_str(&b, "\"}");
	ck_assert_str_eq(b.data, "{\"k\":\"v\\\"\"}");
}
END_TEST

START_TEST(escape_keeps_del)
{
	/* RFC 8259 requires escaping only below U+0020 */
	ck_assert_str_eq(ESC("\x7f"), "\x7f");
}
END_TEST

START_TEST(escape_keeps_valid_multibyte_utf8)
{
	/* é (2 bytes), € (3), U+FFFF (3), 😀 (4), U+10FFFF (4) */
	const char s[] = "caf\xC3\xA9 \xE2\x82\xAC \xEF\xBF\xBF \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF";
	ck_assert_str_eq(ESC(s), s);
}
END_TEST

START_TEST(escape_replaces_lone_continuation_byte)
{
	assert_replaced(ESC("a\x80z"), "az");
}
END_TEST

START_TEST(escape_replaces_bytes_never_in_utf8)
{
	assert_replaced(ESC("a\xFFz"), "az");
	assert_replaced(ESC("a\xC0z"), "az");
	assert_replaced(ESC("a\xF5\x80\x80\x80z"), "az");
}
END_TEST

START_TEST(escape_replaces_overlong_encodings)
{
	assert_replaced(ESC("a\xC0\xAFz"), "az");	  /* '/' in 2 bytes */
	assert_replaced(ESC("a\xC1\xBFz"), "az");	  /* 0x7F in 2 bytes */
	assert_replaced(ESC("a\xE0\x80\xAFz"), "az");	  /* '/' in 3 bytes */
	assert_replaced(ESC("a\xF0\x80\x80\xAFz"), "az"); /* '/' in 4 bytes */
}
END_TEST

START_TEST(escape_replaces_surrogates)
{
	assert_replaced(ESC("a\xED\xA0\x80z"), "az"); /* U+D800 */
	assert_replaced(ESC("a\xED\xBF\xBFz"), "az"); /* U+DFFF */
}
END_TEST

START_TEST(escape_replaces_code_points_above_max)
{
	assert_replaced(ESC("a\xF4\x90\x80\x80z"), "az"); /* U+110000 */
}
END_TEST

START_TEST(escape_replaces_truncated_sequence)
{
	assert_replaced(ESC("a\xE2\x82z"), "az");
	assert_replaced(ESC("a\xE2\x82"), "a");	   /* cut at the end */
	assert_replaced(esc("a\xC3\xA9", 2), "a"); /* cut by the length */
}
END_TEST

START_TEST(escape_output_of_bad_input_is_valid_json)
{
	assert_valid_json_string(ESC("\"\\\x01\x80\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80\xE2\x82"));
}
END_TEST

START_TEST(escape_round_trips_every_ascii_byte)
{
	char in[128];
	for (int i = 1; i < 128; i++)
		in[i - 1] = (char)i;
	in[127] = '\0';
	esc(in, 127);

	struct buf q = BUF_INIT;
	json_error_t jerr;
	buf_printf(&q, "\"%s\"", b.data);
	json_t *j = json_loads(q.data, JSON_DECODE_ANY, &jerr);
	ck_assert_msg(j != NULL, "%s", jerr.text);
	ck_assert_str_eq(json_string_value(j), in);
	json_decref(j);
	buf_free(&q);
}
END_TEST

/* PostgreSQL's json text, compacted: blanks outside strings go, strings
 * (blanks, escaped quotes, backslashes) stay byte for byte. */
/* The byte-by-byte rule the compaction must follow (in a string, a
 * backslash takes the next byte with it). */
static size_t compact_reference(const char *in, size_t n, char *out)
{
	size_t o = 0;
	bool in_string = false;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (in_string) {
			if (c == '\\' && i + 1 < n)
				out[o++] = in[i++];
			else if (c == '"')
				in_string = false;
		} else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
			continue;
		} else if (c == '"') {
			in_string = true;
		}
		out[o++] = in[i];
	}
	return o;
}

START_TEST(json_compact_matches_the_byte_rule)
{
	static const char alphabet[] = "\"\\ :,a\n";
	char in[64], want[64];
	unsigned seed = 12345;
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(round % 40);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		size_t wn = compact_reference(in, n, want);
		buf_reset(&b);
		buf_append_json_compact(&b, in, n);
		ck_assert_uint_eq(b.len, wn);
		ck_assert_mem_eq(b.data, want, wn);
	}
}
END_TEST

START_TEST(json_compact_drops_blanks_outside_strings)
{
	static const char *const cases[][2] = {
		{"{\"id\" : 1, \"name\" : \"a , b : c\"}", "{\"id\":1,\"name\":\"a , b : c\"}"},
		{"[1, 2, {\"a\" : [3, 4]}]", "[1,2,{\"a\":[3,4]}]"},
		{"{\"q\" : \"say \\\"hi\\\" , ok\", \"b\" : \"\\\\\", \"c\" : 1}",
		 "{\"q\":\"say \\\"hi\\\" , ok\",\"b\":\"\\\\\",\"c\":1}"},
		{"[\n {\"t\" :\t\"x\\ny\"}\r\n]", "[{\"t\":\"x\\ny\"}]"},
		{"{\"id\":1}", "{\"id\":1}"},
		{"[\"a\\\\\" , \"b \\\\\\\" c\"]", "[\"a\\\\\",\"b \\\\\\\" c\"]"},
		{"{\"a\" : \"x y", "{\"a\":\"x y"},
		{"", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		buf_append_str(&b, "<");
		buf_append_json_compact(&b, cases[i][0], strlen(cases[i][0]));
		buf_append_str(&b, ">");
		char want[256];
		snprintf(want, sizeof(want), "<%s>", cases[i][1]);
		ck_assert_str_eq(b.data, want);
		ck_assert_uint_eq(b.len, strlen(want));
	}
}
END_TEST

static Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");

	TCase *tc = tcase_create("append");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, init_is_empty_without_memory);
	tcase_add_test(tc, append_nothing_gives_empty_string);
	tcase_add_test(tc, append_str_and_char);
	tcase_add_test(tc, append_keeps_embedded_nul);
	tcase_add_test(tc, append_grows_past_initial_capacity);
	tcase_add_test(tc, append_one_large_block);
	tcase_add_test(tc, reserve_does_not_change_content);
	tcase_add_test(tc, reserve_on_empty_buf_gives_empty_string);
	tcase_add_test(tc, reset_empties_and_keeps_memory);
	tcase_add_test(tc, reset_of_empty_buf_is_harmless);
	tcase_add_test(tc, free_leaves_buf_reusable);
	suite_add_tcase(s, tc);

	tc = tcase_create("printf");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, printf_short);
	tcase_add_test(tc, printf_appends);
	tcase_add_test(tc, printf_empty_result);
	tcase_add_test(tc, printf_longer_than_stack_buffer);
	tcase_add_test(tc, printf_long_after_existing_content);
	tcase_add_test(tc, printf_at_stack_buffer_boundary);
	suite_add_tcase(s, tc);

	tc = tcase_create("steal");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, steal_empty_buf_gives_empty_string);
	tcase_add_test(tc, steal_hands_over_data);
	tcase_add_test(tc, steal_without_length);
	tcase_add_test(tc, steal_after_reset_gives_empty_string);
	suite_add_tcase(s, tc);

	tc = tcase_create("json_escape");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, escape_plain_ascii_unchanged);
	tcase_add_test(tc, escape_empty);
	tcase_add_test(tc, escape_quote_and_backslash);
	tcase_add_test(tc, escape_common_control_chars);
	tcase_add_test(tc, escape_other_control_chars_as_u00xx);
	tcase_add_test(tc, escape_nul_inside_length);
	tcase_add_test(tc, escape_stops_at_length);
	tcase_add_test(tc, escape_appends_to_existing_content);
	tcase_add_test(tc, escape_keeps_del);
	tcase_add_test(tc, escape_keeps_valid_multibyte_utf8);
	tcase_add_test(tc, escape_replaces_lone_continuation_byte);
	tcase_add_test(tc, escape_replaces_bytes_never_in_utf8);
	tcase_add_test(tc, escape_replaces_overlong_encodings);
	tcase_add_test(tc, escape_replaces_surrogates);
	tcase_add_test(tc, escape_replaces_code_points_above_max);
	tcase_add_test(tc, escape_replaces_truncated_sequence);
	tcase_add_test(tc, escape_output_of_bad_input_is_valid_json);
	tcase_add_test(tc, escape_round_trips_every_ascii_byte);
	tcase_add_test(tc, json_compact_drops_blanks_outside_strings);
	tcase_add_test(tc, json_compact_matches_the_byte_rule);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(buf_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
