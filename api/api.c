/*
 * api.c: the router, on top of the handlers: the route table, path and query matching, the
 * response cache's key, CORS and OPTIONS, the dispatch of a request to its handler (with the
 * Idempotency-Key check of writes, idempotency.c), the deferred writes' hand-over to the
 * server, the API's lifecycle, and the HTTP metrics with their /metrics endpoint. It is no
 * helper library: handlers take the answers' conventions from reply.c and what they need of
 * the request and the API from request.c, and call nothing here. Nothing here knows the HTTP
 * library: server/http.c adapts it.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api_int.h"
#include "api/handlers.h"
#include "api/reply.h"
#include "api/request.h"
#include "api/webhooks.h"
#include "util/url.h"

/* ---------------------------------------------------------------------------------------
 * Routes
 */

static int api_metrics(struct api_request *rq, struct api_response *rs);

struct route {
	const char *method;
	const char *pattern; /* segments; "{x}" is a parameter */
	api_handler_fn fn;
	const char *part;    /* for part handlers: the assessment part */
	int cacheable;       /* a GET whose answer depends only on the stored data */
};

static const struct route routes[] = {
	{ "GET", "/", api_view_index, NULL, 1 },
	{ "GET", "/feed.atom", api_view_feed_all, NULL, 1 },
	{ "GET", "/favicon.svg", api_view_favicon, NULL, 1 },
	{ "GET", "/roles", api_roles_list, NULL, 1 },
	{ "POST", "/roles", api_roles_create, NULL, 0 },
	{ "GET", "/roles/{slug}", api_roles_get, NULL, 1 },
	{ "PUT", "/roles/{slug}", api_roles_replace, NULL, 0 },
	{ "DELETE", "/roles/{slug}", api_roles_archive, NULL, 0 },
	{ "GET", "/roles/{slug}/score", api_roles_score, NULL, 1 },
	{ "GET", "/roles/{slug}/tasks", api_roles_part_get, "tasks", 1 },
	{ "PUT", "/roles/{slug}/tasks", api_roles_part_put, "tasks", 0 },
	{ "GET", "/roles/{slug}/evidence", api_roles_part_get, "evidence", 1 },
	{ "POST", "/roles/{slug}/evidence", api_roles_evidence_post, "evidence", 0 },
	{ "GET", "/roles/{slug}/barriers", api_roles_part_get, "barriers", 1 },
	{ "PUT", "/roles/{slug}/barriers", api_roles_part_put, "barriers", 0 },
	{ "GET", "/roles/{slug}/protective", api_roles_part_get, "protective", 1 },
	{ "PUT", "/roles/{slug}/protective", api_roles_part_put, "protective", 0 },
	{ "GET", "/roles/{slug}/growth", api_roles_part_get, "growth", 1 },
	{ "PUT", "/roles/{slug}/growth", api_roles_part_put, "growth", 0 },
	{ "GET", "/roles/{slug}/override", api_roles_part_get, "override", 1 },
	{ "PUT", "/roles/{slug}/override", api_roles_part_put, "override", 0 },
	{ "DELETE", "/roles/{slug}/override", api_roles_override_delete, "override", 0 },
	{ "GET", "/roles/{slug}/commentary", api_roles_part_get, "commentary", 1 },
	{ "PUT", "/roles/{slug}/commentary", api_roles_commentary_put, "commentary", 0 },
	{ "GET", "/roles/{slug}/revisions", api_roles_revisions, NULL, 1 },
	{ "GET", "/roles/{slug}/revisions/{n}", api_roles_revision, NULL, 1 },
	{ "GET", "/roles/{slug}/badge.svg", api_view_badge, NULL, 1 },
	{ "GET", "/roles/{slug}/history.svg", api_view_history, NULL, 1 },
	{ "GET", "/roles/{slug}/feed.atom", api_view_feed, NULL, 1 },
	{ "GET", "/roles/{slug}/neighbours", api_roles_neighbours, NULL, 1 },
	{ "GET", "/roles/{slug}/what-if", api_view_what_if, NULL, 0 },
	{ "POST", "/roles/{slug}/what-if", api_roles_what_if, NULL, 0 },
	{ "GET", "/movers", api_movers, NULL, 1 },
	{ "GET", "/stats", api_stats, NULL, 1 },
	{ "POST", "/score", api_score, NULL, 0 },
	{ "GET", "/compare", api_compare, NULL, 1 },
	{ "GET", "/export", api_export, NULL, 1 },
	{ "GET", "/methodology", api_methodology, NULL, 1 },
	{ "GET", "/openapi.json", api_openapi, NULL, 1 },
	{ "GET", "/healthz", api_healthz, NULL, 0 },
	{ "GET", "/metrics", api_metrics, NULL, 0 },
	{ "POST", "/webhooks", api_webhooks_create, NULL, 0 },
	{ "GET", "/webhooks", api_webhooks_list, NULL, 0 },
	{ "GET", "/webhooks/{id}", api_webhooks_get, NULL, 0 },
	{ "PATCH", "/webhooks/{id}", api_webhooks_update, NULL, 0 },
	{ "DELETE", "/webhooks/{id}", api_webhooks_delete, NULL, 0 },
	{ "GET", "/webhooks/{id}/deliveries", api_webhooks_deliveries, NULL, 0 },
	{ "POST", "/webhooks/{id}/deliveries/{delivery_id}/redeliver", api_webhooks_redeliver, NULL, 0 },
	{ "POST", "/webhooks/{id}/ping", api_webhooks_ping, NULL, 0 },
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* Requests that matched no route are counted under this name. */
static const char route_unmatched[] = "(unmatched)";

/*
 * Percent-decodes the path segment [s, e) into a new string. A segment is decoded on its own,
 * after the path was split at its slashes, so that "%2F" is a slash inside a segment and
 * never a separator (/roles/x%2Fscore names the role "x/score"). NULL when the segment holds
 * "%00" (no path of the API has a NUL in it) or when out of memory.
 */
static char *segment_decode(const char *s, const char *e)
{
	char *out = malloc((size_t)(e - s) + 1), *w = out;

	if (!out)
		return NULL;
	while (s < e) {
		int c = url_pct_byte(s, (size_t)(e - s));

		if (c == 0) {
			free(out);
			return NULL;
		}
		if (c > 0) {
			*w++ = (char)c;
			s += 3;
			continue;
		}
		*w++ = *s++;
	}
	*w = '\0';
	return out;
}

/* Whether the raw segment [q, qe) decodes to the literal [p, pe): compared as it decodes,
 * without a copy (the router runs this for every route a request is tried against). */
static int segment_is(const char *q, const char *qe, const char *p, const char *pe)
{
	while (q < qe && p < pe) {
		int b = url_pct_byte(q, (size_t)(qe - q));
		char c = b >= 0 ? (char)b : *q;

		q += b >= 0 ? 3 : 1;
		if (c != *p++)
			return 0;
	}
	return q == qe && p == pe;
}

/* Matches the raw path (as the client sent it, without the query) against pattern; on
 * success fills params (decoded, malloc'd; NULL: only the match is wanted) and returns 1.
 * The parameters are decoded once the whole path matched, so that a route that does not
 * costs no allocation. */
static int route_match(const char *pattern, const char *path, char *params[3])
{
	const char *p = pattern, *q = path, *seg[3], *end[3];
	int np = 0, i;

	while (*p && *q) {
		const char *pe, *qe;

		if (*p != '/' || *q != '/')
			return 0;
		p++;
		q++;
		pe = strchr(p, '/');
		if (!pe)
			pe = p + strlen(p);
		qe = strchr(q, '/');
		if (!qe)
			qe = q + strlen(q);
		if (*p == '{') {
			if (qe == q || np >= 3)
				return 0;
			seg[np] = q;
			end[np++] = qe;
		} else if (!segment_is(q, qe, p, pe)) {
			return 0;
		}
		p = pe;
		q = qe;
	}
	if (*p || *q)
		return 0;
	for (i = 0; i < np; i++) {
		char *v = segment_decode(seg[i], end[i]);

		/* %00, or a segment of nothing but it: no path of the API */
		if (!v || !*v) {
			free(v);
			goto no;
		}
		if (params)
			params[i] = v;
		else
			free(v);
	}
	return 1;
no:
	while (params && i-- > 0) {
		free(params[i]);
		params[i] = NULL;
	}
	return 0;
}

/*
 * The query parameters each cacheable GET route reads, in the order they make up its cache
 * key (api_cache_key) and its pagination links. A route not listed reads none. A handler that
 * reads a parameter its route does not declare gets the value, but its answer is then never
 * cached (see guard_query): a forgotten entry costs speed, never a wrong answer.
 */
#define LIST_FILTERS "q", "zone", "min_score", "max_score", "soc", "isco", "stale"
static const struct {
	const char *pattern;
	const char *const names[12];
} route_queries[] = {
	{ "/roles", { LIST_FILTERS, "sort", "limit", "offset", NULL } },
	{ "/", { LIST_FILTERS, "sort", "limit", "offset", NULL } },
	{ "/stats", { LIST_FILTERS, NULL } },
	{ "/roles/{slug}/revisions", { "limit", "offset", NULL } },
	{ "/roles/{slug}/neighbours", { "limit", NULL } },
	{ "/movers", { "since", "until", "limit", NULL } },
	{ "/compare", { "roles", NULL } },
	{ "/export", { "format", NULL } },
};

static const char *const *route_query_names(const char *pattern)
{
	static const char *const none[] = { NULL };
	size_t i;

	for (i = 0; i < sizeof(route_queries) / sizeof(route_queries[0]); i++)
		if (!strcmp(route_queries[i].pattern, pattern))
			return route_queries[i].names;
	return none;
}

/* ---------------------------------------------------------------------------------------
 * Lifecycle
 */

static void on_commit(void *ctx)
{
	struct api *a = ctx;

	atomic_fetch_add_explicit(&a->generation, 1, memory_order_release);
}

struct api *api_new(const struct api_options *o)
{
	struct api *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->store = o->store;
	a->stale_after_days = o->stale_after_days > 0 ? o->stale_after_days : 180;
	a->idem = api_idem_registry_new();
	if (!a->idem) {
		free(a);
		return NULL;
	}
	a->allow_private_webhooks = o->allow_private_webhooks;
	a->webhook_metrics = o->webhook_metrics;
	a->webhook_metrics_ctx = o->webhook_metrics_ctx;
	atomic_init(&a->generation, 1);
	atomic_init(&a->page_builds, 0);
	a->started_unix = (int64_t)time(NULL);
	snprintf(a->public_url, sizeof(a->public_url), "%s",
		 o->public_url ? o->public_url : "http://localhost:8080");
	a->revise = revise_new(a->store);
	if (!a->revise) {
		api_idem_registry_free(a->idem);
		free(a);
		return NULL;
	}
	api_exports_init(a);
	store_on_commit(a->store, on_commit, a);
	return a;
}

void api_free(struct api *a)
{
	if (!a)
		return;
	store_on_commit(a->store, NULL, NULL);
	/* Its cache is released by a job: once that has run, no job queued before it, which
	 * might hold a, is left. */
	revise_free(a->revise);
	api_exports_release(a);
	api_idem_registry_free(a->idem);
	free(a);
}

/* ---------------------------------------------------------------------------------------
 * Deferred writes
 */

store_job_fn api_deferred_job(struct api_request *rq, void **arg)
{
	*arg = rq->deferred ? rq->deferred->arg : NULL;
	return rq->deferred ? rq->deferred->job : NULL;
}

void api_finish(struct api_request *rq, int rc, struct api_response *rs)
{
	struct api_deferred *d = rq->deferred;

	if (!d) {
		api_problem_rc(rs, RC_IO, NULL);
		return;
	}
	d->finish(rq, rs, rc, d->arg);
	api_header(rs, "Access-Control-Allow-Origin", "*");
	api_header(rs, "Cache-Control", "no-store");
}

void api_request_release(struct api_request *rq)
{
	int i;

	for (i = 0; i < 3; i++) {
		free(rq->params[i]);
		rq->params[i] = NULL;
	}
	free(rq->actor);
	rq->actor = NULL;
	if (rq->deferred) {
		if (rq->deferred->cleanup)
			rq->deferred->cleanup(rq->deferred->arg);
		free(rq->deferred);
		rq->deferred = NULL;
	}
	api_idem_end(rq);
}

/* ---------------------------------------------------------------------------------------
 * Dispatch
 */

static void allow_list(const char *path, struct buf *allow)
{
	size_t i;
	int get = 0;

	for (i = 0; i < N_ROUTES; i++) {
		if (!route_match(routes[i].pattern, path, NULL))
			continue;
		if (allow->len)
			buf_puts(allow, ", ");
		buf_puts(allow, routes[i].method);
		if (!strcmp(routes[i].method, "GET")) {
			get = 1;
			buf_puts(allow, ", HEAD");
		}
	}
	(void)get;
	if (allow->len)
		buf_puts(allow, ", OPTIONS");
}

/* Which representation of a resource a request asks for: one component of its cache key, so
 * that the HTML and JSON answers of one URL are two cache entries. The Accept header decides
 * it (api_accept); routes that answer one representation only ignore it, but keying them by it
 * too costs at most one more entry and never a wrong answer. */
static const char *representation(struct api_request *rq)
{
	return api_accept(rq->header(rq->ctx, "Accept")) == API_REPR_HTML ? "html" : "json";
}

/* Appends s percent-encoded, leaving only unreserved characters as they are. Non-zero when
 * the buffer's bound was reached. */
static int key_encode(struct buf *b, const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~");
	int rc;

	/* Most values are made of those alone: one copy. */
	rc = buf_add(b, s, n);
	for (s += n; *s && !rc; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c))
			rc = buf_addc(b, (char)c);
		else
			rc = buf_addf(b, "%%%02X", c);
	}
	return rc;
}

int api_cache_key(struct api_request *rq, struct buf *key)
{
	char *params[3] = { NULL, NULL, NULL };
	const char *const *names;
	const char *p, *v;
	size_t i;
	int np = 0, sep = '?', rc = -1, err = 0;

	if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
		return -1;
	for (i = 0; i < N_ROUTES; i++)
		if (!strcmp(routes[i].method, "GET") && route_match(routes[i].pattern, rq->path, params))
			break;
	if (i == N_ROUTES || !routes[i].cacheable)
		goto out;
	/* Any add that fails (a key past the buffer's bound) makes the request uncacheable: a
	 * key cut short could name another request's answer. */
	err |= buf_adds(key, representation(rq));
	err |= buf_addc(key, ' ');
	/* The route's pattern with its parameters, decoded then encoded again: one spelling. */
	for (p = routes[i].pattern; *p; p++) {
		if (*p == '{') {
			err |= key_encode(key, params[np++]);
			p = strchr(p, '}');
		} else {
			err |= buf_addc(key, *p);
		}
	}
	for (names = route_query_names(routes[i].pattern); *names; names++) {
		v = rq->query(rq->ctx, *names);
		if (!v)
			continue;
		err |= buf_addc(key, (char)sep);
		sep = '&';
		err |= buf_adds(key, *names);
		err |= buf_addc(key, '=');
		err |= key_encode(key, v);
	}
	rc = err ? -1 : 0;
out:
	for (np = 0; np < 3; np++)
		free(params[np]);
	return rc;
}

/* The accessors a handler sees (api_handle installs them): the server's, except that reading
 * a query parameter the route does not declare makes the answer uncacheable, since the cache
 * key holds only the declared ones. */
static const char *guard_header(void *ctx, const char *name)
{
	struct api_request *rq = ctx;

	return rq->server_header(rq->server_ctx, name);
}

static const char *guard_query(void *ctx, const char *name)
{
	struct api_request *rq = ctx;
	const char *const *names;

	for (names = route_query_names(rq->route); *names; names++)
		if (!strcmp(*names, name))
			break;
	if (!*names)
		rq->query_undeclared = 1;
	return rq->server_query(rq->server_ctx, name);
}

/* Runs the handler of route r with the guarded accessors. */
static int run_handler(const struct route *r, struct api_request *rq, struct api_response *rs)
{
	int rc;

	rq->server_header = rq->header;
	rq->server_query = rq->query;
	rq->server_ctx = rq->ctx;
	rq->header = guard_header;
	rq->query = guard_query;
	rq->ctx = rq;
	rc = r->fn(rq, rs);
	rq->header = rq->server_header;
	rq->query = rq->server_query;
	rq->ctx = rq->server_ctx;
	return rc;
}

/* Whether the route is a write that needs a token: those take an Idempotency-Key. The
 * stateless POSTs (scores, what-if) store nothing and need neither. */
static int route_writes(const struct route *r)
{
	return strcmp(r->method, "GET") && r->fn != api_score && r->fn != api_roles_what_if;
}

/* The index of the route of method and path, filling params (see route_match); -1 if none. */
static long route_find(const char *method, const char *path, char *params[3])
{
	size_t i;

	for (i = 0; i < N_ROUTES; i++)
		if (!strcmp(routes[i].method, method) && route_match(routes[i].pattern, path, params))
			return (long)i;
	return -1;
}

const char *api_route_lookup(const char *method, const char *path, char *params[3])
{
	long i = route_find(method, path, params);

	return i < 0 ? NULL : routes[i].pattern;
}

int api_handle(struct api_request *rq, struct api_response *rs)
{
	const char *method = rq->method, *key;
	long i;
	int rc;

	rq->route = route_unmatched;
	api_header(rs, "Access-Control-Allow-Origin", "*");
	/* The URLs whose GET answers JSON or a page by Accept: every answer of them, whatever
	 * the method or status, says that it varies with Accept (API.md). */
	if (route_match("/roles/{slug}", rq->path, NULL) ||
	    route_match("/roles/{slug}/revisions/{n}", rq->path, NULL))
		api_header(rs, "Vary", "Accept");
	if (!strcmp(method, "OPTIONS")) {
		struct buf allow = BUF_INIT(512);

		allow_list(rq->path, &allow);
		if (!allow.len) {
			buf_release(&allow);
			api_problem(rs, 404, "not-found", "Not found", "no such path");
			return API_DONE;
		}
		rs->status = 204;
		api_header(rs, "Allow", buf_str(&allow));
		api_header(rs, "Access-Control-Allow-Methods", buf_str(&allow));
		api_header(rs, "Access-Control-Allow-Headers",
			   "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key");
		api_header(rs, "Access-Control-Max-Age", "86400");
		buf_release(&allow);
		return API_DONE;
	}
	if (!strcmp(method, "HEAD"))
		method = "GET";
	i = route_find(method, rq->path, rq->params);
	if (i >= 0) {
		rq->route = routes[i].pattern;
		rq->part = routes[i].part;
		rq->query_names = route_query_names(rq->route);
		api_header(rs, "Access-Control-Expose-Headers",
			   "ETag, Location, Link, Idempotent-Replayed");
		key = route_writes(&routes[i]) ? rq->header(rq->ctx, "Idempotency-Key") : NULL;
		if (key && api_idem_begin(rq, rs, key))
			return API_DONE;
		rc = run_handler(&routes[i], rq, rs);
		if (rc == API_DEFER) {
			if (rq->idem)
				api_idem_wrap(rq);
			return API_DEFER;
		}
		if (rs->cacheable &&
		    (!routes[i].cacheable || rs->status >= 300 || rq->query_undeclared))
			rs->cacheable = 0;
		return API_DONE;
	}
	{
		struct buf allow = BUF_INIT(512);

		allow_list(rq->path, &allow);
		if (buf_err(&allow)) {
			api_problem_rc(rs, RC_NOMEM, NULL);
		} else if (allow.len) {
			struct buf detail = BUF_INIT(640);

			rq->route = route_unmatched;
			/* A method too long for the detail's bound (or memory failing) leaves the
			 * problem without its detail. */
			buf_putf(&detail, "%s is not a method of this path; Allow lists those that are",
				 rq->method);
			api_problem(rs, 405, "method-not-allowed", "Method not allowed",
				    buf_err(&detail) ? NULL : buf_str(&detail));
			buf_release(&detail);
			api_header(rs, "Allow", buf_str(&allow));
		} else {
			api_problem(rs, 404, "not-found", "Not found", "no such path");
		}
		buf_release(&allow);
	}
	return API_DONE;
}

/* ---------------------------------------------------------------------------------------
 * Metrics: requests by route and status, and one latency histogram. Counters are atomics
 * in fixed arrays so the hot path takes no lock.
 */

static const int status_codes[] = { 200, 201, 202, 204, 304, 308, 400, 401, 404, 405, 409, 411, 412,
				    413, 415, 422, 431, 500, 501, 503, 0 /* other */ };
#define N_STATUS (sizeof(status_codes) / sizeof(status_codes[0]))
static const double latency_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
					 0.25, 0.5, 1, 2.5 };
#define N_BOUNDS (sizeof(latency_bounds) / sizeof(latency_bounds[0]))

static _Atomic uint64_t req_count[N_ROUTES + 1][N_STATUS];
static _Atomic uint64_t lat_buckets[N_BOUNDS + 1];
static _Atomic uint64_t lat_sum_us;
static _Atomic uint64_t lat_count;

void api_metrics_observe(struct api *a, const char *method, const char *route, int status,
			 int64_t duration_us)
{
	size_t r, s, b;

	(void)a;
	for (r = 0; r < N_ROUTES; r++)
		if (routes[r].pattern == route &&
		    (!strcmp(routes[r].method, method) ||
		     (!strcmp(method, "HEAD") && !strcmp(routes[r].method, "GET"))))
			break;
	for (s = 0; s < N_STATUS - 1; s++)
		if (status_codes[s] == status)
			break;
	atomic_fetch_add_explicit(&req_count[r][s], 1, memory_order_relaxed);
	for (b = 0; b < N_BOUNDS; b++)
		if ((double)duration_us / 1e6 <= latency_bounds[b])
			break;
	atomic_fetch_add_explicit(&lat_buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&lat_sum_us, (uint64_t)(duration_us > 0 ? duration_us : 0),
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&lat_count, 1, memory_order_relaxed);
}

/* A route template as a label value: "/roles/:slug/score". Braces inside label values are
 * legal, but they trip the simple parsers that split a sample line at its first "}". */
static const char *route_label(size_t r, char *out, size_t outlen)
{
	const char *p = r < N_ROUTES ? routes[r].pattern : route_unmatched;
	size_t n = 0;

	for (; *p && n + 1 < outlen; p++) {
		if (*p == '{')
			out[n++] = ':';
		else if (*p != '}')
			out[n++] = *p;
	}
	out[n] = '\0';
	return out;
}

/* The database files and the checkpointer, as Prometheus text. */
static void store_metrics_text(struct store *st, struct buf *out)
{
	static const char *const modes[STORE_CKPT_MODES] = { "passive", "truncate", "restart" };
	static const char *const results[] = { "complete", "partial", "busy", "failed" };
	struct store_stats ss;
	int m, r;

	store_stats(st, &ss);
	buf_putf(out, "# HELP aijri_sqlite_database_bytes Size of the database file.\n"
		      "# TYPE aijri_sqlite_database_bytes gauge\naijri_sqlite_database_bytes %lld\n"
		      "# HELP aijri_sqlite_wal_bytes Size of the database's -wal file.\n"
		      "# TYPE aijri_sqlite_wal_bytes gauge\naijri_sqlite_wal_bytes %lld\n",
		 (long long)ss.db_bytes, (long long)ss.wal_bytes);
	buf_puts(out, "# HELP aijri_sqlite_checkpoints_total WAL checkpoints by mode and result "
		      "(complete: every frame copied; partial: readers held some back).\n"
		      "# TYPE aijri_sqlite_checkpoints_total counter\n");
	for (m = 0; m < STORE_CKPT_MODES; m++)
		for (r = 0; r < STORE_CKPT_RESULTS; r++)
			buf_putf(out, "aijri_sqlite_checkpoints_total{mode=\"%s\",result=\"%s\"} %llu\n",
				 modes[m], results[r], (unsigned long long)ss.checkpoints[m][r]);
	buf_putf(out, "# HELP aijri_sqlite_last_complete_checkpoint_timestamp_seconds When a "
		      "checkpoint last copied every frame of the WAL (Unix time; 0: never).\n"
		      "# TYPE aijri_sqlite_last_complete_checkpoint_timestamp_seconds gauge\n"
		      "aijri_sqlite_last_complete_checkpoint_timestamp_seconds %lld\n"
		      "# HELP aijri_sqlite_last_checkpoint_wal_frames Frames in the WAL at the last "
		      "checkpoint.\n"
		      "# TYPE aijri_sqlite_last_checkpoint_wal_frames gauge\n"
		      "aijri_sqlite_last_checkpoint_wal_frames %d\n"
		      "# HELP aijri_sqlite_last_checkpoint_copied_frames Frames the last checkpoint "
		      "had copied into the database.\n"
		      "# TYPE aijri_sqlite_last_checkpoint_copied_frames gauge\n"
		      "aijri_sqlite_last_checkpoint_copied_frames %d\n",
		 (long long)ss.last_complete_unix, ss.last_wal_frames, ss.last_copied_frames);
}

void api_metrics_source(struct api *a, void (*fn)(void *ctx, struct buf *out), void *ctx)
{
	if (a->n_metrics_sources >= API_METRICS_SOURCES)
		return;
	a->metrics_sources[a->n_metrics_sources].fn = fn;
	a->metrics_sources[a->n_metrics_sources].ctx = ctx;
	a->n_metrics_sources++;
}

static void api_metrics_text(struct api *a, struct buf *out)
{
	char label[128];
	size_t r, s, b;
	int i;
	uint64_t cum = 0;

	buf_puts(out, "# HELP aijri_http_requests_total HTTP requests by route and status.\n"
		      "# TYPE aijri_http_requests_total counter\n");
	for (r = 0; r <= N_ROUTES; r++) {
		for (s = 0; s < N_STATUS; s++) {
			uint64_t n = atomic_load_explicit(&req_count[r][s], memory_order_relaxed);
			if (!n)
				continue;
			if (status_codes[s])
				buf_putf(out, "aijri_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
					 r < N_ROUTES ? routes[r].method : "", route_label(r, label, sizeof(label)),
					 status_codes[s], (unsigned long long)n);
			else
				buf_putf(out, "aijri_http_requests_total{method=\"%s\",route=\"%s\",status=\"other\"} %llu\n",
					 r < N_ROUTES ? routes[r].method : "", route_label(r, label, sizeof(label)),
					 (unsigned long long)n);
		}
	}
	buf_puts(out, "# HELP aijri_http_request_duration_seconds Time from a request's arrival to its answer.\n"
		      "# TYPE aijri_http_request_duration_seconds histogram\n");
	for (b = 0; b <= N_BOUNDS; b++) {
		cum += atomic_load_explicit(&lat_buckets[b], memory_order_relaxed);
		if (b < N_BOUNDS)
			buf_putf(out, "aijri_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
				 latency_bounds[b], (unsigned long long)cum);
		else
			buf_putf(out, "aijri_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
				 (unsigned long long)cum);
	}
	buf_putf(out, "aijri_http_request_duration_seconds_sum %.6f\n",
		 (double)atomic_load_explicit(&lat_sum_us, memory_order_relaxed) / 1e6);
	buf_putf(out, "aijri_http_request_duration_seconds_count %llu\n",
		 (unsigned long long)atomic_load_explicit(&lat_count, memory_order_relaxed));
	buf_putf(out, "# HELP aijri_write_commits_total Commits that changed data since start.\n"
		      "# TYPE aijri_write_commits_total counter\naijri_write_commits_total %llu\n",
		 (unsigned long long)(api_generation(a) - 1));
	buf_putf(out, "# HELP aijri_page_builds_total Pages, pictures and feeds rendered (a cached one is "
		      "served, not rendered again).\n# TYPE aijri_page_builds_total counter\n"
		      "aijri_page_builds_total %llu\n",
		 (unsigned long long)atomic_load_explicit(&a->page_builds, memory_order_relaxed));
	store_metrics_text(a->store, out);
	api_exports_metrics(a, out);
	for (i = 0; i < a->n_metrics_sources; i++)
		a->metrics_sources[i].fn(a->metrics_sources[i].ctx, out);
	if (a->webhook_metrics)
		a->webhook_metrics(a->webhook_metrics_ctx, out);
}

/* GET /metrics: the router's own counters above, then the store's, the exports' and the
 * server's sources. */
static int api_metrics(struct api_request *rq, struct api_response *rs)
{
	api_metrics_text(rq->api, &rs->body);
	if (buf_err(&rs->body)) {
		buf_reset(&rs->body);
		api_problem_rc(rs, RC_NOMEM, "the metrics could not be written");
		return API_DONE;
	}
	rs->status = 200;
	rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
	api_header(rs, "Cache-Control", "no-store");
	return API_DONE;
}
