/* libmicrohttpd glue: per-request state, decisions on the headers, body
 * accumulation with limits, hand-off to the worker pool, response headers,
 * access log, lingering close and graceful shutdown.
 *
 * MHD calls the access handler once with the headers, once per body chunk,
 * then once more to respond; per-request state lives in *req_cls and is
 * freed in the completed callback. Work that may wait runs on the worker
 * pool (workers.c) while the connection is suspended; the worker fills the
 * request state and resumes the connection, and MHD calls the access
 * handler again at the same stage, which then goes on. Between suspend and
 * resume only the worker touches the request state; MHD neither times out
 * nor closes a suspended connection, so the state outlives the work. */
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
#include "http/client_ip.h"
#include "http/linger.h"
#include "http/workers.h"

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
	struct work_pool *workers;
	struct linger_set *linger;
	struct http_server_options opt;
	char *cors_origins; /* owned copy */
	atomic_int in_flight;
	atomic_bool stopping;
	struct route_stats *stats; /* one per route, then one for no route */
	size_t nstats;
	atomic_ullong latency[NBUCKETS + 1]; /* cumulative counts per bucket, +Inf last */
	atomic_ullong latency_sum_us;
};

/* Where a request stands between calls of the access handler. */
enum phase {
	PHASE_NEW,	 /* headers just read */
	PHASE_AUTH,	 /* suspended: a worker authenticates before the body is read */
	PHASE_AUTH_DONE, /* resumed: ctx->early says whether to read the body */
	PHASE_BODY,	 /* reading the body */
	PHASE_RUN,	 /* suspended: a worker runs the handler */
	PHASE_ANSWERED,	 /* ctx->res is ready to send */
	PHASE_RESPONDED, /* queued to MHD */
};

struct req_ctx {
	struct http_request req;
	struct http_response res;
	struct buf body;
	struct work work; /* while queued or running on the worker pool */
	struct timespec start;
	size_t received;
	unsigned allowed; /* methods the path accepts, for 405 and preflight */
	enum err early;	  /* an error decided before the body was read */
	enum phase phase;
	bool body_declared; /* Content-Length > 0 or chunked: a body follows */
	bool authenticated; /* req.auth is settled */
	bool linger;	    /* answered with the body unread: close gently */
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
	const char *trusted = req->app && req->app->cfg ? req->app->cfg->trusted_proxies : NULL;
	http_forwarded_client(trusted, http_header(req, "X-Forwarded-For"), out, outlen);
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

/* Gives each header every response carries, and the handler's own, to
 * emit: to an MHD response, or to the text of a raw one. */
static void common_headers(struct http_server *srv, struct req_ctx *ctx,
			   void (*emit)(void *cls, const char *name, const char *value), void *cls)
{
	const struct http_response *res = &ctx->res;
	if (res->content_type)
		emit(cls, "Content-Type", res->content_type);
	emit(cls, "X-Request-Id", ctx->req.request_id);
	/* An API answers JSON only: forbid sniffing, framing and caching by
	 * default; handlers that serve cacheable data override Cache-Control. */
	emit(cls, "X-Content-Type-Options", "nosniff");
	emit(cls, "X-Frame-Options", "DENY");
	bool has_cache = false, has_csp = false, has_referrer = false;
	for (int i = 0; i < res->nheaders; i++) {
		emit(cls, res->headers[i].name, res->headers[i].value);
		has_cache |= strcasecmp(res->headers[i].name, "Cache-Control") == 0;
		has_csp |= strcasecmp(res->headers[i].name, "Content-Security-Policy") == 0;
		has_referrer |= strcasecmp(res->headers[i].name, "Referrer-Policy") == 0;
	}
	if (!has_referrer)
		emit(cls, "Referrer-Policy", "no-referrer");
	if (!has_cache)
		emit(cls, "Cache-Control", "no-store");
	if (!has_csp)
		emit(cls, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
	if (*srv->cors_origins) {
		emit(cls, "Vary", "Origin");
		const char *origin = http_header(&ctx->req, "Origin");
		if (origin_allowed(srv, origin)) {
			emit(cls, "Access-Control-Allow-Origin", origin);
			emit(cls, "Access-Control-Allow-Credentials", "true");
			emit(cls, "Access-Control-Expose-Headers",
			     "X-Request-Id, Retry-After, Allow");
		}
	}
	if (atomic_load(&srv->stopping) || ctx->linger)
		emit(cls, "Connection", "close");
}

static void emit_mhd(void *cls, const char *name, const char *value)
{
	MHD_add_response_header(cls, name, value);
}

static void emit_text(void *cls, const char *name, const char *value)
{
	buf_printf(cls, "%s: %s\r\n", name, value);
}

static enum MHD_Result send_response(struct http_server *srv, struct MHD_Connection *conn,
				     struct req_ctx *ctx)
{
	struct MHD_Response *r;
	if (ctx->res.body_ref) {
		/* MHD only reads it, and it outlives the connection. */
		r = MHD_create_response_from_buffer(
			ctx->res.body_ref_len, (void *)ctx->res.body_ref, MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
	} else {
		size_t len;
		char *data = buf_steal(&ctx->res.body, &len);
		r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
		if (!r) {
			free(data);
			return MHD_NO;
		}
	}
	common_headers(srv, ctx, emit_mhd, r);
	ctx->phase = PHASE_RESPONDED;
	enum MHD_Result ok = MHD_queue_response(conn, ctx->res.status, r);
	MHD_destroy_response(r);
	return ok;
}

/* Answers while the body is still arriving, where MHD cannot queue a
 * response: writes the whole answer on the socket itself, hands the socket
 * to the lingering closer (which keeps it open, and so keeps the kernel
 * from resetting it, after MHD closes its descriptor) and returns MHD_NO so
 * that MHD drops the connection. If the answer does not fit in one write,
 * the client gets a plain close, as before. */
static enum MHD_Result answer_mid_body(struct http_server *srv, struct MHD_Connection *conn,
				       struct req_ctx *ctx)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	int fd = ci ? dup(ci->connect_fd) : -1;
	if (fd < 0)
		return MHD_NO;
	ctx->linger = true;
	struct buf out = BUF_INIT;
	const char *reason = MHD_get_reason_phrase_for(ctx->res.status);
	buf_printf(&out, "HTTP/1.1 %u %s\r\n", ctx->res.status, reason ? reason : "");
	common_headers(srv, ctx, emit_text, &out);
	if (ctx->res.body_ref) {
		buf_printf(&out, "Content-Length: %zu\r\n\r\n", ctx->res.body_ref_len);
		buf_append(&out, ctx->res.body_ref, ctx->res.body_ref_len);
	} else {
		buf_printf(&out, "Content-Length: %zu\r\n\r\n", ctx->res.body.len);
		buf_append(&out, ctx->res.body.data ? ctx->res.body.data : "", ctx->res.body.len);
	}
	ssize_t n = send(fd, out.data, out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == (ssize_t)out.len)
		linger_take(srv->linger, fd);
	else
		close(fd);
	buf_free(&out);
	ctx->linger = false; /* taken care of: not again when MHD closes */
	ctx->phase = PHASE_RESPONDED;
	return MHD_NO;
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

/* Whether the fallback route answers path: no prefix of fallback_except
 * covers it. */
static bool fallback_covers(const struct http_server *srv, const char *path)
{
	if (!srv->opt.fallback)
		return false;
	for (const char *const *p = srv->opt.fallback_except; p && *p; p++) {
		size_t n = strlen(*p);
		if (strncmp(path, *p, n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return false;
	}
	return true;
}

/* Decides everything that can be decided from the request line and headers
 * without waiting. Returns ERR_OK when the request goes on. */
static enum err classify(struct http_server *srv, struct req_ctx *ctx, const char *method,
			 const char *url)
{
	struct http_request *req = &ctx->req;
	req->method = http_method_parse(method);
	req->route = http_route_match(srv->opt.tables, req->method ? req->method : HTTP_GET, url,
				      req->params, &req->nparams, &ctx->allowed);
	const char *cl = http_header(req, "Content-Length");
	const char *te = http_header(req, "Transfer-Encoding");
	ctx->body_declared = te || (cl && strcmp(cl, "0") != 0);
	if (!req->route && !ctx->allowed && fallback_covers(srv, url)) {
		ctx->allowed = HTTP_GET | HTTP_HEAD;
		if (req->method == HTTP_GET || req->method == HTTP_HEAD)
			req->route = srv->opt.fallback;
	}
	if (!req->route && !ctx->allowed)
		return ERR_ROUTE_NOT_FOUND;
	if (req->method == HTTP_OPTIONS)
		return ERR_OK;
	if (!req->method || !req->route)
		return ERR_METHOD_NOT_ALLOWED;
	if (cl) {
		char *end;
		unsigned long long n = strtoull(cl, &end, 10);
		if (end == cl || *end)
			return ERR_BAD_REQUEST;
		if (n > req->route->body_limit)
			return ERR_PAYLOAD_TOO_LARGE;
	}
	if (te && !req->route->body_limit)
		return ERR_PAYLOAD_TOO_LARGE;
	/* Anonymous callers of protected routes are turned away here; a bearer
	 * token needs its session looked up, which is a worker's job. */
	if (req->route->access > ACCESS_PUBLIC && !http_header(req, "Authorization"))
		return ERR_UNAUTHORIZED;
	return ERR_OK;
}

/* Whether the route reads Authorization at all. */
static bool route_authenticates(const struct route *r)
{
	return r->access != ACCESS_OWN_AUTH && r->lane != LANE_INLINE;
}

/* Who is calling: fills req->auth from the bearer token, if any, then checks
 * the route's access level. Returns ERR_OK when the handler may run. */
static enum err authenticate(struct http_server *srv, struct req_ctx *ctx)
{
	static const char prefix[] = "Bearer ";
	struct http_request *req = &ctx->req;
	enum err e = ERR_OK;
	ctx->authenticated = true;
	if (!route_authenticates(req->route))
		return ERR_OK;
	const char *h = http_header(req, "Authorization");
	if (h) {
		if (strncasecmp(h, prefix, sizeof(prefix) - 1) != 0 || !h[sizeof(prefix) - 1] ||
		    !srv->opt.authenticate)
			e = ERR_UNAUTHORIZED;
		else
			e = srv->opt.authenticate(srv->opt.app, h + sizeof(prefix) - 1, &req->auth);
	}
	if (e == ERR_OK && req->route->access > ACCESS_PUBLIC && !req->auth.user_id)
		e = ERR_UNAUTHORIZED;
	if (e != ERR_OK) {
		memset(&req->auth, 0, sizeof(req->auth));
		return e;
	}
	return req->auth.group < req->route->access ? ERR_FORBIDDEN : ERR_OK;
}

static void answer_error(struct req_ctx *ctx, enum err e)
{
	http_error(&ctx->res, e, NULL);
	switch (err_http_status(e)) {
	case 401:
		http_set_header(&ctx->res, "WWW-Authenticate", "Bearer");
		break;
	case 405: {
		char allow[128];
		allow_header(ctx->allowed, allow, sizeof(allow));
		http_set_header(&ctx->res, "Allow", allow);
		break;
	}
	case 503:
		http_set_header(&ctx->res, "Retry-After", "1");
		break;
	default:
		break;
	}
}

/* Runs the route's handler on a complete request, after the access check. */
static void dispatch(struct http_server *srv, struct req_ctx *ctx)
{
	struct http_request *req = &ctx->req;
	enum err e = ctx->authenticated ? ERR_OK : authenticate(srv, ctx);
	if (e != ERR_OK) {
		answer_error(ctx, e);
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

/* On a worker: authenticates before the body is read, or runs the handler;
 * or, when the pool turned the job down, answers 503. Then gives the
 * connection back to MHD, after which ctx belongs to the socket thread. */
static void on_work(struct work *w, enum work_outcome outcome)
{
	struct req_ctx *ctx =
		(struct req_ctx *)(void *)((char *)w - offsetof(struct req_ctx, work));
	struct http_server *srv = ctx->req.server;
	struct MHD_Connection *conn = ctx->req.conn;
	bool auth = ctx->phase == PHASE_AUTH;
	if (outcome != WORK_RUN) {
		ctx->early = outcome == WORK_REJECTED_STOPPING ? ERR_SHUTTING_DOWN : ERR_OVERLOADED;
		answer_error(ctx, ctx->early);
		ctx->phase = PHASE_ANSWERED;
	} else if (auth) {
		ctx->early = authenticate(srv, ctx);
		ctx->phase = PHASE_AUTH_DONE;
	} else {
		ctx->req.may_block = true;
		dispatch(srv, ctx);
		ctx->phase = PHASE_ANSWERED;
	}
	MHD_resume_connection(conn);
}

/* Suspends the connection and queues ctx on the worker pool; when the pool
 * is full, answers 503 at once. */
static enum MHD_Result to_worker(struct http_server *srv, struct MHD_Connection *conn,
				 struct req_ctx *ctx, enum phase phase)
{
	unsigned lane = phase == PHASE_AUTH ? LANE_DB : ctx->req.route->lane;
	ctx->phase = phase;
	ctx->work.fn = on_work;
	/* Suspended first: the worker may resume before submit returns. */
	MHD_suspend_connection(conn);
	if (work_pool_submit(srv->workers, &ctx->work, lane))
		return MHD_YES;
	MHD_resume_connection(conn);
	ctx->early = atomic_load(&srv->stopping) ? ERR_SHUTTING_DOWN : ERR_OVERLOADED;
	answer_error(ctx, ctx->early);
	ctx->phase = PHASE_ANSWERED;
	return MHD_YES;
}

/* Answers an error decided before the body was read. */
static enum MHD_Result answer_early(struct http_server *srv, struct MHD_Connection *conn,
				    struct req_ctx *ctx)
{
	/* MHD closes the connection when a body is left unread; linger so
	 * that the client reads this answer rather than a reset. */
	ctx->linger = ctx->body_declared;
	if (ctx->res.status == 0)
		answer_error(ctx, ctx->early);
	return send_response(srv, conn, ctx);
}

/* The last call of a request whose body is in: answer inline, try inline,
 * or hand over to a worker. */
static enum MHD_Result on_complete_request(struct http_server *srv, struct MHD_Connection *conn,
					   struct req_ctx *ctx)
{
	struct http_request *req = &ctx->req;
	if (req->method == HTTP_OPTIONS) {
		preflight(srv, ctx);
		return send_response(srv, conn, ctx);
	}
	enum http_lane lane = req->route->lane;
	if (lane == LANE_INLINE) {
		dispatch(srv, ctx);
		return send_response(srv, conn, ctx);
	}
	if (lane == LANE_TRY_INLINE && !http_header(req, "Authorization")) {
		dispatch(srv, ctx);
		if (ctx->res.status != HTTP_DEFER)
			return send_response(srv, conn, ctx);
		ctx->authenticated = false;
	}
	return to_worker(srv, conn, ctx, PHASE_RUN);
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
		if (ctx->early != ERR_OK)
			return answer_early(srv, conn, ctx);
		/* Decide on the headers who may send a body: a bearer token is
		 * checked by a worker before the first body byte is read. */
		if (ctx->body_declared && ctx->req.route && route_authenticates(ctx->req.route) &&
		    http_header(&ctx->req, "Authorization"))
			return to_worker(srv, conn, ctx, PHASE_AUTH);
		ctx->phase = PHASE_BODY;
		return MHD_YES;
	}

	switch (ctx->phase) {
	case PHASE_AUTH_DONE: /* called again at the headers, after the worker */
		if (ctx->early != ERR_OK)
			return answer_early(srv, conn, ctx);
		ctx->phase = PHASE_BODY;
		return MHD_YES;
	case PHASE_ANSWERED: /* after a worker, at the headers or at the end */
		if (ctx->body_declared && ctx->early != ERR_OK && !ctx->received)
			ctx->linger = true;
		return send_response(srv, conn, ctx);
	case PHASE_RESPONDED:
		*upload_data_size = 0; /* drain whatever follows an early answer */
		return MHD_YES;
	case PHASE_AUTH:
	case PHASE_RUN: /* not called while suspended */
	case PHASE_NEW:
	case PHASE_BODY:
		break;
	}

	if (*upload_data_size) {
		size_t n = *upload_data_size;
		size_t limit = ctx->req.route ? ctx->req.route->body_limit : 0;
		ctx->received += n;
		*upload_data_size = 0;
		if (ctx->received > limit) {
			/* Only chunked bodies get here (a Content-Length above the
			 * limit is refused on the headers): answer now. */
			buf_free(&ctx->body);
			answer_error(ctx, ERR_PAYLOAD_TOO_LARGE);
			return answer_mid_body(srv, conn, ctx);
		}
		buf_append(&ctx->body, upload_data, n);
		return MHD_YES;
	}
	return on_complete_request(srv, conn, ctx);
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
	static const char *const lane_names[HTTP_LANES] = {[LANE_DB] = "db",
							   [LANE_INLINE] = "inline",
							   [LANE_TRY_INLINE] = "try_inline",
							   [LANE_PASSWORD] = "password",
							   [LANE_STRIPE] = "stripe",
							   [LANE_S3] = "s3"};
	struct work_pool_stats st;
	work_pool_stats(srv->workers, &st);
	buf_printf(out,
		   "# HELP cinema_http_workers Worker threads that run handlers which may wait.\n"
		   "# TYPE cinema_http_workers gauge\ncinema_http_workers %u\n"
		   "# HELP cinema_http_workers_busy Workers running a request, by lane.\n"
		   "# TYPE cinema_http_workers_busy gauge\n",
		   st.threads);
	for (unsigned i = 0; i < HTTP_LANES; i++)
		if (i != LANE_INLINE)
			buf_printf(out, "cinema_http_workers_busy{lane=\"%s\"} %u\n", lane_names[i],
				   st.lane[i].busy);
	buf_append_str(out,
		       "# HELP cinema_http_queue_depth Requests waiting for a worker, by lane.\n"
		       "# TYPE cinema_http_queue_depth gauge\n");
	for (unsigned i = 0; i < HTTP_LANES; i++)
		if (i != LANE_INLINE)
			buf_printf(out, "cinema_http_queue_depth{lane=\"%s\"} %u\n", lane_names[i],
				   st.lane[i].queued);
	buf_append_str(out, "# HELP cinema_http_rejected_total Requests answered 503 because the "
			    "queue was full or they waited too long, by lane.\n"
			    "# TYPE cinema_http_rejected_total counter\n");
	for (unsigned i = 0; i < HTTP_LANES; i++)
		if (i != LANE_INLINE)
			buf_printf(
				out,
				"cinema_http_rejected_total{lane=\"%s\",reason=\"queue_full\"} "
				"%llu\n"
				"cinema_http_rejected_total{lane=\"%s\",reason=\"queue_timeout\"} "
				"%llu\n",
				lane_names[i], st.lane[i].rejected_full, lane_names[i],
				st.lane[i].rejected_timeout);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct req_ctx *ctx = *req_cls;
	if (!ctx)
		return;
	*req_cls = NULL;
	/* MHD shuts the socket down and closes it right after this call; a
	 * duplicate descriptor keeps it open while its input drains. */
	if (ctx->linger && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci)
			linger_take(srv->linger, dup(ci->connect_fd));
	}
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
	if (opt->fallback)
		srv->nstats++;
	srv->nstats++; /* no route */
	srv->stats = xcalloc(srv->nstats, sizeof(*srv->stats));
	size_t k = 0;
	for (const struct route *const *t = opt->tables; *t; t++)
		for (const struct route *r = *t; r->pattern; r++)
			srv->stats[k++].route = r;
	if (opt->fallback)
		srv->stats[k++].route = opt->fallback;

	struct work_pool_options wo = {.threads = opt->workers,
				       .queue_max = opt->queue_max,
				       .queue_timeout_ms = opt->queue_timeout_ms};
	for (unsigned i = 0; i < HTTP_LANES && i < WORK_LANES; i++)
		wo.lane_cap[i] = opt->lane_cap[i];
	srv->workers = work_pool_new(&wo);
	srv->linger = linger_new();
	if (!srv->workers || !srv->linger) {
		snprintf(err, errlen, "cannot start the worker threads");
		goto fail;
	}

	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
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
		goto fail;
	}
	return srv;
fail:
	work_pool_free(srv->workers);
	linger_free(srv->linger);
	free(srv->stats);
	free(srv->cors_origins);
	free(srv);
	return NULL;
}

/* Waits up to ms for every request in flight to be answered. */
static void wait_idle(struct http_server *srv, double ms)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (atomic_load(&srv->in_flight) > 0 && elapsed_ms(&start) < ms) {
		struct timespec nap = {0, 10 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
}

void http_server_stop(struct http_server *srv, int grace_s)
{
	if (!srv)
		return;
	atomic_store(&srv->stopping, true);
	MHD_socket lsock = MHD_quiesce_daemon(srv->daemon);
	if (lsock != MHD_INVALID_SOCKET)
		close(lsock);
	wait_idle(srv, grace_s * 1000.0);
	int left = atomic_load(&srv->in_flight);
	if (left > 0)
		LOG_WARN("shutdown grace period over", LOG_INT("requests_in_flight", left));
	/* No connection may stay suspended when MHD stops: queued requests are
	 * answered 503 and running ones finish (each is bounded by its own
	 * timeouts); all of them resume their connections, and get a moment to
	 * send their answers. */
	work_pool_stop(srv->workers);
	wait_idle(srv, 500);
	MHD_stop_daemon(srv->daemon);
	/* Only now: until MHD stopped, keep-alive connections could still
	 * submit (and be refused). */
	work_pool_free(srv->workers);
	linger_free(srv->linger);
	free(srv->stats);
	free(srv->cors_origins);
	free(srv);
}
