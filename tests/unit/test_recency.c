/*
 * test_recency.c: evidence recency and the dates under it: the day and ISO 8601 parsers of
 * util/clock (real calendar dates, offsets, start or end of a day), the reading of as_of,
 * recency_fill's rule (given; else kept when the dimension is unchanged; else the revision's
 * day), the fill of roles stored before as_of, the map and its oldest date, and the stale
 * view and mask; also the SOC and ISCO codes of body/codes.
 */
#include <stdlib.h>
#include <string.h>

#include "body/codes.h"
#include "body/recency.h"
#include "tests/unit/harness.h"
#include "util/clock.h"

static void test_days(void)
{
	static const struct {
		const char *s;
		int ok;
		long long day;
	} cases[] = {
		{ "1970-01-01", 1, 0 },       { "2026-11-29", 1, 20786 },
		{ "2000-02-29", 1, 11016 },   { "2024-02-29", 1, 19782 },
		{ "1900-02-29", 0, 0 },       { "2026-02-29", 0, 0 },
		{ "2026-13-01", 0, 0 },       { "2026-00-10", 0, 0 },
		{ "2026-04-31", 0, 0 },       { "2026-4-01", 0, 0 },
		{ "2026-04-01T", 0, 0 },      { "", 0, 0 },
		{ "0999-12-31", 0, 0 },       { "abcd-ef-gh", 0, 0 },
	};
	char iso[CLOCK_DAY_LEN];
	int64_t d;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = clock_parse_day(cases[i].s, &d);

		CHECK((rc == 0) == cases[i].ok, "%s: rc %d", cases[i].s, rc);
		if (!rc && cases[i].ok) {
			CHECK(d == cases[i].day, "%s: day %lld, want %lld", cases[i].s, (long long)d,
			      cases[i].day);
			clock_day_iso(d, iso);
			CHECK(!strcmp(iso, cases[i].s), "%s: back as %s", cases[i].s, iso);
		}
	}
	CHECK_INT(clock_day(86399), 0);
	CHECK_INT(clock_day(86400), 1);
	CHECK_INT(clock_day(-1), -1);
}

static void test_iso8601(void)
{
	static const struct {
		const char *s;
		int end;
		int ok;
		long long t;
	} cases[] = {
		{ "2026-11-01", 0, 1, (1793491200) * 1000LL },
		{ "2026-11-01", 1, 1, (1793491200 + 86399) * 1000LL + 999 },
		{ "2026-11-01T10:20:30Z", 0, 1, (1793491200 + 37230) * 1000LL },
		{ "2026-11-01T10:20:30Z", 1, 1, (1793491200 + 37230) * 1000LL },
		{ "2026-11-01t10:20:30z", 0, 1, (1793491200 + 37230) * 1000LL },
		{ "2026-11-01T10:20Z", 0, 1, (1793491200 + 37200) * 1000LL },
		{ "2026-11-01T10:20:30.999Z", 0, 1, (1793491200 + 37230) * 1000LL + 999 },
		{ "2026-11-01T10:20:30+02:00", 0, 1, (1793491200 + 37230 - 7200) * 1000LL },
		{ "2026-11-01T10:20:30 02:00", 0, 1, (1793491200 + 37230 - 7200) * 1000LL },
		{ "2026-11-01T10:20:30-05:30", 0, 1, (1793491200 + 37230 + 19800) * 1000LL },
		{ "2026-11-01T10:20:30", 0, 1, (1793491200 + 37230) * 1000LL },
		{ "2026-11-01T24:00:00Z", 0, 0, 0 },
		{ "2026-11-01T10:60:00Z", 0, 0, 0 },
		{ "2026-11-01T10:20:30+0200", 0, 0, 0 },
		{ "2026-11-01T10:20:30.Z", 0, 0, 0 },
		{ "2026-11-01 10:20:30Z", 0, 0, 0 },
		{ "2026-11-31", 0, 0, 0 },
		{ "yesterday", 0, 0, 0 },
		{ "2026-11-01Zjunk", 0, 0, 0 },
		{ "2026-11-01T10:20:30Zjunk", 0, 0, 0 },
		{ "2026-11-01T10:20:30.5Z", 0, 1, (1793491200 + 37230) * 1000LL + 500 },
		{ "2026-11-01T10:20:30.0123456Z", 0, 1, (1793491200 + 37230) * 1000LL + 12 },
		{ "2026-11-01T10:20:30,25+01:00", 0, 1, (1793491200 + 37230 - 3600) * 1000LL + 250 },
	};
	int64_t t;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = clock_parse_iso8601_ms(cases[i].s, cases[i].end, &t);

		CHECK((rc == 0) == cases[i].ok, "%s: rc %d", cases[i].s, rc);
		if (!rc && cases[i].ok)
			CHECK((long long)t == cases[i].t, "%s: %lld, want %lld", cases[i].s,
			      (long long)t, cases[i].t);
	}
	{
		/* Written back: to the second when it falls on one, else with milliseconds. */
		char buf[CLOCK_ISO_MS_LEN];
		const char *out = buf;

		clock_iso_ms((1793491200 + 37230) * 1000LL, buf);
		CHECK_STR(out, "2026-11-01T10:20:30Z");
		clock_iso_ms((1793491200 + 37230) * 1000LL + 7, buf);
		CHECK_STR(out, "2026-11-01T10:20:30.007Z");
		clock_iso_ms((1793491200 + 86399) * 1000LL + 999, buf);
		CHECK_STR(out, "2026-11-01T23:59:59.999Z");
	}
}

static json_t *parse(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	CHECK(v != NULL, "parse %s", text);
	return v;
}

static void test_read_as_of(void)
{
	struct scoring_errors errs;
	int64_t today;
	json_t *v, *got;

	clock_parse_day("2026-11-29", &today);
	scoring_errors_init(&errs);
	v = json_string("2026-11-29");
	got = recency_read_as_of(v, "x.as_of", today, &errs);
	CHECK(got && !strcmp(json_string_value(got), "2026-11-29") && !errs.n, "today is fine");
	json_decref(got);
	json_decref(v);
	v = json_string("2026-11-30");
	CHECK(!recency_read_as_of(v, "x.as_of", today, &errs), "tomorrow");
	json_decref(v);
	CHECK(errs.n == 1 && !strcmp(errs.e[0].field, "x.as_of") &&
		      strstr(errs.e[0].message, "future"), "tomorrow's error");
	v = json_integer(20261129);
	CHECK(!recency_read_as_of(v, "y", today, &errs), "a number");
	json_decref(v);
	v = json_string("2026-02-30");
	CHECK(!recency_read_as_of(v, "z", today, &errs), "no such day");
	json_decref(v);
	CHECK(errs.n == 3 && !strcmp(errs.e[2].field, "z"), "errors %d", errs.n);
}

#define DIM(score, extra) "{\"score\":" #score ",\"rationale\":\"r\",\"sources\":[]" extra "}"

static void test_fill(void)
{
	json_t *prev = parse("{\"assessment\":{\"evidence\":{"
			     "\"job_posting_trends\":" DIM(1, ",\"as_of\":\"2026-01-01\"") ","
			     "\"company_actions\":" DIM(1, ",\"as_of\":\"2026-01-02\"") ","
			     "\"wage_trends\":" DIM(1, ",\"as_of\":\"2026-01-03\"") ","
			     "\"ai_tool_maturity\":" DIM(1, ",\"as_of\":\"2026-01-04\"") ","
			     "\"expert_consensus\":" DIM(1, "") "}}}");
	/* Unchanged and dateless: kept; changed: today; given: as given; a new dimension of an
	 * old role without as_of: today. The evidence object is shared with prev's dims. */
	json_t *next = parse("{\"assessment\":{\"evidence\":{"
			     "\"job_posting_trends\":" DIM(1, "") ","
			     "\"company_actions\":" DIM(2, "") ","
			     "\"wage_trends\":" DIM(2, ",\"as_of\":\"2025-12-31\"") ","
			     "\"ai_tool_maturity\":" DIM(1, ",\"as_of\":\"2026-01-04\"") ","
			     "\"expert_consensus\":" DIM(1, "") "}}}");
	json_t *ev_before = json_incref(json_object_get(json_object_get(next, "assessment"),
							"evidence"));
	json_t *ev;
	char oldest[CLOCK_DAY_LEN], *map;
	unsigned mask;
	json_t *m, *view;
	int64_t cutoff;

	CHECK_INT(recency_fill(next, prev, "2026-11-29T12:00:00Z"), 0);
	ev = json_object_get(json_object_get(next, "assessment"), "evidence");
#define AS_OF(name) json_string_value(json_object_get(json_object_get(ev, name), "as_of"))
	CHECK_STR(AS_OF("job_posting_trends"), "2026-01-01");
	CHECK_STR(AS_OF("company_actions"), "2026-11-29");
	CHECK_STR(AS_OF("wage_trends"), "2025-12-31");
	CHECK_STR(AS_OF("ai_tool_maturity"), "2026-01-04");
	CHECK_STR(AS_OF("expert_consensus"), "2026-11-29");
	CHECK(ev != ev_before, "the evidence object was changed in place");
	CHECK(!json_object_get(json_object_get(ev_before, "company_actions"), "as_of"),
	      "a shared dimension was changed in place");
	json_decref(ev_before);

	map = recency_map(next, oldest, sizeof(oldest));
	CHECK(!strcmp(oldest, "2025-12-31"), "oldest %s", oldest);
	m = map ? parse(map) : NULL;
	CHECK(m && json_object_size(m) == 5, "map %s", map ? map : "NULL");
	clock_parse_day("2026-01-02", &cutoff);
	view = recency_view(m, cutoff, &mask);
	/* Before 2026-01-02: job_posting_trends (bit 0) and wage_trends (bit 2). */
	CHECK_INT(mask, 5);
	CHECK(json_is_true(json_object_get(json_object_get(view, "wage_trends"), "stale")) &&
		      json_is_false(json_object_get(json_object_get(view, "company_actions"),
						    "stale")), "view");
	json_decref(view);
	view = recency_view(NULL, cutoff, &mask);
	CHECK(mask == 0 && json_is_null(json_object_get(json_object_get(view, "wage_trends"),
							"as_of")), "unknown dates");
	json_decref(view);
	json_decref(m);
	free(map);

	/* A role stored before as_of: filled from the store's map. */
	json_decref(next);
	next = parse("{\"assessment\":{\"evidence\":{\"wage_trends\":" DIM(1, "") "}}}");
	recency_fill_stored(next, "{\"wage_trends\":\"2026-03-04\"}");
	ev = json_object_get(json_object_get(next, "assessment"), "evidence");
	CHECK_STR(AS_OF("wage_trends"), "2026-03-04");
	json_decref(next);
	json_decref(prev);
	CHECK_INT(recency_cutoff(100, 30), 70);
}

static void test_codes(void)
{
	static const struct {
		const char *s;
		int soc, soc_prefix, isco;
	} cases[] = {
		{ "15-1252", 1, 1, 0 },  { "15-1252.00", 1, 1, 0 }, { "15-1252.0", 0, 1, 0 },
		{ "15-", 0, 1, 0 },      { "15", 0, 1, 1 },         { "1", 0, 1, 1 },
		{ "2512", 0, 0, 1 },     { "25123", 0, 0, 0 },      { "15-1252.001", 0, 0, 0 },
		{ "15_1252", 0, 0, 0 },  { "", 0, 0, 0 },           { "15-12a2", 0, 0, 0 },
		{ " 15", 0, 0, 0 },      { "x", 0, 0, 0 },
	};
	struct scoring_errors errs;
	json_t *v, *got, *role;
	char *joined;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(codes_soc_ok(cases[i].s) == cases[i].soc, "soc %s", cases[i].s);
		CHECK(codes_soc_prefix_ok(cases[i].s) == cases[i].soc_prefix, "soc prefix %s",
		      cases[i].s);
		CHECK(codes_isco_ok(cases[i].s) == cases[i].isco, "isco %s", cases[i].s);
	}
	scoring_errors_init(&errs);
	v = parse("{\"soc\":[\"15-1252.00\",\"15-1252\"],\"isco\":[\"2512\"]}");
	got = codes_read(v, "codes", &errs);
	CHECK(!errs.n && json_equal(got, v), "valid codes");
	role = json_pack("{s:O}", "codes", got);
	CHECK(codes_join(role, "soc", ';', &joined) == 0, "codes joined");
	CHECK_STR(joined, "15-1252.00;15-1252");
	free(joined);
	json_decref(role);
	json_decref(got);
	json_decref(v);
	got = codes_read(NULL, "codes", &errs);
	v = parse("{\"soc\":[],\"isco\":[]}");
	CHECK(!errs.n && json_equal(got, v), "absent codes");
	json_decref(got);
	json_decref(v);
	v = parse("{\"soc\":[\"15-1252\",\"15-1252\",\"bad\",3],\"isco\":\"2512\",\"esco\":[]}");
	got = codes_read(v, "codes", &errs);
	json_decref(got);
	json_decref(v);
	CHECK(errs.n == 5, "%d errors", errs.n);
	CHECK(errs.n == 5 && !strcmp(errs.e[0].field, "codes.esco") &&
		      !strcmp(errs.e[1].field, "codes.soc[1]") &&
		      !strcmp(errs.e[2].field, "codes.soc[2]") &&
		      !strcmp(errs.e[3].field, "codes.soc[3]") && !strcmp(errs.e[4].field, "codes.isco"),
	      "error fields");
	got = codes_split("15-1252 15-2051.00");
	v = parse("[\"15-1252\",\"15-2051.00\"]");
	CHECK(json_equal(got, v), "split");
	json_decref(got);
	json_decref(v);
	got = codes_split(NULL);
	CHECK(json_is_array(got) && !json_array_size(got), "split NULL");
	json_decref(got);
}

static const struct harness_test tests[] = {
	{ "days", test_days },
	{ "iso8601", test_iso8601 },
	{ "read_as_of", test_read_as_of },
	{ "fill", test_fill },
	{ "codes", test_codes },
	{ NULL, NULL },
};

int main(void)
{
	return harness_main("recency", tests);
}
