/* Engagement rules (see engagement_service.h). Marks and reads are one
 * statement each on a pooled connection; a comment or a like runs in one
 * transaction with the notification and email job it causes, and the job is
 * announced after commit, as in src/accounts/service.c. */
#include "catalog/engagement_service.h"

#include <string.h>

#include "cinema/config.h"
#include "cinema/db.h"
#include "cinema/jobs.h"
#include "cinema/log.h"

void comment_excerpt(const char *text, char *out, size_t outlen)
{
	size_t o = 0, chars = 0, cut = 0;
	bool space = false, more = false;
	const unsigned char *s = (const unsigned char *)(text ? text : "");
	while (*s) {
		if (*s <= 0x20) { /* white space and control characters */
			space = o > 0;
			s++;
			continue;
		}
		size_t len = *s >= 0xF0 ? 4 : *s >= 0xE0 ? 3 : *s >= 0xC0 ? 2 : 1;
		if (chars + space + 1 > COMMENT_EXCERPT_CHARS) {
			more = true;
			break;
		}
		if (o + space + len + 4 > outlen) { /* out too small: keep what fits */
			more = true;
			cut = o;
			break;
		}
		if (space) {
			out[o++] = ' ';
			space = false;
			if (++chars == COMMENT_EXCERPT_CHARS - 1)
				cut = o;
		}
		for (size_t i = 0; i < len && *s; i++)
			out[o++] = (char)*s++;
		if (++chars == COMMENT_EXCERPT_CHARS - 1)
			cut = o;
	}
	if (more) {
		/* The first COMMENT_EXCERPT_CHARS - 1 characters and an ellipsis. */
		o = cut;
		while (o > 0 && out[o - 1] == ' ')
			o--;
		memcpy(out + o, "\xE2\x80\xA6", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* ---- one-statement operations ---- */

struct mark_op {
	enum mark_kind k;
	long long user, movie;
	const char *value;
	bool del;
};

static enum err mark_fn(struct db_conn *c, void *ctx)
{
	struct mark_op *op = ctx;
	return op->del ? marks_delete(c, op->k, op->user, op->movie)
		       : marks_put(c, op->k, op->user, op->movie, op->value);
}

/* Runs fn(conn, ctx) on a pooled connection without a transaction. */
static enum err with_conn(const struct app *app, db_tx_fn fn, void *ctx)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = fn(c, ctx);
	db_release(c);
	return rc;
}

enum err engagement_mark(const struct app *app, enum mark_kind k, long long user, long long movie,
			 const char *value)
{
	struct mark_op op = {.k = k, .user = user, .movie = movie, .value = value};
	return with_conn(app, mark_fn, &op);
}

enum err engagement_unmark(const struct app *app, enum mark_kind k, long long user, long long movie)
{
	struct mark_op op = {.k = k, .user = user, .movie = movie, .del = true};
	return with_conn(app, mark_fn, &op);
}

struct list_op {
	long long owner, viewer, limit, offset, id;
	const char *unread;
	struct buf *items;
	long long *total;
};

static enum err comments_list_fn(struct db_conn *c, void *ctx)
{
	struct list_op *op = ctx;
	return comments_list(c, op->owner, op->viewer, op->limit, op->offset, op->items, op->total);
}

enum err engagement_list_comments(const struct app *app, long long movie, long long viewer,
				  long long limit, long long offset, struct buf *items,
				  long long *total)
{
	struct list_op op = {.owner = movie,
			     .viewer = viewer,
			     .limit = limit,
			     .offset = offset,
			     .items = items,
			     .total = total};
	return with_conn(app, comments_list_fn, &op);
}

static enum err notifications_list_fn(struct db_conn *c, void *ctx)
{
	struct list_op *op = ctx;
	return notifications_list(c, op->owner, op->unread, op->limit, op->offset, op->items,
				  op->total);
}

enum err engagement_list_notifications(const struct app *app, long long user, const char *unread,
				       long long limit, long long offset, struct buf *items,
				       long long *total)
{
	struct list_op op = {.owner = user,
			     .unread = unread,
			     .limit = limit,
			     .offset = offset,
			     .items = items,
			     .total = total};
	return with_conn(app, notifications_list_fn, &op);
}

static enum err read_fn(struct db_conn *c, void *ctx)
{
	struct list_op *op = ctx;
	return op->id ? notifications_mark_read(c, op->owner, op->id)
		      : notifications_mark_all_read(c, op->owner);
}

enum err engagement_read_notification(const struct app *app, long long user, long long id)
{
	struct list_op op = {.owner = user, .id = id};
	return with_conn(app, read_fn, &op);
}

enum err engagement_read_all_notifications(const struct app *app, long long user)
{
	struct list_op op = {.owner = user};
	return with_conn(app, read_fn, &op);
}

/* ---- notices: what tells a comment's author ---- */

static void announce(const struct app *app, long long job_id)
{
	if (job_id)
		email_job_announce(app->kv, app->cfg->email_queue_key, job_id);
}

/* Records the notification of n's author about actor's action and, when the
 * author accepts emails, the email job (*job_id, else 0). Nothing for an
 * action on one's own comment. */
static enum err notify(struct db_conn *c, const struct comment_notice *n, const char *kind,
		       long long actor, long long comment, const char *excerpt_of,
		       long long *job_id)
{
	char excerpt[4 * COMMENT_EXCERPT_CHARS + 8];
	*job_id = 0;
	if (n->author == 0 || n->author == actor)
		return ERR_OK;
	enum err rc = notifications_insert(c, n->author, kind, actor, n->movie_id, comment);
	if (rc != ERR_OK || !n->email)
		return rc;
	bool reply = strcmp(kind, NOTIFY_COMMENT_REPLY) == 0;
	comment_excerpt(excerpt_of, excerpt, sizeof(excerpt));
	json_t *payload =
		json_pack("{s:I,s:s,s:s}", "movie_id", (json_int_t)n->movie_id, "movie_name",
			  n->movie_name, reply ? "reply_excerpt" : "comment_excerpt", excerpt);
	rc = email_job_enqueue(c, reply ? EMAIL_COMMENT_REPLY : EMAIL_COMMENT_LIKE, n->email,
			       payload, job_id);
	json_decref(payload);
	return rc;
}

/* ---- comments ---- */

struct comment_tx {
	long long user, movie, parent, id, job_id;
	const char *text;
	struct buf json;
	json_t *errors;
};

static enum err add_comment_fn(struct db_conn *c, void *ctx)
{
	struct comment_tx *t = ctx;
	struct comment_notice parent = {0};
	char *movie_name = NULL;
	t->job_id = 0;
	buf_reset(&t->json);
	json_decref(t->errors);
	t->errors = NULL;
	enum err rc = comments_reply_context(c, t->movie, t->parent, &movie_name, &parent);
	if (rc != ERR_OK)
		goto out;
	if (t->parent && (parent.author == 0 || parent.movie_id != t->movie)) {
		t->errors = json_pack("[{s:s,s:s}]", "field", "parent_id", "message",
				      parent.author == 0 ? "no comment has this id"
							 : "belongs to another movie");
		rc = ERR_VALIDATION;
		goto out;
	}
	rc = comments_insert(c, t->movie, t->user, t->parent, t->text, &t->id, &t->json);
	if (rc == ERR_OK && t->parent)
		rc = notify(c, &parent, NOTIFY_COMMENT_REPLY, t->user, t->id, t->text, &t->job_id);
out:
	free(movie_name);
	comment_notice_clear(&parent);
	return rc;
}

enum err engagement_add_comment(const struct app *app, long long user, long long movie,
				long long parent, const char *text, struct buf *out,
				json_t **errors)
{
	struct comment_tx t = {.user = user, .movie = movie, .parent = parent, .text = text};
	enum err rc = db_transaction(app->db, add_comment_fn, &t);
	*errors = t.errors;
	if (rc == ERR_OK) {
		announce(app, t.job_id);
		buf_append(out, t.json.data, t.json.len);
		LOG_INFO("comment added", LOG_INT("comment_id", t.id), LOG_INT("movie_id", movie),
			 LOG_INT("user_id", user));
	}
	buf_free(&t.json);
	return rc;
}

struct like_tx {
	long long user, comment, job_id;
};

static enum err like_fn(struct db_conn *c, void *ctx)
{
	struct like_tx *t = ctx;
	struct comment_notice n;
	bool first;
	t->job_id = 0;
	enum err rc = comment_like_put(c, t->comment, t->user, &first, &n);
	if (rc == ERR_OK && first)
		rc = notify(c, &n, NOTIFY_COMMENT_LIKE, t->user, t->comment, n.text, &t->job_id);
	comment_notice_clear(&n);
	return rc;
}

enum err engagement_like_comment(const struct app *app, long long user, long long comment)
{
	struct like_tx t = {.user = user, .comment = comment};
	enum err rc = db_transaction(app->db, like_fn, &t);
	if (rc == ERR_OK)
		announce(app, t.job_id);
	return rc;
}

struct comment_op {
	long long user, comment;
	bool moderator;
};

static enum err unlike_fn(struct db_conn *c, void *ctx)
{
	struct comment_op *op = ctx;
	return comment_like_delete(c, op->comment, op->user);
}

enum err engagement_unlike_comment(const struct app *app, long long user, long long comment)
{
	struct comment_op op = {.user = user, .comment = comment};
	return with_conn(app, unlike_fn, &op);
}

static enum err delete_fn(struct db_conn *c, void *ctx)
{
	struct comment_op *op = ctx;
	return comments_delete(c, op->comment, op->user, op->moderator);
}

enum err engagement_delete_comment(const struct app *app, long long user, bool moderator,
				   long long comment)
{
	struct comment_op op = {.user = user, .comment = comment, .moderator = moderator};
	enum err rc = with_conn(app, delete_fn, &op);
	if (rc == ERR_OK)
		LOG_INFO("comment deleted", LOG_INT("comment_id", comment),
			 LOG_INT("user_id", user));
	return rc;
}
