#include "catalog/engagement_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/mem.h"

#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* A user's display name: first and last name from the profile, or
 * "User #id" when both are empty. */
#define USER_NAME(u, p)                                                                   \
	"coalesce(nullif(btrim(concat_ws(' ', " p ".first_name, " p ".last_name)), ''), " \
	"'User #' || " u ".id)"

/* The address of the author u (profile p) of a comment when they get
 * emails about it: an active account that did not turn them off; else NULL. */
#define AUTHOR_EMAIL \
	"CASE WHEN u.is_active AND coalesce(p.email_notifications, true) THEN u.email END"

static void ll_str(char out[24], long long v)
{
	snprintf(out, 24, "%lld", v);
}

/* A foreign key that vanished under a concurrent delete is a missing row. */
static enum err gone_is_missing(enum err rc)
{
	return rc == ERR_IN_USE ? ERR_NOT_FOUND : rc;
}

/* ---- reactions, ratings, favorites ---- */

/* $1 user, $2 movie, $3 value. Each statement answers one row with 1 when
 * the movie exists, 0 otherwise; the write in the CTE runs either way and
 * touches nothing for a missing movie. */
#define MARK_MOVIE "WITH m AS (SELECT id FROM movies WHERE id = $2::bigint), "
#define MARK_FOUND " SELECT count(*) FROM m"
#define MARK_DELETE(table)                                                                   \
	MARK_MOVIE "w AS (DELETE FROM " table " x USING m WHERE x.user_id = $1::bigint AND " \
		   "x.movie_id = m.id)" MARK_FOUND

static const struct {
	struct db_stmt put, del;
	int nparams; /* of put */
} marks[] = {
	[MARK_REACTION] = {{"engagement_reaction_put", MARK_MOVIE
			    "w AS (INSERT INTO movie_reactions (user_id, movie_id, "
			    "reaction) SELECT $1::bigint, m.id, $3::movie_reaction FROM m "
			    "ON CONFLICT (user_id, movie_id) DO UPDATE SET reaction = "
			    "EXCLUDED.reaction WHERE movie_reactions.reaction <> "
			    "EXCLUDED.reaction)" MARK_FOUND},
			   {"engagement_reaction_delete", MARK_DELETE("movie_reactions")},
			   3},
	[MARK_RATING] = {{"engagement_rating_put", MARK_MOVIE
			  "w AS (INSERT INTO movie_ratings (user_id, movie_id, score) "
			  "SELECT $1::bigint, m.id, $3::smallint FROM m ON CONFLICT "
			  "(user_id, movie_id) DO UPDATE SET score = EXCLUDED.score WHERE "
			  "movie_ratings.score <> EXCLUDED.score)" MARK_FOUND},
			 {"engagement_rating_delete", MARK_DELETE("movie_ratings")},
			 3},
	[MARK_FAVORITE] = {{"engagement_favorite_put",
			    MARK_MOVIE "w AS (INSERT INTO favorites (user_id, movie_id) SELECT "
				       "$1::bigint, m.id FROM m ON CONFLICT (user_id, movie_id) DO "
				       "NOTHING)" MARK_FOUND},
			   {"engagement_favorite_delete", MARK_DELETE("favorites")},
			   2},
};

static enum err mark_exec(struct db_conn *c, const struct db_stmt *stmt, int nparams,
			  long long user, long long movie, const char *value)
{
	PGresult *res = NULL;
	char u[24], m[24];
	ll_str(u, user);
	ll_str(m, movie);
	const char *p[] = {u, m, value};
	enum err rc = db_exec(c, stmt, nparams, p, &res);
	if (rc == ERR_OK && db_int(res, 0, 0) == 0)
		rc = ERR_NOT_FOUND;
	PQclear(res);
	return gone_is_missing(rc);
}

enum err marks_put(struct db_conn *c, enum mark_kind k, long long user, long long movie,
		   const char *value)
{
	return mark_exec(c, &marks[k].put, marks[k].nparams, user, movie, value);
}

enum err marks_delete(struct db_conn *c, enum mark_kind k, long long user, long long movie)
{
	return mark_exec(c, &marks[k].del, 2, user, movie, NULL);
}

/* ---- comments: reading ---- */

/* One comment (alias c, author u, profile p) without its replies. */
#define COMMENT_USER	"json_build_object('id', u.id, 'name', " USER_NAME("u", "p") ")"
#define COMMENT_CREATED RFC3339("c.created_at")
#define COMMENT_JSON                                                                         \
	"json_build_object('id', c.id, 'parent_id', c.parent_id, 'user', " COMMENT_USER ", " \
	"'text', c.text, 'likes', c.likes, 'created_at', " COMMENT_CREATED ")::text"

#define COMMENT_AUTHOR \
	"JOIN users u ON u.id = c.user_id LEFT JOIN user_profiles p ON p.user_id = c.user_id "

/* $1 movie, $2 viewer (NULL: anonymous), $3 limit, $4 offset. The page of
 * roots and every reply under them, in one recursive query; rows come
 * oldest first, which is the order of siblings in the tree. Columns: id,
 * parent_id, the JSON, liked by the viewer, the number of roots. */
static const struct db_stmt stmt_comments_page = {
	"engagement_comments_page",
	"WITH RECURSIVE roots AS (SELECT id, count(*) OVER () AS total FROM comments "
	"WHERE movie_id = $1::bigint AND parent_id IS NULL ORDER BY created_at, id "
	"LIMIT $3::bigint OFFSET $4::bigint), "
	"tree AS (SELECT r.id FROM roots r UNION ALL "
	"SELECT x.id FROM comments x JOIN tree t ON x.parent_id = t.id) "
	"SELECT c.id, c.parent_id, " COMMENT_JSON ", "
	"CASE WHEN $2::bigint IS NOT NULL THEN EXISTS (SELECT 1 FROM comment_likes l "
	"WHERE l.comment_id = c.id AND l.user_id = $2::bigint) END, "
	"(SELECT total FROM roots LIMIT 1) "
	"FROM tree t JOIN comments c ON c.id = t.id " COMMENT_AUTHOR "ORDER BY c.created_at, c.id"};

/* For an empty page: whether the movie exists, and its number of roots. */
static const struct db_stmt stmt_comments_count = {
	"engagement_comments_count",
	"SELECT EXISTS (SELECT 1 FROM movies WHERE id = $1::bigint), (SELECT count(*) FROM "
	"comments WHERE movie_id = $1::bigint AND parent_id IS NULL)"};

/* Appends a comment's JSON text (an object) reopened to add liked_by_me
 * (liked < 0: not at all) and the start of its "replies" array. */
static void comment_open(struct buf *out, const char *json, size_t len, int liked)
{
	while (len > 0 && json[len - 1] != '}')
		len--; /* json_build_object text ends with '}' */
	if (len > 0)
		len--;
	buf_append_json_compact(out, json, len);
	if (liked >= 0)
		buf_append_str(out, liked ? ",\"liked_by_me\":true" : ",\"liked_by_me\":false");
	buf_append_str(out, ",\"replies\":[");
}

struct tree_row {
	long long id;
	int row;
};

static int tree_row_cmp(const void *a, const void *b)
{
	const struct tree_row *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Nests the rows of stmt_comments_page into the roots' array. Rows are in
 * age order, so appending each to its parent's list keeps siblings oldest
 * first. Written without recursion: a long chain of replies to replies
 * must not exhaust the stack. */
static void comments_tree(const PGresult *res, bool viewer, struct buf *out)
{
	int n = PQntuples(res);
	struct tree_row *by_id = xcalloc((size_t)n + 1, sizeof(*by_id));
	int *first = xcalloc((size_t)n + 1, sizeof(int)),
	    *last = xcalloc((size_t)n + 1, sizeof(int));
	int *next = xcalloc((size_t)n + 1, sizeof(int)),
	    *stack = xcalloc((size_t)n + 1, sizeof(int));
	int root_first = -1, root_last = -1;

	for (int i = 0; i < n; i++) {
		by_id[i].id = db_int(res, i, 0);
		by_id[i].row = i;
		first[i] = last[i] = next[i] = -1;
	}
	qsort(by_id, (size_t)n, sizeof(*by_id), tree_row_cmp);
	for (int i = 0; i < n; i++) {
		int *head = &root_first, *tail = &root_last;
		if (!db_is_null(res, i, 1)) {
			struct tree_row key = {db_int(res, i, 1), 0};
			const struct tree_row *p =
				bsearch(&key, by_id, (size_t)n, sizeof(*by_id), tree_row_cmp);
			if (p) {
				head = &first[p->row];
				tail = &last[p->row];
			}
		}
		if (*tail >= 0)
			next[*tail] = i;
		else
			*head = i;
		*tail = i;
	}

	buf_append_char(out, '[');
	for (int r = root_first; r >= 0; r = next[r]) {
		int sp = 0;
		if (r != root_first)
			buf_append_char(out, ',');
		/* stack[k] is an open comment; first[] of it is reused as the
		 * next child to write. */
		comment_open(out, PQgetvalue(res, r, 2), (size_t)PQgetlength(res, r, 2),
			     viewer ? db_bool(res, r, 3) : -1);
		stack[sp++] = r;
		while (sp > 0) {
			int top = stack[sp - 1], child = first[top];
			if (child < 0) {
				buf_append_str(out, "]}");
				sp--;
				continue;
			}
			if (out->data[out->len - 1] != '[')
				buf_append_char(out, ',');
			first[top] = next[child];
			comment_open(out, PQgetvalue(res, child, 2),
				     (size_t)PQgetlength(res, child, 2),
				     viewer ? db_bool(res, child, 3) : -1);
			stack[sp++] = child;
		}
	}
	buf_append_char(out, ']');
	free(by_id);
	free(first);
	free(last);
	free(next);
	free(stack);
}

enum err comments_list(struct db_conn *c, long long movie, long long viewer, long long limit,
		       long long offset, struct buf *items, long long *total)
{
	PGresult *res = NULL;
	char m[24], v[24], lim[24], off[24];
	ll_str(m, movie);
	ll_str(v, viewer);
	ll_str(lim, limit);
	ll_str(off, offset);
	const char *p[] = {m, viewer ? v : NULL, lim, off};
	enum err rc = db_exec(c, &stmt_comments_page, 4, p, &res);
	if (rc != ERR_OK)
		return rc;
	if (PQntuples(res) > 0) {
		*total = db_int(res, 0, 4);
		comments_tree(res, viewer != 0, items);
		PQclear(res);
		return ERR_OK;
	}
	PQclear(res);
	res = NULL;
	rc = db_exec(c, &stmt_comments_count, 1, p, &res);
	if (rc == ERR_OK && !db_bool(res, 0, 0))
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK) {
		*total = db_int(res, 0, 1);
		buf_append_str(items, "[]");
	}
	PQclear(res);
	return rc;
}

/* ---- comments: writing ---- */

void comment_notice_clear(struct comment_notice *n)
{
	if (!n)
		return;
	free(n->movie_name);
	free(n->email);
	free(n->text);
	memset(n, 0, sizeof(*n));
}

static char *dup_or_null(const PGresult *res, int row, int col)
{
	return db_is_null(res, row, col) ? NULL : xstrdup(db_text(res, row, col));
}

/* $1 movie, $2 parent (NULL: none). */
static const struct db_stmt stmt_reply_context = {
	"engagement_reply_context",
	"SELECT m.name, c.user_id, c.movie_id, " AUTHOR_EMAIL " FROM movies m "
	"LEFT JOIN comments c ON c.id = $2::bigint LEFT JOIN users u ON u.id = c.user_id "
	"LEFT JOIN user_profiles p ON p.user_id = c.user_id WHERE m.id = $1::bigint"};

enum err comments_reply_context(struct db_conn *c, long long movie, long long parent,
				char **movie_name, struct comment_notice *parent_out)
{
	PGresult *res = NULL;
	char m[24], pa[24];
	ll_str(m, movie);
	ll_str(pa, parent);
	const char *p[] = {m, parent ? pa : NULL};
	memset(parent_out, 0, sizeof(*parent_out));
	*movie_name = NULL;
	enum err rc = db_exec(c, &stmt_reply_context, 2, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK) {
		*movie_name = xstrdup(db_text(res, 0, 0));
		if (!db_is_null(res, 0, 1)) {
			parent_out->author = db_int(res, 0, 1);
			parent_out->movie_id = db_int(res, 0, 2);
			parent_out->movie_name = xstrdup(*movie_name);
			parent_out->email = dup_or_null(res, 0, 3);
		}
	}
	PQclear(res);
	return rc;
}

/* $1 movie, $2 user, $3 parent (NULL: top level), $4 text. */
static const struct db_stmt stmt_comment_insert = {
	"engagement_comment_insert",
	"WITH c AS (INSERT INTO comments (movie_id, user_id, parent_id, text) "
	"VALUES ($1::bigint, $2::bigint, $3::bigint, $4) RETURNING *) "
	"SELECT c.id, " COMMENT_JSON " FROM c " COMMENT_AUTHOR};

enum err comments_insert(struct db_conn *c, long long movie, long long user, long long parent,
			 const char *text, long long *id, struct buf *out)
{
	PGresult *res = NULL;
	char m[24], u[24], pa[24];
	ll_str(m, movie);
	ll_str(u, user);
	ll_str(pa, parent);
	const char *p[] = {m, u, parent ? pa : NULL, text};
	enum err rc = db_exec(c, &stmt_comment_insert, 4, p, &res);
	if (rc == ERR_OK) {
		*id = db_int(res, 0, 0);
		comment_open(out, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1), 0);
		buf_append_str(out, "]}");
	}
	PQclear(res);
	return gone_is_missing(rc);
}

/* $1 comment, $2 user. Answers no row for a missing comment. */
static const struct db_stmt stmt_like_put = {
	"engagement_comment_like_put",
	"WITH c AS (SELECT id, user_id, movie_id, text FROM comments WHERE id = $1::bigint), "
	"w AS (INSERT INTO comment_likes (comment_id, user_id) SELECT id, $2::bigint FROM c "
	"ON CONFLICT (comment_id, user_id) DO NOTHING RETURNING comment_id) "
	"SELECT c.user_id, c.movie_id, m.name, " AUTHOR_EMAIL ", c.text, "
	"EXISTS (SELECT 1 FROM w) FROM c JOIN movies m ON m.id = c.movie_id " COMMENT_AUTHOR};

enum err comment_like_put(struct db_conn *c, long long comment, long long user, bool *first,
			  struct comment_notice *n)
{
	PGresult *res = NULL;
	char cm[24], u[24];
	ll_str(cm, comment);
	ll_str(u, user);
	const char *p[] = {cm, u};
	memset(n, 0, sizeof(*n));
	*first = false;
	enum err rc = db_exec(c, &stmt_like_put, 2, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK) {
		n->author = db_int(res, 0, 0);
		n->movie_id = db_int(res, 0, 1);
		n->movie_name = xstrdup(db_text(res, 0, 2));
		n->email = dup_or_null(res, 0, 3);
		n->text = dup_or_null(res, 0, 4);
		*first = db_bool(res, 0, 5);
	}
	PQclear(res);
	return gone_is_missing(rc);
}

static const struct db_stmt stmt_like_delete = {
	"engagement_comment_like_delete",
	"WITH c AS (SELECT id FROM comments WHERE id = $1::bigint), "
	"w AS (DELETE FROM comment_likes l USING c WHERE l.comment_id = c.id "
	"AND l.user_id = $2::bigint) SELECT count(*) FROM c"};

enum err comment_like_delete(struct db_conn *c, long long comment, long long user)
{
	PGresult *res = NULL;
	char cm[24], u[24];
	ll_str(cm, comment);
	ll_str(u, user);
	const char *p[] = {cm, u};
	enum err rc = db_exec(c, &stmt_like_delete, 2, p, &res);
	if (rc == ERR_OK && db_int(res, 0, 0) == 0)
		rc = ERR_NOT_FOUND;
	PQclear(res);
	return rc;
}

/* $1 comment, $2 user, $3 whether any comment may go. No row: no such
 * comment; false: someone else's. */
static const struct db_stmt stmt_comment_delete = {
	"engagement_comment_delete",
	"WITH c AS (SELECT id, user_id FROM comments WHERE id = $1::bigint), "
	"d AS (DELETE FROM comments x USING c WHERE x.id = c.id "
	"AND (c.user_id = $2::bigint OR $3::boolean) RETURNING x.id) "
	"SELECT EXISTS (SELECT 1 FROM d) FROM c"};

enum err comments_delete(struct db_conn *c, long long comment, long long user, bool moderator)
{
	PGresult *res = NULL;
	char cm[24], u[24];
	ll_str(cm, comment);
	ll_str(u, user);
	const char *p[] = {cm, u, moderator ? "true" : "false"};
	enum err rc = db_exec(c, &stmt_comment_delete, 3, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	else if (rc == ERR_OK && !db_bool(res, 0, 0))
		rc = ERR_FORBIDDEN;
	PQclear(res);
	return rc;
}

/* ---- notifications ---- */

static const struct db_stmt stmt_notification_insert = {
	"engagement_notification_insert",
	"INSERT INTO notifications (user_id, kind, actor_id, movie_id, comment_id) "
	"VALUES ($1::bigint, $2::notification_kind, $3::bigint, $4::bigint, $5::bigint)"};

enum err notifications_insert(struct db_conn *c, long long user, const char *kind, long long actor,
			      long long movie, long long comment)
{
	char u[24], a[24], m[24], cm[24];
	ll_str(u, user);
	ll_str(a, actor);
	ll_str(m, movie);
	ll_str(cm, comment);
	const char *p[] = {u, kind, a, m, cm};
	return gone_is_missing(db_exec(c, &stmt_notification_insert, 5, p, NULL));
}

/* $1 user, $2 unread filter (NULL, true, false), $3 limit, $4 offset. */
#define NOTIFICATION_FILTER                                                               \
	"WHERE n.user_id = $1::bigint AND ($2::boolean IS NULL OR (n.read_at IS NULL) = " \
	"$2::boolean) "

#define ACTOR_JSON                                                       \
	"CASE WHEN a.id IS NOT NULL THEN json_build_object('id', a.id, " \
	"'name', " ACTOR_NAME ") END"
#define ACTOR_NAME     USER_NAME("a", "ap")
#define NOTICE_CREATED RFC3339("n.created_at")

static const struct db_stmt stmt_notifications_list = {
	"engagement_notifications_list",
	"SELECT json_build_object('id', n.id, 'kind', n.kind, 'movie', json_build_object('id', "
	"m.id, 'name', m.name), 'comment_id', n.comment_id, 'actor', " ACTOR_JSON ", "
	"'created_at', " NOTICE_CREATED ", 'read', n.read_at IS NOT NULL)::text, "
	"count(*) OVER () FROM notifications n JOIN movies m ON m.id = n.movie_id "
	"LEFT JOIN users a ON a.id = n.actor_id LEFT JOIN user_profiles ap ON ap.user_id = "
	"a.id " NOTIFICATION_FILTER "ORDER BY n.id DESC LIMIT $3::bigint OFFSET $4::bigint"};

static const struct db_stmt stmt_notifications_count = {
	"engagement_notifications_count",
	"SELECT count(*) FROM notifications n " NOTIFICATION_FILTER
	"AND $3::bigint IS NOT NULL AND $4::bigint IS NOT NULL"};

enum err notifications_list(struct db_conn *c, long long user, const char *unread, long long limit,
			    long long offset, struct buf *items, long long *total)
{
	PGresult *res = NULL;
	char u[24], lim[24], off[24];
	ll_str(u, user);
	ll_str(lim, limit);
	ll_str(off, offset);
	const char *p[] = {u, unread, lim, off};
	enum err rc = db_exec_planned(c, &stmt_notifications_list, 4, p, &res);
	if (rc != ERR_OK)
		return rc;
	buf_append_char(items, '[');
	for (int i = 0; i < PQntuples(res); i++) {
		if (i)
			buf_append_char(items, ',');
		buf_append_json_compact(items, PQgetvalue(res, i, 0),
					(size_t)PQgetlength(res, i, 0));
	}
	buf_append_char(items, ']');
	if (PQntuples(res) > 0) {
		*total = db_int(res, 0, 1);
	} else if (offset == 0) {
		*total = 0;
	} else {
		/* Past the last page: the window count saw no row. */
		PQclear(res);
		res = NULL;
		rc = db_exec_planned(c, &stmt_notifications_count, 4, p, &res);
		*total = rc == ERR_OK ? db_int(res, 0, 0) : 0;
	}
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_notification_read = {
	"engagement_notification_read",
	"UPDATE notifications SET read_at = coalesce(read_at, now()) "
	"WHERE id = $1::bigint AND user_id = $2::bigint RETURNING id"};

enum err notifications_mark_read(struct db_conn *c, long long user, long long id)
{
	PGresult *res = NULL;
	char n[24], u[24];
	ll_str(n, id);
	ll_str(u, user);
	const char *p[] = {n, u};
	enum err rc = db_exec(c, &stmt_notification_read, 2, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_notification_read_all = {
	"engagement_notification_read_all",
	"UPDATE notifications SET read_at = now() WHERE user_id = $1::bigint AND read_at IS NULL"};

enum err notifications_mark_all_read(struct db_conn *c, long long user)
{
	char u[24];
	ll_str(u, user);
	const char *p[] = {u};
	return db_exec(c, &stmt_notification_read_all, 1, p, NULL);
}
