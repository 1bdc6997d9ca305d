/*
 * writer.c: the writer thread, the one owner of the one write connection. A caller hands it a
 * job (store_write, store_write_async); it takes up to STORE_BATCH_MAX queued jobs into one
 * transaction, each job inside a savepoint of its own, and commits once (group commit) before
 * any job's completion is reported: with synchronous=FULL that is what makes an acknowledged
 * write durable. Between batches it runs the background clean-up now and then.
 *
 * It knows no table: what it runs besides the jobs comes in struct writer_hooks, from
 * store_open.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* SQLite's own, until they move behind the database layer: the WAL hook (the checkpointer's
 * signal) and the WAL's size limit, on the SQLite handle of the write connection
 * (db_bridge.h). */
#include <sqlite3.h>

#include "store/store_int.h"

/* The writer takes at most this many queued jobs into one transaction. */
#define STORE_BATCH_MAX 256
/* The writer's backstop: whenever SQLite starts the WAL over, the file is cut back to this
 * size. Above the checkpointer's bound under load (16 MiB, checkpoint.c) with room for a
 * batch, so that the file it starts over is written over in place, not cut and grown again
 * (new blocks and page-cache pages for every append); the checkpointer cuts it to zero when
 * writes pause. */
#define STORE_WAL_LIMIT_BYTES (32 << 20)
/* The background clean-up: a batch (one short transaction), then the next one soon while
 * there are more, else after a while. */
#define STORE_CLEANUP_EVERY_S 60
#define STORE_CLEANUP_AGAIN_S 1

struct store_job {
	store_job_fn fn;
	void *arg;
	store_done_fn done;
	void *done_arg;
	int rc;
	struct store_job *next;
};

struct writer {
	struct store *s;
	struct store_conn conn; /* the writer thread's alone once it runs */
	struct writer_hooks hooks;
	pthread_t thread;
	int running;

	pthread_mutex_t mu; /* guards the queue, stopping, on_commit */
	pthread_cond_t cond; /* on CLOCK_MONOTONIC: the clean-up's time is a monotonic one */
	struct store_job *head, *tail;
	int stopping;
	void (*on_commit)(void *ctx);
	void *on_commit_ctx;

	/* The writer thread's alone (self, set by it, is asserted where they are used): */
	pthread_t self;
	int64_t *touched;        /* roles the current batch touched, for the catalog */
	size_t n_touched, cap_touched;
	int touched_all;
	int64_t next_cleanup;    /* monotonic seconds of the next clean-up */
};

/* ---------------------------------------------------------------------------------------
 * Inside a job
 */

const char *store_tx_now(struct store_tx *tx)
{
	return tx->now;
}

int store_tx_run(struct store_tx *tx, store_job_fn fn, void *arg)
{
	struct db_conn *c = tx->conn->dc;
	int changed = tx->changed, events = tx->events_added, rc;

	if (db_savepoint(c, "part"))
		return RC_IO;
	rc = fn(tx, arg);
	if (rc) {
		if (db_rollback_to(c, "part"))
			return RC_IO;
		/* What the part wrote is gone: so is its claim to have written. */
		tx->changed = changed;
		tx->events_added = events;
	}
	if (db_release(c, "part"))
		return RC_IO;
	return rc;
}

void store_tx_role_touched(struct store_tx *tx, int64_t id)
{
	struct writer *w = tx->writer;

	assert(pthread_equal(w->self, pthread_self()));
	if (w->touched_all)
		return;
	if (w->n_touched == w->cap_touched) {
		size_t cap = w->cap_touched ? w->cap_touched * 2 : 64;
		int64_t *t = cap <= CATALOG_MAX_DIRTY ? realloc(w->touched, cap * sizeof(*t)) : NULL;

		if (!t) {
			w->touched_all = 1;
			return;
		}
		w->touched = t;
		w->cap_touched = cap;
	}
	w->touched[w->n_touched++] = id;
}

/* ---------------------------------------------------------------------------------------
 * The writer thread
 */

/* Runs one batch in one transaction; sets each job's rc. Returns 1 if it committed a change,
 * and sets *events when a job of it added events. */
static int run_batch(struct writer *w, struct store_job *jobs, int *events)
{
	struct store_job *j;
	struct store_tx tx;
	struct db_conn *c = w->conn.dc;
	int changed = 0, ev = 0, failed = 0;
	enum rc brc;
	time_t t;

	assert(pthread_equal(w->self, pthread_self()));
	w->n_touched = 0;
	w->touched_all = 0;
	brc = db_begin(c, DB_TX_WRITE);
	if (brc) {
		for (j = jobs; j; j = j->next)
			j->rc = brc == RC_BUSY ? RC_BUSY : RC_IO;
		return 0;
	}
	for (j = jobs; j; j = j->next) {
		memset(&tx, 0, sizeof(tx));
		tx.s = w->s;
		tx.writer = w;
		tx.conn = &w->conn;
		tx.now_ms = clock_now_ms();
		t = (time_t)(tx.now_ms / 1000);
		tx.now_unix = (int64_t)t;
		clock_iso(t, tx.now);
		if (db_savepoint(c, "job")) {
			failed = 1;
			break;
		}
		j->rc = j->fn(&tx, j->arg);
		if (j->rc && db_rollback_to(c, "job")) {
			failed = 1;
			break;
		}
		if (db_release(c, "job")) {
			failed = 1;
			break;
		}
		if (!j->rc) {
			changed |= tx.changed;
			ev |= tx.events_added;
		}
	}
	if (!failed && changed &&
	    w->hooks.announce(w->s, c, w->touched, w->n_touched, w->touched_all, ev))
		failed = 1;
	if (!failed && db_commit(c))
		failed = 1;
	if (failed) {
		(void)db_rollback(c);
		for (j = jobs; j; j = j->next)
			j->rc = RC_IO;
		return 0;
	}
	/* Before any answer goes out: a client's next list must see its write. */
	catalog_touched(w->s->cat, w->touched, w->n_touched, w->touched_all);
	if (changed)
		w->hooks.committed(w->s, c);
	*events = ev;
	return changed;
}

struct cleanup {
	int (*fn)(struct store_tx *tx, int *more);
	int more;
};

static int cleanup_job(struct store_tx *tx, void *arg)
{
	struct cleanup *c = arg;

	return c->fn(tx, &c->more);
}

/* One batch of the background clean-up, as a job of its own; schedules the next. */
static void cleanup(struct writer *w)
{
	struct cleanup c = { w->hooks.cleanup, 0 };
	struct store_job j;
	int events = 0;

	memset(&j, 0, sizeof(j));
	j.fn = cleanup_job;
	j.arg = &c;
	checkpointer_batch_begin(w->s->ckpt);
	run_batch(w, &j, &events);
	checkpointer_batch_end(w->s->ckpt);
	w->next_cleanup = clock_mono_ms() / 1000 +
			  (j.rc == RC_OK && c.more ? STORE_CLEANUP_AGAIN_S : STORE_CLEANUP_EVERY_S);
}

/* Waits (w->mu held) until a job is queued, the writer stops, or a clean-up is due. Returns
 * 1 when a clean-up is due. */
static int writer_wait(struct writer *w)
{
	struct timespec ts;

	while (!w->head && !w->stopping) {
		if (clock_mono_ms() / 1000 >= w->next_cleanup)
			return 1;
		ts.tv_sec = (time_t)w->next_cleanup;
		ts.tv_nsec = 0;
		pthread_cond_timedwait(&w->cond, &w->mu, &ts);
	}
	/* Under a steady stream of jobs too, the clean-up gets its turn. */
	return !w->stopping && clock_mono_ms() / 1000 >= w->next_cleanup;
}

/* Takes the next batch off the queue (w->mu held, the queue not empty). */
static struct store_job *take_batch(struct writer *w)
{
	struct store_job *batch = w->head, *last;
	int n;

	for (last = batch, n = 1; last->next && n < STORE_BATCH_MAX; n++)
		last = last->next;
	w->head = last->next;
	if (!w->head)
		w->tail = NULL;
	last->next = NULL;
	return batch;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct store_job *batch, *j, *next;
	int changed, events;
	void (*hook)(void *);
	void *hook_ctx;

	/* Named, so that perf and top tell the threads apart. */
	pthread_setname_np(pthread_self(), "aijri-writer");

	w->self = pthread_self();
	w->next_cleanup = clock_mono_ms() / 1000 + STORE_CLEANUP_AGAIN_S;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		if (writer_wait(w)) {
			pthread_mutex_unlock(&w->mu);
			cleanup(w);
			continue;
		}
		if (!w->head) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		batch = take_batch(w);
		hook = w->on_commit;
		hook_ctx = w->on_commit_ctx;
		pthread_mutex_unlock(&w->mu);

		events = 0;
		checkpointer_batch_begin(w->s->ckpt);
		changed = run_batch(w, batch, &events);
		checkpointer_batch_end(w->s->ckpt);
		/* The answers go out from here. Handed to a thread of its own (tried: a completer
		 * fed by a queue), this cost a wake-up and a hop per batch to save about 5 us of
		 * the writer's 150 us per write, and measured slower on two cores. */
		if (changed && hook)
			hook(hook_ctx);
		if (events)
			w->hooks.events_committed(w->s);
		for (j = batch; j; j = next) {
			next = j->next;
			if (j->done)
				j->done(j->done_arg, j->rc);
			free(j);
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Handing it jobs
 */

static int enqueue(struct writer *w, store_job_fn fn, void *arg, store_done_fn done,
		   void *done_arg)
{
	struct store_job *j = calloc(1, sizeof(*j));

	if (!j)
		return RC_NOMEM;
	j->fn = fn;
	j->arg = arg;
	j->done = done;
	j->done_arg = done_arg;
	pthread_mutex_lock(&w->mu);
	if (w->stopping || !w->running) {
		pthread_mutex_unlock(&w->mu);
		free(j);
		return RC_IO;
	}
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
	return RC_OK;
}

struct sync_wait {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int done;
	int rc;
};

static void sync_done(void *arg, int rc)
{
	struct sync_wait *sw = arg;

	pthread_mutex_lock(&sw->mu);
	sw->rc = rc;
	sw->done = 1;
	pthread_cond_signal(&sw->cond);
	pthread_mutex_unlock(&sw->mu);
}

int store_write(struct store *s, store_job_fn fn, void *arg)
{
	struct sync_wait sw;
	int rc;

	memset(&sw, 0, sizeof(sw));
	pthread_mutex_init(&sw.mu, NULL);
	pthread_cond_init(&sw.cond, NULL);
	rc = enqueue(s->writer, fn, arg, sync_done, &sw);
	if (rc)
		goto out;
	pthread_mutex_lock(&sw.mu);
	while (!sw.done)
		pthread_cond_wait(&sw.cond, &sw.mu);
	pthread_mutex_unlock(&sw.mu);
	rc = sw.rc;
out:
	pthread_cond_destroy(&sw.cond);
	pthread_mutex_destroy(&sw.mu);
	return rc;
}

int store_write_async(struct store *s, store_job_fn fn, void *arg, store_done_fn done)
{
	return enqueue(s->writer, fn, arg, done, arg);
}

void writer_commit_hook(struct writer *w)
{
	void (*hook)(void *);
	void *ctx;

	pthread_mutex_lock(&w->mu);
	hook = w->on_commit;
	ctx = w->on_commit_ctx;
	pthread_mutex_unlock(&w->mu);
	if (hook)
		hook(ctx);
}

void store_on_commit(struct store *s, void (*fn)(void *ctx), void *ctx)
{
	struct writer *w = s->writer;

	pthread_mutex_lock(&w->mu);
	w->on_commit = fn;
	w->on_commit_ctx = ctx;
	pthread_mutex_unlock(&w->mu);
}

/* ---------------------------------------------------------------------------------------
 * Starting and stopping
 */

/* SQLite calls this after each commit of the writer's connection with the WAL's size in
 * frames (it replaces the automatic checkpoint). */
static int wal_hook(void *ctx, sqlite3 *db, const char *name, int frames)
{
	struct writer *w = ctx;

	(void)db;
	(void)name;
	checkpointer_committed(w->s->ckpt, frames);
	return SQLITE_OK;
}

enum rc writer_start(struct store *s, struct db_conn *dc, const struct writer_hooks *hooks,
		     struct writer **out, char *err, size_t errlen)
{
	struct writer *w;
	sqlite3 *db = db_sqlite_handle(dc);
	char limit[64];

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		db_conn_free(dc);
		return RC_NOMEM;
	}
	w->s = s;
	w->conn.dc = dc;
	w->hooks = *hooks;
	pthread_mutex_init(&w->mu, NULL);
	store_cond_init_monotonic(&w->cond);
	/* SQLite: the WAL's bound and the checkpointer's cue. PostgreSQL keeps its own. */
	if (db) {
		snprintf(limit, sizeof(limit), "PRAGMA journal_size_limit = %d",
			 STORE_WAL_LIMIT_BYTES);
		sqlite3_exec(db, limit, NULL, NULL, NULL);
		sqlite3_wal_hook(db, wal_hook, w);
	}
	if (pthread_create(&w->thread, NULL, writer_main, w)) {
		writer_free(w);
		snprintf(err, errlen, "cannot start the writer thread");
		return RC_IO;
	}
	w->running = 1;
	*out = w;
	return RC_OK;
}

void writer_stop(struct writer *w)
{
	if (!w || !w->running)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
}

void writer_free(struct writer *w)
{
	if (!w)
		return;
	db_conn_free(w->conn.dc);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cond);
	free(w->touched);
	free(w);
}
