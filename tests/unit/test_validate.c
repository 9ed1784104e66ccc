/* The request-body validator (src/http/validate.c): strings holding NUL
 * characters (\u0000, which http_json_body lets through) are refused on
 * their own field, in our words; other strings pass as before. No server:
 * bodies are parsed here with the flags http_json_body uses. */
#include <check.h>
#include <jansson.h>
#include <string.h>

#include "cinema/validate.h"

#define NUL_MESSAGE "must not contain NUL characters"

static json_t *body;
static struct validator v;

static void setup(void)
{
	body = NULL;
	memset(&v, 0, sizeof(v));
}

static void teardown(void)
{
	validator_clear(&v);
	json_decref(body);
}

/* Parses text as http_json_body does and starts a validator on it. */
static void start(const char *text)
{
	json_error_t jerr;
	body = json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	ck_assert_msg(body != NULL, "test body is not JSON: %s", jerr.text);
	validator_init(&v, body);
}

/* The message of the only error, which must be on field. */
static const char *only_error_on(const char *field)
{
	ck_assert_uint_eq(json_array_size(v.errors), 1);
	const json_t *e = json_array_get(v.errors, 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "field")), field);
	return json_string_value(json_object_get(e, "message"));
}

START_TEST(string_with_nul_is_refused_on_its_field)
{
	static const char *const texts[] = {
		"{\"email\":\"a\\u0000@example.com\"}",
		"{\"email\":\"\\u0000\"}",
		"{\"email\":\"a@example.com\\u0000\"}",
		"{\"email\":\"\\u0000a@example.com\"}",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		start(texts[i]);
		ck_assert_ptr_null(validator_string(&v, "email", V_REQUIRED, 0, 254));
		ck_assert(!validator_ok(&v));
		ck_assert_str_eq(only_error_on("email"), NUL_MESSAGE);
		teardown();
		setup();
	}
}
END_TEST

START_TEST(nul_is_refused_before_length)
{
	/* One character plus a NUL would pass a length of 1..2: the NUL is the
	 * error, not the length. */
	start("{\"name\":\"x\\u0000\"}");
	ck_assert_ptr_null(validator_string(&v, "name", V_OPTIONAL, 1, 2));
	ck_assert_str_eq(only_error_on("name"), NUL_MESSAGE);
}
END_TEST

START_TEST(email_with_nul_is_refused)
{
	char out[255];
	start("{\"email\":\"a@example.com\\u0000.evil\"}");
	ck_assert(!validator_email(&v, "email", out, sizeof(out)));
	ck_assert_str_eq(only_error_on("email"), NUL_MESSAGE);
}
END_TEST

START_TEST(password_with_nul_is_refused)
{
	const char *pw = NULL;
	start("{\"password\":\"Popcorn-42!\\u0000tail\"}");
	ck_assert(!validator_password(&v, "password", &pw));
	ck_assert_str_eq(only_error_on("password"), NUL_MESSAGE);
}
END_TEST

START_TEST(each_field_gets_its_own_error)
{
	start("{\"a\":\"\\u0000\",\"b\":\"fine\",\"c\":\"x\\u0000y\"}");
	ck_assert_ptr_null(validator_string(&v, "a", V_REQUIRED, 0, 10));
	ck_assert_str_eq(validator_string(&v, "b", V_REQUIRED, 0, 10), "fine");
	ck_assert_ptr_null(validator_string(&v, "c", V_REQUIRED, 0, 10));
	ck_assert_uint_eq(json_array_size(v.errors), 2);
	const char *fields[] = {"a", "c"};
	for (size_t i = 0; i < 2; i++) {
		const json_t *e = json_array_get(v.errors, i);
		ck_assert_str_eq(json_string_value(json_object_get(e, "field")), fields[i]);
		ck_assert_str_eq(json_string_value(json_object_get(e, "message")), NUL_MESSAGE);
	}
}
END_TEST

START_TEST(strings_without_nul_still_pass)
{
	const char *pw = NULL;
	char out[255];
	start("{\"name\":\"Am\\u00e9lie\",\"email\":\"A@Example.com\",\"password\":\"Popcorn-42!\","
	      "\"n\":3}");
	ck_assert_str_eq(validator_string(&v, "name", V_REQUIRED, 1, 6), "Am\xC3\xA9lie");
	ck_assert(validator_email(&v, "email", out, sizeof(out)));
	ck_assert_str_eq(out, "a@example.com");
	ck_assert(validator_password(&v, "password", &pw));
	ck_assert_str_eq(pw, "Popcorn-42!");
	ck_assert(validator_ok(&v));
	/* Not a string: still its own message. */
	ck_assert_ptr_null(validator_string(&v, "n", V_REQUIRED, 0, 10));
	ck_assert_str_eq(only_error_on("n"), "must be a string");
}
END_TEST

static Suite *validate_suite(void)
{
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("nul");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, string_with_nul_is_refused_on_its_field);
	tcase_add_test(tc, nul_is_refused_before_length);
	tcase_add_test(tc, email_with_nul_is_refused);
	tcase_add_test(tc, password_with_nul_is_refused);
	tcase_add_test(tc, each_field_gets_its_own_error);
	tcase_add_test(tc, strings_without_nul_still_pass);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(validate_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
