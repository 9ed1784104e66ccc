/* /docs and the API description are for signed-in accounts only: the real
 * binary, a fresh migrated database, an account made with create-user. */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"
#include "testdb.h"

#define EMAIL	 "reader@example.com"
#define PASSWORD "Read-the-d0cs!"

static char *db;
static struct e2e_server srv;
static char redis_env[512], db_env[1024];

static void setup(void)
{
	const char *redis = getenv("REDIS_URL");
	ck_assert_msg(redis && getenv("DATABASE_URL"), "DATABASE_URL and REDIS_URL are needed");
	db = testdb_create();
	ck_assert_ptr_nonnull(db);
	snprintf(db_env, sizeof(db_env), "DATABASE_URL=%s", db);
	snprintf(redis_env, sizeof(redis_env), "REDIS_URL=%s", redis);
	const char *env[] = {db_env, redis_env, "AUTH_RATE_LIMIT=100000", NULL};
	char *migrate[] = {(char *)"cinema-api", (char *)"migrate", NULL};
	ck_assert_int_eq(e2e_run(e2e_bin("CINEMA_API_BIN"), migrate, env), 0);
	char *create[] = {
		(char *)"cinema-api", (char *)"create-user", (char *)"--email",	 (char *)EMAIL,
		(char *)"--password", (char *)PASSWORD,	     (char *)"--active", NULL};
	ck_assert_int_eq(e2e_run(e2e_bin("CINEMA_API_BIN"), create, env), 0);
	ck_assert(e2e_server_start(&srv, env));
}

static void teardown(void)
{
	e2e_server_stop(&srv);
	testdb_drop(db);
	free(db);
}

static void get(const char *path, const char *const *headers, struct e2e_resp *r)
{
	ck_assert(e2e_request("GET", e2e_url(&srv, path), headers, NULL, 0, r));
}

/* Signs in through the form and copies the cookie ("name=value"). */
static void sign_in(char *cookie, size_t len)
{
	struct e2e_resp r;
	const char *const form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	const char *body = "email=Reader%40example.com&password=Read-the-d0cs%21";
	char set[2400];
	ck_assert(e2e_request("POST", e2e_url(&srv, "/docs/login"), form, body, strlen(body), &r));
	ck_assert_int_eq(r.status, 303);
	ck_assert(e2e_header(&r, "Set-Cookie", set, sizeof(set)));
	ck_assert_ptr_nonnull(strstr(set, "HttpOnly"));
	ck_assert_ptr_nonnull(strstr(set, "SameSite=Strict"));
	snprintf(cookie, len, "Cookie: %.*s", (int)strcspn(set, ";"), set);
	e2e_resp_free(&r);
}

START_TEST(anonymous_gets_the_sign_in_form_never_the_ui)
{
	struct e2e_resp r;
	char ct[128];
	get("/docs", NULL, &r);
	ck_assert_int_eq(r.status, 401);
	ck_assert(e2e_header(&r, "Content-Type", ct, sizeof(ct)));
	ck_assert_str_eq(ct, "text/html; charset=utf-8");
	ck_assert_ptr_nonnull(strstr(r.body.data, "action=\"/docs/login\""));
	ck_assert_ptr_null(strstr(r.body.data, "swagger-ui-bundle.js"));
	e2e_resp_free(&r);
	static const char *const protected_paths[] = {"/openapi.yaml", "/openapi.json",
						      "/docs/assets/swagger-ui-bundle.js"};
	for (size_t i = 0; i < 3; i++) {
		get(protected_paths[i], NULL, &r);
		ck_assert_int_eq(r.status, 401);
		ck_assert_str_eq(e2e_code(&r), "not_authenticated");
		e2e_resp_free(&r);
	}
}
END_TEST

START_TEST(wrong_password_is_refused)
{
	struct e2e_resp r;
	const char *const form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	const char *body = "email=reader%40example.com&password=nope";
	char set[256];
	ck_assert(e2e_request("POST", e2e_url(&srv, "/docs/login"), form, body, strlen(body), &r));
	ck_assert_int_eq(r.status, 401);
	ck_assert(!e2e_header(&r, "Set-Cookie", set, sizeof(set)));
	ck_assert_ptr_nonnull(strstr(r.body.data, "Wrong email or password"));
	e2e_resp_free(&r);
	const char *const json[] = {"Content-Type: application/json", NULL};
	ck_assert(e2e_request("POST", e2e_url(&srv, "/docs/login"), json, "{}", 2, &r));
	ck_assert_int_eq(r.status, 415);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(signed_in_browser_gets_ui_assets_and_spec)
{
	struct e2e_resp r;
	char cookie[2400], v[256];
	sign_in(cookie, sizeof(cookie));
	const char *const h[] = {cookie, NULL};
	get("/docs", h, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "/docs/assets/swagger-ui-bundle.js"));
	ck_assert(e2e_header(&r, "Content-Security-Policy", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "script-src 'self'"));
	e2e_resp_free(&r);
	get("/docs/assets/swagger-ui-bundle.js", h, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_gt(r.body.len, 100000); /* the real bundle, served locally */
	e2e_resp_free(&r);
	get("/docs/assets/init.js", h, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "/openapi.yaml"));
	e2e_resp_free(&r);
	get("/docs/assets/..%2F..%2Fetc%2Fpasswd", h, &r);
	ck_assert_int_eq(r.status, 404);
	e2e_resp_free(&r);
	get("/openapi.yaml", h, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "openapi: 3.0.3"));
	e2e_resp_free(&r);
	get("/openapi.json", h, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(r.json);
	ck_assert_str_eq(json_string_value(json_object_get(r.json, "openapi")), "3.0.3");
	e2e_resp_free(&r);

	/* Signing out clears the cookie. */
	ck_assert(e2e_request("POST", e2e_url(&srv, "/docs/logout"), h, NULL, 0, &r));
	ck_assert_int_eq(r.status, 303);
	ck_assert(e2e_header(&r, "Set-Cookie", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "Max-Age=0"));
	e2e_resp_free(&r);
}
END_TEST

START_TEST(forged_cookie_is_refused)
{
	struct e2e_resp r;
	const char *const h[] = {"Cookie: cinema_docs=eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", NULL};
	get("/docs", h, &r);
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(bearer_token_reads_the_spec)
{
	struct e2e_resp r;
	char auth[1200];
	const char *const json[] = {"Content-Type: application/json", NULL};
	const char *body = "{\"email\":\"" EMAIL "\",\"password\":\"" PASSWORD "\"}";
	ck_assert(e2e_request("POST", e2e_url(&srv, "/api/v1/accounts/login"), json, body,
			      strlen(body), &r));
	ck_assert_int_eq(r.status, 200);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		 json_string_value(json_object_get(r.json, "access_token")));
	e2e_resp_free(&r);
	const char *const h[] = {auth, NULL};
	get("/openapi.yaml", h, &r);
	ck_assert_int_eq(r.status, 200);
	e2e_resp_free(&r);
	get("/docs", h, &r);
	ck_assert_int_eq(r.status, 200);
	e2e_resp_free(&r);
}
END_TEST

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	Suite *s = suite_create("docs");
	TCase *tc = tcase_create("docs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, anonymous_gets_the_sign_in_form_never_the_ui);
	tcase_add_test(tc, wrong_password_is_refused);
	tcase_add_test(tc, signed_in_browser_gets_ui_assets_and_spec);
	tcase_add_test(tc, forged_cookie_is_refused);
	tcase_add_test(tc, bearer_token_reads_the_spec);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? 1 : 0;
}
