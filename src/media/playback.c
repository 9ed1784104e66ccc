/* Watching: handlers (path, query and body to values) and the service
 * (one database call each, then the presigning). See playback.h. */
#include "media/playback.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cinema/config.h"
#include "cinema/db.h"
#include "cinema/log.h"
#include "cinema/mem.h"
#include "cinema/page.h"
#include "cinema/validate.h"
#include "media/playback_repo.h"
#include "storage/s3.h"

/* The longest film a player may report: a week, as openapi.yaml says. */
#define PROGRESS_MAX_S 604800.0

/* ---- service ---- */

static void rfc3339(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A number, or null when negative (unknown). */
static json_t *opt_number(double v)
{
	return v < 0 ? json_null() : json_real(v);
}

enum err playback_play(const struct app *app, long long movie, long long user, bool may_all,
		       json_t **out)
{
	struct db_conn *c = NULL;
	struct playback_row row = {0};
	char *url = NULL;
	char expires[32];
	*out = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = playback_repo_get(c, movie, user, may_all, &row);
	db_release(c);
	if (rc != ERR_OK)
		return rc;
	if (!app->s3)
		return ERR_STORAGE_UNAVAILABLE;
	time_t now = time(NULL);
	int ttl = app->cfg->play_url_ttl_s;
	url = s3_presign_get(app->s3, row.object_key, ttl, now);
	if (!url) {
		/* Only a key the upload path would never store gets here. */
		LOG_ERROR("cannot presign the feature", LOG_INT("movie_id", movie));
		return ERR_INTERNAL;
	}
	rfc3339(now + ttl, expires);
	*out = json_pack("{s:s,s:s,s:s,s:I,s:o,s:o,s:b}", "url", url, "expires_at", expires,
			 "content_type", row.content_type, "size_bytes", (json_int_t)row.size_bytes,
			 "duration_s", opt_number(row.duration_s), "position_s",
			 opt_number(row.position_s), "finished", row.finished);
	free(url);
	return *out ? ERR_OK : ERR_INTERNAL;
}

enum err playback_progress(const struct app *app, long long movie, long long user, bool may_all,
			   double position_s, double duration_s)
{
	struct db_conn *c = NULL;
	if (position_s > duration_s)
		position_s = duration_s;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = playback_repo_put_progress(c, movie, user, may_all, position_s, duration_s);
	db_release(c);
	return rc;
}

enum err playback_continue(const struct app *app, long long user, bool may_all, long long limit,
			   long long offset, struct buf *items, long long *total)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = playback_repo_continue(c, user, may_all, limit, offset, items, total);
	db_release(c);
	return rc;
}

/* ---- handlers ---- */

static bool is_moderator(const struct http_request *req)
{
	return req->auth.group >= ACCESS_MODERATOR;
}

static unsigned h_play(struct http_request *req, struct http_response *res)
{
	long long movie;
	json_t *out = NULL;
	if (!http_param_id(req, "id", &movie))
		return http_error(res, ERR_NOT_FOUND, NULL);
	enum err rc = playback_play(req->app, movie, req->auth.user_id, is_moderator(req), &out);
	if (rc != ERR_OK)
		return http_error(res, rc, NULL);
	return http_json(res, 200, out);
}

/* A required JSON number (integer or not) in [min, max], or above min when
 * min_exclusive. Strings ("NaN", "12") are not numbers; JSON has no NaN nor
 * infinity, and jansson refuses a literal too large for a double. */
static bool number_field(struct validator *v, const json_t *body, const char *field, double min,
			 bool min_exclusive, double max, double *out)
{
	const json_t *j = json_object_get(body, field);
	if (!j || json_is_null(j)) {
		validator_fail(v, field, "is required");
		return false;
	}
	if (!json_is_number(j)) {
		validator_fail(v, field, "must be a number");
		return false;
	}
	double d = json_number_value(j);
	if (!isfinite(d) || d > max || (min_exclusive ? d <= min : d < min)) {
		validator_fail(v, field, "must be %s %g and at most %g",
			       min_exclusive ? "greater than" : "at least", min, max);
		return false;
	}
	*out = d;
	return true;
}

static unsigned h_progress(struct http_request *req, struct http_response *res)
{
	long long movie;
	json_t *body = NULL;
	struct validator v;
	double pos = 0, dur = 0;
	unsigned status;
	if (!http_param_id(req, "id", &movie))
		return http_error(res, ERR_NOT_FOUND, NULL);
	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, (const char *const[]){"position_s", "duration_s", NULL});
	number_field(&v, body, "position_s", 0, false, PROGRESS_MAX_S, &pos);
	number_field(&v, body, "duration_s", 0, true, PROGRESS_MAX_S, &dur);
	if (!validator_ok(&v)) {
		status = validator_respond(&v, res);
		goto out;
	}
	enum err rc =
		playback_progress(req->app, movie, req->auth.user_id, is_moderator(req), pos, dur);
	status = rc == ERR_OK ? http_empty(res, 204) : http_error(res, rc, NULL);
out:
	validator_clear(&v);
	json_decref(body);
	return status;
}

static unsigned h_continue(struct http_request *req, struct http_response *res)
{
	struct page pg;
	struct buf items = BUF_INIT;
	long long total = 0;
	if (!page_parse(req, res, &pg))
		return res->status;
	enum err rc = playback_continue(req->app, req->auth.user_id, is_moderator(req), pg.per_page,
					pg.offset, &items, &total);
	if (rc == ERR_OK) {
		buf_reset(&res->body);
		page_envelope_raw(req, &pg, items.data, items.len, total, &res->body);
	}
	buf_free(&items);
	return rc == ERR_OK ? http_json_raw(res, 200) : http_error(res, rc, NULL);
}

#define PROGRESS_BODY 1024

const struct route playback_routes[] = {
	{HTTP_GET, "/api/v1/movies/{id}/play", h_play, ACCESS_USER, 0, LANE_DB},
	{HTTP_PUT, "/api/v1/movies/{id}/progress", h_progress, ACCESS_USER, PROGRESS_BODY, LANE_DB},
	{HTTP_GET, "/api/v1/me/continue-watching", h_continue, ACCESS_USER, 0, LANE_DB},
	ROUTES_END,
};
