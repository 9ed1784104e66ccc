/* The request accessors of src/http/server.c, answered from the tables of a
 * struct fuzz_conn instead of a libmicrohttpd connection. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cinema/app.h"
#include "cinema/config.h"
#include "cinema/http.h"
#include "fuzz.h"
#include "http/client_ip.h"

const char *http_query(const struct http_request *req, const char *name)
{
	const struct fuzz_conn *c = req->conn;
	for (size_t i = 0; c && i < c->nquery; i++)
		if (strcmp(c->query[i].key, name) == 0)
			return c->query[i].value;
	return NULL;
}

const char *http_header(const struct http_request *req, const char *name)
{
	const struct fuzz_conn *c = req->conn;
	for (size_t i = 0; c && i < c->nheaders; i++)
		if (strcasecmp(c->headers[i].key, name) == 0)
			return c->headers[i].value;
	return NULL;
}

void http_query_each(const struct http_request *req,
		     void (*fn)(void *ctx, const char *key, const char *value), void *ctx)
{
	const struct fuzz_conn *c = req->conn;
	for (size_t i = 0; c && i < c->nquery; i++)
		fn(ctx, c->query[i].key, c->query[i].value);
}

void http_client_ip(const struct http_request *req, char *out, size_t outlen)
{
	const struct fuzz_conn *c = req->conn;
	snprintf(out, outlen, "%s", c && c->peer ? c->peer : "");
	const char *trusted = req->app && req->app->cfg ? req->app->cfg->trusted_proxies : NULL;
	http_forwarded_client(trusted, http_header(req, "X-Forwarded-For"), out, outlen);
}

void http_metrics_write(const struct http_request *req, struct buf *out)
{
	(void)req;
	(void)out;
}
