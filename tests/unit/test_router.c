/* Router: matching method and path against route tables, path parameters,
 * and method names. No server: the tables below stand in for the domains'. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/http.h"
#include "cinema/mem.h"

static unsigned h_none(struct http_request *req, struct http_response *res)
{
	(void)req;
	(void)res;
	return 200;
}

static const struct route movie_routes[] = {
	{HTTP_GET, "/api/v1/movies", h_none, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_POST, "/api/v1/movies", h_none, ACCESS_MODERATOR, 65536, LANE_DB},
	{HTTP_GET, "/api/v1/movies/{id}", h_none, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_PATCH, "/api/v1/movies/{id}", h_none, ACCESS_MODERATOR, 65536, LANE_DB},
	{HTTP_DELETE, "/api/v1/movies/{id}", h_none, ACCESS_MODERATOR, 0, LANE_DB},
	{HTTP_PUT, "/api/v1/movies/{id}/rating", h_none, ACCESS_USER, 1024, LANE_DB},
	ROUTES_END,
};

static const struct route comment_routes[] = {
	{HTTP_GET, "/api/v1/movies/{movie_id}/comments/{comment_id}", h_none, ACCESS_PUBLIC, 0,
	 LANE_DB},
	{HTTP_PUT, "/api/v1/comments/{id}/like", h_none, ACCESS_USER, 0, LANE_DB},
	{HTTP_DELETE, "/api/v1/comments/{id}/like", h_none, ACCESS_USER, 0, LANE_DB},
	{HTTP_GET, "/healthz", h_none, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_GET, "/four/{a}/{b}/{c}/{d}", h_none, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_GET, "/five/{a}/{b}/{c}/{d}/{e}", h_none, ACCESS_PUBLIC, 0, LANE_DB},
	ROUTES_END,
};

static const struct route *const tables[] = {movie_routes, comment_routes, NULL};

/* Each test matches into this request; the teardown frees its parameters,
 * so valgrind (CK_FORK=no) sees a leak if the router allocated for a route
 * it did not return. */
static struct http_request req;
static unsigned allowed;

static void setup(void)
{
	memset(&req, 0, sizeof(req));
	allowed = 12345; /* the router must overwrite it */
}

static void teardown(void)
{
	http_params_clear(req.params, req.nparams);
}

static const struct route *match(enum http_method m, const char *path)
{
	req.method = m;
	req.path = path;
	req.route = http_route_match(tables, m, path, req.params, &req.nparams, &allowed);
	return req.route;
}

/* --- http_route_match --- */

START_TEST(literal_path_matches_its_method)
{
	ck_assert_ptr_eq(match(HTTP_GET, "/api/v1/movies"), &movie_routes[0]);
	ck_assert_int_eq(req.nparams, 0);
}
END_TEST

START_TEST(same_path_other_method_picks_other_route)
{
	ck_assert_ptr_eq(match(HTTP_POST, "/api/v1/movies"), &movie_routes[1]);
}
END_TEST

START_TEST(route_in_second_table_matches)
{
	ck_assert_ptr_eq(match(HTTP_GET, "/healthz"), &comment_routes[3]);
}
END_TEST

START_TEST(id_is_captured)
{
	ck_assert_ptr_eq(match(HTTP_GET, "/api/v1/movies/42"), &movie_routes[2]);
	ck_assert_int_eq(req.nparams, 1);
	ck_assert_uint_eq(req.params[0].name_len, 2);
	ck_assert_int_eq(memcmp(req.params[0].name, "id", 2), 0);
	ck_assert_str_eq(req.params[0].value, "42");
	ck_assert_str_eq(http_param(&req, "id"), "42");
}
END_TEST

START_TEST(capture_followed_by_literal)
{
	ck_assert_ptr_eq(match(HTTP_PUT, "/api/v1/movies/7/rating"), &movie_routes[5]);
	ck_assert_str_eq(http_param(&req, "id"), "7");
}
END_TEST

START_TEST(two_params_are_captured)
{
	ck_assert_ptr_eq(match(HTTP_GET, "/api/v1/movies/7/comments/99"), &comment_routes[0]);
	ck_assert_int_eq(req.nparams, 2);
	ck_assert_str_eq(http_param(&req, "movie_id"), "7");
	ck_assert_str_eq(http_param(&req, "comment_id"), "99");
}
END_TEST

START_TEST(capture_takes_any_non_empty_segment)
{
	/* Parsing the value is the handler's job (http_param_id). */
	ck_assert_ptr_eq(match(HTTP_GET, "/api/v1/movies/abc"), &movie_routes[2]);
	ck_assert_str_eq(http_param(&req, "id"), "abc");
}
END_TEST

START_TEST(four_params_fit)
{
	ck_assert_ptr_eq(match(HTTP_GET, "/four/1/2/3/4"), &comment_routes[4]);
	ck_assert_int_eq(req.nparams, HTTP_MAX_PARAMS);
	ck_assert_str_eq(http_param(&req, "d"), "4");
}
END_TEST

START_TEST(more_params_than_fit_never_match)
{
	ck_assert_ptr_null(match(HTTP_GET, "/five/1/2/3/4/5"));
	ck_assert_int_eq(req.nparams, 0);
	ck_assert_uint_eq(allowed, 0);
}
END_TEST

START_TEST(trailing_slash_does_not_match)
{
	ck_assert_ptr_null(match(HTTP_GET, "/api/v1/movies/"));
	ck_assert_uint_eq(allowed, 0);
}
END_TEST

START_TEST(trailing_slash_after_capture_does_not_match)
{
	ck_assert_ptr_null(match(HTTP_GET, "/api/v1/movies/42/"));
	ck_assert_int_eq(req.nparams, 0);
	ck_assert_uint_eq(allowed, 0);
}
END_TEST

START_TEST(empty_segment_does_not_match_a_param)
{
	ck_assert_ptr_null(match(HTTP_PUT, "/api/v1/movies//rating"));
	ck_assert_int_eq(req.nparams, 0);
	ck_assert_uint_eq(allowed, 0);
}
END_TEST

START_TEST(longer_path_does_not_match)
{
	ck_assert_ptr_null(match(HTTP_PUT, "/api/v1/movies/7/rating/x"));
	ck_assert_uint_eq(allowed, 0);
}
END_TEST

START_TEST(prefix_of_a_route_does_not_match)
{
	ck_assert_ptr_null(match(HTTP_GET, "/api/v1"));
	ck_assert_uint_eq(allowed, 0);
}
END_TEST

START_TEST(literal_segment_must_match_whole)
{
	ck_assert_ptr_null(match(HTTP_GET, "/api/v1/moviesX"));
	ck_assert_ptr_null(match(HTTP_GET, "/api/v1/movie"));
	ck_assert_uint_eq(allowed, 0);
}
END_TEST

START_TEST(unknown_path_sets_allowed_to_zero)
{
	ck_assert_ptr_null(match(HTTP_GET, "/nope"));
	ck_assert_int_eq(req.nparams, 0);
	ck_assert_uint_eq(allowed, 0);
}
END_TEST

START_TEST(empty_path_does_not_match)
{
	ck_assert_ptr_null(match(HTTP_GET, ""));
	ck_assert_uint_eq(allowed, 0);
}
END_TEST

START_TEST(head_matches_the_get_route)
{
	ck_assert_ptr_eq(match(HTTP_HEAD, "/api/v1/movies/5"), &movie_routes[2]);
	ck_assert_str_eq(http_param(&req, "id"), "5");
}
END_TEST

START_TEST(other_method_gives_allowed_mask_for_405)
{
	ck_assert_ptr_null(match(HTTP_PUT, "/api/v1/movies/5"));
	ck_assert_uint_eq(allowed, HTTP_GET | HTTP_HEAD | HTTP_PATCH | HTTP_DELETE);
	ck_assert_int_eq(req.nparams, 0); /* nothing allocated for a 405 */
}
END_TEST

START_TEST(allowed_has_no_head_without_get)
{
	ck_assert_ptr_null(match(HTTP_GET, "/api/v1/comments/3/like"));
	ck_assert_uint_eq(allowed, HTTP_PUT | HTTP_DELETE);
}
END_TEST

START_TEST(head_without_get_route_is_405)
{
	ck_assert_ptr_null(match(HTTP_HEAD, "/api/v1/comments/3/like"));
	ck_assert_uint_eq(allowed, HTTP_PUT | HTTP_DELETE);
}
END_TEST

START_TEST(options_is_left_to_the_caller)
{
	/* No table lists OPTIONS: the server answers preflights from the mask. */
	ck_assert_ptr_null(match(HTTP_OPTIONS, "/api/v1/movies"));
	ck_assert_uint_eq(allowed, HTTP_GET | HTTP_HEAD | HTTP_POST);
}
END_TEST

START_TEST(unknown_method_matches_nothing_but_reports_allowed)
{
	/* http_method_parse gives 0 for an unknown method; the caller answers
	 * 405 (path exists) or 404 (it does not) from the mask. */
	ck_assert_ptr_null(match(http_method_parse("BREW"), "/api/v1/movies"));
	ck_assert_int_eq(req.nparams, 0);
	ck_assert_uint_eq(allowed, HTTP_GET | HTTP_HEAD | HTTP_POST);
}
END_TEST

START_TEST(params_clear_frees_and_nulls_values)
{
	ck_assert_ptr_nonnull(match(HTTP_GET, "/api/v1/movies/7/comments/99"));
	http_params_clear(req.params, req.nparams);
	ck_assert_ptr_null(req.params[0].value);
	ck_assert_ptr_null(req.params[1].value);
	/* clearing again (the teardown does) must be harmless */
}
END_TEST

/* --- http_param, http_param_id --- */

/* Makes req a request with one parameter named "id" holding value (NULL:
 * none), freeing what it held. */
static void set_id_param(const char *value)
{
	http_params_clear(req.params, req.nparams);
	memset(&req, 0, sizeof(req));
	if (!value)
		return;
	req.params[0].name = "id";
	req.params[0].name_len = 2;
	req.params[0].value = xstrdup(value);
	req.nparams = 1;
}

START_TEST(param_absent_is_null)
{
	set_id_param("1");
	ck_assert_ptr_null(http_param(&req, "movie_id"));
}
END_TEST

START_TEST(param_name_must_match_whole)
{
	set_id_param("1");
	ck_assert_ptr_null(http_param(&req, "i"));
	ck_assert_ptr_null(http_param(&req, "idx"));
}
END_TEST

START_TEST(param_name_need_not_be_terminated)
{
	/* names point into the pattern: "id}/rating" with length 2 */
	set_id_param(NULL);
	req.params[0].name = "id}/rating";
	req.params[0].name_len = 2;
	req.params[0].value = xstrdup("3");
	req.nparams = 1;
	ck_assert_str_eq(http_param(&req, "id"), "3");
}
END_TEST

START_TEST(param_id_parses_positive_number)
{
	long long id = 0;
	set_id_param("42");
	ck_assert(http_param_id(&req, "id", &id));
	ck_assert_int_eq(id, 42);
}
END_TEST

START_TEST(param_id_accepts_eighteen_digits)
{
	long long id = 0;
	set_id_param("999999999999999999");
	ck_assert(http_param_id(&req, "id", &id));
	ck_assert_int_eq(id, 999999999999999999LL);
}
END_TEST

START_TEST(param_id_refuses_more_than_eighteen_digits)
{
	long long id = -1;
	set_id_param("1000000000000000000");
	ck_assert(!http_param_id(&req, "id", &id));
	ck_assert_int_eq(id, -1); /* untouched on failure */
}
END_TEST

START_TEST(param_id_refuses_int64_overflow)
{
	long long id = -1;
	set_id_param("9223372036854775808");
	ck_assert(!http_param_id(&req, "id", &id));
	set_id_param("99999999999999999999999999");
	ck_assert(!http_param_id(&req, "id", &id));
	ck_assert_int_eq(id, -1);
}
END_TEST

START_TEST(param_id_refuses_leading_zero)
{
	long long id = -1;
	set_id_param("007");
	ck_assert(!http_param_id(&req, "id", &id));
}
END_TEST

START_TEST(param_id_refuses_zero)
{
	long long id = -1;
	set_id_param("0");
	ck_assert(!http_param_id(&req, "id", &id));
}
END_TEST

START_TEST(param_id_refuses_negative)
{
	long long id = -1;
	set_id_param("-5");
	ck_assert(!http_param_id(&req, "id", &id));
}
END_TEST

START_TEST(param_id_refuses_sign_and_blanks)
{
	long long id = -1;
	set_id_param("+5");
	ck_assert(!http_param_id(&req, "id", &id));
	set_id_param(" 5");
	ck_assert(!http_param_id(&req, "id", &id));
	set_id_param("5 ");
	ck_assert(!http_param_id(&req, "id", &id));
}
END_TEST

START_TEST(param_id_refuses_non_digit)
{
	long long id = -1;
	set_id_param("12a");
	ck_assert(!http_param_id(&req, "id", &id));
	set_id_param("1.5");
	ck_assert(!http_param_id(&req, "id", &id));
	set_id_param("0x10");
	ck_assert(!http_param_id(&req, "id", &id));
}
END_TEST

START_TEST(param_id_refuses_empty)
{
	long long id = -1;
	set_id_param("");
	ck_assert(!http_param_id(&req, "id", &id));
}
END_TEST

START_TEST(param_id_refuses_absent)
{
	long long id = -1;
	set_id_param(NULL);
	ck_assert(!http_param_id(&req, "id", &id));
	ck_assert_int_eq(id, -1);
}
END_TEST

/* --- method names --- */

static const struct {
	enum http_method m;
	const char *name;
} all_methods[] = {
	{HTTP_GET, "GET"},	   {HTTP_HEAD, "HEAD"},	  {HTTP_POST, "POST"},
	{HTTP_PUT, "PUT"},	   {HTTP_PATCH, "PATCH"}, {HTTP_DELETE, "DELETE"},
	{HTTP_OPTIONS, "OPTIONS"},
};

START_TEST(method_parse_and_name_round_trip)
{
	ck_assert_int_eq(http_method_parse(all_methods[_i].name), all_methods[_i].m);
	ck_assert_str_eq(http_method_name(all_methods[_i].m), all_methods[_i].name);
}
END_TEST

START_TEST(method_parse_is_case_sensitive)
{
	ck_assert_int_eq(http_method_parse("get"), 0);
	ck_assert_int_eq(http_method_parse("Get"), 0);
}
END_TEST

START_TEST(method_parse_refuses_unknown)
{
	ck_assert_int_eq(http_method_parse(""), 0);
	ck_assert_int_eq(http_method_parse("CONNECT"), 0);
	ck_assert_int_eq(http_method_parse("TRACE"), 0);
	ck_assert_int_eq(http_method_parse("GETX"), 0);
	ck_assert_int_eq(http_method_parse("GE"), 0);
}
END_TEST

START_TEST(method_name_of_non_method_is_placeholder)
{
	ck_assert_str_eq(http_method_name(0), "?");
	ck_assert_str_eq(http_method_name(HTTP_GET | HTTP_POST), "?");
}
END_TEST

static Suite *router_suite(void)
{
	Suite *s = suite_create("router");

	TCase *tc = tcase_create("match");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, literal_path_matches_its_method);
	tcase_add_test(tc, same_path_other_method_picks_other_route);
	tcase_add_test(tc, route_in_second_table_matches);
	tcase_add_test(tc, id_is_captured);
	tcase_add_test(tc, capture_followed_by_literal);
	tcase_add_test(tc, two_params_are_captured);
	tcase_add_test(tc, capture_takes_any_non_empty_segment);
	tcase_add_test(tc, four_params_fit);
	tcase_add_test(tc, more_params_than_fit_never_match);
	tcase_add_test(tc, trailing_slash_does_not_match);
	tcase_add_test(tc, trailing_slash_after_capture_does_not_match);
	tcase_add_test(tc, empty_segment_does_not_match_a_param);
	tcase_add_test(tc, longer_path_does_not_match);
	tcase_add_test(tc, prefix_of_a_route_does_not_match);
	tcase_add_test(tc, literal_segment_must_match_whole);
	tcase_add_test(tc, unknown_path_sets_allowed_to_zero);
	tcase_add_test(tc, empty_path_does_not_match);
	tcase_add_test(tc, head_matches_the_get_route);
	tcase_add_test(tc, other_method_gives_allowed_mask_for_405);
	tcase_add_test(tc, allowed_has_no_head_without_get);
	tcase_add_test(tc, head_without_get_route_is_405);
	tcase_add_test(tc, options_is_left_to_the_caller);
	tcase_add_test(tc, unknown_method_matches_nothing_but_reports_allowed);
	tcase_add_test(tc, params_clear_frees_and_nulls_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("params");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, param_absent_is_null);
	tcase_add_test(tc, param_name_must_match_whole);
	tcase_add_test(tc, param_name_need_not_be_terminated);
	tcase_add_test(tc, param_id_parses_positive_number);
	tcase_add_test(tc, param_id_accepts_eighteen_digits);
	tcase_add_test(tc, param_id_refuses_more_than_eighteen_digits);
	tcase_add_test(tc, param_id_refuses_int64_overflow);
	tcase_add_test(tc, param_id_refuses_leading_zero);
	tcase_add_test(tc, param_id_refuses_zero);
	tcase_add_test(tc, param_id_refuses_negative);
	tcase_add_test(tc, param_id_refuses_sign_and_blanks);
	tcase_add_test(tc, param_id_refuses_non_digit);
	tcase_add_test(tc, param_id_refuses_empty);
	tcase_add_test(tc, param_id_refuses_absent);
	suite_add_tcase(s, tc);

	tc = tcase_create("methods");
	tcase_add_loop_test(tc, method_parse_and_name_round_trip, 0,
			    (int)(sizeof(all_methods) / sizeof(all_methods[0])));
	tcase_add_test(tc, method_parse_is_case_sensitive);
	tcase_add_test(tc, method_parse_refuses_unknown);
	tcase_add_test(tc, method_name_of_non_method_is_placeholder);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(router_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
