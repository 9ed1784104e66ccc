/* End-to-end tests of the hosted checkout page of cinema-stripe-fake, the
 * way a browser uses it: the real `cinema-api serve` (database and Redis of
 * the test) talks to the real cinema-stripe-fake binary as to Stripe; a
 * buyer orders two movies, checks out, opens the session's url (the fake's
 * HTML page), presses Pay or Cancel (a form POST) and is sent back to the
 * shop's /orders/{id}?checkout=success|cancel with 303 See Other, and the
 * order is paid (the signed webhook landed) or still pending.
 *
 * The shop's pages are not served here (no WEB_DIR): PUBLIC_BASE_URL is
 * BASE_URL, and the test checks where the fake sends the browser, then asks
 * the API what the return page would show.
 *
 * Needs DATABASE_URL and REDIS_URL (scripts/test.sh provides them),
 * CINEMA_API_BIN, CINEMA_STRIPE_FAKE_BIN, TEMPLATES_DIR and MIGRATIONS_DIR
 * (set by CTest). Redis: this suite owns database REDIS_DB of the server of
 * REDIS_URL, flushed before and after each test. Every process started is
 * tracked and stopped by the checked teardown (see harness.h). */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"
#include "harness.h"

#define REDIS_DB       6
#define BASE_URL       "http://shop.test"
#define PASSWORD       "Popcorn-42!"
#define SECRET_KEY     "sk_test_hosted"
#define WEBHOOK_SECRET "whsec_hosted"
#define FORM_HEADER    "Content-Type: application/x-www-form-urlencoded"

static struct harness_world w;

/* The fake of this test. */
static struct {
	pid_t pid;
	int port;
	char url[64];
	const char *log;
} fake;

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Starts the API talking to a fake on a free port, then the fake sending
 * its events to webhook_path on the API (the Stripe webhook endpoint's). */
static void boot(const char *webhook_path)
{
	fake.port = e2e_free_port();
	snprintf(fake.url, sizeof(fake.url), "http://127.0.0.1:%d", fake.port);
	harness_world_api_env(&w, &w.srv_env, BASE_URL);
	harness_env_set(&w.srv_env, "STRIPE_API_BASE=%s", fake.url);
	harness_env_set(&w.srv_env, "STRIPE_SECRET_KEY=%s", SECRET_KEY);
	harness_env_set(&w.srv_env, "STRIPE_WEBHOOK_SECRET=%s", WEBHOOK_SECRET);
	harness_server_start(&w.srv, w.srv_env.p);

	char port[16], hook[256];
	snprintf(port, sizeof(port), "%d", fake.port);
	snprintf(hook, sizeof(hook), "%s%s", w.srv.base_url, webhook_path);
	char *argv[] = {(char *)"cinema-stripe-fake",
			(char *)"--port",
			port,
			(char *)"--secret-key",
			(char *)SECRET_KEY,
			(char *)"--webhook-secret",
			(char *)WEBHOOK_SECRET,
			(char *)"--webhook-url",
			hook,
			NULL};
	fake.log = harness_log_new("stripe-fake");
	fake.pid = e2e_spawn(e2e_bin("CINEMA_STRIPE_FAKE_BIN"), argv, NULL, NULL, fake.log);
	ck_assert_msg(fake.pid > 0, "cannot start cinema-stripe-fake");
	harness_track(fake.pid);
	harness_wait_port(fake.pid, fake.port, "cinema-stripe-fake");
}

static void setup(void)
{
	static const char *const need[] = {"CINEMA_STRIPE_FAKE_BIN", NULL};
	harness_world_begin(&w, "shc", REDIS_DB);
	harness_require_env(need);
	memset(&fake, 0, sizeof(fake));
}

static void teardown(void)
{
	harness_world_end(&w);
}

/* --- the shop, through its API --- */

static long long create_named(const char *path, const char *bearer, const char *name)
{
	struct e2e_resp r = harness_call("POST", path, bearer, harness_json("{s:s}", "name", name));
	harness_expect_coded(&r, 201, NULL);
	long long id = json_integer_value(json_object_get(r.json, "id"));
	e2e_resp_free(&r);
	return id;
}

/* Two movies (9.99 and 4.50) made by a moderator, in ann's cart, ordered
 * and checked out: answers the order id, the checkout url into url. */
static long long order_two(struct harness_user *ann, char *url, size_t url_len)
{
	static const char *const names[] = {"Silent Harbor", "Laughing <Gas> & Co"};
	static const char *const prices[] = {"9.99", "4.50"};
	struct harness_user u[2] = {{harness_unique_email("ann"), "USER", 0, ""},
				    {harness_unique_email("mod"), "MODERATOR", 0, ""}};
	harness_create_users(w.ci, u, 2, PASSWORD);
	*ann = u[0];
	long long genre = create_named("/api/v1/genres", u[1].access, "Drama");
	long long cert = create_named("/api/v1/certifications", u[1].access, "PG-13");
	for (int i = 0; i < 2; i++) {
		struct e2e_resp r = harness_call(
			"POST", "/api/v1/movies", u[1].access,
			harness_json("{s:s,s:i,s:i,s:f,s:i,s:s,s:s,s:I,s:[I]}", "name", names[i],
				     "year", 2001 + i, "time", 100, "imdb", 7.1, "votes", 1000,
				     "description", "A film for the hosted checkout.", "price",
				     prices[i], "certification_id", (json_int_t)cert, "genre_ids",
				     (json_int_t)genre));
		harness_expect_coded(&r, 201, NULL);
		long long movie = json_integer_value(json_object_get(r.json, "id"));
		e2e_resp_free(&r);
		harness_check_coded_call("POST", "/api/v1/cart/items", ann->access,
					 harness_json("{s:I}", "movie_id", (json_int_t)movie), 201,
					 NULL);
	}
	struct e2e_resp r = harness_call("POST", "/api/v1/orders", ann->access, NULL);
	harness_expect_coded(&r, 201, NULL);
	long long order =
		json_integer_value(json_object_get(json_object_get(r.json, "order"), "id"));
	e2e_resp_free(&r);
	r = harness_call("POST", harness_fmt("/api/v1/orders/%lld/checkout", order), ann->access,
			 NULL);
	harness_expect_coded(&r, 200, NULL);
	ck_assert_msg(jstr(r.json, "checkout_url") && jstr(r.json, "session_id"), "checkout: %s",
		      r.body.data);
	snprintf(url, url_len, "%s", jstr(r.json, "checkout_url"));
	/* The session's url is the fake's own hosted page. */
	ck_assert_str_eq(url, harness_fmt("%s/checkout/%s", fake.url, jstr(r.json, "session_id")));
	e2e_resp_free(&r);
	return order;
}

static const char *order_status(const struct harness_user *ann, long long order)
{
	json_t *o = harness_get_json(harness_fmt("/api/v1/orders/%lld", order), ann->access);
	const char *s = harness_fmt("%s", jstr(o, "status"));
	json_decref(o);
	return s;
}

/* --- the browser --- */

/* GET the hosted page; asserts 200 HTML and answers the owned body. */
static char *page(const char *url)
{
	char type[128] = "", csp[256] = "";
	struct e2e_resp r = harness_raw("GET", url, NULL, NULL, 0);
	ck_assert_msg(r.status == 200, "GET %s: %ld %s", url, r.status, r.body.data);
	ck_assert(e2e_header(&r, "Content-Type", type, sizeof(type)));
	ck_assert_str_eq(type, "text/html; charset=utf-8");
	ck_assert(e2e_header(&r, "Content-Security-Policy", csp, sizeof(csp)));
	ck_assert_msg(strstr(csp, "default-src 'none'") != NULL, "CSP: %s", csp);
	char *body = strdup(r.body.data ? r.body.data : "");
	e2e_resp_free(&r);
	return body;
}

/* A form POST with no fields, as the page's buttons send; answers the
 * response (not followed). */
static struct e2e_resp press(const char *url, const char *button)
{
	static const char *const headers[] = {FORM_HEADER, NULL};
	return harness_raw("POST", harness_fmt("%s/%s", url, button), headers, "", 0);
}

static void expect_see_other(struct e2e_resp *r, const char *location)
{
	char loc[512] = "";
	ck_assert_msg(r->status == 303, "want 303, got %ld: %s", r->status, r->body.data);
	ck_assert(e2e_header(r, "Location", loc, sizeof(loc)));
	ck_assert_str_eq(loc, location);
}

static void expect_contains(const char *text, const char *needle)
{
	ck_assert_msg(strstr(text, needle) != NULL, "\"%s\" is not in:\n%s", needle, text);
}

/* Pay: the webhook lands, the browser goes to the success page, the order is
 * paid with both movies bought; the page then says the checkout is
 * complete, and a second Pay (the back button) changes nothing. */
START_TEST(test_pay)
{
	struct harness_user ann;
	char url[512];
	boot("/api/v1/payments/webhook");
	long long order = order_two(&ann, url, sizeof(url));

	char *html = page(url);
	expect_contains(html, "Test mode");
	expect_contains(html, "<td>Silent Harbor</td>");
	expect_contains(html, "<td>Laughing &lt;Gas&gt; &amp; Co</td>"); /* as text */
	expect_contains(html, "14.49 USD");
	expect_contains(html, harness_fmt("<form method=\"post\" action=\"%s/pay\">",
					  strrchr(url, '/') + 1));
	expect_contains(html, ">Pay</button>");
	expect_contains(html, ">Cancel</button>");
	free(html);
	ck_assert_str_eq(order_status(&ann, order), "pending");

	struct e2e_resp r = press(url, "pay");
	expect_see_other(&r, harness_fmt(BASE_URL "/orders/%lld?checkout=success", order));
	e2e_resp_free(&r);
	/* The event was acknowledged before the redirect: paid at once. */
	ck_assert_str_eq(order_status(&ann, order), "paid");
	json_t *p = harness_get_json("/api/v1/purchases", ann.access);
	ck_assert_int_eq(json_integer_value(json_object_get(p, "total_items")), 2);
	json_decref(p);

	html = page(url);
	expect_contains(html, "This checkout is complete");
	expect_contains(html, "The payment was received.");
	expect_contains(html,
			harness_fmt("href=\"" BASE_URL "/orders/%lld?checkout=success\"", order));
	ck_assert_msg(strstr(html, "<button") == NULL, "buttons on a complete checkout");
	free(html);

	r = press(url, "pay");
	expect_see_other(&r, harness_fmt(BASE_URL "/orders/%lld?checkout=success", order));
	e2e_resp_free(&r);
	r = press(url, "cancel");
	ck_assert_int_eq(r.status, 409);
	e2e_resp_free(&r);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM payments"), 1);

	/* One line a request; SIGTERM ends it cleanly. */
	ck_assert(harness_file_contains(fake.log, "POST /checkout/"));
	ck_assert(harness_file_contains(fake.log, "/pay 303"));
	ck_assert(harness_file_contains(fake.log, ": HTTP 200 (attempt 1)"));
	ck_assert(!harness_file_contains(fake.log, SECRET_KEY));
	ck_assert_int_eq(harness_stop(fake.pid, SIGTERM, 5000), 0);
}
END_TEST

/* Cancel: back to the cancel page, the order still pending and the session
 * still open, so the same page can still pay it. */
START_TEST(test_cancel)
{
	struct harness_user ann;
	char url[512];
	boot("/api/v1/payments/webhook");
	long long order = order_two(&ann, url, sizeof(url));

	struct e2e_resp r = press(url, "cancel");
	expect_see_other(&r, harness_fmt(BASE_URL "/orders/%lld?checkout=cancel", order));
	e2e_resp_free(&r);
	ck_assert_str_eq(order_status(&ann, order), "pending");
	json_t *o = harness_get_json(harness_fmt("/api/v1/orders/%lld", order), ann.access);
	ck_assert_str_eq(jstr(o, "checkout_url"), url);
	json_decref(o);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM payments"), 0);

	char *html = page(url);
	expect_contains(html, ">Pay</button>");
	free(html);
	r = press(url, "pay");
	expect_see_other(&r, harness_fmt(BASE_URL "/orders/%lld?checkout=success", order));
	e2e_resp_free(&r);
	ck_assert_str_eq(order_status(&ann, order), "paid");
}
END_TEST

/* The shop never acknowledges the event: after a few brief retries the page
 * says so (no redirect) and offers to send it again. */
START_TEST(test_webhook_refused)
{
	struct harness_user ann;
	char url[512];
	boot("/api/v1/payments/webhook-nowhere"); /* a path the API does not have */
	long long order = order_two(&ann, url, sizeof(url));

	struct e2e_resp r = press(url, "pay");
	ck_assert_msg(r.status == 502, "want 502, got %ld", r.status);
	expect_contains(r.body.data, "role=\"alert\"");
	expect_contains(r.body.data, "webhook-nowhere</code> answered HTTP 4");
	expect_contains(r.body.data, " (5 attempts).");
	expect_contains(r.body.data, ">Send the event again</button>");
	e2e_resp_free(&r);
	ck_assert_str_eq(order_status(&ann, order), "pending");
	char *html = page(url);
	expect_contains(html, "This checkout is complete");
	free(html);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("stripe_hosted");
	TCase *tc = tcase_create("hosted");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pay);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_webhook_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (!harness_main_ready("test_stripe_hosted"))
		return 1;
	return harness_run(suite());
}
