#include <stdio.h>
#include <stdlib.h>

#include "cinema/mem.h"
#include "commerce/repo.h"

/* One cart line as the buyer sees it; m is the movie, ci the cart item. */
#define CART_ITEM_JSON                                                                 \
	"json_build_object('movie_id', m.id, 'name', m.name, 'price', m.price::text, " \
	"'year', m.year, 'genres', coalesce((SELECT json_agg(g.name ORDER BY g.name) " \
	"FROM movie_genres mg JOIN genres g ON g.id = mg.genre_id "                    \
	"WHERE mg.movie_id = m.id), '[]'), 'added_at', " RFC3339("ci.added_at") ")"
#define CART_ITEMS_AGG "coalesce(json_agg(" CART_ITEM_JSON " ORDER BY ci.added_at, ci.id), '[]')"
#define CART_TOTAL     "coalesce(sum(m.price), 0)::numeric(12, 2)::text"

static const struct db_stmt stmt_cart_create = {
	"commerce_cart_create",
	"INSERT INTO carts (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING"};
static const struct db_stmt stmt_cart_id = {"commerce_cart_id",
					    "SELECT id FROM carts WHERE user_id = $1"};
static const struct db_stmt stmt_cart_id_lock = {
	"commerce_cart_id_lock", "SELECT id FROM carts WHERE user_id = $1 FOR UPDATE"};

enum err carts_ensure(struct db_conn *c, long long user_id, bool lock, long long *cart_id)
{
	PGresult *res = NULL;
	char uid[24];
	commerce_ll_str(uid, user_id);
	const char *p[] = {uid};
	enum err rc = db_exec(c, &stmt_cart_create, 1, p, NULL);
	if (rc == ERR_OK)
		rc = db_exec(c, lock ? &stmt_cart_id_lock : &stmt_cart_id, 1, p, &res);
	if (rc == ERR_OK && PQntuples(res) != 1)
		rc = ERR_INTERNAL; /* created above and never deleted but with the user */
	if (rc == ERR_OK)
		*cart_id = db_int(res, 0, 0);
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_cart_render = {
	"commerce_cart_render",
	"SELECT json_build_object('items', " CART_ITEMS_AGG ", 'total', " CART_TOTAL ")::text "
	"FROM carts c JOIN cart_items ci ON ci.cart_id = c.id JOIN movies m ON m.id = ci.movie_id "
	"WHERE c.user_id = $1"};

enum err carts_render(struct db_conn *c, long long user_id, struct buf *out)
{
	PGresult *res = NULL;
	char uid[24];
	commerce_ll_str(uid, user_id);
	const char *p[] = {uid};
	enum err rc = db_exec(c, &stmt_cart_render, 1, p, &res);
	if (rc == ERR_OK)
		buf_append_json_compact(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_movie_state = {
	"commerce_cart_movie_state",
	"SELECT EXISTS (SELECT 1 FROM movies WHERE id = $2), "
	"EXISTS (SELECT 1 FROM purchases WHERE user_id = $1 AND movie_id = $2)"};

enum err carts_movie_state(struct db_conn *c, long long user_id, long long movie_id, bool *exists,
			   bool *purchased)
{
	PGresult *res = NULL;
	char uid[24], mid[24];
	commerce_ll_str(uid, user_id);
	commerce_ll_str(mid, movie_id);
	const char *p[] = {uid, mid};
	enum err rc = db_exec(c, &stmt_movie_state, 2, p, &res);
	if (rc == ERR_OK) {
		*exists = db_bool(res, 0, 0);
		*purchased = db_bool(res, 0, 1);
	}
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_item_insert = {
	"commerce_cart_item_insert", "INSERT INTO cart_items (cart_id, movie_id) VALUES ($1, $2) "
				     "ON CONFLICT (cart_id, movie_id) DO NOTHING RETURNING id"};

enum err cart_items_insert(struct db_conn *c, long long cart_id, long long movie_id, bool *added)
{
	PGresult *res = NULL;
	char cid[24], mid[24];
	commerce_ll_str(cid, cart_id);
	commerce_ll_str(mid, movie_id);
	const char *p[] = {cid, mid};
	enum err rc = db_exec(c, &stmt_item_insert, 2, p, &res);
	if (rc == ERR_OK)
		*added = PQntuples(res) == 1;
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_item_delete = {
	"commerce_cart_item_delete",
	"DELETE FROM cart_items ci USING carts c WHERE ci.cart_id = c.id AND c.user_id = $1 "
	"AND ci.movie_id = $2"};

enum err cart_items_delete(struct db_conn *c, long long user_id, long long movie_id)
{
	PGresult *res = NULL;
	char uid[24], mid[24];
	commerce_ll_str(uid, user_id);
	commerce_ll_str(mid, movie_id);
	const char *p[] = {uid, mid};
	enum err rc = db_exec(c, &stmt_item_delete, 2, p, &res);
	if (rc == ERR_OK && atoll(PQcmdTuples(res)) == 0)
		rc = ERR_NOT_FOUND;
	PQclear(res);
	return rc;
}

static const struct db_stmt stmt_items_clear = {
	"commerce_cart_clear",
	"DELETE FROM cart_items ci USING carts c WHERE ci.cart_id = c.id AND c.user_id = $1"};

enum err cart_items_clear(struct db_conn *c, long long user_id)
{
	char uid[24];
	commerce_ll_str(uid, user_id);
	const char *p[] = {uid};
	return db_exec(c, &stmt_items_clear, 1, p, NULL);
}

static const struct db_stmt stmt_items_remove = {
	"commerce_cart_items_remove",
	"DELETE FROM cart_items WHERE cart_id = $1 AND movie_id = ANY ($2::bigint[])"};

enum err cart_items_remove(struct db_conn *c, long long cart_id, const char *movie_ids)
{
	char cid[24];
	commerce_ll_str(cid, cart_id);
	const char *p[] = {cid, movie_ids};
	return db_exec(c, &stmt_items_remove, 2, p, NULL);
}

/* A movie in another pending order of the user would be bought twice if
 * both orders were paid; one the user owns cannot be bought again. */
static const struct db_stmt stmt_classify = {
	"commerce_cart_classify",
	"SELECT ci.movie_id, CASE "
	"WHEN EXISTS (SELECT 1 FROM purchases p WHERE p.user_id = $2 "
	"AND p.movie_id = ci.movie_id) THEN 1 "
	"WHEN EXISTS (SELECT 1 FROM order_items oi JOIN orders o ON o.id = oi.order_id "
	"WHERE o.user_id = $2 AND o.status = 'pending' AND oi.movie_id = ci.movie_id) THEN 2 "
	"ELSE 0 END "
	"FROM cart_items ci WHERE ci.cart_id = $1 ORDER BY ci.added_at, ci.id"};

enum err cart_items_classify(struct db_conn *c, long long cart_id, long long user_id,
			     struct cart_line **lines, int *n)
{
	static const char *const reasons[] = {NULL, "already_purchased", "in_pending_order"};
	PGresult *res = NULL;
	char cid[24], uid[24];
	commerce_ll_str(cid, cart_id);
	commerce_ll_str(uid, user_id);
	const char *p[] = {cid, uid};
	*lines = NULL;
	*n = 0;
	enum err rc = db_exec(c, &stmt_classify, 2, p, &res);
	if (rc != ERR_OK)
		goto out;
	*n = PQntuples(res);
	*lines = xcalloc((size_t)*n + 1, sizeof(**lines));
	for (int i = 0; i < *n; i++) {
		long long why = db_int(res, i, 1);
		(*lines)[i].movie_id = db_int(res, i, 0);
		(*lines)[i].reason = why >= 0 && why <= 2 ? reasons[why] : NULL;
	}
out:
	PQclear(res);
	return rc;
}

#define ADMIN_CART_FILTER                                       \
	"WHERE ($1::bigint IS NULL OR c.user_id = $1::bigint) " \
	"AND EXISTS (SELECT 1 FROM cart_items x WHERE x.cart_id = c.id)"

static const struct db_stmt stmt_admin_count = {"commerce_admin_carts_count",
						"SELECT count(*) FROM carts c " ADMIN_CART_FILTER};
static const struct db_stmt stmt_admin_list = {
	"commerce_admin_carts_list",
	"SELECT json_build_object('user_id', c.user_id, 'email', u.email, "
	"'items', (SELECT " CART_ITEMS_AGG
	" FROM cart_items ci JOIN movies m ON m.id = ci.movie_id "
	"WHERE ci.cart_id = c.id), "
	"'total', (SELECT " CART_TOTAL " FROM cart_items ci JOIN movies m ON m.id = ci.movie_id "
	"WHERE ci.cart_id = c.id))::text "
	"FROM carts c JOIN users u ON u.id = c.user_id " ADMIN_CART_FILTER
	" ORDER BY c.id DESC LIMIT $2 OFFSET $3"};

enum err carts_admin_list(struct db_conn *c, const char *user_id, long long limit, long long offset,
			  struct buf *items, long long *total)
{
	const char *p[] = {user_id};
	return commerce_page(c, &stmt_admin_count, &stmt_admin_list, 1, p, limit, offset, items,
			     total);
}
