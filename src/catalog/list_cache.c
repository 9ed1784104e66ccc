#include "catalog/list_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cinema/clock.h"
#include "cinema/kv.h"
#include "cinema/log.h"
#include "cinema/mem.h"

/* A key holds every filter: with a search, its tsquery (< 640 bytes) and
 * its trigram text (<= 800) besides about 200 bytes of the rest, so the
 * longest search is still cached. (A longer key, from numbers written with
 * many leading zeros, is not cached: key_of answers 0.) */
#define KEY_MAX	      2048
#define REFRESHERS    2
#define QUEUE_MAX     256    /* refreshes waiting; more are dropped (the lease retries them) */
#define KEY_SEPARATOR '\x1f' /* a control: never in a validated value nor a tsquery */
#define FILLS_MAX     32     /* pages read at once for waiting requests */
/* How long a request waits for another's read of the same page: the default
 * statement timeout, after which that read has failed anyway. */
#define FILL_WAIT_MS 10000

/* A page to read again: its key (which holds the whole filter) and the
 * cache generation it was found under. */
struct refresh {
	struct refresh *next;
	uint64_t gen;
	size_t klen;
	char key[];
};

struct movie_lists {
	const struct app *app;
	struct cache *cache;
	struct kv_subscription *sync;
	pthread_t threads[REFRESHERS];
	int nthreads;
	pthread_mutex_t lock; /* guards the queue and stop */
	pthread_cond_t work;
	struct refresh *head, *tail;
	int queued;
	bool stop;
	/* Pages being read for requests that found nothing: a second request
	 * for the same page waits for the first instead of querying too. */
	pthread_mutex_t fill_lock;
	pthread_cond_t filled;
	struct fill {
		size_t klen; /* 0: free */
		char key[KEY_MAX];
	} fills[FILLS_MAX];
};

/* ---- keys ---- */

/* The text filters of a public page, in key order (after limit and
 * offset): one list for making keys and for reading them back. */
static const size_t key_fields[] = {
	offsetof(struct movie_filter, year),	      offsetof(struct movie_filter, year_min),
	offsetof(struct movie_filter, year_max),      offsetof(struct movie_filter, imdb_min),
	offsetof(struct movie_filter, imdb_max),      offsetof(struct movie_filter, price_min),
	offsetof(struct movie_filter, price_max),     offsetof(struct movie_filter, genre),
	offsetof(struct movie_filter, certification), offsetof(struct movie_filter, star),
	offsetof(struct movie_filter, director),      offsetof(struct movie_filter, tsquery),
	offsetof(struct movie_filter, search_text),   offsetof(struct movie_filter, sort),
};
#define NFIELDS (sizeof(key_fields) / sizeof(key_fields[0]))

static const char *field_get(const struct movie_filter *f, size_t i)
{
	return *(const char *const *)(const void *)((const char *)f + key_fields[i]);
}

static void field_set(struct movie_filter *f, size_t i, const char *v)
{
	*(const char **)(void *)((char *)f + key_fields[i]) = v;
}

/* The key of a public page: limit, offset and every filter, in a fixed
 * order. The values are validated already (digits, decimals, tsquery words
 * and a sort name), so none holds the separator. 0 when it does not fit. */
static size_t key_of(const struct movie_filter *f, char *key, size_t keylen)
{
	size_t o = (size_t)snprintf(key, keylen, "%lld%c%lld", f->limit, KEY_SEPARATOR, f->offset);
	for (size_t i = 0; i < NFIELDS && o < keylen; i++) {
		const char *v = field_get(f, i);
		o += (size_t)snprintf(key + o, keylen - o, "%c%s", KEY_SEPARATOR, v ? v : "");
	}
	return o < keylen ? o : 0;
}

/* The filter a key was made from; its strings point into key, which is cut
 * into fields (so it must be a writable copy). */
static bool filter_of(char *key, struct movie_filter *f)
{
	char *field[NFIELDS + 2];
	size_t n = 0;
	for (char *p = key; n < NFIELDS + 2; n++) {
		field[n] = p;
		char *sep = strchr(p, KEY_SEPARATOR);
		if (!sep) {
			n++;
			break;
		}
		*sep = '\0';
		p = sep + 1;
	}
	if (n != NFIELDS + 2)
		return false;
	memset(f, 0, sizeof(*f));
	f->limit = strtoll(field[0], NULL, 10);
	f->offset = strtoll(field[1], NULL, 10);
	for (size_t i = 0; i < NFIELDS; i++)
		field_set(f, i, *field[i + 2] ? field[i + 2] : NULL);
	return f->limit > 0;
}

/* ---- reading ---- */

struct list_read {
	const struct movie_filter *f;
	struct buf *items;
	size_t start;
	struct movie_page *pg;
};

static enum err list_read_fn(struct db_conn *c, void *ctx)
{
	struct list_read *r = ctx;
	buf_truncate(r->items, r->start); /* a second run, on the primary */
	return movies_list(c, r->f, r->items, r->pg);
}

/* One user's favorites or purchases, and every list a catalog writer asks
 * for, read the primary; the public lists read the replica if there is one
 * (db_read). */
static enum err list_from_db(const struct app *app, const struct movie_filter *f,
			     bool caller_writes, struct buf *items, struct movie_page *pg)
{
	struct list_read r = {.f = f, .items = items, .start = items->len, .pg = pg};
	return db_read(app, caller_writes || f->favorites_of || f->purchased_by, list_read_fn, &r);
}

/* A cached page is one blob: a flag character ('0' + 2 x exact + more),
 * the next cursor, a newline, then the items (cursors are base64url). */
static void page_put(struct movie_lists *ml, const char *key, size_t klen, uint64_t gen,
		     const char *items, size_t len, const struct movie_page *pg)
{
	struct buf blob = BUF_INIT;
	buf_append_char(&blob, (char)('0' + 2 * pg->exact + pg->more));
	buf_append_str(&blob, pg->next_cursor);
	buf_append_char(&blob, '\n');
	buf_append(&blob, items, len);
	cache_put(ml->cache, key, klen, gen, blob.data, blob.len, pg->total);
	buf_free(&blob);
}

static enum cache_result page_get(struct movie_lists *ml, const char *key, size_t klen,
				  struct buf *items, struct movie_page *pg, uint64_t *gen)
{
	/* The blob lands in items (one copy, as a hit costs), then its head
	 * is read and moved out of the way. */
	size_t start = items->len;
	long long total = 0;
	enum cache_result r = cache_get(ml->cache, key, klen, items, &total, gen);
	char *head = items->data + start;
	size_t len = r != CACHE_MISS ? items->len - start : 0;
	const char *nl = len ? memchr(head, '\n', len) : NULL;
	size_t clen = nl ? (size_t)(nl - head) - 1 : 0;
	if (!nl || clen >= sizeof(pg->next_cursor)) {
		buf_truncate(items, start);
		return CACHE_MISS;
	}
	pg->total = total;
	pg->exact = (head[0] - '0') & 2;
	pg->more = (head[0] - '0') & 1;
	memcpy(pg->next_cursor, head + 1, clen);
	pg->next_cursor[clen] = '\0';
	size_t skip = clen + 2; /* the flag, the cursor, the newline */
	memmove(head, head + skip, len - skip);
	buf_truncate(items, start + len - skip);
	return r;
}

/* Queues a refresh of key; when the queue is full it is dropped, and the
 * first request after the lease asks again. */
static void refresh_later(struct movie_lists *ml, const char *key, size_t klen, uint64_t gen)
{
	struct refresh *r = xmalloc(sizeof(*r) + klen + 1);
	r->next = NULL;
	r->gen = gen;
	r->klen = klen;
	memcpy(r->key, key, klen);
	r->key[klen] = '\0';
	pthread_mutex_lock(&ml->lock);
	if (ml->queued < QUEUE_MAX && !ml->stop) {
		if (ml->tail)
			ml->tail->next = r;
		else
			ml->head = r;
		ml->tail = r;
		ml->queued++;
		r = NULL;
		pthread_cond_signal(&ml->work);
	}
	pthread_mutex_unlock(&ml->lock);
	free(r);
}

static struct fill *fill_find(struct movie_lists *ml, const char *key, size_t klen)
{
	for (int i = 0; i < FILLS_MAX; i++)
		if (ml->fills[i].klen == klen && memcmp(ml->fills[i].key, key, klen) == 0)
			return &ml->fills[i];
	return NULL;
}

/* Registers this request as the reader of key and returns its slot. When
 * another request is reading key, waits until that read is over (or the
 * deadline) and returns NULL; also NULL when every slot is taken. */
static struct fill *fill_claim(struct movie_lists *ml, const char *key, size_t klen,
			       const struct timespec *deadline)
{
	struct fill *mine = NULL;
	pthread_mutex_lock(&ml->fill_lock);
	if (fill_find(ml, key, klen)) {
		while (fill_find(ml, key, klen) &&
		       pthread_cond_timedwait(&ml->filled, &ml->fill_lock, deadline) != ETIMEDOUT)
			;
	} else {
		for (int i = 0; i < FILLS_MAX && !mine; i++)
			if (!ml->fills[i].klen)
				mine = &ml->fills[i];
		if (mine) {
			memcpy(mine->key, key, klen);
			mine->klen = klen;
		}
	}
	pthread_mutex_unlock(&ml->fill_lock);
	return mine;
}

static void fill_done(struct movie_lists *ml, struct fill *mine)
{
	pthread_mutex_lock(&ml->fill_lock);
	mine->klen = 0;
	pthread_cond_broadcast(&ml->filled);
	pthread_mutex_unlock(&ml->fill_lock);
}

/* From the cache: true when the page was appended (queueing a refresh when
 * it is stale). */
static bool from_cache(struct movie_lists *ml, const char *key, size_t klen, struct buf *items,
		       struct movie_page *pg, uint64_t *gen)
{
	switch (page_get(ml, key, klen, items, pg, gen)) {
	case CACHE_HIT:
		return true;
	case CACHE_STALE:
		refresh_later(ml, key, klen, *gen);
		return true;
	case CACHE_MISS:
		break;
	}
	return false;
}

/* The cache key of f into key, or 0 when f is not cached: the cache is
 * off, f lists one user's favorites or purchases (never shared), or f
 * is a keyset page (a cursor is one of as many starts as there are rows). */
static size_t cache_key(const struct movie_lists *ml, const struct movie_filter *f, char *key)
{
	return ml && !f->favorites_of && !f->purchased_by && !f->after ? key_of(f, key, KEY_MAX)
								       : 0;
}

/* A catalog writer must see its own writes at once, but with a replica a
 * page dropped by that write may have been read again from a replica that
 * had not replayed it yet: then the writer's lists skip the cache. */
static bool writer_skips_cache(const struct app *app, bool caller_writes)
{
	return caller_writes && app->db_read;
}

bool movie_lists_peek(const struct app *app, const struct movie_filter *f, bool caller_writes,
		      struct buf *items, struct movie_page *pg)
{
	struct movie_lists *ml = app->movie_lists;
	char key[KEY_MAX];
	uint64_t gen = 0;
	size_t klen = writer_skips_cache(app, caller_writes) ? 0 : cache_key(ml, f, key);
	return klen && from_cache(ml, key, klen, items, pg, &gen);
}

enum err movie_lists_read(const struct app *app, const struct movie_filter *f, bool caller_writes,
			  struct buf *items, struct movie_page *pg)
{
	struct movie_lists *ml = app->movie_lists;
	char key[KEY_MAX];
	uint64_t gen = 0;
	size_t klen = writer_skips_cache(app, caller_writes) ? 0 : cache_key(ml, f, key);
	if (!klen)
		return list_from_db(app, f, caller_writes, items, pg);
	if (from_cache(ml, key, klen, items, pg, &gen))
		return ERR_OK;
	/* A miss: read it, unless another request is reading it already; then
	 * wait for that read and look again. If the page is still missing (the
	 * read failed, or was not kept), read it without waiting any more. */
	struct timespec deadline = deadline_after_ms(CLOCK_MONOTONIC, FILL_WAIT_MS);
	struct fill *mine = fill_claim(ml, key, klen, &deadline);
	if (from_cache(ml, key, klen, items, pg, &gen)) {
		if (mine)
			fill_done(ml, mine);
		return ERR_OK;
	}
	size_t start = items->len;
	enum err rc = list_from_db(app, f, false, items, pg);
	if (rc == ERR_OK)
		page_put(ml, key, klen, gen, items->data + start, items->len - start, pg);
	if (mine)
		fill_done(ml, mine);
	return rc;
}

static void *refresher(void *arg)
{
	struct movie_lists *ml = arg;
	struct buf items = BUF_INIT;
	for (;;) {
		pthread_mutex_lock(&ml->lock);
		while (!ml->head && !ml->stop)
			pthread_cond_wait(&ml->work, &ml->lock);
		struct refresh *r = ml->stop ? NULL : ml->head;
		if (r) {
			ml->head = r->next;
			if (!ml->head)
				ml->tail = NULL;
			ml->queued--;
		}
		pthread_mutex_unlock(&ml->lock);
		if (!r)
			break;
		char key[KEY_MAX];
		struct movie_filter f;
		struct movie_page pg;
		memcpy(key, r->key, r->klen + 1);
		buf_reset(&items);
		if (filter_of(key, &f) && list_from_db(ml->app, &f, false, &items, &pg) == ERR_OK)
			page_put(ml, r->key, r->klen, r->gen, items.data, items.len, &pg);
		free(r);
	}
	buf_free(&items);
	return NULL;
}

/* ---- invalidation ---- */

static void drop_all(void *ctx)
{
	cache_invalidate(ctx);
}

void movie_lists_changed(const struct app *app)
{
	/* Published even with this process's cache off: others may have one. */
	if (app->movie_lists)
		cache_invalidate(app->movie_lists->cache);
	movie_lists_announce(app->kv);
}

void movie_lists_announce(struct kv *kv)
{
	char channel[64];
	snprintf(channel, sizeof(channel), "%s:%d", CATALOG_CHANNEL, kv_db(kv));
	if (kv_command(kv, NULL, "PUBLISH %s 1", channel) != ERR_OK)
		LOG_WARN("catalog change not published: API processes may serve cached lists "
			 "until they expire");
}

void movie_lists_stats(const struct app *app, struct cache_stats *out)
{
	cache_stats(app->movie_lists ? app->movie_lists->cache : NULL, out);
}

/* ---- life ---- */

struct movie_lists *movie_lists_start(const struct app *app, size_t max_bytes, int ttl_ms)
{
	struct cache *cache = cache_new(max_bytes, ttl_ms);
	if (!cache)
		return NULL;
	struct movie_lists *ml = xcalloc(1, sizeof(*ml));
	ml->app = app;
	ml->cache = cache;
	pthread_condattr_t attr;
	if (pthread_mutex_init(&ml->lock, NULL) != 0 || pthread_cond_init(&ml->work, NULL) != 0 ||
	    pthread_mutex_init(&ml->fill_lock, NULL) != 0 || pthread_condattr_init(&attr) != 0 ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&ml->filled, &attr) != 0)
		abort(); /* resource exhaustion, fatal like xmalloc */
	pthread_condattr_destroy(&attr);
	for (int i = 0; i < REFRESHERS; i++) {
		if (pthread_create(&ml->threads[i], NULL, refresher, ml) != 0) {
			LOG_WARN("cannot start a list refresh thread: stale pages wait for their "
				 "TTL");
			break;
		}
		ml->nthreads++;
	}
	char channel[64];
	snprintf(channel, sizeof(channel), "%s:%d", CATALOG_CHANNEL, kv_db(app->kv));
	ml->sync = kv_subscribe(app->kv, channel, drop_all, cache);
	return ml;
}

void movie_lists_stop(struct movie_lists *ml)
{
	if (!ml)
		return;
	kv_subscription_stop(ml->sync);
	pthread_mutex_lock(&ml->lock);
	ml->stop = true;
	pthread_cond_broadcast(&ml->work);
	pthread_mutex_unlock(&ml->lock);
	for (int i = 0; i < ml->nthreads; i++)
		pthread_join(ml->threads[i], NULL);
	while (ml->head) {
		struct refresh *r = ml->head;
		ml->head = r->next;
		free(r);
	}
	pthread_cond_destroy(&ml->work);
	pthread_mutex_destroy(&ml->lock);
	pthread_cond_destroy(&ml->filled);
	pthread_mutex_destroy(&ml->fill_lock);
	cache_free(ml->cache);
	free(ml);
}
