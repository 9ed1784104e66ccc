/* A small S3 client for one bucket of an S3-compatible store (AWS S3, MinIO,
 * the local test server of scripts/lib/services.sh): put and delete objects
 * with libcurl's AWS SigV4 signing, and presigned GET URLs signed here.
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

#endif
