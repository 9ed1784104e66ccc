/* SigV4 signing against the values AWS publishes, the S3 client's URL and
 * option handling (no I/O), and image type sniffing. No server needed.
 *
 * Known answers:
 * - signing key: AWS "Examples of how to derive a signing key for Signature
 *   Version 4" (secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215,
 *   us-east-1, iam);
 * - presigned URL: AWS S3 API "Authenticating Requests: Using Query Parameters
 *   (AWS Signature Version 4)" (GET examplebucket/test.txt, AKIAIOSFODNN7EXAMPLE,
 *   20130524T000000Z, 86400 s, us-east-1), which uses virtual-hosted style;
 * - presigned PUTs with signed content-length / content-type and an UploadPart
 *   URL (partNumber, uploadId): no published example exists, so the expected
 *   canonical requests and signatures were computed independently, once, by
 *   a throwaway script using only Python's standard library (hashlib, hmac,
 *   urllib.parse.quote with safe="-_.~"), following the AWS document above;
 *   that script reproduces the published example's signature, and botocore
 *   1.43's S3SigV4QueryAuth (its clock fixed at 2013-05-24T00:00:00Z) gives
 *   the same two signatures. */
#include <check.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/buf.h"
#include "storage/image.h"
#include "storage/s3.h"
#include "storage/sigv4.h"

#define EXAMPLE_ACCESS "AKIAIOSFODNN7EXAMPLE"
#define EXAMPLE_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EXAMPLE_TIME   ((time_t)1369353600) /* 2013-05-24T00:00:00Z */
#define EXAMPLE_CANONICAL_REQUEST                                                                 \
	"GET\n"                                                                                   \
	"/test.txt\n"                                                                             \
	"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-" \
	"east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-"       \
	"SignedHeaders=host\n"                                                                    \
	"host:examplebucket.s3.amazonaws.com\n"                                                   \
	"\n"                                                                                      \
	"host\n"                                                                                  \
	"UNSIGNED-PAYLOAD"
#define EXAMPLE_CANONICAL_HASH "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04"
#define EXAMPLE_SIGNATURE      "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
#define EXAMPLE_URL                                                                               \
	"https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-" \
	"Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="  \
	"20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-"                    \
	"Signature=" EXAMPLE_SIGNATURE

static const struct sigv4_presign example = {
	.method = "GET",
	.scheme = "https",
	.host = "examplebucket.s3.amazonaws.com",
	.path = "/test.txt",
	.access_key = EXAMPLE_ACCESS,
	.secret_key = EXAMPLE_SECRET,
	.region = "us-east-1",
	.service = "s3",
	.now = EXAMPLE_TIME,
	.expires_s = 86400,
};

/* --- the building blocks --- */

START_TEST(sha256_of_nothing_is_the_known_digest)
{
	char hex[SIGV4_HEX_LEN + 1];
	sigv4_sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(signing_key_matches_the_aws_derivation_example)
{
	const char *secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	unsigned char key[SIGV4_KEY_LEN];
	char hex[SIGV4_HEX_LEN + 1];

	/* The first step alone: kDate = HMAC("AWS4" + secret, date). */
	const char *k_secret = "AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	sigv4_hmac_sha256(k_secret, strlen(k_secret), "20120215", 8, key);
	sigv4_hex(key, sizeof(key), hex);
	ck_assert_str_eq(hex, "969fbb94feb542b71ede6f87fe4d5fa29c789342b0f407474670f0c2489e0a0d");

	sigv4_signing_key(secret, "20120215", "us-east-1", "iam", key);
	sigv4_hex(key, sizeof(key), hex);
	ck_assert_str_eq(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}
END_TEST

START_TEST(uri_encoding_follows_the_aws_rules)
{
	struct buf b = BUF_INIT;
	sigv4_uri_encode(&b, "a b/c~d._-*+=&?%", true);
	ck_assert_str_eq(b.data, "a%20b/c~d._-%2A%2B%3D%26%3F%25");
	buf_reset(&b);
	sigv4_uri_encode(&b, "a b/c~d", false);
	ck_assert_str_eq(b.data, "a%20b%2Fc~d");
	buf_reset(&b);
	sigv4_uri_encode(&b, "\xc3\xa9t\xc3\xa9", true); /* "été" in UTF-8 */
	ck_assert_str_eq(b.data, "%C3%A9t%C3%A9");
	buf_reset(&b);
	sigv4_uri_encode(&b, "AZaz09", false);
	ck_assert_str_eq(b.data, "AZaz09");
	buf_free(&b);
}
END_TEST

START_TEST(amz_date_is_basic_iso8601_utc)
{
	char d[SIGV4_DATE_LEN + 1];
	ck_assert(sigv4_amz_date(EXAMPLE_TIME, d));
	ck_assert_str_eq(d, "20130524T000000Z");
	ck_assert(sigv4_amz_date(EXAMPLE_TIME + 86399, d));
	ck_assert_str_eq(d, "20130524T235959Z");
}
END_TEST

/* --- the published presigned-URL example, step by step --- */

START_TEST(canonical_request_matches_the_aws_example)
{
	struct buf b = BUF_INIT;
	char hex[SIGV4_HEX_LEN + 1];
	sigv4_presign_canonical_request(&example, &b);
	ck_assert_str_eq(b.data, EXAMPLE_CANONICAL_REQUEST);
	sigv4_sha256_hex(b.data, b.len, hex);
	ck_assert_str_eq(hex, EXAMPLE_CANONICAL_HASH);
	buf_free(&b);
}
END_TEST

START_TEST(string_to_sign_and_signature_match_the_aws_example)
{
	struct buf sts = BUF_INIT;
	unsigned char key[SIGV4_KEY_LEN], sig[SIGV4_KEY_LEN];
	char hex[SIGV4_HEX_LEN + 1];

	sigv4_string_to_sign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
			     EXAMPLE_CANONICAL_REQUEST, &sts);
	ck_assert_str_eq(sts.data, "AWS4-HMAC-SHA256\n"
				   "20130524T000000Z\n"
				   "20130524/us-east-1/s3/aws4_request\n" EXAMPLE_CANONICAL_HASH);
	sigv4_signing_key(EXAMPLE_SECRET, "20130524", "us-east-1", "s3", key);
	sigv4_hmac_sha256(key, sizeof(key), sts.data, sts.len, sig);
	sigv4_hex(sig, sizeof(sig), hex);
	ck_assert_str_eq(hex, EXAMPLE_SIGNATURE);
	buf_free(&sts);
}
END_TEST

START_TEST(presigned_url_matches_the_aws_example)
{
	char *url = sigv4_presign_url(&example);
	ck_assert_str_eq(url, EXAMPLE_URL);
	free(url);
}
END_TEST

START_TEST(presign_refuses_expiry_out_of_range)
{
	struct sigv4_presign p = example;
	p.expires_s = 0;
	ck_assert_ptr_null(sigv4_presign_url(&p));
	p.expires_s = 604801;
	ck_assert_ptr_null(sigv4_presign_url(&p));
	p.expires_s = 604800;
	char *url = sigv4_presign_url(&p);
	ck_assert_ptr_nonnull(strstr(url, "&X-Amz-Expires=604800&"));
	free(url);
}
END_TEST

/* --- the client, without I/O --- */

static struct s3_options options(const char *endpoint, bool virtual_host)
{
	return (struct s3_options){
		.endpoint = endpoint,
		.bucket = "examplebucket",
		.access_key = EXAMPLE_ACCESS,
		.secret_key = EXAMPLE_SECRET,
		.region = "us-east-1",
		.timeout_ms = 1000,
		.virtual_host = virtual_host,
	};
}

START_TEST(client_presigns_the_aws_example_in_virtual_hosted_style)
{
	struct s3_options o = options("https://s3.amazonaws.com", true);
	struct s3_client *c = s3_client_new(&o);
	ck_assert_ptr_nonnull(c);
	char *url = s3_presign_get(c, "test.txt", 86400, EXAMPLE_TIME);
	ck_assert_str_eq(url, EXAMPLE_URL);
	free(url);
	s3_client_free(c);

	/* The default port is left out of the signed Host, as clients send it. */
	o.endpoint = "https://S3.amazonaws.com:443/";
	c = s3_client_new(&o);
	ck_assert_ptr_nonnull(c);
	url = s3_presign_get(c, "test.txt", 86400, EXAMPLE_TIME);
	ck_assert_str_eq(url, EXAMPLE_URL);
	free(url);
	s3_client_free(c);
}
END_TEST

START_TEST(client_presigns_path_style_with_port_and_encoded_key)
{
	struct s3_options o = options("http://127.0.0.1:9000", false);
	struct s3_client *c = s3_client_new(&o);
	ck_assert_ptr_nonnull(c);
	char *url = s3_presign_get(c, "avatars/a b+\xc3\xa9.png", 600, EXAMPLE_TIME);

	/* The same request signed by hand: host with port, bucket in the path. */
	struct sigv4_presign p = example;
	p.scheme = "http";
	p.host = "127.0.0.1:9000";
	p.path = "/examplebucket/avatars/a%20b%2B%C3%A9.png";
	p.expires_s = 600;
	char *want = sigv4_presign_url(&p);
	ck_assert_str_eq(url, want);
	ck_assert_int_eq(
		strncmp(url, "http://127.0.0.1:9000/examplebucket/avatars/a%20b%2B%C3%A9.png?",
			strlen("http://127.0.0.1:9000/examplebucket/avatars/a%20b%2B%C3%A9.png?")),
		0);
	free(want);
	free(url);
	s3_client_free(c);
}
END_TEST

START_TEST(client_refuses_bad_options)
{
	static const char *bad_endpoints[] = {
		"",
		"127.0.0.1:9000",
		"ftp://127.0.0.1:9000",
		"http://127.0.0.1:9000/prefix",
		"http://user@127.0.0.1:9000",
		"http://127.0.0.1:9000/?a=b",
	};
	for (size_t i = 0; i < sizeof(bad_endpoints) / sizeof(bad_endpoints[0]); i++) {
		struct s3_options o = options(bad_endpoints[i], false);
		ck_assert_msg(s3_client_new(&o) == NULL, "endpoint \"%s\" accepted",
			      bad_endpoints[i]);
	}
	struct s3_options o = options("http://127.0.0.1:9000", false);
	o.endpoint = NULL;
	ck_assert_ptr_null(s3_client_new(&o));
	o = options("http://127.0.0.1:9000", false);
	o.bucket = "Bad_Bucket";
	ck_assert_ptr_null(s3_client_new(&o));
	o.bucket = "ab";
	ck_assert_ptr_null(s3_client_new(&o));
	o.bucket = "-bucket";
	ck_assert_ptr_null(s3_client_new(&o));
	o = options("http://127.0.0.1:9000", false);
	o.region = "us:east";
	ck_assert_ptr_null(s3_client_new(&o));
	o.region = "";
	ck_assert_ptr_null(s3_client_new(&o));
	o = options("http://127.0.0.1:9000", false);
	o.access_key = "";
	ck_assert_ptr_null(s3_client_new(&o));
	o = options("http://127.0.0.1:9000", false);
	o.secret_key = NULL;
	ck_assert_ptr_null(s3_client_new(&o));
	o = options("http://127.0.0.1:9000", false);
	o.timeout_ms = 0;
	ck_assert_ptr_null(s3_client_new(&o));
	s3_client_free(NULL);
}
END_TEST

START_TEST(client_refuses_bad_keys_without_io)
{
	char long_key[1026];
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	const char *bad_keys[] = {"",	"/abs", "a//b", "a/./b", "../x",  "a/..",
				  "a/", ".",	"a\nb", "a\x7f", long_key};
	/* Port 1 on loopback: nothing listens, so any I/O would fail differently. */
	struct s3_options o = options("http://127.0.0.1:1", false);
	struct s3_client *c = s3_client_new(&o);
	char err[256];

	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		ck_assert_msg(s3_presign_get(c, bad_keys[i], 60, EXAMPLE_TIME) == NULL,
			      "key %zu presigned", i);
		err[0] = '\0';
		ck_assert_int_eq(
			s3_put_object(c, bad_keys[i], "x", 1, "image/png", err, sizeof(err)),
			ERR_INTERNAL);
		ck_assert_ptr_nonnull(strstr(err, "key"));
		ck_assert_int_eq(s3_delete_object(c, bad_keys[i], err, sizeof(err)), ERR_INTERNAL);
	}
	long_key[1024] = '\0'; /* 1024 bytes is the limit */
	char *url = s3_presign_get(c, long_key, 60, EXAMPLE_TIME);
	ck_assert_ptr_nonnull(url);
	free(url);

	ck_assert_int_eq(
		s3_put_object(c, "a.png", "x", 1, "image/png\r\nX-Evil: 1", err, sizeof(err)),
		ERR_INTERNAL);
	ck_assert_ptr_nonnull(strstr(err, "content type"));
	ck_assert_int_eq(s3_put_object(c, "a.png", "x", 1, NULL, err, sizeof(err)), ERR_INTERNAL);
	s3_client_free(c);
}
END_TEST

/* --- presigned uploads: signed headers and part parameters --- */

#define PUT_CANONICAL_REQUEST                                                                     \
	"PUT\n"                                                                                   \
	"/examplebucket/media/42/poster/0123abcd.png\n"                                           \
	"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-" \
	"east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=3600&X-Amz-"        \
	"SignedHeaders=content-length%3Bcontent-type%3Bhost\n"                                    \
	"content-length:1048576\n"                                                                \
	"content-type:image/png\n"                                                                \
	"host:127.0.0.1:9000\n"                                                                   \
	"\n"                                                                                      \
	"content-length;content-type;host\n"                                                      \
	"UNSIGNED-PAYLOAD"
#define PUT_SIGNATURE "36f10c176fb7112a96cad8df118f1402e3bbd13517c6312a942a818fa725e553"
#define PUT_URL                                                                                 \
	"http://127.0.0.1:9000/examplebucket/media/42/poster/"                                  \
	"0123abcd.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%"  \
	"2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=" \
	"3600&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost&X-Amz-"                  \
	"Signature=" PUT_SIGNATURE

/* An UploadId with characters that need encoding, as S3's may have. */
#define PART_UPLOAD_ID "VXBsb2FkIElE+ZXhhbXBsZQ==/x.y_z~"
#define PART_CANONICAL_REQUEST                                                                    \
	"PUT\n"                                                                                   \
	"/media/42/feature/f%201.webm\n"                                                          \
	"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Feu-" \
	"west-3%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-"       \
	"SignedHeaders=content-length%3Bhost&partNumber=3&uploadId=VXBsb2FkIElE%2BZXhhbXBsZQ%3D%" \
	"3D%2Fx.y_z~\n"                                                                           \
	"content-length:8388608\n"                                                                \
	"host:examplebucket.s3.amazonaws.com\n"                                                   \
	"\n"                                                                                      \
	"content-length;host\n"                                                                   \
	"UNSIGNED-PAYLOAD"
#define PART_SIGNATURE "d2195c16fbc9c93f184e422da5880568dfe6d3668728dc2335f4d8febf02c484"
#define PART_URL                                                                                \
	"https://examplebucket.s3.amazonaws.com/media/42/feature/"                              \
	"f%201.webm?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%"    \
	"2F20130524%2Feu-west-3%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=" \
	"86400&X-Amz-SignedHeaders=content-length%3Bhost&partNumber=3&uploadId=VXBsb2FkIElE%"   \
	"2BZXhhbXBsZQ%3D%3D%2Fx.y_z~&X-Amz-Signature=" PART_SIGNATURE

START_TEST(put_with_signed_length_and_type_matches_the_reference)
{
	/* Given in another order than the canonical one: sorted by name. */
	const struct sigv4_pair headers[] = {{"content-type", "image/png"},
					     {"content-length", "1048576"}};
	struct sigv4_presign p = example;
	p.method = "PUT";
	p.scheme = "http";
	p.host = "127.0.0.1:9000";
	p.path = "/examplebucket/media/42/poster/0123abcd.png";
	p.expires_s = 3600;
	p.headers = headers;
	p.nheaders = 2;
	struct buf b = BUF_INIT;
	sigv4_presign_canonical_request(&p, &b);
	ck_assert_str_eq(b.data, PUT_CANONICAL_REQUEST);
	buf_free(&b);
	char *url = sigv4_presign_url(&p);
	ck_assert_str_eq(url, PUT_URL);
	free(url);

	/* The client signs the same for the same request. */
	struct s3_options o = options("http://127.0.0.1:9000", false);
	struct s3_client *c = s3_client_new(&o);
	struct s3_presign_req r = {
		.method = "PUT",
		.key = "media/42/poster/0123abcd.png",
		.expires_s = 3600,
		.now = EXAMPLE_TIME,
		.content_length = 1048576,
		.content_type = "image/png",
	};
	url = s3_presign(c, &r);
	ck_assert_str_eq(url, PUT_URL);
	free(url);
	s3_client_free(c);
}
END_TEST

START_TEST(part_url_matches_the_reference)
{
	const struct sigv4_pair query[] = {{"uploadId", PART_UPLOAD_ID}, {"partNumber", "3"}};
	const struct sigv4_pair headers[] = {{"content-length", "8388608"}};
	struct sigv4_presign p = example;
	p.method = "PUT";
	p.path = "/media/42/feature/f%201.webm";
	p.region = "eu-west-3";
	p.query = query;
	p.nquery = 2;
	p.headers = headers;
	p.nheaders = 1;
	struct buf b = BUF_INIT;
	sigv4_presign_canonical_request(&p, &b);
	ck_assert_str_eq(b.data, PART_CANONICAL_REQUEST);
	buf_free(&b);
	char *url = sigv4_presign_url(&p);
	ck_assert_str_eq(url, PART_URL);
	free(url);

	struct s3_options o = options("https://s3.amazonaws.com", true);
	o.region = "eu-west-3";
	struct s3_client *c = s3_client_new(&o);
	struct s3_presign_req r = {
		.method = "PUT",
		.key = "media/42/feature/f 1.webm",
		.expires_s = 86400,
		.now = EXAMPLE_TIME,
		.content_length = 8388608,
		.part_number = 3,
		.upload_id = PART_UPLOAD_ID,
	};
	url = s3_presign(c, &r);
	ck_assert_str_eq(url, PART_URL);
	free(url);
	s3_client_free(c);
}
END_TEST

START_TEST(presign_get_signs_host_only)
{
	struct s3_options o = options("https://s3.amazonaws.com", true);
	struct s3_client *c = s3_client_new(&o);
	struct s3_presign_req r = {
		.method = "GET",
		.key = "test.txt",
		.expires_s = 86400,
		.now = EXAMPLE_TIME,
		.content_length = -1,
	};
	char *url = s3_presign(c, &r);
	ck_assert_str_eq(url, EXAMPLE_URL);
	free(url);
	/* A GET has no body: content_length is not signed, even when 0 (a
	 * zeroed request). */
	r.content_length = 0;
	url = s3_presign(c, &r);
	ck_assert_str_eq(url, EXAMPLE_URL);
	free(url);
	/* Parts are for uploads. */
	r.part_number = 1;
	r.upload_id = "abc";
	ck_assert_ptr_null(s3_presign(c, &r));
	s3_client_free(c);
}
END_TEST

START_TEST(presign_refuses_bad_requests)
{
	struct s3_options o = options("http://127.0.0.1:9000", false);
	struct s3_client *c = s3_client_new(&o);
	const struct s3_presign_req good = {
		.method = "PUT",
		.key = "media/1/feature/x",
		.expires_s = 60,
		.now = EXAMPLE_TIME,
		.content_length = 10,
		.content_type = "video/webm",
		.part_number = 1,
		.upload_id = "abc",
	};
	char *url = s3_presign(c, &good);
	ck_assert_ptr_nonnull(url);
	free(url);

	struct s3_presign_req r = good;
	r.method = "DELETE";
	ck_assert_ptr_null(s3_presign(c, &r));
	r.method = "put";
	ck_assert_ptr_null(s3_presign(c, &r));
	r = good;
	r.key = "a//b";
	ck_assert_ptr_null(s3_presign(c, &r));
	r = good;
	r.expires_s = 0;
	ck_assert_ptr_null(s3_presign(c, &r));
	r.expires_s = 604801;
	ck_assert_ptr_null(s3_presign(c, &r));
	r = good;
	r.content_type = "video/webm\r\nX-Evil: 1";
	ck_assert_ptr_null(s3_presign(c, &r));
	r.content_type = "";
	ck_assert_ptr_null(s3_presign(c, &r));
	r.content_type = " video/webm";
	ck_assert_ptr_null(s3_presign(c, &r));
	r = good;
	r.upload_id = NULL; /* a part needs its upload */
	ck_assert_ptr_null(s3_presign(c, &r));
	r = good;
	r.part_number = 0; /* an upload id needs a part */
	ck_assert_ptr_null(s3_presign(c, &r));
	r.part_number = 10001;
	ck_assert_ptr_null(s3_presign(c, &r));
	r = good;
	r.upload_id = "a b";
	ck_assert_ptr_null(s3_presign(c, &r));
	r.upload_id = "";
	ck_assert_ptr_null(s3_presign(c, &r));
	s3_client_free(c);
}
END_TEST

START_TEST(sigv4_refuses_bad_headers_and_parameters)
{
	struct sigv4_presign p = example;
	const struct sigv4_pair upper[] = {{"Content-Length", "1"}};
	const struct sigv4_pair host[] = {{"host", "evil.example"}};
	const struct sigv4_pair twice[] = {{"content-length", "1"}, {"content-length", "2"}};
	const struct sigv4_pair blank[] = {{"content-type", "image/png "}};
	const struct sigv4_pair newline[] = {{"content-type", "a\nb"}};
	const struct sigv4_pair amz[] = {{"X-Amz-Expires", "1"}};
	struct buf b = BUF_INIT;

	ck_assert(sigv4_presign_valid(&p));
	const struct sigv4_pair *bad_headers[] = {upper, host, twice, blank, newline};
	const size_t counts[] = {1, 1, 2, 1, 1};
	for (size_t i = 0; i < 5; i++) {
		p = example;
		p.headers = bad_headers[i];
		p.nheaders = counts[i];
		ck_assert_msg(!sigv4_presign_valid(&p), "headers %zu accepted", i);
		ck_assert_ptr_null(sigv4_presign_url(&p));
		sigv4_presign_canonical_request(&p, &b);
		ck_assert_uint_eq(b.len, 0);
	}
	p = example;
	p.query = amz;
	p.nquery = 1;
	ck_assert(!sigv4_presign_valid(&p));
	ck_assert_ptr_null(sigv4_presign_url(&p));
	buf_free(&b);
}
END_TEST

/* --- image sniffing --- */

/* Headers as strings; their sizes leave out the terminating NUL. */
#define PNG_HEAD      "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01"
#define JPEG_HEAD     "\xff\xd8\xff\xe0\0\x10JFIF\0"
#define WEBP_LOSSY    "RIFF\x24\0\0\0WEBPVP8 "
#define WEBP_LOSSLESS "RIFF\x24\0\0\0WEBPVP8L"
#define WEBP_EXTENDED "RIFF\x24\0\0\0WEBPVP8X"
#define LEN(lit)      (sizeof(lit) - 1)

START_TEST(image_types_are_recognised_by_their_bytes)
{
	ck_assert_str_eq(image_content_type(PNG_HEAD, LEN(PNG_HEAD)), "image/png");
	ck_assert_str_eq(image_content_type(PNG_HEAD, 16), "image/png");
	ck_assert_str_eq(image_content_type(JPEG_HEAD, LEN(JPEG_HEAD)), "image/jpeg");
	ck_assert_str_eq(image_content_type(JPEG_HEAD, 3), "image/jpeg");
	ck_assert_str_eq(image_content_type(WEBP_LOSSY, LEN(WEBP_LOSSY)), "image/webp");
	ck_assert_str_eq(image_content_type(WEBP_LOSSLESS, LEN(WEBP_LOSSLESS)), "image/webp");
	ck_assert_str_eq(image_content_type(WEBP_EXTENDED, LEN(WEBP_EXTENDED)), "image/webp");
}
END_TEST

START_TEST(other_bytes_are_not_images)
{
	static const char wav[] = "RIFF\x24\0\0\0WAVEfmt ";
	static const char webp_unknown_chunk[] = "RIFF\x24\0\0\0WEBPABCD";
	static const char png_without_ihdr[] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIDAT";
	static const char gif[] = "GIF89a\x01\0\x01\0";
	static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
	static const char bmp[] = "BM6\0\0\0\0\0";

	ck_assert_ptr_null(image_content_type(NULL, 100));
	ck_assert_ptr_null(image_content_type(PNG_HEAD, 0));
	ck_assert_ptr_null(image_content_type(PNG_HEAD, 8));  /* signature, no chunk */
	ck_assert_ptr_null(image_content_type(PNG_HEAD, 15)); /* IHDR cut short */
	ck_assert_ptr_null(image_content_type(png_without_ihdr, LEN(png_without_ihdr)));
	ck_assert_ptr_null(image_content_type(JPEG_HEAD, 2));
	ck_assert_ptr_null(image_content_type(WEBP_LOSSY, 12)); /* no chunk */
	ck_assert_ptr_null(image_content_type(webp_unknown_chunk, LEN(webp_unknown_chunk)));
	ck_assert_ptr_null(image_content_type(wav, LEN(wav)));
	ck_assert_ptr_null(image_content_type(gif, LEN(gif)));
	ck_assert_ptr_null(image_content_type(svg, LEN(svg)));
	ck_assert_ptr_null(image_content_type(bmp, LEN(bmp)));
}
END_TEST

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	Suite *s = suite_create("storage_s3_sign");

	TCase *tc = tcase_create("sigv4");
	tcase_add_test(tc, sha256_of_nothing_is_the_known_digest);
	tcase_add_test(tc, signing_key_matches_the_aws_derivation_example);
	tcase_add_test(tc, uri_encoding_follows_the_aws_rules);
	tcase_add_test(tc, amz_date_is_basic_iso8601_utc);
	tcase_add_test(tc, canonical_request_matches_the_aws_example);
	tcase_add_test(tc, string_to_sign_and_signature_match_the_aws_example);
	tcase_add_test(tc, presigned_url_matches_the_aws_example);
	tcase_add_test(tc, presign_refuses_expiry_out_of_range);
	suite_add_tcase(s, tc);

	tc = tcase_create("client");
	tcase_add_test(tc, client_presigns_the_aws_example_in_virtual_hosted_style);
	tcase_add_test(tc, client_presigns_path_style_with_port_and_encoded_key);
	tcase_add_test(tc, client_refuses_bad_options);
	tcase_add_test(tc, client_refuses_bad_keys_without_io);
	suite_add_tcase(s, tc);

	tc = tcase_create("presign");
	tcase_add_test(tc, put_with_signed_length_and_type_matches_the_reference);
	tcase_add_test(tc, part_url_matches_the_reference);
	tcase_add_test(tc, presign_get_signs_host_only);
	tcase_add_test(tc, presign_refuses_bad_requests);
	tcase_add_test(tc, sigv4_refuses_bad_headers_and_parameters);
	suite_add_tcase(s, tc);

	tc = tcase_create("image");
	tcase_add_test(tc, image_types_are_recognised_by_their_bytes);
	tcase_add_test(tc, other_bytes_are_not_images);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
