-- 0010_changes.sql: a count of the committed writes that changed something, kept in the
-- database. On PostgreSQL each such commit of any instance adds one, under the row's lock,
-- so the count follows commit order, and tells the other instances (NOTIFY) which roles it
-- touched; an instance shows the count it has taken in (GET /healthz, "changes_seen"), and
-- a client waiting for another instance to see its write waits for that count. SQLite has
-- one process: the row is kept for the schema's sake and counted in memory.
-- The runner wraps this file and its schema version in one transaction.
CREATE TABLE changes (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	n   INTEGER NOT NULL
);
INSERT INTO changes (id, n) VALUES (1, 0);
