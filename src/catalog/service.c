#include "catalog/service.h"

#include <stdio.h>

#include "catalog/list_cache.h"
#include "cinema/log.h"
#include "commerce/guard.h"
#include "media/service.h"

enum err catalog_list_movies(const struct app *app, const struct movie_filter *f,
			     bool caller_writes, struct buf *items, struct movie_page *pg)
{
	return movie_lists_read(app, f, caller_writes, items, pg);
}

bool catalog_list_movies_cached(const struct app *app, const struct movie_filter *f,
				bool caller_writes, struct buf *items, struct movie_page *pg)
{
	return movie_lists_peek(app, f, caller_writes, items, pg);
}

/* ---- movies ---- */

struct movie_read {
	long long id;
	const char *viewer;
	struct buf *out;
	size_t start;
};

static enum err movie_read_fn(struct db_conn *c, void *ctx)
{
	struct movie_read *r = ctx;
	buf_truncate(r->out, r->start);
	return movies_get(c, r->id, r->viewer, r->out);
}

enum err catalog_get_movie(const struct app *app, long long id, long long viewer, struct buf *out)
{
	char v[24];
	snprintf(v, sizeof(v), "%lld", viewer);
	struct movie_read r = {
		.id = id, .viewer = viewer ? v : NULL, .out = out, .start = out->len};
	/* A signed-in viewer's `me` must show the like made a moment ago: the
	 * primary. Anonymous callers see the public movie: the replica. */
	return db_read(app, viewer != 0, movie_read_fn, &r);
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

struct lookup_read {
	enum lookup_kind k;
	const char *name_like;
	long long id, limit, offset;
	struct buf *out;
	size_t start;
	long long *total;
};

static enum err lookup_all_fn(struct db_conn *c, void *ctx)
{
	struct lookup_read *r = ctx;
	buf_truncate(r->out, r->start);
	return lookup_list_all(c, r->k, r->out);
}

static enum err lookup_page_fn(struct db_conn *c, void *ctx)
{
	struct lookup_read *r = ctx;
	buf_truncate(r->out, r->start);
	return lookup_list(c, r->k, r->name_like, r->limit, r->offset, r->out, r->total);
}

static enum err lookup_get_fn(struct db_conn *c, void *ctx)
{
	struct lookup_read *r = ctx;
	buf_truncate(r->out, r->start);
	return lookup_get(c, r->k, r->id, r->out);
}

enum err catalog_lookup_all(const struct app *app, enum lookup_kind k, bool caller_writes,
			    struct buf *out)
{
	struct lookup_read r = {.k = k, .out = out, .start = out->len};
	return db_read(app, caller_writes, lookup_all_fn, &r);
}

enum err catalog_lookup_page(const struct app *app, enum lookup_kind k, bool caller_writes,
			     const char *name_like, long long limit, long long offset,
			     struct buf *items, long long *total)
{
	struct lookup_read r = {.k = k,
				.name_like = name_like,
				.limit = limit,
				.offset = offset,
				.out = items,
				.start = items->len,
				.total = total};
	return db_read(app, caller_writes, lookup_page_fn, &r);
}

enum err catalog_lookup_get(const struct app *app, enum lookup_kind k, bool caller_writes,
			    long long id, struct buf *out)
{
	struct lookup_read r = {.k = k, .id = id, .out = out, .start = out->len};
	return db_read(app, caller_writes, lookup_get_fn, &r);
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
	return rc == ERR_OK ? catalog_lookup_get(app, k, true, t.id, out) : rc;
}

enum err catalog_lookup_rename(const struct app *app, enum lookup_kind k, long long id,
			       const char *name, struct buf *out)
{
	struct lookup_tx t = {.k = k, .id = id, .name = name};
	enum err rc = db_transaction(app->db, lookup_rename_fn, &t);
	if (rc != ERR_OK)
		return rc;
	movie_lists_changed(app); /* the lists show the names */
	return catalog_lookup_get(app, k, true, id, out);
}

enum err catalog_lookup_delete(const struct app *app, enum lookup_kind k, long long id,
			       long long *in_use)
{
	struct lookup_tx t = {.k = k, .id = id};
	enum err rc = db_transaction(app->db, lookup_delete_fn, &t);
	*in_use = t.in_use;
	return rc;
}
