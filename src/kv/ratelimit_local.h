/* The rate limiter's fallback while Redis is unreachable: fixed-window
 * counters kept in this process, in a table of fixed size allocated once.
 * Knows nothing about Redis or HTTP. */
#ifndef CINEMA_KV_RATELIMIT_LOCAL_H
#define CINEMA_KV_RATELIMIT_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Counters are grouped in sets of this many; a key lives in one set, chosen
 * by a keyed hash (SipHash with a random key per table), so a client cannot
 * aim its keys at another client's set. */
#define RATE_LOCAL_WAYS 8

struct rate_local;

/* A table of at least `entries` counters (rounded up to a power of two of
 * whole sets); its memory never grows afterwards. Needs sodium_init. */
struct rate_local *rate_local_new(size_t entries);
/* Frees the table (NULL is a no-op). */
void rate_local_free(struct rate_local *t);
/* How many counters the table holds. */
size_t rate_local_capacity(const struct rate_local *t);
/* Counters whose window is still open at now_ms (for tests and metrics). */
size_t rate_local_live(struct rate_local *t, int64_t now_ms);

/* kv_rate_allow's semantics on the local table: counts one hit on key at
 * now_ms (monotonic milliseconds); the first hit opens a window of window_s
 * seconds. True while the window's count is within limit; otherwise false
 * with *retry_after_s set to the seconds left in the window (at least 1).
 * A new key takes a counter whose window is over, else evicts the counter
 * of its set with the fewest hits (ties: the one closing first), so keys
 * over their limit are the last to be forgotten. Thread-safe (a mutex per
 * set); never allocates. */
bool rate_local_hit(struct rate_local *t, const char *key, int limit, int window_s, int64_t now_ms,
		    int *retry_after_s);

#endif
