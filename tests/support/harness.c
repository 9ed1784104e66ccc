/* The shared end-to-end harness; see harness.h. */
#include "harness.h"

#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <ftw.h>
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
#include "testdb.h"

#define MAX_CHILDREN 12
#define MAX_LOGS     12
#define MAX_SERVERS  4

/* The running test; reset by harness_begin and harness_end. */
static struct {
	char tag[32];
	long wait_ms;
	pid_t children[MAX_CHILDREN];
	char logs[MAX_LOGS][256];
	struct e2e_server *srv;			 /* borrowed: the server of harness_raw */
	struct e2e_server *servers[MAX_SERVERS]; /* borrowed: every one started */
	PGconn *pg;				 /* borrowed */
	unsigned seq;				 /* for harness_unique_email */
} h;

void harness_begin(const char *tag)
{
	memset(&h, 0, sizeof(h));
	snprintf(h.tag, sizeof(h.tag), "%s", tag);
	h.wait_ms = HARNESS_WAIT_MS;
}

/* Reaps pid if it has exited (true), without waiting. */
static bool reaped(pid_t pid, int *status)
{
	pid_t w;
	do
		w = waitpid(pid, status, WNOHANG);
	while (w < 0 && errno == EINTR);
	return w == pid || (w < 0 && errno == ECHILD);
}

/* Sends SIGTERM to every pid of pids (n of them, <= 0 skipped), waits up to
 * HARNESS_STOP_MS in all for them to exit, then SIGKILLs and reaps the rest.
 * A child that exits by itself writes its coverage data (gcov); one killed
 * outright does not. */
static void stop_all(pid_t *pids, int n)
{
	int status;
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	long long deadline = harness_now_ms() + HARNESS_STOP_MS;
	for (;;) {
		int left = 0;
		for (int i = 0; i < n; i++) {
			if (pids[i] <= 0)
				continue;
			if (reaped(pids[i], &status))
				pids[i] = 0;
			else
				left++;
		}
		if (left == 0 || harness_now_ms() > deadline)
			break;
		harness_sleep_ms(20);
	}
	for (int i = 0; i < n; i++) {
		if (pids[i] <= 0)
			continue;
		kill(pids[i], SIGKILL);
		e2e_wait(pids[i]);
		pids[i] = 0;
	}
}

void harness_end(void)
{
	stop_all(h.children, MAX_CHILDREN);
	for (int i = 0; i < MAX_SERVERS; i++)
		if (h.servers[i] && h.servers[i]->log_path[0])
			unlink(h.servers[i]->log_path);
	for (int i = 0; i < MAX_LOGS; i++)
		if (h.logs[i][0])
			unlink(h.logs[i]);
	char tag[sizeof(h.tag)];
	memcpy(tag, h.tag, sizeof(tag));
	harness_begin(tag);
}

void harness_set_wait_ms(long ms)
{
	h.wait_ms = ms;
}

void harness_track(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (h.children[i] <= 0) {
			h.children[i] = pid;
			return;
		}
	stop_all(&pid, 1);
	ck_abort_msg("too many child processes in one test");
}

void harness_untrack(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (h.children[i] == pid)
			h.children[i] = 0;
}

const char *harness_log_new(const char *what)
{
	char tag[sizeof(h.tag)]; /* h.tag and h.logs are one object for snprintf */
	memcpy(tag, h.tag, sizeof(tag));
	for (int i = 0; i < MAX_LOGS; i++)
		if (!h.logs[i][0]) {
			snprintf(h.logs[i], sizeof(h.logs[i]), "/tmp/cinema-%s-%ld-%s-%d.log", tag,
				 (long)getpid(), what, i);
			return h.logs[i];
		}
	ck_abort_msg("too many log files in one test");
	return NULL;
}

void harness_log_add(const char *path)
{
	for (int i = 0; i < MAX_LOGS; i++)
		if (!h.logs[i][0]) {
			int len = snprintf(h.logs[i], sizeof(h.logs[i]), "%s", path);
			ck_assert(len > 0 && (size_t)len < sizeof(h.logs[i]));
			return;
		}
	ck_abort_msg("too many log files in one test");
}

/* Appends the last part of the file at path to text (at *used). */
static void tail_into(char *text, size_t cap, size_t *used, const char *path)
{
	if (!path[0] || *used >= cap - 1)
		return;
	struct buf b = BUF_INIT;
	e2e_read_file(path, &b);
	size_t keep = 1500;
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

const char *harness_logs_tail(void)
{
	static char text[10000];
	size_t used = 0;
	text[0] = '\0';
	for (int i = 0; i < MAX_SERVERS; i++)
		if (h.servers[i])
			tail_into(text, sizeof(text), &used, h.servers[i]->log_path);
	for (int i = 0; i < MAX_LOGS; i++)
		tail_into(text, sizeof(text), &used, h.logs[i]);
	return text;
}

bool harness_main_ready(const char *binary)
{
	if (!testdb_url() || !getenv("REDIS_URL") || !*getenv("REDIS_URL")) {
		fprintf(stderr,
			"%s: DATABASE_URL and REDIS_URL must be set "
			"(scripts/test.sh starts throwaway servers)\n",
			binary);
		return false;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "libsodium failed to initialise\n");
		return false;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return true;
}

int harness_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? 1 : 0;
}

void harness_require_env(const char *const *names)
{
	for (const char *const *name = names; *name; name++) {
		const char *v = getenv(*name);
		ck_assert_msg(v && *v, "%s must be set (scripts/test.sh and CTest set it)", *name);
	}
}

/* --- time, text, files --- */

void harness_sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000 * 1000};
	nanosleep(&t, NULL);
}

long long harness_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *harness_fmt(const char *f, ...)
{
	static char bufs[8][HARNESS_FMT_MAX];
	static int next;
	char *b = bufs[next++ % 8];
	va_list ap;
	va_start(ap, f);
	int n = vsnprintf(b, sizeof(bufs[0]), f, ap);
	va_end(ap);
	ck_assert(n > 0 && (size_t)n < sizeof(bufs[0]));
	return b;
}

void harness_secret(char *out, size_t n, const char *prefix)
{
	unsigned char rnd[24];
	char hex[sizeof(rnd) * 2 + 1];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	int len = snprintf(out, n, "%s-%s", prefix, hex);
	ck_assert(len > 0 && (size_t)len < n);
}

const char *harness_unique_email(const char *tag)
{
	static char emails[16][128];
	ck_assert_uint_lt(h.seq, 16);
	char *e = emails[h.seq++];
	snprintf(e, sizeof(emails[0]), "%s-%ld-%u@example.com", tag, (long)getpid(), h.seq);
	return e;
}

bool harness_file_contains(const char *path, const char *needle)
{
	struct buf b = BUF_INIT;
	e2e_read_file(path, &b);
	bool found = b.data && strstr(b.data, needle);
	buf_free(&b);
	return found;
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

void harness_remove_dir(const char *dir)
{
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

void harness_env_set(struct harness_env *e, const char *f, ...)
{
	char item[1024];
	va_list ap;
	va_start(ap, f);
	int len = vsnprintf(item, sizeof(item), f, ap);
	va_end(ap);
	ck_assert(len > 0 && (size_t)len < sizeof(item));
	size_t name_len = strcspn(item, "=");
	int i;
	for (i = 0; i < e->n; i++)
		if (strncmp(e->s[i], item, name_len + 1) == 0)
			break;
	if (i == e->n) {
		ck_assert_int_lt(e->n, HARNESS_ENV_MAX);
		e->n++;
	}
	memcpy(e->s[i], item, (size_t)len + 1);
	for (int k = 0; k < e->n; k++)
		e->p[k] = e->s[k];
	e->p[e->n] = NULL;
}

/* --- processes --- */

bool harness_port_open(int port)
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

void harness_assert_alive(pid_t pid, const char *what)
{
	int status;
	if (waitpid(pid, &status, WNOHANG) == pid) {
		harness_untrack(pid);
		ck_abort_msg("%s exited early:%s", what, harness_logs_tail());
	}
}

int harness_stop(pid_t pid, int sig, long timeout_ms)
{
	int status;
	kill(pid, sig);
	long long deadline = harness_now_ms() + timeout_ms;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			harness_untrack(pid);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		if (r < 0 && errno != EINTR) {
			harness_untrack(pid);
			return -1;
		}
		if (harness_now_ms() > deadline) {
			kill(pid, SIGKILL);
			e2e_wait(pid);
			harness_untrack(pid);
			return -1;
		}
		harness_sleep_ms(20);
	}
}

void harness_wait_port(pid_t pid, int port, const char *what)
{
	long long deadline = harness_now_ms() + h.wait_ms;
	while (!harness_port_open(port)) {
		harness_assert_alive(pid, what);
		ck_assert_msg(harness_now_ms() <= deadline, "%s did not listen:%s", what,
			      harness_logs_tail());
		harness_sleep_ms(HARNESS_POLL_MS);
	}
}

void harness_wait_log(pid_t pid, const char *log_path, const char *needle, const char *what)
{
	long long deadline = harness_now_ms() + h.wait_ms;
	while (!harness_file_contains(log_path, needle)) {
		harness_assert_alive(pid, what);
		ck_assert_msg(harness_now_ms() <= deadline, "%s did not start:%s", what,
			      harness_logs_tail());
		harness_sleep_ms(HARNESS_POLL_MS);
	}
}

void harness_migrate(const char *conninfo)
{
	char dbenv[1100];
	snprintf(dbenv, sizeof(dbenv), "DATABASE_URL=%s", conninfo);
	const char *env[] = {dbenv, "LOG_LEVEL=error", NULL};
	char *argv[] = {(char *)"cinema-api", (char *)"migrate", NULL};
	struct buf err = BUF_INIT;
	int rc = e2e_run_capture(e2e_bin("CINEMA_API_BIN"), argv, env, NULL, 60, NULL, &err);
	ck_assert_msg(rc == 0, "cinema-api migrate exited %d:\n%s", rc, err.data);
	buf_free(&err);
}

void harness_maildir_new(char *maildir, size_t n)
{
	int len = snprintf(maildir, n, "/tmp/cinema-%s-mail-XXXXXX", h.tag);
	ck_assert(len > 0 && (size_t)len < n);
	ck_assert_ptr_nonnull(mkdtemp(maildir));
}

pid_t harness_mailsink_run(const char *maildir, int smtp_port)
{
	char port[16];
	snprintf(port, sizeof(port), "%d", smtp_port);
	char *argv[] = {(char *)"cinema-mailsink",
			(char *)"--dir",
			(char *)maildir,
			(char *)"--port",
			port,
			NULL};
	pid_t sink = e2e_spawn(e2e_bin("CINEMA_MAILSINK_BIN"), argv, NULL, NULL,
			       harness_log_new("mailsink"));
	ck_assert_msg(sink > 0, "cannot start cinema-mailsink");
	harness_track(sink);
	harness_wait_port(sink, smtp_port, "cinema-mailsink");
	return sink;
}

int harness_mailsink_start(char *maildir, size_t n)
{
	harness_maildir_new(maildir, n);
	int smtp_port = e2e_free_port();
	ck_assert_int_gt(smtp_port, 0);
	harness_mailsink_run(maildir, smtp_port);
	return smtp_port;
}

pid_t harness_scheduler_spawn(const char *const *env, const char *what, const char **log_out)
{
	const char *log = harness_log_new(what);
	char *argv[] = {(char *)"cinema-scheduler", NULL};
	pid_t sched = e2e_spawn(e2e_bin("CINEMA_SCHEDULER_BIN"), argv, env, NULL, log);
	ck_assert_msg(sched > 0, "cannot start cinema-scheduler");
	harness_track(sched);
	harness_wait_log(sched, log, "\"scheduler started\"", "cinema-scheduler");
	if (log_out)
		*log_out = log;
	return sched;
}

void harness_scheduler_start(const char *const *env)
{
	harness_scheduler_spawn(env, "scheduler", NULL);
}

int harness_mail_start(char *maildir, size_t n, const char *conninfo, const char *redis_url,
		       const char *queue_key, const char *base_url)
{
	int smtp_port = harness_mailsink_start(maildir, n);
	struct harness_env e = {0};
	harness_env_set(&e, "DATABASE_URL=%s", conninfo);
	harness_env_set(&e, "REDIS_URL=%s", redis_url);
	harness_env_set(&e, "EMAIL_QUEUE_KEY=%s", queue_key);
	harness_env_set(&e, "SMTP_URL=smtp://127.0.0.1:%d", smtp_port);
	harness_env_set(&e, "SMTP_ALLOW_PLAIN=1"); /* cinema-mailsink has no STARTTLS */
	harness_env_set(&e, "PUBLIC_BASE_URL=%s", base_url);
	harness_env_set(&e, "TEMPLATES_DIR=%s", getenv("TEMPLATES_DIR"));
	harness_env_set(&e, "SCHEDULER_SWEEP_MS=100");
	harness_env_set(&e, "EMAIL_RETRY_BASE_MS=100");
	harness_env_set(&e, "EMAIL_RETRY_MAX_MS=400");
	harness_env_set(&e, "TOKEN_CLEANUP_INTERVAL=604800");
	harness_env_set(&e, "LOG_LEVEL=info");
	harness_scheduler_start(e.p);
	return smtp_port;
}

void harness_server_start(struct e2e_server *srv, const char *const *env)
{
	int i = 0;
	while (i < MAX_SERVERS && h.servers[i] && h.servers[i] != srv)
		i++;
	ck_assert_msg(i < MAX_SERVERS, "too many servers in one test");
	h.servers[i] = srv;
	h.srv = srv;
	bool ok = e2e_server_start(srv, env);
	if (srv->pid > 0)
		harness_track(srv->pid);
	ck_assert_msg(ok, "cinema-api serve did not come up:%s", harness_logs_tail());
}

char *harness_db_open(PGconn **pg)
{
	char *ci = testdb_create();
	ck_assert_msg(ci != NULL, "testdb_create failed");
	harness_migrate(ci);
	*pg = PQconnectdb(ci);
	ck_assert_msg(PQstatus(*pg) == CONNECTION_OK, "connect: %s", PQerrorMessage(*pg));
	harness_use_db(*pg);
	return ci;
}

void harness_db_close(char *ci, PGconn *pg)
{
	if (pg)
		PQfinish(pg);
	testdb_drop(ci);
	free(ci);
}

/* --- Redis --- */

void harness_redis_url(char *out, size_t n, int db)
{
	const char *base = getenv("REDIS_URL");
	ck_assert_msg(strncmp(base, "redis://", 8) == 0, "REDIS_URL must be redis://...: %s", base);
	size_t keep = strcspn(base + 8, "/?") + 8;
	int len = snprintf(out, n, "%.*s/%d", (int)keep, base, db);
	ck_assert(len > 0 && (size_t)len < n);
}

void harness_redis_claim(char *out, size_t n, int db)
{
	harness_redis_url(out, n, db);
	harness_redis_flush(out);
}

void harness_redis_flush(const char *url)
{
	char err[256];
	struct kv_options kvo = {.url = url, .pool_size = 1, .timeout_ms = 2000};
	struct kv *kv = kv_new(&kvo, err, sizeof(err));
	ck_assert_msg(kv != NULL, "REDIS_URL: %s", err);
	ck_assert_msg(kv_command(kv, NULL, "FLUSHDB") == ERR_OK, "FLUSHDB on %s failed", url);
	kv_free(kv);
}

/* --- SQL --- */

void harness_use_db(PGconn *pg)
{
	h.pg = pg;
}

void harness_sql_ok(const char *sql)
{
	PGresult *res = PQexec(h.pg, sql);
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s: %s", sql, PQerrorMessage(h.pg));
		PQclear(res);
		ck_abort_msg("%s", msg);
	}
	PQclear(res);
}

char *harness_sql_value(const char *sql)
{
	PGresult *res = PQexec(h.pg, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) != 1) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s: %s (%d rows)", sql, PQerrorMessage(h.pg),
			 PQntuples(res));
		PQclear(res);
		ck_abort_msg("%s", msg);
	}
	char *v = strdup(PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

long long harness_sql_int(const char *sql)
{
	char *v = harness_sql_value(sql);
	long long n = strtoll(v, NULL, 10);
	free(v);
	return n;
}

/* --- HTTP --- */

json_t *harness_json(const char *f, ...)
{
	json_error_t jerr;
	va_list ap;
	va_start(ap, f);
	json_t *j = json_vpack_ex(&jerr, 0, f, ap);
	va_end(ap);
	ck_assert_msg(j != NULL, "json_pack(%s): %s", f, jerr.text);
	return j;
}

struct e2e_resp harness_raw(const char *method, const char *path, const char *const *headers,
			    const char *body, size_t len)
{
	static char url[HARNESS_FMT_MAX + 64]; /* e2e_url would cut long paths */
	struct e2e_resp r;
	bool full = strncmp(path, "http", 4) == 0;
	ck_assert_msg(h.srv != NULL || full, "no server started");
	int n = snprintf(url, sizeof(url), "%s%s", full ? "" : h.srv->base_url, path);
	ck_assert_msg(n > 0 && (size_t)n < sizeof(url), "%s: URL too long", method);
	ck_assert_msg(e2e_request(method, url, headers, body, len, &r), "%s %s: transport error",
		      method, path);
	return r;
}

struct e2e_resp harness_request(const char *method, const char *path, const char *bearer,
				const char *body, const char *const *extra)
{
	char auth[2200];
	const char *headers[8];
	int n = 0;
	if (bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
		headers[n++] = auth;
	}
	if (body)
		headers[n++] = "Content-Type: application/json";
	for (const char *const *x = extra; x && *x; x++) {
		ck_assert_int_lt(n, 7);
		headers[n++] = *x;
	}
	headers[n] = NULL;
	return harness_raw(method, path, headers, body, body ? strlen(body) : 0);
}

struct e2e_resp harness_call(const char *method, const char *path, const char *bearer, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct e2e_resp r = harness_request(method, path, bearer, text, NULL);
	free(text);
	json_decref(body);
	return r;
}

void harness_expect_at(const struct e2e_resp *r, long status, const char *code, int line)
{
	ck_assert_msg(r->status == status, "line %d: status %ld, want %ld; body: %s%s", line,
		      r->status, status, r->body.data ? r->body.data : "",
		      r->status >= 500 ? harness_logs_tail() : "");
	if (status < 400)
		return;
	ck_assert_msg(json_is_object(r->json), "line %d: error body is not JSON: %s", line,
		      r->body.data ? r->body.data : "");
	ck_assert_msg(json_is_string(json_object_get(r->json, "detail")),
		      "line %d: error without detail: %s", line, r->body.data);
	if (code)
		ck_assert_msg(strcmp(e2e_code(r), code) == 0, "line %d: code %s, want %s: %s", line,
			      e2e_code(r), code, r->body.data);
}

void harness_expect_coded_at(const struct e2e_resp *r, long status, const char *code, int line)
{
	harness_expect_at(r, status, NULL, line);
	if (status < 400)
		return;
	ck_assert_msg(json_is_string(json_object_get(r->json, "code")),
		      "line %d: error without code: %s", line, r->body.data);
	if (code)
		ck_assert_msg(strcmp(e2e_code(r), code) == 0, "line %d: code %s, want %s: %s", line,
			      e2e_code(r), code, r->body.data);
}

bool harness_has_error(const struct e2e_resp *r, const char *field, const char *text)
{
	size_t i;
	json_t *e;
	json_array_foreach (json_object_get(r->json, "errors"), i, e) {
		const char *f = json_string_value(json_object_get(e, "field"));
		const char *m = json_string_value(json_object_get(e, "message"));
		if (f && m && strcmp(f, field) == 0 && (!text || strstr(m, text)))
			return true;
	}
	return false;
}

void harness_assert_keys(const json_t *o, const char *const *keys, const char *what)
{
	size_t n = 0;
	ck_assert_msg(json_is_object(o), "%s is not an object", what);
	for (const char *const *k = keys; *k; k++, n++)
		ck_assert_msg(json_object_get(o, *k) != NULL, "%s has no \"%s\"", what, *k);
	char *text = json_dumps(o, JSON_COMPACT);
	ck_assert_msg(json_object_size(o) == n, "%s has other keys than expected: %s", what, text);
	free(text);
}

/* --- users --- */

void harness_create_accounts(const char *conninfo, struct harness_account *u, size_t n,
			     const char *password)
{
	pid_t pids[8];
	const char *plogs[8];
	ck_assert_uint_le(n, 8);
	char dbenv[1100];
	snprintf(dbenv, sizeof(dbenv), "DATABASE_URL=%s", conninfo);
	const char *env[] = {dbenv, "LOG_LEVEL=error", NULL};
	for (size_t i = 0; i < n; i++) {
		char *argv[] = {(char *)"cinema-api",
				(char *)"create-user",
				(char *)"--email",
				(char *)u[i].email,
				(char *)"--password",
				(char *)password,
				(char *)"--group",
				(char *)u[i].group,
				u[i].active ? (char *)"--active" : NULL,
				NULL};
		plogs[i] = harness_log_new("create-user");
		pids[i] = e2e_spawn(e2e_bin("CINEMA_API_BIN"), argv, env, NULL, plogs[i]);
		ck_assert_msg(pids[i] > 0, "cannot start cinema-api create-user");
		harness_track(pids[i]);
	}
	for (size_t i = 0; i < n; i++) {
		int rc = e2e_wait(pids[i]);
		harness_untrack(pids[i]);
		struct buf out = BUF_INIT;
		e2e_read_file(plogs[i], &out);
		ck_assert_msg(rc == 0, "create-user %s exited %d:\n%s", u[i].email, rc,
			      out.data ? out.data : "");
		buf_free(&out);
		char *esc = PQescapeLiteral(h.pg, u[i].email, strlen(u[i].email));
		u[i].id = harness_sql_int(
			harness_fmt("SELECT id FROM users WHERE email = lower(%s)", esc));
		PQfreemem(esc);
		ck_assert_int_gt(u[i].id, 0);
	}
}

void harness_create_users(const char *conninfo, struct harness_user *u, size_t n,
			  const char *password)
{
	struct harness_account acc[8];
	ck_assert_uint_le(n, 8);
	for (size_t i = 0; i < n; i++)
		acc[i] = (struct harness_account){u[i].email, u[i].group, true, 0};
	harness_create_accounts(conninfo, acc, n, password);
	for (size_t i = 0; i < n; i++) {
		u[i].id = acc[i].id;
		struct e2e_resp r = harness_call(
			"POST", "/api/v1/accounts/login", NULL,
			harness_json("{s:s,s:s}", "email", u[i].email, "password", password));
		harness_expect(&r, 200, NULL);
		const char *a = json_string_value(json_object_get(r.json, "access_token"));
		ck_assert(a && strlen(a) < sizeof(u[i].access));
		snprintf(u[i].access, sizeof(u[i].access), "%s", a);
		e2e_resp_free(&r);
	}
}

void harness_expect_invalid_at(const struct e2e_resp *r, const char *field, const char *text,
			       int line)
{
	harness_expect_coded_at(r, 422, "validation_failed", line);
	ck_assert_msg(harness_has_error(r, field, text), "line %d: no error on %s (%s): %s", line,
		      field, text ? text : "any", r->body.data);
}

json_t *harness_get_json_at(const char *path, const char *bearer, int line)
{
	struct e2e_resp r = harness_call("GET", path, bearer, NULL);
	harness_expect_coded_at(&r, 200, NULL, line);
	ck_assert_msg(r.json != NULL, "line %d: body is not JSON: %s", line, r.body.data);
	json_t *j = json_incref(r.json);
	e2e_resp_free(&r);
	return j;
}

void harness_world_begin(struct harness_world *w, const char *tag, int redis_db)
{
	static const char *const required[] = {
		"DATABASE_URL",	       "REDIS_URL",	"CINEMA_API_BIN", "CINEMA_SCHEDULER_BIN",
		"CINEMA_MAILSINK_BIN", "TEMPLATES_DIR", "MIGRATIONS_DIR", NULL};
	static unsigned n;
	harness_require_env(required);
	memset(w, 0, sizeof(*w));
	harness_begin(tag);
	harness_redis_claim(w->redis_url, sizeof(w->redis_url), redis_db);
	snprintf(w->queue_key, sizeof(w->queue_key), "test:%s:%ld:%u", tag, (long)getpid(), ++n);
	harness_secret(w->jwt_secret, sizeof(w->jwt_secret), tag);

	w->ci = harness_db_open(&w->pg);
	/* No periodic job runs during a test: the token cleanup, for one,
	 * would delete the tokens a test makes expired before the API sees
	 * them. */
	harness_sql_ok("UPDATE scheduler_runs SET last_run_at = now()");
}

void harness_world_end(struct harness_world *w)
{
	harness_end();
	harness_db_close(w->ci, w->pg);
	if (w->redis_url[0])
		harness_redis_flush(w->redis_url);
	if (w->maildir[0])
		harness_remove_dir(w->maildir);
	memset(w, 0, sizeof(*w));
}

void harness_world_mail(struct harness_world *w, const char *base_url)
{
	w->smtp_port = harness_mail_start(w->maildir, sizeof(w->maildir), w->ci, w->redis_url,
					  w->queue_key, base_url);
}

void harness_world_api_env(const struct harness_world *w, struct harness_env *e,
			   const char *base_url)
{
	memset(e, 0, sizeof(*e));
	harness_env_set(e, "DATABASE_URL=%s", w->ci);
	harness_env_set(e, "REDIS_URL=%s", w->redis_url);
	harness_env_set(e, "JWT_SECRET=%s", w->jwt_secret);
	harness_env_set(e, "AUTH_RATE_LIMIT=100000");
	harness_env_set(e, "EMAIL_QUEUE_KEY=%s", w->queue_key);
	harness_env_set(e, "PUBLIC_BASE_URL=%s", base_url);
	harness_env_set(e, "TEMPLATES_DIR=%s", getenv("TEMPLATES_DIR"));
}
