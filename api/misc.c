/*
 * misc.c: the endpoints that are not one role's: POST /score, /compare, /methodology,
 * /openapi.json and /healthz (/export is export.c; /metrics is the router's own, api.c).
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/handlers.h"
#include "api/reply.h"
#include "body/assessment.h"
#include "util/embed.h"

int api_score(struct api_request *rq, struct api_response *rs)
{
	struct scoring_errors errs;
	json_t *body = NULL, *block = NULL;
	enum rc rc;

	if (api_body_json(rq, rs, &body))
		return API_DONE;
	scoring_errors_init(&errs);
	rc = assessment_score_body(body, &block, &errs);
	if (rc == RC_INVALID && errs.n)
		api_problem_errors(rs, &errs);
	else if (rc)
		api_problem_rc(rs, RC_INVALID, NULL);
	else
		api_json(rs, 200, block);
	json_decref(body);
	return API_DONE;
}

#define COMPARE_MAX 10

/* One role of a compare list, by slug or alias: 0 with its score block appended to out, or
 * non-zero with rs filled. */
static int compare_one(struct api_request *rq, struct api_response *rs, const char *slug,
		       json_t *out)
{
	struct store_role r;
	char *target = NULL;
	int rc;

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
		api_problem(rs, rc == RC_NOTFOUND ? 404 : 500, rc == RC_NOTFOUND ? "not-found" : "internal",
			    rc == RC_NOTFOUND ? "Not found" : "Internal error", detail);
		return rc;
	}
	json_array_append_new(out, json_loads(r.score_json, 0, NULL));
	store_role_release(&r);
	return RC_OK;
}

/* The next element of a comma list at *p, spaces around it dropped, into out (cut to fit);
 * *p moves past it. Returns its length, or -1 once the list is used up. */
static int list_next(const char **p, char *out, size_t outlen)
{
	const char *s = *p, *end;
	size_t len;

	if (!s)
		return -1;
	end = strchr(s, ',');
	*p = end ? end + 1 : NULL;
	if (!end)
		end = s + strlen(s);
	while (s < end && *s == ' ')
		s++;
	len = (size_t)(end - s);
	while (len && s[len - 1] == ' ')
		len--;
	snprintf(out, outlen, "%.*s", (int)(len < outlen ? len : outlen - 1), s);
	return (int)len;
}

int api_compare(struct api_request *rq, struct api_response *rs)
{
	const char *list = rq->query(rq->ctx, "roles"), *p;
	struct scoring_errors errs;
	json_t *out = NULL;
	char slug[128];
	int n = 0, len;

	scoring_errors_init(&errs);
	if (!list || !*list) {
		scoring_errors_add(&errs, "roles", "is required: one to %d slugs separated by commas",
				   COMPARE_MAX);
		api_problem_errors(rs, &errs);
		return API_DONE;
	}
	/* The whole list is checked before any role is looked up: "a,,b" and "a," hold an empty
	 * slug, which makes the list malformed (422), not a role that does not exist (404). */
	for (p = list; (len = list_next(&p, slug, sizeof(slug))) >= 0;) {
		n++;
		if (!len) {
			scoring_errors_add(&errs, "roles", "slug %d of the list is empty; separate one "
					   "to %d slugs by single commas", n, COMPARE_MAX);
			break;
		}
	}
	if (!errs.n && n > COMPARE_MAX)
		scoring_errors_add(&errs, "roles", "must name one to %d slugs separated by commas",
				   COMPARE_MAX);
	if (errs.n) {
		api_problem_errors(rs, &errs);
		return API_DONE;
	}
	out = json_array();
	for (p = list; list_next(&p, slug, sizeof(slug)) >= 0;)
		if (compare_one(rq, rs, slug, out))
			goto out;
	api_json(rs, 200, json_pack("{s:O}", "roles", out));
	api_cacheable(rq, rs);
out:
	json_decref(out);
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
	if (buf_add(&rs->body, f->data, f->size)) {
		api_problem_rc(rs, RC_NOMEM, NULL);
		return API_DONE;
	}
	api_cacheable(rq, rs);
	return API_DONE;
}

int api_healthz(struct api_request *rq, struct api_response *rs)
{
	api_json(rs, 200, json_pack("{s:s, s:i, s:I}", "status", "ok", "schema_version",
				    store_schema_version(rq->api->store), "changes_seen",
				    (json_int_t)store_changes_seen(rq->api->store)));
	api_header(rs, "Cache-Control", "no-store");
	return API_DONE;
}
