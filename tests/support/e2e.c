#include "e2e.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int e2e_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int port = -1;
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

const char *e2e_bin(const char *env_name)
{
	const char *p = getenv(env_name);
	return p ? p : "";
}

static void apply_env(const char *const *extra_env)
{
	for (const char *const *e = extra_env; e && *e; e++)
		putenv((char *)*e);
}

static pid_t spawn(const char *path, char *const argv[], const char *const *extra_env,
		   const char *log_path)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (log_path) {
		FILE *f = fopen(log_path, "w");
		if (f) {
			dup2(fileno(f), STDOUT_FILENO);
			dup2(fileno(f), STDERR_FILENO);
			fclose(f);
		}
	}
	apply_env(extra_env);
	execv(path, argv);
	_exit(127);
}

int e2e_run(const char *path, char *const argv[], const char *const *extra_env)
{
	int status;
	pid_t pid = spawn(path, argv, extra_env, NULL);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool e2e_server_start(struct e2e_server *srv, const char *const *extra_env)
{
	char port_env[32];
	const char *env[32];
	size_t n = 0;
	memset(srv, 0, sizeof(*srv));
	srv->port = e2e_free_port();
	snprintf(srv->base_url, sizeof(srv->base_url), "http://127.0.0.1:%d", srv->port);
	snprintf(srv->log_path, sizeof(srv->log_path), "/tmp/cinema-e2e-%d-%d.log", getpid(),
		 srv->port);
	snprintf(port_env, sizeof(port_env), "HTTP_PORT=%d", srv->port);
	env[n++] = port_env;
	env[n++] = "HTTP_HOST=127.0.0.1";
	env[n++] = "LOG_LEVEL=info";
	for (const char *const *e = extra_env; e && *e && n < 31; e++)
		env[n++] = *e;
	env[n] = NULL;

	char *argv[] = {(char *)"cinema-api", (char *)"serve", NULL};
	srv->pid = spawn(e2e_bin("CINEMA_API_BIN"), argv, env, srv->log_path);
	if (srv->pid <= 0)
		return false;
	/* Generous: under sanitizers or coverage on a busy machine start-up
	 * can take seconds; a server that dies is noticed at once anyway. */
	struct timespec now, until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += E2E_START_S;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > until.tv_sec ||
		    (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec))
			break;
		struct e2e_resp r;
		if (e2e_request("GET", e2e_url(srv, "/healthz"), NULL, NULL, 0, &r) &&
		    r.status == 200) {
			e2e_resp_free(&r);
			return true;
		}
		e2e_resp_free(&r);
		int status;
		if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
			srv->pid = 0;
			return false;
		}
		struct timespec nap = {0, 50 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	e2e_server_stop(srv);
	return false;
}

int e2e_server_stop(struct e2e_server *srv)
{
	int status;
	if (srv->pid <= 0)
		return -1;
	kill(srv->pid, SIGTERM);
	pid_t w;
	for (int waited_ms = 0;; waited_ms += 20) {
		w = waitpid(srv->pid, &status, WNOHANG);
		if (w != 0 && !(w < 0 && errno == EINTR))
			break;
		if (waited_ms >= E2E_STOP_MS) {
			/* Still there: end it (no coverage data from it then). */
			kill(srv->pid, SIGKILL);
			do
				w = waitpid(srv->pid, &status, 0);
			while (w < 0 && errno == EINTR);
			break;
		}
		struct timespec nap = {0, 20 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	srv->pid = 0;
	if (w < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const char *e2e_url(const struct e2e_server *srv, const char *path)
{
	static _Thread_local char url[1024];
	snprintf(url, sizeof(url), "%s%s", srv->base_url, path);
	return url;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	buf_append(ud, ptr, size * nmemb);
	return size * nmemb;
}

struct upload {
	const char *data;
	size_t len, off;
};

static size_t on_read(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct upload *u = ud;
	size_t n = size * nmemb;
	if (n > u->len - u->off)
		n = u->len - u->off;
	if (n > 4096)
		n = 4096; /* several chunks */
	memcpy(ptr, u->data + u->off, n);
	u->off += n;
	return n;
}

static bool do_request(const char *method, const char *url, const char *const *headers,
		       const char *body, size_t body_len, bool chunked, struct e2e_resp *out)
{
	memset(out, 0, sizeof(*out));
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	struct upload up = {body, body_len, 0};
	if (!c)
		return false;
	for (const char *const *h = headers; h && *h; h++)
		hl = curl_slist_append(hl, *h);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body && chunked) {
		hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &up);
	} else if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		if (out->body.len)
			out->json = json_loadb(out->body.data, out->body.len, 0, NULL);
	} else {
		long os_errno = 0;
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
		fprintf(stderr, "e2e: %s %s: %s (errno %ld)\n", method, url, curl_easy_strerror(rc),
			os_errno);
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc == CURLE_OK;
}

bool e2e_request(const char *method, const char *url, const char *const *headers, const char *body,
		 size_t body_len, struct e2e_resp *out)
{
	return do_request(method, url, headers, body, body_len, false, out);
}

bool e2e_request_chunked(const char *method, const char *url, const char *const *headers,
			 const char *body, size_t body_len, struct e2e_resp *out)
{
	return do_request(method, url, headers, body, body_len, true, out);
}

bool e2e_header(const struct e2e_resp *r, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);
	bool found = false;
	const char *p = r->headers.data;
	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > n && p[n] == ':' && strncasecmp(p, name, n) == 0) {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			size_t vlen = len - (size_t)(v - p);
			if (vlen >= outlen)
				vlen = outlen - 1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			found = true;
		}
		if (!eol)
			break;
		p = eol + 2;
	}
	return found;
}

const char *e2e_code(const struct e2e_resp *r)
{
	const char *c = json_string_value(json_object_get(r->json, "code"));
	return c ? c : "";
}

void e2e_resp_free(struct e2e_resp *r)
{
	buf_free(&r->body);
	buf_free(&r->headers);
	json_decref(r->json);
	r->json = NULL;
}

/* --- child processes (additions for tests/e2e) --- */

/* Forks and execs path; out_fd and err_fd (or -1 to inherit) become the
 * child's stdout and stderr. */
static pid_t spawn_fds(const char *path, char *const argv[], const char *const *extra_env,
		       const char *const *unset_env, int out_fd, int err_fd)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (out_fd >= 0)
		dup2(out_fd, STDOUT_FILENO);
	if (err_fd >= 0)
		dup2(err_fd, STDERR_FILENO);
	for (const char *const *u = unset_env; u && *u; u++)
		unsetenv(*u);
	apply_env(extra_env);
	execvp(path, argv);
	_exit(127);
}

pid_t e2e_spawn(const char *path, char *const argv[], const char *const *extra_env,
		const char *const *unset_env, const char *out_path)
{
	int fd = -1;
	if (out_path) {
		fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
	}
	pid_t pid = spawn_fds(path, argv, extra_env, unset_env, fd, fd);
	if (fd >= 0)
		close(fd);
	return pid < 0 ? -1 : pid;
}

int e2e_wait(pid_t pid)
{
	int status;
	pid_t w;
	if (pid <= 0)
		return -1;
	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Appends what f holds (from its start) to b. */
static void slurp(FILE *f, struct buf *b)
{
	char chunk[4096];
	size_t n;
	rewind(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	if (!b->data)
		buf_append(b, "", 0);
}

/* Waits for pid at most timeout_s seconds (forever when <= 0), then kills
 * it; returns as e2e_wait. */
static int wait_bounded(pid_t pid, int timeout_s)
{
	struct timespec start, now;
	int status;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (timeout_s > 0) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (w < 0 && errno != EINTR)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= timeout_s) {
			kill(pid, SIGKILL);
			break;
		}
		struct timespec nap = {0, 20 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	return e2e_wait(pid);
}

int e2e_run_capture(const char *path, char *const argv[], const char *const *extra_env,
		    const char *const *unset_env, int timeout_s, struct buf *out, struct buf *err)
{
	FILE *fo = tmpfile();
	FILE *fe = tmpfile();
	int rc = -1;
	if (!fo || !fe)
		goto done;
	fflush(NULL); /* nothing buffered is written twice by the child */
	pid_t pid = spawn_fds(path, argv, extra_env, unset_env, fileno(fo), fileno(fe));
	if (pid < 0)
		goto done;
	rc = wait_bounded(pid, timeout_s);
	if (out)
		slurp(fo, out);
	if (err)
		slurp(fe, err);
done:
	if (fo)
		fclose(fo);
	if (fe)
		fclose(fe);
	return rc;
}

bool e2e_read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	slurp(f, b);
	fclose(f);
	return true;
}
