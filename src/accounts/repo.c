/* SQL for users, profiles, tokens and sessions. Statements are prepared
 * once per connection (see db.h); timestamps leave as RFC 3339 UTC. */
#include "accounts/repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/tokens.h"

#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static void ll_str(char out[24], long long v)
{
	snprintf(out, 24, "%lld", v);
}

static void int_str(char out[16], int v)
{
	snprintf(out, 16, "%d", v);
}

/* Runs stmt and reads one bigint from the first row; ERR_NOT_FOUND if none. */
static enum err exec_id(struct db_conn *c, const struct db_stmt *stmt, int n,
			const char *const *params, long long *out)
{
	PGresult *res = NULL;
	enum err rc = db_exec(c, stmt, n, params, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK && out)
		*out = db_int(res, 0, 0);
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_user_insert = {
	"accounts_user_insert",
	"WITH u AS (INSERT INTO users (email, hashed_password, group_id, is_active) "
	"SELECT $1, $2, id, $4::boolean FROM user_groups WHERE name = $3 RETURNING id) "
	"INSERT INTO user_profiles (user_id) SELECT id FROM u RETURNING user_id"};

enum err accounts_user_insert(struct db_conn *c, const char *email, const char *hash,
			      enum http_access group, bool active, long long *id)
{
	const char *p[] = {email, hash, group_name(group), active ? "true" : "false"};
	enum err rc = exec_id(c, &stmt_user_insert, 4, p, id);
	return rc == ERR_CONFLICT ? ERR_EMAIL_TAKEN : rc;
}

#define USER_COLUMNS                                                     \
	"SELECT u.id, u.email, u.hashed_password, u.is_active, g.name, " \
	"u.deactivated_at IS NOT NULL FROM users u "                     \
	"JOIN user_groups g ON g.id = u.group_id "

static const struct db_stmt stmt_user_by_email = {"accounts_user_by_email",
						  USER_COLUMNS "WHERE lower(u.email) = lower($1)"};
static const struct db_stmt stmt_user_by_id = {"accounts_user_by_id",
					       USER_COLUMNS "WHERE u.id = $1"};

static enum err read_user(struct db_conn *c, const struct db_stmt *stmt, const char *param,
			  struct user_row *out)
{
	PGresult *res = NULL;
	enum err rc = db_exec(c, stmt, 1, &param, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK) {
		out->id = db_int(res, 0, 0);
		snprintf(out->email, sizeof(out->email), "%s", db_text(res, 0, 1));
		snprintf(out->hashed_password, sizeof(out->hashed_password), "%s",
			 db_text(res, 0, 2));
		out->is_active = db_bool(res, 0, 3);
		if (!group_parse(db_text(res, 0, 4), &out->group))
			out->group = ACCESS_USER;
		out->deactivated = db_bool(res, 0, 5);
	}
	PQclear(res);
	return rc;
}

enum err accounts_user_by_email(struct db_conn *c, const char *email, struct user_row *out)
{
	return read_user(c, &stmt_user_by_email, email, out);
}

enum err accounts_user_by_id(struct db_conn *c, long long id, struct user_row *out)
{
	char ids[24];
	ll_str(ids, id);
	return read_user(c, &stmt_user_by_id, ids, out);
}

static const struct db_stmt stmt_set_password = {
	"accounts_user_set_password",
	"UPDATE users SET hashed_password = $2 WHERE id = $1 RETURNING id"};

enum err accounts_user_set_password(struct db_conn *c, long long user_id, const char *hash)
{
	char ids[24];
	ll_str(ids, user_id);
	const char *p[] = {ids, hash};
	return exec_id(c, &stmt_set_password, 2, p, NULL);
}

static const struct db_stmt stmt_user_update = {
	"accounts_user_update",
	"WITH t AS (DELETE FROM activation_tokens WHERE user_id = $1 AND $3::boolean IS NOT NULL) "
	"UPDATE users SET group_id = COALESCE((SELECT id FROM user_groups WHERE name = $2), "
	"group_id), is_active = COALESCE($3::boolean, is_active), "
	"deactivated_at = CASE WHEN $3::boolean THEN NULL WHEN NOT $3::boolean THEN now() "
	"ELSE deactivated_at END WHERE id = $1 RETURNING id"};

enum err accounts_user_update(struct db_conn *c, long long user_id, const enum http_access *group,
			      const bool *active)
{
	char ids[24];
	ll_str(ids, user_id);
	const char *p[] = {ids, group ? group_name(*group) : NULL,
			   active ? (*active ? "true" : "false") : NULL};
	return exec_id(c, &stmt_user_update, 3, p, NULL);
}

/* ---- activation and reset tokens ---- */

#define TOKEN_UPSERT(table)                                             \
	"INSERT INTO " table " (user_id, token, expires_at) "           \
	"SELECT id, $2, now() + make_interval(secs => $3::int) FROM u " \
	"ON CONFLICT (user_id) DO UPDATE SET token = EXCLUDED.token, "  \
	"expires_at = EXCLUDED.expires_at RETURNING user_id"

static const struct db_stmt stmt_activation_put = {
	"accounts_activation_put",
	"WITH u AS (SELECT $1::bigint AS id) " TOKEN_UPSERT("activation_tokens")};
static const struct db_stmt stmt_activation_put_by_email = {
	"accounts_activation_put_by_email",
	"WITH u AS (SELECT id FROM users WHERE lower(email) = lower($1) AND NOT is_active "
	"AND deactivated_at IS NULL) " TOKEN_UPSERT("activation_tokens")};
static const struct db_stmt stmt_reset_put_by_email = {
	"accounts_reset_put_by_email",
	"WITH u AS (SELECT id FROM users WHERE lower(email) = lower($1) AND "
	"is_active) " TOKEN_UPSERT("password_reset_tokens")};

enum err accounts_activation_put(struct db_conn *c, long long user_id, const char *hash, int ttl_s)
{
	char ids[24], ttl[16];
	ll_str(ids, user_id);
	int_str(ttl, ttl_s);
	const char *p[] = {ids, hash, ttl};
	return exec_id(c, &stmt_activation_put, 3, p, NULL);
}

static enum err put_by_email(struct db_conn *c, const struct db_stmt *stmt, const char *email,
			     const char *hash, int ttl_s, long long *user_id)
{
	char ttl[16];
	int_str(ttl, ttl_s);
	const char *p[] = {email, hash, ttl};
	*user_id = 0;
	enum err rc = exec_id(c, stmt, 3, p, user_id);
	return rc == ERR_NOT_FOUND ? ERR_OK : rc;
}

enum err accounts_activation_put_by_email(struct db_conn *c, const char *email, const char *hash,
					  int ttl_s, long long *user_id)
{
	return put_by_email(c, &stmt_activation_put_by_email, email, hash, ttl_s, user_id);
}

enum err accounts_reset_put_by_email(struct db_conn *c, const char *email, const char *hash,
				     int ttl_s, long long *user_id)
{
	return put_by_email(c, &stmt_reset_put_by_email, email, hash, ttl_s, user_id);
}

static const struct db_stmt stmt_activate = {
	"accounts_activate",
	"WITH t AS (DELETE FROM activation_tokens WHERE token = $1 AND expires_at > now() "
	"RETURNING user_id) UPDATE users SET is_active = true FROM t "
	"WHERE users.id = t.user_id AND users.deactivated_at IS NULL RETURNING users.id"};
static const struct db_stmt stmt_activation_exists = {
	"accounts_activation_exists", "SELECT user_id FROM activation_tokens WHERE token = $1"};
static const struct db_stmt stmt_reset_take = {"accounts_reset_take",
					       "DELETE FROM password_reset_tokens WHERE token = $1 "
					       "AND expires_at > now() RETURNING user_id"};
static const struct db_stmt stmt_reset_exists = {
	"accounts_reset_exists", "SELECT user_id FROM password_reset_tokens WHERE token = $1"};

/* Uses a one-time token; tells an expired token from an unknown one. */
static enum err take_token(struct db_conn *c, const struct db_stmt *take,
			   const struct db_stmt *exists, const char *hash, long long *user_id)
{
	enum err rc = exec_id(c, take, 1, &hash, user_id);
	if (rc != ERR_NOT_FOUND)
		return rc;
	rc = exec_id(c, exists, 1, &hash, NULL);
	return rc == ERR_OK ? ERR_TOKEN_EXPIRED : rc == ERR_NOT_FOUND ? ERR_TOKEN_INVALID : rc;
}

enum err accounts_activate(struct db_conn *c, const char *hash, long long *user_id)
{
	return take_token(c, &stmt_activate, &stmt_activation_exists, hash, user_id);
}

enum err accounts_reset_take(struct db_conn *c, const char *hash, long long *user_id)
{
	return take_token(c, &stmt_reset_take, &stmt_reset_exists, hash, user_id);
}

static const struct db_stmt stmt_reset_end_user = {
	"accounts_reset_end_user", "DELETE FROM password_reset_tokens WHERE user_id = $1"};

enum err accounts_reset_end_user(struct db_conn *c, long long user_id)
{
	char ids[24];
	ll_str(ids, user_id);
	const char *p[] = {ids};
	return db_exec(c, &stmt_reset_end_user, 1, p, NULL);
}

/* ---- sessions and refresh tokens ---- */

static const struct db_stmt stmt_session_create = {
	"accounts_session_create",
	"WITH s AS (INSERT INTO user_sessions (user_id, expires_at) "
	"VALUES ($1, now() + make_interval(secs => $3::int)) RETURNING id, expires_at) "
	"INSERT INTO refresh_tokens (user_id, token, expires_at, session_id) "
	"SELECT $1, $2, s.expires_at, s.id FROM s RETURNING session_id::text"};

static enum err read_sid(struct db_conn *c, const struct db_stmt *stmt, int n, const char *const *p,
			 char sid[40])
{
	PGresult *res = NULL;
	enum err rc = db_exec(c, stmt, n, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK)
		snprintf(sid, 40, "%s", db_text(res, 0, 0));
	PQclear(res);
	return rc;
}

enum err accounts_session_create(struct db_conn *c, long long user_id, const char *refresh_hash,
				 int ttl_s, char sid[40])
{
	char ids[24], ttl[16];
	ll_str(ids, user_id);
	int_str(ttl, ttl_s);
	const char *p[] = {ids, refresh_hash, ttl};
	return read_sid(c, &stmt_session_create, 3, p, sid);
}

static const struct db_stmt stmt_refresh_use = {
	"accounts_refresh_use",
	"UPDATE refresh_tokens SET used_at = now() WHERE token = $1 AND used_at IS NULL "
	"RETURNING session_id::text, user_id, expires_at <= now()"};
static const struct db_stmt stmt_refresh_lookup = {
	"accounts_refresh_lookup",
	"SELECT session_id::text, user_id FROM refresh_tokens WHERE token = $1"};
static const struct db_stmt stmt_session_live = {
	"accounts_session_live",
	"SELECT s.id FROM user_sessions s JOIN users u ON u.id = s.user_id "
	"WHERE s.id = $1::uuid AND s.revoked_at IS NULL AND u.is_active FOR UPDATE OF s"};
static const struct db_stmt stmt_refresh_add = {
	"accounts_refresh_add",
	"WITH s AS (UPDATE user_sessions SET expires_at = now() + make_interval(secs => $3::int) "
	"WHERE id = $2::uuid RETURNING id, user_id, expires_at) "
	"INSERT INTO refresh_tokens (user_id, token, expires_at, session_id) "
	"SELECT user_id, $1, expires_at, id FROM s RETURNING session_id"};

enum err accounts_refresh_rotate(struct db_conn *c, const char *old_hash, const char *new_hash,
				 int ttl_s, struct refresh_outcome *out)
{
	PGresult *res = NULL;
	char ttl[16];
	memset(out, 0, sizeof(*out));
	enum err rc = db_exec(c, &stmt_refresh_use, 1, &old_hash, &res);
	if (rc != ERR_OK)
		goto out;
	if (PQntuples(res) == 0) {
		/* Unknown, or used before: a copy is being replayed. */
		PQclear(res);
		res = NULL;
		rc = db_exec(c, &stmt_refresh_lookup, 1, &old_hash, &res);
		if (rc != ERR_OK)
			goto out;
		if (PQntuples(res) == 0) {
			rc = ERR_REFRESH_INVALID;
			goto out;
		}
		snprintf(out->sid, sizeof(out->sid), "%s", db_text(res, 0, 0));
		out->user_id = db_int(res, 0, 1);
		out->reused = true;
		goto out;
	}
	snprintf(out->sid, sizeof(out->sid), "%s", db_text(res, 0, 0));
	out->user_id = db_int(res, 0, 1);
	if (db_bool(res, 0, 2)) {
		rc = ERR_REFRESH_EXPIRED;
		goto out;
	}
	const char *sid = out->sid;
	rc = exec_id(c, &stmt_session_live, 1, &sid, NULL);
	if (rc == ERR_NOT_FOUND) {
		rc = ERR_SESSION_REVOKED;
		goto out;
	}
	if (rc != ERR_OK)
		goto out;
	int_str(ttl, ttl_s);
	const char *p[] = {new_hash, out->sid, ttl};
	rc = exec_id(c, &stmt_refresh_add, 3, p, NULL);
out:
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_session_revoke = {
	"accounts_session_revoke",
	"WITH s AS (UPDATE user_sessions SET revoked_at = now(), revoked_reason = $2 "
	"WHERE id = $1::uuid AND revoked_at IS NULL RETURNING id) "
	"DELETE FROM refresh_tokens WHERE session_id = $1::uuid"};
static const struct db_stmt stmt_sessions_revoke_user = {
	"accounts_sessions_revoke_user",
	"WITH s AS (UPDATE user_sessions SET revoked_at = now(), revoked_reason = $3 "
	"WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2::uuid) "
	"RETURNING id) DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM s)"};

enum err accounts_session_revoke(struct db_conn *c, const char *sid, const char *reason)
{
	const char *p[] = {sid, reason};
	return db_exec(c, &stmt_session_revoke, 2, p, NULL);
}

enum err accounts_sessions_revoke_user(struct db_conn *c, long long user_id, const char *keep_sid,
				       const char *reason)
{
	char ids[24];
	ll_str(ids, user_id);
	const char *p[] = {ids, keep_sid, reason};
	return db_exec(c, &stmt_sessions_revoke_user, 3, p, NULL);
}

static const struct db_stmt stmt_session_check = {
	"accounts_session_check",
	"SELECT g.name FROM user_sessions s JOIN users u ON u.id = s.user_id "
	"JOIN user_groups g ON g.id = u.group_id WHERE s.id = $1::uuid AND s.user_id = $2 "
	"AND s.revoked_at IS NULL AND s.expires_at > now() AND u.is_active"};

enum err accounts_session_check(struct db_conn *c, const char *sid, long long user_id,
				enum http_access *group)
{
	PGresult *res = NULL;
	char ids[24];
	ll_str(ids, user_id);
	const char *p[] = {sid, ids};
	enum err rc = db_exec(c, &stmt_session_check, 2, p, &res);
	if (rc == ERR_OK && (PQntuples(res) == 0 || !group_parse(db_text(res, 0, 0), group)))
		rc = ERR_SESSION_REVOKED;
	PQclear(res);
	return rc == ERR_VALIDATION ? ERR_SESSION_REVOKED : rc;
}

static const struct db_stmt stmt_refresh_session = {
	"accounts_refresh_session",
	"SELECT session_id::text FROM refresh_tokens WHERE user_id = $1 AND token = $2"};

enum err accounts_refresh_session(struct db_conn *c, long long user_id, const char *hash,
				  char sid[40])
{
	char ids[24];
	ll_str(ids, user_id);
	const char *p[] = {ids, hash};
	return read_sid(c, &stmt_refresh_session, 2, p, sid);
}

/* ---- profiles and listings ---- */

#define USER_JSON                                                                                \
	"json_build_object('id', u.id, 'email', u.email, 'group', g.name, 'is_active', "         \
	"u.is_active, 'created_at', " RFC3339(                                                   \
		"u.created_at") ", 'profile', "                                                  \
				"json_build_object('first_name', p.first_name, 'last_name', "    \
				"p.last_name, "                                                  \
				"'gender', p.gender, 'date_of_birth', p.date_of_birth, 'info', " \
				"p.info, "                                                       \
				"'avatar', p.avatar, 'email_notifications', "                    \
				"p.email_notifications))::text "                                 \
				"FROM users u JOIN user_groups g ON g.id = u.group_id "          \
				"JOIN user_profiles p ON p.user_id = u.id "

static const struct db_stmt stmt_user_json = {"accounts_user_json",
					      "SELECT " USER_JSON "WHERE u.id = $1"};

enum err accounts_user_json(struct db_conn *c, long long user_id, json_t **out)
{
	PGresult *res = NULL;
	char ids[24];
	const char *p[] = {ids};
	ll_str(ids, user_id);
	*out = NULL;
	enum err rc = db_exec(c, &stmt_user_json, 1, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK && !(*out = json_loads(db_text(res, 0, 0), 0, NULL)))
		rc = ERR_INTERNAL;
	PQclear(res);
	return rc;
}

/* Each column changes only when its key is present in $2. */
#define SET_IF_PRESENT(col, expr) \
	col " = CASE WHEN $2::jsonb ? '" col "' THEN " expr " ELSE " col " END"

static const struct db_stmt stmt_profile_update =
	{
		"accounts_profile_update",
		"UPDATE user_profiles SET " SET_IF_PRESENT("first_name", "$2::jsonb->>'first_name'") ", " SET_IF_PRESENT("last_name", "$2::jsonb->>'last_name'") ", " SET_IF_PRESENT(
			"gender",
			"($2::jsonb->>'gender')::user_gender") ", " SET_IF_PRESENT("date_of_birth",
										   "($2::jsonb->>'"
										   "date_of_birth')"
										   "::date") ","
											     " " SET_IF_PRESENT("info", "$2::jsonb->>'info'") ", " SET_IF_PRESENT(
												     "email_notifications",
												     "($2::jsonb->>'email_notifications')::boolean") " WHERE user_id = $1 RETURNING user_id"};

enum err accounts_profile_update(struct db_conn *c, long long user_id, const json_t *fields)
{
	char ids[24];
	ll_str(ids, user_id);
	char *json = json_dumps(fields, JSON_COMPACT);
	const char *p[] = {ids, json};
	enum err rc = exec_id(c, &stmt_profile_update, 2, p, NULL);
	free(json);
	return rc;
}

static const struct db_stmt stmt_avatar_set = {
	"accounts_avatar_set",
	"UPDATE user_profiles p SET avatar = $2 FROM (SELECT avatar FROM user_profiles "
	"WHERE user_id = $1 FOR UPDATE) old WHERE p.user_id = $1 RETURNING old.avatar"};

enum err accounts_avatar_set(struct db_conn *c, long long user_id, const char *key,
			     char old_key[1025])
{
	PGresult *res = NULL;
	char ids[24];
	ll_str(ids, user_id);
	const char *p[] = {ids, key};
	old_key[0] = '\0';
	enum err rc = db_exec(c, &stmt_avatar_set, 2, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK && !db_is_null(res, 0, 0))
		snprintf(old_key, 1025, "%s", db_text(res, 0, 0));
	PQclear(res);
	return rc;
}

#define USER_FILTER                                                                              \
	"WHERE ($1::text IS NULL OR g.name = $1) AND ($2::boolean IS NULL OR u.is_active = $2) " \
	"AND ($3::text IS NULL OR strpos(lower(u.email), lower($3)) > 0) "

static const struct db_stmt stmt_user_list = {
	"accounts_user_list", "SELECT " USER_JSON USER_FILTER "ORDER BY u.id LIMIT $4 OFFSET $5"};
static const struct db_stmt stmt_user_count = {
	"accounts_user_count",
	"SELECT count(*) FROM users u JOIN user_groups g ON g.id = u.group_id " USER_FILTER};

enum err accounts_user_list(struct db_conn *c, const struct user_filter *f, json_t **items,
			    long long *total)
{
	PGresult *res = NULL;
	char lim[24], off[24];
	ll_str(lim, f->limit);
	ll_str(off, f->offset);
	const char *p[] = {f->group, f->is_active, f->email, lim, off};
	*items = NULL;
	enum err rc = exec_id(c, &stmt_user_count, 3, p, total);
	if (rc != ERR_OK)
		return rc;
	rc = db_exec(c, &stmt_user_list, 5, p, &res);
	if (rc != ERR_OK)
		return rc;
	*items = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(*items, json_loads(db_text(res, i, 0), 0, NULL));
	PQclear(res);
	return ERR_OK;
}

static const struct db_stmt stmt_delete_expired = {
	"accounts_delete_expired_tokens",
	"WITH a AS (DELETE FROM activation_tokens WHERE expires_at <= now() RETURNING 1), "
	"r AS (DELETE FROM password_reset_tokens WHERE expires_at <= now() RETURNING 1), "
	"f AS (DELETE FROM refresh_tokens WHERE expires_at <= now() RETURNING 1), "
	"s AS (DELETE FROM user_sessions WHERE expires_at <= now() "
	"OR revoked_at <= now() - interval '1 day' RETURNING 1) "
	"SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM r), (SELECT count(*) FROM f), "
	"(SELECT count(*) FROM s)"};

enum err accounts_delete_expired_tokens(struct db_pool *pool, struct expired_tokens *out)
{
	struct db_conn *conn = NULL;
	PGresult *res = NULL;
	memset(out, 0, sizeof(*out));
	enum err rc = db_acquire(pool, &conn);
	if (rc != ERR_OK)
		return rc;
	/* One statement: the deletes commit together. */
	rc = db_exec(conn, &stmt_delete_expired, 0, NULL, &res);
	if (rc == ERR_OK) {
		out->activation = db_int(res, 0, 0);
		out->password_reset = db_int(res, 0, 1);
		out->refresh = db_int(res, 0, 2);
		out->sessions = db_int(res, 0, 3);
	}
	PQclear(res);
	db_release(conn);
	return rc;
}
