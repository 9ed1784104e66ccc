/* End-to-end tests of the catalog over HTTP: movies (list, filters, sorts,
 * pagination, search, detail, writes), the four lookups (genres, stars,
 * directors, certifications) and the favorites list. The real
 * `cinema-api serve` runs against a fresh migrated database per test and
 * Redis; no mocks.
 *
 * Every test builds the same small catalog through the API (a moderator
 * creates the lookups and 30 movies) and then adds the engagement a
 * catalog has (reactions, ratings, favorites of two users, and spread
 * creation times) in SQL, so that popularity and rating sorts have
 * something to order; the counters and popularity still come from the
 * migration's triggers (carts, orders and purchases for the delete rules and
 * GET /purchases are made in SQL too). Expected results are computed here
 * from the definitions below and compared, in order, with what the API
 * answers.
 *
 * Needs DATABASE_URL, REDIS_URL, CINEMA_API_BIN and MIGRATIONS_DIR (CTest
 * and scripts/test.sh set them). Redis: this suite uses database REDIS_DB of
 * REDIS_URL's server, flushed before and after each test; no other suite may
 * use that number. */
#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/log.h"
#include "catalog/cursor.h"
#include "e2e.h"
#include "harness.h"

#define REDIS_DB 14
#define PASSWORD "Popcorn-42!"

/* --- the catalog --- */

enum { DRAMA, COMEDY, THRILLER, ANIMATION, NGENRES };
enum { CERT_G, CERT_PG13, CERT_R, NCERTS };
enum { LOVELACE, HOPPER, TURING, JOHNSON, PIAF, NSTARS };
enum { COPPOLA, KUROSAWA, VARDA, NDIRECTORS };
enum { MOD, USR, NUSERS }; /* the two users with engagement */

static const char *const genre_names[NGENRES] = {"Drama", "Comedy", "Thriller", "Animation"};
static const char *const cert_names[NCERTS] = {"G", "PG-13", "R"};
static const char *const star_names[NSTARS] = {"Ada Lovelace", "Grace Hopper", "Alan Turing",
					       "Katherine Johnson", "Édith Piaf"};
static const char *const director_names[NDIRECTORS] = {"Sofia Coppola", "Akira Kurosawa",
						       "Agnès Varda"};

#define B(x) (1u << (x))

struct movie_def {
	const char *name;
	int year, time;
	double imdb;
	int votes;
	const char *price;
	int cert;
	unsigned genres, stars, directors; /* bit masks over the tables above */
	int react[NUSERS];		   /* 1 like, -1 dislike, 0 none */
	int score[NUSERS];		   /* rating 1..10, 0 none */
	bool fav[NUSERS];
	int created_h; /* created_at = 2024-01-01 00:00 UTC + hours */
	const char *description;
};

/* Names sort the same byte-wise and in any locale's collation; years,
 * imdb, prices, votes, popularity, ratings and creation times repeat so
 * that every sort has ties for the id to break. */
/* clang-format off */
static const struct movie_def movies[] = {
	/* name, year, time, imdb, votes, price, certification, genres, stars, directors,
	 * reactions, ratings, favorites (moderator, user), created_h, description */
	{"Amélie", 2001, 122, 8.3, 700000, "4.99", CERT_PG13, B(DRAMA) | B(COMEDY),
	 B(LOVELACE) | B(PIAF), B(VARDA), {1, 1}, {9, 8}, {false, true}, 5,
	 "A shy waitress in Montmartre quietly changes the lives around her."},
	{"Brazil", 1985, 132, 7.9, 190000, "3.99", CERT_R, B(DRAMA) | B(THRILLER),
	 B(TURING), B(COPPOLA), {1, 0}, {0, 0}, {false, false}, 2,
	 "A clerk in a bureaucratic dystopia dreams of escape."},
	{"Casablanca", 1942, 102, 8.5, 580000, "2.49", CERT_G, B(DRAMA),
	 B(LOVELACE) | B(JOHNSON), B(COPPOLA), {1, 1}, {10, 10}, {true, false}, 9,
	 "A nightclub owner meets an old flame in wartime Morocco."},
	{"Dune", 1984, 137, 6.3, 150000, "3.99", CERT_PG13, B(THRILLER),
	 B(TURING) | B(HOPPER), B(COPPOLA), {-1, 0}, {4, 0}, {false, false}, 1,
	 "A noble family fights over a desert planet and its spice."},
	{"Dune", 2021, 155, 8.0, 700000, "9.99", CERT_PG13, B(THRILLER) | B(DRAMA),
	 B(HOPPER), B(VARDA), {1, 0}, {0, 0}, {false, false}, 3,
	 "Paul Atreides arrives on the desert planet Arrakis."},
	{"Eraserhead", 1977, 89, 7.3, 110000, "0.00", CERT_R, B(THRILLER),
	 B(LOVELACE), 0, {0, 0}, {0, 0}, {false, false}, 4,
	 "A factory worker copes with a strange newborn in an industrial city."},
	{"Fargo", 1996, 98, 8.1, 690000, "4.99", CERT_R, B(THRILLER) | B(COMEDY),
	 B(JOHNSON), B(COPPOLA), {0, 1}, {7, 0}, {false, false}, 6,
	 "A car salesman hires two criminals to kidnap his wife."},
	{"Gattaca", 1997, 106, 7.8, 320000, "3.99", CERT_PG13, B(DRAMA),
	 B(TURING), 0, {0, 0}, {0, 0}, {false, false}, 6,
	 "A man with flawed genes assumes another identity to reach space."},
	{"Ghost World", 2001, 111, 7.3, 120000, "4.99", CERT_R, B(COMEDY) | B(DRAMA),
	 B(PIAF), B(VARDA), {0, 0}, {6, 6}, {false, false}, 0,
	 "Two friends drift apart the summer after high school."},
	{"Harbor Lights", 2010, 95, 6.1, 5000, "1.99", CERT_G, B(DRAMA),
	 B(LOVELACE), B(VARDA), {-1, -1}, {2, 0}, {false, false}, 8,
	 "A keeper tends a lighthouse through one long winter."},
	{"Heat", 1995, 170, 8.3, 690000, "4.99", CERT_R, B(THRILLER),
	 B(JOHNSON) | B(TURING), B(COPPOLA), {1, 1}, {0, 0}, {false, true}, 7,
	 "A detective pursues a crew of professional thieves across Los Angeles."},
	{"Ikiru", 1952, 143, 8.3, 85000, "2.49", CERT_G, B(DRAMA),
	 0, B(KUROSAWA), {0, 0}, {9, 0}, {false, false}, 2,
	 "A bureaucrat with little time left seeks meaning."},
	{"Jaws", 1975, 124, 8.1, 640000, "3.99", CERT_PG13, B(THRILLER),
	 B(HOPPER), 0, {1, 1}, {8, 9}, {false, false}, 3,
	 "A harbor town faces a great white shark."},
	{"Kes", 1969, 110, 7.8, 22000, "1.99", CERT_G, B(DRAMA),
	 0, 0, {0, 0}, {0, 0}, {false, false}, 0,
	 "A boy trains a falcon in a mining town."},
	{"Laura", 1944, 88, 7.9, 50000, "2.49", CERT_G, B(THRILLER) | B(DRAMA),
	 B(LOVELACE), 0, {0, 0}, {0, 0}, {false, false}, 5,
	 "A detective falls for the portrait of a murder victim."},
	{"Metropolis", 1927, 153, 8.3, 180000, "2.49", CERT_G, B(DRAMA),
	 B(TURING), 0, {0, 1}, {0, 0}, {false, false}, 4,
	 "Workers below and planners above clash in a future city."},
	{"Nosferatu", 1922, 94, 7.9, 110000, "0.00", CERT_G, B(THRILLER),
	 0, 0, {0, 0}, {0, 0}, {false, false}, 1,
	 "A vampire brings plague to a quiet port."},
	{"Oldboy", 2003, 120, 8.4, 620000, "4.99", CERT_R, B(THRILLER),
	 B(JOHNSON), 0, {1, -1}, {10, 3}, {false, false}, 9,
	 "A man imprisoned for fifteen years seeks his captor."},
	{"Psycho", 1960, 109, 8.5, 700000, "3.99", CERT_R, B(THRILLER),
	 B(LOVELACE), 0, {0, 0}, {0, 0}, {false, false}, 8,
	 "A secretary on the run stops at a lonely motel."},
	{"Quills", 2000, 124, 7.2, 50000, "1.99", CERT_R, B(DRAMA),
	 B(PIAF), 0, {0, 0}, {5, 0}, {false, false}, 7,
	 "A writer in an asylum keeps finding ways to publish."},
	{"Rashomon", 1950, 88, 8.2, 170000, "2.49", CERT_G, B(DRAMA) | B(THRILLER),
	 B(HOPPER), B(KUROSAWA), {1, 0}, {0, 0}, {false, false}, 6,
	 "Four witnesses tell different stories of one crime."},
	{"Solaris", 1972, 167, 8.0, 95000, "2.49", CERT_G, B(DRAMA),
	 0, 0, {0, 0}, {0, 0}, {false, false}, 2,
	 "A psychologist visits a station orbiting an ocean planet."},
	{"Solaris", 2002, 99, 6.2, 95000, "3.99", CERT_PG13, B(DRAMA),
	 B(LOVELACE), B(COPPOLA), {0, 0}, {0, 0}, {false, false}, 2,
	 "A remake about grief aboard a space station."},
	{"Tampopo", 1985, 114, 7.9, 19000, "3.99", CERT_G, B(COMEDY),
	 0, 0, {1, 1}, {0, 0}, {false, false}, 4,
	 "A truck driver helps a widow perfect her noodle shop."},
	{"Up", 2009, 96, 8.3, 1100000, "9.99", CERT_G, B(ANIMATION) | B(COMEDY),
	 B(JOHNSON), 0, {1, 1}, {8, 0}, {false, true}, 3,
	 "An old man ties balloons to his house and flies away."},
	{"Vertigo", 1958, 128, 8.3, 420000, "4.99", CERT_PG13, B(THRILLER),
	 B(HOPPER) | B(JOHNSON), 0, {0, 0}, {0, 0}, {false, false}, 5,
	 "A retired detective with a fear of heights follows a woman."},
	{"Witness", 1985, 112, 7.4, 100000, "2.49", CERT_R, B(THRILLER) | B(DRAMA),
	 B(LOVELACE), 0, {0, 0}, {0, 0}, {false, false}, 1,
	 "A boy sees a murder and a detective hides among the Amish."},
	{"Xanadu", 1980, 96, 5.3, 30000, "1.99", CERT_G, B(COMEDY),
	 0, 0, {-1, 0}, {3, 0}, {false, true}, 0,
	 "A muse opens a roller disco by the harbor."},
	{"Yojimbo", 1961, 110, 8.2, 130000, "4.99", CERT_G, B(THRILLER) | B(COMEDY),
	 B(HOPPER), B(KUROSAWA), {0, 0}, {0, 0}, {false, false}, 8,
	 "A wandering samurai plays two gangs against each other."},
	{"Zodiac", 2007, 157, 7.7, 600000, "12.50", CERT_R, B(THRILLER),
	 B(TURING) | B(HOPPER), B(COPPOLA), {0, 0}, {0, 0}, {false, false}, 9,
	 "A cartoonist becomes obsessed with a serial killer."},
};
/* clang-format on */

#define NMOVIES ((int)(sizeof(movies) / sizeof(movies[0])))

/* --- the running test --- */

static struct {
	char *ci;
	PGconn *pg;
	char redis_url[256];
	char jwt_secret[80];
	struct e2e_server srv;
	struct harness_env srv_env;
	/* tokens: the moderator, a user with engagement, a user without */
	char mod[2048], user[2048], fresh[2048];
	long long user_id[3];
	long long genre[NGENRES], cert[NCERTS], star[NSTARS], director[NDIRECTORS];
	long long western; /* a genre no movie uses */
	long long movie[NMOVIES];
} w;

/* --- fixture --- */

static void setup(void)
{
	static const char *const required[] = {"DATABASE_URL", "REDIS_URL", "CINEMA_API_BIN",
					       "MIGRATIONS_DIR", NULL};
	harness_require_env(required);
	memset(&w, 0, sizeof(w));
	harness_begin("movies");
	harness_redis_claim(w.redis_url, sizeof(w.redis_url), REDIS_DB);
	harness_secret(w.jwt_secret, sizeof(w.jwt_secret), "catalog-test-secret");
	w.ci = harness_db_open(&w.pg);
}

static void teardown(void)
{
	harness_end();
	harness_db_close(w.ci, w.pg);
	if (w.redis_url[0])
		harness_redis_flush(w.redis_url);
	memset(&w, 0, sizeof(w));
}

/* --- HTTP --- */

/* Asserts the status and, for errors, the JSON error shape with code
 * (NULL: any code), "errors" coming with 422 and only then. */
#define expect(r, status, code) expect_at(r, status, code, __LINE__)
static void expect_at(const struct e2e_resp *r, long status, const char *code, int line)
{
	harness_expect_coded_at(r, status, code, line);
	if (status < 400)
		return;
	ck_assert_msg((status == 422) == (json_object_get(r->json, "errors") != NULL),
		      "line %d: \"errors\" must come with 422 and only then: %s", line,
		      r->body.data);
}

#define check_call(method, path, bearer, body, status, code)                    \
	do {                                                                    \
		struct e2e_resp cc_ = harness_call(method, path, bearer, body); \
		expect(&cc_, status, code);                                     \
		e2e_resp_free(&cc_);                                            \
	} while (0)

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	ck_assert_msg(json_is_integer(v), "\"%s\" is not an integer", key);
	return json_integer_value(v);
}

/* Percent-encodes s (RFC 3986 unreserved characters kept). */
static const char *urlenc(const char *s)
{
	static char bufs[4][HARNESS_FMT_MAX];
	static int next;
	char *out = bufs[next++ % 4];
	size_t o = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		ck_assert(o + 4 < sizeof(bufs[0]));
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, 4, "%%%02X", c);
	}
	out[o] = '\0';
	return out;
}

/* --- users and the catalog --- */

/* Creates the moderator and two users with `cinema-api create-user
 * --active` (in parallel: each hashes a password) and signs them in. */
static void create_users(void)
{
	struct harness_user u[3] = {{harness_unique_email("mod"), "MODERATOR", 0, ""},
				    {harness_unique_email("user"), "USER", 0, ""},
				    {harness_unique_email("fresh"), "USER", 0, ""}};
	char *tokens[3] = {w.mod, w.user, w.fresh};
	harness_create_users(w.ci, u, 3, PASSWORD);
	for (int i = 0; i < 3; i++) {
		snprintf(tokens[i], sizeof(w.mod), "%s", u[i].access);
		w.user_id[i] = u[i].id;
	}
}

/* Starts the API on the test's database and Redis database. */
static void start_api(void)
{
	struct harness_env *e = &w.srv_env;
	memset(e, 0, sizeof(*e));
	harness_env_set(e, "DATABASE_URL=%s", w.ci);
	harness_env_set(e, "REDIS_URL=%s", w.redis_url);
	harness_env_set(e, "JWT_SECRET=%s", w.jwt_secret);
	harness_env_set(e, "AUTH_RATE_LIMIT=100000");
	harness_env_set(e, "AUTH_RATE_WINDOW=60");
	harness_server_start(&w.srv, e->p);
}

/* POSTs a lookup as the moderator; returns its id. */
static long long create_lookup(const char *kind, const char *name)
{
	struct e2e_resp r = harness_call("POST", harness_fmt("/api/v1/%s", kind), w.mod,
					 harness_json("{s:s}", "name", name));
	expect(&r, 201, NULL);
	static const char *const keys[] = {"id", "name", "movie_count", NULL};
	harness_assert_keys(r.json, keys, kind);
	ck_assert_str_eq(jstr(r.json, "name"), name);
	ck_assert_int_eq(jint(r.json, "movie_count"), 0);
	long long id = jint(r.json, "id");
	e2e_resp_free(&r);
	return id;
}

static json_t *id_list(const long long *ids, int n, unsigned mask)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		if (mask & B(i))
			json_array_append_new(a, json_integer(ids[i]));
	return a;
}

/* The body that creates movie i. */
static json_t *movie_body(int i)
{
	const struct movie_def *m = &movies[i];
	return harness_json(
		"{s:s,s:i,s:i,s:f,s:i,s:s,s:s,s:I,s:o,s:o,s:o}", "name", m->name, "year", m->year,
		"time", m->time, "imdb", m->imdb, "votes", m->votes, "description", m->description,
		"price", m->price, "certification_id", (json_int_t)w.cert[m->cert], "genre_ids",
		id_list(w.genre, NGENRES, m->genres), "star_ids", id_list(w.star, NSTARS, m->stars),
		"director_ids", id_list(w.director, NDIRECTORS, m->directors));
}

/* Everything a test starts from: the API, three users, the lookups and the
 * 30 movies through the API, then engagement and creation times in SQL. */
static void boot(void)
{
	start_api();
	create_users();
	for (int i = 0; i < NGENRES; i++)
		w.genre[i] = create_lookup("genres", genre_names[i]);
	w.western = create_lookup("genres", "Western");
	for (int i = 0; i < NCERTS; i++)
		w.cert[i] = create_lookup("certifications", cert_names[i]);
	for (int i = 0; i < NSTARS; i++)
		w.star[i] = create_lookup("stars", star_names[i]);
	for (int i = 0; i < NDIRECTORS; i++)
		w.director[i] = create_lookup("directors", director_names[i]);
	for (int i = 0; i < NMOVIES; i++) {
		struct e2e_resp r = harness_call("POST", "/api/v1/movies", w.mod, movie_body(i));
		expect(&r, 201, NULL);
		w.movie[i] = jint(r.json, "id");
		ck_assert_str_eq(jstr(r.json, "name"), movies[i].name);
		e2e_resp_free(&r);
	}
	struct buf sql = BUF_INIT;
	for (int i = 0; i < NMOVIES; i++) {
		const struct movie_def *m = &movies[i];
		for (int u = 0; u < NUSERS; u++) {
			long long uid = w.user_id[u];
			if (m->react[u])
				buf_printf(&sql,
					   "INSERT INTO movie_reactions (user_id, movie_id, "
					   "reaction) VALUES (%lld, %lld, '%s');",
					   uid, w.movie[i], m->react[u] > 0 ? "like" : "dislike");
			if (m->score[u])
				buf_printf(&sql,
					   "INSERT INTO movie_ratings (user_id, movie_id, score) "
					   "VALUES (%lld, %lld, %d);",
					   uid, w.movie[i], m->score[u]);
			if (m->fav[u])
				buf_printf(&sql,
					   "INSERT INTO favorites (user_id, movie_id) VALUES "
					   "(%lld, %lld);",
					   uid, w.movie[i]);
		}
		buf_printf(&sql,
			   "UPDATE movies SET created_at = timestamptz '2024-01-01 00:00:00+00' "
			   "+ make_interval(hours => %d) WHERE id = %lld;",
			   m->created_h, w.movie[i]);
	}
	harness_sql_ok(sql.data);
	buf_free(&sql);
}

/* --- what the catalog should answer --- */

static int price_cents(const char *p)
{
	return (int)(strtod(p, NULL) * 100 + 0.5);
}

static int count_users(const struct movie_def *m, int what)
{
	int n = 0;
	for (int u = 0; u < NUSERS; u++)
		n += what == 0	 ? m->react[u] > 0
		     : what == 1 ? m->react[u] < 0
		     : what == 2 ? m->score[u] > 0
				 : m->fav[u];
	return n;
}

static int rating_sum(const struct movie_def *m)
{
	return m->score[MOD] + m->score[USR];
}

/* Twice the popularity of migrations/0005: 3 x favorites + 2 x likes -
 * dislikes + ratings x (average - 5) / 2 (no comments or purchases here). */
static int popularity2(const struct movie_def *m)
{
	return 6 * count_users(m, 3) + 4 * count_users(m, 0) - 2 * count_users(m, 1) +
	       rating_sum(m) - 5 * count_users(m, 2);
}

static const char *sort_key; /* for cmp_index */

/* -1, 0, 1 of a against b (movie indexes) under sort key k (ids break
 * ties in the sort's direction; unrated movies last in both directions). */
static int cmp_movies(int a, int b, const char *k)
{
	const struct movie_def *x = &movies[a], *y = &movies[b];
	bool desc = k[0] == '-';
	const char *key = desc ? k + 1 : k;
	int c = 0;
	if (strcmp(k, "relevance") == 0) {
		/* equal ranks: most popular first, then by descending id (the
		 * popularity index walked backwards) */
		c = (popularity2(y) > popularity2(x)) - (popularity2(y) < popularity2(x));
		return c ? c : (w.movie[b] > w.movie[a]) - (w.movie[b] < w.movie[a]);
	}
	if (strcmp(key, "name") == 0) {
		c = strcmp(x->name, y->name);
	} else if (strcmp(key, "year") == 0) {
		c = (x->year > y->year) - (x->year < y->year);
	} else if (strcmp(key, "price") == 0) {
		c = (price_cents(x->price) > price_cents(y->price)) -
		    (price_cents(x->price) < price_cents(y->price));
	} else if (strcmp(key, "imdb") == 0) {
		c = (x->imdb > y->imdb) - (x->imdb < y->imdb);
	} else if (strcmp(key, "votes") == 0) {
		c = (x->votes > y->votes) - (x->votes < y->votes);
	} else if (strcmp(key, "popularity") == 0) {
		c = (popularity2(x) > popularity2(y)) - (popularity2(x) < popularity2(y));
	} else if (strcmp(key, "created_at") == 0) {
		c = (x->created_h > y->created_h) - (x->created_h < y->created_h);
	} else if (strcmp(key, "rating") == 0) {
		int nx = count_users(x, 2), ny = count_users(y, 2);
		if ((nx > 0) != (ny > 0))
			return nx > 0 ? -1 : 1;
		if (nx > 0) {
			long l = (long)rating_sum(x) * ny, r = (long)rating_sum(y) * nx;
			c = (l > r) - (l < r);
		}
	} else {
		ck_abort_msg("unknown sort %s", k);
	}
	if (c == 0)
		c = (w.movie[a] > w.movie[b]) - (w.movie[a] < w.movie[b]);
	return desc ? -c : c;
}

/* Whether movies a and b are equal under key k (rated, for rating). */
static bool same_key(int a, int b, const char *k)
{
	const struct movie_def *x = &movies[a], *y = &movies[b];
	if (strcmp(k, "name") == 0)
		return strcmp(x->name, y->name) == 0;
	if (strcmp(k, "year") == 0)
		return x->year == y->year;
	if (strcmp(k, "price") == 0)
		return price_cents(x->price) == price_cents(y->price);
	if (strcmp(k, "imdb") == 0)
		return x->imdb == y->imdb;
	if (strcmp(k, "votes") == 0)
		return x->votes == y->votes;
	if (strcmp(k, "popularity") == 0)
		return popularity2(x) == popularity2(y);
	if (strcmp(k, "created_at") == 0)
		return x->created_h == y->created_h;
	return count_users(x, 2) && count_users(y, 2) &&
	       rating_sum(x) * count_users(y, 2) == rating_sum(y) * count_users(x, 2);
}

static int cmp_index(const void *a, const void *b)
{
	return cmp_movies(*(const int *)a, *(const int *)b, sort_key);
}

/* A query of GET /movies (or /favorites) and the predicate it means. */
struct q {
	int year, year_min, year_max;	 /* 0: not set */
	const char *imdb_min, *imdb_max; /* as sent; NULL: not set */
	const char *price_min, *price_max;
	int genre, cert, star, director; /* index + 1; 0: not set */
	const char *sort;		 /* NULL: the default, -popularity */
	int favorites_of;		 /* 0: GET /movies; MOD + 1 or USR + 1: /favorites */
};

static bool q_match(const struct q *q, int i)
{
	const struct movie_def *m = &movies[i];
	return (!q->year || m->year == q->year) && (!q->year_min || m->year >= q->year_min) &&
	       (!q->year_max || m->year <= q->year_max) &&
	       (!q->imdb_min || m->imdb >= strtod(q->imdb_min, NULL)) &&
	       (!q->imdb_max || m->imdb <= strtod(q->imdb_max, NULL)) &&
	       (!q->price_min || price_cents(m->price) >= price_cents(q->price_min)) &&
	       (!q->price_max || price_cents(m->price) <= price_cents(q->price_max)) &&
	       (!q->genre || (m->genres & B(q->genre - 1))) &&
	       (!q->cert || m->cert == q->cert - 1) && (!q->star || (m->stars & B(q->star - 1))) &&
	       (!q->director || (m->directors & B(q->director - 1))) &&
	       (!q->favorites_of || m->fav[q->favorites_of - 1]);
}

/* The expected movie indexes of q, in order; returns how many. */
static int q_expect(const struct q *q, int *out)
{
	int n = 0;
	for (int i = 0; i < NMOVIES; i++)
		if (q_match(q, i))
			out[n++] = i;
	sort_key = q->sort ? q->sort : "-popularity";
	qsort(out, (size_t)n, sizeof(int), cmp_index);
	return n;
}

/* The query string of q (without page parameters). */
static const char *q_string(const struct q *q)
{
	static char s[1024];
	size_t o = 0;
	s[0] = '\0';
#define ADD(...) o += (size_t)snprintf(s + o, sizeof(s) - o, __VA_ARGS__)
	if (q->year)
		ADD("&year=%d", q->year);
	if (q->year_min)
		ADD("&year_min=%d", q->year_min);
	if (q->year_max)
		ADD("&year_max=%d", q->year_max);
	if (q->imdb_min)
		ADD("&imdb_min=%s", q->imdb_min);
	if (q->imdb_max)
		ADD("&imdb_max=%s", q->imdb_max);
	if (q->price_min)
		ADD("&price_min=%s", q->price_min);
	if (q->price_max)
		ADD("&price_max=%s", q->price_max);
	if (q->genre)
		ADD("&genre=%lld", w.genre[q->genre - 1]);
	if (q->cert)
		ADD("&certification=%lld", w.cert[q->cert - 1]);
	if (q->star)
		ADD("&star=%lld", w.star[q->star - 1]);
	if (q->director)
		ADD("&director=%lld", w.director[q->director - 1]);
	if (q->sort)
		ADD("&sort=%s", urlenc(q->sort));
#undef ADD
	ck_assert(o < sizeof(s));
	return s;
}

/* One page of a list, checked for the envelope's shape. */
struct list {
	long long ids[128];
	int n;
	long long page, per_page, total, total_pages;
	char prev[1024], next[1024]; /* "" for null */
	char cursor[1024];	     /* next_cursor, "" for null */
	bool exact;		     /* total_items_exact */
	json_t *items;		     /* owned */
};

#define get_list(path, bearer, l) get_list_at(path, bearer, l, __LINE__)
static void get_list_at(const char *path, const char *bearer, struct list *l, int line)
{
	struct e2e_resp r = harness_call("GET", path, bearer, NULL);
	expect_at(&r, 200, NULL, line);
	memset(l, 0, sizeof(*l));
	static const char *const keys[] = {"items",	  "page",      "per_page",  "total_items",
					   "total_pages", "prev_page", "next_page", NULL};
	/* The movie lists add the count's exactness and the keyset cursor. */
	static const char *const movie_keys[] = {
		"items",     "page",	  "per_page",	       "total_items", "total_pages",
		"prev_page", "next_page", "total_items_exact", "next_cursor", NULL};
	size_t ml = strlen("/api/v1/movies");
	bool movie_list = (strncmp(path, "/api/v1/movies", ml) == 0 &&
			   (path[ml] == '\0' || path[ml] == '?')) ||
			  strncmp(path, "/api/v1/favorites", 17) == 0 ||
			  strncmp(path, "/api/v1/purchases", 17) == 0;
	harness_assert_keys(r.json, movie_list ? movie_keys : keys, "page envelope");
	if (movie_list) {
		const json_t *c = json_object_get(r.json, "next_cursor");
		ck_assert_msg(json_is_boolean(json_object_get(r.json, "total_items_exact")),
			      "line %d: total_items_exact", line);
		ck_assert_msg(json_is_null(c) || json_is_string(c), "line %d: next_cursor", line);
		snprintf(l->cursor, sizeof(l->cursor), "%s",
			 json_is_string(c) ? json_string_value(c) : "");
		l->exact = json_is_true(json_object_get(r.json, "total_items_exact"));
	}
	l->items = json_incref(json_object_get(r.json, "items"));
	ck_assert_msg(json_is_array(l->items), "line %d: items is not an array", line);
	size_t i;
	json_t *it;
	json_array_foreach (l->items, i, it) {
		ck_assert_int_lt(l->n, 128);
		l->ids[l->n++] = jint(it, "id");
	}
	l->page = jint(r.json, "page");
	l->per_page = jint(r.json, "per_page");
	l->total = jint(r.json, "total_items");
	l->total_pages = jint(r.json, "total_pages");
	ck_assert_int_eq(l->total_pages, (l->total + l->per_page - 1) / l->per_page);
	const json_t *p = json_object_get(r.json, "prev_page"),
		     *n = json_object_get(r.json, "next_page");
	ck_assert_msg(json_is_null(p) || json_is_string(p), "line %d: prev_page", line);
	ck_assert_msg(json_is_null(n) || json_is_string(n), "line %d: next_page", line);
	snprintf(l->prev, sizeof(l->prev), "%s", json_is_string(p) ? json_string_value(p) : "");
	snprintf(l->next, sizeof(l->next), "%s", json_is_string(n) ? json_string_value(n) : "");
	e2e_resp_free(&r);
}

static void list_free(struct list *l)
{
	json_decref(l->items);
	l->items = NULL;
}

/* The names of movie ids, for failure messages. */
static const char *names_of_ids(const long long *ids, int n)
{
	static char s[4096];
	size_t o = 0;
	s[0] = '\0';
	for (int k = 0; k < n && o < sizeof(s) - 64; k++) {
		const char *name = "?";
		int year = 0;
		for (int i = 0; i < NMOVIES; i++)
			if (w.movie[i] == ids[k]) {
				name = movies[i].name;
				year = movies[i].year;
			}
		o += (size_t)snprintf(s + o, sizeof(s) - o, "%s%s (%d)", k ? ", " : "", name, year);
	}
	return s;
}

/* Asserts that the list holds exactly the movies of indexes want, in
 * that order. */
#define assert_movies(l, want, n, what) assert_movies_at(l, want, n, what, __LINE__)
static void assert_movies_at(const struct list *l, const int *want, int n, const char *what,
			     int line)
{
	long long ids[128];
	for (int k = 0; k < n; k++)
		ids[k] = w.movie[want[k]];
	bool same = l->n == n;
	for (int k = 0; same && k < n; k++)
		same = l->ids[k] == ids[k];
	if (!same) {
		char want_s[4096];
		snprintf(want_s, sizeof(want_s), "%s", names_of_ids(ids, n));
		ck_abort_msg("line %d: %s:\n  got  [%s]\n  want [%s]", line, what,
			     names_of_ids(l->ids, l->n), want_s);
	}
}

/* Runs q on one page of 100 and compares with the expectation, total
 * included. */
#define check_q(...) check_q_at(&(struct q){__VA_ARGS__}, __LINE__)
static void check_q_at(const struct q *q, int line)
{
	int want[NMOVIES];
	int n = q_expect(q, want);
	const char *path = q->favorites_of ? "/api/v1/favorites" : "/api/v1/movies";
	const char *bearer = q->favorites_of == MOD + 1	  ? w.mod
			     : q->favorites_of == USR + 1 ? w.user
							  : NULL;
	const char *url = harness_fmt("%s?per_page=100%s", path, q_string(q));
	struct list l;
	get_list_at(url, bearer, &l, line);
	assert_movies_at(&l, want, n, url, line);
	ck_assert_msg(l.total == n, "line %d: %s: total_items %lld, want %d", line, url, l.total,
		      n);
	list_free(&l);
}

/* Indexes of movies by name (and year when names repeat). */
static int movie_index(const char *name, int year)
{
	for (int i = 0; i < NMOVIES; i++)
		if (strcmp(movies[i].name, name) == 0 && (!year || movies[i].year == year))
			return i;
	ck_abort_msg("no movie %s", name);
	return -1;
}

/* Searches GET /movies?search=text&<extra> and compares with want (movie
 * indexes, in order). */
#define check_search(text, extra, ...)                           \
	check_search_at(text, extra, (const int[]){__VA_ARGS__}, \
			(int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int)) - 1, __LINE__)
static void check_search_at(const char *text, const char *extra, const int *want, int n, int line)
{
	struct list l;
	const char *url =
		harness_fmt("/api/v1/movies?per_page=100&search=%s%s", urlenc(text), extra);
	get_list_at(url, NULL, &l, line);
	assert_movies_at(&l, want, n, url, line);
	ck_assert_int_eq(l.total, n);
	list_free(&l);
}

/* Movie indexes having all bits in the mask picked by mask_of, in the
 * order of a search that ranks them all alike. */
static int movies_with(unsigned mask_of(const struct movie_def *), unsigned bits, int *out)
{
	int n = 0;
	for (int i = 0; i < NMOVIES; i++)
		if ((mask_of(&movies[i]) & bits) == bits)
			out[n++] = i;
	sort_key = "relevance";
	qsort(out, (size_t)n, sizeof(int), cmp_index);
	return n;
}

static unsigned stars_of(const struct movie_def *m)
{
	return m->stars;
}

static unsigned directors_of(const struct movie_def *m)
{
	return m->directors;
}

#define END -1

/* --- tests: the movie list --- */

START_TEST(movie_filters)
{
	boot();
	/* Nothing: all, most popular first. */
	check_q(.sort = NULL);
	/* Each filter alone. */
	check_q(.year = 2001);
	check_q(.year = 1985);
	check_q(.year = 1900);
	check_q(.year_min = 2000);
	check_q(.year_max = 1950);
	check_q(.year_min = 1950, .year_max = 1985);
	check_q(.year_min = 1985, .year_max = 1985);
	check_q(.year_min = 2000, .year_max = 1990); /* an empty range is no error */
	check_q(.imdb_min = "8.3");
	check_q(.imdb_max = "7.9");
	check_q(.imdb_min = "7.5", .imdb_max = "8.05");
	check_q(.imdb_min = "0", .imdb_max = "10");
	check_q(.price_min = "4.99");
	check_q(.price_max = "2.49");
	check_q(.price_max = "0");
	check_q(.price_min = "3", .price_max = "5.5");
	check_q(.price_min = "10.00");
	for (int g = 0; g < NGENRES; g++)
		check_q(.genre = g + 1);
	for (int c = 0; c < NCERTS; c++)
		check_q(.cert = c + 1);
	for (int s = 0; s < NSTARS; s++)
		check_q(.star = s + 1);
	for (int d = 0; d < NDIRECTORS; d++)
		check_q(.director = d + 1);
	/* Combinations. */
	check_q(.genre = DRAMA + 1, .year_min = 1950, .year_max = 2005, .sort = "-imdb");
	check_q(.genre = THRILLER + 1, .cert = CERT_R + 1, .sort = "price");
	check_q(.star = HOPPER + 1, .director = KUROSAWA + 1);
	check_q(.genre = COMEDY + 1, .imdb_min = "8", .price_max = "4.99", .sort = "name");
	check_q(.star = TURING + 1, .year_max = 1990, .sort = "-year");
	/* A filter on an id nobody uses, or that does not exist, finds nothing. */
	struct list l;
	get_list(harness_fmt("/api/v1/movies?genre=%lld", w.western), NULL, &l);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(l.total, 0);
	list_free(&l);
	get_list("/api/v1/movies?star=999999&director=999999&certification=999999", NULL, &l);
	ck_assert_int_eq(l.total, 0);
	list_free(&l);

	/* Bad values: 422 naming each parameter. */
	static const struct {
		const char *query, *field;
	} bad[] = {
		{"year=1887", "year"},
		{"year=2101", "year"},
		{"year=abc", "year"},
		{"year=", "year"},
		{"year=2001.0", "year"},
		{"year=%2B2001", "year"},
		{"year_min=20x", "year_min"},
		{"year_max=-1", "year_max"},
		{"imdb_min=10.5", "imdb_min"},
		{"imdb_min=-1", "imdb_min"},
		{"imdb_max=8.123", "imdb_max"},
		{"imdb_max=8.", "imdb_max"},
		{"imdb_max=.5", "imdb_max"},
		{"imdb_min=nan", "imdb_min"},
		{"price_min=1e3", "price_min"},
		{"price_max=abc", "price_max"},
		{"price_max=4.999", "price_max"},
		{"price_min=100000000", "price_min"},
		{"genre=0", "genre"},
		{"genre=-1", "genre"},
		{"genre=x", "genre"},
		{"genre=1000000000000000000", "genre"},
		{"star=999999999999999999999", "star"},
		{"certification=abc", "certification"},
		{"star=0", "star"},
		{"director=1.5", "director"},
		{"sort=bogus", "sort"},
		{"sort=", "sort"},
		{"sort=%2Byear", "sort"},
		{"sort=-", "sort"},
		{"sort=YEAR", "sort"},
		{"sort=relevance", "sort"},
		{"per_page=0", "per_page"},
		{"per_page=101", "per_page"},
		{"page=0", "page"},
		{"page=abc", "page"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		harness_check_invalid("GET", harness_fmt("/api/v1/movies?%s", bad[i].query), NULL,
				      NULL, bad[i].field, NULL);
		harness_check_invalid("GET", harness_fmt("/api/v1/favorites?%s", bad[i].query),
				      w.user, NULL, bad[i].field, NULL);
	}
	/* Every bad parameter is named at once. */
	struct e2e_resp r = harness_call(
		"GET", "/api/v1/movies?year=abc&genre=0&sort=x&per_page=0&price_max=-1", NULL,
		NULL);
	harness_expect_invalid(&r, "year", "from 1888 to 2100");
	harness_expect_invalid(&r, "genre", NULL);
	harness_expect_invalid(&r, "sort", "created_at");
	harness_expect_invalid(&r, "per_page", "1 to 100");
	harness_expect_invalid(&r, "price_max", "99999999.99");
	e2e_resp_free(&r);
}
END_TEST

static const char *const all_sorts[] = {
	"name",	      "-name",	     "year",	   "-year",	  "price",  "-price",
	"imdb",	      "-imdb",	     "votes",	   "-votes",	  "rating", "-rating",
	"popularity", "-popularity", "created_at", "-created_at", NULL};

START_TEST(movie_sorts)
{
	boot();
	/* The data has ties under every key, so the id tie-break is exercised. */
	for (const char *const *s = all_sorts; *s; s += 2) {
		bool tie = false;
		for (int a = 0; a < NMOVIES && !tie; a++)
			for (int b = a + 1; b < NMOVIES && !tie; b++)
				tie = same_key(a, b, *s);
		ck_assert_msg(tie, "the catalog has no tie for sort %s", *s);
	}
	for (const char *const *s = all_sorts; *s; s++) {
		/* All on one page. */
		check_q(.sort = *s);
		/* The same order across pages of 7: stable, no overlap, no gap. */
		int want[NMOVIES];
		int n = q_expect(&(struct q){.sort = *s}, want);
		for (int page = 1; page <= 5; page++) {
			struct list l;
			get_list(harness_fmt("/api/v1/movies?sort=%s&per_page=7&page=%d",
					     urlenc(*s), page),
				 NULL, &l);
			int from = (page - 1) * 7, count = n - from < 7 ? n - from : 7;
			assert_movies(&l, want + from, count,
				      harness_fmt("sort=%s page %d", *s, page));
			ck_assert_int_eq(l.total, NMOVIES);
			list_free(&l);
		}
	}
	/* Unrated movies come last in both directions. */
	struct list l;
	get_list("/api/v1/movies?sort=-rating&per_page=100", NULL, &l);
	ck_assert_msg(
		json_is_null(json_object_get(json_array_get(l.items, (size_t)l.n - 1), "rating")),
		"-rating: the last movie is rated");
	ck_assert(json_is_number(json_object_get(json_array_get(l.items, 0), "rating")));
	list_free(&l);
	get_list("/api/v1/movies?sort=rating&per_page=100", NULL, &l);
	ck_assert(
		json_is_null(json_object_get(json_array_get(l.items, (size_t)l.n - 1), "rating")));
	ck_assert(json_is_number(json_object_get(json_array_get(l.items, 0), "rating")));
	list_free(&l);
	/* Sort with filters, and on the favorites list. */
	check_q(.genre = DRAMA + 1, .sort = "-votes");
	check_q(.favorites_of = USR + 1);
	check_q(.favorites_of = USR + 1, .sort = "price");
	check_q(.favorites_of = USR + 1, .sort = "-name");
	check_q(.favorites_of = USR + 1, .genre = COMEDY + 1);
	check_q(.favorites_of = MOD + 1, .sort = "year");
}
END_TEST

START_TEST(movie_pagination)
{
	boot();
	struct list l;
	/* Defaults: page 1 of 20. */
	get_list("/api/v1/movies", NULL, &l);
	ck_assert_int_eq(l.n, 20);
	ck_assert_int_eq(l.page, 1);
	ck_assert_int_eq(l.per_page, 20);
	ck_assert_int_eq(l.total, NMOVIES);
	ck_assert_int_eq(l.total_pages, 2);
	ck_assert_str_eq(l.prev, "");
	ck_assert_str_eq(l.next, "/api/v1/movies?page=2&per_page=20");
	list_free(&l);
	/* Links keep the other parameters. */
	get_list("/api/v1/movies?year_min=1900&sort=name&per_page=7&page=2", NULL, &l);
	ck_assert_int_eq(l.n, 7);
	ck_assert_int_eq(l.total_pages, 5);
	ck_assert_str_eq(l.prev, "/api/v1/movies?year_min=1900&sort=name&page=1&per_page=7");
	ck_assert_str_eq(l.next, "/api/v1/movies?year_min=1900&sort=name&page=3&per_page=7");
	list_free(&l);
	/* Following next_page from the first page visits every movie once. */
	int want[NMOVIES];
	int n = q_expect(&(struct q){.sort = "-year"}, want);
	char next[1024] = "/api/v1/movies?sort=-year&per_page=4";
	int seen = 0, pages = 0;
	while (next[0]) {
		get_list(next, NULL, &l);
		assert_movies(&l, want + seen, l.n, next);
		seen += l.n;
		pages++;
		snprintf(next, sizeof(next), "%s", l.next);
		list_free(&l);
		ck_assert_int_le(pages, 8);
	}
	ck_assert_int_eq(seen, n);
	ck_assert_int_eq(pages, 8);
	/* The last page. */
	get_list("/api/v1/movies?per_page=7&page=5", NULL, &l);
	ck_assert_int_eq(l.n, 2);
	ck_assert_str_eq(l.prev, "/api/v1/movies?page=4&per_page=7");
	ck_assert_str_eq(l.next, "");
	list_free(&l);
	/* Past the end: no items, the right total, prev = the last page. */
	get_list("/api/v1/movies?per_page=7&page=6", NULL, &l);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(l.page, 6);
	ck_assert_int_eq(l.total, NMOVIES);
	ck_assert_int_eq(l.total_pages, 5);
	ck_assert_str_eq(l.prev, "/api/v1/movies?page=5&per_page=7");
	ck_assert_str_eq(l.next, "");
	list_free(&l);
	get_list("/api/v1/movies?genre=1&sort=-imdb&page=1000000&per_page=100", NULL, &l);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_gt(l.total, 0);
	ck_assert_str_eq(l.prev, "/api/v1/movies?genre=1&sort=-imdb&page=1&per_page=100");
	list_free(&l);
	/* Past the end of nothing: no previous page at all. */
	get_list("/api/v1/movies?year=1900&page=3", NULL, &l);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(l.total, 0);
	ck_assert_int_eq(l.total_pages, 0);
	ck_assert_str_eq(l.prev, "");
	ck_assert_str_eq(l.next, "");
	list_free(&l);
	/* A search is kept, encoded. */
	get_list("/api/v1/movies?search=solaris%21&per_page=1", NULL, &l);
	ck_assert_int_eq(l.total, 2);
	ck_assert_str_eq(l.next, "/api/v1/movies?search=solaris%21&page=2&per_page=1");
	list_free(&l);
	/* One per page, and the maximum. */
	get_list("/api/v1/movies?per_page=1&page=30", NULL, &l);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.total_pages, 30);
	list_free(&l);
	get_list("/api/v1/movies?per_page=100", NULL, &l);
	ck_assert_int_eq(l.n, NMOVIES);
	ck_assert_int_eq(l.total_pages, 1);
	list_free(&l);
	/* Bounds. */
	harness_check_invalid("GET", "/api/v1/movies?per_page=0", NULL, NULL, "per_page",
			      "1 to 100");
	harness_check_invalid("GET", "/api/v1/movies?per_page=101", NULL, NULL, "per_page",
			      "1 to 100");
	harness_check_invalid("GET", "/api/v1/movies?per_page=-5", NULL, NULL, "per_page", NULL);
	harness_check_invalid("GET", "/api/v1/movies?page=abc", NULL, NULL, "page", NULL);
	harness_check_invalid("GET", "/api/v1/movies?page=0", NULL, NULL, "page", NULL);
	harness_check_invalid("GET", "/api/v1/movies?page=1000001", NULL, NULL, "page", NULL);
	harness_check_invalid("GET", "/api/v1/movies?page=1.5", NULL, NULL, "page", NULL);
}
END_TEST

START_TEST(movie_search)
{
	boot();
	int amelie = movie_index("Amélie", 0), casablanca = movie_index("Casablanca", 0);
	int harbor = movie_index("Harbor Lights", 0), jaws = movie_index("Jaws", 0);
	int xanadu = movie_index("Xanadu", 0), tampopo = movie_index("Tampopo", 0);
	int rashomon = movie_index("Rashomon", 0), yojimbo = movie_index("Yojimbo", 0);
	int ikiru = movie_index("Ikiru", 0), sol72 = movie_index("Solaris", 1972);
	int sol02 = movie_index("Solaris", 2002);
	int want[NMOVIES], n;

	/* Title, by word prefix, in any case, non-ASCII included. */
	check_search("casablanca", "", casablanca, END);
	check_search("CASA", "", casablanca, END);
	check_search("Amélie", "", amelie, END);
	check_search("amélie", "", amelie, END);
	check_search("AMÉLIE", "", amelie, END);
	check_search("amé", "", amelie, END);
	/* Description. */
	check_search("lighthouse", "", harbor, END);
	check_search("NOODLE", "", tampopo, END);
	/* Star and director names (non-ASCII in any case too). */
	n = movies_with(stars_of, B(HOPPER), want);
	check_search_at("hopper", "", want, n, __LINE__);
	check_search_at("Grace Hopper", "", want, n, __LINE__);
	n = movies_with(stars_of, B(PIAF), want);
	check_search_at("édith", "", want, n, __LINE__);
	check_search_at("ÉDITH PIAF", "", want, n, __LINE__);
	n = movies_with(directors_of, B(KUROSAWA), want);
	check_search_at("kurosawa", "", want, n, __LINE__);
	check_search_at("Agnès", "", want, movies_with(directors_of, B(VARDA), want), __LINE__);
	/* Every word must match (in any of the fields). */
	int both[2] = {rashomon, yojimbo};
	sort_key = "relevance";
	qsort(both, 2, sizeof(int), cmp_index);
	check_search_at("grace kurosawa", "", both, 2, __LINE__);
	check_search("kurosawa bureaucrat", "", ikiru, END);
	check_search("casablanca lighthouse", "", END);
	check_search("zzzz", "", END);
	/* Operators are plain text. */
	n = movies_with(stars_of, B(HOPPER), want);
	check_search_at("hopper & | ! ( ) :* ' \\", "", want, n, __LINE__);
	check_search_at("hopper:*", "", want, n, __LINE__);
	/* Without sort: by relevance (title first), then popularity, then id. */
	ck_assert_int_gt(popularity2(&movies[jaws]), popularity2(&movies[xanadu]));
	ck_assert_int_lt(popularity2(&movies[harbor]), popularity2(&movies[xanadu]));
	check_search("harbor", "", harbor, jaws, xanadu, END);
	struct list l;
	get_list("/api/v1/movies?search=Harbor&per_page=2", NULL, &l);
	ck_assert_int_eq(l.total, 3);
	assert_movies(&l, ((int[]){harbor, jaws}), 2, "search=Harbor&per_page=2");
	list_free(&l);
	/* With sort, the sort decides. */
	check_search("harbor", "&sort=name", harbor, jaws, xanadu, END);
	check_search("harbor", "&sort=-year", harbor, xanadu, jaws, END);
	check_search("solaris", "&sort=year", sol72, sol02, END);
	check_search("solaris", "&sort=-year", sol02, sol72, END);
	/* With filters. */
	check_search("kurosawa", "&year_min=1955", yojimbo, END);
	check_search("harbor", harness_fmt("&genre=%lld", w.genre[COMEDY]), xanadu, END);
	/* Nothing to search for: no filter. */
	get_list("/api/v1/movies?search=&per_page=100", NULL, &l);
	ck_assert_int_eq(l.total, NMOVIES);
	list_free(&l);
	get_list("/api/v1/movies?search=%21%21%21&per_page=100", NULL, &l);
	ck_assert_int_eq(l.total, NMOVIES);
	list_free(&l);
	/* At most 200 characters (not bytes), valid UTF-8. */
	char text[1024];
	memset(text, 'a', 201);
	text[201] = '\0';
	harness_check_invalid("GET", harness_fmt("/api/v1/movies?search=%s", text), NULL, NULL,
			      "search", "at most 200 characters");
	text[200] = '\0';
	check_search(text, "", END);
	text[0] = '\0';
	for (int i = 0; i < 200; i++)
		strcat(text, i % 10 == 9 ? " " : "é");
	check_search(text, "", END);
	strcat(text, "é");
	harness_check_invalid("GET", harness_fmt("/api/v1/movies?search=%s", urlenc(text)), NULL,
			      NULL, "search", "at most 200 characters");
	/* Long words and many of them are cut, not refused. */
	text[0] = '\0';
	for (int i = 0; i < 199; i++)
		strcat(text, "\xF0\x9F\x8E\xAC"); /* a clapper board, 4 bytes */
	check_search(text, "", END);
	text[0] = '\0';
	for (int i = 0; i < 10; i++)
		strcat(text, "casablanca1234 ");
	/* no title has casablanca1234: the similar title comes instead */
	check_search(text, "", casablanca, END);
	text[0] = '\0';
	for (int i = 0; i < 8 * 25; i++)
		strcat(text, i % 25 == 24 ? " " : "\xF0\x9F\x8E\xAC");
	check_search(text, "", END);
	/* 8 words of 25 characters, 680 bytes: the later words are dropped. */
	text[0] = '\0';
	for (int i = 0; i < 8; i++) {
		strcat(text, "casa");
		for (int k = 0; k < 20; k++)
			strcat(text, "\xF0\x9F\x8E\xAC");
		strcat(text, " ");
	}
	check_search(text, "", movie_index("Casablanca", 0), END);
	harness_check_invalid("GET", "/api/v1/movies?search=%FF", NULL, NULL, "search", "UTF-8");
	harness_check_invalid("GET", "/api/v1/movies?search=ab%C3", NULL, NULL, "search", "UTF-8");
	harness_check_invalid("GET", "/api/v1/movies?search=%ED%A0%80", NULL, NULL, "search",
			      "UTF-8");
}
END_TEST

/* Any Unicode text is a search: Unicode spaces and punctuation separate
 * words, and nothing typed reaches to_tsquery as syntax (each used to
 * answer 500). */
START_TEST(movie_search_unicode)
{
	boot();
	int casablanca = movie_index("Casablanca", 0), harbor = movie_index("Harbor Lights", 0);
	int rashomon = movie_index("Rashomon", 0), yojimbo = movie_index("Yojimbo", 0);
	int want[NMOVIES], n;
	int both[2] = {rashomon, yojimbo};
	sort_key = "relevance";
	qsort(both, 2, sizeof(int), cmp_index);

	/* Words joined by U+3000 (ideographic space), U+2003 (em space), NBSP,
	 * U+200B (zero width space), U+FEFF: every word must still match. */
	check_search("harbor\xE3\x80\x80lights", "", harbor, END);
	check_search("HARBOR\xE3\x80\x80LIGHT", "", harbor, END);
	/* No movie has both words: the titles with a similar word come instead
	 * (the misspelling fallback of docs/CATALOG.md "Search"). */
	check_search("harbor\xE3\x80\x80"
		     "casablanca",
		     "", casablanca, END);
	check_search_at("grace\xE2\x80\x83kurosawa", "", both, 2, __LINE__);
	n = movies_with(stars_of, B(PIAF), want);
	check_search_at("\xC3\x89"
			"dith\xC2\xA0piaf",
			"", want, n, __LINE__);
	check_search("harbor\xE2\x80\x8Blights", "", harbor, END);
	check_search("\xEF\xBB\xBF"
		     "casablanca",
		     "", casablanca, END);
	/* CJK and fullwidth punctuation: 「casablanca」, casablanca！ */
	check_search("\xE3\x80\x8C"
		     "casablanca\xE3\x80\x8D",
		     "", casablanca, END);
	check_search("casablanca\xEF\xBC\x81", "", casablanca, END);
	/* Emoji: no movie has one; next to a word they are dropped. */
	check_search("\xF0\x9F\x98\x80", "", END);
	check_search("casablanca\xF0\x9F\x98\x80", "", casablanca, END);
	check_search("\xF0\x9F\x8E\xAC harbor\xF0\x9F\x8E\xAC lights", "", harbor, END);
	/* Combining marks: "ame" + U+0301 + "lie" is not the precomposed é of
	 * the title (no normalisation), but it is a search; so is a lone mark. */
	check_search("ame\xCC\x81lie", "", END);
	check_search("\xCC\x81"
		     "casablanca",
		     "", casablanca, END);
	struct list l;
	get_list("/api/v1/movies?search=%CC%81&per_page=100", NULL, &l);
	ck_assert_int_eq(l.total, 0);
	list_free(&l);
	/* tsquery operators, quotes and backslashes are plain text. */
	get_list(harness_fmt("/api/v1/movies?search=%s", urlenc("a & b | !c:*")), NULL, &l);
	list_free(&l);
	check_search_at("hopper & | !kurosawa:*", "", both, 2, __LINE__);
	check_search_at("kurosawa <-> grace", "", both, 2, __LINE__);
	check_search("'casablanca'", "", casablanca, END);
	check_search("\"casablanca\"", "", casablanca, END);
	check_search("casablanca\\", "", casablanca, END);
	check_search("\\'casablanca\\'", "", casablanca, END);
	/* two words, casa and blanca: no title has both, a similar one comes */
	check_search("casa'blanca", "", casablanca, END);
	/* Nothing but separators: no search at all. */
	static const char *const blank[] = {
		"'", "\\", "''", "\"", "'\\'", "&|!:*()", "\xE3\x80\x80", "\xC2\xA0\xE2\x80\x83"};
	for (size_t i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
		get_list(harness_fmt("/api/v1/movies?per_page=100&search=%s", urlenc(blank[i])),
			 NULL, &l);
		ck_assert_int_eq(l.total, NMOVIES);
		list_free(&l);
	}
	/* The same on the other lists that take search. */
	get_list(harness_fmt("/api/v1/favorites?search=%s", urlenc("a\xE3\x80\x80'b")), w.user, &l);
	list_free(&l);
	get_list(harness_fmt("/api/v1/purchases?search=%s", urlenc("a\xE3\x80\x80'b")), w.user, &l);
	list_free(&l);
}
END_TEST

/* Web-search syntax (issue 15): "phrases", -word, or. */
START_TEST(movie_search_syntax)
{
	boot();
	int harbor = movie_index("Harbor Lights", 0), jaws = movie_index("Jaws", 0);
	int xanadu = movie_index("Xanadu", 0), ikiru = movie_index("Ikiru", 0);
	int tampopo = movie_index("Tampopo", 0), rashomon = movie_index("Rashomon", 0);
	int yojimbo = movie_index("Yojimbo", 0), casablanca = movie_index("Casablanca", 0);
	int oldboy = movie_index("Oldboy", 0), dune84 = movie_index("Dune", 1984);
	int dune21 = movie_index("Dune", 2021);
	struct list l;

	/* A phrase: its words in this order, next to each other, whole. */
	check_search("\"harbor lights\"", "", harbor, END);
	check_search("\"HARBOR LIGHTS\"", "", harbor, END);
	check_search("\"lights harbor\"", "", END);
	check_search("\"harbor light\"", "", END);
	check_search("\"desert planet\"", "&sort=year", dune84, dune21, END);
	check_search("\"planet desert\"", "", END);
	check_search("\"desert planet\" arrakis", "", dune21, END);
	check_search("\"harbor lights", "", harbor, END);			/* unclosed */
	check_search("\xE2\x80\x9Charbor lights\xE2\x80\x9D", "", harbor, END); /* curly quotes */
	/* -word: must not match (anywhere: title, names, description). */
	check_search("harbor -jaws", "", harbor, xanadu, END);
	check_search("harbor -lights", "", jaws, xanadu, END);
	check_search("harbor -\"great white\"", "", harbor, xanadu, END);
	check_search("harbor -\"white great\"", "", harbor, jaws, xanadu, END);
	check_search("kurosawa -samurai", "&sort=year", rashomon, ikiru, END);
	check_search("harbor -harb", "", harbor, jaws, xanadu, END); /* a whole word */
	check_search("harbor-lights", "", harbor, END);		     /* a dash inside a word */
	/* or: either side; AND binds tighter. */
	check_search("ikiru or tampopo", "&sort=year", ikiru, tampopo, END);
	check_search("Ikiru OR Tampopo", "&sort=year", ikiru, tampopo, END);
	check_search("casablanca or oldboy or zzzz", "&sort=year", casablanca, oldboy, END);
	check_search("kurosawa samurai or noodle", "&sort=year", yojimbo, tampopo, END);
	check_search("\"desert planet\" or \"harbor lights\"", "&sort=year", dune84, harbor, dune21,
		     END);
	/* A branch of only negations is left out; only negations: no search. */
	check_search("-jaws or harbor", "", harbor, jaws, xanadu, END);
	get_list("/api/v1/movies?search=-jaws&per_page=100", NULL, &l);
	ck_assert_int_eq(l.total, NMOVIES);
	list_free(&l);
	get_list(
		harness_fmt("/api/v1/movies?search=%s&per_page=100", urlenc("-\"great white\" -x")),
		NULL, &l);
	ck_assert_int_eq(l.total, NMOVIES);
	list_free(&l);
	/* A word PostgreSQL finds no letter in (an emoji) is dropped from the
	 * query; what is left must still need a positive match: nothing. */
	check_search("\xF0\x9F\x8E\xAC -jaws", "", END);
	check_search("\xF0\x9F\x8E\xAC or -jaws", "", END);
	/* Nothing typed is tsquery syntax, around the operators either. */
	check_search("-\"harbor or\" \"(jaws\\\" or !zzzz:*", "", jaws, END);
	check_search("jaws -'shark'", "", jaws, END); /* before ' a dash is punctuation */
}
END_TEST

/* --- tests: one movie --- */

static void assert_named_list(const json_t *a, const char *const *names, const long long *ids,
			      int count, unsigned mask, const char *what)
{
	/* [{id, name}] of the mask's entries, by name. */
	int idx[8], n = 0;
	for (int i = 0; i < count; i++)
		if (mask & B(i))
			idx[n++] = i;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (strcmp(names[idx[j]], names[idx[i]]) < 0) {
				int t = idx[i];
				idx[i] = idx[j];
				idx[j] = t;
			}
	ck_assert_msg(json_is_array(a) && json_array_size(a) == (size_t)n, "%s: %d entries", what,
		      n);
	for (int i = 0; i < n; i++) {
		const json_t *e = json_array_get(a, (size_t)i);
		static const char *const keys[] = {"id", "name", NULL};
		harness_assert_keys(e, keys, what);
		ck_assert_int_eq(jint(e, "id"), ids[idx[i]]);
		ck_assert_str_eq(jstr(e, "name"), names[idx[i]]);
	}
}

/* The fields a summary and the detail share, against movie i. */
static void assert_movie_values(const json_t *o, int i)
{
	const struct movie_def *m = &movies[i];
	ck_assert_int_eq(jint(o, "id"), w.movie[i]);
	ck_assert_uint_eq(strlen(jstr(o, "uuid")), 36);
	ck_assert_str_eq(jstr(o, "name"), m->name);
	ck_assert_int_eq(jint(o, "year"), m->year);
	ck_assert_int_eq(jint(o, "time"), m->time);
	ck_assert(json_number_value(json_object_get(o, "imdb")) == m->imdb);
	ck_assert_int_eq(jint(o, "votes"), m->votes);
	ck_assert_str_eq(jstr(o, "price"), m->price);
	const json_t *c = json_object_get(o, "certification");
	ck_assert_int_eq(jint(c, "id"), w.cert[m->cert]);
	ck_assert_str_eq(jstr(c, "name"), cert_names[m->cert]);
	assert_named_list(json_object_get(o, "genres"), genre_names, w.genre, NGENRES, m->genres,
			  "genres");
	ck_assert_int_eq(jint(o, "likes"), count_users(m, 0));
	ck_assert_int_eq(jint(o, "dislikes"), count_users(m, 1));
	ck_assert_int_eq(jint(o, "rating_count"), count_users(m, 2));
	const json_t *rating = json_object_get(o, "rating");
	if (count_users(m, 2) == 0)
		ck_assert_msg(json_is_null(rating), "%s: rating is not null", m->name);
	else
		ck_assert_msg(json_number_value(rating) ==
				      (double)rating_sum(m) / count_users(m, 2),
			      "%s: rating %g", m->name, json_number_value(rating));
	ck_assert_msg(json_number_value(json_object_get(o, "popularity")) == popularity2(m) / 2.0,
		      "%s: popularity %g, want %g", m->name,
		      json_number_value(json_object_get(o, "popularity")), popularity2(m) / 2.0);
}

static bool is_rfc3339_utc(const char *s)
{
	int y, mo, d, h, mi, se;
	char z;
	return s && strlen(s) == 20 &&
	       sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &z) == 7 &&
	       z == 'Z';
}

START_TEST(movie_detail)
{
	boot();
	static const char *const summary_keys[] = {
		"id",	      "uuid",	    "name",	   "year",   "time",
		"imdb",	      "votes",	    "meta_score",  "price",  "certification",
		"genres",     "likes",	    "dislikes",	   "rating", "rating_count",
		"popularity", "poster_url", "trailer_url", NULL};
	static const char *const detail_keys[] = {"id",
						  "uuid",
						  "name",
						  "year",
						  "time",
						  "imdb",
						  "votes",
						  "meta_score",
						  "gross",
						  "description",
						  "price",
						  "certification",
						  "genres",
						  "stars",
						  "directors",
						  "likes",
						  "dislikes",
						  "rating",
						  "rating_count",
						  "comment_count",
						  "favorite_count",
						  "popularity",
						  "created_at",
						  "updated_at",
						  "poster_url",
						  "trailer_url",
						  "has_feature",
						  "me",
						  NULL};
	/* Every summary of the list. */
	struct list l;
	get_list("/api/v1/movies?per_page=100&sort=name", NULL, &l);
	ck_assert_int_eq(l.n, NMOVIES);
	size_t k;
	json_t *it;
	json_array_foreach (l.items, k, it) {
		harness_assert_keys(it, summary_keys, "movie summary");
		for (int i = 0; i < NMOVIES; i++)
			if (w.movie[i] == jint(it, "id"))
				assert_movie_values(it, i);
		ck_assert(json_is_null(json_object_get(it, "meta_score")));
	}
	list_free(&l);
	/* Every detail, anonymous: me is null. */
	for (int i = 0; i < NMOVIES; i++) {
		const struct movie_def *m = &movies[i];
		struct e2e_resp r = harness_call(
			"GET", harness_fmt("/api/v1/movies/%lld", w.movie[i]), NULL, NULL);
		expect(&r, 200, NULL);
		harness_assert_keys(r.json, detail_keys, "movie detail");
		assert_movie_values(r.json, i);
		ck_assert_str_eq(jstr(r.json, "description"), m->description);
		assert_named_list(json_object_get(r.json, "stars"), star_names, w.star, NSTARS,
				  m->stars, "stars");
		assert_named_list(json_object_get(r.json, "directors"), director_names, w.director,
				  NDIRECTORS, m->directors, "directors");
		ck_assert(json_is_null(json_object_get(r.json, "meta_score")));
		ck_assert(json_is_null(json_object_get(r.json, "gross")));
		ck_assert_int_eq(jint(r.json, "comment_count"), 0);
		ck_assert_int_eq(jint(r.json, "favorite_count"), count_users(m, 3));
		ck_assert(is_rfc3339_utc(jstr(r.json, "updated_at")));
		char want_created[32];
		snprintf(want_created, sizeof(want_created), "2024-01-01T%02d:00:00Z",
			 m->created_h);
		ck_assert_str_eq(jstr(r.json, "created_at"), want_created);
		ck_assert(json_is_null(json_object_get(r.json, "me")));
		e2e_resp_free(&r);
	}
	/* Signed in: the caller's own reaction, rating and flags. */
	int amelie = movie_index("Amélie", 0), oldboy = movie_index("Oldboy", 0);
	static const char *const me_keys[] = {"reaction",     "rating",	  "is_favorite",
					      "is_purchased", "progress", NULL};
	struct e2e_resp r = harness_call("GET", harness_fmt("/api/v1/movies/%lld", w.movie[amelie]),
					 w.user, NULL);
	expect(&r, 200, NULL);
	const json_t *me = json_object_get(r.json, "me");
	harness_assert_keys(me, me_keys, "me");
	ck_assert_str_eq(jstr(me, "reaction"), "like");
	ck_assert_int_eq(jint(me, "rating"), 8);
	ck_assert(json_is_true(json_object_get(me, "is_favorite")));
	ck_assert(json_is_false(json_object_get(me, "is_purchased")));
	ck_assert(json_number_value(json_object_get(r.json, "rating")) == 8.5);
	e2e_resp_free(&r);
	r = harness_call("GET", harness_fmt("/api/v1/movies/%lld", w.movie[oldboy]), w.user, NULL);
	expect(&r, 200, NULL);
	me = json_object_get(r.json, "me");
	ck_assert_str_eq(jstr(me, "reaction"), "dislike");
	ck_assert_int_eq(jint(me, "rating"), 3);
	ck_assert(json_is_false(json_object_get(me, "is_favorite")));
	ck_assert(json_number_value(json_object_get(r.json, "rating")) == 6.5);
	e2e_resp_free(&r);
	r = harness_call("GET", harness_fmt("/api/v1/movies/%lld", w.movie[amelie]), w.fresh, NULL);
	expect(&r, 200, NULL);
	me = json_object_get(r.json, "me");
	harness_assert_keys(me, me_keys, "me");
	ck_assert(json_is_null(json_object_get(me, "reaction")));
	ck_assert(json_is_null(json_object_get(me, "rating")));
	ck_assert(json_is_false(json_object_get(me, "is_favorite")));
	e2e_resp_free(&r);
	/* A rounded average: (10 + 3) / 2 is 6.5; one rating of 9 is 9. */
	r = harness_call("GET",
			 harness_fmt("/api/v1/movies/%lld", w.movie[movie_index("Ikiru", 0)]), NULL,
			 NULL);
	ck_assert(json_number_value(json_object_get(r.json, "rating")) == 9.0);
	e2e_resp_free(&r);
	/* A bad Authorization header is refused even on a public route. */
	check_call("GET", harness_fmt("/api/v1/movies/%lld", w.movie[amelie]), "not-a-token", NULL,
		   401, "not_authenticated");

	/* Unknown and malformed ids. */
	static const char *const missing[] = {"999999", "0",  "-1",  "abc",
					      "1.5",	"01", "1e3", "99999999999999999999"};
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		const char *p = harness_fmt("/api/v1/movies/%s", missing[i]);
		check_call("GET", p, NULL, NULL, 404, "not_found");
		check_call("PATCH", p, w.mod, harness_json("{s:s}", "name", "X"), 404, "not_found");
		check_call("DELETE", p, w.mod, NULL, 404, "not_found");
	}
}
END_TEST

/* --- tests: the pre-rendered detail --- */

/* The detail statement as it was before migrations/0013_movie_detail.sql,
 * which built the whole object on every read ("me" left out): the
 * reference that the pre-rendered parts and the live counters must match
 * byte for byte, whatever changed the movie. */
static const char detail_reference_sql[] =
	"SELECT m.id, json_build_object('id', m.id, 'uuid', m.uuid, 'name', m.name, "
	"'year', m.year, 'time', m.time, 'imdb', m.imdb, 'votes', m.votes, "
	"'meta_score', m.meta_score, 'gross', m.gross, 'description', m.description, "
	"'price', m.price::text, 'certification', json_build_object('id', c.id, 'name', c.name), "
	"'genres', m.genres_json, 'stars', m.stars_json, 'directors', m.directors_json, "
	"'likes', m.likes, 'dislikes', m.dislikes, 'rating', round(m.rating::numeric, 1), "
	"'rating_count', m.rating_count, 'comment_count', m.comments, "
	"'favorite_count', m.favorites, 'popularity', m.popularity, "
	"'created_at', to_char(m.created_at AT TIME ZONE 'UTC', "
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"'updated_at', to_char(m.updated_at AT TIME ZONE 'UTC', "
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"'poster_url', '/api/v1/' || m.poster_key, 'trailer_url', '/api/v1/' || m.trailer_key, "
	"'has_feature', EXISTS (SELECT 1 FROM movie_media f WHERE f.movie_id = m.id "
	"AND f.kind = 'feature'))::text "
	"FROM movies m JOIN certifications c ON c.id = m.certification_id ORDER BY m.id";

/* Every movie's detail, anonymous and signed in, against the reference:
 * the anonymous body is the reference compacted with "me": null, and the
 * signed-in one differs from it only in "me". */
#define assert_details_as_built(what) assert_details_as_built_at(what, __LINE__)
static void assert_details_as_built_at(const char *what, int line)
{
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM movies m WHERE "
					 "detail_head IS DISTINCT FROM movies_detail_head(m, "
					 "(SELECT c.name FROM certifications c WHERE "
					 "c.id = m.certification_id)) OR "
					 "detail_tail IS DISTINCT FROM movies_detail_tail(m) OR "
					 "has_feature <> EXISTS (SELECT 1 FROM movie_media f WHERE "
					 "f.movie_id = m.id AND f.kind = 'feature')"),
			 0);
	PGresult *res = PQexec(w.pg, detail_reference_sql);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(w.pg));
	ck_assert_int_gt(PQntuples(res), 0);
	for (int i = 0; i < PQntuples(res); i++) {
		const char *id = PQgetvalue(res, i, 0);
		const char *ref = PQgetvalue(res, i, 1);
		size_t n = (size_t)PQgetlength(res, i, 1);
		struct buf want = BUF_INIT;
		buf_append_json_compact(&want, ref, n - 1); /* without its '}' */
		buf_append_str(&want, ",\"me\":null}");
		const char *path = harness_fmt("/api/v1/movies/%s", id);
		struct e2e_resp anon = harness_call("GET", path, NULL, NULL);
		expect_at(&anon, 200, NULL, line);
		ck_assert_msg(strcmp(anon.body.data, want.data) == 0,
			      "line %d (%s): movie %s\nread:  %s\nbuilt: %s", line, what, id,
			      anon.body.data, want.data);
		struct e2e_resp me = harness_call("GET", path, w.user, NULL);
		expect_at(&me, 200, NULL, line);
		ck_assert_msg(json_is_object(json_object_get(me.json, "me")),
			      "line %d: movie %s: no \"me\" for a signed-in caller", line, id);
		json_object_set_new(me.json, "me", json_null());
		ck_assert_msg(
			json_equal(me.json, anon.json),
			"line %d (%s): movie %s: the signed-in detail differs beyond \"me\": %s",
			line, what, id, me.body.data);
		e2e_resp_free(&me);
		e2e_resp_free(&anon);
		buf_free(&want);
	}
	PQclear(res);
}

START_TEST(movie_detail_rendered)
{
	boot();
	assert_details_as_built("after the boot");
	long long m0 = w.movie[0], m1 = w.movie[1];

	/* The movie's own fields, with text that JSON must escape; updated_at
	 * first set back, so that a part rendered before the edit's own
	 * updated_at would show (both would fall in the same second). */
	harness_sql_ok("UPDATE movies SET updated_at = timestamptz '2020-01-01 00:00:00+00'");
	assert_details_as_built("updated_at set back");
	check_call("PATCH", harness_fmt("/api/v1/movies/%lld", m0), w.mod,
		   harness_json("{s:s,s:s,s:f,s:n}", "name", "Quote \" back \\ tab \t é 😀",
				"description", "Line\nbreak and \"quotes\"", "imdb", 7.25, "gross"),
		   200, NULL);
	assert_details_as_built("after an edit");
	/* The API's edit also rebuilds the movie's lists (a second UPDATE);
	 * a plain one must render the updated_at that its trigger sets. */
	harness_sql_ok(harness_fmt("UPDATE movies SET votes = votes + 1 WHERE id = %lld", m1));
	assert_details_as_built("after an UPDATE of a plain column");
	/* Lookups renamed: a genre, a star, a director, a certification. */
	check_call("PATCH", harness_fmt("/api/v1/genres/%lld", w.genre[0]), w.mod,
		   harness_json("{s:s}", "name", "Renamed Genre"), 200, NULL);
	check_call("PATCH", harness_fmt("/api/v1/stars/%lld", w.star[0]), w.mod,
		   harness_json("{s:s}", "name", "Renamed Star"), 200, NULL);
	check_call("PATCH", harness_fmt("/api/v1/directors/%lld", w.director[0]), w.mod,
		   harness_json("{s:s}", "name", "Renamed Director"), 200, NULL);
	for (int c = 0; c < NCERTS; c++)
		check_call("PATCH", harness_fmt("/api/v1/certifications/%lld", w.cert[c]), w.mod,
			   harness_json("{s:s}", "name", harness_fmt("Cert \"%d\"", c)), 200, NULL);
	/* Engagement: counters are read live. */
	check_call("PUT", harness_fmt("/api/v1/movies/%lld/reaction", m1), w.fresh,
		   harness_json("{s:s}", "reaction", "like"), 204, NULL);
	harness_sql_ok(harness_fmt("INSERT INTO movie_ratings (user_id, movie_id, score) "
				   "VALUES (%lld, %lld, 7)",
				   w.user_id[2], m1));
	assert_details_as_built("after renames and engagement");

	/* Media: a poster, a trailer and a feature, then the feature removed. */
	harness_sql_ok(harness_fmt(
		"INSERT INTO movie_media (movie_id, kind, object_key, content_type, size_bytes) "
		"VALUES (%lld, 'poster', 'media/%lld/poster/a', 'image/jpeg', 10), "
		"(%lld, 'trailer', 'media/%lld/trailer/b', 'video/mp4', 10), "
		"(%lld, 'feature', 'media/%lld/feature/c', 'video/mp4', 10), "
		"(%lld, 'feature', 'media/%lld/feature/d', 'video/mp4', 10)",
		m0, m0, m0, m0, m0, m0, m1, m1));
	ck_assert_int_eq(
		harness_sql_int(harness_fmt(
			"SELECT count(*) FROM movies WHERE has_feature AND id IN (%lld, %lld)", m0,
			m1)),
		2);
	assert_details_as_built("with media");
	harness_sql_ok(harness_fmt("UPDATE movie_media SET object_key = 'media/%lld/feature/e' "
				   "WHERE movie_id = %lld AND kind = 'feature'",
				   m0, m0));
	harness_sql_ok(harness_fmt("DELETE FROM movie_media WHERE movie_id = %lld AND kind = "
				   "'feature'",
				   m1));
	harness_sql_ok(harness_fmt("DELETE FROM movie_media WHERE movie_id = %lld AND kind = "
				   "'poster'",
				   m0));
	ck_assert_int_eq(
		harness_sql_int(harness_fmt(
			"SELECT count(*) FROM movies WHERE has_feature AND id IN (%lld, %lld)", m0,
			m1)),
		1);
	assert_details_as_built("after media changes");
}
END_TEST

/* --- tests: who may write --- */

START_TEST(moderator_routes_refused)
{
	boot();
	long long id = w.movie[0];
	static const char *const kinds[] = {"genres", "stars", "directors", "certifications"};
	struct route_case {
		const char *method;
		char path[96];
	} routes[32];
	int n = 0;
#define ROUTE(m, ...)                                                          \
	do {                                                                   \
		routes[n].method = m;                                          \
		snprintf(routes[n].path, sizeof(routes[n].path), __VA_ARGS__); \
		n++;                                                           \
	} while (0)
	ROUTE("POST", "/api/v1/movies");
	ROUTE("PATCH", "/api/v1/movies/%lld", id);
	ROUTE("DELETE", "/api/v1/movies/%lld", id);
	ROUTE("DELETE", "/api/v1/movies/%lld?force=true", id);
	for (int k = 0; k < 4; k++) {
		ROUTE("POST", "/api/v1/%s", kinds[k]);
		ROUTE("PATCH", "/api/v1/%s/1", kinds[k]);
		ROUTE("DELETE", "/api/v1/%s/1", kinds[k]);
	}
#undef ROUTE
	for (int i = 0; i < n; i++) {
		json_t *body = NULL;
		if (strcmp(routes[i].method, "DELETE") != 0)
			body = strstr(routes[i].path, "movies")
				       ? movie_body(1)
				       : harness_json("{s:s}", "name", "Noir");
		/* A USER: 403. */
		struct e2e_resp r = harness_call(routes[i].method, routes[i].path, w.user,
						 body ? json_incref(body) : NULL);
		ck_assert_msg(r.status == 403, "%s %s as USER: %ld %s", routes[i].method,
			      routes[i].path, r.status, r.body.data ? r.body.data : "");
		expect(&r, 403, "forbidden");
		e2e_resp_free(&r);
		/* Anonymous: 401 with the Bearer challenge. */
		r = harness_call(routes[i].method, routes[i].path, NULL, body);
		expect(&r, 401, "not_authenticated");
		char h[32];
		ck_assert(e2e_header(&r, "WWW-Authenticate", h, sizeof(h)));
		ck_assert_str_eq(h, "Bearer");
		e2e_resp_free(&r);
	}
	/* Nothing changed. */
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM movies"), NMOVIES);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM genres"), NGENRES + 1);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM stars"), NSTARS);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM directors"), NDIRECTORS);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM certifications"), NCERTS);
	ck_assert_int_eq(harness_sql_int(harness_fmt(
				 "SELECT count(*) FROM movies WHERE id = %lld AND name = '%s'", id,
				 "Amélie")),
			 1);
	/* Reading is for everyone. */
	static const char *const reads[] = {
		"/api/v1/movies",    "/api/v1/genres",	       "/api/v1/stars",
		"/api/v1/directors", "/api/v1/certifications", "/api/v1/genres/1",
		"/api/v1/stars/1",   "/api/v1/directors/1",    "/api/v1/certifications/1"};
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		check_call("GET", reads[i], NULL, NULL, 200, NULL);
		check_call("GET", reads[i], w.user, NULL, 200, NULL);
	}
	check_call("GET", harness_fmt("/api/v1/movies/%lld", id), NULL, NULL, 200, NULL);
	/* The favorites list needs a bearer. */
	struct e2e_resp r = harness_call("GET", "/api/v1/favorites", NULL, NULL);
	expect(&r, 401, "not_authenticated");
	char h[32];
	ck_assert(e2e_header(&r, "WWW-Authenticate", h, sizeof(h)));
	e2e_resp_free(&r);
	check_call("GET", "/api/v1/favorites", "garbage", NULL, 401, "not_authenticated");
}
END_TEST

/* --- tests: writing movies --- */

/* A valid body for a new movie (not in the catalog). */
static json_t *new_movie(void)
{
	return harness_json("{s:s,s:i,s:i,s:f,s:i,s:f,s:f,s:s,s:s,s:I,s:[I,I],s:[I],s:[I]}", "name",
			    "Stalker", "year", 1979, "time", 162, "imdb", 8.1, "votes", 140000,
			    "meta_score", 87.5, "gross", 234567.0, "description",
			    "A guide leads two men.", "price", "5.49", "certification_id",
			    (json_int_t)w.cert[CERT_PG13], "genre_ids", (json_int_t)w.genre[DRAMA],
			    (json_int_t)w.genre[THRILLER], "star_ids", (json_int_t)w.star[TURING],
			    "director_ids", (json_int_t)w.director[KUROSAWA]);
}

/* new_movie() with key set to value (consumed; NULL removes key). */
static json_t *with(const char *key, json_t *value)
{
	json_t *b = new_movie();
	if (value)
		json_object_set_new(b, key, value);
	else
		json_object_del(b, key);
	return b;
}

static json_t *long_string(size_t n, const char *unit)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		buf_append_str(&b, unit);
	json_t *s = json_stringn(b.data, b.len);
	buf_free(&b);
	return s;
}

START_TEST(movie_writes)
{
	boot();
	const char *M = "/api/v1/movies";
	/* Create: 201 with the detail. */
	struct e2e_resp r = harness_call("POST", M, w.mod, new_movie());
	expect(&r, 201, NULL);
	long long id = jint(r.json, "id");
	ck_assert_str_eq(jstr(r.json, "name"), "Stalker");
	ck_assert_str_eq(jstr(r.json, "price"), "5.49");
	ck_assert(json_number_value(json_object_get(r.json, "meta_score")) == 87.5);
	ck_assert(json_number_value(json_object_get(r.json, "gross")) == 234567.0);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "genres")), 2);
	ck_assert_str_eq(jstr(json_array_get(json_object_get(r.json, "directors"), 0), "name"),
			 "Akira Kurosawa");
	ck_assert(json_is_object(json_object_get(r.json, "me")));
	ck_assert(json_is_null(json_object_get(r.json, "rating")));
	e2e_resp_free(&r);
	char path[64];
	snprintf(path, sizeof(path), "/api/v1/movies/%lld", id);
	struct list l;
	get_list("/api/v1/movies?search=stalker", NULL, &l);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ids[0], id);
	list_free(&l);
	/* Links replaced with a set that keeps some and adds others (the
	 * DELETE and INSERT of one statement must not collide on the kept). */
	r = harness_call("PATCH", path, w.mod,
			 harness_json("{s:[I,I],s:[I,I]}", "genre_ids",
				      (json_int_t)w.genre[THRILLER], (json_int_t)w.genre[COMEDY],
				      "star_ids", (json_int_t)w.star[TURING],
				      (json_int_t)w.star[PIAF]));
	expect(&r, 200, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "genres")), 2);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "stars")), 2);
	e2e_resp_free(&r);
	get_list(harness_fmt("/api/v1/movies?search=stalker&genre=%lld", w.genre[DRAMA]), NULL, &l);
	ck_assert_int_eq(l.n, 0);
	list_free(&l);
	get_list(harness_fmt("/api/v1/movies?search=stalker&genre=%lld", w.genre[COMEDY]), NULL,
		 &l);
	ck_assert_int_eq(l.n, 1);
	list_free(&l);
	/* Only the mandatory fields; links default to none. */
	r = harness_call("POST", M, w.mod,
			 harness_json("{s:s,s:i,s:i,s:i,s:i,s:s,s:s,s:I}", "name", "Minimal",
				      "year", 2000, "time", 1, "imdb", 0, "votes", 0, "description",
				      "", "price", "0", "certification_id",
				      (json_int_t)w.cert[CERT_G]));
	expect(&r, 201, NULL);
	ck_assert_str_eq(jstr(r.json, "price"), "0.00");
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "genres")), 0);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "stars")), 0);
	ck_assert(json_is_null(json_object_get(r.json, "meta_score")));
	e2e_resp_free(&r);
	/* The bounds themselves are accepted (name of 300 two-byte characters). */
	json_t *edge = with("name", long_string(300, "é"));
	json_object_set_new(edge, "year", json_integer(2100));
	json_object_set_new(edge, "time", json_integer(1500));
	json_object_set_new(edge, "imdb", json_integer(10));
	json_object_set_new(edge, "price", json_string("99999999.99"));
	json_object_set_new(edge, "description", long_string(10000, "x"));
	json_object_set_new(edge, "meta_score", json_integer(100));
	json_object_set_new(edge, "votes", json_integer(2000000000));
	r = harness_call("POST", M, w.mod, edge);
	expect(&r, 201, NULL);
	ck_assert_str_eq(jstr(r.json, "price"), "99999999.99");
	e2e_resp_free(&r);

	/* Missing fields: each is named. */
	r = harness_call("POST", M, w.mod, json_object());
	static const char *const required[] = {"name",	"year",	       "time",	"imdb",
					       "votes", "description", "price", "certification_id"};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		harness_expect_invalid(&r, required[i], "is required");
	ck_assert(!harness_has_error(&r, "meta_score", NULL));
	ck_assert(!harness_has_error(&r, "genre_ids", NULL));
	e2e_resp_free(&r);
	harness_check_invalid("POST", M, w.mod, with("name", json_null()), "name", "is required");
	harness_check_invalid("POST", M, w.mod, with("price", NULL), "price", "is required");

	/* Wrong types and out-of-range values. */
	static const struct {
		const char *field, *json, *message;
	} bad[] = {
		{"name", "5", "must be a string"},
		{"name", "\"\"", "at least 1"},
		{"name", "[\"Stalker\"]", "must be a string"},
		{"year", "\"1979\"", "must be an integer"},
		{"year", "1979.5", "must be an integer"},
		{"year", "1887", "between 1888 and 2100"},
		{"year", "2101", "between 1888 and 2100"},
		{"time", "0", "between 1 and 1500"},
		{"time", "1501", "between 1 and 1500"},
		{"time", "true", "must be an integer"},
		{"imdb", "\"8.1\"", "must be a number"},
		{"imdb", "10.1", "from 0 to 10"},
		{"imdb", "-0.1", "from 0 to 10"},
		{"imdb", "7.255", "at most two decimals"}, /* the imdb_min/imdb_max rule */
		{"imdb", "0.001", "at most two decimals"},
		{"votes", "-1", "between 0 and 2000000000"},
		{"votes", "2000000001", "between 0 and 2000000000"},
		{"votes", "1.5", "must be an integer"},
		{"meta_score", "100.5", "from 0 to 100"},
		{"meta_score", "-1", "from 0 to 100"},
		{"meta_score", "\"50\"", "must be a number"},
		{"gross", "-1", "must be a number from 0"},
		{"gross", "\"1\"", "must be a number"},
		{"description", "5", "must be a string"},
		{"price", "9.99", "must be a string"},
		{"price", "10", "must be a string"},
		{"price", "\"9.999\"", "decimal string"},
		{"price", "\"-1\"", "decimal string"},
		{"price", "\"abc\"", "decimal string"},
		{"price", "\"1e3\"", "decimal string"},
		{"price", "\"9.\"", "decimal string"},
		{"price", "\".5\"", "decimal string"},
		{"price", "\" 9.99\"", "decimal string"},
		{"price", "\"123456789.00\"", NULL},
		{"price", "\"\"", "at least 1"},
		{"certification_id", "\"1\"", "must be an integer"},
		{"certification_id", "0", NULL},
		{"genre_ids", "\"1\"", "must be an array"},
		{"genre_ids", "null", "must be an array"},
		{"genre_ids", "[0]", "ids from 1 to 999999999999999999"},
		{"genre_ids", "[\"a\"]", "ids from 1 to"},
		{"genre_ids", "[1000000000000000000]", "ids from 1 to"}, /* 19 digits */
		{"star_ids", "[1.5]", "ids from 1 to"},
		{"certification_id", "1000000000000000000", "between 1 and 999999999999999999"},
		{"director_ids", "{}", "must be an array"},
		{"rating", "5", "unknown field"},
		{"id", "5", "unknown field"},
		{"genres", "[]", "unknown field"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *v = json_loads(bad[i].json, JSON_DECODE_ANY, NULL);
		ck_assert_msg(v != NULL, "bad JSON in the test: %s", bad[i].json);
		struct e2e_resp b =
			harness_call("POST", M, w.mod, with(bad[i].field, json_incref(v)));
		harness_expect_invalid(&b, bad[i].field, bad[i].message);
		e2e_resp_free(&b);
		/* The same on PATCH (unknown fields and types are checked alike). */
		json_t *patch = json_object();
		json_object_set(patch, bad[i].field, v);
		b = harness_call("PATCH", path, w.mod, patch);
		harness_expect_invalid(&b, bad[i].field, bad[i].message);
		e2e_resp_free(&b);
		json_decref(v);
	}
	/* Too long text; too many links. */
	harness_check_invalid("POST", M, w.mod, with("name", long_string(301, "é")), "name",
			      "at most 300 characters");
	harness_check_invalid("POST", M, w.mod, with("description", long_string(10001, "x")),
			      "description", "at most 10000 characters");
	json_t *many = json_array();
	for (int i = 1; i <= 51; i++)
		json_array_append_new(many, json_integer(i));
	harness_check_invalid("POST", M, w.mod, with("genre_ids", many), "genre_ids", "at most 50");
	/* Several problems are all named. */
	json_t *multi = with("year", json_string("x"));
	json_object_set_new(multi, "price", json_real(1.5));
	json_object_set_new(multi, "colour", json_true());
	r = harness_call("POST", M, w.mod, multi);
	harness_expect_invalid(&r, "year", NULL);
	harness_expect_invalid(&r, "price", NULL);
	harness_expect_invalid(&r, "colour", "unknown field");
	e2e_resp_free(&r);
	/* Unknown ids of genres, stars, directors, certification. */
	json_t *refs = with("certification_id", json_integer(999999));
	json_object_set_new(refs, "genre_ids",
			    harness_json("[I,i,i]", (json_int_t)w.genre[DRAMA], 999998, 999999));
	json_object_set_new(refs, "star_ids", harness_json("[i]", 999997));
	json_object_set_new(refs, "director_ids", harness_json("[i]", 999996));
	r = harness_call("POST", M, w.mod, refs);
	harness_expect_invalid(&r, "certification_id", "no certification");
	harness_expect_invalid(&r, "genre_ids", "999998");
	harness_expect_invalid(&r, "genre_ids", "999999");
	ck_assert(!harness_has_error(&r, "genre_ids", harness_fmt("%lld,", w.genre[DRAMA])));
	harness_expect_invalid(&r, "star_ids", "999997");
	harness_expect_invalid(&r, "director_ids", "999996");
	e2e_resp_free(&r);
	harness_check_invalid("PATCH", path, w.mod, harness_json("{s:[i]}", "star_ids", 999999),
			      "star_ids", "999999");
	harness_check_invalid("PATCH", path, w.mod,
			      harness_json("{s:i}", "certification_id", 999999), "certification_id",
			      NULL);
	/* Not JSON, not an object, not JSON content. */
	const char *json_ct[] = {"Content-Type: application/json", NULL, NULL};
	char auth[2200];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", w.mod);
	json_ct[1] = auth;
	r = harness_raw("POST", M, json_ct, "{\"name\":", 8);
	expect(&r, 400, "invalid_json");
	e2e_resp_free(&r);
	r = harness_raw("POST", M, json_ct, "[1]", 3);
	expect(&r, 400, "invalid_json");
	e2e_resp_free(&r);
	const char *text_ct[] = {"Content-Type: text/plain", auth, NULL};
	r = harness_raw("POST", M, text_ct, "{}", 2);
	expect(&r, 415, "unsupported_media_type");
	e2e_resp_free(&r);
	/* None of that created anything. */
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM movies"), NMOVIES + 3);

	/* Duplicate (name, year, time): 409; another year or time is another movie. */
	check_call("POST", M, w.mod, new_movie(), 409, "movie_exists");
	check_call("POST", M, w.mod, with("time", json_integer(163)), 201, NULL);
	check_call("POST", M, w.mod, with("year", json_integer(1980)), 201, NULL);
	json_t *dup = movie_body(movie_index("Solaris", 1972));
	check_call("POST", M, w.mod, dup, 409, "movie_exists");

	/* PATCH: only what is sent changes. */
	r = harness_call("PATCH", path, w.mod,
			 harness_json("{s:s,s:[I],s:[],s:n,s:f}", "price", "6.00", "genre_ids",
				      (json_int_t)w.genre[COMEDY], "star_ids", "meta_score", "imdb",
				      7.7));
	expect(&r, 200, NULL);
	ck_assert_str_eq(jstr(r.json, "price"), "6.00");
	ck_assert_str_eq(jstr(r.json, "name"), "Stalker");
	ck_assert(json_number_value(json_object_get(r.json, "imdb")) == 7.7);
	ck_assert(json_is_null(json_object_get(r.json, "meta_score")));
	ck_assert(json_number_value(json_object_get(r.json, "gross")) == 234567.0);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "genres")), 1);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "stars")), 0);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "directors")), 1);
	e2e_resp_free(&r);
	/* Two decimals are accepted however binary floating point spells them. */
	static const double two_decimals[] = {0.29, 8.35, 9.99, 0.01, 7.7};
	for (size_t i = 0; i < sizeof(two_decimals) / sizeof(two_decimals[0]); i++) {
		r = harness_call("PATCH", path, w.mod,
				 harness_json("{s:f}", "imdb", two_decimals[i]));
		expect(&r, 200, NULL);
		ck_assert(json_number_value(json_object_get(r.json, "imdb")) == two_decimals[i]);
		e2e_resp_free(&r);
	}
	r = harness_call("PATCH", path, w.mod, json_object());
	expect(&r, 200, NULL);
	ck_assert_str_eq(jstr(r.json, "price"), "6.00");
	e2e_resp_free(&r);
	/* The search text follows the changes. */
	get_list("/api/v1/movies?search=turing&per_page=100", NULL, &l);
	for (int i = 0; i < l.n; i++)
		ck_assert_int_ne(l.ids[i], id);
	list_free(&l);
	check_call("PATCH", path, w.mod, harness_json("{s:s}", "description", "Zone expedition"),
		   200, NULL);
	get_list("/api/v1/movies?search=expedition", NULL, &l);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ids[0], id);
	list_free(&l);
	/* Null where a value is needed names the field; gross can be cleared. */
	static const char *const not_null[] = {"name",	"year",	       "time",	"imdb",
					       "votes", "description", "price", "certification_id"};
	for (size_t i = 0; i < sizeof(not_null) / sizeof(not_null[0]); i++) {
		json_t *b = json_object();
		json_object_set_new(b, not_null[i], json_null());
		harness_check_invalid("PATCH", path, w.mod, b, not_null[i], "cannot be null");
	}
	r = harness_call("PATCH", path, w.mod, harness_json("{s:n}", "gross"));
	expect(&r, 200, NULL);
	ck_assert(json_is_null(json_object_get(r.json, "gross")));
	e2e_resp_free(&r);
	/* Renaming into an existing (name, year, time): 409. */
	const struct movie_def *heat = &movies[movie_index("Heat", 0)];
	check_call("PATCH", path, w.mod,
		   harness_json("{s:s,s:i,s:i}", "name", heat->name, "year", heat->year, "time",
				heat->time),
		   409, "movie_exists");
	check_call("PATCH", path, w.mod, harness_json("{s:s}", "name", "Heat"), 200, NULL);

	/* DELETE: force must be true or false; 204; then 404. */
	harness_check_invalid("DELETE", harness_fmt("%s?force=yes", path), w.mod, NULL, "force",
			      "true or false");
	harness_check_invalid("DELETE", harness_fmt("%s?force=", path), w.mod, NULL, "force", NULL);
	check_call("DELETE", harness_fmt("%s?force=false", path), w.mod, NULL, 204, NULL);
	check_call("GET", path, NULL, NULL, 404, "not_found");
	check_call("DELETE", path, w.mod, NULL, 404, "not_found");
	check_call("PATCH", path, w.mod, harness_json("{s:s}", "name", "Gone"), 404, "not_found");
	/* A movie with engagement goes too, with its rows. */
	long long amelie = w.movie[movie_index("Amélie", 0)];
	check_call("DELETE", harness_fmt("/api/v1/movies/%lld?force=true", amelie), w.mod, NULL,
		   204, NULL);
	ck_assert_int_eq(harness_sql_int(harness_fmt(
				 "SELECT count(*) FROM favorites WHERE movie_id = %lld", amelie)),
			 0);
	r = harness_call("GET", harness_fmt("/api/v1/stars/%lld", w.star[PIAF]), NULL, NULL);
	expect(&r, 200, NULL);
	ck_assert_int_eq(jint(r.json, "movie_count"),
			 movies_with(stars_of, B(PIAF), (int[NMOVIES]){0}) - 1);
	e2e_resp_free(&r);

	/* In carts: 409 movie_in_carts with their number, unless forced, which
	 * also empties them of it. */
	long long psycho = w.movie[movie_index("Psycho", 0)];
	harness_sql_ok(
		harness_fmt("INSERT INTO carts (user_id) VALUES (%lld), (%lld);"
			    "INSERT INTO cart_items (cart_id, movie_id) SELECT id, %lld FROM carts",
			    w.user_id[USR], w.user_id[2], psycho));
	snprintf(path, sizeof(path), "/api/v1/movies/%lld", psycho);
	for (int i = 0; i < 2; i++) {
		r = harness_call("DELETE", i ? harness_fmt("%s?force=false", path) : path, w.mod,
				 NULL);
		expect(&r, 409, "movie_in_carts");
		ck_assert_int_eq(jint(r.json, "carts"), 2);
		ck_assert_ptr_nonnull(strstr(jstr(r.json, "detail"), "2 carts"));
		e2e_resp_free(&r);
	}
	check_call("GET", path, NULL, NULL, 200, NULL);
	check_call("DELETE", harness_fmt("%s?force=true", path), w.mod, NULL, 204, NULL);
	check_call("GET", path, NULL, NULL, 404, "not_found");
	ck_assert_int_eq(harness_sql_int(harness_fmt(
				 "SELECT count(*) FROM cart_items WHERE movie_id = %lld", psycho)),
			 0);
	/* Ordered (even unpaid) or bought: 409 movie_purchased, forced or not. */
	long long vertigo = w.movie[movie_index("Vertigo", 0)];
	long long order = harness_sql_int(harness_fmt(
		"INSERT INTO orders (user_id) VALUES (%lld) RETURNING id", w.user_id[USR]));
	harness_sql_ok(
		harness_fmt("INSERT INTO order_items (order_id, movie_id, price_at_order) VALUES "
			    "(%lld, %lld, 4.99)",
			    order, vertigo));
	snprintf(path, sizeof(path), "/api/v1/movies/%lld", vertigo);
	check_call("DELETE", path, w.mod, NULL, 409, "movie_purchased");
	check_call("DELETE", harness_fmt("%s?force=true", path), w.mod, NULL, 409,
		   "movie_purchased");
	/* The owner sees it as theirs, in the detail and in GET /purchases. */
	r = harness_call("GET", path, w.user, NULL);
	expect(&r, 200, NULL);
	ck_assert(json_is_false(json_object_get(json_object_get(r.json, "me"), "is_purchased")));
	e2e_resp_free(&r);
	harness_sql_ok(harness_fmt(
		"UPDATE orders SET status = 'paid' WHERE id = %lld;"
		"INSERT INTO purchases (user_id, movie_id, order_id) VALUES (%lld, %lld, %lld)",
		order, w.user_id[USR], vertigo, order));
	r = harness_call("GET", path, w.user, NULL);
	expect(&r, 200, NULL);
	ck_assert(json_is_true(json_object_get(json_object_get(r.json, "me"), "is_purchased")));
	e2e_resp_free(&r);
	r = harness_call("GET", path, w.fresh, NULL);
	ck_assert(json_is_false(json_object_get(json_object_get(r.json, "me"), "is_purchased")));
	e2e_resp_free(&r);
	get_list("/api/v1/purchases", w.user, &l);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ids[0], vertigo);
	list_free(&l);
	get_list(harness_fmt("/api/v1/purchases?genre=%lld", w.genre[COMEDY]), w.user, &l);
	ck_assert_int_eq(l.total, 0);
	list_free(&l);
	get_list("/api/v1/purchases", w.fresh, &l);
	ck_assert_int_eq(l.total, 0);
	list_free(&l);
	check_call("GET", "/api/v1/purchases", NULL, NULL, 401, "not_authenticated");
	harness_check_invalid("GET", "/api/v1/purchases?sort=x", w.user, NULL, "sort", NULL);
	check_call("DELETE", path, w.mod, NULL, 409, "movie_purchased");
}
END_TEST

/* --- tests: genres, stars, directors, certifications --- */

START_TEST(lookup_crud)
{
	boot();
	static const struct {
		const char *kind, *one; /* plural path, singular for the messages */
		int max;
		bool paged;
	} kinds[] = {
		{"genres", "genre", 100, false},
		{"stars", "star", 200, true},
		{"directors", "director", 200, true},
		{"certifications", "certification", 32, false},
	};
	static const char *const keys[] = {"id", "name", "movie_count", NULL};
	for (size_t k = 0; k < 4; k++) {
		const char *kind = kinds[k].kind;
		char base[64];
		snprintf(base, sizeof(base), "/api/v1/%s", kind);
		/* Create, read, rename, delete. */
		long long id = create_lookup(kind, "Zeta Unused");
		char one[96];
		snprintf(one, sizeof(one), "%s/%lld", base, id);
		struct e2e_resp r = harness_call("GET", one, NULL, NULL);
		expect(&r, 200, NULL);
		harness_assert_keys(r.json, keys, kind);
		ck_assert_str_eq(jstr(r.json, "name"), "Zeta Unused");
		e2e_resp_free(&r);
		r = harness_call("PATCH", one, w.mod,
				 harness_json("{s:s}", "name", "Zeta Renamed"));
		expect(&r, 200, NULL);
		harness_assert_keys(r.json, keys, kind);
		ck_assert_int_eq(jint(r.json, "id"), id);
		ck_assert_str_eq(jstr(r.json, "name"), "Zeta Renamed");
		e2e_resp_free(&r);
		/* Renaming to its own name is no conflict. */
		check_call("PATCH", one, w.mod, harness_json("{s:s}", "name", "Zeta Renamed"), 200,
			   NULL);
		/* Duplicate names, on create and on rename: 409 name_taken. */
		r = harness_call("POST", base, w.mod,
				 harness_json("{s:s}", "name", "Zeta Renamed"));
		expect(&r, 409, "name_taken");
		ck_assert_msg(strstr(jstr(r.json, "detail"), kinds[k].one) != NULL, "%s",
			      r.body.data);
		e2e_resp_free(&r);
		const char *taken = k == 0   ? "Drama"
				    : k == 1 ? "Grace Hopper"
				    : k == 2 ? "Agnès Varda"
					     : "PG-13";
		check_call("PATCH", one, w.mod, harness_json("{s:s}", "name", taken), 409,
			   "name_taken");
		/* Validation. */
		harness_check_invalid("POST", base, w.mod, json_object(), "name", "is required");
		harness_check_invalid("POST", base, w.mod, harness_json("{s:n}", "name"), "name",
				      "is required");
		harness_check_invalid("POST", base, w.mod, harness_json("{s:s}", "name", ""),
				      "name", "at least 1");
		harness_check_invalid("POST", base, w.mod, harness_json("{s:i}", "name", 5), "name",
				      "must be a string");
		harness_check_invalid("POST", base, w.mod,
				      harness_json("{s:s,s:i}", "name", "X", "id", 1), "id",
				      "unknown field");
		harness_check_invalid(
			"POST", base, w.mod,
			harness_json("{s:o}", "name", long_string((size_t)kinds[k].max + 1, "Ω")),
			"name", harness_fmt("at most %d characters", kinds[k].max));
		check_call("POST", base, w.mod,
			   harness_json("{s:o}", "name", long_string((size_t)kinds[k].max, "Ω")),
			   201, NULL);
		harness_check_invalid("PATCH", one, w.mod, json_object(), "name", "is required");
		harness_check_invalid("PATCH", one, w.mod,
				      harness_json("{s:s,s:b}", "name", "Y", "x", 1), "x",
				      "unknown field");
		/* Unknown and malformed ids. */
		check_call("GET", harness_fmt("%s/999999", base), NULL, NULL, 404, "not_found");
		check_call("GET", harness_fmt("%s/abc", base), NULL, NULL, 404, "not_found");
		check_call("PATCH", harness_fmt("%s/999999", base), w.mod,
			   harness_json("{s:s}", "name", "Q"), 404, "not_found");
		check_call("DELETE", harness_fmt("%s/999999", base), w.mod, NULL, 404, "not_found");
		check_call("DELETE", harness_fmt("%s/0", base), w.mod, NULL, 404, "not_found");
		/* Unused: deleted. */
		check_call("DELETE", one, w.mod, NULL, 204, NULL);
		check_call("GET", one, NULL, NULL, 404, "not_found");
		check_call("DELETE", one, w.mod, NULL, 404, "not_found");
	}
	/* In use: 409 in_use with the number of movies. */
	int want[NMOVIES];
	int n_drama = 0, n_g = 0, n_hopper = movies_with(stars_of, B(HOPPER), want),
	    n_kurosawa = movies_with(directors_of, B(KUROSAWA), want);
	for (int i = 0; i < NMOVIES; i++) {
		n_drama += (movies[i].genres & B(DRAMA)) != 0;
		n_g += movies[i].cert == CERT_G;
	}
	struct {
		char path[64];
		const char *one;
		int count;
	} used[] = {
		{"", "genre", n_drama},
		{"", "certification", n_g},
		{"", "star", n_hopper},
		{"", "director", n_kurosawa},
	};
	snprintf(used[0].path, sizeof(used[0].path), "/api/v1/genres/%lld", w.genre[DRAMA]);
	snprintf(used[1].path, sizeof(used[1].path), "/api/v1/certifications/%lld", w.cert[CERT_G]);
	snprintf(used[2].path, sizeof(used[2].path), "/api/v1/stars/%lld", w.star[HOPPER]);
	snprintf(used[3].path, sizeof(used[3].path), "/api/v1/directors/%lld",
		 w.director[KUROSAWA]);
	for (size_t i = 0; i < 4; i++) {
		struct e2e_resp r = harness_call("DELETE", used[i].path, w.mod, NULL);
		expect(&r, 409, "in_use");
		ck_assert_str_eq(jstr(r.json, "detail"),
				 harness_fmt("This %s is still used by %d movies.", used[i].one,
					     used[i].count));
		e2e_resp_free(&r);
		r = harness_call("GET", used[i].path, NULL, NULL);
		expect(&r, 200, NULL);
		ck_assert_int_eq(jint(r.json, "movie_count"), used[i].count);
		e2e_resp_free(&r);
	}
	/* One movie using it: singular (Ikiru has no stars). */
	int only = movie_index("Ikiru", 0);
	long long lonely = create_lookup("stars", "Lonely Star");
	check_call("PATCH", harness_fmt("/api/v1/movies/%lld", w.movie[only]), w.mod,
		   harness_json("{s:[I]}", "star_ids", (json_int_t)lonely), 200, NULL);
	struct e2e_resp r =
		harness_call("DELETE", harness_fmt("/api/v1/stars/%lld", lonely), w.mod, NULL);
	expect(&r, 409, "in_use");
	ck_assert_str_eq(jstr(r.json, "detail"), "This star is still used by 1 movie.");
	e2e_resp_free(&r);
	/* Genres and certifications: plain arrays by name, with counts. */
	r = harness_call("GET", "/api/v1/genres", NULL, NULL);
	expect(&r, 200, NULL);
	ck_assert(json_is_array(r.json));
	static const char *const genre_order[] = {"Animation", "Comedy", "Drama", "Thriller",
						  "Western"};
	ck_assert_int_eq(json_array_size(r.json), 5 + 1); /* and the longest name */
	for (int i = 0; i < 5; i++) {
		const json_t *g = json_array_get(r.json, (size_t)i);
		harness_assert_keys(g, keys, "genre");
		ck_assert_str_eq(jstr(g, "name"), genre_order[i]);
		int count = 0;
		for (int m = 0; m < NMOVIES; m++)
			for (int x = 0; x < NGENRES; x++)
				count += strcmp(genre_names[x], genre_order[i]) == 0 &&
					 (movies[m].genres & B(x));
		ck_assert_int_eq(jint(g, "movie_count"), count);
	}
	e2e_resp_free(&r);
	/* Paging parameters do not apply to them. */
	r = harness_call("GET", "/api/v1/certifications?page=99&per_page=1", NULL, NULL);
	expect(&r, 200, NULL);
	ck_assert(json_is_array(r.json));
	ck_assert_str_eq(jstr(json_array_get(r.json, 0), "name"), "G");
	ck_assert_int_eq(jint(json_array_get(r.json, 0), "movie_count"), n_g);
	e2e_resp_free(&r);
	/* Stars and directors: pages by name, searchable in any case. */
	struct list l;
	get_list("/api/v1/stars?per_page=2", NULL, &l);
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.total, NSTARS + 2); /* the long name and Lonely Star */
	ck_assert_str_eq(jstr(json_array_get(l.items, 0), "name"), "Ada Lovelace");
	ck_assert_str_eq(jstr(json_array_get(l.items, 1), "name"), "Alan Turing");
	ck_assert_str_eq(l.next, "/api/v1/stars?page=2&per_page=2");
	harness_assert_keys(json_array_get(l.items, 0), keys, "star");
	list_free(&l);
	get_list("/api/v1/stars?search=HOP", NULL, &l);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ids[0], w.star[HOPPER]);
	ck_assert_int_eq(jint(json_array_get(l.items, 0), "movie_count"), n_hopper);
	list_free(&l);
	get_list(harness_fmt("/api/v1/stars?search=%s", urlenc("ÉDITH")), NULL, &l);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ids[0], w.star[PIAF]);
	list_free(&l);
	get_list("/api/v1/directors?search=a&per_page=1&page=2", NULL, &l);
	ck_assert_int_eq(l.total, 3);
	ck_assert_str_eq(jstr(json_array_get(l.items, 0), "name"), "Akira Kurosawa");
	ck_assert_str_eq(l.prev, "/api/v1/directors?search=a&page=1&per_page=1");
	ck_assert_str_eq(l.next, "/api/v1/directors?search=a&page=3&per_page=1");
	list_free(&l);
	get_list("/api/v1/directors?search=nobody", NULL, &l);
	ck_assert_int_eq(l.total, 0);
	list_free(&l);
	harness_check_invalid("GET", "/api/v1/stars?per_page=0", NULL, NULL, "per_page", NULL);
	harness_check_invalid("GET", "/api/v1/directors?page=abc", NULL, NULL, "page", NULL);
	char text[256];
	memset(text, 'a', 201);
	text[201] = '\0';
	harness_check_invalid("GET", harness_fmt("/api/v1/stars?search=%s", text), NULL, NULL,
			      "search", NULL);
	harness_check_invalid("GET", "/api/v1/directors?search=%FF", NULL, NULL, "search", "UTF-8");

	/* A rename shows in the movies and in their search. */
	int hopper_movies[NMOVIES];
	int nh = movies_with(stars_of, B(HOPPER), hopper_movies);
	check_call("PATCH", harness_fmt("/api/v1/stars/%lld", w.star[HOPPER]), w.mod,
		   harness_json("{s:s}", "name", "Grace Brewster"), 200, NULL);
	check_search_at("brewster", "", hopper_movies, nh, __LINE__);
	check_search("hopper", "", END);
	r = harness_call("GET", harness_fmt("/api/v1/movies/%lld", w.movie[hopper_movies[0]]), NULL,
			 NULL);
	expect(&r, 200, NULL);
	size_t i;
	json_t *s;
	bool found = false;
	json_array_foreach (json_object_get(r.json, "stars"), i, s)
		found |= strcmp(jstr(s, "name"), "Grace Brewster") == 0;
	ck_assert(found);
	e2e_resp_free(&r);
	int kuro[NMOVIES];
	int nk = movies_with(directors_of, B(KUROSAWA), kuro);
	check_call("PATCH", harness_fmt("/api/v1/directors/%lld", w.director[KUROSAWA]), w.mod,
		   harness_json("{s:s}", "name", "Kurosawa Akira-sensei"), 200, NULL);
	check_search_at("sensei", "", kuro, nk, __LINE__);
	/* Renaming a genre changes what the movies show. */
	check_call("PATCH", harness_fmt("/api/v1/genres/%lld", w.genre[ANIMATION]), w.mod,
		   harness_json("{s:s}", "name", "Animated"), 200, NULL);
	r = harness_call("GET", harness_fmt("/api/v1/movies/%lld", w.movie[movie_index("Up", 0)]),
			 NULL, NULL);
	ck_assert_str_eq(jstr(json_array_get(json_object_get(r.json, "genres"), 0), "name"),
			 "Animated");
	e2e_resp_free(&r);
	/* Once no movie uses it, it can go. */
	check_call("PATCH", harness_fmt("/api/v1/movies/%lld", w.movie[only]), w.mod,
		   harness_json("{s:[]}", "star_ids"), 200, NULL);
	check_call("DELETE", harness_fmt("/api/v1/stars/%lld", lonely), w.mod, NULL, 204, NULL);
	check_call("DELETE", harness_fmt("/api/v1/genres/%lld", w.western), w.mod, NULL, 204, NULL);
}
END_TEST

/* --- tests: favorites --- */

START_TEST(favorites_list)
{
	boot();
	check_call("GET", "/api/v1/favorites", NULL, NULL, 401, "not_authenticated");
	check_call("GET", "/api/v1/favorites?sort=name", "x.y.z", NULL, 401, "not_authenticated");
	struct list l;
	get_list("/api/v1/favorites", w.fresh, &l);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(l.total, 0);
	ck_assert_int_eq(l.total_pages, 0);
	ck_assert_int_eq(l.page, 1);
	ck_assert_int_eq(l.per_page, 20);
	ck_assert_str_eq(l.prev, "");
	ck_assert_str_eq(l.next, "");
	list_free(&l);
	/* Another user's favorites, with every kind of parameter. */
	check_q(.favorites_of = USR + 1);
	check_q(.favorites_of = USR + 1, .sort = "-price");
	check_q(.favorites_of = USR + 1, .year_min = 2000);
	check_q(.favorites_of = USR + 1, .price_max = "5", .sort = "name");
	check_q(.favorites_of = MOD + 1);
	get_list("/api/v1/favorites?search=balloons", w.user, &l);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ids[0], w.movie[movie_index("Up", 0)]);
	list_free(&l);
	get_list("/api/v1/favorites?search=balloons", w.mod, &l);
	ck_assert_int_eq(l.n, 0);
	list_free(&l);
	get_list("/api/v1/favorites?per_page=1&page=2&sort=name", w.user, &l);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.total, 4);
	ck_assert_str_eq(l.prev, "/api/v1/favorites?sort=name&page=1&per_page=1");
	ck_assert_str_eq(l.next, "/api/v1/favorites?sort=name&page=3&per_page=1");
	list_free(&l);
	get_list("/api/v1/favorites?page=9", w.user, &l);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(l.total, 4);
	ck_assert_str_eq(l.prev, "/api/v1/favorites?page=1&per_page=20");
	list_free(&l);
}
END_TEST

/* Keyset pages, cursor checks, counters and estimated counts (issue 15,
 * docs/CATALOG.md "Lists at scale"). */
static long long sql_count(const char *sql)
{
	return harness_sql_int(sql);
}

/* Follows next_cursor from path's first page to the end; appends the ids
 * seen to ids (at most max). Between the first and second page, runs
 * between (SQL) when not NULL. */
static int walk_cursor(const char *path, const char *between, long long *ids, int max)
{
	struct list l;
	char next[2048];
	int n = 0, pages = 0;
	snprintf(next, sizeof(next), "%s", path);
	while (next[0]) {
		get_list(next, NULL, &l);
		for (int i = 0; i < l.n && n < max; i++)
			ids[n++] = l.ids[i];
		next[0] = '\0';
		if (l.cursor[0])
			snprintf(next, sizeof(next), "%s&cursor=%s", path, l.cursor);
		list_free(&l);
		if (pages++ == 0 && between)
			harness_sql_ok(between);
		ck_assert_int_le(pages, 200);
	}
	return n;
}

START_TEST(movie_keyset_counts)
{
	boot();
	struct list l;
	char c[MOVIE_CURSOR_MAX];

	/* A cursor is checked: not one, one of another sort, a forged value. */
	harness_check_invalid("GET", "/api/v1/movies?cursor=nonsense", NULL, NULL, "cursor",
			      "not a cursor");
	ck_assert(movie_cursor_make("name", 0, "Jaws", 1, c, sizeof(c)));
	harness_check_invalid("GET", harness_fmt("/api/v1/movies?sort=-name&cursor=%s", c), NULL,
			      NULL, "cursor", "another sort");
	harness_check_invalid("GET", harness_fmt("/api/v1/movies?cursor=%s", c), NULL, NULL,
			      "cursor", "another sort");
	ck_assert(
		movie_cursor_make("created_at", 0, "2026-02-31T00:00:00.000000Z", 1, c, sizeof(c)));
	harness_check_invalid("GET", harness_fmt("/api/v1/movies?sort=created_at&cursor=%s", c),
			      NULL, NULL, "cursor", "not a cursor");
	/* PostgreSQL has no year zero: refused here, not by the statement */
	ck_assert(
		movie_cursor_make("created_at", 0, "0000-01-01T00:00:00.000000Z", 1, c, sizeof(c)));
	harness_check_invalid("GET", harness_fmt("/api/v1/movies?sort=created_at&cursor=%s", c),
			      NULL, NULL, "cursor", "not a cursor");
	ck_assert(movie_cursor_make("-imdb", 0, "nan", 1, c, sizeof(c)));
	harness_check_invalid("GET", harness_fmt("/api/v1/movies?sort=-imdb&cursor=%s", c), NULL,
			      NULL, "cursor", "not a cursor");
	ck_assert(movie_cursor_make("-price", 0, "1e3", 1, c, sizeof(c)));
	harness_check_invalid("GET", harness_fmt("/api/v1/movies?sort=-price&cursor=%s", c), NULL,
			      NULL, "cursor", "not a cursor");
	/* A well-formed cursor of no row still pages: after "M" by name. */
	ck_assert(movie_cursor_make("name", 0, "M", 1, c, sizeof(c)));
	get_list(harness_fmt("/api/v1/movies?sort=name&per_page=100&cursor=%s", c), NULL, &l);
	ck_assert_int_gt(l.n, 0);
	ck_assert_int_lt(l.n, NMOVIES);
	ck_assert_str_eq(l.next, "");
	ck_assert(l.exact);
	list_free(&l);
	/* With a cursor, page only labels the page: the next link never names
	 * a page past the largest ?page= accepts (it would answer 422). */
	ck_assert(movie_cursor_make("name", 0, "", 1, c, sizeof(c)));
	get_list(harness_fmt("/api/v1/movies?sort=name&per_page=1&page=1000000&cursor=%s", c), NULL,
		 &l);
	ck_assert_int_eq(l.n, 1);
	ck_assert_ptr_nonnull(strstr(l.next, "&page=1000000&per_page=1"));
	list_free(&l);

	/* Keyset pages while rows come and go: every movie that stays is seen
	 * once, in order; one inserted ahead of the reader is seen, one
	 * inserted behind is not, one deleted ahead is not. */
	static const char *const sorts_walked[] = {"name", "-year", "-rating", "price", NULL};
	for (int k = 0; sorts_walked[k]; k++) {
		long long before[NMOVIES + 8], after[NMOVIES + 8];
		const char *path =
			harness_fmt("/api/v1/movies?sort=%s&per_page=3", sorts_walked[k]);
		char p[256];
		snprintf(p, sizeof(p), "%s", path);
		int nb = walk_cursor(p, NULL, before, NMOVIES + 8);
		ck_assert_int_eq(nb, NMOVIES);
		int na = walk_cursor(p, NULL, after, NMOVIES + 8);
		ck_assert_int_eq(na, nb);
		for (int i = 0; i < nb; i++)
			ck_assert_int_eq(before[i], after[i]);
	}
	long long cert = w.cert[0];
	harness_sql_ok(
		harness_fmt("INSERT INTO movies (name, year, time, imdb, votes, description, "
			    "price, certification_id) VALUES ('0 keyset a', 2000, 90, 5, 1, "
			    "'', 1, %lld), ('zzz keyset', 2000, 90, 5, 1, '', 1, %lld)",
			    cert, cert));
	long long first = sql_count("SELECT id FROM movies WHERE name = '0 keyset a'");
	long long last = sql_count("SELECT id FROM movies WHERE name = 'zzz keyset'");
	long long ids[NMOVIES + 8];
	/* Between pages: one more at each end, and the last of the rest goes. */
	long long gone = sql_count("SELECT id FROM movies WHERE name NOT LIKE '%keyset' ORDER BY "
				   "name DESC, id DESC LIMIT 1");
	/* (per_page 4: page 1 of per_page 3 is in the list cache, which a
	 * write through SQL does not drop) */
	int n = walk_cursor("/api/v1/movies?sort=name&per_page=4",
			    harness_fmt("INSERT INTO movies (name, year, time, imdb, votes, "
					"description, price, certification_id) VALUES "
					"('0 keyset b', 2000, 90, 5, 1, '', 1, %lld), "
					"('zzzz keyset', 2000, 90, 5, 1, '', 1, %lld); "
					"DELETE FROM movies WHERE id = %lld",
					cert, cert, gone),
			    ids, NMOVIES + 8);
	long long zzzz = sql_count("SELECT id FROM movies WHERE name = 'zzzz keyset'");
	ck_assert_int_eq(n, NMOVIES + 2); /* + 0 keyset a, zzz, zzzz; - gone */
	ck_assert_int_eq(ids[0], first);
	ck_assert_int_eq(ids[n - 2], last);
	ck_assert_int_eq(ids[n - 1], zzzz);
	for (int i = 0; i < n; i++) {
		ck_assert_int_ne(ids[i], gone);
		for (int j = i + 1; j < n; j++)
			ck_assert_int_ne(ids[i], ids[j]);
	}

	/* The counters follow every kind of write. */
	long long m = w.movie[0];
	harness_sql_ok(harness_fmt("UPDATE movies SET year = year + 1 WHERE id = %lld", m));
	harness_sql_ok(harness_fmt("UPDATE movies SET certification_id = %lld WHERE id = %lld",
				   w.cert[1], w.movie[1]));
	harness_sql_ok(harness_fmt("DELETE FROM movie_genres WHERE movie_id = %lld", w.movie[2]));
	harness_sql_ok(harness_fmt("INSERT INTO movie_genres (movie_id, genre_id) VALUES (%lld, "
				   "%lld)",
				   first, w.genre[0]));
	static const char drift[] =
		"SELECT count(*) FROM ((SELECT genre_id, year, certification_id, n FROM "
		"movie_counts "
		"WHERE n <> 0 EXCEPT (SELECT 0, year, certification_id, count(*) FROM movies GROUP "
		"BY 2, 3 UNION ALL SELECT genre_id, year, certification_id, count(*) FROM "
		"movie_genres GROUP BY 1, 2, 3)) UNION ALL ((SELECT 0, year, certification_id, "
		"count(*) FROM movies GROUP BY 2, 3 UNION ALL SELECT genre_id, year, "
		"certification_id, count(*) FROM movie_genres GROUP BY 1, 2, 3) EXCEPT SELECT "
		"genre_id, year, certification_id, n FROM movie_counts WHERE n <> 0)) d";
	ck_assert_int_eq(sql_count(drift), 0);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM movie_genres g JOIN movies m ON m.id = "
				   "g.movie_id WHERE (g.year, g.certification_id, g.name, g.imdb, "
				   "g.price, g.popularity, g.rating) IS DISTINCT FROM (m.year, "
				   "m.certification_id, m.name, m.imdb, m.price, m.popularity, "
				   "m.rating)"),
			 0);

	/* 1,200 more movies rated 9.9, all Drama: a genre count stays exact
	 * (counters), an imdb count past 1,000 is estimated and says so, a
	 * small result and the last page stay exact. */
	harness_sql_ok(harness_fmt("INSERT INTO movies (name, year, time, imdb, votes, "
				   "description, price, certification_id) SELECT 'bulk ' || i, "
				   "1990 + i %% 30, 90, 9.9, i, '', 1, %lld FROM "
				   "generate_series(1, 1200) i",
				   cert));
	harness_sql_ok(harness_fmt("INSERT INTO movie_genres (movie_id, genre_id) SELECT id, %lld "
				   "FROM movies WHERE name LIKE 'bulk %%'",
				   w.genre[0]));
	harness_sql_ok("ANALYZE movies");
	long long drama = sql_count(
		harness_fmt("SELECT count(*) FROM movie_genres WHERE genre_id = %lld", w.genre[0]));
	get_list(harness_fmt("/api/v1/movies?genre=%lld&per_page=5", w.genre[0]), NULL, &l);
	ck_assert(l.exact);
	ck_assert_int_eq(l.total, drama);
	list_free(&l);
	get_list(harness_fmt("/api/v1/movies?genre=%lld&year_min=2000&year_max=2009&"
			     "certification=%lld&per_page=5",
			     w.genre[0], cert),
		 NULL, &l);
	ck_assert(l.exact);
	ck_assert_int_eq(
		l.total,
		sql_count(harness_fmt("SELECT count(*) FROM movie_genres WHERE genre_id = %lld "
				      "AND year BETWEEN 2000 AND 2009 AND certification_id = %lld",
				      w.genre[0], cert)));
	list_free(&l);
	long long high = sql_count("SELECT count(*) FROM movies WHERE imdb >= 9.5");
	ck_assert_int_gt(high, MOVIES_EXACT_COUNT_MAX);
	get_list("/api/v1/movies?imdb_min=9.5&per_page=5", NULL, &l);
	ck_assert(!l.exact);
	ck_assert_int_gt(l.total, MOVIES_EXACT_COUNT_MAX);
	ck_assert_int_eq(l.total_pages, (l.total + 4) / 5);
	ck_assert_str_ne(l.next, "");
	list_free(&l);
	get_list("/api/v1/movies?imdb_min=9.5&year=1995&per_page=5", NULL, &l);
	ck_assert(l.exact); /* 40 matches: counted */
	ck_assert_int_eq(l.total, sql_count("SELECT count(*) FROM movies WHERE imdb >= 9.5 AND "
					    "year = 1995"));
	list_free(&l);
	get_list(harness_fmt("/api/v1/movies?imdb_min=9.5&per_page=100&page=%lld",
			     (high + 99) / 100),
		 NULL, &l);
	ck_assert(l.exact); /* the last page counts itself */
	ck_assert_int_eq(l.total, high);
	list_free(&l);
	/* Past page 5, next_page carries the cursor; following it to the end
	 * visits every match once. */
	get_list("/api/v1/movies?imdb_min=9.5&sort=votes&per_page=100&page=5", NULL, &l);
	ck_assert_ptr_nonnull(strstr(l.next, "cursor="));
	ck_assert_ptr_nonnull(strstr(l.next, "page=6&per_page=100"));
	list_free(&l);
	long long *all = calloc((size_t)high + 10, sizeof(*all));
	ck_assert_ptr_nonnull(all);
	n = walk_cursor("/api/v1/movies?imdb_min=9.5&sort=votes&per_page=97", NULL, all,
			(int)high + 10);
	ck_assert_int_eq(n, high);
	free(all);

	/* Misspelt and prefix searches; the misspelling fallback keeps the
	 * other filters (not a genre: Casablanca lost its links above). */
	int casablanca = movie_index("Casablanca", 0);
	check_search("casablnca", "", casablanca, END);
	check_search("casab", "", casablanca, END);
	check_search("casablnca", harness_fmt("&certification=%lld", w.cert[CERT_G]), casablanca,
		     END);
	check_search("casablnca", harness_fmt("&certification=%lld", w.cert[CERT_R]), END);
	check_search("casablnca", "&year_min=1950", END);

	/* Relevance by cursor: the title match (tier 0), then the matches in
	 * descriptions (tier 1), in the order of one numbered page. */
	long long rel[8];
	n = walk_cursor("/api/v1/movies?search=harbor&per_page=1", NULL, rel, 8);
	get_list("/api/v1/movies?search=harbor&per_page=100", NULL, &l);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(l.n, n);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(rel[i], l.ids[i]);
	list_free(&l);

	/* A genre with a search is counted through the join of movie_genres
	 * and movies (per_page=1: the first page is not the last). */
	long long detectives =
		sql_count(harness_fmt("SELECT count(*) FROM movie_genres g JOIN movies m ON m.id = "
				      "g.movie_id WHERE g.genre_id = %lld AND m.search_doc @@ "
				      "to_tsquery('simple', 'detective:*')",
				      w.genre[THRILLER]));
	ck_assert_int_gt(detectives, 1);
	static const char *const genre_search_sorts[] = {"", "&sort=name", "&sort=-rating", NULL};
	for (int k = 0; genre_search_sorts[k]; k++) {
		get_list(harness_fmt("/api/v1/movies?genre=%lld&search=detective&per_page=1%s",
				     w.genre[THRILLER], genre_search_sorts[k]),
			 NULL, &l);
		ck_assert(l.exact);
		ck_assert_int_eq(l.total, detectives);
		ck_assert_int_eq(l.n, 1);
		list_free(&l);
	}

	/* A cursor past the end: no rows, no next page, the count of all. */
	long long all_movies = sql_count("SELECT count(*) FROM movies");
	ck_assert(movie_cursor_make("-name", 0, "", 1, c, sizeof(c)));
	get_list(harness_fmt("/api/v1/movies?sort=-name&cursor=%s", c), NULL, &l);
	ck_assert_int_eq(l.n, 0);
	ck_assert_str_eq(l.next, "");
	ck_assert(l.exact);
	ck_assert_int_eq(l.total, all_movies);
	list_free(&l);

	/* The deepest page there is: empty, counted, prev_page on the last
	 * page with items; plain, searched, and filtered past the counters. */
	get_list("/api/v1/movies?per_page=100&page=1000000", NULL, &l);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(l.total, all_movies);
	ck_assert_ptr_nonnull(strstr(l.prev, harness_fmt("page=%lld&", (all_movies + 99) / 100)));
	list_free(&l);
	get_list("/api/v1/movies?search=harbor&per_page=100&page=1000000", NULL, &l);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(l.total, 3);
	list_free(&l);
	get_list("/api/v1/movies?imdb_min=9.5&sort=-rating&per_page=100&page=1000000", NULL, &l);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_gt(l.total, MOVIES_EXACT_COUNT_MAX);
	ck_assert(!l.exact);
	list_free(&l);
}
END_TEST

int main(void)
{
	if (!harness_main_ready("catalog_test_movies"))
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	Suite *s = suite_create("catalog");

	TCase *tc = tcase_create("list");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, movie_filters);
	tcase_add_test(tc, movie_sorts);
	tcase_add_test(tc, movie_pagination);
	tcase_add_test(tc, movie_search);
	tcase_add_test(tc, movie_search_unicode);
	tcase_add_test(tc, movie_search_syntax);
	tcase_add_test(tc, movie_keyset_counts);
	suite_add_tcase(s, tc);

	tc = tcase_create("movie");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, movie_detail);
	tcase_add_test(tc, movie_detail_rendered);
	tcase_add_test(tc, moderator_routes_refused);
	tcase_add_test(tc, movie_writes);
	suite_add_tcase(s, tc);

	tc = tcase_create("lookups");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, lookup_crud);
	tcase_add_test(tc, favorites_list);
	suite_add_tcase(s, tc);

	return harness_run(s);
}
