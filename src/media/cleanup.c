#include "media/cleanup.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "cinema/log.h"
#include "media/repo.h"

#define EXPIRED_BATCH 500

enum err media_cleanup_expired(struct db_pool *db, int grace_s, long long *n)
{
	struct db_conn *c = NULL;
	long long batch = 0;
	enum err rc = db_acquire(db, &c);
	*n = 0;
	while (rc == ERR_OK) {
		rc = media_repo_expired_delete(c, grace_s, EXPIRED_BATCH, &batch);
		*n += batch;
		if (batch < EXPIRED_BATCH)
			break;
	}
	db_release(c);
	return rc;
}

/* Deletes one queued object (and its multipart upload); false with err. */
static bool trash_one(struct s3_client *s3, const char *key, const char *upload_id, char *err,
		      size_t errlen)
{
	if (upload_id && *upload_id &&
	    s3_abort_multipart(s3, key, upload_id, err, errlen) != ERR_OK)
		return false;
	return s3_delete_object(s3, key, err, errlen) == ERR_OK;
}

enum err media_trash_drain(struct db_pool *db, struct s3_client *s3, bool only_new,
			   bool (*stop)(void *ctx), void *ctx, struct media_drain_counts *n)
{
	enum err rc = ERR_OK;
	memset(n, 0, sizeof(*n));
	for (;;) {
		struct db_conn *c = NULL;
		PGresult *res = NULL;
		rc = db_acquire(db, &c);
		if (rc == ERR_OK)
			rc = media_repo_trash_take(c, only_new, MEDIA_TRASH_BATCH, &res);
		db_release(c); /* never held across S3 calls */
		if (rc != ERR_OK)
			break;
		int rows = PQntuples(res);
		bool stopped = false;
		for (int i = 0; i < rows && rc == ERR_OK; i++) {
			const char *key = db_text(res, i, 0);
			char err[256] = "";
			/* Rows left untouched are taken again by a later drain. */
			if (stop && stop(ctx)) {
				stopped = true;
				break;
			}
			bool ok = trash_one(s3, key, db_text(res, i, 1), err, sizeof(err));
			if (!ok && !*err)
				snprintf(err, sizeof(err), "unknown S3 failure");
			c = NULL;
			rc = db_acquire(db, &c);
			if (rc == ERR_OK)
				rc = ok ? media_repo_trash_done(c, key)
					: media_repo_trash_failed(c, key, err);
			db_release(c);
			if (ok) {
				n->deleted++;
			} else {
				n->failed++;
				LOG_WARN("media object not deleted; retried on a later sweep",
					 LOG_STR("key", key), LOG_STR("error", err));
			}
		}
		PQclear(res);
		/* A short batch was the last; with failures, the rest waits
		 * for the next sweep rather than spinning on a store that is
		 * down. */
		if (rc != ERR_OK || rows < MEDIA_TRASH_BATCH || n->failed > 0 || stopped)
			break;
	}
	return rc;
}
