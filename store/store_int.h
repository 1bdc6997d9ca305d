/*
 * store_int.h: what the store's own files share, all on the database layer (db.h).
 * Nothing outside store/ includes this.
 *
 * The files call each other one way, from the top down:
 *
 *   store.c        opening and closing (it builds struct store and wires its parts),
 *                  migrations, operations
 *   claims.c       what the dispatcher may send, claimed for this instance (it reads the
 *                  rows with outbox.c)
 *   roles.c tokens.c webhooks.c outbox.c idempotency.c history.c
 *                  the rows, each file its tables (webhooks.c asks outbox.c for the
 *                  pause window; outbox.c asks event_ids.c for the ids and bodies of an
 *                  event row's types)
 *   revisions.c    the revisions read, and the head of a role (roles.c asks for it)
 *   pieces.c pieces_sql.c
 *                  a revision's role body as pieces (roles.c, revisions.c and migration
 *                  0007 use them)
 *   writer.c       the writer thread: the job queue, group commit, the background clean-up
 *   readers.c      one read connection per reading thread
 *   catalog.c checkpoint.c event_ids.c db*.c
 *
 * The writer runs the clean-up of idempotency.c and wakes the outbox of outbox.c through
 * struct writer_hooks, given by store_open, so that it names no file of rows.
 */
#ifndef STORE_STORE_INT_H
#define STORE_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "store/db.h"
#include "store/db_bridge.h"
#include "store/store.h"
#include "util/clock.h"

/* On the calls whose failure must be handled. */
#define STORE_WARN __attribute__((warn_unused_result))

struct readers;
struct writer;
struct catalog;
struct outbox;
struct checkpointer;
struct listener;

/*
 * The store: one object of each part, each part's fields its own file's (opaque to the
 * others). store_open (store.c) fills every field before the writer thread starts; none
 * changes after, until store_free.
 */
struct store {
	char *path;
	struct db *db;               /* the database layer: every connection comes from it */
	int version;                 /* the schema version, as the migrations left it */
	struct readers *readers;     /* readers.c */
	struct writer *writer;       /* writer.c */
	struct catalog *cat;         /* catalog.c: the role lists from memory */
	struct outbox *outbox;       /* outbox.c: the dispatcher's wake-up, the pause window */
	struct checkpointer *ckpt;   /* checkpoint.c */
	struct listener *listener;   /* listener.c (PostgreSQL only) */
	char instance[17];           /* this process's id among the database's instances */
	_Atomic int64_t changes_seen; /* listener.c: the count of changes taken in */
};

/* One connection of the database layer (db.h), used by one thread only: the writer's
 * (writer.c closes it) or a reading thread's (the layer's, closed by db_readers_close). */
struct store_conn {
	struct db_conn *dc;
};

/* The job's view of the write transaction. */
struct store_tx {
	struct store *s;
	struct writer *writer;           /* the writer running the job (writer.c's) */
	struct store_conn *conn;         /* the writer's connection */
	char now[CLOCK_ISO_LEN];         /* one time for the whole job */
	int64_t now_unix;
	int64_t now_ms;                  /* the same time in Unix milliseconds (the score history's) */
	int events_added;                /* set by store_tx_event_add: wake the dispatcher */
	int changed;                     /* set by any tx write: run the on-commit hook */
};

/* A condition variable on CLOCK_MONOTONIC, for pthread_cond_timedwait: a change of the wall
 * clock neither stretches nor cuts a wait. */
static inline int store_cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int rc;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	rc = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * readers.c: the read connections
 */

/* The list of the reading threads' connections. RC_NOMEM, or RC_IO when no thread key is
 * left. */
STORE_WARN enum rc readers_new(struct readers **out);
/* Closes the connections of the threads still alive; no thread may read any more. NULL ok. */
void readers_free(struct readers *r);
/* This thread's read-only connection to s (opened on first use). NULL on failure. */
struct store_conn *store_reader(struct store *s);

/* ---------------------------------------------------------------------------------------
 * writer.c: the writer thread
 */

/* What the writer runs besides the queued jobs; all required. */
struct writer_hooks {
	/* After a commit in which a job added events (tx->events_added). */
	void (*events_committed)(struct store *s);
	/* The background clean-up, run as a short job of its own when due; it sets *more when
	 * it did a full batch, so that the next one comes soon. */
	int (*cleanup)(struct store_tx *tx, int *more);
	/* Last in a batch's transaction that changed something, and after its commit
	 * (changes_announce and changes_committed of listener.c). */
	enum rc (*announce)(struct store *s, struct db_conn *c, const int64_t *ids, size_t n,
			    int all, int events);
	void (*committed)(struct store *s, struct db_conn *c);
};

/*
 * Starts the writer thread of s on dc, a write connection with the schema up to date, which
 * it takes over whatever happens (closed by writer_free, or here on failure). Sets the WAL's
 * size limit and the WAL hook of dc (for s->ckpt, started before). On failure a message in
 * err.
 */
STORE_WARN enum rc writer_start(struct store *s, struct db_conn *dc,
				 const struct writer_hooks *hooks, struct writer **out, char *err,
				 size_t errlen);
/* Stops the thread after the jobs queued so far; writes are refused from then on. NULL ok. */
void writer_stop(struct writer *w);
/* Closes the write connection (its close checkpoints the WAL into the file: it goes after the
 * readers) and frees w, stopped before. NULL ok. */
void writer_free(struct writer *w);
/* Records, inside a job, that the job wrote role id (its list columns or aliases): after the
 * batch commits, the catalog reads it again. */
void store_tx_role_touched(struct store_tx *tx, int64_t id);

/* Calls the commit hook (store_on_commit) as after a commit: another instance's commit
 * changed what cached answers show. Any thread. */
void writer_commit_hook(struct writer *w);

/* ---------------------------------------------------------------------------------------
 * listener.c: the changes of the other instances, and the count of changes taken in
 */

/* Inside the batch's transaction, last before its commit, when it changed something: counts
 * the change and tells the other instances which roles it touched (ids, n; or all) and
 * whether events were added (PostgreSQL; nothing on SQLite). */
STORE_WARN enum rc changes_announce(struct store *s, struct db_conn *c, const int64_t *ids,
				    size_t n, int all, int events);
/* After that commit (SQLite: counts it in memory). */
void changes_committed(struct store *s, struct db_conn *c);
/* Starts the listener thread (PostgreSQL). On failure a message in err. */
STORE_WARN enum rc listener_start(struct store *s, struct listener **out, char *err,
				  size_t errlen);
/* Stops and frees it. NULL ok. */
void listener_stop(struct listener *l);
/* s->instance: a random id, 16 hex digits. */
void store_instance_init(struct store *s);

/* ---------------------------------------------------------------------------------------
 * catalog.c: the role lists from memory
 */

/* Past this many touched roles (in one batch, or between two list calls), reading everything
 * again is cheaper than patching. */
#define CATALOG_MAX_DIRTY 4096

struct catalog *catalog_new(void);
void catalog_free(struct catalog *cat);
/* After a commit: these roles changed (or, with all set, any may have). */
void catalog_touched(struct catalog *cat, const int64_t *ids, size_t n, int all);
/* store_roles_list, with c the calling thread's read connection. */
int catalog_list(struct catalog *cat, struct store_conn *c, const struct store_role_query *q,
		 int (*row)(void *ctx, const struct store_role *r), void *ctx, int *total);
/* store_roles_near, with c the calling thread's read connection. */
int catalog_near(struct catalog *cat, struct store_conn *c, const char *slug, int limit,
		 int (*row)(void *ctx, const struct store_role *r, double distance), void *ctx);
/*
 * Look-ups of live roles by id, all in one snapshot: begin takes it (brought up to date);
 * catalog_lookup_index gives the role's place in it, or -1 when id is no live role (a search
 * in a small array of ids, reading no entry); catalog_lookup_names its slug and title,
 * borrowed from the snapshot until end drops it.
 */
struct catalog_lookup;
int catalog_lookup_begin(struct catalog *cat, struct store_conn *c, struct catalog_lookup **out);
long catalog_lookup_index(struct catalog_lookup *lk, int64_t id);
/* The number of live roles in the snapshot. */
size_t catalog_lookup_count(struct catalog_lookup *lk);
void catalog_lookup_names(struct catalog_lookup *lk, long index, const char **slug,
			  const char **title);
void catalog_lookup_end(struct catalog_lookup *lk);

/* ---------------------------------------------------------------------------------------
 * The files of rows: what the other store files need of them
 */

/* outbox.c: a delivery as reads show it. OUTBOX_DELIVERY_COLS are the columns of a row of
 * deliveries d joined to its event e and its subscription w (a pending delivery of a disabled
 * one is "paused"); outbox_delivery_read fills d from such a row (d.event_id is the event
 * row's id, e.type its first type: store_event_id), and with extras from e.payload_json,
 * w.url and w.secret after them (release d with store_delivery_release). outbox_delivery_row
 * is a db_row_fn on struct outbox_rows: it reads each row so and hands it to row, whose
 * non-zero answer fails the list. */
#define OUTBOX_DELIVERY_COLS \
	"d.id, d.webhook_id, d.event_id, coalesce(d.event_type, e.type), " \
	"CASE WHEN d.status = 'pending' AND w.status = 'disabled' THEN 'paused' ELSE d.status END, " \
	"d.attempts, d.last_status_code, d.last_error, d.next_attempt_at, d.created_at, " \
	"d.updated_at, e.type"
STORE_WARN enum rc outbox_delivery_read(struct db_stmt *st, struct store_delivery *d, int extras);
struct outbox_rows {
	int extras;
	int (*row)(void *ctx, const struct store_delivery *d);
	void *ctx;
};
enum rc outbox_delivery_row(void *ctx, struct db_stmt *st);

/* outbox.c: the dispatcher's wake-up (store_outbox_kick, store_outbox_wait) and the pause
 * window of the subscriptions (store_webhook_pause_set). NULL when out of memory. */
struct outbox *outbox_new(void);
void outbox_free(struct outbox *o);
/* The pause window in seconds (webhooks.c expires what waited longer). */
int64_t outbox_pause(const struct outbox *o);

/* event_ids.c: the index of an event type in the ids derived from an event row's (0 for
 * assessment.revised, which is first in its row; -1 for a type that shares no row), and the
 * body of the event id of type in a row whose payload is its first type's (row_type, with
 * the row's id row_id): a new string into *out, or RC_IO when payload does not start with
 * that id and type. */
int event_ids_index(const char *type);
STORE_WARN enum rc event_ids_body(const char *payload, const char *row_id, const char *row_type,
				  const char *id, const char *type, char **out);

/* history.c: the packed `entry` of a score history row (history.c documents its bytes). */
#define HISTORY_ENTRY_MAX 544
struct history_values {
	int64_t role_id;
	int revision;
	double score;
	const char *zone, *label;
	int has_prev; /* 0 for revision 1: prev_* unused */
	double prev_score;
	const char *prev_zone, *prev_label;
};
size_t history_entry_pack(const struct history_values *v, unsigned char out[HISTORY_ENTRY_MAX]);
/* history.c: registers aijri_history_entry(), the packing of a score history row, on c, a
 * connection that writes the history (the writer's: migrations and revisions use it). On
 * failure the engine's message in err. */
STORE_WARN enum rc store_history_register(struct db_conn *c, char *err, size_t errlen);

/* revisions.c: a role's id, current revision and archived flag by slug, on c (RC_IO when c
 * is NULL, RC_NOTFOUND when there is no such role). */
int revisions_head(struct store_conn *c, const char *slug, struct store_role_head *out);
/* The same inside a write, the role's row locked until the transaction ends (PostgreSQL). */
int revisions_head_locked(struct store_conn *c, const char *slug, struct store_role_head *out);
/* Copies the zone column col of a row into zone ("" when NULL; at most 7 bytes). */
void store_col_zone(char zone[8], struct db_stmt *st, int col);

/* pieces.c: a revision's role body as pieces kept once (0007_revision_pieces.sql). */
/*
 * Stores the pieces of text that are not stored yet and sets *manifest (malloc'd, *len bytes)
 * to the list of its pieces. prev_text and prev_manifest (may be NULL) are the role's previous
 * revision: its pieces that text repeats at the same place are reused without a look-up.
 */
STORE_WARN enum rc pieces_put(struct db_conn *c, const char *text, const char *prev_text,
			      const void *prev_manifest, size_t prev_len,
			      unsigned char **manifest, size_t *len);
/* The text of a manifest, its pieces put end to end (*text malloc'd); RC_IO when the manifest
 * is broken or names a piece that is not there. */
STORE_WARN enum rc pieces_get(struct db_conn *c, const void *manifest, size_t len, char **text);
/* Inside a row callback: a malloc'd copy of the manifest in column col (RC_IO when NULL), to
 * assemble after the row's statement has run. */
STORE_WARN enum rc pieces_manifest_copy(struct db_stmt *st, int col, unsigned char **out,
					size_t *len);
/* pieces_sql.c: registers aijri_pieces(role_json), which migration 0007 turns revisions into
 * pieces with, on c (the writer's connection). On failure the engine's message in err. */
STORE_WARN enum rc store_pieces_register(struct db_conn *c, char *err, size_t errlen);

/* idempotency.c: the writer's background clean-up (writer_hooks.cleanup): deletes one batch
 * of expired answers. */
int store_tx_idem_cleanup(struct store_tx *tx, int *more);

/* ---------------------------------------------------------------------------------------
 * checkpoint.c: the WAL checkpointer, a thread and a connection of its own
 */

/* Starts it on the database at path (WAL mode already set). NULL on failure. */
struct checkpointer *checkpointer_start(const char *path);
/* Stops the thread and frees it. NULL ok. */
void checkpointer_stop(struct checkpointer *c);
/* The writer's WAL hook: a commit left the WAL at wal_frames frames. */
void checkpointer_committed(struct checkpointer *c, int wal_frames);
/* The writer brackets each batch with these: between two batches it waits while a TRUNCATE
 * checkpoint runs. */
void checkpointer_batch_begin(struct checkpointer *c);
void checkpointer_batch_end(struct checkpointer *c);
/* Fills the file sizes and checkpoint figures of out. */
void checkpointer_stats(struct checkpointer *c, struct store_stats *out);

#endif
