/* Shared harness of the end-to-end suites: the processes, log files, server,
 * database connection and Redis database of the running test, with the HTTP,
 * SQL and polling helpers that use them.
 *
 * State: one test at a time per process. check forks each test, so every
 * test starts with an empty harness; call harness_begin() in the checked
 * setup and harness_end() in the checked teardown. Nothing here is
 * thread-safe: call it from the test's main thread.
 *
 * Failures: every helper that can fail fails the current check test (with
 * the tail of the test's logs where that helps), so callers need no error
 * paths.
 *
 * What is stopped when: every child registered with harness_track() (the
 * servers, mailsink, scheduler and create-user processes started here
 * included) is sent SIGTERM by harness_end(), given HARNESS_STOP_MS in all
 * to exit, then killed with SIGKILL and reaped. A child that exits on
 * SIGTERM writes its coverage data (gcov); one killed outright would not.
 * harness_end() also removes every log file from harness_log_new() and
 * harness_log_add() and every server's log. In fork mode a failed assertion
 * ends the test process before teardown; check then kills the test's whole
 * process group, children included.
 *
 * Ownership: strings returned as const char * are borrowed and live in
 * static buffers (harness_fmt keeps eight alive at a time); PGconn and
 * e2e_server pointers passed in stay owned by the caller. */
#ifndef CINEMA_TEST_HARNESS_H
#define CINEMA_TEST_HARNESS_H

#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "e2e.h"

#define HARNESS_WAIT_MS 15000L /* "eventually": how long to poll (default) */
#define HARNESS_POLL_MS 50L
#define HARNESS_STOP_MS 10000L /* teardown: SIGTERM, this long, then SIGKILL */
#define HARNESS_ENV_MAX 24
#define HARNESS_FMT_MAX 8192 /* harness_fmt's buffers; longest path of harness_raw */

/* --- the running test --- */

/* Starts a test: forgets any previous state; log files are named
 * /tmp/cinema-<tag>-<pid>-<what>-<n>.log. tag is copied. */
void harness_begin(const char *tag);
/* Ends a test: stops (SIGTERM, then SIGKILL after HARNESS_STOP_MS) and reaps
 * every tracked child, removes the logs and the servers' logs, and forgets
 * the servers and database connection (the caller still closes the
 * connection). */
void harness_end(void);
/* How long harness_wait_port and harness_wait_log (and so every start-up
 * here) poll in this test; HARNESS_WAIT_MS until set. */
void harness_set_wait_ms(long ms);

/* Registers a child for stopping in harness_end (fails the test when more
 * than twelve are live); harness_untrack forgets one the caller has reaped. */
void harness_track(pid_t pid);
void harness_untrack(pid_t pid);
/* Sends sig to pid and waits up to timeout_ms for it to exit, then kills it
 * with SIGKILL; untracks it. Returns its exit status (128 + the signal if
 * one ended it), or -1 when it had to be killed (or could not be waited
 * for). */
int harness_stop(pid_t pid, int sig, long timeout_ms);
/* A new log file path for this test, removed by harness_end. */
const char *harness_log_new(const char *what);
/* Adds a file of another name (path is copied) to the logs of this test:
 * shown by harness_logs_tail, removed by harness_end. */
void harness_log_add(const char *path);
/* The last part of every server's log and of every other log of this test. */
const char *harness_logs_tail(void);

/* For main(), before the suite: false, after a message naming binary, when
 * DATABASE_URL or REDIS_URL is unset (a broken setup, not something to
 * skip) or libsodium does not initialise; then initialises libcurl. */
bool harness_main_ready(const char *binary);
/* Runs s (CK_NORMAL), frees the runner and libcurl; main's exit status. */
int harness_run(Suite *s);

/* Fails every required environment variable (NULL-terminated) that is unset
 * or empty. */
void harness_require_env(const char *const *names);

/* --- time, text, files --- */

void harness_sleep_ms(long ms);
long long harness_now_ms(void); /* monotonic */
/* printf into a rotating static buffer (eight live at a time, each
 * HARNESS_FMT_MAX bytes; a longer text fails the test). */
const char *harness_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
/* "prefix-<48 random hex digits>" into out. */
void harness_secret(char *out, size_t n, const char *prefix);
/* A unique address, tag-<pid>-<n>@example.com, valid for the whole test
 * (sixteen a test). */
const char *harness_unique_email(const char *tag);
bool harness_file_contains(const char *path, const char *needle);
/* Removes dir and everything in it; quiet if absent. */
void harness_remove_dir(const char *dir);

/* A list of "NAME=value" entries for e2e_spawn and e2e_server_start; a name
 * set twice keeps the last value. p is NULL-terminated. Zero it to empty. */
struct harness_env {
	char s[HARNESS_ENV_MAX][1024];
	const char *p[HARNESS_ENV_MAX + 1];
	int n;
};
void harness_env_set(struct harness_env *e, const char *f, ...)
	__attribute__((format(printf, 2, 3)));

/* --- processes --- */

bool harness_port_open(int port);
/* Fails the test if pid has exited (what names it). */
void harness_assert_alive(pid_t pid, const char *what);
/* Polls until port listens, or the log at log_path contains needle; fails
 * when pid exits or HARNESS_WAIT_MS passes. */
void harness_wait_port(pid_t pid, int port, const char *what);
void harness_wait_log(pid_t pid, const char *log_path, const char *needle, const char *what);

/* Runs `cinema-api migrate` on the database conninfo. */
void harness_migrate(const char *conninfo);
/* A new empty directory under /tmp for a mailsink (written to maildir,
 * removed by the caller with harness_remove_dir). */
void harness_maildir_new(char *maildir, size_t n);
/* Starts cinema-mailsink storing into maildir on smtp_port, tracks it, waits
 * until it listens and returns its pid. */
pid_t harness_mailsink_run(const char *maildir, int smtp_port);
/* harness_maildir_new and harness_mailsink_run on a free port; returns the
 * port. */
int harness_mailsink_start(char *maildir, size_t n);
/* Starts cinema-scheduler with env logging into a new log named by what,
 * tracks it, waits for "scheduler started" and returns its pid; *log_out
 * (when log_out is not NULL) gets the log's path. */
pid_t harness_scheduler_spawn(const char *const *env, const char *what, const char **log_out);
/* harness_scheduler_spawn(env, "scheduler", NULL). */
void harness_scheduler_start(const char *const *env);
/* The email path of an API test: harness_mailsink_start into maildir, then
 * cinema-scheduler sending the email jobs of database conninfo and queue
 * queue_key on Redis redis_url (links to base_url; TEMPLATES_DIR) to it,
 * with fast sweeps and retries and no token cleanup, plain SMTP allowed (the
 * sink offers no STARTTLS). Returns the SMTP port. */
int harness_mail_start(char *maildir, size_t n, const char *conninfo, const char *redis_url,
		       const char *queue_key, const char *base_url);
/* Starts `cinema-api serve` with env into srv (borrowed until harness_end),
 * tracks it and makes it the server of harness_raw; its log is shown by
 * harness_logs_tail. Up to four servers a test (each call with another
 * srv adds one; the last started is harness_raw's). */
void harness_server_start(struct e2e_server *srv, const char *const *env);

/* A new migrated database for this test (testdb_create, harness_migrate):
 * returns its conninfo (owned) and connects *pg, made the connection of
 * harness_use_db. harness_db_close(ci, pg) closes and drops it (either may
 * be NULL). */
char *harness_db_open(PGconn **pg);
void harness_db_close(char *ci, PGconn *pg);

/* --- Redis --- */

/* REDIS_URL with its path replaced by /db. */
void harness_redis_url(char *out, size_t n, int db);
void harness_redis_flush(const char *url);
/* harness_redis_url, then harness_redis_flush on it: a suite's own database. */
void harness_redis_claim(char *out, size_t n, int db);

/* --- SQL on the test's database (the connection set by harness_use_db) --- */

void harness_use_db(PGconn *pg);
void harness_sql_ok(const char *sql);
/* The single value of the single row of sql, owned ("NULL" for SQL NULL). */
char *harness_sql_value(const char *sql);
long long harness_sql_int(const char *sql);

/* --- HTTP on the test's server --- */

/* json_pack that cannot fail silently; returns a new reference. */
json_t *harness_json(const char *f, ...);
/* A request to path on the server (or to a full http URL) with raw headers
 * (NULL-terminated, may be NULL) and body; path may be up to HARNESS_FMT_MAX
 * bytes long. Free with e2e_resp_free. */
struct e2e_resp harness_raw(const char *method, const char *path, const char *const *headers,
			    const char *body, size_t len);
/* A request as the holder of access token bearer (NULL: anonymous), with
 * JSON text body (NULL for none) and extra headers (NULL-terminated, may be
 * NULL; five at most). path as for harness_raw. */
struct e2e_resp harness_request(const char *method, const char *path, const char *bearer,
				const char *body, const char *const *extra);
/* A request as the holder of access token bearer (NULL: anonymous), with a
 * JSON body (consumed; NULL for none). */
struct e2e_resp harness_call(const char *method, const char *path, const char *bearer,
			     json_t *body);
/* Asserts the status and, for errors, a JSON body with a "detail" string and
 * the given code (NULL: any). line is the caller's, for the message. */
void harness_expect_at(const struct e2e_resp *r, long status, const char *code, int line);
#define harness_expect(r, status, code) harness_expect_at(r, status, code, __LINE__)
/* A call whose response is only checked (and freed). */
#define harness_check_call(method, path, bearer, body, status, code)            \
	do {                                                                    \
		struct e2e_resp cc_ = harness_call(method, path, bearer, body); \
		harness_expect(&cc_, status, code);                             \
		e2e_resp_free(&cc_);                                            \
	} while (0)

/* As harness_expect_at; errors must also carry a "code" string. */
void harness_expect_coded_at(const struct e2e_resp *r, long status, const char *code, int line);
#define harness_expect_coded(r, status, code) harness_expect_coded_at(r, status, code, __LINE__)
#define harness_check_coded_call(method, path, bearer, body, status, code)      \
	do {                                                                    \
		struct e2e_resp cc_ = harness_call(method, path, bearer, body); \
		harness_expect_coded(&cc_, status, code);                       \
		e2e_resp_free(&cc_);                                            \
	} while (0)
/* Whether a 422 body has an error for field whose message contains text
 * (NULL: any message). */
bool harness_has_error(const struct e2e_resp *r, const char *field, const char *text);
/* Asserts 422 validation_failed (a coded error body) with an error on field
 * whose message contains text (NULL: any message). line is the caller's. */
void harness_expect_invalid_at(const struct e2e_resp *r, const char *field, const char *text,
			       int line);
#define harness_expect_invalid(r, field, text) harness_expect_invalid_at(r, field, text, __LINE__)
/* A call that must answer harness_expect_invalid (the response is freed). */
#define harness_check_invalid(method, path, bearer, body, field, text)          \
	do {                                                                    \
		struct e2e_resp ci_ = harness_call(method, path, bearer, body); \
		harness_expect_invalid(&ci_, field, text);                      \
		e2e_resp_free(&ci_);                                            \
	} while (0)
/* GET path as bearer (NULL: anonymous); asserts 200 with a JSON body and
 * answers it (a new reference). */
json_t *harness_get_json_at(const char *path, const char *bearer, int line);
#define harness_get_json(path, bearer) harness_get_json_at(path, bearer, __LINE__)
/* Asserts that object o has exactly the keys listed (NULL-terminated). */
void harness_assert_keys(const json_t *o, const char *const *keys, const char *what);

/* --- users --- */

struct harness_account {
	const char *email;
	const char *group; /* USER, MODERATOR, ADMIN */
	bool active;
	long long id; /* filled in */
};

/* Creates up to eight accounts with `cinema-api create-user` on the database
 * conninfo, all at once (each hashes a password), and fills in their ids
 * (read on the connection of harness_use_db). No sign-in. */
void harness_create_accounts(const char *conninfo, struct harness_account *u, size_t n,
			     const char *password);

struct harness_user {
	const char *email;
	const char *group; /* USER, MODERATOR, ADMIN */
	long long id;	   /* filled in */
	char access[2048]; /* filled in: an access token */
};

/* Creates up to eight active accounts with `cinema-api create-user` on the
 * database conninfo, all at once (each hashes a password), fills in their
 * ids and signs each in with password on the server. */
void harness_create_users(const char *conninfo, struct harness_user *u, size_t n,
			  const char *password);

/* --- the world of an API suite --- */

/* What most API suites set up for each test: a migrated database, a Redis
 * database of their own, an email queue and a JWT key of the test, and
 * (when started) the mail path and the server. Owned by the suite, usually
 * one static; harness_world_end releases all of it. */
struct harness_world {
	char *ci;	     /* the test's database (migrated) */
	PGconn *pg;	     /* a connection to it */
	char redis_url[256]; /* REDIS_URL with the suite's database number */
	char queue_key[64];  /* the email queue of this test */
	char jwt_secret[80];
	char maildir[64]; /* where the mailsink stores messages ("" until started) */
	int smtp_port;
	struct e2e_server srv;
	struct harness_env srv_env;
};

/* For the checked setup: requires the binaries and settings of an API test,
 * zeroes w, harness_begin(tag), claims (flushes) Redis database redis_db,
 * makes the queue key and JWT key of the test, opens the database and keeps
 * the periodic jobs from running during the test. */
void harness_world_begin(struct harness_world *w, const char *tag, int redis_db);
/* For the checked teardown: harness_end, then drops the database, flushes
 * the Redis database, removes the mail directory and zeroes w. */
void harness_world_end(struct harness_world *w);
/* Starts the mail path of the world (harness_mail_start with its database,
 * Redis and queue; links to base_url). */
void harness_world_mail(struct harness_world *w, const char *base_url);
/* Empties e and sets the API's environment for the world: its database,
 * Redis, JWT key and queue, AUTH_RATE_LIMIT=100000, PUBLIC_BASE_URL=base_url
 * and TEMPLATES_DIR. Add or override entries with harness_env_set. */
void harness_world_api_env(const struct harness_world *w, struct harness_env *e,
			   const char *base_url);

#endif
