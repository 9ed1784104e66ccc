/* Lingering close, as nginx's lingering_close: when the server answers
 * before it has read a request's body (401 on the headers, 413), closing
 * the socket with unread input makes the kernel send a reset, and a reset
 * can destroy the answer before the client has read it. Instead the socket
 * is handed here: what the client still sends is read and dropped for a
 * bounded time, then the socket is closed cleanly.
 *
 * One thread and one epoll set; at most LINGER_MAX sockets at once (more
 * are closed at once). Thread-safe. */
#ifndef CINEMA_HTTP_LINGER_H
#define CINEMA_HTTP_LINGER_H

#include <stddef.h>

#define LINGER_MAX	1024
#define LINGER_TOTAL_MS 5000 /* longest a socket lingers */
#define LINGER_IDLE_MS	1000 /* ... or this long with nothing received */

struct linger_set;

struct linger_set *linger_new(void);
/* Takes fd (a socket whose answer has been written and that the caller will
 * not use again: typically a dup of one that libmicrohttpd closes): shuts
 * its sending side down and drains its input until the peer closes, goes
 * quiet, or time is up. Closes fd in every case (at once when l is NULL or
 * full). */
void linger_take(struct linger_set *l, int fd);
/* Closes every lingering socket and stops the thread. Accepts NULL. */
void linger_free(struct linger_set *l);

#endif
