/*
 * test_assessment.c: the JSON side of an assessment: the seed data file read from disk,
 * strict reading (unknown fields, wrong types, missing and unknown dimensions, every error
 * at once with its path), normalization, partial updates, diffs, slugs and the score block.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "body/assessment.h"
#include "scoring/scoring.h"
#include "tests/unit/harness.h"
#include "util/rc.h"

static struct scoring_errors errs;

/* A string for printing and comparing: NULL reads "(null)", and an array becomes a plain
 * pointer (so that CHECK_STR's NULL test is not always true). */
static const char *S(const char *s)
{
	return s ? s : "(null)";
}

/* The seed role body as the repository ships it. Tests run from the repository root; the
 * fallbacks let the binary run from its build folder too. */
static json_t *load_seed(void)
{
	static const char *const paths[] = { "data/edge-ai-engineer.json",
					     "../data/edge-ai-engineer.json",
					     "../../data/edge-ai-engineer.json",
					     "../../../data/edge-ai-engineer.json" };
	json_error_t jerr;
	size_t i;
	json_t *v;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		v = json_load_file(paths[i], JSON_REJECT_DUPLICATES, &jerr);
		if (v)
			return v;
	}
	fprintf(stderr, "cannot load data/edge-ai-engineer.json: %s\n", jerr.text);
	exit(1);
}

static json_t *path_get(json_t *v, const char *p)
{
	return json_object_get(v, p);
}

/* The assessment member of a role body (borrowed). */
static json_t *asmt(json_t *role)
{
	return json_object_get(role, "assessment");
}

static int has_error(const char *field, const char *message)
{
	int i;

	for (i = 0; i < errs.n; i++)
		if (!strcmp(errs.e[i].field, field) &&
		    (!message || !strncmp(errs.e[i].message, message, strlen(message))))
			return 1;
	return 0;
}

static void dump_errors(void)
{
	int i;

	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "    %s: %s\n", errs.e[i].field, errs.e[i].message);
}

#define CHECK_ERR(field, message) \
	do { \
		int found_ = has_error(field, message); \
		CHECK(found_, "no error %s: %s", field, message ? message : "*"); \
		if (!found_) \
			dump_errors(); \
	} while (0)

static void test_read_seed(void)
{
	struct scoring_input in;
	struct scoring_result r;
	json_t *role = load_seed(), *norm = NULL, *a;

	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_role(role, ASSESSMENT_REQUIRE_SLUG, &in, &norm, &errs), 0);
	dump_errors();
	CHECK(norm != NULL, "no norm");
	if (!norm)
		goto out;
	CHECK_STR(json_string_value(path_get(norm, "slug")), "edge-ai-engineer");
	CHECK_STR(json_string_value(path_get(norm, "title")), "Edge AI Engineer");
	CHECK_INT(json_array_size(path_get(norm, "aliases")), 4);
	CHECK_STR(json_string_value(json_array_get(path_get(norm, "aliases"), 3)), "TinyML Engineer");
	CHECK_STR(json_string_value(path_get(norm, "seniority")), "Mid-level (3-6 years experience)");
	CHECK_STR(json_string_value(path_get(norm, "category")), "AI/ML Engineering");
	a = asmt(norm);
	CHECK_INT(json_array_size(path_get(a, "tasks")), 8);
	CHECK(json_is_null(path_get(a, "override")), "override not null");
	CHECK_INT(in.n_tasks, 8);
	CHECK_NEAR(in.tasks[0].time_share, 25, 0);
	CHECK_INT(in.tasks[6].score, 4);
	CHECK_INT(in.barriers[1], 1);
	CHECK_INT(in.protective[2], 2);
	CHECK_INT(in.growth, 1);
	CHECK_INT(scoring_eval(&in, &r), 0);
	CHECK(r.published.score == 55.2, "score %.17g", r.published.score);
	CHECK_STR(r.published.label, "Green (Transforming)");
out:
	json_decref(norm);
	json_decref(role);
}

/* Reads a role body given as JSON text; returns the rc and leaves errors in errs. */
static int read_text(const char *text, int flags, json_t **norm)
{
	struct scoring_input in;
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);
	int rc;

	CHECK(v != NULL, "fixture does not parse: %s", jerr.text);
	scoring_errors_init(&errs);
	rc = assessment_read_role(v, flags, &in, norm, &errs);
	json_decref(v);
	return rc;
}

static void test_strict_unknown_fields(void)
{
	struct scoring_input in;
	json_t *role = load_seed(), *norm = NULL, *a = asmt(role);

	json_object_set_new(role, "bogus", json_true());
	json_object_set_new(a, "extra", json_integer(1));
	json_object_set_new(json_array_get(path_get(a, "tasks"), 3), "weight", json_integer(1));
	json_object_set_new(path_get(path_get(a, "evidence"), "wage_trends"), "note",
			    json_string("x"));
	json_array_append_new(path_get(path_get(path_get(a, "evidence"), "company_actions"),
				       "sources"),
			      json_pack("{s:s, s:s, s:i}", "title", "t", "url", "https://x", "year",
					2026));
	json_object_set_new(path_get(a, "growth"), "trend", json_string("up"));
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_role(role, 0, &in, &norm, &errs), RC_INVALID);
	CHECK(norm == NULL, "norm set on failure");
	CHECK_ERR("bogus", "unknown field");
	CHECK_ERR("assessment.extra", "unknown field");
	CHECK_ERR("assessment.tasks[3].weight", "unknown field");
	CHECK_ERR("assessment.evidence.wage_trends.note", "unknown field");
	CHECK_ERR("assessment.evidence.company_actions.sources[0].year", "unknown field");
	CHECK_ERR("assessment.growth.trend", "unknown field");
	CHECK_INT(errs.n, 6);
	json_decref(role);
}

static void test_strict_types_and_dimensions(void)
{
	struct scoring_input in;
	json_t *role = load_seed(), *norm = NULL, *a = asmt(role), *tasks = path_get(a, "tasks");
	json_t *ev = path_get(a, "evidence");

	json_object_set_new(json_array_get(tasks, 0), "time_share", json_string("25"));
	json_object_set_new(json_array_get(tasks, 1), "score", json_true());
	json_object_set_new(json_array_get(tasks, 2), "score", json_real(2.5));
	json_object_set_new(json_array_get(tasks, 3), "name", json_string(""));
	json_object_del(json_array_get(tasks, 4), "score");
	json_object_del(ev, "wage_trends");
	json_object_set_new(ev, "foo", json_pack("{s:i}", "score", 1));
	json_object_set_new(path_get(path_get(a, "barriers"), "regulatory"), "score",
			    json_string("0"));
	json_object_set_new(path_get(a, "protective"), "moral_judgment", json_integer(2));
	json_object_set_new(path_get(a, "growth"), "rationale", json_integer(5));
	json_object_set_new(role, "aliases", json_pack("[s, i]", "Edge ML", 3));
	json_object_set_new(role, "title", json_integer(7));
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_role(role, 0, &in, &norm, &errs), RC_INVALID);
	CHECK_ERR("assessment.tasks[0].time_share", "must be a number");
	CHECK_ERR("assessment.tasks[1].score", "must be an integer");
	CHECK_ERR("assessment.tasks[2].score", "must be an integer");
	CHECK_ERR("assessment.tasks[3].name", "must not be empty");
	CHECK_ERR("assessment.tasks[4].score", "is required");
	CHECK_ERR("assessment.evidence.wage_trends", "is required");
	CHECK_ERR("assessment.evidence.foo", "unknown evidence dimension");
	CHECK_ERR("assessment.barriers.regulatory.score", "must be an integer");
	CHECK_ERR("assessment.protective.moral_judgment", "must be an object");
	CHECK_ERR("assessment.growth.rationale", "must be a string");
	CHECK_ERR("aliases[1]", "must be a string");
	CHECK_ERR("title", "must be a string");
	/* The unreadable share is reported once, not again as a wrong sum. */
	CHECK(!has_error("assessment.tasks", NULL), "sum reported over an unreadable share");
	CHECK_INT(errs.n, 12);
	json_decref(role);
}

/* Range errors from scoring_validate() come in the same list as the reader's errors. */
static void test_all_errors_at_once(void)
{
	struct scoring_input in;
	json_t *role = load_seed(), *norm = NULL, *a = asmt(role);

	json_object_set_new(json_array_get(path_get(a, "tasks"), 0), "score", json_integer(7));
	json_object_set_new(json_array_get(path_get(a, "tasks"), 1), "nope", json_integer(7));
	json_object_set_new(path_get(path_get(a, "evidence"), "expert_consensus"), "score",
			    json_integer(3));
	json_object_set_new(a, "override", json_pack("{s:i, s:s}", "score", 101, "reason", ""));
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_role(role, 0, &in, &norm, &errs), RC_INVALID);
	CHECK_ERR("assessment.tasks[0].score", "must be an integer from 1 to 5");
	CHECK_ERR("assessment.tasks[1].nope", "unknown field");
	CHECK_ERR("assessment.evidence.expert_consensus.score", "must be an integer from -2 to 2");
	CHECK_ERR("assessment.override.reason", "must not be empty");
	CHECK_ERR("assessment.override.score", "must be a number from 0 to 100");
	CHECK_INT(errs.n, 5);
	json_decref(role);
}

static void test_shares_and_integral_reals(void)
{
	struct scoring_input in;
	json_t *role = load_seed(), *norm = NULL, *tasks = path_get(asmt(role), "tasks");
	char *text;

	/* 2.0 is the integer 2; 20.5 + 19.5 keeps the sum at 100 and stays real. */
	json_object_set_new(json_array_get(tasks, 0), "score", json_real(2.0));
	json_object_set_new(json_array_get(tasks, 1), "time_share", json_real(20.5));
	json_object_set_new(json_array_get(tasks, 2), "time_share", json_real(14.5));
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_role(role, 0, &in, &norm, &errs), 0);
	dump_errors();
	if (norm) {
		json_t *nt = path_get(asmt(norm), "tasks");

		CHECK(json_is_integer(path_get(json_array_get(nt, 0), "score")), "2.0 not integer");
		CHECK(json_is_integer(path_get(json_array_get(nt, 0), "time_share")),
		      "25 not kept integer");
		CHECK(json_is_real(path_get(json_array_get(nt, 1), "time_share")),
		      "20.5 not kept real");
		text = assessment_dumps(nt);
		CHECK(text && strstr(text, "\"time_share\":20.5,"), "dump %s", S(text));
		CHECK(text && strstr(text, "\"time_share\":25,"), "dump %s", S(text));
		free(text);
	}
	json_decref(norm);
	norm = NULL;

	/* 95 in all: the error sits on the tasks array itself. */
	json_object_set_new(json_array_get(tasks, 0), "time_share", json_integer(20));
	json_object_set_new(json_array_get(tasks, 1), "time_share", json_integer(20));
	json_object_set_new(json_array_get(tasks, 2), "time_share", json_integer(15));
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_role(role, 0, &in, &norm, &errs), RC_INVALID);
	CHECK_ERR("assessment.tasks", "time shares add up to 95, must add up to 100");
	CHECK_INT(errs.n, 1);
	json_decref(role);
}

static void test_role_fields(void)
{
	static const char *const minimal_asmt =
		"{\"tasks\":[{\"name\":\"a\",\"time_share\":100,\"score\":3}],"
		"\"evidence\":{\"job_posting_trends\":{\"score\":0},\"company_actions\":{\"score\":0},"
		"\"wage_trends\":{\"score\":0},\"ai_tool_maturity\":{\"score\":0},"
		"\"expert_consensus\":{\"score\":0}},"
		"\"barriers\":{\"regulatory\":{\"score\":0},\"physical_presence\":{\"score\":0},"
		"\"union_power\":{\"score\":0},\"liability\":{\"score\":0},\"cultural\":{\"score\":0}},"
		"\"protective\":{\"embodied_physicality\":{\"score\":0},"
		"\"deep_interpersonal_connection\":{\"score\":0},\"moral_judgment\":{\"score\":0}},"
		"\"growth\":{\"score\":0}}";
	char text[2048];
	json_t *norm = NULL, *a;
	char *dump;

	/* No title without OPTIONAL_META; none needed with it. */
	snprintf(text, sizeof(text), "{\"assessment\":%s}", minimal_asmt);
	CHECK_INT(read_text(text, 0, &norm), RC_INVALID);
	CHECK_ERR("title", "is required");
	CHECK_INT(read_text(text, ASSESSMENT_REQUIRE_SLUG, &norm), RC_INVALID);
	CHECK_ERR("slug", "is required");
	CHECK_INT(read_text(text, ASSESSMENT_OPTIONAL_META, &norm), 0);
	dump_errors();
	if (norm) {
		/* Defaults: every key present, in a fixed order. */
		static const char *const want_prefix =
			"{\"title\":null,\"aliases\":[],\"seniority\":null,"
			"\"category\":null,\"primary_function\":null,"
			"\"not_this_role\":null,\"typical_experience\":null,"
			"\"codes\":{\"soc\":[],\"isco\":[]},"
			"\"summary\":null,\"seniority_note\":null,\"commentary\":"
			"{\"quick_screen\":null,\"reinstatement\":null,\"growth_check\":null,"
			"\"calibration\":null,\"score_vs_reality\":null,\"not_captured\":null,"
			"\"who_should_worry\":null,\"outlook\":null,\"survival_strategy\":null,"
			"\"timeline\":null},\"sources\":[],\"resources\":[],"
			"\"assessment\":{\"tasks\":[{\"name\":\"a\",\"time_share\":100,"
			"\"score\":3,\"rationale\":\"\"}],\"evidence\":"
			"{\"job_posting_trends\":{\"score\":0,\"rationale\":\"\","
			"\"sources\":[]},";

		dump = assessment_dumps(norm);
		CHECK(dump && !strncmp(dump, want_prefix, strlen(want_prefix)),
		      "dump %s", S(dump));
		a = asmt(norm);
		CHECK(dump && strstr(dump, "\"growth\":{\"score\":0,\"rationale\":\"\"},"
				     "\"override\":null}}"), "dump %s", S(dump));
		CHECK(json_is_object(path_get(path_get(a, "barriers"), "cultural")), "no cultural");
		free(dump);
	}
	json_decref(norm);
	norm = NULL;

	snprintf(text, sizeof(text), "{\"slug\":\"Edge AI\",\"title\":\"x\",\"assessment\":%s}",
		 minimal_asmt);
	CHECK_INT(read_text(text, 0, &norm), RC_INVALID);
	CHECK_ERR("slug", "must be lower-case letters");
	snprintf(text, sizeof(text), "{\"title\":\"x\",\"aliases\":\"a\",\"assessment\":[]}");
	CHECK_INT(read_text(text, 0, &norm), RC_INVALID);
	CHECK_ERR("aliases", "must be an array");
	CHECK_ERR("assessment", "must be a JSON object");
	CHECK_INT(read_text("{\"title\":\"x\"}", 0, &norm), RC_INVALID);
	CHECK_ERR("assessment", "is required");
	CHECK_INT(read_text("[1]", 0, &norm), RC_INVALID);
	CHECK_ERR("body", "must be a JSON object");
}

static void test_text_limits(void)
{
	struct scoring_input in;
	json_t *role = load_seed(), *norm = NULL, *tasks = path_get(asmt(role), "tasks");
	/* A rationale may be as long as the 1 MiB body allows; one character more is refused. */
	size_t max = 1024 * 1024;
	char *longname = malloc(max + 2);

	memset(longname, 'n', max + 1);
	longname[201] = '\0';
	json_object_set_new(json_array_get(tasks, 0), "name", json_string(longname));
	longname[201] = 'n';
	longname[max + 1] = '\0';
	json_object_set_new(json_array_get(tasks, 1), "rationale", json_string(longname));
	json_object_set_new(json_array_get(tasks, 2), "name", json_stringn("a\0b", 3));
	/* 200 two-byte characters are 200 characters, not 400. */
	{
		char accents[401];
		int i;

		for (i = 0; i < 200; i++) {
			accents[2 * i] = (char)0xC3;
			accents[2 * i + 1] = (char)0xA9;
		}
		accents[400] = '\0';
		json_object_set_new(json_array_get(tasks, 3), "name", json_string(accents));
	}
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_role(role, 0, &in, &norm, &errs), RC_INVALID);
	CHECK_ERR("assessment.tasks[0].name", "must be at most 200 characters");
	CHECK_ERR("assessment.tasks[1].rationale", "must be at most 1048576 characters");
	CHECK_ERR("assessment.tasks[2].name", "must not contain NUL");
	CHECK(!has_error("assessment.tasks[3].name", NULL), "200 accented characters refused");
	CHECK_INT(errs.n, 3);
	free(longname);
	json_decref(role);
}

static void test_bare_assessment_paths(void)
{
	struct scoring_input in;
	json_t *role = load_seed(), *a = asmt(role), *norm = NULL;

	json_object_set_new(json_array_get(path_get(a, "tasks"), 5), "score", json_integer(0));
	json_object_del(a, "growth");
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read(a, "", &in, &norm, &errs), RC_INVALID);
	CHECK_ERR("tasks[5].score", "must be an integer from 1 to 5");
	CHECK_ERR("growth", "is required");
	CHECK_INT(errs.n, 2);
	json_decref(role);
}

static void test_normalization_idempotent(void)
{
	struct scoring_input in, in2;
	json_t *role = load_seed(), *norm = NULL, *norm2 = NULL;
	char *d1 = NULL, *d2 = NULL;

	/* A sparse body: a rationale and the sources missing. */
	json_object_del(json_array_get(path_get(asmt(role), "tasks"), 0), "rationale");
	json_object_del(path_get(path_get(asmt(role), "evidence"), "wage_trends"), "sources");
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_role(role, 0, &in, &norm, &errs), 0);
	if (!norm)
		goto out;
	CHECK_STR(json_string_value(path_get(json_array_get(path_get(asmt(norm), "tasks"), 0),
					     "rationale")), "");
	CHECK(json_is_array(path_get(path_get(path_get(asmt(norm), "evidence"), "wage_trends"),
				     "sources")), "sources not filled in");
	CHECK_INT(assessment_read_role(norm, 0, &in2, &norm2, &errs), 0);
	d1 = assessment_dumps(norm);
	d2 = assessment_dumps(norm2);
	CHECK(d1 && d2 && !strcmp(d1, d2), "read(norm) != norm");
	CHECK(json_equal(norm, norm2), "not equal");
	CHECK(!memcmp(&in, &in2, sizeof(in)), "numbers differ");
	/* The numbers of the stored form, role or bare assessment. */
	memset(&in2, 0, sizeof(in2));
	CHECK_INT(assessment_input(asmt(norm), &in2), 0);
	CHECK(!memcmp(&in, &in2, sizeof(in)), "assessment_input differs");
	memset(&in2, 0, sizeof(in2));
	CHECK_INT(assessment_input(norm, &in2), 0);
	CHECK(!memcmp(&in, &in2, sizeof(in)), "assessment_input of a role differs");
	CHECK_INT(assessment_input(json_array_get(path_get(asmt(norm), "tasks"), 0), &in2),
		  RC_INVALID);
out:
	free(d1);
	free(d2);
	json_decref(norm);
	json_decref(norm2);
	json_decref(role);
}

/* The normalized seed assessment and its numbers. */
static json_t *seed_norm(struct scoring_input *in)
{
	json_t *role = load_seed(), *norm = NULL, *a;

	scoring_errors_init(&errs);
	assessment_read_role(role, 0, in, &norm, &errs);
	json_decref(role);
	a = json_incref(asmt(norm));
	json_decref(norm);
	return a;
}

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

	CHECK(v != NULL, "fixture %s: %s", text, jerr.text);
	return v;
}

static void test_read_part_evidence(void)
{
	struct scoring_input in;
	struct scoring_result r;
	json_t *cur = seed_norm(&in), *v, *norm = NULL, *wt;

	v = parse("{\"wage_trends\":{\"score\":2}}");
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_part(SCORING_EVIDENCE, v, "dimensions", cur, &in, &norm, &errs),
		  0);
	dump_errors();
	CHECK_INT(in.evidence[2], 2);
	CHECK_INT(in.evidence[0], 1);
	CHECK_INT(scoring_eval(&in, &r), 0);
	CHECK_INT(r.evidence_total, 6);
	wt = path_get(path_get(norm, "evidence"), "wage_trends");
	CHECK_INT(json_integer_value(path_get(wt, "score")), 2);
	/* Fields not given are kept. */
	CHECK(!strncmp(json_string_value(path_get(wt, "rationale")), "Mid-level Edge AI", 17),
	      "rationale lost");
	CHECK(json_is_array(path_get(wt, "sources")), "sources lost");
	CHECK(json_equal(path_get(norm, "tasks"), path_get(cur, "tasks")), "tasks changed");
	json_decref(v);
	json_decref(norm);
	norm = NULL;

	v = parse("{\"company_actions\":{\"rationale\":\"new\",\"sources\":[{\"title\":\"T\","
		  "\"url\":\"https://example.com\"}]}}");
	CHECK_INT(assessment_read_part(SCORING_EVIDENCE, v, "dimensions", cur, &in, &norm, &errs),
		  0);
	if (norm) {
		json_t *ca = path_get(path_get(norm, "evidence"), "company_actions");
		json_t *diff = assessment_diff(cur, norm);

		CHECK_INT(json_integer_value(path_get(ca, "score")), 1);
		CHECK_STR(json_string_value(path_get(ca, "rationale")), "new");
		CHECK_INT(json_array_size(path_get(ca, "sources")), 1);
		CHECK_INT(json_array_size(diff), 1);
		CHECK_STR(json_string_value(json_array_get(diff, 0)), "evidence.company_actions");
		json_decref(diff);
	}
	json_decref(v);
	json_decref(norm);
	norm = NULL;

	v = parse("{\"foo\":{\"score\":1},\"wage_trends\":{\"score\":3,\"x\":1}}");
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_part(SCORING_EVIDENCE, v, "dimensions", cur, &in, &norm, &errs),
		  RC_INVALID);
	CHECK(norm == NULL, "norm on failure");
	CHECK_ERR("dimensions.foo", "unknown evidence dimension");
	CHECK_ERR("dimensions.wage_trends.x", "unknown field");
	CHECK_ERR("dimensions.wage_trends.score", "must be an integer from -2 to 2");
	CHECK_INT(errs.n, 3);
	json_decref(v);

	v = parse("{}");
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_part(SCORING_EVIDENCE, v, "dimensions", cur, &in, &norm, &errs),
		  RC_INVALID);
	CHECK_ERR("dimensions", "must be an object naming at least one");
	json_decref(v);
	json_decref(cur);
}

static void test_read_part_others(void)
{
	struct scoring_input in, base;
	struct scoring_result r;
	json_t *cur = seed_norm(&base), *v, *norm = NULL, *diff;

	/* Tasks: a new decomposition replaces the old one. */
	in = base;
	v = parse("[{\"name\":\"x\",\"time_share\":60,\"score\":1},"
		  "{\"name\":\"y\",\"time_share\":40,\"score\":5,\"rationale\":\"r\"}]");
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_part(SCORING_TASKS, v, "tasks", cur, &in, &norm, &errs), 0);
	CHECK_INT(in.n_tasks, 2);
	CHECK_INT(scoring_eval(&in, &r), 0);
	CHECK_NEAR(r.weighted_task_score, 2.6, 1e-12);
	diff = assessment_diff(cur, norm);
	CHECK_INT(json_array_size(diff), 1);
	CHECK_STR(json_string_value(json_array_get(diff, 0)), "tasks");
	json_decref(diff);
	json_decref(norm);
	norm = NULL;
	json_decref(v);
	in = base;
	v = parse("[{\"name\":\"x\",\"time_share\":60,\"score\":6}]");
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_part(SCORING_TASKS, v, "tasks", cur, &in, &norm, &errs),
		  RC_INVALID);
	CHECK_ERR("tasks[0].score", "must be an integer from 1 to 5");
	CHECK_ERR("tasks", "time shares add up to 60");
	json_decref(v);

	/* Barriers: all five, replaced. */
	in = base;
	v = parse("{\"regulatory\":{\"score\":2,\"rationale\":\"licence\"},"
		  "\"physical_presence\":{\"score\":1},\"union_power\":{\"score\":0},"
		  "\"liability\":{\"score\":1},\"cultural\":{\"score\":0}}");
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_part(SCORING_BARRIERS, v, "barriers", cur, &in, &norm, &errs), 0);
	CHECK_INT(in.barriers[0], 2);
	diff = assessment_diff(cur, norm);
	CHECK_INT(json_array_size(diff), 5); /* every rationale changed too */
	CHECK_STR(json_string_value(json_array_get(diff, 0)), "barriers.regulatory");
	json_decref(diff);
	json_decref(norm);
	norm = NULL;
	json_decref(v);
	in = base;
	v = parse("{\"regulatory\":{\"score\":3},\"physical_presence\":{\"score\":1},"
		  "\"union_power\":{\"score\":0},\"liability\":{\"score\":1}}");
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_part(SCORING_BARRIERS, v, "barriers", cur, &in, &norm, &errs),
		  RC_INVALID);
	CHECK_ERR("barriers.regulatory.score", "must be an integer from 0 to 2");
	CHECK_ERR("barriers.cultural", "is required");
	json_decref(v);

	/* Protective. */
	in = base;
	v = parse("{\"embodied_physicality\":{\"score\":3},\"deep_interpersonal_connection\":"
		  "{\"score\":0},\"moral_judgment\":{\"score\":4}}");
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_part(SCORING_PROTECTIVE, v, "protective", cur, &in, &norm,
				       &errs), RC_INVALID);
	CHECK_ERR("protective.moral_judgment.score", "must be an integer from 0 to 3");
	CHECK_INT(errs.n, 1);
	json_decref(v);

	/* Growth. */
	in = base;
	v = parse("{\"score\":2,\"rationale\":\"recursive\"}");
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_part(SCORING_GROWTH, v, "growth", cur, &in, &norm, &errs), 0);
	CHECK_INT(scoring_eval(&in, &r), 0);
	CHECK_STR(r.published.label, "Green (Accelerated)");
	diff = assessment_diff(cur, norm);
	CHECK_INT(json_array_size(diff), 1);
	CHECK_STR(json_string_value(json_array_get(diff, 0)), "growth");
	json_decref(diff);
	json_decref(norm);
	norm = NULL;
	json_decref(v);
	in = base;
	v = parse("{\"score\":-3}");
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_part(SCORING_GROWTH, v, "growth", cur, &in, &norm, &errs),
		  RC_INVALID);
	CHECK_ERR("growth.score", "must be an integer from -2 to 2");
	json_decref(v);

	/* Override: set, then cleared with null. */
	in = base;
	v = parse("{\"score\":50,\"reason\":\"assessor judgement\"}");
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_part(SCORING_OVERRIDE, v, "override", cur, &in, &norm, &errs), 0);
	CHECK_INT(in.has_override, 1);
	CHECK_NEAR(in.override_score, 50, 0);
	CHECK_INT(scoring_eval(&in, &r), 0);
	CHECK(r.published.score == 50.0, "published %g", r.published.score);
	CHECK(r.formula.score == 55.2, "formula %g", r.formula.score);
	{
		json_t *block = assessment_score_block(&r, "edge-ai-engineer", "Edge AI Engineer", 0,
						       NULL);
		json_t *ov;

		assessment_score_block_set_reason(block, norm);
		ov = path_get(block, "override");
		CHECK_NEAR(json_number_value(path_get(ov, "score")), 50, 0);
		CHECK_STR(json_string_value(path_get(ov, "reason")), "assessor judgement");
		CHECK_NEAR(json_number_value(path_get(block, "score")), 50, 0);
		CHECK_NEAR(json_number_value(path_get(path_get(block, "formula"), "score")), 55.2,
			   0);
		CHECK_STR(json_string_value(path_get(path_get(block, "formula"), "label")),
			  "Green (Transforming)");
		CHECK_STR(json_string_value(path_get(block, "label")), "Green (Transforming)");
		json_decref(block);
	}
	{
		json_t *cleared = NULL, *n = json_null();

		CHECK_INT(assessment_read_part(SCORING_OVERRIDE, n, "override", norm, &in, &cleared,
					       &errs), 0);
		CHECK_INT(in.has_override, 0);
		CHECK(cleared && json_equal(cleared, cur), "cleared override differs from seed");
		json_decref(cleared);
		json_decref(n);
	}
	json_decref(norm);
	norm = NULL;
	json_decref(v);
	in = base;
	v = parse("{\"score\":\"50\",\"reason\":\"\",\"by\":\"me\"}");
	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_part(SCORING_OVERRIDE, v, "override", cur, &in, &norm, &errs),
		  RC_INVALID);
	CHECK_ERR("override.score", "must be a number");
	CHECK_ERR("override.reason", "must not be empty");
	CHECK_ERR("override.by", "unknown field");
	CHECK_INT(errs.n, 3);
	json_decref(v);
	json_decref(cur);
}

static void test_diff(void)
{
	json_t *a = load_seed(), *b = load_seed(), *d;
	struct scoring_input in;
	json_t *na = NULL, *nb = NULL;

	scoring_errors_init(&errs);
	assessment_read_role(a, 0, &in, &na, &errs);
	d = assessment_diff(na, na);
	CHECK_INT(json_array_size(d), 0);
	json_decref(d);

	json_object_set_new(b, "title", json_string("Edge AI Engineer II"));
	json_object_set_new(path_get(path_get(asmt(b), "evidence"), "wage_trends"), "score",
			    json_integer(2));
	json_object_set_new(path_get(path_get(asmt(b), "protective"), "moral_judgment"),
			    "rationale", json_string("changed"));
	json_object_set_new(asmt(b), "override", json_pack("{s:i, s:s}", "score", 60, "reason", "r"));
	CHECK_INT(assessment_read_role(b, 0, &in, &nb, &errs), 0);
	d = assessment_diff(na, nb);
	CHECK_INT(json_array_size(d), 4);
	CHECK_STR(json_string_value(json_array_get(d, 0)), "title");
	CHECK_STR(json_string_value(json_array_get(d, 1)), "evidence.wage_trends");
	CHECK_STR(json_string_value(json_array_get(d, 2)), "protective.moral_judgment");
	CHECK_STR(json_string_value(json_array_get(d, 3)), "override");
	json_decref(d);
	/* Bare assessments name their parts the same way. */
	d = assessment_diff(asmt(na), asmt(nb));
	CHECK_INT(json_array_size(d), 3);
	CHECK_STR(json_string_value(json_array_get(d, 0)), "evidence.wage_trends");
	json_decref(d);
	json_decref(na);
	json_decref(nb);
	json_decref(a);
	json_decref(b);
}

static void test_slugs(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "TinyML Engineer", "tinyml-engineer" },
		{ "Edge AI Engineer", "edge-ai-engineer" },
		{ "  Edge/ML -- Engineer! ", "edge-ml-engineer" },
		{ "C++ Développeur", "c-d-veloppeur" },
		{ "2nd-Line Support", "2nd-line-support" },
	};
	char out[128], small[8];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK_INT(assessment_slugify(t[i].in, out, sizeof(out)), 0);
		CHECK_STR(S(out), t[i].want);
		CHECK(assessment_slug_ok(out), "%s not ok", out);
	}
	CHECK_INT(assessment_slugify("!!! ...", out, sizeof(out)), RC_INVALID);
	CHECK_STR(S(out), "");
	/* Cut to fit, never ending on a hyphen. */
	CHECK_INT(assessment_slugify("Edge AI Engineer", small, sizeof(small)), 0);
	CHECK_STR(S(small), "edge-ai");
	CHECK_INT(assessment_slugify("Edge ML", small, 6), 0);
	CHECK_STR(S(small), "edge");

	CHECK_INT(assessment_slug_ok("edge-ai-engineer"), 1);
	CHECK_INT(assessment_slug_ok("a"), 1);
	CHECK_INT(assessment_slug_ok(""), 0);
	CHECK_INT(assessment_slug_ok("-edge"), 0);
	CHECK_INT(assessment_slug_ok("edge-"), 0);
	CHECK_INT(assessment_slug_ok("edge--ai"), 0);
	CHECK_INT(assessment_slug_ok("Edge"), 0);
	CHECK_INT(assessment_slug_ok("edge_ai"), 0);
	memset(out, 'a', 101);
	out[101] = '\0';
	CHECK_INT(assessment_slug_ok(out), 0);
	out[100] = '\0';
	CHECK_INT(assessment_slug_ok(out), 1);
}

static void test_score_block(void)
{
	struct scoring_input in;
	struct scoring_result r;
	json_t *a = seed_norm(&in), *b;
	char *text;

	CHECK_INT(scoring_eval(&in, &r), 0);
	b = assessment_score_block(&r, "edge-ai-engineer", "Edge AI Engineer", 0, NULL);
	text = assessment_dumps(b);
	CHECK(text != NULL, "dumps failed");
	if (text) {
		/* The exact bytes of API.md's example, less revision and updated_at. */
		CHECK_STR(text,
			  "{\"role\":\"edge-ai-engineer\",\"title\":\"Edge AI Engineer\","
			  "\"score\":55.2,\"score_exact\":55.1576,\"zone\":\"green\","
			  "\"label\":\"Green (Transforming)\",\"weighted_task_score\":2.25,"
			  "\"task_resistance\":3.75,\"evidence\":{\"total\":5,\"modifier\":1.2},"
			  "\"barriers\":{\"total\":2,\"modifier\":1.04,\"strength\":\"Weak\"},"
			  "\"protective\":{\"total\":3},"
			  "\"growth\":{\"score\":1,\"modifier\":1.05,"
			  "\"wording\":\"AI slightly boosts jobs\"},"
			  "\"raw\":4.914,\"share_scoring_3plus\":25,"
			  "\"impact\":{\"displaced\":5,\"augmented\":90,\"not_involved\":5},"
			  "\"composition\":{\"task_resistance\":37.5,\"evidence\":10.0,"
			  "\"barriers\":3.0,\"protective\":3.3,\"growth\":2.5},"
			  "\"override\":null,\"formula\":{\"score\":55.2,\"zone\":\"green\","
			  "\"label\":\"Green (Transforming)\"},"
			  "\"method_version\":\"1\"}");
	}
	free(text);
	json_decref(b);

	b = assessment_score_block(&r, NULL, NULL, 3, "2026-11-24T12:00:00Z");
	CHECK(json_is_null(path_get(b, "role")), "role not null");
	CHECK_INT(json_integer_value(path_get(b, "revision")), 3);
	CHECK_STR(json_string_value(path_get(b, "updated_at")), "2026-11-24T12:00:00Z");
	json_decref(b);

	/* Shares that are not whole stay reals. */
	in.tasks[0].time_share = 24.5;
	in.tasks[3].time_share = 10.5;
	CHECK_INT(scoring_eval(&in, &r), 0);
	b = assessment_score_block(&r, NULL, NULL, 0, NULL);
	text = assessment_dumps(path_get(b, "share_scoring_3plus"));
	CHECK(text && !strcmp(text, "25.5"), "s3 %s", S(text));
	free(text);
	CHECK(!path_get(b, "revision") && !path_get(b, "updated_at"), "revision present");
	json_decref(b);
	json_decref(a);
}

static void test_dumps_numbers(void)
{
	static const struct {
		double v;
		const char *want;
	} t[] = { { 55.2, "55.2" }, { 10.0, "10.0" }, { 4.914, "4.914" }, { 1.04, "1.04" },
		  { 0.1 + 0.2, "0.3" }, { 100.0, "100.0" } };
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_t *v = json_pack("[f]", t[i].v);
		char *s = assessment_dumps(v);
		char want[64];

		snprintf(want, sizeof(want), "[%s]", t[i].want);
		CHECK(s && !strcmp(s, want), "dumps(%.17g) = %s, want %s", t[i].v, S(s), want);
		free(s);
		json_decref(v);
	}
}

/* The memoized dump writes what assessment_dumps writes, and after a part write reuses the
 * dumps of every member the new role shares with the old one. */
static void test_dumps_memo(void)
{
	struct assessment_memo m0 = ASSESSMENT_MEMO_INIT, m1 = ASSESSMENT_MEMO_INIT;
	struct assessment_memo m2 = ASSESSMENT_MEMO_INIT;
	struct scoring_input in;
	json_t *role = load_seed(), *norm = NULL, *v, *part = NULL, *next;
	char *want, *got;
	size_t shared;

	scoring_errors_init(&errs);
	CHECK_INT(assessment_read_role(role, 0, &in, &norm, &errs), 0);
	want = assessment_dumps(norm);
	got = assessment_dumps_memo(norm, NULL, &m0);
	CHECK(want && got && !strcmp(want, got), "first dump differs:\n%s\n%s", want, got);
	CHECK(m0.n >= 10, "memo holds %zu members", m0.n);
	free(want);
	free(got);

	/* One evidence dimension changes: every other member is taken from the memo. */
	v = parse("{\"wage_trends\":{\"score\":-2,\"rationale\":\"a \\\"quoted\\\" line\\n\"}}");
	CHECK_INT(assessment_read_part(SCORING_EVIDENCE, v, "dimensions", asmt(norm), &in, &part,
				       &errs), 0);
	next = json_copy(norm);
	json_object_set(next, "assessment", part);
	want = assessment_dumps(next);
	shared = m0.n;
	got = assessment_dumps_memo(next, &m0, &m1);
	CHECK(want && got && !strcmp(want, got), "dump after a part write differs:\n%s\n%s", want,
	      got);
	CHECK(m0.n == 1, "%zu of %zu members were dumped again, want 1", m0.n, shared);
	CHECK(strstr(got, "\"wage_trends\":{\"score\":-2,") != NULL, "the new score is written");
	free(want);
	free(got);

	/* A memo of another role's members reuses nothing and changes nothing. */
	want = assessment_dumps(role);
	got = assessment_dumps_memo(role, &m1, &m2);
	CHECK(want && got && !strcmp(want, got), "dump of the raw seed differs");
	CHECK_INT(m1.n, shared);
	free(want);
	free(got);

	assessment_memo_release(&m0);
	assessment_memo_release(&m1);
	assessment_memo_release(&m2);
	json_decref(v);
	json_decref(part);
	json_decref(next);
	json_decref(norm);
	json_decref(role);
}

/* The seed with one member of the narrative replaced (v stolen; NULL deletes the member);
 * returns the rc of reading it, errors in errs. */
static int read_seed_with(const char *key, json_t *v, json_t **norm)
{
	struct scoring_input in;
	json_t *role = load_seed();
	int rc;

	if (v)
		json_object_set_new(role, key, v);
	else
		json_object_del(role, key);
	scoring_errors_init(&errs);
	*norm = NULL;
	rc = assessment_read_role(role, ASSESSMENT_REQUIRE_SLUG, &in, norm, &errs);
	json_decref(role);
	return rc;
}

static void test_narrative(void)
{
	static const struct {
		const char *key, *json; /* the member and its value */
		const char *field, *message; /* the error; NULL field: accepted */
	} cases[] = {
		{ "summary", "\"*short*\"", NULL, NULL },
		{ "summary", "null", NULL, NULL },
		{ "summary", "42", "summary", "must be a string" },
		{ "summary", "\"a\\u0001b\"", "summary", "must not contain control characters" },
		{ "seniority_note", "\"line one\\nline two\\ttab\"", NULL, NULL },
		{ "commentary", "null", NULL, NULL },
		{ "commentary", "[]", "commentary", "must be an object" },
		{ "commentary", "{\"mood\":\"x\"}", "commentary.mood", "unknown section" },
		{ "commentary", "{\"outlook\":7}", "commentary.outlook", "must be a string" },
		{ "sources", "[{\"title\":\"t\",\"url\":\"javascript:alert(1)\"}]", "sources[0].url",
		  "must be an absolute http or https URL" },
		{ "sources", "[{\"title\":\"t\",\"url\":\"/relative\"}]", "sources[0].url",
		  "must be an absolute http or https URL" },
		{ "resources", "[{\"title\":\"t\",\"url\":\"ftp://example.org/x\"}]",
		  "resources[0].url", "must be an absolute http or https URL" },
		{ "resources", "[{\"title\":\"t\",\"url\":\"https://example.org/x\"}]", NULL, NULL },
		{ "resources", "{}", "resources", "must be an array" },
		{ "resources", "[{\"title\":\"t\"}]", "resources[0].url", "is required" },
	};
	size_t i;
	json_t *norm = NULL, *role, *c;
	char big[10002];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = read_seed_with(cases[i].key, json_loads(cases[i].json, JSON_DECODE_ANY, NULL),
					&norm);

		if (!cases[i].field) {
			CHECK(rc == 0, "%s = %s refused", cases[i].key, cases[i].json);
			dump_errors();
		} else {
			CHECK(rc == RC_INVALID, "%s = %s accepted", cases[i].key, cases[i].json);
			CHECK_ERR(cases[i].field, cases[i].message);
		}
		json_decref(norm);
	}
	/* 10,000 characters (code points, not bytes) and no more. */
	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\0';
	CHECK_INT(read_seed_with("summary", json_string(big), &norm), 0);
	json_decref(norm);
	big[sizeof(big) - 2] = 'y';
	big[sizeof(big) - 1] = '\0';
	CHECK_INT(read_seed_with("summary", json_string(big), &norm), RC_INVALID);
	CHECK_ERR("summary", "must be at most 10000 characters");
	json_decref(norm);

	/* The seed carries every section; absent members get their defaults, blank is none. */
	CHECK_INT(read_seed_with("summary", json_string("  \n"), &norm), 0);
	CHECK(json_is_null(json_object_get(norm, "summary")), "a blank summary is null");
	c = json_object_get(norm, "commentary");
	CHECK_INT(json_object_size(c), ASSESSMENT_N_COMMENTARY);
	for (i = 0; i < ASSESSMENT_N_COMMENTARY; i++)
		CHECK(json_string_length(json_object_get(c, assessment_commentary_names[i])) > 20,
		      "the seed's %s", assessment_commentary_names[i]);
	json_decref(norm);
	CHECK_INT(read_seed_with("commentary", NULL, &norm), 0);
	c = json_object_get(norm, "commentary");
	CHECK(json_is_null(json_object_get(c, "outlook")), "absent commentary: null sections");
	CHECK_INT(json_object_size(c), ASSESSMENT_N_COMMENTARY);
	json_decref(norm);

	/* A role stored before the narrative: its defaults, and no difference in a diff. */
	role = load_seed();
	CHECK_INT(read_seed_with("commentary", NULL, &norm), 0);
	json_object_del(role, "summary");
	json_object_del(role, "seniority_note");
	json_object_del(role, "commentary");
	json_object_del(role, "sources");
	json_object_del(role, "resources");
	json_object_set_new(norm, "summary", json_null());
	json_object_set_new(norm, "seniority_note", json_null());
	c = assessment_diff(role, norm);
	CHECK_INT(json_array_size(c), 0);
	json_decref(c);
	assessment_role_defaults(role);
	CHECK(json_equal(json_object_get(role, "commentary"), json_object_get(norm, "commentary")),
	      "defaults: an all-null commentary");
	CHECK(json_is_array(json_object_get(role, "resources")), "defaults: resources []");
	json_decref(norm);
	json_decref(role);
}

static void test_narrative_diff(void)
{
	json_t *a = NULL, *b = NULL, *d;
	struct scoring_input in;
	char *text;

	CHECK_INT(read_seed_with("summary", json_string("old"), &a), 0);
	CHECK_INT(read_seed_with("summary", json_string("new"), &b), 0);
	json_object_set_new(json_object_get(b, "commentary"), "outlook", json_string("changed"));
	json_object_set_new(b, "sources",
			    json_pack("[{s:s, s:s}]", "title", "t", "url", "https://example.org"));
	d = assessment_diff(a, b);
	text = assessment_dumps(d);
	CHECK_STR(text, "[\"summary\",\"commentary.outlook\",\"sources\"]");
	free(text);
	json_decref(d);
	/* The narrative never enters the numbers. */
	CHECK_INT(assessment_input(b, &in), 0);
	CHECK_INT(in.growth, 1);
	json_decref(a);
	json_decref(b);
	/* Evidence sources are URLs checked alike. */
	CHECK_INT(read_text("{\"title\":\"x\",\"assessment\":{\"tasks\":[{\"name\":\"a\","
			    "\"time_share\":100,\"score\":3}],\"evidence\":{\"job_posting_trends\":"
			    "{\"score\":0,\"sources\":[{\"title\":\"t\",\"url\":\"data:text/html,x\"}]}}}}",
			    0, &a), RC_INVALID);
	CHECK_ERR("assessment.evidence.job_posting_trends.sources[0].url",
		  "must be an absolute http or https URL");
	json_decref(a);
}

int main(void)
{
	static const struct harness_test tests[] = {
		{ "read_seed", test_read_seed },
		{ "strict_unknown_fields", test_strict_unknown_fields },
		{ "strict_types_and_dimensions", test_strict_types_and_dimensions },
		{ "all_errors_at_once", test_all_errors_at_once },
		{ "shares_and_integral_reals", test_shares_and_integral_reals },
		{ "role_fields", test_role_fields },
		{ "text_limits", test_text_limits },
		{ "bare_assessment_paths", test_bare_assessment_paths },
		{ "normalization_idempotent", test_normalization_idempotent },
		{ "read_part_evidence", test_read_part_evidence },
		{ "read_part_others", test_read_part_others },
		{ "diff", test_diff },
		{ "slugs", test_slugs },
		{ "score_block", test_score_block },
		{ "dumps_numbers", test_dumps_numbers },
		{ "dumps_memo", test_dumps_memo },
		{ "narrative", test_narrative },
		{ "narrative_diff", test_narrative_diff },
		{ NULL, NULL },
	};
	return harness_main("assessment", tests);
}
