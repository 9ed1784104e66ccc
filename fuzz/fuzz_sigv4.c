/* AWS SigV4 canonicalisation (src/storage/sigv4.c): URI encoding, the
 * canonical request, the string to sign and presigned URLs, with signed
 * headers and extra query parameters. Input: path NUL host NUL access key
 * NUL secret NUL region NUL method NUL a header value NUL a query value; the
 * first byte of the path also picks the expiry, the time and which extras
 * are signed. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "storage/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_encoded(const struct buf *b, bool keep_slash)
{
	for (size_t i = 0; i < b->len; i++) {
		char c = b->data[i];
		if (c == '%') {
			if (i + 2 >= b->len || !strchr("0123456789ABCDEF", b->data[i + 1]) ||
			    !strchr("0123456789ABCDEF", b->data[i + 2]) || !b->data[i + 1] ||
			    !b->data[i + 2])
				abort();
			i += 2;
		} else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
			     c == '~' || (keep_slash && c == '/'))) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_fields ff;
	fuzz_fields_split(&ff, data, size);
	for (int keep = 0; keep <= 1; keep++) {
		struct buf enc = BUF_INIT;
		sigv4_uri_encode(&enc, ff.f[0], keep);
		check_encoded(&enc, keep);
		buf_free(&enc);
	}
	struct buf path = BUF_INIT;
	buf_append_char(&path, '/');
	sigv4_uri_encode(&path, ff.f[0], true);
	unsigned char pick = size ? data[0] : 0;
	struct sigv4_presign p = {
		.method = *ff.f[5] ? ff.f[5] : "GET",
		.scheme = pick & 1 ? "https" : "http",
		.host = ff.f[1],
		.path = path.data ? path.data : "/",
		.access_key = ff.f[2],
		.secret_key = ff.f[3],
		.region = ff.f[4],
		.service = "s3",
		.now = (time_t)pick * 86400 * 365,
		.expires_s = (int)pick * 4000 - 1000, /* some out of range */
	};
	/* Names from the input too (bit 2): most are not valid header names. */
	const struct sigv4_pair headers[] = {{pick & 4 ? ff.f[7] : "content-type", ff.f[6]},
					     {"content-length", "42"}};
	const struct sigv4_pair query[] = {{"uploadId", ff.f[7]}, {ff.f[6], "1"}};
	if (pick & 2) {
		p.headers = headers;
		p.nheaders = 2;
		p.query = query;
		p.nquery = pick & 8 ? 2 : 1;
	}
	struct buf canon = BUF_INIT, sts = BUF_INIT;
	sigv4_presign_canonical_request(&p, &canon);
	sigv4_string_to_sign("20240101T000000Z", "20240101/us-east-1/s3/aws4_request",
			     canon.data ? canon.data : "", &sts);
	char *url = sigv4_presign_url(&p);
	if ((p.expires_s >= 1 && p.expires_s <= 604800 && sigv4_presign_valid(&p)) != (url != NULL))
		abort();
	free(url);
	buf_free(&canon);
	buf_free(&sts);
	buf_free(&path);
	fuzz_fields_free(&ff);
	return 0;
}
