/*
 * request.h: what a handler takes from the request it serves and from the API it runs in
 * (request.c): the token check, the deferred-write plumbing, and the API's store, engine and
 * settings. A leaf under the handlers: it knows no route and no handler.
 */
#ifndef API_REQUEST_H
#define API_REQUEST_H

#include <stdint.h>

#include "api/api.h"
#include "revise/revise.h"
#include "store/store.h"

/* Handler signature: API_DONE with rs filled, or API_DEFER after api_defer(). */
typedef int (*api_handler_fn)(struct api_request *rq, struct api_response *rs);

/* Checks "Authorization: Bearer TOKEN"; on success sets rq->actor and returns 0, else fills
 * rs with 401 and returns RC_UNAUTHORIZED. */
int api_require_token(struct api_request *rq, struct api_response *rs);

/* The deferred-write plumbing: the job runs on the writer thread; finish() runs on the HTTP
 * thread afterwards and fills the response; cleanup(arg) frees arg (may be NULL).
 * For a write with an Idempotency-Key, finish() runs on the writer thread inside the job
 * instead, after the job's work and before its commit (the answer is stored with the write):
 * it must build the answer from what the job left in arg, never read the store. */
struct api_deferred {
	store_job_fn job;
	void *arg;
	void (*finish)(struct api_request *rq, struct api_response *rs, int rc, void *arg);
	void (*cleanup)(void *arg);
};
/* Returns API_DEFER, or RC_NOMEM (arg cleaned up). */
int api_defer(struct api_request *rq, store_job_fn job, void *arg,
	      void (*finish)(struct api_request *, struct api_response *, int, void *),
	      void (*cleanup)(void *));

/* The revision engine every role write goes through (its cache is the writer's). */
struct revise *api_revise(struct api *a);
int api_allow_private_webhooks(struct api *a);
/* The first day whose evidence as_of is not stale, as a day number (api_today() minus the
 * stale-after days). */
int64_t api_stale_cutoff(struct api *a);

#endif
