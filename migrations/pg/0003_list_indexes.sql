-- 0003_list_indexes.sql, PostgreSQL: as ../0003_list_indexes.sql.
DROP INDEX roles_by_score;
DROP INDEX roles_by_title;
DROP INDEX roles_by_zone;
CREATE INDEX roles_list_by_title ON roles (archived, title, slug, score, zone, label, revision,
	updated_at, created_at, category, seniority);
CREATE INDEX roles_list_by_score ON roles (archived, score, slug, title, zone, label, revision,
	updated_at, created_at, category, seniority);
CREATE INDEX aliases_by_role_name ON aliases (role_id, name);
DROP INDEX aliases_by_role;
