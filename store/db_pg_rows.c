/*
 * db_pg_rows.c: the rows of a PostgreSQL statement's run, read from its one PGresult (text
 * format; bytea decoded once per row and column). Nothing here talks to the server.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "store/db_pg_int.h"

void db_pg_blobs_clear(struct pg_stmt *q)
{
	int i;

	if (!q->blobs)
		return;
	for (i = 0; i < q->ncols; i++)
		PQfreemem(q->blobs[i]);
	free(q->blobs);
	free(q->blob_lens);
	q->blobs = NULL;
	q->blob_lens = NULL;
}

enum rc db_pg_step(struct db_stmt *st, int *row)
{
	struct pg_stmt *q = st->eng;

	db_pg_blobs_clear(q);
	if (q->row < q->nrows)
		q->row++;
	*row = q->row < q->nrows;
	return RC_OK;
}

int db_pg_col_count(struct db_stmt *st)
{
	return PGS(st)->res ? PGS(st)->ncols : 0;
}

int db_pg_col_is_null(struct db_stmt *st, int col)
{
	struct pg_stmt *q = st->eng;

	return q->row < 0 || q->row >= q->nrows || PQgetisnull(q->res, q->row, col);
}

int64_t db_pg_col_int64(struct db_stmt *st, int col)
{
	struct pg_stmt *q = st->eng;
	const char *v;
	char *end;
	long long i;
	double d;

	if (db_pg_col_is_null(st, col))
		return 0;
	v = PQgetvalue(q->res, q->row, col);
	if (PQftype(q->res, col) == PG_BOOLOID)
		return v[0] == 't';
	errno = 0;
	i = strtoll(v, &end, 10);
	if (!*end && !errno)
		return i;
	/* numeric, real: as SQLite reads a real as an integer, truncated */
	d = strtod(v, &end);
	if (!*end && isfinite(d) && d >= -9.2e18 && d <= 9.2e18)
		return (int64_t)d;
	return 0;
}

double db_pg_col_double(struct db_stmt *st, int col)
{
	struct pg_stmt *q = st->eng;
	const char *v;

	if (db_pg_col_is_null(st, col))
		return 0.0;
	v = PQgetvalue(q->res, q->row, col);
	if (PQftype(q->res, col) == PG_BOOLOID)
		return v[0] == 't' ? 1.0 : 0.0;
	return strtod(v, NULL);
}

const char *db_pg_col_text(struct db_stmt *st, int col, size_t *len)
{
	struct pg_stmt *q = st->eng;

	if (db_pg_col_is_null(st, col))
		return NULL;
	*len = (size_t)PQgetlength(q->res, q->row, col);
	return PQgetvalue(q->res, q->row, col);
}

/* bytea comes as text ("\x00ff"): decoded once per row and column. */
const void *db_pg_col_blob(struct db_stmt *st, int col, size_t *len)
{
	struct pg_stmt *q = st->eng;

	if (PQftype(q->res, col) != PG_BYTEAOID)
		return db_pg_col_text(st, col, len);
	if (db_pg_col_is_null(st, col))
		return NULL;
	if (!q->blobs) {
		q->blobs = calloc((size_t)q->ncols, sizeof(*q->blobs));
		q->blob_lens = calloc((size_t)q->ncols, sizeof(*q->blob_lens));
		if (!q->blobs || !q->blob_lens) {
			free(q->blobs);
			free(q->blob_lens);
			q->blobs = NULL;
			q->blob_lens = NULL;
			return NULL;
		}
	}
	if (!q->blobs[col])
		q->blobs[col] = PQunescapeBytea(
			(const unsigned char *)PQgetvalue(q->res, q->row, col), &q->blob_lens[col]);
	*len = q->blob_lens[col];
	return q->blobs[col];
}
