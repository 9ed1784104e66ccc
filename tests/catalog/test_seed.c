/* `cinema-api seed` (src/catalog/seed.c): the checks of the data file need
 * nothing; the rest runs the real binary against a throwaway database from
 * DATABASE_URL (skipped with a note when it is unset). The data file is
 * CINEMA_SOURCE_DIR/data/movies.json. */
#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/seed.h"
#include "cinema/buf.h"
#include "e2e.h"
#include "testdb.h"

/* ---- helpers ---- */

static const char *data_file(void)
{
	static char path[1024];
	const char *src = getenv("CINEMA_SOURCE_DIR");

	snprintf(path, sizeof(path), "%s/data/movies.json", src && *src ? src : ".");
	return path;
}

static json_t *load_data_file(void)
{
	json_error_t jerr;
	json_t *movies = json_load_file(data_file(), JSON_REJECT_DUPLICATES, &jerr);

	ck_assert_msg(movies != NULL, "%s:%d: %s", data_file(), jerr.line, jerr.text);
	return movies;
}

/* Parses one movie object from JSON text (owned). */
static json_t *movie(const char *text)
{
	json_error_t jerr;
	json_t *m = json_loads(text, 0, &jerr);

	ck_assert_msg(m != NULL, "bad test JSON: %s", jerr.text);
	return m;
}

#define GOOD_MOVIE                                                                 \
	"{\"name\": \"Heat\", \"year\": 1995, \"time\": 170, \"imdb\": 8.3, "      \
	"\"votes\": 700000, \"meta_score\": 76, \"gross\": 67436818, "             \
	"\"description\": \"A detective pursues a thief.\", \"price\": \"9.99\", " \
	"\"certification\": \"R\", \"genres\": [\"Crime\", \"Drama\"], "           \
	"\"stars\": [\"Al Pacino\", \"Robert De Niro\"], \"directors\": [\"Michael Mann\"]}"

/* Checks [GOOD_MOVIE, m] where m is GOOD_MOVIE with field set to value (raw
 * JSON, or NULL to remove it); returns the error ("" if accepted). */
static const char *check_variant(const char *field, const char *value)
{
	static char err[512];
	json_t *arr = json_array();
	json_t *m = movie(GOOD_MOVIE);

	json_array_append_new(arr, movie(GOOD_MOVIE));
	json_object_set_new(json_array_get(arr, 0), "name", json_string("Heat (first)"));
	if (value)
		json_object_set_new(m, field, json_loads(value, JSON_DECODE_ANY, NULL));
	else
		json_object_del(m, field);
	json_array_append_new(arr, m);
	err[0] = '\0';
	if (catalog_seed_check(arr, err, sizeof(err)))
		err[0] = '\0';
	else
		ck_assert_msg(err[0] != '\0', "a rejection must say why");
	json_decref(arr);
	return err;
}

struct db {
	char *ci;
	char env_db[1100];
	char env_file[1100];
};

/* A migrated throwaway database; false (test skipped) without DATABASE_URL. */
static bool db_open(struct db *d)
{
	char *argv[] = {(char *)"cinema-api", (char *)"migrate", NULL};
	const char *env[4];
	struct buf err = BUF_INIT;
	int rc;

	memset(d, 0, sizeof(*d));
	d->ci = testdb_create();
	if (!d->ci)
		return false;
	snprintf(d->env_db, sizeof(d->env_db), "DATABASE_URL=%s", d->ci);
	snprintf(d->env_file, sizeof(d->env_file), "SEED_FILE=%s", data_file());
	env[0] = d->env_db;
	env[1] = "LOG_LEVEL=error";
	env[2] = NULL;
	rc = e2e_run_capture(e2e_bin("CINEMA_API_BIN"), argv, env, NULL, 60, NULL, &err);
	ck_assert_msg(rc == 0, "cinema-api migrate exited %d:\n%s", rc, err.data);
	buf_free(&err);
	return true;
}

static void db_close(struct db *d)
{
	testdb_drop(d->ci);
	free(d->ci);
}

/* Runs `cinema-api seed ARGS...` (NULL-terminated) on d; stdout and stderr
 * go to out and err when not NULL. Returns the exit status. */
static int seed(const struct db *d, struct buf *out, struct buf *err, ...)
{
	char *argv[16] = {(char *)"cinema-api", (char *)"seed"};
	const char *env[] = {d ? d->env_db : "LOG_LEVEL=error", d ? d->env_file : NULL,
			     "LOG_LEVEL=error", NULL};
	struct buf e = BUF_INIT;
	size_t n = 2;
	va_list ap;
	int rc;

	va_start(ap, err);
	for (char *a; n < 15 && (a = va_arg(ap, char *)) != NULL;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	rc = e2e_run_capture(e2e_bin("CINEMA_API_BIN"), argv, env, NULL, 240, out, err ? err : &e);
	buf_free(&e);
	return rc;
}

static long long query_int(const struct db *d, const char *sql)
{
	PGconn *pg = PQconnectdb(d->ci);
	PGresult *res;
	long long v;

	ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "connect: %s", PQerrorMessage(pg));
	res = PQexec(pg, sql);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(pg));
	ck_assert_int_eq(PQntuples(res), 1);
	v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	PQfinish(pg);
	return v;
}

/* Row counts of every table seed writes, as one comparable string. */
static void snapshot(const struct db *d, char *out, size_t len)
{
	snprintf(out, len, "%lld %lld %lld %lld %lld %lld %lld %lld",
		 query_int(d, "SELECT count(*) FROM movies"),
		 query_int(d, "SELECT count(*) FROM certifications"),
		 query_int(d, "SELECT count(*) FROM genres"),
		 query_int(d, "SELECT count(*) FROM stars"),
		 query_int(d, "SELECT count(*) FROM directors"),
		 query_int(d, "SELECT count(*) FROM movie_genres"),
		 query_int(d, "SELECT count(*) FROM movie_stars"),
		 query_int(d, "SELECT count(*) FROM movie_directors"));
}

/* Movies (matching where) missing a certification, genre, star, director or
 * search document. */
#define INCOMPLETE_SQL(where)                                                          \
	"SELECT count(*) FROM movies m WHERE (" where ") AND ("                        \
	"NOT EXISTS (SELECT 1 FROM certifications c WHERE c.id = m.certification_id) " \
	"OR NOT EXISTS (SELECT 1 FROM movie_genres x WHERE x.movie_id = m.id) "        \
	"OR NOT EXISTS (SELECT 1 FROM movie_stars x WHERE x.movie_id = m.id) "         \
	"OR NOT EXISTS (SELECT 1 FROM movie_directors x WHERE x.movie_id = m.id) "     \
	"OR m.search_doc = ''::tsvector)"

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/cinema_seed_XXXXXX");
	int fd;

	ck_assert_ptr_nonnull(path);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* ---- the data file (no server) ---- */

START_TEST(data_file_is_a_real_catalog)
{
	static const char *const genres[] = {
		"Action",  "Adventure", "Animation", "Biography", "Comedy", "Crime",   "Drama",
		"Family",  "Fantasy",	"History",   "Horror",	  "Music",  "Musical", "Mystery",
		"Romance", "Sci-Fi",	"Sport",     "Thriller",  "War",    "Western", NULL};
	static const char *const certs[] = {"G",     "PG",	  "PG-13",    "R",
					    "NC-17", "Not Rated", "Approved", NULL};
	char err[512];
	json_t *movies = load_data_file();
	size_t i;
	json_t *m;

	ck_assert_msg(catalog_seed_check(movies, err, sizeof(err)), "%s", err);
	ck_assert_uint_ge(json_array_size(movies), 210);
	json_array_foreach (movies, i, m) {
		const char *name = json_string_value(json_object_get(m, "name"));
		const char *cert = json_string_value(json_object_get(m, "certification"));
		double price = strtod(json_string_value(json_object_get(m, "price")), NULL);
		json_t *g = json_object_get(m, "genres");
		size_t j;
		json_t *v;
		bool ok = false;

		for (const char *const *c = certs; *c && !ok; c++)
			ok = strcmp(*c, cert) == 0;
		ck_assert_msg(ok, "%s: certification %s", name, cert);
		ck_assert_msg(price >= 2.99 && price <= 19.99, "%s: price", name);
		ck_assert_msg(json_array_size(g) >= 1 && json_array_size(g) <= 3, "%s: genres",
			      name);
		json_array_foreach (g, j, v) {
			ok = false;
			for (const char *const *k = genres; *k && !ok; k++)
				ok = strcmp(*k, json_string_value(v)) == 0;
			ck_assert_msg(ok, "%s: genre %s", name, json_string_value(v));
		}
		ck_assert_msg(json_array_size(json_object_get(m, "stars")) >= 2 &&
				      json_array_size(json_object_get(m, "stars")) <= 4,
			      "%s: stars", name);
		ck_assert_msg(json_array_size(json_object_get(m, "directors")) <= 2,
			      "%s: directors", name);
		ck_assert_msg(strlen(json_string_value(json_object_get(m, "description"))) >= 20,
			      "%s: description", name);
	}
	json_decref(movies);
}
END_TEST

START_TEST(check_names_entry_and_field)
{
	char err[512];
	json_t *v = json_object();

	ck_assert_str_eq(check_variant("meta_score", "null"), "");
	ck_assert_str_eq(check_variant("gross", NULL), "");
	ck_assert_str_eq(check_variant("imdb", "8"), "");
	ck_assert_str_eq(check_variant("description", "\"\""), "");

	ck_assert_str_eq(check_variant("year", "\"1995\""),
			 "entry 1 (\"Heat\"): \"year\" must be an integer from 1888 to 2100");
	ck_assert_ptr_nonnull(strstr(check_variant("time", "0"), "entry 1 (\"Heat\"): \"time\""));
	ck_assert_ptr_nonnull(strstr(check_variant("imdb", "10.5"), "\"imdb\""));
	ck_assert_ptr_nonnull(strstr(check_variant("votes", "-1"), "\"votes\""));
	ck_assert_ptr_nonnull(strstr(check_variant("meta_score", "101"), "\"meta_score\""));
	ck_assert_ptr_nonnull(strstr(check_variant("gross", "\"1\""), "\"gross\""));
	ck_assert_ptr_nonnull(strstr(check_variant("price", "9.99"), "\"price\""));
	ck_assert_ptr_nonnull(strstr(check_variant("price", "\"9.9\""), "\"price\""));
	ck_assert_ptr_nonnull(strstr(check_variant("price", "\"1234567890.00\""), "\"price\""));
	ck_assert_ptr_nonnull(strstr(check_variant("certification", "\"\""), "\"certification\""));
	ck_assert_ptr_nonnull(strstr(check_variant("genres", "[]"), "\"genres\""));
	ck_assert_ptr_nonnull(
		strstr(check_variant("genres", "[\"Crime\", \"Crime\"]"), "\"genres\""));
	ck_assert_ptr_nonnull(strstr(check_variant("stars", "\"Al Pacino\""), "\"stars\""));
	ck_assert_ptr_nonnull(strstr(check_variant("directors", "[1]"), "\"directors\""));
	ck_assert_ptr_nonnull(strstr(check_variant("directors", NULL), "\"directors\""));
	ck_assert_ptr_nonnull(strstr(check_variant("imbd", "8.3"), "unknown field \"imbd\""));
	ck_assert_str_eq(
		check_variant("name", "\"Heat (first)\""),
		"entry 1 (\"Heat (first)\"): \"name\", \"year\" and \"time\" repeat entry 0");
	ck_assert_str_eq(check_variant("name", NULL),
			 "entry 1: \"name\" must be a string of 1 to 300 characters");
	ck_assert_str_eq(check_variant("name", "7"),
			 "entry 1: \"name\" must be a string of 1 to 300 characters");

	ck_assert(!catalog_seed_check(v, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "array"));
	json_decref(v);
	v = json_pack("[i]", 1);
	ck_assert(!catalog_seed_check(v, err, sizeof(err)));
	ck_assert_str_eq(err, "entry 0: must be an object");
	json_decref(v);
}
END_TEST

START_TEST(seed_rejects_bad_arguments)
{
	struct buf out = BUF_INIT, err = BUF_INIT;

	ck_assert_int_eq(seed(NULL, NULL, &err, "--bogus", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err.data, "--bogus"));
	ck_assert_int_eq(seed(NULL, NULL, NULL, "--movies", "-1", NULL), 2);
	ck_assert_int_eq(seed(NULL, NULL, NULL, "--movies", "10000001", NULL), 2);
	ck_assert_int_eq(seed(NULL, NULL, NULL, "--movies", "12x", NULL), 2);
	ck_assert_int_eq(seed(NULL, NULL, NULL, "--movies", NULL), 2);
	ck_assert_int_eq(seed(NULL, &out, NULL, "--help", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "usage"));
	buf_free(&out);
	buf_free(&err);
}
END_TEST

/* ---- against a database ---- */

START_TEST(seed_loads_the_catalog_once)
{
	struct db d;
	struct buf out = BUF_INIT, err = BUF_INIT;
	char before[256], after[256];
	json_t *movies;
	int rc;

	if (!db_open(&d))
		return;
	movies = load_data_file();
	rc = seed(&d, &out, &err, NULL);
	ck_assert_msg(rc == 0, "seed exited %d:\n%s", rc, err.data);
	ck_assert_ptr_nonnull(strstr(out.data, "movies added"));
	ck_assert_int_eq(query_int(&d, "SELECT count(*) FROM movies"),
			 (long long)json_array_size(movies));
	ck_assert_int_ge(query_int(&d, "SELECT count(*) FROM movies"), 200);
	ck_assert_int_eq(query_int(&d, INCOMPLETE_SQL("true")), 0);
	ck_assert_int_eq(query_int(&d, "SELECT count(*) FROM movies WHERE name = 'The Godfather' "
				       "AND year = 1972 AND time = 175 AND price = 7.99"),
			 1);
	ck_assert_int_eq(query_int(&d, "SELECT count(*) FROM movies m "
				       "JOIN movie_directors md ON md.movie_id = m.id "
				       "JOIN directors x ON x.id = md.director_id "
				       "WHERE m.name = 'The Matrix' AND x.name LIKE '% Wachowski'"),
			 2);
	ck_assert_int_eq(query_int(&d, "SELECT count(*) FROM movies WHERE search_doc @@ "
				       "to_tsquery('simple', 'nolan & interstellar')"),
			 1);
	ck_assert_int_eq(query_int(&d, "SELECT count(*) FROM movies WHERE name = 'Amélie'"), 1);

	/* Again, with the file named explicitly: nothing new, still success. */
	snapshot(&d, before, sizeof(before));
	buf_reset(&out);
	rc = seed(&d, &out, &err, "--file", data_file(), NULL);
	ck_assert_msg(rc == 0, "second seed exited %d:\n%s", rc, err.data);
	ck_assert_ptr_nonnull(strstr(out.data, "0 movies added"));
	snapshot(&d, after, sizeof(after));
	ck_assert_str_eq(before, after);

	json_decref(movies);
	buf_free(&out);
	buf_free(&err);
	db_close(&d);
}
END_TEST

/* Runs SQL that returns no rows (or whose rows do not matter). */
static void exec_sql(const struct db *d, const char *sql)
{
	PGconn *pg = PQconnectdb(d->ci);
	PGresult *res;

	ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "connect: %s", PQerrorMessage(pg));
	res = PQexec(pg, sql);
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK ||
			      PQresultStatus(res) == PGRES_TUPLES_OK,
		      "%s: %s", sql, PQerrorMessage(pg));
	PQclear(res);
	PQfinish(pg);
}

/* query_int with the SQL built from a format. */
static long long query_intf(const struct db *d, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	ck_assert_int_lt(n, (int)sizeof(sql));
	return query_int(d, sql);
}

/* The generated movies: ids above the data file's (loaded first, ids 1..F). */
#define GEN "m.id > %lld"

START_TEST(seed_generates_movies)
{
	struct db d;
	struct buf out = BUF_INIT, err = BUF_INIT;
	json_t *movies = load_data_file();
	long long file_movies = (long long)json_array_size(movies);
	long long before, last_id, n, top, median;
	int rc;

	json_decref(movies);
	if (!db_open(&d))
		return;
	/* On an empty catalog the data file comes first. */
	rc = seed(&d, &out, &err, "--movies", "3000", NULL);
	ck_assert_msg(rc == 0, "seed --movies exited %d:\n%s", rc, err.data);
	ck_assert_msg(strstr(err.data, "3000 of 3000 movies generated"), "no progress line:\n%s",
		      err.data);
	ck_assert_ptr_nonnull(strstr(out.data, "3000 generated"));
	ck_assert_int_eq(query_int(&d, "SELECT count(*) FROM movies"), file_movies + 3000);
	ck_assert_int_eq(
		query_intf(&d, "SELECT count(*) FROM movies m WHERE NOT (" GEN ")", file_movies),
		file_movies);
	ck_assert_int_eq(query_intf(&d, INCOMPLETE_SQL(GEN), file_movies), 0);

	/* The pool of generated people: at least a few hundred, unique names. */
	ck_assert_int_ge(query_int(&d, "SELECT count(*) FROM stars"), 400);
	ck_assert_int_ge(query_int(&d, "SELECT count(*) FROM directors"), 200);

	/* Every field in its range; no empty required text. */
	ck_assert_int_eq(
		query_intf(&d,
			   "SELECT count(*) FROM movies m WHERE " GEN " AND NOT (year BETWEEN "
			   "1920 AND 2025 AND time BETWEEN 70 AND 200 AND imdb BETWEEN 1 AND "
			   "9.8 AND imdb = round(imdb::numeric, 1) AND votes BETWEEN 5 AND "
			   "2900000 AND price IN (1.99, 2.99, 3.99, 4.99, 5.99, 7.99, 9.99, "
			   "12.99, 14.99) AND coalesce(meta_score BETWEEN 1 AND 100, true) AND "
			   "coalesce(gross >= 0, true) AND name <> '' AND description LIKE '%%.' "
			   "AND likes >= 0 AND dislikes >= 0 AND favorites >= 0 AND "
			   "rating_count >= 0 AND rating_sum BETWEEN rating_count AND "
			   "10 * rating_count AND popularity = movies_popularity(m))",
			   file_movies),
		0);
	/* 1 to 3 genres, 2 to 5 stars, 1 or 2 directors each. */
	ck_assert_int_eq(
		query_intf(&d,
			   "SELECT count(*) FROM movies m WHERE " GEN " AND ("
			   "(SELECT count(*) FROM movie_genres x WHERE x.movie_id = m.id) "
			   "NOT BETWEEN 1 AND 3 OR "
			   "(SELECT count(*) FROM movie_stars x WHERE x.movie_id = m.id) "
			   "NOT BETWEEN 2 AND 5 OR "
			   "(SELECT count(*) FROM movie_directors x WHERE x.movie_id = m.id) "
			   "NOT BETWEEN 1 AND 2)",
			   file_movies),
		0);
	/* Roughly 45% one genre; Drama far more common than Western. */
	n = query_intf(&d,
		       "SELECT count(*) FROM movies m WHERE " GEN " AND (SELECT count(*) FROM "
		       "movie_genres x WHERE x.movie_id = m.id) = 1",
		       file_movies);
	ck_assert_msg(n > 3000 * 35 / 100 && n < 3000 * 55 / 100, "%lld with one genre", n);
	ck_assert_int_gt(query_intf(&d,
				    "SELECT count(*) FROM movie_genres x JOIN genres g ON g.id = "
				    "x.genre_id WHERE g.name = 'Drama' AND x.movie_id > %lld",
				    file_movies),
			 3 * query_intf(&d,
					"SELECT count(*) FROM movie_genres x JOIN genres g ON "
					"g.id = x.genre_id WHERE g.name = 'Western' AND "
					"x.movie_id > %lld",
					file_movies));
	/* "the" in roughly a third of the titles; a few titles with digits. */
	n = query_intf(&d, "SELECT count(*) FROM movies m WHERE " GEN " AND name ~* '\\mthe\\M'",
		       file_movies);
	ck_assert_msg(n > 3000 * 22 / 100 && n < 3000 * 40 / 100, "%lld titles with \"the\"", n);
	ck_assert_int_gt(query_intf(&d,
				    "SELECT count(*) FROM movies m WHERE " GEN
				    " AND name ~ ' ([0-9]|II|III)$'",
				    file_movies),
			 0);
	/* Recent decades hold most movies; about a fifth without a meta score. */
	n = query_intf(&d, "SELECT count(*) FROM movies m WHERE " GEN " AND year >= 2000",
		       file_movies);
	ck_assert_msg(n > 3000 * 40 / 100 && n < 3000 * 65 / 100, "%lld since 2000", n);
	n = query_intf(&d, "SELECT count(*) FROM movies m WHERE " GEN " AND meta_score IS NULL",
		       file_movies);
	ck_assert_msg(n > 3000 * 12 / 100 && n < 3000 * 28 / 100, "%lld without meta score", n);
	/* Zipf-like: the busiest star has many times the median star's movies,
	 * and the most liked movie many times the median likes. */
	top = query_intf(&d,
			 "SELECT max(c) FROM (SELECT count(*) AS c FROM movie_stars WHERE "
			 "movie_id > %lld GROUP BY star_id) x",
			 file_movies);
	median = query_intf(&d,
			    "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY c) FROM (SELECT "
			    "count(*) AS c FROM movie_stars WHERE movie_id > %lld GROUP BY "
			    "star_id) x",
			    file_movies);
	ck_assert_msg(top >= 5 * median, "top star %lld movies, median %lld", top, median);
	ck_assert_int_le(median, 10);
	ck_assert_int_gt(query_intf(&d, "SELECT max(likes) FROM movies m WHERE " GEN, file_movies),
			 10 * query_intf(&d,
					 "SELECT 1 + percentile_disc(0.5) WITHIN GROUP (ORDER BY "
					 "likes) FROM movies m WHERE " GEN,
					 file_movies));
	/* The derived columns are exactly what movies_refresh_derived() makes. */
	exec_sql(&d, "CREATE TABLE seed_check AS SELECT id, search_doc, genres_json::text AS g, "
		     "stars_json::text AS s, directors_json::text AS dj FROM movies "
		     "WHERE id % 7 = 0");
	ck_assert_int_gt(
		query_intf(&d, "SELECT count(*) FROM seed_check m WHERE " GEN, file_movies), 300);
	exec_sql(&d, "SELECT movies_refresh_derived(array(SELECT id FROM seed_check))");
	ck_assert_int_eq(query_int(&d, "SELECT count(*) FROM seed_check c JOIN movies m USING "
				       "(id) WHERE m.search_doc <> c.search_doc OR "
				       "m.genres_json::text <> c.g OR m.stars_json::text <> c.s OR "
				       "m.directors_json::text <> c.dj"),
			 0);
	exec_sql(&d, "DROP TABLE seed_check");

	/* A second run continues the numbering and adds exactly N. */
	before = query_int(&d, "SELECT count(*) FROM movies");
	last_id = query_int(&d, "SELECT max(id) FROM movies");
	rc = seed(&d, NULL, &err, "--movies", "1000", NULL);
	ck_assert_msg(rc == 0, "seed --movies exited %d:\n%s", rc, err.data);
	ck_assert_int_eq(query_int(&d, "SELECT count(*) FROM movies"), before + 1000);
	ck_assert_int_eq(query_intf(&d, "SELECT count(*) FROM movies WHERE id > %lld", last_id),
			 1000);
	ck_assert_int_eq(query_intf(&d, INCOMPLETE_SQL(GEN), file_movies), 0);
	/* Generated ids are set explicitly; the sequence was moved past them,
	 * so the next ordinary insert gets a new id. */
	ck_assert_int_gt(query_int(&d, "SELECT nextval(pg_get_serial_sequence('movies', 'id'))"),
			 query_int(&d, "SELECT max(id) FROM movies"));
	/* Zero is allowed and adds nothing. */
	rc = seed(&d, NULL, &err, "--movies", "0", NULL);
	ck_assert_msg(rc == 0, "seed --movies 0 exited %d:\n%s", rc, err.data);
	ck_assert_int_eq(query_int(&d, "SELECT count(*) FROM movies"), before + 1000);

	buf_free(&out);
	buf_free(&err);
	db_close(&d);
}
END_TEST

START_TEST(seed_rejects_a_bad_file_without_changes)
{
	static const char *const bad[][2] = {
		{"[{\"name\": \"Heat\",", ":1:"},
		{"{\"name\": \"Heat\"}", "array"},
		{"[" GOOD_MOVIE ", " GOOD_MOVIE "]", "repeat entry 0"},
		{"[" GOOD_MOVIE ", {\"name\": \"X\", \"year\": \"1995\"}]",
		 "entry 1 (\"X\"): \"year\""},
	};
	struct db d;
	struct buf err = BUF_INIT;
	char before[256], after[256];
	int rc;

	if (!db_open(&d))
		return;
	/* Nothing at all on an empty database, including with --movies. */
	char *path = write_temp(bad[3][0]);
	rc = seed(&d, NULL, &err, "--file", path, NULL);
	ck_assert_int_eq(rc, 1);
	rc = seed(&d, NULL, &err, "--file", path, "--movies", "10", NULL);
	ck_assert_int_eq(rc, 1);
	ck_assert_int_eq(query_int(&d, "SELECT count(*) FROM movies"), 0);
	ck_assert_int_eq(query_int(&d, "SELECT count(*) FROM stars"), 0);
	unlink(path);
	free(path);

	rc = seed(&d, NULL, &err, NULL);
	ck_assert_msg(rc == 0, "seed exited %d:\n%s", rc, err.data);
	snapshot(&d, before, sizeof(before));
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		path = write_temp(bad[i][0]);
		buf_reset(&err);
		rc = seed(&d, NULL, &err, "--file", path, NULL);
		ck_assert_msg(rc == 1, "case %zu: exit %d", i, rc);
		ck_assert_msg(err.data && strstr(err.data, bad[i][1]), "case %zu: stderr %s", i,
			      err.data ? err.data : "");
		unlink(path);
		free(path);
	}
	rc = seed(&d, NULL, &err, "--file", "/nonexistent/movies.json", NULL);
	ck_assert_int_eq(rc, 1);
	snapshot(&d, after, sizeof(after));
	ck_assert_str_eq(before, after);

	buf_free(&err);
	db_close(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("catalog_seed");
	TCase *tc = tcase_create("file");

	tcase_add_test(tc, data_file_is_a_real_catalog);
	tcase_add_test(tc, check_names_entry_and_field);
	tcase_add_test(tc, seed_rejects_bad_arguments);
	suite_add_tcase(s, tc);
	tc = tcase_create("database");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, seed_loads_the_catalog_once);
	tcase_add_test(tc, seed_generates_movies);
	tcase_add_test(tc, seed_rejects_a_bad_file_without_changes);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
