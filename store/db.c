/*
 * db.c: the engine-neutral part of the database layer (db.h): choosing the engine, the
 * per-thread read connections, the bounded statement cache keyed by SQL text, bound values,
 * the one row iterator and its helpers, and the checks that keep callers within
 * the layer's rules (transactions and the rest are in db_tx.c). Everything an engine must do
 * differently goes through its struct db_engine; this file never includes an engine's header.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_int.h"

#define DB_DEFAULT_BUSY_MS 5000

struct db_reader {
	struct db *db;
	struct db_conn *c;
	struct db_reader *prev, *next;
};

void db_log_failure(const struct db_conn *c, const char *what, enum rc rc)
{
	fprintf(stderr, "aijri: db: %s: %s (%s)\n", what, c->errmsg[0] ? c->errmsg : rc_str(rc),
		rc_str(rc));
}

/* ---------------------------------------------------------------------------------------
 * Opening
 */

static void reader_destroy(void *p);

int db_is_server(const char *where)
{
	return !strncmp(where, "postgresql://", 13) || !strncmp(where, "postgres://", 11);
}

void db_display(const char *where, char *out, size_t outlen)
{
	char *shown = NULL, err[256];

	if (!db_is_server(where)) {
		snprintf(out, outlen, "%s", where);
		return;
	}
	if (db_pg_check(where, &shown, err, sizeof(err)))
		snprintf(out, outlen, "postgresql://(a URI that cannot be read)");
	else
		snprintf(out, outlen, "%s", shown);
	free(shown);
}

enum rc db_open(const char *where, const struct db_options *opt, struct db **out, char *err,
		size_t errlen)
{
	struct db *db = NULL;
	enum rc rc = RC_NOMEM;

	*out = NULL;
	if (!where || !*where) {
		snprintf(err, errlen, "no database given");
		return RC_INVALID;
	}
	db = calloc(1, sizeof(*db));
	if (!db)
		goto fail;
	db->eng = db_is_server(where) ? &db_engine_pg : &db_engine_sqlite;
	if (opt)
		db->opt = *opt;
	if (db->opt.busy_ms <= 0)
		db->opt.busy_ms = DB_DEFAULT_BUSY_MS;
	pthread_mutex_init(&db->mu, NULL);
	db->where = strdup(where);
	if (!db->where)
		goto fail;
	rc = db->eng->check(where, &db->display, err, errlen);
	if (rc)
		goto fail;
	if (pthread_key_create(&db->reader_key, reader_destroy)) {
		snprintf(err, errlen, "no thread key left");
		rc = RC_IO;
		goto fail;
	}
	db->reader_key_ok = 1;
	*out = db;
	return RC_OK;
fail:
	if (rc == RC_NOMEM)
		snprintf(err, errlen, "out of memory");
	db_free(db);
	return rc;
}

void db_free(struct db *db)
{
	struct db_reader *r, *next;

	if (!db)
		return;
	pthread_mutex_lock(&db->mu);
	for (r = db->readers; r; r = next) {
		next = r->next;
		db_conn_free(r->c);
		free(r);
	}
	db->readers = NULL;
	pthread_mutex_unlock(&db->mu);
	if (db->reader_key_ok)
		pthread_key_delete(db->reader_key);
	pthread_mutex_destroy(&db->mu);
	free(db->where);
	free(db->display);
	free(db);
}

const char *db_engine_name(const struct db *db)
{
	return db->eng->name;
}

const char *db_where(const struct db *db)
{
	return db->display;
}

const char *db_sql(const struct db_conn *c, const char *sqlite_sql, const char *pg_sql)
{
	return c->db->eng == &db_engine_pg ? pg_sql : sqlite_sql;
}

/* ---------------------------------------------------------------------------------------
 * Connections
 */

static enum rc conn_open(struct db *db, enum db_conn_kind kind, int lazy, struct db_conn **out,
			 char *err, size_t errlen)
{
	struct db_conn *c;
	enum rc rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return RC_NOMEM;
	}
	c->db = db;
	c->kind = kind;
	c->lazy = lazy;
	rc = db->eng->open(c, err, errlen);
	if (rc) {
		free(c);
		return rc;
	}
	*out = c;
	return RC_OK;
}

enum rc db_conn_open(struct db *db, enum db_conn_kind kind, struct db_conn **out, char *err,
		     size_t errlen)
{
	return conn_open(db, kind, 0, out, err, errlen);
}

static void stmt_free(struct db_stmt *st);

void db_conn_free(struct db_conn *c)
{
	int i;

	if (!c)
		return;
	c->closing = 1;
	for (i = 0; i < c->n; i++)
		stmt_free(c->cache[i]);
	c->db->eng->close(c);
	free(c);
}

/* Runs when a thread that had a read connection ends. */
static void reader_destroy(void *p)
{
	struct db_reader *r = p;
	struct db *db = r->db;
	struct db_conn *c;

	pthread_mutex_lock(&db->mu);
	if (r->prev)
		r->prev->next = r->next;
	else
		db->readers = r->next;
	if (r->next)
		r->next->prev = r->prev;
	c = r->c;
	r->c = NULL;
	pthread_mutex_unlock(&db->mu);
	db_conn_free(c);
	free(r);
}

void db_readers_close(struct db *db)
{
	struct db_reader *r;

	pthread_mutex_lock(&db->mu);
	for (r = db->readers; r; r = r->next) {
		db_conn_free(r->c);
		r->c = NULL;
	}
	pthread_mutex_unlock(&db->mu);
}

enum rc db_reader(struct db *db, struct db_conn **out)
{
	struct db_reader *r;
	char err[DB_ERRMSG_MAX];
	enum rc rc;

	r = pthread_getspecific(db->reader_key);
	if (r && r->c) {
		*out = r->c;
		return RC_OK;
	}
	*out = NULL;
	if (r) { /* closed by db_readers_close: open it again */
		rc = conn_open(db, DB_READ, 1, &r->c, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "aijri: db: read connection: %s\n", err);
			return rc;
		}
		r->c->pinned = 1;
		r->c->thread = pthread_self();
		*out = r->c;
		return RC_OK;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return RC_NOMEM;
	r->db = db;
	rc = conn_open(db, DB_READ, 1, &r->c, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "aijri: db: read connection: %s\n", err);
		free(r);
		return rc;
	}
	r->c->pinned = 1;
	r->c->thread = pthread_self();
	if (pthread_setspecific(db->reader_key, r)) {
		db_conn_free(r->c);
		free(r);
		return RC_NOMEM;
	}
	pthread_mutex_lock(&db->mu);
	r->next = db->readers;
	if (db->readers)
		db->readers->prev = r;
	db->readers = r;
	pthread_mutex_unlock(&db->mu);
	*out = r->c;
	return RC_OK;
}

const char *db_errmsg(const struct db_conn *c)
{
	return c->errmsg;
}

/* A thread's reader is that thread's alone; the comment in db.h is asserted here. */
void db_check_owner(const struct db_conn *c)
{
	assert(!c->pinned || pthread_equal(c->thread, pthread_self()));
	(void)c;
}

/* ---------------------------------------------------------------------------------------
 * The statement cache
 */

/* FNV-1a: the cache compares hashes first, then the texts. */
static uint32_t sql_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static void params_clear(struct db_stmt *st)
{
	int i;

	for (i = 0; i < st->nparams; i++) {
		free(st->params[i].p);
		memset(&st->params[i], 0, sizeof(st->params[i]));
	}
	st->bind_rc = RC_OK;
}

static void stmt_free(struct db_stmt *st)
{
	if (!st)
		return;
	if (st->eng)
		st->c->db->eng->finalize(st);
	params_clear(st);
	free(st->params);
	free(st->sql);
	free(st);
}

static struct db_stmt *cache_find(struct db_conn *c, const char *sql, size_t len, uint32_t h)
{
	int i;

	for (i = 0; i < c->n; i++) {
		struct db_stmt *st = c->cache[i];
		if (st->hash == h && st->sql_len == len && !memcmp(st->sql, sql, len))
			return st;
	}
	return NULL;
}

/* Frees the least recently used statement that nobody holds; RC_TOOLARGE if all are held. */
static enum rc cache_evict(struct db_conn *c)
{
	int i, victim = -1;

	for (i = 0; i < c->n; i++) {
		if (c->cache[i]->held || c->cache[i]->running)
			continue;
		if (victim < 0 || c->cache[i]->used < c->cache[victim]->used)
			victim = i;
	}
	if (victim < 0) {
		DB_ERR(c, "all %d cached statements are held at once", DB_STMT_CACHE);
		return RC_TOOLARGE;
	}
	stmt_free(c->cache[victim]);
	c->cache[victim] = c->cache[--c->n];
	return RC_OK;
}

static enum rc stmt_new(struct db_conn *c, const char *sql, size_t len, uint32_t h,
			struct db_stmt **out)
{
	struct db_stmt *st = NULL;
	enum rc rc = RC_NOMEM;

	st = calloc(1, sizeof(*st));
	if (!st || !(st->sql = malloc(len + 1)))
		goto fail;
	memcpy(st->sql, sql, len + 1);
	st->sql_len = len;
	st->hash = h;
	st->c = c;
	rc = c->db->eng->prepare(st);
	if (rc)
		goto fail;
	if (st->nparams > DB_MAX_PARAMS) {
		DB_ERR(c, "more than %d parameters", DB_MAX_PARAMS);
		rc = RC_INVALID;
		goto fail;
	}
	rc = RC_NOMEM;
	if (st->nparams && !(st->params = calloc((size_t)st->nparams, sizeof(*st->params))))
		goto fail;
	*out = st;
	return RC_OK;
fail:
	if (rc == RC_NOMEM)
		DB_ERR(c, "out of memory");
	stmt_free(st);
	return rc;
}

enum rc db_prepare(struct db_conn *c, const char *sql, struct db_stmt **out)
{
	struct db_stmt *st;
	size_t len;
	uint32_t h;
	enum rc rc = RC_OK;

	db_check_owner(c);
	c->errmsg[0] = '\0';
	*out = NULL;
	len = strlen(sql);
	if (len > DB_SQL_MAX) {
		DB_ERR(c, "SQL text of %zu bytes (at most %d)", len, DB_SQL_MAX);
		rc = RC_TOOLARGE;
		goto out;
	}
	h = sql_hash(sql, len);
	st = cache_find(c, sql, len, h);
	if (st && st->running) {
		DB_ERR(c, "the statement is running (prepared again inside its own iteration)");
		rc = RC_INVALID;
		goto out;
	}
	if (st) {
		params_clear(st);
	} else {
		if (c->n == DB_STMT_CACHE && (rc = cache_evict(c)))
			goto out;
		rc = stmt_new(c, sql, len, h, &st);
		if (rc)
			goto out;
		c->cache[c->n++] = st;
	}
	st->used = ++c->clock;
	st->held = 1;
	*out = st;
out:
	if (rc && rc != RC_BUSY && rc != RC_UNAVAILABLE)
		db_log_failure(c, "prepare", rc);
	return rc;
}

int db_conn_stmt_count(const struct db_conn *c)
{
	return c->n;
}

/* ---------------------------------------------------------------------------------------
 * Binding: failures are kept for the run
 */

static struct db_value *param(struct db_stmt *st, int n)
{
	if (!st || st->bind_rc)
		return NULL;
	if (n < 1 || n > st->nparams) {
		DB_ERR(st->c, "no parameter $%d (the statement has %d)", n, st->nparams);
		st->bind_rc = RC_INVALID;
		return NULL;
	}
	free(st->params[n - 1].p);
	memset(&st->params[n - 1], 0, sizeof(st->params[n - 1]));
	return &st->params[n - 1];
}

void db_bind_int64(struct db_stmt *st, int n, int64_t v)
{
	struct db_value *p = param(st, n);

	if (p) {
		p->type = DBV_INT;
		p->i = v;
	}
}

void db_bind_double(struct db_stmt *st, int n, double v)
{
	struct db_value *p = param(st, n);

	if (p) {
		p->type = DBV_DOUBLE;
		p->d = v;
	}
}

void db_bind_null(struct db_stmt *st, int n)
{
	struct db_value *p = param(st, n);

	if (p)
		p->type = DBV_NULL;
}

/* A copy of len bytes and a NUL, so that a text is a C string and an empty blob not NULL. */
static void bind_bytes(struct db_stmt *st, int n, enum db_vtype type, const void *v, size_t len)
{
	struct db_value *p = param(st, n);

	if (!p)
		return;
	if (!v) {
		p->type = DBV_NULL;
		return;
	}
	p->p = malloc(len + 1);
	if (!p->p) {
		DB_ERR(st->c, "out of memory");
		st->bind_rc = RC_NOMEM;
		return;
	}
	if (len)
		memcpy(p->p, v, len);
	p->p[len] = '\0';
	p->len = len;
	p->type = type;
}

void db_bind_text(struct db_stmt *st, int n, const char *s)
{
	bind_bytes(st, n, DBV_TEXT, s, s ? strlen(s) : 0);
}

void db_bind_blob(struct db_stmt *st, int n, const void *p, size_t len)
{
	bind_bytes(st, n, DBV_BLOB, p, len);
}

/* ---------------------------------------------------------------------------------------
 * Runs and the one row iterator
 */

/* Ends a run or a hold: the engine's finish (when a run started), the values freed. */
static void run_end(struct db_stmt *st, int started)
{
	if (started)
		st->c->db->eng->finish(st);
	params_clear(st);
	st->running = 0;
	st->held = 0;
}

void db_reset(struct db_stmt *st)
{
	if (st && !st->running)
		run_end(st, 0);
}

/* What must hold before a run: bindings that worked, every parameter bound. */
static enum rc run_check(struct db_stmt *st)
{
	int i;

	if (st->running) {
		DB_ERR(st->c, "the statement is already running");
		return RC_INVALID;
	}
	if (st->bind_rc)
		return st->bind_rc;
	for (i = 0; i < st->nparams; i++) {
		if (st->params[i].type == DBV_UNSET) {
			DB_ERR(st->c, "parameter $%d is not bound", i + 1);
			return RC_INVALID;
		}
	}
	return RC_OK;
}

enum rc db_each(struct db_stmt *st, db_row_fn fn, void *ctx)
{
	const struct db_engine *eng = st->c->db->eng;
	enum rc rc;
	int row = 0, started = 0, from_fn = 0;

	db_check_owner(st->c);
	st->c->errmsg[0] = '\0';
	st->changes = 0;
	rc = run_check(st);
	if (rc)
		goto out;
	st->running = 1;
	started = 1;
	rc = eng->start(st);
	while (!rc) {
		rc = eng->step(st, &row);
		if (rc || !row)
			break;
		if (!fn)
			continue;
		rc = fn(ctx, st);
		if (rc == RC_STOP) {
			rc = RC_OK;
			break;
		}
		from_fn = rc != RC_OK;
	}
out:
	/* The callback's own failures are the caller's to report; the database's are logged,
	 * but for the expected ones (a conflict, a lost race, an unreachable server). */
	if (rc && !from_fn && rc != RC_CONFLICT && rc != RC_BUSY && rc != RC_UNAVAILABLE) {
		char what[96];
		snprintf(what, sizeof(what), "%.80s", st->sql);
		db_log_failure(st->c, what, rc);
	}
	run_end(st, started);
	return rc;
}

struct one_ctx {
	db_row_fn fn;
	void *ctx;
	int found;
};

static enum rc one_row(void *ctx, struct db_stmt *st)
{
	struct one_ctx *o = ctx;
	enum rc rc;

	o->found = 1;
	rc = o->fn ? o->fn(o->ctx, st) : RC_OK;
	return rc ? rc : RC_STOP;
}

enum rc db_one(struct db_stmt *st, db_row_fn fn, void *ctx)
{
	struct one_ctx o = { fn, ctx, 0 };
	enum rc rc;

	rc = db_each(st, one_row, &o);
	if (!rc && !o.found)
		rc = RC_NOTFOUND;
	return rc;
}

enum rc db_exec(struct db_stmt *st)
{
	return db_each(st, NULL, NULL);
}

static enum rc int64_row(void *ctx, struct db_stmt *st)
{
	*(int64_t *)ctx = db_col_int64(st, 0);
	return RC_STOP;
}

enum rc db_one_int64(struct db_stmt *st, int64_t *out)
{
	*out = 0;
	return db_one(st, int64_row, out);
}

int64_t db_changes(const struct db_stmt *st)
{
	return st->changes;
}

enum rc db_script(struct db_conn *c, const char *sql)
{
	enum rc rc;

	db_check_owner(c);
	c->errmsg[0] = '\0';
	rc = c->db->eng->script(c, sql);
	if (rc && rc != RC_CONFLICT && rc != RC_BUSY && rc != RC_UNAVAILABLE)
		db_log_failure(c, "script", rc);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * Columns
 */

static int col_ok(struct db_stmt *st, int col)
{
	return st->running && col >= 0 && col < st->c->db->eng->col_count(st);
}

int db_col_count(struct db_stmt *st)
{
	return st->running ? st->c->db->eng->col_count(st) : 0;
}

int db_col_is_null(struct db_stmt *st, int col)
{
	return !col_ok(st, col) || st->c->db->eng->col_is_null(st, col);
}

int64_t db_col_int64(struct db_stmt *st, int col)
{
	return col_ok(st, col) ? st->c->db->eng->col_int64(st, col) : 0;
}

double db_col_double(struct db_stmt *st, int col)
{
	return col_ok(st, col) ? st->c->db->eng->col_double(st, col) : 0.0;
}

const char *db_col_text(struct db_stmt *st, int col, size_t *len)
{
	const char *t = NULL;
	size_t n = 0;

	if (col_ok(st, col))
		t = st->c->db->eng->col_text(st, col, &n);
	if (len)
		*len = t ? n : 0;
	return t;
}

const void *db_col_blob(struct db_stmt *st, int col, size_t *len)
{
	const void *p = NULL;
	size_t n = 0;

	if (col_ok(st, col))
		p = st->c->db->eng->col_blob(st, col, &n);
	if (len)
		*len = p ? n : 0;
	return p;
}

enum rc db_col_strdup(struct db_stmt *st, int col, char **out)
{
	const char *t;
	size_t n;

	*out = NULL;
	t = db_col_text(st, col, &n);
	if (!t)
		return RC_OK;
	*out = malloc(n + 1);
	if (!*out)
		return RC_NOMEM;
	memcpy(*out, t, n);
	(*out)[n] = '\0';
	return RC_OK;
}
