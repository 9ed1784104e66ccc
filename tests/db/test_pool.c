/* Integration tests of the PostgreSQL pool (src/db/pool.c) against the
 * server of DATABASE_URL; each test uses a throwaway database and passes with
 * a note when DATABASE_URL is unset. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cinema/db.h"
#include "testdb.h"

static const struct db_stmt STMT_ADD_ONE = {"test_add_one", "SELECT $1::int + 1"};
static const struct db_stmt STMT_PID = {"test_backend_pid", "SELECT pg_backend_pid()"};
static const struct db_stmt STMT_PREPARE_TIME = {
	"test_prepare_time",
	"SELECT prepare_time::text FROM pg_prepared_statements WHERE name = $1"};
static const struct db_stmt STMT_PREPARED_COUNT = {
	"test_prepared_count", "SELECT count(*) FROM pg_prepared_statements WHERE name = $1"};
static const struct db_stmt STMT_INSERT_ITEM = {"test_insert_item",
						"INSERT INTO items (name) VALUES ($1)"};
static const struct db_stmt STMT_COUNT_ITEMS = {"test_count_items", "SELECT count(*) FROM items"};
static const struct db_stmt STMT_VALUES = {
	"test_values", "SELECT NULL::text, true, false, 9000000000::bigint, 'caf\xc3\xa9'::text"};

static const char SQL_CREATE_ITEMS[] = "CREATE TABLE items (name text UNIQUE NOT NULL)";
static const char SQL_RAISE_40001[] =
	"DO $$BEGIN RAISE EXCEPTION 'test serialization failure' USING ERRCODE = '40001'; END$$";

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static struct db_pool *pool_new(const char *ci, int size, int acquire_timeout_ms,
				int statement_timeout_ms)
{
	struct db_pool_options opt = {
		.conninfo = ci,
		.size = size,
		.acquire_timeout_ms = acquire_timeout_ms,
		.connect_timeout_s = 5,
		.statement_timeout_ms = statement_timeout_ms,
	};
	struct db_pool *pool = db_pool_new(&opt);

	ck_assert_ptr_nonnull(pool);
	return pool;
}

/* Runs a one-column integer statement on conn. */
static long long exec_int(struct db_conn *conn, const struct db_stmt *stmt, const char *param)
{
	const char *params[1] = {param};
	PGresult *res = NULL;
	long long v;

	ck_assert_int_eq(db_exec(conn, stmt, param ? 1 : 0, param ? params : NULL, &res), ERR_OK);
	ck_assert_int_eq(PQntuples(res), 1);
	v = db_int(res, 0, 0);
	PQclear(res);
	return v;
}

static long long pool_count_items(struct db_pool *pool)
{
	struct db_conn *conn = NULL;
	long long n;

	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	n = exec_int(conn, &STMT_COUNT_ITEMS, NULL);
	db_release(conn);
	return n;
}

static void pool_create_items(struct db_pool *pool)
{
	struct db_conn *conn = NULL;

	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	ck_assert_int_eq(db_exec_simple(conn, SQL_CREATE_ITEMS), ERR_OK);
	db_release(conn);
}

/* Kills a backend from a separate connection and waits until it is gone. */
static void terminate_backend(const char *ci, long long pid)
{
	PGconn *admin = PQconnectdb(ci);
	char pidtext[32];
	const char *params[1] = {pidtext};

	ck_assert_int_eq(PQstatus(admin), CONNECTION_OK);
	snprintf(pidtext, sizeof(pidtext), "%lld", pid);
	PQclear(PQexecParams(admin, "SELECT pg_terminate_backend($1::int)", 1, NULL, params, NULL,
			     NULL, 0));
	for (int i = 0; i < 500; i++) {
		PGresult *res = PQexecParams(
			admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int", 1, NULL,
			params, NULL, NULL, 0);
		bool gone = PQresultStatus(res) == PGRES_TUPLES_OK &&
			    strcmp(PQgetvalue(res, 0, 0), "0") == 0;

		PQclear(res);
		if (gone)
			break;
		sleep_ms(10);
	}
	PQfinish(admin);
}

START_TEST(test_acquire_release)
{
	char *ci = testdb_create();
	struct db_pool *pool;
	struct db_conn *a = NULL, *b = NULL;
	int size, in_use, waiting;

	if (!ci)
		return;
	pool = pool_new(ci, 2, 1000, 0);
	db_pool_stats(pool, &size, &in_use, &waiting);
	ck_assert_int_eq(size, 2);
	ck_assert_int_eq(in_use, 0);
	ck_assert_int_eq(waiting, 0);

	ck_assert_int_eq(db_acquire(pool, &a), ERR_OK);
	ck_assert_int_eq(db_acquire(pool, &b), ERR_OK);
	ck_assert_ptr_ne(a, b);
	ck_assert_int_eq(PQstatus(db_conn_pg(a)), CONNECTION_OK);
	ck_assert_int_eq(PQstatus(db_conn_pg(b)), CONNECTION_OK);
	ck_assert_str_eq(PQparameterStatus(db_conn_pg(a), "application_name"), "cinema");
	ck_assert_str_eq(db_last_sqlstate(a), "");
	db_pool_stats(pool, NULL, &in_use, NULL);
	ck_assert_int_eq(in_use, 2);

	db_release(a);
	db_release(b);
	db_release(NULL);
	db_pool_stats(pool, NULL, &in_use, NULL);
	ck_assert_int_eq(in_use, 0);

	/* A released connection is reused, not reopened. */
	ck_assert_int_eq(db_acquire(pool, &a), ERR_OK);
	ck_assert_ptr_nonnull(db_conn_pg(a));
	db_release(a);

	db_pool_free(pool);
	db_pool_free(NULL);
	testdb_drop(ci);
	free(ci);
}
END_TEST

struct acquire_job {
	struct db_pool *pool;
	enum err rc;
	double elapsed_ms;
};

static void *acquire_thread(void *arg)
{
	struct acquire_job *job = arg;
	struct db_conn *conn = NULL;
	double start = now_ms();

	job->rc = db_acquire(job->pool, &conn);
	job->elapsed_ms = now_ms() - start;
	db_release(conn);
	return NULL;
}

START_TEST(test_exhaustion_busy)
{
	char *ci = testdb_create();
	struct db_pool *pool;
	struct db_conn *held = NULL;
	struct acquire_job job = {0};
	pthread_t t;

	if (!ci)
		return;
	pool = pool_new(ci, 1, 300, 0);
	ck_assert_int_eq(db_acquire(pool, &held), ERR_OK);
	job.pool = pool;
	ck_assert_int_eq(pthread_create(&t, NULL, acquire_thread, &job), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(job.rc, ERR_DB_BUSY);
	ck_assert(job.elapsed_ms >= 280.0);
	db_release(held);

	db_pool_free(pool);
	testdb_drop(ci);
	free(ci);
}
END_TEST

START_TEST(test_waiter_woken_on_release)
{
	char *ci = testdb_create();
	struct db_pool *pool;
	struct db_conn *held = NULL;
	struct acquire_job job = {0};
	int waiting = 0, in_use = 0;
	pthread_t t;

	if (!ci)
		return;
	pool = pool_new(ci, 1, 10000, 0);
	ck_assert_int_eq(db_acquire(pool, &held), ERR_OK);
	job.pool = pool;
	ck_assert_int_eq(pthread_create(&t, NULL, acquire_thread, &job), 0);
	for (int i = 0; i < 500 && waiting == 0; i++) {
		sleep_ms(10);
		db_pool_stats(pool, NULL, &in_use, &waiting);
	}
	ck_assert_int_eq(waiting, 1);
	ck_assert_int_eq(in_use, 1);
	db_release(held);
	pthread_join(t, NULL);
	ck_assert_int_eq(job.rc, ERR_OK);
	ck_assert(job.elapsed_ms < 9000.0);
	db_pool_stats(pool, NULL, &in_use, &waiting);
	ck_assert_int_eq(in_use, 0);
	ck_assert_int_eq(waiting, 0);

	db_pool_free(pool);
	testdb_drop(ci);
	free(ci);
}
END_TEST

static char *prepare_time(struct db_conn *conn, const char *name)
{
	const char *params[1] = {name};
	PGresult *res = NULL;
	char *t;

	ck_assert_int_eq(db_exec(conn, &STMT_PREPARE_TIME, 1, params, &res), ERR_OK);
	ck_assert_int_eq(PQntuples(res), 1);
	t = strdup(db_text(res, 0, 0));
	PQclear(res);
	return t;
}

START_TEST(test_prepared_once_per_connection)
{
	char *ci = testdb_create();
	struct db_pool *pool;
	struct db_conn *conn = NULL;
	char *t1, *t2;
	long long pid;

	if (!ci)
		return;
	pool = pool_new(ci, 1, 1000, 0);
	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	pid = exec_int(conn, &STMT_PID, NULL);
	ck_assert_int_eq(exec_int(conn, &STMT_ADD_ONE, "41"), 42);
	t1 = prepare_time(conn, STMT_ADD_ONE.name);
	ck_assert_int_eq(exec_int(conn, &STMT_ADD_ONE, "1"), 2);
	db_release(conn);

	/* Same slot, same backend: the statement is not prepared again. */
	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	ck_assert_int_eq(exec_int(conn, &STMT_PID, NULL), pid);
	ck_assert_int_eq(exec_int(conn, &STMT_ADD_ONE, "-1"), 0);
	t2 = prepare_time(conn, STMT_ADD_ONE.name);
	ck_assert_str_eq(t1, t2);
	ck_assert_int_eq(exec_int(conn, &STMT_PREPARED_COUNT, STMT_ADD_ONE.name), 1);
	db_release(conn);

	free(t1);
	free(t2);
	db_pool_free(pool);
	testdb_drop(ci);
	free(ci);
}
END_TEST

START_TEST(test_reprepare_after_deallocate)
{
	char *ci = testdb_create();
	struct db_pool *pool;
	struct db_conn *conn = NULL;
	long long pid;

	if (!ci)
		return;
	pool = pool_new(ci, 1, 1000, 0);
	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	ck_assert_int_eq(exec_int(conn, &STMT_ADD_ONE, "1"), 2);
	ck_assert_int_eq(db_exec_simple(conn, "DEALLOCATE ALL"), ERR_OK);
	/* Outside a transaction: prepared again transparently. */
	ck_assert_int_eq(exec_int(conn, &STMT_ADD_ONE, "2"), 3);
	pid = exec_int(conn, &STMT_PID, NULL);

	/* Inside one: fails (the transaction is aborted), and the connection
	 * is replaced at release. */
	ck_assert_int_eq(db_exec_simple(conn, "BEGIN"), ERR_OK);
	ck_assert_int_eq(db_exec_simple(conn, "DEALLOCATE ALL"), ERR_OK);
	ck_assert_int_ne(db_exec(conn, &STMT_ADD_ONE, 1, (const char *const[]){"3"}, NULL), ERR_OK);
	ck_assert_str_eq(db_last_sqlstate(conn), "26000");
	db_release(conn);

	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	ck_assert_int_eq(exec_int(conn, &STMT_ADD_ONE, "4"), 5);
	ck_assert_int_ne(exec_int(conn, &STMT_PID, NULL), pid);
	db_release(conn);

	db_pool_free(pool);
	testdb_drop(ci);
	free(ci);
}
END_TEST

START_TEST(test_unique_violation)
{
	char *ci = testdb_create();
	struct db_pool *pool;
	struct db_conn *conn = NULL;
	const char *params[1] = {"dune"};

	if (!ci)
		return;
	pool = pool_new(ci, 1, 1000, 0);
	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	ck_assert_int_eq(db_exec_simple(conn, SQL_CREATE_ITEMS), ERR_OK);
	ck_assert_int_eq(db_exec(conn, &STMT_INSERT_ITEM, 1, params, NULL), ERR_OK);
	ck_assert_int_eq(db_exec(conn, &STMT_INSERT_ITEM, 1, params, NULL), ERR_CONFLICT);
	ck_assert_str_eq(db_last_sqlstate(conn), "23505");
	/* NOT NULL violation: another class of error. */
	ck_assert_int_eq(db_exec(conn, &STMT_INSERT_ITEM, 1, (const char *const[]){NULL}, NULL),
			 ERR_VALIDATION);
	ck_assert_str_eq(db_last_sqlstate(conn), "23502");
	/* The connection is still usable, and the state is per call. */
	ck_assert_int_eq(exec_int(conn, &STMT_COUNT_ITEMS, NULL), 1);
	ck_assert_str_eq(db_last_sqlstate(conn), "");
	db_release(conn);

	db_pool_free(pool);
	testdb_drop(ci);
	free(ci);
}
END_TEST

START_TEST(test_terminated_connection_replaced)
{
	char *ci = testdb_create();
	struct db_pool *pool;
	struct db_conn *conn = NULL;
	long long pid1, pid2, pid3;
	int in_use;

	if (!ci)
		return;
	pool = pool_new(ci, 1, 1000, 0);
	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	pid1 = exec_int(conn, &STMT_PID, NULL);
	ck_assert_int_eq(exec_int(conn, &STMT_ADD_ONE, "1"), 2);
	db_release(conn);

	/* Killed while idle in the pool: the next use reconnects, and the
	 * statement is prepared again on the new connection. */
	terminate_backend(ci, pid1);
	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	ck_assert_int_eq(exec_int(conn, &STMT_ADD_ONE, "2"), 3);
	pid2 = exec_int(conn, &STMT_PID, NULL);
	ck_assert_int_ne(pid2, pid1);
	db_release(conn);

	/* Same again when the first statement is a simple one (BEGIN). */
	terminate_backend(ci, pid2);
	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	ck_assert_int_eq(db_exec_simple(conn, "BEGIN"), ERR_OK);
	pid3 = exec_int(conn, &STMT_PID, NULL);
	ck_assert_int_ne(pid3, pid2);

	/* Killed inside a transaction: no silent retry, but the caller gets
	 * ERR_DB_UNAVAILABLE and the slot works again afterwards. */
	terminate_backend(ci, pid3);
	ck_assert_int_eq(db_exec(conn, &STMT_ADD_ONE, 1, (const char *const[]){"3"}, NULL),
			 ERR_DB_UNAVAILABLE);
	ck_assert_int_eq(strlen(db_last_sqlstate(conn)), 5);
	db_release(conn);
	db_pool_stats(pool, NULL, &in_use, NULL);
	ck_assert_int_eq(in_use, 0);
	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	ck_assert_int_eq(exec_int(conn, &STMT_ADD_ONE, "4"), 5);
	db_release(conn);

	db_pool_free(pool);
	testdb_drop(ci);
	free(ci);
}
END_TEST

START_TEST(test_release_rolls_back)
{
	char *ci = testdb_create();
	struct db_pool *pool;
	struct db_conn *conn = NULL;

	if (!ci)
		return;
	pool = pool_new(ci, 1, 1000, 0);
	pool_create_items(pool);
	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	ck_assert_int_eq(db_exec_simple(conn, "BEGIN"), ERR_OK);
	ck_assert_int_eq(db_exec(conn, &STMT_INSERT_ITEM, 1, (const char *const[]){"x"}, NULL),
			 ERR_OK);
	db_release(conn);
	ck_assert_int_eq(pool_count_items(pool), 0);

	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	ck_assert_int_eq(PQtransactionStatus(db_conn_pg(conn)), PQTRANS_IDLE);
	db_release(conn);

	db_pool_free(pool);
	testdb_drop(ci);
	free(ci);
}
END_TEST

struct tx_ctx {
	const char *name;
	enum err ret;	/* what fn returns after inserting */
	int fail_times; /* raise 40001 on the first fail_times calls */
	bool ignore_error;
	int calls;
};

static enum err tx_insert(struct db_conn *conn, void *arg)
{
	struct tx_ctx *ctx = arg;
	const char *params[1] = {ctx->name};
	enum err rc;

	ctx->calls++;
	if (ctx->calls <= ctx->fail_times)
		return db_exec_simple(conn, SQL_RAISE_40001);
	rc = db_exec(conn, &STMT_INSERT_ITEM, 1, params, NULL);
	if (ctx->ignore_error)
		return ERR_OK;
	if (rc != ERR_OK)
		return rc;
	return ctx->ret;
}

START_TEST(test_transaction_commit_rollback)
{
	char *ci = testdb_create();
	struct db_pool *pool;
	struct tx_ctx ok = {.name = "a", .ret = ERR_OK};
	struct tx_ctx bad = {.name = "b", .ret = ERR_VALIDATION};
	struct tx_ctx dup = {.name = "a", .ret = ERR_OK};
	struct tx_ctx ignored = {.name = "a", .ret = ERR_OK, .ignore_error = true};
	int in_use;

	if (!ci)
		return;
	pool = pool_new(ci, 2, 1000, 0);
	pool_create_items(pool);

	ck_assert_int_eq(db_transaction(pool, tx_insert, &ok), ERR_OK);
	ck_assert_int_eq(pool_count_items(pool), 1);
	ck_assert_int_eq(db_transaction(pool, tx_insert, &bad), ERR_VALIDATION);
	ck_assert_int_eq(pool_count_items(pool), 1);
	ck_assert_int_eq(db_transaction(pool, tx_insert, &dup), ERR_CONFLICT);
	ck_assert_int_eq(dup.calls, 1);
	/* A function that swallows a failed statement cannot commit. */
	ck_assert_int_eq(db_transaction(pool, tx_insert, &ignored), ERR_INTERNAL);
	ck_assert_int_eq(pool_count_items(pool), 1);
	db_pool_stats(pool, NULL, &in_use, NULL);
	ck_assert_int_eq(in_use, 0);

	db_pool_free(pool);
	testdb_drop(ci);
	free(ci);
}
END_TEST

START_TEST(test_transaction_retries_serialization_failures)
{
	char *ci = testdb_create();
	struct db_pool *pool;
	struct tx_ctx twice = {.name = "a", .ret = ERR_OK, .fail_times = 2};
	struct tx_ctx always = {.name = "b", .ret = ERR_OK, .fail_times = 100};

	if (!ci)
		return;
	pool = pool_new(ci, 1, 1000, 0);
	pool_create_items(pool);

	ck_assert_int_eq(db_transaction(pool, tx_insert, &twice), ERR_OK);
	ck_assert_int_eq(twice.calls, 3);
	ck_assert_int_eq(pool_count_items(pool), 1);

	/* One attempt and three retries, then the error. */
	ck_assert_int_eq(db_transaction(pool, tx_insert, &always), err_from_sqlstate("40001"));
	ck_assert_int_eq(always.calls, 4);
	ck_assert_int_eq(pool_count_items(pool), 1);

	db_pool_free(pool);
	testdb_drop(ci);
	free(ci);
}
END_TEST

START_TEST(test_statement_timeout)
{
	char *ci = testdb_create();
	struct db_pool *pool;
	struct db_conn *conn = NULL;

	if (!ci)
		return;
	pool = pool_new(ci, 1, 1000, 100);
	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	ck_assert_int_eq(db_exec_simple(conn, "SELECT pg_sleep(0.01)"), ERR_OK);
	ck_assert_int_eq(db_exec_simple(conn, "SELECT pg_sleep(3)"), err_from_sqlstate("57014"));
	ck_assert_str_eq(db_last_sqlstate(conn), "57014");
	db_release(conn);

	db_pool_free(pool);
	testdb_drop(ci);
	free(ci);
}
END_TEST

START_TEST(test_result_helpers)
{
	char *ci = testdb_create();
	struct db_pool *pool;
	struct db_conn *conn = NULL;
	PGresult *res = NULL;

	if (!ci)
		return;
	pool = pool_new(ci, 1, 1000, 0);
	ck_assert_int_eq(db_acquire(pool, &conn), ERR_OK);
	ck_assert_int_eq(db_exec(conn, &STMT_VALUES, 0, NULL, &res), ERR_OK);
	ck_assert(db_is_null(res, 0, 0));
	ck_assert_ptr_null(db_text(res, 0, 0));
	ck_assert_int_eq(db_int(res, 0, 0), 0);
	ck_assert(!db_bool(res, 0, 0));
	ck_assert(db_bool(res, 0, 1));
	ck_assert(!db_bool(res, 0, 2));
	ck_assert(db_int(res, 0, 3) == 9000000000LL);
	ck_assert_str_eq(db_text(res, 0, 4), "caf\xc3\xa9");
	ck_assert(db_is_null(res, 1, 0)); /* out of range reads as NULL */
	ck_assert_ptr_null(db_text(res, 0, 9));
	PQclear(res);
	/* res may be NULL to discard the result. */
	ck_assert_int_eq(db_exec(conn, &STMT_VALUES, 0, NULL, NULL), ERR_OK);
	db_release(conn);

	db_pool_free(pool);
	testdb_drop(ci);
	free(ci);
}
END_TEST

struct stress_job {
	struct db_pool *pool;
	int failures;
};

static void *stress_thread(void *arg)
{
	struct stress_job *job = arg;

	for (int i = 0; i < 50; i++) {
		struct db_conn *conn = NULL;
		char in[16];
		const char *params[1] = {in};
		PGresult *res = NULL;

		snprintf(in, sizeof(in), "%d", i);
		if (db_acquire(job->pool, &conn) != ERR_OK) {
			job->failures++;
			continue;
		}
		if (db_exec(conn, &STMT_ADD_ONE, 1, params, &res) != ERR_OK ||
		    db_int(res, 0, 0) != i + 1)
			job->failures++;
		PQclear(res);
		db_release(conn);
	}
	return NULL;
}

START_TEST(test_many_threads)
{
	char *ci = testdb_create();
	struct db_pool *pool;
	struct stress_job jobs[8];
	pthread_t threads[8];
	int in_use, waiting;

	if (!ci)
		return;
	pool = pool_new(ci, 3, 20000, 0);
	for (int i = 0; i < 8; i++) {
		jobs[i] = (struct stress_job){.pool = pool};
		ck_assert_int_eq(pthread_create(&threads[i], NULL, stress_thread, &jobs[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(threads[i], NULL);
		ck_assert_int_eq(jobs[i].failures, 0);
	}
	db_pool_stats(pool, NULL, &in_use, &waiting);
	ck_assert_int_eq(in_use, 0);
	ck_assert_int_eq(waiting, 0);

	db_pool_free(pool);
	testdb_drop(ci);
	free(ci);
}
END_TEST

/* Needs no server: nothing listens on port 1. */
START_TEST(test_unavailable)
{
	struct db_pool_options opt = {
		.conninfo = "host=127.0.0.1 port=1 dbname=none user=none",
		.size = 1,
		.acquire_timeout_ms = 100,
		.connect_timeout_s = 2,
	};
	struct db_pool *pool = db_pool_new(&opt);
	struct db_conn *conn = NULL;
	int in_use;

	ck_assert_ptr_nonnull(pool);
	ck_assert_int_eq(db_acquire(pool, &conn), ERR_DB_UNAVAILABLE);
	ck_assert_ptr_null(conn);
	db_pool_stats(pool, NULL, &in_use, NULL);
	ck_assert_int_eq(in_use, 0);
	/* The slot went back: the next caller gets the same answer, not BUSY. */
	ck_assert_int_eq(db_acquire(pool, &conn), ERR_DB_UNAVAILABLE);
	db_pool_free(pool);
}
END_TEST

START_TEST(test_invalid_options)
{
	struct db_pool_options opt = {
		.conninfo = "dbname=x",
		.size = 0,
		.acquire_timeout_ms = 100,
	};

	ck_assert_ptr_null(db_pool_new(NULL));
	ck_assert_ptr_null(db_pool_new(&opt));
	opt.size = 1;
	opt.acquire_timeout_ms = -1;
	ck_assert_ptr_null(db_pool_new(&opt));
	opt.acquire_timeout_ms = 100;
	opt.conninfo = "this is not a connection string";
	ck_assert_ptr_null(db_pool_new(&opt));
	opt.conninfo = NULL;
	ck_assert_ptr_null(db_pool_new(&opt));
}
END_TEST

static Suite *pool_suite(void)
{
	Suite *s = suite_create("db_pool");
	TCase *tc = tcase_create("pool");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_acquire_release);
	tcase_add_test(tc, test_exhaustion_busy);
	tcase_add_test(tc, test_waiter_woken_on_release);
	tcase_add_test(tc, test_prepared_once_per_connection);
	tcase_add_test(tc, test_reprepare_after_deallocate);
	tcase_add_test(tc, test_unique_violation);
	tcase_add_test(tc, test_terminated_connection_replaced);
	tcase_add_test(tc, test_release_rolls_back);
	tcase_add_test(tc, test_transaction_commit_rollback);
	tcase_add_test(tc, test_transaction_retries_serialization_failures);
	tcase_add_test(tc, test_statement_timeout);
	tcase_add_test(tc, test_result_helpers);
	tcase_add_test(tc, test_many_threads);
	tcase_add_test(tc, test_unavailable);
	tcase_add_test(tc, test_invalid_options);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pool_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
