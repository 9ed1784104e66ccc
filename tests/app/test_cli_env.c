/* The commands scripts/run.sh prints, typed in another terminal: the
 * binaries find that run's servers through its settings file (.data/env in
 * the working directory, or CINEMA_ENV_FILE), the real environment winning
 * over the file, and nothing else from the test's own environment. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cinema/buf.h"
#include "cinema/config.h"
#include "cinema/log.h"
#include "harness.h"

/* What the test environment would give the binaries and a second terminal
 * would not have. */
static const char *const unset_all[] = {"DATABASE_URL",
					"REDIS_URL",
					"CINEMA_ENV_FILE",
					"S3_ENDPOINT",
					"S3_ACCESS_KEY",
					"S3_SECRET_KEY",
					"S3_BUCKET",
					"S3_REGION",
					"JWT_SECRET",
					"EMAIL_PAYLOAD_KEY",
					"HTTP_PORT",
					"SMTP_URL",
					NULL};

static char dir[64];
static char *ci;
static PGconn *pg;

static void setup(void)
{
	harness_begin("clienv");
	ci = harness_db_open(&pg);
	snprintf(dir, sizeof(dir), "/tmp/cinema-clienv.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(mkdir(harness_fmt("%s/.data", dir), 0700), 0);
}

static void teardown(void)
{
	harness_end();
	harness_db_close(ci, pg);
	harness_remove_dir(dir);
}

/* NAME="value" with \ " $ ` escaped, as run.sh writes it. */
static void put_var(FILE *f, const char *name, const char *value)
{
	fprintf(f, "%s=\"", name);
	for (const char *p = value; *p; p++)
		fprintf(f, strchr("\\\"$`", *p) ? "\\%c" : "%c", *p);
	fprintf(f, "\"\n");
}

/* Writes .data/env under dir: this test's database and Redis, as run.sh
 * writes them, then the extra text. */
static const char *write_env(const char *extra)
{
	const char *path = harness_fmt("%s/.data/env", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "# written by scripts/run.sh (pid 1) at 2026-01-01T00:00:00Z\n");
	put_var(f, "DATABASE_URL", ci); /* key=value conninfo: quotes inside */
	put_var(f, "REDIS_URL", getenv("REDIS_URL"));
	put_var(f, "JWT_SECRET", "file-jwt-secret-0123456789abcdef0123456789");
	fputs(extra, f);
	fclose(f);
	return path;
}

/* Runs bin with argv from dir, with the settings of the test environment
 * removed and env added. */
static int run_in_dir(const char *bin, char *const argv[], const char *const *env, struct buf *out,
		      struct buf *err)
{
	char cwd[4096];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(dir), 0);
	int rc = e2e_run_capture(e2e_bin(bin), argv, env, unset_all, 60, out, err);
	ck_assert_int_eq(chdir(cwd), 0);
	return rc;
}

static int create_user(const char *email, const char *const *env, struct buf *out, struct buf *err)
{
	char *argv[] = {(char *)"cinema-api", (char *)"create-user",
			(char *)"--email",    (char *)email,
			(char *)"--password", (char *)"Admin#2024",
			(char *)"--group",    (char *)"ADMIN",
			(char *)"--active",   NULL};
	return run_in_dir("CINEMA_API_BIN", argv, env, out, err);
}

START_TEST(create_user_reaches_the_database_of_data_env)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	write_env("");
	const char *email = harness_unique_email("admin");
	int rc = create_user(email, NULL, &out, &err);
	ck_assert_msg(rc == 0, "create-user exited %d:\n%s", rc, err.data ? err.data : "");
	/* it says where, and says nothing of S3, which it does not use */
	char where[1024];
	config_url_redact(ci, where, sizeof(where));
	ck_assert_msg(strstr(out.data, "created user") && strstr(out.data, where), "%s\n%s",
		      out.data, where);
	ck_assert_msg(!strstr(err.data ? err.data : "", "S3"), "%s", err.data);
	ck_assert_ptr_nonnull(strstr(err.data, "\"path\":\".data/env\""));
	harness_use_db(pg);
	ck_assert_int_eq(harness_sql_int(harness_fmt("SELECT count(*) FROM users u JOIN "
						     "user_groups g ON g.id = u.group_id WHERE "
						     "u.email = '%s' AND g.name = 'ADMIN' AND "
						     "u.is_active",
						     email)),
			 1);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

START_TEST(the_environment_wins_over_the_file)
{
	struct buf err = BUF_INIT;
	write_env("");
	const char *env[] = {"DATABASE_URL=postgresql://127.0.0.1:1/elsewhere",
			     "DB_CONNECT_TIMEOUT=1", NULL};
	int rc = create_user(harness_unique_email("nobody"), env, NULL, &err);
	ck_assert_msg(rc != 0, "create-user used the file's database");
	harness_use_db(pg);
	ck_assert_int_eq(harness_sql_int("SELECT count(*) FROM users"), 0);
	buf_free(&err);
}
END_TEST

START_TEST(a_bad_line_stops_with_file_and_line)
{
	struct buf err = BUF_INIT;
	write_env("this is not an assignment\n");
	int rc = create_user(harness_unique_email("bad"), NULL, NULL, &err);
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(err.data, ".data/env:5: expected NAME=value"), "%s", err.data);
	buf_free(&err);
}
END_TEST

START_TEST(scheduler_status_and_a_named_file)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	const char *path = write_env("");
	/* CINEMA_ENV_FILE names a file anywhere: move it out of .data */
	const char *moved = harness_fmt("%s/settings", dir);
	ck_assert_int_eq(rename(path, moved), 0);
	const char *env[] = {harness_fmt("CINEMA_ENV_FILE=%s", moved), NULL};
	char *argv[] = {(char *)"cinema-scheduler", (char *)"status", NULL};
	int rc = run_in_dir("CINEMA_SCHEDULER_BIN", argv, env, &out, &err);
	ck_assert_msg(rc == 0, "status exited %d:\n%s", rc, err.data ? err.data : "");
	json_t *j = json_loads(out.data, 0, NULL);
	ck_assert_msg(json_is_object(json_object_get(j, "email_jobs")), "%s", out.data);
	json_decref(j);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

START_TEST(help_shows_the_url_defaults)
{
	struct buf out = BUF_INIT;
	char *argv[] = {(char *)"cinema-api", (char *)"--help", NULL};
	ck_assert_int_eq(run_in_dir("CINEMA_API_BIN", argv, NULL, &out, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "[default: postgresql://127.0.0.1:5432/cinema]"));
	ck_assert_ptr_nonnull(strstr(out.data, "[default: redis://127.0.0.1:6379/0]"));
	ck_assert_ptr_nonnull(strstr(out.data, ".data/env"));
	/* real secrets stay unshown */
	ck_assert_ptr_null(strstr(out.data, "dev-only-insecure"));
	buf_free(&out);
}
END_TEST

int main(void)
{
	if (!harness_main_ready("app_test_cli_env"))
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	Suite *s = suite_create("cli_env");
	TCase *tc = tcase_create("env_file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, create_user_reaches_the_database_of_data_env);
	tcase_add_test(tc, the_environment_wins_over_the_file);
	tcase_add_test(tc, a_bad_line_stops_with_file_and_line);
	tcase_add_test(tc, scheduler_status_and_a_named_file);
	tcase_add_test(tc, help_shows_the_url_defaults);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
