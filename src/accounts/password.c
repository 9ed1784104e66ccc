#include "accounts/password.h"

#include <errno.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cinema/clock.h"
#include "cinema/log.h"
#include "cinema/mem.h"

#define PW_OPSLIMIT 2ULL
#define PW_MEMLIMIT (19u * 1024u * 1024u)

struct password_hasher {
	sem_t slots;
	int wait_ms;
	char dummy[PASSWORD_HASH_MAX]; /* verified against for unknown accounts */
};

static bool slot_take(struct password_hasher *ph)
{
	struct timespec deadline = deadline_after_ms(CLOCK_REALTIME, ph->wait_ms);
	while (sem_timedwait(&ph->slots, &deadline) != 0) {
		if (errno != EINTR) {
			LOG_WARN("password hashing saturated");
			return false;
		}
	}
	return true;
}

struct password_hasher *password_hasher_new(int concurrency, int wait_ms)
{
	struct password_hasher *ph = xcalloc(1, sizeof(*ph));
	sem_init(&ph->slots, 0, (unsigned)(concurrency > 0 ? concurrency : 1));
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
	sem_destroy(&ph->slots);
	free(ph);
}

enum err password_hash(struct password_hasher *ph, const char *pw, char out[PASSWORD_HASH_MAX])
{
	if (!slot_take(ph))
		return ERR_DB_BUSY;
	int rc = crypto_pwhash_str(out, pw, strlen(pw), PW_OPSLIMIT, PW_MEMLIMIT);
	sem_post(&ph->slots);
	return rc == 0 ? ERR_OK : ERR_INTERNAL;
}

enum err password_verify(struct password_hasher *ph, const char *hash, const char *pw, bool *ok)
{
	*ok = false;
	if (!slot_take(ph))
		return ERR_DB_BUSY;
	int rc = crypto_pwhash_str_verify(hash ? hash : ph->dummy, pw, strlen(pw));
	sem_post(&ph->slots);
	*ok = hash && rc == 0;
	return ERR_OK;
}
