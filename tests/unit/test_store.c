/*
 * test_store.c: the store against real SQLite files in a temporary directory: migrations,
 * the refusal of a newer database, revisions, job rollback and group commit, aliases, the
 * list, tokens, concurrent writers and an online backup.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "tests/unit/harness.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/crypto.h"

static char tmpdir[64];
static int dbseq;

/* A new database path in the test's directory. */
static void new_path(char *out, size_t n)
{
	snprintf(out, n, "%s/db%d.sqlite", tmpdir, ++dbseq);
}

static struct store *open_new(char *path, size_t n)
{
	struct store *s = NULL;
	char err[256];
	int rc;

	new_path(path, n);
	rc = store_open(path, &s, err, sizeof(err));
	CHECK(rc == 0, "store_open %s: %s", path, err);
	return s;
}

static char *file_bytes(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT(1 << 26);
	char chunk[4096];
	size_t n;

	*len = 0;
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_put(&b, chunk, n);
	fclose(f);
	if (buf_err(&b)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, len);
}

/* Every row of every table (or only the schema and user_version), as text. */
static char *dump(const char *path, int schema_only)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *t = NULL, *st = NULL;
	struct buf b = BUF_INIT(1 << 26);
	char sql[256];
	int i;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		buf_putf(&b, "user_version=%d\n", sqlite3_column_int(st, 0));
	sqlite3_finalize(st);
	st = NULL;
	sqlite3_prepare_v2(db, "SELECT type, name, sql FROM sqlite_master ORDER BY name", -1, &t,
			   NULL);
	while (t && sqlite3_step(t) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(t, 0);
		const char *name = (const char *)sqlite3_column_text(t, 1);
		const char *def = (const char *)sqlite3_column_text(t, 2);
		buf_putf(&b, "%s %s %s\n", type, name, def ? def : "");
		if (schema_only || strcmp(type, "table") || !strncmp(name, "sqlite_", 7))
			continue;
		snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" ORDER BY 1, 2", name);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			continue;
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (i = 0; i < sqlite3_column_count(st); i++) {
				const unsigned char *v = sqlite3_column_text(st, i);
				buf_putf(&b, "%s|", v ? (const char *)v : "NULL");
			}
			buf_putc(&b, '\n');
		}
		sqlite3_finalize(st);
		st = NULL;
	}
out:
	sqlite3_finalize(t);
	sqlite3_close(db);
	if (buf_err(&b)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* ---------------------------------------------------------------------------------------
 * Role writes as jobs
 */

struct role_arg {
	const char *slug;
	const char *title;
	int revision; /* 0: the current revision + 1, read inside the job */
	double score;
	const char *zone;
	const char *alias_slugs[4];
	const char *alias_names[4];
	int n_aliases;
	int create;
	int fail_after; /* write, then return RC_INVALID */
	char role_json[256];
	char score_json[256];
	int written; /* the revision the job wrote */
};

static int role_job(struct store_tx *tx, void *p)
{
	struct role_arg *a = p;
	struct store_role_write w;
	struct store_role cur;
	int rc;

	memset(&w, 0, sizeof(w));
	w.revision = a->revision;
	if (a->create) {
		w.revision = 1;
	} else if (!w.revision) {
		rc = store_tx_role_get(tx, a->slug, &cur);
		if (rc)
			return rc;
		w.revision = cur.revision + 1;
		store_role_release(&cur);
	}
	snprintf(a->role_json, sizeof(a->role_json),
		 "{\"slug\":\"%s\",\"title\":\"%s\",\"category\":\"Test\",\"n\":%d}", a->slug,
		 a->title, w.revision);
	snprintf(a->score_json, sizeof(a->score_json), "{\"revision\":%d,\"score\":%.1f,\"at\":\"%s\"}",
		 w.revision, a->score, store_tx_now(tx));
	w.slug = a->slug;
	w.title = a->title;
	w.role_json = a->role_json;
	w.score_json = a->score_json;
	w.score = a->score;
	w.zone = a->zone ? a->zone : "yellow";
	w.label = "Label";
	w.alias_slugs = a->alias_slugs;
	w.alias_names = a->alias_names;
	w.n_aliases = a->n_aliases;
	w.reason = "because";
	w.changed_json = "[\"evidence.wage_trends\"]";
	w.actor = "tester";
	rc = a->create ? store_tx_role_create(tx, &w) : store_tx_role_update(tx, &w);
	if (rc)
		return rc;
	a->written = w.revision;
	return a->fail_after ? RC_INVALID : 0;
}

static int write_role(struct store *s, const char *slug, const char *title, double score,
		      const char *zone, int create)
{
	struct role_arg a;

	memset(&a, 0, sizeof(a));
	a.slug = slug;
	a.title = title;
	a.score = score;
	a.zone = zone;
	a.create = create;
	return store_write(s, role_job, &a);
}

/* ---------------------------------------------------------------------------------------
 * Tests
 */

static void test_migrations(void)
{
	char path[256], err[256];
	struct store *s;
	char *a, *b;

	s = open_new(path, sizeof(path));
	if (!s)
		return;
	CHECK(store_schema_latest() >= 1, "latest %d", store_schema_latest());
	CHECK_INT(store_schema_version(s), store_schema_latest());
	store_free(s);
	a = dump(path, 1);
	CHECK(a && strstr(a, "table roles") && strstr(a, "table revisions") &&
		      strstr(a, "table tokens") && strstr(a, "table aliases"),
	      "schema: %s", a ? a : "(null)");
	{
		char want[32];
		snprintf(want, sizeof(want), "user_version=%d\n", store_schema_latest());
		CHECK(a && !strncmp(a, want, strlen(want)), "dump starts %.20s", a ? a : "");
	}
	CHECK_INT(store_open(path, &s, err, sizeof(err)), 0);
	CHECK_INT(store_schema_version(s), store_schema_latest());
	store_free(s);
	b = dump(path, 1);
	CHECK(a && b && !strcmp(a, b), "re-opening changed the schema");
	free(a);
	free(b);
}

static void test_too_new(void)
{
	char path[256], err[256];
	struct store *s = NULL;
	sqlite3 *db;
	char *before, *after;
	size_t n1, n2;
	int rc;

	new_path(path, sizeof(path));
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_exec(db, "CREATE TABLE future (x); INSERT INTO future VALUES (42);"
			 "PRAGMA user_version = 999", NULL, NULL, NULL);
	sqlite3_close(db);
	before = file_bytes(path, &n1);
	err[0] = '\0';
	rc = store_open(path, &s, err, sizeof(err));
	CHECK_INT(rc, RC_TOONEW);
	CHECK(s == NULL, "a handle came back");
	CHECK(strstr(err, "999") && strstr(err, "newer"), "message: %s", err);
	after = file_bytes(path, &n2);
	CHECK(before && after && n1 == n2 && !memcmp(before, after, n1), "the file changed");
	free(before);
	free(after);

	/* The same with the newer schema still in its write-ahead log: closing must not
	 * checkpoint it into the file. */
	new_path(path, sizeof(path));
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE future (x);", NULL, NULL, NULL);
	sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint = 0;"
			 "INSERT INTO future VALUES (42); PRAGMA user_version = 999", NULL, NULL, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_close(db);
	before = file_bytes(path, &n1);
	rc = store_open(path, &s, err, sizeof(err));
	CHECK_INT(rc, RC_TOONEW);
	after = file_bytes(path, &n2);
	CHECK(before && after && n1 == n2 && !memcmp(before, after, n1),
	      "the file changed: its WAL was checkpointed");
	free(before);
	free(after);
}

struct rev_list {
	int revs[16];
	int n;
};

static int rev_row(void *ctx, const struct store_revision *r)
{
	struct rev_list *l = ctx;

	CHECK(r->role_json == NULL && r->score_json == NULL, "list carries bodies");
	if (l->n < 16)
		l->revs[l->n++] = r->revision;
	return 0;
}

static void test_revisions(void)
{
	char path[256], want[256];
	const char *wantp;
	struct store *s = open_new(path, sizeof(path));
	struct role_arg a;
	struct store_revision r;
	struct store_role role;
	struct rev_list l;
	int i, total = 0;

	if (!s)
		return;
	for (i = 1; i <= 5; i++) {
		memset(&a, 0, sizeof(a));
		a.slug = "edge";
		a.title = "Edge";
		a.score = 40 + i;
		a.create = i == 1;
		CHECK_INT(store_write(s, role_job, &a), 0);
		CHECK_INT(a.written, i);
	}
	memset(&l, 0, sizeof(l));
	CHECK_INT(store_revisions_list(s, "edge", 0, 0, rev_row, &l, &total), 0);
	CHECK_INT(total, 5);
	CHECK_INT(l.n, 5);
	for (i = 0; i < l.n; i++)
		CHECK_INT(l.revs[i], 5 - i);
	memset(&l, 0, sizeof(l));
	CHECK_INT(store_revisions_list(s, "edge", 2, 1, rev_row, &l, &total), 0);
	CHECK_INT(total, 5);
	CHECK(l.n == 2 && l.revs[0] == 4 && l.revs[1] == 3, "page: %d items", l.n);

	for (i = 1; i <= 5; i++) {
		CHECK_INT(store_revision_get(s, "edge", i, &r), 0);
		CHECK_INT(r.revision, i);
		snprintf(want, sizeof(want),
			 "{\"slug\":\"edge\",\"title\":\"Edge\",\"category\":\"Test\",\"n\":%d}", i);
		wantp = want;
		CHECK_STR(r.role_json, wantp);
		CHECK(r.score_json && strstr(r.score_json, "\"revision\":") &&
			      strtol(strstr(r.score_json, ":") + 1, NULL, 10) == i,
		      "score_json %s", r.score_json ? r.score_json : "(null)");
		CHECK_NEAR(r.score, 40 + i, 1e-9);
		CHECK_STR(r.reason, "because");
		CHECK_STR(r.actor, "tester");
		CHECK_STR(r.changed_json, "[\"evidence.wage_trends\"]");
		CHECK_STR(r.zone, "yellow");
		store_revision_release(&r);
	}
	CHECK_INT(store_revision_get(s, "edge", 6, &r), RC_NOTFOUND);
	CHECK_INT(store_revision_get(s, "nope", 1, &r), RC_NOTFOUND);
	CHECK_INT(store_revisions_list(s, "nope", 0, 0, rev_row, &l, &total), RC_NOTFOUND);
	CHECK_INT(store_role_get(s, "edge", &role), 0);
	CHECK_INT(role.revision, 5);
	CHECK_NEAR(role.score, 45, 1e-9);
	store_role_release(&role);
	store_free(s);

	/* The history is append-only even for a connection that tries to rewrite it. */
	{
		sqlite3 *db;
		CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
		CHECK(sqlite3_exec(db, "UPDATE revisions SET score = 0", NULL, NULL, NULL) != SQLITE_OK,
		      "revisions could be updated");
		CHECK(sqlite3_exec(db, "DELETE FROM revisions", NULL, NULL, NULL) != SQLITE_OK,
		      "revisions could be deleted");
		sqlite3_close(db);
	}
}

static void test_precondition(void)
{
	char path[256];
	struct store *s = open_new(path, sizeof(path));
	struct role_arg a;
	char *before, *after;

	if (!s)
		return;
	CHECK_INT(write_role(s, "r", "R", 50, "yellow", 1), 0);
	CHECK_INT(write_role(s, "r", "R", 50, "yellow", 1), RC_CONFLICT);
	before = dump(path, 0);
	memset(&a, 0, sizeof(a));
	a.slug = "r";
	a.title = "R";
	a.revision = 3;
	CHECK_INT(store_write(s, role_job, &a), RC_PRECONDITION);
	a.revision = 1;
	CHECK_INT(store_write(s, role_job, &a), RC_PRECONDITION);
	a.slug = "missing";
	a.revision = 2;
	CHECK_INT(store_write(s, role_job, &a), RC_NOTFOUND);
	after = dump(path, 0);
	CHECK(before && after && !strcmp(before, after), "a refused write changed the database");
	free(before);
	free(after);
	store_free(s);
}

/* Holds the writer in a job until the test has queued more jobs behind it. */
struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int entered, open, done, rcs[8];
};

static int gate_job(struct store_tx *tx, void *p)
{
	struct gate *g = p;

	(void)tx;
	pthread_mutex_lock(&g->mu);
	g->entered = 1;
	pthread_cond_broadcast(&g->cond);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->mu);
	pthread_mutex_unlock(&g->mu);
	return 0;
}

struct async_arg {
	struct gate *g;
	struct role_arg a;
	int idx;
};

static int async_job(struct store_tx *tx, void *p)
{
	struct async_arg *x = p;

	return role_job(tx, &x->a);
}

static void async_done(void *p, int rc)
{
	struct async_arg *x = p;

	pthread_mutex_lock(&x->g->mu);
	x->g->rcs[x->idx] = rc;
	x->g->done++;
	pthread_cond_broadcast(&x->g->cond);
	pthread_mutex_unlock(&x->g->mu);
}

static int commits;
static void on_commit(void *ctx)
{
	(void)ctx;
	__atomic_add_fetch(&commits, 1, __ATOMIC_SEQ_CST);
}

static void test_failing_job(void)
{
	char path[256];
	struct store *s = open_new(path, sizeof(path));
	struct role_arg a;
	struct gate g;
	struct async_arg x[4];
	struct store_role r;
	char *before, *after;
	int i, c0;

	if (!s)
		return;
	store_on_commit(s, on_commit, NULL);
	CHECK_INT(write_role(s, "base", "Base", 50, "yellow", 1), 0);
	CHECK(commits >= 1, "on_commit not called");

	/* Alone: a job that writes and then fails leaves nothing behind. */
	before = dump(path, 0);
	c0 = commits;
	memset(&a, 0, sizeof(a));
	a.slug = "ghost";
	a.title = "Ghost";
	a.create = 1;
	a.n_aliases = 1;
	a.alias_slugs[0] = "ghost-alias";
	a.alias_names[0] = "Ghost Alias";
	a.fail_after = 1;
	CHECK_INT(store_write(s, role_job, &a), RC_INVALID);
	memset(&a, 0, sizeof(a));
	a.slug = "base";
	a.title = "Base";
	a.fail_after = 1;
	CHECK_INT(store_write(s, role_job, &a), RC_INVALID);
	after = dump(path, 0);
	CHECK(before && after && !strcmp(before, after), "a failed job left rows:\n%s\n---\n%s",
	      before, after);
	CHECK_INT(commits, c0);
	free(before);
	free(after);

	/* In one batch: ok, failing, ok, and a job that builds on the first one's write. */
	memset(&g, 0, sizeof(g));
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cond, NULL);
	memset(x, 0, sizeof(x));
	CHECK_INT(store_write_async(s, gate_job, &g, NULL), 0);
	pthread_mutex_lock(&g.mu);
	while (!g.entered)
		pthread_cond_wait(&g.cond, &g.mu);
	pthread_mutex_unlock(&g.mu);
	for (i = 0; i < 4; i++) {
		x[i].g = &g;
		x[i].idx = i;
		x[i].a.title = "T";
		x[i].a.score = 30;
	}
	x[0].a.slug = "one";
	x[0].a.create = 1;
	x[1].a.slug = "two";
	x[1].a.create = 1;
	x[1].a.fail_after = 1;
	x[2].a.slug = "three";
	x[2].a.create = 1;
	x[3].a.slug = "one"; /* revision 2 of the role job 0 created, same transaction */
	for (i = 0; i < 4; i++)
		CHECK_INT(store_write_async(s, async_job, &x[i], async_done), 0);
	pthread_mutex_lock(&g.mu);
	g.open = 1;
	pthread_cond_broadcast(&g.cond);
	while (g.done < 4)
		pthread_cond_wait(&g.cond, &g.mu);
	pthread_mutex_unlock(&g.mu);
	CHECK_INT(g.rcs[0], 0);
	CHECK_INT(g.rcs[1], RC_INVALID);
	CHECK_INT(g.rcs[2], 0);
	CHECK_INT(g.rcs[3], 0);
	CHECK_INT(store_role_get(s, "one", &r), 0);
	CHECK_INT(r.revision, 2);
	store_role_release(&r);
	CHECK_INT(store_role_get(s, "two", &r), RC_NOTFOUND);
	CHECK_INT(store_role_get(s, "three", &r), 0);
	store_role_release(&r);
	pthread_mutex_destroy(&g.mu);
	pthread_cond_destroy(&g.cond);
	store_free(s);
}

static void test_aliases(void)
{
	char path[256];
	struct store *s = open_new(path, sizeof(path));
	struct role_arg a;
	char *to = NULL;

	if (!s)
		return;
	memset(&a, 0, sizeof(a));
	a.slug = "alpha";
	a.title = "Alpha";
	a.create = 1;
	a.n_aliases = 2;
	a.alias_slugs[0] = "alpha-one";
	a.alias_names[0] = "Alpha One";
	a.alias_slugs[1] = "alpha-two";
	a.alias_names[1] = "Alpha Two";
	CHECK_INT(store_write(s, role_job, &a), 0);
	CHECK_INT(store_alias_resolve(s, "alpha-one", &to), 0);
	CHECK_STR(to, "alpha");
	free(to);
	to = NULL;
	CHECK_INT(store_alias_resolve(s, "alpha", &to), RC_NOTFOUND);

	/* Another role may not take alpha's slug or aliases, in either role. */
	memset(&a, 0, sizeof(a));
	a.slug = "beta";
	a.title = "Beta";
	a.create = 1;
	a.n_aliases = 1;
	a.alias_slugs[0] = "alpha-two";
	a.alias_names[0] = "Alpha Two";
	CHECK_INT(store_write(s, role_job, &a), RC_CONFLICT);
	a.alias_slugs[0] = "alpha";
	CHECK_INT(store_write(s, role_job, &a), RC_CONFLICT);
	CHECK_INT(write_role(s, "alpha-one", "X", 10, "red", 1), RC_CONFLICT);
	a.alias_slugs[0] = "beta-one";
	a.alias_names[0] = "Beta One";
	CHECK_INT(store_write(s, role_job, &a), 0);

	/* alpha keeps one of its own aliases, drops the other, and cannot take beta's. */
	memset(&a, 0, sizeof(a));
	a.slug = "alpha";
	a.title = "Alpha";
	a.n_aliases = 2;
	a.alias_slugs[0] = "alpha-one";
	a.alias_names[0] = "Alpha One";
	a.alias_slugs[1] = "alpha-three";
	a.alias_names[1] = "Alpha Three";
	CHECK_INT(store_write(s, role_job, &a), 0);
	CHECK_INT(store_alias_resolve(s, "alpha-two", &to), RC_NOTFOUND);
	CHECK_INT(store_alias_resolve(s, "alpha-three", &to), 0);
	CHECK_STR(to, "alpha");
	free(to);
	to = NULL;
	a.alias_slugs[1] = "beta-one";
	CHECK_INT(store_write(s, role_job, &a), RC_CONFLICT);
	a.alias_slugs[1] = "beta";
	CHECK_INT(store_write(s, role_job, &a), RC_CONFLICT);
	CHECK_INT(store_alias_resolve(s, "alpha-three", &to), 0);
	free(to);
	store_free(s);
}

struct slugs {
	char list[2048];
};

static void add_slug(struct slugs *l, const struct store_role *r)
{
	size_t n = strlen(l->list);

	snprintf(l->list + n, sizeof(l->list) - n, "%s%s", n ? "," : "", r->slug);
}

static int slug_row(void *ctx, const struct store_role *r)
{
	CHECK(r->role_json == NULL, "list row carries role_json");
	CHECK(r->score_json == NULL, "list row carries score_json (lists are served from an index)");
	CHECK(r->title && r->label && r->updated_at, "list row has its summary columns");
	add_slug(ctx, r);
	return 0;
}

static int each_row(void *ctx, const struct store_role *r)
{
	CHECK(r->role_json && r->score_json, "each row lacks json");
	add_slug(ctx, r);
	return 0;
}

static const char *list(struct store *s, const struct store_role_query *q, int *total)
{
	static struct slugs l;

	memset(&l, 0, sizeof(l));
	*total = -1;
	CHECK_INT(store_roles_list(s, q, slug_row, &l, total), 0);
	return l.list;
}

static int archive_job(struct store_tx *tx, void *p)
{
	return store_tx_role_archive(tx, p, "archiver");
}

static void test_list(void)
{
	char path[256];
	struct store *s = open_new(path, sizeof(path));
	struct store_role_query q;
	struct role_arg a;
	struct store_role r;
	struct slugs l;
	int total, count;

	if (!s)
		return;
	CHECK_INT(write_role(s, "cook", "Cook", 80, "green", 1), 0);
	CHECK_INT(write_role(s, "baker", "baker", 55.5, "yellow", 1), 0);
	CHECK_INT(write_role(s, "analyst", "Analyst", 20, "red", 1), 0);
	CHECK_INT(write_role(s, "dancer", "Dancer", 55.5, "yellow", 1), 0);
	CHECK_INT(write_role(s, "zz-analyst", "Analyst", 70, "green", 1), 0);
	memset(&a, 0, sizeof(a));
	a.slug = "edge";
	a.title = "Edge AI Engineer";
	a.score = 60;
	a.zone = "green";
	a.create = 1;
	a.n_aliases = 1;
	a.alias_slugs[0] = "tinyml-engineer";
	a.alias_names[0] = "TinyML Engineer";
	CHECK_INT(store_write(s, role_job, &a), 0);

	memset(&q, 0, sizeof(q));
	CHECK_STR(list(s, &q, &total), "analyst,zz-analyst,baker,cook,dancer,edge");
	CHECK_INT(total, 6);
	q.sort = STORE_SORT_SCORE;
	CHECK_STR(list(s, &q, &total), "analyst,baker,dancer,edge,zz-analyst,cook");
	q.sort = STORE_SORT_SCORE_DESC;
	CHECK_STR(list(s, &q, &total), "cook,zz-analyst,edge,baker,dancer,analyst");
	q.limit = 2;
	q.offset = 2;
	CHECK_STR(list(s, &q, &total), "edge,baker");
	CHECK_INT(total, 6);
	q.offset = 10;
	CHECK_STR(list(s, &q, &total), "");
	CHECK_INT(total, 6);

	memset(&q, 0, sizeof(q));
	q.q = "tinyML"; /* matches the alias name, not the title */
	CHECK_STR(list(s, &q, &total), "edge");
	CHECK_INT(total, 1);
	q.q = "ANALY";
	CHECK_STR(list(s, &q, &total), "analyst,zz-analyst");
	q.q = "%";
	CHECK_STR(list(s, &q, &total), "");
	q.q = NULL;
	q.zone = "yellow";
	CHECK_STR(list(s, &q, &total), "baker,dancer");
	q.zone = NULL;
	q.has_min = q.has_max = 1;
	q.min_score = 55.5;
	q.max_score = 70;
	CHECK_STR(list(s, &q, &total), "zz-analyst,baker,dancer,edge");
	CHECK_INT(total, 4);

	/* Archived: out of lists, kept for reads, once only. */
	CHECK_INT(store_write(s, archive_job, (void *)"baker"), 0);
	CHECK_INT(store_write(s, archive_job, (void *)"baker"), RC_NOTFOUND);
	CHECK_INT(store_write(s, archive_job, (void *)"nobody"), RC_NOTFOUND);
	CHECK_STR(list(s, &q, &total), "zz-analyst,dancer,edge");
	CHECK_INT(store_role_get(s, "baker", &r), 0);
	CHECK_INT(r.archived, 1);
	/* The archive is a revision of its own: who, when, and the body and score it ended on. */
	CHECK_INT(r.revision, 2);
	store_role_release(&r);
	{
		struct store_revision rev;

		CHECK_INT(store_revision_get(s, "baker", 2, &rev), 0);
		CHECK_STR(rev.actor, "archiver");
		CHECK_STR(rev.reason, "archived");
		CHECK_STR(rev.changed_json, "[\"archived\"]");
		CHECK_NEAR(rev.score, 55.5, 1e-9);
		CHECK(rev.role_json && strstr(rev.role_json, "\"slug\":\"baker\""), "archive body");
		store_revision_release(&rev);
	}
	CHECK_INT(store_role_count_all(s, &count), 0);
	CHECK_INT(count, 6);
	CHECK_INT(write_role(s, "baker", "Baker", 1, "red", 1), RC_CONFLICT);
	memset(&l, 0, sizeof(l));
	CHECK_INT(store_roles_each(s, each_row, &l), 0);
	CHECK_STR(l.list, "analyst,cook,dancer,edge,zz-analyst");
	store_free(s);
}

/* The oracle for the lists: the SQL they were once served by, on a connection of its own. */
static const char *oracle(const char *path, const struct store_role_query *q, int *total)
{
	static const char *const orders[] = { "title COLLATE NOCASE, slug", "score, slug",
					      "score DESC, slug" };
	static struct slugs l;
	char sql[1024];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int n = 0, at = 0;

	memset(&l, 0, sizeof(l));
	snprintf(sql, sizeof(sql),
		 "SELECT slug FROM roles r WHERE archived = 0 AND (?1 IS NULL OR"
		 " instr(lower(title), lower(?1)) > 0 OR EXISTS (SELECT 1 FROM aliases a WHERE"
		 " a.role_id = r.id AND instr(lower(a.name), lower(?1)) > 0)) AND (?2 IS NULL OR"
		 " zone = ?2) AND (?3 IS NULL OR score >= ?3) ORDER BY %s", orders[q->sort]);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		CHECK(0, "oracle: %s", sqlite3_errmsg(db));
		sqlite3_close(db);
		return "";
	}
	if (q->q)
		sqlite3_bind_text(st, 1, q->q, -1, SQLITE_STATIC);
	if (q->zone)
		sqlite3_bind_text(st, 2, q->zone, -1, SQLITE_STATIC);
	if (q->has_min)
		sqlite3_bind_double(st, 3, q->min_score);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ < q->offset || (q->limit > 0 && at >= q->limit))
			continue;
		at++;
		snprintf(l.list + strlen(l.list), sizeof(l.list) - strlen(l.list), "%s%s",
			 strlen(l.list) ? "," : "", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	*total = n;
	return l.list;
}

static unsigned lcg(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) & 0x7fff;
}

/* Lists after writes of every kind, read again into the in-memory catalog, are those of SQL:
 * scores and titles that move, aliases, archives, new roles, and writes rolled back. */
static void test_list_after_writes(void)
{
	static const char *const words[] = { "Analyst", "baker", "Cook", "analyst", "Zeta",
					     "Nurse", "nurse", "Édith", "Ops", "Bank" };
	static const char *const zones[] = { "green", "yellow", "red" };
	static const char *const queries[] = { "an", "NUR", "ali", "x-7", "é", "o" };
	char path[256], slugs[80][16], titles[80][32], alias[80][24], aslug[80][24];
	struct store *s = open_new(path, sizeof(path));
	struct store_role_query q;
	struct role_arg a;
	unsigned seed = 7;
	int n = 0, round, i, total, want_total = -1, live[80];

	if (!s)
		return;
	for (round = 0; round < 12; round++) {
		for (i = 0; i < 12; i++) {
			int k = n < 10 || lcg(&seed) % 4 == 0 ? n : (int)(lcg(&seed) % (unsigned)n);

			memset(&a, 0, sizeof(a));
			if (k == n && n < 80) {
				snprintf(slugs[k], sizeof(slugs[k]), "r-%d", k);
				live[k] = 1;
				a.create = 1;
				n++;
			} else if (k == n) {
				continue;
			}
			if (!live[k])
				continue;
			if (!a.create && lcg(&seed) % 10 == 0) {
				CHECK_INT(store_write(s, archive_job, slugs[k]), 0);
				live[k] = 0;
				continue;
			}
			snprintf(titles[k], sizeof(titles[k]), "%s %d", words[lcg(&seed) % 10],
				 (int)(lcg(&seed) % 5));
			snprintf(alias[k], sizeof(alias[k]), "Alias x-%d", k);
			snprintf(aslug[k], sizeof(aslug[k]), "alias-x-%d", k);
			a.slug = slugs[k];
			a.title = titles[k];
			a.score = (double)(lcg(&seed) % 40) / 2;
			a.zone = zones[lcg(&seed) % 3];
			a.n_aliases = lcg(&seed) % 2;
			a.alias_slugs[0] = aslug[k];
			a.alias_names[0] = alias[k];
			a.fail_after = !a.create && lcg(&seed) % 6 == 0;
			CHECK_INT(store_write(s, role_job, &a), a.fail_after ? RC_INVALID : 0);
		}
		for (i = 0; i < 12; i++) {
			const char *got, *want;

			memset(&q, 0, sizeof(q));
			q.sort = (enum store_sort)(i % 3);
			if (i >= 3)
				q.q = queries[(i + round) % 6];
			if (i % 4 == 1)
				q.zone = zones[(i + round) % 3];
			if (i % 5 == 2) {
				q.has_min = 1;
				q.min_score = 7.5;
			}
			if (i % 3 == 0) {
				q.limit = 5;
				q.offset = round % 4;
			}
			got = strdup(list(s, &q, &total));
			want = oracle(path, &q, &want_total);
			CHECK(got && !strcmp(got, want), "round %d list %d:\n got  %s\n want %s", round,
			      i, got, want);
			CHECK(total == want_total, "round %d list %d: total %d, want %d", round, i,
			      total, want_total);
			free((void *)got);
		}
	}
	store_free(s);
}

struct tok_arg {
	const char *name;
	unsigned char hash[32];
	int op; /* 0 create, 1 revoke, 2 touch */
};

static int tok_job(struct store_tx *tx, void *p)
{
	struct tok_arg *t = p;

	if (t->op == 0)
		return store_tx_token_create(tx, t->name, t->hash);
	if (t->op == 1)
		return store_tx_token_revoke(tx, t->name);
	return store_tx_token_touch(tx, t->name);
}

static int tok_row(void *ctx, const struct store_token *t)
{
	struct store_token *out = ctx;

	if (!strcmp(t->name, "ci")) {
		out->last_used_at = t->last_used_at ? strdup(t->last_used_at) : NULL;
		out->revoked_at = t->revoked_at ? strdup(t->revoked_at) : NULL;
		out->created_at = strdup(t->created_at);
	}
	return 0;
}

static void test_tokens(void)
{
	char path[256];
	struct store *s = open_new(path, sizeof(path));
	struct tok_arg t;
	struct store_token seen;
	unsigned char other[32];
	char *name = NULL;

	if (!s)
		return;
	memset(&t, 0, sizeof(t));
	t.name = "ci";
	crypto_sha256("aijri_secret", 12, t.hash);
	crypto_sha256("aijri_other", 11, other);
	CHECK_INT(store_token_check(s, t.hash, &name), RC_UNAUTHORIZED);
	CHECK_INT(store_write(s, tok_job, &t), 0);
	CHECK_INT(store_write(s, tok_job, &t), RC_CONFLICT);
	CHECK_INT(store_token_check(s, t.hash, &name), 0);
	CHECK_STR(name, "ci");
	free(name);
	name = NULL;
	CHECK_INT(store_token_check(s, other, &name), RC_UNAUTHORIZED);
	CHECK(name == NULL, "name set on failure");

	memset(&seen, 0, sizeof(seen));
	CHECK_INT(store_tokens_list(s, tok_row, &seen), 0);
	CHECK(seen.created_at && !seen.last_used_at && !seen.revoked_at, "fresh token state");
	store_token_release(&seen);
	t.op = 2;
	CHECK_INT(store_write(s, tok_job, &t), 0);
	CHECK_INT(store_tokens_list(s, tok_row, &seen), 0);
	CHECK(seen.last_used_at != NULL, "touch not recorded");
	store_token_release(&seen);

	t.op = 1;
	CHECK_INT(store_write(s, tok_job, &t), 0);
	CHECK_INT(store_write(s, tok_job, &t), RC_NOTFOUND);
	CHECK_INT(store_token_check(s, t.hash, &name), RC_UNAUTHORIZED);
	CHECK_INT(store_tokens_list(s, tok_row, &seen), 0);
	CHECK(seen.revoked_at != NULL, "revocation not listed");
	store_token_release(&seen);
	t.op = 0; /* the name stays taken after revocation */
	CHECK_INT(store_write(s, tok_job, &t), RC_CONFLICT);
	t.op = 2;
	t.name = "nobody";
	CHECK_INT(store_write(s, tok_job, &t), RC_NOTFOUND);
	store_free(s);
}

#define WRITERS 8
#define WRITES 50

static void *writer_thread(void *p)
{
	struct store *s = p;
	struct role_arg a;
	int i, fails = 0;

	for (i = 0; i < WRITES; i++) {
		memset(&a, 0, sizeof(a));
		a.slug = "hot";
		a.title = "Hot";
		a.score = i;
		if (store_write(s, role_job, &a))
			fails++;
	}
	return (void *)(long)fails;
}

static void test_concurrency(void)
{
	char path[256];
	struct store *s = open_new(path, sizeof(path));
	pthread_t th[WRITERS];
	struct store_revision r;
	struct store_role role;
	void *ret;
	int i, fails = 0, total = 0, missing = 0;
	struct rev_list l;

	if (!s)
		return;
	CHECK_INT(write_role(s, "hot", "Hot", 1, "red", 1), 0);
	for (i = 0; i < WRITERS; i++)
		pthread_create(&th[i], NULL, writer_thread, s);
	for (i = 0; i < WRITERS; i++) {
		pthread_join(th[i], &ret);
		fails += (int)(long)ret;
	}
	CHECK_INT(fails, 0);
	CHECK_INT(store_role_get(s, "hot", &role), 0);
	CHECK_INT(role.revision, WRITERS * WRITES + 1);
	store_role_release(&role);
	memset(&l, 0, sizeof(l));
	CHECK_INT(store_revisions_list(s, "hot", 1, 0, rev_row, &l, &total), 0);
	CHECK_INT(total, WRITERS * WRITES + 1);
	for (i = 1; i <= WRITERS * WRITES + 1; i++) {
		if (store_revision_get(s, "hot", i, &r)) {
			missing++;
			continue;
		}
		store_revision_release(&r);
	}
	CHECK_INT(missing, 0);
	store_free(s);
}

struct bg {
	struct store *s;
	volatile int stop;
	int writes;
};

static void *bg_writer(void *p)
{
	struct bg *b = p;
	struct role_arg a;

	while (!b->stop) {
		memset(&a, 0, sizeof(a));
		a.slug = "busy";
		a.title = "Busy";
		a.score = b->writes % 100;
		if (store_write(b->s, role_job, &a) == 0)
			b->writes++;
	}
	return NULL;
}

static void test_backup(void)
{
	char path[256], copy[256], err[256];
	struct store *s = open_new(path, sizeof(path));
	struct store *c = NULL;
	struct store_role r;
	struct bg b;
	pthread_t th;
	int i, rc;

	if (!s)
		return;
	CHECK_INT(write_role(s, "busy", "Busy", 1, "red", 1), 0);
	/* Bulk, so the copy takes many steps. */
	for (i = 0; i < 200; i++) {
		char slug[32];
		snprintf(slug, sizeof(slug), "filler-%03d", i);
		write_role(s, slug, "Filler with a title long enough to fill pages", i % 100,
			   "yellow", 1);
	}
	memset(&b, 0, sizeof(b));
	b.s = s;
	pthread_create(&th, NULL, bg_writer, &b);
	while (b.writes < 20)
		usleep(1000);
	snprintf(copy, sizeof(copy), "%s/backup.sqlite", tmpdir);
	rc = store_backup(s, copy, err, sizeof(err));
	b.stop = 1;
	pthread_join(th, NULL);
	CHECK(rc == 0, "backup: %s", err);
	CHECK(b.writes >= 20, "writes %d", b.writes);
	CHECK_INT(store_checkpoint(s), 0);
	CHECK_INT(store_integrity_check(s, err, sizeof(err)), 0);
	store_free(s);

	rc = store_open(copy, &c, err, sizeof(err));
	CHECK(rc == 0, "open the copy: %s", err);
	if (rc)
		return;
	CHECK_INT(store_integrity_check(c, err, sizeof(err)), 0);
	CHECK_INT(store_role_get(c, "busy", &r), 0);
	CHECK(r.revision >= 20 && r.revision <= b.writes + 1, "copy revision %d of %d", r.revision,
	      b.writes + 1);
	store_role_release(&r);
	CHECK_INT(store_role_get(c, "filler-199", &r), 0);
	store_role_release(&r);
	store_free(c);
}

/* A write of a role whose body is big: every commit adds a few dozen WAL frames. */
struct big_arg {
	int create;
	char *body;
};

static int big_job(struct store_tx *tx, void *p)
{
	struct big_arg *a = p;
	struct store_role_write w;
	struct store_role_head head;

	memset(&w, 0, sizeof(w));
	w.revision = 1;
	if (!a->create) {
		if (store_tx_role_head(tx, "big", &head))
			return RC_IO;
		w.revision = head.revision + 1;
	}
	w.slug = "big";
	w.title = "Big";
	w.role_json = a->body;
	w.score_json = "{\"score\":1}";
	w.score = 1;
	w.zone = "red";
	w.label = "Red (Declining)";
	w.changed_json = "[]";
	return a->create ? store_tx_role_create(tx, &w) : store_tx_role_update(tx, &w);
}

/* The checkpointer copies the WAL into the database while the store runs (its connection
 * must have read the database for that), starts it over in place under load (RESTART: the
 * -wal file stays near its 16 MiB bound), and cuts the file to nothing once writes pause. */
static void test_checkpoints(void)
{
	char path[256];
	struct store *s = open_new(path, sizeof(path));
	struct store_stats st;
	struct big_arg a;
	int64_t t0, wal_max = 0;
	int i, rc = 0;

	if (!s)
		return;
	a.body = malloc(65536);
	if (!a.body)
		return;
	for (i = 0; i < 400 && !rc; i++) {
		/* A different body each time, so that no page is the same as the last one's (and no
		 * piece: revisions share the pieces they have in common, pieces.c). */
		int n = snprintf(a.body, 64, "{\"n\":%d,\"pad\":\"%d", i, i);

		memset(a.body + n, 'a' + i % 26, 60000);
		memcpy(a.body + n + 60000, "\"}", 3);
		a.create = i == 0;
		rc = store_write(s, big_job, &a);
		store_stats(s, &st);
		if (st.wal_bytes > wal_max)
			wal_max = st.wal_bytes;
	}
	CHECK_INT(rc, 0);
	/* 400 revisions of 60 KB (24 MB): past the bound, the WAL was started over in place. */
	CHECK(wal_max < 40 * 1000 * 1000, "-wal file %lld bytes at most under writes",
	      (long long)wal_max);
	/* The database file holds them, not only the WAL. */
	t0 = clock_mono_ms();
	do {
		store_stats(s, &st);
		if (st.db_bytes > 20 * 1000 * 1000 && st.wal_bytes == 0 &&
		    st.checkpoints[STORE_CKPT_TRUNCATE][STORE_CKPT_COMPLETE] > 0)
			break;
		usleep(20000);
	} while (clock_mono_ms() - t0 < 15000);
	CHECK(st.db_bytes > 20 * 1000 * 1000, "database file %lld bytes after 24 MB of revisions",
	      (long long)st.db_bytes);
	CHECK(st.wal_bytes == 0, "-wal file %lld bytes once writes paused", (long long)st.wal_bytes);
	CHECK(st.checkpoints[STORE_CKPT_PASSIVE][STORE_CKPT_COMPLETE] > 0,
	      "no passive checkpoint copied everything");
	CHECK(st.checkpoints[STORE_CKPT_RESTART][STORE_CKPT_COMPLETE] > 0,
	      "no checkpoint started the WAL over under writes");
	CHECK(st.checkpoints[STORE_CKPT_TRUNCATE][STORE_CKPT_COMPLETE] > 0, "no truncating checkpoint");
	CHECK(st.last_complete_unix > 0, "no complete checkpoint time");
	CHECK_INT(store_integrity_check(s, path, sizeof(path)), 0);
	free(a.body);
	store_free(s);
}

static const struct harness_test tests[] = {
	{ "migrations", test_migrations },
	{ "too_new", test_too_new },
	{ "revisions", test_revisions },
	{ "precondition", test_precondition },
	{ "failing_job", test_failing_job },
	{ "aliases", test_aliases },
	{ "list", test_list },
	{ "list_after_writes", test_list_after_writes },
	{ "tokens", test_tokens },
	{ "concurrency", test_concurrency },
	{ "backup", test_backup },
	{ "checkpoints", test_checkpoints },
	{ NULL, NULL },
};

int main(void)
{
	char cmd[128];
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/aijri-store-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	rc = harness_main("store", tests);
	if (!rc) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", tmpdir);
	} else {
		fprintf(stderr, "databases kept in %s\n", tmpdir);
	}
	return rc;
}
