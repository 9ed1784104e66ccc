/* Password hashing with Argon2id (libsodium crypto_pwhash_str) at OWASP's
 * minimum: 19 MiB of memory, 2 passes. Each hash costs tens of milliseconds
 * and 19 MiB, so at most `concurrency` run at once and HTTP threads are never
 * all stuck hashing; callers wait up to wait_ms for a turn, served in the
 * order they came (FIFO), so under a burst no caller waits much longer
 * than those that came before it. Thread-safe. */
#ifndef CINEMA_ACCOUNTS_PASSWORD_H
#define CINEMA_ACCOUNTS_PASSWORD_H

#include <sodium.h>
#include <stdbool.h>

#include "cinema/error.h"

#define PASSWORD_HASH_MAX crypto_pwhash_STRBYTES

struct password_hasher;

/* concurrency below 1 counts as 1. Aborts when out of resources. */
struct password_hasher *password_hasher_new(int concurrency, int wait_ms);
/* Accepts NULL. No thread may be using ph any more. */
void password_hasher_free(struct password_hasher *ph);

/* Hashes pw into out. ERR_OK, or ERR_DB_BUSY when no hashing slot freed up
 * within wait_ms (answered as 503: the server is saturated). */
enum err password_hash(struct password_hasher *ph, const char *pw, char out[PASSWORD_HASH_MAX]);
/* Checks pw against hash; *ok tells. With hash NULL it checks against a
 * dummy hash, so an unknown account costs the same time as a known one. */
enum err password_verify(struct password_hasher *ph, const char *hash, const char *pw, bool *ok);

/* The slots on their own, as password_hash and password_verify use them
 * with the hasher's wait_ms (exported for tests). password_slot_take waits
 * its turn (FIFO) for up to wait_ms and returns whether it got a slot,
 * logging a warning when not; each slot taken is given back once with
 * password_slot_give. */
bool password_slot_take(struct password_hasher *ph, long wait_ms);
void password_slot_give(struct password_hasher *ph);
/* The number of threads queued for a slot right now. */
int password_hasher_waiting(struct password_hasher *ph);

#endif
