/* One slow dependency stalls nothing else: the real cinema-api with its
 * Stripe or S3 pointed at a socket that accepts and never answers, or with
 * statements that sleep in PostgreSQL, while the catalog and /healthz are
 * probed. Also: uploads judged on their headers keep memory flat.
 *
 * Every bound here is a generous "does not hang" bound (seconds against
 * answers that take milliseconds), never a speed claim. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define REDIS_DB	 9
#define DEP_TIMEOUT_MS	 3000 /* STRIPE_TIMEOUT_MS and S3_TIMEOUT_MS here */
#define QUEUE_TIMEOUT_MS 2000 /* HTTP_QUEUE_TIMEOUT_MS here */
#define PROBE_BOUND_MS	 1000 /* a probe answered later than this stalled */
#define CALLERS		 40

static struct {
	char *ci;
	PGconn *pg;
	char redis_url[256];
	char jwt_secret[80];
	struct e2e_server srv;
	struct harness_env env;
	int black_hole; /* listening socket that never accepts */
	int black_hole_port;
} w;

static void setup(void)
{
	static const char *const required[] = {"DATABASE_URL", "REDIS_URL", "CINEMA_API_BIN",
					       "MIGRATIONS_DIR", NULL};
	harness_require_env(required);
	memset(&w, 0, sizeof(w));
	w.black_hole = -1;
	harness_begin("stall");
	harness_redis_claim(w.redis_url, sizeof(w.redis_url), REDIS_DB);
	harness_secret(w.jwt_secret, sizeof(w.jwt_secret), "stall-test");
	w.ci = harness_db_open(&w.pg);
	harness_sql_ok("UPDATE scheduler_runs SET last_run_at = now()");
}

static void teardown(void)
{
	harness_end();
	if (w.black_hole >= 0)
		close(w.black_hole);
	harness_db_close(w.ci, w.pg);
	if (w.redis_url[0])
		harness_redis_flush(w.redis_url);
	memset(&w, 0, sizeof(w));
}

/* A port whose connections complete (the kernel's backlog) and then never
 * hear a word: a dependency that hangs. */
static void black_hole_open(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	w.black_hole = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(w.black_hole, 0);
	ck_assert_int_eq(bind(w.black_hole, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(w.black_hole, 256), 0);
	ck_assert_int_eq(getsockname(w.black_hole, (struct sockaddr *)&a, &len), 0);
	w.black_hole_port = ntohs(a.sin_port);
}

static void env_base(void)
{
	memset(&w.env, 0, sizeof(w.env));
	harness_env_set(&w.env, "DATABASE_URL=%s", w.ci);
	harness_env_set(&w.env, "REDIS_URL=%s", w.redis_url);
	harness_env_set(&w.env, "JWT_SECRET=%s", w.jwt_secret);
	harness_env_set(&w.env, "AUTH_RATE_LIMIT=100000");
	harness_env_set(&w.env, "HTTP_QUEUE_TIMEOUT_MS=%d", QUEUE_TIMEOUT_MS);
	harness_env_set(&w.env, "CATALOG_CACHE_TTL_MS=0"); /* every list reads the database */
}

/* A moderator, a buyer, one movie; answers the movie id. */
static long long catalog_and_users(struct harness_user *u)
{
	harness_create_users(w.ci, u, 2, "Stall#2024pw");
	struct e2e_resp r = harness_call("POST", "/api/v1/genres", u[0].access,
					 harness_json("{s:s}", "name", "Noir"));
	harness_expect_coded(&r, 201, NULL);
	json_int_t genre = json_integer_value(json_object_get(r.json, "id"));
	e2e_resp_free(&r);
	r = harness_call("POST", "/api/v1/certifications", u[0].access,
			 harness_json("{s:s}", "name", "PG"));
	harness_expect_coded(&r, 201, NULL);
	json_int_t cert = json_integer_value(json_object_get(r.json, "id"));
	e2e_resp_free(&r);
	r = harness_call("POST", "/api/v1/movies", u[0].access,
			 harness_json("{s:s,s:i,s:i,s:f,s:i,s:s,s:s,s:I,s:[I]}", "name",
				      "The Long Wait", "year", 1950, "time", 95, "imdb", 7.5,
				      "votes", 900, "description", "Nothing happens, slowly.",
				      "price", "4.99", "certification_id", cert, "genre_ids",
				      genre));
	harness_expect_coded(&r, 201, NULL);
	long long movie = json_integer_value(json_object_get(r.json, "id"));
	e2e_resp_free(&r);
	return movie;
}

/* --- callers on threads (plain e2e_request: the harness is not thread-safe) --- */

struct caller {
	pthread_t t;
	char url[256];
	char auth[2100];
	const char *method, *content_type;
	const char *body;
	size_t len;
	long long took_ms;
	bool ok;
	struct e2e_resp r;
};

static void *caller_main(void *arg)
{
	struct caller *c = arg;
	char ct[128];
	snprintf(ct, sizeof(ct), "Content-Type: %s", c->content_type);
	const char *const h[] = {c->auth, ct, NULL};
	long long t0 = harness_now_ms();
	c->ok = e2e_request(c->method, c->url, h, c->body, c->len, &c->r);
	c->took_ms = harness_now_ms() - t0;
	return NULL;
}

static void callers_start(struct caller *c, int n, const char *method, const char *path,
			  const char *bearer, const char *content_type, const char *body,
			  size_t len)
{
	for (int i = 0; i < n; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		snprintf(c[i].url, sizeof(c[i].url), "%s%s", w.srv.base_url, path);
		snprintf(c[i].auth, sizeof(c[i].auth), "Authorization: Bearer %s", bearer);
		c[i].method = method;
		c[i].content_type = content_type;
		c[i].body = body;
		c[i].len = len;
		ck_assert_int_eq(pthread_create(&c[i].t, NULL, caller_main, &c[i]), 0);
	}
}

/* Probes /healthz, a movie list and the movie until the callers are done
 * (or for at least min_ms): every probe must be answered 200 within
 * PROBE_BOUND_MS. Returns how many probes were made. */
static int probe_while(long long movie, long long min_ms, volatile int *done)
{
	const char *paths[] = {"/healthz", "/api/v1/movies?sort=-year",
			       harness_fmt("/api/v1/movies/%lld", movie)};
	long long start = harness_now_ms();
	int n = 0;
	while (!*done || harness_now_ms() - start < min_ms) {
		for (size_t i = 0; i < 3; i++) {
			long long t0 = harness_now_ms();
			struct e2e_resp r = harness_raw("GET", paths[i], NULL, NULL, 0);
			long long took = harness_now_ms() - t0;
			ck_assert_msg(r.status == 200, "probe %s answered %ld: %s", paths[i],
				      r.status, r.body.data ? r.body.data : "");
			ck_assert_msg(took < PROBE_BOUND_MS,
				      "probe %s took %lld ms while a dependency hung\n%s", paths[i],
				      took, harness_logs_tail());
			e2e_resp_free(&r);
			n++;
		}
		harness_sleep_ms(50);
		if (harness_now_ms() - start > 60000)
			break;
	}
	return n;
}

struct joiner {
	struct caller *c;
	int n;
	volatile int done;
};

static void *join_all(void *arg)
{
	struct joiner *j = arg;
	for (int i = 0; i < j->n; i++)
		pthread_join(j->c[i].t, NULL);
	j->done = 1;
	return NULL;
}

/* Waits for the n callers started in c while probing (probe_while), and
 * asserts that there were probes. */
static void callers_join_probing(struct caller *c, int n, long long movie, long long min_ms)
{
	struct joiner j = {c, n, 0};
	pthread_t jt;
	pthread_create(&jt, NULL, join_all, &j);
	int probes = probe_while(movie, min_ms, &j.done);
	pthread_join(jt, NULL);
	ck_assert_int_gt(probes, 10);
}

/* Every caller ended with one of the statuses in allowed (NULL-terminated
 * list of three-digit codes) within bound_ms; frees their responses. */
static void callers_check(struct caller *c, int n, const long *allowed, long long bound_ms)
{
	for (int i = 0; i < n; i++) {
		ck_assert_msg(c[i].ok, "caller %d: no answer", i);
		bool good = false;
		for (const long *a = allowed; *a; a++)
			good |= c[i].r.status == *a;
		ck_assert_msg(good, "caller %d answered %ld: %s", i, c[i].r.status,
			      c[i].r.body.data ? c[i].r.body.data : "");
		ck_assert_msg(c[i].took_ms < bound_ms, "caller %d took %lld ms (bound %lld)", i,
			      c[i].took_ms, bound_ms);
		e2e_resp_free(&c[i].r);
	}
}

START_TEST(hanging_stripe_stalls_nothing_else)
{
	black_hole_open();
	env_base();
	harness_env_set(&w.env, "STRIPE_API_BASE=http://127.0.0.1:%d", w.black_hole_port);
	harness_env_set(&w.env, "STRIPE_SECRET_KEY=sk_test_black_hole");
	harness_env_set(&w.env, "STRIPE_WEBHOOK_SECRET=whsec_black_hole");
	harness_env_set(&w.env, "STRIPE_TIMEOUT_MS=%d", DEP_TIMEOUT_MS);
	harness_server_start(&w.srv, w.env.p);
	struct harness_user u[] = {{harness_unique_email("mod"), "MODERATOR", 0, ""},
				   {harness_unique_email("buyer"), "USER", 0, ""}};
	long long movie = catalog_and_users(u);
	harness_check_coded_call("POST", "/api/v1/cart/items", u[1].access,
				 harness_json("{s:I}", "movie_id", (json_int_t)movie), 201, NULL);
	struct e2e_resp r = harness_call("POST", "/api/v1/orders", u[1].access, NULL);
	harness_expect_coded(&r, 201, NULL);
	long long order =
		json_integer_value(json_object_get(json_object_get(r.json, "order"), "id"));
	e2e_resp_free(&r);

	static struct caller c[CALLERS];
	callers_start(c, CALLERS, "POST", harness_fmt("/api/v1/orders/%lld/checkout", order),
		      u[1].access, "application/json", NULL, 0);
	callers_join_probing(c, CALLERS, movie, DEP_TIMEOUT_MS);
	/* Stripe's timeout → 502/503; the queue's → 503 overloaded. None waits
	 * much past its own timeout plus its wait in the queue. */
	static const long allowed[] = {502, 503, 0};
	callers_check(c, CALLERS, allowed, DEP_TIMEOUT_MS + QUEUE_TIMEOUT_MS + 5000);
	/* The order is still pending and can be paid once Stripe is back. */
	char *status = harness_sql_value(
		harness_fmt("SELECT status::text FROM orders WHERE id = %lld", order));
	ck_assert_str_eq(status, "pending");
	free(status);
}
END_TEST

START_TEST(hanging_s3_stalls_nothing_else)
{
	black_hole_open();
	env_base();
	harness_env_set(&w.env, "S3_ENDPOINT=http://127.0.0.1:%d", w.black_hole_port);
	harness_env_set(&w.env, "S3_ACCESS_KEY=black-hole");
	harness_env_set(&w.env, "S3_SECRET_KEY=black-hole-secret");
	harness_env_set(&w.env, "S3_BUCKET=avatars");
	harness_env_set(&w.env, "S3_TIMEOUT_MS=%d", DEP_TIMEOUT_MS);
	harness_server_start(&w.srv, w.env.p);
	struct harness_user u[] = {{harness_unique_email("mod"), "MODERATOR", 0, ""},
				   {harness_unique_email("user"), "USER", 0, ""}};
	long long movie = catalog_and_users(u);

	/* A valid PNG header is all the sniffer needs. */
	static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\x08\x06\0\0\0"
				  "\x1f\x15\xc4\x89\0\0\0\nIDATx\x9c"
				  "c\0\1\0\0\5\0\1\r\n-\xb4\0\0\0\0IEND\xae"
				  "B`\x82";
	enum { N = 12 };
	static struct caller c[N];
	callers_start(c, N, "PUT", "/api/v1/accounts/me/avatar", u[1].access, "image/png", png,
		      sizeof(png) - 1);
	callers_join_probing(c, N, movie, DEP_TIMEOUT_MS);
	static const long allowed[] = {502, 503, 0};
	callers_check(c, N, allowed, DEP_TIMEOUT_MS + QUEUE_TIMEOUT_MS + 5000);
}
END_TEST

START_TEST(slow_statements_stall_nothing_else)
{
	env_base();
	harness_server_start(&w.srv, w.env.p);
	struct harness_user u[] = {{harness_unique_email("mod"), "MODERATOR", 0, ""},
				   {harness_unique_email("fan"), "USER", 0, ""}};
	long long movie = catalog_and_users(u);
	/* Each new comment now holds its statement for 3 s in PostgreSQL. */
	harness_sql_ok("CREATE FUNCTION stall_test_sleep() RETURNS trigger LANGUAGE plpgsql AS "
		       "$$ BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$");
	harness_sql_ok("CREATE TRIGGER stall_test BEFORE INSERT ON comments FOR EACH ROW "
		       "EXECUTE FUNCTION stall_test_sleep()");
	enum { N = 6 };
	static struct caller c[N];
	const char *body = "{\"text\":\"Worth the wait.\"}";
	callers_start(c, N, "POST", harness_fmt("/api/v1/movies/%lld/comments", movie), u[1].access,
		      "application/json", body, strlen(body));
	callers_join_probing(c, N, movie, 2000);
	static const long allowed[] = {201, 0};
	callers_check(c, N, allowed, 3000 + 10000);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM comments"), N);
}
END_TEST

/* VmHWM (peak resident memory) of pid, in KiB; -1 if unknown. */
static long peak_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

START_TEST(a_thousand_anonymous_uploads_keep_memory_flat)
{
	enum { N = 1000 };
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < N + 200 && rl.rlim_max >= N + 200) {
		rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	ck_assert_msg(rl.rlim_cur >= N + 200, "needs %d open files, limit %ld", N + 200,
		      (long)rl.rlim_cur);
	env_base();
	harness_env_set(&w.env, "HTTP_CONNECTION_LIMIT=%d", N + 100);
	harness_env_set(&w.env, "HTTP_PER_IP_LIMIT=%d", N + 100);
	harness_server_start(&w.srv, w.env.p);

	/* Each client announces 20 MB and starts sending it, all at once. */
	static int fd[N];
	static char chunk[64 * 1024];
	memset(chunk, 'x', sizeof(chunk));
	const char *head = "PUT /api/v1/accounts/me/avatar HTTP/1.1\r\nHost: t\r\n"
			   "Content-Type: image/png\r\nContent-Length: 20000000\r\n\r\n";
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)w.srv.port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	for (int i = 0; i < N; i++) {
		fd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(fd[i], 0);
		ck_assert_msg(connect(fd[i], (struct sockaddr *)&a, sizeof(a)) == 0,
			      "connect %d: %s", i, strerror(errno));
		ck_assert(send(fd[i], head, strlen(head), MSG_NOSIGNAL) == (ssize_t)strlen(head));
		fcntl(fd[i], F_SETFL, O_NONBLOCK);
		(void)!send(fd[i], chunk, sizeof(chunk), MSG_NOSIGNAL);
	}
	/* Every one gets its 401 (read as the server sent it, no reset). */
	int answered = 0;
	long long deadline = harness_now_ms() + 30000;
	static bool got[N];
	while (answered < N && harness_now_ms() < deadline) {
		for (int i = 0; i < N; i++) {
			if (got[i])
				continue;
			char buf[512];
			ssize_t n = recv(fd[i], buf, sizeof(buf) - 1, 0);
			if (n > 0) {
				buf[n] = '\0';
				ck_assert_msg(strncmp(buf, "HTTP/1.1 401", 12) == 0,
					      "client %d got: %.60s", i, buf);
				got[i] = true;
				answered++;
			} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
				ck_abort_msg("client %d: connection ended without an answer (%s)",
					     i, n == 0 ? "closed" : strerror(errno));
			}
		}
		harness_sleep_ms(10);
	}
	ck_assert_int_eq(answered, N);
	long kib = peak_rss_kib(w.srv.pid);
	for (int i = 0; i < N; i++)
		close(fd[i]);
	printf("peak RSS with %d concurrent 20 MB anonymous uploads: %ld KiB\n", N, kib);
	ck_assert_int_gt(kib, 0);
	ck_assert_msg(kib < 100 * 1024, "peak RSS %ld KiB", kib);
}
END_TEST

int main(void)
{
	if (!harness_main_ready("e2e_test_stall"))
		return 1;
	Suite *s = suite_create("stall");
	TCase *tc = tcase_create("stall");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, hanging_stripe_stalls_nothing_else);
	tcase_add_test(tc, hanging_s3_stalls_nothing_else);
	tcase_add_test(tc, slow_statements_stall_nothing_else);
	tcase_add_test(tc, a_thousand_anonymous_uploads_keep_memory_flat);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
