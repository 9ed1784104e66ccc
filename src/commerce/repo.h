/* SQL of carts, orders, payments and Stripe events
 * (migrations/0006_commerce.sql). Lists and details leave PostgreSQL
 * already rendered as JSON text. Functions that change rows expect to run
 * inside the caller's transaction; none commits.
 *
 * Naming: functions are named after the table they mostly touch (carts_*,
 * cart_items_*, orders_*, payments_*, stripe_events_*); the services in
 * service.h use singular verbs (cart_add_item, order_place, ...). */
#ifndef CINEMA_COMMERCE_REPO_H
#define CINEMA_COMMERCE_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include "cinema/buf.h"
#include "cinema/db.h"

/* Filters of the order and payment lists; NULL fields are not applied.
 * Values are text the handler validated (ids, enum values, YYYY-MM-DD
 * dates, inclusive, in UTC). */
struct commerce_filter {
	const char *user_id;
	const char *status;
	const char *date_from, *date_to;
	long long limit, offset;
};

/* ---- carts (repo_cart.c) ---- */

/* The user's cart id, creating the cart on first use; with lock, the cart
 * row stays locked (FOR UPDATE) until the transaction ends. */
enum err carts_ensure(struct db_conn *c, long long user_id, bool lock, long long *cart_id);
/* Appends {items: [...], total} of the user's cart (empty if none). */
enum err carts_render(struct db_conn *c, long long user_id, struct buf *out);
/* Whether the movie exists and whether the user owns it. */
enum err carts_movie_state(struct db_conn *c, long long user_id, long long movie_id, bool *exists,
			   bool *purchased);
/* Adds the movie; *added is false when it was already there. */
enum err cart_items_insert(struct db_conn *c, long long cart_id, long long movie_id, bool *added);
/* Removes one movie from the user's cart; ERR_NOT_FOUND if it was not in it. */
enum err cart_items_delete(struct db_conn *c, long long user_id, long long movie_id);
/* Empties the user's cart. */
enum err cart_items_clear(struct db_conn *c, long long user_id);
/* Removes the movies of movie_ids (an array literal "{1,2}") from a cart. */
enum err cart_items_remove(struct db_conn *c, long long cart_id, const char *movie_ids);

/* Why a cart line cannot be ordered (NULL reason: it can). */
struct cart_line {
	long long movie_id;
	const char *reason; /* static: "already_purchased", "in_pending_order" */
};
/* The cart's lines in the order they were added, each with the reason it
 * cannot be ordered now. *lines (owned, free()) gets *n entries. */
enum err cart_items_classify(struct db_conn *c, long long cart_id, long long user_id,
			     struct cart_line **lines, int *n);
/* Moderators: non-empty carts as [{user_id, email, items, total}], newest
 * cart first; user_id may be NULL. */
enum err carts_admin_list(struct db_conn *c, const char *user_id, long long limit, long long offset,
			  struct buf *items, long long *total);

/* ---- orders (repo_orders.c) ---- */

enum order_status { ORDER_PENDING, ORDER_PAID, ORDER_CANCELED };

struct order_row {
	long long id, user_id;
	enum order_status status;
	long long total_cents;
	char session_id[256]; /* the current Checkout Session, or "" */
	int checkout_attempt; /* checkouts that ended unpaid so far */
	char email[256];      /* the buyer's */
};

/* Creates a pending order of the movies in movie_ids (array literal) at
 * their current prices; the total is their sum. */
enum err orders_insert(struct db_conn *c, long long user_id, const char *movie_ids,
		       long long *order_id);
/* Locks the order (FOR UPDATE) and reads it. user_id 0: any owner.
 * ERR_NOT_FOUND when there is no such order (of that user). */
enum err orders_lock(struct db_conn *c, long long id, long long user_id, struct order_row *o);
/* Appends the order's JSON; user_id 0: any owner. ERR_NOT_FOUND otherwise. */
enum err orders_render(struct db_conn *c, long long id, long long user_id, struct buf *out);
/* One page of orders, newest first; admin adds user_id and email. */
enum err orders_list(struct db_conn *c, const struct commerce_filter *f, bool admin,
		     struct buf *items, long long *total);
enum err orders_set_status(struct db_conn *c, long long id, enum order_status status);
/* Brings the order's item prices and total to the movies' current prices.
 * *changed tells whether anything differed; the totals are in cents. */
/* Without apply only *changed and the totals are set; nothing is written. */
enum err orders_reprice(struct db_conn *c, long long id, bool apply, bool *changed,
			long long *old_cents, long long *new_cents);

struct order_line {
	long long order_item_id, movie_id, cents;
	char *name; /* owned */
};
/* The order's items in order; free with order_lines_free. */
enum err orders_lines(struct db_conn *c, long long id, struct order_line **lines, int *n);
void order_lines_free(struct order_line *lines, int n);
/* Records a new Checkout Session on a pending order (clearing any hint),
 * payable until expires_at (Unix time; 0: Stripe's default of 24 hours);
 * *updated is false when the order is no longer pending. */
enum err orders_set_session(struct db_conn *c, long long id, const char *session_id,
			    const char *url, long long expires_at, bool *updated);

struct order_session {
	long long order_id;
	char session_id[256];
};
/* Up to limit pending orders whose Checkout Session is past its
 * checkout_expires_at, oldest first. *out (owned, free()) gets *n. */
enum err orders_unsettled(struct db_conn *c, int limit, struct order_session **out, int *n);
/* Sets payment_hint; with clear_session also forgets the session. */
enum err orders_set_hint(struct db_conn *c, long long id, const char *hint, bool clear_session);

/* ---- payments (repo_payments.c) ---- */

/* Marks the order paid and records what it bought: a successful payment
 * of the order's total (external_payment_id and session_id may be NULL),
 * one payment item per order item, purchases, and those movies leave the
 * buyer's cart. */
enum err payments_fulfil(struct db_conn *c, long long order_id, const char *external_payment_id,
			 const char *session_id, long long *payment_id);
/* Records money taken for order_id that will not buy it: a refund_pending
 * payment of amount_cents with no items, for reason ("order_canceled",
 * "order_already_paid", "amount_mismatch"). */
enum err payments_insert_refund_due(struct db_conn *c, long long order_id, long long amount_cents,
				    const char *external_payment_id, const char *session_id,
				    const char *reason, long long *payment_id);
/* The lines of the confirmation email ("Name — 9.99" each) and the total. */
enum err payments_email_lines(struct db_conn *c, long long order_id, struct buf *lines,
			      char total[24]);
/* The PaymentIntent of the order's successful payment into out, or
 * ERR_NOT_FOUND. */
enum err payments_intent_of_order(struct db_conn *c, long long order_id, char *out, size_t outlen);

enum payment_status {
	PAYMENT_SUCCESSFUL,
	PAYMENT_CANCELED,
	PAYMENT_REFUNDED,
	PAYMENT_REFUND_PENDING
};

struct payment_row {
	long long id, order_id, user_id;
	enum payment_status status;
	char intent[256];     /* external_payment_id, or "" */
	char session_id[256]; /* checkout_session_id, or "" */
};
/* Locks the payment of a PaymentIntent; ERR_NOT_FOUND if none. */
enum err payments_lock_by_intent(struct db_conn *c, const char *intent, struct payment_row *p);
/* Locks the payment that came through a PaymentIntent or a Checkout
 * Session (either may be NULL); ERR_NOT_FOUND if none. */
enum err payments_lock_by_source(struct db_conn *c, const char *intent, const char *session_id,
				 struct payment_row *p);
/* Locks payment id; ERR_NOT_FOUND if none. */
enum err payments_lock(struct db_conn *c, long long id, struct payment_row *p);
/* A successful payment becomes refunded, its order canceled, and the
 * order's movies leave the buyer's purchases. A refund_pending payment
 * only becomes refunded (refund_id may be NULL): its order is not its. */
enum err payments_refund(struct db_conn *c, const struct payment_row *p, const char *refund_id);
/* Counts an automatic refund attempt of payment id about to be made and
 * reads the payment; *begun is false (nothing changed) when it is not
 * refund_pending. */
enum err payments_refund_begin(struct db_conn *c, long long id, struct payment_row *p, bool *begun);
/* The oldest refund_pending payment never attempted, locked (FOR UPDATE
 * SKIP LOCKED: another scheduler's claim is skipped); ERR_NOT_FOUND if
 * none. */
enum err payments_refund_next_new(struct db_conn *c, long long *id);
/* An automatic refund attempt failed: keeps the error. */
enum err payments_refund_failed(struct db_conn *c, long long id, const char *error);
/* Up to limit refund_pending payments attempted before, oldest first;
 * *ids (owned) gets *n. */
enum err payments_refunds_due(struct db_conn *c, int limit, long long **ids, int *n);
/* Appends the payment's JSON; user_id 0: any owner. */
enum err payments_render(struct db_conn *c, long long id, long long user_id, struct buf *out);
enum err payments_list(struct db_conn *c, const struct commerce_filter *f, bool admin,
		       struct buf *items, long long *total);

/* Records a Stripe event id; *fresh is false when it was seen before. */
enum err stripe_events_insert(struct db_conn *c, const char *id, const char *type, bool *fresh);

/* ---- shared (repo_common.c) ---- */

#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

void commerce_ll_str(char out[24], long long v);
/* Runs stmt ($1 id, $2 owner or NULL) whose one row holds a JSON text and
 * appends it to out; ERR_NOT_FOUND when there is no row. user_id 0: any
 * owner. */
enum err commerce_render_one(struct db_conn *c, const struct db_stmt *stmt, long long id,
			     long long user_id, struct buf *out);
/* Runs a count statement and a list statement (both planned for the
 * values) with the same parameters, the list taking two more (limit,
 * offset); appends the list's first column as a JSON array. */
enum err commerce_page(struct db_conn *c, const struct db_stmt *count, const struct db_stmt *list,
		       int nparams, const char **params, long long limit, long long offset,
		       struct buf *items, long long *total);

#endif
