/*
 * api.h: the HTTP API of API.md, independent of the HTTP library. server/http.c turns each
 * libmicrohttpd request into an api_request, calls api_handle(), and sends the api_response.
 * Only api/ knows status codes, JSON shapes and problem+json.
 *
 * Writes never block an HTTP thread: a handler that writes returns API_DEFER after
 * api_defer() (request.h); the server suspends the connection, hands the job to the store's writer
 * thread, and when it is durable calls api_finish() to build the response.
 */
#ifndef API_API_H
#define API_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "body/assessment.h"
#include "scoring/scoring.h"
#include "store/store.h"
#include "util/buf.h"

#define API_MAX_BODY ASSESSMENT_BODY_MAX /* bodies over 1 MiB are 413 */
#define API_MAX_RESPONSE (256u << 20)
#define API_MAX_HEADERS 12

struct api;

struct api_options {
	struct store *store;
	int allow_private_webhooks;
	int stale_after_days;  /* an evidence dimension older than this is stale (default 180) */
	/* Appends Prometheus text of the webhook dispatcher (may be NULL). */
	void (*webhook_metrics)(void *ctx, struct buf *out);
	void *webhook_metrics_ctx;
	/* The public base URL ("https://aijri.example.org", no trailing slash): absolute URLs in
	 * pages and feeds start with it, never with a request's Host header. */
	const char *public_url;
};

/* Returns NULL when out of memory. The store must outlive it. */
struct api *api_new(const struct api_options *o);
void api_free(struct api *a);

struct api_request {
	struct api *api;
	const char *method;   /* "GET", "HEAD", "POST", ... */
	const char *path;     /* without the query string, as the client sent it (still
			       * percent-encoded: the router decodes each segment on its own) */
	const char *query_string; /* "?a=1&b=2" re-encoded, or "" */
	const char *body;     /* NULL when none */
	size_t body_len;
	int body_too_large;   /* set by the server when the body passed API_MAX_BODY */
	/* Look-ups into the request: header by name (case-insensitive), query argument by name
	 * (decoded). NULL when absent. */
	const char *(*header)(void *ctx, const char *name);
	const char *(*query)(void *ctx, const char *name);
	void *ctx;
	/* Set by the router. */
	const char *route;    /* the route pattern, for metrics: "/roles/{slug}/score" */
	const char *part;     /* a part route's assessment part ("tasks", ...), else NULL */
	const char *const *query_names; /* the query parameters the route declares (NULL-ended) */
	char *params[3];      /* path parameters in order ({slug}, {n}, {id}, ...), decoded */
	char *actor;          /* the token's name once api_require_token() passed */
	int64_t started_us;
	/* Set by api_defer(). */
	struct api_deferred *deferred;
	/* The router's, while a handler runs: the server's accessors behind header and query,
	 * and whether the handler read a query parameter its route does not declare. */
	const char *(*server_header)(void *ctx, const char *name);
	const char *(*server_query)(void *ctx, const char *name);
	void *server_ctx;
	int query_undeclared;
	/* Set when a write carries an Idempotency-Key (idempotency.c). */
	struct api_idem *idem;
};

struct api_header {
	char name[40];
	char *value;
};

struct api_response {
	int status;
	const char *content_type;  /* static string */
	struct buf body;
	int n_headers;
	struct api_header headers[API_MAX_HEADERS];
	/* A GET answer the server may keep and serve again, as it is, until the next write.
	 * cache_gen is the write generation the answer was built at. */
	int cacheable;
	uint64_t cache_gen;
	/* A body in a file instead of `body` (large answers: exports): the server sends bytes
	 * [0, body_fd_size) of body_fd and takes the descriptor over (it sets body_fd to -1);
	 * api_response_release closes one left behind. -1: none. */
	int body_fd;
	uint64_t body_fd_size;
	/* Unix seconds after which a cacheable answer must not be served again even without a
	 * write (an answer that depends on the date, such as stale flags); 0: no such time. */
	int64_t cache_until;
};

void api_response_init(struct api_response *rs);
void api_response_release(struct api_response *rs);

enum { API_DONE = 0, API_DEFER = 1 };

/*
 * The response cache key of a request: 0 with key filled when its answer may be kept and
 * served again (a GET or HEAD of a cacheable route), non-zero otherwise. The key is the
 * normalised request: the representation asked for, then the route with its path parameters
 * decoded and encoded again, then the query parameters the route declares, in their declared
 * order ("json /roles?q=edge&limit=10"). Parameters the route does not read are not part of
 * it, so that they cannot make entries of their own.
 */
int api_cache_key(struct api_request *rq, struct buf *key);

/* Handles one request: API_DONE with rs filled, or API_DEFER (see above). */
int api_handle(struct api_request *rq, struct api_response *rs);
/* For a deferred request: the job, for the server to pass to store_write_async(). */
store_job_fn api_deferred_job(struct api_request *rq, void **arg);
/* For a deferred request, after the job completed with rc: fills rs. */
void api_finish(struct api_request *rq, int rc, struct api_response *rs);
/* Frees what the router and handlers attached to rq (params, actor, deferred state). */
void api_request_release(struct api_request *rq);

/*
 * Content negotiation: the representation an Accept header prefers among those a role's URL
 * serves. API_REPR_HTML when text/html gets a higher quality than application/json (as in a
 * browser's "text/html,...;q=0.9" with its wildcard at q=0.8), else API_REPR_JSON, the default
 * (no Accept, the wildcard alone, a tie). The server keys its response cache by it, so each
 * representation is cached apart.
 */
enum api_repr { API_REPR_JSON = 0, API_REPR_HTML = 1 };
enum api_repr api_accept(const char *accept);

/* The write generation: bumped after every commit that changed something. */
uint64_t api_generation(struct api *a);

/* Adds a source of Prometheus text to /metrics (the server's cache and connections). Call
 * before the server starts; at most 4. */
void api_metrics_source(struct api *a, void (*fn)(void *ctx, struct buf *out), void *ctx);

/* Records a finished request for /metrics. */
void api_metrics_observe(struct api *a, const char *method, const char *route, int status,
			 int64_t duration_us);

/* The store the API serves. */
struct store *api_store(struct api *a);

/* Sets a response header (copied). */
void api_header(struct api_response *rs, const char *name, const char *value);
/* A problem+json body: type is a short slug ("validation-error"), detail may be NULL. */
void api_problem(struct api_response *rs, int status, const char *type, const char *title,
		 const char *detail);

#endif
