/* Startup configuration, loaded once from the environment through one table
 * (config.c) that drives defaults, bounds, validation, --help and redaction
 * of secrets. Immutable after config_load returns; safe to read from any
 * thread. */
#ifndef CINEMA_CONFIG_H
#define CINEMA_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "cinema/log.h"

struct config {
	bool production; /* APP_ENV=production: secrets are required */

	char *http_host;
	int http_port;
	int http_threads;
	int http_workers;
	int http_queue_max;
	int http_queue_timeout_ms;
	int http_workers_password, http_workers_stripe, http_workers_s3;
	int http_connection_limit;
	int http_per_ip_limit;
	int http_timeout_s;
	int shutdown_grace_s;

	char *database_url;
	int db_pool_size;
	int db_acquire_timeout_ms;
	int db_connect_timeout_s;
	int db_statement_timeout_ms;
	char *database_read_url; /* "" when there is no read replica */
	int db_read_pool_size;	 /* DB_READ_POOL_SIZE, or DB_POOL_SIZE when that is 0 */
	char *migrations_dir;

	char *redis_url;
	int redis_pool_size;
	int redis_timeout_ms;
	int catalog_cache_ttl_ms;
	int catalog_cache_mb;

	char *jwt_secret;
	int access_token_ttl;
	int auth_rate_limit;
	int auth_rate_window_s;
	int password_hash_concurrency;
	int avatar_max_bytes;
	int refresh_token_ttl;
	char *public_base_url;
	char *smtp_url;
	int smtp_timeout_ms;
	int smtp_allow_plain;	 /* 1: smtp:// may go without STARTTLS (local sinks) */
	char *email_payload_key; /* seals tokens in email_jobs (src/jobs/seal.c) */
	char *mail_from;
	char *templates_dir;
	char *email_queue_key;
	int email_max_attempts;
	int email_retry_base_ms;
	int email_retry_max_ms;
	int email_lease_s;
	int scheduler_sweep_ms;
	int token_cleanup_interval_s;
	int payment_reconcile_interval_s;
	char *stripe_api_base;
	char *stripe_secret_key;
	char *stripe_webhook_secret;
	int stripe_timeout_ms; /* whole Stripe API call, connecting included */
	char *currency;	       /* ISO 4217, lower case, e.g. "usd" */
	char *s3_endpoint;
	char *s3_public_endpoint; /* "" when clients use s3_endpoint */
	char *s3_bucket;
	char *s3_access_key;
	char *s3_secret_key;
	char *s3_region;
	int s3_timeout_ms;
	/* media (docs/MEDIA.md) */
	long long media_poster_max_bytes;
	long long media_trailer_max_bytes;
	long long media_feature_max_bytes;
	long long media_part_bytes; /* single PUT up to this; else parts of at least this */
	int media_upload_ttl_s;	    /* validity of presigned upload URLs */
	int media_upload_grace_s;   /* after expiry, before the scheduler drops the upload */
	int media_cleanup_interval_s;
	char *media_trash_queue_key; /* Redis list waking the scheduler's trash drain */
	int play_url_ttl_s;	     /* how long a feature's presigned URL is valid */
	enum log_level log_level;
	char *openapi_path;
	char *docs_assets_dir;
	char *web_dir;	       /* the built web app (web/dist); "" for none */
	char *cors_origins;    /* comma-separated list, "" for none */
	char *trusted_proxies; /* comma-separated IPs whose X-Forwarded-For is believed */
	char *metrics_token;
};

/* Loads the configuration from getenv. On failure returns false and writes a
 * one-line reason naming the variable into err (size errlen). On success *out
 * owns its strings; release with config_free. */
bool config_load(struct config *out, char *err, size_t errlen);
/* As config_load, with a lookup function instead of getenv (for tests). */
bool config_load_from(struct config *out, const char *(*lookup)(const char *name, void *ctx),
		      void *ctx, char *err, size_t errlen);
void config_free(struct config *cfg);
/* Writes url into out (size outlen, truncated to fit) with its password
 * replaced by "***": the user:PASSWORD@ part and any password=VALUE
 * parameter. Returns out. */
const char *config_url_redact(const char *url, char *out, size_t outlen);
/* Prints every variable with its default and meaning (for --help). */
void config_print_help(FILE *f);
/* Logs the effective configuration, secrets shown as "(set)" or "(unset)"
 * (debug), and warns about keys left at their public development default. */
void config_log(const struct config *cfg);

#endif
