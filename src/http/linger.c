/* Lingering sockets: a fixed table of slots, an epoll set whose events carry
 * the slot number, one thread draining and expiring them. */
#include "http/linger.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cinema/clock.h"
#include "cinema/log.h"
#include "cinema/mem.h"

#define WAKE_SLOT UINT32_MAX

struct slot {
	int fd; /* -1: free */
	int64_t started_ms, last_ms;
};

struct linger_set {
	pthread_mutex_t lock; /* guards the slot table */
	struct slot slots[LINGER_MAX];
	int epfd, wakefd;
	bool stop;
	pthread_t thread;
};

static void slot_close(struct linger_set *l, struct slot *s)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
}

/* Reads and drops what the peer sent. False when the socket is done with:
 * the peer closed, or an error. Lock held. */
static bool slot_drain(struct slot *s, int64_t now)
{
	static char sink[16384]; /* only the linger thread reads into it */
	for (;;) {
		ssize_t n = recv(s->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n > 0) {
			s->last_ms = now;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
}

static void *linger_main(void *arg)
{
	struct linger_set *l = arg;
	struct epoll_event evs[64];
	for (;;) {
		int n = epoll_wait(l->epfd, evs, 64, 100);
		int64_t now = mono_ms();
		pthread_mutex_lock(&l->lock);
		if (l->stop) {
			pthread_mutex_unlock(&l->lock);
			break;
		}
		for (int i = 0; i < n; i++) {
			uint32_t idx = evs[i].data.u32;
			if (idx == WAKE_SLOT || idx >= LINGER_MAX || l->slots[idx].fd < 0)
				continue;
			struct slot *s = &l->slots[idx];
			if (!slot_drain(s, now) || (evs[i].events & (EPOLLHUP | EPOLLERR)))
				slot_close(l, s);
		}
		for (uint32_t i = 0; i < LINGER_MAX; i++) {
			struct slot *s = &l->slots[i];
			if (s->fd >= 0 && (now - s->started_ms >= LINGER_TOTAL_MS ||
					   now - s->last_ms >= LINGER_IDLE_MS))
				slot_close(l, s);
		}
		pthread_mutex_unlock(&l->lock);
	}
	return NULL;
}

struct linger_set *linger_new(void)
{
	struct linger_set *l = xcalloc(1, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	for (size_t i = 0; i < LINGER_MAX; i++)
		l->slots[i].fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = WAKE_SLOT};
	if (l->epfd < 0 || l->wakefd < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) != 0 ||
	    pthread_create(&l->thread, NULL, linger_main, l) != 0) {
		LOG_ERROR("cannot start the lingering-close thread");
		if (l->epfd >= 0)
			close(l->epfd);
		if (l->wakefd >= 0)
			close(l->wakefd);
		pthread_mutex_destroy(&l->lock);
		free(l);
		return NULL;
	}
	return l;
}

void linger_take(struct linger_set *l, int fd)
{
	if (fd < 0)
		return;
	if (!l) {
		close(fd);
		return;
	}
	int64_t now = mono_ms();
	pthread_mutex_lock(&l->lock);
	struct slot *s = NULL;
	uint32_t idx = 0;
	for (; !l->stop && idx < LINGER_MAX; idx++)
		if (l->slots[idx].fd < 0) {
			s = &l->slots[idx];
			break;
		}
	if (s) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = idx};
		shutdown(fd, SHUT_WR); /* the answer is out: send FIN after it */
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
			s->fd = fd;
			s->started_ms = s->last_ms = now;
		} else {
			close(fd);
		}
	} else {
		close(fd);
	}
	pthread_mutex_unlock(&l->lock);
}

void linger_free(struct linger_set *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_mutex_unlock(&l->lock);
	uint64_t one = 1;
	if (write(l->wakefd, &one, sizeof(one)) < 0)
		LOG_WARN("cannot wake the lingering-close thread");
	pthread_join(l->thread, NULL);
	for (size_t i = 0; i < LINGER_MAX; i++)
		if (l->slots[i].fd >= 0)
			slot_close(l, &l->slots[i]);
	close(l->wakefd);
	close(l->epfd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
