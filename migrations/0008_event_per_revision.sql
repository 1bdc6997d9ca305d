-- 0008_event_per_revision: the events of one revision are one row, its types as data. A write
-- that moved the score and the zone stored three events (assessment.revised, score.changed,
-- zone.changed), each with a payload that differs from the others only in its id and type; it
-- now stores one row whose types_json lists them, and its payload is the body of the first.
-- Each type keeps an event id of its own, derived from the row's (store_event_id, outbox.c):
-- the row's id for its first type, else that id with the low bits of its last character set
-- to the type's index; a delivery names its row (event_id) and its type (event_type).
-- The runner wraps this file in its transaction and sets user_version.
--
-- Existing events stay as they are, each a row of one type: their ids and payloads, which
-- deliveries and signatures already carry, do not change.

ALTER TABLE events ADD COLUMN types_json TEXT NOT NULL DEFAULT '[]';
UPDATE events SET types_json = '["' || type || '"]';

ALTER TABLE deliveries ADD COLUMN event_type TEXT;
UPDATE deliveries SET event_type = (SELECT e.type FROM events e WHERE e.id = deliveries.event_id);
