/*
 * parts.c: the parts of an assessment (tasks, evidence, barriers, protective principles,
 * growth, the override), read by one loop over the table as_parts: a whole assessment
 * (assessment_read), one part of a partial update (assessment_read_part), and the numbers of
 * a stored one (assessment_input). The numbers go into a scoring_input; the rules on them are
 * scoring_validate()'s, which every reader here calls once, so one call lists every error.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "body/assessment_int.h"
#include "body/recency.h"
#include "util/clock.h"
#include "util/rc.h"

/* A normalized dimension: {"score", "rationale"[, "sources"[, "as_of"]]} in that order.
 * Steals the references it is given. */
static json_t *as_dim_new(json_t *score, json_t *rationale, json_t *sources, json_t *as_of)
{
	json_t *o = json_object();

	json_object_set_new(o, "score", score);
	json_object_set_new(o, "rationale", rationale);
	if (sources)
		json_object_set_new(o, "sources", sources);
	if (as_of)
		json_object_set_new(o, "as_of", as_of);
	return o;
}

/* An evidence dimension's as_of at base.as_of, when given (NULL otherwise or when broken). */
static json_t *as_read_dim_as_of(json_t *dim, const char *base, struct scoring_errors *errs)
{
	char kf[SCORING_FIELD_LEN];
	json_t *v = json_object_get(dim, "as_of");

	if (!v)
		return NULL;
	as_key_path(kf, sizeof(kf), base, "as_of");
	return recency_read_as_of(v, kf, clock_day(time(NULL)), errs);
}

/* The members of a dimension: barriers and protective principles have the first two; an
 * evidence dimension all of them, "stale" being read-only (the reads compute it; a dimension
 * sent back as it was read is accepted, and its stale flag ignored). */
static const char *const as_dim_keys[] = { "score", "rationale", "sources", "as_of", "stale" };
#define AS_N_DIM_KEYS 5

/* An evidence dimension's read-only stale flag, when sent: a boolean, ignored. */
static void as_read_dim_stale(json_t *dim, const char *base, struct scoring_errors *errs)
{
	char kf[SCORING_FIELD_LEN];
	json_t *v = json_object_get(dim, "stale");

	if (!v || json_is_boolean(v))
		return;
	as_key_path(kf, sizeof(kf), base, "stale");
	scoring_errors_add(errs, kf, "must be a boolean (read-only: the server computes it)");
}

/* One dimension object {score, rationale[, sources, as_of]} (evidence dimensions have
 * sources and as_of); *score is SCORING_UNSET when it could not be read. Returns its
 * normalized form (a new reference). */
static json_t *as_read_dim(json_t *v, const char *field, int with_sources, int *score,
			   struct scoring_errors *errs)
{
	char kf[SCORING_FIELD_LEN];
	const char *rationale = NULL;
	json_t *sources = NULL, *s;

	*score = SCORING_UNSET;
	if (!json_is_object(v)) {
		scoring_errors_add(errs, field, "must be an object");
		return as_dim_new(json_null(), json_string(""), with_sources ? json_array() : NULL,
				  NULL);
	}
	as_known_keys(v, field, as_dim_keys, with_sources ? AS_N_DIM_KEYS : 2, "unknown field", errs);
	if (with_sources)
		as_read_dim_stale(v, field, errs);
	as_key_path(kf, sizeof(kf), field, "score");
	as_int(json_object_get(v, "score"), kf, score, errs);
	as_key_path(kf, sizeof(kf), field, "rationale");
	as_text(json_object_get(v, "rationale"), kf, 0, AS_TEXT_MAX, &rationale, errs);
	if (with_sources) {
		s = json_object_get(v, "sources");
		as_key_path(kf, sizeof(kf), field, "sources");
		sources = s ? as_read_sources(s, kf, errs) : json_array();
	}
	return as_dim_new(*score == SCORING_UNSET ? json_null() : json_integer(*score),
			  json_string(rationale ? rationale : ""), sources,
			  with_sources ? as_read_dim_as_of(v, field, errs) : NULL);
}

/* A fixed set of named dimensions (evidence, barriers, protective), all required. */
static json_t *as_read_dims(json_t *v, const char *base, const char *const *names, int n,
			    const char *unknown_msg, int with_sources, int *scores,
			    struct scoring_errors *errs)
{
	char field[SCORING_FIELD_LEN];
	json_t *out = json_object(), *d;
	int i;

	for (i = 0; i < n; i++)
		scores[i] = SCORING_UNSET;
	if (!json_is_object(v)) {
		scoring_errors_add(errs, as_where(base), "must be an object with the %d named parts",
				   n);
		return out;
	}
	as_known_keys(v, base, names, (size_t)n, unknown_msg, errs);
	for (i = 0; i < n; i++) {
		as_key_path(field, sizeof(field), base, names[i]);
		d = json_object_get(v, names[i]);
		if (!d) {
			scoring_errors_add(errs, field, "is required");
			continue;
		}
		json_object_set_new(out, names[i],
				    as_read_dim(d, field, with_sources, &scores[i], errs));
	}
	return out;
}

static json_t *as_read_growth(json_t *v, const char *base, int *growth,
			      struct scoring_errors *errs)
{
	return as_read_dim(v, as_where(base), 0, growth, errs);
}

static json_t *as_read_override(json_t *v, const char *base, struct scoring_input *in,
				struct scoring_errors *errs)
{
	static const char *const keys[] = { "score", "reason" };
	char kf[SCORING_FIELD_LEN];
	const char *reason = NULL;
	double score;

	in->has_override = 0;
	in->override_score = NAN;
	if (!v || json_is_null(v))
		return json_null();
	in->has_override = 1;
	if (!json_is_object(v)) {
		scoring_errors_add(errs, as_where(base), "must be null or an object with score and reason");
		return json_null();
	}
	as_known_keys(v, base, keys, 2, "unknown field", errs);
	as_key_path(kf, sizeof(kf), base, "score");
	as_number(json_object_get(v, "score"), kf, &score, errs);
	in->override_score = score;
	as_key_path(kf, sizeof(kf), base, "reason");
	as_text(json_object_get(v, "reason"), kf, AS_REQUIRED | AS_NONEMPTY, AS_TEXT_MAX, &reason,
		errs);
	if (isnan(score) || !reason)
		return json_null();
	return json_pack("{s:o, s:s}", "score", as_number_copy(json_object_get(v, "score")),
			 "reason", reason);
}

static json_t *as_read_task(json_t *v, const char *field, struct scoring_task *t,
			    struct scoring_errors *errs)
{
	static const char *const keys[] = { "name", "time_share", "score", "rationale" };
	char kf[SCORING_FIELD_LEN];
	const char *name = NULL, *rationale = NULL;
	json_t *o;

	t->time_share = NAN;
	t->score = SCORING_UNSET;
	if (!json_is_object(v)) {
		scoring_errors_add(errs, field, "must be an object");
		return json_null();
	}
	as_known_keys(v, field, keys, 4, "unknown field", errs);
	as_key_path(kf, sizeof(kf), field, "name");
	as_text(json_object_get(v, "name"), kf, AS_REQUIRED | AS_NONEMPTY | AS_ONELINE,
		AS_NAME_MAX, &name, errs);
	as_key_path(kf, sizeof(kf), field, "time_share");
	as_number(json_object_get(v, "time_share"), kf, &t->time_share, errs);
	as_key_path(kf, sizeof(kf), field, "score");
	as_int(json_object_get(v, "score"), kf, &t->score, errs);
	as_key_path(kf, sizeof(kf), field, "rationale");
	as_text(json_object_get(v, "rationale"), kf, 0, AS_TEXT_MAX, &rationale, errs);

	o = json_object();
	json_object_set_new(o, "name", as_str_or_null(name));
	json_object_set_new(o, "time_share", as_number_copy(json_object_get(v, "time_share")));
	json_object_set_new(o, "score",
			    t->score == SCORING_UNSET ? json_null() : json_integer(t->score));
	json_object_set_new(o, "rationale", json_string(rationale ? rationale : ""));
	return o;
}

static json_t *as_read_tasks(json_t *v, const char *base, struct scoring_input *in,
			     struct scoring_errors *errs)
{
	char field[SCORING_FIELD_LEN];
	struct scoring_task spare;
	json_t *out = json_array(), *t;
	size_t i, n;

	if (!json_is_array(v)) {
		in->n_tasks = -1; /* reported here: scoring_validate() says no more */
		scoring_errors_add(errs, as_where(base), "must be an array of tasks");
		return out;
	}
	n = json_array_size(v);
	/* Past 50 the struct has no room: say 51 so that the count is reported, and still
	 * read every task so that its own errors are reported too. */
	in->n_tasks = n > SCORING_MAX_TASKS ? SCORING_MAX_TASKS + 1 : (int)n;
	json_array_foreach(v, i, t) {
		as_path(field, sizeof(field), "%s[%zu]", as_where(base), i);
		json_array_append_new(out, as_read_task(t, field,
						       i < SCORING_MAX_TASKS ? &in->tasks[i] : &spare,
						       errs));
	}
	return out;
}
/* The scores of a part made of named dimensions, in the order of its names. */
static int *as_dim_scores(const struct as_part *p, struct scoring_input *in)
{
	switch (p->part) {
	case SCORING_EVIDENCE:
		return in->evidence;
	case SCORING_BARRIERS:
		return in->barriers;
	case SCORING_PROTECTIVE:
		return in->protective;
	default:
		break;
	}
	return NULL;
}

/* The readers of the table: each reads its whole part at field into in. */
static json_t *as_part_dims(const struct as_part *p, json_t *v, const char *field,
			    struct scoring_input *in, struct scoring_errors *errs)
{
	return as_read_dims(v, field, p->dims, p->n_dims, p->unknown_dim, p->with_sources,
			    as_dim_scores(p, in), errs);
}

static json_t *as_part_tasks(const struct as_part *p, json_t *v, const char *field,
			     struct scoring_input *in, struct scoring_errors *errs)
{
	(void)p;
	return as_read_tasks(v, field, in, errs);
}

static json_t *as_part_growth(const struct as_part *p, json_t *v, const char *field,
			      struct scoring_input *in, struct scoring_errors *errs)
{
	(void)p;
	return as_read_growth(v, field, &in->growth, errs);
}

static json_t *as_part_override(const struct as_part *p, json_t *v, const char *field,
				struct scoring_input *in, struct scoring_errors *errs)
{
	(void)p;
	return as_read_override(v, field, in, errs);
}

/* POST evidence: the given dimensions' given fields replace the current ones. */
static void as_merge_evidence(json_t *v, const char *path, json_t *evidence,
			      struct scoring_input *in, struct scoring_errors *errs)
{
	char field[SCORING_FIELD_LEN], kf[SCORING_FIELD_LEN];
	const char *key, *rationale;
	json_t *dim, *cur, *x, *score_j, *rat_j, *src_j;
	int i, score;

	if (!json_is_object(v) || json_object_size(v) == 0) {
		scoring_errors_add(errs, as_where(path),
				   "must be an object naming at least one evidence dimension");
		return;
	}
	json_object_foreach(v, key, dim) {
		as_key_path(field, sizeof(field), path, key);
		for (i = 0; i < SCORING_N_EVIDENCE; i++)
			if (!strcmp(key, scoring_evidence_names[i]))
				break;
		if (i == SCORING_N_EVIDENCE) {
			scoring_errors_add(errs, field, "unknown evidence dimension");
			continue;
		}
		if (!json_is_object(dim)) {
			scoring_errors_add(errs, field, "must be an object");
			continue;
		}
		as_known_keys(dim, field, as_dim_keys, AS_N_DIM_KEYS, "unknown field", errs);
		as_read_dim_stale(dim, field, errs);
		cur = json_object_get(evidence, key);
		score_j = json_incref(json_object_get(cur, "score"));
		rat_j = json_incref(json_object_get(cur, "rationale"));
		src_j = json_incref(json_object_get(cur, "sources"));

		if ((x = json_object_get(dim, "score"))) {
			as_key_path(kf, sizeof(kf), field, "score");
			as_int(x, kf, &score, errs);
			in->evidence[i] = score;
			json_decref(score_j);
			score_j = score == SCORING_UNSET ? json_null() : json_integer(score);
		}
		if ((x = json_object_get(dim, "rationale"))) {
			as_key_path(kf, sizeof(kf), field, "rationale");
			if (!as_text(x, kf, 0, AS_TEXT_MAX, &rationale, errs)) {
				json_decref(rat_j);
				rat_j = json_string(rationale);
			}
		}
		if ((x = json_object_get(dim, "sources"))) {
			as_key_path(kf, sizeof(kf), field, "sources");
			json_decref(src_j);
			src_j = as_read_sources(x, kf, errs);
		}
		/* as_of is kept only when given: recency_fill() dates the dimension after. */
		json_object_set_new(evidence, key,
				    as_dim_new(score_j ? score_j : json_null(),
					       rat_j ? rat_j : json_string(""),
					       src_j ? src_j : json_array(),
					       as_read_dim_as_of(dim, field, errs)));
	}
}

/* The table's merge of evidence: into a copy of the current evidence, so that the evidence
 * of the assessment it was copied from stays as it is. */
static void as_part_merge_evidence(json_t *v, const char *path, json_t *out,
				   struct scoring_input *in, struct scoring_errors *errs)
{
	json_t *evidence = json_object_get(out, "evidence");

	evidence = json_is_object(evidence) ? json_copy(evidence) : json_object();
	json_object_set_new(out, "evidence", evidence);
	as_merge_evidence(v, path, evidence, in, errs);
}

const struct as_part as_parts[AS_N_PARTS] = {
	{ .name = "tasks", .part = SCORING_TASKS, .required = 1, .read = as_part_tasks },
	{ .name = "evidence", .part = SCORING_EVIDENCE, .required = 1,
	  .dims = scoring_evidence_names, .n_dims = SCORING_N_EVIDENCE,
	  .unknown_dim = "unknown evidence dimension", .with_sources = 1, .read = as_part_dims,
	  .merge = as_part_merge_evidence },
	{ .name = "barriers", .part = SCORING_BARRIERS, .required = 1,
	  .dims = scoring_barrier_names, .n_dims = SCORING_N_BARRIERS,
	  .unknown_dim = "unknown barrier", .read = as_part_dims },
	{ .name = "protective", .part = SCORING_PROTECTIVE, .required = 1,
	  .dims = scoring_protective_names, .n_dims = SCORING_N_PROTECTIVE,
	  .unknown_dim = "unknown protective principle", .read = as_part_dims },
	{ .name = "growth", .part = SCORING_GROWTH, .required = 1, .read = as_part_growth },
	{ .name = "override", .part = SCORING_OVERRIDE, .null_is_absent = 1,
	  .read = as_part_override },
};

void as_input_unset(struct scoring_input *in)
{
	int i;

	memset(in, 0, sizeof(*in));
	in->n_tasks = -1;
	for (i = 0; i < SCORING_N_EVIDENCE; i++)
		in->evidence[i] = SCORING_UNSET;
	for (i = 0; i < SCORING_N_BARRIERS; i++)
		in->barriers[i] = SCORING_UNSET;
	for (i = 0; i < SCORING_N_PROTECTIVE; i++)
		in->protective[i] = SCORING_UNSET;
	in->growth = SCORING_UNSET;
	in->override_score = NAN;
}

int assessment_read(json_t *v, const char *path, struct scoring_input *in, json_t **norm,
		    struct scoring_errors *errs)
{
	const char *keys[AS_N_PARTS];
	char field[SCORING_FIELD_LEN];
	int before = as_errcount(errs), i;
	json_t *out = NULL, *part;

	*norm = NULL;
	as_input_unset(in);
	if (!path)
		path = "";
	if (!json_is_object(v)) {
		scoring_errors_add(errs, as_where(path), "must be a JSON object (an assessment)");
		return RC_INVALID;
	}
	for (i = 0; i < AS_N_PARTS; i++)
		keys[i] = as_parts[i].name;
	as_known_keys(v, path, keys, AS_N_PARTS, "unknown field", errs);
	out = json_object();
	for (i = 0; i < AS_N_PARTS; i++) {
		const struct as_part *p = &as_parts[i];

		as_key_path(field, sizeof(field), path, p->name);
		part = json_object_get(v, p->name);
		if (!part && p->required)
			scoring_errors_add(errs, field, "is required");
		else
			json_object_set_new(out, p->name, p->read(p, part, field, in, errs));
	}
	scoring_validate(in, SCORING_ALL, path, errs);
	if (as_errcount(errs) > before) {
		json_decref(out);
		return RC_INVALID;
	}
	*norm = out;
	return 0;
}

int assessment_read_part(enum scoring_part part, json_t *v, const char *path, json_t *current,
			 struct scoring_input *in, json_t **norm, struct scoring_errors *errs)
{
	const struct as_part *p = NULL;
	int before = as_errcount(errs), i;
	json_t *out = NULL;

	*norm = NULL;
	if (!path)
		path = "";
	if (!json_is_object(current)) {
		scoring_errors_add(errs, as_where(path), "no current assessment to update");
		return RC_INVALID;
	}
	/* Shallow copies: current and its members are never changed, only replaced in out. */
	out = json_copy(current);
	if (!out)
		return RC_NOMEM;
	for (i = 0; i < AS_N_PARTS; i++)
		if (as_parts[i].part == part)
			p = &as_parts[i];
	if (!p)
		scoring_errors_add(errs, as_where(path), "not a part of an assessment");
	else if (p->merge)
		p->merge(v, path, out, in, errs);
	else
		json_object_set_new(out, p->name, p->read(p, v, path, in, errs));
	scoring_validate(in, (unsigned)part, path, errs);
	if (as_errcount(errs) > before) {
		json_decref(out);
		return RC_INVALID;
	}
	*norm = out;
	return 0;
}

int assessment_input(json_t *norm, struct scoring_input *in)
{
	struct scoring_errors errs;
	json_t *a = norm, *tmp = NULL;
	int rc;

	/* A stored role holds its assessment under "assessment". */
	if (json_is_object(norm) && !json_object_get(norm, "tasks") &&
	    json_is_object(json_object_get(norm, "assessment")))
		a = json_object_get(norm, "assessment");
	scoring_errors_init(&errs);
	rc = assessment_read(a, "", in, &tmp, &errs);
	json_decref(tmp);
	return rc;
}
