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
	"INSERT INTO tokens (name, hash, created_at) VALUES ($1, $2, $3)";
static const char SQL_TOKEN_EXISTS[] = "SELECT 1 FROM tokens WHERE name = $1";
static const char SQL_TOKEN_REVOKE[] =
	"UPDATE tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL";
/* Within one second the time is already right: no page needs writing. */
static const char SQL_TOKEN_TOUCH[] =
	"UPDATE tokens SET last_used_at = $2 WHERE name = $1 AND last_used_at IS DISTINCT FROM $2";
/* PostgreSQL: a token's row that another instance's batch holds is left to it (it writes the
 * same second): waiting for it inside a batch that holds a role's row, while that batch waits
 * for the role, is a deadlock between instances (seen under load, 40P01). */
static const char SQL_TOKEN_TOUCH_PG[] =
	"UPDATE tokens SET last_used_at = $2 WHERE name = (SELECT name FROM tokens WHERE name = $1 "
	"AND last_used_at IS DISTINCT FROM $2 FOR UPDATE SKIP LOCKED)";
static const char SQL_TOKEN_LIST[] =
	"SELECT name, created_at, last_used_at, revoked_at FROM tokens ORDER BY name";
static const char SQL_TOKEN_LIVE[] = "SELECT name, hash FROM tokens WHERE revoked_at IS NULL";
static const char SQL_TOKEN_LAST_USED[] = "SELECT last_used_at FROM tokens WHERE name = $1";

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

/* RC_OK if a token of that name exists (revoked or not), RC_NOTFOUND if none. */
static enum rc token_exists(struct db_conn *c, const char *name)
{
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(c, SQL_TOKEN_EXISTS, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	return db_one(st, NULL, NULL);
}

int store_tx_token_create(struct store_tx *tx, const char *name, const unsigned char hash[32])
{
	struct db_conn *c = tx->conn->dc;
	struct db_stmt *st;
	enum rc rc;

	rc = token_exists(c, name);
	if (rc == RC_OK)
		return RC_CONFLICT;
	if (rc != RC_NOTFOUND)
		return rc;
	rc = db_prepare(c, SQL_TOKEN_INSERT, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	db_bind_blob(st, 2, hash, CRYPTO_SHA256_LEN);
	db_bind_text(st, 3, tx->now);
	rc = db_exec(st);
	if (rc)
		return rc;
	tx->changed = 1;
	return RC_OK;
}

/* changes_data: whether the update is one that cached answers could show (a revocation is;
 * last_used_at is shown by no answer, and must not make the server drop its caches). */
static enum rc token_update(struct store_tx *tx, const char *sql, const char *name,
			    int changes_data)
{
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(tx->conn->dc, sql, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, tx->now);
	rc = db_exec(st);
	if (rc)
		return rc;
	if (db_changes(st) == 0)
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
	enum rc rc = token_update(tx, db_sql(tx->conn->dc, SQL_TOKEN_TOUCH, SQL_TOKEN_TOUCH_PG),
				  name, 0);

	if (rc != RC_NOTFOUND)
		return rc;
	/* Nothing changed: touched this second already (here or by another instance), or no
	 * such token. */
	return token_exists(tx->conn->dc, name);
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

struct same_second {
	const char *now;
	int same;
};

static enum rc last_used_row(void *ctx, struct db_stmt *st)
{
	struct same_second *ss = ctx;
	const char *t = db_col_text(st, 0, NULL);

	ss->same = t && !strcmp(t, ss->now);
	return RC_OK;
}

void store_token_used(struct store *s, const char *name)
{
	struct store_conn *c = store_reader(s);
	struct db_stmt *st;
	char now[CLOCK_ISO_LEN], *copy;
	struct same_second ss = { now, 0 };

	if (!c || db_prepare(c->dc, SQL_TOKEN_LAST_USED, &st))
		return;
	clock_iso_now(now);
	db_bind_text(st, 1, name);
	if (db_one(st, last_used_row, &ss) != RC_OK)
		ss.same = 0;
	/* At most one write a second per token, whatever the request rate. */
	if (ss.same || !(copy = strdup(name)))
		return;
	if (store_write_async(s, touch_job, copy, touch_done))
		free(copy);
}

struct token_list {
	int (*row)(void *ctx, const struct store_token *t);
	void *ctx;
};

static enum rc token_list_row(void *ctx, struct db_stmt *st)
{
	struct token_list *tl = ctx;
	struct store_token t = { 0 };
	int stop;

	if (db_col_strdup(st, 0, &t.name) || db_col_strdup(st, 1, &t.created_at) ||
	    db_col_strdup(st, 2, &t.last_used_at) || db_col_strdup(st, 3, &t.revoked_at) ||
	    !t.name || !t.created_at) {
		store_token_release(&t);
		return RC_NOMEM;
	}
	stop = tl->row(tl->ctx, &t);
	store_token_release(&t);
	return stop ? RC_STOP : RC_OK;
}

int store_tokens_list(struct store *s, int (*row)(void *ctx, const struct store_token *t), void *ctx)
{
	struct store_conn *c = store_reader(s);
	struct token_list tl = { row, ctx };
	struct db_stmt *st;
	enum rc rc;

	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, SQL_TOKEN_LIST, &st);
	if (rc)
		return rc;
	return db_each(st, token_list_row, &tl);
}

struct token_match {
	const unsigned char *hash;
	char *found;
};

/* Every live token is compared, not just up to the first match. */
static enum rc token_live_row(void *ctx, struct db_stmt *st)
{
	struct token_match *m = ctx;
	const void *h;
	size_t len;

	h = db_col_blob(st, 1, &len);
	if (!h || len != CRYPTO_SHA256_LEN)
		return RC_OK;
	if (crypto_equal(h, m->hash, CRYPTO_SHA256_LEN) && !m->found)
		return db_col_strdup(st, 0, &m->found);
	return RC_OK;
}

int store_token_check(struct store *s, const unsigned char hash[32], char **name)
{
	struct store_conn *c = store_reader(s);
	struct token_match m = { hash, NULL };
	struct db_stmt *st;
	enum rc rc;

	*name = NULL;
	if (!c)
		return RC_IO;
	rc = db_prepare(c->dc, SQL_TOKEN_LIVE, &st);
	if (rc)
		return rc;
	rc = db_each(st, token_live_row, &m);
	if (!rc && !m.found)
		rc = RC_UNAUTHORIZED;
	if (rc)
		free(m.found);
	else
		*name = m.found;
	return rc;
}
