/* cinema-stripe-fake: the Stripe-protocol fake of tools/stripe_fake.h as a
 * program, for development (scripts/run.sh) and the browser tests: the API
 * talks to it as to Stripe (STRIPE_API_BASE), and a browser pays or cancels
 * on its hosted checkout page, which sends the signed webhook to the API.
 * Never a payment service: it keeps its sessions in memory and moves no
 * money.
 *
 *   cinema-stripe-fake --port N [--host 127.0.0.1] --secret-key sk_test_...
 *                      --webhook-secret whsec_... --webhook-url URL
 *                      [--public-url URL]
 *
 * --port 0 picks a free port. --webhook-url is the API's base URL or its
 * webhook endpoint's full URL. --public-url is the base of the hosted pages as
 * a browser reaches them (default http://<host>:<port>). Logs one line per
 * request to stdout; exits 0 on SIGINT or SIGTERM. */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stripe_fake.h"

static int usage(void)
{
	fprintf(stderr, "usage: cinema-stripe-fake --port N [--host 127.0.0.1] --secret-key K "
			"--webhook-secret S --webhook-url URL [--public-url URL]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct stripe_fake_config cfg = {.host = "127.0.0.1", .port = -1, .log = stdout};
	sigset_t stop;
	int sig = 0;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage();
			return 0;
		}
		if (!v)
			return usage();
		if (strcmp(argv[i], "--port") == 0) {
			char *end;
			long p = strtol(v, &end, 10);
			if (*end || end == v || p < 0 || p > 65535)
				return usage();
			cfg.port = (int)p;
		} else if (strcmp(argv[i], "--host") == 0) {
			cfg.host = v;
		} else if (strcmp(argv[i], "--secret-key") == 0) {
			cfg.secret_key = v;
		} else if (strcmp(argv[i], "--webhook-secret") == 0) {
			cfg.webhook_secret = v;
		} else if (strcmp(argv[i], "--webhook-url") == 0) {
			cfg.webhook_url = v;
		} else if (strcmp(argv[i], "--public-url") == 0) {
			cfg.public_url = v;
		} else {
			return usage();
		}
		i++;
	}
	if (cfg.port < 0 || !cfg.secret_key || !*cfg.secret_key || !cfg.webhook_secret ||
	    !*cfg.webhook_secret || !cfg.webhook_url || !*cfg.webhook_url)
		return usage();

	/* Every thread (libmicrohttpd's included) inherits this mask: the
	 * signals that stop the fake reach only sigwait below. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "cinema-stripe-fake: cannot initialise libcurl\n");
		return 1;
	}
	/* Ids unique across restarts: the API's database outlives the fake. */
	cfg.first_id = (unsigned long long)time(NULL) * 1000ULL;
	struct stripe_fake *f = stripe_fake_start_with(&cfg);
	if (!f) {
		curl_global_cleanup();
		return 1;
	}
	char public_url[512];
	snprintf(public_url, sizeof(public_url), "%s",
		 cfg.public_url ? cfg.public_url : stripe_fake_url(f));
	printf("stripe-fake: listening on %s (STRIPE_API_BASE); checkout pages at "
	       "%s/checkout/<session id>; events to %s\n",
	       stripe_fake_url(f), public_url, cfg.webhook_url);
	fflush(stdout);
	while (sigwait(&stop, &sig) != 0)
		;
	printf("stripe-fake: stopping (signal %d)\n", sig);
	fflush(stdout);
	stripe_fake_stop(f);
	curl_global_cleanup();
	return 0;
}
