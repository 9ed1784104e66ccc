/* The Argon2 slots of src/accounts/password.c: waiters are served first
 * come, first served, a waiter that times out leaves the others' order
 * intact, and no more than `concurrency` threads ever hold a slot. No
 * server, no database; threads only. No timing is asserted beyond "does
 * not hang". */
#include <check.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "accounts/password.h"

#define LONG_WAIT_MS  60000 /* a waiter that must not time out */
#define SHORT_WAIT_MS 1000  /* one that must (long enough for the rest to queue behind it) */
#define HANG_MS	      30000 /* "does not hang" bound of every poll */

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

/* Waits until n threads are queued on ph (fails the test after HANG_MS). */
static void wait_queued(struct password_hasher *ph, int n)
{
	for (int i = 0; password_hasher_waiting(ph) != n; i++) {
		ck_assert_msg(i < HANG_MS, "%d threads queued, want %d",
			      password_hasher_waiting(ph), n);
		sleep_ms(1);
	}
}

/* --- one waiter per thread, recording when it got its slot --- */

struct order {
	pthread_mutex_t lock;
	int seq[64];
	int n;
};

struct waiter {
	struct password_hasher *ph;
	struct order *order;
	int id;
	long wait_ms;
	bool got;
	bool keep; /* hold the slot until told (release) instead of giving it back */
	atomic_bool release;
};

static void *waiter_run(void *arg)
{
	struct waiter *w = arg;
	w->got = password_slot_take(w->ph, w->wait_ms);
	if (!w->got)
		return NULL;
	pthread_mutex_lock(&w->order->lock);
	w->order->seq[w->order->n++] = w->id;
	pthread_mutex_unlock(&w->order->lock);
	while (w->keep && !atomic_load(&w->release))
		sleep_ms(1);
	password_slot_give(w->ph);
	return NULL;
}

/* Starts waiter id on its own thread and waits until it is queued as the
 * queued-th waiter, so the order of arrival is known. */
static void start_queued(pthread_t *t, struct waiter *w, int queued)
{
	ck_assert_int_eq(pthread_create(t, NULL, waiter_run, w), 0);
	wait_queued(w->ph, queued);
}

START_TEST(waiters_are_served_in_arrival_order)
{
	enum { N = 12 };
	struct password_hasher *ph = password_hasher_new(1, LONG_WAIT_MS);
	struct order order = {.n = 0};
	struct waiter w[N];
	pthread_t t[N];
	pthread_mutex_init(&order.lock, NULL);

	ck_assert(password_slot_take(ph, 0)); /* the only slot: everyone queues */
	for (int i = 0; i < N; i++) {
		w[i] = (struct waiter){.ph = ph, .order = &order, .id = i, .wait_ms = LONG_WAIT_MS};
		start_queued(&t[i], &w[i], i + 1);
	}
	password_slot_give(ph);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(order.n, N);
	for (int i = 0; i < N; i++) {
		ck_assert(w[i].got);
		ck_assert_int_eq(order.seq[i], i);
	}
	ck_assert_int_eq(password_hasher_waiting(ph), 0);
	pthread_mutex_destroy(&order.lock);
	password_hasher_free(ph);
}
END_TEST

/* A newcomer never overtakes the queue: a slot given back while someone
 * waits goes to that waiter, even before it has woken up. */
START_TEST(newcomer_does_not_overtake_the_queue)
{
	struct password_hasher *ph = password_hasher_new(1, LONG_WAIT_MS);
	struct order order = {.n = 0};
	struct waiter first = {
		.ph = ph, .order = &order, .id = 1, .wait_ms = LONG_WAIT_MS, .keep = true};
	pthread_t t;
	pthread_mutex_init(&order.lock, NULL);

	ck_assert(password_slot_take(ph, 0));
	start_queued(&t, &first, 1);
	password_slot_give(ph);
	ck_assert(!password_slot_take(ph, 0)); /* handed over, not freed */
	atomic_store(&first.release, true);
	pthread_join(t, NULL);
	ck_assert(first.got);
	ck_assert(password_slot_take(ph, 0)); /* free again */
	password_slot_give(ph);
	pthread_mutex_destroy(&order.lock);
	password_hasher_free(ph);
}
END_TEST

/* Waiters that time out (at the head, in the middle, at the tail) leave;
 * the others keep their order and get their turn. */
START_TEST(timeouts_keep_the_queue_consistent)
{
	enum { N = 7 };
	static const bool gives_up[N] = {true, false, false, true, false, false, true};
	static const int served[] = {1, 2, 4, 5};
	struct password_hasher *ph = password_hasher_new(1, LONG_WAIT_MS);
	struct order order = {.n = 0};
	struct waiter w[N];
	pthread_t t[N];
	pthread_mutex_init(&order.lock, NULL);

	ck_assert(password_slot_take(ph, 0));
	for (int i = 0; i < N; i++) {
		w[i] = (struct waiter){.ph = ph,
				       .order = &order,
				       .id = i,
				       .wait_ms = gives_up[i] ? SHORT_WAIT_MS : LONG_WAIT_MS};
		start_queued(&t[i], &w[i], i + 1);
	}
	for (int i = 0; i < N; i++)
		if (gives_up[i]) {
			pthread_join(t[i], NULL);
			ck_assert(!w[i].got);
		}
	wait_queued(ph, 4);
	/* One more, after them all. */
	struct waiter last = {.ph = ph, .order = &order, .id = 7, .wait_ms = LONG_WAIT_MS};
	pthread_t tl;
	start_queued(&tl, &last, 5);
	password_slot_give(ph);
	for (int i = 0; i < N; i++)
		if (!gives_up[i])
			pthread_join(t[i], NULL);
	pthread_join(tl, NULL);
	ck_assert_int_eq(order.n, 5);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(order.seq[i], served[i]);
	ck_assert_int_eq(order.seq[4], 7);
	ck_assert_int_eq(password_hasher_waiting(ph), 0);
	ck_assert(password_slot_take(ph, 0)); /* and the slot is free again */
	password_slot_give(ph);
	pthread_mutex_destroy(&order.lock);
	password_hasher_free(ph);
}
END_TEST

/* The hasher itself: without a slot within its wait, 503 (ERR_DB_BUSY);
 * with one, hashing and verifying work. */
START_TEST(hash_waits_for_a_slot)
{
	struct password_hasher *ph = password_hasher_new(1, 50);
	char hash[PASSWORD_HASH_MAX];
	bool ok = true;
	ck_assert(password_slot_take(ph, 0));
	ck_assert_int_eq(password_hash(ph, "Secret-123", hash), ERR_DB_BUSY);
	ck_assert_int_eq(password_verify(ph, NULL, "Secret-123", &ok), ERR_DB_BUSY);
	ck_assert(!ok);
	password_slot_give(ph);
	ck_assert_int_eq(password_hash(ph, "Secret-123", hash), ERR_OK);
	ck_assert_int_eq(password_verify(ph, hash, "Secret-123", &ok), ERR_OK);
	ck_assert(ok);
	ck_assert_int_eq(password_verify(ph, hash, "Secret-124", &ok), ERR_OK);
	ck_assert(!ok);
	ck_assert_int_eq(password_hasher_waiting(ph), 0);
	password_hasher_free(ph);
}
END_TEST

/* Many threads at once on three slots: never more than three inside, and
 * every one gets in. */
struct bound {
	struct password_hasher *ph;
	atomic_int inside, most, served;
};

static void *bound_run(void *arg)
{
	struct bound *b = arg;
	for (int k = 0; k < 20; k++) {
		if (!password_slot_take(b->ph, LONG_WAIT_MS))
			return NULL;
		int now = atomic_fetch_add(&b->inside, 1) + 1;
		int most = atomic_load(&b->most);
		while (now > most && !atomic_compare_exchange_weak(&b->most, &most, now))
			;
		sleep_ms(1);
		atomic_fetch_sub(&b->inside, 1);
		password_slot_give(b->ph);
		atomic_fetch_add(&b->served, 1);
	}
	return NULL;
}

START_TEST(concurrency_bound_is_respected)
{
	enum { THREADS = 16 };
	struct bound b = {.ph = password_hasher_new(3, LONG_WAIT_MS)};
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, bound_run, &b), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(atomic_load(&b.served), THREADS * 20);
	ck_assert_int_le(atomic_load(&b.most), 3);
	ck_assert_int_ge(atomic_load(&b.most), 1);
	ck_assert_int_eq(password_hasher_waiting(b.ph), 0);
	/* All three slots are free again. */
	for (int i = 0; i < 3; i++)
		ck_assert(password_slot_take(b.ph, 0));
	for (int i = 0; i < 3; i++)
		password_slot_give(b.ph);
	password_hasher_free(b.ph);
}
END_TEST

static Suite *password_suite(void)
{
	Suite *s = suite_create("password");
	TCase *tc = tcase_create("slots");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, waiters_are_served_in_arrival_order);
	tcase_add_test(tc, newcomer_does_not_overtake_the_queue);
	tcase_add_test(tc, timeouts_keep_the_queue_consistent);
	tcase_add_test(tc, hash_waits_for_a_slot);
	tcase_add_test(tc, concurrency_bound_is_respected);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	SRunner *sr = srunner_create(password_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
