-- 0006_webhook_pause: a disabled subscription is paused, not dropped (API.md, "Events and
-- subscription states"): its deliveries stay pending (the API shows them as "paused") and are
-- sent, in order, once it is active again; those older than the pause window become
-- "expired". A 410 from the endpoint disables it the same way and says so in disabled_reason.
-- The runner wraps this file in its transaction and sets user_version.

ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT;

-- SQLite cannot change a CHECK constraint in place: the table is built again with 'expired'
-- allowed, its rows and its AUTOINCREMENT counter copied (ids of deleted rows stay unused).
CREATE TABLE deliveries_new (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	webhook_id       TEXT NOT NULL,
	event_id         TEXT NOT NULL,
	status           TEXT NOT NULL DEFAULT 'pending'
	                 CHECK (status IN ('pending', 'succeeded', 'failed', 'expired')),
	attempts         INTEGER NOT NULL DEFAULT 0,
	last_status_code INTEGER,
	last_error       TEXT,
	next_attempt_at  INTEGER,
	created_at       TEXT NOT NULL,
	updated_at       TEXT NOT NULL
);
INSERT INTO deliveries_new (id, webhook_id, event_id, status, attempts, last_status_code,
                            last_error, next_attempt_at, created_at, updated_at)
	SELECT id, webhook_id, event_id, status, attempts, last_status_code, last_error,
	       next_attempt_at, created_at, updated_at FROM deliveries;
DELETE FROM sqlite_sequence WHERE name = 'deliveries_new';
INSERT INTO sqlite_sequence (name, seq)
	SELECT 'deliveries_new', seq FROM sqlite_sequence WHERE name = 'deliveries';
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;

-- The dispatcher's look-up: the oldest pending delivery of each subscription.
CREATE INDEX deliveries_pending ON deliveries (webhook_id, id) WHERE status = 'pending';
-- The delivery log of one subscription, newest first.
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, id);
