/* Allocation helpers. Small allocations abort on out-of-memory: there is no
 * useful recovery from a failed 64-byte malloc in a server, and checking every
 * call hides the real error paths. Sizes a client controls are bounded by the
 * caller before they get here. Thread-safe. */
#ifndef CINEMA_MEM_H
#define CINEMA_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size); /* aborts on count*size overflow */
void *xrealloc(void *p, size_t n);
/* Returns an owned copy of s (NULL stays NULL). */
char *xstrdup(const char *s);
/* Returns an owned, NUL-terminated copy of the first n bytes of s. */
char *xstrndup(const char *s, size_t n);

#endif
