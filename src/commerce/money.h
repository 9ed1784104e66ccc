/* Money as integer cents in C; NUMERIC(10,2) text ("9.99") at the edges
 * (PostgreSQL and JSON). Pure functions, thread-safe. */
#ifndef CINEMA_COMMERCE_MONEY_H
#define CINEMA_COMMERCE_MONEY_H

#include <stdbool.h>

#define MONEY_TEXT_MAX 24

/* Parses "12", "12.5" or "12.50" (no sign, at most two decimals, at most
 * 15 integer digits) into cents. False on anything else. */
bool money_parse(const char *s, long long *cents);
/* Writes cents (>= 0) as "12.50" into out (MONEY_TEXT_MAX bytes). Returns out. */
char *money_format(long long cents, char out[MONEY_TEXT_MAX]);

#endif
