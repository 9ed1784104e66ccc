#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/mem.h"
#include "commerce/money.h"
#include "commerce/repo.h"

/* The order as its buyer sees it (o is the order). The checkout link only
 * while it can still be used. */
#define ORDER_FIELDS                                                                               \
	"'id', o.id, 'created_at', " RFC3339(                                                      \
		"o.created_at") ", 'status', o.status, "                                           \
				"'total_amount', o.total_amount::text, 'items', coalesce((SELECT " \
				"json_agg("                                                        \
				"json_build_object('movie_id', oi.movie_id, 'name', m.name, "      \
				"'price_at_order', oi.price_at_order::text) ORDER BY oi.id) FROM " \
				"order_items oi "                                                  \
				"JOIN movies m ON m.id = oi.movie_id WHERE oi.order_id = o.id), "  \
				"'[]'), "                                                          \
				"'checkout_url', CASE WHEN o.status = 'pending' THEN "             \
				"o.checkout_url END, "                                             \
				"'payment_hint', o.payment_hint"

static const struct db_stmt stmt_insert = {
	"commerce_order_insert",
	"WITH o AS (INSERT INTO orders (user_id, total_amount) "
	"SELECT $1, sum(price) FROM movies WHERE id = ANY ($2::bigint[]) RETURNING id), "
	"i AS (INSERT INTO order_items (order_id, movie_id, price_at_order) "
	"SELECT o.id, m.id, m.price FROM o CROSS JOIN movies m WHERE m.id = ANY ($2::bigint[])) "
	"SELECT id FROM o"};

enum err orders_insert(struct db_conn *c, long long user_id, const char *movie_ids,
		       long long *order_id)
{
	PGresult *res = NULL;
	char uid[24];
	commerce_ll_str(uid, user_id);
	const char *p[] = {uid, movie_ids};
	enum err rc = db_exec(c, &stmt_insert, 2, p, &res);
	if (rc == ERR_OK)
		*order_id = db_int(res, 0, 0);
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_lock = {
	"commerce_order_lock",
	"SELECT o.id, o.user_id, o.status, o.total_amount::text, o.checkout_session_id, u.email, "
	"o.checkout_attempt "
	"FROM orders o JOIN users u ON u.id = o.user_id "
	"WHERE o.id = $1 AND ($2::bigint IS NULL OR o.user_id = $2::bigint) FOR UPDATE OF o"};

static enum order_status status_parse(const char *s)
{
	if (s && strcmp(s, "paid") == 0)
		return ORDER_PAID;
	if (s && strcmp(s, "canceled") == 0)
		return ORDER_CANCELED;
	return ORDER_PENDING;
}

enum err orders_lock(struct db_conn *c, long long id, long long user_id, struct order_row *o)
{
	PGresult *res = NULL;
	char oid[24], uid[24];
	commerce_ll_str(oid, id);
	commerce_ll_str(uid, user_id);
	const char *p[] = {oid, user_id ? uid : NULL};
	memset(o, 0, sizeof(*o));
	enum err rc = db_exec(c, &stmt_lock, 2, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc != ERR_OK)
		goto out;
	o->id = db_int(res, 0, 0);
	o->user_id = db_int(res, 0, 1);
	o->status = status_parse(db_text(res, 0, 2));
	if (!money_parse(db_text(res, 0, 3), &o->total_cents))
		o->total_cents = 0;
	snprintf(o->session_id, sizeof(o->session_id), "%s",
		 db_text(res, 0, 4) ? db_text(res, 0, 4) : "");
	o->checkout_attempt = (int)db_int(res, 0, 6);
	snprintf(o->email, sizeof(o->email), "%s", db_text(res, 0, 5));
out:
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_render = {
	"commerce_order_render",
	"SELECT json_build_object(" ORDER_FIELDS ")::text FROM orders o "
	"WHERE o.id = $1 AND ($2::bigint IS NULL OR o.user_id = $2::bigint)"};

enum err orders_render(struct db_conn *c, long long id, long long user_id, struct buf *out)
{
	return commerce_render_one(c, &stmt_render, id, user_id, out);
}

/* $1 user, $2 status, $3 first day, $4 last day (inclusive, UTC days). */
#define ORDER_FILTER                                                                          \
	"WHERE ($1::bigint IS NULL OR o.user_id = $1::bigint) "                               \
	"AND ($2::order_status IS NULL OR o.status = $2::order_status) "                      \
	"AND ($3::date IS NULL OR o.created_at >= ($3::date)::timestamp AT TIME ZONE 'UTC') " \
	"AND ($4::date IS NULL OR o.created_at < ($4::date + 1)::timestamp AT TIME ZONE 'UTC') "

static const struct db_stmt stmt_count = {"commerce_orders_count",
					  "SELECT count(*) FROM orders o " ORDER_FILTER};
static const struct db_stmt stmt_list = {
	"commerce_orders_list",
	"SELECT json_build_object(" ORDER_FIELDS ")::text FROM orders o " ORDER_FILTER
	"ORDER BY o.created_at DESC, o.id DESC LIMIT $5 OFFSET $6"};
static const struct db_stmt stmt_admin_list = {
	"commerce_admin_orders_list",
	"SELECT json_build_object(" ORDER_FIELDS ", 'user_id', o.user_id, 'email', u.email)::text"
	" FROM orders o JOIN users u ON u.id = o.user_id " ORDER_FILTER
	"ORDER BY o.created_at DESC, o.id DESC LIMIT $5 OFFSET $6"};

enum err orders_list(struct db_conn *c, const struct commerce_filter *f, bool admin,
		     struct buf *items, long long *total)
{
	const char *p[] = {f->user_id, f->status, f->date_from, f->date_to};
	return commerce_page(c, &stmt_count, admin ? &stmt_admin_list : &stmt_list, 4, p, f->limit,
			     f->offset, items, total);
}

/* Canceling also forgets the checkout link: it must not be paid anymore. */
static const struct db_stmt stmt_set_status = {
	"commerce_order_set_status",
	"UPDATE orders SET status = $2::order_status, "
	"checkout_session_id = CASE WHEN $2 = 'canceled' THEN NULL ELSE checkout_session_id END, "
	"checkout_url = CASE WHEN $2 = 'canceled' THEN NULL ELSE checkout_url END, "
	"payment_hint = CASE WHEN $2 = 'pending' THEN payment_hint END WHERE id = $1"};

enum err orders_set_status(struct db_conn *c, long long id, enum order_status status)
{
	static const char *const names[] = {"pending", "paid", "canceled"};
	char oid[24];
	commerce_ll_str(oid, id);
	const char *p[] = {oid, names[status]};
	return db_exec(c, &stmt_set_status, 2, p, NULL);
}

static const struct db_stmt stmt_price_check = {
	"commerce_order_price_check",
	"SELECT o.total_amount::text, coalesce(sum(m.price), 0)::numeric(12, 2)::text, "
	"count(*) FILTER (WHERE oi.price_at_order <> m.price) "
	"FROM orders o JOIN order_items oi ON oi.order_id = o.id "
	"JOIN movies m ON m.id = oi.movie_id WHERE o.id = $1 GROUP BY o.id"};
static const struct db_stmt stmt_reprice_items = {
	"commerce_order_reprice_items",
	"UPDATE order_items oi SET price_at_order = m.price FROM movies m "
	"WHERE m.id = oi.movie_id AND oi.order_id = $1 AND oi.price_at_order <> m.price"};
/* A session for the old total must not be reused: the next checkout makes
 * a new one, and a new attempt, since the old session (closed at Stripe)
 * would come back for the same total and attempt. */
static const struct db_stmt stmt_reprice_total = {
	"commerce_order_reprice_total",
	"UPDATE orders SET total_amount = (SELECT coalesce(sum(price_at_order), 0) "
	"FROM order_items WHERE order_id = $1), "
	"checkout_attempt = checkout_attempt + (checkout_session_id IS NOT NULL)::int, "
	"checkout_session_id = NULL, checkout_url = NULL WHERE id = $1"};

enum err orders_reprice(struct db_conn *c, long long id, bool apply, bool *changed,
			long long *old_cents, long long *new_cents)
{
	PGresult *res = NULL;
	char oid[24];
	commerce_ll_str(oid, id);
	const char *p[] = {oid};
	*changed = false;
	enum err rc = db_exec(c, &stmt_price_check, 1, p, &res);
	if (rc != ERR_OK)
		goto out;
	if (PQntuples(res) == 0) {
		rc = ERR_INTERNAL; /* an order always has items */
		goto out;
	}
	if (!money_parse(db_text(res, 0, 0), old_cents))
		*old_cents = -1; /* no total yet: count it as changed */
	if (!money_parse(db_text(res, 0, 1), new_cents)) {
		rc = ERR_INTERNAL;
		goto out;
	}
	*changed = db_int(res, 0, 2) > 0 || *old_cents != *new_cents;
	if (!*changed || !apply)
		goto out;
	rc = db_exec(c, &stmt_reprice_items, 1, p, NULL);
	if (rc == ERR_OK)
		rc = db_exec(c, &stmt_reprice_total, 1, p, NULL);
out:
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_lines = {
	"commerce_order_lines",
	"SELECT oi.id, oi.movie_id, oi.price_at_order::text, m.name FROM order_items oi "
	"JOIN movies m ON m.id = oi.movie_id WHERE oi.order_id = $1 ORDER BY oi.id"};

enum err orders_lines(struct db_conn *c, long long id, struct order_line **lines, int *n)
{
	PGresult *res = NULL;
	char oid[24];
	commerce_ll_str(oid, id);
	const char *p[] = {oid};
	*lines = NULL;
	*n = 0;
	enum err rc = db_exec(c, &stmt_lines, 1, p, &res);
	if (rc != ERR_OK)
		goto out;
	int count = PQntuples(res);
	*lines = xcalloc((size_t)count + 1, sizeof(**lines));
	for (int i = 0; i < count; i++) {
		struct order_line *l = &(*lines)[i];
		l->order_item_id = db_int(res, i, 0);
		l->movie_id = db_int(res, i, 1);
		if (!money_parse(db_text(res, i, 2), &l->cents))
			l->cents = 0;
		l->name = xstrdup(db_text(res, i, 3));
	}
	*n = count;
out:
	PQclear(res);
	return rc;
}

void order_lines_free(struct order_line *lines, int n)
{
	if (!lines)
		return;
	for (int i = 0; i < n; i++)
		free(lines[i].name);
	free(lines);
}

/* Without Stripe's expires_at, a session lives 24 hours (its default). */
static const struct db_stmt stmt_set_session = {
	"commerce_order_set_session",
	"UPDATE orders SET checkout_session_id = $2, checkout_url = $3, payment_hint = NULL, "
	"checkout_expires_at = coalesce(to_timestamp($4::bigint), now() + interval '24 hours') "
	"WHERE id = $1 AND status = 'pending'"};

enum err orders_set_session(struct db_conn *c, long long id, const char *session_id,
			    const char *url, long long expires_at, bool *updated)
{
	PGresult *res = NULL;
	char oid[24], exp[24];
	commerce_ll_str(oid, id);
	commerce_ll_str(exp, expires_at);
	const char *p[] = {oid, session_id, url, expires_at > 0 ? exp : NULL};
	enum err rc = db_exec(c, &stmt_set_session, 4, p, &res);
	if (rc == ERR_OK)
		*updated = atoll(PQcmdTuples(res)) == 1;
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_set_hint = {
	"commerce_order_set_hint",
	"UPDATE orders SET payment_hint = $2, checkout_attempt = checkout_attempt + 1, "
	"checkout_session_id = CASE WHEN $3 THEN NULL ELSE checkout_session_id END, "
	"checkout_url = CASE WHEN $3 THEN NULL ELSE checkout_url END WHERE id = $1"};

enum err orders_set_hint(struct db_conn *c, long long id, const char *hint, bool clear_session)
{
	char oid[24];
	commerce_ll_str(oid, id);
	const char *p[] = {oid, hint, clear_session ? "true" : "false"};
	return db_exec(c, &stmt_set_hint, 3, p, NULL);
}

/* Pending orders whose Checkout Session is past its lifetime, oldest
 * first: their outcome should have arrived by now. */
static const struct db_stmt stmt_unsettled = {
	"commerce_orders_unsettled",
	"SELECT id, checkout_session_id FROM orders WHERE status = 'pending' "
	"AND checkout_session_id IS NOT NULL AND checkout_expires_at < now() "
	"ORDER BY checkout_expires_at, id LIMIT $1"};

enum err orders_unsettled(struct db_conn *c, int limit, struct order_session **out, int *n)
{
	PGresult *res = NULL;
	char lim[24];
	commerce_ll_str(lim, limit);
	const char *p[] = {lim};
	*out = NULL;
	*n = 0;
	enum err rc = db_exec(c, &stmt_unsettled, 1, p, &res);
	if (rc != ERR_OK)
		goto out;
	int count = PQntuples(res);
	*out = xcalloc((size_t)count + 1, sizeof(**out));
	for (int i = 0; i < count; i++) {
		(*out)[i].order_id = db_int(res, i, 0);
		snprintf((*out)[i].session_id, sizeof((*out)[i].session_id), "%s",
			 db_text(res, i, 1));
	}
	*n = count;
out:
	PQclear(res);
	return rc;
}
