/*
 * write.c: storing one revision of a role (revise_int.h): the score recomputed through
 * scoring/, the role, its score block and its changes dumped (through the cached role's memo
 * when there is one), the list columns the store keeps beside them, the row written, the
 * events queued. It decides nothing about what may be written: revise.c has done that.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body/assessment.h"
#include "body/codes.h"
#include "body/recency.h"
#include "revise/revise_int.h"
#include "util/clock.h"

#define MAX_ALIASES 64

void revise_take_reason(json_t *body, char **reason, struct scoring_errors *errs)
{
	json_t *r = json_object_get(body, "reason");

	*reason = NULL;
	if (!r || json_is_null(r))
		goto out;
	if (!json_is_string(r) || json_string_length(r) > 1000)
		scoring_errors_add(errs, "reason", "must be a string of at most 1000 characters");
	else if (!assessment_text_ok(json_string_value(r), 1) ||
		 strlen(json_string_value(r)) != json_string_length(r))
		scoring_errors_add(errs, "reason", "must not contain control characters "
				   "(tab and line breaks are allowed)");
	else
		*reason = strdup(json_string_value(r));
out:
	/* Taken either way: what is left of the body is checked for unknown fields. */
	json_object_del(body, "reason");
}

/* The role's string member, or NULL. */
static const char *role_str(json_t *role, const char *key)
{
	return json_string_value(json_object_get(role, key));
}

/* Whether the changed paths name `path`. */
static int changes_name(json_t *changes, const char *path)
{
	size_t i;
	json_t *c;

	json_array_foreach(changes, i, c)
		if (!strcmp(json_string_value(c), path))
			return 1;
	return 0;
}

/* The aliases of a revision's row: their slugs (distinct, none the role's own) and names. */
struct aliases {
	char slugs[MAX_ALIASES][128];
	const char *slug_ptrs[MAX_ALIASES], *names[MAX_ALIASES];
};

/* Fills the alias arrays of w from the normalized role; they point into role and al. */
static void aliases_of(json_t *role, const char *slug, struct store_role_write *w,
		       struct aliases *al)
{
	json_t *aliases = json_object_get(role, "aliases"), *a;
	size_t i;
	int n = 0, j;

	json_array_foreach(aliases, i, a) {
		int dup = 0;

		if (n >= MAX_ALIASES)
			break;
		if (assessment_slugify(json_string_value(a), al->slugs[n], 128))
			continue;
		if (!strcmp(al->slugs[n], slug))
			continue;
		for (j = 0; j < n; j++)
			dup |= !strcmp(al->slugs[j], al->slugs[n]);
		if (dup)
			continue;
		al->slug_ptrs[n] = al->slugs[n];
		al->names[n] = json_string_value(a);
		n++;
	}
	w->alias_slugs = al->slug_ptrs;
	w->alias_names = al->names;
	w->n_aliases = n;
}

/* What a revision's row is made of, besides the role's own members. */
struct revision_text {
	json_t *block;
	char *role_text, *score_text, *changes_text;
	char *soc, *isco, *as_of_map;
	char oldest[CLOCK_DAY_LEN];
	struct assessment_memo memo; /* the dumps of role's members, for the cache */
};

static void revision_text_release(struct revision_text *t)
{
	assessment_memo_release(&t->memo);
	json_decref(t->block);
	free(t->role_text);
	free(t->score_text);
	free(t->changes_text);
	free(t->soc);
	free(t->isco);
	free(t->as_of_map);
}

/* The score block of res and the texts of the row. An update's role shares its unchanged
 * members with the cached one before it: it is dumped through that one's memo. */
static enum rc revision_text_make(struct revise_op *op, json_t *role,
				  const struct scoring_result *res, int revision, const char *now,
				  const struct events_state *prev, json_t *changes,
				  struct revision_text *t)
{
	struct revise_cache_entry *e = prev && op->cache ? revise_cache_slot(op->cache, op->slug)
							 : NULL;

	memset(t, 0, sizeof(*t));
	t->block = assessment_score_block(res, op->slug, role_str(role, "title"), revision, now);
	assessment_score_block_set_reason(t->block, role);
	t->role_text = assessment_dumps_memo(role, e ? &e->memo : NULL, &t->memo);
	t->score_text = assessment_dumps(t->block);
	t->changes_text = assessment_dumps(changes);
	t->as_of_map = recency_map(role, t->oldest, sizeof(t->oldest));
	if (!t->block || !t->role_text || !t->score_text || !t->changes_text || !t->as_of_map)
		return RC_NOMEM;
	if (codes_join(role, "soc", ' ', &t->soc) || codes_join(role, "isco", ' ', &t->isco))
		return RC_NOMEM;
	return RC_OK;
}

/* Writes the row; a conflict says which field in op->out. */
static enum rc revision_store(struct store_tx *tx, struct revise_op *op,
			      const struct store_role_write *w, int create)
{
	struct revise_result *out = op->out;
	enum rc rc;

	/* A create whose slug is taken fails on that first: the 409 then names the slug, and any
	 * later conflict is an alias's. */
	if (create && store_tx_slug_taken(tx, op->slug) == RC_CONFLICT) {
		out->conflict_field = "slug";
		snprintf(out->detail, sizeof(out->detail),
			 "the slug \"%.100s\" is taken by another role, or is one's alias "
			 "(archived roles keep theirs)", op->slug);
		return RC_CONFLICT;
	}
	rc = create ? store_tx_role_create(tx, w) : store_tx_role_update(tx, w);
	if (rc == RC_CONFLICT) {
		out->conflict_field = "aliases";
		snprintf(out->detail, sizeof(out->detail), "%s",
			 "an alias is taken by another role, as its slug or an alias "
			 "(archived roles keep theirs)");
	}
	return rc;
}

/* What a create answers with: the stored texts, moved out of t. */
static void result_created(struct revise_result *out, struct revision_text *t, int revision,
			   const char *now)
{
	out->revision = revision;
	out->score_changed = 1;
	out->role_text = t->role_text;
	out->score_text = t->score_text;
	t->role_text = NULL;
	t->score_text = NULL;
	snprintf(out->created_at, sizeof(out->created_at), "%s", now);
}

enum rc revise_write(struct store_tx *tx, struct revise_op *op, json_t *role,
		     const struct scoring_input *in, int revision, const struct events_state *prev,
		     json_t *changes, const char *reason)
{
	struct scoring_result res;
	struct store_role_write w;
	struct aliases al;
	struct revision_text t;
	struct events_state cur;
	const char *now = store_tx_now(tx);
	enum rc rc;

	memset(&t, 0, sizeof(t));
	rc = scoring_eval(in, &res);
	if (rc)
		goto out;
	rc = revision_text_make(op, role, &res, revision, now, prev, changes, &t);
	if (rc)
		goto out;
	memset(&w, 0, sizeof(w));
	w.slug = op->slug;
	w.title = role_str(role, "title");
	w.role_json = t.role_text;
	w.score_json = t.score_text;
	w.score = res.published.score;
	w.zone = scoring_zone_name(res.published.zone);
	w.label = res.published.label;
	w.category = role_str(role, "category");
	w.seniority = role_str(role, "seniority");
	w.soc_codes = t.soc;
	w.isco_codes = t.isco;
	w.evidence_as_of = t.as_of_map;
	w.oldest_as_of = t.oldest[0] ? t.oldest : NULL;
	w.keep_aliases = prev && !changes_name(changes, "aliases");
	aliases_of(role, op->slug, &w, &al);
	w.reason = reason;
	w.changed_json = t.changes_text;
	w.actor = op->actor;
	w.revision = revision;
	if (prev && op->role_id) {
		w.head_id = op->role_id;
		w.head_revision = prev->revision;
		w.prev_score = prev->score;
		w.prev_zone = prev->zone;
		w.prev_label = prev->label;
	}
	rc = revision_store(tx, op, &w, !prev);
	if (rc)
		goto out;
	cur.score = res.published.score;
	cur.zone = w.zone;
	cur.label = w.label;
	cur.revision = revision;
	rc = events_queue_revision(tx, op->slug, w.title, prev, &cur, reason, &op->out->events);
	if (rc)
		goto out;
	if (!prev) {
		result_created(op->out, &t, revision, now);
		/* A slot of this slug could only hold a create that was rolled back. */
		if (op->cache)
			revise_cache_drop(op->cache, op->slug);
		goto out;
	}
	op->out->revision = revision;
	op->out->score_changed = fabs(prev->score - res.published.score) > 1e-9;
	op->out->score = json_incref(t.block);
	op->out->changes = json_incref(changes);
	if (op->cache)
		revise_cache_put(op->cache, op->slug, op->role_id, revision, role, t.block, in, &cur,
				 &t.memo);
out:
	revision_text_release(&t);
	return rc;
}
