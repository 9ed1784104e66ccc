-- Tells an account an admin deactivated from one never activated: only the
-- latter may ask for a new activation link (a deactivated user must not be
-- able to re-activate themselves by email).
ALTER TABLE users ADD COLUMN deactivated_at timestamptz;
