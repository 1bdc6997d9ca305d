-- 0004_current_json_once.sql: a role's current JSON is read from its current revision, so
-- the roles row no longer keeps a second copy of it (a write stored ~20 KB twice). The
-- columns stay, empty, as older schemas made them NOT NULL.
UPDATE roles SET role_json = '', score_json = '';
