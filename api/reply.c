/*
 * reply.c: the conventions every endpoint's answer shares, for handlers to use: the response
 * (headers, JSON bodies), problems (application/problem+json, one rc to one status), request
 * bodies and integer query parameters, pages of lists with their links, ETags and If-Match,
 * content negotiation, and caching until the day ends. A leaf: it knows no route, no handler
 * and no store.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api_int.h"
#include "api/reply.h"
#include "body/assessment.h"
#include "util/clock.h"
#include "util/num.h"

/* Retry-After when the database cannot be reached: about the time a PostgreSQL server takes
 * to start again after a crash. */
#define API_RETRY_UNAVAILABLE_S "2"

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
		buf_puts(&rs->body, "{\"type\":\"urn:aijri:problem:internal\",\"title\":\"Internal error\","
				    "\"status\":500}");
		/* Out of memory even for that: the 500 goes without a body. */
		if (buf_err(&rs->body))
			buf_reset(&rs->body);
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
		{ RC_UNAVAILABLE, 503, "unavailable", "Service unavailable" },
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
	else if (rc == RC_UNAVAILABLE)
		detail = "the database cannot be reached; try again later (a write answered so is not "
			 "acknowledged: send it again, with the same Idempotency-Key to have it "
			 "applied at most once)";
	else if (status == 500)
		detail = rc_str(rc);
	p = problem_new(status, type, title, detail);
	if (p && field)
		json_array_append_new(json_object_get(p, "errors"),
				      json_pack("{s:s, s:s}", "field", field, "message", message));
	problem_send(rs, status, p);
	if (rc == RC_BUSY || rc == RC_UNAVAILABLE)
		api_header(rs, "Retry-After", rc == RC_BUSY ? "1" : API_RETRY_UNAVAILABLE_S);
}

/* ---------------------------------------------------------------------------------------
 * Requests
 */

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
	v = rq->body && rq->body_len ? assessment_loadb(rq->body, rq->body_len, &err) : NULL;
	if (!v) {
		json_t *p;

		/* No body at all is malformed JSON at its very start, and says so. */
		if (!rq->body || !rq->body_len) {
			err.line = 1;
			err.column = 0;
		}
		snprintf(detail, sizeof(detail), "line %d, column %d: %s", err.line, err.column,
			 rq->body && rq->body_len ? assessment_json_error(&err)
						  : "the request has no body (send a JSON object)");
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

	buf_putc(b, b->len ? '&' : '?');
	buf_puts(b, name);
	buf_putc(b, '=');
	for (p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c) || strchr("-._~,", c))
			buf_putc(b, (char)c);
		else
			buf_putf(b, "%%%02X", c);
	}
}

static json_t *page_link(struct api_request *rq, int limit, int offset)
{
	/* The route's own parameters are kept (the list's filters); limit and offset are new. */
	static const char *const none[] = { NULL };
	const char *const *keep = rq->query_names ? rq->query_names : none;
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
	/* A link cut short would page wrongly: NULL fails the list, as memory does. */
	v = buf_err(&b) ? NULL : json_sprintf("%s%s", rq->path, buf_str(&b));
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
		buf_putf(&link, "<%s>; rel=\"next\"", json_string_value(next));
	if (json_is_string(prev))
		buf_putf(&link, "%s<%s>; rel=\"prev\"", link.len ? ", " : "",
			 json_string_value(prev));
	if (buf_err(&link)) {
		buf_release(&link);
		json_decref(items);
		json_decref(next);
		json_decref(prev);
		return NULL;
	}
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

void api_cache_for_today(struct api_response *rs)
{
	rs->cache_until = (api_today() + 1) * 86400;
}
