#include "cinema/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cinema/buf.h"

/* Set once by main before any thread starts, read-only afterwards. */
static enum log_level log_threshold = LOG_LEVEL_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

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
	/* One write per line keeps lines whole across threads. */
	size_t off = 0;
	while (off < b.len) {
		ssize_t w = write(STDERR_FILENO, b.data + off, b.len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	buf_free(&b);
}
