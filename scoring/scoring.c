/*
 * scoring.c: the AIJRI method of METHOD.md, the one place its formula and thresholds live.
 *
 * It must stay pure: no I/O, no JSON, no allocation. Callers (the JSON reader, the store's
 * recomputation, `aijri score`) fill a struct scoring_input, call scoring_validate() to learn
 * every broken number with the path the client used, and scoring_eval() for the figures.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scoring/scoring.h"
#include "util/rc.h"

const char *const scoring_evidence_names[SCORING_N_EVIDENCE] = {
	"job_posting_trends", "company_actions", "wage_trends", "ai_tool_maturity",
	"expert_consensus",
};
const char *const scoring_barrier_names[SCORING_N_BARRIERS] = {
	"regulatory", "physical_presence", "union_power", "liability", "cultural",
};
const char *const scoring_protective_names[SCORING_N_PROTECTIVE] = {
	"embodied_physicality", "deep_interpersonal_connection", "moral_judgment",
};

/* Shares are sums of doubles: a comparison such as S3 >= 20 must not fail on 19.999999999. */
#define SCORING_EPS 1e-9

const char *scoring_zone_name(enum scoring_zone z)
{
	switch (z) {
	case SCORING_GREEN:
		return "green";
	case SCORING_YELLOW:
		return "yellow";
	case SCORING_RED:
	default:
		return "red";
	}
}

void scoring_errors_init(struct scoring_errors *errs)
{
	errs->n = 0;
	errs->dropped = 0;
}

void scoring_errors_add(struct scoring_errors *errs, const char *field, const char *fmt, ...)
{
	struct scoring_error *e;
	va_list ap;

	if (errs->n >= SCORING_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	e = &errs->e[errs->n++];
	/* snprintf truncates: a path longer than the field keeps its start, which names it. */
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

/* prefix + "." + suffix, without the dot when the prefix is empty ("" gives "tasks[2]"). */
static void scoring_join(char *out, size_t outlen, const char *prefix, const char *suffix)
{
	if (!prefix || !*prefix)
		snprintf(out, outlen, "%s", suffix);
	else if (!suffix || !*suffix)
		snprintf(out, outlen, "%s", prefix);
	else
		snprintf(out, outlen, "%s.%s", prefix, suffix);
}

/* Where a part sits: under the assessment's path when several parts are checked, or the
 * path itself when the caller validates one part it read from its own key. */
static void scoring_part_base(char *out, size_t outlen, unsigned parts, const char *path,
			      const char *part_name)
{
	int single = parts && !(parts & (parts - 1));

	if (single)
		snprintf(out, outlen, "%s", path ? path : "");
	else
		scoring_join(out, outlen, path, part_name);
}

/* base + "[i]." + leaf. A path too long for the field is cut: its start still names it. */
static void scoring_task_field(char *out, size_t outlen, const char *base, int i,
			       const char *leaf)
{
	int n = snprintf(out, outlen, "%s[%d].%s", base, i, leaf);

	if (n < 0 && outlen)
		out[0] = '\0';
}

static void scoring_check_dims(const int *v, const char *const *names, int n, int lo, int hi,
			       const char *base, struct scoring_errors *errs)
{
	char dim[SCORING_FIELD_LEN], field[SCORING_FIELD_LEN];
	int i;

	for (i = 0; i < n; i++) {
		if (v[i] == SCORING_UNSET || (v[i] >= lo && v[i] <= hi))
			continue;
		scoring_join(dim, sizeof(dim), base, names[i]);
		scoring_join(field, sizeof(field), dim, "score");
		scoring_errors_add(errs, field, "must be an integer from %d to %d", lo, hi);
	}
}

static void scoring_check_tasks(const struct scoring_input *in, const char *base,
				struct scoring_errors *errs)
{
	char field[SCORING_FIELD_LEN];
	double sum = 0;
	int i, n, sum_known = 1;

	if (in->n_tasks < 0)
		return; /* unreadable, reported by the reader */
	if (in->n_tasks < 1 || in->n_tasks > SCORING_MAX_TASKS) {
		scoring_errors_add(errs, base[0] ? base : "tasks",
				   "must have from 1 to %d tasks, has %d", SCORING_MAX_TASKS,
				   in->n_tasks);
	}
	/* A reader that saw more than 50 tasks fills only the first 50. */
	n = in->n_tasks > SCORING_MAX_TASKS ? SCORING_MAX_TASKS : in->n_tasks;
	for (i = 0; i < n; i++) {
		const struct scoring_task *t = &in->tasks[i];
		double s = t->time_share;

		if (isnan(s)) {
			sum_known = 0;
		} else if (!isfinite(s) || s <= 0) {
			scoring_task_field(field, sizeof(field), base, i, "time_share");
			scoring_errors_add(errs, field, "must be a number greater than 0");
			sum_known = 0;
		} else {
			sum += s;
		}
		if (t->score != SCORING_UNSET && (t->score < 1 || t->score > 5)) {
			scoring_task_field(field, sizeof(field), base, i, "score");
			scoring_errors_add(errs, field, "must be an integer from 1 to 5");
		}
	}
	/* The sum is only worth reporting when every share is a usable number: otherwise the
	 * share's own error says more. */
	if (n >= 1 && n == in->n_tasks && sum_known &&
	    fabs(sum - 100.0) > SCORING_SHARE_TOLERANCE + SCORING_EPS)
		scoring_errors_add(errs, base[0] ? base : "tasks",
				   "time shares add up to %.6g, must add up to 100", sum);
}

int scoring_validate(const struct scoring_input *in, unsigned parts, const char *path,
		     struct scoring_errors *errs)
{
	char base[SCORING_FIELD_LEN], field[SCORING_FIELD_LEN];
	int before = errs->n + errs->dropped;

	if (!path)
		path = "";
	if (parts & SCORING_TASKS) {
		scoring_part_base(base, sizeof(base), parts, path, "tasks");
		scoring_check_tasks(in, base, errs);
	}
	if (parts & SCORING_EVIDENCE) {
		scoring_part_base(base, sizeof(base), parts, path, "evidence");
		scoring_check_dims(in->evidence, scoring_evidence_names, SCORING_N_EVIDENCE, -2, 2,
				   base, errs);
	}
	if (parts & SCORING_BARRIERS) {
		scoring_part_base(base, sizeof(base), parts, path, "barriers");
		scoring_check_dims(in->barriers, scoring_barrier_names, SCORING_N_BARRIERS, 0, 2,
				   base, errs);
	}
	if (parts & SCORING_PROTECTIVE) {
		scoring_part_base(base, sizeof(base), parts, path, "protective");
		scoring_check_dims(in->protective, scoring_protective_names, SCORING_N_PROTECTIVE,
				   0, 3, base, errs);
	}
	if ((parts & SCORING_GROWTH) && in->growth != SCORING_UNSET &&
	    (in->growth < -2 || in->growth > 2)) {
		scoring_part_base(base, sizeof(base), parts, path, "growth");
		scoring_join(field, sizeof(field), base, "score");
		scoring_errors_add(errs, field, "must be an integer from -2 to 2");
	}
	if ((parts & SCORING_OVERRIDE) && in->has_override && !isnan(in->override_score) &&
	    !(in->override_score >= 0 && in->override_score <= 100)) {
		scoring_part_base(base, sizeof(base), parts, path, "override");
		scoring_join(field, sizeof(field), base, "score");
		scoring_errors_add(errs, field, "must be a number from 0 to 100");
	}
	return errs->n + errs->dropped > before ? RC_INVALID : 0;
}

enum scoring_impact scoring_task_impact(int score)
{
	if (score >= 4)
		return SCORING_DISPLACED;
	if (score >= 2)
		return SCORING_AUGMENTED;
	return SCORING_NOT_INVOLVED;
}

const char *scoring_impact_name(enum scoring_impact impact)
{
	switch (impact) {
	case SCORING_DISPLACED:
		return "displaced";
	case SCORING_AUGMENTED:
		return "augmented";
	case SCORING_NOT_INVOLVED:
		break;
	}
	return "not_involved";
}

double scoring_round1(double x)
{
	/* METHOD.md step 8: the 1e-9 lifts 47.9499999 (a computed 47.95) over the half. The
	 * sign is taken apart so that negative inputs round symmetrically. */
	double r;

	if (x < 0)
		r = -(round((-x + 1e-9) * 10.0) / 10.0);
	else
		r = round((x + 1e-9) * 10.0) / 10.0;
	return r == 0 ? 0.0 : r; /* no -0.0 in output */
}

enum scoring_zone scoring_zone_of(double score)
{
	if (score + SCORING_EPS >= SCORING_GREEN_MIN)
		return SCORING_GREEN;
	if (score + SCORING_EPS >= SCORING_YELLOW_MIN)
		return SCORING_YELLOW;
	return SCORING_RED;
}

const char *scoring_label_of(double score, double s3, int growth)
{
	switch (scoring_zone_of(score)) {
	case SCORING_GREEN:
		if (growth == 2)
			return "Green (Accelerated)";
		return s3 + SCORING_EPS >= 20 ? "Green (Transforming)" : "Green (Stable)";
	case SCORING_YELLOW:
		return s3 + SCORING_EPS >= 50 ? "Yellow (Urgent)" : "Yellow (Moderate)";
	case SCORING_RED:
	default:
		return s3 + SCORING_EPS >= 70 ? "Red (Imminent)" : "Red (Declining)";
	}
}

const char *scoring_barrier_strength(int barrier_total)
{
	if (barrier_total >= 7)
		return "Strong";
	if (barrier_total >= 4)
		return "Moderate";
	return "Weak";
}

const char *scoring_growth_wording(int growth)
{
	switch (growth) {
	case -2:
		return "AI strongly shrinks jobs";
	case -1:
		return "AI slightly shrinks jobs";
	case 1:
		return "AI slightly boosts jobs";
	case 2:
		return "AI strongly boosts jobs";
	case 0:
	default:
		return "AI is neutral for jobs";
	}
}

static void scoring_verdict_of(double exact, double s3, int growth, struct scoring_verdict *v)
{
	v->score_exact = exact;
	v->score = scoring_round1(exact);
	v->zone = scoring_zone_of(v->score);
	v->label = scoring_label_of(v->score, s3, growth);
}

int scoring_eval(const struct scoring_input *in, struct scoring_result *out)
{
	struct scoring_errors errs;
	double share_x_score = 0, aijri;
	int i;

	memset(out, 0, sizeof(*out));
	scoring_errors_init(&errs);
	if (scoring_validate(in, SCORING_ALL, "", &errs))
		return RC_INVALID;

	for (i = 0; i < in->n_tasks; i++) {
		const struct scoring_task *t = &in->tasks[i];

		/* Summing share x score and dividing once keeps integer shares exact (225 / 100
		 * is 2.25, where 0.25 x 2 + ... drifts to 2.2500000000000004). */
		share_x_score += t->time_share * t->score;
		if (t->score >= 3)
			out->share_scoring_3plus += t->time_share;
		switch (scoring_task_impact(t->score)) {
		case SCORING_DISPLACED:
			out->impact_displaced += t->time_share;
			break;
		case SCORING_AUGMENTED:
			out->impact_augmented += t->time_share;
			break;
		case SCORING_NOT_INVOLVED:
			out->impact_not_involved += t->time_share;
			break;
		}
	}
	out->weighted_task_score = share_x_score / 100.0;
	out->task_resistance = SCORING_TR_BASE - out->weighted_task_score;

	for (i = 0; i < SCORING_N_EVIDENCE; i++)
		out->evidence_total += in->evidence[i];
	for (i = 0; i < SCORING_N_BARRIERS; i++)
		out->barrier_total += in->barriers[i];
	for (i = 0; i < SCORING_N_PROTECTIVE; i++)
		out->protective_total += in->protective[i];
	out->growth = in->growth;

	out->evidence_modifier = 1.0 + SCORING_EVIDENCE_STEP * out->evidence_total;
	out->barrier_modifier = 1.0 + SCORING_BARRIER_STEP * out->barrier_total;
	out->growth_modifier = 1.0 + SCORING_GROWTH_STEP * out->growth;
	out->barrier_strength = scoring_barrier_strength(out->barrier_total);
	out->growth_wording = scoring_growth_wording(out->growth);

	out->raw = out->task_resistance * out->evidence_modifier * out->barrier_modifier *
		   out->growth_modifier;
	aijri = (out->raw - SCORING_RAW_FLOOR) / SCORING_RAW_SPAN * 100.0;
	if (aijri < 0)
		aijri = 0;
	if (aijri > 100)
		aijri = 100;

	out->comp_task_resistance = scoring_round1(out->task_resistance / 5.0 * 50.0);
	out->comp_evidence = scoring_round1(out->evidence_total / 10.0 * 20.0);
	out->comp_barriers = scoring_round1(out->barrier_total / 10.0 * 15.0);
	out->comp_protective = scoring_round1(out->protective_total / 9.0 * 10.0);
	out->comp_growth = scoring_round1(out->growth / 2.0 * 5.0);

	scoring_verdict_of(aijri, out->share_scoring_3plus, out->growth, &out->formula);
	out->has_override = in->has_override;
	if (in->has_override) {
		out->override_score = in->override_score;
		scoring_verdict_of(in->override_score, out->share_scoring_3plus, out->growth,
				   &out->published);
	} else {
		out->published = out->formula;
	}
	return 0;
}
