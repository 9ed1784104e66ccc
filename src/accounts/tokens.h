/* Opaque one-time tokens and signed access tokens.
 *
 * Opaque tokens (activation, password reset, refresh) are 32 random bytes,
 * base64url without padding (43 characters). Only their SHA-256 (64 hex
 * digits) is stored; the raw token exists only in the response or email.
 *
 * Access tokens are HS256 JWTs (libjwt 1.10) with claims sub (user id as a
 * string), grp, sid (session), jti, typ = "access", iat, exp. Verification
 * always passes the key, requires alg HS256 (exactly: the raw header is
 * read, since libjwt 1.10 also takes "hs256") and checks every claim
 * itself: libjwt 1.10 checks none of them. */
#ifndef CINEMA_ACCOUNTS_TOKENS_H
#define CINEMA_ACCOUNTS_TOKENS_H

#include <stdbool.h>
#include <time.h>

#include "cinema/error.h"
#include "cinema/http.h"

#define TOKEN_RAW_LEN  43
#define TOKEN_HASH_LEN 64

/* Fills raw (44 bytes) with a new token and hash (65 bytes) with its hash. */
void token_new(char raw[TOKEN_RAW_LEN + 1], char hash[TOKEN_HASH_LEN + 1]);
/* Hashes a token received from a client. False if it cannot be one (wrong
 * length or alphabet): no need to look it up. */
bool token_hash(const char *raw, char hash[TOKEN_HASH_LEN + 1]);

const char *group_name(enum http_access group);
/* "USER", "MODERATOR", "ADMIN"; false for anything else. */
bool group_parse(const char *name, enum http_access *out);

struct access_claims {
	long long user_id;
	enum http_access group;
	char session_id[40];
	time_t expires_at;
};

/* Signs an access token for claims (expires_at = now + ttl). Returns an
 * owned string (free with free()), or NULL on failure. */
char *jwt_access_issue(const char *secret, long long user_id, enum http_access group,
		       const char *session_id, int ttl_s, time_t now);
/* Verifies signature, algorithm and every claim. ERR_OK, or
 * ERR_UNAUTHORIZED for anything wrong (never says which, to the caller). */
enum err jwt_access_verify(const char *secret, const char *token, time_t now,
			   struct access_claims *out);

/* The /docs session cookie: an HS256 JWT with typ = "docs", sub and sid,
 * the server-side session it belongs to (so logout and deactivation end
 * it at once; the caller checks the session). */
char *jwt_docs_issue(const char *secret, long long user_id, const char *session_id, int ttl_s,
		     time_t now);
/* ERR_OK with user_id and session_id (40 bytes) filled, or ERR_UNAUTHORIZED. */
enum err jwt_docs_verify(const char *secret, const char *token, time_t now, long long *user_id,
			 char session_id[40]);

#endif
