-- 0010_changes.sql, PostgreSQL: as ../0010_changes.sql.
CREATE TABLE changes (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	n   BIGINT NOT NULL
);
INSERT INTO changes (id, n) VALUES (1, 0);
