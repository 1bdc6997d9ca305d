/*
 * follow.c: the end of a role's page: its revision history (the chart, and a table of the
 * newest revisions linking their pages) and how to follow the role (its Atom feed, a webhook,
 * the badge and how to embed it), and where to work out a personal score (the form of
 * GET /roles/{slug}/what-if, whatif.c).
 */
#include <stdio.h>
#include <string.h>

#include "pages/pages_int.h"

static void history_row(struct pg *w, const char *slug, json_t *rev)
{
	json_t *changed = json_object_get(rev, "changed"), *c;
	size_t i;
	int n = pg_int(rev, "revision");

	pg_f(w, "<tr><th scope=\"row\"><a href=\"/roles/");
	pg_e(w, slug);
	pg_f(w, "/revisions/%d\">r%d</a></th><td>", n, n);
	pg_time(w, pg_str(rev, "created_at"));
	pg_s(w, "</td><td class=\"n\">");
	pg_score(w, pg_num_of(rev, "score"));
	pg_f(w, "</td><td class=\"z-%s\">", !strcmp(pg_str(rev, "zone"), "green") ? "green"
					    : !strcmp(pg_str(rev, "zone"), "yellow") ? "yellow"
										    : "red");
	pg_e(w, pg_str(rev, "label"));
	pg_s(w, "</td>");
	pg_text_cell(w, pg_str(rev, "reason"));
	pg_s(w, json_array_size(changed) ? "<td>" : "<td>—");
	json_array_foreach(changed, i, c) {
		pg_s(w, i ? ", " : "");
		pg_s(w, "<code>");
		pg_e(w, json_string_value(c));
		pg_s(w, "</code>");
	}
	pg_s(w, "</td><td>");
	pg_e(w, json_is_string(json_object_get(rev, "actor")) ? pg_str(rev, "actor") : "aijri");
	pg_s(w, "</td></tr>\n");
}

void pg_role_history(struct pg *w, const struct pages_role *p)
{
	const char *slug = pg_str(p->role, "slug");
	json_t *revs = p->revisions;
	size_t i, n = json_array_size(revs);

	pg_s(w, "<section>\n<h2>Revision History</h2>\n<div class=\"fig\">");
	svg_history(w, pg_str(p->role, "title"), revs, 0);
	pg_f(w, "</div>\n" PG_TABLE("Revision history")
		"\n<caption class=\"muted\">The newest %zu of %d revision%s; every "
		"one is in the <a href=\"/roles/", n < PAGES_HISTORY_ROWS ? n : PAGES_HISTORY_ROWS,
	     p->revisions_total, p->revisions_total == 1 ? "" : "s");
	pg_e(w, slug);
	pg_s(w, "/feed.atom\">feed</a> and at <a href=\"/roles/");
	pg_e(w, slug);
	pg_s(w, "/revisions\">/roles/");
	pg_e(w, slug);
	pg_s(w, "/revisions</a> (JSON).</caption>\n<thead><tr><th scope=\"col\">Revision</th>"
		"<th scope=\"col\">Date</th><th scope=\"col\" class=\"n\">Score</th>"
		"<th scope=\"col\">Zone</th><th scope=\"col\">Reason</th><th scope=\"col\">Changed"
		"</th><th scope=\"col\">By</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < n && i < PAGES_HISTORY_ROWS; i++)
		history_row(w, slug, json_array_get(revs, i));
	pg_s(w, "</tbody>\n</table></div>\n</section>\n");
}

/* The seed's "personal report" offer: a link to the personal-score form, a page of its own
 * (its answers depend on what the reader sends, so this page stays one page per revision). */
static void personal_score(struct pg *w, const struct pages_role *p)
{
	pg_s(w, "<section>\n<h2>Personal AI Risk Assessment Report</h2>\n<h3>What's your AI risk "
		"score?</h3>\n<p>This is the general score for ");
	pg_role_name(w, p->role);
	pg_s(w, ". Get a personal score based on your specific experience, skills, and career "
		"path: <a href=\"/roles/");
	pg_e(w, pg_str(p->role, "slug"));
	pg_s(w, "/what-if\">work out your personal score</a> from your own task mix and your view "
		"of AI growth, by the same method (nothing you enter is stored).</p>\n</section>\n");
}

void pg_role_follow(struct pg *w, const struct pages_role *p)
{
	const char *base = p->base_url, *slug = pg_str(p->role, "slug");
	char path[256];

	pg_s(w, "<section>\n<h2>Get updates on ");
	pg_role_name(w, p->role);
	pg_s(w, "</h2>\n<p>This assessment is live-tracked. Follow it to hear when the score changes "
		"or new AI developments affect this role.</p>\n<h3>Atom feed</h3>\n<p>Every revision, "
		"newest first, in any feed reader: <a href=\"");
	snprintf(path, sizeof(path), "/roles/%s/feed.atom", slug);
	pg_url(w, base, path);
	pg_s(w, "\">");
	pg_url(w, base, path);
	pg_s(w, "</a></p>\n<h3>Webhook</h3>\n<p>Signed HTTP calls to your endpoint when the score or "
		"the zone moves (an API token is needed):</p>\n<pre><code>curl -X POST ");
	pg_url(w, base, "/webhooks");
	pg_s(w, " \\\n  -H \"Authorization: Bearer $TOKEN\" \\\n  -d '{\"url\":\"https://example.org/hook\","
		"\"events\":[\"score.changed\",\"zone.changed\"],\"roles\":[\"");
	pg_e(w, slug);
	pg_s(w, "\"]}'</code></pre>\n<h3>Badge</h3>\n<p><img src=\"/roles/");
	pg_e(w, slug);
	pg_s(w, "/badge.svg\" alt=\"AI resistance badge: ");
	pg_score(w, pg_num_of(p->score, "score"));
	pg_s(w, ", ");
	pg_e(w, pg_str(p->score, "label"));
	pg_s(w, "\"></p>\n<p>Embed it in a page:</p>\n<pre><code>");
	/* The snippet is shown as text: escaped once for the page. */
	pg_s(w, "&lt;a href=\"");
	snprintf(path, sizeof(path), "/roles/%s", slug);
	pg_url(w, base, path);
	pg_s(w, "\"&gt;&lt;img src=\"");
	snprintf(path, sizeof(path), "/roles/%s/badge.svg", slug);
	pg_url(w, base, path);
	pg_s(w, "\" alt=\"AI resistance\"&gt;&lt;/a&gt;</code></pre>\n</section>\n");
	/* Only on the current revision's page: a past one would offer today's assessment. */
	if (pg_int(p->score, "revision") >= p->current)
		personal_score(w, p);
}
