/* End-to-end test of horizontal scaling: two `cinema-api serve` processes
 * share one PostgreSQL database and one Redis, and nginx balances between
 * them (round-robin), all on loopback. A session begun on one replica is
 * seen by the other; ended through one, it is refused by both and through
 * the balancer; rate limits are counted once for all replicas. This is what
 * "the API is stateless" means (docs/SCALING.md). Two schedulers sending
 * each email once is tested in tests/scheduler/test_scheduler.c.
 *
 * Needs DATABASE_URL and REDIS_URL (scripts/test.sh provides them; the suite
 * fails when they are missing), CINEMA_API_BIN, TEMPLATES_DIR and
 * MIGRATIONS_DIR (set by CTest), and nginx (Debian's nginx-light, in
 * packages.txt): NGINX_BIN, else /usr/sbin/nginx, else nginx on PATH.
 *
 * nginx runs as the current user as a child of the test: a generated
 * configuration in a temporary directory (pid file, logs and temp paths
 * there), `daemon off` and `master_process off`, so it is one process that
 * a signal ends with nothing left behind.
 *
 * Redis: this suite owns database REDIS_DB of the server of REDIS_URL,
 * flushed before and after each test (rate-limit counters are keyed by
 * client IP, and every client here is 127.0.0.1). No other suite may use
 * that database number.
 *
 * Processes, logs, SQL and HTTP helpers: tests/support/harness.h. Cleanup:
 * the checked teardown stops every process a test started (SIGTERM, then
 * SIGKILL), drops the database, flushes the Redis database and removes the
 * nginx directory and the logs. In fork mode a failed assertion ends the
 * test process before teardown; check then kills the test's whole process
 * group, which takes the children with it. */
#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e.h"
#include "harness.h"

#define REDIS_DB 12
#define REPLICAS 2
#define PASSWORD "Popcorn-42!"
#define WRONG	 "Not-The-Password-1"

/* --- the running test; teardown ends and removes all of it --- */

static struct {
	char *ci;	     /* the test's database (migrated) */
	PGconn *pg;	     /* a connection to it */
	char redis_url[256]; /* REDIS_URL with the suite's database number */
	char jwt_secret[80]; /* one secret for every replica */
	char queue_key[64];
	struct e2e_server api[REPLICAS];
	char nginx_dir[64]; /* "" until made */
	pid_t nginx;
	int nginx_port;
	char lb_url[64]; /* http://127.0.0.1:<nginx_port> */
} w;

/* --- processes --- */

static const char *nginx_bin(void)
{
	const char *p = getenv("NGINX_BIN");
	if (p && *p)
		return p;
	return access("/usr/sbin/nginx", X_OK) == 0 ? "/usr/sbin/nginx" : "nginx";
}

/* Starts REPLICAS `cinema-api serve` on free ports: the same database, the
 * same Redis, the same JWT secret; AUTH_RATE_LIMIT=rate_limit per minute. */
static void start_replicas(int rate_limit)
{
	struct harness_env e = {0};
	harness_env_set(&e, "DATABASE_URL=%s", w.ci);
	harness_env_set(&e, "REDIS_URL=%s", w.redis_url);
	harness_env_set(&e, "JWT_SECRET=%s", w.jwt_secret);
	harness_env_set(&e, "EMAIL_QUEUE_KEY=%s", w.queue_key);
	harness_env_set(&e, "AUTH_RATE_LIMIT=%d", rate_limit);
	harness_env_set(&e, "AUTH_RATE_WINDOW=60");
	harness_env_set(&e, "TEMPLATES_DIR=%s", getenv("TEMPLATES_DIR"));
	for (int i = 0; i < REPLICAS; i++)
		harness_server_start(&w.api[i], e.p);
	ck_assert_int_ne(w.api[0].port, w.api[1].port);
}

/* The *_temp_path directives of the modules this nginx was built with (each
 * module knows only its own), pointing into dir. */
static void nginx_temp_paths(const char *dir, char *out, size_t n)
{
	static const char *const kinds[] = {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"};
	struct buf err = BUF_INIT;
	char *argv[] = {(char *)"nginx", (char *)"-V", NULL};
	int rc = e2e_run_capture(nginx_bin(), argv, NULL, NULL, 10, NULL, &err);
	ck_assert_msg(rc == 0, "%s -V exited %d (is nginx-light installed? packages.txt): %s",
		      nginx_bin(), rc, err.data ? err.data : "");
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char flag[64];
		snprintf(flag, sizeof(flag), "--http-%s-temp-path", kinds[i]);
		for (char *p = flag; *p; p++)
			if (*p == '_')
				*p = '-';
		if (!strstr(err.data, flag))
			continue;
		int k = snprintf(out + used, n - used, "    %s_temp_path %s/%s;\n", kinds[i], dir,
				 kinds[i]);
		ck_assert(k > 0 && (size_t)k < n - used);
		used += (size_t)k;
	}
	buf_free(&err);
}

/* Starts nginx on a free loopback port in front of the replicas
 * (round-robin, the default), and waits until /healthz answers through it. */
static void start_nginx(void)
{
	snprintf(w.nginx_dir, sizeof(w.nginx_dir), "/tmp/cinema-scale-nginx-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(w.nginx_dir));
	w.nginx_port = e2e_free_port();
	ck_assert_int_gt(w.nginx_port, 0);
	snprintf(w.lb_url, sizeof(w.lb_url), "http://127.0.0.1:%d", w.nginx_port);

	char temps[1024];
	nginx_temp_paths(w.nginx_dir, temps, sizeof(temps));
	const char *d = w.nginx_dir;
	const char *conf = harness_fmt("%s/nginx.conf", d);
	FILE *f = fopen(conf, "w");
	ck_assert_msg(f != NULL, "cannot write %s", conf);
	fprintf(f,
		"daemon off;\n"
		"master_process off;\n"
		"worker_processes 1;\n"
		"pid %s/nginx.pid;\n"
		"error_log %s/error.log info;\n"
		"events {\n"
		"    worker_connections 256;\n"
		"}\n"
		"http {\n"
		"%s"
		"    log_format lb '$remote_addr \"$request\" $status upstream=$upstream_addr "
		"rid=$http_x_request_id';\n"
		"    access_log %s/access.log lb;\n"
		"    upstream cinema_api {\n"
		"        server 127.0.0.1:%d;\n"
		"        server 127.0.0.1:%d;\n"
		"    }\n"
		"    server {\n"
		"        listen 127.0.0.1:%d;\n"
		"        location / {\n"
		"            proxy_pass http://cinema_api;\n"
		"            proxy_http_version 1.1;\n"
		"            proxy_set_header Connection \"\";\n"
		"            proxy_set_header Host $host;\n"
		"            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
		"        }\n"
		"    }\n"
		"}\n",
		d, d, temps, d, w.api[0].port, w.api[1].port, w.nginx_port);
	ck_assert_int_eq(fclose(f), 0);

	char prefix[80], conf_path[80], err_path[80];
	snprintf(prefix, sizeof(prefix), "%s/", d);
	snprintf(conf_path, sizeof(conf_path), "%s/nginx.conf", d);
	snprintf(err_path, sizeof(err_path), "%s/error.log", d);
	char *argv[] = {(char *)"nginx", (char *)"-p", prefix,	 (char *)"-c",
			conf_path,	 (char *)"-e", err_path, NULL};
	harness_log_add(err_path);
	harness_log_add(harness_fmt("%s/access.log", d));
	w.nginx = e2e_spawn(nginx_bin(), argv, NULL, NULL, harness_log_new("nginx-stdout"));
	ck_assert_msg(w.nginx > 0, "cannot start %s", nginx_bin());
	harness_track(w.nginx);
	harness_wait_port(w.nginx, w.nginx_port, "nginx");
	struct e2e_resp r;
	ck_assert_msg(e2e_request("GET", harness_fmt("%s/healthz", w.lb_url), NULL, NULL, 0, &r),
		      "GET /healthz through nginx: transport error");
	ck_assert_msg(r.status == 200, "GET /healthz through nginx: %ld:%s", r.status,
		      harness_logs_tail());
	e2e_resp_free(&r);
}

/* The replicas, then nginx in front of them. */
static void boot(int rate_limit)
{
	start_replicas(rate_limit);
	start_nginx();
}

/* `cinema-api create-user --active` with PASSWORD. */
static void create_user(const char *email)
{
	struct harness_account u = {email, "USER", true, 0};
	harness_create_accounts(w.ci, &u, 1, PASSWORD);
}

/* --- fixture --- */

static void setup(void)
{
	static const char *const required[] = {"DATABASE_URL",	"REDIS_URL",	  "CINEMA_API_BIN",
					       "TEMPLATES_DIR", "MIGRATIONS_DIR", NULL};
	static unsigned n;
	harness_require_env(required);
	memset(&w, 0, sizeof(w));
	harness_begin("scale");
	harness_redis_claim(w.redis_url, sizeof(w.redis_url), REDIS_DB);
	snprintf(w.queue_key, sizeof(w.queue_key), "test:scaling:%ld:%u", (long)getpid(), ++n);
	harness_secret(w.jwt_secret, sizeof(w.jwt_secret), "scaling-test");

	w.ci = harness_db_open(&w.pg);
}

static void teardown(void)
{
	harness_end();
	if (w.nginx_dir[0])
		harness_remove_dir(w.nginx_dir);
	harness_db_close(w.ci, w.pg);
	if (w.redis_url[0])
		harness_redis_flush(w.redis_url);
	memset(&w, 0, sizeof(w));
}

/* --- HTTP --- */

/* Where a request goes: a replica directly, or nginx. */
enum target { API1, API2, LB };
static const char *const target_names[] = {"replica 1", "replica 2", "nginx"};

/* method path on target as the holder of access token bearer (NULL:
 * anonymous), with a JSON body (NULL: none) and, when rid is not NULL, the
 * X-Request-Id rid. */
static struct e2e_resp call(enum target t, const char *method, const char *path, const char *bearer,
			    const char *body, const char *rid)
{
	char req_id[128];
	const char *extra[] = {req_id, NULL};
	if (rid)
		snprintf(req_id, sizeof(req_id), "X-Request-Id: %s", rid);
	const char *url = t == LB ? harness_fmt("%s%s", w.lb_url, path)
				  : harness_fmt("%s%s", w.api[t].base_url, path);
	return harness_request(method, url, bearer, body, rid ? extra : NULL);
}

/* Asserts the status of r; for an error, also its code (NULL: any). */
#define expect(r, t, status, code) expect_at(r, t, status, code, __LINE__)
static void expect_at(const struct e2e_resp *r, enum target t, long status, const char *code,
		      int line)
{
	ck_assert_msg(r->status == status, "line %d, %s: status %ld, want %ld; body: %s%s", line,
		      target_names[t], r->status, status, r->body.data ? r->body.data : "",
		      r->status >= 500 || r->status == 0 ? harness_logs_tail() : "");
	if (status >= 400 && code)
		ck_assert_msg(strcmp(e2e_code(r), code) == 0, "line %d, %s: code %s, want %s: %s",
			      line, target_names[t], e2e_code(r), code, r->body.data);
}

/* A call whose response is only checked (and freed). */
#define check_call(t, method, path, bearer, body, status, code)                  \
	do {                                                                     \
		struct e2e_resp cc_ = call(t, method, path, bearer, body, NULL); \
		expect(&cc_, t, status, code);                                   \
		e2e_resp_free(&cc_);                                             \
	} while (0)

struct session {
	char access[2048];
	char refresh[64];
};

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static const char *login_body(const char *email, const char *password)
{
	return harness_fmt("{\"email\":\"%s\",\"password\":\"%s\"}", email, password);
}

static const char *refresh_body(const struct session *s)
{
	return harness_fmt("{\"refresh_token\":\"%s\"}", s->refresh);
}

#define login(t, email, s) login_at(t, email, s, __LINE__)
static void login_at(enum target t, const char *email, struct session *s, int line)
{
	struct e2e_resp r =
		call(t, "POST", "/api/v1/accounts/login", NULL, login_body(email, PASSWORD), NULL);
	expect_at(&r, t, 200, NULL, line);
	const char *a = jstr(r.json, "access_token"), *f = jstr(r.json, "refresh_token");
	ck_assert_msg(a && f && strlen(a) < sizeof(s->access) && strlen(f) < sizeof(s->refresh),
		      "line %d: no token pair: %s", line, r.body.data);
	snprintf(s->access, sizeof(s->access), "%s", a);
	snprintf(s->refresh, sizeof(s->refresh), "%s", f);
	e2e_resp_free(&r);
}

/* GET /accounts/me on t answers 200 with email. */
#define expect_me_ok(t, access, email, rid) expect_me_ok_at(t, access, email, rid, __LINE__)
static void expect_me_ok_at(enum target t, const char *access, const char *email, const char *rid,
			    int line)
{
	struct e2e_resp r = call(t, "GET", "/api/v1/accounts/me", access, NULL, rid);
	expect_at(&r, t, 200, NULL, line);
	ck_assert_msg(jstr(r.json, "email") && strcmp(jstr(r.json, "email"), email) == 0,
		      "line %d, %s: /me is not %s: %s", line, target_names[t], email, r.body.data);
	e2e_resp_free(&r);
}

/* GET /accounts/me on t is refused as unauthenticated. */
#define expect_me_refused(t, access) expect_me_refused_at(t, access, __LINE__)
static void expect_me_refused_at(enum target t, const char *access, int line)
{
	char h[64];
	struct e2e_resp r = call(t, "GET", "/api/v1/accounts/me", access, NULL, NULL);
	expect_at(&r, t, 401, NULL, line);
	ck_assert_msg(e2e_header(&r, "WWW-Authenticate", h, sizeof(h)) && strcmp(h, "Bearer") == 0,
		      "line %d, %s: 401 without WWW-Authenticate: Bearer", line, target_names[t]);
	e2e_resp_free(&r);
}

/* Which replica logged a request with id rid: waits for it to appear in
 * exactly one replica's access log (a replica logs a request once it has
 * answered it) and returns that replica's index. */
static int replica_that_served(const char *rid)
{
	const char *needle = harness_fmt("\"request_id\":\"%s\"", rid);
	long long deadline = harness_now_ms() + HARNESS_WAIT_MS;
	for (;;) {
		bool in[REPLICAS];
		int found = 0, which = -1;
		for (int i = 0; i < REPLICAS; i++) {
			in[i] = harness_file_contains(w.api[i].log_path, needle);
			if (in[i]) {
				found++;
				which = i;
			}
		}
		ck_assert_msg(found <= 1, "request %s was served by both replicas:%s", rid,
			      harness_logs_tail());
		if (found == 1)
			return which;
		ck_assert_msg(harness_now_ms() <= deadline, "request %s is in no replica's log:%s",
			      rid, harness_logs_tail());
		harness_sleep_ms(HARNESS_POLL_MS);
	}
}

/* ================================================================== */

/* Sign in on replica 1, use the session through nginx (which reaches each
 * replica in turn) and on each replica, sign out on replica 2: the access
 * and refresh tokens are then refused everywhere. */
START_TEST(logout_on_one_replica_ends_the_session_on_all)
{
	boot(100000);
	const char *email = harness_unique_email("scale");
	create_user(email);

	struct session s = {0};
	login(API1, email, &s);

	/* Through nginx, twice: round-robin sends one request to each replica,
	 * and both accept the session that replica 1 opened. */
	char rid[2][64];
	int served[REPLICAS] = {0};
	for (int i = 0; i < 2; i++) {
		snprintf(rid[i], sizeof(rid[i]), "scale-%ld-me-%d", (long)getpid(), i);
		expect_me_ok(LB, s.access, email, rid[i]);
	}
	for (int i = 0; i < 2; i++)
		served[replica_that_served(rid[i])]++;
	ck_assert_msg(served[0] == 1 && served[1] == 1,
		      "nginx sent %d request(s) to replica 1 and %d to replica 2, want 1 and 1:%s",
		      served[0], served[1], harness_logs_tail());
	/* And each replica directly. */
	expect_me_ok(API1, s.access, email, NULL);
	expect_me_ok(API2, s.access, email, NULL);

	/* Sign out on replica 2. */
	struct e2e_resp r =
		call(API2, "POST", "/api/v1/accounts/logout", s.access, refresh_body(&s), NULL);
	expect(&r, API2, 204, NULL);
	e2e_resp_free(&r);

	/* The access token is refused by both replicas and through nginx
	 * (twice: once by each replica behind it). */
	expect_me_refused(API1, s.access);
	expect_me_refused(API2, s.access);
	expect_me_refused(LB, s.access);
	expect_me_refused(LB, s.access);
	/* So is the refresh token, wherever it is presented. */
	check_call(API1, "POST", "/api/v1/accounts/refresh", NULL, refresh_body(&s), 401, NULL);
	check_call(LB, "POST", "/api/v1/accounts/refresh", NULL, refresh_body(&s), 401, NULL);
	check_call(LB, "POST", "/api/v1/accounts/refresh", NULL, refresh_body(&s), 401, NULL);

	/* A new sign-in through nginx works on both replicas. */
	struct session s2 = {0};
	login(LB, email, &s2);
	expect_me_ok(API1, s2.access, email, NULL);
	expect_me_ok(API2, s2.access, email, NULL);
	expect_me_refused(API1, s.access);
}
END_TEST

/* Sign-in attempts are counted in Redis, once for all replicas: with
 * AUTH_RATE_LIMIT=3 per address, three failures spread over replica 1,
 * replica 2 and nginx use up the allowance on all of them (a counter per
 * process would allow three on each). */
START_TEST(sign_in_rate_limit_is_shared_by_replicas)
{
	boot(3);
	const char *email = harness_unique_email("limit");
	create_user(email);

	const enum target order[] = {API1, API2, LB};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		check_call(order[i], "POST", "/api/v1/accounts/login", NULL,
			   login_body(email, WRONG), 401, "invalid_credentials");
	/* The right password now comes too late, on every replica. */
	for (int t = API1; t <= LB; t++) {
		struct e2e_resp r = call((enum target)t, "POST", "/api/v1/accounts/login", NULL,
					 login_body(email, PASSWORD), NULL);
		expect(&r, (enum target)t, 429, "rate_limited");
		char retry[16];
		ck_assert_msg(e2e_header(&r, "Retry-After", retry, sizeof(retry)),
			      "%s: 429 without Retry-After", target_names[t]);
		e2e_resp_free(&r);
	}
}
END_TEST

int main(void)
{
	/* The test command always provides these; a run without them is a
	 * broken setup, not something to skip. */
	if (!harness_main_ready("e2e_test_scaling"))
		return 1;
	Suite *s = suite_create("e2e_scaling");
	TCase *tc = tcase_create("replicas");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, logout_on_one_replica_ends_the_session_on_all);
	tcase_add_test(tc, sign_in_rate_limit_is_shared_by_replicas);
	suite_add_tcase(s, tc);

	return harness_run(s);
}
