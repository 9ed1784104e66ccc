/* The ?cursor= of keyset pages (docs/CATALOG.md "Lists at scale"): opaque
 * to clients, base64url (no padding) of the JSON [sort, tier, value, id],
 * where sort is the list's sort key ("" for relevance), value the last
 * row's sort value as PostgreSQL text and id its id. Nothing is signed: a
 * changed cursor can only move where a page starts, and reading one checks
 * every part, so no cursor makes a statement fail. Pure; any thread. */
#ifndef CINEMA_CATALOG_CURSOR_H
#define CINEMA_CATALOG_CURSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog/repo.h"

/* The cursor text into out (outlen bytes); false when it does not fit. */
bool movie_cursor_make(const char *sort, int tier, const char *value, long long id, char *out,
		       size_t outlen);

/* Reads text for a list sorted by sort (movies_sort_of), whose key has
 * SQL type type ("text", "int", "numeric", "float8", "timestamptz"), into
 * out, the value normalised for that type. False, with *why set to a
 * message for the client, when text is no cursor of this sort. */
bool movie_cursor_read(const char *text, const char *sort, const char *type,
		       struct movie_cursor *out, const char **why);

#endif
