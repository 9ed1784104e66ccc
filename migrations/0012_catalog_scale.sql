-- The catalog at a million titles (issue 15, docs/CATALOG.md "Lists at
-- scale"): what lets GET /movies answer from an index walk of one page, with
-- no sort of all matches and no scan to count them.
--
-- 1. Sort keys where the genre filter meets the sorts: movie_genres carries a
--    copy of each movie's filter and sort columns, with one index per sort,
--    so "genre=G&sort=K" walks (genre_id, K, movie_id) in order. A BEFORE
--    INSERT trigger fills the copy from movies; a trigger on movies keeps it
--    true when one of those columns changes (popularity and rating change
--    with every like or rating: one to three link rows follow).
-- 2. Unrated movies last in both directions, from an index: the rating sorts
--    order by coalesce(rating, +/-Infinity), each with its own index.
-- 3. Titles searched apart: title_doc holds the words of the title alone
--    (search_doc's weight-A part), with its own GIN index and statistics,
--    so that the planner knows how common a word is in titles, and the
--    relevance order (title matches first, then by popularity) walks
--    either the matches or the popularity index, whichever is cheaper.
-- 4. Counters: movie_counts holds how many movies have each (genre, year,
--    certification), genre_id 0 standing for "any genre", kept by
--    triggers in the same transaction as the change (statement-level for
--    inserts and deletes, so a bulk seed updates each counter once per
--    statement). Every count of a list whose filters are only genre, year
--    (exact or a range) and certification is a sum over at most a few
--    thousand of these rows, exact.

ALTER TABLE movie_genres
	ADD COLUMN year integer,
	ADD COLUMN certification_id bigint,
	ADD COLUMN name text,
	ADD COLUMN imdb double precision,
	ADD COLUMN votes integer,
	ADD COLUMN price numeric(10, 2),
	ADD COLUMN popularity double precision,
	ADD COLUMN rating double precision,
	ADD COLUMN created_at timestamptz;

UPDATE movie_genres g SET year = m.year, certification_id = m.certification_id,
	name = m.name, imdb = m.imdb, votes = m.votes, price = m.price,
	popularity = m.popularity, rating = m.rating, created_at = m.created_at
FROM movies m WHERE m.id = g.movie_id;

ALTER TABLE movie_genres
	ALTER COLUMN year SET NOT NULL,
	ALTER COLUMN certification_id SET NOT NULL,
	ALTER COLUMN name SET NOT NULL,
	ALTER COLUMN imdb SET NOT NULL,
	ALTER COLUMN votes SET NOT NULL,
	ALTER COLUMN price SET NOT NULL,
	ALTER COLUMN popularity SET NOT NULL,
	ALTER COLUMN created_at SET NOT NULL;

CREATE FUNCTION movie_genres_fill() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	SELECT m.year, m.certification_id, m.name, m.imdb, m.votes, m.price, m.popularity,
		m.rating, m.created_at
	INTO NEW.year, NEW.certification_id, NEW.name, NEW.imdb, NEW.votes, NEW.price,
		NEW.popularity, NEW.rating, NEW.created_at
	FROM movies m WHERE m.id = NEW.movie_id;
	RETURN NEW;
END
$$;
CREATE TRIGGER movie_genres_fill BEFORE INSERT ON movie_genres
	FOR EACH ROW EXECUTE FUNCTION movie_genres_fill();

CREATE FUNCTION movies_sync_genres() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE movie_genres SET year = NEW.year, certification_id = NEW.certification_id,
		name = NEW.name, imdb = NEW.imdb, votes = NEW.votes, price = NEW.price,
		popularity = NEW.popularity, rating = NEW.rating, created_at = NEW.created_at
	WHERE movie_id = NEW.id;
	RETURN NULL;
END
$$;
CREATE TRIGGER movies_sync_genres AFTER UPDATE ON movies
	FOR EACH ROW WHEN ((OLD.year, OLD.certification_id, OLD.name, OLD.imdb, OLD.votes,
		OLD.price, OLD.popularity, OLD.rating, OLD.created_at)
		IS DISTINCT FROM (NEW.year, NEW.certification_id, NEW.name, NEW.imdb, NEW.votes,
		NEW.price, NEW.popularity, NEW.rating, NEW.created_at))
	EXECUTE FUNCTION movies_sync_genres();

-- One index per sort (API.md), led by the genre; the rating sorts as on
-- movies below. (genre_id, popularity, movie_id) also serves what
-- movie_genres_genre_idx served: every lookup by genre.
DROP INDEX movie_genres_genre_idx;
CREATE INDEX movie_genres_popularity_idx ON movie_genres (genre_id, popularity, movie_id);
CREATE INDEX movie_genres_year_idx ON movie_genres (genre_id, year, movie_id);
CREATE INDEX movie_genres_imdb_idx ON movie_genres (genre_id, imdb, movie_id);
CREATE INDEX movie_genres_price_idx ON movie_genres (genre_id, price, movie_id);
CREATE INDEX movie_genres_votes_idx ON movie_genres (genre_id, votes, movie_id);
CREATE INDEX movie_genres_name_idx ON movie_genres (genre_id, name, movie_id);
CREATE INDEX movie_genres_created_at_idx ON movie_genres (genre_id, created_at, movie_id);
CREATE INDEX movie_genres_rating_asc_idx
	ON movie_genres (genre_id, coalesce(rating, 'Infinity'::double precision), movie_id);
CREATE INDEX movie_genres_rating_desc_idx
	ON movie_genres (genre_id, coalesce(rating, '-Infinity'::double precision), movie_id);

DROP INDEX movies_rating_idx;
CREATE INDEX movies_rating_asc_idx
	ON movies (coalesce(rating, 'Infinity'::double precision), id);
CREATE INDEX movies_rating_desc_idx
	ON movies (coalesce(rating, '-Infinity'::double precision), id);

ALTER TABLE movies ADD COLUMN title_doc tsvector
	GENERATED ALWAYS AS (to_tsvector('simple', name)) STORED;
CREATE INDEX movies_title_idx ON movies USING gin (title_doc);

-- Counters ------------------------------------------------------------------

CREATE TABLE movie_counts (
	genre_id bigint NOT NULL, -- 0: any genre (every movie once)
	year integer NOT NULL,
	certification_id bigint NOT NULL,
	n bigint NOT NULL,
	PRIMARY KEY (genre_id, year, certification_id)
);

INSERT INTO movie_counts (genre_id, year, certification_id, n)
SELECT 0, year, certification_id, count(*) FROM movies GROUP BY year, certification_id
UNION ALL
SELECT genre_id, year, certification_id, count(*) FROM movie_genres
GROUP BY genre_id, year, certification_id;

-- Adds delta to each (genre, year, certification) of the rows given; rows in
-- key order, so concurrent writers lock counters in one order.
CREATE FUNCTION movie_counts_add(p_rows jsonb) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO movie_counts AS c (genre_id, year, certification_id, n)
	SELECT (r->>0)::bigint, (r->>1)::integer, (r->>2)::bigint, (r->>3)::bigint
	FROM jsonb_array_elements(p_rows) AS r
	ORDER BY 1, 2, 3
	ON CONFLICT (genre_id, year, certification_id) DO UPDATE SET n = c.n + EXCLUDED.n
$$;

CREATE FUNCTION movies_count_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	sign integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
	IF TG_TABLE_NAME = 'movies' THEN
		IF TG_OP = 'INSERT' THEN
			PERFORM movie_counts_add(coalesce((SELECT jsonb_agg(jsonb_build_array(0, year,
				certification_id, k)) FROM (SELECT year, certification_id, count(*) AS k
				FROM new_rows GROUP BY 1, 2) s), '[]'));
		ELSE
			PERFORM movie_counts_add(coalesce((SELECT jsonb_agg(jsonb_build_array(0, year,
				certification_id, -k)) FROM (SELECT year, certification_id, count(*) AS k
				FROM old_rows GROUP BY 1, 2) s), '[]'));
		END IF;
	ELSIF TG_OP = 'INSERT' THEN
		PERFORM movie_counts_add(coalesce((SELECT jsonb_agg(jsonb_build_array(genre_id, year,
			certification_id, k)) FROM (SELECT genre_id, year, certification_id, count(*) AS k
			FROM new_rows GROUP BY 1, 2, 3) s), '[]'));
	ELSE
		PERFORM movie_counts_add(coalesce((SELECT jsonb_agg(jsonb_build_array(genre_id, year,
			certification_id, -k)) FROM (SELECT genre_id, year, certification_id, count(*) AS k
			FROM old_rows GROUP BY 1, 2, 3) s), '[]'));
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER movies_count_insert AFTER INSERT ON movies
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION movies_count_rows();
CREATE TRIGGER movies_count_delete AFTER DELETE ON movies
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION movies_count_rows();
CREATE TRIGGER movie_genres_count_insert AFTER INSERT ON movie_genres
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION movies_count_rows();
CREATE TRIGGER movie_genres_count_delete AFTER DELETE ON movie_genres
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION movies_count_rows();

-- A movie's year or certification changing moves it between counters (for
-- "any genre" here, and for its genres through movies_sync_genres below).
CREATE FUNCTION movies_count_move() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_TABLE_NAME = 'movies' THEN
		PERFORM movie_counts_add(jsonb_build_array(
			jsonb_build_array(0, OLD.year, OLD.certification_id, -1),
			jsonb_build_array(0, NEW.year, NEW.certification_id, 1)));
	ELSE
		PERFORM movie_counts_add(jsonb_build_array(
			jsonb_build_array(OLD.genre_id, OLD.year, OLD.certification_id, -1),
			jsonb_build_array(NEW.genre_id, NEW.year, NEW.certification_id, 1)));
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER movies_count_move AFTER UPDATE OF year, certification_id ON movies
	FOR EACH ROW WHEN ((OLD.year, OLD.certification_id)
		IS DISTINCT FROM (NEW.year, NEW.certification_id))
	EXECUTE FUNCTION movies_count_move();
CREATE TRIGGER movie_genres_count_move AFTER UPDATE ON movie_genres
	FOR EACH ROW WHEN ((OLD.genre_id, OLD.year, OLD.certification_id)
		IS DISTINCT FROM (NEW.genre_id, NEW.year, NEW.certification_id))
	EXECUTE FUNCTION movies_count_move();

-- TRUNCATE fires no row or statement trigger of the kinds above: without
-- these, an operator's TRUNCATE movies (CASCADE) or TRUNCATE movie_genres
-- would leave every counter counting rows that are gone.
CREATE FUNCTION movies_count_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_TABLE_NAME = 'movies' THEN
		DELETE FROM movie_counts WHERE genre_id = 0;
	ELSE
		DELETE FROM movie_counts WHERE genre_id <> 0;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER movies_count_truncate AFTER TRUNCATE ON movies
	FOR EACH STATEMENT EXECUTE FUNCTION movies_count_truncate();
CREATE TRIGGER movie_genres_count_truncate AFTER TRUNCATE ON movie_genres
	FOR EACH STATEMENT EXECUTE FUNCTION movies_count_truncate();
