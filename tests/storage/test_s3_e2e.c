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
