/*
 * store.c: the store's machinery: connections (one read-only connection per reading thread,
 * one write connection owned by the writer thread), the migrations runner, the writer thread
 * with its group commit, and the operations (backup, checkpoint, integrity check).
 *
 * Rows live in roles.c, tokens.c and outbox.c. Nothing here may answer a write before its
 * COMMIT returned: with synchronous=FULL that is what makes an acknowledged write durable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* SQLite's own, until they move behind the database layer: the writer's WAL hook (the
 * checkpointer's signal), the WAL's size limit and the SQL function of the score history,
 * all on the SQLite handle of the write connection (db_bridge.h). */
#include <sqlite3.h>

#include "store/store_int.h"
#include "util/embed.h"
#include "util/num.h"

/* The writer takes at most this many queued jobs into one transaction. */
#define STORE_BATCH_MAX 256
/* The writer's backstop: whenever SQLite starts the WAL over by itself, the file is cut back
 * to this size (the checkpointer, checkpoint.c, cuts it to zero). */
#define STORE_WAL_LIMIT_BYTES (4 << 20)
#define STORE_BUSY_MS 5000
/* The writer's background clean-up of expired idempotency keys: a batch of at most this many
 * rows (one short transaction), then the next one soon while there are more, else after a
 * while. */
#define STORE_EXPIRE_BATCH 500
#define STORE_EXPIRE_EVERY_S 60
#define STORE_EXPIRE_AGAIN_S 1

struct store_job {
	store_job_fn fn;
	void *arg;
	store_done_fn done;
	void *done_arg;
	int rc;
	struct store_job *next;
};

/* A reading thread's connection; listed so that store_free can close those of live threads. */
struct store_reader {
	struct store *s;
	struct store_conn conn;
	struct store_reader *prev, *next;
};

struct store {
	char *path;
	struct db *db; /* the database layer: every connection of the store comes from it */
	int version;

	struct store_conn wconn; /* the writer thread's alone once it runs */
	pthread_t writer;
	int writer_running;

	pthread_mutex_t mu; /* guards the queue, stopping, on_commit */
	pthread_cond_t cond;
	struct store_job *head, *tail;
	int stopping;
	void (*on_commit)(void *ctx);
	void *on_commit_ctx;

	pthread_key_t reader_key;
	int reader_key_ok;
	pthread_mutex_t readers_mu;
	struct store_reader *readers;

	pthread_mutex_t outbox_mu;
	pthread_cond_t outbox_cond;
	int outbox_flag;
	/* How long a paused subscription's deliveries are kept for it (outbox.c); set before
	 * the dispatcher starts, read-only after. */
	int64_t webhook_pause_s;

	struct catalog *cat;
	/* The writer's: roles the current batch touched, for the catalog after commit. */
	int64_t *touched;
	size_t n_touched, cap_touched;
	int touched_all;

	int64_t next_expire;     /* the writer's: monotonic seconds of its next clean-up */

	struct checkpointer *ckpt;
};

/* ---------------------------------------------------------------------------------------
 * Connections and statements
 */

static void conn_close(struct store_conn *c)
{
	if (c->owns_dc)
		db_conn_free(c->dc);
	c->dc = NULL;
}

static void reader_destroy(void *p)
{
	struct store_reader *r = p;
	struct store *s = r->s;

	pthread_mutex_lock(&s->readers_mu);
	if (r->prev)
		r->prev->next = r->next;
	else
		s->readers = r->next;
	if (r->next)
		r->next->prev = r->prev;
	pthread_mutex_unlock(&s->readers_mu);
	conn_close(&r->conn);
	free(r);
}

struct store_conn *store_reader(struct store *s)
{
	struct store_reader *r;

	r = pthread_getspecific(s->reader_key);
	if (r)
		return &r->conn;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->s = s;
	/* The layer's read connection of this thread (it logs a failure). */
	if (db_reader(s->db, &r->conn.dc)) {
		free(r);
		return NULL;
	}
	if (pthread_setspecific(s->reader_key, r)) {
		conn_close(&r->conn);
		free(r);
		return NULL;
	}
	pthread_mutex_lock(&s->readers_mu);
	r->next = s->readers;
	if (s->readers)
		s->readers->prev = r;
	s->readers = r;
	pthread_mutex_unlock(&s->readers_mu);
	return &r->conn;
}

pthread_mutex_t *store_outbox_mutex(struct store *s)
{
	return &s->outbox_mu;
}

pthread_cond_t *store_outbox_cond(struct store *s)
{
	return &s->outbox_cond;
}

int *store_outbox_flag(struct store *s)
{
	return &s->outbox_flag;
}

void store_webhook_pause_set(struct store *s, int64_t seconds)
{
	s->webhook_pause_s = seconds > 0 ? seconds : STORE_WEBHOOK_PAUSE_DEFAULT;
}

int64_t store_webhook_pause(struct store *s)
{
	return s->webhook_pause_s;
}

/* ---------------------------------------------------------------------------------------
 * Migrations
 */

/* The number prefix of "migrations/NNNN_name.sql", or 0 if the name is not a migration. */
static int migration_number(const char *name)
{
	static const char dir[] = "migrations/";
	const char *p;
	size_t n = strlen(name), digits;
	int64_t v;

	if (strncmp(name, dir, sizeof(dir) - 1) || n < 4 || strcmp(name + n - 4, ".sql"))
		return 0;
	p = name + sizeof(dir) - 1;
	digits = strcspn(p, "_");
	if (p[digits] != '_' || num_parse_i64(p, digits, 1, 1000000, &v))
		return 0;
	return (int)v;
}

int store_schema_latest(void)
{
	const struct embed_file *f;
	int latest = 0, n;

	for (f = embed_files; f->name; f++) {
		n = migration_number(f->name);
		if (n > latest)
			latest = n;
	}
	return latest;
}

/* Applies migration n (file f) and sets the schema version to n in one transaction. */
static int migrate_one(struct db_conn *c, const struct embed_file *f, int n, char *err,
		       size_t errlen)
{
	enum rc rc;

	rc = db_begin(c, DB_TX_WRITE);
	if (!rc)
		rc = db_script(c, f->data);
	if (!rc)
		rc = db_version_set(c, n);
	if (!rc)
		rc = db_commit(c);
	if (rc) {
		snprintf(err, errlen, "migration %s failed: %s", f->name, db_errmsg(c));
		(void)db_rollback(c);
		return RC_IO;
	}
	return RC_OK;
}

/* embed_files is in sorted name order, and the zero-padded prefixes make that the
 * numeric order, so one pass applies them in sequence. */
static int migrate(struct store *s, char *err, size_t errlen)
{
	const struct embed_file *f;
	int n, rc;

	for (f = embed_files; f->name; f++) {
		n = migration_number(f->name);
		if (n <= s->version)
			continue;
		rc = migrate_one(s->wconn.dc, f, n, err, errlen);
		if (rc)
			return rc;
		s->version = n;
	}
	return RC_OK;
}

/* ---------------------------------------------------------------------------------------
 * The writer thread
 */

const char *store_tx_now(struct store_tx *tx)
{
	return tx->now;
}

int store_tx_run(struct store_tx *tx, store_job_fn fn, void *arg)
{
	struct store *s = tx->s;
	int changed = tx->changed, events = tx->events_added, rc;

	if (db_savepoint(s->wconn.dc, "part"))
		return RC_IO;
	rc = fn(tx, arg);
	if (rc) {
		if (db_rollback_to(s->wconn.dc, "part"))
			return RC_IO;
		/* What the part wrote is gone: so is its claim to have written. */
		tx->changed = changed;
		tx->events_added = events;
	}
	if (db_release(s->wconn.dc, "part"))
		return RC_IO;
	return rc;
}

/* Runs one batch in one transaction; sets each job's rc. Returns 1 if it committed a change. */
static int run_batch(struct store *s, struct store_job *jobs, int *events)
{
	struct store_job *j;
	struct store_tx tx;
	struct db_conn *c = s->wconn.dc;
	int changed = 0, ev = 0, failed = 0;
	enum rc brc;
	time_t t;

	s->n_touched = 0;
	s->touched_all = 0;
	brc = db_begin(c, DB_TX_WRITE);
	if (brc) {
		for (j = jobs; j; j = j->next)
			j->rc = brc == RC_BUSY ? RC_BUSY : RC_IO;
		return 0;
	}
	for (j = jobs; j; j = j->next) {
		memset(&tx, 0, sizeof(tx));
		tx.s = s;
		tx.conn = &s->wconn;
		t = time(NULL);
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
	if (!failed && db_commit(c))
		failed = 1;
	if (failed) {
		(void)db_rollback(c);
		for (j = jobs; j; j = j->next)
			j->rc = RC_IO;
		return 0;
	}
	/* Before any answer goes out: a client's next list must see its write. */
	catalog_touched(s->cat, s->touched, s->n_touched, s->touched_all);
	*events = ev;
	return changed;
}

struct catalog *store_catalog(struct store *s)
{
	return s->cat;
}

void store_tx_role_touched(struct store_tx *tx, int64_t id)
{
	struct store *s = tx->s;

	if (s->touched_all)
		return;
	if (s->n_touched == s->cap_touched) {
		size_t cap = s->cap_touched ? s->cap_touched * 2 : 64;
		int64_t *t = cap <= CATALOG_MAX_DIRTY ? realloc(s->touched, cap * sizeof(*t)) : NULL;

		if (!t) {
			s->touched_all = 1;
			return;
		}
		s->touched = t;
		s->cap_touched = cap;
	}
	s->touched[s->n_touched++] = id;
}

static int expire_job(struct store_tx *tx, void *arg)
{
	return store_tx_idem_expire(tx, tx->now_unix, STORE_EXPIRE_BATCH, arg);
}

/* One batch of the background clean-up, as a job of its own; schedules the next. */
static void expire_keys(struct store *s)
{
	struct store_job j;
	int deleted = 0, events = 0;

	memset(&j, 0, sizeof(j));
	j.fn = expire_job;
	j.arg = &deleted;
	checkpointer_batch_begin(s->ckpt);
	run_batch(s, &j, &events);
	checkpointer_batch_end(s->ckpt);
	s->next_expire = clock_mono_ms() / 1000 +
			 (j.rc == RC_OK && deleted == STORE_EXPIRE_BATCH ? STORE_EXPIRE_AGAIN_S
									 : STORE_EXPIRE_EVERY_S);
}

/* Waits (s->mu held) until a job is queued, the store stops, or a clean-up is due. Returns
 * 1 when a clean-up is due. */
static int writer_wait(struct store *s)
{
	struct timespec ts;

	while (!s->head && !s->stopping) {
		if (clock_mono_ms() / 1000 >= s->next_expire)
			return 1;
		ts.tv_sec = (time_t)s->next_expire;
		ts.tv_nsec = 0;
		pthread_cond_timedwait(&s->cond, &s->mu, &ts);
	}
	/* Under a steady stream of jobs too, the clean-up gets its turn. */
	return !s->stopping && clock_mono_ms() / 1000 >= s->next_expire;
}

static void *writer_main(void *arg)
{
	struct store *s = arg;
	struct store_job *batch, *last, *j, *next;
	int n, changed, events, expire;
	void (*hook)(void *);
	void *hook_ctx;

	s->next_expire = clock_mono_ms() / 1000 + STORE_EXPIRE_AGAIN_S;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		expire = writer_wait(s);
		if (expire) {
			pthread_mutex_unlock(&s->mu);
			expire_keys(s);
			continue;
		}
		if (!s->head) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		batch = s->head;
		for (last = batch, n = 1; last->next && n < STORE_BATCH_MAX; n++)
			last = last->next;
		s->head = last->next;
		if (!s->head)
			s->tail = NULL;
		last->next = NULL;
		hook = s->on_commit;
		hook_ctx = s->on_commit_ctx;
		pthread_mutex_unlock(&s->mu);

		events = 0;
		checkpointer_batch_begin(s->ckpt);
		changed = run_batch(s, batch, &events);
		checkpointer_batch_end(s->ckpt);
		if (changed && hook)
			hook(hook_ctx);
		if (events)
			store_outbox_kick(s);
		for (j = batch; j; j = next) {
			next = j->next;
			if (j->done)
				j->done(j->done_arg, j->rc);
			free(j);
		}
	}
	return NULL;
}

/* SQLite calls this after each commit of the writer's connection with the WAL's size in
 * frames (it replaces the automatic checkpoint). */
static int wal_hook(void *ctx, sqlite3 *db, const char *name, int frames)
{
	struct store *s = ctx;

	(void)db;
	(void)name;
	checkpointer_committed(s->ckpt, frames);
	return SQLITE_OK;
}

static int enqueue(struct store *s, store_job_fn fn, void *arg, store_done_fn done, void *done_arg)
{
	struct store_job *j = calloc(1, sizeof(*j));

	if (!j)
		return RC_NOMEM;
	j->fn = fn;
	j->arg = arg;
	j->done = done;
	j->done_arg = done_arg;
	pthread_mutex_lock(&s->mu);
	if (s->stopping || !s->writer_running) {
		pthread_mutex_unlock(&s->mu);
		free(j);
		return RC_IO;
	}
	if (s->tail)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
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
	struct sync_wait *w = arg;

	pthread_mutex_lock(&w->mu);
	w->rc = rc;
	w->done = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

int store_write(struct store *s, store_job_fn fn, void *arg)
{
	struct sync_wait w;
	int rc;

	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cond, NULL);
	rc = enqueue(s, fn, arg, sync_done, &w);
	if (rc)
		goto out;
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.mu);
	pthread_mutex_unlock(&w.mu);
	rc = w.rc;
out:
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.mu);
	return rc;
}

int store_write_async(struct store *s, store_job_fn fn, void *arg, store_done_fn done)
{
	return enqueue(s, fn, arg, done, arg);
}

void store_on_commit(struct store *s, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&s->mu);
	s->on_commit = fn;
	s->on_commit_ctx = ctx;
	pthread_mutex_unlock(&s->mu);
}

/* ---------------------------------------------------------------------------------------
 * Opening and closing
 */

static int cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int rc;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	rc = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return rc;
}

int store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store *s = NULL;
	sqlite3 *db = NULL;
	int rc = RC_IO, latest = store_schema_latest();

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		snprintf(err, errlen, "out of memory");
		rc = RC_NOMEM;
		goto fail_alloc;
	}
	pthread_mutex_init(&s->mu, NULL);
	cond_init_monotonic(&s->cond);
	pthread_mutex_init(&s->readers_mu, NULL);
	pthread_mutex_init(&s->outbox_mu, NULL);
	cond_init_monotonic(&s->outbox_cond);
	s->webhook_pause_s = STORE_WEBHOOK_PAUSE_DEFAULT;
	s->cat = catalog_new();
	if (!s->cat) {
		snprintf(err, errlen, "out of memory");
		rc = RC_NOMEM;
		goto fail;
	}
	if (pthread_key_create(&s->reader_key, reader_destroy)) {
		snprintf(err, errlen, "no thread key left");
		goto fail;
	}
	s->reader_key_ok = 1;

	{
		struct db_options opt = { .create = 1, .busy_ms = STORE_BUSY_MS };

		rc = db_open(path, &opt, &s->db, err, errlen);
		if (rc)
			goto fail;
	}
	/* Until db_storage_init the write connection changes nothing, not even by checkpointing
	 * a WAL when it closes. */
	rc = db_conn_open(s->db, DB_WRITE, &s->wconn.dc, err, errlen);
	if (rc)
		goto fail;
	s->wconn.owns_dc = 1;
	db = db_sqlite_handle(s->wconn.dc);
	if (!db) {
		snprintf(err, errlen, "%s: not a SQLite database", path);
		rc = RC_UNSUPPORTED;
		goto fail;
	}
	/* Look at the version before anything that could write (journal_mode=WAL rewrites the
	 * header): a database from a newer aijri must be left exactly as it is. */
	rc = db_version_get(s->wconn.dc, &s->version);
	if (rc) {
		snprintf(err, errlen, "%s: not a readable database: %s", path,
			 db_errmsg(s->wconn.dc));
		rc = RC_IO;
		goto fail;
	}
	if (s->version > latest) {
		snprintf(err, errlen,
			 "%s: schema version %d is newer than this aijri knows (%d); "
			 "use a newer aijri (the database was not changed)",
			 path, s->version, latest);
		rc = RC_TOONEW;
		goto fail;
	}
	if (db_storage_init(s->wconn.dc)) {
		snprintf(err, errlen, "%s: cannot set up: %s", path, db_errmsg(s->wconn.dc));
		rc = RC_IO;
		goto fail;
	}
	if (store_history_register(db)) {
		snprintf(err, errlen, "%s: cannot set up: %s", path, sqlite3_errmsg(db));
		rc = RC_IO;
		goto fail;
	}
	rc = migrate(s, err, errlen);
	if (rc)
		goto fail;
	{
		char limit[64];

		snprintf(limit, sizeof(limit), "PRAGMA journal_size_limit = %d", STORE_WAL_LIMIT_BYTES);
		sqlite3_exec(db, limit, NULL, NULL, NULL);
	}
	s->ckpt = checkpointer_start(path);
	if (!s->ckpt) {
		snprintf(err, errlen, "cannot start the checkpointer thread");
		rc = RC_IO;
		goto fail;
	}
	sqlite3_wal_hook(db, wal_hook, s);
	if (pthread_create(&s->writer, NULL, writer_main, s)) {
		snprintf(err, errlen, "cannot start the writer thread");
		rc = RC_IO;
		goto fail;
	}
	s->writer_running = 1;
	*out = s;
	return RC_OK;
fail:
	store_free(s);
	return rc;
fail_alloc:
	free(s);
	return rc;
}

void store_free(struct store *s)
{
	struct store_reader *r, *next;

	if (!s)
		return;
	if (s->writer_running) {
		pthread_mutex_lock(&s->mu);
		s->stopping = 1;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->writer, NULL);
	}
	checkpointer_stop(s->ckpt);
	s->ckpt = NULL;
	if (s->reader_key_ok) {
		/* Deleting the key first means no thread's destructor can run on what we free. */
		pthread_key_delete(s->reader_key);
		for (r = s->readers; r; r = next) {
			next = r->next;
			conn_close(&r->conn);
			free(r);
		}
	}
	/* The write connection closes last: its close checkpoints the WAL into the file. */
	if (s->db)
		db_readers_close(s->db);
	if (s->wconn.dc)
		conn_close(&s->wconn);
	db_free(s->db);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->readers_mu);
	pthread_mutex_destroy(&s->outbox_mu);
	pthread_cond_destroy(&s->outbox_cond);
	catalog_free(s->cat);
	free(s->touched);
	free(s->path);
	free(s);
}

int store_schema_version(struct store *s)
{
	return s->version;
}

const char *store_path(struct store *s)
{
	return s->path;
}

/* ---------------------------------------------------------------------------------------
 * Operations
 */

int store_backup(struct store *s, const char *path, char *err, size_t errlen)
{
	return db_backup(s->db, path, err, errlen);
}

int store_checkpoint(struct store *s)
{
	struct db_conn *c = NULL;
	struct db_stmt *st;
	char err[256];
	int64_t n;
	enum rc rc;

	/* The writer's connection is the writer thread's alone, and a read-only one cannot
	 * checkpoint: a short-lived connection of our own does it. */
	rc = db_conn_open(s->db, DB_WRITE, &c, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "aijri: store: %s\n", err);
		return rc;
	}
	/* A SQLite connection that has not read the database has no WAL open: its checkpoint
	 * would copy nothing and still succeed. */
	rc = db_prepare(c, db_sql(c, "SELECT count(*) FROM sqlite_master", "SELECT 1"), &st);
	if (!rc)
		rc = db_one_int64(st, &n);
	if (!rc)
		rc = db_checkpoint(c);
	if (rc)
		fprintf(stderr, "aijri: store: checkpoint: %s\n", db_errmsg(c));
	db_conn_free(c);
	return rc == RC_OK || rc == RC_BUSY ? rc : RC_IO;
}

void store_stats(struct store *s, struct store_stats *out)
{
	memset(out, 0, sizeof(*out));
	checkpointer_stats(s->ckpt, out);
}

static enum rc integrity_row(void *ctx, struct db_stmt *st)
{
	const char *t = db_col_text(st, 0, NULL);

	snprintf(ctx, 256, "%s", t ? t : "(null)");
	return RC_OK;
}

int store_integrity_check(struct store *s, char *err, size_t errlen)
{
	struct store_conn *c = store_reader(s);
	struct db_stmt *st;
	char verdict[256];
	enum rc rc;

	if (!c || db_prepare(c->dc, db_sql(c->dc, "PRAGMA integrity_check", "SELECT 'ok'"), &st)) {
		snprintf(err, errlen, "cannot read the database");
		return RC_IO;
	}
	/* The first row says "ok", or the first of the problems found. */
	rc = db_one(st, integrity_row, verdict);
	if (rc) {
		snprintf(err, errlen, "integrity_check: %s", db_errmsg(c->dc));
		return RC_IO;
	}
	if (strcmp(verdict, "ok")) {
		snprintf(err, errlen, "integrity_check: %s", verdict);
		return RC_IO;
	}
	return RC_OK;
}

int store_role_count_all(struct store *s, int *count)
{
	struct store_conn *c = store_reader(s);
	struct db_stmt *st;
	int64_t n = 0;
	enum rc rc;

	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, "SELECT count(*) FROM roles", &st);
	if (!rc)
		rc = db_one_int64(st, &n);
	if (!rc)
		*count = (int)n;
	return rc;
}
