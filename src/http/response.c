/* Response builders and body parsing: everything a handler needs to turn
 * JSON into a request and a result into a response, without libmicrohttpd. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cinema/http.h"
#include "cinema/mem.h"

static const char json_content_type[] = "application/json; charset=utf-8";

static int dump_cb(const char *data, size_t size, void *ctx)
{
	buf_append(ctx, data, size);
	return 0;
}

unsigned http_json(struct http_response *res, unsigned status, json_t *obj)
{
	buf_reset(&res->body);
	res->status = status;
	res->content_type = json_content_type;
	if (obj)
		json_dump_callback(obj, dump_cb, &res->body, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(obj);
	return status;
}

static unsigned error_body(struct http_response *res, enum err e, const char *detail,
			   json_t *errors)
{
	buf_reset(&res->body);
	res->status = err_http_status(e);
	res->content_type = json_content_type;
	buf_append_str(&res->body, "{\"detail\":\"");
	const char *d = detail ? detail : err_detail(e);
	buf_append_json_escaped(&res->body, d, strlen(d));
	buf_append_str(&res->body, "\",\"code\":\"");
	buf_append_str(&res->body, err_code(e));
	buf_append_char(&res->body, '"');
	if (errors) {
		buf_append_str(&res->body, ",\"errors\":");
		json_dump_callback(errors, dump_cb, &res->body, JSON_COMPACT);
		json_decref(errors);
	}
	buf_append_char(&res->body, '}');
	return res->status;
}

unsigned http_error(struct http_response *res, enum err e, const char *detail)
{
	return error_body(res, e, detail, NULL);
}

unsigned http_errorf(struct http_response *res, enum err e, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return error_body(res, e, detail, NULL);
}

unsigned http_validation_error(struct http_response *res, json_t *errors)
{
	if (!errors)
		errors = json_array();
	return error_body(res, ERR_VALIDATION, NULL, errors);
}

unsigned http_json_raw(struct http_response *res, unsigned status)
{
	res->status = status;
	res->content_type = json_content_type;
	return status;
}

unsigned http_empty(struct http_response *res, unsigned status)
{
	buf_reset(&res->body);
	res->status = status;
	res->content_type = NULL;
	return status;
}

void http_set_header(struct http_response *res, const char *name, const char *value)
{
	for (int i = 0; i < res->nheaders; i++) {
		if (strcasecmp(res->headers[i].name, name) == 0) {
			free(res->headers[i].value);
			res->headers[i].value = xstrdup(value);
			return;
		}
	}
	if (res->nheaders == HTTP_MAX_EXTRA_HEADERS)
		return;
	res->headers[res->nheaders].name = name;
	res->headers[res->nheaders].value = xstrdup(value);
	res->nheaders++;
}

void http_add_header(struct http_response *res, const char *name, const char *value)
{
	if (res->nheaders == HTTP_MAX_EXTRA_HEADERS)
		return;
	res->headers[res->nheaders].name = name;
	res->headers[res->nheaders].value = xstrdup(value);
	res->nheaders++;
}

static bool is_json_content_type(const char *ct)
{
	static const char prefix[] = "application/json";
	if (!ct || strncasecmp(ct, prefix, sizeof(prefix) - 1) != 0)
		return false;
	char next = ct[sizeof(prefix) - 1];
	return next == '\0' || next == ';' || next == ' ';
}

/* What is wrong with a body jansson refused, in our words: jansson's own
 * text names its internals (flags, tokens) and echoes the input. */
static const char *json_error_reason(const json_error_t *jerr)
{
	switch (json_error_code(jerr)) {
	case json_error_invalid_utf8:
		return "it is not valid UTF-8";
	case json_error_premature_end_of_input:
		return "it ends before the JSON value does";
	case json_error_end_of_input_expected:
		return "something follows the JSON value";
	case json_error_null_byte_in_key:
		return "a member name contains a NUL character";
	case json_error_duplicate_key:
		return "a member name appears twice in one object";
	case json_error_numeric_overflow:
		return "a number is out of range";
	case json_error_stack_overflow:
		return "it is nested too deeply";
	default:
		return "it is not valid JSON";
	}
}

bool http_json_body(struct http_request *req, struct http_response *res, json_t **out)
{
	json_error_t jerr;
	*out = NULL;
	if (!is_json_content_type(http_header(req, "Content-Type"))) {
		http_error(res, ERR_UNSUPPORTED_MEDIA_TYPE, NULL);
		return false;
	}
	if (req->body_len == 0) {
		http_error(res, ERR_INVALID_JSON, "A JSON request body is required.");
		return false;
	}
	/* NUL characters (\u0000) are let through: the validator refuses them
	 * per field, with a 422 that names it. */
	json_t *root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
				  &jerr);
	if (!root) {
		http_errorf(res, ERR_INVALID_JSON,
			    "The request body is not valid JSON: %s (line %d, column %d).",
			    json_error_reason(&jerr), jerr.line, jerr.column);
		return false;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		http_error(res, ERR_INVALID_JSON, "The request body must be a JSON object.");
		return false;
	}
	*out = root;
	return true;
}
