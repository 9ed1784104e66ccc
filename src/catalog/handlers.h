/* HTTP routes of the catalog: movies, genres, stars, directors,
 * certifications (reading for anyone, writing for moderators). */
#ifndef CINEMA_CATALOG_HANDLERS_H
#define CINEMA_CATALOG_HANDLERS_H

#include "catalog/repo.h"
#include "catalog/search.h"
#include "cinema/http.h"

extern const struct route catalog_routes[];

/* What catalog_parse_filter writes for f to point into. */
struct filter_bufs {
	struct search_query search;
	struct movie_cursor cursor;
};

/* Reads the filters, search, sort and cursor of GET /movies from the query
 * string into f (strings borrowed from the request or written into bufs).
 * Fills res with 422 naming each bad parameter and returns false
 * otherwise. Shared by /favorites and /purchases. */
bool catalog_parse_filter(struct http_request *req, struct http_response *res,
			  struct movie_filter *f, struct filter_bufs *bufs);

#endif
