/* End-to-end tests of the accounts API over HTTP: the real `cinema-api
 * serve` against a fresh migrated database per test, Redis, and for emails
 * the real path (cinema-scheduler sending to cinema-mailsink over SMTP; the
 * tokens are read from the delivered messages). No mocks.
 *
 * Needs DATABASE_URL and REDIS_URL (scripts/test.sh provides them; the suite
 * fails when they are missing), CINEMA_API_BIN, CINEMA_SCHEDULER_BIN,
 * CINEMA_MAILSINK_BIN, TEMPLATES_DIR and MIGRATIONS_DIR (set by CTest). The avatar test also
 * needs S3_ENDPOINT and the other S3_* variables (scripts/test.sh starts a
 * local S3 server); without S3_ENDPOINT only that test is skipped, with a
 * note.
 *
 * Redis: everything of this suite lives in Redis database REDIS_DB of the
 * server of REDIS_URL, flushed before each test (rate-limit counters are
 * keyed by client IP, and every client here is 127.0.0.1). No other suite
 * may use that database number.
 *
 * Processes, logs, SQL and HTTP helpers: tests/support/harness.h. Cleanup:
 * the checked teardown stops every process a test started (SIGTERM, then
 * SIGKILL), drops the database, flushes the Redis database and removes the
 * mail directory and logs. In fork mode a failed assertion ends the test
 * process before teardown; check then kills the test's whole process group,
 * which takes the children with it.
 *
 * Waiting is polling (every 50 ms, up to a generous bound): no assertion
 * depends on how fast anything runs. Expiry is made in the database, never
 * by sleeping. */
#include <check.h>
#include <jansson.h>
#include <jwt.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cinema/log.h"
#include "e2e.h"
#include "harness.h"
#include "mailbox.h"

#define REDIS_DB 11

#define BASE_URL      "http://frontend.test"
#define ACTIVATE_LINK BASE_URL "/accounts/activate?token="
#define RESET_LINK    BASE_URL "/accounts/password/reset?token="
#define PASSWORD      "Popcorn-42!"
#define NEW_PASSWORD  "Matinee-77?"
#define NEXT_PASSWORD "Trailer-99#"
#define ACCESS_TTL    900

/* --- the running test; teardown ends and removes all of it --- */

static struct harness_world w;

/* Starts cinema-mailsink and cinema-scheduler for this test: the scheduler
 * sends the API's email jobs (same database, same queue) to the sink. */
static void start_mail(void)
{
	harness_world_mail(&w, BASE_URL);
}

/* Starts `cinema-api serve` on the test's database and Redis database, with
 * AUTH_RATE_LIMIT=rate_limit (per minute). */
static void start_api(int rate_limit)
{
	struct harness_env *e = &w.srv_env;
	harness_world_api_env(&w, e, BASE_URL);
	harness_env_set(e, "ACCESS_TOKEN_TTL=%d", ACCESS_TTL);
	harness_env_set(e, "AUTH_RATE_LIMIT=%d", rate_limit);
	harness_env_set(e, "AUTH_RATE_WINDOW=60");
	harness_server_start(&w.srv, e->p);
}

/* The usual world of a test: the API (generous rate limits) and, if asked,
 * the email path. */
static void boot(bool mail)
{
	if (mail)
		start_mail();
	start_api(100000);
}

/* Creates accounts (password PASSWORD), all at once. */
static void create_users(struct harness_account *u, size_t n)
{
	harness_create_accounts(w.ci, u, n, PASSWORD);
}

/* --- fixture --- */

static void setup(void)
{
	harness_world_begin(&w, "acc", REDIS_DB);
}

static void teardown(void)
{
	harness_world_end(&w);
}

/* --- HTTP --- */

/* A 401 of the authentication layer: it names the scheme. */
static void expect_bearer_challenge(const struct e2e_resp *r, const char *what)
{
	char h[64];
	ck_assert_msg(r->status == 401, "%s: status %ld: %s", what, r->status,
		      r->body.data ? r->body.data : "");
	ck_assert_msg(e2e_header(r, "WWW-Authenticate", h, sizeof(h)) && strcmp(h, "Bearer") == 0,
		      "%s: 401 without WWW-Authenticate: Bearer", what);
}

/* A 422 naming field (and text in its message, if given). */
static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* --- sessions --- */

struct session {
	char access[2048];
	char refresh[64];
};

static void read_pair(const struct e2e_resp *r, struct session *s)
{
	static const char *const keys[] = {"access_token", "refresh_token", "token_type",
					   "expires_in", NULL};
	harness_assert_keys(r->json, keys, "token pair");
	ck_assert_str_eq(jstr(r->json, "token_type"), "bearer");
	ck_assert_int_eq(json_integer_value(json_object_get(r->json, "expires_in")), ACCESS_TTL);
	const char *a = jstr(r->json, "access_token"), *f = jstr(r->json, "refresh_token");
	ck_assert(a && f && strlen(a) > 20 && strlen(a) < sizeof(s->access));
	ck_assert_uint_eq(strlen(f), 43);
	snprintf(s->access, sizeof(s->access), "%s", a);
	snprintf(s->refresh, sizeof(s->refresh), "%s", f);
}

#define login(email, password, s) login_at(email, password, s, __LINE__)
static void login_at(const char *email, const char *password, struct session *s, int line)
{
	struct e2e_resp r =
		harness_call("POST", "/api/v1/accounts/login", NULL,
			     harness_json("{s:s,s:s}", "email", email, "password", password));
	harness_expect_coded_at(&r, 200, NULL, line);
	read_pair(&r, s);
	e2e_resp_free(&r);
}

#define refresh(old, out) refresh_at(old, out, __LINE__)
static void refresh_at(const struct session *old, struct session *out, int line)
{
	struct e2e_resp r = harness_call("POST", "/api/v1/accounts/refresh", NULL,
					 harness_json("{s:s}", "refresh_token", old->refresh));
	harness_expect_coded_at(&r, 200, NULL, line);
	read_pair(&r, out);
	e2e_resp_free(&r);
}

/* GET /accounts/me answers status for this access token. */
#define expect_me(access, status) \
	harness_check_coded_call("GET", "/api/v1/accounts/me", access, NULL, status, NULL)

#define expect_refresh_refused(s)                                          \
	harness_check_coded_call("POST", "/api/v1/accounts/refresh", NULL, \
				 harness_json("{s:s}", "refresh_token", (s)->refresh), 401, NULL)

#define expect_login_refused(email, password, status, code)                                       \
	harness_check_coded_call("POST", "/api/v1/accounts/login", NULL,                          \
				 harness_json("{s:s,s:s}", "email", email, "password", password), \
				 status, code)

/* A token in the format of the real ones (base64url of 32 random bytes)
 * that nobody was given. */
static void random_token(char out[44])
{
	unsigned char rnd[32];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2base64(out, 44, rnd, sizeof(rnd), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* --- mail --- */

/* Waits until every email job is done and want messages arrived, then
 * asserts that exactly want jobs exist and exactly want messages arrived:
 * the jobs are recorded with the request that causes them, so once all of
 * them are sent nothing more can come. */
static void wait_mail_settled(int want)
{
	long long deadline = harness_now_ms() + HARNESS_WAIT_MS;
	int have;
	long long open;
	for (;;) {
		have = mailbox_count(w.maildir);
		open = harness_sql_int("SELECT count(*) FROM email_jobs WHERE status IN "
				       "('pending', 'sending')");
		if ((have >= want && open == 0) || harness_now_ms() > deadline)
			break;
		harness_sleep_ms(HARNESS_POLL_MS);
	}
	ck_assert_msg(open == 0, "%lld email jobs still not sent after %ld ms:%s", open,
		      HARNESS_WAIT_MS, harness_logs_tail());
	char *jobs =
		harness_sql_value("SELECT coalesce(string_agg(kind || ':' || status, ',' ORDER BY "
				  "id), '') FROM email_jobs");
	ck_assert_msg(have == want, "%d messages delivered, want %d (jobs: %s)%s", have, want, jobs,
		      harness_logs_tail());
	long long all = harness_sql_int("SELECT count(*) FROM email_jobs");
	long long sent = harness_sql_int("SELECT count(*) FROM email_jobs WHERE status = 'sent'");
	ck_assert_msg(all == want && sent == want, "email jobs: %s; want %d, all sent", jobs, want);
	free(jobs);
}

/* The tokens after link in the messages to rcpt, oldest first; returns how
 * many. Also counts (into *total, if given) every message to rcpt. */
static int mail_tokens(const char *rcpt, const char *link, char tokens[][64], int max, int *total)
{
	struct mailbox_msg *m = NULL;
	size_t n = mailbox_load(w.maildir, &m);
	int found = 0, all = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(m[i].rcpt, rcpt) != 0)
			continue;
		all++;
		char tok[64];
		if (mailbox_token_after(m[i].text, link, tok, sizeof(tok))) {
			ck_assert_int_lt(found, max);
			snprintf(tokens[found++], 64, "%s", tok);
		}
	}
	mailbox_free(m, n);
	if (total)
		*total = all;
	return found;
}

/* Waits for the want-th message to rcpt carrying link and copies its token. */
static void wait_token(const char *rcpt, const char *link, int want, char out[64])
{
	char toks[8][64];
	long long deadline = harness_now_ms() + HARNESS_WAIT_MS;
	int n;
	while ((n = mail_tokens(rcpt, link, toks, 8, NULL)) < want && harness_now_ms() <= deadline)
		harness_sleep_ms(HARNESS_POLL_MS);
	ck_assert_msg(n >= want, "%d messages to %s with %s, want %d%s", n, rcpt, link, want,
		      harness_logs_tail());
	ck_assert_uint_eq(strlen(toks[want - 1]), 43);
	snprintf(out, 64, "%s", toks[want - 1]);
}

/* ================================================================== */
/* 1. the whole life of an account                                     */
/* ================================================================== */

START_TEST(account_lifecycle)
{
	boot(true);
	char typed[128], email[128];
	snprintf(typed, sizeof(typed), "Life.%ld@Example.COM", (long)getpid());
	snprintf(email, sizeof(email), "life.%ld@example.com", (long)getpid());

	/* Register: the address is kept in lower case. */
	struct e2e_resp r =
		harness_call("POST", "/api/v1/accounts/register", NULL,
			     harness_json("{s:s,s:s}", "email", typed, "password", PASSWORD));
	harness_expect_coded(&r, 201, NULL);
	static const char *const reg_keys[] = {"id", "email", "is_active", NULL};
	harness_assert_keys(r.json, reg_keys, "register");
	long long id = json_integer_value(json_object_get(r.json, "id"));
	ck_assert_int_gt(id, 0);
	ck_assert_str_eq(jstr(r.json, "email"), email);
	ck_assert(json_is_false(json_object_get(r.json, "is_active")));
	e2e_resp_free(&r);

	/* Not active yet. */
	expect_login_refused(email, PASSWORD, 403, "account_inactive");

	/* The activation email, through the scheduler and SMTP. */
	char token[64];
	wait_token(email, ACTIVATE_LINK, 1, token);
	r = harness_call("POST", "/api/v1/accounts/activate", NULL,
			 harness_json("{s:s}", "token", token));
	harness_expect_coded(&r, 200, NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(r.json, "id")), id);
	ck_assert(json_is_true(json_object_get(r.json, "is_active")));
	ck_assert_str_eq(jstr(r.json, "group"), "USER");
	e2e_resp_free(&r);
	/* Single use. */
	harness_check_coded_call("POST", "/api/v1/accounts/activate", NULL,
				 harness_json("{s:s}", "token", token), 400, "token_invalid");

	/* Log in (the typed case does not matter) and read the profile. */
	struct session s1, s2, s3;
	login(typed, PASSWORD, &s1);
	r = harness_call("GET", "/api/v1/accounts/me", s1.access, NULL);
	harness_expect_coded(&r, 200, NULL);
	static const char *const me_keys[] = {"id",	    "email",   "group", "is_active",
					      "created_at", "profile", NULL};
	harness_assert_keys(r.json, me_keys, "me");
	ck_assert_int_eq(json_integer_value(json_object_get(r.json, "id")), id);
	ck_assert_str_eq(jstr(r.json, "email"), email);
	e2e_resp_free(&r);

	/* Refresh rotates the refresh token; both access tokens of the
	 * session work. */
	refresh(&s1, &s2);
	ck_assert_str_ne(s1.refresh, s2.refresh);
	ck_assert_str_ne(s1.access, s2.access);
	expect_me(s2.access, 200);
	expect_me(s1.access, 200);

	/* Reusing the old refresh token ends the whole session. */
	harness_check_coded_call("POST", "/api/v1/accounts/refresh", NULL,
				 harness_json("{s:s}", "refresh_token", s1.refresh), 401,
				 "refresh_token_reused");
	expect_me(s2.access, 401);
	expect_me(s1.access, 401);
	expect_refresh_refused(&s2);

	/* A new session; logout ends it at once. */
	login(email, PASSWORD, &s3);
	expect_me(s3.access, 200);
	r = harness_call("POST", "/api/v1/accounts/logout", s3.access,
			 harness_json("{s:s}", "refresh_token", s3.refresh));
	harness_expect_coded(&r, 204, NULL);
	ck_assert_uint_eq(r.body.len, 0);
	e2e_resp_free(&r);
	expect_me(s3.access, 401);
	expect_refresh_refused(&s3);
	harness_check_coded_call("POST", "/api/v1/accounts/logout", s3.access,
				 harness_json("{s:s}", "refresh_token", s3.refresh), 401, NULL);
	/* Logout needs a bearer token. */
	harness_check_coded_call("POST", "/api/v1/accounts/logout", NULL,
				 harness_json("{s:s}", "refresh_token", s3.refresh), 401,
				 "not_authenticated");

	/* The activation email was the only one. */
	wait_mail_settled(1);
}
END_TEST

/* ================================================================== */
/* 2. change and reset password                                        */
/* ================================================================== */

START_TEST(password_change_and_reset)
{
	boot(true);
	const char *email = harness_unique_email("pw");
	char upper[128];
	snprintf(upper, sizeof(upper), "%s", email);
	for (char *c = upper; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 32);
	struct harness_account u[] = {{email, "USER", true, 0}};
	create_users(u, 1);

	struct session a, b, a2, c, d;
	login(email, PASSWORD, &a);
	login(email, PASSWORD, &b);

	/* Change: the old password must be right, the new one strong. */
	harness_check_coded_call("POST", "/api/v1/accounts/password/change", a.access,
				 harness_json("{s:s,s:s}", "old_password", "Wrong-pass1!",
					      "new_password", NEW_PASSWORD),
				 400, "wrong_password");
	harness_check_invalid(
		"POST", "/api/v1/accounts/password/change", a.access,
		harness_json("{s:s,s:s}", "old_password", PASSWORD, "new_password", "weak"),
		"new_password", "upper-case");
	harness_check_coded_call(
		"POST", "/api/v1/accounts/password/change", NULL,
		harness_json("{s:s,s:s}", "old_password", PASSWORD, "new_password", NEW_PASSWORD),
		401, NULL);
	struct e2e_resp r = harness_call(
		"POST", "/api/v1/accounts/password/change", a.access,
		harness_json("{s:s,s:s}", "old_password", PASSWORD, "new_password", NEW_PASSWORD));
	harness_expect_coded(&r, 204, NULL);
	ck_assert_uint_eq(r.body.len, 0);
	e2e_resp_free(&r);

	/* The current session goes on; the other one ended. */
	expect_me(a.access, 200);
	refresh(&a, &a2);
	expect_me(a2.access, 200);
	expect_me(b.access, 401);
	expect_refresh_refused(&b);
	/* Only the new password works. */
	expect_login_refused(email, PASSWORD, 401, "invalid_credentials");
	login(email, NEW_PASSWORD, &c);

	/* Forgot (any case of the address), then reset by the emailed link. */
	r = harness_call("POST", "/api/v1/accounts/password/forgot", NULL,
			 harness_json("{s:s}", "email", upper));
	harness_expect_coded(&r, 202, NULL);
	e2e_resp_free(&r);
	char token[64];
	wait_token(email, RESET_LINK, 1, token);
	/* A weak password is refused before the token is used up. */
	harness_check_invalid(
		"POST", "/api/v1/accounts/password/reset", NULL,
		harness_json("{s:s,s:s}", "token", token, "new_password", "alllowercase"),
		"new_password", "digit");
	r = harness_call("POST", "/api/v1/accounts/password/reset", NULL,
			 harness_json("{s:s,s:s}", "token", token, "new_password", NEXT_PASSWORD));
	harness_expect_coded(&r, 204, NULL);
	e2e_resp_free(&r);
	/* Single use. */
	harness_check_coded_call(
		"POST", "/api/v1/accounts/password/reset", NULL,
		harness_json("{s:s,s:s}", "token", token, "new_password", PASSWORD), 400,
		"token_invalid");

	/* Every session ended, and only the newest password works. */
	expect_me(a2.access, 401);
	expect_me(c.access, 401);
	expect_refresh_refused(&a2);
	expect_refresh_refused(&c);
	expect_login_refused(email, NEW_PASSWORD, 401, "invalid_credentials");
	login(email, NEXT_PASSWORD, &d);
	expect_me(d.access, 200);

	/* Mail: "password changed" twice, the reset link once. */
	wait_mail_settled(3);
	int total = 0;
	char toks[4][64];
	ck_assert_int_eq(mail_tokens(email, RESET_LINK, toks, 4, &total), 1);
	ck_assert_int_eq(total, 3);
	ck_assert_int_eq(
		harness_sql_int("SELECT count(*) FROM email_jobs WHERE kind = 'password_changed'"),
		2);
}
END_TEST

/* The tokens in queued emails are sealed: a reader of email_jobs finds
 * neither the activation nor the reset token, before or after sending, and
 * the emailed links still work. */
START_TEST(queued_tokens_are_sealed)
{
	struct harness_account u = {
		.email = harness_unique_email("sealed-reset"), .group = "USER", .active = true};
	const char *email = harness_unique_email("sealed-act");
	create_users(&u, 1);
	start_api(100000); /* no scheduler yet: the jobs stay queued */
	harness_check_coded_call("POST", "/api/v1/accounts/register", NULL,
				 harness_json("{s:s,s:s}", "email", email, "password", PASSWORD),
				 201, NULL);
	harness_check_coded_call("POST", "/api/v1/accounts/password/forgot", NULL,
				 harness_json("{s:s}", "email", u.email), 202, NULL);

	static const char rows_sql[] =
		"SELECT string_agg(j::text, ' ' ORDER BY id) FROM email_jobs j";
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM email_jobs WHERE status = "
					 "'pending' AND payload ? 'sealed' AND NOT payload ? "
					 "'token' AND payload->>'sealed' LIKE 'v1.%'"),
			 2);
	char *queued = harness_sql_value(rows_sql);

	start_mail();
	char act[64], reset[64];
	wait_token(email, ACTIVATE_LINK, 1, act);
	wait_token(u.email, RESET_LINK, 1, reset);
	wait_mail_settled(2);
	char *sent = harness_sql_value(rows_sql);
	ck_assert_msg(!strstr(queued, act) && !strstr(queued, reset),
		      "a token is readable in the queued rows: %s", queued);
	ck_assert_msg(!strstr(sent, act) && !strstr(sent, reset),
		      "a token is readable in the sent rows: %s", sent);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM email_jobs WHERE payload = '{}'"),
			 2);
	free(queued);
	free(sent);

	/* The links work. */
	harness_check_coded_call("POST", "/api/v1/accounts/activate", NULL,
				 harness_json("{s:s}", "token", act), 200, NULL);
	harness_check_coded_call(
		"POST", "/api/v1/accounts/password/reset", NULL,
		harness_json("{s:s,s:s}", "token", reset, "new_password", NEW_PASSWORD), 204, NULL);
	struct session s1;
	login(email, PASSWORD, &s1);
	login(u.email, NEW_PASSWORD, &s1);
}
END_TEST

/* A reset link asked for before a password change no longer works after
 * it: the change ends the account's reset token. */
START_TEST(password_change_ends_reset_link)
{
	boot(true);
	const char *email = harness_unique_email("pwlink");
	struct harness_account u[] = {{email, "USER", true, 0}};
	create_users(u, 1);
	struct session a, b;
	login(email, PASSWORD, &a);

	struct e2e_resp r = harness_call("POST", "/api/v1/accounts/password/forgot", NULL,
					 harness_json("{s:s}", "email", email));
	harness_expect_coded(&r, 202, NULL);
	e2e_resp_free(&r);
	char token[64];
	wait_token(email, RESET_LINK, 1, token);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM password_reset_tokens"), 1);

	r = harness_call(
		"POST", "/api/v1/accounts/password/change", a.access,
		harness_json("{s:s,s:s}", "old_password", PASSWORD, "new_password", NEW_PASSWORD));
	harness_expect_coded(&r, 204, NULL);
	e2e_resp_free(&r);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM password_reset_tokens"), 0);

	/* The emailed link now fails and changes nothing. */
	harness_check_coded_call(
		"POST", "/api/v1/accounts/password/reset", NULL,
		harness_json("{s:s,s:s}", "token", token, "new_password", NEXT_PASSWORD), 400,
		"token_invalid");
	expect_me(a.access, 200);
	expect_login_refused(email, NEXT_PASSWORD, 401, "invalid_credentials");
	login(email, NEW_PASSWORD, &b);

	/* A new link asked for after the change works as usual. */
	r = harness_call("POST", "/api/v1/accounts/password/forgot", NULL,
			 harness_json("{s:s}", "email", email));
	harness_expect_coded(&r, 202, NULL);
	e2e_resp_free(&r);
	wait_token(email, RESET_LINK, 2, token);
	r = harness_call("POST", "/api/v1/accounts/password/reset", NULL,
			 harness_json("{s:s,s:s}", "token", token, "new_password", NEXT_PASSWORD));
	harness_expect_coded(&r, 204, NULL);
	e2e_resp_free(&r);
	login(email, NEXT_PASSWORD, &b);

	/* Mail: two reset links, "password changed" twice. */
	wait_mail_settled(4);
}
END_TEST

/* ================================================================== */
/* 3. expired and unknown tokens                                       */
/* ================================================================== */

START_TEST(expired_and_unknown_tokens)
{
	boot(true);
	const char *email = harness_unique_email("exp");
	harness_check_coded_call("POST", "/api/v1/accounts/register", NULL,
				 harness_json("{s:s,s:s}", "email", email, "password", PASSWORD),
				 201, NULL);

	/* Activation token expired (in the database, not by waiting). */
	char t1[64], t2[64];
	wait_token(email, ACTIVATE_LINK, 1, t1);
	harness_sql_ok("UPDATE activation_tokens SET expires_at = now() - interval '1 second'");
	harness_check_coded_call("POST", "/api/v1/accounts/activate", NULL,
				 harness_json("{s:s}", "token", t1), 400, "token_expired");
	/* A new link replaces it. */
	harness_check_coded_call("POST", "/api/v1/accounts/activation/resend", NULL,
				 harness_json("{s:s}", "email", email), 202, NULL);
	wait_token(email, ACTIVATE_LINK, 2, t2);
	ck_assert_str_ne(t1, t2);
	harness_check_coded_call("POST", "/api/v1/accounts/activate", NULL,
				 harness_json("{s:s}", "token", t1), 400, "token_invalid");
	harness_check_coded_call("POST", "/api/v1/accounts/activate", NULL,
				 harness_json("{s:s}", "token", t2), 200, NULL);

	/* Reset token expired: refused, and the password is unchanged. */
	char r1[64];
	harness_check_coded_call("POST", "/api/v1/accounts/password/forgot", NULL,
				 harness_json("{s:s}", "email", email), 202, NULL);
	wait_token(email, RESET_LINK, 1, r1);
	harness_sql_ok("UPDATE password_reset_tokens SET expires_at = now() - interval '1 second'");
	harness_check_coded_call(
		"POST", "/api/v1/accounts/password/reset", NULL,
		harness_json("{s:s,s:s}", "token", r1, "new_password", NEW_PASSWORD), 400,
		"token_expired");
	struct session s;
	login(email, PASSWORD, &s);

	/* Refresh token expired. */
	harness_sql_ok("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'");
	harness_check_coded_call("POST", "/api/v1/accounts/refresh", NULL,
				 harness_json("{s:s}", "refresh_token", s.refresh), 401,
				 "refresh_token_expired");

	/* Tokens nobody was given, well-formed or not. */
	char unknown[44];
	random_token(unknown);
	harness_check_coded_call("POST", "/api/v1/accounts/activate", NULL,
				 harness_json("{s:s}", "token", unknown), 400, "token_invalid");
	harness_check_coded_call("POST", "/api/v1/accounts/activate", NULL,
				 harness_json("{s:s}", "token", "not a token"), 400,
				 "token_invalid");
	harness_check_coded_call(
		"POST", "/api/v1/accounts/password/reset", NULL,
		harness_json("{s:s,s:s}", "token", unknown, "new_password", NEW_PASSWORD), 400,
		"token_invalid");
	harness_check_coded_call(
		"POST", "/api/v1/accounts/password/reset", NULL,
		harness_json("{s:s,s:s}", "token", "x", "new_password", NEW_PASSWORD), 400,
		"token_invalid");
	harness_check_coded_call("POST", "/api/v1/accounts/refresh", NULL,
				 harness_json("{s:s}", "refresh_token", unknown), 401,
				 "refresh_token_invalid");
	harness_check_coded_call("POST", "/api/v1/accounts/refresh", NULL,
				 harness_json("{s:s}", "refresh_token", "x"), 401,
				 "refresh_token_invalid");
	/* A missing token is a validation error. */
	harness_check_invalid("POST", "/api/v1/accounts/activate", NULL, harness_json("{}"),
			      "token", NULL);

	wait_mail_settled(3);
}
END_TEST

/* ================================================================== */
/* 4. malformed and forged access tokens                               */
/* ================================================================== */

/* The claims of a JWT (its payload, not verified). */
static json_t *jwt_claims(const char *token)
{
	const char *dot1 = strchr(token, '.');
	ck_assert_ptr_nonnull(dot1);
	const char *dot2 = strchr(dot1 + 1, '.');
	ck_assert_ptr_nonnull(dot2);
	size_t len = (size_t)(dot2 - dot1 - 1);
	unsigned char *bin = malloc(len + 1);
	size_t bin_len = 0;
	ck_assert_ptr_nonnull(bin);
	ck_assert_int_eq(sodium_base642bin(bin, len, dot1 + 1, len, NULL, &bin_len, NULL,
					   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
			 0);
	json_t *claims = json_loadb((const char *)bin, bin_len, 0, NULL);
	free(bin);
	ck_assert_msg(json_is_object(claims), "JWT payload is not a JSON object");
	return claims;
}

/* Signs claims with key and alg (libjwt); owned string. */
static char *jwt_sign(const json_t *claims, jwt_alg_t alg, const char *key)
{
	jwt_t *jwt = NULL;
	ck_assert_int_eq(jwt_new(&jwt), 0);
	char *text = json_dumps(claims, JSON_COMPACT);
	ck_assert_int_eq(jwt_add_grants_json(jwt, text), 0);
	free(text);
	ck_assert_int_eq(
		jwt_set_alg(jwt, alg, (const unsigned char *)key, key ? (int)strlen(key) : 0), 0);
	char *out = jwt_encode_str(jwt);
	ck_assert_ptr_nonnull(out);
	jwt_free(jwt);
	return out;
}

/* The claims of base with one member replaced (value consumed). */
static json_t *with_claim(const json_t *base, const char *key, json_t *value)
{
	json_t *c = json_deep_copy(base);
	json_object_set_new(c, key, value);
	return c;
}

/* A JWT built by hand: header_json as given (libjwt would write its own),
 * the claims, and an HMAC-SHA-256 over both with key. Owned string. */
static char *jwt_forge_hs256(const char *header_json, const json_t *claims, const char *key)
{
	char *payload = json_dumps(claims, JSON_COMPACT);
	ck_assert_ptr_nonnull(payload);
	size_t hl = strlen(header_json), pl = strlen(payload);
	size_t h64 = sodium_base64_ENCODED_LEN(hl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	size_t p64 = sodium_base64_ENCODED_LEN(pl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	size_t s64 = sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES,
					       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = malloc(h64 + p64 + s64 + 2);
	ck_assert_ptr_nonnull(out);
	sodium_bin2base64(out, h64, (const unsigned char *)header_json, hl,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	size_t o = strlen(out);
	out[o++] = '.';
	sodium_bin2base64(out + o, p64, (const unsigned char *)payload, pl,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	o += strlen(out + o);
	free(payload);
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)out, o);
	crypto_auth_hmacsha256_final(&st, mac);
	out[o++] = '.';
	sodium_bin2base64(out + o, s64, mac, sizeof(mac), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

static void expect_token_refused(const char *token, const char *what)
{
	struct e2e_resp r = harness_call("GET", "/api/v1/accounts/me", token, NULL);
	expect_bearer_challenge(&r, what);
	harness_expect_coded(&r, 401, NULL);
	e2e_resp_free(&r);
}

START_TEST(malformed_and_forged_tokens)
{
	boot(false);
	const char *email = harness_unique_email("jwt");
	struct harness_account u[] = {{email, "USER", true, 0}};
	create_users(u, 1);
	struct session s;
	login(email, PASSWORD, &s);
	expect_me(s.access, 200);

	json_t *claims = jwt_claims(s.access);
	ck_assert_str_eq(jstr(claims, "sub"), harness_fmt("%lld", u[0].id));
	ck_assert_str_eq(jstr(claims, "typ"), "access");
	ck_assert_str_eq(jstr(claims, "grp"), "USER");
	ck_assert_uint_eq(strlen(jstr(claims, "sid")), 36);
	time_t now = time(NULL);

	/* Control: the same claims signed here with the server's key pass, so
	 * each token below fails for its one defect. */
	char *good = jwt_sign(claims, JWT_ALG_HS256, w.jwt_secret);
	expect_me(good, 200);
	free(good);

	/* Not JWTs at all. */
	expect_token_refused("garbage", "garbage");
	expect_token_refused("a.b.c", "three garbage segments");
	expect_token_refused(harness_fmt("%s.x", s.access), "a real token with a fourth segment");
	/* The real token with its signature cut. */
	char cut[2048];
	snprintf(cut, sizeof(cut), "%.*s.", (int)(strrchr(s.access, '.') - s.access), s.access);
	expect_token_refused(cut, "signature removed");

	struct {
		const char *what;
		json_t *claims; /* owned */
		jwt_alg_t alg;
		const char *key;
	} forged[] = {
		{"signed with the wrong key", json_deep_copy(claims), JWT_ALG_HS256,
		 "not-the-server-secret-but-long-enough-0123456789"},
		{"alg none", json_deep_copy(claims), JWT_ALG_NONE, NULL},
		{"HS512 with the right key", json_deep_copy(claims), JWT_ALG_HS512, w.jwt_secret},
		{"expired", with_claim(claims, "exp", json_integer((json_int_t)now - 120)),
		 JWT_ALG_HS256, w.jwt_secret},
		{"typ refresh", with_claim(claims, "typ", json_string("refresh")), JWT_ALG_HS256,
		 w.jwt_secret},
		{"no typ", json_deep_copy(claims), JWT_ALG_HS256, w.jwt_secret},
		{"issued in the future",
		 with_claim(claims, "iat", json_integer((json_int_t)now + 3600)), JWT_ALG_HS256,
		 w.jwt_secret},
		{"another user's id", with_claim(claims, "sub", json_string("999999")),
		 JWT_ALG_HS256, w.jwt_secret},
		{"an unknown session",
		 with_claim(claims, "sid", json_string("00000000-0000-4000-8000-000000000000")),
		 JWT_ALG_HS256, w.jwt_secret},
	};
	json_object_set_new(forged[3].claims, "iat", json_integer((json_int_t)now - 1020));
	json_object_del(forged[5].claims, "typ");
	json_object_set_new(forged[6].claims, "exp", json_integer((json_int_t)now + 7200));
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		char *tok = jwt_sign(forged[i].claims, forged[i].alg, forged[i].key);
		expect_token_refused(tok, forged[i].what);
		free(tok);
		json_decref(forged[i].claims);
	}

	/* "alg" is case-sensitive (RFC 7515): only "HS256" names HS256, even
	 * signed with the right key; a header naming alg twice is refused. */
	char *tok = jwt_forge_hs256("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, w.jwt_secret);
	expect_me(tok, 200); /* control: the hand-made token is right */
	free(tok);
	static const char *const bad_alg[] = {
		"{\"alg\":\"hs256\",\"typ\":\"JWT\"}",
		"{\"alg\":\"Hs256\",\"typ\":\"JWT\"}",
		"{\"alg\":\"HS256 \",\"typ\":\"JWT\"}",
		"{\"typ\":\"JWT\"}",
		"{\"alg\":[\"HS256\"],\"typ\":\"JWT\"}",
		"{\"alg\":\"HS256\",\"alg\":\"hs256\",\"typ\":\"JWT\"}",
		"{\"alg\":\"hs256\",\"alg\":\"HS256\",\"typ\":\"JWT\"}",
	};
	for (size_t i = 0; i < sizeof(bad_alg) / sizeof(bad_alg[0]); i++) {
		tok = jwt_forge_hs256(bad_alg[i], claims, w.jwt_secret);
		expect_token_refused(tok, bad_alg[i]);
		free(tok);
	}

	/* Other schemes and empty values. */
	static const char *const bad_headers[] = {
		"Authorization: Basic dXNlcjpwYXNz", "Authorization: Bearer",
		"Authorization: Bearer  ", "Authorization: Token abc"};
	for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
		const char *h[] = {bad_headers[i], NULL};
		struct e2e_resp r = harness_raw("GET", "/api/v1/accounts/me", h, NULL, 0);
		expect_bearer_challenge(&r, bad_headers[i]);
		harness_expect_coded(&r, 401, NULL);
		e2e_resp_free(&r);
	}

	/* The group is the account's current one, not the token's claim. */
	json_t *admin = with_claim(claims, "grp", json_string("ADMIN"));
	tok = jwt_sign(admin, JWT_ALG_HS256, w.jwt_secret);
	harness_check_coded_call("GET", "/api/v1/admin/users", tok, NULL, 403, "forbidden");
	free(tok);
	json_decref(admin);
	json_decref(claims);

	/* None of this harmed the real session. */
	expect_me(s.access, 200);
}
END_TEST

/* ================================================================== */
/* 5. administration: access, group changes, deactivation              */
/* ================================================================== */

START_TEST(admin_routes_by_group)
{
	boot(false);
	const char *ea = harness_unique_email("admin"), *em = harness_unique_email("mod"),
		   *eu = harness_unique_email("user"), *et = harness_unique_email("target");
	struct harness_account u[] = {{ea, "ADMIN", true, 0},
				      {em, "MODERATOR", true, 0},
				      {eu, "USER", true, 0},
				      {et, "USER", false, 0}};
	create_users(u, 4);
	struct session admin, mod, user;
	login(ea, PASSWORD, &admin);
	login(em, PASSWORD, &mod);
	login(eu, PASSWORD, &user);

	const char *list = "/api/v1/admin/users";
	char one[128], upath[128], spath[128];
	snprintf(one, sizeof(one), "/api/v1/admin/users/%lld", u[3].id);
	snprintf(upath, sizeof(upath), "/api/v1/admin/users/%lld", u[2].id);
	snprintf(spath, sizeof(spath), "/api/v1/admin/users/%lld", u[0].id);
	struct {
		const char *method, *path;
		bool body;
	} routes[] = {{"GET", list, false}, {"GET", one, false}, {"PATCH", one, true}};
	struct {
		const char *name, *token;
		long status;
		const char *code;
	} who[] = {{"anonymous", NULL, 401, "not_authenticated"},
		   {"USER", user.access, 403, "forbidden"},
		   {"MODERATOR", mod.access, 403, "forbidden"},
		   {"ADMIN", admin.access, 200, NULL}};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		for (size_t k = 0; k < sizeof(who) / sizeof(who[0]); k++) {
			struct e2e_resp r = harness_call(
				routes[i].method, routes[i].path, who[k].token,
				routes[i].body ? harness_json("{s:b}", "is_active", 0) : NULL);
			ck_assert_msg(r.status == who[k].status, "%s %s as %s: %ld, want %ld: %s",
				      routes[i].method, routes[i].path, who[k].name, r.status,
				      who[k].status, r.body.data);
			harness_expect_coded(&r, who[k].status, who[k].code);
			if (!who[k].token)
				expect_bearer_challenge(&r, "anonymous");
			e2e_resp_free(&r);
		}

	/* GET one: the user, without secrets. */
	struct e2e_resp r = harness_call("GET", upath, admin.access, NULL);
	harness_expect_coded(&r, 200, NULL);
	ck_assert_msg(jstr(r.json, "email") && strcmp(jstr(r.json, "email"), eu) == 0, "user: %s",
		      r.body.data);
	ck_assert_str_eq(jstr(r.json, "group"), "USER");
	ck_assert_ptr_null(strstr(r.body.data, "hashed_password"));
	ck_assert_ptr_null(strstr(r.body.data, "$argon2"));
	e2e_resp_free(&r);

	/* A group change takes effect on the next request, without a new
	 * login. */
	r = harness_call("PATCH", upath, admin.access, harness_json("{s:s}", "group", "MODERATOR"));
	harness_expect_coded(&r, 200, NULL);
	ck_assert_str_eq(jstr(r.json, "group"), "MODERATOR");
	e2e_resp_free(&r);
	harness_check_coded_call("GET", list, user.access, NULL, 403, "forbidden");
	r = harness_call("GET", "/api/v1/accounts/me", user.access, NULL);
	harness_expect_coded(&r, 200, NULL);
	ck_assert_str_eq(jstr(r.json, "group"), "MODERATOR");
	e2e_resp_free(&r);
	harness_check_coded_call("PATCH", upath, admin.access,
				 harness_json("{s:s}", "group", "ADMIN"), 200, NULL);
	harness_check_coded_call("GET", list, user.access, NULL, 200, NULL);
	harness_check_coded_call("PATCH", upath, admin.access,
				 harness_json("{s:s}", "group", "USER"), 200, NULL);
	harness_check_coded_call("GET", list, user.access, NULL, 403, "forbidden");

	/* An admin cannot change themselves. */
	harness_check_coded_call("PATCH", spath, admin.access,
				 harness_json("{s:s}", "group", "USER"), 409, "self_modification");
	harness_check_coded_call("PATCH", spath, admin.access,
				 harness_json("{s:b}", "is_active", 0), 409, "self_modification");
	harness_check_coded_call("GET", list, admin.access, NULL, 200, NULL);

	/* Deactivation ends the user's sessions; reactivation does not revive
	 * them. */
	struct session user2;
	r = harness_call("PATCH", upath, admin.access, harness_json("{s:b}", "is_active", 0));
	harness_expect_coded(&r, 200, NULL);
	ck_assert(json_is_false(json_object_get(r.json, "is_active")));
	e2e_resp_free(&r);
	expect_me(user.access, 401);
	expect_refresh_refused(&user);
	expect_login_refused(eu, PASSWORD, 403, "account_disabled");
	harness_check_coded_call("PATCH", upath, admin.access,
				 harness_json("{s:b}", "is_active", 1), 200, NULL);
	expect_me(user.access, 401);
	login(eu, PASSWORD, &user2);
	expect_me(user2.access, 200);

	/* Manual activation of an account that never used its link. */
	r = harness_call("PATCH", one, admin.access, harness_json("{s:b}", "is_active", 1));
	harness_expect_coded(&r, 200, NULL);
	ck_assert(json_is_true(json_object_get(r.json, "is_active")));
	e2e_resp_free(&r);

	/* Validation and unknown users. */
	harness_check_invalid("PATCH", upath, admin.access, harness_json("{s:s}", "group", "ROOT"),
			      "group", NULL);
	harness_check_invalid("PATCH", upath, admin.access,
			      harness_json("{s:s}", "is_active", "yes"), "is_active", NULL);
	harness_check_invalid("PATCH", upath, admin.access,
			      harness_json("{s:s}", "email", "x@example.com"), "email",
			      "unknown field");
	harness_check_coded_call("GET", "/api/v1/admin/users/999999", admin.access, NULL, 404,
				 NULL);
	harness_check_coded_call("PATCH", "/api/v1/admin/users/999999", admin.access,
				 harness_json("{s:b}", "is_active", 1), 404, NULL);
	harness_check_coded_call("GET", "/api/v1/admin/users/abc", admin.access, NULL, 404, NULL);
}
END_TEST

/* ================================================================== */
/* 6. the user list: pagination and filters                            */
/* ================================================================== */

/* Asserts that link is path?query with exactly the parameters of want
 * ("a=1&b=2", any order). */
static void assert_link(const json_t *link, const char *want_query)
{
	const char *s = json_string_value(link);
	ck_assert_msg(s != NULL, "link is null, want ?%s", want_query);
	const char *prefix = "/api/v1/admin/users?";
	ck_assert_msg(strncmp(s, prefix, strlen(prefix)) == 0, "link %s", s);
	char got[512], want[512];
	snprintf(got, sizeof(got), "&%s&", s + strlen(prefix));
	snprintf(want, sizeof(want), "%s", want_query);
	size_t parts = 0;
	for (char *save = NULL, *p = strtok_r(want, "&", &save); p;
	     p = strtok_r(NULL, "&", &save), parts++)
		ck_assert_msg(strstr(got, harness_fmt("&%s&", p)) != NULL, "link %s lacks %s", s,
			      p);
	size_t amps = 0;
	for (const char *c = s + strlen(prefix); *c; c++)
		amps += *c == '&';
	ck_assert_msg(amps + 1 == parts, "link %s has other parameters than %s", s, want_query);
}

static struct e2e_resp list_users(const char *token, const char *query)
{
	struct e2e_resp r =
		harness_call("GET", harness_fmt("/api/v1/admin/users%s", query), token, NULL);
	return r;
}

static long long jint(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	ck_assert_msg(json_is_integer(v), "\"%s\" is not an integer", key);
	return json_integer_value(v);
}

START_TEST(admin_user_list)
{
	boot(false);
	const char *ea = harness_unique_email("lister");
	struct harness_account u[] = {{ea, "ADMIN", true, 0}};
	create_users(u, 1);
	struct session admin;
	login(ea, PASSWORD, &admin);

	/* 24 more users straight in the database (no login needed): i = 1..24,
	 * alpha-NN for 1..12 and beta-NN for 13..24, MODERATOR when i % 3 == 0,
	 * active when i is even. */
	harness_sql_ok(
		"WITH n AS (SELECT i FROM generate_series(1, 24) i), "
		"u AS (INSERT INTO users (email, hashed_password, group_id, is_active) "
		"SELECT CASE WHEN i <= 12 THEN 'alpha-' ELSE 'beta-' END || lpad(i::text, 2, '0') "
		"|| '@list.test', 'x', (SELECT id FROM user_groups WHERE name = CASE WHEN i % 3 "
		"= 0 THEN 'MODERATOR' ELSE 'USER' END), i % 2 = 0 FROM n ORDER BY i RETURNING id) "
		"INSERT INTO user_profiles (user_id) SELECT id FROM u");

	/* Page 1 and 2 of everything, in id order. */
	struct e2e_resp r = list_users(admin.access, "");
	harness_expect_coded(&r, 200, NULL);
	static const char *const env_keys[] = {"items",	      "page",	     "per_page",
					       "total_items", "total_pages", "prev_page",
					       "next_page",   NULL};
	harness_assert_keys(r.json, env_keys, "page");
	ck_assert_int_eq(jint(r.json, "page"), 1);
	ck_assert_int_eq(jint(r.json, "per_page"), 20);
	ck_assert_int_eq(jint(r.json, "total_items"), 25);
	ck_assert_int_eq(jint(r.json, "total_pages"), 2);
	ck_assert(json_is_null(json_object_get(r.json, "prev_page")));
	assert_link(json_object_get(r.json, "next_page"), "page=2&per_page=20");
	json_t *items = json_object_get(r.json, "items");
	ck_assert_uint_eq(json_array_size(items), 20);
	static const char *const user_keys[] = {"id",	      "email",	 "group", "is_active",
						"created_at", "profile", NULL};
	static const char *const profile_keys[] = {"first_name",	  "last_name", "gender",
						   "date_of_birth",	  "info",      "avatar_url",
						   "email_notifications", NULL};
	harness_assert_keys(json_array_get(items, 0), user_keys, "user");
	harness_assert_keys(json_object_get(json_array_get(items, 0), "profile"), profile_keys,
			    "profile");
	ck_assert_str_eq(jstr(json_array_get(items, 0), "email"), ea);
	long long last = 0;
	size_t i;
	json_t *it;
	json_array_foreach (items, i, it) {
		ck_assert_int_gt(jint(it, "id"), last);
		last = jint(it, "id");
	}
	char next[256];
	snprintf(next, sizeof(next), "%s", jstr(r.json, "next_page"));
	e2e_resp_free(&r);

	r = harness_call("GET", next, admin.access, NULL);
	harness_expect_coded(&r, 200, NULL);
	ck_assert_int_eq(jint(r.json, "page"), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "items")), 5);
	ck_assert_int_gt(jint(json_array_get(json_object_get(r.json, "items"), 0), "id"), last);
	assert_link(json_object_get(r.json, "prev_page"), "page=1&per_page=20");
	ck_assert(json_is_null(json_object_get(r.json, "next_page")));
	e2e_resp_free(&r);

	/* Filters. */
	struct {
		const char *query;
		long long total;
		const char *group;  /* every item's, or NULL */
		int active;	    /* every item's is_active (0/1), or -1 */
		const char *substr; /* in every item's email, or NULL */
	} filters[] = {
		{"?group=MODERATOR", 8, "MODERATOR", -1, NULL},
		{"?group=ADMIN", 1, "ADMIN", -1, NULL},
		{"?group=USER", 16, "USER", -1, NULL},
		{"?is_active=false", 12, NULL, 0, NULL},
		{"?is_active=true", 13, NULL, 1, NULL},
		{"?email=ALPHA", 12, NULL, -1, "alpha-"},
		{"?email=pha-0", 9, NULL, -1, "alpha-0"},
		{"?email=%40list.test&group=MODERATOR&is_active=true", 4, "MODERATOR", 1,
		 "@list.test"},
		{"?email=nobody", 0, NULL, -1, NULL},
	};
	for (size_t f = 0; f < sizeof(filters) / sizeof(filters[0]); f++) {
		r = list_users(admin.access, filters[f].query);
		harness_expect_coded(&r, 200, NULL);
		ck_assert_msg(jint(r.json, "total_items") == filters[f].total,
			      "%s: total_items %lld, want %lld", filters[f].query,
			      jint(r.json, "total_items"), filters[f].total);
		items = json_object_get(r.json, "items");
		ck_assert_uint_eq(json_array_size(items), (size_t)filters[f].total);
		json_array_foreach (items, i, it) {
			if (filters[f].group)
				ck_assert_str_eq(jstr(it, "group"), filters[f].group);
			if (filters[f].active >= 0)
				ck_assert_int_eq(json_is_true(json_object_get(it, "is_active")),
						 filters[f].active);
			if (filters[f].substr)
				ck_assert_ptr_nonnull(strstr(jstr(it, "email"), filters[f].substr));
		}
		e2e_resp_free(&r);
	}

	/* Pages of a filtered list: the links keep the filters. */
	r = list_users(admin.access, "?email=alpha&is_active=true&per_page=2&page=2");
	harness_expect_coded(&r, 200, NULL);
	ck_assert_int_eq(jint(r.json, "total_items"), 6);
	ck_assert_int_eq(jint(r.json, "total_pages"), 3);
	ck_assert_int_eq(jint(r.json, "per_page"), 2);
	assert_link(json_object_get(r.json, "prev_page"),
		    "email=alpha&is_active=true&page=1&per_page=2");
	assert_link(json_object_get(r.json, "next_page"),
		    "email=alpha&is_active=true&page=3&per_page=2");
	items = json_object_get(r.json, "items");
	ck_assert_str_eq(jstr(json_array_get(items, 0), "email"), "alpha-06@list.test");
	ck_assert_str_eq(jstr(json_array_get(items, 1), "email"), "alpha-08@list.test");
	e2e_resp_free(&r);
	/* ...also when a value needs encoding, and following the link. */
	r = list_users(admin.access, "?email=%40list.test&per_page=10");
	harness_expect_coded(&r, 200, NULL);
	ck_assert_int_eq(jint(r.json, "total_items"), 24);
	assert_link(json_object_get(r.json, "next_page"), "email=%40list.test&page=2&per_page=10");
	snprintf(next, sizeof(next), "%s", jstr(r.json, "next_page"));
	e2e_resp_free(&r);
	r = harness_call("GET", next, admin.access, NULL);
	harness_expect_coded(&r, 200, NULL);
	ck_assert_int_eq(jint(r.json, "page"), 2);
	ck_assert_int_eq(jint(r.json, "total_items"), 24);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "items")), 10);
	e2e_resp_free(&r);

	/* Past the end: no items; "previous" is the last page with items. */
	r = list_users(admin.access, "?page=7&per_page=20");
	harness_expect_coded(&r, 200, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "items")), 0);
	ck_assert(json_is_null(json_object_get(r.json, "next_page")));
	assert_link(json_object_get(r.json, "prev_page"), "page=2&per_page=20");
	e2e_resp_free(&r);

	/* Bad parameters. */
	static const char *const bad[][2] = {
		{"?per_page=0", "per_page"},   {"?per_page=101", "per_page"},
		{"?per_page=abc", "per_page"}, {"?page=0", "page"},
		{"?page=-1", "page"},	       {"?group=ROOT", "group"},
		{"?group=admin", "group"},     {"?is_active=yes", "is_active"},
	};
	for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
		r = list_users(admin.access, bad[b][0]);
		ck_assert_msg(r.status == 422, "%s: status %ld", bad[b][0], r.status);
		harness_expect_invalid(&r, bad[b][1], NULL);
		e2e_resp_free(&r);
	}
	r = list_users(admin.access, "?per_page=100");
	harness_expect_coded(&r, 200, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "items")), 25);
	e2e_resp_free(&r);
}
END_TEST

/* ================================================================== */
/* 7. rate limits                                                      */
/* ================================================================== */

START_TEST(login_rate_limit)
{
	start_api(3);
	const char *email = harness_unique_email("rl");
	struct harness_account u[] = {{email, "USER", true, 0}};
	create_users(u, 1);

	for (int i = 0; i < 3; i++)
		expect_login_refused(email, "Wrong-pass1!", 401, "invalid_credentials");
	/* The 4th attempt for this email is refused whatever the password
	 * and however the address is written. */
	char upper[128];
	snprintf(upper, sizeof(upper), "%s", email);
	upper[0] = (char)(upper[0] - 32);
	struct e2e_resp r =
		harness_call("POST", "/api/v1/accounts/login", NULL,
			     harness_json("{s:s,s:s}", "email", upper, "password", PASSWORD));
	harness_expect_coded(&r, 429, "rate_limited");
	char retry[32];
	ck_assert_msg(e2e_header(&r, "Retry-After", retry, sizeof(retry)),
		      "429 without Retry-After");
	char *end;
	long secs = strtol(retry, &end, 10);
	ck_assert_msg(*end == '\0' && secs >= 1 && secs <= 60, "Retry-After: %s", retry);
	e2e_resp_free(&r);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM user_sessions"), 0);

	/* Another email from the same client is not held back. */
	expect_login_refused(harness_unique_email("other"), PASSWORD, 401, "invalid_credentials");
}
END_TEST

/* ================================================================== */
/* 8. registration validation                                          */
/* ================================================================== */

START_TEST(register_validation)
{
	boot(false);
	const char *path = "/api/v1/accounts/register";
	const char *email = harness_unique_email("val");

	/* Each broken password rule is named; the rules kept are not. */
	struct e2e_resp r = harness_call(
		"POST", path, NULL, harness_json("{s:s,s:s}", "email", email, "password", "abc"));
	harness_expect_invalid(&r, "password", "at least 8 characters");
	ck_assert(harness_has_error(&r, "password", "upper-case"));
	ck_assert(harness_has_error(&r, "password", "digit"));
	ck_assert(harness_has_error(&r, "password", "special"));
	ck_assert(!harness_has_error(&r, "password", "lower-case"));
	ck_assert(!harness_has_error(&r, "email", NULL));
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "errors")), 4);
	e2e_resp_free(&r);

	r = harness_call("POST", path, NULL,
			 harness_json("{s:s,s:s}", "email", email, "password", "ABCDEFGHIJ"));
	harness_expect_invalid(&r, "password", "lower-case");
	ck_assert(harness_has_error(&r, "password", "digit"));
	ck_assert(harness_has_error(&r, "password", "special"));
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "errors")), 3);
	e2e_resp_free(&r);

	r = harness_call("POST", path, NULL,
			 harness_json("{s:s,s:s}", "email", email, "password", "abcdefgh1!"));
	harness_expect_invalid(&r, "password", "upper-case");
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "errors")), 1);
	e2e_resp_free(&r);

	char longpw[140];
	memset(longpw, 'x', 129);
	memcpy(longpw, "Aa1!", 4);
	longpw[129] = '\0';
	r = harness_call("POST", path, NULL,
			 harness_json("{s:s,s:s}", "email", email, "password", longpw));
	harness_expect_invalid(&r, "password", "at most 128");
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "errors")), 1);
	e2e_resp_free(&r);
	longpw[128] = '\0'; /* 128 is allowed: checked by the success below */

	harness_check_invalid("POST", path, NULL,
			      harness_json("{s:s,s:i}", "email", email, "password", 12345678),
			      "password", NULL);

	/* Bad emails. */
	static const char *const bad_emails[] = {
		"not-an-email",	  "a@b", "a b@example.com", "@example.com", "a@@example.com",
		"a@example..com", ""};
	for (size_t i = 0; i < sizeof(bad_emails) / sizeof(bad_emails[0]); i++) {
		r = harness_call(
			"POST", path, NULL,
			harness_json("{s:s,s:s}", "email", bad_emails[i], "password", PASSWORD));
		ck_assert_msg(r.status == 422, "email \"%s\": status %ld", bad_emails[i], r.status);
		harness_expect_invalid(&r, "email", NULL);
		ck_assert(!harness_has_error(&r, "password", NULL));
		e2e_resp_free(&r);
	}

	/* Unknown and missing fields. */
	harness_check_invalid("POST", path, NULL,
			      harness_json("{s:s,s:s,s:s}", "email", email, "password", PASSWORD,
					   "group", "ADMIN"),
			      "group", "unknown field");
	r = harness_call("POST", path, NULL, harness_json("{}"));
	harness_expect_invalid(&r, "email", "required");
	ck_assert(harness_has_error(&r, "password", "required"));
	e2e_resp_free(&r);

	/* Not JSON. */
	const char *json_ct[] = {"Content-Type: application/json", NULL};
	r = harness_raw("POST", path, json_ct, "{\"email\":", 9);
	harness_expect_coded(&r, 400, "invalid_json");
	e2e_resp_free(&r);
	const char *text_ct[] = {"Content-Type: text/plain", NULL};
	const char *body = "{\"email\":\"a@example.com\",\"password\":\"Popcorn-42!\"}";
	r = harness_raw("POST", path, text_ct, body, strlen(body));
	harness_expect_coded(&r, 415, "unsupported_media_type");
	e2e_resp_free(&r);

	/* A NUL character (\u0000) in a string: 422 on that field, in our
	 * words; in a member name: 400, in our words too. */
	body = "{\"email\":\"a\\u0000@example.com\",\"password\":\"Popcorn-42!\"}";
	r = harness_raw("POST", path, json_ct, body, strlen(body));
	harness_expect_invalid(&r, "email", "must not contain NUL characters");
	ck_assert(!harness_has_error(&r, "password", NULL));
	e2e_resp_free(&r);
	body = "{\"email\":\"nul@example.com\",\"password\":\"Popcorn-42!\\u0000\"}";
	r = harness_raw("POST", path, json_ct, body, strlen(body));
	harness_expect_invalid(&r, "password", "must not contain NUL characters");
	ck_assert(!harness_has_error(&r, "email", NULL));
	e2e_resp_free(&r);
	body = "{\"email\\u0000\":\"nul@example.com\",\"password\":\"Popcorn-42!\"}";
	r = harness_raw("POST", path, json_ct, body, strlen(body));
	harness_expect_coded(&r, 400, "invalid_json");
	const char *detail = jstr(r.json, "detail");
	ck_assert_msg(detail && strstr(detail, "NUL character") && !strstr(detail, "JSON_") &&
			      !strstr(detail, "near"),
		      "detail: %s", r.body.data);
	e2e_resp_free(&r);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM users"), 0);

	/* Taken, whatever the case. */
	char mixed[128], upper[128];
	snprintf(mixed, sizeof(mixed), "Taken.%ld@Example.com", (long)getpid());
	snprintf(upper, sizeof(upper), "TAKEN.%ld@EXAMPLE.COM", (long)getpid());
	r = harness_call("POST", path, NULL,
			 harness_json("{s:s,s:s}", "email", mixed, "password", longpw));
	harness_expect_coded(&r, 201, NULL);
	ck_assert_str_eq(jstr(r.json, "email"),
			 harness_fmt("taken.%ld@example.com", (long)getpid()));
	e2e_resp_free(&r);
	harness_check_coded_call("POST", path, NULL,
				 harness_json("{s:s,s:s}", "email", upper, "password", PASSWORD),
				 409, "email_taken");
	harness_check_coded_call("POST", path, NULL,
				 harness_json("{s:s,s:s}", "email",
					      harness_fmt("taken.%ld@example.com", (long)getpid()),
					      "password", PASSWORD),
				 409, "email_taken");
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM users"), 1);
}
END_TEST

/* ================================================================== */
/* 9. resend and forgot: no account enumeration                        */
/* ================================================================== */

START_TEST(resend_and_forgot_do_not_enumerate)
{
	boot(true);
	const char *unknown = harness_unique_email("nobody");
	const char *inactive = harness_unique_email("inactive"),
		   *active = harness_unique_email("active");
	harness_check_coded_call("POST", "/api/v1/accounts/register", NULL,
				 harness_json("{s:s,s:s}", "email", inactive, "password", PASSWORD),
				 201, NULL);
	struct harness_account u[] = {{active, "USER", true, 0}};
	create_users(u, 1);
	char first[64];
	wait_token(inactive, ACTIVATE_LINK, 1, first);

	static const char *const paths[] = {"/api/v1/accounts/activation/resend",
					    "/api/v1/accounts/password/forgot"};
	const char *emails[] = {unknown, inactive, active};
	for (size_t p = 0; p < 2; p++) {
		char *bodies[3];
		for (size_t e = 0; e < 3; e++) {
			struct e2e_resp r = harness_call("POST", paths[p], NULL,
							 harness_json("{s:s}", "email", emails[e]));
			ck_assert_msg(r.status == 202, "%s for %s: %ld", paths[p], emails[e],
				      r.status);
			char ct[128];
			ck_assert(e2e_header(&r, "Content-Type", ct, sizeof(ct)));
			ck_assert_str_eq(ct, "application/json; charset=utf-8");
			bodies[e] = strdup(r.body.data ? r.body.data : "");
			e2e_resp_free(&r);
		}
		ck_assert_str_eq(bodies[0], bodies[1]);
		ck_assert_str_eq(bodies[1], bodies[2]);
		for (size_t e = 0; e < 3; e++)
			free(bodies[e]);
	}
	harness_check_invalid("POST", paths[0], NULL, harness_json("{s:s}", "email", "nope"),
			      "email", NULL);
	harness_check_invalid("POST", paths[1], NULL, harness_json("{}"), "email", "required");

	/* Mail went only where it should: registration and resend to the
	 * inactive account, the reset link to the active one. */
	wait_mail_settled(3);
	char toks[4][64];
	int total = 0;
	ck_assert_int_eq(mail_tokens(unknown, "token=", toks, 4, &total), 0);
	ck_assert_int_eq(total, 0);
	ck_assert_int_eq(mail_tokens(inactive, ACTIVATE_LINK, toks, 4, &total), 2);
	ck_assert_int_eq(total, 2);
	ck_assert_str_eq(toks[0], first);
	ck_assert_str_ne(toks[0], toks[1]);
	ck_assert_int_eq(mail_tokens(active, RESET_LINK, toks + 2, 2, &total), 1);
	ck_assert_int_eq(total, 1);

	/* The resent link replaced the first one. */
	harness_check_coded_call("POST", "/api/v1/accounts/activate", NULL,
				 harness_json("{s:s}", "token", first), 400, "token_invalid");
	harness_check_coded_call("POST", "/api/v1/accounts/activate", NULL,
				 harness_json("{s:s}", "token", toks[1]), 200, NULL);
}
END_TEST

/* ================================================================== */
/* 10. profile                                                         */
/* ================================================================== */

static json_t *get_me(const char *access)
{
	struct e2e_resp r = harness_call("GET", "/api/v1/accounts/me", access, NULL);
	harness_expect_coded(&r, 200, NULL);
	json_t *me = json_incref(r.json);
	e2e_resp_free(&r);
	return me;
}

START_TEST(profile_update)
{
	boot(false);
	const char *email = harness_unique_email("profile");
	struct harness_account u[] = {{email, "USER", true, 0}};
	create_users(u, 1);
	struct session s;
	login(email, PASSWORD, &s);
	const char *path = "/api/v1/accounts/me/profile";

	/* GET /me: the account and an empty profile. */
	json_t *me = get_me(s.access);
	static const char *const me_keys[] = {"id",	    "email",   "group", "is_active",
					      "created_at", "profile", NULL};
	static const char *const profile_keys[] = {"first_name",	  "last_name", "gender",
						   "date_of_birth",	  "info",      "avatar_url",
						   "email_notifications", NULL};
	harness_assert_keys(me, me_keys, "me");
	ck_assert_int_eq(jint(me, "id"), u[0].id);
	ck_assert_str_eq(jstr(me, "email"), email);
	ck_assert_str_eq(jstr(me, "group"), "USER");
	ck_assert(json_is_true(json_object_get(me, "is_active")));
	const char *created = jstr(me, "created_at");
	ck_assert_msg(created && strlen(created) == 20 && created[10] == 'T' && created[19] == 'Z',
		      "created_at %s is not RFC 3339 UTC", created ? created : "(none)");
	json_t *want =
		harness_json("{s:n,s:n,s:n,s:n,s:n,s:n,s:b}", "first_name", "last_name", "gender",
			     "date_of_birth", "info", "avatar_url", "email_notifications", 1);
	ck_assert_msg(json_equal(json_object_get(me, "profile"), want), "profile: %s",
		      json_dumps(json_object_get(me, "profile"), JSON_COMPACT));
	json_decref(want);
	json_decref(me);
	harness_check_coded_call("GET", "/api/v1/accounts/me", NULL, NULL, 401,
				 "not_authenticated");
	harness_check_coded_call("PATCH", path, NULL, harness_json("{s:s}", "first_name", "Ada"),
				 401, NULL);

	/* A valid update answers the profile. */
	struct e2e_resp r =
		harness_call("PATCH", path, s.access,
			     harness_json("{s:s,s:s,s:s,s:s,s:s}", "first_name", "Ada", "last_name",
					  "Lovelace", "gender", "WOMAN", "date_of_birth",
					  "1990-05-17", "info", "Likes silent films."));
	harness_expect_coded(&r, 200, NULL);
	harness_assert_keys(r.json, profile_keys, "profile");
	want = harness_json("{s:s,s:s,s:s,s:s,s:s,s:n,s:b}", "first_name", "Ada", "last_name",
			    "Lovelace", "gender", "WOMAN", "date_of_birth", "1990-05-17", "info",
			    "Likes silent films.", "avatar_url", "email_notifications", 1);
	ck_assert_msg(json_equal(r.json, want), "profile: %s", r.body.data);
	e2e_resp_free(&r);
	me = get_me(s.access);
	ck_assert(json_equal(json_object_get(me, "profile"), want));
	json_decref(me);

	/* Partial: other fields are kept. */
	r = harness_call("PATCH", path, s.access,
			 harness_json("{s:s,s:b}", "gender", "MAN", "email_notifications", 0));
	harness_expect_coded(&r, 200, NULL);
	json_object_set_new(want, "gender", json_string("MAN"));
	json_object_set_new(want, "email_notifications", json_false());
	ck_assert_msg(json_equal(r.json, want), "profile: %s", r.body.data);
	e2e_resp_free(&r);
	harness_check_coded_call("PATCH", path, s.access, harness_json("{}"), 200, NULL);

	/* Invalid values, each on its own. */
	char future[16]; /* the day after tomorrow: in the future in every time zone */
	time_t t = time(NULL) + 2 * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(future, sizeof(future), "%Y-%m-%d", &tm);
	char long_name[120];
	memset(long_name, 'n', 101);
	long_name[101] = '\0';
	struct {
		json_t *body;
		const char *field, *text;
	} bad[] = {
		{harness_json("{s:s}", "gender", "OTHER"), "gender", "MAN or WOMAN"},
		{harness_json("{s:s}", "gender", "man"), "gender", "MAN or WOMAN"},
		{harness_json("{s:i}", "gender", 1), "gender", NULL},
		{harness_json("{s:s}", "date_of_birth", future), "date_of_birth", NULL},
		{harness_json("{s:s}", "date_of_birth", "2999-01-01"), "date_of_birth", NULL},
		{harness_json("{s:s}", "date_of_birth", "2023-02-30"), "date_of_birth", NULL},
		{harness_json("{s:s}", "date_of_birth", "1990-13-01"), "date_of_birth", NULL},
		{harness_json("{s:s}", "date_of_birth", "17.05.1990"), "date_of_birth", NULL},
		{harness_json("{s:s}", "date_of_birth", "1899-12-31"), "date_of_birth", NULL},
		{harness_json("{s:s}", "nickname", "ada"), "nickname", "unknown field"},
		{harness_json("{s:s}", "email", "x@example.com"), "email", "unknown field"},
		{harness_json("{s:s}", "first_name", ""), "first_name", NULL},
		{harness_json("{s:s}", "first_name", long_name), "first_name", NULL},
		{harness_json("{s:i}", "info", 5), "info", NULL},
		{harness_json("{s:s}", "email_notifications", "no"), "email_notifications", NULL},
		/* A valid field does not go through with an invalid one. */
		{harness_json("{s:s,s:s}", "first_name", "Changed", "gender", "OTHER"), "gender",
		 NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = json_dumps(bad[i].body, JSON_COMPACT);
		r = harness_call("PATCH", path, s.access, bad[i].body);
		ck_assert_msg(r.status == 422, "%s: status %ld: %s", text, r.status, r.body.data);
		harness_expect_invalid(&r, bad[i].field, bad[i].text);
		e2e_resp_free(&r);
		free(text);
	}
	me = get_me(s.access);
	ck_assert_msg(json_equal(json_object_get(me, "profile"), want), "profile changed: %s",
		      json_dumps(json_object_get(me, "profile"), JSON_COMPACT));
	json_decref(me);

	/* null clears a field. */
	r = harness_call("PATCH", path, s.access,
			 harness_json("{s:n,s:n,s:n}", "first_name", "date_of_birth", "gender"));
	harness_expect_coded(&r, 200, NULL);
	json_object_set_new(want, "first_name", json_null());
	json_object_set_new(want, "date_of_birth", json_null());
	json_object_set_new(want, "gender", json_null());
	ck_assert_msg(json_equal(r.json, want), "profile: %s", r.body.data);
	e2e_resp_free(&r);
	me = get_me(s.access);
	ck_assert(json_equal(json_object_get(me, "profile"), want));
	ck_assert_str_eq(jstr(json_object_get(me, "profile"), "last_name"), "Lovelace");
	json_decref(me);
	json_decref(want);
}
END_TEST

/* ================================================================== */
/* 11. avatar (needs S3)                                               */
/* ================================================================== */

/* A 1x1 PNG. */
static const unsigned char tiny_png[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
	0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
	0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78,
	0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99,
	0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

/* The start of a JPEG (SOI, APP0 JFIF). */
static const unsigned char jpeg_head[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46,
					  0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
					  0x00, 0x01, 0x00, 0x00, 0xff, 0xd9};

static struct e2e_resp put_avatar(const char *access, const char *type, const void *data,
				  size_t len)
{
	char auth[2200], ct[64];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", access);
	snprintf(ct, sizeof(ct), "Content-Type: %s", type);
	const char *h[] = {auth, ct, NULL};
	return harness_raw("PUT", "/api/v1/accounts/me/avatar", h, data, len);
}

START_TEST(avatar_upload)
{
	const char *endpoint = getenv("S3_ENDPOINT");
	if (!endpoint || !*endpoint) {
		printf("note: S3_ENDPOINT is unset; avatar test skipped\n");
		fflush(stdout);
		return;
	}
	boot(false);
	const char *email = harness_unique_email("avatar");
	struct harness_account u[] = {{email, "USER", true, 0}};
	create_users(u, 1);
	struct session s;
	login(email, PASSWORD, &s);

	struct e2e_resp r = put_avatar(s.access, "text/plain", "hello", 5);
	harness_expect_coded(&r, 415, "unsupported_media_type");
	e2e_resp_free(&r);
	r = put_avatar(s.access, "image/png", jpeg_head, sizeof(jpeg_head));
	harness_expect_invalid(&r, "body", NULL);
	e2e_resp_free(&r);
	const char *anon[] = {"Content-Type: image/png", NULL};
	r = harness_raw("PUT", "/api/v1/accounts/me/avatar", anon, (const char *)tiny_png,
			sizeof(tiny_png));
	harness_expect_coded(&r, 401, NULL);
	e2e_resp_free(&r);

	r = put_avatar(s.access, "image/png", tiny_png, sizeof(tiny_png));
	harness_expect_coded(&r, 200, NULL);
	const char *url = jstr(r.json, "avatar_url");
	ck_assert_msg(url && strncmp(url, "http", 4) == 0, "avatar_url: %s", r.body.data);
	ck_assert_ptr_null(json_object_get(r.json, "avatar"));
	char avatar_url[2048];
	snprintf(avatar_url, sizeof(avatar_url), "%s", url);
	e2e_resp_free(&r);

	/* The presigned URL gives back the same bytes. */
	struct e2e_resp img;
	ck_assert(e2e_request("GET", avatar_url, NULL, NULL, 0, &img));
	ck_assert_msg(img.status == 200, "GET %s: %ld: %s", avatar_url, img.status, img.body.data);
	ck_assert_uint_eq(img.body.len, sizeof(tiny_png));
	ck_assert(memcmp(img.body.data, tiny_png, sizeof(tiny_png)) == 0);
	e2e_resp_free(&img);

	json_t *me = get_me(s.access);
	const char *again = jstr(json_object_get(me, "profile"), "avatar_url");
	ck_assert_msg(again && strncmp(again, "http", 4) == 0, "me avatar_url");
	json_decref(me);
}
END_TEST

int main(void)
{
	/* The test command always provides these; a run without them is a
	 * broken setup, not something to skip. */
	if (!harness_main_ready("accounts_test_accounts"))
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	Suite *s = suite_create("accounts");

	TCase *tc = tcase_create("sessions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, account_lifecycle);
	tcase_add_test(tc, password_change_and_reset);
	tcase_add_test(tc, queued_tokens_are_sealed);
	tcase_add_test(tc, password_change_ends_reset_link);
	tcase_add_test(tc, expired_and_unknown_tokens);
	tcase_add_test(tc, malformed_and_forged_tokens);
	tcase_add_test(tc, login_rate_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("admin");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, admin_routes_by_group);
	tcase_add_test(tc, admin_user_list);
	suite_add_tcase(s, tc);

	tc = tcase_create("registration");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, register_validation);
	tcase_add_test(tc, resend_and_forgot_do_not_enumerate);
	suite_add_tcase(s, tc);

	tc = tcase_create("profile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, profile_update);
	tcase_add_test(tc, avatar_upload);
	suite_add_tcase(s, tc);

	return harness_run(s);
}
