/* Helpers shared by the harnesses of fuzz/: splitting an input into fields
 * and a stand-in for the request accessors of src/http/server.c. */
#ifndef CINEMA_FUZZ_H
#define CINEMA_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "cinema/http.h"

#define FUZZ_MAX_FIELDS 8

/* An input cut at its NUL bytes into up to FUZZ_MAX_FIELDS NUL-terminated
 * strings (the last keeps any further NUL bytes' text cut off); fields past
 * the input's are "". */
struct fuzz_fields {
	char *copy; /* owned */
	const char *f[FUZZ_MAX_FIELDS];
	size_t n; /* fields the input held */
};

void fuzz_fields_split(struct fuzz_fields *ff, const uint8_t *data, size_t size);
void fuzz_fields_free(struct fuzz_fields *ff);

/* A copy of data with a NUL appended (owned). */
char *fuzz_strndup(const uint8_t *data, size_t size);

struct fuzz_pair {
	const char *key;
	const char *value; /* NULL: "?key" without "=" */
};

/* What req->conn points to under the fake accessors. */
struct fuzz_conn {
	const struct fuzz_pair *query;
	size_t nquery;
	const struct fuzz_pair *headers;
	size_t nheaders;
	const char *peer; /* the peer's address, for http_client_ip */
};

/* Frees what handlers put in a response. */
void fuzz_response_free(struct http_response *res);

#endif
