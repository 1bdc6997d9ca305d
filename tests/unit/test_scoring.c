/*
 * test_scoring.c: the method of METHOD.md, figure by figure: the worked example of the seed,
 * both edge cases, every zone and label boundary, the rounding rule, the override and every
 * validation rule with the field path a client would see.
 */
#include <math.h>
#include <string.h>

#include "scoring/scoring.h"
#include "tests/unit/harness.h"
#include "util/rc.h"

struct t_task {
	double share;
	int score;
};

/* An input from a task list and the part totals; dimensions are spread so that their sum is
 * the wanted total (the formula uses only the sums). */
static void mk_input(struct scoring_input *in, const struct t_task *tasks, int n, int e, int b,
		     int p, int g)
{
	int i;

	memset(in, 0, sizeof(*in));
	in->n_tasks = n;
	for (i = 0; i < n; i++) {
		in->tasks[i].time_share = tasks[i].share;
		in->tasks[i].score = tasks[i].score;
	}
	for (i = 0; i < SCORING_N_EVIDENCE; i++) {
		int take = e > 2 ? 2 : e < -2 ? -2 : e;
		in->evidence[i] = take;
		e -= take;
	}
	for (i = 0; i < SCORING_N_BARRIERS; i++) {
		int take = b > 2 ? 2 : b;
		in->barriers[i] = take;
		b -= take;
	}
	for (i = 0; i < SCORING_N_PROTECTIVE; i++) {
		int take = p > 3 ? 3 : p;
		in->protective[i] = take;
		p -= take;
	}
	in->growth = g;
}

static const struct t_task seed_tasks[] = {
	{ 25, 2 }, { 20, 2 }, { 15, 2 }, { 10, 3 }, { 10, 3 }, { 10, 2 }, { 5, 4 }, { 5, 1 },
};

static void seed_input(struct scoring_input *in)
{
	int i;

	mk_input(in, seed_tasks, 8, 0, 0, 0, 1);
	for (i = 0; i < SCORING_N_EVIDENCE; i++)
		in->evidence[i] = 1;
	in->barriers[0] = 0; /* regulatory */
	in->barriers[1] = 1; /* physical_presence */
	in->barriers[2] = 0; /* union_power */
	in->barriers[3] = 1; /* liability */
	in->barriers[4] = 0; /* cultural */
	in->protective[0] = 1;
	in->protective[1] = 0;
	in->protective[2] = 2;
}

static void test_worked_example(void)
{
	struct scoring_input in;
	struct scoring_result r;
	struct scoring_errors errs;

	seed_input(&in);
	scoring_errors_init(&errs);
	CHECK_INT(scoring_validate(&in, SCORING_ALL, "assessment", &errs), 0);
	CHECK_INT(errs.n, 0);
	CHECK_INT(scoring_eval(&in, &r), 0);
	CHECK_NEAR(r.weighted_task_score, 2.25, 1e-12);
	CHECK_NEAR(r.task_resistance, 3.75, 1e-12);
	CHECK_INT(r.evidence_total, 5);
	CHECK_NEAR(r.evidence_modifier, 1.2, 1e-12);
	CHECK_INT(r.barrier_total, 2);
	CHECK_NEAR(r.barrier_modifier, 1.04, 1e-12);
	CHECK_STR(r.barrier_strength, "Weak");
	CHECK_INT(r.protective_total, 3);
	CHECK_INT(r.growth, 1);
	CHECK_NEAR(r.growth_modifier, 1.05, 1e-12);
	CHECK_STR(r.growth_wording, "AI slightly boosts jobs");
	CHECK_NEAR(r.raw, 4.914, 1e-9);
	CHECK_NEAR(r.formula.score_exact, (4.914 - 0.54) / 7.93 * 100, 1e-9);
	CHECK_NEAR(r.formula.score_exact, 55.1576, 5e-5);
	CHECK(r.formula.score == 55.2, "score %.17g, want 55.2", r.formula.score);
	CHECK_INT(r.formula.zone, SCORING_GREEN);
	CHECK_STR(r.formula.label, "Green (Transforming)");
	CHECK(r.published.score == 55.2, "published %.17g", r.published.score);
	CHECK_INT(r.published.zone, SCORING_GREEN);
	CHECK_STR(r.published.label, "Green (Transforming)");
	CHECK_INT(r.has_override, 0);
	CHECK_NEAR(r.share_scoring_3plus, 25, 1e-12);
	CHECK_NEAR(r.impact_displaced, 5, 1e-12);
	CHECK_NEAR(r.impact_augmented, 90, 1e-12);
	CHECK_NEAR(r.impact_not_involved, 5, 1e-12);
	CHECK(r.comp_task_resistance == 37.5, "comp tr %.17g", r.comp_task_resistance);
	CHECK(r.comp_evidence == 10.0, "comp e %.17g", r.comp_evidence);
	CHECK(r.comp_barriers == 3.0, "comp b %.17g", r.comp_barriers);
	CHECK(r.comp_protective == 3.3, "comp p %.17g", r.comp_protective);
	CHECK(r.comp_growth == 2.5, "comp g %.17g", r.comp_growth);
	CHECK_STR(scoring_zone_name(r.published.zone), "green");
}

static void test_edge_cases(void)
{
	static const struct t_task all5[] = { { 100, 5 } };
	static const struct t_task all1[] = { { 60, 1 }, { 40, 1 } };
	struct scoring_input in;
	struct scoring_result r;

	mk_input(&in, all5, 1, -10, 0, 0, -2);
	CHECK_INT(scoring_eval(&in, &r), 0);
	CHECK_NEAR(r.raw, 0.54, 1e-12);
	CHECK(r.published.score == 0.0 && !signbit(r.published.score), "score %.17g",
	      r.published.score);
	CHECK_NEAR(r.formula.score_exact, 0, 1e-9);
	CHECK_INT(r.published.zone, SCORING_RED);
	CHECK_STR(r.published.label, "Red (Imminent)");
	CHECK_STR(r.growth_wording, "AI strongly shrinks jobs");
	CHECK(r.comp_evidence == -20.0, "comp e %.17g", r.comp_evidence);

	mk_input(&in, all1, 2, 10, 10, 9, 2);
	CHECK_INT(scoring_eval(&in, &r), 0);
	CHECK_NEAR(r.raw, 9.24, 1e-12);
	CHECK(r.published.score == 100.0, "score %.17g", r.published.score);
	CHECK(r.formula.score_exact == 100.0, "exact %.17g is clamped", r.formula.score_exact);
	CHECK_INT(r.published.zone, SCORING_GREEN);
	CHECK_STR(r.published.label, "Green (Accelerated)");
	CHECK_STR(r.barrier_strength, "Strong");
	CHECK_STR(r.growth_wording, "AI strongly boosts jobs");
	CHECK(r.comp_protective == 10.0, "comp p %.17g", r.comp_protective);
}

static void test_round1(void)
{
	static const struct {
		double in, want;
	} t[] = {
		{ 47.95, 48.0 },   { 47.949999999999, 48.0 }, { 47.94, 47.9 }, { 24.95, 25.0 },
		{ 24.94999, 24.9 }, { 55.1576, 55.2 },       { 0.05, 0.1 },   { 0.04, 0.0 },
		{ -0.05, -0.1 },   { -2.45, -2.5 },          { 3.333, 3.3 },  { 100, 100 },
		{ 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		double got = scoring_round1(t[i].in);
		CHECK(fabs(got - t[i].want) < 1e-12, "round1(%.17g) = %.17g, want %.17g", t[i].in,
		      got, t[i].want);
	}
}

static void test_zone_label_boundaries(void)
{
	static const struct {
		double score, s3;
		int g;
		enum scoring_zone zone;
		const char *label;
	} t[] = {
		{ 48.0, 25, 1, SCORING_GREEN, "Green (Transforming)" },
		{ 47.9, 25, 1, SCORING_YELLOW, "Yellow (Moderate)" },
		{ 25.0, 10, 0, SCORING_YELLOW, "Yellow (Moderate)" },
		{ 24.9, 10, 0, SCORING_RED, "Red (Declining)" },
		{ 60.0, 0, 2, SCORING_GREEN, "Green (Accelerated)" },
		{ 60.0, 100, 2, SCORING_GREEN, "Green (Accelerated)" },
		{ 60.0, 20, 1, SCORING_GREEN, "Green (Transforming)" },
		{ 60.0, 19.99, 1, SCORING_GREEN, "Green (Stable)" },
		{ 60.0, 0, -2, SCORING_GREEN, "Green (Stable)" },
		{ 30.0, 50, 2, SCORING_YELLOW, "Yellow (Urgent)" },
		{ 30.0, 49.99, 0, SCORING_YELLOW, "Yellow (Moderate)" },
		{ 10.0, 70, 0, SCORING_RED, "Red (Imminent)" },
		{ 10.0, 69.99, 2, SCORING_RED, "Red (Declining)" },
		{ 0.0, 0, 0, SCORING_RED, "Red (Declining)" },
		{ 100.0, 20, 1, SCORING_GREEN, "Green (Transforming)" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK(scoring_zone_of(t[i].score) == t[i].zone, "zone_of(%g) = %d, want %d",
		      t[i].score, (int)scoring_zone_of(t[i].score), (int)t[i].zone);
		CHECK_STR(scoring_label_of(t[i].score, t[i].s3, t[i].g), t[i].label);
	}
	CHECK_STR(scoring_zone_name(SCORING_YELLOW), "yellow");
	CHECK_STR(scoring_zone_name(SCORING_RED), "red");
}

/* Whole inputs whose published score lands on each side of a boundary, and on a .x5. */
static void test_full_inputs_near_boundaries(void)
{
	static const struct t_task a_479[] = { { 5, 5 }, { 95, 3 } };
	static const struct t_task a_480[] = { { 35, 2 }, { 65, 3 } };
	static const struct t_task a_249[] = { { 5, 5 }, { 95, 4 } };
	static const struct t_task a_250[] = { { 5, 5 }, { 95, 2 } };
	static const struct t_task a_4795[] = { { 34.2435, 1 }, { 65.7565, 2 } };
	static const struct t_task a_2495[] = { { 51.8535, 3 }, { 48.1465, 4 } };
	static const struct t_task g20[] = { { 80, 1 }, { 20, 3 } };
	static const struct t_task g19[] = { { 81, 1 }, { 19, 3 } };
	static const struct t_task y50[] = { { 50, 1 }, { 50, 3 } };
	static const struct t_task y49[] = { { 51, 1 }, { 49, 3 } };
	static const struct t_task r70[] = { { 30, 1 }, { 70, 3 } };
	static const struct t_task r69[] = { { 31, 1 }, { 69, 3 } };
	static const struct {
		const char *name;
		const struct t_task *tasks;
		int e, b, g;
		double score;
		const char *zone, *label;
	} t[] = {
		{ "47.9", a_479, 9, 0, 2, 47.9, "yellow", "Yellow (Urgent)" },
		{ "48.0", a_480, 9, 3, -2, 48.0, "green", "Green (Transforming)" },
		{ "24.9", a_249, 6, 2, 0, 24.9, "red", "Red (Imminent)" },
		{ "25.0", a_250, -10, 2, 1, 25.0, "yellow", "Yellow (Moderate)" },
		{ "47.95 rounds up", a_4795, 0, 0, 0, 48.0, "green", "Green (Stable)" },
		{ "24.95 rounds up", a_2495, 0, 0, 0, 25.0, "yellow", "Yellow (Urgent)" },
		{ "S3 20", g20, 0, 0, 0, 51.2, "green", "Green (Transforming)" },
		{ "S3 19", g19, 0, 0, 0, 51.5, "green", "Green (Stable)" },
		{ "S3 50", y50, -3, 0, 0, 37.6, "yellow", "Yellow (Urgent)" },
		{ "S3 49", y49, -3, 0, 0, 37.8, "yellow", "Yellow (Moderate)" },
		{ "S3 70", r70, -10, 0, 0, 20.4, "red", "Red (Imminent)" },
		{ "S3 69", r69, -10, 0, 0, 20.6, "red", "Red (Declining)" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct scoring_input in;
		struct scoring_result r;

		mk_input(&in, t[i].tasks, 2, t[i].e, t[i].b, 0, t[i].g);
		CHECK(scoring_eval(&in, &r) == 0, "%s: eval failed", t[i].name);
		CHECK(fabs(r.published.score - t[i].score) < 1e-12, "%s: score %.17g (exact %.17g)",
		      t[i].name, r.published.score, r.formula.score_exact);
		CHECK(!strcmp(scoring_zone_name(r.published.zone), t[i].zone), "%s: zone %s",
		      t[i].name, scoring_zone_name(r.published.zone));
		CHECK(!strcmp(r.published.label, t[i].label), "%s: label %s", t[i].name,
		      r.published.label);
	}
}

static void test_derived_wording(void)
{
	static const struct {
		int b;
		const char *s;
	} bs[] = { { 0, "Weak" }, { 3, "Weak" }, { 4, "Moderate" }, { 6, "Moderate" },
		   { 7, "Strong" }, { 10, "Strong" } };
	static const char *const words[] = { "AI strongly shrinks jobs", "AI slightly shrinks jobs",
					     "AI is neutral for jobs", "AI slightly boosts jobs",
					     "AI strongly boosts jobs" };
	size_t i;

	for (i = 0; i < sizeof(bs) / sizeof(bs[0]); i++)
		CHECK_STR(scoring_barrier_strength(bs[i].b), bs[i].s);
	for (i = 0; i < 5; i++)
		CHECK_STR(scoring_growth_wording((int)i - 2), words[i]);
}

static void test_override(void)
{
	struct scoring_input in;
	struct scoring_result r;

	seed_input(&in);
	in.has_override = 1;
	in.override_score = 20.04;
	CHECK_INT(scoring_eval(&in, &r), 0);
	CHECK_INT(r.has_override, 1);
	CHECK_NEAR(r.override_score, 20.04, 1e-12);
	CHECK(r.published.score == 20.0, "published %.17g", r.published.score);
	CHECK_INT(r.published.zone, SCORING_RED);
	/* S3 of the assessment (25) and its G (1) still pick the sub-label. */
	CHECK_STR(r.published.label, "Red (Declining)");
	CHECK(r.formula.score == 55.2, "formula %.17g", r.formula.score);
	CHECK_INT(r.formula.zone, SCORING_GREEN);
	CHECK_STR(r.formula.label, "Green (Transforming)");

	in.override_score = 47.95;
	CHECK_INT(scoring_eval(&in, &r), 0);
	CHECK(r.published.score == 48.0, "published %.17g", r.published.score);
	CHECK_STR(r.published.label, "Green (Transforming)");
}

struct vcase {
	const char *name;
	void (*mutate)(struct scoring_input *);
	unsigned parts;
	const char *path;
	const char *field;
	const char *message; /* a prefix of the message */
};

static void m_none(struct scoring_input *in) { (void)in; }
static void m_task_score_6(struct scoring_input *in) { in->tasks[2].score = 6; }
static void m_task_score_0(struct scoring_input *in) { in->tasks[0].score = 0; }
static void m_share_0(struct scoring_input *in) { in->tasks[1].time_share = 0; in->tasks[0].time_share = 45; }
static void m_share_neg(struct scoring_input *in) { in->tasks[1].time_share = -20; in->tasks[0].time_share = 65; }
static void m_share_inf(struct scoring_input *in) { in->tasks[1].time_share = INFINITY; }
static void m_sum_95(struct scoring_input *in) { in->tasks[0].time_share = 20; }
static void m_sum_100_005(struct scoring_input *in) { in->tasks[0].time_share = 25.005; }
static void m_sum_100_02(struct scoring_input *in) { in->tasks[0].time_share = 25.02; }
static void m_no_tasks(struct scoring_input *in) { in->n_tasks = 0; }
static void m_51_tasks(struct scoring_input *in)
{
	int i;

	/* A reader that saw 51 tasks says so and fills the first 50. */
	in->n_tasks = 51;
	for (i = 0; i < SCORING_MAX_TASKS; i++) {
		in->tasks[i].time_share = 2;
		in->tasks[i].score = 2;
	}
}
static void m_ev_3(struct scoring_input *in) { in->evidence[2] = 3; }
static void m_ev_m3(struct scoring_input *in) { in->evidence[0] = -3; }
static void m_bar_3(struct scoring_input *in) { in->barriers[0] = 3; }
static void m_bar_m1(struct scoring_input *in) { in->barriers[4] = -1; }
static void m_prot_4(struct scoring_input *in) { in->protective[2] = 4; }
static void m_growth_3(struct scoring_input *in) { in->growth = 3; }
static void m_growth_m3(struct scoring_input *in) { in->growth = -3; }
static void m_override_101(struct scoring_input *in) { in->has_override = 1; in->override_score = 100.5; }
static void m_override_neg(struct scoring_input *in) { in->has_override = 1; in->override_score = -1; }
static void m_unset(struct scoring_input *in)
{
	in->tasks[0].score = SCORING_UNSET;
	in->tasks[1].time_share = NAN;
	in->evidence[0] = SCORING_UNSET;
	in->growth = SCORING_UNSET;
	in->has_override = 1;
	in->override_score = NAN;
}
static void m_tasks_unreadable(struct scoring_input *in) { in->n_tasks = -1; }

static void test_validation(void)
{
	static const struct vcase t[] = {
		{ "task score 6", m_task_score_6, SCORING_ALL, "assessment",
		  "assessment.tasks[2].score", "must be an integer from 1 to 5" },
		{ "task score 0 bare", m_task_score_0, SCORING_ALL, "", "tasks[0].score",
		  "must be an integer from 1 to 5" },
		{ "task score part", m_task_score_6, SCORING_TASKS, "tasks", "tasks[2].score",
		  "must be an integer from 1 to 5" },
		{ "share 0", m_share_0, SCORING_ALL, "assessment", "assessment.tasks[1].time_share",
		  "must be a number greater than 0" },
		{ "share negative", m_share_neg, SCORING_ALL, "", "tasks[1].time_share",
		  "must be a number greater than 0" },
		{ "share infinite", m_share_inf, SCORING_ALL, "", "tasks[1].time_share",
		  "must be a number greater than 0" },
		{ "sum 95", m_sum_95, SCORING_ALL, "assessment", "assessment.tasks",
		  "time shares add up to 95, must add up to 100" },
		{ "sum 100.02", m_sum_100_02, SCORING_TASKS, "tasks", "tasks",
		  "time shares add up to 100.02, must add up to 100" },
		{ "no tasks", m_no_tasks, SCORING_ALL, "assessment", "assessment.tasks",
		  "must have from 1 to 50 tasks" },
		{ "51 tasks", m_51_tasks, SCORING_ALL, "", "tasks", "must have from 1 to 50 tasks" },
		{ "evidence 3", m_ev_3, SCORING_ALL, "assessment",
		  "assessment.evidence.wage_trends.score", "must be an integer from -2 to 2" },
		{ "evidence -3 part", m_ev_m3, SCORING_EVIDENCE, "dimensions",
		  "dimensions.job_posting_trends.score", "must be an integer from -2 to 2" },
		{ "barrier 3", m_bar_3, SCORING_ALL, "assessment",
		  "assessment.barriers.regulatory.score", "must be an integer from 0 to 2" },
		{ "barrier -1 part", m_bar_m1, SCORING_BARRIERS, "barriers",
		  "barriers.cultural.score", "must be an integer from 0 to 2" },
		{ "protective 4", m_prot_4, SCORING_ALL, "",
		  "protective.moral_judgment.score", "must be an integer from 0 to 3" },
		{ "growth 3", m_growth_3, SCORING_ALL, "assessment", "assessment.growth.score",
		  "must be an integer from -2 to 2" },
		{ "growth -3 part", m_growth_m3, SCORING_GROWTH, "growth", "growth.score",
		  "must be an integer from -2 to 2" },
		{ "override 100.5", m_override_101, SCORING_ALL, "assessment",
		  "assessment.override.score", "must be a number from 0 to 100" },
		{ "override -1 part", m_override_neg, SCORING_OVERRIDE, "override", "override.score",
		  "must be a number from 0 to 100" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct scoring_input in;
		struct scoring_result r;
		struct scoring_errors errs;
		int rc;

		seed_input(&in);
		t[i].mutate(&in);
		scoring_errors_init(&errs);
		rc = scoring_validate(&in, t[i].parts, t[i].path, &errs);
		CHECK(rc == RC_INVALID, "%s: rc %d", t[i].name, rc);
		CHECK(errs.n == 1, "%s: %d errors", t[i].name, errs.n);
		if (errs.n >= 1) {
			CHECK(!strcmp(errs.e[0].field, t[i].field), "%s: field %s, want %s",
			      t[i].name, errs.e[0].field, t[i].field);
			CHECK(!strncmp(errs.e[0].message, t[i].message, strlen(t[i].message)),
			      "%s: message %s, want %s", t[i].name, errs.e[0].message,
			      t[i].message);
		}
		CHECK(scoring_eval(&in, &r) == RC_INVALID, "%s: eval accepted it", t[i].name);
	}
}

static void test_validation_accepts(void)
{
	static void (*const ok[])(struct scoring_input *) = { m_none, m_sum_100_005, m_unset };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct scoring_input in;
		struct scoring_errors errs;

		seed_input(&in);
		ok[i](&in);
		scoring_errors_init(&errs);
		CHECK(scoring_validate(&in, SCORING_ALL, "assessment", &errs) == 0,
		      "case %zu: %d errors, first %s: %s", i, errs.n, errs.n ? errs.e[0].field : "",
		      errs.n ? errs.e[0].message : "");
	}
	/* Unreadable tasks were reported by the reader: nothing more to say about them. */
	{
		struct scoring_input in;
		struct scoring_errors errs;

		seed_input(&in);
		m_tasks_unreadable(&in);
		scoring_errors_init(&errs);
		CHECK_INT(scoring_validate(&in, SCORING_ALL, "", &errs), 0);
	}
	/* Only the parts asked for are checked. */
	{
		struct scoring_input in;
		struct scoring_errors errs;

		seed_input(&in);
		in.growth = 7;
		scoring_errors_init(&errs);
		CHECK_INT(scoring_validate(&in, SCORING_TASKS | SCORING_EVIDENCE, "", &errs), 0);
	}
}

static void test_many_errors(void)
{
	struct scoring_input in;
	struct scoring_errors errs;
	int i;

	seed_input(&in);
	in.tasks[0].score = 9;
	in.evidence[4] = 5;
	in.barriers[1] = 9;
	in.growth = 4;
	scoring_errors_init(&errs);
	CHECK_INT(scoring_validate(&in, SCORING_ALL, "assessment", &errs), RC_INVALID);
	CHECK_INT(errs.n, 4);
	CHECK_STR(errs.e[0].field, "assessment.tasks[0].score");
	CHECK_STR(errs.e[1].field, "assessment.evidence.expert_consensus.score");
	CHECK_STR(errs.e[2].field, "assessment.barriers.physical_presence.score");
	CHECK_STR(errs.e[3].field, "assessment.growth.score");

	/* Past the capacity the list counts what it dropped. */
	scoring_errors_init(&errs);
	for (i = 0; i < SCORING_MAX_ERRORS + 3; i++)
		scoring_errors_add(&errs, "x", "n %d", i);
	CHECK_INT(errs.n, SCORING_MAX_ERRORS);
	CHECK_INT(errs.dropped, 3);
	CHECK_STR(errs.e[1].message, "n 1");
}

int main(void)
{
	static const struct harness_test tests[] = {
		{ "worked_example", test_worked_example },
		{ "edge_cases", test_edge_cases },
		{ "round1", test_round1 },
		{ "zone_label_boundaries", test_zone_label_boundaries },
		{ "full_inputs_near_boundaries", test_full_inputs_near_boundaries },
		{ "derived_wording", test_derived_wording },
		{ "override", test_override },
		{ "validation", test_validation },
		{ "validation_accepts", test_validation_accepts },
		{ "many_errors", test_many_errors },
		{ NULL, NULL },
	};
	return harness_main("scoring", tests);
}
