/* The web app's files (the Vite build in WEB_DIR), read into memory once at
 * start and answered from there on the socket thread: no file is opened
 * after start, and only the names found at start can be served, so no path
 * a client sends can reach another file.
 *
 *   /assets/<name>   a hashed build file: Cache-Control immutable for a year;
 *                    a name not in the build is 404 (JSON, like the API)
 *   /<file>          another file of the build (favicon.svg, robots.txt...):
 *                    no-cache, revalidated by its ETag
 *   anything else    index.html, no-cache: the app routes in the browser
 *
 * <file>.br and <file>.gz beside a file are its precompressed forms, sent
 * when Accept-Encoding allows (br first). Every answer carries an ETag
 * (If-None-Match gives 304) and the app's Content-Security-Policy. */
#ifndef CINEMA_WEB_STATIC_H
#define CINEMA_WEB_STATIC_H

#include <stddef.h>

#include "cinema/http.h"

struct config;
struct web_files;

/* Paths the app never answers: the API, the docs, the spec, health and
 * metrics (NULL-terminated; a prefix covers itself and what follows a
 * '/'). For http_server_options.fallback_except. */
extern const char *const web_reserved_prefixes[];

/* GET /{app_path}: the server's fallback route (http_server_options.fallback).
 * Reads the files from req->app->web; answers 404 route_not_found when
 * there are none. LANE_INLINE: memory only. */
extern const struct route web_route;

/* Reads every file under cfg->web_dir (hidden names skipped) and builds
 * the Content-Security-Policy with the S3 public origin (S3_PUBLIC_ENDPOINT,
 * else S3_ENDPOINT). Returns NULL with a one-line reason in err when the
 * directory cannot be read, has no index.html, or is too large. The result
 * is immutable: safe to read from any thread. Free with web_files_free. */
struct web_files *web_files_load(const struct config *cfg, char *err, size_t errlen);
/* Accepts NULL. */
void web_files_free(struct web_files *w);
/* How many files (precompressed forms not counted) and bytes (all forms). */
size_t web_files_count(const struct web_files *w);
size_t web_files_bytes(const struct web_files *w);
/* The Content-Security-Policy of the app's answers (borrowed). */
const char *web_files_csp(const struct web_files *w);

/* Whether an Accept-Encoding header value accepts coding ("br", "gzip"):
 * named with a non-zero q, or not named and "*" has a non-zero q. */
bool web_accepts_encoding(const char *accept_encoding, const char *coding);
/* Whether an If-None-Match header value matches etag (a quoted strong tag;
 * weak comparison: W/ prefixes are ignored; "*" matches any). */
bool web_etag_matches(const char *if_none_match, const char *etag);

#endif
