#include "commerce/guard.h"

#include <stdio.h>

/* An order item keeps its movie (order history and refunds need it), so a
 * movie in any order counts as bought for deletion. */
static const struct db_stmt stmt_usage = {
	"commerce_movie_usage", "SELECT EXISTS (SELECT 1 FROM purchases WHERE movie_id = $1) "
				"OR EXISTS (SELECT 1 FROM order_items WHERE movie_id = $1), "
				"(SELECT count(*) FROM cart_items WHERE movie_id = $1)"};

enum err commerce_movie_usage(struct db_conn *c, long long movie_id, bool *ordered,
			      long long *carts)
{
	PGresult *res = NULL;
	char id[24];
	snprintf(id, sizeof(id), "%lld", movie_id);
	const char *p[] = {id};
	enum err rc = db_exec(c, &stmt_usage, 1, p, &res);
	if (rc == ERR_OK) {
		*ordered = db_bool(res, 0, 0);
		*carts = db_int(res, 0, 1);
	}
	PQclear(res);
	return rc;
}
