-- 0006_webhook_pause.sql, PostgreSQL: as ../0006_webhook_pause.sql; PostgreSQL changes the
-- CHECK constraint in place (SQLite builds the table again).
ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
	CHECK (status IN ('pending', 'succeeded', 'failed', 'expired'));
