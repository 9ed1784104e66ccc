-- GET /movies/{id} reads one row and copies pre-rendered JSON (issue 15,
-- docs/benchmarks.md "Catalog cold path (issue 15): detail"). Building the
-- MovieDetail object on every read cost PostgreSQL about twice a primary-key
-- select: 30 expressions set up and evaluated per execution, two timestamps
-- through to_char, a join with certifications and an EXISTS on movie_media.
-- The fields that change only when the movie, its links, a lookup name or its
-- media change are now rendered when they change, into two text columns:
--   detail_head  '{"id" : 1, ..., "directors" : [...]'          (no closing brace)
--   detail_tail  '"created_at" : "...", ..., "has_feature" : false'  (no braces)
-- The reader splices the live counters (likes to popularity) between them and
-- the caller's "me" after them (src/catalog/repo.c movies_get), so a reaction
-- or a rating never re-renders anything. Keys and values are exactly those of
-- the statement they replace (json_build_object, same expressions).

-- Whether a feature (the full movie) is uploaded, kept by movie_media_changed.
ALTER TABLE movies
	ADD COLUMN has_feature boolean NOT NULL DEFAULT false,
	ADD COLUMN detail_head text,
	ADD COLUMN detail_tail text;

UPDATE movies m SET has_feature = true
WHERE EXISTS (SELECT 1 FROM movie_media f WHERE f.movie_id = m.id AND f.kind = 'feature');

CREATE OR REPLACE FUNCTION movie_media_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') AND (TG_OP = 'DELETE' OR OLD.object_key <> NEW.object_key) THEN
		INSERT INTO media_trash (object_key) VALUES (OLD.object_key)
		ON CONFLICT (object_key) DO NOTHING;
	END IF;
	-- The public keys are copied onto movies so that a catalog page needs
	-- no join (a cascade from a deleted movie updates nothing).
	IF TG_OP = 'DELETE' THEN
		IF OLD.kind = 'poster' THEN
			UPDATE movies SET poster_key = NULL WHERE id = OLD.movie_id;
		ELSIF OLD.kind = 'trailer' THEN
			UPDATE movies SET trailer_key = NULL WHERE id = OLD.movie_id;
		ELSIF OLD.kind = 'feature' THEN
			UPDATE movies SET has_feature = false WHERE id = OLD.movie_id;
		END IF;
	ELSE
		IF NEW.kind = 'poster' THEN
			UPDATE movies SET poster_key = NEW.object_key WHERE id = NEW.movie_id;
		ELSIF NEW.kind = 'trailer' THEN
			UPDATE movies SET trailer_key = NEW.object_key WHERE id = NEW.movie_id;
		ELSIF NEW.kind = 'feature' THEN
			UPDATE movies SET has_feature = true WHERE id = NEW.movie_id AND NOT has_feature;
		END IF;
	END IF;
	RETURN NULL;
END;
$$;

-- The two parts, from a movies row and its certification's name. The
-- expressions are those of the former detail statement.
CREATE FUNCTION movies_detail_head(m movies, certification text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT left(json_build_object('id', m.id, 'uuid', m.uuid, 'name', m.name,
		'year', m.year, 'time', m.time, 'imdb', m.imdb, 'votes', m.votes,
		'meta_score', m.meta_score, 'gross', m.gross, 'description', m.description,
		'price', m.price::text,
		'certification', json_build_object('id', m.certification_id, 'name', certification),
		'genres', m.genres_json, 'stars', m.stars_json,
		'directors', m.directors_json)::text, -1)
$$;

CREATE FUNCTION movies_detail_tail(m movies) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT substr(t, 2, length(t) - 2) FROM (SELECT json_build_object(
		'created_at', to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
		'updated_at', to_char(m.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
		'poster_url', '/api/v1/' || m.poster_key,
		'trailer_url', '/api/v1/' || m.trailer_key,
		'has_feature', m.has_feature)::text AS t) x
$$;

CREATE FUNCTION movies_render_detail() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.detail_head := movies_detail_head(NEW,
		(SELECT c.name FROM certifications c WHERE c.id = NEW.certification_id));
	NEW.detail_tail := movies_detail_tail(NEW);
	RETURN NEW;
END
$$;

-- PostgreSQL fires the BEFORE triggers of a row in the order of their names:
-- this one is named to come last, after movies_popularity and
-- movies_set_updated_at, so that it renders the updated_at they set. The
-- column list holds every column the parts are made of (the counters are
-- not: they are read live). A column changed only by another trigger does
-- not fire it, which is why updated_at's own list is a subset of this one.
CREATE TRIGGER movies_zz_render_detail BEFORE INSERT OR UPDATE OF id, uuid, name, year, time,
	imdb, votes, meta_score, gross, description, price, certification_id, genres_json,
	stars_json, directors_json, created_at, updated_at, poster_key, trailer_key, has_feature,
	detail_head, detail_tail ON movies
	FOR EACH ROW EXECUTE FUNCTION movies_render_detail();

-- A renamed certification is rendered into its movies' heads (setting
-- detail_head fires movies_zz_render_detail, which reads the new name).
CREATE FUNCTION certifications_renamed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE movies SET detail_head = NULL WHERE certification_id = NEW.id;
	RETURN NULL;
END
$$;

CREATE TRIGGER certifications_renamed AFTER UPDATE OF name ON certifications
	FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
	EXECUTE FUNCTION certifications_renamed();

-- Renders every existing movie (the trigger fires on detail_head).
UPDATE movies SET detail_head = NULL;

ALTER TABLE movies ALTER COLUMN detail_head SET NOT NULL,
	ALTER COLUMN detail_tail SET NOT NULL;
