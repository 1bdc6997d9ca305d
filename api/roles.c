/*
 * roles.c: /roles and everything under a role. Reads come from the store's current rows;
 * every write (create, replace, a part, archive) is one job on the store's writer thread that
 * reads the current revision, validates, recomputes through the scoring core, appends the
 * revision and queues its webhook events, so nothing can come between the read and the write.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "body/assessment.h"
#include "body/codes.h"
#include "body/recency.h"
#include "api/webhooks.h"
#include "util/clock.h"

/* ---------------------------------------------------------------------------------------
 * Reads
 */

static const char *param_slug(struct api_request *rq)
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
	const char *slug = param_slug(rq);
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
			struct buf loc = BUF_INIT(8192);
			int live = !t.archived;

			store_role_release(&t);
			if (!live) {
				free(target);
				api_problem(rs, 404, "not-found", "Not found", "no role has this slug");
				return RC_NOTFOUND;
			}
			/* The parameter was decoded; the rest of the raw path follows its segment. */
			const char *rest = strchr(rq->path + strlen("/roles/"), '/');
			buf_addf(&loc, "/roles/%s%s%s", target, rest ? rest : "",
				 rq->query_string ? rq->query_string : "");
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

/*
 * load_role for the history: an archived role's revisions stay readable (the last one says
 * who archived it and when), while its other reads answer 404. Aliases and unknown slugs as
 * load_role.
 */
static int load_history(struct api_request *rq, struct api_response *rs, struct store_role *r)
{
	memset(r, 0, sizeof(*r));
	if (store_role_get(rq->api->store, param_slug(rq), r) == RC_OK)
		return RC_OK;
	store_role_release(r);
	return api_role_load(rq, rs, r);
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

static json_t *loads(const char *text)
{
	return text ? json_loads(text, 0, NULL) : NULL;
}

json_t *api_role_loads(const struct store_role *r)
{
	json_t *v = loads(r->role_json);

	/* A role stored before codes and as_of were part of the body reads as if it had them. */
	codes_fill_default(v);
	recency_fill_stored(v, r->evidence_as_of);
	return v;
}

unsigned api_role_recency(struct api *a, const struct store_role *r, json_t **view)
{
	json_t *map = loads(r->evidence_as_of);
	unsigned mask = 0;

	*view = recency_view(map, api_stale_cutoff(a), &mask);
	json_decref(map);
	return mask;
}

/* The representation of GET /roles/{slug}: the role body, its score block, revision, times.
 * r gives the body (NULL: role_json, as written). */
static json_t *role_repr(const struct store_role *r, const char *role_json,
			 const char *score_json, int revision, const char *created_at,
			 const char *updated_at)
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

int api_roles_get(struct api_request *rq, struct api_response *rs)
{
	struct store_role r;
	json_t *v, *recency;
	unsigned stale;

	/* The URL is JSON or the role's page, by Accept: every answer says so, errors too. */
	api_header(rs, "Vary", "Accept");
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
		v = role_repr(&r, NULL, r.score_json, r.revision, r.created_at, r.updated_at);
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
		buf_adds(&rs->body, r.score_json);
		buf_addc(&rs->body, '\n');
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
	const char *part = api_route_part(rq);
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

static int list_row(void *ctx, const struct store_role *r)
{
	struct list_ctx *c = ctx;
	json_t *item = api_role_item(r, c->stale_before);

	if (item)
		json_array_append_new(c->items, item);
	return 0;
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

void api_role_filters(struct api_request *rq, struct store_role_query *q, char stale_before[11],
		      struct scoring_errors *errs)
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

json_t *api_revision_summary(const struct store_revision *r)
{
	json_t *changed = loads(r->changed_json);

	return json_pack("{s:i, s:f, s:s, s:s?, s:s?, s:o, s:s?, s:s?}", "revision", r->revision,
			 "score", r->score, "zone", r->zone, "label", r->label, "reason", r->reason,
			 "changed", changed ? changed : json_array(), "created_at", r->created_at,
			 "actor", r->actor);
}

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
	if (load_history(rq, rs, &r))
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

	api_header(rs, "Vary", "Accept");
	if (load_history(rq, rs, &r))
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

/* ---------------------------------------------------------------------------------------
 * Writes
 */

/* W_COMMENTARY replaces the role's commentary, a part of the narrative, not of the assessment. */
enum write_kind { W_CREATE, W_REPLACE, W_PART, W_COMMENTARY, W_ARCHIVE };

struct write_op {
	struct api *api;      /* NULL outside the server (seed, import): no cache */
	int64_t role_id;      /* updates: the role's id, for the cache */
	enum write_kind kind;
	enum scoring_part part;
	const char *part_key; /* the body member that holds the part */
	char *slug;
	json_t *body;         /* owned */
	char *if_match;
	char *actor;
	struct scoring_errors errs;
	char detail[256];
	const char *conflict_field; /* a 409's field: "slug" or "aliases" */
	json_t *result;       /* built in the job */
	char *location;
};

static void op_free(void *arg)
{
	struct write_op *op = arg;

	if (!op)
		return;
	free(op->slug);
	json_decref(op->body);
	free(op->if_match);
	free(op->actor);
	json_decref(op->result);
	free(op->location);
	free(op);
}

/* The body's optional top-level "reason": a string of at most 1000 characters, or null. */
static int take_reason(json_t *body, char **reason, struct scoring_errors *errs)
{
	json_t *r = json_object_get(body, "reason");

	*reason = NULL;
	if (!r || json_is_null(r))
		goto out;
	if (!json_is_string(r) || json_string_length(r) > 1000)
		scoring_errors_add(errs, "reason", "must be a string of at most 1000 characters");
	else if (!assessment_text_ok(json_string_value(r), 1) ||
		 strlen(json_string_value(r)) != json_string_length(r))
		scoring_errors_add(errs, "reason", "must not contain control characters "
				   "(tab and line breaks are allowed)");
	else
		*reason = strdup(json_string_value(r));
out:
	/* Taken either way: what is left of the body is checked for unknown fields. */
	json_object_del(body, "reason");
	return 0;
}

/* Fills the alias arrays of w from the normalized role; they point into role. */
static int aliases_of(json_t *role, const char *slug, struct store_role_write *w, char (*slugs)[128],
		      const char **slug_ptrs, const char **names, int max)
{
	json_t *aliases = json_object_get(role, "aliases"), *a;
	size_t i;
	int n = 0, j;

	json_array_foreach(aliases, i, a) {
		int dup = 0;

		if (n >= max)
			break;
		if (assessment_slugify(json_string_value(a), slugs[n], 128))
			continue;
		if (!strcmp(slugs[n], slug))
			continue;
		for (j = 0; j < n; j++)
			dup |= !strcmp(slugs[j], slugs[n]);
		if (dup)
			continue;
		slug_ptrs[n] = slugs[n];
		names[n] = json_string_value(a);
		n++;
	}
	w->alias_slugs = slug_ptrs;
	w->alias_names = names;
	w->n_aliases = n;
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * The writer's cache of parsed current roles (struct api_wcache_entry, api_int.h)
 */

void api_wcache_entry_release(struct api_wcache_entry *e)
{
	free(e->slug);
	free(e->label);
	json_decref(e->role);
	json_decref(e->block);
	assessment_memo_release(&e->memo);
	memset(e, 0, sizeof(*e));
}

static struct api_wcache_entry *wcache_slot(struct api *a, const char *slug)
{
	int i;

	for (i = 0; a && i < API_WCACHE_SLOTS; i++)
		if (a->wcache[i].slug && !strcmp(a->wcache[i].slug, slug))
			return &a->wcache[i];
	return NULL;
}

/* The cached role when it is the store's current revision, else NULL. */
static struct api_wcache_entry *wcache_find(struct api *a, const char *slug,
					    const struct store_role_head *head)
{
	struct api_wcache_entry *e = wcache_slot(a, slug);

	return e && e->id == head->id && e->revision == head->revision ? e : NULL;
}

/* Caches role and block (new references taken), with their numbers and the memo of their
 * dump (moved in: *memo is left empty; NULL for none), as revision `revision` of slug. */
static void wcache_put(struct api *a, const char *slug, int64_t id, int revision, json_t *role,
		       json_t *block, const struct scoring_input *in,
		       const struct api_event_state *st, struct assessment_memo *memo)
{
	struct api_wcache_entry *e;
	struct assessment_memo none = ASSESSMENT_MEMO_INIT;

	if (!memo)
		memo = &none;
	if (!a || !role || !block) {
		assessment_memo_release(memo);
		return;
	}
	e = wcache_slot(a, slug);
	if (!e)
		e = &a->wcache[a->wcache_next++ % API_WCACHE_SLOTS];
	api_wcache_entry_release(e);
	e->slug = strdup(slug);
	e->label = strdup(st->label);
	if (!e->slug || !e->label) {
		api_wcache_entry_release(e);
		return;
	}
	e->id = id;
	e->revision = revision;
	e->role = json_incref(role);
	e->block = json_incref(block);
	e->in = *in;
	e->memo = *memo;
	memset(memo, 0, sizeof(*memo));
	e->score = st->score;
	snprintf(e->zone, sizeof(e->zone), "%s", st->zone);
}

static void wcache_drop(struct api *a, const char *slug)
{
	struct api_wcache_entry *e = wcache_slot(a, slug);

	if (e)
		api_wcache_entry_release(e);
}

#define MAX_ALIASES 64

/* The role's string member, or NULL. */
static const char *role_str(json_t *role, const char *key)
{
	return json_string_value(json_object_get(role, key));
}

/* Whether the changed paths name `path`. */
static int changes_name(json_t *changes, const char *path)
{
	size_t i;
	json_t *c;

	json_array_foreach(changes, i, c)
		if (!strcmp(json_string_value(c), path))
			return 1;
	return 0;
}

/*
 * Stores `role` (normalized, its numbers in *in) as revision `revision` of slug, with the
 * score recomputed, and queues the events. prev is NULL for a new role. Fills op->result.
 */
static int write_revision(struct store_tx *tx, struct write_op *op, json_t *role,
			  const struct scoring_input *in, int revision,
			  const struct api_event_state *prev, json_t *changes, const char *reason)
{
	struct scoring_result res;
	struct store_role_write w;
	char alias_slugs[MAX_ALIASES][128];
	const char *alias_ptrs[MAX_ALIASES], *alias_names[MAX_ALIASES];
	const char *title = role_str(role, "title");
	const char *now = store_tx_now(tx);
	json_t *block = NULL;
	char *role_text = NULL, *score_text = NULL, *changes_text = NULL;
	char *soc = NULL, *isco = NULL, *as_of_map = NULL, oldest[CLOCK_DAY_LEN];
	struct api_event_state ev_cur;
	/* An update's role shares its unchanged members with the cached one before it: dump
	 * through that one's memo (its slot, when any, is the current revision's). */
	struct api_wcache_entry *e = prev ? wcache_slot(op->api, op->slug) : NULL;
	struct assessment_memo memo = ASSESSMENT_MEMO_INIT;
	int rc, score_changed;

	rc = scoring_eval(in, &res);
	if (rc)
		goto out;
	block = assessment_score_block(&res, op->slug, title, revision, now);
	assessment_score_block_set_reason(block, role);
	role_text = assessment_dumps_memo(role, e ? &e->memo : NULL, &memo);
	score_text = assessment_dumps(block);
	changes_text = assessment_dumps(changes);
	soc = codes_join(role, "soc", ' ');
	isco = codes_join(role, "isco", ' ');
	as_of_map = recency_map(role, oldest, sizeof(oldest));
	rc = RC_NOMEM;
	if (!block || !role_text || !score_text || !changes_text || !as_of_map)
		goto out;
	memset(&w, 0, sizeof(w));
	w.slug = op->slug;
	w.title = title;
	w.role_json = role_text;
	w.score_json = score_text;
	w.score = res.published.score;
	w.zone = scoring_zone_name(res.published.zone);
	w.label = res.published.label;
	w.category = role_str(role, "category");
	w.seniority = role_str(role, "seniority");
	w.soc_codes = soc;
	w.isco_codes = isco;
	w.evidence_as_of = as_of_map;
	w.oldest_as_of = oldest[0] ? oldest : NULL;
	w.keep_aliases = prev && !changes_name(changes, "aliases");
	aliases_of(role, op->slug, &w, alias_slugs, alias_ptrs, alias_names, MAX_ALIASES);
	w.reason = reason;
	w.changed_json = changes_text;
	w.actor = op->actor;
	w.revision = revision;
	/* A create whose slug is taken fails on that first: the 409 then names the slug, and any
	 * later conflict is an alias's. */
	if (!prev && store_tx_slug_taken(tx, op->slug) == RC_CONFLICT) {
		op->conflict_field = "slug";
		snprintf(op->detail, sizeof(op->detail),
			 "the slug \"%.100s\" is taken by another role, or is one's alias "
			 "(archived roles keep theirs)", op->slug);
		rc = RC_CONFLICT;
		goto out;
	}
	rc = prev ? store_tx_role_update(tx, &w) : store_tx_role_create(tx, &w);
	if (rc) {
		if (rc == RC_CONFLICT) {
			op->conflict_field = "aliases";
			snprintf(op->detail, sizeof(op->detail), "%s",
				 "an alias is taken by another role, as its slug or an alias "
				 "(archived roles keep theirs)");
		}
		goto out;
	}
	ev_cur.score = res.published.score;
	ev_cur.zone = w.zone;
	ev_cur.label = w.label;
	ev_cur.revision = revision;
	rc = api_webhooks_queue_revision(tx, op->slug, title, prev, &ev_cur, reason);
	if (rc)
		goto out;
	score_changed = !prev || fabs(prev->score - res.published.score) > 1e-9;
	if (op->kind == W_CREATE) {
		op->result = role_repr(NULL, role_text, score_text, revision, now, now);
		/* A slot of this slug could only hold a create that was rolled back. */
		wcache_drop(op->api, op->slug);
	} else {
		op->result = json_pack("{s:i, s:O, s:b, s:b, s:O}", "revision", revision, "score", block,
				       "changed", 1, "score_changed", score_changed, "changes", changes);
		wcache_put(op->api, op->slug, op->role_id, revision, role, block, in, &ev_cur, &memo);
	}
	rc = op->result ? RC_OK : RC_NOMEM;
out:
	assessment_memo_release(&memo);
	json_decref(block);
	free(role_text);
	free(score_text);
	free(changes_text);
	free(soc);
	free(isco);
	free(as_of_map);
	return rc;
}

/* The answer to a write that changes nothing: the current revision and score. */
static int unchanged(struct write_op *op, int revision, json_t *block)
{
	op->result = json_pack("{s:i, s:O, s:b, s:b, s:[]}", "revision", revision, "score",
			       block ? block : json_null(), "changed", 0, "score_changed", 0, "changes");
	return RC_UNCHANGED;
}

static int create_job(struct store_tx *tx, void *arg)
{
	struct write_op *op = arg;
	struct scoring_input in;
	json_t *role = NULL, *changes = NULL;
	char *reason = NULL;
	int rc;

	scoring_errors_init(&op->errs);
	take_reason(op->body, &reason, &op->errs);
	rc = assessment_read_role(op->body, ASSESSMENT_REQUIRE_SLUG, &in, &role, &op->errs);
	if (rc || op->errs.n) {
		rc = RC_INVALID;
		goto out;
	}
	op->slug = strdup(json_string_value(json_object_get(role, "slug")));
	rc = recency_fill(role, NULL, store_tx_now(tx));
	if (rc)
		goto out;
	changes = json_array();
	rc = write_revision(tx, op, role, &in, 1, NULL, changes, reason ? reason : "created");
	if (!rc) {
		struct buf loc = BUF_INIT(512);

		buf_addf(&loc, "/roles/%s", op->slug);
		op->location = buf_detach(&loc, NULL);
	}
out:
	free(reason);
	json_decref(role);
	json_decref(changes);
	return rc;
}

/*
 * The current role for a write: its body and score block (new references), its numbers and
 * its state for the events, from the writer's cache when that holds the current revision, else
 * from the store (and then cached). prev's strings point into the cache or into *label_buf and
 * zone_buf: use them before the next job.
 */
static int current_role(struct store_tx *tx, struct write_op *op,
			const struct store_role_head *head, json_t **role, json_t **block,
			struct scoring_input *in, struct api_event_state *prev, char **label_buf,
			char zone_buf[8])
{
	struct api_wcache_entry *e = wcache_find(op->api, op->slug, head);
	struct store_role cur;
	int rc;

	if (e) {
		*role = json_incref(e->role);
		*block = json_incref(e->block);
		*in = e->in;
		prev->score = e->score;
		prev->zone = e->zone;
		prev->label = e->label;
		prev->revision = e->revision;
		return RC_OK;
	}
	rc = store_tx_role_get(tx, op->slug, &cur);
	if (rc)
		return rc;
	*role = api_role_loads(&cur);
	*block = loads(cur.score_json);
	*label_buf = cur.label;
	cur.label = NULL;
	memcpy(zone_buf, cur.zone, sizeof(cur.zone));
	prev->score = cur.score;
	prev->zone = zone_buf;
	prev->label = *label_buf;
	prev->revision = cur.revision;
	rc = *role && *block && !assessment_input(*role, in) ? RC_OK : RC_IO;
	if (!rc)
		wcache_put(op->api, op->slug, head->id, cur.revision, *role, *block, in, prev, NULL);
	store_role_release(&cur);
	return rc;
}

/*
 * A part write's new role: the body holds the part under op->part_key (and perhaps a reason,
 * taken already), nothing else. An assessment part replaces "assessment" (its numbers in *in),
 * the commentary replaces "commentary" (prose: *in, and so the score, stay as they are). On
 * success *new_role is a new reference sharing its other members with cur_role; errors are in
 * op->errs. *reason may be set to the override's own reason when the body gives none.
 */
static int read_part_write(struct write_op *op, json_t *cur_role, struct scoring_input *in,
			   json_t **new_role, char **reason)
{
	const char *k;
	json_t *v, *part = NULL, *norm = NULL;
	int rc = RC_OK;

	json_object_foreach(op->body, k, v) {
		if (!strcmp(k, op->part_key))
			part = v;
		else
			scoring_errors_add(&op->errs, k, "unknown field");
	}
	if (!part) {
		scoring_errors_add(&op->errs, op->part_key, "%s",
				   op->part != SCORING_OVERRIDE && op->kind != W_COMMENTARY
					   ? "is required"
					   : "is required (null removes it)");
		return RC_INVALID;
	}
	/* Read the part even after an unknown field, so every broken field is listed. */
	if (op->kind == W_COMMENTARY)
		norm = assessment_read_commentary(part, op->part_key, &op->errs);
	else
		rc = assessment_read_part(op->part, part, op->part_key,
					  json_object_get(cur_role, "assessment"), in, &norm,
					  &op->errs);
	if (!rc && !op->errs.n && norm) {
		/* A shallow copy: the cached role it shares its members with is never changed,
		 * and only the part's member is replaced here. */
		*new_role = json_copy(cur_role);
		json_object_set(*new_role, op->kind == W_COMMENTARY ? "commentary" : "assessment",
				norm);
		/* The override's own reason serves when the body gives none. */
		if (!*reason && op->part == SCORING_OVERRIDE && json_is_object(part) &&
		    json_is_string(json_object_get(part, "reason")))
			*reason = strdup(json_string_value(json_object_get(part, "reason")));
	}
	json_decref(norm);
	return rc;
}

/* Replace, a part, archive: everything that starts from the current revision. */
static int update_job(struct store_tx *tx, void *arg)
{
	struct write_op *op = arg;
	struct store_role_head head;
	struct api_event_state prev;
	struct scoring_input in;
	json_t *cur_role = NULL, *cur_block = NULL, *new_role = NULL, *changes = NULL;
	char *reason = NULL, *label_buf = NULL, zone_buf[8];
	int rc;

	scoring_errors_init(&op->errs);
	rc = store_tx_role_head(tx, op->slug, &head);
	if (rc)
		goto out;
	if (head.archived) {
		rc = RC_NOTFOUND;
		goto out;
	}
	if (!api_if_match_ok(op->if_match, head.revision)) {
		snprintf(op->detail, sizeof(op->detail),
			 "If-Match does not name the current revision \"r%d\"", head.revision);
		rc = RC_PRECONDITION;
		goto out;
	}
	if (op->kind == W_ARCHIVE) {
		rc = api_webhooks_queue_archived(tx, op->slug);
		if (!rc)
			rc = store_tx_role_archive(tx, op->slug, op->actor);
		wcache_drop(op->api, op->slug);
		goto out;
	}
	op->role_id = head.id;
	rc = current_role(tx, op, &head, &cur_role, &cur_block, &in, &prev, &label_buf, zone_buf);
	if (rc)
		goto out;
	take_reason(op->body, &reason, &op->errs);
	if (op->kind == W_REPLACE) {
		json_t *slug = json_object_get(op->body, "slug");

		if (slug && (!json_is_string(slug) || strcmp(json_string_value(slug), op->slug)))
			scoring_errors_add(&op->errs, "slug", "must be the slug of the path, \"%s\"",
					   op->slug);
		/* The path's slug, so that the reader can refuse an alias equal to it. */
		json_object_set_new(op->body, "slug", json_string(op->slug));
		rc = assessment_read_role(op->body, 0, &in, &new_role, &op->errs);
	} else {
		rc = read_part_write(op, cur_role, &in, &new_role, &reason);
	}
	if (rc || op->errs.n || !new_role) {
		rc = op->errs.n ? RC_INVALID : rc ? rc : RC_NOMEM;
		goto out;
	}
	rc = recency_fill(new_role, cur_role, store_tx_now(tx));
	if (rc)
		goto out;
	changes = assessment_diff(cur_role, new_role);
	if (!changes) {
		rc = RC_NOMEM;
		goto out;
	}
	if (!json_array_size(changes)) {
		rc = unchanged(op, head.revision, cur_block);
		goto out;
	}
	rc = write_revision(tx, op, new_role, &in, head.revision + 1, &prev, changes, reason);
out:
	free(reason);
	free(label_buf);
	json_decref(cur_role);
	json_decref(cur_block);
	json_decref(new_role);
	json_decref(changes);
	return rc;
}

static void write_finish(struct api_request *rq, struct api_response *rs, int rc, void *arg)
{
	struct write_op *op = arg;

	(void)rq;
	if (rc == RC_OK && op->kind == W_ARCHIVE) {
		rs->status = 204;
		return;
	}
	if ((rc == RC_OK || rc == RC_UNCHANGED) && op->result) {
		api_json(rs, op->kind == W_CREATE ? 201 : 200, json_incref(op->result));
		if (op->location)
			api_header(rs, "Location", op->location);
		if (op->kind != W_CREATE) {
			char tag[32];

			snprintf(tag, sizeof(tag), "\"r%d\"",
				 (int)json_integer_value(json_object_get(op->result, "revision")));
			api_header(rs, "ETag", tag);
		} else {
			char tag[32];

			snprintf(tag, sizeof(tag), "\"r%d\"", 1);
			api_header(rs, "ETag", tag);
		}
		return;
	}
	if (rc == RC_INVALID && op->errs.n) {
		api_problem_errors(rs, &op->errs);
		return;
	}
	if (rc == RC_NOTFOUND) {
		api_problem(rs, 404, "not-found", "Not found", "no role has this slug");
		return;
	}
	api_problem_rc_field(rs, rc, op->detail[0] ? op->detail : NULL, op->conflict_field,
			     "is taken by another role");
}

/* Common start of every role write: token, body (when the write has one), the op. */
static int start_write(struct api_request *rq, struct api_response *rs, enum write_kind kind,
		       enum scoring_part part, const char *part_key, int has_body)
{
	struct write_op *op;
	json_t *body = NULL;
	const char *if_match;

	if (api_require_token(rq, rs))
		return API_DONE;
	if (has_body && api_body_json(rq, rs, &body))
		return API_DONE;
	op = calloc(1, sizeof(*op));
	if (!op) {
		json_decref(body);
		api_problem_rc(rs, RC_NOMEM, NULL);
		return API_DONE;
	}
	op->api = rq->api;
	op->kind = kind;
	op->part = part;
	op->part_key = part_key;
	op->body = body ? body : json_object();
	op->actor = rq->actor ? strdup(rq->actor) : NULL;
	if_match = rq->header(rq->ctx, "If-Match");
	op->if_match = if_match ? strdup(if_match) : NULL;
	if (kind != W_CREATE) {
		/* A write to an alias or an unknown slug: answer as a read would (308, 404). The
		 * job looks again, inside its transaction. */
		struct store_role_head head;
		struct store_role r;

		if (store_role_head(rq->api->store, param_slug(rq), &head) || head.archived) {
			if (api_role_load(rq, rs, &r)) {
				op_free(op);
				return API_DONE;
			}
			store_role_release(&r);
		}
		op->slug = strdup(param_slug(rq));
	}
	return api_defer(rq, kind == W_CREATE ? create_job : update_job, op, write_finish, op_free);
}

int api_roles_create(struct api_request *rq, struct api_response *rs)
{
	return start_write(rq, rs, W_CREATE, SCORING_ALL, NULL, 1);
}

int api_roles_replace(struct api_request *rq, struct api_response *rs)
{
	return start_write(rq, rs, W_REPLACE, SCORING_ALL, NULL, 1);
}

int api_roles_archive(struct api_request *rq, struct api_response *rs)
{
	return start_write(rq, rs, W_ARCHIVE, SCORING_ALL, NULL, 0);
}

int api_roles_part_put(struct api_request *rq, struct api_response *rs)
{
	const char *part = api_route_part(rq);
	enum scoring_part p = !strcmp(part, "tasks")        ? SCORING_TASKS
			      : !strcmp(part, "barriers")   ? SCORING_BARRIERS
			      : !strcmp(part, "protective") ? SCORING_PROTECTIVE
			      : !strcmp(part, "growth")     ? SCORING_GROWTH
							    : SCORING_OVERRIDE;

	return start_write(rq, rs, W_PART, p, part, 1);
}

int api_roles_commentary_put(struct api_request *rq, struct api_response *rs)
{
	return start_write(rq, rs, W_COMMENTARY, SCORING_ALL, "commentary", 1);
}

int api_roles_evidence_post(struct api_request *rq, struct api_response *rs)
{
	return start_write(rq, rs, W_PART, SCORING_EVIDENCE, "dimensions", 1);
}

int api_roles_override_delete(struct api_request *rq, struct api_response *rs)
{
	struct write_op *op;
	int r = start_write(rq, rs, W_PART, SCORING_OVERRIDE, "override", 0);

	if (r != API_DEFER)
		return r;
	op = rq->deferred->arg;
	json_object_set_new(op->body, "override", json_null());
	json_object_set_new(op->body, "reason", json_string("override removed"));
	return r;
}

/* Loads the default data into an empty database as revision 1 of its role. */
int api_seed(struct api *a, const char *json_text)
{
	struct write_op *op = calloc(1, sizeof(*op));
	int rc;

	if (!op)
		return RC_NOMEM;
	op->kind = W_CREATE;
	op->body = json_loads(json_text, 0, NULL);
	if (!op->body) {
		op_free(op);
		return RC_INVALID;
	}
	json_object_set_new(op->body, "reason", json_string("default data"));
	rc = store_write(a->store, create_job, op);
	op_free(op);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * Import (`aijri import`): many role bodies in one job, so that they land all or nothing.
 */

struct import_job {
	json_t *const *roles;
	size_t n;
	size_t bad;                  /* the index that failed */
	struct scoring_errors *errs; /* the caller's */
};

/* Each role goes through create_job, the very path of POST /roles, so that an imported role
 * is stored, scored and announced to webhooks exactly as a created one would be. */
static int import_job(struct store_tx *tx, void *arg)
{
	struct import_job *j = arg;
	struct write_op *op = NULL;
	size_t i;
	int rc = RC_OK;

	for (i = 0; i < j->n && !rc; i++) {
		op = calloc(1, sizeof(*op));
		if (!op) {
			rc = RC_NOMEM;
			break;
		}
		op->kind = W_CREATE;
		op->body = json_deep_copy(j->roles[i]);
		if (!op->body || json_object_set_new(op->body, "reason", json_string("imported"))) {
			rc = RC_NOMEM;
			goto next;
		}
		rc = create_job(tx, op);
		if (rc) {
			j->bad = i;
			*j->errs = op->errs;
			if (rc == RC_CONFLICT)
				scoring_errors_add(j->errs, "slug", "%s: \"%s\"",
						   op->detail[0] ? op->detail : "is taken",
						   op->slug ? op->slug : "");
		}
next:
		op_free(op);
		op = NULL;
	}
	return rc;
}

int api_import_check(json_t *const *roles, size_t n, size_t *bad_index,
		     struct scoring_errors *errs)
{
	struct scoring_input in;
	json_t *norm = NULL;
	size_t i;
	int rc;

	scoring_errors_init(errs);
	*bad_index = 0;
	for (i = 0; i < n; i++) {
		rc = assessment_read_role(roles[i], ASSESSMENT_REQUIRE_SLUG, &in, &norm, errs);
		json_decref(norm);
		norm = NULL;
		if (rc || errs->n) {
			*bad_index = i;
			return RC_INVALID;
		}
	}
	return RC_OK;
}

int api_import_roles(struct store *s, json_t *const *roles, size_t n, size_t *bad_index,
		     struct scoring_errors *errs)
{
	struct import_job j;
	int rc;

	/* Every record is checked before the writer is asked for anything: a bad file then costs
	 * no transaction, and the first bad record is named even when a later one is bad too. */
	rc = api_import_check(roles, n, bad_index, errs);
	if (rc)
		return rc;
	memset(&j, 0, sizeof(j));
	j.roles = roles;
	j.n = n;
	j.errs = errs;
	rc = store_write(s, import_job, &j);
	if (rc)
		*bad_index = j.bad;
	return rc;
}
