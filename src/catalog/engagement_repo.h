/* SQL of what users do with movies (migrations/0005_catalog.sql): reactions,
 * ratings, favorites, comments with replies, comment likes and in-app
 * notifications. The movie counters (likes, dislikes, rating, favorites,
 * comments) and comment likes are kept by the triggers of the migration,
 * never here. Comments and notifications leave PostgreSQL rendered as JSON
 * text; reply trees are assembled in C without parsing them.
 *
 * Every function runs on a connection the caller holds (inside a
 * transaction or not) and returns ERR_OK, ERR_NOT_FOUND as documented, or a
 * database error. Not thread-safe beyond the connection's rules. */
#ifndef CINEMA_CATALOG_ENGAGEMENT_REPO_H
#define CINEMA_CATALOG_ENGAGEMENT_REPO_H

#include <stdbool.h>

#include "cinema/buf.h"
#include "cinema/db.h"

/* The three per-user marks on a movie: one row per (user, movie) each. */
enum mark_kind { MARK_REACTION, MARK_RATING, MARK_FAVORITE };

/* Sets the user's mark: value is "like" or "dislike" (reaction), a score
 * "1".."10" (rating), NULL (favorite). Changing a value updates the one row
 * (INSERT ... ON CONFLICT DO UPDATE); setting the same value again changes
 * nothing. ERR_NOT_FOUND: no such movie. */
enum err marks_put(struct db_conn *c, enum mark_kind k, long long user, long long movie,
		   const char *value);
/* Removes the mark if there is one. ERR_NOT_FOUND: no such movie. */
enum err marks_delete(struct db_conn *c, enum mark_kind k, long long user, long long movie);

/* Appends a JSON array of one page of the movie's top-level comments, oldest
 * first, each with its whole reply tree nested in "replies" (oldest first);
 * viewer (0 for anonymous) adds "liked_by_me" to every comment. *total gets
 * the number of top-level comments. ERR_NOT_FOUND: no such movie. */
enum err comments_list(struct db_conn *c, long long movie, long long viewer, long long limit,
		       long long offset, struct buf *items, long long *total);

/* Who an action on a comment concerns: the comment's author, and what an
 * email to them says. Strings are owned; free with comment_notice_clear. */
struct comment_notice {
	long long author;   /* the comment's author (0: no such comment) */
	long long movie_id; /* the comment's movie */
	char *movie_name;
	char *email; /* the author's address if the author accepts emails, else NULL */
	char *text;  /* the comment's text (comment_like_put only) */
};
void comment_notice_clear(struct comment_notice *n);

/* Before a comment: the movie's name (ERR_NOT_FOUND: no such movie) and,
 * when parent is not 0, the parent comment in *parent (author 0 when there
 * is no such comment; movie_id tells whether it is on the same movie). */
enum err comments_reply_context(struct db_conn *c, long long movie, long long parent,
				char **movie_name, struct comment_notice *parent_out);
/* Inserts a comment (parent 0: top level) and appends its JSON, with
 * "liked_by_me": false and empty "replies", to out. */
enum err comments_insert(struct db_conn *c, long long movie, long long user, long long parent,
			 const char *text, long long *id, struct buf *out);
/* The user's like of a comment. *first is true when this call added it
 * (false when it was already there); n describes the comment.
 * ERR_NOT_FOUND: no such comment. */
enum err comment_like_put(struct db_conn *c, long long comment, long long user, bool *first,
			  struct comment_notice *n);
/* ERR_NOT_FOUND: no such comment. */
enum err comment_like_delete(struct db_conn *c, long long comment, long long user);
/* Deletes a comment with its replies (ON DELETE CASCADE) when user wrote it
 * or moderator is true. ERR_NOT_FOUND: no such comment; ERR_FORBIDDEN:
 * someone else's. */
enum err comments_delete(struct db_conn *c, long long comment, long long user, bool moderator);

/* Notification kinds (the notification_kind type of the migration). */
#define NOTIFY_COMMENT_REPLY "comment_reply"
#define NOTIFY_COMMENT_LIKE  "comment_like"

enum err notifications_insert(struct db_conn *c, long long user, const char *kind, long long actor,
			      long long movie, long long comment);
/* Appends a JSON array of one page of the user's notifications, newest
 * first. unread: NULL for all, "true" for unread only, "false" for read
 * only. */
enum err notifications_list(struct db_conn *c, long long user, const char *unread, long long limit,
			    long long offset, struct buf *items, long long *total);
/* ERR_NOT_FOUND: no such notification of this user. */
enum err notifications_mark_read(struct db_conn *c, long long user, long long id);
enum err notifications_mark_all_read(struct db_conn *c, long long user);

#endif
