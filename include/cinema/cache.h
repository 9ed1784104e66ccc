/* A bounded in-process cache of rendered responses, for reads that many
 * callers repeat (the public catalog list and search).
 *
 * - Entries live ttl_ms, then for another ttl_ms are still served while one
 *   caller, told so by CACHE_STALE, refreshes them (stale-while-revalidate):
 *   a popular key never sends a crowd of identical queries to the database.
 * - cache_invalidate() makes every entry unusable at once, and a value read
 *   from the database before an invalidation is never stored after it: the
 *   caller passes back the generation cache_get() gave it.
 * - Memory is bounded by max_bytes (keys and values). Keys hash to sets of
 *   64 entries and 512 KiB or more, each with its own mutex and its own
 *   share of max_bytes, so threads rarely meet and a full set evicts only
 *   its own entries (those that go stale first). A value larger than a
 *   quarter of a set's share is not stored.
 * Thread-safe. A NULL cache (disabled) is a valid argument everywhere. */
#ifndef CINEMA_CACHE_H
#define CINEMA_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cinema/buf.h"

struct cache;

/* NULL when ttl_ms or max_bytes is 0: the cache is off. */
struct cache *cache_new(size_t max_bytes, int ttl_ms);
void cache_free(struct cache *c);

enum cache_result {
	CACHE_MISS,  /* nothing usable: compute the value and cache_put it */
	CACHE_HIT,   /* value appended */
	CACHE_STALE, /* value appended, past its TTL: this caller (and only this
		      * one, for a while) should compute a new one and put it */
};

/* Looks key up. On CACHE_HIT and CACHE_STALE appends the value to out and
 * sets *aux to the number stored with it. Always sets *gen, to be passed to
 * cache_put with a value computed after this call. */
enum cache_result cache_get(struct cache *c, const char *key, size_t klen, struct buf *out,
			    long long *aux, uint64_t *gen);
/* Stores a value computed after cache_get returned gen; dropped when the
 * cache was invalidated since, or when it does not fit. */
void cache_put(struct cache *c, const char *key, size_t klen, uint64_t gen, const char *val,
	       size_t vlen, long long aux);
/* Every entry stored so far becomes a miss. */
void cache_invalidate(struct cache *c);

struct cache_stats {
	uint64_t hits, misses, stores;
	size_t bytes;
};
void cache_stats(struct cache *c, struct cache_stats *out);

#endif
