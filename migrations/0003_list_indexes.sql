-- Covering indexes for the role lists. A role row holds its whole role and score JSON (tens of
-- kilobytes, in overflow pages), so filtering and counting through the table read every one
-- of them: 50-75 ms at 10,000 roles. These hold every column a list item, a filter or a sort
-- needs, so lists never touch the rows.
DROP INDEX roles_by_score;
DROP INDEX roles_by_title;
DROP INDEX roles_by_zone;
CREATE INDEX roles_list_by_title ON roles (archived, title, slug, score, zone, label, revision,
	updated_at, created_at, category, seniority);
CREATE INDEX roles_list_by_score ON roles (archived, score, slug, title, zone, label, revision,
	updated_at, created_at, category, seniority);
CREATE INDEX aliases_by_role_name ON aliases (role_id, name);
DROP INDEX aliases_by_role;
