/* End-to-end tests of watching (docs/MEDIA.md "Watching"): the presigned
 * URL of the feature for buyers and moderators (and its ranged GET on the
 * S3 server), the progress of the player, continue watching, and the media
 * fields of the catalog (poster_url, trailer_url, has_feature,
 * me.progress).
 *
 * The real `cinema-api serve` runs against a fresh migrated database per
 * test, Redis database REDIS_DB and the S3 server of S3_ENDPOINT (s3rver,
 * started by scripts/test.sh, which checks SigV4 signatures, presigned
 * query strings included). Purchases take the real path: cart, order,
 * checkout and the signed webhook of the Stripe fake (tests/support,
 * in-process); refunds too (POST /orders/{id}/refund, then the fake's
 * charge.refunded). The feature is set up by the test itself: an object
 * PUT into S3 with the API's own client under a key of the media layout,
 * and its movie_media row inserted in SQL (the upload routes are tested
 * elsewhere); posters and trailers are rows only (the trigger copies their
 * keys onto movies).
 *
 * Needs DATABASE_URL, REDIS_URL, S3_ENDPOINT and the other S3_* variables,
 * CINEMA_API_BIN and MIGRATIONS_DIR (scripts/test.sh and CTest set them).
 * Cleanup: the checked teardown stops every process, the fake, drops the
 * database and flushes Redis; S3 objects have keys no other run shares.
 * No assertion depends on timing. */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cinema/buf.h"
#include "cinema/log.h"
#include "e2e.h"
#include "harness.h"
#include "storage/s3.h"
#include "stripe_fake.h"

#define REDIS_DB       2
#define BASE_URL       "http://frontend.test"
#define PASSWORD       "Popcorn-42!"
#define SECRET_KEY     "sk_test_fake"
#define WEBHOOK_SECRET "whsec_test"
#define PLAY_TTL_S     900
#define FEATURE_BYTES  4096

static struct harness_world w;
static struct stripe_fake *fake;
static struct s3_client *s3;

/* ann, bob: USERs; mod: a MODERATOR. */
static struct harness_user cast[3];
#define ANN (cast[0].access)
#define BOB (cast[1].access)
#define MOD (cast[2].access)

/* --- fixture --- */

static void setup(void)
{
	static const char *const need[] = {"S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY",
					   "S3_BUCKET",	  "S3_REGION",	   NULL};
	harness_require_env(need);
	harness_world_begin(&w, "play", REDIS_DB);
}

static void teardown(void)
{
	harness_world_end(&w);
	stripe_fake_stop(fake);
	fake = NULL;
	s3_client_free(s3);
	s3 = NULL;
}

/* The Stripe fake, the API (with PLAY_URL_TTL_S=PLAY_TTL_S; reaching S3
 * at s3_endpoint when not NULL, signing URLs for S3_ENDPOINT) and the S3
 * client of the test; then the three accounts, signed in. */
static void boot_with(const char *s3_endpoint)
{
	fake = stripe_fake_start(SECRET_KEY, WEBHOOK_SECRET);
	ck_assert_msg(fake != NULL, "the Stripe fake did not start");
	harness_world_api_env(&w, &w.srv_env, BASE_URL);
	harness_env_set(&w.srv_env, "STRIPE_API_BASE=%s", stripe_fake_url(fake));
	harness_env_set(&w.srv_env, "STRIPE_SECRET_KEY=%s", SECRET_KEY);
	harness_env_set(&w.srv_env, "STRIPE_WEBHOOK_SECRET=%s", WEBHOOK_SECRET);
	harness_env_set(&w.srv_env, "PLAY_URL_TTL_S=%d", PLAY_TTL_S);
	/* Media rows are inserted in SQL here, past the API that drops the
	 * cached lists: read the lists from the database. */
	harness_env_set(&w.srv_env, "CATALOG_CACHE_TTL_MS=0");
	if (s3_endpoint) {
		harness_env_set(&w.srv_env, "S3_ENDPOINT=%s", s3_endpoint);
		harness_env_set(&w.srv_env, "S3_PUBLIC_ENDPOINT=%s", getenv("S3_ENDPOINT"));
	}
	harness_server_start(&w.srv, w.srv_env.p);
	struct s3_options o = {
		.endpoint = getenv("S3_ENDPOINT"),
		.bucket = getenv("S3_BUCKET"),
		.access_key = getenv("S3_ACCESS_KEY"),
		.secret_key = getenv("S3_SECRET_KEY"),
		.region = getenv("S3_REGION"),
		.timeout_ms = 10000,
	};
	s3 = s3_client_new(&o);
	ck_assert_msg(s3 != NULL, "S3_* settings rejected");
	char err[256];
	ck_assert_msg(s3_ensure_bucket(s3, err, sizeof(err)) == ERR_OK, "bucket: %s", err);
	cast[0] = (struct harness_user){harness_unique_email("ann"), "USER", 0, ""};
	cast[1] = (struct harness_user){harness_unique_email("bob"), "USER", 0, ""};
	cast[2] = (struct harness_user){harness_unique_email("mod"), "MODERATOR", 0, ""};
	harness_create_users(w.ci, cast, 3, PASSWORD);
}

static void boot(void)
{
	boot_with(NULL);
}

/* --- JSON --- */

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long jint(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	ck_assert_msg(json_is_integer(v), "\"%s\" is not an integer", key);
	return json_integer_value(v);
}

static double jnum(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	ck_assert_msg(json_is_number(v), "\"%s\" is not a number", key);
	return json_number_value(v);
}

/* The items of a page envelope, asserting total_items (when >= 0). */
static json_t *page_items_at(const json_t *page, long long total, int line)
{
	char *text = json_dumps(page, JSON_COMPACT);
	json_t *items = json_object_get(page, "items");
	ck_assert_msg(json_is_array(items) && json_is_integer(json_object_get(page, "total_items")),
		      "line %d: not a page: %s", line, text);
	if (total >= 0)
		ck_assert_msg(json_integer_value(json_object_get(page, "total_items")) == total,
			      "line %d: total_items, want %lld: %s", line, total, text);
	free(text);
	return items;
}
#define page_items(page, total) page_items_at(page, total, __LINE__)

/* --- the catalog --- */

#define NMOVIES 4

struct catalog {
	long long m[NMOVIES];
};

static long long create_named(const char *path, const char *name)
{
	struct e2e_resp r = harness_call("POST", path, MOD, harness_json("{s:s}", "name", name));
	harness_expect_coded(&r, 201, NULL);
	long long id = jint(r.json, "id");
	e2e_resp_free(&r);
	return id;
}

static void make_catalog(struct catalog *c)
{
	long long genre = create_named("/api/v1/genres", "Drama");
	long long cert = create_named("/api/v1/certifications", "PG-13");
	for (int i = 0; i < NMOVIES; i++) {
		struct e2e_resp r = harness_call(
			"POST", "/api/v1/movies", MOD,
			harness_json("{s:s,s:i,s:i,s:f,s:i,s:s,s:s,s:I,s:[I]}", "name",
				     harness_fmt("Film %d", i), "year", 2000 + i, "time", 100,
				     "imdb", 7.1, "votes", 1000, "description",
				     "A film for the playback tests.", "price", "4.99",
				     "certification_id", (json_int_t)cert, "genre_ids",
				     (json_int_t)genre));
		harness_expect_coded(&r, 201, NULL);
		c->m[i] = jint(r.json, "id");
		e2e_resp_free(&r);
	}
}

/* A media key of movie and kind with a fresh token into out (at least 96). */
static void media_key(char *out, size_t n, long long movie, const char *kind)
{
	unsigned char rnd[16];
	char hex[33];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(out, n, "media/%lld/%s/%s", movie, kind, hex);
}

/* The bytes of a test feature: a WebM's EBML magic, then a pattern in
 * which every offset holds its own byte, so a range is easy to check. */
static void feature_bytes(unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(i * 7 + 3);
	b[0] = 0x1A;
	b[1] = 0x45;
	b[2] = 0xDF;
	b[3] = 0xA3;
}

/* Links a media row of movie: for a feature, its object is PUT into S3
 * first. Answers the key (a static buffer per kind). */
static const char *add_media(long long movie, const char *kind)
{
	static char keys[3][128];
	char *key = keys[kind[0] == 'p' ? 0 : kind[0] == 't' ? 1 : 2];
	media_key(key, 128, movie, kind);
	const char *ctype = kind[0] == 'p' ? "image/png" : "video/webm";
	long long size = 1234;
	if (strcmp(kind, "feature") == 0) {
		unsigned char data[FEATURE_BYTES];
		char err[256];
		feature_bytes(data, sizeof(data));
		ck_assert_msg(s3_put_object(s3, key, data, sizeof(data), ctype, err, sizeof(err)) ==
				      ERR_OK,
			      "PUT %s: %s", key, err);
		size = FEATURE_BYTES;
	}
	harness_sql_ok(harness_fmt(
		"INSERT INTO movie_media (movie_id, kind, object_key, content_type, size_bytes, "
		"duration_s, uploaded_by) VALUES (%lld, '%s', '%s', '%s', %lld, %s, %lld) "
		"ON CONFLICT (movie_id, kind) DO UPDATE SET object_key = excluded.object_key",
		movie, kind, key, ctype, size, kind[0] == 'p' ? "NULL" : "60.5", cast[2].id));
	return key;
}

/* --- buying and refunding, the real way --- */

/* Buys movie as bearer: cart, order, checkout, the signed webhook. Answers
 * the order id; copies the PaymentIntent into pi (for a refund). */
static long long buy(const char *bearer, long long movie, char *pi, size_t pi_len)
{
	harness_check_coded_call("POST", "/api/v1/cart/items", bearer,
				 harness_json("{s:I}", "movie_id", (json_int_t)movie), 201, NULL);
	struct e2e_resp r = harness_call("POST", "/api/v1/orders", bearer, NULL);
	harness_expect_coded(&r, 201, NULL);
	long long order = jint(json_object_get(r.json, "order"), "id");
	e2e_resp_free(&r);
	r = harness_call("POST", harness_fmt("/api/v1/orders/%lld/checkout", order), bearer, NULL);
	harness_expect_coded(&r, 200, NULL);
	char sid[128];
	snprintf(sid, sizeof(sid), "%s", jstr(r.json, "session_id"));
	e2e_resp_free(&r);
	json_t *s = stripe_fake_session(fake, sid);
	ck_assert_msg(s != NULL, "the fake has no session %s", sid);
	snprintf(pi, pi_len, "%s", jstr(s, "payment_intent"));
	json_decref(s);
	json_t *resp = NULL;
	struct stripe_fake_send o = {.response_out = &resp};
	long st = stripe_fake_complete(fake, sid, w.srv.base_url, &o);
	json_decref(resp);
	ck_assert_msg(st == 200, "webhook answered %ld%s", st, harness_logs_tail());
	return order;
}

/* Refunds order (POST /orders/{id}/refund, then Stripe's charge.refunded). */
static void refund(const char *bearer, long long order, const char *pi)
{
	harness_check_coded_call("POST", harness_fmt("/api/v1/orders/%lld/refund", order), bearer,
				 NULL, 202, NULL);
	json_t *resp = NULL;
	struct stripe_fake_send o = {.response_out = &resp};
	long st = stripe_fake_refunded(fake, pi, w.srv.base_url, &o);
	json_decref(resp);
	ck_assert_msg(st == 200, "refund webhook answered %ld%s", st, harness_logs_tail());
}

/* --- S3, as a browser --- */

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ud)
{
	buf_append(ud, ptr, size * nmemb);
	return size * nmemb;
}

/* GETs url with no credentials (and a Range header when range is not
 * NULL); returns the status, the body in body. */
static long s3_get(const char *url, const char *range, struct buf *body)
{
	CURL *h = curl_easy_init();
	long status = 0;
	ck_assert_ptr_nonnull(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (range)
		curl_easy_setopt(h, CURLOPT_RANGE, range);
	CURLcode cc = curl_easy_perform(h);
	ck_assert_msg(cc == CURLE_OK, "GET %s: %s", url, curl_easy_strerror(cc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	return status;
}

/* GET /movies/{id}/play as bearer; asserts status (and code); answers the
 * owned body on 200, else NULL. */
static json_t *play_at(long long movie, const char *bearer, long status, const char *code, int line)
{
	struct e2e_resp r =
		harness_call("GET", harness_fmt("/api/v1/movies/%lld/play", movie), bearer, NULL);
	harness_expect_coded_at(&r, status, code, line);
	json_t *j = status == 200 ? json_incref(r.json) : NULL;
	e2e_resp_free(&r);
	return j;
}
#define play(movie, bearer, status, code) play_at(movie, bearer, status, code, __LINE__)

/* --- the tests --- */

START_TEST(play_access)
{
	struct catalog c;
	char pi[128];
	boot();
	make_catalog(&c);
	add_media(c.m[0], "feature");
	long long order = buy(ANN, c.m[0], pi, sizeof(pi));

	/* The buyer: a URL of the feature, and S3 serves ranges of it. */
	static const char *const keys[] = {"url",	 "expires_at", "content_type", "size_bytes",
					   "duration_s", "position_s", "finished",     NULL};
	json_t *p = play(c.m[0], ANN, 200, NULL);
	harness_assert_keys(p, keys, "playback");
	ck_assert_str_eq(jstr(p, "content_type"), "video/webm");
	ck_assert_int_eq(jint(p, "size_bytes"), FEATURE_BYTES);
	ck_assert(jnum(p, "duration_s") == 60.5);
	ck_assert(json_is_null(json_object_get(p, "position_s")));
	ck_assert(json_is_false(json_object_get(p, "finished")));
	const char *url = jstr(p, "url");
	ck_assert_msg(strstr(url, harness_fmt("X-Amz-Expires=%d", PLAY_TTL_S)) != NULL,
		      "not valid PLAY_URL_TTL_S: %s", url);
	ck_assert_msg(strstr(url, harness_fmt("media/%lld/feature/", c.m[0])) != NULL, "url: %s",
		      url);
	const char *exp = jstr(p, "expires_at");
	ck_assert_msg(exp && strlen(exp) == 20 && exp[19] == 'Z', "expires_at: %s", exp);
	unsigned char want[FEATURE_BYTES];
	feature_bytes(want, sizeof(want));
	struct buf body = BUF_INIT;
	ck_assert_int_eq(s3_get(url, "10-99", &body), 206);
	ck_assert_uint_eq(body.len, 90);
	ck_assert(memcmp(body.data, want + 10, 90) == 0);
	buf_reset(&body);
	ck_assert_int_eq(s3_get(url, NULL, &body), 200);
	ck_assert_uint_eq(body.len, FEATURE_BYTES);
	ck_assert(memcmp(body.data, want, FEATURE_BYTES) == 0);
	buf_free(&body);
	json_decref(p);

	/* Anyone else: 403 with the hint to buy; anonymous: 401. */
	play(c.m[0], BOB, 403, "not_purchased");
	play(c.m[0], NULL, 401, NULL);
	/* A moderator needs no purchase. */
	p = play(c.m[0], MOD, 200, NULL);
	json_decref(p);
	/* No feature: 404 feature_not_found for those who may watch; unknown
	 * movie: 404 not_found for all. */
	play(c.m[1], MOD, 404, "feature_not_found");
	play(c.m[1], BOB, 403, "not_purchased");
	play(999999, ANN, 404, "not_found");
	play(999999, MOD, 404, "not_found");
	struct e2e_resp r = harness_call("GET", "/api/v1/movies/abc/play", ANN, NULL);
	harness_expect_coded(&r, 404, NULL);
	e2e_resp_free(&r);
	/* A buyer of a movie with no feature yet. */
	char pi2[128];
	buy(BOB, c.m[1], pi2, sizeof(pi2));
	play(c.m[1], BOB, 404, "feature_not_found");

	/* After a refund, access is gone. */
	refund(ANN, order, pi);
	play(c.m[0], ANN, 403, "not_purchased");
}
END_TEST

/* PUT /movies/{id}/progress as bearer with the JSON text body; asserts
 * status and code. */
static void progress_at(long long movie, const char *bearer, const char *body, long status,
			const char *code, int line)
{
	struct e2e_resp r = harness_request(
		"PUT", harness_fmt("/api/v1/movies/%lld/progress", movie), bearer, body, NULL);
	harness_expect_coded_at(&r, status, code, line);
	e2e_resp_free(&r);
}
#define progress(movie, bearer, body, status, code) \
	progress_at(movie, bearer, body, status, code, __LINE__)
#define progress_ok(movie, bearer, pos, dur)                                                       \
	progress_at(movie, bearer, harness_fmt("{\"position_s\":%s,\"duration_s\":%s}", pos, dur), \
		    204, NULL, __LINE__)

/* A body that must be refused with 422 naming field. */
static void progress_invalid_at(long long movie, const char *body, const char *field, int line)
{
	struct e2e_resp r = harness_request(
		"PUT", harness_fmt("/api/v1/movies/%lld/progress", movie), ANN, body, NULL);
	harness_expect_invalid_at(&r, field, NULL, line);
	e2e_resp_free(&r);
}
#define progress_invalid(movie, body, field) progress_invalid_at(movie, body, field, __LINE__)

/* The stored progress of user in movie as "position/duration/finished",
 * or "none". */
static const char *stored(long long user, long long movie)
{
	char *v = harness_sql_value(harness_fmt(
		"SELECT coalesce((SELECT position_s || '/' || duration_s || '/' || finished FROM "
		"watch_progress WHERE user_id = %lld AND movie_id = %lld), 'none')",
		user, movie));
	const char *out = harness_fmt("%s", v);
	free(v);
	return out;
}

/* GET /me/continue-watching?query as bearer: asserts total_items, and
 * answers the movie ids of the page in order, as "1,2,3". */
static const char *continue_ids_at(const char *bearer, const char *query, long long total, int line)
{
	json_t *page = harness_get_json_at(harness_fmt("/api/v1/me/continue-watching%s", query),
					   bearer, line);
	json_t *items = page_items_at(page, total, line);
	static char out[512];
	size_t o = 0, i;
	out[0] = '\0';
	json_t *it;
	json_array_foreach (items, i, it) {
		static const char *const keys[] = {"movie",    "position_s", "duration_s",
						   "progress", "updated_at", NULL};
		harness_assert_keys(it, keys, "continue watching");
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%lld", i ? "," : "",
				      jint(json_object_get(it, "movie"), "id"));
	}
	json_decref(page);
	return out;
}
#define continue_ids(bearer, query, total) continue_ids_at(bearer, query, total, __LINE__)

START_TEST(progress_and_continue)
{
	struct catalog c;
	char pi[3][128];
	long long order[3];
	boot();
	make_catalog(&c);
	for (int i = 0; i < 3; i++) {
		add_media(c.m[i], "feature");
		order[i] = buy(ANN, c.m[i], pi[i], sizeof(pi[i]));
	}
	long long ann = cast[0].id, bob = cast[1].id, mod = cast[2].id;

	/* Validation: every field named, nothing written. */
	progress_invalid(c.m[0], "{\"position_s\":-1,\"duration_s\":100}", "position_s");
	progress_invalid(c.m[0], "{\"position_s\":\"NaN\",\"duration_s\":100}", "position_s");
	progress_invalid(c.m[0], "{\"position_s\":\"12\",\"duration_s\":100}", "position_s");
	progress_invalid(c.m[0], "{\"position_s\":1,\"duration_s\":\"Infinity\"}", "duration_s");
	progress_invalid(c.m[0], "{\"position_s\":1,\"duration_s\":0}", "duration_s");
	progress_invalid(c.m[0], "{\"position_s\":1,\"duration_s\":-5}", "duration_s");
	progress_invalid(c.m[0], "{\"position_s\":1,\"duration_s\":604801}", "duration_s");
	progress_invalid(c.m[0], "{\"position_s\":1}", "duration_s");
	progress_invalid(c.m[0], "{\"position_s\":null,\"duration_s\":10}", "position_s");
	progress_invalid(c.m[0], "{\"position_s\":true,\"duration_s\":10}", "position_s");
	progress_invalid(c.m[0], "{\"position_s\":1,\"duration_s\":10,\"speed\":2}", "speed");
	progress(c.m[0], ANN, "{\"position_s\":", 400, NULL);
	progress(c.m[0], ANN, "[1,2]", 400, NULL);
	/* A number too large for a double is no 500. */
	struct e2e_resp r =
		harness_request("PUT", harness_fmt("/api/v1/movies/%lld/progress", c.m[0]), ANN,
				"{\"position_s\":1e999,\"duration_s\":10}", NULL);
	ck_assert_msg(r.status == 400 || r.status == 422, "1e999: %ld", r.status);
	e2e_resp_free(&r);
	/* A body past the route's limit: 413; another content type: 415. */
	char big[2048];
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{\"position_s\":1,\"duration_s\":10}", 32);
	r = harness_request("PUT", harness_fmt("/api/v1/movies/%lld/progress", c.m[0]), ANN, big,
			    NULL);
	harness_expect_coded(&r, 413, NULL);
	e2e_resp_free(&r);
	static const char *const text_ct[] = {"Content-Type: text/plain", NULL};
	static const char *const body1 = "{\"position_s\":1,\"duration_s\":10}";
	r = harness_raw("PUT", harness_fmt("/api/v1/movies/%lld/progress", c.m[0]),
			(const char *const[]){harness_fmt("Authorization: Bearer %s", ANN),
					      text_ct[0], NULL},
			body1, strlen(body1));
	harness_expect_coded(&r, 415, NULL);
	e2e_resp_free(&r);
	ck_assert_str_eq(stored(ann, c.m[0]), "none");

	/* Who may: a non-buyer is refused and nothing is written; an unknown
	 * movie is 404; anonymous 401; a moderator needs no purchase. */
	const char *ok = "{\"position_s\":5,\"duration_s\":100}";
	progress(c.m[0], BOB, ok, 403, "not_purchased");
	ck_assert_str_eq(stored(bob, c.m[0]), "none");
	progress(999999, ANN, ok, 404, "not_found");
	progress(c.m[0], NULL, ok, 401, NULL);
	progress(c.m[3], MOD, ok, 204, NULL);
	ck_assert_str_eq(stored(mod, c.m[3]), "5/100/false");

	/* One idempotent upsert. */
	progress_ok(c.m[0], ANN, "30", "100");
	progress_ok(c.m[0], ANN, "30", "100");
	ck_assert_int_eq(harness_sql_int(harness_fmt(
				 "SELECT count(*) FROM watch_progress WHERE user_id = %lld", ann)),
			 1);
	ck_assert_str_eq(stored(ann, c.m[0]), "30/100/false");
	progress_ok(c.m[0], ANN, "30.25", "100");
	ck_assert_str_eq(stored(ann, c.m[0]), "30.25/100/false");
	/* Past the end: clamped, and finished. Past 95 %: finished. */
	progress_ok(c.m[1], ANN, "500", "100");
	ck_assert_str_eq(stored(ann, c.m[1]), "100/100/true");
	progress_ok(c.m[2], ANN, "96", "100");
	ck_assert_str_eq(stored(ann, c.m[2]), "96/100/true");
	ck_assert_str_eq(continue_ids(ANN, "", 1), harness_fmt("%lld", c.m[0]));
	/* Back below 95 %: unfinished again, and the newest. */
	progress_ok(c.m[2], ANN, "94", "100");
	ck_assert_str_eq(continue_ids(ANN, "", 2), harness_fmt("%lld,%lld", c.m[2], c.m[0]));
	progress_ok(c.m[0], ANN, "31", "100");
	ck_assert_str_eq(continue_ids(ANN, "", 2), harness_fmt("%lld,%lld", c.m[0], c.m[2]));
	/* Position 0 is no film started. */
	progress_ok(c.m[1], ANN, "0", "100");
	ck_assert_str_eq(continue_ids(ANN, "", 2), harness_fmt("%lld,%lld", c.m[0], c.m[2]));

	/* An item: the MovieSummary with its media paths, and the numbers. */
	json_t *page = harness_get_json("/api/v1/me/continue-watching", ANN);
	json_t *first = json_array_get(page_items(page, 2), 0);
	json_t *movie = json_object_get(first, "movie");
	ck_assert_str_eq(jstr(movie, "name"), "Film 0");
	ck_assert_str_eq(jstr(movie, "price"), "4.99");
	ck_assert(json_object_get(movie, "poster_url") &&
		  json_is_null(json_object_get(movie, "poster_url")));
	ck_assert(json_is_null(json_object_get(movie, "trailer_url")));
	ck_assert(jnum(first, "position_s") == 31);
	ck_assert(jnum(first, "duration_s") == 100);
	ck_assert(jnum(first, "progress") == 0.31);
	const char *at = jstr(first, "updated_at");
	ck_assert_msg(at && strlen(at) == 20 && at[19] == 'Z', "updated_at: %s", at);
	json_decref(page);

	/* Pagination, as every list. */
	page = harness_get_json("/api/v1/me/continue-watching?per_page=1", ANN);
	ck_assert_uint_eq(json_array_size(page_items(page, 2)), 1);
	ck_assert_int_eq(jint(page, "total_pages"), 2);
	ck_assert(json_is_null(json_object_get(page, "prev_page")));
	ck_assert_str_eq(jstr(page, "next_page"), "/api/v1/me/continue-watching?page=2&per_page=1");
	json_decref(page);
	ck_assert_str_eq(continue_ids(ANN, "?page=2&per_page=1", 2), harness_fmt("%lld", c.m[2]));
	ck_assert_str_eq(continue_ids(ANN, "?page=3&per_page=1", 2), "");
	r = harness_call("GET", "/api/v1/me/continue-watching?per_page=0", ANN, NULL);
	harness_expect_invalid(&r, "per_page", NULL);
	e2e_resp_free(&r);
	harness_check_coded_call("GET", "/api/v1/me/continue-watching", NULL, NULL, 401, NULL);
	ck_assert_str_eq(continue_ids(BOB, "", 0), "");
	/* A moderator's list holds any film. */
	ck_assert_str_eq(continue_ids(MOD, "", 1), harness_fmt("%lld", c.m[3]));

	/* Play tells where the viewer stopped. */
	json_t *p = play(c.m[0], ANN, 200, NULL);
	ck_assert(jnum(p, "position_s") == 31);
	ck_assert(json_is_false(json_object_get(p, "finished")));
	json_decref(p);
	progress_ok(c.m[1], ANN, "99", "100");
	p = play(c.m[1], ANN, 200, NULL);
	ck_assert(jnum(p, "position_s") == 99);
	ck_assert(json_is_true(json_object_get(p, "finished")));
	json_decref(p);

	/* The detail: me.progress and has_feature. */
	json_t *d = harness_get_json(harness_fmt("/api/v1/movies/%lld", c.m[0]), ANN);
	ck_assert(json_is_true(json_object_get(d, "has_feature")));
	json_t *pr = json_object_get(json_object_get(d, "me"), "progress");
	static const char *const pkeys[] = {"position_s", "duration_s", "finished", "updated_at",
					    NULL};
	harness_assert_keys(pr, pkeys, "me.progress");
	ck_assert(jnum(pr, "position_s") == 31);
	ck_assert(jnum(pr, "duration_s") == 100);
	ck_assert(json_is_false(json_object_get(pr, "finished")));
	json_decref(d);
	d = harness_get_json(harness_fmt("/api/v1/movies/%lld", c.m[0]), BOB);
	pr = json_object_get(json_object_get(d, "me"), "progress");
	ck_assert(pr && json_is_null(pr));
	json_decref(d);
	d = harness_get_json(harness_fmt("/api/v1/movies/%lld", c.m[3]), NULL);
	ck_assert(json_is_false(json_object_get(d, "has_feature")));
	ck_assert(json_is_null(json_object_get(d, "me")));
	json_decref(d);

	/* A refund takes the film out of the list and stops the progress. */
	refund(ANN, order[0], pi[0]);
	ck_assert_str_eq(continue_ids(ANN, "", 1), harness_fmt("%lld", c.m[2]));
	progress(c.m[0], ANN, ok, 403, "not_purchased");
	ck_assert_str_eq(stored(ann, c.m[0]), "31/100/false");
	(void)order;
}
END_TEST

START_TEST(catalog_media_paths)
{
	struct catalog c;
	char pi[128];
	boot();
	make_catalog(&c);
	const char *poster = harness_fmt("/api/v1/%s", add_media(c.m[0], "poster"));
	const char *trailer = harness_fmt("/api/v1/%s", add_media(c.m[1], "trailer"));
	ck_assert_msg(strncmp(poster, harness_fmt("/api/v1/media/%lld/poster/", c.m[0]),
			      strlen(harness_fmt("/api/v1/media/%lld/poster/", c.m[0]))) == 0,
		      "poster path %s", poster);
	buy(ANN, c.m[0], pi, sizeof(pi));
	harness_check_coded_call("PUT", harness_fmt("/api/v1/favorites/%lld", c.m[1]), ANN, NULL,
				 204, NULL);

	/* Every list renders them: the catalog, purchases, favorites. */
	static const char *const lists[] = {"/api/v1/movies?sort=year", "/api/v1/purchases",
					    "/api/v1/favorites"};
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		json_t *page = harness_get_json(lists[l], ANN);
		json_t *items = page_items(page, -1);
		ck_assert_uint_gt(json_array_size(items), 0);
		size_t i;
		json_t *it;
		json_array_foreach (items, i, it) {
			long long id = jint(it, "id");
			json_t *pu = json_object_get(it, "poster_url");
			json_t *tu = json_object_get(it, "trailer_url");
			ck_assert_msg(pu && tu, "%s: no poster_url or trailer_url", lists[l]);
			if (id == c.m[0])
				ck_assert_str_eq(json_string_value(pu), poster);
			else
				ck_assert(json_is_null(pu));
			if (id == c.m[1])
				ck_assert_str_eq(json_string_value(tu), trailer);
			else
				ck_assert(json_is_null(tu));
		}
		json_decref(page);
	}

	/* The detail, anonymous and signed in. */
	json_t *d = harness_get_json(harness_fmt("/api/v1/movies/%lld", c.m[0]), NULL);
	ck_assert_str_eq(jstr(d, "poster_url"), poster);
	ck_assert(json_is_null(json_object_get(d, "trailer_url")));
	ck_assert(json_is_false(json_object_get(d, "has_feature")));
	json_decref(d);
	d = harness_get_json(harness_fmt("/api/v1/movies/%lld", c.m[1]), ANN);
	ck_assert_str_eq(jstr(d, "trailer_url"), trailer);
	ck_assert(json_is_null(json_object_get(d, "poster_url")));
	json_decref(d);

	/* Replaced: the new path; unlinked: null again. */
	const char *poster2 = harness_fmt("/api/v1/%s", add_media(c.m[0], "poster"));
	ck_assert_str_ne(poster2, poster);
	d = harness_get_json(harness_fmt("/api/v1/movies/%lld", c.m[0]), NULL);
	ck_assert_str_eq(jstr(d, "poster_url"), poster2);
	json_decref(d);
	harness_sql_ok(harness_fmt("DELETE FROM movie_media WHERE movie_id = %lld", c.m[0]));
	d = harness_get_json(harness_fmt("/api/v1/movies/%lld", c.m[0]), NULL);
	ck_assert(json_is_null(json_object_get(d, "poster_url")));
	json_decref(d);
}
END_TEST

/* --- a counting TCP relay, to measure what goes through cinema-api --- */

/* Listens on a free loopback port and forwards every connection to
 * 127.0.0.1:target, counting the bytes each way. Threads: one accepting,
 * one per connection (detached; they end with their connection, or with
 * the test process). */
struct relay {
	int fd, port, target;
	pthread_t accepter;
	atomic_bool stop;
	atomic_llong bytes; /* both ways */
	atomic_int conns;
};

struct relay_conn {
	struct relay *r;
	int client;
};

static void *relay_pump(void *arg)
{
	struct relay_conn *rc = arg;
	struct relay *r = rc->r;
	int a = rc->client;
	free(rc);
	int b = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->target)};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (b < 0 || connect(b, (struct sockaddr *)&to, sizeof(to)) != 0)
		goto out;
	char chunk[65536];
	for (;;) {
		struct pollfd pf[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
		if (poll(pf, 2, 200) < 0 || atomic_load(&r->stop))
			break;
		for (int i = 0; i < 2; i++) {
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = recv(pf[i].fd, chunk, sizeof(chunk), 0);
			if (n <= 0)
				goto out;
			atomic_fetch_add(&r->bytes, (long long)n);
			for (ssize_t off = 0; off < n;) {
				ssize_t sent = send(pf[1 - i].fd, chunk + off, (size_t)(n - off),
						    MSG_NOSIGNAL);
				if (sent <= 0)
					goto out;
				off += sent;
			}
		}
	}
out:
	close(a);
	if (b >= 0)
		close(b);
	return NULL;
}

static void *relay_accept(void *arg)
{
	struct relay *r = arg;
	while (!atomic_load(&r->stop)) {
		struct pollfd pf = {.fd = r->fd, .events = POLLIN};
		if (poll(&pf, 1, 100) <= 0)
			continue;
		int c = accept(r->fd, NULL, NULL);
		if (c < 0)
			continue;
		struct relay_conn *rc = malloc(sizeof(*rc));
		pthread_t t;
		ck_assert_ptr_nonnull(rc);
		*rc = (struct relay_conn){r, c};
		atomic_fetch_add(&r->conns, 1);
		ck_assert_int_eq(pthread_create(&t, NULL, relay_pump, rc), 0);
		pthread_detach(t);
	}
	return NULL;
}

static void relay_start(struct relay *r, int target)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int one = 1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->target = target;
	atomic_init(&r->stop, false);
	atomic_init(&r->bytes, 0);
	atomic_init(&r->conns, 0);
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(r->fd, 0);
	setsockopt(r->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_int_eq(bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(r->fd, 64), 0);
	ck_assert_int_eq(getsockname(r->fd, (struct sockaddr *)&sa, &len), 0);
	r->port = ntohs(sa.sin_port);
	ck_assert_int_eq(pthread_create(&r->accepter, NULL, relay_accept, r), 0);
}

static void relay_stop(struct relay *r)
{
	atomic_store(&r->stop, true);
	pthread_join(r->accepter, NULL);
	close(r->fd);
}

/* The port of an http://host:port URL. */
static int url_port(const char *url)
{
	const char *colon = strrchr(url, ':');
	ck_assert_msg(colon && strncmp(url, "http://", 7) == 0 && colon > url + 5, "URL %s", url);
	return atoi(colon + 1);
}

/* The issue asks to measure that a full playback moves no video bytes
 * through cinema-api. Every HTTP byte the API exchanges is counted from
 * outside: its clients reach it through one relay, and it reaches S3
 * (S3_ENDPOINT) through another, while the URLs it signs name S3 itself
 * (S3_PUBLIC_ENDPOINT), as for a browser. Across a whole playback of a
 * BIG_FEATURE-byte feature (the URL, the whole file, four seeks, a
 * progress report after each), the API talks to S3 not at all and to its
 * client in a few kilobytes. */
#define BIG_FEATURE (4 * 1024 * 1024)
#define API_IO_MAX  (64 * 1024)

START_TEST(no_video_bytes_through_api)
{
	struct catalog c;
	char pi[128], err[256], key[128];
	struct relay to_s3, to_api;
	relay_start(&to_s3, url_port(getenv("S3_ENDPOINT")));
	boot_with(harness_fmt("http://127.0.0.1:%d", to_s3.port));
	relay_start(&to_api, w.srv.port);
	make_catalog(&c);
	buy(ANN, c.m[0], pi, sizeof(pi));
	unsigned char *data = malloc(BIG_FEATURE);
	ck_assert_ptr_nonnull(data);
	feature_bytes(data, BIG_FEATURE);
	media_key(key, sizeof(key), c.m[0], "feature");
	ck_assert_msg(s3_put_object(s3, key, data, BIG_FEATURE, "video/webm", err, sizeof(err)) ==
			      ERR_OK,
		      "PUT %s: %s", key, err);
	harness_sql_ok(harness_fmt(
		"INSERT INTO movie_media (movie_id, kind, object_key, content_type, size_bytes, "
		"duration_s) VALUES (%lld, 'feature', '%s', 'video/webm', %d, 120)",
		c.m[0], key, BIG_FEATURE));

	/* Copies: harness_fmt's buffers rotate. */
	char api[64], auth[2200];
	snprintf(api, sizeof(api), "http://127.0.0.1:%d", to_api.port);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ANN);
	long long s3_before = atomic_load(&to_s3.bytes);
	struct e2e_resp r =
		harness_raw("GET", harness_fmt("%s/api/v1/movies/%lld/play", api, c.m[0]),
			    (const char *const[]){auth, NULL}, NULL, 0);
	harness_expect_coded(&r, 200, NULL);
	char url[4096];
	snprintf(url, sizeof(url), "%s", jstr(r.json, "url"));
	e2e_resp_free(&r);
	ck_assert_msg(strncmp(url, getenv("S3_ENDPOINT"), strlen(getenv("S3_ENDPOINT"))) == 0,
		      "the URL does not name S3: %s", url);
	struct buf body = BUF_INIT;
	ck_assert_int_eq(s3_get(url, NULL, &body), 200);
	ck_assert_uint_eq(body.len, BIG_FEATURE);
	ck_assert(memcmp(body.data, data, BIG_FEATURE) == 0);
	for (int i = 1; i <= 4; i++) {
		long long from = (long long)BIG_FEATURE / 5 * i;
		buf_reset(&body);
		ck_assert_int_eq(s3_get(url, harness_fmt("%lld-%lld", from, from + 65535), &body),
				 206);
		ck_assert_uint_eq(body.len, 65536);
		ck_assert(memcmp(body.data, data + from, 65536) == 0);
		const char *pos = harness_fmt("{\"position_s\":%d,\"duration_s\":120}", 24 * i);
		r = harness_raw("PUT", harness_fmt("%s/api/v1/movies/%lld/progress", api, c.m[0]),
				(const char *const[]){auth, "Content-Type: application/json", NULL},
				pos, strlen(pos));
		harness_expect_coded(&r, 204, NULL);
		e2e_resp_free(&r);
	}
	buf_free(&body);
	free(data);
	long long api_bytes = atomic_load(&to_api.bytes);
	long long s3_bytes = atomic_load(&to_s3.bytes) - s3_before;
	printf("playback of a %d-byte feature: %lld bytes between the client and cinema-api "
	       "(%d connections), %lld between cinema-api and S3\n",
	       BIG_FEATURE, api_bytes, atomic_load(&to_api.conns), s3_bytes);
	ck_assert_int_eq(atomic_load(&to_api.conns), 5);
	ck_assert_msg(api_bytes > 0 && api_bytes < API_IO_MAX,
		      "%lld bytes between the client and cinema-api", api_bytes);
	ck_assert_msg(s3_bytes == 0, "cinema-api exchanged %lld bytes with S3", s3_bytes);
	/* The control: the relay is the API's way to S3 (an avatar goes
	 * through it). */
	static const unsigned char tiny_png[] = {
		0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
		0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
		0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78,
		0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99,
		0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
	r = harness_raw("PUT", "/api/v1/accounts/me/avatar",
			(const char *const[]){auth, "Content-Type: image/png", NULL},
			(const char *)tiny_png, sizeof(tiny_png));
	harness_expect_coded(&r, 200, NULL);
	e2e_resp_free(&r);
	ck_assert_int_gt(atomic_load(&to_s3.bytes) - s3_before, (long long)sizeof(tiny_png));
	relay_stop(&to_api);
	relay_stop(&to_s3);
}
END_TEST

int main(void)
{
	if (!harness_main_ready("media_test_playback"))
		return 1;
	if (sodium_init() < 0)
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	Suite *s = suite_create("playback");
	TCase *tc = tcase_create("play");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, play_access);
	tcase_add_test(tc, progress_and_continue);
	tcase_add_test(tc, catalog_media_paths);
	tcase_add_test(tc, no_video_bytes_through_api);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
