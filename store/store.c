/*
 * store.c: the store as a whole: opening (it builds struct store from its parts, brings the
 * schema up to date with the migrations runner and starts the writer), closing, and the
 * operations (backup, checkpoint, integrity check).
 *
 * The parts live in their own files (store_int.h shows which calls which): the read
 * connections in readers.c, the writer thread in writer.c, the rows in roles.c, tokens.c,
 * webhooks.c, outbox.c, idempotency.c and history.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/embed.h"
#include "util/num.h"

#define STORE_BUSY_MS 5000

/* ---------------------------------------------------------------------------------------
 * Migrations
 */

/* The migrations of each dialect: SQLite's in migrations/, PostgreSQL's in migrations/pg/,
 * the same numbers in both. */
#define MIGRATIONS_SQLITE "migrations/"
#define MIGRATIONS_PG "migrations/pg/"

/* The number prefix of "DIR/NNNN_name.sql", or 0 if the name is not a migration of dir. */
static int migration_number(const char *dir, const char *name)
{
	const char *p;
	size_t n = strlen(name), digits, dl = strlen(dir);
	int64_t v;

	if (strncmp(name, dir, dl) || n < 4 || strcmp(name + n - 4, ".sql") ||
	    strchr(name + dl, '/'))
		return 0;
	p = name + dl;
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
		n = migration_number(MIGRATIONS_SQLITE, f->name);
		if (n > latest)
			latest = n;
	}
	return latest;
}

/* The key of the lock that serialises migrations across the instances of one database. */
#define MIGRATE_LOCK 0x61696a7269L /* "aijri" */

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

/* Instances that start together on one PostgreSQL database migrate one at a time: each takes
 * a session lock (PostgreSQL's advisory lock; SQLite's one writer needs none) and reads the
 * version again once it holds it. The lock is a session's, not a transaction's: a transaction
 * begun after another instance's commit sees the tables that commit made (PostgreSQL's cache
 * of names is brought up to date when a transaction begins, not when it is granted a lock). */
static int migrate_lock(struct db_conn *c, int lock)
{
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(c, db_sql(c, "SELECT CAST($1 AS INTEGER)",
				 lock ? "SELECT pg_advisory_lock($1)" : "SELECT pg_advisory_unlock($1)"),
			&st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, MIGRATE_LOCK);
	return db_exec(st);
}

/* embed_files is in sorted name order, and the zero-padded prefixes make that the
 * numeric order, so one pass applies them in sequence. */
static int migrate(struct store *s, struct db_conn *c, char *err, size_t errlen)
{
	const char *dir = db_sql(c, MIGRATIONS_SQLITE, MIGRATIONS_PG);
	const struct embed_file *f;
	int n, rc;

	if (s->version >= store_schema_latest())
		return RC_OK;
	rc = migrate_lock(c, 1);
	if (!rc)
		rc = db_version_get(c, &s->version);
	if (rc) {
		snprintf(err, errlen, "cannot take the migrations' lock: %s", db_errmsg(c));
		return RC_IO;
	}
	for (f = embed_files; f->name && !rc; f++) {
		n = migration_number(dir, f->name);
		if (n <= s->version)
			continue;
		rc = migrate_one(c, f, n, err, errlen);
		if (!rc)
			s->version = n;
	}
	/* A lost connection took the lock with it. */
	if (migrate_lock(c, 0) && !rc) {
		snprintf(err, errlen, "cannot release the migrations' lock: %s", db_errmsg(c));
		rc = RC_IO;
	}
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * Opening and closing
 */

/* The parts that are there before any connection: the catalog, the outbox, the readers' list;
 * then the database layer. */
static int open_parts(struct store *s, char *err, size_t errlen)
{
	struct db_options opt = { .create = 1, .busy_ms = STORE_BUSY_MS };
	enum rc rc;

	s->cat = catalog_new();
	s->outbox = outbox_new();
	if (!s->cat || !s->outbox) {
		snprintf(err, errlen, "out of memory");
		return RC_NOMEM;
	}
	rc = readers_new(&s->readers);
	if (rc) {
		snprintf(err, errlen, rc == RC_NOMEM ? "out of memory" : "no thread key left");
		return rc;
	}
	return db_open(s->path, &opt, &s->db, err, errlen);
}

/* Opens the write connection and brings the schema up to date on it; *out gets it. */
static int open_writable(struct store *s, struct db_conn **out, char *err, size_t errlen)
{
	struct db_conn *c = NULL;
	char why[256];
	int rc, latest = store_schema_latest();

	/* Until db_storage_init the write connection changes nothing, not even by checkpointing
	 * a WAL when it closes. */
	rc = db_conn_open(s->db, DB_WRITE, &c, err, errlen);
	if (rc)
		return rc;
	/* Look at the version before anything that could write (journal_mode=WAL rewrites the
	 * header): a database from a newer aijri must be left exactly as it is. */
	if (db_version_get(c, &s->version)) {
		snprintf(err, errlen, "%s: not a readable database: %s", db_where(s->db), db_errmsg(c));
		rc = RC_IO;
		goto out;
	}
	if (s->version > latest) {
		snprintf(err, errlen,
			 "%s: schema version %d is newer than this aijri knows (%d); "
			 "use a newer aijri (the database was not changed)",
			 db_where(s->db), s->version, latest);
		rc = RC_TOONEW;
		goto out;
	}
	if (db_storage_init(c)) {
		snprintf(err, errlen, "%s: cannot set up: %s", db_where(s->db), db_errmsg(c));
		rc = RC_IO;
		goto out;
	}
	/* SQLite: migrations 0005 and 0007 convert older rows with these C functions.
	 * PostgreSQL has no rows of an older schema to convert. */
	if (db_sqlite_handle(c) && (store_history_register(c, why, sizeof(why)) ||
				    store_pieces_register(c, why, sizeof(why)))) {
		snprintf(err, errlen, "%s: cannot set up: %s", db_where(s->db), why);
		rc = RC_IO;
		goto out;
	}
	rc = migrate(s, c, err, errlen);
out:
	if (rc)
		db_conn_free(c);
	else
		*out = c;
	return rc;
}

int store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	const struct writer_hooks hooks = { store_outbox_kick, store_tx_idem_cleanup,
					    changes_announce, changes_committed };
	struct store *s;
	struct db_conn *wc = NULL;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		snprintf(err, errlen, "out of memory");
		free(s);
		return RC_NOMEM;
	}
	store_instance_init(s);
	rc = open_parts(s, err, errlen);
	if (!rc)
		rc = open_writable(s, &wc, err, errlen);
	if (rc)
		goto fail;
	/* SQLite's WAL is copied into the file by a checkpointer of ours; PostgreSQL does its
	 * own checkpoints. */
	s->ckpt = db_sqlite_handle(wc) ? checkpointer_start(path) : NULL;
	if (db_sqlite_handle(wc) && !s->ckpt) {
		db_conn_free(wc);
		snprintf(err, errlen, "cannot start the checkpointer thread");
		rc = RC_IO;
		goto fail;
	}
	/* The writer takes wc over, and closes it on failure. */
	rc = writer_start(s, wc, &hooks, &s->writer, err, errlen);
	if (rc)
		goto fail;
	if (db_is_server(s->path)) {
		rc = listener_start(s, &s->listener, err, errlen);
		if (rc)
			goto fail;
	}
	*out = s;
	return RC_OK;
fail:
	store_free(s);
	return rc;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	listener_stop(s->listener);
	s->listener = NULL;
	writer_stop(s->writer);
	checkpointer_stop(s->ckpt);
	s->ckpt = NULL;
	readers_free(s->readers);
	/* The write connection closes last: its close checkpoints the WAL into the file. */
	if (s->db)
		db_readers_close(s->db);
	writer_free(s->writer);
	db_free(s->db);
	outbox_free(s->outbox);
	catalog_free(s->cat);
	free(s->path);
	free(s);
}

int store_schema_version(struct store *s)
{
	return s->version;
}

int store_db_is_server(const char *db)
{
	return db_is_server(db);
}

void store_db_display(const char *db, char *out, size_t outlen)
{
	db_display(db, out, outlen);
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
