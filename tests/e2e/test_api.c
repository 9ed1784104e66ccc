/* End-to-end tests of the real cinema-api binary: migrations, the serve
 * command against real PostgreSQL and Redis, readiness following Redis as it
 * stops and starts, sign-in rate limits while Redis is down, refusal of bad
 * configuration and of a port in use.
 *
 * Needs DATABASE_URL and REDIS_URL (scripts/test.sh provides them; the suite
 * fails when they are missing), CINEMA_API_BIN and MIGRATIONS_DIR (set by
 * CTest), and redis-server on PATH. Every test works on throwaway databases
 * of its own (testdb.h).
 *
 * Cleanup: every process a test starts is tracked by the shared harness
 * (harness.h) and stopped by the checked teardown (SIGTERM, then SIGKILL if
 * it lingers), and every database it creates is dropped there. In fork mode
 * a failed assertion ends the test process before teardown; check then kills
 * the test's whole process group (killpg after each test), which takes the
 * API and redis-server children with it. */
#include <check.h>
#include <dirent.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "e2e.h"
#include "harness.h"
#include "testdb.h"

#define MAX_DBS 4

/* The databases the running test created and its connection to the last
 * one (tests/support/harness.h has the rest); teardown drops them. */
static char *dbs[MAX_DBS];
static PGconn *db_conn;

static void setup(void)
{
	static const char *const required[] = {"DATABASE_URL", "REDIS_URL", "CINEMA_API_BIN",
					       "MIGRATIONS_DIR", NULL};
	harness_require_env(required);
	harness_begin("api");
}

static void teardown(void)
{
	harness_end();
	if (db_conn)
		PQfinish(db_conn);
	db_conn = NULL;
	for (int i = 0; i < MAX_DBS; i++) {
		testdb_drop(dbs[i]);
		free(dbs[i]);
		dbs[i] = NULL;
	}
}

/* --- helpers --- */

/* A fresh empty database, dropped by teardown. Returns its conninfo. */
static const char *new_db(void)
{
	char *ci = testdb_create();
	ck_assert_msg(ci != NULL, "testdb_create failed (is DATABASE_URL set?)");
	for (int i = 0; i < MAX_DBS; i++)
		if (!dbs[i]) {
			dbs[i] = ci;
			return ci;
		}
	testdb_drop(ci);
	free(ci);
	ck_abort_msg("too many databases in one test");
	return NULL;
}

/* "DATABASE_URL=<ci>" (harness_fmt's buffer). */
static const char *db_env(const char *ci)
{
	return harness_fmt("DATABASE_URL=%s", ci);
}

/* Runs `cinema-api args...` with extra environment; captures its output. */
static int run_api(char *const argv[], const char *const *env, const char *const *unset,
		   struct buf *out, struct buf *err)
{
	return e2e_run_capture(e2e_bin("CINEMA_API_BIN"), argv, env, unset, 20, out, err);
}

static int run_migrate(const char *ci, struct buf *err)
{
	char *argv[] = {(char *)"cinema-api", (char *)"migrate", NULL};
	const char *env[] = {db_env(ci), "LOG_LEVEL=info", NULL};
	return run_api(argv, env, NULL, NULL, err);
}

/* The number of NNNN_name.sql files in MIGRATIONS_DIR. */
static int count_migration_files(void)
{
	DIR *d = opendir(getenv("MIGRATIONS_DIR"));
	struct dirent *de;
	int n = 0;
	ck_assert_msg(d != NULL, "cannot open MIGRATIONS_DIR %s", getenv("MIGRATIONS_DIR"));
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len > 9 && de->d_name[4] == '_' && strspn(de->d_name, "0123456789") == 4 &&
		    strcmp(de->d_name + len - 4, ".sql") == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* The "applied" count of the "migrations done" log line, or -1. */
static int applied_from_log(const char *log)
{
	int applied = -1;
	const char *p = log;
	while (p && *p) {
		size_t len = strcspn(p, "\n");
		json_t *line = json_loadb(p, len, 0, NULL);
		const char *msg = json_string_value(json_object_get(line, "msg"));
		json_t *a = json_object_get(line, "applied");
		if (msg && strcmp(msg, "migrations done") == 0 && json_is_integer(a))
			applied = (int)json_integer_value(a);
		json_decref(line);
		p += len;
		if (*p == '\n')
			p++;
	}
	return applied;
}

/* Connects to the database ci for harness_sql_value (closed by teardown). */
static void use_db(const char *ci)
{
	ck_assert_msg(db_conn == NULL, "one database connection a test");
	db_conn = PQconnectdb(ci);
	ck_assert_msg(PQstatus(db_conn) == CONNECTION_OK, "connect: %s", PQerrorMessage(db_conn));
	harness_use_db(db_conn);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* SIGTERM; returns the exit status (-1 when it had to be killed). */
static int stop_api(struct e2e_server *srv)
{
	int rc = harness_stop(srv->pid, SIGTERM, E2E_STOP_MS);
	srv->pid = 0;
	unlink(srv->log_path); /* a server started again on srv gets another */
	return rc;
}

static struct e2e_resp get(const char *path)
{
	return harness_raw("GET", path, NULL, NULL, 0);
}

/* Polls GET /readyz until it answers status or timeout_ms passes; *last
 * gets the last response (free it). */
static bool wait_readyz(long status, long timeout_ms, struct e2e_resp *last)
{
	for (long waited = 0;; waited += 100) {
		*last = get("/readyz");
		if (last->status == status)
			return true;
		if (waited >= timeout_ms)
			return false;
		e2e_resp_free(last);
		harness_sleep_ms(100);
	}
}

static void assert_json_error(const struct e2e_resp *r, long status, const char *code)
{
	char ct[128];
	ck_assert_int_eq(r->status, status);
	ck_assert_msg(r->json != NULL, "body is not JSON: %s", r->body.data);
	ck_assert_str_eq(e2e_code(r), code);
	ck_assert(json_is_string(json_object_get(r->json, "detail")));
	ck_assert(e2e_header(r, "Content-Type", ct, sizeof(ct)));
	ck_assert_str_eq(ct, "application/json; charset=utf-8");
}

/* --- a redis-server of the test's own --- */

/* True when something on 127.0.0.1:port answers PING with PONG. */
static bool redis_ping(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval tv = {1, 0};
	char reply[16] = {0};
	bool ok = false;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && write(fd, "PING\r\n", 6) == 6 &&
	    read(fd, reply, sizeof(reply) - 1) >= 5)
		ok = strncmp(reply, "+PONG", 5) == 0;
	close(fd);
	return ok;
}

/* Starts redis-server on port without persistence and waits until it
 * answers (up to 5 s). */
static pid_t redis_start(int port, const char *log_path)
{
	char portstr[16];
	snprintf(portstr, sizeof(portstr), "%d", port);
	char *argv[] = {(char *)"redis-server",
			(char *)"--port",
			portstr,
			(char *)"--bind",
			(char *)"127.0.0.1",
			(char *)"--save",
			(char *)"",
			(char *)"--appendonly",
			(char *)"no",
			NULL};
	pid_t pid = e2e_spawn("redis-server", argv, NULL, NULL, log_path);
	ck_assert_msg(pid > 0, "cannot start redis-server");
	harness_track(pid);
	for (int i = 0; i < 100; i++) {
		if (redis_ping(port))
			return pid;
		harness_assert_alive(pid, "redis-server (is it on PATH?)");
		harness_sleep_ms(50);
	}
	ck_abort_msg("redis-server on port %d did not answer within 5 s", port);
	return -1;
}

static void redis_stop(pid_t pid)
{
	int rc = harness_stop(pid, SIGTERM, HARNESS_STOP_MS);
	ck_assert_msg(rc == 0, "redis-server exited with %d", rc);
}

/* --- 1. migrate --- */

START_TEST(migrate_creates_schema_then_applies_nothing)
{
	const char *ci = new_db();
	struct buf err = BUF_INIT;
	int files_n = count_migration_files();
	ck_assert_int_ge(files_n, 1);

	int rc = run_migrate(ci, &err);
	ck_assert_msg(rc == 0, "migrate exited %d:\n%s", rc, err.data);
	ck_assert_msg(applied_from_log(err.data) == files_n, "expected %d applied:\n%s", files_n,
		      err.data);

	use_db(ci);
	char *v = harness_sql_value("SELECT string_agg(name, ',' ORDER BY id) FROM user_groups");
	ck_assert_str_eq(v, "USER,MODERATOR,ADMIN");
	free(v);
	v = harness_sql_value("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND "
			      "tablename IN ('users', 'user_groups', 'user_profiles', "
			      "'activation_tokens', 'password_reset_tokens', 'refresh_tokens')");
	ck_assert_str_eq(v, "6");
	free(v);
	static const char snapshot_sql[] =
		"SELECT count(*) || ' ' || string_agg(version || '@' || applied_at, ',' "
		"ORDER BY version) FROM schema_migrations";
	char *before = harness_sql_value(snapshot_sql);
	char *count = harness_sql_value("SELECT count(*) FROM schema_migrations");
	ck_assert_int_eq(atoi(count), files_n);
	free(count);

	/* Again: nothing to do, nothing touched. */
	buf_reset(&err);
	rc = run_migrate(ci, &err);
	ck_assert_msg(rc == 0, "second migrate exited %d:\n%s", rc, err.data);
	ck_assert_msg(applied_from_log(err.data) == 0, "expected 0 applied:\n%s", err.data);
	char *after = harness_sql_value(snapshot_sql);
	ck_assert_str_eq(before, after);
	v = harness_sql_value("SELECT count(*) FROM user_groups");
	ck_assert_str_eq(v, "3");
	free(v);
	free(before);
	free(after);
	buf_free(&err);
}
END_TEST

START_TEST(concurrent_migrations_apply_each_version_once)
{
	const char *ci = new_db();
	int files_n = count_migration_files();
	const char *logs[2] = {harness_log_new("migrate-a"), harness_log_new("migrate-b")};
	char *argv[] = {(char *)"cinema-api", (char *)"migrate", NULL};
	const char *env[] = {db_env(ci), "LOG_LEVEL=info", NULL};
	pid_t pids[2];

	/* Both start before either is waited for. */
	for (int i = 0; i < 2; i++) {
		pids[i] = e2e_spawn(e2e_bin("CINEMA_API_BIN"), argv, env, NULL, logs[i]);
		ck_assert_msg(pids[i] > 0, "cannot start cinema-api migrate");
		harness_track(pids[i]);
	}
	int applied = 0;
	for (int i = 0; i < 2; i++) {
		int rc = e2e_wait(pids[i]);
		harness_untrack(pids[i]);
		struct buf log = BUF_INIT;
		e2e_read_file(logs[i], &log);
		ck_assert_msg(rc == 0, "migrate %d exited %d:\n%s", i, rc, log.data);
		int n = applied_from_log(log.data);
		ck_assert_msg(n >= 0, "no \"migrations done\" line:\n%s", log.data);
		applied += n;
		buf_free(&log);
	}
	ck_assert_int_eq(applied, files_n);

	use_db(ci);
	char *v = harness_sql_value("SELECT count(*) || '/' || count(DISTINCT version) "
				    "FROM schema_migrations");
	char want[32];
	snprintf(want, sizeof(want), "%d/%d", files_n, files_n);
	ck_assert_str_eq(v, want);
	free(v);
	v = harness_sql_value("SELECT string_agg(name, ',' ORDER BY id) FROM user_groups");
	ck_assert_str_eq(v, "USER,MODERATOR,ADMIN");
	free(v);
}
END_TEST

/* --- 2. serve --- */

START_TEST(serve_answers_health_errors_and_stops_cleanly)
{
	const char *ci = new_db();
	struct buf err = BUF_INIT;
	int rc = run_migrate(ci, &err);
	ck_assert_msg(rc == 0, "migrate exited %d:\n%s", rc, err.data);
	buf_free(&err);

	struct e2e_server srv;
	const char *env[] = {db_env(ci), NULL};
	harness_server_start(&srv, env);

	struct e2e_resp r = get("/healthz");
	char hv[128];
	ck_assert_int_eq(r.status, 200);
	ck_assert(e2e_header(&r, "Content-Type", hv, sizeof(hv)));
	ck_assert_str_eq(hv, "application/json; charset=utf-8");
	json_t *want = json_pack("{s:s}", "status", "ok");
	ck_assert_msg(json_equal(r.json, want), "healthz body: %s", r.body.data);
	json_decref(want);
	e2e_resp_free(&r);

	r = get("/readyz");
	ck_assert_msg(r.status == 200, "readyz %ld: %s", r.status, r.body.data);
	want = json_pack("{s:s,s:{s:s,s:s}}", "status", "ready", "checks", "postgres", "ok",
			 "redis", "ok");
	ck_assert_msg(json_equal(r.json, want), "readyz body: %s", r.body.data);
	json_decref(want);
	e2e_resp_free(&r);

	r = get("/api/v1/nope");
	assert_json_error(&r, 404, "route_not_found");
	e2e_resp_free(&r);

	ck_assert(e2e_request("POST", e2e_url(&srv, "/healthz"), NULL, NULL, 0, &r));
	assert_json_error(&r, 405, "method_not_allowed");
	ck_assert(e2e_header(&r, "Allow", hv, sizeof(hv)));
	ck_assert_str_eq(hv, "GET, HEAD, OPTIONS");
	e2e_resp_free(&r);

	/* A sane request id is echoed; none, or an unsafe one, gets a fresh one. */
	const char *const with_id[] = {"X-Request-Id: e2e-run.42_A", NULL};
	ck_assert(e2e_request("GET", e2e_url(&srv, "/healthz"), with_id, NULL, 0, &r));
	ck_assert(e2e_header(&r, "X-Request-Id", hv, sizeof(hv)));
	ck_assert_str_eq(hv, "e2e-run.42_A");
	e2e_resp_free(&r);
	r = get("/api/v1/nope");
	ck_assert(e2e_header(&r, "X-Request-Id", hv, sizeof(hv)));
	ck_assert_uint_eq(strlen(hv), 32);
	ck_assert_uint_eq(strspn(hv, "0123456789abcdef"), 32);
	e2e_resp_free(&r);
	const char *const bad_id[] = {"X-Request-Id: <script>", NULL};
	ck_assert(e2e_request("GET", e2e_url(&srv, "/healthz"), bad_id, NULL, 0, &r));
	ck_assert(e2e_header(&r, "X-Request-Id", hv, sizeof(hv)));
	ck_assert_str_ne(hv, "<script>");
	ck_assert_uint_eq(strlen(hv), 32);
	e2e_resp_free(&r);

	ck_assert_int_eq(stop_api(&srv), 0);
}
END_TEST

/* --- 3. readiness follows Redis --- */

START_TEST(readyz_follows_redis_down_and_back)
{
	int rport = e2e_free_port();
	ck_assert_int_gt(rport, 0);
	const char *rlog = harness_log_new("redis");
	pid_t redis = redis_start(rport, rlog);

	const char *ci = new_db();
	char redis_env[64];
	snprintf(redis_env, sizeof(redis_env), "REDIS_URL=redis://127.0.0.1:%d/0", rport);
	const char *env[] = {db_env(ci), redis_env, NULL};
	struct e2e_server srv;
	harness_server_start(&srv, env);

	struct e2e_resp r;
	ck_assert_msg(wait_readyz(200, 2000, &r), "readyz %ld: %s", r.status, r.body.data);
	e2e_resp_free(&r);

	redis_stop(redis);
	ck_assert_msg(wait_readyz(503, 5000, &r), "readyz %ld with redis stopped: %s", r.status,
		      r.body.data);
	assert_json_error(&r, 503, "not_ready");
	json_t *want = json_pack("{s:s,s:s}", "redis", "down", "postgres", "ok");
	ck_assert_msg(json_equal(json_object_get(r.json, "checks"), want), "readyz body: %s",
		      r.body.data);
	json_decref(want);
	e2e_resp_free(&r);
	/* Liveness does not depend on Redis. */
	r = get("/healthz");
	ck_assert_int_eq(r.status, 200);
	e2e_resp_free(&r);

	/* Same port, same API process: it reconnects by itself. */
	redis = redis_start(rport, rlog);
	ck_assert_msg(wait_readyz(200, 5000, &r), "readyz %ld after redis restart: %s", r.status,
		      r.body.data);
	want = json_pack("{s:s,s:s}", "redis", "ok", "postgres", "ok");
	ck_assert_msg(json_equal(json_object_get(r.json, "checks"), want), "readyz body: %s",
		      r.body.data);
	json_decref(want);
	e2e_resp_free(&r);

	ck_assert_int_eq(stop_api(&srv), 0);
	redis_stop(redis);
}
END_TEST

/* While Redis is down, sign-in attempts are counted in the process: with
 * AUTH_RATE_LIMIT=3 per email, the fourth wrong password is refused with 429
 * and Retry-After, and so is the right one after it (no failing open). */
START_TEST(sign_in_is_rate_limited_while_redis_is_down)
{
	int rport = e2e_free_port();
	ck_assert_int_gt(rport, 0);
	pid_t redis = redis_start(rport, harness_log_new("redis"));
	const char *ci = new_db();
	struct buf err = BUF_INIT;
	int rc = run_migrate(ci, &err);
	ck_assert_msg(rc == 0, "migrate exited %d:\n%s", rc, err.data);
	buf_free(&err);
	use_db(ci);
	struct harness_account acc = {
		.email = "limited@example.com", .group = "USER", .active = true};
	harness_create_accounts(ci, &acc, 1, "Right#Pass1");

	char redis_env[64];
	snprintf(redis_env, sizeof(redis_env), "REDIS_URL=redis://127.0.0.1:%d/0", rport);
	const char *env[] = {db_env(ci), redis_env, "AUTH_RATE_LIMIT=3", "AUTH_RATE_WINDOW=600",
			     NULL};
	struct e2e_server srv;
	harness_server_start(&srv, env);
	redis_stop(redis);

	for (int i = 0; i < 3; i++)
		harness_check_coded_call(
			"POST", "/api/v1/accounts/login", NULL,
			harness_json("{s:s,s:s}", "email", acc.email, "password", "Wrong#Pass1"),
			401, "invalid_credentials");
	const char *const passwords[] = {"Wrong#Pass1", "Right#Pass1"};
	for (int i = 0; i < 2; i++) {
		struct e2e_resp r = harness_call(
			"POST", "/api/v1/accounts/login", NULL,
			harness_json("{s:s,s:s}", "email", acc.email, "password", passwords[i]));
		harness_expect_coded(&r, 429, "rate_limited");
		char retry[16];
		ck_assert_msg(e2e_header(&r, "Retry-After", retry, sizeof(retry)),
			      "429 without Retry-After");
		ck_assert_msg(atoi(retry) >= 1 && atoi(retry) <= 600, "Retry-After: %s", retry);
		e2e_resp_free(&r);
	}
	ck_assert_msg(harness_file_contains(srv.log_path, "rate limits counted in this process"),
		      "no fallback warning in the log:%s", harness_logs_tail());
	ck_assert_int_eq(stop_api(&srv), 0);
}
END_TEST

/* --- 4. bad configuration --- */

START_TEST(bad_http_port_is_one_line_and_exit_2)
{
	char *argv[] = {(char *)"cinema-api", (char *)"serve", NULL};
	const char *env[] = {"HTTP_PORT=abc", NULL};
	struct buf out = BUF_INIT, err = BUF_INIT;
	int rc = run_api(argv, env, NULL, &out, &err);
	ck_assert_msg(rc == 2, "exit %d, stderr:\n%s", rc, err.data);
	ck_assert_msg(count_lines(err.data) == 1, "want one line on stderr:\n%s", err.data);
	ck_assert_msg(strstr(err.data, "HTTP_PORT") != NULL, "stderr: %s", err.data);
	ck_assert_str_eq(out.data, "");
	buf_free(&out);
	buf_free(&err);
}
END_TEST

START_TEST(short_jwt_secret_is_refused)
{
	char *argv[] = {(char *)"cinema-api", (char *)"serve", NULL};
	const char *env[] = {"JWT_SECRET=short", NULL};
	struct buf err = BUF_INIT;
	int rc = run_api(argv, env, NULL, NULL, &err);
	ck_assert_msg(rc != 0 && rc < 128, "exit %d, stderr:\n%s", rc, err.data);
	ck_assert_msg(count_lines(err.data) == 1, "want one line on stderr:\n%s", err.data);
	ck_assert_msg(strstr(err.data, "JWT_SECRET") != NULL, "stderr: %s", err.data);
	buf_free(&err);
}
END_TEST

START_TEST(production_requires_jwt_secret)
{
	char *argv[] = {(char *)"cinema-api", (char *)"serve", NULL};
	const char *env[] = {"APP_ENV=production", NULL};
	const char *unset[] = {"JWT_SECRET", NULL};
	struct buf err = BUF_INIT;
	int rc = run_api(argv, env, unset, NULL, &err);
	ck_assert_msg(rc != 0 && rc < 128, "exit %d, stderr:\n%s", rc, err.data);
	ck_assert_msg(count_lines(err.data) == 1, "want one line on stderr:\n%s", err.data);
	ck_assert_msg(strstr(err.data, "JWT_SECRET") != NULL, "stderr: %s", err.data);
	buf_free(&err);
}
END_TEST

START_TEST(help_and_unknown_command)
{
	char *help[] = {(char *)"cinema-api", (char *)"--help", NULL};
	struct buf out = BUF_INIT, err = BUF_INIT;
	int rc = run_api(help, NULL, NULL, &out, &err);
	ck_assert_msg(rc == 0, "--help exit %d: %s", rc, err.data);
	ck_assert_msg(strstr(out.data, "DATABASE_URL") != NULL, "--help: %s", out.data);
	ck_assert_msg(strstr(out.data, "serve") && strstr(out.data, "migrate"), "--help: %s",
		      out.data);

	char *bogus[] = {(char *)"cinema-api", (char *)"bogus", NULL};
	buf_reset(&out);
	buf_reset(&err);
	rc = run_api(bogus, NULL, NULL, &out, &err);
	ck_assert_msg(rc == 2, "bogus exit %d", rc);
	ck_assert_msg(strstr(err.data, "bogus") != NULL, "stderr: %s", err.data);

	char *none[] = {(char *)"cinema-api", NULL};
	buf_reset(&err);
	rc = run_api(none, NULL, NULL, NULL, &err);
	ck_assert_msg(rc == 2, "no command: exit %d", rc);
	ck_assert_msg(strstr(err.data, "usage") != NULL, "stderr: %s", err.data);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

/* --- 5. a port already in use --- */

START_TEST(port_in_use_is_refused)
{
	struct e2e_server srv;
	harness_server_start(&srv, NULL);

	char port_env[32], want[96];
	snprintf(port_env, sizeof(port_env), "HTTP_PORT=%d", srv.port);
	snprintf(want, sizeof(want), "cinema-api: cannot listen on 127.0.0.1:%d", srv.port);
	char *argv[] = {(char *)"cinema-api", (char *)"serve", NULL};
	const char *env[] = {port_env, "HTTP_HOST=127.0.0.1", NULL};
	struct buf err = BUF_INIT;
	int rc = run_api(argv, env, NULL, NULL, &err);
	ck_assert_msg(rc != 0 && rc < 128, "second server: exit %d, stderr:\n%s", rc, err.data);
	ck_assert_msg(strstr(err.data, want) != NULL, "want \"%s\" in:\n%s", want, err.data);
	buf_free(&err);

	/* The first one is unharmed. */
	struct e2e_resp r = get("/healthz");
	ck_assert_int_eq(r.status, 200);
	e2e_resp_free(&r);
	ck_assert_int_eq(stop_api(&srv), 0);
}
END_TEST

/* --- 6. the development JWT secret --- */

/* How many lines of text hold both a and b. */
static int lines_with(const char *text, const char *a, const char *b)
{
	int n = 0;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		const char *at = memmem(p, len, a, strlen(a));
		n += at && memmem(p, len, b, strlen(b));
		p += len + (p[len] == '\n');
	}
	return n;
}

#define JWT_SECRET_FIELD "\"name\":\"JWT_SECRET\""
#define DEV_DEFAULT	 "development default"

/* Without JWT_SECRET (outside production) serve signs tokens with a key
 * anyone can read in the source: it says so once in its log, as a warning
 * naming JWT_SECRET, and never shows the key. With a secret of its own it
 * says nothing about JWT_SECRET. */
START_TEST(default_jwt_secret_is_warned)
{
	char port_env[32];
	snprintf(port_env, sizeof(port_env), "HTTP_PORT=%d", e2e_free_port());
	char *argv[] = {(char *)"cinema-api", (char *)"serve", NULL};
	const char *env[] = {port_env, "HTTP_HOST=127.0.0.1", "LOG_LEVEL=info", NULL};
	const char *unset[] = {"JWT_SECRET", "APP_ENV", NULL};
	const char *log = harness_log_new("api-dev-secret");
	pid_t pid = e2e_spawn(e2e_bin("CINEMA_API_BIN"), argv, env, unset, log);
	ck_assert_msg(pid > 0, "cannot start cinema-api serve");
	harness_track(pid);
	harness_wait_log(pid, log, "\"msg\":\"listening\"", "cinema-api serve");
	struct buf text = BUF_INIT;
	ck_assert(e2e_read_file(log, &text));
	ck_assert_msg(lines_with(text.data, JWT_SECRET_FIELD, DEV_DEFAULT) == 1,
		      "want one warning about the default JWT_SECRET in:\n%s", text.data);
	ck_assert_msg(lines_with(text.data, JWT_SECRET_FIELD, "\"level\":\"warn\"") == 1,
		      "the JWT_SECRET line is no warning:\n%s", text.data);
	ck_assert_ptr_null(strstr(text.data, "dev-only-insecure")); /* never the key itself */
	ck_assert_int_eq(harness_stop(pid, SIGTERM, E2E_STOP_MS), 0);
	buf_free(&text);

	struct e2e_server srv;
	const char *own[] = {"JWT_SECRET=e2e-own-secret-0123456789abcdef0123456789", NULL};
	harness_server_start(&srv, own);
	ck_assert(e2e_read_file(srv.log_path, &text));
	ck_assert_msg(lines_with(text.data, JWT_SECRET_FIELD, DEV_DEFAULT) == 0,
		      "warned with a secret set:\n%s", text.data);
	buf_free(&text);
	ck_assert_int_eq(stop_api(&srv), 0);
}
END_TEST

/* /metrics: Prometheus text for the holder of METRICS_TOKEN only. */
START_TEST(metrics_need_the_token)
{
	struct e2e_server srv;
	const char *env[] = {"METRICS_TOKEN=metrics-token-for-tests", NULL};
	harness_server_start(&srv, env);
	struct e2e_resp r = get("/healthz");
	e2e_resp_free(&r);
	ck_assert(e2e_request("GET", e2e_url(&srv, "/metrics"), NULL, NULL, 0, &r));
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);
	const char *const wrong[] = {"Authorization: Bearer metrics-token-for-test", NULL};
	ck_assert(e2e_request("GET", e2e_url(&srv, "/metrics"), wrong, NULL, 0, &r));
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);
	const char *const right[] = {"Authorization: Bearer metrics-token-for-tests", NULL};
	ck_assert(e2e_request("GET", e2e_url(&srv, "/metrics"), right, NULL, 0, &r));
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "cinema_http_requests_total{method=\"GET\","
						  "route=\"/healthz\",status=\"2xx\"}"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "cinema_http_request_duration_seconds_bucket"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "cinema_db_pool_connections{state=\"size\"}"));
	ck_assert_ptr_nonnull(
		strstr(r.body.data, "cinema_catalog_cache_lookups_total{result=\"hit\"} 0"));
	e2e_resp_free(&r);
	ck_assert_int_eq(stop_api(&srv), 0);

	/* Without a token the endpoint does not exist. */
	harness_server_start(&srv, NULL);
	ck_assert(e2e_request("GET", e2e_url(&srv, "/metrics"), right, NULL, 0, &r));
	ck_assert_int_eq(r.status, 404);
	e2e_resp_free(&r);
	ck_assert_int_eq(stop_api(&srv), 0);
}
END_TEST

/* The container HEALTHCHECK: exit 0 while /readyz answers 200, else 1. */
START_TEST(healthcheck_command_follows_readiness)
{
	struct e2e_server srv;
	harness_server_start(&srv, NULL);
	char port_env[32];
	snprintf(port_env, sizeof(port_env), "HTTP_PORT=%d", srv.port);
	char *argv[] = {(char *)"cinema-api", (char *)"healthcheck", NULL};
	const char *env[] = {port_env, NULL};
	ck_assert_int_eq(run_api(argv, env, NULL, NULL, NULL), 0);
	ck_assert_int_eq(stop_api(&srv), 0);
	ck_assert_int_eq(run_api(argv, env, NULL, NULL, NULL), 1);
}
END_TEST

int main(void)
{
	/* The test command always provides these; a run without them is a
	 * broken setup, not something to skip. */
	if (!harness_main_ready("e2e_test_api"))
		return 1;
	Suite *s = suite_create("e2e_api");

	TCase *tc = tcase_create("migrate");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, migrate_creates_schema_then_applies_nothing);
	tcase_add_test(tc, concurrent_migrations_apply_each_version_once);
	suite_add_tcase(s, tc);

	tc = tcase_create("serve");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, serve_answers_health_errors_and_stops_cleanly);
	tcase_add_test(tc, readyz_follows_redis_down_and_back);
	tcase_add_test(tc, sign_in_is_rate_limited_while_redis_is_down);
	tcase_add_test(tc, port_in_use_is_refused);
	tcase_add_test(tc, healthcheck_command_follows_readiness);
	tcase_add_test(tc, metrics_need_the_token);
	tcase_add_test(tc, default_jwt_secret_is_warned);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, bad_http_port_is_one_line_and_exit_2);
	tcase_add_test(tc, short_jwt_secret_is_refused);
	tcase_add_test(tc, production_requires_jwt_secret);
	tcase_add_test(tc, help_and_unknown_command);
	suite_add_tcase(s, tc);

	return harness_run(s);
}
