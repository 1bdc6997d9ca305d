-- 0008_event_per_revision.sql, PostgreSQL: as ../0008_event_per_revision.sql.
ALTER TABLE events ADD COLUMN types_json TEXT NOT NULL DEFAULT '[]';
UPDATE events SET types_json = '["' || type || '"]';
ALTER TABLE deliveries ADD COLUMN event_type TEXT;
UPDATE deliveries SET event_type = (SELECT e.type FROM events e WHERE e.id = deliveries.event_id);
