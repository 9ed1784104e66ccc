/* AWS Signature Version 4 building blocks: SHA-256 and HMAC-SHA256 in hex,
 * the signing key, AWS URI encoding, and query-string presigning (a URL that
 * carries its own signature). Pure functions of their arguments: no I/O, no
 * clock, no globals; thread-safe. Knows nothing about buckets or HTTP
 * clients; s3.c builds on it. Reference: AWS S3 API docs, "Authenticating
 * Requests: Using Query Parameters (AWS Signature Version 4)". */
#ifndef CINEMA_STORAGE_SIGV4_H
#define CINEMA_STORAGE_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cinema/buf.h"

#define SIGV4_KEY_LEN  32 /* bytes of a SHA-256 digest or HMAC */
#define SIGV4_HEX_LEN  64 /* its lower-case hex form, without the NUL */
#define SIGV4_DATE_LEN 16 /* "YYYYMMDDTHHMMSSZ", without the NUL */

/* out = lower-case hex SHA-256 of data, NUL-terminated. */
void sigv4_sha256_hex(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1]);
/* out = HMAC-SHA256(key, data). */
void sigv4_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		       unsigned char out[SIGV4_KEY_LEN]);
/* Writes n bytes as lower-case hex into out (2n + 1 bytes, NUL-terminated). */
void sigv4_hex(const unsigned char *bytes, size_t n, char *out);
/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
 * "aws4_request"); date is "YYYYMMDD". */
void sigv4_signing_key(const char *secret, const char *date, const char *region,
		       const char *service, unsigned char out[SIGV4_KEY_LEN]);
/* Appends s percent-encoded as AWS requires: every byte but A-Z a-z 0-9 - . _ ~
 * becomes %XX (upper-case hex); '/' is kept when keep_slash (object key paths)
 * and encoded otherwise (query values). */
void sigv4_uri_encode(struct buf *out, const char *s, bool keep_slash);
/* out = t in UTC as "YYYYMMDDTHHMMSSZ". False if t cannot be represented. */
bool sigv4_amz_date(time_t t, char out[SIGV4_DATE_LEN + 1]);

/* A name and a value, borrowed: an extra query parameter or signed header. */
struct sigv4_pair {
	const char *name;
	const char *value;
};

/* A request to presign. Every string is borrowed; none may be NULL (but the
 * optional arrays, NULL when their count is 0). */
struct sigv4_presign {
	const char *method; /* "GET", "PUT" */
	const char *scheme; /* "http" or "https" */
	const char *host;   /* exactly the Host header the client will send: host,
			       or host:port when the port is not the scheme's default */
	const char *path;   /* absolute, already URI-encoded (sigv4_uri_encode, keep_slash) */
	const char *access_key;
	const char *secret_key;
	const char *region;
	const char *service; /* "s3" */
	time_t now;	     /* signing time */
	int expires_s;	     /* 1 to 604800 (a week, S3's limit) */
	/* Query parameters besides the X-Amz-* ones (e.g. partNumber, uploadId),
	 * unencoded: they are encoded here, and sorted with the X-Amz-* ones by
	 * encoded name as the canonical query string requires. */
	const struct sigv4_pair *query;
	size_t nquery;
	/* Headers signed besides host (e.g. content-length, content-type): the
	 * client must send them with exactly these values. Names in lower case
	 * (a-z 0-9 -, not "host" nor twice); values without CR, LF or NUL and
	 * without leading or trailing blanks (S3 trims what it signs). */
	const struct sigv4_pair *headers;
	size_t nheaders;
};

/* True when p's extra parameters and headers are acceptable (see above). */
bool sigv4_presign_valid(const struct sigv4_presign *p);
/* Appends the canonical request of p: method, path, the query parameters
 * (X-Amz-* but the signature, and p->query) encoded and sorted, the signed
 * headers ("name:value" lines sorted by name, host among them), the empty
 * line, their names joined by ';', and UNSIGNED-PAYLOAD. Nothing for an
 * invalid p (sigv4_presign_valid). */
void sigv4_presign_canonical_request(const struct sigv4_presign *p, struct buf *out);
/* Appends the string to sign: "AWS4-HMAC-SHA256", the date, the scope
 * (date/region/service/aws4_request) and the hex SHA-256 of the canonical
 * request, separated by newlines. */
void sigv4_string_to_sign(const char *amz_date, const char *scope, const char *canonical_request,
			  struct buf *out);
/* Returns the presigned URL of p (owned): scheme://host/path?QUERY&
 * X-Amz-Signature=HEX, QUERY as in the canonical request. NULL if expires_s
 * is out of range, now cannot be formatted or p is not valid. */
char *sigv4_presign_url(const struct sigv4_presign *p);

#endif
