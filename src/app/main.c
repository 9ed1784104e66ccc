/* cinema-api: the HTTP server and its operator commands.
 *
 *   cinema-api serve      run the HTTP API
 *   cinema-api migrate    apply pending database migrations
 *   cinema-api routes     print the route table (method, path, access, lane), then
 *                         the web app's fallback route
 *   cinema-api create-user --email E --password P [--group G] [--active]
 *   cinema-api seed [--file PATH] [--movies N]
 *   cinema-api healthcheck   exit 0 when the local server answers /readyz with 200
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/password.h"
#include "accounts/service.h"
#include "app/routes.h"
#include "catalog/seed.h"
#include "catalog/list_cache.h"
#include "cinema/app.h"
#include "cinema/config.h"
#include "cinema/db.h"
#include "cinema/envfile.h"
#include "cinema/kv.h"
#include "cinema/log.h"
#include "cinema/validate.h"
#include "docs/docs.h"
#include "http/server.h"
#include "storage/s3.h"
#include "web/static.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cinema-api <command>\n\n"
		"commands:\n"
		"  serve     run the HTTP API until SIGTERM or SIGINT\n"
		"  migrate   apply pending database migrations (safe to run concurrently)\n"
		"  routes    print every route as METHOD PATH ACCESS LANE\n"
		"  create-user --email E --password P [--group USER|MODERATOR|ADMIN] [--active]\n"
		"            create an account (the first admin, for instance)\n"
		"  seed [--file PATH] [--movies N]\n"
		"            load the demo catalog, or add N generated movies\n"
		"  seed --media DIR\n"
		"            store and link the media files DIR/media.tsv lists\n"
		"  healthcheck\n"
		"            GET http://127.0.0.1:$HTTP_PORT/readyz within 2 s: exit 0 on 200,\n"
		"            else 1 (container health checks; reads no other setting)\n\n");
	config_print_help(f);
}

static void fail(const char *what)
{
	fprintf(stderr, "cinema-api: %s\n", what);
}

static int cmd_routes(void)
{
	static const char *const access[] = {"own-auth", "public", "user", "moderator", "admin"};
	static const char *const lanes[HTTP_LANES] = {[LANE_DB] = "worker",
						      [LANE_INLINE] = "inline",
						      [LANE_TRY_INLINE] = "try-inline",
						      [LANE_PASSWORD] = "worker:password",
						      [LANE_STRIPE] = "worker:stripe",
						      [LANE_S3] = "worker:s3"};
	for (const struct route *const *t = app_route_tables; *t; t++)
		for (const struct route *r = *t; r->pattern; r++)
			printf("%s %s %s %s\n", http_method_name(r->method), r->pattern,
			       access[r->access - ACCESS_OWN_AUTH], lanes[r->lane]);
	/* Every other GET outside the API, when WEB_DIR is set. */
	printf("%s %s %s %s\n", http_method_name(app_fallback->method), app_fallback->pattern,
	       access[app_fallback->access - ACCESS_OWN_AUTH], lanes[app_fallback->lane]);
	return 0;
}

static size_t discard_body(char *ptr, size_t size, size_t n, void *ctx)
{
	(void)ptr;
	(void)ctx;
	return size * n;
}

/* Reads HTTP_PORT only (from the environment or the settings file), never the
 * rest of the configuration: a container's health check runs without
 * secrets. */
static int cmd_healthcheck(void)
{
	const char *port_s = getenv("HTTP_PORT");
	char *end;
	char url[64];
	long status = 0;

	errno = 0;
	long port = port_s && *port_s ? strtol(port_s, &end, 10) : 8000;
	if (port_s && *port_s && (errno || *end || port < 1 || port > 65535)) {
		fail("healthcheck: HTTP_PORT must be an integer from 1 to 65535");
		return 1;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%ld/readyz", port);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fail("healthcheck: libcurl failed to initialise");
		return 1;
	}
	CURL *h = curl_easy_init();
	CURLcode cc = CURLE_FAILED_INIT;
	if (h) {
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
		cc = curl_easy_perform(h);
		if (cc == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(h);
	}
	curl_global_cleanup();
	if (cc != CURLE_OK)
		fprintf(stderr, "cinema-api: healthcheck: GET %s: %s\n", url,
			curl_easy_strerror(cc));
	else if (status != 200)
		fprintf(stderr, "cinema-api: healthcheck: GET %s: HTTP %ld\n", url, status);
	return cc == CURLE_OK && status == 200 ? 0 : 1;
}

static int cmd_migrate(const struct config *cfg)
{
	int applied = 0;
	if (db_migrate(cfg->database_url, cfg->migrations_dir, &applied) != ERR_OK) {
		fail("migration failed (see the log above)");
		return 1;
	}
	return 0;
}

/* Opens the infrastructure handles of *app, S3 only when with_s3 (commands
 * that upload nothing neither need it nor warn that it is off). Returns false
 * with a reason. */
static bool app_open(struct app *app, const struct config *cfg, bool with_s3, char *err,
		     size_t errlen)
{
	struct db_pool_options dbo = {
		.conninfo = cfg->database_url,
		.size = cfg->db_pool_size,
		.acquire_timeout_ms = cfg->db_acquire_timeout_ms,
		.connect_timeout_s = cfg->db_connect_timeout_s,
		.statement_timeout_ms = cfg->db_statement_timeout_ms,
	};
	struct kv_options kvo = {
		.url = cfg->redis_url,
		.pool_size = cfg->redis_pool_size,
		.timeout_ms = cfg->redis_timeout_ms,
	};
	memset(app, 0, sizeof(*app));
	app->cfg = cfg;
	if (!(app->db = db_pool_new(&dbo))) {
		snprintf(err, errlen, "DATABASE_URL is not a valid connection string");
		return false;
	}
	if (*cfg->database_read_url) {
		/* Same timeouts; down for a second after a failed connect, while
		 * the primary answers its reads (docs/SCALING.md). */
		struct db_pool_options ro = dbo;
		ro.conninfo = cfg->database_read_url;
		ro.size = cfg->db_read_pool_size;
		ro.down_backoff_ms = DB_READ_DOWN_BACKOFF_MS;
		ro.name = "replica";
		if (!(app->db_read = db_pool_new(&ro))) {
			snprintf(err, errlen, "DATABASE_READ_URL is not a valid connection string");
			return false;
		}
	}
	if (!(app->kv = kv_new(&kvo, err, errlen)))
		return false;
	app->hasher = password_hasher_new(cfg->password_hash_concurrency, 10000);
	if (!with_s3)
		return true;
	if (s3_client_from_config(cfg, &app->s3) != ERR_OK) {
		snprintf(err, errlen,
			 "S3_ENDPOINT, S3_PUBLIC_ENDPOINT, S3_BUCKET or S3_REGION is malformed");
		return false;
	}
	if (!app->s3)
		LOG_WARN("S3_ACCESS_KEY or S3_SECRET_KEY unset: avatar uploads are off");
	return true;
}

static void app_close(struct app *app)
{
	movie_lists_stop(app->movie_lists);
	s3_client_free(app->s3);
	password_hasher_free(app->hasher);
	kv_free(app->kv);
	db_pool_free(app->db_read);
	db_pool_free(app->db);
}

static int cmd_serve(const struct config *cfg)
{
	char err[256];
	int rc = 1;
	struct app app;
	struct http_server *srv = NULL;
	struct web_files *web = NULL;
	sigset_t stop;

	/* Block the stop signals in every thread; this one waits for them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	if (!app_open(&app, cfg, true, err, sizeof(err))) {
		fail(err);
		goto out;
	}
	docs_check_assets(cfg);
	if (*cfg->web_dir) {
		if (!(web = web_files_load(cfg, err, sizeof(err)))) {
			fail(err);
			goto out;
		}
		app.web = web;
		LOG_INFO("web app loaded", LOG_STR("web_dir", cfg->web_dir),
			 LOG_INT("files", (long long)web_files_count(web)),
			 LOG_INT("bytes", (long long)web_files_bytes(web)));
	}
	log_async_start(); /* request threads never wait on the log */
	app.movie_lists = movie_lists_start(&app, (size_t)cfg->catalog_cache_mb << 20,
					    cfg->catalog_cache_ttl_ms);
	struct http_server_options so = {
		.host = cfg->http_host,
		.port = cfg->http_port,
		.threads = cfg->http_threads,
		.workers = cfg->http_workers,
		.queue_max = cfg->http_queue_max,
		.queue_timeout_ms = cfg->http_queue_timeout_ms,
		.lane_cap = {[LANE_PASSWORD] = cfg->http_workers_password,
			     [LANE_STRIPE] = cfg->http_workers_stripe,
			     [LANE_S3] = cfg->http_workers_s3},
		.connection_limit = cfg->http_connection_limit,
		.per_ip_limit = cfg->http_per_ip_limit,
		.timeout_s = cfg->http_timeout_s,
		.cors_origins = cfg->cors_origins,
		.tables = app_route_tables,
		.authenticate = accounts_authenticate,
		.fallback = web ? app_fallback : NULL,
		.fallback_except = app_fallback_except,
		.app = &app,
	};
	srv = http_server_start(&so, err, sizeof(err));
	if (!srv) {
		fail(err);
		goto out;
	}
	LOG_INFO("listening", LOG_STR("host", cfg->http_host), LOG_INT("port", cfg->http_port),
		 LOG_INT("threads", cfg->http_threads), LOG_INT("workers", cfg->http_workers));

	int sig = 0;
	sigwait(&stop, &sig);
	LOG_INFO("stopping", LOG_STR("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"),
		 LOG_INT("grace_s", cfg->shutdown_grace_s));
	http_server_stop(srv, cfg->shutdown_grace_s);
	srv = NULL;
	rc = 0;
	LOG_INFO("stopped");
out:
	http_server_stop(srv, 0);
	app_close(&app);
	web_files_free(web);
	log_async_stop();
	return rc;
}

static int cmd_create_user(const struct config *cfg, int argc, char **argv)
{
	const char *email = NULL, *password = NULL, *group_s = "USER";
	bool active = false;
	char err[256];
	struct app app;
	long long id = 0;
	enum http_access group;
	int rc = 2;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--email") == 0 && i + 1 < argc)
			email = argv[++i];
		else if (strcmp(argv[i], "--password") == 0 && i + 1 < argc)
			password = argv[++i];
		else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
			group_s = argv[++i];
		else if (strcmp(argv[i], "--active") == 0)
			active = true;
		else {
			fprintf(stderr, "cinema-api: create-user: unexpected \"%s\"\n", argv[i]);
			return 2;
		}
	}
	json_t *errors = json_array();
	if (!email || !strchr(email, '@') || strlen(email) > 254)
		fail("create-user: --email must be an email address");
	else if (!group_parse(group_s, &group))
		fail("create-user: --group must be USER, MODERATOR or ADMIN");
	else if (!password || !password_rules_check(password, "password", errors))
		fail("create-user: --password must have 8 to 128 characters with a lower-case and "
		     "an upper-case letter, a digit and a special character");
	else
		rc = 0;
	json_decref(errors);
	if (rc)
		return rc;
	rc = 1;
	if (!app_open(&app, cfg, false, err, sizeof(err))) {
		fail(err);
		goto out;
	}
	char lower[256];
	size_t n = 0;
	for (; n < sizeof(lower) - 1 && email[n]; n++)
		lower[n] = (char)((email[n] >= 'A' && email[n] <= 'Z') ? email[n] + 32 : email[n]);
	lower[n] = '\0';
	enum err e = accounts_create_user(&app, lower, password, group, active, &id);
	if (e != ERR_OK) {
		fprintf(stderr, "cinema-api: create-user: %s\n", err_detail(e));
		goto out;
	}
	char where[512];
	printf("created user %lld (%s, %s%s) in %s\n", id, lower, group_name(group),
	       active ? ", active" : ", inactive",
	       config_url_redact(cfg->database_url, where, sizeof(where)));
	rc = 0;
out:
	app_close(&app);
	return rc;
}

int main(int argc, char **argv)
{
	struct config cfg;
	char err[256];
	int rc = 2;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "routes") == 0)
		return cmd_routes();
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "migrate") != 0 &&
	    strcmp(cmd, "create-user") != 0 && strcmp(cmd, "seed") != 0 &&
	    strcmp(cmd, "healthcheck") != 0) {
		fprintf(stderr, "cinema-api: unknown command \"%s\" (try --help)\n", cmd);
		return 2;
	}
	if (argc > 2 && strcmp(cmd, "seed") != 0 &&
	    (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	/* Before anything reads the environment: a run of scripts/run.sh leaves
	 * its settings in .data/env for the commands of another terminal. */
	const char *env_file = NULL;
	if (!envfile_load(&env_file, err, sizeof(err))) {
		fail(err);
		return 2;
	}
	if (strcmp(cmd, "healthcheck") == 0)
		return cmd_healthcheck();

	/* Library globals, before any thread starts. */
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		fail("libsodium failed to initialise");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	json_object_seed(0);

	if (!config_load(&cfg, err, sizeof(err))) {
		fail(err);
		curl_global_cleanup();
		return 2;
	}
	log_set_level(cfg.log_level);
	if (env_file)
		LOG_INFO("settings read from a file; the environment overrides them",
			 LOG_STR("path", env_file));
	config_log(&cfg);

	if (strcmp(cmd, "serve") == 0)
		rc = cmd_serve(&cfg);
	else if (strcmp(cmd, "create-user") == 0)
		rc = cmd_create_user(&cfg, argc, argv);
	else if (strcmp(cmd, "seed") == 0)
		rc = catalog_seed_command(&cfg, argc, argv);
	else
		rc = cmd_migrate(&cfg);

	config_free(&cfg);
	curl_global_cleanup();
	return rc;
}
