#include "storage/s3.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/buf.h"
#include "cinema/mem.h"
#include "storage/sigv4.h"

#define S3_MAX_KEY	      1024
#define S3_MAX_REPLY	      (64 * 1024) /* error bodies are small; the rest is dropped */
#define S3_CONNECT_TIMEOUT_MS 5000

struct s3_client {
	char *endpoint; /* as configured, for error messages */
	char *scheme;	/* "http" or "https" */
	char *host;	/* the Host header: [bucket.]host, plus :port unless the default */
	char *public_scheme, *public_host; /* the same for presigned URLs */
	char *bucket_path;		   /* "/bucket" (path style) or "" (virtual-hosted style) */
	char *access_key;
	char *secret_key;
	char *region;
	char *sigv4; /* CURLOPT_AWS_SIGV4: "aws:amz:REGION:s3" */
	int timeout_ms;
};

/* --- validation --- */

static bool is_bucket_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 3 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '-'))
			return false;
	return true;
}

static bool is_region_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static bool is_key(const char *key)
{
	size_t n = key ? strlen(key) : 0;
	if (n == 0 || n > S3_MAX_KEY || key[0] == '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
			return false;
	/* Empty, "." and ".." segments: HTTP clients rewrite those paths. */
	for (const char *seg = key;;) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);
		if (len == 0 || (len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		if (!end)
			return true;
		seg = end + 1;
	}
}

/* --- the client --- */

/* Sets *scheme_out and *host_out (owned) from endpoint
 * (http(s)://host[:port][/]). */
static bool parse_endpoint(const char *endpoint, const char *bucket, bool virtual_host,
			   char **scheme_out, char **host_out)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *extra = NULL;
	bool ok = false;

	if (!u)
		abort(); /* out of memory */
	if (curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto out;
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		goto out;
	if (strcmp(path, "/") != 0 && path[0] != '\0')
		goto out;
	if (curl_url_get(u, CURLUPART_QUERY, &extra, 0) != CURLUE_NO_QUERY ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) != CURLUE_NO_FRAGMENT ||
	    curl_url_get(u, CURLUPART_USER, &extra, 0) != CURLUE_NO_USER)
		goto out;

	struct buf h = BUF_INIT;
	if (virtual_host)
		buf_printf(&h, "%s.", bucket);
	buf_append_str(&h, host);
	for (size_t i = 0; i < h.len; i++)
		h.data[i] = (char)tolower((unsigned char)h.data[i]);
	/* As curl and browsers send Host: the port only when not the default. */
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK &&
	    !(strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) &&
	    !(strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0))
		buf_printf(&h, ":%s", port);
	*host_out = buf_steal(&h, NULL);
	*scheme_out = xstrdup(scheme);
	ok = true;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(extra);
	curl_url_cleanup(u);
	return ok;
}

struct s3_client *s3_client_new(const struct s3_options *opt)
{
	if (!opt->endpoint || !is_bucket_name(opt->bucket) || !opt->access_key ||
	    !*opt->access_key || !opt->secret_key || !*opt->secret_key ||
	    !is_region_name(opt->region) || opt->timeout_ms <= 0)
		return NULL;

	struct s3_client *c = xcalloc(1, sizeof(*c));
	const char *pub = opt->public_endpoint && *opt->public_endpoint ? opt->public_endpoint
									: opt->endpoint;
	if (!parse_endpoint(opt->endpoint, opt->bucket, opt->virtual_host, &c->scheme, &c->host) ||
	    !parse_endpoint(pub, opt->bucket, opt->virtual_host, &c->public_scheme,
			    &c->public_host)) {
		s3_client_free(c);
		return NULL;
	}
	struct buf b = BUF_INIT;
	if (!opt->virtual_host)
		buf_printf(&b, "/%s", opt->bucket);
	c->bucket_path = buf_steal(&b, NULL);
	buf_printf(&b, "aws:amz:%s:s3", opt->region);
	c->sigv4 = buf_steal(&b, NULL);
	c->endpoint = xstrdup(opt->endpoint);
	c->access_key = xstrdup(opt->access_key);
	c->secret_key = xstrdup(opt->secret_key);
	c->region = xstrdup(opt->region);
	c->timeout_ms = opt->timeout_ms;
	return c;
}

void s3_client_free(struct s3_client *c)
{
	if (!c)
		return;
	free(c->endpoint);
	free(c->scheme);
	free(c->host);
	free(c->public_scheme);
	free(c->public_host);
	free(c->bucket_path);
	free(c->access_key);
	free(c->secret_key);
	free(c->region);
	free(c->sigv4);
	free(c);
}

/* --- one signed request --- */

struct upload {
	const char *data;
	size_t len, off;
};

static size_t read_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct upload *u = ud;
	size_t n = size * nmemb;
	if (n > u->len - u->off)
		n = u->len - u->off;
	if (n)
		memcpy(ptr, u->data + u->off, n);
	u->off += n;
	return n;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb;
	if (b->len < S3_MAX_REPLY)
		buf_append(b, ptr, n < S3_MAX_REPLY - b->len ? n : S3_MAX_REPLY - b->len);
	return n;
}

static struct curl_slist *slist_add(struct curl_slist *l, const char *line)
{
	struct curl_slist *n = curl_slist_append(l, line);
	if (!n)
		abort(); /* out of memory */
	return n;
}

/* Sends method path (path already URI-encoded) with body (PUT) signed by
 * curl's SigV4, and stores the HTTP status and up to S3_MAX_REPLY bytes of the
 * answer. ERR_OK whenever an HTTP answer came, whatever its status;
 * ERR_INTERNAL with the reason in err when none did. */
static enum err s3_send(struct s3_client *c, const char *method, const char *path, const void *body,
			size_t len, const char *content_type, long *status, struct buf *reply,
			char *err, size_t errlen)
{
	struct upload up = {body ? body : "", len, 0};
	struct curl_slist *headers = NULL;
	struct buf url = BUF_INIT, line = BUF_INIT;
	char hash[SIGV4_HEX_LEN + 1], curlerr[CURL_ERROR_SIZE] = "";
	enum err rc = ERR_INTERNAL;
	CURL *h = curl_easy_init();

	if (!h) {
		snprintf(err, errlen, "curl_easy_init failed");
		goto out;
	}
	buf_printf(&url, "%s://%s%s", c->scheme, c->host, path);
	/* curl 7.88 signs this header when present but does not add it, and S3
	 * requires it with SigV4. It also makes the store check the body. */
	sigv4_sha256_hex(up.data, len, hash);
	buf_printf(&line, "x-amz-content-sha256: %s", hash);
	headers = slist_add(headers, line.data);
	if (content_type) {
		buf_reset(&line);
		buf_printf(&line, "Content-Type: %s", content_type);
		headers = slist_add(headers, line.data);
	}
	/* Every header in CURLOPT_HTTPHEADER is signed, so none may be one
	 * that curl then leaves out (such as "Expect:" to disable it). */
	curl_easy_setopt(h, CURLOPT_URL, url.data);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, c->access_key);
	curl_easy_setopt(h, CURLOPT_PASSWORD, c->secret_key);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(c->timeout_ms < S3_CONNECT_TIMEOUT_MS ? c->timeout_ms
								      : S3_CONNECT_TIMEOUT_MS));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curlerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, reply);
	if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, &up);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}

	CURLcode cc = curl_easy_perform(h);
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(err, errlen, "cannot reach S3 at %s: no answer within %d ms", c->endpoint,
			 c->timeout_ms);
		goto out;
	}
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "cannot reach S3 at %s: %s", c->endpoint,
			 curlerr[0] ? curlerr : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	rc = ERR_OK;
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	buf_free(&url);
	buf_free(&line);
	return rc;
}

/* Copies S3's error code (<Code>...</Code> of the XML answer) into out, or
 * a fallback for answers without a body (HEAD). */
static void s3_error_code(const struct buf *reply, long status, char *out, size_t outlen)
{
	const char *p = reply->data ? strstr(reply->data, "<Code>") : NULL;
	size_t n = 0;
	if (p) {
		for (p += strlen("<Code>");
		     n + 1 < outlen && (isalnum((unsigned char)p[n]) || p[n] == '.' || p[n] == '_');
		     n++)
			out[n] = p[n];
		out[n] = '\0';
		if (n)
			return;
	}
	snprintf(out, outlen, "%s",
		 status == 403	 ? "AccessDenied"
		 : status == 404 ? "NotFound"
		 : status == 409 ? "Conflict"
				 : "no S3 error code");
}

static void describe_s3_error(const char *what, long status, const struct buf *reply, char *err,
			      size_t errlen)
{
	char code[64];
	s3_error_code(reply, status, code, sizeof(code));
	snprintf(err, errlen, "S3 %s: HTTP %ld %s", what, status, code);
}

static void object_path(const struct s3_client *c, const char *key, struct buf *out)
{
	buf_printf(out, "%s/", c->bucket_path);
	sigv4_uri_encode(out, key, true);
}

static bool is_2xx(long status)
{
	return status >= 200 && status <= 299;
}

/* --- the API --- */

enum err s3_put_object(struct s3_client *c, const char *key, const void *data, size_t len,
		       const char *content_type, char *err, size_t errlen)
{
	struct buf path = BUF_INIT, reply = BUF_INIT, what = BUF_INIT;
	long status = 0;
	enum err rc = ERR_INTERNAL;

	if (!is_key(key)) {
		snprintf(err, errlen, "S3 object key is empty, too long or malformed");
		goto out;
	}
	if (!content_type || !*content_type || strpbrk(content_type, "\r\n")) {
		snprintf(err, errlen, "S3 content type is missing or holds a line break");
		goto out;
	}
	object_path(c, key, &path);
	buf_printf(&what, "PUT %s", key);
	rc = s3_send(c, "PUT", path.data, data, len, content_type, &status, &reply, err, errlen);
	if (rc == ERR_OK && !is_2xx(status)) {
		describe_s3_error(what.data, status, &reply, err, errlen);
		rc = ERR_INTERNAL;
	}
out:
	buf_free(&path);
	buf_free(&reply);
	buf_free(&what);
	return rc;
}

enum err s3_delete_object(struct s3_client *c, const char *key, char *err, size_t errlen)
{
	struct buf path = BUF_INIT, reply = BUF_INIT, what = BUF_INIT;
	long status = 0;
	enum err rc = ERR_INTERNAL;

	if (!is_key(key)) {
		snprintf(err, errlen, "S3 object key is empty, too long or malformed");
		goto out;
	}
	object_path(c, key, &path);
	buf_printf(&what, "DELETE %s", key);
	rc = s3_send(c, "DELETE", path.data, NULL, 0, NULL, &status, &reply, err, errlen);
	if (rc == ERR_OK && !is_2xx(status) && status != 404) {
		describe_s3_error(what.data, status, &reply, err, errlen);
		rc = ERR_INTERNAL;
	}
out:
	buf_free(&path);
	buf_free(&reply);
	buf_free(&what);
	return rc;
}

enum err s3_ensure_bucket(struct s3_client *c, char *err, size_t errlen)
{
	struct buf path = BUF_INIT, reply = BUF_INIT, body = BUF_INIT;
	long status = 0;
	char code[64];
	enum err rc;

	buf_append_str(&path, *c->bucket_path ? c->bucket_path : "/"); /* "/" when virtual-hosted */
	rc = s3_send(c, "HEAD", path.data, NULL, 0, NULL, &status, &reply, err, errlen);
	if (rc != ERR_OK || is_2xx(status))
		goto out;
	if (status != 404) {
		describe_s3_error("HEAD bucket", status, &reply, err, errlen);
		rc = ERR_INTERNAL;
		goto out;
	}
	/* us-east-1 is the default location; any other must be named. */
	if (strcmp(c->region, "us-east-1") != 0)
		buf_printf(
			&body,
			"<CreateBucketConfiguration "
			"xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
			"<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
			c->region);
	buf_reset(&reply);
	rc = s3_send(c, "PUT", path.data, body.data, body.len, body.len ? "application/xml" : NULL,
		     &status, &reply, err, errlen);
	if (rc != ERR_OK || is_2xx(status))
		goto out;
	s3_error_code(&reply, status, code, sizeof(code));
	if (status == 409 && strcmp(code, "BucketAlreadyOwnedByYou") == 0)
		goto out; /* created meanwhile by another of our processes */
	describe_s3_error("PUT bucket", status, &reply, err, errlen);
	rc = ERR_INTERNAL;
out:
	buf_free(&path);
	buf_free(&reply);
	buf_free(&body);
	return rc;
}

char *s3_presign_get(struct s3_client *c, const char *key, int expires_s, time_t now)
{
	if (!is_key(key))
		return NULL;
	struct buf path = BUF_INIT;
	object_path(c, key, &path);
	struct sigv4_presign p = {
		.method = "GET",
		.scheme = c->public_scheme,
		.host = c->public_host,
		.path = path.data,
		.access_key = c->access_key,
		.secret_key = c->secret_key,
		.region = c->region,
		.service = "s3",
		.now = now,
		.expires_s = expires_s,
	};
	char *url = sigv4_presign_url(&p);
	buf_free(&path);
	return url;
}
