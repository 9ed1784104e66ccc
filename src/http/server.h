/* The HTTP server: libmicrohttpd in its internal thread pool on epoll,
 * dispatching to route tables. Used by the cinema-api binary only. */
#ifndef CINEMA_HTTP_SERVER_H
#define CINEMA_HTTP_SERVER_H

#include <stddef.h>

#include "cinema/http.h"

struct http_server;

struct http_server_options {
	const char *host;
	int port;
	int threads;		  /* socket threads: they never wait */
	int workers;		  /* threads that run handlers which may wait */
	int queue_max;		  /* requests waiting for a worker, beyond: 503 */
	int queue_timeout_ms;	  /* longest wait for a worker, beyond: 503 */
	int lane_cap[HTTP_LANES]; /* most workers a lane may hold (0: all) */
	int connection_limit;
	int per_ip_limit;
	int timeout_s;
	const char *cors_origins;	   /* comma-separated, "" for none */
	const struct route *const *tables; /* NULL-terminated */
	http_authenticate_fn authenticate; /* NULL: every bearer token is refused */
	/* Answers GET and HEAD of a path that no route has and no prefix of
	 * fallback_except covers (a prefix covers itself and what follows it
	 * after a '/'); other methods there get 405. NULL: such paths get 404. */
	const struct route *fallback;
	const char *const *fallback_except; /* NULL-terminated, may be NULL */
	const struct app *app;
};

/* Binds and starts serving. Returns NULL with a reason in err on failure. */
struct http_server *http_server_start(const struct http_server_options *opt, char *err,
				      size_t errlen);
/* Stops accepting, lets requests in flight finish for up to grace_s seconds,
 * answers 503 to those still waiting for a worker, waits for the running
 * handlers, then closes every connection and frees the server. Accepts NULL. */
void http_server_stop(struct http_server *srv, int grace_s);

#endif
