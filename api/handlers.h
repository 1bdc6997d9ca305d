/*
 * handlers.h: the handlers of api/ that the router's table names (the webhooks' are in
 * webhooks.h), and what one handler file takes from another: the pages of views.c for a role's
 * URL when a browser asks, and the what-if of analysis.c for the personal-score page. Each
 * handler follows api_handler_fn (request.h). Handler files call down (reply.c, request.c,
 * role_read.c, body/, revise/, the store), never up into the router.
 */
#ifndef API_HANDLERS_H
#define API_HANDLERS_H

#include <jansson.h>

#include "api/api.h"
#include "scoring/scoring.h"
#include "store/store.h"

/* roles.c: the reads of a role */
int api_roles_list(struct api_request *rq, struct api_response *rs);
int api_roles_get(struct api_request *rq, struct api_response *rs);
int api_roles_score(struct api_request *rq, struct api_response *rs);
int api_roles_part_get(struct api_request *rq, struct api_response *rs);
int api_roles_revisions(struct api_request *rq, struct api_response *rs);
int api_roles_revision(struct api_request *rq, struct api_response *rs);

/* role_writes.c: the writes of a role, through the revision engine */
int api_roles_create(struct api_request *rq, struct api_response *rs);
int api_roles_replace(struct api_request *rq, struct api_response *rs);
int api_roles_archive(struct api_request *rq, struct api_response *rs);
int api_roles_part_put(struct api_request *rq, struct api_response *rs);
int api_roles_evidence_post(struct api_request *rq, struct api_response *rs);
int api_roles_commentary_put(struct api_request *rq, struct api_response *rs);
int api_roles_override_delete(struct api_request *rq, struct api_response *rs);

/* analysis.c */
int api_movers(struct api_request *rq, struct api_response *rs);
int api_stats(struct api_request *rq, struct api_response *rs);
int api_roles_neighbours(struct api_request *rq, struct api_response *rs);
int api_roles_what_if(struct api_request *rq, struct api_response *rs);
/* The what-if of a JSON merge patch over r's current assessment (validated and scored as any
 * assessment): RC_OK with *answer (a new reference: score block, published, delta),
 * RC_INVALID with errs naming the fields of the patch, or another rc. */
int api_what_if_eval(const struct store_role *r, json_t *patch, json_t **answer,
		     struct scoring_errors *errs);

/* misc.c */
int api_score(struct api_request *rq, struct api_response *rs);
int api_compare(struct api_request *rq, struct api_response *rs);
int api_methodology(struct api_request *rq, struct api_response *rs);
int api_openapi(struct api_request *rq, struct api_response *rs);
int api_healthz(struct api_request *rq, struct api_response *rs);

/* export.c */
int api_export(struct api_request *rq, struct api_response *rs);

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

#endif
