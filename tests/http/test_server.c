/* The HTTP layer over real sockets: an in-process server with a small route
 * table of its own, driven with libcurl. Covers the error shapes, body
 * limits, request ids, CORS and graceful shutdown. */
#include <check.h>
#include <curl/curl.h>
#include <sodium.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cinema/app.h"
#include "cinema/config.h"
#include "e2e.h"
#include "http/server.h"

static unsigned h_echo(struct http_request *req, struct http_response *res)
{
	json_t *body;
	if (!http_json_body(req, res, &body))
		return res->status;
	return http_json(res, 200, json_pack("{s:o}", "echo", body));
}

static unsigned h_item(struct http_request *req, struct http_response *res)
{
	long long id;
	if (!http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	return http_json(res, 200,
			 json_pack("{s:I,s:s?}", "id", (json_int_t)id, "q", http_query(req, "q")));
}

static unsigned h_slow(struct http_request *req, struct http_response *res)
{
	(void)req;
	struct timespec t = {0, 600 * 1000 * 1000};
	nanosleep(&t, NULL);
	return http_json(res, 200, json_pack("{s:b}", "done", 1));
}

static unsigned h_private(struct http_request *req, struct http_response *res)
{
	(void)req;
	return http_empty(res, 204);
}

static unsigned h_whoami(struct http_request *req, struct http_response *res)
{
	char ip[64];
	http_client_ip(req, ip, sizeof(ip));
	return http_json(res, 200, json_pack("{s:s}", "ip", ip));
}

/* A gate that handlers wait at until the test opens it: proves that other
 * requests are answered while handlers wait, without timing anything. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_waiting;
static bool gate_open;

static unsigned h_gate(struct http_request *req, struct http_response *res)
{
	(void)req;
	pthread_mutex_lock(&gate_lock);
	gate_waiting++;
	pthread_cond_broadcast(&gate_cond);
	while (!gate_open)
		pthread_cond_wait(&gate_cond, &gate_lock);
	gate_waiting--;
	pthread_mutex_unlock(&gate_lock);
	return http_json(res, 200, json_pack("{s:b}", "passed", 1));
}

/* Waits (up to 10 s: "does not hang") until n handlers wait at the gate. */
static bool gate_wait_for(int n)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 10;
	pthread_mutex_lock(&gate_lock);
	while (gate_waiting < n)
		if (pthread_cond_timedwait(&gate_cond, &gate_lock, &dl) != 0)
			break;
	bool ok = gate_waiting >= n;
	pthread_mutex_unlock(&gate_lock);
	return ok;
}

static void gate_release(void)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = true;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

/* Counts what reached the authenticator and the upload handler. */
static atomic_int auth_calls, upload_calls;

static enum err test_authenticate(const struct app *a, const char *bearer,
				  struct http_identity *who)
{
	(void)a;
	atomic_fetch_add(&auth_calls, 1);
	if (strcmp(bearer, "good") != 0)
		return ERR_UNAUTHORIZED;
	who->user_id = 7;
	who->group = ACCESS_USER;
	return ERR_OK;
}

static unsigned h_upload(struct http_request *req, struct http_response *res)
{
	atomic_fetch_add(&upload_calls, 1);
	return http_json(res, 200, json_pack("{s:I}", "bytes", (json_int_t)req->body_len));
}

static unsigned h_metrics(struct http_request *req, struct http_response *res)
{
	http_empty(res, 200);
	http_metrics_write(req, &res->body);
	res->content_type = "text/plain";
	return 200;
}

#define UPLOAD_LIMIT (1024 * 1024)

static const struct route test_routes[] = {
	{HTTP_GET, "/whoami", h_whoami, ACCESS_PUBLIC, 0, LANE_INLINE},
	{HTTP_GET, "/metrics", h_metrics, ACCESS_PUBLIC, 0, LANE_INLINE},
	{HTTP_POST, "/echo", h_echo, ACCESS_PUBLIC, 1024, LANE_DB},
	{HTTP_GET, "/items/{id}", h_item, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_DELETE, "/items/{id}", h_private, ACCESS_USER, 0, LANE_DB},
	{HTTP_GET, "/slow", h_slow, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_GET, "/gate", h_gate, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_GET, "/gate/stripe", h_gate, ACCESS_PUBLIC, 0, LANE_STRIPE},
	{HTTP_PUT, "/upload", h_upload, ACCESS_USER, UPLOAD_LIMIT, LANE_S3},
	ROUTES_END,
};
static const struct route *const tables[] = {test_routes, NULL};

static struct http_server *srv;
static char base[64];
static const struct config cfg = {.trusted_proxies = "10.0.0.1, 127.0.0.1"};
static const struct app app = {.cfg = &cfg};

/* One socket thread, so that a handler waiting on it would stall every
 * other connection; workers, queue and lanes as given. */
static void start(int workers, int queue_max, int queue_timeout_ms)
{
	char err[256];
	int port = e2e_free_port();
	struct http_server_options o = {
		.host = "127.0.0.1",
		.port = port,
		.threads = 1,
		.workers = workers,
		.queue_max = queue_max,
		.queue_timeout_ms = queue_timeout_ms,
		.lane_cap = {[LANE_STRIPE] = 1, [LANE_S3] = 1},
		.connection_limit = 64,
		.per_ip_limit = 64,
		.timeout_s = 5,
		.cors_origins = "https://app.example.com, http://localhost:3000",
		.tables = tables,
		.authenticate = test_authenticate,
		.app = &app,
	};
	srv = http_server_start(&o, err, sizeof(err));
	ck_assert_msg(srv != NULL, "server start: %s", err);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
}

static void setup(void)
{
	start(4, 64, 10000);
}

static void restart(int workers, int queue_max, int queue_timeout_ms)
{
	http_server_stop(srv, 1);
	start(workers, queue_max, queue_timeout_ms);
}

static void teardown(void)
{
	http_server_stop(srv, 1);
	srv = NULL;
}

/* Per thread: the bg_* requests build their URLs while the test's own thread
 * builds its (one shared buffer garbled them now and then: "couldn't
 * connect", "bad URL"). */
static const char *url(const char *path)
{
	static _Thread_local char u[256];
	snprintf(u, sizeof(u), "%s%s", base, path);
	return u;
}

static const char *const json_ct[] = {"Content-Type: application/json", NULL};

static void assert_error(const struct e2e_resp *r, long status, const char *code)
{
	char ct[128];
	ck_assert_int_eq(r->status, status);
	ck_assert_msg(r->json != NULL, "body is not JSON: %s", r->body.data);
	ck_assert_str_eq(e2e_code(r), code);
	ck_assert(json_is_string(json_object_get(r->json, "detail")));
	ck_assert(e2e_header(r, "Content-Type", ct, sizeof(ct)));
	ck_assert_str_eq(ct, "application/json; charset=utf-8");
}

START_TEST(echo_roundtrip)
{
	struct e2e_resp r;
	const char *body = "{\"a\":[1,2,{\"b\":\"\\u00e9\"}]}";
	ck_assert(e2e_request("POST", url("/echo"), json_ct, body, strlen(body), &r));
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body.data, "{\"echo\":{\"a\":[1,2,{\"b\":\"\xc3\xa9\"}]}}");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(unknown_path_is_json_404)
{
	struct e2e_resp r;
	ck_assert(e2e_request("GET", url("/nope"), NULL, NULL, 0, &r));
	assert_error(&r, 404, "route_not_found");
	e2e_resp_free(&r);
	ck_assert(e2e_request("GET", url("/items/1/extra"), NULL, NULL, 0, &r));
	assert_error(&r, 404, "route_not_found");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(wrong_method_is_405_with_allow)
{
	struct e2e_resp r;
	char allow[128];
	ck_assert(e2e_request("PUT", url("/items/7"), NULL, NULL, 0, &r));
	assert_error(&r, 405, "method_not_allowed");
	ck_assert(e2e_header(&r, "Allow", allow, sizeof(allow)));
	ck_assert_str_eq(allow, "GET, HEAD, DELETE, OPTIONS");
	e2e_resp_free(&r);
	ck_assert(e2e_request("BREW", url("/items/7"), NULL, NULL, 0, &r));
	assert_error(&r, 405, "method_not_allowed");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(path_params_and_query)
{
	struct e2e_resp r;
	ck_assert(e2e_request("GET", url("/items/42?q=a%20b"), NULL, NULL, 0, &r));
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body.data, "{\"id\":42,\"q\":\"a b\"}");
	e2e_resp_free(&r);
	ck_assert(e2e_request("GET", url("/items/abc"), NULL, NULL, 0, &r));
	assert_error(&r, 404, "not_found");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(malformed_json_is_400)
{
	struct e2e_resp r;
	ck_assert(e2e_request("POST", url("/echo"), json_ct, "{\"a\":", 5, &r));
	assert_error(&r, 400, "invalid_json");
	e2e_resp_free(&r);
	ck_assert(e2e_request("POST", url("/echo"), json_ct, "[1]", 3, &r));
	assert_error(&r, 400, "invalid_json");
	e2e_resp_free(&r);
	ck_assert(e2e_request("POST", url("/echo"), json_ct, "{\"a\":1,\"a\":2}", 13, &r));
	assert_error(&r, 400, "invalid_json");
	e2e_resp_free(&r);
	ck_assert(e2e_request("POST", url("/echo"), json_ct, NULL, 0, &r));
	assert_error(&r, 400, "invalid_json");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(wrong_content_type_is_415)
{
	struct e2e_resp r;
	const char *const hdr[] = {"Content-Type: text/plain", NULL};
	ck_assert(e2e_request("POST", url("/echo"), hdr, "{}", 2, &r));
	assert_error(&r, 415, "unsupported_media_type");
	e2e_resp_free(&r);
	const char *const jsonx[] = {"Content-Type: application/jsonx", NULL};
	ck_assert(e2e_request("POST", url("/echo"), jsonx, "{}", 2, &r));
	assert_error(&r, 415, "unsupported_media_type");
	e2e_resp_free(&r);
	const char *const charset[] = {"Content-Type: application/json; charset=utf-8", NULL};
	ck_assert(e2e_request("POST", url("/echo"), charset, "{}", 2, &r));
	ck_assert_int_eq(r.status, 200);
	e2e_resp_free(&r);
}
END_TEST

static char *big_body(size_t n)
{
	char *b = malloc(n + 1);
	memset(b, ' ', n);
	b[0] = '{';
	b[n - 1] = '}';
	b[n] = '\0';
	return b;
}

START_TEST(oversized_body_with_content_length_is_413)
{
	struct e2e_resp r;
	char *b = big_body(5000);
	ck_assert(e2e_request("POST", url("/echo"), json_ct, b, 5000, &r));
	assert_error(&r, 413, "payload_too_large");
	e2e_resp_free(&r);
	/* exactly at the limit is fine */
	ck_assert(e2e_request("POST", url("/echo"), json_ct, b + 5000 - 1024, 1024, &r));
	ck_assert_int_eq(r.status, 400); /* starts with spaces then '}' : invalid */
	e2e_resp_free(&r);
	free(b);
}
END_TEST

START_TEST(oversized_chunked_body_is_413)
{
	struct e2e_resp r;
	char *b = big_body(20000);
	ck_assert(e2e_request_chunked("POST", url("/echo"), json_ct, b, 20000, &r));
	assert_error(&r, 413, "payload_too_large");
	e2e_resp_free(&r);
	char *small = big_body(900);
	ck_assert(e2e_request_chunked("POST", url("/echo"), json_ct, small, 900, &r));
	ck_assert_int_eq(r.status, 200);
	e2e_resp_free(&r);
	free(small);
	free(b);
}
END_TEST

START_TEST(body_on_bodiless_route_is_413)
{
	struct e2e_resp r;
	ck_assert(e2e_request("GET", url("/items/1"), json_ct, "{}", 2, &r));
	assert_error(&r, 413, "payload_too_large");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(request_id_echoed_or_generated)
{
	struct e2e_resp r;
	char id[128];
	const char *const good[] = {"X-Request-Id: trace-abc.123_X", NULL};
	ck_assert(e2e_request("GET", url("/items/1"), good, NULL, 0, &r));
	ck_assert(e2e_header(&r, "X-Request-Id", id, sizeof(id)));
	ck_assert_str_eq(id, "trace-abc.123_X");
	e2e_resp_free(&r);

	const char *const bad[] = {"X-Request-Id: has spaces\"<script>", NULL};
	ck_assert(e2e_request("GET", url("/items/1"), bad, NULL, 0, &r));
	ck_assert(e2e_header(&r, "X-Request-Id", id, sizeof(id)));
	ck_assert_int_eq(strlen(id), 32);
	e2e_resp_free(&r);

	ck_assert(e2e_request("GET", url("/nope"), NULL, NULL, 0, &r));
	ck_assert(e2e_header(&r, "X-Request-Id", id, sizeof(id)));
	ck_assert_int_eq(strlen(id), 32);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(security_headers)
{
	struct e2e_resp r;
	char v[256];
	ck_assert(e2e_request("GET", url("/items/1"), NULL, NULL, 0, &r));
	ck_assert(e2e_header(&r, "X-Content-Type-Options", v, sizeof(v)));
	ck_assert_str_eq(v, "nosniff");
	ck_assert(e2e_header(&r, "X-Frame-Options", v, sizeof(v)));
	ck_assert(e2e_header(&r, "Content-Security-Policy", v, sizeof(v)));
	ck_assert(e2e_header(&r, "Cache-Control", v, sizeof(v)));
	ck_assert_str_eq(v, "no-store");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(cors)
{
	struct e2e_resp r;
	char v[256];
	const char *const ok[] = {"Origin: https://app.example.com", NULL};
	ck_assert(e2e_request("GET", url("/items/1"), ok, NULL, 0, &r));
	ck_assert(e2e_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	ck_assert_str_eq(v, "https://app.example.com");
	ck_assert(e2e_header(&r, "Vary", v, sizeof(v)));
	ck_assert_str_eq(v, "Origin");
	e2e_resp_free(&r);

	const char *const evil[] = {"Origin: https://evil.example.com", NULL};
	ck_assert(e2e_request("GET", url("/items/1"), evil, NULL, 0, &r));
	ck_assert(!e2e_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	e2e_resp_free(&r);

	const char *const null_origin[] = {"Origin: null", NULL};
	ck_assert(e2e_request("GET", url("/items/1"), null_origin, NULL, 0, &r));
	ck_assert(!e2e_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	e2e_resp_free(&r);

	const char *const pre[] = {"Origin: http://localhost:3000",
				   "Access-Control-Request-Method: DELETE", NULL};
	ck_assert(e2e_request("OPTIONS", url("/items/1"), pre, NULL, 0, &r));
	ck_assert_int_eq(r.status, 204);
	ck_assert(e2e_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	ck_assert_str_eq(v, "http://localhost:3000");
	ck_assert(e2e_header(&r, "Access-Control-Allow-Methods", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "DELETE"));
	ck_assert(e2e_header(&r, "Access-Control-Allow-Headers", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "Authorization"));
	e2e_resp_free(&r);

	/* OPTIONS matches no route: a body (with a token) is refused, no crash. */
	const char *const odd[] = {"Authorization: Bearer good", "Content-Type: text/plain", NULL};
	ck_assert(e2e_request("OPTIONS", url("/items/1"), odd, "x", 1, &r));
	assert_error(&r, 413, "payload_too_large");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(protected_route_without_token_is_401)
{
	struct e2e_resp r;
	ck_assert(e2e_request("DELETE", url("/items/1"), NULL, NULL, 0, &r));
	assert_error(&r, 401, "not_authenticated");
	e2e_resp_free(&r);
}
END_TEST

static void expect_ip(const char *xff, const char *want)
{
	struct e2e_resp r;
	char h[256];
	if (xff)
		snprintf(h, sizeof(h), "X-Forwarded-For: %s", xff);
	const char *const headers[] = {h, NULL};
	ck_assert(e2e_request("GET", url("/whoami"), xff ? headers : NULL, NULL, 0, &r));
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(r.json, "ip")), want);
	e2e_resp_free(&r);
}

START_TEST(client_ip_behind_trusted_proxies)
{
	/* The peer (127.0.0.1) is trusted: the rightmost untrusted entry. */
	expect_ip("203.0.113.9", "203.0.113.9");
	expect_ip("198.51.100.1, 203.0.113.9, 10.0.0.1", "203.0.113.9");
	expect_ip("2001:db8::7", "2001:db8::7");
	/* Garbage or nothing: the peer itself. */
	expect_ip("not-an-ip", "127.0.0.1");
	expect_ip(NULL, "127.0.0.1");
}
END_TEST

static void *slow_request(void *arg)
{
	struct e2e_resp *r = arg;
	e2e_request("GET", url("/slow"), NULL, NULL, 0, r);
	return NULL;
}

START_TEST(shutdown_lets_requests_in_flight_finish)
{
	pthread_t t;
	struct e2e_resp r = {0};
	pthread_create(&t, NULL, slow_request, &r);
	struct timespec nap = {0, 200 * 1000 * 1000};
	nanosleep(&nap, NULL); /* the request is now inside the handler */
	http_server_stop(srv, 5);
	srv = NULL;
	pthread_join(t, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body.data, "{\"done\":true}");
	e2e_resp_free(&r);

	struct e2e_resp after;
	ck_assert(!e2e_request("GET", url("/items/1"), NULL, NULL, 0, &after));
	e2e_resp_free(&after);
}
END_TEST

struct bg {
	pthread_t t;
	const char *method, *path;
	const char *const *headers;
	const char *body;
	size_t len;
	bool ok;
	struct e2e_resp r;
};

static void *bg_main(void *arg)
{
	struct bg *b = arg;
	b->ok = e2e_request(b->method, url(b->path), b->headers, b->body, b->len, &b->r);
	return NULL;
}

static void bg_start(struct bg *b, const char *method, const char *path)
{
	memset(b, 0, sizeof(*b));
	b->method = method;
	b->path = path;
	pthread_create(&b->t, NULL, bg_main, b);
}

static void bg_join(struct bg *b)
{
	pthread_join(b->t, NULL);
}

START_TEST(waiting_handlers_do_not_stall_other_connections)
{
	/* One socket thread, three handlers waiting on workers: the socket
	 * thread still answers everything else. */
	struct bg b[3];
	for (int i = 0; i < 3; i++)
		bg_start(&b[i], "GET", "/gate");
	ck_assert(gate_wait_for(3));
	struct e2e_resp r;
	ck_assert(e2e_request("GET", url("/items/5"), NULL, NULL, 0, &r));
	ck_assert_int_eq(r.status, 200);
	e2e_resp_free(&r);
	ck_assert(e2e_request("GET", url("/whoami"), NULL, NULL, 0, &r));
	ck_assert_int_eq(r.status, 200);
	e2e_resp_free(&r);
	ck_assert_int_eq(gate_waiting, 3); /* nobody was let through meanwhile */
	gate_release();
	for (int i = 0; i < 3; i++) {
		bg_join(&b[i]);
		ck_assert(b[i].ok);
		ck_assert_int_eq(b[i].r.status, 200);
		e2e_resp_free(&b[i].r);
	}
}
END_TEST

START_TEST(a_lane_holds_at_most_its_cap)
{
	/* The Stripe lane may hold one worker: a second call waits in the queue
	 * and gets 503 with Retry-After when its wait is over, while other
	 * lanes keep being served by the free workers. */
	restart(4, 64, 300);
	struct bg first, second;
	bg_start(&first, "GET", "/gate/stripe");
	ck_assert(gate_wait_for(1));
	bg_start(&second, "GET", "/gate/stripe");
	struct e2e_resp r;
	ck_assert(e2e_request("GET", url("/items/1"), NULL, NULL, 0, &r));
	ck_assert_int_eq(r.status, 200);
	e2e_resp_free(&r);
	bg_join(&second);
	ck_assert(second.ok);
	assert_error(&second.r, 503, "overloaded");
	char v[32];
	ck_assert(e2e_header(&second.r, "Retry-After", v, sizeof(v)));
	ck_assert_str_eq(v, "1");
	e2e_resp_free(&second.r);
	ck_assert_int_eq(gate_waiting, 1);
	gate_release();
	bg_join(&first);
	ck_assert_int_eq(first.r.status, 200);
	e2e_resp_free(&first.r);
}
END_TEST

START_TEST(a_full_queue_answers_503_at_once)
{
	/* Two workers busy, one request queued (the queue's whole size): the
	 * next one is refused at once, long before the queue timeout. */
	restart(2, 1, 60000);
	struct bg b[3];
	bg_start(&b[0], "GET", "/gate");
	ck_assert(gate_wait_for(1));
	bg_start(&b[1], "GET", "/gate");
	ck_assert(gate_wait_for(2));
	bg_start(&b[2], "GET", "/gate"); /* queued */
	struct e2e_resp r;
	bool queued = false;
	for (int i = 0; i < 500 && !queued; i++) { /* "does not hang": 10 s */
		ck_assert(e2e_request("GET", url("/metrics"), NULL, NULL, 0, &r));
		queued = strstr(r.body.data, "cinema_http_queue_depth{lane=\"db\"} 1\n") != NULL;
		e2e_resp_free(&r);
		struct timespec nap = {0, 20 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	ck_assert(queued);
	ck_assert(e2e_request("GET", url("/items/1"), NULL, NULL, 0, &r));
	assert_error(&r, 503, "overloaded");
	e2e_resp_free(&r);
	ck_assert(e2e_request("GET", url("/metrics"), NULL, NULL, 0, &r));
	ck_assert_ptr_nonnull(strstr(
		r.body.data, "cinema_http_rejected_total{lane=\"db\",reason=\"queue_full\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "cinema_http_workers_busy{lane=\"db\"} 2\n"));
	e2e_resp_free(&r);
	/* The socket thread itself is never refused. */
	ck_assert(e2e_request("GET", url("/whoami"), NULL, NULL, 0, &r));
	ck_assert_int_eq(r.status, 200);
	e2e_resp_free(&r);
	gate_release();
	for (int i = 0; i < 3; i++) {
		bg_join(&b[i]);
		ck_assert_int_eq(b[i].r.status, 200);
		e2e_resp_free(&b[i].r);
	}
}
END_TEST

static void *open_gate_later(void *arg)
{
	(void)arg;
	struct timespec nap = {0, 300 * 1000 * 1000};
	nanosleep(&nap, NULL);
	gate_release();
	return NULL;
}

START_TEST(shutdown_answers_queued_requests_503)
{
	restart(2, 8, 60000);
	struct bg b[3];
	bg_start(&b[0], "GET", "/gate");
	bg_start(&b[1], "GET", "/gate");
	ck_assert(gate_wait_for(2));
	bg_start(&b[2], "GET", "/gate");
	struct timespec nap = {0, 200 * 1000 * 1000};
	nanosleep(&nap, NULL); /* the third is queued behind the two */
	pthread_t opener;
	pthread_create(&opener, NULL, open_gate_later, NULL);
	http_server_stop(srv, 0);
	srv = NULL;
	pthread_join(opener, NULL);
	bg_join(&b[2]);
	ck_assert(b[2].ok);
	assert_error(&b[2].r, 503, "shutting_down");
	e2e_resp_free(&b[2].r);
	for (int i = 0; i < 2; i++) {
		bg_join(&b[i]);
		e2e_resp_free(&b[i].r);
	}
}
END_TEST

static char *filled(size_t n)
{
	char *b = malloc(n);
	memset(b, 'x', n);
	return b;
}

START_TEST(uploads_are_judged_on_the_headers)
{
	/* Bodies that the client really sends: the answer arrives (no reset),
	 * decided before the body was read, and the handler never runs. The
	 * size is judged first (no lookup needed), then who is calling. */
	size_t n = 20u * 1024 * 1024;
	char *body = filled(n);
	struct e2e_resp r;
	ck_assert(e2e_request("PUT", url("/upload"), NULL, body, n, &r));
	assert_error(&r, 413, "payload_too_large");
	e2e_resp_free(&r);
	ck_assert(e2e_request("PUT", url("/upload"), NULL, body, UPLOAD_LIMIT, &r));
	assert_error(&r, 401, "not_authenticated");
	e2e_resp_free(&r);
	ck_assert_int_eq(atomic_load(&auth_calls), 0); /* no token: no lookup */

	const char *const bad[] = {"Authorization: Bearer forged", NULL};
	ck_assert(e2e_request("PUT", url("/upload"), bad, body, UPLOAD_LIMIT, &r));
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);
	ck_assert_int_eq(atomic_load(&auth_calls), 1);

	const char *const good[] = {"Authorization: Bearer good", NULL};
	ck_assert(e2e_request("PUT", url("/upload"), good, body, n, &r));
	assert_error(&r, 413, "payload_too_large");
	e2e_resp_free(&r);
	ck_assert_int_eq(atomic_load(&upload_calls), 0);

	ck_assert(e2e_request("PUT", url("/upload"), good, body, UPLOAD_LIMIT, &r));
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(r.json, "bytes")), UPLOAD_LIMIT);
	e2e_resp_free(&r);
	ck_assert_int_eq(atomic_load(&upload_calls), 1);

	/* Chunked, so the size shows only as it comes: the 413 still arrives. */
	ck_assert(e2e_request_chunked("PUT", url("/upload"), good, body, 4u * 1024 * 1024, &r));
	assert_error(&r, 413, "payload_too_large");
	e2e_resp_free(&r);
	ck_assert(e2e_request_chunked("POST", url("/echo"), json_ct, body, 4u * 1024 * 1024, &r));
	assert_error(&r, 413, "payload_too_large");
	e2e_resp_free(&r);
	ck_assert_int_eq(atomic_load(&upload_calls), 1);
	free(body);
}
END_TEST

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	Suite *s = suite_create("http_server");
	TCase *tc = tcase_create("server");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, echo_roundtrip);
	tcase_add_test(tc, unknown_path_is_json_404);
	tcase_add_test(tc, wrong_method_is_405_with_allow);
	tcase_add_test(tc, path_params_and_query);
	tcase_add_test(tc, malformed_json_is_400);
	tcase_add_test(tc, wrong_content_type_is_415);
	tcase_add_test(tc, oversized_body_with_content_length_is_413);
	tcase_add_test(tc, oversized_chunked_body_is_413);
	tcase_add_test(tc, body_on_bodiless_route_is_413);
	tcase_add_test(tc, request_id_echoed_or_generated);
	tcase_add_test(tc, security_headers);
	tcase_add_test(tc, cors);
	tcase_add_test(tc, protected_route_without_token_is_401);
	tcase_add_test(tc, client_ip_behind_trusted_proxies);
	tcase_add_test(tc, shutdown_lets_requests_in_flight_finish);
	tcase_add_test(tc, waiting_handlers_do_not_stall_other_connections);
	tcase_add_test(tc, a_lane_holds_at_most_its_cap);
	tcase_add_test(tc, a_full_queue_answers_503_at_once);
	tcase_add_test(tc, shutdown_answers_queued_requests_503);
	tcase_add_test(tc, uploads_are_judged_on_the_headers);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
