#include "commerce/stripe.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/config.h"
#include "cinema/log.h"
#include "cinema/mem.h"

#define STRIPE_MAX_REPLY	  (1024 * 1024) /* a Checkout Session is a few KiB */
#define STRIPE_CONNECT_TIMEOUT_MS 5000
#define STRIPE_SIG_HEADER_MAX	  4096

/* ---- the REST client ---- */

void stripe_form_add(struct buf *form, const char *key, const char *value)
{
	/* Since curl 7.82 the handle argument is ignored; we need 7.88. */
	char *esc = curl_easy_escape(NULL, value, 0);
	if (!esc)
		abort(); /* out of memory */
	if (form->len)
		buf_append_char(form, '&');
	buf_append_str(form, key);
	buf_append_char(form, '=');
	buf_append_str(form, esc);
	curl_free(esc);
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb;
	if (b->len + n > STRIPE_MAX_REPLY)
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	buf_append(b, ptr, n);
	return n;
}

static struct curl_slist *header_add(struct curl_slist *l, const char *line)
{
	struct curl_slist *n = curl_slist_append(l, line);
	if (!n)
		abort(); /* out of memory */
	return n;
}

/* Logs what Stripe said about a refused request: its error type and code
 * (never the message, which may quote parts of the key), and keeps the
 * status and code for the caller. */
static void log_refusal(const char *path, long status, const struct buf *body,
			struct stripe_refusal *why)
{
	json_t *root = body->len ? json_loadb(body->data, body->len, 0, NULL) : NULL;
	json_t *e = json_object_get(root, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	LOG_WARN("stripe refused the request", LOG_STR("path", path), LOG_INT("status", status),
		 LOG_STR("type", json_string_value(json_object_get(e, "type"))),
		 LOG_STR("code", code));
	if (why) {
		why->status = status;
		snprintf(why->code, sizeof(why->code), "%s", code ? code : "");
	}
	json_decref(root);
}

enum err stripe_post(const struct config *cfg, const char *path, const struct buf *form,
		     const char *idempotency_key, json_t **reply)
{
	return stripe_request(cfg, "POST", path, form, idempotency_key, reply, NULL);
}

enum err stripe_request(const struct config *cfg, const char *method, const char *path,
			const struct buf *form, const char *idempotency_key, json_t **reply,
			struct stripe_refusal *why)
{
	CURL *h = NULL;
	struct curl_slist *headers = NULL;
	struct buf url = BUF_INIT, line = BUF_INIT, body = BUF_INIT;
	enum err rc = ERR_PAYMENT_PROVIDER_UNAVAILABLE;
	long status = 0;
	long timeout = cfg->stripe_timeout_ms;
	bool post = strcmp(method, "POST") == 0;

	*reply = NULL;
	if (why)
		memset(why, 0, sizeof(*why));
	h = curl_easy_init();
	if (!h) {
		rc = ERR_INTERNAL;
		goto out;
	}
	buf_append_str(&url, cfg->stripe_api_base);
	while (url.len && url.data[url.len - 1] == '/')
		url.data[--url.len] = '\0';
	buf_append_str(&url, path);

	buf_printf(&line, "Authorization: Bearer %s", cfg->stripe_secret_key);
	headers = header_add(headers, line.data);
	explicit_bzero(line.data, line.len); /* the key lives on only in curl's copy */
	buf_reset(&line);
	headers = header_add(headers, "Accept: application/json");
	if (post) {
		headers = header_add(headers, "Content-Type: application/x-www-form-urlencoded");
		headers = header_add(headers, "Expect:"); /* no 100-continue round trip */
	}
	if (idempotency_key) {
		buf_printf(&line, "Idempotency-Key: %s", idempotency_key);
		headers = header_add(headers, line.data);
	}

	curl_easy_setopt(h, CURLOPT_URL, url.data);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	if (post) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, form && form->data ? form->data : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(form ? form->len : 0));
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(h, CURLOPT_USERAGENT, "cinema-api");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout < STRIPE_CONNECT_TIMEOUT_MS ? timeout : STRIPE_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);

	CURLcode cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		/* A reply too large to keep is Stripe misbehaving, not unreachable. */
		rc = cc == CURLE_WRITE_ERROR ? ERR_PAYMENT_PROVIDER_ERROR
					     : ERR_PAYMENT_PROVIDER_UNAVAILABLE;
		LOG_WARN("stripe request failed", LOG_STR("path", path),
			 LOG_STR("error", curl_easy_strerror(cc)));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		log_refusal(path, status, &body, why);
		rc = ERR_PAYMENT_PROVIDER_ERROR;
		goto out;
	}
	*reply = body.len ? json_loadb(body.data, body.len, 0, NULL) : NULL;
	if (!json_is_object(*reply)) {
		json_decref(*reply);
		*reply = NULL;
		LOG_WARN("stripe answered with something other than a JSON object",
			 LOG_STR("path", path), LOG_INT("status", status));
		rc = ERR_PAYMENT_PROVIDER_ERROR;
		goto out;
	}
	rc = ERR_OK;
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	buf_free(&url);
	buf_free(&line);
	buf_free(&body);
	return rc;
}

/* ---- webhook signatures ---- */

static void hmac_hex(const char *secret, const char *t, size_t tlen, const char *payload,
		     size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	struct buf signed_payload = BUF_INIT;
	buf_append(&signed_payload, t, tlen);
	buf_append_char(&signed_payload, '.');
	buf_append(&signed_payload, payload, len);
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret),
		  (const unsigned char *)signed_payload.data, signed_payload.len, md, &mdlen))
		abort(); /* only on out of memory */
	buf_free(&signed_payload);
	for (unsigned i = 0; i < mdlen && i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

void stripe_signature_compute(const char *secret, long long t, const char *payload, size_t len,
			      char out[65])
{
	char ts[24];
	int n = snprintf(ts, sizeof(ts), "%lld", t);
	hmac_hex(secret, ts, (size_t)n, payload, len, out);
}

enum err stripe_signature_verify(const char *header, const char *payload, size_t len,
				 const char *secret, time_t now, long tolerance_s)
{
	const char *t = NULL;
	size_t tlen = 0;
	long long ts = 0;
	bool any_v1 = false, match = false;
	char expected[65];

	if (!header || !secret || !*secret || strlen(header) > STRIPE_SIG_HEADER_MAX)
		return ERR_WEBHOOK_SIGNATURE_INVALID;
	/* The timestamp first: the signed payload starts with it. */
	for (const char *p = header; *p;) {
		size_t n = strcspn(p, ",");
		while (n && *p == ' ') {
			p++;
			n--;
		}
		if (n > 2 && strncmp(p, "t=", 2) == 0 && !t) {
			t = p + 2;
			tlen = n - 2;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	while (t && tlen && t[tlen - 1] == ' ')
		tlen--;
	if (!t || tlen == 0 || tlen > 18 || strspn(t, "0123456789") < tlen)
		return ERR_WEBHOOK_SIGNATURE_INVALID;
	for (size_t i = 0; i < tlen; i++)
		ts = ts * 10 + (t[i] - '0');

	hmac_hex(secret, t, tlen, payload, len, expected);
	for (const char *p = header; *p;) {
		size_t n = strcspn(p, ",");
		while (n && *p == ' ') {
			p++;
			n--;
		}
		while (n && p[n - 1] == ' ')
			n--;
		if (n > 3 && strncmp(p, "v1=", 3) == 0) {
			any_v1 = true;
			/* Every candidate is compared, in constant time each. */
			if (n - 3 == 64 && CRYPTO_memcmp(p + 3, expected, 64) == 0)
				match = true;
		}
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	if (!any_v1 || !match)
		return ERR_WEBHOOK_SIGNATURE_INVALID;
	long long diff = (long long)now - ts;
	if (diff > tolerance_s || diff < -tolerance_s)
		return ERR_WEBHOOK_TIMESTAMP_STALE;
	return ERR_OK;
}
