/*
 * api.c: the router, the conventions every endpoint shares (problem+json, tokens, bodies,
 * pagination, ETags, CORS) and the HTTP metrics. Handlers live in roles.c, misc.c and
 * webhooks.c. Nothing here knows the HTTP library: server/http.c adapts it.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api_int.h"
#include "api/assessment.h"
#include "api/webhooks.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/num.h"

/* ---------------------------------------------------------------------------------------
 * Routes
 */

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
		if (*s == '%' && e - s >= 3 && isxdigit((unsigned char)s[1]) &&
		    isxdigit((unsigned char)s[2])) {
			char hex[3] = { s[1], s[2], '\0' };
			char c = (char)strtol(hex, NULL, 16);

			if (!c) {
				free(out);
				return NULL;
			}
			*w++ = c;
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
		char c = *q;

		if (c == '%' && qe - q >= 3 && isxdigit((unsigned char)q[1]) &&
		    isxdigit((unsigned char)q[2])) {
			char hex[3] = { q[1], q[2], '\0' };

			c = (char)strtol(hex, NULL, 16);
			q += 3;
		} else {
			q++;
		}
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

const char *api_route_part(const struct api_request *rq)
{
	size_t i;

	for (i = 0; i < N_ROUTES; i++)
		if (routes[i].pattern == rq->route && routes[i].part)
			return routes[i].part;
	return NULL;
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
	api_exports_init(a);
	store_on_commit(a->store, on_commit, a);
	return a;
}

static int noop_job(struct store_tx *tx, void *arg)
{
	(void)tx;
	(void)arg;
	return RC_UNCHANGED;
}

void api_free(struct api *a)
{
	int i;

	if (!a)
		return;
	store_on_commit(a->store, NULL, NULL);
	/* Jobs run in order: once this one is done, none queued before it can touch the cache. */
	store_write(a->store, noop_job, NULL);
	for (i = 0; i < API_WCACHE_SLOTS; i++)
		api_wcache_entry_release(&a->wcache[i]);
	api_exports_release(a);
	api_idem_registry_free(a->idem);
	free(a);
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

/* ---------------------------------------------------------------------------------------
 * Responses
 */

void api_response_init(struct api_response *rs)
{
	memset(rs, 0, sizeof(*rs));
	buf_init(&rs->body, API_MAX_RESPONSE);
	rs->status = 500;
	rs->body_fd = -1;
}

void api_response_release(struct api_response *rs)
{
	int i;

	if (!rs)
		return;
	buf_release(&rs->body);
	for (i = 0; i < rs->n_headers; i++)
		free(rs->headers[i].value);
	rs->n_headers = 0;
	if (rs->body_fd >= 0)
		close(rs->body_fd);
	rs->body_fd = -1;
}

void api_header(struct api_response *rs, const char *name, const char *value)
{
	int i;
	char *v = strdup(value);

	if (!v)
		return;
	for (i = 0; i < rs->n_headers; i++) {
		if (!strcasecmp(rs->headers[i].name, name)) {
			free(rs->headers[i].value);
			rs->headers[i].value = v;
			return;
		}
	}
	if (rs->n_headers >= API_MAX_HEADERS || strlen(name) >= sizeof(rs->headers[0].name)) {
		free(v);
		return;
	}
	memcpy(rs->headers[rs->n_headers].name, name, strlen(name) + 1);
	rs->headers[rs->n_headers].value = v;
	rs->n_headers++;
}

void api_json(struct api_response *rs, int status, json_t *v)
{
	char *text = v ? assessment_dumps(v) : NULL;

	json_decref(v);
	buf_reset(&rs->body);
	if (!text) {
		rs->status = 500;
		rs->content_type = "application/problem+json";
		buf_adds(&rs->body, "{\"type\":\"urn:aijri:problem:internal\",\"title\":\"Internal error\","
				    "\"status\":500}");
		return;
	}
	rs->status = status;
	rs->content_type = "application/json";
	if (buf_adds(&rs->body, text) || buf_addc(&rs->body, '\n')) {
		rs->status = 500;
		buf_reset(&rs->body);
	}
	free(text);
}

static json_t *problem_new(int status, const char *type, const char *title, const char *detail)
{
	char t[96];

	snprintf(t, sizeof(t), "urn:aijri:problem:%s", type);
	return json_pack("{s:s, s:s, s:i, s:s?, s:[]}", "type", t, "title", title, "status", status,
			 "detail", detail, "errors");
}

static void problem_send(struct api_response *rs, int status, json_t *p)
{
	api_json(rs, status, p);
	rs->content_type = "application/problem+json";
}

void api_problem(struct api_response *rs, int status, const char *type, const char *title,
		 const char *detail)
{
	problem_send(rs, status, problem_new(status, type, title, detail));
}

void api_problem_field(struct api_response *rs, int status, const char *type, const char *title,
		       const char *detail, const char *field, const char *message)
{
	json_t *p = problem_new(status, type, title, detail);

	if (p)
		json_array_append_new(json_object_get(p, "errors"),
				      json_pack("{s:s, s:s}", "field", field, "message", message));
	problem_send(rs, status, p);
}

void api_problem_errors(struct api_response *rs, const struct scoring_errors *errs)
{
	json_t *p, *list;
	char detail[SCORING_FIELD_LEN + SCORING_MESSAGE_LEN + 8];
	int i;

	if (errs->n == 1)
		snprintf(detail, sizeof(detail), "%s: %s", errs->e[0].field, errs->e[0].message);
	else
		snprintf(detail, sizeof(detail), "%d fields are invalid; see errors",
			 errs->n + errs->dropped);
	p = problem_new(422, "validation-error", "The request breaks a rule", detail);
	list = p ? json_object_get(p, "errors") : NULL;
	for (i = 0; list && i < errs->n; i++)
		json_array_append_new(list, json_pack("{s:s, s:s}", "field", errs->e[i].field,
						      "message", errs->e[i].message));
	problem_send(rs, 422, p);
}

void api_problem_rc(struct api_response *rs, int rc, const char *detail)
{
	api_problem_rc_field(rs, rc, detail, NULL, NULL);
}

void api_problem_rc_field(struct api_response *rs, int rc, const char *detail, const char *field,
			  const char *message)
{
	static const struct {
		int rc, status;
		const char *type, *title;
	} map[] = {
		{ RC_NOTFOUND, 404, "not-found", "Not found" },
		{ RC_GONE, 404, "not-found", "Not found" },
		{ RC_CONFLICT, 409, "conflict", "Already exists" },
		{ RC_PRECONDITION, 412, "precondition-failed", "Precondition failed" },
		{ RC_UNAUTHORIZED, 401, "unauthorized", "Unauthorized" },
		{ RC_TOOLARGE, 413, "payload-too-large", "Payload too large" },
		{ RC_MALFORMED, 400, "malformed-request", "Malformed request" },
		{ RC_INVALID, 422, "validation-error", "The request breaks a rule" },
		{ RC_BUSY, 503, "busy", "Service busy" },
	};
	size_t i;
	json_t *p;
	int status = 500;
	const char *type = "internal", *title = "Internal error";

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].rc == rc) {
			status = map[i].status;
			type = map[i].type;
			title = map[i].title;
			break;
		}
	}
	if (rc == RC_PRECONDITION && !detail)
		detail = "If-Match does not name the current revision";
	else if (rc == RC_BUSY)
		detail = "the database is busy; try again";
	else if (status == 500)
		detail = rc_str(rc);
	p = problem_new(status, type, title, detail);
	if (p && field)
		json_array_append_new(json_object_get(p, "errors"),
				      json_pack("{s:s, s:s}", "field", field, "message", message));
	problem_send(rs, status, p);
	if (rc == RC_BUSY)
		api_header(rs, "Retry-After", "1");
}

/* ---------------------------------------------------------------------------------------
 * Requests
 */

int api_require_token(struct api_request *rq, struct api_response *rs)
{
	const char *h = rq->header(rq->ctx, "Authorization");
	unsigned char hash[CRYPTO_SHA256_LEN];
	char *name = NULL;

	/* Checked already (a write with an Idempotency-Key is checked before its handler). */
	if (rq->actor)
		return RC_OK;
	if (h && !strncasecmp(h, "Bearer ", 7)) {
		h += 7;
		while (*h == ' ')
			h++;
		crypto_sha256(h, strlen(h), hash);
		if (*h && store_token_check(rq->api->store, hash, &name) == RC_OK) {
			free(rq->actor);
			rq->actor = name;
			/* Every authenticated use, read or write, accepted or refused later: what
			 * `aijri token list` shows when a token is rotated. */
			store_token_used(rq->api->store, name);
			return RC_OK;
		}
	}
	api_problem(rs, 401, "unauthorized", "Unauthorized",
		    h ? "the bearer token is not valid" : "this request needs Authorization: Bearer TOKEN");
	api_header(rs, "WWW-Authenticate", "Bearer realm=\"aijri\"");
	return RC_UNAUTHORIZED;
}

static int json_type_ok(const char *ct)
{
	size_t n;

	if (!ct || !*ct)
		return 1;
	while (*ct == ' ')
		ct++;
	n = strcspn(ct, "; ");
	if (n == 16 && !strncasecmp(ct, "application/json", 16))
		return 1;
	/* curl -d sends this by default; the body is still read as JSON, never as a form. */
	if (n == 33 && !strncasecmp(ct, "application/x-www-form-urlencoded", 33))
		return 1;
	/* application/merge-patch+json, application/problem+json, ... */
	return n > 5 && !strncasecmp(ct + n - 5, "+json", 5);
}

int api_body_json(struct api_request *rq, struct api_response *rs, json_t **out)
{
	json_error_t err;
	json_t *v;
	char detail[256];

	*out = NULL;
	if (rq->body_too_large) {
		api_problem(rs, 413, "payload-too-large", "Payload too large",
			    "the body is over 1 MiB (1048576 bytes)");
		return RC_TOOLARGE;
	}
	if (!json_type_ok(rq->header(rq->ctx, "Content-Type"))) {
		api_problem(rs, 415, "unsupported-media-type", "Unsupported media type",
			    "send the body as application/json");
		return RC_MALFORMED;
	}
	if (!rq->body || !rq->body_len) {
		api_problem(rs, 400, "malformed-json", "Malformed JSON", "the request has no body");
		return RC_MALFORMED;
	}
	v = assessment_loadb(rq->body, rq->body_len, &err);
	if (!v) {
		json_t *p;

		snprintf(detail, sizeof(detail), "line %d, column %d: %s", err.line, err.column,
			 assessment_json_error(&err));
		p = problem_new(400, "malformed-json", "Malformed JSON", detail);
		if (p) {
			json_object_set_new(p, "line", json_integer(err.line));
			json_object_set_new(p, "column", json_integer(err.column));
		}
		problem_send(rs, 400, p);
		return RC_MALFORMED;
	}
	if (!json_is_object(v)) {
		struct scoring_errors errs;

		json_decref(v);
		scoring_errors_init(&errs);
		scoring_errors_add(&errs, "body", "must be a JSON object");
		api_problem_errors(rs, &errs);
		return RC_INVALID;
	}
	*out = v;
	return RC_OK;
}

int api_query_int(struct api_request *rq, struct api_response *rs, const char *name, int def,
		  int min, int max, int *out)
{
	const char *v = rq->query(rq->ctx, name);
	int64_t n;

	*out = def;
	if (!v)
		return RC_OK;
	if (num_parse(v, min, max, &n)) {
		struct scoring_errors errs;

		scoring_errors_init(&errs);
		scoring_errors_add(&errs, name, "must be an integer from %d to %d", min, max);
		api_problem_errors(rs, &errs);
		return RC_INVALID;
	}
	*out = (int)n;
	return RC_OK;
}

int api_page(struct api_request *rq, struct api_response *rs, int *limit, int *offset)
{
	int rc = api_query_int(rq, rs, "limit", 20, 1, 200, limit);

	if (rc)
		return rc;
	return api_query_int(rq, rs, "offset", 0, 0, INT_MAX, offset);
}

/* Appends name=value, percent-encoding what a query value cannot hold. */
static void query_add(struct buf *b, const char *name, const char *value)
{
	const char *p;

	buf_addc(b, b->len ? '&' : '?');
	buf_adds(b, name);
	buf_addc(b, '=');
	for (p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c) || strchr("-._~,", c))
			buf_addc(b, (char)c);
		else
			buf_addf(b, "%%%02X", c);
	}
}

static json_t *page_link(struct api_request *rq, int limit, int offset)
{
	/* The route's own parameters are kept (the list's filters); limit and offset are new. */
	const char *const *keep = route_query_names(rq->route);
	struct buf b = BUF_INIT(8192);
	char n[32];
	json_t *v;
	int i;

	for (i = 0; keep[i]; i++) {
		const char *val;

		if (!strcmp(keep[i], "limit") || !strcmp(keep[i], "offset"))
			continue;
		val = rq->query(rq->ctx, keep[i]);
		if (val)
			query_add(&b, keep[i], val);
	}
	snprintf(n, sizeof(n), "%d", limit);
	query_add(&b, "limit", n);
	snprintf(n, sizeof(n), "%d", offset);
	query_add(&b, "offset", n);
	v = json_sprintf("%s%s", rq->path, buf_str(&b));
	buf_release(&b);
	return v;
}

json_t *api_list(struct api_request *rq, struct api_response *rs, json_t *items, int total,
		 int limit, int offset)
{
	struct buf link = BUF_INIT(8192);
	json_t *next, *prev;

	next = (long long)offset + limit < total ? page_link(rq, limit, offset + limit) : json_null();
	prev = offset > 0 ? page_link(rq, limit, offset > limit ? offset - limit : 0) : json_null();
	/* The same links as a Link header (RFC 8288), as GitHub pages its lists. */
	if (json_is_string(next))
		buf_addf(&link, "<%s>; rel=\"next\"", json_string_value(next));
	if (json_is_string(prev))
		buf_addf(&link, "%s<%s>; rel=\"prev\"", link.len ? ", " : "",
			 json_string_value(prev));
	if (link.len)
		api_header(rs, "Link", buf_str(&link));
	buf_release(&link);
	return json_pack("{s:o, s:i, s:i, s:i, s:{s:o, s:o}}", "items", items, "total", total, "limit",
			 limit, "offset", offset, "links", "next", next, "prev", prev);
}

void api_cacheable(struct api_request *rq, struct api_response *rs)
{
	(void)rq;
	rs->cacheable = 1;
}

/* Whether the header's list names etag (or is "*"). A weak tag (W/"r3") matches only when
 * weak_ok: If-None-Match compares weakly, If-Match strongly (RFC 9110, 13.1). */
static int etag_listed(const char *list, const char *etag, int weak_ok)
{
	const char *p = list;
	size_t n = strlen(etag);

	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (!strncmp(p, "W/", 2)) {
			if (!weak_ok) {
				while (*p && *p != ',')
					p++;
				continue;
			}
			p += 2;
		}
		if (*p == '"' && !strncmp(p + 1, etag, n) && p[n + 1] == '"')
			return 1;
		while (*p && *p != ',')
			p++;
	}
	return 0;
}

int api_etag_tag(struct api_request *rq, struct api_response *rs, const char *tag)
{
	char quoted[80];
	const char *inm = rq->header(rq->ctx, "If-None-Match");

	snprintf(quoted, sizeof(quoted), "\"%s\"", tag);
	api_header(rs, "ETag", quoted);
	if (inm && etag_listed(inm, tag, 1)) {
		rs->status = 304;
		buf_reset(&rs->body);
		rs->content_type = NULL;
		return 1;
	}
	return 0;
}

/* The quality an Accept header gives type/subtype: that of the most specific range matching
 * it (RFC 9110, 12.5.1); 0 when none does. */
static double accept_q(const char *accept, const char *type, const char *subtype)
{
	const char *p = accept;
	double best = 0;
	int best_spec = 0;

	while (*p) {
		size_t n = strcspn(p, ",");
		char range[160], *media, *params, *slash, *param, *next;
		double q = 1;
		int spec = 0;

		snprintf(range, sizeof(range), "%.*s", (int)(n < sizeof(range) ? n : sizeof(range) - 1),
			 p);
		p += n + (p[n] == ',');
		params = strchr(range, ';');
		if (params)
			*params++ = '\0';
		media = range + strspn(range, " \t");
		media[strcspn(media, " \t")] = '\0';
		slash = strchr(media, '/');
		if (!slash)
			continue;
		*slash++ = '\0';
		if (!strcmp(media, "*") && !strcmp(slash, "*"))
			spec = 1;
		else if (!strcasecmp(media, type))
			spec = !strcmp(slash, "*") ? 2 : !strcasecmp(slash, subtype) ? 3 : 0;
		for (param = params; param; param = next) {
			next = strchr(param, ';');
			if (next)
				*next++ = '\0';
			param += strspn(param, " \t");
			if ((param[0] == 'q' || param[0] == 'Q') && param[1] == '=')
				q = strtod(param + 2, NULL);
		}
		if (spec > best_spec) {
			best_spec = spec;
			best = !(q > 0) ? 0 : q > 1 ? 1 : q;
		}
	}
	return best;
}

enum api_repr api_accept(const char *accept)
{
	/* Only a header that names text can prefer HTML: the common cases (none, the wildcard
	 * alone, "application/json") cost one search. */
	if (!accept || !strcasestr(accept, "text"))
		return API_REPR_JSON;
	return accept_q(accept, "text", "html") > accept_q(accept, "application", "json")
		       ? API_REPR_HTML
		       : API_REPR_JSON;
}

int api_etag(struct api_request *rq, struct api_response *rs, int revision)
{
	return api_etag_stale(rq, rs, revision, 0);
}

int api_etag_stale(struct api_request *rq, struct api_response *rs, int revision, unsigned mask)
{
	char tag[40];

	if (mask)
		snprintf(tag, sizeof(tag), "r%d-s%u", revision, mask);
	else
		snprintf(tag, sizeof(tag), "r%d", revision);
	return api_etag_tag(rq, rs, tag);
}

/* Whether the If-Match list names a strong tag of the revision: "r3", or a variant of it that
 * a read view adds to ("r3-s4"). */
static int if_match_listed(const char *list, int revision)
{
	char tag[32];
	const char *p = list;
	size_t n;

	n = (size_t)snprintf(tag, sizeof(tag), "\"r%d", revision);
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (!strncmp(p, tag, n) && (p[n] == '"' || p[n] == '-'))
			return 1;
		while (*p && *p != ',')
			p++;
	}
	return 0;
}

int api_if_match_ok(const char *if_match, int revision)
{
	if (!if_match || !*if_match)
		return 1;
	return if_match_listed(if_match, revision);
}

int64_t api_today(void)
{
	return clock_day(time(NULL));
}

int64_t api_stale_cutoff(struct api *a)
{
	return api_today() - a->stale_after_days;
}

void api_cache_for_today(struct api_response *rs)
{
	rs->cache_until = (api_today() + 1) * 86400;
}

/* ---------------------------------------------------------------------------------------
 * Deferred writes
 */

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
			buf_adds(allow, ", ");
		buf_adds(allow, routes[i].method);
		if (!strcmp(routes[i].method, "GET")) {
			get = 1;
			buf_adds(allow, ", HEAD");
		}
	}
	(void)get;
	if (allow->len)
		buf_adds(allow, ", OPTIONS");
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

int api_handle(struct api_request *rq, struct api_response *rs)
{
	const char *method = rq->method, *key;
	size_t i;
	int rc;

	rq->route = route_unmatched;
	api_header(rs, "Access-Control-Allow-Origin", "*");
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
	for (i = 0; i < N_ROUTES; i++) {
		if (strcmp(routes[i].method, method))
			continue;
		if (!route_match(routes[i].pattern, rq->path, rq->params))
			continue;
		rq->route = routes[i].pattern;
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
		if (allow.len) {
			struct buf detail = BUF_INIT(640);

			rq->route = route_unmatched;
			buf_addf(&detail, "%s is not a method of this path; Allow lists those that are",
				 rq->method);
			api_problem(rs, 405, "method-not-allowed", "Method not allowed", buf_str(&detail));
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
	static const char *const modes[] = { "passive", "truncate" };
	static const char *const results[] = { "complete", "partial", "busy", "failed" };
	struct store_stats ss;
	int m, r;

	store_stats(st, &ss);
	buf_addf(out, "# HELP aijri_sqlite_database_bytes Size of the database file.\n"
		      "# TYPE aijri_sqlite_database_bytes gauge\naijri_sqlite_database_bytes %lld\n"
		      "# HELP aijri_sqlite_wal_bytes Size of the database's -wal file.\n"
		      "# TYPE aijri_sqlite_wal_bytes gauge\naijri_sqlite_wal_bytes %lld\n",
		 (long long)ss.db_bytes, (long long)ss.wal_bytes);
	buf_adds(out, "# HELP aijri_sqlite_checkpoints_total WAL checkpoints by mode and result "
		      "(complete: every frame copied; partial: readers held some back).\n"
		      "# TYPE aijri_sqlite_checkpoints_total counter\n");
	for (m = 0; m < 2; m++)
		for (r = 0; r < STORE_CKPT_RESULTS; r++)
			buf_addf(out, "aijri_sqlite_checkpoints_total{mode=\"%s\",result=\"%s\"} %llu\n",
				 modes[m], results[r], (unsigned long long)ss.checkpoints[m][r]);
	buf_addf(out, "# HELP aijri_sqlite_last_complete_checkpoint_timestamp_seconds When a "
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

void api_metrics_text(struct api *a, struct buf *out)
{
	char label[128];
	size_t r, s, b;
	int i;
	uint64_t cum = 0;

	buf_adds(out, "# HELP aijri_http_requests_total HTTP requests by route and status.\n"
		      "# TYPE aijri_http_requests_total counter\n");
	for (r = 0; r <= N_ROUTES; r++) {
		for (s = 0; s < N_STATUS; s++) {
			uint64_t n = atomic_load_explicit(&req_count[r][s], memory_order_relaxed);
			if (!n)
				continue;
			if (status_codes[s])
				buf_addf(out, "aijri_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
					 r < N_ROUTES ? routes[r].method : "", route_label(r, label, sizeof(label)),
					 status_codes[s], (unsigned long long)n);
			else
				buf_addf(out, "aijri_http_requests_total{method=\"%s\",route=\"%s\",status=\"other\"} %llu\n",
					 r < N_ROUTES ? routes[r].method : "", route_label(r, label, sizeof(label)),
					 (unsigned long long)n);
		}
	}
	buf_adds(out, "# HELP aijri_http_request_duration_seconds Time from a request's arrival to its answer.\n"
		      "# TYPE aijri_http_request_duration_seconds histogram\n");
	for (b = 0; b <= N_BOUNDS; b++) {
		cum += atomic_load_explicit(&lat_buckets[b], memory_order_relaxed);
		if (b < N_BOUNDS)
			buf_addf(out, "aijri_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
				 latency_bounds[b], (unsigned long long)cum);
		else
			buf_addf(out, "aijri_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
				 (unsigned long long)cum);
	}
	buf_addf(out, "aijri_http_request_duration_seconds_sum %.6f\n",
		 (double)atomic_load_explicit(&lat_sum_us, memory_order_relaxed) / 1e6);
	buf_addf(out, "aijri_http_request_duration_seconds_count %llu\n",
		 (unsigned long long)atomic_load_explicit(&lat_count, memory_order_relaxed));
	buf_addf(out, "# HELP aijri_write_commits_total Commits that changed data since start.\n"
		      "# TYPE aijri_write_commits_total counter\naijri_write_commits_total %llu\n",
		 (unsigned long long)(api_generation(a) - 1));
	buf_addf(out, "# HELP aijri_page_builds_total Pages, pictures and feeds rendered (a cached one is "
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
