#include "accounts/repo.h"

#include <stdlib.h>
#include <string.h>

static const struct db_stmt stmt_delete_expired = {
	"accounts_delete_expired_tokens",
	"WITH a AS (DELETE FROM activation_tokens WHERE expires_at <= now() RETURNING 1), "
	"r AS (DELETE FROM password_reset_tokens WHERE expires_at <= now() RETURNING 1), "
	"f AS (DELETE FROM refresh_tokens WHERE expires_at <= now() RETURNING 1) "
	"SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM r), (SELECT count(*) FROM f)"};

enum err accounts_delete_expired_tokens(struct db_pool *pool, struct expired_tokens *out)
{
	struct db_conn *conn = NULL;
	PGresult *res = NULL;
	memset(out, 0, sizeof(*out));
	enum err rc = db_acquire(pool, &conn);
	if (rc != ERR_OK)
		return rc;
	/* One statement: the three deletes commit together. */
	rc = db_exec(conn, &stmt_delete_expired, 0, NULL, &res);
	if (rc == ERR_OK) {
		out->activation = db_int(res, 0, 0);
		out->password_reset = db_int(res, 0, 1);
		out->refresh = db_int(res, 0, 2);
	}
	PQclear(res);
	db_release(conn);
	return rc;
}
