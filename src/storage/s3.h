/* A small S3 client for one bucket of an S3-compatible store (AWS S3, MinIO,
 * the local test server of scripts/lib/services.sh): put, delete, HEAD and
 * ranged GET of objects and multipart create / complete / abort, signed by
 * libcurl's AWS SigV4 (Authorization header); and presigned URLs, signed
 * here (sigv4.h), for GET and for browser PUTs of whole objects or parts.
 *
 * Thread safety: a client is immutable after s3_client_new; any number of
 * threads may use one at once (each call uses its own curl handle). The
 * caller has run curl_global_init before any thread starts.
 *
 * Object keys: 1 to 1024 bytes, no control characters, no leading '/', no
 * empty, "." or ".." path segments (so that every HTTP client sends the same
 * path that was signed). Calls given another key fail without any I/O. */
#ifndef CINEMA_STORAGE_S3_H
#define CINEMA_STORAGE_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cinema/buf.h"
#include "cinema/error.h"

struct s3_options {
	const char *endpoint;	/* http(s)://host[:port], no path; e.g. http://127.0.0.1:9000 */
	const char *bucket;	/* 3-63 characters of a-z 0-9 . - */
	const char *access_key; /* non-empty */
	const char *secret_key; /* non-empty */
	const char *region;	/* e.g. us-east-1 (a-z 0-9 -) */
	int timeout_ms;		/* whole request; connecting gets at most 5 s of it */
	bool virtual_host;	/* bucket.host/key (AWS style) instead of host/bucket/key */
	/* The endpoint clients reach S3 by, for presigned URLs, when it is not
	 * endpoint (a container name, a private address); NULL or "": endpoint.
	 * The signature covers this host, so S3 must answer to that name. */
	const char *public_endpoint;
};

struct s3_client;

/* Returns a client (owned; copies every string), or NULL when an option is
 * missing or malformed (endpoint not http(s)://host[:port], bad bucket or
 * region name, timeout_ms <= 0). */
struct s3_client *s3_client_new(const struct s3_options *opt);
void s3_client_free(struct s3_client *c);

struct config;

/* The client of the S3_* settings, for the binaries that use S3. ERR_OK with
 * *out NULL when S3_ACCESS_KEY or S3_SECRET_KEY is unset (S3 is off: the
 * caller says what that disables); ERR_VALIDATION when S3_ENDPOINT,
 * S3_PUBLIC_ENDPOINT, S3_BUCKET or S3_REGION is malformed. */
enum err s3_client_from_config(const struct config *cfg, struct s3_client **out);

/* Stores len bytes of data under key with the given Content-Type (no CR or
 * LF), replacing any object there. The body's SHA-256 is signed
 * (x-amz-content-sha256), so the store rejects a body altered in transit.
 * ERR_OK on a 2xx answer. Otherwise ERR_INTERNAL with a one-line reason in err
 * (never a credential): for an S3 error, the HTTP status and S3's error code
 * (e.g. "HTTP 403 SignatureDoesNotMatch"); when the store cannot be reached
 * or does not answer in time, "cannot reach S3 at ENDPOINT: ..." (callers
 * answer 502/503 for those). */
enum err s3_put_object(struct s3_client *c, const char *key, const void *data, size_t len,
		       const char *content_type, char *err, size_t errlen);

/* Deletes the object under key; a missing object is no error. Errors as
 * s3_put_object. */
enum err s3_delete_object(struct s3_client *c, const char *key, char *err, size_t errlen);

/* For development and test setup: makes sure the bucket exists (HEAD, then
 * PUT when it is missing). ERR_OK when it exists or was created, including
 * when a concurrent PUT won (409 BucketAlreadyOwnedByYou). Errors as
 * s3_put_object; a bucket owned by someone else is an error. */
enum err s3_ensure_bucket(struct s3_client *c, char *err, size_t errlen);

/* Returns a URL (owned) that lets anyone GET the object under key until
 * now + expires_s (1 to 604800 s), signed with SigV4 query parameters
 * (X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders=host,
 * -Signature; UNSIGNED-PAYLOAD). No I/O: the object need not exist. NULL for
 * a bad key or expires_s out of range. */
char *s3_presign_get(struct s3_client *c, const char *key, int expires_s, time_t now);

/* --- media (issue 14, docs/MEDIA.md) --- */

/* A presigned request for a browser or any HTTP client. */
struct s3_presign_req {
	const char *method;	  /* "GET" or "PUT" */
	const char *key;	  /* as for every call */
	int expires_s;		  /* 1 to 604800 */
	time_t now;		  /* signing time */
	long long content_length; /* PUT: >= 0: "content-length" is signed; < 0: not.
				     Ignored for GET (no body: a zeroed struct works) */
	const char *content_type; /* non-NULL: "content-type" is signed */
	int part_number;	  /* > 0 (with upload_id): an UploadPart URL (PUT only) */
	const char *upload_id;	  /* S3's UploadId for part_number */
};

/* Returns the presigned URL of r (owned), for the public endpoint, signing
 * host and the headers r asks for (the client must send exactly those), with
 * partNumber/uploadId in the query when r->part_number > 0. No I/O. NULL for
 * a bad key, method, expiry or header value. */
char *s3_presign(struct s3_client *c, const struct s3_presign_req *r);

struct s3_object_info {
	long long size;
	char content_type[128]; /* "" when S3 sent none */
	char etag[130];		/* as S3 sent it, quotes included */
};

/* HEAD key. ERR_OK with *out filled; ERR_NOT_FOUND when S3 answers 404;
 * otherwise as s3_put_object. */
enum err s3_head_object(struct s3_client *c, const char *key, struct s3_object_info *out, char *err,
			size_t errlen);

/* GET bytes first..last (inclusive) of key into out (appended; at most
 * last - first + 1 bytes kept). ERR_OK on 206 (or 200 for an object shorter
 * than asked), and on 416 with nothing appended (an object that ends before
 * first, e.g. an empty one); ERR_NOT_FOUND on 404; otherwise as
 * s3_put_object. ERR_INTERNAL without I/O when first < 0, last < first or the
 * range is over 16 MiB. */
enum err s3_get_range(struct s3_client *c, const char *key, long long first, long long last,
		      struct buf *out, char *err, size_t errlen);

/* CreateMultipartUpload for key with content_type. ERR_OK with *upload_id
 * (owned); errors as s3_put_object. */
enum err s3_create_multipart(struct s3_client *c, const char *key, const char *content_type,
			     char **upload_id, char *err, size_t errlen);

struct s3_part {
	int number;	  /* 1 to 10000, ascending in the list */
	const char *etag; /* as the client got it (quotes optional) */
};

/* CompleteMultipartUpload with parts. ERR_OK on success; ERR_CONFLICT when
 * S3 refuses the parts or the upload (InvalidPart, InvalidPartOrder,
 * NoSuchUpload, EntityTooSmall; err names S3's code); otherwise as
 * s3_put_object. S3 may answer 200 with an error in the body: handled.
 * S3 may take minutes to assemble a large object: this call's timeout is at
 * least 5 minutes, whatever timeout_ms (callers run it where a wait is
 * allowed, as every S3 call). At most 10000 parts, ascending, each ETag a
 * token of letters, digits and '-' (else ERR_CONFLICT without I/O); none: ERR_INTERNAL. */
enum err s3_complete_multipart(struct s3_client *c, const char *key, const char *upload_id,
			       const struct s3_part *parts, size_t n, char *err, size_t errlen);

/* AbortMultipartUpload; an unknown upload (NoSuchUpload, 404) is no error.
 * Errors as s3_put_object. */
enum err s3_abort_multipart(struct s3_client *c, const char *key, const char *upload_id, char *err,
			    size_t errlen);

#endif
