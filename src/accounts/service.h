/* Accounts business rules: registration to administration. Each function
 * runs its own transaction(s) and never holds a database connection while
 * hashing a password. */
#ifndef CINEMA_ACCOUNTS_SERVICE_H
#define CINEMA_ACCOUNTS_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "accounts/repo.h"
#include "accounts/tokens.h"
#include "cinema/app.h"
#include "cinema/http.h"

#define ACTIVATION_TTL_S (24 * 3600)
#define RESET_TTL_S	 3600

struct token_pair {
	char *access; /* owned */
	char refresh[TOKEN_RAW_LEN + 1];
	int expires_in;
};
void token_pair_clear(struct token_pair *t);

enum err accounts_register(const struct app *app, const char *email, const char *password,
			   long long *id);
enum err accounts_activate_token(const struct app *app, const char *token, long long *user_id);
/* Sends a new activation link if email is an inactive account; silent
 * otherwise (the caller answers 202 either way). */
enum err accounts_resend_activation(const struct app *app, const char *email);
enum err accounts_login(const struct app *app, const char *email, const char *password,
			struct token_pair *out);
/* The /docs sign-in: checks email and password like accounts_login and
 * starts a session of ttl_s seconds that no refresh token continues; fills
 * who (user, group, session). Same errors as accounts_login. */
enum err accounts_docs_login(const struct app *app, const char *email, const char *password,
			     int ttl_s, struct http_identity *who);
/* The docs cookie of a live session (see jwt_docs_verify), or
 * ERR_UNAUTHORIZED; fills who with the current group. */
enum err accounts_docs_authenticate(const struct app *app, const char *cookie,
				    struct http_identity *who);
/* A new access token in who's session, for the docs page to try the API
 * with. *access is owned (free with free()). */
enum err accounts_session_access(const struct app *app, const struct http_identity *who,
				 char **access, int *expires_in);
enum err accounts_refresh(const struct app *app, const char *refresh_token, struct token_pair *out);
enum err accounts_logout(const struct app *app, const struct http_identity *who,
			 const char *refresh_token);
enum err accounts_change_password(const struct app *app, const struct http_identity *who,
				  const char *old_pw, const char *new_pw);
enum err accounts_forgot_password(const struct app *app, const char *email);
enum err accounts_reset_password(const struct app *app, const char *token, const char *new_pw);

/* The http_authenticate_fn of the server: JWT, then the live session. */
enum err accounts_authenticate(const struct app *app, const char *bearer,
			       struct http_identity *who);

/* From the shell (cinema-api create-user). */
enum err accounts_create_user(const struct app *app, const char *email, const char *password,
			      enum http_access group, bool active, long long *id);

enum err accounts_user(const struct app *app, long long user_id, json_t **out);
enum err accounts_update_profile(const struct app *app, long long user_id, const json_t *fields,
				 json_t **out);
/* Points the profile at a stored avatar object. */
enum err accounts_set_avatar(const struct app *app, long long user_id, const char *key,
			     json_t **out);
/* Admin: one page of users matching f, and how many match in all. */
enum err accounts_list_users(const struct app *app, const struct user_filter *f, json_t **items,
			     long long *total);
/* Admin: group and/or is_active (NULL: unchanged). Deactivation ends every
 * session of the user. An admin cannot change themselves. */
enum err accounts_admin_update(const struct app *app, const struct http_identity *who,
			       long long user_id, const enum http_access *group, const bool *active,
			       json_t **out);

#endif
