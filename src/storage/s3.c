#include "storage/s3.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/buf.h"
#include "cinema/config.h"
#include "cinema/mem.h"
#include "storage/sigv4.h"

#define S3_MAX_KEY	      1024
#define S3_MAX_REPLY	      (64 * 1024) /* error bodies are small; the rest is dropped */
#define S3_CONNECT_TIMEOUT_MS 5000
#define S3_MAX_UPLOAD_ID      1024
#define S3_MAX_PARTS	      10000
#define S3_MAX_RANGE	      (16LL * 1024 * 1024) /* bytes s3_get_range reads at most */
/* S3 may take minutes to assemble a large object (it keeps the connection
 * open with blanks meanwhile): CompleteMultipartUpload gets this long at
 * least, whatever the client's timeout. */
#define S3_COMPLETE_TIMEOUT_MS (5 * 60 * 1000)

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

enum err s3_client_from_config(const struct config *cfg, struct s3_client **out)
{
	*out = NULL;
	if (!*cfg->s3_access_key || !*cfg->s3_secret_key)
		return ERR_OK;
	struct s3_options so = {
		.endpoint = cfg->s3_endpoint,
		.bucket = cfg->s3_bucket,
		.access_key = cfg->s3_access_key,
		.secret_key = cfg->s3_secret_key,
		.region = cfg->s3_region,
		.timeout_ms = cfg->s3_timeout_ms,
		.public_endpoint = cfg->s3_public_endpoint,
	};
	*out = s3_client_new(&so);
	return *out ? ERR_OK : ERR_VALIDATION;
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

/* What s3_send sends. Strings borrowed; NULL when absent. */
struct s3_request {
	const char *method;	  /* GET, HEAD, PUT, POST, DELETE */
	const char *path;	  /* URI-encoded, absolute */
	const char *query;	  /* canonical (encoded, sorted, "name=value"), no '?' */
	const void *body;	  /* PUT and POST */
	size_t len;		  /* of body */
	const char *content_type; /* Content-Type header */
	const char *range;	  /* Range header value */
	size_t max_reply;	  /* bytes of the answer kept; 0: S3_MAX_REPLY */
	int min_timeout_ms;	  /* the whole request may take this long at least */
};

/* What came back. */
struct s3_response {
	long status;
	struct buf body;  /* up to max_reply bytes */
	long long length; /* Content-Length, -1 when absent */
	char content_type[128];
	char etag[130];
};

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

struct sink {
	struct buf *b;
	size_t max;
	bool full; /* stopped on purpose: max bytes kept */
};

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;
	if (s->b->len + n <= s->max) {
		buf_append(s->b, ptr, n);
		return n;
	}
	/* Keep what fits, then stop the transfer rather than read a large
	 * object to its end: curl reports a write error, which s3_send knows
	 * was wanted. */
	buf_append(s->b, ptr, s->max - s->b->len);
	s->full = true;
	return 0;
}

static struct curl_slist *slist_add(struct curl_slist *l, const char *line)
{
	struct curl_slist *n = curl_slist_append(l, line);
	if (!n)
		abort(); /* out of memory */
	return n;
}

/* Copies the value of response header name (its last instance) into out,
 * or "" when absent or too long. */
static void response_header(CURL *h, const char *name, char *out, size_t outlen)
{
	struct curl_header *hd = NULL;
	out[0] = '\0';
	if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hd) == CURLHE_OK && hd->value &&
	    strlen(hd->value) < outlen)
		snprintf(out, outlen, "%s", hd->value);
}

/* Sends r signed by curl's SigV4 (Authorization header), and fills *resp
 * (whose body the caller frees). ERR_OK whenever an HTTP answer came,
 * whatever its status; ERR_INTERNAL with the reason in err when none did.
 *
 * curl 7.88 signs the query string as it is given (it does not sort or
 * encode it): r->query must already be canonical. It signs every header in
 * CURLOPT_HTTPHEADER, so none may be one that curl then leaves out (such as
 * "Expect:" to disable it). */
static enum err s3_send(struct s3_client *c, const struct s3_request *r, struct s3_response *resp,
			char *err, size_t errlen)
{
	struct upload up = {r->body ? r->body : "", r->len, 0};
	struct sink sink = {&resp->body, r->max_reply ? r->max_reply : S3_MAX_REPLY, false};
	struct curl_slist *headers = NULL;
	struct buf url = BUF_INIT, line = BUF_INIT;
	char hash[SIGV4_HEX_LEN + 1], curlerr[CURL_ERROR_SIZE] = "";
	enum err rc = ERR_INTERNAL;
	CURL *h = curl_easy_init();
	int timeout_ms = c->timeout_ms > r->min_timeout_ms ? c->timeout_ms : r->min_timeout_ms;

	resp->status = 0;
	resp->length = -1;
	resp->content_type[0] = resp->etag[0] = '\0';
	if (!h) {
		snprintf(err, errlen, "curl_easy_init failed");
		goto out;
	}
	buf_printf(&url, "%s://%s%s", c->scheme, c->host, r->path);
	if (r->query && *r->query)
		buf_printf(&url, "?%s", r->query);
	/* curl 7.88 signs this header when present but does not add it, and S3
	 * requires it with SigV4. It also makes the store check the body. */
	sigv4_sha256_hex(up.data, r->len, hash);
	buf_printf(&line, "x-amz-content-sha256: %s", hash);
	headers = slist_add(headers, line.data);
	if (r->content_type) {
		buf_reset(&line);
		buf_printf(&line, "Content-Type: %s", r->content_type);
		headers = slist_add(headers, line.data);
	}
	if (r->range) {
		buf_reset(&line);
		buf_printf(&line, "Range: %s", r->range);
		headers = slist_add(headers, line.data);
	}
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
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curlerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	if (strcmp(r->method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, &up);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->len);
	} else if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, up.data);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
	} else if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}

	CURLcode cc = curl_easy_perform(h);
	if (cc == CURLE_WRITE_ERROR && sink.full)
		cc = CURLE_OK; /* stopped on purpose */
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(err, errlen, "cannot reach S3 at %s: no answer within %d ms", c->endpoint,
			 timeout_ms);
		goto out;
	}
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "cannot reach S3 at %s: %s", c->endpoint,
			 curlerr[0] ? curlerr : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_off_t cl = -1;
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl >= 0)
		resp->length = (long long)cl;
	response_header(h, "Content-Type", resp->content_type, sizeof(resp->content_type));
	response_header(h, "ETag", resp->etag, sizeof(resp->etag));
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

static bool is_content_type(const char *s)
{
	return s && *s && strlen(s) < 128 && !strpbrk(s, "\r\n");
}

/* An S3 UploadId as we accept it from S3 or a caller: printable ASCII. */
static bool is_upload_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > S3_MAX_UPLOAD_ID)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* "uploadId=ID" encoded, the canonical query of the calls on an upload. */
static void upload_query(const char *upload_id, struct buf *out)
{
	buf_append_str(out, "uploadId=");
	sigv4_uri_encode(out, upload_id, false);
}

static void response_free(struct s3_response *r)
{
	buf_free(&r->body);
}

/* ERR_OK for a 2xx answer; otherwise ERR_INTERNAL with err set to
 * "S3 WHAT KEY: HTTP status Code". */
static enum err s3_call_status(const char *key, const char *what, const struct s3_response *resp,
			       char *err, size_t errlen)
{
	if (is_2xx(resp->status))
		return ERR_OK;
	struct buf w = BUF_INIT;
	buf_printf(&w, "%s %s", what, key);
	describe_s3_error(w.data, resp->status, &resp->body, err, errlen);
	buf_free(&w);
	return ERR_INTERNAL;
}

/* s3_send, then s3_call_status. */
static enum err s3_call(struct s3_client *c, const char *what, const char *key,
			const struct s3_request *r, struct s3_response *resp, char *err,
			size_t errlen)
{
	enum err rc = s3_send(c, r, resp, err, errlen);
	return rc == ERR_OK ? s3_call_status(key, what, resp, err, errlen) : rc;
}

/* The text of the first <tag>...</tag> in xml into out (owned), or NULL. */
static char *xml_text(const char *xml, const char *tag)
{
	struct buf open = BUF_INIT, close = BUF_INIT;
	char *res = NULL;
	buf_printf(&open, "<%s>", tag);
	buf_printf(&close, "</%s>", tag);
	const char *p = xml ? strstr(xml, open.data) : NULL;
	const char *e = p ? strstr(p + open.len, close.data) : NULL;
	if (e) {
		p += open.len;
		struct buf v = BUF_INIT;
		buf_append(&v, p, (size_t)(e - p));
		res = buf_steal(&v, NULL);
	}
	buf_free(&open);
	buf_free(&close);
	return res;
}

/* --- the API --- */

enum err s3_put_object(struct s3_client *c, const char *key, const void *data, size_t len,
		       const char *content_type, char *err, size_t errlen)
{
	struct buf path = BUF_INIT;
	struct s3_response resp = {0};
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
	struct s3_request r = {.method = "PUT",
			       .path = path.data,
			       .body = data,
			       .len = len,
			       .content_type = content_type};
	rc = s3_call(c, "PUT", key, &r, &resp, err, errlen);
out:
	buf_free(&path);
	response_free(&resp);
	return rc;
}

enum err s3_delete_object(struct s3_client *c, const char *key, char *err, size_t errlen)
{
	struct buf path = BUF_INIT;
	struct s3_response resp = {0};
	enum err rc = ERR_INTERNAL;

	if (!is_key(key)) {
		snprintf(err, errlen, "S3 object key is empty, too long or malformed");
		goto out;
	}
	object_path(c, key, &path);
	struct s3_request r = {.method = "DELETE", .path = path.data};
	rc = s3_send(c, &r, &resp, err, errlen);
	if (rc == ERR_OK && resp.status == 404)
		goto out;
	if (rc == ERR_OK)
		rc = s3_call_status(key, "DELETE", &resp, err, errlen);
out:
	buf_free(&path);
	response_free(&resp);
	return rc;
}

enum err s3_ensure_bucket(struct s3_client *c, char *err, size_t errlen)
{
	struct buf path = BUF_INIT, body = BUF_INIT;
	struct s3_response resp = {0};
	char code[64];
	enum err rc;

	buf_append_str(&path, *c->bucket_path ? c->bucket_path : "/"); /* "/" when virtual-hosted */
	struct s3_request head = {.method = "HEAD", .path = path.data};
	rc = s3_send(c, &head, &resp, err, errlen);
	if (rc != ERR_OK || is_2xx(resp.status))
		goto out;
	if (resp.status != 404) {
		describe_s3_error("HEAD bucket", resp.status, &resp.body, err, errlen);
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
	response_free(&resp);
	struct s3_request put = {.method = "PUT",
				 .path = path.data,
				 .body = body.data,
				 .len = body.len,
				 .content_type = body.len ? "application/xml" : NULL};
	rc = s3_send(c, &put, &resp, err, errlen);
	if (rc != ERR_OK || is_2xx(resp.status))
		goto out;
	s3_error_code(&resp.body, resp.status, code, sizeof(code));
	if (resp.status == 409 && strcmp(code, "BucketAlreadyOwnedByYou") == 0)
		goto out; /* created meanwhile by another of our processes */
	describe_s3_error("PUT bucket", resp.status, &resp.body, err, errlen);
	rc = ERR_INTERNAL;
out:
	buf_free(&path);
	buf_free(&body);
	response_free(&resp);
	return rc;
}

char *s3_presign(struct s3_client *c, const struct s3_presign_req *r)
{
	struct sigv4_pair query[2], headers[2];
	size_t nq = 0, nh = 0;
	char length[32], number[16];

	if (!r || !r->method || (strcmp(r->method, "GET") != 0 && strcmp(r->method, "PUT") != 0) ||
	    !is_key(r->key))
		return NULL;
	bool put = strcmp(r->method, "PUT") == 0;
	if (put && r->content_length >= 0) {
		snprintf(length, sizeof(length), "%lld", r->content_length);
		headers[nh++] = (struct sigv4_pair){"content-length", length};
	}
	if (r->content_type) {
		if (!is_content_type(r->content_type))
			return NULL;
		headers[nh++] = (struct sigv4_pair){"content-type", r->content_type};
	}
	if (r->part_number > 0 || r->upload_id) {
		if (!put || r->part_number < 1 || r->part_number > S3_MAX_PARTS ||
		    !is_upload_id(r->upload_id))
			return NULL;
		snprintf(number, sizeof(number), "%d", r->part_number);
		query[nq++] = (struct sigv4_pair){"partNumber", number};
		query[nq++] = (struct sigv4_pair){"uploadId", r->upload_id};
	}

	struct buf path = BUF_INIT;
	object_path(c, r->key, &path);
	struct sigv4_presign p = {
		.method = r->method,
		.scheme = c->public_scheme,
		.host = c->public_host,
		.path = path.data,
		.access_key = c->access_key,
		.secret_key = c->secret_key,
		.region = c->region,
		.service = "s3",
		.now = r->now,
		.expires_s = r->expires_s,
		.query = nq ? query : NULL,
		.nquery = nq,
		.headers = nh ? headers : NULL,
		.nheaders = nh,
	};
	char *url = sigv4_presign_url(&p);
	buf_free(&path);
	return url;
}

char *s3_presign_get(struct s3_client *c, const char *key, int expires_s, time_t now)
{
	struct s3_presign_req r = {
		.method = "GET",
		.key = key,
		.expires_s = expires_s,
		.now = now,
		.content_length = -1,
	};
	return s3_presign(c, &r);
}

enum err s3_head_object(struct s3_client *c, const char *key, struct s3_object_info *out, char *err,
			size_t errlen)
{
	struct buf path = BUF_INIT;
	struct s3_response resp = {0};
	enum err rc = ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	if (!is_key(key)) {
		snprintf(err, errlen, "S3 object key is empty, too long or malformed");
		goto out;
	}
	object_path(c, key, &path);
	struct s3_request r = {.method = "HEAD", .path = path.data};
	rc = s3_send(c, &r, &resp, err, errlen);
	if (rc != ERR_OK)
		goto out;
	if (resp.status == 404) {
		snprintf(err, errlen, "S3 HEAD %s: HTTP 404 NotFound", key);
		rc = ERR_NOT_FOUND;
		goto out;
	}
	if (!is_2xx(resp.status)) {
		rc = s3_call_status(key, "HEAD", &resp, err, errlen);
		goto out;
	}
	if (resp.length < 0) {
		snprintf(err, errlen, "S3 HEAD %s: no Content-Length in the answer", key);
		rc = ERR_INTERNAL;
		goto out;
	}
	out->size = resp.length;
	snprintf(out->content_type, sizeof(out->content_type), "%s", resp.content_type);
	snprintf(out->etag, sizeof(out->etag), "%s", resp.etag);
out:
	buf_free(&path);
	response_free(&resp);
	return rc;
}

enum err s3_get_range(struct s3_client *c, const char *key, long long first, long long last,
		      struct buf *out, char *err, size_t errlen)
{
	struct buf path = BUF_INIT, range = BUF_INIT;
	struct s3_response resp = {0};
	enum err rc = ERR_INTERNAL;

	if (!is_key(key)) {
		snprintf(err, errlen, "S3 object key is empty, too long or malformed");
		goto out;
	}
	if (first < 0 || last < first || last - first >= S3_MAX_RANGE) {
		snprintf(err, errlen, "S3 range %lld-%lld is empty, negative or too long", first,
			 last);
		goto out;
	}
	object_path(c, key, &path);
	buf_printf(&range, "bytes=%lld-%lld", first, last);
	size_t want = (size_t)(last - first + 1);
	/* Room for an error's XML too, so that err can name S3's code. */
	struct s3_request r = {.method = "GET",
			       .path = path.data,
			       .range = range.data,
			       .max_reply = want > S3_MAX_REPLY ? want : S3_MAX_REPLY};
	rc = s3_send(c, &r, &resp, err, errlen);
	if (rc != ERR_OK)
		goto out;
	if (resp.status == 206 || (resp.status == 200 && first == 0)) {
		/* 200: the whole object, from its first byte (a store that
		 * ignores Range); keep what was asked. */
		buf_append(out, resp.body.data ? resp.body.data : "",
			   resp.body.len < want ? resp.body.len : want);
	} else if (resp.status == 200) {
		snprintf(err, errlen, "S3 GET %s: HTTP 200 to a range request (Range ignored)",
			 key);
		rc = ERR_INTERNAL;
	} else if (resp.status == 404) {
		snprintf(err, errlen, "S3 GET %s: HTTP 404 NotFound", key);
		rc = ERR_NOT_FOUND;
	} else if (resp.status != 416) { /* 416: the object ends before first */
		rc = s3_call_status(key, "GET", &resp, err, errlen);
	}
out:
	buf_free(&path);
	buf_free(&range);
	response_free(&resp);
	return rc;
}

enum err s3_create_multipart(struct s3_client *c, const char *key, const char *content_type,
			     char **upload_id, char *err, size_t errlen)
{
	struct buf path = BUF_INIT;
	struct s3_response resp = {0};
	enum err rc = ERR_INTERNAL;
	char *id = NULL;

	*upload_id = NULL;
	if (!is_key(key)) {
		snprintf(err, errlen, "S3 object key is empty, too long or malformed");
		goto out;
	}
	if (!is_content_type(content_type)) {
		snprintf(err, errlen, "S3 content type is missing or holds a line break");
		goto out;
	}
	object_path(c, key, &path);
	/* "uploads=": the canonical form of "?uploads", which curl 7.88 signs
	 * as given. */
	struct s3_request r = {.method = "POST",
			       .path = path.data,
			       .query = "uploads=",
			       .content_type = content_type};
	rc = s3_call(c, "CreateMultipartUpload", key, &r, &resp, err, errlen);
	if (rc != ERR_OK)
		goto out;
	id = xml_text(resp.body.data, "UploadId");
	if (!is_upload_id(id)) {
		snprintf(err, errlen,
			 "S3 CreateMultipartUpload %s: no valid UploadId in the answer", key);
		rc = ERR_INTERNAL;
		goto out;
	}
	*upload_id = id;
	id = NULL;
out:
	free(id);
	buf_free(&path);
	response_free(&resp);
	return rc;
}

/* The codes with which S3 refuses a part list or an upload: the client may
 * upload again and retry. */
static bool is_conflict_code(const char *code)
{
	return strcmp(code, "InvalidPart") == 0 || strcmp(code, "InvalidPartOrder") == 0 ||
	       strcmp(code, "NoSuchUpload") == 0 || strcmp(code, "EntityTooSmall") == 0;
}

enum err s3_complete_multipart(struct s3_client *c, const char *key, const char *upload_id,
			       const struct s3_part *parts, size_t n, char *err, size_t errlen)
{
	struct buf path = BUF_INIT, query = BUF_INIT, body = BUF_INIT;
	struct s3_response resp = {0};
	enum err rc = ERR_INTERNAL;
	char code[64];

	if (!is_key(key)) {
		snprintf(err, errlen, "S3 object key is empty, too long or malformed");
		goto out;
	}
	if (!is_upload_id(upload_id)) {
		snprintf(err, errlen, "S3 upload id is empty, too long or malformed");
		goto out;
	}
	if (n == 0 || n > S3_MAX_PARTS) {
		snprintf(err, errlen, "S3 CompleteMultipartUpload needs 1 to %d parts, not %zu",
			 S3_MAX_PARTS, n);
		goto out;
	}
	buf_append_str(&body, "<CompleteMultipartUpload "
			      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (size_t i = 0; i < n; i++) {
		const char *etag = parts[i].etag;
		size_t elen = etag ? strlen(etag) : 0;
		/* Quotes are optional; what is inside must be a plain token. */
		if (elen >= 2 && etag[0] == '"' && etag[elen - 1] == '"') {
			etag++;
			elen -= 2;
		}
		bool ok = elen > 0 && elen <= 128 && parts[i].number >= 1 &&
			  parts[i].number <= S3_MAX_PARTS &&
			  (i == 0 || parts[i].number > parts[i - 1].number);
		for (size_t j = 0; ok && j < elen; j++)
			ok = isalnum((unsigned char)etag[j]) || etag[j] == '-';
		if (!ok) {
			snprintf(err, errlen,
				 "S3 CompleteMultipartUpload: part %zu has a bad number or ETag",
				 i + 1);
			rc = ERR_CONFLICT;
			goto out;
		}
		buf_printf(&body, "<Part><PartNumber>%d</PartNumber><ETag>\"%.*s\"</ETag></Part>",
			   parts[i].number, (int)elen, etag);
	}
	buf_append_str(&body, "</CompleteMultipartUpload>");

	object_path(c, key, &path);
	upload_query(upload_id, &query);
	struct s3_request r = {.method = "POST",
			       .path = path.data,
			       .query = query.data,
			       .body = body.data,
			       .len = body.len,
			       .content_type = "application/xml",
			       .min_timeout_ms = S3_COMPLETE_TIMEOUT_MS};
	rc = s3_send(c, &r, &resp, err, errlen);
	if (rc != ERR_OK)
		goto out;
	/* S3 answers 200 at once and then works, sending blanks to keep the
	 * connection open: a failure then comes as a 200 with an <Error>. */
	bool failed =
		!is_2xx(resp.status) || (resp.body.data && strstr(resp.body.data, "<Error>") &&
					 !strstr(resp.body.data, "<CompleteMultipartUploadResult"));
	if (!failed)
		goto out;
	s3_error_code(&resp.body, resp.status, code, sizeof(code));
	struct buf w = BUF_INIT;
	buf_printf(&w, "CompleteMultipartUpload %s", key);
	describe_s3_error(w.data, resp.status, &resp.body, err, errlen);
	buf_free(&w);
	rc = is_conflict_code(code) ? ERR_CONFLICT : ERR_INTERNAL;
out:
	buf_free(&path);
	buf_free(&query);
	buf_free(&body);
	response_free(&resp);
	return rc;
}

enum err s3_abort_multipart(struct s3_client *c, const char *key, const char *upload_id, char *err,
			    size_t errlen)
{
	struct buf path = BUF_INIT, query = BUF_INIT;
	struct s3_response resp = {0};
	enum err rc = ERR_INTERNAL;
	char code[64];

	if (!is_key(key)) {
		snprintf(err, errlen, "S3 object key is empty, too long or malformed");
		goto out;
	}
	if (!is_upload_id(upload_id)) {
		snprintf(err, errlen, "S3 upload id is empty, too long or malformed");
		goto out;
	}
	object_path(c, key, &path);
	upload_query(upload_id, &query);
	struct s3_request r = {.method = "DELETE", .path = path.data, .query = query.data};
	rc = s3_send(c, &r, &resp, err, errlen);
	if (rc != ERR_OK || is_2xx(resp.status))
		goto out;
	s3_error_code(&resp.body, resp.status, code, sizeof(code));
	if (resp.status == 404 && strcmp(code, "NoSuchBucket") != 0)
		goto out; /* an unknown or already finished upload */
	rc = s3_call_status(key, "AbortMultipartUpload", &resp, err, errlen);
out:
	buf_free(&path);
	buf_free(&query);
	response_free(&resp);
	return rc;
}
