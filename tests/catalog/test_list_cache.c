/* End-to-end tests of the public list cache (GET /movies): cached pages are
 * served until their TTL, a catalog write through any API process drops
 * them in every process at once (Redis Pub/Sub), lists of one user are never
 * cached, and CATALOG_CACHE_TTL_MS=0 turns the cache off. Real `cinema-api
 * serve` processes on a fresh migrated database per test and a real Redis.
 *
 * Changes made with SQL behind the servers' backs show what a server
 * serves from its cache: an API write would drop it.
 *
 * Needs DATABASE_URL and REDIS_URL (scripts/test.sh provides them),
 * CINEMA_API_BIN and MIGRATIONS_DIR (set by CTest). Redis: this suite owns
 * database REDIS_DB of the server of REDIS_URL, flushed before and after
 * each test. */
#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cinema/log.h"
#include "e2e.h"
#include "harness.h"

#define REDIS_DB 10
#define PASSWORD "Popcorn-42!"
#define LONG_TTL "60000" /* longer than any test: only a write refreshes */

static struct {
	char *ci;
	PGconn *pg;
	char redis_url[256];
	char jwt_secret[80];
	struct e2e_server a, b;
	struct harness_env env;
	long long cert, drama, movie;
	char mod[2048]; /* a moderator's access token */
	char user[2048];
	long long user_id;
} w;

static void setup(void)
{
	static const char *const required[] = {"DATABASE_URL",	    "REDIS_URL",
					       "CINEMA_API_BIN",    "MIGRATIONS_DIR",
					       "CINEMA_SOURCE_DIR", NULL};
	harness_require_env(required);
	memset(&w, 0, sizeof(w));
	harness_begin("lcache");
	harness_redis_claim(w.redis_url, sizeof(w.redis_url), REDIS_DB);
	harness_secret(w.jwt_secret, sizeof(w.jwt_secret), "list-cache-test");
	w.ci = harness_db_open(&w.pg);
	harness_sql_ok("UPDATE scheduler_runs SET last_run_at = now()");
}

static void teardown(void)
{
	harness_end();
	harness_db_close(w.ci, w.pg);
	if (w.redis_url[0])
		harness_redis_flush(w.redis_url);
	memset(&w, 0, sizeof(w));
}

/* Starts a server with the cache TTL ttl_ms (text) on the test's database
 * and Redis database. */
static void start(struct e2e_server *srv, const char *ttl_ms)
{
	struct harness_env *e = &w.env;
	memset(e, 0, sizeof(*e));
	harness_env_set(e, "DATABASE_URL=%s", w.ci);
	harness_env_set(e, "REDIS_URL=%s", w.redis_url);
	harness_env_set(e, "JWT_SECRET=%s", w.jwt_secret);
	harness_env_set(e, "AUTH_RATE_LIMIT=100000");
	harness_env_set(e, "CATALOG_CACHE_TTL_MS=%s", ttl_ms);
	harness_server_start(srv, e->p);
}

/* One movie in SQL, a moderator and a user (signed in on the last server
 * started). */
static void fixture(void)
{
	w.cert = harness_sql_int("INSERT INTO certifications (name) VALUES ('PG') RETURNING id");
	w.drama = harness_sql_int("INSERT INTO genres (name) VALUES ('Drama') RETURNING id");
	w.movie = harness_sql_int(harness_fmt(
		"INSERT INTO movies (name, year, time, imdb, votes, description, price, "
		"certification_id) VALUES ('Harbor Lights', 1999, 100, 7.1, 1000, 'Fog.', 4.99, "
		"%lld) RETURNING id",
		w.cert));
	harness_sql_ok(harness_fmt("INSERT INTO movie_genres (movie_id, genre_id) VALUES (%lld, "
				   "%lld)",
				   w.movie, w.drama));
	harness_sql_ok("SELECT movies_refresh_search(id) FROM movies");
	struct harness_user u[] = {
		{harness_fmt("mod-%ld@example.com", (long)getpid()), "MODERATOR", 0, ""},
		{harness_fmt("usr-%ld@example.com", (long)getpid()), "USER", 0, ""}};
	harness_create_users(w.ci, u, 2, PASSWORD);
	snprintf(w.mod, sizeof(w.mod), "%s", u[0].access);
	snprintf(w.user, sizeof(w.user), "%s", u[1].access);
	w.user_id = u[1].id;
}

/* GET path on srv (anonymous unless bearer); returns the names of the page's
 * movies joined by ',' with each movie's genre names in brackets, and
 * "|total" at the end: "Harbor Lights[Drama]|1". */
static const char *names_at(const struct e2e_server *srv, const char *path, const char *bearer)
{
	static char out[1024];
	struct e2e_resp r =
		harness_call("GET", harness_fmt("%s%s", srv->base_url, path), bearer, NULL);
	harness_expect(&r, 200, NULL);
	size_t i, j, o = 0;
	json_t *m, *g;
	out[0] = '\0';
	json_array_foreach (json_object_get(r.json, "items"), i, m) {
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s[", i ? "," : "",
				      json_string_value(json_object_get(m, "name")));
		json_array_foreach (json_object_get(m, "genres"), j, g)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", j ? "," : "",
					      json_string_value(json_object_get(g, "name")));
		o += (size_t)snprintf(out + o, sizeof(out) - o, "]");
	}
	snprintf(out + o, sizeof(out) - o, "|%lld",
		 (long long)json_integer_value(json_object_get(r.json, "total_items")));
	e2e_resp_free(&r);
	return out;
}

static const char *names(const struct e2e_server *srv, const char *path)
{
	return names_at(srv, path, NULL);
}

/* Polls srv until path lists want; fails after HARNESS_WAIT_MS. */
static void eventually(const struct e2e_server *srv, const char *path, const char *want)
{
	long long until = harness_now_ms() + HARNESS_WAIT_MS;
	const char *got = names(srv, path);
	while (strcmp(got, want) != 0 && harness_now_ms() < until) {
		harness_sleep_ms(HARNESS_POLL_MS);
		got = names(srv, path);
	}
	ck_assert_str_eq(got, want);
}

#define LIST "/api/v1/movies?sort=name"

START_TEST(cached_until_a_write_in_any_process)
{
	start(&w.a, LONG_TTL);
	start(&w.b, LONG_TTL);
	fixture();
	ck_assert_str_eq(names(&w.a, LIST), "Harbor Lights[Drama]|1");
	ck_assert_str_eq(names(&w.b, LIST), "Harbor Lights[Drama]|1");

	/* Behind the servers' backs: both keep serving what they cached. */
	harness_sql_ok("UPDATE movies SET name = 'Harbor Lights (SQL)'");
	ck_assert_str_eq(names(&w.a, LIST), "Harbor Lights[Drama]|1");
	ck_assert_str_eq(names(&w.b, LIST), "Harbor Lights[Drama]|1");
	/* Another query is another entry: it reads the database. */
	ck_assert_str_eq(names(&w.a, LIST "&per_page=5"), "Harbor Lights (SQL)[Drama]|1");
	/* Per-user lists are never cached. */
	harness_check_call("PUT", harness_fmt("/api/v1/favorites/%lld", w.movie), w.user, NULL, 204,
			   NULL);
	ck_assert_str_eq(names_at(&w.a, "/api/v1/favorites?sort=name", w.user),
			 "Harbor Lights (SQL)[Drama]|1");

	/* A movie created through A: A's next list has it at once... */
	struct e2e_resp r = harness_call(
		"POST", harness_fmt("%s/api/v1/movies", w.a.base_url), w.mod,
		harness_json("{s:s,s:i,s:i,s:f,s:i,s:s,s:s,s:I,s:[I]}", "name", "Anchor Point",
			     "year", 2004, "time", 95, "imdb", 6.5, "votes", 10, "description",
			     "Rope.", "price", "3.99", "certification_id", (json_int_t)w.cert,
			     "genre_ids", (json_int_t)w.drama));
	harness_expect(&r, 201, NULL);
	e2e_resp_free(&r);
	ck_assert_str_eq(names(&w.a, LIST), "Anchor Point[Drama],Harbor Lights (SQL)[Drama]|2");
	/* ...and B drops its pages as soon as Redis tells it. */
	eventually(&w.b, LIST, "Anchor Point[Drama],Harbor Lights (SQL)[Drama]|2");

	/* A rename through B shows in A's lists (the lists carry the names). */
	harness_check_call("PATCH", harness_fmt("%s/api/v1/genres/%lld", w.b.base_url, w.drama),
			   w.mod, harness_json("{s:s}", "name", "Melodrama"), 200, NULL);
	eventually(&w.a, LIST, "Anchor Point[Melodrama],Harbor Lights (SQL)[Melodrama]|2");
	ck_assert_str_eq(names(&w.b, LIST),
			 "Anchor Point[Melodrama],Harbor Lights (SQL)[Melodrama]|2");

	/* A deletion through A, seen by B. */
	harness_check_call("DELETE", harness_fmt("%s/api/v1/movies/%lld", w.a.base_url, w.movie),
			   w.mod, NULL, 204, NULL);
	eventually(&w.b, LIST, "Anchor Point[Melodrama]|1");
}
END_TEST

START_TEST(entries_expire)
{
	start(&w.a, "300");
	fixture();
	ck_assert_str_eq(names(&w.a, LIST), "Harbor Lights[Drama]|1");
	harness_sql_ok("UPDATE movies SET name = 'Harbor Lights II'");
	ck_assert_str_eq(names(&w.a, LIST), "Harbor Lights[Drama]|1");
	/* After the TTL the next request refreshes the page (others meanwhile
	 * may still get the old one for at most another TTL). */
	harness_sleep_ms(350);
	eventually(&w.a, LIST, "Harbor Lights II[Drama]|1");
}
END_TEST

START_TEST(cache_off)
{
	start(&w.a, "0");
	fixture();
	ck_assert_str_eq(names(&w.a, LIST), "Harbor Lights[Drama]|1");
	harness_sql_ok("UPDATE movies SET name = 'Harbor Lights III'");
	ck_assert_str_eq(names(&w.a, LIST), "Harbor Lights III[Drama]|1");
}
END_TEST

/* `cinema-api seed` writes outside the API; it announces the change too. */
START_TEST(seed_is_announced)
{
	start(&w.a, LONG_TTL);
	fixture();
	ck_assert_str_eq(names(&w.a, LIST), "Harbor Lights[Drama]|1");
	struct harness_env e = {0};
	harness_env_set(&e, "DATABASE_URL=%s", w.ci);
	harness_env_set(&e, "REDIS_URL=%s", w.redis_url);
	harness_env_set(&e, "SEED_FILE=%s/data/movies.json", getenv("CINEMA_SOURCE_DIR"));
	harness_env_set(&e, "LOG_LEVEL=warn");
	char *argv[] = {(char *)"cinema-api", (char *)"seed", NULL};
	ck_assert_int_eq(e2e_run(e2e_bin("CINEMA_API_BIN"), argv, e.p), 0);
	long long until = harness_now_ms() + HARNESS_WAIT_MS;
	const char *got = names(&w.a, LIST);
	while (strcmp(strrchr(got, '|'), "|1") == 0 && harness_now_ms() < until) {
		harness_sleep_ms(HARNESS_POLL_MS);
		got = names(&w.a, LIST);
	}
	ck_assert_msg(strcmp(strrchr(got, '|'), "|1") != 0, "still cached: %s", got);
}
END_TEST

/* Search and filters are part of the key: each query its own page. */
START_TEST(key_is_the_whole_query)
{
	start(&w.a, LONG_TTL);
	fixture();
	ck_assert_str_eq(names(&w.a, "/api/v1/movies?search=harbor"), "Harbor Lights[Drama]|1");
	ck_assert_str_eq(names(&w.a, "/api/v1/movies?search=lights"), "Harbor Lights[Drama]|1");
	ck_assert_str_eq(names(&w.a, "/api/v1/movies?search=anchor"), "|0");
	ck_assert_str_eq(names(&w.a, "/api/v1/movies?year_min=2000"), "|0");
	ck_assert_str_eq(names(&w.a, "/api/v1/movies?year_min=1990"), "Harbor Lights[Drama]|1");
	ck_assert_str_eq(names(&w.a, "/api/v1/movies?page=2&per_page=1"), "|1");
	ck_assert_str_eq(names(&w.a, "/api/v1/movies?page=1&per_page=1"), "Harbor Lights[Drama]|1");
}
END_TEST

/* The longest searches are cached too: the key holds the tsquery and the
 * trigram text (about 1,200 bytes here). */
START_TEST(long_search_is_cached)
{
	char path[2400];
	int o = snprintf(path, sizeof(path), "/api/v1/movies?search=harbor+or+");
	for (int i = 0; i < 190; i++) /* U+65E5, three bytes */
		o += snprintf(path + o, sizeof(path) - (size_t)o, "%%E6%%97%%A5");
	start(&w.a, LONG_TTL);
	fixture();
	ck_assert_str_eq(names(&w.a, path), "Harbor Lights[Drama]|1");
	harness_sql_ok("UPDATE movies SET name = 'Harbor Lights (SQL)'");
	ck_assert_str_eq(names(&w.a, path), "Harbor Lights[Drama]|1");
}
END_TEST

int main(void)
{
	if (!harness_main_ready("catalog_test_list_cache"))
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	Suite *s = suite_create("list_cache");
	TCase *tc = tcase_create("list_cache");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cached_until_a_write_in_any_process);
	tcase_add_test(tc, entries_expire);
	tcase_add_test(tc, cache_off);
	tcase_add_test(tc, key_is_the_whole_query);
	tcase_add_test(tc, long_search_is_cached);
	tcase_add_test(tc, seed_is_announced);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
