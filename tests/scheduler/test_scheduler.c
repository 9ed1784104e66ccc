/* End-to-end tests of cinema-scheduler: emails that are never lost, and
 * periodic jobs that run once per period. Real PostgreSQL (a throwaway
 * database per test), real Redis (a queue key per test on REDIS_URL), real
 * SMTP on loopback (cinema-mailsink, storing one .eml file per message), no mocks.
 *
 * Needs DATABASE_URL and REDIS_URL (scripts/test.sh provides them; the suite
 * fails when they are missing), CINEMA_SCHEDULER_BIN, CINEMA_MAILSINK_BIN,
 * TEMPLATES_DIR and MIGRATIONS_DIR (set by CTest), and python3 (its email
 * package checks that delivered messages are valid MIME).
 *
 * Processes, logs and SQL helpers: tests/support/harness.h. Cleanup: the
 * checked teardown stops every process a test started (SIGTERM, then
 * SIGKILL), drops the database, deletes the queue key and removes the mail
 * directory and logs. In fork mode a failed assertion ends the test process
 * before teardown; check then kills the test's whole process group, which
 * takes the scheduler and mailsink children with it.
 *
 * Waiting is polling (every 50 ms, up to a generous bound): no assertion
 * depends on how fast anything runs. */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cinema/db.h"
#include "cinema/jobs.h"
#include "cinema/kv.h"
#include "cinema/log.h"
#include "e2e.h"
#include "harness.h"
#include "testdb.h"

#define WAIT_MS 30000L /* "eventually": how long to poll */

#define BASE_URL  "https://cinema.test"
#define FROM_NAME "Онлайн Кинотеатр"
#define FROM_ADDR "no-reply@cinema.test"
#define SEAL_KEY  "scheduler-test-email-payload-key-0123456789"

/* --- the running test; teardown ends and removes all of it --- */

static struct {
	char *ci;	  /* the test's database (migrated) */
	char key[64];	  /* its Redis queue key */
	char maildir[64]; /* where its mailsink stores messages */
	int smtp_port;	  /* where its mailsink listens (or nothing does) */
	struct db_pool *pool;
	struct kv *kv;
	PGconn *pg;
} w;

/* --- SQL on the test's database --- */

static void assert_sql(const char *sql, const char *want)
{
	char *v = harness_sql_value(sql);
	ck_assert_msg(strcmp(v, want) == 0, "%s\n  gave \"%s\", want \"%s\"%s", sql, v, want,
		      harness_logs_tail());
	free(v);
}

/* Polls sql until it gives want (WAIT_MS at most). */
static void wait_sql(const char *sql, const char *want, long timeout_ms)
{
	long long deadline = harness_now_ms() + timeout_ms;
	for (;;) {
		char *v = harness_sql_value(sql);
		bool ok = strcmp(v, want) == 0;
		if (ok || harness_now_ms() > deadline) {
			ck_assert_msg(ok, "%s\n  still \"%s\" after %ld ms, want \"%s\"%s", sql, v,
				      timeout_ms, want, harness_logs_tail());
			free(v);
			return;
		}
		free(v);
		harness_sleep_ms(HARNESS_POLL_MS);
	}
}

/* --- mail files --- */

static bool is_eml(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && name[0] != '.' && strcmp(name + n - 4, ".eml") == 0;
}

static int count_eml(void)
{
	DIR *d = opendir(w.maildir);
	struct dirent *de;
	int n = 0;
	ck_assert_msg(d != NULL, "cannot open %s", w.maildir);
	while ((de = readdir(d)) != NULL)
		n += is_eml(de->d_name);
	closedir(d);
	return n;
}

static void wait_eml(int want, long timeout_ms)
{
	long long deadline = harness_now_ms() + timeout_ms;
	int n;
	while ((n = count_eml()) != want && harness_now_ms() <= deadline)
		harness_sleep_ms(HARNESS_POLL_MS);
	ck_assert_msg(n == want, "%d messages in %s, want %d%s", n, w.maildir, want,
		      harness_logs_tail());
}

/* The path of the one stored message whose envelope recipient is rcpt, in
 * a static buffer; fails if there is not exactly one. */
static const char *eml_for(const char *rcpt)
{
	static char path[512];
	char want[300];
	int found = 0;
	DIR *d = opendir(w.maildir);
	struct dirent *de;
	ck_assert_ptr_nonnull(d);
	snprintf(want, sizeof(want), "\r\nX-Sink-Rcpt-To: <%s>\r\n", rcpt);
	while ((de = readdir(d)) != NULL) {
		if (!is_eml(de->d_name))
			continue;
		char p[512];
		struct buf b = BUF_INIT;
		snprintf(p, sizeof(p), "%s/%s", w.maildir, de->d_name);
		ck_assert(e2e_read_file(p, &b));
		if (b.data && strstr(b.data, want)) {
			found++;
			snprintf(path, sizeof(path), "%s", p);
		}
		buf_free(&b);
	}
	closedir(d);
	ck_assert_msg(found == 1, "%d messages for %s, want 1", found, rcpt);
	return path;
}

/* --- MIME checks with python3's email package --- */

static const char py_check[] =
	"import sys, os, re, email\n"
	"from email import policy\n"
	"def load(path):\n"
	"    with open(path, 'rb') as f:\n"
	"        return email.message_from_bytes(f.read(), policy=policy.default)\n"
	"def problems(msg):\n"
	"    errs = []\n"
	"    for part in msg.walk():\n"
	"        if part.defects:\n"
	"            errs.append('defects: %r' % (part.defects,))\n"
	"    for h in ('Subject', 'From', 'To', 'Date', 'Message-ID'):\n"
	"        if len(msg.get_all(h) or []) != 1:\n"
	"            errs.append('want one %s header' % h)\n"
	"            continue\n"
	"        if msg[h].defects:\n"
	"            errs.append('%s: defects %r' % (h, msg[h].defects))\n"
	"    if msg['Bcc'] is not None or msg['Cc'] is not None:\n"
	"        errs.append('unexpected Cc or Bcc')\n"
	"    if msg.get_content_type() != 'multipart/alternative':\n"
	"        errs.append('content type %s' % msg.get_content_type())\n"
	"    if msg.get_body(('plain',)) is None or msg.get_body(('html',)) is None:\n"
	"        errs.append('no text/plain or no text/html part')\n"
	"    return errs\n"
	"mode = sys.argv[1]\n"
	"if mode == 'check':\n"
	"    path, link, name, addr, to, subject = sys.argv[2:8]\n"
	"    msg = load(path)\n"
	"    errs = problems(msg)\n"
	"    if not errs:\n"
	"        text = msg.get_body(('plain',)).get_content()\n"
	"        html = msg.get_body(('html',)).get_content()\n"
	"        if link not in text:\n"
	"            errs.append('link %s not in the text part: %r' % (link, text))\n"
	"        if 'href=\"%s\"' % link not in html:\n"
	"            errs.append('link %s not in the html part: %r' % (link, html))\n"
	"        if to not in text:\n"
	"            errs.append('recipient not in the text part')\n"
	"        f = msg['From'].addresses\n"
	"        if len(f) != 1 or f[0].display_name != name or f[0].addr_spec != addr:\n"
	"            errs.append('From: %r' % str(msg['From']))\n"
	"        t = msg['To'].addresses\n"
	"        if len(t) != 1 or t[0].addr_spec != to:\n"
	"            errs.append('To: %r' % str(msg['To']))\n"
	"        if str(msg['Subject']) != subject:\n"
	"            errs.append('Subject: %r' % str(msg['Subject']))\n"
	"        if msg['Date'].datetime is None or msg['Date'].datetime.tzinfo is None:\n"
	"            errs.append('Date: %r' % str(msg['Date']))\n"
	"        mid = str(msg['Message-ID'])\n"
	"        if not re.fullmatch(r'<[^<>@ ]+@' + re.escape(addr.split('@')[1]) + '>', mid):\n"
	"            errs.append('Message-ID: %r' % mid)\n"
	"        if not str(msg['X-Sink-Mail-From']).startswith('<%s>' % addr):\n"
	"            errs.append('envelope sender %r' % str(msg['X-Sink-Mail-From']))\n"
	"        if msg.get_all('X-Sink-Rcpt-To') != ['<%s>' % to]:\n"
	"            errs.append('envelope recipients %r' % msg.get_all('X-Sink-Rcpt-To'))\n"
	"    print('\\n'.join(errs) or 'ok')\n"
	"    sys.exit(1 if errs else 0)\n"
	"if mode == 'tokens':\n"
	"    bad = 0\n"
	"    for name in sorted(os.listdir(sys.argv[2])):\n"
	"        if not name.endswith('.eml') or name.startswith('.'):\n"
	"            continue\n"
	"        msg = load(os.path.join(sys.argv[2], name))\n"
	"        errs = problems(msg)\n"
	"        if errs:\n"
	"            print('%s: %s' % (name, '; '.join(errs)), file=sys.stderr)\n"
	"            bad += 1\n"
	"            continue\n"
	"        for tok in re.findall(r'token=([0-9a-f]+)', "
	"msg.get_body(('plain',)).get_content()):\n"
	"            print(tok)\n"
	"    sys.exit(1 if bad else 0)\n";

/* Checks the stored message at path with python3; fails with its report. */
static void assert_valid_mime(const char *path, const char *link, const char *to,
			      const char *subject)
{
	char *argv[] = {(char *)"python3",
			(char *)"-c",
			(char *)py_check,
			(char *)"check",
			(char *)path,
			(char *)link,
			(char *)FROM_NAME,
			(char *)FROM_ADDR,
			(char *)to,
			(char *)subject,
			NULL};
	struct buf out = BUF_INIT, err = BUF_INIT;
	int rc = e2e_run_capture("python3", argv, NULL, NULL, 60, &out, &err);
	struct buf eml = BUF_INIT;
	e2e_read_file(path, &eml);
	ck_assert_msg(rc == 0, "python3 check of %s exited %d:\n%s%s\n--- message ---\n%s", path,
		      rc, out.data, err.data, eml.data);
	buf_free(&eml);
	buf_free(&out);
	buf_free(&err);
}

/* --- processes --- */

/* The environment of a scheduler of this test: its database, queue, SMTP
 * port (plain SMTP allowed), fast sweeps and retries. Tests override entries with harness_env_set.
 */
static void base_env(struct harness_env *e)
{
	memset(e, 0, sizeof(*e));
	harness_env_set(e, "DATABASE_URL=%s", w.ci);
	harness_env_set(e, "EMAIL_QUEUE_KEY=%s", w.key);
	harness_env_set(e, "SMTP_URL=smtp://127.0.0.1:%d", w.smtp_port);
	harness_env_set(e, "SMTP_TIMEOUT_MS=5000");
	harness_env_set(e, "SMTP_ALLOW_PLAIN=1"); /* cinema-mailsink has no STARTTLS */
	harness_env_set(e, "PUBLIC_BASE_URL=%s", BASE_URL);
	harness_env_set(e, "MAIL_FROM=%s <%s>", FROM_NAME, FROM_ADDR);
	harness_env_set(e, "LOG_LEVEL=info");
	harness_env_set(e, "SCHEDULER_SWEEP_MS=100");
	harness_env_set(e, "EMAIL_RETRY_BASE_MS=100");
	harness_env_set(e, "EMAIL_RETRY_MAX_MS=400");
	harness_env_set(e, "EMAIL_MAX_ATTEMPTS=50");
	harness_env_set(e, "TOKEN_CLEANUP_INTERVAL=3600");
	harness_env_set(e, "EMAIL_PAYLOAD_KEY=%s", SEAL_KEY);
}

/* Lines of the JSON log at path whose msg is msg (owned array). */
static json_t *log_lines(const char *path, const char *msg)
{
	struct buf b = BUF_INIT;
	json_t *lines = json_array();
	e2e_read_file(path, &b);
	for (const char *p = b.data; p && *p;) {
		size_t len = strcspn(p, "\n");
		json_t *line = json_loadb(p, len, 0, NULL);
		const char *m = json_string_value(json_object_get(line, "msg"));
		if (m && strcmp(m, msg) == 0)
			json_array_append(lines, line);
		json_decref(line);
		p += len;
		if (*p == '\n')
			p++;
	}
	buf_free(&b);
	return lines;
}

/* The string member key of obj, or "". */
static const char *str_field(const json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));
	return v ? v : "";
}

static size_t count_log(const char *path, const char *msg)
{
	json_t *lines = log_lines(path, msg);
	size_t n = json_array_size(lines);
	json_decref(lines);
	return n;
}

/* Log lines "email job" with the given outcome. */
static size_t count_outcome(const char *path, const char *outcome)
{
	json_t *lines = log_lines(path, "email job");
	size_t i, n = 0;
	json_t *l;
	json_array_foreach (lines, i, l) {
		n += strcmp(str_field(l, "outcome"), outcome) == 0;
	}
	json_decref(lines);
	return n;
}

/* SIGTERM, a generous bound, exit status 0 and the "scheduler stopped" line. */
static void stop_scheduler(pid_t pid, const char *log)
{
	int rc = harness_stop(pid, SIGTERM, 20000);
	ck_assert_msg(rc == 0,
		      "cinema-scheduler exited %d after SIGTERM (-1: still running "
		      "after 20 s):%s",
		      rc, harness_logs_tail());
	ck_assert_msg(count_log(log, "scheduler stopped") == 1, "no \"scheduler stopped\":%s",
		      harness_logs_tail());
}

/* --- producing jobs, as the API does --- */

static void random_hex(char *out, size_t bytes)
{
	unsigned char rnd[32];
	ck_assert_uint_le(bytes, sizeof(rnd));
	randombytes_buf(rnd, bytes);
	sodium_bin2hex(out, bytes * 2 + 1, rnd, bytes);
}

/* Records a job (payload is stolen) and, if asked, announces it. */
static long long enqueue(const char *kind, const char *rcpt, json_t *payload, bool announce)
{
	struct db_conn *conn = NULL;
	long long id = 0;
	ck_assert_int_eq(db_acquire(w.pool, &conn), ERR_OK);
	enum err rc = email_job_enqueue(conn, kind, rcpt, payload, &id);
	db_release(conn);
	json_decref(payload);
	ck_assert_msg(rc == ERR_OK, "email_job_enqueue(%s, %s): %d", kind, rcpt, rc);
	ck_assert_int_gt(id, 0);
	if (announce)
		email_job_announce(w.kv, w.key, id);
	return id;
}

/* An activation job for rcpt with token (32 hex digits) written to token. */
static long long enqueue_activation(const char *rcpt, char token[65], bool announce)
{
	random_hex(token, 16);
	return enqueue("activation", rcpt, json_pack("{s:s}", "token", token), announce);
}

static const char *link_for(const char *token)
{
	return harness_fmt("%s/accounts/activate?token=%s", BASE_URL, token);
}

static long long queue_length(void)
{
	redisReply *r = NULL;
	ck_assert_int_eq(kv_command(w.kv, &r, "LLEN %s", w.key), ERR_OK);
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	long long n = r->integer;
	freeReplyObject(r);
	return n;
}

/* Polls until the scheduler has taken every announced id off the queue. */
static void wait_queue_empty(void)
{
	long long deadline = harness_now_ms() + WAIT_MS;
	long long n;
	while ((n = queue_length()) != 0 && harness_now_ms() <= deadline)
		harness_sleep_ms(HARNESS_POLL_MS);
	ck_assert_msg(n == 0, "%lld ids still queued%s", n, harness_logs_tail());
}

/* --- fixture --- */

static void setup(void)
{
	static const char *const required[] = {"DATABASE_URL",
					       "REDIS_URL",
					       "CINEMA_SCHEDULER_BIN",
					       "CINEMA_MAILSINK_BIN",
					       "TEMPLATES_DIR",
					       "MIGRATIONS_DIR",
					       NULL};
	static unsigned n;
	char err[256];
	harness_require_env(required);
	memset(&w, 0, sizeof(w));
	harness_begin("sched");
	harness_set_wait_ms(WAIT_MS);
	w.ci = testdb_create();
	ck_assert_msg(w.ci != NULL, "testdb_create failed");
	int applied = 0;
	ck_assert_msg(db_migrate(w.ci, getenv("MIGRATIONS_DIR"), &applied) == ERR_OK,
		      "migrations failed");
	ck_assert_int_ge(applied, 2);
	snprintf(w.key, sizeof(w.key), "test:%ld:%u", (long)getpid(), ++n);
	harness_maildir_new(w.maildir, sizeof(w.maildir));
	w.smtp_port = e2e_free_port();
	ck_assert_int_gt(w.smtp_port, 0);

	struct db_pool_options dbo = {
		.conninfo = w.ci, .size = 2, .acquire_timeout_ms = 5000, .connect_timeout_s = 5};
	w.pool = db_pool_new(&dbo);
	ck_assert_ptr_nonnull(w.pool);
	struct kv_options kvo = {.url = getenv("REDIS_URL"), .pool_size = 1, .timeout_ms = 2000};
	w.kv = kv_new(&kvo, err, sizeof(err));
	ck_assert_msg(w.kv != NULL, "REDIS_URL: %s", err);
	ck_assert_msg(kv_ping(w.kv), "Redis at REDIS_URL does not answer");
	w.pg = PQconnectdb(w.ci);
	ck_assert_msg(PQstatus(w.pg) == CONNECTION_OK, "connect: %s", PQerrorMessage(w.pg));
	harness_use_db(w.pg);
}

static void teardown(void)
{
	harness_end();
	if (w.kv) {
		kv_command(w.kv, NULL, "DEL %s", w.key);
		kv_free(w.kv);
	}
	db_pool_free(w.pool);
	harness_db_close(w.ci, w.pg);
	if (w.maildir[0])
		harness_remove_dir(w.maildir);
	memset(&w, 0, sizeof(w));
}

/* ===================================================================== */
/* 1. A job recorded and announced is delivered, as valid MIME.          */

START_TEST(announced_job_is_delivered_as_valid_mime)
{
	struct harness_env e;
	const char *log;
	char tok1[65], tok2[65];
	base_env(&e);
	/* Sweeps a minute apart: after the first one, only the announcement
	 * can get a job sent within the wait. */
	harness_env_set(&e, "SCHEDULER_SWEEP_MS=60000");
	harness_mailsink_run(w.maildir, w.smtp_port);
	pid_t sched = harness_scheduler_spawn(e.p, "scheduler", &log);

	long long id1 = enqueue_activation("first@example.com", tok1, true);
	wait_sql(harness_fmt("SELECT status FROM email_jobs WHERE id = %lld", id1), "sent",
		 WAIT_MS);
	wait_eml(1, WAIT_MS);
	long long id2 = enqueue_activation("second@example.com", tok2, true);
	wait_sql(harness_fmt("SELECT status FROM email_jobs WHERE id = %lld", id2), "sent",
		 WAIT_MS);
	wait_eml(2, WAIT_MS);

	assert_valid_mime(eml_for("first@example.com"), link_for(tok1), "first@example.com",
			  "Activate your Online Cinema account");
	assert_valid_mime(eml_for("second@example.com"), link_for(tok2), "second@example.com",
			  "Activate your Online Cinema account");

	/* Sent once, and no usable token is left in the table. */
	assert_sql("SELECT string_agg(concat_ws(' ', status, attempts, payload::text, "
		   "sent_at IS NOT NULL, coalesce(last_error, '-'), "
		   "coalesce(locked_until::text, '-')), ',' ORDER BY id) FROM email_jobs",
		   "sent 1 {} t - -,sent 1 {} t - -");
	wait_queue_empty();
	ck_assert_uint_eq(count_outcome(log, "sent"), 2);
	/* The log never carries a token or a link with one. */
	ck_assert_msg(!harness_file_contains(log, tok1) && !harness_file_contains(log, tok2),
		      "a token was logged:%s", harness_logs_tail());
	stop_scheduler(sched, log);
}
END_TEST

/* ===================================================================== */
/* 2. SMTP down: retried, delivered once it is back; failed after the    */
/*    last attempt.                                                      */

START_TEST(smtp_down_then_back_is_retried_and_delivered)
{
	struct harness_env e;
	const char *log;
	char tok[65];
	base_env(&e); /* nothing listens on w.smtp_port yet */
	pid_t sched = harness_scheduler_spawn(e.p, "scheduler", &log);
	long long id = enqueue_activation("retry@example.com", tok, true);

	/* At least one attempt failed and the job waits for another. */
	wait_sql(harness_fmt("SELECT attempts >= 1 AND last_error IS NOT NULL AND sent_at IS NULL "
			     "FROM email_jobs WHERE id = %lld",
			     id),
		 "t", WAIT_MS);
	ck_assert_int_eq(count_eml(), 0);
	assert_sql(
		harness_fmt(
			"SELECT status IN ('pending', 'sending') FROM email_jobs WHERE id = %lld",
			id),
		"t");

	harness_mailsink_run(w.maildir, w.smtp_port);
	wait_sql(harness_fmt("SELECT status FROM email_jobs WHERE id = %lld", id), "sent", WAIT_MS);
	wait_eml(1, WAIT_MS);
	assert_valid_mime(eml_for("retry@example.com"), link_for(tok), "retry@example.com",
			  "Activate your Online Cinema account");
	assert_sql(harness_fmt("SELECT concat_ws(' ', attempts >= 2, payload::text, "
			       "last_error IS NULL) FROM email_jobs WHERE id = %lld",
			       id),
		   "t {} t");
	ck_assert_uint_ge(count_outcome(log, "retry"), 1);
	ck_assert_uint_eq(count_outcome(log, "sent"), 1);
	/* Nothing more arrives later. */
	harness_sleep_ms(500);
	ck_assert_int_eq(count_eml(), 1);
	ck_assert_msg(!harness_file_contains(log, tok), "the token was logged:%s",
		      harness_logs_tail());
	stop_scheduler(sched, log);
}
END_TEST

START_TEST(smtp_down_past_last_attempt_is_failed)
{
	struct harness_env e;
	const char *log;
	char tok[65];
	base_env(&e); /* nothing ever listens on w.smtp_port */
	harness_env_set(&e, "EMAIL_MAX_ATTEMPTS=2");
	pid_t sched = harness_scheduler_spawn(e.p, "scheduler", &log);
	long long id = enqueue_activation("never@example.com", tok, true);

	wait_sql(harness_fmt("SELECT status FROM email_jobs WHERE id = %lld", id), "failed",
		 WAIT_MS);
	assert_sql(harness_fmt("SELECT concat_ws(' ', attempts, payload::text, "
			       "coalesce(length(last_error) > 0, false), sent_at IS NULL, "
			       "locked_until IS NULL) FROM email_jobs WHERE id = %lld",
			       id),
		   "2 {} t t t");
	/* Failed for good: not tried again. */
	harness_sleep_ms(600);
	assert_sql(
		harness_fmt("SELECT status || ' ' || attempts FROM email_jobs WHERE id = %lld", id),
		"failed 2");
	ck_assert_uint_eq(count_outcome(log, "retry"), 1);
	ck_assert_uint_eq(count_outcome(log, "failed"), 1);
	char *err = harness_sql_value(
		harness_fmt("SELECT last_error FROM email_jobs WHERE id = %lld", id));
	ck_assert_msg(strstr(err, tok) == NULL, "last_error holds the token: %s", err);
	free(err);
	ck_assert_msg(!harness_file_contains(log, tok), "the token was logged:%s",
		      harness_logs_tail());
	ck_assert_int_eq(count_eml(), 0);
	stop_scheduler(sched, log);
}
END_TEST

/* TLS is required unless plain SMTP is allowed: against the plain sink the
 * job is retried with an error naming TLS and nothing is delivered; a
 * scheduler allowing plain SMTP then delivers it. */
START_TEST(plain_smtp_only_when_allowed)
{
	struct harness_env e;
	const char *log;
	char tok[65];
	base_env(&e);
	harness_env_set(&e, "SMTP_ALLOW_PLAIN=0");
	harness_mailsink_run(w.maildir, w.smtp_port);
	pid_t sched = harness_scheduler_spawn(e.p, "scheduler-tls", &log);
	json_t *started = log_lines(log, "scheduler started");
	ck_assert_str_eq(str_field(json_array_get(started, 0), "smtp_tls"), "starttls required");
	json_decref(started);
	long long id = enqueue_activation("tls@example.com", tok, true);

	wait_sql(harness_fmt("SELECT attempts >= 2 AND status IN ('pending', 'sending') AND "
			     "sent_at IS NULL FROM email_jobs WHERE id = %lld",
			     id),
		 "t", WAIT_MS);
	char *err = harness_sql_value(
		harness_fmt("SELECT last_error FROM email_jobs WHERE id = %lld", id));
	ck_assert_msg(strstr(err, "TLS") != NULL, "last_error: %s", err);
	free(err);
	/* The log is written by a thread of its own: the second retry's line
	 * may follow the row's update by a moment. */
	for (long long end = harness_now_ms() + WAIT_MS;
	     count_outcome(log, "retry") < 2 && harness_now_ms() < end;)
		harness_sleep_ms(HARNESS_POLL_MS);
	ck_assert_uint_ge(count_outcome(log, "retry"), 2);
	ck_assert_uint_eq(count_outcome(log, "sent"), 0);
	ck_assert_int_eq(count_eml(), 0);
	stop_scheduler(sched, log);

	base_env(&e);
	sched = harness_scheduler_spawn(e.p, "scheduler-plain", &log);
	started = log_lines(log, "scheduler started");
	ck_assert_ptr_nonnull(
		strstr(str_field(json_array_get(started, 0), "smtp_tls"), "SMTP_ALLOW_PLAIN=1"));
	json_decref(started);
	wait_sql(harness_fmt("SELECT status FROM email_jobs WHERE id = %lld", id), "sent", WAIT_MS);
	wait_eml(1, WAIT_MS);
	assert_valid_mime(eml_for("tls@example.com"), link_for(tok), "tls@example.com",
			  "Activate your Online Cinema account");
	stop_scheduler(sched, log);
}
END_TEST

/* ===================================================================== */
/* 3. Redis down when the job is recorded: the sweep delivers it.        */

START_TEST(lost_announcement_is_delivered_by_the_sweep)
{
	char tok[65], err[256];
	int dead = e2e_free_port();
	char url[64];
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", dead);
	struct kv_options kvo = {.url = url, .pool_size = 1, .timeout_ms = 500};
	struct kv *dead_kv = kv_new(&kvo, err, sizeof(err));
	ck_assert_ptr_nonnull(dead_kv);

	/* The producer's announcement fails; it is not the caller's problem. */
	random_hex(tok, 16);
	long long id =
		enqueue("activation", "swept@example.com", json_pack("{s:s}", "token", tok), false);
	email_job_announce(dead_kv, w.key, id);
	kv_free(dead_kv);
	ck_assert_int_eq(queue_length(), 0);
	assert_sql(harness_fmt("SELECT status FROM email_jobs WHERE id = %lld", id), "pending");

	struct harness_env e;
	const char *log;
	base_env(&e);
	harness_mailsink_run(w.maildir, w.smtp_port);
	pid_t sched = harness_scheduler_spawn(e.p, "scheduler", &log);
	wait_sql(
		harness_fmt("SELECT status || ' ' || attempts FROM email_jobs WHERE id = %lld", id),
		"sent 1", WAIT_MS);
	wait_eml(1, WAIT_MS);
	assert_valid_mime(eml_for("swept@example.com"), link_for(tok), "swept@example.com",
			  "Activate your Online Cinema account");
	stop_scheduler(sched, log);
}
END_TEST

START_TEST(scheduler_with_redis_down_still_sends)
{
	struct harness_env e;
	const char *log;
	char tok[65];
	base_env(&e);
	harness_env_set(&e, "REDIS_URL=redis://127.0.0.1:%d/0", e2e_free_port());
	harness_mailsink_run(w.maildir, w.smtp_port);
	pid_t sched = harness_scheduler_spawn(e.p, "scheduler", &log);
	long long id = enqueue_activation("noredis@example.com", tok, false);
	wait_sql(
		harness_fmt("SELECT status || ' ' || attempts FROM email_jobs WHERE id = %lld", id),
		"sent 1", WAIT_MS);
	wait_eml(1, WAIT_MS);
	assert_valid_mime(eml_for("noredis@example.com"), link_for(tok), "noredis@example.com",
			  "Activate your Online Cinema account");
	/* Stopping does not depend on Redis either. */
	stop_scheduler(sched, log);
}
END_TEST

START_TEST(expired_lease_is_requeued_and_sent)
{
	/* A scheduler died while sending: its claim's lease has run out. */
	char tok[65];
	random_hex(tok, 16);
	long long id = harness_sql_int(
		harness_fmt("INSERT INTO email_jobs (kind, recipient, payload, status, "
			    "attempts, locked_until) VALUES ('activation', "
			    "'lease@example.com', '{\"token\": \"%s\"}', 'sending', 1, "
			    "now() - interval '1 second') RETURNING id",
			    tok));
	struct harness_env e;
	const char *log;
	base_env(&e);
	harness_mailsink_run(w.maildir, w.smtp_port);
	pid_t sched = harness_scheduler_spawn(e.p, "scheduler", &log);
	wait_sql(
		harness_fmt("SELECT status || ' ' || attempts FROM email_jobs WHERE id = %lld", id),
		"sent 2", WAIT_MS);
	wait_eml(1, WAIT_MS);
	ck_assert_uint_ge(count_log(log, "email jobs with expired leases requeued"), 1);
	stop_scheduler(sched, log);
}
END_TEST

/* ===================================================================== */
/* 4. Two schedulers, one queue, 200 jobs: each delivered exactly once.  */

#define MANY 200

START_TEST(two_schedulers_deliver_each_job_once)
{
	static char tokens[MANY][65];
	struct harness_env e;
	const char *logs2[2];
	pid_t sched[2];
	base_env(&e);
	harness_mailsink_run(w.maildir, w.smtp_port);
	sched[0] = harness_scheduler_spawn(e.p, "scheduler-a", &logs2[0]);
	sched[1] = harness_scheduler_spawn(e.p, "scheduler-b", &logs2[1]);

	for (int i = 0; i < MANY; i++) {
		char rcpt[64];
		snprintf(rcpt, sizeof(rcpt), "user%03d@example.com", i);
		enqueue_activation(rcpt, tokens[i], true);
	}
	wait_sql("SELECT count(*) FROM email_jobs WHERE status = 'sent'", "200", WAIT_MS);
	wait_eml(MANY, WAIT_MS);
	for (int i = 0; i < 2; i++)
		stop_scheduler(sched[i], logs2[i]);
	ck_assert_int_eq(count_eml(), MANY);
	assert_sql("SELECT count(*) FILTER (WHERE status = 'sent' AND attempts = 1 AND "
		   "payload = '{}') || '/' || count(*) FROM email_jobs",
		   "200/200");
	ck_assert_uint_eq(count_outcome(logs2[0], "sent") + count_outcome(logs2[1], "sent"), MANY);
	/* (The queue may still hold ids of jobs a sweep sent first: claiming
	 * those later finds nothing to do.) */

	/* Every token exactly once across all messages. */
	char *argv[] = {(char *)"python3", (char *)"-c", (char *)py_check,
			(char *)"tokens",  w.maildir,	 NULL};
	struct buf out = BUF_INIT, err = BUF_INIT;
	int rc = e2e_run_capture("python3", argv, NULL, NULL, 120, &out, &err);
	ck_assert_msg(rc == 0, "python3 exited %d:\n%s", rc, err.data);
	int seen[MANY] = {0};
	int lines = 0;
	for (const char *p = out.data; p && *p;) {
		size_t len = strcspn(p, "\n");
		int match = -1;
		for (int i = 0; i < MANY; i++)
			if (len == 32 && strncmp(p, tokens[i], 32) == 0)
				match = i;
		ck_assert_msg(match >= 0, "unknown token in a message: %.*s", (int)len, p);
		seen[match]++;
		lines++;
		p += len;
		if (*p == '\n')
			p++;
	}
	ck_assert_int_eq(lines, MANY);
	for (int i = 0; i < MANY; i++)
		ck_assert_msg(seen[i] == 1, "token of job %d seen %d times", i, seen[i]);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

/* ===================================================================== */
/* 5. The cleanup job removes exactly the expired tokens, once a period. */

/* Test data named by labels: t_hash(label) is a token column value (SHA-256
 * hex), t_sid(label) a session id. */
static void add_label_functions(void)
{
	harness_sql_ok("CREATE FUNCTION t_hash(text) RETURNS text LANGUAGE sql IMMUTABLE AS "
		       "$$ SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex') $$");
	harness_sql_ok("CREATE FUNCTION t_sid(text) RETURNS uuid LANGUAGE sql IMMUTABLE AS "
		       "$$ SELECT md5($1)::uuid $$");
	harness_sql_ok("CREATE FUNCTION t_uid(text) RETURNS bigint LANGUAGE sql AS "
		       "$$ SELECT id FROM users WHERE email = $1 $$");
}

/* "table:label,..." for every labelled row that is still there. */
static const char surviving_sql[] =
	"SELECT coalesce(string_agg(x, ',' ORDER BY x), '') FROM ("
	"SELECT 'activation:' || l AS x FROM t_labels JOIN activation_tokens ON token = t_hash(l) "
	"UNION ALL SELECT 'password_reset:' || l FROM t_labels "
	"JOIN password_reset_tokens ON token = t_hash(l) "
	"UNION ALL SELECT 'refresh:' || l FROM t_labels JOIN refresh_tokens ON token = t_hash(l) "
	"UNION ALL SELECT 'session:' || l FROM t_labels JOIN user_sessions ON id = t_sid(l)"
	") s";

START_TEST(cleanup_removes_exactly_the_expired_tokens)
{
	add_label_functions();
	harness_sql_ok("CREATE TABLE t_labels (l text PRIMARY KEY)");
	harness_sql_ok(
		"INSERT INTO users (email, hashed_password, group_id) "
		"SELECT e, 'x', (SELECT id FROM user_groups WHERE name = 'USER') "
		"FROM unnest(ARRAY['u1@example.com', 'u2@example.com', 'u3@example.com']) e");
	harness_sql_ok("INSERT INTO t_labels VALUES ('act-expired'), ('act-valid'), ('pr-valid'), "
		       "('pr-expired'), ('rf-expired-1'), ('rf-expired-2'), ('rf-used-valid'), "
		       "('rf-valid-1'), ('rf-valid-2'), ('rf-of-old-revoked'), ('rf-late'), "
		       "('s-live-1'), ('s-live-2'), ('s-revoked-recently'), ('s-expired'), "
		       "('s-revoked-long-ago')");
	harness_sql_ok(
		"INSERT INTO activation_tokens (user_id, token, expires_at) VALUES "
		"(t_uid('u1@example.com'), t_hash('act-expired'), now() - interval '1 hour'), "
		"(t_uid('u2@example.com'), t_hash('act-valid'), now() + interval '1 hour')");
	harness_sql_ok(
		"INSERT INTO password_reset_tokens (user_id, token, expires_at) VALUES "
		"(t_uid('u1@example.com'), t_hash('pr-valid'), now() + interval '2 minutes'), "
		"(t_uid('u3@example.com'), t_hash('pr-expired'), now() - interval '1 second')");
	/* Sessions end when they expire; revoked ones stay a day (reuse
	 * detection), then go with their refresh tokens. */
	harness_sql_ok(
		"INSERT INTO user_sessions (id, user_id, expires_at, revoked_at) VALUES "
		"(t_sid('s-live-1'), t_uid('u1@example.com'), now() + interval '1 day', NULL), "
		"(t_sid('s-live-2'), t_uid('u2@example.com'), now() + interval '1 day', NULL), "
		"(t_sid('s-revoked-recently'), t_uid('u3@example.com'), "
		"now() + interval '14 days', now() - interval '1 hour'), "
		"(t_sid('s-expired'), t_uid('u3@example.com'), now() - interval '1 second', NULL), "
		"(t_sid('s-revoked-long-ago'), t_uid('u2@example.com'), now() + interval '1 day', "
		"now() - interval '2 days')");
	harness_sql_ok(
		"INSERT INTO refresh_tokens (user_id, session_id, token, expires_at, used_at) "
		"VALUES "
		"(t_uid('u1@example.com'), t_sid('s-live-1'), t_hash('rf-expired-1'), "
		"now() - interval '1 day', now() - interval '2 days'), "
		"(t_uid('u1@example.com'), t_sid('s-live-1'), t_hash('rf-expired-2'), "
		"now() - interval '1 second', NULL), "
		"(t_uid('u1@example.com'), t_sid('s-live-1'), t_hash('rf-used-valid'), "
		"now() + interval '1 day', now() - interval '1 minute'), "
		"(t_uid('u2@example.com'), t_sid('s-live-2'), t_hash('rf-valid-1'), "
		"now() + interval '1 day', NULL), "
		"(t_uid('u3@example.com'), t_sid('s-revoked-recently'), t_hash('rf-valid-2'), "
		"now() + interval '14 days', NULL), "
		"(t_uid('u2@example.com'), t_sid('s-revoked-long-ago'), "
		"t_hash('rf-of-old-revoked'), now() + interval '1 day', NULL)");
	assert_sql(surviving_sql,
		   "activation:act-expired,activation:act-valid,password_reset:pr-expired,"
		   "password_reset:pr-valid,refresh:rf-expired-1,refresh:rf-expired-2,"
		   "refresh:rf-of-old-revoked,refresh:rf-used-valid,refresh:rf-valid-1,"
		   "refresh:rf-valid-2,session:s-expired,session:s-live-1,session:s-live-2,"
		   "session:s-revoked-long-ago,session:s-revoked-recently");

	struct harness_env e;
	const char *log;
	base_env(&e);
	harness_env_set(&e, "TOKEN_CLEANUP_INTERVAL=1");
	pid_t sched = harness_scheduler_spawn(e.p, "scheduler", &log);

	static const char valid[] =
		"activation:act-valid,password_reset:pr-valid,refresh:rf-used-valid,"
		"refresh:rf-valid-1,refresh:rf-valid-2,session:s-live-1,session:s-live-2,"
		"session:s-revoked-recently";
	wait_sql(surviving_sql, valid, WAIT_MS);
	/* Nothing else went: the users, and every row but those. */
	assert_sql("SELECT (SELECT count(*) FROM users) || ' ' || "
		   "(SELECT count(*) FROM activation_tokens) || ' ' || "
		   "(SELECT count(*) FROM password_reset_tokens) || ' ' || "
		   "(SELECT count(*) FROM refresh_tokens) || ' ' || "
		   "(SELECT count(*) FROM user_sessions)",
		   "3 1 1 3 3");
	/* The first run reports what it removed (the token of the old
	 * revoked session went with its session, not as an expired token). */
	json_t *runs = log_lines(log, "periodic job");
	ck_assert_uint_ge(json_array_size(runs), 1);
	json_t *first = json_array_get(runs, 0);
	char *text = json_dumps(first, JSON_SORT_KEYS);
	ck_assert_msg(strcmp(str_field(first, "job"), "cleanup_expired_tokens") == 0 &&
			      strcmp(str_field(first, "outcome"), "done") == 0,
		      "first run: %s", text);
	ck_assert_msg(json_integer_value(json_object_get(first, "activation_tokens")) == 1 &&
			      json_integer_value(json_object_get(first, "password_reset_tokens")) ==
				      1 &&
			      json_integer_value(json_object_get(first, "refresh_tokens")) == 2 &&
			      json_integer_value(json_object_get(first, "sessions")) == 2,
		      "first run: %s", text);
	free(text);
	json_decref(runs);

	/* A token that expires later goes in a later period. */
	harness_sql_ok("INSERT INTO refresh_tokens (user_id, session_id, token, expires_at) VALUES "
		       "(t_uid('u2@example.com'), t_sid('s-live-2'), t_hash('rf-late'), "
		       "now() - interval '1 second')");
	wait_sql(surviving_sql, valid, WAIT_MS);
	stop_scheduler(sched, log);
	assert_sql("SELECT count(*) FROM users", "3");
}
END_TEST

START_TEST(two_schedulers_run_cleanup_once_per_period)
{
	/* Every run moves last_run_at; record each value. */
	harness_sql_ok("CREATE TABLE t_runs (at timestamptz NOT NULL)");
	harness_sql_ok("CREATE FUNCTION t_record_run() RETURNS trigger LANGUAGE plpgsql AS "
		       "$$ BEGIN INSERT INTO t_runs VALUES (NEW.last_run_at); RETURN NEW; END $$");
	harness_sql_ok("CREATE TRIGGER t_record_run AFTER UPDATE ON scheduler_runs "
		       "FOR EACH ROW EXECUTE FUNCTION t_record_run()");

	struct harness_env e;
	const char *logs2[2];
	pid_t sched[2];
	base_env(&e);
	harness_env_set(&e, "TOKEN_CLEANUP_INTERVAL=1");
	harness_env_set(&e, "SCHEDULER_SWEEP_MS=50");
	sched[0] = harness_scheduler_spawn(e.p, "scheduler-a", &logs2[0]);
	sched[1] = harness_scheduler_spawn(e.p, "scheduler-b", &logs2[1]);
	wait_sql("SELECT count(*) >= 4 FROM t_runs", "t", 2 * WAIT_MS);
	for (int i = 0; i < 2; i++)
		stop_scheduler(sched[i], logs2[i]);

	/* Consecutive runs are at least one period apart, whichever
	 * scheduler ran them... */
	assert_sql("SELECT bool_and(gap >= interval '1 second') FROM (SELECT at - lag(at) "
		   "OVER (ORDER BY at) AS gap FROM t_runs) s WHERE gap IS NOT NULL",
		   "t");
	/* ...and each claimed period is one run of the job. */
	long long runs = harness_sql_int("SELECT count(*) FROM t_runs");
	size_t lines = count_log(logs2[0], "periodic job") + count_log(logs2[1], "periodic job");
	ck_assert_msg((long long)lines == runs, "%zu \"periodic job\" lines for %lld periods:%s",
		      lines, runs, harness_logs_tail());
}
END_TEST

/* ===================================================================== */
/* 6. Graceful shutdown.                                                 */

START_TEST(sigterm_and_sigint_stop_it_with_status_0)
{
	static const int sigs[] = {SIGTERM, SIGINT};
	for (int i = 0; i < 2; i++) {
		struct harness_env e;
		const char *log;
		base_env(&e);
		harness_env_set(&e, "SCHEDULER_SWEEP_MS=5000");
		pid_t sched =
			harness_scheduler_spawn(e.p, i ? "scheduler-int" : "scheduler-term", &log);
		harness_sleep_ms(300); /* inside its wait on Redis */
		/* Promptly: its waits are a second at most; the bound is
		 * generous for loaded machines. */
		int rc = harness_stop(sched, sigs[i], 10000);
		ck_assert_msg(rc == 0, "exit %d after signal %d (-1: still running after 10 s):%s",
			      rc, sigs[i], harness_logs_tail());
		ck_assert_uint_eq(count_log(log, "scheduler stopped"), 1);
		ck_assert_uint_eq(count_log(log, "scheduler stopping"), 1);
	}
}
END_TEST

/* ===================================================================== */
/* 7. cinema-scheduler status.                                           */

static json_t *run_status(const struct harness_env *e, int want_rc)
{
	char *argv[] = {(char *)"cinema-scheduler", (char *)"status", NULL};
	struct buf out = BUF_INIT, err = BUF_INIT;
	int rc = e2e_run_capture(e2e_bin("CINEMA_SCHEDULER_BIN"), argv, e->p, NULL, 30, &out, &err);
	ck_assert_msg(rc == want_rc, "status exited %d (want %d):\n%s%s", rc, want_rc, out.data,
		      err.data);
	json_t *j = NULL;
	if (want_rc == 0) {
		j = json_loads(out.data, 0, NULL);
		ck_assert_msg(j != NULL, "status printed no JSON:\n%s", out.data);
	} else {
		ck_assert_msg(strstr(err.data, "cinema-scheduler:") != NULL, "stderr: %s",
			      err.data);
	}
	buf_free(&out);
	buf_free(&err);
	return j;
}

START_TEST(status_prints_counts_and_queue_length)
{
	char tok[65];
	long long ids[5];
	for (int i = 0; i < 5; i++)
		ids[i] = enqueue_activation(harness_fmt("s%d@example.com", i), tok, i < 3);
	harness_sql_ok(
		harness_fmt("UPDATE email_jobs SET status = 'sent' WHERE id = %lld", ids[0]));
	harness_sql_ok(
		harness_fmt("UPDATE email_jobs SET status = 'failed' WHERE id = %lld", ids[1]));
	harness_sql_ok(
		harness_fmt("UPDATE email_jobs SET status = 'sending' WHERE id = %lld", ids[2]));

	struct harness_env e;
	base_env(&e);
	json_t *j = run_status(&e, 0);
	json_t *want =
		json_pack("{s:i,s:i,s:i,s:i}", "pending", 2, "sending", 1, "sent", 1, "failed", 1);
	char *got = json_dumps(j, JSON_SORT_KEYS);
	ck_assert_msg(json_equal(json_object_get(j, "email_jobs"), want), "status: %s", got);
	ck_assert_msg(json_is_integer(json_object_get(j, "queue_length")) &&
			      json_integer_value(json_object_get(j, "queue_length")) == 3,
		      "status: %s", got);
	ck_assert_msg(json_is_string(json_object_get(j, "oldest_unsent_created_at")), "status: %s",
		      got);
	free(got);
	json_decref(j);

	/* Redis down: the counts, and a null queue length. */
	harness_env_set(&e, "REDIS_URL=redis://127.0.0.1:%d/0", e2e_free_port());
	j = run_status(&e, 0);
	got = json_dumps(j, JSON_SORT_KEYS);
	ck_assert_msg(json_equal(json_object_get(j, "email_jobs"), want), "status: %s", got);
	ck_assert_msg(json_is_null(json_object_get(j, "queue_length")), "status: %s", got);
	free(got);
	json_decref(j);
	json_decref(want);

	/* Nothing unsent: no oldest. */
	harness_sql_ok("UPDATE email_jobs SET status = 'sent'");
	base_env(&e);
	j = run_status(&e, 0);
	got = json_dumps(j, JSON_SORT_KEYS);
	ck_assert_msg(json_is_null(json_object_get(j, "oldest_unsent_created_at")), "status: %s",
		      got);
	ck_assert_int_eq(
		json_integer_value(json_object_get(json_object_get(j, "email_jobs"), "sent")), 5);
	free(got);
	json_decref(j);

	/* No email_jobs table: exit 1 with a reason. */
	harness_sql_ok("DROP TABLE email_jobs");
	json_decref(run_status(&e, 1));
}
END_TEST

/* ===================================================================== */
/* 8. Bad jobs: never inserted, or failed without retries.               */

/* Runs an INSERT into email_jobs expected to break a CHECK constraint. */
static void assert_insert_refused(const char *kind, const char *rcpt)
{
	const char *params[] = {kind, rcpt};
	PGresult *res = PQexecParams(w.pg,
				     "INSERT INTO email_jobs (kind, recipient, payload) "
				     "VALUES ($1, $2, '{\"token\": \"x\"}')",
				     2, NULL, params, NULL, NULL, 0);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR && state &&
			      strcmp(state, "23514") == 0,
		      "kind %s, recipient %s: %s", kind, rcpt, PQerrorMessage(w.pg));
	PQclear(res);

	/* The producer's function refuses it too. */
	struct db_conn *conn = NULL;
	long long id = 0;
	json_t *payload = json_pack("{s:s}", "token", "x");
	ck_assert_int_eq(db_acquire(w.pool, &conn), ERR_OK);
	enum err rc = email_job_enqueue(conn, kind, rcpt, payload, &id);
	db_release(conn);
	json_decref(payload);
	ck_assert_int_ne(rc, ERR_OK);
}

START_TEST(injected_recipient_cannot_be_inserted)
{
	assert_insert_refused("activation", "victim@example.com\r\nBcc: x@y");
	assert_insert_refused("activation", "victim@example.com\nBcc: x@y");
	assert_insert_refused("activation", "victim@example.com\r");
	assert_insert_refused("../../etc/passwd", "victim@example.com");
	assert_insert_refused("Activation", "victim@example.com");
	assert_insert_refused("activation", "x@");
	assert_sql("SELECT count(*) FROM email_jobs", "0");
}
END_TEST

START_TEST(bad_jobs_fail_without_retries)
{
	char tok[65];
	long long no_template =
		enqueue("no_such_kind", "a@example.com", json_pack("{s:s}", "token", "t"), true);
	long long no_var = enqueue("activation", "b@example.com", json_object(), true);
	long long bad_rcpt =
		enqueue("activation", "not an address", json_pack("{s:s}", "token", "t"), true);
	long long good = enqueue_activation("good@example.com", tok, true);

	struct harness_env e;
	const char *log;
	base_env(&e);
	harness_env_set(&e, "EMAIL_MAX_ATTEMPTS=5");
	harness_mailsink_run(w.maildir, w.smtp_port);
	pid_t sched = harness_scheduler_spawn(e.p, "scheduler", &log);
	wait_sql(harness_fmt("SELECT status FROM email_jobs WHERE id = %lld", good), "sent",
		 WAIT_MS);
	wait_sql(harness_fmt(
			 "SELECT string_agg(status || ' ' || attempts || ' ' || payload::text, ',' "
			 "ORDER BY id) FROM email_jobs WHERE id IN (%lld, %lld, %lld)",
			 no_template, no_var, bad_rcpt),
		 "failed 1 {},failed 1 {},failed 1 {}", WAIT_MS);
	char *err = harness_sql_value(
		harness_fmt("SELECT last_error FROM email_jobs WHERE id = %lld", no_template));
	ck_assert_msg(strstr(err, "no template") != NULL, "last_error: %s", err);
	free(err);
	err = harness_sql_value(
		harness_fmt("SELECT last_error FROM email_jobs WHERE id = %lld", no_var));
	ck_assert_msg(strstr(err, "token") != NULL, "last_error: %s", err);
	free(err);
	err = harness_sql_value(
		harness_fmt("SELECT last_error FROM email_jobs WHERE id = %lld", bad_rcpt));
	ck_assert_msg(strstr(err, "refused") != NULL, "last_error: %s", err);
	free(err);

	/* Several sweeps later: still one attempt each, one message only. */
	harness_sleep_ms(600);
	assert_sql(harness_fmt("SELECT string_agg(status || ' ' || attempts, ',' ORDER BY id) "
			       "FROM email_jobs WHERE id IN (%lld, %lld, %lld)",
			       no_template, no_var, bad_rcpt),
		   "failed 1,failed 1,failed 1");
	ck_assert_uint_eq(count_outcome(log, "failed"), 3);
	ck_assert_uint_eq(count_outcome(log, "retry"), 0);
	wait_eml(1, WAIT_MS);
	assert_valid_mime(eml_for("good@example.com"), link_for(tok), "good@example.com",
			  "Activate your Online Cinema account");
	stop_scheduler(sched, log);
}
END_TEST

/* An activation job whose token is sealed with key for rcpt. */
static long long enqueue_sealed(const char *rcpt, const char *key, char token[65])
{
	random_hex(token, 16);
	json_t *payload = json_object(), *secrets = json_pack("{s:s}", "token", token);
	ck_assert_int_eq(email_payload_seal(payload, secrets, key, "activation", rcpt), ERR_OK);
	json_decref(secrets);
	return enqueue("activation", rcpt, payload, true);
}

/* Sealed tokens open in the scheduler with the same key; one sealed with
 * another key, or moved to another recipient, fails at once with a reason
 * and is not sent. */
START_TEST(sealed_payloads_open_or_fail_cleanly)
{
	char tok[65], other_tok[65], moved_tok[65];
	long long good = enqueue_sealed("sealed@example.com", SEAL_KEY, tok);
	long long other = enqueue_sealed("other@example.com",
					 "another-email-payload-key-0123456789abcdef", other_tok);
	long long moved = enqueue_sealed("victim@example.com", SEAL_KEY, moved_tok);
	harness_sql_ok(harness_fmt(
		"UPDATE email_jobs SET recipient = 'attacker@example.com' WHERE id = %lld", moved));

	struct harness_env e;
	const char *log;
	base_env(&e);
	harness_mailsink_run(w.maildir, w.smtp_port);
	pid_t sched = harness_scheduler_spawn(e.p, "scheduler", &log);
	/* In the order recorded: good, other, moved. */
	ck_assert(good < other && other < moved);
	wait_sql("SELECT string_agg(status || ' ' || attempts || ' ' || payload::text, ',' "
		 "ORDER BY id) FROM email_jobs",
		 "sent 1 {},failed 1 {},failed 1 {}", WAIT_MS);
	wait_eml(1, WAIT_MS);
	assert_valid_mime(eml_for("sealed@example.com"), link_for(tok), "sealed@example.com",
			  "Activate your Online Cinema account");
	char *err = harness_sql_value(harness_fmt(
		"SELECT string_agg(last_error, '|') FROM email_jobs WHERE id IN (%lld, %lld)",
		other, moved));
	ck_assert_msg(strstr(err, "EMAIL_PAYLOAD_KEY") != NULL, "last_error: %s", err);
	free(err);
	ck_assert_uint_eq(count_outcome(log, "failed"), 2);
	ck_assert_msg(!harness_file_contains(log, tok) && !harness_file_contains(log, moved_tok),
		      "a token was logged:%s", harness_logs_tail());
	stop_scheduler(sched, log);
}
END_TEST

int main(void)
{
	/* The test command always provides these; a run without them is a
	 * broken setup, not something to skip. */
	if (!harness_main_ready("scheduler_test_scheduler"))
		return 1;
	/* This process's own library calls (migrations, announcements to a
	 * dead Redis) log only their errors. */
	log_set_level(LOG_LEVEL_ERROR);
	Suite *s = suite_create("scheduler");

	TCase *tc = tcase_create("delivery");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, announced_job_is_delivered_as_valid_mime);
	tcase_add_test(tc, smtp_down_then_back_is_retried_and_delivered);
	tcase_add_test(tc, smtp_down_past_last_attempt_is_failed);
	tcase_add_test(tc, plain_smtp_only_when_allowed);
	tcase_add_test(tc, lost_announcement_is_delivered_by_the_sweep);
	tcase_add_test(tc, scheduler_with_redis_down_still_sends);
	tcase_add_test(tc, expired_lease_is_requeued_and_sent);
	tcase_add_test(tc, two_schedulers_deliver_each_job_once);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad_jobs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, injected_recipient_cannot_be_inserted);
	tcase_add_test(tc, bad_jobs_fail_without_retries);
	tcase_add_test(tc, sealed_payloads_open_or_fail_cleanly);
	suite_add_tcase(s, tc);

	tc = tcase_create("periodic");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cleanup_removes_exactly_the_expired_tokens);
	tcase_add_test(tc, two_schedulers_run_cleanup_once_per_period);
	suite_add_tcase(s, tc);

	tc = tcase_create("process");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sigterm_and_sigint_stop_it_with_status_0);
	tcase_add_test(tc, status_prints_counts_and_queue_length);
	suite_add_tcase(s, tc);

	return harness_run(s);
}
