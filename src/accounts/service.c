/* Accounts business rules (see service.h). Pattern: validate and hash
 * outside any transaction, then one short transaction per change that also
 * records the email job it causes, then announce the job after commit. */
#include "accounts/service.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/password.h"
#include "accounts/repo.h"
#include "cinema/config.h"
#include "cinema/db.h"
#include "cinema/jobs.h"
#include "cinema/log.h"
#include "storage/s3.h"

void token_pair_clear(struct token_pair *t)
{
	free(t->access);
	memset(t, 0, sizeof(*t));
}

/* Runs fn(conn, ctx) on a pooled connection without a transaction. */
static enum err with_conn(const struct app *app, db_tx_fn fn, void *ctx)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = fn(c, ctx);
	db_release(c);
	return rc;
}

static void announce(const struct app *app, long long job_id)
{
	if (job_id)
		email_job_announce(app->kv, app->cfg->email_queue_key, job_id);
}

/* Records an email job for recipient carrying token (may be NULL), sealed
 * with seal_key (EMAIL_PAYLOAD_KEY): a reader of email_jobs cannot use it. */
static enum err enqueue(struct db_conn *c, const char *kind, const char *recipient,
			const char *token, const char *seal_key, long long *job_id)
{
	json_t *payload = json_object();
	json_t *secrets = token ? json_pack("{s:s}", "token", token) : NULL;
	enum err rc =
		secrets ? email_payload_seal(payload, secrets, seal_key, kind, recipient) : ERR_OK;
	if (rc == ERR_OK)
		rc = email_job_enqueue(c, kind, recipient, payload, job_id);
	json_decref(secrets);
	json_decref(payload);
	return rc;
}

/* ---- registration and activation ---- */

struct register_tx {
	const char *email, *hash, *seal_key;
	char token[TOKEN_RAW_LEN + 1], token_hash[TOKEN_HASH_LEN + 1];
	long long id, job_id;
};

static enum err register_fn(struct db_conn *c, void *ctx)
{
	struct register_tx *t = ctx;
	enum err rc = accounts_user_insert(c, t->email, t->hash, ACCESS_USER, false, &t->id);
	if (rc == ERR_OK)
		rc = accounts_activation_put(c, t->id, t->token_hash, ACTIVATION_TTL_S);
	if (rc == ERR_OK)
		rc = enqueue(c, EMAIL_ACTIVATION, t->email, t->token, t->seal_key, &t->job_id);
	return rc;
}

enum err accounts_register(const struct app *app, const char *email, const char *password,
			   long long *id)
{
	char hash[PASSWORD_HASH_MAX];
	struct register_tx t = {
		.email = email, .hash = hash, .seal_key = app->cfg->email_payload_key};
	enum err rc = password_hash(app->hasher, password, hash);
	if (rc != ERR_OK)
		return rc;
	token_new(t.token, t.token_hash);
	rc = db_transaction(app->db, register_fn, &t);
	if (rc == ERR_OK) {
		announce(app, t.job_id);
		*id = t.id;
		LOG_INFO("account registered", LOG_INT("user_id", t.id));
	}
	return rc;
}

struct activate_tx {
	char hash[TOKEN_HASH_LEN + 1];
	long long user_id;
};

static enum err activate_fn(struct db_conn *c, void *ctx)
{
	struct activate_tx *t = ctx;
	return accounts_activate(c, t->hash, &t->user_id);
}

enum err accounts_activate_token(const struct app *app, const char *token, long long *user_id)
{
	struct activate_tx t = {0};
	if (!token_hash(token, t.hash))
		return ERR_TOKEN_INVALID;
	enum err rc = db_transaction(app->db, activate_fn, &t);
	if (rc == ERR_OK) {
		*user_id = t.user_id;
		LOG_INFO("account activated", LOG_INT("user_id", t.user_id));
	}
	return rc;
}

/* A new one-time token for an account found by email, plus its email job.
 * Both statements run whether or not the account exists. */
struct mail_token_tx {
	const char *email, *kind, *seal_key;
	bool reset; /* reset token for an active account, else activation */
	char token[TOKEN_RAW_LEN + 1], token_hash[TOKEN_HASH_LEN + 1];
	long long user_id, job_id;
};

static enum err mail_token_fn(struct db_conn *c, void *ctx)
{
	struct mail_token_tx *t = ctx;
	enum err rc = t->reset ? accounts_reset_put_by_email(c, t->email, t->token_hash,
							     RESET_TTL_S, &t->user_id)
			       : accounts_activation_put_by_email(c, t->email, t->token_hash,
								  ACTIVATION_TTL_S, &t->user_id);
	t->job_id = 0;
	if (rc == ERR_OK && t->user_id)
		rc = enqueue(c, t->kind, t->email, t->token, t->seal_key, &t->job_id);
	return rc;
}

static enum err mail_token(const struct app *app, const char *email, bool reset)
{
	struct mail_token_tx t = {.email = email,
				  .reset = reset,
				  .kind = reset ? EMAIL_PASSWORD_RESET : EMAIL_ACTIVATION,
				  .seal_key = app->cfg->email_payload_key};
	token_new(t.token, t.token_hash);
	enum err rc = db_transaction(app->db, mail_token_fn, &t);
	if (rc == ERR_OK)
		announce(app, t.job_id);
	if (rc == ERR_OK && t.user_id)
		LOG_INFO(reset ? "password reset requested" : "activation resent",
			 LOG_INT("user_id", t.user_id));
	return rc;
}

enum err accounts_resend_activation(const struct app *app, const char *email)
{
	return mail_token(app, email, false);
}

enum err accounts_forgot_password(const struct app *app, const char *email)
{
	return mail_token(app, email, true);
}

/* ---- sessions ---- */

struct login_lookup {
	const char *email;
	struct user_row user;
};

static enum err login_lookup_fn(struct db_conn *c, void *ctx)
{
	struct login_lookup *l = ctx;
	return accounts_user_by_email(c, l->email, &l->user);
}

struct session_tx {
	long long user_id;
	char refresh_hash[TOKEN_HASH_LEN + 1];
	int ttl_s;
	char sid[40];
};

static enum err session_fn(struct db_conn *c, void *ctx)
{
	struct session_tx *t = ctx;
	return accounts_session_create(c, t->user_id, t->refresh_hash, t->ttl_s, t->sid);
}

static enum err issue_access(const struct app *app, long long user_id, enum http_access group,
			     const char *sid, struct token_pair *out)
{
	out->access = jwt_access_issue(app->cfg->jwt_secret, user_id, group, sid,
				       app->cfg->access_token_ttl, time(NULL));
	out->expires_in = app->cfg->access_token_ttl;
	return out->access ? ERR_OK : ERR_INTERNAL;
}

/* Finds the account and checks the password; an unknown email costs one
 * verification too, so timing does not tell whether it exists. */
static enum err check_credentials(const struct app *app, const char *email, const char *password,
				  struct user_row *user)
{
	struct login_lookup l = {.email = email};
	bool ok = false;
	enum err rc = with_conn(app, login_lookup_fn, &l);
	if (rc != ERR_OK && rc != ERR_NOT_FOUND)
		return rc;
	bool found = rc == ERR_OK;
	rc = password_verify(app->hasher, found ? l.user.hashed_password : NULL, password, &ok);
	if (rc != ERR_OK)
		return rc;
	if (!found || !ok) {
		LOG_INFO("login failed", LOG_INT("user_id", found ? l.user.id : 0));
		return ERR_INVALID_CREDENTIALS;
	}
	if (!l.user.is_active)
		return l.user.deactivated ? ERR_ACCOUNT_DISABLED : ERR_ACCOUNT_INACTIVE;
	*user = l.user;
	return ERR_OK;
}

enum err accounts_docs_login(const struct app *app, const char *email, const char *password,
			     int ttl_s, struct http_identity *who)
{
	struct user_row user;
	char unused_refresh[TOKEN_RAW_LEN + 1];
	enum err rc = check_credentials(app, email, password, &user);
	if (rc != ERR_OK)
		return rc;
	/* The session needs a refresh token hash; nobody receives the token. */
	struct session_tx t = {.user_id = user.id, .ttl_s = ttl_s};
	token_new(unused_refresh, t.refresh_hash);
	sodium_memzero(unused_refresh, sizeof(unused_refresh));
	rc = db_transaction(app->db, session_fn, &t);
	if (rc != ERR_OK)
		return rc;
	who->user_id = user.id;
	who->group = user.group;
	memcpy(who->session_id, t.sid, sizeof(who->session_id));
	LOG_INFO("docs login", LOG_INT("user_id", user.id));
	return ERR_OK;
}

enum err accounts_docs_authenticate(const struct app *app, const char *cookie,
				    struct http_identity *who)
{
	struct db_conn *c = NULL;
	enum http_access group = ACCESS_USER;
	long long uid = 0;
	char sid[40];
	enum err rc = jwt_docs_verify(app->cfg->jwt_secret, cookie, time(NULL), &uid, sid);
	if (rc != ERR_OK)
		return rc;
	rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = accounts_session_check(c, sid, uid, &group);
	db_release(c);
	if (rc != ERR_OK)
		return rc;
	who->user_id = uid;
	who->group = group;
	memcpy(who->session_id, sid, sizeof(who->session_id));
	return ERR_OK;
}

enum err accounts_session_access(const struct app *app, const struct http_identity *who,
				 char **access, int *expires_in)
{
	struct token_pair t = {0};
	enum err rc = issue_access(app, who->user_id, who->group, who->session_id, &t);
	*access = t.access;
	*expires_in = t.expires_in;
	return rc;
}

enum err accounts_login(const struct app *app, const char *email, const char *password,
			struct token_pair *out)
{
	struct user_row user;
	memset(out, 0, sizeof(*out));
	enum err rc = check_credentials(app, email, password, &user);
	if (rc != ERR_OK)
		return rc;
	struct session_tx t = {.user_id = user.id, .ttl_s = app->cfg->refresh_token_ttl};
	token_new(out->refresh, t.refresh_hash);
	rc = db_transaction(app->db, session_fn, &t);
	if (rc == ERR_OK)
		rc = issue_access(app, user.id, user.group, t.sid, out);
	if (rc != ERR_OK)
		token_pair_clear(out);
	else
		LOG_INFO("login", LOG_INT("user_id", user.id));
	return rc;
}

struct refresh_tx {
	char old_hash[TOKEN_HASH_LEN + 1], new_hash[TOKEN_HASH_LEN + 1];
	int ttl_s;
	struct refresh_outcome outcome;
	struct user_row user;
};

static enum err refresh_fn(struct db_conn *c, void *ctx)
{
	struct refresh_tx *t = ctx;
	enum err rc = accounts_refresh_rotate(c, t->old_hash, t->new_hash, t->ttl_s, &t->outcome);
	if (rc == ERR_OK && t->outcome.reused)
		/* Commit the revocation, then refuse. */
		return accounts_session_revoke(c, t->outcome.sid, "refresh_token_reused");
	if (rc == ERR_OK)
		rc = accounts_user_by_id(c, t->outcome.user_id, &t->user);
	return rc;
}

enum err accounts_refresh(const struct app *app, const char *refresh_token, struct token_pair *out)
{
	struct refresh_tx t = {.ttl_s = app->cfg->refresh_token_ttl};
	memset(out, 0, sizeof(*out));
	if (!token_hash(refresh_token, t.old_hash))
		return ERR_REFRESH_INVALID;
	token_new(out->refresh, t.new_hash);
	enum err rc = db_transaction(app->db, refresh_fn, &t);
	if (rc == ERR_OK && t.outcome.reused) {
		LOG_WARN("refresh token reused; session ended",
			 LOG_INT("user_id", t.outcome.user_id));
		rc = ERR_REFRESH_REUSED;
	}
	if (rc == ERR_OK)
		rc = issue_access(app, t.user.id, t.user.group, t.outcome.sid, out);
	if (rc != ERR_OK)
		token_pair_clear(out);
	return rc;
}

struct logout_tx {
	const struct http_identity *who;
	char hash[TOKEN_HASH_LEN + 1];
	bool has_hash;
};

static enum err logout_fn(struct db_conn *c, void *ctx)
{
	struct logout_tx *t = ctx;
	char other[40];
	enum err rc = accounts_session_revoke(c, t->who->session_id, "logout");
	/* A refresh token of another of the user's sessions: that one ends too. */
	if (rc == ERR_OK && t->has_hash &&
	    accounts_refresh_session(c, t->who->user_id, t->hash, other) == ERR_OK)
		rc = accounts_session_revoke(c, other, "logout");
	return rc;
}

enum err accounts_logout(const struct app *app, const struct http_identity *who,
			 const char *refresh_token)
{
	struct logout_tx t = {.who = who};
	t.has_hash = refresh_token && token_hash(refresh_token, t.hash);
	enum err rc = db_transaction(app->db, logout_fn, &t);
	if (rc == ERR_OK)
		LOG_INFO("logout", LOG_INT("user_id", who->user_id));
	return rc;
}

enum err accounts_authenticate(const struct app *app, const char *bearer, struct http_identity *who)
{
	struct access_claims claims;
	struct db_conn *c = NULL;
	enum http_access group = ACCESS_USER;
	enum err rc = jwt_access_verify(app->cfg->jwt_secret, bearer, time(NULL), &claims);
	if (rc != ERR_OK)
		return rc;
	rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = accounts_session_check(c, claims.session_id, claims.user_id, &group);
	db_release(c);
	if (rc != ERR_OK)
		return rc;
	who->user_id = claims.user_id;
	who->group = group; /* the current group, not the one in the token */
	memcpy(who->session_id, claims.session_id, sizeof(who->session_id));
	return ERR_OK;
}

/* ---- passwords ---- */

struct password_tx {
	long long user_id;
	const char *keep_sid; /* NULL: end every session */
	const char *email;
	const char *hash;
	char reset_hash[TOKEN_HASH_LEN + 1]; /* for reset: the token to use up */
	long long job_id;
};

static enum err password_set_fn(struct db_conn *c, void *ctx)
{
	struct password_tx *t = ctx;
	struct user_row u;
	enum err rc = ERR_OK;
	if (t->reset_hash[0]) {
		rc = accounts_reset_take(c, t->reset_hash, &t->user_id);
		if (rc == ERR_OK && accounts_user_by_id(c, t->user_id, &u) == ERR_OK &&
		    !u.is_active)
			rc = ERR_TOKEN_INVALID; /* deactivated since the request */
	}
	if (rc == ERR_OK)
		rc = accounts_user_by_id(c, t->user_id, &u);
	if (rc == ERR_OK)
		rc = accounts_user_set_password(c, t->user_id, t->hash);
	/* A reset link still outstanding (asked for before a change, or by
	 * someone else) must not undo this password. */
	if (rc == ERR_OK)
		rc = accounts_reset_end_user(c, t->user_id);
	if (rc == ERR_OK)
		rc = accounts_sessions_revoke_user(c, t->user_id, t->keep_sid, "password_changed");
	if (rc == ERR_OK)
		rc = enqueue(c, EMAIL_PASSWORD_CHANGED, u.email, NULL, NULL, &t->job_id);
	return rc;
}

enum err accounts_change_password(const struct app *app, const struct http_identity *who,
				  const char *old_pw, const char *new_pw)
{
	char hash[PASSWORD_HASH_MAX];
	struct user_row user;
	struct db_conn *c = NULL;
	bool ok = false;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = accounts_user_by_id(c, who->user_id, &user);
	db_release(c);
	if (rc == ERR_OK)
		rc = password_verify(app->hasher, user.hashed_password, old_pw, &ok);
	if (rc != ERR_OK)
		return rc;
	if (!ok)
		return ERR_WRONG_PASSWORD;
	if ((rc = password_hash(app->hasher, new_pw, hash)) != ERR_OK)
		return rc;
	struct password_tx t = {.user_id = who->user_id, .keep_sid = who->session_id, .hash = hash};
	rc = db_transaction(app->db, password_set_fn, &t);
	if (rc == ERR_OK) {
		announce(app, t.job_id);
		LOG_INFO("password changed", LOG_INT("user_id", who->user_id));
	}
	return rc;
}

enum err accounts_reset_password(const struct app *app, const char *token, const char *new_pw)
{
	char hash[PASSWORD_HASH_MAX];
	struct password_tx t = {.hash = hash};
	if (!token_hash(token, t.reset_hash))
		return ERR_TOKEN_INVALID;
	enum err rc = password_hash(app->hasher, new_pw, hash);
	if (rc == ERR_OK)
		rc = db_transaction(app->db, password_set_fn, &t);
	if (rc == ERR_OK) {
		announce(app, t.job_id);
		LOG_INFO("password reset", LOG_INT("user_id", t.user_id));
	}
	return rc;
}

/* ---- profile and administration ---- */

struct create_tx {
	const char *email, *hash;
	enum http_access group;
	bool active;
	long long id;
};

static enum err create_fn(struct db_conn *c, void *ctx)
{
	struct create_tx *t = ctx;
	return accounts_user_insert(c, t->email, t->hash, t->group, t->active, &t->id);
}

enum err accounts_create_user(const struct app *app, const char *email, const char *password,
			      enum http_access group, bool active, long long *id)
{
	char hash[PASSWORD_HASH_MAX];
	struct create_tx t = {.email = email, .hash = hash, .group = group, .active = active};
	enum err rc = password_hash(app->hasher, password, hash);
	if (rc == ERR_OK)
		rc = db_transaction(app->db, create_fn, &t);
	if (rc == ERR_OK)
		*id = t.id;
	return rc;
}

enum err accounts_user(const struct app *app, long long user_id, json_t **out)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = accounts_user_json(c, user_id, out);
	db_release(c);
	return rc;
}

enum err accounts_update_profile(const struct app *app, long long user_id, const json_t *fields,
				 json_t **out)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = accounts_profile_update(c, user_id, fields);
	if (rc == ERR_OK)
		rc = accounts_user_json(c, user_id, out);
	db_release(c);
	return rc;
}

enum err accounts_set_avatar(const struct app *app, long long user_id, const char *key,
			     json_t **out)
{
	struct db_conn *c = NULL;
	char old_key[1025] = "", err[256];
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = accounts_avatar_set(c, user_id, key, old_key);
	if (rc == ERR_OK)
		rc = accounts_user_json(c, user_id, out);
	db_release(c);
	/* The replaced image goes too; a failure only leaves an orphan. */
	if (rc == ERR_OK && old_key[0] && app->s3 &&
	    s3_delete_object(app->s3, old_key, err, sizeof(err)) != ERR_OK)
		LOG_WARN("old avatar not deleted", LOG_INT("user_id", user_id),
			 LOG_STR("error", err));
	return rc;
}

enum err accounts_list_users(const struct app *app, const struct user_filter *f, json_t **items,
			     long long *total)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = accounts_user_list(c, f, items, total);
	db_release(c);
	return rc;
}

struct admin_tx {
	long long user_id;
	const enum http_access *group;
	const bool *active;
};

static enum err admin_update_fn(struct db_conn *c, void *ctx)
{
	struct admin_tx *t = ctx;
	enum err rc = accounts_user_update(c, t->user_id, t->group, t->active);
	if (rc == ERR_OK && t->active && !*t->active)
		rc = accounts_sessions_revoke_user(c, t->user_id, NULL, "deactivated");
	return rc;
}

enum err accounts_admin_update(const struct app *app, const struct http_identity *who,
			       long long user_id, const enum http_access *group, const bool *active,
			       json_t **out)
{
	if (user_id == who->user_id && (group || active))
		return ERR_SELF_MODIFICATION;
	struct admin_tx t = {.user_id = user_id, .group = group, .active = active};
	enum err rc = db_transaction(app->db, admin_update_fn, &t);
	if (rc == ERR_OK) {
		LOG_INFO("account changed by admin", LOG_INT("user_id", user_id),
			 LOG_INT("admin_id", who->user_id),
			 LOG_STR("group", group ? group_name(*group) : NULL),
			 LOG_STR("is_active", active ? (*active ? "true" : "false") : NULL));
		rc = accounts_user(app, user_id, out);
	}
	return rc;
}
