/*
 * block.c: what is made of a read assessment: the score block of API.md (the figures of
 * scoring/, rounded as API.md shows them), the one pipeline that scores a body (POST /score
 * and `aijri score`), and the paths that changed between two versions of a role. It computes
 * no figure itself: that is scoring/'s job.
 */
#include <math.h>
#include <string.h>

#include "body/assessment_int.h"
#include "util/rc.h"

/* Four decimals: enough for every figure of the method, and 3.7500000000000004 reads 3.75. */
static double as_round4(double x)
{
	double r = round(x * 1e4) / 1e4;

	return r == 0 ? 0.0 : r;
}

/* Percent sums: an integer when they are whole (25, not 25.0), as API.md shows them. */
static json_t *as_share(double x)
{
	double r = as_round4(x);

	if (floor(r) == r && fabs(r) < 1e15)
		return json_integer((json_int_t)r);
	return json_real(r);
}

/* The formula's own verdict, beside an override: API.md's {score, zone, label}. */
static json_t *as_verdict(const struct scoring_verdict *v)
{
	return json_pack("{s:f, s:s, s:s}", "score", v->score, "zone", scoring_zone_name(v->zone),
			 "label", v->label);
}

json_t *assessment_score_block(const struct scoring_result *r, const char *slug, const char *title,
			       int revision, const char *updated_at)
{
	json_t *b = json_object();

	json_object_set_new(b, "role", as_str_or_null(slug));
	json_object_set_new(b, "title", as_str_or_null(title));
	json_object_set_new(b, "score", json_real(r->published.score));
	json_object_set_new(b, "score_exact", json_real(as_round4(r->published.score_exact)));
	json_object_set_new(b, "zone", json_string(scoring_zone_name(r->published.zone)));
	json_object_set_new(b, "label", json_string(r->published.label));
	json_object_set_new(b, "weighted_task_score", json_real(as_round4(r->weighted_task_score)));
	json_object_set_new(b, "task_resistance", json_real(as_round4(r->task_resistance)));
	json_object_set_new(b, "evidence",
			    json_pack("{s:i, s:f}", "total", r->evidence_total, "modifier",
				      as_round4(r->evidence_modifier)));
	json_object_set_new(b, "barriers",
			    json_pack("{s:i, s:f, s:s}", "total", r->barrier_total, "modifier",
				      as_round4(r->barrier_modifier), "strength",
				      r->barrier_strength ? r->barrier_strength : ""));
	json_object_set_new(b, "protective", json_pack("{s:i}", "total", r->protective_total));
	json_object_set_new(b, "growth",
			    json_pack("{s:i, s:f, s:s}", "score", r->growth, "modifier",
				      as_round4(r->growth_modifier), "wording",
				      r->growth_wording ? r->growth_wording : ""));
	json_object_set_new(b, "raw", json_real(as_round4(r->raw)));
	json_object_set_new(b, "share_scoring_3plus", as_share(r->share_scoring_3plus));
	json_object_set_new(b, "impact",
			    json_pack("{s:o, s:o, s:o}", "displaced", as_share(r->impact_displaced),
				      "augmented", as_share(r->impact_augmented), "not_involved",
				      as_share(r->impact_not_involved)));
	json_object_set_new(b, "composition",
			    json_pack("{s:f, s:f, s:f, s:f, s:f}", "task_resistance",
				      r->comp_task_resistance, "evidence", r->comp_evidence,
				      "barriers", r->comp_barriers, "protective",
				      r->comp_protective, "growth", r->comp_growth));
	/* The reason lives in the assessment, not in the numbers: see
	 * assessment_score_block_set_reason(). */
	if (r->has_override)
		json_object_set_new(b, "override",
				    json_pack("{s:f, s:n}", "score", r->override_score, "reason"));
	else
		json_object_set_new(b, "override", json_null());
	json_object_set_new(b, "formula", as_verdict(&r->formula));
	if (revision > 0)
		json_object_set_new(b, "revision", json_integer(revision));
	if (updated_at)
		json_object_set_new(b, "updated_at", json_string(updated_at));
	json_object_set_new(b, "method_version", json_string(SCORING_METHOD_VERSION));
	return b;
}

void assessment_score_block_set_reason(json_t *block, json_t *norm)
{
	json_t *ov, *a = norm, *reason;

	if (json_is_object(norm) && json_is_object(json_object_get(norm, "assessment")))
		a = json_object_get(norm, "assessment");
	ov = json_object_get(block, "override");
	reason = json_object_get(json_object_get(a, "override"), "reason");
	if (json_is_object(ov) && json_is_string(reason))
		json_object_set(ov, "reason", reason);
}

enum rc assessment_score_body(json_t *body, json_t **block, struct scoring_errors *errs)
{
	struct scoring_input in;
	struct scoring_result res;
	json_t *norm = NULL;
	const char *slug = NULL, *title = NULL;
	enum rc rc;

	*block = NULL;
	if (json_is_object(body) && json_object_get(body, "assessment")) {
		rc = assessment_read_role(body, ASSESSMENT_OPTIONAL_META, &in, &norm, errs);
		if (!rc) {
			slug = json_string_value(json_object_get(norm, "slug"));
			title = json_string_value(json_object_get(norm, "title"));
		}
	} else {
		rc = assessment_read(body, "", &in, &norm, errs);
	}
	if (rc || errs->n || !norm) {
		rc = RC_INVALID;
		goto out;
	}
	/* A read assessment is a valid one: this fails only on a bug, with errs left empty. */
	if (scoring_eval(&in, &res)) {
		rc = RC_INVALID;
		goto out;
	}
	*block = assessment_score_block(&res, slug, title, 0, NULL);
	assessment_score_block_set_reason(*block, norm);
	rc = *block ? RC_OK : RC_NOMEM;
out:
	json_decref(norm);
	return rc;
}

static int as_same(json_t *a, json_t *b)
{
	if (!a || !b)
		return !a && !b;
	return json_equal(a, b);
}

static void as_diff_dims(json_t *old_a, json_t *new_a, const char *part,
			 const char *const *names, int n, json_t *out)
{
	char path[SCORING_FIELD_LEN];
	json_t *o = json_object_get(old_a, part), *nw = json_object_get(new_a, part);
	int i;

	for (i = 0; i < n; i++) {
		if (as_same(json_object_get(o, names[i]), json_object_get(nw, names[i])))
			continue;
		as_path(path, sizeof(path), "%s.%s", part, names[i]);
		json_array_append_new(out, json_string(path));
	}
}

/* A narrative member absent from a role stored before the narrative existed is its default:
 * null, an empty list, a commentary of nulls. */
static json_t *as_member_or_null(json_t *v)
{
	return !v || (json_is_array(v) && !json_array_size(v)) ? json_null() : v;
}

static void as_diff_narrative(json_t *old_role, json_t *new_role, json_t *out)
{
	char path[SCORING_FIELD_LEN];
	int i, j;

	for (i = 0; i < AS_N_NARRATIVE; i++) {
		const char *k = as_narrative[i].name;
		json_t *o = json_object_get(old_role, k), *n = json_object_get(new_role, k);

		if (as_narrative[i].kind != AS_N_COMMENTARY) {
			if (!json_equal(as_member_or_null(o), as_member_or_null(n)))
				json_array_append_new(out, json_string(k));
			continue;
		}
		for (j = 0; j < ASSESSMENT_N_COMMENTARY; j++) {
			const char *sec = assessment_commentary_names[j];

			if (json_equal(as_member_or_null(json_object_get(o, sec)),
				       as_member_or_null(json_object_get(n, sec))))
				continue;
			as_path(path, sizeof(path), "%s.%s", k, sec);
			json_array_append_new(out, json_string(path));
		}
	}
}
/* Appends the paths of part p that differ between the assessments oa and na. */
static void as_diff_part(const struct as_part *p, json_t *oa, json_t *na, json_t *out)
{
	json_t *o = json_object_get(oa, p->name), *n = json_object_get(na, p->name);

	if (p->dims) {
		as_diff_dims(oa, na, p->name, p->dims, p->n_dims, out);
		return;
	}
	/* An absent override and a null one are the same: no override. */
	if (p->null_is_absent && json_is_null(o))
		o = NULL;
	if (p->null_is_absent && json_is_null(n))
		n = NULL;
	if (!as_same(o, n))
		json_array_append_new(out, json_string(p->name));
}

json_t *assessment_diff(json_t *old_role, json_t *new_role)
{
	static const char *const role_keys[] = { "slug", "title", "aliases", "seniority",
						 "category", "primary_function", "not_this_role",
						 "typical_experience", "codes" };
	json_t *out = json_array(), *oa = old_role, *na = new_role;
	size_t i;

	if (json_object_get(old_role, "assessment") || json_object_get(new_role, "assessment")) {
		for (i = 0; i < sizeof(role_keys) / sizeof(role_keys[0]); i++)
			if (!as_same(json_object_get(old_role, role_keys[i]),
				     json_object_get(new_role, role_keys[i])))
				json_array_append_new(out, json_string(role_keys[i]));
		as_diff_narrative(old_role, new_role, out);
		oa = json_object_get(old_role, "assessment");
		na = json_object_get(new_role, "assessment");
	}
	for (i = 0; i < AS_N_PARTS; i++)
		as_diff_part(&as_parts[i], oa, na, out);
	return out;
}
