/* The cart (spec section 3): one per user, created on first use. */
#include "cinema/db.h"
#include "cinema/log.h"
#include "commerce/service.h"

enum err cart_get(const struct app *app, long long user_id, struct buf *out)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = carts_render(c, user_id, out);
	db_release(c);
	return rc;
}

struct add_tx {
	long long user_id, movie_id;
	struct buf *out;
};

static enum err add_fn(struct db_conn *c, void *ctx)
{
	struct add_tx *t = ctx;
	long long cart_id = 0;
	bool exists = false, purchased = false, added = false;
	buf_reset(t->out); /* a retried run starts over */
	enum err rc = carts_movie_state(c, t->user_id, t->movie_id, &exists, &purchased);
	if (rc != ERR_OK)
		return rc;
	if (!exists)
		return ERR_NOT_FOUND;
	if (purchased)
		return ERR_ALREADY_PURCHASED;
	rc = carts_ensure(c, t->user_id, false, &cart_id);
	if (rc == ERR_OK)
		rc = cart_items_insert(c, cart_id, t->movie_id, &added);
	if (rc == ERR_IN_USE)
		return ERR_NOT_FOUND; /* the movie was deleted meanwhile */
	if (rc == ERR_OK && !added)
		rc = ERR_ALREADY_IN_CART;
	if (rc == ERR_OK)
		rc = carts_render(c, t->user_id, t->out);
	return rc;
}

enum err cart_add_item(const struct app *app, long long user_id, long long movie_id,
		       struct buf *out)
{
	struct add_tx t = {user_id, movie_id, out};
	enum err rc = db_transaction(app->db, add_fn, &t);
	if (rc == ERR_OK)
		LOG_INFO("movie added to cart", LOG_INT("user_id", user_id),
			 LOG_INT("movie_id", movie_id));
	return rc;
}

struct remove_tx {
	long long user_id, movie_id;
};

static enum err remove_fn(struct db_conn *c, void *ctx)
{
	struct remove_tx *t = ctx;
	return cart_items_delete(c, t->user_id, t->movie_id);
}

enum err cart_remove_item(const struct app *app, long long user_id, long long movie_id)
{
	struct remove_tx t = {user_id, movie_id};
	return db_transaction(app->db, remove_fn, &t);
}

static enum err clear_fn(struct db_conn *c, void *ctx)
{
	return cart_items_clear(c, *(const long long *)ctx);
}

enum err cart_clear(const struct app *app, long long user_id)
{
	return db_transaction(app->db, clear_fn, &user_id);
}

enum err cart_admin_list(const struct app *app, const char *user_id, const struct page *pg,
			 struct buf *items, long long *total)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = carts_admin_list(c, user_id, pg->per_page, pg->offset, items, total);
	db_release(c);
	return rc;
}
