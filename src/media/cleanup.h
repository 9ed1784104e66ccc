/* The scheduler's side of media (docs/MEDIA.md): abandoned uploads and the
 * trash. Runs with no connection held across an S3 call; safe to run from
 * several schedulers at once (rows are taken with SKIP LOCKED; deleting an
 * object twice is harmless). */
#ifndef CINEMA_MEDIA_CLEANUP_H
#define CINEMA_MEDIA_CLEANUP_H

#include <stdbool.h>

#include "cinema/db.h"
#include "cinema/error.h"
#include "storage/s3.h"

#define MEDIA_TRASH_BATCH 100

struct media_drain_counts {
	long long deleted; /* objects (and multipart uploads) gone, rows removed */
	long long failed;  /* rows left for a later sweep, attempts and last_error set */
};

/* Deletes the uploads past expires_at + grace_s (their triggers queue the
 * objects in media_trash); *n gets how many. */
enum err media_cleanup_expired(struct db_pool *db, int grace_s, long long *n);

/* Empties media_trash in batches of MEDIA_TRASH_BATCH: aborts the
 * multipart upload of a row if any, deletes its object; success removes the
 * row, a failure records the error (and the attempt) and leaves it. With
 * only_new, only rows never tried (the prompt drain after an announcement;
 * failures wait for the periodic sweep). Stops at the first database error,
 * or once stop() (may be NULL) returns true between objects. */
enum err media_trash_drain(struct db_pool *db, struct s3_client *s3, bool only_new,
			   bool (*stop)(void *ctx), void *ctx, struct media_drain_counts *n);

#endif
