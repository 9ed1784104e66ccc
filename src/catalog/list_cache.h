/* The cache of public movie lists (GET /movies without favorites or
 * purchases): rendered pages kept for CATALOG_CACHE_TTL_MS in a bounded
 * cache (include/cinema/cache.h), keyed by the validated filters.
 *
 * - A page past its TTL is still served while a background thread reads a
 *   new one, so no HTTP thread waits on the database for a page that is
 *   merely old (only for one never seen, or dropped).
 * - A catalog write drops every page of this process at once and publishes
 *   on CATALOG_CHANNEL:<redis db> (channels are server-wide; the number
 *   keeps deployments sharing a Redis server apart); every process listens
 *   there (a Redis Pub/Sub thread) and drops its pages too, so moderators'
 *   edits show everywhere at once.
 * - Counters in a cached page (likes, ratings, popularity) may lag by twice
 *   the TTL. */
#ifndef CINEMA_CATALOG_LIST_CACHE_H
#define CINEMA_CATALOG_LIST_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog/repo.h"
#include "cinema/app.h"
#include "cinema/cache.h"

#define CATALOG_CHANNEL "cinema:catalog:changed"

/* Starts the cache, its refresh threads and its Redis listener; NULL when
 * ttl_ms or max_bytes is 0 (off). app (its db and kv) is used from those
 * threads until movie_lists_stop, so it must outlive the cache. */
struct movie_lists *movie_lists_start(const struct app *app, size_t max_bytes, int ttl_ms);
/* Stops the threads and frees everything (NULL is a no-op). */
void movie_lists_stop(struct movie_lists *ml);

/* The page of f: from the cache when f is public and the cache is on,
 * else from the database (db_read: the read replica for public pages).
 * Appends the items JSON array to items. caller_writes (a moderator or an
 * admin) reads the primary, and skips the cache when there is a replica. */
enum err movie_lists_read(const struct app *app, const struct movie_filter *f, bool caller_writes,
			  struct buf *items, struct movie_page *pg);
/* The page of f when the cache holds it (fresh, or stale with a refresh
 * queued) and the caller may be given it: appends it and returns true.
 * Never waits on the database, so it may run on a socket thread; false
 * means "read it on a worker". */
bool movie_lists_peek(const struct app *app, const struct movie_filter *f, bool caller_writes,
		      struct buf *items, struct movie_page *pg);
/* After a committed write that changes what lists show: drops the cached
 * pages here and tells the other processes. */
void movie_lists_changed(const struct app *app);
/* Tells every API process to drop its cached pages (a Redis PUBLISH; a
 * failure is logged). For writers outside the API, such as the seed. */
void movie_lists_announce(struct kv *kv);
/* Hit and miss counters and bytes held (zeros when off). */
void movie_lists_stats(const struct app *app, struct cache_stats *out);

#endif
