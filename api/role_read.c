/*
 * role_read.c: loading a role for the handlers that read one (role_read.h): the role the path
 * names, resolved through aliases; its body read as the current version of the body; the
 * query of a list; a list item and a revision summary. A leaf under the handlers: it calls no
 * handler and no router.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "api/reply.h"
#include "api/request.h"
#include "api/role_read.h"
#include "body/assessment.h"
#include "body/codes.h"
#include "body/recency.h"

const char *api_role_slug(struct api_request *rq)
{
	return rq->params[0] ? rq->params[0] : "";
}

/*
 * Loads the live role named by the path. An alias answers 308 to the role's own path (the
 * rest of the path and the query kept); an archived or unknown one answers 404. Returns 0
 * with *r filled, or non-zero with rs filled.
 */
int api_role_load(struct api_request *rq, struct api_response *rs, struct store_role *r)
{
	const char *slug = api_role_slug(rq);
	char *target = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = store_role_get(rq->api->store, slug, r);
	if (rc == RC_OK && !r->archived)
		return RC_OK;
	if (rc == RC_OK)
		store_role_release(r);
	if (rc == RC_OK || rc == RC_NOTFOUND) {
		struct store_role t;

		/* An alias answers only while its role is live. */
		if (store_alias_resolve(rq->api->store, slug, &target) == RC_OK &&
		    store_role_get(rq->api->store, target, &t) == RC_OK) {
			/* Room for the path and a query re-encoded (three times the request's pool). */
			struct buf loc = BUF_INIT(64 * 1024);
			int live = !t.archived;

			store_role_release(&t);
			if (!live) {
				free(target);
				api_problem(rs, 404, "not-found", "Not found", "no role has this slug");
				return RC_NOTFOUND;
			}
			/* The parameter was decoded; the rest of the raw path follows its segment. */
			const char *rest = strchr(rq->path + strlen("/roles/"), '/');
			buf_putf(&loc, "/roles/%s%s%s", target, rest ? rest : "",
				 rq->query_string ? rq->query_string : "");
			if (buf_err(&loc)) {
				/* Never a Location cut short: it would send the client elsewhere. */
				buf_release(&loc);
				free(target);
				api_problem_rc(rs, RC_NOMEM, NULL);
				return RC_NOMEM;
			}
			api_problem(rs, 308, "moved", "Permanent redirect",
				    "this slug is an alias; the role is at the Location");
			api_header(rs, "Location", buf_str(&loc));
			buf_release(&loc);
			free(target);
			return RC_NOTFOUND;
		}
		free(target);
		api_problem(rs, 404, "not-found", "Not found", "no role has this slug");
		return RC_NOTFOUND;
	}
	api_problem_rc(rs, rc, NULL);
	return rc;
}

/* Aliases and unknown slugs as api_role_load. */
int api_role_load_history(struct api_request *rq, struct api_response *rs, struct store_role *r)
{
	memset(r, 0, sizeof(*r));
	if (store_role_get(rq->api->store, api_role_slug(rq), r) == RC_OK)
		return RC_OK;
	store_role_release(r);
	return api_role_load(rq, rs, r);
}

static json_t *loads(const char *text)
{
	return text ? json_loads(text, 0, NULL) : NULL;
}

json_t *api_role_loads(const struct store_role *r)
{
	return assessment_role_loads(r->role_json, r->evidence_as_of);
}

unsigned api_role_recency(struct api *a, const struct store_role *r, json_t **view)
{
	json_t *map = loads(r->evidence_as_of);
	unsigned mask = 0;

	*view = recency_view(map, api_stale_cutoff(a), &mask);
	json_decref(map);
	return mask;
}

void api_evidence_stale(json_t *evidence, json_t *recency)
{
	const char *name;
	json_t *dim;

	json_object_foreach(evidence, name, dim) {
		json_t *flag = json_object_get(json_object_get(recency, name), "stale");

		if (json_is_object(dim))
			json_object_set_new(dim, "stale", json_boolean(json_is_true(flag)));
	}
}

/* The representation of GET /roles/{slug}: the role body, its score block, revision, times.
 * r gives the body (NULL: role_json, as written). */
json_t *api_role_repr(const struct store_role *r, const char *role_json, const char *score_json,
		      int revision, const char *created_at, const char *updated_at)
{
	json_t *v = r ? api_role_loads(r) : loads(role_json), *score = loads(score_json);

	if (!v) {
		json_decref(score);
		return NULL;
	}
	assessment_role_defaults(v);
	json_object_set_new(v, "score", score ? score : json_null());
	json_object_set_new(v, "revision", json_integer(revision));
	json_object_set_new(v, "created_at", json_string(created_at ? created_at : ""));
	json_object_set_new(v, "updated_at", json_string(updated_at ? updated_at : ""));
	return v;
}

json_t *api_role_item(const struct store_role *r, const char *stale_before)
{
	int stale = r->oldest_as_of && strcmp(r->oldest_as_of, stale_before) < 0;

	return json_pack("{s:s, s:s, s:s?, s:s?, s:f, s:s, s:s?, s:i, s:s?, s:{s:o, s:o}, s:b}",
			 "slug", r->slug, "title", r->title, "category", r->category, "seniority",
			 r->seniority, "score", r->score, "zone", r->zone, "label", r->label,
			 "revision", r->revision, "updated_at", r->updated_at, "codes", "soc",
			 codes_split(r->soc_codes), "isco", codes_split(r->isco_codes), "stale",
			 stale);
}

static int parse_score_arg(struct api_request *rq, const char *name, int *has, double *out,
			   struct scoring_errors *errs)
{
	const char *v = rq->query(rq->ctx, name);
	char *end;

	*has = 0;
	if (!v)
		return 0;
	*out = strtod(v, &end);
	if (end == v || *end || !isfinite(*out) || *out < 0 || *out > 100) {
		scoring_errors_add(errs, name, "must be a number from 0 to 100");
		return RC_INVALID;
	}
	*has = 1;
	return 0;
}

/* A code prefix parameter (soc, isco): NULL when absent; an error when not a code's start. */
static const char *parse_code_arg(struct api_request *rq, const char *name,
				  int (*ok)(const char *), const char *form,
				  struct scoring_errors *errs)
{
	const char *v = rq->query(rq->ctx, name);

	if (v && !ok(v)) {
		scoring_errors_add(errs, name, "must be a code or the start of one (%s)", form);
		return NULL;
	}
	return v;
}

void api_role_filters(struct api_request *rq, struct store_role_query *q,
		      char stale_before[CLOCK_DAY_LEN], struct scoring_errors *errs)
{
	const char *stale = rq->query(rq->ctx, "stale");

	q->q = rq->query(rq->ctx, "q");
	if (q->q && !*q->q)
		q->q = NULL;
	if (q->q && strlen(q->q) > 200)
		scoring_errors_add(errs, "q", "must be at most 200 characters");
	q->zone = rq->query(rq->ctx, "zone");
	if (q->zone) {
		/* Any case, so "Green" as the labels spell it works too. */
		static const char *const zones[] = { "green", "yellow", "red" };
		const char *z = q->zone;
		size_t i;

		q->zone = NULL;
		for (i = 0; i < 3; i++)
			if (!strcasecmp(z, zones[i]))
				q->zone = zones[i];
		if (!q->zone)
			scoring_errors_add(errs, "zone", "must be green, yellow or red");
	}
	parse_score_arg(rq, "min_score", &q->has_min, &q->min_score, errs);
	parse_score_arg(rq, "max_score", &q->has_max, &q->max_score, errs);
	q->soc = parse_code_arg(rq, "soc", codes_soc_prefix_ok, "NN-NNNN.NN", errs);
	q->isco = parse_code_arg(rq, "isco", codes_isco_prefix_ok, "1 to 4 digits", errs);
	clock_day_iso(api_stale_cutoff(rq->api), stale_before);
	q->stale_before = stale_before;
	q->stale = -1;
	if (stale && !strcmp(stale, "true"))
		q->stale = 1;
	else if (stale && !strcmp(stale, "false"))
		q->stale = 0;
	else if (stale)
		scoring_errors_add(errs, "stale", "must be true or false");
}

int api_roles_query(struct api_request *rq, struct api_response *rs, struct store_role_query *qp,
		    char stale_before[CLOCK_DAY_LEN])
{
	struct store_role_query q;
	struct scoring_errors errs;
	const char *sort = rq->query(rq->ctx, "sort");
	int rc;

	memset(&q, 0, sizeof(q));
	rc = api_page(rq, rs, &q.limit, &q.offset);
	if (rc)
		return rc;
	scoring_errors_init(&errs);
	api_role_filters(rq, &q, stale_before, &errs);
	if (!sort || !strcmp(sort, "title"))
		q.sort = STORE_SORT_TITLE;
	else if (!strcmp(sort, "score"))
		q.sort = STORE_SORT_SCORE;
	else if (!strcmp(sort, "-score"))
		q.sort = STORE_SORT_SCORE_DESC;
	else
		scoring_errors_add(&errs, "sort", "must be score, -score or title");
	if (errs.n) {
		api_problem_errors(rs, &errs);
		return RC_INVALID;
	}
	*qp = q;
	return RC_OK;
}

json_t *api_revision_summary(const struct store_revision *r)
{
	json_t *changed = loads(r->changed_json);

	return json_pack("{s:i, s:f, s:s, s:s?, s:s?, s:o, s:s?, s:s?}", "revision", r->revision,
			 "score", r->score, "zone", r->zone, "label", r->label, "reason", r->reason,
			 "changed", changed ? changed : json_array(), "created_at", r->created_at,
			 "actor", r->actor);
}
