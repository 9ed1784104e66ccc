/* The bounded worker pool: per-lane FIFO queues, per-lane caps, one mutex.
 * A worker picks the oldest runnable job across lanes (by submit time).
 * Jobs past their queue deadline are handed back rejected by a reaper
 * thread that sleeps until the oldest queued job would expire, so a wait is
 * bounded even while every worker is busy. A submit wakes the reaper only
 * when it sleeps without a deadline (nothing was queued): when it sleeps
 * until a deadline, that of a job queued earlier comes first. Waking it on
 * every submit to an empty queue cost one thread switch and lock contention
 * per request (perf: the reaper took 19% of the futex calls on GET
 * /movies/{id}; docs/benchmarks.md "Catalog cold path (issue 15): detail"). */
#include "http/workers.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/clock.h"
#include "cinema/log.h"
#include "cinema/mem.h"

struct lane {
	struct work *head, *tail;
	unsigned queued, busy, cap;
	unsigned long long done, rejected_full, rejected_timeout;
};

struct work_pool {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, a lane freed, or stop */
	pthread_cond_t reap; /* the queue was empty and is not, or stop */
	pthread_t reaper;
	bool reaper_started;
	bool reaper_idle; /* the reaper waits on reap without a deadline */
	struct lane lanes[WORK_LANES];
	unsigned queued, busy, queue_max;
	int64_t timeout_ms;
	bool stopping;
	int nthreads;
	pthread_t *threads;
};

static void lane_push(struct lane *l, struct work *w)
{
	w->next = NULL;
	if (l->tail)
		l->tail->next = w;
	else
		l->head = w;
	l->tail = w;
	l->queued++;
}

static struct work *lane_pop(struct lane *l)
{
	struct work *w = l->head;
	l->head = w->next;
	if (!l->head)
		l->tail = NULL;
	l->queued--;
	w->next = NULL;
	return w;
}

/* Moves every job queued past its deadline onto *expired. Lock held. */
static void expire_locked(struct work_pool *p, int64_t now, struct work **expired)
{
	for (unsigned i = 0; i < WORK_LANES; i++) {
		struct lane *l = &p->lanes[i];
		while (l->head && now - l->head->queued_ms >= p->timeout_ms) {
			struct work *w = lane_pop(l);
			p->queued--;
			l->rejected_timeout++;
			w->next = *expired;
			*expired = w;
		}
	}
}

static void reject_all(struct work *list, enum work_outcome why)
{
	while (list) {
		struct work *next = list->next;
		list->fn(list, why);
		list = next;
	}
}

/* The oldest job of a lane under its cap, taken off its queue; NULL if no
 * lane can run one now. Lock held. */
static struct work *take_locked(struct work_pool *p)
{
	struct lane *best = NULL;
	for (unsigned i = 0; i < WORK_LANES; i++) {
		struct lane *l = &p->lanes[i];
		if (l->head && l->busy < l->cap &&
		    (!best || l->head->queued_ms < best->head->queued_ms))
			best = l;
	}
	if (!best)
		return NULL;
	struct work *w = lane_pop(best);
	p->queued--;
	best->busy++;
	p->busy++;
	return w;
}

/* When the oldest job that is waiting expires: the earliest queued time. */
static bool earliest_locked(const struct work_pool *p, int64_t *queued_ms)
{
	bool any = false;
	for (unsigned i = 0; i < WORK_LANES; i++) {
		const struct work *h = p->lanes[i].head;
		if (h && (!any || h->queued_ms < *queued_ms)) {
			*queued_ms = h->queued_ms;
			any = true;
		}
	}
	return any;
}

static void *worker_main(void *arg)
{
	struct work_pool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct work *w = p->stopping ? NULL : take_locked(p);
		if (w) {
			pthread_mutex_unlock(&p->lock);
			unsigned lane = w->lane;
			w->fn(w, WORK_RUN); /* w may be freed from here on */
			pthread_mutex_lock(&p->lock);
			p->lanes[lane].busy--;
			p->lanes[lane].done++;
			p->busy--;
			continue;
		}
		if (p->stopping)
			break;
		pthread_cond_wait(&p->work, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Rejects jobs whose wait is over, sleeping until the oldest would be. */
static void *reaper_main(void *arg)
{
	struct work_pool *p = arg;
	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		struct work *expired = NULL;
		expire_locked(p, mono_ms(), &expired);
		if (expired) {
			pthread_mutex_unlock(&p->lock);
			reject_all(expired, WORK_REJECTED_TIMEOUT);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		int64_t first = 0;
		if (earliest_locked(p, &first)) {
			int64_t wait = first + p->timeout_ms - mono_ms();
			struct timespec dl =
				deadline_after_ms(CLOCK_MONOTONIC, wait > 0 ? wait : 0);
			pthread_cond_timedwait(&p->reap, &p->lock, &dl);
		} else {
			p->reaper_idle = true;
			pthread_cond_wait(&p->reap, &p->lock);
			p->reaper_idle = false;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct work_pool *work_pool_new(const struct work_pool_options *opt)
{
	struct work_pool *p = xcalloc(1, sizeof(*p));
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->work, &ca);
	pthread_cond_init(&p->reap, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&p->lock, NULL);
	p->nthreads = opt->threads > 0 ? opt->threads : 1;
	p->queue_max = opt->queue_max > 0 ? (unsigned)opt->queue_max : 1;
	p->timeout_ms = opt->queue_timeout_ms > 0 ? opt->queue_timeout_ms : 1;
	for (unsigned i = 0; i < WORK_LANES; i++) {
		int cap = opt->lane_cap[i];
		p->lanes[i].cap = (unsigned)(cap > 0 && cap < p->nthreads ? cap : p->nthreads);
	}
	p->threads = xcalloc((size_t)p->nthreads, sizeof(*p->threads));
	if (pthread_create(&p->reaper, NULL, reaper_main, p) != 0) {
		LOG_ERROR("cannot start the worker queue's reaper thread");
		p->nthreads = 0;
		work_pool_free(p);
		return NULL;
	}
	p->reaper_started = true;
	for (int i = 0; i < p->nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
			LOG_ERROR("cannot start a worker thread", LOG_INT("started", i));
			p->nthreads = i;
			work_pool_free(p);
			return NULL;
		}
	}
	return p;
}

bool work_pool_submit(struct work_pool *p, struct work *w, unsigned lane)
{
	struct work *expired = NULL;
	bool ok = false;
	int64_t now = mono_ms();
	w->lane = lane < WORK_LANES ? lane : 0;
	w->queued_ms = now;
	pthread_mutex_lock(&p->lock);
	expire_locked(p, now, &expired);
	if (!p->stopping && p->queued < p->queue_max) {
		if (p->reaper_idle) { /* it sleeps without a deadline */
			p->reaper_idle = false;
			pthread_cond_signal(&p->reap);
		}
		lane_push(&p->lanes[w->lane], w);
		p->queued++;
		ok = true;
		pthread_cond_signal(&p->work);
	} else {
		p->lanes[w->lane].rejected_full++;
	}
	pthread_mutex_unlock(&p->lock);
	reject_all(expired, WORK_REJECTED_TIMEOUT);
	return ok;
}

void work_pool_stop(struct work_pool *p)
{
	struct work *left = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->stopping) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	p->stopping = true;
	for (unsigned i = 0; i < WORK_LANES; i++)
		while (p->lanes[i].head) {
			struct work *w = lane_pop(&p->lanes[i]);
			p->queued--;
			w->next = left;
			left = w;
		}
	pthread_cond_broadcast(&p->work);
	pthread_cond_signal(&p->reap);
	pthread_mutex_unlock(&p->lock);
	reject_all(left, WORK_REJECTED_STOPPING);
	if (p->reaper_started)
		pthread_join(p->reaper, NULL);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
}

void work_pool_free(struct work_pool *p)
{
	if (!p)
		return;
	work_pool_stop(p);
	free(p->threads);
	pthread_cond_destroy(&p->reap);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void work_pool_stats(struct work_pool *p, struct work_pool_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&p->lock);
	out->threads = (unsigned)p->nthreads;
	out->queued = p->queued;
	out->busy = p->busy;
	for (unsigned i = 0; i < WORK_LANES; i++) {
		const struct lane *l = &p->lanes[i];
		out->lane[i] = (struct work_pool_lane_stats){l->queued, l->busy, l->done,
							     l->rejected_full, l->rejected_timeout};
	}
	pthread_mutex_unlock(&p->lock);
}
