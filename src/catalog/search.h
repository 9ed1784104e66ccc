/* Free-text search of the catalog: checking ?search= and turning it into
 * the input of PostgreSQL's to_tsquery('simple', ...). Pure functions, no
 * I/O; safe from any thread. */
#ifndef CINEMA_CATALOG_SEARCH_H
#define CINEMA_CATALOG_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#define SEARCH_MAX_CHARS 200
#define SEARCH_MAX_WORDS 8

/* The number of characters of s when it is valid UTF-8 (no overlong forms,
 * surrogates or code points past U+10FFFF), else -1. */
long search_utf8_length(const char *s);

/* Whether code point cp separates words: Unicode white space (all of Zs,
 * U+0085, U+2028, U+2029), controls, invisible format characters (U+200B
 * to U+200F, U+2060 to U+206F, U+FEFF), and the punctuation and symbols of
 * the ASCII, Latin-1, General Punctuation, Supplemental Punctuation, CJK
 * Symbols and Punctuation, CJK compatibility, small and fullwidth form
 * blocks. Any other character (letters, digits, combining marks, emoji,
 * other scripts' punctuation) belongs to a word. */
bool search_is_separator(unsigned long cp);

/* Turns s (valid UTF-8, as search_utf8_length checked) into
 * "'word':* & 'word':*" for to_tsquery('simple', ...): each word of s
 * (split as search_is_separator says) becomes one quoted prefix operand,
 * so nothing typed is query syntax and to_tsquery never refuses the text.
 * PostgreSQL's parser may split a quoted word further (on characters it
 * does not count as letters or digits, emoji for one); its pieces then
 * match as a phrase, and a word with none matches nothing.
 * At most SEARCH_MAX_WORDS words are kept; words that do not fit in out
 * (outlen bytes, at least 1) are dropped, and a word longer than the room
 * left is cut on a character boundary (a shorter prefix still matches).
 * Returns whether at least one word was written. */
bool search_to_tsquery(const char *s, char *out, size_t outlen);

/* ?search= parsed with web-search syntax (issue 15; openapi.yaml MovieSearch
 * says it for users):
 *   words            all must match; the last one a prefix ('casa':*), the
 *                    others whole words (only the word being typed is unfinished)
 *   "two words"      a phrase: the words in this order, next to each other,
 *                    each a whole word ('star' <-> 'wars'); an unclosed
 *                    quote runs to the end
 *   -word            must not match (a whole word: !'word'); only at the
 *                    start of a word, after white space or at the start
 *   a or b           either side (OR binds looser than AND, as in
 *                    PostgreSQL's websearch_to_tsquery: "a b or c" is
 *                    (a & b) | c); a leading/trailing/doubled "or" is a word
 * Words are split as search_to_tsquery splits them; at most SEARCH_MAX_WORDS
 * words count in all. With no positive operand (nothing, or only negated
 * words) there is no search: returns false. */
struct search_query {
	char tsq[640];	     /* to_tsquery('simple', ...) input of the whole query */
	char tsq_title[720]; /* the same, every positive operand restricted to the
				title (weight A: 'casa':*A); negations unchanged */
	char plain[SEARCH_MAX_CHARS * 4 + 1]; /* the positive words, lowercased
						 as typed, joined by single
						 spaces: trigram input */
};
bool search_parse(const char *s, struct search_query *out);

#endif
