/*
 * outbox.c: webhook subscriptions, events and their deliveries (the outbox of store.h).
 *
 * An event and one delivery row per matching subscription are written inside the job that
 * writes the revision, so they commit, or vanish, with it. The dispatcher reads what is due
 * (only the oldest pending delivery of each subscription, so that an endpoint gets its events
 * in order) and records each attempt through a job. Nothing here sends anything or knows
 * HTTP; it never sleeps except in store_outbox_wait().
 *
 * A disabled subscription is paused: its deliveries are still written, as "pending" rows that
 * the dispatcher skips (reads show them as "paused"), and are sent in order once it is active
 * again; those older than the pause window expire (store_tx_deliveries_expire, and at resume).
 * "paused" is therefore never stored: it is the pending status seen through a disabled
 * subscription, so that pausing and resuming touch one row, not the whole queue.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_int.h"

/* ---------------------------------------------------------------------------------------
 * Rows
 */

#define WEBHOOK_COLS \
	"w.id, w.url, w.events_json, w.roles_json, w.description, w.secret, w.status, " \
	"w.created_at, w.updated_at, w.disabled_reason"

/* Needs the delivery's subscription as w: a pending delivery of a disabled one is paused. */
#define DELIVERY_COLS \
	"d.id, d.webhook_id, d.event_id, e.type, " \
	"CASE WHEN d.status = 'pending' AND w.status = 'disabled' THEN 'paused' ELSE d.status END, " \
	"d.attempts, d.last_status_code, d.last_error, d.next_attempt_at, d.created_at, d.updated_at"

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

void store_delivery_release(struct store_delivery *d)
{
	if (!d)
		return;
	free(d->webhook_id);
	free(d->event_id);
	free(d->event_type);
	free(d->status);
	free(d->last_error);
	free(d->next_attempt_at);
	free(d->created_at);
	free(d->updated_at);
	free(d->payload_json);
	free(d->url);
	free(d->secret);
	memset(d, 0, sizeof(*d));
}

/* Fills w from a row of WEBHOOK_COLS starting at column 0. */
static int webhook_from_row(sqlite3_stmt *st, struct store_webhook *w)
{
	memset(w, 0, sizeof(*w));
	w->id = store_col_strdup(st, 0);
	w->url = store_col_strdup(st, 1);
	w->events_json = store_col_strdup(st, 2);
	w->roles_json = store_col_strdup(st, 3);
	w->description = store_col_strdup(st, 4);
	w->secret = store_col_strdup(st, 5);
	w->status = store_col_strdup(st, 6);
	w->created_at = store_col_strdup(st, 7);
	w->updated_at = store_col_strdup(st, 8);
	w->disabled_reason = store_col_strdup(st, 9);
	if (!w->id || !w->url || !w->events_json || !w->secret || !w->status || !w->created_at ||
	    !w->updated_at) {
		store_webhook_release(w);
		return RC_NOMEM;
	}
	return RC_OK;
}

/* Fills d from a row of DELIVERY_COLS, plus payload, url and secret after them if extras. */
static int delivery_from_row(sqlite3_stmt *st, struct store_delivery *d, int extras)
{
	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(st, 0);
	d->webhook_id = store_col_strdup(st, 1);
	d->event_id = store_col_strdup(st, 2);
	d->event_type = store_col_strdup(st, 3);
	d->status = store_col_strdup(st, 4);
	d->attempts = sqlite3_column_int(st, 5);
	d->last_status_code = sqlite3_column_int(st, 6);
	d->last_error = store_col_strdup(st, 7);
	if (d->status && !strcmp(d->status, "pending") &&
	    sqlite3_column_type(st, 8) != SQLITE_NULL) {
		char iso[CLOCK_ISO_LEN];

		clock_iso((time_t)sqlite3_column_int64(st, 8), iso);
		d->next_attempt_at = strdup(iso);
		if (!d->next_attempt_at)
			goto oom;
	}
	d->created_at = store_col_strdup(st, 9);
	d->updated_at = store_col_strdup(st, 10);
	if (!d->webhook_id || !d->event_id || !d->event_type || !d->status || !d->created_at ||
	    !d->updated_at)
		goto oom;
	if (extras) {
		d->payload_json = store_col_strdup(st, 11);
		d->url = store_col_strdup(st, 12);
		d->secret = store_col_strdup(st, 13);
		if (!d->payload_json || !d->url || !d->secret)
			goto oom;
	}
	return RC_OK;
oom:
	store_delivery_release(d);
	return RC_NOMEM;
}

/* Steps a statement that returns no rows (or whose rows are not wanted) to its end. */
static int step_done(struct store_conn *c, sqlite3_stmt *st)
{
	int src;

	while ((src = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	return src == SQLITE_DONE ? RC_OK : store_sqlite_rc(c, src);
}

/* ---------------------------------------------------------------------------------------
 * Subscriptions
 */

int store_tx_webhook_create(struct store_tx *tx, const struct store_webhook *w)
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(c, "INSERT INTO webhooks (id, url, events_json, roles_json, description, "
			   "secret, status, created_at, updated_at) "
			   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)");
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, w->id);
	store_bind_text(st, 2, w->url);
	store_bind_text(st, 3, w->events_json);
	store_bind_text(st, 4, w->roles_json);
	store_bind_text(st, 5, w->description);
	store_bind_text(st, 6, w->secret);
	store_bind_text(st, 7, w->status ? w->status : "active");
	store_bind_text(st, 8, w->created_at ? w->created_at : tx->now);
	rc = step_done(c, st);
	if (!rc)
		tx->changed = 1;
	return rc;
}

/* Expires the pending deliveries created before cutoff of subscription id (being resumed),
 * or with id NULL of every disabled one; *n gets how many (may be NULL). */
static int expire_pending(struct store_tx *tx, const char *id, int64_t cutoff, int *n)
{
	struct store_conn *c = tx->conn;
	char iso[CLOCK_ISO_LEN], why[96];
	sqlite3_stmt *st;
	int64_t days;
	int rc;

	/* created_at is RFC 3339 UTC to the second: its text order is its time order. */
	clock_iso((time_t)cutoff, iso);
	days = store_webhook_pause(tx->s) / 86400;
	snprintf(why, sizeof(why), "expired: its subscription was paused for more than %lld day%s",
		 (long long)days, days == 1 ? "" : "s");
	if (id)
		st = store_stmt(c, "UPDATE deliveries SET status = 'expired', next_attempt_at = NULL, "
				   "last_error = ?3, updated_at = ?4 WHERE webhook_id = ?1 AND "
				   "status = 'pending' AND created_at < ?2");
	else
		st = store_stmt(c, "UPDATE deliveries SET status = 'expired', next_attempt_at = NULL, "
				   "last_error = ?3, updated_at = ?4 WHERE status = 'pending' AND "
				   "created_at < ?2 AND webhook_id IN "
				   "(SELECT id FROM webhooks WHERE status = 'disabled')");
	if (!st)
		return RC_IO;
	if (id)
		store_bind_text(st, 1, id);
	store_bind_text(st, 2, iso);
	store_bind_text(st, 3, why);
	store_bind_text(st, 4, tx->now);
	rc = step_done(c, st);
	if (rc)
		return rc;
	if (sqlite3_changes(c->db) > 0)
		tx->changed = 1;
	if (n)
		*n = sqlite3_changes(c->db);
	return RC_OK;
}

int store_tx_deliveries_expire(struct store_tx *tx, int64_t cutoff, int *n)
{
	return expire_pending(tx, NULL, cutoff, n);
}

/* A paused subscription is active again: what waited longer than the pause window expires,
 * the rest is due now, in order. In the job that resumes it, so no attempt comes between. */
static int webhook_resume(struct store_tx *tx, const char *id)
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st;
	int rc;

	rc = expire_pending(tx, id, tx->now_unix - store_webhook_pause(tx->s), NULL);
	if (rc)
		return rc;
	/* A head that was waiting for a retry when the pause began is due now too. */
	st = store_stmt(c, "UPDATE deliveries SET next_attempt_at = ?2 WHERE webhook_id = ?1 AND "
			   "status = 'pending' AND next_attempt_at > ?2");
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, tx->now_unix);
	rc = step_done(c, st);
	if (!rc)
		tx->events_added = 1; /* wake the dispatcher after commit */
	return rc;
}

/*
 * NULL fields are kept. Because NULL means "keep", two values stand for clearing: roles_json
 * "null" (the JSON null) makes the subscription cover every role again, and an empty
 * description removes the description.
 */
int store_tx_webhook_update(struct store_tx *tx, const struct store_webhook *w)
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st;
	int src, rc, was_disabled;

	/* Only a change of status moves disabled_reason, and only a resume touches the queue. */
	st = store_stmt(c, "SELECT status FROM webhooks WHERE id = ?1");
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, w->id);
	src = sqlite3_step(st);
	was_disabled = src == SQLITE_ROW && sqlite3_column_text(st, 0) &&
		       !strcmp((const char *)sqlite3_column_text(st, 0), "disabled");
	sqlite3_reset(st);
	if (src == SQLITE_DONE)
		return RC_NOTFOUND;
	if (src != SQLITE_ROW)
		return store_sqlite_rc(c, src);
	st = store_stmt(c, "UPDATE webhooks SET url = coalesce(?2, url), "
			   "events_json = coalesce(?3, events_json), "
			   "roles_json = CASE WHEN ?4 IS NULL THEN roles_json "
			   "WHEN ?4 = 'null' THEN NULL ELSE ?4 END, "
			   "description = CASE WHEN ?5 IS NULL THEN description "
			   "ELSE nullif(?5, '') END, "
			   "disabled_reason = CASE WHEN ?6 = 'active' THEN NULL "
			   "WHEN ?6 = 'disabled' AND status = 'active' THEN ?8 ELSE disabled_reason END, "
			   "status = coalesce(?6, status), updated_at = ?7 WHERE id = ?1");
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, w->id);
	store_bind_text(st, 2, w->url);
	store_bind_text(st, 3, w->events_json);
	store_bind_text(st, 4, w->roles_json);
	store_bind_text(st, 5, w->description);
	store_bind_text(st, 6, w->status);
	store_bind_text(st, 7, tx->now);
	store_bind_text(st, 8, STORE_DISABLED_REQUESTED);
	rc = step_done(c, st);
	if (rc)
		return rc;
	tx->changed = 1;
	if (was_disabled && w->status && !strcmp(w->status, "active"))
		return webhook_resume(tx, w->id);
	return RC_OK;
}

int store_tx_webhook_delete(struct store_tx *tx, const char *id)
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(c, "DELETE FROM webhooks WHERE id = ?1");
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, id);
	rc = step_done(c, st);
	if (rc)
		return rc;
	if (sqlite3_changes(c->db) == 0)
		return RC_NOTFOUND;
	st = store_stmt(c, "DELETE FROM delivery_attempts WHERE delivery_id IN "
			   "(SELECT id FROM deliveries WHERE webhook_id = ?1)");
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, id);
	rc = step_done(c, st);
	if (rc)
		return rc;
	st = store_stmt(c, "DELETE FROM deliveries WHERE webhook_id = ?1");
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, id);
	rc = step_done(c, st);
	if (rc)
		return rc;
	tx->changed = 1;
	return RC_OK;
}

/* One webhook by id on connection c, with the statement text given (a literal). */
static int webhook_get(struct store_conn *c, sqlite3_stmt *st, const char *id,
		       struct store_webhook *out)
{
	int src, rc;

	memset(out, 0, sizeof(*out));
	store_bind_text(st, 1, id);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		rc = webhook_from_row(st, out);
	else if (src == SQLITE_DONE)
		rc = RC_NOTFOUND;
	else
		rc = store_sqlite_rc(c, src);
	sqlite3_reset(st);
	return rc;
}

int store_webhook_get(struct store *s, const char *id, struct store_webhook *out)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st;

	memset(out, 0, sizeof(*out));
	if (!c)
		return RC_IO;
	st = store_stmt(c, "SELECT " WEBHOOK_COLS " FROM webhooks w WHERE w.id = ?1");
	if (!st)
		return RC_IO;
	return webhook_get(c, st, id, out);
}

int store_tx_webhook_get(struct store_tx *tx, const char *id, struct store_webhook *out)
{
	sqlite3_stmt *st;

	memset(out, 0, sizeof(*out));
	st = store_stmt(tx->conn, "SELECT " WEBHOOK_COLS " FROM webhooks w WHERE w.id = ?1");
	if (!st)
		return RC_IO;
	return webhook_get(tx->conn, st, id, out);
}

/* SELECT COUNT(*)-style statement with at most one text parameter: its first column. */
static int count_rows(struct store_conn *c, sqlite3_stmt *st, const char *param, int *out)
{
	int src;

	if (param)
		store_bind_text(st, 1, param);
	src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		sqlite3_reset(st);
		return store_sqlite_rc(c, src);
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return RC_OK;
}

int store_webhooks_list(struct store *s, int limit, int offset,
			int (*row)(void *ctx, const struct store_webhook *w), void *ctx, int *total)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st;
	struct store_webhook w;
	int src, rc;

	if (!c)
		return RC_IO;
	st = store_stmt(c, "SELECT COUNT(*) FROM webhooks");
	if (!st)
		return RC_IO;
	rc = count_rows(c, st, NULL, total);
	if (rc)
		return rc;
	st = store_stmt(c, "SELECT " WEBHOOK_COLS " FROM webhooks w "
			   "ORDER BY w.created_at, w.rowid LIMIT ?1 OFFSET ?2");
	if (!st)
		return RC_IO;
	sqlite3_bind_int(st, 1, limit);
	sqlite3_bind_int(st, 2, offset);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		rc = webhook_from_row(st, &w);
		if (rc)
			goto out;
		rc = row(ctx, &w);
		store_webhook_release(&w);
		if (rc)
			goto out;
	}
	rc = src == SQLITE_DONE ? RC_OK : store_sqlite_rc(c, src);
out:
	sqlite3_reset(st);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * Events and deliveries
 */

/* The subscriptions that get an event: active or paused (a paused one keeps its events for
 * when it resumes), listening for its type (?5), and following its role (?6) or every role.
 * One definition for the check before an event is built and for the insert of its
 * deliveries. */
#define SUBSCRIBED \
	"w.status IN ('active', 'disabled') " \
	"AND EXISTS (SELECT 1 FROM json_each(w.events_json) j WHERE j.value = ?5) " \
	"AND (w.roles_json IS NULL OR EXISTS (SELECT 1 FROM json_each(w.roles_json) r " \
	"WHERE r.value = ?6))"

int store_tx_event_add(struct store_tx *tx, const char *event_id, const char *type,
		       const char *role_slug, const char *payload_json, const char *only_webhook,
		       int *n_deliveries)
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st;
	int rc, n;

	st = store_stmt(c, "INSERT INTO events (id, type, role_slug, payload_json, created_at) "
			   "VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, event_id);
	store_bind_text(st, 2, type);
	store_bind_text(st, 3, role_slug);
	store_bind_text(st, 4, payload_json);
	store_bind_text(st, 5, tx->now);
	rc = step_done(c, st);
	if (rc)
		return rc;
	tx->changed = 1;

	if (only_webhook) {
		st = store_stmt(c, "INSERT INTO deliveries (webhook_id, event_id, status, attempts, "
				   "next_attempt_at, created_at, updated_at) "
				   "SELECT w.id, ?1, 'pending', 0, ?2, ?3, ?3 FROM webhooks w "
				   "WHERE w.id = ?4");
		if (!st)
			return RC_IO;
		store_bind_text(st, 4, only_webhook);
	} else {
		/* Subscriptions are matched in creation order, so deliveries of one event get
		 * ids in that order too. */
		st = store_stmt(c, "INSERT INTO deliveries (webhook_id, event_id, status, attempts, "
				   "next_attempt_at, created_at, updated_at) "
				   "SELECT w.id, ?1, 'pending', 0, ?2, ?3, ?3 FROM webhooks w "
				   "WHERE " SUBSCRIBED " ORDER BY w.created_at, w.rowid");
		if (!st)
			return RC_IO;
		store_bind_text(st, 5, type);
		store_bind_text(st, 6, role_slug);
	}
	store_bind_text(st, 1, event_id);
	sqlite3_bind_int64(st, 2, tx->now_unix);
	store_bind_text(st, 3, tx->now);
	rc = step_done(c, st);
	if (rc)
		return rc;
	n = sqlite3_changes(c->db);
	if (n > 0)
		tx->events_added = 1;
	if (n_deliveries)
		*n_deliveries = n;
	return RC_OK;
}

int store_tx_event_wanted(struct store_tx *tx, const char *type, const char *role_slug)
{
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(tx->conn, "SELECT 1 FROM webhooks w WHERE " SUBSCRIBED " LIMIT 1");
	/* When in doubt, build the event: the insert will match as it should. */
	if (!st)
		return 1;
	store_bind_text(st, 5, type);
	store_bind_text(st, 6, role_slug);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc != SQLITE_DONE;
}

/* Steps st (bound already), handing each delivery row to row(); resets st in every case,
 * since a statement left open would pin this connection's snapshot. */
static int delivery_rows(struct store_conn *c, sqlite3_stmt *st, int with_target,
			 int (*row)(void *ctx, const struct store_delivery *d), void *ctx)
{
	struct store_delivery d;
	int src, rc = RC_OK;

	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		rc = delivery_from_row(st, &d, with_target);
		if (rc)
			goto out;
		rc = row(ctx, &d);
		store_delivery_release(&d);
		if (rc)
			goto out;
	}
	rc = src == SQLITE_DONE ? RC_OK : store_sqlite_rc(c, src);
out:
	sqlite3_reset(st);
	return rc;
}

int store_deliveries_list(struct store *s, const char *webhook_id, int limit, int offset,
			  int (*row)(void *ctx, const struct store_delivery *d), void *ctx, int *total)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st;
	int rc;

	if (!c)
		return RC_IO;
	st = store_stmt(c, "SELECT COUNT(*) FROM deliveries WHERE webhook_id = ?1");
	if (!st)
		return RC_IO;
	rc = count_rows(c, st, webhook_id, total);
	if (rc)
		return rc;
	st = store_stmt(c, "SELECT " DELIVERY_COLS " FROM deliveries d "
			   "JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id "
			   "WHERE d.webhook_id = ?1 ORDER BY d.id DESC LIMIT ?2 OFFSET ?3");
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, webhook_id);
	sqlite3_bind_int(st, 2, limit);
	sqlite3_bind_int(st, 3, offset);
	return delivery_rows(c, st, 0, row, ctx);
}

static int delivery_get(struct store_conn *c, const char *webhook_id, int64_t id,
			struct store_delivery *out)
{
	sqlite3_stmt *st;
	int src, rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return RC_IO;
	st = store_stmt(c, "SELECT " DELIVERY_COLS " FROM deliveries d "
			   "JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id "
			   "WHERE d.id = ?1 AND d.webhook_id = ?2");
	if (!st)
		return RC_IO;
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, webhook_id);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		rc = delivery_from_row(st, out, 0);
	else if (src == SQLITE_DONE)
		rc = RC_NOTFOUND;
	else
		rc = store_sqlite_rc(c, src);
	sqlite3_reset(st);
	return rc;
}

int store_delivery_get(struct store *s, const char *webhook_id, int64_t id,
		       struct store_delivery *out)
{
	return delivery_get(store_reader(s), webhook_id, id, out);
}

int store_tx_delivery_get(struct store_tx *tx, const char *webhook_id, int64_t id,
			  struct store_delivery *out)
{
	return delivery_get(tx->conn, webhook_id, id, out);
}

int store_tx_event_delivery(struct store_tx *tx, const char *webhook_id, const char *event_id,
			    int64_t *id)
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st;
	int src, rc;

	st = store_stmt(c, "SELECT id FROM deliveries WHERE webhook_id = ?1 AND event_id = ?2"
			   " ORDER BY id DESC LIMIT 1");
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, webhook_id);
	store_bind_text(st, 2, event_id);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		rc = RC_OK;
	} else {
		rc = src == SQLITE_DONE ? RC_NOTFOUND : store_sqlite_rc(c, src);
	}
	sqlite3_reset(st);
	return rc;
}

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

int store_deliveries_due(struct store *s, int64_t now, int limit,
			 int (*row)(void *ctx, const struct store_delivery *d), void *ctx)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st;

	if (!c)
		return RC_IO;
	st = store_stmt(c, "SELECT " DELIVERY_COLS ", e.payload_json, w.url, w.secret FROM " HEADS
			   "JOIN events e ON e.id = d.event_id WHERE d.next_attempt_at <= ?1 "
			   "ORDER BY d.next_attempt_at, d.id LIMIT ?2");
	if (!st)
		return RC_IO;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, limit);
	return delivery_rows(c, st, 1, row, ctx);
}

int store_deliveries_next_due(struct store *s, int64_t *when)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st;
	int src, rc = RC_OK;

	*when = -1;
	if (!c)
		return RC_IO;
	st = store_stmt(c, "SELECT min(d.next_attempt_at) FROM " HEADS);
	if (!st)
		return RC_IO;
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			*when = sqlite3_column_int64(st, 0);
	} else {
		rc = store_sqlite_rc(c, src);
	}
	sqlite3_reset(st);
	return rc;
}

int store_deliveries_pending(struct store *s, int64_t now, int *count, int64_t *oldest_age)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st;
	int src, rc = RC_OK;

	*count = 0;
	*oldest_age = 0;
	if (!c)
		return RC_IO;
	st = store_stmt(c, "SELECT count(*), min(unixepoch(d.created_at)) FROM deliveries d "
			   "JOIN webhooks w ON w.id = d.webhook_id AND w.status = 'active' "
			   "WHERE d.status = 'pending'");
	if (!st)
		return RC_IO;
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*count = sqlite3_column_int(st, 0);
		if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
			int64_t oldest = sqlite3_column_int64(st, 1);

			*oldest_age = now > oldest ? now - oldest : 0;
		}
	} else {
		rc = store_sqlite_rc(c, src);
	}
	sqlite3_reset(st);
	return rc;
}

int store_tx_attempt_record(struct store_tx *tx, const struct store_attempt *a)
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st;
	const char *status;
	char *webhook_id = NULL;
	int attempts = 0, src, rc;

	/* A 410 pauses the subscription: the delivery waits with the others, due at once when
	 * the subscription is active again. */
	if (a->succeeded)
		status = "succeeded";
	else if (a->next_attempt >= 0 || a->disable_webhook)
		status = "pending";
	else
		status = "failed";

	st = store_stmt(c, "UPDATE deliveries SET attempts = attempts + 1, status = ?2, "
			   "last_status_code = ?3, last_error = ?4, next_attempt_at = ?5, "
			   "updated_at = ?6 WHERE id = ?1 AND status = 'pending' "
			   "RETURNING attempts, webhook_id");
	if (!st)
		return RC_IO;
	sqlite3_bind_int64(st, 1, a->delivery_id);
	store_bind_text(st, 2, status);
	if (a->status_code > 0)
		sqlite3_bind_int(st, 3, a->status_code);
	store_bind_text(st, 4, a->succeeded ? NULL : a->error);
	if (!strcmp(status, "pending"))
		sqlite3_bind_int64(st, 5, a->disable_webhook ? tx->now_unix : a->next_attempt);
	store_bind_text(st, 6, tx->now);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		attempts = sqlite3_column_int(st, 0);
		webhook_id = store_col_strdup(st, 1);
		src = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE) {
		rc = store_sqlite_rc(c, src);
		goto out;
	}
	if (!attempts) {
		/* Deleted with its subscription, or finished meanwhile. */
		rc = RC_NOTFOUND;
		goto out;
	}
	if (!webhook_id) {
		rc = RC_NOMEM;
		goto out;
	}
	tx->changed = 1;

	st = store_stmt(c, "INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, "
			   "error, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (!st) {
		rc = RC_IO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, a->delivery_id);
	sqlite3_bind_int(st, 2, attempts);
	store_bind_text(st, 3, tx->now);
	if (a->status_code > 0)
		sqlite3_bind_int(st, 4, a->status_code);
	store_bind_text(st, 5, a->succeeded ? NULL : a->error);
	sqlite3_bind_int(st, 6, a->duration_ms);
	rc = step_done(c, st);
	if (rc || !a->disable_webhook)
		goto out;

	st = store_stmt(c, "UPDATE webhooks SET status = 'disabled', disabled_reason = ?3, "
			   "updated_at = ?2 WHERE id = ?1");
	if (!st) {
		rc = RC_IO;
		goto out;
	}
	store_bind_text(st, 1, webhook_id);
	store_bind_text(st, 2, tx->now);
	store_bind_text(st, 3, STORE_DISABLED_GONE);
	rc = step_done(c, st);
out:
	free(webhook_id);
	return rc;
}

int store_tx_delivery_redeliver(struct store_tx *tx, const char *webhook_id, int64_t delivery_id,
				int64_t *new_id)
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st;
	int rc, src, disabled;

	st = store_stmt(c, "SELECT w.status FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id "
			   "WHERE d.id = ?2 AND d.webhook_id = ?1");
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, webhook_id);
	sqlite3_bind_int64(st, 2, delivery_id);
	src = sqlite3_step(st);
	disabled = src == SQLITE_ROW && sqlite3_column_text(st, 0) &&
		   !strcmp((const char *)sqlite3_column_text(st, 0), "disabled");
	sqlite3_reset(st);
	if (src == SQLITE_DONE)
		return RC_NOTFOUND;
	if (src != SQLITE_ROW)
		return store_sqlite_rc(c, src);
	/* Sending again is asked for now: a paused subscription sends nothing until resumed. */
	if (disabled)
		return RC_CONFLICT;
	st = store_stmt(c, "INSERT INTO deliveries (webhook_id, event_id, status, attempts, "
			   "next_attempt_at, created_at, updated_at) "
			   "SELECT webhook_id, event_id, 'pending', 0, ?3, ?4, ?4 FROM deliveries "
			   "WHERE id = ?2 AND webhook_id = ?1");
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, webhook_id);
	sqlite3_bind_int64(st, 2, delivery_id);
	sqlite3_bind_int64(st, 3, tx->now_unix);
	store_bind_text(st, 4, tx->now);
	rc = step_done(c, st);
	if (rc)
		return rc;
	if (sqlite3_changes(c->db) == 0)
		return RC_NOTFOUND;
	*new_id = sqlite3_last_insert_rowid(c->db);
	tx->changed = 1;
	tx->events_added = 1;
	return RC_OK;
}

/* ---------------------------------------------------------------------------------------
 * Waking the dispatcher
 */

void store_outbox_kick(struct store *s)
{
	pthread_mutex_t *mu = store_outbox_mutex(s);

	pthread_mutex_lock(mu);
	*store_outbox_flag(s) = 1;
	pthread_cond_broadcast(store_outbox_cond(s));
	pthread_mutex_unlock(mu);
}

int store_outbox_wait(struct store *s, int timeout_ms)
{
	pthread_mutex_t *mu = store_outbox_mutex(s);
	int *flag = store_outbox_flag(s);
	struct timespec deadline;
	int woken, err = 0;

	if (timeout_ms < 0)
		timeout_ms = 0;
	/* store.c creates the condition variable on CLOCK_MONOTONIC, so that a change of the
	 * wall clock neither stretches nor cuts the wait. */
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(mu);
	while (!*flag && err != ETIMEDOUT)
		err = pthread_cond_timedwait(store_outbox_cond(s), mu, &deadline);
	woken = *flag;
	*flag = 0;
	pthread_mutex_unlock(mu);
	return woken ? 1 : 0;
}

int store_delivery_attempts(struct store *s, int64_t delivery_id,
			    int (*row)(void *ctx, const struct store_delivery_attempt *a), void *ctx)
{
	struct store_conn *c = store_reader(s);
	struct store_delivery_attempt a;
	sqlite3_stmt *st;
	int src, rc = RC_OK;

	if (!c)
		return RC_IO;
	st = store_stmt(c, "SELECT attempt, at, status_code, error, duration_ms FROM delivery_attempts "
			   "WHERE delivery_id = ?1 ORDER BY attempt");
	if (!st)
		return RC_IO;
	sqlite3_bind_int64(st, 1, delivery_id);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		a.attempt = sqlite3_column_int(st, 0);
		a.at = (const char *)sqlite3_column_text(st, 1);
		a.status_code = sqlite3_column_int(st, 2);
		a.error = (const char *)sqlite3_column_text(st, 3);
		a.duration_ms = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 4);
		if (row(ctx, &a))
			break;
	}
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		rc = store_sqlite_rc(c, src);
	sqlite3_reset(st);
	return rc;
}
