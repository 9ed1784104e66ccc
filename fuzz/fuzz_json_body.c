/* JSON request bodies: http_json_body (src/http/response.c) then the
 * validator (src/http/validate.c) over the fields a sign-up, a movie and a
 * profile update read. Input: the first byte picks the Content-Type, the
 * rest is the body. */
#include <stdlib.h>
#include <string.h>

#include "cinema/validate.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const content_types[] = {
	"application/json",
	"application/json; charset=utf-8",
	"text/plain",
	"application/merge-patch+json",
	"APPLICATION/JSON ;charset=UTF-8",
	NULL,
};
#define NTYPES (sizeof(content_types) / sizeof(content_types[0]))

static void validate(const json_t *body, struct http_response *res)
{
	struct validator v;
	long long n;
	bool b;
	char email[255];
	const char *pw;
	validator_init(&v, body);
	validator_only(&v, (const char *const[]){"email", "password", "name", "year", "price",
						 "is_active", "group", "parent_id", NULL});
	(void)validator_email(&v, "email", email, sizeof(email));
	(void)validator_password(&v, "password", &pw);
	(void)validator_string(&v, "name", V_REQUIRED, 1, 250);
	(void)validator_string(&v, "group", V_NULLABLE, 0, 20);
	(void)validator_int(&v, "year", V_OPTIONAL, 1888, 2100, &n);
	(void)validator_int(&v, "price", V_NULLABLE, 0, 9999999999LL, &n);
	(void)validator_int(&v, "parent_id", V_OPTIONAL, 1, 999999999999999999LL, &n);
	(void)validator_bool(&v, "is_active", V_OPTIONAL, &b);
	(void)validator_has(&v, "name");
	if (validator_ok(&v))
		validator_clear(&v);
	else if (validator_respond(&v, res) != 422)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct fuzz_pair header = {"Content-Type", content_types[data[0] % NTYPES]};
	struct fuzz_conn conn = {.headers = &header, .nheaders = header.value ? 1 : 0};
	char *body = fuzz_strndup(data + 1, size - 1);
	struct http_request req = {.body = body, .body_len = size - 1, .conn = &conn};
	struct http_response res = {0};
	json_t *obj = NULL;
	if (http_json_body(&req, &res, &obj)) {
		if (!json_is_object(obj))
			abort();
		validate(obj, &res);
		json_decref(obj);
	} else if (res.status < 400 || res.status > 415) {
		abort();
	}
	fuzz_response_free(&res);
	free(body);
	return 0;
}
