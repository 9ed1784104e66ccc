/* X-Forwarded-For behind trusted proxies (src/http/client_ip.c). Input:
 * trusted list NUL header NUL peer address. The answer is the peer or one
 * of the header's entries, and always a terminated string in its buffer. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/client_ip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_fields ff;
	fuzz_fields_split(&ff, data, size);
	const char *trusted = ff.f[0], *xff = ff.f[1], *peer = ff.f[2];
	char out[INET6_ADDRSTRLEN];
	snprintf(out, sizeof(out), "%s", peer);
	char before[sizeof(out)];
	memcpy(before, out, sizeof(out));
	http_forwarded_client(trusted, ff.n > 1 ? xff : NULL, out, sizeof(out));
	if (!memchr(out, '\0', sizeof(out)))
		abort();
	if (strcmp(out, before) != 0) {
		unsigned char bin[sizeof(struct in6_addr)];
		if (!strstr(xff, out) ||
		    (inet_pton(AF_INET, out, bin) != 1 && inet_pton(AF_INET6, out, bin) != 1))
			abort();
	}
	(void)http_ip_listed(trusted, peer, strlen(peer));
	fuzz_fields_free(&ff);
	return 0;
}
