/* Free-text search: word splitting and to_tsquery input (search.h). */
#include "catalog/search.h"

#include <string.h>

/* Decodes the character at p (not at the terminating NUL) into *cp and
 * returns its length in bytes, or 0 when p does not start a valid UTF-8
 * sequence (overlong forms, surrogates and code points past U+10FFFF
 * are invalid). */
static size_t utf8_decode(const unsigned char *p, unsigned long *cp)
{
	unsigned c = p[0];
	size_t extra = c < 0x80			? 0
		       : c >= 0xC2 && c <= 0xDF ? 1
		       : (c & 0xF0) == 0xE0	? 2
		       : c >= 0xF0 && c <= 0xF4 ? 3
						: 4;
	if (extra == 4)
		return 0;
	unsigned long v = extra == 0 ? c : c & (0x3Fu >> extra);
	for (size_t i = 1; i <= extra; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0; /* also stops at the NUL */
		v = (v << 6) | (p[i] & 0x3Fu);
	}
	if ((extra == 2 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
	    (extra == 3 && (v < 0x10000 || v > 0x10FFFF)))
		return 0;
	*cp = v;
	return extra + 1;
}

long search_utf8_length(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;
	unsigned long cp;
	while (*p) {
		size_t len = utf8_decode(p, &cp);
		if (len == 0)
			return -1;
		p += len;
		n++;
	}
	return n;
}

/* The separators of search_is_separator, sorted, inclusive ranges. Every
 * code point here is white space, a control, a format character,
 * punctuation or a symbol; all of Unicode's white space is here. */
static const struct {
	unsigned long lo, hi;
} separators[] = {
	{0x0000, 0x002F}, /* controls, space, !"#$%&'()*+,-./ */
	{0x003A, 0x0040}, /* :;<=>?@ */
	{0x005B, 0x0060}, /* [\]^_` */
	{0x007B, 0x00A9}, /* {|}~, controls (U+0085), NBSP, ¡ to © */
	{0x00AB, 0x00B1}, /* « to ± (not ª) */
	{0x00B4, 0x00B4}, /* ´ (not ² ³) */
	{0x00B6, 0x00B8}, /* ¶ · ¸ (not µ) */
	{0x00BB, 0x00BB}, /* » (not ¹ º) */
	{0x00BF, 0x00BF}, /* ¿ (not ¼ ½ ¾) */
	{0x00D7, 0x00D7}, /* × */
	{0x00F7, 0x00F7}, /* ÷ */
	{0x1680, 0x1680}, /* Ogham space mark */
	{0x180E, 0x180E}, /* Mongolian vowel separator */
	{0x2000, 0x206F}, /* General Punctuation: spaces, U+200B to U+200F, dashes, quotes,
			     U+2028, U+2029, U+202F, U+205F, word joiner, invisible operators */
	{0x2E00, 0x2E2E}, /* Supplemental Punctuation (not U+2E2F, a letter) */
	{0x2E30, 0x2E7F}, {0x3000, 0x3004}, /* ideographic space, 、。〃〄 */
	{0x3008, 0x3020},		    /* CJK brackets and marks */
	{0x3030, 0x3030},		    /* 〰 */
	{0x303D, 0x303F}, {0x30FB, 0x30FB}, /* katakana middle dot */
	{0xFE10, 0xFE19},		    /* vertical forms */
	{0xFE30, 0xFE6B},		    /* CJK compatibility and small forms */
	{0xFEFF, 0xFEFF},		    /* zero width no-break space (BOM) */
	{0xFF01, 0xFF0F},		    /* fullwidth ASCII punctuation */
	{0xFF1A, 0xFF20}, {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65}, /* and halfwidth CJK punctuation */
	{0xFFE0, 0xFFEE},				      /* fullwidth and halfwidth symbols */
	{0xFFF9, 0xFFFD}, /* interlinear annotation, object and replacement characters */
};

bool search_is_separator(unsigned long cp)
{
	size_t lo = 0, hi = sizeof(separators) / sizeof(separators[0]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < separators[mid].lo)
			hi = mid;
		else if (cp > separators[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* The length in bytes of the character at p when it separates words (an
 * invalid sequence counts as a one-byte separator), else 0. */
static size_t separator_len(const char *p)
{
	unsigned long cp;
	size_t len = utf8_decode((const unsigned char *)p, &cp);
	if (len == 0)
		return 1;
	return search_is_separator(cp) ? len : 0;
}

/* The length in bytes of the word starting at p: up to the next separator
 * or the end. */
static size_t word_len(const char *p)
{
	size_t n = 0;
	unsigned long cp;
	while (p[n]) {
		size_t len = utf8_decode((const unsigned char *)p + n, &cp);
		if (len == 0 || search_is_separator(cp))
			break;
		n += len;
	}
	return n;
}

/* Words never hold a quote or a backslash (both are separators), the only
 * characters with a meaning inside a quoted tsquery operand, so each is
 * written between quotes as it is. */
bool search_to_tsquery(const char *s, char *out, size_t outlen)
{
	size_t o = 0;
	int words = 0;
	out[0] = '\0';
	while (*s && words < SEARCH_MAX_WORDS) {
		size_t skip;
		while (*s && (skip = separator_len(s)) > 0)
			s += skip;
		if (!*s)
			break;
		size_t len = word_len(s);
		size_t sep = words ? 3 : 0;
		/* room for the separator, two quotes, ":*" and the final NUL */
		size_t room = outlen > o + sep + 5 ? outlen - o - sep - 5 : 0;
		size_t take = len < room ? len : room;
		while (take > 0 && ((unsigned char)s[take] & 0xC0) == 0x80)
			take--; /* never split a character */
		if (take == 0)
			break;
		memcpy(out + o, " & ", sep);
		o += sep;
		out[o++] = '\'';
		memcpy(out + o, s, take);
		o += take;
		memcpy(out + o, "':*", 4);
		o += 3;
		words++;
		s += len;
	}
	return words > 0;
}
