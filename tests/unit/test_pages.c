/*
 * test_pages.c: the pages module as pure functions: escaping (markup, quotes, characters XML
 * forbids, bytes that are not UTF-8), CommonMark made safe (raw HTML as text, only http, https
 * and mailto links, images as links, headings flattened), the badge, the history chart, the
 * Atom feed (bound, escaping, absolute URLs) and the role page and index built from the seed.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pages/pages.h"
#include "tests/unit/harness.h"

/* The output of f as a C string (static buffer: one at a time). */
static struct buf out = BUF_INIT(PAGES_MAX_BYTES);

static const char *esc(const char *text)
{
	buf_reset(&out);
	CHECK_INT(pages_escape(&out, text), 0);
	return buf_str(&out);
}

static const char *md(const char *text)
{
	buf_reset(&out);
	CHECK_INT(pages_markdown(&out, text), 0);
	return buf_str(&out);
}

static void test_escape(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "plain", "plain" },
		{ "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;" },
		{ "a & b \"c\" 'd'", "a &amp; b &quot;c&quot; &#39;d&#39;" },
		{ "tab\tline\nok", "tab\tline\nok" },
		{ "bell\x07", "bell\xEF\xBF\xBD" },             /* XML forbids C0 controls */
		{ "del\x7f", "del\xEF\xBF\xBD" },
		{ "c1\xC2\x85", "c1\xEF\xBF\xBD" },              /* U+0085 */
		{ "nonchar\xEF\xBF\xBF", "nonchar\xEF\xBF\xBD" }, /* U+FFFF */
		{ "bad\xFFutf8", "bad\xEF\xBF\xBDutf8" },
		{ "overlong\xC0\xAF", "overlong\xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "surrogate\xED\xA0\x80", "surrogate\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "cut\xE2\x82", "cut\xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "é — ✓ 𝄞", "é — ✓ 𝄞" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(esc(cases[i].in), cases[i].want);
}

static void test_markdown(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "*a* and **b**", "<p><em>a</em> and <strong>b</strong></p>\n" },
		{ "- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n" },
		{ "<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n" },
		{ "x <b onclick=\"y\">z</b>", "<p>x &lt;b onclick=&quot;y&quot;&gt;z&lt;/b&gt;</p>\n" },
		{ "[x](javascript:alert(1))", "<p>x</p>\n" },
		{ "[x](JavaScript:alert(1))", "<p>x</p>\n" },
		{ "<javascript:alert(1)>", "<p>javascript:alert(1)</p>\n" },
		{ "[x](data:text/html,hi)", "<p>x</p>\n" },
		{ "[x](/relative)", "<p>x</p>\n" },
		{ "[x](ftp://example.org)", "<p>x</p>\n" },
		{ "[x](https:/e.org/a://b)", "<p>x</p>\n" },
		{ "[x](https://example.org/a?b=1&c=2)",
		  "<p><a href=\"https://example.org/a?b=1&amp;c=2\">x</a></p>\n" },
		{ "<https://example.org>",
		  "<p><a href=\"https://example.org\">https://example.org</a></p>\n" },
		{ "[m](mailto:a@example.org)", "<p><a href=\"mailto:a@example.org\">m</a></p>\n" },
		{ "![alt](https://example.org/i.png)",
		  "<p><a href=\"https://example.org/i.png\">alt</a></p>\n" },
		{ "![alt](javascript:x)", "<p>alt</p>\n" },
		{ "[![in](https://e.org/i.png)](https://e.org)",
		  "<p><a href=\"https://e.org\">in</a></p>\n" },
		{ "# Big\n\ntext", "<p><strong>Big</strong></p>\n<p>text</p>\n" },
		{ "## [l](javascript:x) *e*", "<p><strong>l <em>e</em></strong></p>\n" },
		{ "```\n<script>\n```", "<pre><code>&lt;script&gt;\n</code></pre>\n" },
		{ "bell\x07", "<p>bell\xEF\xBF\xBD</p>\n" },
		{ "", "" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(md(cases[i].in), cases[i].want);
	/* A block of raw HTML becomes text, whatever it holds. */
	CHECK(!strstr(md("<div>\n<iframe src=x></iframe>\n</div>"), "<iframe"), "iframe");
	CHECK(strstr(md("<div>\n<iframe src=x></iframe>\n</div>"), "&lt;iframe"), "as text");
}

static json_t *revisions(int n)
{
	json_t *a = json_array();
	int i;

	/* Newest first, as the store lists them. */
	for (i = n; i >= 1; i--)
		json_array_append_new(
			a, json_pack("{s:i, s:f, s:s, s:s, s:s, s:[s], s:s, s:s?, s:s, s:s}", "revision", i,
				     "score", i % 2 ? 55.2 : 30.0, "zone", i % 2 ? "green" : "yellow", "label",
				     i % 2 ? "Green (Transforming)" : "Yellow (Moderate)", "reason",
				     "a <b>reason</b> & more", "changed", "evidence.wage_trends",
				     "created_at", "2026-11-24T12:00:00Z", "actor", NULL, "slug",
				     "edge-ai-engineer", "title", "Edge <AI> Engineer"));
	return a;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

static void test_badge_and_history(void)
{
	json_t *revs = revisions(3), *many = revisions(PAGES_HISTORY_MAX + 30);

	buf_reset(&out);
	CHECK_INT(pages_badge_svg(&out, 55.2, "green", "Green <Transforming>"), 0);
	CHECK(strstr(buf_str(&out), ">AI resistance</text>"), "badge label");
	CHECK(strstr(buf_str(&out), ">55.2 Green</text>"), "badge value");
	CHECK(strstr(buf_str(&out), "fill=\"#1a7f37\""), "green");
	CHECK(strstr(buf_str(&out), "Green &lt;Transforming&gt;"), "label escaped");
	buf_reset(&out);
	CHECK_INT(pages_badge_svg(&out, 12.34, "red", "Red (Declining)"), 0);
	CHECK(strstr(buf_str(&out), ">12.3 Red</text>") && strstr(buf_str(&out), "#c21f2b"), "red");

	buf_reset(&out);
	CHECK_INT(pages_history_svg(&out, "Edge <AI> Engineer", revs), 0);
	CHECK(!strncmp(buf_str(&out), "<?xml", 5), "a standalone document");
	CHECK_INT(count(buf_str(&out), "<circle"), 3);
	CHECK(strstr(buf_str(&out), "Edge &lt;AI&gt; Engineer: the published score over 3 revisions "
				    "(r1 to r3), now 55.2"), "title: %s", buf_str(&out));
	buf_reset(&out);
	CHECK_INT(pages_history_svg(&out, "x", many), 0);
	CHECK_INT(count(buf_str(&out), "<circle"), PAGES_HISTORY_MAX);
	json_decref(revs);
	json_decref(many);
}

static void test_feed(void)
{
	json_t *revs = revisions(PAGES_FEED_MAX + 5);
	struct pages_feed f = { "https://aijri.example.org", "Feed <title>",
				"/roles/edge-ai-engineer/feed.atom", "/roles/edge-ai-engineer",
				"2026-11-25T00:00:00Z", revs };
	const char *t;

	buf_reset(&out);
	CHECK_INT(pages_feed_atom(&out, &f), 0);
	t = buf_str(&out);
	CHECK_INT(count(t, "<entry>"), PAGES_FEED_MAX);
	CHECK(strstr(t, "<id>https://aijri.example.org/roles/edge-ai-engineer/revisions/55</id>"),
	      "newest entry first, absolute id");
	CHECK(!strstr(t, "/revisions/5</id>"), "the oldest beyond the bound left out");
	CHECK(strstr(t, "<title>Edge &lt;AI&gt; Engineer: 55.2, Green (Transforming) (revision 55)"
			"</title>"), "entry title");
	CHECK(strstr(t, "Reason: a &lt;b&gt;reason&lt;/b&gt; &amp; more"), "reason escaped");
	CHECK(strstr(t, "Changed: evidence.wage_trends"), "changed paths");
	CHECK(strstr(t, "(was 30.0, Yellow (Moderate))"), "the revision before");
	CHECK(strstr(t, "<title>Feed &lt;title&gt;</title>"), "feed title");
	CHECK(!strstr(t, "<script") && !strstr(t, "<b>"), "no markup");
	json_decref(revs);
	/* No entry: the given time. */
	revs = json_array();
	f.entries = revs;
	buf_reset(&out);
	CHECK_INT(pages_feed_atom(&out, &f), 0);
	CHECK(strstr(buf_str(&out), "<updated>2026-11-25T00:00:00Z</updated>"), "empty feed");
	json_decref(revs);
}

static json_t *load_seed(void)
{
	static const char *const paths[] = { "data/edge-ai-engineer.json",
					     "../data/edge-ai-engineer.json",
					     "../../data/edge-ai-engineer.json",
					     "../../../data/edge-ai-engineer.json" };
	size_t i;
	json_t *v;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if ((v = json_load_file(paths[i], 0, NULL)))
			return v;
	fprintf(stderr, "cannot load data/edge-ai-engineer.json\n");
	exit(1);
}

/* The seed's score block, as the store keeps it. */
static json_t *seed_block(void)
{
	return json_loads(
		"{\"role\":\"edge-ai-engineer\",\"title\":\"Edge AI Engineer\",\"score\":55.2,"
		"\"score_exact\":55.1576,\"zone\":\"green\",\"label\":\"Green (Transforming)\","
		"\"weighted_task_score\":2.25,\"task_resistance\":3.75,\"evidence\":{\"total\":5,"
		"\"modifier\":1.2},\"barriers\":{\"total\":2,\"modifier\":1.04,\"strength\":\"Weak\"},"
		"\"protective\":{\"total\":3},\"growth\":{\"score\":1,\"modifier\":1.05,\"wording\":"
		"\"AI slightly boosts jobs\"},\"raw\":4.914,\"share_scoring_3plus\":25,\"impact\":"
		"{\"displaced\":5,\"augmented\":90,\"not_involved\":5},\"composition\":"
		"{\"task_resistance\":37.5,\"evidence\":10.0,\"barriers\":3.0,\"protective\":3.3,"
		"\"growth\":2.5},\"override\":null,\"formula\":{\"score\":55.2,\"zone\":\"green\","
		"\"label\":\"Green (Transforming)\"},\"revision\":3,\"updated_at\":"
		"\"2026-11-24T12:00:00Z\",\"method_version\":\"1\"}", 0, NULL);
}

static void test_role_page(void)
{
	static const char *const want[] = {
		"<h1>Will AI Replace Edge AI Engineer Jobs?</h1>", "Score at a Glance", "3.75/5",
		"Task Resistance Score: 6.00 - 2.25 = 3.75/5.0", "1.0 + (5 x 0.04) = 1.20",
		"Raw: 3.75 x 1.20 x 1.04 x 1.05 = 4.9140",
		"JobZone Score: (4.9140 - 0.54) / 7.93 x 100 = 55.2/100",
		"Assessor override: None — formula score accepted.", "Revision History",
		"<h3>Atom feed</h3>", "https://aijri.example.org/roles/edge-ai-engineer/badge.svg",
	};
	json_t *role = load_seed(), *block = seed_block(), *revs = revisions(3);
	struct pages_role p = { "https://aijri.example.org", role, block, revs, 3, 3 };
	const char *t, *prev = NULL;
	size_t i;

	buf_reset(&out);
	CHECK_INT(pages_role_html(&out, &p), 0);
	t = buf_str(&out);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *at = strstr(t, want[i]);

		CHECK(at != NULL, "page lacks %s", want[i]);
		CHECK(!at || !prev || at > prev, "%s out of order", want[i]);
		prev = at ? at : prev;
	}
	CHECK(!strstr(t, "<script"), "no script");
	CHECK(!strstr(t, "style=\""), "no style attribute (the CSP forbids them)");
	CHECK(!strstr(t, "This is revision"), "the current page has no past note");
	/* A past revision's page says so and links the current one. */
	p.current = 5;
	buf_reset(&out);
	CHECK_INT(pages_role_html(&out, &p), 0);
	CHECK(strstr(buf_str(&out), "This is revision 3 of this assessment"), "past note");
	/* A hostile title. */
	json_object_set_new(role, "title", json_string("<script>x</script>"));
	buf_reset(&out);
	CHECK_INT(pages_role_html(&out, &p), 0);
	CHECK(!strstr(buf_str(&out), "<script>x"), "title escaped");
	CHECK(strstr(buf_str(&out), "&lt;script&gt;x&lt;/script&gt;"), "shown as text");
	json_decref(role);
	json_decref(block);
	json_decref(revs);
}

static void test_index_and_csp(void)
{
	json_t *items = json_loads("[{\"slug\":\"a-b\",\"title\":\"A <B>\",\"category\":null,"
				   "\"seniority\":null,\"score\":55.2,\"zone\":\"green\",\"label\":"
				   "\"Green (Stable)\",\"revision\":1,\"updated_at\":"
				   "\"2026-11-24T12:00:00Z\"}]", 0, NULL);
	struct pages_index p;
	const char *csp = pages_csp();

	memset(&p, 0, sizeof(p));
	p.base_url = "https://aijri.example.org";
	p.items = items;
	p.total = 41;
	p.limit = 20;
	p.offset = 20;
	p.q = "a \"b\" <c>&";
	p.sort = "-score";
	p.bins[5][2] = 41;
	buf_reset(&out);
	CHECK_INT(pages_index_html(&out, &p), 0);
	CHECK(strstr(buf_str(&out), "value=\"a &quot;b&quot; &lt;c&gt;&amp;\""), "query echoed");
	CHECK(strstr(buf_str(&out), "href=\"/?q=a%20%22b%22%20%3Cc%3E%26&amp;sort=-score&amp;"
				    "offset=40\""), "next page keeps the search: %s", buf_str(&out));
	CHECK(strstr(buf_str(&out), "rel=\"prev\" href=\"/?q=a%20%22b%22%20%3Cc%3E%26&amp;sort=-score\""),
	      "previous page");
	CHECK(strstr(buf_str(&out), ">A &lt;B&gt;</a>"), "title escaped");
	CHECK(strstr(buf_str(&out), "<option value=\"-score\" selected>"), "sort kept");
	CHECK(strstr(csp, "default-src 'none'") && strstr(csp, "style-src 'sha256-") &&
	      !strstr(csp, "script") && !strstr(csp, "unsafe"), "CSP: %s", csp);
	json_decref(items);
}

/* The personal-score page: the form prefilled from the assessment or as sent (escaped), then
 * either the personal score or the refused fields, each linking its input. */
static void test_what_if(void)
{
	json_t *role = json_loads("{\"slug\":\"a-b\",\"title\":\"A <B>\",\"seniority\":null,"
				  "\"assessment\":{\"tasks\":[{\"name\":\"<i>x</i>\","
				  "\"time_share\":60,\"score\":2},{\"name\":\"y\",\"time_share\":"
				  "40,\"score\":4}],\"growth\":{\"score\":1}}}", 0, NULL);
	json_t *score = json_loads("{\"score\":55.2,\"zone\":\"green\",\"label\":"
				   "\"Green (Stable)\",\"revision\":3}", 0, NULL);
	json_t *form = json_pack("{s:s}", "tasks[1].score", "\"><script>");
	json_t *errors = json_loads("[{\"field\":\"tasks[1].score\",\"message\":"
				    "\"must be an integer from 1 to 5\"}]", 0, NULL);
	json_t *result = json_loads("{\"score\":{\"score\":42.5,\"zone\":\"yellow\",\"label\":"
				    "\"Yellow (Urgent)\"},\"published\":{\"score\":55.2,\"zone\":"
				    "\"green\",\"label\":\"Green (Stable)\",\"revision\":3},"
				    "\"delta\":-12.7}", 0, NULL);
	struct pages_what_if p;
	const char *h;

	memset(&p, 0, sizeof(p));
	p.base_url = "https://aijri.example.org";
	p.role = role;
	p.score = score;
	buf_reset(&out);
	CHECK_INT(pages_what_if_html(&out, &p), 0);
	h = buf_str(&out);
	CHECK(strstr(h, "<form method=\"get\" action=\"/roles/a-b/what-if\">"), "the form");
	CHECK(strstr(h, "name=\"tasks[0].time_share\" min=\"0\" max=\"100\" step=\"any\" "
			"value=\"60\" aria-labelledby=\"t0 c-share\""), "a share, prefilled: %s", h);
	CHECK(strstr(h, "name=\"growth.score\" min=\"-2\" max=\"2\" step=\"1\" value=\"1\""),
	      "the growth score, prefilled");
	CHECK(strstr(h, "&lt;i&gt;x&lt;/i&gt;") && !strstr(h, "<i>x"), "a task's name escaped");
	CHECK(!strstr(h, "Your score") && !strstr(h, "role=\"alert\""), "nothing sent: no answer");
	p.form = form;
	p.errors = errors;
	buf_reset(&out);
	CHECK_INT(pages_what_if_html(&out, &p), 0);
	h = buf_str(&out);
	CHECK(strstr(h, "value=\"&quot;&gt;&lt;script&gt;\" aria-labelledby=\"t1 c-score\" "
			"aria-invalid=\"true\" aria-describedby=\"f-tasks-1--score-e\">"),
	      "the value sent, escaped, marked: %s", h);
	CHECK(!strstr(h, "<script"), "no script");
	CHECK(strstr(h, "<a href=\"#f-tasks-1--score\"><code>tasks[1].score</code></a>: must be an "
			"integer from 1 to 5"), "the refused field named and linked");
	CHECK(strstr(h, "id=\"f-tasks-1--score\""), "the link's target");
	p.errors = NULL;
	p.result = result;
	buf_reset(&out);
	CHECK_INT(pages_what_if_html(&out, &p), 0);
	h = buf_str(&out);
	CHECK(strstr(h, "<p class=\"t\">Your score</p><p class=\"v\">42.5</p><p class=\"h "
			"z-yellow\">Yellow (Urgent)</p>"), "the personal score: %s", h);
	CHECK(strstr(h, "<p class=\"v\">-12.7</p>"), "the difference");
	json_decref(role);
	json_decref(score);
	json_decref(form);
	json_decref(errors);
	json_decref(result);
}

int main(void)
{
	static const struct harness_test tests[] = {
		{ "escape", test_escape },
		{ "markdown", test_markdown },
		{ "badge_and_history", test_badge_and_history },
		{ "feed", test_feed },
		{ "role_page", test_role_page },
		{ "index_and_csp", test_index_and_csp },
		{ "what_if", test_what_if },
		{ NULL, NULL },
	};
	int rc = harness_main("pages", tests);

	buf_release(&out);
	return rc;
}
