-- 0001_init.sql: roles, their aliases, their append-only revisions, and API tokens.
-- The runner wraps this file and its `PRAGMA user_version = 1` in one transaction.

CREATE TABLE roles (
	id          INTEGER PRIMARY KEY,
	slug        TEXT NOT NULL UNIQUE,
	title       TEXT NOT NULL COLLATE NOCASE,
	category    TEXT,
	seniority   TEXT,
	role_json   TEXT NOT NULL,
	score_json  TEXT NOT NULL,
	score       REAL NOT NULL,
	zone        TEXT NOT NULL CHECK (zone IN ('green', 'yellow', 'red')),
	label       TEXT NOT NULL,
	revision    INTEGER NOT NULL CHECK (revision >= 1),
	archived    INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);
-- The list's sorts and filters run over live roles only; slug breaks ties.
CREATE INDEX roles_by_score ON roles (archived, score, slug);
CREATE INDEX roles_by_title ON roles (archived, title, slug);
CREATE INDEX roles_by_zone ON roles (archived, zone, score);

-- An alias slug redirects to its role; the name is what a search matches.
CREATE TABLE aliases (
	slug     TEXT PRIMARY KEY,
	name     TEXT NOT NULL,
	role_id  INTEGER NOT NULL REFERENCES roles (id)
);
CREATE INDEX aliases_by_role ON aliases (role_id);

-- Every revision of every role as it was written; the history is never rewritten.
CREATE TABLE revisions (
	role_id       INTEGER NOT NULL REFERENCES roles (id),
	revision      INTEGER NOT NULL CHECK (revision >= 1),
	role_json     TEXT NOT NULL,
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

CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions
BEGIN
	SELECT RAISE(ABORT, 'revisions are append-only');
END;
CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions
BEGIN
	SELECT RAISE(ABORT, 'revisions are append-only');
END;

-- Only the SHA-256 of a token is kept; the token itself is shown once, at creation.
CREATE TABLE tokens (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	hash          BLOB NOT NULL CHECK (length(hash) = 32),
	created_at    TEXT NOT NULL,
	last_used_at  TEXT,
	revoked_at    TEXT
);
