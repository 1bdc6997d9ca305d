/*
 * role_read.h: loading a role for the handlers that read one (role_read.c): the role named by
 * the path (an alias answers 308, an archived or unknown slug 404), its body as the current
 * version of the body, its evidence's recency, the query of a list, and the JSON of a list
 * item and of a revision summary. A leaf under the handlers (roles.c, views.c, analysis.c,
 * export.c, role_writes.c): it calls no handler.
 */
#ifndef API_ROLE_READ_H
#define API_ROLE_READ_H

#include <jansson.h>

#include "api/api.h"
#include "scoring/scoring.h"
#include "store/store.h"
#include "util/clock.h"

/* Loads the live role named by the path: 0 with *r filled (store_role_release it), or
 * non-zero with rs filled (404, or 308 to the role of an alias). */
int api_role_load(struct api_request *rq, struct api_response *rs, struct store_role *r);
/* api_role_load for the history: an archived role's revisions stay readable (the last one
 * says who archived it and when), while its other reads answer 404. */
int api_role_load_history(struct api_request *rq, struct api_response *rs, struct store_role *r);
/* The slug the path names ("" when none). */
const char *api_role_slug(struct api_request *rq);

/* A stored role's body, as a new value, read as the current version of the body (the codes
 * and as_of of roles stored before those existed filled in). */
json_t *api_role_loads(const struct store_role *r);
/* The recency view of r's evidence for read views (*view, a new reference) and its stale mask
 * (bit i: dimension i of the method's order is stale). */
unsigned api_role_recency(struct api *a, const struct store_role *r, json_t **view);
/* Shows each evidence dimension's stale flag of the day (recency: api_role_recency's view) in
 * the dimension itself, for the evidence read; evidence is the read's own copy. The role read
 * keeps its body as it can be sent back (the flags beside it, in "recency"). The flag is
 * read-only: a dimension sent back with it is accepted and the flag ignored. */
void api_evidence_stale(json_t *evidence, json_t *recency);
/* The representation of GET /roles/{slug}: the role body (r's, or role_json as written when r
 * is NULL), its score block, revision and times. A new reference, NULL when unreadable. */
json_t *api_role_repr(const struct store_role *r, const char *role_json, const char *score_json,
		      int revision, const char *created_at, const char *updated_at);

/* The filters of GET /roles (q, zone, min_score, max_score, soc, isco, stale) into q (its
 * strings point into rq and stale_before), every broken parameter added to errs. */
void api_role_filters(struct api_request *rq, struct store_role_query *q,
		      char stale_before[CLOCK_DAY_LEN], struct scoring_errors *errs);
/* The query of a list (the filters, sort, limit, offset), checked: 0, or non-zero with rs
 * filled (422 naming the parameter). Its strings point into the request and into
 * stale_before, which the caller keeps while q is used. */
int api_roles_query(struct api_request *rq, struct api_response *rs, struct store_role_query *q,
		    char stale_before[CLOCK_DAY_LEN]);
/* A list item (its stale flag: an oldest as_of before stale_before), a revision summary: new
 * references. */
json_t *api_role_item(const struct store_role *r, const char *stale_before);
json_t *api_revision_summary(const struct store_revision *r);

#endif
