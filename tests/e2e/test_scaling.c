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
 * SIGKILL ends with nothing left behind.
 *
 * Redis: this suite owns database REDIS_DB of the server of REDIS_URL,
 * flushed before and after each test (rate-limit counters are keyed by
 * client IP, and every client here is 127.0.0.1). No other suite may use
 * that database number.
 *
 * Cleanup: every process a test starts is tracked and killed by the checked
 * teardown, which also drops the database, flushes the Redis database and
 * removes the nginx directory and the logs. In fork mode a failed assertion
 * ends the test process before teardown; check then kills the test's whole
 * process group, which takes the children with it. */
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cinema/kv.h"
#include "e2e.h"
#include "testdb.h"

#define REDIS_DB     12
#define REPLICAS     2
#define MAX_CHILDREN 8
#define MAX_LOGS     8
#define WAIT_MS	     15000L /* "eventually": how long to poll */
#define POLL_MS	     50L
#define PASSWORD     "Popcorn-42!"
#define WRONG	     "Not-The-Password-1"

/* --- what the running test started; teardown ends and removes all of it --- */

static pid_t children[MAX_CHILDREN];
static char logs[MAX_LOGS][256];

static struct {
	char *ci;	     /* the test's database (migrated) */
	char redis_url[256]; /* REDIS_URL with the suite's database number */
	char jwt_secret[80]; /* one secret for every replica */
	char queue_key[64];
	struct e2e_server api[REPLICAS];
	char nginx_dir[64]; /* "" until made */
	pid_t nginx;
	int nginx_port;
	char lb_url[64]; /* http://127.0.0.1:<nginx_port> */
	unsigned seq;	 /* for unique request ids and emails */
} w;

static void track_pid(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] <= 0) {
			children[i] = pid;
			return;
		}
	kill(pid, SIGKILL);
	ck_abort_msg("too many child processes in one test");
}

static void untrack_pid(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
}

/* A log file name for this test, removed by teardown. */
static const char *new_log(const char *what)
{
	for (int i = 0; i < MAX_LOGS; i++)
		if (!logs[i][0]) {
			snprintf(logs[i], sizeof(logs[i]), "/tmp/cinema-scale-%ld-%s-%d.log",
				 (long)getpid(), what, i);
			return logs[i];
		}
	ck_abort_msg("too many log files in one test");
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000 * 1000};
	nanosleep(&t, NULL);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* printf into a rotating static buffer (eight live at a time). */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	static char bufs[8][1024];
	static int next;
	char *b = bufs[next++ % 8];
	va_list ap;
	va_start(ap, f);
	int n = vsnprintf(b, sizeof(bufs[0]), f, ap);
	va_end(ap);
	ck_assert(n > 0 && (size_t)n < sizeof(bufs[0]));
	return b;
}

/* Appends the last part of the file at path to text (at used). */
static void tail_into(char *text, size_t cap, size_t *used, const char *path)
{
	struct buf b = BUF_INIT;
	if (!path[0] || *used >= cap - 1)
		return;
	e2e_read_file(path, &b);
	size_t keep = 1200;
	const char *s = b.data ? b.data : "";
	if (b.len > keep)
		s += b.len - keep;
	int n = snprintf(text + *used, cap - *used, "\n--- %s ---\n%s", path, s);
	if (n > 0)
		*used += (size_t)n;
	if (*used >= cap)
		*used = cap - 1;
	buf_free(&b);
}

/* The last part of every log of this test: replicas, nginx, the rest. */
static const char *logs_tail(void)
{
	static char text[10000];
	size_t used = 0;
	text[0] = '\0';
	for (int i = 0; i < REPLICAS; i++)
		tail_into(text, sizeof(text), &used, w.api[i].log_path);
	if (w.nginx_dir[0]) {
		tail_into(text, sizeof(text), &used, fmt("%s/error.log", w.nginx_dir));
		tail_into(text, sizeof(text), &used, fmt("%s/access.log", w.nginx_dir));
	}
	for (int i = 0; i < MAX_LOGS; i++)
		tail_into(text, sizeof(text), &used, logs[i]);
	return text;
}

static bool file_contains(const char *path, const char *needle)
{
	struct buf b = BUF_INIT;
	e2e_read_file(path, &b);
	bool found = b.data && strstr(b.data, needle);
	buf_free(&b);
	return found;
}

static bool port_open(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* Fails the test if pid has exited (what names it). */
static void assert_alive(pid_t pid, const char *what)
{
	int status;
	if (waitpid(pid, &status, WNOHANG) == pid) {
		untrack_pid(pid);
		ck_abort_msg("%s exited early:%s", what, logs_tail());
	}
}

/* --- Redis --- */

/* REDIS_URL with the path replaced by /REDIS_DB. */
static void suite_redis_url(char *out, size_t n)
{
	const char *base = getenv("REDIS_URL");
	ck_assert_msg(strncmp(base, "redis://", 8) == 0, "REDIS_URL must be redis://...: %s", base);
	size_t keep = strcspn(base + 8, "/?") + 8;
	int len = snprintf(out, n, "%.*s/%d", (int)keep, base, REDIS_DB);
	ck_assert(len > 0 && (size_t)len < n);
}

static void redis_flush(void)
{
	char err[256];
	struct kv_options kvo = {.url = w.redis_url, .pool_size = 1, .timeout_ms = 2000};
	struct kv *kv = kv_new(&kvo, err, sizeof(err));
	ck_assert_msg(kv != NULL, "REDIS_URL: %s", err);
	ck_assert_msg(kv_command(kv, NULL, "FLUSHDB") == ERR_OK, "FLUSHDB on %s failed",
		      w.redis_url);
	kv_free(kv);
}

/* --- processes --- */

static const char *api_bin(void)
{
	return e2e_bin("CINEMA_API_BIN");
}

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
	char db[1100], redis[300], jwt[100], queue[100], rate[48], templates[1100];
	snprintf(db, sizeof(db), "DATABASE_URL=%s", w.ci);
	snprintf(redis, sizeof(redis), "REDIS_URL=%s", w.redis_url);
	snprintf(jwt, sizeof(jwt), "JWT_SECRET=%s", w.jwt_secret);
	snprintf(queue, sizeof(queue), "EMAIL_QUEUE_KEY=%s", w.queue_key);
	snprintf(rate, sizeof(rate), "AUTH_RATE_LIMIT=%d", rate_limit);
	snprintf(templates, sizeof(templates), "TEMPLATES_DIR=%s", getenv("TEMPLATES_DIR"));
	const char *env[] = {db, redis, jwt, queue, rate, "AUTH_RATE_WINDOW=60", templates, NULL};
	for (int i = 0; i < REPLICAS; i++) {
		bool ok = e2e_server_start(&w.api[i], env);
		if (w.api[i].pid > 0)
			track_pid(w.api[i].pid);
		ck_assert_msg(ok, "replica %d (cinema-api serve) did not come up:%s", i + 1,
			      logs_tail());
	}
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
	const char *conf = fmt("%s/nginx.conf", d);
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
	w.nginx = e2e_spawn(nginx_bin(), argv, NULL, NULL, new_log("nginx-stdout"));
	ck_assert_msg(w.nginx > 0, "cannot start %s", nginx_bin());
	track_pid(w.nginx);

	long long deadline = now_ms() + WAIT_MS;
	while (!port_open(w.nginx_port)) {
		assert_alive(w.nginx, "nginx");
		ck_assert_msg(now_ms() <= deadline, "nginx did not listen:%s", logs_tail());
		sleep_ms(POLL_MS);
	}
	struct e2e_resp r;
	ck_assert_msg(e2e_request("GET", fmt("%s/healthz", w.lb_url), NULL, NULL, 0, &r),
		      "GET /healthz through nginx: transport error");
	ck_assert_msg(r.status == 200, "GET /healthz through nginx: %ld:%s", r.status, logs_tail());
	e2e_resp_free(&r);
}

/* The replicas, then nginx in front of them. */
static void boot(int rate_limit)
{
	start_replicas(rate_limit);
	start_nginx();
}

/* A unique address for this test. */
static const char *unique_email(const char *tag)
{
	static char emails[4][128];
	ck_assert_uint_lt(w.seq, 4);
	char *e = emails[w.seq++];
	snprintf(e, sizeof(emails[0]), "%s-%ld-%u@example.com", tag, (long)getpid(), w.seq);
	return e;
}

/* `cinema-api create-user --active` with PASSWORD. */
static void create_user(const char *email)
{
	char dbenv[1100];
	snprintf(dbenv, sizeof(dbenv), "DATABASE_URL=%s", w.ci);
	const char *env[] = {dbenv, "LOG_LEVEL=error", NULL};
	char *argv[] = {
		(char *)"cinema-api", (char *)"create-user", (char *)"--email",	 (char *)email,
		(char *)"--password", (char *)PASSWORD,	     (char *)"--active", NULL};
	struct buf out = BUF_INIT, err = BUF_INIT;
	int rc = e2e_run_capture(api_bin(), argv, env, NULL, 60, &out, &err);
	ck_assert_msg(rc == 0, "create-user %s exited %d:\n%s%s", email, rc,
		      out.data ? out.data : "", err.data ? err.data : "");
	buf_free(&out);
	buf_free(&err);
}

/* --- fixture --- */

static void setup(void)
{
	static const char *const required[] = {"DATABASE_URL", "REDIS_URL", "CINEMA_API_BIN",
					       "TEMPLATES_DIR", "MIGRATIONS_DIR"};
	static unsigned n;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const char *v = getenv(required[i]);
		ck_assert_msg(v && *v, "%s must be set (scripts/test.sh and CTest set it)",
			      required[i]);
	}
	memset(&w, 0, sizeof(w));
	ck_assert_int_ge(sodium_init(), 0);
	suite_redis_url(w.redis_url, sizeof(w.redis_url));
	redis_flush();
	snprintf(w.queue_key, sizeof(w.queue_key), "test:scaling:%ld:%u", (long)getpid(), ++n);
	unsigned char rnd[24];
	char hex[sizeof(rnd) * 2 + 1];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(w.jwt_secret, sizeof(w.jwt_secret), "scaling-test-%s", hex);

	w.ci = testdb_create();
	ck_assert_msg(w.ci != NULL, "testdb_create failed");
	char dbenv[1100];
	snprintf(dbenv, sizeof(dbenv), "DATABASE_URL=%s", w.ci);
	const char *env[] = {dbenv, "LOG_LEVEL=error", NULL};
	char *argv[] = {(char *)"cinema-api", (char *)"migrate", NULL};
	struct buf err = BUF_INIT;
	int rc = e2e_run_capture(api_bin(), argv, env, NULL, 60, NULL, &err);
	ck_assert_msg(rc == 0, "cinema-api migrate exited %d:\n%s", rc, err.data);
	buf_free(&err);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Ends pid: SIGTERM, then SIGKILL if it is still there after 5 s. A
 * replica that exits on SIGTERM writes its coverage data (gcov) when the
 * suite runs in a --coverage build; one killed outright would not. */
static void stop_child(pid_t pid)
{
	int status;
	kill(pid, SIGTERM);
	for (long waited = 0; waited < 5000; waited += POLL_MS) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD))
			return;
		sleep_ms(POLL_MS);
	}
	kill(pid, SIGKILL);
	e2e_wait(pid);
}

static void teardown(void)
{
	for (int i = 0; i < MAX_CHILDREN; i++) {
		if (children[i] <= 0)
			continue;
		stop_child(children[i]);
		children[i] = 0;
	}
	for (int i = 0; i < REPLICAS; i++)
		if (w.api[i].log_path[0])
			unlink(w.api[i].log_path);
	if (w.nginx_dir[0])
		nftw(w.nginx_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	testdb_drop(w.ci);
	free(w.ci);
	if (w.redis_url[0])
		redis_flush();
	for (int i = 0; i < MAX_LOGS; i++) {
		if (logs[i][0])
			unlink(logs[i]);
		logs[i][0] = '\0';
	}
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
	char auth[2200], req_id[128];
	const char *headers[4];
	int n = 0;
	if (bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
		headers[n++] = auth;
	}
	if (body)
		headers[n++] = "Content-Type: application/json";
	if (rid) {
		snprintf(req_id, sizeof(req_id), "X-Request-Id: %s", rid);
		headers[n++] = req_id;
	}
	headers[n] = NULL;
	const char *url =
		t == LB ? fmt("%s%s", w.lb_url, path) : fmt("%s%s", w.api[t].base_url, path);
	struct e2e_resp r;
	ck_assert_msg(e2e_request(method, url, headers, body, body ? strlen(body) : 0, &r),
		      "%s %s through %s: transport error", method, path, target_names[t]);
	return r;
}

/* Asserts the status of r; for an error, also its code (NULL: any). */
#define expect(r, t, status, code) expect_at(r, t, status, code, __LINE__)
static void expect_at(const struct e2e_resp *r, enum target t, long status, const char *code,
		      int line)
{
	ck_assert_msg(r->status == status, "line %d, %s: status %ld, want %ld; body: %s%s", line,
		      target_names[t], r->status, status, r->body.data ? r->body.data : "",
		      r->status >= 500 || r->status == 0 ? logs_tail() : "");
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
	return fmt("{\"email\":\"%s\",\"password\":\"%s\"}", email, password);
}

static const char *refresh_body(const struct session *s)
{
	return fmt("{\"refresh_token\":\"%s\"}", s->refresh);
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
	const char *needle = fmt("\"request_id\":\"%s\"", rid);
	long long deadline = now_ms() + WAIT_MS;
	for (;;) {
		bool in[REPLICAS];
		int found = 0, which = -1;
		for (int i = 0; i < REPLICAS; i++) {
			in[i] = file_contains(w.api[i].log_path, needle);
			if (in[i]) {
				found++;
				which = i;
			}
		}
		ck_assert_msg(found <= 1, "request %s was served by both replicas:%s", rid,
			      logs_tail());
		if (found == 1)
			return which;
		ck_assert_msg(now_ms() <= deadline, "request %s is in no replica's log:%s", rid,
			      logs_tail());
		sleep_ms(POLL_MS);
	}
}

/* ================================================================== */

/* Sign in on replica 1, use the session through nginx (which reaches each
 * replica in turn) and on each replica, sign out on replica 2: the access
 * and refresh tokens are then refused everywhere. */
START_TEST(logout_on_one_replica_ends_the_session_on_all)
{
	boot(100000);
	const char *email = unique_email("scale");
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
		      served[0], served[1], logs_tail());
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
	const char *email = unique_email("limit");
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
	if (!testdb_url() || !getenv("REDIS_URL") || !*getenv("REDIS_URL")) {
		fprintf(stderr, "e2e_test_scaling: DATABASE_URL and REDIS_URL must be set "
				"(scripts/test.sh starts throwaway servers)\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	Suite *s = suite_create("e2e_scaling");
	TCase *tc = tcase_create("replicas");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, logout_on_one_replica_ends_the_session_on_all);
	tcase_add_test(tc, sign_in_rate_limit_is_shared_by_replicas);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
