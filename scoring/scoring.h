/*
 * scoring.h: the AIJRI method of METHOD.md, and the only place its formula lives.
 *
 * Pure C: no I/O, no JSON, no HTTP, no SQL, and no allocation (every struct here is filled in
 * by value). The API, the offline `aijri score` command, the store's recomputation and the
 * import all call scoring_validate() then scoring_eval().
 *
 * Field paths in errors are those a client sent: the caller passes the prefix under which the
 * part sits in its body ("assessment", "dimensions", "" for a bare assessment), and the
 * module appends ".tasks[2].score", ".evidence.wage_trends.score" and the like.
 */
#ifndef SCORING_SCORING_H
#define SCORING_SCORING_H

#include <stddef.h>

#define SCORING_METHOD_VERSION "1"
#define SCORING_MAX_TASKS 50
#define SCORING_N_EVIDENCE 5
#define SCORING_N_BARRIERS 5
#define SCORING_N_PROTECTIVE 3

/* The constants of METHOD.md. */
#define SCORING_TR_BASE 6.0
#define SCORING_EVIDENCE_STEP 0.04
#define SCORING_BARRIER_STEP 0.02
#define SCORING_GROWTH_STEP 0.05
#define SCORING_RAW_FLOOR 0.54
#define SCORING_RAW_SPAN 7.93
#define SCORING_GREEN_MIN 48.0
#define SCORING_YELLOW_MIN 25.0
#define SCORING_SHARE_TOLERANCE 0.01

/* Dimension names in the order of METHOD.md; JSON keys and field paths use them. */
extern const char *const scoring_evidence_names[SCORING_N_EVIDENCE];
extern const char *const scoring_barrier_names[SCORING_N_BARRIERS];
extern const char *const scoring_protective_names[SCORING_N_PROTECTIVE];

enum scoring_zone { SCORING_RED = 0, SCORING_YELLOW, SCORING_GREEN };

/* "red", "yellow", "green" */
const char *scoring_zone_name(enum scoring_zone z);

/* The numbers of one assessment. Text (names, rationales) lives with the caller. */
struct scoring_task {
	double time_share; /* percent, > 0 */
	int score;         /* 1..5, how far AI can do it */
};

struct scoring_input {
	int n_tasks;
	struct scoring_task tasks[SCORING_MAX_TASKS];
	int evidence[SCORING_N_EVIDENCE];     /* -2..+2 each */
	int barriers[SCORING_N_BARRIERS];     /* 0..2 each */
	int protective[SCORING_N_PROTECTIVE]; /* 0..3 each */
	int growth;                           /* -2..+2 */
	int has_override;
	double override_score;                /* 0..100 when has_override */
};

/* One published result: score, zone and label. */
struct scoring_verdict {
	double score;       /* rounded to one decimal, half away from zero */
	double score_exact; /* unrounded */
	enum scoring_zone zone;
	const char *label;  /* static string, e.g. "Green (Transforming)" */
};

struct scoring_result {
	double weighted_task_score; /* W */
	double task_resistance;     /* TR = 6 - W */
	int evidence_total;         /* E */
	double evidence_modifier;   /* EM */
	int barrier_total;          /* B */
	double barrier_modifier;    /* BM */
	const char *barrier_strength; /* "Weak", "Moderate", "Strong" */
	int protective_total;       /* P */
	int growth;                 /* G */
	double growth_modifier;     /* GM */
	const char *growth_wording; /* "AI slightly boosts jobs", ... */
	double raw;
	double share_scoring_3plus; /* S3, percent */
	double impact_displaced, impact_augmented, impact_not_involved; /* percent */
	double comp_task_resistance, comp_evidence, comp_barriers, comp_protective, comp_growth;
	struct scoring_verdict formula;   /* the formula's own result */
	int has_override;
	double override_score;            /* as given */
	struct scoring_verdict published; /* the override's when there is one, else the formula's */
};

/* A bounded list of broken fields. Adding past the capacity counts in `dropped`. */
#define SCORING_MAX_ERRORS 64
#define SCORING_FIELD_LEN 128
#define SCORING_MESSAGE_LEN 192

struct scoring_error {
	char field[SCORING_FIELD_LEN];     /* "assessment.evidence.wage_trends.score" */
	char message[SCORING_MESSAGE_LEN]; /* "must be an integer from -2 to 2" */
};

struct scoring_errors {
	int n;
	int dropped;
	struct scoring_error e[SCORING_MAX_ERRORS];
};

void scoring_errors_init(struct scoring_errors *errs);
/* Adds one error; field is the full path, message a printf format. */
void scoring_errors_add(struct scoring_errors *errs, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parts of an assessment, for validating one part of a partial update. */
enum scoring_part {
	SCORING_TASKS = 1,
	SCORING_EVIDENCE = 2,
	SCORING_BARRIERS = 4,
	SCORING_PROTECTIVE = 8,
	SCORING_GROWTH = 16,
	SCORING_OVERRIDE = 32,
	SCORING_ALL = 63,
};

/* A value the JSON reader could not read (wrong type, missing) and has reported already:
 * scoring_validate() skips it instead of reporting it twice. Doubles use NAN. */
#define SCORING_UNSET (-2147483647 - 1)

/*
 * Checks every rule of METHOD.md that concerns numbers: task count 1..50, time shares > 0
 * adding up to 100 (within the tolerance), task scores 1..5, evidence -2..+2, barriers 0..2,
 * protective 0..3, growth -2..+2, override 0..100. Only the parts in `parts` are checked.
 *
 * `path` says where the input sits in the client's body:
 *   parts == SCORING_ALL: the assessment's own path ("assessment" gives
 *     "assessment.tasks[0].score"; "" gives "tasks[0].score");
 *   one part: that part's path ("dimensions" gives "dimensions.wage_trends.score",
 *     "tasks" gives "tasks[0].score", "growth" gives "growth.score").
 * Each broken rule is added to errs. n_tasks < 0 means the tasks were unreadable (reported).
 * Returns 0 when all hold, RC_INVALID otherwise.
 */
int scoring_validate(const struct scoring_input *in, unsigned parts, const char *path,
		     struct scoring_errors *errs);

/* Computes every figure of METHOD.md for a valid input. Never fails on a valid input;
 * returns RC_INVALID (and fills nothing useful) when given an invalid one. */
int scoring_eval(const struct scoring_input *in, struct scoring_result *out);

/*
 * A task's impact, by its score alone: 4 or 5 displaced, 2 or 3 augmented, 1 not involved
 * (METHOD.md). The percentages of a result (impact_displaced, ...) sum the time shares by it,
 * and the tasks of GET /roles/{slug}/tasks are labelled by it: this is the one place the rule
 * is written.
 */
enum scoring_impact { SCORING_NOT_INVOLVED, SCORING_AUGMENTED, SCORING_DISPLACED };
enum scoring_impact scoring_task_impact(int score);
/* "displaced", "augmented", "not_involved": the names API.md gives them. */
const char *scoring_impact_name(enum scoring_impact impact);

/* The published rounding of METHOD.md step 8: one decimal, half away from zero, +1e-9. */
double scoring_round1(double x);

/* Zone and label from a published (rounded) score, S3 and G. */
enum scoring_zone scoring_zone_of(double score);
const char *scoring_label_of(double score, double s3, int growth);
const char *scoring_barrier_strength(int barrier_total);
const char *scoring_growth_wording(int growth);

#endif
