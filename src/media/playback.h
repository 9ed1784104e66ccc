/* Watching (docs/MEDIA.md "Watching"): the routes that hand a buyer (or a
 * moderator) a presigned URL of the feature, record where the viewer
 * stopped and list the films to continue; and the service behind them.
 *
 * No route here waits on S3: a presigned URL is computed without I/O, so
 * they all run in LANE_DB (one query each). Thread-safe: no state of their
 * own beyond the app's handles. */
#ifndef CINEMA_MEDIA_PLAYBACK_H
#define CINEMA_MEDIA_PLAYBACK_H

#include <jansson.h>
#include <stdbool.h>

#include "cinema/app.h"
#include "cinema/buf.h"
#include "cinema/error.h"
#include "cinema/http.h"

/* GET /movies/{id}/play, PUT /movies/{id}/progress, GET /me/continue-watching. */
extern const struct route playback_routes[];

/* The Playback object of openapi.yaml (owned) for user in movie: a GET URL
 * of the feature valid PLAY_URL_TTL_S from now, and where the user stopped.
 * may_all: a moderator, who needs no purchase. ERR_NOT_FOUND (no movie),
 * ERR_NOT_PURCHASED, ERR_FEATURE_NOT_FOUND, ERR_STORAGE_UNAVAILABLE (no S3
 * configured), or a database error. */
enum err playback_play(const struct app *app, long long movie, long long user, bool may_all,
		       json_t **out);

/* Records user's position in movie; position_s past duration_s is taken as
 * duration_s. Both finite, position_s >= 0, duration_s > 0 (the handler
 * checks). ERR_NOT_FOUND, ERR_NOT_PURCHASED, or a database error. */
enum err playback_progress(const struct app *app, long long movie, long long user, bool may_all,
			   double position_s, double duration_s);

/* Appends one page of user's unfinished films (a JSON array of
 * ContinueWatching) to items; *total: how many in all. */
enum err playback_continue(const struct app *app, long long user, bool may_all, long long limit,
			   long long offset, struct buf *items, long long *total);

#endif
