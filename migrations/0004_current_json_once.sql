-- 0004_current_json_once.sql: a role's current JSON is read from its current revision, so
-- the roles row no longer keeps a second copy of it (a write stored ~20 KB twice). The
-- columns stay, empty, as older schemas made them NOT NULL.
UPDATE roles SET role_json = '', score_json = '';
-- Lists are served from memory (store/catalog.c) since 0004: the covering list indexes of
-- 0003 only cost every write.
DROP INDEX roles_list_by_title;
DROP INDEX roles_list_by_score;
