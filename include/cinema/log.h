/* Structured logging: one JSON object per line on stderr, written with a
 * single write(2) so lines from several threads never interleave.
 *
 *   LOG_INFO("server started", LOG_STR("host", host), LOG_INT("port", port));
 *
 * The level is checked before anything is formatted. The threshold is set
 * once at startup (log_set_level) before threads start. Never pass secrets
 * (passwords, tokens, links carrying tokens, payment secrets). */
#ifndef CINEMA_LOG_H
#define CINEMA_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Field tags used by the variadic list; use the LOG_* macros, not these. */
enum log_field_type { LOG_T_END = 0, LOG_T_STR, LOG_T_INT, LOG_T_BOOL, LOG_T_DBL };

#define LOG_STR(k, v)  LOG_T_STR, (const char *)(k), (const char *)(v)
#define LOG_INT(k, v)  LOG_T_INT, (const char *)(k), (long long)(v)
#define LOG_BOOL(k, v) LOG_T_BOOL, (const char *)(k), (int)(v)
#define LOG_DBL(k, v)  LOG_T_DBL, (const char *)(k), (double)(v)

void log_set_level(enum log_level level);
/* From here on lines are queued in memory and written by one background
 * thread, several at a time (at most LOG_FLUSH_MS later), so request
 * threads never wait on the log file. Call after log_set_level, before
 * starting other threads; log_async_stop writes what is queued. */
void log_async_start(void);
void log_async_stop(void);
bool log_enabled(enum log_level level);
/* Parses "debug", "info", "warn", "error". Returns false on anything else. */
bool log_level_parse(const char *s, enum log_level *out);
/* Writes one line: {"level":..,"time":..,"msg":..,<fields>}. The variadic
 * list is LOG_* field macros terminated by LOG_T_END. */
void log_write(enum log_level level, const char *msg, ...);

#define LOG_AT(lvl, msg, ...)                                          \
	do {                                                           \
		if (log_enabled(lvl))                                  \
			log_write(lvl, msg, ##__VA_ARGS__, LOG_T_END); \
	} while (0)
#define LOG_DEBUG(msg, ...) LOG_AT(LOG_LEVEL_DEBUG, msg, ##__VA_ARGS__)
#define LOG_INFO(msg, ...)  LOG_AT(LOG_LEVEL_INFO, msg, ##__VA_ARGS__)
#define LOG_WARN(msg, ...)  LOG_AT(LOG_LEVEL_WARN, msg, ##__VA_ARGS__)
#define LOG_ERROR(msg, ...) LOG_AT(LOG_LEVEL_ERROR, msg, ##__VA_ARGS__)

#endif
