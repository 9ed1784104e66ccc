/* The S3 client against a real S3-compatible server: S3_ENDPOINT,
 * S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET and S3_REGION from the environment
 * (scripts/test.sh starts a throwaway s3rver, which checks SigV4 signatures,
 * both curl's Authorization header and our presigned query strings). */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cinema/buf.h"
#include "storage/s3.h"

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static struct s3_options env_options(void)
{
	return (struct s3_options){
		.endpoint = env("S3_ENDPOINT"),
		.bucket = env("S3_BUCKET"),
		.access_key = env("S3_ACCESS_KEY"),
		.secret_key = env("S3_SECRET_KEY"),
		.region = env("S3_REGION"),
		.timeout_ms = 10000,
	};
}

static struct s3_client *env_client(void)
{
	struct s3_options o = env_options();
	struct s3_client *c = s3_client_new(&o);
	ck_assert_msg(c != NULL, "S3_* settings rejected (endpoint %s, bucket %s)", o.endpoint,
		      o.bucket ? o.bucket : "(unset)");
	return c;
}

/* A key no other run or test shares: the store may outlive a run. */
static void unique_key(char *out, size_t n, const char *name)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, n, "e2e/%ld-%ld-%d/%s", (long)ts.tv_sec, ts.tv_nsec, (int)getpid(), name);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ud)
{
	buf_append(ud, ptr, size * nmemb);
	return size * nmemb;
}

/* GETs url as a browser would (no credentials); returns the status. */
static long http_get(const char *url, struct buf *body, char *ctype, size_t ctypelen)
{
	CURL *h = curl_easy_init();
	char *ct = NULL;
	long status = 0;
	ck_assert_ptr_nonnull(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	CURLcode cc = curl_easy_perform(h);
	ck_assert_msg(cc == CURLE_OK, "GET %s: %s", url, curl_easy_strerror(cc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	if (ctype)
		snprintf(ctype, ctypelen, "%s", ct ? ct : "");
	curl_easy_cleanup(h);
	return status;
}

static unsigned char *random_bytes(size_t n)
{
	unsigned char *p = malloc(n);
	ck_assert_ptr_nonnull(p);
	FILE *f = fopen("/dev/urandom", "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(p, 1, n, f), n);
	fclose(f);
	/* A real PNG header, so the bytes are what an avatar upload sends. */
	memcpy(p, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", n < 16 ? n : 16);
	return p;
}

/* --- the happy path --- */

START_TEST(ensure_bucket_is_idempotent)
{
	struct s3_client *c = env_client();
	char err[512] = "";
	ck_assert_msg(s3_ensure_bucket(c, err, sizeof(err)) == ERR_OK, "%s", err);
	ck_assert_msg(s3_ensure_bucket(c, err, sizeof(err)) == ERR_OK, "%s", err);
	s3_client_free(c);
}
END_TEST

START_TEST(ensure_bucket_creates_a_missing_bucket)
{
	char bucket[64], err[512] = "";
	snprintf(bucket, sizeof(bucket), "e2e-%ld-%d", (long)time(NULL), (int)getpid());
	struct s3_options o = env_options();
	o.bucket = bucket;
	struct s3_client *c = s3_client_new(&o);
	ck_assert_ptr_nonnull(c);
	/* Before: the bucket is missing, so a put fails. */
	ck_assert_int_eq(s3_put_object(c, "a.png", "x", 1, "image/png", err, sizeof(err)),
			 ERR_INTERNAL);
	ck_assert_msg(strstr(err, "HTTP 404 NoSuchBucket") != NULL, "err: %s", err);
	ck_assert_msg(s3_ensure_bucket(c, err, sizeof(err)) == ERR_OK, "%s", err);
	ck_assert_msg(s3_put_object(c, "a.png", "x", 1, "image/png", err, sizeof(err)) == ERR_OK,
		      "%s", err);
	s3_client_free(c);
}
END_TEST

/* _i is the body size: empty, small, and over 1 MiB (curl then sends
 * Expect: 100-continue). The key has characters that need encoding. */
START_TEST(put_then_presigned_get_returns_the_same_bytes)
{
	static const size_t sizes[] = {0, 3000, 1536 * 1024};
	size_t len = sizes[_i];
	struct s3_client *c = env_client();
	struct buf got = BUF_INIT;
	char key[256], err[512] = "", ctype[128];
	unsigned char *data = random_bytes(len ? len : 1);

	unique_key(key, sizeof(key), "avatar a+b \xc3\xa9=1.png");
	ck_assert_msg(s3_ensure_bucket(c, err, sizeof(err)) == ERR_OK, "%s", err);
	ck_assert_msg(s3_put_object(c, key, data, len, "image/png", err, sizeof(err)) == ERR_OK,
		      "%s", err);

	char *url = s3_presign_get(c, key, 300, time(NULL));
	ck_assert_ptr_nonnull(url);
	ck_assert_int_eq(http_get(url, &got, ctype, sizeof(ctype)), 200);
	ck_assert_uint_eq(got.len, len);
	ck_assert(len == 0 || memcmp(got.data, data, len) == 0);
	ck_assert_str_eq(ctype, "image/png");

	free(url);
	buf_free(&got);
	free(data);
	s3_client_free(c);
}
END_TEST

START_TEST(put_replaces_and_delete_removes)
{
	struct s3_client *c = env_client();
	struct buf got = BUF_INIT;
	char key[256], err[512] = "";

	unique_key(key, sizeof(key), "replace.webp");
	ck_assert_msg(s3_ensure_bucket(c, err, sizeof(err)) == ERR_OK, "%s", err);
	ck_assert_msg(s3_put_object(c, key, "first", 5, "image/webp", err, sizeof(err)) == ERR_OK,
		      "%s", err);
	ck_assert_msg(s3_put_object(c, key, "second", 6, "image/webp", err, sizeof(err)) == ERR_OK,
		      "%s", err);
	char *url = s3_presign_get(c, key, 300, time(NULL));
	ck_assert_int_eq(http_get(url, &got, NULL, 0), 200);
	ck_assert_uint_eq(got.len, 6);
	ck_assert_int_eq(memcmp(got.data, "second", 6), 0);

	ck_assert_msg(s3_delete_object(c, key, err, sizeof(err)) == ERR_OK, "%s", err);
	buf_reset(&got);
	ck_assert_int_eq(http_get(url, &got, NULL, 0), 404);
	/* Deleting what is not there is no error. */
	ck_assert_msg(s3_delete_object(c, key, err, sizeof(err)) == ERR_OK, "%s", err);

	free(url);
	buf_free(&got);
	s3_client_free(c);
}
END_TEST

/* --- the server checks what we sign --- */

START_TEST(wrong_secret_is_refused)
{
	struct s3_options o = env_options();
	o.secret_key = "not-the-secret";
	struct s3_client *bad = s3_client_new(&o);
	struct s3_client *good = env_client();
	struct buf got = BUF_INIT;
	char key[256], err[512] = "";

	ck_assert_msg(s3_ensure_bucket(good, err, sizeof(err)) == ERR_OK, "%s", err);
	unique_key(key, sizeof(key), "forged.png");
	ck_assert_int_eq(s3_put_object(bad, key, "x", 1, "image/png", err, sizeof(err)),
			 ERR_INTERNAL);
	ck_assert_msg(strstr(err, "HTTP 403 SignatureDoesNotMatch") != NULL, "err: %s", err);
	ck_assert_msg(strstr(err, "not-the-secret") == NULL, "err shows the secret: %s", err);

	/* Nothing was stored, and a URL presigned with the wrong secret is refused. */
	ck_assert_msg(s3_put_object(good, key, "x", 1, "image/png", err, sizeof(err)) == ERR_OK,
		      "%s", err);
	/* Every call is signed: HEAD (no body, so no S3 code), ranged GET and
	 * CreateMultipartUpload refused too. */
	struct s3_object_info info;
	char *upload_id = NULL;
	ck_assert_int_eq(s3_head_object(bad, key, &info, err, sizeof(err)), ERR_INTERNAL);
	ck_assert_msg(strstr(err, "HTTP 403") != NULL, "err: %s", err);
	ck_assert_int_eq(s3_get_range(bad, key, 0, 0, &got, err, sizeof(err)), ERR_INTERNAL);
	ck_assert_msg(strstr(err, "HTTP 403 SignatureDoesNotMatch") != NULL, "err: %s", err);
	ck_assert_uint_eq(got.len, 0);
	ck_assert_int_eq(s3_create_multipart(bad, key, "video/mp4", &upload_id, err, sizeof(err)),
			 ERR_INTERNAL);
	ck_assert_msg(strstr(err, "HTTP 403 SignatureDoesNotMatch") != NULL, "err: %s", err);
	ck_assert_ptr_null(upload_id);
	char *url = s3_presign_get(bad, key, 300, time(NULL));
	ck_assert_int_eq(http_get(url, &got, NULL, 0), 403);
	ck_assert_ptr_nonnull(strstr(got.data, "SignatureDoesNotMatch"));
	free(url);

	s3_client_free(bad);
	s3_client_free(good);
	buf_free(&got);
}
END_TEST

/* Links are signed for the public endpoint when one is set: fetched by
 * that name they work, by the internal name they do not (the host is
 * signed). Needs an S3_ENDPOINT on 127.0.0.1, reachable as localhost too. */
START_TEST(presigned_for_the_public_endpoint)
{
	struct s3_options o = env_options();
	const char *at = strstr(o.endpoint, "//127.0.0.1:");
	if (!at)
		return; /* an S3 given from outside: no second name known */
	char pub[256], key[256], err[512] = "";
	snprintf(pub, sizeof(pub), "http://localhost:%s", at + strlen("//127.0.0.1:"));
	o.public_endpoint = pub;
	struct s3_client *c = s3_client_new(&o);
	ck_assert_ptr_nonnull(c);
	struct buf got = BUF_INIT;

	ck_assert_msg(s3_ensure_bucket(c, err, sizeof(err)) == ERR_OK, "%s", err);
	unique_key(key, sizeof(key), "public.png");
	ck_assert_msg(s3_put_object(c, key, "pub", 3, "image/png", err, sizeof(err)) == ERR_OK,
		      "%s", err);
	char *url = s3_presign_get(c, key, 300, time(NULL));
	ck_assert_msg(strncmp(url, pub, strlen(pub)) == 0, "url: %s", url);
	ck_assert_int_eq(http_get(url, &got, NULL, 0), 200);
	ck_assert_uint_eq(got.len, 3);
	ck_assert_int_eq(memcmp(got.data, "pub", 3), 0);

	char internal[2048];
	snprintf(internal, sizeof(internal), "%s%s", o.endpoint, url + strlen(pub));
	buf_reset(&got);
	ck_assert_int_eq(http_get(internal, &got, NULL, 0), 403);

	free(url);
	buf_free(&got);
	s3_client_free(c);
}
END_TEST

START_TEST(tampered_or_expired_presigned_url_is_refused)
{
	struct s3_client *c = env_client();
	struct buf got = BUF_INIT;
	char key[256], other[256], err[512] = "";

	ck_assert_msg(s3_ensure_bucket(c, err, sizeof(err)) == ERR_OK, "%s", err);
	unique_key(key, sizeof(key), "a.png");
	unique_key(other, sizeof(other), "b.png");
	ck_assert_msg(s3_put_object(c, key, "a", 1, "image/png", err, sizeof(err)) == ERR_OK, "%s",
		      err);
	ck_assert_msg(s3_put_object(c, other, "b", 1, "image/png", err, sizeof(err)) == ERR_OK,
		      "%s", err);

	/* The signature of a.png does not open b.png. */
	char *url = s3_presign_get(c, key, 300, time(NULL));
	char *url_b = s3_presign_get(c, other, 300, time(NULL));
	struct buf forged = BUF_INIT;
	buf_append(&forged, url_b, (size_t)(strchr(url_b, '?') - url_b));
	buf_append_str(&forged, strchr(url, '?'));
	ck_assert_int_eq(http_get(forged.data, &got, NULL, 0), 403);

	/* Nor does a longer expiry than was signed. */
	buf_reset(&forged);
	buf_append_str(&forged, url);
	char *exp = strstr(forged.data, "X-Amz-Expires=300&");
	ck_assert_ptr_nonnull(exp);
	memcpy(exp, "X-Amz-Expires=900&", strlen("X-Amz-Expires=900&"));
	buf_reset(&got);
	ck_assert_int_eq(http_get(forged.data, &got, NULL, 0), 403);

	/* A URL signed two hours ago for one minute has expired. */
	char *old = s3_presign_get(c, key, 60, time(NULL) - 7200);
	buf_reset(&got);
	ck_assert_int_eq(http_get(old, &got, NULL, 0), 403);

	free(old);
	free(url);
	free(url_b);
	buf_free(&forged);
	buf_free(&got);
	s3_client_free(c);
}
END_TEST

/* --- browsers and players: presigned requests sent as they send them --- */

struct http_reply {
	long status;
	struct buf body;
	char etag[130];
	char content_range[128];
	char header[256]; /* the value of the header asked for, "" when absent */
};

/* Sends method url with the given request headers (NULL-terminated list)
 * and body (PUT; its length is the Content-Length), no credentials. Keeps
 * the answer's ETag, Content-Range and the header named want_header. */
static void http_send(const char *method, const char *url, const char *const *headers,
		      const void *data, size_t len, const char *want_header, struct http_reply *r)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hl = NULL;
	struct curl_header *hd = NULL;
	ck_assert_ptr_nonnull(h);
	/* Browsers send no "Expect: 100-continue". */
	hl = curl_slist_append(hl, "Expect:");
	for (size_t i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, data ? data : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	CURLcode cc = curl_easy_perform(h);
	ck_assert_msg(cc == CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror(cc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	r->etag[0] = r->content_range[0] = r->header[0] = '\0';
	if (curl_easy_header(h, "ETag", 0, CURLH_HEADER, -1, &hd) == CURLHE_OK)
		snprintf(r->etag, sizeof(r->etag), "%s", hd->value);
	if (curl_easy_header(h, "Content-Range", 0, CURLH_HEADER, -1, &hd) == CURLHE_OK)
		snprintf(r->content_range, sizeof(r->content_range), "%s", hd->value);
	if (want_header && curl_easy_header(h, want_header, 0, CURLH_HEADER, -1, &hd) == CURLHE_OK)
		snprintf(r->header, sizeof(r->header), "%s", hd->value);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
}

/* PUTs data to a presigned URL with Content-Type ctype (none when NULL);
 * returns the status, the ETag in etag (when given). */
static long browser_put(const char *url, const void *data, size_t len, const char *ctype,
			char *etag, size_t etaglen)
{
	struct http_reply r = {0};
	char line[160];
	const char *headers[2] = {NULL, NULL};
	/* With POSTFIELDS, curl adds a form Content-Type unless told otherwise;
	 * "Content-Type:" removes it (a browser sends a Blob without type so). */
	snprintf(line, sizeof(line), "Content-Type:%s%s", ctype ? " " : "", ctype ? ctype : "");
	headers[0] = line;
	http_send("PUT", url, headers, data, len, NULL, &r);
	if (etag)
		snprintf(etag, etaglen, "%s", r.etag);
	buf_free(&r.body);
	return r.status;
}

static unsigned char *pattern_bytes(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)((i * 31u + seed * 7u + (i >> 8)) & 0xff);
	return p;
}

static char *presign_put(struct s3_client *c, const char *key, long long len, const char *ctype,
			 int part, const char *upload_id, time_t now, int expires_s)
{
	struct s3_presign_req r = {
		.method = "PUT",
		.key = key,
		.expires_s = expires_s,
		.now = now,
		.content_length = len,
		.content_type = ctype,
		.part_number = part,
		.upload_id = upload_id,
	};
	char *url = s3_presign(c, &r);
	ck_assert_ptr_nonnull(url);
	return url;
}

#define MIB (1024 * 1024)

/* A single presigned PUT signs content-length and content-type: the store
 * accepts exactly that request, and nothing else. */
START_TEST(presigned_put_takes_only_the_signed_length_and_type)
{
	struct s3_client *c = env_client();
	struct s3_object_info info;
	struct http_reply r = {0};
	char key[256], err[512] = "", etag[130];
	const size_t len = 3000;
	unsigned char *data = pattern_bytes(len, 1);
	memcpy(data, "\x1a\x45\xdf\xa3", 4); /* WebM */

	ck_assert_msg(s3_ensure_bucket(c, err, sizeof(err)) == ERR_OK, "%s", err);
	unique_key(key, sizeof(key), "media/1/trailer/t 1.webm");
	char *url = presign_put(c, key, (long long)len, "video/webm", 0, NULL, time(NULL), 600);
	ck_assert_ptr_nonnull(
		strstr(url, "X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost&"));

	/* Another type, another length, or no type: the signature does not match. */
	http_send("PUT", url, (const char *const[]){"Content-Type: video/mp4", NULL}, data, len,
		  NULL, &r);
	ck_assert_int_eq(r.status, 403);
	ck_assert_ptr_nonnull(strstr(r.body.data, "SignatureDoesNotMatch"));
	buf_reset(&r.body);
	http_send("PUT", url, (const char *const[]){"Content-Type: video/webm", NULL}, data,
		  len - 1, NULL, &r);
	ck_assert_int_eq(r.status, 403);
	ck_assert_ptr_nonnull(strstr(r.body.data, "SignatureDoesNotMatch"));
	ck_assert_int_eq(browser_put(url, data, len, NULL, NULL, 0), 403);
	ck_assert_int_eq(s3_head_object(c, key, &info, err, sizeof(err)), ERR_NOT_FOUND);

	/* Exactly what was signed: stored. */
	ck_assert_int_eq(browser_put(url, data, len, "video/webm", etag, sizeof(etag)), 200);
	ck_assert_msg(s3_head_object(c, key, &info, err, sizeof(err)) == ERR_OK, "%s", err);
	ck_assert_int_eq(info.size, (long long)len);
	ck_assert_str_eq(info.content_type, "video/webm");
	ck_assert_str_eq(info.etag, etag);
	ck_assert_uint_eq(strlen(etag), 34); /* "MD5 in hex", quotes included */

	struct buf got = BUF_INIT;
	ck_assert_msg(s3_get_range(c, key, 0, 63, &got, err, sizeof(err)) == ERR_OK, "%s", err);
	ck_assert_uint_eq(got.len, 64);
	ck_assert_int_eq(memcmp(got.data, data, 64), 0);

	free(url);
	buf_free(&got);
	buf_free(&r.body);
	free(data);
	s3_client_free(c);
}
END_TEST

START_TEST(expired_presigned_put_is_refused)
{
	struct s3_client *c = env_client();
	struct s3_object_info info;
	struct http_reply r = {0};
	char key[256], err[512] = "";

	ck_assert_msg(s3_ensure_bucket(c, err, sizeof(err)) == ERR_OK, "%s", err);
	unique_key(key, sizeof(key), "media/1/poster/p.png");
	/* Signed two hours ago for one minute. */
	char *url = presign_put(c, key, 3, "image/png", 0, NULL, time(NULL) - 7200, 60);
	http_send("PUT", url, (const char *const[]){"Content-Type: image/png", NULL}, "abc", 3,
		  NULL, &r);
	ck_assert_int_eq(r.status, 403);
	ck_assert_ptr_nonnull(strstr(r.body.data, "expired"));
	ck_assert_int_eq(s3_head_object(c, key, &info, err, sizeof(err)), ERR_NOT_FOUND);
	free(url);
	buf_free(&r.body);
	s3_client_free(c);
}
END_TEST

/* The player seeks with Range on a presigned GET URL; the API sniffs the
 * first bytes with s3_get_range. */
START_TEST(range_requests_return_206_and_the_right_bytes)
{
	struct s3_client *c = env_client();
	struct http_reply r = {0};
	struct buf got = BUF_INIT;
	char key[256], err[512] = "";
	const size_t len = 10000;
	unsigned char *data = pattern_bytes(len, 2);

	ck_assert_msg(s3_ensure_bucket(c, err, sizeof(err)) == ERR_OK, "%s", err);
	unique_key(key, sizeof(key), "media/2/feature/f.webm");
	ck_assert_msg(s3_put_object(c, key, data, len, "video/webm", err, sizeof(err)) == ERR_OK,
		      "%s", err);

	char *url = s3_presign_get(c, key, 300, time(NULL));
	http_send("GET", url, (const char *const[]){"Range: bytes=4000-4999", NULL}, NULL, 0, NULL,
		  &r);
	ck_assert_int_eq(r.status, 206);
	ck_assert_uint_eq(r.body.len, 1000);
	ck_assert_int_eq(memcmp(r.body.data, data + 4000, 1000), 0);
	ck_assert_str_eq(r.content_range, "bytes 4000-4999/10000");
	/* An open range, as a player asks when it seeks. */
	buf_reset(&r.body);
	http_send("GET", url, (const char *const[]){"Range: bytes=9990-", NULL}, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 206);
	ck_assert_uint_eq(r.body.len, 10);
	ck_assert_int_eq(memcmp(r.body.data, data + 9990, 10), 0);

	/* s3_get_range: a range inside, one past the end (cut short), and one
	 * that begins past the end (nothing). */
	ck_assert_msg(s3_get_range(c, key, 100, 163, &got, err, sizeof(err)) == ERR_OK, "%s", err);
	ck_assert_uint_eq(got.len, 64);
	ck_assert_int_eq(memcmp(got.data, data + 100, 64), 0);
	buf_reset(&got);
	ck_assert_msg(s3_get_range(c, key, 9990, 10100, &got, err, sizeof(err)) == ERR_OK, "%s",
		      err);
	ck_assert_uint_eq(got.len, 10);
	ck_assert_int_eq(memcmp(got.data, data + 9990, 10), 0);
	buf_reset(&got);
	ck_assert_msg(s3_get_range(c, key, 20000, 20063, &got, err, sizeof(err)) == ERR_OK, "%s",
		      err);
	ck_assert_uint_eq(got.len, 0);
	/* Appended to what out holds. */
	buf_append_str(&got, "x");
	ck_assert_msg(s3_get_range(c, key, 0, 3, &got, err, sizeof(err)) == ERR_OK, "%s", err);
	ck_assert_uint_eq(got.len, 5);
	ck_assert_int_eq(memcmp(got.data + 1, data, 4), 0);

	/* Bad ranges: no I/O. */
	ck_assert_int_eq(s3_get_range(c, key, 10, 9, &got, err, sizeof(err)), ERR_INTERNAL);
	ck_assert_int_eq(s3_get_range(c, key, -1, 9, &got, err, sizeof(err)), ERR_INTERNAL);

	free(url);
	buf_free(&got);
	buf_free(&r.body);
	free(data);
	s3_client_free(c);
}
END_TEST

START_TEST(missing_objects_are_not_found)
{
	struct s3_client *c = env_client();
	struct s3_object_info info;
	struct buf got = BUF_INIT;
	char key[256], err[512] = "";

	ck_assert_msg(s3_ensure_bucket(c, err, sizeof(err)) == ERR_OK, "%s", err);
	unique_key(key, sizeof(key), "media/3/poster/none.png");
	ck_assert_int_eq(s3_head_object(c, key, &info, err, sizeof(err)), ERR_NOT_FOUND);
	ck_assert_int_eq(s3_get_range(c, key, 0, 63, &got, err, sizeof(err)), ERR_NOT_FOUND);
	ck_assert_uint_eq(got.len, 0);
	char *url = s3_presign_get(c, key, 300, time(NULL));
	ck_assert_int_eq(http_get(url, &got, NULL, 0), 404);
	free(url);
	buf_free(&got);
	s3_client_free(c);
}
END_TEST

/* A multipart upload as the web app does it: the API creates it and signs
 * one URL per part (content-length signed), the browser PUTs the parts and
 * keeps their ETags, the API completes it. */
struct mp {
	struct s3_client *c;
	char key[256];
	char *upload_id;
	unsigned char *data;
	size_t len, part1; /* part 1 is bytes 0..part1-1, part 2 the rest */
	char etag[3][130];
};

static void mp_start(struct mp *m, const char *name)
{
	char err[512] = "";
	m->c = env_client();
	m->part1 = 5 * MIB; /* S3's minimum for every part but the last */
	m->len = m->part1 + 1000;
	m->data = pattern_bytes(m->len, 3);
	memcpy(m->data + 4, "ftypisom", 8); /* MP4 */
	ck_assert_msg(s3_ensure_bucket(m->c, err, sizeof(err)) == ERR_OK, "%s", err);
	unique_key(m->key, sizeof(m->key), name);
	ck_assert_msg(s3_create_multipart(m->c, m->key, "video/mp4", &m->upload_id, err,
					  sizeof(err)) == ERR_OK,
		      "%s", err);
	ck_assert_ptr_nonnull(m->upload_id);
	ck_assert_uint_gt(strlen(m->upload_id), 0);
}

/* PUTs part n (1 or 2) through its presigned URL; returns the status, and
 * keeps the part's ETag on success. */
static long mp_put_part(struct mp *m, int n)
{
	const unsigned char *p = n == 1 ? m->data : m->data + m->part1;
	size_t len = n == 1 ? m->part1 : m->len - m->part1;
	char etag[130];
	char *url =
		presign_put(m->c, m->key, (long long)len, NULL, n, m->upload_id, time(NULL), 600);
	long status = browser_put(url, p, len, NULL, etag, sizeof(etag));
	if (status == 200)
		memcpy(m->etag[n], etag, sizeof(etag));
	free(url);
	return status;
}

static void mp_end(struct mp *m)
{
	free(m->upload_id);
	free(m->data);
	s3_client_free(m->c);
}

START_TEST(multipart_upload_with_presigned_parts)
{
	struct mp m;
	struct s3_object_info info;
	struct buf got = BUF_INIT;
	char err[512] = "";

	mp_start(&m, "media/4/feature/big.mp4");
	/* A part URL signs its length and its upload. */
	char *url = presign_put(m.c, m.key, 1000, NULL, 2, m.upload_id, time(NULL), 600);
	ck_assert_ptr_nonnull(strstr(url, "&partNumber=2&uploadId="));
	ck_assert_ptr_nonnull(strstr(url, "X-Amz-SignedHeaders=content-length%3Bhost&"));
	ck_assert_int_eq(browser_put(url, m.data, 999, NULL, NULL, 0), 403);
	free(url);

	ck_assert_int_eq(mp_put_part(&m, 2), 200); /* any order */
	ck_assert_int_eq(mp_put_part(&m, 1), 200);
	ck_assert_uint_eq(strlen(m.etag[1]), 34);
	/* Quotes are optional in the list. */
	char bare[130];
	snprintf(bare, sizeof(bare), "%.*s", (int)strlen(m.etag[2]) - 2, m.etag[2] + 1);
	struct s3_part parts[] = {{1, m.etag[1]}, {2, bare}};
	ck_assert_msg(s3_complete_multipart(m.c, m.key, m.upload_id, parts, 2, err, sizeof(err)) ==
			      ERR_OK,
		      "%s", err);

	ck_assert_msg(s3_head_object(m.c, m.key, &info, err, sizeof(err)) == ERR_OK, "%s", err);
	ck_assert_int_eq(info.size, (long long)m.len);
	ck_assert_str_eq(info.content_type, "video/mp4");
	ck_assert_uint_gt(strlen(info.etag), 2);
	/* The bytes across the parts' boundary. */
	ck_assert_msg(s3_get_range(m.c, m.key, (long long)m.part1 - 10, (long long)m.part1 + 9,
				   &got, err, sizeof(err)) == ERR_OK,
		      "%s", err);
	ck_assert_uint_eq(got.len, 20);
	ck_assert_int_eq(memcmp(got.data, m.data + m.part1 - 10, 20), 0);
	buf_reset(&got);
	url = s3_presign_get(m.c, m.key, 300, time(NULL));
	ck_assert_int_eq(http_get(url, &got, NULL, 0), 200);
	ck_assert_uint_eq(got.len, m.len);
	ck_assert_int_eq(memcmp(got.data, m.data, m.len), 0);
	free(url);

	/* Completed: the upload is gone. */
	ck_assert_int_eq(s3_complete_multipart(m.c, m.key, m.upload_id, parts, 2, err, sizeof(err)),
			 ERR_CONFLICT);
	ck_assert_msg(strstr(err, "NoSuchUpload") != NULL, "err: %s", err);
	ck_assert_int_eq(mp_put_part(&m, 1), 404);

	buf_free(&got);
	mp_end(&m);
}
END_TEST

/* S3 refuses a part list naming a part never uploaded, or with another
 * ETag, or out of order: ERR_CONFLICT, and the upload stays for a retry. */
START_TEST(multipart_with_a_missing_or_wrong_part_is_a_conflict)
{
	struct mp m;
	struct s3_object_info info;
	char err[512] = "";

	mp_start(&m, "media/5/feature/partial.mp4");
	ck_assert_int_eq(mp_put_part(&m, 1), 200);

	/* Part 2 never uploaded. */
	struct s3_part missing[] = {{1, m.etag[1]}, {2, "\"0123456789abcdef0123456789abcdef\""}};
	ck_assert_int_eq(
		s3_complete_multipart(m.c, m.key, m.upload_id, missing, 2, err, sizeof(err)),
		ERR_CONFLICT);
	ck_assert_msg(strstr(err, "HTTP 400 InvalidPart") != NULL, "err: %s", err);

	ck_assert_int_eq(mp_put_part(&m, 2), 200);
	/* Part 1 with part 2's ETag. */
	struct s3_part wrong[] = {{1, m.etag[2]}, {2, m.etag[2]}};
	ck_assert_int_eq(s3_complete_multipart(m.c, m.key, m.upload_id, wrong, 2, err, sizeof(err)),
			 ERR_CONFLICT);
	ck_assert_msg(strstr(err, "HTTP 400 InvalidPart") != NULL, "err: %s", err);
	/* Out of order, or no parts: refused before any I/O. */
	struct s3_part backwards[] = {{2, m.etag[2]}, {1, m.etag[1]}};
	ck_assert_int_eq(
		s3_complete_multipart(m.c, m.key, m.upload_id, backwards, 2, err, sizeof(err)),
		ERR_CONFLICT);
	ck_assert_int_eq(s3_complete_multipart(m.c, m.key, m.upload_id, NULL, 0, err, sizeof(err)),
			 ERR_INTERNAL);
	ck_assert_int_eq(s3_head_object(m.c, m.key, &info, err, sizeof(err)), ERR_NOT_FOUND);

	/* The upload is still there: the right list completes it. */
	struct s3_part right[] = {{1, m.etag[1]}, {2, m.etag[2]}};
	ck_assert_msg(s3_complete_multipart(m.c, m.key, m.upload_id, right, 2, err, sizeof(err)) ==
			      ERR_OK,
		      "%s", err);
	ck_assert_msg(s3_head_object(m.c, m.key, &info, err, sizeof(err)) == ERR_OK, "%s", err);
	ck_assert_int_eq(info.size, (long long)m.len);
	mp_end(&m);
}
END_TEST

START_TEST(multipart_parts_below_5_mib_are_too_small)
{
	struct s3_client *c = env_client();
	char key[256], err[512] = "", etag[3][130], small[100];
	char *id = NULL;

	memset(small, 's', sizeof(small));

	ck_assert_msg(s3_ensure_bucket(c, err, sizeof(err)) == ERR_OK, "%s", err);
	unique_key(key, sizeof(key), "media/6/trailer/small.webm");
	ck_assert_msg(s3_create_multipart(c, key, "video/webm", &id, err, sizeof(err)) == ERR_OK,
		      "%s", err);
	for (int n = 1; n <= 2; n++) {
		char *url = presign_put(c, key, 100, NULL, n, id, time(NULL), 600);
		ck_assert_int_eq(browser_put(url, small, 100, NULL, etag[n], sizeof(etag[n])), 200);
		free(url);
	}
	struct s3_part parts[] = {{1, etag[1]}, {2, etag[2]}};
	ck_assert_int_eq(s3_complete_multipart(c, key, id, parts, 2, err, sizeof(err)),
			 ERR_CONFLICT);
	ck_assert_msg(strstr(err, "EntityTooSmall") != NULL, "err: %s", err);
	/* One small part is a whole (small) object. */
	ck_assert_msg(s3_complete_multipart(c, key, id, parts, 1, err, sizeof(err)) == ERR_OK, "%s",
		      err);
	free(id);
	s3_client_free(c);
}
END_TEST

START_TEST(abort_removes_the_upload)
{
	struct mp m;
	struct s3_object_info info;
	char err[512] = "";

	mp_start(&m, "media/7/feature/abandoned.mp4");
	ck_assert_int_eq(mp_put_part(&m, 1), 200);
	ck_assert_int_eq(mp_put_part(&m, 2), 200);

	/* Signed with another secret: refused, the upload stays. */
	struct s3_options o = env_options();
	o.secret_key = "not-the-secret";
	struct s3_client *bad = s3_client_new(&o);
	ck_assert_int_eq(s3_abort_multipart(bad, m.key, m.upload_id, err, sizeof(err)),
			 ERR_INTERNAL);
	ck_assert_msg(strstr(err, "HTTP 403 SignatureDoesNotMatch") != NULL, "err: %s", err);
	s3_client_free(bad);

	ck_assert_msg(s3_abort_multipart(m.c, m.key, m.upload_id, err, sizeof(err)) == ERR_OK, "%s",
		      err);
	/* Gone: its URLs take no part, it cannot be completed, and aborting
	 * it again is no error. */
	ck_assert_int_eq(mp_put_part(&m, 1), 404);
	struct s3_part parts[] = {{1, m.etag[1]}, {2, m.etag[2]}};
	ck_assert_int_eq(s3_complete_multipart(m.c, m.key, m.upload_id, parts, 2, err, sizeof(err)),
			 ERR_CONFLICT);
	ck_assert_msg(strstr(err, "HTTP 404 NoSuchUpload") != NULL, "err: %s", err);
	ck_assert_int_eq(s3_head_object(m.c, m.key, &info, err, sizeof(err)), ERR_NOT_FOUND);
	ck_assert_msg(s3_abort_multipart(m.c, m.key, m.upload_id, err, sizeof(err)) == ERR_OK, "%s",
		      err);
	ck_assert_msg(s3_abort_multipart(m.c, m.key, "0123456789abcdef", err, sizeof(err)) ==
			      ERR_OK,
		      "%s", err);
	mp_end(&m);
}
END_TEST

/* The bucket's CORS rules let a page on another origin upload and read the
 * ETag (scripts/lib/s3rver.js; docs/MEDIA.md "S3 setup"). */
START_TEST(cors_lets_a_browser_upload)
{
	struct s3_client *c = env_client();
	struct http_reply r = {0};
	char key[256], err[512] = "";

	ck_assert_msg(s3_ensure_bucket(c, err, sizeof(err)) == ERR_OK, "%s", err);
	unique_key(key, sizeof(key), "media/8/poster/cors.png");
	char *url = presign_put(c, key, 3, "image/png", 0, NULL, time(NULL), 600);

	http_send("OPTIONS", url,
		  (const char *const[]){"Origin: http://app.example:8080",
					"Access-Control-Request-Method: PUT",
					"Access-Control-Request-Headers: content-type", NULL},
		  NULL, 0, "Access-Control-Allow-Methods", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.header, "PUT"));
	buf_reset(&r.body);
	/* The same preflight again: browsers cache it that long. */
	http_send("OPTIONS", url,
		  (const char *const[]){"Origin: http://app.example:8080",
					"Access-Control-Request-Method: PUT",
					"Access-Control-Request-Headers: content-type", NULL},
		  NULL, 0, "Access-Control-Max-Age", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.header, "3600");

	buf_reset(&r.body);
	http_send("PUT", url,
		  (const char *const[]){"Origin: http://app.example:8080",
					"Content-Type: image/png", NULL},
		  "abc", 3, "Access-Control-Expose-Headers", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.header, "ETag");
	ck_assert_uint_eq(strlen(r.etag), 34);

	free(url);
	buf_free(&r.body);
	s3_client_free(c);
}
END_TEST

/* --- an unreachable store --- */

static int listen_loopback(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

START_TEST(closed_port_fails_fast_with_a_clear_reason)
{
	int port;
	close(listen_loopback(&port)); /* a port that nothing listens on */
	char endpoint[64], err[512] = "";
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
	struct s3_options o = env_options();
	o.endpoint = endpoint;
	o.timeout_ms = 2000;
	struct s3_client *c = s3_client_new(&o);

	double t0 = now_s();
	ck_assert_int_eq(s3_put_object(c, "a.png", "x", 1, "image/png", err, sizeof(err)),
			 ERR_INTERNAL);
	ck_assert_msg(now_s() - t0 < 1.5, "took %.2f s", now_s() - t0);
	ck_assert_msg(strstr(err, "cannot reach S3 at ") && strstr(err, endpoint), "err: %s", err);
	ck_assert_int_eq(s3_ensure_bucket(c, err, sizeof(err)), ERR_INTERNAL);
	ck_assert_msg(strstr(err, "cannot reach S3 at ") != NULL, "err: %s", err);
	s3_client_free(c);
}
END_TEST

START_TEST(silent_server_times_out)
{
	int port;
	int fd = listen_loopback(&port); /* accepts connections (backlog), never answers */
	char endpoint[64], err[512] = "";
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", port);
	struct s3_options o = env_options();
	o.endpoint = endpoint;
	o.timeout_ms = 300;
	struct s3_client *c = s3_client_new(&o);

	double t0 = now_s();
	ck_assert_int_eq(s3_put_object(c, "a.png", "x", 1, "image/png", err, sizeof(err)),
			 ERR_INTERNAL);
	double took = now_s() - t0;
	ck_assert_msg(took >= 0.25 && took < 2.0, "took %.2f s", took);
	ck_assert_msg(strstr(err, "no answer within 300 ms") != NULL, "err: %s", err);
	s3_client_free(c);
	close(fd);
}
END_TEST

int main(void)
{
	/* The test command always provides these; a run without them is a
	 * broken setup, not something to skip. */
	if (!env("S3_ENDPOINT") || !env("S3_BUCKET") || !env("S3_ACCESS_KEY") ||
	    !env("S3_SECRET_KEY") || !env("S3_REGION")) {
		fprintf(stderr, "storage_test_s3_e2e: S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY, "
				"S3_SECRET_KEY and S3_REGION must be set (scripts/test.sh starts "
				"a throwaway S3 server)\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	Suite *s = suite_create("storage_s3_e2e");

	TCase *tc = tcase_create("objects");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, ensure_bucket_is_idempotent);
	tcase_add_test(tc, ensure_bucket_creates_a_missing_bucket);
	tcase_add_loop_test(tc, put_then_presigned_get_returns_the_same_bytes, 0, 3);
	tcase_add_test(tc, put_replaces_and_delete_removes);
	suite_add_tcase(s, tc);

	tc = tcase_create("signatures");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, wrong_secret_is_refused);
	tcase_add_test(tc, tampered_or_expired_presigned_url_is_refused);
	tcase_add_test(tc, presigned_for_the_public_endpoint);
	suite_add_tcase(s, tc);

	tc = tcase_create("media");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, presigned_put_takes_only_the_signed_length_and_type);
	tcase_add_test(tc, expired_presigned_put_is_refused);
	tcase_add_test(tc, range_requests_return_206_and_the_right_bytes);
	tcase_add_test(tc, missing_objects_are_not_found);
	tcase_add_test(tc, multipart_upload_with_presigned_parts);
	tcase_add_test(tc, multipart_with_a_missing_or_wrong_part_is_a_conflict);
	tcase_add_test(tc, multipart_parts_below_5_mib_are_too_small);
	tcase_add_test(tc, abort_removes_the_upload);
	tcase_add_test(tc, cors_lets_a_browser_upload);
	suite_add_tcase(s, tc);

	tc = tcase_create("unreachable");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, closed_port_fails_fast_with_a_clear_reason);
	tcase_add_test(tc, silent_server_times_out);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
