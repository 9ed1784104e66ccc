/* Integration tests of db_migrate (src/db/migrate.c) against the server of
 * DATABASE_URL; each test uses a throwaway database and passes with a note
 * when DATABASE_URL is unset. The project's migrations come from
 * MIGRATIONS_DIR (set by CTest); the other cases write their own. */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cinema/db.h"
#include "testdb.h"

static const char *migrations_dir(void)
{
	const char *d = getenv("MIGRATIONS_DIR");

	return d && d[0] ? d : "migrations";
}

/* An owned path of a new empty temporary directory. */
static char *tmpdir_new(void)
{
	char *dir = strdup("/tmp/cinema_migrate_XXXXXX");

	ck_assert_ptr_nonnull(dir);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static void tmpdir_write(const char *dir, const char *file, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static void tmpdir_remove(const char *dir, const char *file)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	ck_assert_int_eq(unlink(path), 0);
}

static void tmpdir_free(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	if (d) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
	free(dir);
}

/* Runs a query returning one value and returns it as an owned string
 * ("<null>" for NULL). */
static char *query_text(const char *ci, const char *sql)
{
	PGconn *pg = PQconnectdb(ci);
	PGresult *res;
	char *v;

	ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
	res = PQexec(pg, sql);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(pg));
	ck_assert_int_eq(PQntuples(res), 1);
	v = strdup(PQgetisnull(res, 0, 0) ? "<null>" : PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(pg);
	return v;
}

static long long query_int(const char *ci, const char *sql)
{
	char *v = query_text(ci, sql);
	long long n = strtoll(v, NULL, 10);

	free(v);
	return n;
}

static bool table_exists(const char *ci, const char *table)
{
	char sql[256];
	char *v;
	bool exists;

	snprintf(sql, sizeof(sql), "SELECT to_regclass('%s') IS NOT NULL", table);
	v = query_text(ci, sql);
	exists = strcmp(v, "t") == 0;
	free(v);
	return exists;
}

/* Runs sql expecting failure with the given SQLSTATE. */
static void expect_sqlstate(const char *ci, const char *sql, const char *state)
{
	PGconn *pg = PQconnectdb(ci);
	PGresult *res;
	const char *got;

	ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
	res = PQexec(pg, sql);
	got = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	ck_assert_msg(got && strcmp(got, state) == 0, "%s: want %s, got %s", sql, state,
		      got ? got : "success");
	PQclear(res);
	PQfinish(pg);
}

static void exec_ok(const char *ci, const char *sql)
{
	PGconn *pg = PQconnectdb(ci);
	PGresult *res;

	ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
	res = PQexec(pg, sql);
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK ||
			      PQresultStatus(res) == PGRES_TUPLES_OK,
		      "%s: %s", sql, PQerrorMessage(pg));
	PQclear(res);
	PQfinish(pg);
}

START_TEST(test_project_migrations_apply_once)
{
	char *ci = testdb_create();
	int applied = -1;

	if (!ci)
		return;
	ck_assert_int_eq(db_migrate(ci, migrations_dir(), &applied), ERR_OK);
	ck_assert_int_ge(applied, 1);
	ck_assert_int_eq(query_int(ci, "SELECT count(*) FROM schema_migrations"), applied);
	ck_assert_int_eq(query_int(ci, "SELECT min(version) FROM schema_migrations"), 1);

	ck_assert_int_eq(db_migrate(ci, migrations_dir(), &applied), ERR_OK);
	ck_assert_int_eq(applied, 0);

	testdb_drop(ci);
	free(ci);
}
END_TEST

START_TEST(test_accounts_schema)
{
	char *ci = testdb_create();
	static const char hash[] =
		"'0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'";
	char sql[512];

	if (!ci)
		return;
	ck_assert_int_eq(db_migrate(ci, migrations_dir(), NULL), ERR_OK);
	ck_assert_int_eq(query_int(ci, "SELECT count(*) FROM user_groups WHERE name IN "
				       "('USER','MODERATOR','ADMIN')"),
			 3);
	exec_ok(ci, "INSERT INTO users (email, hashed_password, group_id) "
		    "SELECT 'Ann@Example.org', 'x', id FROM user_groups WHERE name = 'USER'");
	ck_assert_int_eq(query_int(ci, "SELECT is_active::int FROM users"), 0);
	/* Case-insensitive uniqueness. */
	expect_sqlstate(ci,
			"INSERT INTO users (email, hashed_password, group_id) "
			"SELECT 'ann@example.org', 'x', id FROM user_groups WHERE name = 'USER'",
			"23505");
	expect_sqlstate(
		ci, "INSERT INTO users (email, hashed_password, group_id) VALUES ('a@b', 'x', 999)",
		"23503");
	expect_sqlstate(ci,
			"INSERT INTO user_profiles (user_id, gender) SELECT id, 'OTHER' FROM users",
			"22P02");
	exec_ok(ci, "INSERT INTO user_profiles (user_id, gender) SELECT id, 'WOMAN' FROM users");
	/* Tokens are SHA-256 hex, never plain. */
	expect_sqlstate(ci,
			"INSERT INTO activation_tokens (user_id, token, expires_at) "
			"SELECT id, 'plain-token', now() FROM users",
			"23514");
	snprintf(sql, sizeof(sql),
		 "WITH s AS (INSERT INTO user_sessions (user_id, expires_at) "
		 "SELECT id, now() + interval '1 day' FROM users RETURNING id, user_id) "
		 "INSERT INTO refresh_tokens (user_id, token, expires_at, session_id) "
		 "SELECT user_id, %s, now() + interval '1 day', id FROM s",
		 hash);
	exec_ok(ci, sql);
	/* updated_at follows updates; deleting the user cascades. */
	exec_ok(ci, "UPDATE users SET updated_at = '2000-01-01', is_active = true");
	ck_assert_int_eq(query_int(ci, "SELECT (updated_at > '2001-01-01')::int FROM users"), 1);
	exec_ok(ci, "DELETE FROM users");
	ck_assert_int_eq(query_int(ci, "SELECT count(*) FROM user_profiles"), 0);
	ck_assert_int_eq(query_int(ci, "SELECT count(*) FROM refresh_tokens"), 0);

	testdb_drop(ci);
	free(ci);
}
END_TEST

struct migrate_job {
	const char *ci;
	const char *dir;
	enum err rc;
	int applied;
};

static void *migrate_thread(void *arg)
{
	struct migrate_job *job = arg;

	job->rc = db_migrate(job->ci, job->dir, &job->applied);
	return NULL;
}

START_TEST(test_concurrent_runs)
{
	char *ci = testdb_create();
	char *dir;
	struct migrate_job jobs[3];
	pthread_t threads[3];
	int total = 0;

	if (!ci)
		return;
	dir = tmpdir_new();
	tmpdir_write(dir, "0001_a.sql", "CREATE TABLE a (x int);\n");
	tmpdir_write(dir, "0002_slow.sql", "SELECT pg_sleep(0.3);\nCREATE TABLE b (x int);\n");
	tmpdir_write(dir, "0003_c.sql", "CREATE TABLE c (x int);\n");
	for (int i = 0; i < 3; i++) {
		jobs[i] = (struct migrate_job){.ci = ci, .dir = dir, .applied = -1};
		ck_assert_int_eq(pthread_create(&threads[i], NULL, migrate_thread, &jobs[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(threads[i], NULL);
		ck_assert_int_eq(jobs[i].rc, ERR_OK);
		total += jobs[i].applied;
	}
	ck_assert_int_eq(total, 3);
	ck_assert_int_eq(query_int(ci, "SELECT count(*) FROM schema_migrations"), 3);
	ck_assert_int_eq(query_int(ci, "SELECT count(DISTINCT version) FROM schema_migrations"), 3);
	ck_assert(table_exists(ci, "a") && table_exists(ci, "b") && table_exists(ci, "c"));

	tmpdir_free(dir);
	testdb_drop(ci);
	free(ci);
}
END_TEST

START_TEST(test_changed_checksum_refused)
{
	char *ci = testdb_create();
	char *dir;
	int applied = -1;

	if (!ci)
		return;
	dir = tmpdir_new();
	tmpdir_write(dir, "0001_a.sql", "CREATE TABLE a (x int);\n");
	ck_assert_int_eq(db_migrate(ci, dir, &applied), ERR_OK);
	ck_assert_int_eq(applied, 1);

	tmpdir_write(dir, "0001_a.sql", "CREATE TABLE a (x int, y int);\n");
	tmpdir_write(dir, "0002_b.sql", "CREATE TABLE b (x int);\n");
	ck_assert_int_ne(db_migrate(ci, dir, &applied), ERR_OK);
	ck_assert_int_eq(applied, 0);
	ck_assert(!table_exists(ci, "b"));

	/* Restored, the run goes on. */
	tmpdir_write(dir, "0001_a.sql", "CREATE TABLE a (x int);\n");
	ck_assert_int_eq(db_migrate(ci, dir, &applied), ERR_OK);
	ck_assert_int_eq(applied, 1);
	ck_assert(table_exists(ci, "b"));

	tmpdir_free(dir);
	testdb_drop(ci);
	free(ci);
}
END_TEST

START_TEST(test_failed_migration_rolls_back)
{
	char *ci = testdb_create();
	char *dir, *names;
	int applied = -1;

	if (!ci)
		return;
	dir = tmpdir_new();
	tmpdir_write(dir, "0001_a.sql", "CREATE TABLE a (x int);\n");
	tmpdir_write(dir, "0002_b.sql", "CREATE TABLE b (x int);\nSELECT no_such_column FROM a;\n");
	tmpdir_write(dir, "0003_c.sql", "CREATE TABLE c (x int);\n");
	ck_assert_int_eq(db_migrate(ci, dir, &applied), ERR_INTERNAL);
	ck_assert_int_eq(applied, 1);
	ck_assert(table_exists(ci, "a"));
	ck_assert(!table_exists(ci, "b"));
	ck_assert(!table_exists(ci, "c"));
	ck_assert_int_eq(query_int(ci, "SELECT count(*) FROM schema_migrations"), 1);

	/* Fixed, it applies: a failed file was never recorded. */
	tmpdir_write(dir, "0002_b.sql", "CREATE TABLE b (x int);\n");
	ck_assert_int_eq(db_migrate(ci, dir, &applied), ERR_OK);
	ck_assert_int_eq(applied, 2);
	names = query_text(ci,
			   "SELECT string_agg(name, ',' ORDER BY version) FROM schema_migrations");
	ck_assert_str_eq(names, "a,b,c");
	free(names);

	tmpdir_free(dir);
	testdb_drop(ci);
	free(ci);
}
END_TEST

START_TEST(test_file_names)
{
	char *ci = testdb_create();
	char *dir;
	int applied = -1;

	if (!ci)
		return;
	dir = tmpdir_new();
	tmpdir_write(dir, "0001_a.sql", "CREATE TABLE a (x int);\n");
	tmpdir_write(dir, "0001_again.sql", "CREATE TABLE again (x int);\n");
	/* Two files with one number: nothing runs, not even the table. */
	ck_assert_int_ne(db_migrate(ci, dir, &applied), ERR_OK);
	ck_assert_int_eq(applied, 0);
	ck_assert(!table_exists(ci, "schema_migrations"));

	/* Names outside NNNN_[a-z0-9_]+.sql are ignored. */
	tmpdir_remove(dir, "0001_again.sql");
	tmpdir_write(dir, "README.md", "not sql");
	tmpdir_write(dir, "0002_Upper.sql", "SELECT 1/0;");
	tmpdir_write(dir, "2_short.sql", "SELECT 1/0;");
	tmpdir_write(dir, "0003_x.sql.bak", "SELECT 1/0;");
	tmpdir_write(dir, "0004_empty.sql", "");
	ck_assert_int_eq(db_migrate(ci, dir, &applied), ERR_OK);
	ck_assert_int_eq(applied, 2);

	/* A pending file numbered below an applied one is refused. */
	tmpdir_write(dir, "0002_late.sql", "CREATE TABLE late (x int);\n");
	ck_assert_int_ne(db_migrate(ci, dir, &applied), ERR_OK);
	ck_assert_int_eq(applied, 0);
	ck_assert(!table_exists(ci, "late"));

	tmpdir_free(dir);
	testdb_drop(ci);
	free(ci);
}
END_TEST

START_TEST(test_bad_arguments)
{
	char *ci = testdb_create();
	int applied = -1;

	if (!ci)
		return;
	ck_assert_int_ne(db_migrate(ci, "/nonexistent/migrations", &applied), ERR_OK);
	ck_assert_int_eq(applied, 0);
	ck_assert_int_eq(db_migrate("host=127.0.0.1 port=1 dbname=none user=none", migrations_dir(),
				    &applied),
			 ERR_DB_UNAVAILABLE);
	ck_assert_int_ne(db_migrate(NULL, migrations_dir(), &applied), ERR_OK);

	testdb_drop(ci);
	free(ci);
}
END_TEST

static Suite *migrate_suite(void)
{
	Suite *s = suite_create("db_migrate");
	TCase *tc = tcase_create("migrate");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_project_migrations_apply_once);
	tcase_add_test(tc, test_accounts_schema);
	tcase_add_test(tc, test_concurrent_runs);
	tcase_add_test(tc, test_changed_checksum_refused);
	tcase_add_test(tc, test_failed_migration_rolls_back);
	tcase_add_test(tc, test_file_names);
	tcase_add_test(tc, test_bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(migrate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
