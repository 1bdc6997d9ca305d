/*
 * test_store_analysis.c: the store's parts behind the analysis endpoints and safe retries,
 * against real SQLite files: the score history and store_movers (windows, boundaries,
 * roles created inside a window, roles archived before or after its end), the catalog's
 * neighbours and its code and stale filters, the stored answers of idempotent writes (put,
 * get, conflict, expiry in bounded batches) and store_tx_run's partial rollback.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "tests/unit/harness.h"
#include "util/clock.h"

static char tmpdir[64];
static int dbseq;

static struct store *open_new(char *path, size_t n)
{
	struct store *s = NULL;
	char err[256];
	int rc;

	snprintf(path, n, "%s/db%d.sqlite", tmpdir, ++dbseq);
	rc = store_open(path, &s, err, sizeof(err));
	CHECK(rc == 0, "store_open %s: %s", path, err);
	return s;
}

/* One role write: create (revision 1) or the next revision. */
struct wr {
	const char *slug, *category, *soc, *isco, *oldest;
	double score;
	const char *zone, *label;
	int create;
};

static int wr_job(struct store_tx *tx, void *p)
{
	struct wr *a = p;
	struct store_role_write w;
	struct store_role_head head;
	char role_json[128];
	int rc;

	memset(&w, 0, sizeof(w));
	w.revision = 1;
	if (!a->create) {
		rc = store_tx_role_head(tx, a->slug, &head);
		if (rc)
			return rc;
		w.revision = head.revision + 1;
	}
	snprintf(role_json, sizeof(role_json), "{\"slug\":\"%s\"}", a->slug);
	w.slug = a->slug;
	w.title = a->slug;
	w.role_json = role_json;
	w.score_json = "{}";
	w.score = a->score;
	w.zone = a->zone ? a->zone : "yellow";
	w.label = a->label ? a->label : "Label";
	w.changed_json = "[]";
	w.category = a->category;
	w.soc_codes = a->soc;
	w.isco_codes = a->isco;
	w.oldest_as_of = a->oldest;
	return a->create ? store_tx_role_create(tx, &w) : store_tx_role_update(tx, &w);
}

static int wr(struct store *s, const char *slug, double score, const char *zone, int create)
{
	struct wr a;

	memset(&a, 0, sizeof(a));
	a.slug = slug;
	a.score = score;
	a.zone = zone;
	a.create = create;
	return store_write(s, wr_job, &a);
}

static int archive_job(struct store_tx *tx, void *p)
{
	return store_tx_role_archive(tx, p, "test");
}

/* Runs SQL on the closed database file. */
static void sql(const char *path, const char *text)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK(sqlite3_exec(db, text, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", text,
	      msg ? msg : "?");
	sqlite3_free(msg);
	sqlite3_close(db);
}

/* ---------------------------------------------------------------------------------------
 * Movers
 */

struct moves {
	char got[16][160];
	int n;
};

static int move_row(void *ctx, struct store_move *m)
{
	struct moves *l = ctx;

	CHECK(m->index < 0 ? m->slug != NULL : m->slug == NULL, "names only when asked");
	store_move_names(m);
	if (l->n < 16)
		snprintf(l->got[l->n++], sizeof(l->got[0]), "%s %.1f %s r%d -> %.1f %s r%d", m->slug,
			 m->from.score, m->from.zone, m->from.revision, m->to.score, m->to.zone,
			 m->to.revision);
	return 0;
}

/* The movers of (since, until] (Unix seconds), sorted, joined by "; ". */
static void movers(struct store *s, int64_t since, int64_t until, char *out, size_t n)
{
	struct moves l;
	int i, j;

	memset(&l, 0, sizeof(l));
	CHECK_INT(store_movers(s, since * 1000, until * 1000, move_row, &l), 0);
	for (i = 1; i < l.n; i++)
		for (j = i; j > 0 && strcmp(l.got[j - 1], l.got[j]) > 0; j--) {
			char t[160];

			memcpy(t, l.got[j], sizeof(t));
			memcpy(l.got[j], l.got[j - 1], sizeof(t));
			memcpy(l.got[j - 1], t, sizeof(t));
		}
	out[0] = '\0';
	for (i = 0; i < l.n; i++)
		snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "; " : "", l.got[i]);
}

static void test_movers(void)
{
	static const struct {
		int64_t since, until;
		const char *want;
	} cases[] = {
		/* a fell and changed zone; b only relabelled; c was created inside; d was
		 * archived before the end. */
		{ 1500, 3500, "a 50.0 green r1 -> 45.0 yellow r3" },
		/* d is still live at 2150 (archived at 2200). */
		{ 1500, 2150, "a 50.0 green r1 -> 40.0 yellow r2; d 70.0 green r1 -> 60.0 green r2" },
		/* A revision made at since is before the window: a starts from r2. */
		{ 2000, 3000, "a 40.0 yellow r2 -> 45.0 yellow r3" },
		{ 1999, 2000, "a 50.0 green r1 -> 40.0 yellow r2" },
		{ 3000, 4000, "" },
		{ 0, 1000, "" },
		{ 500, 999999, "" },
	};
	char path[256], got[1024];
	struct store *s = open_new(path, sizeof(path));
	size_t i;

	if (!s)
		return;
	CHECK_INT(wr(s, "a", 50, "green", 1), 0);
	CHECK_INT(wr(s, "a", 40, "yellow", 0), 0);
	CHECK_INT(wr(s, "a", 45, "yellow", 0), 0);
	CHECK_INT(wr(s, "b", 30, "yellow", 1), 0);
	CHECK_INT(wr(s, "b", 30, "yellow", 0), 0);
	CHECK_INT(wr(s, "c", 60, "green", 1), 0);
	CHECK_INT(wr(s, "d", 70, "green", 1), 0);
	CHECK_INT(wr(s, "d", 60, "green", 0), 0);
	CHECK_INT(store_write(s, archive_job, (void *)"d"), 0);
	store_free(s);
	/* The history's times, set by hand in seconds (the history keeps milliseconds): the
	 * writes above all happened within a second. */
	sql(path, "UPDATE score_history SET at = 1000 * CASE"
		  " WHEN role_id = (SELECT id FROM roles WHERE slug = 'a') THEN"
		  "  CASE revision WHEN 1 THEN 1000 WHEN 2 THEN 2000 ELSE 3000 END"
		  " WHEN role_id = (SELECT id FROM roles WHERE slug = 'b') THEN"
		  "  CASE revision WHEN 1 THEN 1000 ELSE 2500 END"
		  " WHEN role_id = (SELECT id FROM roles WHERE slug = 'c') THEN 2200"
		  " ELSE CASE revision WHEN 1 THEN 1000 ELSE 2100 END END;"
		  "UPDATE roles SET archived_at = '1970-01-01T00:36:40Z' WHERE slug = 'd'");
	CHECK_INT(store_open(path, &s, got, sizeof(got)), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		movers(s, cases[i].since, cases[i].until, got, sizeof(got));
		CHECK(!strcmp(got, cases[i].want), "(%lld, %lld]: got \"%s\", want \"%s\"",
		      (long long)cases[i].since, (long long)cases[i].until, got, cases[i].want);
	}
	store_free(s);
}

/* ---------------------------------------------------------------------------------------
 * Neighbours and the list filters of the catalog
 */

struct names {
	char v[512];
};

static int near_row(void *ctx, const struct store_role *r, double d)
{
	struct names *n = ctx;

	snprintf(n->v + strlen(n->v), sizeof(n->v) - strlen(n->v), "%s%s:%.1f",
		 n->v[0] ? " " : "", r->slug, d);
	return 0;
}

static int list_row(void *ctx, const struct store_role *r)
{
	struct names *n = ctx;

	snprintf(n->v + strlen(n->v), sizeof(n->v) - strlen(n->v), "%s%s", n->v[0] ? " " : "",
		 r->slug);
	return 0;
}

static void test_near_and_filters(void)
{
	static const struct wr roles[] = {
		{ "me", "Eng", "15-1252.00 15-1252", "2512", "2026-01-10", 50.0, "green", NULL, 1 },
		{ "up-same", "Eng", "15-1253", "2513", "2026-06-01", 52.0, "green", NULL, 1 },
		{ "down-other", "Ops", NULL, "25", "2025-12-31", 48.0, "green", NULL, 1 },
		{ "down-same", "Eng", "15-2051.00", NULL, NULL, 48.0, "green", NULL, 1 },
		{ "far", NULL, "29-1141.00", "2221", "2026-03-01", 10.0, "red", NULL, 1 },
		{ "eq-b", "Ops", NULL, NULL, "2026-02-01", 50.0, "green", NULL, 1 },
		{ "eq-a", "Ops", NULL, NULL, "2026-02-01", 50.0, "green", NULL, 1 },
	};
	char path[256];
	struct store *s = open_new(path, sizeof(path));
	struct store_role_query q;
	struct names n;
	size_t i;
	int total;

	if (!s)
		return;
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		CHECK_INT(store_write(s, wr_job, (void *)&roles[i]), 0);
	/* Distance 0 first (eq-a, eq-b by slug), then 2 with the own category first. */
	memset(&n, 0, sizeof(n));
	CHECK_INT(store_roles_near(s, "me", 10, near_row, &n), 0);
	CHECK_STR(n.v, "eq-a:0.0 eq-b:0.0 down-same:2.0 up-same:2.0 down-other:2.0 far:40.0");
	memset(&n, 0, sizeof(n));
	CHECK_INT(store_roles_near(s, "me", 3, near_row, &n), 0);
	CHECK_STR(n.v, "eq-a:0.0 eq-b:0.0 down-same:2.0");
	memset(&n, 0, sizeof(n));
	CHECK_INT(store_roles_near(s, "far", 1, near_row, &n), 0);
	CHECK_STR(n.v, "down-other:38.0");
	CHECK_INT(store_roles_near(s, "nobody", 3, near_row, &n), RC_NOTFOUND);

	memset(&q, 0, sizeof(q));
	q.stale = -1;
	q.sort = STORE_SORT_SCORE;
	q.soc = "15-125";
	memset(&n, 0, sizeof(n));
	CHECK_INT(store_roles_list(s, &q, list_row, &n, &total), 0);
	CHECK_STR(n.v, "me up-same");
	q.soc = "15-1252.00";
	memset(&n, 0, sizeof(n));
	CHECK_INT(store_roles_list(s, &q, list_row, &n, &total), 0);
	CHECK_STR(n.v, "me");
	q.soc = NULL;
	q.isco = "25";
	memset(&n, 0, sizeof(n));
	CHECK_INT(store_roles_list(s, &q, list_row, &n, &total), 0);
	CHECK_STR(n.v, "down-other me up-same");
	q.isco = NULL;
	q.stale = 1;
	q.stale_before = "2026-02-01";
	memset(&n, 0, sizeof(n));
	CHECK_INT(store_roles_list(s, &q, list_row, &n, &total), 0);
	CHECK_STR(n.v, "down-other me");
	CHECK_INT(total, 2);
	q.stale = 0;
	memset(&n, 0, sizeof(n));
	CHECK_INT(store_roles_list(s, &q, list_row, &n, &total), 0);
	CHECK_STR(n.v, "far down-same eq-a eq-b up-same");
	store_free(s);
}

/* ---------------------------------------------------------------------------------------
 * Idempotency keys
 */

struct put_arg {
	const char *token, *key;
	struct store_idem k;
	int rc_get;
};

static int put_job(struct store_tx *tx, void *p)
{
	struct put_arg *a = p;
	struct store_idem seen;

	a->rc_get = store_tx_idem_get(tx, a->token, a->key, &seen);
	store_idem_release(&seen);
	return store_tx_idem_put(tx, a->token, a->key, &a->k);
}

static int put(struct store *s, const char *token, const char *key, int *rc_get)
{
	static char body[] = { 'h', 'i', '\0', '!' };
	struct put_arg a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.token = token;
	a.key = key;
	memset(a.k.fingerprint, 7, sizeof(a.k.fingerprint));
	a.k.status = 201;
	a.k.content_type = (char *)"application/json";
	a.k.headers_json = (char *)"[[\"Location\",\"/x\"]]";
	a.k.body = body;
	a.k.body_len = sizeof(body);
	rc = store_write(s, put_job, &a);
	if (rc_get)
		*rc_get = a.rc_get;
	return rc;
}

static void test_idempotency(void)
{
	char path[256];
	struct store *s = open_new(path, sizeof(path));
	struct store_idem k;
	int64_t now = (int64_t)time(NULL);
	int rc_get, deleted;

	if (!s)
		return;
	CHECK_INT(put(s, "alice", "k1", &rc_get), 0);
	CHECK_INT(rc_get, RC_NOTFOUND);
	CHECK_INT(store_idem_get(s, "alice", "k1", now, &k), 0);
	CHECK_INT(k.status, 201);
	CHECK_STR(k.content_type, "application/json");
	CHECK_STR(k.headers_json, "[[\"Location\",\"/x\"]]");
	CHECK(k.body_len == 4 && !memcmp(k.body, "hi\0!", 4), "body of %zu bytes", k.body_len);
	CHECK(k.fingerprint[0] == 7 && k.fingerprint[31] == 7, "fingerprint");
	store_idem_release(&k);
	/* The same key of another token is another key; the same one again is refused. */
	CHECK_INT(store_idem_get(s, "bob", "k1", now, &k), RC_NOTFOUND);
	CHECK_INT(put(s, "alice", "k1", &rc_get), RC_CONFLICT);
	CHECK_INT(rc_get, 0);
	CHECK_INT(put(s, "bob", "k1", NULL), 0);
	CHECK_INT(put(s, "alice", "k2", NULL), 0);
	/* Past 24 hours an answer is not served, and the clean-up deletes it, in batches. */
	CHECK_INT(store_idem_get(s, "alice", "k1", now + STORE_IDEMPOTENCY_TTL + 5, &k),
		  RC_NOTFOUND);
	CHECK_INT(store_idem_expire(s, now + STORE_IDEMPOTENCY_TTL - 60, 10, &deleted), 0);
	CHECK_INT(deleted, 0);
	CHECK_INT(store_idem_expire(s, now + STORE_IDEMPOTENCY_TTL + 5, 2, &deleted), 0);
	CHECK_INT(deleted, 2);
	CHECK_INT(store_idem_expire(s, now + STORE_IDEMPOTENCY_TTL + 5, 2, &deleted), 0);
	CHECK_INT(deleted, 1);
	CHECK_INT(store_idem_get(s, "alice", "k2", now, &k), RC_NOTFOUND);
	store_free(s);
}

/* ---------------------------------------------------------------------------------------
 * store_tx_run: a part of a job rolled back alone
 */

static int part_fails(struct store_tx *tx, void *p)
{
	struct wr *a = p;
	int rc = wr_job(tx, a);

	return rc ? rc : RC_UNCHANGED;
}

static int outer_job(struct store_tx *tx, void *p)
{
	struct wr *roles = p;
	int rc = wr_job(tx, &roles[0]);

	if (rc)
		return rc;
	rc = store_tx_run(tx, part_fails, &roles[1]);
	return rc == RC_UNCHANGED ? RC_OK : RC_IO;
}

static void test_tx_run(void)
{
	struct wr roles[2] = {
		{ "kept", NULL, NULL, NULL, NULL, 50.0, "green", NULL, 1 },
		{ "undone", NULL, NULL, NULL, NULL, 50.0, "green", NULL, 1 },
	};
	char path[256];
	struct store *s = open_new(path, sizeof(path));
	struct store_role r;

	if (!s)
		return;
	CHECK_INT(store_write(s, outer_job, roles), 0);
	CHECK_INT(store_role_get(s, "kept", &r), 0);
	store_role_release(&r);
	CHECK_INT(store_role_get(s, "undone", &r), RC_NOTFOUND);
	store_free(s);
}

/* ---------------------------------------------------------------------------------------
 * Migration 0005 over a database of schema 4 with history
 */

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)n + 1);
	if (text && fread(text, 1, (size_t)n, f) != (size_t)n) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

static void test_migrate_from_4(void)
{
	static const char *const files[] = { "migrations/0001_init.sql",
					     "migrations/0002_webhooks.sql",
					     "migrations/0003_list_indexes.sql",
					     "migrations/0004_current_json_once.sql" };
	char path[256], err[256], got[512];
	struct store *s = NULL;
	struct store_role r;
	size_t i;

	snprintf(path, sizeof(path), "%s/db%d.sqlite", tmpdir, ++dbseq);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *text = read_file(files[i]);

		CHECK(text != NULL, "read %s (run from the repository's root)", files[i]);
		if (!text)
			return;
		sql(path, text);
		free(text);
	}
	/* A role of three revisions: created, its wage_trends changed, then its growth. */
	sql(path, "PRAGMA user_version = 4;"
		  "INSERT INTO roles (id, slug, title, role_json, score_json, score, zone, label,"
		  " revision, created_at, updated_at) VALUES (7, 'old', 'Old', '', '', 30.0,"
		  " 'yellow', 'Yellow (Moderate)', 3, '2026-01-05T10:00:00Z', '2026-03-01T10:00:00Z');"
		  "INSERT INTO revisions (role_id, revision, role_json, score_json, score, zone, label,"
		  " changed_json, created_at) VALUES"
		  " (7, 1, '{}', '{}', 50.0, 'green', 'Green (Stable)', '[]', '2026-01-05T10:00:00Z'),"
		  " (7, 2, '{}', '{}', 40.0, 'yellow', 'Yellow (Moderate)',"
		  " '[\"evidence.wage_trends\"]', '2026-02-01T10:00:00Z'),"
		  " (7, 3, '{}', '{}', 30.0, 'yellow', 'Yellow (Moderate)', '[\"growth\"]',"
		  " '2026-03-01T10:00:00Z')");
	CHECK_INT(store_open(path, &s, err, sizeof(err)), 0);
	if (!s)
		return;
	CHECK_INT(store_schema_version(s), store_schema_latest());
	CHECK_INT(store_role_get(s, "old", &r), 0);
	CHECK_STR(r.oldest_as_of, "2026-01-05");
	CHECK(r.evidence_as_of && strstr(r.evidence_as_of, "\"wage_trends\":\"2026-02-01\"") &&
		      strstr(r.evidence_as_of, "\"company_actions\":\"2026-01-05\""),
	      "as_of map %s", r.evidence_as_of ? r.evidence_as_of : "NULL");
	store_role_release(&r);
	/* 2026-01-20 .. 2026-03-15: from revision 1 (green 50) to revision 3 (yellow 30). */
	movers(s, 1768867200, 1773532800, got, sizeof(got));
	CHECK(!strcmp(got, "old 50.0 green r1 -> 30.0 yellow r3"), "got %s", got);
	/* 2026-02-15 ..: from revision 2. */
	movers(s, 1771113600, 1773532800, got, sizeof(got));
	CHECK(!strcmp(got, "old 40.0 yellow r2 -> 30.0 yellow r3"), "got %s", got);
	store_free(s);
}

static const struct harness_test tests[] = {
	{ "migrate_from_4", test_migrate_from_4 },
	{ "movers", test_movers },
	{ "near_and_filters", test_near_and_filters },
	{ "idempotency", test_idempotency },
	{ "tx_run", test_tx_run },
	{ NULL, NULL },
};

int main(void)
{
	char cmd[128];
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/aijri-analysis-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	rc = harness_main("store_analysis", tests);
	if (!rc) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return rc;
}
