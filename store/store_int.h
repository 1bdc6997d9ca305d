/*
 * store_int.h: what the store's own files share (store.c: connections, the writer thread,
 * migrations, operations; roles.c, tokens.c, outbox.c, idempotency.c, history.c, catalog.c:
 * their rows), all on the database layer (db.h).
 * Nothing outside store/ includes this.
 */
#ifndef STORE_STORE_INT_H
#define STORE_STORE_INT_H

#include <pthread.h>
#include <stdint.h>

#include "store/db.h"
#include "store/db_bridge.h"
#include "store/store.h"
#include "util/clock.h"

/* One connection of the database layer (db.h), used by one thread only. */
struct store_conn {
	struct db_conn *dc;
	int owns_dc;     /* the writer's: closed with it (a reader's is the layer's, per thread) */
};

/* The job's view of the write transaction. */
struct store_tx {
	struct store *s;
	struct store_conn *conn;         /* the writer's connection */
	char now[CLOCK_ISO_LEN];         /* one time for the whole job */
	int64_t now_unix;
	int events_added;                /* set by store_tx_event_add: wake the dispatcher */
	int changed;                     /* set by any tx write: run the on-commit hook */
};

/* This thread's read-only connection to s (opened on first use). NULL on failure. */
struct store_conn *store_reader(struct store *s);

/* The outbox wake-up that store_outbox_kick/store_outbox_wait (outbox.c) are built on: a
 * mutex, a condition variable (its clock is CLOCK_MONOTONIC, for pthread_cond_timedwait) and
 * a flag, all fields of struct store, initialised by store_open. The writer calls
 * store_outbox_kick after a commit in which a job set tx->events_added. */
pthread_mutex_t *store_outbox_mutex(struct store *s);
/* Records, inside a job, that the job wrote role id (its list columns or aliases): after the
 * batch commits, the catalog reads it again. */
void store_tx_role_touched(struct store_tx *tx, int64_t id);

/* The catalog (catalog.c): the role lists from memory. Past this many touched roles (in one
 * batch, or between two list calls), reading everything again is cheaper than patching. */
#define CATALOG_MAX_DIRTY 4096

struct catalog;
struct catalog *catalog_new(void);
struct catalog *store_catalog(struct store *s);
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
/* history.c: registers aijri_history_entry(), the packing of a score history row, on a
 * connection that writes the history (the writer's: migrations and revisions use it). */
int store_history_register(void *sqlite_handle);
/* idempotency.c: deletes at most limit answers made before now - STORE_IDEMPOTENCY_TTL. */
int store_tx_idem_expire(struct store_tx *tx, int64_t now, int limit, int *deleted);
pthread_cond_t *store_outbox_cond(struct store *s);

/* The WAL checkpointer (checkpoint.c): a thread and a connection of its own. */
struct checkpointer;
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
/* The pause window in seconds (store_webhook_pause_set). */
int64_t store_webhook_pause(struct store *s);
int *store_outbox_flag(struct store *s);

#endif
