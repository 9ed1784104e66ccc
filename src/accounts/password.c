#include "accounts/password.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cinema/clock.h"
#include "cinema/log.h"
#include "cinema/mem.h"

#define PW_OPSLIMIT 2ULL
#define PW_MEMLIMIT (19u * 1024u * 1024u)

/* A thread waiting for a slot, queued on its own stack. Each waiter has its
 * own condition variable, so a freed slot wakes exactly the thread whose
 * turn it is, not every waiter. */
struct slot_waiter {
	struct slot_waiter *next;
	pthread_cond_t wake;
	bool granted; /* a releasing thread handed its slot over and dequeued us */
};

/* Slots are served first come, first served: a thread that finds a free
 * slot and nobody waiting takes it; otherwise it joins the tail of the
 * queue, and a thread done with its slot hands it straight to the head
 * (the slot never becomes free while someone waits, so a newcomer cannot
 * overtake the queue). A waiter that times out unlinks itself, wherever it
 * is, and the order of the others stays as it was. */
struct password_hasher {
	pthread_mutex_t lock;
	pthread_condattr_t wake_attr; /* CLOCK_MONOTONIC, for the waiters' deadlines */
	int free_slots;
	int waiting;
	struct slot_waiter *head, **tail; /* the queue, oldest first */
	int wait_ms;
	char dummy[PASSWORD_HASH_MAX]; /* verified against for unknown accounts */
};

/* Unlinks w (queued) from the queue. Called with the lock held. */
static void queue_remove(struct password_hasher *ph, struct slot_waiter *w)
{
	struct slot_waiter **p = &ph->head;
	while (*p != w)
		p = &(*p)->next;
	*p = w->next;
	if (ph->tail == &w->next)
		ph->tail = p;
	ph->waiting--;
}

bool password_slot_take(struct password_hasher *ph, long wait_ms)
{
	struct slot_waiter me = {.next = NULL, .granted = false};
	bool ok;

	pthread_mutex_lock(&ph->lock);
	if (!ph->head && ph->free_slots > 0) {
		ph->free_slots--;
		pthread_mutex_unlock(&ph->lock);
		return true;
	}
	if (pthread_cond_init(&me.wake, &ph->wake_attr) != 0)
		abort(); /* resource exhaustion, fatal like xmalloc */
	*ph->tail = &me;
	ph->tail = &me.next;
	ph->waiting++;
	struct timespec deadline = deadline_after_ms(CLOCK_MONOTONIC, wait_ms);
	while (!me.granted && pthread_cond_timedwait(&me.wake, &ph->lock, &deadline) != ETIMEDOUT)
		;
	/* Granted even when the wait timed out at the same moment: the slot is
	 * ours, keep it. */
	ok = me.granted;
	if (!ok)
		queue_remove(ph, &me);
	pthread_mutex_unlock(&ph->lock);
	/* Nobody signals me.wake any more: a releasing thread does it under
	 * the lock, after dequeuing us. */
	pthread_cond_destroy(&me.wake);
	if (!ok)
		LOG_WARN("password hashing saturated");
	return ok;
}

void password_slot_give(struct password_hasher *ph)
{
	pthread_mutex_lock(&ph->lock);
	struct slot_waiter *w = ph->head;
	if (w) {
		ph->head = w->next;
		if (!ph->head)
			ph->tail = &ph->head;
		ph->waiting--;
		w->granted = true;
		pthread_cond_signal(&w->wake);
	} else {
		ph->free_slots++;
	}
	pthread_mutex_unlock(&ph->lock);
}

int password_hasher_waiting(struct password_hasher *ph)
{
	pthread_mutex_lock(&ph->lock);
	int n = ph->waiting;
	pthread_mutex_unlock(&ph->lock);
	return n;
}

struct password_hasher *password_hasher_new(int concurrency, int wait_ms)
{
	struct password_hasher *ph = xcalloc(1, sizeof(*ph));
	if (pthread_mutex_init(&ph->lock, NULL) != 0 ||
	    pthread_condattr_init(&ph->wake_attr) != 0 ||
	    pthread_condattr_setclock(&ph->wake_attr, CLOCK_MONOTONIC) != 0)
		abort(); /* resource exhaustion, fatal like xmalloc */
	ph->free_slots = concurrency > 0 ? concurrency : 1;
	ph->head = NULL;
	ph->tail = &ph->head;
	ph->wait_ms = wait_ms;
	unsigned char rnd[16];
	char pw[33];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(pw, sizeof(pw), rnd, sizeof(rnd));
	if (crypto_pwhash_str(ph->dummy, pw, strlen(pw), PW_OPSLIMIT, PW_MEMLIMIT) != 0)
		abort(); /* out of memory at startup */
	return ph;
}

void password_hasher_free(struct password_hasher *ph)
{
	if (!ph)
		return;
	pthread_condattr_destroy(&ph->wake_attr);
	pthread_mutex_destroy(&ph->lock);
	free(ph);
}

enum err password_hash(struct password_hasher *ph, const char *pw, char out[PASSWORD_HASH_MAX])
{
	if (!password_slot_take(ph, ph->wait_ms))
		return ERR_DB_BUSY;
	int rc = crypto_pwhash_str(out, pw, strlen(pw), PW_OPSLIMIT, PW_MEMLIMIT);
	password_slot_give(ph);
	return rc == 0 ? ERR_OK : ERR_INTERNAL;
}

enum err password_verify(struct password_hasher *ph, const char *hash, const char *pw, bool *ok)
{
	*ok = false;
	if (!password_slot_take(ph, ph->wait_ms))
		return ERR_DB_BUSY;
	int rc = crypto_pwhash_str_verify(hash ? hash : ph->dummy, pw, strlen(pw));
	password_slot_give(ph);
	*ok = hash && rc == 0;
	return ERR_OK;
}
