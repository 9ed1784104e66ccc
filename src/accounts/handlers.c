/* Accounts over HTTP: parse and validate, call the service, map the result.
 * Abuse-prone routes are rate-limited per client IP and per email. */
#include "accounts/handlers.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/service.h"
#include "cinema/config.h"
#include "cinema/kv.h"
#include "cinema/page.h"
#include "cinema/validate.h"
#include "storage/image.h"
#include "storage/s3.h"

#define AVATAR_URL_TTL_S 3600
#define SMALL_BODY	 4096

/* The cookie session mode of the web app (docs/ARCHITECTURE.md, "Sessions
 * of the web app"): the refresh token lives in an HttpOnly cookie that
 * only the refresh endpoint receives; a second cookie, readable by
 * scripts and holding no secret, tells the app that a session may exist. */
#define SESSION_HEADER "X-Cinema-Session"
#define REFRESH_COOKIE "cinema_refresh"
#define HINT_COOKIE    "cinema_session"
#define REFRESH_PATH   "/api/v1/accounts/refresh"

/* ---- helpers ---- */

bool accounts_rate_ok(struct http_request *req, struct http_response *res, const char *action,
		      const char *email)
{
	const struct config *cfg = req->app->cfg;
	char ip[64], key[160];
	int retry = 0;
	http_client_ip(req, ip, sizeof(ip));
	snprintf(key, sizeof(key), "rl:%s:ip:%s", action, ip);
	bool ok = kv_rate_allow(req->app->kv, key, cfg->auth_rate_limit * 5,
				cfg->auth_rate_window_s, &retry);
	if (ok && email) {
		/* Keys carry a hash, not the address: Redis holds no emails. */
		unsigned char d[crypto_generichash_BYTES];
		char hex[sizeof(d) * 2 + 1];
		crypto_generichash(d, sizeof(d), (const unsigned char *)email, strlen(email), NULL,
				   0);
		sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
		snprintf(key, sizeof(key), "rl:%s:em:%.32s", action, hex);
		ok = kv_rate_allow(req->app->kv, key, cfg->auth_rate_limit, cfg->auth_rate_window_s,
				   &retry);
	}
	if (!ok) {
		char s[16];
		snprintf(s, sizeof(s), "%d", retry);
		http_errorf(res, ERR_RATE_LIMITED, "Too many attempts; try again in %d seconds.",
			    retry);
		http_set_header(res, "Retry-After", s);
	}
	return ok;
}

/* Replaces profile.avatar (an S3 key) with avatar_url (a presigned URL). */
static json_t *present_user(const struct app *app, json_t *user)
{
	json_t *profile = json_object_get(user, "profile");
	const char *key = json_string_value(json_object_get(profile, "avatar"));
	char *url =
		key && app->s3 ? s3_presign_get(app->s3, key, AVATAR_URL_TTL_S, time(NULL)) : NULL;
	json_object_set_new(profile, "avatar_url", url ? json_string(url) : json_null());
	json_object_del(profile, "avatar");
	free(url);
	return user;
}

/* Which session mode the request asks for: false for the JSON mode (no
 * X-Cinema-Session header), true for the cookie mode. The cookie mode is
 * refused (res filled, *refused set) for another header value (400) and
 * for a request whose Origin is neither PUBLIC_BASE_URL's nor its own (403
 * origin_forbidden): a cross-site page can neither send the header in a
 * form nor read the answer, and a script elsewhere is turned away here. */
static bool cookie_mode(struct http_request *req, struct http_response *res, bool *refused)
{
	const char *mode = http_header(req, SESSION_HEADER);
	const char *origin = http_header(req, "Origin");
	*refused = false;
	if (!mode)
		return false;
	*refused = true;
	if (strcmp(mode, "cookie") != 0)
		http_error(res, ERR_BAD_REQUEST,
			   SESSION_HEADER " must be \"cookie\" when it is sent.");
	else if (origin && !http_same_origin(origin, req->app->cfg->public_base_url) &&
		 !http_origin_is_host(origin, http_header(req, "Host")))
		http_error(res, ERR_ORIGIN_FORBIDDEN, NULL);
	else
		*refused = false;
	return true;
}

/* Sets both session cookies for refresh (a new session or a rotation), or
 * clears them when refresh is NULL. */
static void session_cookies(struct http_request *req, struct http_response *res,
			    const char *refresh)
{
	const struct config *cfg = req->app->cfg;
	const char *secure = strncmp(cfg->public_base_url, "https://", 8) == 0 ? "; Secure" : "";
	int max_age = refresh ? cfg->refresh_token_ttl : 0;
	char c[256];
	snprintf(c, sizeof(c),
		 REFRESH_COOKIE "=%s; Path=" REFRESH_PATH "; HttpOnly; SameSite=Strict; "
				"Max-Age=%d%s",
		 refresh ? refresh : "", max_age, secure);
	http_add_header(res, "Set-Cookie", c);
	snprintf(c, sizeof(c), HINT_COOKIE "=%s; Path=/; SameSite=Strict; Max-Age=%d%s",
		 refresh ? "1" : "", max_age, secure);
	http_add_header(res, "Set-Cookie", c);
}

/* The answer of a cookie-mode login or refresh: the access token in the
 * body, the refresh token in the cookie; any 401 clears the cookies. */
static unsigned cookie_pair_response(struct http_request *req, struct http_response *res,
				     enum err rc, struct token_pair *tp)
{
	if (rc != ERR_OK) {
		http_error(res, rc, NULL);
		if (res->status == 401)
			session_cookies(req, res, NULL);
		return res->status;
	}
	json_t *body = json_pack("{s:s,s:s,s:i}", "access_token", tp->access, "token_type",
				 "bearer", "expires_in", tp->expires_in);
	session_cookies(req, res, tp->refresh);
	token_pair_clear(tp);
	return http_json(res, 200, body);
}

static unsigned token_pair_response(struct http_response *res, enum err rc, struct token_pair *tp)
{
	if (rc != ERR_OK)
		return http_error(res, rc, NULL);
	json_t *body = json_pack("{s:s,s:s,s:s,s:i}", "access_token", tp->access, "refresh_token",
				 tp->refresh, "token_type", "bearer", "expires_in", tp->expires_in);
	token_pair_clear(tp);
	return http_json(res, 200, body);
}

static const char *const only_email[] = {"email", NULL};
static const char *const email_password[] = {"email", "password", NULL};

/* ---- registration and activation ---- */

static unsigned h_register(struct http_request *req, struct http_response *res)
{
	json_t *body;
	struct validator v;
	char email[256];
	const char *password = NULL;
	long long id = 0;
	unsigned status;

	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, email_password);
	bool email_ok = validator_email(&v, "email", email, sizeof(email));
	validator_password(&v, "password", &password);
	if (!validator_ok(&v)) {
		status = validator_respond(&v, res);
		goto out;
	}
	if (!accounts_rate_ok(req, res, "register", email_ok ? email : NULL)) {
		status = res->status;
		goto out;
	}
	enum err rc = accounts_register(req->app, email, password, &id);
	status = rc != ERR_OK ? http_error(res, rc, NULL)
			      : http_json(res, 201,
					  json_pack("{s:I,s:s,s:b}", "id", (json_int_t)id, "email",
						    email, "is_active", 0));
out:
	validator_clear(&v);
	json_decref(body);
	return status;
}

/* Reads {"token": "..."} (plus the extra fields allowed). */
static const char *token_field(struct validator *v)
{
	return validator_string(v, "token", V_REQUIRED, 1, 512);
}

static unsigned h_activate(struct http_request *req, struct http_response *res)
{
	json_t *body, *user = NULL;
	struct validator v;
	long long uid = 0;
	unsigned status;
	static const char *const allowed[] = {"token", NULL};

	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, allowed);
	const char *token = token_field(&v);
	if (!validator_ok(&v)) {
		status = validator_respond(&v, res);
		goto out;
	}
	if (!accounts_rate_ok(req, res, "activate", NULL)) {
		status = res->status;
		goto out;
	}
	enum err rc = accounts_activate_token(req->app, token, &uid);
	if (rc == ERR_OK)
		rc = accounts_user(req->app, uid, &user);
	status = rc == ERR_OK ? http_json(res, 200, present_user(req->app, user))
			      : http_error(res, rc, NULL);
out:
	validator_clear(&v);
	json_decref(body);
	return status;
}

/* Resend and forgot: 202 whatever the email, after the same work. */
static unsigned email_request(struct http_request *req, struct http_response *res,
			      const char *action, enum err (*fn)(const struct app *, const char *),
			      const char *detail)
{
	json_t *body;
	struct validator v;
	char email[256];
	unsigned status;

	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, only_email);
	validator_email(&v, "email", email, sizeof(email));
	if (!validator_ok(&v)) {
		status = validator_respond(&v, res);
		goto out;
	}
	if (!accounts_rate_ok(req, res, action, email)) {
		status = res->status;
		goto out;
	}
	enum err rc = fn(req->app, email);
	status = rc == ERR_OK ? http_json(res, 202, json_pack("{s:s}", "detail", detail))
			      : http_error(res, rc, NULL);
out:
	validator_clear(&v);
	json_decref(body);
	return status;
}

static unsigned h_resend(struct http_request *req, struct http_response *res)
{
	return email_request(req, res, "resend", accounts_resend_activation,
			     "If this email belongs to an account that is not active yet, a new "
			     "activation link valid for 24 hours is on its way.");
}

static unsigned h_forgot(struct http_request *req, struct http_response *res)
{
	return email_request(req, res, "forgot", accounts_forgot_password,
			     "If this email belongs to an active account, a link to reset the "
			     "password is on its way.");
}

/* ---- sessions ---- */

static unsigned h_login(struct http_request *req, struct http_response *res)
{
	json_t *body;
	struct validator v;
	struct token_pair tp;
	char email[256];
	unsigned status;
	bool refused;
	bool cookies = cookie_mode(req, res, &refused);

	if (refused)
		return res->status;
	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, email_password);
	validator_email(&v, "email", email, sizeof(email));
	const char *password = validator_string(&v, "password", V_REQUIRED, 1, 1024);
	if (!validator_ok(&v)) {
		status = validator_respond(&v, res);
		goto out;
	}
	if (!accounts_rate_ok(req, res, "login", email)) {
		status = res->status;
		goto out;
	}
	enum err rc = accounts_login(req->app, email, password, &tp);
	status = cookies ? cookie_pair_response(req, res, rc, &tp)
			 : token_pair_response(res, rc, &tp);
out:
	validator_clear(&v);
	json_decref(body);
	return status;
}

/* Checks the optional body of a cookie-mode call: nothing, or a JSON
 * object with only the fields allowed. False with res filled otherwise. */
static bool optional_body(struct http_request *req, struct http_response *res,
			  const char *const *allowed, json_t **out)
{
	struct validator v;
	*out = NULL;
	if (req->body_len == 0)
		return true;
	if (!http_json_body(req, res, out))
		return false;
	validator_init(&v, *out);
	validator_only(&v, allowed);
	for (const char *const *f = allowed; *f; f++)
		validator_string(&v, *f, V_OPTIONAL, 1, 512);
	bool ok = validator_ok(&v);
	if (!ok) {
		validator_respond(&v, res);
		json_decref(*out);
		*out = NULL;
	}
	validator_clear(&v);
	return ok;
}

/* Cookie mode: the refresh token comes from the cookie, the body is empty
 * or {}. */
static unsigned cookie_refresh(struct http_request *req, struct http_response *res)
{
	static const char *const nothing[] = {NULL};
	struct token_pair tp = {0};
	json_t *body;
	char token[600];
	if (!optional_body(req, res, nothing, &body))
		return res->status;
	json_decref(body);
	enum err rc = http_cookie(req, REFRESH_COOKIE, token, sizeof(token)) && *token
			      ? accounts_refresh(req->app, token, &tp)
			      : ERR_REFRESH_INVALID;
	sodium_memzero(token, sizeof(token));
	return cookie_pair_response(req, res, rc, &tp);
}

static unsigned h_refresh(struct http_request *req, struct http_response *res)
{
	json_t *body;
	struct validator v;
	struct token_pair tp;
	unsigned status;
	bool refused;
	static const char *const allowed[] = {"refresh_token", NULL};

	if (cookie_mode(req, res, &refused))
		return refused ? res->status : cookie_refresh(req, res);
	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, allowed);
	const char *token = validator_string(&v, "refresh_token", V_REQUIRED, 1, 512);
	status = validator_ok(&v)
			 ? token_pair_response(res, accounts_refresh(req->app, token, &tp), &tp)
			 : validator_respond(&v, res);
	validator_clear(&v);
	json_decref(body);
	return status;
}

/* Cookie mode: the body is optional (it may name a refresh token of
 * another session to end too); both cookies are cleared. */
static unsigned cookie_logout(struct http_request *req, struct http_response *res)
{
	static const char *const allowed[] = {"refresh_token", NULL};
	json_t *body;
	if (!optional_body(req, res, allowed, &body))
		return res->status;
	const char *token = json_string_value(json_object_get(body, "refresh_token"));
	enum err rc = accounts_logout(req->app, &req->auth, token);
	json_decref(body);
	if (rc != ERR_OK)
		return http_error(res, rc, NULL);
	http_empty(res, 204);
	session_cookies(req, res, NULL);
	return 204;
}

static unsigned h_logout(struct http_request *req, struct http_response *res)
{
	json_t *body;
	struct validator v;
	unsigned status;
	bool refused;
	static const char *const allowed[] = {"refresh_token", NULL};

	if (cookie_mode(req, res, &refused))
		return refused ? res->status : cookie_logout(req, res);
	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, allowed);
	const char *token = validator_string(&v, "refresh_token", V_REQUIRED, 1, 512);
	if (!validator_ok(&v)) {
		status = validator_respond(&v, res);
	} else {
		enum err rc = accounts_logout(req->app, &req->auth, token);
		status = rc == ERR_OK ? http_empty(res, 204) : http_error(res, rc, NULL);
	}
	validator_clear(&v);
	json_decref(body);
	return status;
}

/* ---- passwords ---- */

static unsigned h_password_change(struct http_request *req, struct http_response *res)
{
	json_t *body;
	struct validator v;
	const char *new_pw = NULL;
	unsigned status;
	static const char *const allowed[] = {"old_password", "new_password", NULL};

	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, allowed);
	const char *old_pw = validator_string(&v, "old_password", V_REQUIRED, 1, 1024);
	validator_password(&v, "new_password", &new_pw);
	char who[32];
	snprintf(who, sizeof(who), "user:%lld", req->auth.user_id);
	if (!validator_ok(&v)) {
		status = validator_respond(&v, res);
	} else if (!accounts_rate_ok(req, res, "password_change", who)) {
		status = res->status;
	} else {
		enum err rc = accounts_change_password(req->app, &req->auth, old_pw, new_pw);
		status = rc == ERR_OK ? http_empty(res, 204) : http_error(res, rc, NULL);
	}
	validator_clear(&v);
	json_decref(body);
	return status;
}

static unsigned h_password_reset(struct http_request *req, struct http_response *res)
{
	json_t *body;
	struct validator v;
	const char *new_pw = NULL;
	unsigned status;
	static const char *const allowed[] = {"token", "new_password", NULL};

	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, allowed);
	const char *token = token_field(&v);
	validator_password(&v, "new_password", &new_pw);
	if (!validator_ok(&v)) {
		status = validator_respond(&v, res);
		goto out;
	}
	if (!accounts_rate_ok(req, res, "reset", NULL)) {
		status = res->status;
		goto out;
	}
	enum err rc = accounts_reset_password(req->app, token, new_pw);
	status = rc == ERR_OK ? http_empty(res, 204) : http_error(res, rc, NULL);
out:
	validator_clear(&v);
	json_decref(body);
	return status;
}

/* ---- the signed-in user ---- */

static unsigned user_response(struct http_request *req, struct http_response *res, enum err rc,
			      json_t *user, bool profile_only)
{
	if (rc != ERR_OK)
		return http_error(res, rc, NULL);
	present_user(req->app, user);
	if (profile_only) {
		json_t *p = json_incref(json_object_get(user, "profile"));
		json_decref(user);
		user = p;
	}
	return http_json(res, 200, user);
}

static unsigned h_me(struct http_request *req, struct http_response *res)
{
	json_t *user = NULL;
	enum err rc = accounts_user(req->app, req->auth.user_id, &user);
	return user_response(req, res, rc, user, false);
}

/* A real calendar date in the past, not before 1900. */
static bool date_of_birth_valid(const char *s)
{
	struct tm tm = {0};
	int y, m, d;
	char tail;
	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || s[4] != '-' ||
	    s[7] != '-')
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	time_t t = timegm(&tm);
	struct tm back;
	gmtime_r(&t, &back);
	if (y < 1900 || back.tm_year != y - 1900 || back.tm_mon != m - 1 || back.tm_mday != d)
		return false;
	return t < time(NULL);
}

static unsigned h_profile_update(struct http_request *req, struct http_response *res)
{
	json_t *body, *user = NULL;
	struct validator v;
	bool flag;
	unsigned status;
	static const char *const allowed[] = {
		"first_name", "last_name",	     "gender", "date_of_birth",
		"info",	      "email_notifications", NULL};

	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, allowed);
	validator_string(&v, "first_name", V_NULLABLE, 1, 100);
	validator_string(&v, "last_name", V_NULLABLE, 1, 100);
	validator_string(&v, "info", V_NULLABLE, 0, 4096);
	const char *gender = validator_string(&v, "gender", V_NULLABLE, 1, 16);
	if (gender && strcmp(gender, "MAN") != 0 && strcmp(gender, "WOMAN") != 0)
		validator_fail(&v, "gender", "must be MAN or WOMAN");
	const char *dob = validator_string(&v, "date_of_birth", V_NULLABLE, 1, 16);
	if (dob && !date_of_birth_valid(dob))
		validator_fail(&v, "date_of_birth", "must be a real date in the past (YYYY-MM-DD)");
	if (validator_has(&v, "email_notifications"))
		validator_bool(&v, "email_notifications", V_REQUIRED, &flag);
	if (!validator_ok(&v)) {
		status = validator_respond(&v, res);
	} else {
		enum err rc = accounts_update_profile(req->app, req->auth.user_id, body, &user);
		status = user_response(req, res, rc, user, true);
	}
	validator_clear(&v);
	json_decref(body);
	return status;
}

static unsigned h_avatar(struct http_request *req, struct http_response *res)
{
	const struct app *app = req->app;
	const char *ct = http_header(req, "Content-Type");
	json_t *user = NULL;
	char key[128], rnd_hex[17], err[256];
	unsigned char rnd[8];
	struct buf clean = BUF_INIT;

	size_t ct_len = ct ? strcspn(ct, "; ") : 0;
	if (!ct || !((ct_len == 9 && strncmp(ct, "image/png", 9) == 0) ||
		     (ct_len == 10 && strncmp(ct, "image/jpeg", 10) == 0) ||
		     (ct_len == 10 && strncmp(ct, "image/webp", 10) == 0)))
		return http_error(
			res, ERR_UNSUPPORTED_MEDIA_TYPE,
			"The avatar must be sent as image/png, image/jpeg or image/webp.");
	if (req->body_len > (size_t)app->cfg->avatar_max_bytes)
		return http_errorf(res, ERR_PAYLOAD_TOO_LARGE,
				   "The avatar must be at most %d bytes.",
				   app->cfg->avatar_max_bytes);
	const char *sniffed = image_content_type(req->body, req->body_len);
	if (!sniffed || strlen(sniffed) != ct_len || strncmp(ct, sniffed, ct_len) != 0)
		return http_validation_error(
			res, json_pack("[{s:s,s:s}]", "field", "body", "message",
				       "is not a PNG, JPEG or WebP image of the declared type"));
	if (!app->s3)
		return http_error(res, ERR_STORAGE_UNAVAILABLE, NULL);
	/* A phone photo carries its GPS position in EXIF: store the image
	 * without its metadata, and refuse what is not a whole image. */
	if (!image_strip_metadata(req->body, req->body_len, sniffed, &clean)) {
		buf_free(&clean);
		return http_validation_error(
			res, json_pack("[{s:s,s:s}]", "field", "body", "message",
				       "is not a well-formed PNG, JPEG or WebP image"));
	}
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(rnd_hex, sizeof(rnd_hex), rnd, sizeof(rnd));
	snprintf(key, sizeof(key), "avatars/%lld/%s.%s", req->auth.user_id, rnd_hex,
		 strchr(sniffed, '/') + 1);
	enum err rc = s3_put_object(app->s3, key, clean.data, clean.len, sniffed, err, sizeof(err));
	buf_free(&clean);
	if (rc != ERR_OK)
		return http_error(res, ERR_STORAGE_UNAVAILABLE, NULL);

	rc = accounts_set_avatar(app, req->auth.user_id, key, &user);
	return user_response(req, res, rc, user, true);
}

/* ---- administration ---- */

static unsigned h_admin_list(struct http_request *req, struct http_response *res)
{
	struct page pg;
	json_t *items = NULL, *errors = json_array();
	long long total = 0;
	enum http_access g;
	if (!page_parse(req, res, &pg)) {
		json_decref(errors);
		return res->status;
	}
	struct user_filter f = {.group = http_query(req, "group"),
				.is_active = http_query(req, "is_active"),
				.email = http_query(req, "email"),
				.limit = pg.per_page,
				.offset = pg.offset};
	if (f.group && !group_parse(f.group, &g))
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "group", "message",
							"must be USER, MODERATOR or ADMIN"));
	if (f.is_active && strcmp(f.is_active, "true") != 0 && strcmp(f.is_active, "false") != 0)
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "is_active",
							"message", "must be true or false"));
	if (f.email && strlen(f.email) > 254)
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "email", "message",
							"must be at most 254 characters long"));
	if (json_array_size(errors))
		return http_validation_error(res, errors);
	json_decref(errors);
	enum err rc = accounts_list_users(req->app, &f, &items, &total);
	if (rc != ERR_OK)
		return http_error(res, rc, NULL);
	size_t i;
	json_t *u;
	json_array_foreach (items, i, u)
		present_user(req->app, u);
	return http_json(res, 200, page_envelope(req, &pg, items, total));
}

static unsigned h_admin_get(struct http_request *req, struct http_response *res)
{
	long long id;
	json_t *user = NULL;
	if (!http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	/* Not one expression: the order of evaluation of arguments is
	 * unspecified, and user must be read after accounts_user sets it. */
	enum err rc = accounts_user(req->app, id, &user);
	return user_response(req, res, rc, user, false);
}

static unsigned h_admin_update(struct http_request *req, struct http_response *res)
{
	json_t *body, *user = NULL;
	struct validator v;
	long long id;
	enum http_access group;
	bool active;
	unsigned status;
	static const char *const allowed[] = {"group", "is_active", NULL};

	if (!http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, allowed);
	/* As in PATCH /movies: a field that cannot be cleared refuses null. */
	for (const char *const *f = allowed; *f; f++)
		if (json_is_null(json_object_get(body, *f)))
			validator_fail(&v, *f, "cannot be null");
	const char *g = validator_string(&v, "group", V_OPTIONAL, 1, 16);
	if (g && !group_parse(g, &group))
		validator_fail(&v, "group", "must be USER, MODERATOR or ADMIN");
	bool has_active = validator_bool(&v, "is_active", V_OPTIONAL, &active);
	if (!validator_ok(&v)) {
		status = validator_respond(&v, res);
	} else {
		enum err rc = accounts_admin_update(req->app, &req->auth, id, g ? &group : NULL,
						    has_active ? &active : NULL, &user);
		status = user_response(req, res, rc, user, false);
	}
	validator_clear(&v);
	json_decref(body);
	return status;
}

#define AVATAR_BODY_LIMIT (20u * 1024u * 1024u)

const struct route accounts_routes[] = {
	{HTTP_POST, "/api/v1/accounts/register", h_register, ACCESS_PUBLIC, SMALL_BODY,
	 LANE_PASSWORD},
	{HTTP_POST, "/api/v1/accounts/activate", h_activate, ACCESS_PUBLIC, SMALL_BODY, LANE_DB},
	{HTTP_POST, "/api/v1/accounts/activation/resend", h_resend, ACCESS_PUBLIC, SMALL_BODY,
	 LANE_DB},
	{HTTP_POST, "/api/v1/accounts/login", h_login, ACCESS_PUBLIC, SMALL_BODY, LANE_PASSWORD},
	{HTTP_POST, "/api/v1/accounts/refresh", h_refresh, ACCESS_PUBLIC, SMALL_BODY, LANE_DB},
	{HTTP_POST, "/api/v1/accounts/logout", h_logout, ACCESS_USER, SMALL_BODY, LANE_DB},
	{HTTP_POST, "/api/v1/accounts/password/change", h_password_change, ACCESS_USER, SMALL_BODY,
	 LANE_PASSWORD},
	{HTTP_POST, "/api/v1/accounts/password/forgot", h_forgot, ACCESS_PUBLIC, SMALL_BODY,
	 LANE_DB},
	{HTTP_POST, "/api/v1/accounts/password/reset", h_password_reset, ACCESS_PUBLIC, SMALL_BODY,
	 LANE_PASSWORD},
	{HTTP_GET, "/api/v1/accounts/me", h_me, ACCESS_USER, 0, LANE_DB},
	{HTTP_PATCH, "/api/v1/accounts/me/profile", h_profile_update, ACCESS_USER, 16384, LANE_DB},
	{HTTP_PUT, "/api/v1/accounts/me/avatar", h_avatar, ACCESS_USER, AVATAR_BODY_LIMIT, LANE_S3},
	{HTTP_GET, "/api/v1/admin/users", h_admin_list, ACCESS_ADMIN, 0, LANE_DB},
	{HTTP_GET, "/api/v1/admin/users/{id}", h_admin_get, ACCESS_ADMIN, 0, LANE_DB},
	{HTTP_PATCH, "/api/v1/admin/users/{id}", h_admin_update, ACCESS_ADMIN, SMALL_BODY, LANE_DB},
	ROUTES_END,
};
