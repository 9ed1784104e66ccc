/* Redis client: a fixed set of hiredis contexts behind a mutex. A context is
 * used by one thread at a time; one that fails with an I/O error is dropped
 * and replaced on next use, so a Redis restart heals by itself. */
#include "cinema/kv.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cinema/clock.h"
#include "cinema/log.h"
#include "cinema/mem.h"
#include "kv/kv_private.h"
#include "kv/ratelimit_local.h"

/* Counters of the rate limiter's fallback while Redis is down: 4096 of 24
 * bytes (96 KiB, plus a mutex per set of 8), allocated with the client.
 * Beyond that, keys with the fewest hits are forgotten first. */
#define KV_LOCAL_RATE_ENTRIES 4096

struct kv {
	char *host;   /* NULL for a unix socket */
	char *socket; /* NULL for TCP */
	int port;
	char *password;
	int db;
	int timeout_ms;
	int size;
	redisContext **idle; /* stack of idle contexts, NULL entries = not connected */
	int nidle;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct rate_local *local_rates; /* kv_rate_allow when Redis is down */
};

static bool parse_url(struct kv *kv, const char *url, char *err, size_t errlen)
{
	const char *p;
	if (strncmp(url, "unix://", 7) == 0) {
		p = url + 7;
		size_t n = strcspn(p, "?");
		if (n == 0 || p[0] != '/')
			goto bad;
		kv->socket = xstrndup(p, n);
		if (p[n] == '?' && sscanf(p + n + 1, "db=%d", &kv->db) != 1)
			goto bad;
		return true;
	}
	if (strncmp(url, "redis://", 8) != 0)
		goto bad;
	p = url + 8;
	const char *at = strchr(p, '@');
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		if (colon) /* user names (ACL) are not used: the password follows ':' */
			kv->password = xstrndup(colon + 1, (size_t)(at - colon - 1));
		p = at + 1;
	}
	size_t hostlen = strcspn(p, ":/");
	if (hostlen == 0)
		goto bad;
	kv->host = xstrndup(p, hostlen);
	p += hostlen;
	kv->port = 6379;
	if (*p == ':') {
		char *end;
		long port = strtol(p + 1, &end, 10);
		if (end == p + 1 || port < 1 || port > 65535)
			goto bad;
		kv->port = (int)port;
		p = end;
	}
	if (*p == '/' && p[1]) {
		char *end;
		long db = strtol(p + 1, &end, 10);
		if (end == p + 1 || *end || db < 0 || db > 1000)
			goto bad;
		kv->db = (int)db;
	} else if (*p && strcmp(p, "/") != 0) {
		goto bad;
	}
	return true;
bad:
	snprintf(err, errlen,
		 "REDIS_URL must look like redis://[:password@]host[:port][/db] or "
		 "unix:///path/to/socket");
	return false;
}

struct kv *kv_new(const struct kv_options *opt, char *err, size_t errlen)
{
	struct kv *kv = xcalloc(1, sizeof(*kv));
	if (!parse_url(kv, opt->url, err, errlen)) {
		kv_free(kv);
		return NULL;
	}
	kv->timeout_ms = opt->timeout_ms;
	kv->size = opt->pool_size > 0 ? opt->pool_size : 1;
	kv->idle = xcalloc((size_t)kv->size, sizeof(*kv->idle));
	kv->nidle = kv->size; /* all slots free, none connected yet */
	pthread_mutex_init(&kv->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&kv->freed, &attr);
	pthread_condattr_destroy(&attr);
	kv->local_rates = rate_local_new(KV_LOCAL_RATE_ENTRIES);
	return kv;
}

void kv_free(struct kv *kv)
{
	if (!kv)
		return;
	if (kv->idle) {
		for (int i = 0; i < kv->nidle; i++)
			if (kv->idle[i])
				redisFree(kv->idle[i]);
		pthread_mutex_destroy(&kv->lock);
		pthread_cond_destroy(&kv->freed);
	}
	rate_local_free(kv->local_rates);
	free(kv->idle);
	free(kv->host);
	free(kv->socket);
	free(kv->password);
	free(kv);
}

redisContext *kv_connect(struct kv *kv)
{
	struct timeval tv = {kv->timeout_ms / 1000, (kv->timeout_ms % 1000) * 1000};
	redisContext *c = kv->socket ? redisConnectUnixWithTimeout(kv->socket, tv)
				     : redisConnectWithTimeout(kv->host, kv->port, tv);
	if (!c || c->err) {
		LOG_WARN("redis connect failed", LOG_STR("error", c ? c->errstr : "out of memory"));
		goto fail;
	}
	redisSetTimeout(c, tv);
	if (kv->password) {
		redisReply *r = redisCommand(c, "AUTH %s", kv->password);
		bool ok = r && r->type != REDIS_REPLY_ERROR;
		freeReplyObject(r);
		if (!ok) {
			LOG_WARN("redis authentication failed");
			goto fail;
		}
	}
	if (kv->db) {
		redisReply *r = redisCommand(c, "SELECT %d", kv->db);
		bool ok = r && r->type != REDIS_REPLY_ERROR;
		freeReplyObject(r);
		if (!ok) {
			LOG_WARN("redis select failed", LOG_INT("db", kv->db));
			goto fail;
		}
	}
	return c;
fail:
	if (c)
		redisFree(c);
	return NULL;
}

/* Takes a slot; *ctx may come back NULL (not connected yet). */
static bool slot_take(struct kv *kv, redisContext **ctx)
{
	struct timespec deadline = deadline_after_ms(CLOCK_MONOTONIC, kv->timeout_ms);
	pthread_mutex_lock(&kv->lock);
	while (kv->nidle == 0) {
		if (pthread_cond_timedwait(&kv->freed, &kv->lock, &deadline) == ETIMEDOUT &&
		    kv->nidle == 0) {
			pthread_mutex_unlock(&kv->lock);
			return false;
		}
	}
	*ctx = kv->idle[--kv->nidle];
	pthread_mutex_unlock(&kv->lock);
	return true;
}

static void slot_give(struct kv *kv, redisContext *ctx)
{
	pthread_mutex_lock(&kv->lock);
	kv->idle[kv->nidle++] = ctx;
	pthread_cond_signal(&kv->freed);
	pthread_mutex_unlock(&kv->lock);
}

enum err kv_command(struct kv *kv, redisReply **reply, const char *fmt, ...)
{
	redisContext *c = NULL;
	redisReply *r = NULL;
	enum err rc = ERR_REDIS_UNAVAILABLE;

	if (reply)
		*reply = NULL;
	if (!slot_take(kv, &c))
		return ERR_REDIS_UNAVAILABLE;
	/* A pooled context may have died since its last use: one retry on a
	 * fresh connection. */
	for (int attempt = 0; attempt < 2 && !r; attempt++) {
		if (!c && !(c = kv_connect(kv)))
			break;
		va_list ap;
		va_start(ap, fmt);
		r = redisvCommand(c, fmt, ap);
		va_end(ap);
		if (!r) {
			LOG_WARN("redis command failed", LOG_STR("error", c->errstr));
			redisFree(c);
			c = NULL;
		}
	}
	if (!r)
		goto out;
	if (r->type == REDIS_REPLY_ERROR) {
		LOG_WARN("redis error reply", LOG_STR("error", r->str));
		rc = ERR_INTERNAL;
		goto out;
	}
	rc = ERR_OK;
	if (reply) {
		*reply = r;
		r = NULL;
	}
out:
	freeReplyObject(r);
	slot_give(kv, c);
	return rc;
}

bool kv_ping(struct kv *kv)
{
	redisReply *r = NULL;
	bool ok = kv_command(kv, &r, "PING") == ERR_OK && r && r->type == REDIS_REPLY_STATUS &&
		  strcmp(r->str, "PONG") == 0;
	freeReplyObject(r);
	return ok;
}

struct rate_local *kv_local_rates(struct kv *kv)
{
	return kv->local_rates;
}

int kv_db(const struct kv *kv)
{
	return kv ? kv->db : 0;
}
