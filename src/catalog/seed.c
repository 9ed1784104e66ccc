/* `cinema-api seed` (see seed.h).
 *
 * The data file is checked in full before anything is written, then sent to
 * the server as one jsonb parameter: a few set-based statements upsert the
 * lookups, insert the movies with their associations and rebuild their
 * search documents, all in one transaction on one connection. Generated
 * movies are made entirely on the server from generate_series, one chunk
 * per statement and transaction; every value of generated movie number n is
 * drawn from hashes of n, so runs are repeatable (see "generated catalogs"
 * below and docs/CATALOG.md). */
#include "catalog/seed.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/list_cache.h"
#include "catalog/seed_words.h"
#include "cinema/config.h"
#include "cinema/db.h"
#include "cinema/kv.h"
#include "cinema/log.h"
#include "cinema/mem.h"
#include "media/seed.h"

#define SEED_ERR_MAX 512

/* Generated movies per statement and transaction: bounds the server's memory
 * (the chunk's rows are materialized once) and what an interruption loses. */
#define SEED_CHUNK 50000
/* Tries per chunk to replace the candidates whose (name, year, time) exists. */
#define SEED_CHUNK_TRIES 20

/* Bounds of the schema (migrations/0004_catalog.sql) and of a sane file. */
#define NAME_MAX_CHARS	      300
#define DESCRIPTION_MAX_CHARS 10000
#define CERT_MAX_CHARS	      32
#define GENRE_MAX_CHARS	      100
#define PERSON_MAX_CHARS      200
#define GENRES_MAX	      10
#define PEOPLE_MAX	      50

/* ---- checking the data file ---- */

static const char *const movie_fields[] = {
	"name",	       "year",	"time",		 "imdb",   "votes", "meta_score", "gross",
	"description", "price", "certification", "genres", "stars", "directors",  NULL};

/* Characters (code points) of a valid UTF-8 string, as jansson guarantees. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static bool check_text(const json_t *v, size_t min, size_t max)
{
	size_t n;

	if (!json_is_string(v))
		return false;
	n = utf8_chars(json_string_value(v));
	return n >= min && n <= max;
}

static bool check_int(const json_t *v, long long min, long long max)
{
	return json_is_integer(v) && json_integer_value(v) >= min && json_integer_value(v) <= max;
}

static bool check_number(const json_t *v, double min, double max)
{
	return json_is_number(v) && json_number_value(v) >= min && json_number_value(v) <= max;
}

/* "9.99": 1 to 8 digits, a point, 2 digits (numeric(10,2)). */
static bool check_price(const json_t *v)
{
	const char *s, *dot;
	size_t whole;

	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	dot = strchr(s, '.');
	if (!dot)
		return false;
	whole = (size_t)(dot - s);
	if (whole < 1 || whole > 8 || strlen(dot + 1) != 2)
		return false;
	for (const char *p = s; *p; p++)
		if (p != dot && (*p < '0' || *p > '9'))
			return false;
	return true;
}

/* An array of 1..max_count distinct names of 1..max_chars characters. */
static bool check_names(const json_t *v, size_t max_count, size_t max_chars)
{
	size_t n = json_array_size(v);

	if (!json_is_array(v) || n < 1 || n > max_count)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!check_text(json_array_get(v, i), 1, max_chars))
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(json_string_value(json_array_get(v, i)),
				   json_string_value(json_array_get(v, j))) == 0)
				return false;
	}
	return true;
}

/* Checks one movie; on failure writes the reason into why. */
static bool check_movie(const json_t *m, char *why, size_t whylen)
{
	const char *key;
	const json_t *v;
	const char *bad = NULL, *rule = NULL;

	if (!json_is_object(m)) {
		snprintf(why, whylen, "must be an object");
		return false;
	}
	json_object_foreach ((json_t *)m, key, v) {
		bool known = false;

		for (const char *const *f = movie_fields; *f && !known; f++)
			known = strcmp(*f, key) == 0;
		if (!known) {
			snprintf(why, whylen, "unknown field \"%s\"", key);
			return false;
		}
	}
#define RULE(field, ok, text)        \
	do {                         \
		if (!bad && !(ok)) { \
			bad = field; \
			rule = text; \
		}                    \
	} while (0)
	RULE("name", check_text(json_object_get(m, "name"), 1, NAME_MAX_CHARS),
	     "must be a string of 1 to 300 characters");
	RULE("year", check_int(json_object_get(m, "year"), 1888, 2100),
	     "must be an integer from 1888 to 2100");
	RULE("time", check_int(json_object_get(m, "time"), 1, 1500),
	     "must be a runtime in minutes from 1 to 1500");
	RULE("imdb", check_number(json_object_get(m, "imdb"), 0, 10),
	     "must be a number from 0 to 10");
	RULE("votes", check_int(json_object_get(m, "votes"), 0, INT_MAX),
	     "must be a non-negative integer");
	v = json_object_get(m, "meta_score");
	RULE("meta_score", !v || json_is_null(v) || check_number(v, 0, 100),
	     "must be null or a number from 0 to 100");
	v = json_object_get(m, "gross");
	RULE("gross", !v || json_is_null(v) || check_number(v, 0, 1e15),
	     "must be null or a non-negative number of dollars");
	RULE("description", check_text(json_object_get(m, "description"), 0, DESCRIPTION_MAX_CHARS),
	     "must be a string of at most 10000 characters");
	RULE("price", check_price(json_object_get(m, "price")),
	     "must be a string with two decimals, such as \"9.99\"");
	RULE("certification", check_text(json_object_get(m, "certification"), 1, CERT_MAX_CHARS),
	     "must be a string of 1 to 32 characters");
	RULE("genres", check_names(json_object_get(m, "genres"), GENRES_MAX, GENRE_MAX_CHARS),
	     "must be an array of 1 to 10 distinct names");
	RULE("stars", check_names(json_object_get(m, "stars"), PEOPLE_MAX, PERSON_MAX_CHARS),
	     "must be an array of 1 to 50 distinct names");
	RULE("directors",
	     check_names(json_object_get(m, "directors"), PEOPLE_MAX, PERSON_MAX_CHARS),
	     "must be an array of 1 to 50 distinct names");
#undef RULE
	if (bad) {
		snprintf(why, whylen, "\"%s\" %s", bad, rule);
		return false;
	}
	return true;
}

struct movie_key {
	const char *name;
	long long year, time;
	size_t index;
};

static int movie_key_cmp(const void *a, const void *b)
{
	const struct movie_key *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c == 0)
		c = (x->year > y->year) - (x->year < y->year);
	if (c == 0)
		c = (x->time > y->time) - (x->time < y->time);
	if (c == 0)
		c = (x->index > y->index) - (x->index < y->index);
	return c;
}

bool catalog_seed_check(const json_t *movies, char *err, size_t errlen)
{
	char why[256];
	size_t n = json_array_size(movies);
	struct movie_key *keys = NULL;
	bool ok = false;

	if (!json_is_array(movies)) {
		snprintf(err, errlen, "the file must hold a JSON array of movies");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *m = json_array_get(movies, i);

		if (!check_movie(m, why, sizeof(why))) {
			const char *name = json_string_value(json_object_get(m, "name"));

			if (name)
				snprintf(err, errlen, "entry %zu (\"%s\"): %s", i, name, why);
			else
				snprintf(err, errlen, "entry %zu: %s", i, why);
			goto out;
		}
	}
	/* (name, year, time) is the movies' natural key: a duplicate would be
	 * skipped silently by the insert, so say so now. */
	keys = xcalloc(n, sizeof(*keys));
	for (size_t i = 0; i < n; i++) {
		const json_t *m = json_array_get(movies, i);

		keys[i].name = json_string_value(json_object_get(m, "name"));
		keys[i].year = json_integer_value(json_object_get(m, "year"));
		keys[i].time = json_integer_value(json_object_get(m, "time"));
		keys[i].index = i;
	}
	qsort(keys, n, sizeof(*keys), movie_key_cmp);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(keys[i].name, keys[i - 1].name) == 0 &&
		    keys[i].year == keys[i - 1].year && keys[i].time == keys[i - 1].time) {
			snprintf(err, errlen,
				 "entry %zu (\"%s\"): \"name\", \"year\" and \"time\" repeat entry "
				 "%zu",
				 keys[i].index, keys[i].name, keys[i - 1].index);
			goto out;
		}
	}
	ok = true;
out:
	free(keys);
	return ok;
}

/* ---- SQL ---- */

static const struct db_stmt stmt_lock = {
	"catalog_seed_lock",
	/* One seed at a time: generated names are numbered from max(id). */
	"SELECT pg_advisory_xact_lock(hashtext('cinema-api seed'))"};

static const struct db_stmt stmt_lookup_counts = {
	"catalog_seed_lookup_counts",
	"SELECT least((SELECT count(*) FROM certifications), (SELECT count(*) FROM genres), "
	"(SELECT count(*) FROM stars), (SELECT count(*) FROM directors))"};

/* $1 is the checked data file. Lookups are inserted in name order so that
 * their ids are the same on every fresh database. */
static const struct db_stmt stmt_file_certifications = {
	"catalog_seed_file_certifications",
	"INSERT INTO certifications (name) "
	"SELECT m->>'certification' FROM jsonb_array_elements($1::jsonb) AS e(m) "
	"EXCEPT SELECT name FROM certifications ORDER BY 1 "
	"ON CONFLICT (name) DO NOTHING"};

#define FILE_NAMES_SQL(table, field)                              \
	"INSERT INTO " table " (name) "                           \
	"SELECT v FROM jsonb_array_elements($1::jsonb) AS e(m), " \
	"jsonb_array_elements_text(m->'" field "') AS a(v) "      \
	"EXCEPT SELECT name FROM " table " ORDER BY 1 ON CONFLICT (name) DO NOTHING"

static const struct db_stmt stmt_file_genres = {"catalog_seed_file_genres",
						FILE_NAMES_SQL("genres", "genres")};
static const struct db_stmt stmt_file_stars = {"catalog_seed_file_stars",
					       FILE_NAMES_SQL("stars", "stars")};
static const struct db_stmt stmt_file_directors = {"catalog_seed_file_directors",
						   FILE_NAMES_SQL("directors", "directors")};

#define FILE_LINKS_SQL(cte, link, column, table, field)                                   \
	cte " AS (INSERT INTO " link " (movie_id, " column ") "                           \
	    "SELECT DISTINCT added.id, x.id FROM added "                                  \
	    "CROSS JOIN LATERAL jsonb_array_elements_text(added.m->'" field "') AS a(v) " \
	    "JOIN " table " x ON x.name = a.v) "

#define FILE_LINKS_GENRES FILE_LINKS_SQL("g", "movie_genres", "genre_id", "genres", "genres")
#define FILE_LINKS_STARS  FILE_LINKS_SQL("s", "movie_stars", "star_id", "stars", "stars")
#define FILE_LINKS_DIRECTORS \
	FILE_LINKS_SQL("d", "movie_directors", "director_id", "directors", "directors")

/* Inserts the movies that are not there yet, with their associations, and
 * returns how many and their ids (a bigint[] literal). */
static const struct db_stmt stmt_file_movies = {
	"catalog_seed_file_movies",
	"WITH src AS (SELECT m, n "
	"FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(m, n)), "
	"ins AS (INSERT INTO movies (name, year, time, imdb, votes, meta_score, gross, "
	"description, price, certification_id) "
	"SELECT src.m->>'name', (src.m->>'year')::integer, (src.m->>'time')::integer, "
	"(src.m->>'imdb')::double precision, (src.m->>'votes')::integer, "
	"(src.m->>'meta_score')::double precision, (src.m->>'gross')::double precision, "
	"src.m->>'description', (src.m->>'price')::numeric, c.id "
	"FROM src JOIN certifications c ON c.name = src.m->>'certification' "
	"WHERE NOT EXISTS (SELECT 1 FROM movies x WHERE x.name = src.m->>'name' "
	"AND x.year = (src.m->>'year')::integer AND x.time = (src.m->>'time')::integer) "
	"ORDER BY src.n "
	"ON CONFLICT (name, year, time) DO NOTHING RETURNING id, name, year, time), "
	"added AS (SELECT ins.id, src.m FROM ins JOIN src ON src.m->>'name' = ins.name "
	"AND (src.m->>'year')::integer = ins.year "
	"AND (src.m->>'time')::integer = ins.time), " /* then g, s, d: the links */
	FILE_LINKS_GENRES ", " FILE_LINKS_STARS ", " FILE_LINKS_DIRECTORS
	"SELECT count(*), coalesce(array_agg(id ORDER BY id), '{}') FROM added"};

static const struct db_stmt stmt_file_search = {"catalog_seed_file_search",
						"SELECT movies_refresh_derived($1::bigint[])"};

/* ---- generated catalogs (docs/CATALOG.md "Generated catalogs") ----
 *
 * Every value of generated movie number n is drawn from hashes of n, and
 * movie n gets id n: a chunk numbers its candidates from max(id) + 1 and
 * first moves the id sequence past them, so the API's own inserts never
 * take those ids. A candidate whose (name, year, time) exists is skipped
 * (its id stays unused), and the chunk tries further numbers. Since the
 * outcome of each number depends only on n and the rows before it, the same
 * commands on an empty database give the same catalog, ids included,
 * wherever the chunks fall; a run interrupted and finished with the rest
 * has the same movies and ids, though its later movies may draw other
 * people (the pool is sized at each run's start). */

/* clang-format off */
/* A uniform draw in (0, 1) from hash k of n. */
#define U(k) "((hashint8extended(i.n, " #k ") & 2147483647)::float8 + 0.5) / 2147483648"
/* A standard normal draw from two uniforms (Box-Muller). */
#define NORMAL(a, b) "(sqrt(-2 * ln(h." a ")) * cos(2 * pi() * h." b "))"
/* Rank 1..k (float8 k) drawn Zipf-like with exponent 1 and offset q:
 * P(r) ~ 1 / (r + q), by inverting the continuous law. */
#define ZIPF1(u, k, q) \
	"least(" k ", floor((" q " + 1) * power((" k " + " q " + 1) / (" q " + 1), " u ") - " q "))::int"
/* The same with exponent 1.2 (a heavier head): people's appearances. */
#define ZIPF12(u, k, q)                                                                   \
	"least(" k ", greatest(1, floor(power(power(" q " + 1, -0.2) + " u " * (power(" k \
	" + " q " + 1, -0.2) - power(" q " + 1, -0.2)), -5) - " q ")))::int"
#define STAR(u)	    "p.stars[" ZIPF12("h." u, "z.ns", "z.qs") "]"
#define DIRECTOR(u) "p.directors[" ZIPF12("h." u, "z.nd", "z.qd") "]"
#define GENRE(u)    "p.genres[" ZIPF1("h." u, "z.ng", "0.5") "]"
#define TITLE_WORD(u) "initcap(p.tw[" ZIPF1("h." u, "z.nt", "40") "]::text)"
/* The ids and names of 1..limit distinct picks (an array of candidates, in
 * order of preference; a candidate equal to an earlier one is passed over)
 * from table, as the id array, the JSON list and the names that
 * movies_refresh_derived() (migrations/0008_movie_lists.sql) builds: sorted
 * by name, then id, and the JSON text exactly as json_agg(json_build_object(
 * 'id', id, 'name', name)) writes it. One sort feeds the three aggregates,
 * and the JSON is built as text: json_build_object costs several times more
 * (test_seed compares the columns with the function's). */
#define PICKED(table, candidates, limit)                                                   \
	"CROSS JOIN LATERAL (SELECT array_agg(s.id) AS ids, ('[' || string_agg('{\"id\" : ' " \
	"|| s.id || ', \"name\" : ' || to_json(s.name)::text || '}', ', ') || ']')::json "    \
	"AS js, string_agg(s.name, ' ') AS txt FROM (SELECT x.id, x.name FROM (SELECT c.x "   \
	"FROM unnest(" candidates ") WITH ORDINALITY AS c(x, o) WHERE c.x <> ALL (("          \
	candidates ")[1:c.o - 1]) LIMIT " limit ") k JOIN " table " x ON x.id = k.x "         \
	"ORDER BY x.name, x.id) s) "

/* Popularity order of the genres and certifications that the demo catalog
 * has (others follow, by id): picks are Zipf-like over this order. */
#define GENRE_ORDER                                                                           \
	"ARRAY['Drama', 'Comedy', 'Action', 'Thriller', 'Romance', 'Crime', 'Adventure', "   \
	"'Horror', 'Mystery', 'Fantasy', 'Sci-Fi', 'Family', 'Biography', 'Animation', "     \
	"'History', 'War', 'Music', 'Sport', 'Musical', 'Western', 'Film-Noir']"
#define CERT_ORDER "ARRAY['R', 'PG-13', 'Not Rated', 'PG', 'Approved', 'G', 'Passed', 'NC-17']"

/* $1 people wanted in the pool (generated person numbers 0..$1-1), $2 first
 * names, $3 last names (space-separated). Person k is a first and a last
 * name, every pair once, then pairs with a middle initial ("Anna K. Berg"),
 * then with a number: names are unique by construction, and only the ones
 * not there yet are inserted, in k order, so ids are repeatable. mix varies
 * the pairing between stars and directors. */
#define PEOPLE_SQL(table, mix)                                                             \
	"INSERT INTO " table " (name) SELECT g.name FROM (SELECT k, "                      \
	"w.f[1 + c % w.nf] || CASE WHEN t = 0 THEN ' ' "                                   \
	"ELSE ' ' || chr(65 + ((t - 1) % 26)::int) || '. ' END "                           \
	"|| w.l[1 + (c / w.nf + (c % w.nf) * " mix ") % w.nl] "                            \
	"|| CASE WHEN t > 26 THEN ' ' || ((t - 1) / 26 + 1)::text ELSE '' END AS name "    \
	"FROM (SELECT f, l, cardinality(f)::bigint AS nf, cardinality(l)::bigint AS nl "   \
	"FROM (SELECT string_to_array($2, ' ') AS f, string_to_array($3, ' ') AS l) a) w " \
	"CROSS JOIN generate_series(0, $1::bigint - 1) AS k "                              \
	"CROSS JOIN LATERAL (SELECT k % (w.nf * w.nl) AS c, k / (w.nf * w.nl) AS t) x) g " \
	"WHERE NOT EXISTS (SELECT 1 FROM " table " s WHERE s.name = g.name) "              \
	"ORDER BY g.k ON CONFLICT (name) DO NOTHING"

static const struct db_stmt stmt_people_stars = {"catalog_seed_people_stars",
						 PEOPLE_SQL("stars", "7")};
static const struct db_stmt stmt_people_directors = {"catalog_seed_people_directors",
						     PEOPLE_SQL("directors", "13 + 101")};

/* The movies' highest id, from which generated numbers continue. */
static const struct db_stmt stmt_max_id = {"catalog_seed_max_id",
					   "SELECT coalesce(max(id), 0) FROM movies"};

/* $1 the last number already tried ('' for max(id)), $2 how many to try:
 * returns the base (numbers base + 1 .. base + $2 follow), after moving the
 * id sequence to at least base + $2. */
static const struct db_stmt stmt_reserve = {
	"catalog_seed_reserve",
	"SELECT b, setval(pg_get_serial_sequence('movies', 'id'), greatest(b + $2::bigint, "
	"pg_sequence_last_value(pg_get_serial_sequence('movies', 'id')::regclass))) "
	"FROM (SELECT coalesce(nullif($1, '')::bigint, (SELECT coalesce(max(id), 0) FROM movies)) "
	"AS b) x"};

/* $1 movies to try, $2 the description words, $3 the title words, $4 the
 * base (numbers $4 + 1 .. $4 + $1, reserved by stmt_reserve). Returns how
 * many were tried, inserted and linked (always the inserted). A candidate
 * whose (name, year, time) exists is skipped; the caller tries again with
 * further numbers. The stars and directors are the
 * whole tables, in an order shuffled by a hash of their ids; genres and
 * certifications are in popularity order. Every field is documented in
 * docs/CATALOG.md. search_doc and the JSON lists are built here exactly as
 * movies_refresh_derived() builds them, so the rows are written once. */
static const struct db_stmt stmt_generate = {
	"catalog_seed_generate",
	"WITH pool AS MATERIALIZED (SELECT "
	"$4::bigint AS base, "
	"(SELECT array_agg(id ORDER BY coalesce(array_position(" CERT_ORDER ", name), 99), id) "
	"FROM certifications) AS certs, "
	"(SELECT array_agg(id ORDER BY coalesce(array_position(" GENRE_ORDER ", name), 99), id) "
	"FROM genres) AS genres, "
	"(SELECT array_agg(id ORDER BY hashint8extended(id, 5), id) FROM stars) AS stars, "
	"(SELECT array_agg(id ORDER BY hashint8extended(id, 6), id) FROM directors) AS directors, "
	/* name[] has fixed-width elements: subscripts are O(1), not a walk. */
	"string_to_array($2, ' ')::name[] AS dw, string_to_array($3, ' ')::name[] AS tw), "
	"sizes AS (SELECT cardinality(certs)::float8 AS nc, cardinality(genres)::float8 AS ng, "
	"cardinality(stars)::float8 AS ns, cardinality(directors)::float8 AS nd, "
	"cardinality(dw)::float8 AS nw, cardinality(tw)::float8 AS nt, "
	"100::float8 AS qs, 300::float8 AS qd FROM pool), "
	"gen AS MATERIALIZED (SELECT i.n, "
	"t.title || CASE WHEN h.u8 < 0.03 THEN (ARRAY[' 2', ' 3', ' II', ' III', ' 4'])"
	"[1 + floor(h.u8 * 1000)::int % 5] ELSE '' END AS name, "
	"v.year, v.time, v.imdb, v.votes, v.meta_score, v.gross, ds.description, v.price, "
	"v.certification_id, e.likes, e.dislikes, e.favorites, e.rating_count, e.rating_sum, "
	"ge.ids AS genre_ids, ge.js AS genres_json, st.ids AS star_ids, st.js AS stars_json, "
	"st.txt AS star_text, di.ids AS director_ids, di.js AS directors_json, "
	"di.txt AS director_text "
	"FROM pool p CROSS JOIN sizes z "
	"CROSS JOIN generate_series(p.base + 1, p.base + $1::bigint) AS i(n) "
	/* OFFSET 0 keeps each draw computed once per movie. */
	"CROSS JOIN LATERAL (SELECT " U(1) " AS u1, " U(2) " AS u2, " U(3) " AS u3, " U(4) " AS u4, "
	U(5) " AS u5, " U(6) " AS u6, " U(7) " AS u7, " U(8) " AS u8, " U(9) " AS u9, "
	U(10) " AS u10, " U(11) " AS u11, " U(12) " AS u12, " U(13) " AS u13, " U(14) " AS u14, "
	U(15) " AS u15, " U(16) " AS u16, " U(17) " AS u17, " U(18) " AS u18, " U(19) " AS u19, "
	U(20) " AS u20, " U(21) " AS u21, " U(22) " AS u22, " U(23) " AS u23, " U(24) " AS u24, "
	U(25) " AS u25, " U(26) " AS u26, " U(27) " AS u27, " U(28) " AS u28, " U(29) " AS u29, "
	U(30) " AS u30, " U(31) " AS u31, " U(32) " AS u32, " U(33) " AS u33, " U(34) " AS u34, "
	U(35) " AS u35, " U(36) " AS u36, " U(37) " AS u37, " U(38) " AS u38, " U(39) " AS u39, "
	U(40) " AS u40, " U(41) " AS u41, " U(42) " AS u42, " U(43) " AS u43, " U(44) " AS u44, "
	U(45) " AS u45, " U(46) " AS u46 OFFSET 0) h "
	/* Years grow 2.8% a year from 1920: 2000-2025 hold about half. */
	"CROSS JOIN LATERAL (SELECT least(2025, 1920 + floor(ln(1 + h.u9 * "
	"(exp(105 * 0.0277::float8) - 1)) / 0.0277)::int) AS year, "
	"least(200, greatest(70, round(exp(ln(100::float8) + 0.2 * " NORMAL("u10", "u11")
	"))::int)) AS time, "
	"round(least(9.8, greatest(1.0, 6.3 + 1.1 * " NORMAL("u12", "u13")
	"))::numeric, 1)::float8 AS imdb, "
	"least(2900000, greatest(5, round(exp(ln(2500::float8) + 1.8 * " NORMAL("u14", "u15")
	"))))::int AS votes, "
	"CASE WHEN h.u16 < 0.2 THEN NULL ELSE least(100, greatest(1, round(58 + 17 * "
	NORMAL("u17", "u18") "))) END AS meta_score, "
	"CASE WHEN h.u19 < 1 / 3.0::float8 THEN NULL ELSE least(3e9::float8, "
	"round(exp(ln(2e7::float8) + 1.6 * " NORMAL("u20", "u21") "))) END AS gross, "
	"(CASE WHEN h.u22 < 0.10 THEN 1.99 WHEN h.u22 < 0.32 THEN 2.99 WHEN h.u22 < 0.52 "
	"THEN 3.99 WHEN h.u22 < 0.68 THEN 4.99 WHEN h.u22 < 0.79 THEN 5.99 WHEN h.u22 < 0.88 "
	"THEN 7.99 WHEN h.u22 < 0.95 THEN 9.99 WHEN h.u22 < 0.98 THEN 12.99 ELSE 14.99 END)"
	"::numeric(10, 2) AS price, "
	"p.certs[" ZIPF1("h.u23", "z.nc", "1") "] AS certification_id OFFSET 0) v "
	/* Imported engagement: a Pareto "fame" (most movies near 0, a few huge)
	 * scales likes, dislikes, favorites and ratings, whose average follows
	 * the IMDb score. */
	"CROSS JOIN LATERAL (SELECT floor(power(h.u41, -1 / 1.1::float8) - 1) AS f OFFSET 0) fame "
	"CROSS JOIN LATERAL (SELECT least(1000000, floor(2 * fame.f))::int AS likes, "
	"least(1000000, floor(fame.f * (0.1 + 0.5 * h.u42)))::int AS dislikes, "
	"least(1000000, floor(fame.f * (0.3 + 0.5 * h.u43)))::int AS favorites, "
	"least(1000000, floor(fame.f * (0.5 + h.u44)))::int AS rating_count OFFSET 0) e0 "
	"CROSS JOIN LATERAL (SELECT e0.likes, e0.dislikes, e0.favorites, e0.rating_count, "
	"round(e0.rating_count * least(10, greatest(1, v.imdb + 1.5 * (h.u45 - 0.5))))::int "
	"AS rating_sum) e "
	/* Titles: "The X", "X of the Y", "X of Y", "X and Y", "A X", "X in the Y"
	 * or X, where X is one to three words; 3% are sequels. */
	"CROSS JOIN LATERAL (SELECT CASE WHEN h.u1 < 0.22 THEN 'The ' || w.x "
	"WHEN h.u1 < 0.29 THEN w.w3 || ' of the ' || w.w4 "
	"WHEN h.u1 < 0.33 THEN w.w3 || ' of ' || w.w4 "
	"WHEN h.u1 < 0.37 THEN w.w3 || ' and ' || w.w4 WHEN h.u1 < 0.41 THEN 'A ' || w.x "
	"WHEN h.u1 < 0.43 THEN w.w3 || ' in the ' || w.w4 ELSE w.x END AS title "
	"FROM (SELECT w1 || CASE WHEN h.u2 < 0.25 THEN '' WHEN h.u2 < 0.75 THEN ' ' || w2 "
	"ELSE ' ' || w2 || ' ' || w5 END AS x, w3, w4 "
	"FROM (SELECT " TITLE_WORD("u3") " AS w1, " TITLE_WORD("u4") " AS w2, " TITLE_WORD("u5")
	" AS w3, " TITLE_WORD("u6") " AS w4, " TITLE_WORD("u7") " AS w5) w0) w) t "
	/* Descriptions: 15 to 40 words, Zipf-like over the whole vocabulary. */
	"CROSS JOIN LATERAL (SELECT upper(left(a.s, 1)) || substr(a.s, 2) || '.' AS description "
	"FROM (SELECT string_agg(p.dw[" ZIPF1("((hashint8extended(i.n, 1000 + g.k) & "
					      "2147483647)::float8 + 0.5) / 2147483648",
					      "z.nw", "1") "]::text, ' ') AS s "
	"FROM generate_series(1, 15 + floor(h.u24 * 26)::int) AS g(k)) a) ds "
	/* Candidates for the picks below; a small array per movie, so that no
	 * lateral subquery takes the big pool arrays as a parameter. */
	"CROSS JOIN LATERAL (SELECT ARRAY[" GENRE("u25") ", " GENRE("u26") ", " GENRE("u27") ", "
	GENRE("u28") ", " GENRE("u29") "] AS gc, ARRAY[" STAR("u31") ", " STAR("u32") ", "
	STAR("u33") ", " STAR("u34") ", " STAR("u35") ", " STAR("u36") ", " STAR("u37")
	"] AS sc, ARRAY[" DIRECTOR("u39") ", " DIRECTOR("u40") "] AS dc OFFSET 0) pk "
	PICKED("genres", "pk.gc",
	       "CASE WHEN h.u30 < 0.45 THEN 1 WHEN h.u30 < 0.80 THEN 2 ELSE 3 END") "ge "
	PICKED("stars", "pk.sc",
	       "CASE WHEN h.u38 < 0.15 THEN 2 WHEN h.u38 < 0.50 THEN 3 WHEN h.u38 < 0.85 THEN 4 "
	       "ELSE 5 END") "st "
	PICKED("directors", "pk.dc", "CASE WHEN h.u46 < 0.08 THEN 2 ELSE 1 END") "di), "
	"ins AS (INSERT INTO movies (id, name, year, time, imdb, votes, meta_score, gross, "
	"description, price, certification_id, likes, dislikes, favorites, rating_sum, "
	"rating_count, search_doc, genres_json, stars_json, directors_json) "
	"OVERRIDING SYSTEM VALUE "
	"SELECT n, name, year, time, imdb, votes, meta_score, gross, description, price, "
	"certification_id, likes, dislikes, favorites, rating_sum, rating_count, "
	"setweight(to_tsvector('simple', name), 'A') "
	"|| setweight(to_tsvector('simple', coalesce(star_text, '')), 'B') "
	"|| setweight(to_tsvector('simple', coalesce(director_text, '')), 'B') "
	"|| setweight(to_tsvector('simple', description), 'C'), "
	"coalesce(genres_json, '[]'), coalesce(stars_json, '[]'), coalesce(directors_json, '[]') "
	"FROM gen ORDER BY n ON CONFLICT (name, year, time) DO NOTHING "
	"RETURNING id, name, year, time), "
	"added AS (SELECT ins.id, gen.genre_ids, gen.star_ids, gen.director_ids FROM ins "
	"JOIN gen ON gen.n = ins.id AND gen.name = ins.name AND gen.year = ins.year "
	"AND gen.time = ins.time), "
	"lg AS (INSERT INTO movie_genres (movie_id, genre_id) "
	"SELECT a.id, x FROM added a CROSS JOIN LATERAL unnest(a.genre_ids) AS x), "
	"ls AS (INSERT INTO movie_stars (movie_id, star_id) "
	"SELECT a.id, x FROM added a CROSS JOIN LATERAL unnest(a.star_ids) AS x), "
	"ld AS (INSERT INTO movie_directors (movie_id, director_id) "
	"SELECT a.id, x FROM added a CROSS JOIN LATERAL unnest(a.director_ids) AS x) "
	"SELECT $1::bigint, (SELECT count(*) FROM ins), (SELECT count(*) FROM added)"};

#undef U
#undef NORMAL
#undef ZIPF1
#undef ZIPF12
#undef STAR
#undef DIRECTOR
#undef GENRE
#undef TITLE_WORD
#undef PICKED
#undef GENRE_ORDER
#undef CERT_ORDER
/* clang-format on */

/* ---- the command ---- */

struct seed_run {
	const char *path;
	bool file_always;   /* false with --movies: only when the catalog is empty */
	long long generate; /* movies to generate */
	char *movies_json;  /* the checked file, compact; NULL until loaded */
	/* Results, reset at the start of each attempt. */
	long long file_added;
	long long lookups_added;
	long long people_added; /* generated stars and directors */
	/* Generated movies: the committed chunks' totals, and the current
	 * chunk's (reset at the start of each attempt of it). */
	long long generated;
	long long skipped; /* candidates whose (name, year, time) existed */
	long long chunk_want;
	long long chunk_added;
	long long chunk_skipped;
	char err[SEED_ERR_MAX]; /* a failure that is not the database's */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cinema-api seed [--file PATH] [--movies N]\n"
		"       cinema-api seed --media DIR\n\n"
		"Loads the demo catalog from a JSON data file into DATABASE_URL, in one\n"
		"transaction. Movies already there (same name, year and runtime) are skipped,\n"
		"so seeding again adds nothing.\n\n"
		"  --file PATH  the data file (default: SEED_FILE, else %s)\n"
		"  --movies N   instead add N generated movies (0 to %d) for benchmarks;\n"
		"               the data file is loaded first if the catalog is empty\n"
		"  --media DIR  instead store and link the media files DIR/media.tsv lists\n"
		"               (lines INDEX KIND FILE DURATION_S; see src/media/seed.h)\n"
		"  --help       print this and exit\n\n"
		"Generated movies have realistic distributions (docs/CATALOG.md, \"Generated\n"
		"catalogs\"): titles and descriptions drawn Zipf-like from a fixed vocabulary,\n"
		"1-3 genres, 2-5 stars and 1-2 directors from a pool of generated people\n"
		"sized to the catalog (N/5 stars, N/20 directors, added once), skewed years,\n"
		"scores, votes and prices. Their likes, dislikes, favorites and ratings are\n"
		"imported counters drawn Zipf-like, with no reaction, rating or favorite rows\n"
		"behind them; popularity follows from them as for any movie, and real\n"
		"engagement adds to them. Movies are inserted in chunks of %d, each its own\n"
		"transaction, with a progress line per chunk on stderr; an interrupted run\n"
		"keeps its chunks, and movie n gets id n, numbered from max(id) + 1, so\n"
		"running the rest gives the same movies as one run (their people may\n"
		"differ). Ends with VACUUM (ANALYZE).\n",
		CATALOG_SEED_DEFAULT_FILE, CATALOG_SEED_MAX_MOVIES, SEED_CHUNK);
}

static bool parse_count(const char *s, long long *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return false;
	v = strtoll(s, &end, 10);
	if (*end || v < 0 || v > CATALOG_SEED_MAX_MOVIES)
		return false;
	*out = v;
	return true;
}

/* Reads and checks the data file into run->movies_json. */
static bool seed_load(struct seed_run *run)
{
	json_error_t jerr;
	char why[SEED_ERR_MAX - 64];
	json_t *root;

	if (run->movies_json)
		return true;
	root = json_load_file(run->path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line > 0)
			snprintf(run->err, sizeof(run->err), "%s:%d:%d: %s", run->path, jerr.line,
				 jerr.column, jerr.text);
		else
			snprintf(run->err, sizeof(run->err), "%s", jerr.text);
		return false;
	}
	if (!catalog_seed_check(root, why, sizeof(why))) {
		snprintf(run->err, sizeof(run->err), "%s: %s", run->path, why);
		json_decref(root);
		return false;
	}
	run->movies_json = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!run->movies_json) {
		snprintf(run->err, sizeof(run->err), "%s: out of memory", run->path);
		return false;
	}
	return true;
}

/* Runs stmt and adds its row count (INSERT n) to *count. */
static enum err exec_count(struct db_conn *c, const struct db_stmt *stmt, int nparams,
			   const char *const *params, long long *count)
{
	PGresult *res = NULL;
	enum err rc = db_exec(c, stmt, nparams, params, &res);

	if (rc == ERR_OK)
		*count += strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return rc;
}

static enum err seed_file(struct db_conn *c, struct seed_run *run)
{
	const struct db_stmt *const lookups[] = {&stmt_file_certifications, &stmt_file_genres,
						 &stmt_file_stars, &stmt_file_directors};
	const char *p = run->movies_json;
	PGresult *res = NULL;
	enum err rc = ERR_OK;

	for (size_t i = 0; i < sizeof(lookups) / sizeof(*lookups) && rc == ERR_OK; i++)
		rc = exec_count(c, lookups[i], 1, &p, &run->lookups_added);
	if (rc == ERR_OK)
		rc = db_exec(c, &stmt_file_movies, 1, &p, &res);
	if (rc == ERR_OK) {
		const char *ids = db_text(res, 0, 1);

		run->file_added = db_int(res, 0, 0);
		if (run->file_added > 0)
			rc = db_exec(c, &stmt_file_search, 1, &ids, NULL);
	}
	PQclear(res);
	return rc;
}

static enum err lookups_min(struct db_conn *c, long long *out)
{
	PGresult *res = NULL;
	enum err rc = db_exec(c, &stmt_lookup_counts, 0, NULL, &res);

	if (rc == ERR_OK)
		*out = db_int(res, 0, 0);
	PQclear(res);
	return rc;
}

/* Sets *out to the movies' highest id. */
static enum err max_id(struct db_conn *c, long long *out)
{
	PGresult *res = NULL;
	enum err rc = db_exec(c, &stmt_max_id, 0, NULL, &res);

	if (rc == ERR_OK)
		*out = db_int(res, 0, 0);
	PQclear(res);
	return rc;
}

/* The pool of generated people, sized to the catalog this run makes: about
 * one star per 5 movies and one director per 20, at least a few hundred. */
static enum err seed_people(struct db_conn *c, struct seed_run *run)
{
	long long base = 0, stars, directors;
	char n[24];
	const char *params[3] = {n, catalog_seed_first_names, catalog_seed_last_names};
	enum err rc = max_id(c, &base);

	if (rc != ERR_OK)
		return rc;
	stars = (base + run->generate) / 5;
	directors = (base + run->generate) / 20;
	snprintf(n, sizeof(n), "%lld", stars > 400 ? stars : 400);
	rc = exec_count(c, &stmt_people_stars, 3, params, &run->people_added);
	if (rc != ERR_OK)
		return rc;
	snprintf(n, sizeof(n), "%lld", directors > 200 ? directors : 200);
	return exec_count(c, &stmt_people_directors, 3, params, &run->people_added);
}

static enum err seed_tx(struct db_conn *c, void *ctx)
{
	struct seed_run *run = ctx;
	long long fewest = 0;
	enum err rc;

	run->file_added = run->lookups_added = run->people_added = 0;
	run->err[0] = '\0';
	rc = db_exec(c, &stmt_lock, 0, NULL, NULL);
	if (rc == ERR_OK && !run->file_always)
		rc = lookups_min(c, &fewest);
	if (rc != ERR_OK)
		return rc;
	if (run->file_always || fewest == 0) {
		if (!seed_load(run))
			return ERR_VALIDATION;
		rc = seed_file(c, run);
		if (rc != ERR_OK)
			return rc;
	}
	if (run->generate == 0)
		return ERR_OK;
	rc = lookups_min(c, &fewest);
	if (rc != ERR_OK)
		return rc;
	if (fewest == 0) {
		snprintf(run->err, sizeof(run->err),
			 "cannot generate movies: the catalog needs at least one certification, "
			 "genre, star and director (is %s empty?)",
			 run->path);
		return ERR_VALIDATION;
	}
	return seed_people(c, run);
}

/* One chunk of generated movies, in its own transaction: candidates whose
 * (name, year, time) exists are replaced by further numbers until the chunk
 * has run->chunk_want movies. */
static enum err seed_chunk_tx(struct db_conn *c, void *ctx)
{
	struct seed_run *run = ctx;
	char n[24], b[24], last[24] = "";
	const char *params[4] = {n, catalog_seed_words, catalog_seed_title_words, b};
	const char *reserve[2] = {last, n};
	long long base = 0, tried_before = 0;
	enum err rc;

	run->chunk_added = run->chunk_skipped = 0;
	rc = db_exec(c, &stmt_lock, 0, NULL, NULL);
	/* Memoize would key its cache on the pool arrays (megabytes per
	 * movie); the chunk's rows are materialized once, in memory. */
	if (rc == ERR_OK)
		rc = db_exec_simple(c, "SET LOCAL enable_memoize = off");
	if (rc == ERR_OK)
		rc = db_exec_simple(c, "SET LOCAL work_mem = '64MB'");
	/* The search and trigram indexes take each chunk's entries in bigger
	 * batches (about 10% less work); VACUUM at the end empties the list. */
	if (rc == ERR_OK)
		rc = db_exec_simple(c, "SET LOCAL gin_pending_list_limit = '64MB'");
	for (int i = 0; rc == ERR_OK && run->chunk_added < run->chunk_want; i++) {
		PGresult *res = NULL;
		long long tried, inserted, linked;

		if (i == SEED_CHUNK_TRIES) {
			snprintf(run->err, sizeof(run->err),
				 "%d tries did not find %lld new movie titles", SEED_CHUNK_TRIES,
				 run->chunk_want - run->chunk_added);
			return ERR_CONFLICT;
		}
		/* The first try numbers from max(id); the next ones go on after the
		 * last number tried, past the skipped ones. */
		snprintf(n, sizeof(n), "%lld", run->chunk_want - run->chunk_added);
		if (i == 0)
			last[0] = '\0';
		else
			snprintf(last, sizeof(last), "%lld", base + tried_before);
		rc = db_exec(c, &stmt_reserve, 2, reserve, &res);
		if (rc != ERR_OK)
			break;
		base = db_int(res, 0, 0);
		PQclear(res);
		snprintf(b, sizeof(b), "%lld", base);
		rc = db_exec(c, &stmt_generate, 4, params, &res);
		if (rc != ERR_OK)
			break;
		tried = db_int(res, 0, 0);
		inserted = db_int(res, 0, 1);
		linked = db_int(res, 0, 2);
		PQclear(res);
		if (linked != inserted) {
			snprintf(run->err, sizeof(run->err),
				 "%lld movies were inserted without their links",
				 inserted - linked);
			return ERR_CONFLICT;
		}
		tried_before = tried;
		run->chunk_added += inserted;
		run->chunk_skipped += tried - inserted;
	}
	return rc;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Running API processes drop their cached movie lists. */
static void announce_change(const struct config *cfg)
{
	char err[256];
	struct kv_options kvo = {
		.url = cfg->redis_url, .pool_size = 1, .timeout_ms = cfg->redis_timeout_ms};
	struct kv *kv = kv_new(&kvo, err, sizeof(err));
	if (!kv) {
		LOG_WARN("catalog change not published", LOG_STR("error", err));
		return;
	}
	movie_lists_announce(kv);
	kv_free(kv);
}

/* Generates run->generate movies, chunk by chunk, each committed on its
 * own; run->generated counts the committed ones. */
static enum err seed_chunks(struct db_pool *pool, struct seed_run *run, const struct timespec *t0)
{
	enum err e = ERR_OK;

	while (e == ERR_OK && run->generated < run->generate) {
		long long left = run->generate - run->generated;

		run->chunk_want = left < SEED_CHUNK ? left : SEED_CHUNK;
		run->err[0] = '\0';
		e = db_transaction(pool, seed_chunk_tx, run);
		if (e != ERR_OK)
			break;
		run->generated += run->chunk_added;
		run->skipped += run->chunk_skipped;
		fprintf(stderr,
			"seed: %lld of %lld movies generated (%lld duplicate titles skipped), "
			"%.1f s\n",
			run->generated, run->generate, run->skipped, seconds_since(t0));
	}
	return e;
}

int catalog_seed_command(const struct config *cfg, int argc, char **argv)
{
	struct seed_run run = {.file_always = true};
	struct db_pool *pool = NULL;
	struct db_conn *conn = NULL;
	struct timespec t0;
	const char *env = getenv("SEED_FILE");
	const char *media_dir = NULL;
	enum err e;
	int rc = 1;

	run.path = env && *env ? env : CATALOG_SEED_DEFAULT_FILE;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc && *argv[i + 1]) {
			run.path = argv[++i];
		} else if (strcmp(argv[i], "--movies") == 0 && i + 1 < argc) {
			if (!parse_count(argv[++i], &run.generate)) {
				fprintf(stderr,
					"cinema-api: seed: --movies must be a whole number from 0 "
					"to %d\n",
					CATALOG_SEED_MAX_MOVIES);
				return 2;
			}
			run.file_always = false;
		} else if (strcmp(argv[i], "--media") == 0 && i + 1 < argc && *argv[i + 1]) {
			media_dir = argv[++i];
		} else {
			fprintf(stderr, "cinema-api: seed: unexpected \"%s\" (try --help)\n",
				argv[i]);
			return 2;
		}
	}
	if (media_dir) {
		if (argc != 4) {
			fprintf(stderr, "cinema-api: seed: --media goes alone (try --help)\n");
			return 2;
		}
		return media_seed_command(cfg, media_dir);
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* A bad file fails before anything connects. */
	if (run.file_always && !seed_load(&run)) {
		fprintf(stderr, "cinema-api: seed: %s\n", run.err);
		goto out;
	}
	struct db_pool_options dbo = {
		.conninfo = cfg->database_url,
		.size = 1,
		.acquire_timeout_ms = cfg->db_acquire_timeout_ms,
		.connect_timeout_s = cfg->db_connect_timeout_s,
		.statement_timeout_ms = 0, /* generating millions of rows takes a while */
	};
	pool = db_pool_new(&dbo);
	if (!pool) {
		fprintf(stderr,
			"cinema-api: seed: DATABASE_URL is not a valid connection string\n");
		goto out;
	}
	e = db_transaction(pool, seed_tx, &run);
	if (e == ERR_VALIDATION && run.err[0]) {
		fprintf(stderr, "cinema-api: seed: %s\n", run.err);
		goto out;
	}
	if (e != ERR_OK) {
		fprintf(stderr, "cinema-api: seed: %s (see the log above); nothing was changed\n",
			err_detail(e));
		goto out;
	}
	e = seed_chunks(pool, &run, &t0);
	/* Fresh statistics for the planner and a set visibility map (index-only
	 * scans) after a bulk load, even after a failed chunk: what the
	 * committed ones added stays. Outside any transaction, as VACUUM needs. */
	if (run.file_added + run.generated > 0) {
		if (db_acquire(pool, &conn) != ERR_OK ||
		    db_exec_simple(conn, "VACUUM (ANALYZE) movies, movie_genres, movie_stars, "
					 "movie_directors, stars, directors") != ERR_OK)
			LOG_WARN("vacuum after seeding failed; statistics may be stale");
		announce_change(cfg);
	}
	if (e != ERR_OK) {
		if (run.err[0])
			fprintf(stderr, "cinema-api: seed: %s\n", run.err);
		else
			fprintf(stderr, "cinema-api: seed: %s (see the log above)\n",
				err_detail(e));
		fprintf(stderr,
			"cinema-api: seed: %lld of %lld movies were generated and kept (the "
			"failed chunk was rolled back); seed --movies %lld adds the rest\n",
			run.generated, run.generate, run.generate - run.generated);
		goto out;
	}
	printf("seed: %lld movies added (%lld from the data file, %lld generated; %lld "
	       "duplicate titles skipped), %lld lookups and %lld people added, in %.1f s\n",
	       run.file_added + run.generated, run.file_added, run.generated, run.skipped,
	       run.lookups_added, run.people_added, seconds_since(&t0));
	rc = 0;
out:
	db_release(conn);
	db_pool_free(pool);
	free(run.movies_json);
	return rc;
}
