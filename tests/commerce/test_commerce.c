/* End-to-end tests of commerce over HTTP: the cart, orders, the Stripe
 * checkout, signed webhooks, payments, purchases, refunds, the moderators'
 * views and the catalog's delete rules for movies someone wants or owns.
 *
 * The real `cinema-api serve` runs against a fresh migrated database per
 * test and Redis; Stripe is the protocol fake of tests/support/stripe_fake.h
 * on loopback, in the test process (STRIPE_API_BASE points at it), which
 * also sends the signed webhooks. The confirmation email takes the real path
 * (cinema-scheduler sending to cinema-mailsink over SMTP). The catalog is
 * made through the API by a moderator; users come from `cinema-api
 * create-user --active`.
 *
 * Needs DATABASE_URL and REDIS_URL (scripts/test.sh provides them; the suite
 * fails when they are missing), CINEMA_API_BIN, CINEMA_SCHEDULER_BIN,
 * CINEMA_MAILSINK_BIN, TEMPLATES_DIR and MIGRATIONS_DIR (set by CTest). The
 * "fake" case needs none of them: it checks the Stripe fake on its own.
 *
 * Redis: this suite owns database REDIS_DB of the server of REDIS_URL,
 * flushed before and after each test; each test has its own email queue.
 *
 * Cleanup: every process a test starts is tracked and killed by the checked
 * teardown, which also stops the fake, drops the database and removes the
 * mail directory and logs. In fork mode a failed assertion ends the test
 * process before teardown; check then kills the test's whole process group,
 * children included (the fake's threads die with the test process). Waiting
 * is polling with generous bounds; no assertion depends on how fast anything
 * runs (the one delay, a Stripe answer held back past the API's timeout,
 * is ten times that timeout). */
#include <check.h>
#include <curl/curl.h>
#include <dirent.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cinema/kv.h"
#include "cinema/log.h"
#include "e2e.h"
#include "harness.h"
#include "mailbox.h"
#include "stripe_fake.h"

#define REDIS_DB       15
#define BASE_URL       "http://frontend.test"
#define PASSWORD       "Popcorn-42!"
#define SECRET_KEY     "sk_test_fake"
#define WEBHOOK_SECRET "whsec_test"
#define DECLINED_HINT  "Your payment was declined. Try a different payment method."
#define TIMEOUT_MS     500  /* STRIPE_TIMEOUT_MS in the provider-failure test */
#define HANG_MS	       5000 /* a Stripe answer held back well past it */
#define CONCURRENT     8

/* --- the running test; teardown ends and removes all of it --- */

static struct harness_world w;
static struct stripe_fake *fake;    /* the test's Stripe, NULL until started */
static struct harness_user cast[2]; /* ann_and_mod's (check forks each test) */

/* The API's environment for this test, Stripe pointing at stripe_base. */
static void api_env(struct harness_env *e, const char *stripe_base, int timeout_ms)
{
	harness_world_api_env(&w, e, BASE_URL);
	harness_env_set(e, "STRIPE_API_BASE=%s", stripe_base);
	harness_env_set(e, "STRIPE_SECRET_KEY=%s", SECRET_KEY);
	harness_env_set(e, "STRIPE_WEBHOOK_SECRET=%s", WEBHOOK_SECRET);
	if (timeout_ms)
		harness_env_set(e, "STRIPE_TIMEOUT_MS=%d", timeout_ms);
}

/* Starts the Stripe fake, then `cinema-api serve` on the test's database
 * and Redis database talking to it (STRIPE_TIMEOUT_MS=timeout_ms unless 0),
 * and if asked the email path first. */
static void boot_with(bool mail, int timeout_ms)
{
	if (mail)
		harness_world_mail(&w, BASE_URL);
	fake = stripe_fake_start(SECRET_KEY, WEBHOOK_SECRET);
	ck_assert_msg(fake != NULL, "the Stripe fake did not start");
	api_env(&w.srv_env, stripe_fake_url(fake), timeout_ms);
	harness_server_start(&w.srv, w.srv_env.p);
}

static void boot(bool mail)
{
	boot_with(mail, 0);
}

/* --- fixture --- */

static void setup(void)
{
	harness_world_begin(&w, "com", REDIS_DB);
}

static void teardown(void)
{
	harness_world_end(&w);
	stripe_fake_stop(fake);
	fake = NULL;
}

/* --- HTTP --- */

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long jint(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v)) {
		char *text = json_dumps(o, JSON_COMPACT);
		char msg[2048];
		snprintf(msg, sizeof(msg), "\"%s\" is not an integer in %.1900s", key,
			 text ? text : "(not JSON)");
		free(text);
		ck_abort_msg("%s", msg);
	}
	return json_integer_value(v);
}

/* Asserts string member key of o equals want. */
#define expect_str(o, key, want) expect_str_at(o, key, want, __LINE__)
static void expect_str_at(const json_t *o, const char *key, const char *want, int line)
{
	const char *v = jstr(o, key);
	if (!v || strcmp(v, want) != 0) {
		char *text = json_dumps(o, JSON_COMPACT);
		char msg[2048];
		snprintf(msg, sizeof(msg), "line %d: \"%s\" is not \"%s\" in %.1800s", line, key,
			 want, text ? text : "(null)");
		free(text);
		ck_abort_msg("%s", msg);
	}
}

/* Asserts that object o has at least the keys listed (NULL-terminated). */
static void assert_has_keys(const json_t *o, const char *const *keys, const char *what)
{
	char *text = json_dumps(o, JSON_COMPACT);
	ck_assert_msg(json_is_object(o), "%s is not an object: %s", what, text ? text : "");
	for (const char *const *k = keys; *k; k++)
		ck_assert_msg(json_object_get(o, *k) != NULL, "%s has no \"%s\": %s", what, *k,
			      text);
	free(text);
}

/* Asserts a paginated list and answers its items (borrowed from page). */
static json_t *page_items(const json_t *page, long long total)
{
	char *text = json_dumps(page, JSON_COMPACT);
	json_t *items = json_object_get(page, "items");
	ck_assert_msg(json_is_array(items) && json_is_integer(json_object_get(page, "total_items")),
		      "not a page: %s", text);
	if (total >= 0)
		ck_assert_msg(json_integer_value(json_object_get(page, "total_items")) == total,
			      "total_items, want %lld: %s", total, text);
	free(text);
	return items;
}

/* The ids (member key) of an array's objects, sorted, as "1,2,3". */
static const char *ids_of(const json_t *array, const char *key)
{
	static char out[512];
	long long v[64];
	size_t n = 0, i, o = 0;
	json_t *it;
	json_array_foreach (array, i, it)
		if (n < 64)
			v[n++] = json_integer_value(json_object_get(it, key));
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0 && v[b - 1] > v[b]; b--) {
			long long t = v[b];
			v[b] = v[b - 1];
			v[b - 1] = t;
		}
	out[0] = '\0';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%lld", i ? "," : "", v[i]);
	return out;
}

/* "a,b" from two ids, sorted. */
static const char *pair(long long a, long long b)
{
	return a < b ? harness_fmt("%lld,%lld", a, b) : harness_fmt("%lld,%lld", b, a);
}

/* The element of array whose member key is id, or NULL (borrowed). */
static json_t *find_by(const json_t *array, const char *key, long long id)
{
	size_t i;
	json_t *it;
	json_array_foreach (array, i, it)
		if (json_integer_value(json_object_get(it, key)) == id)
			return it;
	return NULL;
}

/* Whether an admin list item belongs to user id: "user_id", or "user": {"id"}. */
static bool owned_by(const json_t *item, long long id)
{
	json_t *u = json_object_get(item, "user_id");
	if (!u)
		u = json_object_get(json_object_get(item, "user"), "id");
	return json_integer_value(u) == id;
}

/* Whether j contains, at any depth, an object with member key equal to id. */
static bool contains_id(const json_t *j, const char *key, long long id)
{
	const char *k;
	json_t *v;
	size_t i;
	if (json_is_object(j)) {
		json_object_foreach ((json_t *)j, k, v) {
			if (strcmp(k, key) == 0 && json_integer_value(v) == id)
				return true;
			if (contains_id(v, key, id))
				return true;
		}
	} else if (json_is_array(j)) {
		json_array_foreach (j, i, v)
			if (contains_id(v, key, id))
				return true;
	}
	return false;
}

/* --- users and movies --- */

#define NMOVIES 4

/* The catalog of every test, made through the API by a moderator. */
static const struct {
	const char *name;
	int year;
	const char *price;
	long long cents;
} movie_defs[NMOVIES] = {
	{"Silent Harbor", 1999, "9.99", 999},
	{"Laughing Gas", 2005, "4.50", 450},
	{"Winter Orchard", 2012, "12.00", 1200},
	{"Paper Moons", 2020, "0.99", 99},
};

struct catalog {
	long long genre, cert;
	long long m[NMOVIES];
};

static long long create_named(const char *path, const char *bearer, const char *name)
{
	struct e2e_resp r = harness_call("POST", path, bearer, harness_json("{s:s}", "name", name));
	harness_expect_coded(&r, 201, NULL);
	long long id = jint(r.json, "id");
	e2e_resp_free(&r);
	return id;
}

static void make_catalog(struct catalog *c, const char *mod)
{
	c->genre = create_named("/api/v1/genres", mod, "Drama");
	c->cert = create_named("/api/v1/certifications", mod, "PG-13");
	for (int i = 0; i < NMOVIES; i++) {
		struct e2e_resp r = harness_call(
			"POST", "/api/v1/movies", mod,
			harness_json("{s:s,s:i,s:i,s:f,s:i,s:s,s:s,s:I,s:[I]}", "name",
				     movie_defs[i].name, "year", movie_defs[i].year, "time", 100,
				     "imdb", 7.1, "votes", 1000, "description",
				     "A film for the commerce tests.", "price", movie_defs[i].price,
				     "certification_id", (json_int_t)c->cert, "genre_ids",
				     (json_int_t)c->genre));
		harness_expect_coded(&r, 201, NULL);
		c->m[i] = jint(r.json, "id");
		e2e_resp_free(&r);
	}
}

/* The two accounts of most tests, signed in: [0] ann, a USER, and [1] mod,
 * a MODERATOR. */
static struct harness_user *ann_and_mod(void)
{
	cast[0] = (struct harness_user){harness_unique_email("ann"), "USER", 0, ""};
	cast[1] = (struct harness_user){harness_unique_email("mod"), "MODERATOR", 0, ""};
	harness_create_users(w.ci, cast, 2, PASSWORD);
	return cast;
}

/* --- commerce steps --- */

#define cart_add(bearer, movie) cart_add_at(bearer, movie, __LINE__)
static void cart_add_at(const char *bearer, long long movie, int line)
{
	struct e2e_resp r = harness_call("POST", "/api/v1/cart/items", bearer,
					 harness_json("{s:I}", "movie_id", (json_int_t)movie));
	harness_expect_coded_at(&r, 201, NULL, line);
	e2e_resp_free(&r);
}

/* POST /orders; asserts 201 and answers the order id; *excluded (if not
 * NULL) gets the owned "excluded" array. */
#define place_order(bearer, excluded) place_order_at(bearer, excluded, __LINE__)
static long long place_order_at(const char *bearer, json_t **excluded, int line)
{
	struct e2e_resp r = harness_call("POST", "/api/v1/orders", bearer, NULL);
	harness_expect_coded_at(&r, 201, NULL, line);
	json_t *order = json_object_get(r.json, "order");
	json_t *ex = json_object_get(r.json, "excluded");
	ck_assert_msg(json_is_object(order) && json_is_array(ex),
		      "line %d: not {order, excluded}: %s", line, r.body.data);
	long long id = jint(order, "id");
	expect_str_at(order, "status", "pending", line);
	if (excluded)
		*excluded = json_incref(ex);
	e2e_resp_free(&r);
	return id;
}

static json_t *get_order(const char *bearer, long long id)
{
	return harness_get_json(harness_fmt("/api/v1/orders/%lld", id), bearer);
}

/* POST /orders/{id}/checkout; asserts 200 and the shape, answers the owned
 * body. */
#define checkout(bearer, order) checkout_at(bearer, order, __LINE__)
static json_t *checkout_at(const char *bearer, long long order, int line)
{
	static const char *const keys[] = {"checkout_url", "session_id", "total_amount", NULL};
	struct e2e_resp r = harness_call("POST", harness_fmt("/api/v1/orders/%lld/checkout", order),
					 bearer, NULL);
	harness_expect_coded_at(&r, 200, NULL, line);
	assert_has_keys(r.json, keys, "checkout");
	json_t *j = json_incref(r.json);
	e2e_resp_free(&r);
	return j;
}

/* Cart, order and checkout of movies in one go; answers the order id and
 * copies the session id into sid. */
static long long order_and_checkout(const char *bearer, const long long *movies, size_t n,
				    char *sid, size_t sid_len)
{
	for (size_t i = 0; i < n; i++)
		cart_add(bearer, movies[i]);
	long long order = place_order(bearer, NULL);
	json_t *co = checkout(bearer, order);
	snprintf(sid, sid_len, "%s", jstr(co, "session_id"));
	json_decref(co);
	return order;
}

/* The PaymentIntent of a session of the fake, copied into out. */
static void session_intent(const char *sid, char *out, size_t len)
{
	json_t *s = stripe_fake_session(fake, sid);
	ck_assert_msg(s != NULL, "the fake has no session %s", sid);
	snprintf(out, len, "%s", jstr(s, "payment_intent"));
	json_decref(s);
}

/* Webhook senders asserting the API's status; *resp_out (if not NULL) gets
 * the owned JSON answer. */
#define EXPECT_HOOK(call_, want, what)                                                         \
	do {                                                                                   \
		long st_ = (call_);                                                            \
		ck_assert_msg(st_ == (want), "%s: webhook answered %ld, want %d%s", what, st_, \
			      (int)(want), harness_logs_tail());                               \
	} while (0)

/* Pays order's session through a signed checkout.session.completed. */
static void pay(const char *sid)
{
	json_t *resp = NULL;
	struct stripe_fake_send o = {.response_out = &resp};
	EXPECT_HOOK(stripe_fake_complete(fake, sid, w.srv.base_url, &o), 200, "completed");
	char *text = json_dumps(resp, JSON_COMPACT);
	ck_assert_msg(json_is_true(json_object_get(resp, "received")), "webhook answer: %s",
		      text ? text : "(not JSON)");
	ck_assert_msg(!json_is_true(json_object_get(resp, "duplicate")),
		      "a first delivery answered as a duplicate: %s", text);
	free(text);
	json_decref(resp);
}

/* Order status, payments, payment items and purchases as one string. */
static const char *money_state(long long order)
{
	char *status = harness_sql_value(
		harness_fmt("SELECT status::text FROM orders WHERE id = %lld", order));
	const char *s = harness_fmt("%s/payments=%lld/items=%lld/purchases=%lld", status,
				    harness_sql_int("SELECT count(*) FROM payments"),
				    harness_sql_int("SELECT count(*) FROM payment_items"),
				    harness_sql_int("SELECT count(*) FROM purchases"));
	free(status);
	return s;
}

/* Waits until every email job is done and want messages arrived, then
 * asserts exactly want jobs and messages. */
static void wait_mail_settled(int want)
{
	long long deadline = harness_now_ms() + HARNESS_WAIT_MS;
	int have;
	long long open;
	for (;;) {
		have = mailbox_count(w.maildir);
		open = harness_sql_int("SELECT count(*) FROM email_jobs WHERE status IN "
				       "('pending', 'sending')");
		if ((have >= want && open == 0) || harness_now_ms() > deadline)
			break;
		harness_sleep_ms(HARNESS_POLL_MS);
	}
	ck_assert_msg(open == 0, "%lld email jobs still not sent after %ld ms:%s", open,
		      HARNESS_WAIT_MS, harness_logs_tail());
	char *jobs =
		harness_sql_value("SELECT coalesce(string_agg(kind || ':' || status, ',' ORDER BY "
				  "id), '') FROM email_jobs");
	ck_assert_msg(have == want, "%d messages delivered, want %d (jobs: %s)%s", have, want, jobs,
		      harness_logs_tail());
	free(jobs);
}

/* --- the whole purchase --- */

START_TEST(purchase_and_refund)
{
	boot(true);
	struct harness_user *u = ann_and_mod();
	const char *ann = u[0].access;
	struct catalog c;
	make_catalog(&c, u[1].access);

	/* The cart. */
	cart_add(ann, c.m[0]);
	cart_add(ann, c.m[1]);
	json_t *cart = harness_get_json("/api/v1/cart", ann);
	static const char *const item_keys[] = {"movie_id", "name",	"price", "year",
						"genres",   "added_at", NULL};
	json_t *items = json_object_get(cart, "items");
	ck_assert_uint_eq(json_array_size(items), 2);
	ck_assert_str_eq(ids_of(items, "movie_id"), pair(c.m[0], c.m[1]));
	for (int i = 0; i < 2; i++) {
		json_t *it = find_by(items, "movie_id", c.m[i]);
		assert_has_keys(it, item_keys, "cart item");
		expect_str(it, "name", movie_defs[i].name);
		expect_str(it, "price", movie_defs[i].price);
		ck_assert_int_eq(jint(it, "year"), movie_defs[i].year);
		ck_assert(json_is_array(json_object_get(it, "genres")));
		ck_assert_uint_eq(json_array_size(json_object_get(it, "genres")), 1);
	}
	expect_str(cart, "total", "14.49");
	json_decref(cart);

	/* The order takes the cart. */
	json_t *excluded = NULL;
	long long order = place_order(ann, &excluded);
	ck_assert_uint_eq(json_array_size(excluded), 0);
	json_decref(excluded);
	cart = harness_get_json("/api/v1/cart", ann);
	ck_assert_uint_eq(json_array_size(json_object_get(cart, "items")), 0);
	expect_str(cart, "total", "0.00");
	json_decref(cart);

	static const char *const order_keys[] = {"id",		 "created_at", "status",
						 "total_amount", "items",      "checkout_url",
						 "payment_hint", NULL};
	static const char *const order_item_keys[] = {"movie_id", "name", "price_at_order", NULL};
	json_t *o = get_order(ann, order);
	assert_has_keys(o, order_keys, "order");
	expect_str(o, "status", "pending");
	expect_str(o, "total_amount", "14.49");
	ck_assert(json_is_null(json_object_get(o, "checkout_url")));
	ck_assert(json_is_null(json_object_get(o, "payment_hint")));
	items = json_object_get(o, "items");
	ck_assert_str_eq(ids_of(items, "movie_id"), pair(c.m[0], c.m[1]));
	for (int i = 0; i < 2; i++) {
		json_t *it = find_by(items, "movie_id", c.m[i]);
		assert_has_keys(it, order_item_keys, "order item");
		expect_str(it, "name", movie_defs[i].name);
		expect_str(it, "price_at_order", movie_defs[i].price);
	}
	json_decref(o);
	json_t *list = harness_get_json("/api/v1/orders", ann);
	ck_assert_str_eq(ids_of(page_items(list, 1), "id"), harness_fmt("%lld", order));
	json_decref(list);

	/* Checkout: what Stripe received. */
	json_t *co = checkout(ann, order);
	expect_str(co, "total_amount", "14.49");
	char sid[64];
	snprintf(sid, sizeof(sid), "%s", jstr(co, "session_id"));
	json_t *s = stripe_fake_session(fake, NULL);
	ck_assert_msg(s != NULL, "the fake created no session");
	expect_str(s, "id", sid);
	expect_str(co, "checkout_url", jstr(s, "url"));
	ck_assert_int_eq(jint(s, "amount_total"), 1449);
	expect_str(s, "currency", "usd");
	expect_str(s, "client_reference_id", harness_fmt("%lld", order));
	expect_str(json_object_get(s, "metadata"), "order_id", harness_fmt("%lld", order));
	expect_str(s, "customer_email", u[0].email);
	json_t *form = json_object_get(s, "form");
	expect_str(form, "mode", "payment");
	ck_assert_msg(jstr(form, "success_url") &&
			      strncmp(jstr(form, "success_url"), BASE_URL, strlen(BASE_URL)) == 0,
		      "success_url: %s", jstr(form, "success_url"));
	ck_assert_msg(jstr(form, "cancel_url") &&
			      strncmp(jstr(form, "cancel_url"), BASE_URL, strlen(BASE_URL)) == 0,
		      "cancel_url: %s", jstr(form, "cancel_url"));
	json_t *lines = json_object_get(form, "line_items");
	ck_assert_uint_eq(json_array_size(lines), 2);
	for (int i = 0; i < 2; i++) {
		json_t *line = NULL, *l;
		size_t k;
		json_array_foreach (lines, k, l) {
			json_t *pd = json_object_get(l, "price_data");
			const char *name = jstr(json_object_get(pd, "product_data"), "name");
			if (name && strcmp(name, movie_defs[i].name) == 0)
				line = l;
		}
		ck_assert_msg(line != NULL, "no line item named %s", movie_defs[i].name);
		expect_str(line, "quantity", "1");
		json_t *pd = json_object_get(line, "price_data");
		expect_str(pd, "currency", "usd");
		expect_str(pd, "unit_amount", harness_fmt("%lld", movie_defs[i].cents));
	}
	char pi[64];
	snprintf(pi, sizeof(pi), "%s", jstr(s, "payment_intent"));
	json_t *req = stripe_fake_last_request(fake, "/v1/checkout/sessions");
	expect_str(req, "method", "POST");
	expect_str(req, "authorization", "Bearer " SECRET_KEY);
	expect_str(req, "idempotency_key", harness_fmt("checkout-order-%lld-1449-0", order));
	ck_assert_msg(jstr(req, "content_type") &&
			      strncmp(jstr(req, "content_type"),
				      "application/x-www-form-urlencoded", 33) == 0,
		      "content type: %s", jstr(req, "content_type"));
	json_decref(req);
	o = get_order(ann, order);
	expect_str(o, "checkout_url", jstr(s, "url"));
	expect_str(o, "status", "pending");
	json_decref(o);
	json_decref(s);
	json_decref(co);

	/* Stripe says it is paid. */
	pay(sid);
	o = get_order(ann, order);
	expect_str(o, "status", "paid");
	json_decref(o);
	static const char *const payment_keys[] = {"id",     "order_id", "created_at",
						   "amount", "status",	 "external_payment_id",
						   "items",  NULL};
	json_t *pays = harness_get_json("/api/v1/payments", ann);
	json_t *p = json_array_get(page_items(pays, 1), 0);
	assert_has_keys(p, payment_keys, "payment");
	ck_assert_int_eq(jint(p, "order_id"), order);
	expect_str(p, "amount", "14.49");
	expect_str(p, "status", "successful");
	expect_str(p, "external_payment_id", pi);
	ck_assert_uint_eq(json_array_size(json_object_get(p, "items")), 2);
	long long payment = jint(p, "id");
	json_decref(pays);
	p = harness_get_json(harness_fmt("/api/v1/payments/%lld", payment), ann);
	assert_has_keys(p, payment_keys, "payment");
	expect_str(p, "amount", "14.49");
	expect_str(p, "external_payment_id", pi);
	ck_assert_uint_eq(json_array_size(json_object_get(p, "items")), 2);
	json_decref(p);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM payment_items"), 2);

	json_t *bought = harness_get_json("/api/v1/purchases", ann);
	ck_assert_str_eq(ids_of(page_items(bought, 2), "id"), pair(c.m[0], c.m[1]));
	json_decref(bought);
	json_t *m = harness_get_json(harness_fmt("/api/v1/movies/%lld", c.m[0]), ann);
	ck_assert(json_is_true(json_object_get(json_object_get(m, "me"), "is_purchased")));
	json_decref(m);
	m = harness_get_json(harness_fmt("/api/v1/movies/%lld", c.m[2]), ann);
	ck_assert(json_is_false(json_object_get(json_object_get(m, "me"), "is_purchased")));
	json_decref(m);

	/* What a paid order refuses. */
	harness_check_coded_call("POST", "/api/v1/cart/items", ann,
				 harness_json("{s:I}", "movie_id", (json_int_t)c.m[0]), 409,
				 "already_purchased");
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/cancel", order), ann,
				 NULL, 409, "order_paid");

	/* The confirmation email. */
	wait_mail_settled(1);
	struct mailbox_msg *mail = NULL;
	size_t n = mailbox_load(w.maildir, &mail);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(mail[0].rcpt, u[0].email);
	ck_assert_msg(strstr(mail[0].subject, harness_fmt("%lld", order)) != NULL, "subject: %s",
		      mail[0].subject);
	ck_assert_msg(strstr(mail[0].text, "14.49") && strstr(mail[0].text, movie_defs[0].name) &&
			      strstr(mail[0].text, movie_defs[1].name),
		      "confirmation without the total or the movies: %s", mail[0].text);
	mailbox_free(mail, n);
	ck_assert_int_eq(
		harness_sql_int(
			"SELECT count(*) FROM email_jobs WHERE kind = 'payment_confirmation'"),
		1);

	/* The refund: Stripe is asked, the order stays paid until it says so. */
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/refund", order), ann,
				 NULL, 202, NULL);
	json_t *refunds = stripe_fake_refunds(fake);
	ck_assert_uint_eq(json_array_size(refunds), 1);
	json_t *rf = json_array_get(refunds, 0);
	expect_str(rf, "payment_intent", pi);
	ck_assert_int_eq(jint(rf, "amount"), 1449);
	expect_str(rf, "idempotency_key", harness_fmt("refund-order-%lld", order));
	expect_str(rf, "authorization", "Bearer " SECRET_KEY);
	json_decref(refunds);
	o = get_order(ann, order);
	expect_str(o, "status", "paid");
	json_decref(o);

	char evt[64];
	json_t *resp = NULL;
	struct stripe_fake_send so = {
		.event_id_out = evt, .event_id_out_len = sizeof(evt), .response_out = &resp};
	EXPECT_HOOK(stripe_fake_refunded(fake, pi, w.srv.base_url, &so), 200, "charge.refunded");
	json_decref(resp);
	o = get_order(ann, order);
	expect_str(o, "status", "canceled");
	json_decref(o);
	p = harness_get_json(harness_fmt("/api/v1/payments/%lld", payment), ann);
	expect_str(p, "status", "refunded");
	json_decref(p);
	bought = harness_get_json("/api/v1/purchases", ann);
	page_items(bought, 0);
	json_decref(bought);
	m = harness_get_json(harness_fmt("/api/v1/movies/%lld", c.m[0]), ann);
	ck_assert(json_is_false(json_object_get(json_object_get(m, "me"), "is_purchased")));
	json_decref(m);

	/* The same refund event again changes nothing. */
	struct stripe_fake_send again = {.resend_event_id = evt, .response_out = &resp};
	EXPECT_HOOK(stripe_fake_refunded(fake, pi, w.srv.base_url, &again), 200,
		    "charge.refunded again");
	ck_assert(json_is_true(json_object_get(resp, "duplicate")));
	json_decref(resp);
	ck_assert_str_eq(money_state(order), "canceled/payments=1/items=2/purchases=0");

	/* No longer owned: it may be bought again. */
	cart_add(ann, c.m[0]);
}
END_TEST

/* --- refusals --- */

START_TEST(cart_and_order_refusals)
{
	boot(false);
	struct harness_user u[] = {{harness_unique_email("ann"), "USER", 0, ""},
				   {harness_unique_email("bob"), "USER", 0, ""},
				   {harness_unique_email("mod"), "MODERATOR", 0, ""}};
	harness_create_users(w.ci, u, 3, PASSWORD);
	const char *ann = u[0].access, *bob = u[1].access;
	struct catalog c;
	make_catalog(&c, u[2].access);
	json_t *one = harness_json("{s:I}", "movie_id", (json_int_t)c.m[0]);

	/* Anonymous: 401 everywhere. */
	harness_check_coded_call("GET", "/api/v1/cart", NULL, NULL, 401, NULL);
	struct e2e_resp r = harness_call("POST", "/api/v1/cart/items", NULL, json_incref(one));
	harness_expect_coded(&r, 401, NULL);
	const char *detail = jstr(r.json, "detail");
	ck_assert_msg(strcasestr(detail, "sign up") || strcasestr(detail, "register"),
		      "an anonymous cart is not told to sign up: %s", r.body.data);
	e2e_resp_free(&r);
	harness_check_coded_call("DELETE", "/api/v1/cart", NULL, NULL, 401, NULL);
	harness_check_coded_call("POST", "/api/v1/orders", NULL, NULL, 401, NULL);
	harness_check_coded_call("GET", "/api/v1/orders", NULL, NULL, 401, NULL);
	harness_check_coded_call("GET", "/api/v1/payments", NULL, NULL, 401, NULL);

	/* Bad bodies, unknown movies. */
	harness_check_coded_call("POST", "/api/v1/cart/items", ann,
				 harness_json("{s:i}", "movie_id", 999999), 404, NULL);
	harness_check_invalid("POST", "/api/v1/cart/items", ann, harness_json("{}"), "movie_id",
			      NULL);
	harness_check_invalid("POST", "/api/v1/cart/items", ann,
			      harness_json("{s:s}", "movie_id", "1"), "movie_id", NULL);
	harness_check_invalid(
		"POST", "/api/v1/cart/items", ann,
		harness_json("{s:I,s:i}", "movie_id", (json_int_t)c.m[0], "quantity", 2),
		"quantity", NULL);

	/* Once per cart; removing one, clearing all. */
	harness_check_coded_call("POST", "/api/v1/cart/items", ann, json_incref(one), 201, NULL);
	harness_check_coded_call("POST", "/api/v1/cart/items", ann, json_incref(one), 409,
				 "already_in_cart");
	harness_check_coded_call("DELETE", harness_fmt("/api/v1/cart/items/%lld", c.m[0]), ann,
				 NULL, 204, NULL);
	cart_add(ann, c.m[0]);
	cart_add(ann, c.m[1]);
	harness_check_coded_call("DELETE", "/api/v1/cart", ann, NULL, 204, NULL);
	json_t *cart = harness_get_json("/api/v1/cart", ann);
	ck_assert_uint_eq(json_array_size(json_object_get(cart, "items")), 0);
	expect_str(cart, "total", "0.00");
	json_decref(cart);
	harness_check_coded_call("POST", "/api/v1/orders", ann, NULL, 409, "cart_empty");

	/* A movie already in a pending order is left out of the next one. */
	cart_add(ann, c.m[0]);
	long long a1 = place_order(ann, NULL);
	cart_add(ann, c.m[0]);
	cart_add(ann, c.m[1]);
	json_t *excluded = NULL;
	long long a2 = place_order(ann, &excluded);
	char *text = json_dumps(excluded, JSON_COMPACT);
	ck_assert_msg(json_array_size(excluded) == 1 &&
			      jint(json_array_get(excluded, 0), "movie_id") == c.m[0],
		      "excluded: %s", text);
	expect_str(json_array_get(excluded, 0), "reason", "in_pending_order");
	free(text);
	json_decref(excluded);
	json_t *o = get_order(ann, a2);
	ck_assert_str_eq(ids_of(json_object_get(o, "items"), "movie_id"),
			 harness_fmt("%lld", c.m[1]));
	expect_str(o, "total_amount", "4.50");
	json_decref(o);
	/* Only that movie in the cart: nothing to order. */
	cart_add(ann, c.m[0]);
	harness_check_coded_call("POST", "/api/v1/orders", ann, NULL, 409, "cart_empty");
	harness_check_coded_call("DELETE", "/api/v1/cart", ann, NULL, 204, NULL);

	/* Someone else's orders do not exist for bob. */
	harness_check_coded_call("GET", harness_fmt("/api/v1/orders/%lld", a1), bob, NULL, 404,
				 NULL);
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/cancel", a1), bob, NULL,
				 404, NULL);
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/checkout", a1), bob, NULL,
				 404, NULL);
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/refund", a1), bob, NULL,
				 404, NULL);
	harness_check_coded_call("GET", "/api/v1/orders/999999", ann, NULL, 404, NULL);
	json_t *list = harness_get_json("/api/v1/orders", bob);
	page_items(list, 0);
	json_decref(list);

	/* Cancel a pending order; a canceled order cannot be checked out. */
	r = harness_call("POST", harness_fmt("/api/v1/orders/%lld/cancel", a1), ann, NULL);
	harness_expect_coded(&r, 200, NULL);
	/* The contract leaves the body open: the order, bare or as "order". */
	json_t *canceled = json_object_get(r.json, "order");
	expect_str(canceled ? canceled : r.json, "status", "canceled");
	e2e_resp_free(&r);
	o = get_order(ann, a1);
	expect_str(o, "status", "canceled");
	json_decref(o);
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/checkout", a1), ann, NULL,
				 409, "order_canceled");
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/cancel", a1), ann, NULL,
				 409, NULL);
	struct stripe_fake_counts k;
	stripe_fake_counts(fake, &k);
	ck_assert_uint_eq(k.requests, 0);

	/* A pending order is not refundable. */
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/refund", a2), ann, NULL,
				 409, NULL);
	stripe_fake_counts(fake, &k);
	ck_assert_uint_eq(k.requests, 0);

	/* Paid: no cancel; a movie bought while it sat in the cart again is
	 * refused at the next order (unless payment took it out of the cart). */
	json_t *co = checkout(ann, a2);
	char sid[64];
	snprintf(sid, sizeof(sid), "%s", jstr(co, "session_id"));
	json_decref(co);
	cart_add(ann, c.m[1]);
	pay(sid);
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/cancel", a2), ann, NULL,
				 409, "order_paid");
	long long payment = harness_sql_int("SELECT id FROM payments");
	harness_check_coded_call("GET", harness_fmt("/api/v1/payments/%lld", payment), bob, NULL,
				 404, NULL);
	harness_check_coded_call("GET", "/api/v1/payments/999999", ann, NULL, 404, NULL);
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/refund", a2), bob, NULL,
				 404, NULL);
	cart = harness_get_json("/api/v1/cart", ann);
	bool still = find_by(json_object_get(cart, "items"), "movie_id", c.m[1]) != NULL;
	json_decref(cart);
	cart_add(ann, c.m[2]);
	long long a3 = place_order(ann, &excluded);
	text = json_dumps(excluded, JSON_COMPACT);
	if (still) {
		ck_assert_msg(json_array_size(excluded) == 1 &&
				      jint(json_array_get(excluded, 0), "movie_id") == c.m[1],
			      "excluded: %s", text);
		expect_str(json_array_get(excluded, 0), "reason", "already_purchased");
	} else {
		ck_assert_msg(json_array_size(excluded) == 0, "excluded: %s", text);
	}
	free(text);
	json_decref(excluded);
	o = get_order(ann, a3);
	ck_assert_str_eq(ids_of(json_object_get(o, "items"), "movie_id"),
			 harness_fmt("%lld", c.m[2]));
	json_decref(o);
	harness_check_coded_call("POST", "/api/v1/cart/items", ann, json_incref(one), 201, NULL);
	harness_check_coded_call("POST", "/api/v1/cart/items", ann,
				 harness_json("{s:I}", "movie_id", (json_int_t)c.m[1]), 409,
				 "already_purchased");
	json_decref(one);
}
END_TEST

/* --- one cart, eight placements at once --- */

struct placement {
	const char *url;
	const char *auth;
	pthread_barrier_t *start;
	long status;
	char code[64];
	long long order;
};

static void *place_concurrently(void *arg)
{
	struct placement *p = arg;
	const char *headers[] = {p->auth, NULL};
	struct e2e_resp r;
	pthread_barrier_wait(p->start);
	if (!e2e_request("POST", p->url, headers, NULL, 0, &r)) {
		p->status = -1;
		return NULL;
	}
	p->status = r.status;
	snprintf(p->code, sizeof(p->code), "%s", e2e_code(&r));
	p->order = json_integer_value(json_object_get(json_object_get(r.json, "order"), "id"));
	e2e_resp_free(&r);
	return NULL;
}

START_TEST(concurrent_orders)
{
	boot(false);
	struct harness_user *u = ann_and_mod();
	struct catalog c;
	make_catalog(&c, u[1].access);
	for (int i = 0; i < 3; i++)
		cart_add(u[0].access, c.m[i]);

	char url[256], auth[2200];
	snprintf(url, sizeof(url), "%s", e2e_url(&w.srv, "/api/v1/orders"));
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", u[0].access);
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, CONCURRENT);
	struct placement p[CONCURRENT];
	pthread_t t[CONCURRENT];
	for (int i = 0; i < CONCURRENT; i++) {
		p[i] = (struct placement){.url = url, .auth = auth, .start = &start};
		ck_assert_int_eq(pthread_create(&t[i], NULL, place_concurrently, &p[i]), 0);
	}
	for (int i = 0; i < CONCURRENT; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);

	int created = 0, empty = 0;
	long long order = 0;
	for (int i = 0; i < CONCURRENT; i++) {
		if (p[i].status == 201) {
			created++;
			order = p[i].order;
		} else if (p[i].status == 409 && strcmp(p[i].code, "cart_empty") == 0) {
			empty++;
		} else {
			ck_abort_msg("placement %d answered %ld %s%s", i, p[i].status, p[i].code,
				     harness_logs_tail());
		}
	}
	ck_assert_msg(created == 1 && empty == CONCURRENT - 1, "%d orders, %d cart_empty", created,
		      empty);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM orders"), 1);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM order_items"), 3);
	json_t *o = get_order(u[0].access, order);
	ck_assert_uint_eq(json_array_size(json_object_get(o, "items")), 3);
	expect_str(o, "total_amount", "26.49");
	json_decref(o);
}
END_TEST

/* --- webhooks: signatures, replays, mismatches --- */

START_TEST(webhook_checks)
{
	boot(false);
	struct harness_user *u = ann_and_mod();
	struct catalog c;
	make_catalog(&c, u[1].access);
	char sid[64], pi[64], bad_evt[64];
	long long order = order_and_checkout(u[0].access, c.m, 1, sid, sizeof(sid));
	session_intent(sid, pi, sizeof(pi));
	const char *api = w.srv.base_url;
	const char *untouched = "pending/payments=0/items=0/purchases=0";
	ck_assert_str_eq(money_state(order), untouched);

	/* Refused, and nothing changes. */
	struct {
		struct stripe_fake_send opts;
		const char *code;
	} refused[] = {
		{{.no_signature = true}, "webhook_signature_invalid"},
		{{.bad_signature = true,
		  .event_id_out = bad_evt,
		  .event_id_out_len = sizeof(bad_evt)},
		 "webhook_signature_invalid"},
		{{.stale = true}, "webhook_timestamp_stale"},
		{{.currency = "eur"}, "webhook_mismatch"},
		{{.order_id = "999999"}, "webhook_mismatch"},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		json_t *resp = NULL;
		refused[i].opts.response_out = &resp;
		long st = stripe_fake_complete(fake, sid, api, &refused[i].opts);
		const char *code = jstr(resp, "code");
		ck_assert_msg(st == 400 && code && strcmp(code, refused[i].code) == 0,
			      "case %zu: %ld %s, want 400 %s%s", i, st, code ? code : "(none)",
			      refused[i].code, harness_logs_tail());
		json_decref(resp);
		ck_assert_str_eq(money_state(order), untouched);
	}
	/* Garbage that is signed is still no event. */
	{
		const char *body = "{\"not\": \"an event\"";
		char sig[65], header[200];
		long long t = (long long)time(NULL);
		stripe_fake_sign(WEBHOOK_SECRET, t, body, strlen(body), sig);
		snprintf(header, sizeof(header), "Stripe-Signature: t=%lld,v1=%s", t, sig);
		const char *h[] = {header, "Content-Type: application/json", NULL};
		struct e2e_resp r =
			harness_raw("POST", "/api/v1/payments/webhook", h, body, strlen(body));
		harness_expect_coded(&r, 400, NULL);
		e2e_resp_free(&r);
		ck_assert_str_eq(money_state(order), untouched);
	}
	/* A refund event for a payment that does not exist changes nothing. */
	{
		json_t *resp = NULL;
		struct stripe_fake_send o = {.response_out = &resp};
		long st = stripe_fake_refunded(fake, pi, api, &o);
		ck_assert_msg(st == 200 || st == 400, "charge.refunded of an unpaid order: %ld%s",
			      st, harness_logs_tail());
		json_decref(resp);
		ck_assert_str_eq(money_state(order), untouched);
	}
	json_t *o = get_order(u[0].access, order);
	expect_str(o, "status", "pending");
	json_decref(o);

	/* The event refused for its signature, delivered properly (among
	 * several v1 signatures): it was not remembered, so it counts now. */
	json_t *resp = NULL;
	struct stripe_fake_send good = {
		.resend_event_id = bad_evt, .several_v1 = true, .response_out = &resp};
	EXPECT_HOOK(stripe_fake_complete(fake, sid, api, &good), 200, "redelivered event");
	ck_assert_msg(json_is_true(json_object_get(resp, "received")) &&
			      !json_is_true(json_object_get(resp, "duplicate")),
		      "first good delivery answered as a duplicate");
	json_decref(resp);
	ck_assert_str_eq(money_state(order), "paid/payments=1/items=1/purchases=1");

	/* Two more deliveries of the same event: one payment. */
	for (int i = 0; i < 2; i++) {
		struct stripe_fake_send dup = {.resend_event_id = bad_evt, .response_out = &resp};
		EXPECT_HOOK(stripe_fake_complete(fake, sid, api, &dup), 200, "duplicate");
		char *text = json_dumps(resp, JSON_COMPACT);
		ck_assert_msg(json_is_true(json_object_get(resp, "received")) &&
				      json_is_true(json_object_get(resp, "duplicate")),
			      "duplicate answered %s", text ? text : "(not JSON)");
		free(text);
		json_decref(resp);
	}
	ck_assert_str_eq(money_state(order), "paid/payments=1/items=1/purchases=1");
	json_t *pays = harness_get_json("/api/v1/payments", u[0].access);
	page_items(pays, 1);
	json_decref(pays);

	/* A forged or stale refund event leaves the payment alone. */
	struct stripe_fake_send forged = {.bad_signature = true};
	EXPECT_HOOK(stripe_fake_refunded(fake, pi, api, &forged), 400, "forged charge.refunded");
	struct stripe_fake_send stale = {.stale = true};
	EXPECT_HOOK(stripe_fake_refunded(fake, pi, api, &stale), 400, "stale charge.refunded");
	ck_assert_str_eq(money_state(order), "paid/payments=1/items=1/purchases=1");
	char *status = harness_sql_value("SELECT status::text FROM payments");
	ck_assert_str_eq(status, "successful");
	free(status);
}
END_TEST

/* --- the price moves between order and checkout --- */

START_TEST(price_change)
{
	boot(false);
	struct harness_user *u = ann_and_mod();
	const char *ann = u[0].access, *mod = u[1].access;
	struct catalog c;
	make_catalog(&c, mod);
	cart_add(ann, c.m[0]);
	cart_add(ann, c.m[1]);
	long long order = place_order(ann, NULL);

	harness_check_coded_call("PATCH", harness_fmt("/api/v1/movies/%lld", c.m[0]), mod,
				 harness_json("{s:s}", "price", "7.49"), 200, NULL);
	struct e2e_resp r =
		harness_call("POST", harness_fmt("/api/v1/orders/%lld/checkout", order), ann, NULL);
	harness_expect_coded(&r, 409, "price_changed");
	expect_str(r.json, "total_amount", "11.99");
	e2e_resp_free(&r);
	struct stripe_fake_counts k;
	stripe_fake_counts(fake, &k);
	ck_assert_uint_eq(k.sessions, 0);
	json_t *o = get_order(ann, order);
	expect_str(o, "status", "pending");
	expect_str(o, "total_amount", "11.99");
	expect_str(find_by(json_object_get(o, "items"), "movie_id", c.m[0]), "price_at_order",
		   "7.49");
	expect_str(find_by(json_object_get(o, "items"), "movie_id", c.m[1]), "price_at_order",
		   "4.50");
	json_decref(o);

	/* The next checkout proceeds with the new amount. */
	json_t *co = checkout(ann, order);
	expect_str(co, "total_amount", "11.99");
	json_t *s = stripe_fake_session(fake, jstr(co, "session_id"));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(jint(s, "amount_total"), 1199);
	json_t *line, *lines = json_object_get(json_object_get(s, "form"), "line_items");
	size_t i;
	bool seen = false;
	json_array_foreach (lines, i, line) {
		json_t *pd = json_object_get(line, "price_data");
		if (strcmp(jstr(json_object_get(pd, "product_data"), "name"), movie_defs[0].name) ==
		    0) {
			expect_str(pd, "unit_amount", "749");
			seen = true;
		}
	}
	ck_assert(seen);
	json_t *req = stripe_fake_last_request(fake, "/v1/checkout/sessions");
	expect_str(req, "idempotency_key", harness_fmt("checkout-order-%lld-1199-0", order));
	json_decref(req);
	pay(jstr(co, "session_id"));
	json_decref(s);
	json_decref(co);
	json_t *pays = harness_get_json("/api/v1/payments", ann);
	expect_str(json_array_get(page_items(pays, 1), 0), "amount", "11.99");
	json_decref(pays);
}
END_TEST

/* --- Stripe failing, hanging, unreachable --- */

START_TEST(provider_failures)
{
	boot_with(false, TIMEOUT_MS);
	struct harness_user *u = ann_and_mod();
	const char *ann = u[0].access;
	struct catalog c;
	make_catalog(&c, u[1].access);
	cart_add(ann, c.m[0]);
	long long order = place_order(ann, NULL);
	char path[64];
	snprintf(path, sizeof(path), "/api/v1/orders/%lld/checkout", order);
	struct stripe_fake_counts k;

	/* Stripe answers with an error: 502, and the order stays as it was. */
	stripe_fake_fail_next(fake, 500);
	harness_check_coded_call("POST", path, ann, NULL, 502, "payment_provider_error");
	stripe_fake_fail_next(fake, 400);
	harness_check_coded_call("POST", path, ann, NULL, 502, "payment_provider_error");
	stripe_fake_counts(fake, &k);
	ck_assert_uint_eq(k.failed, 2);
	ck_assert_uint_eq(k.sessions, 0);
	json_t *o = get_order(ann, order);
	expect_str(o, "status", "pending");
	ck_assert(json_is_null(json_object_get(o, "checkout_url")));
	json_decref(o);

	/* Stripe does the work but answers too late: 503; the retry gets the
	 * session Stripe made (same Idempotency-Key), not a second one. */
	stripe_fake_hang_next(fake, HANG_MS);
	harness_check_coded_call("POST", path, ann, NULL, 503, "payment_provider_unavailable");
	stripe_fake_counts(fake, &k);
	ck_assert_uint_eq(k.hung, 1);
	ck_assert_uint_eq(k.sessions, 1);
	json_t *s = stripe_fake_session(fake, NULL);
	json_t *co = checkout(ann, order);
	expect_str(co, "session_id", jstr(s, "id"));
	expect_str(co, "checkout_url", jstr(s, "url"));
	json_t *again = checkout(ann, order);
	expect_str(again, "session_id", jstr(s, "id"));
	stripe_fake_counts(fake, &k);
	ck_assert_uint_eq(k.sessions, 1);
	ck_assert_uint_ge(k.session_replays, 1);
	json_t *req = stripe_fake_last_request(fake, "/v1/checkout/sessions");
	expect_str(req, "idempotency_key", harness_fmt("checkout-order-%lld-999-0", order));
	json_decref(req);
	json_decref(again);
	json_decref(co);
	json_decref(s);

	/* Stripe unreachable: a second API on the same database whose Stripe
	 * is a closed port. */
	cart_add(ann, c.m[1]);
	long long other = place_order(ann, NULL);
	struct harness_env e;
	api_env(&e, harness_fmt("http://127.0.0.1:%d", e2e_free_port()), TIMEOUT_MS);
	struct e2e_server srv2;
	bool ok = e2e_server_start(&srv2, e.p);
	if (srv2.pid > 0)
		harness_track(srv2.pid);
	ck_assert_msg(ok, "the second cinema-api serve did not come up");
	char auth[2200];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ann);
	const char *hdr[] = {auth, NULL};
	struct e2e_resp r;
	ck_assert(e2e_request("POST",
			      e2e_url(&srv2, harness_fmt("/api/v1/orders/%lld/checkout", other)),
			      hdr, NULL, 0, &r));
	harness_expect_coded(&r, 503, "payment_provider_unavailable");
	e2e_resp_free(&r);
	harness_untrack(srv2.pid);
	e2e_server_stop(&srv2);
	unlink(srv2.log_path);
}
END_TEST

/* --- a declined and an expired checkout --- */

START_TEST(decline_and_expire)
{
	boot(false);
	struct harness_user *u = ann_and_mod();
	const char *ann = u[0].access;
	struct catalog c;
	make_catalog(&c, u[1].access);
	const char *api = w.srv.base_url;

	char sid[64], evt[64];
	long long order = order_and_checkout(ann, &c.m[0], 1, sid, sizeof(sid));
	json_t *resp = NULL;
	struct stripe_fake_send d = {
		.event_id_out = evt, .event_id_out_len = sizeof(evt), .response_out = &resp};
	EXPECT_HOOK(stripe_fake_decline(fake, sid, api, &d), 200, "async_payment_failed");
	json_decref(resp);
	json_t *o = get_order(ann, order);
	expect_str(o, "status", "pending");
	expect_str(o, "payment_hint", DECLINED_HINT);
	json_decref(o);
	ck_assert_str_eq(money_state(order), "pending/payments=0/items=0/purchases=0");
	struct stripe_fake_send dup = {.resend_event_id = evt, .response_out = &resp};
	EXPECT_HOOK(stripe_fake_decline(fake, sid, api, &dup), 200, "async_payment_failed again");
	ck_assert(json_is_true(json_object_get(resp, "duplicate")));
	json_decref(resp);

	char sid2[64];
	long long other = order_and_checkout(ann, &c.m[1], 1, sid2, sizeof(sid2));
	o = get_order(ann, other);
	ck_assert(json_is_string(json_object_get(o, "checkout_url")));
	json_decref(o);
	EXPECT_HOOK(stripe_fake_expire(fake, sid2, api, NULL), 200, "expired");
	o = get_order(ann, other);
	expect_str(o, "status", "pending");
	ck_assert_msg(json_is_null(json_object_get(o, "checkout_url")), "checkout not cleared");
	const char *hint = jstr(o, "payment_hint");
	ck_assert_msg(hint && *hint, "no payment_hint after expiry");
	json_decref(o);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM payments"), 0);
	/* Checking out again after the expiry makes a new session: the
	 * Idempotency-Key counts the attempt, so Stripe cannot hand back the
	 * expired one. */
	json_t *again = checkout(ann, other);
	ck_assert_str_ne(jstr(again, "session_id"), sid2);
	json_t *req = stripe_fake_last_request(fake, "/v1/checkout/sessions");
	expect_str(req, "idempotency_key", harness_fmt("checkout-order-%lld-450-1", other));
	json_decref(req);
	json_decref(again);
	/* Both are still cancelable. */
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/cancel", order), ann,
				 NULL, 200, NULL);
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/cancel", other), ann,
				 NULL, 200, NULL);
}
END_TEST

/* --- settlement: money for orders that will not be fulfilled --- */

/* Starts a cinema-scheduler with Stripe at the fake and SMTP at the test's
 * mailsink: it asks for new automatic refunds at every sweep, and runs the
 * reconciliation job every interval_s seconds, the first time at once if
 * due_now (else one period from now). */
static void start_reconciler(int interval_s, bool due_now)
{
	struct harness_env e = {0};
	harness_sql_ok(due_now ? "UPDATE scheduler_runs SET last_run_at = '-infinity' "
				 "WHERE job = 'reconcile_payments'"
			       : "UPDATE scheduler_runs SET last_run_at = now() "
				 "WHERE job = 'reconcile_payments'");
	harness_env_set(&e, "DATABASE_URL=%s", w.ci);
	harness_env_set(&e, "REDIS_URL=%s", w.redis_url);
	harness_env_set(&e, "EMAIL_QUEUE_KEY=%s", w.queue_key);
	harness_env_set(&e, "SMTP_URL=smtp://127.0.0.1:%d", w.smtp_port);
	harness_env_set(&e, "SMTP_ALLOW_PLAIN=1"); /* cinema-mailsink has no STARTTLS */
	harness_env_set(&e, "PUBLIC_BASE_URL=%s", BASE_URL);
	harness_env_set(&e, "TEMPLATES_DIR=%s", getenv("TEMPLATES_DIR"));
	harness_env_set(&e, "SCHEDULER_SWEEP_MS=100");
	harness_env_set(&e, "TOKEN_CLEANUP_INTERVAL=604800");
	harness_env_set(&e, "PAYMENT_RECONCILE_INTERVAL=%d", interval_s);
	harness_env_set(&e, "STRIPE_API_BASE=%s", stripe_fake_url(fake));
	harness_env_set(&e, "STRIPE_SECRET_KEY=%s", SECRET_KEY);
	harness_env_set(&e, "LOG_LEVEL=info");
	harness_scheduler_spawn(e.p, "reconciler", NULL);
}

/* Polls sql until its value is want (generous bound), then asserts it. */
#define wait_sql(sql, want) wait_sql_at(sql, want, __LINE__)
static void wait_sql_at(const char *sql, const char *want, int line)
{
	long long deadline = harness_now_ms() + HARNESS_WAIT_MS;
	char *v = NULL;
	for (;;) {
		free(v);
		v = harness_sql_value(sql);
		if (strcmp(v, want) == 0 || harness_now_ms() > deadline)
			break;
		harness_sleep_ms(HARNESS_POLL_MS);
	}
	ck_assert_msg(strcmp(v, want) == 0, "line %d: %s is %s, want %s%s", line, sql, v, want,
		      harness_logs_tail());
	free(v);
}

/* The payments of an order as "status:reason" in id order ("none"). */
static const char *payments_of(long long order)
{
	char *v = harness_sql_value(harness_fmt(
		"SELECT coalesce(string_agg(status::text || ':' || coalesce(refund_reason, '-'), "
		"',' ORDER BY id), 'none') FROM payments WHERE order_id = %lld",
		order));
	const char *out = harness_fmt("%s", v);
	free(v);
	return out;
}

/* The refunds the fake made for a PaymentIntent. */
static int refunds_at_fake(const char *pi, const char *key)
{
	json_t *refunds = stripe_fake_refunds(fake), *rf;
	size_t i;
	int n = 0;
	json_array_foreach (refunds, i, rf) {
		if (strcmp(jstr(rf, "payment_intent"), pi) != 0)
			continue;
		n++;
		if (key)
			expect_str(rf, "idempotency_key", key);
	}
	json_decref(refunds);
	return n;
}

START_TEST(stale_tab_after_cancel)
{
	boot(true);
	struct harness_user *u = ann_and_mod();
	const char *ann = u[0].access, *mod = u[1].access;
	struct catalog c;
	make_catalog(&c, mod);
	char sid[64], pi[64];
	long long order = order_and_checkout(ann, &c.m[0], 1, sid, sizeof(sid));
	session_intent(sid, pi, sizeof(pi));
	start_reconciler(3600, false);

	/* The cancel expires the session at Stripe. */
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/cancel", order), ann,
				 NULL, 200, NULL);
	json_t *s = stripe_fake_session(fake, sid);
	expect_str(s, "status", "expired");
	json_decref(s);
	json_t *req = stripe_fake_last_request(fake, "/v1/checkout/sessions/");
	expect_str(req, "path", harness_fmt("/v1/checkout/sessions/%s/expire", sid));
	expect_str(req, "authorization", "Bearer " SECRET_KEY);
	json_decref(req);

	/* A tab left open pays all the same: recorded, refunded, 200. */
	char evt[64];
	json_t *resp = NULL;
	struct stripe_fake_send o = {
		.event_id_out = evt, .event_id_out_len = sizeof(evt), .response_out = &resp};
	EXPECT_HOOK(stripe_fake_complete(fake, sid, w.srv.base_url, &o), 200,
		    "completed after cancel");
	json_decref(resp);
	wait_sql(harness_fmt("SELECT status::text FROM payments WHERE order_id = %lld", order),
		 "refunded");
	ck_assert_str_eq(payments_of(order), "refunded:order_canceled");
	ck_assert_str_eq(money_state(order), "canceled/payments=1/items=0/purchases=0");
	ck_assert_int_eq(refunds_at_fake(pi, harness_fmt("auto-refund-%s", sid)), 1);

	/* The buyer sees it, and so do moderators. */
	json_t *pays = harness_get_json("/api/v1/payments", ann);
	json_t *p = json_array_get(page_items(pays, 1), 0);
	expect_str(p, "status", "refunded");
	expect_str(p, "refund_reason", "order_canceled");
	expect_str(p, "amount", "9.99");
	expect_str(p, "external_payment_id", pi);
	ck_assert_uint_eq(json_array_size(json_object_get(p, "items")), 0);
	json_decref(pays);
	json_t *adm = harness_get_json("/api/v1/admin/payments?status=refunded", mod);
	p = json_array_get(page_items(adm, 1), 0);
	expect_str(p, "refund_reason", "order_canceled");
	expect_str(p, "checkout_session_id", sid);
	json_decref(adm);

	/* The same event again changes nothing; no second refund. */
	struct stripe_fake_send again = {.resend_event_id = evt, .response_out = &resp};
	EXPECT_HOOK(stripe_fake_complete(fake, sid, w.srv.base_url, &again), 200, "again");
	ck_assert(json_is_true(json_object_get(resp, "duplicate")));
	json_decref(resp);
	ck_assert_str_eq(payments_of(order), "refunded:order_canceled");
	ck_assert_int_eq(refunds_at_fake(pi, NULL), 1);

	/* One email: the refund, not a confirmation. */
	wait_mail_settled(1);
	struct mailbox_msg *mail = NULL;
	size_t n = mailbox_load(w.maildir, &mail);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(mail[0].rcpt, u[0].email);
	ck_assert_msg(strstr(mail[0].subject, "refunded") &&
			      strstr(mail[0].subject, harness_fmt("%lld", order)),
		      "subject: %s", mail[0].subject);
	ck_assert_msg(strstr(mail[0].text, "9.99") && strstr(mail[0].text, "canceled"),
		      "refund email: %s", mail[0].text);
	mailbox_free(mail, n);
}
END_TEST

START_TEST(two_sessions_and_other_amounts)
{
	boot(true);
	struct harness_user *u = ann_and_mod();
	const char *ann = u[0].access, *api = w.srv.base_url;
	struct catalog c;
	make_catalog(&c, u[1].access);
	start_reconciler(3600, false);

	/* Two sessions of one order both paid: one fulfilment, one refund. */
	char a[64], b[64], pa[64], pb[64];
	long long order = order_and_checkout(ann, c.m, 2, a, sizeof(a));
	session_intent(a, pa, sizeof(pa));
	EXPECT_HOOK(stripe_fake_decline(fake, a, api, NULL), 200, "declined");
	json_t *co = checkout(ann, order);
	snprintf(b, sizeof(b), "%s", jstr(co, "session_id"));
	json_decref(co);
	ck_assert_str_ne(a, b);
	session_intent(b, pb, sizeof(pb));
	pay(b);
	EXPECT_HOOK(stripe_fake_complete(fake, a, api, NULL), 200, "first session paid too");
	wait_sql(harness_fmt("SELECT count(*) FROM payments WHERE order_id = %lld AND status = "
			     "'refunded'",
			     order),
		 "1");
	ck_assert_str_eq(payments_of(order), "successful:-,refunded:order_already_paid");
	ck_assert_str_eq(money_state(order), "paid/payments=2/items=2/purchases=2");
	ck_assert_int_eq(refunds_at_fake(pa, harness_fmt("auto-refund-%s", a)), 1);
	ck_assert_int_eq(refunds_at_fake(pb, NULL), 0);

	/* Paid at another amount than the order's: refunded, still pending. */
	char sid[64], pi[64];
	long long other = order_and_checkout(ann, &c.m[2], 1, sid, sizeof(sid));
	session_intent(sid, pi, sizeof(pi));
	struct stripe_fake_send more = {.amount_delta = 100};
	EXPECT_HOOK(stripe_fake_complete(fake, sid, api, &more), 200, "another amount");
	wait_sql(harness_fmt("SELECT status::text FROM payments WHERE order_id = %lld", other),
		 "refunded");
	ck_assert_str_eq(payments_of(other), "refunded:amount_mismatch");
	char *amount = harness_sql_value(harness_fmt("SELECT amount::text FROM payments WHERE "
						     "order_id = %lld",
						     other));
	ck_assert_str_eq(amount, "13.00");
	free(amount);
	json_t *o = get_order(ann, other);
	expect_str(o, "status", "pending");
	ck_assert_msg(json_is_null(json_object_get(o, "checkout_url")),
		      "the session that took another amount is still offered");
	ck_assert_msg(jstr(o, "payment_hint") && strstr(jstr(o, "payment_hint"), "refunded"),
		      "hint: %s", jstr(o, "payment_hint"));
	json_decref(o);
	ck_assert_int_eq(refunds_at_fake(pi, NULL), 1);
	/* A new checkout makes a new session, paid properly this time. */
	co = checkout(ann, other);
	ck_assert_str_ne(jstr(co, "session_id"), sid);
	pay(jstr(co, "session_id"));
	json_decref(co);
	ck_assert_str_eq(payments_of(other), "refunded:amount_mismatch,successful:-");

	/* Two confirmations and two refund emails. */
	wait_mail_settled(4);
	ck_assert_int_eq(
		harness_sql_int("SELECT count(*) FROM email_jobs WHERE kind = 'payment_refund'"),
		2);
}
END_TEST

START_TEST(cancel_finds_the_session_paid)
{
	boot(false);
	struct harness_user *u = ann_and_mod();
	const char *ann = u[0].access;
	struct catalog c;
	make_catalog(&c, u[1].access);
	char sid[64];
	long long order = order_and_checkout(ann, &c.m[0], 1, sid, sizeof(sid));

	/* Paid at Stripe, its webhook not here yet: the cancel is refused and
	 * the order fulfilled. */
	ck_assert(stripe_fake_mark_paid(fake, sid));
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/cancel", order), ann,
				 NULL, 409, "order_paid");
	ck_assert_str_eq(money_state(order), "paid/payments=1/items=1/purchases=1");
	ck_assert_str_eq(payments_of(order), "successful:-");
	/* The webhook, late, finds it recorded. */
	EXPECT_HOOK(stripe_fake_complete(fake, sid, w.srv.base_url, NULL), 200, "late webhook");
	ck_assert_str_eq(money_state(order), "paid/payments=1/items=1/purchases=1");
	struct stripe_fake_counts k;
	stripe_fake_counts(fake, &k);
	ck_assert_uint_eq(k.refunds, 0);

	/* Expired at Stripe, its webhook not here yet: Stripe refuses to
	 * expire it again, says it is expired, and the cancel proceeds. */
	char sid2[64];
	long long other = order_and_checkout(ann, &c.m[1], 1, sid2, sizeof(sid2));
	ck_assert(stripe_fake_mark_expired(fake, sid2));
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/cancel", other), ann,
				 NULL, 200, NULL);
	ck_assert_str_eq(payments_of(other), "none");

	/* A delayed payment method still being collected: the cancel must
	 * wait for its outcome. */
	char sid4[64];
	long long fourth = order_and_checkout(ann, &c.m[3], 1, sid4, sizeof(sid4));
	ck_assert(stripe_fake_mark_processing(fake, sid4));
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/cancel", fourth), ann,
				 NULL, 409, "payment_in_progress");
	json_t *o4 = get_order(ann, fourth);
	expect_str(o4, "status", "pending");
	json_decref(o4);
	ck_assert_str_eq(payments_of(fourth), "none");

	/* Stripe failing: the order is not canceled behind its back. */
	char sid3[64];
	long long third = order_and_checkout(ann, &c.m[2], 1, sid3, sizeof(sid3));
	stripe_fake_fail_next(fake, 503);
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/cancel", third), ann,
				 NULL, 502, "payment_provider_error");
	json_t *o = get_order(ann, third);
	expect_str(o, "status", "pending");
	json_decref(o);
}
END_TEST

START_TEST(lost_webhooks_reconciled)
{
	boot(true);
	struct harness_user *u = ann_and_mod();
	const char *ann = u[0].access;
	struct catalog c;
	make_catalog(&c, u[1].access);
	char paid[64], expired[64], open[64], fresh[64];
	long long o_paid = order_and_checkout(ann, &c.m[0], 1, paid, sizeof(paid));
	long long o_expired = order_and_checkout(ann, &c.m[1], 1, expired, sizeof(expired));
	long long o_open = order_and_checkout(ann, &c.m[2], 1, open, sizeof(open));
	long long o_fresh = order_and_checkout(ann, &c.m[3], 1, fresh, sizeof(fresh));
	ck_assert(stripe_fake_mark_paid(fake, paid));
	ck_assert(stripe_fake_mark_expired(fake, expired));
	/* Three sessions are past their lifetime; the fourth is not. */
	harness_sql_ok(harness_fmt("UPDATE orders SET checkout_expires_at = now() - interval '1 "
				   "minute' WHERE id IN (%lld, %lld, %lld)",
				   o_paid, o_expired, o_open));
	ck_assert(stripe_fake_mark_paid(fake, fresh));

	start_reconciler(1, true);
	wait_sql(harness_fmt("SELECT status::text FROM orders WHERE id = %lld", o_paid), "paid");
	wait_sql(harness_fmt("SELECT (checkout_session_id IS NULL)::text FROM orders WHERE id = "
			     "%lld",
			     o_open),
		 "true");
	ck_assert_str_eq(payments_of(o_paid), "successful:-");
	ck_assert_int_eq(harness_sql_int(harness_fmt(
				 "SELECT count(*) FROM purchases WHERE order_id = %lld", o_paid)),
			 1);
	json_t *o = get_order(ann, o_expired);
	expect_str(o, "status", "pending");
	ck_assert(json_is_null(json_object_get(o, "checkout_url")));
	ck_assert_msg(jstr(o, "payment_hint") != NULL, "no hint after the expiry");
	json_decref(o);
	o = get_order(ann, o_open);
	expect_str(o, "status", "pending");
	ck_assert(json_is_null(json_object_get(o, "checkout_url")));
	json_decref(o);
	json_t *s = stripe_fake_session(fake, open);
	expect_str(s, "status", "expired");
	json_decref(s);
	/* A session within its lifetime waits for its webhook. */
	o = get_order(ann, o_fresh);
	expect_str(o, "status", "pending");
	ck_assert(json_is_string(json_object_get(o, "checkout_url")));
	json_decref(o);
	/* The confirmation of the reconciled order. */
	wait_mail_settled(1);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM email_jobs WHERE kind = "
					 "'payment_confirmation'"),
			 1);
}
END_TEST

START_TEST(refund_retried_after_stripe_down)
{
	boot(true);
	struct harness_user *u = ann_and_mod();
	const char *ann = u[0].access, *mod = u[1].access;
	struct catalog c;
	make_catalog(&c, mod);
	char sid[64], pi[64];
	long long order = order_and_checkout(ann, &c.m[0], 1, sid, sizeof(sid));
	session_intent(sid, pi, sizeof(pi));
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/cancel", order), ann,
				 NULL, 200, NULL);

	/* The webhook is acknowledged once the money is recorded; the
	 * scheduler's first refund request fails. */
	start_reconciler(3600, false);
	stripe_fake_fail_next(fake, 500);
	EXPECT_HOOK(stripe_fake_complete(fake, sid, w.srv.base_url, NULL), 200,
		    "completed after cancel, Stripe down");
	wait_sql(harness_fmt("SELECT refund_error IS NOT NULL FROM payments WHERE order_id = %lld",
			     order),
		 "t");
	ck_assert_str_eq(payments_of(order), "refund_pending:order_canceled");
	ck_assert_int_eq(refunds_at_fake(pi, NULL), 0);
	json_t *adm = harness_get_json("/api/v1/admin/payments?status=refund_pending", mod);
	json_t *p = json_array_get(page_items(adm, 1), 0);
	ck_assert_int_eq(jint(p, "refund_attempts"), 1);
	ck_assert_msg(jstr(p, "refund_error") &&
			      strstr(jstr(p, "refund_error"), "payment_provider_error"),
		      "refund_error: %s", jstr(p, "refund_error"));
	json_decref(adm);

	/* The reconciliation job retries it with the same Idempotency-Key. */
	harness_sql_ok("UPDATE scheduler_runs SET last_run_at = '-infinity' "
		       "WHERE job = 'reconcile_payments'");
	wait_sql(harness_fmt("SELECT status::text FROM payments WHERE order_id = %lld", order),
		 "refunded");
	ck_assert_int_eq(
		harness_sql_int(harness_fmt(
			"SELECT refund_attempts FROM payments WHERE order_id = %lld", order)),
		2);
	ck_assert_int_eq(refunds_at_fake(pi, harness_fmt("auto-refund-%s", sid)), 1);
	ck_assert_str_eq(money_state(order), "canceled/payments=1/items=0/purchases=0");
	wait_mail_settled(1);
}
END_TEST

START_TEST(reprice_expires_the_old_session)
{
	boot(false);
	struct harness_user *u = ann_and_mod();
	const char *ann = u[0].access, *mod = u[1].access;
	struct catalog c;
	make_catalog(&c, mod);

	/* A price change before the next checkout: the session for the old
	 * total is expired at Stripe, then the order takes the new prices. */
	char a[64];
	long long order = order_and_checkout(ann, &c.m[0], 1, a, sizeof(a));
	harness_check_coded_call("PATCH", harness_fmt("/api/v1/movies/%lld", c.m[0]), mod,
				 harness_json("{s:s}", "price", "7.49"), 200, NULL);
	struct e2e_resp r =
		harness_call("POST", harness_fmt("/api/v1/orders/%lld/checkout", order), ann, NULL);
	harness_expect_coded(&r, 409, "price_changed");
	e2e_resp_free(&r);
	json_t *s = stripe_fake_session(fake, a);
	expect_str(s, "status", "expired");
	json_decref(s);
	json_t *co = checkout(ann, order);
	ck_assert_str_ne(jstr(co, "session_id"), a);
	expect_str(co, "total_amount", "7.49");
	json_t *req = stripe_fake_last_request(fake, "/v1/checkout/sessions");
	expect_str(req, "idempotency_key", harness_fmt("checkout-order-%lld-749-1", order));
	json_decref(req);
	json_decref(co);

	/* The old session was paid before the change reached it: the order
	 * is fulfilled at the price it was paid, and no new session made. */
	char b[64];
	long long other = order_and_checkout(ann, &c.m[1], 1, b, sizeof(b));
	ck_assert(stripe_fake_mark_paid(fake, b));
	harness_check_coded_call("PATCH", harness_fmt("/api/v1/movies/%lld", c.m[1]), mod,
				 harness_json("{s:s}", "price", "5.00"), 200, NULL);
	struct stripe_fake_counts before, after;
	stripe_fake_counts(fake, &before);
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/checkout", other), ann,
				 NULL, 409, "order_paid");
	stripe_fake_counts(fake, &after);
	ck_assert_uint_eq(after.sessions, before.sessions);
	json_t *o = get_order(ann, other);
	expect_str(o, "status", "paid");
	expect_str(o, "total_amount", "4.50");
	json_decref(o);
	ck_assert_str_eq(payments_of(other), "successful:-");
}
END_TEST

/* One round of the race: a cancel and a payment of the same session. */
struct race {
	const char *api, *auth, *sid;
	long long order;
	pthread_barrier_t *start;
	long cancel_status, hook_status;
	long delay_ms;
	char cancel_code[64];
};

static void *race_cancel(void *arg)
{
	struct race *r = arg;
	char url[256];
	const char *headers[] = {r->auth, NULL};
	struct e2e_resp resp;
	snprintf(url, sizeof(url), "%s/api/v1/orders/%lld/cancel", r->api, r->order);
	pthread_barrier_wait(r->start);
	if (!e2e_request("POST", url, headers, NULL, 0, &resp)) {
		r->cancel_status = -1;
		return NULL;
	}
	r->cancel_status = resp.status;
	snprintf(r->cancel_code, sizeof(r->cancel_code), "%s", e2e_code(&resp));
	e2e_resp_free(&resp);
	return NULL;
}

static void *race_pay(void *arg)
{
	struct race *r = arg;
	pthread_barrier_wait(r->start);
	/* Staggered, so that the rounds meet at every step of the cancel
	 * (which of the two wins is not asserted: both outcomes are right). */
	harness_sleep_ms(r->delay_ms);
	r->hook_status = stripe_fake_complete(fake, r->sid, r->api, NULL);
	return NULL;
}

#define RACE_ROUNDS 20

START_TEST(cancel_races_the_webhook)
{
	boot(true);
	struct harness_user *u = ann_and_mod();
	const char *ann = u[0].access, *mod = u[1].access;
	struct catalog c;
	make_catalog(&c, mod);
	char auth[2200];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ann);
	start_reconciler(3600, false); /* the refunds */
	int paid = 0, canceled = 0;
	char intents[RACE_ROUNDS][64];
	bool refund_due[RACE_ROUNDS];
	for (int i = 0; i < RACE_ROUNDS; i++) {
		struct e2e_resp r = harness_call(
			"POST", "/api/v1/movies", mod,
			harness_json("{s:s,s:i,s:i,s:f,s:i,s:s,s:s,s:I,s:[I]}", "name",
				     harness_fmt("Race %d", i), "year", 2000 + i, "time", 90,
				     "imdb", 6.5, "votes", 10, "description", "A race.", "price",
				     "3.00", "certification_id", (json_int_t)c.cert, "genre_ids",
				     (json_int_t)c.genre));
		harness_expect_coded(&r, 201, NULL);
		long long movie = jint(r.json, "id");
		e2e_resp_free(&r);
		char sid[64];
		char *pi = intents[i];
		long long order = order_and_checkout(ann, &movie, 1, sid, sizeof(sid));
		session_intent(sid, pi, sizeof(intents[i]));

		pthread_barrier_t start;
		pthread_barrier_init(&start, NULL, 2);
		struct race race = {.api = w.srv.base_url,
				    .auth = auth,
				    .sid = sid,
				    .order = order,
				    .start = &start,
				    .delay_ms = i % 10};
		pthread_t tc, tp;
		ck_assert_int_eq(pthread_create(&tc, NULL, race_cancel, &race), 0);
		ck_assert_int_eq(pthread_create(&tp, NULL, race_pay, &race), 0);
		pthread_join(tc, NULL);
		pthread_join(tp, NULL);
		pthread_barrier_destroy(&start);

		ck_assert_msg(race.hook_status == 200, "round %d: webhook %ld%s", i,
			      race.hook_status, harness_logs_tail());
		char *status = harness_sql_value(
			harness_fmt("SELECT status::text FROM orders WHERE id = %lld", order));
		long long bought = harness_sql_int(
			harness_fmt("SELECT count(*) FROM purchases WHERE order_id = %lld", order));
		const char *pays = payments_of(order);
		if (race.cancel_status == 409) {
			/* Paid first: the cancel is refused, nothing refunded. */
			ck_assert_msg(strcmp(race.cancel_code, "order_paid") == 0 &&
					      strcmp(status, "paid") == 0 &&
					      strcmp(pays, "successful:-") == 0 && bought == 1,
				      "round %d: 409 %s, order %s, payments %s, %lld bought", i,
				      race.cancel_code, status, pays, bought);
			refund_due[i] = false;
			paid++;
		} else {
			/* Canceled first: the money goes back (the scheduler may
			 * have asked Stripe already). */
			ck_assert_msg(
				race.cancel_status == 200 && strcmp(status, "canceled") == 0 &&
					(strcmp(pays, "refund_pending:order_canceled") == 0 ||
					 strcmp(pays, "refunded:order_canceled") == 0) &&
					bought == 0,
				"round %d: cancel %ld %s, order %s, payments %s, %lld bought%s", i,
				race.cancel_status, race.cancel_code, status, pays, bought,
				harness_logs_tail());
			refund_due[i] = true;
			canceled++;
		}
		free(status);
	}
	ck_assert_int_eq(paid + canceled, RACE_ROUNDS);
	/* Every refund is made, once, and only for the canceled orders. */
	wait_sql("SELECT count(*) FROM payments WHERE status = 'refund_pending'", "0");
	for (int i = 0; i < RACE_ROUNDS; i++)
		ck_assert_msg(refunds_at_fake(intents[i], NULL) == (refund_due[i] ? 1 : 0),
			      "round %d: %d refunds at Stripe", i,
			      refunds_at_fake(intents[i], NULL));
	printf("note: the cancel won %d of %d races\n", canceled, RACE_ROUNDS);
	/* Money and orders agree overall. */
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM payments WHERE status = "
					 "'successful'"),
			 harness_sql_int("SELECT count(*) FROM orders WHERE status = 'paid'"));
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM payments WHERE status = "
					 "'refunded'"),
			 harness_sql_int("SELECT count(*) FROM orders WHERE status = 'canceled'"));
}
END_TEST

/* --- the moderators' views --- */

/* GET an admin list as mod; asserts its total and answers the page. */
#define admin_list(path, mod, total) admin_list_at(path, mod, total, __LINE__)
static json_t *admin_list_at(const char *path, const char *mod, long long total, int line)
{
	json_t *p = harness_get_json_at(path, mod, line);
	char *text = json_dumps(p, JSON_COMPACT);
	ck_assert_msg(json_is_array(json_object_get(p, "items")) &&
			      json_integer_value(json_object_get(p, "total_items")) == total,
		      "line %d: %s: total_items, want %lld: %s", line, path, total, text);
	free(text);
	return p;
}

START_TEST(admin_views)
{
	boot(false);
	struct harness_user u[] = {{harness_unique_email("ann"), "USER", 0, ""},
				   {harness_unique_email("bob"), "USER", 0, ""},
				   {harness_unique_email("mod"), "MODERATOR", 0, ""}};
	harness_create_users(w.ci, u, 3, PASSWORD);
	const char *ann = u[0].access, *bob = u[1].access, *mod = u[2].access;
	struct catalog c;
	make_catalog(&c, mod);

	char sid[64];
	long long a1 = order_and_checkout(ann, &c.m[0], 1, sid, sizeof(sid));
	pay(sid);
	cart_add(ann, c.m[1]);
	long long a2 = place_order(ann, NULL);
	long long b1 = order_and_checkout(bob, &c.m[1], 1, sid, sizeof(sid));
	pay(sid);
	cart_add(ann, c.m[2]);
	cart_add(bob, c.m[3]);
	cart_add(bob, c.m[2]);
	/* Ann's first order and payment were in January 2020. */
	harness_sql_ok(harness_fmt(
		"UPDATE orders SET created_at = '2020-01-15 12:00+00' WHERE id = %lld", a1));
	harness_sql_ok(harness_fmt(
		"UPDATE payments SET created_at = '2020-01-15 12:05+00' WHERE order_id = %lld",
		a1));

	/* Carts. */
	json_t *p = harness_get_json("/api/v1/admin/carts", mod);
	ck_assert_int_ge(jint(p, "total_items"), 2);
	json_decref(p);
	p = admin_list(harness_fmt("/api/v1/admin/carts?user_id=%lld", u[1].id), mod, 1);
	json_t *it = json_array_get(json_object_get(p, "items"), 0);
	ck_assert_msg(owned_by(it, u[1].id), "not bob's cart");
	ck_assert(contains_id(it, "movie_id", c.m[3]) && contains_id(it, "movie_id", c.m[2]));
	ck_assert(!contains_id(it, "movie_id", c.m[1]));
	json_decref(p);

	/* Orders. */
	p = admin_list("/api/v1/admin/orders", mod, 3);
	json_decref(p);
	p = admin_list(harness_fmt("/api/v1/admin/orders?user_id=%lld", u[0].id), mod, 2);
	ck_assert_str_eq(ids_of(json_object_get(p, "items"), "id"), pair(a1, a2));
	json_decref(p);
	p = admin_list("/api/v1/admin/orders?status=paid", mod, 2);
	ck_assert_str_eq(ids_of(json_object_get(p, "items"), "id"), pair(a1, b1));
	json_decref(p);
	p = admin_list(harness_fmt("/api/v1/admin/orders?user_id=%lld&status=pending", u[0].id),
		       mod, 1);
	ck_assert_str_eq(ids_of(json_object_get(p, "items"), "id"), harness_fmt("%lld", a2));
	json_decref(p);
	p = admin_list("/api/v1/admin/orders?date_from=2020-01-01&date_to=2020-01-31", mod, 1);
	ck_assert_str_eq(ids_of(json_object_get(p, "items"), "id"), harness_fmt("%lld", a1));
	ck_assert(owned_by(json_array_get(json_object_get(p, "items"), 0), u[0].id));
	json_decref(p);
	p = admin_list("/api/v1/admin/orders?date_from=2020-01-16", mod, 2);
	ck_assert_str_eq(ids_of(json_object_get(p, "items"), "id"), pair(a2, b1));
	json_decref(p);
	p = admin_list("/api/v1/admin/orders?date_to=2020-01-15", mod, 1);
	json_decref(p);
	p = admin_list("/api/v1/admin/orders?status=canceled", mod, 0);
	json_decref(p);
	p = admin_list("/api/v1/admin/orders?per_page=1&page=2", mod, 3);
	ck_assert_uint_eq(json_array_size(json_object_get(p, "items")), 1);
	ck_assert_int_eq(jint(p, "total_pages"), 3);
	json_decref(p);
	harness_check_invalid("GET", "/api/v1/admin/orders?status=lost", mod, NULL, "status", NULL);
	harness_check_invalid("GET", "/api/v1/admin/orders?date_from=2020-13-45", mod, NULL,
			      "date_from", NULL);
	harness_check_invalid("GET", "/api/v1/admin/orders?date_to=yesterday", mod, NULL, "date_to",
			      NULL);

	/* Payments. */
	p = admin_list("/api/v1/admin/payments", mod, 2);
	json_decref(p);
	p = admin_list(harness_fmt("/api/v1/admin/payments?user_id=%lld", u[1].id), mod, 1);
	ck_assert_int_eq(jint(json_array_get(json_object_get(p, "items"), 0), "order_id"), b1);
	json_decref(p);
	p = admin_list("/api/v1/admin/payments?status=successful", mod, 2);
	json_decref(p);
	p = admin_list("/api/v1/admin/payments?status=refunded", mod, 0);
	json_decref(p);
	p = admin_list("/api/v1/admin/payments?date_from=2020-01-15&date_to=2020-01-15", mod, 1);
	ck_assert_int_eq(jint(json_array_get(json_object_get(p, "items"), 0), "order_id"), a1);
	json_decref(p);
	p = admin_list(
		harness_fmt("/api/v1/admin/payments?user_id=%lld&date_from=2020-02-01", u[0].id),
		mod, 0);
	json_decref(p);
	harness_check_invalid("GET", "/api/v1/admin/payments?status=pending", mod, NULL, "status",
			      NULL);

	/* Users may not look; anonymous callers are not signed in. */
	static const char *const views[] = {"/api/v1/admin/carts", "/api/v1/admin/orders",
					    "/api/v1/admin/payments"};
	for (int i = 0; i < 3; i++) {
		harness_check_coded_call("GET", views[i], ann, NULL, 403, NULL);
		harness_check_coded_call("GET", views[i], bob, NULL, 403, NULL);
		harness_check_coded_call("GET", views[i], NULL, NULL, 401, NULL);
	}
}
END_TEST

/* --- deleting movies people want or own --- */

START_TEST(movie_delete_rules)
{
	boot(false);
	struct harness_user u[] = {{harness_unique_email("ann"), "USER", 0, ""},
				   {harness_unique_email("bob"), "USER", 0, ""},
				   {harness_unique_email("mod"), "MODERATOR", 0, ""}};
	harness_create_users(w.ci, u, 3, PASSWORD);
	const char *ann = u[0].access, *bob = u[1].access, *mod = u[2].access;
	struct catalog c;
	make_catalog(&c, mod);

	/* In two carts: 409 with the count, unless forced. */
	cart_add(ann, c.m[0]);
	cart_add(ann, c.m[1]);
	cart_add(bob, c.m[0]);
	char del0[64], del1[64];
	snprintf(del0, sizeof(del0), "/api/v1/movies/%lld", c.m[0]);
	snprintf(del1, sizeof(del1), "/api/v1/movies/%lld", c.m[1]);
	struct e2e_resp r = harness_call("DELETE", del0, mod, NULL);
	harness_expect_coded(&r, 409, "movie_in_carts");
	ck_assert_int_eq(jint(r.json, "carts"), 2);
	e2e_resp_free(&r);
	harness_check_coded_call("DELETE", del0, ann, NULL, 403, NULL);
	harness_check_coded_call("DELETE", harness_fmt("/api/v1/movies/%lld?force=false", c.m[0]),
				 mod, NULL, 409, "movie_in_carts");
	harness_check_coded_call("DELETE", harness_fmt("/api/v1/movies/%lld?force=true", c.m[0]),
				 mod, NULL, 204, NULL);
	harness_check_coded_call("GET", del0, NULL, NULL, 404, NULL);
	json_t *cart = harness_get_json("/api/v1/cart", ann);
	ck_assert_str_eq(ids_of(json_object_get(cart, "items"), "movie_id"),
			 harness_fmt("%lld", c.m[1]));
	json_decref(cart);
	cart = harness_get_json("/api/v1/cart", bob);
	ck_assert_uint_eq(json_array_size(json_object_get(cart, "items")), 0);
	json_decref(cart);

	/* Ordered: kept for the order's sake; bought: kept, forced or not. */
	long long order = place_order(ann, NULL);
	harness_check_coded_call("DELETE", del1, mod, NULL, 409, "movie_purchased");
	json_t *co = checkout(ann, order);
	pay(jstr(co, "session_id"));
	json_decref(co);
	harness_check_coded_call("DELETE", del1, mod, NULL, 409, "movie_purchased");
	harness_check_coded_call("DELETE", harness_fmt("/api/v1/movies/%lld?force=true", c.m[1]),
				 mod, NULL, 409, "movie_purchased");
	json_t *m = harness_get_json(del1, ann);
	ck_assert(json_is_true(json_object_get(json_object_get(m, "me"), "is_purchased")));
	json_decref(m);

	/* Nobody wants it: it goes. */
	harness_check_coded_call("DELETE", harness_fmt("/api/v1/movies/%lld", c.m[2]), mod, NULL,
				 204, NULL);
}
END_TEST

/* --- the Stripe fake on its own --- */

static struct e2e_resp fake_call(struct stripe_fake *f, const char *method, const char *path,
				 const char *key, const char *idem, const char *body)
{
	char auth[128], ik[160];
	const char *h[4];
	int n = 0;
	if (key) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
		h[n++] = auth;
	}
	if (idem) {
		snprintf(ik, sizeof(ik), "Idempotency-Key: %s", idem);
		h[n++] = ik;
	}
	if (body)
		h[n++] = "Content-Type: application/x-www-form-urlencoded";
	h[n] = NULL;
	struct e2e_resp r;
	char url[256];
	snprintf(url, sizeof(url), "%s%s", stripe_fake_url(f), path);
	ck_assert(e2e_request(method, url, h, body, body ? strlen(body) : 0, &r));
	return r;
}

static const char *error_type(const struct e2e_resp *r)
{
	const char *t =
		json_string_value(json_object_get(json_object_get(r->json, "error"), "type"));
	return t ? t : "";
}

START_TEST(fake_protocol)
{
	static const char *const form =
		"mode=payment&success_url=http%3A%2F%2Ffrontend.test%2Fok&client_reference_id=7"
		"&metadata[order_id]=7&customer_email=ann%40example.com"
		"&line_items[0][quantity]=1&line_items[0][price_data][currency]=usd"
		"&line_items[0][price_data][unit_amount]=999"
		"&line_items[0][price_data][product_data][name]=Silent+Harbor%21"
		"&line_items[1][quantity]=2&line_items[1][price_data][currency]=usd"
		"&line_items[1][price_data][unit_amount]=450"
		"&line_items[1][price_data][product_data][name]=Laughing%20Gas";
	struct stripe_fake *f = stripe_fake_start(SECRET_KEY, WEBHOOK_SECRET);
	ck_assert_ptr_nonnull(f);
	const char *sessions = "/v1/checkout/sessions";

	/* The key. */
	struct e2e_resp r = fake_call(f, "POST", sessions, NULL, NULL, form);
	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(error_type(&r), "invalid_request_error");
	e2e_resp_free(&r);
	r = fake_call(f, "POST", sessions, "sk_test_other", NULL, form);
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);

	/* Brackets become nesting; the amount is the sum. */
	r = fake_call(f, "POST", sessions, SECRET_KEY, "k1", form);
	ck_assert_int_eq(r.status, 200);
	char first_sid[64];
	ck_assert_ptr_nonnull(jstr(r.json, "id"));
	snprintf(first_sid, sizeof(first_sid), "%s", jstr(r.json, "id"));
	ck_assert_int_eq(jint(r.json, "amount_total"), 999 + 2 * 450);
	expect_str(r.json, "url", harness_fmt("%s/checkout/%s", stripe_fake_url(f), first_sid));
	expect_str(r.json, "client_reference_id", "7");
	expect_str(json_object_get(r.json, "metadata"), "order_id", "7");
	expect_str(r.json, "customer_email", "ann@example.com");
	ck_assert(strncmp(jstr(r.json, "payment_intent"), "pi_test_", 8) == 0);
	json_t *s = stripe_fake_session(f, NULL);
	json_t *want = json_loads(
		"{\"mode\":\"payment\",\"success_url\":\"http://frontend.test/ok\","
		"\"client_reference_id\":\"7\",\"metadata\":{\"order_id\":\"7\"},"
		"\"customer_email\":\"ann@example.com\",\"line_items\":["
		"{\"quantity\":\"1\",\"price_data\":{\"currency\":\"usd\",\"unit_amount\":\"999\","
		"\"product_data\":{\"name\":\"Silent Harbor!\"}}},"
		"{\"quantity\":\"2\",\"price_data\":{\"currency\":\"usd\",\"unit_amount\":\"450\","
		"\"product_data\":{\"name\":\"Laughing Gas\"}}}]}",
		0, NULL);
	ck_assert_msg(json_equal(json_object_get(s, "form"), want), "parsed form: %s",
		      json_dumps(json_object_get(s, "form"), JSON_COMPACT));
	json_decref(want);
	json_decref(s);

	/* The same key: the same bytes; other parameters: refused. */
	struct e2e_resp again = fake_call(f, "POST", sessions, SECRET_KEY, "k1", form);
	ck_assert_int_eq(again.status, 200);
	ck_assert_uint_eq(again.body.len, r.body.len);
	ck_assert(memcmp(again.body.data, r.body.data, r.body.len) == 0);
	char h[16];
	ck_assert(e2e_header(&again, "Idempotent-Replayed", h, sizeof(h)));
	ck_assert_str_eq(h, "true");
	e2e_resp_free(&again);
	again = fake_call(f, "POST", sessions, SECRET_KEY, "k1", "mode=payment");
	ck_assert_int_eq(again.status, 400);
	ck_assert_str_eq(error_type(&again), "idempotency_error");
	e2e_resp_free(&again);
	e2e_resp_free(&r);
	r = fake_call(f, "GET", harness_fmt("%s/%s", sessions, first_sid), SECRET_KEY, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	expect_str(r.json, "id", first_sid);
	e2e_resp_free(&r);
	r = fake_call(f, "GET", harness_fmt("%s/cs_nope", sessions), SECRET_KEY, NULL, NULL);
	ck_assert_int_eq(r.status, 404);
	e2e_resp_free(&r);

	/* Bad forms. */
	static const char *const bad[] = {"a[b=1",
					  "line_items[1][quantity]=1",
					  "a=1&a=2",
					  "a=%zz",
					  "a[b]=1&a=2",
					  "mode=payment&success_url=x&line_items[0][quantity]=1",
					  "mode=payment&line_items[0][quantity]=1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = fake_call(f, "POST", sessions, SECRET_KEY, NULL, bad[i]);
		ck_assert_msg(r.status == 400 &&
				      strcmp(error_type(&r), "invalid_request_error") == 0,
			      "%s: %ld %s", bad[i], r.status, r.body.data);
		e2e_resp_free(&r);
	}

	/* Injected failure: nothing remembered, the retry works. */
	stripe_fake_fail_next(f, 500);
	r = fake_call(f, "POST", sessions, SECRET_KEY, "k2", form);
	ck_assert_int_eq(r.status, 500);
	ck_assert_str_eq(error_type(&r), "api_error");
	e2e_resp_free(&r);
	r = fake_call(f, "POST", sessions, SECRET_KEY, "k2", form);
	ck_assert_int_eq(r.status, 200);
	char sid2[64];
	snprintf(sid2, sizeof(sid2), "%s", jstr(r.json, "id"));
	ck_assert_str_ne(sid2, first_sid);
	e2e_resp_free(&r);

	/* Refunds need a paid session: complete it (the API is absent, the
	 * event goes nowhere, but Stripe's side is paid). */
	char pi[64];
	json_t *s2 = stripe_fake_session(f, sid2);
	snprintf(pi, sizeof(pi), "%s", jstr(s2, "payment_intent"));
	json_decref(s2);
	char rbody[96];
	snprintf(rbody, sizeof(rbody), "payment_intent=%s", pi);
	r = fake_call(f, "POST", "/v1/refunds", SECRET_KEY, "r1", rbody);
	ck_assert_int_eq(r.status, 400);
	e2e_resp_free(&r);
	ck_assert_int_eq(stripe_fake_complete(f, sid2,
					      harness_fmt("http://127.0.0.1:%d", e2e_free_port()),
					      NULL),
			 -1);
	r = fake_call(f, "POST", "/v1/refunds", SECRET_KEY, "r1", rbody);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(jint(r.json, "amount"), 1899);
	expect_str(r.json, "payment_intent", pi);
	e2e_resp_free(&r);
	r = fake_call(f, "POST", "/v1/refunds", SECRET_KEY, "r1", rbody);
	ck_assert_int_eq(r.status, 200);
	e2e_resp_free(&r);
	r = fake_call(f, "POST", "/v1/refunds", SECRET_KEY, "r2", rbody);
	ck_assert_int_eq(r.status, 400);
	e2e_resp_free(&r);
	json_t *refunds = stripe_fake_refunds(f);
	ck_assert_uint_eq(json_array_size(refunds), 1);
	expect_str(json_array_get(refunds, 0), "idempotency_key", "r1");
	json_decref(refunds);

	/* Expiring: only an open session; GET tells the state as it is. */
	const char *exp1 = harness_fmt("%s/%s/expire", sessions, first_sid);
	r = fake_call(f, "POST", exp1, SECRET_KEY, "e1", NULL);
	ck_assert_int_eq(r.status, 200);
	expect_str(r.json, "status", "expired");
	ck_assert(json_is_null(json_object_get(r.json, "url")));
	e2e_resp_free(&r);
	r = fake_call(f, "POST", exp1, SECRET_KEY, "e2", NULL);
	ck_assert_int_eq(r.status, 400);
	expect_str(json_object_get(r.json, "error"), "code", "checkout_session_unexpirable");
	e2e_resp_free(&r);
	r = fake_call(f, "POST", harness_fmt("%s/%s/expire", sessions, sid2), SECRET_KEY, NULL,
		      NULL);
	ck_assert_int_eq(r.status, 400); /* complete */
	e2e_resp_free(&r);
	r = fake_call(f, "POST", harness_fmt("%s/cs_nope/expire", sessions), SECRET_KEY, NULL,
		      NULL);
	ck_assert_int_eq(r.status, 404);
	e2e_resp_free(&r);
	r = fake_call(f, "GET", harness_fmt("%s/%s", sessions, first_sid), SECRET_KEY, NULL, NULL);
	expect_str(r.json, "status", "expired");
	expect_str(r.json, "payment_status", "unpaid");
	e2e_resp_free(&r);
	r = fake_call(f, "GET", harness_fmt("%s/%s", sessions, sid2), SECRET_KEY, NULL, NULL);
	expect_str(r.json, "status", "complete");
	expect_str(r.json, "payment_status", "paid");
	expect_str(r.json, "payment_intent", pi);
	ck_assert_int_eq(jint(r.json, "amount_total"), 1899);
	expect_str(r.json, "currency", "usd");
	expect_str(r.json, "client_reference_id", "7");
	e2e_resp_free(&r);
	/* Marked without an event. */
	ck_assert(!stripe_fake_mark_paid(f, "cs_nope"));
	ck_assert(stripe_fake_mark_paid(f, first_sid));
	s = stripe_fake_session(f, first_sid);
	expect_str(s, "status", "complete");
	expect_str(s, "payment_status", "paid");
	json_decref(s);

	/* Held back: the client gives up, the work is done and replayed. */
	stripe_fake_hang_next(f, HANG_MS);
	char url[256];
	snprintf(url, sizeof(url), "%s%s", stripe_fake_url(f), sessions);
	CURL *curl = curl_easy_init();
	struct curl_slist *hl = curl_slist_append(NULL, "Authorization: Bearer " SECRET_KEY);
	hl = curl_slist_append(hl, "Idempotency-Key: k3");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	ck_assert_int_eq(curl_easy_perform(curl), CURLE_OPERATION_TIMEDOUT);
	curl_slist_free_all(hl);
	curl_easy_cleanup(curl);
	r = fake_call(f, "POST", sessions, SECRET_KEY, "k3", form);
	ck_assert_int_eq(r.status, 200);
	ck_assert(e2e_header(&r, "Idempotent-Replayed", h, sizeof(h)));
	e2e_resp_free(&r);

	struct stripe_fake_counts k;
	stripe_fake_counts(f, &k);
	ck_assert_uint_eq(k.unauthorized, 2);
	ck_assert_uint_eq(k.failed, 1);
	ck_assert_uint_eq(k.hung, 1);
	ck_assert_uint_eq(k.sessions, 3);
	ck_assert_uint_eq(k.session_replays, 2);
	ck_assert_uint_eq(k.refunds, 1);
	ck_assert_uint_eq(k.refund_replays, 1);
	ck_assert_uint_eq(k.expired, 1);

	/* The signature scheme (checked against openssl dgst -hmac). */
	char sig[65];
	stripe_fake_sign(WEBHOOK_SECRET, 1700000000, "{\"id\":\"evt_1\"}", 14, sig);
	ck_assert_str_eq(sig, "c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925");
	stripe_fake_stop(f); /* cuts the held-back answer short */
}
END_TEST

int main(void)
{
	if (!harness_main_ready("commerce_test_commerce"))
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	Suite *s = suite_create("commerce");

	TCase *tc = tcase_create("fake");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, fake_protocol);
	suite_add_tcase(s, tc);

	tc = tcase_create("purchase");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, purchase_and_refund);
	tcase_add_test(tc, cart_and_order_refusals);
	tcase_add_test(tc, concurrent_orders);
	tcase_add_test(tc, price_change);
	suite_add_tcase(s, tc);

	tc = tcase_create("payments");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, webhook_checks);
	tcase_add_test(tc, provider_failures);
	tcase_add_test(tc, decline_and_expire);
	suite_add_tcase(s, tc);

	tc = tcase_create("settlement");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, stale_tab_after_cancel);
	tcase_add_test(tc, two_sessions_and_other_amounts);
	tcase_add_test(tc, cancel_finds_the_session_paid);
	tcase_add_test(tc, reprice_expires_the_old_session);
	tcase_add_test(tc, lost_webhooks_reconciled);
	tcase_add_test(tc, refund_retried_after_stripe_down);
	tcase_add_test(tc, cancel_races_the_webhook);
	suite_add_tcase(s, tc);

	tc = tcase_create("moderation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, admin_views);
	tcase_add_test(tc, movie_delete_rules);
	suite_add_tcase(s, tc);

	return harness_run(s);
}
