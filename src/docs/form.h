/* Reading the docs sign-in form (application/x-www-form-urlencoded). Pure
 * functions, no I/O; thread-safe. */
#ifndef CINEMA_DOCS_FORM_H
#define CINEMA_DOCS_FORM_H

#include <stdbool.h>
#include <stddef.h>

/* Copies the decoded value of the first field called name in body (NULL-safe)
 * into out (outlen bytes, NUL-terminated): "+" is a space, "%XX" the byte XX
 * but %00, which stays as written. False if the field is absent or its
 * encoded value does not fit in out. */
bool docs_form_field(const char *body, const char *name, char *out, size_t outlen);

#endif
