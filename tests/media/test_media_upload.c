/* End-to-end tests of media uploads (docs/MEDIA.md) on the real binaries:
 * `cinema-api serve` (and `cinema-scheduler`, `cinema-api seed --media`)
 * against a fresh migrated database per test, Redis database REDIS_DB and the
 * local S3 server (s3rver, which checks SigV4 signatures, presigned ones
 * included, and their expiry). The test talks to S3 as a browser would:
 * libcurl PUTs to the presigned URLs with exactly the headers the API gave,
 * and follows the public redirects; it checks what S3 holds with the
 * project's S3 client (HEAD).
 *
 * Needs DATABASE_URL, REDIS_URL, the S3_* variables (scripts/test.sh starts
 * throwaway servers), CINEMA_API_BIN, CINEMA_SCHEDULER_BIN and
 * MIGRATIONS_DIR. Redis: database REDIS_DB of REDIS_URL's server is this
 * suite's, flushed before and after each test. */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cinema/log.h"
#include "e2e.h"
#include "harness.h"
#include "storage/s3.h"

#define REDIS_DB 1
#define PASSWORD "Popcorn-42!"
#define BASE_URL "http://frontend.test"
#define MIB	 (1024 * 1024)

static struct harness_world w;

enum { MOD, USR, NUSERS };
static struct harness_user users[NUSERS];

/* --- fixture --- */

static void setup(void)
{
	static const char *const s3_env[] = {"S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY",
					     "S3_BUCKET",   "S3_REGION",     NULL};
	harness_world_begin(&w, "media", REDIS_DB);
	harness_require_env(s3_env);
}

static void teardown(void)
{
	harness_world_end(&w);
}

/* Starts the API with the world's settings plus extra "NAME=value" entries
 * (NULL-terminated, may be NULL), and signs in a moderator and a user. */
static void boot(const char *const *extra)
{
	harness_world_api_env(&w, &w.srv_env, BASE_URL);
	for (const char *const *e = extra; e && *e; e++)
		harness_env_set(&w.srv_env, "%s", *e);
	harness_server_start(&w.srv, w.srv_env.p);
	users[MOD] =
		(struct harness_user){.email = harness_unique_email("mod"), .group = "MODERATOR"};
	users[USR] = (struct harness_user){.email = harness_unique_email("usr"), .group = "USER"};
	harness_create_users(w.ci, users, NUSERS, PASSWORD);
}

static long long new_movie(const char *name)
{
	harness_sql_ok("INSERT INTO certifications (name) VALUES ('PG') ON CONFLICT DO NOTHING");
	return harness_sql_int(harness_fmt(
		"INSERT INTO movies (name, year, time, imdb, votes, description, price, "
		"certification_id) SELECT '%s', 2001, 100, 7.5, 1000, 'A film.', 4.99, id "
		"FROM certifications WHERE name = 'PG' RETURNING id",
		name));
}

/* The cinema-scheduler of the world, deleting media with S3 (the
 * environment's S3_* settings), sweeping often; its cleanup_media job runs
 * every cleanup_s seconds once due. */
static void scheduler_start(int cleanup_s)
{
	struct harness_env e = {0};
	harness_env_set(&e, "DATABASE_URL=%s", w.ci);
	harness_env_set(&e, "REDIS_URL=%s", w.redis_url);
	harness_env_set(&e, "EMAIL_QUEUE_KEY=%s", w.queue_key);
	harness_env_set(&e, "SMTP_URL=smtp://127.0.0.1:9");
	harness_env_set(&e, "SMTP_ALLOW_PLAIN=1");
	harness_env_set(&e, "TEMPLATES_DIR=%s", getenv("TEMPLATES_DIR"));
	harness_env_set(&e, "SCHEDULER_SWEEP_MS=100");
	harness_env_set(&e, "MEDIA_CLEANUP_INTERVAL_S=%d", cleanup_s);
	harness_scheduler_start(e.p);
}

/* --- bytes --- */

/* len bytes (len >= 16) that start like a file of type, then a pattern. */
static char *file_bytes(const char *type, size_t len)
{
	char *p = malloc(len);
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (char)('a' + (i * 7 + i / 251) % 26);
	if (strcmp(type, "image/png") == 0)
		memcpy(p, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
	else if (strcmp(type, "image/jpeg") == 0)
		memcpy(p, "\xff\xd8\xff\xe0\0\x10JFIF\0", 11);
	else if (strcmp(type, "image/webp") == 0)
		memcpy(p, "RIFF\x24\0\0\0WEBPVP8 ", 16);
	else if (strcmp(type, "video/mp4") == 0)
		memcpy(p,
		       "\0\0\0\x20"
		       "ftypisom",
		       12);
	else if (strcmp(type, "video/webm") == 0)
		memcpy(p, "\x1a\x45\xdf\xa3\x9f\x42\x86\x81", 8);
	return p;
}

/* --- S3, as a browser and as the project's client --- */

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ud)
{
	buf_append(ud, ptr, size * nmemb);
	return size * nmemb;
}

/* PUTs len bytes of data to url with the headers of a MediaUploadPart
 * (a JSON object; NULL: none) plus extra ("Name: value", may be NULL), and
 * nothing else (no Content-Type of libcurl's own); the ETag answered goes
 * to etag (when not NULL). Returns the HTTP status. */
static long s3_put_raw(const char *url, const json_t *headers, const char *extra, const char *data,
		       size_t len, char *etag, size_t etaglen)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hl = NULL;
	struct e2e_resp r = {0};
	const char *name;
	json_t *value;
	long status = 0;
	ck_assert_ptr_nonnull(h);
	json_object_foreach ((json_t *)headers, name, value)
		hl = curl_slist_append(hl, harness_fmt("%s: %s", name, json_string_value(value)));
	if (!headers || !json_object_get(headers, "Content-Type"))
		hl = curl_slist_append(hl, "Content-Type:");
	if (extra)
		hl = curl_slist_append(hl, extra);
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.headers);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	CURLcode cc = curl_easy_perform(h);
	ck_assert_msg(cc == CURLE_OK, "PUT %s: %s", url, curl_easy_strerror(cc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (etag && !e2e_header(&r, "ETag", etag, etaglen))
		etag[0] = '\0';
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	e2e_resp_free(&r);
	return status;
}

static struct s3_client *s3_env_client(void)
{
	struct s3_options o = {
		.endpoint = getenv("S3_ENDPOINT"),
		.bucket = getenv("S3_BUCKET"),
		.access_key = getenv("S3_ACCESS_KEY"),
		.secret_key = getenv("S3_SECRET_KEY"),
		.region = getenv("S3_REGION"),
		.timeout_ms = 10000,
	};
	struct s3_client *c = s3_client_new(&o);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* Whether S3 holds key (HEAD): true, false (404); fails on anything else. */
static bool s3_has(const char *key)
{
	struct s3_client *c = s3_env_client();
	struct s3_object_info info;
	char err[256] = "";
	enum err rc = s3_head_object(c, key, &info, err, sizeof(err));
	s3_client_free(c);
	ck_assert_msg(rc == ERR_OK || rc == ERR_NOT_FOUND, "HEAD %s: %s", key, err);
	return rc == ERR_OK;
}

/* Polls until S3 no longer holds key; fails after HARNESS_WAIT_MS. */
static void wait_s3_gone(const char *key)
{
	long long until = harness_now_ms() + HARNESS_WAIT_MS;
	while (s3_has(key)) {
		ck_assert_msg(harness_now_ms() < until, "%s still in S3\n%s", key,
			      harness_logs_tail());
		harness_sleep_ms(HARNESS_POLL_MS);
	}
}

static long long sql_count(const char *sql)
{
	return harness_sql_int(sql);
}

static void wait_sql_zero(const char *sql)
{
	long long until = harness_now_ms() + HARNESS_WAIT_MS;
	while (sql_count(sql) != 0) {
		ck_assert_msg(harness_now_ms() < until, "still not 0: %s\n%s", sql,
			      harness_logs_tail());
		harness_sleep_ms(HARNESS_POLL_MS);
	}
}

/* --- the API --- */

static const char *uploads_path(long long movie, const char *kind)
{
	return harness_fmt("/api/v1/movies/%lld/media/%s/uploads", movie, kind);
}

static const char *complete_path(long long movie, const char *kind, const char *id)
{
	return harness_fmt("/api/v1/movies/%lld/media/%s/uploads/%s/complete", movie, kind, id);
}

/* createMediaUpload as the moderator; asserts 201 and answers the upload
 * (a new reference). */
static json_t *create_upload(long long movie, const char *kind, const char *type, long long size)
{
	struct e2e_resp r = harness_call(
		"POST", uploads_path(movie, kind), users[MOD].access,
		harness_json("{s:s,s:I}", "content_type", type, "size_bytes", (json_int_t)size));
	harness_expect_coded(&r, 201, NULL);
	json_t *u = json_incref(r.json);
	e2e_resp_free(&r);
	return u;
}

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static long long jint(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* PUTs every part of upload u from data; fills parts (for complete) with
 * each part's number and ETag, leaving out part skip (0: none). */
static json_t *put_parts(const json_t *u, const char *data, int skip)
{
	json_t *list = json_array(), *p;
	size_t i, off = 0;
	json_array_foreach (json_object_get(u, "parts"), i, p) {
		char etag[160];
		size_t size = (size_t)jint(p, "size");
		int number = (int)jint(p, "number");
		if (number != skip) {
			long st = s3_put_raw(jstr(p, "url"), json_object_get(p, "headers"), NULL,
					     data + off, size, etag, sizeof(etag));
			ck_assert_msg(st == 200, "PUT part %d: %ld", number, st);
			ck_assert_msg(etag[0], "part %d: no ETag", number);
			json_array_append_new(
				list, harness_json("{s:i,s:s}", "number", number, "etag", etag));
		}
		off += size;
	}
	return list;
}

/* completeMediaUpload with parts (consumed; NULL: no body). */
static struct e2e_resp complete(long long movie, const char *kind, const char *id, json_t *parts)
{
	return harness_call("POST", complete_path(movie, kind, id), users[MOD].access,
			    parts ? harness_json("{s:o}", "parts", parts) : NULL);
}

/* The S3 key of a Media object's url ("/api/v1/" + key), into out. */
static void media_key(const json_t *media, char *out, size_t n)
{
	const char *url = jstr(media, "url");
	ck_assert_msg(url && strncmp(url, "/api/v1/media/", 14) == 0, "url: %s", url);
	snprintf(out, n, "%s", url + strlen("/api/v1/"));
}

/* Uploads data as the movie's kind with a single PUT or in parts, and
 * answers the linked Media (a new reference). */
static json_t *upload(long long movie, const char *kind, const char *type, const char *data,
		      size_t len)
{
	json_t *u = create_upload(movie, kind, type, (long long)len);
	json_t *parts = put_parts(u, data, 0);
	bool multipart = json_is_true(json_object_get(u, "multipart"));
	struct e2e_resp r = complete(movie, kind, jstr(u, "id"), multipart ? parts : NULL);
	if (!multipart)
		json_decref(parts);
	harness_expect_coded(&r, 200, NULL);
	json_t *m = json_incref(r.json);
	e2e_resp_free(&r);
	json_decref(u);
	return m;
}

/* The database's key of the movie's kind ("NULL" when none), owned. */
static char *linked_key(long long movie, const char *kind)
{
	return harness_sql_value(harness_fmt(
		"SELECT object_key FROM movie_media WHERE movie_id = %lld AND kind = '%s'", movie,
		kind));
}

/* GETs url (absolute) with an optional Range; answers the response. */
static struct e2e_resp get_url(const char *url, const char *range)
{
	struct e2e_resp r;
	const char *h[] = {range, NULL};
	ck_assert(e2e_request("GET", url, range ? h : NULL, NULL, 0, &r));
	return r;
}

/* --- single PUT --- */

START_TEST(single_put_poster_links_and_redirects)
{
	boot(NULL);
	long long movie = new_movie("Poster Film");
	size_t len = 3000;
	char *png = file_bytes("image/png", len);

	/* A cached page of the catalog, without the poster: linking drops it. */
	json_t *before = harness_get_json("/api/v1/movies", NULL);
	ck_assert(json_is_null(json_object_get(json_array_get(json_object_get(before, "items"), 0),
					       "poster_url")));
	json_decref(before);

	json_t *u = create_upload(movie, "poster", "image/png", (long long)len);
	static const char *const keys[] = {"id",	 "kind",       "content_type",
					   "size_bytes", "multipart",  "part_size",
					   "parts",	 "expires_at", NULL};
	harness_assert_keys(u, keys, "MediaUpload");
	ck_assert_str_eq(jstr(u, "kind"), "poster");
	ck_assert(json_is_false(json_object_get(u, "multipart")));
	ck_assert_int_eq(jint(u, "size_bytes"), (long long)len);
	ck_assert_int_eq(json_array_size(json_object_get(u, "parts")), 1);
	json_t *part = json_array_get(json_object_get(u, "parts"), 0);
	ck_assert_int_eq(jint(part, "number"), 1);
	ck_assert_int_eq(jint(part, "size"), (long long)len);
	ck_assert_str_eq(jstr(json_object_get(part, "headers"), "Content-Type"), "image/png");
	/* Straight to S3, signed, content-length and content-type included. */
	const char *url = jstr(part, "url");
	ck_assert_msg(strncmp(url, getenv("S3_ENDPOINT"), strlen(getenv("S3_ENDPOINT"))) == 0,
		      "url: %s", url);
	ck_assert_msg(strstr(url, "X-Amz-Signature=") && strstr(url, "content-length") &&
			      strstr(url, "content-type"),
		      "url: %s", url);

	/* Not there yet: 409, and the upload stays. */
	struct e2e_resp r = complete(movie, "poster", jstr(u, "id"), NULL);
	harness_expect_coded(&r, 409, "upload_incomplete");
	e2e_resp_free(&r);

	json_t *parts = put_parts(u, png, 0);
	json_decref(parts);
	/* parts on a single PUT are refused. */
	r = complete(movie, "poster", jstr(u, "id"),
		     harness_json("[{s:i,s:s}]", "number", 1, "etag", "\"ab12\""));
	harness_expect_invalid(&r, "parts", "single PUT");
	e2e_resp_free(&r);
	r = complete(movie, "poster", jstr(u, "id"), json_array());
	harness_expect_coded(&r, 200, NULL);
	static const char *const mkeys[] = {
		"kind",	       "content_type", "size_bytes", "duration_s",
		"uploaded_at", "uploaded_by",  "url",	     NULL};
	harness_assert_keys(r.json, mkeys, "Media");
	ck_assert_str_eq(jstr(r.json, "content_type"), "image/png");
	ck_assert_int_eq(jint(r.json, "size_bytes"), (long long)len);
	ck_assert(json_is_null(json_object_get(r.json, "duration_s")));
	ck_assert_int_eq(jint(json_object_get(r.json, "uploaded_by"), "id"), users[MOD].id);
	char key[128], path[160];
	media_key(r.json, key, sizeof(key));
	snprintf(path, sizeof(path), "/api/v1/%s", key);
	e2e_resp_free(&r);

	/* Linked once: the upload is gone. */
	r = complete(movie, "poster", jstr(u, "id"), NULL);
	harness_expect_coded(&r, 404, "not_found");
	e2e_resp_free(&r);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM media_uploads"), 0);
	char *pk = harness_sql_value(
		harness_fmt("SELECT poster_key FROM movies WHERE id = %lld", movie));
	ck_assert_str_eq(pk, key);
	free(pk);

	/* The list of the movie's media. */
	json_t *list = harness_get_json(harness_fmt("/api/v1/movies/%lld/media", movie),
					users[MOD].access);
	ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
	ck_assert_str_eq(jstr(json_array_get(json_object_get(list, "items"), 0), "url"), path);
	json_decref(list);

	/* The catalog shows it, in the detail and in the list. */
	json_t *detail = harness_get_json(harness_fmt("/api/v1/movies/%lld", movie), NULL);
	ck_assert_str_eq(jstr(detail, "poster_url"), path);
	ck_assert(json_is_null(json_object_get(detail, "trailer_url")));
	json_decref(detail);
	json_t *page = harness_get_json("/api/v1/movies", NULL);
	json_t *item = json_array_get(json_object_get(page, "items"), 0);
	ck_assert_str_eq(jstr(item, "poster_url"), path);
	json_decref(page);

	/* The public path: a 302 to S3, cacheable, no sign-in; following it
	 * gives the bytes. */
	r = harness_request("GET", path, NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 302);
	char location[2048], cache[64];
	ck_assert(e2e_header(&r, "Location", location, sizeof(location)));
	ck_assert(e2e_header(&r, "Cache-Control", cache, sizeof(cache)));
	ck_assert_str_eq(cache, "public, max-age=3600");
	e2e_resp_free(&r);
	r = get_url(location, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body.len, len);
	ck_assert(memcmp(r.body.data, png, len) == 0);
	e2e_resp_free(&r);
	/* Within the hour, the same redirect. */
	r = harness_request("GET", path, NULL, NULL, NULL);
	char again[2048];
	ck_assert(e2e_header(&r, "Location", again, sizeof(again)));
	ck_assert_str_eq(again, location);
	e2e_resp_free(&r);

	json_decref(u);
	free(png);
}
END_TEST

/* --- multipart --- */

START_TEST(multipart_trailer_with_a_part_missing_then_complete)
{
	static const char *const env[] = {"MEDIA_PART_BYTES=5242880", NULL};
	boot(env);
	long long movie = new_movie("Trailer Film");
	size_t len = 11 * MIB + 123; /* parts of 5, 5 and 1 MiB + 123 */
	char *webm = file_bytes("video/webm", len);

	struct e2e_resp r =
		harness_call("POST", uploads_path(movie, "trailer"), users[MOD].access,
			     harness_json("{s:s,s:I,s:f}", "content_type", "video/webm",
					  "size_bytes", (json_int_t)len, "duration_s", 93.5));
	harness_expect_coded(&r, 201, NULL);
	json_t *u = json_incref(r.json);
	e2e_resp_free(&r);
	ck_assert(json_is_true(json_object_get(u, "multipart")));
	ck_assert_int_eq(jint(u, "part_size"), 5 * MIB);
	json_t *plist = json_object_get(u, "parts");
	ck_assert_int_eq(json_array_size(plist), 3);
	ck_assert_int_eq(jint(json_array_get(plist, 2), "size"), MIB + 123);
	ck_assert_int_eq(json_object_size(json_object_get(json_array_get(plist, 0), "headers")), 0);
	const char *id = jstr(u, "id");

	/* Part 2 never PUT. */
	json_t *parts = put_parts(u, webm, 2);
	ck_assert_int_eq(json_array_size(parts), 2);
	/* Left out of the list: 409 naming it. */
	r = complete(movie, "trailer", id, json_deep_copy(parts));
	harness_expect_coded(&r, 409, "upload_incomplete");
	ck_assert_msg(strstr(jstr(r.json, "detail"), "Part 2"), "%s", r.body.data);
	e2e_resp_free(&r);
	/* Listed with a made-up ETag: S3 refuses the list (InvalidPart), 409
	 * too, and the upload stays. */
	json_t *forged = json_deep_copy(parts);
	json_array_insert_new(forged, 1,
			      harness_json("{s:i,s:s}", "number", 2, "etag",
					   "\"0123456789abcdef0123456789abcdef\""));
	r = complete(movie, "trailer", id, forged);
	harness_expect_coded(&r, 409, "upload_incomplete");
	e2e_resp_free(&r);
	/* Malformed lists: 422. */
	r = complete(movie, "trailer", id,
		     harness_json("[{s:i,s:s},{s:i,s:s}]", "number", 1, "etag", "\"a\"", "number",
				  1, "etag", "\"b\""));
	harness_expect_invalid(&r, "parts", "twice");
	e2e_resp_free(&r);
	r = complete(movie, "trailer", id,
		     harness_json("[{s:i,s:s}]", "number", 4, "etag", "\"a\""));
	harness_expect_invalid(&r, "parts", "out of range");
	e2e_resp_free(&r);
	r = complete(movie, "trailer", id, harness_json("[{s:i}]", "number", 1));
	harness_expect_invalid(&r, "parts", NULL);
	e2e_resp_free(&r);
	r = complete(movie, "trailer", id,
		     harness_json("[{s:i,s:s}]", "number", 1, "etag", "not an etag"));
	harness_expect_invalid(&r, "parts", "hex");
	e2e_resp_free(&r);
	r = complete(movie, "trailer", id, NULL);
	harness_expect_invalid(&r, "parts", "required");
	e2e_resp_free(&r);

	/* The missing part, then the list in any order. */
	json_t *p2 = json_array_get(plist, 1);
	char etag[160];
	ck_assert_int_eq(s3_put_raw(jstr(p2, "url"), json_object_get(p2, "headers"), NULL,
				    webm + 5 * MIB, 5 * MIB, etag, sizeof(etag)),
			 200);
	json_array_append_new(parts, harness_json("{s:i,s:s}", "number", 2, "etag", etag));
	r = complete(movie, "trailer", id, parts);
	harness_expect_coded(&r, 200, NULL);
	ck_assert_int_eq(jint(r.json, "size_bytes"), (long long)len);
	ck_assert(json_real_value(json_object_get(r.json, "duration_s")) == 93.5);
	char key[128], path[160];
	media_key(r.json, key, sizeof(key));
	snprintf(path, sizeof(path), "/api/v1/%s", key);
	e2e_resp_free(&r);
	char *tk = harness_sql_value(
		harness_fmt("SELECT trailer_key FROM movies WHERE id = %lld", movie));
	ck_assert_str_eq(tk, key);
	free(tk);

	/* Public, and S3 answers ranges on it (206, the right bytes). */
	r = harness_request("GET", path, NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 302);
	char location[2048];
	ck_assert(e2e_header(&r, "Location", location, sizeof(location)));
	e2e_resp_free(&r);
	long long first = 5 * MIB - 10, last = 5 * MIB + 9; /* across parts 1 and 2 */
	r = get_url(location, harness_fmt("Range: bytes=%lld-%lld", first, last));
	ck_assert_int_eq(r.status, 206);
	ck_assert_uint_eq(r.body.len, 20);
	ck_assert(memcmp(r.body.data, webm + first, 20) == 0);
	e2e_resp_free(&r);

	json_decref(u);
	free(webm);
}
END_TEST

/* --- refusals --- */

START_TEST(create_refuses_bad_declarations)
{
	boot(NULL);
	long long movie = new_movie("Refusals");
	const char *mod = users[MOD].access;
	harness_check_invalid(
		"POST", uploads_path(movie, "poster"), mod,
		harness_json("{s:s,s:i}", "content_type", "video/mp4", "size_bytes", 100),
		"content_type", "image/jpeg");
	harness_check_invalid(
		"POST", uploads_path(movie, "trailer"), mod,
		harness_json("{s:s,s:i}", "content_type", "image/png", "size_bytes", 100),
		"content_type", "video/mp4");
	harness_check_invalid(
		"POST", uploads_path(movie, "poster"), mod,
		harness_json("{s:s,s:i}", "content_type", "image/gif", "size_bytes", 100),
		"content_type", NULL);
	/* Too large: MEDIA_POSTER_MAX_BYTES is 10 MiB. */
	harness_check_invalid("POST", uploads_path(movie, "poster"), mod,
			      harness_json("{s:s,s:I}", "content_type", "image/png", "size_bytes",
					   (json_int_t)10 * MIB + 1),
			      "size_bytes", "at most 10485760");
	harness_check_invalid("POST", uploads_path(movie, "feature"), mod,
			      harness_json("{s:s,s:I}", "content_type", "video/webm", "size_bytes",
					   (json_int_t)200 * 1024 * MIB),
			      "size_bytes", "at most");
	harness_check_invalid(
		"POST", uploads_path(movie, "poster"), mod,
		harness_json("{s:s,s:i}", "content_type", "image/png", "size_bytes", 0),
		"size_bytes", NULL);
	harness_check_invalid("POST", uploads_path(movie, "poster"), mod,
			      harness_json("{s:s}", "content_type", "image/png"), "size_bytes",
			      "required");
	harness_check_invalid("POST", uploads_path(movie, "trailer"), mod,
			      harness_json("{s:s,s:i,s:i}", "content_type", "video/mp4",
					   "size_bytes", 10, "duration_s", 0),
			      "duration_s", NULL);
	harness_check_invalid("POST", uploads_path(movie, "poster"), mod,
			      harness_json("{s:s,s:i,s:s}", "content_type", "image/png",
					   "size_bytes", 10, "name", "x.png"),
			      "name", NULL);
	/* No such kind, no such movie. */
	harness_check_coded_call(
		"POST", uploads_path(movie, "banner"), mod,
		harness_json("{s:s,s:i}", "content_type", "image/png", "size_bytes", 10), 404,
		"not_found");
	harness_check_coded_call(
		"POST", uploads_path(movie + 1000, "poster"), mod,
		harness_json("{s:s,s:i}", "content_type", "image/png", "size_bytes", 10), 404,
		"not_found");
	ck_assert_int_eq(sql_count("SELECT count(*) FROM media_uploads"), 0);
	/* Not JSON. */
	const char *ct[] = {harness_fmt("Authorization: Bearer %s", mod),
			    "Content-Type: text/plain", NULL};
	struct e2e_resp r = harness_raw("POST", uploads_path(movie, "poster"), ct, "x", 1);
	harness_expect_coded(&r, 415, NULL);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(s3_refuses_what_was_not_signed)
{
	boot(NULL);
	long long movie = new_movie("Signed");
	size_t len = 2000;
	char *png = file_bytes("image/png", len);
	json_t *u = create_upload(movie, "poster", "image/png", (long long)len);
	json_t *part = json_array_get(json_object_get(u, "parts"), 0);
	const char *url = jstr(part, "url");
	json_t *other = harness_json("{s:s}", "Content-Type", "image/jpeg");

	/* Another Content-Type, a larger or a smaller body: refused. */
	long st = s3_put_raw(url, other, NULL, png, len, NULL, 0);
	ck_assert_msg(st == 403, "another type: %ld", st);
	char *bigger = file_bytes("image/png", len + 1);
	st = s3_put_raw(url, json_object_get(part, "headers"), NULL, bigger, len + 1, NULL, 0);
	ck_assert_msg(st == 403, "larger body: %ld", st);
	st = s3_put_raw(url, json_object_get(part, "headers"), NULL, png, len - 1, NULL, 0);
	ck_assert_msg(st == 403, "smaller body: %ld", st);
	/* (A PUT without any signature would be refused by S3, not by the
	 * local S3 server, which lets unsigned requests through.) */
	/* Nothing reached S3. */
	struct e2e_resp r = complete(movie, "poster", jstr(u, "id"), NULL);
	harness_expect_coded(&r, 409, "upload_incomplete");
	e2e_resp_free(&r);
	/* As given: accepted. */
	st = s3_put_raw(url, json_object_get(part, "headers"), NULL, png, len, NULL, 0);
	ck_assert_int_eq(st, 200);
	r = complete(movie, "poster", jstr(u, "id"), NULL);
	harness_expect_coded(&r, 200, NULL);
	e2e_resp_free(&r);

	json_decref(other);
	json_decref(u);
	free(bigger);
	free(png);
}
END_TEST

START_TEST(expired_upload_is_refused)
{
	static const char *const env[] = {"MEDIA_UPLOAD_TTL_S=1", NULL};
	boot(env);
	long long movie = new_movie("Expired");
	size_t len = 1000;
	char *jpeg = file_bytes("image/jpeg", len);
	json_t *u = create_upload(movie, "poster", "image/jpeg", (long long)len);
	json_t *part = json_array_get(json_object_get(u, "parts"), 0);
	harness_sleep_ms(2500);
	long st = s3_put_raw(jstr(part, "url"), json_object_get(part, "headers"), NULL, jpeg, len,
			     NULL, 0);
	ck_assert_msg(st == 403, "PUT after expiry: %ld", st);
	struct e2e_resp r = complete(movie, "poster", jstr(u, "id"), NULL);
	harness_expect_coded(&r, 409, "upload_expired");
	e2e_resp_free(&r);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM movie_media"), 0);
	json_decref(u);
	free(jpeg);
}
END_TEST

START_TEST(mismatched_object_is_refused_and_deleted)
{
	boot(NULL);
	long long movie = new_movie("Mismatch");
	size_t len = 4000;
	/* Declared image/png, sent with that type (as signed), bytes of a JPEG. */
	char *jpeg = file_bytes("image/jpeg", len);
	json_t *u = create_upload(movie, "poster", "image/png", (long long)len);
	json_t *part = json_array_get(json_object_get(u, "parts"), 0);
	ck_assert_int_eq(s3_put_raw(jstr(part, "url"), json_object_get(part, "headers"), NULL, jpeg,
				    len, NULL, 0),
			 200);
	char *key = harness_sql_value("SELECT object_key FROM media_uploads");
	ck_assert(s3_has(key));
	struct e2e_resp r = complete(movie, "poster", jstr(u, "id"), NULL);
	harness_expect_coded(&r, 422, "media_mismatch");
	ck_assert_msg(strstr(jstr(r.json, "detail"), "image/png"), "%s", r.body.data);
	e2e_resp_free(&r);
	/* Gone from S3 at once, the upload dropped, nothing linked. */
	ck_assert(!s3_has(key));
	ck_assert_int_eq(sql_count("SELECT count(*) FROM media_uploads"), 0);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM movie_media"), 0);
	r = complete(movie, "poster", jstr(u, "id"), NULL);
	harness_expect_coded(&r, 404, "not_found");
	e2e_resp_free(&r);
	free(key);
	json_decref(u);

	/* A trailer declared video/mp4 whose bytes are WebM. */
	char *webm = file_bytes("video/webm", len);
	u = create_upload(movie, "trailer", "video/mp4", (long long)len);
	json_decref(put_parts(u, webm, 0));
	r = complete(movie, "trailer", jstr(u, "id"), NULL);
	harness_expect_coded(&r, 422, "media_mismatch");
	e2e_resp_free(&r);
	json_decref(u);
	free(webm);
	free(jpeg);
}
END_TEST

/* --- replacing, unlinking, deleting: the trash --- */

START_TEST(replaced_and_deleted_objects_are_removed_from_s3)
{
	boot(NULL);
	/* The periodic job is not due during the test (harness_world_begin
	 * made it run just now): only the prompt drain can delete. */
	scheduler_start(3600);
	long long movie = new_movie("Replaced");
	size_t len = 1500;
	char *a = file_bytes("image/png", len), *b = file_bytes("image/webp", len);
	char key_a[128], key_b[128];

	json_t *m = upload(movie, "poster", "image/png", a, len);
	media_key(m, key_a, sizeof(key_a));
	json_decref(m);
	m = upload(movie, "poster", "image/webp", b, len);
	media_key(m, key_b, sizeof(key_b));
	ck_assert_str_eq(jstr(m, "content_type"), "image/webp");
	json_decref(m);
	ck_assert_str_ne(key_a, key_b);
	/* The old object goes (the scheduler was woken through Redis); the new
	 * one stays. */
	wait_s3_gone(key_a);
	ck_assert(s3_has(key_b));
	wait_sql_zero("SELECT count(*) FROM media_trash");

	/* A trailer and a feature too; the movie's deletion takes them all. */
	char *v = file_bytes("video/webm", len);
	char key_t[128];
	m = upload(movie, "trailer", "video/webm", v, len);
	media_key(m, key_t, sizeof(key_t));
	json_decref(m);
	m = upload(movie, "feature", "video/webm", v, len);
	ck_assert(json_is_null(json_object_get(m, "url")));
	json_decref(m);
	char *key_f = linked_key(movie, "feature");
	ck_assert(s3_has(key_f));
	harness_check_call("DELETE", harness_fmt("/api/v1/movies/%lld", movie), users[MOD].access,
			   NULL, 204, NULL);
	wait_s3_gone(key_b);
	wait_s3_gone(key_t);
	wait_s3_gone(key_f);
	wait_sql_zero("SELECT count(*) FROM media_trash");

	free(key_f);
	free(v);
	free(a);
	free(b);
}
END_TEST

START_TEST(unlink_and_the_purchased_feature)
{
	boot(NULL);
	long long movie = new_movie("Owned");
	size_t len = 1200;
	char *v = file_bytes("video/mp4", len), *p = file_bytes("image/jpeg", len);
	const char *mod = users[MOD].access;
	json_decref(upload(movie, "feature", "video/mp4", v, len));
	json_decref(upload(movie, "poster", "image/jpeg", p, len));
	char *old_feature = linked_key(movie, "feature");
	json_t *cached = harness_get_json("/api/v1/movies", NULL);
	ck_assert_ptr_nonnull(
		jstr(json_array_get(json_object_get(cached, "items"), 0), "poster_url"));
	json_decref(cached);

	/* Somebody buys it. */
	long long order = harness_sql_int(harness_fmt(
		"INSERT INTO orders (user_id, status) VALUES (%lld, 'paid') RETURNING id",
		users[USR].id));
	harness_sql_ok(harness_fmt(
		"INSERT INTO order_items (order_id, movie_id, price_at_order) VALUES (%lld, %lld, "
		"4.99);"
		"INSERT INTO purchases (user_id, movie_id, order_id) VALUES (%lld, %lld, %lld)",
		order, movie, users[USR].id, movie, order));
	harness_check_coded_call("DELETE", harness_fmt("/api/v1/movies/%lld/media/feature", movie),
				 mod, NULL, 409, "feature_purchased");
	/* Replacing it is fine; the old object is trashed. */
	json_decref(upload(movie, "feature", "video/mp4", v, len));
	char *new_feature = linked_key(movie, "feature");
	ck_assert_str_ne(new_feature, old_feature);
	ck_assert_int_eq(sql_count(harness_fmt("SELECT count(*) FROM media_trash WHERE "
					       "object_key = '%s'",
					       old_feature)),
			 1);
	/* Posters and trailers unlink freely; an empty kind is 404. */
	harness_check_call("DELETE", harness_fmt("/api/v1/movies/%lld/media/poster", movie), mod,
			   NULL, 204, NULL);
	char *pk = harness_sql_value(
		harness_fmt("SELECT poster_key FROM movies WHERE id = %lld", movie));
	ck_assert_str_eq(pk, "NULL");
	free(pk);
	json_t *page = harness_get_json("/api/v1/movies", NULL);
	ck_assert(json_is_null(
		json_object_get(json_array_get(json_object_get(page, "items"), 0), "poster_url")));
	json_decref(page);
	harness_check_coded_call("DELETE", harness_fmt("/api/v1/movies/%lld/media/poster", movie),
				 mod, NULL, 404, "not_found");
	harness_check_coded_call("DELETE", harness_fmt("/api/v1/movies/%lld/media/trailer", movie),
				 mod, NULL, 404, "not_found");
	harness_check_coded_call("DELETE", harness_fmt("/api/v1/movies/%lld/media/banner", movie),
				 mod, NULL, 404, "not_found");
	json_t *list = harness_get_json(harness_fmt("/api/v1/movies/%lld/media", movie), mod);
	ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
	json_decref(list);
	harness_check_coded_call("GET", "/api/v1/movies/999999/media", mod, NULL, 404, "not_found");

	free(new_feature);
	free(old_feature);
	free(v);
	free(p);
}
END_TEST

/* One API call on its own thread (only e2e_request: the harness's helpers
 * are not thread-safe), to hold it at a lock the test takes. */
struct api_call {
	const char *method;
	char url[256];
	char auth[2200];
	long status;
	char code[64];
	atomic_bool done;
};

static void *api_call_run(void *arg)
{
	struct api_call *u = arg;
	const char *h[] = {u->auth, NULL};
	struct e2e_resp r;
	if (e2e_request(u->method, u->url, h, NULL, 0, &r)) {
		u->status = r.status;
		snprintf(u->code, sizeof(u->code), "%s", r.status >= 400 ? e2e_code(&r) : "");
		e2e_resp_free(&r);
	}
	atomic_store(&u->done, true);
	return NULL;
}

/* Starts method path (no body) as the moderator on a thread, and returns
 * once it waits on a lock of a statement whose text holds like (or has
 * answered already). */
static struct api_call *api_call_start(pthread_t *t, const char *method, const char *path,
				       const char *like)
{
	struct api_call *u = calloc(1, sizeof(*u));
	ck_assert_ptr_nonnull(u);
	u->method = method;
	snprintf(u->url, sizeof(u->url), "%s%s", w.srv.base_url, path);
	snprintf(u->auth, sizeof(u->auth), "Authorization: Bearer %s", users[MOD].access);
	char *sql = strdup(harness_fmt("SELECT count(*) FROM pg_stat_activity WHERE datname = "
				       "current_database() AND wait_event_type = 'Lock' AND "
				       "query LIKE '%%%s%%'",
				       like));
	ck_assert_ptr_nonnull(sql);
	ck_assert_int_eq(pthread_create(t, NULL, api_call_run, u), 0);
	for (long long end = harness_now_ms() + 20000;
	     !atomic_load(&u->done) && harness_now_ms() < end && harness_sql_int(sql) == 0;)
		harness_sleep_ms(20);
	free(sql);
	return u;
}

static void pg_ok(PGconn *pg, const char *sql)
{
	PGresult *res = PQexec(pg, sql);
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK ||
			      PQresultStatus(res) == PGRES_TUPLES_OK,
		      "%s: %s", sql, PQerrorMessage(pg));
	PQclear(res);
}

/* An order being placed while the feature is unlinked: the unlink waits for
 * it and then refuses, rather than leaving a bought movie with nothing to
 * watch (the check and the DELETE were not atomic against a concurrent
 * order). */
START_TEST(unlink_waits_for_an_order_being_placed)
{
	boot(NULL);
	long long movie = new_movie("Being bought");
	size_t len = 1200;
	char *v = file_bytes("video/webm", len);
	json_decref(upload(movie, "feature", "video/webm", v, len));

	/* A checkout inserts its order in a transaction of its own. */
	PGconn *buyer = PQconnectdb(w.ci);
	ck_assert_int_eq(PQstatus(buyer), CONNECTION_OK);
	pg_ok(buyer, "BEGIN");
	pg_ok(buyer, harness_fmt("WITH o AS (INSERT INTO orders (user_id) VALUES (%lld) "
				 "RETURNING id) INSERT INTO order_items (order_id, movie_id, "
				 "price_at_order) SELECT id, %lld, 4.99 FROM o",
				 users[USR].id, movie));

	pthread_t t;
	struct api_call *u = api_call_start(&t, "DELETE",
					    harness_fmt("/api/v1/movies/%lld/media/feature", movie),
					    "FROM movies");
	pg_ok(buyer, "COMMIT");
	PQfinish(buyer);
	pthread_join(t, NULL);
	ck_assert_msg(u->status == 409 && strcmp(u->code, "feature_purchased") == 0,
		      "DELETE answered %ld %s", u->status, u->code);
	char *key = linked_key(movie, "feature");
	ck_assert_str_ne(key, "NULL");
	free(key);
	free(u);
	free(v);
}
END_TEST

/* An upload cancelled while its completion is at S3: the trash row that
 * cancel queued may be drained before CompleteMultipartUpload has made the
 * object (S3 may finish a completion that an abort arrives during). The
 * completion, finding its upload gone, queues the object it saw again. */
START_TEST(completion_of_a_cancelled_upload_leaves_no_object)
{
	boot(NULL);
	long long movie = new_movie("Cancelled late");
	size_t len = 1500;
	char *p = file_bytes("image/png", len);
	json_t *up = create_upload(movie, "poster", "image/png", (long long)len);
	json_decref(put_parts(up, p, 0));
	const char *id = jstr(up, "id");
	char *key = harness_sql_value(
		harness_fmt("SELECT object_key FROM media_uploads WHERE id = '%s'", id));

	/* The completion checks the object, then waits to lock the upload... */
	PGconn *other = PQconnectdb(w.ci);
	ck_assert_int_eq(PQstatus(other), CONNECTION_OK);
	pg_ok(other, "BEGIN");
	pg_ok(other, harness_fmt("SELECT 1 FROM media_uploads WHERE id = '%s' FOR UPDATE", id));
	pthread_t t;
	struct api_call *u = api_call_start(&t, "POST", complete_path(movie, "poster", id),
					    "FROM media_uploads");
	/* ...which a cancel deletes meanwhile, its trash row drained at once
	 * (by a scheduler that found no object yet). */
	pg_ok(other, harness_fmt("DELETE FROM media_uploads WHERE id = '%s'", id));
	pg_ok(other, harness_fmt("DELETE FROM media_trash WHERE object_key = '%s'", key));
	pg_ok(other, "COMMIT");
	PQfinish(other);
	pthread_join(t, NULL);
	ck_assert_msg(u->status == 404, "complete answered %ld %s", u->status, u->code);
	ck_assert(s3_has(key));
	ck_assert_int_eq(sql_count(harness_fmt("SELECT count(*) FROM media_trash WHERE "
					       "object_key = '%s'",
					       key)),
			 1);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM movie_media"), 0);
	free(u);
	free(key);
	json_decref(up);
	free(p);
}
END_TEST

START_TEST(cancelled_and_abandoned_uploads_are_cleaned_up)
{
	static const char *const env[] = {"MEDIA_PART_BYTES=5242880", NULL};
	boot(env);
	long long movie = new_movie("Abandoned");
	size_t len = 2000;
	char *png = file_bytes("image/png", len);
	const char *mod = users[MOD].access;

	/* Cancelled after its PUT: trashed. */
	json_t *u = create_upload(movie, "poster", "image/png", (long long)len);
	json_decref(put_parts(u, png, 0));
	char *cancelled = harness_sql_value("SELECT object_key FROM media_uploads");
	const char *cancel =
		harness_fmt("/api/v1/movies/%lld/media/poster/uploads/%s", movie, jstr(u, "id"));
	harness_check_call("DELETE", cancel, mod, NULL, 204, NULL);
	harness_check_coded_call("DELETE", cancel, mod, NULL, 404, "not_found");
	struct e2e_resp r = complete(movie, "poster", jstr(u, "id"), NULL);
	harness_expect_coded(&r, 404, "not_found");
	e2e_resp_free(&r);
	harness_check_coded_call(
		"DELETE", harness_fmt("/api/v1/movies/%lld/media/poster/uploads/not-a-uuid", movie),
		mod, NULL, 404, "not_found");
	ck_assert_int_eq(sql_count(harness_fmt("SELECT count(*) FROM media_trash WHERE "
					       "object_key = '%s'",
					       cancelled)),
			 1);
	json_decref(u);

	/* Abandoned: a single PUT that was sent, and a multipart upload with
	 * one part sent, their URLs expired more than the grace ago. */
	u = create_upload(movie, "poster", "image/png", (long long)len);
	json_decref(put_parts(u, png, 0));
	json_decref(u);
	size_t big = 6 * MIB;
	char *webm = file_bytes("video/webm", big);
	u = create_upload(movie, "trailer", "video/webm", (long long)big);
	json_t *part = json_array_get(json_object_get(u, "parts"), 0);
	ck_assert_int_eq(s3_put_raw(jstr(part, "url"), json_object_get(part, "headers"), NULL, webm,
				    5 * MIB, NULL, 0),
			 200);
	json_decref(u);
	char *single = harness_sql_value(
		"SELECT object_key FROM media_uploads WHERE s3_upload_id IS NULL");
	ck_assert(s3_has(single));
	/* One still valid stays. */
	u = create_upload(movie, "poster", "image/png", (long long)len);
	harness_sql_ok(harness_fmt("UPDATE media_uploads SET expires_at = now() - interval "
				   "'2 hours' WHERE id <> '%s'",
				   jstr(u, "id")));
	harness_sql_ok("UPDATE scheduler_runs SET last_run_at = '-infinity' "
		       "WHERE job = 'cleanup_media'");
	scheduler_start(1);
	wait_sql_zero("SELECT count(*) FROM media_trash");
	ck_assert_int_eq(sql_count("SELECT count(*) FROM media_uploads"), 1);
	ck_assert(!s3_has(single));
	ck_assert(!s3_has(cancelled));
	/* The valid one still completes... after its PUT. */
	json_decref(put_parts(u, png, 0));
	r = complete(movie, "poster", jstr(u, "id"), NULL);
	harness_expect_coded(&r, 200, NULL);
	e2e_resp_free(&r);

	json_decref(u);
	free(single);
	free(cancelled);
	free(webm);
	free(png);
}
END_TEST

/* --- access --- */

/* A full batch of old rows that keep failing does not hold the rest of the
 * trash off: the drain takes the least tried rows first (it took the
 * oldest, and stopped at the batch's failures, every sweep). */
START_TEST(failing_trash_rows_do_not_hold_the_others_off)
{
	boot(NULL);
	long long movie = new_movie("Stuck trash");
	size_t len = 1000;
	char *png = file_bytes("image/png", len);
	json_t *u = create_upload(movie, "poster", "image/png", (long long)len);
	json_decref(put_parts(u, png, 0));
	char *key = harness_sql_value("SELECT object_key FROM media_uploads");
	harness_check_call(
		"DELETE",
		harness_fmt("/api/v1/movies/%lld/media/poster/uploads/%s", movie, jstr(u, "id")),
		users[MOD].access, NULL, 204, NULL);
	/* Its prompt deletion failed once; older rows fail every time (a key
	 * S3 calls are refused for, without I/O). */
	harness_sql_ok(
		harness_fmt("UPDATE media_trash SET attempts = 1 WHERE object_key = '%s'", key));
	harness_sql_ok("INSERT INTO media_trash (object_key, queued_at, attempts) "
		       "SELECT 'media/../stuck-' || i, now() - interval '1 day', 1 "
		       "FROM generate_series(1, 150) i");
	harness_sql_ok("UPDATE scheduler_runs SET last_run_at = '-infinity' "
		       "WHERE job = 'cleanup_media'");
	scheduler_start(1);
	wait_s3_gone(key);
	wait_sql_zero(harness_fmt("SELECT count(*) FROM media_trash WHERE object_key = '%s'", key));
	ck_assert_int_eq(sql_count("SELECT count(*) FROM media_trash"), 150);

	free(key);
	json_decref(u);
	free(png);
}
END_TEST

START_TEST(moderators_only_and_the_public_route)
{
	boot(NULL);
	long long movie = new_movie("Access");
	const char *user = users[USR].access;
	const char *id = "8d6d3ef4-93a9-42d3-8aaa-057b0f598f89";
	json_t *body = harness_json("{s:s,s:i}", "content_type", "image/png", "size_bytes", 10);
	static const char *const methods[] = {"GET", "DELETE", "POST", "DELETE", "POST"};
	char paths[5][160];
	snprintf(paths[0], sizeof(paths[0]), "/api/v1/movies/%lld/media", movie);
	snprintf(paths[1], sizeof(paths[1]), "/api/v1/movies/%lld/media/poster", movie);
	snprintf(paths[2], sizeof(paths[2]), "%s", uploads_path(movie, "poster"));
	snprintf(paths[3], sizeof(paths[3]), "/api/v1/movies/%lld/media/poster/uploads/%s", movie,
		 id);
	snprintf(paths[4], sizeof(paths[4]), "%s", complete_path(movie, "poster", id));
	for (size_t i = 0; i < 5; i++) {
		bool post = strcmp(methods[i], "POST") == 0;
		harness_check_coded_call(methods[i], paths[i], NULL,
					 post ? json_incref(body) : NULL, 401, NULL);
		harness_check_coded_call(methods[i], paths[i], user,
					 post ? json_incref(body) : NULL, 403, NULL);
	}
	json_decref(body);
	ck_assert_int_eq(sql_count("SELECT count(*) FROM media_uploads"), 0);
	/* A moderator's unknown upload: 404. */
	struct e2e_resp r = complete(movie, "poster", id, NULL);
	harness_expect_coded(&r, 404, "not_found");
	e2e_resp_free(&r);

	/* The public route: posters and trailers only, well-formed tokens. */
	const char *tok = "0123456789abcdef0123456789abcdef";
	r = harness_request("GET", harness_fmt("/api/v1/media/%lld/trailer/%s", movie, tok), NULL,
			    NULL, NULL);
	ck_assert_int_eq(r.status, 302);
	e2e_resp_free(&r);
	char bad[6][160];
	snprintf(bad[0], sizeof(bad[0]), "/api/v1/media/%lld/feature/%s", movie, tok);
	snprintf(bad[1], sizeof(bad[1]), "/api/v1/media/%lld/banner/%s", movie, tok);
	snprintf(bad[2], sizeof(bad[2]),
		 "/api/v1/media/%lld/poster/0123456789ABCDEF0123456789abcdef", movie);
	snprintf(bad[3], sizeof(bad[3]), "/api/v1/media/%lld/poster/0123", movie);
	snprintf(bad[4], sizeof(bad[4]), "/api/v1/media/0/poster/%s", tok);
	snprintf(bad[5], sizeof(bad[5]), "/api/v1/media/x/poster/%s", tok);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = harness_request("GET", bad[i], NULL, NULL, NULL);
		harness_expect_coded(&r, 404, "not_found");
		e2e_resp_free(&r);
	}
}
END_TEST

/* --- cinema-api seed --media --- */

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int seed_media(const char *dir, struct buf *out, struct buf *err)
{
	char *argv[] = {(char *)"cinema-api", (char *)"seed", (char *)"--media", (char *)dir, NULL};
	struct harness_env e = {0};
	harness_env_set(&e, "DATABASE_URL=%s", w.ci);
	harness_env_set(&e, "REDIS_URL=%s", w.redis_url);
	buf_reset(out);
	buf_reset(err);
	return e2e_run_capture(e2e_bin("CINEMA_API_BIN"), argv, e.p, NULL, 60, out, err);
}

START_TEST(seed_media_links_files_and_refuses_bad_manifests)
{
	long long m1 = new_movie("Seed One"), m2 = new_movie("Seed Two");
	char dir[64], tsv[128];
	struct buf out = BUF_INIT, err = BUF_INIT;
	snprintf(dir, sizeof(dir), "/tmp/cinema-media-seed-%d", (int)getpid());
	harness_remove_dir(dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(mkdir(harness_fmt("%s/sub", dir), 0700), 0);
	char *png = file_bytes("image/png", 5000), *webm = file_bytes("video/webm", 7000);
	write_file(harness_fmt("%s/p.png", dir), png, 5000);
	write_file(harness_fmt("%s/sub/t.webm", dir), webm, 7000);
	snprintf(tsv, sizeof(tsv), "%s/media.tsv", dir);

	/* Bad manifests: nothing is written. */
	static const char *const bad[][2] = {
		{"1\tposter\tp.png\n", "line 1"},
		{"# x\n1\tposter\tp.png\t-\n3\tposter\tp.png\t-\n", "INDEX 3"},
		{"1\tbanner\tp.png\t-\n", "KIND"},
		{"1\ttrailer\tp.png\t-\n", "video/mp4"},
		{"1\tposter\tmissing.png\t-\n", "missing.png"},
		{"0\tposter\tp.png\t-\n", "INDEX"},
		{"1\tposter\t../p.png\t-\n", "FILE"},
		{"1\ttrailer\tsub/t.webm\tsoon\n", "DURATION_S"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(tsv, bad[i][0], strlen(bad[i][0]));
		int rc = seed_media(dir, &out, &err);
		ck_assert_msg(rc != 0, "manifest %zu accepted", i);
		ck_assert_msg(err.data && strstr(err.data, bad[i][1]), "manifest %zu: %s", i,
			      err.data ? err.data : "");
	}
	ck_assert_int_eq(sql_count("SELECT count(*) FROM movie_media"), 0);

	const char *good = "# the demo\n\n1\tposter\tp.png\t-\n2\ttrailer\tsub/t.webm\t12.5\n";
	write_file(tsv, good, strlen(good));
	int rc = seed_media(dir, &out, &err);
	ck_assert_msg(rc == 0, "seed: %d: %s", rc, err.data ? err.data : "");
	ck_assert_msg(out.data && strstr(out.data, "p.png") && strstr(out.data, "t.webm"), "%s",
		      out.data ? out.data : "");
	char *pk = linked_key(m1, "poster"), *tk = linked_key(m2, "trailer");
	ck_assert(s3_has(pk));
	ck_assert(s3_has(tk));
	ck_assert_int_eq(sql_count(harness_fmt("SELECT count(*) FROM movie_media WHERE movie_id = "
					       "%lld AND kind = 'trailer' AND duration_s = 12.5 "
					       "AND content_type = 'video/webm' AND size_bytes = "
					       "7000",
					       m2)),
			 1);
	/* Again: new objects replace the old ones, which are trashed. */
	rc = seed_media(dir, &out, &err);
	ck_assert_int_eq(rc, 0);
	char *pk2 = linked_key(m1, "poster");
	ck_assert_str_ne(pk, pk2);
	ck_assert_int_eq(sql_count(harness_fmt(
				 "SELECT count(*) FROM media_trash WHERE object_key = '%s'", pk)),
			 1);

	harness_remove_dir(dir);
	free(pk);
	free(pk2);
	free(tk);
	free(png);
	free(webm);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

int main(void)
{
	if (!harness_main_ready("media_test_media_upload"))
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	Suite *s = suite_create("media_upload");

	TCase *tc = tcase_create("upload");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, single_put_poster_links_and_redirects);
	tcase_add_test(tc, multipart_trailer_with_a_part_missing_then_complete);
	tcase_add_test(tc, create_refuses_bad_declarations);
	tcase_add_test(tc, s3_refuses_what_was_not_signed);
	tcase_add_test(tc, expired_upload_is_refused);
	tcase_add_test(tc, mismatched_object_is_refused_and_deleted);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifecycle");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, replaced_and_deleted_objects_are_removed_from_s3);
	tcase_add_test(tc, unlink_and_the_purchased_feature);
	tcase_add_test(tc, unlink_waits_for_an_order_being_placed);
	tcase_add_test(tc, completion_of_a_cancelled_upload_leaves_no_object);
	tcase_add_test(tc, cancelled_and_abandoned_uploads_are_cleaned_up);
	tcase_add_test(tc, failing_trash_rows_do_not_hold_the_others_off);
	tcase_add_test(tc, moderators_only_and_the_public_route);
	tcase_add_test(tc, seed_media_links_files_and_refuses_bad_manifests);
	suite_add_tcase(s, tc);

	return harness_run(s);
}
