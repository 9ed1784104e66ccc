/* Fixed-window counters in a set-associative table (see ratelimit_local.h).
 * A counter is 24 bytes; a key is kept as its 64-bit keyed hash only, so the
 * table holds no addresses, and two keys that collide (about one chance in
 * 2^64 per pair) merely share a counter, which can only make the limit
 * stricter. */
#include "kv/ratelimit_local.h"

#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "cinema/mem.h"

struct rate_counter {
	uint64_t tag;	 /* keyed hash of the key; 0: unused */
	int64_t ends_ms; /* the window closes at this monotonic time */
	int count;	 /* hits in the window */
};

struct rate_set {
	pthread_mutex_t lock;
	struct rate_counter way[RATE_LOCAL_WAYS];
};

struct rate_local {
	unsigned char hash_key[crypto_shorthash_KEYBYTES];
	size_t nsets; /* a power of two */
	struct rate_set *sets;
};

struct rate_local *rate_local_new(size_t entries)
{
	struct rate_local *t = xcalloc(1, sizeof(*t));
	size_t want = (entries + RATE_LOCAL_WAYS - 1) / RATE_LOCAL_WAYS;
	t->nsets = 1;
	while (t->nsets < want)
		t->nsets *= 2;
	t->sets = xcalloc(t->nsets, sizeof(*t->sets));
	for (size_t i = 0; i < t->nsets; i++)
		pthread_mutex_init(&t->sets[i].lock, NULL);
	randombytes_buf(t->hash_key, sizeof(t->hash_key));
	return t;
}

void rate_local_free(struct rate_local *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nsets; i++)
		pthread_mutex_destroy(&t->sets[i].lock);
	free(t->sets);
	free(t);
}

size_t rate_local_capacity(const struct rate_local *t)
{
	return t->nsets * RATE_LOCAL_WAYS;
}

size_t rate_local_live(struct rate_local *t, int64_t now_ms)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nsets; i++) {
		struct rate_set *s = &t->sets[i];
		pthread_mutex_lock(&s->lock);
		for (int w = 0; w < RATE_LOCAL_WAYS; w++)
			n += s->way[w].tag && s->way[w].ends_ms > now_ms;
		pthread_mutex_unlock(&s->lock);
	}
	return n;
}

/* The counter for tag in s: its own, else a free or closed one, else the
 * one with the fewest hits (ties: closing first). Called with s locked. */
static struct rate_counter *find_or_evict(struct rate_set *s, uint64_t tag, int64_t now_ms)
{
	struct rate_counter *victim = NULL;
	for (int w = 0; w < RATE_LOCAL_WAYS; w++) {
		struct rate_counter *c = &s->way[w];
		if (c->tag == tag)
			return c;
		if (!c->tag || c->ends_ms <= now_ms) {
			if (!victim || victim->tag)
				victim = c; /* free beats closed; closed beats live */
			continue;
		}
		if (!victim || (victim->tag && victim->ends_ms > now_ms &&
				(c->count < victim->count ||
				 (c->count == victim->count && c->ends_ms < victim->ends_ms))))
			victim = c;
	}
	victim->tag = tag;
	victim->count = 0;
	victim->ends_ms = 0; /* closed: the hit below opens a window */
	return victim;
}

bool rate_local_hit(struct rate_local *t, const char *key, int limit, int window_s, int64_t now_ms,
		    int *retry_after_s)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t tag;
	bool ok;
	*retry_after_s = 0;
	crypto_shorthash(h, (const unsigned char *)key, strlen(key), t->hash_key);
	memcpy(&tag, h, sizeof(tag));
	if (!tag)
		tag = 1; /* 0 marks a free counter */
	struct rate_set *s = &t->sets[tag & (t->nsets - 1)];

	pthread_mutex_lock(&s->lock);
	struct rate_counter *c = find_or_evict(s, tag, now_ms);
	if (c->ends_ms <= now_ms) { /* a new window, as Redis's key expiring */
		c->count = 0;
		c->ends_ms = now_ms + (int64_t)window_s * 1000;
	}
	if (c->count < INT_MAX)
		c->count++;
	ok = c->count <= limit;
	if (!ok) {
		int64_t left = (c->ends_ms - now_ms + 999) / 1000;
		*retry_after_s = left > 0 ? (int)left : 1;
	}
	pthread_mutex_unlock(&s->lock);
	return ok;
}
