/*
 * store.h: everything aijri keeps, in one database, through the database layer (db.h; the
 * only module that includes a database library). It never builds HTTP responses and knows
 * no JSON shapes beyond storing text (but for the SQLite-only matching of subscriptions, and
 * the cutting of a revision's body text at its members into pieces kept once, pieces.c: the
 * pieces put end to end are the text as it was given, byte for byte).
 *
 * Threads: reads may be called from any thread; each thread gets its own read-only
 * connection (WAL, opened lazily, closed when the thread ends). All writes run on one writer
 * thread that owns the one write connection: a caller hands it a job (store_write or
 * store_write_async), the writer runs a batch of queued jobs in one `BEGIN IMMEDIATE`
 * transaction, each job inside its own SAVEPOINT (a job that fails is rolled back alone), and
 * commits once with synchronous=FULL before any job's completion is reported (group commit).
 * A completion therefore means durable.
 *
 * Memory: every string a read hands out is malloc'd and owned by the struct it is in; release
 * the struct with its _release() function. Strings given to the store are copied.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/rc.h"

struct store;
struct store_tx;

/* ---------------------------------------------------------------------------------------
 * Opening, migrations
 */

/*
 * Opens (creating if needed) the database at path, applies the embedded migrations in order
 * (each with its `PRAGMA user_version` bump in one transaction) and starts the writer thread.
 * A database whose user_version is newer than this binary knows is refused with RC_TOONEW and
 * left untouched. On failure a message is written to err (errlen bytes).
 */
int store_open(const char *path, struct store **out, char *err, size_t errlen);
/* Stops the writer thread after the jobs queued so far, closes every connection. NULL ok. */
void store_free(struct store *s);
/* The schema version (user_version) of the open database, and the newest this binary has. */
int store_schema_version(struct store *s);
int store_schema_latest(void);
/* Number of roles ever created, archived ones included (0 means: load the default data). */
int store_role_count_all(struct store *s, int *count);
/* A database string (a path or a PostgreSQL URI) as it may be shown in a message or a log
 * line: a URI without its password (postgresql://user@host:port/dbname). */
void store_db_display(const char *db, char *out, size_t outlen);
/* 1 when db names a database server (a PostgreSQL URI) rather than a file. */
int store_db_is_server(const char *db);
/* The database path given to store_open. */
const char *store_path(struct store *s);

/* ---------------------------------------------------------------------------------------
 * Writing: jobs on the writer thread
 */

/* A job: runs inside the batch transaction on the writer thread. Returns 0 to keep what it
 * wrote, or an rc to have its savepoint rolled back (RC_UNCHANGED rolls back too, and is
 * passed to the completion as it is). It must not block on anything but the database. */
typedef int (*store_job_fn)(struct store_tx *tx, void *arg);
/* Called on the writer thread after the batch's COMMIT (or its failure: then rc is RC_IO
 * even for jobs that returned 0). */
typedef void (*store_done_fn)(void *arg, int rc);

/* Queues the job and waits until it is durable or failed; returns the job's rc. */
int store_write(struct store *s, store_job_fn fn, void *arg);
/* Queues the job and returns at once; done(arg, rc) is called after commit. */
int store_write_async(struct store *s, store_job_fn fn, void *arg, store_done_fn done);
/* Registers a function the writer calls after every commit that changed something, before
 * the completions (the API's response cache uses it to invalidate). One per store. */
void store_on_commit(struct store *s, void (*fn)(void *ctx), void *ctx);
/* How many committed changes this instance has taken in: its own, and on PostgreSQL those of
 * every instance of the database, in commit order (listener.c). A client that wrote through
 * one instance reads its write on another once this there is at least what it is on the
 * first. */
int64_t store_changes_seen(struct store *s);
/* Inside a job: runs fn as a part of it that is rolled back alone when fn returns non-zero
 * (RC_UNCHANGED included), as the job itself would be. Returns fn's rc. */
int store_tx_run(struct store_tx *tx, store_job_fn fn, void *arg);
/* Inside a job: how many times the writer has undone writes after the job that made them
 * ran (the job or a part of it failed after writing, or its batch did not commit). A cache of
 * what jobs wrote that notes this number when it puts an entry, and drops its entries when the
 * number has moved, never serves a write that was rolled back, which another instance may
 * since have committed differently under the same revision number. */
uint64_t store_tx_undone(struct store_tx *tx);
/* The current time as the transaction sees it ("2026-11-24T12:00:00Z"): one value for the
 * whole job, so a revision's row, its score block and its events agree. */
const char *store_tx_now(struct store_tx *tx);

/* ---------------------------------------------------------------------------------------
 * Roles, revisions
 */

struct store_role {
	int64_t id;
	char *slug;
	char *title;
	char *role_json;  /* the normalized role body, assessment included */
	char *score_json; /* the score block of the current revision */
	double score;
	char zone[8];     /* "green", "yellow", "red" */
	char *label;
	int revision;
	int archived;
	char *created_at;
	char *updated_at;
	char *category;   /* NULL when none */
	char *seniority;  /* NULL when none */
	char *soc_codes;  /* the role's SOC codes separated by spaces; NULL when none */
	char *isco_codes; /* likewise its ISCO codes */
	char *evidence_as_of; /* JSON object: evidence dimension -> as_of date (NULL: unknown) */
	char *oldest_as_of;   /* the oldest of those dates, "YYYY-MM-DD" (NULL: unknown) */
};
void store_role_release(struct store_role *r);

/* The current role by slug, archived ones included (check ->archived). RC_NOTFOUND if none. */
int store_role_get(struct store *s, const char *slug, struct store_role *out);
/* The role slug an alias slug points at (*role_slug malloc'd). RC_NOTFOUND if not an alias. */
int store_alias_resolve(struct store *s, const char *alias_slug, char **role_slug);

enum store_sort { STORE_SORT_TITLE = 0, STORE_SORT_SCORE, STORE_SORT_SCORE_DESC };

struct store_role_query {
	const char *q;     /* substring of the title or of an alias name, case-insensitive; NULL = any */
	const char *zone;  /* "green", "yellow", "red"; NULL = any */
	int has_min, has_max;
	double min_score, max_score; /* inclusive, on the published score */
	const char *soc;   /* a prefix of one of the role's SOC codes; NULL = any */
	const char *isco;  /* likewise of its ISCO codes */
	/* 1: only roles whose oldest as_of is before stale_before ("YYYY-MM-DD"); 0: only the
	 * others; -1: any. */
	int stale;
	const char *stale_before;
	enum store_sort sort;        /* ties broken by slug */
	int limit, offset;           /* limit 0: every match */
};

/* Calls row() for each matching role not archived (role_json, score_json and
 * evidence_as_of left NULL: lists are served from memory, which holds none of them) and sets
 * *total to the count of all matches, ignoring limit and offset. A non-zero return from row()
 * stops. The strings of *r are valid during the call only. */
int store_roles_list(struct store *s, const struct store_role_query *q,
		     int (*row)(void *ctx, const struct store_role *r), void *ctx, int *total);
/*
 * The live roles with the published scores nearest to slug's, nearest first; at equal
 * distance those of the role's own category first, then by slug; the role itself left out.
 * Calls row() for at most limit of them, with distance = |score - the role's score|.
 * RC_NOTFOUND when slug is no live role (aliases are not resolved here).
 */
int store_roles_near(struct store *s, const char *slug, int limit,
		     int (*row)(void *ctx, const struct store_role *r, double distance), void *ctx);
/* Calls row() for every role not archived, ordered by slug, with role_json and score_json. */
int store_roles_each(struct store *s, int (*row)(void *ctx, const struct store_role *r), void *ctx);

struct store_revision {
	int revision;
	double score;
	char zone[8];
	char *label;
	char *reason;       /* may be NULL */
	char *changed_json; /* JSON array of paths */
	char *actor;        /* token name; NULL for the default data and the CLI */
	char *created_at;
	char *role_json;    /* the whole role body as it was (NULL in lists) */
	char *score_json;   /* the score block as it was (NULL in lists) */
	char *slug;         /* the role's slug and current title: store_revisions_recent only */
	char *title;
};
void store_revision_release(struct store_revision *r);

/* Newest first. *total = number of revisions of the role. RC_NOTFOUND for no such role. */
int store_revisions_list(struct store *s, const char *slug, int limit, int offset,
			 int (*row)(void *ctx, const struct store_revision *r), void *ctx, int *total);
int store_revision_get(struct store *s, const char *slug, int revision, struct store_revision *out);
/* The newest `limit` revisions of all live roles, newest first (by time; within one second by
 * role, then revision), with slug and title filled. A non-zero return from row() stops. */
int store_revisions_recent(struct store *s, int limit,
			   int (*row)(void *ctx, const struct store_revision *r), void *ctx);

/* What a job writes for a new revision. */
struct store_role_write {
	const char *slug;
	const char *title;
	const char *role_json;   /* normalized role body */
	const char *score_json;  /* score block, with this revision's number and time in it */
	double score;
	const char *zone;
	const char *label;
	/* aliases: parallel arrays of slugified alias and display name */
	const char *const *alias_slugs;
	const char *const *alias_names;
	int n_aliases;
	const char *reason;       /* may be NULL */
	const char *changed_json; /* JSON array */
	const char *actor;        /* may be NULL */
	int revision;             /* the revision being written: 1 for a new role, current+1 */
	const char *category;     /* the role's category and seniority, NULL when none: kept */
	const char *seniority;    /* beside role_json so that lists need not parse it */
	int keep_aliases;         /* update only: the aliases are as they were, leave them */
	const char *soc_codes;    /* list columns, as in struct store_role (NULL: none) */
	const char *isco_codes;
	const char *evidence_as_of;
	const char *oldest_as_of;
	/* Update only, optional: what the job read of the current revision under its lock
	 * (store_tx_role_head) in this same job, so that the update need not read it again:
	 * head_id nonzero, head_revision, and its published result. */
	int64_t head_id;
	int head_revision;
	double prev_score;
	const char *prev_zone;
	const char *prev_label;
};

/* What a write needs to know of the current role before it reads the whole of it. */
struct store_role_head {
	int64_t id;
	int revision;
	int archived;
};

/* Inside a job: the current role by slug, archived included (RC_NOTFOUND if none). */
int store_tx_role_get(struct store_tx *tx, const char *slug, struct store_role *out);
/* The role's id, current revision and archived flag (RC_NOTFOUND if none), without reading
 * its JSON: from any thread, or inside a job. */
int store_role_head(struct store *s, const char *slug, struct store_role_head *out);
int store_tx_role_head(struct store_tx *tx, const char *slug, struct store_role_head *out);
/* Creates the role as revision 1. RC_CONFLICT if the slug, or any alias slug, is taken by a
 * role or an alias (archived roles keep theirs). */
int store_tx_role_create(struct store_tx *tx, const struct store_role_write *w);
/* Appends revision w->revision (must be current+1, else RC_PRECONDITION) and makes it
 * current; replaces the aliases (RC_CONFLICT as above). */
int store_tx_role_update(struct store_tx *tx, const struct store_role_write *w);
/* Inside a job: RC_CONFLICT if slug is the slug or an alias of any role (archived ones
 * included), else RC_OK. */
int store_tx_slug_taken(struct store_tx *tx, const char *slug);
/* Archives (RC_NOTFOUND if none or archived already): appends a revision that repeats the
 * last one's body and score, with reason "archived", changed ["archived"] and the actor
 * (may be NULL), and takes the role out of lists and reads. Revisions and aliases are kept. */
int store_tx_role_archive(struct store_tx *tx, const char *slug, const char *actor);

/* ---------------------------------------------------------------------------------------
 * Score history (GET /movers)
 */

/* A role's published result at one revision. */
struct store_result {
	double score;
	const char *zone;
	const char *label;
	int revision;
};

/* A role whose published result at `until` differs from the one at `since`. Its slug and
 * title are NULL until store_move_names() looks them up: a caller that keeps a few of many
 * moves asks only for those. */
struct store_move {
	const char *slug;
	const char *title;
	struct store_result from, to;
	void *lookup;   /* store_move_names' */
	long index;
};

/*
 * Calls row() for every role that was live at both times (Unix milliseconds, since <= until) and
 * whose published score or zone at until differs from the one at since, in no set order. A
 * role's result at a time is that of its last revision made at or before it. Reads the score
 * history of the window alone (one range of an index), never role JSON. The strings of *m are
 * valid during the call only; a non-zero return from row() stops.
 */
int store_movers(struct store *s, int64_t since, int64_t until,
		 int (*row)(void *ctx, struct store_move *m), void *ctx);
/* Inside row(): sets m->slug and m->title (valid during the call). */
void store_move_names(struct store_move *m);

/* ---------------------------------------------------------------------------------------
 * API tokens (only SHA-256 hashes are stored)
 */

struct store_token {
	char *name;
	char *created_at;
	char *last_used_at; /* NULL if never */
	char *revoked_at;   /* NULL if live */
};
void store_token_release(struct store_token *t);

/* RC_CONFLICT if a token of that name exists (revoked ones included). */
int store_tx_token_create(struct store_tx *tx, const char *name, const unsigned char hash[32]);
/* RC_NOTFOUND if no live token has that name. */
int store_tx_token_revoke(struct store_tx *tx, const char *name);
/* Records that the token was used now. */
int store_tx_token_touch(struct store_tx *tx, const char *name);
int store_tokens_list(struct store *s, int (*row)(void *ctx, const struct store_token *t), void *ctx);
/* Finds the live token with that hash (compared in constant time); *name malloc'd.
 * RC_UNAUTHORIZED if none. */
int store_token_check(struct store *s, const unsigned char hash[32], char **name);
/* Records that the token was used now: its last_used_at is written by a job of its own,
 * queued only when it does not hold this second already (so at most one write a second per
 * token), and not awaited. Failures are ignored: a use is never refused for them. */
void store_token_used(struct store *s, const char *name);

/* ---------------------------------------------------------------------------------------
 * Webhooks: subscriptions, events, deliveries (the outbox)
 */

struct store_webhook {
	char *id;           /* "wh_..." */
	char *url;
	char *events_json;  /* JSON array of event types */
	char *roles_json;   /* JSON array of slugs, or NULL for every role */
	char *description;  /* may be NULL */
	char *secret;       /* "whsec_..." */
	char *status;       /* "active", "disabled" (paused) */
	char *disabled_reason; /* why it is disabled (STORE_DISABLED_*); NULL while active */
	char *created_at;
	char *updated_at;
};
void store_webhook_release(struct store_webhook *w);

/* The reasons a subscription is disabled, as its record says them. */
#define STORE_DISABLED_REQUESTED "set to disabled by PATCH"
#define STORE_DISABLED_GONE "the endpoint answered 410 Gone"
/* How long a paused subscription's deliveries wait for it (API.md: 30 days). */
#define STORE_WEBHOOK_PAUSE_DEFAULT (30 * 86400)
/* Sets that time (AIJRI_WEBHOOK_PAUSE_DAYS), before the dispatcher starts; <= 0: the default. */
void store_webhook_pause_set(struct store *s, int64_t seconds);

int store_tx_webhook_create(struct store_tx *tx, const struct store_webhook *w);
/*
 * Replaces url, events_json, roles_json, description, status (NULL fields are kept).
 * active -> disabled pauses it (disabled_reason STORE_DISABLED_REQUESTED); disabled -> active
 * resumes it: its pending deliveries older than the pause window expire, the others are due
 * at once, in order, and disabled_reason is cleared.
 */
int store_tx_webhook_update(struct store_tx *tx, const struct store_webhook *w);
/* Deletes the subscription and its pending deliveries. */
int store_tx_webhook_delete(struct store_tx *tx, const char *id);
int store_webhook_get(struct store *s, const char *id, struct store_webhook *out);
int store_tx_webhook_get(struct store_tx *tx, const char *id, struct store_webhook *out);
/* Oldest first. */
int store_webhooks_list(struct store *s, int limit, int offset,
			int (*row)(void *ctx, const struct store_webhook *w), void *ctx, int *total);

/*
 * Event rows. The events of one revision are one row, its types as data (migration 0008):
 * the row's id is the event id of its first type, and payload_json the body of that event,
 * which starts {"id":"<that id>","type":"<that type>", . Every other type of the row has an
 * event id of its own, store_event_id(), and the same body but for that id and type. A
 * delivery names its row and its type; reads and the dispatcher see each event's own id and
 * body.
 */
#define STORE_EVENT_ID_MAX 64
/* Makes a fresh random event id fit for a row of several types (its last character's low two
 * bits, base64url, cleared): the ids derived from it for the row's other types then differ
 * from it and from each other. */
void store_event_row_id(char *id);
/* The event id of `type` in the row row_id whose first type is row_type: row_id itself for
 * that type, else row_id with the low two bits of its last character set to the type's
 * index (score.changed 1, zone.changed 2, role.archived 3). RC_INVALID for a type that can
 * share no row. */
enum rc store_event_id(const char *row_id, const char *row_type, const char *type, char *out,
		       size_t outlen);

/*
 * Queues the events of one row: stores the row (types[0..ntypes) in the order they are sent;
 * assessment.revised, when there, first) and one pending delivery, due now, per type and
 * subscription, active or paused (disabled), whose events include that type and whose roles
 * are NULL or include role_slug; a paused one's delivery waits until it is active again.
 * Deliveries are made in the order of the types, then of the subscriptions' creation, so that
 * an endpoint gets a revision's events in that order. With only_webhook set (one type: a
 * ping), the event goes to that subscription alone, whatever its filters. Sets *n_deliveries
 * when not NULL. Wakes the dispatcher after commit.
 */
int store_tx_events_add(struct store_tx *tx, const char *event_id, const char *const *types,
			int ntypes, const char *role_slug, const char *payload_json,
			const char *only_webhook, int *n_deliveries);
/* store_tx_events_add of one type. */
int store_tx_event_add(struct store_tx *tx, const char *event_id, const char *type,
		       const char *role_slug, const char *payload_json, const char *only_webhook,
		       int *n_deliveries);
/* Which of types (bit i for types[i]) any subscription, active or paused, would get about
 * role_slug, in one query: an event that none would get is not built or stored at all. */
unsigned store_tx_events_wanted(struct store_tx *tx, const char *const *types, int ntypes,
				const char *role_slug);
/* The same for one type: 1 if any subscription would get it. */
int store_tx_event_wanted(struct store_tx *tx, const char *type, const char *role_slug);

struct store_delivery {
	int64_t id;
	char *webhook_id;
	char *event_id;
	char *event_type;
	/* "pending", "paused" (pending, its subscription disabled), "succeeded", "failed",
	 * "expired" (paused for longer than the pause window) */
	char *status;
	int attempts;
	int last_status_code; /* 0 if none */
	char *last_error;     /* NULL if none */
	char *next_attempt_at; /* NULL unless pending (not paused) */
	char *created_at;
	char *updated_at;
	/* Filled by store_deliveries_due and store_deliveries_claim only: */
	char *payload_json;
	char *url;
	char *secret;
};
void store_delivery_release(struct store_delivery *d);

/* Newest first. */
int store_deliveries_list(struct store *s, const char *webhook_id, int limit, int offset,
			  int (*row)(void *ctx, const struct store_delivery *d), void *ctx, int *total);
int store_delivery_get(struct store *s, const char *webhook_id, int64_t id, struct store_delivery *out);
/* The same inside a job, seeing its writes. */
int store_tx_delivery_get(struct store_tx *tx, const char *webhook_id, int64_t id,
			  struct store_delivery *out);
/* Inside a job: the id of the newest delivery of event_id to webhook_id (RC_NOTFOUND). */
int store_tx_event_delivery(struct store_tx *tx, const char *webhook_id, const char *event_id,
			    int64_t *id);

/*
 * The background clean-up: every pending delivery of a paused subscription created before
 * cutoff (Unix seconds) becomes "expired". Sets *n (may be NULL) to how many.
 */
int store_tx_deliveries_expire(struct store_tx *tx, int64_t cutoff, int *n);

/*
 * Due deliveries, at most one per subscription (the oldest pending of an active one, so that
 * each endpoint gets its events in order), whose next attempt is at or before now (Unix
 * seconds) and that no instance holds a claim on at now (a claim lapsed by then is none). At
 * most `limit` rows. Each row has payload_json, url and secret filled in. A read: what
 * store_deliveries_claim would take.
 */
int store_deliveries_due(struct store *s, int64_t now, int limit,
			 int (*row)(void *ctx, const struct store_delivery *d), void *ctx);
/*
 * Claims for this instance up to `limit` deliveries due at now_ms (Unix milliseconds), as
 * store_deliveries_due chooses them, in one short write job, for lease_ms: until the lease
 * ends, no instance of the database claims that delivery, nor any later one of its
 * subscription. Once the claim has committed, calls row() for each (payload_json, url and
 * secret filled in; row's answer is ignored). Recording the attempt
 * (store_tx_attempt_record) ends the claim; one never recorded (its instance died, or row()
 * could not start it) lapses at the end of its lease, and any instance takes it then. Two
 * instances claiming at once never take the same delivery (PostgreSQL: FOR UPDATE SKIP
 * LOCKED; SQLite: one writer at a time). Sets *n (may be NULL) to how many were claimed.
 */
int store_deliveries_claim(struct store *s, int64_t now_ms, int64_t lease_ms, int limit,
			   int (*row)(void *ctx, const struct store_delivery *d), void *ctx, int *n);
/* Before a server's dispatcher claims anything: on SQLite, where one server owns the file,
 * ends every claim, all of them left by an earlier start (a process killed mid-send), so that
 * a server restarted after a crash sends them at once instead of after the lease. On
 * PostgreSQL it ends only this process's own (none: its id is new), and the claims of a dead
 * instance lapse with their lease. */
int store_deliveries_claims_reset(struct store *s);
/* Unix seconds when the next delivery becomes due: the earliest of the subscriptions' oldest
 * pending deliveries, at its next attempt or, while claimed, at the end of its claim
 * (rounded up to the second); -1 if none. */
int store_deliveries_next_due(struct store *s, int64_t *when);
/* Count of pending deliveries and the age in seconds of the oldest (0 if none). */
int store_deliveries_pending(struct store *s, int64_t now, int *count, int64_t *oldest_age);

/* The outcome of one attempt. */
struct store_attempt {
	int64_t delivery_id;
	int status_code;      /* 0 when no answer */
	const char *error;    /* NULL on success */
	int succeeded;
	int64_t next_attempt; /* Unix seconds of the retry, or -1 when there is none (failed) */
	int disable_webhook;  /* 410 Gone: pause the subscription; this delivery waits with the rest */
	int duration_ms;      /* how long the attempt took */
};
/* One attempt of a delivery, for the delivery log. */
struct store_delivery_attempt {
	int attempt;          /* 1, 2, ... */
	const char *at;       /* RFC 3339 */
	int status_code;      /* 0 when no answer */
	const char *error;    /* NULL on success */
	int duration_ms;      /* -1 when unknown */
};
/* Calls row() for each attempt of the delivery, oldest first. */
int store_delivery_attempts(struct store *s, int64_t delivery_id,
			    int (*row)(void *ctx, const struct store_delivery_attempt *a), void *ctx);
/* Records the attempt: attempts+1, status, last code and error, the next attempt time; ends
 * this instance's claim of the delivery. */
int store_tx_attempt_record(struct store_tx *tx, const struct store_attempt *a);
/* Redelivery: a new pending delivery of the same event to the same subscription, due now;
 * sets *new_id. RC_NOTFOUND if the delivery is not the webhook's, RC_CONFLICT if the
 * subscription is disabled (paused). */
int store_tx_delivery_redeliver(struct store_tx *tx, const char *webhook_id, int64_t delivery_id,
				int64_t *new_id);
/* Wakes whoever waits in store_outbox_wait (the dispatcher) now. */
void store_outbox_kick(struct store *s);
/* Waits until an event is queued after commit, store_outbox_kick is called, or timeout_ms
 * passes. Returns 1 if woken, 0 on timeout. */
int store_outbox_wait(struct store *s, int timeout_ms);

/* ---------------------------------------------------------------------------------------
 * Idempotency keys: the first answer of a write sent with an Idempotency-Key, per token
 */

/* How long a key's answer is kept and replayed (24 hours). */
#define STORE_IDEMPOTENCY_TTL 86400

struct store_idem {
	unsigned char fingerprint[32]; /* SHA-256 of the request's method, path and body */
	int status;
	char *content_type;  /* NULL when none */
	char *headers_json;  /* [[name, value], ...] */
	char *body;          /* NUL-terminated, body_len bytes before the NUL */
	size_t body_len;
	int64_t created_at;  /* Unix seconds */
};
void store_idem_release(struct store_idem *k);

/* The stored answer of (token, key) made after now - STORE_IDEMPOTENCY_TTL; RC_NOTFOUND if
 * none. From any thread (its read connection), or inside a job (seeing the job's writes). */
int store_idem_get(struct store *s, const char *token, const char *key, int64_t now,
		   struct store_idem *out);
/* Inside a job, the key is locked first: a job of another instance with the same key waits
 * until this transaction ends (PostgreSQL). */
int store_tx_idem_get(struct store_tx *tx, const char *token, const char *key,
		      struct store_idem *out);
/* Stores the answer of (token, key) in the job's transaction, created now (an expired
 * one of the same key is replaced). RC_CONFLICT if a live one exists. */
int store_tx_idem_put(struct store_tx *tx, const char *token, const char *key,
		      const struct store_idem *k);
/* Deletes at most limit answers made before now - STORE_IDEMPOTENCY_TTL, oldest first; sets
 * *deleted. The writer runs this in the background; it is here for tests too. */
int store_idem_expire(struct store *s, int64_t now, int limit, int *deleted);

/* ---------------------------------------------------------------------------------------
 * Operations
 */

/* An online, consistent copy of the live database to path (SQLite's backup API). */
int store_backup(struct store *s, const char *path, char *err, size_t errlen);
/* Checkpoints the WAL (PASSIVE), so that it cannot grow without bound. */
int store_checkpoint(struct store *s);

/* What /metrics shows of the database files and the checkpointer (a thread of the store's
 * own copies the WAL into the database while the server runs; see checkpoint.c). */
enum store_ckpt_result {
	STORE_CKPT_COMPLETE, /* every frame of the WAL copied */
	STORE_CKPT_PARTIAL,  /* readers still on older frames held some back */
	STORE_CKPT_BUSY,     /* the lock it needed stayed taken */
	STORE_CKPT_FAILED,
	STORE_CKPT_RESULTS
};
/* The checkpoints' modes (SQLite's): PASSIVE catches up; under load RESTART lets the writer
 * start the -wal file over in place; when writes pause TRUNCATE cuts it to nothing. */
enum store_ckpt_mode {
	STORE_CKPT_PASSIVE,
	STORE_CKPT_TRUNCATE,
	STORE_CKPT_RESTART,
	STORE_CKPT_MODES
};
struct store_stats {
	int64_t db_bytes;           /* the database file */
	int64_t wal_bytes;          /* its -wal file */
	uint64_t checkpoints[STORE_CKPT_MODES][STORE_CKPT_RESULTS]; /* [mode][result] */
	int64_t last_complete_unix; /* when a checkpoint last copied every frame; 0: never */
	int last_wal_frames;        /* the last checkpoint's frames in the WAL ... */
	int last_copied_frames;     /* ... and frames copied into the database */
};
void store_stats(struct store *s, struct store_stats *out);
/* Runs PRAGMA integrity_check; 0 when it answers ok. */
int store_integrity_check(struct store *s, char *err, size_t errlen);

/* ---------------------------------------------------------------------------------------
 * The database file as a whole (restore.c), for the operator's commands, with no store of it
 * open in this process. Messages go to err without a prefix.
 */

/*
 * Takes, on the database file db and its -shm file (either may be absent), the file locks
 * that every connection to the database holds while it is open: while they are held, no
 * other process has the database open, and one that opens it meanwhile finds it locked.
 * RC_BUSY when another process has it open (the message names the process when it can be
 * told), RC_IO when a file cannot be opened. Release with store_file_unlock.
 */
struct store_file_lock {
	int db_fd;  /* -1: none */
	int shm_fd; /* -1: none */
};
__attribute__((warn_unused_result)) enum rc store_file_lock(const char *db,
							     struct store_file_lock *l,
							     char *err, size_t errlen);
/* Drops the locks (a lock of { -1, -1 } holds none). */
void store_file_unlock(struct store_file_lock *l);

/* What a restore put in place. */
struct store_restored {
	int version; /* its schema version, after the migrations */
	int roles;   /* roles ever created, archived ones included; -1 when not counted */
};
/*
 * Replaces the database at db by the backup at backup (made by store_backup), refusing with
 * a message, and nothing changed, when the backup is not an aijri database whole in one
 * file, when its schema is newer than this binary knows (RC_TOONEW), when db is in use
 * (RC_BUSY, as store_file_lock), or when the backup fails the integrity check. The backup is
 * never written to: a copy of it beside db is migrated and checked, then renamed over db
 * (durably, with db's owner and mode), and what the old database left beside it goes.
 */
__attribute__((warn_unused_result)) enum rc store_restore(const char *backup, const char *db,
							   struct store_restored *out,
							   char *err, size_t errlen);

#endif
