/* Orders (spec section 4) and the Stripe side of paying for them: the
 * Checkout Session and refunds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/config.h"
#include "cinema/db.h"
#include "cinema/log.h"
#include "cinema/mem.h"
#include "commerce/service.h"
#include "commerce/stripe.h"

static enum err with_conn_render(const struct app *app,
				 enum err (*render)(struct db_conn *, long long, long long,
						    struct buf *),
				 long long id, long long user_id, struct buf *out)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = render(c, id, user_id, out);
	db_release(c);
	return rc;
}

/* ---- placing ---- */

struct place_tx {
	long long user_id, order_id;
	struct buf *order;
	json_t *excluded;
};

static enum err place_fn(struct db_conn *c, void *ctx)
{
	struct place_tx *t = ctx;
	struct cart_line *lines = NULL;
	struct buf all = BUF_INIT, orderable = BUF_INIT;
	long long cart_id = 0;
	int n = 0, count = 0;

	buf_reset(t->order); /* a retried run starts over */
	json_array_clear(t->excluded);
	/* The lock serializes placements from one cart (one per user), so the
	 * "already in a pending order" check below cannot race. */
	enum err rc = carts_ensure(c, t->user_id, true, &cart_id);
	if (rc == ERR_OK)
		rc = cart_items_classify(c, cart_id, t->user_id, &lines, &n);
	if (rc != ERR_OK)
		goto out;
	buf_append_char(&all, '{');
	buf_append_char(&orderable, '{');
	for (int i = 0; i < n; i++) {
		buf_printf(&all, "%s%lld", i ? "," : "", lines[i].movie_id);
		if (lines[i].reason) {
			json_array_append_new(t->excluded, json_pack("{s:I,s:s}", "movie_id",
								     (json_int_t)lines[i].movie_id,
								     "reason", lines[i].reason));
			continue;
		}
		buf_printf(&orderable, "%s%lld", count ? "," : "", lines[i].movie_id);
		count++;
	}
	buf_append_char(&all, '}');
	buf_append_char(&orderable, '}');
	if (count == 0) {
		rc = ERR_CART_EMPTY;
		goto out;
	}
	rc = orders_insert(c, t->user_id, orderable.data, &t->order_id);
	/* Excluded lines leave too: owned ones cannot be bought again, and
	 * those in a pending order are bought by paying that order. */
	if (rc == ERR_OK)
		rc = cart_items_remove(c, cart_id, all.data);
	if (rc == ERR_OK)
		rc = orders_render(c, t->order_id, t->user_id, t->order);
out:
	free(lines);
	buf_free(&all);
	buf_free(&orderable);
	return rc;
}

enum err order_place(const struct app *app, long long user_id, struct buf *order, json_t **excluded)
{
	struct place_tx t = {.user_id = user_id, .order = order, .excluded = json_array()};
	enum err rc = db_transaction(app->db, place_fn, &t);
	*excluded = t.excluded;
	if (rc == ERR_OK)
		LOG_INFO("order placed", LOG_INT("user_id", user_id),
			 LOG_INT("order_id", t.order_id),
			 LOG_INT("excluded", (long long)json_array_size(t.excluded)));
	return rc;
}

/* ---- reading ---- */

enum err order_get(const struct app *app, long long user_id, long long id, struct buf *out)
{
	return with_conn_render(app, orders_render, id, user_id, out);
}

enum err order_list(const struct app *app, const struct commerce_filter *f, bool admin,
		    struct buf *items, long long *total)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = orders_list(c, f, admin, items, total);
	db_release(c);
	return rc;
}

/* ---- canceling ---- */

static enum err status_error(enum order_status s)
{
	return s == ORDER_PAID ? ERR_ORDER_PAID : s == ORDER_CANCELED ? ERR_ORDER_CANCELED : ERR_OK;
}

/* How many times a cancel or reprice closes a session and finds another
 * one opened meanwhile before it gives up. */
#define CLOSE_ROUNDS 3

struct cancel_tx {
	long long user_id, id;
	struct buf *out;
	char closed[256];   /* the session closed at Stripe, or "" */
	char to_close[256]; /* out: the session to close first, or "" */
};

static enum err cancel_fn(struct db_conn *c, void *ctx)
{
	struct cancel_tx *t = ctx;
	struct order_row o;
	buf_reset(t->out);
	t->to_close[0] = '\0';
	enum err rc = orders_lock(c, t->id, t->user_id, &o);
	if (rc == ERR_OK)
		rc = status_error(o.status);
	if (rc != ERR_OK)
		return rc;
	if (o.session_id[0] && strcmp(o.session_id, t->closed) != 0) {
		/* Still payable at Stripe: close it first, with no transaction
		 * open, then come back. */
		snprintf(t->to_close, sizeof(t->to_close), "%s", o.session_id);
		return ERR_OK;
	}
	rc = orders_set_status(c, t->id, ORDER_CANCELED);
	if (rc == ERR_OK)
		rc = orders_render(c, t->id, t->user_id, t->out);
	return rc;
}

enum err order_cancel(const struct app *app, long long user_id, long long id, struct buf *out)
{
	struct cancel_tx t = {.user_id = user_id, .id = id, .out = out};
	enum err rc = ERR_CONFLICT;
	for (int round = 0; round < CLOSE_ROUNDS; round++) {
		rc = db_transaction(app->db, cancel_fn, &t);
		if (rc != ERR_OK || !t.to_close[0])
			break;
		/* The session is checked out of the order's lock: if it was paid,
		 * the order is fulfilled now and the next round answers
		 * ERR_ORDER_PAID. */
		rc = checkout_session_close(app, id, t.to_close);
		if (rc != ERR_OK)
			break;
		snprintf(t.closed, sizeof(t.closed), "%s", t.to_close);
		rc = ERR_CONFLICT; /* if every round finds a newer session */
	}
	if (rc == ERR_OK)
		LOG_INFO("order canceled", LOG_INT("user_id", user_id), LOG_INT("order_id", id));
	else if (rc == ERR_ORDER_PAID && t.closed[0])
		LOG_INFO("cancel refused: the checkout was paid meanwhile", LOG_INT("order_id", id),
			 LOG_STR("session_id", t.closed));
	return rc;
}

/* ---- checkout ---- */

void checkout_result_clear(struct checkout_result *r)
{
	free(r->session_id);
	free(r->url);
	memset(r, 0, sizeof(*r));
}

struct prepare_tx {
	long long user_id, id;
	struct order_row o;
	char closed[256];   /* the session closed at Stripe, or "" */
	char to_close[256]; /* out: the session to close before repricing */
	bool changed;
	long long old_cents, new_cents;
	struct order_line *lines;
	int n;
};

static enum err prepare_fn(struct db_conn *c, void *ctx)
{
	struct prepare_tx *t = ctx;
	order_lines_free(t->lines, t->n); /* a retried run starts over */
	t->lines = NULL;
	t->n = 0;
	t->to_close[0] = '\0';
	enum err rc = orders_lock(c, t->id, t->user_id, &t->o);
	if (rc == ERR_OK)
		rc = status_error(t->o.status);
	if (rc == ERR_OK)
		rc = orders_reprice(c, t->id, false, &t->changed, &t->old_cents, &t->new_cents);
	if (rc == ERR_OK && t->changed && t->o.session_id[0] &&
	    strcmp(t->o.session_id, t->closed) != 0) {
		/* The session for the old total must take no money: close it
		 * first, with no transaction open, then come back. */
		snprintf(t->to_close, sizeof(t->to_close), "%s", t->o.session_id);
		return ERR_OK;
	}
	if (rc == ERR_OK && t->changed)
		rc = orders_reprice(c, t->id, true, &t->changed, &t->old_cents, &t->new_cents);
	/* Committed even when prices changed: the order keeps the new ones. */
	if (rc == ERR_OK && !t->changed)
		rc = orders_lines(c, t->id, &t->lines, &t->n);
	return rc;
}

struct session_tx {
	long long id;
	const char *session_id, *url;
	long long expires_at;
};

static enum err session_fn(struct db_conn *c, void *ctx)
{
	struct session_tx *t = ctx;
	struct order_row o;
	bool updated = false;
	enum err rc = orders_lock(c, t->id, 0, &o);
	if (rc == ERR_OK)
		rc = status_error(o.status); /* paid or canceled while we were away */
	if (rc == ERR_OK)
		rc = orders_set_session(c, t->id, t->session_id, t->url, t->expires_at, &updated);
	return rc == ERR_OK && !updated ? ERR_CONFLICT : rc;
}

/* Where Stripe sends the buyer back: the order's page in the front end. */
static void return_url(const struct app *app, struct buf *b, long long id, const char *outcome)
{
	buf_reset(b);
	buf_append_str(b, app->cfg->public_base_url);
	while (b->len && b->data[b->len - 1] == '/')
		b->data[--b->len] = '\0';
	buf_printf(b, "/orders/%lld?checkout=%s", id, outcome);
}

static void checkout_form(const struct app *app, const struct prepare_tx *t, struct buf *form)
{
	struct buf v = BUF_INIT;
	char key[96], num[24];
	stripe_form_add(form, "mode", "payment");
	return_url(app, &v, t->id, "success");
	stripe_form_add(form, "success_url", v.data);
	return_url(app, &v, t->id, "cancel");
	stripe_form_add(form, "cancel_url", v.data);
	snprintf(num, sizeof(num), "%lld", t->id);
	stripe_form_add(form, "client_reference_id", num);
	stripe_form_add(form, "metadata[order_id]", num);
	stripe_form_add(form, "customer_email", t->o.email);
	for (int i = 0; i < t->n; i++) {
		snprintf(key, sizeof(key), "line_items[%d][quantity]", i);
		stripe_form_add(form, key, "1");
		snprintf(key, sizeof(key), "line_items[%d][price_data][currency]", i);
		stripe_form_add(form, key, app->cfg->currency);
		snprintf(key, sizeof(key), "line_items[%d][price_data][unit_amount]", i);
		snprintf(num, sizeof(num), "%lld", t->lines[i].cents);
		stripe_form_add(form, key, num);
		snprintf(key, sizeof(key), "line_items[%d][price_data][product_data][name]", i);
		stripe_form_add(form, key, t->lines[i].name);
	}
	buf_free(&v);
}

enum err order_checkout(const struct app *app, long long user_id, long long id,
			struct checkout_result *out)
{
	struct prepare_tx t = {.user_id = user_id, .id = id};
	struct buf form = BUF_INIT;
	json_t *reply = NULL;
	char key[96];
	enum err rc;

	memset(out, 0, sizeof(*out));
	if (!*app->cfg->stripe_secret_key)
		return ERR_PAYMENTS_NOT_CONFIGURED;
	for (int round = 0;; round++) {
		rc = db_transaction(app->db, prepare_fn, &t);
		if (rc != ERR_OK || !t.to_close[0])
			break;
		rc = round + 1 < CLOSE_ROUNDS ? checkout_session_close(app, id, t.to_close)
					      : ERR_CONFLICT;
		if (rc != ERR_OK)
			break;
		snprintf(t.closed, sizeof(t.closed), "%s", t.to_close);
	}
	if (rc != ERR_OK)
		goto out;
	if (t.changed) {
		money_format(t.new_cents, out->total);
		money_format(t.old_cents, out->old_total);
		LOG_INFO("order repriced before checkout", LOG_INT("order_id", id),
			 LOG_INT("old_cents", t.old_cents), LOG_INT("new_cents", t.new_cents));
		rc = ERR_PRICE_CHANGED;
		goto out;
	}
	money_format(t.o.total_cents, out->total);

	/* No transaction is open and no connection held while Stripe answers.
	 * The key changes with the total, so a repriced order gets a new
	 * session while a retry of the same checkout gets the same one. */
	checkout_form(app, &t, &form);
	snprintf(key, sizeof(key), "checkout-order-%lld-%lld-%d", id, t.o.total_cents,
		 t.o.checkout_attempt);
	rc = stripe_post(app->cfg, "/v1/checkout/sessions", &form, key, &reply);
	if (rc != ERR_OK)
		goto out;
	const char *sid = json_string_value(json_object_get(reply, "id"));
	const char *url = json_string_value(json_object_get(reply, "url"));
	if (!sid || !*sid || !url || !*url || strlen(sid) >= 256) {
		LOG_WARN("stripe checkout session without id or url", LOG_INT("order_id", id));
		rc = ERR_PAYMENT_PROVIDER_ERROR;
		goto out;
	}
	json_t *exp = json_object_get(reply, "expires_at");
	struct session_tx s = {id, sid, url, json_is_integer(exp) ? json_integer_value(exp) : 0};
	rc = db_transaction(app->db, session_fn, &s);
	if (rc == ERR_ORDER_PAID || rc == ERR_ORDER_CANCELED || rc == ERR_CONFLICT) {
		/* Paid or canceled while Stripe made the session: it must take
		 * no money. Should the close fail, a payment through it is
		 * refunded by the webhook. */
		LOG_INFO("checkout session not needed anymore", LOG_INT("order_id", id),
			 LOG_STR("session_id", sid));
		checkout_session_close(app, id, sid);
	}
	if (rc != ERR_OK)
		goto out;
	out->session_id = xstrdup(sid);
	out->url = xstrdup(url);
	LOG_INFO("checkout session created", LOG_INT("order_id", id), LOG_STR("session_id", sid));
out:
	order_lines_free(t.lines, t.n);
	buf_free(&form);
	json_decref(reply);
	return rc;
}

/* ---- refunds ---- */

struct refund_tx {
	long long user_id, id;
	char intent[256];
};

static enum err refund_fn(struct db_conn *c, void *ctx)
{
	struct refund_tx *t = ctx;
	struct order_row o;
	enum err rc = orders_lock(c, t->id, t->user_id, &o);
	if (rc != ERR_OK)
		return rc;
	if (o.status != ORDER_PAID)
		return ERR_ORDER_NOT_PAID;
	rc = payments_intent_of_order(c, t->id, t->intent, sizeof(t->intent));
	if (rc == ERR_NOT_FOUND) {
		/* Paid, but recorded without a PaymentIntent to refund. */
		LOG_ERROR("paid order without a stripe payment", LOG_INT("order_id", t->id));
		rc = ERR_INTERNAL;
	}
	return rc;
}

enum err order_refund(const struct app *app, long long user_id, long long id, struct buf *out)
{
	struct refund_tx t = {.user_id = user_id, .id = id};
	struct buf form = BUF_INIT;
	json_t *reply = NULL;
	char key[64];
	enum err rc;

	if (!*app->cfg->stripe_secret_key)
		return ERR_PAYMENTS_NOT_CONFIGURED;
	/* Only the read is transactional; "paid" is rechecked by the webhook. */
	rc = db_transaction(app->db, refund_fn, &t);
	if (rc != ERR_OK)
		goto out;
	stripe_form_add(&form, "payment_intent", t.intent);
	snprintf(key, sizeof(key), "refund-order-%lld", id);
	rc = stripe_post(app->cfg, "/v1/refunds", &form, key, &reply);
	if (rc != ERR_OK)
		goto out;
	LOG_INFO("refund requested", LOG_INT("order_id", id),
		 LOG_STR("refund_id", json_string_value(json_object_get(reply, "id"))));
	rc = order_get(app, user_id, id, out);
out:
	buf_free(&form);
	json_decref(reply);
	return rc;
}
