/* Unit tests of sealed email payloads (src/jobs/seal.c): the round trip,
 * a fresh nonce each time, and every way a sealed value must refuse to
 * open (another key, altered or truncated text, another kind or recipient,
 * not a string), leaving the payload as it was. No database. */
#include <check.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/jobs.h"
#include "jobs/email_jobs.h"

#define KEY   "unit-test-email-payload-key-0123456789"
#define OTHER "unit-test-email-payload-key-9876543210"
#define TOKEN "Zm9vYmFyLXRoZS1vbmUtdGltZS10b2tlbi0xMjM0NTY"
#define KIND  "password_reset"
#define RCPT  "victim@example.com"

/* A payload {"greeting": "hi", "sealed": ...} holding {"token": TOKEN}. */
static json_t *sealed_payload(void)
{
	json_t *payload = json_pack("{s:s}", "greeting", "hi");
	json_t *secrets = json_pack("{s:s}", "token", TOKEN);
	ck_assert_int_eq(email_payload_seal(payload, secrets, KEY, KIND, RCPT), ERR_OK);
	json_decref(secrets);
	return payload;
}

static const char *sealed_text(const json_t *payload)
{
	const char *t = json_string_value(json_object_get(payload, EMAIL_SEALED));
	ck_assert_ptr_nonnull(t);
	return t;
}

START_TEST(round_trip)
{
	json_t *p = sealed_payload();
	const char *t = sealed_text(p);
	ck_assert_int_eq(strncmp(t, "v1.", 3), 0);
	ck_assert_ptr_null(strstr(t, TOKEN));
	ck_assert_ptr_null(json_object_get(p, "token"));
	char *dump = json_dumps(p, 0);
	ck_assert_ptr_null(strstr(dump, TOKEN));
	free(dump);

	ck_assert_int_eq(email_payload_open(p, KEY, KIND, RCPT), ERR_OK);
	ck_assert_str_eq(json_string_value(json_object_get(p, "token")), TOKEN);
	ck_assert_str_eq(json_string_value(json_object_get(p, "greeting")), "hi");
	ck_assert_ptr_null(json_object_get(p, EMAIL_SEALED));
	ck_assert_uint_eq(json_object_size(p), 2);
	json_decref(p);
}
END_TEST

START_TEST(fresh_nonce_each_time)
{
	json_t *a = sealed_payload(), *b = sealed_payload();
	ck_assert_str_ne(sealed_text(a), sealed_text(b));
	json_decref(a);
	json_decref(b);
}
END_TEST

START_TEST(nothing_sealed_opens_unchanged)
{
	json_t *p = json_pack("{s:s}", "token", "plain-from-before-sealing");
	ck_assert_int_eq(email_payload_open(p, KEY, KIND, RCPT), ERR_OK);
	ck_assert_str_eq(json_string_value(json_object_get(p, "token")),
			 "plain-from-before-sealing");
	json_decref(p);
	p = json_object();
	ck_assert_int_eq(email_payload_seal(p, json_null(), KEY, KIND, RCPT), ERR_INTERNAL);
	ck_assert_uint_eq(json_object_size(p), 0);
	json_decref(p);
}
END_TEST

/* Opening p must fail and leave it exactly as it was. */
static void assert_refused(json_t *p, const char *key, const char *kind, const char *rcpt)
{
	json_t *before = json_deep_copy(p);
	ck_assert_int_eq(email_payload_open(p, key, kind, rcpt), ERR_VALIDATION);
	ck_assert(json_equal(p, before));
	ck_assert_ptr_null(json_object_get(p, "token"));
	json_decref(before);
}

START_TEST(wrong_key_kind_or_recipient_refused)
{
	json_t *p = sealed_payload();
	assert_refused(p, OTHER, KIND, RCPT);
	/* Moved to another row: another recipient or another kind. */
	assert_refused(p, KEY, KIND, "attacker@example.com");
	assert_refused(p, KEY, "activation", RCPT);
	/* The separator keeps kind and recipient apart. */
	assert_refused(p, KEY, "password_rese", "t" RCPT);
	ck_assert_int_eq(email_payload_open(p, KEY, KIND, RCPT), ERR_OK);
	json_decref(p);
}
END_TEST

START_TEST(tampering_refused)
{
	json_t *p = sealed_payload();
	char *t = strdup(sealed_text(p));
	size_t n = strlen(t);
	/* Every position of the text, one character changed. */
	for (size_t i = 0; i < n; i++) {
		char *m = strdup(t);
		m[i] = m[i] == 'A' ? 'B' : 'A';
		json_object_set_new(p, EMAIL_SEALED, json_string(m));
		assert_refused(p, KEY, KIND, RCPT);
		free(m);
	}
	/* Truncated, emptied, extended, not base64, not a string. */
	static const size_t cuts[] = {0, 3, 10, 40};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		json_object_set_new(p, EMAIL_SEALED, json_stringn(t, cuts[i]));
		assert_refused(p, KEY, KIND, RCPT);
	}
	json_object_set_new(p, EMAIL_SEALED, json_string(n > 1 ? t + 1 : t));
	assert_refused(p, KEY, KIND, RCPT);
	char *longer = malloc(n + 3);
	memcpy(longer, t, n);
	memcpy(longer + n, "AA", 3);
	json_object_set_new(p, EMAIL_SEALED, json_string(longer));
	assert_refused(p, KEY, KIND, RCPT);
	free(longer);
	json_object_set_new(p, EMAIL_SEALED, json_string("v1.***"));
	assert_refused(p, KEY, KIND, RCPT);
	json_object_set_new(p, EMAIL_SEALED, json_integer(42));
	assert_refused(p, KEY, KIND, RCPT);
	/* The original still opens. */
	json_object_set_new(p, EMAIL_SEALED, json_string(t));
	ck_assert_int_eq(email_payload_open(p, KEY, KIND, RCPT), ERR_OK);
	ck_assert_str_eq(json_string_value(json_object_get(p, "token")), TOKEN);
	free(t);
	json_decref(p);
}
END_TEST

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	Suite *s = suite_create("seal");
	TCase *tc = tcase_create("seal");
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, fresh_nonce_each_time);
	tcase_add_test(tc, nothing_sealed_opens_unchanged);
	tcase_add_test(tc, wrong_key_kind_or_recipient_refused);
	tcase_add_test(tc, tampering_refused);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
