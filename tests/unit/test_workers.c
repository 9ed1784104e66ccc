/* The worker pool alone: lanes capped, order kept, the queue bounded, waits
 * bounded, everything handed back once at stop. Jobs wait on a gate the
 * test opens, so nothing here depends on timing but "does not hang". */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "http/workers.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static bool open_gate;
static int running, finished;
static int order[64], norder;

struct job {
	struct work w;
	int id;
	bool wait; /* hold a worker until the gate opens */
	enum work_outcome outcome;
	bool done;
};

static void job_fn(struct work *w, enum work_outcome o)
{
	struct job *j = (struct job *)w;
	pthread_mutex_lock(&lock);
	j->outcome = o;
	if (o == WORK_RUN) {
		running++;
		order[norder++] = j->id;
		pthread_cond_broadcast(&changed);
		while (j->wait && !open_gate)
			pthread_cond_wait(&changed, &lock);
		running--;
	}
	j->done = true;
	finished++;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
}

static void reset(void)
{
	open_gate = false;
	running = finished = norder = 0;
}

/* Waits (up to 10 s) until pred holds; false if it never did. */
static bool wait_until(bool (*pred)(int), int n)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 10;
	pthread_mutex_lock(&lock);
	while (!pred(n))
		if (pthread_cond_timedwait(&changed, &lock, &dl) != 0)
			break;
	bool ok = pred(n);
	pthread_mutex_unlock(&lock);
	return ok;
}

static bool running_is(int n)
{
	return running == n;
}

static bool finished_is(int n)
{
	return finished == n;
}

static void open_it(void)
{
	pthread_mutex_lock(&lock);
	open_gate = true;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
}

static void *open_later(void *arg)
{
	(void)arg;
	struct timespec nap = {0, 100 * 1000 * 1000};
	nanosleep(&nap, NULL);
	open_it();
	return NULL;
}

static void job_init(struct job *j, int id, bool wait)
{
	*j = (struct job){.id = id, .wait = wait};
	j->w.fn = job_fn;
}

START_TEST(a_lane_runs_at_most_its_cap_in_order)
{
	reset();
	struct work_pool_options o = {.threads = 4, .queue_max = 16, .queue_timeout_ms = 60000};
	o.lane_cap[1] = 1;
	struct work_pool *p = work_pool_new(&o);
	ck_assert_ptr_nonnull(p);
	struct job j[5];
	for (int i = 0; i < 4; i++) {
		job_init(&j[i], i, true);
		ck_assert(work_pool_submit(p, &j[i].w, 1));
	}
	ck_assert(wait_until(running_is, 1)); /* one of lane 1 at a time */
	/* Lane 0 still has free workers. */
	job_init(&j[4], 4, false);
	ck_assert(work_pool_submit(p, &j[4].w, 0));
	ck_assert(wait_until(finished_is, 1));
	struct work_pool_stats st;
	work_pool_stats(p, &st);
	ck_assert_uint_eq(st.lane[1].busy, 1);
	ck_assert_uint_eq(st.lane[1].queued, 3);
	open_it();
	ck_assert(wait_until(finished_is, 5));
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(j[i].outcome, WORK_RUN);
	/* Lane 1 ran in the order it was given: 0, 1, 2, 3 (4 ran between). */
	int k = 0;
	for (int i = 0; i < norder; i++)
		if (order[i] != 4)
			ck_assert_int_eq(order[i], k++);
	work_pool_free(p);
}
END_TEST

START_TEST(a_full_queue_refuses_and_a_long_wait_is_rejected)
{
	reset();
	struct work_pool_options o = {.threads = 2, .queue_max = 2, .queue_timeout_ms = 200};
	struct work_pool *p = work_pool_new(&o);
	struct job busy[2], q[2], extra;
	for (int i = 0; i < 2; i++) {
		job_init(&busy[i], i, true);
		ck_assert(work_pool_submit(p, &busy[i].w, 0));
	}
	ck_assert(wait_until(running_is, 2));
	for (int i = 0; i < 2; i++) {
		job_init(&q[i], 10 + i, false);
		ck_assert(work_pool_submit(p, &q[i].w, 0));
	}
	job_init(&extra, 20, false);
	ck_assert(!work_pool_submit(p, &extra.w, 0)); /* full: refused, fn not called */
	ck_assert(!extra.done);
	/* Nobody frees a worker: the queued ones are rejected after 200 ms. */
	ck_assert(wait_until(finished_is, 2));
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(q[i].outcome, WORK_REJECTED_TIMEOUT);
	struct work_pool_stats st;
	work_pool_stats(p, &st);
	ck_assert_uint_eq(st.lane[0].rejected_full, 1);
	ck_assert_uint_eq(st.lane[0].rejected_timeout, 2);
	open_it();
	ck_assert(wait_until(finished_is, 4));
	work_pool_free(p);
}
END_TEST

START_TEST(stop_hands_back_what_is_queued_and_waits_for_what_runs)
{
	reset();
	struct work_pool_options o = {.threads = 1, .queue_max = 8, .queue_timeout_ms = 60000};
	struct work_pool *p = work_pool_new(&o);
	struct job first, queued[3];
	job_init(&first, 0, true);
	ck_assert(work_pool_submit(p, &first.w, 0));
	ck_assert(wait_until(running_is, 1));
	for (int i = 0; i < 3; i++) {
		job_init(&queued[i], 1 + i, false);
		ck_assert(work_pool_submit(p, &queued[i].w, 2));
	}
	pthread_t opener; /* lets the running one finish while free waits */
	pthread_create(&opener, NULL, open_later, NULL);
	work_pool_free(p);
	pthread_join(opener, NULL);
	ck_assert_int_eq(first.outcome, WORK_RUN);
	ck_assert(first.done);
	for (int i = 0; i < 3; i++) {
		ck_assert(queued[i].done);
		ck_assert_int_eq(queued[i].outcome, WORK_REJECTED_STOPPING);
	}
	work_pool_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("workers");
	TCase *tc = tcase_create("workers");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, a_lane_runs_at_most_its_cap_in_order);
	tcase_add_test(tc, a_full_queue_refuses_and_a_long_wait_is_rejected);
	tcase_add_test(tc, stop_hands_back_what_is_queued_and_waits_for_what_runs);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
