/* SQL for the accounts tables (migrations/0001_accounts.sql). */
#ifndef CINEMA_ACCOUNTS_REPO_H
#define CINEMA_ACCOUNTS_REPO_H

#include "cinema/db.h"

struct expired_tokens {
	long long activation;
	long long password_reset;
	long long refresh;
};

/* Deletes every activation, password-reset and refresh token whose expiry has
 * passed, in one transaction, and counts them. Tokens still valid stay. */
enum err accounts_delete_expired_tokens(struct db_pool *pool, struct expired_tokens *out);

#endif
