/*
 * tokens.c: API tokens. Only a token's SHA-256 is ever stored; the token itself is shown once
 * by `aijri token create` and never again. A check compares against every live hash in
 * constant time, so how long it takes says nothing about how close a guess was.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/crypto.h"

static const char SQL_TOKEN_INSERT[] =
	"INSERT INTO tokens (name, hash, created_at) VALUES (?1, ?2, ?3)";
static const char SQL_TOKEN_EXISTS[] = "SELECT 1 FROM tokens WHERE name = ?1";
static const char SQL_TOKEN_REVOKE[] =
	"UPDATE tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL";
/* Within one second the time is already right: no page needs writing. */
static const char SQL_TOKEN_TOUCH[] =
	"UPDATE tokens SET last_used_at = ?2 WHERE name = ?1 AND last_used_at IS NOT ?2";
static const char SQL_TOKEN_LIST[] =
	"SELECT name, created_at, last_used_at, revoked_at FROM tokens ORDER BY name";
static const char SQL_TOKEN_LIVE[] = "SELECT name, hash FROM tokens WHERE revoked_at IS NULL";
static const char SQL_TOKEN_LAST_USED[] = "SELECT last_used_at FROM tokens WHERE name = ?1";

void store_token_release(struct store_token *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->created_at);
	free(t->last_used_at);
	free(t->revoked_at);
	memset(t, 0, sizeof(*t));
}

int store_tx_token_create(struct store_tx *tx, const char *name, const unsigned char hash[32])
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(c, SQL_TOKEN_EXISTS);
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return RC_CONFLICT;
	if (rc != SQLITE_DONE)
		return store_sqlite_rc(c, rc);
	st = store_stmt(c, SQL_TOKEN_INSERT);
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, name);
	sqlite3_bind_blob(st, 2, hash, CRYPTO_SHA256_LEN, SQLITE_TRANSIENT);
	store_bind_text(st, 3, tx->now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_rc(c, rc);
	tx->changed = 1;
	return RC_OK;
}

/* changes_data: whether the update is one that cached answers could show (a revocation is;
 * last_used_at is shown by no answer, and must not make the server drop its caches). */
static int token_update(struct store_tx *tx, const char *sql, const char *name, int changes_data)
{
	struct store_conn *c = tx->conn;
	sqlite3_stmt *st = store_stmt(c, sql);
	int rc;

	if (!st)
		return RC_IO;
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, tx->now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_rc(c, rc);
	if (sqlite3_changes(c->db) == 0)
		return RC_NOTFOUND;
	if (changes_data)
		tx->changed = 1;
	return RC_OK;
}

int store_tx_token_revoke(struct store_tx *tx, const char *name)
{
	return token_update(tx, SQL_TOKEN_REVOKE, name, 1);
}

int store_tx_token_touch(struct store_tx *tx, const char *name)
{
	sqlite3_stmt *st;
	int rc = token_update(tx, SQL_TOKEN_TOUCH, name, 0);

	if (rc != RC_NOTFOUND)
		return rc;
	/* Nothing changed: touched this second already, or no such token. */
	st = store_stmt(tx->conn, "SELECT 1 FROM tokens WHERE name = ?1");
	if (!st)
		return RC_IO;
	store_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? RC_OK : rc == SQLITE_DONE ? RC_NOTFOUND : store_sqlite_rc(tx->conn, rc);
}

static int touch_job(struct store_tx *tx, void *arg)
{
	return store_tx_token_touch(tx, arg);
}

static void touch_done(void *arg, int rc)
{
	(void)rc;
	free(arg);
}

void store_token_used(struct store *s, const char *name)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st;
	char now[CLOCK_ISO_LEN], *copy;
	int same = 0;

	if (!c || !(st = store_stmt(c, SQL_TOKEN_LAST_USED)))
		return;
	clock_iso_now(now);
	store_bind_text(st, 1, name);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		same = t && !strcmp((const char *)t, now);
	}
	sqlite3_reset(st);
	/* At most one write a second per token, whatever the request rate. */
	if (same || !(copy = strdup(name)))
		return;
	if (store_write_async(s, touch_job, copy, touch_done))
		free(copy);
}

int store_tokens_list(struct store *s, int (*row)(void *ctx, const struct store_token *t), void *ctx)
{
	struct store_conn *c = store_reader(s);
	struct store_token t;
	sqlite3_stmt *st;
	int rc;

	if (!c || !(st = store_stmt(c, SQL_TOKEN_LIST)))
		return RC_IO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		t.name = store_col_strdup(st, 0);
		t.created_at = store_col_strdup(st, 1);
		t.last_used_at = store_col_strdup(st, 2);
		t.revoked_at = store_col_strdup(st, 3);
		if (!t.name || !t.created_at) {
			store_token_release(&t);
			rc = RC_NOMEM;
			goto out;
		}
		rc = row(ctx, &t);
		store_token_release(&t);
		if (rc) {
			rc = RC_OK;
			goto out;
		}
	}
	rc = rc == SQLITE_DONE ? RC_OK : store_sqlite_rc(c, rc);
out:
	sqlite3_reset(st);
	return rc;
}

int store_token_check(struct store *s, const unsigned char hash[32], char **name)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st;
	char *found = NULL;
	int rc;

	*name = NULL;
	if (!c || !(st = store_stmt(c, SQL_TOKEN_LIVE)))
		return RC_IO;
	/* Every live token is compared, not just up to the first match. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != CRYPTO_SHA256_LEN)
			continue;
		if (crypto_equal(sqlite3_column_blob(st, 1), hash, CRYPTO_SHA256_LEN) && !found) {
			found = store_col_strdup(st, 0);
			if (!found) {
				rc = RC_NOMEM;
				goto out;
			}
		}
	}
	if (rc != SQLITE_DONE) {
		rc = store_sqlite_rc(c, rc);
		goto out;
	}
	rc = found ? RC_OK : RC_UNAUTHORIZED;
out:
	sqlite3_reset(st);
	if (rc)
		free(found);
	else
		*name = found;
	return rc;
}
