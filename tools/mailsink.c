/* cinema-mailsink: a local SMTP server that stores every message it receives
 * as a file, for development (scripts/run.sh) and tests. Never a relay: it
 * listens on loopback by default and delivers nothing anywhere.
 *
 *   cinema-mailsink --dir DIR [--host 127.0.0.1] [--port 1025]
 *
 * Each message becomes DIR/<unix-ms>-<n>.eml (written to a temporary name and
 * renamed, so a reader never sees half a message), starting with
 * X-Sink-Mail-From and X-Sink-Rcpt-To lines for the envelope. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cinema/buf.h"
#include "cinema/mem.h"

#define LINE_MAX_BYTES	  2048
#define MESSAGE_MAX_BYTES (10 * 1024 * 1024)

struct sink {
	const char *dir;
	atomic_uint counter;
};

struct session {
	struct sink *sink;
	int fd;
	char rbuf[8192];
	size_t rlen;
};

static bool send_line(int fd, const char *s)
{
	size_t n = strlen(s), off = 0;
	while (off < n) {
		ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		off += (size_t)w;
	}
	return true;
}

/* Reads one CRLF- or LF-terminated line (terminator stripped) into line.
 * Returns the length, or -1 on EOF, error or an overlong line. */
static long read_line(struct session *s, char *line, size_t cap)
{
	for (;;) {
		char *nl = memchr(s->rbuf, '\n', s->rlen);
		if (nl) {
			size_t n = (size_t)(nl - s->rbuf);
			size_t keep = n && s->rbuf[n - 1] == '\r' ? n - 1 : n;
			if (keep >= cap)
				return -1;
			memcpy(line, s->rbuf, keep);
			line[keep] = '\0';
			memmove(s->rbuf, nl + 1, s->rlen - n - 1);
			s->rlen -= n + 1;
			return (long)keep;
		}
		if (s->rlen == sizeof(s->rbuf))
			return -1;
		ssize_t r = recv(s->fd, s->rbuf + s->rlen, sizeof(s->rbuf) - s->rlen, 0);
		if (r <= 0)
			return -1;
		s->rlen += (size_t)r;
	}
}

static bool store(struct sink *sink, const struct buf *envelope, const struct buf *data)
{
	char tmp[4096], final[4096];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	unsigned n = atomic_fetch_add(&sink->counter, 1);
	long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%d-%u", sink->dir, getpid(), n);
	snprintf(final, sizeof(final), "%s/%013lld-%d-%06u.eml", sink->dir, ms, getpid(), n);
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return false;
	bool ok = fwrite(envelope->data, 1, envelope->len, f) == envelope->len &&
		  fwrite(data->data, 1, data->len, f) == data->len;
	ok = fclose(f) == 0 && ok;
	if (ok && rename(tmp, final) == 0) {
		printf("mailsink: stored %s\n", final);
		fflush(stdout);
		return true;
	}
	unlink(tmp);
	return false;
}

static void *serve(void *arg)
{
	struct session *s = arg;
	char line[LINE_MAX_BYTES];
	struct buf envelope = BUF_INIT, data = BUF_INIT;
	bool have_from = false;
	int nrcpt = 0;

	send_line(s->fd, "220 cinema-mailsink ESMTP ready\r\n");
	while (read_line(s, line, sizeof(line)) >= 0) {
		if (strncasecmp(line, "EHLO", 4) == 0) {
			send_line(s->fd,
				  "250-cinema-mailsink\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n"
				  "250 SMTPUTF8\r\n");
		} else if (strncasecmp(line, "HELO", 4) == 0) {
			send_line(s->fd, "250 cinema-mailsink\r\n");
		} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			buf_reset(&envelope);
			buf_printf(&envelope, "X-Sink-Mail-From: %s\r\n", line + 10);
			have_from = true;
			nrcpt = 0;
			send_line(s->fd, "250 OK\r\n");
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
			if (!have_from) {
				send_line(s->fd, "503 MAIL first\r\n");
				continue;
			}
			buf_printf(&envelope, "X-Sink-Rcpt-To: %s\r\n", line + 8);
			nrcpt++;
			send_line(s->fd, "250 OK\r\n");
		} else if (strcasecmp(line, "DATA") == 0) {
			if (!nrcpt) {
				send_line(s->fd, "503 RCPT first\r\n");
				continue;
			}
			send_line(s->fd, "354 End data with <CR><LF>.<CR><LF>\r\n");
			buf_reset(&data);
			long n;
			bool too_big = false;
			while ((n = read_line(s, line, sizeof(line))) >= 0) {
				if (strcmp(line, ".") == 0)
					break;
				const char *l = line[0] == '.' ? line + 1 : line; /* unstuff */
				if (data.len + (size_t)n + 2 > MESSAGE_MAX_BYTES)
					too_big = true;
				else
					buf_printf(&data, "%s\r\n", l);
			}
			if (n < 0)
				break;
			if (too_big)
				send_line(s->fd, "552 Message too large\r\n");
			else if (store(s->sink, &envelope, &data))
				send_line(s->fd, "250 OK stored\r\n");
			else
				send_line(s->fd, "451 Cannot store the message\r\n");
			have_from = false;
			nrcpt = 0;
		} else if (strcasecmp(line, "RSET") == 0) {
			have_from = false;
			nrcpt = 0;
			send_line(s->fd, "250 OK\r\n");
		} else if (strcasecmp(line, "NOOP") == 0) {
			send_line(s->fd, "250 OK\r\n");
		} else if (strcasecmp(line, "QUIT") == 0) {
			send_line(s->fd, "221 Bye\r\n");
			break;
		} else {
			send_line(s->fd, "502 Command not implemented\r\n");
		}
	}
	close(s->fd);
	buf_free(&envelope);
	buf_free(&data);
	free(s);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *dir = NULL;
	int port = 1025;
	struct sink sink;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
			host = argv[++i];
		else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: cinema-mailsink --dir DIR [--host H] [--port P]\n");
			return 2;
		}
	}
	if (!dir || port < 1 || port > 65535) {
		fprintf(stderr, "usage: cinema-mailsink --dir DIR [--host H] [--port P]\n");
		return 2;
	}
	mkdir(dir, 0700);
	sink.dir = dir;
	atomic_init(&sink.counter, 0);
	signal(SIGPIPE, SIG_IGN);

	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		fprintf(stderr, "cinema-mailsink: --host must be an IPv4 address\n");
		return 2;
	}
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(lfd, 64) != 0) {
		fprintf(stderr, "cinema-mailsink: cannot listen on %s:%d: %s\n", host, port,
			strerror(errno));
		return 1;
	}
	printf("mailsink: listening on %s:%d, storing in %s\n", host, port, dir);
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		struct timeval tv = {30, 0};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		struct session *s = xcalloc(1, sizeof(*s));
		s->sink = &sink;
		s->fd = fd;
		pthread_t t;
		if (pthread_create(&t, NULL, serve, s) != 0) {
			close(fd);
			free(s);
			continue;
		}
		pthread_detach(t);
	}
}
