/* The web app's files in memory: loading (a walk of WEB_DIR at start) and
 * the fallback route that answers them. See static.h. */
#include "web/static.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <sys/stat.h>

#include "cinema/app.h"
#include "cinema/config.h"
#include "cinema/log.h"
#include "cinema/mem.h"

/* Bounds of what start-up reads: a Vite build is a few hundred KiB. */
#define WEB_MAX_FILES 4096
#define WEB_MAX_BYTES (256u * 1024u * 1024u)
#define WEB_MAX_DEPTH 16
#define WEB_PATH_MAX  1024

#define CACHE_IMMUTABLE	 "public, max-age=31536000, immutable"
#define CACHE_REVALIDATE "no-cache"
/* The app sends same-origin requests with an Origin header (the sign-in
 * endpoints check it), which "no-referrer" would turn into "null". */
#define APP_REFERRER_POLICY "same-origin"

const char *const web_reserved_prefixes[] = {
	"/api", "/docs", "/openapi.yaml", "/openapi.json", "/healthz", "/readyz", "/metrics", NULL,
};

struct blob {
	char *data; /* NULL: absent */
	size_t len;
	char etag[2 * 16 + 3]; /* "<32 hex digits>" */
};

struct web_file {
	char *name; /* "/assets/index-1a2b3c.js": the request path */
	const char *type;
	bool immutable; /* under /assets/: the name changes with the content */
	struct blob plain, br, gz;
};

struct web_files {
	struct web_file *files; /* sorted by name */
	size_t n;
	const struct web_file *index;
	size_t bytes;
	char *csp;
};

/* A file as read, before the precompressed forms are paired. */
struct raw {
	char *name;
	char *data;
	size_t len;
};

struct loader {
	struct raw *raws;
	size_t n, cap, bytes;
	char *err;
	size_t errlen;
	const char *root;
	char real_root[PATH_MAX]; /* root with its links resolved */
};

static const struct {
	const char *ext, *type;
} content_types[] = {
	{".html", "text/html; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".mjs", "text/javascript; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".webp", "image/webp"},
	{".jpg", "image/jpeg"},
	{".jpeg", "image/jpeg"},
	{".ico", "image/x-icon"},
	{".json", "application/json"},
	{".map", "application/json"},
	{".txt", "text/plain; charset=utf-8"},
	{".woff2", "font/woff2"},
	{".woff", "font/woff"},
	{".webmanifest", "application/manifest+json"},
	{".xml", "application/xml"},
};

static const char *content_type_of(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash : name, '.');
	if (dot)
		for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++)
			if (strcasecmp(dot, content_types[i].ext) == 0)
				return content_types[i].type;
	return "application/octet-stream";
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n > k && strcmp(s + n - k, suffix) == 0;
}

/* Whether path is prefix itself or lies under it. */
static bool under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool load_file(struct loader *l, const char *path, const char *name, off_t size)
{
	if (l->n == WEB_MAX_FILES || (size_t)size > WEB_MAX_BYTES - l->bytes) {
		snprintf(l->err, l->errlen, "WEB_DIR %s holds more than %d files or %u MiB",
			 l->root, WEB_MAX_FILES, WEB_MAX_BYTES >> 20);
		return false;
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(l->err, l->errlen, "WEB_DIR: cannot read %s: %s", path, strerror(errno));
		return false;
	}
	size_t len = (size_t)size;
	char *data = xmalloc(len ? len : 1);
	size_t got = len ? fread(data, 1, len, f) : 0;
	fclose(f);
	if (got != len) {
		snprintf(l->err, l->errlen, "WEB_DIR: %s changed while it was read", path);
		free(data);
		return false;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->raws = xrealloc(l->raws, l->cap * sizeof(*l->raws));
	}
	l->raws[l->n].name = xstrdup(name);
	l->raws[l->n].data = data;
	l->raws[l->n].len = len;
	l->n++;
	l->bytes += len;
	return true;
}

/* Whether a symbolic link at path points inside the root: links within
 * the build are followed, a link out of it (to /etc, to $HOME, to "..") is
 * left out with a warning, so nothing outside WEB_DIR is ever served. */
static bool link_stays_inside(const struct loader *l, const char *path)
{
	char target[PATH_MAX];
	if (!realpath(path, target))
		return false; /* dangling: nothing to serve */
	size_t n = strlen(l->real_root);
	if (strcmp(l->real_root, "/") == 0)
		return true;
	return strncmp(target, l->real_root, n) == 0 && target[n] == '/';
}

/* Reads the regular files under dir (path on disk) as names under prefix
 * ("" at the top, then "/assets"...). Hidden entries are skipped; symbolic
 * links are followed only when they resolve inside the root. */
static bool walk(struct loader *l, const char *dir, const char *prefix, int depth)
{
	DIR *d = opendir(dir);
	bool ok = true;
	if (!d) {
		snprintf(l->err, l->errlen, "WEB_DIR %s cannot be read: %s", dir, strerror(errno));
		return false;
	}
	const struct dirent *e;
	while (ok && (e = readdir(d)) != NULL) {
		char path[WEB_PATH_MAX], name[WEB_PATH_MAX];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		int a = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		int b = snprintf(name, sizeof(name), "%s/%s", prefix, e->d_name);
		if (a < 0 || (size_t)a >= sizeof(path) || b < 0 || (size_t)b >= sizeof(name)) {
			snprintf(l->err, l->errlen, "WEB_DIR: a path under %s is too long", dir);
			ok = false;
		} else if (lstat(path, &st) != 0) {
			snprintf(l->err, l->errlen, "WEB_DIR: cannot read %s: %s", path,
				 strerror(errno));
			ok = false;
		} else if (S_ISLNK(st.st_mode) &&
			   (!link_stays_inside(l, path) || stat(path, &st) != 0)) {
			LOG_WARN("WEB_DIR: a link leading outside the directory (or nowhere) is "
				 "left out",
				 LOG_STR("path", path));
		} else if (S_ISDIR(st.st_mode)) {
			if (depth == WEB_MAX_DEPTH) {
				snprintf(l->err, l->errlen, "WEB_DIR %s is nested too deeply",
					 l->root);
				ok = false;
			} else {
				ok = walk(l, path, name, depth + 1);
			}
		} else if (S_ISREG(st.st_mode)) {
			ok = load_file(l, path, name, st.st_size);
		}
	}
	closedir(d);
	return ok;
}

static int raw_cmp(const void *a, const void *b)
{
	return strcmp(((const struct raw *)a)->name, ((const struct raw *)b)->name);
}

static int file_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct web_file *)elem)->name);
}

static bool raw_exists(const struct loader *l, const char *name)
{
	struct raw key = {.name = (char *)name};
	return bsearch(&key, l->raws, l->n, sizeof(*l->raws), raw_cmp) != NULL;
}

static const struct web_file *find(const struct web_files *w, const char *name)
{
	return bsearch(name, w->files, w->n, sizeof(*w->files), file_cmp);
}

static void blob_take(struct blob *b, struct raw *r)
{
	unsigned char d[16];
	b->data = r->data;
	b->len = r->len;
	r->data = NULL;
	crypto_generichash(d, sizeof(d), (const unsigned char *)b->data, b->len, NULL, 0);
	b->etag[0] = '"';
	sodium_bin2hex(b->etag + 1, sizeof(b->etag) - 2, d, sizeof(d));
	b->etag[sizeof(b->etag) - 2] = '"';
	b->etag[sizeof(b->etag) - 1] = '\0';
}

/* The precompressed form's base name (into out) when name is one whose
 * base was read too; otherwise false. */
static bool variant_of(const struct loader *l, const char *name, const char *suffix, char *out,
		       size_t outlen)
{
	size_t n = strlen(name), k = strlen(suffix);
	if (!ends_with(name, suffix) || n - k >= outlen)
		return false;
	memcpy(out, name, n - k);
	out[n - k] = '\0';
	return raw_exists(l, out);
}

static char *csp_new(const struct config *cfg)
{
	char origin[512], csp[2048];
	if (!http_url_origin(*cfg->s3_public_endpoint ? cfg->s3_public_endpoint : cfg->s3_endpoint,
			     origin, sizeof(origin)))
		origin[0] = '\0'; /* not reached: the configuration has http(s) URLs */
	snprintf(csp, sizeof(csp),
		 "default-src 'self'; script-src 'self'; style-src 'self'; "
		 "img-src 'self' data: blob: %s; media-src 'self' blob: %s; connect-src 'self' %s; "
		 "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
		 origin, origin, origin);
	return xstrdup(csp);
}

struct web_files *web_files_load(const struct config *cfg, char *err, size_t errlen)
{
	struct loader l = {.err = err, .errlen = errlen, .root = cfg->web_dir};
	struct web_files *w = xcalloc(1, sizeof(*w));
	if (!realpath(cfg->web_dir, l.real_root)) {
		snprintf(err, errlen, "WEB_DIR %s cannot be read: %s", cfg->web_dir,
			 strerror(errno));
		goto fail;
	}
	if (!walk(&l, cfg->web_dir, "", 0))
		goto fail;
	qsort(l.raws, l.n, sizeof(*l.raws), raw_cmp);
	w->files = xcalloc(l.n ? l.n : 1, sizeof(*w->files));
	w->bytes = l.bytes;
	/* The files first, in name order (so still sorted), then their
	 * precompressed forms beside them. */
	for (size_t i = 0; i < l.n; i++) {
		char base[WEB_PATH_MAX];
		if (variant_of(&l, l.raws[i].name, ".br", base, sizeof(base)) ||
		    variant_of(&l, l.raws[i].name, ".gz", base, sizeof(base)))
			continue;
		struct web_file *f = &w->files[w->n++];
		f->name = xstrdup(l.raws[i].name);
		f->type = content_type_of(f->name);
		f->immutable = under(f->name, "/assets");
		blob_take(&f->plain, &l.raws[i]);
	}
	for (size_t i = 0; i < l.n; i++) {
		char base[WEB_PATH_MAX];
		if (!l.raws[i].data) /* taken above */
			continue;
		bool br = variant_of(&l, l.raws[i].name, ".br", base, sizeof(base));
		if (!br && !variant_of(&l, l.raws[i].name, ".gz", base, sizeof(base)))
			continue;
		struct web_file *f = (struct web_file *)find(w, base);
		if (f) /* else the base is itself a precompressed form: left out */
			blob_take(br ? &f->br : &f->gz, &l.raws[i]);
	}
	w->index = find(w, "/index.html");
	if (!w->index) {
		snprintf(err, errlen,
			 "WEB_DIR %s has no index.html: build the app (npm --prefix web run build) "
			 "or leave WEB_DIR empty",
			 cfg->web_dir);
		goto fail;
	}
	w->csp = csp_new(cfg);
	for (size_t i = 0; i < l.n; i++) {
		free(l.raws[i].name);
		free(l.raws[i].data);
	}
	free(l.raws);
	return w;
fail:
	for (size_t i = 0; i < l.n; i++) {
		free(l.raws[i].name);
		free(l.raws[i].data);
	}
	free(l.raws);
	web_files_free(w);
	return NULL;
}

void web_files_free(struct web_files *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++) {
		free(w->files[i].name);
		free(w->files[i].plain.data);
		free(w->files[i].br.data);
		free(w->files[i].gz.data);
	}
	free(w->files);
	free(w->csp);
	free(w);
}

size_t web_files_count(const struct web_files *w)
{
	return w->n;
}

size_t web_files_bytes(const struct web_files *w)
{
	return w->bytes;
}

const char *web_files_csp(const struct web_files *w)
{
	return w->csp;
}

/* Whether the parameters of one Accept-Encoding element (from p to end,
 * after the coding) leave its weight above zero. */
static bool weight_nonzero(const char *p, const char *end)
{
	while (p < end) {
		p += strspn(p, " \t;");
		if (p >= end)
			break;
		size_t len = strcspn(p, ";,");
		if (p + len > end)
			len = (size_t)(end - p);
		if (len >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			const char *v = p + 2;
			if (v < p + len && *v == '0') {
				for (v++; v < p + len && (*v == '.' || *v == '0'); v++)
					;
				return !(v == p + len || *v == ' ' || *v == '\t');
			}
			return true;
		}
		p += len;
	}
	return true;
}

bool web_accepts_encoding(const char *accept_encoding, const char *coding)
{
	size_t clen = strlen(coding);
	int named = -1, star = -1; /* -1 absent, 0 refused, 1 accepted */
	const char *p = accept_encoding;
	while (p && *p) {
		p += strspn(p, " \t,");
		if (!*p)
			break;
		const char *end = p + strcspn(p, ",");
		size_t tlen = strcspn(p, " \t;,");
		int ok = weight_nonzero(p + tlen, end) ? 1 : 0;
		if (tlen == clen && strncasecmp(p, coding, clen) == 0)
			named = ok;
		else if (tlen == 1 && *p == '*')
			star = ok;
		p = end;
	}
	return named >= 0 ? named == 1 : star == 1;
}

bool web_etag_matches(const char *if_none_match, const char *etag)
{
	size_t n = strlen(etag);
	const char *p = if_none_match;
	while (p && *p) {
		p += strspn(p, " \t,");
		if (!*p)
			break;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		size_t len = strcspn(p, " \t,");
		if (len == n && memcmp(p, etag, n) == 0)
			return true;
		p += len;
	}
	return false;
}

static unsigned h_app(struct http_request *req, struct http_response *res)
{
	const struct web_files *w = req->app ? req->app->web : NULL;
	if (!w)
		return http_error(res, ERR_ROUTE_NOT_FOUND, NULL);
	const struct web_file *f = find(w, req->path);
	if (!f && under(req->path, "/assets"))
		return http_error(res, ERR_NOT_FOUND, "No such file in the web app.");
	if (!f)
		f = w->index; /* a page of the app: it routes in the browser */

	const struct blob *b = &f->plain;
	const char *encoding = NULL;
	const char *accept = http_header(req, "Accept-Encoding");
	if (f->br.data && web_accepts_encoding(accept, "br")) {
		b = &f->br;
		encoding = "br";
	} else if (f->gz.data && web_accepts_encoding(accept, "gzip")) {
		b = &f->gz;
		encoding = "gzip";
	}

	http_empty(res, 200);
	http_set_header(res, "Cache-Control", f->immutable ? CACHE_IMMUTABLE : CACHE_REVALIDATE);
	http_set_header(res, "ETag", b->etag);
	http_set_header(res, "Content-Security-Policy", w->csp);
	http_set_header(res, "Referrer-Policy", APP_REFERRER_POLICY);
	if (f->br.data || f->gz.data)
		http_set_header(res, "Vary", "Accept-Encoding");
	const char *inm = http_header(req, "If-None-Match");
	if (inm && web_etag_matches(inm, b->etag))
		return http_empty(res, 304);
	if (encoding)
		http_set_header(res, "Content-Encoding", encoding);
	res->content_type = f->type;
	res->body_ref = b->data;
	res->body_ref_len = b->len;
	return 200;
}

const struct route web_route = {HTTP_GET, "/{app_path}", h_app, ACCESS_PUBLIC, 0, LANE_INLINE};
