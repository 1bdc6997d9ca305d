-- 0007_revision_pieces.sql: a revision keeps what changed, not the whole role body. Each
-- revision stored the role's whole JSON (~16 KB) for a one-dimension change of ~400 bytes.
-- Now a body is cut into pieces at the members of its objects (the role; its assessment,
-- commentary and codes; the evidence, barriers and protective principles: store/pieces.c),
-- each piece is stored once in `pieces`, shared by every revision and role that holds it, and
-- a revision keeps the list of its pieces' ids (`body`, its manifest). The pieces put end to
-- end are the body as it was written, byte for byte. A role's current revision also keeps its
-- body whole (`role_json`), so that reading or writing the current role assembles nothing; the
-- next revision drops that copy. The runner wraps this file and its `PRAGMA user_version = 7`
-- in one transaction.

-- A piece: some bytes of a body. hash is the first 8 bytes of the SHA-256 of body, a look-up
-- key only (the bytes are compared): pieces are never changed or deleted.
CREATE TABLE pieces (
	id    INTEGER PRIMARY KEY,
	hash  INTEGER NOT NULL,
	body  BLOB NOT NULL
);
CREATE INDEX pieces_by_hash ON pieces (hash);

-- The revisions again, with the manifest; role_json, the whole body, last (a read of the
-- other columns never steps over its overflow pages) and only in each role's current
-- revision. The score block stays whole: most of it changes with the score.
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
	role_json     TEXT,
	PRIMARY KEY (role_id, revision)
) WITHOUT ROWID;

-- SQLite-only: aijri_pieces(role_json) is the store's C function (store/pieces_sql.c) that
-- stores the pieces of a body not stored yet and returns its manifest; in this order each
-- role's consecutive revisions reuse their unchanged pieces without a look-up.
INSERT INTO revisions_new (role_id, revision, body, score_json, score, zone, label, reason,
                           changed_json, actor, created_at, role_json)
SELECT v.role_id, v.revision, aijri_pieces(v.role_json), v.score_json, v.score, v.zone,
       v.label, v.reason, v.changed_json, v.actor, v.created_at,
       CASE WHEN v.revision = r.revision THEN v.role_json END
FROM revisions v JOIN roles r ON r.id = v.role_id ORDER BY v.role_id, v.revision;

DROP TABLE revisions;
ALTER TABLE revisions_new RENAME TO revisions;

-- Append-only: no row is deleted, and no column changes, but for the one update the store
-- makes: the whole body of a revision that is no longer current is dropped (set to NULL), its
-- pieces keeping it.
CREATE TRIGGER revisions_no_update BEFORE UPDATE OF role_id, revision, body, score_json, score,
	zone, label, reason, changed_json, actor, created_at ON revisions
BEGIN
	SELECT RAISE(ABORT, 'revisions are append-only');
END;
CREATE TRIGGER revisions_no_body_update BEFORE UPDATE OF role_json ON revisions
WHEN NEW.role_json IS NOT NULL
BEGIN
	SELECT RAISE(ABORT, 'revisions are append-only');
END;
CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions
BEGIN
	SELECT RAISE(ABORT, 'revisions are append-only');
END;
