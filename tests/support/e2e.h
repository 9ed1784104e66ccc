/* End-to-end test support: start the real cinema-api binary against the
 * PostgreSQL and Redis given by DATABASE_URL and REDIS_URL, and talk HTTP to
 * it with libcurl. Call from an unchecked fixture or inside a test (check
 * forks each test: open sockets and processes where they are used). */
#ifndef CINEMA_TEST_E2E_H
#define CINEMA_TEST_E2E_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cinema/buf.h"

struct e2e_server {
	pid_t pid;
	int port;
	char base_url[64]; /* http://127.0.0.1:PORT */
	char log_path[256];
};

/* A free TCP port on 127.0.0.1 (bound and released; small race, fine here). */
int e2e_free_port(void);

/* Starts `cinema-api serve` with the test environment plus extra "NAME=value"
 * entries (NULL-terminated, may be NULL), on a free port, and waits up to
 * E2E_START_S seconds for /healthz. Its log goes to a temporary file (log_path). Returns false if
 * it did not come up. */
bool e2e_server_start(struct e2e_server *srv, const char *const *extra_env);
/* How long e2e_server_stop waits after SIGTERM before it sends SIGKILL. */
#define E2E_STOP_MS 10000
/* How long e2e_server_start waits for /healthz. */
#define E2E_START_S 30
/* Sends SIGTERM and waits up to E2E_STOP_MS for the server to exit, then
 * kills it with SIGKILL; returns the exit status (128 + the signal number if
 * a signal ended it, so 137 when it had to be killed), or -1. */
int e2e_server_stop(struct e2e_server *srv);

/* Runs the binary at path with argv (NULL-terminated, argv[0] included) and
 * the test environment plus extra entries; waits; returns its exit status. */
int e2e_run(const char *path, char *const argv[], const char *const *extra_env);

struct e2e_resp {
	long status;
	struct buf body;
	struct buf headers; /* raw header block, lines "Name: value\r\n" */
	json_t *json;	    /* parsed body when it is JSON, else NULL */
};

/* One HTTP request. headers: NULL-terminated "Name: value" strings (may be
 * NULL). body may be NULL. Returns false on a transport error. */
bool e2e_request(const char *method, const char *url, const char *const *headers, const char *body,
		 size_t body_len, struct e2e_resp *out);
/* Sends the body with chunked transfer encoding (no Content-Length). */
bool e2e_request_chunked(const char *method, const char *url, const char *const *headers,
			 const char *body, size_t body_len, struct e2e_resp *out);
/* Value of the last response header named name (case-insensitive), copied
 * into out; false if absent. */
bool e2e_header(const struct e2e_resp *r, const char *name, char *out, size_t outlen);
/* The "code" member of a JSON error body, or "". */
const char *e2e_code(const struct e2e_resp *r);
void e2e_resp_free(struct e2e_resp *r);

/* Convenience: URL for path on srv, in a static per-call buffer. */
const char *e2e_url(const struct e2e_server *srv, const char *path);

/* Path of a built binary from the environment (CINEMA_API_BIN, ...). */
const char *e2e_bin(const char *env_name);

/* --- child processes (additions for tests/e2e) --- */

/* Starts the program at path (searched on PATH when it has no '/') with argv
 * (NULL-terminated, argv[0] included) and the test environment, minus the
 * variables named in unset_env, plus the "NAME=value" entries of extra_env
 * (either list NULL-terminated, may be NULL). Its stdout and stderr go to
 * out_path (created or truncated), or are inherited when out_path is NULL.
 * Does not wait. Returns the pid, or -1. */
pid_t e2e_spawn(const char *path, char *const argv[], const char *const *extra_env,
		const char *const *unset_env, const char *out_path);
/* Waits for pid (retrying on EINTR); returns its exit status, 128 + the
 * signal number if a signal ended it, or -1. */
int e2e_wait(pid_t pid);
/* As e2e_run, minus the variables named in unset_env, with the child's
 * stdout and stderr appended to out and err (each may be NULL to discard).
 * A child still running after timeout_s seconds (when > 0) is killed with
 * SIGKILL, so the result is then 128 + SIGKILL. */
int e2e_run_capture(const char *path, char *const argv[], const char *const *extra_env,
		    const char *const *unset_env, int timeout_s, struct buf *out, struct buf *err);
/* Appends the whole file at path to b; false if it cannot be read. */
bool e2e_read_file(const char *path, struct buf *b);

#endif
