/* Word lists of the generated catalog (`cinema-api seed --movies`, see
 * src/catalog/seed.c and docs/CATALOG.md "Generated catalogs"). Each is one
 * string of words separated by single spaces, in rank order: the generator
 * draws ranks Zipf-like, so earlier words are more frequent. */
#ifndef CATALOG_SEED_WORDS_H
#define CATALOG_SEED_WORDS_H

/* Descriptions: the words of the demo catalog's titles and descriptions
 * (data/movies.json) by frequency ("a", "the", "to", "and", "of", ...), then a
 * few common title words it lacks; about 2,350 words. */
extern const char catalog_seed_words[];

/* Titles: a hand-ranked head of common title words ("love", "night", "man",
 * "last", ...), then the words above without the function words, which the
 * title patterns add themselves ("The ...", "... of the ..."). */
extern const char catalog_seed_title_words[];

/* Generated people: first name x last name, about 93,000 pairs. */
extern const char catalog_seed_first_names[];
extern const char catalog_seed_last_names[];

#endif
