/*
 * test_db.c: the database layer (store/db.h), one table of cases run against both engines:
 * SQLite on a temporary file, and PostgreSQL on a fresh database of the cluster named by
 * AIJRI_TEST_PG (tests/all starts a throwaway one with tests/pg/cluster.sh). Without it the
 * PostgreSQL half is one failed check under CI=true, and a printed note elsewhere.
 *
 * Nothing waits a fixed time: a check that something has not arrived first waits for a later
 * event that would have come after it.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/db.h"
#include "store/db_int.h"
#include "tests/unit/harness.h"
#include "util/clock.h"

#define DEADLINE_MS 15000

struct env {
	const char *engine;  /* "sqlite", "postgresql" */
	int pg;
	char where[600];
	struct db *db;
	struct db_conn *w;   /* a writer every case may use */
};

/* Opens a second writer on e's database; NULL (and a failed check) if it cannot. */
static struct db_conn *conn_new(struct env *e, enum db_conn_kind kind)
{
	struct db_conn *c = NULL;
	char err[256];
	enum rc rc = db_conn_open(e->db, kind, &c, err, sizeof(err));

	CHECK(rc == RC_OK, "db_conn_open: %s", rc ? err : "");
	return c;
}

static int64_t count(struct db_conn *c, const char *sql)
{
	struct db_stmt *st;
	int64_t n = -1;

	if (db_prepare(c, sql, &st) || db_one_int64(st, &n))
		return -1;
	return n;
}

static int64_t count_id(struct db_conn *c, const char *sql, int64_t id)
{
	struct db_stmt *st;
	int64_t n = -1;

	if (db_prepare(c, sql, &st))
		return -1;
	db_bind_int64(st, 1, id);
	if (db_one_int64(st, &n))
		return -1;
	return n;
}

/* ---------------------------------------------------------------------------------------
 * Types
 */

struct typed_row {
	int64_t id;
	int i_null;
	int64_t i;
	double d;
	const char *t;       /* NULL: SQL NULL */
	const char *b;       /* NULL: SQL NULL */
	size_t blen;
};

static const struct typed_row typed_rows[] = {
	{ 1, 0, INT64_MAX, 0.1, "plain", "\0\xff\x01\x80", 4 },
	{ 2, 0, INT64_MIN, -1e300, "UTF-8: \xc3\xa9 \xc3\xbc \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x89",
	  "", 0 },
	{ 3, 0, 0, 0.0, "", NULL, 0 },
	{ 4, 1, 0, 2.5, NULL, "x", 1 },
	{ 5, 0, -1, 1e-300, "quote ' and \" and \\ and $1", "\\x00", 4 },
};

static enum rc read_typed(void *ctx, struct db_stmt *st)
{
	const struct typed_row *r = ctx;
	const char *t;
	const void *b;
	char *dup = NULL;
	size_t len;

	CHECK_INT(db_col_count(st), 5);
	CHECK_INT(db_col_int64(st, 0), r->id);
	CHECK_INT(db_col_is_null(st, 1), r->i_null);
	CHECK_INT(db_col_int64(st, 1), r->i);
	CHECK(db_col_double(st, 2) == r->d, "row %lld: double %.17g, want %.17g",
	      (long long)r->id, db_col_double(st, 2), r->d);
	t = db_col_text(st, 3, &len);
	CHECK(r->t ? t && len == strlen(r->t) && !strcmp(t, r->t) : !t,
	      "row %lld: text \"%s\", want \"%s\"", (long long)r->id, t ? t : "(null)",
	      r->t ? r->t : "(null)");
	CHECK_INT(db_col_strdup(st, 3, &dup), RC_OK);
	CHECK(r->t ? dup && !strcmp(dup, r->t) : !dup, "row %lld: strdup", (long long)r->id);
	free(dup);
	b = db_col_blob(st, 4, &len);
	CHECK(r->b ? b && len == r->blen && !memcmp(b, r->b, len) : !b && len == 0,
	      "row %lld: blob of %zu bytes, want %zu", (long long)r->id, len, r->blen);
	CHECK_INT(db_col_is_null(st, 4), r->b == NULL);
	CHECK(db_col_text(st, 9, NULL) == NULL && db_col_is_null(st, 9), "out-of-range column");
	return RC_OK;
}

static void case_types(struct env *e)
{
	const struct typed_row *r;
	struct db_stmt *st;
	size_t i;

	CHECK_INT(db_script(e->w, db_sql(e->w,
		"CREATE TABLE t_types (id BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, "
		"t TEXT, b BLOB)",
		"CREATE TABLE t_types (id BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, "
		"t TEXT, b BYTEA)")), RC_OK);
	for (i = 0; i < sizeof(typed_rows) / sizeof(typed_rows[0]); i++) {
		r = &typed_rows[i];
		if (db_prepare(e->w, "INSERT INTO t_types VALUES ($1, $2, $3, $4, $5)", &st))
			break;
		db_bind_int64(st, 1, r->id);
		if (r->i_null)
			db_bind_null(st, 2);
		else
			db_bind_int64(st, 2, r->i);
		db_bind_double(st, 3, r->d);
		db_bind_text(st, 4, r->t);
		db_bind_blob(st, 5, r->b, r->blen);
		CHECK_INT(db_exec(st), RC_OK);
		CHECK_INT(db_changes(st), 1);
	}
	for (i = 0; i < sizeof(typed_rows) / sizeof(typed_rows[0]); i++) {
		r = &typed_rows[i];
		if (db_prepare(e->w, "SELECT id, i, d, t, b FROM t_types WHERE id = $1", &st))
			break;
		db_bind_int64(st, 1, r->id);
		CHECK_INT(db_one(st, read_typed, (void *)r), RC_OK);
	}
	/* Booleans and sums read as numbers on both engines. */
	CHECK_INT(count(e->w, "SELECT 1 = 1"), 1);
	CHECK_INT(count(e->w, "SELECT sum(id) FROM t_types"), 15);
}

/* ---------------------------------------------------------------------------------------
 * Parameters
 */

static enum rc read_abc(void *ctx, struct db_stmt *st)
{
	char *out = ctx;

	snprintf(out, 64, "%s,%s,%s", db_col_text(st, 0, NULL), db_col_text(st, 1, NULL),
		 db_col_text(st, 2, NULL));
	return RC_OK;
}

static void case_params(struct env *e)
{
	struct db_stmt *st;
	char got[64] = "", sql[128];
	int n;

	CHECK_INT(db_script(e->w, "CREATE TABLE t_params (a TEXT, b TEXT, c TEXT)"), RC_OK);
	/* Out of order: SQLite numbers parameters by first appearance, the layer by N. */
	if (db_prepare(e->w, "INSERT INTO t_params (a, b, c) VALUES ($3, $1, $2)", &st) == RC_OK) {
		db_bind_text(st, 1, "one");
		db_bind_text(st, 2, "two");
		db_bind_text(st, 3, "three");
		CHECK_INT(db_exec(st), RC_OK);
	}
	if (db_prepare(e->w, "SELECT a, b, c FROM t_params", &st) == RC_OK)
		CHECK_INT(db_one(st, read_abc, got), RC_OK);
	CHECK(!strcmp(got, "three,one,two"), "got %s", got);
	/* Repeated. */
	if (db_prepare(e->w, "SELECT count(*) FROM t_params WHERE $1 IN (a, b, c) AND b = $1",
		       &st) == RC_OK) {
		int64_t c = -1;
		db_bind_text(st, 1, "one");
		CHECK_INT(db_one_int64(st, &c), RC_OK);
		CHECK_INT(c, 1);
	}
	/* Broken rules: a parameter the text has not, one left unbound, '?' (SQLite refuses it;
	 * PostgreSQL does not parse it). */
	if (db_prepare(e->w, "SELECT a FROM t_params WHERE a = $1 AND b = $2", &st) == RC_OK) {
		db_bind_text(st, 3, "x");
		db_bind_text(st, 1, "x");
		db_bind_text(st, 2, "x");
		CHECK_INT(db_exec(st), RC_INVALID);
		db_bind_text(st, 1, "x");
		CHECK_INT(db_exec(st), RC_INVALID);
	}
	CHECK(db_prepare(e->w, "SELECT a FROM t_params WHERE a = ?", &st) != RC_OK, "'?' refused");
	if (!e->pg)
		CHECK_INT(db_prepare(e->w, "SELECT :name", &st), RC_INVALID);
	/* The cache is keyed by the text, not by its address. */
	n = db_conn_stmt_count(e->w);
	snprintf(sql, sizeof(sql), "%s", "SELECT a, b, c FROM t_params");
	if (db_prepare(e->w, sql, &st) == RC_OK)
		db_reset(st);
	CHECK_INT(db_conn_stmt_count(e->w), n);
}

/* ---------------------------------------------------------------------------------------
 * The row iterator's one rule
 */

struct iter {
	int seen;
	int stop_at;    /* RC_STOP at this row */
	int fail_at;    /* RC_NOMEM at this row */
	struct db_conn *c;
	int nested_ok;
};

static enum rc iter_row(void *ctx, struct db_stmt *st)
{
	struct iter *it = ctx;

	it->seen++;
	CHECK_INT(db_col_int64(st, 0), it->seen);
	if (it->c) /* another statement of the same connection, mid-iteration */
		it->nested_ok += count(it->c, "SELECT count(*) FROM t_iter") == 5;
	if (it->seen == it->stop_at)
		return RC_STOP;
	if (it->seen == it->fail_at)
		return RC_NOMEM;
	return RC_OK;
}

struct reprep {
	struct db_conn *c;
	enum rc rc;
};

static enum rc reprepare_row(void *ctx, struct db_stmt *st)
{
	struct reprep *r = ctx;
	struct db_stmt *again;

	(void)st;
	r->rc = db_prepare(r->c, "SELECT id FROM t_iter ORDER BY id", &again);
	return RC_STOP;
}

static void case_iterator(struct env *e)
{
	struct iter it;
	struct reprep rp = { e->w, RC_OK };
	struct db_stmt *st;
	int i;

	CHECK_INT(db_script(e->w, "CREATE TABLE t_iter (id BIGINT PRIMARY KEY)"), RC_OK);
	for (i = 1; i <= 5; i++) {
		if (db_prepare(e->w, "INSERT INTO t_iter (id) VALUES ($1)", &st))
			return;
		db_bind_int64(st, 1, i);
		CHECK_INT(db_exec(st), RC_OK);
	}
	/* RC_OK: every row. */
	memset(&it, 0, sizeof(it));
	if (db_prepare(e->w, "SELECT id FROM t_iter ORDER BY id", &st) == RC_OK)
		CHECK_INT(db_each(st, iter_row, &it), RC_OK);
	CHECK_INT(it.seen, 5);
	/* RC_STOP: ends early, successfully; the statement runs whole again afterwards. */
	memset(&it, 0, sizeof(it));
	it.stop_at = 2;
	if (db_prepare(e->w, "SELECT id FROM t_iter ORDER BY id", &st) == RC_OK)
		CHECK_INT(db_each(st, iter_row, &it), RC_OK);
	CHECK_INT(it.seen, 2);
	memset(&it, 0, sizeof(it));
	if (db_prepare(e->w, "SELECT id FROM t_iter ORDER BY id", &st) == RC_OK)
		CHECK_INT(db_each(st, iter_row, &it), RC_OK);
	CHECK_INT(it.seen, 5);
	/* Any other rc: the iteration fails with it, as a whole. */
	memset(&it, 0, sizeof(it));
	it.fail_at = 3;
	if (db_prepare(e->w, "SELECT id FROM t_iter ORDER BY id", &st) == RC_OK)
		CHECK_INT(db_each(st, iter_row, &it), RC_NOMEM);
	CHECK_INT(it.seen, 3);
	/* Other statements of the connection may run inside the callback; the same one not. */
	memset(&it, 0, sizeof(it));
	it.c = e->w;
	if (db_prepare(e->w, "SELECT id FROM t_iter ORDER BY id", &st) == RC_OK)
		CHECK_INT(db_each(st, iter_row, &it), RC_OK);
	CHECK_INT(it.nested_ok, 5);
	if (db_prepare(e->w, "SELECT id FROM t_iter ORDER BY id", &st) == RC_OK)
		CHECK_INT(db_each(st, reprepare_row, &rp), RC_OK);
	CHECK_INT(rp.rc, RC_INVALID);
	/* The helpers. */
	if (db_prepare(e->w, "SELECT id FROM t_iter WHERE id > $1", &st) == RC_OK) {
		db_bind_int64(st, 1, 99);
		CHECK_INT(db_one(st, NULL, NULL), RC_NOTFOUND);
	}
	if (db_prepare(e->w, "UPDATE t_iter SET id = id + 10 WHERE id <= $1", &st) == RC_OK) {
		db_bind_int64(st, 1, 3);
		CHECK_INT(db_exec(st), RC_OK);
		CHECK_INT(db_changes(st), 3);
	}
	CHECK_INT(count(e->w, "SELECT count(*) FROM t_iter WHERE id > 10"), 3);
	if (db_prepare(e->w, "SELECT id FROM t_iter", &st) == RC_OK) {
		CHECK_INT(db_exec(st), RC_OK);
		CHECK_INT(db_changes(st), 0);
	}
}

/* ---------------------------------------------------------------------------------------
 * Transactions, savepoints, conflicts
 */

static enum rc insert_id(struct db_conn *c, const char *table_sql, int64_t id)
{
	struct db_stmt *st;
	enum rc rc = db_prepare(c, table_sql, &st);

	if (rc)
		return rc;
	db_bind_int64(st, 1, id);
	return db_exec(st);
}

#define INS_TX "INSERT INTO t_tx (id) VALUES ($1)"

static void case_transactions(struct env *e)
{
	struct db_conn *c = e->w;

	CHECK_INT(db_script(c, "CREATE TABLE t_tx (id BIGINT PRIMARY KEY)"), RC_OK);
	CHECK_INT(db_savepoint(c, "job"), RC_INVALID); /* outside a transaction */
	CHECK_INT(db_commit(c), RC_INVALID);
	CHECK_INT(db_in_tx(c), 0);
	CHECK_INT(db_begin(c, DB_TX_WRITE), RC_OK);
	CHECK_INT(db_in_tx(c), 1);
	CHECK_INT(db_begin(c, DB_TX_WRITE), RC_INVALID);
	CHECK_INT(insert_id(c, INS_TX, 1), RC_OK);
	/* A group commit: three jobs, each in its savepoint; the second is undone alone, the
	 * third fails on a unique key (which on PostgreSQL fails the transaction until the
	 * rollback to the savepoint) and is undone alone too. */
	CHECK_INT(db_savepoint(c, "job"), RC_OK);
	CHECK_INT(insert_id(c, INS_TX, 2), RC_OK);
	CHECK_INT(db_release(c, "job"), RC_OK);
	CHECK_INT(db_savepoint(c, "job"), RC_OK);
	CHECK_INT(insert_id(c, INS_TX, 3), RC_OK);
	CHECK_INT(db_rollback_to(c, "job"), RC_OK);
	CHECK_INT(db_release(c, "job"), RC_OK);
	CHECK_INT(db_savepoint(c, "job"), RC_OK);
	CHECK_INT(insert_id(c, INS_TX, 4), RC_OK);
	CHECK_INT(insert_id(c, INS_TX, 1), RC_CONFLICT);
	CHECK_INT(db_rollback_to(c, "job"), RC_OK);
	CHECK_INT(db_release(c, "job"), RC_OK);
	CHECK_INT(insert_id(c, INS_TX, 5), RC_OK);
	CHECK_INT(db_savepoint(c, "Bad-Name"), RC_INVALID);
	CHECK_INT(db_commit(c), RC_OK);
	CHECK_INT(db_in_tx(c), 0);
	CHECK_INT(count(c, "SELECT count(*) FROM t_tx"), 3);
	CHECK_INT(count(c, "SELECT sum(id) FROM t_tx"), 1 + 2 + 5);
	/* A rollback undoes all. */
	CHECK_INT(db_begin(c, DB_TX_WRITE), RC_OK);
	CHECK_INT(insert_id(c, INS_TX, 6), RC_OK);
	CHECK_INT(db_rollback(c), RC_OK);
	CHECK_INT(db_rollback(c), RC_OK); /* none open: nothing to do */
	CHECK_INT(count_id(c, "SELECT count(*) FROM t_tx WHERE id = $1", 6), 0);
	/* Outside a transaction too, a unique key is a conflict, with the engine's words. */
	CHECK_INT(insert_id(c, INS_TX, 1), RC_CONFLICT);
	CHECK(db_errmsg(c)[0] != '\0', "a conflict has a message");
	/* A commit of a transaction that failed commits nothing and says so. */
	CHECK_INT(db_begin(c, DB_TX_WRITE), RC_OK);
	CHECK_INT(insert_id(c, INS_TX, 7), RC_OK);
	CHECK_INT(insert_id(c, INS_TX, 1), RC_CONFLICT);
	if (e->pg)
		CHECK(db_commit(c) != RC_OK, "commit after a failed statement (PostgreSQL)");
	CHECK_INT(db_rollback(c), RC_OK);
	CHECK_INT(count_id(c, "SELECT count(*) FROM t_tx WHERE id = $1", 7), 0);
}

struct racer {
	struct db_conn *c;
	int64_t first, second;
	pthread_barrier_t *bar;
	enum rc rc;
};

#define UPD_RACE "UPDATE t_race SET n = n + 1 WHERE id = $1"

static void *racer_main(void *arg)
{
	struct racer *r = arg;

	CHECK_INT(db_begin(r->c, DB_TX_WRITE), RC_OK);
	CHECK_INT(insert_id(r->c, UPD_RACE, r->first), RC_OK);
	pthread_barrier_wait(r->bar);
	r->rc = insert_id(r->c, UPD_RACE, r->second);
	if (r->rc)
		CHECK_INT(db_rollback(r->c), RC_OK);
	else
		CHECK_INT(db_commit(r->c), RC_OK);
	return NULL;
}

/* Two writers in each other's way get RC_BUSY, the rc that says: roll back and retry.
 * SQLite: the second BEGIN IMMEDIATE waits out the busy timeout. PostgreSQL: two transactions
 * that each lock a row the other wants; the server's deadlock detector fails one. */
static void case_race(struct env *e)
{
	struct db_conn *b = conn_new(e, DB_WRITE);
	struct racer r1, r2;
	pthread_barrier_t bar;
	pthread_t t1, t2;

	if (!b)
		return;
	CHECK_INT(db_script(e->w, "CREATE TABLE t_race (id BIGINT PRIMARY KEY, n BIGINT)"), RC_OK);
	CHECK_INT(db_script(e->w, "INSERT INTO t_race VALUES (1, 0), (2, 0)"), RC_OK);
	if (!e->pg) {
		CHECK_INT(db_begin(e->w, DB_TX_WRITE), RC_OK);
		CHECK_INT(db_begin(b, DB_TX_WRITE), RC_BUSY);
		CHECK_INT(db_in_tx(b), 0);
		CHECK_INT(db_commit(e->w), RC_OK);
		CHECK_INT(db_begin(b, DB_TX_WRITE), RC_OK);
		CHECK_INT(db_rollback(b), RC_OK);
		db_conn_free(b);
		return;
	}
	/* Should the detector fail to fire, a lock timeout ends the wait (as RC_BUSY for both,
	 * which the check below refuses) instead of hanging the test. */
	CHECK_INT(db_script(e->w, "SET lock_timeout = '30s'"), RC_OK);
	CHECK_INT(db_script(b, "SET lock_timeout = '30s'"), RC_OK);
	pthread_barrier_init(&bar, NULL, 2);
	r1 = (struct racer){ e->w, 1, 2, &bar, RC_OK };
	r2 = (struct racer){ b, 2, 1, &bar, RC_OK };
	pthread_create(&t1, NULL, racer_main, &r1);
	pthread_create(&t2, NULL, racer_main, &r2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_barrier_destroy(&bar);
	CHECK((r1.rc == RC_BUSY) + (r2.rc == RC_BUSY) == 1 &&
		      (r1.rc == RC_OK) + (r2.rc == RC_OK) == 1,
	      "one deadlock victim (RC_BUSY) and one winner: %s / %s", rc_str(r1.rc),
	      rc_str(r2.rc));
	CHECK_INT(count(e->w, "SELECT sum(n) FROM t_race"), 2);
	CHECK_INT(db_script(e->w, "RESET lock_timeout"), RC_OK);
	db_conn_free(b);
}

/* ---------------------------------------------------------------------------------------
 * The schema version, the statement cache
 */

static void case_version(struct env *e)
{
	struct db_conn *r = NULL;
	int v = -1;

	CHECK_INT(db_version_get(e->w, &v), RC_OK);
	CHECK_INT(v, 0);
	CHECK_INT(db_version_set(e->w, 3), RC_INVALID); /* outside a transaction */
	CHECK_INT(db_begin(e->w, DB_TX_WRITE), RC_OK);
	CHECK_INT(db_version_set(e->w, 3), RC_OK);
	CHECK_INT(db_commit(e->w), RC_OK);
	CHECK_INT(db_reader(e->db, &r), RC_OK);
	if (r) {
		CHECK_INT(db_version_get(r, &v), RC_OK);
		CHECK_INT(v, 3);
	}
	CHECK_INT(db_begin(e->w, DB_TX_WRITE), RC_OK);
	CHECK_INT(db_version_set(e->w, 4), RC_OK);
	CHECK_INT(db_version_get(e->w, &v), RC_OK);
	CHECK_INT(v, 4);
	CHECK_INT(db_rollback(e->w), RC_OK);
	CHECK_INT(db_version_get(e->w, &v), RC_OK);
	CHECK_INT(v, 3);
}

static void case_cache(struct env *e)
{
	struct db_conn *c = conn_new(e, DB_READ);
	struct db_stmt *st, *held[DB_STMT_CACHE];
	char sql[96];
	int i, max = 0, wrong = 0;
	int64_t v;

	if (!c)
		return;
	/* Twice the bound of distinct statements, each run: the cache stays within its bound
	 * and every answer is right (evicted statements are prepared again when needed). */
	for (i = 0; i < 2 * DB_STMT_CACHE + 5; i++) {
		snprintf(sql, sizeof(sql), "SELECT CAST($1 AS BIGINT) + %d", i % (DB_STMT_CACHE + 7));
		if (db_prepare(c, sql, &st)) {
			wrong++;
			continue;
		}
		db_bind_int64(st, 1, 1000);
		wrong += db_one_int64(st, &v) != RC_OK || v != 1000 + i % (DB_STMT_CACHE + 7);
		if (db_conn_stmt_count(c) > max)
			max = db_conn_stmt_count(c);
	}
	CHECK_INT(wrong, 0);
	CHECK_INT(max, DB_STMT_CACHE);
	/* Statements held (prepared, not run) are never evicted: past the bound, RC_TOOLARGE. */
	for (i = 0; i < DB_STMT_CACHE; i++) {
		snprintf(sql, sizeof(sql), "SELECT CAST($1 AS BIGINT) * %d", i);
		held[i] = NULL;
		wrong += db_prepare(c, sql, &held[i]) != RC_OK;
	}
	CHECK_INT(wrong, 0);
	CHECK_INT(db_prepare(c, "SELECT 1", &st), RC_TOOLARGE);
	db_reset(held[7]);
	CHECK_INT(db_prepare(c, "SELECT 1", &st), RC_OK);
	CHECK_INT(db_one_int64(st, &v), RC_OK);
	for (i = 0; i < DB_STMT_CACHE; i++) {
		if (i != 7 && held[i]) {
			db_bind_int64(held[i], 1, 2);
			wrong += db_one_int64(held[i], &v) != RC_OK || v != 2 * i;
		}
	}
	CHECK_INT(wrong, 0);
	db_conn_free(c);
}

/* ---------------------------------------------------------------------------------------
 * Claiming rows without blocking, advisory locks
 */

struct claimed {
	int64_t ids[16];
	int n;
};

static enum rc claim_row(void *ctx, struct db_stmt *st)
{
	struct claimed *cl = ctx;

	if (cl->n == 16)
		return RC_TOOLARGE;
	cl->ids[cl->n++] = db_col_int64(st, 0);
	return RC_OK;
}

/* The one place the dialects differ here: PostgreSQL skips rows another transaction has
 * locked; SQLite has one writer at a time, so there is nothing to skip. */
static enum rc claim(struct db_conn *c, const char *owner, struct claimed *cl)
{
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(c, db_sql(c,
		"UPDATE t_claim SET owner = $1 WHERE id IN "
		"(SELECT id FROM t_claim WHERE owner IS NULL ORDER BY id LIMIT 3) RETURNING id",
		"UPDATE t_claim SET owner = $1 WHERE id IN "
		"(SELECT id FROM t_claim WHERE owner IS NULL ORDER BY id LIMIT 3 "
		"FOR UPDATE SKIP LOCKED) RETURNING id"), &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, owner);
	return db_each(st, claim_row, cl);
}

static void case_claim(struct env *e)
{
	struct db_conn *b = conn_new(e, DB_WRITE);
	struct claimed ca = { { 0 }, 0 }, cb = { { 0 }, 0 };
	int i, j, overlap = 0;

	if (!b)
		return;
	CHECK_INT(db_script(e->w, "CREATE TABLE t_claim (id BIGINT PRIMARY KEY, owner TEXT)"),
		  RC_OK);
	for (i = 1; i <= 10; i++)
		CHECK_INT(insert_id(e->w, "INSERT INTO t_claim (id) VALUES ($1)", i), RC_OK);
	/* B must not wait for A's locks: if it did, the lock timeout would fail the claim. */
	if (e->pg)
		CHECK_INT(db_script(b, "SET lock_timeout = '10s'"), RC_OK);
	CHECK_INT(db_begin(e->w, DB_TX_WRITE), RC_OK);
	CHECK_INT(claim(e->w, "a", &ca), RC_OK);
	if (!e->pg) /* one writer at a time: A commits before B begins */
		CHECK_INT(db_commit(e->w), RC_OK);
	CHECK_INT(db_begin(b, DB_TX_WRITE), RC_OK);
	CHECK_INT(claim(b, "b", &cb), RC_OK);
	CHECK_INT(db_commit(b), RC_OK);
	if (e->pg)
		CHECK_INT(db_commit(e->w), RC_OK);
	CHECK_INT(ca.n, 3);
	CHECK_INT(cb.n, 3);
	for (i = 0; i < ca.n; i++)
		for (j = 0; j < cb.n; j++)
			overlap += ca.ids[i] == cb.ids[j];
	CHECK_INT(overlap, 0);
	CHECK_INT(count(e->w, "SELECT count(*) FROM t_claim WHERE owner IS NOT NULL"), 6);
	db_conn_free(b);
}

static void case_lock(struct env *e)
{
	struct db_conn *b = conn_new(e, DB_WRITE);

	if (!b)
		return;
	CHECK_INT(db_lock(e->w, 42), RC_INVALID); /* outside a transaction */
	CHECK_INT(db_begin(e->w, DB_TX_WRITE), RC_OK);
	CHECK_INT(db_lock(e->w, 42), RC_OK);
	if (e->pg) {
		CHECK_INT(count_id(b, "SELECT pg_try_advisory_lock($1)", 42), 0);
		CHECK_INT(count_id(b, "SELECT pg_try_advisory_lock($1)", 43), 1);
		CHECK_INT(count_id(b, "SELECT pg_advisory_unlock($1)", 43), 1);
	}
	CHECK_INT(db_commit(e->w), RC_OK);
	if (e->pg) {
		CHECK_INT(count_id(b, "SELECT pg_try_advisory_lock($1)", 42), 1);
		CHECK_INT(count_id(b, "SELECT pg_advisory_unlock($1)", 42), 1);
	}
	db_conn_free(b);
}

/* ---------------------------------------------------------------------------------------
 * Readers and snapshots
 */

static void *reader_thread(void *arg)
{
	struct env *e = arg;
	struct db_conn *r = NULL;

	CHECK_INT(db_reader(e->db, &r), RC_OK);
	if (r)
		CHECK_INT(count(r, "SELECT count(*) FROM t_snap"), 1);
	return r;
}

static void case_readers(struct env *e)
{
	struct db_conn *r1 = NULL, *r2 = NULL, *other;
	pthread_t t;
	void *got = NULL;

	CHECK_INT(db_script(e->w, "CREATE TABLE t_snap (id BIGINT PRIMARY KEY)"), RC_OK);
	CHECK_INT(insert_id(e->w, "INSERT INTO t_snap (id) VALUES ($1)", 1), RC_OK);
	CHECK_INT(db_reader(e->db, &r1), RC_OK);
	CHECK_INT(db_reader(e->db, &r2), RC_OK);
	CHECK(r1 && r1 == r2, "one read connection per thread");
	if (!r1)
		return;
	/* Another thread has its own (closed when it ends: the sanitizers and valgrind check). */
	pthread_create(&t, NULL, reader_thread, e);
	pthread_join(t, &got);
	other = got;
	CHECK(other && other != r1, "another thread, another connection");
	/* Read-only. */
	CHECK(insert_id(r1, "INSERT INTO t_snap (id) VALUES ($1)", 2) != RC_OK,
	      "a reader cannot write");
	/* A snapshot: a commit after the first read is not seen until the snapshot ends. */
	CHECK_INT(db_begin(r1, DB_TX_SNAPSHOT), RC_OK);
	CHECK_INT(count(r1, "SELECT count(*) FROM t_snap"), 1);
	CHECK_INT(insert_id(e->w, "INSERT INTO t_snap (id) VALUES ($1)", 3), RC_OK);
	CHECK_INT(count(r1, "SELECT count(*) FROM t_snap"), 1);
	CHECK_INT(db_commit(r1), RC_OK);
	CHECK_INT(count(r1, "SELECT count(*) FROM t_snap"), 2);
}

static void case_script(struct env *e)
{
	char err[256];
	char path[700];

	CHECK_INT(db_script(e->w, "CREATE TABLE t_script (id BIGINT PRIMARY KEY); "
				  "INSERT INTO t_script VALUES (1); INSERT INTO t_script VALUES (2)"),
		  RC_OK);
	CHECK_INT(count(e->w, "SELECT count(*) FROM t_script"), 2);
	CHECK_INT(db_script(e->w, "INSERT INTO t_script VALUES (1)"), RC_CONFLICT);
	CHECK_INT(db_script(e->w, "SELEC nonsense"), RC_IO);
	CHECK(db_errmsg(e->w)[0] != '\0', "a syntax error has a message");
	CHECK_INT(db_storage_init(e->w), RC_OK);
	CHECK_INT(db_checkpoint(e->w), RC_OK);
	snprintf(path, sizeof(path), "%s.backup", e->pg ? "/tmp/aijri-test-db-pg" : e->where);
	if (e->pg) {
		CHECK_INT(db_backup(e->db, path, err, sizeof(err)), RC_UNSUPPORTED);
		CHECK(strstr(err, "pg_dump") != NULL, "says what to use: %s", err);
		return;
	}
	CHECK_INT(db_backup(e->db, path, err, sizeof(err)), RC_OK);
	{
		struct db *copy = NULL;
		struct db_conn *c = NULL;
		if (db_open(path, NULL, &copy, err, sizeof(err)) == RC_OK &&
		    db_conn_open(copy, DB_READ, &c, err, sizeof(err)) == RC_OK)
			CHECK_INT(count(c, "SELECT count(*) FROM t_script"), 2);
		else
			CHECK(0, "open the backup: %s", err);
		db_conn_free(c);
		db_free(copy);
		unlink(path);
	}
}

/* ---------------------------------------------------------------------------------------
 * Notifications and reconnection (PostgreSQL; SQLite says it has none)
 */

struct heard {
	char what[32][64]; /* "channel:payload", or "(missed)" */
	int n;
};

static enum rc hear(void *ctx, const char *channel, const char *payload)
{
	struct heard *h = ctx;

	if (h->n < 32)
		snprintf(h->what[h->n++], sizeof(h->what[0]), "%s%s%s", channel ? channel : "(missed)",
			 channel ? ":" : "", channel ? payload : "");
	return RC_OK;
}

static int heard(const struct heard *h, const char *what)
{
	int i;

	for (i = 0; i < h->n; i++)
		if (!strcmp(h->what[i], what))
			return 1;
	return 0;
}

/* Drains l until it has heard `what` (or, with what NULL, until the drain fails); returns the
 * last drain's rc, or RC_BUSY past the deadline. */
static enum rc wait_heard(struct db_conn *l, struct heard *h, const char *what)
{
	int64_t end = clock_mono_ms() + DEADLINE_MS;
	struct pollfd p;
	enum rc rc;

	for (;;) {
		rc = db_notifications(l, hear, h);
		if (what ? heard(h, what) : rc != RC_OK)
			return rc;
		if (clock_mono_ms() > end)
			return RC_BUSY;
		p.fd = db_conn_fd(l);
		p.events = POLLIN;
		if (p.fd >= 0)
			poll(&p, 1, 100);
	}
}

static void case_notify(struct env *e)
{
	struct db_conn *l, *x;
	struct heard h;

	memset(&h, 0, sizeof(h));
	l = conn_new(e, DB_READ);
	x = conn_new(e, DB_WRITE);
	if (!l || !x)
		goto out;
	if (!e->pg) {
		CHECK_INT(db_notify(e->w, "changes", "1"), RC_OK); /* nothing to do in one process */
		CHECK_INT(db_listen(l, "changes"), RC_UNSUPPORTED);
		CHECK_INT(db_conn_fd(l), -1);
		CHECK_INT(db_notifications(l, hear, &h), RC_UNSUPPORTED);
		goto out;
	}
	CHECK_INT(db_listen(l, "changes"), RC_OK);
	CHECK_INT(db_listen(l, "Changes"), RC_INVALID);
	CHECK(db_conn_fd(l) >= 0, "a socket to poll");
	/* Inside a transaction: heard only after the commit. The marker, sent later and at once
	 * by another connection, proves the listener would have heard it by then. */
	CHECK_INT(db_begin(e->w, DB_TX_WRITE), RC_OK);
	CHECK_INT(db_notify(e->w, "changes", "one"), RC_OK);
	CHECK_INT(db_notify(x, "changes", "marker1"), RC_OK);
	CHECK_INT(wait_heard(l, &h, "changes:marker1"), RC_OK);
	CHECK(!heard(&h, "changes:one"), "not heard before the commit");
	CHECK_INT(db_commit(e->w), RC_OK);
	CHECK_INT(wait_heard(l, &h, "changes:one"), RC_OK);
	/* Rolled back: never heard. */
	CHECK_INT(db_begin(e->w, DB_TX_WRITE), RC_OK);
	CHECK_INT(db_notify(e->w, "changes", "two"), RC_OK);
	CHECK_INT(db_rollback(e->w), RC_OK);
	CHECK_INT(db_notify(x, "changes", "marker2"), RC_OK);
	CHECK_INT(wait_heard(l, &h, "changes:marker2"), RC_OK);
	CHECK(!heard(&h, "changes:two"), "a rolled-back notification is never heard");
	CHECK_INT(db_notify(x, "changes", NULL), RC_OK);
	CHECK_INT(wait_heard(l, &h, "changes:"), RC_OK);
	CHECK_INT(db_notify(x, "bad channel", "x"), RC_INVALID);
out:
	db_conn_free(l);
	db_conn_free(x);
}

/* Ends c's server session from another connection and waits until it is gone. */
static void terminate(struct env *e, struct db_conn *c)
{
	int64_t pid = count(c, "SELECT pg_backend_pid()"), end = clock_mono_ms() + DEADLINE_MS;

	CHECK(pid > 0, "backend pid");
	CHECK_INT(count_id(e->w, "SELECT pg_terminate_backend(CAST($1 AS INTEGER))", pid), 1);
	while (count_id(e->w, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid) != 0 &&
	       clock_mono_ms() < end) {
		struct timespec ts = { 0, 10 * 1000 * 1000 }; /* polling, not waiting a fixed time */
		nanosleep(&ts, NULL);
	}
}

static void case_reconnect(struct env *e)
{
	struct db_conn *c = conn_new(e, DB_WRITE), *l = conn_new(e, DB_READ);
	struct heard h;
	int64_t pid;

	memset(&h, 0, sizeof(h));
	if (!c || !l)
		goto out;
	CHECK_INT(db_script(e->w, "CREATE TABLE t_conn (id BIGINT PRIMARY KEY)"), RC_OK);
	/* Outside a transaction: a prepare (it changes nothing) that finds the session gone
	 * prepares again on a new one, and the statement runs there. */
	pid = count(c, "SELECT pg_backend_pid()");
	terminate(e, c);
	CHECK_INT(insert_id(c, "INSERT INTO t_conn (id) VALUES ($1)", 1), RC_OK);
	CHECK(count(c, "SELECT pg_backend_pid()") != pid, "a new session");
	CHECK_INT(count(c, "SELECT count(*) FROM t_conn"), 1);
	/* A write prepared already is not sent twice: the use that finds the session gone says
	 * unavailable, the one after reconnects (and prepares its statements again). */
	pid = count(c, "SELECT pg_backend_pid()");
	terminate(e, c);
	CHECK_INT(insert_id(c, "INSERT INTO t_conn (id) VALUES ($1)", 5), RC_UNAVAILABLE);
	CHECK_INT(insert_id(c, "INSERT INTO t_conn (id) VALUES ($1)", 5), RC_OK);
	CHECK(count(c, "SELECT pg_backend_pid()") != pid, "a new session");
	/* A read-only session's statement changes nothing: sent again on a new session at once,
	 * even when it was prepared already. */
	CHECK_INT(count(l, "SELECT count(*) FROM t_conn"), 2);
	pid = count(l, "SELECT pg_backend_pid()");
	terminate(e, l);
	CHECK_INT(count(l, "SELECT count(*) FROM t_conn"), 2);
	CHECK(count(l, "SELECT pg_backend_pid()") != pid, "a new read session");
	/* Inside one: the transaction is lost, and said to be until the caller rolls back. */
	CHECK_INT(db_begin(c, DB_TX_WRITE), RC_OK);
	CHECK_INT(insert_id(c, "INSERT INTO t_conn (id) VALUES ($1)", 2), RC_OK);
	terminate(e, c);
	CHECK_INT(insert_id(c, "INSERT INTO t_conn (id) VALUES ($1)", 3), RC_UNAVAILABLE);
	CHECK_INT(db_in_tx(c), 1);
	CHECK_INT(insert_id(c, "INSERT INTO t_conn (id) VALUES ($1)", 4), RC_UNAVAILABLE);
	CHECK_INT(db_commit(c), RC_UNAVAILABLE);
	CHECK_INT(db_rollback(c), RC_OK);
	CHECK_INT(db_in_tx(c), 0);
	CHECK_INT(count(c, "SELECT count(*) FROM t_conn"), 2);
	/* A listener: the drain fails, the next one reconnects and says notifications may have
	 * been missed; then it hears again. */
	CHECK_INT(db_listen(l, "changes"), RC_OK);
	terminate(e, l);
	CHECK_INT(wait_heard(l, &h, NULL), RC_UNAVAILABLE);
	CHECK_INT(db_notifications(l, hear, &h), RC_OK);
	CHECK(heard(&h, "(missed)"), "told that notifications may have been missed");
	CHECK_INT(db_notify(e->w, "changes", "again"), RC_OK);
	CHECK_INT(wait_heard(l, &h, "changes:again"), RC_OK);
out:
	db_conn_free(c);
	db_conn_free(l);
}

/* ---------------------------------------------------------------------------------------
 * What needs no server: choosing the engine, hiding passwords, SQLSTATEs
 */

static void test_open(void)
{
	static const struct {
		const char *where;
		enum rc rc;
		const char *engine;
		const char *shown;   /* db_where(), or a fragment err must have */
		const char *secret;  /* never in err or db_where() */
	} cases[] = {
		{ "/tmp/x.db", RC_OK, "sqlite", "/tmp/x.db", NULL },
		{ "file:x.db?mode=memory", RC_OK, "sqlite", "file:x.db?mode=memory", NULL },
		{ "postgresql://u:pw123456@h:5433/db?sslmode=disable", RC_OK, "postgresql",
		  "postgresql://u@h:5433/db", "pw123456" },
		{ "postgres://h/db?password=zz998877", RC_OK, "postgresql", "postgresql://h/db",
		  "zz998877" },
		{ "postgresql://u:hunter2pw@[::1/db", RC_INVALID, NULL, "database URI", "hunter2pw" },
		{ "postgresql://h/db?nosuchoption=1", RC_INVALID, NULL, "nosuchoption", NULL },
		{ "", RC_INVALID, NULL, "no database", NULL },
	};
	struct db *db;
	char err[256];
	size_t i;
	enum rc rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		db = NULL;
		rc = db_open(cases[i].where, NULL, &db, err, sizeof(err));
		CHECK(rc == cases[i].rc, "db_open(\"%s\") = %s, want %s (%s)", cases[i].where,
		      rc_str(rc), rc_str(cases[i].rc), err);
		if (db) {
			CHECK_STR(db_engine_name(db), cases[i].engine);
			CHECK_STR(db_where(db), cases[i].shown);
			CHECK(!cases[i].secret || !strstr(db_where(db), cases[i].secret),
			      "password shown: %s", db_where(db));
		} else {
			CHECK(strstr(err, cases[i].shown) != NULL, "\"%s\": err \"%s\"",
			      cases[i].where, err);
			CHECK(!cases[i].secret || !strstr(err, cases[i].secret),
			      "password in the error: %s", err);
		}
		db_free(db);
	}
}

/* Nobody listens on port 1: a clear RC_UNAVAILABLE at once, without the password. */
static void test_unreachable(void)
{
	struct db *db = NULL;
	struct db_conn *c = NULL;
	char err[256] = "";

	CHECK_INT(db_open("postgresql://u:pw5544332211@127.0.0.1:1/db", NULL, &db, err,
			  sizeof(err)), RC_OK);
	if (!db)
		return;
	CHECK_INT(db_conn_open(db, DB_WRITE, &c, err, sizeof(err)), RC_UNAVAILABLE);
	CHECK(strstr(err, "127.0.0.1") && !strstr(err, "pw5544332211"), "err: %s", err);
	CHECK(c == NULL, "no connection");
	db_free(db);
}

static void test_sqlstates(void)
{
	static const struct {
		const char *state;
		enum rc rc;
	} cases[] = {
		{ "23505", RC_CONFLICT },    { "23503", RC_CONFLICT },    { "40001", RC_BUSY },
		{ "40P01", RC_BUSY },        { "55P03", RC_BUSY },        { "08006", RC_UNAVAILABLE },
		{ "08001", RC_UNAVAILABLE }, { "57P01", RC_UNAVAILABLE }, { "57P03", RC_UNAVAILABLE },
		{ "53300", RC_UNAVAILABLE }, { "42601", RC_IO },          { "25P02", RC_IO },
		{ NULL, RC_IO },             { "2350", RC_IO },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(db_pg_sqlstate_rc(cases[i].state) == cases[i].rc, "%s -> %s, want %s",
		      cases[i].state ? cases[i].state : "NULL",
		      rc_str(db_pg_sqlstate_rc(cases[i].state)), rc_str(cases[i].rc));
}

/* ---------------------------------------------------------------------------------------
 * The runner: every case on each engine
 */

struct db_case {
	const char *name;
	void (*fn)(struct env *e);
};

static const struct db_case db_cases[] = {
	{ "types", case_types },
	{ "params", case_params },
	{ "iterator", case_iterator },
	{ "transactions", case_transactions },
	{ "race", case_race },
	{ "version", case_version },
	{ "cache", case_cache },
	{ "claim", case_claim },
	{ "lock", case_lock },
	{ "readers", case_readers },
	{ "script", case_script },
	{ "notify", case_notify },
	{ "reconnect", case_reconnect },
	{ NULL, NULL },
};

/* The cases provoke failures the layer logs (a conflict, a bad name, a lost connection): what a
 * case writes to stderr is kept aside and shown only if the case fails. */
static FILE *quiet_file;
static int quiet_saved = -1;

static void quiet_begin(void)
{
	fflush(stderr);
	quiet_file = tmpfile();
	quiet_saved = quiet_file ? dup(2) : -1;
	if (quiet_saved >= 0)
		dup2(fileno(quiet_file), 2);
}

static void quiet_end(int show)
{
	char line[512];

	if (quiet_saved < 0)
		return;
	fflush(stderr);
	dup2(quiet_saved, 2);
	close(quiet_saved);
	quiet_saved = -1;
	rewind(quiet_file);
	while (show && fgets(line, sizeof(line), quiet_file))
		fputs(line, stderr);
	fclose(quiet_file);
	quiet_file = NULL;
}

static void run_engine(struct env *e)
{
	const struct db_case *k;
	char name[64], err[256];
	struct db_options opt = { 1, 200 };
	int before;

	harness_current = e->engine;
	if (db_open(e->where, &opt, &e->db, err, sizeof(err)) ||
	    db_conn_open(e->db, DB_WRITE, &e->w, err, sizeof(err))) {
		CHECK(0, "%s: cannot open %s: %s", e->engine, e->where, err);
		goto out;
	}
	CHECK_STR(db_engine_name(e->db), e->engine);
	CHECK_INT(db_storage_init(e->w), RC_OK);
	for (k = db_cases; k->name; k++) {
		if (!e->pg && !strcmp(k->name, "reconnect"))
			continue; /* a file does not go away */
		snprintf(name, sizeof(name), "%s.%s", e->engine, k->name);
		harness_current = name;
		before = harness_failed;
		quiet_begin();
		k->fn(e);
		CHECK_INT(db_in_tx(e->w), 0);
		quiet_end(harness_failed != before);
		fprintf(stderr, "%s db.%s\n", harness_failed == before ? "ok  " : "FAIL", name);
	}
out:
	db_conn_free(e->w);
	db_free(e->db);
	e->w = NULL;
	e->db = NULL;
}

/* A fresh database on the cluster of base for this run, dropped at the end. */
static int pg_admin(const char *base, const char *sql)
{
	struct db *db = NULL;
	struct db_conn *c = NULL;
	char err[256];
	enum rc rc;

	rc = db_open(base, NULL, &db, err, sizeof(err));
	if (!rc)
		rc = db_conn_open(db, DB_WRITE, &c, err, sizeof(err));
	if (!rc)
		rc = db_script(c, sql);
	CHECK(rc == RC_OK, "%s: %s", sql, rc ? (c ? db_errmsg(c) : err) : "");
	db_conn_free(c);
	db_free(db);
	return rc == RC_OK;
}

static void run_pg(void)
{
	const char *base = getenv("AIJRI_TEST_PG"), *ci = getenv("CI");
	struct env e;
	char name[64], sql[128];

	harness_current = "postgresql";
	if (!base || !*base) {
		if (ci && !strcmp(ci, "true"))
			CHECK(0, "AIJRI_TEST_PG is not set: the PostgreSQL half did NOT run");
		else
			fprintf(stderr, "NOTE test_db: AIJRI_TEST_PG is not set: the PostgreSQL half "
					"was skipped (bash tests/all starts a cluster and sets it)\n");
		return;
	}
	memset(&e, 0, sizeof(e));
	e.engine = "postgresql";
	e.pg = 1;
	snprintf(name, sizeof(name), "aijri_test_db_%ld", (long)getpid());
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	if (!pg_admin(base, sql))
		return;
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	if (!pg_admin(base, sql))
		return;
	snprintf(e.where, sizeof(e.where), "%s%sdbname=%s", base, strchr(base, '?') ? "&" : "?",
		 name);
	run_engine(&e);
	snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", name);
	pg_admin(base, sql);
}

int main(void)
{
	static const struct harness_test tests[] = {
		{ "open", test_open },
		{ "unreachable", test_unreachable },
		{ "sqlstates", test_sqlstates },
		{ NULL, NULL },
	};
	char dir[] = "/tmp/aijri-test-db.XXXXXX";
	struct env e;
	int rc;

	memset(&e, 0, sizeof(e));
	e.engine = "sqlite";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(e.where, sizeof(e.where), "%s/test.db", dir);
	run_engine(&e);
	run_pg();
	rc = harness_main("db", tests);
	snprintf(e.where, sizeof(e.where), "rm -rf '%s'", dir);
	if (system(e.where))
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
