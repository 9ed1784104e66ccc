/* libmicrohttpd glue: per-request state, body accumulation with limits,
 * dispatch, response headers, access log and graceful shutdown.
 *
 * MHD calls the access handler once with the headers, once per body chunk,
 * then once more to respond; per-request state lives in *req_cls and is
 * freed in the completed callback. */
#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cinema/app.h"
#include "cinema/config.h"
#include "cinema/log.h"
#include "cinema/mem.h"

/* Past the route's limit a body is read and dropped so the client still gets
 * its 413; past this much more the connection is cut instead. */
#define DISCARD_SLACK (1024u * 1024u)

/* Latency buckets of the histogram, in seconds (Prometheus "le"). */
static const double latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					 0.1,	0.25,	0.5,   1,    2.5};
#define NBUCKETS (sizeof(latency_buckets) / sizeof(latency_buckets[0]))
#define NCLASSES 5 /* 1xx..5xx */

struct route_stats {
	const struct route *route; /* NULL: requests that matched no route */
	atomic_ullong by_class[NCLASSES];
};

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_server_options opt;
	char *cors_origins; /* owned copy */
	atomic_int in_flight;
	atomic_bool stopping;
	struct route_stats *stats; /* one per route, then one for no route */
	size_t nstats;
	atomic_ullong latency[NBUCKETS + 1]; /* cumulative counts per bucket, +Inf last */
	atomic_ullong latency_sum_us;
};

struct req_ctx {
	struct http_request req;
	struct http_response res;
	struct buf body;
	struct timespec start;
	size_t received;
	unsigned allowed; /* methods the path accepts, for 405 and preflight */
	enum err early;	  /* an error decided before the body was read */
	bool too_large;
	bool responded;
};

static double elapsed_ms(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* --- request accessors used by handlers --- */

const char *http_query(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* Whether ip appears in the comma-separated list. */
static bool ip_listed(const char *list, const char *ip, size_t iplen)
{
	for (const char *p = list; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ", ");
		if (n && n == iplen && strncmp(p, ip, n) == 0)
			return true;
		p += n;
	}
	return false;
}

void http_client_ip(const struct http_request *req, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	out[0] = '\0';
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
			  (socklen_t)outlen);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  out, (socklen_t)outlen);
	/* Behind a trusted load balancer the client is the rightmost address of
	 * X-Forwarded-For that is not itself one of the trusted proxies. */
	const char *trusted = req->app && req->app->cfg ? req->app->cfg->trusted_proxies : NULL;
	const char *xff = trusted && *trusted && ip_listed(trusted, out, strlen(out))
				  ? http_header(req, "X-Forwarded-For")
				  : NULL;
	for (size_t end = xff ? strlen(xff) : 0; end > 0;) {
		size_t start = end;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		size_t a = start, b = end;
		while (a < b && xff[a] == ' ')
			a++;
		while (b > a && xff[b - 1] == ' ')
			b--;
		char ip[INET6_ADDRSTRLEN];
		unsigned char bin[sizeof(struct in6_addr)];
		if (b - a == 0 || b - a >= sizeof(ip))
			return;
		memcpy(ip, xff + a, b - a);
		ip[b - a] = '\0';
		if (inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip, bin) != 1)
			return; /* not an address: keep the peer */
		if (!ip_listed(trusted, ip, strlen(ip))) {
			snprintf(out, outlen, "%s", ip);
			return;
		}
		end = start > 0 ? start - 1 : 0;
	}
}

struct query_iter {
	void (*fn)(void *ctx, const char *key, const char *value);
	void *ctx;
};

static enum MHD_Result query_iter_cb(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct query_iter *it = cls;
	(void)kind;
	it->fn(it->ctx, key, value);
	return MHD_YES;
}

void http_query_each(const struct http_request *req,
		     void (*fn)(void *ctx, const char *key, const char *value), void *ctx)
{
	struct query_iter it = {fn, ctx};
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_iter_cb, &it);
}

/* --- helpers --- */

static bool request_id_sane(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= HTTP_REQUEST_ID_MAX ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return n > 0;
}

static void request_id_init(struct http_request *req, const char *given)
{
	if (given && request_id_sane(given)) {
		strcpy(req->request_id, given);
		return;
	}
	/* Ids must be unique, not secret: random bytes are drawn 4 KiB at a
	 * time per thread rather than one getrandom(2) per request. */
	static _Thread_local unsigned char pool[4096];
	static _Thread_local size_t used = sizeof(pool);
	if (used + 16 > sizeof(pool)) {
		randombytes_buf(pool, sizeof(pool));
		used = 0;
	}
	sodium_bin2hex(req->request_id, sizeof(req->request_id), pool + used, 16);
	used += 16;
}

/* Returns the configured origin equal to origin, or NULL. */
static bool origin_allowed(const struct http_server *srv, const char *origin)
{
	if (!origin || !*srv->cors_origins)
		return false;
	size_t n = strlen(origin);
	const char *p = srv->cors_origins;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ",");
		size_t trimmed = len;
		while (trimmed && p[trimmed - 1] == ' ')
			trimmed--;
		if (trimmed == n && strncasecmp(p, origin, n) == 0)
			return true;
		p += len;
	}
	return false;
}

static void allow_header(unsigned allowed, char *out, size_t outlen)
{
	static const enum http_method order[] = {HTTP_GET,   HTTP_HEAD,	  HTTP_POST,   HTTP_PUT,
						 HTTP_PATCH, HTTP_DELETE, HTTP_OPTIONS};
	size_t off = 0;
	out[0] = '\0';
	allowed |= HTTP_OPTIONS;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(allowed & order[i]))
			continue;
		int w = snprintf(out + off, outlen - off, "%s%s", off ? ", " : "",
				 http_method_name(order[i]));
		if (w < 0 || (size_t)w >= outlen - off)
			break;
		off += (size_t)w;
	}
}

static void add_common_headers(struct http_server *srv, struct req_ctx *ctx, struct MHD_Response *r)
{
	const struct http_response *res = &ctx->res;
	if (res->content_type)
		MHD_add_response_header(r, "Content-Type", res->content_type);
	MHD_add_response_header(r, "X-Request-Id", ctx->req.request_id);
	/* An API answers JSON only: forbid sniffing, framing and caching by
	 * default; handlers that serve cacheable data override Cache-Control. */
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	bool has_cache = false, has_csp = false;
	for (int i = 0; i < res->nheaders; i++) {
		MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
		has_cache |= strcasecmp(res->headers[i].name, "Cache-Control") == 0;
		has_csp |= strcasecmp(res->headers[i].name, "Content-Security-Policy") == 0;
	}
	if (!has_cache)
		MHD_add_response_header(r, "Cache-Control", "no-store");
	if (!has_csp)
		MHD_add_response_header(r, "Content-Security-Policy",
					"default-src 'none'; frame-ancestors 'none'");
	if (*srv->cors_origins) {
		MHD_add_response_header(r, "Vary", "Origin");
		const char *origin = http_header(&ctx->req, "Origin");
		if (origin_allowed(srv, origin)) {
			MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
			MHD_add_response_header(r, "Access-Control-Allow-Credentials", "true");
			MHD_add_response_header(r, "Access-Control-Expose-Headers",
						"X-Request-Id, Retry-After, Allow");
		}
	}
	if (atomic_load(&srv->stopping))
		MHD_add_response_header(r, "Connection", "close");
}

static enum MHD_Result send_response(struct http_server *srv, struct MHD_Connection *conn,
				     struct req_ctx *ctx)
{
	size_t len;
	char *data = buf_steal(&ctx->res.body, &len);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(data);
		return MHD_NO;
	}
	add_common_headers(srv, ctx, r);
	ctx->responded = true;
	enum MHD_Result ok = MHD_queue_response(conn, ctx->res.status, r);
	MHD_destroy_response(r);
	return ok;
}

/* Answers an OPTIONS request: a CORS preflight or a plain Allow query. */
static void preflight(struct http_server *srv, struct req_ctx *ctx)
{
	char allow[128];
	allow_header(ctx->allowed, allow, sizeof(allow));
	http_empty(&ctx->res, 204);
	http_set_header(&ctx->res, "Allow", allow);
	const char *origin = http_header(&ctx->req, "Origin");
	if (origin_allowed(srv, origin) &&
	    http_header(&ctx->req, "Access-Control-Request-Method")) {
		http_set_header(&ctx->res, "Access-Control-Allow-Methods", allow);
		http_set_header(&ctx->res, "Access-Control-Allow-Headers",
				"Authorization, Content-Type, X-Request-Id");
		http_set_header(&ctx->res, "Access-Control-Max-Age", "600");
	}
}

/* Decides everything that can be decided from the request line and headers.
 * Returns ERR_OK when the body should be read and the handler run. */
static enum err classify(struct http_server *srv, struct req_ctx *ctx, const char *method,
			 const char *url)
{
	struct http_request *req = &ctx->req;
	req->method = http_method_parse(method);
	req->route = http_route_match(srv->opt.tables, req->method ? req->method : HTTP_GET, url,
				      req->params, &req->nparams, &ctx->allowed);
	if (!req->route && !ctx->allowed)
		return ERR_ROUTE_NOT_FOUND;
	if (req->method == HTTP_OPTIONS)
		return ERR_OK;
	if (!req->method || !req->route)
		return ERR_METHOD_NOT_ALLOWED;

	const char *cl = http_header(req, "Content-Length");
	if (cl) {
		char *end;
		unsigned long long n = strtoull(cl, &end, 10);
		if (end == cl || *end)
			return ERR_BAD_REQUEST;
		if (n > req->route->body_limit)
			return ERR_PAYLOAD_TOO_LARGE;
	}
	return ERR_OK;
}

/* Who is calling: fills req->auth from the bearer token, if any. Returns
 * ERR_OK for anonymous callers and valid tokens. */
static enum err authenticate(struct http_server *srv, struct http_request *req)
{
	static const char prefix[] = "Bearer ";
	const char *h = http_header(req, "Authorization");
	if (!h)
		return ERR_OK;
	if (strncasecmp(h, prefix, sizeof(prefix) - 1) != 0 || !h[sizeof(prefix) - 1])
		return ERR_UNAUTHORIZED;
	if (!srv->opt.authenticate)
		return ERR_UNAUTHORIZED;
	return srv->opt.authenticate(srv->opt.app, h + sizeof(prefix) - 1, &req->auth);
}

/* Runs the route's handler on a complete request, after the access check
 * of the route table. */
static void dispatch(struct http_server *srv, struct req_ctx *ctx)
{
	struct http_request *req = &ctx->req;
	enum err e = req->route->access == ACCESS_OWN_AUTH ? ERR_OK : authenticate(srv, req);
	if (e == ERR_OK && req->route->access > ACCESS_PUBLIC && !req->auth.user_id)
		e = ERR_UNAUTHORIZED;
	if (e != ERR_OK) {
		memset(&req->auth, 0, sizeof(req->auth));
		http_error(&ctx->res, e, NULL);
		if (err_http_status(e) == 401)
			http_set_header(&ctx->res, "WWW-Authenticate", "Bearer");
		return;
	}
	if (req->auth.group < req->route->access) {
		http_error(&ctx->res, ERR_FORBIDDEN, NULL);
		return;
	}
	if (ctx->body.data) {
		req->body = ctx->body.data;
		req->body_len = ctx->body.len;
	}
	ctx->res.status = req->route->handler(req, &ctx->res);
	if (ctx->res.status == 401) {
		bool has = false;
		for (int i = 0; i < ctx->res.nheaders; i++)
			has |= strcasecmp(ctx->res.headers[i].name, "WWW-Authenticate") == 0;
		if (!has) /* RFC 9110: a 401 names its scheme */
			http_set_header(&ctx->res, "WWW-Authenticate", "Bearer");
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct http_server *srv = cls;
	struct req_ctx *ctx = *req_cls;
	(void)version;

	if (!ctx) {
		ctx = xcalloc(1, sizeof(*ctx));
		clock_gettime(CLOCK_MONOTONIC, &ctx->start);
		ctx->req.app = srv->opt.app;
		ctx->req.conn = conn;
		ctx->req.server = srv;
		ctx->req.path = url;
		ctx->req.body = "";
		*req_cls = ctx;
		atomic_fetch_add(&srv->in_flight, 1);
		request_id_init(&ctx->req,
				MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id"));
		ctx->early = classify(srv, ctx, method, url);
		if (ctx->early == ERR_OK)
			return MHD_YES; /* read the body, if any */
		/* Answer now: MHD closes the connection if a body is still unread. */
		http_error(&ctx->res, ctx->early, NULL);
		if (ctx->early == ERR_METHOD_NOT_ALLOWED) {
			char allow[128];
			allow_header(ctx->allowed, allow, sizeof(allow));
			http_set_header(&ctx->res, "Allow", allow);
		}
		return send_response(srv, conn, ctx);
	}

	if (ctx->responded) {
		*upload_data_size = 0; /* drain whatever follows an early answer */
		return MHD_YES;
	}

	if (*upload_data_size) {
		size_t n = *upload_data_size;
		size_t limit = ctx->req.route ? ctx->req.route->body_limit : 0;
		ctx->received += n;
		*upload_data_size = 0;
		if (ctx->received > limit) {
			ctx->too_large = true;
			buf_free(&ctx->body);
			return ctx->received - limit > DISCARD_SLACK ? MHD_NO : MHD_YES;
		}
		buf_append(&ctx->body, upload_data, n);
		return MHD_YES;
	}

	if (ctx->too_large)
		http_error(&ctx->res, ERR_PAYLOAD_TOO_LARGE, NULL);
	else if (ctx->req.method == HTTP_OPTIONS)
		preflight(srv, ctx);
	else
		dispatch(srv, ctx);
	return send_response(srv, conn, ctx);
}

/* Counts a finished request for /metrics. */
static void record(struct http_server *srv, const struct req_ctx *ctx)
{
	size_t i = srv->nstats - 1;
	for (size_t k = 0; k + 1 < srv->nstats; k++)
		if (srv->stats[k].route == ctx->req.route) {
			i = k;
			break;
		}
	unsigned cls = ctx->res.status / 100;
	if (cls >= 1 && cls <= NCLASSES)
		atomic_fetch_add(&srv->stats[i].by_class[cls - 1], 1);
	double s = elapsed_ms(&ctx->start) / 1000.0;
	size_t b = 0;
	while (b < NBUCKETS && s > latency_buckets[b])
		b++;
	atomic_fetch_add(&srv->latency[b], 1);
	atomic_fetch_add(&srv->latency_sum_us, (unsigned long long)(s * 1e6));
}

void http_metrics_write(const struct http_request *req, struct buf *out)
{
	const struct http_server *srv = req->server;
	buf_append_str(out, "# HELP cinema_http_requests_total Requests answered, by route and "
			    "status class.\n# TYPE cinema_http_requests_total counter\n");
	for (size_t i = 0; i < srv->nstats; i++) {
		const struct route *r = srv->stats[i].route;
		for (unsigned c = 0; c < NCLASSES; c++) {
			unsigned long long n = atomic_load(&srv->stats[i].by_class[c]);
			if (n)
				buf_printf(out,
					   "cinema_http_requests_total{method=\"%s\",route=\"%s\","
					   "status=\"%uxx\"} %llu\n",
					   r ? http_method_name(r->method) : "",
					   r ? r->pattern : "none", c + 1, n);
		}
	}
	buf_append_str(out, "# HELP cinema_http_request_duration_seconds Time to answer.\n"
			    "# TYPE cinema_http_request_duration_seconds histogram\n");
	unsigned long long cumulative = 0;
	for (size_t b = 0; b <= NBUCKETS; b++) {
		cumulative += atomic_load(&srv->latency[b]);
		if (b < NBUCKETS)
			buf_printf(out,
				   "cinema_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
				   latency_buckets[b], cumulative);
		else
			buf_printf(out,
				   "cinema_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
				   "cinema_http_request_duration_seconds_count %llu\n",
				   cumulative, cumulative);
	}
	buf_printf(out, "cinema_http_request_duration_seconds_sum %.6f\n",
		   (double)atomic_load(&srv->latency_sum_us) / 1e6);
	buf_printf(out,
		   "# HELP cinema_http_requests_in_flight Requests being answered.\n"
		   "# TYPE cinema_http_requests_in_flight gauge\n"
		   "cinema_http_requests_in_flight %d\n",
		   atomic_load(&((struct http_server *)srv)->in_flight));
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct req_ctx *ctx = *req_cls;
	(void)conn;
	if (!ctx)
		return;
	*req_cls = NULL;
	record(srv, ctx);
	LOG_INFO("request", LOG_STR("request_id", ctx->req.request_id),
		 LOG_STR("method", http_method_name(ctx->req.method)),
		 LOG_STR("path", ctx->req.path), LOG_INT("status", ctx->res.status),
		 LOG_DBL("duration_ms", elapsed_ms(&ctx->start)),
		 LOG_INT("user_id", ctx->req.auth.user_id),
		 LOG_BOOL("completed", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK));
	http_params_clear(ctx->req.params, ctx->req.nparams);
	for (int i = 0; i < ctx->res.nheaders; i++)
		free(ctx->res.headers[i].value);
	buf_free(&ctx->res.body);
	buf_free(&ctx->body);
	free(ctx);
	atomic_fetch_sub(&srv->in_flight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	LOG_WARN("libmicrohttpd", LOG_STR("detail", msg));
}

static bool resolve(const char *host, int port, struct sockaddr_storage *ss, char *err,
		    size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%d", port);
	int rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc != 0 || !ai) {
		snprintf(err, errlen, "HTTP_HOST %s cannot be resolved: %s", host,
			 gai_strerror(rc));
		return false;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return true;
}

struct http_server *http_server_start(const struct http_server_options *opt, char *err,
				      size_t errlen)
{
	struct sockaddr_storage addr;
	if (!resolve(opt->host, opt->port, &addr, err, errlen))
		return NULL;

	struct http_server *srv = xcalloc(1, sizeof(*srv));
	srv->opt = *opt;
	srv->cors_origins = xstrdup(opt->cors_origins ? opt->cors_origins : "");
	srv->opt.cors_origins = srv->cors_origins;
	atomic_init(&srv->in_flight, 0);
	atomic_init(&srv->stopping, false);
	for (const struct route *const *t = opt->tables; *t; t++)
		for (const struct route *r = *t; r->pattern; r++)
			srv->nstats++;
	srv->nstats++; /* no route */
	srv->stats = xcalloc(srv->nstats, sizeof(*srv->stats));
	size_t k = 0;
	for (const struct route *const *t = opt->tables; *t; t++)
		for (const struct route *r = *t; r->pattern; r++)
			srv->stats[k++].route = r;

	unsigned flags =
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* One option and its values per line. */
	/* clang-format off */
	srv->daemon = MHD_start_daemon(flags, (uint16_t)opt->port, NULL, NULL, on_request, srv,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)opt->threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)opt->connection_limit,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)opt->per_ip_limit,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)opt->timeout_s,
		/* MHD clears this pool on every keep-alive request: keep it at
		 * its default size; larger request headers get MHD's own 431. */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_END);
	/* clang-format on */
	if (!srv->daemon) {
		snprintf(err, errlen, "cannot listen on %s:%d (address in use or not permitted)",
			 opt->host, opt->port);
		free(srv->stats);
		free(srv->cors_origins);
		free(srv);
		return NULL;
	}
	return srv;
}

void http_server_stop(struct http_server *srv, int grace_s)
{
	if (!srv)
		return;
	atomic_store(&srv->stopping, true);
	MHD_socket lsock = MHD_quiesce_daemon(srv->daemon);
	if (lsock != MHD_INVALID_SOCKET)
		close(lsock);
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (atomic_load(&srv->in_flight) > 0 && elapsed_ms(&start) < grace_s * 1000.0) {
		struct timespec nap = {0, 10 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	int left = atomic_load(&srv->in_flight);
	if (left > 0)
		LOG_WARN("shutdown grace period over", LOG_INT("requests_in_flight", left));
	MHD_stop_daemon(srv->daemon);
	free(srv->stats);
	free(srv->cors_origins);
	free(srv);
}
