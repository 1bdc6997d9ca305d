/*
 * db_tx.c: the database layer's transactions and savepoints, the schema version, the
 * notifications between instances and the engine's housekeeping (db.h): checks of the
 * caller's names and state, then the engine's own function. Built on db.c's statements.
 */
#include <string.h>

#include "store/db_int.h"

/* pg_notify's payload must be shorter than 8000 bytes. */
#define DB_PAYLOAD_MAX 7999

/* ---------------------------------------------------------------------------------------
 * Transactions
 */

enum rc db_begin(struct db_conn *c, enum db_tx_kind kind)
{
	enum rc rc;

	db_check_owner(c);
	c->errmsg[0] = '\0';
	if (c->db->eng->in_tx(c)) {
		DB_ERR(c, "a transaction is open already");
		rc = RC_INVALID;
	} else {
		rc = c->db->eng->begin(c, kind);
	}
	if (rc && rc != RC_BUSY && rc != RC_UNAVAILABLE)
		db_log_failure(c, "begin", rc);
	return rc;
}

enum rc db_commit(struct db_conn *c)
{
	enum rc rc;

	db_check_owner(c);
	c->errmsg[0] = '\0';
	rc = c->db->eng->commit(c);
	if (rc && rc != RC_BUSY && rc != RC_UNAVAILABLE)
		db_log_failure(c, "commit", rc);
	return rc;
}

enum rc db_rollback(struct db_conn *c)
{
	db_check_owner(c);
	return c->db->eng->rollback(c);
}

int db_in_tx(const struct db_conn *c)
{
	return c->db->eng->in_tx(c);
}

/* Savepoint and channel names go into SQL text: lower-case identifiers only. */
static int name_ok(const char *s)
{
	size_t i;

	if (!s || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (i = 0; s[i]; i++) {
		if (i >= 63)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	}
	return 1;
}

/* SAVEPOINT, RELEASE SAVEPOINT, ROLLBACK TO SAVEPOINT: the same text on both engines,
 * prepared once per name and kept in the cache like any statement. */
static enum rc savepoint_sql(struct db_conn *c, const char *verb, const char *name)
{
	struct db_stmt *st;
	char sql[128];
	enum rc rc;

	if (!name_ok(name)) {
		DB_ERR(c, "bad savepoint name");
		rc = RC_INVALID;
		goto out;
	}
	if (!db_in_tx(c)) {
		DB_ERR(c, "%s outside a transaction", verb);
		rc = RC_INVALID;
		goto out;
	}
	snprintf(sql, sizeof(sql), "%s %s", verb, name);
	rc = db_prepare(c, sql, &st);
	if (!rc)
		rc = db_exec(st);
	return rc;
out:
	db_log_failure(c, verb, rc);
	return rc;
}

enum rc db_savepoint(struct db_conn *c, const char *name)
{
	return savepoint_sql(c, "SAVEPOINT", name);
}

enum rc db_release(struct db_conn *c, const char *name)
{
	return savepoint_sql(c, "RELEASE SAVEPOINT", name);
}

enum rc db_rollback_to(struct db_conn *c, const char *name)
{
	return savepoint_sql(c, "ROLLBACK TO SAVEPOINT", name);
}

enum rc db_lock(struct db_conn *c, int64_t key)
{
	struct db_stmt *st;
	enum rc rc;

	if (!db_in_tx(c)) {
		DB_ERR(c, "db_lock outside a transaction");
		db_log_failure(c, "lock", RC_INVALID);
		return RC_INVALID;
	}
	if (!c->db->eng->sql_lock)
		return RC_OK;
	rc = db_prepare(c, c->db->eng->sql_lock, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, key);
	return db_exec(st);
}

/* ---------------------------------------------------------------------------------------
 * The schema version
 */

enum rc db_version_get(struct db_conn *c, int *out)
{
	enum rc rc;

	db_check_owner(c);
	c->errmsg[0] = '\0';
	*out = 0;
	rc = c->db->eng->version_get(c, out);
	if (rc)
		db_log_failure(c, "schema version", rc);
	return rc;
}

enum rc db_version_set(struct db_conn *c, int v)
{
	enum rc rc = RC_INVALID;

	db_check_owner(c);
	c->errmsg[0] = '\0';
	if (c->kind != DB_WRITE || !db_in_tx(c) || v < 0)
		DB_ERR(c, "the schema version is set inside a write transaction, to 0 or more");
	else
		rc = c->db->eng->version_set(c, v);
	if (rc)
		db_log_failure(c, "set schema version", rc);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * Notifications
 */

enum rc db_notify(struct db_conn *c, const char *channel, const char *payload)
{
	struct db_stmt *st;
	enum rc rc;

	db_check_owner(c);
	if (!name_ok(channel)) {
		DB_ERR(c, "bad channel name");
		db_log_failure(c, "notify", RC_INVALID);
		return RC_INVALID;
	}
	if (payload && strlen(payload) > DB_PAYLOAD_MAX) {
		DB_ERR(c, "notification payload over %d bytes", DB_PAYLOAD_MAX);
		return RC_TOOLARGE;
	}
	if (!c->db->eng->sql_notify)
		return RC_OK;
	rc = db_prepare(c, c->db->eng->sql_notify, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, channel);
	db_bind_text(st, 2, payload ? payload : "");
	return db_exec(st);
}

enum rc db_listen(struct db_conn *c, const char *channel)
{
	db_check_owner(c);
	if (!name_ok(channel)) {
		DB_ERR(c, "bad channel name");
		db_log_failure(c, "listen", RC_INVALID);
		return RC_INVALID;
	}
	return c->db->eng->listen(c, channel);
}

int db_conn_fd(struct db_conn *c)
{
	return c->db->eng->fd(c);
}

enum rc db_notifications(struct db_conn *c, db_notice_fn fn, void *ctx)
{
	db_check_owner(c);
	return c->db->eng->drain(c, fn, ctx);
}

/* ---------------------------------------------------------------------------------------
 * Housekeeping
 */

enum rc db_storage_init(struct db_conn *c)
{
	enum rc rc;

	db_check_owner(c);
	rc = c->db->eng->storage_init(c);
	if (rc)
		db_log_failure(c, "storage init", rc);
	return rc;
}

enum rc db_checkpoint(struct db_conn *c)
{
	enum rc rc;

	db_check_owner(c);
	rc = c->db->eng->checkpoint(c);
	if (rc && rc != RC_BUSY)
		db_log_failure(c, "checkpoint", rc);
	return rc;
}

enum rc db_backup(struct db *db, const char *dest, char *err, size_t errlen)
{
	return db->eng->backup(db, dest, err, errlen);
}
