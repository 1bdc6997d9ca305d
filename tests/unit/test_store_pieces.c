/*
 * test_store_pieces.c: revisions kept as pieces (store/pieces.c, migration 0007). Every past
 * revision reads back byte for byte as it was written: through the revision engine (the seed,
 * one-dimension evidence writes, part writes, a whole replace, commentary writes, an archive)
 * and through the store alone with texts that are hard to cut (braces, commas and quotes in
 * strings, escapes, deep objects, texts that are no object); a one-dimension write stores one
 * new piece; and migration 0007 turns a database of the schema before it (version 6, every
 * revision whole) into pieces with every revision readable as before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "revise/revise.h"
#include "store/store.h"
#include "tests/unit/harness.h"
#include "util/embed.h"

#define MAX_REVS 64

static char tmpdir[64];
static int dbseq;

static void new_path(char *out, size_t n)
{
	snprintf(out, n, "%s/db%d.sqlite", tmpdir, ++dbseq);
}

static struct store *open_at(const char *path)
{
	struct store *s = NULL;
	char err[256];
	int rc = store_open(path, &s, err, sizeof(err));

	CHECK(rc == 0, "store_open %s: %s", path, err);
	return rc ? NULL : s;
}

/* One integer from SQL on the database file (a connection of the test's own). */
static long long sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* What each revision of a role was when written: its body and score block as the current
 * role read them right after the write. */
struct written {
	char *role[MAX_REVS + 1];
	char *score[MAX_REVS + 1];
	int last;
};

static void written_release(struct written *w)
{
	int i;

	for (i = 0; i <= MAX_REVS; i++) {
		free(w->role[i]);
		free(w->score[i]);
	}
	memset(w, 0, sizeof(*w));
}

/* Records the role's current revision as written. */
static void note_current(struct store *s, const char *slug, struct written *w)
{
	struct store_role r;

	if (store_role_get(s, slug, &r)) {
		CHECK(0, "role %s not found", slug);
		return;
	}
	CHECK(r.revision >= 1 && r.revision <= MAX_REVS, "revision %d", r.revision);
	if (r.revision >= 1 && r.revision <= MAX_REVS && !w->role[r.revision]) {
		w->role[r.revision] = strdup(r.role_json);
		w->score[r.revision] = strdup(r.score_json);
		w->last = r.revision;
	}
	store_role_release(&r);
}

/* Every revision noted reads back byte for byte. */
static void check_history(struct store *s, const char *slug, const struct written *w)
{
	struct store_revision r;
	int i;

	for (i = 1; i <= w->last; i++) {
		if (!w->role[i])
			continue;
		CHECK_INT(store_revision_get(s, slug, i, &r), 0);
		CHECK(r.role_json && !strcmp(r.role_json, w->role[i]),
		      "%s revision %d: the body read differs from the one written", slug, i);
		CHECK(r.score_json && !strcmp(r.score_json, w->score[i]),
		      "%s revision %d: the score block differs", slug, i);
		store_revision_release(&r);
	}
}

/* ---------------------------------------------------------------------------------------
 * Through the revision engine
 */

enum kind { K_REPLACE, K_PART, K_COMMENTARY, K_ARCHIVE };
struct call {
	struct revise *rv;
	enum kind kind;
	enum scoring_part part;
	const char *key;
	json_t *body;
	struct revise_result res;
	enum rc rc;
};

static int call_job(struct store_tx *tx, void *arg)
{
	struct call *c = arg;
	struct revise_target t = { "edge-ai-engineer", "tester", NULL, NULL };

	switch (c->kind) {
	case K_REPLACE:
		c->rc = revise_replace(tx, c->rv, &t, c->body, &c->res);
		break;
	case K_PART:
		c->rc = revise_part(tx, c->rv, &t, c->part, c->key, c->body, &c->res);
		break;
	case K_COMMENTARY:
		c->rc = revise_commentary(tx, c->rv, &t, c->body, &c->res);
		break;
	case K_ARCHIVE:
		c->rc = revise_archive(tx, c->rv, &t, &c->res);
		break;
	}
	return c->rc;
}

/* One write in a job (body stolen; NULL: {}); its rc. */
static enum rc write_one(struct store *s, struct revise *rv, enum kind kind,
			 enum scoring_part part, const char *key, json_t *body)
{
	struct call c;

	memset(&c, 0, sizeof(c));
	c.rv = rv;
	c.kind = kind;
	c.part = part;
	c.key = key;
	c.body = body ? body : json_object();
	revise_result_init(&c.res);
	(void)store_write(s, call_job, &c);
	json_decref(c.body);
	revise_result_release(&c.res);
	return c.rc;
}

static json_t *evidence_change(int i)
{
	static const char *const dims[] = { "wage_trends", "job_posting_trends", "ai_tool_maturity" };
	char why[64];

	snprintf(why, sizeof(why), "change %d: \"quoted\", {braced}, back\\slash", i);
	return json_pack("{s:{s:{s:i, s:s}}, s:s}", "dimensions", dims[i % 3], "score", i % 5 - 2,
			 "rationale", why, "reason", "a test");
}

static void test_engine_history(void)
{
	const struct embed_file *f = embed_find("data/edge-ai-engineer.json");
	char path[256];
	struct written w;
	struct store *s;
	struct revise *rv;
	json_t *seed;
	long long before;
	int i;

	memset(&w, 0, sizeof(w));
	new_path(path, sizeof(path));
	s = open_at(path);
	rv = s ? revise_new(s) : NULL;
	CHECK(f && rv, "the store, the engine and the seed");
	if (!f || !rv)
		goto out;
	seed = json_loads(f->data, 0, NULL);
	CHECK_INT(revise_seed(s, f->data), RC_OK);
	note_current(s, "edge-ai-engineer", &w);
	for (i = 0; i < 12; i++) {
		before = sql_int(path, "SELECT count(*) FROM pieces");
		CHECK_INT(write_one(s, rv, K_PART, SCORING_EVIDENCE, "dimensions",
				    evidence_change(i)), RC_OK);
		note_current(s, "edge-ai-engineer", &w);
		/* One dimension changed: one new piece (its as_of may stay, so at most that one). */
		CHECK(sql_int(path, "SELECT count(*) FROM pieces") - before <= 1,
		      "write %d stored %lld pieces", i,
		      sql_int(path, "SELECT count(*) FROM pieces") - before);
		if (i == 4) {
			CHECK_INT(write_one(s, rv, K_PART, SCORING_GROWTH, "growth",
					    json_pack("{s:{s:i, s:s}}", "growth", "score", 2,
						      "rationale", "grows, {really}")), RC_OK);
			note_current(s, "edge-ai-engineer", &w);
		}
		if (i == 6) {
			json_t *b = json_deep_copy(seed);

			json_object_set_new(b, "title", json_string("Edge AI Engineer, \"renamed\""));
			json_object_set_new(b, "summary", json_string("A new summary,\nwith {braces}."));
			CHECK_INT(write_one(s, rv, K_REPLACE, SCORING_ALL, NULL, b), RC_OK);
			note_current(s, "edge-ai-engineer", &w);
		}
		if (i == 8 || i == 9) {
			CHECK_INT(write_one(s, rv, K_COMMENTARY, SCORING_ALL, NULL,
					    json_pack("{s:{s:s, s:s}}", "commentary", "outlook",
						      i == 8 ? "**Soon:** more" : "Later, \\ less",
						      "timeline", "5-7+ years")), RC_OK);
			note_current(s, "edge-ai-engineer", &w);
		}
	}
	check_history(s, "edge-ai-engineer", &w);
	CHECK_INT(write_one(s, rv, K_ARCHIVE, SCORING_ALL, NULL, NULL), RC_OK);
	/* The archive's revision repeats the last body: its pieces, nothing new. */
	{
		struct store_revision r;
		int n = w.last;

		CHECK_INT(store_revision_get(s, "edge-ai-engineer", n + 1, &r), 0);
		CHECK(r.role_json && w.role[n] && !strcmp(r.role_json, w.role[n]),
		      "the archive's revision repeats the last body");
		store_revision_release(&r);
	}
	check_history(s, "edge-ai-engineer", &w);
	/* Only the current revision keeps its body whole; the history stays append-only but for
	 * that copy's going. */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM revisions WHERE role_json IS NOT NULL"), 1);
	{
		sqlite3 *db = NULL;

		CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
		CHECK(sqlite3_exec(db, "UPDATE revisions SET role_json = '{}'", NULL, NULL, NULL) !=
			      SQLITE_OK, "a revision's body could be rewritten");
		CHECK(sqlite3_exec(db, "UPDATE revisions SET body = x'01'", NULL, NULL, NULL) !=
			      SQLITE_OK, "a revision's pieces could be rewritten");
		CHECK(sqlite3_exec(db, "DELETE FROM revisions", NULL, NULL, NULL) != SQLITE_OK,
		      "revisions could be deleted");
		sqlite3_close(db);
	}
	/* Read again by a new process's store: nothing was held in memory. */
	revise_free(rv);
	rv = NULL;
	store_free(s);
	s = open_at(path);
	if (s)
		check_history(s, "edge-ai-engineer", &w);
	json_decref(seed);
out:
	revise_free(rv);
	store_free(s);
	written_release(&w);
}

/* ---------------------------------------------------------------------------------------
 * Through the store alone, with texts hard to cut
 */

struct raw_arg {
	const char *slug;
	const char *text;
	int create;
};

static int raw_job(struct store_tx *tx, void *p)
{
	struct raw_arg *a = p;
	struct store_role_write w;
	struct store_role_head h;
	char score[64];
	int rc;

	memset(&w, 0, sizeof(w));
	w.revision = 1;
	if (!a->create) {
		rc = store_tx_role_head(tx, a->slug, &h);
		if (rc)
			return rc;
		w.revision = h.revision + 1;
	}
	snprintf(score, sizeof(score), "{\"revision\":%d}", w.revision);
	w.slug = a->slug;
	w.title = "Raw";
	w.role_json = a->text;
	w.score_json = score;
	w.score = 50;
	w.zone = "green";
	w.label = "Green";
	w.changed_json = "[]";
	return a->create ? store_tx_role_create(tx, &w) : store_tx_role_update(tx, &w);
}

static void test_hard_texts(void)
{
	static const char *const texts[] = {
		"{\"a\":\"x,\\\"y\\\":{\",\"b\":{\"c\":{\"d\":[{\"e\":1},{\"f\":\"}\"}]},\"g\":2}}",
		"{\"a\":\"x,\\\"y\\\":{\",\"b\":{\"c\":{\"d\":[{\"e\":1},{\"f\":\"}]\"}]},\"g\":3}}",
		"{\"a\":\"ends with a backslash\\\\\",\"b\":{},\"c\":{\"x\":{}},\"\":null}",
		"{\"a\":\"\xc3\xa9t\xc3\xa9 \\u00e9\",\"b\":{\"c\":{\"d\":{\"e\":{\"f\":\"deep\"}}}}}",
		"{ \"spaced\" : { \"k\" : 1 , \"l\" : [ 2 ] } , \"m\" : \"n\" }",
		"[1,2,{\"not\":\"an object\"}]",
		"\"a string\"",
		"{}",
		"{\"a\":\"x,\\\"y\\\":{\",\"b\":{\"c\":{\"d\":[{\"e\":1},{\"f\":\"}\"}]},\"g\":2}}",
	};
	size_t n = sizeof(texts) / sizeof(texts[0]), i;
	struct store_revision r;
	struct raw_arg a = { "raw", NULL, 0 };
	char path[256];
	struct store *s;

	new_path(path, sizeof(path));
	s = open_at(path);
	if (!s)
		return;
	for (i = 0; i < n; i++) {
		a.text = texts[i];
		a.create = i == 0;
		CHECK_INT(store_write(s, raw_job, &a), 0);
	}
	for (i = 0; i < n; i++) {
		CHECK_INT(store_revision_get(s, "raw", (int)i + 1, &r), 0);
		CHECK(r.role_json && !strcmp(r.role_json, texts[i]), "text %zu read back as %s", i,
		      r.role_json ? r.role_json : "(null)");
		store_revision_release(&r);
	}
	/* The last text repeats the first: it made no new piece. */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM pieces WHERE body = CAST('{' AS BLOB)"), 1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM (SELECT body FROM pieces GROUP BY body"
			  " HAVING count(*) > 1)"), 0);
	store_free(s);
}

/* ---------------------------------------------------------------------------------------
 * Migration 0007 on a database of the schema before it
 */

/* The score history's SQL function as 0005 needs it to be there (its rows are not read). */
static void stub_entry(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	sqlite3_result_blob(ctx, "x", 1, SQLITE_STATIC);
}

/* A database made by migrations 0001 to 0006 alone, as the binary before 0007 made it. */
static int make_v6(const char *path, sqlite3 **out)
{
	const struct embed_file *f;
	sqlite3 *db = NULL;
	char *err = NULL;
	int rc;

	rc = sqlite3_open(path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "aijri_history_entry", 8, SQLITE_UTF8, NULL,
					     stub_entry, NULL, NULL);
	for (f = embed_files; rc == SQLITE_OK && f->name; f++) {
		if (strncmp(f->name, "migrations/000", 14) || strcmp(f->name, "migrations/0007") > 0)
			continue;
		rc = sqlite3_exec(db, f->data, NULL, NULL, &err);
		CHECK(rc == SQLITE_OK, "%s: %s", f->name, err ? err : "?");
		sqlite3_free(err);
		err = NULL;
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA user_version = 6", NULL, NULL, NULL);
	*out = db;
	return rc;
}

/* Inserts role id's revisions 1..n, as revisions were written before 0007: whole. */
static void old_role(sqlite3 *db, int id, int n, struct written *w, const char *seed)
{
	char *sql, score[128];
	int i;

	sql = sqlite3_mprintf("INSERT INTO roles (id, slug, title, role_json, score_json, score,"
			      " zone, label, revision, created_at, updated_at) VALUES"
			      " (%d, 'old-%d', 'Old', '', '', 50, 'green', 'Green', %d,"
			      " '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')", id, id, n);
	CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(sql);
	for (i = 1; i <= n; i++) {
		json_t *role = json_loads(seed, 0, NULL);
		json_t *ev = json_object_get(json_object_get(role, "assessment"), "evidence");
		char *text;

		json_object_set_new(json_object_get(ev, "wage_trends"), "rationale",
				    json_sprintf("role %d, revision %d", id, i / 2));
		json_object_set_new(role, "slug", json_sprintf("old-%d", id));
		text = json_dumps(role, JSON_COMPACT | JSON_REAL_PRECISION(15));
		snprintf(score, sizeof(score), "{\"score\":50,\"revision\":%d}", i);
		sql = sqlite3_mprintf("INSERT INTO revisions (role_id, revision, role_json, score_json,"
				      " score, zone, label, created_at) VALUES (%d, %d, %Q, %Q, 50,"
				      " 'green', 'Green', '2026-01-01T00:00:00Z')", id, i, text,
				      score);
		CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_free(sql);
		w->role[i] = text;
		w->score[i] = strdup(score);
		w->last = i;
		json_decref(role);
	}
}

static void test_migration(void)
{
	const struct embed_file *f = embed_find("data/edge-ai-engineer.json");
	struct written w1, w2;
	struct store *s;
	sqlite3 *db = NULL;
	char path[256];

	memset(&w1, 0, sizeof(w1));
	memset(&w2, 0, sizeof(w2));
	new_path(path, sizeof(path));
	CHECK(f != NULL, "the seed");
	if (!f || make_v6(path, &db) != SQLITE_OK) {
		sqlite3_close(db);
		return;
	}
	old_role(db, 1, 7, &w1, f->data);
	old_role(db, 2, 3, &w2, f->data);
	sqlite3_close(db);
	s = open_at(path);
	if (!s)
		goto out;
	CHECK_INT(store_schema_version(s), store_schema_latest());
	check_history(s, "old-1", &w1);
	check_history(s, "old-2", &w2);
	{
		struct store_role r;

		CHECK_INT(store_role_get(s, "old-1", &r), 0);
		CHECK(r.role_json && !strcmp(r.role_json, w1.role[7]), "the current body of old-1");
		store_role_release(&r);
	}
	store_free(s);
	/* Revisions that share a body share its pieces: the two roles' 10 revisions differ in a
	 * slug and a rationale, so their pieces hold less than two bodies' bytes. */
	CHECK(sql_int(path, "SELECT sum(length(body)) FROM pieces") < 2 * (long long)strlen(w1.role[1]),
	      "pieces are shared: %lld bytes", sql_int(path, "SELECT sum(length(body)) FROM pieces"));
	CHECK_INT(sql_int(path, "SELECT count(*) FROM revisions"), 10);
	/* Only each role's current revision keeps its body whole. */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM revisions WHERE role_json IS NOT NULL"), 2);
out:
	written_release(&w1);
	written_release(&w2);
}

static const struct harness_test tests[] = {
	{ "engine_history", test_engine_history },
	{ "hard_texts", test_hard_texts },
	{ "migration", test_migration },
	{ NULL, NULL },
};

int main(void)
{
	char cmd[128];
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/aijri-pieces-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	rc = harness_main("store_pieces", tests);
	if (!rc) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", tmpdir);
	} else {
		fprintf(stderr, "databases kept in %s\n", tmpdir);
	}
	return rc;
}
