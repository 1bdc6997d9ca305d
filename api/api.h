/*
 * api.h: the HTTP API of API.md, independent of the HTTP library. server/http.c turns each
 * libmicrohttpd request into an api_request, calls api_handle(), and sends the api_response.
 * Only api/ knows status codes, JSON shapes and problem+json.
 *
 * Writes never block an HTTP thread: a handler that writes returns API_DEFER after
 * api_defer(); the server suspends the connection, hands the job to the store's writer
 * thread, and when it is durable calls api_finish() to build the response.
 */
#ifndef API_API_H
#define API_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "scoring/scoring.h"
#include "store/store.h"
#include "util/buf.h"

#define API_MAX_BODY (1024 * 1024)   /* bodies over 1 MiB are 413 */
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

/* Loads a role body (the embedded default data) into the store as revision 1. */
int api_seed(struct api *a, const char *json_text);

/*
 * `aijri import`: validates every role body of roles[0..n) as POST /roles does (slug
 * required, unknown fields rejected), then creates them all as revision 1 in one store job:
 * all or nothing. On failure returns the rc (RC_INVALID for a bad body, RC_CONFLICT for a
 * slug or alias taken, by the database or by an earlier record), sets *bad_index to the first
 * record that failed and lists its errors in errs; nothing is written.
 */
/* The validation alone of api_import_roles (RC_INVALID and *bad_index and errs as there);
 * writes nothing and needs no store. */
int api_import_check(json_t *const *roles, size_t n, size_t *bad_index,
		     struct scoring_errors *errs);
int api_import_roles(struct store *s, json_t *const *roles, size_t n, size_t *bad_index,
		     struct scoring_errors *errs);

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

/* ---------------------------------------------------------------------------------------
 * For the handlers in api/
 */

struct store *api_store(struct api *a);
int api_allow_private_webhooks(struct api *a);

/* Sets a response header (copied). */
void api_header(struct api_response *rs, const char *name, const char *value);
/* status and a JSON body; steals the reference to v. */
void api_json(struct api_response *rs, int status, json_t *v);
/* A problem+json body: type is a short slug ("validation-error"), detail may be NULL. */
void api_problem(struct api_response *rs, int status, const char *type, const char *title,
		 const char *detail);
/* The same naming one field at fault in "errors". */
void api_problem_field(struct api_response *rs, int status, const char *type, const char *title,
		       const char *detail, const char *field, const char *message);
/* 422 with every error of errs listed under "errors". */
void api_problem_errors(struct api_response *rs, const struct scoring_errors *errs);
/* The problem for an rc (404, 409, 412, 500, ...). */
void api_problem_rc(struct api_response *rs, int rc, const char *detail);
/* The same, naming the field at fault in "errors" (field NULL: none named). */
void api_problem_rc_field(struct api_response *rs, int rc, const char *detail, const char *field,
			  const char *message);

/* Checks "Authorization: Bearer TOKEN"; on success sets rq->actor and returns 0, else fills
 * rs with 401 and returns RC_UNAUTHORIZED. */
int api_require_token(struct api_request *rq, struct api_response *rs);
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
int api_defer(struct api_request *rq, store_job_fn job, void *arg,
	      void (*finish)(struct api_request *, struct api_response *, int, void *),
	      void (*cleanup)(void *));

/* Handler signature. */
typedef int (*api_handler_fn)(struct api_request *rq, struct api_response *rs);

#endif
