#include "cinema/cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cinema/clock.h"
#include "cinema/mem.h"

#define WAYS		 64
#define SET_BYTES	 (512 * 1024) /* each set's share of max_bytes */
#define REFRESH_LEASE_MS 2000	      /* a refresher that fails is replaced after this */

/* Key then value, immutable once stored. Counted: a reader copies the value
 * after unlocking the set, so the lock is held for a lookup, never for a
 * copy (a thread preempted while holding it would stall the others). */
struct blob {
	_Atomic int refs;
	char data[];
};

struct entry {
	struct blob *blob; /* NULL when empty */
	size_t klen, vlen;
	uint64_t hash, gen;
	long long aux;
	int64_t fresh_until;   /* served as is before this */
	int64_t stale_until;   /* served while another caller refreshes before this */
	int64_t refresh_until; /* a caller is refreshing it until this */
};

/* Each set has its own share of the memory, so the bound is exact and a
 * full set only ever evicts its own entries. */
struct set {
	pthread_mutex_t lock;
	size_t bytes;
	struct entry e[WAYS];
};

struct cache {
	struct set *sets;
	size_t nsets; /* a power of two */
	size_t set_budget, max_entry;
	int ttl_ms;
	_Atomic uint64_t gen;
	_Atomic size_t bytes;
	_Atomic uint64_t hits, misses, stores;
};

static void blob_release(struct blob *b)
{
	if (b && atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

/* FNV-1a, then a murmur3 finalizer so the low bits (the set) mix well. */
static uint64_t hash_key(const char *key, size_t klen)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < klen; i++) {
		h ^= (unsigned char)key[i];
		h *= UINT64_C(0x100000001b3);
	}
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return h;
}

struct cache *cache_new(size_t max_bytes, int ttl_ms)
{
	if (max_bytes == 0 || ttl_ms <= 0)
		return NULL;
	struct cache *c = xcalloc(1, sizeof(*c));
	c->nsets = 1;
	while (c->nsets <= max_bytes / (2 * (size_t)SET_BYTES))
		c->nsets *= 2;
	c->sets = xcalloc(c->nsets, sizeof(*c->sets));
	for (size_t i = 0; i < c->nsets; i++)
		if (pthread_mutex_init(&c->sets[i].lock, NULL) != 0)
			abort();
	c->set_budget = max_bytes / c->nsets;
	c->max_entry = c->set_budget / 4;
	c->ttl_ms = ttl_ms;
	return c;
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nsets; i++) {
		for (int w = 0; w < WAYS; w++)
			blob_release(c->sets[i].e[w].blob);
		pthread_mutex_destroy(&c->sets[i].lock);
	}
	free(c->sets);
	free(c);
}

static bool entry_is(const struct entry *e, uint64_t h, const char *key, size_t klen)
{
	return e->blob && e->hash == h && e->klen == klen && memcmp(e->blob->data, key, klen) == 0;
}

enum cache_result cache_get(struct cache *c, const char *key, size_t klen, struct buf *out,
			    long long *aux, uint64_t *gen)
{
	*gen = 0;
	if (!c)
		return CACHE_MISS;
	uint64_t h = hash_key(key, klen);
	uint64_t g = atomic_load(&c->gen);
	int64_t now = mono_ms();
	struct set *s = &c->sets[h & (c->nsets - 1)];
	struct blob *found = NULL;
	size_t vlen = 0;
	enum cache_result rc = CACHE_MISS;
	*gen = g;

	pthread_mutex_lock(&s->lock);
	for (int w = 0; w < WAYS; w++) {
		struct entry *e = &s->e[w];
		if (!entry_is(e, h, key, klen))
			continue;
		if (e->gen != g || now >= e->stale_until)
			break;
		if (now < e->fresh_until || now < e->refresh_until) {
			rc = CACHE_HIT;
		} else {
			rc = CACHE_STALE;
			e->refresh_until = now + REFRESH_LEASE_MS; /* this caller refreshes */
		}
		found = e->blob;
		atomic_fetch_add(&found->refs, 1);
		vlen = e->vlen;
		*aux = e->aux;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_add(found ? &c->hits : &c->misses, 1);
	if (found) {
		buf_append(out, found->data + klen, vlen);
		blob_release(found);
	}
	return rc;
}

static void entry_drop(struct cache *c, struct set *s, struct entry *e)
{
	size_t size = e->klen + e->vlen;
	blob_release(e->blob);
	memset(e, 0, sizeof(*e));
	s->bytes -= size;
	atomic_fetch_sub(&c->bytes, size);
}

void cache_put(struct cache *c, const char *key, size_t klen, uint64_t gen, const char *val,
	       size_t vlen, long long aux)
{
	if (!c || klen + vlen > c->max_entry || gen != atomic_load(&c->gen))
		return;
	uint64_t h = hash_key(key, klen);
	int64_t now = mono_ms();
	size_t size = klen + vlen;
	struct set *s = &c->sets[h & (c->nsets - 1)];
	struct blob *blob = xmalloc(sizeof(*blob) + size);
	atomic_init(&blob->refs, 1);
	memcpy(blob->data, key, klen);
	memcpy(blob->data + klen, val, vlen);

	pthread_mutex_lock(&s->lock);
	struct entry *slot = NULL;
	/* Checked again under the lock: an invalidation since the first check,
	 * or a newer value stored meanwhile, wins over this one. */
	bool stale = gen != atomic_load(&c->gen);
	for (int w = 0; w < WAYS && !stale; w++)
		if (entry_is(&s->e[w], h, key, klen)) {
			if (s->e[w].gen > gen)
				stale = true;
			else
				entry_drop(c, s, &s->e[w]);
		}
	if (stale) {
		pthread_mutex_unlock(&s->lock);
		free(blob);
		return;
	}
	/* Make room: evict what goes stale first until the value fits. */
	for (;;) {
		struct entry *oldest = NULL;
		slot = NULL;
		for (int w = 0; w < WAYS; w++) {
			struct entry *e = &s->e[w];
			if (!e->blob)
				slot = slot ? slot : e;
			else if (!oldest || e->stale_until < oldest->stale_until)
				oldest = e;
		}
		if (slot && s->bytes + size <= c->set_budget)
			break;
		entry_drop(c, s, oldest); /* never NULL: size <= set_budget */
	}
	*slot = (struct entry){
		.blob = blob,
		.klen = klen,
		.vlen = vlen,
		.hash = h,
		.gen = gen,
		.aux = aux,
		.fresh_until = now + c->ttl_ms,
		.stale_until = now + 2 * (int64_t)c->ttl_ms,
	};
	s->bytes += size;
	atomic_fetch_add(&c->bytes, size);
	atomic_fetch_add(&c->stores, 1);
	pthread_mutex_unlock(&s->lock);
}

void cache_invalidate(struct cache *c)
{
	if (c)
		atomic_fetch_add(&c->gen, 1);
}

void cache_stats(struct cache *c, struct cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!c)
		return;
	out->hits = atomic_load(&c->hits);
	out->misses = atomic_load(&c->misses);
	out->stores = atomic_load(&c->stores);
	out->bytes = atomic_load(&c->bytes);
}
