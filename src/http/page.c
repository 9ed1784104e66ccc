#include "cinema/page.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/buf.h"
#include "cinema/http.h"

bool parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	if (!s || !*s || *s == ' ' || *s == '+')
		return false;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool page_parse(struct http_request *req, struct http_response *res, struct page *out)
{
	json_t *errors = json_array();
	if (!page_read(req, errors, out)) {
		http_validation_error(res, errors);
		return false;
	}
	json_decref(errors);
	return true;
}

bool page_read(struct http_request *req, json_t *errors, struct page *out)
{
	const char *p = http_query(req, "page");
	const char *pp = http_query(req, "per_page");
	size_t before = json_array_size(errors);
	out->page = 1;
	out->per_page = PAGE_DEFAULT_SIZE;
	if (p && !parse_ll(p, 1, PAGE_MAX_NUMBER, &out->page))
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "page", "message",
							"must be a whole number from 1"));
	if (pp && !parse_ll(pp, 1, PAGE_MAX_SIZE, &out->per_page))
		json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "per_page", "message",
							"must be a whole number from 1 to 100"));
	out->offset = (out->page - 1) * out->per_page;
	return json_array_size(errors) == before;
}

static void url_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			buf_append_char(b, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			buf_append(b, e, 3);
		}
	}
}

struct link_ctx {
	struct buf *b;
};

static void keep_param(void *ctx, const char *key, const char *value)
{
	struct link_ctx *l = ctx;
	if (strcmp(key, "page") == 0 || strcmp(key, "per_page") == 0 || strcmp(key, "cursor") == 0)
		return;
	url_encode(l->b, key);
	if (value) {
		buf_append_char(l->b, '=');
		url_encode(l->b, value);
	}
	buf_append_char(l->b, '&');
}

/* The link to page (a keyset page when cursor is not NULL). */
static json_t *page_link_at(struct http_request *req, long long page, long long per_page,
			    const char *cursor)
{
	struct buf b = BUF_INIT;
	struct link_ctx l = {&b};
	buf_append_str(&b, req->path);
	buf_append_char(&b, '?');
	http_query_each(req, keep_param, &l);
	if (cursor) {
		buf_append_str(&b, "cursor=");
		url_encode(&b, cursor);
		buf_append_char(&b, '&');
	}
	buf_printf(&b, "page=%lld&per_page=%lld", page, per_page);
	json_t *j = json_stringn(b.data, b.len);
	buf_free(&b);
	return j;
}

static json_t *page_link(struct http_request *req, long long page, long long per_page)
{
	return page_link_at(req, page, per_page, NULL);
}

json_t *page_envelope(struct http_request *req, const struct page *pg, json_t *items,
		      long long total_items)
{
	long long total_pages = (total_items + pg->per_page - 1) / pg->per_page;
	json_t *prev = json_null(), *next = json_null();
	if (pg->page > 1) {
		json_decref(prev);
		/* Past the end, "previous" is the last page that has items. */
		long long p = pg->page - 1 > total_pages ? total_pages : pg->page - 1;
		prev = p >= 1 ? page_link(req, p, pg->per_page) : json_null();
	}
	if (pg->page < total_pages) {
		json_decref(next);
		next = page_link(req, pg->page + 1, pg->per_page);
	}
	return json_pack("{s:o,s:I,s:I,s:I,s:I,s:o,s:o}", "items", items, "page",
			 (json_int_t)pg->page, "per_page", (json_int_t)pg->per_page, "total_items",
			 (json_int_t)total_items, "total_pages", (json_int_t)total_pages,
			 "prev_page", prev, "next_page", next);
}

void page_envelope_raw(struct http_request *req, const struct page *pg, const char *items_json,
		       size_t items_len, long long total_items, struct buf *out)
{
	json_t *rest = page_envelope(req, pg, json_array(), total_items);
	json_object_del(rest, "items");
	char *tail = json_dumps(rest, JSON_COMPACT);
	buf_append_str(out, "{\"items\":");
	buf_append(out, items_json, items_len);
	buf_append_char(out, ',');
	buf_append_str(out, tail + 1); /* skip the tail's opening brace */
	free(tail);
	json_decref(rest);
}

void page_envelope_keyset(struct http_request *req, const struct page *pg, const char *items_json,
			  size_t items_len, const struct page_more *more, struct buf *out)
{
	json_t *rest = page_envelope(req, pg, json_array(), more->total_items);
	json_object_del(rest, "items");
	json_t *next = json_null();
	if (more->more && more->next_cursor && *more->next_cursor) {
		json_decref(next);
		/* With a cursor, page only labels the page: it stops at the
		 * largest that ?page= accepts, so the link never answers 422
		 * (per_page=1 through a million titles). */
		long long label = pg->page < PAGE_MAX_NUMBER ? pg->page + 1 : PAGE_MAX_NUMBER;
		next = pg->page + 1 <= PAGE_NUMBERED_MAX && !http_query(req, "cursor")
			       ? page_link(req, pg->page + 1, pg->per_page)
			       : page_link_at(req, label, pg->per_page, more->next_cursor);
	}
	json_object_set_new(rest, "next_page", next);
	json_object_set_new(rest, "total_items_exact", json_boolean(more->exact));
	json_object_set_new(rest, "next_cursor",
			    more->more && more->next_cursor && *more->next_cursor
				    ? json_string(more->next_cursor)
				    : json_null());
	char *tail = json_dumps(rest, JSON_COMPACT | JSON_PRESERVE_ORDER);
	buf_append_str(out, "{\"items\":");
	buf_append(out, items_json, items_len);
	buf_append_char(out, ',');
	buf_append_str(out, tail + 1);
	free(tail);
	json_decref(rest);
}
