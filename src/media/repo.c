#include "media/repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static void ll_str(char out[24], long long v)
{
	snprintf(out, 24, "%lld", v);
}

/* ---- movies (read only: whether one exists, the seed's ranks) ---- */

static const struct db_stmt stmt_movie_exists = {
	"media_movie_exists", "SELECT EXISTS (SELECT 1 FROM movies WHERE id = $1)"};

enum err media_repo_movie_exists(struct db_conn *c, long long movie_id)
{
	PGresult *res = NULL;
	char id[24];
	ll_str(id, movie_id);
	const char *p[] = {id};
	enum err rc = db_exec(c, &stmt_movie_exists, 1, p, &res);
	if (rc == ERR_OK && !db_bool(res, 0, 0))
		rc = ERR_NOT_FOUND;
	PQclear(res);
	return rc;
}

/* FOR UPDATE: the one row lock that waits for (and holds off) a
 * transaction inserting an order item or a purchase of the movie (their
 * foreign key checks take FOR KEY SHARE on it). */
static const struct db_stmt stmt_movie_lock = {"media_movie_lock",
					       "SELECT 1 FROM movies WHERE id = $1 FOR UPDATE"};

enum err media_repo_movie_lock(struct db_conn *c, long long movie_id)
{
	PGresult *res = NULL;
	char id[24];
	ll_str(id, movie_id);
	const char *p[] = {id};
	enum err rc = db_exec(c, &stmt_movie_lock, 1, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_movie_ids = {"media_movie_ids",
					      "SELECT id FROM movies ORDER BY id"};

enum err media_repo_movie_ids(struct db_conn *c, PGresult **res)
{
	return db_exec(c, &stmt_movie_ids, 0, NULL, res);
}

/* ---- linked media ---- */

#define MEDIA_JSON                                                                            \
	"json_build_object('kind', m.kind, 'content_type', m.content_type, "                  \
	"'size_bytes', m.size_bytes, 'duration_s', m.duration_s, "                            \
	"'uploaded_at', " RFC3339(                                                            \
		"m.uploaded_at") ", "                                                         \
				 "'uploaded_by', CASE WHEN u.id IS NULL THEN NULL "           \
				 "ELSE json_build_object('id', u.id, 'email', u.email) END, " \
				 "'url', CASE WHEN m.kind <> 'feature' THEN '/api/v1/' || "   \
				 "m.object_key END)"

static const struct db_stmt stmt_list = {
	"media_list", "SELECT coalesce(json_agg(" MEDIA_JSON " ORDER BY m.kind), '[]')::text "
		      "FROM movie_media m LEFT JOIN users u ON u.id = m.uploaded_by "
		      "WHERE m.movie_id = $1"};

enum err media_repo_list(struct db_conn *c, long long movie_id, struct buf *out)
{
	PGresult *res = NULL;
	char id[24];
	ll_str(id, movie_id);
	const char *p[] = {id};
	enum err rc = db_exec(c, &stmt_list, 1, p, &res);
	if (rc == ERR_OK)
		buf_append_str(out, db_text(res, 0, 0));
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_get = {
	"media_get", "SELECT " MEDIA_JSON "::text "
		     "FROM movie_media m LEFT JOIN users u ON u.id = m.uploaded_by "
		     "WHERE m.movie_id = $1 AND m.kind = $2"};

enum err media_repo_get(struct db_conn *c, long long movie_id, enum media_kind kind,
			struct buf *out)
{
	PGresult *res = NULL;
	char id[24];
	ll_str(id, movie_id);
	const char *p[] = {id, media_kind_name(kind)};
	enum err rc = db_exec(c, &stmt_get, 2, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK)
		buf_append_str(out, db_text(res, 0, 0));
	PQclear(res);
	return rc;
}

/* old reads the statement's snapshot: whether a file was there (no FOR
 * UPDATE: a row this very statement updates would be skipped). */
static const struct db_stmt stmt_link = {
	"media_link",
	"WITH old AS (SELECT object_key FROM movie_media WHERE movie_id = $1 AND kind = $2) "
	"INSERT INTO movie_media AS m (movie_id, kind, object_key, content_type, size_bytes, "
	"duration_s, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7) "
	"ON CONFLICT (movie_id, kind) DO UPDATE SET object_key = EXCLUDED.object_key, "
	"content_type = EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes, "
	"duration_s = EXCLUDED.duration_s, uploaded_by = EXCLUDED.uploaded_by, "
	"uploaded_at = now() "
	"RETURNING (SELECT count(*) FROM old)"};

enum err media_repo_link(struct db_conn *c, long long movie_id, enum media_kind kind,
			 const char *object_key, const char *content_type, long long size_bytes,
			 double duration_s, long long uploaded_by, bool *replaced)
{
	PGresult *res = NULL;
	char id[24], size[24], dur[32], by[24];
	ll_str(id, movie_id);
	ll_str(size, size_bytes);
	ll_str(by, uploaded_by);
	snprintf(dur, sizeof(dur), "%.17g", duration_s);
	const char *p[] = {id,
			   media_kind_name(kind),
			   object_key,
			   content_type,
			   size,
			   duration_s > 0 ? dur : NULL,
			   uploaded_by > 0 ? by : NULL};
	enum err rc = db_exec(c, &stmt_link, 7, p, &res);
	if (rc == ERR_OK)
		*replaced = db_int(res, 0, 0) > 0;
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_unlink = {
	"media_unlink", "DELETE FROM movie_media WHERE movie_id = $1 AND kind = $2"};

enum err media_repo_unlink(struct db_conn *c, long long movie_id, enum media_kind kind)
{
	PGresult *res = NULL;
	char id[24];
	ll_str(id, movie_id);
	const char *p[] = {id, media_kind_name(kind)};
	enum err rc = db_exec(c, &stmt_unlink, 2, p, &res);
	if (rc == ERR_OK && strcmp(PQcmdTuples(res), "0") == 0)
		rc = ERR_NOT_FOUND;
	PQclear(res);
	return rc;
}

/* ---- uploads ---- */

static const struct db_stmt stmt_upload_insert = {
	"media_upload_insert",
	"INSERT INTO media_uploads (movie_id, kind, object_key, content_type, size_bytes, "
	"duration_s, s3_upload_id, part_size, created_by, expires_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, to_timestamp($10)) "
	"RETURNING id, " RFC3339("expires_at")};

enum err media_repo_upload_insert(struct db_conn *c, struct media_upload *u, long long created_by,
				  long long expires_epoch)
{
	PGresult *res = NULL;
	char id[24], size[24], dur[32], part[24], by[24], exp[24];
	ll_str(id, u->movie_id);
	ll_str(size, u->size_bytes);
	snprintf(dur, sizeof(dur), "%.17g", u->duration_s);
	ll_str(part, u->part_size);
	ll_str(by, created_by);
	ll_str(exp, expires_epoch);
	const char *p[] = {id,
			   media_kind_name(u->kind),
			   u->object_key,
			   u->content_type,
			   size,
			   u->duration_s > 0 ? dur : NULL,
			   *u->s3_upload_id ? u->s3_upload_id : NULL,
			   u->part_size > 0 ? part : NULL,
			   created_by > 0 ? by : NULL,
			   exp};
	enum err rc = db_exec(c, &stmt_upload_insert, 10, p, &res);
	if (rc == ERR_OK) {
		snprintf(u->id, sizeof(u->id), "%s", db_text(res, 0, 0));
		snprintf(u->expires_at, sizeof(u->expires_at), "%s", db_text(res, 0, 1));
	}
	PQclear(res);
	return rc;
}

#define UPLOAD_COLUMNS                                                                  \
	"SELECT id, object_key, content_type, size_bytes, duration_s, s3_upload_id, "   \
	"part_size, " RFC3339("expires_at") ", expires_at <= now() FROM media_uploads " \
					    "WHERE id = $3::uuid AND movie_id = $1 AND kind = $2"

static const struct db_stmt stmt_upload_get = {"media_upload_get", UPLOAD_COLUMNS};
static const struct db_stmt stmt_upload_lock = {"media_upload_lock", UPLOAD_COLUMNS " FOR UPDATE"};

enum err media_repo_upload_get(struct db_conn *c, long long movie_id, enum media_kind kind,
			       const char *id, bool lock, struct media_upload *out)
{
	PGresult *res = NULL;
	char mid[24];
	ll_str(mid, movie_id);
	const char *p[] = {mid, media_kind_name(kind), id};
	enum err rc = db_exec(c, lock ? &stmt_upload_lock : &stmt_upload_get, 3, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK) {
		memset(out, 0, sizeof(*out));
		snprintf(out->id, sizeof(out->id), "%s", db_text(res, 0, 0));
		out->movie_id = movie_id;
		out->kind = kind;
		snprintf(out->object_key, sizeof(out->object_key), "%s", db_text(res, 0, 1));
		snprintf(out->content_type, sizeof(out->content_type), "%s", db_text(res, 0, 2));
		out->size_bytes = db_int(res, 0, 3);
		out->duration_s = db_is_null(res, 0, 4) ? 0 : strtod(db_text(res, 0, 4), NULL);
		if (!db_is_null(res, 0, 5))
			snprintf(out->s3_upload_id, sizeof(out->s3_upload_id), "%s",
				 db_text(res, 0, 5));
		out->part_size = db_int(res, 0, 6);
		snprintf(out->expires_at, sizeof(out->expires_at), "%s", db_text(res, 0, 7));
		out->expired = db_bool(res, 0, 8);
	}
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_upload_delete = {
	"media_upload_delete",
	"DELETE FROM media_uploads WHERE id = $3::uuid AND movie_id = $1 AND kind = $2"};

enum err media_repo_upload_delete(struct db_conn *c, long long movie_id, enum media_kind kind,
				  const char *id)
{
	PGresult *res = NULL;
	char mid[24];
	ll_str(mid, movie_id);
	const char *p[] = {mid, media_kind_name(kind), id};
	enum err rc = db_exec(c, &stmt_upload_delete, 3, p, &res);
	if (rc == ERR_OK && strcmp(PQcmdTuples(res), "0") == 0)
		rc = ERR_NOT_FOUND;
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_expired_delete = {
	"media_expired_delete",
	"DELETE FROM media_uploads WHERE id IN (SELECT id FROM media_uploads "
	"WHERE expires_at < now() - make_interval(secs => $1) ORDER BY expires_at LIMIT $2 "
	"FOR UPDATE SKIP LOCKED)"};

enum err media_repo_expired_delete(struct db_conn *c, int grace_s, int limit, long long *n)
{
	PGresult *res = NULL;
	char g[24], l[24];
	ll_str(g, grace_s);
	ll_str(l, limit);
	const char *p[] = {g, l};
	enum err rc = db_exec(c, &stmt_expired_delete, 2, p, &res);
	if (rc == ERR_OK)
		*n = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return rc;
}

/* ---- trash ---- */

static const struct db_stmt stmt_trash_take = {
	"media_trash_take",
	"UPDATE media_trash t SET attempts = t.attempts + 1 FROM (SELECT object_key "
	"FROM media_trash WHERE NOT $1::boolean OR attempts = 0 ORDER BY attempts, queued_at LIMIT "
	"$2 "
	"FOR UPDATE SKIP LOCKED) s WHERE t.object_key = s.object_key "
	"RETURNING t.object_key, t.s3_upload_id"};

enum err media_repo_trash_take(struct db_conn *c, bool only_new, int limit, PGresult **res)
{
	char l[24];
	ll_str(l, limit);
	const char *p[] = {only_new ? "true" : "false", l};
	return db_exec(c, &stmt_trash_take, 2, p, res);
}

static const struct db_stmt stmt_trash_done = {"media_trash_done",
					       "DELETE FROM media_trash WHERE object_key = $1"};

enum err media_repo_trash_done(struct db_conn *c, const char *object_key)
{
	const char *p[] = {object_key};
	return db_exec(c, &stmt_trash_done, 1, p, NULL);
}

static const struct db_stmt stmt_trash_failed = {
	"media_trash_failed", "UPDATE media_trash SET last_error = left($2, 500) "
			      "WHERE object_key = $1"};

enum err media_repo_trash_failed(struct db_conn *c, const char *object_key, const char *error)
{
	const char *p[] = {object_key, error};
	return db_exec(c, &stmt_trash_failed, 2, p, NULL);
}

static const struct db_stmt stmt_trash_add = {
	"media_trash_add",
	"INSERT INTO media_trash (object_key) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM "
	"movie_media WHERE object_key = $1) ON CONFLICT (object_key) DO NOTHING"};

enum err media_repo_trash_add(struct db_conn *c, const char *object_key, bool *added)
{
	PGresult *res = NULL;
	const char *p[] = {object_key};
	enum err rc = db_exec(c, &stmt_trash_add, 1, p, &res);
	if (rc == ERR_OK)
		*added = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_trash_count = {"media_trash_count",
						"SELECT count(*) FROM media_trash"};

enum err media_repo_trash_count(struct db_conn *c, long long *n)
{
	PGresult *res = NULL;
	enum err rc = db_exec(c, &stmt_trash_count, 0, NULL, &res);
	if (rc == ERR_OK)
		*n = db_int(res, 0, 0);
	PQclear(res);
	return rc;
}
