/* PostgreSQL connection pool and query helpers (libpq).
 *
 * The pool holds a fixed number of connections. db_acquire gives a caller
 * exclusive use of one until db_release; when all are taken it waits up to the
 * configured time and then fails with ERR_DB_BUSY (mapped to 503). Broken
 * connections are replaced transparently on the next acquire. Statements are
 * declared as static `struct db_stmt` next to the repo function that runs
 * them and prepared lazily, once per connection. The pool is thread-safe; a
 * struct db_conn is used by one thread at a time. */
#ifndef CINEMA_DB_H
#define CINEMA_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "cinema/error.h"

struct db_pool;
struct db_conn;

/* A prepared statement. Keep instances static const: the pool uses their
 * address to remember what each connection has prepared. `name` must be
 * unique across the program. */
struct db_stmt {
	const char *name;
	const char *sql;
};

struct db_pool_options {
	const char *conninfo; /* a libpq URL or key=value string */
	int size;
	int acquire_timeout_ms;
	int connect_timeout_s;
	int statement_timeout_ms; /* 0: server default */
	/* > 0 for a pool that has somewhere else to go (a read replica): after
	 * a failed connect the pool is "down" and db_acquire answers
	 * ERR_DB_UNAVAILABLE at once, without connecting, for this long; then
	 * one caller tries again. The change of state is logged, not each
	 * refusal. 0: every acquire tries to connect (the primary). */
	int down_backoff_ms;
	const char *name; /* in the log lines of that state; NULL: "database" */
};

/* Creates the pool. Connections are opened lazily, so this succeeds while the
 * database is down. Returns NULL only on invalid options. */
struct db_pool *db_pool_new(const struct db_pool_options *opt);
/* Closes every connection. The caller guarantees none is checked out. */
void db_pool_free(struct db_pool *pool);

/* Checks out a connection. ERR_OK and *out set, or ERR_DB_BUSY (timed out),
 * ERR_DB_UNAVAILABLE (cannot connect). */
enum err db_acquire(struct db_pool *pool, struct db_conn **out);
/* Returns a connection: any open transaction is rolled back, a broken
 * connection is closed and replaced on a later acquire. Accepts NULL. */
void db_release(struct db_conn *conn);
/* Pool state for /metrics and /readyz: size, in use, waiting callers. */
void db_pool_stats(struct db_pool *pool, int *size, int *in_use, int *waiting);
/* True while a pool with down_backoff_ms is down (its last connect failed). */
bool db_pool_down(struct db_pool *pool);

/* Runs a prepared statement with text parameters (NULL element = SQL NULL).
 * On success *res (may be NULL to discard) owns the result; free it with
 * PQclear. On failure returns the mapped error and logs the server message
 * (never the parameters). */
enum err db_exec(struct db_conn *conn, const struct db_stmt *stmt, int nparams,
		 const char *const *params, PGresult **res);
/* As db_exec, but planned for this call's values instead of prepared once:
 * for queries with optional filters ("$1 IS NULL OR ..."), where a single
 * generic plan would fit no call well. */
enum err db_exec_planned(struct db_conn *conn, const struct db_stmt *stmt, int nparams,
			 const char *const *params, PGresult **res);
/* Runs SQL text without parameters (for BEGIN, COMMIT, migrations). */
enum err db_exec_simple(struct db_conn *conn, const char *sql);
/* The SQLSTATE of the last db_exec/db_exec_simple on conn if it failed, or ""
 * (borrowed; reset by each call). A lost connection reports "08006". */
const char *db_last_sqlstate(const struct db_conn *conn);
/* Borrowed libpq handle, for code that must call libpq directly (migrate). */
PGconn *db_conn_pg(struct db_conn *conn);

/* Runs fn inside BEGIN ... COMMIT on one connection. If fn returns an error,
 * or COMMIT fails, the transaction is rolled back. Serialization failures and
 * deadlocks (40001, 40P01) are retried up to three times, so fn may run more
 * than once: it must not keep state in ctx across runs. */
typedef enum err (*db_tx_fn)(struct db_conn *conn, void *ctx);
enum err db_transaction(struct db_pool *pool, db_tx_fn fn, void *ctx);

/* Reads on the read replica (app->db_read, DATABASE_READ_URL) or the
 * primary (app->db), by one rule (docs/SCALING.md, "Read replica"): fn runs
 * on the primary when caller_writes (the caller must see its own writes at
 * once: a signed-in viewer's own data, a moderator, a read after a write) or
 * when there is no replica; else on the replica. When the replica cannot be
 * reached (ERR_DB_UNAVAILABLE, including a connection lost under fn) or
 * cancels fn for a conflict with WAL replay (40001), fn runs again on the
 * primary, so it must start over on each run (reset what it appends). A
 * replica pool that is merely full (ERR_DB_BUSY) is not left for the
 * primary: the primary would get the overload. No transaction is opened. */
struct app;
#define DB_READ_DOWN_BACKOFF_MS 1000 /* the replica's down_backoff_ms */
enum err db_read(const struct app *app, bool caller_writes, db_tx_fn fn, void *ctx);
/* Reads that went to the primary because the replica failed, since start. */
unsigned long long db_read_fallbacks(void);

/* Result helpers. Column values are borrowed from the PGresult. */
bool db_is_null(const PGresult *res, int row, int col);
const char *db_text(const PGresult *res, int row, int col); /* NULL if SQL NULL */
long long db_int(const PGresult *res, int row, int col);    /* 0 if SQL NULL */
bool db_bool(const PGresult *res, int row, int col);

/* Applies pending migrations from dir (files NNNN_name.sql), each in its own
 * transaction under an advisory lock, recording them in schema_migrations.
 * Safe to run from several processes at once. Returns ERR_OK or an error
 * after logging which file failed and why. *applied gets the count. */
enum err db_migrate(const char *conninfo, const char *dir, int *applied);

#endif
