/*
 * roles.c: roles, their aliases and their revisions. A revision row is written once and never
 * changed (triggers in 0001_init.sql refuse it); the roles row is the current revision's copy,
 * kept so that reads and lists need no join.
 *
 * Every function resets its statements before it returns: a statement left mid-step would
 * hold its read transaction open, and the thread's next read would see an old snapshot.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* A role's current JSON is that of its current revision: the roles row keeps only the
 * columns lists need (its role_json and score_json are left empty since 0004), so that a
 * write stores the ~20 KB of a role once, not twice. */
#define ROLE_COLS \
	"r.id, r.slug, r.title, v.role_json, v.score_json, r.score, r.zone, r.label, r.revision," \
	" r.archived, r.created_at, r.updated_at, r.category, r.seniority, r.soc_codes," \
	" r.isco_codes, r.evidence_as_of, r.oldest_as_of"
#define ROLE_FROM \
	" FROM roles r JOIN revisions v ON v.role_id = r.id AND v.revision = r.revision"

static const char SQL_ROLE_GET[] = "SELECT " ROLE_COLS ROLE_FROM " WHERE r.slug = ?1";
static const char SQL_ALIAS_RESOLVE[] =
	"SELECT r.slug FROM aliases a JOIN roles r ON r.id = a.role_id WHERE a.slug = ?1";

static const char SQL_EACH[] =
	"SELECT " ROLE_COLS ROLE_FROM " WHERE r.archived = 0 ORDER BY r.slug";

static const char SQL_ROLE_ID[] = "SELECT id, revision, archived FROM roles WHERE slug = ?1";
static const char SQL_REV_COUNT[] = "SELECT count(*) FROM revisions WHERE role_id = ?1";
static const char SQL_REV_LIST[] =
	"SELECT revision, score, zone, label, reason, changed_json, actor, created_at, NULL, NULL"
	" FROM revisions WHERE role_id = ?1 ORDER BY revision DESC LIMIT ?2 OFFSET ?3";
/* The newest revisions of every live role. They are among the newest ?1 revisions of the ?1
 * roles updated last (a role's updated_at is its newest revision's time), so only those are
 * read, by the primary key: no index on time is kept for this, and no write pays for one. */
static const char SQL_REV_RECENT[] =
	"SELECT v.revision, v.score, v.zone, v.label, v.reason, v.changed_json, v.actor,"
	" v.created_at, NULL, NULL, rl.slug, rl.title"
	" FROM (SELECT id, slug, title, revision FROM roles WHERE archived = 0"
	"       ORDER BY updated_at DESC, id DESC LIMIT ?1) rl"
	" JOIN revisions v ON v.role_id = rl.id AND v.revision > rl.revision - ?1"
	" ORDER BY v.created_at DESC, rl.id DESC, v.revision DESC LIMIT ?1";
static const char SQL_REV_GET[] =
	"SELECT v.revision, v.score, v.zone, v.label, v.reason, v.changed_json, v.actor,"
	" v.created_at, v.role_json, v.score_json"
	" FROM revisions v JOIN roles r ON r.id = v.role_id WHERE r.slug = ?1 AND v.revision = ?2";

/* An alias slug taken by a role other than role_id (0 for a new role): as a role's slug
 * or as one of its aliases. Archived roles keep theirs. */
static const char SQL_SLUG_TAKEN[] =
	"SELECT 1 FROM roles WHERE slug = ?1 AND id IS NOT ?2"
	" UNION ALL SELECT 1 FROM aliases WHERE slug = ?1 AND role_id IS NOT ?2 LIMIT 1";
static const char SQL_ALIAS_DELETE[] = "DELETE FROM aliases WHERE role_id = ?1";
static const char SQL_ALIAS_INSERT[] =
	"INSERT INTO aliases (slug, name, role_id) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (slug) DO NOTHING";
static const char SQL_ROLE_INSERT[] =
	"INSERT INTO roles (slug, title, category, seniority, role_json, score_json, score, zone,"
	" label, revision, archived, created_at, updated_at, soc_codes, isco_codes,"
	" evidence_as_of, oldest_as_of)"
	" VALUES (?1, ?2, ?9, ?10, '', '', ?5, ?6, ?7, 1, 0, ?8, ?8, ?11, ?12, ?13, ?14)";
static const char SQL_ROLE_UPDATE[] =
	"UPDATE roles SET title = ?2, category = ?10, seniority = ?11,"
	" score = ?5, zone = ?6, label = ?7, revision = ?8,"
	" updated_at = ?9, soc_codes = ?12, isco_codes = ?13, evidence_as_of = ?14,"
	" oldest_as_of = ?15 WHERE id = ?1";
/* A revision's row of the score history; the previous result of an update is the roles row
 * as it is before the update. */
static const char SQL_HISTORY_FIRST[] =
	"INSERT INTO score_history (at, role_id, revision, entry)"
	" VALUES (?1, ?2, ?3, aijri_history_entry(?2, ?3, ?4, ?5, ?6, NULL, NULL, NULL))";
static const char SQL_HISTORY_NEXT[] =
	"INSERT INTO score_history (at, role_id, revision, entry)"
	" SELECT ?1, ?2, ?3, aijri_history_entry(?2, ?3, ?4, ?5, ?6, r.score, r.zone, r.label)"
	" FROM roles r WHERE r.id = ?2";
static const char SQL_REV_INSERT[] =
	"INSERT INTO revisions (role_id, revision, role_json, score_json, score, zone, label,"
	" reason, changed_json, actor, created_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce(?9, '[]'), ?10, ?11)";
/* An archive is a revision of its own: the last one's body and score again, with who and
 * when, so that the history says who archived the role. */
static const char SQL_REV_ARCHIVE[] =
	"INSERT INTO revisions (role_id, revision, role_json, score_json, score, zone, label,"
	" reason, changed_json, actor, created_at)"
	" SELECT role_id, revision + 1, role_json, score_json, score, zone, label,"
	" 'archived', '[\"archived\"]', ?3, ?4 FROM revisions WHERE role_id = ?1 AND revision = ?2";
static const char SQL_ROLE_ARCHIVE[] =
	"UPDATE roles SET archived = 1, revision = revision + 1, updated_at = ?2, archived_at = ?2"
	" WHERE id = ?1 AND archived = 0";

void store_role_release(struct store_role *r)
{
	if (!r)
		return;
	free(r->slug);
	free(r->title);
	free(r->role_json);
	free(r->score_json);
	free(r->label);
	free(r->created_at);
	free(r->updated_at);
	free(r->category);
	free(r->seniority);
	free(r->soc_codes);
	free(r->isco_codes);
	free(r->evidence_as_of);
	free(r->oldest_as_of);
	memset(r, 0, sizeof(*r));
}

void store_revision_release(struct store_revision *r)
{
	if (!r)
		return;
	free(r->label);
	free(r->reason);
	free(r->changed_json);
	free(r->actor);
	free(r->created_at);
	free(r->role_json);
	free(r->score_json);
	free(r->slug);
	free(r->title);
	memset(r, 0, sizeof(*r));
}

static void copy_zone(char zone[8], sqlite3_stmt *st, int col)
{
	const unsigned char *z = sqlite3_column_text(st, col);
	size_t n = z ? strlen((const char *)z) : 0;

	if (n > 7)
		n = 7;
	if (n)
		memcpy(zone, z, n);
	zone[n] = '\0';
}

/* Fills out from a row in ROLE_COLS order (role_json may be NULL in the row). */
static int role_from_row(sqlite3_stmt *st, struct store_role *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	out->slug = store_col_strdup(st, 1);
	out->title = store_col_strdup(st, 2);
	out->role_json = store_col_strdup(st, 3);
	out->score_json = store_col_strdup(st, 4);
	out->score = sqlite3_column_double(st, 5);
	copy_zone(out->zone, st, 6);
	out->label = store_col_strdup(st, 7);
	out->revision = sqlite3_column_int(st, 8);
	out->archived = sqlite3_column_int(st, 9);
	out->created_at = store_col_strdup(st, 10);
	out->updated_at = store_col_strdup(st, 11);
	out->category = store_col_strdup(st, 12);
	out->seniority = store_col_strdup(st, 13);
	out->soc_codes = store_col_strdup(st, 14);
	out->isco_codes = store_col_strdup(st, 15);
	out->evidence_as_of = store_col_strdup(st, 16);
	out->oldest_as_of = store_col_strdup(st, 17);
	if (!out->slug || !out->title || !out->label || !out->created_at || !out->updated_at ||
	    (sqlite3_column_type(st, 3) != SQLITE_NULL && !out->role_json) ||
	    (sqlite3_column_type(st, 4) != SQLITE_NULL && !out->score_json)) {
		store_role_release(out);
		return RC_NOMEM;
	}
	return RC_OK;
}

static int revision_from_row(sqlite3_stmt *st, struct store_revision *out)
{
	memset(out, 0, sizeof(*out));
	out->revision = sqlite3_column_int(st, 0);
	out->score = sqlite3_column_double(st, 1);
	copy_zone(out->zone, st, 2);
	out->label = store_col_strdup(st, 3);
	out->reason = store_col_strdup(st, 4);
	out->changed_json = store_col_strdup(st, 5);
	out->actor = store_col_strdup(st, 6);
	out->created_at = store_col_strdup(st, 7);
	out->role_json = store_col_strdup(st, 8);
	out->score_json = store_col_strdup(st, 9);
	if (!out->label || !out->changed_json || !out->created_at ||
	    (sqlite3_column_type(st, 8) != SQLITE_NULL && !out->role_json) ||
	    (sqlite3_column_type(st, 9) != SQLITE_NULL && !out->score_json)) {
		store_revision_release(out);
		return RC_NOMEM;
	}
	return RC_OK;
}

static int role_get(struct store_conn *c, const char *slug, struct store_role *out)
{
	sqlite3_stmt *st;
	int rc;

	if (!c || !(st = store_stmt(c, SQL_ROLE_GET)))
		return RC_IO;
	store_bind_text(st, 1, slug);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = role_from_row(st, out);
	else if (rc == SQLITE_DONE)
		rc = RC_NOTFOUND;
	else
		rc = store_sqlite_rc(c, rc);
	sqlite3_reset(st);
	return rc;
}

int store_role_get(struct store *s, const char *slug, struct store_role *out)
{
	return role_get(store_reader(s), slug, out);
}

int store_tx_role_get(struct store_tx *tx, const char *slug, struct store_role *out)
{
	return role_get(tx->conn, slug, out);
}

int store_alias_resolve(struct store *s, const char *alias_slug, char **role_slug)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st;
	int rc;

	if (!c || !(st = store_stmt(c, SQL_ALIAS_RESOLVE)))
		return RC_IO;
	store_bind_text(st, 1, alias_slug);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*role_slug = store_col_strdup(st, 0);
		rc = *role_slug ? RC_OK : RC_NOMEM;
	} else if (rc == SQLITE_DONE) {
		rc = RC_NOTFOUND;
	} else {
		rc = store_sqlite_rc(c, rc);
	}
	sqlite3_reset(st);
	return rc;
}

/* Steps st (bound already), handing each role row to row() until it returns non-zero (which
 * stops the walk and is not an error); resets st in every case. */
static int role_rows(struct store_conn *c, sqlite3_stmt *st,
		     int (*row)(void *ctx, const struct store_role *r), void *ctx)
{
	struct store_role r;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = role_from_row(st, &r);
		if (rc)
			goto out;
		rc = row(ctx, &r);
		store_role_release(&r);
		if (rc) {
			rc = RC_OK;
			goto out;
		}
	}
	rc = rc == SQLITE_DONE ? RC_OK : store_sqlite_rc(c, rc);
out:
	sqlite3_reset(st);
	return rc;
}

int store_roles_list(struct store *s, const struct store_role_query *q,
		     int (*row)(void *ctx, const struct store_role *r), void *ctx, int *total)
{
	struct store_conn *c = store_reader(s);

	return c ? catalog_list(store_catalog(s), c, q, row, ctx, total) : RC_IO;
}

int store_roles_near(struct store *s, const char *slug, int limit,
		     int (*row)(void *ctx, const struct store_role *r, double distance), void *ctx)
{
	struct store_conn *c = store_reader(s);

	return c ? catalog_near(store_catalog(s), c, slug, limit, row, ctx) : RC_IO;
}

int store_roles_each(struct store *s, int (*row)(void *ctx, const struct store_role *r), void *ctx)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st;

	if (!c || !(st = store_stmt(c, SQL_EACH)))
		return RC_IO;
	return role_rows(c, st, row, ctx);
}

/* The role's id, current revision and archived flag by slug. */
static int role_head(struct store_conn *c, const char *slug, struct store_role_head *out)
{
	sqlite3_stmt *st;
	int rc;

	if (!c || !(st = store_stmt(c, SQL_ROLE_ID)))
		return RC_IO;
	store_bind_text(st, 1, slug);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->revision = sqlite3_column_int(st, 1);
		out->archived = sqlite3_column_int(st, 2);
		rc = RC_OK;
	} else {
		rc = rc == SQLITE_DONE ? RC_NOTFOUND : store_sqlite_rc(c, rc);
	}
	sqlite3_reset(st);
	return rc;
}

int store_role_head(struct store *s, const char *slug, struct store_role_head *out)
{
	return role_head(store_reader(s), slug, out);
}

int store_tx_role_head(struct store_tx *tx, const char *slug, struct store_role_head *out)
{
	return role_head(tx->conn, slug, out);
}

int store_revisions_list(struct store *s, const char *slug, int limit, int offset,
			 int (*row)(void *ctx, const struct store_revision *r), void *ctx, int *total)
{
	struct store_conn *c = store_reader(s);
	struct store_revision r;
	sqlite3_stmt *st;
	struct store_role_head head;
	int64_t id;
	int rc;

	rc = role_head(c, slug, &head);
	if (rc)
		return rc;
	id = head.id;
	st = store_stmt(c, SQL_REV_COUNT);
	if (!st)
		return RC_IO;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = store_sqlite_rc(c, rc);
		sqlite3_reset(st);
		return rc ? rc : RC_IO;
	}
	if (total)
		*total = sqlite3_column_int(st, 0);
	sqlite3_reset(st);

	st = store_stmt(c, SQL_REV_LIST);
	if (!st)
		return RC_IO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, limit > 0 ? limit : -1);
	sqlite3_bind_int(st, 3, offset > 0 ? offset : 0);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = revision_from_row(st, &r);
		if (rc)
			goto out;
		rc = row(ctx, &r);
		store_revision_release(&r);
		if (rc) {
			rc = RC_OK;
			goto out;
		}
	}
	rc = rc == SQLITE_DONE ? RC_OK : store_sqlite_rc(c, rc);
out:
	sqlite3_reset(st);
	return rc;
}

int store_revisions_recent(struct store *s, int limit,
			   int (*row)(void *ctx, const struct store_revision *r), void *ctx)
{
	struct store_conn *c = store_reader(s);
	struct store_revision r;
	sqlite3_stmt *st;
	int rc;

	if (!c || !(st = store_stmt(c, SQL_REV_RECENT)))
		return RC_IO;
	sqlite3_bind_int(st, 1, limit > 0 ? limit : 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = revision_from_row(st, &r);
		if (rc)
			goto out;
		r.slug = store_col_strdup(st, 10);
		r.title = store_col_strdup(st, 11);
		if (!r.slug || !r.title) {
			store_revision_release(&r);
			rc = RC_NOMEM;
			goto out;
		}
		rc = row(ctx, &r);
		store_revision_release(&r);
		if (rc) {
			rc = RC_OK;
			goto out;
		}
	}
	rc = rc == SQLITE_DONE ? RC_OK : store_sqlite_rc(c, rc);
out:
	sqlite3_reset(st);
	return rc;
}

int store_revision_get(struct store *s, const char *slug, int revision, struct store_revision *out)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st;
	int rc;

	if (!c || !(st = store_stmt(c, SQL_REV_GET)))
		return RC_IO;
	store_bind_text(st, 1, slug);
	sqlite3_bind_int(st, 2, revision);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = revision_from_row(st, out);
	else
		rc = rc == SQLITE_DONE ? RC_NOTFOUND : store_sqlite_rc(c, rc);
	sqlite3_reset(st);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * Writes (on the writer thread, inside a job)
 */

/* RC_CONFLICT if slug is a slug or alias of a role other than id (0: of any role). */
static int slug_free(struct store_conn *c, const char *slug, int64_t id)
{
	sqlite3_stmt *st = store_stmt(c, SQL_SLUG_TAKEN);
	int rc;

	if (!st)
		return RC_IO;
	store_bind_text(st, 1, slug);
	if (id)
		sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_ROW ? RC_CONFLICT : rc == SQLITE_DONE ? RC_OK : store_sqlite_rc(c, rc);
	sqlite3_reset(st);
	return rc;
}

int store_tx_slug_taken(struct store_tx *tx, const char *slug)
{
	return slug_free(tx->conn, slug, 0);
}

/* Replaces role id's aliases with w's. An alias equal to the role's own slug, or given
 * twice, is stored once or not at all: it would only redirect to where it already is. */
static int aliases_replace(struct store_conn *c, int64_t id, const struct store_role_write *w)
{
	sqlite3_stmt *st;
	int i, rc;

	for (i = 0; i < w->n_aliases; i++) {
		if (!strcmp(w->alias_slugs[i], w->slug))
			continue;
		rc = slug_free(c, w->alias_slugs[i], id);
		if (rc)
			return rc;
	}
	st = store_stmt(c, SQL_ALIAS_DELETE);
	if (!st)
		return RC_IO;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_rc(c, rc);
	for (i = 0; i < w->n_aliases; i++) {
		if (!strcmp(w->alias_slugs[i], w->slug))
			continue;
		st = store_stmt(c, SQL_ALIAS_INSERT);
		if (!st)
			return RC_IO;
		store_bind_text(st, 1, w->alias_slugs[i]);
		store_bind_text(st, 2, w->alias_names[i]);
		sqlite3_bind_int64(st, 3, id);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_sqlite_rc(c, rc);
	}
	return RC_OK;
}

static int revision_insert(struct store_tx *tx, int64_t id, const struct store_role_write *w)
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st = store_stmt(c, SQL_REV_INSERT);
	int rc;

	if (!st)
		return RC_IO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, w->revision);
	store_bind_text(st, 3, w->role_json);
	store_bind_text(st, 4, w->score_json);
	sqlite3_bind_double(st, 5, w->score);
	store_bind_text(st, 6, w->zone);
	store_bind_text(st, 7, w->label);
	store_bind_text(st, 8, w->reason);
	store_bind_text(st, 9, w->changed_json);
	store_bind_text(st, 10, w->actor);
	store_bind_text(st, 11, tx->now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? RC_OK : store_sqlite_rc(c, rc);
}

/* The revision's row of the score history: before the roles row is updated (an update takes
 * its previous result from it), or after a create (no previous result). */
static int history_insert(struct store_tx *tx, int64_t id, const struct store_role_write *w,
			  int first)
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st = store_stmt(c, first ? SQL_HISTORY_FIRST : SQL_HISTORY_NEXT);
	int rc;

	if (!st)
		return RC_IO;
	sqlite3_bind_int64(st, 1, tx->now_unix);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int(st, 3, w->revision);
	sqlite3_bind_double(st, 4, w->score);
	store_bind_text(st, 5, w->zone);
	store_bind_text(st, 6, w->label);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_rc(c, rc);
	return sqlite3_changes(c->db) == 1 ? RC_OK : RC_IO;
}

/* Binds the list columns of w from index `at` on: soc, isco, evidence_as_of, oldest_as_of. */
static void bind_list_columns(sqlite3_stmt *st, int at, const struct store_role_write *w)
{
	store_bind_text(st, at, w->soc_codes);
	store_bind_text(st, at + 1, w->isco_codes);
	store_bind_text(st, at + 2, w->evidence_as_of);
	store_bind_text(st, at + 3, w->oldest_as_of);
}

static int write_valid(const struct store_role_write *w)
{
	return w->slug && w->title && w->role_json && w->score_json && w->zone && w->label &&
	       w->n_aliases >= 0 && (!w->n_aliases || (w->alias_slugs && w->alias_names));
}

int store_tx_role_create(struct store_tx *tx, const struct store_role_write *w)
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	if (!write_valid(w) || w->revision != 1)
		return RC_INVALID;
	rc = slug_free(c, w->slug, 0);
	if (rc)
		return rc;
	st = store_stmt(c, SQL_ROLE_INSERT);
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, w->slug);
	store_bind_text(st, 2, w->title);
	sqlite3_bind_double(st, 5, w->score);
	store_bind_text(st, 6, w->zone);
	store_bind_text(st, 7, w->label);
	store_bind_text(st, 8, tx->now);
	store_bind_text(st, 9, w->category);
	store_bind_text(st, 10, w->seniority);
	bind_list_columns(st, 11, w);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_rc(c, rc);
	id = sqlite3_last_insert_rowid(c->db);
	store_tx_role_touched(tx, id);
	rc = aliases_replace(c, id, w);
	if (rc)
		return rc;
	rc = revision_insert(tx, id, w);
	if (!rc)
		rc = history_insert(tx, id, w, 1);
	if (rc)
		return rc;
	tx->changed = 1;
	return RC_OK;
}

int store_tx_role_update(struct store_tx *tx, const struct store_role_write *w)
{
	struct store_conn *c = tx->conn;
	struct store_role_head cur;
	sqlite3_stmt *st;
	int rc;

	if (!write_valid(w))
		return RC_INVALID;
	rc = role_head(c, w->slug, &cur);
	if (rc)
		return rc;
	if (cur.archived)
		return RC_GONE;
	if (w->revision != cur.revision + 1)
		return RC_PRECONDITION;
	store_tx_role_touched(tx, cur.id);
	if (!w->keep_aliases) {
		rc = aliases_replace(c, cur.id, w);
		if (rc)
			return rc;
	}
	rc = revision_insert(tx, cur.id, w);
	if (!rc)
		rc = history_insert(tx, cur.id, w, 0);
	if (rc)
		return rc;
	st = store_stmt(c, SQL_ROLE_UPDATE);
	if (!st)
		return RC_IO;
	sqlite3_bind_int64(st, 1, cur.id);
	store_bind_text(st, 2, w->title);
	sqlite3_bind_double(st, 5, w->score);
	store_bind_text(st, 6, w->zone);
	store_bind_text(st, 7, w->label);
	sqlite3_bind_int(st, 8, w->revision);
	store_bind_text(st, 9, tx->now);
	store_bind_text(st, 10, w->category);
	store_bind_text(st, 11, w->seniority);
	bind_list_columns(st, 12, w);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_rc(c, rc);
	tx->changed = 1;
	return RC_OK;
}

int store_tx_role_archive(struct store_tx *tx, const char *slug, const char *actor)
{
	struct store_conn *c = tx->conn;
	struct store_role_head head;
	sqlite3_stmt *st;
	int rc;

	rc = role_head(c, slug, &head);
	if (rc)
		return rc;
	if (head.archived)
		return RC_NOTFOUND;
	st = store_stmt(c, SQL_REV_ARCHIVE);
	if (!st)
		return RC_IO;
	sqlite3_bind_int64(st, 1, head.id);
	sqlite3_bind_int(st, 2, head.revision);
	store_bind_text(st, 3, actor);
	store_bind_text(st, 4, tx->now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_rc(c, rc);
	if (sqlite3_changes(c->db) != 1)
		return RC_IO;
	st = store_stmt(c, SQL_ROLE_ARCHIVE);
	if (!st)
		return RC_IO;
	sqlite3_bind_int64(st, 1, head.id);
	store_bind_text(st, 2, tx->now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_rc(c, rc);
	if (sqlite3_changes(c->db) == 0)
		return RC_NOTFOUND;
	store_tx_role_touched(tx, head.id);
	tx->changed = 1;
	return RC_OK;
}
