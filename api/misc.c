/*
 * misc.c: the endpoints that are not one role's: POST /score, /compare, /export,
 * /methodology, /openapi.json, /healthz and /metrics.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/assessment.h"
#include "util/embed.h"

int api_score(struct api_request *rq, struct api_response *rs)
{
	struct scoring_input in;
	struct scoring_errors errs;
	struct scoring_result res;
	json_t *body = NULL, *norm = NULL, *block;
	const char *slug = NULL, *title = NULL;

	if (api_body_json(rq, rs, &body))
		return API_DONE;
	scoring_errors_init(&errs);
	if (json_object_get(body, "assessment")) {
		if (assessment_read_role(body, ASSESSMENT_OPTIONAL_META, &in, &norm, &errs) == RC_OK) {
			slug = json_string_value(json_object_get(norm, "slug"));
			title = json_string_value(json_object_get(norm, "title"));
		}
	} else {
		assessment_read(body, "", &in, &norm, &errs);
	}
	if (errs.n || !norm) {
		api_problem_errors(rs, &errs);
		goto out;
	}
	if (scoring_eval(&in, &res)) {
		api_problem_rc(rs, RC_INVALID, NULL);
		goto out;
	}
	block = assessment_score_block(&res, slug, title, 0, NULL);
	assessment_score_block_set_reason(block, norm);
	api_json(rs, 200, block);
out:
	json_decref(body);
	json_decref(norm);
	return API_DONE;
}

#define COMPARE_MAX 10

int api_compare(struct api_request *rq, struct api_response *rs)
{
	const char *list = rq->query(rq->ctx, "roles");
	struct scoring_errors errs;
	json_t *out = NULL;
	char *copy = NULL, *p, *save = NULL, *tok;
	int n = 0;

	scoring_errors_init(&errs);
	if (!list || !*list) {
		scoring_errors_add(&errs, "roles", "is required: one to %d slugs separated by commas",
				   COMPARE_MAX);
		api_problem_errors(rs, &errs);
		return API_DONE;
	}
	copy = strdup(list);
	out = json_array();
	for (p = copy; (tok = strtok_r(p, ",", &save)); p = NULL) {
		struct store_role r;
		char *target = NULL;
		const char *slug = tok;
		int rc;

		while (*slug == ' ')
			slug++;
		if (++n > COMPARE_MAX)
			break;
		memset(&r, 0, sizeof(r));
		rc = store_role_get(rq->api->store, slug, &r);
		if (rc == RC_OK && r.archived) {
			store_role_release(&r);
			rc = RC_NOTFOUND;
		}
		if (rc == RC_NOTFOUND && store_alias_resolve(rq->api->store, slug, &target) == RC_OK) {
			rc = store_role_get(rq->api->store, target, &r);
			free(target);
		}
		if (rc) {
			char detail[160];

			snprintf(detail, sizeof(detail), "no role has the slug \"%.100s\"", slug);
			api_problem(rs, rc == RC_NOTFOUND ? 404 : 500,
				    rc == RC_NOTFOUND ? "not-found" : "internal",
				    rc == RC_NOTFOUND ? "Not found" : "Internal error", detail);
			goto out;
		}
		json_array_append_new(out, json_loads(r.score_json, 0, NULL));
		store_role_release(&r);
	}
	if (n < 1 || n > COMPARE_MAX) {
		scoring_errors_add(&errs, "roles", "must name one to %d slugs separated by commas",
				   COMPARE_MAX);
		api_problem_errors(rs, &errs);
		goto out;
	}
	api_json(rs, 200, json_pack("{s:O}", "roles", out));
	api_cacheable(rq, rs);
out:
	json_decref(out);
	free(copy);
	return API_DONE;
}

struct export_ctx {
	struct buf *out;
	int csv;
	int rc;
};

/* A CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
static void csv_field(struct buf *b, const char *s, int last)
{
	const char *p;

	if (!s)
		s = "";
	if (strpbrk(s, ",\"\r\n")) {
		buf_addc(b, '"');
		for (p = s; *p; p++) {
			if (*p == '"')
				buf_addc(b, '"');
			buf_addc(b, *p);
		}
		buf_addc(b, '"');
	} else {
		buf_adds(b, s);
	}
	buf_addc(b, last ? '\n' : ',');
}

static int export_row(void *ctx, const struct store_role *r)
{
	struct export_ctx *c = ctx;
	json_t *role = json_loads(r->role_json, 0, NULL);
	char num[32];

	if (!role) {
		c->rc = RC_IO;
		return 1;
	}
	if (c->csv) {
		csv_field(c->out, r->slug, 0);
		csv_field(c->out, r->title, 0);
		csv_field(c->out, json_string_value(json_object_get(role, "category")), 0);
		csv_field(c->out, json_string_value(json_object_get(role, "seniority")), 0);
		snprintf(num, sizeof(num), "%.1f", r->score);
		csv_field(c->out, num, 0);
		csv_field(c->out, r->zone, 0);
		csv_field(c->out, r->label, 0);
		snprintf(num, sizeof(num), "%d", r->revision);
		csv_field(c->out, num, 0);
		csv_field(c->out, r->updated_at, 1);
	} else {
		char *line;

		json_object_set_new(role, "score", json_loads(r->score_json, 0, NULL));
		json_object_set_new(role, "revision", json_integer(r->revision));
		json_object_set_new(role, "updated_at", json_string(r->updated_at ? r->updated_at : ""));
		line = assessment_dumps(role);
		if (!line || buf_adds(c->out, line) || buf_addc(c->out, '\n'))
			c->rc = RC_TOOLARGE;
		free(line);
	}
	json_decref(role);
	return c->rc ? 1 : 0;
}

int api_export(struct api_request *rq, struct api_response *rs)
{
	const char *format = rq->query(rq->ctx, "format");
	struct export_ctx c;
	int rc;

	c.out = &rs->body;
	c.rc = 0;
	c.csv = format && !strcmp(format, "csv");
	if (format && !c.csv && strcmp(format, "ndjson")) {
		struct scoring_errors errs;

		scoring_errors_init(&errs);
		scoring_errors_add(&errs, "format", "must be ndjson or csv");
		api_problem_errors(rs, &errs);
		return API_DONE;
	}
	buf_reset(&rs->body);
	if (c.csv)
		buf_adds(&rs->body, "slug,title,category,seniority,score,zone,label,revision,updated_at\n");
	rc = store_roles_each(rq->api->store, export_row, &c);
	if (rc || c.rc) {
		buf_reset(&rs->body);
		api_problem_rc(rs, rc ? rc : c.rc, NULL);
		return API_DONE;
	}
	rs->status = 200;
	rs->content_type = c.csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
	api_header(rs, "Content-Disposition",
		   c.csv ? "inline; filename=\"aijri-roles.csv\"" : "inline; filename=\"aijri-roles.ndjson\"");
	api_cacheable(rq, rs);
	return API_DONE;
}

int api_methodology(struct api_request *rq, struct api_response *rs)
{
	json_t *v = json_pack(
		"{s:s, s:{s:f, s:f, s:f, s:f, s:f, s:f, s:f}, s:[s,s,s,s,s,s,s,s],"
		" s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}],"
		" s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}],"
		" s:{s:[s,s,s,s,s], s:[s,s,s,s,s], s:[s,s,s], s:s, s:s},"
		" s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}], s:s}",
		"method_version", SCORING_METHOD_VERSION,
		"constants", "task_resistance_base", SCORING_TR_BASE, "evidence_step", SCORING_EVIDENCE_STEP,
		"barrier_step", SCORING_BARRIER_STEP, "growth_step", SCORING_GROWTH_STEP, "raw_floor",
		SCORING_RAW_FLOOR, "raw_span", SCORING_RAW_SPAN, "share_tolerance", SCORING_SHARE_TOLERANCE,
		"formula",
		"W = sum over tasks of (time_share / 100) x score",
		"TR = 6.00 - W",
		"EM = 1 + 0.04 x E (E = sum of the five evidence scores, -10..+10)",
		"BM = 1 + 0.02 x B (B = sum of the five barrier scores, 0..10)",
		"GM = 1 + 0.05 x G (G = AI growth correlation, -2..+2)",
		"Raw = TR x EM x BM x GM",
		"AIJRI = (Raw - 0.54) / 7.93 x 100, clamped to [0, 100]",
		"published score = AIJRI rounded to one decimal, half away from zero (after adding 1e-9)",
		"zones",
		"zone", "green", "rule", "score >= 48.0",
		"zone", "yellow", "rule", "25.0 <= score < 48.0",
		"zone", "red", "rule", "score < 25.0",
		"labels",
		"label", "Green (Accelerated)", "rule", "green and G = +2",
		"label", "Green (Transforming)", "rule", "green, G != +2 and S3 >= 20",
		"label", "Green (Stable)", "rule", "green, G != +2 and S3 < 20",
		"label", "Yellow (Urgent)", "rule", "yellow and S3 >= 50",
		"label", "Yellow (Moderate)", "rule", "yellow and S3 < 50",
		"label", "Red (Imminent)", "rule", "red and S3 >= 70",
		"label", "Red (Declining)", "rule", "red and S3 < 70",
		"inputs",
		"evidence", scoring_evidence_names[0], scoring_evidence_names[1], scoring_evidence_names[2],
		scoring_evidence_names[3], scoring_evidence_names[4],
		"barriers", scoring_barrier_names[0], scoring_barrier_names[1], scoring_barrier_names[2],
		scoring_barrier_names[3], scoring_barrier_names[4],
		"protective", scoring_protective_names[0], scoring_protective_names[1],
		scoring_protective_names[2],
		"tasks", "1 to 50 tasks: name, time_share (percent, > 0, adding up to 100 within 0.01), score 1..5 (5 = fully automatable), rationale",
		"override", "optional: score 0..100 and a reason; replaces the published score, zone and label",
		"barrier_strength",
		"strength", "Weak", "rule", "B 0-3",
		"strength", "Moderate", "rule", "B 4-6",
		"strength", "Strong", "rule", "B 7-10",
		"s3", "S3 = sum of the time shares of tasks scoring 3 or more");

	api_json(rs, v ? 200 : 500, v);
	api_cacheable(rq, rs);
	return API_DONE;
}

int api_openapi(struct api_request *rq, struct api_response *rs)
{
	const struct embed_file *f = embed_find("api/openapi.json");

	if (!f) {
		api_problem_rc(rs, RC_NOTFOUND, "no OpenAPI document was built in");
		return API_DONE;
	}
	rs->status = 200;
	rs->content_type = "application/json";
	buf_add(&rs->body, f->data, f->size);
	api_cacheable(rq, rs);
	return API_DONE;
}

int api_healthz(struct api_request *rq, struct api_response *rs)
{
	api_json(rs, 200, json_pack("{s:s, s:i}", "status", "ok", "schema_version",
				    store_schema_version(rq->api->store)));
	api_header(rs, "Cache-Control", "no-store");
	return API_DONE;
}

int api_metrics(struct api_request *rq, struct api_response *rs)
{
	api_metrics_text(rq->api, &rs->body);
	rs->status = 200;
	rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
	api_header(rs, "Cache-Control", "no-store");
	return API_DONE;
}
