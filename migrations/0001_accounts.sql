-- Accounts: groups, users, profiles and the three kinds of tokens
-- (spec section 1). Applied by db_migrate inside one transaction.
--
-- Ids are bigint GENERATED ALWAYS AS IDENTITY (not serial): the sequence
-- belongs to the column and the database, not the client, assigns ids.
--
-- The token columns hold the SHA-256 of the token, as 64 lower-case hex
-- digits, never the token itself: a leaked table grants no access. The
-- client gets the token; the server hashes what it receives and looks the
-- hash up.

-- Keeps updated_at current on every UPDATE; later tables reuse it.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.updated_at := now();
	RETURN NEW;
END
$$;

CREATE TABLE user_groups (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL,
	CONSTRAINT user_groups_name_key UNIQUE (name),
	CONSTRAINT user_groups_name_check CHECK (name ~ '^[A-Z][A-Z_]{0,31}$')
);

-- Code refers to groups by name, never by id.
INSERT INTO user_groups (name) VALUES ('USER'), ('MODERATOR'), ('ADMIN');

CREATE TABLE users (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email text NOT NULL,
	hashed_password text NOT NULL,
	is_active boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	group_id bigint NOT NULL REFERENCES user_groups (id),
	CONSTRAINT users_email_key UNIQUE (email),
	-- RFC 5321 limits a forward path to 254 characters.
	CONSTRAINT users_email_check
		CHECK (char_length(email) BETWEEN 3 AND 254 AND position('@' IN email) > 1),
	-- A libsodium crypt string (crypto_pwhash_STRBYTES is 128).
	CONSTRAINT users_hashed_password_check
		CHECK (char_length(hashed_password) BETWEEN 1 AND 255)
);

-- Emails are unique regardless of case: Bob@x.org and bob@x.org are one
-- account. Look users up with lower(email) = lower($1) to use this index.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_group_id_idx ON users (group_id);

CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TYPE user_gender AS ENUM ('MAN', 'WOMAN');

CREATE TABLE user_profiles (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	first_name text,
	last_name text,
	avatar text, -- object key in S3, not a URL
	gender user_gender,
	date_of_birth date,
	info text,
	CONSTRAINT user_profiles_user_id_key UNIQUE (user_id),
	CONSTRAINT user_profiles_first_name_check CHECK (char_length(first_name) <= 100),
	CONSTRAINT user_profiles_last_name_check CHECK (char_length(last_name) <= 100),
	CONSTRAINT user_profiles_avatar_check CHECK (char_length(avatar) BETWEEN 1 AND 1024),
	CONSTRAINT user_profiles_date_of_birth_check CHECK (date_of_birth >= DATE '1900-01-01'),
	CONSTRAINT user_profiles_info_check CHECK (char_length(info) <= 4096)
);

-- One pending activation per user (spec: user_id unique); a resend replaces it.
CREATE TABLE activation_tokens (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token text NOT NULL, -- SHA-256 hex of the token
	expires_at timestamptz NOT NULL,
	CONSTRAINT activation_tokens_user_id_key UNIQUE (user_id),
	CONSTRAINT activation_tokens_token_key UNIQUE (token),
	CONSTRAINT activation_tokens_token_check CHECK (token ~ '^[0-9a-f]{64}$')
);
CREATE INDEX activation_tokens_expires_at_idx ON activation_tokens (expires_at);

-- One pending reset per user; a new request replaces it.
CREATE TABLE password_reset_tokens (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token text NOT NULL, -- SHA-256 hex of the token
	expires_at timestamptz NOT NULL,
	CONSTRAINT password_reset_tokens_user_id_key UNIQUE (user_id),
	CONSTRAINT password_reset_tokens_token_key UNIQUE (token),
	CONSTRAINT password_reset_tokens_token_check CHECK (token ~ '^[0-9a-f]{64}$')
);
CREATE INDEX password_reset_tokens_expires_at_idx ON password_reset_tokens (expires_at);

-- Many per user: one per signed-in session.
CREATE TABLE refresh_tokens (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token text NOT NULL, -- SHA-256 hex of the token
	expires_at timestamptz NOT NULL,
	CONSTRAINT refresh_tokens_token_key UNIQUE (token),
	CONSTRAINT refresh_tokens_token_check CHECK (token ~ '^[0-9a-f]{64}$')
);
-- "End all sessions of a user" deletes by user_id; the cascade needs it too.
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);
