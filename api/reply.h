/*
 * reply.h: the conventions every endpoint's answer shares (reply.c), for the handlers of api/:
 * JSON bodies and problems (one rc to one status), request bodies and query parameters, pages
 * of lists with their links, ETags and If-Match, caching until the next write or the end of
 * the day. api_header and api_problem, which the server uses too, are in api.h. A leaf: it
 * knows no route, no handler and no store.
 */
#ifndef API_REPLY_H
#define API_REPLY_H

#include <stdint.h>

#include <jansson.h>

#include "api/api.h"
#include "scoring/scoring.h"

/* status and a JSON body; steals the reference to v. */
void api_json(struct api_response *rs, int status, json_t *v);
/* A problem naming one field at fault in "errors". */
void api_problem_field(struct api_response *rs, int status, const char *type, const char *title,
		       const char *detail, const char *field, const char *message);
/* 422 with every error of errs listed under "errors". */
void api_problem_errors(struct api_response *rs, const struct scoring_errors *errs);
/* The problem for an rc (404, 409, 412, 500, ...). */
void api_problem_rc(struct api_response *rs, int rc, const char *detail);
/* The same, naming the field at fault in "errors" (field NULL: none named). */
void api_problem_rc_field(struct api_response *rs, int rc, const char *detail, const char *field,
			  const char *message);

/* Parses the body as a JSON object: 400 with line and column when malformed, 413 when too
 * large, 415 if Content-Type is given and is not JSON. Returns 0 and a new reference. */
int api_body_json(struct api_request *rq, struct api_response *rs, json_t **out);
/* Reads query argument name as an integer in [min, max] (default when absent); 422 naming
 * the parameter otherwise. */
int api_query_int(struct api_request *rq, struct api_response *rs, const char *name, int def,
		  int min, int max, int *out);
/* limit (default 20, max 200) and offset (default 0). */
int api_page(struct api_request *rq, struct api_response *rs, int *limit, int *offset);
/* The list envelope {"items","total","limit","offset","links":{"next","prev"}}; steals items.
 * Links keep the request's other query arguments; rs gets them as a Link header too. */
json_t *api_list(struct api_request *rq, struct api_response *rs, json_t *items, int total,
		 int limit, int offset);

/* Marks a GET answer as one the server may serve again until the next write. */
void api_cacheable(struct api_request *rq, struct api_response *rs);
/* Sets ETag "r<revision>" and answers 304 (returns 1) when If-None-Match matches. */
int api_etag(struct api_request *rq, struct api_response *rs, int revision);
/* The same for an answer that shows stale flags: "r<revision>-s<mask>" when mask (the stale
 * dimensions) is not 0, so that the tag changes when a flag does. */
int api_etag_stale(struct api_request *rq, struct api_response *rs, int revision, unsigned mask);
/* The same with any tag (unquoted), e.g. one derived from the answer's bytes. */
int api_etag_tag(struct api_request *rq, struct api_response *rs, const char *tag);
/* Checks If-Match against the current revision: non-zero if absent or matching. A tag of any
 * variant of the revision ("r3", "r3-s4") matches it. */
int api_if_match_ok(const char *if_match, int revision);

/* Today (UTC) as a day number. */
int64_t api_today(void);
/* Marks an answer that depends on the date: cached until the end of the day (UTC). */
void api_cache_for_today(struct api_response *rs);

#endif
