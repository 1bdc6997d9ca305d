/*
 * views.c: what people read, rather than programs: the index (GET /), a role's page and a past
 * revision's page (GET /roles/{slug} and /roles/{slug}/revisions/{n} when Accept prefers HTML),
 * the badge, the history chart and the Atom feeds, and the personal-score form
 * (GET /roles/{slug}/what-if). Each handler only fetches from the store and hands the stored
 * JSON to pages/, which renders it. Answers are cacheable like the JSON ones: a page is built
 * once per write, then served from the server's response cache; the personal-score page,
 * which depends on whatever its query holds, is never cached.
 *
 * ETags: a page is "r<revision>-html" (a past revision's page "r<n>-html-past", since it gains
 * a note once it is no longer current), so that the JSON and HTML forms of a URL never share
 * one; the pictures and a role's feed follow the role's revision, "r<revision>".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/handlers.h"
#include "api/reply.h"
#include "api/role_read.h"
#include "body/assessment.h"
#include "pages/pages.h"
#include "util/clock.h"

#define TYPE_HTML "text/html; charset=utf-8"
#define TYPE_SVG "image/svg+xml"
#define TYPE_ATOM "application/atom+xml; charset=utf-8"

/* A picture or a feed opened by itself runs nothing and loads nothing. */
#define CSP_NONE "default-src 'none'"

/* Sets the answer's status and type, or a problem when rendering failed (the body is then
 * replaced); counts the build. */
static void finish(struct api_request *rq, struct api_response *rs, int rc, const char *type,
		   const char *csp)
{
	atomic_fetch_add_explicit(&rq->api->page_builds, 1, memory_order_relaxed);
	if (rc) {
		buf_reset(&rs->body);
		api_problem_rc(rs, rc, NULL);
		return;
	}
	rs->status = 200;
	rs->content_type = type;
	api_header(rs, "Content-Security-Policy", csp);
	api_header(rs, "X-Content-Type-Options", "nosniff");
}

/* ---------------------------------------------------------------------------------------
 * Revisions as the pages take them: summaries with the role's slug and title
 */

struct revs_ctx {
	json_t *items;
	const char *slug, *title; /* NULL: the row's own (the feed of every role) */
	int rc;
};

static int revs_row(void *ctx, const struct store_revision *r)
{
	struct revs_ctx *c = ctx;
	json_t *v = api_revision_summary(r);

	/* A list built in part is no list: a failure fails it whole. */
	if (!v || json_object_set_new(v, "slug", json_string(c->slug ? c->slug : r->slug)) ||
	    json_object_set_new(v, "title", json_string(c->title ? c->title : r->title)) ||
	    json_array_append_new(c->items, v)) {
		c->rc = RC_NOMEM;
		return 1;
	}
	return 0;
}

/* The role's revisions, newest first, from `offset` (0: the current one); *out a new
 * reference. */
static int role_revisions(struct api *a, const struct store_role *r, int limit, int offset,
			  json_t **out)
{
	struct revs_ctx c = { json_array(), r->slug, r->title, RC_OK };
	int total = 0, rc;

	rc = c.items ? store_revisions_list(a->store, r->slug, limit, offset, revs_row, &c, &total)
		     : RC_NOMEM;
	rc = rc ? rc : c.rc;
	if (rc) {
		json_decref(c.items);
		c.items = NULL;
	}
	*out = c.items;
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * Pages
 */

/* A role's page at one revision: its role body and score block as stored then, and the
 * history up to it. */
static int role_page(struct api_request *rq, struct api_response *rs, const struct store_role *r,
		     const char *role_json, const char *score_json, int revision)
{
	struct pages_role p;
	/* The current revision reads as every read of it does (codes and as_of filled in for a
	 * role stored before they existed); a past one as it was stored. */
	json_t *role = revision == r->revision ? api_role_loads(r) : json_loads(role_json, 0, NULL);
	json_t *score = json_loads(score_json, 0, NULL);
	json_t *revs = NULL;
	int rc = role && score ? RC_OK : RC_IO;

	if (!rc)
		rc = role_revisions(rq->api, r, PAGES_HISTORY_MAX, r->revision - revision, &revs);
	if (!rc) {
		assessment_role_defaults(role);
		memset(&p, 0, sizeof(p));
		p.base_url = rq->api->public_url;
		p.role = role;
		p.score = score;
		p.revisions = revs;
		p.revisions_total = revision;
		p.current = r->revision;
		rc = pages_role_html(&rs->body, &p);
	}
	finish(rq, rs, rc, TYPE_HTML, pages_csp());
	json_decref(role);
	json_decref(score);
	json_decref(revs);
	return API_DONE;
}

int api_view_role(struct api_request *rq, struct api_response *rs, const struct store_role *r)
{
	char tag[48];

	snprintf(tag, sizeof(tag), "r%d-html", r->revision);
	if (api_etag_tag(rq, rs, tag))
		return API_DONE;
	return role_page(rq, rs, r, r->role_json, r->score_json, r->revision);
}

int api_view_revision(struct api_request *rq, struct api_response *rs, const struct store_role *r,
		      const struct store_revision *rev)
{
	char tag[48];

	snprintf(tag, sizeof(tag), "r%d-html%s", rev->revision,
		 rev->revision < r->revision ? "-past" : "");
	if (api_etag_tag(rq, rs, tag))
		return API_DONE;
	return role_page(rq, rs, r, rev->role_json, rev->score_json, rev->revision);
}

struct index_ctx {
	json_t *items;
	const char *stale_before;
	int (*bins)[3];
	int rc;
};

static int index_row(void *ctx, const struct store_role *r)
{
	struct index_ctx *c = ctx;
	json_t *v = api_role_item(r, c->stale_before);

	if (!v || json_array_append_new(c->items, v)) {
		c->rc = RC_NOMEM;
		return 1;
	}
	return 0;
}

static int bin_row(void *ctx, const struct store_role *r)
{
	struct index_ctx *c = ctx;
	int bin = r->score >= 100 ? PAGES_BINS - 1 : r->score > 0 ? (int)(r->score / 10) : 0;
	int z = !strcmp(r->zone, "green") ? 2 : !strcmp(r->zone, "yellow") ? 1 : 0;

	c->bins[bin][z]++;
	return 0;
}

int api_view_index(struct api_request *rq, struct api_response *rs)
{
	struct store_role_query q, all;
	struct pages_index p;
	struct index_ctx c;
	char stale_before[CLOCK_DAY_LEN];
	int rc, ignored;

	if (api_roles_query(rq, rs, &q, stale_before))
		return API_DONE;
	memset(&p, 0, sizeof(p));
	memset(&c, 0, sizeof(c));
	c.stale_before = stale_before;
	c.items = json_array();
	c.bins = p.bins;
	rc = c.items ? store_roles_list(rq->api->store, &q, index_row, &c, &p.total) : RC_NOMEM;
	rc = rc ? rc : c.rc;
	/* The distribution is of every match, not of this page of them. */
	all = q;
	all.limit = 0;
	all.offset = 0;
	if (!rc)
		rc = store_roles_list(rq->api->store, &all, bin_row, &c, &ignored);
	if (!rc) {
		p.base_url = rq->api->public_url;
		p.items = c.items;
		p.limit = q.limit;
		p.offset = q.offset;
		p.q = q.q;
		p.zone = q.zone;
		p.sort = rq->query(rq->ctx, "sort");
		p.min_score = q.has_min ? rq->query(rq->ctx, "min_score") : NULL;
		p.max_score = q.has_max ? rq->query(rq->ctx, "max_score") : NULL;
		p.soc = q.soc;
		p.isco = q.isco;
		p.stale = q.stale < 0 ? NULL : q.stale ? "true" : "false";
		rc = pages_index_html(&rs->body, &p);
	}
	finish(rq, rs, rc, TYPE_HTML, pages_csp());
	api_cacheable(rq, rs);
	/* stale=true|false filters by the day's flags. */
	api_cache_for_today(rs);
	json_decref(c.items);
	return API_DONE;
}

/* ---------------------------------------------------------------------------------------
 * Pictures and feeds
 */

int api_view_badge(struct api_request *rq, struct api_response *rs)
{
	struct store_role r;

	if (api_role_load(rq, rs, &r))
		return API_DONE;
	if (!api_etag(rq, rs, r.revision))
		finish(rq, rs, pages_badge_svg(&rs->body, r.score, r.zone, r.label), TYPE_SVG, CSP_NONE);
	api_cacheable(rq, rs);
	store_role_release(&r);
	return API_DONE;
}

int api_view_favicon(struct api_request *rq, struct api_response *rs)
{
	finish(rq, rs, pages_favicon_svg(&rs->body), TYPE_SVG, CSP_NONE);
	/* It never changes while the server runs: browsers may keep it a day. */
	api_header(rs, "Cache-Control", "public, max-age=86400");
	api_cacheable(rq, rs);
	return API_DONE;
}

int api_view_history(struct api_request *rq, struct api_response *rs)
{
	struct store_role r;
	json_t *revs = NULL;
	int rc;

	if (api_role_load(rq, rs, &r))
		return API_DONE;
	if (!api_etag(rq, rs, r.revision)) {
		rc = role_revisions(rq->api, &r, PAGES_HISTORY_MAX, 0, &revs);
		finish(rq, rs, rc ? rc : pages_history_svg(&rs->body, r.title, revs), TYPE_SVG, CSP_NONE);
	}
	api_cacheable(rq, rs);
	json_decref(revs);
	store_role_release(&r);
	return API_DONE;
}

int api_view_feed(struct api_request *rq, struct api_response *rs)
{
	struct store_role r;
	struct pages_feed f;
	struct buf title = BUF_INIT(1024), self = BUF_INIT(512), alt = BUF_INIT(512);
	json_t *revs = NULL;
	int rc;

	if (api_role_load(rq, rs, &r))
		return API_DONE;
	if (api_etag(rq, rs, r.revision))
		goto out;
	/* One more than the feed shows: the oldest entry shown says what it changed from. */
	rc = role_revisions(rq->api, &r, PAGES_FEED_MAX + 1, 0, &revs);
	buf_putf(&title, "%s: AI Job Resistance Index", r.title);
	buf_putf(&self, "/roles/%s/feed.atom", r.slug);
	buf_putf(&alt, "/roles/%s", r.slug);
	rc = rc ? rc : buf_err(&title) ? buf_err(&title) : buf_err(&self) ? buf_err(&self)
									  : buf_err(&alt);
	memset(&f, 0, sizeof(f));
	f.base_url = rq->api->public_url;
	f.title = buf_str(&title);
	f.self_path = buf_str(&self);
	f.alt_path = buf_str(&alt);
	f.updated = r.updated_at;
	f.entries = revs;
	finish(rq, rs, rc ? rc : pages_feed_atom(&rs->body, &f), TYPE_ATOM, CSP_NONE);
out:
	api_cacheable(rq, rs);
	json_decref(revs);
	buf_release(&title);
	buf_release(&self);
	buf_release(&alt);
	store_role_release(&r);
	return API_DONE;
}

int api_view_feed_all(struct api_request *rq, struct api_response *rs)
{
	struct revs_ctx c = { json_array(), NULL, NULL, RC_OK };
	struct pages_feed f;
	char now[CLOCK_ISO_LEN];
	int rc;

	rc = c.items ? store_revisions_recent(rq->api->store, PAGES_FEED_MAX + 1, revs_row, &c)
		     : RC_NOMEM;
	rc = rc ? rc : c.rc;
	clock_iso_now(now);
	memset(&f, 0, sizeof(f));
	f.base_url = rq->api->public_url;
	f.title = "AI Job Resistance Index: every revision of every role";
	f.self_path = "/feed.atom";
	f.alt_path = "/";
	f.updated = now;
	f.entries = c.items;
	finish(rq, rs, rc ? rc : pages_feed_atom(&rs->body, &f), TYPE_ATOM, CSP_NONE);
	api_cacheable(rq, rs);
	json_decref(c.items);
	return API_DONE;
}

/* ---------------------------------------------------------------------------------------
 * The personal-score form
 */

/* A sent value as JSON: a number when all of it reads as one, else the text as it is, so that
 * validation names the field and says what it needs ("must be an integer"). */
static json_t *form_value(const char *v)
{
	char *end = NULL;
	double d;

	if (!*v || strspn(v, "+-0123456789.eE") != strlen(v))
		return json_string(v);
	d = strtod(v, &end);
	if (*end || !isfinite(d))
		return json_string(v);
	if (!strpbrk(v, ".eE") && d >= -1e15 && d <= 1e15)
		return json_integer((json_int_t)d);
	return json_real(d);
}

/* The value of a form field, if sent: kept in form (as sent) and set as member key of obj. */
static int form_field(struct api_request *rq, const char *name, json_t *form, json_t *obj,
		      const char *key)
{
	const char *v = rq->query(rq->ctx, name);

	if (!v)
		return 0;
	json_object_set_new(form, name, json_string(v));
	json_object_set_new(obj, key, form_value(v));
	return 1;
}

/*
 * The sent form as a JSON merge patch of the assessment: "tasks" (the published tasks, with
 * the time shares and scores sent; a patch replaces an array whole) and "growth" (its score).
 * *form gets the fields as sent. Both NULL when no field was sent (the form is only shown).
 */
static int form_patch(struct api_request *rq, json_t *assessment, json_t **patch, json_t **form)
{
	json_t *tasks = json_object_get(assessment, "tasks"), *list = json_array(), *t, *copy;
	json_t *growth = json_object();
	char name[64];
	size_t i;
	int sent = 0;

	*patch = json_object();
	*form = json_object();
	if (!*patch || !*form || !list || !growth)
		goto nomem;
	json_array_foreach(tasks, i, t) {
		copy = json_pack("{s:O, s:O, s:O, s:O}", "name", json_object_get(t, "name"),
				 "time_share", json_object_get(t, "time_share"), "score",
				 json_object_get(t, "score"), "rationale",
				 json_object_get(t, "rationale"));
		if (!copy || json_array_append_new(list, copy))
			goto nomem;
		snprintf(name, sizeof(name), "tasks[%zu].time_share", i);
		sent |= form_field(rq, name, *form, copy, "time_share");
		snprintf(name, sizeof(name), "tasks[%zu].score", i);
		sent |= form_field(rq, name, *form, copy, "score");
	}
	sent |= form_field(rq, "growth.score", *form, growth, "score");
	json_object_set_new(*patch, "tasks", list);
	list = NULL;
	if (json_object_size(growth))
		json_object_set(*patch, "growth", growth);
	json_decref(growth);
	if (!sent) {
		json_decref(*patch);
		json_decref(*form);
		*patch = *form = NULL;
	}
	return RC_OK;
nomem:
	json_decref(list);
	json_decref(growth);
	json_decref(*patch);
	json_decref(*form);
	*patch = *form = NULL;
	return RC_NOMEM;
}

/* Validation errors as the page lists them: [{field, message}]. */
static json_t *errors_json(const struct scoring_errors *errs)
{
	json_t *out = json_array();
	int i;

	for (i = 0; out && i < errs->n; i++)
		json_array_append_new(out, json_pack("{s:s, s:s}", "field", errs->e[i].field,
						     "message", errs->e[i].message));
	return out;
}

int api_view_what_if(struct api_request *rq, struct api_response *rs)
{
	struct store_role r;
	struct pages_what_if p;
	struct scoring_errors errs;
	json_t *role = NULL, *score = NULL, *patch = NULL, *form = NULL, *answer = NULL;
	json_t *errors = NULL;
	int rc;

	if (api_role_load(rq, rs, &r))
		return API_DONE;
	role = api_role_loads(&r);
	score = json_loads(r.score_json, 0, NULL);
	rc = role && score ? RC_OK : RC_IO;
	if (!rc)
		rc = form_patch(rq, json_object_get(role, "assessment"), &patch, &form);
	if (!rc && patch) {
		/* The same merge patch, validation and scoring as POST /roles/{slug}/what-if. */
		scoring_errors_init(&errs);
		rc = api_what_if_eval(&r, patch, &answer, &errs);
		if (rc == RC_INVALID && errs.n) {
			errors = errors_json(&errs);
			rc = errors ? RC_OK : RC_NOMEM;
		}
	}
	if (!rc) {
		assessment_role_defaults(role);
		memset(&p, 0, sizeof(p));
		p.base_url = rq->api->public_url;
		p.role = role;
		p.score = score;
		p.form = form;
		p.result = answer;
		p.errors = errors;
		rc = pages_what_if_html(&rs->body, &p);
	}
	finish(rq, rs, rc, TYPE_HTML, pages_csp());
	/* Personal figures: neither this server's cache (the route is not cacheable) nor any
	 * other keeps them. */
	api_header(rs, "Cache-Control", "no-store");
	json_decref(role);
	json_decref(score);
	json_decref(patch);
	json_decref(form);
	json_decref(answer);
	json_decref(errors);
	store_role_release(&r);
	return API_DONE;
}
