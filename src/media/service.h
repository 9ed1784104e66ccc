/* Media business rules (docs/MEDIA.md): presigned uploads straight to S3,
 * their confirmation (complete, HEAD, ranged GET, magic bytes), linking and
 * unlinking, and the public redirect of posters and trailers.
 *
 * S3 is called only from media_upload_create and media_upload_complete (run
 * them on LANE_S3 workers), never with a database connection held. Objects
 * that lose their row are queued in media_trash by the schema's triggers, in
 * the same transaction; after such a commit these functions wake the
 * scheduler (media_trash_announce), which deletes them. Thread-safe. */
#ifndef CINEMA_MEDIA_SERVICE_H
#define CINEMA_MEDIA_SERVICE_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "cinema/app.h"
#include "cinema/buf.h"
#include "cinema/error.h"
#include "media/media.h"
#include "storage/s3.h"

struct kv;

/* What a moderator declares about the file to upload (already checked
 * against the kind's types and maximum size by the caller). */
struct media_upload_req {
	enum media_kind kind;
	const char *content_type;
	long long size_bytes;
	double duration_s; /* 0: unknown */
};

/* Appends the Media list JSON ({"items": [...]}) of the movie.
 * ERR_NOT_FOUND when no such movie. */
enum err media_list_movie(const struct app *app, long long movie_id, struct buf *out);

/* Starts an upload by user_id: a multipart upload in S3 when the file is
 * larger than MEDIA_PART_BYTES, a row in media_uploads, the presigned URLs.
 * *out (owned) is the MediaUpload JSON. ERR_NOT_FOUND (no such movie),
 * ERR_STORAGE_UNAVAILABLE (S3 off or failing), database errors. */
enum err media_upload_create(const struct app *app, long long movie_id,
			     const struct media_upload_req *r, long long user_id, json_t **out);

/* Drops an upload (its objects are trashed). ERR_NOT_FOUND when none. */
enum err media_upload_cancel(const struct app *app, long long movie_id, enum media_kind kind,
			     const char *upload_id);

/* Confirms an upload: completes the multipart upload with parts (n of them,
 * numbers 1..1000, each once; any order), checks the object and links it,
 * appending the Media JSON to out. On failure detail (when not empty) says
 * what was wrong, for the answer:
 *   ERR_NOT_FOUND, ERR_UPLOAD_EXPIRED,
 *   ERR_VALIDATION (the part list does not fit the upload),
 *   ERR_UPLOAD_INCOMPLETE (a part or the object is not in S3; the upload
 *   stays), ERR_MEDIA_MISMATCH (the object is deleted, the upload dropped),
 *   ERR_STORAGE_UNAVAILABLE, database errors. */
enum err media_upload_complete(const struct app *app, long long movie_id, enum media_kind kind,
			       const char *upload_id, struct s3_part *parts, size_t n,
			       long long user_id, struct buf *out, char *detail, size_t detail_len);

/* Unlinks the movie's kind (the object is trashed). ERR_NOT_FOUND when there
 * is none; ERR_FEATURE_PURCHASED for the feature of a movie somebody
 * bought (or has in an order). */
enum err media_unlink(const struct app *app, long long movie_id, enum media_kind kind);

/* The presigned GET URL (owned) of the public object key for the redirect
 * of getPublicMedia: signed at the start of now's hour, valid 24 h. NULL
 * when S3 is off or the key is refused. No I/O. */
char *media_public_url(const struct app *app, const char *key, time_t now);

/* Wakes the scheduler's trash drain after a commit that queued objects in
 * media_trash (an LPUSH on MEDIA_TRASH_QUEUE_KEY). Best effort: a failure is
 * logged and left to the periodic sweep. */
void media_trash_announce(struct kv *kv, const char *queue_key);
/* media_trash_announce with app's Redis and configuration. */
void media_trash_changed(const struct app *app);

/* Whether s is a UUID in its canonical text form (36 characters, hex and
 * dashes). */
bool media_uuid_valid(const char *s);

#endif
