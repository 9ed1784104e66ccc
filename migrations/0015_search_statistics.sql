-- Statistics that know the catalog's words (docs/CATALOG.md "Search"). With
-- the default target (100) ANALYZE keeps the ~1,000 most common lexemes of
-- search_doc; in a catalog whose descriptions use a few thousand common
-- words, the least common of those is in about 1% of the movies, and a word
-- it does not know (a person's name, a rare title word) is estimated at
-- half that: 0.5% of the catalog. A search for a rare name then walked the
-- popularity index expecting a match every 200 rows, and read all of a
-- million titles (8 s). With 10,000 lexemes kept, an unknown word is
-- estimated at a few rows, and the common ones at their real frequency.
ALTER TABLE movies ALTER COLUMN search_doc SET STATISTICS 1000,
	ALTER COLUMN title_doc SET STATISTICS 1000;
ANALYZE movies;
