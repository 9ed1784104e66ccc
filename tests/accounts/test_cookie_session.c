/* The cookie session mode of the web app, end to end: the real `cinema-api
 * serve` on a fresh migrated database per test. With `X-Cinema-Session:
 * cookie`, login, refresh and logout keep the refresh token in an HttpOnly
 * cookie scoped to the refresh path (and a hint cookie for scripts), rotate
 * it, clear both on any 401 and on logout, and refuse another origin with
 * 403 origin_forbidden; without the header, nothing changes.
 *
 * Needs what tests/accounts/test_accounts.c needs (DATABASE_URL, REDIS_URL
 * and the binaries). Redis: this suite owns database REDIS_DB of the
 * server of REDIS_URL, flushed before each test. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"
#include "harness.h"

#define REDIS_DB    7
#define BASE_URL    "http://cinema.test:8080"
#define ORIGIN	    "Origin: http://cinema.test:8080"
#define PASSWORD    "Popcorn-42!"
#define REFRESH_TTL 7200
#define COOKIE_MODE "X-Cinema-Session: cookie"

static struct harness_world w;

static void start_api(const char *base_url)
{
	struct harness_env *e = &w.srv_env;
	harness_world_api_env(&w, e, base_url);
	harness_env_set(e, "REFRESH_TOKEN_TTL=%d", REFRESH_TTL);
	harness_server_start(&w.srv, e->p);
}

static void setup(void)
{
	harness_world_begin(&w, "cookie", REDIS_DB);
}

static void teardown(void)
{
	harness_world_end(&w);
}

/* --- the Set-Cookie headers of an answer --- */

struct cookies {
	char refresh[256]; /* the whole Set-Cookie value of cinema_refresh, "" if none */
	char hint[256];	   /* of cinema_session */
	char token[64];	   /* the refresh token it holds */
	int count;
};

static void read_cookies(const struct e2e_resp *r, struct cookies *c)
{
	memset(c, 0, sizeof(*c));
	const char *p = r->headers.data;
	while (p && (p = strcasestr(p, "\nSet-Cookie: ")) != NULL) {
		p += strlen("\nSet-Cookie: ");
		size_t n = strcspn(p, "\r\n");
		char *dst = strncmp(p, "cinema_refresh=", 15) == 0   ? c->refresh
			    : strncmp(p, "cinema_session=", 15) == 0 ? c->hint
								     : NULL;
		ck_assert_msg(dst != NULL, "unexpected cookie: %.*s", (int)n, p);
		ck_assert_uint_lt(n, sizeof(c->refresh));
		memcpy(dst, p, n);
		dst[n] = '\0';
		c->count++;
	}
	if (c->refresh[0]) {
		size_t n = strcspn(c->refresh + 15, ";");
		ck_assert_uint_lt(n, sizeof(c->token));
		memcpy(c->token, c->refresh + 15, n);
		c->token[n] = '\0';
	}
}

/* Both cookies set for a live session (secure: with "; Secure"). */
static void assert_session_cookies(const struct e2e_resp *r, struct cookies *c, bool secure)
{
	char want[256];
	read_cookies(r, c);
	ck_assert_int_eq(c->count, 2);
	ck_assert_uint_eq(strlen(c->token), 43);
	snprintf(want, sizeof(want),
		 "cinema_refresh=%s; Path=/api/v1/accounts/refresh; HttpOnly; SameSite=Strict; "
		 "Max-Age=%d%s",
		 c->token, REFRESH_TTL, secure ? "; Secure" : "");
	ck_assert_str_eq(c->refresh, want);
	snprintf(want, sizeof(want), "cinema_session=1; Path=/; SameSite=Strict; Max-Age=%d%s",
		 REFRESH_TTL, secure ? "; Secure" : "");
	ck_assert_str_eq(c->hint, want);
}

static void assert_cookies_cleared(const struct e2e_resp *r)
{
	struct cookies c;
	read_cookies(r, &c);
	ck_assert_int_eq(c.count, 2);
	ck_assert_str_eq(c.refresh, "cinema_refresh=; Path=/api/v1/accounts/refresh; HttpOnly; "
				    "SameSite=Strict; Max-Age=0");
	ck_assert_str_eq(c.hint, "cinema_session=; Path=/; SameSite=Strict; Max-Age=0");
}

static void assert_no_cookies(const struct e2e_resp *r)
{
	struct cookies c;
	read_cookies(r, &c);
	ck_assert_int_eq(c.count, 0);
}

/* The body of a cookie-mode answer: no refresh token in it. */
static const char *access_of(const struct e2e_resp *r)
{
	static const char *const keys[] = {"access_token", "token_type", "expires_in", NULL};
	harness_assert_keys(r->json, keys, "cookie-mode token answer");
	return json_string_value(json_object_get(r->json, "access_token"));
}

static const char *login_body(const char *email)
{
	return harness_fmt("{\"email\":\"%s\",\"password\":\"%s\"}", email, PASSWORD);
}

static const char *user(void)
{
	static struct harness_account a;
	a = (struct harness_account){harness_unique_email("cookie"), "USER", true, 0};
	harness_create_accounts(w.ci, &a, 1, PASSWORD);
	return a.email;
}

/* A cookie-mode login from the app's origin; fills c and access. */
static void cookie_login(const char *email, struct cookies *c, char *access, size_t n)
{
	const char *const h[] = {COOKIE_MODE, ORIGIN, NULL};
	struct e2e_resp r =
		harness_request("POST", "/api/v1/accounts/login", NULL, login_body(email), h);
	harness_expect(&r, 200, NULL);
	assert_session_cookies(&r, c, false);
	snprintf(access, n, "%s", access_of(&r));
	e2e_resp_free(&r);
}

/* A cookie-mode refresh sending token in the cookie, with body (NULL:
 * none) and origin (an Origin header, NULL: none). */
static struct e2e_resp cookie_refresh(const char *token, const char *body, const char *origin)
{
	char cookie[160];
	snprintf(cookie, sizeof(cookie), "Cookie: cinema_session=1; cinema_refresh=%s", token);
	const char *const h[] = {COOKIE_MODE, cookie, origin, NULL};
	return harness_request("POST", "/api/v1/accounts/refresh", NULL, body, h);
}

#define expect_me(access, status) \
	harness_check_coded_call("GET", "/api/v1/accounts/me", access, NULL, status, NULL)

START_TEST(login_refresh_rotation_reuse_and_logout)
{
	start_api(BASE_URL);
	const char *email = user();
	struct cookies c1, c2, c3;
	char a1[2048], a2[2048], a3[2048];
	cookie_login(email, &c1, a1, sizeof(a1));
	expect_me(a1, 200);

	/* Refresh from the cookie, empty body: both cookies rotate. */
	struct e2e_resp r = cookie_refresh(c1.token, NULL, ORIGIN);
	harness_expect(&r, 200, NULL);
	assert_session_cookies(&r, &c2, false);
	ck_assert_str_ne(c1.token, c2.token);
	snprintf(a2, sizeof(a2), "%s", access_of(&r));
	e2e_resp_free(&r);
	expect_me(a2, 200);

	/* "{}" is an empty body too; no Origin (not a browser) is fine. */
	r = cookie_refresh(c2.token, "{}", NULL);
	harness_expect(&r, 200, NULL);
	assert_session_cookies(&r, &c3, false);
	snprintf(a3, sizeof(a3), "%s", access_of(&r));
	e2e_resp_free(&r);

	/* A used token again: the whole session ends, the cookies go. */
	r = cookie_refresh(c1.token, NULL, ORIGIN);
	harness_expect_coded(&r, 401, "refresh_token_reused");
	assert_cookies_cleared(&r);
	e2e_resp_free(&r);
	expect_me(a3, 401);
	r = cookie_refresh(c3.token, NULL, ORIGIN);
	harness_expect(&r, 401, NULL);
	assert_cookies_cleared(&r);
	e2e_resp_free(&r);

	/* Logout: bearer as always, no body; ends the session, clears both. */
	cookie_login(email, &c1, a1, sizeof(a1));
	const char *const h[] = {COOKIE_MODE, ORIGIN, NULL};
	r = harness_request("POST", "/api/v1/accounts/logout", a1, NULL, h);
	harness_expect(&r, 204, NULL);
	assert_cookies_cleared(&r);
	e2e_resp_free(&r);
	expect_me(a1, 401);
	r = cookie_refresh(c1.token, NULL, ORIGIN);
	harness_expect(&r, 401, NULL);
	assert_cookies_cleared(&r);
	e2e_resp_free(&r);

	/* Logout with a body naming another session's token ends that one too. */
	cookie_login(email, &c1, a1, sizeof(a1));
	cookie_login(email, &c2, a2, sizeof(a2));
	r = harness_request("POST", "/api/v1/accounts/logout", a1,
			    harness_fmt("{\"refresh_token\":\"%s\"}", c2.token), h);
	harness_expect(&r, 204, NULL);
	assert_cookies_cleared(&r);
	e2e_resp_free(&r);
	expect_me(a2, 401);
}
END_TEST

START_TEST(refresh_without_a_usable_cookie_is_401_and_clears)
{
	start_api(BASE_URL);
	/* No cookie at all. */
	const char *const h[] = {COOKIE_MODE, ORIGIN, NULL};
	struct e2e_resp r = harness_request("POST", "/api/v1/accounts/refresh", NULL, NULL, h);
	harness_expect_coded(&r, 401, "refresh_token_invalid");
	assert_cookies_cleared(&r);
	e2e_resp_free(&r);
	/* A token nobody was given; an empty one. */
	r = cookie_refresh("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, ORIGIN);
	harness_expect_coded(&r, 401, "refresh_token_invalid");
	assert_cookies_cleared(&r);
	e2e_resp_free(&r);
	r = cookie_refresh("", NULL, ORIGIN);
	harness_expect_coded(&r, 401, "refresh_token_invalid");
	assert_cookies_cleared(&r);
	e2e_resp_free(&r);
	/* An expired one. */
	struct cookies c;
	char a[2048];
	cookie_login(user(), &c, a, sizeof(a));
	harness_sql_ok("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'");
	r = cookie_refresh(c.token, NULL, ORIGIN);
	harness_expect_coded(&r, 401, "refresh_token_expired");
	assert_cookies_cleared(&r);
	e2e_resp_free(&r);
	/* A wrong password: 401 too, cookies cleared. */
	r = harness_request("POST", "/api/v1/accounts/login", NULL,
			    "{\"email\":\"nobody@example.com\",\"password\":\"Wrong-123!\"}", h);
	harness_expect_coded(&r, 401, "invalid_credentials");
	assert_cookies_cleared(&r);
	e2e_resp_free(&r);
}
END_TEST

/* Odd Cookie headers: the first cinema_refresh wins (a browser sends the
 * one with the longest path first, which is ours, before any a sibling
 * site could add with Path=/); a bogus first one is a plain 401 that does
 * not burn the good one; other names that contain ours, quotes, a value too
 * long for the buffer are refused; spaces around pairs are fine. */
START_TEST(odd_cookie_headers)
{
	start_api(BASE_URL);
	struct cookies c, next;
	char a[2048], h1[256];
	cookie_login(user(), &c, a, sizeof(a));

	/* Duplicates: ours first, then another. */
	struct e2e_resp r =
		cookie_refresh(harness_fmt("%s; cinema_refresh=bogus", c.token), NULL, ORIGIN);
	harness_expect(&r, 200, NULL);
	assert_session_cookies(&r, &next, false);
	e2e_resp_free(&r);
	c = next;

	/* Another first: refused as invalid, and ours is still unused. */
	r = cookie_refresh(
		harness_fmt("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; cinema_refresh=%s",
			    c.token),
		NULL, ORIGIN);
	harness_expect_coded(&r, 401, "refresh_token_invalid");
	e2e_resp_free(&r);

	/* Spaces, tabs and empty pairs around it. */
	snprintf(h1, sizeof(h1), "Cookie: ;; x=1;  cinema_refresh=%s \t; y=\"2\"", c.token);
	const char *const spaced[] = {COOKIE_MODE, h1, ORIGIN, NULL};
	r = harness_request("POST", "/api/v1/accounts/refresh", NULL, NULL, spaced);
	harness_expect(&r, 200, NULL);
	assert_session_cookies(&r, &next, false);
	e2e_resp_free(&r);
	c = next;

	/* A longer name ending in ours, a quoted value, a space before '=',
	 * a value longer than the buffer (600) that starts with ours. */
	char long_value[700];
	size_t off = 0;
	while (off + strlen(c.token) < sizeof(long_value))
		off += (size_t)snprintf(long_value + off, sizeof(long_value) - off, "%s", c.token);
	char bad[4][800];
	snprintf(bad[0], sizeof(bad[0]), "Cookie: xcinema_refresh=%s", c.token);
	snprintf(bad[1], sizeof(bad[1]), "Cookie: cinema_refresh=\"%s\"", c.token);
	snprintf(bad[2], sizeof(bad[2]), "Cookie: cinema_refresh =%s", c.token);
	snprintf(bad[3], sizeof(bad[3]), "Cookie: cinema_refresh=%s", long_value);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *const h[] = {COOKIE_MODE, bad[i], ORIGIN, NULL};
		r = harness_request("POST", "/api/v1/accounts/refresh", NULL, NULL, h);
		harness_expect_coded(&r, 401, "refresh_token_invalid");
		e2e_resp_free(&r);
	}

	/* None of that used the token: it still renews the session. */
	r = cookie_refresh(c.token, NULL, ORIGIN);
	harness_expect(&r, 200, NULL);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(another_origin_is_403_and_changes_nothing)
{
	start_api(BASE_URL);
	const char *email = user();
	static const char *const foreign[] = {
		"Origin: https://evil.test",
		"Origin: http://cinema.test",
		"Origin: http://cinema.test:8081",
		"Origin: https://cinema.test:8080",
		"Origin: null",
		"Origin: http://cinema.test:8080.evil.test",
	};
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		const char *const h[] = {COOKIE_MODE, foreign[i], NULL};
		struct e2e_resp r = harness_request("POST", "/api/v1/accounts/login", NULL,
						    login_body(email), h);
		harness_expect_coded(&r, 403, "origin_forbidden");
		assert_no_cookies(&r);
		e2e_resp_free(&r);
	}
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM refresh_tokens"), 0);

	struct cookies c, c2;
	char a[2048];
	cookie_login(email, &c, a, sizeof(a));
	/* A refresh from elsewhere neither uses nor ends the token... */
	struct e2e_resp r = cookie_refresh(c.token, NULL, "Origin: https://evil.test");
	harness_expect_coded(&r, 403, "origin_forbidden");
	assert_no_cookies(&r);
	e2e_resp_free(&r);
	/* ...nor does a logout. */
	const char *const evil[] = {COOKIE_MODE, "Origin: https://evil.test", NULL};
	r = harness_request("POST", "/api/v1/accounts/logout", a, NULL, evil);
	harness_expect_coded(&r, 403, "origin_forbidden");
	e2e_resp_free(&r);
	expect_me(a, 200);
	r = cookie_refresh(c.token, NULL, ORIGIN);
	harness_expect(&r, 200, NULL);
	assert_session_cookies(&r, &c2, false);
	e2e_resp_free(&r);

	/* The origin the request was sent to (its Host: the app opened at
	 * another name than PUBLIC_BASE_URL's, as localhost for 127.0.0.1) is
	 * the same origin; a neighbour port or a longer name is not. */
	struct cookies c3;
	char here[96];
	snprintf(here, sizeof(here), "Origin: http://127.0.0.1:%d", w.srv.port);
	r = cookie_refresh(c2.token, NULL, here);
	harness_expect(&r, 200, NULL);
	assert_session_cookies(&r, &c3, false);
	e2e_resp_free(&r);
	snprintf(here, sizeof(here), "Origin: http://127.0.0.1:%d", w.srv.port + 1);
	r = cookie_refresh(c3.token, NULL, here);
	harness_expect_coded(&r, 403, "origin_forbidden");
	e2e_resp_free(&r);
	snprintf(here, sizeof(here), "Origin: http://127.0.0.1:%d.evil.test", w.srv.port);
	r = cookie_refresh(c3.token, NULL, here);
	harness_expect_coded(&r, 403, "origin_forbidden");
	e2e_resp_free(&r);

	/* The header takes one value. */
	const char *const odd[] = {"X-Cinema-Session: cookies", ORIGIN, NULL};
	r = harness_request("POST", "/api/v1/accounts/login", NULL, login_body(email), odd);
	harness_expect_coded(&r, 400, "bad_request");
	assert_no_cookies(&r);
	e2e_resp_free(&r);
	/* A cookie-mode refresh takes no refresh_token field. */
	r = cookie_refresh(c2.token, harness_fmt("{\"refresh_token\":\"%s\"}", c2.token), ORIGIN);
	harness_expect_coded(&r, 422, "validation_failed");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(without_the_header_nothing_changes)
{
	start_api(BASE_URL);
	const char *email = user();
	/* JSON login: the pair in the body, no cookie, even from a browser. */
	const char *const h[] = {"Origin: https://elsewhere.test", NULL};
	struct e2e_resp r =
		harness_request("POST", "/api/v1/accounts/login", NULL, login_body(email), h);
	harness_expect(&r, 200, NULL);
	assert_no_cookies(&r);
	static const char *const keys[] = {"access_token", "refresh_token", "token_type",
					   "expires_in", NULL};
	harness_assert_keys(r.json, keys, "token pair");
	char refresh[64], access[2048];
	snprintf(refresh, sizeof(refresh), "%s",
		 json_string_value(json_object_get(r.json, "refresh_token")));
	snprintf(access, sizeof(access), "%s",
		 json_string_value(json_object_get(r.json, "access_token")));
	e2e_resp_free(&r);

	/* A refresh cookie without the header is not read. */
	char cookie[128];
	snprintf(cookie, sizeof(cookie), "Cookie: cinema_refresh=%s", refresh);
	const char *const ck[] = {cookie, NULL};
	r = harness_request("POST", "/api/v1/accounts/refresh", NULL, "{}", ck);
	harness_expect_coded(&r, 422, "validation_failed");
	assert_no_cookies(&r);
	e2e_resp_free(&r);
	r = harness_request("POST", "/api/v1/accounts/refresh", NULL, NULL, ck);
	harness_expect_coded(&r, 415, "unsupported_media_type");
	e2e_resp_free(&r);
	r = harness_request("POST", "/api/v1/accounts/refresh", NULL,
			    harness_fmt("{\"refresh_token\":\"%s\"}", refresh), ck);
	harness_expect(&r, 200, NULL);
	assert_no_cookies(&r);
	harness_assert_keys(r.json, keys, "token pair");
	snprintf(refresh, sizeof(refresh), "%s",
		 json_string_value(json_object_get(r.json, "refresh_token")));
	snprintf(access, sizeof(access), "%s",
		 json_string_value(json_object_get(r.json, "access_token")));
	e2e_resp_free(&r);
	/* A 401 answers no cookie either. */
	harness_check_coded_call("POST", "/api/v1/accounts/refresh", NULL,
				 harness_json("{s:s}", "refresh_token", "nope"), 401,
				 "refresh_token_invalid");
	/* Logout still wants the refresh token in the body. */
	r = harness_request("POST", "/api/v1/accounts/logout", access, "{}", NULL);
	harness_expect_coded(&r, 422, "validation_failed");
	e2e_resp_free(&r);
	r = harness_request("POST", "/api/v1/accounts/logout", access,
			    harness_fmt("{\"refresh_token\":\"%s\"}", refresh), NULL);
	harness_expect(&r, 204, NULL);
	assert_no_cookies(&r);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(cookies_are_secure_behind_https)
{
	start_api("https://cinema.example.com");
	const char *email = user();
	const char *const h[] = {COOKIE_MODE, "Origin: https://cinema.example.com", NULL};
	struct e2e_resp r =
		harness_request("POST", "/api/v1/accounts/login", NULL, login_body(email), h);
	harness_expect(&r, 200, NULL);
	struct cookies c;
	assert_session_cookies(&r, &c, true);
	e2e_resp_free(&r);
	char cookie[160];
	snprintf(cookie, sizeof(cookie), "Cookie: cinema_refresh=%s", c.token);
	const char *const again[] = {COOKIE_MODE, "Origin: https://cinema.example.com:443", cookie,
				     NULL};
	r = harness_request("POST", "/api/v1/accounts/refresh", NULL, NULL, again);
	harness_expect(&r, 200, NULL);
	assert_session_cookies(&r, &c, true);
	e2e_resp_free(&r);
	const char *const plain[] = {COOKIE_MODE, "Origin: http://cinema.example.com", NULL};
	r = harness_request("POST", "/api/v1/accounts/login", NULL, login_body(email), plain);
	harness_expect_coded(&r, 403, "origin_forbidden");
	e2e_resp_free(&r);
}
END_TEST

int main(void)
{
	if (!harness_main_ready("test_cookie_session"))
		return 1;
	Suite *s = suite_create("cookie_session");
	TCase *tc = tcase_create("cookie_session");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, login_refresh_rotation_reuse_and_logout);
	tcase_add_test(tc, refresh_without_a_usable_cookie_is_401_and_clears);
	tcase_add_test(tc, odd_cookie_headers);
	tcase_add_test(tc, another_origin_is_403_and_changes_nothing);
	tcase_add_test(tc, without_the_header_nothing_changes);
	tcase_add_test(tc, cookies_are_secure_behind_https);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
