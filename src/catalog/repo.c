#include "catalog/repo.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static void ll_str(char out[24], long long v)
{
	snprintf(out, 24, "%lld", v);
}

/* Appends the first column of every row, comma-separated, inside [ ]. */
static void rows_to_array(const PGresult *res, struct buf *out)
{
	buf_append_char(out, '[');
	for (int i = 0; i < PQntuples(res); i++) {
		if (i)
			buf_append_char(out, ',');
		buf_append_json_compact(out, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
	}
	buf_append_char(out, ']');
}

/* ---- movies: list ---- */

#define MOVIE_SUMMARY_JSON CATALOG_MOVIE_SUMMARY "::text"

/* The list is built from the filters that are present: each adds one
 * condition with its own parameter, so the planner sees plain conditions
 * (and semi-joins for the EXISTS) instead of "$n IS NULL OR ..." for
 * every filter. Built and planned per call: the values pick the plan. */
struct list_query {
	struct buf sql;
	const char *p[18];
	int n;
	int tsq; /* the parameter number of the search words, 0 when none */
};

static void cond(struct list_query *q, const char *value, const char *before, const char *after)
{
	if (!value)
		return;
	q->p[q->n++] = value;
	buf_printf(&q->sql, "%s%s$%d%s", q->n > 1 ? " AND " : " WHERE ", before, q->n, after);
}

#define EXISTS_IN(table, column) \
	"EXISTS (SELECT 1 FROM " table " x WHERE x.movie_id = m.id AND x." column " = "

static void list_where(struct list_query *q, const struct movie_filter *f)
{
	cond(q, f->year, "m.year = ", "::int");
	cond(q, f->year_min, "m.year >= ", "::int");
	cond(q, f->year_max, "m.year <= ", "::int");
	cond(q, f->imdb_min, "m.imdb >= ", "::float8");
	cond(q, f->imdb_max, "m.imdb <= ", "::float8");
	cond(q, f->price_min, "m.price >= ", "::numeric");
	cond(q, f->price_max, "m.price <= ", "::numeric");
	cond(q, f->genre, EXISTS_IN("movie_genres", "genre_id"), "::bigint)");
	cond(q, f->certification, "m.certification_id = ", "::bigint");
	cond(q, f->star, EXISTS_IN("movie_stars", "star_id"), "::bigint)");
	cond(q, f->director, EXISTS_IN("movie_directors", "director_id"), "::bigint)");
	cond(q, f->favorites_of, EXISTS_IN("favorites", "user_id"), "::bigint)");
	cond(q, f->purchased_by, EXISTS_IN("purchases", "user_id"), "::bigint)");
	cond(q, f->tsquery, "m.search_doc @@ to_tsquery('simple', ", ")");
	q->tsq = f->tsquery ? q->n : 0;
}

/* Every sort of API.md, each with an index to walk; id breaks ties so pages
 * never overlap. */
static const struct {
	const char *key, *order;
} sorts[] = {
	{"name", "m.name, m.id"},
	{"-name", "m.name DESC, m.id DESC"},
	{"year", "m.year, m.id"},
	{"-year", "m.year DESC, m.id DESC"},
	{"price", "m.price, m.id"},
	{"-price", "m.price DESC, m.id DESC"},
	{"imdb", "m.imdb, m.id"},
	{"-imdb", "m.imdb DESC, m.id DESC"},
	{"votes", "m.votes, m.id"},
	{"-votes", "m.votes DESC, m.id DESC"},
	{"popularity", "m.popularity, m.id"},
	{"-popularity", "m.popularity DESC, m.id DESC"},
	{"rating", "m.rating NULLS LAST, m.id"},
	{"-rating", "m.rating DESC NULLS LAST, m.id DESC"},
	{"created_at", "m.created_at, m.id"},
	{"-created_at", "m.created_at DESC, m.id DESC"},
};

bool movies_sort_valid(const char *key)
{
	for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
		if (strcmp(sorts[i].key, key) == 0)
			return true;
	return false;
}

static enum err list_run(struct db_conn *c, struct list_query *q, PGresult **res)
{
	const struct db_stmt stmt = {"movies_list", q->sql.data};
	return db_exec_planned(c, &stmt, q->n, q->p, res);
}

enum err movies_list(struct db_conn *c, const struct movie_filter *f, struct buf *items,
		     long long *total)
{
	struct list_query q = {.sql = BUF_INIT};
	PGresult *res = NULL;
	char limit[24], offset[24];
	const char *order = "m.popularity DESC, m.id DESC";
	/* Relevance order ranks every match anyway, so its count is free. */
	bool relevance = !f->sort && f->tsquery;
	enum err rc;

	buf_append_str(&q.sql, "SELECT " MOVIE_SUMMARY_JSON);
	buf_append_str(&q.sql, relevance ? ", count(*) OVER ()" : ", 0");
	buf_append_str(&q.sql, " FROM movies m JOIN certifications c ON c.id = m.certification_id");
	list_where(&q, f);
	for (size_t i = 0; f->sort && i < sizeof(sorts) / sizeof(sorts[0]); i++)
		if (strcmp(sorts[i].key, f->sort) == 0)
			order = sorts[i].order;
	if (relevance)
		buf_printf(&q.sql,
			   " ORDER BY ts_rank_cd(m.search_doc, to_tsquery('simple', $%d)) DESC, "
			   "m.popularity DESC, m.id",
			   q.tsq);
	else
		buf_printf(&q.sql, " ORDER BY %s", order);
	ll_str(limit, f->limit);
	ll_str(offset, f->offset);
	q.p[q.n] = limit;
	q.p[q.n + 1] = offset;
	buf_printf(&q.sql, " LIMIT $%d OFFSET $%d", q.n + 1, q.n + 2);
	q.n += 2;
	rc = list_run(c, &q, &res);
	if (rc != ERR_OK)
		goto out;
	rows_to_array(res, items);
	int n = PQntuples(res);
	if (relevance && n > 0) {
		*total = db_int(res, 0, 1);
	} else if (n < f->limit && (n > 0 || f->offset == 0)) {
		*total = f->offset + n; /* the last page */
	} else {
		/* A full page, or past the last one: count the matches. (A
		 * window count would make every sort read all matching rows.) */
		PQclear(res);
		res = NULL;
		buf_reset(&q.sql);
		q.n = 0;
		buf_append_str(&q.sql, "SELECT count(*) FROM movies m");
		list_where(&q, f);
		rc = list_run(c, &q, &res);
		*total = rc == ERR_OK ? db_int(res, 0, 0) : 0;
	}
out:
	PQclear(res);
	buf_free(&q.sql);
	return rc;
}

/* ---- movies: detail ---- */

/* The detail is read, never built: migrations/0013_movie_detail.sql keeps
 * its fixed part pre-rendered in detail_head (id to directors) and
 * detail_tail (created_at to has_feature); the counters between them are
 * read live, so that a like shows at once and rendering never waits on a
 * reaction. The anonymous statement is a primary-key read of nine columns
 * (PostgreSQL CPU about that of a one-column primary-key select; building
 * the object per read cost twice as much: docs/benchmarks.md, "Catalog cold
 * path (issue 15): detail"). A viewer's statement adds the "me" object. */
#define DETAIL_COLUMNS                                                             \
	"SELECT m.detail_head, m.likes, m.dislikes, round(m.rating::numeric, 1), " \
	"m.rating_count, m.comments, m.favorites, m.popularity, m.detail_tail"
enum { DETAIL_NCOLS = 9 };

static const struct db_stmt stmt_get = {"movies_get",
					DETAIL_COLUMNS " FROM movies m WHERE m.id = $1"};

/* clang-format off */
static const struct db_stmt stmt_get_viewer = {
	"movies_get_viewer",
	DETAIL_COLUMNS ", json_build_object("
	"'reaction', (SELECT r.reaction FROM movie_reactions r WHERE r.movie_id = m.id "
	"AND r.user_id = $2::bigint), "
	"'rating', (SELECT r.score FROM movie_ratings r WHERE r.movie_id = m.id "
	"AND r.user_id = $2::bigint), "
	"'is_favorite', EXISTS (SELECT 1 FROM favorites f WHERE f.movie_id = m.id "
	"AND f.user_id = $2::bigint), "
	"'is_purchased', EXISTS (SELECT 1 FROM purchases p WHERE p.movie_id = m.id "
	"AND p.user_id = $2::bigint), "
	"'progress', (SELECT json_build_object('position_s', w.position_s, "
	"'duration_s', w.duration_s, 'finished', w.finished, "
	"'updated_at', " RFC3339("w.updated_at") ") FROM watch_progress w "
	"WHERE w.movie_id = m.id AND w.user_id = $2::bigint))::text "
	"FROM movies m WHERE m.id = $1"};
/* clang-format on */

/* A number column as json_build_object renders it: PostgreSQL's text, or
 * a string where that is not a JSON number (NaN, Infinity). NULL: null. */
static void detail_number(struct buf *out, const char *key, const PGresult *res, int col)
{
	buf_append_str(out, key);
	if (PQgetisnull(res, 0, col)) {
		buf_append_str(out, "null");
		return;
	}
	const char *v = PQgetvalue(res, 0, col);
	size_t n = (size_t)PQgetlength(res, 0, col);
	const char *d = v[0] == '-' ? v + 1 : v;
	if (*d >= '0' && *d <= '9')
		buf_append(out, v, n);
	else {
		buf_append_char(out, '"');
		buf_append_json_escaped(out, v, n);
		buf_append_char(out, '"');
	}
}

/* Appends the MovieDetail of a row of DETAIL_COLUMNS (and "me" after them,
 * when the statement has it): the same keys in the same order as
 * openapi.yaml's MovieDetail and the object built by SQL before. */
static void detail_render(const PGresult *res, struct buf *out)
{
	buf_append_json_compact(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	detail_number(out, ",\"likes\":", res, 1);
	detail_number(out, ",\"dislikes\":", res, 2);
	detail_number(out, ",\"rating\":", res, 3);
	detail_number(out, ",\"rating_count\":", res, 4);
	detail_number(out, ",\"comment_count\":", res, 5);
	detail_number(out, ",\"favorite_count\":", res, 6);
	detail_number(out, ",\"popularity\":", res, 7);
	buf_append_char(out, ',');
	buf_append_json_compact(out, PQgetvalue(res, 0, 8), (size_t)PQgetlength(res, 0, 8));
	buf_append_str(out, ",\"me\":");
	if (PQnfields(res) > DETAIL_NCOLS)
		buf_append_json_compact(out, PQgetvalue(res, 0, DETAIL_NCOLS),
					(size_t)PQgetlength(res, 0, DETAIL_NCOLS));
	else
		buf_append_str(out, "null");
	buf_append_char(out, '}');
}

enum err movies_get(struct db_conn *c, long long id, const char *viewer, struct buf *out)
{
	PGresult *res = NULL;
	char ids[24];
	ll_str(ids, id);
	const char *p[] = {ids, viewer};
	enum err rc = viewer ? db_exec(c, &stmt_get_viewer, 2, p, &res)
			     : db_exec(c, &stmt_get, 1, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK)
		detail_render(res, out);
	PQclear(res);
	return rc;
}

/* ---- movies: writes ---- */

static const struct db_stmt stmt_check_refs = {
	"movies_check_refs",
	"SELECT $1::bigint IS NULL OR EXISTS (SELECT 1 FROM certifications WHERE id = $1::bigint), "
	"array_to_string(array(SELECT unnest($2::bigint[]) EXCEPT SELECT id FROM genres), ', '), "
	"array_to_string(array(SELECT unnest($3::bigint[]) EXCEPT SELECT id FROM stars), ', '), "
	"array_to_string(array(SELECT unnest($4::bigint[]) EXCEPT SELECT id FROM directors), ', "
	"')"};

enum err movies_check_refs(struct db_conn *c, const struct movie_fields *f, void **missing)
{
	PGresult *res = NULL;
	const char *p[] = {f->certification_id, f->genre_ids, f->star_ids, f->director_ids};
	static const char *const fields[] = {"genre_ids", "star_ids", "director_ids"};
	json_t *errors = json_array();
	*missing = NULL;
	enum err rc = db_exec(c, &stmt_check_refs, 4, p, &res);
	if (rc != ERR_OK)
		goto out;
	if (!db_bool(res, 0, 0))
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "certification_id",
							"message", "no certification has this id"));
	for (int i = 0; i < 3; i++) {
		const char *ids = db_text(res, 0, i + 1);
		if (ids && *ids) {
			char msg[256];
			snprintf(msg, sizeof(msg), "unknown ids: %.200s", ids);
			json_array_append_new(
				errors, json_pack("{s:s,s:s}", "field", fields[i], "message", msg));
		}
	}
	if (json_array_size(errors)) {
		rc = ERR_VALIDATION;
		*missing = errors;
		errors = NULL;
	}
out:
	json_decref(errors);
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_insert = {
	"movies_insert",
	"INSERT INTO movies (name, year, time, imdb, votes, meta_score, gross, description, price, "
	"certification_id) VALUES ($1, $2::int, $3::int, $4::float8, $5::int, $6::float8, "
	"$7::float8, $8, $9::numeric, $10::bigint) RETURNING id"};

/* $1 id; each column changes only when its parameter is not NULL, or when
 * its *_null flag asks for NULL. */
static const struct db_stmt stmt_update = {
	"movies_update",
	"UPDATE movies SET name = coalesce($2, name), year = coalesce($3::int, year), "
	"time = coalesce($4::int, time), imdb = coalesce($5::float8, imdb), "
	"votes = coalesce($6::int, votes), "
	"meta_score = CASE WHEN $12::boolean THEN NULL ELSE coalesce($7::float8, meta_score) END, "
	"gross = CASE WHEN $13::boolean THEN NULL ELSE coalesce($8::float8, gross) END, "
	"description = coalesce($9, description), price = coalesce($10::numeric, price), "
	"certification_id = coalesce($11::bigint, certification_id) WHERE id = $1 RETURNING id"};

/* Replaces one association set when its array is given: the links not in
 * the new set go, the new ones come, the kept ones stay untouched. (A
 * data-modifying CTE runs in the same snapshot as the INSERT, so deleting
 * every link and inserting the kept ones again collides with the rows
 * being deleted: the DELETE and the INSERT must touch disjoint keys.) */
#define SET_LINKS(table, col)                                                                     \
	"WITH d AS (DELETE FROM " table " WHERE movie_id = $1 AND " col " <> ALL($2::bigint[])) " \
	"INSERT INTO " table " (movie_id, " col                                                   \
	") SELECT DISTINCT $1::bigint, unnest($2::bigint[]) "                                     \
	"ON CONFLICT DO NOTHING"
static const struct db_stmt stmt_set_genres = {"movies_set_genres",
					       SET_LINKS("movie_genres", "genre_id")};
static const struct db_stmt stmt_set_stars = {"movies_set_stars",
					      SET_LINKS("movie_stars", "star_id")};
static const struct db_stmt stmt_set_directors = {"movies_set_directors",
						  SET_LINKS("movie_directors", "director_id")};
static const struct db_stmt stmt_refresh_search = {"movies_refresh_search",
						   "SELECT movies_refresh_search($1)"};

static enum err set_links(struct db_conn *c, const char *ids, const struct movie_fields *f)
{
	enum err rc = ERR_OK;
	const char *p[2] = {ids, NULL};
	if (rc == ERR_OK && f->genre_ids) {
		p[1] = f->genre_ids;
		rc = db_exec(c, &stmt_set_genres, 2, p, NULL);
	}
	if (rc == ERR_OK && f->star_ids) {
		p[1] = f->star_ids;
		rc = db_exec(c, &stmt_set_stars, 2, p, NULL);
	}
	if (rc == ERR_OK && f->director_ids) {
		p[1] = f->director_ids;
		rc = db_exec(c, &stmt_set_directors, 2, p, NULL);
	}
	if (rc == ERR_OK)
		rc = db_exec(c, &stmt_refresh_search, 1, p, NULL);
	return rc;
}

enum err movies_insert(struct db_conn *c, const struct movie_fields *f, long long *id)
{
	PGresult *res = NULL;
	char ids[24];
	const char *p[] = {f->name,	  f->year,  f->time,	    f->imdb,  f->votes,
			   f->meta_score, f->gross, f->description, f->price, f->certification_id};
	enum err rc = db_exec(c, &stmt_insert, 10, p, &res);
	if (rc == ERR_OK) {
		*id = db_int(res, 0, 0);
		ll_str(ids, *id);
		rc = set_links(c, ids, f);
	}
	PQclear(res);
	return rc == ERR_CONFLICT ? ERR_MOVIE_EXISTS : rc;
}

enum err movies_update(struct db_conn *c, long long id, const struct movie_fields *f)
{
	PGresult *res = NULL;
	char ids[24];
	ll_str(ids, id);
	const char *p[] = {ids,
			   f->name,
			   f->year,
			   f->time,
			   f->imdb,
			   f->votes,
			   f->meta_score,
			   f->gross,
			   f->description,
			   f->price,
			   f->certification_id,
			   f->meta_score_null ? "true" : "false",
			   f->gross_null ? "true" : "false"};
	enum err rc = db_exec(c, &stmt_update, 13, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK)
		rc = set_links(c, ids, f);
	PQclear(res);
	return rc == ERR_CONFLICT ? ERR_MOVIE_EXISTS : rc;
}

static const struct db_stmt stmt_delete = {"movies_delete",
					   "DELETE FROM movies WHERE id = $1 RETURNING id"};

enum err movies_delete(struct db_conn *c, long long id)
{
	PGresult *res = NULL;
	char ids[24];
	ll_str(ids, id);
	const char *p[] = {ids};
	enum err rc = db_exec(c, &stmt_delete, 1, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	PQclear(res);
	return rc;
}

/* ---- lookups ---- */

/* The statements of one lookup table. "uses" counts the movies using a row:
 * through a link table, or movies.certification_id. */
struct lookup_stmts {
	struct db_stmt list_all, list, count, get, create, rename, uses, del, reindex;
};

#define LOOKUP_USES(kind, link, fk) "(SELECT count(*) FROM " link " u WHERE u." fk " = t.id)"

#define LOOKUP_STMTS(kind, table, uses, reindex_sql)                                           \
	{                                                                                      \
		{#kind "_list_all",                                                            \
		 "SELECT coalesce(json_agg(json_build_object('id', t.id, 'name', t.name, "     \
		 "'movie_count', " uses ") ORDER BY t.name), '[]')::text FROM " table " t"},   \
			{#kind "_list",                                                        \
			 "SELECT json_build_object('id', t.id, 'name', t.name, "               \
			 "'movie_count', " uses ")::text FROM " table                          \
			 " t WHERE ($1::text IS NULL OR "                                      \
			 "strpos(lower(t.name), lower($1)) > 0) ORDER BY t.name, t.id "        \
			 "LIMIT $2 OFFSET $3"},                                                \
			{#kind "_count",                                                       \
			 "SELECT count(*) FROM " table " t WHERE ($1::text IS NULL "           \
			 "OR strpos(lower(t.name), lower($1)) > 0)"},                          \
			{#kind "_get",                                                         \
			 "SELECT json_build_object('id', t.id, 'name', t.name, "               \
			 "'movie_count', " uses ")::text FROM " table " t WHERE t.id = $1"},   \
			{#kind "_create",                                                      \
			 "INSERT INTO " table " (name) VALUES ($1) RETURNING id"},             \
			{#kind "_rename",                                                      \
			 "UPDATE " table " SET name = $2 WHERE id = $1 RETURNING id"},         \
			{#kind "_uses", "SELECT " uses " FROM " table " t WHERE t.id = $1"},   \
			{#kind "_delete", "DELETE FROM " table " WHERE id = $1 RETURNING id"}, \
			{#kind "_reindex", reindex_sql},                                       \
	}

/* After a rename, the search text and lists of the movies using the name. */
#define REINDEX(link, fk)                                                             \
	"SELECT movies_refresh_derived(array(SELECT movie_id FROM " link " WHERE " fk \
	" = $1::bigint))"

static const struct lookup_stmts lookups[] = {
	[LOOKUP_GENRE] =
		LOOKUP_STMTS(genres, "genres", LOOKUP_USES(genres, "movie_genres", "genre_id"),
			     REINDEX("movie_genres", "genre_id")),
	[LOOKUP_STAR] = LOOKUP_STMTS(stars, "stars", LOOKUP_USES(stars, "movie_stars", "star_id"),
				     REINDEX("movie_stars", "star_id")),
	[LOOKUP_DIRECTOR] = LOOKUP_STMTS(directors, "directors",
					 LOOKUP_USES(directors, "movie_directors", "director_id"),
					 REINDEX("movie_directors", "director_id")),
	[LOOKUP_CERTIFICATION] = LOOKUP_STMTS(certifications, "certifications",
					      "(SELECT count(*) FROM movies u WHERE "
					      "u.certification_id = t.id)",
					      "SELECT $1::bigint"),
};

enum err lookup_list_all(struct db_conn *c, enum lookup_kind k, struct buf *out)
{
	PGresult *res = NULL;
	enum err rc = db_exec(c, &lookups[k].list_all, 0, NULL, &res);
	if (rc == ERR_OK)
		buf_append_json_compact(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
	return rc;
}

enum err lookup_list(struct db_conn *c, enum lookup_kind k, const char *name_like, long long limit,
		     long long offset, struct buf *items, long long *total)
{
	PGresult *res = NULL;
	char lim[24], off[24];
	ll_str(lim, limit);
	ll_str(off, offset);
	const char *p[] = {name_like, lim, off};
	enum err rc = db_exec(c, &lookups[k].count, 1, p, &res);
	if (rc != ERR_OK)
		return rc;
	*total = db_int(res, 0, 0);
	PQclear(res);
	res = NULL;
	rc = db_exec(c, &lookups[k].list, 3, p, &res);
	if (rc == ERR_OK)
		rows_to_array(res, items);
	PQclear(res);
	return rc;
}

enum err lookup_get(struct db_conn *c, enum lookup_kind k, long long id, struct buf *out)
{
	PGresult *res = NULL;
	char ids[24];
	ll_str(ids, id);
	const char *p[] = {ids};
	enum err rc = db_exec(c, &lookups[k].get, 1, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK)
		buf_append_json_compact(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
	return rc;
}

enum err lookup_create(struct db_conn *c, enum lookup_kind k, const char *name, long long *id)
{
	PGresult *res = NULL;
	enum err rc = db_exec(c, &lookups[k].create, 1, &name, &res);
	if (rc == ERR_OK)
		*id = db_int(res, 0, 0);
	PQclear(res);
	return rc == ERR_CONFLICT ? ERR_NAME_TAKEN : rc;
}

enum err lookup_rename(struct db_conn *c, enum lookup_kind k, long long id, const char *name)
{
	PGresult *res = NULL;
	char ids[24];
	ll_str(ids, id);
	const char *p[] = {ids, name};
	enum err rc = db_exec(c, &lookups[k].rename, 2, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	PQclear(res);
	if (rc == ERR_OK)
		rc = db_exec(c, &lookups[k].reindex, 1, p, NULL);
	return rc == ERR_CONFLICT ? ERR_NAME_TAKEN : rc;
}

enum err lookup_delete(struct db_conn *c, enum lookup_kind k, long long id, long long *in_use)
{
	PGresult *res = NULL;
	char ids[24];
	ll_str(ids, id);
	const char *p[] = {ids};
	*in_use = 0;
	enum err rc = db_exec(c, &lookups[k].uses, 1, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK && (*in_use = db_int(res, 0, 0)) > 0)
		rc = ERR_IN_USE;
	PQclear(res);
	res = NULL;
	if (rc == ERR_OK) {
		/* A movie may have started using it since: the FK says 23503. */
		rc = db_exec(c, &lookups[k].del, 1, p, &res);
		if (rc == ERR_OK && PQntuples(res) == 0)
			rc = ERR_NOT_FOUND;
	}
	PQclear(res);
	return rc;
}
