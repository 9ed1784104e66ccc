#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/mem.h"
#include "commerce/money.h"
#include "commerce/repo.h"

/* ---- fulfilment and refunds ---- */

static const struct db_stmt stmt_mark_paid = {
	"commerce_order_mark_paid",
	"UPDATE orders SET status = 'paid', payment_hint = NULL WHERE id = $1"};
static const struct db_stmt stmt_payment_insert = {
	"commerce_payment_insert",
	"INSERT INTO payments (user_id, order_id, amount, external_payment_id, "
	"checkout_session_id) "
	"SELECT user_id, id, total_amount, $2, $3 FROM orders WHERE id = $1 RETURNING id"};
static const struct db_stmt stmt_payment_items = {
	"commerce_payment_items_insert",
	"INSERT INTO payment_items (payment_id, order_item_id, price_at_payment) "
	"SELECT $1, id, price_at_order FROM order_items WHERE order_id = $2 ORDER BY id"};
static const struct db_stmt stmt_purchases = {
	"commerce_purchases_insert", "INSERT INTO purchases (user_id, movie_id, order_id) "
				     "SELECT o.user_id, oi.movie_id, o.id FROM orders o "
				     "JOIN order_items oi ON oi.order_id = o.id WHERE o.id = $1 "
				     "ON CONFLICT (user_id, movie_id) DO NOTHING"};
static const struct db_stmt stmt_cart_drop = {
	"commerce_cart_drop_bought",
	"DELETE FROM cart_items ci USING carts c, orders o "
	"WHERE o.id = $1 AND c.user_id = o.user_id AND ci.cart_id = c.id "
	"AND ci.movie_id IN (SELECT movie_id FROM order_items WHERE order_id = $1)"};

enum err payments_fulfil(struct db_conn *c, long long order_id, const char *external_payment_id,
			 const char *session_id, long long *payment_id)
{
	PGresult *res = NULL;
	char oid[24], pid[24];
	commerce_ll_str(oid, order_id);
	const char *p1[] = {oid};
	const char *p2[] = {oid, external_payment_id, session_id};
	enum err rc = db_exec(c, &stmt_mark_paid, 1, p1, NULL);
	if (rc == ERR_OK)
		rc = db_exec(c, &stmt_payment_insert, 3, p2, &res);
	if (rc != ERR_OK)
		goto out;
	*payment_id = db_int(res, 0, 0);
	commerce_ll_str(pid, *payment_id);
	const char *p3[] = {pid, oid};
	rc = db_exec(c, &stmt_payment_items, 2, p3, NULL);
	if (rc == ERR_OK)
		rc = db_exec(c, &stmt_purchases, 1, p1, NULL);
	if (rc == ERR_OK)
		rc = db_exec(c, &stmt_cart_drop, 1, p1, NULL);
out:
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_email_lines = {
	"commerce_payment_email_lines",
	"SELECT string_agg(m.name || ' — ' || oi.price_at_order::text, E'\\n' ORDER BY oi.id), "
	"o.total_amount::text FROM orders o JOIN order_items oi ON oi.order_id = o.id "
	"JOIN movies m ON m.id = oi.movie_id WHERE o.id = $1 GROUP BY o.id"};

enum err payments_email_lines(struct db_conn *c, long long order_id, struct buf *lines,
			      char total[24])
{
	PGresult *res = NULL;
	char oid[24];
	commerce_ll_str(oid, order_id);
	const char *p[] = {oid};
	enum err rc = db_exec(c, &stmt_email_lines, 1, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK) {
		buf_append_str(lines, db_text(res, 0, 0) ? db_text(res, 0, 0) : "");
		snprintf(total, 24, "%s", db_text(res, 0, 1) ? db_text(res, 0, 1) : "0.00");
	}
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_intent_of_order = {
	"commerce_payment_intent_of_order",
	"SELECT external_payment_id FROM payments WHERE order_id = $1 AND status = 'successful' "
	"AND external_payment_id IS NOT NULL ORDER BY id DESC LIMIT 1"};

enum err payments_intent_of_order(struct db_conn *c, long long order_id, char *out, size_t outlen)
{
	PGresult *res = NULL;
	char oid[24];
	commerce_ll_str(oid, order_id);
	const char *p[] = {oid};
	enum err rc = db_exec(c, &stmt_intent_of_order, 1, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK)
		snprintf(out, outlen, "%s", db_text(res, 0, 0));
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_insert_refund_due = {
	"commerce_payment_insert_refund_due",
	"INSERT INTO payments (user_id, order_id, amount, external_payment_id, "
	"checkout_session_id, status, refund_reason) "
	"SELECT user_id, id, $2::numeric, $3, $4, 'refund_pending', $5 FROM orders WHERE id = $1 "
	"RETURNING id"};

enum err payments_insert_refund_due(struct db_conn *c, long long order_id, long long amount_cents,
				    const char *external_payment_id, const char *session_id,
				    const char *reason, long long *payment_id)
{
	PGresult *res = NULL;
	char oid[24], amount[MONEY_TEXT_MAX];
	commerce_ll_str(oid, order_id);
	money_format(amount_cents, amount);
	const char *p[] = {oid, amount, external_payment_id, session_id, reason};
	enum err rc = db_exec(c, &stmt_insert_refund_due, 5, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK)
		*payment_id = db_int(res, 0, 0);
	PQclear(res);
	return rc;
}

#define PAYMENT_ROW_COLUMNS                                                                     \
	"SELECT id, order_id, user_id, status::text, external_payment_id, checkout_session_id " \
	"FROM payments "

static const struct db_stmt stmt_lock_by_intent = {"commerce_payment_lock_by_intent",
						   PAYMENT_ROW_COLUMNS
						   "WHERE external_payment_id = $1 FOR UPDATE"};
/* The oldest first: a session brings one payment, so there is one row. */
static const struct db_stmt stmt_lock_by_source = {
	"commerce_payment_lock_by_source",
	PAYMENT_ROW_COLUMNS "WHERE external_payment_id = $1 OR checkout_session_id = $2 "
			    "ORDER BY id LIMIT 1 FOR UPDATE"};
static const struct db_stmt stmt_lock_payment = {"commerce_payment_lock",
						 PAYMENT_ROW_COLUMNS "WHERE id = $1 FOR UPDATE"};

static enum payment_status payment_status_parse(const char *s)
{
	if (!s || strcmp(s, "successful") == 0)
		return PAYMENT_SUCCESSFUL;
	if (strcmp(s, "canceled") == 0)
		return PAYMENT_CANCELED;
	if (strcmp(s, "refunded") == 0)
		return PAYMENT_REFUNDED;
	return PAYMENT_REFUND_PENDING;
}

static enum err lock_row(struct db_conn *c, const struct db_stmt *stmt, int n,
			 const char *const *params, struct payment_row *p)
{
	PGresult *res = NULL;
	memset(p, 0, sizeof(*p));
	enum err rc = db_exec(c, stmt, n, params, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK) {
		p->id = db_int(res, 0, 0);
		p->order_id = db_int(res, 0, 1);
		p->user_id = db_int(res, 0, 2);
		p->status = payment_status_parse(db_text(res, 0, 3));
		snprintf(p->intent, sizeof(p->intent), "%s",
			 db_text(res, 0, 4) ? db_text(res, 0, 4) : "");
		snprintf(p->session_id, sizeof(p->session_id), "%s",
			 db_text(res, 0, 5) ? db_text(res, 0, 5) : "");
	}
	PQclear(res);
	return rc;
}

enum err payments_lock_by_intent(struct db_conn *c, const char *intent, struct payment_row *p)
{
	const char *params[] = {intent};
	return lock_row(c, &stmt_lock_by_intent, 1, params, p);
}

enum err payments_lock_by_source(struct db_conn *c, const char *intent, const char *session_id,
				 struct payment_row *p)
{
	const char *params[] = {intent, session_id};
	if (!intent && !session_id) {
		memset(p, 0, sizeof(*p));
		return ERR_NOT_FOUND;
	}
	return lock_row(c, &stmt_lock_by_source, 2, params, p);
}

enum err payments_lock(struct db_conn *c, long long id, struct payment_row *p)
{
	char pid[24];
	commerce_ll_str(pid, id);
	const char *params[] = {pid};
	return lock_row(c, &stmt_lock_payment, 1, params, p);
}

static const struct db_stmt stmt_payment_refunded = {
	"commerce_payment_refunded",
	"UPDATE payments SET status = 'refunded', refund_id = coalesce($2, refund_id), "
	"refund_error = NULL WHERE id = $1"};
static const struct db_stmt stmt_order_refunded = {
	"commerce_order_refunded",
	"UPDATE orders SET status = 'canceled', checkout_session_id = NULL, checkout_url = NULL, "
	"payment_hint = NULL WHERE id = $1"};
static const struct db_stmt stmt_purchases_drop = {
	"commerce_purchases_drop", "DELETE FROM purchases WHERE user_id = $1 AND order_id = $2"};

enum err payments_refund(struct db_conn *c, const struct payment_row *p, const char *refund_id)
{
	char pid[24], oid[24], uid[24];
	commerce_ll_str(pid, p->id);
	commerce_ll_str(oid, p->order_id);
	commerce_ll_str(uid, p->user_id);
	const char *p1[] = {pid, refund_id};
	const char *p2[] = {oid};
	const char *p3[] = {uid, oid};
	enum err rc = db_exec(c, &stmt_payment_refunded, 2, p1, NULL);
	if (rc != ERR_OK || p->status != PAYMENT_SUCCESSFUL)
		return rc;
	rc = db_exec(c, &stmt_order_refunded, 1, p2, NULL);
	if (rc == ERR_OK)
		rc = db_exec(c, &stmt_purchases_drop, 2, p3, NULL);
	return rc;
}

static const struct db_stmt stmt_refund_begin = {
	"commerce_payment_refund_begin",
	"UPDATE payments SET refund_attempts = refund_attempts + 1 "
	"WHERE id = $1 AND status = 'refund_pending' RETURNING id"};

enum err payments_refund_begin(struct db_conn *c, long long id, struct payment_row *p, bool *begun)
{
	PGresult *res = NULL;
	char pid[24];
	commerce_ll_str(pid, id);
	const char *params[] = {pid};
	*begun = false;
	enum err rc = payments_lock(c, id, p);
	if (rc != ERR_OK || p->status != PAYMENT_REFUND_PENDING)
		return rc;
	rc = db_exec(c, &stmt_refund_begin, 1, params, &res);
	if (rc == ERR_OK)
		*begun = PQntuples(res) == 1;
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_refund_next_new = {
	"commerce_payment_refund_next_new",
	"SELECT id FROM payments WHERE status = 'refund_pending' AND refund_attempts = 0 "
	"ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"};

enum err payments_refund_next_new(struct db_conn *c, long long *id)
{
	PGresult *res = NULL;
	enum err rc = db_exec(c, &stmt_refund_next_new, 0, NULL, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK)
		*id = db_int(res, 0, 0);
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_refund_failed = {
	"commerce_payment_refund_failed",
	"UPDATE payments SET refund_error = $2 WHERE id = $1 AND status = 'refund_pending'"};

enum err payments_refund_failed(struct db_conn *c, long long id, const char *error)
{
	char pid[24];
	commerce_ll_str(pid, id);
	const char *p[] = {pid, error};
	return db_exec(c, &stmt_refund_failed, 2, p, NULL);
}

static const struct db_stmt stmt_refunds_due = {
	"commerce_payment_refunds_due",
	"SELECT id FROM payments WHERE status = 'refund_pending' AND refund_attempts > 0 "
	"ORDER BY id LIMIT $1"};

enum err payments_refunds_due(struct db_conn *c, int limit, long long **ids, int *n)
{
	PGresult *res = NULL;
	char lim[24];
	commerce_ll_str(lim, limit);
	const char *p[] = {lim};
	*ids = NULL;
	*n = 0;
	enum err rc = db_exec(c, &stmt_refunds_due, 1, p, &res);
	if (rc != ERR_OK)
		goto out;
	int count = PQntuples(res);
	*ids = xcalloc((size_t)count + 1, sizeof(**ids));
	for (int i = 0; i < count; i++)
		(*ids)[i] = db_int(res, i, 0);
	*n = count;
out:
	PQclear(res);
	return rc;
}

/* ---- reading ---- */

#define PAYMENT_FIELDS                                                                            \
	"'id', p.id, 'order_id', p.order_id, 'created_at', " RFC3339(                             \
		"p.created_at") ", "                                                              \
				"'amount', p.amount::text, 'status', p.status, "                  \
				"'refund_reason', p.refund_reason, "                              \
				"'external_payment_id', p.external_payment_id, 'items', "         \
				"coalesce((SELECT json_agg("                                      \
				"json_build_object('order_item_id', pi.order_item_id, "           \
				"'movie_id', oi.movie_id, "                                       \
				"'name', m.name, 'price_at_payment', pi.price_at_payment::text) " \
				"ORDER BY pi.id) "                                                \
				"FROM payment_items pi JOIN order_items oi ON oi.id = "           \
				"pi.order_item_id "                                               \
				"JOIN movies m ON m.id = oi.movie_id WHERE pi.payment_id = "      \
				"p.id), '[]')"

static const struct db_stmt stmt_render = {
	"commerce_payment_render",
	"SELECT json_build_object(" PAYMENT_FIELDS ")::text FROM payments p "
	"WHERE p.id = $1 AND ($2::bigint IS NULL OR p.user_id = $2::bigint)"};

enum err payments_render(struct db_conn *c, long long id, long long user_id, struct buf *out)
{
	return commerce_render_one(c, &stmt_render, id, user_id, out);
}

/* $1 user, $2 status, $3 first day, $4 last day (inclusive, UTC days). */
#define PAYMENT_FILTER                                                                        \
	"WHERE ($1::bigint IS NULL OR p.user_id = $1::bigint) "                               \
	"AND ($2::payment_status IS NULL OR p.status = $2::payment_status) "                  \
	"AND ($3::date IS NULL OR p.created_at >= ($3::date)::timestamp AT TIME ZONE 'UTC') " \
	"AND ($4::date IS NULL OR p.created_at < ($4::date + 1)::timestamp AT TIME ZONE 'UTC') "

static const struct db_stmt stmt_count = {"commerce_payments_count",
					  "SELECT count(*) FROM payments p " PAYMENT_FILTER};
static const struct db_stmt stmt_list = {
	"commerce_payments_list",
	"SELECT json_build_object(" PAYMENT_FIELDS ")::text FROM payments p " PAYMENT_FILTER
	"ORDER BY p.created_at DESC, p.id DESC LIMIT $5 OFFSET $6"};
static const struct db_stmt stmt_admin_list = {
	"commerce_admin_payments_list",
	"SELECT json_build_object(" PAYMENT_FIELDS ", 'user_id', p.user_id, 'email', u.email, "
	"'checkout_session_id', p.checkout_session_id, 'refund_attempts', p.refund_attempts, "
	"'refund_error', p.refund_error)::text"
	" FROM payments p JOIN users u ON u.id = p.user_id " PAYMENT_FILTER
	"ORDER BY p.created_at DESC, p.id DESC LIMIT $5 OFFSET $6"};

enum err payments_list(struct db_conn *c, const struct commerce_filter *f, bool admin,
		       struct buf *items, long long *total)
{
	const char *p[] = {f->user_id, f->status, f->date_from, f->date_to};
	return commerce_page(c, &stmt_count, admin ? &stmt_admin_list : &stmt_list, 4, p, f->limit,
			     f->offset, items, total);
}

/* ---- Stripe events ---- */

static const struct db_stmt stmt_event_insert = {
	"commerce_stripe_event_insert",
	"INSERT INTO stripe_events (id, type) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING "
	"RETURNING id"};

enum err stripe_events_insert(struct db_conn *c, const char *id, const char *type, bool *fresh)
{
	PGresult *res = NULL;
	const char *p[] = {id, type};
	enum err rc = db_exec(c, &stmt_event_insert, 2, p, &res);
	if (rc == ERR_OK)
		*fresh = PQntuples(res) == 1;
	PQclear(res);
	return rc;
}
