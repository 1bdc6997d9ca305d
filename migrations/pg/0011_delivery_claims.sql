-- 0011_delivery_claims.sql, PostgreSQL: as ../0011_delivery_claims.sql. Instances claim with
-- SELECT ... FOR UPDATE SKIP LOCKED, so that two claiming at once never wait for each other
-- nor take the same delivery.
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN claimed_until BIGINT;
