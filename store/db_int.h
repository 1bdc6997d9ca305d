/*
 * db_int.h: what the database layer's own files share: db.c and db_tx.c (the engine-neutral
 * part: the statement cache, bound values, the row iterator, per-thread readers; transactions,
 * notifications) and the engines, db_sqlite.c and db_pg.c (with db_pg_rows.c and db_pg_conninfo.c), each a
 * table of functions (struct db_engine). An engine file calls nothing in db.c or db_tx.c: it
 * sees the structs below and fills in its own state behind void pointers.
 * Nothing outside store/db*.c and the layer's unit test includes this.
 */
#ifndef STORE_DB_INT_H
#define STORE_DB_INT_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "store/db.h"

#define DB_ERRMSG_MAX 256

enum db_vtype { DBV_UNSET = 0, DBV_NULL, DBV_INT, DBV_DOUBLE, DBV_TEXT, DBV_BLOB };

/* A bound value. Text and blobs are the statement's own copies (p, len; text NUL-terminated,
 * a blob of length 0 still has a non-NULL p), freed when the run ends. */
struct db_value {
	enum db_vtype type;
	int64_t i;
	double d;
	char *p;
	size_t len;
};

struct db_stmt {
	struct db_conn *c;
	char *sql;             /* the cache key, a copy */
	size_t sql_len;
	uint32_t hash;
	uint64_t used;         /* the connection's clock at the last prepare: least recently used */
	int held;              /* from db_prepare to the end of its run: never evicted meanwhile */
	int running;           /* inside db_each */
	int nparams;           /* the highest $N, found by the engine's prepare */
	struct db_value *params; /* [nparams], index N-1 */
	enum rc bind_rc;       /* the first binding failure, returned by the run */
	int64_t changes;       /* set by the engine's finish */
	void *eng;             /* the engine's statement */
};

struct db_conn {
	struct db *db;
	enum db_conn_kind kind;
	void *eng;             /* the engine's connection */
	struct db_stmt *cache[DB_STMT_CACHE];
	int n;
	uint64_t clock;
	int pinned;            /* a thread's reader: only that thread may use it */
	int closing;           /* db_conn_free runs: statements go without a word to the server */
	int lazy;              /* a thread's reader: a server that cannot be reached now is
	                        * connected to on a later use (the engine may ignore it) */
	pthread_t thread;
	char errmsg[DB_ERRMSG_MAX];
};

struct db_reader;

struct db {
	const struct db_engine *eng;
	char *where;           /* as given to db_open */
	char *display;         /* safe to log */
	struct db_options opt;
	int storage_ready;     /* db_storage_init ran: new SQLite connections may checkpoint */
	pthread_key_t reader_key;
	int reader_key_ok;
	pthread_mutex_t mu;    /* guards readers */
	struct db_reader *readers;
};

/* An engine. Functions taking a connection or a statement run on the thread that uses it.
 * Each sets c->errmsg when it fails. */
struct db_engine {
	const char *name;
	/* Checks the database string; sets *display (malloc'd, safe to log). */
	enum rc (*check)(const char *where, char **display, char *err, size_t errlen);
	enum rc (*open)(struct db_conn *c, char *err, size_t errlen);
	void (*close)(struct db_conn *c);
	/* Prepares st->sql on the engine (or finds it unusable); sets st->eng and st->nparams. */
	enum rc (*prepare)(struct db_stmt *st);
	void (*finalize)(struct db_stmt *st);
	/* A run: start binds st->params and executes; step moves to the next row (*row 0 at the
	 * end); finish ends the run (also after a failed start) and sets st->changes. */
	enum rc (*start)(struct db_stmt *st);
	enum rc (*step)(struct db_stmt *st, int *row);
	void (*finish)(struct db_stmt *st);
	int (*col_count)(struct db_stmt *st);
	int (*col_is_null)(struct db_stmt *st, int col);
	int64_t (*col_int64)(struct db_stmt *st, int col);
	double (*col_double)(struct db_stmt *st, int col);
	const char *(*col_text)(struct db_stmt *st, int col, size_t *len);
	const void *(*col_blob)(struct db_stmt *st, int col, size_t *len);
	enum rc (*script)(struct db_conn *c, const char *sql);
	enum rc (*begin)(struct db_conn *c, enum db_tx_kind kind);
	enum rc (*commit)(struct db_conn *c);
	enum rc (*rollback)(struct db_conn *c);
	int (*in_tx)(const struct db_conn *c);
	/* SQL for db_lock ($1 the key) and db_notify ($1 channel, $2 payload); NULL: nothing to
	 * do on this engine. */
	const char *sql_lock;
	const char *sql_notify;
	enum rc (*version_get)(struct db_conn *c, int *out);
	enum rc (*version_set)(struct db_conn *c, int v);
	enum rc (*listen)(struct db_conn *c, const char *channel);
	int (*fd)(struct db_conn *c);
	enum rc (*drain)(struct db_conn *c, db_notice_fn fn, void *ctx);
	enum rc (*storage_init)(struct db_conn *c);
	enum rc (*checkpoint)(struct db_conn *c);
	enum rc (*backup)(struct db *db, const char *dest, char *err, size_t errlen);
};

extern const struct db_engine db_engine_sqlite;
extern const struct db_engine db_engine_pg;

/* db_pg_conninfo.c, for db_pg.c (and the layer's unit test). The rc of a PostgreSQL
 * SQLSTATE (five characters; NULL or unknown: RC_IO). */
enum rc db_pg_sqlstate_rc(const char *sqlstate);
/* Checks a PostgreSQL database string (libpq's URI syntax) and makes its display. */
enum rc db_pg_check(const char *where, char **display, char *err, size_t errlen);
/* Replaces a password that where carries with "***" wherever msg repeats it. */
void db_pg_scrub(char *msg, size_t size, const char *where);
/* Turns line breaks into spaces. */
void db_pg_one_line(char *s);

/* In db.c: logs a failure of c with its message; asserts that c is used by its thread. */
void db_log_failure(const struct db_conn *c, const char *what, enum rc rc);
void db_check_owner(const struct db_conn *c);

/* Records the message of c's last failure (printf-style, truncated to fit). */
#define DB_ERR(c, ...) snprintf((c)->errmsg, sizeof((c)->errmsg), __VA_ARGS__)

#endif
