#include "docs/docs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/handlers.h"
#include "accounts/service.h"
#include "cinema/config.h"
#include "cinema/mem.h"
#include "docs/form.h"

#define COOKIE_NAME	 "cinema_docs"
#define COOKIE_TTL_S	 3600
#define STATIC_MAX_BYTES (8u * 1024u * 1024u)

static const char html_type[] = "text/html; charset=utf-8";
static const char docs_csp[] = "default-src 'self'; img-src 'self' data:; "
			       "style-src 'self' 'unsafe-inline'; script-src 'self'; "
			       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'";

static const char login_page[] =
	"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<title>Online Cinema API docs: sign in</title>"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>"
	"<body style=\"font-family: sans-serif; max-width: 24em; margin: 4em auto\">"
	"<h1>API documentation</h1><p>Sign in with your Online Cinema account.</p>%s"
	"<form method=\"post\" action=\"/docs/login\">"
	"<p><label>Email<br><input name=\"email\" type=\"email\" required "
	"autocomplete=\"username\"></label></p>"
	"<p><label>Password<br><input name=\"password\" type=\"password\" required "
	"autocomplete=\"current-password\"></label></p>"
	"<p><button type=\"submit\">Sign in</button></p></form></body></html>";

static const char ui_page[] =
	"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<title>Online Cinema API</title>"
	"<link rel=\"stylesheet\" href=\"/docs/assets/swagger-ui.css\"></head><body>"
	"<form method=\"post\" action=\"/docs/logout\" style=\"float: right; margin: 1em\">"
	"<button type=\"submit\">Sign out</button></form>"
	"<div id=\"swagger-ui\"></div>"
	"<script src=\"/docs/assets/swagger-ui-bundle.js\"></script>"
	"<script src=\"/docs/assets/init.js\"></script></body></html>";

/* Inline scripts are forbidden by the CSP: the start-up code is a file. */
static const char init_js[] =
	"window.ui = SwaggerUIBundle({url: '/openapi.yaml', dom_id: '#swagger-ui',\n"
	"  deepLinking: true, persistAuthorization: true,\n"
	"  presets: [SwaggerUIBundle.presets.apis]});\n";

/* The account signed in by bearer token or docs cookie, or 0. */
static long long docs_user(struct http_request *req)
{
	if (req->auth.user_id)
		return req->auth.user_id;
	const char *cookies = http_header(req, "Cookie");
	const char *p = cookies;
	while (p && (p = strstr(p, COOKIE_NAME "=")) != NULL) {
		if (p == cookies || p[-1] == ' ' || p[-1] == ';') {
			char token[2100];
			p += sizeof(COOKIE_NAME);
			size_t n = strcspn(p, "; ");
			if (n >= sizeof(token))
				return 0;
			memcpy(token, p, n);
			token[n] = '\0';
			long long uid = 0;
			if (jwt_docs_verify(req->app->cfg->jwt_secret, token, time(NULL), &uid) ==
			    ERR_OK)
				return uid;
			return 0;
		}
		p++;
	}
	return 0;
}

static unsigned html(struct http_response *res, unsigned status, const char *body)
{
	http_empty(res, status);
	res->content_type = html_type;
	buf_append_str(&res->body, body);
	http_set_header(res, "Content-Security-Policy", docs_csp);
	return status;
}

static unsigned login_form(struct http_response *res, unsigned status, const char *message)
{
	char page[sizeof(login_page) + 256];
	char note[256] = "";
	if (message)
		snprintf(note, sizeof(note), "<p role=\"alert\" style=\"color: #b00\">%s</p>",
			 message);
	snprintf(page, sizeof(page), login_page, note);
	html(res, status, page);
	http_set_header(res, "WWW-Authenticate", "Bearer");
	return status;
}

static unsigned h_docs(struct http_request *req, struct http_response *res)
{
	if (!docs_user(req))
		return login_form(res, 401, NULL);
	return html(res, 200, ui_page);
}

static unsigned h_login(struct http_request *req, struct http_response *res)
{
	char email[256], password[256], cookie[2300];
	long long uid = 0;
	const char *ct = http_header(req, "Content-Type");
	if (!ct || strncmp(ct, "application/x-www-form-urlencoded", 33) != 0)
		return http_error(res, ERR_UNSUPPORTED_MEDIA_TYPE,
				  "The sign-in form must be application/x-www-form-urlencoded.");
	if (!docs_form_field(req->body, "email", email, sizeof(email)) ||
	    !docs_form_field(req->body, "password", password, sizeof(password)))
		return login_form(res, 422, "Enter your email and password.");
	for (char *c = email; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	if (!accounts_rate_ok(req, res, "docs_login", email))
		return res->status;
	enum err rc = accounts_check_credentials(req->app, email, password, &uid);
	if (rc == ERR_INVALID_CREDENTIALS || rc == ERR_ACCOUNT_INACTIVE ||
	    rc == ERR_ACCOUNT_DISABLED)
		return login_form(res, 401,
				  "Wrong email or password, or the account is not active.");
	if (rc != ERR_OK)
		return http_error(res, rc, NULL);
	char *token = jwt_docs_issue(req->app->cfg->jwt_secret, uid, COOKIE_TTL_S, time(NULL));
	if (!token)
		return http_error(res, ERR_INTERNAL, NULL);
	bool secure = strncmp(req->app->cfg->public_base_url, "https://", 8) == 0;
	snprintf(cookie, sizeof(cookie),
		 COOKIE_NAME "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s", token,
		 COOKIE_TTL_S, secure ? "; Secure" : "");
	free(token);
	http_empty(res, 303);
	http_set_header(res, "Set-Cookie", cookie);
	http_set_header(res, "Location", "/docs");
	return 303;
}

static unsigned h_logout(struct http_request *req, struct http_response *res)
{
	(void)req;
	http_empty(res, 303);
	http_set_header(res, "Set-Cookie",
			COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
	http_set_header(res, "Location", "/docs");
	return 303;
}

/* Sends a whole file (bounded) with content type. */
static unsigned send_file(struct http_response *res, const char *path, const char *type,
			  const char *cache)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return http_error(res, ERR_NOT_FOUND, NULL);
	http_empty(res, 200);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && res->body.len < STATIC_MAX_BYTES)
		buf_append(&res->body, chunk, n);
	fclose(f);
	res->content_type = type;
	http_set_header(res, "Cache-Control", cache);
	return 200;
}

static unsigned h_asset(struct http_request *req, struct http_response *res)
{
	static const struct {
		const char *name, *type;
	} assets[] = {
		{"swagger-ui.css", "text/css; charset=utf-8"},
		{"swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
		{"init.js", "text/javascript; charset=utf-8"},
	};
	const char *name = http_param(req, "file");
	if (!docs_user(req))
		return http_error(res, ERR_UNAUTHORIZED, NULL);
	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
		if (strcmp(name, assets[i].name) != 0)
			continue;
		if (strcmp(name, "init.js") == 0) {
			http_empty(res, 200);
			buf_append_str(&res->body, init_js);
			res->content_type = assets[i].type;
			return 200;
		}
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", req->app->cfg->docs_assets_dir, name);
		return send_file(res, path, assets[i].type, "private, max-age=3600");
	}
	return http_error(res, ERR_NOT_FOUND, NULL);
}

static unsigned spec(struct http_request *req, struct http_response *res, bool json)
{
	char path[1024];
	const char *yaml = req->app->cfg->openapi_path;
	if (!docs_user(req)) {
		http_error(res, ERR_UNAUTHORIZED, "Sign in to read the API description.");
		http_set_header(res, "WWW-Authenticate", "Bearer");
		return 401;
	}
	snprintf(path, sizeof(path), "%s", yaml);
	if (json) {
		char *dot = strrchr(path, '.');
		if (dot && (size_t)(dot - path) + 6 < sizeof(path))
			strcpy(dot, ".json");
	}
	return send_file(res, path,
			 json ? "application/json; charset=utf-8"
			      : "application/yaml; charset=utf-8",
			 "private, no-cache");
}

static unsigned h_yaml(struct http_request *req, struct http_response *res)
{
	return spec(req, res, false);
}

static unsigned h_json(struct http_request *req, struct http_response *res)
{
	return spec(req, res, true);
}

const struct route docs_routes[] = {
	{HTTP_GET, "/docs", h_docs, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_POST, "/docs/login", h_login, ACCESS_PUBLIC, 4096, LANE_PASSWORD},
	{HTTP_POST, "/docs/logout", h_logout, ACCESS_PUBLIC, 4096, LANE_DB},
	{HTTP_GET, "/docs/assets/{file}", h_asset, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_GET, "/openapi.yaml", h_yaml, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_GET, "/openapi.json", h_json, ACCESS_PUBLIC, 0, LANE_DB},
	ROUTES_END,
};
