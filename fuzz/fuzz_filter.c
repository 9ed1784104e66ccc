/* Query-string parsing of the movie list (catalog_parse_filter: page,
 * per_page, years, decimals, ids, search, sort, cursor) through the fake request
 * accessors. Input: a decoded query "k=v&k=v..." (as libmicrohttpd hands
 * the arguments over: already percent-decoded). */
#include <stdlib.h>
#include <string.h>

#include "catalog/handlers.h"
#include "catalog/service.h"
#include "cinema/page.h"
#include "fuzz.h"

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *q = fuzz_strndup(data, size);
	struct fuzz_pair args[MAX_ARGS];
	size_t n = 0;
	for (char *save = NULL, *tok = strtok_r(q, "&", &save); tok && n < MAX_ARGS;
	     tok = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(tok, '=');
		if (eq)
			*eq = '\0';
		args[n].key = tok;
		args[n++].value = eq ? eq + 1 : NULL;
	}
	struct fuzz_conn conn = {.query = args, .nquery = n};
	struct http_request req = {.path = "/api/v1/movies", .body = "", .conn = &conn};
	struct http_response res = {0};
	struct movie_filter f;
	struct filter_bufs bufs;
	if (catalog_parse_filter(&req, &res, &f, &bufs)) {
		if (f.limit < 1 || f.limit > PAGE_MAX_SIZE || f.offset < 0)
			abort();
		if (f.tsquery && strlen(f.tsquery) >= sizeof(bufs.search.tsq))
			abort();
		if (f.after && (f.after->id < 1 || f.after->tier < 0 || f.after->tier > 1 ||
				strlen(f.after->value) >= sizeof(f.after->value)))
			abort();
	} else if (res.status != 422) {
		abort();
	}
	fuzz_response_free(&res);

	struct page pg;
	res = (struct http_response){0};
	if (page_parse(&req, &res, &pg)) {
		struct buf out = BUF_INIT;
		page_envelope_raw(&req, &pg, "[]", 2, 12345, &out);
		struct page_more more = {.total_items = 12345,
					 .exact = false,
					 .more = true,
					 .next_cursor = "WyJuYW1lIl0"};
		page_envelope_keyset(&req, &pg, "[]", 2, &more, &out);
		buf_free(&out);
	}
	fuzz_response_free(&res);
	free(q);
	return 0;
}
