/* The web app's fallback route (src/web/static.c) and the request headers it
 * and the cookie session mode read (src/http/origin.c). Input: path NUL
 * Accept-Encoding NUL If-None-Match NUL Cookie NUL Origin NUL Host.
 * A WEB_DIR made once at start holds index.html, a hashed asset with its
 * .br form, robots.txt, a hidden file and a file beside the directory.
 * Every answer is a file of the table (index.html for the other app paths,
 * a JSON 404 under /assets), never the hidden or outside file; a cookie
 * value found fits its buffer and holds no ';'. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cinema/app.h"
#include "cinema/config.h"
#include "cinema/http.h"
#include "fuzz.h"
#include "web/static.h"

#define INDEX	 "<!doctype html><title>app</title>"
#define ASSET	 "console.log(1)"
#define ASSET_BR "BROTLI-BYTES"
#define ROBOTS	 "User-agent: *"
#define HIDDEN	 "HIDDEN-DOTFILE"
#define OUTSIDE	 "OUTSIDE-WEB-DIR"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config cfg;
static struct app app;
static char root[64], web_dir[96];

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "wb");
	if (!f || fputs(text, f) < 0)
		abort();
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256], path[160];
	(void)argc;
	(void)argv;
	snprintf(root, sizeof(root), "/tmp/cinema-fuzz-web-XXXXXX");
	if (!mkdtemp(root))
		abort();
	snprintf(web_dir, sizeof(web_dir), "%s/web", root);
	snprintf(path, sizeof(path), "%s/assets", web_dir);
	if (mkdir(web_dir, 0700) != 0 || mkdir(path, 0700) != 0)
		abort();
	put("web/index.html", INDEX);
	put("web/assets/app-1a2b.js", ASSET);
	put("web/assets/app-1a2b.js.br", ASSET_BR);
	put("web/robots.txt", ROBOTS);
	put("web/.env", HIDDEN);
	put("secret.txt", OUTSIDE);
	snprintf(path, sizeof(path), "%s/leak.txt", web_dir);
	if (symlink("../secret.txt", path) != 0)
		abort();
	cfg = (struct config){.web_dir = web_dir,
			      .s3_endpoint = "http://minio:9000",
			      .s3_public_endpoint = "",
			      .public_base_url = "https://cinema.example.com"};
	app = (struct app){.cfg = &cfg, .web = web_files_load(&cfg, err, sizeof(err))};
	if (!app.web) {
		fprintf(stderr, "fuzz_web_static: %s\n", err);
		abort();
	}
	/* Everything is in memory now: the directory goes. */
	static const char *const made[] = {
		"web/index.html",
		"web/assets/app-1a2b.js",
		"web/assets/app-1a2b.js.br",
		"web/robots.txt",
		"web/.env",
		"web/leak.txt",
		"secret.txt",
		"web/assets",
		"web",
		"",
	};
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, made[i]);
		(void)remove(path);
	}
	return 0;
}

static bool body_is(const struct http_response *res, const char *text)
{
	return res->body_ref && res->body_ref_len == strlen(text) &&
	       memcmp(res->body_ref, text, res->body_ref_len) == 0;
}

static void serve(const char *path, const struct fuzz_pair *headers, size_t nheaders)
{
	struct fuzz_conn conn = {.headers = headers, .nheaders = nheaders};
	struct http_request req = {.app = &app, .conn = &conn, .path = path, .body = ""};
	struct http_response res = {0};
	unsigned status = web_route.handler(&req, &res);
	if (status == 200) {
		bool asset = strcmp(path, "/assets/app-1a2b.js") == 0;
		if (!(body_is(&res, INDEX) && !asset && strcmp(path, "/robots.txt") != 0) &&
		    !(asset && (body_is(&res, ASSET) || body_is(&res, ASSET_BR))) &&
		    !(strcmp(path, "/robots.txt") == 0 && body_is(&res, ROBOTS)))
			abort();
	} else if (status == 404) {
		if (strncmp(path, "/assets/", 8) != 0 && strcmp(path, "/assets") != 0)
			abort();
	} else if (status != 304) {
		abort();
	}
	fuzz_response_free(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_fields ff;
	fuzz_fields_split(&ff, data, size);
	const char *path = ff.f[0], *ae = ff.f[1], *inm = ff.f[2], *cookie = ff.f[3];
	const char *origin = ff.f[4], *host = ff.f[5];
	struct fuzz_pair headers[] = {
		{"Accept-Encoding", ae}, {"If-None-Match", inm}, {"Cookie", cookie},
		{"Origin", origin},	 {"Host", host},
	};
	serve(path, headers, ff.n > 1 ? sizeof(headers) / sizeof(headers[0]) : 0);

	(void)web_accepts_encoding(ae, "br");
	(void)web_accepts_encoding(ae, "gzip");
	(void)web_etag_matches(inm, "\"0123456789abcdef0123456789abcdef\"");

	struct fuzz_conn conn = {.headers = headers,
				 .nheaders = sizeof(headers) / sizeof(headers[0])};
	struct http_request req = {.app = &app, .conn = &conn, .path = path, .body = ""};
	char small[8], value[600];
	if (http_cookie(&req, "cinema_refresh", small, sizeof(small)) &&
	    (strlen(small) >= sizeof(small) || strchr(small, ';')))
		abort();
	if (http_cookie(&req, "cinema_refresh", value, sizeof(value)) &&
	    (strlen(value) >= sizeof(value) || strchr(value, ';') || !strstr(cookie, value)))
		abort();

	char o[32];
	if (http_url_origin(origin, o, sizeof(o)) && strlen(o) >= sizeof(o))
		abort();
	(void)http_same_origin(origin, cfg.public_base_url);
	(void)http_origin_is_host(origin, host);
	fuzz_fields_free(&ff);
	return 0;
}
