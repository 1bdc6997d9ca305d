-- 0009_history_ms.sql: the score history keeps each revision's time in Unix milliseconds
-- (it kept whole seconds), so that GET /movers tells a revision made just after a `since`
-- from one made just before it, within the same second. Rows written before this migration
-- keep their second (at its start): their order among themselves is unchanged.
-- The runner wraps this file and its schema version in one transaction.
UPDATE score_history SET at = at * 1000;
