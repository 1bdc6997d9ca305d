/*
 * roles.c: roles, their aliases and their revisions. A revision row is written once and never
 * changed (triggers in 0007_revision_pieces.sql refuse it, but for the one change below); the
 * roles row holds the current revision's list columns. A revision keeps its body as pieces
 * (pieces.c): the list of their ids, the pieces shared with the revisions and roles that hold
 * the same bytes. The current revision also keeps its body whole (role_json), so that reads
 * of the current role and writes assemble nothing; the next revision of the role drops that
 * copy from it (the only update the triggers allow: the revision's body is unchanged, its
 * pieces hold it).
 *
 * Every statement's run is over before its function returns (db_each, db_one, db_one_int64 and
 * db_exec end it, whatever the outcome): a statement left mid-step would hold its read
 * transaction open, and the thread's next read would see an old snapshot.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* A role's current JSON is that of its current revision, which keeps it whole: the roles row
 * keeps only the columns lists need (its role_json and score_json are left empty since 0004),
 * so that a write stores the ~20 KB of a role once, not twice. */
#define ROLE_COLS \
	"r.id, r.slug, r.title, v.role_json, v.score_json, r.score, r.zone, r.label, r.revision," \
	" r.archived, r.created_at, r.updated_at, r.category, r.seniority, r.soc_codes," \
	" r.isco_codes, r.evidence_as_of, r.oldest_as_of"
#define ROLE_FROM \
	" FROM roles r JOIN revisions v ON v.role_id = r.id AND v.revision = r.revision"

static const char SQL_ROLE_GET[] = "SELECT " ROLE_COLS ROLE_FROM " WHERE r.slug = $1";
static const char SQL_ALIAS_RESOLVE[] =
	"SELECT r.slug FROM aliases a JOIN roles r ON r.id = a.role_id WHERE a.slug = $1";

static const char SQL_EACH[] =
	"SELECT " ROLE_COLS ROLE_FROM " WHERE r.archived = 0 ORDER BY r.slug";

/* An alias slug taken by a role other than role_id ($2 NULL for a new role): as a role's slug
 * or as one of its aliases. Archived roles keep theirs. */
static const char SQL_SLUG_TAKEN[] =
	"SELECT 1 FROM roles WHERE slug = $1 AND id IS DISTINCT FROM $2"
	" UNION ALL SELECT 1 FROM aliases WHERE slug = $1 AND role_id IS DISTINCT FROM $2 LIMIT 1";
static const char SQL_ALIAS_DELETE[] = "DELETE FROM aliases WHERE role_id = $1";
static const char SQL_ALIAS_INSERT[] =
	"INSERT INTO aliases (slug, name, role_id) VALUES ($1, $2, $3)"
	" ON CONFLICT (slug) DO NOTHING";
static const char SQL_ROLE_INSERT[] =
	"INSERT INTO roles (slug, title, category, seniority, role_json, score_json, score, zone,"
	" label, revision, archived, created_at, updated_at, soc_codes, isco_codes,"
	" evidence_as_of, oldest_as_of)"
	" VALUES ($1, $2, $7, $8, '', '', $3, $4, $5, 1, 0, $6, $6, $9, $10, $11, $12)"
	" RETURNING id";
static const char SQL_ROLE_UPDATE[] =
	"UPDATE roles SET title = $2, category = $8, seniority = $9,"
	" score = $3, zone = $4, label = $5, revision = $6,"
	" updated_at = $7, soc_codes = $10, isco_codes = $11, evidence_as_of = $12,"
	" oldest_as_of = $13 WHERE id = $1";
/* A revision's row of the score history, its entry packed by history_entry_pack; the
 * previous result of an update is the roles row as it is before the update. */
static const char SQL_HISTORY_INSERT[] =
	"INSERT INTO score_history (at, role_id, revision, entry) VALUES ($1, $2, $3, $4)";
static const char SQL_HISTORY_PREV[] = "SELECT score, zone, label FROM roles WHERE id = $1";
static const char SQL_REV_INSERT[] =
	"INSERT INTO revisions (role_id, revision, body, score_json, score, zone, label,"
	" reason, changed_json, actor, created_at, role_json)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, '[]'), $10, $11, $12)";
/* The body of the role's current revision $2, whole and as its manifest: a write's new
 * pieces are those that differ from it. */
static const char SQL_BODY_PREV[] =
	"SELECT role_json, body FROM revisions WHERE role_id = $1 AND revision = $2";
/* Once a revision is no longer the current one, its whole body goes: its pieces keep it. */
static const char SQL_BODY_FORGET[] =
	"UPDATE revisions SET role_json = NULL WHERE role_id = $1 AND revision = $2";
/* An archive is a revision of its own: the last one's body and score again, with who and
 * when, so that the history says who archived the role. */
static const char SQL_REV_ARCHIVE[] =
	"INSERT INTO revisions (role_id, revision, body, score_json, score, zone, label,"
	" reason, changed_json, actor, created_at, role_json)"
	" SELECT role_id, revision + 1, body, score_json, score, zone, label,"
	" 'archived', '[\"archived\"]', CAST($3 AS TEXT), CAST($4 AS TEXT), role_json"
	" FROM revisions WHERE role_id = $1 AND revision = $2";
static const char SQL_ROLE_ARCHIVE[] =
	"UPDATE roles SET archived = 1, revision = revision + 1, updated_at = $2, archived_at = $2"
	" WHERE id = $1 AND archived = 0";

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

/* Fills out from a row in ROLE_COLS order (role_json may be NULL in the row). */
static enum rc role_from_row(struct db_stmt *st, struct store_role *out)
{
	memset(out, 0, sizeof(*out));
	out->id = db_col_int64(st, 0);
	out->score = db_col_double(st, 5);
	store_col_zone(out->zone, st, 6);
	out->revision = (int)db_col_int64(st, 8);
	out->archived = (int)db_col_int64(st, 9);
	if (db_col_strdup(st, 1, &out->slug) || db_col_strdup(st, 2, &out->title) ||
	    db_col_strdup(st, 3, &out->role_json) || db_col_strdup(st, 4, &out->score_json) ||
	    db_col_strdup(st, 7, &out->label) || db_col_strdup(st, 10, &out->created_at) ||
	    db_col_strdup(st, 11, &out->updated_at) || db_col_strdup(st, 12, &out->category) ||
	    db_col_strdup(st, 13, &out->seniority) || db_col_strdup(st, 14, &out->soc_codes) ||
	    db_col_strdup(st, 15, &out->isco_codes) ||
	    db_col_strdup(st, 16, &out->evidence_as_of) ||
	    db_col_strdup(st, 17, &out->oldest_as_of) || !out->slug || !out->title ||
	    !out->label || !out->created_at || !out->updated_at) {
		store_role_release(out);
		return RC_NOMEM;
	}
	return RC_OK;
}

static enum rc role_one_row(void *ctx, struct db_stmt *st)
{
	return role_from_row(st, ctx);
}

static int role_get(struct store_conn *c, const char *slug, struct store_role *out)
{
	struct db_stmt *st;
	enum rc rc;

	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, SQL_ROLE_GET, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, slug);
	return db_one(st, role_one_row, out);
}

int store_role_get(struct store *s, const char *slug, struct store_role *out)
{
	return role_get(store_reader(s), slug, out);
}

int store_tx_role_get(struct store_tx *tx, const char *slug, struct store_role *out)
{
	return role_get(tx->conn, slug, out);
}

static enum rc slug_row(void *ctx, struct db_stmt *st)
{
	char **out = ctx;
	enum rc rc = db_col_strdup(st, 0, out);

	if (!rc && !*out)
		rc = RC_NOMEM;
	return rc;
}

int store_alias_resolve(struct store *s, const char *alias_slug, char **role_slug)
{
	struct store_conn *c = store_reader(s);
	struct db_stmt *st;
	enum rc rc;

	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, SQL_ALIAS_RESOLVE, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, alias_slug);
	return db_one(st, slug_row, role_slug);
}

/* A walk over role rows: each is handed to row() until it returns non-zero, which stops the
 * walk and is not an error. */
struct role_walk {
	int (*row)(void *ctx, const struct store_role *r);
	void *ctx;
};

static enum rc role_walk_row(void *ctx, struct db_stmt *st)
{
	struct role_walk *w = ctx;
	struct store_role r;
	enum rc rc;
	int stop;

	rc = role_from_row(st, &r);
	if (rc)
		return rc;
	stop = w->row(w->ctx, &r);
	store_role_release(&r);
	return stop ? RC_STOP : RC_OK;
}

int store_roles_list(struct store *s, const struct store_role_query *q,
		     int (*row)(void *ctx, const struct store_role *r), void *ctx, int *total)
{
	struct store_conn *c = store_reader(s);

	return c ? catalog_list(s->cat, c, q, row, ctx, total) : RC_IO;
}

int store_roles_near(struct store *s, const char *slug, int limit,
		     int (*row)(void *ctx, const struct store_role *r, double distance), void *ctx)
{
	struct store_conn *c = store_reader(s);

	return c ? catalog_near(s->cat, c, slug, limit, row, ctx) : RC_IO;
}

int store_roles_each(struct store *s, int (*row)(void *ctx, const struct store_role *r), void *ctx)
{
	struct store_conn *c = store_reader(s);
	struct role_walk w = { row, ctx };
	struct db_stmt *st;
	enum rc rc;

	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, SQL_EACH, &st);
	if (rc)
		return rc;
	return db_each(st, role_walk_row, &w);
}

/* ---------------------------------------------------------------------------------------
 * Writes (on the writer thread, inside a job)
 */

/* RC_CONFLICT if slug is a slug or alias of a role other than id (0: of any role). */
static int slug_free(struct store_conn *c, const char *slug, int64_t id)
{
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(c->dc, SQL_SLUG_TAKEN, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, slug);
	if (id)
		db_bind_int64(st, 2, id);
	else
		db_bind_null(st, 2);
	rc = db_one(st, NULL, NULL);
	return rc == RC_OK ? RC_CONFLICT : rc == RC_NOTFOUND ? RC_OK : rc;
}

int store_tx_slug_taken(struct store_tx *tx, const char *slug)
{
	return slug_free(tx->conn, slug, 0);
}

/* Replaces role id's aliases with w's. An alias equal to the role's own slug, or given
 * twice, is stored once or not at all: it would only redirect to where it already is. */
static int aliases_replace(struct store_conn *c, int64_t id, const struct store_role_write *w)
{
	struct db_stmt *st;
	enum rc rc;
	int i;

	for (i = 0; i < w->n_aliases; i++) {
		if (!strcmp(w->alias_slugs[i], w->slug))
			continue;
		rc = slug_free(c, w->alias_slugs[i], id);
		if (rc)
			return rc;
	}
	rc = db_prepare(c->dc, SQL_ALIAS_DELETE, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, id);
	rc = db_exec(st);
	if (rc)
		return rc;
	for (i = 0; i < w->n_aliases; i++) {
		if (!strcmp(w->alias_slugs[i], w->slug))
			continue;
		rc = db_prepare(c->dc, SQL_ALIAS_INSERT, &st);
		if (rc)
			return rc;
		db_bind_text(st, 1, w->alias_slugs[i]);
		db_bind_text(st, 2, w->alias_names[i]);
		db_bind_int64(st, 3, id);
		rc = db_exec(st);
		if (rc)
			return rc;
	}
	return RC_OK;
}

/* The pieces of a revision: the role's new body w->role_json, its pieces made against its
 * previous body (the row of SQL_BODY_PREV) while that row is read, so that the previous text
 * is not copied; m and len get the manifest. */
struct body_pieces {
	struct db_conn *dc;
	const struct store_role_write *w;
	unsigned char *m;
	size_t len;
};

static enum rc body_pieces_row(void *ctx, struct db_stmt *st)
{
	struct body_pieces *bp = ctx;
	size_t len = 0;
	const char *text = db_col_text(st, 0, NULL);
	const void *m = db_col_blob(st, 1, &len);

	if (!text || !m)
		return RC_IO;
	return pieces_put(bp->dc, bp->w->role_json, text, m, len, &bp->m, &bp->len);
}

/* The revision's row, with m, the manifest of its body. */
static int revision_insert(struct store_tx *tx, int64_t id, const struct store_role_write *w,
			   const unsigned char *m, size_t len)
{
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(tx->conn->dc, SQL_REV_INSERT, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, w->revision);
	db_bind_blob(st, 3, m, len);
	db_bind_text(st, 4, w->score_json);
	db_bind_double(st, 5, w->score);
	db_bind_text(st, 6, w->zone);
	db_bind_text(st, 7, w->label);
	db_bind_text(st, 8, w->reason);
	db_bind_text(st, 9, w->changed_json);
	db_bind_text(st, 10, w->actor);
	db_bind_text(st, 11, tx->now);
	db_bind_text(st, 12, w->role_json);
	return db_exec(st);
}

/* Drops the whole body of the role's revision `revision`, no longer its current one. */
static int body_forget(struct store_tx *tx, int64_t id, int revision)
{
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(tx->conn->dc, SQL_BODY_FORGET, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, revision);
	rc = db_exec(st);
	if (rc)
		return rc;
	return db_changes(st) == 1 ? RC_OK : RC_IO;
}

/* The revision's row of the score history: before the roles row is updated (an update takes
 * its previous result from it), or after a create (no previous result). */
struct history_row {
	struct history_values v;
	unsigned char entry[HISTORY_ENTRY_MAX];
	size_t len;
};

static enum rc history_prev_row(void *ctx, struct db_stmt *st)
{
	struct history_row *h = ctx;

	/* The row's texts live until this returns: pack here. */
	h->v.has_prev = 1;
	h->v.prev_score = db_col_double(st, 0);
	h->v.prev_zone = db_col_text(st, 1, NULL);
	h->v.prev_label = db_col_text(st, 2, NULL);
	h->len = history_entry_pack(&h->v, h->entry);
	return RC_OK;
}

static int history_insert(struct store_tx *tx, int64_t id, const struct store_role_write *w,
			  int first)
{
	struct history_row h = { { id, w->revision, w->score, w->zone, w->label, 0, 0, NULL,
				   NULL }, { 0 }, 0 };
	struct db_stmt *st;
	enum rc rc;

	if (first || (w->head_id && w->prev_zone && w->prev_label)) {
		h.v.has_prev = !first;
		h.v.prev_score = w->prev_score;
		h.v.prev_zone = w->prev_zone;
		h.v.prev_label = w->prev_label;
		h.len = history_entry_pack(&h.v, h.entry);
	} else {
		rc = db_prepare(tx->conn->dc, SQL_HISTORY_PREV, &st);
		if (rc)
			return rc;
		db_bind_int64(st, 1, id);
		rc = db_one(st, history_prev_row, &h);
		if (rc)
			return rc == RC_NOTFOUND ? RC_IO : rc;
	}
	rc = db_prepare(tx->conn->dc, SQL_HISTORY_INSERT, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, tx->now_ms);
	db_bind_int64(st, 2, id);
	db_bind_int64(st, 3, w->revision);
	db_bind_blob(st, 4, h.entry, h.len);
	rc = db_exec(st);
	if (rc)
		return rc;
	return db_changes(st) == 1 ? RC_OK : RC_IO;
}

/* Binds the list columns of w from $at on: soc, isco, evidence_as_of, oldest_as_of. */
static void bind_list_columns(struct db_stmt *st, int at, const struct store_role_write *w)
{
	db_bind_text(st, at, w->soc_codes);
	db_bind_text(st, at + 1, w->isco_codes);
	db_bind_text(st, at + 2, w->evidence_as_of);
	db_bind_text(st, at + 3, w->oldest_as_of);
}

static int write_valid(const struct store_role_write *w)
{
	return w->slug && w->title && w->role_json && w->score_json && w->zone && w->label &&
	       w->n_aliases >= 0 && (!w->n_aliases || (w->alias_slugs && w->alias_names));
}

/* A new role's revision row: all its pieces are looked up (most are new). */
static int revision_first(struct store_tx *tx, int64_t id, const struct store_role_write *w)
{
	unsigned char *m = NULL;
	size_t len = 0;
	enum rc rc;

	rc = pieces_put(tx->conn->dc, w->role_json, NULL, NULL, 0, &m, &len);
	if (!rc)
		rc = revision_insert(tx, id, w, m, len);
	free(m);
	return rc;
}

/* An update's revision row, its pieces made against the body before, whose whole copy goes. */
static int revision_append(struct store_tx *tx, int64_t id, int cur_revision,
			   const struct store_role_write *w)
{
	struct body_pieces bp = { tx->conn->dc, w, NULL, 0 };
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(tx->conn->dc, SQL_BODY_PREV, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, cur_revision);
	rc = db_one(st, body_pieces_row, &bp);
	if (rc == RC_NOTFOUND)
		rc = RC_IO; /* a live role has its current revision */
	if (!rc)
		rc = revision_insert(tx, id, w, bp.m, bp.len);
	if (!rc)
		rc = body_forget(tx, id, cur_revision);
	free(bp.m);
	return rc;
}

int store_tx_role_create(struct store_tx *tx, const struct store_role_write *w)
{
	struct store_conn *c = tx->conn;
	struct db_stmt *st;
	int64_t id;
	enum rc rc;

	if (!write_valid(w) || w->revision != 1)
		return RC_INVALID;
	rc = slug_free(c, w->slug, 0);
	if (rc)
		return rc;
	rc = db_prepare(c->dc, SQL_ROLE_INSERT, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, w->slug);
	db_bind_text(st, 2, w->title);
	db_bind_double(st, 3, w->score);
	db_bind_text(st, 4, w->zone);
	db_bind_text(st, 5, w->label);
	db_bind_text(st, 6, tx->now);
	db_bind_text(st, 7, w->category);
	db_bind_text(st, 8, w->seniority);
	bind_list_columns(st, 9, w);
	rc = db_one_int64(st, &id);
	if (rc)
		return rc == RC_NOTFOUND ? RC_IO : rc;
	store_tx_role_touched(tx, id);
	rc = aliases_replace(c, id, w);
	if (rc)
		return rc;
	rc = revision_first(tx, id, w);
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
	struct db_stmt *st;
	enum rc rc;

	if (!write_valid(w))
		return RC_INVALID;
	if (w->head_id) {
		/* Read under the row's lock by this job already. */
		cur.id = w->head_id;
		cur.revision = w->head_revision;
		cur.archived = 0;
	} else {
		rc = revisions_head_locked(c, w->slug, &cur);
		if (rc)
			return rc;
	}
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
	rc = revision_append(tx, cur.id, cur.revision, w);
	if (!rc)
		rc = history_insert(tx, cur.id, w, 0);
	if (rc)
		return rc;
	rc = db_prepare(c->dc, SQL_ROLE_UPDATE, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, cur.id);
	db_bind_text(st, 2, w->title);
	db_bind_double(st, 3, w->score);
	db_bind_text(st, 4, w->zone);
	db_bind_text(st, 5, w->label);
	db_bind_int64(st, 6, w->revision);
	db_bind_text(st, 7, tx->now);
	db_bind_text(st, 8, w->category);
	db_bind_text(st, 9, w->seniority);
	bind_list_columns(st, 10, w);
	rc = db_exec(st);
	if (rc)
		return rc;
	tx->changed = 1;
	return RC_OK;
}

int store_tx_role_archive(struct store_tx *tx, const char *slug, const char *actor)
{
	struct store_conn *c = tx->conn;
	struct store_role_head head;
	struct db_stmt *st;
	enum rc rc;

	rc = revisions_head_locked(c, slug, &head);
	if (rc)
		return rc;
	if (head.archived)
		return RC_NOTFOUND;
	rc = db_prepare(c->dc, SQL_REV_ARCHIVE, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, head.id);
	db_bind_int64(st, 2, head.revision);
	db_bind_text(st, 3, actor);
	db_bind_text(st, 4, tx->now);
	rc = db_exec(st);
	if (rc)
		return rc;
	if (db_changes(st) != 1)
		return RC_IO;
	rc = body_forget(tx, head.id, head.revision);
	if (rc)
		return rc;
	rc = db_prepare(c->dc, SQL_ROLE_ARCHIVE, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, head.id);
	db_bind_text(st, 2, tx->now);
	rc = db_exec(st);
	if (rc)
		return rc;
	if (db_changes(st) == 0)
		return RC_NOTFOUND;
	store_tx_role_touched(tx, head.id);
	tx->changed = 1;
	return RC_OK;
}
