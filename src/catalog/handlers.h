/* HTTP routes of the catalog: movies, genres, stars, directors,
 * certifications (reading for anyone, writing for moderators). */
#ifndef CINEMA_CATALOG_HANDLERS_H
#define CINEMA_CATALOG_HANDLERS_H

#include "catalog/repo.h"
#include "cinema/http.h"

extern const struct route catalog_routes[];

/* Reads the filters, search and sort of GET /movies from the query string
 * into f (strings borrowed from the request; tsquery written into
 * tsq_buf). Fills res with 422 naming each bad parameter and returns false
 * otherwise. Shared by /favorites and /purchases. */
bool catalog_parse_filter(struct http_request *req, struct http_response *res,
			  struct movie_filter *f, char *tsq_buf, size_t tsq_len);

#endif
