/*
 * api_int.h: the state of struct api, which the files of api/ share and nothing outside
 * includes, and the parts of it that other files than the router set up: the exports
 * (export.c) and the keyed writes in flight (idempotency.c).
 */
#ifndef API_API_INT_H
#define API_API_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "api/api.h"
#include "revise/revise.h"

#define API_METRICS_SOURCES 4

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
	struct revise *revise;          /* the revision engine, with the writer's cache */
	int stale_after_days;
	struct api_idem_registry *idem; /* the keyed writes in flight (idempotency.c) */
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

/* export.c: the exports' files, and their Prometheus text. */
void api_exports_init(struct api *a);
void api_exports_release(struct api *a);
void api_exports_metrics(struct api *a, struct buf *out);

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

/* The route pattern that method and path (raw, as sent, without the query) match, with its
 * path parameters decoded into params (malloc'd, the caller frees them; NULL: not wanted);
 * NULL when no route does. What the router itself matches with (api.c; for its unit test). */
const char *api_route_lookup(const char *method, const char *path, char *params[3]);

#endif
