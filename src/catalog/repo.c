#include "catalog/repo.h"

#include "catalog/cursor.h"
#include "cinema/log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static void ll_str(char out[24], long long v)
{
	snprintf(out, 24, "%lld", v);
}

/* Appends the first column of the first n rows, comma-separated, inside [ ]. */
static void rows_to_array(const PGresult *res, int n, struct buf *out)
{
	buf_append_char(out, '[');
	for (int i = 0; i < n; i++) {
		if (i)
			buf_append_char(out, ',');
		buf_append_json_compact(out, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
	}
	buf_append_char(out, ']');
}

/* ---- movies: list ---- */

/* docs/CATALOG.md "Lists at scale" explains the shapes built here. The
 * statement is built from the filters that are present: each adds one
 * condition with its own parameter, so the planner sees plain conditions
 * (and semi-joins for the EXISTS) instead of "$n IS NULL OR ..." for every
 * filter. Built and planned per call: the values pick the plan. */
struct list_query {
	struct buf sql;
	const char *p[48];
	int n;
	const char *row; /* the alias whose columns are filtered and sorted: m or g */
	const char *id;	 /* its movie id column */
};

/* Adds a parameter and returns its number. */
static int param(struct list_query *q, const char *value)
{
	q->p[q->n++] = value;
	return q->n;
}

/* One condition, " AND <not><alias>.<column>$N<after>", N value's
 * parameter; nothing when value is NULL. */
static void cond(struct list_query *q, bool *first, const char *value, const char * not,
		 const char *alias, const char *column, const char *after_param)
{
	if (!value)
		return;
	buf_printf(&q->sql, "%s %s%s.%s$%d%s", *first ? " WHERE" : " AND", not, alias, column,
		   param(q, value), after_param);
	*first = false;
}

/* " AND EXISTS (a row of table for this movie with column = value)". */
static void cond_exists(struct list_query *q, bool *first, const char *value, const char *table,
			const char *column)
{
	if (!value)
		return;
	buf_printf(&q->sql,
		   "%s EXISTS (SELECT 1 FROM %s x WHERE x.movie_id = %s AND x.%s = $%d::bigint)",
		   *first ? " WHERE" : " AND", table, q->id, column, param(q, value));
	*first = false;
}

/* The WHERE of f on q->row (m: movies, g: movie_genres, which carries the
 * filtered columns too). The genre filter is g's own (g.genre_id) when g
 * drives, else a semi-join. tsq: the search to apply (f->tsquery or
 * NULL). */
static bool list_where(struct list_query *q, const struct movie_filter *f, const char *tsq,
		       bool first)
{
	bool g = strcmp(q->row, "g") == 0;
	cond(q, &first, f->year, "", q->row, "year = ", "::int");
	cond(q, &first, f->year_min, "", q->row, "year >= ", "::int");
	cond(q, &first, f->year_max, "", q->row, "year <= ", "::int");
	cond(q, &first, f->imdb_min, "", q->row, "imdb >= ", "::float8");
	cond(q, &first, f->imdb_max, "", q->row, "imdb <= ", "::float8");
	cond(q, &first, f->price_min, "", q->row, "price >= ", "::numeric");
	cond(q, &first, f->price_max, "", q->row, "price <= ", "::numeric");
	cond(q, &first, f->certification, "", q->row, "certification_id = ", "::bigint");
	if (g)
		cond(q, &first, f->genre, "", q->row, "genre_id = ", "::bigint");
	else
		cond_exists(q, &first, f->genre, "movie_genres", "genre_id");
	cond_exists(q, &first, f->star, "movie_stars", "star_id");
	cond_exists(q, &first, f->director, "movie_directors", "director_id");
	cond_exists(q, &first, f->favorites_of, "favorites", "user_id");
	cond_exists(q, &first, f->purchased_by, "purchases", "user_id");
	/* search_doc is only on movies: a genre walk joins them for it */
	cond(q, &first, tsq, "", "m", "search_doc @@ to_tsquery('simple', ", ")");
	/* PostgreSQL drops a word with no letter or digit (an emoji): what is
	 * left may be only a negation, which no index serves and which must
	 * match nothing (a search needs a positive match); checked once per
	 * statement, on the parameter. */
	if (tsq)
		buf_printf(&q->sql, " AND querytree(to_tsquery('simple', $%d)) <> 'T'", q->n);
	return first;
}

/* Every sort of API.md, each with an index to walk (on movies, and on
 * movie_genres for a genre); id breaks ties so pages never overlap. Unrated
 * movies come last both ways: the rating sorts order by coalesce(rating,
 * +/-Infinity), which migrations/0012_catalog_scale.sql indexes. */
static const struct sort_def {
	const char *key, *column, *type;
	bool desc;
} sorts[] = {
	{"name", "name", "text", false},
	{"-name", "name", "text", true},
	{"year", "year", "int", false},
	{"-year", "year", "int", true},
	{"price", "price", "numeric", false},
	{"-price", "price", "numeric", true},
	{"imdb", "imdb", "float8", false},
	{"-imdb", "imdb", "float8", true},
	{"votes", "votes", "int", false},
	{"-votes", "votes", "int", true},
	{"popularity", "popularity", "float8", false},
	{"-popularity", "popularity", "float8", true},
	{"rating", "rating", "float8", false},
	{"-rating", "rating", "float8", true},
	{"created_at", "created_at", "timestamptz", false},
	{"-created_at", "created_at", "timestamptz", true},
};
#define NSORTS		   (sizeof(sorts) / sizeof(sorts[0]))
#define DEFAULT_SORT	   11 /* -popularity */
#define CURSOR_CREATED_FMT "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'"

static const struct sort_def *sort_find(const char *key)
{
	for (size_t i = 0; key && i < NSORTS; i++)
		if (strcmp(sorts[i].key, key) == 0)
			return &sorts[i];
	return NULL;
}

bool movies_sort_valid(const char *key)
{
	return sort_find(key) != NULL;
}

const char *movies_sort_type(const char *key)
{
	const struct sort_def *s = sort_find(key);
	return s ? s->type : "float8"; /* relevance: by popularity */
}

const char *movies_sort_of(const struct movie_filter *f)
{
	if (!f->sort && f->tsquery)
		return "";
	return f->sort ? f->sort : sorts[DEFAULT_SORT].key;
}

/* The sort key of row alias a, as the indexes have it. */
static void sort_key(struct buf *b, const struct sort_def *s, const char *a)
{
	if (strcmp(s->column, "rating") == 0)
		buf_printf(b, "coalesce(%s.rating, '%sInfinity'::float8)", a, s->desc ? "-" : "");
	else
		buf_printf(b, "%s.%s", a, s->column);
}

/* The sort key value k as cursor text (PostgreSQL's text of it; float8
 * text is the shortest that reads back exactly). */
static void sort_key_text(struct buf *b, const struct sort_def *s, const char *k)
{
	if (strcmp(s->type, "timestamptz") == 0)
		buf_printf(b, "to_char(%s AT TIME ZONE 'UTC', " CURSOR_CREATED_FMT ")", k);
	else
		buf_printf(b, "%s::text", k);
}

/* " ORDER BY key dir, id dir" of alias a with id column id. */
static void order_by(struct buf *b, const struct sort_def *s, const char *a, const char *id)
{
	buf_append_str(b, " ORDER BY ");
	sort_key(b, s, a);
	buf_printf(b, "%s, %s%s", s->desc ? " DESC" : "", id, s->desc ? " DESC" : "");
}

/* The keyset condition: rows after the cursor in the order of s. */
static void after(struct list_query *q, bool first, const struct sort_def *s,
		  const struct movie_cursor *cur, char *idbuf)
{
	snprintf(idbuf, 24, "%lld", cur->id);
	buf_append_str(&q->sql, first ? " WHERE (" : " AND (");
	sort_key(&q->sql, s, q->row);
	int v = param(q, cur->value);
	int i = param(q, idbuf);
	buf_printf(&q->sql, ", %s) %c ($%d::%s, $%d::bigint)", q->id, s->desc ? '<' : '>', v,
		   s->type, i);
}

static enum err list_run(struct db_conn *c, struct list_query *q, PGresult **res)
{
	const struct db_stmt stmt = {"movies_list", q->sql.data};
	return db_exec_planned(c, &stmt, q->n, q->p, res);
}

static void list_reset(struct list_query *q, const char *row, const char *id)
{
	buf_reset(&q->sql);
	q->n = 0;
	q->row = row;
	q->id = id;
}

/* A set of at most a few thousand movies that a filter names: one user's
 * favorites or purchases, a director's or a star's movies (first found in
 * that order, the smallest sets first). */
struct link_set {
	const char *table, *column, *value;
};

static bool link_set_of(const struct movie_filter *f, struct link_set *ls)
{
	const struct link_set sets[] = {
		{"favorites", "user_id", f->favorites_of},
		{"purchases", "user_id", f->purchased_by},
		{"movie_directors", "director_id", f->director},
		{"movie_stars", "star_id", f->star},
	};
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		if (sets[i].value) {
			*ls = sets[i];
			return true;
		}
	return false;
}

/* " FROM ... WHERE ..." of f's matches, on q->row. Three drivers:
 * - a bounded set (link_set_of): its rows joined to movies m; every match
 *   is then fetched and sorted (a few thousand at most), since walking a
 *   sort index until a rare star's movies turn up can cost the table;
 * - a genre: movie_genres g, which carries the sort and filter columns
 *   (and m joined for a search);
 * - else movies m. Returns whether no condition was written yet. */
static bool list_from(struct list_query *q, const struct movie_filter *f, const char *tsq)
{
	struct link_set ls;
	if (link_set_of(f, &ls)) {
		list_reset(q, "m", "m.id");
		buf_printf(&q->sql,
			   " FROM %s x JOIN movies m ON m.id = x.movie_id WHERE x.%s = $%d::bigint",
			   ls.table, ls.column, param(q, ls.value));
		return list_where(q, f, tsq, false);
	}
	if (f->genre) {
		list_reset(q, "g", "g.movie_id");
		buf_append_str(&q->sql, " FROM movie_genres g");
		if (tsq)
			buf_append_str(&q->sql, " JOIN movies m ON m.id = g.movie_id");
		return list_where(q, f, tsq, true);
	}
	list_reset(q, "m", "m.id");
	buf_append_str(&q->sql, " FROM movies m");
	return list_where(q, f, tsq, true);
}

/* The rows of one page: summary JSON, cursor value, id (and, for
 * relevance, the tier). Only the ids of the page are walked in the inner
 * query (an index walk, with what OFFSET skips never rendered); the outer
 * query renders the limit + 1 rows found. */
static void page_sql(struct list_query *q, const struct movie_filter *f, const struct sort_def *s,
		     char *lim, char *off, char *idbuf)
{
	struct link_set ls;
	bool bounded = link_set_of(f, &ls);
	/* list_from resets q: build the walk into q, then wrap it */
	bool first = list_from(q, f, f->tsquery);
	struct buf where = q->sql;
	q->sql = (struct buf)BUF_INIT;
	buf_printf(&q->sql, "SELECT %s AS id, ", q->id);
	sort_key(&q->sql, s, q->row);
	buf_printf(&q->sql, " AS k%s", where.data);
	buf_free(&where);
	if (f->after)
		after(q, first, s, f->after, idbuf);
	if (bounded) {
		/* OFFSET 0: a fence, so the set is read whole and then sorted */
		struct buf set = q->sql;
		q->sql = (struct buf)BUF_INIT;
		buf_printf(&q->sql, "SELECT id, k FROM (%s OFFSET 0) b ORDER BY k%s, id%s",
			   set.data, s->desc ? " DESC" : "", s->desc ? " DESC" : "");
		buf_free(&set);
	} else {
		order_by(&q->sql, s, q->row, q->id);
	}
	buf_printf(&q->sql, " LIMIT $%d", param(q, lim));
	if (!f->after)
		buf_printf(&q->sql, " OFFSET $%d", param(q, off));
	/* wrap: render the page */
	struct buf inner = q->sql;
	q->sql = (struct buf)BUF_INIT;
	buf_append_str(&q->sql, "SELECT " CATALOG_MOVIE_SUMMARY "::text, ");
	sort_key_text(&q->sql, s, "p.k");
	buf_printf(&q->sql,
		   ", m.id, 0 FROM (%s) p JOIN movies m ON m.id = p.id "
		   "JOIN certifications c ON c.id = m.certification_id ORDER BY p.k%s, p.id%s",
		   inner.data, s->desc ? " DESC" : "", s->desc ? " DESC" : "");
	buf_free(&inner);
}

/* Relevance (a search without sort, docs/CATALOG.md "Search"): the movies
 * whose title matches come first, then the others, each by popularity. Two
 * index walks, each stopping at the page: no match is ranked that is not
 * returned. */
static void relevance_sql(struct list_query *q, const struct movie_filter *f, char *lim,
			  char *lim_off, char *off, char *idbuf)
{
	static const struct sort_def pop = {"", "popularity", "float8", true};
	const struct movie_cursor *cur = f->after;
	/* A title match is a match of the whole query unless it excludes
	 * words (which may be elsewhere): then tier 0 checks both. */
	bool negated = strchr(f->tsquery, '!') != NULL;
	list_reset(q, "m", "m.id");
	buf_append_str(&q->sql, "SELECT " CATALOG_MOVIE_SUMMARY "::text, p.pop::text, m.id, p.tier "
				"FROM (SELECT id, tier, pop FROM (");
	for (int tier = cur ? cur->tier : 0; tier < 2; tier++) {
		if (tier == 1 && !(cur && cur->tier == 1))
			buf_append_str(&q->sql, " UNION ALL ");
		buf_printf(&q->sql, "(SELECT m.id, %d AS tier, m.popularity AS pop FROM movies m",
			   tier);
		bool first = list_where(q, f, tier == 0 && !negated ? NULL : f->tsquery, true);
		cond(q, &first, f->tsquery, tier ? "NOT " : "", "m",
		     "title_doc @@ to_tsquery('simple', ", ")");
		if (tier == 0 && !negated)
			buf_printf(&q->sql, " AND querytree(to_tsquery('simple', $%d)) <> 'T'",
				   q->n);
		if (cur && cur->tier == tier)
			after(q, first, &pop, cur, idbuf);
		order_by(&q->sql, &pop, "m", "m.id");
		buf_printf(&q->sql, " LIMIT $%d)", param(q, cur ? lim : lim_off));
	}
	/* the page's ids first; only they are rendered */
	buf_append_str(&q->sql, ") u ORDER BY tier, pop DESC, id DESC");
	buf_printf(&q->sql, " LIMIT $%d", param(q, lim));
	if (!cur)
		buf_printf(&q->sql, " OFFSET $%d", param(q, off));
	buf_append_str(&q->sql, ") p JOIN movies m ON m.id = p.id "
				"JOIN certifications c ON c.id = m.certification_id "
				"ORDER BY p.tier, p.pop DESC, p.id DESC");
}

/* Nothing matched the words: titles like them (misspellings: "Godfater"),
 * by pg_trgm's word similarity, one page. Only for plain words: a phrase,
 * a negation or an "or" is precise on purpose (their operators, ! | <->,
 * are never inside a quoted word: all three are separators). */
static void similar_sql(struct list_query *q, const struct movie_filter *f, char *lim)
{
	struct movie_filter rest = *f;
	rest.tsquery = NULL;
	list_reset(q, "m", "m.id");
	buf_append_str(&q->sql, "SELECT " CATALOG_MOVIE_SUMMARY "::text, '', m.id, 0 "
				"FROM movies m JOIN certifications c ON c.id = m.certification_id");
	bool first = list_where(q, &rest, NULL, true);
	int t = param(q, f->search_text);
	buf_printf(&q->sql,
		   "%s$%d <%% m.name ORDER BY word_similarity($%d, m.name) DESC, "
		   "m.popularity DESC, m.id DESC LIMIT $%d",
		   first ? " WHERE " : " AND ", t, t, param(q, lim));
}

/* Whether the maintained counters answer f's count: only genre, year and
 * certification filters. */
static bool countable(const struct movie_filter *f)
{
	return !f->imdb_min && !f->imdb_max && !f->price_min && !f->price_max && !f->star &&
	       !f->director && !f->favorites_of && !f->purchased_by && !f->tsquery;
}

static enum err count_from_counters(struct db_conn *c, const struct movie_filter *f,
				    struct list_query *q, long long *total)
{
	PGresult *res = NULL;
	list_reset(q, "t", "t.id");
	buf_printf(&q->sql,
		   "SELECT coalesce(sum(t.n), 0) FROM movie_counts t WHERE t.genre_id = "
		   "coalesce($%d::bigint, 0)",
		   param(q, f->genre));
	struct movie_filter rest = {.year = f->year,
				    .year_min = f->year_min,
				    .year_max = f->year_max,
				    .certification = f->certification};
	bool first = false;
	cond(q, &first, rest.year, "", q->row, "year = ", "::int");
	cond(q, &first, rest.year_min, "", q->row, "year >= ", "::int");
	cond(q, &first, rest.year_max, "", q->row, "year <= ", "::int");
	cond(q, &first, rest.certification, "", q->row, "certification_id = ", "::bigint");
	enum err rc = list_run(c, q, &res);
	if (rc == ERR_OK)
		*total = db_int(res, 0, 0);
	PQclear(res);
	return rc;
}

/* The planner's estimate of f's matches ("rows=" of EXPLAIN's top node). */
static enum err count_estimate(struct db_conn *c, struct list_query *q, long long *est)
{
	PGresult *res = NULL;
	enum err rc = list_run(c, q, &res);
	const char *plan = rc == ERR_OK && PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : NULL;
	const char *rows = plan ? strstr(plan, "rows=") : NULL;
	*est = rows ? strtoll(rows + 5, NULL, 10) : 0;
	PQclear(res);
	return rc;
}

/* Counts f's matches up to MOVIES_EXACT_COUNT_MAX; past it, estimates. */
static enum err count_matches(struct db_conn *c, const struct movie_filter *f, struct list_query *q,
			      struct movie_page *pg)
{
	PGresult *res = NULL;
	char cap[24];
	long long est = 0;
	pg->exact = true;
	if (countable(f))
		return count_from_counters(c, f, q, &pg->total);
	/* The planner's estimate first (planning only): far past the
	 * threshold, it is the answer; else count, stopping past it. */
	list_from(q, f, f->tsquery);
	struct buf where = q->sql;
	q->sql = (struct buf)BUF_INIT;
	buf_printf(&q->sql, "EXPLAIN SELECT 1%s", where.data);
	enum err rc = count_estimate(c, q, &est);
	if (rc == ERR_OK && est > MOVIES_ESTIMATE_TRUSTED) {
		pg->exact = false;
		pg->total = est;
	} else if (rc == ERR_OK) {
		buf_reset(&q->sql);
		snprintf(cap, sizeof(cap), "%d", MOVIES_EXACT_COUNT_MAX + 1);
		buf_printf(&q->sql, "SELECT count(*) FROM (SELECT 1%s LIMIT $%d) s", where.data,
			   param(q, cap));
		rc = list_run(c, q, &res);
		if (rc == ERR_OK) {
			pg->total = db_int(res, 0, 0);
			if (pg->total > MOVIES_EXACT_COUNT_MAX) {
				pg->exact = false;
				pg->total = est > pg->total ? est : pg->total;
			}
		}
	}
	buf_free(&where);
	PQclear(res);
	return rc;
}

enum err movies_list(struct db_conn *c, const struct movie_filter *f, struct buf *items,
		     struct movie_page *pg)
{
	struct list_query q = {.sql = BUF_INIT};
	PGresult *res = NULL;
	char lim[24], lim_off[24], off[24], idbuf[24];
	const struct sort_def *s = sort_find(movies_sort_of(f));
	enum err rc;

	memset(pg, 0, sizeof(*pg));
	ll_str(lim, f->limit + 1); /* one more: whether a next page exists */
	ll_str(lim_off, f->limit + 1 + f->offset);
	ll_str(off, f->offset);
	if (s)
		page_sql(&q, f, s, lim, off, idbuf);
	else
		relevance_sql(&q, f, lim, lim_off, off, idbuf);
	rc = list_run(c, &q, &res);
	if (rc == ERR_OK && !s && PQntuples(res) == 0 && !f->after && f->offset == 0 &&
	    f->search_text && *f->search_text && !strpbrk(f->tsquery, "!|<")) {
		PQclear(res);
		res = NULL;
		similar_sql(&q, f, lim);
		rc = list_run(c, &q, &res);
		if (rc == ERR_OK) {
			int n = PQntuples(res) > f->limit ? (int)f->limit : PQntuples(res);
			rows_to_array(res, n, items);
			pg->total = n;
			pg->exact = true;
			goto out;
		}
	}
	if (rc != ERR_OK)
		goto out;
	int n = PQntuples(res);
	pg->more = n > f->limit;
	if (pg->more) {
		n = (int)f->limit;
		if (!movie_cursor_make(movies_sort_of(f), (int)db_int(res, n - 1, 3),
				       PQgetvalue(res, n - 1, 1), db_int(res, n - 1, 2),
				       pg->next_cursor, sizeof(pg->next_cursor)))
			LOG_WARN("list cursor too long",
				 LOG_INT("movie_id", db_int(res, n - 1, 2)));
	}
	rows_to_array(res, n, items);
	if (!f->after && !pg->more && (n > 0 || f->offset == 0)) {
		pg->total = f->offset + n; /* the last page */
		pg->exact = true;
	} else {
		rc = count_matches(c, f, &q, pg);
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
		rows_to_array(res, PQntuples(res), items);
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
