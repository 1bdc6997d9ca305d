/*
 * checkpoint.c: the WAL checkpointer. A thread and a connection of its own copy the WAL back
 * into the database and keep the -wal file small, so that the writer never pays for it
 * inside a commit (SQLite's automatic checkpoint would run inside the committing call).
 *
 * Rounds: a PASSIVE checkpoint once the WAL holds CKPT_PAGES pages, and CKPT_IDLE_MS after
 * the last commit when writes pause. PASSIVE waits for nobody, but it cannot start the WAL
 * over: under steady writes new frames keep arriving, so the WAL is never wholly copied at a
 * moment when the writer could start it over. So once passive rounds have caught up to a
 * short tail (CKPT_TAIL frames), a RESTART copies that tail under the write lock when the WAL
 * holds more than CKPT_WAL_MAX_BYTES of frames, and the writer's next commit starts the file
 * over from its beginning; when writes pause, a TRUNCATE does the same and cuts the file to
 * zero bytes. Under load the file is thus written over in place, never cut and grown again:
 * measured, cutting it at each round (a TRUNCATE under load, as before) cost the writer's
 * appends new blocks and page-cache pages, about 15% of its time. The writer yields to
 * either between two batches (checkpointer_batch_begin): left to SQLite's busy handler, the
 * checkpointer would almost never catch the lock free, since the writer takes it again the
 * moment a batch commits. They then wait CKPT_BUSY_MS at most for readers still on old
 * frames; the writer waits for them as long as it takes.
 *
 * What must never happen here: a checkpoint on a connection that has not read the database.
 * Such a connection has no WAL open, and sqlite3_wal_checkpoint_v2 on it returns SQLITE_OK
 * having copied nothing (measured: a 583 MiB WAL beside a 4 KiB database after 20 s of
 * writes). The thread reads first, and every round's frame counts are published for
 * /metrics, so a checkpoint that copies nothing shows.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The checkpointer is SQLite's WAL through and through: a connection of its own. */
#include <sqlite3.h>

#include "store/store_int.h"

#define CKPT_PAGES 1000
#define CKPT_IDLE_MS 1000
#define CKPT_TAIL 256
#define CKPT_ROUNDS 8
#define CKPT_BUSY_MS 100
#define CKPT_WAL_MAX_BYTES (16 << 20)

struct checkpointer {
	char *path;
	char *wal_path;
	pthread_t thread;
	int running;
	pthread_mutex_t mu; /* guards due, dirty, stop */
	pthread_cond_t cond;
	int due;            /* CKPT_PAGES frames since the last copy */
	int dirty;          /* a commit since the last round */
	int stop;
	int want_lock;      /* a TRUNCATE waits for the writer to finish its batch */
	int in_batch;       /* the writer is inside a batch */
	pthread_cond_t gate;/* both sides wait on it, under mu */
	_Atomic int wal_frames; /* the WAL's frames after the writer's last commit */
	int page_size;      /* the database's, read by the thread when it opens */
	/* Published for store_stats (written by the thread only). */
	_Atomic uint64_t runs[STORE_CKPT_MODES][STORE_CKPT_RESULTS];
	_Atomic int64_t last_complete_unix;
	_Atomic int last_log, last_copied;
};

static int64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* One checkpoint of mode (STORE_CKPT_*); records its result. Returns the SQLite code. */
static int ckpt_run(struct checkpointer *c, sqlite3 *db, int mode, int *log, int *copied)
{
	static const int sq[STORE_CKPT_MODES] = { SQLITE_CHECKPOINT_PASSIVE,
						  SQLITE_CHECKPOINT_TRUNCATE,
						  SQLITE_CHECKPOINT_RESTART };
	int rc = sqlite3_wal_checkpoint_v2(db, NULL, sq[mode], log, copied);
	enum store_ckpt_result res;

	if (rc == SQLITE_OK) {
		atomic_store(&c->last_log, *log);
		atomic_store(&c->last_copied, *copied);
		res = *copied >= *log ? STORE_CKPT_COMPLETE : STORE_CKPT_PARTIAL;
		if (res == STORE_CKPT_COMPLETE)
			atomic_store(&c->last_complete_unix, (int64_t)time(NULL));
	} else if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
		res = STORE_CKPT_BUSY;
	} else {
		res = STORE_CKPT_FAILED;
		fprintf(stderr, "aijri: store: checkpoint: %s\n", sqlite3_errmsg(db));
	}
	atomic_fetch_add(&c->runs[mode][res], 1);
	return rc;
}

/* One round: passive catch-up, then a RESTART when the WAL is big, or a TRUNCATE when writes
 * paused and the file is not empty. Returns 0, or -1 when the WAL could not be started over
 * and the round should run again. */
static int ckpt_round(struct checkpointer *c, sqlite3 *db, int idle)
{
	int log = 0, copied = 0, rc = SQLITE_OK, i;

	for (i = 0; i < CKPT_ROUNDS; i++) {
		rc = ckpt_run(c, db, STORE_CKPT_PASSIVE, &log, &copied);
		/* Caught up when what the writer added since is a short tail. */
		if (rc != SQLITE_OK || atomic_load(&c->wal_frames) - copied <= CKPT_TAIL)
			break;
	}
	if (rc != SQLITE_OK)
		return -1;
	if (idle ? file_size(c->wal_path) == 0 :
		   (int64_t)atomic_load(&c->wal_frames) * c->page_size <= CKPT_WAL_MAX_BYTES)
		return 0;
	pthread_mutex_lock(&c->mu);
	c->want_lock = 1;
	while (c->in_batch)
		pthread_cond_wait(&c->gate, &c->mu);
	pthread_mutex_unlock(&c->mu);
	rc = ckpt_run(c, db, idle ? STORE_CKPT_TRUNCATE : STORE_CKPT_RESTART, &log, &copied);
	pthread_mutex_lock(&c->mu);
	c->want_lock = 0;
	pthread_cond_broadcast(&c->gate);
	pthread_mutex_unlock(&c->mu);
	return rc == SQLITE_OK && copied >= log ? 0 : -1;
}

void checkpointer_batch_begin(struct checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	while (c->want_lock)
		pthread_cond_wait(&c->gate, &c->mu);
	c->in_batch = 1;
	pthread_mutex_unlock(&c->mu);
}

void checkpointer_batch_end(struct checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->in_batch = 0;
	if (c->want_lock)
		pthread_cond_broadcast(&c->gate);
	pthread_mutex_unlock(&c->mu);
}

/* The database's page size: a WAL frame holds one page. */
static int page_size(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int n = 4096;

	if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void *ckpt_main(void *arg)
{
	struct checkpointer *c = arg;
	struct timespec ts;
	sqlite3 *db = NULL;
	int stop, idle, rc;

	/* Named, so that perf and top tell the threads apart. */
	pthread_setname_np(pthread_self(), "aijri-ckpt");

	rc = sqlite3_open_v2(c->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "aijri: store: checkpointer: cannot open %s: %s\n", c->path,
			db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_extended_result_codes(db, 1);
	/* How long a TRUNCATE may wait for the writer's lock and for readers to move on. */
	sqlite3_busy_timeout(db, CKPT_BUSY_MS);
	/* The read that opens this connection's view of the WAL (see the top of the file). */
	if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK)
		fprintf(stderr, "aijri: store: checkpointer: %s\n", sqlite3_errmsg(db));
	c->page_size = page_size(db);
	for (;;) {
		pthread_mutex_lock(&c->mu);
		idle = 0;
		while (!c->stop && !c->due) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += CKPT_IDLE_MS / 1000;
			if (pthread_cond_timedwait(&c->cond, &c->mu, &ts) == ETIMEDOUT && c->dirty) {
				idle = 1;
				break;
			}
		}
		stop = c->stop;
		c->due = 0;
		c->dirty = 0;
		pthread_mutex_unlock(&c->mu);
		if (stop)
			break;
		if (ckpt_round(c, db, idle) || !idle) {
			/* Readers held it up, or writes go on: a TRUNCATE is owed at the next pause
			 * (its last commit may have come before this round, which cleared dirty). */
			pthread_mutex_lock(&c->mu);
			c->dirty = 1;
			pthread_mutex_unlock(&c->mu);
		}
	}
out:
	sqlite3_close_v2(db);
	return NULL;
}

struct checkpointer *checkpointer_start(const char *path)
{
	struct checkpointer *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;
	size_t n = strlen(path);

	if (!c)
		return NULL;
	c->path = strdup(path);
	c->wal_path = malloc(n + 5);
	if (!c->path || !c->wal_path)
		goto fail;
	memcpy(c->wal_path, path, n);
	memcpy(c->wal_path + n, "-wal", 5);
	pthread_mutex_init(&c->mu, NULL);
	/* The waits are timed on the monotonic clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&c->gate, NULL);
	if (pthread_create(&c->thread, NULL, ckpt_main, c)) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cond);
		pthread_cond_destroy(&c->gate);
		goto fail;
	}
	c->running = 1;
	return c;
fail:
	free(c->path);
	free(c->wal_path);
	free(c);
	return NULL;
}

void checkpointer_stop(struct checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cond);
	pthread_cond_destroy(&c->gate);
	free(c->path);
	free(c->wal_path);
	free(c);
}

void checkpointer_committed(struct checkpointer *c, int wal_frames)
{
	int copied;

	if (!c)
		return;
	copied = atomic_load(&c->last_copied);
	atomic_store(&c->wal_frames, wal_frames);
	/* After the WAL started over, every frame in it is new. */
	if (copied > wal_frames)
		copied = 0;
	pthread_mutex_lock(&c->mu);
	c->dirty = 1;
	if (wal_frames - copied >= CKPT_PAGES && !c->due) {
		c->due = 1;
		pthread_cond_signal(&c->cond);
	}
	pthread_mutex_unlock(&c->mu);
}

void checkpointer_stats(struct checkpointer *c, struct store_stats *out)
{
	int m, r;

	if (!c)
		return;
	out->wal_bytes = file_size(c->wal_path);
	out->db_bytes = file_size(c->path);
	for (m = 0; m < STORE_CKPT_MODES; m++)
		for (r = 0; r < STORE_CKPT_RESULTS; r++)
			out->checkpoints[m][r] = atomic_load(&c->runs[m][r]);
	out->last_complete_unix = atomic_load(&c->last_complete_unix);
	out->last_wal_frames = atomic_load(&c->last_log);
	out->last_copied_frames = atomic_load(&c->last_copied);
}
