/* End-to-end tests of engagement with movies over HTTP: reactions, ratings,
 * favorites, comment threads, comment likes, notifications and the emails
 * they cause. The real `cinema-api serve` runs against a fresh migrated
 * database per test and Redis; emails take the real path (cinema-scheduler
 * sending to cinema-mailsink over SMTP). No mocks. Movies and their lookups
 * are inserted with SQL: the catalog's own tests cover writing them.
 *
 * Needs DATABASE_URL and REDIS_URL (scripts/test.sh provides them; the suite
 * fails when they are missing), CINEMA_API_BIN, CINEMA_SCHEDULER_BIN,
 * CINEMA_MAILSINK_BIN, TEMPLATES_DIR and MIGRATIONS_DIR (set by CTest).
 *
 * Redis: this suite owns database REDIS_DB of the server of REDIS_URL,
 * flushed before and after each test; each test has its own email queue.
 *
 * Cleanup: every process a test starts is tracked and killed by the checked
 * teardown, which also drops the database and removes the mail directory
 * and logs. In fork mode a failed assertion ends the test process before
 * teardown; check then kills the test's whole process group, children
 * included. Waiting is polling, never a fixed sleep. */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <netinet/in.h>
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

#define REDIS_DB 13

#define BASE_URL "http://frontend.test"
#define PASSWORD "Popcorn-42!"

/* --- the running test; teardown ends and removes all of it --- */

static struct harness_world w;

/* Starts `cinema-api serve` on the test's database and Redis database, and
 * if asked the email path first. */
static void boot(bool mail)
{
	if (mail)
		harness_world_mail(&w, BASE_URL);
	harness_world_api_env(&w, &w.srv_env, BASE_URL);
	harness_server_start(&w.srv, w.srv_env.p);
}

/* --- fixture --- */

static void setup(void)
{
	harness_world_begin(&w, "eng", REDIS_DB);
}

static void teardown(void)
{
	harness_world_end(&w);
}

/* --- HTTP --- */

/* A 422 naming field (and text in its message, if given). */
/* POST a comment; answers its id. parent 0: top level. */
#define post_comment(movie, bearer, text, parent) \
	post_comment_at(movie, bearer, text, parent, __LINE__)
static long long post_comment_at(long long movie, const char *bearer, const char *text,
				 long long parent, int line)
{
	json_t *body =
		parent ? harness_json("{s:s,s:I}", "text", text, "parent_id", (json_int_t)parent)
		       : harness_json("{s:s}", "text", text);
	struct e2e_resp r = harness_call("POST", harness_fmt("/api/v1/movies/%lld/comments", movie),
					 bearer, body);
	harness_expect_at(&r, 201, NULL, line);
	json_t *id = json_object_get(r.json, "id");
	ck_assert_msg(json_is_integer(id), "line %d: comment without id: %s", line, r.body.data);
	long long v = json_integer_value(id);
	e2e_resp_free(&r);
	return v;
}

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

/* --- users and movies --- */

/* The catalog of every test: three movies of different years and genres,
 * with a star for full-text search. */
struct catalog {
	long long cert, drama, comedy, star;
	long long m1, m2, m3; /* 1999 drama "Silent Harbor" (star), 2005 comedy, 2012 drama */
};

static long long insert_movie(const struct catalog *c, const char *name, int year, long long genre,
			      const char *description)
{
	long long id = harness_sql_int(harness_fmt(
		"INSERT INTO movies (name, year, time, imdb, votes, description, price, "
		"certification_id) VALUES ('%s', %d, 100, 7.1, 1000, '%s', 4.99, %lld) "
		"RETURNING id",
		name, year, description, c->cert));
	harness_sql_ok(harness_fmt(
		"INSERT INTO movie_genres (movie_id, genre_id) VALUES (%lld, %lld)", id, genre));
	return id;
}

static void make_catalog(struct catalog *c)
{
	c->cert =
		harness_sql_int("INSERT INTO certifications (name) VALUES ('PG-13') RETURNING id");
	c->drama = harness_sql_int("INSERT INTO genres (name) VALUES ('Drama') RETURNING id");
	c->comedy = harness_sql_int("INSERT INTO genres (name) VALUES ('Comedy') RETURNING id");
	c->star = harness_sql_int(
		"INSERT INTO stars (name) VALUES ('Ingrid Lighthouse') RETURNING id");
	c->m1 = insert_movie(c, "Silent Harbor", 1999, c->drama, "Fog over a small port.");
	harness_sql_ok(harness_fmt(
		"INSERT INTO movie_stars (movie_id, star_id) VALUES (%lld, %lld)", c->m1, c->star));
	c->m2 = insert_movie(c, "Laughing Gas", 2005, c->comedy, "A dentist goes on tour.");
	c->m3 = insert_movie(c, "Winter Orchard", 2012, c->drama, "Apples and grief.");
	harness_sql_ok("SELECT movies_refresh_search(id) FROM movies");
}

/* GET /movies/{id} as bearer. */
static json_t *get_movie(long long id, const char *bearer)
{
	return harness_get_json(harness_fmt("/api/v1/movies/%lld", id), bearer);
}

static double jnum(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	ck_assert_msg(json_is_number(v), "\"%s\" is not a number", key);
	return json_number_value(v);
}

/* Asserts a movie's counters and, for a signed-in viewer, the "me" object
 * (reaction NULL for none, rating 0 for none). */
#define expect_movie(id, bearer, likes, dislikes, rating, count, my_reaction, my_rating, my_fav) \
	expect_movie_at(id, bearer, likes, dislikes, rating, count, my_reaction, my_rating,      \
			my_fav, __LINE__)
static void expect_movie_at(long long id, const char *bearer, long long likes, long long dislikes,
			    double rating, long long count, const char *my_reaction,
			    long long my_rating, bool my_fav, int line)
{
	json_t *m = get_movie(id, bearer);
	char *text = json_dumps(m, JSON_COMPACT);
	ck_assert_msg(jint(m, "likes") == likes && jint(m, "dislikes") == dislikes,
		      "line %d: likes/dislikes: %s", line, text);
	ck_assert_msg(jint(m, "rating_count") == count, "line %d: rating_count: %s", line, text);
	if (count == 0)
		ck_assert_msg(json_is_null(json_object_get(m, "rating")), "line %d: rating: %s",
			      line, text);
	else
		ck_assert_msg(jnum(m, "rating") > rating - 0.01 &&
				      jnum(m, "rating") < rating + 0.01,
			      "line %d: rating, want %.1f: %s", line, rating, text);
	json_t *me = json_object_get(m, "me");
	if (bearer) {
		ck_assert_msg(json_is_object(me), "line %d: no me: %s", line, text);
		json_t *r = json_object_get(me, "reaction");
		if (my_reaction)
			ck_assert_msg(json_is_string(r) &&
					      strcmp(json_string_value(r), my_reaction) == 0,
				      "line %d: me.reaction, want %s: %s", line, my_reaction, text);
		else
			ck_assert_msg(json_is_null(r), "line %d: me.reaction: %s", line, text);
		json_t *s = json_object_get(me, "rating");
		if (my_rating)
			ck_assert_msg(json_is_integer(s) && json_integer_value(s) == my_rating,
				      "line %d: me.rating, want %lld: %s", line, my_rating, text);
		else
			ck_assert_msg(json_is_null(s), "line %d: me.rating: %s", line, text);
		ck_assert_msg(json_is_boolean(json_object_get(me, "is_favorite")) &&
				      json_is_true(json_object_get(me, "is_favorite")) == my_fav,
			      "line %d: me.is_favorite: %s", line, text);
	}
	free(text);
	json_decref(m);
}

/* The ids of a page's items, in order, as "1,2,3". */
static const char *item_ids(const json_t *page)
{
	static char out[512];
	size_t i, o = 0;
	json_t *it;
	out[0] = '\0';
	json_array_foreach (json_object_get(page, "items"), i, it)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%lld", i ? "," : "",
				      (long long)json_integer_value(json_object_get(it, "id")));
	return out;
}

#define expect_favorites(bearer, query, ids) expect_favorites_at(bearer, query, ids, __LINE__)
static void expect_favorites_at(const char *bearer, const char *query, const char *ids, int line)
{
	json_t *p = harness_get_json_at(harness_fmt("/api/v1/favorites%s", query), bearer, line);
	ck_assert_msg(strcmp(item_ids(p), ids) == 0, "line %d: favorites%s are [%s], want [%s]",
		      line, query, item_ids(p), ids);
	json_decref(p);
}

/* ================================================================== */

/* pattern with "{id}" replaced by id (a static buffer). */
static const char *with_id(const char *pattern, long long id)
{
	static char out[256];
	const char *at = strstr(pattern, "{id}");
	if (!at)
		return pattern;
	snprintf(out, sizeof(out), "%.*s%lld%s", (int)(at - pattern), pattern, id, at + 4);
	return out;
}

/* Every write route refuses anonymous callers before anything else. */
START_TEST(writes_need_sign_in)
{
	boot(false);
	struct catalog c;
	make_catalog(&c);
	static const struct {
		const char *method, *path, *body;
	} routes[] = {
		{"PUT", "/api/v1/movies/{id}/reaction", "{\"reaction\":\"like\"}"},
		{"DELETE", "/api/v1/movies/{id}/reaction", NULL},
		{"PUT", "/api/v1/movies/{id}/rating", "{\"score\":5}"},
		{"DELETE", "/api/v1/movies/{id}/rating", NULL},
		{"PUT", "/api/v1/favorites/{id}", NULL},
		{"DELETE", "/api/v1/favorites/{id}", NULL},
		{"POST", "/api/v1/movies/{id}/comments", "{\"text\":\"hi\"}"},
		{"PUT", "/api/v1/comments/{id}/like", NULL},
		{"DELETE", "/api/v1/comments/{id}/like", NULL},
		{"DELETE", "/api/v1/comments/{id}", NULL},
		{"GET", "/api/v1/notifications", NULL},
		{"POST", "/api/v1/notifications/{id}/read", NULL},
		{"POST", "/api/v1/notifications/read-all", NULL},
		{"GET", "/api/v1/favorites", NULL},
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const char *ct[] = {"Content-Type: application/json", NULL};
		const char *path = with_id(routes[i].path, c.m1);
		struct e2e_resp r =
			harness_raw(routes[i].method, path, routes[i].body ? ct : NULL,
				    routes[i].body, routes[i].body ? strlen(routes[i].body) : 0);
		ck_assert_msg(r.status == 401, "%s %s: %ld %s", routes[i].method, path, r.status,
			      r.body.data);
		ck_assert_str_eq(e2e_code(&r), "not_authenticated");
		e2e_resp_free(&r);
	}
	/* Nothing was written. */
	ck_assert_int_eq(
		harness_sql_int("SELECT (SELECT count(*) FROM movie_reactions) + (SELECT count(*) "
				"FROM movie_ratings) + (SELECT count(*) FROM favorites) + "
				"(SELECT count(*) FROM comments)"),
		0);
	/* Reading comments is for anyone. */
	json_t *p = harness_get_json(harness_fmt("/api/v1/movies/%lld/comments", c.m1), NULL);
	ck_assert_int_eq(jint(p, "total_items"), 0);
	json_decref(p);
}
END_TEST

START_TEST(reactions_and_ratings)
{
	boot(false);
	struct catalog c;
	make_catalog(&c);
	struct harness_user u[] = {{harness_unique_email("ann"), "USER", 0, ""},
				   {harness_unique_email("bob"), "USER", 0, ""}};
	harness_create_users(w.ci, u, 2, PASSWORD);
	const char *a = u[0].access, *b = u[1].access;
	char reaction[64], rating[64];
	snprintf(reaction, sizeof(reaction), "/api/v1/movies/%lld/reaction", c.m1);
	snprintf(rating, sizeof(rating), "/api/v1/movies/%lld/rating", c.m1);

	expect_movie(c.m1, a, 0, 0, 0, 0, NULL, 0, false);
	expect_movie(c.m1, NULL, 0, 0, 0, 0, NULL, 0, false);

	/* Reactions: one per user; switching updates the same row. */
	harness_check_call("PUT", reaction, a, harness_json("{s:s}", "reaction", "like"), 204,
			   NULL);
	harness_check_call("PUT", reaction, a, harness_json("{s:s}", "reaction", "like"), 204,
			   NULL);
	harness_check_call("PUT", reaction, b, harness_json("{s:s}", "reaction", "dislike"), 204,
			   NULL);
	expect_movie(c.m1, a, 1, 1, 0, 0, "like", 0, false);
	expect_movie(c.m1, b, 1, 1, 0, 0, "dislike", 0, false);
	/* An update keeps the row's created_at; a delete and insert would not. */
	const char *created =
		harness_fmt("SELECT created_at::text FROM movie_reactions WHERE user_id = "
			    "%lld AND movie_id = %lld",
			    u[1].id, c.m1);
	char *before = harness_sql_value(created);
	harness_check_call("PUT", reaction, b, harness_json("{s:s}", "reaction", "like"), 204,
			   NULL);
	expect_movie(c.m1, b, 2, 0, 0, 0, "like", 0, false);
	ck_assert_int_eq(
		harness_sql_int(harness_fmt(
			"SELECT count(*) FROM movie_reactions WHERE movie_id = %lld", c.m1)),
		2);
	char *after = harness_sql_value(created);
	ck_assert_msg(strcmp(before, after) == 0, "the switch replaced the row (%s, %s)", before,
		      after);
	free(before);
	free(after);
	ck_assert_int_eq(harness_sql_int(harness_fmt(
				 "SELECT count(*) FROM movie_reactions WHERE user_id = %lld "
				 "AND reaction = 'like'",
				 u[1].id)),
			 1);
	harness_check_call("PUT", reaction, b, harness_json("{s:s}", "reaction", "dislike"), 204,
			   NULL);
	expect_movie(c.m1, b, 1, 1, 0, 0, "dislike", 0, false);
	harness_check_call("DELETE", reaction, b, NULL, 204, NULL);
	harness_check_call("DELETE", reaction, b, NULL, 204, NULL); /* none: still 204 */
	expect_movie(c.m1, b, 1, 0, 0, 0, NULL, 0, false);
	expect_movie(c.m2, a, 0, 0, 0, 0, NULL, 0, false); /* other movies untouched */

	/* Ratings: the average of the users' scores. */
	harness_check_call("PUT", rating, a, harness_json("{s:i}", "score", 8), 204, NULL);
	harness_check_call("PUT", rating, b, harness_json("{s:i}", "score", 5), 204, NULL);
	expect_movie(c.m1, a, 1, 0, 6.5, 2, "like", 8, false);
	harness_check_call("PUT", rating, a, harness_json("{s:i}", "score", 10), 204, NULL);
	expect_movie(c.m1, a, 1, 0, 7.5, 2, "like", 10, false);
	harness_check_call("PUT", rating, b, harness_json("{s:i}", "score", 1), 204, NULL);
	expect_movie(c.m1, b, 1, 0, 5.5, 2, NULL, 1, false);
	harness_check_call("DELETE", rating, b, NULL, 204, NULL);
	harness_check_call("DELETE", rating, b, NULL, 204, NULL);
	expect_movie(c.m1, a, 1, 0, 10, 1, "like", 10, false);
	expect_movie(c.m1, b, 1, 0, 10, 1, NULL, 0, false);
	harness_check_call("DELETE", rating, a, NULL, 204, NULL);
	expect_movie(c.m1, a, 1, 0, 0, 0, "like", 0, false);

	/* Unknown movies. */
	harness_check_call("PUT", "/api/v1/movies/999999/reaction", a,
			   harness_json("{s:s}", "reaction", "like"), 404, "not_found");
	harness_check_call("DELETE", "/api/v1/movies/999999/reaction", a, NULL, 404, "not_found");
	harness_check_call("PUT", "/api/v1/movies/999999/rating", a,
			   harness_json("{s:i}", "score", 3), 404, "not_found");
	harness_check_call("DELETE", "/api/v1/movies/999999/rating", a, NULL, 404, "not_found");
	harness_check_call("PUT", "/api/v1/movies/abc/rating", a, harness_json("{s:i}", "score", 3),
			   404, NULL);

	/* Bad bodies: 422 naming the field. */
	harness_check_invalid("PUT", reaction, a, harness_json("{s:s}", "reaction", "love"),
			      "reaction", "like or dislike");
	harness_check_invalid("PUT", reaction, a, harness_json("{s:i}", "reaction", 1), "reaction",
			      "string");
	harness_check_invalid("PUT", reaction, a, harness_json("{}"), "reaction", "required");
	harness_check_invalid("PUT", reaction, a, harness_json("{s:n}", "reaction"), "reaction",
			      "required");
	harness_check_invalid("PUT", reaction, a,
			      harness_json("{s:s,s:b}", "reaction", "like", "extra", 1), "extra",
			      "unknown field");
	harness_check_invalid("PUT", rating, a, harness_json("{s:i}", "score", 0), "score",
			      "between 1 and 10");
	harness_check_invalid("PUT", rating, a, harness_json("{s:i}", "score", 11), "score",
			      "between 1 and 10");
	harness_check_invalid("PUT", rating, a, harness_json("{s:s}", "score", "7"), "score",
			      "integer");
	harness_check_invalid("PUT", rating, a, harness_json("{s:f}", "score", 7.5), "score",
			      "integer");
	harness_check_invalid("PUT", rating, a, harness_json("{}"), "score", "required");
	harness_check_invalid("PUT", rating, a, harness_json("{s:i,s:i}", "score", 7, "stars", 7),
			      "stars", "unknown field");
	harness_check_call("PUT", rating, a, NULL, 415, "unsupported_media_type");
	const char *ct[] = {"Content-Type: application/json", NULL};
	struct e2e_resp r = harness_raw("PUT", rating, ct, "[1]", 3);
	harness_expect(&r, 401, NULL); /* no token: refused before the body is read */
	e2e_resp_free(&r);
	static char big[5000];
	memset(big, 'x', sizeof(big) - 1);
	harness_check_call("PUT", rating, a, harness_json("{s:s}", "score", big), 413,
			   "payload_too_large");
	/* None of that changed anything. */
	expect_movie(c.m1, a, 1, 0, 0, 0, "like", 0, false);
}
END_TEST

START_TEST(favorites)
{
	boot(false);
	struct catalog c;
	make_catalog(&c);
	struct harness_user u[] = {{harness_unique_email("ann"), "USER", 0, ""},
				   {harness_unique_email("bob"), "USER", 0, ""}};
	harness_create_users(w.ci, u, 2, PASSWORD);
	const char *a = u[0].access, *b = u[1].access;

	expect_favorites(a, "", "");
	/* PUT is idempotent: a second one keeps one row and one count. */
	for (int i = 0; i < 2; i++) {
		harness_check_call("PUT", harness_fmt("/api/v1/favorites/%lld", c.m1), a, NULL, 204,
				   NULL);
		harness_check_call("PUT", harness_fmt("/api/v1/favorites/%lld", c.m2), a, NULL, 204,
				   NULL);
		harness_check_call("PUT", harness_fmt("/api/v1/favorites/%lld", c.m3), a, NULL, 204,
				   NULL);
	}
	harness_check_call("PUT", harness_fmt("/api/v1/favorites/%lld", c.m3), b, NULL, 204, NULL);
	json_t *m = get_movie(c.m3, NULL);
	ck_assert_int_eq(jint(m, "favorite_count"), 2);
	json_decref(m);
	expect_movie(c.m1, a, 0, 0, 0, 0, NULL, 0, true);
	expect_movie(c.m1, b, 0, 0, 0, 0, NULL, 0, false);

	/* GET /favorites: the user's own, with the filters of /movies. */
	char all[80];
	snprintf(all, sizeof(all), "%lld,%lld,%lld", c.m1, c.m2, c.m3);
	expect_favorites(a, "?sort=year", all);
	expect_favorites(a, "?sort=-year", harness_fmt("%lld,%lld,%lld", c.m3, c.m2, c.m1));
	expect_favorites(a, "?sort=name", harness_fmt("%lld,%lld,%lld", c.m2, c.m1, c.m3));
	expect_favorites(a, "?year=2005", harness_fmt("%lld", c.m2));
	expect_favorites(a, "?year_min=2000&sort=year", harness_fmt("%lld,%lld", c.m2, c.m3));
	expect_favorites(a, harness_fmt("?genre=%lld&sort=year", c.drama),
			 harness_fmt("%lld,%lld", c.m1, c.m3));
	expect_favorites(a, harness_fmt("?star=%lld", c.star), harness_fmt("%lld", c.m1));
	expect_favorites(a, "?search=orchard", harness_fmt("%lld", c.m3));
	expect_favorites(a, "?search=lighthouse", harness_fmt("%lld", c.m1));
	expect_favorites(a, "?sort=year&per_page=2&page=2", harness_fmt("%lld", c.m3));
	expect_favorites(b, "", harness_fmt("%lld", c.m3));
	json_t *p = harness_get_json("/api/v1/favorites?per_page=2", a);
	ck_assert_int_eq(jint(p, "total_items"), 3);
	ck_assert_int_eq(jint(p, "total_pages"), 2);
	json_decref(p);
	harness_check_invalid("GET", "/api/v1/favorites?sort=shoe", a, NULL, "sort", NULL);

	/* DELETE: idempotent; unknown movies are 404. */
	harness_check_call("DELETE", harness_fmt("/api/v1/favorites/%lld", c.m2), a, NULL, 204,
			   NULL);
	harness_check_call("DELETE", harness_fmt("/api/v1/favorites/%lld", c.m2), a, NULL, 204,
			   NULL);
	expect_favorites(a, "?sort=year", harness_fmt("%lld,%lld", c.m1, c.m3));
	harness_check_call("PUT", "/api/v1/favorites/999999", a, NULL, 404, "not_found");
	harness_check_call("DELETE", "/api/v1/favorites/999999", a, NULL, 404, "not_found");
	harness_check_call("PUT", "/api/v1/favorites/0", a, NULL, 404, "not_found");
	/* No body is accepted. */
	harness_check_call("PUT", harness_fmt("/api/v1/favorites/%lld", c.m2), a,
			   harness_json("{}"), 413, "payload_too_large");
	m = get_movie(c.m3, NULL);
	ck_assert_int_eq(jint(m, "favorite_count"), 2);
	json_decref(m);
	m = get_movie(c.m2, NULL);
	ck_assert_int_eq(jint(m, "favorite_count"), 0);
	json_decref(m);
}
END_TEST

/* The JSON of comment id in a list of comments (searching every depth), or
 * NULL. */
static json_t *find_comment(json_t *list, long long id)
{
	size_t i;
	json_t *c;
	json_array_foreach (list, i, c) {
		if (json_integer_value(json_object_get(c, "id")) == id)
			return c;
		json_t *in = find_comment(json_object_get(c, "replies"), id);
		if (in)
			return in;
	}
	return NULL;
}

/* The ids of a list of comments as "1,2", each followed by its replies in
 * parentheses when it has some: "1(2(3),4),5". */
static void tree_shape(const json_t *list, struct buf *out)
{
	size_t i;
	json_t *c;
	json_array_foreach (list, i, c) {
		if (i)
			buf_append_char(out, ',');
		buf_printf(out, "%lld", (long long)json_integer_value(json_object_get(c, "id")));
		json_t *r = json_object_get(c, "replies");
		ck_assert_msg(json_is_array(r), "comment without replies array");
		if (json_array_size(r)) {
			buf_append_char(out, '(');
			tree_shape(r, out);
			buf_append_char(out, ')');
		}
	}
}

#define expect_tree(page, want) expect_tree_at(page, want, __LINE__)
static void expect_tree_at(const json_t *page, const char *want, int line)
{
	struct buf b = BUF_INIT;
	tree_shape(json_object_get(page, "items"), &b);
	const char *have = b.data ? b.data : "";
	ck_assert_msg(strcmp(have, want) == 0, "line %d: tree %s, want %s", line, have, want);
	buf_free(&b);
}

START_TEST(comment_threads)
{
	boot(false);
	struct catalog c;
	make_catalog(&c);
	struct harness_user u[] = {{harness_unique_email("ann"), "USER", 0, ""},
				   {harness_unique_email("bob"), "USER", 0, ""},
				   {harness_unique_email("cat"), "USER", 0, ""}};
	harness_create_users(w.ci, u, 3, PASSWORD);
	const char *a = u[0].access, *b = u[1].access, *cc = u[2].access;
	harness_check_call("PATCH", "/api/v1/accounts/me/profile", a,
			   harness_json("{s:s,s:s}", "first_name", "Ada", "last_name", "Lovelace"),
			   200, NULL);
	harness_check_call("PATCH", "/api/v1/accounts/me/profile", b,
			   harness_json("{s:s}", "first_name", "Bob"), 200, NULL);
	char path[64];
	snprintf(path, sizeof(path), "/api/v1/movies/%lld/comments", c.m1);

	/* A thread: r1 <- x1 <- y1, r1 <- x2, then r2, r3; r2 <- x3. */
	long long r1 = post_comment(c.m1, a, "First!", 0);
	long long x1 = post_comment(c.m1, b, "Agreed.", r1);
	long long y1 = post_comment(c.m1, a, "Thanks, Bob.", x1);
	long long r2 = post_comment(c.m1, cc, "Too slow for me.", 0);
	long long x2 = post_comment(c.m1, cc, "Also: great score.", r1);
	long long r3 = post_comment(c.m1, b, "The ending!", 0);
	long long x3 = post_comment(c.m1, a, "Fair.", r2);
	long long other = post_comment(c.m2, a, "Funny one.", 0);

	/* Anonymous: pages of roots with their whole subtree, oldest first,
	 * and no liked_by_me. */
	json_t *p = harness_get_json(path, NULL);
	expect_tree(p, harness_fmt("%lld(%lld(%lld),%lld),%lld(%lld),%lld", r1, x1, y1, x2, r2, x3,
				   r3));
	ck_assert_int_eq(jint(p, "total_items"), 3);
	json_t *items = json_object_get(p, "items");
	json_t *first = json_array_get(items, 0);
	static const char *const keys[] = {"id",    "parent_id",  "user",    "text",
					   "likes", "created_at", "replies", NULL};
	harness_assert_keys(first, keys, "comment");
	ck_assert(json_is_null(json_object_get(first, "parent_id")));
	ck_assert_str_eq(jstr(first, "text"), "First!");
	ck_assert_int_eq(jint(first, "likes"), 0);
	const char *created = jstr(first, "created_at");
	ck_assert_msg(created && strlen(created) == 20 && created[10] == 'T' && created[19] == 'Z',
		      "created_at %s is not RFC 3339 UTC", created ? created : "(none)");
	static const char *const user_keys[] = {"id", "name", NULL};
	harness_assert_keys(json_object_get(first, "user"), user_keys, "comment user");
	ck_assert_int_eq(jint(json_object_get(first, "user"), "id"), u[0].id);
	ck_assert_str_eq(jstr(json_object_get(first, "user"), "name"), "Ada Lovelace");
	json_t *reply = find_comment(items, x1);
	ck_assert_int_eq(jint(reply, "parent_id"), r1);
	ck_assert_str_eq(jstr(json_object_get(reply, "user"), "name"), "Bob");
	ck_assert_str_eq(jstr(json_object_get(find_comment(items, r2), "user"), "name"),
			 harness_fmt("User #%lld", u[2].id));
	ck_assert_int_eq(jint(find_comment(items, y1), "parent_id"), x1);
	json_decref(p);

	/* Pages count roots; replies come with their root. */
	p = harness_get_json(harness_fmt("%s?per_page=2&page=2", path), NULL);
	expect_tree(p, harness_fmt("%lld", r3));
	ck_assert_int_eq(jint(p, "total_items"), 3);
	ck_assert_int_eq(jint(p, "total_pages"), 2);
	json_decref(p);
	p = harness_get_json(harness_fmt("%s?per_page=1&page=2", path), NULL);
	expect_tree(p, harness_fmt("%lld(%lld)", r2, x3));
	json_decref(p);
	p = harness_get_json(harness_fmt("%s?page=9", path), NULL);
	expect_tree(p, "");
	ck_assert_int_eq(jint(p, "total_items"), 3);
	json_decref(p);
	p = harness_get_json(harness_fmt("/api/v1/movies/%lld/comments", c.m3), NULL);
	expect_tree(p, "");
	json_decref(p);
	harness_check_invalid("GET", harness_fmt("%s?per_page=500", path), NULL, NULL, "per_page",
			      NULL);
	harness_check_call("GET", "/api/v1/movies/999999/comments", NULL, NULL, 404, "not_found");

	/* Signed in: liked_by_me on every comment. */
	harness_check_call("PUT", harness_fmt("/api/v1/comments/%lld/like", y1), b, NULL, 204,
			   NULL);
	p = harness_get_json(path, b);
	items = json_object_get(p, "items");
	ck_assert(json_is_true(json_object_get(find_comment(items, y1), "liked_by_me")));
	ck_assert(json_is_false(json_object_get(find_comment(items, r1), "liked_by_me")));
	ck_assert(json_is_false(json_object_get(find_comment(items, x3), "liked_by_me")));
	ck_assert_int_eq(jint(find_comment(items, y1), "likes"), 1);
	json_decref(p);

	/* POST answers the comment. */
	struct e2e_resp r =
		harness_call("POST", path, cc,
			     harness_json("{s:s,s:I}", "text", "  Late reply  ", "parent_id", y1));
	harness_expect(&r, 201, NULL);
	static const char *const created_keys[] = {"id",	  "parent_id", "user",
						   "text",	  "likes",     "created_at",
						   "liked_by_me", "replies",   NULL};
	harness_assert_keys(r.json, created_keys, "created comment");
	ck_assert_int_eq(jint(r.json, "parent_id"), y1);
	ck_assert_str_eq(jstr(r.json, "text"), "  Late reply  ");
	ck_assert_int_eq(jint(json_object_get(r.json, "user"), "id"), u[2].id);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "replies")), 0);
	e2e_resp_free(&r);
	harness_check_call(
		"POST", path, cc,
		harness_json("{s:s,s:n}", "text", "null parent is top level", "parent_id"), 201,
		NULL);

	/* The parent must exist and be on the same movie. */
	harness_check_invalid(
		"POST", path, a,
		harness_json("{s:s,s:I}", "text", "x", "parent_id", (json_int_t)other), "parent_id",
		"another movie");
	harness_check_invalid("POST", harness_fmt("/api/v1/movies/%lld/comments", c.m2), a,
			      harness_json("{s:s,s:I}", "text", "x", "parent_id", (json_int_t)r1),
			      "parent_id", "another movie");
	harness_check_invalid("POST", path, a,
			      harness_json("{s:s,s:i}", "text", "x", "parent_id", 999999),
			      "parent_id", "no comment");
	harness_check_call("POST", "/api/v1/movies/999999/comments", a,
			   harness_json("{s:s}", "text", "x"), 404, "not_found");

	/* Bad bodies. */
	static char long_text[5002];
	memset(long_text, 'y', 5001);
	harness_check_invalid("POST", path, a, harness_json("{s:s}", "text", long_text), "text",
			      "at most 5000");
	long_text[5000] = '\0';
	harness_check_call("POST", path, a, harness_json("{s:s}", "text", long_text), 201, NULL);
	harness_check_invalid("POST", path, a, harness_json("{s:s}", "text", ""), "text",
			      "at least 1");
	harness_check_invalid("POST", path, a, harness_json("{s:s}", "text", " \n\t "), "text",
			      "blank");
	harness_check_invalid("POST", path, a, harness_json("{s:i}", "text", 5), "text", "string");
	harness_check_invalid("POST", path, a, harness_json("{}"), "text", "required");
	harness_check_invalid("POST", path, a,
			      harness_json("{s:s,s:s}", "text", "x", "parent_id", "1"), "parent_id",
			      "integer");
	harness_check_invalid("POST", path, a,
			      harness_json("{s:s,s:i}", "text", "x", "parent_id", 0), "parent_id",
			      NULL);
	harness_check_invalid("POST", path, a,
			      harness_json("{s:s,s:s}", "text", "x", "movie_id", "1"), "movie_id",
			      "unknown field");
	harness_check_call("POST", path, a, NULL, 415, "unsupported_media_type");

	json_t *m = get_movie(c.m1, NULL);
	ck_assert_int_eq(jint(m, "comment_count"), 10);
	json_decref(m);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM comments"), 11);
}
END_TEST

/* One notification of a page, checked whole. */
static void expect_notification(const json_t *n, const char *kind, long long movie,
				const char *movie_name, long long comment, long long actor,
				bool read)
{
	static const char *const keys[] = {"id",    "kind",	  "movie", "comment_id",
					   "actor", "created_at", "read",  NULL};
	char *text = json_dumps(n, JSON_COMPACT);
	harness_assert_keys(n, keys, "notification");
	ck_assert_msg(strcmp(jstr(n, "kind"), kind) == 0, "kind, want %s: %s", kind, text);
	ck_assert_int_eq(jint(json_object_get(n, "movie"), "id"), movie);
	ck_assert_str_eq(jstr(json_object_get(n, "movie"), "name"), movie_name);
	ck_assert_msg(jint(n, "comment_id") == comment, "comment_id, want %lld: %s", comment, text);
	ck_assert_msg(jint(json_object_get(n, "actor"), "id") == actor, "actor, want %lld: %s",
		      actor, text);
	ck_assert(json_is_string(json_object_get(json_object_get(n, "actor"), "name")));
	ck_assert_msg(json_is_true(json_object_get(n, "read")) == read, "read: %s", text);
	free(text);
}

START_TEST(likes_and_notifications)
{
	boot(false);
	struct catalog c;
	make_catalog(&c);
	struct harness_user u[] = {{harness_unique_email("ann"), "USER", 0, ""},
				   {harness_unique_email("bob"), "USER", 0, ""},
				   {harness_unique_email("cat"), "USER", 0, ""}};
	harness_create_users(w.ci, u, 3, PASSWORD);
	const char *a = u[0].access, *b = u[1].access, *cc = u[2].access;
	const char *list = "/api/v1/notifications";

	long long r1 = post_comment(c.m1, a, "A comment by Ann.", 0);
	char like[64];
	snprintf(like, sizeof(like), "/api/v1/comments/%lld/like", r1);

	/* A like by someone else notifies once; a second PUT changes nothing. */
	harness_check_call("PUT", like, b, NULL, 204, NULL);
	harness_check_call("PUT", like, b, NULL, 204, NULL);
	/* One's own like, reply: no notification. */
	harness_check_call("PUT", like, a, NULL, 204, NULL);
	post_comment(c.m1, a, "Replying to myself.", r1);
	ck_assert_int_eq(
		harness_sql_int(harness_fmt("SELECT likes FROM comments WHERE id = %lld", r1)), 2);
	/* A reply by someone else notifies. */
	long long x1 = post_comment(c.m1, cc, "Cat's reply.", r1);
	/* A reply to a reply notifies that reply's author only. */
	long long y1 = post_comment(c.m1, b, "Bob answers Cat.", x1);

	json_t *p = harness_get_json(list, a);
	ck_assert_int_eq(jint(p, "total_items"), 2);
	json_t *items = json_object_get(p, "items");
	expect_notification(json_array_get(items, 0), "comment_reply", c.m1, "Silent Harbor", x1,
			    u[2].id, false);
	expect_notification(json_array_get(items, 1), "comment_like", c.m1, "Silent Harbor", r1,
			    u[1].id, false);
	long long reply_note = jint(json_array_get(items, 0), "id");
	long long like_note = jint(json_array_get(items, 1), "id");
	json_decref(p);
	p = harness_get_json(list, cc);
	ck_assert_int_eq(jint(p, "total_items"), 1);
	expect_notification(json_array_get(json_object_get(p, "items"), 0), "comment_reply", c.m1,
			    "Silent Harbor", y1, u[1].id, false);
	long long cat_note = jint(json_array_get(json_object_get(p, "items"), 0), "id");
	json_decref(p);
	p = harness_get_json(list, b);
	ck_assert_int_eq(jint(p, "total_items"), 0);
	json_decref(p);

	/* Unlike, then like again: the count follows; DELETE is idempotent. */
	harness_check_call("DELETE", like, b, NULL, 204, NULL);
	harness_check_call("DELETE", like, b, NULL, 204, NULL);
	ck_assert_int_eq(
		harness_sql_int(harness_fmt("SELECT likes FROM comments WHERE id = %lld", r1)), 1);
	harness_check_call("PUT", "/api/v1/comments/999999/like", b, NULL, 404, "not_found");
	harness_check_call("DELETE", "/api/v1/comments/999999/like", b, NULL, 404, "not_found");

	/* Mark one read: the unread filter follows. */
	harness_check_call("POST", harness_fmt("/api/v1/notifications/%lld/read", like_note), a,
			   NULL, 204, NULL);
	harness_check_call("POST", harness_fmt("/api/v1/notifications/%lld/read", like_note), a,
			   NULL, 204, NULL);
	p = harness_get_json(harness_fmt("%s?unread=true", list), a);
	ck_assert_str_eq(item_ids(p), harness_fmt("%lld", reply_note));
	json_decref(p);
	p = harness_get_json(harness_fmt("%s?unread=false", list), a);
	ck_assert_str_eq(item_ids(p), harness_fmt("%lld", like_note));
	expect_notification(json_array_get(json_object_get(p, "items"), 0), "comment_like", c.m1,
			    "Silent Harbor", r1, u[1].id, true);
	json_decref(p);
	p = harness_get_json(harness_fmt("%s?per_page=1&page=2", list), a);
	ck_assert_str_eq(item_ids(p), harness_fmt("%lld", like_note));
	ck_assert_int_eq(jint(p, "total_items"), 2);
	json_decref(p);
	harness_check_invalid("GET", harness_fmt("%s?unread=yes", list), a, NULL, "unread",
			      "true or false");

	/* Someone else's notification is not found. */
	harness_check_call("POST", harness_fmt("/api/v1/notifications/%lld/read", cat_note), a,
			   NULL, 404, "not_found");
	harness_check_call("POST", "/api/v1/notifications/999999/read", a, NULL, 404, "not_found");
	p = harness_get_json(harness_fmt("%s?unread=true", list), cc);
	ck_assert_str_eq(item_ids(p), harness_fmt("%lld", cat_note));
	json_decref(p);

	/* Read all: only the caller's. */
	harness_check_call("POST", "/api/v1/notifications/read-all", a, NULL, 204, NULL);
	harness_check_call("POST", "/api/v1/notifications/read-all", a, NULL, 204, NULL);
	p = harness_get_json(harness_fmt("%s?unread=true", list), a);
	ck_assert_int_eq(jint(p, "total_items"), 0);
	json_decref(p);
	p = harness_get_json(harness_fmt("%s?unread=false", list), a);
	ck_assert_int_eq(jint(p, "total_items"), 2);
	json_decref(p);
	p = harness_get_json(harness_fmt("%s?unread=true", list), cc);
	ck_assert_int_eq(jint(p, "total_items"), 1);
	json_decref(p);

	/* Every author accepts emails by default: one job per notification
	 * (sent in comment_emails; no scheduler runs here). */
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM email_jobs"), 3);
}
END_TEST

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
	long long sent = harness_sql_int("SELECT count(*) FROM email_jobs WHERE status = 'sent'");
	ck_assert_msg(sent == want, "email jobs: %s; want %d, all sent", jobs, want);
	free(jobs);
}

START_TEST(comment_emails)
{
	boot(true);
	struct catalog c;
	make_catalog(&c);
	struct harness_user u[] = {{harness_unique_email("ann"), "USER", 0, ""},
				   {harness_unique_email("bob"), "USER", 0, ""},
				   {harness_unique_email("cat"), "USER", 0, ""}};
	harness_create_users(w.ci, u, 3, PASSWORD);
	const char *a = u[0].access, *b = u[1].access, *cc = u[2].access;
	/* Cat turns the emails off. */
	harness_check_call("PATCH", "/api/v1/accounts/me/profile", cc,
			   harness_json("{s:b}", "email_notifications", 0), 200, NULL);

	long long ann_root = post_comment(c.m1, a, "Ann's long thought.", 0);
	long long cat_root = post_comment(c.m1, cc, "Cat's quiet thought.", 0);
	/* A reply of 300 characters: the excerpt keeps 200 at most. */
	char reply[301];
	for (int i = 0; i < 300; i++)
		reply[i] = "Reply words "[i % 12];
	reply[300] = '\0';
	post_comment(c.m1, b, reply, ann_root); /* email 1 to Ann */
	harness_check_call("PUT", harness_fmt("/api/v1/comments/%lld/like", ann_root), b, NULL, 204,
			   NULL);				    /* email 2 */
	post_comment(c.m1, a, "Ann replies to herself.", ann_root); /* nothing */
	harness_check_call("PUT", harness_fmt("/api/v1/comments/%lld/like", ann_root), a, NULL, 204,
			   NULL);
	post_comment(c.m1, b, "Bob replies to Cat.", cat_root); /* notification only */
	harness_check_call("PUT", harness_fmt("/api/v1/comments/%lld/like", cat_root), a, NULL, 204,
			   NULL);
	ck_assert_int_eq(
		harness_sql_int(harness_fmt(
			"SELECT count(*) FROM notifications WHERE user_id = %lld", u[2].id)),
		2);
	wait_mail_settled(2);
	/* The excerpt: 199 characters and an ellipsis. */
	char excerpt[256];
	snprintf(excerpt, sizeof(excerpt), "%.199s\xE2\x80\xA6", reply);

	struct mailbox_msg *m = NULL;
	size_t n = mailbox_load(w.maildir, &m);
	ck_assert_uint_eq(n, 2);
	bool saw_reply = false, saw_like = false;
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(m[i].rcpt, u[0].email);
		ck_assert_msg(strstr(m[i].subject, "Silent Harbor") != NULL, "subject: %s",
			      m[i].subject);
		ck_assert_msg(strstr(m[i].text, harness_fmt(BASE_URL "/movies/%lld", c.m1)) != NULL,
			      "no link to the movie: %s", m[i].text);
		if (strstr(m[i].subject, "liked")) {
			saw_like = true;
			ck_assert_msg(strstr(m[i].text, "Ann's long thought.") != NULL, "like: %s",
				      m[i].text);
		} else {
			saw_reply = true;
			ck_assert_msg(strstr(m[i].text, excerpt) != NULL, "reply without %s: %s",
				      excerpt, m[i].text);
			ck_assert_msg(strstr(m[i].text, reply) == NULL,
				      "the whole 300-character reply was mailed");
		}
	}
	ck_assert(saw_reply && saw_like);
	mailbox_free(m, n);
}
END_TEST

START_TEST(comment_delete)
{
	boot(false);
	struct catalog c;
	make_catalog(&c);
	struct harness_user u[] = {{harness_unique_email("ann"), "USER", 0, ""},
				   {harness_unique_email("bob"), "USER", 0, ""},
				   {harness_unique_email("mod"), "MODERATOR", 0, ""},
				   {harness_unique_email("adm"), "ADMIN", 0, ""}};
	harness_create_users(w.ci, u, 4, PASSWORD);
	const char *a = u[0].access, *b = u[1].access, *mod = u[2].access, *adm = u[3].access;

	long long r1 = post_comment(c.m1, a, "Root by Ann.", 0);
	long long x1 = post_comment(c.m1, b, "Reply by Bob.", r1);
	long long y1 = post_comment(c.m1, a, "Reply to the reply.", x1);
	long long r2 = post_comment(c.m1, b, "Root by Bob.", 0);
	long long r3 = post_comment(c.m1, b, "Another by Bob.", 0);
	harness_check_call("PUT", harness_fmt("/api/v1/comments/%lld/like", y1), b, NULL, 204,
			   NULL);
	harness_check_call("PUT", harness_fmt("/api/v1/comments/%lld/like", x1), a, NULL, 204,
			   NULL);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM notifications"), 4);

	/* Someone else's: 403, and nothing goes. */
	harness_check_call("DELETE", harness_fmt("/api/v1/comments/%lld", r1), b, NULL, 403,
			   "forbidden");
	harness_check_call("DELETE", harness_fmt("/api/v1/comments/%lld", r2), a, NULL, 403,
			   "forbidden");
	harness_check_call("DELETE", "/api/v1/comments/999999", a, NULL, 404, "not_found");
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM comments"), 5);

	/* The author's: the whole subtree goes, with its likes and
	 * notifications, and the movie's count follows. */
	harness_check_call("DELETE", harness_fmt("/api/v1/comments/%lld", r1), a, NULL, 204, NULL);
	harness_check_call("DELETE", harness_fmt("/api/v1/comments/%lld", r1), a, NULL, 404,
			   "not_found");
	ck_assert_int_eq(harness_sql_int(harness_fmt(
				 "SELECT count(*) FROM comments WHERE id IN (%lld, %lld, %lld)", r1,
				 x1, y1)),
			 0);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM comment_likes"), 0);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM notifications"), 0);
	json_t *m = get_movie(c.m1, NULL);
	ck_assert_int_eq(jint(m, "comment_count"), 2);
	json_decref(m);
	json_t *p = harness_get_json(harness_fmt("/api/v1/movies/%lld/comments", c.m1), NULL);
	expect_tree(p, harness_fmt("%lld,%lld", r2, r3));
	json_decref(p);

	/* Moderators and administrators may delete any. */
	harness_check_call("DELETE", harness_fmt("/api/v1/comments/%lld", r2), mod, NULL, 204,
			   NULL);
	harness_check_call("DELETE", harness_fmt("/api/v1/comments/%lld", r3), adm, NULL, 204,
			   NULL);
	m = get_movie(c.m1, NULL);
	ck_assert_int_eq(jint(m, "comment_count"), 0);
	json_decref(m);
}
END_TEST

int main(void)
{
	if (!harness_main_ready("catalog_test_engagement"))
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	Suite *s = suite_create("engagement");

	TCase *tc = tcase_create("marks");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, writes_need_sign_in);
	tcase_add_test(tc, reactions_and_ratings);
	tcase_add_test(tc, favorites);
	suite_add_tcase(s, tc);

	tc = tcase_create("comments");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, comment_threads);
	tcase_add_test(tc, likes_and_notifications);
	tcase_add_test(tc, comment_emails);
	tcase_add_test(tc, comment_delete);
	suite_add_tcase(s, tc);

	return harness_run(s);
}
