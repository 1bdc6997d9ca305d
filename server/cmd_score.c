/*
 * cmd_score.c: `aijri score FILE|-|--default`, the score block of an assessment without a
 * server or a database. It reads the same bodies as POST /score (a role body with optional
 * descriptive fields, or a bare assessment) through the same strict reader, so what it
 * accepts and rejects is what the API accepts and rejects. It never touches the database.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "body/assessment.h"
#include "scoring/scoring.h"
#include "server/commands.h"
#include "util/buf.h"
#include "util/embed.h"
#include "util/rc.h"

#define CMD_SCORE_DEFAULT "data/edge-ai-engineer.json"

static void cmd_score_usage(FILE *f)
{
	fprintf(f,
		"usage: aijri score FILE|-\n"
		"       aijri score --default\n\n"
		"Prints the score block of an assessment JSON: a role body (an object with an\n"
		"\"assessment\" member; the other role fields are optional) or a bare assessment\n"
		"({\"tasks\":...,\"evidence\":...}). '-' reads standard input; --default scores the\n"
		"embedded default role (%s).\n\n"
		"Exit status: 0 scored, 2 bad usage or an input that is malformed or invalid\n"
		"(every broken field is listed on standard error as \"field: message\").\n",
		CMD_SCORE_DEFAULT);
}

/* Input larger than this is not an assessment (the API takes 1 MiB). */
#define CMD_SCORE_MAX_INPUT (64u << 20)

/* Reads and parses the input; prints why on failure. Returns a new reference or NULL. */
static json_t *cmd_score_load(const char *arg)
{
	const struct embed_file *ef;
	struct buf in = BUF_INIT(CMD_SCORE_MAX_INPUT);
	json_error_t jerr;
	json_t *v = NULL;
	FILE *f = NULL;
	const char *name = arg;
	char chunk[65536];
	size_t n;

	if (!strcmp(arg, "--default")) {
		name = CMD_SCORE_DEFAULT;
		ef = embed_find(CMD_SCORE_DEFAULT);
		if (!ef) {
			fprintf(stderr, "aijri score: %s is not embedded in this binary\n", name);
			goto out;
		}
		v = assessment_loadb(ef->data, ef->size, &jerr);
	} else {
		if (!strcmp(arg, "-")) {
			name = "<stdin>";
			f = stdin;
		} else if (!(f = fopen(arg, "rb"))) {
			fprintf(stderr, "aijri score: cannot open %s: %s\n", arg, strerror(errno));
			goto out;
		}
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
			if (buf_add(&in, chunk, n)) {
				fprintf(stderr, "aijri score: %s: larger than %u bytes\n", name,
					CMD_SCORE_MAX_INPUT);
				goto out;
			}
		}
		if (ferror(f)) {
			fprintf(stderr, "aijri score: cannot read %s: %s\n", name, strerror(errno));
			goto out;
		}
		/* Parsed as POST /score parses its body. */
		v = assessment_loadb(buf_str(&in), in.len, &jerr);
	}
	if (!v)
		fprintf(stderr, "aijri score: %s: malformed JSON at line %d, column %d: %s\n", name,
			jerr.line, jerr.column, assessment_json_error(&jerr));
out:
	if (f && f != stdin)
		fclose(f);
	buf_release(&in);
	return v;
}

int cmd_score(int argc, char **argv)
{
	struct scoring_errors *errs = NULL;
	json_t *body = NULL, *block = NULL;
	char *text = NULL;
	int ret = 2, rc, i;

	if (argc != 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
		int help = argc == 1;

		cmd_score_usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	/* A scoring_errors is large (about 20 KiB): kept off the stack. */
	errs = calloc(1, sizeof(*errs));
	if (!errs) {
		fprintf(stderr, "aijri score: out of memory\n");
		ret = 1;
		goto out;
	}
	scoring_errors_init(errs);

	body = cmd_score_load(argv[0]);
	if (!body)
		goto out;

	/* The pipeline of POST /score: what one accepts, the other does. */
	rc = assessment_score_body(body, &block, errs);
	if (rc == RC_INVALID && errs->n) {
		for (i = 0; i < errs->n; i++)
			fprintf(stderr, "%s: %s\n", errs->e[i].field, errs->e[i].message);
		if (errs->dropped)
			fprintf(stderr, "(and %d more errors)\n", errs->dropped);
		goto out;
	}
	if (rc) {
		fprintf(stderr, "aijri score: the assessment could not be scored\n");
		goto out;
	}
	text = json_dumps(block, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
	if (!text) {
		fprintf(stderr, "aijri score: out of memory\n");
		ret = 1;
		goto out;
	}
	if (puts(text) == EOF || fflush(stdout)) {
		fprintf(stderr, "aijri score: cannot write the result: %s\n", strerror(errno));
		ret = 1;
		goto out;
	}
	ret = 0;
out:
	free(text);
	json_decref(block);
	json_decref(body);
	free(errs);
	return ret;
}
