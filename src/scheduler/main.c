/* cinema-scheduler: the email worker and periodic jobs (replaces celery and
 * celery-beat).
 *
 *   cinema-scheduler           run until SIGTERM or SIGINT
 *   cinema-scheduler status    print the email queue's state as JSON
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cinema/config.h"
#include "cinema/envfile.h"
#include "cinema/log.h"
#include "scheduler/scheduler.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: cinema-scheduler [status]\n\n"
		   "  (no command)  send queued emails and run periodic jobs until SIGTERM\n"
		   "  status        print the email queue's state as JSON\n\n");
	config_print_help(f);
}

int main(int argc, char **argv)
{
	struct config cfg;
	char err[256];
	sigset_t stop;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	bool status = argc > 1 && strcmp(argv[1], "status") == 0;
	if (argc > 2 || (argc > 1 && !status)) {
		fprintf(stderr, "cinema-scheduler: unknown argument \"%s\" (try --help)\n",
			argv[argc - 1]);
		return 2;
	}

	/* Before any thread: block the stop signals (the loop polls for them),
	 * and initialise library globals. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		fprintf(stderr, "cinema-scheduler: libsodium failed to initialise\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	json_object_seed(0);
	/* scripts/run.sh leaves its settings in .data/env for other terminals. */
	const char *env_file = NULL;
	if (!envfile_load(&env_file, err, sizeof(err))) {
		fprintf(stderr, "cinema-scheduler: %s\n", err);
		curl_global_cleanup();
		return 2;
	}
	if (!config_load(&cfg, err, sizeof(err))) {
		fprintf(stderr, "cinema-scheduler: %s\n", err);
		curl_global_cleanup();
		return 2;
	}
	log_set_level(status ? LOG_LEVEL_ERROR : cfg.log_level);
	if (env_file)
		LOG_INFO("settings read from a file; the environment overrides them",
			 LOG_STR("path", env_file));
	config_log(&cfg);
	int rc = status ? scheduler_status(&cfg) : scheduler_run(&cfg);
	config_free(&cfg);
	curl_global_cleanup();
	return rc;
}
