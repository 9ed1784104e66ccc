/* Origins (RFC 6454) of URLs and Origin headers, and request cookies. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cinema/http.h"

bool http_url_origin(const char *url, char *out, size_t outlen)
{
	const char *default_port;
	size_t scheme_len;
	if (strncasecmp(url, "http://", 7) == 0) {
		scheme_len = 7;
		default_port = "80";
	} else if (strncasecmp(url, "https://", 8) == 0) {
		scheme_len = 8;
		default_port = "443";
	} else {
		return false;
	}
	const char *auth = url + scheme_len;
	size_t auth_len = strcspn(auth, "/?#");
	const char *at = memchr(auth, '@', auth_len);
	if (at) { /* user info is no part of an origin */
		auth_len -= (size_t)(at + 1 - auth);
		auth = at + 1;
	}
	/* The port follows the last ':' outside an IPv6 literal's brackets. */
	const char *close = memchr(auth, ']', auth_len);
	const char *from = close ? close : auth;
	const char *colon = memchr(from, ':', auth_len - (size_t)(from - auth));
	size_t host_len = colon ? (size_t)(colon - auth) : auth_len;
	if (host_len == 0 || scheme_len + auth_len + 1 > outlen)
		return false;
	size_t n = 0;
	for (size_t i = 0; i < scheme_len + host_len; i++) {
		char c = i < scheme_len ? url[i] : auth[i - scheme_len];
		out[n++] = (char)tolower((unsigned char)c);
	}
	if (colon) {
		const char *port = colon + 1;
		size_t port_len = auth_len - host_len - 1;
		if (!(port_len == strlen(default_port) &&
		      memcmp(port, default_port, port_len) == 0) &&
		    port_len) {
			out[n++] = ':';
			memcpy(out + n, port, port_len);
			n += port_len;
		}
	}
	out[n] = '\0';
	return true;
}

bool http_same_origin(const char *origin, const char *base_url)
{
	char a[512], b[512];
	/* An Origin header is scheme://host[:port] and nothing else. */
	const char *host = origin ? strstr(origin, "://") : NULL;
	if (!host || host[3 + strcspn(host + 3, "/?#@")] != '\0')
		return false;
	return http_url_origin(origin, a, sizeof(a)) && http_url_origin(base_url, b, sizeof(b)) &&
	       strcmp(a, b) == 0;
}

bool http_cookie(const struct http_request *req, const char *name, char *out, size_t outlen)
{
	const char *cookies = http_header(req, "Cookie");
	size_t n = strlen(name);
	for (const char *p = cookies; p && *p;) {
		p += strspn(p, " \t;");
		size_t len = strcspn(p, ";");
		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			const char *v = p + n + 1;
			size_t vlen = len - n - 1;
			while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= outlen)
				return false;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return true;
		}
		p += len;
	}
	return false;
}

bool http_origin_is_host(const char *origin, const char *host)
{
	char url[512];
	const char *sep = origin ? strstr(origin, "://") : NULL;
	if (!sep || !host || !*host || strpbrk(host, "/?#@ \t") != NULL)
		return false;
	int n = snprintf(url, sizeof(url), "%.*s://%s", (int)(sep - origin), origin, host);
	return n > 0 && (size_t)n < sizeof(url) && http_same_origin(origin, url);
}
