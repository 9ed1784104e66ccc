/* /docs and the API description are for signed-in accounts only: the real
 * binary, a fresh migrated database, accounts made with create-user. The
 * docs cookie belongs to a session: the page gets access tokens in it, and
 * signing out, logout and deactivation end cookie and tokens at once. */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e.h"
#include "testdb.h"

#define EMAIL	 "reader@example.com"
#define PASSWORD "Read-the-d0cs!"
#define ADMIN	 "keeper@example.com"

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
	char *admin[] = {(char *)"cinema-api", (char *)"create-user",
			 (char *)"--email",    (char *)ADMIN,
			 (char *)"--password", (char *)PASSWORD,
			 (char *)"--group",    (char *)"ADMIN",
			 (char *)"--active",   NULL};
	ck_assert_int_eq(e2e_run(e2e_bin("CINEMA_API_BIN"), admin, env), 0);
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
	/* The page authorises itself from /docs/token and keeps nothing in
	 * browser storage. */
	get("/docs/assets/init.js", h, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "/docs/openapi.json"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "/docs/token"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "preauthorizeApiKey('bearerAuth'"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "persistAuthorization: false"));
	ck_assert_ptr_null(strstr(r.body.data, "persistAuthorization: true"));
	ck_assert_ptr_null(strstr(r.body.data, "setItem"));
	ck_assert_ptr_null(strstr(r.body.data, "sessionStorage"));
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

/* POSTs with headers h (NULL-terminated) and an optional JSON body. */
static void post(const char *path, const char *const *h, const char *body, struct e2e_resp *r)
{
	ck_assert(e2e_request("POST", e2e_url(&srv, path), h, body, body ? strlen(body) : 0, r));
}

/* The access token /docs/token gives the page signed in with cookie;
 * copies "Authorization: Bearer ..." into auth. */
static void docs_token(const char *cookie, char *auth, size_t len)
{
	struct e2e_resp r;
	char cache[64];
	const char *const h[] = {cookie, NULL};
	post("/docs/token", h, NULL, &r);
	ck_assert_msg(r.status == 200, "/docs/token: %ld %s", r.status, r.body.data);
	ck_assert(e2e_header(&r, "Cache-Control", cache, sizeof(cache)));
	ck_assert_str_eq(cache, "no-store");
	ck_assert_str_eq(json_string_value(json_object_get(r.json, "token_type")), "bearer");
	ck_assert_int_gt(json_integer_value(json_object_get(r.json, "expires_in")), 0);
	ck_assert_ptr_null(json_object_get(r.json, "refresh_token"));
	const char *t = json_string_value(json_object_get(r.json, "access_token"));
	ck_assert_ptr_nonnull(t);
	snprintf(auth, len, "Authorization: Bearer %s", t);
	e2e_resp_free(&r);
}

/* The status of GET path with one header. */
static long status_with(const char *path, const char *header)
{
	struct e2e_resp r;
	const char *const h[] = {header, NULL};
	get(path, h, &r);
	long st = r.status;
	e2e_resp_free(&r);
	return st;
}

/* Signs in through the API; copies "Authorization: Bearer ..." into auth. */
static void api_login(const char *email, char *auth, size_t len)
{
	struct e2e_resp r;
	char body[256];
	const char *const json[] = {"Content-Type: application/json", NULL};
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"" PASSWORD "\"}", email);
	post("/api/v1/accounts/login", json, body, &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(auth, len, "Authorization: Bearer %s",
		 json_string_value(json_object_get(r.json, "access_token")));
	e2e_resp_free(&r);
}

START_TEST(docs_token_authorises_try_it_out)
{
	struct e2e_resp r;
	char cookie[2400], auth[2200], other[2200];
	sign_in(cookie, sizeof(cookie));
	docs_token(cookie, auth, sizeof(auth));
	/* The token works on the API as the account signed in to the docs. */
	const char *const h[] = {auth, NULL};
	get("/api/v1/accounts/me", h, &r);
	ck_assert_msg(r.status == 200, "me: %ld %s", r.status, r.body.data);
	ck_assert_str_eq(json_string_value(json_object_get(r.json, "email")), EMAIL);
	e2e_resp_free(&r);
	/* Only the cookie authorises /docs/token. */
	post("/docs/token", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);
	api_login(ADMIN, other, sizeof(other));
	const char *const bearer[] = {other, NULL};
	post("/docs/token", bearer, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);
	const char *const forged[] = {"Cookie: cinema_docs=eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
				      NULL};
	post("/docs/token", forged, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(page_spec_shows_only_usable_schemes)
{
	struct e2e_resp r;
	char cookie[2400];
	sign_in(cookie, sizeof(cookie));
	const char *const h[] = {cookie, NULL};
	get("/docs/openapi.json", h, &r);
	ck_assert_int_eq(r.status, 200);
	json_t *schemes = json_object_get(json_object_get(r.json, "components"), "securitySchemes");
	ck_assert_ptr_nonnull(json_object_get(schemes, "bearerAuth"));
	ck_assert_ptr_null(json_object_get(schemes, "metricsToken"));
	ck_assert_ptr_null(json_object_get(schemes, "docsCookie"));
	json_t *paths = json_object_get(r.json, "paths"), *item, *op, *req;
	const char *path, *method;
	size_t i;
	json_object_foreach (paths, path, item)
		json_object_foreach (item, method, op)
			json_array_foreach (json_object_get(op, "security"), i, req)
				ck_assert_msg(!json_object_get(req, "metricsToken") &&
						      !json_object_get(req, "docsCookie"),
					      "%s %s still lists a hidden scheme", method, path);
	ck_assert_ptr_null(json_object_get(paths, "/metrics")); /* only the metrics token */
	ck_assert_ptr_nonnull(json_object_get(paths, "/api/v1/accounts/me"));
	ck_assert_ptr_nonnull(json_object_get(paths, "/openapi.yaml"));
	e2e_resp_free(&r);
	/* The published description still names them all. */
	get("/openapi.json", h, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "metricsToken"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "docsCookie"));
	e2e_resp_free(&r);
	get("/docs/openapi.json", NULL, &r);
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(sign_out_ends_cookie_and_token)
{
	struct e2e_resp r;
	char cookie[2400], auth[2200], v[256];
	sign_in(cookie, sizeof(cookie));
	docs_token(cookie, auth, sizeof(auth));
	ck_assert_int_eq(status_with("/api/v1/accounts/me", auth), 200);
	const char *const h[] = {cookie, NULL};
	post("/docs/logout", h, NULL, &r);
	ck_assert_int_eq(r.status, 303);
	ck_assert(e2e_header(&r, "Set-Cookie", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "Max-Age=0"));
	e2e_resp_free(&r);
	/* A copy of the cookie and the page's token are dead now, not in an hour. */
	ck_assert_int_eq(status_with("/docs", cookie), 401);
	ck_assert_int_eq(status_with("/openapi.yaml", cookie), 401);
	ck_assert_int_eq(status_with("/api/v1/accounts/me", auth), 401);
	post("/docs/token", h, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);
	/* Signing in as someone else gives that account's token. */
	struct e2e_resp login;
	const char *const form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	const char *body = "email=keeper%40example.com&password=Read-the-d0cs%21";
	post("/docs/login", form, body, &login);
	ck_assert_int_eq(login.status, 303);
	ck_assert(e2e_header(&login, "Set-Cookie", v, sizeof(v)));
	snprintf(cookie, sizeof(cookie), "Cookie: %.*s", (int)strcspn(v, ";"), v);
	e2e_resp_free(&login);
	docs_token(cookie, auth, sizeof(auth));
	const char *const bearer[] = {auth, NULL};
	get("/api/v1/accounts/me", bearer, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(r.json, "email")), ADMIN);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(logout_of_the_session_ends_the_cookie)
{
	struct e2e_resp r;
	char cookie[2400], auth[2200];
	sign_in(cookie, sizeof(cookie));
	docs_token(cookie, auth, sizeof(auth));
	/* "Try it out" on logout with the page's token ends the docs session. */
	const char *const h[] = {auth, "Content-Type: application/json", NULL};
	post("/api/v1/accounts/logout", h, "{\"refresh_token\":\"none\"}", &r);
	ck_assert_msg(r.status == 204, "logout: %ld %s", r.status, r.body.data);
	e2e_resp_free(&r);
	ck_assert_int_eq(status_with("/docs", cookie), 401);
	ck_assert_int_eq(status_with("/api/v1/accounts/me", auth), 401);
}
END_TEST

START_TEST(deactivation_ends_the_cookie)
{
	struct e2e_resp r;
	char cookie[2400], auth[2200], admin[2200], path[64];
	sign_in(cookie, sizeof(cookie));
	ck_assert_int_eq(status_with("/docs", cookie), 200);
	docs_token(cookie, auth, sizeof(auth));
	const char *const me[] = {auth, NULL};
	get("/api/v1/accounts/me", me, &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(path, sizeof(path), "/api/v1/admin/users/%lld",
		 (long long)json_integer_value(json_object_get(r.json, "id")));
	e2e_resp_free(&r);
	api_login(ADMIN, admin, sizeof(admin));
	const char *const h[] = {admin, "Content-Type: application/json", NULL};
	const char *body = "{\"is_active\":false}";
	ck_assert(e2e_request("PATCH", e2e_url(&srv, path), h, body, strlen(body), &r));
	ck_assert_msg(r.status == 200, "deactivate: %ld %s", r.status, r.body.data);
	e2e_resp_free(&r);
	ck_assert_int_eq(status_with("/docs", cookie), 401);
	ck_assert_int_eq(status_with("/docs/assets/init.js", cookie), 401);
	const char *const c[] = {cookie, NULL};
	post("/docs/token", c, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(missing_assets_warn_and_say_so)
{
	struct e2e_resp r;
	char cookie[2400];
	e2e_server_stop(&srv);
	const char *env[] = {db_env, redis_env, "AUTH_RATE_LIMIT=100000",
			     "DOCS_ASSETS_DIR=/nonexistent/swagger-ui-dist", NULL};
	ck_assert(e2e_server_start(&srv, env));
	FILE *f = fopen(srv.log_path, "r");
	ck_assert_ptr_nonnull(f);
	char line[4096];
	bool warned = false;
	while (fgets(line, sizeof(line), f))
		warned = warned || (strstr(line, "swagger ui files missing") &&
				    strstr(line, "/nonexistent/swagger-ui-dist"));
	fclose(f);
	ck_assert_msg(warned, "no warning in %s", srv.log_path);
	sign_in(cookie, sizeof(cookie));
	const char *const h[] = {cookie, NULL};
	get("/docs", h, &r);
	ck_assert_int_eq(r.status, 503);
	ck_assert_ptr_nonnull(strstr(r.body.data, "DOCS_ASSETS_DIR"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "npm ci"));
	ck_assert_ptr_null(strstr(r.body.data, "swagger-ui-bundle.js\""));
	e2e_resp_free(&r);
}
END_TEST

/* Swagger UI itself, in headless Chromium (tests/docs/swagger_ui.mjs):
 * signed in as the admin the page is authorised and "Try it out" runs as
 * the admin; after sign-out and sign-in as another account it runs as
 * that account; nothing is left in browser storage. Skipped, saying so,
 * where Debian's chromium is not installed (packages.txt [test] has it). */
START_TEST(swagger_ui_in_chromium)
{
	const char *chromium = getenv("CHROMIUM") ? getenv("CHROMIUM") : "/usr/bin/chromium";
	const char *node = "/usr/bin/node";
	char script[1024];
	if (access(chromium, X_OK) != 0 || access(node, X_OK) != 0) {
		printf("note: %s or %s missing; the Swagger UI browser test is skipped\n", chromium,
		       node);
		fflush(stdout);
		return;
	}
	/* WebSocket in Node: 20.10 and later, behind this flag until 22. */
	char *probe[] = {(char *)"node", (char *)"--experimental-websocket", (char *)"-e",
			 (char *)"if (typeof WebSocket !== 'function') process.exit(1)", NULL};
	if (e2e_run_capture(node, probe, NULL, NULL, 30, NULL, NULL) != 0) {
		printf("note: node has no WebSocket; the Swagger UI browser test is skipped\n");
		fflush(stdout);
		return;
	}
	snprintf(script, sizeof(script), "%s/tests/docs/swagger_ui.mjs",
		 getenv("CINEMA_SOURCE_DIR") ? getenv("CINEMA_SOURCE_DIR") : ".");
	char *argv[] = {(char *)"node",	  (char *)"--experimental-websocket",
			script,		  srv.base_url,
			(char *)PASSWORD, (char *)ADMIN,
			(char *)EMAIL,	  NULL};
	char chromium_env[1100];
	snprintf(chromium_env, sizeof(chromium_env), "CHROMIUM=%s", chromium);
	const char *env[] = {chromium_env, NULL};
	struct buf out = BUF_INIT, err = BUF_INIT;
	int rc = e2e_run_capture(node, argv, env, NULL, 120, &out, &err);
	ck_assert_msg(rc == 0, "swagger_ui.mjs exited %d; stdout: %s; stderr: %s", rc,
		      out.data ? out.data : "", err.data ? err.data : "");
	buf_free(&out);
	buf_free(&err);
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
	tcase_add_test(tc, docs_token_authorises_try_it_out);
	tcase_add_test(tc, page_spec_shows_only_usable_schemes);
	tcase_add_test(tc, sign_out_ends_cookie_and_token);
	tcase_add_test(tc, logout_of_the_session_ends_the_cookie);
	tcase_add_test(tc, deactivation_ends_the_cookie);
	tcase_add_test(tc, missing_assets_warn_and_say_so);
	tcase_add_test(tc, swagger_ui_in_chromium);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? 1 : 0;
}
