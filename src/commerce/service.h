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
/* Cancels a pending order and renders it. ERR_ORDER_PAID, ERR_ORDER_CANCELED. */
enum err order_cancel(const struct app *app, long long user_id, long long id, struct buf *out);

struct checkout_result {
	char *session_id, *url; /* owned; free with checkout_result_clear */
	char total[MONEY_TEXT_MAX];
	char old_total[MONEY_TEXT_MAX]; /* on ERR_PRICE_CHANGED: the total before */
};
void checkout_result_clear(struct checkout_result *r);
/* Revalidates prices, then creates a Stripe Checkout Session for the
 * order and remembers it. ERR_PRICE_CHANGED: the order now has the
 * current prices (committed; total and old_total set) and the next call
 * proceeds. ERR_ORDER_PAID, ERR_ORDER_CANCELED, ERR_PAYMENTS_NOT_CONFIGURED,
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
