/*
 * pieces_sql.c: the SQL function aijri_pieces(role_json) of migration 0007, which turns the
 * revisions written whole before it into pieces (pieces.c): it stores the text's pieces that
 * are not stored yet and returns the text's manifest.
 *
 * SQLite-only: a C function registered on the writer's SQLite handle (db_bridge.h), like the
 * score history's aijri_history_entry (history.c); on PostgreSQL the conversion needs a
 * function of that dialect's migrations, or a step in C.
 *
 * The function remembers the last text it turned and its manifest, so that consecutive
 * revisions of one role (the migration reads them in that order) reuse their unchanged
 * pieces without a look-up. It lives and dies with the connection: a migration that fails
 * rolls back and its connection is closed, so what it remembers never outlives the rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SQLite's own: the SQL function aijri_pieces (below). */
#include <sqlite3.h>

#include "store/store_int.h"

struct pieces_fn {
	struct db_conn *c;
	char *text;              /* the last text turned, and its manifest */
	unsigned char *manifest;
	size_t len;
};

static void pieces_fn_free(void *p)
{
	struct pieces_fn *f = p;

	if (!f)
		return;
	free(f->text);
	free(f->manifest);
	free(f);
}

static void sql_pieces(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct pieces_fn *f = sqlite3_user_data(ctx);
	const char *text = (const char *)sqlite3_value_text(argv[0]);
	unsigned char *m = NULL;
	size_t len = 0;
	char *copy;
	enum rc rc;

	(void)argc;
	if (!text) {
		sqlite3_result_null(ctx);
		return;
	}
	rc = pieces_put(f->c, text, f->text, f->manifest, f->len, &m, &len);
	if (rc) {
		sqlite3_result_error(ctx, "aijri_pieces: the pieces of a revision cannot be stored",
				     -1);
		return;
	}
	sqlite3_result_blob(ctx, m, (int)len, SQLITE_TRANSIENT);
	copy = strdup(text);
	free(f->text);
	free(f->manifest);
	f->text = copy;
	f->manifest = copy ? m : NULL;
	f->len = copy ? len : 0;
	if (!copy)
		free(m);
}

enum rc store_pieces_register(struct db_conn *c, char *err, size_t errlen)
{
	sqlite3 *db = db_sqlite_handle(c);
	struct pieces_fn *f;

	if (!db) {
		snprintf(err, errlen, "the revisions' pieces need a SQLite connection");
		return RC_UNSUPPORTED;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return RC_NOMEM;
	}
	f->c = c;
	/* SQLite frees f with pieces_fn_free, also when the registration fails. */
	if (sqlite3_create_function_v2(db, "aijri_pieces", 1, SQLITE_UTF8, f, sql_pieces, NULL,
				       NULL, pieces_fn_free) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return RC_IO;
	}
	return RC_OK;
}
