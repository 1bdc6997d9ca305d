-- 0007_revision_pieces.sql: a revision keeps what changed, not the whole role body. Each
-- revision stored the role's whole JSON (~16 KB) for a one-dimension change of ~400 bytes.
-- Now a body is cut into pieces at the members of its objects (the role; its assessment,
-- commentary and codes; the evidence, barriers and protective principles: store/pieces.c),
-- each piece is stored once in `pieces`, shared by every revision and role that holds it, and
-- a revision keeps the list of its pieces' ids (`body`, its manifest). The pieces put end to
-- end are the body as it was written, byte for byte. The current body of each role is kept
-- whole beside the roles row (`role_bodies`), so that reading or writing a role assembles
-- nothing. The runner wraps this file and its `PRAGMA user_version = 7` in one transaction.

-- A piece: some bytes of a body. hash is the first 8 bytes of the SHA-256 of body, a look-up
-- key only (the bytes are compared): pieces are never changed or deleted.
CREATE TABLE pieces (
	id    INTEGER PRIMARY KEY,
	hash  INTEGER NOT NULL,
	body  BLOB NOT NULL
);
CREATE INDEX pieces_by_hash ON pieces (hash);

-- The current role body and score block of every role, archived ones included (their last
-- revision's). Apart from the roles row so that its reads (lists, the catalog, the head of a
-- write) never step over ~16 KB of overflow pages to reach a column.
CREATE TABLE role_bodies (
	role_id     INTEGER PRIMARY KEY REFERENCES roles (id),
	role_json   TEXT NOT NULL,
	score_json  TEXT NOT NULL
);
INSERT INTO role_bodies (role_id, role_json, score_json)
SELECT r.id, v.role_json, v.score_json
FROM roles r JOIN revisions v ON v.role_id = r.id AND v.revision = r.revision;

-- The revisions again, with the manifest in place of the JSON (the score block stays whole:
-- most of it changes with the score).
CREATE TABLE revisions_new (
	role_id       INTEGER NOT NULL REFERENCES roles (id),
	revision      INTEGER NOT NULL CHECK (revision >= 1),
	body          BLOB NOT NULL,
	score_json    TEXT NOT NULL,
	score         REAL NOT NULL,
	zone          TEXT NOT NULL,
	label         TEXT NOT NULL,
	reason        TEXT,
	changed_json  TEXT NOT NULL DEFAULT '[]',
	actor         TEXT,
	created_at    TEXT NOT NULL,
	PRIMARY KEY (role_id, revision)
) WITHOUT ROWID;

-- SQLite-only: aijri_pieces(role_json) is the store's C function (store/pieces_sql.c) that
-- stores the pieces of a body not stored yet and returns its manifest; in this order each
-- role's consecutive revisions reuse their unchanged pieces without a look-up.
INSERT INTO revisions_new (role_id, revision, body, score_json, score, zone, label, reason,
                           changed_json, actor, created_at)
SELECT role_id, revision, aijri_pieces(role_json), score_json, score, zone, label, reason,
       changed_json, actor, created_at
FROM revisions ORDER BY role_id, revision;

DROP TABLE revisions;
ALTER TABLE revisions_new RENAME TO revisions;

CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions
BEGIN
	SELECT RAISE(ABORT, 'revisions are append-only');
END;
CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions
BEGIN
	SELECT RAISE(ABORT, 'revisions are append-only');
END;
