/* A growable byte buffer, always NUL-terminated so it can be used as a C
 * string. Not thread-safe; owned by whoever declared it. */
#ifndef CINEMA_BUF_H
#define CINEMA_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data; /* NULL until the first append */
	size_t len;
	size_t cap;
};

#define BUF_INIT           \
	{                  \
		NULL, 0, 0 \
	}

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t n);
void buf_append_str(struct buf *b, const char *s);
void buf_append_char(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends s as the inside of a JSON string (no quotes), escaping as RFC 8259
 * requires. Invalid UTF-8 bytes are replaced with U+FFFD. */
void buf_append_json_escaped(struct buf *b, const char *s, size_t n);
/* Appends the JSON text json (n bytes, valid JSON, as PostgreSQL renders it)
 * without the blanks outside strings: json_build_object writes `"a" : 1, "b"`
 * and json_agg `[1, 2]`, responses are compact `"a":1,"b"`. One pass, no
 * parsing; strings are copied unchanged. */
void buf_append_json_compact(struct buf *b, const char *json, size_t n);
/* Empties b, keeping its memory. */
void buf_reset(struct buf *b);
/* Drops what follows the first len bytes (nothing when b is shorter). */
void buf_truncate(struct buf *b, size_t len);
/* Releases b's memory; b is empty and reusable afterwards. */
void buf_free(struct buf *b);
/* Hands the data to the caller (owned, NUL-terminated, never NULL) and
 * leaves b empty. */
char *buf_steal(struct buf *b, size_t *len_out);

#endif
