#include "docs/docs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accounts/handlers.h"
#include "accounts/service.h"
#include "cinema/config.h"
#include "cinema/log.h"
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
	"<form id=\"sign-out\" method=\"post\" action=\"/docs/logout\" "
	"style=\"float: right; margin: 1em\"><button type=\"submit\">Sign out</button></form>"
	"<div id=\"swagger-ui\"></div>"
	"<script src=\"/docs/assets/swagger-ui-bundle.js\"></script>"
	"<script src=\"/docs/assets/init.js\"></script></body></html>";

static const char missing_page[] =
	"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<title>Online Cinema API docs: unavailable</title></head>"
	"<body style=\"font-family: sans-serif; max-width: 40em; margin: 4em auto\">"
	"<h1>API documentation unavailable</h1><p role=\"alert\">The Swagger UI files are "
	"missing: DOCS_ASSETS_DIR has no swagger-ui-bundle.js and swagger-ui.css. Install the "
	"npm dev tools (<code>npm ci</code>, which brings swagger-ui-dist) or point "
	"DOCS_ASSETS_DIR at a swagger-ui-dist directory, then restart the server.</p>"
	"<p>The API description itself is at <a href=\"/openapi.yaml\">/openapi.yaml</a>.</p>"
	"<form method=\"post\" action=\"/docs/logout\"><button type=\"submit\">Sign out"
	"</button></form></body></html>";

/* Inline scripts are forbidden by the CSP: the start-up code is a file.
 * The page gets a short-lived access token of its own docs session from
 * /docs/token and authorises Swagger UI with it, in memory only: nothing
 * is persisted, and an earlier version's persisted token is removed. The
 * token is renewed a minute before it expires; signing out forgets it and
 * the server ends the session. */
static const char init_js[] =
	"(function () {\n"
	"  'use strict';\n"
	"  var timer = null;\n"
	"  try { window.localStorage.removeItem('authorized'); } catch (e) { /* no storage */ }\n"
	"  function authorize() {\n"
	"    fetch('/docs/token', {method: 'POST', credentials: 'same-origin', cache: "
	"'no-store'})\n"
	"      .then(function (r) {\n"
	"        if (r.status === 401) { window.location.assign('/docs'); throw new Error('signed "
	"out'); }\n"
	"        if (!r.ok) throw new Error('token: ' + r.status);\n"
	"        return r.json();\n"
	"      })\n"
	"      .then(function (t) {\n"
	"        window.ui.preauthorizeApiKey('bearerAuth', t.access_token);\n"
	"        clearTimeout(timer);\n"
	"        timer = setTimeout(authorize, Math.max(30, t.expires_in - 60) * 1000);\n"
	"      })\n"
	"      .catch(function (e) { console.warn('docs: ' + e.message); });\n"
	"  }\n"
	"  window.ui = SwaggerUIBundle({url: '/docs/openapi.json', dom_id: '#swagger-ui',\n"
	"    deepLinking: true, persistAuthorization: false,\n"
	"    presets: [SwaggerUIBundle.presets.apis], onComplete: authorize});\n"
	"  document.getElementById('sign-out').addEventListener('submit', function () {\n"
	"    clearTimeout(timer);\n"
	"    window.ui.authActions.logout(['bearerAuth']);\n"
	"  });\n"
	"})();\n";

/* The security schemes a user cannot use in the docs page: the metrics
 * token is the operator's, the docs cookie is sent by the browser. */
static const char *const hidden_schemes[] = {"metricsToken", "docsCookie"};

/* Copies the value of the docs cookie into out; false if there is none
 * (or it is too long to be one). */
static bool docs_cookie(struct http_request *req, char *out, size_t outlen)
{
	const char *cookies = http_header(req, "Cookie");
	const char *p = cookies;
	while (p && (p = strstr(p, COOKIE_NAME "=")) != NULL) {
		if (p == cookies || p[-1] == ' ' || p[-1] == ';') {
			p += sizeof(COOKIE_NAME);
			size_t n = strcspn(p, "; ");
			if (n >= outlen)
				return false;
			memcpy(out, p, n);
			out[n] = '\0';
			return true;
		}
		p++;
	}
	return false;
}

/* The account signed in by the docs cookie of a live session (filling
 * who), false otherwise. */
static bool docs_cookie_user(struct http_request *req, struct http_identity *who)
{
	char token[2100];
	return docs_cookie(req, token, sizeof(token)) &&
	       accounts_docs_authenticate(req->app, token, who) == ERR_OK;
}

/* Signed in by bearer token or docs cookie. */
static bool docs_user(struct http_request *req)
{
	struct http_identity who;
	return req->auth.user_id || docs_cookie_user(req, &who);
}

static bool assets_present(const struct config *cfg)
{
	static const char *const files[] = {"swagger-ui-bundle.js", "swagger-ui.css"};
	char path[1024];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->docs_assets_dir, files[i]);
		if (access(path, R_OK) != 0)
			return false;
	}
	return true;
}

void docs_check_assets(const struct config *cfg)
{
	if (!assets_present(cfg))
		LOG_WARN("swagger ui files missing: /docs cannot show the API documentation",
			 LOG_STR("docs_assets_dir", cfg->docs_assets_dir),
			 LOG_STR("hint", "run npm ci or set DOCS_ASSETS_DIR"));
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
	if (!assets_present(req->app->cfg))
		return html(res, 503, missing_page);
	return html(res, 200, ui_page);
}

static unsigned h_login(struct http_request *req, struct http_response *res)
{
	char email[256], password[256], cookie[2300];
	struct http_identity who;
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
	/* The cookie names a session of its own: logout, deactivation and
	 * "end all sessions" end it at once. */
	enum err rc = accounts_docs_login(req->app, email, password, COOKIE_TTL_S, &who);
	if (rc == ERR_INVALID_CREDENTIALS || rc == ERR_ACCOUNT_INACTIVE ||
	    rc == ERR_ACCOUNT_DISABLED)
		return login_form(res, 401,
				  "Wrong email or password, or the account is not active.");
	if (rc != ERR_OK)
		return http_error(res, rc, NULL);
	char *token = jwt_docs_issue(req->app->cfg->jwt_secret, who.user_id, who.session_id,
				     COOKIE_TTL_S, time(NULL));
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
	struct http_identity who;
	/* End the server-side session too, so a copy of the cookie or a token
	 * the page was given stops working now. */
	if (docs_cookie_user(req, &who)) {
		enum err rc = accounts_logout(req->app, &who, NULL);
		if (rc != ERR_OK)
			return http_error(res, rc, NULL);
	}
	http_empty(res, 303);
	http_set_header(res, "Set-Cookie",
			COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
	http_set_header(res, "Location", "/docs");
	http_set_header(res, "Cache-Control", "no-store");
	return 303;
}

/* A short-lived access token in the docs session, for the page's
 * "Try it out". Only the cookie authorises it: a bearer caller has one. */
static unsigned h_token(struct http_request *req, struct http_response *res)
{
	struct http_identity who;
	char *access = NULL;
	int expires_in = 0;
	if (!docs_cookie_user(req, &who))
		return http_error(res, ERR_UNAUTHORIZED, "Sign in to the docs first.");
	enum err rc = accounts_session_access(req->app, &who, &access, &expires_in);
	if (rc != ERR_OK)
		return http_error(res, rc, NULL);
	http_json(res, 200,
		  json_pack("{s:s,s:s,s:i}", "access_token", access, "token_type", "bearer",
			    "expires_in", expires_in));
	free(access);
	http_set_header(res, "Cache-Control", "no-store");
	return 200;
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

static bool requirement_hidden(json_t *requirement)
{
	for (size_t i = 0; i < sizeof(hidden_schemes) / sizeof(hidden_schemes[0]); i++)
		if (json_object_get(requirement, hidden_schemes[i]))
			return true;
	return false;
}

/* Drops the hidden schemes from the operations' security; an operation
 * that only they authorise cannot be tried in the page and goes too. */
static void hide_schemes(json_t *spec)
{
	json_t *schemes = json_object_get(json_object_get(spec, "components"), "securitySchemes");
	for (size_t i = 0; i < sizeof(hidden_schemes) / sizeof(hidden_schemes[0]); i++)
		json_object_del(schemes, hidden_schemes[i]);
	json_t *paths = json_object_get(spec, "paths"), *item, *op;
	const char *path, *method;
	void *tmp, *tmp2;
	json_object_foreach_safe (paths, tmp, path, item) {
		json_object_foreach_safe (item, tmp2, method, op) {
			json_t *security = json_object_get(op, "security");
			size_t before = json_array_size(security);
			for (size_t i = json_array_size(security); i-- > 0;)
				if (requirement_hidden(json_array_get(security, i)))
					json_array_remove(security, i);
			if (before && !json_array_size(security))
				json_object_del(item, method);
		}
		if (!json_object_size(item))
			json_object_del(paths, path);
	}
}

/* The description the page shows: openapi.json without what cannot be
 * used there (the file keeps describing it for everyone else). */
static unsigned h_page_spec(struct http_request *req, struct http_response *res)
{
	char path[1024];
	json_error_t jerr;
	if (!docs_user(req))
		return http_error(res, ERR_UNAUTHORIZED, "Sign in to read the API description.");
	snprintf(path, sizeof(path), "%s", req->app->cfg->openapi_path);
	char *dot = strrchr(path, '.');
	if (dot && (size_t)(dot - path) + 6 < sizeof(path))
		strcpy(dot, ".json");
	json_t *spec = json_load_file(path, 0, &jerr);
	if (!spec)
		return http_error(res, ERR_NOT_FOUND, NULL);
	hide_schemes(spec);
	http_json(res, 200, spec);
	http_set_header(res, "Cache-Control", "private, no-cache");
	return 200;
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
	{HTTP_POST, "/docs/token", h_token, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_GET, "/docs/openapi.json", h_page_spec, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_GET, "/docs/assets/{file}", h_asset, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_GET, "/openapi.yaml", h_yaml, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_GET, "/openapi.json", h_json, ACCESS_PUBLIC, 0, LANE_DB},
	ROUTES_END,
};
