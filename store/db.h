/*
 * db.h: the database layer, the one seam between aijri and a database engine. Two engines sit
 * behind it: SQLite (a file, the default and embedded choice) and PostgreSQL (a server that
 * several aijri instances share, over libpq). Only db_sqlite.c includes sqlite3.h and only
 * db_pg*.c include libpq-fe.h; nothing above this header names an engine. It knows connections,
 * statements, rows and transactions, never what aijri stores.
 *
 * The engine is chosen by the database string given to db_open:
 *   postgresql://... or postgres://...   PostgreSQL (libpq's URI syntax; libpq's PG* environment
 *                                        variables fill in what the URI leaves out)
 *   anything else (a path, file:...)     SQLite
 *
 * SQL: one text for both engines wherever they agree (they do on most of it: ON CONFLICT,
 * RETURNING, partial indexes, CAST). Parameters are written $1..$N, in any order, each as often
 * as needed; `?` and `:name` are refused. Where a dialect differs, pick the text with db_sql()
 * (keep such places rare, and say why beside them). Known differences, for writers of SQL:
 *   - after a failed statement inside a transaction, PostgreSQL refuses every further one until
 *     db_rollback_to() or db_rollback(): never "try the INSERT and carry on after a conflict";
 *     write INSERT ... ON CONFLICT DO NOTHING RETURNING ... instead;
 *   - PostgreSQL must be able to infer each parameter's type from its place: a bare `$1 IS NULL`
 *     or `SELECT $1 + 1` needs CAST($1 AS BIGINT) (which SQLite accepts as well);
 *   - no last-insert-rowid: use RETURNING; booleans are 0/1 on SQLite and true/false on
 *     PostgreSQL (db_col_int64 reads both as 0/1);
 *   - NULLs sort first on SQLite and last on PostgreSQL: say NULLS FIRST/LAST, or avoid NULL
 *     in sort keys; text sorts by the database's collation on PostgreSQL (create it with
 *     LC_COLLATE 'C' to sort as SQLite does), SQLite's LIKE ignores ASCII case, PostgreSQL's
 *     does not;
 *   - DDL differs (INTEGER PRIMARY KEY vs GENERATED ... AS IDENTITY, BLOB vs BYTEA): migrations
 *     are kept per dialect.
 *
 * Threads: a connection is used by one thread at a time. A thread's read connection comes from
 * db_reader() (opened on first use, closed when the thread ends or at db_free); the writer,
 * a listener or a checkpointer open their own with db_conn_open() and free them themselves.
 *
 * Errors: every call returns an enum rc that upper layers act on without knowing the engine:
 *   RC_CONFLICT     a constraint refused the row (a unique key above all: the slug exists)
 *   RC_BUSY         a race with another writer: the database stayed locked past the busy
 *                   timeout (SQLite), a serialization failure, a deadlock or a lock not
 *                   available (PostgreSQL 40001, 40P01, 55P03). Roll back and retry the whole
 *                   transaction.
 *   RC_UNAVAILABLE  the database cannot be reached: the connection was lost or refused, or the
 *                   server is shutting down (PostgreSQL classes 08, 57P01..57P03, 53300). The
 *                   connection reconnects on its next use; a transaction it was in is lost and
 *                   reported as failed, never silently retried. Writes answer 503.
 *   RC_UNSUPPORTED  the engine cannot do this (notifications on SQLite, backup on PostgreSQL)
 *   RC_INVALID      the caller broke this layer's rules (a bad parameter number, an unbound
 *                   parameter, `?` in SQL, a bad channel name): a bug, logged
 *   RC_NOTFOUND     db_one() found no row
 *   RC_NOMEM, RC_IO anything else; the engine's message is in db_errmsg() and is logged.
 */
#ifndef STORE_DB_H
#define STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "util/rc.h"

#define DB_WARN __attribute__((warn_unused_result))

struct db;      /* one database: its engine, where it is, the per-thread read connections */
struct db_conn; /* one connection and its statement cache; one thread at a time */
struct db_stmt; /* a prepared statement, owned by its connection's cache */

/* The statement cache of a connection holds at most this many statements (the least recently
 * used idle one is finalized to make room), each SQL text at most DB_SQL_MAX bytes: a
 * connection's cache is bounded by about DB_STMT_CACHE * (DB_SQL_MAX + the engine's plan). */
#define DB_STMT_CACHE 128
#define DB_SQL_MAX 16384
/* The highest $N a statement may use. */
#define DB_MAX_PARAMS 64

/* ---------------------------------------------------------------------------------------
 * Opening
 */

struct db_options {
	int create;  /* SQLite: create the file if it does not exist (PostgreSQL: ignored) */
	int busy_ms; /* SQLite: how long a statement waits for another writer's lock before
	              * RC_BUSY; 0 means 5000. PostgreSQL waits for locks as the server says. */
};

/*
 * Checks the database string and chooses the engine; connects to nothing yet (the first
 * db_conn_open or db_reader does). opt may be NULL for the defaults. A PostgreSQL URI that
 * libpq cannot parse is refused here (RC_INVALID, a message in err that never repeats a
 * password). The caller frees the handle with db_free.
 */
DB_WARN enum rc db_open(const char *where, const struct db_options *opt, struct db **out,
			char *err, size_t errlen);
/* Closes the read connections of every thread, then the handle. Connections opened with
 * db_conn_open must be freed before. NULL ok. */
void db_free(struct db *db);
/* "sqlite" or "postgresql", for logs and metrics. */
const char *db_engine_name(const struct db *db);
/* Where the database is, safe to log: the path, or postgresql://user@host:port/dbname (never a
 * password). */
const char *db_where(const struct db *db);
/* The same for a database string not opened (yet): written into out (outlen bytes). */
void db_display(const char *where, char *out, size_t outlen);
/* 1 when where names a database server (a PostgreSQL URI), 0 for a file: the rule db_open
 * chooses its engine by. */
int db_is_server(const char *where);
/* One of two SQL texts: the first on SQLite, the second on PostgreSQL, for the rare places
 * where the dialects differ (a DDL type, FOR UPDATE SKIP LOCKED). */
const char *db_sql(const struct db_conn *c, const char *sqlite_sql, const char *pg_sql);

/* ---------------------------------------------------------------------------------------
 * Connections
 */

enum db_conn_kind {
	DB_READ,  /* read-only: a SQLite read-only connection, a PostgreSQL session whose
	           * transactions default to READ ONLY (a listener is one too) */
	DB_WRITE, /* reads and writes; commits are durable (SQLite synchronous=FULL, PostgreSQL
	           * synchronous_commit=on) and foreign keys are enforced */
};

/* Opens a connection that the caller owns and frees with db_conn_free. A database that cannot
 * be reached is RC_UNAVAILABLE (PostgreSQL) or RC_IO (SQLite), with a message in err. */
DB_WARN enum rc db_conn_open(struct db *db, enum db_conn_kind kind, struct db_conn **out,
			     char *err, size_t errlen);
/* Finalizes the connection's statements and closes it (rolling back an open transaction).
 * NULL ok. */
void db_conn_free(struct db_conn *c);
/* This thread's read connection (DB_READ), opened on first use and closed when the thread
 * ends. Failures are logged. A PostgreSQL server that cannot be reached then does not fail it:
 * the connection is handed out broken, its statements fail RC_UNAVAILABLE until it reconnects
 * on a later use. A read-only statement (and any BEGIN or prepare) that finds its connection
 * lost outside a transaction is sent once more on a new session: it changed nothing. */
DB_WARN enum rc db_reader(struct db *db, struct db_conn **out);
/* Closes the read connections of every thread now, while no other thread uses the database: at
 * shut-down, before the last write connection is freed, so that its close is the last one and
 * SQLite copies the WAL into the file and removes it. A thread that asks db_reader again gets
 * a new one. */
void db_readers_close(struct db *db);
/* The engine's message for the connection's last failure ("" if none). Valid until the next
 * call on c. */
const char *db_errmsg(const struct db_conn *c);

/* ---------------------------------------------------------------------------------------
 * Statements and rows
 *
 * A statement is prepared once per connection and kept in the connection's cache, keyed by
 * its SQL text (the same text from any pointer finds it). A statement is the caller's from
 * db_prepare until it has run (db_each and the helpers below end the run, whatever the
 * outcome) or db_reset; the cache never evicts it meanwhile. Preparing the same text again
 * while it is still held hands back the same statement with its bindings cleared, unless it is
 * running (inside its own db_each): then RC_INVALID.
 *
 * Binding never fails on the spot: a bad parameter number or an allocation failure is kept
 * and returned by the run (db_each, db_one, db_exec), which also refuses a statement with a
 * parameter left unbound. Values are copied: the caller's memory may go at once.
 */

DB_WARN enum rc db_prepare(struct db_conn *c, const char *sql, struct db_stmt **out);
/* n is the N of $N. Text is UTF-8; a NULL text or blob binds SQL NULL. */
void db_bind_int64(struct db_stmt *st, int n, int64_t v);
void db_bind_double(struct db_stmt *st, int n, double v);
void db_bind_text(struct db_stmt *st, int n, const char *s);
void db_bind_blob(struct db_stmt *st, int n, const void *p, size_t len);
void db_bind_null(struct db_stmt *st, int n);

/*
 * The one row iterator and its one rule. Runs st and calls fn(ctx, st) for each row; fn reads
 * the row with the db_col_ functions and returns:
 *   RC_OK    next row, please;
 *   RC_STOP  enough: db_each ends at once and returns RC_OK;
 *   any other rc: the iteration failed; db_each returns that rc, and the caller fails as a
 *           whole (a list that cannot be built whole is not answered with rows missing).
 * fn may be NULL (rows are stepped over). A database error mid-way is returned the same way.
 * Whatever the outcome, the run is over when db_each returns: the statement is reset, its
 * bindings cleared and it is back in the cache. fn may run other statements on the same
 * connection, but not st itself.
 */
typedef enum rc (*db_row_fn)(void *ctx, struct db_stmt *st);
DB_WARN enum rc db_each(struct db_stmt *st, db_row_fn fn, void *ctx);
/* Runs st and calls fn for its first row only; RC_NOTFOUND if there is none. */
DB_WARN enum rc db_one(struct db_stmt *st, db_row_fn fn, void *ctx);
/* Runs st for its effect (rows are ignored). */
DB_WARN enum rc db_exec(struct db_stmt *st);
/* Runs st and reads column 0 of its first row as an integer; RC_NOTFOUND if no row. */
DB_WARN enum rc db_one_int64(struct db_stmt *st, int64_t *out);
/* Rows inserted, updated or deleted by st's last run. */
int64_t db_changes(const struct db_stmt *st);
/* Ends a run or a hold without running: clears the bindings. NULL ok. */
void db_reset(struct db_stmt *st);
/* Runs SQL text without parameters, possibly several statements (a migration), uncached. */
DB_WARN enum rc db_script(struct db_conn *c, const char *sql);
/* How many statements c's cache holds now (for tests of its bound). */
int db_conn_stmt_count(const struct db_conn *c);

/* Reading the current row, inside fn. Columns count from 0; an index out of range reads as
 * NULL. A text is NUL-terminated and valid until fn returns; a SQL NULL reads as NULL (text,
 * blob), 0 (numbers). A blob of length 0 is a non-NULL pointer. len may be NULL. */
int db_col_count(struct db_stmt *st);
int db_col_is_null(struct db_stmt *st, int col);
int64_t db_col_int64(struct db_stmt *st, int col);
double db_col_double(struct db_stmt *st, int col);
const char *db_col_text(struct db_stmt *st, int col, size_t *len);
const void *db_col_blob(struct db_stmt *st, int col, size_t *len);
/* A malloc'd copy of a text column (the caller frees it), *out NULL for SQL NULL. */
DB_WARN enum rc db_col_strdup(struct db_stmt *st, int col, char **out);

/* ---------------------------------------------------------------------------------------
 * Transactions
 *
 * A write transaction takes the database's write lock at once on SQLite (BEGIN IMMEDIATE: the
 * one writer) and is a READ COMMITTED transaction on PostgreSQL (several writers: take row
 * locks with SELECT ... FOR UPDATE, or db_lock, where order matters). Savepoints nest inside
 * it: db_rollback_to undoes what was done since the savepoint and keeps the transaction (and
 * the savepoint) usable, which is how one job of a group commit fails alone. A commit that
 * fails leaves nothing done... except a commit that fails with RC_UNAVAILABLE, which may or may
 * not have committed: do not acknowledge it. After any failure call db_rollback (a no-op when
 * no transaction is open).
 */

enum db_tx_kind {
	DB_TX_WRITE,    /* SQLite BEGIN IMMEDIATE; PostgreSQL BEGIN */
	DB_TX_SNAPSHOT, /* reads that see one snapshot: SQLite BEGIN (a WAL read transaction);
	                 * PostgreSQL BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY */
};
DB_WARN enum rc db_begin(struct db_conn *c, enum db_tx_kind kind);
DB_WARN enum rc db_commit(struct db_conn *c);
enum rc db_rollback(struct db_conn *c);
/* name: 1 to 63 of [a-z0-9_], starting with a letter. */
DB_WARN enum rc db_savepoint(struct db_conn *c, const char *name);
DB_WARN enum rc db_release(struct db_conn *c, const char *name);
DB_WARN enum rc db_rollback_to(struct db_conn *c, const char *name);
/* 1 while a transaction is open on c (a failed one included), else 0. */
int db_in_tx(const struct db_conn *c);
/* Inside a write transaction: waits until no other transaction holds key, and holds it until
 * this one ends (PostgreSQL pg_advisory_xact_lock; on SQLite the write lock already excludes
 * every other writer, so it returns at once). Serialises, say, migrations across instances. */
DB_WARN enum rc db_lock(struct db_conn *c, int64_t key);

/* ---------------------------------------------------------------------------------------
 * The schema version, kept in the database (SQLite PRAGMA user_version; PostgreSQL a one-row
 * table, db_schema_version, created by the first set). 0 for a new database.
 */
DB_WARN enum rc db_version_get(struct db_conn *c, int *out);
/* Only inside a write transaction (else RC_INVALID): it commits or rolls back with it. */
DB_WARN enum rc db_version_set(struct db_conn *c, int v);

/* ---------------------------------------------------------------------------------------
 * Being told of other instances' commits (PostgreSQL LISTEN/NOTIFY). On SQLite one process
 * owns the database and tells its own parts in process: db_notify does nothing there, the
 * listening calls answer RC_UNSUPPORTED.
 */

/* Inside a transaction, the notification is sent when it commits (and never if it rolls back),
 * in commit order; outside one, at once. channel: as a savepoint name; payload: NULL or text
 * under 8000 bytes. A listener hears its own instance's notifications too: put an instance id
 * in the payload to tell them apart. */
DB_WARN enum rc db_notify(struct db_conn *c, const char *channel, const char *payload);
/* Makes c (a connection of its own, not used for transactions) listen on channel; at most 8
 * channels. After a reconnect c listens on them again by itself. */
DB_WARN enum rc db_listen(struct db_conn *c, const char *channel);
/* The socket to poll() for POLLIN before db_notifications; -1 on SQLite or while the
 * connection is down. It may change after a reconnect: ask again after each drain. */
int db_conn_fd(struct db_conn *c);
/*
 * Calls fn(ctx, channel, payload) for each notification received so far (payload "" when none
 * was sent), without waiting. fn returns RC_OK to go on, anything else stops the drain and is
 * returned (the rest stay queued). RC_UNAVAILABLE: the connection is down; call again later,
 * each call tries to reconnect once. The first drain after a reconnect calls fn once with
 * channel NULL: notifications may have been missed meanwhile, assume everything changed.
 */
typedef enum rc (*db_notice_fn)(void *ctx, const char *channel, const char *payload);
DB_WARN enum rc db_notifications(struct db_conn *c, db_notice_fn fn, void *ctx);

/* ---------------------------------------------------------------------------------------
 * Engine housekeeping, named for what it achieves
 */

/* Makes the database ready for writing with concurrent readers: SQLite switches the file to
 * WAL, which rewrites its header, so call it only after db_version_get has shown the database
 * is one this binary may change (until then a DB_WRITE connection on SQLite changes nothing,
 * not even by checkpointing when it closes). PostgreSQL: nothing to do. */
DB_WARN enum rc db_storage_init(struct db_conn *c);
/* Copies committed changes from SQLite's WAL into the database file (PASSIVE: never waits for
 * readers; RC_BUSY if it could not run). PostgreSQL: nothing to do, the server does its own. */
DB_WARN enum rc db_checkpoint(struct db_conn *c);
/* A consistent online copy of the database into a new file at dest (SQLite's backup API, one
 * read snapshot). PostgreSQL: RC_UNSUPPORTED, err says to use pg_dump. */
DB_WARN enum rc db_backup(struct db *db, const char *dest, char *err, size_t errlen);

#endif
