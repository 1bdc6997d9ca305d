/*
 * webhooks.c: webhook subscriptions, the rows of table webhooks (store.h), and what pausing
 * and resuming one does to its queue of deliveries. The events and deliveries themselves are
 * outbox.c's.
 *
 * A disabled subscription is paused: its deliveries are still written, as "pending" rows that
 * the dispatcher skips (reads show them as "paused"), and are sent in order once it is active
 * again; those older than the pause window expire (store_tx_deliveries_expire, and at resume).
 * "paused" is therefore never stored: it is the pending status seen through a disabled
 * subscription, so that pausing and resuming touch one row, not the whole queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* ---------------------------------------------------------------------------------------
 * Rows
 */

#define WEBHOOK_COLS \
	"w.id, w.url, w.events_json, w.roles_json, w.description, w.secret, w.status, " \
	"w.created_at, w.updated_at, w.disabled_reason"

void store_webhook_release(struct store_webhook *w)
{
	if (!w)
		return;
	free(w->id);
	free(w->url);
	free(w->events_json);
	free(w->roles_json);
	free(w->description);
	free(w->secret);
	free(w->status);
	free(w->disabled_reason);
	free(w->created_at);
	free(w->updated_at);
	memset(w, 0, sizeof(*w));
}

/* Fills w from a row of WEBHOOK_COLS starting at column 0. */
static enum rc webhook_from_row(struct db_stmt *st, struct store_webhook *w)
{
	memset(w, 0, sizeof(*w));
	if (db_col_strdup(st, 0, &w->id) || db_col_strdup(st, 1, &w->url) ||
	    db_col_strdup(st, 2, &w->events_json) || db_col_strdup(st, 3, &w->roles_json) ||
	    db_col_strdup(st, 4, &w->description) || db_col_strdup(st, 5, &w->secret) ||
	    db_col_strdup(st, 6, &w->status) || db_col_strdup(st, 7, &w->created_at) ||
	    db_col_strdup(st, 8, &w->updated_at) || db_col_strdup(st, 9, &w->disabled_reason) ||
	    !w->id || !w->url || !w->events_json || !w->secret || !w->status || !w->created_at ||
	    !w->updated_at) {
		store_webhook_release(w);
		return RC_NOMEM;
	}
	return RC_OK;
}

/* ---------------------------------------------------------------------------------------
 * Subscriptions
 */

int store_tx_webhook_create(struct store_tx *tx, const struct store_webhook *w)
{
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(tx->conn->dc, "INSERT INTO webhooks (id, url, events_json, roles_json, "
				      "description, secret, status, created_at, updated_at) "
				      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, w->id);
	db_bind_text(st, 2, w->url);
	db_bind_text(st, 3, w->events_json);
	db_bind_text(st, 4, w->roles_json);
	db_bind_text(st, 5, w->description);
	db_bind_text(st, 6, w->secret);
	db_bind_text(st, 7, w->status ? w->status : "active");
	db_bind_text(st, 8, w->created_at ? w->created_at : tx->now);
	rc = db_exec(st);
	if (!rc)
		tx->changed = 1;
	return rc;
}

/* Expires the pending deliveries created before cutoff of subscription id (being resumed),
 * or with id NULL of every disabled one; *n gets how many (may be NULL). */
static enum rc expire_pending(struct store_tx *tx, const char *id, int64_t cutoff, int *n)
{
	char iso[CLOCK_ISO_LEN], why[96];
	struct db_stmt *st;
	int64_t days;
	enum rc rc;

	/* created_at is RFC 3339 UTC to the second: its text order is its time order. */
	clock_iso((time_t)cutoff, iso);
	days = outbox_pause(tx->s->outbox) / 86400;
	snprintf(why, sizeof(why), "expired: its subscription was paused for more than %lld day%s",
		 (long long)days, days == 1 ? "" : "s");
	/* Two texts, so that each keeps its own plan; only the first has $4 (the subscription).
	 * No text skips a number: PostgreSQL cannot type a parameter the SQL never uses. */
	if (id)
		rc = db_prepare(tx->conn->dc,
				"UPDATE deliveries SET status = 'expired', next_attempt_at = NULL, "
				"last_error = $2, updated_at = $3 WHERE webhook_id = $4 AND "
				"status = 'pending' AND created_at < $1", &st);
	else
		rc = db_prepare(tx->conn->dc,
				"UPDATE deliveries SET status = 'expired', next_attempt_at = NULL, "
				"last_error = $2, updated_at = $3 WHERE status = 'pending' AND "
				"created_at < $1 AND webhook_id IN "
				"(SELECT id FROM webhooks WHERE status = 'disabled')", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, iso);
	db_bind_text(st, 2, why);
	db_bind_text(st, 3, tx->now);
	if (id)
		db_bind_text(st, 4, id);
	rc = db_exec(st);
	if (rc)
		return rc;
	if (db_changes(st) > 0)
		tx->changed = 1;
	if (n)
		*n = (int)db_changes(st);
	return RC_OK;
}

int store_tx_deliveries_expire(struct store_tx *tx, int64_t cutoff, int *n)
{
	return expire_pending(tx, NULL, cutoff, n);
}

/* A paused subscription is active again: what waited longer than the pause window expires,
 * the rest is due now, in order. In the job that resumes it, so no attempt comes between. */
static enum rc webhook_resume(struct store_tx *tx, const char *id)
{
	struct db_stmt *st;
	enum rc rc;

	rc = expire_pending(tx, id, tx->now_unix - outbox_pause(tx->s->outbox), NULL);
	if (rc)
		return rc;
	/* A head that was waiting for a retry when the pause began is due now too. */
	rc = db_prepare(tx->conn->dc, "UPDATE deliveries SET next_attempt_at = $2 WHERE "
				      "webhook_id = $1 AND status = 'pending' AND next_attempt_at > $2",
			&st);
	if (rc)
		return rc;
	db_bind_text(st, 1, id);
	db_bind_int64(st, 2, tx->now_unix);
	rc = db_exec(st);
	if (!rc)
		tx->events_added = 1; /* wake the dispatcher after commit */
	return rc;
}

/* The text of column 0 is "disabled". */
static enum rc status_row(void *ctx, struct db_stmt *st)
{
	const char *t = db_col_text(st, 0, NULL);

	*(int *)ctx = t && !strcmp(t, "disabled");
	return RC_OK;
}

/*
 * NULL fields are kept. Because NULL means "keep", two values stand for clearing: roles_json
 * "null" (the JSON null) makes the subscription cover every role again, and an empty
 * description removes the description.
 */
int store_tx_webhook_update(struct store_tx *tx, const struct store_webhook *w)
{
	struct db_conn *c = tx->conn->dc;
	struct db_stmt *st;
	int was_disabled = 0;
	enum rc rc;

	/* Only a change of status moves disabled_reason, and only a resume touches the queue. */
	rc = db_prepare(c, "SELECT status FROM webhooks WHERE id = $1", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, w->id);
	rc = db_one(st, status_row, &was_disabled);
	if (rc)
		return rc;
	rc = db_prepare(c, "UPDATE webhooks SET url = coalesce($2, url), "
			   "events_json = coalesce($3, events_json), "
			   "roles_json = CASE WHEN CAST($4 AS TEXT) IS NULL THEN roles_json "
			   "WHEN $4 = 'null' THEN NULL ELSE $4 END, "
			   "description = CASE WHEN CAST($5 AS TEXT) IS NULL THEN description "
			   "ELSE nullif($5, '') END, "
			   "disabled_reason = CASE WHEN $6 = 'active' THEN NULL "
			   "WHEN $6 = 'disabled' AND status = 'active' THEN $8 ELSE disabled_reason END, "
			   "status = coalesce($6, status), updated_at = $7 WHERE id = $1", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, w->id);
	db_bind_text(st, 2, w->url);
	db_bind_text(st, 3, w->events_json);
	db_bind_text(st, 4, w->roles_json);
	db_bind_text(st, 5, w->description);
	db_bind_text(st, 6, w->status);
	db_bind_text(st, 7, tx->now);
	db_bind_text(st, 8, STORE_DISABLED_REQUESTED);
	rc = db_exec(st);
	if (rc)
		return rc;
	tx->changed = 1;
	if (was_disabled && w->status && !strcmp(w->status, "active"))
		return webhook_resume(tx, w->id);
	return RC_OK;
}

/* Runs sql with the text $1 bound to id; *changes gets the rows it changed (may be NULL). */
static enum rc exec_id(struct db_conn *c, const char *sql, const char *id, int64_t *changes)
{
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(c, sql, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, id);
	rc = db_exec(st);
	if (!rc && changes)
		*changes = db_changes(st);
	return rc;
}

int store_tx_webhook_delete(struct store_tx *tx, const char *id)
{
	struct db_conn *c = tx->conn->dc;
	int64_t n = 0;
	enum rc rc;

	rc = exec_id(c, "DELETE FROM webhooks WHERE id = $1", id, &n);
	if (rc)
		return rc;
	if (n == 0)
		return RC_NOTFOUND;
	rc = exec_id(c, "DELETE FROM delivery_attempts WHERE delivery_id IN "
			"(SELECT id FROM deliveries WHERE webhook_id = $1)", id, NULL);
	if (!rc)
		rc = exec_id(c, "DELETE FROM deliveries WHERE webhook_id = $1", id, NULL);
	if (rc)
		return rc;
	tx->changed = 1;
	return RC_OK;
}

static enum rc webhook_row(void *ctx, struct db_stmt *st)
{
	return webhook_from_row(st, ctx);
}

/* One webhook by id on connection c. */
static enum rc webhook_get(struct store_conn *c, const char *id, struct store_webhook *out)
{
	struct db_stmt *st;
	enum rc rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, "SELECT " WEBHOOK_COLS " FROM webhooks w WHERE w.id = $1", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, id);
	return db_one(st, webhook_row, out);
}

int store_webhook_get(struct store *s, const char *id, struct store_webhook *out)
{
	return webhook_get(store_reader(s), id, out);
}

int store_tx_webhook_get(struct store_tx *tx, const char *id, struct store_webhook *out)
{
	return webhook_get(tx->conn, id, out);
}

struct webhook_rows {
	int (*row)(void *ctx, const struct store_webhook *w);
	void *ctx;
};

/* A row function's non-zero answer fails the list (as it always has here). */
static enum rc webhook_list_row(void *ctx, struct db_stmt *st)
{
	struct webhook_rows *r = ctx;
	struct store_webhook w;
	enum rc rc;

	rc = webhook_from_row(st, &w);
	if (rc)
		return rc;
	rc = (enum rc)r->row(r->ctx, &w);
	store_webhook_release(&w);
	return rc;
}

int store_webhooks_list(struct store *s, int limit, int offset,
			int (*row)(void *ctx, const struct store_webhook *w), void *ctx, int *total)
{
	struct store_conn *c = store_reader(s);
	struct webhook_rows r = { row, ctx };
	struct db_stmt *st;
	int64_t n = 0;
	enum rc rc;

	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, "SELECT COUNT(*) FROM webhooks", &st);
	if (!rc)
		rc = db_one_int64(st, &n);
	if (rc)
		return rc;
	*total = (int)n;
	/* Subscriptions created in the same second in creation order: SQLite's rowid,
	 * PostgreSQL's seq (0002_webhooks.sql). */
	rc = db_prepare(c->dc, db_sql(c->dc, "SELECT " WEBHOOK_COLS " FROM webhooks w "
					     "ORDER BY w.created_at, w.rowid LIMIT $1 OFFSET $2",
				      "SELECT " WEBHOOK_COLS " FROM webhooks w "
				      "ORDER BY w.created_at, w.seq LIMIT $1 OFFSET $2"), &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, limit);
	db_bind_int64(st, 2, offset);
	return db_each(st, webhook_list_row, &r);
}
