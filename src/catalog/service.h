/* Catalog rules: reading is one query per request; writes run in one
 * transaction that checks references first. */
#ifndef CINEMA_CATALOG_SERVICE_H
#define CINEMA_CATALOG_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "catalog/repo.h"
#include "cinema/app.h"

/* Redis Pub/Sub channel on which a catalog write tells every API process
 * to drop its cached lists. */
#define CATALOG_CHANNEL "cinema:catalog:changed"

/* The public list (no favorites_of or purchased_by) is served from
 * app->catalog_cache when there: at most CATALOG_CACHE_TTL_MS old, dropped
 * at once by a movie or lookup write in any process (see
 * catalog_cache_listen). Counters (likes, ratings, popularity) in a cached
 * page may lag by that TTL. */
enum err catalog_list_movies(const struct app *app, const struct movie_filter *f, struct buf *items,
			     long long *total);
/* Starts listening for other processes' catalog writes; NULL when the
 * cache is off. Stop with kv_subscription_stop. */
struct kv_subscription *catalog_cache_listen(const struct app *app);
enum err catalog_get_movie(const struct app *app, long long id, long long viewer, struct buf *out);
/* On ERR_VALIDATION *errors gets an owned JSON array naming the unknown ids. */
enum err catalog_create_movie(const struct app *app, const struct movie_fields *f, long long *id,
			      json_t **errors);
enum err catalog_update_movie(const struct app *app, long long id, const struct movie_fields *f,
			      json_t **errors);
/* Refuses a movie someone bought or ordered (ERR_MOVIE_PURCHASED) or that
 * sits in carts unless force (ERR_MOVIE_IN_CARTS; *carts says how many). */
enum err catalog_delete_movie(const struct app *app, long long id, bool force, long long *carts);

enum err catalog_lookup_all(const struct app *app, enum lookup_kind k, struct buf *out);
enum err catalog_lookup_page(const struct app *app, enum lookup_kind k, const char *name_like,
			     long long limit, long long offset, struct buf *items,
			     long long *total);
enum err catalog_lookup_get(const struct app *app, enum lookup_kind k, long long id,
			    struct buf *out);
enum err catalog_lookup_create(const struct app *app, enum lookup_kind k, const char *name,
			       struct buf *out);
enum err catalog_lookup_rename(const struct app *app, enum lookup_kind k, long long id,
			       const char *name, struct buf *out);
enum err catalog_lookup_delete(const struct app *app, enum lookup_kind k, long long id,
			       long long *in_use);

#endif
