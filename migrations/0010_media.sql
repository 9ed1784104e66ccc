-- Media of a movie (issue 14, docs/MEDIA.md): a poster, a trailer and the
-- feature, stored in S3 under media/{movie_id}/{kind}/{token}; PostgreSQL
-- keeps what is linked, what is being uploaded and what is left to delete.
-- Bytes never pass through cinema-api: browsers upload to and play from S3
-- with URLs the API presigns.

CREATE TYPE media_kind AS ENUM ('poster', 'trailer', 'feature');

-- The media linked to a movie: at most one of each kind. Replacing one
-- updates the row (the old object goes to media_trash); deleting a movie
-- deletes its rows (and so queues their objects).
CREATE TABLE movie_media (
	movie_id bigint NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
	kind media_kind NOT NULL,
	object_key text NOT NULL,
	content_type text NOT NULL,
	size_bytes bigint NOT NULL CHECK (size_bytes > 0),
	duration_s double precision CHECK (duration_s IS NULL OR duration_s > 0),
	uploaded_by bigint REFERENCES users (id) ON DELETE SET NULL,
	uploaded_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (movie_id, kind),
	CONSTRAINT movie_media_object_key_key UNIQUE (object_key)
);

-- Uploads asked for and not yet confirmed or cancelled. s3_upload_id is S3's
-- UploadId of a multipart upload, NULL for a single presigned PUT. A row past
-- expires_at is abandoned: the scheduler deletes it, which queues its object
-- (and the multipart upload to abort) in media_trash.
CREATE TABLE media_uploads (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	movie_id bigint NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
	kind media_kind NOT NULL,
	object_key text NOT NULL,
	content_type text NOT NULL,
	size_bytes bigint NOT NULL CHECK (size_bytes > 0),
	duration_s double precision CHECK (duration_s IS NULL OR duration_s > 0),
	s3_upload_id text,
	part_size bigint CHECK (part_size IS NULL OR part_size > 0),
	created_by bigint REFERENCES users (id) ON DELETE SET NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	CONSTRAINT media_uploads_object_key_key UNIQUE (object_key)
);
CREATE INDEX media_uploads_expires_idx ON media_uploads (expires_at);
CREATE INDEX media_uploads_movie_idx ON media_uploads (movie_id);

-- S3 objects (and unfinished multipart uploads) to delete. Filled by the
-- triggers below in the same transaction as the change that orphans them, so
-- no object is forgotten; emptied by cinema-scheduler (docs/MEDIA.md).
CREATE TABLE media_trash (
	object_key text PRIMARY KEY,
	s3_upload_id text,
	queued_at timestamptz NOT NULL DEFAULT now(),
	attempts integer NOT NULL DEFAULT 0,
	last_error text
);

CREATE FUNCTION movie_media_changed() RETURNS trigger
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
		END IF;
	ELSE
		IF NEW.kind = 'poster' THEN
			UPDATE movies SET poster_key = NEW.object_key WHERE id = NEW.movie_id;
		ELSIF NEW.kind = 'trailer' THEN
			UPDATE movies SET trailer_key = NEW.object_key WHERE id = NEW.movie_id;
		END IF;
	END IF;
	RETURN NULL;
END;
$$;

ALTER TABLE movies ADD COLUMN poster_key text, ADD COLUMN trailer_key text;

CREATE TRIGGER movie_media_changed AFTER INSERT OR UPDATE OR DELETE ON movie_media
	FOR EACH ROW EXECUTE FUNCTION movie_media_changed();

-- An upload row that goes away without its object being linked (cancelled,
-- abandoned, refused at confirmation) queues the object and, for a
-- multipart upload, the upload to abort.
CREATE FUNCTION media_upload_gone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM movie_media WHERE object_key = OLD.object_key) THEN
		INSERT INTO media_trash (object_key, s3_upload_id)
		VALUES (OLD.object_key, OLD.s3_upload_id)
		ON CONFLICT (object_key) DO NOTHING;
	END IF;
	RETURN NULL;
END;
$$;

CREATE TRIGGER media_upload_gone AFTER DELETE ON media_uploads
	FOR EACH ROW EXECUTE FUNCTION media_upload_gone();

-- Where each viewer stopped in a film. finished: watched past 95 %.
CREATE TABLE watch_progress (
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	movie_id bigint NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
	position_s double precision NOT NULL CHECK (position_s >= 0),
	duration_s double precision NOT NULL CHECK (duration_s > 0),
	finished boolean GENERATED ALWAYS AS (position_s >= 0.95 * duration_s) STORED,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, movie_id)
);
CREATE INDEX watch_progress_unfinished_idx ON watch_progress (user_id, updated_at DESC)
	WHERE NOT finished;
CREATE INDEX watch_progress_movie_idx ON watch_progress (movie_id);
