/* The Stripe webhook: signature, then each event applied exactly once.
 *
 * Stripe delivers at least once and retries until it gets a 2xx, so the
 * event id is recorded in stripe_events in the same transaction as the
 * change it causes: a redelivery finds it and changes nothing. Money for
 * an order that will not be fulfilled (canceled, paid already, another
 * amount) is recorded for a refund (settle.c) and answered 200; the refund
 * is asked of Stripe after commit. Only an event that cannot be ours
 * (no or unknown order, another currency) is answered 400 with nothing
 * recorded, so the mismatch stays visible in Stripe's dashboard and in our
 * log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cinema/config.h"
#include "cinema/db.h"
#include "cinema/log.h"
#include "commerce/service.h"
#include "commerce/stripe.h"

/* The parts of an event we use; strings are borrowed from the parsed body. */
struct event {
	const char *id, *type;
	long long order_id; /* client_reference_id or metadata.order_id; 0 if none */
	const char *session_id, *payment_status, *payment_intent;
	int refunded;	      /* charge.refunded: -1 absent, 0 partial, 1 full */
	const json_t *object; /* data.object */
};

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
	struct paid_session ps;
	paid_session_from_json(obj, &ps);
	ev->object = obj;
	ev->order_id = ps.order_id;
	ev->session_id = json_string_value(json_object_get(obj, "id"));
	ev->payment_status = json_string_value(json_object_get(obj, "payment_status"));
	ev->payment_intent = json_string_value(json_object_get(obj, "payment_intent"));
	const json_t *refunded = json_object_get(obj, "refunded");
	ev->refunded = json_is_boolean(refunded) ? json_is_true(refunded) : -1;
	return true;
}

struct event_tx {
	const struct app *app;
	const struct event *ev;
	bool duplicate;
	struct settle_result settled;
	char *detail;
	size_t detail_len;
};

/* checkout.session.completed (paid) and async_payment_succeeded. */
static enum err on_paid(struct db_conn *c, struct event_tx *t)
{
	struct paid_session ps;
	paid_session_from_json(t->ev->object, &ps);
	return settle_paid(c, t->app->cfg, &ps, &t->settled, t->detail, t->detail_len);
}

/* async_payment_failed and expired: the order stays pending, with advice,
 * and forgets the session. */
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
	/* An old session ending says nothing about a newer one. */
	if (o.session_id[0] && ev->session_id && strcmp(o.session_id, ev->session_id))
		return ERR_OK;
	/* Either way the session can take no more money: the order forgets
	 * it, and the next checkout makes a new one. */
	return orders_set_hint(c, o.id, expired ? COMMERCE_HINT_EXPIRED : COMMERCE_HINT_DECLINED,
			       true);
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
	if (rc != ERR_OK || p.status == PAYMENT_REFUNDED || p.status == PAYMENT_CANCELED)
		return rc;
	/* A refund_pending payment only becomes refunded: its order is not
	 * its to cancel. */
	rc = payments_refund(c, &p, NULL);
	if (rc == ERR_OK)
		LOG_INFO(p.status == PAYMENT_SUCCESSFUL ? "order refunded" : "payment refunded",
			 LOG_INT("order_id", p.order_id), LOG_INT("payment_id", p.id),
			 LOG_INT("user_id", p.user_id));
	return rc;
}

static enum err event_fn(struct db_conn *c, void *ctx)
{
	struct event_tx *t = ctx;
	const char *type = t->ev->type;
	bool fresh = false;

	t->duplicate = false; /* a retried run starts over */
	memset(&t->settled, 0, sizeof(t->settled));
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
	out->duplicate = t.duplicate;
	if (rc == ERR_WEBHOOK_MISMATCH)
		LOG_WARN("stripe event does not match our records", LOG_STR("event_id", ev.id),
			 LOG_STR("type", ev.type), LOG_STR("detail", out->detail));
	else if (rc == ERR_OK)
		LOG_INFO("stripe event", LOG_STR("event_id", ev.id), LOG_STR("type", ev.type),
			 LOG_BOOL("duplicate", t.duplicate));
	/* Recorded: the refund (bounded by STRIPE_TIMEOUT_MS) is asked for
	 * now, and retried by the reconciliation job if Stripe fails. */
	if (rc == ERR_OK)
		settle_after_commit(app, &t.settled);
out:
	json_decref(root);
	return rc;
}
