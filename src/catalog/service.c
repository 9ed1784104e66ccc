#include "catalog/service.h"

#include <stdio.h>

#include "catalog/list_cache.h"
#include "cinema/log.h"
#include "commerce/guard.h"
#include "media/service.h"

enum err catalog_list_movies(const struct app *app, const struct movie_filter *f, struct buf *items,
			     struct movie_page *pg)
{
	return movie_lists_read(app, f, items, pg);
}

bool catalog_list_movies_cached(const struct app *app, const struct movie_filter *f,
				struct buf *items, struct movie_page *pg)
{
	return movie_lists_peek(app, f, items, pg);
}

/* ---- movies ---- */

enum err catalog_get_movie(const struct app *app, long long id, long long viewer, struct buf *out)
{
	struct db_conn *c = NULL;
	char v[24];
	snprintf(v, sizeof(v), "%lld", viewer);
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = movies_get(c, id, viewer ? v : NULL, out);
	db_release(c);
	return rc;
}

struct movie_tx {
	const struct movie_fields *f;
	long long id;
	bool create;
	json_t *errors;
};

static enum err movie_write_fn(struct db_conn *c, void *ctx)
{
	struct movie_tx *t = ctx;
	void *missing = NULL;
	json_decref(t->errors);
	t->errors = NULL;
	enum err rc = movies_check_refs(c, t->f, &missing);
	if (rc == ERR_VALIDATION) {
		t->errors = missing;
		return rc;
	}
	if (rc == ERR_OK)
		rc = t->create ? movies_insert(c, t->f, &t->id) : movies_update(c, t->id, t->f);
	return rc;
}

enum err catalog_create_movie(const struct app *app, const struct movie_fields *f, long long *id,
			      json_t **errors)
{
	struct movie_tx t = {.f = f, .create = true};
	enum err rc = db_transaction(app->db, movie_write_fn, &t);
	*errors = t.errors;
	if (rc == ERR_OK) {
		*id = t.id;
		movie_lists_changed(app);
		LOG_INFO("movie created", LOG_INT("movie_id", t.id));
	}
	return rc;
}

enum err catalog_update_movie(const struct app *app, long long id, const struct movie_fields *f,
			      json_t **errors)
{
	struct movie_tx t = {.f = f, .id = id};
	enum err rc = db_transaction(app->db, movie_write_fn, &t);
	*errors = t.errors;
	if (rc == ERR_OK) {
		movie_lists_changed(app);
		LOG_INFO("movie updated", LOG_INT("movie_id", id));
	}
	return rc;
}

/* A movie that was bought (or is in any order) must stay; one in carts
 * goes only when forced, and leaves those carts with it. */
static enum err catalog_delete_guard(struct db_conn *c, long long id, bool force, long long *carts)
{
	bool ordered = false;
	enum err rc = commerce_movie_usage(c, id, &ordered, carts);
	if (rc != ERR_OK)
		return rc;
	if (ordered)
		return ERR_MOVIE_PURCHASED;
	if (*carts > 0 && !force)
		return ERR_MOVIE_IN_CARTS;
	return ERR_OK;
}

struct delete_tx {
	long long id, carts;
	bool force;
};

static enum err delete_fn(struct db_conn *c, void *ctx)
{
	struct delete_tx *t = ctx;
	enum err rc = catalog_delete_guard(c, t->id, t->force, &t->carts);
	if (rc == ERR_OK)
		rc = movies_delete(c, t->id);
	return rc;
}

enum err catalog_delete_movie(const struct app *app, long long id, bool force, long long *carts)
{
	struct delete_tx t = {.id = id, .force = force};
	enum err rc = db_transaction(app->db, delete_fn, &t);
	*carts = t.carts;
	if (rc == ERR_OK) {
		movie_lists_changed(app);
		media_trash_changed(app); /* its media rows cascaded into media_trash */
		LOG_INFO("movie deleted", LOG_INT("movie_id", id));
	}
	return rc;
}

/* ---- lookups ---- */

enum err catalog_lookup_all(const struct app *app, enum lookup_kind k, struct buf *out)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = lookup_list_all(c, k, out);
	db_release(c);
	return rc;
}

enum err catalog_lookup_page(const struct app *app, enum lookup_kind k, const char *name_like,
			     long long limit, long long offset, struct buf *items, long long *total)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = lookup_list(c, k, name_like, limit, offset, items, total);
	db_release(c);
	return rc;
}

enum err catalog_lookup_get(const struct app *app, enum lookup_kind k, long long id,
			    struct buf *out)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = lookup_get(c, k, id, out);
	db_release(c);
	return rc;
}

struct lookup_tx {
	enum lookup_kind k;
	long long id, in_use;
	const char *name;
};

static enum err lookup_create_fn(struct db_conn *c, void *ctx)
{
	struct lookup_tx *t = ctx;
	return lookup_create(c, t->k, t->name, &t->id);
}

static enum err lookup_rename_fn(struct db_conn *c, void *ctx)
{
	struct lookup_tx *t = ctx;
	return lookup_rename(c, t->k, t->id, t->name);
}

static enum err lookup_delete_fn(struct db_conn *c, void *ctx)
{
	struct lookup_tx *t = ctx;
	return lookup_delete(c, t->k, t->id, &t->in_use);
}

enum err catalog_lookup_create(const struct app *app, enum lookup_kind k, const char *name,
			       struct buf *out)
{
	struct lookup_tx t = {.k = k, .name = name};
	enum err rc = db_transaction(app->db, lookup_create_fn, &t);
	return rc == ERR_OK ? catalog_lookup_get(app, k, t.id, out) : rc;
}

enum err catalog_lookup_rename(const struct app *app, enum lookup_kind k, long long id,
			       const char *name, struct buf *out)
{
	struct lookup_tx t = {.k = k, .id = id, .name = name};
	enum err rc = db_transaction(app->db, lookup_rename_fn, &t);
	if (rc != ERR_OK)
		return rc;
	movie_lists_changed(app); /* the lists show the names */
	return catalog_lookup_get(app, k, id, out);
}

enum err catalog_lookup_delete(const struct app *app, enum lookup_kind k, long long id,
			       long long *in_use)
{
	struct lookup_tx t = {.k = k, .id = id};
	enum err rc = db_transaction(app->db, lookup_delete_fn, &t);
	*in_use = t.in_use;
	return rc;
}
