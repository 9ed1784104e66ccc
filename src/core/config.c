#include "cinema/config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/buf.h"
#include "cinema/mem.h"

enum cfg_type { CFG_STR, CFG_INT, CFG_LLONG, CFG_LOGLEVEL, CFG_ENV };

enum {
	CFG_SECRET = 1 << 0,   /* never logged */
	CFG_PROD_REQ = 1 << 1, /* must be set explicitly when APP_ENV=production */
	CFG_NONEMPTY = 1 << 2, /* an empty value is an error */
	CFG_URL_HTTP = 1 << 3, /* must start with http:// or https:// */
	CFG_URL_SMTP = 1 << 4, /* must start with smtp:// or smtps:// */
	CFG_EMPTY_OK = 1 << 5, /* with CFG_URL_HTTP: empty means unset */
	CFG_DEV_KEY = 1 << 6,  /* the default is a public development key: warned about */
	CFG_URL_CRED = 1 << 7, /* a URL whose password alone is secret (redacted) */
};

struct cfg_entry {
	const char *env;
	enum cfg_type type;
	size_t offset;
	const char *def;
	long long min, max; /* CFG_INT and CFG_LLONG bounds */
	unsigned flags;
	const char *help;
};

#define OFF(field) offsetof(struct config, field)

/* The one table of configuration. Order is the order of --help. */
static const struct cfg_entry cfg_table[] = {
	{"APP_ENV", CFG_ENV, OFF(production), "development", 0, 0, 0,
	 "development or production; production refuses default secrets"},
	{"HTTP_HOST", CFG_STR, OFF(http_host), "127.0.0.1", 0, 0, CFG_NONEMPTY,
	 "address to listen on"},
	{"HTTP_PORT", CFG_INT, OFF(http_port), "8000", 1, 65535, 0, "port to listen on"},
	{"HTTP_THREADS", CFG_INT, OFF(http_threads), "8", 1, 256, 0,
	 "threads that read and write sockets (each serves many connections; they never wait)"},
	{"HTTP_WORKERS", CFG_INT, OFF(http_workers), "8", 2, 1024, 0,
	 "threads that run handlers which may wait (database, Stripe, S3, password hashing)"},
	{"HTTP_QUEUE_MAX", CFG_INT, OFF(http_queue_max), "1024", 1, 1000000, 0,
	 "requests waiting for a worker; beyond, 503 with Retry-After at once"},
	{"HTTP_QUEUE_TIMEOUT_MS", CFG_INT, OFF(http_queue_timeout_ms), "3000", 1, 600000, 0,
	 "longest wait for a worker before 503 with Retry-After"},
	{"HTTP_WORKERS_PASSWORD", CFG_INT, OFF(http_workers_password), "2", 1, 1024, 0,
	 "most workers that sign-ins, registrations and password changes may hold at once"},
	{"HTTP_WORKERS_STRIPE", CFG_INT, OFF(http_workers_stripe), "2", 1, 1024, 0,
	 "most workers that calls to Stripe may hold at once"},
	{"HTTP_WORKERS_S3", CFG_INT, OFF(http_workers_s3), "2", 1, 1024, 0,
	 "most workers that uploads to S3 may hold at once"},
	{"HTTP_CONNECTION_LIMIT", CFG_INT, OFF(http_connection_limit), "1024", 1, 100000, 0,
	 "maximum open connections"},
	{"HTTP_PER_IP_LIMIT", CFG_INT, OFF(http_per_ip_limit), "256", 1, 100000, 0,
	 "maximum open connections from one IP address"},
	{"HTTP_TIMEOUT", CFG_INT, OFF(http_timeout_s), "30", 1, 3600, 0,
	 "seconds of inactivity before a connection is closed"},
	{"SHUTDOWN_GRACE", CFG_INT, OFF(shutdown_grace_s), "10", 0, 600, 0,
	 "seconds to let requests in flight finish on SIGTERM"},
	{"DATABASE_URL", CFG_STR, OFF(database_url), "postgresql://127.0.0.1:5432/cinema", 0, 0,
	 CFG_URL_CRED | CFG_PROD_REQ | CFG_NONEMPTY, "PostgreSQL connection URL"},
	{"DB_POOL_SIZE", CFG_INT, OFF(db_pool_size), "16", 1, 512, 0,
	 "PostgreSQL connections per process"},
	{"DB_ACQUIRE_TIMEOUT_MS", CFG_INT, OFF(db_acquire_timeout_ms), "2000", 1, 60000, 0,
	 "wait for a free connection before answering 503"},
	{"DB_CONNECT_TIMEOUT", CFG_INT, OFF(db_connect_timeout_s), "3", 1, 60, 0,
	 "seconds to wait when connecting to PostgreSQL"},
	{"DB_STATEMENT_TIMEOUT_MS", CFG_INT, OFF(db_statement_timeout_ms), "10000", 0, 3600000, 0,
	 "server-side statement timeout (0: none)"},
	{"DATABASE_READ_URL", CFG_STR, OFF(database_read_url), "", 0, 0, CFG_URL_CRED,
	 "PostgreSQL read replica (a streaming standby) for public catalog reads; empty: "
	 "everything reads the primary (docs/SCALING.md)"},
	{"DB_READ_POOL_SIZE", CFG_INT, OFF(db_read_pool_size), "0", 0, 512, 0,
	 "connections per process to DATABASE_READ_URL (0: as DB_POOL_SIZE)"},
	{"MIGRATIONS_DIR", CFG_STR, OFF(migrations_dir), "migrations", 0, 0, CFG_NONEMPTY,
	 "directory of numbered SQL migrations"},
	{"REDIS_URL", CFG_STR, OFF(redis_url), "redis://127.0.0.1:6379/0", 0, 0,
	 CFG_URL_CRED | CFG_PROD_REQ | CFG_NONEMPTY, "Redis URL (redis:// or unix://)"},
	{"REDIS_POOL_SIZE", CFG_INT, OFF(redis_pool_size), "8", 1, 256, 0,
	 "Redis connections per process"},
	{"REDIS_TIMEOUT_MS", CFG_INT, OFF(redis_timeout_ms), "1000", 10, 60000, 0,
	 "Redis connect and command timeout"},
	{"CATALOG_CACHE_TTL_MS", CFG_INT, OFF(catalog_cache_ttl_ms), "5000", 0, 600000, 0,
	 "how long a public movie list stays cached (0 turns the cache off)"},
	{"CATALOG_CACHE_MB", CFG_INT, OFF(catalog_cache_mb), "16", 0, 4096, 0,
	 "memory for cached movie lists, in MiB"},
	{"JWT_SECRET", CFG_STR, OFF(jwt_secret),
	 "dev-only-insecure-jwt-secret-change-me-0123456789", 0, 0,
	 CFG_SECRET | CFG_PROD_REQ | CFG_DEV_KEY, "HS256 signing key, at least 32 bytes"},
	{"ACCESS_TOKEN_TTL", CFG_INT, OFF(access_token_ttl), "900", 30, 86400, 0,
	 "access token lifetime in seconds"},
	{"REFRESH_TOKEN_TTL", CFG_INT, OFF(refresh_token_ttl), "1209600", 60, 31536000, 0,
	 "refresh token lifetime in seconds"},
	{"AUTH_RATE_LIMIT", CFG_INT, OFF(auth_rate_limit), "10", 1, 1000000, 0,
	 "sign-in, registration and email requests allowed per client IP and per email "
	 "in each AUTH_RATE_WINDOW"},
	{"AUTH_RATE_WINDOW", CFG_INT, OFF(auth_rate_window_s), "60", 1, 86400, 0,
	 "seconds of the rate-limit window"},
	{"PASSWORD_HASH_CONCURRENCY", CFG_INT, OFF(password_hash_concurrency), "2", 1, 64, 0,
	 "password hashes computed at once (each takes 19 MiB and tens of ms)"},
	{"AVATAR_MAX_BYTES", CFG_INT, OFF(avatar_max_bytes), "2097152", 1024, 20971520, 0,
	 "largest avatar image accepted"},
	{"PUBLIC_BASE_URL", CFG_STR, OFF(public_base_url), "http://127.0.0.1:8000", 0, 0,
	 CFG_PROD_REQ | CFG_URL_HTTP, "base URL for links in emails"},
	{"SMTP_URL", CFG_STR, OFF(smtp_url), "smtp://127.0.0.1:1025", 0, 0,
	 CFG_URL_CRED | CFG_PROD_REQ | CFG_URL_SMTP,
	 "SMTP server (smtp:// or smtps://, optional user:pass@)"},
	{"SMTP_TIMEOUT_MS", CFG_INT, OFF(smtp_timeout_ms), "15000", 100, 600000, 0,
	 "SMTP connect-and-send timeout for one email"},
	{"SMTP_ALLOW_PLAIN", CFG_INT, OFF(smtp_allow_plain), "0", 0, 1, 0,
	 "1: an smtp:// server that offers no STARTTLS gets the mail unencrypted (local "
	 "sinks only); 0: TLS is required"},
	{"EMAIL_PAYLOAD_KEY", CFG_STR, OFF(email_payload_key),
	 "dev-only-insecure-email-payload-key-change-me-0123", 0, 0,
	 CFG_SECRET | CFG_PROD_REQ | CFG_DEV_KEY,
	 "key sealing tokens in queued emails (src/jobs/seal.c), at least 32 bytes; "
	 "the API and the scheduler need the same"},
	{"MAIL_FROM", CFG_STR, OFF(mail_from), "Online Cinema <no-reply@cinema.local>", 0, 0,
	 CFG_NONEMPTY, "sender of outgoing mail"},
	{"TEMPLATES_DIR", CFG_STR, OFF(templates_dir), "templates/email", 0, 0, CFG_NONEMPTY,
	 "directory of email templates (KIND.subject.txt, KIND.txt, KIND.html)"},
	{"EMAIL_QUEUE_KEY", CFG_STR, OFF(email_queue_key), "cinema:email_jobs", 0, 0, CFG_NONEMPTY,
	 "Redis list announcing new email jobs"},
	{"EMAIL_MAX_ATTEMPTS", CFG_INT, OFF(email_max_attempts), "6", 1, 100, 0,
	 "sending attempts before an email is marked failed"},
	{"EMAIL_RETRY_BASE_MS", CFG_INT, OFF(email_retry_base_ms), "5000", 10, 3600000, 0,
	 "first retry delay; doubles each attempt, with jitter"},
	{"EMAIL_RETRY_MAX_MS", CFG_INT, OFF(email_retry_max_ms), "900000", 10, 86400000, 0,
	 "longest retry delay"},
	{"EMAIL_LEASE_SECONDS", CFG_INT, OFF(email_lease_s), "300", 5, 86400, 0,
	 "how long a claimed email stays with one scheduler before others may retry it"},
	{"SCHEDULER_SWEEP_MS", CFG_INT, OFF(scheduler_sweep_ms), "5000", 50, 600000, 0,
	 "how often the scheduler looks for due emails and periodic jobs"},
	{"TOKEN_CLEANUP_INTERVAL", CFG_INT, OFF(token_cleanup_interval_s), "3600", 1, 604800, 0,
	 "seconds between removals of expired activation, reset and refresh tokens"},
	{"PAYMENT_RECONCILE_INTERVAL", CFG_INT, OFF(payment_reconcile_interval_s), "300", 1, 86400,
	 0,
	 "seconds between checks of unsettled Stripe checkouts and retries of automatic refunds"},
	{"STRIPE_API_BASE", CFG_STR, OFF(stripe_api_base), "https://api.stripe.com", 0, 0,
	 CFG_URL_HTTP, "Stripe API base URL"},
	{"STRIPE_SECRET_KEY", CFG_STR, OFF(stripe_secret_key), "", 0, 0, CFG_SECRET | CFG_PROD_REQ,
	 "Stripe secret key"},
	{"STRIPE_WEBHOOK_SECRET", CFG_STR, OFF(stripe_webhook_secret), "", 0, 0,
	 CFG_SECRET | CFG_PROD_REQ, "Stripe webhook signing secret"},
	{"STRIPE_TIMEOUT_MS", CFG_INT, OFF(stripe_timeout_ms), "10000", 100, 120000, 0,
	 "limit of one Stripe API call, connecting included"},
	{"CURRENCY", CFG_STR, OFF(currency), "usd", 0, 0, CFG_NONEMPTY,
	 "currency of prices and payments (ISO 4217 code in lower case)"},
	{"S3_ENDPOINT", CFG_STR, OFF(s3_endpoint), "http://127.0.0.1:9000", 0, 0, CFG_URL_HTTP,
	 "S3-compatible endpoint for avatars"},
	{"S3_PUBLIC_ENDPOINT", CFG_STR, OFF(s3_public_endpoint), "", 0, 0,
	 CFG_URL_HTTP | CFG_EMPTY_OK,
	 "endpoint in the avatar links given to clients, when they reach S3 by another name "
	 "(default: S3_ENDPOINT)"},
	{"S3_BUCKET", CFG_STR, OFF(s3_bucket), "avatars", 0, 0, CFG_NONEMPTY, "S3 bucket"},
	{"S3_ACCESS_KEY", CFG_STR, OFF(s3_access_key), "", 0, 0, CFG_SECRET | CFG_PROD_REQ,
	 "S3 access key id"},
	{"S3_SECRET_KEY", CFG_STR, OFF(s3_secret_key), "", 0, 0, CFG_SECRET | CFG_PROD_REQ,
	 "S3 secret access key"},
	{"S3_REGION", CFG_STR, OFF(s3_region), "us-east-1", 0, 0, CFG_NONEMPTY, "S3 region"},
	{"S3_TIMEOUT_MS", CFG_INT, OFF(s3_timeout_ms), "15000", 100, 600000, 0,
	 "whole S3 request (upload, delete), connecting included"},
	{"MEDIA_POSTER_MAX_BYTES", CFG_LLONG, OFF(media_poster_max_bytes), "10485760", 1024,
	 5368709120LL, 0, "largest poster upload (docs/MEDIA.md)"},
	{"MEDIA_TRAILER_MAX_BYTES", CFG_LLONG, OFF(media_trailer_max_bytes), "2147483648", 1024,
	 5368709120000LL, 0, "largest trailer upload"},
	{"MEDIA_FEATURE_MAX_BYTES", CFG_LLONG, OFF(media_feature_max_bytes), "107374182400", 1024,
	 5368709120000LL, 0, "largest feature upload"},
	{"MEDIA_PART_BYTES", CFG_LLONG, OFF(media_part_bytes), "8388608", 5242880, 5368709120LL, 0,
	 "files up to this size are one presigned PUT; larger ones a multipart upload in parts "
	 "of this size (grown in whole MiB past 1,000 parts; at least S3's 5 MiB)"},
	{"MEDIA_UPLOAD_TTL_S", CFG_INT, OFF(media_upload_ttl_s), "86400", 1, 604800, 0,
	 "how long the presigned upload URLs stay valid"},
	{"MEDIA_UPLOAD_GRACE_S", CFG_INT, OFF(media_upload_grace_s), "3600", 0, 604800, 0,
	 "how long after its URLs expire an unconfirmed upload is deleted by the scheduler"},
	{"MEDIA_CLEANUP_INTERVAL_S", CFG_INT, OFF(media_cleanup_interval_s), "300", 1, 86400, 0,
	 "seconds between the scheduler's sweeps of abandoned uploads and media objects to delete"},
	{"MEDIA_TRASH_QUEUE_KEY", CFG_STR, OFF(media_trash_queue_key), "cinema:media_trash", 0, 0,
	 CFG_NONEMPTY, "Redis list that wakes the scheduler to delete orphaned media objects"},
	{"PLAY_URL_TTL_S", CFG_INT, OFF(play_url_ttl_s), "7200", 60, 604800, 0,
	 "seconds a feature's playback URL (GET /movies/{id}/play) stays valid"},
	{"LOG_LEVEL", CFG_LOGLEVEL, OFF(log_level), "info", 0, 0, 0, "debug, info, warn or error"},
	{"OPENAPI_PATH", CFG_STR, OFF(openapi_path), "openapi.yaml", 0, 0, CFG_NONEMPTY,
	 "the OpenAPI document served at /openapi.yaml (its .json twin beside it)"},
	{"DOCS_ASSETS_DIR", CFG_STR, OFF(docs_assets_dir), "node_modules/swagger-ui-dist", 0, 0,
	 CFG_NONEMPTY, "Swagger UI files (npm swagger-ui-dist) served at /docs/assets"},
	{"WEB_DIR", CFG_STR, OFF(web_dir), "", 0, 0, 0,
	 "directory of the built web app (web/dist), loaded into memory at start and served "
	 "for every path outside the API; empty: no app"},
	{"TRUSTED_PROXIES", CFG_STR, OFF(trusted_proxies), "", 0, 0, 0,
	 "comma-separated IP addresses of load balancers whose X-Forwarded-For names the "
	 "client (for rate limits and logs); empty: the peer address"},
	{"CORS_ORIGINS", CFG_STR, OFF(cors_origins), "", 0, 0, 0,
	 "comma-separated origins allowed by CORS (empty: none)"},
	{"METRICS_TOKEN", CFG_STR, OFF(metrics_token), "", 0, 0, CFG_SECRET,
	 "bearer token for /metrics (empty: /metrics is off)"},
};

#define CFG_COUNT (sizeof(cfg_table) / sizeof(cfg_table[0]))

static const char *getenv_lookup(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

static bool parse_llong(const char *s, long long min, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_int(const char *s, long long min, long long max, int *out)
{
	long long v;
	if (!parse_llong(s, min, max, &v))
		return false;
	*out = (int)v;
	return true;
}

static bool cors_origins_valid(const char *list)
{
	/* Each origin is scheme://host[:port] with nothing after; "*" and "null"
	 * are refused: credentials must never be shared with every origin. */
	if (!*list)
		return true;
	for (const char *p = list;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		while (n && *p == ' ') {
			p++;
			n--;
		}
		while (n && p[n - 1] == ' ')
			n--;
		/* an empty entry, including after a trailing comma, is a typo */
		if (n == 0 || (n == 1 && *p == '*') || (n == 4 && strncmp(p, "null", 4) == 0))
			return false;
		size_t scheme = 0;
		if (strncmp(p, "http://", 7) == 0)
			scheme = 7;
		else if (strncmp(p, "https://", 8) == 0)
			scheme = 8;
		if (!scheme || scheme >= n) /* no scheme, or no host */
			return false;
		/* an origin has no path, query, fragment, user info or blanks */
		for (size_t i = scheme; i < n; i++)
			if (strchr("/?#@ \t", p[i]))
				return false;
		if (!end)
			return true;
		p = end + 1;
	}
}

bool config_load_from(struct config *out, const char *(*lookup)(const char *name, void *ctx),
		      void *ctx, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *app_env = lookup("APP_ENV", ctx);
	bool production = app_env && strcmp(app_env, "production") == 0;

	for (size_t i = 0; i < CFG_COUNT; i++) {
		const struct cfg_entry *e = &cfg_table[i];
		const char *v = lookup(e->env, ctx);
		char *field = (char *)out + e->offset;
		/* In production an empty secret is as missing as an unset one. */
		if (production && (e->flags & CFG_PROD_REQ) && (!v || !*v)) {
			snprintf(err, errlen, "%s must be set when APP_ENV=production", e->env);
			goto fail;
		}
		if (production && (e->flags & CFG_DEV_KEY) && v && strcmp(v, e->def) == 0) {
			snprintf(err, errlen,
				 "%s must not be the development default when "
				 "APP_ENV=production",
				 e->env);
			goto fail;
		}
		if (!v || (!*v && e->type != CFG_STR))
			v = e->def;
		switch (e->type) {
		case CFG_ENV:
			if (strcmp(v, "production") != 0 && strcmp(v, "development") != 0) {
				snprintf(err, errlen, "%s must be development or production",
					 e->env);
				goto fail;
			}
			*(bool *)(void *)field = production;
			break;
		case CFG_INT:
			if (!parse_int(v, e->min, e->max, (int *)(void *)field)) {
				snprintf(err, errlen, "%s must be an integer from %lld to %lld",
					 e->env, e->min, e->max);
				goto fail;
			}
			break;
		case CFG_LLONG:
			if (!parse_llong(v, e->min, e->max, (long long *)(void *)field)) {
				snprintf(err, errlen, "%s must be an integer from %lld to %lld",
					 e->env, e->min, e->max);
				goto fail;
			}
			break;
		case CFG_LOGLEVEL:
			if (!log_level_parse(v, (enum log_level *)(void *)field)) {
				snprintf(err, errlen, "%s must be debug, info, warn or error",
					 e->env);
				goto fail;
			}
			break;
		case CFG_STR:
			if ((e->flags & CFG_NONEMPTY) && !*v) {
				snprintf(err, errlen, "%s must not be empty", e->env);
				goto fail;
			}
			if ((e->flags & CFG_URL_HTTP) && !(!*v && (e->flags & CFG_EMPTY_OK)) &&
			    strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
				snprintf(err, errlen, "%s must be an http:// or https:// URL",
					 e->env);
				goto fail;
			}
			if ((e->flags & CFG_URL_SMTP) && *v && strncmp(v, "smtp://", 7) != 0 &&
			    strncmp(v, "smtps://", 8) != 0) {
				snprintf(err, errlen, "%s must be an smtp:// or smtps:// URL",
					 e->env);
				goto fail;
			}
			*(char **)(void *)field = xstrdup(v);
			break;
		}
	}

	if (strlen(out->jwt_secret) < 32) {
		snprintf(err, errlen, "JWT_SECRET must be at least 32 bytes");
		goto fail;
	}
	/* The dependency lanes together must leave workers for everything else
	 * (catalog reads above all): that is what makes them bulkheads. */
	if (out->http_workers_password + out->http_workers_stripe + out->http_workers_s3 >=
	    out->http_workers) {
		snprintf(err, errlen,
			 "HTTP_WORKERS_PASSWORD + HTTP_WORKERS_STRIPE + HTTP_WORKERS_S3 must be "
			 "less than HTTP_WORKERS");
		goto fail;
	}
	if (out->db_read_pool_size == 0)
		out->db_read_pool_size = out->db_pool_size;
	if (strlen(out->email_payload_key) < 32) {
		snprintf(err, errlen, "EMAIL_PAYLOAD_KEY must be at least 32 bytes");
		goto fail;
	}
	if (strlen(out->currency) != 3 ||
	    strspn(out->currency, "abcdefghijklmnopqrstuvwxyz") != 3) {
		snprintf(err, errlen,
			 "CURRENCY must be a three-letter ISO 4217 code in lower case");
		goto fail;
	}
	if (!cors_origins_valid(out->cors_origins)) {
		snprintf(err, errlen,
			 "CORS_ORIGINS must be a comma-separated list of http(s)://host[:port] "
			 "origins, without \"*\" or \"null\"");
		goto fail;
	}
	return true;
fail:
	config_free(out);
	return false;
}

bool config_load(struct config *out, char *err, size_t errlen)
{
	return config_load_from(out, getenv_lookup, NULL, err, errlen);
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < CFG_COUNT; i++) {
		if (cfg_table[i].type != CFG_STR)
			continue;
		char **p = (char **)(void *)((char *)cfg + cfg_table[i].offset);
		free(*p);
		*p = NULL;
	}
}

const char *config_url_redact(const char *url, char *out, size_t outlen)
{
	static const char mask[] = "***";
	struct buf b = BUF_INIT;
	const char *p = url;
	const char *auth = strstr(url, "://");

	if (auth) {
		auth += 3;
		/* userinfo ends at the last @ of the whole URL, not of the
		 * authority: a password with an unencoded / ? # @ must not
		 * show. At worst more than the password is masked. */
		const char *at = strrchr(auth, '@');
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon) {
			buf_append(&b, url, (size_t)(colon + 1 - url));
			buf_append_str(&b, mask);
			p = at;
		}
	}
	/* key=value parameters (libpq's ?password=, a conninfo's password=) */
	for (;;) {
		const char *k = strstr(p, "password=");
		if (!k)
			break;
		bool starts = k == url || strchr("?&; ", k[-1]);
		k += strlen("password=");
		buf_append(&b, p, (size_t)(k - p));
		p = k;
		if (!starts)
			continue;
		buf_append_str(&b, mask);
		p += strcspn(p, "&# ");
	}
	buf_append_str(&b, p);
	snprintf(out, outlen, "%s", b.data ? b.data : "");
	buf_free(&b);
	return out;
}

void config_print_help(FILE *f)
{
	fprintf(f, "Environment variables (those unset are read from the file CINEMA_ENV_FILE "
		   "names, else from ./.data/env\nwhen it exists, which scripts/run.sh "
		   "writes):\n");
	for (size_t i = 0; i < CFG_COUNT; i++) {
		const struct cfg_entry *e = &cfg_table[i];
		fprintf(f, "  %-24s %s", e->env, e->help);
		if (e->flags & CFG_SECRET)
			fprintf(f, " (secret)");
		if (e->def && *e->def && !(e->flags & CFG_SECRET)) {
			char v[512];
			config_url_redact(e->def, v, sizeof(v));
			fprintf(f, " [default: %s]", (e->flags & CFG_URL_CRED) ? v : e->def);
		}
		fprintf(f, "\n");
	}
}

void config_log(const struct config *cfg)
{
	for (size_t i = 0; i < CFG_COUNT; i++) {
		const struct cfg_entry *e = &cfg_table[i];
		const char *field = (const char *)cfg + e->offset;
		switch (e->type) {
		case CFG_STR: {
			const char *v = *(char *const *)(const void *)field;
			/* Development only: production refuses these defaults. */
			if ((e->flags & CFG_DEV_KEY) && v && strcmp(v, e->def) == 0)
				LOG_WARN("secret left at its development default; set it",
					 LOG_STR("name", e->env));
			char redacted[512];
			if (e->flags & CFG_SECRET)
				v = (v && *v) ? "(set)" : "(unset)";
			else if ((e->flags & CFG_URL_CRED) && v)
				v = config_url_redact(v, redacted, sizeof(redacted));
			LOG_DEBUG("config", LOG_STR("name", e->env), LOG_STR("value", v));
			break;
		}
		case CFG_INT:
			LOG_DEBUG("config", LOG_STR("name", e->env),
				  LOG_INT("value", *(const int *)(const void *)field));
			break;
		case CFG_LLONG:
			LOG_DEBUG("config", LOG_STR("name", e->env),
				  LOG_INT("value", *(const long long *)(const void *)field));
			break;
		case CFG_ENV:
			LOG_DEBUG("config", LOG_STR("name", e->env),
				  LOG_STR("value", cfg->production ? "production" : "development"));
			break;
		case CFG_LOGLEVEL:
			break;
		}
	}
}
