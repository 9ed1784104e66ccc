/* Unit tests of the rate limiter's in-process fallback
 * (src/kv/ratelimit_local.c): the limit and Retry-After, window rollover,
 * independent keys, the fixed memory bound under a flood of keys, keys over
 * their limit surviving that flood, and many threads on one key (for the
 * sanitizers). Time is passed in, so nothing here sleeps. */
#include <check.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>

#include "kv/ratelimit_local.h"

#define T0 1000000 /* an arbitrary monotonic start, in ms */

START_TEST(limit_then_retry_after)
{
	struct rate_local *t = rate_local_new(64);
	int retry = -1;
	for (int i = 0; i < 3; i++) {
		ck_assert(rate_local_hit(t, "rl:login:em:a", 3, 60, T0 + i, &retry));
		ck_assert_int_eq(retry, 0);
	}
	ck_assert(!rate_local_hit(t, "rl:login:em:a", 3, 60, T0 + 10, &retry));
	ck_assert_int_eq(retry, 60);
	/* 20.5 s into the window: 39.5 s left, rounded up. */
	ck_assert(!rate_local_hit(t, "rl:login:em:a", 3, 60, T0 + 20500, &retry));
	ck_assert_int_eq(retry, 40);
	/* The last millisecond of the window still says at least 1 s. */
	ck_assert(!rate_local_hit(t, "rl:login:em:a", 3, 60, T0 + 59999, &retry));
	ck_assert_int_eq(retry, 1);
	/* Other keys have counters of their own. */
	ck_assert(rate_local_hit(t, "rl:login:em:b", 3, 60, T0 + 100, &retry));
	ck_assert(rate_local_hit(t, "rl:login:ip:10.0.0.1", 3, 60, T0 + 100, &retry));
	rate_local_free(t);
	rate_local_free(NULL);
}
END_TEST

START_TEST(window_rolls_over)
{
	struct rate_local *t = rate_local_new(64);
	int retry;
	ck_assert(rate_local_hit(t, "k", 2, 10, T0, &retry));
	ck_assert(rate_local_hit(t, "k", 2, 10, T0 + 9000, &retry));
	ck_assert(!rate_local_hit(t, "k", 2, 10, T0 + 9999, &retry));
	ck_assert_int_eq(rate_local_live(t, T0 + 9999), 1);
	/* The window opened by the first hit is over: a new one, counted from
	 * zero (a fixed window, as Redis's expiring key). */
	ck_assert(rate_local_hit(t, "k", 2, 10, T0 + 10000, &retry));
	ck_assert_int_eq(retry, 0);
	ck_assert(rate_local_hit(t, "k", 2, 10, T0 + 10001, &retry));
	ck_assert(!rate_local_hit(t, "k", 2, 10, T0 + 10002, &retry));
	ck_assert_int_eq(retry, 10);
	ck_assert_int_eq(rate_local_live(t, T0 + 19999), 1);
	ck_assert_int_eq(rate_local_live(t, T0 + 20000), 0);
	rate_local_free(t);
}
END_TEST

START_TEST(memory_is_bounded_and_offenders_are_kept)
{
	struct rate_local *t = rate_local_new(100);
	size_t cap = rate_local_capacity(t);
	ck_assert_uint_ge(cap, 100);
	ck_assert_uint_le(cap, 256);
	int retry;
	/* An offender over its limit... */
	for (int i = 0; i < 5; i++)
		rate_local_hit(t, "offender", 3, 60, T0, &retry);
	ck_assert(!rate_local_hit(t, "offender", 3, 60, T0, &retry));
	/* ...then a flood of fresh keys, many times the table's size. */
	char key[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "flood-%d", i);
		ck_assert(rate_local_hit(t, key, 3, 60, T0 + 1, &retry));
		ck_assert_uint_le(rate_local_live(t, T0 + 1), cap);
	}
	ck_assert_uint_eq(rate_local_capacity(t), cap);
	ck_assert_uint_eq(rate_local_live(t, T0 + 1), cap);
	/* The flood evicted one another, not the offender. */
	ck_assert(!rate_local_hit(t, "offender", 3, 60, T0 + 2, &retry));
	ck_assert_int_eq(retry, 60);
	/* Keys from early in the flood were forgotten: counting starts over. */
	int fresh = 0;
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "flood-%d", i);
		fresh += rate_local_hit(t, key, 1, 60, T0 + 3, &retry);
	}
	ck_assert_int_gt(fresh, 20000 - (int)cap);
	rate_local_free(t);
}
END_TEST

struct worker {
	struct rate_local *t;
	int allowed;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;
	int retry;
	char key[32];
	for (int i = 0; i < 2000; i++) {
		w->allowed += rate_local_hit(w->t, "shared", 500, 60, T0, &retry);
		snprintf(key, sizeof(key), "own-%d", i % 300);
		rate_local_hit(w->t, key, 5, 60, T0 + i, &retry);
	}
	return NULL;
}

START_TEST(threads_share_one_exact_count)
{
	struct rate_local *t = rate_local_new(4096);
	pthread_t th[8];
	struct worker w[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){.t = t};
		ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
	}
	int allowed = 0;
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		allowed += w[i].allowed;
	}
	ck_assert_int_eq(allowed, 500);
	rate_local_free(t);
}
END_TEST

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	Suite *s = suite_create("ratelimit_local");
	TCase *tc = tcase_create("ratelimit_local");
	tcase_add_test(tc, limit_then_retry_after);
	tcase_add_test(tc, window_rolls_over);
	tcase_add_test(tc, memory_is_bounded_and_offenders_are_kept);
	tcase_add_test(tc, threads_share_one_exact_count);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
