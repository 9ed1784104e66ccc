-- Counts the checkouts that ended without payment (declined or expired).
-- It is part of the Stripe Idempotency-Key of the next checkout: a retried
-- request still gets the same session, but a checkout started again after
-- a decline or an expiry gets a new one (Stripe keeps keys for a day).
ALTER TABLE orders ADD COLUMN checkout_attempt integer NOT NULL DEFAULT 0;
