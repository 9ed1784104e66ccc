/* What handlers see of HTTP: a request, a response to fill, and route tables.
 * Only src/http touches libmicrohttpd; handlers use these types and helpers.
 *
 * A handler reads like the spec: parse and validate, call the domain, map the
 * result. It returns the HTTP status it put in the response:
 *
 *   static unsigned h_get_thing(struct http_request *req, struct http_response *res)
 *   {
 *           long long id;
 *           if (!http_param_id(req, "id", &id))
 *                   return http_error(res, ERR_NOT_FOUND, NULL);
 *           ...
 *           return http_json(res, 200, obj);
 *   }
 */
#ifndef CINEMA_HTTP_H
#define CINEMA_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cinema/buf.h"
#include "cinema/error.h"

struct app;

enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_HEAD = 1 << 1,
	HTTP_POST = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_PATCH = 1 << 4,
	HTTP_DELETE = 1 << 5,
	HTTP_OPTIONS = 1 << 6,
};

/* Groups, ordered: each inherits the rights of those below. */
enum http_access {
	ACCESS_OWN_AUTH = -1, /* the handler checks its own credentials; the router
			       * does not read Authorization (webhooks, /metrics) */
	ACCESS_PUBLIC = 0,    /* anyone, signed in or not */
	ACCESS_USER,	      /* any signed-in account */
	ACCESS_MODERATOR,
	ACCESS_ADMIN,
};

/* Where a route's handler runs (see docs/ARCHITECTURE.md, "The life of a
 * request"). The threads that read and write sockets never wait: anything
 * that may wait runs on the worker pool, in a lane whose cap bounds how many
 * workers one slow dependency can hold. */
enum http_lane {
	LANE_DB = 0,	 /* the default: may wait on PostgreSQL or Redis; a worker */
	LANE_INLINE,	 /* never waits (no I/O but memory and local files): runs on
			  * the socket thread; Authorization is not read, so the
			  * access must be ACCESS_PUBLIC or ACCESS_OWN_AUTH */
	LANE_TRY_INLINE, /* tried on the socket thread with may_block false (unless
			  * the caller sends a bearer token); a handler that would
			  * wait returns HTTP_DEFER, untouched res, to run on a worker */
	LANE_PASSWORD,	 /* waits for a password-hashing slot (Argon2id) */
	LANE_STRIPE,	 /* calls Stripe */
	LANE_S3,	 /* calls S3 */
	HTTP_LANES
};

/* Returned by a LANE_TRY_INLINE handler called with may_block false that
 * must wait: it is called again on a worker. */
#define HTTP_DEFER 0u

#define HTTP_MAX_PARAMS	       4
#define HTTP_MAX_EXTRA_HEADERS 8
#define HTTP_REQUEST_ID_MAX    64

struct http_param {
	const char *name; /* borrowed from the route pattern, not terminated */
	size_t name_len;
	char *value; /* owned by the request, decoded, NUL-terminated */
};

/* Who is calling, filled by the server's authenticator before the handler
 * runs (see http_authenticate_fn). user_id is 0 for anonymous callers. */
struct http_identity {
	long long user_id;
	enum http_access group; /* ACCESS_PUBLIC when anonymous */
	char session_id[40];
};

struct http_request {
	const struct app *app;
	struct http_identity auth;
	enum http_method method;
	const char *path; /* borrowed from the server, without query string */
	const char *body; /* NUL-terminated; "" when there is none */
	size_t body_len;
	const struct route *route;
	struct http_param params[HTTP_MAX_PARAMS];
	int nparams;
	char request_id[HTTP_REQUEST_ID_MAX + 1];
	bool may_block; /* false on the socket thread (LANE_TRY_INLINE) */
	void *conn;	/* opaque server handle, used by the http_* accessors */
	void *server;	/* opaque: the struct http_server answering */
};

struct http_header {
	const char *name; /* static string */
	char *value;	  /* owned by the response */
};

struct http_response {
	unsigned status;
	const char *content_type; /* static string; default JSON */
	struct buf body;
	/* Borrowed memory that lives as long as the server (files loaded at
	 * start): sent as it is, without a copy, instead of body. */
	const char *body_ref;
	size_t body_ref_len;
	struct http_header headers[HTTP_MAX_EXTRA_HEADERS];
	int nheaders;
};

typedef unsigned (*http_handler_fn)(struct http_request *req, struct http_response *res);

/* Checks a bearer token and fills *who. Returns ERR_OK, or the error to
 * answer with (ERR_UNAUTHORIZED and friends, ERR_DB_* when it cannot tell).
 * Called for every request that carries an Authorization header and for
 * every route that needs a signed-in caller. */
typedef enum err (*http_authenticate_fn)(const struct app *app, const char *bearer,
					 struct http_identity *who);

struct route {
	enum http_method method;
	const char *pattern; /* "/api/v1/movies/{id}" */
	http_handler_fn handler;
	enum http_access access;
	size_t body_limit; /* bytes accepted; 0 = no body allowed */
	enum http_lane lane;
};

/* A domain's routes: a table terminated by an entry with a NULL pattern. */
#define ROUTES_END                                       \
	{                                                \
		0, NULL, NULL, ACCESS_PUBLIC, 0, LANE_DB \
	}

/* --- request accessors (borrowed strings, valid for the request) --- */
/* Path parameter by name, or NULL. */
const char *http_param(const struct http_request *req, const char *name);
/* Path parameter parsed as a positive 64-bit id; false if absent or not one. */
bool http_param_id(const struct http_request *req, const char *name, long long *out);
/* Query-string argument (decoded), or NULL. */
const char *http_query(const struct http_request *req, const char *name);
/* Request header (case-insensitive name), or NULL. */
const char *http_header(const struct http_request *req, const char *name);
/* The client's IP address as text into out (at least 46 bytes). */
void http_client_ip(const struct http_request *req, char *out, size_t outlen);
/* Calls fn for each query argument in order (decoded key, value may be NULL). */
void http_query_each(const struct http_request *req,
		     void (*fn)(void *ctx, const char *key, const char *value), void *ctx);

/* Parses the body as a JSON object. Fills res with 415 (not JSON content
 * type), 400 (malformed, or not an object) and returns false; otherwise
 * *out owns the object. Strings may hold NUL characters (\u0000): read
 * them through the validator (validate.h), which refuses them per field. */
bool http_json_body(struct http_request *req, struct http_response *res, json_t **out);

/* --- response builders; each returns the status it set --- */
/* Serializes obj (consumed) as the body. */
unsigned http_json(struct http_response *res, unsigned status, json_t *obj);
/* Error body of API.md: {"detail", "code"}; detail NULL uses the default. */
unsigned http_error(struct http_response *res, enum err e, const char *detail);
/* As http_error with a formatted detail. */
unsigned http_errorf(struct http_response *res, enum err e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 422 with {"detail","code","errors":[...]}; errors (consumed) is an array of
 * {"field","message"} objects. */
unsigned http_validation_error(struct http_response *res, json_t *errors);
/* The body already holds JSON text the handler wrote into res->body (for
 * rows PostgreSQL rendered as JSON): sets the status and content type. */
unsigned http_json_raw(struct http_response *res, unsigned status);
/* Status with an empty body (204 and friends). */
unsigned http_empty(struct http_response *res, unsigned status);
/* Adds a response header (value copied). Silently ignores more than
 * HTTP_MAX_EXTRA_HEADERS; names are static strings. Cache-Control,
 * Content-Security-Policy and Referrer-Policy set here replace the API's
 * defaults (no-store; default-src 'none'; no-referrer). */
void http_set_header(struct http_response *res, const char *name, const char *value);
/* As http_set_header, but adds the header even when one of that name is
 * there already (Set-Cookie). */
void http_add_header(struct http_response *res, const char *name, const char *value);
/* The value of cookie name in the request's Cookie header, copied into out;
 * false when absent or when it does not fit in outlen. */
bool http_cookie(const struct http_request *req, const char *name, char *out, size_t outlen);

/* The origin of an http(s) URL ("https://host[:port]", user info and a
 * default port left out, scheme and host in lower case) into out; false
 * when url is not an http(s) URL with a host or does not fit. */
bool http_url_origin(const char *url, char *out, size_t outlen);
/* Whether an Origin header value names the origin of base_url. */
bool http_same_origin(const char *origin, const char *base_url);
/* Whether an Origin header value names the host the request was sent to
 * (its Host header, with the Origin's scheme): a same-origin request, as
 * when the app is opened at http://localhost:8000 while PUBLIC_BASE_URL
 * says http://127.0.0.1:8000. */
bool http_origin_is_host(const char *origin, const char *host);

/* Appends the server's counters in Prometheus text format: requests by
 * route and status class, a latency histogram, requests in flight. */
void http_metrics_write(const struct http_request *req, struct buf *out);

/* Router: finds the route for method and path among tables (each ended by
 * ROUTES_END). Returns the route and fills params (values decoded and owned
 * by the caller: free with http_params_clear), or NULL. When the path exists
 * with other methods, *allowed gets their bit mask, else 0. */
const struct route *http_route_match(const struct route *const *tables, enum http_method method,
				     const char *path, struct http_param *params, int *nparams,
				     unsigned *allowed);
void http_params_clear(struct http_param *params, int nparams);
/* Parses a method name; 0 if unknown. */
enum http_method http_method_parse(const char *s);
const char *http_method_name(enum http_method m);

#endif
