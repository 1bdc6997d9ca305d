/*
 * idempotency.c: the stored first answers of writes sent with an Idempotency-Key (table
 * idempotency_keys, 0005_analysis.sql), keyed by (token, key). An answer is written in the
 * transaction of the write it answers, so the two are durable together or not at all; it is
 * replayed for STORE_IDEMPOTENCY_TTL seconds and deleted after, in bounded batches, by the
 * writer in the background (store_tx_idem_cleanup, its hook).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/crypto.h"

static const char SQL_GET[] =
	"SELECT fingerprint, status, content_type, headers_json, body, created_at"
	" FROM idempotency_keys WHERE token = $1 AND idem_key = $2 AND created_at > $3";
static const char SQL_PUT[] =
	"INSERT INTO idempotency_keys (token, idem_key, fingerprint, status, content_type,"
	" headers_json, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
	" ON CONFLICT (token, idem_key) DO UPDATE SET fingerprint = excluded.fingerprint,"
	" status = excluded.status, content_type = excluded.content_type,"
	" headers_json = excluded.headers_json, body = excluded.body,"
	" created_at = excluded.created_at WHERE idempotency_keys.created_at <= $9";
static const char SQL_EXPIRE[] =
	"DELETE FROM idempotency_keys WHERE id IN (SELECT id FROM idempotency_keys"
	" WHERE created_at <= $1 ORDER BY created_at LIMIT $2)";

void store_idem_release(struct store_idem *k)
{
	if (!k)
		return;
	free(k->content_type);
	free(k->headers_json);
	free(k->body);
	memset(k, 0, sizeof(*k));
}

static enum rc idem_row(void *ctx, struct db_stmt *st)
{
	struct store_idem *out = ctx;
	const void *fp, *body;
	size_t n;

	fp = db_col_blob(st, 0, &n);
	if (fp && n == sizeof(out->fingerprint))
		memcpy(out->fingerprint, fp, sizeof(out->fingerprint));
	out->status = (int)db_col_int64(st, 1);
	if (db_col_strdup(st, 2, &out->content_type) || db_col_strdup(st, 3, &out->headers_json))
		return RC_NOMEM;
	/* The body is a BLOB of the answer's bytes; a copy with a NUL after them. */
	body = db_col_blob(st, 4, &n);
	out->body_len = n;
	out->body = malloc(n + 1);
	if (!out->body)
		return RC_NOMEM;
	if (n)
		memcpy(out->body, body, n);
	out->body[n] = '\0';
	out->created_at = db_col_int64(st, 5);
	return out->headers_json ? RC_OK : RC_NOMEM;
}

static int idem_get(struct store_conn *c, const char *token, const char *key, int64_t now,
		    struct store_idem *out)
{
	struct db_stmt *st;
	enum rc rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, SQL_GET, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, token);
	db_bind_text(st, 2, key);
	db_bind_int64(st, 3, now - STORE_IDEMPOTENCY_TTL);
	rc = db_one(st, idem_row, out);
	if (rc)
		store_idem_release(out);
	return rc;
}

int store_idem_get(struct store *s, const char *token, const char *key, int64_t now,
		   struct store_idem *out)
{
	return idem_get(store_reader(s), token, key, now, out);
}

/* The first 8 bytes of the SHA-256 of the token, a 0 byte and the key (each cut at 255
 * bytes): the lock's key. Two keys that share it only wait for each other. */
static int64_t idem_lock_key(const char *token, const char *key)
{
	unsigned char h[CRYPTO_SHA256_LEN];
	char in[512];
	uint64_t v = 0;
	int n, i;

	n = snprintf(in, sizeof(in), "%.255s%c%.255s", token, '\0', key);
	crypto_sha256(in, (size_t)n, h);
	for (i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return (int64_t)(v >> 1);
}

int store_tx_idem_get(struct store_tx *tx, const char *token, const char *key,
		      struct store_idem *out)
{
	enum rc rc;

	/* Instances on one PostgreSQL database: a request with the same key on another one waits
	 * here until this transaction ends, then finds its answer and replays it (SQLite's one
	 * writer has waited already). */
	rc = db_lock(tx->conn->dc, idem_lock_key(token, key));
	if (rc)
		return rc;
	return idem_get(tx->conn, token, key, tx->now_unix, out);
}

int store_tx_idem_put(struct store_tx *tx, const char *token, const char *key,
		      const struct store_idem *k)
{
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(tx->conn->dc, SQL_PUT, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, token);
	db_bind_text(st, 2, key);
	db_bind_blob(st, 3, k->fingerprint, sizeof(k->fingerprint));
	db_bind_int64(st, 4, k->status);
	db_bind_text(st, 5, k->content_type);
	db_bind_text(st, 6, k->headers_json ? k->headers_json : "[]");
	db_bind_blob(st, 7, k->body ? k->body : "", k->body_len);
	db_bind_int64(st, 8, tx->now_unix);
	db_bind_int64(st, 9, tx->now_unix - STORE_IDEMPOTENCY_TTL);
	rc = db_exec(st);
	if (rc)
		return rc;
	/* No row changed: a live answer of this key is there already. */
	return db_changes(st) ? RC_OK : RC_CONFLICT;
}

/* The writer's background clean-up deletes at most this many answers at a time (one short
 * transaction). */
#define IDEM_CLEANUP_BATCH 500

/* Deletes at most limit answers made before now - STORE_IDEMPOTENCY_TTL; runs on the
 * writer's connection inside a job. */
static int idem_expire(struct store_tx *tx, int64_t now, int limit, int *deleted)
{
	struct db_stmt *st;
	enum rc rc;

	*deleted = 0;
	rc = db_prepare(tx->conn->dc, SQL_EXPIRE, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, now - STORE_IDEMPOTENCY_TTL);
	db_bind_int64(st, 2, limit);
	rc = db_exec(st);
	if (rc)
		return rc;
	*deleted = (int)db_changes(st);
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

	return idem_expire(tx, j->now, j->limit, &j->deleted);
}

int store_idem_expire(struct store *s, int64_t now, int limit, int *deleted)
{
	struct expire_job j = { now, limit, 0 };
	int rc = store_write(s, expire_job, &j);

	*deleted = j.deleted;
	return rc;
}

int store_tx_idem_cleanup(struct store_tx *tx, int *more)
{
	int deleted = 0, rc;

	rc = idem_expire(tx, tx->now_unix, IDEM_CLEANUP_BATCH, &deleted);
	*more = !rc && deleted == IDEM_CLEANUP_BATCH;
	return rc;
}
