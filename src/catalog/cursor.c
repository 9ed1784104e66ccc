#include "catalog/cursor.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VARIANT	 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define ID_MAX	 999999999999999999LL
#define JSON_MAX 3000 /* [sort, tier, value, id]: value up to 1,299 bytes, escaped */
#define TEXT_MAX 4000

bool movie_cursor_make(const char *sort, int tier, const char *value, long long id, char *out,
		       size_t outlen)
{
	json_t *j = json_pack("[s,i,s,I]", sort, tier, value, (json_int_t)id);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	size_t len = s ? strlen(s) : 0;
	bool ok = s && sodium_base64_encoded_len(len, VARIANT) <= outlen;
	if (ok)
		sodium_bin2base64(out, outlen, (const unsigned char *)s, len, VARIANT);
	else if (outlen)
		out[0] = '\0';
	free(s);
	json_decref(j);
	return ok;
}

/* "2026-12-05T12:00:00.123456Z", a real instant (no 31 February, and no
 * year 0000: PostgreSQL has no year zero and refuses it, which would fail
 * the statement instead of answering 422). */
static bool timestamp_valid(const char *v)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
	if (strlen(v) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)v[i]) : v[i] != shape[i])
			return false;
	if (atoi(v) < 1)
		return false;
	struct tm tm = {0};
	tm.tm_year = atoi(v) - 1900;
	tm.tm_mon = atoi(v + 5) - 1;
	tm.tm_mday = atoi(v + 8);
	tm.tm_hour = atoi(v + 11);
	tm.tm_min = atoi(v + 14);
	tm.tm_sec = atoi(v + 17);
	/* timegm normalises a day or time that does not exist into another
	 * one. Its result is not checked: -1 is also 1969-12-31T23:59:59Z, and
	 * four-digit years never overflow a time_t of 64 bits. */
	struct tm back = tm;
	(void)timegm(&back);
	return back.tm_mday == tm.tm_mday && back.tm_mon == tm.tm_mon &&
	       back.tm_hour == tm.tm_hour && back.tm_min == tm.tm_min && back.tm_sec == tm.tm_sec;
}

/* Checks v for type and writes it, normalised, into out. */
static bool value_read(const char *v, const char *type, char *out, size_t outlen)
{
	char *end;
	bool ts = strcmp(type, "timestamptz") == 0;
	if (ts || strcmp(type, "text") == 0) {
		if (strlen(v) >= outlen || (ts && !timestamp_valid(v)))
			return false;
		memcpy(out, v, strlen(v) + 1);
		return true;
	}
	if (strcmp(type, "int") == 0) {
		long long n = strtoll(v, &end, 10);
		if (!isdigit((unsigned char)v[v[0] == '-']) || *end || n < -2147483648LL ||
		    n > 2147483647LL)
			return false;
		snprintf(out, outlen, "%lld", n);
		return true;
	}
	if (strcmp(type, "numeric") == 0) { /* price: digits, optionally . and 1-2 digits */
		size_t i = 0, digits = 0, frac = 0;
		while (isdigit((unsigned char)v[i]))
			i++, digits++;
		if (v[i] == '.')
			for (i++; isdigit((unsigned char)v[i]); i++)
				frac++;
		if (v[i] || digits < 1 || digits > 8 || frac > 2 || strlen(v) >= outlen)
			return false;
		memcpy(out, v, strlen(v) + 1);
		return true;
	}
	/* float8: PostgreSQL's own text, or +/-Infinity (unrated, by rating) */
	if (strcmp(v, "Infinity") == 0 || strcmp(v, "-Infinity") == 0) {
		snprintf(out, outlen, "%s", v);
		return true;
	}
	double d = strtod(v, &end);
	if (end == v || *end || !isfinite(d) || !(isdigit((unsigned char)v[0]) || v[0] == '-'))
		return false;
	snprintf(out, outlen, "%.17g", d);
	return true;
}

bool movie_cursor_read(const char *text, const char *sort, const char *type,
		       struct movie_cursor *out, const char **why)
{
	unsigned char bin[JSON_MAX + 1];
	size_t len = 0;
	json_t *j = NULL;
	const char *s = NULL, *v = NULL;
	int tier = 0;
	json_int_t id = 0;
	bool ok = false;

	*why = "is not a cursor of this list: use next_page or next_cursor as given";
	if (strlen(text) > TEXT_MAX ||
	    sodium_base642bin(bin, JSON_MAX, text, strlen(text), NULL, &len, NULL, VARIANT) != 0)
		goto out;
	j = json_loadb((const char *)bin, len, JSON_REJECT_DUPLICATES, NULL);
	if (!j || json_unpack(j, "[s,i,s,I]", &s, &tier, &v, &id) != 0 || json_array_size(j) != 4)
		goto out;
	if (strcmp(s, sort) != 0) {
		*why = "belongs to another sort: start again without cursor";
		goto out;
	}
	if (tier < 0 || tier > (*sort ? 0 : 1) || id < 1 || id > ID_MAX ||
	    !value_read(v, type, out->value, sizeof(out->value)))
		goto out;
	out->tier = tier;
	out->id = (long long)id;
	ok = true;
out:
	json_decref(j);
	return ok;
}
