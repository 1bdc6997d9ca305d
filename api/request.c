/*
 * request.c: what handlers take from the request and the API they run in (request.h): the
 * token check, the deferred-write plumbing and the API's store, engine and settings. A leaf
 * under the handlers, beside reply.c: it calls no handler and knows no route.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "api/reply.h"
#include "api/request.h"
#include "util/crypto.h"

int api_require_token(struct api_request *rq, struct api_response *rs)
{
	const char *h = rq->header(rq->ctx, "Authorization");
	unsigned char hash[CRYPTO_SHA256_LEN];
	char *name = NULL;
	int rc;

	/* Checked already (a write with an Idempotency-Key is checked before its handler). */
	if (rq->actor)
		return RC_OK;
	if (h && !strncasecmp(h, "Bearer ", 7)) {
		h += 7;
		while (*h == ' ')
			h++;
		crypto_sha256(h, strlen(h), hash);
		rc = *h ? store_token_check(rq->api->store, hash, &name) : RC_UNAUTHORIZED;
		if (rc == RC_OK) {
			free(rq->actor);
			rq->actor = name;
			/* Every authenticated use, read or write, accepted or refused later: what
			 * `aijri token list` shows when a token is rotated. */
			store_token_used(rq->api->store, name);
			return RC_OK;
		}
		/* A token that could not be checked is not a bad token: the client should try
		 * again later, not drop it. */
		if (rc != RC_UNAUTHORIZED) {
			api_problem_rc(rs, rc, NULL);
			return rc;
		}
	}
	api_problem(rs, 401, "unauthorized", "Unauthorized",
		    h ? "the bearer token is not valid" : "this request needs Authorization: Bearer TOKEN");
	api_header(rs, "WWW-Authenticate", "Bearer realm=\"aijri\"");
	return RC_UNAUTHORIZED;
}

int64_t api_stale_cutoff(struct api *a)
{
	return api_today() - a->stale_after_days;
}

int api_defer(struct api_request *rq, store_job_fn job, void *arg,
	      void (*finish)(struct api_request *, struct api_response *, int, void *),
	      void (*cleanup)(void *))
{
	struct api_deferred *d = calloc(1, sizeof(*d));

	if (!d) {
		if (cleanup)
			cleanup(arg);
		return RC_NOMEM;
	}
	d->job = job;
	d->arg = arg;
	d->finish = finish;
	d->cleanup = cleanup;
	rq->deferred = d;
	return API_DEFER;
}

uint64_t api_generation(struct api *a)
{
	return atomic_load_explicit(&a->generation, memory_order_acquire);
}

struct store *api_store(struct api *a)
{
	return a->store;
}

int api_allow_private_webhooks(struct api *a)
{
	return a->allow_private_webhooks;
}

struct revise *api_revise(struct api *a)
{
	return a->revise;
}
