/*
 * test_revise.c: the revision engine (revise/) alone, without HTTP: the seed, a replace that
 * changes nothing, a part write, a failed condition, a taken slug, the commentary, archive,
 * and the import's check, each against a store in a temporary directory, each write in a job
 * on the store's writer thread as the API runs them.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "revise/cache.h"
#include "revise/events.h"
#include "revise/revise.h"
#include "store/store.h"
#include "tests/unit/harness.h"
#include "util/embed.h"

static char tmpdir[64];
static struct store *st;
static struct revise *rv;
static json_t *seed; /* the default role's body */

/* One write, run in a job: which entry point, its input, its result. */
enum kind { K_CREATE, K_REPLACE, K_PART, K_COMMENTARY, K_ARCHIVE };
struct call {
	enum kind kind;
	enum scoring_part part;
	const char *key;
	const char *if_match;
	json_t *body;
	struct revise_result res;
	enum rc rc;
};

static int match_exact(const char *if_match, int revision)
{
	char tag[32];

	snprintf(tag, sizeof(tag), "\"r%d\"", revision);
	return !strcmp(if_match, tag);
}

static int call_job(struct store_tx *tx, void *arg)
{
	struct call *c = arg;
	struct revise_target t = { "edge-ai-engineer", "tester", c->if_match, match_exact };

	switch (c->kind) {
	case K_CREATE:
		c->rc = revise_create(tx, rv, c->body, "tester", &c->res);
		break;
	case K_REPLACE:
		c->rc = revise_replace(tx, rv, &t, c->body, &c->res);
		break;
	case K_PART:
		c->rc = revise_part(tx, rv, &t, c->part, c->key, c->body, &c->res);
		break;
	case K_COMMENTARY:
		c->rc = revise_commentary(tx, rv, &t, c->body, &c->res);
		break;
	case K_ARCHIVE:
		c->rc = revise_archive(tx, rv, &t, &c->res);
		break;
	}
	return c->rc;
}

/* Runs a write in a job (body stolen; NULL: {}); c->rc is the engine's answer. */
static struct call *run(enum kind kind, enum scoring_part part, const char *key,
			const char *if_match, json_t *body)
{
	struct call *c = calloc(1, sizeof(*c));

	c->kind = kind;
	c->part = part;
	c->key = key;
	c->if_match = if_match;
	c->body = body ? body : json_object();
	revise_result_init(&c->res);
	(void)store_write(st, call_job, c);
	return c;
}

static void call_free(struct call *c)
{
	json_decref(c->body);
	revise_result_release(&c->res);
	free(c);
}

static int current_revision(void)
{
	struct store_role r;
	int n;

	if (store_role_get(st, "edge-ai-engineer", &r))
		return -1;
	n = r.archived ? -r.revision : r.revision;
	store_role_release(&r);
	return n;
}

static void test_seed(void)
{
	const struct embed_file *f = embed_find("data/edge-ai-engineer.json");

	CHECK(f != NULL, "the default data is embedded");
	if (!f)
		return;
	CHECK_INT(revise_seed(st, f->data), RC_OK);
	CHECK_INT(current_revision(), 1);
	/* A second seed of the same role: its slug is taken. */
	CHECK_INT(revise_seed(st, f->data), RC_CONFLICT);
	seed = json_loads(f->data, 0, NULL);
}

static void test_replace_unchanged(void)
{
	struct call *c = run(K_REPLACE, SCORING_ALL, NULL, NULL, json_deep_copy(seed));

	CHECK_INT(c->rc, RC_UNCHANGED);
	CHECK_INT(c->res.revision, 1);
	CHECK(json_is_array(c->res.changes) && !json_array_size(c->res.changes), "no changes");
	CHECK(json_is_object(c->res.score), "the current score block");
	CHECK_INT(current_revision(), 1);
	call_free(c);
}

static void test_part(void)
{
	json_t *g = json_object_get(json_object_get(seed, "assessment"), "growth");
	json_int_t score = json_integer_value(json_object_get(g, "score"));
	struct call *c;

	c = run(K_PART, SCORING_GROWTH, "growth", "\"r1\"",
		json_pack("{s:{s:I, s:s}, s:s}", "growth", "score", score < 2 ? score + 1 : score - 1,
			  "rationale", "tested", "reason", "a test"));
	CHECK_INT(c->rc, RC_OK);
	CHECK_INT(c->res.revision, 2);
	CHECK(json_array_size(c->res.changes) == 1 &&
		      !strcmp(json_string_value(json_array_get(c->res.changes, 0)), "growth"),
	      "changes name growth alone");
	CHECK(json_is_object(c->res.score), "the new score block");
	CHECK_INT(c->res.events, 0); /* no subscription wants any */
	CHECK_INT(current_revision(), 2);
	call_free(c);
}

static void test_precondition(void)
{
	struct call *c = run(K_COMMENTARY, SCORING_ALL, NULL, "\"r1\"",
			     json_pack("{s:n}", "commentary"));

	CHECK_INT(c->rc, RC_PRECONDITION);
	CHECK(strstr(c->res.detail, "\"r2\"") != NULL, "the detail names r2: %s", c->res.detail);
	CHECK_INT(current_revision(), 2);
	call_free(c);
}

static void test_invalid(void)
{
	struct call *c = run(K_COMMENTARY, SCORING_ALL, NULL, NULL,
			     json_pack("{s:n, s:i}", "commentary", "extra", 1));

	CHECK_INT(c->rc, RC_INVALID);
	CHECK(c->res.errs.n == 1 && !strcmp(c->res.errs.e[0].field, "extra"),
	      "the unknown field is named");
	call_free(c);
}

static void test_taken_slug(void)
{
	struct call *c = run(K_CREATE, SCORING_ALL, NULL, NULL, json_deep_copy(seed));

	CHECK_INT(c->rc, RC_CONFLICT);
	CHECK_STR(c->res.conflict_field, "slug");
	CHECK_STR(c->res.slug, "edge-ai-engineer");
	call_free(c);
}

static void test_archive(void)
{
	struct call *c = run(K_ARCHIVE, SCORING_ALL, NULL, NULL, NULL);

	CHECK_INT(c->rc, RC_OK);
	/* An archive is a revision of its own, saying who archived the role. */
	CHECK_INT(current_revision(), -3);
	call_free(c);
	c = run(K_REPLACE, SCORING_ALL, NULL, NULL, json_deep_copy(seed));
	CHECK_INT(c->rc, RC_NOTFOUND);
	call_free(c);
}

static void test_import_check(void)
{
	json_t *roles[2];
	struct scoring_errors errs;
	size_t bad = 9;

	roles[0] = json_deep_copy(seed);
	roles[1] = json_pack("{s:s}", "slug", "no-assessment");
	CHECK_INT(revise_import_check(roles, 2, &bad, &errs), RC_INVALID);
	CHECK_INT(bad, 1);
	CHECK(errs.n > 0, "the record's errors are listed");
	CHECK_INT(revise_import_check(roles, 1, &bad, &errs), RC_OK);
	json_decref(roles[0]);
	json_decref(roles[1]);
}

static void *touch_cache(void *arg)
{
	(void)revise_cache_slot(arg, "edge-ai-engineer");
	return NULL;
}

/* The cache asserts its owner: a thread other than the one that claimed it aborts. */
static void test_cache_owner(void)
{
	struct revise_cache c;
	pthread_t t;
	pid_t pid;
	int status = 0;

	revise_cache_init(&c);
	CHECK(revise_cache_slot(&c, "edge-ai-engineer") == NULL, "the owner may look");
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* The assertion's message is expected: not in the test's output. */
		if (!freopen("/dev/null", "w", stderr))
			_exit(2);
		if (pthread_create(&t, NULL, touch_cache, &c))
			_exit(2);
		pthread_join(t, NULL);
		_exit(0);
	}
	CHECK(pid > 0, "fork");
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	      "another thread's access aborts (status %d)", status);
	revise_cache_release(&c);
}

static const struct harness_test tests[] = {
	{ "seed", test_seed },
	{ "replace_unchanged", test_replace_unchanged },
	{ "part", test_part },
	{ "precondition", test_precondition },
	{ "invalid", test_invalid },
	{ "taken_slug", test_taken_slug },
	{ "archive", test_archive },
	{ "import_check", test_import_check },
	{ "cache_owner", test_cache_owner },
	{ NULL, NULL },
};

int main(void)
{
	char path[128], err[256], cmd[128];
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/aijri-revise-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/db.sqlite", tmpdir);
	if (store_open(path, &st, err, sizeof(err))) {
		fprintf(stderr, "store_open: %s\n", err);
		return 1;
	}
	rv = revise_new(st);
	if (!rv) {
		fprintf(stderr, "revise_new failed\n");
		return 1;
	}
	rc = harness_main("revise", tests);
	revise_free(rv);
	store_free(st);
	json_decref(seed);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return rc;
}
