#include "http/client_ip.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

bool http_ip_listed(const char *list, const char *ip, size_t iplen)
{
	for (const char *p = list; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ", ");
		if (n && n == iplen && strncmp(p, ip, n) == 0)
			return true;
		p += n;
	}
	return false;
}

void http_forwarded_client(const char *trusted, const char *xff, char *out, size_t outlen)
{
	/* Behind a trusted load balancer the client is the rightmost address of
	 * X-Forwarded-For that is not itself one of the trusted proxies. */
	if (!trusted || !*trusted || !xff || !http_ip_listed(trusted, out, strlen(out)))
		return;
	for (size_t end = strlen(xff); end > 0;) {
		size_t start = end;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		size_t a = start, b = end;
		while (a < b && xff[a] == ' ')
			a++;
		while (b > a && xff[b - 1] == ' ')
			b--;
		char ip[INET6_ADDRSTRLEN];
		unsigned char bin[sizeof(struct in6_addr)];
		if (b - a == 0 || b - a >= sizeof(ip))
			return;
		memcpy(ip, xff + a, b - a);
		ip[b - a] = '\0';
		if (inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip, bin) != 1)
			return; /* not an address: keep the peer */
		if (!http_ip_listed(trusted, ip, strlen(ip))) {
			snprintf(out, outlen, "%s", ip);
			return;
		}
		end = start > 0 ? start - 1 : 0;
	}
}
