-- 0002_webhooks: score-change webhooks, kept as an outbox. A revision, its events and one
-- delivery per matching subscription are written in one transaction; the dispatcher sends
-- what is due and logs every attempt. The runner wraps this file in its transaction and
-- sets user_version.

-- Subscriptions. events_json: JSON array of event types; roles_json: JSON array of role
-- slugs, NULL for every role. The secret is kept to sign deliveries.
CREATE TABLE webhooks (
	id          TEXT PRIMARY KEY,                 -- "wh_..."
	url         TEXT NOT NULL,
	events_json TEXT NOT NULL,
	roles_json  TEXT,
	description TEXT,
	secret      TEXT NOT NULL,                    -- "whsec_..."
	status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);

-- Events: payload_json is the exact body sent (serialised once, so the signature of every
-- attempt covers the same bytes).
CREATE TABLE events (
	id           TEXT PRIMARY KEY,                -- "evt_..."
	type         TEXT NOT NULL,
	role_slug    TEXT,
	payload_json TEXT NOT NULL,
	created_at   TEXT NOT NULL
);

-- One row per (subscription, event) send; a redelivery adds a row for the same event.
-- next_attempt_at is Unix seconds (compared with the dispatcher's clock); NULL once final.
CREATE TABLE deliveries (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	webhook_id       TEXT NOT NULL,
	event_id         TEXT NOT NULL,
	status           TEXT NOT NULL DEFAULT 'pending'
	                 CHECK (status IN ('pending', 'succeeded', 'failed')),
	attempts         INTEGER NOT NULL DEFAULT 0,
	last_status_code INTEGER,
	last_error       TEXT,
	next_attempt_at  INTEGER,
	created_at       TEXT NOT NULL,
	updated_at       TEXT NOT NULL
);

-- The dispatcher's look-up: the oldest pending delivery of each subscription.
CREATE INDEX deliveries_pending ON deliveries (webhook_id, id) WHERE status = 'pending';
-- The delivery log of one subscription, newest first.
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, id);

-- Every attempt of a delivery, for the delivery log.
CREATE TABLE delivery_attempts (
	delivery_id INTEGER NOT NULL,
	attempt     INTEGER NOT NULL,                 -- 1, 2, ...
	at          TEXT NOT NULL,
	status_code INTEGER,                          -- NULL when no answer
	error       TEXT,
	duration_ms INTEGER,
	PRIMARY KEY (delivery_id, attempt)
) WITHOUT ROWID;
