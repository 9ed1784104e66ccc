/* Response builders: the error body shape of API.md, JSON bodies, headers,
 * and request body parsing. Bodies are checked by parsing them with jansson,
 * not by comparing bytes. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cinema/http.h"

/* http_header lives in src/http/server.c, behind libmicrohttpd. This test
 * provides its own over a fake connection (req.conn points to NULL-terminated
 * name/value pairs); the linker then never pulls server.o from the static
 * library. If response.c ever needs another server.c symbol, this link fails
 * with a duplicate definition rather than testing the wrong thing. */
const char *http_header(const struct http_request *r, const char *name)
{
	for (const char *const *kv = r->conn; kv && kv[0]; kv += 2)
		if (strcasecmp(kv[0], name) == 0)
			return kv[1];
	return NULL;
}

static struct http_response res;
static struct http_request req;

static void setup(void)
{
	memset(&res, 0, sizeof(res));
	memset(&req, 0, sizeof(req));
	req.body = "";
}

static void teardown(void)
{
	buf_free(&res.body);
	for (int i = 0; i < res.nheaders; i++)
		free(res.headers[i].value);
}

/* The body parsed as a JSON object (owned by the caller). */
static json_t *body_json(void)
{
	json_error_t jerr;
	ck_assert_ptr_nonnull(res.body.data);
	json_t *j = json_loadb(res.body.data, res.body.len, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(j != NULL, "body is not JSON: %s (%s)", res.body.data, jerr.text);
	ck_assert_msg(json_is_object(j), "body is not an object: %s", res.body.data);
	return j;
}

/* The body must be exactly {"detail": <detail>, "code": <code>}. */
static void assert_error_body(const char *code, const char *detail)
{
	json_t *j = body_json();
	ck_assert_uint_eq(json_object_size(j), 2);
	ck_assert_str_eq(json_string_value(json_object_get(j, "code")), code);
	ck_assert_str_eq(json_string_value(json_object_get(j, "detail")), detail);
	json_decref(j);
}

static void assert_json_content_type(void)
{
	ck_assert_ptr_nonnull(res.content_type);
	ck_assert_str_eq(res.content_type, "application/json; charset=utf-8");
}

/* --- http_error, http_errorf --- */

START_TEST(error_with_default_detail)
{
	ck_assert_uint_eq(http_error(&res, ERR_NOT_FOUND, NULL), 404);
	ck_assert_uint_eq(res.status, 404);
	assert_json_content_type();
	assert_error_body("not_found", err_detail(ERR_NOT_FOUND));
}
END_TEST

START_TEST(error_with_own_detail)
{
	ck_assert_uint_eq(http_error(&res, ERR_CONFLICT, "The email is taken."), 409);
	assert_error_body("conflict", "The email is taken.");
}
END_TEST

START_TEST(error_detail_is_escaped)
{
	const char detail[] = "Quote \" backslash \\ newline \n tab \t bell \a caf\xC3\xA9.";
	http_error(&res, ERR_BAD_REQUEST, detail);
	assert_error_body("bad_request", detail);
}
END_TEST

START_TEST(error_detail_with_invalid_utf8_stays_json)
{
	http_error(&res, ERR_BAD_REQUEST, "bad \xC0\xAF byte.");
	json_t *j = body_json();
	ck_assert_ptr_nonnull(
		strstr(json_string_value(json_object_get(j, "detail")), "\xEF\xBF\xBD"));
	json_decref(j);
}
END_TEST

START_TEST(error_replaces_previous_body)
{
	http_json(&res, 200, json_pack("{s:i}", "id", 1));
	http_error(&res, ERR_FORBIDDEN, NULL);
	ck_assert_uint_eq(res.status, 403);
	assert_error_body("forbidden", err_detail(ERR_FORBIDDEN));
}
END_TEST

START_TEST(errorf_formats_the_detail)
{
	ck_assert_uint_eq(http_errorf(&res, ERR_IN_USE, "Genre %lld is used by %d movies.", 7LL, 3),
			  409);
	assert_error_body("in_use", "Genre 7 is used by 3 movies.");
}
END_TEST

START_TEST(errorf_escapes_formatted_values)
{
	http_errorf(&res, ERR_BAD_QUERY, "Unknown sort \"%s\".", "x\"}");
	assert_error_body("invalid_query", "Unknown sort \"x\"}\".");
}
END_TEST

START_TEST(errorf_long_detail_stays_valid_json)
{
	/* 'é' is two bytes: a cut at an odd length splits one in half */
	char arg[1201];
	for (size_t i = 0; i + 1 < sizeof(arg); i += 2) {
		arg[i] = '\xC3';
		arg[i + 1] = '\xA9';
	}
	arg[sizeof(arg) - 1] = '\0';
	http_errorf(&res, ERR_BAD_REQUEST, "%s", arg);
	json_t *j = body_json();
	ck_assert_uint_gt(strlen(json_string_value(json_object_get(j, "detail"))), 100);
	json_decref(j);
}
END_TEST

/* --- http_validation_error --- */

START_TEST(validation_error_shape)
{
	json_t *errors = json_pack("[{s:s,s:s},{s:s,s:s}]", "field", "password", "message",
				   "Too short.", "field", "email", "message", "Not an email.");
	json_t *expected = json_deep_copy(errors);
	ck_assert_uint_eq(http_validation_error(&res, errors), 422);
	ck_assert_uint_eq(res.status, 422);
	assert_json_content_type();

	json_t *j = body_json();
	ck_assert_uint_eq(json_object_size(j), 3);
	ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "validation_failed");
	ck_assert_str_eq(json_string_value(json_object_get(j, "detail")),
			 err_detail(ERR_VALIDATION));
	ck_assert(json_is_array(json_object_get(j, "errors")));
	ck_assert(json_equal(json_object_get(j, "errors"), expected));
	json_decref(expected);
	json_decref(j);
}
END_TEST

START_TEST(validation_error_consumes_errors)
{
	json_t *errors = json_array();
	json_incref(errors); /* keep one reference to watch */
	http_validation_error(&res, errors);
	ck_assert_int_eq(errors->refcount, 1);
	json_decref(errors);
}
END_TEST

START_TEST(validation_error_without_errors_has_empty_array)
{
	http_validation_error(&res, NULL);
	json_t *j = body_json();
	ck_assert(json_is_array(json_object_get(j, "errors")));
	ck_assert_uint_eq(json_array_size(json_object_get(j, "errors")), 0);
	json_decref(j);
}
END_TEST

/* --- http_json, http_empty --- */

START_TEST(json_serializes_object)
{
	json_t *obj = json_pack("{s:i,s:s,s:b}", "id", 5, "name", "Alien", "ok", 1);
	json_t *expected = json_deep_copy(obj);
	ck_assert_uint_eq(http_json(&res, 201, obj), 201);
	ck_assert_uint_eq(res.status, 201);
	assert_json_content_type();
	json_t *j = body_json();
	ck_assert(json_equal(j, expected));
	json_decref(j);
	json_decref(expected);
}
END_TEST

START_TEST(json_consumes_its_object)
{
	json_t *obj = json_object();
	json_incref(obj); /* keep one reference to watch */
	http_json(&res, 200, obj);
	ck_assert_int_eq(obj->refcount, 1);
	json_decref(obj);
}
END_TEST

START_TEST(json_replaces_previous_body)
{
	http_error(&res, ERR_INTERNAL, NULL);
	http_json(&res, 200, json_pack("{s:i}", "n", 1));
	ck_assert_str_eq(res.body.data, "{\"n\":1}");
}
END_TEST

START_TEST(json_null_gives_empty_body)
{
	http_json(&res, 200, NULL);
	ck_assert_uint_eq(res.status, 200);
	ck_assert_uint_eq(res.body.len, 0);
}
END_TEST

START_TEST(empty_has_status_and_no_body)
{
	http_error(&res, ERR_NOT_FOUND, NULL);
	ck_assert_uint_eq(http_empty(&res, 204), 204);
	ck_assert_uint_eq(res.status, 204);
	ck_assert_uint_eq(res.body.len, 0);
	ck_assert_ptr_null(res.content_type);
}
END_TEST

/* --- http_set_header --- */

START_TEST(set_header_adds)
{
	http_set_header(&res, "Retry-After", "5");
	ck_assert_int_eq(res.nheaders, 1);
	ck_assert_str_eq(res.headers[0].name, "Retry-After");
	ck_assert_str_eq(res.headers[0].value, "5");
}
END_TEST

START_TEST(set_header_copies_value)
{
	char value[] = "abc";
	http_set_header(&res, "X-Test", value);
	value[0] = 'z';
	ck_assert_str_eq(res.headers[0].value, "abc");
}
END_TEST

START_TEST(set_header_replaces_same_name)
{
	http_set_header(&res, "Allow", "GET");
	http_set_header(&res, "X-Other", "1");
	http_set_header(&res, "allow", "GET, POST"); /* names are case-insensitive */
	ck_assert_int_eq(res.nheaders, 2);
	ck_assert_str_eq(res.headers[0].value, "GET, POST");
	ck_assert_str_eq(res.headers[1].value, "1");
}
END_TEST

static const char *const header_names[] = {"H-0", "H-1", "H-2", "H-3", "H-4",
					   "H-5", "H-6", "H-7", "H-8", "H-9"};

START_TEST(set_header_caps_the_count)
{
	for (int i = 0; i < 10; i++)
		http_set_header(&res, header_names[i], "v");
	ck_assert_int_eq(res.nheaders, HTTP_MAX_EXTRA_HEADERS);
	ck_assert_str_eq(res.headers[HTTP_MAX_EXTRA_HEADERS - 1].name,
			 header_names[HTTP_MAX_EXTRA_HEADERS - 1]);
}
END_TEST

START_TEST(set_header_replaces_when_full)
{
	for (int i = 0; i < HTTP_MAX_EXTRA_HEADERS; i++)
		http_set_header(&res, header_names[i], "old");
	http_set_header(&res, "H-0", "new");
	ck_assert_int_eq(res.nheaders, HTTP_MAX_EXTRA_HEADERS);
	ck_assert_str_eq(res.headers[0].value, "new");
}
END_TEST

/* --- http_json_body (with the fake http_header above) --- */

static const char *const json_ct[] = {"Content-Type", "application/json", NULL};

static bool parse_body(const char *const *headers, const char *body, json_t **out)
{
	req.conn = (void *)headers;
	req.body = body;
	req.body_len = strlen(body);
	return http_json_body(&req, &res, out);
}

/* Parsing failed with status and code, leaving *out NULL. */
static void assert_body_refused(bool ok, json_t *out, unsigned status, const char *code)
{
	ck_assert(!ok);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(res.status, status);
	json_t *j = body_json();
	ck_assert_str_eq(json_string_value(json_object_get(j, "code")), code);
	json_decref(j);
}

START_TEST(body_object_is_returned_owned)
{
	json_t *out = NULL;
	ck_assert(parse_body(json_ct, "{\"email\":\"a@b.c\"}", &out));
	ck_assert_str_eq(json_string_value(json_object_get(out, "email")), "a@b.c");
	json_decref(out);
}
END_TEST

START_TEST(body_content_type_with_charset_accepted)
{
	static const char *const h[] = {"content-type", "Application/JSON; charset=utf-8", NULL};
	json_t *out = NULL;
	ck_assert(parse_body(h, "{}", &out));
	json_decref(out);
}
END_TEST

START_TEST(body_without_content_type_is_415)
{
	static const char *const h[] = {NULL};
	json_t *out = NULL;
	bool ok = parse_body(h, "{}", &out);
	assert_body_refused(ok, out, 415, "unsupported_media_type");
}
END_TEST

START_TEST(body_with_other_content_type_is_415)
{
	static const char *const h[] = {"Content-Type", "text/plain", NULL};
	json_t *out = NULL;
	bool ok = parse_body(h, "{}", &out);
	assert_body_refused(ok, out, 415, "unsupported_media_type");
}
END_TEST

START_TEST(body_with_json_prefixed_content_type_is_415)
{
	static const char *const h[] = {"Content-Type", "application/jsonp", NULL};
	json_t *out = NULL;
	bool ok = parse_body(h, "{}", &out);
	assert_body_refused(ok, out, 415, "unsupported_media_type");
}
END_TEST

START_TEST(empty_body_is_400)
{
	json_t *out = NULL;
	bool ok = parse_body(json_ct, "", &out);
	assert_body_refused(ok, out, 400, "invalid_json");
}
END_TEST

START_TEST(malformed_body_is_400)
{
	json_t *out = NULL;
	bool ok = parse_body(json_ct, "{\"a\":", &out);
	assert_body_refused(ok, out, 400, "invalid_json");
}
END_TEST

START_TEST(array_body_is_400)
{
	json_t *out = NULL;
	bool ok = parse_body(json_ct, "[1,2]", &out);
	assert_body_refused(ok, out, 400, "invalid_json");
}
END_TEST

START_TEST(duplicate_keys_are_400)
{
	json_t *out = NULL;
	bool ok = parse_body(json_ct, "{\"a\":1,\"a\":2}", &out);
	assert_body_refused(ok, out, 400, "invalid_json");
}
END_TEST

START_TEST(trailing_garbage_is_400)
{
	json_t *out = NULL;
	bool ok = parse_body(json_ct, "{} x", &out);
	assert_body_refused(ok, out, 400, "invalid_json");
}
END_TEST

START_TEST(nul_in_a_string_is_left_to_the_validator)
{
	json_t *out = NULL;
	ck_assert(parse_body(json_ct, "{\"email\":\"a\\u0000b\"}", &out));
	ck_assert_uint_eq(json_string_length(json_object_get(out, "email")), 3);
	json_decref(out);
}
END_TEST

/* Every refusal says what is wrong in our words: never jansson's text,
 * which names its flags and tokens and echoes the input. */
START_TEST(refusals_are_in_our_words)
{
	static char deep[2 * 3000 + 1];
	memset(deep, '[', 3000);
	memset(deep + 3000, ']', 3000);
	deep[6000] = '\0';
	static const struct {
		const char *body, *reason;
	} cases[] = {
		{"{\"a\":", "it ends before the JSON value does"},
		{"{} x", "something follows the JSON value"},
		{"{\"a\":1,\"a\":2}", "a member name appears twice in one object"},
		{"{\"a\\u0000b\":1}", "a member name contains a NUL character"},
		{"{\"a\":\"\xFF\"}", "it is not valid UTF-8"},
		{"{\"a\":1e999}", "a number is out of range"},
		{"{\"a\":99999999999999999999}", "a number is out of range"},
		{"{\"a\":tru}", "it is not valid JSON"},
		{"{'a':1}", "it is not valid JSON"},
		{deep, "it is nested too deeply"},
	};
	static const char *const jansson_words[] = {
		"near",	  "JSON_",    "token",	 "end of file", "object key",
		"decode", "overflow", "too big", "depth",	"\\u0000",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *out = NULL;
		bool ok = parse_body(json_ct, cases[i].body, &out);
		assert_body_refused(ok, out, 400, "invalid_json");
		json_t *j = body_json();
		const char *detail = json_string_value(json_object_get(j, "detail"));
		ck_assert_ptr_nonnull(detail);
		ck_assert_msg(strncmp(detail, "The request body is not valid JSON: ", 36) == 0 &&
				      strstr(detail, cases[i].reason),
			      "case %zu: detail \"%s\", want \"%s\"", i, detail, cases[i].reason);
		for (size_t w = 0; w < sizeof(jansson_words) / sizeof(jansson_words[0]); w++)
			ck_assert_msg(!strstr(detail, jansson_words[w]),
				      "case %zu: detail \"%s\" has \"%s\"", i, detail,
				      jansson_words[w]);
		json_decref(j);
		teardown();
		setup();
	}
}
END_TEST

static Suite *response_suite(void)
{
	Suite *s = suite_create("response");

	TCase *tc = tcase_create("error");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, error_with_default_detail);
	tcase_add_test(tc, error_with_own_detail);
	tcase_add_test(tc, error_detail_is_escaped);
	tcase_add_test(tc, error_detail_with_invalid_utf8_stays_json);
	tcase_add_test(tc, error_replaces_previous_body);
	tcase_add_test(tc, errorf_formats_the_detail);
	tcase_add_test(tc, errorf_escapes_formatted_values);
	tcase_add_test(tc, errorf_long_detail_stays_valid_json);
	tcase_add_test(tc, validation_error_shape);
	tcase_add_test(tc, validation_error_consumes_errors);
	tcase_add_test(tc, validation_error_without_errors_has_empty_array);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, json_serializes_object);
	tcase_add_test(tc, json_consumes_its_object);
	tcase_add_test(tc, json_replaces_previous_body);
	tcase_add_test(tc, json_null_gives_empty_body);
	tcase_add_test(tc, empty_has_status_and_no_body);
	suite_add_tcase(s, tc);

	tc = tcase_create("headers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, set_header_adds);
	tcase_add_test(tc, set_header_copies_value);
	tcase_add_test(tc, set_header_replaces_same_name);
	tcase_add_test(tc, set_header_caps_the_count);
	tcase_add_test(tc, set_header_replaces_when_full);
	suite_add_tcase(s, tc);

	tc = tcase_create("json_body");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, body_object_is_returned_owned);
	tcase_add_test(tc, body_content_type_with_charset_accepted);
	tcase_add_test(tc, body_without_content_type_is_415);
	tcase_add_test(tc, body_with_other_content_type_is_415);
	tcase_add_test(tc, body_with_json_prefixed_content_type_is_415);
	tcase_add_test(tc, empty_body_is_400);
	tcase_add_test(tc, malformed_body_is_400);
	tcase_add_test(tc, array_body_is_400);
	tcase_add_test(tc, duplicate_keys_are_400);
	tcase_add_test(tc, trailing_garbage_is_400);
	tcase_add_test(tc, nul_in_a_string_is_left_to_the_validator);
	tcase_add_test(tc, refusals_are_in_our_words);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(response_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
