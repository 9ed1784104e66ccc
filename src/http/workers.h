/* A bounded pool of worker threads for work that may wait (request
 * handlers that talk to PostgreSQL, Stripe, S3 or wait for a password
 * hashing slot), so that the threads that read and write sockets never do.
 *
 * - Jobs are queued per lane, first in first out within a lane; a worker
 *   takes the oldest job of any lane that is under its cap. A lane's cap
 *   bounds how many workers its jobs may occupy at once (a bulkhead: a
 *   dependency that hangs holds at most its lane's share of the pool).
 * - The queue is bounded as a whole (queue_max): work_pool_submit refuses
 *   at once when it is full, so callers answer 503 instead of waiting.
 * - A job still queued queue_timeout_ms after it was submitted is not run:
 *   it is handed back, rejected, as soon as a worker is idle or the next
 *   job is submitted.
 *
 * A rejected or finished job is given back through its fn, called exactly
 * once, on a worker thread or (when rejected) on whichever thread noticed.
 * The pool knows nothing of HTTP. Every function is thread-safe. */
#ifndef CINEMA_HTTP_WORKERS_H
#define CINEMA_HTTP_WORKERS_H

#include <stdbool.h>
#include <stdint.h>

#define WORK_LANES 8

enum work_outcome {
	WORK_RUN,		/* do the work */
	WORK_REJECTED_TIMEOUT,	/* waited queue_timeout_ms without a worker */
	WORK_REJECTED_STOPPING, /* the pool is stopping */
};

struct work;
/* Called once per submitted job. fn must not submit to the same pool while
 * the outcome is a rejection for WORK_REJECTED_STOPPING. */
typedef void (*work_fn)(struct work *w, enum work_outcome outcome);

/* Embedded in the caller's own state; the pool links it while queued. */
struct work {
	struct work *next;
	work_fn fn;
	int64_t queued_ms;
	unsigned lane;
};

struct work_pool_options {
	int threads;
	int queue_max;
	int queue_timeout_ms;
	int lane_cap[WORK_LANES]; /* <= 0: no cap but the pool's size */
};

struct work_pool_lane_stats {
	unsigned queued, busy;
	unsigned long long done, rejected_full, rejected_timeout;
};

struct work_pool_stats {
	unsigned threads, queued, busy;
	struct work_pool_lane_stats lane[WORK_LANES];
};

/* Starts the threads; NULL if a thread cannot be created. */
struct work_pool *work_pool_new(const struct work_pool_options *opt);
/* Queues w (its fn set by the caller) on lane. Returns false, without
 * calling fn, when the queue is full or the pool is stopping. */
bool work_pool_submit(struct work_pool *p, struct work *w, unsigned lane);
/* Rejects every queued job (WORK_REJECTED_STOPPING), waits for running ones
 * to finish and joins the threads; from then on work_pool_submit refuses.
 * Idempotent. */
void work_pool_stop(struct work_pool *p);
/* work_pool_stop, then frees the pool. Accepts NULL. */
void work_pool_free(struct work_pool *p);
void work_pool_stats(struct work_pool *p, struct work_pool_stats *out);

#endif
