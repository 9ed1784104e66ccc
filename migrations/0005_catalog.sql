-- The catalog (spec section 2): movies with their genres, stars, directors
-- and certification, and what users do with them: reactions, ratings,
-- favorites, comments with replies, comment likes, notifications.
--
-- Read speed comes first. Each movie row carries its counters (likes,
-- dislikes, ratings, favorites, comments) and its popularity, kept current
-- by triggers on the engagement tables, so listing and sorting never
-- aggregate. search_doc holds the words of the title (weight A), star and
-- director names (B) and description (C) for full-text search; the service
-- rebuilds it when a movie or one of its people changes.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE genres (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL,
	CONSTRAINT genres_name_key UNIQUE (name),
	CONSTRAINT genres_name_check CHECK (char_length(name) BETWEEN 1 AND 100)
);

CREATE TABLE stars (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL,
	CONSTRAINT stars_name_key UNIQUE (name),
	CONSTRAINT stars_name_check CHECK (char_length(name) BETWEEN 1 AND 200)
);

CREATE TABLE directors (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL,
	CONSTRAINT directors_name_key UNIQUE (name),
	CONSTRAINT directors_name_check CHECK (char_length(name) BETWEEN 1 AND 200)
);

CREATE TABLE certifications (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL,
	CONSTRAINT certifications_name_key UNIQUE (name),
	CONSTRAINT certifications_name_check CHECK (char_length(name) BETWEEN 1 AND 32)
);

CREATE TABLE movies (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	uuid uuid NOT NULL DEFAULT gen_random_uuid(),
	name text NOT NULL,
	year integer NOT NULL,
	time integer NOT NULL,
	imdb double precision NOT NULL,
	votes integer NOT NULL,
	meta_score double precision,
	gross double precision,
	description text NOT NULL,
	price numeric(10, 2) NOT NULL,
	certification_id bigint NOT NULL REFERENCES certifications (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	likes integer NOT NULL DEFAULT 0,
	dislikes integer NOT NULL DEFAULT 0,
	rating_sum integer NOT NULL DEFAULT 0,
	rating_count integer NOT NULL DEFAULT 0,
	favorites integer NOT NULL DEFAULT 0,
	comments integer NOT NULL DEFAULT 0,
	purchases integer NOT NULL DEFAULT 0,
	-- average of the site's 10-point ratings, NULL while unrated
	rating double precision GENERATED ALWAYS AS (CASE WHEN rating_count > 0
		THEN rating_sum::double precision / rating_count END) STORED,
	-- see movies_popularity() below
	popularity double precision NOT NULL DEFAULT 0,
	search_doc tsvector NOT NULL DEFAULT ''::tsvector,
	CONSTRAINT movies_uuid_key UNIQUE (uuid),
	CONSTRAINT movies_name_year_time_key UNIQUE (name, year, time),
	CONSTRAINT movies_name_check CHECK (char_length(name) BETWEEN 1 AND 300),
	CONSTRAINT movies_year_check CHECK (year BETWEEN 1888 AND 2100),
	CONSTRAINT movies_time_check CHECK (time BETWEEN 1 AND 1500),
	CONSTRAINT movies_imdb_check CHECK (imdb >= 0 AND imdb <= 10),
	CONSTRAINT movies_votes_check CHECK (votes >= 0),
	CONSTRAINT movies_meta_score_check CHECK (meta_score >= 0 AND meta_score <= 100),
	CONSTRAINT movies_gross_check CHECK (gross >= 0),
	CONSTRAINT movies_description_check CHECK (char_length(description) <= 10000),
	CONSTRAINT movies_price_check CHECK (price >= 0)
);

CREATE TRIGGER movies_set_updated_at BEFORE UPDATE OF name, year, time, imdb, votes,
	meta_score, gross, description, price, certification_id ON movies
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Filters and sorts of GET /movies; id breaks ties so pages are stable.
CREATE INDEX movies_year_idx ON movies (year, id);
CREATE INDEX movies_imdb_idx ON movies (imdb, id);
CREATE INDEX movies_price_idx ON movies (price, id);
CREATE INDEX movies_votes_idx ON movies (votes, id);
CREATE INDEX movies_popularity_idx ON movies (popularity, id);
CREATE INDEX movies_rating_idx ON movies (rating, id);
CREATE INDEX movies_created_at_idx ON movies (created_at, id);
CREATE INDEX movies_name_idx ON movies (name, id);
CREATE INDEX movies_certification_idx ON movies (certification_id);
CREATE INDEX movies_search_idx ON movies USING gin (search_doc);
CREATE INDEX movies_name_trgm_idx ON movies USING gin (name gin_trgm_ops);

CREATE TABLE movie_genres (
	movie_id bigint NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
	genre_id bigint NOT NULL REFERENCES genres (id),
	PRIMARY KEY (movie_id, genre_id)
);
CREATE INDEX movie_genres_genre_idx ON movie_genres (genre_id, movie_id);

CREATE TABLE movie_directors (
	movie_id bigint NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
	director_id bigint NOT NULL REFERENCES directors (id),
	PRIMARY KEY (movie_id, director_id)
);
CREATE INDEX movie_directors_director_idx ON movie_directors (director_id, movie_id);

CREATE TABLE movie_stars (
	movie_id bigint NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
	star_id bigint NOT NULL REFERENCES stars (id),
	PRIMARY KEY (movie_id, star_id)
);
CREATE INDEX movie_stars_star_idx ON movie_stars (star_id, movie_id);

-- Engagement ---------------------------------------------------------------

CREATE TYPE movie_reaction AS ENUM ('like', 'dislike');

CREATE TABLE movie_reactions (
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	movie_id bigint NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
	reaction movie_reaction NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, movie_id)
);
CREATE INDEX movie_reactions_movie_idx ON movie_reactions (movie_id);

CREATE TABLE movie_ratings (
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	movie_id bigint NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
	score smallint NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, movie_id),
	CONSTRAINT movie_ratings_score_check CHECK (score BETWEEN 1 AND 10)
);
CREATE INDEX movie_ratings_movie_idx ON movie_ratings (movie_id);

CREATE TABLE favorites (
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	movie_id bigint NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, movie_id)
);
CREATE INDEX favorites_movie_idx ON favorites (movie_id);

CREATE TABLE comments (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	movie_id bigint NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	parent_id bigint REFERENCES comments (id) ON DELETE CASCADE,
	text text NOT NULL,
	likes integer NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT comments_text_check CHECK (char_length(text) BETWEEN 1 AND 5000)
);
CREATE INDEX comments_movie_idx ON comments (movie_id, created_at, id);
CREATE INDEX comments_parent_idx ON comments (parent_id);

CREATE TABLE comment_likes (
	comment_id bigint NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (comment_id, user_id)
);

CREATE TYPE notification_kind AS ENUM ('comment_reply', 'comment_like');

CREATE TABLE notifications (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind notification_kind NOT NULL,
	actor_id bigint REFERENCES users (id) ON DELETE SET NULL,
	movie_id bigint NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
	comment_id bigint REFERENCES comments (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	read_at timestamptz
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

-- Counters and popularity ---------------------------------------------------

-- Popularity, from the site's own signals (documented in docs/CATALOG.md):
--   3 x favorites + 2 x likes - dislikes + ratings x (average - 5) / 2
--   + comments + 5 x purchases
CREATE FUNCTION movies_popularity(m movies) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
	SELECT 3.0 * m.favorites + 2.0 * m.likes - m.dislikes
		+ CASE WHEN m.rating_count > 0
			THEN m.rating_count * (m.rating_sum::double precision / m.rating_count - 5) / 2
			ELSE 0 END
		+ m.comments + 5.0 * m.purchases
$$;

CREATE FUNCTION movies_set_popularity() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.popularity := movies_popularity(NEW);
	RETURN NEW;
END
$$;

CREATE TRIGGER movies_popularity BEFORE INSERT OR UPDATE OF likes, dislikes, rating_sum,
	rating_count, favorites, comments, purchases ON movies
	FOR EACH ROW EXECUTE FUNCTION movies_set_popularity();

-- Adds delta to one counter column of a movie.
CREATE FUNCTION movies_bump(p_movie bigint, p_column text, p_delta integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('UPDATE movies SET %I = %I + $1 WHERE id = $2', p_column, p_column)
		USING p_delta, p_movie;
END
$$;

CREATE FUNCTION movie_reactions_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		PERFORM movies_bump(OLD.movie_id, CASE OLD.reaction WHEN 'like' THEN 'likes'
			ELSE 'dislikes' END, -1);
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		PERFORM movies_bump(NEW.movie_id, CASE NEW.reaction WHEN 'like' THEN 'likes'
			ELSE 'dislikes' END, 1);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER movie_reactions_count AFTER INSERT OR UPDATE OR DELETE ON movie_reactions
	FOR EACH ROW EXECUTE FUNCTION movie_reactions_count();

CREATE FUNCTION movie_ratings_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		UPDATE movies SET rating_sum = rating_sum - OLD.score, rating_count = rating_count - 1
		WHERE id = OLD.movie_id;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		UPDATE movies SET rating_sum = rating_sum + NEW.score, rating_count = rating_count + 1
		WHERE id = NEW.movie_id;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER movie_ratings_count AFTER INSERT OR UPDATE OR DELETE ON movie_ratings
	FOR EACH ROW EXECUTE FUNCTION movie_ratings_count();

CREATE FUNCTION favorites_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM movies_bump(NEW.movie_id, 'favorites', 1);
	ELSE
		PERFORM movies_bump(OLD.movie_id, 'favorites', -1);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER favorites_count AFTER INSERT OR DELETE ON favorites
	FOR EACH ROW EXECUTE FUNCTION favorites_count();

CREATE FUNCTION comments_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM movies_bump(NEW.movie_id, 'comments', 1);
	ELSE
		PERFORM movies_bump(OLD.movie_id, 'comments', -1);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER comments_count AFTER INSERT OR DELETE ON comments
	FOR EACH ROW EXECUTE FUNCTION comments_count();

CREATE FUNCTION comment_likes_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		UPDATE comments SET likes = likes + 1 WHERE id = NEW.comment_id;
	ELSE
		UPDATE comments SET likes = likes - 1 WHERE id = OLD.comment_id;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER comment_likes_count AFTER INSERT OR DELETE ON comment_likes
	FOR EACH ROW EXECUTE FUNCTION comment_likes_count();

-- Search document of one movie, from its row and its people.
CREATE FUNCTION movies_refresh_search(p_movie bigint) RETURNS void
LANGUAGE sql AS $$
	UPDATE movies m SET search_doc =
		setweight(to_tsvector('simple', m.name), 'A')
		|| setweight(to_tsvector('simple', coalesce((SELECT string_agg(s.name, ' ')
			FROM movie_stars ms JOIN stars s ON s.id = ms.star_id
			WHERE ms.movie_id = m.id), '')), 'B')
		|| setweight(to_tsvector('simple', coalesce((SELECT string_agg(d.name, ' ')
			FROM movie_directors md JOIN directors d ON d.id = md.director_id
			WHERE md.movie_id = m.id), '')), 'B')
		|| setweight(to_tsvector('simple', m.description), 'C')
	WHERE m.id = p_movie
$$;
