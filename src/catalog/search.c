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

/* ---- web-search syntax (search_parse) ---- */

/* Quotes that open or close a phrase: the ASCII one and the curly ones
 * phone keyboards type for it (U+201C, U+201D, U+201E). All are
 * separators, so a word always ends before one. */
static bool is_quote(unsigned long cp)
{
	return cp == '"' || cp == 0x201C || cp == 0x201D || cp == 0x201E;
}

/* White space for the "-word" rule: controls, Unicode white space and the
 * invisible spaces of search_is_separator. */
static bool is_space(unsigned long cp)
{
	return cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0x1680 || cp == 0x180E ||
	       (cp >= 0x2000 && cp <= 0x200B) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
	       cp == 0x205F || cp == 0x2060 || cp == 0x3000 || cp == 0xFEFF;
}

/* The character at p, its length in *len (an invalid byte is a one-byte
 * U+FFFD, a separator). */
static unsigned long char_at(const char *p, size_t *len)
{
	unsigned long cp;
	*len = utf8_decode((const unsigned char *)p, &cp);
	if (*len == 0) {
		*len = 1;
		cp = 0xFFFD;
	}
	return cp;
}

/* One operand as typed: a word, or a phrase (the text after its opening
 * quote; its words are read again with phrase_word). */
struct token {
	const char *p;
	bool phrase, neg, is_or;
};

/* The next word of the phrase at *p, in *w and *wlen, moving *p past it;
 * false at the closing quote or the end. */
static bool phrase_word(const char **p, const char **w, size_t *wlen)
{
	for (;;) {
		size_t len;
		if (!**p)
			return false;
		unsigned long cp = char_at(*p, &len);
		if (is_quote(cp))
			return false;
		if (!search_is_separator(cp))
			break;
		*p += len;
	}
	*w = *p;
	*wlen = word_len(*p);
	*p += *wlen;
	return true;
}

/* Splits s into at most max tokens; returns how many. Empty phrases make
 * no token. */
static int tokenize(const char *s, struct token *tok, int max)
{
	int n = 0;
	bool after_space = true, neg = false;
	while (*s && n < max) {
		size_t len;
		unsigned long cp = char_at(s, &len);
		if (is_quote(cp)) {
			const char *q = s + len, *w;
			size_t wlen;
			bool any = false;
			while (phrase_word(&q, &w, &wlen))
				any = true;
			if (any)
				tok[n++] = (struct token){s + len, true, neg, false};
			if (*q) { /* past the closing quote */
				char_at(q, &len);
				q += len;
			}
			s = q;
			after_space = false;
			neg = false;
			continue;
		}
		if (cp == '-' && after_space) {
			/* a dash right before a word or a quote negates it */
			size_t next_len;
			unsigned long next = char_at(s + 1, &next_len);
			if (is_quote(next) || !search_is_separator(next)) {
				neg = true;
				s++;
				continue;
			}
		}
		if (search_is_separator(cp)) {
			after_space = is_space(cp);
			s += len;
			continue;
		}
		size_t wlen = word_len(s);
		bool is_or = !neg && wlen == 2 && (s[0] | 0x20) == 'o' && (s[1] | 0x20) == 'r';
		tok[n++] = (struct token){s, false, neg, is_or};
		s += wlen;
		after_space = false;
		neg = false;
	}
	return n;
}

/* Bytes of tsquery syntax around the words, at most, per word: two
 * quotes, ":*A", " <-> " to the next word, "!(" and ")" around a negated
 * phrase, "(" and ")" around an OR group. Words take what is left. */
#define SYNTAX_PER_WORD (2 + 3 + 5 + 3 + 2)
#define TEXT_BUDGET \
	(sizeof(((struct search_query *)0)->tsq) - 1 - SEARCH_MAX_WORDS * SYNTAX_PER_WORD)
_Static_assert(sizeof(((struct search_query *)0)->tsq) > SEARCH_MAX_WORDS * SYNTAX_PER_WORD + 1,
	       "tsq has room for some text");
_Static_assert(sizeof(((struct search_query *)0)->tsq_title) >=
		       sizeof(((struct search_query *)0)->tsq),
	       "tsq_title is the longer of the two");
_Static_assert(sizeof(((struct search_query *)0)->plain) >= SEARCH_MAX_CHARS * 4 + 1,
	       "plain holds any text of SEARCH_MAX_CHARS characters");

/* At most this many tokens matter: SEARCH_MAX_WORDS operands and an OR
 * between each two, and one more to see whether the last "or" has
 * anything after it. */
#define MAX_TOKENS (2 * SEARCH_MAX_WORDS + 2)

struct operand {
	bool neg, phrase;
	int group;
	int first, n; /* its words in parsed.word */
};

struct parsed {
	struct operand op[SEARCH_MAX_WORDS];
	int nop, ngroups;
	struct {
		const char *p;
		size_t len;  /* as typed */
		size_t take; /* bytes written to the tsquery, 0 when dropped */
	} word[SEARCH_MAX_WORDS];
	int nword;
};

/* Turns tokens into operands in OR groups, at most SEARCH_MAX_WORDS words
 * in all. An "or" is an operator between two operands, else a word. */
static void resolve(const struct token *tok, int ntok, struct parsed *q)
{
	bool after_or = false;
	for (int i = 0; i < ntok && q->nword < SEARCH_MAX_WORDS; i++) {
		if (tok[i].is_or && i > 0 && !after_or && i + 1 < ntok) {
			q->ngroups++;
			after_or = true;
			continue;
		}
		after_or = false;
		struct operand *op = &q->op[q->nop++];
		*op = (struct operand){tok[i].neg, tok[i].phrase, q->ngroups, q->nword, 0};
		const char *p = tok[i].p, *w;
		size_t wlen;
		if (!tok[i].phrase) {
			w = p;
			wlen = word_len(p);
		} else if (!phrase_word(&p, &w, &wlen)) {
			continue; /* never: tokenize made no token */
		}
		do {
			q->word[q->nword].p = w;
			q->word[q->nword].len = wlen;
			q->word[q->nword].take = 0;
			q->nword++;
			op->n++;
		} while (tok[i].phrase && q->nword < SEARCH_MAX_WORDS &&
			 phrase_word(&p, &w, &wlen));
	}
	q->ngroups++;
}

/* Shares TEXT_BUDGET bytes among the words: the positive ones first, in
 * order, a word longer than what is left cut on a character boundary
 * (nothing after a cut word); then each negation whole, or not at all (a
 * shorter word would exclude more than was asked). */
static void fit(struct parsed *q)
{
	size_t left = TEXT_BUDGET;
	for (int o = 0; o < q->nop; o++) {
		if (q->op[o].neg)
			continue;
		for (int k = q->op[o].first; k < q->op[o].first + q->op[o].n; k++) {
			size_t take = q->word[k].len < left ? q->word[k].len : left;
			while (take > 0 && take < q->word[k].len &&
			       ((unsigned char)q->word[k].p[take] & 0xC0) == 0x80)
				take--; /* never split a character */
			q->word[k].take = take;
			left = take < q->word[k].len ? 0 : left - take;
		}
	}
	for (int o = 0; o < q->nop; o++) {
		size_t need = 0;
		int first = q->op[o].first, end = first + q->op[o].n;
		if (!q->op[o].neg)
			continue;
		for (int k = first; k < end; k++)
			need += q->word[k].len;
		if (need > left)
			continue;
		for (int k = first; k < end; k++)
			q->word[k].take = q->word[k].len;
		left -= need;
	}
}

/* The number of words of op kept by fit (always a leading run). */
static int kept_words(const struct parsed *q, const struct operand *op)
{
	int n = 0;
	while (n < op->n && q->word[op->first + n].take > 0)
		n++;
	return n;
}

/* Whether group g keeps a positive operand (else it is left out: every
 * branch of an OR must need a positive match, for the index). */
static bool group_kept(const struct parsed *q, int g)
{
	for (int o = 0; o < q->nop; o++)
		if (q->op[o].group == g && !q->op[o].neg && kept_words(q, &q->op[o]) > 0)
			return true;
	return false;
}

/* A bounded string: writes stop (and over is set) rather than overflow. */
struct sbuf {
	char *b;
	size_t n, cap;
	bool over;
};

static void put(struct sbuf *s, const char *text, size_t len)
{
	if (s->over || len >= s->cap - s->n) {
		s->over = true;
		return;
	}
	memcpy(s->b + s->n, text, len);
	s->n += len;
	s->b[s->n] = '\0';
}

static void puts_(struct sbuf *s, const char *text)
{
	put(s, text, strlen(text));
}

/* Writes the tsquery of q; title restricts positive operands to weight A. */
static void emit(const struct parsed *q, bool title, struct sbuf *s)
{
	int groups = 0;
	for (int g = 0; g < q->ngroups; g++)
		groups += group_kept(q, g);
	bool first_group = true;
	/* Only the last word typed is a prefix (it may be half typed); the
	 * words before it are whole: a prefix of a common word ('the':*)
	 * makes the index read every word that starts so. */
	int last = -1;
	for (int o = 0; o < q->nop; o++)
		if (!q->op[o].neg && !q->op[o].phrase && group_kept(q, q->op[o].group) &&
		    kept_words(q, &q->op[o]) > 0)
			last = o;
	for (int g = 0; g < q->ngroups; g++) {
		if (!group_kept(q, g))
			continue;
		int ops = 0;
		for (int o = 0; o < q->nop; o++)
			ops += q->op[o].group == g && kept_words(q, &q->op[o]) > 0;
		bool paren = groups > 1 && ops > 1, first_op = true;
		puts_(s, first_group ? "" : " | ");
		puts_(s, paren ? "(" : "");
		for (int o = 0; o < q->nop; o++) {
			const struct operand *op = &q->op[o];
			int n = kept_words(q, op);
			if (op->group != g || n == 0)
				continue;
			puts_(s, first_op ? "" : " & ");
			puts_(s, op->neg ? (n > 1 ? "!(" : "!") : "");
			for (int k = op->first; k < op->first + n; k++) {
				bool prefix = (!op->phrase && !op->neg && o == last) ||
					      q->word[k].take < q->word[k].len;
				puts_(s, k > op->first ? " <-> '" : "'");
				put(s, q->word[k].p, q->word[k].take);
				puts_(s, op->neg  ? "'"
					 : title  ? (prefix ? "':*A" : "':A")
					 : prefix ? "':*"
						  : "'");
			}
			puts_(s, op->neg && n > 1 ? ")" : "");
			first_op = false;
		}
		puts_(s, paren ? ")" : "");
		first_group = false;
	}
}

/* Writes the positive words kept, lowercased (ASCII), joined by spaces. */
static void emit_plain(const struct parsed *q, struct sbuf *s)
{
	for (int o = 0; o < q->nop; o++) {
		const struct operand *op = &q->op[o];
		if (op->neg || !group_kept(q, op->group))
			continue;
		for (int k = op->first; k < op->first + kept_words(q, op); k++) {
			size_t len = q->word[k].len;
			if (s->n > 0)
				put(s, " ", 1);
			if (len >= s->cap - s->n) { /* only past SEARCH_MAX_CHARS */
				len = s->cap - s->n - 1;
				while (len > 0 && ((unsigned char)q->word[k].p[len] & 0xC0) == 0x80)
					len--;
			}
			size_t at = s->n;
			put(s, q->word[k].p, len);
			for (size_t i = at; i < s->n; i++)
				if (s->b[i] >= 'A' && s->b[i] <= 'Z')
					s->b[i] = (char)(s->b[i] | 0x20);
		}
	}
}

bool search_parse(const char *s, struct search_query *out)
{
	struct token tok[MAX_TOKENS];
	struct parsed q;
	memset(&q, 0, sizeof(q));
	resolve(tok, tokenize(s, tok, MAX_TOKENS), &q);
	fit(&q);
	struct sbuf tsq = {out->tsq, 0, sizeof(out->tsq), false};
	struct sbuf title = {out->tsq_title, 0, sizeof(out->tsq_title), false};
	struct sbuf plain = {out->plain, 0, sizeof(out->plain), false};
	out->tsq[0] = out->tsq_title[0] = out->plain[0] = '\0';
	emit(&q, false, &tsq);
	emit(&q, true, &title);
	emit_plain(&q, &plain);
	if (tsq.n == 0 || tsq.over || title.over) { /* over: never, as TEXT_BUDGET is sized */
		out->tsq[0] = out->tsq_title[0] = out->plain[0] = '\0';
		return false;
	}
	return true;
}
