-- The scheduler's durable work: email jobs and periodic-job claims.
--
-- An email job is inserted in the same transaction as the change that causes
-- it, then announced on a Redis list. The scheduler claims a row before it
-- sends (status pending -> sending, with a lease), so two schedulers never
-- send one job twice; a sweep picks up jobs whose announcement was lost and
-- leases that expired (a scheduler died mid-send).
--
-- payload holds the template variables, which can include a one-time token
-- (activation, password reset): it is emptied once the job is sent or has
-- failed for good, so no usable token outlives its email in this table.

CREATE TYPE email_job_status AS ENUM ('pending', 'sending', 'sent', 'failed');

CREATE TABLE email_jobs (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind text NOT NULL,
	recipient text NOT NULL,
	payload jsonb NOT NULL DEFAULT '{}',
	status email_job_status NOT NULL DEFAULT 'pending',
	attempts integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	locked_until timestamptz,
	last_error text,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	sent_at timestamptz,
	CONSTRAINT email_jobs_kind_check CHECK (kind ~ '^[a-z][a-z_]{0,63}$'),
	CONSTRAINT email_jobs_recipient_check
		CHECK (char_length(recipient) BETWEEN 3 AND 254 AND recipient !~ '[\r\n]'),
	CONSTRAINT email_jobs_attempts_check CHECK (attempts >= 0),
	CONSTRAINT email_jobs_payload_check CHECK (jsonb_typeof(payload) = 'object')
);

-- The sweep: due pending jobs in order, and expired leases.
CREATE INDEX email_jobs_due_idx ON email_jobs (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX email_jobs_lease_idx ON email_jobs (locked_until) WHERE status = 'sending';

CREATE TRIGGER email_jobs_set_updated_at BEFORE UPDATE ON email_jobs
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- One row per periodic job: a scheduler runs the job only if it moves
-- last_run_at forward, which one scheduler per period can do.
CREATE TABLE scheduler_runs (
	job text PRIMARY KEY,
	last_run_at timestamptz NOT NULL DEFAULT '-infinity'
);

INSERT INTO scheduler_runs (job) VALUES ('cleanup_expired_tokens');
