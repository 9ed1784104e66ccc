/* The payment state machine (service.h, "settling Checkout Sessions"):
 * money Stripe took through a Checkout Session either pays its order or is
 * recorded and refunded; a session is closed at Stripe before its order is
 * canceled or repriced; the reconciliation job settles what no webhook
 * did. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cinema/config.h"
#include "cinema/db.h"
#include "cinema/jobs.h"
#include "cinema/log.h"
#include "commerce/service.h"
#include "commerce/stripe.h"

#define RECONCILE_BATCH 100 /* sessions, and refunds, per run */

/* ---- recording the money ---- */

static long long id_value(const json_t *v)
{
	long long id = 0;
	if (json_is_integer(v) && json_integer_value(v) > 0)
		return json_integer_value(v);
	if (!json_is_string(v) || !parse_ll(json_string_value(v), 1, 999999999999999999LL, &id))
		return 0;
	return id;
}

void paid_session_from_json(const json_t *obj, struct paid_session *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->order_id = id_value(json_object_get(obj, "client_reference_id"));
	if (!ps->order_id)
		ps->order_id =
			id_value(json_object_get(json_object_get(obj, "metadata"), "order_id"));
	ps->session_id = json_string_value(json_object_get(obj, "id"));
	ps->payment_intent = json_string_value(json_object_get(obj, "payment_intent"));
	ps->currency = json_string_value(json_object_get(obj, "currency"));
	const json_t *amount = json_object_get(obj, "amount_total");
	ps->has_amount = json_is_integer(amount);
	ps->amount_total = ps->has_amount ? json_integer_value(amount) : 0;
}

static const char *refund_reason_text(const char *reason)
{
	if (strcmp(reason, "order_canceled") == 0)
		return "the order was canceled before the payment arrived";
	if (strcmp(reason, "order_already_paid") == 0)
		return "the order had already been paid through another checkout";
	return "the amount paid did not match the order's current total";
}

static enum err record_refund_due(struct db_conn *c, const struct order_row *o,
				  const struct paid_session *ps, const char *reason,
				  struct settle_result *out)
{
	char amount[MONEY_TEXT_MAX];
	enum err rc = payments_insert_refund_due(c, o->id, ps->amount_total, ps->payment_intent,
						 ps->session_id, reason, &out->payment_id);
	if (rc != ERR_OK)
		return rc;
	money_format(ps->amount_total, amount);
	json_t *payload = json_pack("{s:I,s:s,s:s}", "order_id", (json_int_t)o->id, "amount",
				    amount, "reason", refund_reason_text(reason));
	rc = email_job_enqueue(c, EMAIL_PAYMENT_REFUND, o->email, payload, &out->job_id);
	json_decref(payload);
	if (rc != ERR_OK)
		return rc;
	out->outcome = SETTLE_REFUND;
	LOG_WARN("payment for an order that will not be fulfilled; refunding it",
		 LOG_INT("order_id", o->id), LOG_INT("payment_id", out->payment_id),
		 LOG_STR("reason", reason), LOG_STR("session_id", ps->session_id));
	return ERR_OK;
}

static enum err fulfil(struct db_conn *c, const struct order_row *o, const struct paid_session *ps,
		       struct settle_result *out)
{
	struct buf lines = BUF_INIT;
	char total[24];
	enum err rc =
		payments_fulfil(c, o->id, ps->payment_intent, ps->session_id, &out->payment_id);
	if (rc == ERR_OK)
		rc = payments_email_lines(c, o->id, &lines, total);
	if (rc == ERR_OK) {
		json_t *payload = json_pack("{s:I,s:s,s:s}", "order_id", (json_int_t)o->id, "total",
					    total, "items", lines.data ? lines.data : "");
		rc = email_job_enqueue(c, EMAIL_PAYMENT_CONFIRMATION, o->email, payload,
				       &out->job_id);
		json_decref(payload);
	}
	buf_free(&lines);
	if (rc == ERR_OK) {
		out->outcome = SETTLE_FULFILLED;
		LOG_INFO("order paid", LOG_INT("order_id", o->id),
			 LOG_INT("payment_id", out->payment_id), LOG_INT("user_id", o->user_id));
	}
	return rc;
}

enum err settle_paid(struct db_conn *c, const struct config *cfg, const struct paid_session *ps,
		     struct settle_result *out, char *detail, size_t detail_len)
{
	struct order_row o;
	struct payment_row p;

	memset(out, 0, sizeof(*out));
	out->order_id = ps->order_id;
	if (!ps->order_id) {
		snprintf(detail, detail_len,
			 "The session names no order (client_reference_id or metadata.order_id).");
		return ERR_WEBHOOK_MISMATCH;
	}
	enum err rc = orders_lock(c, ps->order_id, 0, &o);
	if (rc == ERR_NOT_FOUND) {
		snprintf(detail, detail_len, "Order %lld does not exist.", ps->order_id);
		return ERR_WEBHOOK_MISMATCH;
	}
	if (rc != ERR_OK)
		return rc;
	/* Under the order's lock: one record per PaymentIntent or session,
	 * whoever (webhook, cancel, job) brings the news first. */
	rc = payments_lock_by_source(c, ps->payment_intent, ps->session_id, &p);
	if (rc == ERR_OK) {
		out->outcome = SETTLE_KNOWN;
		out->payment_id = p.id;
		return ERR_OK;
	}
	if (rc != ERR_NOT_FOUND)
		return rc;
	if (!ps->has_amount || ps->amount_total < 0) {
		snprintf(detail, detail_len, "The session of order %lld has no amount_total.",
			 o.id);
		return ERR_WEBHOOK_MISMATCH;
	}
	if (!ps->currency || strcasecmp(ps->currency, cfg->currency) != 0) {
		snprintf(detail, detail_len,
			 "The currency paid (%.8s) is not the currency of order %lld (%s).",
			 ps->currency ? ps->currency : "none", o.id, cfg->currency);
		return ERR_WEBHOOK_MISMATCH;
	}
	if (o.status == ORDER_CANCELED)
		return record_refund_due(c, &o, ps, "order_canceled", out);
	if (o.status == ORDER_PAID)
		return record_refund_due(c, &o, ps, "order_already_paid", out);
	if (ps->amount_total == o.total_cents)
		return fulfil(c, &o, ps, out);
	rc = record_refund_due(c, &o, ps, "amount_mismatch", out);
	/* The order stays pending; the session that took the wrong amount
	 * can take nothing more, so the next checkout makes a new one. */
	if (rc == ERR_OK && ps->session_id && strcmp(o.session_id, ps->session_id) == 0)
		rc = orders_set_hint(c, o.id, COMMERCE_HINT_MISMATCH, true);
	return rc;
}

void settle_after_commit(const struct app *app, const struct settle_result *r)
{
	if (r->job_id)
		email_job_announce(app->kv, app->cfg->email_queue_key, r->job_id);
	/* A refund is asked of Stripe by the scheduler (payments_refund_new),
	 * not here: the webhook's worker waits on nothing but the database. */
	if (r->outcome == SETTLE_REFUND)
		LOG_INFO("automatic refund recorded", LOG_INT("order_id", r->order_id),
			 LOG_INT("payment_id", r->payment_id));
}

/* ---- automatic refunds ---- */

struct refund_begin_tx {
	long long id; /* 0: the oldest never attempted (payments_refund_new) */
	struct payment_row p;
	bool begun;
};

static enum err refund_begin_fn(struct db_conn *c, void *ctx)
{
	struct refund_begin_tx *t = ctx;
	t->begun = false;
	if (t->id == 0) {
		long long id = 0;
		enum err rc = payments_refund_next_new(c, &id);
		if (rc != ERR_OK)
			return rc;
		return payments_refund_begin(c, id, &t->p, &t->begun);
	}
	return payments_refund_begin(c, t->id, &t->p, &t->begun);
}

struct refund_done_tx {
	long long id;
	const char *refund_id; /* NULL: the attempt failed */
	const char *error;
};

static enum err refund_done_fn(struct db_conn *c, void *ctx)
{
	struct refund_done_tx *t = ctx;
	struct payment_row p;
	enum err rc = payments_lock(c, t->id, &p);
	if (rc != ERR_OK || p.status != PAYMENT_REFUND_PENDING)
		return rc; /* a charge.refunded event got there first */
	if (!t->refund_id && t->error)
		return payments_refund_failed(c, t->id, t->error);
	return payments_refund(c, &p, t->refund_id[0] ? t->refund_id : NULL);
}

/* The PaymentIntent of a session, read from Stripe, into out. */
static enum err session_intent(const struct app *app, const char *session_id, char *out, size_t len)
{
	char path[320];
	json_t *s = NULL;
	snprintf(path, sizeof(path), "/v1/checkout/sessions/%s", session_id);
	enum err rc = stripe_request(app->cfg, "GET", path, NULL, NULL, &s, NULL);
	const char *pi = json_string_value(json_object_get(s, "payment_intent"));
	if (rc == ERR_OK && (!pi || !*pi))
		rc = ERR_PAYMENT_PROVIDER_ERROR;
	if (rc == ERR_OK)
		snprintf(out, len, "%s", pi);
	json_decref(s);
	return rc;
}

/* Asks Stripe to refund payment p (its attempt counted), then records the
 * outcome. */
static enum err refund_run(const struct app *app, struct payment_row *p)
{
	struct stripe_refusal why = {0};
	struct buf form = BUF_INIT;
	json_t *reply = NULL;
	char key[320], pid[24], error[128] = "";
	enum err rc = ERR_OK;

	if (!p->intent[0] && p->session_id[0])
		rc = session_intent(app, p->session_id, p->intent, sizeof(p->intent));
	else if (!p->intent[0])
		rc = ERR_INTERNAL; /* recorded with neither: nothing to refund by */
	if (rc == ERR_OK) {
		commerce_ll_str(pid, p->id);
		stripe_form_add(&form, "payment_intent", p->intent);
		stripe_form_add(&form, "metadata[payment_id]", pid);
		/* The same money always gets the same key: a retry (or a second
		 * process) gets Stripe's first answer, never a second refund. */
		snprintf(key, sizeof(key), "auto-refund-%s",
			 p->session_id[0] ? p->session_id : p->intent);
		rc = stripe_request(app->cfg, "POST", "/v1/refunds", &form, key, &reply, &why);
	}
	struct refund_done_tx d = {.id = p->id};
	if (rc == ERR_OK) {
		d.refund_id = json_string_value(json_object_get(reply, "id"));
		if (!d.refund_id)
			d.refund_id = "";
	} else if (rc == ERR_PAYMENT_PROVIDER_ERROR &&
		   strcmp(why.code, "charge_already_refunded") == 0) {
		d.refund_id = ""; /* refunded before, e.g. past the key's lifetime */
	} else {
		snprintf(error, sizeof(error), "%s%s%s", err_code(rc),
			 rc == ERR_PAYMENT_PROVIDER_ERROR && why.code[0] ? ": " : "",
			 rc == ERR_PAYMENT_PROVIDER_ERROR ? why.code : "");
		d.error = error;
	}
	enum err saved = db_transaction(app->db, refund_done_fn, &d);
	if (d.refund_id)
		LOG_INFO("automatic refund accepted", LOG_INT("payment_id", p->id),
			 LOG_INT("order_id", p->order_id), LOG_STR("refund_id", d.refund_id));
	else
		LOG_WARN("automatic refund failed; the reconciliation job retries it",
			 LOG_INT("payment_id", p->id), LOG_INT("order_id", p->order_id),
			 LOG_STR("error", error));
	buf_free(&form);
	json_decref(reply);
	return d.refund_id ? saved : rc;
}

enum err payment_refund_attempt(const struct app *app, long long payment_id)
{
	struct refund_begin_tx t = {.id = payment_id};
	if (!*app->cfg->stripe_secret_key)
		return ERR_PAYMENTS_NOT_CONFIGURED;
	enum err rc = db_transaction(app->db, refund_begin_fn, &t);
	if (rc != ERR_OK || !t.begun)
		return rc;
	return refund_run(app, &t.p);
}

enum err payments_refund_new(const struct app *app, int max, int *tried)
{
	*tried = 0;
	if (!*app->cfg->stripe_secret_key)
		return ERR_PAYMENTS_NOT_CONFIGURED;
	for (int i = 0; i < max; i++) {
		/* Claimed (its attempt counted) in one short transaction, so two
		 * schedulers never ask for the same new refund at once. */
		struct refund_begin_tx t = {.id = 0};
		enum err rc = db_transaction(app->db, refund_begin_fn, &t);
		if (rc == ERR_NOT_FOUND)
			return ERR_OK;
		if (rc != ERR_OK)
			return rc;
		if (!t.begun)
			continue;
		(*tried)++;
		/* A failure is retried by payments_reconcile. Stripe unreachable:
		 * the others would wait as long each; they wait for the job. */
		if (refund_run(app, &t.p) == ERR_PAYMENT_PROVIDER_UNAVAILABLE)
			return ERR_PAYMENT_PROVIDER_UNAVAILABLE;
	}
	return ERR_OK;
}

/* ---- closing and reading back sessions ---- */

struct settle_tx {
	const struct config *cfg;
	const struct paid_session *ps;
	struct settle_result r;
	char detail[256];
};

static enum err settle_fn(struct db_conn *c, void *ctx)
{
	struct settle_tx *t = ctx;
	return settle_paid(c, t->cfg, t->ps, &t->r, t->detail, sizeof(t->detail));
}

struct expired_tx {
	long long order_id;
	const char *session_id;
	bool changed;
};

/* What checkout.session.expired does, when Stripe says so another way. */
static enum err expired_fn(struct db_conn *c, void *ctx)
{
	struct expired_tx *t = ctx;
	struct order_row o;
	t->changed = false;
	enum err rc = orders_lock(c, t->order_id, 0, &o);
	if (rc != ERR_OK || o.status != ORDER_PENDING || strcmp(o.session_id, t->session_id) != 0)
		return rc;
	t->changed = true;
	return orders_set_hint(c, o.id, COMMERCE_HINT_EXPIRED, true);
}

enum session_state { SESSION_OPEN, SESSION_PAID, SESSION_EXPIRED, SESSION_IN_PROGRESS };

/* Applies what Stripe says of a session (its object) to order_id: money
 * is settled, an expiry recorded. *state tells which. */
static enum err session_apply(const struct app *app, long long order_id, const char *session_id,
			      const json_t *s, enum session_state *state)
{
	const char *status = json_string_value(json_object_get(s, "status"));
	const char *paid = json_string_value(json_object_get(s, "payment_status"));
	*state = SESSION_OPEN;
	if (status && strcmp(status, "expired") == 0) {
		struct expired_tx t = {order_id, session_id, false};
		*state = SESSION_EXPIRED;
		enum err rc = db_transaction(app->db, expired_fn, &t);
		if (rc == ERR_OK && t.changed)
			LOG_INFO("checkout session expired", LOG_INT("order_id", order_id),
				 LOG_STR("session_id", session_id));
		return rc;
	}
	if (!status || strcmp(status, "complete") != 0)
		return ERR_OK;
	if (!paid || (strcmp(paid, "paid") != 0 && strcmp(paid, "no_payment_required") != 0)) {
		*state = SESSION_IN_PROGRESS;
		return ERR_OK;
	}
	struct paid_session ps;
	paid_session_from_json(s, &ps);
	if (!ps.session_id)
		ps.session_id = session_id;
	if (!ps.order_id)
		ps.order_id = order_id;
	struct settle_tx t = {.cfg = app->cfg, .ps = &ps};
	*state = SESSION_PAID;
	enum err rc = db_transaction(app->db, settle_fn, &t);
	if (rc == ERR_WEBHOOK_MISMATCH) {
		LOG_ERROR("stripe session does not match our records",
			  LOG_INT("order_id", order_id), LOG_STR("session_id", session_id),
			  LOG_STR("detail", t.detail));
		return ERR_PAYMENT_PROVIDER_ERROR;
	}
	if (rc == ERR_OK)
		settle_after_commit(app, &t.r);
	return rc;
}

static enum err session_read(const struct app *app, const char *session_id, json_t **s)
{
	char path[320];
	snprintf(path, sizeof(path), "/v1/checkout/sessions/%s", session_id);
	return stripe_request(app->cfg, "GET", path, NULL, NULL, s, NULL);
}

enum err checkout_session_close(const struct app *app, long long order_id, const char *session_id)
{
	char path[320], key[320];
	json_t *s = NULL;
	enum session_state state;

	if (!*app->cfg->stripe_secret_key)
		return ERR_PAYMENTS_NOT_CONFIGURED;
	snprintf(path, sizeof(path), "/v1/checkout/sessions/%s/expire", session_id);
	snprintf(key, sizeof(key), "expire-%s", session_id);
	enum err rc = stripe_request(app->cfg, "POST", path, NULL, key, &s, NULL);
	if (rc == ERR_OK) {
		LOG_INFO("checkout session expired at stripe", LOG_INT("order_id", order_id),
			 LOG_STR("session_id", session_id));
		goto out;
	}
	if (rc != ERR_PAYMENT_PROVIDER_ERROR)
		goto out;
	/* Refused: it is no longer open. Stripe says what it became. */
	rc = session_read(app, session_id, &s);
	if (rc == ERR_OK)
		rc = session_apply(app, order_id, session_id, s, &state);
	if (rc == ERR_OK && state == SESSION_IN_PROGRESS)
		rc = ERR_PAYMENT_IN_PROGRESS;
	else if (rc == ERR_OK && state == SESSION_OPEN)
		rc = ERR_PAYMENT_PROVIDER_ERROR; /* open, yet not expirable */
out:
	json_decref(s);
	return rc;
}

/* ---- the reconciliation job ---- */

/* Returns the error, if any (already counted and logged). */
static enum err reconcile_session(const struct app *app, const struct order_session *os,
				  struct reconcile_counts *n)
{
	json_t *s = NULL;
	enum session_state state = SESSION_OPEN;
	enum err rc = session_read(app, os->session_id, &s);
	if (rc == ERR_OK)
		rc = session_apply(app, os->order_id, os->session_id, s, &state);
	/* Open past its lifetime (clocks disagree): close it now. */
	if (rc == ERR_OK && state == SESSION_OPEN) {
		rc = checkout_session_close(app, os->order_id, os->session_id);
		if (rc == ERR_OK) {
			json_decref(s);
			s = NULL;
			rc = session_read(app, os->session_id, &s);
		}
		if (rc == ERR_OK)
			rc = session_apply(app, os->order_id, os->session_id, s, &state);
	}
	n->checked++;
	if (rc != ERR_OK) {
		n->failed++;
		LOG_WARN("checkout session not reconciled", LOG_INT("order_id", os->order_id),
			 LOG_STR("session_id", os->session_id), LOG_STR("error", err_code(rc)));
	} else if (state == SESSION_PAID) {
		n->paid++;
	} else if (state == SESSION_EXPIRED) {
		n->expired++;
	} else if (state == SESSION_IN_PROGRESS) {
		n->in_progress++;
	}
	json_decref(s);
	return rc;
}

enum err payments_reconcile(const struct app *app, struct reconcile_counts *out)
{
	struct db_conn *c = NULL;
	struct order_session *orders = NULL;
	long long *ids = NULL;
	int norders = 0, nids = 0;

	memset(out, 0, sizeof(*out));
	if (!*app->cfg->stripe_secret_key)
		return ERR_PAYMENTS_NOT_CONFIGURED;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = orders_unsettled(c, RECONCILE_BATCH, &orders, &norders);
	if (rc == ERR_OK)
		rc = payments_refunds_due(c, RECONCILE_BATCH, &ids, &nids);
	db_release(c); /* never held while Stripe answers */
	if (rc != ERR_OK)
		goto out;
	/* Stripe unreachable: the others would wait as long each; next
	 * period. */
	for (int i = 0; i < norders; i++)
		if (reconcile_session(app, &orders[i], out) == ERR_PAYMENT_PROVIDER_UNAVAILABLE)
			break;
	/* Refunds that failed before (new ones go through
	 * payments_refund_new at every sweep). */
	for (int i = 0; i < nids; i++) {
		enum err r = payment_refund_attempt(app, ids[i]);
		out->refunds_tried++;
		if (r != ERR_OK)
			out->refunds_left += r == ERR_PAYMENT_PROVIDER_UNAVAILABLE ? nids - i : 1;
		if (r == ERR_PAYMENT_PROVIDER_UNAVAILABLE)
			break; /* the rest would wait as long each: next period */
	}
out:
	free(orders);
	free(ids);
	return rc;
}
