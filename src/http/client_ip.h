/* Which address a request comes from when load balancers forward it: the
 * pure part of http_client_ip, apart from libmicrohttpd so that tests and
 * fuzzers can call it. Thread-safe. */
#ifndef CINEMA_HTTP_CLIENT_IP_H
#define CINEMA_HTTP_CLIENT_IP_H

#include <stdbool.h>
#include <stddef.h>

/* Whether ip (iplen bytes) appears in list, comma- or space-separated. */
bool http_ip_listed(const char *list, const char *ip, size_t iplen);

/* out (outlen bytes, at least 46) holds the peer's address on entry. When
 * the peer is one of trusted (comma-separated; NULL or "" for none) and xff
 * (the X-Forwarded-For header, may be NULL) is given, replaces it with the
 * rightmost address of xff that is not itself trusted. Stops at the first
 * entry that is empty, too long or not an IPv4/IPv6 address, keeping what
 * out holds then. */
void http_forwarded_client(const char *trusted, const char *xff, char *out, size_t outlen);

#endif
