/* Serving the web app: an in-process server with a small API table of its
 * own, the app's fallback route and a WEB_DIR the test writes (index.html,
 * hashed assets with .br and .gz forms, top-level files, a hidden file, and
 * a secret beside the directory). Requests go through libcurl, or through a
 * raw socket where the path must reach the server exactly as written
 * (libcurl would remove the dot segments of a traversal attempt). */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cinema/app.h"
#include "cinema/config.h"
#include "e2e.h"
#include "http/server.h"
#include "web/static.h"

#define INDEX_HTML  "<!doctype html><title>Online Cinema</title><div id=app></div>"
#define APP_JS	    "console.log('the app');"
#define APP_JS_BR   "BR-COMPRESSED-BYTES"
#define APP_JS_GZ   "GZ-COMPRESSED-BYTES"
#define STYLE_CSS   "body{color:#eee}"
#define FAVICON_SVG "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"
#define SECRET	    "TOP-SECRET-OUTSIDE-WEB-DIR"

static unsigned h_ping(struct http_request *req, struct http_response *res)
{
	(void)req;
	return http_json(res, 200, json_pack("{s:b}", "pong", 1));
}

static const struct route api_routes[] = {
	{HTTP_GET, "/api/v1/ping", h_ping, ACCESS_PUBLIC, 0, LANE_INLINE},
	{HTTP_GET, "/healthz", h_ping, ACCESS_PUBLIC, 0, LANE_INLINE},
	ROUTES_END,
};
static const struct route *const tables[] = {api_routes, NULL};

static char root[256]; /* holds web/ and secret.txt */
static char web_dir[300];
static struct config cfg;
static struct app app;
static struct web_files *web;
static struct http_server *srv;
static int port;
static char base[64];

static void write_file(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", web_dir, rel);
	FILE *f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

static void make_web_dir(void)
{
	char path[512];
	snprintf(root, sizeof(root), "/tmp/cinema-web-XXXXXX");
	ck_assert(mkdtemp(root) != NULL);
	snprintf(web_dir, sizeof(web_dir), "%s/web", root);
	ck_assert_int_eq(mkdir(web_dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/assets", web_dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	write_file("index.html", INDEX_HTML);
	write_file("index.html.gz", "GZ-INDEX");
	write_file("assets/index-1a2b3c4d.js", APP_JS);
	write_file("assets/index-1a2b3c4d.js.br", APP_JS_BR);
	write_file("assets/index-1a2b3c4d.js.gz", APP_JS_GZ);
	write_file("assets/style-9f8e7d.css", STYLE_CSS);
	write_file("favicon.svg", FAVICON_SVG);
	write_file("robots.txt", "User-agent: *\n");
	write_file("site.webmanifest", "{}");
	write_file(".env", "HIDDEN");
	snprintf(path, sizeof(path), "%s/secret.txt", root);
	FILE *f = fopen(path, "wb");
	ck_assert(f != NULL);
	fputs(SECRET, f);
	fclose(f);
}

static void remove_tree(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
	char err[256];
	make_web_dir();
	cfg = (struct config){.web_dir = web_dir,
			      .s3_endpoint = "http://minio:9000",
			      .s3_public_endpoint = "https://media.example.com/avatars",
			      .trusted_proxies = ""};
	web = web_files_load(&cfg, err, sizeof(err));
	ck_assert_msg(web != NULL, "load: %s", err);
	app = (struct app){.cfg = &cfg, .web = web};
	port = e2e_free_port();
	struct http_server_options o = {
		.host = "127.0.0.1",
		.port = port,
		.threads = 1,
		.workers = 2,
		.queue_max = 16,
		.queue_timeout_ms = 5000,
		.connection_limit = 16,
		.per_ip_limit = 16,
		.timeout_s = 5,
		.cors_origins = "",
		.tables = tables,
		.fallback = &web_route,
		.fallback_except = web_reserved_prefixes,
		.app = &app,
	};
	srv = http_server_start(&o, err, sizeof(err));
	ck_assert_msg(srv != NULL, "server start: %s", err);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
}

static void teardown(void)
{
	http_server_stop(srv, 1);
	srv = NULL;
	web_files_free(web);
	web = NULL;
	remove_tree(root);
}

static const char *url(const char *path)
{
	static char u[512];
	snprintf(u, sizeof(u), "%s%s", base, path);
	return u;
}

static struct e2e_resp get(const char *method, const char *path, const char *const *headers)
{
	struct e2e_resp r;
	ck_assert_msg(e2e_request(method, url(path), headers, NULL, 0, &r), "%s %s", method, path);
	return r;
}

static const char *header(const struct e2e_resp *r, const char *name)
{
	static char v[8][1024];
	static int k;
	char *out = v[k++ % 8];
	if (!e2e_header(r, name, out, sizeof(v[0])))
		return NULL;
	return out;
}

static void assert_body(const struct e2e_resp *r, const char *want)
{
	ck_assert_msg(r->body.len == strlen(want) && memcmp(r->body.data, want, r->body.len) == 0,
		      "body \"%.*s\", want \"%s\"", (int)r->body.len,
		      r->body.data ? r->body.data : "", want);
}

static void assert_json_error(const struct e2e_resp *r, long status, const char *code)
{
	ck_assert_int_eq(r->status, status);
	ck_assert_msg(r->json != NULL, "not JSON: %s", r->body.data);
	ck_assert_str_eq(e2e_code(r), code);
	ck_assert_str_eq(header(r, "Content-Type"), "application/json; charset=utf-8");
}

/* The answer of the app's page, index.html, for an app path. */
static void assert_index(const struct e2e_resp *r)
{
	ck_assert_int_eq(r->status, 200);
	assert_body(r, INDEX_HTML);
	ck_assert_str_eq(header(r, "Content-Type"), "text/html; charset=utf-8");
	ck_assert_str_eq(header(r, "Cache-Control"), "no-cache");
}

/* One request with the path exactly as written, over a raw socket. */
static long raw_get(const char *path, struct buf *out)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	ck_assert(fd >= 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	char req[1024];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
	ck_assert_int_eq(send(fd, req, (size_t)n, 0), n);
	char chunk[4096];
	ssize_t got;
	while ((got = recv(fd, chunk, sizeof(chunk), 0)) > 0)
		buf_append(out, chunk, (size_t)got);
	close(fd);
	long status = 0;
	ck_assert_msg(out->data && sscanf(out->data, "HTTP/1.1 %ld", &status) == 1,
		      "no answer to %s", path);
	return status;
}

START_TEST(app_paths_get_index_html)
{
	static const char *const paths[] = {
		"/",
		"/movies?page=2&genre=3",
		"/movies/12",
		"/accounts/activate?token=abc",
		"/accounts/password/reset?token=x",
		"/orders/5?checkout=success",
		"/studio/movies/new",
		"/no/such/page",
		"/index.html",
		"/apix",
		"/docsy",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct e2e_resp r = get("GET", paths[i], NULL);
		assert_index(&r);
		e2e_resp_free(&r);
	}
}
END_TEST

START_TEST(app_answers_carry_the_security_headers)
{
	struct e2e_resp r = get("GET", "/movies", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(header(&r, "Content-Security-Policy"), web_files_csp(web));
	ck_assert_str_eq(web_files_csp(web),
			 "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' "
			 "data: blob: https://media.example.com; media-src 'self' blob: "
			 "https://media.example.com; connect-src 'self' https://media.example.com; "
			 "object-src 'none'; "
			 "base-uri 'self'; frame-ancestors 'none'; form-action 'self'");
	ck_assert_str_eq(header(&r, "X-Content-Type-Options"), "nosniff");
	ck_assert_str_eq(header(&r, "Referrer-Policy"), "same-origin");
	ck_assert_str_eq(header(&r, "X-Frame-Options"), "DENY");
	ck_assert_ptr_nonnull(header(&r, "ETag"));
	e2e_resp_free(&r);

	/* The API keeps its own. */
	r = get("GET", "/api/v1/ping", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(header(&r, "Referrer-Policy"), "no-referrer");
	ck_assert_str_eq(header(&r, "Cache-Control"), "no-store");
	ck_assert_str_eq(header(&r, "Content-Security-Policy"),
			 "default-src 'none'; frame-ancestors 'none'");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(the_csp_names_s3_endpoint_without_a_public_one)
{
	char err[256];
	struct config c = cfg;
	c.s3_public_endpoint = "";
	c.s3_endpoint = "HTTP://127.0.0.1:9000/";
	struct web_files *w = web_files_load(&c, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(web_files_csp(w), "img-src 'self' data: blob: "
						       "http://127.0.0.1:9000; media-src 'self' "
						       "blob: http://127.0.0.1:9000; connect-src "
						       "'self' http://127.0.0.1:9000;"));
	web_files_free(w);
}
END_TEST

START_TEST(hashed_assets_are_immutable)
{
	struct e2e_resp r = get("GET", "/assets/index-1a2b3c4d.js", NULL);
	ck_assert_int_eq(r.status, 200);
	assert_body(&r, APP_JS);
	ck_assert_str_eq(header(&r, "Content-Type"), "text/javascript; charset=utf-8");
	ck_assert_str_eq(header(&r, "Cache-Control"), "public, max-age=31536000, immutable");
	ck_assert_ptr_null(header(&r, "Content-Encoding"));
	ck_assert_str_eq(header(&r, "Vary"), "Accept-Encoding");
	e2e_resp_free(&r);

	r = get("GET", "/assets/style-9f8e7d.css", NULL);
	ck_assert_int_eq(r.status, 200);
	assert_body(&r, STYLE_CSS);
	ck_assert_str_eq(header(&r, "Content-Type"), "text/css; charset=utf-8");
	ck_assert_str_eq(header(&r, "Cache-Control"), "public, max-age=31536000, immutable");
	ck_assert_ptr_null(header(&r, "Vary"));
	e2e_resp_free(&r);
}
END_TEST

START_TEST(top_level_files_are_served_and_revalidated)
{
	static const struct {
		const char *path, *type, *body;
	} files[] = {
		{"/favicon.svg", "image/svg+xml", FAVICON_SVG},
		{"/robots.txt", "text/plain; charset=utf-8", "User-agent: *\n"},
		{"/site.webmanifest", "application/manifest+json", "{}"},
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct e2e_resp r = get("GET", files[i].path, NULL);
		ck_assert_int_eq(r.status, 200);
		assert_body(&r, files[i].body);
		ck_assert_str_eq(header(&r, "Content-Type"), files[i].type);
		ck_assert_str_eq(header(&r, "Cache-Control"), "no-cache");
		e2e_resp_free(&r);
	}
	/* Hidden files are never read; precompressed forms are no paths. */
	struct e2e_resp r = get("GET", "/.env", NULL);
	assert_index(&r);
	e2e_resp_free(&r);
	r = get("GET", "/index.html.gz", NULL);
	assert_index(&r);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(missing_assets_and_api_paths_are_json_404)
{
	static const char *const missing[] = {"/assets/index-00000000.js", "/assets", "/assets/",
					      "/assets/index-1a2b3c4d.js.br"};
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		struct e2e_resp r = get("GET", missing[i], NULL);
		assert_json_error(&r, 404, "not_found");
		e2e_resp_free(&r);
	}
	static const char *const api[] = {
		"/api",		 "/api/",	  "/api/v1/nope", "/api/v2", "/docs/nope",
		"/openapi.yaml", "/openapi.json", "/healthz/x",	  "/readyz", "/metrics"};
	for (size_t i = 0; i < sizeof(api) / sizeof(api[0]); i++) {
		struct e2e_resp r = get("GET", api[i], NULL);
		assert_json_error(&r, 404, "route_not_found");
		e2e_resp_free(&r);
		r = get("POST", api[i], NULL);
		assert_json_error(&r, 404, "route_not_found");
		e2e_resp_free(&r);
	}
}
END_TEST

START_TEST(other_methods_on_app_paths_are_405)
{
	static const char *const methods[] = {"POST", "PUT", "PATCH", "DELETE", "BREW"};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		struct e2e_resp r = get(methods[i], "/movies/3", NULL);
		assert_json_error(&r, 405, "method_not_allowed");
		ck_assert_str_eq(header(&r, "Allow"), "GET, HEAD, OPTIONS");
		e2e_resp_free(&r);
	}
	struct e2e_resp r = get("DELETE", "/assets/index-1a2b3c4d.js", NULL);
	assert_json_error(&r, 405, "method_not_allowed");
	e2e_resp_free(&r);
	r = get("OPTIONS", "/cart", NULL);
	ck_assert_int_eq(r.status, 204);
	ck_assert_str_eq(header(&r, "Allow"), "GET, HEAD, OPTIONS");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(precompressed_forms_follow_accept_encoding)
{
	static const struct {
		const char *accept, *encoding, *body;
	} cases[] = {
		{"Accept-Encoding: gzip, deflate, br", "br", APP_JS_BR},
		{"Accept-Encoding: br", "br", APP_JS_BR},
		{"Accept-Encoding: gzip", "gzip", APP_JS_GZ},
		{"Accept-Encoding: br;q=0, gzip;q=0.5", "gzip", APP_JS_GZ},
		{"Accept-Encoding: br;q=0.0, gzip", "gzip", APP_JS_GZ},
		{"Accept-Encoding: *", "br", APP_JS_BR},
		{"Accept-Encoding: *;q=0, identity", NULL, APP_JS},
		{"Accept-Encoding: identity", NULL, APP_JS},
		{"Accept-Encoding: gzip;q=0, br;q=0", NULL, APP_JS},
		{"Accept-Encoding: brotli, xgzip", NULL, APP_JS},
		{NULL, NULL, APP_JS},
	};
	char etags[sizeof(cases) / sizeof(cases[0])][64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const h[] = {cases[i].accept, NULL};
		struct e2e_resp r = get("GET", "/assets/index-1a2b3c4d.js", h);
		ck_assert_int_eq(r.status, 200);
		assert_body(&r, cases[i].body);
		const char *enc = header(&r, "Content-Encoding");
		ck_assert_msg((enc == NULL) == (cases[i].encoding == NULL) &&
				      (!enc || strcmp(enc, cases[i].encoding) == 0),
			      "%s: Content-Encoding %s", cases[i].accept, enc ? enc : "(none)");
		ck_assert_str_eq(header(&r, "Vary"), "Accept-Encoding");
		ck_assert_str_eq(header(&r, "Content-Type"), "text/javascript; charset=utf-8");
		snprintf(etags[i], sizeof(etags[i]), "%s", header(&r, "ETag"));
		e2e_resp_free(&r);
	}
	/* Each form has its own tag. */
	ck_assert_str_ne(etags[0], etags[2]);
	ck_assert_str_ne(etags[0], etags[7]);
	ck_assert_str_ne(etags[2], etags[7]);

	/* index.html too, as the fallback of app paths. */
	const char *const gz[] = {"Accept-Encoding: gzip", NULL};
	struct e2e_resp r = get("GET", "/orders/1", gz);
	ck_assert_int_eq(r.status, 200);
	assert_body(&r, "GZ-INDEX");
	ck_assert_str_eq(header(&r, "Content-Encoding"), "gzip");
	ck_assert_str_eq(header(&r, "Content-Type"), "text/html; charset=utf-8");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(etags_answer_304)
{
	struct e2e_resp r = get("GET", "/assets/index-1a2b3c4d.js", NULL);
	char etag[64], inm[160];
	snprintf(etag, sizeof(etag), "%s", header(&r, "ETag"));
	ck_assert_uint_eq(strlen(etag), 34);
	ck_assert(etag[0] == '"' && etag[33] == '"');
	e2e_resp_free(&r);

	static const char *const prefixes[] = {"", "W/", "\"other\", ", NULL};
	for (size_t i = 0; i < 4; i++) {
		if (prefixes[i])
			snprintf(inm, sizeof(inm), "If-None-Match: %s%s", prefixes[i], etag);
		else
			snprintf(inm, sizeof(inm), "If-None-Match: *");
		const char *const h[] = {inm, NULL};
		r = get("GET", "/assets/index-1a2b3c4d.js", h);
		ck_assert_int_eq(r.status, 304);
		ck_assert_uint_eq(r.body.len, 0);
		ck_assert_str_eq(header(&r, "ETag"), etag);
		ck_assert_str_eq(header(&r, "Cache-Control"),
				 "public, max-age=31536000, immutable");
		e2e_resp_free(&r);
	}
	/* Another form (br) has another tag: the identity tag does not match. */
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	const char *const br[] = {inm, "Accept-Encoding: br", NULL};
	r = get("GET", "/assets/index-1a2b3c4d.js", br);
	ck_assert_int_eq(r.status, 200);
	assert_body(&r, APP_JS_BR);
	e2e_resp_free(&r);
	const char *const other[] = {"If-None-Match: \"nope\"", NULL};
	r = get("GET", "/assets/index-1a2b3c4d.js", other);
	ck_assert_int_eq(r.status, 200);
	e2e_resp_free(&r);

	/* The page: every app path shares index.html's tag. */
	r = get("GET", "/genres", NULL);
	snprintf(inm, sizeof(inm), "If-None-Match: %s", header(&r, "ETag"));
	e2e_resp_free(&r);
	const char *const page[] = {inm, NULL};
	r = get("GET", "/favorites", page);
	ck_assert_int_eq(r.status, 304);
	ck_assert_str_eq(header(&r, "Cache-Control"), "no-cache");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(head_answers_headers_only)
{
	struct e2e_resp r = get("HEAD", "/assets/index-1a2b3c4d.js", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body.len, 0);
	char len[32];
	snprintf(len, sizeof(len), "%zu", strlen(APP_JS));
	ck_assert_str_eq(header(&r, "Content-Length"), len);
	ck_assert_str_eq(header(&r, "Content-Type"), "text/javascript; charset=utf-8");
	e2e_resp_free(&r);
	r = get("HEAD", "/movies", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body.len, 0);
	ck_assert_str_eq(header(&r, "Cache-Control"), "no-cache");
	e2e_resp_free(&r);
	r = get("HEAD", "/assets/nope.js", NULL);
	ck_assert_int_eq(r.status, 404);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(traversal_reaches_nothing_outside_the_table)
{
	static const char *const paths[] = {
		"/../secret.txt",
		"/assets/../../secret.txt",
		"/assets/..%2f..%2fsecret.txt",
		"/assets/%2e%2e/%2e%2e/secret.txt",
		"/%2e%2e/secret.txt",
		"/..%2fsecret.txt",
		"/assets/../index.html",
		"//etc/passwd",
		"/assets//index-1a2b3c4d.js",
		"/assets/./index-1a2b3c4d.js",
		"/assets/..\\..\\secret.txt",
		"/.env",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct buf out = BUF_INIT;
		long status = raw_get(paths[i], &out);
		ck_assert_msg(!strstr(out.data, SECRET) && !strstr(out.data, "root:") &&
				      !strstr(out.data, "HIDDEN"),
			      "%s leaked a file", paths[i]);
		/* Under /assets only the table's names exist; elsewhere the page. */
		if (strncmp(paths[i], "/assets/", 8) == 0)
			ck_assert_msg(status == 404, "%s: %ld", paths[i], status);
		else
			ck_assert_msg(status == 200 && strstr(out.data, INDEX_HTML), "%s: %ld",
				      paths[i], status);
		buf_free(&out);
	}
}
END_TEST

START_TEST(links_out_of_web_dir_are_left_out)
{
	char err[256], path[512], target[512];
	/* Out: a file beside WEB_DIR, the parent directory, an absolute path,
	 * nowhere. In: another file of the build. */
	static const struct {
		const char *name, *target;
	} links[] = {
		{"leak.txt", "../secret.txt"}, {"up", ".."},
		{"passwd", "/etc/passwd"},     {"dangling.txt", "nowhere.txt"},
		{"alias.txt", "robots.txt"},   {"assets/again", "."},
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", web_dir, links[i].name);
		snprintf(target, sizeof(target), "%s", links[i].target);
		ck_assert_int_eq(symlink(target, path), 0);
	}
	/* "assets/again" loops: the depth bound stops the walk with a reason. */
	struct config c = cfg;
	ck_assert_ptr_null(web_files_load(&c, err, sizeof(err)));
	ck_assert_msg(strstr(err, "nested too deeply"), "%s", err);
	snprintf(path, sizeof(path), "%s/assets/again", web_dir);
	ck_assert_int_eq(unlink(path), 0);

	struct web_files *w = web_files_load(&c, err, sizeof(err));
	ck_assert_msg(w != NULL, "load: %s", err);
	web_files_free(web);
	web = w;
	app.web = w;
	static const char *const out[] = {"/leak.txt", "/up/secret.txt", "/passwd", "/dangling.txt",
					  "/up/web/index.html"};
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		struct buf body = BUF_INIT;
		long status = raw_get(out[i], &body);
		ck_assert_msg(!strstr(body.data, SECRET) && !strstr(body.data, "root:"),
			      "%s leaked a file", out[i]);
		ck_assert_msg(status == 200 && strstr(body.data, INDEX_HTML), "%s: %ld", out[i],
			      status);
		buf_free(&body);
	}
	struct e2e_resp r = get("GET", "/alias.txt", NULL);
	ck_assert_int_eq(r.status, 200);
	assert_body(&r, "User-agent: *\n");
	e2e_resp_free(&r);
}
END_TEST

START_TEST(without_web_files_app_paths_are_404)
{
	app.web = NULL;
	struct e2e_resp r = get("GET", "/movies", NULL);
	assert_json_error(&r, 404, "route_not_found");
	e2e_resp_free(&r);
	app.web = web;
}
END_TEST

START_TEST(loading_refuses_a_dir_without_index_html)
{
	char err[256], path[512];
	struct config c = cfg;
	snprintf(path, sizeof(path), "%s/index.html", web_dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_ptr_null(web_files_load(&c, err, sizeof(err)));
	ck_assert_msg(strstr(err, "has no index.html") && strstr(err, web_dir), "%s", err);

	snprintf(path, sizeof(path), "%s/nowhere", root);
	c.web_dir = path;
	ck_assert_ptr_null(web_files_load(&c, err, sizeof(err)));
	ck_assert_msg(strstr(err, "cannot be read") && strstr(err, path), "%s", err);
}
END_TEST

START_TEST(accept_encoding_and_if_none_match_parsing)
{
	ck_assert(web_accepts_encoding("gzip, br", "br"));
	ck_assert(web_accepts_encoding("GZIP", "gzip"));
	ck_assert(web_accepts_encoding("br;q=1.0", "br"));
	ck_assert(web_accepts_encoding("br ; q=0.001", "br"));
	ck_assert(!web_accepts_encoding("br;q=0", "br"));
	ck_assert(!web_accepts_encoding("br; q=0.000", "br"));
	ck_assert(!web_accepts_encoding("br;q=0, *", "br"));
	ck_assert(web_accepts_encoding("*", "gzip"));
	ck_assert(!web_accepts_encoding("*;q=0", "gzip"));
	ck_assert(!web_accepts_encoding("", "gzip"));
	ck_assert(!web_accepts_encoding(NULL, "gzip"));
	ck_assert(!web_accepts_encoding("x-gzip-ish", "gzip"));
	ck_assert(web_etag_matches("\"a\"", "\"a\""));
	ck_assert(web_etag_matches("W/\"a\"", "\"a\""));
	ck_assert(web_etag_matches("\"b\", W/\"a\"", "\"a\""));
	ck_assert(web_etag_matches("*", "\"a\""));
	ck_assert(!web_etag_matches("\"ab\"", "\"a\""));
	ck_assert(!web_etag_matches("", "\"a\""));
}
END_TEST

START_TEST(origins)
{
	char o[128];
	ck_assert(http_url_origin("HTTPS://Example.COM:443/path?q", o, sizeof(o)));
	ck_assert_str_eq(o, "https://example.com");
	ck_assert(http_url_origin("http://user:pw@127.0.0.1:8000/", o, sizeof(o)));
	ck_assert_str_eq(o, "http://127.0.0.1:8000");
	ck_assert(http_url_origin("http://[::1]:80", o, sizeof(o)));
	ck_assert_str_eq(o, "http://[::1]");
	ck_assert(!http_url_origin("ftp://x", o, sizeof(o)));
	ck_assert(!http_url_origin("http://", o, sizeof(o)));
	ck_assert(http_same_origin("https://cinema.example.com", "https://cinema.example.com/"));
	ck_assert(http_same_origin("https://cinema.example.com:443", "https://cinema.example.com"));
	ck_assert(!http_same_origin("http://cinema.example.com", "https://cinema.example.com"));
	ck_assert(!http_same_origin("https://cinema.example.com.evil.test",
				    "https://cinema.example.com"));
	ck_assert(!http_same_origin("https://cinema.example.com/x", "https://cinema.example.com"));
	ck_assert(!http_same_origin("null", "https://cinema.example.com"));
	ck_assert(!http_same_origin(NULL, "https://cinema.example.com"));
}
END_TEST

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	Suite *s = suite_create("web_static");
	TCase *tc = tcase_create("static");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, app_paths_get_index_html);
	tcase_add_test(tc, app_answers_carry_the_security_headers);
	tcase_add_test(tc, the_csp_names_s3_endpoint_without_a_public_one);
	tcase_add_test(tc, hashed_assets_are_immutable);
	tcase_add_test(tc, top_level_files_are_served_and_revalidated);
	tcase_add_test(tc, missing_assets_and_api_paths_are_json_404);
	tcase_add_test(tc, other_methods_on_app_paths_are_405);
	tcase_add_test(tc, precompressed_forms_follow_accept_encoding);
	tcase_add_test(tc, etags_answer_304);
	tcase_add_test(tc, head_answers_headers_only);
	tcase_add_test(tc, traversal_reaches_nothing_outside_the_table);
	tcase_add_test(tc, links_out_of_web_dir_are_left_out);
	tcase_add_test(tc, without_web_files_app_paths_are_404);
	tcase_add_test(tc, loading_refuses_a_dir_without_index_html);
	tcase_add_test(tc, accept_encoding_and_if_none_match_parsing);
	tcase_add_test(tc, origins);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? 1 : 0;
}
