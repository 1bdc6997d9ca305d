/*
 * api_int.h: what the files of api/ share and nothing outside includes: the route handlers
 * of roles.c and misc.c, and the state of struct api.
 */
#ifndef API_API_INT_H
#define API_API_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "api/api.h"
#include "body/assessment.h"
#include "util/clock.h"

/*
 * The writer's cache of current roles, parsed. A write reads the role it changes from here when
 * the store's current revision of that role is the one cached, instead of reading ~20 KB of
 * JSON and parsing it again. Entries are put only after a job stored the revision they hold;
 * one whose batch then failed to commit names a revision the store does not have, and so is
 * never matched. Touched only inside store jobs, which all run on the store's writer thread.
 */
#define API_WCACHE_SLOTS 16
#define API_METRICS_SOURCES 4
struct api_wcache_entry {
	char *slug;      /* NULL: a free slot */
	int64_t id;
	int revision;
	json_t *role;    /* the normalized role body (never changed once cached) */
	json_t *block;   /* its score block */
	struct scoring_input in; /* its numbers */
	struct assessment_memo memo; /* the dumps of its members, for the next write's dump */
	double score;
	char zone[8];
	char *label;
};

/* The export of one format, built once per write generation (export.c). */
#define API_EXPORT_FORMATS 2
struct api_export {
	pthread_mutex_t mu;  /* guards the three below; held while a build runs */
	uint64_t gen;        /* the write generation it was built at */
	int fd;              /* an unlinked file holding it, or -1 */
	uint64_t size;
	_Atomic uint64_t builds;
};

struct api {
	struct store *store;
	int stale_after_days;
	struct api_idem_registry *idem; /* the keyed writes in flight (idempotency.c) */
	struct api_wcache_entry wcache[API_WCACHE_SLOTS];
	unsigned wcache_next;
	int allow_private_webhooks;
	void (*webhook_metrics)(void *ctx, struct buf *out);
	void *webhook_metrics_ctx;
	struct {
		void (*fn)(void *ctx, struct buf *out);
		void *ctx;
	} metrics_sources[API_METRICS_SOURCES]; /* set before the server starts, then only read */
	int n_metrics_sources;
	struct api_export exports[API_EXPORT_FORMATS];
	_Atomic uint64_t generation;
	int64_t started_unix;
	char public_url[512];   /* absolute URLs in pages and feeds start with it */
	_Atomic uint64_t page_builds; /* pages, pictures and feeds rendered (views.c), for /metrics */
};

/* roles.c */
int api_roles_list(struct api_request *rq, struct api_response *rs);
int api_roles_create(struct api_request *rq, struct api_response *rs);
int api_roles_get(struct api_request *rq, struct api_response *rs);
int api_roles_replace(struct api_request *rq, struct api_response *rs);
int api_roles_archive(struct api_request *rq, struct api_response *rs);
int api_roles_score(struct api_request *rq, struct api_response *rs);
int api_roles_part_get(struct api_request *rq, struct api_response *rs);
int api_roles_part_put(struct api_request *rq, struct api_response *rs);
int api_roles_evidence_post(struct api_request *rq, struct api_response *rs);
int api_roles_commentary_put(struct api_request *rq, struct api_response *rs);
int api_roles_override_delete(struct api_request *rq, struct api_response *rs);
int api_roles_revisions(struct api_request *rq, struct api_response *rs);
int api_roles_revision(struct api_request *rq, struct api_response *rs);

/* analysis.c */
int api_movers(struct api_request *rq, struct api_response *rs);
int api_stats(struct api_request *rq, struct api_response *rs);
int api_roles_neighbours(struct api_request *rq, struct api_response *rs);
int api_roles_what_if(struct api_request *rq, struct api_response *rs);

/* misc.c */
int api_score(struct api_request *rq, struct api_response *rs);
int api_compare(struct api_request *rq, struct api_response *rs);
int api_methodology(struct api_request *rq, struct api_response *rs);
int api_openapi(struct api_request *rq, struct api_response *rs);
int api_healthz(struct api_request *rq, struct api_response *rs);
int api_metrics(struct api_request *rq, struct api_response *rs);

/* roles.c, for the pages (views.c): */
/* Loads the live role named by the path: 0 with *r filled (store_role_release it), or
 * non-zero with rs filled (404, or 308 to the role of an alias). */
int api_role_load(struct api_request *rq, struct api_response *rs, struct store_role *r);
/* The query of a list (the filters of api_role_filters, sort, limit, offset), checked: 0, or
 * non-zero with rs filled (422 naming the parameter). Its strings point into the request and
 * into stale_before, which the caller keeps while q is used. */
int api_roles_query(struct api_request *rq, struct api_response *rs, struct store_role_query *q,
		    char stale_before[CLOCK_DAY_LEN]);
/* A list item (its stale flag: an oldest as_of before stale_before), a revision summary: new
 * references. */
json_t *api_role_item(const struct store_role *r, const char *stale_before);
json_t *api_revision_summary(const struct store_revision *r);

/* views.c: the pages, pictures and feeds for people (pages/ renders them). */
int api_view_index(struct api_request *rq, struct api_response *rs);
int api_view_role(struct api_request *rq, struct api_response *rs, const struct store_role *r);
int api_view_revision(struct api_request *rq, struct api_response *rs, const struct store_role *r,
		      const struct store_revision *rev);
int api_view_badge(struct api_request *rq, struct api_response *rs);
int api_view_favicon(struct api_request *rq, struct api_response *rs);
int api_view_history(struct api_request *rq, struct api_response *rs);
int api_view_feed(struct api_request *rq, struct api_response *rs);
int api_view_feed_all(struct api_request *rq, struct api_response *rs);
int api_view_what_if(struct api_request *rq, struct api_response *rs);
/* analysis.c: the what-if of a JSON merge patch over r's current assessment (validated and
 * scored as any assessment): RC_OK with *answer (a new reference: score block, published,
 * delta), RC_INVALID with errs naming the fields of the patch, or another rc. */
int api_what_if_eval(const struct store_role *r, json_t *patch, json_t **answer,
		     struct scoring_errors *errs);

/* export.c */
int api_export(struct api_request *rq, struct api_response *rs);
void api_exports_init(struct api *a);
void api_exports_release(struct api *a);
void api_exports_metrics(struct api *a, struct buf *out);

/* roles.c: frees what the entry holds and clears it. */
void api_wcache_entry_release(struct api_wcache_entry *e);

/* api.c: the route table's part names, for the part handlers. */
const char *api_route_part(const struct api_request *rq);
/* The route pattern that method and path (raw, as sent, without the query) match, with its
 * path parameters decoded into params (malloc'd, the caller frees them; NULL: not wanted);
 * NULL when no route does. What the router itself matches with. */
const char *api_route_lookup(const char *method, const char *path, char *params[3]);
/* Appends the Prometheus text of the HTTP metrics. */
void api_metrics_text(struct api *a, struct buf *out);
/* Marks a GET answer as one the server may serve again until the next write. */
void api_cacheable(struct api_request *rq, struct api_response *rs);
/* Sets ETag "r<revision>" and answers 304 (returns 1) when If-None-Match matches. */
int api_etag(struct api_request *rq, struct api_response *rs, int revision);
/* The same for an answer that shows stale flags: "r<revision>-s<mask>" when mask (the stale
 * dimensions) is not 0, so that the tag changes when a flag does. */
int api_etag_stale(struct api_request *rq, struct api_response *rs, int revision, unsigned mask);
/* The same with any tag (unquoted), e.g. one derived from the answer's bytes. */
int api_etag_tag(struct api_request *rq, struct api_response *rs, const char *tag);
/* Checks If-Match against the current revision: 0 if absent or matching. A tag of any
 * variant of the revision ("r3", "r3-s4") matches it. */
int api_if_match_ok(const char *if_match, int revision);

/* Today (UTC) as a day number, and the first day whose as_of is not stale. */
int64_t api_today(void);
int64_t api_stale_cutoff(struct api *a);
/* Marks an answer that depends on the date: cached until the end of the day (UTC). */
void api_cache_for_today(struct api_response *rs);
/* roles.c: the filters of GET /roles (q, zone, min_score, max_score, soc, isco, stale) into
 * q (its strings point into rq and stale_before), every broken parameter added to errs. */
void api_role_filters(struct api_request *rq, struct store_role_query *q, char stale_before[CLOCK_DAY_LEN],
		      struct scoring_errors *errs);
/* roles.c: a stored role's body, as a new value, read as the current version of the body
 * (the codes and as_of of roles stored before those existed filled in). */
json_t *api_role_loads(const struct store_role *r);
/* roles.c: the recency view of r's evidence for read views (*view, a new reference) and its
 * stale mask (bit i: dimension i of the method's order is stale). */
unsigned api_role_recency(struct api *a, const struct store_role *r, json_t **view);

/* idempotency.c (see api.h: Idempotency-Key) */
struct api_idem_registry *api_idem_registry_new(void);
void api_idem_registry_free(struct api_idem_registry *r);
/* Before a keyed write's handler runs: checks the token and the key, answers a replay (200,
 * 201... with Idempotent-Replayed), 409 while the key is in flight, 422 on reuse; returns 1
 * when rs holds that answer, 0 to run the handler. */
int api_idem_begin(struct api_request *rq, struct api_response *rs, const char *key);
/* After the handler deferred its job: wraps it, so that its answer is stored with it. */
void api_idem_wrap(struct api_request *rq);
/* When the request ends. */
void api_idem_end(struct api_request *rq);

#endif
