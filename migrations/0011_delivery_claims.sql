-- 0011_delivery_claims.sql: a pending delivery is claimed by one instance before it is sent,
-- so that each event is sent by one instance when several serve a database (API.md, "Running
-- as several instances"). claimed_by is the claiming instance's id (16 hex digits, new at each
-- start), claimed_until the end of its lease in Unix milliseconds: until then no other
-- instance sends the delivery, nor any later one of its subscription (only a subscription's
-- oldest pending delivery is ever due). Recording the attempt clears the claim; a claim whose
-- instance died lapses with its lease and another instance takes the delivery over. SQLite has
-- one process: the same claims are made there, and are harmless.
-- The runner wraps this file and its schema version in one transaction.
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN claimed_until INTEGER;
