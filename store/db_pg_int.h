/*
 * db_pg_int.h: what the files of the PostgreSQL engine share (db_pg.c runs statements,
 * db_pg_rows.c reads their rows). Included by db_pg*.c only, as libpq-fe.h is.
 */
#ifndef STORE_DB_PG_INT_H
#define STORE_DB_PG_INT_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store/db_int.h"

#define PG_BOOLOID 16
#define PG_BYTEAOID 17

/* A statement: its server-side name and its current run's rows. */
struct pg_stmt {
	char name[32];
	unsigned gen;        /* the connection generation it was prepared in */
	PGresult *res;       /* the current run's rows */
	int row, nrows, ncols;
	unsigned char **blobs; /* [ncols]: bytea columns of the current row, decoded on demand */
	size_t *blob_lens;
};

#define PGS(st) ((struct pg_stmt *)(st)->eng)

/* db_pg_rows.c: the engine's row calls (struct db_engine), on the current run's result. */
void db_pg_blobs_clear(struct pg_stmt *q);
enum rc db_pg_step(struct db_stmt *st, int *row);
int db_pg_col_count(struct db_stmt *st);
int db_pg_col_is_null(struct db_stmt *st, int col);
int64_t db_pg_col_int64(struct db_stmt *st, int col);
double db_pg_col_double(struct db_stmt *st, int col);
const char *db_pg_col_text(struct db_stmt *st, int col, size_t *len);
const void *db_pg_col_blob(struct db_stmt *st, int col, size_t *len);

#endif
