/* Every kind of JSON body comes out in one compact form: no blank outside
 * strings. PostgreSQL's json_build_object writes `"id" : 1, "name"` and
 * json_agg `[1, 2]`; the repos compact that text (buf_append_json_compact),
 * and what jansson renders is compact already. The bodies come from a real
 * server over a catalog, engagement, a cart, an order and a payment. */
#include <check.h>
#include <string.h>

#include "cinema/log.h"
#include "harness.h"

#define REDIS_DB 8
#define BASE_URL "http://frontend.test"
#define PASSWORD "Popcorn-42!"

static struct harness_world w;

static void setup(void)
{
	harness_world_begin(&w, "jsonform", REDIS_DB);
	harness_world_api_env(&w, &w.srv_env, BASE_URL);
	harness_server_start(&w.srv, w.srv_env.p);
}

static void teardown(void)
{
	harness_world_end(&w);
}

/* Fails when body has a blank (space, tab, CR, LF) outside a JSON string. */
static void assert_compact_at(const char *what, const struct e2e_resp *r, int line)
{
	const char *b = r->body.data ? r->body.data : "";
	bool in_string = false;
	ck_assert_msg(r->json != NULL, "line %d: %s: not JSON: %s", line, what, b);
	for (size_t i = 0; b[i]; i++) {
		if (in_string) {
			if (b[i] == '\\' && b[i + 1])
				i++;
			else if (b[i] == '"')
				in_string = false;
		} else if (b[i] == '"') {
			in_string = true;
		} else {
			ck_assert_msg(!strchr(" \t\r\n", b[i]),
				      "line %d: %s: a blank outside strings at byte %zu: %.*s",
				      line, what, i, (int)(i > 60 ? 120 : i + 60),
				      b + (i > 60 ? i - 60 : 0));
		}
	}
}

/* A call answering status with a compact body; returns the owned JSON. */
#define compact(method, path, bearer, body, status) \
	compact_at(method, path, bearer, body, status, __LINE__)
static json_t *compact_at(const char *method, const char *path, const char *bearer, json_t *body,
			  long status, int line)
{
	struct e2e_resp r = harness_call(method, path, bearer, body);
	harness_expect_at(&r, status, NULL, line);
	if (status == 204) {
		e2e_resp_free(&r);
		return NULL;
	}
	assert_compact_at(harness_fmt("%s %s", method, path), &r, line);
	json_t *j = json_incref(r.json);
	e2e_resp_free(&r);
	return j;
}

static long long id_of(json_t *j)
{
	long long id = json_integer_value(json_object_get(j, "id"));
	ck_assert_int_gt(id, 0);
	json_decref(j);
	return id;
}

START_TEST(every_kind_of_body_is_compact)
{
	struct harness_user u[] = {{.email = "admin@example.com", .group = "ADMIN"},
				   {.email = "viewer@example.com", .group = "USER"}};
	harness_create_users(w.ci, u, 2, PASSWORD);
	const char *admin = u[0].access, *user = u[1].access;

	/* the catalog, made through the API */
	long long genre = id_of(compact("POST", "/api/v1/genres", admin,
					harness_json("{s:s}", "name", "Film Noir"), 201));
	long long cert = id_of(compact("POST", "/api/v1/certifications", admin,
				       harness_json("{s:s}", "name", "PG-13"), 201));
	long long star = id_of(compact("POST", "/api/v1/stars", admin,
				       harness_json("{s:s}", "name", "Ingrid Lighthouse"), 201));
	long long director = id_of(compact("POST", "/api/v1/directors", admin,
					   harness_json("{s:s}", "name", "Orson Wells"), 201));
	long long movie = id_of(compact(
		"POST", "/api/v1/movies", admin,
		harness_json("{s:s,s:i,s:i,s:f,s:i,s:s,s:s,s:I,s:[I],s:[I],s:[I]}", "name",
			     "Silent Harbor", "year", 1999, "time", 100, "imdb", 7.1, "votes", 1000,
			     "description", "Fog over a small port, \"quoted\" : text", "price",
			     "4.99", "certification_id", (json_int_t)cert, "genre_ids",
			     (json_int_t)genre, "star_ids", (json_int_t)star, "director_ids",
			     (json_int_t)director),
		201));
	static const char *const lookups[] = {"genres", "stars", "directors", "certifications"};
	long long ids[] = {genre, star, director, cert};
	for (size_t i = 0; i < 4; i++) {
		json_decref(compact("GET", harness_fmt("/api/v1/%s", lookups[i]), NULL, NULL, 200));
		json_decref(compact("GET", harness_fmt("/api/v1/%s/%lld", lookups[i], ids[i]), NULL,
				    NULL, 200));
	}

	/* engagement */
	json_decref(compact("PUT", harness_fmt("/api/v1/movies/%lld/reaction", movie), user,
			    harness_json("{s:s}", "reaction", "like"), 204));
	json_decref(compact("PUT", harness_fmt("/api/v1/movies/%lld/rating", movie), user,
			    harness_json("{s:i}", "score", 8), 204));
	json_decref(compact("PUT", harness_fmt("/api/v1/favorites/%lld", movie), user, NULL, 204));
	long long comment =
		id_of(compact("POST", harness_fmt("/api/v1/movies/%lld/comments", movie), user,
			      harness_json("{s:s}", "text", "Great , film : yes"), 201));
	json_decref(compact(
		"POST", harness_fmt("/api/v1/movies/%lld/comments", movie), admin,
		harness_json("{s:s,s:I}", "text", "Agreed", "parent_id", (json_int_t)comment),
		201));
	json_decref(compact("PUT", harness_fmt("/api/v1/comments/%lld/like", comment), admin, NULL,
			    204));

	/* the catalog as everyone reads it */
	json_decref(compact("GET", "/api/v1/movies", NULL, NULL, 200));
	json_decref(compact("GET", "/api/v1/movies?search=harbor&sort=-year", user, NULL, 200));
	json_decref(compact("GET", harness_fmt("/api/v1/movies/%lld", movie), NULL, NULL, 200));
	json_decref(compact("GET", harness_fmt("/api/v1/movies/%lld", movie), user, NULL, 200));
	json_decref(compact("GET", harness_fmt("/api/v1/movies/%lld/comments", movie), user, NULL,
			    200));
	json_decref(compact("GET", "/api/v1/favorites", user, NULL, 200));
	json_decref(compact("GET", "/api/v1/notifications", user, NULL, 200));

	/* commerce: a cart, an order, a payment */
	json_decref(compact("POST", "/api/v1/cart/items", user,
			    harness_json("{s:I}", "movie_id", (json_int_t)movie), 201));
	json_decref(compact("GET", "/api/v1/cart", user, NULL, 200));
	json_t *placed = compact("POST", "/api/v1/orders", user, NULL, 201);
	long long order =
		json_integer_value(json_object_get(json_object_get(placed, "order"), "id"));
	json_decref(placed);
	ck_assert_int_gt(order, 0);
	harness_use_db(w.pg);
	long long payment = harness_sql_int(
		harness_fmt("INSERT INTO payments (user_id, order_id, amount, external_payment_id) "
			    "VALUES (%lld, %lld, 4.99, 'pi_json_form') RETURNING id",
			    u[1].id, order));
	harness_sql_ok(harness_fmt("INSERT INTO payment_items (payment_id, order_item_id, "
				   "price_at_payment) SELECT %lld, id, price_at_order FROM "
				   "order_items WHERE order_id = %lld",
				   payment, order));
	json_decref(compact("GET", "/api/v1/orders", user, NULL, 200));
	json_decref(compact("GET", harness_fmt("/api/v1/orders/%lld", order), user, NULL, 200));
	json_decref(compact("GET", "/api/v1/payments", user, NULL, 200));
	json_decref(compact("GET", harness_fmt("/api/v1/payments/%lld", payment), user, NULL, 200));
	json_decref(compact("GET", "/api/v1/purchases", user, NULL, 200));
	json_decref(compact("GET", "/api/v1/admin/carts", admin, NULL, 200));
	json_decref(compact("GET", "/api/v1/admin/orders", admin, NULL, 200));
	json_decref(compact("GET", "/api/v1/admin/payments", admin, NULL, 200));

	/* accounts and errors */
	json_decref(compact("GET", "/api/v1/accounts/me", user, NULL, 200));
	json_decref(compact("GET", "/api/v1/admin/users", admin, NULL, 200));
	json_decref(
		compact("GET", harness_fmt("/api/v1/admin/users/%lld", u[1].id), admin, NULL, 200));
	json_decref(compact("GET", "/api/v1/movies?year_min=abc", NULL, NULL, 422));
	json_decref(compact("GET", "/api/v1/movies/999999", NULL, NULL, 404));
}
END_TEST

int main(void)
{
	if (!harness_main_ready("e2e_test_json_form"))
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	Suite *s = suite_create("json_form");
	TCase *tc = tcase_create("bodies");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_kind_of_body_is_compact);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
