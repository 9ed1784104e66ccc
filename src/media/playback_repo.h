/* SQL of watching (migrations/0010_media.sql, docs/MEDIA.md "Watching"):
 * where each viewer stopped (watch_progress), and the reads of movie_media
 * and purchases that decide who may watch the feature.
 *
 * Access to a movie's feature and progress: a row in purchases (a refund
 * removes it), or a moderator (passed in by the caller, from the token).
 * Every function runs on a connection the caller holds and decides access
 * in the same statement as the read or write, so no purchase or refund can
 * slip between a check and its use. Returns ERR_OK, the errors documented,
 * or a database error. Not thread-safe beyond the connection's rules. */
#ifndef CINEMA_MEDIA_PLAYBACK_REPO_H
#define CINEMA_MEDIA_PLAYBACK_REPO_H

#include <stdbool.h>

#include "cinema/buf.h"
#include "cinema/db.h"

/* What /play needs of one movie for one viewer. */
struct playback_row {
	char object_key[1100]; /* the feature's S3 key */
	char content_type[128];
	long long size_bytes;
	double duration_s; /* < 0: unknown */
	double position_s; /* < 0: never watched */
	bool finished;
};

/* Reads the feature of movie and where user stopped in it, if user may
 * watch it (may_all: a moderator). ERR_NOT_FOUND: no such movie;
 * ERR_NOT_PURCHASED: user does not own it; ERR_FEATURE_NOT_FOUND: it has no
 * feature. */
enum err playback_repo_get(struct db_conn *c, long long movie, long long user, bool may_all,
			   struct playback_row *out);

/* Records where user is in movie (position_s already clamped to
 * [0, duration_s]), in one upsert guarded by the access rule of
 * playback_repo_get. ERR_NOT_FOUND: no such movie; ERR_NOT_PURCHASED: user
 * does not own it (nothing written). */
enum err playback_repo_put_progress(struct db_conn *c, long long movie, long long user,
				    bool may_all, double position_s, double duration_s);

/* Appends the JSON array of one page of user's unfinished films (position
 * above 0, not finished, still owned unless may_all), most recently watched
 * first: {movie: MovieSummary, position_s, duration_s, progress,
 * updated_at}. *total gets how many there are in all. */
enum err playback_repo_continue(struct db_conn *c, long long user, bool may_all, long long limit,
				long long offset, struct buf *items, long long *total);

#endif
