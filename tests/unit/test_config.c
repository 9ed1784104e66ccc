/* Configuration loading through config_load_from with a fake environment:
 * defaults, bounds, production rules, CORS origins. Every refusal must name
 * the variable so the operator knows what to fix. */
#include <check.h>
#include <string.h>

#include "cinema/config.h"

/* A fake environment: NULL-terminated pairs of name and value. */
static const char *lookup(const char *name, void *ctx)
{
	for (const char *const *kv = ctx; kv[0]; kv += 2)
		if (strcmp(kv[0], name) == 0)
			return kv[1];
	return NULL;
}

/* An environment as a compound literal: ENV("HTTP_PORT", "0"). The lookup
 * returns the first match, so an earlier pair overrides a later one. */
#define ENV(...)  ((const char *const[]){__VA_ARGS__, NULL})
#define ENV_EMPTY ((const char *const[]){NULL})

#define SECRET_32 "0123456789abcdef0123456789abcdef"

/* Every variable production requires, set. */
#define PRODUCTION_SECRETS                                                                 \
	"DATABASE_URL", "postgresql://db/cinema", "REDIS_URL", "redis://kv:6379/0",        \
		"PUBLIC_BASE_URL", "https://cinema.example", "SMTP_URL", "smtp://mail:25", \
		"STRIPE_SECRET_KEY", "sk_live_x", "STRIPE_WEBHOOK_SECRET", "whsec_x",      \
		"S3_ACCESS_KEY", "ak", "S3_SECRET_KEY", "sk", "EMAIL_PAYLOAD_KEY", SECRET_32

static struct config cfg;
static char err[256];

static void setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(err, 0, sizeof(err));
}

static void teardown(void)
{
	config_free(&cfg);
}

static bool load(const char *const *env)
{
	return config_load_from(&cfg, lookup, (void *)env, err, sizeof(err));
}

static void assert_loads(const char *const *env)
{
	ck_assert_msg(load(env), "refused: %s", err);
}

/* Loading env must fail with a one-line reason naming var. */
static void assert_refused(const char *const *env, const char *var)
{
	ck_assert_msg(!load(env), "accepted, expected a complaint about %s", var);
	ck_assert_msg(strstr(err, var) != NULL, "reason \"%s\" does not name %s", err, var);
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert_ptr_null(cfg.http_host); /* nothing left to free */
}

/* --- defaults and overrides --- */

START_TEST(defaults_load)
{
	assert_loads(ENV_EMPTY);
	ck_assert(!cfg.production);
	ck_assert_str_eq(cfg.http_host, "127.0.0.1");
	ck_assert_int_eq(cfg.http_port, 8000);
	ck_assert_int_gt(cfg.http_threads, 0);
	ck_assert_int_gt(cfg.db_pool_size, 0);
	ck_assert_uint_ge(strlen(cfg.jwt_secret), 32);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_INFO);
	ck_assert_str_eq(cfg.cors_origins, "");
	ck_assert_str_eq(cfg.stripe_secret_key, "");
	ck_assert_str_eq(cfg.metrics_token, "");
}
END_TEST

START_TEST(values_override_defaults)
{
	assert_loads(ENV("HTTP_PORT", "9000", "LOG_LEVEL", "debug", "HTTP_HOST", "0.0.0.0",
			 "METRICS_TOKEN", "m"));
	ck_assert_int_eq(cfg.http_port, 9000);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_DEBUG);
	ck_assert_str_eq(cfg.http_host, "0.0.0.0");
	ck_assert_str_eq(cfg.metrics_token, "m");
}
END_TEST

START_TEST(port_bounds_are_inclusive)
{
	assert_loads(ENV("HTTP_PORT", "1"));
	ck_assert_int_eq(cfg.http_port, 1);
	config_free(&cfg);
	assert_loads(ENV("HTTP_PORT", "65535"));
	ck_assert_int_eq(cfg.http_port, 65535);
}
END_TEST

START_TEST(empty_integer_uses_default)
{
	assert_loads(ENV("HTTP_PORT", ""));
	ck_assert_int_eq(cfg.http_port, 8000);
}
END_TEST

/* --- bounds: the reason names the variable --- */

/* The read replica is off unless named; its pool follows DB_POOL_SIZE
 * unless DB_READ_POOL_SIZE says otherwise. */
START_TEST(read_replica_defaults_and_pool_size)
{
	assert_loads(ENV("DB_POOL_SIZE", "12"));
	ck_assert_str_eq(cfg.database_read_url, "");
	ck_assert_int_eq(cfg.db_read_pool_size, 12);
	config_free(&cfg);
	assert_loads(ENV("DATABASE_READ_URL", "postgresql://ro@replica/cinema", "DB_READ_POOL_SIZE",
			 "5"));
	ck_assert_str_eq(cfg.database_read_url, "postgresql://ro@replica/cinema");
	ck_assert_int_eq(cfg.db_read_pool_size, 5);
	ck_assert_int_eq(cfg.db_pool_size, 16);
	config_free(&cfg);
	assert_refused(ENV("DB_READ_POOL_SIZE", "513"), "DB_READ_POOL_SIZE");
}
END_TEST

START_TEST(port_zero_refused)
{
	assert_refused(ENV("HTTP_PORT", "0"), "HTTP_PORT");
}
END_TEST

START_TEST(port_above_range_refused)
{
	assert_refused(ENV("HTTP_PORT", "65536"), "HTTP_PORT");
}
END_TEST

START_TEST(port_not_a_number_refused)
{
	assert_refused(ENV("HTTP_PORT", "abc"), "HTTP_PORT");
}
END_TEST

START_TEST(port_with_trailing_garbage_refused)
{
	assert_refused(ENV("HTTP_PORT", "80x"), "HTTP_PORT");
}
END_TEST

START_TEST(port_overflowing_long_refused)
{
	assert_refused(ENV("HTTP_PORT", "99999999999999999999999"), "HTTP_PORT");
}
END_TEST

START_TEST(other_integer_bounds_named)
{
	assert_refused(ENV("DB_POOL_SIZE", "0"), "DB_POOL_SIZE");
}
END_TEST

/* Byte sizes past 2 GiB are 64-bit settings. */
START_TEST(media_sizes_load)
{
	assert_loads(ENV_EMPTY);
	ck_assert_int_eq(cfg.media_poster_max_bytes, 10485760LL);
	ck_assert_int_eq(cfg.media_feature_max_bytes, 107374182400LL);
	ck_assert_int_eq(cfg.media_part_bytes, 8388608LL);
	ck_assert_str_eq(cfg.media_trash_queue_key, "cinema:media_trash");
	config_free(&cfg);
	assert_loads(ENV("MEDIA_FEATURE_MAX_BYTES", "5368709120000", "MEDIA_PART_BYTES", "5242880",
			 "MEDIA_UPLOAD_TTL_S", "1", "MEDIA_UPLOAD_GRACE_S", "0"));
	ck_assert_int_eq(cfg.media_feature_max_bytes, 5368709120000LL);
	ck_assert_int_eq(cfg.media_part_bytes, 5242880LL);
	ck_assert_int_eq(cfg.media_upload_ttl_s, 1);
	ck_assert_int_eq(cfg.media_upload_grace_s, 0);
}
END_TEST

START_TEST(media_bounds_named)
{
	/* S3 refuses parts under 5 MiB (but the last). */
	assert_refused(ENV("MEDIA_PART_BYTES", "5242879"), "MEDIA_PART_BYTES");
	assert_refused(ENV("MEDIA_FEATURE_MAX_BYTES", "5368709120001"), "MEDIA_FEATURE_MAX_BYTES");
	assert_refused(ENV("MEDIA_POSTER_MAX_BYTES", "99999999999999999999999"),
		       "MEDIA_POSTER_MAX_BYTES");
	/* Presigned URLs live at most 7 days. */
	assert_refused(ENV("MEDIA_UPLOAD_TTL_S", "604801"), "MEDIA_UPLOAD_TTL_S");
	assert_refused(ENV("MEDIA_TRASH_QUEUE_KEY", ""), "MEDIA_TRASH_QUEUE_KEY");
}
END_TEST

START_TEST(unknown_log_level_refused)
{
	assert_refused(ENV("LOG_LEVEL", "loud"), "LOG_LEVEL");
}
END_TEST

START_TEST(unknown_app_env_refused)
{
	assert_refused(ENV("APP_ENV", "staging"), "APP_ENV");
}
END_TEST

START_TEST(empty_required_string_refused)
{
	assert_refused(ENV("HTTP_HOST", ""), "HTTP_HOST");
}
END_TEST

START_TEST(non_http_url_refused)
{
	assert_refused(ENV("PUBLIC_BASE_URL", "ftp://cinema.example"), "PUBLIC_BASE_URL");
}
END_TEST

/* An optional URL: empty means unset; set, it must be http(s). */
START_TEST(optional_url_empty_or_http)
{
	assert_loads(ENV("S3_PUBLIC_ENDPOINT", ""));
	ck_assert_str_eq(cfg.s3_public_endpoint, "");
	config_free(&cfg);
	assert_loads(ENV("S3_PUBLIC_ENDPOINT", "https://media.example"));
	ck_assert_str_eq(cfg.s3_public_endpoint, "https://media.example");
	config_free(&cfg);
	assert_refused(ENV("S3_PUBLIC_ENDPOINT", "media.example"), "S3_PUBLIC_ENDPOINT");
}
END_TEST

START_TEST(reason_fits_a_small_buffer)
{
	char small[8];
	memset(small, 'x', sizeof(small));
	ck_assert(!config_load_from(&cfg, lookup, (void *)ENV("HTTP_PORT", "0"), small,
				    sizeof(small)));
	ck_assert_uint_lt(strnlen(small, sizeof(small)), sizeof(small));
}
END_TEST

/* --- JWT secret and production --- */

START_TEST(short_jwt_secret_refused)
{
	assert_refused(ENV("JWT_SECRET", "0123456789abcdef0123456789abcde"), "JWT_SECRET");
}
END_TEST

START_TEST(jwt_secret_of_32_bytes_accepted)
{
	assert_loads(ENV("JWT_SECRET", SECRET_32));
	ck_assert_str_eq(cfg.jwt_secret, SECRET_32);
}
END_TEST

/* JWT_SECRET's default is public (development only): production refuses
 * it, unset or set to that very value. */
START_TEST(production_refuses_dev_default_jwt_secret)
{
	assert_loads(ENV_EMPTY);
	char dev_key[128];
	snprintf(dev_key, sizeof(dev_key), "%s", cfg.jwt_secret);
	config_free(&cfg);
	assert_refused(ENV("APP_ENV", "production", "JWT_SECRET", dev_key, PRODUCTION_SECRETS),
		       "JWT_SECRET");
	assert_loads(ENV("JWT_SECRET", dev_key)); /* development: warned about at start */
}
END_TEST

START_TEST(production_with_every_secret_loads)
{
	assert_loads(ENV("APP_ENV", "production", "JWT_SECRET", SECRET_32, PRODUCTION_SECRETS));
	ck_assert(cfg.production);
	ck_assert_str_eq(cfg.stripe_secret_key, "sk_live_x");
}
END_TEST

START_TEST(production_without_jwt_secret_refused)
{
	assert_refused(ENV("APP_ENV", "production", PRODUCTION_SECRETS), "JWT_SECRET");
}
END_TEST

START_TEST(production_without_database_url_refused)
{
	assert_refused(ENV("APP_ENV", "production", "JWT_SECRET", SECRET_32), "DATABASE_URL");
}
END_TEST

START_TEST(email_payload_key_rules)
{
	assert_refused(ENV("EMAIL_PAYLOAD_KEY", "0123456789abcdef0123456789abcde"),
		       "EMAIL_PAYLOAD_KEY");
	assert_loads(ENV("EMAIL_PAYLOAD_KEY", SECRET_32 "x"));
	ck_assert_str_eq(cfg.email_payload_key, SECRET_32 "x");
	config_free(&cfg);
	/* Development: a default, warned about at start; production: required,
	 * and the public development value is refused. */
	assert_loads(ENV_EMPTY);
	ck_assert_uint_ge(strlen(cfg.email_payload_key), 32);
	char dev_key[128];
	snprintf(dev_key, sizeof(dev_key), "%s", cfg.email_payload_key);
	config_free(&cfg);
	assert_refused(ENV("EMAIL_PAYLOAD_KEY", "", "APP_ENV", "production", "JWT_SECRET",
			   SECRET_32, PRODUCTION_SECRETS),
		       "EMAIL_PAYLOAD_KEY");
	assert_refused(ENV("EMAIL_PAYLOAD_KEY", dev_key, "APP_ENV", "production", "JWT_SECRET",
			   SECRET_32, PRODUCTION_SECRETS),
		       "EMAIL_PAYLOAD_KEY");
}
END_TEST

START_TEST(smtp_allow_plain_is_off_unless_set)
{
	assert_loads(ENV_EMPTY);
	ck_assert_int_eq(cfg.smtp_allow_plain, 0);
	config_free(&cfg);
	assert_loads(ENV("SMTP_ALLOW_PLAIN", "1"));
	ck_assert_int_eq(cfg.smtp_allow_plain, 1);
	config_free(&cfg);
	assert_refused(ENV("SMTP_ALLOW_PLAIN", "yes"), "SMTP_ALLOW_PLAIN");
	assert_refused(ENV("SMTP_ALLOW_PLAIN", "2"), "SMTP_ALLOW_PLAIN");
}
END_TEST

START_TEST(production_refuses_the_development_jwt_secret)
{
	assert_loads(ENV_EMPTY);
	char dev_key[128];
	snprintf(dev_key, sizeof(dev_key), "%s", cfg.jwt_secret);
	config_free(&cfg);
	assert_refused(ENV("APP_ENV", "production", "JWT_SECRET", dev_key, PRODUCTION_SECRETS),
		       "JWT_SECRET");
}
END_TEST

START_TEST(production_with_empty_secret_refused)
{
	/* An empty value is no secret: refused like a missing one. */
	assert_refused(ENV("STRIPE_SECRET_KEY", "", "APP_ENV", "production", "JWT_SECRET",
			   SECRET_32, PRODUCTION_SECRETS),
		       "STRIPE_SECRET_KEY");
}
END_TEST

START_TEST(development_allows_empty_secrets)
{
	assert_loads(ENV("STRIPE_SECRET_KEY", ""));
	ck_assert_str_eq(cfg.stripe_secret_key, "");
}
END_TEST

/* --- CORS_ORIGINS --- */

START_TEST(cors_star_refused)
{
	assert_refused(ENV("CORS_ORIGINS", "*"), "CORS_ORIGINS");
}
END_TEST

START_TEST(cors_null_refused)
{
	assert_refused(ENV("CORS_ORIGINS", "null"), "CORS_ORIGINS");
}
END_TEST

START_TEST(cors_star_among_others_refused)
{
	assert_refused(ENV("CORS_ORIGINS", "http://a.com, *"), "CORS_ORIGINS");
}
END_TEST

START_TEST(cors_origin_with_path_refused)
{
	assert_refused(ENV("CORS_ORIGINS", "http://a.com/app"), "CORS_ORIGINS");
}
END_TEST

START_TEST(cors_origin_with_trailing_slash_refused)
{
	assert_refused(ENV("CORS_ORIGINS", "https://a.com/"), "CORS_ORIGINS");
}
END_TEST

START_TEST(cors_origin_without_scheme_refused)
{
	assert_refused(ENV("CORS_ORIGINS", "a.com"), "CORS_ORIGINS");
}
END_TEST

START_TEST(cors_origin_without_host_refused)
{
	assert_refused(ENV("CORS_ORIGINS", "http://"), "CORS_ORIGINS");
}
END_TEST

START_TEST(cors_origin_with_query_refused)
{
	assert_refused(ENV("CORS_ORIGINS", "http://a.com?x=1"), "CORS_ORIGINS");
}
END_TEST

START_TEST(cors_origin_with_userinfo_refused)
{
	assert_refused(ENV("CORS_ORIGINS", "http://u@a.com"), "CORS_ORIGINS");
}
END_TEST

START_TEST(cors_empty_entry_refused)
{
	assert_refused(ENV("CORS_ORIGINS", "http://a.com,,http://b.com"), "CORS_ORIGINS");
}
END_TEST

START_TEST(cors_trailing_comma_refused)
{
	assert_refused(ENV("CORS_ORIGINS", "http://a.com,"), "CORS_ORIGINS");
}
END_TEST

START_TEST(cors_list_accepted)
{
	assert_loads(ENV("CORS_ORIGINS", "http://a.com, https://b.org:8443"));
	ck_assert_str_eq(cfg.cors_origins, "http://a.com, https://b.org:8443");
}
END_TEST

START_TEST(cors_empty_means_none)
{
	assert_loads(ENV("CORS_ORIGINS", ""));
	ck_assert_str_eq(cfg.cors_origins, "");
}
END_TEST

/* --- ownership (valgrind checks the rest) --- */

START_TEST(free_clears_strings_and_is_idempotent)
{
	assert_loads(ENV_EMPTY);
	config_free(&cfg);
	ck_assert_ptr_null(cfg.http_host);
	ck_assert_ptr_null(cfg.jwt_secret);
	config_free(&cfg); /* the teardown frees again */
	config_free(NULL);
}
END_TEST

START_TEST(reload_after_free_does_not_leak)
{
	for (int i = 0; i < 3; i++) {
		assert_loads(ENV("HTTP_PORT", "8080"));
		config_free(&cfg);
	}
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");

	TCase *tc = tcase_create("values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults_load);
	tcase_add_test(tc, values_override_defaults);
	tcase_add_test(tc, port_bounds_are_inclusive);
	tcase_add_test(tc, empty_integer_uses_default);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, read_replica_defaults_and_pool_size);
	tcase_add_test(tc, port_zero_refused);
	tcase_add_test(tc, port_above_range_refused);
	tcase_add_test(tc, port_not_a_number_refused);
	tcase_add_test(tc, port_with_trailing_garbage_refused);
	tcase_add_test(tc, port_overflowing_long_refused);
	tcase_add_test(tc, other_integer_bounds_named);
	tcase_add_test(tc, media_sizes_load);
	tcase_add_test(tc, media_bounds_named);
	tcase_add_test(tc, unknown_log_level_refused);
	tcase_add_test(tc, unknown_app_env_refused);
	tcase_add_test(tc, empty_required_string_refused);
	tcase_add_test(tc, non_http_url_refused);
	tcase_add_test(tc, optional_url_empty_or_http);
	tcase_add_test(tc, reason_fits_a_small_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("secrets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, short_jwt_secret_refused);
	tcase_add_test(tc, jwt_secret_of_32_bytes_accepted);
	tcase_add_test(tc, production_refuses_dev_default_jwt_secret);
	tcase_add_test(tc, production_with_every_secret_loads);
	tcase_add_test(tc, production_without_jwt_secret_refused);
	tcase_add_test(tc, production_without_database_url_refused);
	tcase_add_test(tc, production_with_empty_secret_refused);
	tcase_add_test(tc, email_payload_key_rules);
	tcase_add_test(tc, production_refuses_the_development_jwt_secret);
	tcase_add_test(tc, smtp_allow_plain_is_off_unless_set);
	tcase_add_test(tc, development_allows_empty_secrets);
	suite_add_tcase(s, tc);

	tc = tcase_create("cors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, cors_star_refused);
	tcase_add_test(tc, cors_null_refused);
	tcase_add_test(tc, cors_star_among_others_refused);
	tcase_add_test(tc, cors_origin_with_path_refused);
	tcase_add_test(tc, cors_origin_with_trailing_slash_refused);
	tcase_add_test(tc, cors_origin_without_scheme_refused);
	tcase_add_test(tc, cors_origin_without_host_refused);
	tcase_add_test(tc, cors_origin_with_query_refused);
	tcase_add_test(tc, cors_origin_with_userinfo_refused);
	tcase_add_test(tc, cors_empty_entry_refused);
	tcase_add_test(tc, cors_trailing_comma_refused);
	tcase_add_test(tc, cors_list_accepted);
	tcase_add_test(tc, cors_empty_means_none);
	suite_add_tcase(s, tc);

	tc = tcase_create("ownership");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, free_clears_strings_and_is_idempotent);
	tcase_add_test(tc, reload_after_free_does_not_leak);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
