/* PostgreSQL connection pool (see include/cinema/db.h).
 *
 * A fixed array of slots guarded by one mutex. The mutex protects only the
 * bookkeeping (which slot is taken, counters); connecting and every libpq call
 * happen outside it, by the thread that owns the slot. Each slot remembers
 * which `struct db_stmt` it has prepared, keyed by the statement's address, in
 * a small open-addressing set. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cinema/clock.h"
#include "cinema/db.h"
#include "cinema/log.h"
#include "cinema/mem.h"

#define DB_POOL_MAX_SIZE    1024
#define DB_STMT_SET_MIN_CAP 64 /* power of two */
#define DB_TX_MAX_RETRIES   3
#define DB_ERRMSG_MAX	    256
#define DB_LOG_SQL_MAX	    64

/* Set of prepared statements of one connection; keys[i] == NULL is empty. */
struct db_stmt_set {
	const struct db_stmt **keys;
	size_t cap; /* 0 or a power of two */
	size_t count;
};

struct db_conn {
	struct db_pool *pool;
	PGconn *pg; /* NULL until connected */
	struct db_stmt_set prepared;
	bool in_use;	    /* guarded by pool->lock; the rest belongs to the owner */
	bool broken;	    /* close at release, reconnect at next acquire */
	bool reused;	    /* taken from the pool with an open connection, nothing run yet */
	bool plan_per_call; /* set by db_exec_planned for one call */
	char sqlstate[6];
	char errmsg[DB_ERRMSG_MAX];
};

struct db_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed; /* signalled when a slot is returned */
	struct db_conn *slots;
	int size;
	int in_use;
	int waiting;
	int acquire_timeout_ms;
	int down_backoff_ms; /* 0: never down (see db_pool_options) */
	bool down;	     /* guarded by lock: the last connect failed */
	int64_t retry_at_ms; /* guarded by lock: while down, refuse until then */
	char name[24];	     /* for the log lines of that state */
	char *conninfo;
	char connect_timeout[16]; /* "" when unset */
	char options[192];	  /* libpq "options": server settings for every session */
};

/* ---- prepared statement set ---- */

static size_t stmt_slot(const struct db_stmt *s, size_t cap)
{
	/* Addresses are aligned and close together: mix the bits (murmur3 finalizer). */
	uint64_t x = (uint64_t)(uintptr_t)s;

	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	return (size_t)(x & (uint64_t)(cap - 1));
}

static bool stmt_set_has(const struct db_stmt_set *set, const struct db_stmt *s)
{
	if (set->cap == 0)
		return false;
	for (size_t i = stmt_slot(s, set->cap);; i = (i + 1) & (set->cap - 1)) {
		if (set->keys[i] == s)
			return true;
		if (set->keys[i] == NULL)
			return false;
	}
}

static void stmt_set_insert(struct db_stmt_set *set, const struct db_stmt *s)
{
	size_t i = stmt_slot(s, set->cap);

	while (set->keys[i] != NULL && set->keys[i] != s)
		i = (i + 1) & (set->cap - 1);
	if (set->keys[i] == NULL) {
		set->keys[i] = s;
		set->count++;
	}
}

static void stmt_set_add(struct db_stmt_set *set, const struct db_stmt *s)
{
	/* Keep the load factor at or below one half. */
	if ((set->count + 1) * 2 > set->cap) {
		struct db_stmt_set grown = {
			.cap = set->cap ? set->cap * 2 : DB_STMT_SET_MIN_CAP,
		};

		grown.keys = xcalloc(grown.cap, sizeof(*grown.keys));
		for (size_t i = 0; i < set->cap; i++)
			if (set->keys[i] != NULL)
				stmt_set_insert(&grown, set->keys[i]);
		free(set->keys);
		*set = grown;
	}
	stmt_set_insert(set, s);
}

static void stmt_set_clear(struct db_stmt_set *set)
{
	if (set->cap)
		memset(set->keys, 0, set->cap * sizeof(*set->keys));
	set->count = 0;
}

static void stmt_set_free(struct db_stmt_set *set)
{
	free(set->keys);
	set->keys = NULL;
	set->cap = set->count = 0;
}

/* ---- connections ---- */

/* Copies the first line of msg (libpq messages end in "\n" and may add a
 * second, indented line of advice). */
static void copy_first_line(char *dst, size_t size, const char *msg)
{
	size_t n = msg ? strcspn(msg, "\n") : 0;

	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(dst, msg, n);
	dst[n] = '\0';
}

/* Server notices would otherwise go raw to stderr and break the log format. */
static void db_notice(void *arg, const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	(void)arg;
	if (severity && strcmp(severity, "WARNING") == 0)
		LOG_WARN("database warning", LOG_STR("error", msg));
	else
		LOG_DEBUG("database notice", LOG_STR("severity", severity), LOG_STR("error", msg));
}

static void conn_close(struct db_conn *conn)
{
	PQfinish(conn->pg);
	conn->pg = NULL;
	conn->broken = false;
	conn->reused = false;
	stmt_set_clear(&conn->prepared);
}

/* Records the outcome of a connect in a pool that can be down, and says
 * whether this changed the state (logged by the caller, once). */
static bool pool_note_connect(struct db_pool *pool, bool ok)
{
	bool changed;

	if (pool->down_backoff_ms <= 0)
		return false;
	pthread_mutex_lock(&pool->lock);
	changed = pool->down == ok;
	pool->down = !ok;
	if (!ok)
		pool->retry_at_ms = mono_ms() + pool->down_backoff_ms;
	pthread_mutex_unlock(&pool->lock);
	return changed;
}

/* (Re)opens the slot's connection. Called by the owner, outside the lock. */
static enum err conn_open(struct db_conn *conn)
{
	struct db_pool *pool = conn->pool;
	const char *keys[6];
	const char *vals[6];
	int n = 0;

	conn_close(conn);
	/* Entries before the expanded dbname can be overridden by the
	 * connection string; entries after it override the string. */
	keys[n] = "application_name";
	vals[n++] = "cinema";
	keys[n] = "client_encoding";
	vals[n++] = "UTF8";
	keys[n] = "dbname";
	vals[n++] = pool->conninfo;
	if (pool->connect_timeout[0]) {
		keys[n] = "connect_timeout";
		vals[n++] = pool->connect_timeout;
	}
	if (pool->options[0]) {
		keys[n] = "options";
		vals[n++] = pool->options;
	}
	keys[n] = NULL;
	vals[n] = NULL;

	conn->pg = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn->pg) != CONNECTION_OK) {
		char msg[DB_ERRMSG_MAX];

		copy_first_line(msg, sizeof(msg),
				conn->pg ? PQerrorMessage(conn->pg) : "out of memory");
		conn_close(conn);
		if (pool->down_backoff_ms <= 0) {
			LOG_ERROR("database connection failed", LOG_STR("error", msg));
		} else if (pool_note_connect(pool, false)) {
			LOG_WARN("database down: tried again every retry_ms, meanwhile "
				 "refused at once",
				 LOG_STR("pool", pool->name), LOG_STR("error", msg),
				 LOG_INT("retry_ms", pool->down_backoff_ms));
		} else {
			LOG_DEBUG("database still down", LOG_STR("pool", pool->name),
				  LOG_STR("error", msg));
		}
		return ERR_DB_UNAVAILABLE;
	}
	if (pool_note_connect(pool, true))
		LOG_INFO("database back up", LOG_STR("pool", pool->name));
	PQsetNoticeReceiver(conn->pg, db_notice, NULL);
	LOG_DEBUG("database connection opened", LOG_INT("backend_pid", PQbackendPID(conn->pg)));
	return ERR_OK;
}

/* Records why the last command failed: SQLSTATE, first line of the message,
 * and whether the connection is gone. Returns the mapped error. */
static enum err conn_fail(struct db_conn *conn, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	ExecStatusType st = PQresultStatus(res);

	if (PQstatus(conn->pg) == CONNECTION_BAD)
		conn->broken = true;
	/* A COPY started by a statement leaves the connection unusable here. */
	if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH)
		conn->broken = true;

	if (state && strlen(state) == 5)
		memcpy(conn->sqlstate, state, 6);
	else if (conn->broken)
		memcpy(conn->sqlstate, "08006", 6); /* connection_failure: libpq gives none */
	else
		conn->sqlstate[0] = '\0';

	if (msg)
		copy_first_line(conn->errmsg, sizeof(conn->errmsg), msg);
	else if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE)
		copy_first_line(conn->errmsg, sizeof(conn->errmsg), PQerrorMessage(conn->pg));
	else
		snprintf(conn->errmsg, sizeof(conn->errmsg), "unexpected result status %s",
			 PQresStatus(st));

	if (conn->broken)
		return ERR_DB_UNAVAILABLE;
	if (conn->sqlstate[0] == '\0')
		return ERR_INTERNAL;
	return err_from_sqlstate(conn->sqlstate);
}

/* One attempt: prepare stmt if this connection has not yet, then execute it;
 * or, with stmt NULL, run sql as a simple query. */
static enum err conn_run(struct db_conn *conn, const struct db_stmt *stmt, const char *sql,
			 int nparams, const char *const *params, PGresult **out)
{
	PGresult *res = NULL;
	enum err rc;

	if (stmt == NULL) {
		res = PQexec(conn->pg, sql);
		switch (PQresultStatus(res)) {
		case PGRES_COMMAND_OK:
		case PGRES_TUPLES_OK:
		case PGRES_EMPTY_QUERY:
			rc = ERR_OK;
			break;
		default:
			rc = conn_fail(conn, res);
		}
		goto out;
	}

	if (conn->plan_per_call) {
		res = PQexecParams(conn->pg, stmt->sql, nparams, NULL, params, NULL, NULL, 0);
		goto result;
	}
	if (!stmt_set_has(&conn->prepared, stmt)) {
		res = PQprepare(conn->pg, stmt->name, stmt->sql, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = conn_fail(conn, res);
			goto out;
		}
		PQclear(res);
		res = NULL;
		stmt_set_add(&conn->prepared, stmt);
	}
	res = PQexecPrepared(conn->pg, stmt->name, nparams, params, NULL, NULL, 0);
result:
	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
		*out = res;
		res = NULL;
		rc = ERR_OK;
		break;
	default:
		rc = conn_fail(conn, res);
	}
out:
	PQclear(res);
	return rc;
}

/* Runs a statement with the two recoveries of db_exec: a connection found
 * dead on its first use after sitting idle in the pool is reopened and the
 * statement sent again (only outside a transaction: nothing can have run),
 * and a statement the server forgot (26000, e.g. after DISCARD ALL) is
 * prepared again. */
static enum err conn_exec(struct db_conn *conn, const struct db_stmt *stmt, const char *sql,
			  int nparams, const char *const *params, PGresult **out)
{
	bool idle, may_reconnect, reprepared = false;
	enum err rc;

	conn->sqlstate[0] = '\0';
	conn->errmsg[0] = '\0';
	if (conn->pg == NULL) {
		memcpy(conn->sqlstate, "08003", 6); /* connection_does_not_exist */
		snprintf(conn->errmsg, sizeof(conn->errmsg), "no connection");
		rc = ERR_DB_UNAVAILABLE;
		goto out;
	}
	idle = PQtransactionStatus(conn->pg) == PQTRANS_IDLE;
	may_reconnect = conn->reused && idle;
	conn->reused = false;

	for (;;) {
		conn->sqlstate[0] = '\0';
		conn->errmsg[0] = '\0';
		rc = conn_run(conn, stmt, sql, nparams, params, out);
		if (rc == ERR_OK)
			break;
		if (conn->broken && may_reconnect) {
			may_reconnect = false;
			LOG_INFO("database connection lost while idle, reconnecting",
				 LOG_STR("error", conn->errmsg));
			if (conn_open(conn) != ERR_OK) {
				conn->broken = true;
				break;
			}
			continue;
		}
		if (stmt && !reprepared && strcmp(conn->sqlstate, "26000") == 0) {
			PGresult *res;

			reprepared = true;
			stmt_set_clear(&conn->prepared);
			if (!idle) {
				/* The transaction is aborted: the server's and
				 * our sets cannot be brought back in step here.
				 * Replace the connection at release. */
				conn->broken = true;
				break;
			}
			LOG_INFO("prepared statements lost, preparing again",
				 LOG_STR("statement", stmt->name));
			res = PQexec(conn->pg, "DEALLOCATE ALL");
			if (PQresultStatus(res) != PGRES_COMMAND_OK) {
				rc = conn_fail(conn, res);
				PQclear(res);
				break;
			}
			PQclear(res);
			continue;
		}
		break;
	}
out:
	if (rc != ERR_OK) {
		char what[DB_LOG_SQL_MAX + 1] = "";

		/* Simple queries are constant text (STYLE: no data in SQL). */
		if (stmt == NULL)
			snprintf(what, sizeof(what), "%s", sql);
		LOG_WARN("database statement failed",
			 LOG_STR("statement", stmt ? stmt->name : what),
			 LOG_STR("sqlstate", conn->sqlstate), LOG_STR("error", conn->errmsg));
	}
	return rc;
}

enum err db_exec(struct db_conn *conn, const struct db_stmt *stmt, int nparams,
		 const char *const *params, PGresult **res)
{
	PGresult *r = NULL;
	enum err rc;

	if (res)
		*res = NULL;
	rc = conn_exec(conn, stmt, NULL, nparams, params, &r);
	if (rc == ERR_OK && res)
		*res = r;
	else
		PQclear(r);
	return rc;
}

enum err db_exec_planned(struct db_conn *conn, const struct db_stmt *stmt, int nparams,
			 const char *const *params, PGresult **res)
{
	conn->plan_per_call = true;
	enum err rc = db_exec(conn, stmt, nparams, params, res);
	conn->plan_per_call = false;
	return rc;
}

enum err db_exec_simple(struct db_conn *conn, const char *sql)
{
	return conn_exec(conn, NULL, sql, 0, NULL, NULL);
}

const char *db_last_sqlstate(const struct db_conn *conn)
{
	return conn ? conn->sqlstate : "";
}

PGconn *db_conn_pg(struct db_conn *conn)
{
	return conn ? conn->pg : NULL;
}

/* ---- pool ---- */

struct db_pool *db_pool_new(const struct db_pool_options *opt)
{
	struct db_pool *pool;
	PQconninfoOption *parsed;
	pthread_condattr_t cattr;

	if (!opt || !opt->conninfo || opt->size < 1 || opt->size > DB_POOL_MAX_SIZE ||
	    opt->acquire_timeout_ms < 0 || opt->connect_timeout_s < 0 ||
	    opt->statement_timeout_ms < 0) {
		LOG_ERROR("invalid database pool options");
		return NULL;
	}
	/* Reject a malformed connection string now rather than on every
	 * connect. The parser's message may quote the string: not logged. */
	parsed = PQconninfoParse(opt->conninfo, NULL);
	if (!parsed) {
		LOG_ERROR("invalid database connection string");
		return NULL;
	}
	PQconninfoFree(parsed);

	pool = xcalloc(1, sizeof(*pool));
	pool->size = opt->size;
	pool->acquire_timeout_ms = opt->acquire_timeout_ms;
	pool->down_backoff_ms = opt->down_backoff_ms > 0 ? opt->down_backoff_ms : 0;
	snprintf(pool->name, sizeof(pool->name), "%s", opt->name ? opt->name : "database");
	pool->conninfo = xstrdup(opt->conninfo);
	if (opt->connect_timeout_s > 0)
		snprintf(pool->connect_timeout, sizeof(pool->connect_timeout), "%d",
			 opt->connect_timeout_s);
	/* JIT compiles statements whose estimated cost is high, which here
	 * means a count over the whole catalog planned at every call: 10+ ms of
	 * compiling to save less than that in execution. */
	/* Parallel workers: starting them costs more than the short statements
	 * of an API gain, and they take cores from other requests. Pages are
	 * cached (shared buffers or the OS), so a random read costs about what
	 * a sequential one does: with the default random_page_cost (4) the
	 * planner walks a sort index through thousands of rows rather than
	 * fetch the few hundred that match (docs/CATALOG.md "Lists at scale"). */
	int n = snprintf(pool->options, sizeof(pool->options),
			 "-c jit=off -c max_parallel_workers_per_gather=0 -c random_page_cost=1.1");
	if (opt->statement_timeout_ms > 0)
		snprintf(pool->options + n, sizeof(pool->options) - (size_t)n,
			 " -c statement_timeout=%d", opt->statement_timeout_ms);
	pool->slots = xcalloc((size_t)opt->size, sizeof(*pool->slots));
	for (int i = 0; i < pool->size; i++)
		pool->slots[i].pool = pool;

	if (pthread_mutex_init(&pool->lock, NULL) != 0)
		abort();
	/* These fail only on resource exhaustion, fatal like xmalloc. */
	if (pthread_condattr_init(&cattr) != 0 ||
	    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&pool->freed, &cattr) != 0)
		abort();
	pthread_condattr_destroy(&cattr);
	return pool;
}

void db_pool_free(struct db_pool *pool)
{
	if (!pool)
		return;
	for (int i = 0; i < pool->size; i++) {
		conn_close(&pool->slots[i]);
		stmt_set_free(&pool->slots[i].prepared);
	}
	pthread_cond_destroy(&pool->freed);
	pthread_mutex_destroy(&pool->lock);
	free(pool->slots);
	free(pool->conninfo);
	free(pool);
}

/* Takes a free slot, preferring one already connected. Lock held. */
static struct db_conn *pool_take_locked(struct db_pool *pool)
{
	struct db_conn *pick = NULL;

	for (int i = 0; i < pool->size; i++) {
		struct db_conn *c = &pool->slots[i];

		if (c->in_use)
			continue;
		if (c->pg != NULL) {
			pick = c;
			break;
		}
		if (pick == NULL)
			pick = c;
	}
	if (pick) {
		pick->in_use = true;
		pool->in_use++;
	}
	return pick;
}

static void pool_put(struct db_conn *conn)
{
	struct db_pool *pool = conn->pool;

	pthread_mutex_lock(&pool->lock);
	conn->in_use = false;
	pool->in_use--;
	pthread_cond_signal(&pool->freed);
	pthread_mutex_unlock(&pool->lock);
}

enum err db_acquire(struct db_pool *pool, struct db_conn **out)
{
	struct db_conn *conn;
	struct timespec deadline = deadline_after_ms(CLOCK_MONOTONIC, pool->acquire_timeout_ms);
	bool probe = false;

	*out = NULL;

	pthread_mutex_lock(&pool->lock);
	if (pool->down) {
		/* Down: refuse at once until the back-off is over; then this
		 * caller alone tries, and the others keep being refused. */
		int64_t now = mono_ms();
		if (now < pool->retry_at_ms) {
			pthread_mutex_unlock(&pool->lock);
			return ERR_DB_UNAVAILABLE;
		}
		pool->retry_at_ms = now + pool->down_backoff_ms;
		probe = true;
	}
	while ((conn = pool_take_locked(pool)) == NULL) {
		int wrc;

		pool->waiting++;
		wrc = pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline);
		pool->waiting--;
		if (wrc != 0) {
			/* Timed out; a slot may have come back just now. */
			conn = pool_take_locked(pool);
			break;
		}
	}
	pthread_mutex_unlock(&pool->lock);
	if (conn == NULL) {
		LOG_WARN("database pool exhausted", LOG_INT("size", pool->size),
			 LOG_INT("timeout_ms", pool->acquire_timeout_ms));
		return ERR_DB_BUSY;
	}

	conn->sqlstate[0] = '\0';
	conn->errmsg[0] = '\0';
	/* A probe connects anew: only a connect tells that the pool is up. */
	if (probe || conn->pg == NULL || conn->broken || PQstatus(conn->pg) == CONNECTION_BAD) {
		if (conn_open(conn) != ERR_OK) {
			pool_put(conn);
			return ERR_DB_UNAVAILABLE;
		}
		conn->reused = false;
	} else {
		conn->reused = true;
	}
	*out = conn;
	return ERR_OK;
}

void db_release(struct db_conn *conn)
{
	PGresult *res;

	if (!conn)
		return;
	if (conn->pg && !conn->broken && PQstatus(conn->pg) == CONNECTION_OK) {
		/* Results of a query sent through db_conn_pg and not read. */
		while ((res = PQgetResult(conn->pg)) != NULL) {
			ExecStatusType st = PQresultStatus(res);

			PQclear(res);
			if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
				conn->broken = true;
				break;
			}
		}
		switch (conn->broken ? PQTRANS_UNKNOWN : PQtransactionStatus(conn->pg)) {
		case PQTRANS_IDLE:
			break;
		case PQTRANS_INTRANS:
		case PQTRANS_INERROR:
			res = PQexec(conn->pg, "ROLLBACK");
			if (PQresultStatus(res) != PGRES_COMMAND_OK) {
				LOG_WARN("database rollback on release failed");
				conn->broken = true;
			}
			PQclear(res);
			break;
		default:
			conn->broken = true;
		}
	}
	if (conn->pg && (conn->broken || PQstatus(conn->pg) != CONNECTION_OK))
		conn_close(conn);
	conn->reused = false;
	conn->sqlstate[0] = '\0';
	pool_put(conn);
}

void db_pool_stats(struct db_pool *pool, int *size, int *in_use, int *waiting)
{
	pthread_mutex_lock(&pool->lock);
	if (size)
		*size = pool->size;
	if (in_use)
		*in_use = pool->in_use;
	if (waiting)
		*waiting = pool->waiting;
	pthread_mutex_unlock(&pool->lock);
}

bool db_pool_down(struct db_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	bool down = pool->down;
	pthread_mutex_unlock(&pool->lock);
	return down;
}

/* ---- transactions ---- */

/* Rolls back without touching conn->sqlstate, which the caller still needs. */
static void tx_rollback(struct db_conn *conn)
{
	PGresult *res;

	if (!conn->pg || PQstatus(conn->pg) != CONNECTION_OK ||
	    PQtransactionStatus(conn->pg) == PQTRANS_IDLE)
		return;
	res = PQexec(conn->pg, "ROLLBACK");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		conn->broken = true;
	PQclear(res);
}

static enum err tx_run_once(struct db_conn *conn, db_tx_fn fn, void *ctx)
{
	enum err rc;

	rc = db_exec_simple(conn, "BEGIN");
	if (rc != ERR_OK)
		goto out;
	rc = fn(conn, ctx);
	if (rc == ERR_OK && PQtransactionStatus(conn->pg) != PQTRANS_INTRANS) {
		/* COMMIT of an aborted transaction would quietly roll back. */
		LOG_ERROR("transaction function succeeded but the transaction is not open",
			  LOG_BOOL("aborted", PQtransactionStatus(conn->pg) == PQTRANS_INERROR));
		rc = ERR_INTERNAL;
		goto out;
	}
	if (rc == ERR_OK)
		rc = db_exec_simple(conn, "COMMIT");
out:
	if (rc != ERR_OK)
		tx_rollback(conn);
	return rc;
}

enum err db_transaction(struct db_pool *pool, db_tx_fn fn, void *ctx)
{
	struct db_conn *conn = NULL;
	enum err rc;

	rc = db_acquire(pool, &conn);
	if (rc != ERR_OK)
		goto out;
	for (int attempt = 1;; attempt++) {
		struct timespec pause, now;

		rc = tx_run_once(conn, fn, ctx);
		if (rc == ERR_OK || attempt > DB_TX_MAX_RETRIES || conn->broken ||
		    (strcmp(conn->sqlstate, "40001") != 0 && strcmp(conn->sqlstate, "40P01") != 0))
			break;
		LOG_INFO("retrying transaction", LOG_STR("sqlstate", conn->sqlstate),
			 LOG_INT("attempt", attempt));
		/* Back off a little so two deadlocked callers do not meet again. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		pause.tv_sec = 0;
		pause.tv_nsec = (long)attempt * 5000000L + now.tv_nsec % 5000000L;
		nanosleep(&pause, NULL);
	}
out:
	db_release(conn);
	return rc;
}

/* ---- results ---- */

bool db_is_null(const PGresult *res, int row, int col)
{
	/* PQgetisnull also answers 1 for a row or column out of range. */
	return PQgetisnull(res, row, col) != 0;
}

const char *db_text(const PGresult *res, int row, int col)
{
	if (db_is_null(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

long long db_int(const PGresult *res, int row, int col)
{
	const char *v = db_text(res, row, col);

	return v ? strtoll(v, NULL, 10) : 0;
}

bool db_bool(const PGresult *res, int row, int col)
{
	const char *v = db_text(res, row, col);

	return v && v[0] == 't';
}
