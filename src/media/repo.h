/* SQL of the media tables (migrations/0010_media.sql): movie_media,
 * media_uploads, media_trash. The triggers of that migration queue orphaned
 * objects in media_trash and copy poster and trailer keys onto movies; these
 * functions never do either themselves. One caller per connection. */
#ifndef CINEMA_MEDIA_REPO_H
#define CINEMA_MEDIA_REPO_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "cinema/buf.h"
#include "cinema/db.h"
#include "media/media.h"

#define MEDIA_UUID_LEN 36

/* An upload asked for (a media_uploads row). */
struct media_upload {
	char id[MEDIA_UUID_LEN + 1];
	long long movie_id;
	enum media_kind kind;
	char object_key[MEDIA_KEY_MAX];
	char content_type[32];
	long long size_bytes;
	double duration_s;	 /* 0: unknown */
	char s3_upload_id[1024]; /* "" for a single PUT */
	long long part_size;	 /* 0 for a single PUT */
	char expires_at[32];	 /* RFC 3339 */
	bool expired;		 /* expires_at is past (by the database's clock) */
};

/* Whether movie id exists: ERR_OK, or ERR_NOT_FOUND. */
enum err media_repo_movie_exists(struct db_conn *c, long long movie_id);

/* Locks movie id's row until the end of the transaction, so that no order
 * or purchase of it can commit meanwhile (the rule of media_unlink).
 * ERR_NOT_FOUND when there is no such movie. */
enum err media_repo_movie_lock(struct db_conn *c, long long movie_id);

/* Appends the JSON array of the Media objects of the movie (openapi.yaml
 * Media), in kind order (poster, trailer, feature). */
enum err media_repo_list(struct db_conn *c, long long movie_id, struct buf *out);
/* Appends the Media object of the movie's kind; ERR_NOT_FOUND when none. */
enum err media_repo_get(struct db_conn *c, long long movie_id, enum media_kind kind,
			struct buf *out);

/* Inserts u (its id and expires_at are filled in; expires_epoch is the
 * expiry in seconds since 1970) created by user created_by (0: none).
 * ERR_IN_USE when the movie is gone. */
enum err media_repo_upload_insert(struct db_conn *c, struct media_upload *u, long long created_by,
				  long long expires_epoch);

/* The upload id of the movie's kind into *out; with lock, FOR UPDATE.
 * ERR_NOT_FOUND when there is none (id must be a UUID in text). */
enum err media_repo_upload_get(struct db_conn *c, long long movie_id, enum media_kind kind,
			       const char *id, bool lock, struct media_upload *out);

/* Deletes upload id (its trigger queues the object unless it is linked).
 * ERR_NOT_FOUND when there is none. */
enum err media_repo_upload_delete(struct db_conn *c, long long movie_id, enum media_kind kind,
				  const char *id);

/* Links object_key as the movie's kind, replacing the one there (the old
 * object is queued by the trigger). duration_s 0: unknown; uploaded_by 0:
 * none. *replaced tells whether there was one. */
enum err media_repo_link(struct db_conn *c, long long movie_id, enum media_kind kind,
			 const char *object_key, const char *content_type, long long size_bytes,
			 double duration_s, long long uploaded_by, bool *replaced);

/* Unlinks the movie's kind (queued by the trigger). ERR_NOT_FOUND when there
 * is none. */
enum err media_repo_unlink(struct db_conn *c, long long movie_id, enum media_kind kind);

/* Deletes at most limit uploads whose expires_at + grace_s is past (their
 * trigger queues their objects); *n gets how many. */
enum err media_repo_expired_delete(struct db_conn *c, int grace_s, int limit, long long *n);

/* At most limit rows of media_trash, the least tried first, then the
 * oldest (so that rows that keep failing cannot hold the others off for
 * ever), counting this attempt
 * (attempts + 1), skipping rows another scheduler holds; only those never
 * tried when only_new. *res (owned) has columns object_key, s3_upload_id
 * (NULL when none). */
enum err media_repo_trash_take(struct db_conn *c, bool only_new, int limit, PGresult **res);
/* The object of key is gone: its row is deleted. */
enum err media_repo_trash_done(struct db_conn *c, const char *object_key);
/* Deleting the object of key failed: error is kept for the next attempt. */
enum err media_repo_trash_failed(struct db_conn *c, const char *object_key, const char *error);
/* Queues object_key in media_trash unless it is linked to a movie or
 * queued already; *added tells whether it was. */
enum err media_repo_trash_add(struct db_conn *c, const char *object_key, bool *added);
/* How many rows media_trash holds (for tests and logs). */
enum err media_repo_trash_count(struct db_conn *c, long long *n);

/* The ids of every movie in ORDER BY id, as *res (owned; one column). */
enum err media_repo_movie_ids(struct db_conn *c, PGresult **res);

#endif
