/* Route matching: method and path against the domains' route tables.
 * Patterns are literal segments and {name} captures, one segment each. The
 * tables are small (a hundred routes), so a linear scan that compares
 * bytes until the first difference costs well under a microsecond and keeps
 * the surface greppable. */
#include <stdlib.h>
#include <string.h>

#include "cinema/http.h"
#include "cinema/mem.h"

static const struct {
	enum http_method m;
	const char *name;
} methods[] = {
	{HTTP_GET, "GET"},	   {HTTP_HEAD, "HEAD"},	  {HTTP_POST, "POST"},
	{HTTP_PUT, "PUT"},	   {HTTP_PATCH, "PATCH"}, {HTTP_DELETE, "DELETE"},
	{HTTP_OPTIONS, "OPTIONS"},
};

enum http_method http_method_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(s, methods[i].name) == 0)
			return methods[i].m;
	return 0;
}

const char *http_method_name(enum http_method m)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].m == m)
			return methods[i].name;
	return "?";
}

/* The length of the segment at s, up to the next '/' or the end. */
static size_t seg_len(const char *s)
{
	size_t n = 0;
	while (s[n] && s[n] != '/')
		n++;
	return n;
}

/* Matches path against pattern. On success fills params (values owned) and
 * returns true; on failure leaves params untouched (nothing allocated).
 * Every request tries every route (405 needs the allowed methods), so the
 * common miss is decided byte by byte where pattern and path first differ:
 * measuring lengths with strcspn and comparing with memcmp, segment by
 * segment, cost about 9% of cinema-api's CPU on GET /movies/{id} (perf,
 * docs/benchmarks.md "Catalog cold path (issue 15): detail"). */
static bool pattern_match(const char *pattern, const char *path, struct http_param *params,
			  int *nparams, bool capture)
{
	const char *p = pattern, *s = path;
	struct {
		const char *name, *val;
		size_t name_len, val_len;
	} cap[HTTP_MAX_PARAMS];
	int ncap = 0;

	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return false;
		p++;
		s++;
		size_t plen = *p == '{' ? seg_len(p) : 0;
		if (plen >= 2 && p[plen - 1] == '}') {
			size_t slen = seg_len(s);
			if (slen == 0 || ncap == HTTP_MAX_PARAMS)
				return false;
			cap[ncap].name = p + 1;
			cap[ncap].name_len = plen - 2;
			cap[ncap].val = s;
			cap[ncap].val_len = slen;
			ncap++;
			p += plen;
			s += slen;
			continue;
		}
		/* A literal segment: equal up to where both end. */
		while (*p && *p != '/' && *p == *s) {
			p++;
			s++;
		}
		if ((*p && *p != '/') || (*s && *s != '/'))
			return false;
	}
	if (*p || *s)
		return false;
	if (capture) {
		for (int i = 0; i < ncap; i++) {
			params[i].name = cap[i].name;
			params[i].name_len = cap[i].name_len;
			params[i].value = xstrndup(cap[i].val, cap[i].val_len);
		}
		*nparams = ncap;
	}
	return true;
}

const struct route *http_route_match(const struct route *const *tables, enum http_method method,
				     const char *path, struct http_param *params, int *nparams,
				     unsigned *allowed)
{
	enum http_method want = method == HTTP_HEAD ? HTTP_GET : method;
	const struct route *found = NULL;
	*allowed = 0;
	*nparams = 0;
	for (const struct route *const *t = tables; *t; t++) {
		for (const struct route *r = *t; r->pattern; r++) {
			if (!pattern_match(r->pattern, path, params, nparams, false))
				continue;
			*allowed |= (unsigned)r->method;
			if (r->method & HTTP_GET)
				*allowed |= HTTP_HEAD;
			if (!found && r->method == want)
				found = r;
		}
	}
	if (found)
		pattern_match(found->pattern, path, params, nparams, true);
	return found;
}

void http_params_clear(struct http_param *params, int nparams)
{
	for (int i = 0; i < nparams; i++) {
		free(params[i].value);
		params[i].value = NULL;
	}
}

const char *http_param(const struct http_request *req, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < req->nparams; i++)
		if (req->params[i].name_len == n && memcmp(req->params[i].name, name, n) == 0)
			return req->params[i].value;
	return NULL;
}

bool http_param_id(const struct http_request *req, const char *name, long long *out)
{
	const char *v = http_param(req, name);
	long long id = 0;
	if (!v || !*v || strlen(v) > 18 || *v == '0')
		return false;
	for (const char *c = v; *c; c++) {
		if (*c < '0' || *c > '9')
			return false;
		id = id * 10 + (*c - '0');
	}
	*out = id;
	return true;
}
