/* Inside src/kv only. */
#ifndef CINEMA_KV_PRIVATE_H
#define CINEMA_KV_PRIVATE_H

#include <hiredis/hiredis.h>

struct kv;

/* A new connection, authenticated and on the right database, with the
 * client's command timeout; NULL (logged) when Redis cannot be reached. */
redisContext *kv_connect(struct kv *kv);

/* The client's local rate counters (ratelimit_local.h), used while Redis
 * cannot be reached; borrowed, live as long as kv. */
struct rate_local *kv_local_rates(struct kv *kv);

#endif
