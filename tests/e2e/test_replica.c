/* End-to-end test of the read replica (DATABASE_READ_URL, docs/SCALING.md,
 * "Read replica"): a PostgreSQL primary and a real streaming standby of it
 * (pg_basebackup -R), `cinema-api serve` reading the public catalog on the
 * standby and everything else on the primary, and a redis-server of its own.
 *
 * What it proves, with WAL replay on the standby paused (so the standby is
 * a known distance behind, without sleeping): a moderator reads the movie
 * and the genre that they have just created, a signed-in user sees their
 * own like in `me`, while anonymous callers are answered by the standby and
 * do not see them yet; after replay resumes they do. Then, with the standby
 * stopped, anonymous reads are answered by the primary, /readyz stays ready
 * (and says the replica is down), and that is logged once, not per request;
 * started again, it is tried again after the back-off and answers the
 * public reads once more (logged once too).
 * Without DATABASE_READ_URL nothing changes: every other suite runs so.
 *
 * Needs PG_BIN_DIR (scripts/test.sh exports it; else the newest server under
 * /usr/lib/postgresql), redis-server on PATH, and CINEMA_API_BIN,
 * CINEMA_SOURCE_DIR, TEMPLATES_DIR, MIGRATIONS_DIR (set by CTest). It uses
 * neither DATABASE_URL's server nor the shared test Redis (whose sixteen
 * database numbers the other suites own).
 *
 * Cleanup: the two PostgreSQL servers are started by the unchecked fixture
 * (tests/support/pg_replica.sh, in the test runner's own process) and its
 * teardown stops them and removes their directory whether the test passed
 * or not; the API and redis-server are children of the test, stopped by the
 * checked teardown (or, when an assertion ends the test process, killed with
 * its process group by check). */
#include <arpa/inet.h>
#include <check.h>
#include <jansson.h>
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

#define PASSWORD     "Replica#2026pw"
#define METRICS	     "metrics-token-of-the-replica-test"
#define SEARCH_WORD  "quuxreplica"
#define REPLICA_WAIT 20000L /* generous bound of every "eventually" here */

/* The clusters: made by the unchecked setup, in the runner process. */
static char cluster_dir[64];
static int primary_port, standby_port;

/* The running test; the checked teardown ends all of it. */
static struct {
	char primary[128], standby[128]; /* conninfo */
	PGconn *pg, *sb;		 /* connections to the primary and the standby */
	pid_t redis;
	char redis_url[64];
	char jwt_secret[80];
	struct e2e_server srv;
	struct harness_user u[2]; /* a moderator and a user */
} w;

/* --- the clusters (unchecked fixture) --- */

static const char *cluster_script(void)
{
	static char path[512];
	const char *src = getenv("CINEMA_SOURCE_DIR");
	snprintf(path, sizeof(path), "%s/tests/support/pg_replica.sh", src ? src : ".");
	return path;
}

/* Runs pg_replica.sh cmd on cluster_dir; answers its exit status. */
static int cluster(const char *cmd, struct buf *out, struct buf *err)
{
	char *argv[] = {(char *)"bash", (char *)cluster_script(), (char *)cmd, cluster_dir, NULL};
	return e2e_run_capture("bash", argv, NULL, NULL, 120, out, err);
}

static void clusters_start(void)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	snprintf(cluster_dir, sizeof(cluster_dir), "/tmp/cinema-replica-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(cluster_dir));
	int rc = cluster("start", &out, &err);
	ck_assert_msg(rc == 0 && out.data &&
			      sscanf(out.data, "%d %d", &primary_port, &standby_port) == 2,
		      "pg_replica.sh start exited %d: %s", rc, err.data ? err.data : "");
	buf_free(&out);
	buf_free(&err);
}

static void clusters_stop(void)
{
	if (!cluster_dir[0])
		return;
	cluster("stop", NULL, NULL);
	harness_remove_dir(cluster_dir);
	cluster_dir[0] = '\0';
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

/* Starts redis-server on a free port without persistence, tracked by the
 * harness, and waits until it answers (up to 5 s). */
static void redis_start(void)
{
	int port = e2e_free_port();
	ck_assert_int_gt(port, 0);
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
	w.redis = e2e_spawn("redis-server", argv, NULL, NULL, harness_log_new("redis"));
	ck_assert_msg(w.redis > 0, "cannot start redis-server");
	harness_track(w.redis);
	snprintf(w.redis_url, sizeof(w.redis_url), "redis://127.0.0.1:%d/0", port);
	for (int i = 0; i < 100; i++) {
		if (redis_ping(port))
			return;
		harness_assert_alive(w.redis, "redis-server (is it on PATH?)");
		harness_sleep_ms(50);
	}
	ck_abort_msg("redis-server on port %d did not answer within 5 s", port);
}

/* --- SQL on either server --- */

static PGconn *connect_to(const char *ci)
{
	PGconn *c = PQconnectdb(ci);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect %s: %s", ci, PQerrorMessage(c));
	return c;
}

/* The single value of sql on c (owned; "NULL" for SQL NULL). */
static char *sql_value(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1, "%s: %s", sql,
		      PQerrorMessage(c));
	char *v = strdup(PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static bool sql_true(PGconn *c, const char *sql)
{
	char *v = sql_value(c, sql);
	bool t = strcmp(v, "t") == 0;
	free(v);
	return t;
}

/* Waits until the standby has replayed everything the primary has written
 * so far (the insert position: commits here are asynchronous, so the write
 * position may not include them yet). */
static void standby_catch_up(void)
{
	char *lsn = sql_value(w.pg, "SELECT pg_current_wal_insert_lsn()");
	const char *q = harness_fmt("SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn", lsn);
	long long until = harness_now_ms() + REPLICA_WAIT;
	while (!sql_true(w.sb, q)) {
		ck_assert_msg(harness_now_ms() < until, "the standby did not reach %s", lsn);
		harness_sleep_ms(HARNESS_POLL_MS);
	}
	free(lsn);
}

static void replay_pause(void)
{
	free(sql_value(w.sb, "SELECT pg_wal_replay_pause()"));
	long long until = harness_now_ms() + REPLICA_WAIT;
	while (!sql_true(w.sb, "SELECT pg_get_wal_replay_pause_state() = 'paused'")) {
		ck_assert_msg(harness_now_ms() < until, "WAL replay did not pause");
		harness_sleep_ms(HARNESS_POLL_MS);
	}
}

/* --- HTTP --- */

static long status_of(const char *path, const char *bearer)
{
	struct e2e_resp r = harness_request("GET", path, bearer, NULL, NULL);
	long s = r.status;
	e2e_resp_free(&r);
	return s;
}

/* total_items of GET path as bearer (asserts 200). */
static long long list_total(const char *path, const char *bearer)
{
	json_t *j = harness_get_json(path, bearer);
	long long n = json_integer_value(json_object_get(j, "total_items"));
	json_decref(j);
	return n;
}

static long long create(const char *path, json_t *body)
{
	struct e2e_resp r = harness_call("POST", path, w.u[0].access, body);
	harness_expect_coded(&r, 201, NULL);
	long long id = json_integer_value(json_object_get(r.json, "id"));
	e2e_resp_free(&r);
	ck_assert_int_gt(id, 0);
	return id;
}

/* Runs pg_replica.sh cmd (stop-standby, start-standby) from the test. */
static void standby(const char *cmd)
{
	struct buf err = BUF_INIT;
	char *argv[] = {(char *)"bash", (char *)cluster_script(), (char *)cmd, cluster_dir, NULL};
	int rc = e2e_run_capture("bash", argv, NULL, NULL, 60, NULL, &err);
	ck_assert_msg(rc == 0, "pg_replica.sh %s exited %d: %s", cmd, rc, err.data ? err.data : "");
	buf_free(&err);
}

/* Counts the lines of the server's log that contain needle. */
static int log_count(const char *needle)
{
	struct buf b = BUF_INIT;
	ck_assert(e2e_read_file(w.srv.log_path, &b));
	int n = 0;
	for (const char *p = b.data ? b.data : ""; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	buf_free(&b);
	return n;
}

/* cinema_db_read_fallbacks_total of /metrics, or -1. */
static long long fallbacks(void)
{
	const char *auth[] = {"Authorization: Bearer " METRICS, NULL};
	struct e2e_resp r = harness_raw("GET", "/metrics", auth, NULL, 0);
	const char *fb = strstr(r.body.data, "\ncinema_db_read_fallbacks_total ");
	long long n = fb ? atoll(fb + strlen("\ncinema_db_read_fallbacks_total ")) : -1;
	e2e_resp_free(&r);
	return n;
}

/* --- fixtures --- */

static void setup(void)
{
	memset(&w, 0, sizeof(w));
	harness_begin("replica");
	harness_set_wait_ms(REPLICA_WAIT);
	ck_assert_msg(primary_port > 0 && standby_port > 0, "the clusters did not start");
	snprintf(w.primary, sizeof(w.primary), "postgresql://cinema@127.0.0.1:%d/cinema",
		 primary_port);
	snprintf(w.standby, sizeof(w.standby), "postgresql://cinema@127.0.0.1:%d/cinema",
		 standby_port);
	harness_migrate(w.primary);
	w.pg = connect_to(w.primary);
	w.sb = connect_to(w.standby);
	harness_use_db(w.pg);
	redis_start();
	harness_secret(w.jwt_secret, sizeof(w.jwt_secret), "jwt");

	struct harness_env e = {0};
	harness_env_set(&e, "DATABASE_URL=%s", w.primary);
	harness_env_set(&e, "DATABASE_READ_URL=%s", w.standby);
	harness_env_set(&e, "DB_READ_POOL_SIZE=4");
	harness_env_set(&e, "DB_CONNECT_TIMEOUT=2");
	harness_env_set(&e, "REDIS_URL=%s", w.redis_url);
	harness_env_set(&e, "JWT_SECRET=%s", w.jwt_secret);
	harness_env_set(&e, "AUTH_RATE_LIMIT=100000");
	harness_env_set(&e, "METRICS_TOKEN=%s", METRICS);
	harness_env_set(&e, "CATALOG_CACHE_TTL_MS=200"); /* the cache on, and short */
	harness_env_set(&e, "TEMPLATES_DIR=%s", getenv("TEMPLATES_DIR"));
	harness_server_start(&w.srv, e.p);

	w.u[0].email = harness_unique_email("mod");
	w.u[0].group = "MODERATOR";
	w.u[1].email = harness_unique_email("user");
	w.u[1].group = "USER";
	harness_create_users(w.primary, w.u, 2, PASSWORD);
}

static void teardown(void)
{
	harness_end();
	if (w.sb)
		PQfinish(w.sb);
	if (w.pg)
		PQfinish(w.pg);
}

/* --- the test --- */

/* The likes an anonymous caller sees on the movie at path, -1 when it
 * cannot be read. */
static long long likes_of(const char *path)
{
	struct e2e_resp r = harness_call("GET", path, NULL, NULL);
	long long n = r.status == 200 ? json_integer_value(json_object_get(r.json, "likes")) : -1;
	e2e_resp_free(&r);
	return n;
}

START_TEST(public_reads_go_to_the_replica_own_reads_to_the_primary)
{
	const char *mod = w.u[0].access, *user = w.u[1].access;
	long long cert = create("/api/v1/certifications", harness_json("{s:s}", "name", "PG-13"));
	long long genre = create("/api/v1/genres", harness_json("{s:s}", "name", "Drama"));
	standby_catch_up();
	/* The standby has everything so far: an anonymous caller sees it. */
	ck_assert_int_eq(status_of(harness_fmt("/api/v1/genres/%lld", genre), NULL), 200);

	/* 1. Replay paused: the moderator's new movie and genre are on the
	 * primary only, and the moderator reads them at once. */
	replay_pause();
	long long movie = create(
		"/api/v1/movies",
		harness_json("{s:s,s:i,s:i,s:f,s:i,s:s,s:s,s:I,s:[I]}", "name",
			     "The " SEARCH_WORD " Lag", "year", 2001, "time", 101, "imdb", 7.1,
			     "votes", 1200, "description", "Behind, by design.", "price", "3.99",
			     "certification_id", (json_int_t)cert, "genre_ids", (json_int_t)genre));
	long long late_genre = create("/api/v1/genres", harness_json("{s:s}", "name", "Lagging"));
	char movie_path[64], genre_path[64]; /* harness_fmt's buffers rotate */
	snprintf(movie_path, sizeof(movie_path), "/api/v1/movies/%lld", movie);
	snprintf(genre_path, sizeof(genre_path), "/api/v1/genres/%lld", late_genre);
	const char *search = "/api/v1/movies?search=" SEARCH_WORD;
	ck_assert_int_eq(status_of(movie_path, mod), 200);
	ck_assert_int_eq(status_of(genre_path, mod), 200);
	ck_assert_int_eq(list_total(search, mod), 1);

	/* 2. Anonymous callers are answered by the paused standby: not yet. */
	ck_assert(
		sql_true(w.sb, harness_fmt("SELECT NOT EXISTS (SELECT FROM movies WHERE id = %lld)",
					   movie)));
	ck_assert_int_eq(status_of(movie_path, NULL), 404);
	ck_assert_int_eq(status_of(genre_path, NULL), 404);
	ck_assert_int_eq(list_total(search, NULL), 0);

	/* 3. A signed-in user's like shows in their own `me` at once. */
	harness_check_call("PUT", harness_fmt("%s/reaction", movie_path), user,
			   harness_json("{s:s}", "reaction", "like"), 204, NULL);
	json_t *m = harness_get_json(movie_path, user);
	json_t *me = json_object_get(m, "me");
	ck_assert_ptr_nonnull(me);
	ck_assert_str_eq(json_string_value(json_object_get(me, "reaction")), "like");
	ck_assert_int_eq(json_integer_value(json_object_get(m, "likes")), 1);
	json_decref(m);
	/* Still behind for everyone else. */
	ck_assert_int_eq(status_of(movie_path, NULL), 404);

	/* Replay resumes: anonymous callers catch up. */
	free(sql_value(w.sb, "SELECT pg_wal_replay_resume()"));
	long long until = harness_now_ms() + REPLICA_WAIT;
	/* (the like is a later WAL record than the movie: wait for both) */
	while (status_of(movie_path, NULL) != 200 || list_total(search, NULL) != 1 ||
	       status_of(genre_path, NULL) != 200 || likes_of(movie_path) != 1) {
		ck_assert_msg(harness_now_ms() < until,
			      "anonymous reads did not see the movie after replay resumed");
		harness_sleep_ms(HARNESS_POLL_MS);
	}
	ck_assert_int_eq(log_count("\"database down"), 0);

	/* 4. The standby stops: anonymous reads fall back to the primary. */
	standby("stop-standby");
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(status_of(movie_path, NULL), 200);
		ck_assert_int_eq(status_of(genre_path, NULL), 200);
		/* A page never asked before: not in the list cache. */
		ck_assert_int_eq(
			list_total(harness_fmt("%s&page=1&per_page=%d", search, 30 + i), NULL), 1);
	}
	json_t *ready = harness_get_json("/readyz", NULL);
	json_t *checks = json_object_get(ready, "checks");
	ck_assert_str_eq(json_string_value(json_object_get(ready, "status")), "ready");
	ck_assert_str_eq(json_string_value(json_object_get(checks, "postgres")), "ok");
	ck_assert_str_eq(json_string_value(json_object_get(checks, "postgres_replica")), "down");
	json_decref(ready);

	const char *auth[] = {"Authorization: Bearer " METRICS, NULL};
	struct e2e_resp r = harness_raw("GET", "/metrics", auth, NULL, 0);
	harness_expect(&r, 200, NULL);
	ck_assert_ptr_nonnull(strstr(r.body.data, "cinema_db_read_replica_up 0\n"));
	ck_assert_ptr_nonnull(
		strstr(r.body.data, "cinema_db_read_pool_connections{state=\"size\"} 4\n"));
	e2e_resp_free(&r);
	/* Each of those 60 reads went to the primary. */
	long long fell = fallbacks();
	ck_assert_int_ge(fell, 60);
	/* Logged when the replica went down, not for each of those reads. */
	ck_assert_int_eq(log_count("\"database down"), 1);

	/* 5. The standby comes back: within a back-off or so, a read tries it,
	 * and public reads are its again. */
	standby("start-standby");
	until = harness_now_ms() + REPLICA_WAIT;
	for (;;) {
		ck_assert_int_eq(status_of(movie_path, NULL), 200);
		ready = harness_get_json("/readyz", NULL);
		const char *rs = json_string_value(
			json_object_get(json_object_get(ready, "checks"), "postgres_replica"));
		bool up = rs && strcmp(rs, "ok") == 0;
		json_decref(ready);
		if (up)
			break;
		ck_assert_msg(harness_now_ms() < until, "the read pool did not come back up");
		harness_sleep_ms(HARNESS_POLL_MS);
	}
	ck_assert_int_eq(log_count("\"database back up"), 1);
	fell = fallbacks();
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(status_of(movie_path, NULL), 200);
	ck_assert_int_eq(fallbacks(), fell);
}
END_TEST

int main(void)
{
	if (!harness_main_ready("e2e_test_replica"))
		return 1;
	Suite *s = suite_create("e2e_replica");
	TCase *tc = tcase_create("replica");
	tcase_add_unchecked_fixture(tc, clusters_start, clusters_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, public_reads_go_to_the_replica_own_reads_to_the_primary);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
