/* Payment history (spec section 5); payments are written by the webhook. */
#include "cinema/db.h"
#include "commerce/service.h"

enum err payment_get(const struct app *app, long long user_id, long long id, struct buf *out)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = payments_render(c, id, user_id, out);
	db_release(c);
	return rc;
}

enum err payment_list(const struct app *app, const struct commerce_filter *f, bool admin,
		      struct buf *items, long long *total)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = payments_list(c, f, admin, items, total);
	db_release(c);
	return rc;
}
