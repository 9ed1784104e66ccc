/* cinema-scheduler: periodic jobs and the email worker (replaces celery-beat
 * and celery). For now it starts, checks its connections and stops cleanly
 * on SIGTERM or SIGINT; the jobs arrive with the scheduler capability. */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cinema/config.h"
#include "cinema/db.h"
#include "cinema/kv.h"
#include "cinema/log.h"

static int run(const struct config *cfg)
{
	char err[256];
	int rc = 1;
	struct db_pool *db = NULL;
	struct kv *kv = NULL;
	sigset_t stop;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	struct db_pool_options dbo = {
		.conninfo = cfg->database_url,
		.size = 2,
		.acquire_timeout_ms = cfg->db_acquire_timeout_ms,
		.connect_timeout_s = cfg->db_connect_timeout_s,
		.statement_timeout_ms = cfg->db_statement_timeout_ms,
	};
	db = db_pool_new(&dbo);
	struct kv_options kvo = {
		.url = cfg->redis_url, .pool_size = 2, .timeout_ms = cfg->redis_timeout_ms};
	kv = kv_new(&kvo, err, sizeof(err));
	if (!db || !kv) {
		fprintf(stderr, "cinema-scheduler: %s\n", kv ? "invalid database settings" : err);
		goto out;
	}
	struct db_conn *c = NULL;
	enum err e = db_acquire(db, &c);
	db_release(c);
	LOG_INFO("scheduler started", LOG_BOOL("postgres", e == ERR_OK),
		 LOG_BOOL("redis", kv_ping(kv)));

	int sig = 0;
	sigwait(&stop, &sig);
	LOG_INFO("scheduler stopped", LOG_STR("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
	rc = 0;
out:
	kv_free(kv);
	db_pool_free(db);
	return rc;
}

int main(int argc, char **argv)
{
	struct config cfg;
	char err[256];

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: cinema-scheduler\n\n");
		config_print_help(stdout);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "cinema-scheduler: unknown argument \"%s\" (try --help)\n",
			argv[1]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		fprintf(stderr, "cinema-scheduler: libsodium failed to initialise\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!config_load(&cfg, err, sizeof(err))) {
		fprintf(stderr, "cinema-scheduler: %s\n", err);
		curl_global_cleanup();
		return 2;
	}
	log_set_level(cfg.log_level);
	int rc = run(&cfg);
	config_free(&cfg);
	curl_global_cleanup();
	return rc;
}
