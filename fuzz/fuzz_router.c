/* Route matching and path-parameter decoding (src/http/router.c) over the
 * API's real route tables. Input: method NUL path (the raw request path,
 * percent escapes and all). A match's parameters are NUL-terminated and the
 * route's method is the one asked for; no match leaves no parameter. */
#include <stdlib.h>
#include <string.h>

#include "app/routes.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_fields ff;
	fuzz_fields_split(&ff, data, size);
	enum http_method m = http_method_parse(ff.f[0]);
	if (!m)
		m = HTTP_GET;
	struct http_param params[HTTP_MAX_PARAMS];
	int nparams = 0;
	unsigned allowed = 0;
	const struct route *r =
		http_route_match(app_route_tables, m, ff.f[1], params, &nparams, &allowed);
	if (nparams < 0 || nparams > HTTP_MAX_PARAMS || (!r && nparams != 0))
		abort();
	if (r && r->method != m && !(m == HTTP_HEAD && r->method == HTTP_GET))
		abort();
	struct http_request req = {.params = {{0}}, .nparams = nparams};
	memcpy(req.params, params, sizeof(params));
	long long id;
	for (int i = 0; i < nparams; i++) {
		if (!params[i].value || strlen(params[i].value) > strlen(ff.f[1]))
			abort();
		(void)http_param_id(&req, "id", &id);
	}
	http_params_clear(params, nparams);
	(void)http_method_name(m);
	fuzz_fields_free(&ff);
	return 0;
}
