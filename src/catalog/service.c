#include "catalog/service.h"

#include <stdio.h>

#include "cinema/cache.h"
#include "cinema/kv.h"
#include "cinema/log.h"
#include "commerce/guard.h"

/* ---- the public list cache ---- */

/* The key of a public list: every filter in a fixed order. The values are
 * validated already (digits, decimals, tsquery words), so none holds '|'. */
static size_t list_cache_key(const struct movie_filter *f, char *key, size_t keylen)
{
	const char *v[] = {f->year,	 f->year_min,  f->year_max, f->imdb_min,      f->imdb_max,
			   f->price_min, f->price_max, f->genre,    f->certification, f->star,
			   f->director,	 f->tsquery,   f->sort};
	size_t o = (size_t)snprintf(key, keylen, "%lld|%lld", f->limit, f->offset);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]) && o < keylen; i++)
		o += (size_t)snprintf(key + o, keylen - o, "|%s", v[i] ? v[i] : "");
	return o < keylen ? o : 0; /* 0: too long to cache */
}

static enum err list_from_db(const struct app *app, const struct movie_filter *f, struct buf *items,
			     long long *total)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = movies_list(c, f, items, total);
	db_release(c);
	return rc;
}

enum err catalog_list_movies(const struct app *app, const struct movie_filter *f, struct buf *items,
			     long long *total)
{
	char key[1024];
	size_t klen = 0;
	uint64_t gen = 0;
	/* Lists of one user's favorites or purchases are never shared. */
	if (app->catalog_cache && !f->favorites_of && !f->purchased_by)
		klen = list_cache_key(f, key, sizeof(key));
	if (klen && cache_get(app->catalog_cache, key, klen, items, total, &gen))
		return ERR_OK;
	size_t start = items->len;
	enum err rc = list_from_db(app, f, items, total);
	if (rc == ERR_OK && klen)
		cache_put(app->catalog_cache, key, klen, gen, items->data + start,
			  items->len - start, *total);
	return rc;
}

static void catalog_cache_drop(void *ctx)
{
	cache_invalidate(ctx);
}

struct kv_subscription *catalog_cache_listen(const struct app *app)
{
	if (!app->catalog_cache)
		return NULL;
	return kv_subscribe(app->kv, CATALOG_CHANNEL, catalog_cache_drop, app->catalog_cache);
}

/* After a committed write that changes what lists show: drop this process's
 * cached lists at once, and tell the other processes. */
static void catalog_changed(const struct app *app)
{
	if (!app->catalog_cache)
		return;
	cache_invalidate(app->catalog_cache);
	if (kv_command(app->kv, NULL, "PUBLISH %s 1", CATALOG_CHANNEL) != ERR_OK)
		LOG_WARN("catalog change not published: other processes may serve cached lists "
			 "until they expire");
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
		catalog_changed(app);
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
		catalog_changed(app);
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
		catalog_changed(app);
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
	catalog_changed(app); /* the lists show the names */
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
