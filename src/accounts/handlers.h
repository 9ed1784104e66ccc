/* HTTP routes of the accounts domain (/api/v1/accounts, /api/v1/admin/users). */
#ifndef CINEMA_ACCOUNTS_HANDLERS_H
#define CINEMA_ACCOUNTS_HANDLERS_H

#include "cinema/http.h"

extern const struct route accounts_routes[];

/* Counts one attempt of action for the client IP and, when email is given,
 * for that email (AUTH_RATE_LIMIT per AUTH_RATE_WINDOW; five times that per
 * IP). Over the limit it fills res with 429 and Retry-After and returns
 * false. */
bool accounts_rate_ok(struct http_request *req, struct http_response *res, const char *action,
		      const char *email);

#endif
