/* TEMPORARY (lead): search_parse on top of search_to_tsquery until the
 * web-search parser lands. */
#include <ctype.h>
#include <string.h>

#include "catalog/search.h"

bool search_parse(const char *s, struct search_query *out)
{
	if (!search_to_tsquery(s, out->tsq, 512))
		return false;
	size_t o = 0;
	for (const char *p = out->tsq; *p && o + 2 < sizeof(out->tsq_title); p++) {
		out->tsq_title[o++] = *p;
		if (p[0] == '*' && p > out->tsq && p[-1] == ':')
			out->tsq_title[o++] = 'A';
	}
	out->tsq_title[o] = '\0';
	o = 0;
	for (const char *p = out->tsq; *p; p++) {
		if (*p == '\'' || *p == ':' || *p == '*' || *p == '&')
			continue;
		if (*p == ' ' && (o == 0 || out->plain[o - 1] == ' '))
			continue;
		out->plain[o++] = (char)tolower((unsigned char)*p);
	}
	while (o && out->plain[o - 1] == ' ')
		o--;
	out->plain[o] = '\0';
	return true;
}
