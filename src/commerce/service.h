/* Commerce rules: carts, orders, checkout and refunds through Stripe, the
 * Stripe webhook, payment history. Each change is one short transaction;
 * calls to Stripe are made with no transaction open and no connection held,
 * bounded by STRIPE_TIMEOUT_MS. Email jobs are recorded in the transaction
 * that causes them and announced after commit.
 *
 * Rendered JSON is appended to out/items; every function is thread-safe
 * (state lives in the database). Errors are enum err values the handler
 * answers with. */
#ifndef CINEMA_COMMERCE_SERVICE_H
#define CINEMA_COMMERCE_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "cinema/app.h"
#include "cinema/page.h"
#include "commerce/money.h"
#include "commerce/repo.h"

struct config;

/* ---- cart (cart.c) ---- */

enum err cart_get(const struct app *app, long long user_id, struct buf *out);
/* Adds a movie, creating the cart on first use, then renders the cart.
 * ERR_NOT_FOUND (no such movie), ERR_ALREADY_PURCHASED, ERR_ALREADY_IN_CART. */
enum err cart_add_item(const struct app *app, long long user_id, long long movie_id,
		       struct buf *out);
/* ERR_NOT_FOUND when the movie is not in the cart. */
enum err cart_remove_item(const struct app *app, long long user_id, long long movie_id);
enum err cart_clear(const struct app *app, long long user_id);
enum err cart_admin_list(const struct app *app, const char *user_id, const struct page *pg,
			 struct buf *items, long long *total);

/* ---- orders (orders.c) ---- */

/* Turns the cart into a pending order at current prices. Under a lock on
 * the cart row, so concurrent placements from one cart serialize: movies
 * the user owns or has in another pending order are left out and listed in
 * *excluded (owned array of {movie_id, reason}); every line read leaves
 * the cart. ERR_CART_EMPTY when nothing can be ordered (nothing changes
 * then; *excluded still tells why). */
enum err order_place(const struct app *app, long long user_id, struct buf *order,
		     json_t **excluded);
/* user_id 0: any owner (moderators). ERR_NOT_FOUND otherwise. */
enum err order_get(const struct app *app, long long user_id, long long id, struct buf *out);
enum err order_list(const struct app *app, const struct commerce_filter *f, bool admin,
		    struct buf *items, long long *total);
/* Cancels a pending order and renders it. An open Checkout Session is
 * expired at Stripe first; if Stripe says it was paid meanwhile, the order
 * is fulfilled instead and the answer is ERR_ORDER_PAID. ERR_ORDER_PAID,
 * ERR_ORDER_CANCELED, ERR_PAYMENT_IN_PROGRESS (a delayed payment method is
 * still being collected), the Stripe errors of order_checkout. */
enum err order_cancel(const struct app *app, long long user_id, long long id, struct buf *out);

struct checkout_result {
	char *session_id, *url; /* owned; free with checkout_result_clear */
	char total[MONEY_TEXT_MAX];
	char old_total[MONEY_TEXT_MAX]; /* on ERR_PRICE_CHANGED: the total before */
};
void checkout_result_clear(struct checkout_result *r);
/* Revalidates prices, then creates a Stripe Checkout Session for the
 * order and remembers it. ERR_PRICE_CHANGED: the order now has the
 * current prices (committed; total and old_total set; a session for the
 * old total is expired at Stripe first, as by order_cancel) and the next
 * call proceeds. ERR_ORDER_PAID, ERR_ORDER_CANCELED, ERR_PAYMENTS_NOT_CONFIGURED,
 * ERR_PAYMENT_PROVIDER_ERROR, ERR_PAYMENT_PROVIDER_UNAVAILABLE. */
enum err order_checkout(const struct app *app, long long user_id, long long id,
			struct checkout_result *out);
/* Asks Stripe to refund a paid order's payment and renders the order,
 * which stays paid until the charge.refunded webhook arrives.
 * ERR_ORDER_NOT_PAID and the Stripe errors of order_checkout. */
enum err order_refund(const struct app *app, long long user_id, long long id, struct buf *out);

/* ---- payments (payments.c) ---- */

enum err payment_get(const struct app *app, long long user_id, long long id, struct buf *out);
enum err payment_list(const struct app *app, const struct commerce_filter *f, bool admin,
		      struct buf *items, long long *total);

/* ---- settling Checkout Sessions (settle.c) ----
 *
 * The payment state machine. An order is pending, paid or canceled; its
 * current Checkout Session is open, complete or expired at Stripe. Money
 * that Stripe took through a session (a webhook, order_cancel finding the
 * session complete, the reconciliation job) goes through settle_paid,
 * once per PaymentIntent or session:
 *
 *   pending order, same amount          -> payment successful, order paid
 *   canceled order, order already paid,
 *   or another amount                   -> payment refund_pending (with a
 *                                          refund_reason) and an email;
 *                                          the scheduler's next sweep asks
 *                                          Stripe for the refund ->
 *                                          refunded; on failure the
 *                                          reconciliation job retries it
 *
 * Nothing here holds a transaction or a connection while Stripe answers. */

#define COMMERCE_HINT_DECLINED "Your payment was declined. Try a different payment method."
#define COMMERCE_HINT_EXPIRED  "The checkout session expired. Start the checkout again."
#define COMMERCE_HINT_MISMATCH                                                              \
	"The amount paid did not match the order's total and is being refunded. Start the " \
	"checkout again."

/* A completed Checkout Session as Stripe reports it; strings borrowed. */
struct paid_session {
	long long order_id; /* client_reference_id or metadata.order_id; 0 if none */
	const char *session_id, *payment_intent, *currency;
	long long amount_total;
	bool has_amount;
};

enum settle_outcome {
	SETTLE_NONE,	  /* nothing settled (a duplicate event, another type) */
	SETTLE_FULFILLED, /* the order became paid */
	SETTLE_KNOWN,	  /* this money was recorded before: nothing changed */
	SETTLE_REFUND,	  /* recorded as refund_pending: refund it after commit */
};

struct settle_result {
	enum settle_outcome outcome;
	long long order_id, payment_id, job_id; /* job_id: email to announce, or 0 */
};

/* Reads a Checkout Session object (from an event or the API). */
void paid_session_from_json(const json_t *session, struct paid_session *ps);
/* Records the money of a completed session, in the caller's transaction
 * (see above). ERR_WEBHOOK_MISMATCH (detail set) when it cannot be ours to
 * record: no order named, an unknown order, no amount, another currency. */
enum err settle_paid(struct db_conn *c, const struct config *cfg, const struct paid_session *ps,
		     struct settle_result *out, char *detail, size_t detail_len);
/* After the transaction of settle_paid committed: announces the email.
 * The refund of SETTLE_REFUND is left to the scheduler
 * (payments_refund_new), so the caller waits on no one but PostgreSQL. */
void settle_after_commit(const struct app *app, const struct settle_result *r);
/* Asks Stripe to refund a refund_pending payment in full (its attempt
 * counted first; Idempotency-Key derived from its session or
 * PaymentIntent, so retries never refund twice); the payment becomes
 * refunded, or keeps the attempt's error. ERR_OK also when it was not (or
 * no longer) refund_pending. */
enum err payment_refund_attempt(const struct app *app, long long payment_id);
/* The scheduler's sweep: up to max refund_pending payments never
 * attempted are claimed one by one (so no two schedulers ask for the same
 * refund at once) and refunded as by payment_refund_attempt; *tried gets
 * how many. */
enum err payments_refund_new(const struct app *app, int max, int *tried);
/* Makes sure the order's session session_id can take no more money:
 * expires it at Stripe; if Stripe refuses, reads it back, and a complete,
 * paid session is settled (settle_paid), an expired one recorded as such.
 * ERR_OK when the session is closed (the caller rereads the order: it may
 * be paid now), ERR_PAYMENT_IN_PROGRESS, or the Stripe errors. */
enum err checkout_session_close(const struct app *app, long long order_id, const char *session_id);

struct reconcile_counts {
	int checked, paid, expired, in_progress, failed;
	int refunds_tried, refunds_left;
};
/* The reconciliation job: pending orders whose session is past its
 * lifetime are read back from Stripe and end paid (or refunded) or with
 * their session expired; refund_pending payments attempted before are
 * retried. */
enum err payments_reconcile(const struct app *app, struct reconcile_counts *out);

/* ---- the Stripe webhook (webhook.c) ---- */

struct webhook_result {
	bool duplicate;	  /* the event was handled before; nothing changed */
	char detail[256]; /* on ERR_WEBHOOK_MISMATCH / ERR_BAD_REQUEST: why */
};
/* Verifies the Stripe-Signature of the raw body, then applies the event
 * once (idempotent per event id). Errors: ERR_PAYMENTS_NOT_CONFIGURED (no
 * webhook secret), ERR_WEBHOOK_SIGNATURE_INVALID,
 * ERR_WEBHOOK_TIMESTAMP_STALE, ERR_BAD_REQUEST (signed but not an event),
 * ERR_WEBHOOK_MISMATCH (unknown order, wrong amount or currency: nothing
 * is recorded, so Stripe retries), ERR_DB_*. */
enum err webhook_receive(const struct app *app, const char *signature, const char *body, size_t len,
			 struct webhook_result *out);

#endif
