-- The scheduler's periodic media job (docs/MEDIA.md): abandoned uploads
-- deleted (their triggers queue the objects) and media_trash drained, every
-- MEDIA_CLEANUP_INTERVAL_S. A fresh database has nothing to clean: not due
-- until one period after the migration.
INSERT INTO scheduler_runs (job, last_run_at) VALUES ('cleanup_media', now());
