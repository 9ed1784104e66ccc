#include "storage/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/mem.h"

#define SIGV4_ALGORITHM	  "AWS4-HMAC-SHA256"
#define SIGV4_MAX_EXPIRES 604800 /* a week: S3 refuses longer presigned URLs */

void sigv4_hex(const unsigned char *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(data, len, md);
	sigv4_hex(md, sizeof(md), out);
}

void sigv4_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		       unsigned char out[SIGV4_KEY_LEN])
{
	unsigned int outlen = 0;
	/* Only fails on allocation failure inside OpenSSL; like xmalloc, abort. */
	if (keylen > (size_t)INT_MAX ||
	    !HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) ||
	    outlen != SIGV4_KEY_LEN)
		abort();
}

static void hmac_str(const unsigned char key[SIGV4_KEY_LEN], const char *s,
		     unsigned char out[SIGV4_KEY_LEN])
{
	sigv4_hmac_sha256(key, SIGV4_KEY_LEN, s, strlen(s), out);
}

void sigv4_signing_key(const char *secret, const char *date, const char *region,
		       const char *service, unsigned char out[SIGV4_KEY_LEN])
{
	struct buf k = BUF_INIT;
	unsigned char k_date[SIGV4_KEY_LEN], k_region[SIGV4_KEY_LEN], k_service[SIGV4_KEY_LEN];

	buf_append_str(&k, "AWS4");
	buf_append_str(&k, secret);
	sigv4_hmac_sha256(k.data, k.len, date, strlen(date), k_date);
	hmac_str(k_date, region, k_region);
	hmac_str(k_region, service, k_service);
	hmac_str(k_service, "aws4_request", out);
	/* The secret-derived material should not linger in freed memory. */
	OPENSSL_cleanse(k.data, k.len);
	buf_free(&k);
	OPENSSL_cleanse(k_date, sizeof(k_date));
	OPENSSL_cleanse(k_region, sizeof(k_region));
	OPENSSL_cleanse(k_service, sizeof(k_service));
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

void sigv4_uri_encode(struct buf *out, const char *s, bool keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (is_unreserved(*p) || (keep_slash && *p == '/')) {
			buf_append_char(out, (char)*p);
		} else {
			char esc[3] = {'%', digits[*p >> 4], digits[*p & 0x0f]};
			buf_append(out, esc, sizeof(esc));
		}
	}
}

bool sigv4_amz_date(time_t t, char out[SIGV4_DATE_LEN + 1])
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999)
		return false;
	return strftime(out, SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) == SIGV4_DATE_LEN;
}

/* --- presigning --- */

#define SIGV4_MAX_EXTRA 16 /* extra query parameters, extra signed headers */

/* One query parameter or header, as it goes into the canonical request:
 * query names and values URI-encoded, header names and values as given. */
struct sigv4_entry {
	char *name;
	char *value;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct sigv4_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

static char *encoded(const char *s)
{
	struct buf b = BUF_INIT;
	sigv4_uri_encode(&b, s, false);
	return buf_steal(&b, NULL);
}

static bool is_header_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

static bool is_header_value(const char *s)
{
	size_t n = strlen(s);
	if (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		return false;
	return strpbrk(s, "\r\n") == NULL;
}

bool sigv4_presign_valid(const struct sigv4_presign *p)
{
	if (p->nquery > SIGV4_MAX_EXTRA || p->nheaders > SIGV4_MAX_EXTRA ||
	    (p->nquery && !p->query) || (p->nheaders && !p->headers))
		return false;
	for (size_t i = 0; i < p->nquery; i++)
		if (!p->query[i].name || !*p->query[i].name || !p->query[i].value ||
		    strncmp(p->query[i].name, "X-Amz-", 6) == 0)
			return false;
	for (size_t i = 0; i < p->nheaders; i++) {
		const struct sigv4_pair *h = &p->headers[i];
		if (!h->name || !h->value || !is_header_name(h->name) ||
		    strcmp(h->name, "host") == 0 || !is_header_value(h->value))
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->headers[j].name, h->name) == 0)
				return false;
	}
	return true;
}

static int pair_cmp(const void *a, const void *b)
{
	const struct sigv4_pair *x = a, *y = b;
	return strcmp(x->name, y->name); /* names are unique */
}

/* The signed headers of p, host among them, sorted by name. Returns their
 * count. */
static size_t signed_headers(const struct sigv4_presign *p, struct sigv4_pair *out)
{
	size_t n = 0;
	out[n++] = (struct sigv4_pair){"host", p->host};
	for (size_t i = 0; i < p->nheaders; i++)
		out[n++] = p->headers[i];
	qsort(out, n, sizeof(*out), pair_cmp);
	return n;
}

/* The canonical query string of p: every parameter but the signature,
 * encoded, sorted by name (then value), joined by '&'. */
static void canonical_query(const struct sigv4_presign *p, const char *amz_date, const char *scope,
			    struct buf *out)
{
	struct sigv4_pair hdrs[SIGV4_MAX_EXTRA + 1];
	struct sigv4_entry params[SIGV4_MAX_EXTRA + 5];
	struct buf credential = BUF_INIT, names = BUF_INIT, num = BUF_INIT;
	size_t nh = signed_headers(p, hdrs), n = 0;

	buf_printf(&credential, "%s/%s", p->access_key, scope);
	for (size_t i = 0; i < nh; i++)
		buf_printf(&names, "%s%s", i ? ";" : "", hdrs[i].name);
	buf_printf(&num, "%d", p->expires_s);

	params[n++] = (struct sigv4_entry){xstrdup("X-Amz-Algorithm"), xstrdup(SIGV4_ALGORITHM)};
	params[n++] = (struct sigv4_entry){xstrdup("X-Amz-Credential"), encoded(credential.data)};
	params[n++] = (struct sigv4_entry){xstrdup("X-Amz-Date"), xstrdup(amz_date)};
	params[n++] = (struct sigv4_entry){xstrdup("X-Amz-Expires"), xstrdup(num.data)};
	params[n++] = (struct sigv4_entry){xstrdup("X-Amz-SignedHeaders"), encoded(names.data)};
	for (size_t i = 0; i < p->nquery; i++)
		params[n++] =
			(struct sigv4_entry){encoded(p->query[i].name), encoded(p->query[i].value)};
	qsort(params, n, sizeof(*params), entry_cmp);
	for (size_t i = 0; i < n; i++) {
		buf_printf(out, "%s%s=%s", i ? "&" : "", params[i].name, params[i].value);
		free(params[i].name);
		free(params[i].value);
	}
	buf_free(&credential);
	buf_free(&names);
	buf_free(&num);
}

static void presign_scope(const struct sigv4_presign *p, const char *amz_date, struct buf *out)
{
	buf_printf(out, "%.8s/%s/%s/aws4_request", amz_date, p->region, p->service);
}

static void canonical_request(const struct sigv4_presign *p, const char *amz_date,
			      const char *scope, struct buf *out)
{
	struct sigv4_pair hdrs[SIGV4_MAX_EXTRA + 1];
	size_t nh = signed_headers(p, hdrs);

	buf_printf(out, "%s\n%s\n", p->method, p->path);
	canonical_query(p, amz_date, scope, out);
	buf_append_char(out, '\n');
	for (size_t i = 0; i < nh; i++)
		buf_printf(out, "%s:%s\n", hdrs[i].name, hdrs[i].value);
	buf_append_char(out, '\n');
	for (size_t i = 0; i < nh; i++)
		buf_printf(out, "%s%s", i ? ";" : "", hdrs[i].name);
	buf_append_str(out, "\nUNSIGNED-PAYLOAD");
}

void sigv4_presign_canonical_request(const struct sigv4_presign *p, struct buf *out)
{
	char amz_date[SIGV4_DATE_LEN + 1] = "";
	struct buf scope = BUF_INIT;
	if (!sigv4_presign_valid(p))
		return;
	sigv4_amz_date(p->now, amz_date);
	presign_scope(p, amz_date, &scope);
	canonical_request(p, amz_date, scope.data, out);
	buf_free(&scope);
}

void sigv4_string_to_sign(const char *amz_date, const char *scope, const char *canonical_request,
			  struct buf *out)
{
	char hash[SIGV4_HEX_LEN + 1];
	sigv4_sha256_hex(canonical_request, strlen(canonical_request), hash);
	buf_printf(out, SIGV4_ALGORITHM "\n%s\n%s\n%s", amz_date, scope, hash);
}

char *sigv4_presign_url(const struct sigv4_presign *p)
{
	char amz_date[SIGV4_DATE_LEN + 1], date[9], sig_hex[SIGV4_HEX_LEN + 1];
	unsigned char key[SIGV4_KEY_LEN], sig[SIGV4_KEY_LEN];
	struct buf scope = BUF_INIT, creq = BUF_INIT, sts = BUF_INIT, url = BUF_INIT;

	if (p->expires_s < 1 || p->expires_s > SIGV4_MAX_EXPIRES ||
	    !sigv4_amz_date(p->now, amz_date) || !sigv4_presign_valid(p))
		return NULL;
	memcpy(date, amz_date, 8);
	date[8] = '\0';

	presign_scope(p, amz_date, &scope);
	canonical_request(p, amz_date, scope.data, &creq);
	sigv4_string_to_sign(amz_date, scope.data, creq.data, &sts);
	sigv4_signing_key(p->secret_key, date, p->region, p->service, key);
	sigv4_hmac_sha256(key, sizeof(key), sts.data, sts.len, sig);
	OPENSSL_cleanse(key, sizeof(key));
	sigv4_hex(sig, sizeof(sig), sig_hex);

	buf_printf(&url, "%s://%s%s?", p->scheme, p->host, p->path);
	canonical_query(p, amz_date, scope.data, &url);
	buf_printf(&url, "&X-Amz-Signature=%s", sig_hex);

	buf_free(&scope);
	buf_free(&creq);
	buf_free(&sts);
	return buf_steal(&url, NULL);
}
