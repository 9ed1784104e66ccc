-- The genres, stars and directors of each movie as ready JSON arrays of
-- {"id", "name"} sorted by name, so that GET /movies and GET /movies/{id}
-- copy one column instead of joining three link tables and their lookup
-- tables on every read. They are derived data, rebuilt with search_doc by
-- movies_refresh_search() whenever a movie's links change, and by
-- movies_refresh_derived() after a lookup is renamed.
ALTER TABLE movies
	ADD COLUMN genres_json json NOT NULL DEFAULT '[]',
	ADD COLUMN stars_json json NOT NULL DEFAULT '[]',
	ADD COLUMN directors_json json NOT NULL DEFAULT '[]';

-- Rebuilds the derived columns (search document and the three lists) of the
-- given movies in one statement.
CREATE FUNCTION movies_refresh_derived(p_movies bigint[]) RETURNS void
LANGUAGE sql AS $$
	UPDATE movies m SET
		search_doc = setweight(to_tsvector('simple', m.name), 'A')
			|| setweight(to_tsvector('simple', coalesce(
				(SELECT string_agg(s->>'name', ' ') FROM json_array_elements(x.stars) s),
				'')), 'B')
			|| setweight(to_tsvector('simple', coalesce(
				(SELECT string_agg(d->>'name', ' ') FROM json_array_elements(x.directors) d),
				'')), 'B')
			|| setweight(to_tsvector('simple', m.description), 'C'),
		genres_json = x.genres, stars_json = x.stars, directors_json = x.directors
	FROM (SELECT id,
		coalesce((SELECT json_agg(json_build_object('id', g.id, 'name', g.name)
			ORDER BY g.name, g.id) FROM movie_genres l JOIN genres g ON g.id = l.genre_id
			WHERE l.movie_id = t.id), '[]') AS genres,
		coalesce((SELECT json_agg(json_build_object('id', s.id, 'name', s.name)
			ORDER BY s.name, s.id) FROM movie_stars l JOIN stars s ON s.id = l.star_id
			WHERE l.movie_id = t.id), '[]') AS stars,
		coalesce((SELECT json_agg(json_build_object('id', d.id, 'name', d.name)
			ORDER BY d.name, d.id) FROM movie_directors l
			JOIN directors d ON d.id = l.director_id WHERE l.movie_id = t.id), '[]')
			AS directors
		FROM unnest(p_movies) AS t(id)) x
	WHERE m.id = x.id
$$;

CREATE OR REPLACE FUNCTION movies_refresh_search(p_movie bigint) RETURNS void
LANGUAGE sql AS $$
	SELECT movies_refresh_derived(ARRAY[p_movie])
$$;

SELECT movies_refresh_derived(array(SELECT id FROM movies));
