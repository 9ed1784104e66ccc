/* The closed error set: every value has a status, a stable snake_case code
 * and a sentence; SQLSTATEs map to the right outcome. */
#include <check.h>
#include <ctype.h>
#include <string.h>

#include "cinema/error.h"

/* --- the table, one loop iteration per enum value --- */

START_TEST(every_error_has_an_http_status)
{
	enum err e = (enum err)_i;
	unsigned status = err_http_status(e);
	if (e == ERR_OK)
		ck_assert_uint_eq(status, 200);
	else
		ck_assert_msg(status >= 400 && status <= 599, "error %d has status %u", _i, status);
}
END_TEST

START_TEST(every_code_is_snake_case)
{
	const char *code = err_code((enum err)_i);
	ck_assert_ptr_nonnull(code);
	ck_assert_uint_gt(strlen(code), 0);
	for (const char *c = code; *c; c++)
		ck_assert_msg((*c >= 'a' && *c <= 'z') || *c == '_', "code \"%s\" of error %d",
			      code, _i);
	ck_assert_msg(code[0] != '_' && code[strlen(code) - 1] != '_', "code \"%s\"", code);
}
END_TEST

START_TEST(every_detail_is_a_sentence)
{
	const char *detail = err_detail((enum err)_i);
	ck_assert_ptr_nonnull(detail);
	size_t n = strlen(detail);
	ck_assert_uint_gt(n, 1);
	ck_assert_msg(isupper((unsigned char)detail[0]), "detail \"%s\"", detail);
	ck_assert_msg(detail[n - 1] == '.', "detail \"%s\" does not end with '.'", detail);
}
END_TEST

START_TEST(every_code_is_unique)
{
	/* A missing row would fall back to internal_error and show up here. */
	for (int j = 0; j < ERR__COUNT; j++)
		if (j != _i)
			ck_assert_msg(strcmp(err_code((enum err)_i), err_code((enum err)j)) != 0,
				      "errors %d and %d share code \"%s\"", _i, j,
				      err_code((enum err)_i));
}
END_TEST

/* --- statuses the API contract fixes --- */

START_TEST(statuses_follow_the_contract)
{
	ck_assert_uint_eq(err_http_status(ERR_BAD_REQUEST), 400);
	ck_assert_uint_eq(err_http_status(ERR_INVALID_JSON), 400);
	ck_assert_uint_eq(err_http_status(ERR_BAD_QUERY), 400);
	ck_assert_uint_eq(err_http_status(ERR_UNAUTHORIZED), 401);
	ck_assert_uint_eq(err_http_status(ERR_FORBIDDEN), 403);
	ck_assert_uint_eq(err_http_status(ERR_NOT_FOUND), 404);
	ck_assert_uint_eq(err_http_status(ERR_ROUTE_NOT_FOUND), 404);
	ck_assert_uint_eq(err_http_status(ERR_METHOD_NOT_ALLOWED), 405);
	ck_assert_uint_eq(err_http_status(ERR_CONFLICT), 409);
	ck_assert_uint_eq(err_http_status(ERR_IN_USE), 409);
	ck_assert_uint_eq(err_http_status(ERR_PAYLOAD_TOO_LARGE), 413);
	ck_assert_uint_eq(err_http_status(ERR_UNSUPPORTED_MEDIA_TYPE), 415);
	ck_assert_uint_eq(err_http_status(ERR_VALIDATION), 422);
	ck_assert_uint_eq(err_http_status(ERR_RATE_LIMITED), 429);
	ck_assert_uint_eq(err_http_status(ERR_INTERNAL), 500);
	ck_assert_uint_eq(err_http_status(ERR_DB_UNAVAILABLE), 503);
	ck_assert_uint_eq(err_http_status(ERR_DB_BUSY), 503);
	ck_assert_uint_eq(err_http_status(ERR_REDIS_UNAVAILABLE), 503);
	ck_assert_uint_eq(err_http_status(ERR_SHUTTING_DOWN), 503);
}
END_TEST

START_TEST(some_codes_are_stable)
{
	/* Clients match on these; renaming one breaks them. */
	ck_assert_str_eq(err_code(ERR_NOT_FOUND), "not_found");
	ck_assert_str_eq(err_code(ERR_VALIDATION), "validation_failed");
	ck_assert_str_eq(err_code(ERR_INTERNAL), "internal_error");
}
END_TEST

START_TEST(out_of_range_is_internal)
{
	ck_assert_uint_eq(err_http_status(ERR__COUNT), 500);
	ck_assert_str_eq(err_code(ERR__COUNT), "internal_error");
	ck_assert_str_eq(err_detail((enum err) - 1), err_detail(ERR_INTERNAL));
	ck_assert_uint_eq(err_http_status((enum err)1000), 500);
}
END_TEST

/* --- err_from_sqlstate --- */

START_TEST(unique_violation_is_conflict)
{
	ck_assert_int_eq(err_from_sqlstate("23505"), ERR_CONFLICT);
}
END_TEST

START_TEST(exclusion_violation_is_conflict)
{
	ck_assert_int_eq(err_from_sqlstate("23P01"), ERR_CONFLICT);
}
END_TEST

START_TEST(foreign_key_violation_is_in_use)
{
	ck_assert_int_eq(err_from_sqlstate("23503"), ERR_IN_USE);
}
END_TEST

START_TEST(not_null_violation_is_validation)
{
	ck_assert_int_eq(err_from_sqlstate("23502"), ERR_VALIDATION);
}
END_TEST

START_TEST(invalid_text_representation_is_validation)
{
	ck_assert_int_eq(err_from_sqlstate("22P02"), ERR_VALIDATION);
}
END_TEST

START_TEST(serialization_failure_is_busy)
{
	ck_assert_int_eq(err_from_sqlstate("40001"), ERR_DB_BUSY);
}
END_TEST

START_TEST(deadlock_is_busy)
{
	ck_assert_int_eq(err_from_sqlstate("40P01"), ERR_DB_BUSY);
}
END_TEST

START_TEST(statement_timeout_is_busy)
{
	ck_assert_int_eq(err_from_sqlstate("57014"), ERR_DB_BUSY);
}
END_TEST

START_TEST(connection_failure_is_unavailable)
{
	ck_assert_int_eq(err_from_sqlstate("08006"), ERR_DB_UNAVAILABLE);
	ck_assert_int_eq(err_from_sqlstate("08001"), ERR_DB_UNAVAILABLE);
}
END_TEST

START_TEST(admin_shutdown_is_unavailable)
{
	ck_assert_int_eq(err_from_sqlstate("57P01"), ERR_DB_UNAVAILABLE);
}
END_TEST

START_TEST(too_many_connections_is_unavailable)
{
	ck_assert_int_eq(err_from_sqlstate("53300"), ERR_DB_UNAVAILABLE);
}
END_TEST

START_TEST(no_sqlstate_is_unavailable)
{
	/* libpq gives no SQLSTATE when the connection itself failed */
	ck_assert_int_eq(err_from_sqlstate(NULL), ERR_DB_UNAVAILABLE);
}
END_TEST

START_TEST(internal_error_class_is_internal)
{
	ck_assert_int_eq(err_from_sqlstate("XX000"), ERR_INTERNAL);
}
END_TEST

START_TEST(syntax_error_is_internal)
{
	/* a bug in our SQL, never the client's fault */
	ck_assert_int_eq(err_from_sqlstate("42601"), ERR_INTERNAL);
	ck_assert_int_eq(err_from_sqlstate("42P01"), ERR_INTERNAL);
}
END_TEST

static Suite *error_suite(void)
{
	Suite *s = suite_create("error");

	TCase *tc = tcase_create("table");
	tcase_add_loop_test(tc, every_error_has_an_http_status, ERR_OK, ERR__COUNT);
	tcase_add_loop_test(tc, every_code_is_snake_case, ERR_OK, ERR__COUNT);
	tcase_add_loop_test(tc, every_detail_is_a_sentence, ERR_OK, ERR__COUNT);
	tcase_add_loop_test(tc, every_code_is_unique, ERR_OK, ERR__COUNT);
	tcase_add_test(tc, statuses_follow_the_contract);
	tcase_add_test(tc, some_codes_are_stable);
	tcase_add_test(tc, out_of_range_is_internal);
	suite_add_tcase(s, tc);

	tc = tcase_create("sqlstate");
	tcase_add_test(tc, unique_violation_is_conflict);
	tcase_add_test(tc, exclusion_violation_is_conflict);
	tcase_add_test(tc, foreign_key_violation_is_in_use);
	tcase_add_test(tc, not_null_violation_is_validation);
	tcase_add_test(tc, invalid_text_representation_is_validation);
	tcase_add_test(tc, serialization_failure_is_busy);
	tcase_add_test(tc, deadlock_is_busy);
	tcase_add_test(tc, statement_timeout_is_busy);
	tcase_add_test(tc, connection_failure_is_unavailable);
	tcase_add_test(tc, admin_shutdown_is_unavailable);
	tcase_add_test(tc, too_many_connections_is_unavailable);
	tcase_add_test(tc, no_sqlstate_is_unavailable);
	tcase_add_test(tc, internal_error_class_is_internal);
	tcase_add_test(tc, syntax_error_is_internal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(error_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
