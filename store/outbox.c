/*
 * outbox.c: webhook events and their deliveries (the outbox of store.h), and the wake-up of
 * the dispatcher. The subscriptions are webhooks.c's.
 *
 * An event and one delivery row per matching subscription are written inside the job that
 * writes the revision, so they commit, or vanish, with it. The dispatcher claims what is due
 * (claims.c) and records each attempt through a job, which ends its claim. Nothing here sends
 * anything or knows HTTP; it never sleeps except in store_outbox_wait(). A pending delivery of a paused
 * (disabled) subscription waits, and reads show it as "paused" (webhooks.c says why).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_int.h"

/* ---------------------------------------------------------------------------------------
 * Rows
 */

/* A delivery of a type other than its row's first: its own event id, and its own body. */
static enum rc delivery_derive(struct db_stmt *st, struct store_delivery *d)
{
	const char *row_type = db_col_text(st, 11, NULL);
	char id[STORE_EVENT_ID_MAX], *body = NULL, *s;
	enum rc rc;

	if (!row_type || !strcmp(row_type, d->event_type))
		return RC_OK;
	rc = store_event_id(d->event_id, row_type, d->event_type, id, sizeof(id));
	if (!rc && d->payload_json)
		rc = event_ids_body(d->payload_json, d->event_id, row_type, id, d->event_type, &body);
	if (rc)
		return rc;
	s = strdup(id);
	if (!s) {
		free(body);
		return RC_NOMEM;
	}
	free(d->event_id);
	d->event_id = s;
	if (body) {
		free(d->payload_json);
		d->payload_json = body;
	}
	return RC_OK;
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

enum rc outbox_delivery_read(struct db_stmt *st, struct store_delivery *d, int extras)
{
	enum rc rc;

	memset(d, 0, sizeof(*d));
	d->id = db_col_int64(st, 0);
	if (db_col_strdup(st, 1, &d->webhook_id) || db_col_strdup(st, 2, &d->event_id) ||
	    db_col_strdup(st, 3, &d->event_type) || db_col_strdup(st, 4, &d->status))
		goto oom;
	d->attempts = (int)db_col_int64(st, 5);
	d->last_status_code = (int)db_col_int64(st, 6);
	if (db_col_strdup(st, 7, &d->last_error))
		goto oom;
	if (d->status && !strcmp(d->status, "pending") && !db_col_is_null(st, 8)) {
		char iso[CLOCK_ISO_LEN];

		clock_iso((time_t)db_col_int64(st, 8), iso);
		d->next_attempt_at = strdup(iso);
		if (!d->next_attempt_at)
			goto oom;
	}
	if (db_col_strdup(st, 9, &d->created_at) || db_col_strdup(st, 10, &d->updated_at))
		goto oom;
	if (!d->webhook_id || !d->event_id || !d->event_type || !d->status || !d->created_at ||
	    !d->updated_at)
		goto oom;
	if (extras) {
		if (db_col_strdup(st, 12, &d->payload_json) || db_col_strdup(st, 13, &d->url) ||
		    db_col_strdup(st, 14, &d->secret) || !d->payload_json || !d->url || !d->secret)
			goto oom;
	}
	rc = delivery_derive(st, d);
	if (rc)
		store_delivery_release(d);
	return rc;
oom:
	store_delivery_release(d);
	return RC_NOMEM;
}

/* ---------------------------------------------------------------------------------------
 * Events and deliveries
 */

/* The subscriptions that get an event: active or paused (a paused one keeps its events for
 * when it resumes), listening for its type (parameter type), and following its role
 * (parameter role) or every role. One definition for the check before an event is built and
 * for the insert of its deliveries. The dialects differ in how a JSON array's elements are
 * read (ELEMS: the elements of array x as rows of a.value, and a.key, their index, counting
 * from 0 on SQLite and from 1 on PostgreSQL: use it for order only), so each statement that
 * uses it comes in both. */
#define ELEMS_SQLITE(x, a) "json_each(" x ") " a
#define ELEMS_PG(x, a) "jsonb_array_elements_text(CAST(" x " AS jsonb)) WITH ORDINALITY " a "(value, key)"
#define SUBSCRIBED(ELEMS, type, role) \
	"w.status IN ('active', 'disabled') " \
	"AND EXISTS (SELECT 1 FROM " ELEMS("w.events_json", "j") " WHERE j.value = " type ") " \
	"AND (w.roles_json IS NULL OR EXISTS (SELECT 1 FROM " ELEMS("w.roles_json", "r") \
	" WHERE r.value = " role "))"

/* types as a JSON array into out: they are names of the code's, never escaped. */
static enum rc types_json(const char *const *types, int n, char *out, size_t outlen)
{
	size_t len = 0;
	int i, k;

	for (i = 0; i < n; i++) {
		k = snprintf(out + len, outlen - len, "%s\"%s\"", i ? "," : "[", types[i]);
		if (k < 0 || (size_t)k >= outlen - len)
			return RC_TOOLARGE;
		len += (size_t)k;
	}
	if (!n || len + 2 > outlen)
		return RC_TOOLARGE;
	memcpy(out + len, "]", 2);
	return RC_OK;
}

/* The deliveries of a new row: one per type (in their order) and subscription that wants it
 * (in creation order, so that their ids follow it: within a second, SQLite's rowid, and
 * PostgreSQL's seq, the same order), or one to only_webhook; *n gets how many. */
#define DELIVERIES_ADD(ELEMS, seq) \
	"INSERT INTO deliveries (webhook_id, event_id, event_type, status, attempts, " \
	"next_attempt_at, created_at, updated_at) SELECT w.id, $1, t.value, 'pending', 0, $2, $3, " \
	"$3 FROM " ELEMS("$4", "t") ", webhooks w WHERE " SUBSCRIBED(ELEMS, "t.value", "$5") \
	" ORDER BY t.key, w.created_at, w." seq
static enum rc deliveries_add(struct store_tx *tx, const char *event_id, const char *types,
			      const char *first, const char *role_slug, const char *only_webhook,
			      int64_t *n)
{
	struct db_stmt *st;
	enum rc rc;

	if (only_webhook) {
		rc = db_prepare(tx->conn->dc, "INSERT INTO deliveries (webhook_id, event_id, "
				"event_type, status, attempts, next_attempt_at, created_at, updated_at) "
				"SELECT w.id, $1, $5, 'pending', 0, $2, $3, $3 FROM webhooks w "
				"WHERE w.id = $4", &st);
		if (rc)
			return rc;
		db_bind_text(st, 4, only_webhook);
		db_bind_text(st, 5, first);
	} else {
		rc = db_prepare(tx->conn->dc,
				db_sql(tx->conn->dc, DELIVERIES_ADD(ELEMS_SQLITE, "rowid"),
				       DELIVERIES_ADD(ELEMS_PG, "seq")), &st);
		if (rc)
			return rc;
		db_bind_text(st, 4, types);
		db_bind_text(st, 5, role_slug);
	}
	db_bind_text(st, 1, event_id);
	db_bind_int64(st, 2, tx->now_unix);
	db_bind_text(st, 3, tx->now);
	rc = db_exec(st);
	if (!rc)
		*n = db_changes(st);
	return rc;
}

int store_tx_events_add(struct store_tx *tx, const char *event_id, const char *const *types,
			int ntypes, const char *role_slug, const char *payload_json,
			const char *only_webhook, int *n_deliveries)
{
	char tj[256];
	struct db_stmt *st;
	int64_t n = 0;
	enum rc rc;
	int i;

	/* Only the first type may take index 0 of the ids derived from the row's. */
	for (i = 1; i < ntypes; i++)
		if (event_ids_index(types[i]) <= 0)
			return RC_INVALID;
	rc = types_json(types, ntypes, tj, sizeof(tj));
	if (rc)
		return rc;
	rc = db_prepare(tx->conn->dc, "INSERT INTO events (id, type, role_slug, payload_json, "
				      "created_at, types_json) VALUES ($1, $2, $3, $4, $5, $6)", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, event_id);
	db_bind_text(st, 2, types[0]);
	db_bind_text(st, 3, role_slug);
	db_bind_text(st, 4, payload_json);
	db_bind_text(st, 5, tx->now);
	db_bind_text(st, 6, tj);
	rc = db_exec(st);
	if (rc)
		return rc;
	tx->changed = 1;
	rc = deliveries_add(tx, event_id, tj, types[0], role_slug, only_webhook, &n);
	if (rc)
		return rc;
	if (n > 0)
		tx->events_added = 1;
	if (n_deliveries)
		*n_deliveries = (int)n;
	return RC_OK;
}

int store_tx_event_add(struct store_tx *tx, const char *event_id, const char *type,
		       const char *role_slug, const char *payload_json, const char *only_webhook,
		       int *n_deliveries)
{
	return store_tx_events_add(tx, event_id, &type, 1, role_slug, payload_json, only_webhook,
				   n_deliveries);
}

static enum rc wanted_row(void *ctx, struct db_stmt *st)
{
	int64_t k = db_col_int64(st, 0);

	if (k >= 0 && k < 32)
		*(unsigned *)ctx |= 1u << k;
	return RC_OK;
}

unsigned store_tx_events_wanted(struct store_tx *tx, const char *const *types, int ntypes,
				const char *role_slug)
{
	unsigned all = ntypes >= 32 ? ~0u : (1u << ntypes) - 1, got = 0;
	struct db_stmt *st;
	char tj[256];

	/* When in doubt, build the events: the insert will match as it should. The index of each
	 * type wanted, from 0. */
	if (types_json(types, ntypes, tj, sizeof(tj)) ||
	    db_prepare(tx->conn->dc,
		       db_sql(tx->conn->dc,
			      "SELECT t.key FROM " ELEMS_SQLITE("$1", "t") " WHERE EXISTS (SELECT 1 "
			      "FROM webhooks w WHERE " SUBSCRIBED(ELEMS_SQLITE, "t.value", "$2") ")",
			      "SELECT t.key - 1 FROM " ELEMS_PG("$1", "t") " WHERE EXISTS (SELECT 1 "
			      "FROM webhooks w WHERE " SUBSCRIBED(ELEMS_PG, "t.value", "$2") ")"),
		       &st))
		return all;
	db_bind_text(st, 1, tj);
	db_bind_text(st, 2, role_slug);
	if (db_each(st, wanted_row, &got))
		return all;
	return got;
}

int store_tx_event_wanted(struct store_tx *tx, const char *type, const char *role_slug)
{
	return store_tx_events_wanted(tx, &type, 1, role_slug) != 0;
}

/* A row function's non-zero answer fails the list (as it always has here). */
enum rc outbox_delivery_row(void *ctx, struct db_stmt *st)
{
	struct outbox_rows *r = ctx;
	struct store_delivery d;
	enum rc rc;

	rc = outbox_delivery_read(st, &d, r->extras);
	if (rc)
		return rc;
	rc = (enum rc)r->row(r->ctx, &d);
	store_delivery_release(&d);
	return rc;
}

int store_deliveries_list(struct store *s, const char *webhook_id, int limit, int offset,
			  int (*row)(void *ctx, const struct store_delivery *d), void *ctx, int *total)
{
	struct store_conn *c = store_reader(s);
	struct outbox_rows r = { 0, row, ctx };
	struct db_stmt *st;
	int64_t n = 0;
	enum rc rc;

	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, webhook_id);
	rc = db_one_int64(st, &n);
	if (rc)
		return rc;
	*total = (int)n;
	rc = db_prepare(c->dc, "SELECT " OUTBOX_DELIVERY_COLS " FROM deliveries d "
			       "JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id "
			       "WHERE d.webhook_id = $1 ORDER BY d.id DESC LIMIT $2 OFFSET $3", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, webhook_id);
	db_bind_int64(st, 2, limit);
	db_bind_int64(st, 3, offset);
	return db_each(st, outbox_delivery_row, &r);
}

static enum rc delivery_one(void *ctx, struct db_stmt *st)
{
	return outbox_delivery_read(st, ctx, 0);
}

static enum rc delivery_get(struct store_conn *c, const char *webhook_id, int64_t id,
			    struct store_delivery *out)
{
	struct db_stmt *st;
	enum rc rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, "SELECT " OUTBOX_DELIVERY_COLS " FROM deliveries d "
			       "JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id "
			       "WHERE d.id = $1 AND d.webhook_id = $2", &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, webhook_id);
	return db_one(st, delivery_one, out);
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
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(tx->conn->dc, "SELECT id FROM deliveries WHERE webhook_id = $1 AND "
				      "event_id = $2 ORDER BY id DESC LIMIT 1", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, webhook_id);
	db_bind_text(st, 2, event_id);
	return db_one_int64(st, id);
}

struct pending {
	int64_t now;
	int *count;
	int64_t *oldest_age;
};

static enum rc pending_row(void *ctx, struct db_stmt *st)
{
	struct pending *p = ctx;

	*p->count = (int)db_col_int64(st, 0);
	if (!db_col_is_null(st, 1)) {
		int64_t oldest = db_col_int64(st, 1);

		*p->oldest_age = p->now > oldest ? p->now - oldest : 0;
	}
	return RC_OK;
}

int store_deliveries_pending(struct store *s, int64_t now, int *count, int64_t *oldest_age)
{
	struct store_conn *c = store_reader(s);
	struct pending p = { now, count, oldest_age };
	struct db_stmt *st;
	enum rc rc;

	*count = 0;
	*oldest_age = 0;
	if (!c)
		return RC_IO;
#define PENDING(epoch) \
	"SELECT count(*), min(" epoch ") FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id " \
	"AND w.status = 'active' WHERE d.status = 'pending'"
	rc = db_prepare(c->dc, db_sql(c->dc, PENDING("unixepoch(d.created_at)"),
				      PENDING("CAST(extract(epoch FROM CAST(d.created_at AS "
					      "timestamptz)) AS BIGINT)")), &st);
#undef PENDING
	if (rc)
		return rc;
	return db_one(st, pending_row, &p);
}

struct attempted {
	int attempts;
	char *webhook_id;
};

static enum rc attempted_row(void *ctx, struct db_stmt *st)
{
	struct attempted *a = ctx;

	a->attempts = (int)db_col_int64(st, 0);
	return db_col_strdup(st, 1, &a->webhook_id);
}

/* The delivery log's row of attempt number n. */
static enum rc attempt_log_add(struct store_tx *tx, const struct store_attempt *a, int n)
{
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(tx->conn->dc, "INSERT INTO delivery_attempts (delivery_id, attempt, at, "
				      "status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)",
			&st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, a->delivery_id);
	db_bind_int64(st, 2, n);
	db_bind_text(st, 3, tx->now);
	if (a->status_code > 0)
		db_bind_int64(st, 4, a->status_code);
	else
		db_bind_null(st, 4);
	db_bind_text(st, 5, a->succeeded ? NULL : a->error);
	db_bind_int64(st, 6, a->duration_ms);
	return db_exec(st);
}

int store_tx_attempt_record(struct store_tx *tx, const struct store_attempt *a)
{
	struct db_conn *c = tx->conn->dc;
	struct attempted done = { 0, NULL };
	struct db_stmt *st;
	const char *status;
	enum rc rc;

	/* A 410 pauses the subscription: the delivery waits with the others, due at once when
	 * the subscription is active again. The attempt ends this instance's claim (claims.c);
	 * a claim taken over meanwhile by another instance, whose lease this one outlived, stays
	 * that instance's. */
	if (a->succeeded)
		status = "succeeded";
	else if (a->next_attempt >= 0 || a->disable_webhook)
		status = "pending";
	else
		status = "failed";

	rc = db_prepare(c, "UPDATE deliveries SET attempts = attempts + 1, status = $2, "
			   "last_status_code = $3, last_error = $4, next_attempt_at = $5, "
			   "updated_at = $6, "
			   "claimed_until = CASE WHEN claimed_by = $7 THEN NULL ELSE claimed_until END, "
			   "claimed_by = CASE WHEN claimed_by = $7 THEN NULL ELSE claimed_by END "
			   "WHERE id = $1 AND status = 'pending' RETURNING attempts, webhook_id", &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, a->delivery_id);
	db_bind_text(st, 2, status);
	if (a->status_code > 0)
		db_bind_int64(st, 3, a->status_code);
	else
		db_bind_null(st, 3);
	db_bind_text(st, 4, a->succeeded ? NULL : a->error);
	if (!strcmp(status, "pending"))
		db_bind_int64(st, 5, a->disable_webhook ? tx->now_unix : a->next_attempt);
	else
		db_bind_null(st, 5);
	db_bind_text(st, 6, tx->now);
	db_bind_text(st, 7, tx->s->instance);
	rc = db_each(st, attempted_row, &done);
	if (rc)
		goto out;
	if (!done.attempts) {
		/* Deleted with its subscription, or finished meanwhile. */
		rc = RC_NOTFOUND;
		goto out;
	}
	if (!done.webhook_id) {
		rc = RC_NOMEM;
		goto out;
	}
	tx->changed = 1;

	rc = attempt_log_add(tx, a, done.attempts);
	if (rc || !a->disable_webhook)
		goto out;

	rc = db_prepare(c, "UPDATE webhooks SET status = 'disabled', disabled_reason = $3, "
			   "updated_at = $2 WHERE id = $1", &st);
	if (rc)
		goto out;
	db_bind_text(st, 1, done.webhook_id);
	db_bind_text(st, 2, tx->now);
	db_bind_text(st, 3, STORE_DISABLED_GONE);
	rc = db_exec(st);
out:
	free(done.webhook_id);
	return rc;
}

/* Column 0, the status of the delivery's subscription, is "disabled": it is paused. */
static enum rc paused_row(void *ctx, struct db_stmt *st)
{
	const char *t = db_col_text(st, 0, NULL);

	*(int *)ctx = t && !strcmp(t, "disabled");
	return RC_OK;
}

int store_tx_delivery_redeliver(struct store_tx *tx, const char *webhook_id, int64_t delivery_id,
				int64_t *new_id)
{
	struct db_conn *c = tx->conn->dc;
	struct db_stmt *st;
	int disabled = 0;
	enum rc rc;

	rc = db_prepare(c, "SELECT w.status FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id "
			   "WHERE d.id = $2 AND d.webhook_id = $1", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, webhook_id);
	db_bind_int64(st, 2, delivery_id);
	rc = db_one(st, paused_row, &disabled);
	if (rc)
		return rc;
	/* Sending again is asked for now: a paused subscription sends nothing until resumed. */
	if (disabled)
		return RC_CONFLICT;
	rc = db_prepare(c, "INSERT INTO deliveries (webhook_id, event_id, event_type, status, "
			   "attempts, next_attempt_at, created_at, updated_at) "
			   "SELECT webhook_id, event_id, event_type, 'pending', 0, $3, $4, $4 "
			   "FROM deliveries "
			   "WHERE id = $2 AND webhook_id = $1 RETURNING id", &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, webhook_id);
	db_bind_int64(st, 2, delivery_id);
	db_bind_int64(st, 3, tx->now_unix);
	db_bind_text(st, 4, tx->now);
	rc = db_one_int64(st, new_id);
	if (rc)
		return rc;
	tx->changed = 1;
	tx->events_added = 1;
	return RC_OK;
}

/* ---------------------------------------------------------------------------------------
 * Waking the dispatcher
 */

/* The outbox's own state, created by store_open. */
struct outbox {
	pthread_mutex_t mu;   /* guards kicked */
	pthread_cond_t cond;  /* on CLOCK_MONOTONIC, so that store_outbox_wait's deadline is one */
	int kicked;           /* set by store_outbox_kick, taken by store_outbox_wait */
	/* How long a paused subscription's deliveries are kept for it; set before the
	 * dispatcher starts, read-only after. */
	int64_t pause_s;
};

struct outbox *outbox_new(void)
{
	struct outbox *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	pthread_mutex_init(&o->mu, NULL);
	store_cond_init_monotonic(&o->cond);
	o->pause_s = STORE_WEBHOOK_PAUSE_DEFAULT;
	return o;
}

void outbox_free(struct outbox *o)
{
	if (!o)
		return;
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->cond);
	free(o);
}

void store_webhook_pause_set(struct store *s, int64_t seconds)
{
	s->outbox->pause_s = seconds > 0 ? seconds : STORE_WEBHOOK_PAUSE_DEFAULT;
}

int64_t outbox_pause(const struct outbox *o)
{
	return o->pause_s;
}

/* Also the writer's hook after a commit that added events (writer_hooks.events_committed). */
void store_outbox_kick(struct store *s)
{
	struct outbox *o = s->outbox;

	pthread_mutex_lock(&o->mu);
	o->kicked = 1;
	pthread_cond_broadcast(&o->cond);
	pthread_mutex_unlock(&o->mu);
}

int store_outbox_wait(struct store *s, int timeout_ms)
{
	struct outbox *o = s->outbox;
	struct timespec deadline;
	int woken, err = 0;

	if (timeout_ms < 0)
		timeout_ms = 0;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&o->mu);
	while (!o->kicked && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&o->cond, &o->mu, &deadline);
	woken = o->kicked;
	o->kicked = 0;
	pthread_mutex_unlock(&o->mu);
	return woken ? 1 : 0;
}

struct attempt_rows {
	int (*row)(void *ctx, const struct store_delivery_attempt *a);
	void *ctx;
};

/* A row function's non-zero answer fails the log, as for the lists above: its one caller
 * answers RC_NOMEM when it cannot add an attempt, and a log with attempts missing is not
 * answered (RC_STOP ends it early and well). */
static enum rc attempt_row(void *ctx, struct db_stmt *st)
{
	struct attempt_rows *r = ctx;
	struct store_delivery_attempt a;

	a.attempt = (int)db_col_int64(st, 0);
	a.at = db_col_text(st, 1, NULL);
	a.status_code = (int)db_col_int64(st, 2);
	a.error = db_col_text(st, 3, NULL);
	a.duration_ms = db_col_is_null(st, 4) ? -1 : (int)db_col_int64(st, 4);
	return (enum rc)r->row(r->ctx, &a);
}

int store_delivery_attempts(struct store *s, int64_t delivery_id,
			    int (*row)(void *ctx, const struct store_delivery_attempt *a), void *ctx)
{
	struct store_conn *c = store_reader(s);
	struct attempt_rows r = { row, ctx };
	struct db_stmt *st;
	enum rc rc;

	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, "SELECT attempt, at, status_code, error, duration_ms FROM "
			       "delivery_attempts WHERE delivery_id = $1 ORDER BY attempt", &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, delivery_id);
	return db_each(st, attempt_row, &r);
}
