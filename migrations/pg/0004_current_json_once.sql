-- 0004_current_json_once.sql, PostgreSQL: as ../0004_current_json_once.sql.
UPDATE roles SET role_json = '', score_json = '';
DROP INDEX roles_list_by_title;
DROP INDEX roles_list_by_score;
