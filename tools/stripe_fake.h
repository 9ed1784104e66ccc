/* A Stripe-protocol fake: an HTTP server (on 127.0.0.1 and a free port
 * unless told otherwise) speaking the few endpoints the API uses, the way
 * Stripe speaks them. The end-to-end suites start it inside the test
 * process; cinema-stripe-fake (tools/stripe_fake_main.c) runs it on its own
 * for scripts/run.sh and the browser tests.
 *
 *	POST /v1/checkout/sessions	 creates a Checkout Session (status "open",
 *					 payment_status "unpaid"; url is the
 *					 hosted page below)
 *	GET  /v1/checkout/sessions/{id}	 reads one back as it is now: status
 *					 open/complete/expired, payment_status,
 *					 payment_intent, amount_total, currency,
 *					 client_reference_id, metadata, ...
 *	POST /v1/checkout/sessions/{id}/expire
 *					 an open session becomes "expired" (url
 *					 null) and is answered; any other gets 400
 *					 checkout_session_unexpirable, as from
 *					 Stripe; an unknown one 404
 *	POST /v1/refunds		 refunds a paid session's PaymentIntent
 *					 (400 charge_already_refunded once whole)
 *
 * The hosted checkout page, Stripe's checkout.stripe.com for a browser (no
 * key needed, as there):
 *
 *	GET  /checkout/{id}		 an HTML page with the line items, the
 *					 total and two buttons, "Pay" and "Cancel"
 *					 (an expired or complete session's page
 *					 says so, with a link back to the shop)
 *	POST /checkout/{id}/pay		 what stripe_fake_complete() does (the
 *					 session complete and paid, the signed
 *					 checkout.session.completed event POSTed
 *					 to the webhook URL, retried briefly while
 *					 the API does not answer 2xx), then 303 to
 *					 success_url; a page with the error and a
 *					 "Send the event again" button (POST
 *					 /checkout/{id}/retry) if it never did
 *	POST /checkout/{id}/cancel	 303 to cancel_url; the session stays open
 *
 * In success_url and cancel_url, {CHECKOUT_SESSION_ID} becomes the session
 * id, as at Stripe.
 *
 * Requests need "Authorization: Bearer <secret key>" (else 401 with a
 * Stripe error body). Bodies are application/x-www-form-urlencoded with
 * Stripe's bracket keys, parsed into nested JSON (all values stay strings):
 * line_items[0][price_data][unit_amount]=999 becomes
 * {"line_items": [{"price_data": {"unit_amount": "999"}}]}. A request with
 * an Idempotency-Key already seen on that path gets the first answer again,
 * byte for byte, with "Idempotent-Replayed: true"; the same key with other
 * parameters gets 400 idempotency_error, as from Stripe.
 *
 * Faults: stripe_fake_fail_next() makes the next request fail with a
 * Stripe-like error (before anything is done or remembered: a retry with the
 * same key runs normally); stripe_fake_hang_next() makes the next request do
 * its work (and remember its idempotent answer) but answer only after a
 * delay, as when a client times out on a request that Stripe did carry out.
 * Neither touches the hosted pages, which are not counted as API requests.
 *
 * A session's state changes by the senders below, by the expire endpoint,
 * by the hosted page, or silently (no event: a lost webhook) by
 * stripe_fake_mark_paid(), _mark_expired() and _mark_processing().
 *
 * Webhooks: stripe_fake_complete(), _decline(), _expire() and _refunded()
 * build the event Stripe would send, sign it with the webhook secret
 * (Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>), POST
 * it to the API with libcurl and return the HTTP status; options resend an
 * event already sent (a duplicate delivery), backdate it, spoil the
 * signature or tamper with the amount, currency or order.
 *
 * Each connection is served by its own thread (MHD thread-per-connection),
 * so a hanging answer stalls only its caller; a mutex guards the state, so
 * every function here may be called from any thread. Request bodies are
 * limited to STRIPE_FAKE_BODY_MAX bytes (413 above) and the fake keeps at
 * most STRIPE_FAKE_LOG_MAX requests in its log (the oldest go first).
 *
 * In a test, start it inside the test (check forks each test) and stop it in
 * the same process. Needs curl_global_init() to have run (for the webhook
 * senders and the hosted page's Pay). */
#ifndef CINEMA_STRIPE_FAKE_H
#define CINEMA_STRIPE_FAKE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define STRIPE_FAKE_BODY_MAX (64 * 1024)
#define STRIPE_FAKE_LOG_MAX  256

struct stripe_fake;

struct stripe_fake_config {
	const char *secret_key;	    /* the API key it accepts, e.g. "sk_test_fake" */
	const char *webhook_secret; /* the key its events are signed with, e.g. "whsec_test" */
	const char *host;	    /* an IPv4 address to listen on; NULL: 127.0.0.1 */
	int port;		    /* 0: a free port */
	/* The base of the hosted pages in a session's url, as a browser
	 * reaches the fake; NULL: http://<host>:<port> (127.0.0.1 for a
	 * wildcard host). */
	const char *public_url;
	/* Where the hosted Pay sends its event: the API's base URL or the
	 * webhook endpoint's full URL (as for stripe_fake_complete); NULL:
	 * none until stripe_fake_set_webhook_url (Pay then shows an error). */
	const char *webhook_url;
	/* One line per request (time, method, path, status) and per webhook
	 * delivery of the hosted page; NULL: quiet. Never a key or a body. */
	FILE *log;
	/* The ids it makes (cs_test_<n>, pi_test_<n>, evt_test_<n>,
	 * re_test_<n>) count from n = first_id + 1: a program whose API keeps
	 * its database across restarts starts it high enough (the clock) that
	 * a restarted fake never hands out an id the API has seen. */
	unsigned long long first_id;
};

/* Starts the fake as cfg says (every string is copied). Returns NULL (after
 * printing why to stderr) if the server cannot start. */
struct stripe_fake *stripe_fake_start_with(const struct stripe_fake_config *cfg);
/* stripe_fake_start_with on a free loopback port, quiet, no webhook URL. */
struct stripe_fake *stripe_fake_start(const char *secret_key, const char *webhook_secret);
/* Sets (copies) where the hosted Pay sends its events, for a fake started
 * before the API it talks to. */
void stripe_fake_set_webhook_url(struct stripe_fake *f, const char *url);
/* Stops the server (a hanging answer is cut short), waits for its threads
 * and frees everything. Accepts NULL. */
void stripe_fake_stop(struct stripe_fake *f);

/* "http://127.0.0.1:PORT" (the address it listens on), for STRIPE_API_BASE
 * (borrowed, valid until stop). */
const char *stripe_fake_url(const struct stripe_fake *f);
int stripe_fake_port(const struct stripe_fake *f);

/* --- faults, each for the next request only (any endpoint) --- */

/* The next request answers status (400..599) with a Stripe error body of
 * the matching type (api_error for 5xx, card_error for 402, ...). */
void stripe_fake_fail_next(struct stripe_fake *f, unsigned status);
/* The next request is carried out, then answered after ms milliseconds. */
void stripe_fake_hang_next(struct stripe_fake *f, unsigned ms);

/* --- what the fake saw --- */

struct stripe_fake_counts {
	unsigned requests;	  /* every API request, whatever the answer */
	unsigned unauthorized;	  /* 401: missing or wrong key */
	unsigned invalid;	  /* 400/404/413: bad or unknown parameters */
	unsigned failed;	  /* answered by stripe_fake_fail_next */
	unsigned hung;		  /* delayed by stripe_fake_hang_next */
	unsigned sessions;	  /* Checkout Sessions created */
	unsigned session_replays; /* idempotent replays on /v1/checkout/sessions */
	unsigned refunds;	  /* refunds created */
	unsigned refund_replays;  /* idempotent replays on /v1/refunds */
	unsigned expired;	  /* sessions expired by POST .../expire */
	unsigned webhooks_sent;	  /* events POSTed (deliveries, retries included) */
	unsigned pages;		  /* requests to the hosted pages */
	unsigned hosted_paid;	  /* sessions paid on the hosted page */
	unsigned hosted_canceled; /* Cancel pressed on the hosted page */
};

void stripe_fake_counts(struct stripe_fake *f, struct stripe_fake_counts *out);

/* The last request whose path starts with path_prefix (NULL: any), or NULL
 * if none. Owned; an object:
 *	{"method", "path", "authorization", "idempotency_key", "content_type",
 *	 "body" (raw), "form" (parsed, or null), "status", "replayed" (bool)}
 * with null for an absent header. */
json_t *stripe_fake_last_request(struct stripe_fake *f, const char *path_prefix);
/* The Checkout Session with that id (NULL: the last one created), as the
 * fake holds it, or NULL. Owned. Besides Stripe's fields it carries
 * "form": the parsed request that created it. */
json_t *stripe_fake_session(struct stripe_fake *f, const char *id);
/* Every refund created, oldest first (owned array of Refund objects, each
 * with "idempotency_key" and "authorization" of the request that made it). */
json_t *stripe_fake_refunds(struct stripe_fake *f);

/* --- webhooks --- */

struct stripe_fake_send {
	/* Resend the event already sent with this id, byte for byte (a
	 * duplicate delivery); the other content options are then ignored. */
	const char *resend_event_id;
	bool stale;		/* timestamp 600 s in the past (signed correctly for it) */
	bool bad_signature;	/* signed with another secret */
	bool no_signature;	/* no Stripe-Signature header at all */
	bool several_v1;	/* a wrong v1 (and a v0) before the right one */
	long long amount_delta; /* added to amount_total / amount (tampering) */
	const char *currency;	/* instead of the session's */
	const char *order_id;	/* instead of client_reference_id and metadata.order_id */
	long timeout_ms;	/* of the POST to the API; 0: 30 s */
	/* Out: the id of the event sent (may be NULL). */
	char *event_id_out;
	size_t event_id_out_len;
	/* Out: the API's answer when it is JSON (owned; may be NULL). */
	json_t **response_out;
};

/* api_url: the API's base ("http://127.0.0.1:PORT"); the event goes to
 * api_url + "/api/v1/payments/webhook". opts may be NULL. Each returns the
 * HTTP status of the API's answer, or -1 if the session (payment intent)
 * is unknown or the request could not be made.
 *
 * complete: checkout.session.completed, payment_status "paid"; the session
 *	becomes complete and its PaymentIntent refundable, whatever state it
 *	was in (an expired or expiring session paid all the same: the race
 *	between a payment and an expiry, a stale tab).
 * decline:  checkout.session.async_payment_failed, payment_status "unpaid".
 * expire:   checkout.session.expired; status "expired", url null.
 * refunded: charge.refunded for that PaymentIntent, amount_refunded = the
 *	amount refunded so far (the whole amount if no refund was made). */
long stripe_fake_complete(struct stripe_fake *f, const char *session_id, const char *api_url,
			  const struct stripe_fake_send *opts);
long stripe_fake_decline(struct stripe_fake *f, const char *session_id, const char *api_url,
			 const struct stripe_fake_send *opts);
long stripe_fake_expire(struct stripe_fake *f, const char *session_id, const char *api_url,
			const struct stripe_fake_send *opts);
long stripe_fake_refunded(struct stripe_fake *f, const char *payment_intent, const char *api_url,
			  const struct stripe_fake_send *opts);
/* Any event: type and data.object (consumed). */
long stripe_fake_send_event(struct stripe_fake *f, const char *type, json_t *object,
			    const char *api_url, const struct stripe_fake_send *opts);

/* The session becomes complete and paid (mark_paid), expired
 * (mark_expired), or complete with a delayed payment still being collected
 * (mark_processing: payment_status "unpaid") at the fake with no event
 * sent: what GET answers afterwards. False when the session is unknown. */
bool stripe_fake_mark_paid(struct stripe_fake *f, const char *session_id);
bool stripe_fake_mark_expired(struct stripe_fake *f, const char *session_id);
bool stripe_fake_mark_processing(struct stripe_fake *f, const char *session_id);

/* The Stripe-Signature v1 value: lower-case hex of HMAC-SHA256(secret,
 * "<t>.<body>") into out (65 bytes). */
void stripe_fake_sign(const char *secret, long long t, const char *body, size_t body_len,
		      char out[65]);

#endif
