/*
 * idempotency.c: the stored first answers of writes sent with an Idempotency-Key (table
 * idempotency_keys, 0005_analysis.sql), keyed by (token, key). An answer is written in the
 * transaction of the write it answers, so the two are durable together or not at all; it is
 * replayed for STORE_IDEMPOTENCY_TTL seconds and deleted after, in bounded batches, by the
 * writer in the background (store.c).
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static const char SQL_GET[] =
	"SELECT fingerprint, status, content_type, headers_json, body, created_at"
	" FROM idempotency_keys WHERE token = ?1 AND idem_key = ?2 AND created_at > ?3";
static const char SQL_PUT[] =
	"INSERT INTO idempotency_keys (token, idem_key, fingerprint, status, content_type,"
	" headers_json, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
	" ON CONFLICT (token, idem_key) DO UPDATE SET fingerprint = excluded.fingerprint,"
	" status = excluded.status, content_type = excluded.content_type,"
	" headers_json = excluded.headers_json, body = excluded.body,"
	" created_at = excluded.created_at WHERE idempotency_keys.created_at <= ?9";
static const char SQL_EXPIRE[] =
	"DELETE FROM idempotency_keys WHERE id IN (SELECT id FROM idempotency_keys"
	" WHERE created_at <= ?1 ORDER BY created_at LIMIT ?2)";

void store_idem_release(struct store_idem *k)
{
	if (!k)
		return;
	free(k->content_type);
	free(k->headers_json);
	free(k->body);
	memset(k, 0, sizeof(*k));
}

static int idem_get(struct store_conn *c, const char *token, const char *key, int64_t now,
		    struct store_idem *out)
{
	sqlite3_stmt *st;
	const void *fp;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!c || !(st = store_stmt(c, SQL_GET)))
		return RC_IO;
	store_bind_text(st, 1, token);
	store_bind_text(st, 2, key);
	sqlite3_bind_int64(st, 3, now - STORE_IDEMPOTENCY_TTL);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? RC_NOTFOUND : store_sqlite_rc(c, rc);
		goto out;
	}
	fp = sqlite3_column_blob(st, 0);
	if (fp && sqlite3_column_bytes(st, 0) == (int)sizeof(out->fingerprint))
		memcpy(out->fingerprint, fp, sizeof(out->fingerprint));
	out->status = sqlite3_column_int(st, 1);
	out->content_type = store_col_strdup(st, 2);
	out->headers_json = store_col_strdup(st, 3);
	/* The body is a BLOB of the answer's bytes; a copy with a NUL after them. */
	out->body_len = (size_t)sqlite3_column_bytes(st, 4);
	out->body = malloc(out->body_len + 1);
	if (out->body) {
		if (out->body_len)
			memcpy(out->body, sqlite3_column_blob(st, 4), out->body_len);
		out->body[out->body_len] = '\0';
	}
	out->created_at = sqlite3_column_int64(st, 5);
	rc = out->headers_json && out->body ? RC_OK : RC_NOMEM;
	if (rc)
		store_idem_release(out);
out:
	sqlite3_reset(st);
	return rc;
}

int store_idem_get(struct store *s, const char *token, const char *key, int64_t now,
		   struct store_idem *out)
{
	return idem_get(store_reader(s), token, key, now, out);
}

int store_tx_idem_get(struct store_tx *tx, const char *token, const char *key,
		      struct store_idem *out)
{
	return idem_get(tx->conn, token, key, tx->now_unix, out);
}

int store_tx_idem_put(struct store_tx *tx, const char *token, const char *key,
		      const struct store_idem *k)
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st = store_stmt(c, SQL_PUT);
	int rc;

	if (!st)
		return RC_IO;
	store_bind_text(st, 1, token);
	store_bind_text(st, 2, key);
	sqlite3_bind_blob(st, 3, k->fingerprint, sizeof(k->fingerprint), SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, k->status);
	store_bind_text(st, 5, k->content_type);
	store_bind_text(st, 6, k->headers_json ? k->headers_json : "[]");
	sqlite3_bind_blob(st, 7, k->body ? k->body : "", (int)k->body_len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 8, tx->now_unix);
	sqlite3_bind_int64(st, 9, tx->now_unix - STORE_IDEMPOTENCY_TTL);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_rc(c, rc);
	/* No row changed: a live answer of this key is there already. */
	return sqlite3_changes(c->db) ? RC_OK : RC_CONFLICT;
}

/* Deletes one batch; runs on the writer's connection inside a job. */
int store_tx_idem_expire(struct store_tx *tx, int64_t now, int limit, int *deleted)
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st = store_stmt(c, SQL_EXPIRE);
	int rc;

	*deleted = 0;
	if (!st)
		return RC_IO;
	sqlite3_bind_int64(st, 1, now - STORE_IDEMPOTENCY_TTL);
	sqlite3_bind_int(st, 2, limit);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_rc(c, rc);
	*deleted = sqlite3_changes(c->db);
	return RC_OK;
}

struct expire_job {
	int64_t now;
	int limit;
	int deleted;
};

static int expire_job(struct store_tx *tx, void *arg)
{
	struct expire_job *j = arg;

	return store_tx_idem_expire(tx, j->now, j->limit, &j->deleted);
}

int store_idem_expire(struct store *s, int64_t now, int limit, int *deleted)
{
	struct expire_job j = { now, limit, 0 };
	int rc = store_write(s, expire_job, &j);

	*deleted = j.deleted;
	return rc;
}
