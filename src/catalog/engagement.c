/* HTTP of engagement (see engagement.h): path and body to values, then the
 * service. Bodies are validated whole before anything is looked up, so a
 * 422 names every bad field; an unknown movie or comment is 404 after. */
#include "catalog/engagement.h"

#include <stdio.h>
#include <string.h>

#include "catalog/engagement_service.h"
#include "cinema/page.h"
#include "cinema/validate.h"

#define COMMENT_MAX_CHARS 5000
#define MAX_ID		  999999999999999999LL

static unsigned done(struct http_response *res, enum err rc)
{
	return rc == ERR_OK ? http_empty(res, 204) : http_error(res, rc, NULL);
}

/* A page of items already rendered as a JSON array, in the envelope. */
static unsigned page_response(struct http_request *req, struct http_response *res,
			      const struct page *pg, enum err rc, struct buf *items,
			      long long total)
{
	if (rc == ERR_OK) {
		buf_reset(&res->body);
		page_envelope_raw(req, pg, items->data, items->len, total, &res->body);
	}
	buf_free(items);
	return rc == ERR_OK ? http_json_raw(res, 200) : http_error(res, rc, NULL);
}

/* ---- reactions, ratings, favorites ---- */

/* Reads the one field of a mark body into value (NULL for favorites, which
 * have no body). Returns 0, or the status of the answer already in res. */
static unsigned mark_body(struct http_request *req, struct http_response *res, enum mark_kind k,
			  char *value, size_t value_len)
{
	json_t *body;
	struct validator v;
	unsigned status = 0;
	long long score;
	if (k == MARK_FAVORITE)
		return 0;
	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	if (k == MARK_REACTION) {
		validator_only(&v, (const char *const[]){"reaction", NULL});
		const char *r = validator_string(&v, "reaction", V_REQUIRED, 1, 16);
		if (r && strcmp(r, "like") != 0 && strcmp(r, "dislike") != 0)
			validator_fail(&v, "reaction", "must be like or dislike");
		else if (r)
			snprintf(value, value_len, "%s", r);
	} else {
		validator_only(&v, (const char *const[]){"score", NULL});
		if (validator_int(&v, "score", V_REQUIRED, 1, 10, &score))
			snprintf(value, value_len, "%lld", score);
	}
	if (!validator_ok(&v))
		status = validator_respond(&v, res);
	validator_clear(&v);
	json_decref(body);
	return status;
}

static unsigned mark_put(struct http_request *req, struct http_response *res, enum mark_kind k,
			 const char *param)
{
	long long movie;
	char value[16] = "";
	if (!http_param_id(req, param, &movie))
		return http_error(res, ERR_NOT_FOUND, NULL);
	unsigned status = mark_body(req, res, k, value, sizeof(value));
	if (status)
		return status;
	return done(res, engagement_mark(req->app, k, req->auth.user_id, movie,
					 k == MARK_FAVORITE ? NULL : value));
}

static unsigned mark_delete(struct http_request *req, struct http_response *res, enum mark_kind k,
			    const char *param)
{
	long long movie;
	if (!http_param_id(req, param, &movie))
		return http_error(res, ERR_NOT_FOUND, NULL);
	return done(res, engagement_unmark(req->app, k, req->auth.user_id, movie));
}

static unsigned h_reaction_put(struct http_request *req, struct http_response *res)
{
	return mark_put(req, res, MARK_REACTION, "id");
}

static unsigned h_reaction_delete(struct http_request *req, struct http_response *res)
{
	return mark_delete(req, res, MARK_REACTION, "id");
}

static unsigned h_rating_put(struct http_request *req, struct http_response *res)
{
	return mark_put(req, res, MARK_RATING, "id");
}

static unsigned h_rating_delete(struct http_request *req, struct http_response *res)
{
	return mark_delete(req, res, MARK_RATING, "id");
}

static unsigned h_favorite_put(struct http_request *req, struct http_response *res)
{
	return mark_put(req, res, MARK_FAVORITE, "movie_id");
}

static unsigned h_favorite_delete(struct http_request *req, struct http_response *res)
{
	return mark_delete(req, res, MARK_FAVORITE, "movie_id");
}

/* ---- comments ---- */

static unsigned h_comments_list(struct http_request *req, struct http_response *res)
{
	long long movie, total = 0;
	struct page pg;
	struct buf items = BUF_INIT;
	if (!http_param_id(req, "id", &movie))
		return http_error(res, ERR_NOT_FOUND, NULL);
	if (!page_parse(req, res, &pg))
		return res->status;
	enum err rc = engagement_list_comments(req->app, movie, req->auth.user_id, pg.per_page,
					       pg.offset, &items, &total);
	return page_response(req, res, &pg, rc, &items, total);
}

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	return true;
}

static unsigned h_comment_create(struct http_request *req, struct http_response *res)
{
	json_t *body, *errors = NULL;
	struct validator v;
	long long movie, parent = 0;
	unsigned status;
	if (!http_param_id(req, "id", &movie))
		return http_error(res, ERR_NOT_FOUND, NULL);
	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, (const char *const[]){"text", "parent_id", NULL});
	const char *text = validator_string(&v, "text", V_REQUIRED, 1, COMMENT_MAX_CHARS);
	if (text && blank(text))
		validator_fail(&v, "text", "must not be blank");
	validator_int(&v, "parent_id", V_NULLABLE, 1, MAX_ID, &parent);
	if (!validator_ok(&v)) {
		status = validator_respond(&v, res);
		goto out;
	}
	buf_reset(&res->body);
	enum err rc = engagement_add_comment(req->app, req->auth.user_id, movie, parent, text,
					     &res->body, &errors);
	if (rc == ERR_VALIDATION && errors)
		status = http_validation_error(res, errors);
	else if (rc != ERR_OK)
		status = http_error(res, rc, NULL);
	else
		status = http_json_raw(res, 201);
out:
	validator_clear(&v);
	json_decref(body);
	return status;
}

static unsigned h_comment_like(struct http_request *req, struct http_response *res)
{
	long long comment;
	if (!http_param_id(req, "id", &comment))
		return http_error(res, ERR_NOT_FOUND, NULL);
	return done(res, engagement_like_comment(req->app, req->auth.user_id, comment));
}

static unsigned h_comment_unlike(struct http_request *req, struct http_response *res)
{
	long long comment;
	if (!http_param_id(req, "id", &comment))
		return http_error(res, ERR_NOT_FOUND, NULL);
	return done(res, engagement_unlike_comment(req->app, req->auth.user_id, comment));
}

static unsigned h_comment_delete(struct http_request *req, struct http_response *res)
{
	long long comment;
	if (!http_param_id(req, "id", &comment))
		return http_error(res, ERR_NOT_FOUND, NULL);
	enum err rc = engagement_delete_comment(req->app, req->auth.user_id,
						req->auth.group >= ACCESS_MODERATOR, comment);
	if (rc == ERR_FORBIDDEN)
		return http_error(res, rc,
				  "Only the comment's author or a moderator can delete it.");
	return done(res, rc);
}

/* ---- notifications ---- */

static unsigned h_notifications(struct http_request *req, struct http_response *res)
{
	json_t *errors = json_array();
	struct page pg;
	struct buf items = BUF_INIT;
	long long total = 0;
	page_read(req, errors, &pg);
	const char *unread = http_query(req, "unread");
	if (unread && strcmp(unread, "true") != 0 && strcmp(unread, "false") != 0)
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "unread", "message",
							"must be true or false"));
	if (json_array_size(errors))
		return http_validation_error(res, errors);
	json_decref(errors);
	enum err rc = engagement_list_notifications(req->app, req->auth.user_id, unread,
						    pg.per_page, pg.offset, &items, &total);
	return page_response(req, res, &pg, rc, &items, total);
}

static unsigned h_notification_read(struct http_request *req, struct http_response *res)
{
	long long id;
	if (!http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	return done(res, engagement_read_notification(req->app, req->auth.user_id, id));
}

static unsigned h_notifications_read_all(struct http_request *req, struct http_response *res)
{
	return done(res, engagement_read_all_notifications(req->app, req->auth.user_id));
}

#define BODY	     4096
#define COMMENT_BODY 32768

const struct route engagement_routes[] = {
	{HTTP_PUT, "/api/v1/movies/{id}/reaction", h_reaction_put, ACCESS_USER, BODY, LANE_DB},
	{HTTP_DELETE, "/api/v1/movies/{id}/reaction", h_reaction_delete, ACCESS_USER, 0, LANE_DB},
	{HTTP_PUT, "/api/v1/movies/{id}/rating", h_rating_put, ACCESS_USER, BODY, LANE_DB},
	{HTTP_DELETE, "/api/v1/movies/{id}/rating", h_rating_delete, ACCESS_USER, 0, LANE_DB},
	{HTTP_PUT, "/api/v1/favorites/{movie_id}", h_favorite_put, ACCESS_USER, 0, LANE_DB},
	{HTTP_DELETE, "/api/v1/favorites/{movie_id}", h_favorite_delete, ACCESS_USER, 0, LANE_DB},
	{HTTP_GET, "/api/v1/movies/{id}/comments", h_comments_list, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_POST, "/api/v1/movies/{id}/comments", h_comment_create, ACCESS_USER, COMMENT_BODY,
	 LANE_DB},
	{HTTP_PUT, "/api/v1/comments/{id}/like", h_comment_like, ACCESS_USER, 0, LANE_DB},
	{HTTP_DELETE, "/api/v1/comments/{id}/like", h_comment_unlike, ACCESS_USER, 0, LANE_DB},
	{HTTP_DELETE, "/api/v1/comments/{id}", h_comment_delete, ACCESS_USER, 0, LANE_DB},
	{HTTP_GET, "/api/v1/notifications", h_notifications, ACCESS_USER, 0, LANE_DB},
	{HTTP_POST, "/api/v1/notifications/{id}/read", h_notification_read, ACCESS_USER, 0,
	 LANE_DB},
	{HTTP_POST, "/api/v1/notifications/read-all", h_notifications_read_all, ACCESS_USER, 0,
	 LANE_DB},
	ROUTES_END,
};
