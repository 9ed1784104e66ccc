/* cinema-api: the HTTP server and its operator commands.
 *
 *   cinema-api serve      run the HTTP API
 *   cinema-api migrate    apply pending database migrations
 *   cinema-api routes     print the route table (method and path)
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/routes.h"
#include "cinema/app.h"
#include "cinema/config.h"
#include "cinema/db.h"
#include "cinema/kv.h"
#include "cinema/log.h"
#include "http/server.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: cinema-api <command>\n\n"
		   "commands:\n"
		   "  serve     run the HTTP API until SIGTERM or SIGINT\n"
		   "  migrate   apply pending database migrations (safe to run concurrently)\n"
		   "  routes    print every route as METHOD PATH ACCESS\n\n");
	config_print_help(f);
}

static void fail(const char *what)
{
	fprintf(stderr, "cinema-api: %s\n", what);
}

static int cmd_routes(void)
{
	static const char *const access[] = {"public", "user", "moderator", "admin"};
	for (const struct route *const *t = app_route_tables; *t; t++)
		for (const struct route *r = *t; r->pattern; r++)
			printf("%s %s %s\n", http_method_name(r->method), r->pattern,
			       access[r->access]);
	return 0;
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

static int cmd_serve(const struct config *cfg)
{
	char err[256];
	int rc = 1;
	struct db_pool *db = NULL;
	struct kv *kv = NULL;
	struct http_server *srv = NULL;
	sigset_t stop;

	/* Block the stop signals in every thread; this one waits for them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	struct db_pool_options dbo = {
		.conninfo = cfg->database_url,
		.size = cfg->db_pool_size,
		.acquire_timeout_ms = cfg->db_acquire_timeout_ms,
		.connect_timeout_s = cfg->db_connect_timeout_s,
		.statement_timeout_ms = cfg->db_statement_timeout_ms,
	};
	db = db_pool_new(&dbo);
	if (!db) {
		fail("invalid database pool settings");
		goto out;
	}
	struct kv_options kvo = {
		.url = cfg->redis_url,
		.pool_size = cfg->redis_pool_size,
		.timeout_ms = cfg->redis_timeout_ms,
	};
	kv = kv_new(&kvo, err, sizeof(err));
	if (!kv) {
		fail(err);
		goto out;
	}
	struct app app = {.cfg = cfg, .db = db, .kv = kv};
	struct http_server_options so = {
		.host = cfg->http_host,
		.port = cfg->http_port,
		.threads = cfg->http_threads,
		.connection_limit = cfg->http_connection_limit,
		.per_ip_limit = cfg->http_per_ip_limit,
		.timeout_s = cfg->http_timeout_s,
		.cors_origins = cfg->cors_origins,
		.tables = app_route_tables,
		.app = &app,
	};
	srv = http_server_start(&so, err, sizeof(err));
	if (!srv) {
		fail(err);
		goto out;
	}
	LOG_INFO("listening", LOG_STR("host", cfg->http_host), LOG_INT("port", cfg->http_port),
		 LOG_INT("threads", cfg->http_threads));

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
	kv_free(kv);
	db_pool_free(db);
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
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "migrate") != 0) {
		fprintf(stderr, "cinema-api: unknown command \"%s\" (try --help)\n", cmd);
		return 2;
	}
	if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		usage(stdout);
		return 0;
	}

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
	config_log(&cfg);

	if (strcmp(cmd, "serve") == 0)
		rc = cmd_serve(&cfg);
	else
		rc = cmd_migrate(&cfg);

	config_free(&cfg);
	curl_global_cleanup();
	return rc;
}
