#include "commerce/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cinema/page.h"
#include "cinema/validate.h"
#include "commerce/service.h"

#define ID_MAX 999999999999999999LL

/* ---- shared ---- */

/* Actions (place, cancel, checkout, refund) take no body; an empty JSON
 * object is accepted too, anything else is refused. */
static bool no_body(struct http_request *req, struct http_response *res)
{
	static const char *const none[] = {NULL};
	json_t *body;
	struct validator v;
	if (req->body_len == 0)
		return true;
	if (!http_json_body(req, res, &body))
		return false;
	validator_init(&v, body);
	validator_only(&v, none);
	bool ok = validator_ok(&v);
	if (!ok)
		validator_respond(&v, res);
	validator_clear(&v);
	json_decref(body);
	return ok;
}

static void query_error(json_t *errors, const char *field, const char *message)
{
	json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field, "message", message));
}

/* The items of a page, rendered by PostgreSQL, in the envelope. */
static unsigned page_response(struct http_request *req, struct http_response *res,
			      const struct page *pg, enum err rc, struct buf *items,
			      long long total)
{
	if (rc != ERR_OK) {
		buf_free(items);
		return http_error(res, rc, NULL);
	}
	buf_reset(&res->body);
	page_envelope_raw(req, pg, items->data, items->len, total, &res->body);
	buf_free(items);
	return http_json_raw(res, 200);
}

/* res->body already holds JSON from the service on success. */
static unsigned raw_or_error(struct http_response *res, enum err rc, unsigned status)
{
	return rc == ERR_OK ? http_json_raw(res, status) : http_error(res, rc, NULL);
}

/* Wraps the JSON in res->body as {"detail": detail, "<key>": <it>, <more>}:
 * detail NULL leaves it out; more (may be NULL) is further members' text. */
static void wrap_body(struct http_response *res, const char *detail, const char *key,
		      const char *more)
{
	struct buf b = BUF_INIT;
	buf_append_char(&b, '{');
	if (detail) {
		buf_append_str(&b, "\"detail\":\"");
		buf_append_json_escaped(&b, detail, strlen(detail));
		buf_append_str(&b, "\",");
	}
	buf_printf(&b, "\"%s\":", key);
	buf_append(&b, res->body.data, res->body.len);
	if (more)
		buf_printf(&b, ",%s", more);
	buf_append_char(&b, '}');
	buf_free(&res->body);
	res->body = b;
}

/* ---- cart ---- */

static unsigned h_cart_get(struct http_request *req, struct http_response *res)
{
	buf_reset(&res->body);
	return raw_or_error(res, cart_get(req->app, req->auth.user_id, &res->body), 200);
}

static unsigned h_cart_add(struct http_request *req, struct http_response *res)
{
	static const char *const allowed[] = {"movie_id", NULL};
	json_t *body;
	struct validator v;
	long long movie_id = 0;
	unsigned status;
	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, allowed);
	validator_int(&v, "movie_id", V_REQUIRED, 1, ID_MAX, &movie_id);
	if (!validator_ok(&v)) {
		status = validator_respond(&v, res);
		goto out;
	}
	buf_reset(&res->body);
	enum err rc = cart_add_item(req->app, req->auth.user_id, movie_id, &res->body);
	if (rc == ERR_NOT_FOUND)
		status = http_error(res, rc, "No movie with this id.");
	else
		status = raw_or_error(res, rc, 201);
out:
	validator_clear(&v);
	json_decref(body);
	return status;
}

static unsigned h_cart_remove(struct http_request *req, struct http_response *res)
{
	long long movie_id;
	if (!http_param_id(req, "movie_id", &movie_id))
		return http_error(res, ERR_NOT_FOUND, "This movie is not in your cart.");
	enum err rc = cart_remove_item(req->app, req->auth.user_id, movie_id);
	if (rc == ERR_NOT_FOUND)
		return http_error(res, rc, "This movie is not in your cart.");
	return rc == ERR_OK ? http_empty(res, 204) : http_error(res, rc, NULL);
}

static unsigned h_cart_clear(struct http_request *req, struct http_response *res)
{
	enum err rc = cart_clear(req->app, req->auth.user_id);
	return rc == ERR_OK ? http_empty(res, 204) : http_error(res, rc, NULL);
}

/* ---- orders ---- */

static unsigned h_order_place(struct http_request *req, struct http_response *res)
{
	json_t *excluded = NULL;
	if (!no_body(req, res))
		return res->status;
	buf_reset(&res->body);
	enum err rc = order_place(req->app, req->auth.user_id, &res->body, &excluded);
	if (rc == ERR_CART_EMPTY) {
		size_t n = json_array_size(excluded);
		char detail[200];
		if (n)
			snprintf(detail, sizeof(detail),
				 "Nothing in the cart can be ordered: %zu movie%s already bought "
				 "or in another pending order (see excluded).",
				 n, n == 1 ? " is" : "s are");
		else
			snprintf(detail, sizeof(detail), "The cart is empty.");
		return http_json(res, 409,
				 json_pack("{s:s,s:s,s:o}", "detail", detail, "code", err_code(rc),
					   "excluded", excluded));
	}
	if (rc != ERR_OK) {
		json_decref(excluded);
		return http_error(res, rc, NULL);
	}
	struct buf more = BUF_INIT;
	char *ex = json_dumps(excluded, JSON_COMPACT);
	buf_printf(&more, "\"excluded\":%s", ex ? ex : "[]");
	wrap_body(res, NULL, "order", more.data);
	buf_free(&more);
	free(ex);
	json_decref(excluded);
	return http_json_raw(res, 201);
}

static unsigned h_order_list(struct http_request *req, struct http_response *res)
{
	struct page pg;
	struct buf items = BUF_INIT;
	long long total = 0;
	char uid[24];
	if (!page_parse(req, res, &pg))
		return res->status;
	snprintf(uid, sizeof(uid), "%lld", req->auth.user_id);
	struct commerce_filter f = {.user_id = uid, .limit = pg.per_page, .offset = pg.offset};
	enum err rc = order_list(req->app, &f, false, &items, &total);
	return page_response(req, res, &pg, rc, &items, total);
}

static unsigned h_order_get(struct http_request *req, struct http_response *res)
{
	long long id;
	if (!http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	buf_reset(&res->body);
	return raw_or_error(res, order_get(req->app, req->auth.user_id, id, &res->body), 200);
}

static unsigned h_order_cancel(struct http_request *req, struct http_response *res)
{
	long long id;
	if (!http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	if (!no_body(req, res))
		return res->status;
	buf_reset(&res->body);
	enum err rc = order_cancel(req->app, req->auth.user_id, id, &res->body);
	if (rc != ERR_OK)
		return http_error(res, rc, NULL);
	wrap_body(res, NULL, "order", NULL);
	return http_json_raw(res, 200);
}

static unsigned h_order_checkout(struct http_request *req, struct http_response *res)
{
	struct checkout_result r;
	long long id;
	unsigned status;
	if (!http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	if (!no_body(req, res))
		return res->status;
	enum err rc = order_checkout(req->app, req->auth.user_id, id, &r);
	if (rc == ERR_OK) {
		status = http_json(res, 200,
				   json_pack("{s:s,s:s,s:s}", "checkout_url", r.url, "session_id",
					     r.session_id, "total_amount", r.total));
	} else if (rc == ERR_PRICE_CHANGED) {
		char detail[300];
		snprintf(detail, sizeof(detail),
			 "Prices changed since the order was placed: the total was %s and is now "
			 "%s. The order has the current prices; start the checkout again to pay "
			 "them.",
			 r.old_total, r.total);
		status = http_json(res, 409,
				   json_pack("{s:s,s:s,s:s,s:s}", "detail", detail, "code",
					     err_code(rc), "total_amount", r.total,
					     "previous_total_amount", r.old_total));
	} else {
		status = http_error(res, rc, NULL);
	}
	checkout_result_clear(&r);
	return status;
}

static unsigned h_order_refund(struct http_request *req, struct http_response *res)
{
	long long id;
	if (!http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	if (!no_body(req, res))
		return res->status;
	buf_reset(&res->body);
	enum err rc = order_refund(req->app, req->auth.user_id, id, &res->body);
	if (rc != ERR_OK)
		return http_error(res, rc, NULL);
	wrap_body(res,
		  "The refund was requested. The order becomes canceled and the payment "
		  "refunded once Stripe confirms it.",
		  "order", NULL);
	return http_json_raw(res, 202);
}

/* ---- payments ---- */

static bool is_json_type(const char *ct)
{
	static const char prefix[] = "application/json";
	if (!ct || strncasecmp(ct, prefix, sizeof(prefix) - 1) != 0)
		return false;
	char next = ct[sizeof(prefix) - 1];
	return next == '\0' || next == ';' || next == ' ';
}

static unsigned h_webhook(struct http_request *req, struct http_response *res)
{
	struct webhook_result r;
	if (!is_json_type(http_header(req, "Content-Type")))
		return http_error(res, ERR_UNSUPPORTED_MEDIA_TYPE, NULL);
	/* The signature covers the raw bytes: verify before parsing anything. */
	enum err rc = webhook_receive(req->app, http_header(req, "Stripe-Signature"), req->body,
				      req->body_len, &r);
	if (rc != ERR_OK)
		return http_error(res, rc, r.detail[0] ? r.detail : NULL);
	return http_json(res, 200,
			 r.duplicate ? json_pack("{s:b,s:b}", "received", 1, "duplicate", 1)
				     : json_pack("{s:b}", "received", 1));
}

static unsigned h_payment_list(struct http_request *req, struct http_response *res)
{
	struct page pg;
	struct buf items = BUF_INIT;
	long long total = 0;
	char uid[24];
	if (!page_parse(req, res, &pg))
		return res->status;
	snprintf(uid, sizeof(uid), "%lld", req->auth.user_id);
	struct commerce_filter f = {.user_id = uid, .limit = pg.per_page, .offset = pg.offset};
	enum err rc = payment_list(req->app, &f, false, &items, &total);
	return page_response(req, res, &pg, rc, &items, total);
}

static unsigned h_payment_get(struct http_request *req, struct http_response *res)
{
	long long id;
	if (!http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	buf_reset(&res->body);
	return raw_or_error(res, payment_get(req->app, req->auth.user_id, id, &res->body), 200);
}

/* ---- moderators ---- */

/* A calendar date written YYYY-MM-DD. */
static bool is_date(const char *s)
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	return !(m == 2 && d == 29 && !leap);
}

/* Reads page, per_page, user_id and (with statuses) status, date_from and
 * date_to; on a bad value answers 422 naming every bad parameter. */
static bool admin_filter(struct http_request *req, struct http_response *res,
			 const char *const *statuses, const char *status_msg,
			 struct commerce_filter *f, struct page *pg)
{
	json_t *errors = json_array();
	long long id;
	memset(f, 0, sizeof(*f));
	page_read(req, errors, pg);
	f->limit = pg->per_page;
	f->offset = pg->offset;
	f->user_id = http_query(req, "user_id");
	if (f->user_id && !parse_ll(f->user_id, 1, ID_MAX, &id))
		query_error(errors, "user_id", "must be a positive whole number");
	if (statuses) {
		f->status = http_query(req, "status");
		bool known = !f->status;
		for (int i = 0; f->status && statuses[i]; i++)
			known |= strcmp(f->status, statuses[i]) == 0;
		if (!known)
			query_error(errors, "status", status_msg);
		f->date_from = http_query(req, "date_from");
		f->date_to = http_query(req, "date_to");
		if (f->date_from && !is_date(f->date_from))
			query_error(errors, "date_from", "must be a date written YYYY-MM-DD");
		if (f->date_to && !is_date(f->date_to))
			query_error(errors, "date_to", "must be a date written YYYY-MM-DD");
		else if (f->date_from && f->date_to && is_date(f->date_from) &&
			 strcmp(f->date_from, f->date_to) > 0)
			query_error(errors, "date_to", "must not be before date_from");
	}
	if (json_array_size(errors)) {
		http_validation_error(res, errors);
		return false;
	}
	json_decref(errors);
	return true;
}

static unsigned h_admin_carts(struct http_request *req, struct http_response *res)
{
	struct commerce_filter f;
	struct page pg;
	struct buf items = BUF_INIT;
	long long total = 0;
	if (!admin_filter(req, res, NULL, NULL, &f, &pg))
		return res->status;
	enum err rc = cart_admin_list(req->app, f.user_id, &pg, &items, &total);
	return page_response(req, res, &pg, rc, &items, total);
}

static unsigned h_admin_orders(struct http_request *req, struct http_response *res)
{
	static const char *const statuses[] = {"pending", "paid", "canceled", NULL};
	struct commerce_filter f;
	struct page pg;
	struct buf items = BUF_INIT;
	long long total = 0;
	if (!admin_filter(req, res, statuses, "must be pending, paid or canceled", &f, &pg))
		return res->status;
	enum err rc = order_list(req->app, &f, true, &items, &total);
	return page_response(req, res, &pg, rc, &items, total);
}

static unsigned h_admin_payments(struct http_request *req, struct http_response *res)
{
	static const char *const statuses[] = {"successful", "canceled", "refunded",
					       "refund_pending", NULL};
	struct commerce_filter f;
	struct page pg;
	struct buf items = BUF_INIT;
	long long total = 0;
	if (!admin_filter(req, res, statuses,
			  "must be successful, canceled, refunded or refund_pending", &f, &pg))
		return res->status;
	enum err rc = payment_list(req->app, &f, true, &items, &total);
	return page_response(req, res, &pg, rc, &items, total);
}

#define SMALL_BODY   1024
#define WEBHOOK_BODY 65536 /* Stripe's events are a few KiB */

const struct route commerce_routes[] = {
	{HTTP_GET, "/api/v1/cart", h_cart_get, ACCESS_USER, 0, LANE_DB},
	{HTTP_DELETE, "/api/v1/cart", h_cart_clear, ACCESS_USER, 0, LANE_DB},
	{HTTP_POST, "/api/v1/cart/items", h_cart_add, ACCESS_USER, SMALL_BODY, LANE_DB},
	{HTTP_DELETE, "/api/v1/cart/items/{movie_id}", h_cart_remove, ACCESS_USER, 0, LANE_DB},
	{HTTP_POST, "/api/v1/orders", h_order_place, ACCESS_USER, SMALL_BODY, LANE_DB},
	{HTTP_GET, "/api/v1/orders", h_order_list, ACCESS_USER, 0, LANE_DB},
	{HTTP_GET, "/api/v1/orders/{id}", h_order_get, ACCESS_USER, 0, LANE_DB},
	{HTTP_POST, "/api/v1/orders/{id}/cancel", h_order_cancel, ACCESS_USER, SMALL_BODY,
	 LANE_STRIPE},
	{HTTP_POST, "/api/v1/orders/{id}/checkout", h_order_checkout, ACCESS_USER, SMALL_BODY,
	 LANE_STRIPE},
	{HTTP_POST, "/api/v1/orders/{id}/refund", h_order_refund, ACCESS_USER, SMALL_BODY,
	 LANE_STRIPE},
	{HTTP_POST, "/api/v1/payments/webhook", h_webhook, ACCESS_OWN_AUTH, WEBHOOK_BODY, LANE_DB},
	{HTTP_GET, "/api/v1/payments", h_payment_list, ACCESS_USER, 0, LANE_DB},
	{HTTP_GET, "/api/v1/payments/{id}", h_payment_get, ACCESS_USER, 0, LANE_DB},
	{HTTP_GET, "/api/v1/admin/carts", h_admin_carts, ACCESS_MODERATOR, 0, LANE_DB},
	{HTTP_GET, "/api/v1/admin/orders", h_admin_orders, ACCESS_MODERATOR, 0, LANE_DB},
	{HTTP_GET, "/api/v1/admin/payments", h_admin_payments, ACCESS_MODERATOR, 0, LANE_DB},
	ROUTES_END,
};
