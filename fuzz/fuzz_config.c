/* Configuration from the environment (config_load_from, src/core/config.c).
 * Input: NAME=VALUE lines, looked up instead of getenv. */
#include <stdlib.h>
#include <string.h>

#include "cinema/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VARS 32

struct env {
	struct fuzz_pair vars[MAX_VARS];
	size_t n;
};

static const char *lookup(const char *name, void *ctx)
{
	const struct env *e = ctx;
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->vars[i].key, name) == 0)
			return e->vars[i].value;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);
	struct env e = {.n = 0};
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && e.n < MAX_VARS;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		e.vars[e.n].key = line;
		e.vars[e.n++].value = eq + 1;
	}
	struct config cfg;
	char err[256];
	err[0] = '\0';
	if (config_load_from(&cfg, lookup, &e, err, sizeof(err)))
		config_free(&cfg);
	else if (!memchr(err, '\0', sizeof(err)) || !err[0])
		abort();
	free(text);
	return 0;
}
