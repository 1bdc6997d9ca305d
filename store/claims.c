/*
 * claims.c: what the dispatcher may send, and the claims that make one instance send it.
 *
 * Only the oldest pending delivery of an active subscription is ever due (so that an endpoint
 * gets its events in order), once its next attempt has come and while no instance holds a
 * claim on it. The dispatcher claims what is due in a short write job (claimed_by, this
 * instance's id; claimed_until, the end of a lease in Unix milliseconds, migration 0011), sends
 * what it claimed, and records each attempt (outbox.c), which ends the claim. While a
 * subscription's oldest pending delivery is claimed, nothing of that subscription is due: a
 * claimed delivery holds back the later ones. A claim never recorded, because its instance
 * died mid-send, lapses with its lease: then any instance claims the delivery and sends it
 * again (at least once, across crashes).
 *
 * On PostgreSQL several instances claim at once: the claim locks the rows it takes with
 * FOR UPDATE SKIP LOCKED, so that one never waits for another nor takes a row another is
 * taking; a row another instance claimed and committed meanwhile is checked again once locked
 * (READ COMMITTED) and left, its claim no longer lapsed. On SQLite the one writer claims alone.
 *
 * It must never send anything or wait for anything but the database; a claim changes nothing
 * a read shows, so it is no change for the caches or the other instances.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* The oldest pending delivery of every active subscription: the only one that may be sent.
 * One seek per subscription in the pending index, not a pass over every pending delivery:
 * the dispatcher asks after every commit that queued an event, and a subscriber that is down
 * can have a long queue. */
#define HEADS \
	"(SELECT (SELECT p.id FROM deliveries p WHERE p.webhook_id = a.id AND" \
	" p.status = 'pending' ORDER BY p.id LIMIT 1) AS id FROM webhooks a" \
	" WHERE a.status = 'active') h " \
	"JOIN deliveries d ON d.id = h.id " \
	"JOIN webhooks w ON w.id = d.webhook_id AND w.status = 'active' "

/* A head due at `now` (Unix seconds) and free of claims at `now_ms`. The conditions on d
 * itself (its status included, though HEADS picked a pending one) are what PostgreSQL checks
 * again on a row that another transaction changed before this one locked it. */
#define DUE_FREE(now, now_ms) \
	"d.status = 'pending' AND d.next_attempt_at <= " now " AND " \
	"(d.claimed_until IS NULL OR d.claimed_until <= " now_ms ") "

int store_deliveries_due(struct store *s, int64_t now, int limit,
			 int (*row)(void *ctx, const struct store_delivery *d), void *ctx)
{
	struct store_conn *c = store_reader(s);
	struct outbox_rows r = { 1, row, ctx };
	struct db_stmt *st;
	enum rc rc;

	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, "SELECT " OUTBOX_DELIVERY_COLS ", e.payload_json, w.url, w.secret "
			"FROM " HEADS "JOIN events e ON e.id = d.event_id WHERE " DUE_FREE("$1", "$2")
			"ORDER BY d.next_attempt_at, d.id LIMIT $3", &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, now);
	db_bind_int64(st, 2, now * 1000);
	db_bind_int64(st, 3, limit);
	return db_each(st, outbox_delivery_row, &r);
}

static enum rc next_due_row(void *ctx, struct db_stmt *st)
{
	if (!db_col_is_null(st, 0))
		*(int64_t *)ctx = db_col_int64(st, 0);
	return RC_OK;
}

int store_deliveries_next_due(struct store *s, int64_t *when)
{
	struct store_conn *c = store_reader(s);
	struct db_stmt *st;
	enum rc rc;

	*when = -1;
	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, "SELECT min(CASE WHEN d.claimed_until > d.next_attempt_at * 1000 "
			"THEN (d.claimed_until + 999) / 1000 ELSE d.next_attempt_at END) FROM " HEADS,
			&st);
	if (rc)
		return rc;
	return db_one(st, next_due_row, when);
}

/* ---------------------------------------------------------------------------------------
 * Claiming
 */

/* A claim job's work and its outcome: the ids it claimed (sorted), then their rows. */
struct claim {
	struct store *s;
	int64_t now_ms, until_ms;
	int limit;
	int64_t *ids;
	size_t n_ids;
	struct store_delivery *rows;
	size_t n_rows;
};

static void claim_results_free(struct claim *cl)
{
	size_t i;

	for (i = 0; i < cl->n_rows; i++)
		store_delivery_release(&cl->rows[i]);
	free(cl->rows);
	free(cl->ids);
	cl->rows = NULL;
	cl->ids = NULL;
	cl->n_rows = 0;
	cl->n_ids = 0;
}

static enum rc claimed_id(void *ctx, struct db_stmt *st)
{
	struct claim *cl = ctx;

	if (cl->n_ids == (size_t)cl->limit)
		return RC_IO; /* the statement's LIMIT says this cannot be */
	cl->ids[cl->n_ids++] = db_col_int64(st, 0);
	return RC_OK;
}

static int id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* A row claimed by this instance with this job's lease: kept if this job claimed it (an
 * earlier claim of the same millisecond is not this job's). */
static enum rc claimed_row(void *ctx, struct db_stmt *st)
{
	struct claim *cl = ctx;
	int64_t id = db_col_int64(st, 0);
	enum rc rc;

	if (!bsearch(&id, cl->ids, cl->n_ids, sizeof(id), id_cmp) || cl->n_rows == cl->n_ids)
		return RC_OK;
	rc = outbox_delivery_read(st, &cl->rows[cl->n_rows], 1);
	if (rc)
		return rc;
	cl->n_rows++;
	return RC_OK;
}

/* The UPDATE that claims: the ids of the heads due and free, up to $5, locked as they are
 * taken on PostgreSQL (LOCK). */
#define CLAIM(LOCK) \
	"UPDATE deliveries SET claimed_by = $1, claimed_until = $2 WHERE id IN (SELECT d.id FROM " \
	HEADS "WHERE " DUE_FREE("$3", "$4") "ORDER BY d.next_attempt_at, d.id LIMIT $5" LOCK ") " \
	"RETURNING id"

static int claim_job(struct store_tx *tx, void *arg)
{
	struct claim *cl = arg;
	struct db_conn *c = tx->conn->dc;
	struct db_stmt *st;
	enum rc rc;

	claim_results_free(cl); /* a job may run again when its batch is retried */
	cl->ids = malloc((size_t)cl->limit * sizeof(*cl->ids));
	cl->rows = calloc((size_t)cl->limit, sizeof(*cl->rows));
	if (!cl->ids || !cl->rows)
		return RC_NOMEM;
	rc = db_prepare(c, db_sql(c, CLAIM(""), CLAIM(" FOR UPDATE OF d SKIP LOCKED")), &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, cl->s->instance);
	db_bind_int64(st, 2, cl->until_ms);
	db_bind_int64(st, 3, cl->now_ms / 1000);
	db_bind_int64(st, 4, cl->now_ms);
	db_bind_int64(st, 5, cl->limit);
	rc = db_each(st, claimed_id, cl);
	if (rc || !cl->n_ids)
		return rc;
	qsort(cl->ids, cl->n_ids, sizeof(*cl->ids), id_cmp);
	rc = db_prepare(c, "SELECT " OUTBOX_DELIVERY_COLS ", e.payload_json, w.url, w.secret "
			   "FROM deliveries d JOIN events e ON e.id = d.event_id "
			   "JOIN webhooks w ON w.id = d.webhook_id "
			   "WHERE d.claimed_by = $1 AND d.claimed_until = $2 "
			   "ORDER BY d.next_attempt_at, d.id", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, cl->s->instance);
	db_bind_int64(st, 2, cl->until_ms);
	return db_each(st, claimed_row, cl);
}

int store_deliveries_claim(struct store *s, int64_t now_ms, int64_t lease_ms, int limit,
			   int (*row)(void *ctx, const struct store_delivery *d), void *ctx, int *n)
{
	struct claim cl;
	size_t i;
	int rc;

	if (n)
		*n = 0;
	if (limit <= 0)
		return RC_OK;
	memset(&cl, 0, sizeof(cl));
	cl.s = s;
	cl.now_ms = now_ms;
	cl.until_ms = now_ms + (lease_ms > 0 ? lease_ms : 1);
	cl.limit = limit;
	rc = store_write(s, claim_job, &cl);
	if (!rc) {
		for (i = 0; i < cl.n_rows; i++)
			(void)row(ctx, &cl.rows[i]);
		if (n)
			*n = (int)cl.n_rows;
	}
	claim_results_free(&cl);
	return rc;
}

static int reset_job(struct store_tx *tx, void *arg)
{
	struct db_stmt *st;
	enum rc rc;

	(void)arg;
	/* SQLite: one server owns the file, so every claim there is one of an earlier start
	 * ($1 is only bound). PostgreSQL: this process's id, new at each start, holds none; the
	 * claims of dead instances lapse with their lease. */
	rc = db_prepare(tx->conn->dc,
			db_sql(tx->conn->dc,
			       "UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL"
			       " WHERE claimed_by IS NOT NULL AND CAST($1 AS TEXT) IS NOT NULL",
			       "UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL"
			       " WHERE claimed_by = $1"), &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, tx->s->instance);
	return db_exec(st);
}

int store_deliveries_claims_reset(struct store *s)
{
	return store_write(s, reset_job, NULL);
}
