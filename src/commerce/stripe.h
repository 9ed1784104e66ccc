/* The Stripe side of payments: a small libcurl client for the form-encoded
 * REST API, and the webhook signature scheme.
 *
 * Thread safety: every call uses its own curl handle and touches no shared
 * state; the caller has run curl_global_init before any thread starts.
 * Nothing here logs or returns the secret key or webhook secret. */
#ifndef CINEMA_COMMERCE_STRIPE_H
#define CINEMA_COMMERCE_STRIPE_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "cinema/buf.h"
#include "cinema/error.h"

struct config;

/* How far a webhook's timestamp may be from now, as Stripe's libraries. */
#define STRIPE_WEBHOOK_TOLERANCE_S 300

/* Appends key=value to an application/x-www-form-urlencoded body, with the
 * value URL-encoded (curl_easy_escape) and the key as given (Stripe's
 * bracket notation, e.g. "line_items[0][quantity]"). */
void stripe_form_add(struct buf *form, const char *key, const char *value);

/* POSTs form to STRIPE_API_BASE + path (e.g. "/v1/refunds") with the secret
 * key as bearer and the given Idempotency-Key, bounded by
 * STRIPE_TIMEOUT_MS. On a 2xx answer with a JSON object body returns ERR_OK
 * and *reply owns it. Otherwise ERR_PAYMENT_PROVIDER_ERROR (Stripe answered
 * 4xx/5xx, or with something that is not JSON) or
 * ERR_PAYMENT_PROVIDER_UNAVAILABLE (no connection, timeout), after logging
 * the HTTP status and Stripe's error type and code. */
enum err stripe_post(const struct config *cfg, const char *path, const struct buf *form,
		     const char *idempotency_key, json_t **reply);

/* What Stripe said when it refused a request (ERR_PAYMENT_PROVIDER_ERROR
 * from an HTTP answer): its status and error.code ("" when none). Both 0/""
 * when there was no answer. */
struct stripe_refusal {
	long status;
	char code[64];
};
/* As stripe_post, for method "POST" or "GET" (form and idempotency_key
 * may be NULL: no body, no Idempotency-Key header); why (may be NULL) gets
 * Stripe's refusal. */
enum err stripe_request(const struct config *cfg, const char *method, const char *path,
			const struct buf *form, const char *idempotency_key, json_t **reply,
			struct stripe_refusal *why);

/* Checks a Stripe-Signature header ("t=<unix>,v1=<hex>[,v1=<hex>...]",
 * other keys ignored) against payload: some v1 must equal
 * hex(HMAC-SHA256(secret, "<t>.<payload>")) (compared in constant time) and
 * |now - t| <= tolerance_s. Returns ERR_OK, ERR_WEBHOOK_SIGNATURE_INVALID
 * (header missing or malformed, no matching signature) or
 * ERR_WEBHOOK_TIMESTAMP_STALE (signature matches, timestamp too far). */
enum err stripe_signature_verify(const char *header, const char *payload, size_t len,
				 const char *secret, time_t now, long tolerance_s);

/* hex(HMAC-SHA256(secret, "<t>.<payload>")) into out (65 bytes): what
 * Stripe puts in v1, for tests and fakes. */
void stripe_signature_compute(const char *secret, long long t, const char *payload, size_t len,
			      char out[65]);

#endif
