#include "media/service.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/list_cache.h"
#include "cinema/config.h"
#include "cinema/db.h"
#include "cinema/kv.h"
#include "cinema/log.h"
#include "cinema/mem.h"
#include "commerce/guard.h"
#include "media/repo.h"
#include "media/sniff.h"

#define PUBLIC_URL_TTL_S 86400
#define PUBLIC_URL_STEP	 3600

bool media_uuid_valid(const char *s)
{
	size_t n = 0;
	for (; s && s[n]; n++) {
		bool dash = n == 8 || n == 13 || n == 18 || n == 23;
		if (dash ? s[n] != '-' : !isxdigit((unsigned char)s[n]))
			return false;
	}
	return n == MEDIA_UUID_LEN;
}

void media_trash_announce(struct kv *kv, const char *queue_key)
{
	if (!kv || kv_command(kv, NULL, "LPUSH %s 1", queue_key) != ERR_OK) {
		LOG_WARN("media trash not announced; the periodic sweep will delete it");
		return;
	}
	/* Every entry means the same ("look at media_trash"): a scheduler that
	 * is down must not come back to a long list. */
	kv_command(kv, NULL, "LTRIM %s 0 15", queue_key);
}

void media_trash_changed(const struct app *app)
{
	media_trash_announce(app->kv, app->cfg->media_trash_queue_key);
}

/* S3's one-line reason is logged; the client hears "storage unavailable". */
static enum err storage_failed(const char *what, const char *key, const char *s3err)
{
	LOG_WARN("media: S3 call failed", LOG_STR("call", what), LOG_STR("key", key),
		 LOG_STR("error", s3err));
	return ERR_STORAGE_UNAVAILABLE;
}

/* ---- listing ---- */

enum err media_list_movie(const struct app *app, long long movie_id, struct buf *out)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = media_repo_movie_exists(c, movie_id);
	if (rc == ERR_OK) {
		buf_append_str(out, "{\"items\":");
		rc = media_repo_list(c, movie_id, out);
		buf_append_char(out, '}');
	}
	db_release(c);
	return rc;
}

/* ---- creating an upload ---- */

static void token_new(char out[MEDIA_TOKEN_LEN + 1])
{
	unsigned char raw[MEDIA_TOKEN_LEN / 2];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, MEDIA_TOKEN_LEN + 1, raw, sizeof(raw));
}

/* The presigned PUT of part number (1-based; 0 for a single PUT) as a
 * MediaUploadPart, or NULL when signing failed. */
static json_t *part_json(const struct app *app, const struct media_upload *u, int number,
			 long long size, time_t now)
{
	struct s3_presign_req r = {
		.method = "PUT",
		.key = u->object_key,
		.expires_s = app->cfg->media_upload_ttl_s,
		.now = now,
		.content_length = size,
		.content_type = number == 0 ? u->content_type : NULL,
		.part_number = number,
		.upload_id = number > 0 ? u->s3_upload_id : NULL,
	};
	char *url = s3_presign(app->s3, &r);
	if (!url)
		return NULL;
	json_t *headers = json_object();
	if (number == 0)
		json_object_set_new(headers, "Content-Type", json_string(u->content_type));
	json_t *part = json_pack("{s:i,s:I,s:s,s:o}", "number", number > 0 ? number : 1, "size",
				 (json_int_t)size, "url", url, "headers", headers);
	free(url);
	return part;
}

static json_t *upload_json(const struct app *app, const struct media_upload *u, time_t now)
{
	long long part = u->part_size > 0 ? u->part_size : u->size_bytes;
	long long nparts = (u->size_bytes + part - 1) / part;
	json_t *parts = json_array();
	for (long long i = 0; i < nparts; i++) {
		long long size = i + 1 < nparts ? part : u->size_bytes - part * i;
		json_t *p = part_json(app, u, u->part_size > 0 ? (int)i + 1 : 0, size, now);
		if (!p) {
			json_decref(parts);
			return NULL;
		}
		json_array_append_new(parts, p);
	}
	return json_pack("{s:s,s:s,s:s,s:I,s:b,s:I,s:o,s:s}", "id", u->id, "kind",
			 media_kind_name(u->kind), "content_type", u->content_type, "size_bytes",
			 (json_int_t)u->size_bytes, "multipart", u->part_size > 0, "part_size",
			 (json_int_t)part, "parts", parts, "expires_at", u->expires_at);
}

enum err media_upload_create(const struct app *app, long long movie_id,
			     const struct media_upload_req *r, long long user_id, json_t **out)
{
	struct db_conn *c = NULL;
	struct media_upload *u = xcalloc(1, sizeof(*u));
	char token[MEDIA_TOKEN_LEN + 1], s3err[256] = "";
	char *s3_upload_id = NULL;
	enum err rc;

	*out = NULL;
	if (!app->s3) {
		rc = ERR_STORAGE_UNAVAILABLE;
		goto out;
	}
	/* No multipart upload for a movie that is not there. */
	rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = media_repo_movie_exists(c, movie_id);
	db_release(c);
	c = NULL;
	if (rc != ERR_OK)
		goto out;

	token_new(token);
	u->movie_id = movie_id;
	u->kind = r->kind;
	media_key_format(u->object_key, sizeof(u->object_key), movie_id, r->kind, token);
	snprintf(u->content_type, sizeof(u->content_type), "%s", r->content_type);
	u->size_bytes = r->size_bytes;
	u->duration_s = r->duration_s;
	u->part_size = media_part_size(r->size_bytes, app->cfg->media_part_bytes);
	if (u->part_size > 0) {
		rc = s3_create_multipart(app->s3, u->object_key, u->content_type, &s3_upload_id,
					 s3err, sizeof(s3err));
		if (rc != ERR_OK) {
			rc = storage_failed("CreateMultipartUpload", u->object_key, s3err);
			goto out;
		}
		if (strlen(s3_upload_id) >= sizeof(u->s3_upload_id)) {
			rc = storage_failed("CreateMultipartUpload", u->object_key,
					    "UploadId too long");
			goto abort;
		}
		snprintf(u->s3_upload_id, sizeof(u->s3_upload_id), "%s", s3_upload_id);
	}
	time_t now = time(NULL);
	rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = media_repo_upload_insert(c, u, user_id,
					      (long long)now + app->cfg->media_upload_ttl_s);
	db_release(c);
	c = NULL;
	if (rc == ERR_IN_USE) /* the movie was deleted meanwhile */
		rc = ERR_NOT_FOUND;
	if (rc != ERR_OK)
		goto abort;
	*out = upload_json(app, u, now);
	if (!*out) {
		LOG_ERROR("media: presigning an upload failed", LOG_STR("key", u->object_key));
		rc = ERR_INTERNAL;
		goto out;
	}
	LOG_INFO("media upload created", LOG_INT("movie_id", movie_id),
		 LOG_STR("kind", media_kind_name(r->kind)), LOG_STR("upload_id", u->id),
		 LOG_INT("size_bytes", r->size_bytes), LOG_BOOL("multipart", u->part_size > 0));
	goto out;
abort:
	/* Nothing recorded it: let S3 forget it now (best effort; a lifecycle
	 * rule is the backstop). */
	if (s3_upload_id && s3_abort_multipart(app->s3, u->object_key, s3_upload_id, s3err,
					       sizeof(s3err)) != ERR_OK)
		LOG_WARN("media: multipart upload left unaborted", LOG_STR("key", u->object_key),
			 LOG_STR("error", s3err));
out:
	free(s3_upload_id);
	free(u);
	return rc;
}

/* ---- cancelling ---- */

enum err media_upload_cancel(const struct app *app, long long movie_id, enum media_kind kind,
			     const char *upload_id)
{
	struct db_conn *c = NULL;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = media_repo_upload_delete(c, movie_id, kind, upload_id);
	db_release(c);
	if (rc == ERR_OK) {
		media_trash_changed(app);
		LOG_INFO("media upload cancelled", LOG_INT("movie_id", movie_id),
			 LOG_STR("upload_id", upload_id));
	}
	return rc;
}

/* ---- completing ---- */

static int part_cmp(const void *a, const void *b)
{
	const struct s3_part *x = a, *y = b;
	return (x->number > y->number) - (x->number < y->number);
}

/* Checks the client's part list against the upload. */
static enum err parts_check(const struct media_upload *u, struct s3_part *parts, size_t n,
			    char *detail, size_t dlen)
{
	if (u->part_size == 0) {
		if (n == 0)
			return ERR_OK;
		snprintf(detail, dlen, "must be absent or empty: this upload is a single PUT");
		return ERR_VALIDATION;
	}
	long long expected = (u->size_bytes + u->part_size - 1) / u->part_size;
	if (n == 0) {
		snprintf(detail, dlen,
			 "is required: this is a multipart upload of %lld parts (each part's "
			 "number and ETag)",
			 expected);
		return ERR_VALIDATION;
	}
	qsort(parts, n, sizeof(*parts), part_cmp);
	for (size_t i = 0; i < n; i++) {
		if (parts[i].number > expected) {
			snprintf(detail, dlen,
				 "part %d is out of range: this upload has %lld parts",
				 parts[i].number, expected);
			return ERR_VALIDATION;
		}
		if (i > 0 && parts[i].number == parts[i - 1].number) {
			snprintf(detail, dlen, "part %d is listed twice", parts[i].number);
			return ERR_VALIDATION;
		}
	}
	for (size_t i = 0; i < (size_t)expected; i++)
		if (i >= n || parts[i].number != (int)i + 1) {
			snprintf(detail, dlen,
				 "Part %zu of the upload is missing: upload it and try again.",
				 i + 1);
			return ERR_UPLOAD_INCOMPLETE;
		}
	return ERR_OK;
}

/* Whether the Content-Type S3 answered is type (parameters ignored). */
static bool same_type(const char *got, const char *type)
{
	size_t n = strcspn(got, "; ");
	return n == strlen(type) && strncasecmp(got, type, n) == 0;
}

/* HEAD and the first bytes: ERR_OK, ERR_MEDIA_MISMATCH (detail says why),
 * ERR_UPLOAD_INCOMPLETE, ERR_STORAGE_UNAVAILABLE. */
static enum err verify_object(const struct app *app, const struct media_upload *u, char *detail,
			      size_t dlen)
{
	struct s3_object_info info;
	struct buf head = BUF_INIT;
	char s3err[256] = "";
	enum err rc = s3_head_object(app->s3, u->object_key, &info, s3err, sizeof(s3err));
	if (rc == ERR_NOT_FOUND) {
		snprintf(detail, dlen, "The file is not in storage yet: upload it and try again.");
		return ERR_UPLOAD_INCOMPLETE;
	}
	if (rc != ERR_OK)
		return storage_failed("HeadObject", u->object_key, s3err);
	if (info.size != u->size_bytes) {
		snprintf(detail, dlen,
			 "The uploaded file has %lld bytes, not the %lld declared: it was "
			 "deleted.",
			 info.size, u->size_bytes);
		return ERR_MEDIA_MISMATCH;
	}
	if (!same_type(info.content_type, u->content_type)) {
		snprintf(detail, dlen,
			 "The uploaded file was stored as \"%.64s\", not %s: it was deleted.",
			 info.content_type, u->content_type);
		return ERR_MEDIA_MISMATCH;
	}
	rc = s3_get_range(app->s3, u->object_key, 0, MEDIA_SNIFF_BYTES - 1, &head, s3err,
			  sizeof(s3err));
	if (rc == ERR_NOT_FOUND) {
		snprintf(detail, dlen, "The file is not in storage yet: upload it and try again.");
		rc = ERR_UPLOAD_INCOMPLETE;
	} else if (rc != ERR_OK) {
		rc = storage_failed("GetObject", u->object_key, s3err);
	} else if (!media_sniff_matches(u->content_type, head.data, head.len)) {
		snprintf(detail, dlen,
			 "The uploaded file is not a %s %s: its first bytes say otherwise; it was "
			 "deleted.",
			 u->content_type, u->kind == MEDIA_POSTER ? "image" : "video");
		rc = ERR_MEDIA_MISMATCH;
	}
	buf_free(&head);
	return rc;
}

/* The object is not what was declared: deleted now (best effort, on this
 * LANE_S3 worker) and the upload dropped, whose trigger queues the object
 * again as the backstop. */
static void refuse_object(const struct app *app, const struct media_upload *u)
{
	struct db_conn *c = NULL;
	char s3err[256] = "";
	if (s3_delete_object(app->s3, u->object_key, s3err, sizeof(s3err)) != ERR_OK)
		LOG_WARN("media: refused object not deleted; the scheduler will",
			 LOG_STR("key", u->object_key), LOG_STR("error", s3err));
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = media_repo_upload_delete(c, u->movie_id, u->kind, u->id);
	db_release(c);
	if (rc == ERR_OK)
		media_trash_changed(app);
}

/* The upload went away (cancelled, expired away, its movie deleted) while
 * S3 completed and checked its object: its trash row may have been drained
 * before CompleteMultipartUpload made the object, which would then stay
 * forever. Queued again unless linked (a concurrent completion of the same
 * upload won). Best effort. */
static void requeue_object(const struct app *app, const struct media_upload *u)
{
	struct db_conn *c = NULL;
	bool added = false;
	enum err rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = media_repo_trash_add(c, u->object_key, &added);
	db_release(c);
	if (rc != ERR_OK)
		LOG_WARN("media: object of a vanished upload not queued for deletion",
			 LOG_STR("key", u->object_key), LOG_STR("error", err_code(rc)));
	else if (added)
		media_trash_changed(app);
}

struct link_tx {
	const struct media_upload *u;
	long long user_id;
	bool replaced;
};

static enum err link_fn(struct db_conn *c, void *ctx)
{
	struct link_tx *t = ctx;
	struct media_upload now;
	const struct media_upload *u = t->u;
	/* Still there (not cancelled, not expired away, its movie not
	 * deleted), and held until COMMIT. */
	enum err rc = media_repo_upload_get(c, u->movie_id, u->kind, u->id, true, &now);
	if (rc == ERR_OK)
		rc = media_repo_link(c, u->movie_id, u->kind, u->object_key, u->content_type,
				     u->size_bytes, u->duration_s, t->user_id, &t->replaced);
	if (rc == ERR_OK)
		rc = media_repo_upload_delete(c, u->movie_id, u->kind, u->id);
	return rc;
}

enum err media_upload_complete(const struct app *app, long long movie_id, enum media_kind kind,
			       const char *upload_id, struct s3_part *parts, size_t n,
			       long long user_id, struct buf *out, char *detail, size_t detail_len)
{
	struct db_conn *c = NULL;
	struct media_upload *u = xcalloc(1, sizeof(*u));
	char s3err[256] = "";
	enum err rc;

	*detail = '\0';
	rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = media_repo_upload_get(c, movie_id, kind, upload_id, false, u);
	db_release(c);
	c = NULL;
	if (rc != ERR_OK)
		goto out;
	if (u->expired) {
		rc = ERR_UPLOAD_EXPIRED;
		goto out;
	}
	if (!app->s3) {
		rc = ERR_STORAGE_UNAVAILABLE;
		goto out;
	}
	rc = parts_check(u, parts, n, detail, detail_len);
	if (rc != ERR_OK)
		goto out;
	if (u->part_size > 0) {
		rc = s3_complete_multipart(app->s3, u->object_key, u->s3_upload_id, parts, n, s3err,
					   sizeof(s3err));
		if (rc == ERR_CONFLICT) {
			/* A retry after a completion whose answer was lost: the
			 * upload is gone and the object there. */
			struct s3_object_info info;
			char e2[256] = "";
			rc = s3_head_object(app->s3, u->object_key, &info, e2, sizeof(e2));
			if (rc == ERR_NOT_FOUND) {
				snprintf(detail, detail_len,
					 "Storage refused the part list (%.100s): upload every "
					 "part and try again.",
					 s3err);
				rc = ERR_UPLOAD_INCOMPLETE;
				goto out;
			}
			/* Not "upload again" when S3 cannot say: 503. */
			if (rc != ERR_OK) {
				rc = storage_failed("HeadObject", u->object_key, e2);
				goto out;
			}
		} else if (rc != ERR_OK) {
			rc = storage_failed("CompleteMultipartUpload", u->object_key, s3err);
			goto out;
		}
	}
	rc = verify_object(app, u, detail, detail_len);
	if (rc == ERR_MEDIA_MISMATCH) {
		refuse_object(app, u);
		LOG_INFO("media upload refused", LOG_INT("movie_id", movie_id),
			 LOG_STR("upload_id", upload_id), LOG_STR("reason", detail));
	}
	if (rc != ERR_OK)
		goto out;

	struct link_tx t = {.u = u, .user_id = user_id};
	rc = db_transaction(app->db, link_fn, &t);
	if (rc == ERR_NOT_FOUND)
		requeue_object(app, u);
	if (rc != ERR_OK)
		goto out;
	if (t.replaced)
		media_trash_changed(app);
	if (media_kind_public(kind))
		movie_lists_changed(app);
	LOG_INFO("media linked", LOG_INT("movie_id", movie_id),
		 LOG_STR("kind", media_kind_name(kind)), LOG_STR("key", u->object_key),
		 LOG_INT("size_bytes", u->size_bytes), LOG_BOOL("replaced", t.replaced));
	rc = db_acquire(app->db, &c);
	if (rc == ERR_OK)
		rc = media_repo_get(c, movie_id, kind, out);
	db_release(c);
out:
	free(u);
	return rc;
}

/* ---- unlinking ---- */

struct unlink_tx {
	long long movie_id;
	enum media_kind kind;
};

static enum err unlink_fn(struct db_conn *c, void *ctx)
{
	struct unlink_tx *t = ctx;
	if (t->kind == MEDIA_FEATURE) {
		bool ordered = false;
		long long carts = 0;
		/* Without the lock, an order committed between the check and
		 * the DELETE would buy a movie with no feature. */
		enum err rc = media_repo_movie_lock(c, t->movie_id);
		if (rc == ERR_OK)
			rc = commerce_movie_usage(c, t->movie_id, &ordered, &carts);
		if (rc != ERR_OK)
			return rc;
		if (ordered)
			return ERR_FEATURE_PURCHASED;
	}
	return media_repo_unlink(c, t->movie_id, t->kind);
}

enum err media_unlink(const struct app *app, long long movie_id, enum media_kind kind)
{
	struct unlink_tx t = {.movie_id = movie_id, .kind = kind};
	enum err rc = db_transaction(app->db, unlink_fn, &t);
	if (rc != ERR_OK)
		return rc;
	media_trash_changed(app);
	if (media_kind_public(kind))
		movie_lists_changed(app);
	LOG_INFO("media unlinked", LOG_INT("movie_id", movie_id),
		 LOG_STR("kind", media_kind_name(kind)));
	return ERR_OK;
}

/* ---- public files ---- */

char *media_public_url(const struct app *app, const char *key, time_t now)
{
	if (!app->s3)
		return NULL;
	/* The same URL for a whole hour (cacheable), valid for a day after. */
	time_t start = now - now % PUBLIC_URL_STEP;
	return s3_presign_get(app->s3, key, PUBLIC_URL_TTL_S, start);
}
