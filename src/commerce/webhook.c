/* The Stripe webhook: signature, then each event applied exactly once.
 *
 * Stripe delivers at least once and retries until it gets a 2xx, so the
 * event id is recorded in stripe_events in the same transaction as the
 * change it causes: a redelivery finds it and changes nothing. An event
 * that contradicts our records (unknown order, other amount or currency)
 * is answered 400 with nothing recorded, so Stripe keeps retrying and the
 * mismatch stays visible in its dashboard and in our log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cinema/config.h"
#include "cinema/db.h"
#include "cinema/jobs.h"
#include "cinema/log.h"
#include "commerce/service.h"
#include "commerce/stripe.h"

#define HINT_DECLINED "Your payment was declined. Try a different payment method."
#define HINT_EXPIRED  "The checkout session expired. Start the checkout again."

/* The parts of an event we use; strings are borrowed from the parsed body. */
struct event {
	const char *id, *type;
	long long order_id; /* client_reference_id or metadata.order_id; 0 if none */
	const char *session_id, *payment_status, *currency, *payment_intent;
	long long amount_total;
	bool has_amount;
	int refunded; /* charge.refunded: -1 absent, 0 partial, 1 full */
};

static long long id_value(const json_t *v)
{
	long long id = 0;
	if (json_is_integer(v) && json_integer_value(v) > 0)
		return json_integer_value(v);
	if (!json_is_string(v) || !parse_ll(json_string_value(v), 1, 999999999999999999LL, &id))
		return 0;
	return id;
}

static bool event_parse(const json_t *root, struct event *ev, char *detail, size_t detail_len)
{
	const json_t *obj = json_object_get(json_object_get(root, "data"), "object");
	memset(ev, 0, sizeof(*ev));
	ev->id = json_string_value(json_object_get(root, "id"));
	ev->type = json_string_value(json_object_get(root, "type"));
	if (!ev->id || !*ev->id || strlen(ev->id) > 255 || !ev->type || !*ev->type ||
	    strlen(ev->type) > 255 || !json_is_object(obj)) {
		snprintf(detail, detail_len,
			 "The body is not a Stripe event: it needs id, type and data.object.");
		return false;
	}
	ev->order_id = id_value(json_object_get(obj, "client_reference_id"));
	if (!ev->order_id)
		ev->order_id =
			id_value(json_object_get(json_object_get(obj, "metadata"), "order_id"));
	ev->session_id = json_string_value(json_object_get(obj, "id"));
	ev->payment_status = json_string_value(json_object_get(obj, "payment_status"));
	ev->currency = json_string_value(json_object_get(obj, "currency"));
	ev->payment_intent = json_string_value(json_object_get(obj, "payment_intent"));
	const json_t *amount = json_object_get(obj, "amount_total");
	ev->has_amount = json_is_integer(amount);
	ev->amount_total = ev->has_amount ? json_integer_value(amount) : 0;
	const json_t *refunded = json_object_get(obj, "refunded");
	ev->refunded = json_is_boolean(refunded) ? json_is_true(refunded) : -1;
	return true;
}

struct event_tx {
	const struct app *app;
	const struct event *ev;
	bool duplicate;
	long long job_id;
	char *detail;
	size_t detail_len;
};

/* checkout.session.completed (paid) and async_payment_succeeded. */
static enum err on_paid(struct db_conn *c, struct event_tx *t)
{
	const struct event *ev = t->ev;
	struct order_row o;
	struct buf lines = BUF_INIT;
	char total[24];
	long long payment_id = 0;

	if (!ev->order_id) {
		snprintf(t->detail, t->detail_len,
			 "The session names no order (client_reference_id or metadata.order_id).");
		return ERR_WEBHOOK_MISMATCH;
	}
	enum err rc = orders_lock(c, ev->order_id, 0, &o);
	if (rc == ERR_NOT_FOUND) {
		snprintf(t->detail, t->detail_len, "Order %lld does not exist.", ev->order_id);
		return ERR_WEBHOOK_MISMATCH;
	}
	if (rc != ERR_OK)
		return rc;
	if (o.status != ORDER_PENDING) {
		/* Already paid (e.g. completed, then async_payment_succeeded), or
		 * canceled while its session stayed open: money taken for an
		 * order we will not deliver needs a refund by hand. */
		if (o.status == ORDER_PAID)
			LOG_WARN("stripe payment for an order already paid",
				 LOG_INT("order_id", o.id), LOG_STR("event_id", ev->id));
		else
			LOG_ERROR("stripe payment for a canceled order; refund it by hand",
				  LOG_INT("order_id", o.id), LOG_STR("event_id", ev->id),
				  LOG_STR("payment_intent", ev->payment_intent));
		return ERR_OK;
	}
	if (!ev->has_amount || ev->amount_total != o.total_cents) {
		snprintf(t->detail, t->detail_len,
			 "The amount paid (%lld cents) does not match the total of order %lld "
			 "(%lld cents).",
			 ev->amount_total, o.id, o.total_cents);
		return ERR_WEBHOOK_MISMATCH;
	}
	if (!ev->currency || strcasecmp(ev->currency, t->app->cfg->currency) != 0) {
		snprintf(t->detail, t->detail_len,
			 "The currency paid (%.8s) is not the currency of order %lld (%s).",
			 ev->currency ? ev->currency : "none", o.id, t->app->cfg->currency);
		return ERR_WEBHOOK_MISMATCH;
	}
	rc = payments_fulfil(c, o.id, ev->payment_intent, &payment_id);
	if (rc == ERR_OK)
		rc = payments_email_lines(c, o.id, &lines, total);
	if (rc == ERR_OK) {
		json_t *payload = json_pack("{s:I,s:s,s:s}", "order_id", (json_int_t)o.id, "total",
					    total, "items", lines.data ? lines.data : "");
		rc = email_job_enqueue(c, EMAIL_PAYMENT_CONFIRMATION, o.email, payload, &t->job_id);
		json_decref(payload);
	}
	buf_free(&lines);
	if (rc == ERR_OK)
		LOG_INFO("order paid", LOG_INT("order_id", o.id), LOG_INT("payment_id", payment_id),
			 LOG_INT("user_id", o.user_id));
	return rc;
}

/* async_payment_failed and expired: the order stays pending, with advice. */
static enum err on_unpaid(struct db_conn *c, struct event_tx *t, bool expired)
{
	const struct event *ev = t->ev;
	struct order_row o;
	enum err rc = ev->order_id ? orders_lock(c, ev->order_id, 0, &o) : ERR_NOT_FOUND;
	if (rc == ERR_NOT_FOUND) {
		LOG_WARN("stripe session event for an unknown order", LOG_STR("event_id", ev->id),
			 LOG_INT("order_id", ev->order_id));
		return ERR_OK;
	}
	if (rc != ERR_OK || o.status != ORDER_PENDING)
		return rc;
	/* An old session expiring says nothing about a newer one. */
	if (expired && o.session_id[0] && ev->session_id && strcmp(o.session_id, ev->session_id))
		return ERR_OK;
	return orders_set_hint(c, o.id, expired ? HINT_EXPIRED : HINT_DECLINED, expired);
}

static enum err on_refunded(struct db_conn *c, struct event_tx *t)
{
	const struct event *ev = t->ev;
	struct payment_row p;
	if (ev->refunded == 0) {
		LOG_INFO("partial refund ignored: the order stays paid",
			 LOG_STR("event_id", ev->id));
		return ERR_OK;
	}
	enum err rc = ev->payment_intent ? payments_lock_by_intent(c, ev->payment_intent, &p)
					 : ERR_NOT_FOUND;
	if (rc == ERR_NOT_FOUND) {
		LOG_WARN("refund of an unknown payment", LOG_STR("event_id", ev->id),
			 LOG_STR("payment_intent", ev->payment_intent));
		return ERR_OK;
	}
	if (rc != ERR_OK || p.refunded)
		return rc;
	rc = payments_refund(c, &p);
	if (rc == ERR_OK)
		LOG_INFO("order refunded", LOG_INT("order_id", p.order_id),
			 LOG_INT("payment_id", p.id), LOG_INT("user_id", p.user_id));
	return rc;
}

static enum err event_fn(struct db_conn *c, void *ctx)
{
	struct event_tx *t = ctx;
	const char *type = t->ev->type;
	bool fresh = false;

	t->duplicate = false; /* a retried run starts over */
	t->job_id = 0;
	t->detail[0] = '\0';
	enum err rc = stripe_events_insert(c, t->ev->id, type, &fresh);
	if (rc != ERR_OK)
		return rc;
	if (!fresh) {
		t->duplicate = true;
		return ERR_OK;
	}
	if (strcmp(type, "checkout.session.completed") == 0) {
		const char *ps = t->ev->payment_status;
		/* "unpaid": a delayed method (bank debit); async_payment_* follows. */
		if (ps && (strcmp(ps, "paid") == 0 || strcmp(ps, "no_payment_required") == 0))
			return on_paid(c, t);
		return ERR_OK;
	}
	if (strcmp(type, "checkout.session.async_payment_succeeded") == 0)
		return on_paid(c, t);
	if (strcmp(type, "checkout.session.async_payment_failed") == 0)
		return on_unpaid(c, t, false);
	if (strcmp(type, "checkout.session.expired") == 0)
		return on_unpaid(c, t, true);
	if (strcmp(type, "charge.refunded") == 0)
		return on_refunded(c, t);
	return ERR_OK; /* recorded, nothing else to do */
}

enum err webhook_receive(const struct app *app, const char *signature, const char *body, size_t len,
			 struct webhook_result *out)
{
	struct event ev;
	json_t *root = NULL;
	enum err rc;

	memset(out, 0, sizeof(*out));
	if (!*app->cfg->stripe_webhook_secret)
		return ERR_PAYMENTS_NOT_CONFIGURED;
	rc = stripe_signature_verify(signature, body, len, app->cfg->stripe_webhook_secret,
				     time(NULL), STRIPE_WEBHOOK_TOLERANCE_S);
	if (rc != ERR_OK) {
		LOG_WARN("stripe webhook refused", LOG_STR("code", err_code(rc)));
		return rc;
	}
	root = json_loadb(body, len, 0, NULL);
	if (!json_is_object(root) || !event_parse(root, &ev, out->detail, sizeof(out->detail))) {
		if (!out->detail[0])
			snprintf(out->detail, sizeof(out->detail),
				 "The body is not a JSON object.");
		rc = ERR_BAD_REQUEST;
		goto out;
	}
	struct event_tx t = {
		.app = app, .ev = &ev, .detail = out->detail, .detail_len = sizeof(out->detail)};
	rc = db_transaction(app->db, event_fn, &t);
	if (rc == ERR_OK && t.job_id)
		email_job_announce(app->kv, app->cfg->email_queue_key, t.job_id);
	out->duplicate = t.duplicate;
	if (rc == ERR_WEBHOOK_MISMATCH)
		LOG_WARN("stripe event does not match our records", LOG_STR("event_id", ev.id),
			 LOG_STR("type", ev.type), LOG_STR("detail", out->detail));
	else if (rc == ERR_OK)
		LOG_INFO("stripe event", LOG_STR("event_id", ev.id), LOG_STR("type", ev.type),
			 LOG_BOOL("duplicate", t.duplicate));
out:
	json_decref(root);
	return rc;
}
