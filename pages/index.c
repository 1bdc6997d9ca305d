/*
 * index.c: the index page (GET /): a search form that works without script (q, zone, sort),
 * the distribution of the matching roles' scores, a page of them with links to their pages,
 * and links to the pages before and after. The search is the JSON list's (GET /roles): the
 * caller validated it; here it is only echoed, escaped. The list's other filters (min_score,
 * max_score, soc, isco, stale), which the form does not show, are kept by its links and, as
 * hidden fields, by the form.
 */
#include <stdio.h>
#include <string.h>

#include "pages/pages_int.h"

/* Appends "name=value" percent-encoded, after "?" or "&amp;". */
static void query_arg(struct pg *w, int *n, const char *name, const char *value)
{
	const unsigned char *p;

	if (!value || !*value)
		return;
	pg_s(w, (*n)++ ? "&amp;" : "?");
	pg_s(w, name);
	pg_s(w, "=");
	for (p = (const unsigned char *)value; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p))
			pg_f(w, "%c", *p);
		else
			pg_f(w, "%%%02X", *p);
	}
}

/* A link to the page of the list at `offset`, the search kept. */
static void page_link(struct pg *w, const struct pages_index *p, int offset, const char *text,
		      const char *rel)
{
	char lim[16], off[16];
	int n = 0;

	snprintf(lim, sizeof(lim), "%d", p->limit);
	snprintf(off, sizeof(off), "%d", offset);
	pg_f(w, "<a rel=\"%s\" href=\"/", rel);
	query_arg(w, &n, "q", p->q);
	query_arg(w, &n, "zone", p->zone);
	query_arg(w, &n, "sort", p->sort);
	query_arg(w, &n, "min_score", p->min_score);
	query_arg(w, &n, "max_score", p->max_score);
	query_arg(w, &n, "soc", p->soc);
	query_arg(w, &n, "isco", p->isco);
	query_arg(w, &n, "stale", p->stale);
	if (p->limit != 20)
		query_arg(w, &n, "limit", lim);
	if (offset)
		query_arg(w, &n, "offset", off);
	pg_f(w, "\">%s</a>", text);
}

static void option(struct pg *w, const char *value, const char *text, const char *current)
{
	pg_s(w, "<option value=\"");
	pg_s(w, value);
	pg_s(w, "\"");
	if ((!current && !*value) || (current && !strcmp(current, value)))
		pg_s(w, " selected");
	pg_f(w, ">%s</option>", text);
}

/* A filter the form does not show, kept as it was given. */
static void hidden(struct pg *w, const char *name, const char *value)
{
	if (!value)
		return;
	pg_f(w, "<input type=\"hidden\" name=\"%s\" value=\"", name);
	pg_e(w, value);
	pg_s(w, "\">\n");
}

static void search_form(struct pg *w, const struct pages_index *p)
{
	pg_s(w, "<form class=\"search\" method=\"get\" action=\"/\" role=\"search\">\n"
		"<div><label for=\"q\">Search roles</label><input id=\"q\" name=\"q\" type=\"search\" "
		"maxlength=\"200\" value=\"");
	pg_e(w, p->q);
	pg_s(w, "\"></div>\n<div><label for=\"zone\">Zone</label><select id=\"zone\" name=\"zone\">");
	option(w, "", "All zones", p->zone);
	option(w, "green", "Green", p->zone);
	option(w, "yellow", "Yellow", p->zone);
	option(w, "red", "Red", p->zone);
	pg_s(w, "</select></div>\n<div><label for=\"sort\">Sort by</label><select id=\"sort\" "
		"name=\"sort\">");
	option(w, "title", "Title", p->sort ? p->sort : "title");
	option(w, "-score", "Score, highest first", p->sort);
	option(w, "score", "Score, lowest first", p->sort);
	pg_s(w, "</select></div>\n");
	if (p->limit != 20)
		pg_f(w, "<input type=\"hidden\" name=\"limit\" value=\"%d\">\n", p->limit);
	hidden(w, "min_score", p->min_score);
	hidden(w, "max_score", p->max_score);
	hidden(w, "soc", p->soc);
	hidden(w, "isco", p->isco);
	hidden(w, "stale", p->stale);
	pg_s(w, "<div><button type=\"submit\">Search</button></div>\n</form>\n");
}

static void distribution(struct pg *w, const struct pages_index *p)
{
	int z[3] = { 0, 0, 0 }, i, k;

	for (i = 0; i < PAGES_BINS; i++)
		for (k = 0; k < 3; k++)
			z[k] += p->bins[i][k];
	pg_s(w, "<section>\n<h2>Distribution of scores</h2>\n<div class=\"fig\">");
	svg_distribution(w, p->bins);
	pg_f(w, "</div>\n<p>%d role%s %s: <span class=\"z-green\">%d Green</span>, "
		"<span class=\"z-yellow\">%d Yellow</span>, <span class=\"z-red\">%d Red</span>. "
		"Scores in bands of ten, from 0 (at risk) to 100 (protected).</p>\n</section>\n",
	     p->total, p->total == 1 ? "" : "s",
	     p->q || p->zone || p->min_score || p->max_score || p->soc || p->isco || p->stale
		     ? "match"
		     : "in all", z[2], z[1],
	     z[0]);
}

static void roles_table(struct pg *w, const struct pages_index *p)
{
	json_t *it;
	size_t i;

	pg_s(w, "<section>\n<h2>Roles</h2>\n");
	if (!json_array_size(p->items)) {
		pg_s(w, "<p>No role matches this search.</p>\n</section>\n");
		return;
	}
	pg_s(w, PG_TABLE("Roles")
		"\n<thead><tr><th scope=\"col\">Role</th><th scope=\"col\">Category</th>"
		"<th scope=\"col\">Seniority</th><th scope=\"col\" class=\"n\">Score</th>"
		"<th scope=\"col\">Zone</th><th scope=\"col\">Updated</th></tr></thead>\n<tbody>\n");
	json_array_foreach(p->items, i, it) {
		const char *zone = pg_str(it, "zone");

		if (strcmp(zone, "green") && strcmp(zone, "yellow"))
			zone = "red";
		pg_s(w, "<tr><th scope=\"row\"><a href=\"/roles/");
		pg_e(w, pg_str(it, "slug"));
		pg_s(w, "\">");
		pg_e(w, pg_str(it, "title"));
		pg_s(w, "</a></th><td>");
		pg_e(w, pg_str(it, "category"));
		pg_s(w, "</td><td>");
		pg_e(w, pg_str(it, "seniority"));
		pg_s(w, "</td><td class=\"n\">");
		pg_score(w, pg_num_of(it, "score"));
		pg_f(w, "</td><td class=\"z-%s\">", zone);
		pg_e(w, pg_str(it, "label"));
		pg_s(w, "</td><td>");
		pg_e(w, pg_str(it, "updated_at"));
		pg_s(w, "</td></tr>\n");
	}
	pg_s(w, "</tbody>\n</table></div>\n</section>\n");
}

static void pager(struct pg *w, const struct pages_index *p)
{
	int shown = (int)json_array_size(p->items);

	pg_s(w, "<nav class=\"pager\" aria-label=\"Pages of roles\">");
	if (shown)
		pg_f(w, "<span>Showing %d to %d of %d</span>", p->offset + 1, p->offset + shown,
		     p->total);
	if (p->offset > 0)
		page_link(w, p, p->offset > p->limit ? p->offset - p->limit : 0, "Previous page",
			  "prev");
	if ((long long)p->offset + p->limit < p->total)
		page_link(w, p, p->offset + p->limit, "Next page", "next");
	pg_s(w, "</nav>\n");
}

int pages_index_html(struct buf *out, const struct pages_index *p)
{
	struct pg w = PG_INIT(out);
	struct pg_head h;

	memset(&h, 0, sizeof(h));
	h.base_url = p->base_url;
	h.title = "AI Job Resistance Index: how resistant each role is to AI";
	h.canonical = "/";
	h.feed = "/feed.atom";
	h.feed_title = "Every revision of every role";
	pg_head(&w, &h);
	pg_s(&w, "<h1>AI Job Resistance Index</h1>\n<p class=\"prose\">How resistant each occupation "
		 "is to displacement by AI, from 0 (at risk) to 100 (protected): <span "
		 "class=\"z-green\">Green</span> from 48, <span class=\"z-yellow\">Yellow</span> from "
		 "25 to 47, <span class=\"z-red\">Red</span> under 25. Each role's page shows how its "
		 "score was reached and how it changed.</p>\n");
	search_form(&w, p);
	distribution(&w, p);
	roles_table(&w, p);
	pager(&w, p);
	pg_foot(&w, p->base_url);
	return w.rc;
}
