#include <stdatomic.h>
#include <string.h>

#include "cinema/clock.h"
#include "cinema/kv.h"
#include "cinema/log.h"
#include "kv/kv_private.h"
#include "kv/ratelimit_local.h"

/* Says so at most once every 10 s: while Redis is down every sign-in would
 * log it, and the keys (emails, addresses) stay out of the log. */
static void warn_local(void)
{
	static atomic_llong last;
	long long now = mono_ms(), prev = atomic_load(&last);
	if ((prev == 0 || now - prev >= 10000) && atomic_compare_exchange_strong(&last, &prev, now))
		LOG_WARN("rate limits counted in this process; redis unavailable");
}

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
		/* Failing open would let brute force run while Redis is down:
		 * count in this process instead (per process, not across
		 * replicas, and from zero: hits counted in Redis are unknown). */
		warn_local();
		return rate_local_hit(kv_local_rates(kv), key, limit, window_s, mono_ms(),
				      retry_after_s);
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
