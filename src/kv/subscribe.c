/* One Pub/Sub listener thread per subscription. The thread blocks reading
 * its connection with no timeout; kv_subscription_stop wakes it by shutting
 * the socket down, so stopping is immediate and nothing polls. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cinema/clock.h"
#include "cinema/kv.h"
#include "cinema/log.h"
#include "cinema/mem.h"
#include "kv/kv_private.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct kv_subscription {
	struct kv *kv;
	char *channel;
	void (*on_message)(void *ctx);
	void *ctx;
	pthread_t thread;
	pthread_mutex_t lock; /* guards stop and conn */
	pthread_cond_t wake;  /* signalled by stop during a backoff, and by the
			       * thread when its first attempt is over */
	bool stop;
	bool first_done;    /* the first connect-and-subscribe attempt is over */
	redisContext *conn; /* the subscribed connection, NULL between connections */
};

/* Subscribes c; true when Redis confirmed. */
static bool subscribe(redisContext *c, const char *channel)
{
	redisReply *r = redisCommand(c, "SUBSCRIBE %s", channel);
	bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
		  r->element[0]->type == REDIS_REPLY_STRING &&
		  strcmp(r->element[0]->str, "subscribe") == 0;
	freeReplyObject(r);
	return ok;
}

static bool is_message(const redisReply *r)
{
	return r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
	       r->element[0]->type == REDIS_REPLY_STRING &&
	       strcmp(r->element[0]->str, "message") == 0;
}

/* Waits ms unless stopped; true when it is time to stop. */
static bool backoff(struct kv_subscription *s, int ms)
{
	struct timespec until = deadline_after_ms(CLOCK_MONOTONIC, ms);
	pthread_mutex_lock(&s->lock);
	while (!s->stop && pthread_cond_timedwait(&s->wake, &s->lock, &until) == 0)
		;
	bool stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

/* Publishes c as the live connection unless stopping; false when stopping. */
static bool set_conn(struct kv_subscription *s, redisContext *c)
{
	pthread_mutex_lock(&s->lock);
	bool stop = s->stop;
	s->conn = stop ? NULL : c;
	pthread_mutex_unlock(&s->lock);
	return !stop;
}

static void first_attempt_over(struct kv_subscription *s)
{
	pthread_mutex_lock(&s->lock);
	s->first_done = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

static void *listen_thread(void *arg)
{
	struct kv_subscription *s = arg;
	int wait_ms = BACKOFF_MIN_MS;
	bool first = true;
	for (;;) {
		redisContext *c = kv_connect(s->kv);
		int64_t since = mono_ms();
		if (c && subscribe(c, s->channel)) {
			/* No read timeout (messages may be hours apart), but TCP
			 * keepalive, so a peer that vanished without a reset (a
			 * NAT or balancer idle timeout) ends the read. */
			struct timeval forever = {0, 0};
			redisSetTimeout(c, forever);
			redisEnableKeepAlive(c);
			if (!set_conn(s, c)) {
				redisFree(c);
				break;
			}
			s->on_message(s->ctx); /* whatever was sent while away */
			if (first)
				first_attempt_over(s);
			first = false;
			redisReply *r = NULL;
			while (redisGetReply(c, (void **)&r) == REDIS_OK && r) {
				if (is_message(r))
					s->on_message(s->ctx);
				freeReplyObject(r);
				r = NULL;
			}
			set_conn(s, NULL);
		}
		if (first)
			first_attempt_over(s);
		first = false;
		if (c)
			redisFree(c);
		pthread_mutex_lock(&s->lock);
		bool stop = s->stop;
		pthread_mutex_unlock(&s->lock);
		if (stop)
			break;
		/* Back off from the minimum again only after a connection that
		 * lasted: one dropped at once (an output buffer limit, a proxy)
		 * must not reconnect, and drop the cache, ten times a second. */
		if (mono_ms() - since > BACKOFF_MAX_MS)
			wait_ms = BACKOFF_MIN_MS;
		LOG_WARN("redis subscription down, retrying", LOG_STR("channel", s->channel),
			 LOG_INT("retry_ms", wait_ms));
		if (backoff(s, wait_ms))
			break;
		wait_ms = wait_ms * 2 < BACKOFF_MAX_MS ? wait_ms * 2 : BACKOFF_MAX_MS;
	}
	return NULL;
}

struct kv_subscription *kv_subscribe(struct kv *kv, const char *channel,
				     void (*on_message)(void *ctx), void *ctx)
{
	struct kv_subscription *s = xcalloc(1, sizeof(*s));
	pthread_condattr_t attr;
	s->kv = kv;
	s->channel = xstrdup(channel);
	s->on_message = on_message;
	s->ctx = ctx;
	if (pthread_mutex_init(&s->lock, NULL) != 0 || pthread_condattr_init(&attr) != 0 ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&s->wake, &attr) != 0)
		abort(); /* resource exhaustion, fatal like xmalloc */
	pthread_condattr_destroy(&attr);
	if (pthread_create(&s->thread, NULL, listen_thread, s) != 0) {
		LOG_ERROR("cannot start the redis subscription thread",
			  LOG_STR("channel", channel));
		pthread_cond_destroy(&s->wake);
		pthread_mutex_destroy(&s->lock);
		free(s->channel);
		free(s);
		return NULL;
	}
	/* Return subscribed when Redis answers, so that no message published
	 * after this call is missed; when it does not, the thread keeps
	 * trying and the caller goes on. */
	pthread_mutex_lock(&s->lock);
	while (!s->first_done)
		pthread_cond_wait(&s->wake, &s->lock);
	pthread_mutex_unlock(&s->lock);
	return s;
}

void kv_subscription_stop(struct kv_subscription *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	if (s->conn)
		shutdown(s->conn->fd, SHUT_RDWR); /* wakes the blocked read */
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s->channel);
	free(s);
}
