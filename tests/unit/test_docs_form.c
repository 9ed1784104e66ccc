/* The docs sign-in form: finding a field and decoding its value
 * (src/docs/form.c). */
#include <check.h>
#include <string.h>

#include "docs/form.h"

static char out[64];

/* The decoded value of name in body, or NULL when docs_form_field refuses. */
static const char *field(const char *body, const char *name)
{
	memset(out, 'x', sizeof(out));
	return docs_form_field(body, name, out, sizeof(out)) ? out : NULL;
}

START_TEST(finds_the_first_field_of_that_name)
{
	ck_assert_str_eq(field("email=a%40b.c&password=p", "email"), "a@b.c");
	ck_assert_str_eq(field("password=p&email=a", "email"), "a");
	ck_assert_str_eq(field("xemail=1&email=2&email=3", "email"), "2");
	ck_assert_str_eq(field("email=", "email"), "");
	ck_assert_ptr_null(field("emailx=1&email", "email"));
	ck_assert_ptr_null(field("", "email"));
	ck_assert_ptr_null(field(NULL, "email"));
}
END_TEST

START_TEST(decodes_plus_and_percent_escapes)
{
	ck_assert_str_eq(field("p=a+b%2Bc%2bd%7e", "p"), "a b+c+d~");
	ck_assert_str_eq(field("p=%C3%A9", "p"), "\xC3\xA9");
}
END_TEST

/* Found by fuzz/fuzz_docs_form.c: strtol read "%+4", "%-1", "% f" and
 * "%0x" as escapes. A "%" without two hex digits stays as written, and so
 * does %00 (no NUL inside a value). */
START_TEST(keeps_what_is_not_an_escape)
{
	static const char *const kept[] = {"%-1", "% f", "%0x", "%00", "%", "%4", "%zz"};
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		char body[16];
		strcpy(body, "p=");
		strcat(body, kept[i]);
		ck_assert_str_eq(field(body, "p"), kept[i]);
	}
	ck_assert_str_eq(field("p=%4&q=1", "p"), "%4");
	ck_assert_str_eq(field("p=%+4", "p"), "% 4"); /* the + is still a space */
}
END_TEST

START_TEST(refuses_a_value_too_long)
{
	char body[128] = "p=";
	memset(body + 2, 'a', sizeof(out));
	body[2 + sizeof(out)] = '\0';
	ck_assert_ptr_null(field(body, "p"));
	body[2 + sizeof(out) - 1] = '\0';
	ck_assert_uint_eq(strlen(field(body, "p")), sizeof(out) - 1);
}
END_TEST

static Suite *docs_form_suite(void)
{
	Suite *s = suite_create("docs_form");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, finds_the_first_field_of_that_name);
	tcase_add_test(tc, decodes_plus_and_percent_escapes);
	tcase_add_test(tc, keeps_what_is_not_an_escape);
	tcase_add_test(tc, refuses_a_value_too_long);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(docs_form_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
