/*
 * revisions.c: the revisions of a role, read: its list, the newest of every role (the feed),
 * one revision whole (its body assembled from its pieces, pieces.c), and the role's head (id,
 * current revision, archived), which the writes of roles.c ask for too.
 *
 * Every statement's run is over before its function returns (db_each, db_one and
 * db_one_int64 end it, whatever the outcome), as in roles.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define SQL_ROLE_ID "SELECT id, revision, archived FROM roles WHERE slug = $1"
/* Inside a write: the role's row stays locked until the transaction ends, so that writers on
 * other instances (PostgreSQL) wait for this one and then read the revision it made: the
 * revisions stay gapless and If-Match exact. SQLite's one writer needs no row lock. */
#define SQL_ROLE_ID_LOCKED SQL_ROLE_ID " FOR UPDATE"
static const char SQL_REV_COUNT[] = "SELECT count(*) FROM revisions WHERE role_id = $1";
/* No limit is asked for with the largest one (SQLite's LIMIT -1 is refused by PostgreSQL). */
static const char SQL_REV_LIST[] =
	"SELECT revision, score, zone, label, reason, changed_json, actor, created_at, NULL, NULL"
	" FROM revisions WHERE role_id = $1 ORDER BY revision DESC LIMIT $2 OFFSET $3";
/* The newest revisions of every live role. They are among the newest $1 revisions of the $1
 * roles updated last (a role's updated_at is its newest revision's time), so only those are
 * read, by the primary key: no index on time is kept for this, and no write pays for one. */
static const char SQL_REV_RECENT[] =
	"SELECT v.revision, v.score, v.zone, v.label, v.reason, v.changed_json, v.actor,"
	" v.created_at, NULL, NULL, rl.slug, rl.title"
	" FROM (SELECT id, slug, title, revision FROM roles WHERE archived = 0"
	"       ORDER BY updated_at DESC, id DESC LIMIT $1) rl"
	" JOIN revisions v ON v.role_id = rl.id AND v.revision > rl.revision - $1"
	" ORDER BY v.created_at DESC, rl.id DESC, v.revision DESC LIMIT $1";
/* Column 8 is the body's manifest (pieces.c), assembled after the row is read unless column
 * 10, the whole body that the current revision keeps, is there. */
static const char SQL_REV_GET[] =
	"SELECT v.revision, v.score, v.zone, v.label, v.reason, v.changed_json, v.actor,"
	" v.created_at, v.body, v.score_json, v.role_json"
	" FROM revisions v JOIN roles r ON r.id = v.role_id WHERE r.slug = $1 AND v.revision = $2";

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


void store_col_zone(char zone[8], struct db_stmt *st, int col)
{
	size_t n = 0;
	const char *z = db_col_text(st, col, &n);

	if (!z)
		n = 0;
	if (n > 7)
		n = 7;
	if (n)
		memcpy(zone, z, n);
	zone[n] = '\0';
}

/* Fills out from a revision row (column 8, the body's manifest, is left to the caller). */
static enum rc revision_from_row(struct db_stmt *st, struct store_revision *out)
{
	memset(out, 0, sizeof(*out));
	out->revision = (int)db_col_int64(st, 0);
	out->score = db_col_double(st, 1);
	store_col_zone(out->zone, st, 2);
	if (db_col_strdup(st, 3, &out->label) || db_col_strdup(st, 4, &out->reason) ||
	    db_col_strdup(st, 5, &out->changed_json) || db_col_strdup(st, 6, &out->actor) ||
	    db_col_strdup(st, 7, &out->created_at) || db_col_strdup(st, 9, &out->score_json) ||
	    !out->label || !out->changed_json || !out->created_at) {
		store_revision_release(out);
		return RC_NOMEM;
	}
	return RC_OK;
}

static enum rc head_row(void *ctx, struct db_stmt *st)
{
	struct store_role_head *out = ctx;

	out->id = db_col_int64(st, 0);
	out->revision = (int)db_col_int64(st, 1);
	out->archived = (int)db_col_int64(st, 2);
	return RC_OK;
}

static int head_get(struct store_conn *c, const char *sql, const char *slug,
		    struct store_role_head *out)
{
	struct db_stmt *st;
	enum rc rc;

	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, sql, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, slug);
	return db_one(st, head_row, out);
}

int revisions_head(struct store_conn *c, const char *slug, struct store_role_head *out)
{
	return head_get(c, SQL_ROLE_ID, slug, out);
}

int revisions_head_locked(struct store_conn *c, const char *slug, struct store_role_head *out)
{
	return head_get(c, c ? db_sql(c->dc, SQL_ROLE_ID, SQL_ROLE_ID_LOCKED) : NULL, slug, out);
}

int store_role_head(struct store *s, const char *slug, struct store_role_head *out)
{
	return revisions_head(store_reader(s), slug, out);
}

int store_tx_role_head(struct store_tx *tx, const char *slug, struct store_role_head *out)
{
	return revisions_head_locked(tx->conn, slug, out);
}

/* A walk over revision rows, as role_walk; named: the row also has the role's slug and title
 * (columns 10 and 11). */
struct revision_walk {
	int (*row)(void *ctx, const struct store_revision *r);
	void *ctx;
	int named;
};

static enum rc revision_walk_row(void *ctx, struct db_stmt *st)
{
	struct revision_walk *w = ctx;
	struct store_revision r;
	enum rc rc;
	int stop;

	rc = revision_from_row(st, &r);
	if (rc)
		return rc;
	if (w->named && (db_col_strdup(st, 10, &r.slug) || db_col_strdup(st, 11, &r.title) ||
			 !r.slug || !r.title)) {
		store_revision_release(&r);
		return RC_NOMEM;
	}
	stop = w->row(w->ctx, &r);
	store_revision_release(&r);
	return stop ? RC_STOP : RC_OK;
}

int store_revisions_list(struct store *s, const char *slug, int limit, int offset,
			 int (*row)(void *ctx, const struct store_revision *r), void *ctx, int *total)
{
	struct store_conn *c = store_reader(s);
	struct revision_walk w = { row, ctx, 0 };
	struct db_stmt *st;
	struct store_role_head head;
	int64_t n;
	enum rc rc;

	rc = revisions_head(c, slug, &head);
	if (rc)
		return rc;
	rc = db_prepare(c->dc, SQL_REV_COUNT, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, head.id);
	rc = db_one_int64(st, &n);
	if (rc)
		return rc == RC_NOTFOUND ? RC_IO : rc;
	if (total)
		*total = (int)n;

	rc = db_prepare(c->dc, SQL_REV_LIST, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, head.id);
	db_bind_int64(st, 2, limit > 0 ? limit : INT64_MAX);
	db_bind_int64(st, 3, offset > 0 ? offset : 0);
	return db_each(st, revision_walk_row, &w);
}

int store_revisions_recent(struct store *s, int limit,
			   int (*row)(void *ctx, const struct store_revision *r), void *ctx)
{
	struct store_conn *c = store_reader(s);
	struct revision_walk w = { row, ctx, 1 };
	struct db_stmt *st;
	enum rc rc;

	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, SQL_REV_RECENT, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, limit > 0 ? limit : 1);
	return db_each(st, revision_walk_row, &w);
}

struct revision_got {
	struct store_revision *out;
	unsigned char *manifest; /* the body's, copied out of the row */
	size_t len;
};

static enum rc revision_one_row(void *ctx, struct db_stmt *st)
{
	struct revision_got *g = ctx;
	enum rc rc = revision_from_row(st, g->out);

	if (!rc && !db_col_is_null(st, 10))
		rc = db_col_strdup(st, 10, &g->out->role_json);
	else if (!rc)
		rc = pieces_manifest_copy(st, 8, &g->manifest, &g->len);
	return rc;
}

int store_revision_get(struct store *s, const char *slug, int revision, struct store_revision *out)
{
	struct store_conn *c = store_reader(s);
	struct revision_got g = { out, NULL, 0 };
	struct db_stmt *st;
	enum rc rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return RC_IO;
	/* One read transaction for the row and its pieces: one snapshot, and SQLite takes its
	 * read lock once, not once per piece (that was most of the time of a read). */
	rc = db_begin(c->dc, DB_TX_SNAPSHOT);
	if (rc)
		return rc;
	rc = db_prepare(c->dc, SQL_REV_GET, &st);
	if (!rc) {
		db_bind_text(st, 1, slug);
		db_bind_int64(st, 2, revision);
		rc = db_one(st, revision_one_row, &g);
	}
	if (!rc && !out->role_json)
		rc = pieces_get(c->dc, g.manifest, g.len, &out->role_json);
	(void)db_rollback(c->dc); /* it wrote nothing */
	free(g.manifest);
	if (rc)
		store_revision_release(out);
	return rc;
}

