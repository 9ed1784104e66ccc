/* Unit tests of the response cache (src/core/cache.c): hits and misses,
 * expiry and the refresh lease, invalidation racing a fill, the memory
 * bound, and many threads at once (for the sanitizers). */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cinema/cache.h"

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static enum cache_result last; /* of the last get() */

/* cache_get into a fresh buffer; returns the value ("" on a miss). */
static const char *get(struct cache *c, const char *key, long long *aux, uint64_t *gen)
{
	static char out[256];
	struct buf b = BUF_INIT;
	last = cache_get(c, key, strlen(key), &b, aux, gen);
	ck_assert(last != CACHE_MISS || b.len == 0);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, b.len ? b.data : "");
	buf_free(&b);
	return out;
}

static void put(struct cache *c, const char *key, uint64_t gen, const char *val, long long aux)
{
	cache_put(c, key, strlen(key), gen, val, strlen(val), aux);
}

START_TEST(off_when_no_ttl_or_no_memory)
{
	ck_assert_ptr_null(cache_new(1 << 20, 0));
	ck_assert_ptr_null(cache_new(0, 1000));
	/* A NULL cache is a cache that always misses. */
	uint64_t gen = 7;
	long long aux = 0;
	ck_assert_str_eq(get(NULL, "k", &aux, &gen), "");
	ck_assert_uint_eq(gen, 0);
	put(NULL, "k", gen, "v", 1);
	cache_invalidate(NULL);
	cache_free(NULL);
}
END_TEST

START_TEST(miss_then_hit)
{
	struct cache *c = cache_new(1 << 20, 60000);
	uint64_t gen;
	long long aux = 0;
	ck_assert_str_eq(get(c, "a", &aux, &gen), "");
	put(c, "a", gen, "[1,2]", 42);
	ck_assert_str_eq(get(c, "a", &aux, &gen), "[1,2]");
	ck_assert_int_eq(last, CACHE_HIT);
	ck_assert_int_eq(aux, 42);
	/* Keys differ by their whole text, not a prefix. */
	ck_assert_str_eq(get(c, "ab", &aux, &gen), "");
	ck_assert_str_eq(get(c, "", &aux, &gen), "");
	/* Storing again replaces. */
	put(c, "a", gen, "[3]", 1);
	ck_assert_str_eq(get(c, "a", &aux, &gen), "[3]");
	struct cache_stats st;
	cache_stats(c, &st);
	ck_assert_uint_eq(st.hits, 2);
	ck_assert_uint_eq(st.misses, 3);
	ck_assert_uint_eq(st.stores, 2);
	ck_assert_uint_eq(st.bytes, strlen("a") + strlen("[3]"));
	cache_free(c);
}
END_TEST

START_TEST(invalidation_beats_a_slow_fill)
{
	struct cache *c = cache_new(1 << 20, 60000);
	uint64_t gen, old;
	long long aux = 0;
	ck_assert_str_eq(get(c, "a", &aux, &old), "");
	put(c, "a", old, "v1", 0);
	/* A reader misses on b, a writer commits and invalidates, then the
	 * reader's value (read before the write) arrives: it is not kept. */
	ck_assert_str_eq(get(c, "b", &aux, &gen), "");
	cache_invalidate(c);
	put(c, "b", gen, "before the write", 0);
	ck_assert_str_eq(get(c, "b", &aux, &gen), "");
	/* And what was there before is gone. */
	ck_assert_str_eq(get(c, "a", &aux, &gen), "");
	put(c, "a", gen, "v2", 0);
	ck_assert_str_eq(get(c, "a", &aux, &gen), "v2");
	/* A slow fill from before an invalidation never replaces a value
	 * stored after it. */
	uint64_t before;
	ck_assert_str_eq(get(c, "c", &aux, &before), "");
	cache_invalidate(c);
	ck_assert_str_eq(get(c, "c", &aux, &gen), "");
	put(c, "c", gen, "after", 0);
	put(c, "c", before, "before", 0);
	ck_assert_str_eq(get(c, "c", &aux, &gen), "after");
	cache_free(c);
}
END_TEST

START_TEST(expiry_and_refresh_lease)
{
	struct cache *c = cache_new(1 << 20, 100);
	uint64_t gen;
	long long aux = 0;
	ck_assert_str_eq(get(c, "a", &aux, &gen), "");
	put(c, "a", gen, "old", 0);
	sleep_ms(130); /* stale, within the second TTL */
	/* Everybody still gets the old value; the first caller after expiry
	 * is told to refresh it, the others are not (nobody else queries). */
	ck_assert_str_eq(get(c, "a", &aux, &gen), "old");
	ck_assert_int_eq(last, CACHE_STALE);
	uint64_t refresh_gen = gen;
	ck_assert_str_eq(get(c, "a", &aux, &gen), "old");
	ck_assert_int_eq(last, CACHE_HIT);
	ck_assert_str_eq(get(c, "a", &aux, &gen), "old");
	ck_assert_int_eq(last, CACHE_HIT);
	put(c, "a", refresh_gen, "new", 0);
	ck_assert_str_eq(get(c, "a", &aux, &gen), "new");
	ck_assert_int_eq(last, CACHE_HIT);
	/* Past both TTLs nobody gets the old value. */
	sleep_ms(230);
	ck_assert_str_eq(get(c, "a", &aux, &gen), "");
	ck_assert_str_eq(get(c, "a", &aux, &gen), "");
	cache_free(c);
}
END_TEST

START_TEST(memory_is_bounded)
{
	size_t max = 64 * 1024;
	struct cache *c = cache_new(max, 60000);
	char val[3000], key[32];
	memset(val, 'x', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	uint64_t gen;
	long long aux;
	for (int i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		get(c, key, &aux, &gen);
		put(c, key, gen, val, i);
		struct cache_stats st;
		cache_stats(c, &st);
		ck_assert_uint_le(st.bytes, max);
	}
	/* A value over a quarter of a set's share is never stored. */
	char big[20000];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	get(c, "big", &aux, &gen);
	put(c, "big", gen, big, 0);
	ck_assert_str_eq(get(c, "big", &aux, &gen), "");
	cache_free(c);
}
END_TEST

struct worker {
	struct cache *c;
	int id;
	long hits;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;
	char key[32], val[64];
	struct buf b = BUF_INIT;
	for (int i = 0; i < 20000; i++) {
		int k = (i * 7 + w->id) % 300;
		snprintf(key, sizeof(key), "k%d", k);
		uint64_t gen;
		long long aux = -1;
		buf_reset(&b);
		enum cache_result r = cache_get(w->c, key, strlen(key), &b, &aux, &gen);
		snprintf(val, sizeof(val), "value of %s", key);
		if (r != CACHE_MISS) {
			/* A hit is always the value stored for that key. */
			ck_assert_uint_eq(b.len, strlen(val));
			ck_assert(memcmp(b.data, val, b.len) == 0);
			ck_assert_int_eq(aux, k);
			w->hits++;
		}
		if (r != CACHE_HIT)
			cache_put(w->c, key, strlen(key), gen, val, strlen(val), k);
		if (i % 5000 == 4999)
			cache_invalidate(w->c);
	}
	buf_free(&b);
	return NULL;
}

START_TEST(threads)
{
	struct cache *c = cache_new(16 * 1024, 1);
	pthread_t t[8];
	struct worker w[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){.c = c, .id = i};
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
	}
	long hits = 0;
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		hits += w[i].hits;
	}
	ck_assert_int_gt(hits, 0);
	struct cache_stats st;
	cache_stats(c, &st);
	ck_assert_uint_le(st.bytes, 16 * 1024);
	cache_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cache");
	TCase *tc = tcase_create("cache");
	tcase_add_test(tc, off_when_no_ttl_or_no_memory);
	tcase_add_test(tc, miss_then_hit);
	tcase_add_test(tc, invalidation_beats_a_slow_fill);
	tcase_add_test(tc, expiry_and_refresh_lease);
	tcase_add_test(tc, memory_is_bounded);
	tcase_add_test(tc, threads);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
