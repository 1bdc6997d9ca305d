/*
 * fuzz_assessment.c: libFuzzer target for the strict JSON readers of body/ (assessment.h), the
 * parsers every write body goes through (POST /roles, PUT /roles/{slug}, POST /score, the part
 * updates). Built by tests/fuzz/build.sh; run by tests/fuzz/run.sh.
 *
 * Each input is parsed with json_loadb (as the API does, duplicates rejected) and handed to:
 *   - assessment_read_role with each flag combination,
 *   - assessment_read (bare, and at "assessment"),
 *   - assessment_read_part for every part, against the default role's normalized assessment
 *     (the input itself, and the input's member named after the part when there is one),
 * and whatever reads cleanly is pushed further through the code that follows a read in the
 * server: scoring_eval, the score block, assessment_diff and assessment_dumps. A crash, a
 * sanitizer report or a broken invariant (abort()) is a finding.
 *
 * It must never depend on anything but the input: no files, no clock, no global state that
 * one input can leave for the next.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "body/assessment.h"
#include "scoring/scoring.h"
#include "util/embed.h"
#include "util/rc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The default role, normalized once: the "current" assessment the part readers update. */
static json_t *seed_role;
static json_t *seed_assessment;
static struct scoring_input seed_in;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct embed_file *f = embed_find("data/edge-ai-engineer.json");
	struct scoring_errors errs;
	json_error_t jerr;
	json_t *v;

	(void)argc;
	(void)argv;
	if (!f) {
		fprintf(stderr, "fuzz_assessment: no embedded data/edge-ai-engineer.json\n");
		abort();
	}
	v = json_loadb(f->data, f->size, JSON_REJECT_DUPLICATES, &jerr);
	scoring_errors_init(&errs);
	if (!v || assessment_read_role(v, ASSESSMENT_REQUIRE_SLUG, &seed_in, &seed_role, &errs)) {
		fprintf(stderr, "fuzz_assessment: the default role does not read\n");
		abort();
	}
	json_decref(v);
	seed_assessment = json_object_get(seed_role, "assessment");
	if (!json_is_object(seed_assessment) || assessment_input(seed_assessment, &seed_in)) {
		fprintf(stderr, "fuzz_assessment: the default role has no normalized assessment\n");
		abort();
	}
	return 0;
}

/* What follows a successful read in the server. Checks the invariants the API relies on. */
static void after_read(const struct scoring_input *in, json_t *norm, json_t *old)
{
	struct scoring_result r;
	struct scoring_input again;
	json_t *block, *diff;
	char *text;

	if (scoring_eval(in, &r))
		abort(); /* a read that passed validation must evaluate */
	if (!(r.published.score >= 0.0 && r.published.score <= 100.0))
		abort();
	block = assessment_score_block(&r, "fuzz", NULL, 0, NULL);
	if (!block)
		abort();
	assessment_score_block_set_reason(block, norm);
	text = assessment_dumps(block);
	free(text);
	json_decref(block);

	/* The normalized form must read back to the same numbers. */
	{
		json_t *a = json_object_get(norm, "assessment");
		if (!a)
			a = norm;
		if (assessment_input(a, &again))
			abort();
	}
	diff = assessment_diff(old, norm);
	if (!json_is_array(diff))
		abort();
	json_decref(diff);
	text = assessment_dumps(norm);
	free(text);
}

static const struct {
	enum scoring_part part;
	const char *name;
} parts[] = {
	{ SCORING_TASKS, "tasks" },
	{ SCORING_EVIDENCE, "dimensions" },
	{ SCORING_BARRIERS, "barriers" },
	{ SCORING_PROTECTIVE, "protective" },
	{ SCORING_GROWTH, "growth" },
	{ SCORING_OVERRIDE, "override" },
	{ SCORING_ALL, "all" }, /* not a part: must be refused cleanly */
};

static void read_part(enum scoring_part part, json_t *v, const char *path)
{
	struct scoring_input in = seed_in;
	struct scoring_errors errs;
	json_t *norm = NULL;
	int rc;

	scoring_errors_init(&errs);
	rc = assessment_read_part(part, v, path, seed_assessment, &in, &norm, &errs);
	if (rc == 0) {
		if (!norm || part == SCORING_ALL)
			abort();
		after_read(&in, norm, seed_assessment);
	} else if (norm || (rc == RC_INVALID && errs.n == 0)) {
		abort(); /* a refusal must leave nothing behind and say why */
	}
	json_decref(norm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int flag_sets[] = { 0, ASSESSMENT_REQUIRE_SLUG, ASSESSMENT_OPTIONAL_META,
					 ASSESSMENT_REQUIRE_SLUG | ASSESSMENT_OPTIONAL_META };
	struct scoring_input in;
	struct scoring_errors errs;
	json_error_t jerr;
	json_t *v, *norm;
	size_t i;
	int rc;

	v = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!v)
		return 0;

	for (i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
		norm = NULL;
		scoring_errors_init(&errs);
		rc = assessment_read_role(v, flag_sets[i], &in, &norm, &errs);
		if (rc == 0) {
			if (!norm)
				abort();
			after_read(&in, norm, seed_role);
		} else if (norm) {
			abort();
		}
		json_decref(norm);
	}

	norm = NULL;
	scoring_errors_init(&errs);
	if (assessment_read(v, "", &in, &norm, &errs) == 0)
		after_read(&in, norm, seed_assessment);
	json_decref(norm);

	norm = NULL;
	scoring_errors_init(&errs);
	if (assessment_read(v, "assessment", &in, &norm, &errs) == 0)
		after_read(&in, norm, seed_assessment);
	json_decref(norm);

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		json_t *sub;

		read_part(parts[i].part, v, parts[i].name);
		sub = json_is_object(v) ? json_object_get(v, parts[i].name) : NULL;
		if (sub)
			read_part(parts[i].part, sub, parts[i].name);
	}

	/* Slug helpers see the same untrusted text (path parameters, aliases). */
	if (json_is_string(v)) {
		char out[128];
		(void)assessment_slug_ok(json_string_value(v));
		(void)assessment_slugify(json_string_value(v), out, sizeof(out));
	}
	json_decref(v);
	return 0;
}
