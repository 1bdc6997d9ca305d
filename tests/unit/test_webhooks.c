/*
 * test_webhooks.c: the webhook pieces that need no HTTP: the Standard Webhooks signature (the
 * specification's test vector), the retry schedule parser, and the outbox of store/ against
 * a real SQLite file (matching, in-order due deliveries, attempts, 410 and PATCH pauses,
 * expiry, redelivery, the claims of two instances), and the migration that made pauses
 * possible.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "server/dispatcher.h"
#include "store/store.h"
#include "tests/unit/harness.h"
#include "util/embed.h"

static void test_sign_vector(void)
{
	static const char body[] = "{\"test\": 2432232314}";
	char buf[64];
	const char *sig = buf;

	CHECK_INT(dispatcher_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				  "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
				  strlen(body), buf), 0);
	CHECK_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* Another timestamp, another signature. */
	CHECK_INT(dispatcher_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				  "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body,
				  strlen(body), buf), 0);
	CHECK(strcmp(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), "%s", sig);
	/* Not a whsec_ secret, or not base64 after it. */
	CHECK(dispatcher_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "id", 1, "x", 1, buf) != 0, "plain");
	CHECK(dispatcher_sign("whsec_abc", "id", 1, "x", 1, buf) != 0, "bad base64");
}

static void test_schedule(void)
{
	static const struct {
		const char *in;
		int n;
		int first, last;
	} cases[] = {
		{ "5,300,1800,7200,18000,36000,36000", 7, 5, 36000 },
		{ "1,1,1", 3, 1, 1 },
		{ "0", 1, 0, 0 },
		{ " 5, 10 ", 2, 5, 10 },
		{ "", -1, 0, 0 },
		{ ",", -1, 0, 0 },
		{ "5,", -1, 0, 0 },
		{ ",5", -1, 0, 0 },
		{ "5,,6", -1, 0, 0 },
		{ "-5", -1, 0, 0 },
		{ "5s", -1, 0, 0 },
		{ "1.5", -1, 0, 0 },
		{ "99999999999999999999", -1, 0, 0 },
		{ "1,2,3,4,5,6,7,8", 8, 1, 8 },
		{ "1,2,3,4,5,6,7,8,9", -1, 0, 0 }, /* more than max (8) */
	};
	int out[8];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = dispatcher_parse_schedule(cases[i].in, out, 8);

		CHECK(n == cases[i].n, "\"%s\": %d entries, want %d", cases[i].in, n, cases[i].n);
		if (n > 0 && n == cases[i].n)
			CHECK(out[0] == cases[i].first && out[n - 1] == cases[i].last,
			      "\"%s\": %d..%d", cases[i].in, out[0], out[n - 1]);
	}
}

/* ---------------------------------------------------------------------------------------
 * The outbox against a real database
 */

struct op {
	int kind;
	struct store_webhook w;
	const char *event_id, *type, *slug, *only;
	int n;
	struct store_attempt a;
	int64_t delivery_id, new_id, cutoff;
};

enum { OP_CREATE, OP_EVENT, OP_ATTEMPT, OP_REDELIVER, OP_DELETE, OP_UPDATE, OP_EXPIRE };

static int op_job(struct store_tx *tx, void *arg)
{
	struct op *o = arg;

	switch (o->kind) {
	case OP_CREATE:
		return store_tx_webhook_create(tx, &o->w);
	case OP_UPDATE:
		return store_tx_webhook_update(tx, &o->w);
	case OP_EVENT:
		return store_tx_event_add(tx, o->event_id, o->type, o->slug, "{\"x\":1}", o->only,
					  &o->n);
	case OP_ATTEMPT:
		return store_tx_attempt_record(tx, &o->a);
	case OP_REDELIVER:
		return store_tx_delivery_redeliver(tx, o->w.id, o->delivery_id, &o->new_id);
	case OP_DELETE:
		return store_tx_webhook_delete(tx, o->w.id);
	case OP_EXPIRE:
		return store_tx_deliveries_expire(tx, o->cutoff, &o->n);
	}
	return RC_INVALID;
}

static int create(struct store *s, const char *id, const char *events, const char *roles,
		  const char *status)
{
	struct op o;

	memset(&o, 0, sizeof(o));
	o.kind = OP_CREATE;
	o.w.id = (char *)id;
	o.w.url = (char *)"https://example.com/hook";
	o.w.events_json = (char *)events;
	o.w.roles_json = (char *)roles;
	o.w.secret = (char *)"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	o.w.status = (char *)status;
	return store_write(s, op_job, &o);
}

/* Queues an event; returns the number of deliveries, or -1. */
static int event(struct store *s, const char *id, const char *type, const char *slug,
		 const char *only)
{
	struct op o;

	memset(&o, 0, sizeof(o));
	o.kind = OP_EVENT;
	o.event_id = id;
	o.type = type;
	o.slug = slug;
	o.only = only;
	return store_write(s, op_job, &o) ? -1 : o.n;
}

static int attempt(struct store *s, int64_t id, int code, int succeeded, int64_t next, int disable)
{
	struct op o;

	memset(&o, 0, sizeof(o));
	o.kind = OP_ATTEMPT;
	o.a.delivery_id = id;
	o.a.status_code = code;
	o.a.error = succeeded ? NULL : "HTTP 500";
	o.a.succeeded = succeeded;
	o.a.next_attempt = next;
	o.a.disable_webhook = disable;
	return store_write(s, op_job, &o);
}

#define MAX_ROWS 16
struct rows {
	int n;
	int64_t id[MAX_ROWS];
	char webhook[MAX_ROWS][16];
	char event[MAX_ROWS][16];
	char status[MAX_ROWS][16];
	char payload[MAX_ROWS][16];
	int attempts[MAX_ROWS];
	int has_next[MAX_ROWS];
	char error[MAX_ROWS][96];
};

static int collect(void *ctx, const struct store_delivery *d)
{
	struct rows *r = ctx;

	if (r->n == MAX_ROWS)
		return 1;
	r->id[r->n] = d->id;
	snprintf(r->webhook[r->n], 16, "%s", d->webhook_id);
	snprintf(r->event[r->n], 16, "%s", d->event_id);
	snprintf(r->status[r->n], 16, "%s", d->status);
	snprintf(r->payload[r->n], 16, "%s", d->payload_json ? d->payload_json : "");
	snprintf(r->error[r->n], 96, "%s", d->last_error ? d->last_error : "");
	r->attempts[r->n] = d->attempts;
	r->has_next[r->n] = d->next_attempt_at != NULL;
	r->n++;
	return 0;
}

static struct rows due(struct store *s, int64_t now)
{
	struct rows r;

	memset(&r, 0, sizeof(r));
	CHECK_INT(store_deliveries_due(s, now, 10, collect, &r), 0);
	return r;
}

static struct rows log_of(struct store *s, const char *webhook)
{
	struct rows r;
	int total = -1;

	memset(&r, 0, sizeof(r));
	CHECK_INT(store_deliveries_list(s, webhook, 10, 0, collect, &r, &total), 0);
	CHECK_INT(total, r.n);
	return r;
}

static void test_outbox(void)
{
	char dir[] = "/tmp/aijri-test-webhooks-XXXXXX";
	char path[256], err[256];
	struct store *s = NULL;
	struct store_webhook w;
	struct store_delivery d;
	struct rows r;
	struct op o;
	int64_t now = (int64_t)time(NULL), when, age;
	int n;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	CHECK_INT(store_open(path, &s, err, sizeof(err)), 0);
	if (!s) {
		CHECK(0, "store_open: %s", err);
		goto out;
	}

	/* a: score.changed of every role; b: assessment.revised of edge-ai-engineer;
	 * c: score.changed of other-role; d: score.changed of every role, disabled (paused). */
	CHECK_INT(create(s, "wh_a", "[\"score.changed\"]", NULL, NULL), 0);
	CHECK_INT(create(s, "wh_b", "[\"assessment.revised\",\"zone.changed\"]",
			 "[\"edge-ai-engineer\"]", NULL), 0);
	CHECK_INT(create(s, "wh_c", "[\"score.changed\"]", "[\"other-role\"]", NULL), 0);
	CHECK_INT(create(s, "wh_d", "[\"score.changed\"]", NULL, "disabled"), 0);
	CHECK(create(s, "wh_a", "[\"score.changed\"]", NULL, NULL) != 0, "duplicate id");

	CHECK_INT(store_webhook_get(s, "wh_b", &w), 0);
	CHECK_STR(w.status, "active");
	CHECK_STR(w.roles_json, "[\"edge-ai-engineer\"]");
	CHECK(w.description == NULL, "no description");
	store_webhook_release(&w);
	CHECK_INT(store_webhook_get(s, "wh_none", &w), RC_NOTFOUND);
	store_webhook_release(&w);

	/* Matching by type and role; a disabled one is paused: it gets its deliveries, kept
	 * for when it is active again, and none of them is due. */
	n = event(s, "evt_1", "score.changed", "edge-ai-engineer", NULL);
	CHECK_INT(n, 2);                                                          /* a, d */
	n = event(s, "evt_2", "assessment.revised", "edge-ai-engineer", NULL);
	CHECK_INT(n, 1);                                                          /* b */
	n = event(s, "evt_3", "zone.changed", "other-role", NULL);
	CHECK_INT(n, 0);
	n = event(s, "evt_4", "score.changed", "other-role", NULL);
	CHECK_INT(n, 3);                                                          /* a, c, d */
	n = event(s, "evt_5", "ping", NULL, "wh_c");
	CHECK_INT(n, 1);                                                          /* c only */
	n = event(s, "evt_6", "ping", NULL, "wh_none");
	CHECK_INT(n, 0);
	r = log_of(s, "wh_d");
	CHECK(r.n == 2 && !strcmp(r.status[0], "paused") && !r.has_next[0] &&
	      !strcmp(r.status[1], "paused"), "d's deliveries paused: %s %s", r.status[0],
	      r.status[1]);

	/* At most one due per webhook: its oldest pending. */
	r = due(s, now + 1);
	CHECK_INT(r.n, 3);
	CHECK(r.n == 3 && !strcmp(r.webhook[0], "wh_a") && !strcmp(r.event[0], "evt_1") &&
	      !strcmp(r.webhook[1], "wh_b") && !strcmp(r.event[1], "evt_2") &&
	      !strcmp(r.webhook[2], "wh_c") && !strcmp(r.event[2], "evt_4"),
	      "due: %s/%s %s/%s %s/%s", r.webhook[0], r.event[0], r.webhook[1], r.event[1],
	      r.webhook[2], r.event[2]);
	CHECK_STR(r.payload[0], "{\"x\":1}");
	CHECK_INT(due(s, now - 100).n, 0);
	CHECK_INT(store_deliveries_pending(s, now, &n, &age), 0);
	CHECK_INT(n, 5);
	CHECK_INT(store_deliveries_next_due(s, &when), 0);
	CHECK(when >= now - 1 && when <= now + 1, "next due %lld", (long long)when);

	/* a's first fails and is retried later: a's second waits behind it. */
	CHECK_INT(attempt(s, r.id[0], 500, 0, now + 100, 0), 0);
	/* b's succeeds; c's fails for good. */
	CHECK_INT(attempt(s, r.id[1], 204, 1, -1, 0), 0);
	CHECK_INT(attempt(s, r.id[2], 0, 0, -1, 0), 0);
	CHECK(attempt(s, r.id[1], 200, 1, -1, 0) == RC_NOTFOUND, "finished already");
	r = due(s, now + 1);
	CHECK_INT(r.n, 1); /* c's ping, now its oldest pending */
	CHECK(r.n == 1 && !strcmp(r.event[0], "evt_5"), "c's ping next");
	r = due(s, now + 101);
	CHECK_INT(r.n, 2);
	CHECK(r.n == 2 && !strcmp(r.event[0], "evt_5") && !strcmp(r.event[1], "evt_1") &&
	      r.attempts[1] == 1, "a's first again");
	CHECK_INT(store_deliveries_next_due(s, &when), 0);
	CHECK(when >= now - 1 && when <= now + 1, "next due %lld (c's ping)", (long long)when);

	r = log_of(s, "wh_a"); /* newest first */
	CHECK_INT(r.n, 2);
	CHECK(r.n == 2 && !strcmp(r.event[0], "evt_4") && !strcmp(r.status[1], "pending") &&
	      r.attempts[1] == 1 && r.has_next[1] && !strcmp(r.error[1], "HTTP 500"),
	      "a's log");
	r = log_of(s, "wh_c");
	CHECK(r.n == 2 && !strcmp(r.status[1], "failed") && !r.has_next[1], "c's failed");

	/* 410: a is disabled (paused, and says why); its deliveries, the one that got the 410
	 * included, wait; nothing of a is due. */
	r = log_of(s, "wh_a");
	CHECK_INT(attempt(s, r.id[1], 410, 0, -1, 1), 0);
	CHECK_INT(store_webhook_get(s, "wh_a", &w), 0);
	CHECK_STR(w.status, "disabled");
	CHECK_STR(w.disabled_reason, STORE_DISABLED_GONE);
	store_webhook_release(&w);
	r = log_of(s, "wh_a");
	CHECK(r.n == 2 && !strcmp(r.status[0], "paused") && !strcmp(r.status[1], "paused") &&
	      r.attempts[1] == 2 && !r.has_next[1], "a after 410: %s %s", r.status[0], r.status[1]);
	r = due(s, now + 1000);
	CHECK(r.n == 1 && !strcmp(r.webhook[0], "wh_c"), "only c due");

	/* Redelivery keeps the event id and is due now; a redelivery of another webhook's
	 * delivery is not found. */
	r = log_of(s, "wh_b");
	memset(&o, 0, sizeof(o));
	o.kind = OP_REDELIVER;
	o.w.id = (char *)"wh_b";
	o.delivery_id = r.id[0];
	CHECK_INT(store_write(s, op_job, &o), 0);
	CHECK(o.new_id > r.id[0], "new id");
	CHECK_INT(store_delivery_get(s, "wh_b", o.new_id, &d), 0);
	CHECK_STR(d.event_id, "evt_2");
	CHECK_STR(d.event_type, "assessment.revised");
	CHECK_STR(d.status, "pending");
	CHECK_INT(d.attempts, 0);
	store_delivery_release(&d);
	CHECK_INT(store_delivery_get(s, "wh_a", o.new_id, &d), RC_NOTFOUND);
	store_delivery_release(&d);
	o.w.id = (char *)"wh_c";
	CHECK_INT(store_write(s, op_job, &o), RC_NOTFOUND);

	/* Re-enabling a (a PATCH): what it kept is due again, its oldest first. */
	memset(&o, 0, sizeof(o));
	o.kind = OP_UPDATE;
	o.w.id = (char *)"wh_a";
	o.w.status = (char *)"active";
	o.w.roles_json = (char *)"[\"x\"]";
	CHECK_INT(store_write(s, op_job, &o), 0);
	CHECK_INT(store_webhook_get(s, "wh_a", &w), 0);
	CHECK(w.disabled_reason == NULL, "no reason once active");
	store_webhook_release(&w);
	r = log_of(s, "wh_a");
	CHECK(r.n == 2 && !strcmp(r.status[0], "pending") && !strcmp(r.status[1], "pending") &&
	      r.has_next[1], "a's deliveries pending again");
	o.w.status = NULL;
	o.w.roles_json = (char *)"null";
	o.w.description = (char *)"hello";
	CHECK_INT(store_write(s, op_job, &o), 0);
	CHECK_INT(store_webhook_get(s, "wh_a", &w), 0);
	CHECK_STR(w.status, "active");
	CHECK(w.roles_json == NULL, "roles back to every role");
	CHECK_STR(w.description, "hello");
	store_webhook_release(&w);
	o.w.id = (char *)"wh_none";
	CHECK_INT(store_write(s, op_job, &o), RC_NOTFOUND);

	/* Delete takes the deliveries with it. */
	memset(&o, 0, sizeof(o));
	o.kind = OP_DELETE;
	o.w.id = (char *)"wh_c";
	CHECK_INT(store_write(s, op_job, &o), 0);
	CHECK_INT(store_write(s, op_job, &o), RC_NOTFOUND);
	CHECK_INT(log_of(s, "wh_c").n, 0);
	r = due(s, now + 1000);
	CHECK(r.n == 2 && !strcmp(r.webhook[0], "wh_a") && !strcmp(r.event[0], "evt_1") &&
	      !strcmp(r.webhook[1], "wh_b"), "a's oldest and b's redelivery due");

	/* Pausing d again (a PATCH) says why; the clean-up expires what it kept before the
	 * cutoff, and only for paused subscriptions. */
	memset(&o, 0, sizeof(o));
	o.kind = OP_UPDATE;
	o.w.id = (char *)"wh_d";
	o.w.status = (char *)"disabled";
	CHECK_INT(store_write(s, op_job, &o), 0);
	CHECK_INT(store_webhook_get(s, "wh_d", &w), 0);
	CHECK(w.disabled_reason == NULL, "d was disabled at creation: no change, no reason");
	store_webhook_release(&w);
	o.w.status = (char *)"active";
	CHECK_INT(store_write(s, op_job, &o), 0);
	o.w.status = (char *)"disabled";
	CHECK_INT(store_write(s, op_job, &o), 0);
	CHECK_INT(store_webhook_get(s, "wh_d", &w), 0);
	CHECK_STR(w.disabled_reason, STORE_DISABLED_REQUESTED);
	store_webhook_release(&w);
	memset(&o, 0, sizeof(o));
	o.kind = OP_EXPIRE;
	o.cutoff = now - 3600;
	CHECK_INT(store_write(s, op_job, &o), 0);
	CHECK_INT(o.n, 0);
	o.cutoff = now + 3600;
	CHECK_INT(store_write(s, op_job, &o), 0);
	CHECK_INT(o.n, 2);
	r = log_of(s, "wh_d");
	CHECK(r.n == 2 && !strcmp(r.status[0], "expired") && !strcmp(r.status[1], "expired") &&
	      !r.has_next[0] && strstr(r.error[0], "paused for more than 30 days"),
	      "d's expired: %s %s", r.status[0], r.error[0]);
	r = log_of(s, "wh_a");
	CHECK(r.n == 2 && !strcmp(r.status[1], "pending"), "a's, active, untouched");

	/* The outbox wake-up. */
	CHECK_INT(store_outbox_wait(s, 0), 1); /* the redelivery's commit kicked it */
	CHECK_INT(store_outbox_wait(s, 20), 0);
	store_outbox_kick(s);
	CHECK_INT(store_outbox_wait(s, 1000), 1);
out:
	store_free(s);
	snprintf(path, sizeof(path), "%s/t.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/t.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/t.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

/* Migration 0006 builds the deliveries table again (to allow "expired"): every row keeps its
 * id, status and fields, and ids of deleted rows are not given out again. */
/* ---------------------------------------------------------------------------------------
 * One event row per revision: each type its own event id and body
 */

static void test_event_ids(void)
{
	static const struct {
		const char *row, *row_type, *type, *want;
		enum rc rc;
	} cases[] = {
		{ "evt_0190000000aaAAAAAAAAAAAAAAAA", "assessment.revised", "assessment.revised",
		  "evt_0190000000aaAAAAAAAAAAAAAAAA", RC_OK },
		{ "evt_0190000000aaAAAAAAAAAAAAAAAA", "assessment.revised", "score.changed",
		  "evt_0190000000aaAAAAAAAAAAAAAAAB", RC_OK },
		{ "evt_0190000000aaAAAAAAAAAAAAAAAA", "assessment.revised", "zone.changed",
		  "evt_0190000000aaAAAAAAAAAAAAAAAC", RC_OK },
		{ "evt_0190000000aaAAAAAAAAAAAAAAA_", "score.changed", "score.changed",
		  "evt_0190000000aaAAAAAAAAAAAAAAA_", RC_OK },   /* a row's own id, whatever its bits */
		{ "evt_0190000000aaAAAAAAAAAAAAAAA8", "score.changed", "zone.changed",
		  "evt_0190000000aaAAAAAAAAAAAAAAA-", RC_OK },   /* '8' is 60: 60|2 = 62, '-' */
		{ "evt_0190000000aaAAAAAAAAAAAAAAAA", "score.changed", "assessment.revised", "",
		  RC_INVALID },                                  /* only a first type has index 0 */
		{ "evt_0190000000aaAAAAAAAAAAAAAAAA", "ping", "score.changed",
		  "evt_0190000000aaAAAAAAAAAAAAAAAB", RC_OK },
		{ "evt_0190000000aaAAAAAAAAAAAAAAAA", "assessment.revised", "ping", "", RC_INVALID },
	};
	char out[STORE_EVENT_ID_MAX], id[] = "evt_0190000000aaAAAAAAAAAAAAAAA_";
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum rc rc = store_event_id(cases[i].row, cases[i].row_type, cases[i].type, out,
					    sizeof(out));

		CHECK(rc == cases[i].rc && (rc || !strcmp(out, cases[i].want)),
		      "case %zu: rc %d, %s", i, (int)rc, rc ? "" : out);
	}
	CHECK_INT(store_event_id(cases[0].row, "assessment.revised", "score.changed", out, 10),
		  RC_TOOLARGE);
	store_event_row_id(id);
	CHECK(!strcmp(id, "evt_0190000000aaAAAAAAAAAAAAAAA8"), "row id %s", id);
}

struct full_rows {
	int n;
	char event[MAX_ROWS][STORE_EVENT_ID_MAX];
	char type[MAX_ROWS][32];
	char payload[MAX_ROWS][256];
};

static int collect_full(void *ctx, const struct store_delivery *d)
{
	struct full_rows *r = ctx;

	if (r->n == MAX_ROWS)
		return 1;
	snprintf(r->event[r->n], STORE_EVENT_ID_MAX, "%s", d->event_id);
	snprintf(r->type[r->n], 32, "%s", d->event_type);
	snprintf(r->payload[r->n], 256, "%s", d->payload_json ? d->payload_json : "");
	r->n++;
	return 0;
}

struct row_op {
	const char *id, *payload;
	int n;
};

static int row_job(struct store_tx *tx, void *arg)
{
	static const char *const types[] = { "assessment.revised", "score.changed",
					     "zone.changed" };
	struct row_op *o = arg;

	if (store_tx_events_wanted(tx, types, 3, "r1") != 7)
		return RC_INVALID;
	return store_tx_events_add(tx, o->id, types, 3, "r1", o->payload, NULL, &o->n);
}

static void test_event_row(void)
{
	char dir[] = "/tmp/aijri-test-evrow-XXXXXX";
	char path[256], err[256], want[256];
	const char *id = "evt_0190000000aaAAAAAAAAAAAAAAAA";
	struct row_op o = { id, "{\"id\":\"evt_0190000000aaAAAAAAAAAAAAAAAA\","
				"\"type\":\"assessment.revised\",\"data\":{\"a\":1}}", 0 };
	struct store *s = NULL;
	struct full_rows r;
	int total = 0;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	CHECK_INT(store_open(path, &s, err, sizeof(err)), 0);
	if (!s) {
		CHECK(0, "store_open: %s", err);
		goto out;
	}
	CHECK_INT(create(s, "wh_all", "[\"assessment.revised\",\"score.changed\","
				      "\"zone.changed\"]", NULL, "active"), 0);
	CHECK_INT(create(s, "wh_zone", "[\"zone.changed\"]", "[\"r1\"]", "active"), 0);
	CHECK_INT(store_write(s, row_job, &o), 0);
	CHECK_INT(o.n, 4);
	/* The log, newest first: the three events of the row, each with its own id. */
	memset(&r, 0, sizeof(r));
	CHECK_INT(store_deliveries_list(s, "wh_all", 10, 0, collect_full, &r, &total), 0);
	CHECK(r.n == 3 && !strcmp(r.type[0], "zone.changed") &&
	      !strcmp(r.event[0], "evt_0190000000aaAAAAAAAAAAAAAAAC") &&
	      !strcmp(r.type[1], "score.changed") &&
	      !strcmp(r.event[1], "evt_0190000000aaAAAAAAAAAAAAAAAB") &&
	      !strcmp(r.type[2], "assessment.revised") && !strcmp(r.event[2], id),
	      "log of wh_all: %d rows", r.n);
	/* Due: each subscription's oldest, with that event's own body. */
	memset(&r, 0, sizeof(r));
	CHECK_INT(store_deliveries_due(s, (int64_t)time(NULL) + 1, 10, collect_full, &r), 0);
	CHECK_INT(r.n, 2);
	CHECK(r.n == 2 && !strcmp(r.payload[0], o.payload), "first: %s", r.payload[0]);
	snprintf(want, sizeof(want), "{\"id\":\"evt_0190000000aaAAAAAAAAAAAAAAAC\","
				     "\"type\":\"zone.changed\",\"data\":{\"a\":1}}");
	CHECK(r.n == 2 && !strcmp(r.type[1], "zone.changed") && !strcmp(r.payload[1], want),
	      "second: %s", r.payload[1]);
out:
	store_free(s);
	snprintf(path, sizeof(path), "%s/t.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/t.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/t.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

/* Claims: two stores on one file stand for two instances of one database. */
static struct rows claim(struct store *s, int64_t now_ms, int *n)
{
	struct rows r;

	memset(&r, 0, sizeof(r));
	CHECK_INT(store_deliveries_claim(s, now_ms, 5000, 10, collect, &r, n), 0);
	CHECK_INT(*n, r.n);
	return r;
}

static void test_claims(void)
{
	char dir[] = "/tmp/aijri-test-claims-XXXXXX";
	char path[256], err[256];
	struct store *a = NULL, *b = NULL;
	int64_t now_ms = ((int64_t)time(NULL) + 1) * 1000, when;
	int64_t a1, a2, b1;
	struct rows r;
	int n;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	CHECK_INT(store_open(path, &a, err, sizeof(err)), 0);
	CHECK_INT(store_open(path, &b, err, sizeof(err)), 0);
	if (!a || !b) {
		CHECK(0, "store_open: %s", err);
		goto out;
	}
	CHECK_INT(create(a, "wh_a", "[\"ping\"]", NULL, NULL), 0);
	CHECK_INT(create(a, "wh_b", "[\"ping\"]", NULL, NULL), 0);
	CHECK_INT(event(a, "evt_1", "ping", NULL, "wh_a"), 1);
	CHECK_INT(event(a, "evt_2", "ping", NULL, "wh_a"), 1);
	CHECK_INT(event(a, "evt_3", "ping", NULL, "wh_b"), 1);

	/* A takes the oldest of each subscription, with what sending needs; B finds nothing,
	 * and nothing is due: a claimed delivery holds back the later ones of its subscription. */
	r = claim(a, now_ms, &n);
	CHECK(n == 2 && !strcmp(r.event[0], "evt_1") && !strcmp(r.event[1], "evt_3") &&
	      !strcmp(r.payload[0], "{\"x\":1}"), "A claims evt_1 and evt_3: %d", n);
	a1 = r.id[0];
	a2 = r.id[1];
	claim(b, now_ms, &n);
	CHECK_INT(n, 0);
	CHECK_INT(due(b, now_ms / 1000).n, 0);
	CHECK_INT(store_deliveries_next_due(b, &when), 0);
	CHECK(when == (now_ms + 5000) / 1000, "next due at the lease's end: %lld", (long long)when);

	/* A's attempt ends its claim: the next of wh_a is B's to take. */
	CHECK_INT(attempt(a, a1, 200, 1, -1, 0), 0);
	r = claim(b, now_ms, &n);
	CHECK(n == 1 && !strcmp(r.event[0], "evt_2"), "B claims evt_2: %d", n);
	b1 = r.id[0];
	CHECK_INT(attempt(b, b1, 200, 1, -1, 0), 0);

	/* A never records evt_3 (as if it died): once the lease has passed, B takes it over. */
	claim(b, now_ms + 4999, &n);
	CHECK_INT(n, 0);
	r = claim(b, now_ms + 5000, &n);
	CHECK(n == 1 && r.id[0] == a2, "B takes evt_3 over: %d", n);
	/* A outlived its lease and records after all: its attempt is logged, B's claim stays. */
	CHECK_INT(attempt(a, a2, 500, 0, now_ms / 1000, 0), 0);
	claim(a, now_ms + 6000, &n);
	CHECK_INT(n, 0);
	CHECK_INT(attempt(b, a2, 200, 1, -1, 0), 0);
	r = log_of(a, "wh_b");
	CHECK(r.n == 1 && r.attempts[0] == 2 && !strcmp(r.status[0], "succeeded"),
	      "evt_3: two attempts, succeeded");
	claim(a, now_ms + 20000, &n);
	CHECK_INT(n, 0);
	CHECK_INT(store_deliveries_next_due(a, &when), 0);
	CHECK_INT(when, -1);
out:
	store_free(b);
	store_free(a);
	snprintf(path, sizeof(path), "%s/t.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/t.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/t.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

static void test_migration_keeps_deliveries(void)
{
	char dir[] = "/tmp/aijri-test-migrate-XXXXXX";
	char path[256], err[256];
	const struct embed_file *f;
	struct store *s = NULL;
	sqlite3 *db = NULL;
	struct rows r;
	int n;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	/* Up to schema 4 here (0005 needs the store's SQL function); store_open runs the rest. */
	for (f = embed_files; f->name; f++)
		if (!strncmp(f->name, "migrations/000", 14) && f->name[14] >= '1' && f->name[14] <= '4')
			CHECK_INT(sqlite3_exec(db, f->data, NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db,
		"PRAGMA user_version = 4;"
		"INSERT INTO webhooks (id, url, events_json, secret, status, created_at, updated_at) "
		"VALUES ('wh_a', 'https://example.com/h', '[\"ping\"]', 'whsec_AAAA', 'active', "
		"'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');"
		"INSERT INTO events VALUES ('evt_1', 'ping', NULL, '{}', '2026-01-01T00:00:00Z');"
		"INSERT INTO deliveries (webhook_id, event_id, status, attempts, last_status_code, "
		"last_error, next_attempt_at, created_at, updated_at) VALUES "
		"('wh_a', 'evt_1', 'succeeded', 1, 200, NULL, NULL, 't1', 't1'),"
		"('wh_a', 'evt_1', 'failed', 8, 500, 'HTTP 500', NULL, 't2', 't2'),"
		"('wh_a', 'evt_1', 'pending', 2, 503, 'HTTP 503', 99, 't3', 't3'),"
		"('wh_a', 'evt_1', 'pending', 0, NULL, NULL, 99, 't4', 't4');"
		"DELETE FROM deliveries WHERE id = 4;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	CHECK_INT(store_open(path, &s, err, sizeof(err)), 0);
	if (!s) {
		CHECK(0, "store_open: %s", err);
		goto out;
	}
	CHECK_INT(store_schema_version(s), store_schema_latest());
	r = log_of(s, "wh_a");
	CHECK(r.n == 3 && r.id[0] == 3 && !strcmp(r.status[0], "pending") && r.attempts[0] == 2 &&
	      r.has_next[0] && !strcmp(r.error[0], "HTTP 503") && r.id[1] == 2 &&
	      !strcmp(r.status[1], "failed") && r.attempts[1] == 8 && r.id[2] == 1 &&
	      !strcmp(r.status[2], "succeeded"), "rows kept: %d", r.n);
	n = event(s, "evt_2", "ping", NULL, "wh_a");
	CHECK_INT(n, 1);
	r = log_of(s, "wh_a");
	CHECK(r.n == 4 && r.id[0] == 5, "the next id is 5, not 4 again: %lld", (long long)r.id[0]);
out:
	store_free(s);
	snprintf(path, sizeof(path), "%s/t.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/t.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/t.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	static const struct harness_test tests[] = {
		{ "sign_vector", test_sign_vector },
		{ "schedule", test_schedule },
		{ "outbox", test_outbox },
		{ "claims", test_claims },
		{ "migration_keeps_deliveries", test_migration_keeps_deliveries },
		{ "event_ids", test_event_ids },
		{ "event_row", test_event_row },
		{ NULL, NULL },
	};
	return harness_main("webhooks", tests);
}
