/* Where a read goes: the read replica or the primary (see db_read in
 * include/cinema/db.h and docs/SCALING.md, "Read replica"). */
#include <stdatomic.h>
#include <string.h>

#include "cinema/app.h"
#include "cinema/db.h"
#include "cinema/log.h"

static atomic_ullong fallbacks;

/* Runs fn on a connection of pool. *lost says whether the failure is one
 * the primary can answer instead: the connection or the server is gone, or
 * the standby cancelled fn for a conflict with WAL replay (40001, or
 * 40P01 for a buffer-pin deadlock with the startup process). */
static enum err read_on(struct db_pool *pool, db_tx_fn fn, void *ctx, bool *lost)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(pool, &c);
	*lost = rc == ERR_DB_UNAVAILABLE;
	if (rc == ERR_OK) {
		rc = fn(c, ctx);
		*lost = rc == ERR_DB_UNAVAILABLE ||
			(rc == ERR_DB_BUSY && (strcmp(db_last_sqlstate(c), "40001") == 0 ||
					       strcmp(db_last_sqlstate(c), "40P01") == 0));
	}
	db_release(c);
	return rc;
}

enum err db_read(const struct app *app, bool caller_writes, db_tx_fn fn, void *ctx)
{
	bool lost = false;
	if (caller_writes || !app->db_read)
		return read_on(app->db, fn, ctx, &lost);
	enum err rc = read_on(app->db_read, fn, ctx, &lost);
	if (rc == ERR_OK || !lost)
		return rc;
	/* The pool logs when the replica goes down and comes back; a read
	 * answered by the primary meanwhile is only counted. */
	atomic_fetch_add_explicit(&fallbacks, 1, memory_order_relaxed);
	LOG_DEBUG("read replica failed, reading the primary", LOG_STR("error", err_code(rc)));
	return read_on(app->db, fn, ctx, &lost);
}

unsigned long long db_read_fallbacks(void)
{
	return atomic_load_explicit(&fallbacks, memory_order_relaxed);
}
