/* Redis client (hiredis) shared by all threads: a small locked set of
 * connections, each reconnected on demand, so Redis restarts heal without
 * restarting the process. Used for the job queue and rate limits. */
#ifndef CINEMA_KV_H
#define CINEMA_KV_H

#include <hiredis/hiredis.h>
#include <stdbool.h>

#include "cinema/error.h"

struct kv;

struct kv_options {
	const char *url; /* redis://[:password@]host[:port][/db] or unix:///path */
	int pool_size;
	int timeout_ms; /* connect and command timeout */
};

/* Parses the URL and creates the client; connects lazily. Returns NULL and
 * writes a reason into err on a malformed URL. */
struct kv *kv_new(const struct kv_options *opt, char *err, size_t errlen);
void kv_free(struct kv *kv);

/* Runs one command (hiredis format). On success *reply (may be NULL to
 * discard) owns the reply: release with freeReplyObject. A Redis error reply
 * is returned as ERR_INTERNAL; an I/O failure drops the connection, retries
 * once on a fresh one, then returns ERR_REDIS_UNAVAILABLE. Thread-safe. */
enum err kv_command(struct kv *kv, redisReply **reply, const char *fmt, ...);
/* PING; true when Redis answered PONG. */
bool kv_ping(struct kv *kv);
/* The database number of the URL (0 by default). Pub/Sub channels are
 * shared by every database of a server: name them with it to keep the
 * deployments that share a server apart. */
int kv_db(const struct kv *kv);

/* Fixed-window rate limit: counts one hit on key (INCR, expiry set on the
 * first hit of a window) and tells whether it is within limit per window_s.
 * When over, *retry_after_s gets the seconds until the window ends. When
 * Redis cannot be reached the hit is counted in this process instead (same
 * limit and window, in a table of fixed size; src/kv/ratelimit_local.h), so
 * brute force is still throttled per process; the failure is logged. */
bool kv_rate_allow(struct kv *kv, const char *key, int limit, int window_s, int *retry_after_s);

/* Listens on a Pub/Sub channel on a connection of its own, in a thread,
 * and calls on_message(ctx) from that thread for every message. Messages
 * published while it is not subscribed (Redis down, reconnecting) are lost,
 * so it also calls on_message once after each (re)subscription: callers use
 * a message as "something changed", never for its content. Reconnects with
 * backoff up to 5 s. Returns once the first attempt to subscribe is over
 * (a few times the client's timeout when Redis does not answer), so when
 * Redis is up no message published after the call is missed. Returns NULL
 * only when the thread cannot start. */
struct kv_subscription;
struct kv_subscription *kv_subscribe(struct kv *kv, const char *channel,
				     void (*on_message)(void *ctx), void *ctx);
/* Stops the thread and frees the subscription (NULL is a no-op). */
void kv_subscription_stop(struct kv_subscription *sub);

#endif
