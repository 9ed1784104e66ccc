#include "media/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cinema/config.h"
#include "cinema/mem.h"
#include "cinema/validate.h"
#include "media/media.h"
#include "media/service.h"

#define UPLOAD_BODY   4096
#define COMPLETE_BODY (MEDIA_MAX_PARTS * 200 + 1024)
#define DURATION_MAX  86400.0

/* The movie id and kind of the path; false (404 answered) when either is
 * not one. */
static bool movie_kind(struct http_request *req, struct http_response *res, long long *id,
		       enum media_kind *kind)
{
	if (!http_param_id(req, "id", id) || !media_kind_parse(http_param(req, "kind"), kind)) {
		http_error(res, ERR_NOT_FOUND, NULL);
		return false;
	}
	return true;
}

/* As movie_kind, with the upload id of the path (a UUID). */
static bool movie_kind_upload(struct http_request *req, struct http_response *res, long long *id,
			      enum media_kind *kind, const char **upload_id)
{
	if (!movie_kind(req, res, id, kind))
		return false;
	*upload_id = http_param(req, "upload_id");
	if (!media_uuid_valid(*upload_id)) {
		http_error(res, ERR_NOT_FOUND, NULL);
		return false;
	}
	return true;
}

static unsigned h_list(struct http_request *req, struct http_response *res)
{
	long long id;
	if (!http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	buf_reset(&res->body);
	enum err rc = media_list_movie(req->app, id, &res->body);
	return rc == ERR_OK ? http_json_raw(res, 200) : http_error(res, rc, NULL);
}

static unsigned h_unlink(struct http_request *req, struct http_response *res)
{
	long long id;
	enum media_kind kind;
	if (!movie_kind(req, res, &id, &kind))
		return res->status;
	enum err rc = media_unlink(req->app, id, kind);
	return rc == ERR_OK ? http_empty(res, 204) : http_error(res, rc, NULL);
}

static unsigned h_create_upload(struct http_request *req, struct http_response *res)
{
	static const char *const allowed[] = {"content_type", "size_bytes", "duration_s", NULL};
	const struct config *cfg = req->app->cfg;
	struct media_upload_req r = {0};
	struct validator v;
	json_t *body = NULL, *upload = NULL;
	long long id;
	unsigned status;

	if (!movie_kind(req, res, &id, &r.kind))
		return res->status;
	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, allowed);
	r.content_type = validator_string(&v, "content_type", V_REQUIRED, 1, 100);
	if (r.content_type && !media_type_allowed(r.kind, r.content_type))
		validator_fail(&v, "content_type", "must be %s for a %s", media_types_text(r.kind),
			       media_kind_name(r.kind));
	long long max = media_max_bytes(cfg, r.kind);
	const json_t *size = json_object_get(body, "size_bytes");
	if (!size || json_is_null(size))
		validator_fail(&v, "size_bytes", "is required");
	else if (!json_is_integer(size) || json_integer_value(size) < 1)
		validator_fail(&v, "size_bytes", "must be a whole number of bytes, at least 1");
	else if (json_integer_value(size) > max)
		validator_fail(&v, "size_bytes", "must be at most %lld bytes for a %s", max,
			       media_kind_name(r.kind));
	else
		r.size_bytes = json_integer_value(size);
	const json_t *dur = json_object_get(body, "duration_s");
	if (dur && !json_is_null(dur)) {
		if (!json_is_number(dur) || json_number_value(dur) <= 0 ||
		    json_number_value(dur) > DURATION_MAX)
			validator_fail(&v, "duration_s",
				       "must be a number of seconds above 0 and at most %.0f",
				       DURATION_MAX);
		else
			r.duration_s = json_number_value(dur);
	}
	if (!validator_ok(&v)) {
		status = validator_respond(&v, res);
		goto out;
	}
	enum err rc = media_upload_create(req->app, id, &r, req->auth.user_id, &upload);
	status = rc == ERR_OK ? http_json(res, 201, upload) : http_error(res, rc, NULL);
out:
	validator_clear(&v);
	json_decref(body);
	return status;
}

static unsigned h_cancel_upload(struct http_request *req, struct http_response *res)
{
	long long id;
	enum media_kind kind;
	const char *upload_id;
	if (!movie_kind_upload(req, res, &id, &kind, &upload_id))
		return res->status;
	enum err rc = media_upload_cancel(req->app, id, kind, upload_id);
	return rc == ERR_OK ? http_empty(res, 204) : http_error(res, rc, NULL);
}

/* Reads {"parts": [{"number", "etag"}]} into parts (borrowing the ETags
 * from body); false after failing v. */
static bool parts_read(struct validator *v, const json_t *body, struct s3_part *parts, size_t *n)
{
	static const char *const allowed[] = {"parts", NULL};
	const json_t *a = json_object_get(body, "parts"), *x;
	size_t i;
	*n = 0;
	validator_only(v, allowed);
	if (!a || json_is_null(a))
		return validator_ok(v);
	if (!json_is_array(a) || json_array_size(a) > MEDIA_MAX_PARTS) {
		validator_fail(v, "parts", "must be an array of at most %d parts", MEDIA_MAX_PARTS);
		return false;
	}
	json_array_foreach (a, i, x) {
		const json_t *num = json_object_get(x, "number");
		const json_t *etag = json_object_get(x, "etag");
		size_t len = json_is_string(etag) ? json_string_length(etag) : 0;
		if (!json_is_object(x) || json_object_size(x) != 2 || !json_is_integer(num) ||
		    json_integer_value(num) < 1 || json_integer_value(num) > MEDIA_MAX_PARTS ||
		    len < 1 || len > 128 || strlen(json_string_value(etag)) != len) {
			validator_fail(v, "parts",
				       "must hold objects {\"number\": 1 to %d, \"etag\": the "
				       "ETag S3 answered, 1 to 128 characters}",
				       MEDIA_MAX_PARTS);
			return false;
		}
		parts[i].number = (int)json_integer_value(num);
		parts[i].etag = json_string_value(etag);
	}
	*n = json_array_size(a);
	return validator_ok(v);
}

static unsigned h_complete_upload(struct http_request *req, struct http_response *res)
{
	long long id;
	enum media_kind kind;
	const char *upload_id;
	json_t *body = NULL;
	struct validator v;
	struct s3_part *parts = NULL;
	size_t n = 0;
	char detail[256];
	unsigned status;

	if (!movie_kind_upload(req, res, &id, &kind, &upload_id))
		return res->status;
	/* The body is optional (a single PUT has no parts to list). */
	if (req->body_len > 0 && !http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	parts = xcalloc(MEDIA_MAX_PARTS, sizeof(*parts));
	if (body && !parts_read(&v, body, parts, &n)) {
		status = validator_respond(&v, res);
		goto out;
	}
	buf_reset(&res->body);
	enum err rc = media_upload_complete(req->app, id, kind, upload_id, parts, n,
					    req->auth.user_id, &res->body, detail, sizeof(detail));
	if (rc == ERR_OK)
		status = http_json_raw(res, 200);
	else if (rc == ERR_VALIDATION)
		status = http_validation_error(
			res, json_pack("[{s:s,s:s}]", "field", "parts", "message", detail));
	else
		status = http_error(res, rc, *detail ? detail : NULL);
out:
	validator_clear(&v);
	json_decref(body);
	free(parts);
	return status;
}

/* No I/O: the path is the key. The redirect is the same for an hour, so
 * browsers and proxies may keep it that long. */
static unsigned h_public(struct http_request *req, struct http_response *res)
{
	long long id;
	enum media_kind kind;
	const char *token = http_param(req, "token");
	char key[MEDIA_KEY_MAX];
	if (!http_param_id(req, "movie_id", &id) ||
	    !media_kind_parse(http_param(req, "kind"), &kind) || !media_kind_public(kind) ||
	    !media_token_valid(token))
		return http_error(res, ERR_NOT_FOUND, NULL);
	media_key_format(key, sizeof(key), id, kind, token);
	char *url = media_public_url(req->app, key, time(NULL));
	if (!url)
		return http_error(res, ERR_STORAGE_UNAVAILABLE, NULL);
	http_set_header(res, "Location", url);
	http_set_header(res, "Cache-Control", "public, max-age=3600");
	free(url);
	return http_empty(res, 302);
}

const struct route media_routes[] = {
	{HTTP_GET, "/api/v1/movies/{id}/media", h_list, ACCESS_MODERATOR, 0, LANE_DB},
	{HTTP_DELETE, "/api/v1/movies/{id}/media/{kind}", h_unlink, ACCESS_MODERATOR, 0, LANE_DB},
	{HTTP_POST, "/api/v1/movies/{id}/media/{kind}/uploads", h_create_upload, ACCESS_MODERATOR,
	 UPLOAD_BODY, LANE_S3},
	{HTTP_DELETE, "/api/v1/movies/{id}/media/{kind}/uploads/{upload_id}", h_cancel_upload,
	 ACCESS_MODERATOR, 0, LANE_DB},
	{HTTP_POST, "/api/v1/movies/{id}/media/{kind}/uploads/{upload_id}/complete",
	 h_complete_upload, ACCESS_MODERATOR, COMPLETE_BODY, LANE_S3},
	{HTTP_GET, "/api/v1/media/{movie_id}/{kind}/{token}", h_public, ACCESS_PUBLIC, 0,
	 LANE_INLINE},
	ROUTES_END,
};
