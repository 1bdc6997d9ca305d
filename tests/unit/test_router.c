/*
 * test_router.c: tables for what api/ reads from a request before any handler runs: the
 * router's matching of method and path (api_route_lookup: segments, percent-decoding, what no
 * route matches), If-None-Match (api_etag_tag: 304 or not), If-Match (api_if_match_ok, the
 * strong comparison of RFC 9110) and content negotiation (api_accept).
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/reply.h"
#include "tests/unit/harness.h"

static void test_routes(void)
{
	static const struct {
		const char *method, *path, *pattern, *p0, *p1;
	} cases[] = {
		{ "GET", "/roles", "/roles", NULL, NULL },
		{ "POST", "/roles", "/roles", NULL, NULL },
		{ "GET", "/roles/edge-ai-engineer", "/roles/{slug}", "edge-ai-engineer", NULL },
		{ "GET", "/roles/edge-ai-engineer/score", "/roles/{slug}/score", "edge-ai-engineer", NULL },
		{ "GET", "/roles/a%2Db/score", "/roles/{slug}/score", "a-b", NULL },
		{ "GET", "/roles/x/revisions/12", "/roles/{slug}/revisions/{n}", "x", "12" },
		{ "POST", "/webhooks/wh_1/deliveries/7/redeliver",
		  "/webhooks/{id}/deliveries/{delivery_id}/redeliver", "wh_1", "7" },
		{ "DELETE", "/roles/x/override", "/roles/{slug}/override", "x", NULL },
		{ "GET", "/", "/", NULL, NULL },
		{ "GET", "/movers", "/movers", NULL, NULL },
		/* what no route matches */
		{ "GET", "/roles/", NULL, NULL, NULL },
		{ "GET", "/roles//score", NULL, NULL, NULL },
		{ "GET", "/roles/x/score/", NULL, NULL, NULL },
		{ "GET", "//roles", NULL, NULL, NULL },
		{ "GET", "/roles/%00/score", NULL, NULL, NULL },
		{ "GET", "/ROLES", NULL, NULL, NULL },
		{ "PATCH", "/roles/x", NULL, NULL, NULL },
		{ "GET", "/nothing", NULL, NULL, NULL },
		{ "GET", "roles", NULL, NULL, NULL },
		{ "GET", "", NULL, NULL, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *params[3] = { NULL, NULL, NULL };
		const char *got = api_route_lookup(cases[i].method, cases[i].path, params);
		int ok;

		if (!cases[i].pattern)
			ok = !got && !params[0];
		else
			ok = got && !strcmp(got, cases[i].pattern) &&
			     (!cases[i].p0 ? !params[0] : params[0] && !strcmp(params[0], cases[i].p0)) &&
			     (!cases[i].p1 ? !params[1] : params[1] && !strcmp(params[1], cases[i].p1));
		CHECK(ok, "%s %s: route %s, params %s %s", cases[i].method, cases[i].path,
		      got ? got : "(none)", params[0] ? params[0] : "-", params[1] ? params[1] : "-");
		free(params[0]);
		free(params[1]);
		free(params[2]);
	}
}

static const char *the_inm;

static const char *header_inm(void *ctx, const char *name)
{
	(void)ctx;
	return !strcmp(name, "If-None-Match") ? the_inm : NULL;
}

static void test_if_none_match(void)
{
	static const struct {
		const char *inm;
		int not_modified;
	} cases[] = {
		{ NULL, 0 },
		{ "\"r3\"", 1 },
		{ "W/\"r3\"", 1 }, /* weak comparison: a cached copy is still good */
		{ "\"r2\", \"r3\"", 1 },
		{ "\"r2\",\"r4\"", 0 },
		{ "*", 1 },
		{ "\"r31\"", 0 },
		{ "\"r\"", 0 },
		{ "r3", 0 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct api_request rq;
		struct api_response rs;
		int got;

		memset(&rq, 0, sizeof(rq));
		rq.header = header_inm;
		the_inm = cases[i].inm;
		api_response_init(&rs);
		got = api_etag_tag(&rq, &rs, "r3");
		CHECK(got == cases[i].not_modified && (got ? rs.status == 304 : 1),
		      "If-None-Match %s against \"r3\": %d (status %d)",
		      cases[i].inm ? cases[i].inm : "(none)", got, rs.status);
		api_response_release(&rs);
	}
}

static void test_if_match(void)
{
	static const struct {
		const char *im;
		int revision, ok;
	} cases[] = {
		{ NULL, 3, 1 },        { "", 3, 1 },           { "\"r3\"", 3, 1 },
		{ "\"r3\"", 4, 0 },    { "\"r3-stale1\"", 3, 1 }, { "\"r2\", \"r3\"", 3, 1 },
		{ "*", 9, 1 },         { "\"r33\"", 3, 0 },    { "W/\"r3\"", 3, 0 }, /* strong only */
		{ "r3", 3, 0 },        { "\"3\"", 3, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(api_if_match_ok(cases[i].im, cases[i].revision) == cases[i].ok,
		      "If-Match %s at revision %d: want %d", cases[i].im ? cases[i].im : "(none)",
		      cases[i].revision, cases[i].ok);
}

static void test_accept(void)
{
	static const struct {
		const char *accept;
		enum api_repr want;
	} cases[] = {
		{ NULL, API_REPR_JSON },
		{ "*/*", API_REPR_JSON },
		{ "application/json", API_REPR_JSON },
		{ "text/html", API_REPR_HTML },
		{ "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", API_REPR_HTML },
		{ "application/json, text/html;q=0.5", API_REPR_JSON },
		{ "text/html;q=0.5, application/json;q=0.9", API_REPR_JSON },
		{ "text/*", API_REPR_HTML },
		{ "text/html;q=0", API_REPR_JSON },
		{ "TEXT/HTML", API_REPR_HTML },
		{ "text/plain", API_REPR_JSON },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(api_accept(cases[i].accept) == cases[i].want, "Accept: %s: want %s",
		      cases[i].accept ? cases[i].accept : "(none)",
		      cases[i].want == API_REPR_HTML ? "HTML" : "JSON");
}

int main(void)
{
	static const struct harness_test tests[] = {
		{ "routes", test_routes },
		{ "if_none_match", test_if_none_match },
		{ "if_match", test_if_match },
		{ "accept", test_accept },
		{ NULL, NULL },
	};
	return harness_main("router", tests);
}
