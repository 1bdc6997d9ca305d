/*
 * roles.c: the reads of /roles and of everything under a role: the list, a role, its score
 * block, one part of its assessment, its revisions. They come from the store's current rows
 * (role_read.c loads them); a browser asking for a role's URL gets its page (views.c). The
 * writes are role_writes.c's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/handlers.h"
#include "api/reply.h"
#include "api/role_read.h"
#include "body/assessment.h"
#include "util/clock.h"

static json_t *loads(const char *text)
{
	return text ? json_loads(text, 0, NULL) : NULL;
}

/* A revision number as a path segment: 1, 2, ... in plain decimal digits, no sign, no
 * leading zero, so that one revision has one URL (and one cache entry). 0 if not one. */
static long revision_number(const char *s)
{
	long n = 0;
	const char *p;

	if (!s || *s < '1' || *s > '9')
		return 0;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9' || n > 100000000)
			return 0;
		n = n * 10 + (*p - '0');
	}
	return n;
}

int api_roles_get(struct api_request *rq, struct api_response *rs)
{
	struct store_role r;
	json_t *v, *recency;
	unsigned stale;

	/* The URL is JSON or the role's page, by Accept: the router says so on every answer of
	 * it (Vary: Accept), errors and other methods too. */
	if (api_role_load(rq, rs, &r))
		return API_DONE;
	if (api_accept(rq->header(rq->ctx, "Accept")) == API_REPR_HTML) {
		api_view_role(rq, rs, &r);
		api_cacheable(rq, rs);
		store_role_release(&r);
		return API_DONE;
	}
	/* The stale flags are the day's: the tag changes with them, the cache keeps the day. */
	stale = api_role_recency(rq->api, &r, &recency);
	if (!api_etag_stale(rq, rs, r.revision, stale)) {
		v = api_role_repr(&r, NULL, r.score_json, r.revision, r.created_at, r.updated_at);
		if (v) {
			json_object_set(v, "recency", recency);
			json_object_set_new(v, "stale", json_boolean(stale));
		}
		api_json(rs, v ? 200 : 500, v);
	}
	json_decref(recency);
	api_cacheable(rq, rs);
	api_cache_for_today(rs);
	store_role_release(&r);
	return API_DONE;
}

int api_roles_score(struct api_request *rq, struct api_response *rs)
{
	struct store_role r;

	if (api_role_load(rq, rs, &r))
		return API_DONE;
	if (!api_etag(rq, rs, r.revision)) {
		rs->status = 200;
		rs->content_type = "application/json";
		buf_puts(&rs->body, r.score_json);
		buf_putc(&rs->body, '\n');
		if (buf_err(&rs->body)) {
			buf_reset(&rs->body);
			api_problem_rc(rs, RC_NOMEM, NULL);
		}
	}
	api_cacheable(rq, rs);
	store_role_release(&r);
	return API_DONE;
}

static double round4(double x)
{
	return round(x * 10000.0) / 10000.0;
}

/* GET /roles/{slug}/tasks|evidence|barriers|protective|growth|override|commentary */
int api_roles_part_get(struct api_request *rq, struct api_response *rs)
{
	const char *part = rq->part;
	struct store_role r;
	json_t *role = NULL, *score = NULL, *recency = NULL, *a, *v;
	unsigned stale = 0;
	size_t i;

	if (api_role_load(rq, rs, &r))
		return API_DONE;
	/* The evidence shows the day's stale flags: the tag and the cache follow them. */
	if (!strcmp(part, "evidence")) {
		stale = api_role_recency(rq->api, &r, &recency);
		api_cache_for_today(rs);
	}
	if (api_etag_stale(rq, rs, r.revision, stale))
		goto out;
	role = api_role_loads(&r);
	score = loads(r.score_json);
	a = json_object_get(role, "assessment");
	if (!a || !score) {
		api_problem_rc(rs, RC_IO, "stored role unreadable");
		goto out;
	}
	v = json_pack("{s:s, s:i}", "role", r.slug, "revision", r.revision);
	if (!strcmp(part, "tasks")) {
		json_t *tasks = json_deep_copy(json_object_get(a, "tasks")), *t;

		json_array_foreach(tasks, i, t) {
			double share = json_number_value(json_object_get(t, "time_share"));
			json_int_t s = json_integer_value(json_object_get(t, "score"));
			enum scoring_impact impact = scoring_task_impact((int)s);

			json_object_set_new(t, "impact", json_string(scoring_impact_name(impact)));
			json_object_set_new(t, "weighted", json_real(round4(share / 100.0 * (double)s)));
		}
		json_object_set_new(v, "tasks", tasks);
		json_object_set(v, "weighted_task_score", json_object_get(score, "weighted_task_score"));
		json_object_set(v, "task_resistance", json_object_get(score, "task_resistance"));
	} else if (!strcmp(part, "growth")) {
		json_t *g = json_object_get(score, "growth");

		json_object_set(v, "growth", json_object_get(a, "growth"));
		json_object_set(v, "modifier", json_object_get(g, "modifier"));
		json_object_set(v, "wording", json_object_get(g, "wording"));
	} else if (!strcmp(part, "override")) {
		json_object_set(v, "override", json_object_get(a, "override"));
	} else if (!strcmp(part, "commentary")) {
		/* The narrative is the role's, not the assessment's. */
		assessment_role_defaults(role);
		json_object_set(v, "commentary", json_object_get(role, "commentary"));
	} else {
		/* evidence, barriers, protective: the dimensions and the block's summary. */
		json_t *sum = json_object_get(score, part);
		const char *k;
		json_t *x;

		json_object_set(v, part, json_object_get(a, part));
		json_object_foreach(sum, k, x)
			json_object_set(v, k, x);
		if (recency) {
			api_evidence_stale(json_object_get(a, part), recency);
			json_object_set(v, "recency", recency);
			json_object_set_new(v, "stale", json_boolean(stale));
		}
	}
	api_json(rs, 200, v);
out:
	api_cacheable(rq, rs);
	json_decref(recency);
	json_decref(role);
	json_decref(score);
	store_role_release(&r);
	return API_DONE;
}

/* ---------------------------------------------------------------------------------------
 * Lists
 */

struct list_ctx {
	json_t *items;
	const char *stale_before; /* "YYYY-MM-DD": an older oldest as_of is stale */
};


static int list_row(void *ctx, const struct store_role *r)
{
	struct list_ctx *c = ctx;
	json_t *item = api_role_item(r, c->stale_before);

	if (item)
		json_array_append_new(c->items, item);
	return 0;
}


int api_roles_list(struct api_request *rq, struct api_response *rs)
{
	struct store_role_query q;
	struct list_ctx c = { NULL, NULL };
	char stale_before[CLOCK_DAY_LEN];
	int total = 0, rc;

	if (api_roles_query(rq, rs, &q, stale_before))
		return API_DONE;
	c.items = json_array();
	c.stale_before = stale_before;
	rc = store_roles_list(rq->api->store, &q, list_row, &c, &total);
	if (rc) {
		json_decref(c.items);
		api_problem_rc(rs, rc, NULL);
		return API_DONE;
	}
	api_json(rs, 200, api_list(rq, rs, c.items, total, q.limit, q.offset));
	api_cacheable(rq, rs);
	/* Items show the day's stale flags. */
	api_cache_for_today(rs);
	return API_DONE;
}

/* ---------------------------------------------------------------------------------------
 * Revisions
 */

struct rev_ctx {
	json_t *items;
};


static int rev_row(void *ctx, const struct store_revision *r)
{
	struct rev_ctx *c = ctx;
	json_t *item = api_revision_summary(r);

	if (item)
		json_array_append_new(c->items, item);
	return 0;
}

int api_roles_revisions(struct api_request *rq, struct api_response *rs)
{
	struct store_role r;
	struct rev_ctx c;
	int limit, offset, total = 0, rc;

	if (api_page(rq, rs, &limit, &offset))
		return API_DONE;
	if (api_role_load_history(rq, rs, &r))
		return API_DONE;
	if (api_etag(rq, rs, r.revision))
		goto out;
	c.items = json_array();
	rc = store_revisions_list(rq->api->store, r.slug, limit, offset, rev_row, &c, &total);
	if (rc) {
		json_decref(c.items);
		api_problem_rc(rs, rc, NULL);
		goto out;
	}
	api_json(rs, 200, api_list(rq, rs, c.items, total, limit, offset));
out:
	api_cacheable(rq, rs);
	store_role_release(&r);
	return API_DONE;
}

int api_roles_revision(struct api_request *rq, struct api_response *rs)
{
	struct store_role r;
	struct store_revision rev;
	long n = revision_number(rq->params[1]);
	json_t *v, *role;
	int rc;

	if (api_role_load_history(rq, rs, &r))
		return API_DONE;
	if (!n) {
		api_problem(rs, 404, "not-found", "Not found",
			    "revisions are numbered 1, 2, 3, ... (digits only, no leading zero)");
		goto out;
	}
	memset(&rev, 0, sizeof(rev));
	rc = store_revision_get(rq->api->store, r.slug, (int)n, &rev);
	if (rc) {
		api_problem_rc(rs, rc, rc == RC_NOTFOUND ? "this role has no such revision" : NULL);
		goto out;
	}
	/* A past revision never changes: its ETag is its own number. */
	if (api_accept(rq->header(rq->ctx, "Accept")) == API_REPR_HTML) {
		api_view_revision(rq, rs, &r, &rev);
	} else if (!api_etag(rq, rs, rev.revision)) {
		v = api_revision_summary(&rev);
		role = loads(rev.role_json);
		assessment_role_defaults(role);
		json_object_set_new(v, "assessment", json_incref(json_object_get(role, "assessment")));
		json_object_set_new(v, "role", role ? role : json_null());
		json_object_set_new(v, "score", loads(rev.score_json));
		api_json(rs, 200, v);
	}
	store_revision_release(&rev);
out:
	api_cacheable(rq, rs);
	store_role_release(&r);
	return API_DONE;
}

