-- A single year is the most common year filter, and the default order is
-- by popularity: without this index such a list walks the popularity index
-- past every other year's movies (about 50 rows read per match at a
-- million titles; docs/benchmarks.md "Catalog cold path").
CREATE INDEX movies_year_popularity_idx ON movies (year, popularity, id);
