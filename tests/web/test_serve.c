/* The real `cinema-api serve` with WEB_DIR: the links the system sends
 * (activation, password reset, Stripe's return, a movie) open the app, the
 * API and the operations paths keep their JSON, and a WEB_DIR without
 * index.html stops the start with a message that says so. The serving
 * rules themselves are tested in process (tests/web/test_static.c).
 *
 * Needs DATABASE_URL, REDIS_URL and the binaries (scripts/test.sh, CTest).
 * Redis: this suite owns database REDIS_DB of the server of REDIS_URL. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e.h"
#include "harness.h"

#define REDIS_DB 5
#define INDEX_HTML                                                        \
	"<!doctype html><title>Online Cinema</title><script type=module " \
	"src=/assets/index-abc123.js></script>"

static struct harness_world w;
static char web_dir[128];

static void write_file(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", web_dir, rel);
	FILE *f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	char assets[192];
	harness_world_begin(&w, "web", REDIS_DB);
	snprintf(web_dir, sizeof(web_dir), "/tmp/cinema-webdist-XXXXXX");
	ck_assert(mkdtemp(web_dir) != NULL);
	snprintf(assets, sizeof(assets), "%s/assets", web_dir);
	ck_assert_int_eq(mkdir(assets, 0700), 0);
	write_file("index.html", INDEX_HTML);
	write_file("assets/index-abc123.js", "export {};");
}

static void teardown(void)
{
	harness_world_end(&w);
	harness_remove_dir(web_dir);
}

static void start_api(void)
{
	struct harness_env *e = &w.srv_env;
	harness_world_api_env(&w, e, "http://127.0.0.1:8000");
	harness_env_set(e, "WEB_DIR=%s", web_dir);
	harness_env_set(e, "S3_PUBLIC_ENDPOINT=https://media.example.com");
	harness_server_start(&w.srv, e->p);
}

START_TEST(links_the_system_sends_open_the_app)
{
	static const char *const links[] = {
		"/",
		"/accounts/activate?token=abc",
		"/accounts/password/reset?token=abc",
		"/accounts/login?next=%2Fcart",
		"/movies/1",
		"/orders/3?checkout=success",
		"/orders/3?checkout=cancel",
		"/purchases",
		"/studio/movies/new",
		"/admin/users",
	};
	char v[512];
	start_api();
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		struct e2e_resp r = harness_raw("GET", links[i], NULL, NULL, 0);
		ck_assert_msg(r.status == 200, "%s: %ld", links[i], r.status);
		ck_assert_str_eq(r.body.data, INDEX_HTML);
		ck_assert(e2e_header(&r, "Content-Type", v, sizeof(v)));
		ck_assert_str_eq(v, "text/html; charset=utf-8");
		ck_assert(e2e_header(&r, "Cache-Control", v, sizeof(v)));
		ck_assert_str_eq(v, "no-cache");
		ck_assert(e2e_header(&r, "Content-Security-Policy", v, sizeof(v)));
		ck_assert_ptr_nonnull(
			strstr(v, "img-src 'self' data: blob: https://media.example.com;"));
		e2e_resp_free(&r);
	}
	struct e2e_resp r = harness_raw("GET", "/assets/index-abc123.js", NULL, NULL, 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(e2e_header(&r, "Cache-Control", v, sizeof(v)));
	ck_assert_str_eq(v, "public, max-age=31536000, immutable");
	e2e_resp_free(&r);

	/* What is not the app keeps its JSON. */
	r = harness_raw("GET", "/assets/index-000000.js", NULL, NULL, 0);
	harness_expect_coded(&r, 404, "not_found");
	e2e_resp_free(&r);
	r = harness_raw("GET", "/api/v1/no/such/route", NULL, NULL, 0);
	harness_expect_coded(&r, 404, "route_not_found");
	e2e_resp_free(&r);
	r = harness_raw("POST", "/api/v1/no/such/route", NULL, NULL, 0);
	harness_expect_coded(&r, 404, "route_not_found");
	e2e_resp_free(&r);
	r = harness_raw("POST", "/movies/1", NULL, NULL, 0);
	harness_expect_coded(&r, 405, "method_not_allowed");
	e2e_resp_free(&r);
	json_t *health = harness_get_json("/healthz", NULL);
	json_decref(health);
	json_t *genres = harness_get_json("/api/v1/genres", NULL);
	json_decref(genres);
	r = harness_raw("GET", "/openapi.json", NULL, NULL, 0);
	harness_expect_coded(&r, 401, NULL);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(a_web_dir_without_index_html_stops_the_start)
{
	char path[256];
	struct buf err = BUF_INIT;
	struct harness_env e;
	snprintf(path, sizeof(path), "%s/index.html", web_dir);
	ck_assert_int_eq(unlink(path), 0);
	harness_world_api_env(&w, &e, "http://127.0.0.1:8000");
	harness_env_set(&e, "WEB_DIR=%s", web_dir);
	harness_env_set(&e, "HTTP_PORT=%d", e2e_free_port());
	char *argv[] = {(char *)"cinema-api", (char *)"serve", NULL};
	int rc = e2e_run_capture(e2e_bin("CINEMA_API_BIN"), argv, e.p, NULL, 60, NULL, &err);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(err.data && strstr(err.data, "has no index.html") &&
			      strstr(err.data, web_dir),
		      "stderr: %s", err.data ? err.data : "");
	buf_free(&err);
}
END_TEST

int main(void)
{
	if (!harness_main_ready("test_serve"))
		return 1;
	Suite *s = suite_create("web_serve");
	TCase *tc = tcase_create("web_serve");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, links_the_system_sends_open_the_app);
	tcase_add_test(tc, a_web_dir_without_index_html_stops_the_start);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
