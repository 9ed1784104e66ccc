-- Money taken for an order the system will not fulfil (canceled, already
-- paid through another Checkout Session, or paid at an amount that no
-- longer matches) is recorded as a payment to refund, refunded through
-- Stripe automatically, and retried by the scheduler until Stripe accepts.
--
--   refund_pending: the money is ours, a refund is due (refund_reason says
--                   why; refund_attempts and refund_error say how it goes)
--   refunded:       Stripe accepted the refund (refund_id)
--
-- The new value is not used in this file: PostgreSQL allows that only
-- after the transaction that adds it has committed.
ALTER TYPE payment_status ADD VALUE IF NOT EXISTS 'refund_pending';

ALTER TABLE payments
	-- the Checkout Session the money came through (the automatic refund's
	-- Idempotency-Key is derived from it)
	ADD COLUMN checkout_session_id text,
	ADD COLUMN refund_reason text,
	ADD COLUMN refund_id text,
	ADD COLUMN refund_attempts integer NOT NULL DEFAULT 0,
	ADD COLUMN refund_error text,
	ADD CONSTRAINT payments_refund_reason_check CHECK (refund_reason IN
		('order_canceled', 'order_already_paid', 'amount_mismatch'));

-- When the order's Checkout Session stops being payable, as Stripe said
-- (its expires_at); the reconciliation job asks Stripe about sessions
-- past it whose outcome never arrived.
ALTER TABLE orders ADD COLUMN checkout_expires_at timestamptz;
UPDATE orders SET checkout_expires_at = now() + interval '24 hours'
	WHERE checkout_session_id IS NOT NULL;
CREATE INDEX orders_checkout_expires_idx ON orders (checkout_expires_at)
	WHERE status = 'pending' AND checkout_session_id IS NOT NULL;

-- Not due until one period after the migration: a fresh database has no
-- sessions to reconcile.
INSERT INTO scheduler_runs (job, last_run_at) VALUES ('reconcile_payments', now());
