/*
 * db_pg.c: the PostgreSQL engine of the database layer (db.h), on libpq: connections,
 * statements, transactions, notifications (the rows of a run are read in db_pg_rows.c). With
 * db_pg_rows.c and db_pg_conninfo.c, the only files of aijri that include libpq-fe.h.
 *
 * Statements are prepared on the server once per connection (PQprepare, named aijri_N) and run
 * with PQexecPrepared; parameters travel as text, blobs in binary, so any byte is safe; results
 * come back as text, whole, one PGresult per run. A connection found broken (the server went
 * away, an administrator ended the session) is reset on its next use and its statements are
 * prepared again when they next run; a transaction it was in is lost, and the connection says
 * so (RC_UNAVAILABLE) until the caller rolls back: its statements never run, one by one, in
 * autocommit on the new session. A failed reset is tried again no sooner than PG_RETRY_MS
 * later, so that callers meanwhile fail at once instead of waiting for a connect timeout.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/db_int.h"
#include "store/db_pg_int.h"
#include "util/clock.h"

#define PG_MAX_CHANNELS 8
#define PG_RETRY_MS 250
/* Unless the URI or PGCONNECT_TIMEOUT say otherwise, a connection attempt gives up after this
 * many seconds: libpq's default is to wait for ever. */
#define PG_CONNECT_TIMEOUT "5"

struct pg_conn {
	PGconn *pg;
	int broken;          /* the connection was lost: reset it on next use */
	int tx_lost;         /* ...inside a transaction: refuse until db_rollback */
	int missed;          /* a listener came back: tell the next drain */
	unsigned gen;        /* bumped by each reset: statements of older ones are prepared again */
	unsigned names;      /* for statement names */
	int dealloc_all;     /* a statement could not be deallocated: DEALLOCATE ALL when idle */
	int64_t next_try_ms; /* no reset before this (monotonic) */
	int nchannels;
	char channels[PG_MAX_CHANNELS][64];
};

#define PG(c) ((struct pg_conn *)(c)->eng)

static void pg_errmsg(struct db_conn *c, const PGresult *r)
{
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	size_t n;

	if (m)
		DB_ERR(c, "%s (%s)", m, state ? state : "?");
	else
		DB_ERR(c, "%s", PG(c)->pg ? PQerrorMessage(PG(c)->pg) : "no connection");
	n = strlen(c->errmsg);
	while (n && (c->errmsg[n - 1] == '\n' || c->errmsg[n - 1] == ' '))
		c->errmsg[--n] = '\0';
	db_pg_one_line(c->errmsg);
}

/* In a transaction as the server sees it (a failed one included). */
static int pg_in_tx_now(const struct pg_conn *p)
{
	PGTransactionStatusType s = PQtransactionStatus(p->pg);

	return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

static void pg_lost(struct db_conn *c, int in_tx)
{
	struct pg_conn *p = PG(c);

	if (!p->broken)
		fprintf(stderr, "aijri: db: connection to %s lost: %s\n", c->db->display,
			c->errmsg);
	p->broken = 1;
	if (in_tx)
		p->tx_lost = 1;
}

/* The rc of a result (NULL: libpq could not even build one). in_tx: whether a transaction was
 * open when the command was sent, to know what a lost connection took with it. */
static enum rc pg_result(struct db_conn *c, const PGresult *r, int in_tx)
{
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	enum rc rc;

	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY)
		return RC_OK;
	pg_errmsg(c, r);
	rc = r ? db_pg_sqlstate_rc(PQresultErrorField(r, PG_DIAG_SQLSTATE)) : RC_NOMEM;
	if (PQstatus(PG(c)->pg) == CONNECTION_BAD || rc == RC_UNAVAILABLE) {
		pg_lost(c, in_tx);
		rc = RC_UNAVAILABLE;
	}
	return rc;
}

/* A command without parameters, its result dropped. */
static enum rc pg_simple(struct db_conn *c, const char *sql)
{
	struct pg_conn *p = PG(c);
	int in_tx = pg_in_tx_now(p);
	PGresult *r = PQexec(p->pg, sql);
	enum rc rc = pg_result(c, r, in_tx);

	PQclear(r);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * Connections
 */

static void pg_quiet(void *arg, const char *message)
{
	/* Notices ("relation exists, skipping") are not errors; errors come with results. */
	(void)arg;
	(void)message;
}

/* What every session of a kind starts with, again after each reset. */
static enum rc pg_session(struct db_conn *c)
{
	struct pg_conn *p = PG(c);
	char sql[96];
	enum rc rc;
	int i;

	PQsetNoticeProcessor(p->pg, pg_quiet, NULL);
	rc = pg_simple(c, c->kind == DB_READ ? "SET default_transaction_read_only = on"
					      : "SET synchronous_commit = on");
	for (i = 0; !rc && i < p->nchannels; i++) {
		snprintf(sql, sizeof(sql), "LISTEN %s", p->channels[i]);
		rc = pg_simple(c, sql);
	}
	return rc;
}

static enum rc pg_open(struct db_conn *c, char *err, size_t errlen)
{
	const char *kw[6], *val[6];
	struct pg_conn *p;
	enum rc rc;
	int n = 0;

	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return RC_NOMEM;
	}
	p->gen = 1;
	c->eng = p;
	/* Keywords before dbname are defaults the URI may override; client_encoding after it is
	 * ours: every text crosses the seam as UTF-8. */
	kw[n] = "fallback_application_name", val[n++] = "aijri";
	if (!getenv("PGCONNECT_TIMEOUT"))
		kw[n] = "connect_timeout", val[n++] = PG_CONNECT_TIMEOUT;
	kw[n] = "dbname", val[n++] = c->db->where;
	kw[n] = "client_encoding", val[n++] = "UTF8";
	kw[n] = NULL, val[n] = NULL;
	p->pg = PQconnectdbParams(kw, val, 1);
	if (!p->pg) {
		snprintf(err, errlen, "out of memory");
		rc = RC_NOMEM;
		goto fail;
	}
	rc = RC_UNAVAILABLE;
	if (PQstatus(p->pg) != CONNECTION_OK) {
		pg_errmsg(c, NULL);
		snprintf(err, errlen, "%s: cannot connect: %s", c->db->display, c->errmsg);
		if (c->lazy) {
			/* A thread's reader exists from now on, and its statements fail as any
			 * lost connection's do (RC_UNAVAILABLE) until a reset succeeds. */
			db_pg_scrub(err, errlen, c->db->where);
			fprintf(stderr, "aijri: db: read connection: %s (tried again on use)\n", err);
			p->broken = 1;
			p->next_try_ms = clock_mono_ms() + PG_RETRY_MS;
			return RC_OK;
		}
		goto fail;
	}
	rc = pg_session(c);
	if (rc) {
		snprintf(err, errlen, "%s: cannot set up the session: %s", c->db->display,
			 c->errmsg);
		goto fail;
	}
	return RC_OK;
fail:
	db_pg_scrub(err, errlen, c->db->where);
	PQfinish(p->pg);
	free(p);
	c->eng = NULL;
	return rc;
}

static void pg_close(struct db_conn *c)
{
	if (!c->eng)
		return;
	PQfinish(PG(c)->pg);
	free(c->eng);
	c->eng = NULL;
}

static enum rc pg_reconnect(struct db_conn *c)
{
	struct pg_conn *p = PG(c);
	int64_t now = clock_mono_ms();
	enum rc rc;

	if (now < p->next_try_ms) {
		DB_ERR(c, "%s is unreachable (tried again shortly)", c->db->display);
		return RC_UNAVAILABLE;
	}
	PQreset(p->pg);
	if (PQstatus(p->pg) != CONNECTION_OK) {
		p->next_try_ms = now + PG_RETRY_MS;
		pg_errmsg(c, NULL);
		db_pg_scrub(c->errmsg, sizeof(c->errmsg), c->db->where);
		return RC_UNAVAILABLE;
	}
	p->broken = 0;
	p->dealloc_all = 0;
	p->gen++;
	rc = pg_session(c);
	if (rc)
		return rc;
	p->missed = p->nchannels > 0;
	fprintf(stderr, "aijri: db: reconnected to %s\n", c->db->display);
	return RC_OK;
}

/* Before anything is sent: a lost transaction stays lost until the caller rolls back; a lost
 * connection is reset; statements left for deallocation go when no transaction is open. */
static enum rc pg_ready(struct db_conn *c)
{
	struct pg_conn *p = PG(c);
	enum rc rc;

	if (p->tx_lost) {
		DB_ERR(c, "the connection was lost inside the transaction: it is gone, roll back");
		return RC_UNAVAILABLE;
	}
	if (p->broken || PQstatus(p->pg) != CONNECTION_OK) {
		rc = pg_reconnect(c);
		if (rc)
			return rc;
	}
	if (p->dealloc_all && PQtransactionStatus(p->pg) == PQTRANS_IDLE) {
		rc = pg_simple(c, "DEALLOCATE ALL");
		if (rc)
			return rc;
		p->dealloc_all = 0;
		p->gen++;
	}
	return RC_OK;
}

/* Whether a command that just failed with RC_UNAVAILABLE may be sent once more on a new
 * session: it found the connection lost (a server that restarted while the connection sat
 * idle; not a reset that failed again), outside a transaction, and it changed nothing. */
static int pg_resend(struct db_conn *c, int was_broken, int changes_nothing)
{
	struct pg_conn *p = PG(c);

	return !was_broken && p->broken && !p->tx_lost && changes_nothing;
}

/* ---------------------------------------------------------------------------------------
 * Statements and rows
 */

static enum rc pg_do_prepare(struct db_stmt *st)
{
	struct pg_conn *p = PG(st->c);
	struct pg_stmt *q = st->eng;
	int in_tx = pg_in_tx_now(p);
	PGresult *r = PQprepare(p->pg, q->name, st->sql, 0, NULL);
	enum rc rc = pg_result(st->c, r, in_tx);

	PQclear(r);
	if (!rc)
		q->gen = p->gen;
	return rc;
}

static void pg_finalize(struct db_stmt *st);

/* Prepares on the server, then asks it how many parameters the text has. */
static enum rc pg_prepare(struct db_stmt *st)
{
	struct db_conn *c = st->c;
	struct pg_conn *p = PG(c);
	struct pg_stmt *q;
	PGresult *d = NULL;
	enum rc rc;
	int in_tx, was_broken;

	q = calloc(1, sizeof(*q));
	if (!q) {
		DB_ERR(c, "out of memory");
		return RC_NOMEM;
	}
	snprintf(q->name, sizeof(q->name), "aijri_%u", ++p->names);
	st->eng = q;
	was_broken = p->broken;
	rc = pg_ready(c);
	if (!rc)
		rc = pg_do_prepare(st);
	/* Preparing changes nothing: once more on a new session when the old one was lost. */
	if (rc == RC_UNAVAILABLE && pg_resend(c, was_broken, 1)) {
		rc = pg_ready(c);
		if (!rc)
			rc = pg_do_prepare(st);
	}
	if (rc)
		goto out;
	in_tx = pg_in_tx_now(p);
	d = PQdescribePrepared(p->pg, q->name);
	rc = pg_result(c, d, in_tx);
	if (!rc)
		st->nparams = PQnparams(d);
out:
	PQclear(d);
	if (rc)
		pg_finalize(st);
	return rc;
}

/* A server-side statement lives until DEALLOCATE or the end of the session. One that cannot
 * be deallocated now (the transaction failed) goes with DEALLOCATE ALL at the next idle
 * moment, so the server never keeps more than the cache's bound. */
static void pg_finalize(struct db_stmt *st)
{
	struct db_conn *c = st->c;
	struct pg_conn *p = PG(c);
	struct pg_stmt *q = st->eng;
	char sql[64];

	PQclear(q->res);
	db_pg_blobs_clear(q);
	if (!c->closing && q->gen == p->gen && !p->broken && !p->tx_lost) {
		if (PQtransactionStatus(p->pg) != PQTRANS_INERROR) {
			snprintf(sql, sizeof(sql), "DEALLOCATE %s", q->name);
			if (pg_simple(c, sql))
				p->dealloc_all = 1;
		} else {
			p->dealloc_all = 1;
		}
	}
	free(q);
	st->eng = NULL;
}

/* Numbers go as text the server parses for the parameter's type; blobs go in binary. */
static void pg_param(const struct db_value *v, char num[32], const char **val, int *len,
		     int *fmt)
{
	*len = 0;
	*fmt = 0;
	switch (v->type) {
	case DBV_INT:
		snprintf(num, 32, "%" PRId64, v->i);
		*val = num;
		break;
	case DBV_DOUBLE:
		if (isnan(v->d))
			snprintf(num, 32, "NaN");
		else if (isinf(v->d))
			snprintf(num, 32, "%sInfinity", v->d < 0 ? "-" : "");
		else
			snprintf(num, 32, "%.17g", v->d);
		*val = num;
		break;
	case DBV_TEXT:
		*val = v->p;
		break;
	case DBV_BLOB:
		*val = v->p;
		*len = (int)v->len;
		*fmt = 1;
		break;
	default:
		*val = NULL;
		break;
	}
}

static enum rc pg_start_once(struct db_stmt *st)
{
	struct db_conn *c = st->c;
	struct pg_conn *p = PG(c);
	struct pg_stmt *q = st->eng;
	char nums[DB_MAX_PARAMS][32];
	const char *vals[DB_MAX_PARAMS];
	int lens[DB_MAX_PARAMS], fmts[DB_MAX_PARAMS], i, in_tx;
	enum rc rc;

	rc = pg_ready(c);
	if (!rc && q->gen != p->gen)
		rc = pg_do_prepare(st);
	if (rc)
		return rc;
	for (i = 0; i < st->nparams; i++)
		pg_param(&st->params[i], nums[i], &vals[i], &lens[i], &fmts[i]);
	in_tx = pg_in_tx_now(p);
	q->res = PQexecPrepared(p->pg, q->name, st->nparams, vals, lens, fmts, 0);
	rc = pg_result(c, q->res, in_tx);
	if (rc)
		return rc;
	q->nrows = PQntuples(q->res);
	q->ncols = PQnfields(q->res);
	q->row = -1;
	return RC_OK;
}

/* A statement of a read-only session changes nothing, so it may go again once; a write
 * connection's statement outside a transaction may have been applied, and is not. */
static enum rc pg_start(struct db_stmt *st)
{
	struct db_conn *c = st->c;
	struct pg_stmt *q = st->eng;
	int was_broken = PG(c)->broken;
	enum rc rc = pg_start_once(st);

	if (rc == RC_UNAVAILABLE && pg_resend(c, was_broken, c->kind == DB_READ)) {
		PQclear(q->res);
		q->res = NULL;
		rc = pg_start_once(st);
	}
	return rc;
}

static void pg_finish(struct db_stmt *st)
{
	struct pg_stmt *q = st->eng;
	static const char *const writes[] = { "INSERT ", "UPDATE ", "DELETE ", "MERGE " };
	const char *tag;
	size_t i;

	st->changes = 0;
	if (q->res && PQresultStatus(q->res) != PGRES_FATAL_ERROR) {
		tag = PQcmdStatus(q->res);
		for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
			if (!strncmp(tag, writes[i], strlen(writes[i])))
				st->changes = strtoll(PQcmdTuples(q->res), NULL, 10);
	}
	db_pg_blobs_clear(q);
	PQclear(q->res);
	q->res = NULL;
	q->nrows = q->ncols = 0;
}

static enum rc pg_script(struct db_conn *c, const char *sql)
{
	enum rc rc = pg_ready(c);

	return rc ? rc : pg_simple(c, sql);
}

/* ---------------------------------------------------------------------------------------
 * Transactions
 */

static enum rc pg_begin_once(struct db_conn *c, enum db_tx_kind kind)
{
	enum rc rc = pg_ready(c);

	if (rc)
		return rc;
	return pg_simple(c, kind == DB_TX_WRITE
				    ? "BEGIN"
				    : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

/* BEGIN changes nothing: once more on a new session when it found the old one lost. */
static enum rc pg_begin(struct db_conn *c, enum db_tx_kind kind)
{
	int was_broken = PG(c)->broken;
	enum rc rc = pg_begin_once(c, kind);

	if (rc == RC_UNAVAILABLE && pg_resend(c, was_broken, 1))
		rc = pg_begin_once(c, kind);
	return rc;
}

/* COMMIT of a transaction that had failed ends it and says ROLLBACK: not a success. */
static enum rc pg_commit(struct db_conn *c)
{
	struct pg_conn *p = PG(c);
	PGresult *r;
	enum rc rc;

	rc = pg_ready(c);
	if (rc)
		return rc;
	if (!pg_in_tx_now(p)) {
		DB_ERR(c, "commit without a transaction");
		return RC_INVALID;
	}
	r = PQexec(p->pg, "COMMIT");
	rc = pg_result(c, r, 1);
	if (!rc && strcmp(PQcmdStatus(r), "COMMIT")) {
		DB_ERR(c, "the transaction had failed: nothing was committed");
		rc = RC_IO;
	}
	PQclear(r);
	return rc;
}

/* Whatever happens here, no transaction is open afterwards: a lost connection took it. */
static enum rc pg_rollback(struct db_conn *c)
{
	struct pg_conn *p = PG(c);
	enum rc rc = RC_OK;

	if (p->tx_lost) {
		p->tx_lost = 0;
		return RC_OK;
	}
	if (!p->broken && pg_in_tx_now(p))
		rc = pg_simple(c, "ROLLBACK");
	p->tx_lost = 0;
	return rc == RC_UNAVAILABLE ? RC_OK : rc;
}

static int pg_in_tx(const struct db_conn *c)
{
	const struct pg_conn *p = PG(c);

	return p->tx_lost || (!p->broken && pg_in_tx_now(p));
}

/* ---------------------------------------------------------------------------------------
 * The schema version: a one-row table, created by the first set
 */

static enum rc pg_version_get(struct db_conn *c, int *out)
{
	struct pg_conn *p = PG(c);
	PGresult *r = NULL;
	enum rc rc;
	int in_tx;

	rc = pg_ready(c);
	if (rc)
		goto out;
	in_tx = pg_in_tx_now(p);
	r = PQexec(p->pg, "SELECT to_regclass('db_schema_version') IS NOT NULL");
	rc = pg_result(c, r, in_tx);
	if (rc || strcmp(PQgetvalue(r, 0, 0), "t"))
		goto out;
	PQclear(r);
	r = PQexec(p->pg, "SELECT version FROM db_schema_version");
	rc = pg_result(c, r, in_tx);
	if (!rc && PQntuples(r) == 1)
		*out = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
out:
	PQclear(r);
	return rc;
}

static enum rc pg_version_set(struct db_conn *c, int v)
{
	struct pg_conn *p = PG(c);
	const char *vals[1];
	char num[16];
	PGresult *r;
	enum rc rc;

	rc = pg_ready(c);
	if (!rc)
		rc = pg_simple(c, "CREATE TABLE IF NOT EXISTS db_schema_version ("
				  "one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), "
				  "version INTEGER NOT NULL)");
	if (rc)
		return rc;
	snprintf(num, sizeof(num), "%d", v);
	vals[0] = num;
	r = PQexecParams(p->pg,
			 "INSERT INTO db_schema_version (one, version) VALUES (TRUE, $1) "
			 "ON CONFLICT (one) DO UPDATE SET version = excluded.version",
			 1, NULL, vals, NULL, NULL, 0);
	rc = pg_result(c, r, 1);
	PQclear(r);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * Notifications
 */

static enum rc pg_listen(struct db_conn *c, const char *channel)
{
	struct pg_conn *p = PG(c);
	char sql[96];
	enum rc rc;
	int i;

	for (i = 0; i < p->nchannels; i++)
		if (!strcmp(p->channels[i], channel))
			return RC_OK;
	if (p->nchannels == PG_MAX_CHANNELS) {
		DB_ERR(c, "at most %d channels per connection", PG_MAX_CHANNELS);
		return RC_TOOLARGE;
	}
	rc = pg_ready(c);
	if (rc)
		return rc;
	snprintf(sql, sizeof(sql), "LISTEN %s", channel);
	rc = pg_simple(c, sql);
	if (rc)
		return rc;
	snprintf(p->channels[p->nchannels++], sizeof(p->channels[0]), "%s", channel);
	return RC_OK;
}

static int pg_fd(struct db_conn *c)
{
	struct pg_conn *p = PG(c);

	return p->broken ? -1 : PQsocket(p->pg);
}

static enum rc pg_drain(struct db_conn *c, db_notice_fn fn, void *ctx)
{
	struct pg_conn *p = PG(c);
	PGnotify *n;
	enum rc rc;

	rc = pg_ready(c);
	if (rc)
		return rc;
	if (p->missed) {
		p->missed = 0;
		rc = fn(ctx, NULL, NULL);
		if (rc)
			return rc;
	}
	/* A server that went away shows as end of input here, or as a bad status just after. */
	if (!PQconsumeInput(p->pg) || PQstatus(p->pg) == CONNECTION_BAD) {
		pg_errmsg(c, NULL);
		pg_lost(c, 0);
		return RC_UNAVAILABLE;
	}
	while ((n = PQnotifies(p->pg))) {
		rc = fn(ctx, n->relname, n->extra);
		PQfreemem(n);
		if (rc)
			return rc;
	}
	return RC_OK;
}

/* ---------------------------------------------------------------------------------------
 * Housekeeping: the server does its own
 */

static enum rc pg_storage_init(struct db_conn *c)
{
	(void)c;
	return RC_OK;
}

static enum rc pg_checkpoint(struct db_conn *c)
{
	(void)c;
	return RC_OK;
}

static enum rc pg_backup(struct db *db, const char *dest, char *err, size_t errlen)
{
	(void)dest;
	snprintf(err, errlen,
		 "%s: PostgreSQL is backed up with its own tools: pg_dump -Fc, and restored with "
		 "pg_restore",
		 db->display);
	return RC_UNSUPPORTED;
}

const struct db_engine db_engine_pg = {
	.name = "postgresql",
	.check = db_pg_check,
	.open = pg_open,
	.close = pg_close,
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.start = pg_start,
	.step = db_pg_step,
	.finish = pg_finish,
	.col_count = db_pg_col_count,
	.col_is_null = db_pg_col_is_null,
	.col_int64 = db_pg_col_int64,
	.col_double = db_pg_col_double,
	.col_text = db_pg_col_text,
	.col_blob = db_pg_col_blob,
	.script = pg_script,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.in_tx = pg_in_tx,
	.sql_lock = "SELECT pg_advisory_xact_lock($1)",
	.sql_notify = "SELECT pg_notify($1, $2)",
	.version_get = pg_version_get,
	.version_set = pg_version_set,
	.listen = pg_listen,
	.fd = pg_fd,
	.drain = pg_drain,
	.storage_init = pg_storage_init,
	.checkpoint = pg_checkpoint,
	.backup = pg_backup,
};
