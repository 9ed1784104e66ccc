/* A Stripe-protocol fake for end-to-end tests (see stripe_fake.h). */
#include "stripe_fake.h"

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
#define CHECKOUT_URL	"https://checkout.stripe.test/c/pay/"
#define WEBHOOK_PATH	"/api/v1/payments/webhook"
#define WRONG_SECRET	"whsec_not_the_right_one"
#define STALE_SECONDS	600
#define WEBHOOK_TIMEOUT 30L

struct stripe_fake {
	struct MHD_Daemon *daemon;
	int port;
	char url[64];
	char *secret_key;
	char *webhook_secret;

	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t wake;  /* signalled on stop: hanging answers end */
	bool stopping;
	unsigned fail_next;
	unsigned hang_next_ms;
	unsigned long long seq;		 /* ids: cs_test_<n>, re_test_<n>, evt_test_<n> */
	unsigned long long requests_seq; /* Request-Id: req_test_<n> */
	struct stripe_fake_counts counts;
	/* id -> {"session": Session, "form": parsed request, "refunded": cents} */
	json_t *sessions;
	char last_session[64];
	/* "<path> <key>" -> {"form", "status", "body"} */
	json_t *idempotent;
	json_t *refunds; /* array of Refund objects */
	json_t *log;	 /* array of requests, at most STRIPE_FAKE_LOG_MAX */
	json_t *events;	 /* event id -> the body sent */
};

/* What the fake collects while a request's body arrives. */
struct request_ctx {
	struct buf body;
	bool too_big;
};

/* An answer decided under the lock, sent after it is released. */
struct answer {
	unsigned status;
	char *body; /* owned */
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
	char id[48], url[160], pi[48];
	snprintf(id, sizeof(id), "cs_test_%llu", n);
	snprintf(url, sizeof(url), CHECKOUT_URL "%s", id);
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
	if (json_array_size(f->log) >= STRIPE_FAKE_LOG_MAX)
		json_array_remove(f->log, 0);
	json_array_append_new(f->log, entry);
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
	handle(f, conn, method, url, rc, &a);
	if (a.delay_ms)
		hang(f, a.delay_ms);
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(a.body), a.body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(a.body);
		return MHD_NO;
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

struct stripe_fake *stripe_fake_start(const char *secret_key, const char *webhook_secret)
{
	struct stripe_fake *f = calloc(1, sizeof(*f));
	pthread_condattr_t ca;
	if (!f)
		return NULL;
	f->secret_key = xstrdup(secret_key);
	f->webhook_secret = xstrdup(webhook_secret);
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->wake, &ca);
	pthread_condattr_destroy(&ca);
	f->sessions = json_object();
	f->idempotent = json_object();
	f->refunds = json_array();
	f->log = json_array();
	f->events = json_object();

	struct sockaddr_in addr = {
		.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
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
		fprintf(stderr, "stripe_fake: cannot start the HTTP server on 127.0.0.1\n");
		stripe_fake_stop(f);
		return NULL;
	}
	f->port = info->port;
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", f->port);
	return f;
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
	json_decref(f->log);
	json_decref(f->events);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f->secret_key);
	free(f->webhook_secret);
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
	for (size_t i = json_array_size(f->log); i-- > 0;) {
		json_t *e = json_array_get(f->log, i);
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
