/* The route tables and openapi.yaml must describe the same surface: every
 * route is documented and every documented operation is served. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/routes.h"

#define MAX_OPS 512

struct op {
	char method[8];
	char path[1024];
};

/* Reads "  /path:" and "    get:" lines under "paths:" (the file keeps that
 * layout: two spaces per level). */
static int load_spec(struct op *ops, int max)
{
	char fname[1024], line[1024], path[1024] = "";
	const char *dir = getenv("CINEMA_SOURCE_DIR");
	snprintf(fname, sizeof(fname), "%s/openapi.yaml", dir ? dir : ".");
	FILE *f = fopen(fname, "r");
	ck_assert_msg(f != NULL, "cannot open %s", fname);
	int n = 0;
	int in_paths = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] != ' ' && line[0] != '\0') {
			in_paths = strcmp(line, "paths:") == 0;
			continue;
		}
		if (!in_paths)
			continue;
		if (strncmp(line, "  /", 3) == 0) {
			snprintf(path, sizeof(path), "%s", line + 2);
			path[strcspn(path, ":")] = '\0';
			continue;
		}
		static const char *const methods[] = {"get", "post", "put", "patch", "delete"};
		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
			char want[32];
			snprintf(want, sizeof(want), "    %s:", methods[i]);
			if (strcmp(line, want) == 0 && n < max) {
				for (size_t k = 0; methods[i][k]; k++)
					ops[n].method[k] = (char)(methods[i][k] - 'a' + 'A');
				ops[n].method[strlen(methods[i])] = '\0';
				snprintf(ops[n].path, sizeof(ops[n].path), "%s", path);
				n++;
			}
		}
	}
	fclose(f);
	return n;
}

/* The tables, then the web app's fallback route: one table of its own. */
static const struct route *const *all_tables(void)
{
	static struct route fallback[2];
	static const struct route *tables[64];
	size_t n = 0;
	fallback[0] = *app_fallback;
	for (const struct route *const *t = app_route_tables; *t && n < 62; t++)
		tables[n++] = *t;
	tables[n++] = fallback;
	tables[n] = NULL;
	return tables;
}

/* openapi.yaml paths are relative to the server root; API routes under
 * /api/v1 are documented with that prefix. */
START_TEST(every_route_is_documented_and_back)
{
	static struct op ops[MAX_OPS];
	int nops = load_spec(ops, MAX_OPS);
	int nroutes = 0;
	const struct route *const *tables = all_tables();
	ck_assert_int_gt(nops, 0);
	for (const struct route *const *t = tables; *t; t++) {
		for (const struct route *r = *t; r->pattern; r++) {
			int found = 0;
			nroutes++;
			for (int i = 0; i < nops; i++)
				if (strcmp(ops[i].method, http_method_name(r->method)) == 0 &&
				    strcmp(ops[i].path, r->pattern) == 0)
					found = 1;
			ck_assert_msg(found, "route %s %s is missing from openapi.yaml",
				      http_method_name(r->method), r->pattern);
		}
	}
	for (int i = 0; i < nops; i++) {
		int found = 0;
		for (const struct route *const *t = tables; *t; t++)
			for (const struct route *r = *t; r->pattern; r++)
				if (strcmp(ops[i].method, http_method_name(r->method)) == 0 &&
				    strcmp(ops[i].path, r->pattern) == 0)
					found = 1;
		ck_assert_msg(found, "openapi.yaml documents %s %s, which no route serves",
			      ops[i].method, ops[i].path);
	}
	ck_assert_int_eq(nops, nroutes);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("openapi");
	TCase *tc = tcase_create("sync");
	tcase_add_test(tc, every_route_is_documented_and_back);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
