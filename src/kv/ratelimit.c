#include <string.h>

#include "cinema/kv.h"
#include "cinema/log.h"

bool kv_rate_allow(struct kv *kv, const char *key, int limit, int window_s, int *retry_after_s)
{
	redisReply *r = NULL;
	long long count = 0, ttl = -1;
	*retry_after_s = 0;
	/* INCR then EXPIRE NX in one round trip (MULTI would cost three). */
	if (kv_command(kv, &r, "EVAL %s 1 %s %d",
		       "local n = redis.call('INCR', KEYS[1]) "
		       "if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
		       "return {n, redis.call('TTL', KEYS[1])}",
		       key, window_s) != ERR_OK) {
		LOG_WARN("rate limit unavailable; allowing", LOG_STR("key", key));
		return true;
	}
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
		count = r->element[0]->integer;
		ttl = r->element[1]->integer;
	}
	freeReplyObject(r);
	if (count <= limit)
		return true;
	*retry_after_s = ttl > 0 ? (int)ttl : window_s;
	return false;
}
