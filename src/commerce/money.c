#include "commerce/money.h"

#include <stdio.h>

bool money_parse(const char *s, long long *cents)
{
	long long units = 0;
	int digits = 0, frac = 0, frac_digits = -1;
	if (!s)
		return false;
	for (; *s; s++) {
		if (*s == '.' && frac_digits < 0 && digits > 0) {
			frac_digits = 0;
		} else if (*s >= '0' && *s <= '9') {
			if (frac_digits < 0) {
				if (++digits > 15)
					return false;
				units = units * 10 + (*s - '0');
			} else {
				if (++frac_digits > 2)
					return false;
				frac = frac * 10 + (*s - '0');
			}
		} else {
			return false;
		}
	}
	if (digits == 0 || frac_digits == 0)
		return false;
	if (frac_digits == 1)
		frac *= 10;
	*cents = units * 100 + frac;
	return true;
}

char *money_format(long long cents, char out[MONEY_TEXT_MAX])
{
	if (cents < 0)
		cents = 0;
	snprintf(out, MONEY_TEXT_MAX, "%lld.%02lld", cents / 100, cents % 100);
	return out;
}
