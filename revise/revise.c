/*
 * revise.c: the entry points of the revision engine (revise.h). A create reads a whole role
 * body; an update starts from the current revision (from the writer's cache when it holds it,
 * else from the store), makes the new role by its own rule (a replace, a part, the
 * commentary), and writes a revision only when something changed. Every path ends in
 * revise_write() (write.c), so an imported, seeded or created role is stored, scored and
 * announced to webhooks alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body/assessment.h"
#include "body/recency.h"
#include "revise/revise_int.h"

/* ---------------------------------------------------------------------------------------
 * The engine and its results
 */

/* revise_new's and revise_free's jobs: the cache is claimed and released on the writer
 * thread; ran says that the job did run (store_write's rc cannot: a failed commit of its
 * batch says RC_IO for a job that ran). */
struct cache_job {
	struct revise *rv;
	int ran;
};

static int claim_job(struct store_tx *tx, void *arg)
{
	struct cache_job *j = arg;

	(void)tx;
	revise_cache_init(&j->rv->cache);
	j->ran = 1;
	return RC_UNCHANGED;
}

static int release_job(struct store_tx *tx, void *arg)
{
	struct cache_job *j = arg;

	(void)tx;
	revise_cache_release(&j->rv->cache);
	j->ran = 1;
	return RC_UNCHANGED;
}

struct revise *revise_new(struct store *s)
{
	struct cache_job j = { NULL, 0 };

	j.rv = calloc(1, sizeof(*j.rv));
	if (!j.rv)
		return NULL;
	j.rv->store = s;
	(void)store_write(s, claim_job, &j);
	if (!j.ran) {
		free(j.rv);
		return NULL;
	}
	return j.rv;
}

void revise_free(struct revise *rv)
{
	struct cache_job j = { rv, 0 };

	if (!rv)
		return;
	/* Jobs run in order: once this one runs, none queued before it can touch the cache. */
	(void)store_write(rv->store, release_job, &j);
	if (!j.ran) {
		/* The writer is gone, and with it every job that could touch the cache: this
		 * thread is the last that can, and takes it over to release it. */
		rv->cache.owner = pthread_self();
		revise_cache_release(&rv->cache);
	}
	free(rv);
}

void revise_result_init(struct revise_result *r)
{
	memset(r, 0, sizeof(*r));
	scoring_errors_init(&r->errs);
}

void revise_result_release(struct revise_result *r)
{
	json_decref(r->score);
	json_decref(r->changes);
	free(r->slug);
	free(r->role_text);
	free(r->score_text);
	memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------------------------------
 * Create
 */

enum rc revise_create(struct store_tx *tx, struct revise *rv, json_t *body, const char *actor,
		      struct revise_result *out)
{
	struct revise_op op = { rv ? &rv->cache : NULL, NULL, actor, 0, out };
	struct scoring_input in;
	json_t *role = NULL, *changes = NULL;
	char *reason = NULL;
	enum rc rc;

	revise_take_reason(body, &reason, &out->errs);
	rc = assessment_read_role(body, ASSESSMENT_REQUIRE_SLUG, &in, &role, &out->errs);
	if (rc || out->errs.n) {
		rc = RC_INVALID;
		goto out;
	}
	out->slug = strdup(json_string_value(json_object_get(role, "slug")));
	changes = json_array();
	rc = out->slug && changes ? RC_OK : RC_NOMEM;
	if (rc)
		goto out;
	op.slug = out->slug;
	rc = recency_fill(role, NULL, store_tx_now(tx));
	if (rc)
		goto out;
	rc = revise_write(tx, &op, role, &in, 1, NULL, changes, reason ? reason : "created");
out:
	free(reason);
	json_decref(role);
	json_decref(changes);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * Updates: everything that starts from the current revision
 */

/* The head of t's live role, checked against t's condition. */
static enum rc target_head(struct store_tx *tx, const struct revise_target *t,
			   struct store_role_head *head, struct revise_result *out)
{
	enum rc rc = store_tx_role_head(tx, t->slug, head);

	if (rc)
		return rc;
	if (head->archived)
		return RC_NOTFOUND;
	if (t->if_match && !t->if_match_ok(t->if_match, head->revision)) {
		snprintf(out->detail, sizeof(out->detail),
			 "If-Match does not name the current revision \"r%d\"", head->revision);
		return RC_PRECONDITION;
	}
	return RC_OK;
}

/* The current role of an update, with its numbers and its published result (prev's strings
 * point into the cache or into label and zone: use them within the job). */
struct current {
	json_t *role, *block;    /* new references */
	struct scoring_input in;
	struct events_state prev;
	char *label;
	char zone[8];
};

static void current_release(struct current *c)
{
	json_decref(c->role);
	json_decref(c->block);
	free(c->label);
}

/* Reads the current role from the writer's cache when that holds the current revision, else
 * from the store (and then caches it). */
static enum rc current_read(struct store_tx *tx, struct revise_op *op,
			    const struct store_role_head *head, struct current *c)
{
	struct revise_cache_entry *e = NULL;
	struct store_role cur;
	enum rc rc;

	if (op->cache) {
		revise_cache_sync(op->cache, store_tx_undone(tx));
		e = revise_cache_find(op->cache, op->slug, head->id, head->revision);
	}
	if (e) {
		c->role = json_incref(e->role);
		c->block = json_incref(e->block);
		c->in = e->in;
		c->prev = (struct events_state){ e->score, e->zone, e->label, e->revision };
		return RC_OK;
	}
	rc = store_tx_role_get(tx, op->slug, &cur);
	if (rc)
		return rc;
	c->role = assessment_role_loads(cur.role_json, cur.evidence_as_of);
	c->block = cur.score_json ? json_loads(cur.score_json, 0, NULL) : NULL;
	c->label = cur.label;
	cur.label = NULL;
	memcpy(c->zone, cur.zone, sizeof(cur.zone));
	c->prev = (struct events_state){ cur.score, c->zone, c->label, cur.revision };
	rc = c->role && c->block && !assessment_input(c->role, &c->in) ? RC_OK : RC_IO;
	if (!rc && op->cache)
		revise_cache_put(op->cache, op->slug, head->id, cur.revision, c->role, c->block, &c->in,
				 &c->prev, NULL);
	store_role_release(&cur);
	return rc;
}

/* How an update makes its new role from the current one: *new_role a new reference (it may
 * share members with cur_role, which must not change), *in its numbers; errors in errs. It
 * may set *reason when the body gave none. */
struct update {
	enum rc (*make)(const struct update *u, json_t *body, json_t *cur_role,
			struct scoring_input *in, json_t **new_role, char **reason,
			struct scoring_errors *errs);
	const char *slug;       /* replace: the path's slug */
	enum scoring_part part; /* a part: which */
	const char *key;        /* a part, the commentary: the body member that holds it */
};

/* The answer to an update that changes nothing: the current revision and score. */
static enum rc unchanged(struct revise_result *out, int revision, json_t *block)
{
	out->revision = revision;
	out->score = json_incref(block);
	out->changes = json_array();
	return out->changes ? RC_UNCHANGED : RC_NOMEM;
}

static enum rc update(struct store_tx *tx, struct revise *rv, const struct revise_target *t,
		      const struct update *u, json_t *body, struct revise_result *out)
{
	struct revise_op op = { rv ? &rv->cache : NULL, t->slug, t->actor, 0, out };
	struct store_role_head head;
	struct current c;
	json_t *new_role = NULL, *changes = NULL;
	char *reason = NULL;
	enum rc rc;

	memset(&c, 0, sizeof(c));
	rc = target_head(tx, t, &head, out);
	if (rc)
		goto out;
	op.role_id = head.id;
	rc = current_read(tx, &op, &head, &c);
	if (rc)
		goto out;
	revise_take_reason(body, &reason, &out->errs);
	rc = u->make(u, body, c.role, &c.in, &new_role, &reason, &out->errs);
	if (rc || out->errs.n || !new_role) {
		rc = out->errs.n ? RC_INVALID : rc ? rc : RC_NOMEM;
		goto out;
	}
	rc = recency_fill(new_role, c.role, store_tx_now(tx));
	if (rc)
		goto out;
	changes = assessment_diff(c.role, new_role);
	if (!changes)
		rc = RC_NOMEM;
	else if (!json_array_size(changes))
		rc = unchanged(out, head.revision, c.block);
	else
		rc = revise_write(tx, &op, new_role, &c.in, head.revision + 1, &c.prev, changes,
				  reason);
out:
	free(reason);
	current_release(&c);
	json_decref(new_role);
	json_decref(changes);
	return rc;
}

static enum rc make_replace(const struct update *u, json_t *body, json_t *cur_role,
			    struct scoring_input *in, json_t **new_role, char **reason,
			    struct scoring_errors *errs)
{
	json_t *slug = json_object_get(body, "slug");

	(void)cur_role;
	(void)reason;
	if (slug && (!json_is_string(slug) || strcmp(json_string_value(slug), u->slug)))
		scoring_errors_add(errs, "slug", "must be the slug of the path, \"%s\"", u->slug);
	/* The path's slug, so that the reader can refuse an alias equal to it. */
	json_object_set_new(body, "slug", json_string(u->slug));
	return assessment_read_role(body, 0, in, new_role, errs);
}

/* The member of a part write's body that holds the part (NULL, reported, when missing); every
 * other member is reported as unknown. */
static json_t *part_member(json_t *body, const char *key, const char *missing,
			   struct scoring_errors *errs)
{
	const char *k;
	json_t *v, *part = NULL;

	json_object_foreach(body, k, v) {
		if (!strcmp(k, key))
			part = v;
		else
			scoring_errors_add(errs, k, "unknown field");
	}
	if (!part)
		scoring_errors_add(errs, key, "%s", missing);
	return part;
}

/* A shallow copy of cur_role with member replaced by norm: the cached role it shares its
 * other members with is never changed. */
static json_t *role_with(json_t *cur_role, const char *member, json_t *norm)
{
	json_t *r = json_copy(cur_role);

	if (r)
		json_object_set(r, member, norm);
	return r;
}

static enum rc make_part(const struct update *u, json_t *body, json_t *cur_role,
			 struct scoring_input *in, json_t **new_role, char **reason,
			 struct scoring_errors *errs)
{
	json_t *part, *norm = NULL;
	enum rc rc;

	part = part_member(body, u->key, u->part == SCORING_OVERRIDE
						 ? "is required (null removes it)"
						 : "is required", errs);
	if (!part)
		return RC_INVALID;
	/* Read the part even after an unknown field, so every broken field is listed. */
	rc = assessment_read_part(u->part, part, u->key, json_object_get(cur_role, "assessment"),
				  in, &norm, errs);
	if (!rc && !errs->n && norm) {
		*new_role = role_with(cur_role, "assessment", norm);
		/* The override's own reason serves when the body gives none. */
		if (!*reason && u->part == SCORING_OVERRIDE && json_is_object(part) &&
		    json_is_string(json_object_get(part, "reason")))
			*reason = strdup(json_string_value(json_object_get(part, "reason")));
	}
	json_decref(norm);
	return rc;
}

static enum rc make_commentary(const struct update *u, json_t *body, json_t *cur_role,
			       struct scoring_input *in, json_t **new_role, char **reason,
			       struct scoring_errors *errs)
{
	json_t *part, *norm;

	(void)in;
	(void)reason;
	part = part_member(body, u->key, "is required (null removes it)", errs);
	if (!part)
		return RC_INVALID;
	norm = assessment_read_commentary(part, u->key, errs);
	if (!errs->n && norm)
		*new_role = role_with(cur_role, "commentary", norm);
	json_decref(norm);
	return RC_OK;
}

enum rc revise_replace(struct store_tx *tx, struct revise *rv, const struct revise_target *t,
		       json_t *body, struct revise_result *out)
{
	struct update u = { make_replace, t->slug, SCORING_ALL, NULL };

	return update(tx, rv, t, &u, body, out);
}

enum rc revise_part(struct store_tx *tx, struct revise *rv, const struct revise_target *t,
		    enum scoring_part part, const char *key, json_t *body,
		    struct revise_result *out)
{
	struct update u = { make_part, t->slug, part, key };

	return update(tx, rv, t, &u, body, out);
}

enum rc revise_commentary(struct store_tx *tx, struct revise *rv, const struct revise_target *t,
			  json_t *body, struct revise_result *out)
{
	struct update u = { make_commentary, t->slug, SCORING_ALL, "commentary" };

	return update(tx, rv, t, &u, body, out);
}

enum rc revise_archive(struct store_tx *tx, struct revise *rv, const struct revise_target *t,
		       struct revise_result *out)
{
	struct store_role_head head;
	enum rc rc = target_head(tx, t, &head, out);

	if (rc)
		return rc;
	rc = events_queue_archived(tx, t->slug, &out->events);
	if (!rc)
		rc = store_tx_role_archive(tx, t->slug, t->actor);
	if (rv)
		revise_cache_drop(&rv->cache, t->slug);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * The batch writes: the seed and `aijri import`
 */

struct seed_job {
	json_t *body;
};

static int seed_job(struct store_tx *tx, void *arg)
{
	struct seed_job *j = arg;
	struct revise_result *res = calloc(1, sizeof(*res));
	enum rc rc;

	if (!res)
		return RC_NOMEM;
	revise_result_init(res);
	rc = revise_create(tx, NULL, j->body, NULL, res);
	revise_result_release(res);
	free(res);
	return rc;
}

enum rc revise_seed(struct store *s, const char *json_text)
{
	struct seed_job j;
	enum rc rc;

	j.body = json_loads(json_text, 0, NULL);
	if (!j.body)
		return RC_INVALID;
	json_object_set_new(j.body, "reason", json_string("default data"));
	rc = store_write(s, seed_job, &j);
	json_decref(j.body);
	return rc;
}

struct import_job {
	revise_import_next next;
	void *ctx;
	size_t bad;                  /* the index that failed */
	struct scoring_errors *errs; /* the caller's */
};

/* After record i was refused for a slug that is taken: the first invalid record after it,
 * if any, is the one to name (RC_INVALID, j->bad and j->errs set), as when every record was
 * checked before any was written. */
static enum rc import_later_invalid(struct import_job *j, size_t i)
{
	struct scoring_input in;
	json_t *v, *norm = NULL;
	enum rc rc;

	for (i++;; i++) {
		if (j->next(j->ctx, i, &v) || !v)
			return RC_OK;
		scoring_errors_init(j->errs);
		rc = assessment_read_role(v, ASSESSMENT_REQUIRE_SLUG, &in, &norm, j->errs);
		json_decref(norm);
		norm = NULL;
		if (rc || j->errs->n) {
			j->bad = i;
			return RC_INVALID;
		}
	}
}

/* Record i of an import, created as revise_create would (the body is its own: no copy); its
 * errors into j. */
static enum rc import_one(struct store_tx *tx, struct import_job *j, size_t i, json_t *body,
			  struct revise_result *res)
{
	enum rc rc;

	if (json_object_set_new(body, "reason", json_string("imported")))
		return RC_NOMEM;
	rc = revise_create(tx, NULL, body, NULL, res);
	if (!rc)
		return RC_OK;
	j->bad = i;
	if (rc == RC_CONFLICT && import_later_invalid(j, i) == RC_INVALID)
		return RC_INVALID;
	*j->errs = res->errs;
	if (rc == RC_CONFLICT)
		scoring_errors_add(j->errs, "slug", "%s: \"%s\"",
				   res->detail[0] ? res->detail : "is taken", res->slug ? res->slug : "");
	return rc;
}

static int import_job(struct store_tx *tx, void *arg)
{
	struct import_job *j = arg;
	struct revise_result *res = calloc(1, sizeof(*res));
	json_t *v = NULL;
	size_t i;
	enum rc rc = RC_OK;

	if (!res)
		return RC_NOMEM;
	for (i = 0; !rc; i++) {
		rc = j->next(j->ctx, i, &v);
		if (rc || !v)
			break;
		revise_result_init(res);
		rc = import_one(tx, j, i, v, res);
		revise_result_release(res);
	}
	free(res);
	return rc;
}

enum rc revise_import_check(json_t *const *roles, size_t n, size_t *bad_index,
			    struct scoring_errors *errs)
{
	struct scoring_input in;
	json_t *norm = NULL;
	size_t i;
	enum rc rc;

	scoring_errors_init(errs);
	*bad_index = 0;
	for (i = 0; i < n; i++) {
		rc = assessment_read_role(roles[i], ASSESSMENT_REQUIRE_SLUG, &in, &norm, errs);
		json_decref(norm);
		norm = NULL;
		if (rc || errs->n) {
			*bad_index = i;
			return RC_INVALID;
		}
	}
	return RC_OK;
}

enum rc revise_import(struct store *s, revise_import_next next, void *ctx, size_t *bad_index,
		      struct scoring_errors *errs)
{
	struct import_job j;
	enum rc rc;

	/* One pass: each record is validated as it is created (a failure rolls the whole job
	 * back), not checked once before and read again for its write. */
	scoring_errors_init(errs);
	*bad_index = 0;
	memset(&j, 0, sizeof(j));
	j.next = next;
	j.ctx = ctx;
	j.errs = errs;
	rc = store_write(s, import_job, &j);
	if (rc)
		*bad_index = j.bad;
	return rc;
}
