/* Pagination of lists: ?page=1&per_page=20 in, the envelope of API.md out:
 * {"items", "page", "per_page", "total_items", "total_pages", "prev_page",
 *  "next_page"}, where prev/next are relative URLs keeping the other query
 * parameters. */
#ifndef CINEMA_PAGE_H
#define CINEMA_PAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cinema/buf.h"

struct http_request;
struct http_response;

#define PAGE_DEFAULT_SIZE 20
#define PAGE_MAX_SIZE	  100
#define PAGE_MAX_NUMBER	  1000000

struct page {
	long long page;
	long long per_page;
	long long offset; /* (page - 1) * per_page */
};

/* Reads page and per_page (defaults 1 and 20). On a bad value fills res with
 * 422 naming the parameter and returns false. */
bool page_parse(struct http_request *req, struct http_response *res, struct page *out);
/* As page_parse, adding {field, message} errors to errors (a JSON array)
 * instead of answering, for handlers that check more parameters. */
bool page_read(struct http_request *req, json_t *errors, struct page *out);
/* The envelope around items (consumed). */
json_t *page_envelope(struct http_request *req, const struct page *pg, json_t *items,
		      long long total_items);
/* The same envelope written as text into out, around items_json (a JSON
 * array's text, e.g. built from rows that PostgreSQL rendered as JSON):
 * no parsing and re-serializing on hot paths. */
void page_envelope_raw(struct http_request *req, const struct page *pg, const char *items_json,
		       size_t items_len, long long total_items, struct buf *out);
/* Lists paged by keyset as well as by number (GET /movies, docs/CATALOG.md
 * "Lists at scale"): the envelope gains total_items_exact and next_cursor,
 * and next_page follows `more` (not total_items, which may be estimated):
 * a numbered link up to page PAGE_NUMBERED_MAX, a ?cursor= link after it
 * and after any keyset page. */
#define PAGE_NUMBERED_MAX 5
struct page_more {
	long long total_items;
	bool exact;		 /* total_items counted, not estimated */
	bool more;		 /* rows follow this page */
	const char *next_cursor; /* where they start */
};
void page_envelope_keyset(struct http_request *req, const struct page *pg, const char *items_json,
			  size_t items_len, const struct page_more *more, struct buf *out);
/* Parses a whole decimal number in [min, max]; false otherwise. */
bool parse_ll(const char *s, long long min, long long max, long long *out);

#endif
