/* `cinema-api seed` (see seed.h).
 *
 * The data file is checked in full before anything is written, then sent to
 * the server as one jsonb parameter: a few set-based statements upsert the
 * lookups, insert the movies with their associations and rebuild their
 * search documents, all in one transaction on one connection. Generated
 * movies are made entirely on the server from generate_series; every value of
 * generated movie number n is a hash of n, so runs are repeatable. */
#include "catalog/seed.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/list_cache.h"
#include "cinema/config.h"
#include "cinema/db.h"
#include "cinema/kv.h"
#include "cinema/log.h"
#include "cinema/mem.h"
#include "media/seed.h"

#define SEED_ERR_MAX 512

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

/* $1 movies to generate. Number n (from max(id) + 1) hashes to eight
 * non-negative values r1..r8 that pick every field; certifications, genres,
 * stars and directors come from the catalog, picked at distinct positions
 * (a start and a step below a quarter of the list). search_doc and the
 * JSON lists are built here from the picked names, as
 * movies_refresh_derived() would build them, so the new rows are written
 * once. */
static const struct db_stmt stmt_generate = {
	"catalog_seed_generate",
	"WITH pool AS (SELECT "
	"(SELECT array_agg(id ORDER BY id) FROM certifications) AS certs, "
	"(SELECT array_agg(id ORDER BY id) FROM genres) AS genres, "
	"(SELECT array_agg(name ORDER BY id) FROM genres) AS genre_names, "
	"(SELECT array_agg(id ORDER BY id) FROM stars) AS star_ids, "
	"(SELECT array_agg(name ORDER BY id) FROM stars) AS star_names, "
	"(SELECT array_agg(id ORDER BY id) FROM directors) AS director_ids, "
	"(SELECT array_agg(name ORDER BY id) FROM directors) AS director_names, "
	"(SELECT coalesce(max(id), 0) FROM movies) AS base, "
	"ARRAY['Amber', 'Anchor', 'Autumn', 'Avalanche', 'Beacon', 'Blizzard', 'Bridge', "
	"'Canyon', 'Carnival', 'Cascade', 'Cipher', 'Comet', 'Compass', 'Crimson', 'Crown', "
	"'Dagger', 'Delta', 'Desert', 'Dragon', 'Echo', 'Eclipse', 'Ember', 'Falcon', 'Forest', "
	"'Frontier', 'Galaxy', 'Garden', 'Glacier', 'Harbor', 'Horizon', 'Island', 'Jaguar', "
	"'Jungle', 'Labyrinth', 'Lantern', 'Legend', 'Meadow', 'Midnight', 'Mirage', 'Monsoon', "
	"'Nebula', 'Oasis', 'Orbit', 'Paradox', 'Phoenix', 'Prairie', 'Quartz', 'Raven', "
	"'Riddle', 'River', 'Safari', 'Shadow', 'Silver', 'Storm', 'Summit', 'Thunder', "
	"'Tide', 'Tundra', 'Velvet', 'Voyage', 'Whisper', 'Willow', 'Winter', 'Zephyr'] AS words), "
	"sizes AS (SELECT cardinality(certs) AS nc, cardinality(genres) AS ng, "
	"cardinality(star_ids) AS ns, cardinality(director_ids) AS nd, "
	"cardinality(words) AS nw FROM pool), "
	"gen AS MATERIALIZED (SELECT i.n, "
	"format('Generated Movie %s %s', lpad(i.n::text, greatest(6, length(i.n::text)), '0'), "
	"p.words[k.w0]) AS name, "
	"(1950 + h.r2 % 76)::integer AS year, (70 + h.r3 % 131)::integer AS time, "
	"((10 + h.r4 % 90) / 10.0)::double precision AS imdb, "
	"(100 + (h.r5 % 1414) * (h.r5 % 1414))::integer AS votes, "
	"CASE WHEN h.r6 % 5 = 0 THEN NULL ELSE (20 + (h.r6 >> 8) % 81)::double precision END "
	"AS meta_score, "
	"CASE WHEN h.r7 % 3 = 0 THEN NULL ELSE ((h.r7 >> 8) % 500000000)::double precision END "
	"AS gross, "
	"format('A generated movie for benchmarks: the %s and the %s meet in a story of %s.', "
	"lower(p.words[k.w1]), lower(p.words[k.w2]), lower(p.words[k.w3])) AS description, "
	"(2.99 + h.r8 % 18)::numeric(10, 2) AS price, p.certs[k.c] AS certification_id, "
	"(ARRAY[p.genres[k.g0], p.genres[k.g1], p.genres[k.g2]])[1:k.gn] AS genre_ids, "
	"(ARRAY[p.genre_names[k.g0], p.genre_names[k.g1], p.genre_names[k.g2]])[1:k.gn] "
	"AS genre_names, "
	"(ARRAY[p.star_ids[k.s0], p.star_ids[k.s1], p.star_ids[k.s2], p.star_ids[k.s3]])[1:k.sn] "
	"AS star_ids, "
	"(ARRAY[p.star_names[k.s0], p.star_names[k.s1], p.star_names[k.s2], "
	"p.star_names[k.s3]])[1:k.sn] AS star_names, "
	"p.director_ids[k.d] AS director_id, p.director_names[k.d] AS director_name "
	"FROM pool p CROSS JOIN sizes z "
	"CROSS JOIN generate_series(p.base + 1, p.base + $1::bigint) AS i(n) "
	"CROSS JOIN LATERAL (SELECT "
	"hashint8extended(i.n, 1) & 9223372036854775807 AS r1, "
	"hashint8extended(i.n, 2) & 9223372036854775807 AS r2, "
	"hashint8extended(i.n, 3) & 9223372036854775807 AS r3, "
	"hashint8extended(i.n, 4) & 9223372036854775807 AS r4, "
	"hashint8extended(i.n, 5) & 9223372036854775807 AS r5, "
	"hashint8extended(i.n, 6) & 9223372036854775807 AS r6, "
	"hashint8extended(i.n, 7) & 9223372036854775807 AS r7, "
	"hashint8extended(i.n, 8) & 9223372036854775807 AS r8) AS h "
	"CROSS JOIN LATERAL (SELECT "
	"(1 + h.r1 % z.nw)::integer AS w0, (1 + (h.r1 >> 8) % z.nw)::integer AS w1, "
	"(1 + (h.r1 >> 16) % z.nw)::integer AS w2, (1 + (h.r1 >> 24) % z.nw)::integer AS w3, "
	"(1 + (h.r8 >> 8) % z.nc)::integer AS c, (1 + (h.r4 >> 8) % z.nd)::integer AS d, "
	"(1 + (h.r2 >> 8) % 3)::integer AS gn, (2 + (h.r3 >> 8) % 3)::integer AS sn, "
	"(1 + gs.pos % z.ng)::integer AS g0, (1 + (gs.pos + gs.step) % z.ng)::integer AS g1, "
	"(1 + (gs.pos + 2 * gs.step) % z.ng)::integer AS g2, "
	"(1 + ss.pos % z.ns)::integer AS s0, (1 + (ss.pos + ss.step) % z.ns)::integer AS s1, "
	"(1 + (ss.pos + 2 * ss.step) % z.ns)::integer AS s2, "
	"(1 + (ss.pos + 3 * ss.step) % z.ns)::integer AS s3 "
	"FROM (SELECT (h.r2 >> 16) % z.ng AS pos, "
	"1 + (h.r2 >> 32) % greatest(1, z.ng / 3) AS step) AS gs, "
	"(SELECT (h.r3 >> 16) % z.ns AS pos, 1 + (h.r3 >> 40) % greatest(1, z.ns / 4) AS step) "
	"AS ss) AS k), "
	"ins AS (INSERT INTO movies (name, year, time, imdb, votes, meta_score, gross, "
	"description, price, certification_id, search_doc, genres_json, stars_json, "
	"directors_json) "
	"SELECT name, year, time, imdb, votes, meta_score, gross, description, price, "
	"certification_id, "
	"setweight(to_tsvector('simple', name), 'A') "
	"|| setweight(to_tsvector('simple', array_to_string(star_names, ' ')), 'B') "
	"|| setweight(to_tsvector('simple', director_name), 'B') "
	"|| setweight(to_tsvector('simple', description), 'C'), "
	"(SELECT json_agg(json_build_object('id', u.i, 'name', u.n) ORDER BY u.n, u.i) "
	"FROM unnest(genre_ids, genre_names) AS u(i, n)), "
	"(SELECT json_agg(json_build_object('id', u.i, 'name', u.n) ORDER BY u.n, u.i) "
	"FROM unnest(star_ids, star_names) AS u(i, n)), "
	"json_build_array(json_build_object('id', director_id, 'name', director_name)) "
	"FROM gen ORDER BY n ON CONFLICT (name, year, time) DO NOTHING "
	"RETURNING id, name, year, time), "
	"added AS (SELECT ins.id, gen.genre_ids, gen.star_ids, gen.director_id "
	"FROM ins JOIN gen USING (name, year, time)), "
	"g AS (INSERT INTO movie_genres (movie_id, genre_id) "
	"SELECT DISTINCT a.id, x FROM added a CROSS JOIN LATERAL unnest(a.genre_ids) AS x), "
	"s AS (INSERT INTO movie_stars (movie_id, star_id) "
	"SELECT DISTINCT a.id, x FROM added a CROSS JOIN LATERAL unnest(a.star_ids) AS x), "
	"d AS (INSERT INTO movie_directors (movie_id, director_id) "
	"SELECT id, director_id FROM added) "
	"SELECT count(*) FROM added"};

/* ---- the command ---- */

struct seed_run {
	const char *path;
	bool file_always;   /* false with --movies: only when the catalog is empty */
	long long generate; /* movies to generate */
	char *movies_json;  /* the checked file, compact; NULL until loaded */
	/* Results, reset at the start of each attempt. */
	long long file_added;
	long long lookups_added;
	long long generated;
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
		"  --help       print this and exit\n",
		CATALOG_SEED_DEFAULT_FILE, CATALOG_SEED_MAX_MOVIES);
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
static enum err exec_count(struct db_conn *c, const struct db_stmt *stmt, const char *param,
			   long long *count)
{
	PGresult *res = NULL;
	enum err rc = db_exec(c, stmt, 1, &param, &res);

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
		rc = exec_count(c, lookups[i], p, &run->lookups_added);
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

static enum err seed_tx(struct db_conn *c, void *ctx)
{
	struct seed_run *run = ctx;
	long long fewest = 0;
	enum err rc;

	run->file_added = run->lookups_added = run->generated = 0;
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
	char n[24];
	const char *p = n;
	PGresult *res = NULL;

	snprintf(n, sizeof(n), "%lld", run->generate);
	rc = db_exec(c, &stmt_generate, 1, &p, &res);
	if (rc == ERR_OK)
		run->generated = db_int(res, 0, 0);
	PQclear(res);
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
	/* Fresh statistics for the planner after a bulk load; outside the
	 * transaction so that a failure here loses nothing. */
	if (run.file_added + run.generated > 0) {
		if (db_acquire(pool, &conn) != ERR_OK ||
		    db_exec_simple(conn, "ANALYZE movies, movie_genres, movie_stars, "
					 "movie_directors") != ERR_OK)
			LOG_WARN("analyze after seeding failed; statistics may be stale");
		announce_change(cfg);
	}
	printf("seed: %lld movies added (%lld from the data file, %lld generated), "
	       "%lld lookups added, in %.1f s\n",
	       run.file_added + run.generated, run.file_added, run.generated, run.lookups_added,
	       seconds_since(&t0));
	rc = 0;
out:
	db_release(conn);
	db_pool_free(pool);
	free(run.movies_json);
	return rc;
}
