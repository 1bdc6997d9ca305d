-- 0005_analysis.sql: what the analysis endpoints need (codes and evidence recency in the role
-- lists, the score history behind GET /movers) and the stored answers of idempotent writes.
-- The runner wraps this file and its `PRAGMA user_version = 5` in one transaction.

-- The list columns of a role's current revision, beside the others (the catalog serves lists
-- from them without reading role JSON): its SOC and ISCO codes, space-separated (NULL: none);
-- the as_of date of each evidence dimension (a JSON object, dimension -> YYYY-MM-DD) and the
-- oldest of them; and when it was archived (NULL while live), so that a role's liveness at a
-- past time is known.
ALTER TABLE roles ADD COLUMN soc_codes TEXT;
ALTER TABLE roles ADD COLUMN isco_codes TEXT;
ALTER TABLE roles ADD COLUMN evidence_as_of TEXT;
ALTER TABLE roles ADD COLUMN oldest_as_of TEXT;
ALTER TABLE roles ADD COLUMN archived_at TEXT;
UPDATE roles SET archived_at = updated_at WHERE archived = 1;

-- Roles written before evidence carried as_of: each dimension dates from the last revision
-- that changed it (revision 1 made them all).
UPDATE roles SET evidence_as_of = (
	SELECT json_object(
		'job_posting_trends', max(CASE WHEN v.revision = 1
			OR instr(v.changed_json, '"evidence.job_posting_trends"') THEN substr(v.created_at, 1, 10) END),
		'company_actions', max(CASE WHEN v.revision = 1
			OR instr(v.changed_json, '"evidence.company_actions"') THEN substr(v.created_at, 1, 10) END),
		'wage_trends', max(CASE WHEN v.revision = 1
			OR instr(v.changed_json, '"evidence.wage_trends"') THEN substr(v.created_at, 1, 10) END),
		'ai_tool_maturity', max(CASE WHEN v.revision = 1
			OR instr(v.changed_json, '"evidence.ai_tool_maturity"') THEN substr(v.created_at, 1, 10) END),
		'expert_consensus', max(CASE WHEN v.revision = 1
			OR instr(v.changed_json, '"evidence.expert_consensus"') THEN substr(v.created_at, 1, 10) END))
	FROM revisions v WHERE v.role_id = roles.id AND v.revision <= roles.revision);
UPDATE roles SET oldest_as_of = (SELECT min(value) FROM json_each(roles.evidence_as_of));

-- The published result of every revision, with the one before it, ordered by time: GET
-- /movers reads one range of this (the revisions of a window) and knows each role's state
-- before the window from its first row there, without a look-up per role and without reading
-- role JSON. `at` is created_at in Unix seconds. `entry` holds the rest, packed by the store's
-- SQL function aijri_history_entry(role_id, revision, score, zone, label, prev_score,
-- prev_zone, prev_label) (store/history.c documents its bytes): reading one column per row
-- instead of eight made a month's window (27,000 rows) about six times faster to scan.
CREATE TABLE score_history (
	at        INTEGER NOT NULL,
	role_id   INTEGER NOT NULL,
	revision  INTEGER NOT NULL,
	entry     BLOB NOT NULL,
	PRIMARY KEY (at, role_id, revision)
) WITHOUT ROWID;
INSERT INTO score_history (at, role_id, revision, entry)
SELECT CAST(strftime('%s', v.created_at) AS INTEGER), v.role_id, v.revision,
	aijri_history_entry(v.role_id, v.revision, v.score, v.zone, v.label, p.score, p.zone,
		p.label)
FROM revisions v LEFT JOIN revisions p ON p.role_id = v.role_id AND p.revision = v.revision - 1;

-- The first answer of each write sent with an Idempotency-Key, per token, kept for 24 hours
-- (the writer deletes older rows in the background). fingerprint: SHA-256 of the method, path
-- and body; headers_json: the answer's headers as [[name, value], ...].
CREATE TABLE idempotency_keys (
	id            INTEGER PRIMARY KEY,
	token         TEXT NOT NULL,
	idem_key      TEXT NOT NULL,
	fingerprint   BLOB NOT NULL,
	status        INTEGER NOT NULL,
	content_type  TEXT,
	headers_json  TEXT NOT NULL,
	body          BLOB NOT NULL,
	created_at    INTEGER NOT NULL,
	UNIQUE (token, idem_key)
);
CREATE INDEX idempotency_keys_by_time ON idempotency_keys (created_at);
