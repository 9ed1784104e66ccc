/* Rules of engagement with movies: reactions, ratings, favorites, comments,
 * comment likes and notifications. A reply or the first like of a comment
 * notifies its author (never the actor themselves): a notifications row
 * and, when the author accepts emails, an email job, both in the
 * transaction of the change; the job is announced after commit.
 *
 * Users are ids of signed-in callers. Errors: ERR_NOT_FOUND for a missing
 * movie, comment or notification, database errors otherwise. Thread-safe
 * (each call takes its own pooled connection). */
#ifndef CINEMA_CATALOG_ENGAGEMENT_SERVICE_H
#define CINEMA_CATALOG_ENGAGEMENT_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "catalog/engagement_repo.h"
#include "cinema/app.h"

/* The longest excerpt of a comment in an email, in characters. */
#define COMMENT_EXCERPT_CHARS 200

/* Sets or removes the user's reaction ("like", "dislike"), rating ("1" to
 * "10") or favorite (value NULL) on a movie; both are idempotent. */
enum err engagement_mark(const struct app *app, enum mark_kind k, long long user, long long movie,
			 const char *value);
enum err engagement_unmark(const struct app *app, enum mark_kind k, long long user,
			   long long movie);

/* See comments_list; viewer 0 for anonymous. */
enum err engagement_list_comments(const struct app *app, long long movie, long long viewer,
				  long long limit, long long offset, struct buf *items,
				  long long *total);
/* Adds a comment (parent 0: top level) and appends its JSON to out. A
 * parent that does not exist or is on another movie is ERR_VALIDATION with
 * *errors an owned array naming parent_id. */
enum err engagement_add_comment(const struct app *app, long long user, long long movie,
				long long parent, const char *text, struct buf *out,
				json_t **errors);
enum err engagement_like_comment(const struct app *app, long long user, long long comment);
enum err engagement_unlike_comment(const struct app *app, long long user, long long comment);
/* The author may delete their comment, a moderator any: ERR_FORBIDDEN
 * otherwise. Replies go with it. */
enum err engagement_delete_comment(const struct app *app, long long user, bool moderator,
				   long long comment);

/* unread: NULL (all), "true" or "false". */
enum err engagement_list_notifications(const struct app *app, long long user, const char *unread,
				       long long limit, long long offset, struct buf *items,
				       long long *total);
enum err engagement_read_notification(const struct app *app, long long user, long long id);
enum err engagement_read_all_notifications(const struct app *app, long long user);

/* Writes the first COMMENT_EXCERPT_CHARS characters of text into out (at
 * least 4 * COMMENT_EXCERPT_CHARS + 1 bytes), with runs of white space
 * made one space and "…" ending a cut text. */
void comment_excerpt(const char *text, char *out, size_t outlen);

#endif
