/* SQL for the accounts tables (migrations 0001 and 0003). Every function
 * runs on a connection the caller holds (inside its transaction when it has
 * one) and maps "no such row" to ERR_NOT_FOUND. */
#ifndef CINEMA_ACCOUNTS_REPO_H
#define CINEMA_ACCOUNTS_REPO_H

#include <jansson.h>
#include <stdbool.h>

#include "accounts/password.h"
#include "cinema/db.h"
#include "cinema/http.h"

struct user_row {
	long long id;
	char email[256];
	char hashed_password[PASSWORD_HASH_MAX];
	bool is_active;
	bool deactivated; /* by an admin, as opposed to never activated */
	enum http_access group;
};

/* Inserts a user and an empty profile. ERR_EMAIL_TAKEN on a duplicate email
 * (case-insensitive). */
enum err accounts_user_insert(struct db_conn *c, const char *email, const char *hash,
			      enum http_access group, bool active, long long *id);
enum err accounts_user_by_email(struct db_conn *c, const char *email, struct user_row *out);
enum err accounts_user_by_id(struct db_conn *c, long long id, struct user_row *out);
enum err accounts_user_set_password(struct db_conn *c, long long user_id, const char *hash);
/* Sets group and/or is_active (NULL: unchanged). */
enum err accounts_user_update(struct db_conn *c, long long user_id, const enum http_access *group,
			      const bool *active);

/* Replaces the activation token of user_id. */
enum err accounts_activation_put(struct db_conn *c, long long user_id, const char *hash, int ttl_s);
/* For the account with email if it exists and is inactive: replaces its
 * activation token and returns its id in *user_id, else *user_id = 0. The
 * same statements run either way (no timing difference). */
enum err accounts_activation_put_by_email(struct db_conn *c, const char *email, const char *hash,
					  int ttl_s, long long *user_id);
/* Activates the account of the token and deletes the token.
 * ERR_TOKEN_INVALID or ERR_TOKEN_EXPIRED otherwise. */
enum err accounts_activate(struct db_conn *c, const char *hash, long long *user_id);

/* As accounts_activation_put_by_email, for active accounts and reset tokens. */
enum err accounts_reset_put_by_email(struct db_conn *c, const char *email, const char *hash,
				     int ttl_s, long long *user_id);
/* Deletes the reset token and returns its user. ERR_TOKEN_INVALID or
 * ERR_TOKEN_EXPIRED otherwise. */
enum err accounts_reset_take(struct db_conn *c, const char *hash, long long *user_id);
/* Deletes the user's reset token, if any: a link sent before the password
 * changed must not set it again. */
enum err accounts_reset_end_user(struct db_conn *c, long long user_id);

/* Starts a session with its first refresh token; sid gets its uuid. */
enum err accounts_session_create(struct db_conn *c, long long user_id, const char *refresh_hash,
				 int ttl_s, char sid[40]);

struct refresh_outcome {
	long long user_id;
	char sid[40];
	bool reused; /* the token had been used: its session must end */
};
/* Marks the refresh token used and adds new_hash to its session. ERR_OK
 * with out->reused set when the token was already used; ERR_REFRESH_INVALID,
 * ERR_REFRESH_EXPIRED, ERR_SESSION_REVOKED otherwise. */
enum err accounts_refresh_rotate(struct db_conn *c, const char *old_hash, const char *new_hash,
				 int ttl_s, struct refresh_outcome *out);
/* Ends one session, or every session of user_id except keep_sid (NULL: all). */
enum err accounts_session_revoke(struct db_conn *c, const char *sid, const char *reason);
enum err accounts_sessions_revoke_user(struct db_conn *c, long long user_id, const char *keep_sid,
				       const char *reason);
/* For the authenticator: the live session's user, with the current group.
 * ERR_SESSION_REVOKED if the session ended or the account is inactive. */
enum err accounts_session_check(struct db_conn *c, const char *sid, long long user_id,
				enum http_access *group);
/* The session of user_id's refresh token hash; ERR_NOT_FOUND if it is not
 * one of theirs. */
enum err accounts_refresh_session(struct db_conn *c, long long user_id, const char *hash,
				  char sid[40]);

/* The user as GET /accounts/me shows it; owned JSON. avatar holds the S3
 * key (the handler turns it into a URL). */
enum err accounts_user_json(struct db_conn *c, long long user_id, json_t **out);
/* Updates the profile fields present in fields (borrowed, validated). */
enum err accounts_profile_update(struct db_conn *c, long long user_id, const json_t *fields);
/* Points the profile at key; old_key gets the previous one ("" if none). */
enum err accounts_avatar_set(struct db_conn *c, long long user_id, const char *key,
			     char old_key[1025]);

struct user_filter {
	const char *group;     /* NULL: any */
	const char *is_active; /* "true", "false" or NULL */
	const char *email;     /* substring, case-insensitive; NULL: any */
	long long limit, offset;
};
/* One page of users (owned JSON array) and the total count. */
enum err accounts_user_list(struct db_conn *c, const struct user_filter *f, json_t **items,
			    long long *total);

struct expired_tokens {
	long long activation;
	long long password_reset;
	long long refresh;
	long long sessions;
};
/* Deletes expired activation, reset and refresh tokens and ended sessions,
 * in one statement, and counts them. Tokens still valid stay. */
enum err accounts_delete_expired_tokens(struct db_pool *pool, struct expired_tokens *out);

#endif
