#include "media/playback_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/repo.h"

#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* Whether user may watch movie: an owner, or anyone when all (a
 * moderator). A refund deletes the purchases row, so it ends access. */
#define MAY_WATCH(user, all, movie)                                                      \
	"(" all "::boolean OR EXISTS (SELECT 1 FROM purchases p WHERE p.user_id = " user \
	"::bigint AND p.movie_id = " movie "))"

static void ll_str(char out[24], long long v)
{
	snprintf(out, 24, "%lld", v);
}

/* ---- play ---- */

/* clang-format off */
static const struct db_stmt stmt_get = {
	"playback_get",
	"SELECT " MAY_WATCH("$2", "$3", "m.id") ", f.object_key, f.content_type, f.size_bytes, "
	"f.duration_s, w.position_s, coalesce(w.finished, false) "
	"FROM movies m "
	"LEFT JOIN movie_media f ON f.movie_id = m.id AND f.kind = 'feature' "
	"LEFT JOIN watch_progress w ON w.movie_id = m.id AND w.user_id = $2::bigint "
	"WHERE m.id = $1::bigint"};
/* clang-format on */

static double opt_double(const PGresult *res, int col)
{
	const char *v = db_text(res, 0, col);
	return v ? strtod(v, NULL) : -1.0;
}

enum err playback_repo_get(struct db_conn *c, long long movie, long long user, bool may_all,
			   struct playback_row *out)
{
	PGresult *res = NULL;
	char ms[24], us[24];
	ll_str(ms, movie);
	ll_str(us, user);
	const char *p[] = {ms, us, may_all ? "true" : "false"};
	enum err rc = db_exec(c, &stmt_get, 3, p, &res);
	if (rc != ERR_OK)
		goto out;
	if (PQntuples(res) == 0) {
		rc = ERR_NOT_FOUND;
		goto out;
	}
	/* Access first: whether a film one cannot watch has a feature yet is
	 * none of one's business ("buy it to watch it" holds either way). */
	if (!db_bool(res, 0, 0)) {
		rc = ERR_NOT_PURCHASED;
		goto out;
	}
	if (db_is_null(res, 0, 1)) {
		rc = ERR_FEATURE_NOT_FOUND;
		goto out;
	}
	snprintf(out->object_key, sizeof(out->object_key), "%s", db_text(res, 0, 1));
	snprintf(out->content_type, sizeof(out->content_type), "%s", db_text(res, 0, 2));
	out->size_bytes = db_int(res, 0, 3);
	out->duration_s = opt_double(res, 4);
	out->position_s = opt_double(res, 5);
	out->finished = db_bool(res, 0, 6);
out:
	PQclear(res);
	return rc;
}

/* ---- progress ---- */

/* One statement: the guarded upsert, and what tells why it wrote nothing
 * (same snapshot). The row is rewritten even when the values are the same:
 * updated_at is when the viewer last watched. */
/* clang-format off */
static const struct db_stmt stmt_put = {
	"playback_put_progress",
	"WITH up AS (INSERT INTO watch_progress (user_id, movie_id, position_s, duration_s) "
	"SELECT $2::bigint, m.id, least($4::float8, $5::float8), $5::float8 FROM movies m "
	"WHERE m.id = $1::bigint AND " MAY_WATCH("$2", "$3", "m.id") " "
	"ON CONFLICT (user_id, movie_id) DO UPDATE SET position_s = excluded.position_s, "
	"duration_s = excluded.duration_s, updated_at = now() RETURNING 1) "
	"SELECT EXISTS (SELECT 1 FROM up), EXISTS (SELECT 1 FROM movies WHERE id = $1::bigint)"};
/* clang-format on */

enum err playback_repo_put_progress(struct db_conn *c, long long movie, long long user,
				    bool may_all, double position_s, double duration_s)
{
	PGresult *res = NULL;
	char ms[24], us[24], pos[40], dur[40];
	ll_str(ms, movie);
	ll_str(us, user);
	/* %.17g: a double's text that reads back as the same double. */
	snprintf(pos, sizeof(pos), "%.17g", position_s);
	snprintf(dur, sizeof(dur), "%.17g", duration_s);
	const char *p[] = {ms, us, may_all ? "true" : "false", pos, dur};
	enum err rc = db_exec(c, &stmt_put, 5, p, &res);
	if (rc == ERR_OK && !db_bool(res, 0, 0))
		rc = db_bool(res, 0, 1) ? ERR_NOT_PURCHASED : ERR_NOT_FOUND;
	PQclear(res);
	return rc;
}

/* ---- continue watching ---- */

/* The count and the page in one statement; the partial index
 * watch_progress_unfinished_idx walks the user's unfinished films newest
 * first. Movies are joined for the page's rows only. */
/* clang-format off */
static const struct db_stmt stmt_continue = {
	"playback_continue",
	"WITH cw AS (SELECT w.movie_id, w.position_s, w.duration_s, w.updated_at "
	"FROM watch_progress w WHERE w.user_id = $1::bigint AND NOT w.finished "
	"AND w.position_s > 0 AND " MAY_WATCH("$1", "$2", "w.movie_id") "), "
	"pg AS (SELECT * FROM cw ORDER BY updated_at DESC, movie_id DESC "
	"LIMIT $3::bigint OFFSET $4::bigint) "
	"SELECT (SELECT count(*) FROM cw), coalesce((SELECT json_agg(json_build_object("
	"'movie', " CATALOG_MOVIE_SUMMARY ", 'position_s', pg.position_s, "
	"'duration_s', pg.duration_s, 'progress', pg.position_s / pg.duration_s, "
	"'updated_at', " RFC3339("pg.updated_at") ") "
	"ORDER BY pg.updated_at DESC, pg.movie_id DESC) FROM pg "
	"JOIN movies m ON m.id = pg.movie_id "
	"JOIN certifications c ON c.id = m.certification_id), '[]')::text"};
/* clang-format on */

enum err playback_repo_continue(struct db_conn *c, long long user, bool may_all, long long limit,
				long long offset, struct buf *items, long long *total)
{
	PGresult *res = NULL;
	char us[24], lim[24], off[24];
	ll_str(us, user);
	ll_str(lim, limit);
	ll_str(off, offset);
	const char *p[] = {us, may_all ? "true" : "false", lim, off};
	enum err rc = db_exec(c, &stmt_continue, 4, p, &res);
	if (rc == ERR_OK) {
		*total = db_int(res, 0, 0);
		buf_append_json_compact(items, PQgetvalue(res, 0, 1),
					(size_t)PQgetlength(res, 0, 1));
	}
	PQclear(res);
	return rc;
}
