-- 0009_history_ms.sql, PostgreSQL: as ../0009_history_ms.sql.
UPDATE score_history SET at = at * 1000;
