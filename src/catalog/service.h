/* Catalog rules: reading is one query per request; writes run in one
 * transaction that checks references first. */
#ifndef CINEMA_CATALOG_SERVICE_H
#define CINEMA_CATALOG_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "catalog/repo.h"
#include "cinema/app.h"

/* Where reads go (db_read in cinema/db.h; docs/SCALING.md, "Read
 * replica"): the public catalog reads the read replica when one is set;
 * caller_writes (a moderator or an admin, who must read their own writes at
 * once), one user's favorites or purchases, a signed-in viewer's movie and
 * every write use the primary. */

/* The public list (no favorites_of or purchased_by) is served from the
 * list cache when it is on (catalog/list_cache.h): a movie or lookup write
 * in any process drops it at once; counters in a cached page (likes,
 * ratings, popularity) may lag by twice CATALOG_CACHE_TTL_MS. */
enum err catalog_list_movies(const struct app *app, const struct movie_filter *f,
			     bool caller_writes, struct buf *items, struct movie_page *pg);
/* The list from memory only (never waits): false when it is not cached. */
bool catalog_list_movies_cached(const struct app *app, const struct movie_filter *f,
				bool caller_writes, struct buf *items, struct movie_page *pg);
/* viewer: the signed-in caller (its `me`, read on the primary), or 0. */
enum err catalog_get_movie(const struct app *app, long long id, long long viewer, struct buf *out);
/* On ERR_VALIDATION *errors gets an owned JSON array naming the unknown ids. */
enum err catalog_create_movie(const struct app *app, const struct movie_fields *f, long long *id,
			      json_t **errors);
enum err catalog_update_movie(const struct app *app, long long id, const struct movie_fields *f,
			      json_t **errors);
/* Refuses a movie someone bought or ordered (ERR_MOVIE_PURCHASED) or that
 * sits in carts unless force (ERR_MOVIE_IN_CARTS; *carts says how many). */
enum err catalog_delete_movie(const struct app *app, long long id, bool force, long long *carts);

enum err catalog_lookup_all(const struct app *app, enum lookup_kind k, bool caller_writes,
			    struct buf *out);
enum err catalog_lookup_page(const struct app *app, enum lookup_kind k, bool caller_writes,
			     const char *name_like, long long limit, long long offset,
			     struct buf *items, long long *total);
enum err catalog_lookup_get(const struct app *app, enum lookup_kind k, bool caller_writes,
			    long long id, struct buf *out);
enum err catalog_lookup_create(const struct app *app, enum lookup_kind k, const char *name,
			       struct buf *out);
enum err catalog_lookup_rename(const struct app *app, enum lookup_kind k, long long id,
			       const char *name, struct buf *out);
enum err catalog_lookup_delete(const struct app *app, enum lookup_kind k, long long id,
			       long long *in_use);

#endif
