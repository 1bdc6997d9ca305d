/*
 * db_sqlite.c: the SQLite engine of the database layer (db.h). One file, one writer at a time:
 * write transactions take the lock at BEGIN IMMEDIATE and wait for it up to the busy timeout;
 * readers read a WAL snapshot and never wait. Parameters are written $N and bound by name
 * ("$N"), since SQLite numbers them by first appearance, not by N. The only file of aijri that
 * includes sqlite3.h.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/db_bridge.h"
#include "store/db_int.h"

struct sq_conn {
	sqlite3 *db;
	/* The transaction statements, prepared once: a group commit runs them for every batch. */
	sqlite3_stmt *begin_write, *begin_read, *commit, *rollback;
};

struct sq_stmt {
	sqlite3_stmt *s;
	unsigned char index[DB_MAX_PARAMS + 1]; /* $N -> SQLite's parameter index, 0 if absent */
};

#define SQ(c) ((struct sq_conn *)(c)->eng)
#define SQS(st) (((struct sq_stmt *)(st)->eng)->s)

/* Maps a result code; records the message of the connection's last failure. */
static enum rc sq_rc(struct db_conn *c, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return RC_OK;
	}
	DB_ERR(c, "%s", SQ(c)->db ? sqlite3_errmsg(SQ(c)->db) : sqlite3_errstr(rc));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return RC_BUSY;
	case SQLITE_CONSTRAINT:
		return RC_CONFLICT;
	case SQLITE_NOMEM:
		return RC_NOMEM;
	default:
		return RC_IO;
	}
}

static enum rc sq_check(const char *where, char **display, char *err, size_t errlen)
{
	*display = strdup(where);
	if (!*display) {
		snprintf(err, errlen, "out of memory");
		return RC_NOMEM;
	}
	return RC_OK;
}

static enum rc sq_pragma(struct db_conn *c, const char *sql)
{
	return sq_rc(c, sqlite3_exec(SQ(c)->db, sql, NULL, NULL, NULL));
}

static enum rc sq_open(struct db_conn *c, char *err, size_t errlen)
{
	struct db *db = c->db;
	struct sq_conn *q;
	int flags = SQLITE_OPEN_NOMUTEX, rc;

	q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return RC_NOMEM;
	}
	c->eng = q;
	if (c->kind == DB_READ)
		flags |= SQLITE_OPEN_READONLY;
	else
		flags |= SQLITE_OPEN_READWRITE | (db->opt.create ? SQLITE_OPEN_CREATE : 0);
	if (!strncmp(db->where, "file:", 5))
		flags |= SQLITE_OPEN_URI;
	rc = sqlite3_open_v2(db->where, &q->db, flags, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open: %s", db->display,
			 q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, db->opt.busy_ms);
	/* Until db_storage_init, a writer changes nothing by closing (a close would copy a WAL
	 * into a file that may be a newer aijri's). Neither pragma below writes the file. */
	if (c->kind == DB_WRITE && !__atomic_load_n(&db->storage_ready, __ATOMIC_ACQUIRE))
		sqlite3_db_config(q->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (sq_pragma(c, "PRAGMA foreign_keys = ON") ||
	    (c->kind == DB_WRITE && sq_pragma(c, "PRAGMA synchronous = FULL"))) {
		snprintf(err, errlen, "%s: cannot set up: %s", db->display, c->errmsg);
		goto fail;
	}
	return RC_OK;
fail:
	sqlite3_close_v2(q->db);
	free(q);
	c->eng = NULL;
	return RC_IO;
}

static void sq_close(struct db_conn *c)
{
	struct sq_conn *q = SQ(c);

	if (!q)
		return;
	sqlite3_finalize(q->begin_write);
	sqlite3_finalize(q->begin_read);
	sqlite3_finalize(q->commit);
	sqlite3_finalize(q->rollback);
	sqlite3_close_v2(q->db);
	free(q);
	c->eng = NULL;
}

/* "$N" with N from 1 to DB_MAX_PARAMS, no leading zero: the only parameter form allowed. */
static int param_number(const char *name)
{
	char *end;
	long n;

	if (!name || name[0] != '$' || name[1] < '1' || name[1] > '9')
		return 0;
	n = strtol(name + 1, &end, 10);
	return *end || n > DB_MAX_PARAMS ? 0 : (int)n;
}

/* Maps each $N to SQLite's index for it and sets st->nparams to the highest N. */
static enum rc sq_params(struct db_stmt *st, struct sq_stmt *q)
{
	int i, n, count = sqlite3_bind_parameter_count(q->s);

	for (i = 1; i <= count; i++) {
		n = param_number(sqlite3_bind_parameter_name(q->s, i));
		if (!n) {
			DB_ERR(st->c, "parameter %s: write parameters as $1..$%d",
			       sqlite3_bind_parameter_name(q->s, i) ?
				       sqlite3_bind_parameter_name(q->s, i) : "?",
			       DB_MAX_PARAMS);
			return RC_INVALID;
		}
		q->index[n] = (unsigned char)i;
		if (n > st->nparams)
			st->nparams = n;
	}
	return RC_OK;
}

static enum rc sq_prepare(struct db_stmt *st)
{
	struct db_conn *c = st->c;
	struct sq_stmt *q;
	const char *tail = NULL;
	enum rc rc;

	q = calloc(1, sizeof(*q));
	if (!q) {
		DB_ERR(c, "out of memory");
		return RC_NOMEM;
	}
	rc = sq_rc(c, sqlite3_prepare_v3(SQ(c)->db, st->sql, (int)st->sql_len + 1,
					 SQLITE_PREPARE_PERSISTENT, &q->s, &tail));
	if (rc)
		goto fail;
	rc = RC_INVALID;
	if (!q->s) {
		DB_ERR(c, "no statement in the SQL text");
		goto fail;
	}
	tail += strspn(tail, " \t\r\n;");
	if (*tail) {
		DB_ERR(c, "one statement at a time (db_script runs several)");
		goto fail;
	}
	rc = sq_params(st, q);
	if (rc)
		goto fail;
	st->eng = q;
	return RC_OK;
fail:
	sqlite3_finalize(q->s);
	free(q);
	return rc;
}

static void sq_finalize(struct db_stmt *st)
{
	struct sq_stmt *q = st->eng;

	sqlite3_finalize(q->s);
	free(q);
	st->eng = NULL;
}

/* The values are the statement's own until finish, so SQLite need not copy them again. */
static enum rc sq_start(struct db_stmt *st)
{
	struct sq_stmt *q = st->eng;
	const struct db_value *v;
	int n, idx, rc = SQLITE_OK;

	for (n = 1; n <= st->nparams && rc == SQLITE_OK; n++) {
		idx = q->index[n];
		v = &st->params[n - 1];
		if (!idx)
			continue;
		switch (v->type) {
		case DBV_INT: rc = sqlite3_bind_int64(q->s, idx, v->i); break;
		case DBV_DOUBLE: rc = sqlite3_bind_double(q->s, idx, v->d); break;
		case DBV_TEXT:
			rc = sqlite3_bind_text64(q->s, idx, v->p, v->len, SQLITE_STATIC, SQLITE_UTF8);
			break;
		case DBV_BLOB: rc = sqlite3_bind_blob64(q->s, idx, v->p, v->len, SQLITE_STATIC); break;
		default: rc = sqlite3_bind_null(q->s, idx); break;
		}
	}
	return sq_rc(st->c, rc);
}

static enum rc sq_step(struct db_stmt *st, int *row)
{
	int rc = sqlite3_step(SQS(st));

	*row = rc == SQLITE_ROW;
	return sq_rc(st->c, rc);
}

static void sq_finish(struct db_stmt *st)
{
	sqlite3_stmt *s = SQS(st);

	st->changes = sqlite3_stmt_readonly(s) ? 0 : sqlite3_changes64(SQ(st->c)->db);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

static int sq_col_count(struct db_stmt *st)
{
	return sqlite3_data_count(SQS(st));
}

static int sq_col_is_null(struct db_stmt *st, int col)
{
	return sqlite3_column_type(SQS(st), col) == SQLITE_NULL;
}

static int64_t sq_col_int64(struct db_stmt *st, int col)
{
	return sqlite3_column_int64(SQS(st), col);
}

static double sq_col_double(struct db_stmt *st, int col)
{
	return sqlite3_column_double(SQS(st), col);
}

static const char *sq_col_text(struct db_stmt *st, int col, size_t *len)
{
	const unsigned char *t = sqlite3_column_text(SQS(st), col);

	*len = t ? (size_t)sqlite3_column_bytes(SQS(st), col) : 0;
	return (const char *)t;
}

static const void *sq_col_blob(struct db_stmt *st, int col, size_t *len)
{
	const void *p;

	if (sqlite3_column_type(SQS(st), col) == SQLITE_NULL) {
		*len = 0;
		return NULL;
	}
	p = sqlite3_column_blob(SQS(st), col);
	*len = (size_t)sqlite3_column_bytes(SQS(st), col);
	return p ? p : ""; /* SQLite answers NULL for an empty blob */
}

static enum rc sq_script(struct db_conn *c, const char *sql)
{
	return sq_rc(c, sqlite3_exec(SQ(c)->db, sql, NULL, NULL, NULL));
}

/* Runs one of the connection's transaction statements, preparing it on first use. */
static enum rc sq_tx_stmt(struct db_conn *c, sqlite3_stmt **slot, const char *sql)
{
	int rc;

	if (!*slot) {
		rc = sqlite3_prepare_v3(SQ(c)->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
		if (rc != SQLITE_OK)
			return sq_rc(c, rc);
	}
	rc = sqlite3_step(*slot);
	sqlite3_reset(*slot);
	return sq_rc(c, rc);
}

static enum rc sq_begin(struct db_conn *c, enum db_tx_kind kind)
{
	if (kind == DB_TX_WRITE)
		return sq_tx_stmt(c, &SQ(c)->begin_write, "BEGIN IMMEDIATE");
	return sq_tx_stmt(c, &SQ(c)->begin_read, "BEGIN");
}

static enum rc sq_commit(struct db_conn *c)
{
	if (sqlite3_get_autocommit(SQ(c)->db)) {
		DB_ERR(c, "commit without a transaction");
		return RC_INVALID;
	}
	return sq_tx_stmt(c, &SQ(c)->commit, "COMMIT");
}

static enum rc sq_rollback(struct db_conn *c)
{
	if (sqlite3_get_autocommit(SQ(c)->db))
		return RC_OK;
	return sq_tx_stmt(c, &SQ(c)->rollback, "ROLLBACK");
}

static int sq_in_tx(const struct db_conn *c)
{
	return !sqlite3_get_autocommit(SQ(c)->db);
}

static enum rc sq_version_get(struct db_conn *c, int *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(SQ(c)->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			*out = sqlite3_column_int(s, 0);
	}
	sqlite3_finalize(s);
	return sq_rc(c, rc);
}

static enum rc sq_version_set(struct db_conn *c, int v)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	return sq_pragma(c, sql);
}

static enum rc sq_listen(struct db_conn *c, const char *channel)
{
	(void)channel;
	DB_ERR(c, "SQLite has no notifications: one process owns the database");
	return RC_UNSUPPORTED;
}

static int sq_fd(struct db_conn *c)
{
	(void)c;
	return -1;
}

static enum rc sq_drain(struct db_conn *c, db_notice_fn fn, void *ctx)
{
	(void)fn;
	(void)ctx;
	return sq_listen(c, NULL);
}

static enum rc sq_storage_init(struct db_conn *c)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *mode;
	enum rc rc;

	rc = sq_rc(c, sqlite3_prepare_v2(SQ(c)->db, "PRAGMA journal_mode = WAL", -1, &s, NULL));
	if (rc)
		goto out;
	rc = sq_rc(c, sqlite3_step(s));
	if (rc)
		goto out;
	mode = sqlite3_column_text(s, 0);
	if (!mode || strcmp((const char *)mode, "wal")) {
		DB_ERR(c, "the database would not switch to WAL (journal mode %s)",
		       mode ? (const char *)mode : "unknown");
		rc = RC_IO;
		goto out;
	}
	sqlite3_db_config(SQ(c)->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
	__atomic_store_n(&c->db->storage_ready, 1, __ATOMIC_RELEASE);
out:
	sqlite3_finalize(s);
	return rc;
}

static enum rc sq_checkpoint(struct db_conn *c)
{
	return sq_rc(c, sqlite3_wal_checkpoint_v2(SQ(c)->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
						  NULL, NULL));
}

static int sq_open_raw(const char *path, int flags, sqlite3 **out, char *err, size_t errlen)
{
	int rc;

	if (!strncmp(path, "file:", 5))
		flags |= SQLITE_OPEN_URI;
	rc = sqlite3_open_v2(path, out, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 *out ? sqlite3_errmsg(*out) : sqlite3_errstr(rc));
	else
		sqlite3_busy_timeout(*out, 5000);
	return rc;
}

/* One read transaction on the source for the whole copy: every step reads the same snapshot,
 * so the copy is consistent and a writer committing meanwhile cannot make it restart. */
static enum rc sq_backup(struct db *db, const char *dest, char *err, size_t errlen)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b = NULL;
	enum rc rc = RC_IO;
	int step;

	if (sq_open_raw(db->where, SQLITE_OPEN_READONLY, &src, err, errlen) ||
	    sq_open_raw(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &dst, err, errlen))
		goto out;
	if (sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot read: %s", db->display, sqlite3_errmsg(src));
		goto out;
	}
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		snprintf(err, errlen, "%s: cannot start the backup: %s", dest, sqlite3_errmsg(dst));
		goto out;
	}
	do {
		step = sqlite3_backup_step(b, 256);
		if (step == SQLITE_BUSY || step == SQLITE_LOCKED)
			sqlite3_sleep(10); /* the destination is locked by someone else: back off */
	} while (step == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED);
	step = sqlite3_backup_finish(b);
	b = NULL;
	if (step != SQLITE_OK) {
		snprintf(err, errlen, "%s: backup failed: %s", dest, sqlite3_errmsg(dst));
		goto out;
	}
	rc = RC_OK;
out:
	if (b)
		sqlite3_backup_finish(b);
	sqlite3_close_v2(src); /* ends the read transaction */
	sqlite3_close_v2(dst);
	return rc;
}

const struct db_engine db_engine_sqlite = {
	.name = "sqlite",
	.check = sq_check,
	.open = sq_open,
	.close = sq_close,
	.prepare = sq_prepare,
	.finalize = sq_finalize,
	.start = sq_start,
	.step = sq_step,
	.finish = sq_finish,
	.col_count = sq_col_count,
	.col_is_null = sq_col_is_null,
	.col_int64 = sq_col_int64,
	.col_double = sq_col_double,
	.col_text = sq_col_text,
	.col_blob = sq_col_blob,
	.script = sq_script,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.in_tx = sq_in_tx,
	.sql_lock = NULL,   /* BEGIN IMMEDIATE already excludes every other writer */
	.sql_notify = NULL, /* one process: its own parts are told in process */
	.version_get = sq_version_get,
	.version_set = sq_version_set,
	.listen = sq_listen,
	.fd = sq_fd,
	.drain = sq_drain,
	.storage_init = sq_storage_init,
	.checkpoint = sq_checkpoint,
	.backup = sq_backup,
};

void *db_sqlite_handle(struct db_conn *c)
{
	if (!c || c->db->eng != &db_engine_sqlite || !c->eng)
		return NULL;
	return SQ(c)->db;
}
