/* A Stripe-protocol fake with a hosted checkout page (see stripe_fake.h). */
#include "stripe_fake.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "cinema/buf.h"

#define FORM_PAIRS_MAX	512	   /* key=value pairs in one body */
#define FORM_DEPTH_MAX	8	   /* bracket levels in one key */
#define FORM_INDEX_MAX	99	   /* highest array index */
#define AMOUNT_MAX	99999999LL /* Stripe's largest amount, in cents */
#define QUANTITY_MAX	1000LL
#define CONNECTIONS_MAX 64
#define SESSION_PREFIX	"/v1/checkout/sessions"
#define REFUNDS_PATH	"/v1/refunds"
#define EXPIRE_SUFFIX	"/expire"
#define HOSTED_PREFIX	"/checkout/"
#define SESSION_ID_MAX	127
#define WEBHOOK_PATH	"/api/v1/payments/webhook"
#define WRONG_SECRET	"whsec_not_the_right_one"
#define STALE_SECONDS	600
#define WEBHOOK_TIMEOUT 30L

struct stripe_fake {
	struct MHD_Daemon *daemon;
	int port;
	char url[64];	  /* where it listens */
	char *public_url; /* the base of the hosted pages, no trailing '/' */
	char *secret_key;
	char *webhook_secret;
	FILE *log;	   /* NULL: quiet */
	char *webhook_url; /* guarded by lock; NULL until set */
	char csp[256];	   /* of the hosted pages */

	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t wake;  /* signalled on stop: hanging answers end */
	bool stopping;
	unsigned fail_next;
	unsigned hang_next_ms;
	unsigned long long seq;		 /* ids: cs_test_<n>, re_test_<n>, evt_test_<n> */
	unsigned long long requests_seq; /* Request-Id: req_test_<n> */
	struct stripe_fake_counts counts;
	/* id -> {"session": Session, "form": parsed request, "refunded": cents,
	 * and once paid on the hosted page "paying": true, "event_id"} */
	json_t *sessions;
	char last_session[64];
	/* "<path> <key>" -> {"form", "status", "body"} */
	json_t *idempotent;
	json_t *refunds;     /* array of Refund objects */
	json_t *log_entries; /* array of requests, at most STRIPE_FAKE_LOG_MAX */
	json_t *events;	     /* event id -> the body sent */
};

/* What the fake collects while a request's body arrives. */
struct request_ctx {
	struct buf body;
	bool too_big;
};

/* An answer decided under the lock, sent after it is released. */
struct answer {
	unsigned status;
	char *body;	/* owned */
	bool html;	/* a hosted page: text/html */
	char *location; /* owned; a redirect's Location */
	bool replayed;
	bool unauthorized;
	unsigned delay_ms;
	char request_id[32];
};

static long long unix_now(void)
{
	return (long long)time(NULL);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d) {
		fprintf(stderr, "stripe_fake: out of memory\n");
		abort();
	}
	return d;
}

/* --- Stripe-shaped JSON --- */

static char *dump(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!s) {
		fprintf(stderr, "stripe_fake: cannot serialise JSON\n");
		abort();
	}
	return s;
}

/* {"error": {"type", "message", "code"?, "param"?}} */
static void error_answer(struct answer *a, unsigned status, const char *type, const char *code,
			 const char *param, const char *message)
{
	json_t *e = json_pack("{s:s,s:s}", "type", type, "message", message);
	if (code)
		json_object_set_new(e, "code", json_string(code));
	if (param)
		json_object_set_new(e, "param", json_string(param));
	json_t *root = json_pack("{s:o}", "error", e);
	a->status = status;
	a->body = dump(root);
	json_decref(root);
}

static void json_answer(struct answer *a, unsigned status, const json_t *j)
{
	a->status = status;
	a->body = dump(j);
}

/* --- application/x-www-form-urlencoded with Stripe's bracket keys --- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) ('+' is a space, %XX a byte) into an owned string; NULL
 * on a bad escape or an embedded NUL. */
static char *url_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

static bool is_index(const char *s)
{
	if (!*s)
		return true; /* "[]": append */
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return strlen(s) <= 2;
}

/* Splits key "a[b][0][c]" into segments a, b, 0, c (pointers into key,
 * which is modified). Returns the count, or 0 if malformed. */
static size_t key_segments(char *key, char **seg)
{
	size_t n = 0;
	char *open = strchr(key, '[');
	if (open == key)
		return 0;
	seg[n++] = key;
	while (open) {
		if (n == FORM_DEPTH_MAX)
			return 0;
		*open = '\0';
		char *close = strchr(open + 1, ']');
		if (!close || memchr(open + 1, '[', (size_t)(close - open - 1)))
			return 0;
		*close = '\0';
		seg[n++] = open + 1;
		if (close[1] != '\0' && close[1] != '[')
			return 0;
		open = close[1] == '[' ? close + 1 : NULL;
	}
	return n;
}

/* Puts value at the path seg[0..n) under root, creating objects, and arrays
 * where the next segment is an index. False (err set) on a conflict. */
static bool form_put(json_t *root, char **seg, size_t n, const char *value, const char **err)
{
	json_t *cur = root;
	for (size_t i = 0; i < n; i++) {
		bool last = i + 1 == n;
		bool next_index = !last && is_index(seg[i + 1]);
		json_t *child = NULL;
		if (json_is_object(cur)) {
			child = json_object_get(cur, seg[i]);
			if (child && last) {
				*err = "a parameter was given twice";
				return false;
			}
			if (!child) {
				child = last	     ? json_string(value)
					: next_index ? json_array()
						     : json_object();
				if (!child || json_object_set_new(cur, seg[i], child) != 0) {
					*err = "a value is not valid UTF-8";
					return false;
				}
			}
		} else {
			size_t size = json_array_size(cur);
			size_t idx = seg[i][0] ? (size_t)strtoul(seg[i], NULL, 10) : size;
			if (idx > FORM_INDEX_MAX || idx > size) {
				*err = "array indexes must start at 0 and follow each other";
				return false;
			}
			if (idx < size) {
				child = json_array_get(cur, idx);
				if (last) {
					*err = "a parameter was given twice";
					return false;
				}
			} else {
				child = last	     ? json_string(value)
					: next_index ? json_array()
						     : json_object();
				if (!child || json_array_append_new(cur, child) != 0) {
					*err = "a value is not valid UTF-8";
					return false;
				}
			}
		}
		if (!last && (next_index ? !json_is_array(child) : !json_is_object(child))) {
			*err = "a parameter is used both as a hash and as an array or value";
			return false;
		}
		cur = child;
	}
	return true;
}

/* Parses a form body into an owned object; NULL with err set when bad. */
static json_t *form_parse(const char *body, size_t len, const char **err)
{
	json_t *root = json_object();
	size_t pairs = 0;
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if (stop > p) {
			const char *eq = memchr(p, '=', (size_t)(stop - p));
			const char *kend = eq ? eq : stop;
			char *key = url_decode(p, (size_t)(kend - p));
			char *val = eq ? url_decode(eq + 1, (size_t)(stop - eq - 1)) : xstrdup("");
			char *seg[FORM_DEPTH_MAX];
			size_t n = key && val ? key_segments(key, seg) : 0;
			bool ok = n > 0 && ++pairs <= FORM_PAIRS_MAX;
			if (!ok)
				*err = !key || !val ? "bad percent-encoding"
						    : "malformed parameter name";
			else
				ok = form_put(root, seg, n, val, err);
			free(key);
			free(val);
			if (!ok) {
				json_decref(root);
				return NULL;
			}
		}
		p = stop + 1;
	}
	return root;
}

/* A non-negative integer parameter no larger than max; -1 if absent or bad. */
static long long form_int(const json_t *obj, const char *key, long long max)
{
	const char *s = json_string_value(json_object_get(obj, key));
	if (!s || !*s || strlen(s) > 12)
		return -1;
	for (const char *c = s; *c; c++)
		if (*c < '0' || *c > '9')
			return -1;
	long long v = strtoll(s, NULL, 10);
	return v <= max ? v : -1;
}

static const char *form_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* --- the endpoints (called with the lock held) --- */

static void missing(struct answer *a, const char *param)
{
	char msg[160];
	snprintf(msg, sizeof(msg), "Missing required param: %s.", param);
	error_answer(a, 400, "invalid_request_error", "parameter_missing", param, msg);
}

static void invalid(struct answer *a, const char *param, const char *why)
{
	char msg[200];
	snprintf(msg, sizeof(msg), "Invalid %s: %s.", param, why);
	error_answer(a, 400, "invalid_request_error", "parameter_invalid", param, msg);
}

/* Checks line_items and sums them; false after answering 400. */
static bool line_items_total(struct answer *a, const json_t *form, long long *total,
			     const char **currency)
{
	json_t *items = json_object_get(form, "line_items");
	json_t *item;
	size_t i;
	char param[96];
	*total = 0;
	*currency = NULL;
	if (!items) {
		missing(a, "line_items");
		return false;
	}
	if (!json_is_array(items) || json_array_size(items) == 0) {
		invalid(a, "line_items", "must be a non-empty array");
		return false;
	}
	json_array_foreach (items, i, item) {
		if (!json_is_object(item)) {
			snprintf(param, sizeof(param), "line_items[%zu]", i);
			invalid(a, param, "must be a hash");
			return false;
		}
		json_t *pd = json_object_get(item, "price_data");
		json_t *prod = json_object_get(pd, "product_data");
		long long qty = form_int(item, "quantity", QUANTITY_MAX);
		long long unit = form_int(pd, "unit_amount", AMOUNT_MAX);
		const char *cur = form_str(pd, "currency");
		const char *name = form_str(prod, "name");
		snprintf(param, sizeof(param), "line_items[%zu][quantity]", i);
		if (!json_object_get(item, "quantity")) {
			missing(a, param);
			return false;
		}
		if (qty < 1) {
			invalid(a, param, "must be a positive integer");
			return false;
		}
		snprintf(param, sizeof(param), "line_items[%zu][price_data]", i);
		if (!json_is_object(pd)) {
			missing(a, param); /* no price id either: price_data is required */
			return false;
		}
		snprintf(param, sizeof(param), "line_items[%zu][price_data][currency]", i);
		if (!cur || strlen(cur) != 3) {
			cur ? invalid(a, param, "must be a three-letter ISO code")
			    : missing(a, param);
			return false;
		}
		if (*currency && strcmp(*currency, cur) != 0) {
			invalid(a, param, "all line items must have the same currency");
			return false;
		}
		*currency = cur;
		snprintf(param, sizeof(param), "line_items[%zu][price_data][unit_amount]", i);
		if (unit < 0) {
			json_object_get(pd, "unit_amount")
				? invalid(a, param, "must be an integer from 0 to 99999999")
				: missing(a, param);
			return false;
		}
		snprintf(param, sizeof(param), "line_items[%zu][price_data][product_data][name]",
			 i);
		if (!name || !*name) {
			missing(a, param);
			return false;
		}
		*total += unit * qty;
		if (*total > AMOUNT_MAX) {
			invalid(a, "line_items", "the total is above 99999999");
			return false;
		}
	}
	return true;
}

static void create_session(struct stripe_fake *f, const json_t *form, struct answer *a)
{
	long long total;
	const char *currency;
	const char *mode = form_str(form, "mode");
	json_t *metadata = json_object_get(form, "metadata");
	if (!mode) {
		missing(a, "mode");
		return;
	}
	if (strcmp(mode, "payment") != 0) {
		invalid(a, "mode", "this fake only knows mode=payment");
		return;
	}
	if (!form_str(form, "success_url")) {
		missing(a, "success_url");
		return;
	}
	if (metadata && !json_is_object(metadata)) {
		invalid(a, "metadata", "must be a hash");
		return;
	}
	if (!line_items_total(a, form, &total, &currency))
		return;

	unsigned long long n = ++f->seq;
	char id[48], url[600], pi[48];
	snprintf(id, sizeof(id), "cs_test_%llu", n);
	snprintf(url, sizeof(url), "%s" HOSTED_PREFIX "%s", f->public_url, id);
	snprintf(pi, sizeof(pi), "pi_test_%llu", n);
	long long now = unix_now();
	json_t *s = json_pack(
		"{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:O?,s:O?,s:o,s:s,s:O?,s:O?,s:I,s:I,s:b}",
		"id", id, "object", "checkout.session", "url", url, "mode", mode, "status", "open",
		"payment_status", "unpaid", "amount_subtotal", (json_int_t)total, "amount_total",
		(json_int_t)total, "currency", currency, "client_reference_id",
		json_object_get(form, "client_reference_id"), "customer_email",
		json_object_get(form, "customer_email"), "metadata",
		metadata ? json_deep_copy(metadata) : json_object(), "payment_intent", pi,
		"success_url", json_object_get(form, "success_url"), "cancel_url",
		json_object_get(form, "cancel_url"), "created", (json_int_t)now, "expires_at",
		(json_int_t)(now + 86400), "livemode", 0);
	json_object_set_new(
		f->sessions, id,
		json_pack("{s:O,s:O,s:I}", "session", s, "form", form, "refunded", (json_int_t)0));
	snprintf(f->last_session, sizeof(f->last_session), "%s", id);
	f->counts.sessions++;
	json_answer(a, 200, s);
	json_decref(s);
}

static void get_session(struct stripe_fake *f, const char *id, struct answer *a)
{
	json_t *rec = json_object_get(f->sessions, id);
	if (!rec) {
		char msg[200];
		snprintf(msg, sizeof(msg), "No such checkout.session: '%.120s'", id);
		error_answer(a, 404, "invalid_request_error", "resource_missing", "id", msg);
		return;
	}
	json_answer(a, 200, json_object_get(rec, "session"));
}

/* POST /v1/checkout/sessions/{id}/expire: only an open session expires. */
static void expire_session(struct stripe_fake *f, const char *id, struct answer *a)
{
	json_t *rec = json_object_get(f->sessions, id);
	json_t *s = json_object_get(rec, "session");
	if (!s) {
		char msg[200];
		snprintf(msg, sizeof(msg), "No such checkout.session: '%.120s'", id);
		error_answer(a, 404, "invalid_request_error", "resource_missing", "session", msg);
		return;
	}
	const char *status = form_str(s, "status");
	if (strcmp(status, "open") != 0) {
		char msg[200];
		snprintf(msg, sizeof(msg),
			 "This Checkout Session is %.20s; only a session in one of these "
			 "statuses can be expired: open.",
			 status);
		error_answer(a, 400, "invalid_request_error", "checkout_session_unexpirable", NULL,
			     msg);
		return;
	}
	json_object_set_new(s, "status", json_string("expired"));
	json_object_set_new(s, "url", json_null());
	f->counts.expired++;
	json_answer(a, 200, s);
}

/* The session record whose PaymentIntent is pi, or NULL. */
static json_t *record_by_intent(struct stripe_fake *f, const char *pi)
{
	const char *key;
	json_t *rec;
	json_object_foreach (f->sessions, key, rec) {
		const char *p = form_str(json_object_get(rec, "session"), "payment_intent");
		if (p && pi && strcmp(p, pi) == 0)
			return rec;
	}
	return NULL;
}

static void create_refund(struct stripe_fake *f, const json_t *form, const char *auth,
			  const char *key, struct answer *a)
{
	const char *pi = form_str(form, "payment_intent");
	if (!pi) {
		missing(a, "payment_intent");
		return;
	}
	json_t *rec = record_by_intent(f, pi);
	if (!rec) {
		char msg[200];
		snprintf(msg, sizeof(msg), "No such payment_intent: '%.120s'", pi);
		error_answer(a, 400, "invalid_request_error", "resource_missing", "payment_intent",
			     msg);
		return;
	}
	json_t *s = json_object_get(rec, "session");
	if (strcmp(form_str(s, "payment_status"), "paid") != 0) {
		error_answer(a, 400, "invalid_request_error", "payment_intent_unexpected_state",
			     "payment_intent",
			     "This PaymentIntent has no successful charge to refund.");
		return;
	}
	long long total = json_integer_value(json_object_get(s, "amount_total"));
	long long done = json_integer_value(json_object_get(rec, "refunded"));
	long long amount = total - done;
	if (json_object_get(form, "amount")) {
		amount = form_int(form, "amount", AMOUNT_MAX);
		if (amount < 1) {
			invalid(a, "amount", "must be a positive integer");
			return;
		}
	}
	if (total == done) {
		error_answer(a, 400, "invalid_request_error", "charge_already_refunded", NULL,
			     "Charge has already been refunded.");
		return;
	}
	if (amount > total - done) {
		error_answer(a, 400, "invalid_request_error", "amount_too_large", "amount",
			     "Refund amount is greater than the unrefunded amount.");
		return;
	}
	unsigned long long n = ++f->seq;
	char id[48], charge[48];
	snprintf(id, sizeof(id), "re_test_%llu", n);
	snprintf(charge, sizeof(charge), "ch_%s", pi + 3);
	json_t *metadata = json_object_get(form, "metadata");
	json_t *r = json_pack("{s:s,s:s,s:I,s:O,s:s,s:s,s:s,s:I,s:o}", "id", id, "object", "refund",
			      "amount", (json_int_t)amount, "currency",
			      json_object_get(s, "currency"), "payment_intent", pi, "charge",
			      charge, "status", "succeeded", "created", (json_int_t)unix_now(),
			      "metadata", metadata ? json_deep_copy(metadata) : json_object());
	json_object_set_new(rec, "refunded", json_integer(done + amount));
	json_t *kept = json_deep_copy(r);
	json_object_set_new(kept, "idempotency_key", key ? json_string(key) : json_null());
	json_object_set_new(kept, "authorization", auth ? json_string(auth) : json_null());
	json_array_append_new(f->refunds, kept);
	f->counts.refunds++;
	json_answer(a, 200, r);
	json_decref(r);
}

static void fail_answer(struct answer *a, unsigned status)
{
	const char *type = "invalid_request_error", *code = NULL;
	if (status >= 500) {
		type = "api_error";
	} else if (status == 402) {
		type = "card_error";
		code = "card_declined";
	} else if (status == 429) {
		type = "rate_limit_error";
		code = "rate_limit";
	} else if (status == 409) {
		code = "lock_timeout";
	}
	error_answer(a, status, type, code, NULL,
		     "An error injected by the test (stripe_fake_fail_next).");
}

static void log_request(struct stripe_fake *f, const char *method, const char *path,
			const char *auth, const char *key, const char *ctype, const struct buf *b,
			const json_t *form, const struct answer *a)
{
	json_t *entry = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:s%,s:O?,s:i,s:b}", "method", method,
				  "path", path, "authorization", auth, "idempotency_key", key,
				  "content_type", ctype, "body", b->data ? b->data : "", b->len,
				  "form", form, "status", (int)a->status, "replayed", a->replayed);
	if (!entry) /* a body that is not UTF-8: keep the rest */
		entry = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:n,s:O?,s:i,s:b}", "method", method,
				  "path", path, "authorization", auth, "idempotency_key", key,
				  "content_type", ctype, "body", "form", form, "status",
				  (int)a->status, "replayed", a->replayed);
	if (json_array_size(f->log_entries) >= STRIPE_FAKE_LOG_MAX)
		json_array_remove(f->log_entries, 0);
	json_array_append_new(f->log_entries, entry);
}

/* Decides the answer to a complete request. */
static void handle(struct stripe_fake *f, struct MHD_Connection *conn, const char *method,
		   const char *path, struct request_ctx *rc, struct answer *a)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key");
	const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	bool post = strcmp(method, "POST") == 0;
	bool is_sessions = strcmp(path, SESSION_PREFIX) == 0;
	bool is_refunds = strcmp(path, REFUNDS_PATH) == 0;
	bool is_session = strncmp(path, SESSION_PREFIX "/", sizeof(SESSION_PREFIX)) == 0 &&
			  path[sizeof(SESSION_PREFIX)] != '\0' &&
			  !strchr(path + sizeof(SESSION_PREFIX), '/');
	/* /v1/checkout/sessions/{id}/expire */
	const char *slash = strncmp(path, SESSION_PREFIX "/", sizeof(SESSION_PREFIX)) == 0
				    ? strchr(path + sizeof(SESSION_PREFIX), '/')
				    : NULL;
	bool is_expire =
		slash && slash > path + sizeof(SESSION_PREFIX) && strcmp(slash, EXPIRE_SUFFIX) == 0;
	char expire_id[128] = "";
	if (is_expire)
		snprintf(expire_id, sizeof(expire_id), "%.*s",
			 (int)(slash - (path + sizeof(SESSION_PREFIX))),
			 path + sizeof(SESSION_PREFIX));
	json_t *form = NULL;
	char expected[512];
	snprintf(expected, sizeof(expected), "Bearer %s", f->secret_key);

	pthread_mutex_lock(&f->lock);
	f->counts.requests++;
	snprintf(a->request_id, sizeof(a->request_id), "req_test_%llu", ++f->requests_seq);
	if (f->fail_next) {
		fail_answer(a, f->fail_next);
		f->fail_next = 0;
		f->counts.failed++;
		goto out;
	}
	a->delay_ms = f->hang_next_ms;
	f->hang_next_ms = 0;
	if (a->delay_ms)
		f->counts.hung++;

	if (!auth || strcmp(auth, expected) != 0) {
		a->unauthorized = true;
		f->counts.unauthorized++;
		if (!auth)
			error_answer(a, 401, "invalid_request_error", NULL, NULL,
				     "You did not provide an API key. You need to provide your "
				     "API key in the Authorization header, using Bearer auth "
				     "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY').");
		else
			error_answer(a, 401, "invalid_request_error", NULL, NULL,
				     "Invalid API Key provided.");
		goto out;
	}
	if (rc->too_big) {
		f->counts.invalid++;
		error_answer(a, 413, "invalid_request_error", NULL, NULL,
			     "The request body is too large.");
		goto out;
	}
	if (post && (is_sessions || is_refunds || is_expire)) {
		const char *err = "malformed body";
		if (rc->body.len &&
		    (!ctype || strncmp(ctype, "application/x-www-form-urlencoded", 33) != 0)) {
			f->counts.invalid++;
			error_answer(a, 400, "invalid_request_error", NULL, NULL,
				     "Content-Type must be application/x-www-form-urlencoded.");
			goto out;
		}
		form = form_parse(rc->body.data ? rc->body.data : "", rc->body.len, &err);
		if (!form) {
			char msg[200];
			f->counts.invalid++;
			snprintf(msg, sizeof(msg), "Invalid request body: %s.", err);
			error_answer(a, 400, "invalid_request_error", "parameter_invalid", NULL,
				     msg);
			goto out;
		}
		char ikey[1024] = "";
		json_t *prev = NULL;
		if (key) {
			snprintf(ikey, sizeof(ikey), "%s %.900s", path, key);
			prev = json_object_get(f->idempotent, ikey);
		}
		if (prev && !json_equal(json_object_get(prev, "form"), form)) {
			f->counts.invalid++;
			error_answer(a, 400, "idempotency_error", NULL, NULL,
				     "Keys for idempotent requests can only be used with the same "
				     "parameters they were first used with.");
			goto out;
		}
		if (prev) {
			a->status = (unsigned)json_integer_value(json_object_get(prev, "status"));
			a->body = xstrdup(json_string_value(json_object_get(prev, "body")));
			a->replayed = true;
			if (is_sessions)
				f->counts.session_replays++;
			else if (is_refunds)
				f->counts.refund_replays++;
			goto out;
		}
		if (is_sessions)
			create_session(f, form, a);
		else if (is_refunds)
			create_refund(f, form, auth, key, a);
		else
			expire_session(f, expire_id, a);
		if (a->status >= 400)
			f->counts.invalid++;
		/* Kept only when the endpoint did its work: a rejected request
		 * may be corrected and retried with the same key. */
		if (key && a->status < 300)
			json_object_set_new(f->idempotent, ikey,
					    json_pack("{s:O,s:i,s:s}", "form", form, "status",
						      (int)a->status, "body", a->body));
	} else if (strcmp(method, "GET") == 0 && is_session) {
		get_session(f, path + sizeof(SESSION_PREFIX), a);
		if (a->status >= 400)
			f->counts.invalid++;
	} else {
		char msg[300];
		f->counts.invalid++;
		snprintf(msg, sizeof(msg), "Unrecognized request URL (%.10s: %.200s).", method,
			 path);
		error_answer(a, 404, "invalid_request_error", NULL, NULL, msg);
	}
out:
	log_request(f, method, path, auth, key, ctype, &rc->body, form, a);
	pthread_mutex_unlock(&f->lock);
	json_decref(form);
}

/* Sleeps ms unless the fake stops first. */
static void hang(struct stripe_fake *f, unsigned ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&f->lock);
	while (!f->stopping)
		if (pthread_cond_timedwait(&f->wake, &f->lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&f->lock);
}

static void hosted(struct stripe_fake *f, const char *method, const char *path,
		   const struct request_ctx *rc, struct answer *a);
static enum MHD_Result hosted_headers(struct stripe_fake *f, struct MHD_Response *r,
				      const struct answer *a);
static void hosted_csp(char *out, size_t n);

/* One line for the request to the log, if there is one. */
static void log_line(struct stripe_fake *f, const char *method, const char *path, unsigned status)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	if (!f->log)
		return;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	flockfile(f->log);
	fprintf(f->log, "stripe-fake: %s %s %.200s %u\n", when, method, path, status);
	fflush(f->log);
	funlockfile(f->log);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct stripe_fake *f = cls;
	struct request_ctx *rc = *con_cls;
	(void)version;
	if (!rc) {
		rc = calloc(1, sizeof(*rc));
		if (!rc)
			return MHD_NO;
		*con_cls = rc;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (rc->body.len + *upload_data_size > STRIPE_FAKE_BODY_MAX)
			rc->too_big = true;
		else
			buf_append(&rc->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}

	struct answer a = {0};
	if (strncmp(url, HOSTED_PREFIX, strlen(HOSTED_PREFIX)) == 0 || strcmp(url, "/") == 0)
		hosted(f, method, url, rc, &a);
	else
		handle(f, conn, method, url, rc, &a);
	if (a.delay_ms)
		hang(f, a.delay_ms);
	log_line(f, method, url, a.status);
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(a.body), a.body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(a.body);
		free(a.location);
		return MHD_NO;
	}
	if (a.html) {
		enum MHD_Result ok = hosted_headers(f, r, &a);
		if (ok == MHD_YES)
			ok = MHD_queue_response(conn, a.status, r);
		MHD_destroy_response(r);
		free(a.location);
		return ok;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Request-Id", a.request_id);
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key");
	if (key && !a.unauthorized)
		MHD_add_response_header(r, "Idempotency-Key", key);
	if (a.replayed)
		MHD_add_response_header(r, "Idempotent-Replayed", "true");
	if (a.unauthorized)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"Stripe\"");
	enum MHD_Result ok = MHD_queue_response(conn, a.status, r);
	MHD_destroy_response(r);
	return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request_ctx *rc = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (rc) {
		buf_free(&rc->body);
		free(rc);
		*con_cls = NULL;
	}
}

/* --- lifetime --- */

struct stripe_fake *stripe_fake_start_with(const struct stripe_fake_config *cfg)
{
	struct stripe_fake *f = calloc(1, sizeof(*f));
	pthread_condattr_t ca;
	const char *host = cfg->host ? cfg->host : "127.0.0.1";
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_port = htons((uint16_t)(cfg->port > 0 ? cfg->port : 0))};
	if (!f)
		return NULL;
	f->secret_key = xstrdup(cfg->secret_key);
	f->webhook_secret = xstrdup(cfg->webhook_secret);
	f->webhook_url = cfg->webhook_url ? xstrdup(cfg->webhook_url) : NULL;
	f->log = cfg->log;
	f->seq = cfg->first_id;
	hosted_csp(f->csp, sizeof(f->csp));
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->wake, &ca);
	pthread_condattr_destroy(&ca);
	f->sessions = json_object();
	f->idempotent = json_object();
	f->refunds = json_array();
	f->log_entries = json_array();
	f->events = json_object();

	if (cfg->port < 0 || cfg->port > 65535 || inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		fprintf(stderr,
			"stripe_fake: cannot listen on %s:%d (an IPv4 address and a port)\n", host,
			cfg->port);
		stripe_fake_stop(f);
		return NULL;
	}
	if (cfg->public_url &&
	    (strlen(cfg->public_url) > 400 || (strncmp(cfg->public_url, "http://", 7) != 0 &&
					       strncmp(cfg->public_url, "https://", 8) != 0))) {
		fprintf(stderr, "stripe_fake: the public URL must be an http(s) URL of at most "
				"400 bytes\n");
		stripe_fake_stop(f);
		return NULL;
	}
	f->daemon =
		MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
					 MHD_USE_POLL | MHD_USE_ITC,
				 0, NULL, NULL, on_request, f, MHD_OPTION_SOCK_ADDR,
				 (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX,
				 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX,
				 MHD_OPTION_NOTIFY_COMPLETED, on_completed, f, MHD_OPTION_END);
	const union MHD_DaemonInfo *info =
		f->daemon ? MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	if (!info || info->port == 0) {
		fprintf(stderr, "stripe_fake: cannot start the HTTP server on %s:%d\n", host,
			cfg->port);
		stripe_fake_stop(f);
		return NULL;
	}
	f->port = info->port;
	/* A wildcard address is reached on loopback. */
	const char *reach = strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1" : host;
	snprintf(f->url, sizeof(f->url), "http://%s:%d", reach, f->port);
	if (cfg->public_url) {
		size_t n = strlen(cfg->public_url);
		while (n && cfg->public_url[n - 1] == '/')
			n--;
		f->public_url = strndup(cfg->public_url, n);
		if (!f->public_url)
			abort();
	} else {
		f->public_url = xstrdup(f->url);
	}
	return f;
}

struct stripe_fake *stripe_fake_start(const char *secret_key, const char *webhook_secret)
{
	struct stripe_fake_config cfg = {.secret_key = secret_key,
					 .webhook_secret = webhook_secret};
	return stripe_fake_start_with(&cfg);
}

void stripe_fake_set_webhook_url(struct stripe_fake *f, const char *url)
{
	char *copy = url ? xstrdup(url) : NULL;
	pthread_mutex_lock(&f->lock);
	free(f->webhook_url);
	f->webhook_url = copy;
	pthread_mutex_unlock(&f->lock);
}

void stripe_fake_stop(struct stripe_fake *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	pthread_cond_broadcast(&f->wake);
	pthread_mutex_unlock(&f->lock);
	if (f->daemon)
		MHD_stop_daemon(f->daemon);
	json_decref(f->sessions);
	json_decref(f->idempotent);
	json_decref(f->refunds);
	json_decref(f->log_entries);
	json_decref(f->events);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f->secret_key);
	free(f->webhook_secret);
	free(f->webhook_url);
	free(f->public_url);
	free(f);
}

const char *stripe_fake_url(const struct stripe_fake *f)
{
	return f->url;
}

int stripe_fake_port(const struct stripe_fake *f)
{
	return f->port;
}

void stripe_fake_fail_next(struct stripe_fake *f, unsigned status)
{
	pthread_mutex_lock(&f->lock);
	f->fail_next = status >= 400 && status <= 599 ? status : 500;
	pthread_mutex_unlock(&f->lock);
}

void stripe_fake_hang_next(struct stripe_fake *f, unsigned ms)
{
	pthread_mutex_lock(&f->lock);
	f->hang_next_ms = ms;
	pthread_mutex_unlock(&f->lock);
}

/* Sets a session's state as Stripe would, without any event. */
static bool mark(struct stripe_fake *f, const char *session_id, const char *status,
		 const char *payment_status)
{
	pthread_mutex_lock(&f->lock);
	json_t *s = json_object_get(json_object_get(f->sessions, session_id), "session");
	if (s) {
		json_object_set_new(s, "status", json_string(status));
		json_object_set_new(s, "payment_status", json_string(payment_status));
		if (strcmp(status, "expired") == 0)
			json_object_set_new(s, "url", json_null());
	}
	pthread_mutex_unlock(&f->lock);
	return s != NULL;
}

bool stripe_fake_mark_paid(struct stripe_fake *f, const char *session_id)
{
	return mark(f, session_id, "complete", "paid");
}

bool stripe_fake_mark_expired(struct stripe_fake *f, const char *session_id)
{
	return mark(f, session_id, "expired", "unpaid");
}

bool stripe_fake_mark_processing(struct stripe_fake *f, const char *session_id)
{
	return mark(f, session_id, "complete", "unpaid");
}

/* --- inspection --- */

void stripe_fake_counts(struct stripe_fake *f, struct stripe_fake_counts *out)
{
	pthread_mutex_lock(&f->lock);
	*out = f->counts;
	pthread_mutex_unlock(&f->lock);
}

json_t *stripe_fake_last_request(struct stripe_fake *f, const char *path_prefix)
{
	json_t *found = NULL;
	pthread_mutex_lock(&f->lock);
	for (size_t i = json_array_size(f->log_entries); i-- > 0;) {
		json_t *e = json_array_get(f->log_entries, i);
		const char *p = form_str(e, "path");
		if (!path_prefix || strncmp(p, path_prefix, strlen(path_prefix)) == 0) {
			found = json_deep_copy(e);
			break;
		}
	}
	pthread_mutex_unlock(&f->lock);
	return found;
}

json_t *stripe_fake_session(struct stripe_fake *f, const char *id)
{
	json_t *out = NULL;
	pthread_mutex_lock(&f->lock);
	json_t *rec = json_object_get(f->sessions, id ? id : f->last_session);
	if (rec) {
		out = json_deep_copy(json_object_get(rec, "session"));
		json_object_set_new(out, "form", json_deep_copy(json_object_get(rec, "form")));
	}
	pthread_mutex_unlock(&f->lock);
	return out;
}

json_t *stripe_fake_refunds(struct stripe_fake *f)
{
	pthread_mutex_lock(&f->lock);
	json_t *out = json_deep_copy(f->refunds);
	pthread_mutex_unlock(&f->lock);
	return out;
}

/* --- webhooks --- */

void stripe_fake_sign(const char *secret, long long t, const char *body, size_t body_len,
		      char out[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	struct buf payload = BUF_INIT;
	buf_printf(&payload, "%lld.", t);
	buf_append(&payload, body, body_len);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)payload.data,
	     payload.len, mac, &mac_len);
	buf_free(&payload);
	for (unsigned i = 0; i < mac_len && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
	out[64] = '\0';
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ud)
{
	buf_append(ud, ptr, size * nmemb);
	return size * nmemb;
}

/* Signs body as opts say and POSTs it to the API; the HTTP status or -1. */
static long post_event(struct stripe_fake *f, const char *body, const char *api_url,
		       const struct stripe_fake_send *opts)
{
	static const struct stripe_fake_send none = {0};
	char good[65], wrong[65], header[400], url[600];
	struct buf resp = BUF_INIT;
	struct curl_slist *hl = NULL;
	long status = -1;
	opts = opts ? opts : &none;
	long long t = unix_now() - (opts->stale ? STALE_SECONDS : 0);
	size_t len = strlen(body);
	stripe_fake_sign(opts->bad_signature ? WRONG_SECRET : f->webhook_secret, t, body, len,
			 good);
	stripe_fake_sign(WRONG_SECRET, t, body, len, wrong);
	if (opts->several_v1)
		snprintf(header, sizeof(header), "Stripe-Signature: t=%lld,v1=%s,v0=%s,v1=%s", t,
			 wrong, wrong, good);
	else
		snprintf(header, sizeof(header), "Stripe-Signature: t=%lld,v1=%s", t, good);
	size_t base = strlen(api_url);
	while (base && api_url[base - 1] == '/')
		base--;
	snprintf(url, sizeof(url), "%.*s%s", (int)base, api_url,
		 strstr(api_url, WEBHOOK_PATH) ? "" : WEBHOOK_PATH);

	CURL *c = curl_easy_init();
	if (!c)
		return -1;
	hl = curl_slist_append(hl, "Content-Type: application/json; charset=utf-8");
	hl = curl_slist_append(hl, "User-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)");
	hl = curl_slist_append(hl, "Expect:");
	if (!opts->no_signature)
		hl = curl_slist_append(hl, header);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	if (opts->timeout_ms > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, opts->timeout_ms);
	else
		curl_easy_setopt(c, CURLOPT_TIMEOUT, WEBHOOK_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (opts->response_out)
		*opts->response_out = resp.len ? json_loadb(resp.data, resp.len, 0, NULL) : NULL;
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	buf_free(&resp);

	pthread_mutex_lock(&f->lock);
	f->counts.webhooks_sent++;
	pthread_mutex_unlock(&f->lock);
	return status;
}

static void set_event_id(const struct stripe_fake_send *opts, const char *id)
{
	if (opts && opts->event_id_out && opts->event_id_out_len)
		snprintf(opts->event_id_out, opts->event_id_out_len, "%s", id);
}

/* Sends the event already sent with opts->resend_event_id. */
static long resend(struct stripe_fake *f, const char *api_url, const struct stripe_fake_send *opts)
{
	pthread_mutex_lock(&f->lock);
	const char *stored = json_string_value(json_object_get(f->events, opts->resend_event_id));
	char *body = stored ? xstrdup(stored) : NULL;
	pthread_mutex_unlock(&f->lock);
	if (opts->response_out)
		*opts->response_out = NULL;
	if (!body)
		return -1;
	set_event_id(opts, opts->resend_event_id);
	long status = post_event(f, body, api_url, opts);
	free(body);
	return status;
}

/* Applies the tampering options to a session or charge object. */
static void tamper(json_t *obj, const struct stripe_fake_send *opts, const char *amount_key)
{
	if (!opts)
		return;
	if (opts->amount_delta) {
		json_t *v = json_object_get(obj, amount_key);
		json_object_set_new(obj, amount_key,
				    json_integer(json_integer_value(v) + opts->amount_delta));
	}
	if (opts->currency)
		json_object_set_new(obj, "currency", json_string(opts->currency));
	if (opts->order_id) {
		if (json_object_get(obj, "client_reference_id"))
			json_object_set_new(obj, "client_reference_id",
					    json_string(opts->order_id));
		json_t *md = json_object_get(obj, "metadata");
		if (!json_is_object(md)) {
			md = json_object();
			json_object_set_new(obj, "metadata", md);
		}
		json_object_set_new(md, "order_id", json_string(opts->order_id));
	}
}

long stripe_fake_send_event(struct stripe_fake *f, const char *type, json_t *object,
			    const char *api_url, const struct stripe_fake_send *opts)
{
	if (opts && opts->response_out)
		*opts->response_out = NULL;
	if (!object)
		return -1;
	pthread_mutex_lock(&f->lock);
	char id[48];
	snprintf(id, sizeof(id), "evt_test_%llu", ++f->seq);
	pthread_mutex_unlock(&f->lock);
	json_t *event =
		json_pack("{s:s,s:s,s:s,s:I,s:b,s:i,s:{s:n,s:n},s:s,s:{s:o}}", "id", id, "object",
			  "event", "api_version", "2024-06-20", "created", (json_int_t)unix_now(),
			  "livemode", 0, "pending_webhooks", 1, "request", "id", "idempotency_key",
			  "type", type, "data", "object", object);
	if (!event)
		return -1;
	char *body = dump(event);
	json_decref(event);
	pthread_mutex_lock(&f->lock);
	json_object_set_new(f->events, id, json_string(body));
	pthread_mutex_unlock(&f->lock);
	set_event_id(opts, id);
	long status = post_event(f, body, api_url, opts);
	free(body);
	return status;
}

enum session_event { EV_COMPLETE, EV_DECLINE, EV_EXPIRE };

static long session_event(struct stripe_fake *f, const char *session_id, const char *api_url,
			  const struct stripe_fake_send *opts, enum session_event ev)
{
	static const char *const types[] = {
		[EV_COMPLETE] = "checkout.session.completed",
		[EV_DECLINE] = "checkout.session.async_payment_failed",
		[EV_EXPIRE] = "checkout.session.expired",
	};
	if (opts && opts->resend_event_id)
		return resend(f, api_url, opts);
	pthread_mutex_lock(&f->lock);
	json_t *rec = session_id ? json_object_get(f->sessions, session_id) : NULL;
	json_t *s = json_object_get(rec, "session");
	if (s) {
		/* What happened at Stripe, whatever the API makes of the event. */
		json_object_set_new(s, "status",
				    json_string(ev == EV_EXPIRE ? "expired" : "complete"));
		json_object_set_new(s, "payment_status",
				    json_string(ev == EV_COMPLETE ? "paid" : "unpaid"));
		if (ev == EV_EXPIRE)
			json_object_set_new(s, "url", json_null());
		s = json_deep_copy(s);
	}
	pthread_mutex_unlock(&f->lock);
	if (!s) {
		if (opts && opts->response_out)
			*opts->response_out = NULL;
		return -1;
	}
	tamper(s, opts, "amount_total");
	return stripe_fake_send_event(f, types[ev], s, api_url, opts);
}

long stripe_fake_complete(struct stripe_fake *f, const char *session_id, const char *api_url,
			  const struct stripe_fake_send *opts)
{
	return session_event(f, session_id, api_url, opts, EV_COMPLETE);
}

long stripe_fake_decline(struct stripe_fake *f, const char *session_id, const char *api_url,
			 const struct stripe_fake_send *opts)
{
	return session_event(f, session_id, api_url, opts, EV_DECLINE);
}

long stripe_fake_expire(struct stripe_fake *f, const char *session_id, const char *api_url,
			const struct stripe_fake_send *opts)
{
	return session_event(f, session_id, api_url, opts, EV_EXPIRE);
}

long stripe_fake_refunded(struct stripe_fake *f, const char *payment_intent, const char *api_url,
			  const struct stripe_fake_send *opts)
{
	if (opts && opts->resend_event_id)
		return resend(f, api_url, opts);
	pthread_mutex_lock(&f->lock);
	json_t *rec = payment_intent ? record_by_intent(f, payment_intent) : NULL;
	json_t *charge = NULL;
	if (rec) {
		json_t *s = json_object_get(rec, "session");
		long long amount = json_integer_value(json_object_get(s, "amount_total"));
		long long refunded = json_integer_value(json_object_get(rec, "refunded"));
		if (refunded == 0)
			refunded = amount;
		char id[48];
		snprintf(id, sizeof(id), "ch_%s", payment_intent + 3);
		charge = json_pack(
			"{s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:b,s:b,s:s,s:o}", "id", id, "object",
			"charge", "amount", (json_int_t)amount, "amount_captured",
			(json_int_t)amount, "amount_refunded", (json_int_t)refunded, "currency",
			json_string_value(json_object_get(s, "currency")), "payment_intent",
			payment_intent, "paid", 1, "refunded", refunded == amount, "status",
			"succeeded", "metadata", json_deep_copy(json_object_get(s, "metadata")));
	}
	pthread_mutex_unlock(&f->lock);
	if (!charge) {
		if (opts && opts->response_out)
			*opts->response_out = NULL;
		return -1;
	}
	tamper(charge, opts, "amount");
	if (opts && opts->amount_delta) {
		json_t *r = json_object_get(charge, "amount_refunded");
		json_object_set_new(charge, "amount_refunded",
				    json_integer(json_integer_value(r) + opts->amount_delta));
	}
	return stripe_fake_send_event(f, "charge.refunded", charge, api_url, opts);
}

/* --- the hosted checkout page --- */

#define HOSTED_ATTEMPTS	  5	/* deliveries of the event before the page gives up */
#define HOSTED_TIMEOUT_MS 10000 /* of one delivery */
#define SESSION_ID_CHARS  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

/* The whole style sheet of the pages: inline, allowed by its hash in the
 * Content-Security-Policy. Neutral (not the shop's look), readable at 320 px,
 * a visible focus ring, contrasts of at least 4.5:1. */
static const char hosted_style[] =
	":root{color-scheme:light;font-family:system-ui,-apple-system,'Segoe UI',Roboto,"
	"sans-serif;color:#1f2933;background:#f3f4f6;line-height:1.5}"
	"body{margin:0}"
	".banner{margin:0;padding:.5rem 1rem;background:#fdf0c2;color:#5c4300;"
	"text-align:center;font-size:.9rem;border-bottom:1px solid #e8d48a}"
	"main{max-width:32rem;margin:2rem auto;padding:1.5rem;background:#fff;"
	"border:1px solid #d8dce2;border-radius:.5rem}"
	"h1{font-size:1.4rem;margin:0 0 .25rem}"
	".muted{color:#4b5563;margin:.25rem 0 1rem}"
	"table{width:100%;border-collapse:collapse;margin:1rem 0}"
	"caption{text-align:left;font-weight:600;padding-bottom:.5rem}"
	"th,td{padding:.5rem 0;border-bottom:1px solid #e5e7eb;text-align:left;"
	"vertical-align:top}"
	"th.num,td.num{text-align:right;white-space:nowrap;padding-left:1rem}"
	"tfoot th,tfoot td{font-weight:700;border-bottom:0;font-size:1.1rem}"
	".actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.5rem}"
	".actions form{margin:0}"
	"button,.link{font:inherit;font-weight:600;padding:.65rem 1.4rem;border-radius:.375rem;"
	"cursor:pointer;border:1px solid #1f2933;display:inline-block;text-decoration:none}"
	".primary{background:#1f2933;color:#fff}"
	".secondary{background:#fff;color:#1f2933}"
	"button:hover{filter:brightness(1.15)}"
	"button:focus-visible,a:focus-visible{outline:3px solid #2563eb;outline-offset:2px}"
	".note{font-size:.9rem;color:#4b5563;margin-top:1.5rem}"
	".error{border-left:4px solid #b42318;padding-left:.75rem}"
	"code{font-size:.85rem;word-break:break-all}"
	"@media (max-width:34rem){main{margin:0;border-width:0 0 1px;border-radius:0}}";

static void html_escape(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			buf_append_str(b, "&amp;");
			break;
		case '<':
			buf_append_str(b, "&lt;");
			break;
		case '>':
			buf_append_str(b, "&gt;");
			break;
		case '"':
			buf_append_str(b, "&quot;");
			break;
		case '\'':
			buf_append_str(b, "&#39;");
			break;
		default:
			buf_append_char(b, *s);
		}
	}
}

/* Whether a currency has no minor unit (Stripe's zero-decimal list). */
static bool zero_decimal(const char *currency)
{
	static const char *const list[] = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
					   "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"};
	for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)
		if (currency && strcasecmp(currency, list[i]) == 0)
			return true;
	return false;
}

/* "14.49 USD" from an amount in the currency's smallest unit. */
static void money(struct buf *b, long long amount, const char *currency)
{
	char cur[4] = "";
	for (size_t i = 0; currency && currency[i] && i < 3; i++)
		cur[i] = (char)(currency[i] >= 'a' && currency[i] <= 'z' ? currency[i] - 32
									 : currency[i]);
	if (zero_decimal(currency))
		buf_printf(b, "%lld %s", amount, cur);
	else
		buf_printf(b, "%lld.%02lld %s", amount / 100, amount % 100, cur);
}

/* The URL with {CHECKOUT_SESSION_ID} replaced by id, as Stripe does; NULL
 * (nothing appended) unless it is an http(s) URL. */
static const char *return_url(struct buf *b, const char *url, const char *id)
{
	static const char token[] = "{CHECKOUT_SESSION_ID}";
	if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
		return NULL;
	for (const char *p = url;;) {
		const char *t = strstr(p, token);
		if (!t) {
			buf_append_str(b, p);
			break;
		}
		buf_append(b, p, (size_t)(t - p));
		buf_append_str(b, id);
		p = t + sizeof(token) - 1;
	}
	return b->data;
}

static void page_begin(struct buf *b, const char *title)
{
	buf_append_str(b,
		       "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		       "<meta name=\"robots\" content=\"noindex\">\n<title>");
	html_escape(b, title);
	buf_append_str(b, " · Test checkout</title>\n<style>");
	buf_append_str(b, hosted_style);
	buf_append_str(b, "</style>\n</head>\n<body>\n<header>\n<p class=\"banner\"><strong>Test "
			  "mode</strong> · a local Stripe fake: no card is charged and no money "
			  "moves.</p>\n</header>\n<main>\n<h1>");
	html_escape(b, title);
	buf_append_str(b, "</h1>\n");
}

static void page_end(struct buf *b)
{
	buf_append_str(b, "</main>\n</body>\n</html>\n");
}

/* A paragraph with a link back to url (none when url is NULL). */
static void back_link(struct buf *b, const char *url, const char *text)
{
	if (!url)
		return;
	buf_append_str(b, "<p class=\"actions\"><a class=\"link secondary\" href=\"");
	html_escape(b, url);
	buf_append_str(b, "\">");
	html_escape(b, text);
	buf_append_str(b, "</a></p>\n");
}

static void html_answer(struct answer *a, unsigned status, struct buf *b)
{
	a->status = status;
	a->html = true;
	a->body = buf_steal(b, NULL);
}

static void redirect(struct answer *a, const char *location)
{
	struct buf b = BUF_INIT;
	page_begin(&b, "Redirecting");
	buf_append_str(&b, "<p><a href=\"");
	html_escape(&b, location);
	buf_append_str(&b, "\">Continue</a></p>\n");
	page_end(&b);
	html_answer(a, 303, &b);
	a->location = xstrdup(location);
}

static void simple_page(struct answer *a, unsigned status, const char *title, const char *text)
{
	struct buf b = BUF_INIT;
	page_begin(&b, title);
	buf_append_str(&b, "<p>");
	html_escape(&b, text);
	buf_append_str(&b, "</p>\n");
	page_end(&b);
	html_answer(a, status, &b);
}

/* The page of an open session: what is bought, the total, Pay and Cancel. */
static void open_page(struct buf *b, const json_t *s, const json_t *form)
{
	const char *currency = form_str(s, "currency");
	const char *email = form_str(s, "customer_email");
	json_t *item;
	size_t i;
	page_begin(b, "Checkout");
	if (email) {
		buf_append_str(b, "<p class=\"muted\">Paying as ");
		html_escape(b, email);
		buf_append_str(b, "</p>\n");
	}
	buf_append_str(b, "<table>\n<caption>Order summary</caption>\n<thead><tr><th "
			  "scope=\"col\">Item</th><th scope=\"col\" class=\"num\">Quantity</th>"
			  "<th scope=\"col\" class=\"num\">Amount</th></tr></thead>\n<tbody>\n");
	json_array_foreach (json_object_get(form, "line_items"), i, item) {
		json_t *pd = json_object_get(item, "price_data");
		long long qty = form_int(item, "quantity", QUANTITY_MAX);
		long long unit = form_int(pd, "unit_amount", AMOUNT_MAX);
		buf_append_str(b, "<tr><td>");
		html_escape(b, form_str(json_object_get(pd, "product_data"), "name"));
		buf_printf(b, "</td><td class=\"num\">%lld</td><td class=\"num\">", qty);
		money(b, unit * qty, currency);
		buf_append_str(b, "</td></tr>\n");
	}
	buf_append_str(b, "</tbody>\n<tfoot><tr><th scope=\"row\" colspan=\"2\">Total</th>"
			  "<td class=\"num\" id=\"total\">");
	money(b, json_integer_value(json_object_get(s, "amount_total")), currency);
	buf_append_str(b, "</td></tr></tfoot>\n</table>\n<div class=\"actions\">\n"
			  "<form method=\"post\" action=\"");
	html_escape(b, form_str(s, "id"));
	buf_append_str(b, "/pay\"><button type=\"submit\" class=\"primary\" "
			  "aria-describedby=\"total\">Pay</button></form>\n"
			  "<form method=\"post\" action=\"");
	html_escape(b, form_str(s, "id"));
	buf_append_str(b,
		       "/cancel\"><button type=\"submit\" class=\"secondary\">Cancel</button>"
		       "</form>\n</div>\n<p class=\"note\">Pay completes this Checkout Session "
		       "and sends the signed <code>checkout.session.completed</code> event to the "
		       "shop, then returns there. Cancel returns to the shop without paying; the "
		       "session stays open.</p>\n");
	page_end(b);
}

/* The page of a session that takes no payment any more. */
static void closed_page(struct buf *b, const json_t *s)
{
	const char *id = form_str(s, "id");
	struct buf url = BUF_INIT;
	if (strcmp(form_str(s, "status"), "expired") == 0) {
		page_begin(b, "This checkout has expired");
		buf_append_str(b, "<p>No payment was taken. Start the checkout again from the "
				  "shop.</p>\n");
		const char *back = return_url(&url, form_str(s, "cancel_url"), id);
		back_link(b, back ? back : return_url(&url, form_str(s, "success_url"), id),
			  "Return to the shop");
	} else {
		bool paid = strcmp(form_str(s, "payment_status"), "paid") == 0;
		page_begin(b, "This checkout is complete");
		buf_append_str(b, paid ? "<p>The payment was received.</p>\n"
				       : "<p>The payment is still being processed.</p>\n");
		back_link(b, return_url(&url, form_str(s, "success_url"), id),
			  "Return to the shop");
	}
	page_end(b);
	buf_free(&url);
}

/* The page after a payment whose event the shop never acknowledged. */
static void undelivered_page(struct buf *b, const char *id, const char *success_url,
			     const char *webhook_url, long status, int attempts)
{
	struct buf url = BUF_INIT;
	page_begin(b, "The shop did not confirm the payment");
	buf_append_str(b, "<div class=\"error\" role=\"alert\"><p>The payment went through "
			  "(test mode), but ");
	if (!webhook_url) {
		buf_append_str(b, "no webhook URL is configured (<code>--webhook-url</code>), so "
				  "the shop was not told.");
	} else {
		buf_append_str(b, "the shop's webhook endpoint <code>");
		html_escape(b, webhook_url);
		if (status > 0)
			buf_printf(b, "</code> answered HTTP %ld", status);
		else
			buf_append_str(b, "</code> could not be reached");
		buf_printf(b, " (%d attempt%s).", attempts, attempts == 1 ? "" : "s");
	}
	buf_append_str(b, "</p></div>\n<p>Until the shop is told, the order stays pending (its "
			  "reconciliation finds the payment once the session's expiry time has "
			  "passed). Send the event again when the shop is up.</p>\n<div "
			  "class=\"actions\">\n<form method=\"post\" action=\"");
	html_escape(b, id);
	buf_append_str(b, "/retry\"><button type=\"submit\" class=\"primary\">Send the event "
			  "again</button></form>\n");
	const char *back = return_url(&url, success_url, id);
	if (back) {
		buf_append_str(b, "<a class=\"link secondary\" href=\"");
		html_escape(b, back);
		buf_append_str(b, "\">Return to the shop</a>\n");
	}
	buf_append_str(b, "</div>\n");
	page_end(b);
	buf_free(&url);
}

static bool is_stopping(struct stripe_fake *f)
{
	pthread_mutex_lock(&f->lock);
	bool stop = f->stopping;
	pthread_mutex_unlock(&f->lock);
	return stop;
}

/* Sends checkout.session.completed for session id to url (the session
 * becomes complete and paid), or again the event event_id names when it is
 * not empty, retrying briefly until the API answers 2xx. event_id gets the
 * event's id. Returns the last HTTP status (-1: not reached); *attempts the
 * number of deliveries. */
static long deliver(struct stripe_fake *f, const char *id, const char *url, char *event_id,
		    size_t event_id_len, int *attempts)
{
	static const unsigned pause_ms[HOSTED_ATTEMPTS - 1] = {250, 500, 1000, 2000};
	long status = -1;
	for (*attempts = 0; *attempts < HOSTED_ATTEMPTS;) {
		if (*attempts) {
			hang(f, pause_ms[*attempts - 1]);
			if (is_stopping(f))
				break;
		}
		char resend_id[64];
		snprintf(resend_id, sizeof(resend_id), "%s", event_id);
		struct stripe_fake_send o = {.timeout_ms = HOSTED_TIMEOUT_MS,
					     .event_id_out = event_id,
					     .event_id_out_len = event_id_len,
					     .resend_event_id = *resend_id ? resend_id : NULL};
		status = *resend_id ? resend(f, url, &o) : stripe_fake_complete(f, id, url, &o);
		++*attempts;
		if (f->log) {
			char what[32] = "not delivered";
			if (status > 0)
				snprintf(what, sizeof(what), "HTTP %ld", status);
			flockfile(f->log);
			fprintf(f->log,
				"stripe-fake: webhook checkout.session.completed %s of %s: %s "
				"(attempt %d)\n",
				event_id, id, what, *attempts);
			fflush(f->log);
			funlockfile(f->log);
		}
		if (status >= 200 && status < 300)
			break;
	}
	return status;
}

/* POST /checkout/{id}/pay or /retry, once the session is paid at the fake:
 * delivers the event, then sends the browser back to the shop. */
static void pay_and_return(struct stripe_fake *f, const char *id, char *event_id,
			   size_t event_id_len, struct answer *a)
{
	pthread_mutex_lock(&f->lock);
	json_t *rec = json_object_get(f->sessions, id);
	char *url = f->webhook_url ? xstrdup(f->webhook_url) : NULL;
	char *success = xstrdup(form_str(json_object_get(rec, "session"), "success_url")
					? form_str(json_object_get(rec, "session"), "success_url")
					: "");
	pthread_mutex_unlock(&f->lock);

	int attempts = 0;
	long status = -1;
	if (url) /* else paid all the same (by the caller), with nobody to tell */
		status = deliver(f, id, url, event_id, event_id_len, &attempts);
	pthread_mutex_lock(&f->lock);
	if (*event_id)
		json_object_set_new(json_object_get(f->sessions, id), "event_id",
				    json_string(event_id));
	pthread_mutex_unlock(&f->lock);

	struct buf b = BUF_INIT;
	const char *back = return_url(&b, success, id);
	if (status >= 200 && status < 300 && back) {
		redirect(a, back);
	} else if (status >= 200 && status < 300) {
		simple_page(a, 200, "Payment received",
			    "The shop was told. You can close this page.");
	} else {
		struct buf page = BUF_INIT;
		undelivered_page(&page, id, success, url, status, attempts);
		html_answer(a, 502, &page);
	}
	buf_free(&b);
	free(url);
	free(success);
}

static void hosted(struct stripe_fake *f, const char *method, const char *path,
		   const struct request_ctx *rc, struct answer *a)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0;
	char id[SESSION_ID_MAX + 1] = "", event_id[64] = "";
	struct buf b = BUF_INIT;
	(void)rc; /* the forms post no fields */

	pthread_mutex_lock(&f->lock);
	f->counts.pages++;
	pthread_mutex_unlock(&f->lock);
	if (strcmp(path, "/") == 0) {
		if (!get) {
			simple_page(a, 405, "Method not allowed", "Open a session's url instead.");
			return;
		}
		simple_page(a, 200, "Stripe fake",
			    "Each Checkout Session has its page at /checkout/<session id>: the "
			    "url that creating the session answers.");
		return;
	}
	const char *rest = path + strlen(HOSTED_PREFIX);
	size_t n = strspn(rest, SESSION_ID_CHARS);
	const char *action = rest + n;
	if (n == 0 || n > SESSION_ID_MAX ||
	    (*action && strcmp(action, "/pay") != 0 && strcmp(action, "/cancel") != 0 &&
	     strcmp(action, "/retry") != 0)) {
		simple_page(a, 404, "Page not found", "There is no such page at this Stripe fake.");
		return;
	}
	memcpy(id, rest, n);
	id[n] = '\0';
	if (*action ? !post : !get) {
		simple_page(a, 405, "Method not allowed",
			    *action ? "Use the buttons of the checkout page."
				    : "Open the checkout page with GET.");
		return;
	}

	pthread_mutex_lock(&f->lock);
	json_t *rec = json_object_get(f->sessions, id);
	json_t *s = json_object_get(rec, "session");
	if (!s) {
		pthread_mutex_unlock(&f->lock);
		simple_page(a, 404, "No such checkout",
			    "This checkout session does not exist at this Stripe fake (it "
			    "keeps its sessions in memory: was it restarted?).");
		return;
	}
	bool open = strcmp(form_str(s, "status"), "open") == 0;
	bool paid = strcmp(form_str(s, "payment_status"), "paid") == 0;
	const char *ev = form_str(rec, "event_id");
	enum { SHOW, PAY, RETRY, CANCEL, SUCCESS } next = SHOW;
	if (strcmp(action, "/pay") == 0 && open) {
		/* Paid now, so that a second click finds it complete. */
		json_object_set_new(s, "status", json_string("complete"));
		json_object_set_new(s, "payment_status", json_string("paid"));
		f->counts.hosted_paid++;
		next = PAY;
	} else if (strcmp(action, "/pay") == 0 && paid) {
		next = SUCCESS; /* a second click, or the back button */
	} else if (strcmp(action, "/retry") == 0 && paid && ev) {
		snprintf(event_id, sizeof(event_id), "%s", ev);
		next = RETRY;
	} else if (strcmp(action, "/retry") == 0 && paid) {
		next = RETRY; /* paid with no webhook URL: the first delivery */
	} else if (strcmp(action, "/cancel") == 0 && open) {
		f->counts.hosted_canceled++;
		next = CANCEL;
	}
	const char *url_key = next == CANCEL ? "cancel_url" : "success_url";
	char *target = form_str(s, url_key) ? xstrdup(form_str(s, url_key)) : NULL;
	if (next == SHOW) {
		if (open)
			open_page(&b, s, json_object_get(rec, "form"));
		else
			closed_page(&b, s);
	}
	pthread_mutex_unlock(&f->lock);

	const char *back;
	switch (next) {
	case SHOW:
		html_answer(a, *action ? 409 : 200, &b);
		break;
	case PAY:
	case RETRY:
		pay_and_return(f, id, event_id, sizeof(event_id), a);
		break;
	case SUCCESS:
	case CANCEL:
		back = return_url(&b, target, id);
		if (back)
			redirect(a, back);
		else if (next == CANCEL)
			simple_page(a, 200, "Checkout canceled",
				    "No payment was taken. You can close this page.");
		else
			simple_page(a, 200, "Payment received", "You can close this page.");
		break;
	}
	buf_free(&b);
	free(target);
}

static enum MHD_Result hosted_headers(struct stripe_fake *f, struct MHD_Response *r,
				      const struct answer *a)
{
	bool ok =
		MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8") == MHD_YES &&
		MHD_add_response_header(r, "Cache-Control", "no-store") == MHD_YES &&
		MHD_add_response_header(r, "Content-Security-Policy", f->csp) == MHD_YES &&
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer") == MHD_YES;
	if (ok && a->location)
		ok = MHD_add_response_header(r, "Location", a->location) == MHD_YES;
	return ok ? MHD_YES : MHD_NO;
}

/* default-src 'none' with the style sheet allowed by its SHA-256. */
static void hosted_csp(char *out, size_t n)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	EVP_Digest(hosted_style, strlen(hosted_style), digest, &len, EVP_sha256(), NULL);
	EVP_EncodeBlock(b64, digest, (int)len);
	snprintf(out, n,
		 "default-src 'none'; style-src 'sha256-%s'; base-uri 'none'; "
		 "frame-ancestors 'none'",
		 (const char *)b64);
}
