-- Sessions: one per sign-in. Access tokens name their session (the JWT's
-- sid claim) and are refused once it has ended, so logout and "end other
-- sessions" take effect at once rather than at the token's expiry.
--
-- Refresh tokens rotate: each refresh marks the presented token used and
-- issues a new one in the same session. A used token presented again means
-- it was copied: the whole session ends (reuse detection). Used tokens stay
-- until they expire so that reuse can still be seen.

CREATE TABLE user_sessions (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	-- when the newest refresh token expires; the session ends then at the latest
	expires_at timestamptz NOT NULL,
	revoked_at timestamptz,
	revoked_reason text
);
CREATE INDEX user_sessions_user_id_idx ON user_sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX user_sessions_expires_at_idx ON user_sessions (expires_at);

ALTER TABLE refresh_tokens
	ADD COLUMN session_id uuid NOT NULL REFERENCES user_sessions (id) ON DELETE CASCADE,
	ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
	ADD COLUMN used_at timestamptz;
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

-- Whether the user wants an email when someone replies to or likes their
-- comments (in-app notifications are always kept).
ALTER TABLE user_profiles
	ADD COLUMN email_notifications boolean NOT NULL DEFAULT true;
