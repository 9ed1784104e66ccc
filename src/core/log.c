#include "cinema/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cinema/buf.h"

/* Set once by main before any thread starts, read-only afterwards. */
static enum log_level log_threshold = LOG_LEVEL_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

#define LOG_FLUSH_MS	20
#define LOG_MAX_PENDING (8u * 1024u * 1024u) /* beyond: lines are dropped and counted */

/* The asynchronous writer. A log is process-wide by nature, so this is the
 * one piece of mutable global state besides configuration: lines from every
 * thread are appended under a mutex (a memcpy), and one thread writes what
 * has piled up with a single write(2). */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct buf pending;
	unsigned long long dropped;
	pthread_t thread;
	bool running, stopping;
} async = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, BUF_INIT, 0, 0, false, false};

static void write_all(const char *data, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(STDERR_FILENO, data + off, len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

static void *writer_main(void *arg)
{
	struct buf out = BUF_INIT;
	(void)arg;
	pthread_mutex_lock(&async.lock);
	for (;;) {
		while (async.pending.len == 0 && !async.stopping)
			pthread_cond_wait(&async.wake, &async.lock);
		struct buf tmp = async.pending; /* take the batch, leave our empty buffer */
		async.pending = out;
		out = tmp;
		unsigned long long dropped = async.dropped;
		async.dropped = 0;
		bool stop = async.stopping && out.len == 0;
		pthread_mutex_unlock(&async.lock);
		if (stop)
			break;
		if (dropped) {
			char note[128];
			int n = snprintf(note, sizeof(note),
					 "{\"level\":\"warn\",\"msg\":\"log lines dropped\","
					 "\"count\":%llu}\n",
					 dropped);
			write_all(note, (size_t)n);
		}
		write_all(out.data, out.len);
		buf_reset(&out);
		struct timespec nap = {0, LOG_FLUSH_MS * 1000000L};
		nanosleep(&nap, NULL); /* let lines gather: fewer, larger writes */
		pthread_mutex_lock(&async.lock);
	}
	buf_free(&out);
	return NULL;
}

void log_async_start(void)
{
	if (async.running)
		return;
	async.stopping = false;
	async.running = pthread_create(&async.thread, NULL, writer_main, NULL) == 0;
}

void log_async_stop(void)
{
	if (!async.running)
		return;
	pthread_mutex_lock(&async.lock);
	async.stopping = true;
	pthread_cond_signal(&async.wake);
	pthread_mutex_unlock(&async.lock);
	pthread_join(async.thread, NULL);
	async.running = false;
	write_all(async.pending.data, async.pending.len);
	buf_free(&async.pending);
}

/* Queues one whole line, or writes it at once when no writer runs. */
static void emit(const char *line, size_t len)
{
	if (!async.running) {
		write_all(line, len);
		return;
	}
	pthread_mutex_lock(&async.lock);
	if (async.pending.len + len > LOG_MAX_PENDING) {
		async.dropped++;
	} else {
		bool was_empty = async.pending.len == 0;
		buf_append(&async.pending, line, len);
		if (was_empty)
			pthread_cond_signal(&async.wake);
	}
	pthread_mutex_unlock(&async.lock);
}

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

bool log_enabled(enum log_level level)
{
	return level >= log_threshold;
}

bool log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

static void append_key(struct buf *b, const char *key)
{
	buf_append_str(b, ",\"");
	buf_append_json_escaped(b, key, strlen(key));
	buf_append_str(b, "\":");
}

static void append_str_field(struct buf *b, const char *key, const char *val)
{
	append_key(b, key);
	if (!val) {
		buf_append_str(b, "null");
		return;
	}
	buf_append_char(b, '"');
	buf_append_json_escaped(b, val, strlen(val));
	buf_append_char(b, '"');
}

void log_write(enum log_level level, const char *msg, ...)
{
	struct buf b = BUF_INIT;
	struct timespec ts;
	struct tm tm;
	char when[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

	buf_printf(&b, "{\"level\":\"%s\",\"time\":\"%s.%03ldZ\"", level_names[level], when,
		   ts.tv_nsec / 1000000);
	append_str_field(&b, "msg", msg);

	va_list ap;
	va_start(ap, msg);
	for (;;) {
		enum log_field_type t = (enum log_field_type)va_arg(ap, int);
		if (t == LOG_T_END)
			break;
		const char *key = va_arg(ap, const char *);
		switch (t) {
		case LOG_T_STR:
			append_str_field(&b, key, va_arg(ap, const char *));
			break;
		case LOG_T_INT:
			append_key(&b, key);
			buf_printf(&b, "%lld", va_arg(ap, long long));
			break;
		case LOG_T_BOOL:
			append_key(&b, key);
			buf_append_str(&b, va_arg(ap, int) ? "true" : "false");
			break;
		case LOG_T_DBL:
			append_key(&b, key);
			buf_printf(&b, "%.3f", va_arg(ap, double));
			break;
		default:
			goto out; /* a malformed list: stop rather than read garbage */
		}
	}
out:
	va_end(ap);
	buf_append_str(&b, "}\n");
	/* Whole lines only: lines from several threads never interleave. */
	emit(b.data, b.len);
	buf_free(&b);
}
