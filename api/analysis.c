/*
 * analysis.c: what readers come for beyond one role's score (API.md "Analysis"):
 *   GET /movers                      risers, fallers and zone changes between two times, from
 *                                    the score history (store/history.c);
 *   GET /roles/{slug}/neighbours     the roles with the nearest published scores, and
 *   GET /stats                       the distribution of scores, both from the in-memory
 *                                    catalog (store/catalog.c);
 *   POST /roles/{slug}/what-if       a personal score: a JSON merge patch over the role's
 *                                    current assessment, scored by the one scoring core,
 *                                    stored nowhere, open to anyone (no token).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "api/handlers.h"
#include "api/mergepatch.h"
#include "api/reply.h"
#include "api/role_read.h"
#include "body/assessment.h"
#include "util/clock.h"
#include "util/crypto.h"

#define MOVERS_DEFAULT_DAYS 30
#define MOVERS_MAX_DAYS 366   /* the widest window: its cost is the window's revisions */
#define MOVERS_LIMIT_MAX 200
#define NEAR_DEFAULT 20 /* the lists' default (API.md, Conventions) */
#define NEAR_MAX 200
#define STATS_BINS 10         /* histogram bins of 10 points: [0,10), ..., [90,100] */

/* One decimal, as published scores have, half away from zero. */
static double round1(double x)
{
	double r = round(x * 10.0) / 10.0;

	return r == 0 ? 0.0 : r;
}

static double round2(double x)
{
	double r = round(x * 100.0) / 100.0;

	return r == 0 ? 0.0 : r;
}

/* ---------------------------------------------------------------------------------------
 * GET /movers
 */

struct mover {
	char *slug, *title, *from_label, *to_label;
	char from_zone[8], to_zone[8];
	double from_score, to_score, delta;
	int from_rev, to_rev;
};

/* The best `cap` movers of one list so far, best first. */
struct toplist {
	struct mover *v;
	int n, cap;
	int (*better)(const struct mover *a, const struct mover *b);
};

static int riser_better(const struct mover *a, const struct mover *b)
{
	return a->delta != b->delta ? a->delta > b->delta : strcmp(a->slug, b->slug) < 0;
}

static int faller_better(const struct mover *a, const struct mover *b)
{
	return a->delta != b->delta ? a->delta < b->delta : strcmp(a->slug, b->slug) < 0;
}

static int zone_better(const struct mover *a, const struct mover *b)
{
	double x = fabs(a->delta), y = fabs(b->delta);

	return x != y ? x > y : strcmp(a->slug, b->slug) < 0;
}

static void mover_release(struct mover *m)
{
	free(m->slug);
	free(m->title);
	free(m->from_label);
	free(m->to_label);
}

/* Whether m would be among the best cap of t. m's slug is needed only at a tie with the
 * last kept (deltas have one decimal: ties are common), and is looked up then. */
static int toplist_wants(const struct toplist *t, struct mover *m, struct store_move *sm)
{
	const struct mover *worst;

	if (!t->cap)
		return 0;
	if (t->n < t->cap)
		return 1;
	worst = &t->v[t->n - 1];
	if (m->delta != worst->delta && fabs(m->delta) != fabs(worst->delta))
		return t->better(m, worst);
	store_move_names(sm);
	m->slug = (char *)sm->slug;
	m->title = (char *)sm->title;
	return m->slug && t->better(m, worst);
}

/* Puts a copy of m in its place when it is among the best cap; RC_NOMEM. */
static int toplist_offer(struct toplist *t, struct mover *m, struct store_move *sm)
{
	struct mover c;
	int i;

	if (!toplist_wants(t, m, sm))
		return RC_OK;
	store_move_names(sm);
	if (!sm->slug || !sm->title)
		return RC_OK;
	c = *m;
	c.slug = strdup(sm->slug);
	c.title = strdup(sm->title);
	c.from_label = strdup(m->from_label);
	c.to_label = strdup(m->to_label);
	if (!c.slug || !c.title || !c.from_label || !c.to_label) {
		mover_release(&c);
		return RC_NOMEM;
	}
	if (t->n == t->cap)
		mover_release(&t->v[--t->n]);
	for (i = t->n; i > 0 && t->better(&c, &t->v[i - 1]); i--)
		t->v[i] = t->v[i - 1];
	t->v[i] = c;
	t->n++;
	return RC_OK;
}

struct movers_ctx {
	struct toplist risers, fallers, zones;
	int rc;
};

static void zone_copy(char out[8], const char *zone)
{
	size_t n = zone ? strnlen(zone, 7) : 0;

	memcpy(out, zone ? zone : "", n);
	out[n] = '\0';
}

/* Every move is offered to the lists it belongs to; most are turned away on their delta
 * alone, without looking up their names. */
static int movers_row(void *ctx, struct store_move *sm)
{
	struct movers_ctx *c = ctx;
	struct mover m;

	m.slug = NULL;
	m.title = NULL;
	m.from_label = (char *)sm->from.label;
	m.to_label = (char *)sm->to.label;
	/* Zones are "green", "yellow" or "red": they fit, and are copied without a format. */
	zone_copy(m.from_zone, sm->from.zone);
	zone_copy(m.to_zone, sm->to.zone);
	m.from_score = sm->from.score;
	m.to_score = sm->to.score;
	m.from_rev = sm->from.revision;
	m.to_rev = sm->to.revision;
	m.delta = round1(sm->to.score - sm->from.score);
	if (m.delta > 0)
		c->rc = toplist_offer(&c->risers, &m, sm);
	else if (m.delta < 0)
		c->rc = toplist_offer(&c->fallers, &m, sm);
	if (!c->rc && strcmp(m.from_zone, m.to_zone))
		c->rc = toplist_offer(&c->zones, &m, sm);
	return c->rc;
}

static json_t *mover_json(const struct mover *m)
{
	return json_pack("{s:s, s:s, s:{s:f, s:s, s:s, s:i}, s:{s:f, s:s, s:s, s:i}, s:f}", "slug",
			 m->slug, "title", m->title, "from", "score", m->from_score, "zone",
			 m->from_zone, "label", m->from_label, "revision", m->from_rev, "to", "score",
			 m->to_score, "zone", m->to_zone, "label", m->to_label, "revision",
			 m->to_rev, "delta", m->delta);
}

static json_t *toplist_json(struct toplist *t)
{
	json_t *a = json_array();
	int i;

	for (i = 0; a && i < t->n; i++)
		json_array_append_new(a, mover_json(&t->v[i]));
	return a;
}

static void toplist_release(struct toplist *t)
{
	int i;

	for (i = 0; i < t->n; i++)
		mover_release(&t->v[i]);
	free(t->v);
}

/* A time parameter: RC_OK with *out set (def when absent), or an error added to errs. */
/*
 * A time parameter in Unix milliseconds. Revisions are shown to the second (created_at) and
 * kept to the millisecond: a time given to the second stands for the whole of it (its last
 * millisecond), so that a revision shown at that second is at or before it; a time given
 * with a fraction is exact. A date alone is the start of its day for since and its end for
 * until. *exact says whether to echo it to the millisecond.
 */
static int time_param(struct api_request *rq, const char *name, int is_until, int64_t def,
		      int64_t *out, int *given, int *exact, struct scoring_errors *errs)
{
	const char *v = rq->query(rq->ctx, name);
	size_t n = v ? strlen(v) : 0;

	*given = v != NULL;
	*exact = !v;
	*out = def;
	if (v && clock_parse_iso8601_ms(v, is_until, out)) {
		scoring_errors_add(errs, name, "must be an ISO 8601 date (YYYY-MM-DD) or date-time "
				   "(YYYY-MM-DDTHH:MM:SSZ, or with an offset)");
		return RC_INVALID;
	}
	if (v && n > 10) {
		*exact = strchr(v + 10, '.') || strchr(v + 10, ',');
		if (!*exact)
			*out += 999;
	}
	return RC_OK;
}

/* A time as the answer echoes it: to the millisecond when exact, else to the second. */
static void time_echo(int64_t ms, int exact, char out[CLOCK_ISO_MS_LEN])
{
	if (exact)
		clock_iso_ms(ms, out);
	else
		clock_iso((time_t)((ms - (ms % 1000 + 1000) % 1000) / 1000), out);
}

int api_movers(struct api_request *rq, struct api_response *rs)
{
	struct scoring_errors errs;
	struct movers_ctx c;
	char since_iso[CLOCK_ISO_MS_LEN], until_iso[CLOCK_ISO_MS_LEN];
	/* In milliseconds, as the score history keeps the revisions' times: a write made just
	 * after a `since` taken in the same second is after it. */
	int64_t now = clock_now_ms(), since = 0, until = 0;
	int limit, has_since, has_until, since_exact, until_exact, rc;

	if (api_query_int(rq, rs, "limit", 20, 1, MOVERS_LIMIT_MAX, &limit))
		return API_DONE;
	scoring_errors_init(&errs);
	/* A date alone is the start of its day for since and the end of it for until. */
	if (!time_param(rq, "until", 1, now, &until, &has_until, &until_exact, &errs))
		time_param(rq, "since", 0, until - (int64_t)MOVERS_DEFAULT_DAYS * 86400000, &since,
			   &has_since, &since_exact, &errs);
	else
		time_param(rq, "since", 0, now, &since, &has_since, &since_exact, &errs);
	if (!errs.n && since > until)
		scoring_errors_add(&errs, "since", "must not be after until");
	else if (!errs.n && until - since > (int64_t)MOVERS_MAX_DAYS * 86400000)
		scoring_errors_add(&errs, "since", "must be at most %d days before until",
				   MOVERS_MAX_DAYS);
	if (errs.n) {
		api_problem_errors(rs, &errs);
		return API_DONE;
	}
	memset(&c, 0, sizeof(c));
	c.risers = (struct toplist){ calloc((size_t)limit, sizeof(struct mover)), 0, limit,
				     riser_better };
	c.fallers = (struct toplist){ calloc((size_t)limit, sizeof(struct mover)), 0, limit,
				      faller_better };
	c.zones = (struct toplist){ calloc((size_t)limit, sizeof(struct mover)), 0, limit,
				    zone_better };
	rc = c.risers.v && c.fallers.v && c.zones.v ? RC_OK : RC_NOMEM;
	if (!rc)
		rc = store_movers(rq->api->store, since, until, movers_row, &c);
	if (!rc)
		rc = c.rc;
	if (rc) {
		api_problem_rc(rs, rc, NULL);
	} else {
		time_echo(since, since_exact, since_iso);
		time_echo(until, until_exact, until_iso);
		api_json(rs, 200, json_pack("{s:s, s:s, s:o, s:o, s:o}", "since", since_iso, "until",
					    until_iso, "risers", toplist_json(&c.risers), "fallers",
					    toplist_json(&c.fallers), "zone_changes",
					    toplist_json(&c.zones)));
		/* An answer for "now" (until or since left out) holds only for this second. */
		api_cacheable(rq, rs);
		if (!has_until || !has_since)
			rs->cache_until = now / 1000 + 1;
	}
	toplist_release(&c.risers);
	toplist_release(&c.fallers);
	toplist_release(&c.zones);
	return API_DONE;
}

/* ---------------------------------------------------------------------------------------
 * GET /roles/{slug}/neighbours
 */

static int near_row(void *ctx, const struct store_role *r, double distance)
{
	json_t *item = json_pack("{s:s, s:s, s:f, s:s, s:s, s:s?, s:f}", "slug", r->slug, "title",
				 r->title, "score", r->score, "zone", r->zone, "label", r->label,
				 "category", r->category, "distance", round1(distance));

	return item && !json_array_append_new(ctx, item) ? 0 : RC_NOMEM;
}

/* Sets an ETag from the answer's bytes ("n" and 16 hex digits of their SHA-256) and answers
 * 304 when If-None-Match names it. */
static void etag_of_body(struct api_request *rq, struct api_response *rs)
{
	unsigned char h[CRYPTO_SHA256_LEN];
	char tag[2 + 2 * 8];

	crypto_sha256(rs->body.data ? rs->body.data : "", rs->body.len, h);
	tag[0] = 'n';
	crypto_hex(h, 8, tag + 1);
	api_etag_tag(rq, rs, tag);
}

int api_roles_neighbours(struct api_request *rq, struct api_response *rs)
{
	struct store_role r;
	json_t *items = NULL;
	int limit, rc;

	if (api_query_int(rq, rs, "limit", NEAR_DEFAULT, 1, NEAR_MAX, &limit))
		return API_DONE;
	if (api_role_load(rq, rs, &r))
		return API_DONE;
	items = json_array();
	rc = items ? store_roles_near(rq->api->store, r.slug, limit, near_row, items) : RC_NOMEM;
	if (rc) {
		json_decref(items);
		api_problem_rc(rs, rc, rc == RC_NOTFOUND ? "no role has this slug" : NULL);
	} else {
		/* The answer depends on every role: its tag is made from its bytes. */
		api_json(rs, 200, json_pack("{s:s, s:f, s:o}", "role", r.slug, "score", r.score,
					    "items", items));
		etag_of_body(rq, rs);
		api_cacheable(rq, rs);
	}
	store_role_release(&r);
	return API_DONE;
}

/* ---------------------------------------------------------------------------------------
 * GET /stats
 */

struct cat_stat {
	char *category; /* NULL: roles without one */
	int count;
	double sum;
};

struct stats_ctx {
	int total, zones[3], bins[STATS_BINS];
	double sum;
	double *scores;  /* every score, in ascending order (the list's) */
	size_t n_scores, cap_scores;
	struct cat_stat *cats;
	size_t n_cats, cap_cats;
	int rc;
};

static int same_cat(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* Grows an array of elements of size `size` to hold one more. */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *nv;

	if (n < *cap)
		return RC_OK;
	ncap = *cap ? *cap * 2 : 64;
	nv = realloc(*v, ncap * size);
	if (!nv)
		return RC_NOMEM;
	*v = nv;
	*cap = ncap;
	return RC_OK;
}

static int stats_row(void *ctx, const struct store_role *r)
{
	struct stats_ctx *c = ctx;
	int bin = (int)floor(r->score / 10.0);
	size_t i;

	c->total++;
	c->sum += r->score;
	c->zones[!strcmp(r->zone, "green") ? 0 : !strcmp(r->zone, "yellow") ? 1 : 2]++;
	c->bins[bin < 0 ? 0 : bin >= STATS_BINS ? STATS_BINS - 1 : bin]++;
	if ((c->rc = grow((void **)&c->scores, &c->cap_scores, c->n_scores, sizeof(double))))
		return c->rc;
	c->scores[c->n_scores++] = r->score;
	for (i = 0; i < c->n_cats && !same_cat(c->cats[i].category, r->category); i++)
		;
	if (i == c->n_cats) {
		if ((c->rc = grow((void **)&c->cats, &c->cap_cats, c->n_cats, sizeof(*c->cats))))
			return c->rc;
		c->cats[i].category = r->category ? strdup(r->category) : NULL;
		if (r->category && !c->cats[i].category)
			return c->rc = RC_NOMEM;
		c->cats[i].count = 0;
		c->cats[i].sum = 0;
		c->n_cats++;
	}
	c->cats[i].count++;
	c->cats[i].sum += r->score;
	return RC_OK;
}

/* Most roles first; then by name, roles without a category last. */
static int cmp_cat(const void *a, const void *b)
{
	const struct cat_stat *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (!x->category || !y->category)
		return !x->category - !y->category;
	return strcmp(x->category, y->category);
}

static json_t *stats_json(struct stats_ctx *c)
{
	json_t *hist = json_array(), *cats = json_array(), *mean = json_null(), *median = json_null();
	size_t i, n = c->n_scores;

	if (n) {
		mean = json_real(round2(c->sum / (double)n));
		median = json_real(round2(n % 2 ? c->scores[n / 2]
						 : (c->scores[n / 2 - 1] + c->scores[n / 2]) / 2.0));
	}
	for (i = 0; hist && i < STATS_BINS; i++)
		json_array_append_new(hist, json_pack("{s:i, s:i, s:i}", "from", (int)i * 10, "to",
						      (int)(i + 1) * 10, "count", c->bins[i]));
	if (c->n_cats)
		qsort(c->cats, c->n_cats, sizeof(*c->cats), cmp_cat);
	for (i = 0; cats && i < c->n_cats; i++)
		json_array_append_new(cats, json_pack("{s:s?, s:i, s:f}", "category",
						      c->cats[i].category, "count", c->cats[i].count,
						      "mean", round2(c->cats[i].sum / c->cats[i].count)));
	return json_pack("{s:i, s:{s:i, s:i, s:i}, s:o, s:o, s:o, s:o}", "total", c->total, "zones",
			 "green", c->zones[0], "yellow", c->zones[1], "red", c->zones[2], "mean",
			 mean, "median", median, "histogram", hist, "categories", cats);
}

int api_stats(struct api_request *rq, struct api_response *rs)
{
	struct store_role_query q;
	struct scoring_errors errs;
	struct stats_ctx c;
	char stale_before[CLOCK_DAY_LEN];
	size_t i;
	int total = 0, rc;

	memset(&q, 0, sizeof(q));
	memset(&c, 0, sizeof(c));
	scoring_errors_init(&errs);
	api_role_filters(rq, &q, stale_before, &errs);
	if (errs.n) {
		api_problem_errors(rs, &errs);
		return API_DONE;
	}
	q.sort = STORE_SORT_SCORE; /* ascending: the median is the middle of the list */
	rc = store_roles_list(rq->api->store, &q, stats_row, &c, &total);
	if (!rc)
		rc = c.rc;
	if (rc) {
		api_problem_rc(rs, rc, NULL);
	} else {
		api_json(rs, 200, stats_json(&c));
		api_cacheable(rq, rs);
		/* stale=true|false filters by the day's flags. */
		api_cache_for_today(rs);
	}
	for (i = 0; i < c.n_cats; i++)
		free(c.cats[i].category);
	free(c.cats);
	free(c.scores);
	return API_DONE;
}

/* ---------------------------------------------------------------------------------------
 * POST /roles/{slug}/what-if
 */

/* The what-if answer of a valid patched assessment: its score block, the published result
 * it is compared with, and the difference. */
static json_t *what_if_answer(const struct store_role *r, const struct scoring_result *res,
			      json_t *norm)
{
	json_t *block = assessment_score_block(res, r->slug, r->title, 0, NULL);

	assessment_score_block_set_reason(block, norm);
	return json_pack("{s:o, s:{s:f, s:s, s:s, s:i}, s:f}", "score", block, "published",
			 "score", r->score, "zone", r->zone, "label", r->label, "revision",
			 r->revision, "delta", round1(res->published.score - r->score));
}

int api_what_if_eval(const struct store_role *r, json_t *patch, json_t **answer,
		     struct scoring_errors *errs)
{
	struct scoring_input in;
	struct scoring_result res;
	json_t *role = api_role_loads(r), *patched = NULL, *norm = NULL;
	int rc;

	*answer = NULL;
	patched = role ? mergepatch_apply(json_object_get(role, "assessment"), patch) : NULL;
	if (!patched) {
		rc = role ? RC_NOMEM : RC_IO;
		goto out;
	}
	/* Field paths are those of the patch as sent: "tasks[0].score", "growth.score". */
	rc = assessment_read(patched, "", &in, &norm, errs) ? RC_INVALID : RC_OK;
	if (!rc && scoring_eval(&in, &res))
		rc = RC_INVALID;
	if (!rc) {
		*answer = what_if_answer(r, &res, norm);
		rc = *answer ? RC_OK : RC_NOMEM;
	}
out:
	json_decref(role);
	json_decref(patched);
	json_decref(norm);
	return rc;
}

int api_roles_what_if(struct api_request *rq, struct api_response *rs)
{
	struct store_role r;
	struct scoring_errors errs;
	json_t *body = NULL, *answer = NULL;
	int rc;

	if (api_role_load(rq, rs, &r))
		return API_DONE;
	if (!api_if_match_ok(rq->header(rq->ctx, "If-Match"), r.revision)) {
		api_problem_rc(rs, RC_PRECONDITION, NULL);
		goto out;
	}
	if (api_body_json(rq, rs, &body))
		goto out;
	scoring_errors_init(&errs);
	rc = api_what_if_eval(&r, body, &answer, &errs);
	if (rc == RC_INVALID && errs.n) {
		api_problem_errors(rs, &errs);
	} else if (rc) {
		api_problem_rc(rs, rc, NULL);
	} else {
		api_json(rs, 200, answer);
		api_header(rs, "Cache-Control", "no-store");
	}
out:
	json_decref(body);
	store_role_release(&r);
	return API_DONE;
}
