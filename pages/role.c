/*
 * role.c: a role's page, every section of the seed's page in the seed's order, from the stored
 * role body and its score block: the score at a glance, its composition, where the role sits,
 * the summary, the role's definition, protective principles and growth, the tasks and their
 * impact split, the evidence, the barriers, the growth check, the composite score with its
 * waterfall and inputs, the sub-label, the override note, the commentary, the outlook, the
 * sources; then the revision history with its chart and how to follow the role.
 *
 * The seed's fixed words (headings, card explanations, the reframed question) are the page's;
 * every figure comes from the score block, every other text from the role, escaped or rendered
 * as CommonMark by pg_md().
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pages/pages_int.h"

/* What every section reads. */
struct rp {
	struct pg *w;
	const struct pages_role *p;
	json_t *role, *a, *sc, *commentary;
	const char *slug, *zone;
};

static const char *const evidence_keys[5] = { "job_posting_trends", "company_actions", "wage_trends",
					      "ai_tool_maturity", "expert_consensus" };
static const char *const evidence_names[5] = { "Job Posting Trends", "Company Actions",
					       "Wage Trends", "AI Tool Maturity", "Expert Consensus" };
static const char *const barrier_keys[5] = { "regulatory", "physical_presence", "union_power",
					     "liability", "cultural" };
static const char *const barrier_short[5] = { "Regulatory", "Physical", "Union Power", "Liability",
					      "Cultural" };
static const char *const barrier_names[5] = { "Regulatory/Licensing", "Physical Presence",
					      "Union/Collective Bargaining",
					      "Liability/Accountability", "Cultural/Ethical" };
static const char *const protective_keys[3] = { "embodied_physicality",
						"deep_interpersonal_connection", "moral_judgment" };
static const char *const protective_names[3] = { "Embodied Physicality",
						 "Deep Interpersonal Connection",
						 "Goal-Setting & Moral Judgment" };
static const char *const protective_short[3] = { "Embodied Physicality",
						 "Deep Interpersonal Connection", "Moral Judgment" };
/* What each protective score means, 0 to 3 (the seed's words for its own scores). */
static const char *const protective_words[3][4] = {
	{ "No physical presence needed", "Minimal physical presence",
	  "Significant physical presence", "Physical presence is essential" },
	{ "No human connection needed", "Some human connection",
	  "Significant human connection", "Human connection is the core value" },
	{ "Little moral weight", "Some moral weight", "Significant moral weight",
	  "Heavy moral weight" },
};

static const char *impact_of(int score, int caps)
{
	if (score >= 4)
		return caps ? "DISPLACEMENT" : "Displaced";
	if (score >= 2)
		return caps ? "AUGMENTATION" : "Augmented";
	return caps ? "NOT INVOLVED" : "Not Involved";
}

static const char *comment(struct rp *r, const char *section)
{
	return json_string_value(json_object_get(r->commentary, section));
}

/* A label, then CommonMark whose first paragraph runs on from it. */
static void labelled(struct pg *w, const char *label, const char *text)
{
	if (!text)
		return;
	pg_s(w, "<div class=\"prose lp\"><strong>");
	pg_e(w, label);
	pg_s(w, "</strong> ");
	pg_md(w, text);
	pg_s(w, "</div>\n");
}

static void prose(struct pg *w, const char *text)
{
	if (!text)
		return;
	pg_s(w, "<div class=\"prose\">");
	pg_md(w, text);
	pg_s(w, "</div>\n");
}

static void signed_int(struct pg *w, int v)
{
	pg_f(w, "%+d", v);
}

/* ---------------------------------------------------------------------------------------
 * The top: the question, the score, the five cards, composition, where the role sits
 */

static void section_hero(struct rp *r)
{
	struct pg *w = r->w;
	json_t *aliases = json_object_get(r->role, "aliases"), *al;
	size_t i;
	int rev = pg_int(r->sc, "revision");

	if (rev && rev < r->p->current) {
		/* No count of the revisions since: a past page stays as it is once past. */
		pg_f(w, "<p class=\"note\">This is revision %d of this assessment, as it was on ",
		     rev);
		pg_time(w, pg_str(r->sc, "updated_at"));
		pg_s(w, ". <a href=\"/roles/");
		pg_e(w, r->slug);
		pg_s(w, "\">The current assessment</a>.</p>\n");
	}
	pg_s(w, "<h1>Will AI Replace ");
	pg_e(w, pg_str(r->role, "title"));
	pg_s(w, " Jobs?</h1>\n");
	if (json_array_size(aliases)) {
		pg_s(w, "<p>Also known as: ");
		json_array_foreach(aliases, i, al) {
			pg_s(w, i ? " · " : "");
			pg_e(w, json_string_value(al));
		}
		pg_s(w, "</p>\n");
	}
	pg_s(w, "<p class=\"muted\">");
	if (*pg_str(r->role, "seniority")) {
		pg_e(w, pg_str(r->role, "seniority"));
		pg_s(w, " · ");
	}
	if (*pg_str(r->role, "category")) {
		pg_e(w, pg_str(r->role, "category"));
		pg_s(w, " · ");
	}
	pg_s(w, "<strong>Live Tracked</strong>: This assessment is actively monitored and updated "
		"as AI capabilities change.</p>\n<div class=\"hero\"><div class=\"gauge\">");
	svg_gauge(w, pg_num_of(r->sc, "score"), r->zone);
	pg_f(w, "</div><div><p><span class=\"pill z-%s\">", r->zone);
	pg_label_caps(w, pg_str(r->sc, "label"));
	pg_s(w, "</span></p><p><span class=\"big\">");
	pg_score(w, pg_num_of(r->sc, "score"));
	pg_f(w, "</span> /100</p><p class=\"muted\">AI Job Resistance Index (JobZone score), "
		"revision %d, updated ", rev);
	pg_time(w, pg_str(r->sc, "updated_at"));
	pg_s(w, "</p></div></div>\n");
}

static const char *zone_word(const char *zone)
{
	return !strcmp(zone, "green") ? "PROTECTED" : !strcmp(zone, "yellow") ? "UNDER PRESSURE"
									   : "AT RISK";
}

static void card(struct pg *w, const char *title)
{
	pg_s(w, "<li><p class=\"t\">");
	pg_s(w, title);
	pg_s(w, "</p><p class=\"v\">");
}

static void card_end(struct pg *w, const char *help)
{
	pg_s(w, "</p><p class=\"h\">");
	pg_s(w, help);
	pg_s(w, "</p></li>\n");
}

static void section_glance(struct rp *r)
{
	struct pg *w = r->w;
	json_t *sc = r->sc;

	pg_s(w, "<section>\n<h2>Score at a Glance</h2>\n<ul class=\"cards\">\n");
	card(w, "Overall");
	pg_score(w, pg_num_of(sc, "score"));
	pg_f(w, " /100</p><p class=\"t z-%s\">%s</p></li>\n", r->zone, zone_word(r->zone));
	card(w, "Task Resistance");
	pg_f(w, "%.2f/5", pg_num_of(sc, "task_resistance"));
	card_end(w, "How resistant daily tasks are to AI automation. 5.0 = fully human, 1.0 = fully "
		    "automatable.");
	card(w, "Evidence");
	signed_int(w, pg_int(json_object_get(sc, "evidence"), "total"));
	pg_s(w, "/10");
	card_end(w, "Real-world market signals: job postings, wages, company actions, expert "
		    "consensus. Range -10 to +10.");
	card(w, "Barriers to AI");
	pg_f(w, "%d/10", pg_int(json_object_get(sc, "barriers"), "total"));
	card_end(w, "Structural barriers preventing AI replacement: licensing, physical presence, "
		    "unions, liability, culture.");
	card(w, "Protective Principles");
	pg_f(w, "%d/9", pg_int(json_object_get(sc, "protective"), "total"));
	card_end(w, "Human-only factors: physical presence, deep interpersonal connection, moral "
		    "judgment.");
	card(w, "AI Growth");
	signed_int(w, pg_int(json_object_get(sc, "growth"), "score"));
	pg_s(w, "/2");
	card_end(w, "Does AI adoption create more demand for this role? 2 = strong boost, 0 = "
		    "neutral, negative = shrinking.");
	pg_s(w, "</ul>\n</section>\n");
}

static void section_composition(struct rp *r)
{
	static const char *const keys[5] = { "task_resistance", "evidence", "barriers",
					     "protective", "growth" };
	static const char *const names[5] = { "Task Resistance (50%)", "Evidence (20%)",
					      "Barriers (15%)", "Protective (10%)",
					      "AI Growth (5%)" };
	struct pg *w = r->w;
	json_t *comp = json_object_get(r->sc, "composition");
	int i;

	pg_s(w, "<section>\n<h2>Score Composition</h2>\n<p class=\"big\">");
	pg_score(w, pg_num_of(r->sc, "score"));
	pg_s(w, "/100</p>\n<div class=\"fig\">");
	svg_composition(w, comp);
	pg_s(w, "</div>\n<ul class=\"legend\">");
	for (i = 0; i < 5; i++) {
		pg_f(w, "<li><span class=\"sw sw%d\"></span>%s: ", i, names[i]);
		pg_f(w, "%.1f</li>", pg_num_of(comp, keys[i]));
	}
	pg_s(w, "</ul>\n</section>\n<section>\n<h2>Where This Role Sits</h2>\n<div class=\"fig\">");
	svg_scale(w, pg_num_of(r->sc, "score"), r->zone);
	pg_s(w, "</div>\n<p class=\"ends\"><span>0 — At Risk</span><span>100 — Protected</span></p>\n"
		"<p><strong>");
	pg_role_name(w, r->role);
	pg_s(w, ": ");
	pg_score(w, pg_num_of(r->sc, "score"));
	pg_s(w, "</strong></p>\n</section>\n");
}

static void section_summary(struct rp *r)
{
	static const char *const said[3][2] = {
		{ "green", "This role is protected from AI displacement. The assessment below "
			   "explains why — and what's still changing." },
		{ "yellow", "This role is under pressure from AI: parts of it are changing fast. The "
			    "assessment below explains where — and what still protects it." },
		{ "red", "This role is at high risk of AI displacement. The assessment below explains "
			 "why — and what could still change it." },
	};
	int i;

	for (i = 0; i < 3; i++)
		if (!strcmp(r->zone, said[i][0]))
			pg_f(r->w, "<p><strong>%s</strong></p>\n", said[i][1]);
	prose(r->w, json_string_value(json_object_get(r->role, "summary")));
}

/* ---------------------------------------------------------------------------------------
 * Definition, protective principles and growth
 */

static void def_row(struct pg *w, const char *field, const char *value)
{
	pg_s(w, "<tr><th scope=\"row\">");
	pg_s(w, field);
	pg_s(w, "</th>");
	pg_text_cell(w, value);
	pg_s(w, "</tr>\n");
}

/* A row of the role's codes of one kind (the join key to O*NET, ESCO and the statistics
 * offices), separated by commas; none when the role has none. */
static void code_row(struct pg *w, const char *field, json_t *codes)
{
	json_t *c;
	size_t i;

	if (!json_array_size(codes))
		return;
	pg_s(w, "<tr><th scope=\"row\">");
	pg_s(w, field);
	pg_s(w, "</th><td class=\"pl\">");
	json_array_foreach(codes, i, c) {
		if (i)
			pg_s(w, ", ");
		pg_e(w, json_string_value(c));
	}
	pg_s(w, "</td></tr>\n");
}

static void section_definition(struct rp *r)
{
	struct pg *w = r->w;

	pg_s(w, "<section>\n<h2>Role Definition</h2>\n" PG_TABLE("Role definition")
		"\n<thead><tr><th scope=\"col\">Field</th>"
		"<th scope=\"col\">Value</th></tr></thead>\n<tbody>\n");
	def_row(w, "Job Title", pg_str(r->role, "title"));
	def_row(w, "Seniority Level", pg_str(r->role, "seniority"));
	def_row(w, "Primary Function", pg_str(r->role, "primary_function"));
	def_row(w, "What This Role Is NOT", pg_str(r->role, "not_this_role"));
	def_row(w, "Typical Experience", pg_str(r->role, "typical_experience"));
	code_row(w, "SOC / O*NET-SOC Codes", json_object_get(json_object_get(r->role, "codes"), "soc"));
	code_row(w, "ISCO-08 Codes", json_object_get(json_object_get(r->role, "codes"), "isco"));
	pg_s(w, "</tbody>\n</table></div>\n");
	labelled(w, "Seniority note:", json_string_value(json_object_get(r->role, "seniority_note")));
	pg_s(w, "</section>\n");
}

static void section_protective(struct rp *r)
{
	struct pg *w = r->w;
	json_t *prot = json_object_get(r->a, "protective"), *g = json_object_get(r->a, "growth");
	int i, s;

	pg_s(w, "<section>\n<h2>Protective Principles + AI Growth Correlation</h2>\n"
		"<h3>Human-Only Factors</h3>\n<ul>\n");
	for (i = 0; i < 3; i++) {
		s = pg_int(json_object_get(prot, protective_keys[i]), "score");
		pg_f(w, "<li><strong>%s</strong>: %s</li>\n", protective_short[i],
		     protective_words[i][s < 0 ? 0 : s > 3 ? 3 : s]);
	}
	pg_s(w, "<li><strong>AI Effect on Demand</strong>: ");
	pg_e(w, pg_str(json_object_get(r->sc, "growth"), "wording"));
	pg_f(w, "</li>\n</ul>\n<p><strong>Protective Total: %d/9</strong></p>\n",
	     pg_int(json_object_get(r->sc, "protective"), "total"));
	pg_s(w, PG_TABLE("Protective principles")
		"\n<thead><tr><th scope=\"col\">Principle</th><th scope=\"col\" class=\"n\">"
		"Score (0-3)</th><th scope=\"col\">Rationale</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < 3; i++) {
		json_t *d = json_object_get(prot, protective_keys[i]);

		pg_f(w, "<tr><th scope=\"row\">%s</th><td class=\"n\">%d</td>", protective_names[i],
		     pg_int(d, "score"));
		pg_text_cell(w, pg_str(d, "rationale"));
		pg_s(w, "</tr>\n");
	}
	pg_f(w, "<tr><th scope=\"row\">Protective Total</th><td class=\"n\">%d/9</td><td></td></tr>\n",
	     pg_int(json_object_get(r->sc, "protective"), "total"));
	pg_f(w, "<tr><th scope=\"row\">AI Growth Correlation</th><td class=\"n\">%d</td>",
	     pg_int(g, "score"));
	pg_text_cell(w, pg_str(g, "rationale"));
	pg_s(w, "</tr>\n</tbody>\n</table></div>\n");
	labelled(w, "Quick screen result:", comment(r, "quick_screen"));
	pg_s(w, "</section>\n");
}

/* ---------------------------------------------------------------------------------------
 * Tasks
 */

static void tasks_list(struct rp *r, json_t *tasks)
{
	struct pg *w = r->w;
	json_t *t;
	size_t i;

	pg_s(w, "<ul class=\"tasks\">\n");
	json_array_foreach(tasks, i, t) {
		int s = pg_int(t, "score");

		pg_s(w, "<li><strong>");
		pg_e(w, pg_str(t, "name"));
		pg_s(w, "</strong> · ");
		pg_num(w, pg_num_of(t, "time_share"), 2);
		pg_f(w, "%% · %d/5 %s", s, impact_of(s, 0));
		svg_share_bar(w, pg_num_of(t, "time_share"), s);
		pg_s(w, "</li>\n");
	}
	pg_s(w, "</ul>\n");
}

static void tasks_table(struct rp *r, json_t *tasks)
{
	struct pg *w = r->w;
	double total = 0;
	json_t *t;
	size_t i;

	pg_s(w, PG_TABLE("Tasks")
		"\n<thead><tr><th scope=\"col\">Task</th><th scope=\"col\" class=\"n\">Time %"
		"</th><th scope=\"col\" class=\"n\">Score (1-5)</th><th scope=\"col\" class=\"n\">"
		"Weighted</th><th scope=\"col\">Aug/Disp</th><th scope=\"col\">Rationale</th></tr>"
		"</thead>\n<tbody>\n");
	json_array_foreach(tasks, i, t) {
		double share = pg_num_of(t, "time_share");
		int s = pg_int(t, "score");

		total += share;
		pg_s(w, "<tr><th scope=\"row\">");
		pg_e(w, pg_str(t, "name"));
		pg_s(w, "</th><td class=\"n\">");
		pg_num(w, share, 2);
		pg_f(w, "%%</td><td class=\"n\">%d</td><td class=\"n\">%.2f</td><td class=\"kw\">%s</td>", s,
		     share / 100.0 * s, impact_of(s, 1));
		pg_text_cell(w, pg_str(t, "rationale"));
		pg_s(w, "</tr>\n");
	}
	pg_s(w, "<tr><th scope=\"row\">Total</th><td class=\"n\">");
	pg_num(w, total, 2);
	pg_f(w, "%%</td><td></td><td class=\"n\">%.2f</td><td></td><td></td></tr>\n</tbody>\n"
		"</table></div>\n", pg_num_of(r->sc, "weighted_task_score"));
}

static void section_tasks(struct rp *r)
{
	struct pg *w = r->w;
	json_t *tasks = json_object_get(r->a, "tasks"), *imp = json_object_get(r->sc, "impact");
	double d = pg_num_of(imp, "displaced"), au = pg_num_of(imp, "augmented"),
	       ni = pg_num_of(imp, "not_involved");

	pg_s(w, "<section>\n<h2>Task Decomposition (Agentic AI Scoring)</h2>\n"
		"<h3>Work Impact Breakdown</h3>\n<div class=\"fig\">");
	svg_split(w, d, au, ni);
	pg_s(w, "</div>\n<ul class=\"legend\"><li><span class=\"sw swd\"></span>Displaced: ");
	pg_num(w, d, 2);
	pg_s(w, "%</li><li><span class=\"sw swa\"></span>Augmented: ");
	pg_num(w, au, 2);
	pg_s(w, "%</li><li><span class=\"sw swn\"></span>Not Involved: ");
	pg_num(w, ni, 2);
	pg_s(w, "%</li></ul>\n");
	tasks_list(r, tasks);
	tasks_table(r, tasks);
	pg_f(w, "<p><strong>Task Resistance Score: 6.00 - %.2f = %.2f/5.0</strong></p>\n",
	     pg_num_of(r->sc, "weighted_task_score"), pg_num_of(r->sc, "task_resistance"));
	pg_s(w, "<p>Displacement/Augmentation split: ");
	pg_num(w, d, 2);
	pg_s(w, "% displacement, ");
	pg_num(w, au, 2);
	pg_s(w, "% augmentation, ");
	pg_num(w, ni, 2);
	pg_s(w, "% not involved.</p>\n");
	labelled(w, "Reinstatement check (Acemoglu):", comment(r, "reinstatement"));
	pg_s(w, "</section>\n");
}

/* ---------------------------------------------------------------------------------------
 * Evidence, barriers, the growth check
 */

static void source_links(struct pg *w, json_t *sources)
{
	json_t *s;
	size_t i;

	if (!json_array_size(sources))
		return;
	pg_s(w, "<ul>");
	json_array_foreach(sources, i, s) {
		pg_s(w, "<li>");
		pg_link(w, pg_str(s, "title"), pg_str(s, "url"));
		pg_s(w, "</li>");
	}
	pg_s(w, "</ul>");
}

static void section_evidence(struct rp *r)
{
	struct pg *w = r->w;
	json_t *ev = json_object_get(r->a, "evidence");
	int total = pg_int(json_object_get(r->sc, "evidence"), "total"), i;

	pg_s(w, "<section>\n<h2>Evidence Score</h2>\n<h3>Market Signal Balance</h3>\n<p class=\"big\">");
	signed_int(w, total);
	pg_s(w, "/10</p>\n<div class=\"fig\">");
	svg_balance(w, total, -10, 10);
	pg_s(w, "</div>\n<p class=\"ends\"><span>Negative</span><span>Positive</span></p>\n<ul>\n");
	for (i = 0; i < 5; i++) {
		pg_f(w, "<li>%s: ", evidence_names[i]);
		signed_int(w, pg_int(json_object_get(ev, evidence_keys[i]), "score"));
		pg_s(w, "</li>\n");
	}
	pg_s(w, "</ul>\n" PG_TABLE("Evidence")
		"\n<thead><tr><th scope=\"col\">Dimension</th><th scope=\"col\" "
		"class=\"n\">Score (-2 to 2)</th><th scope=\"col\">Evidence</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < 5; i++) {
		json_t *d = json_object_get(ev, evidence_keys[i]);

		pg_f(w, "<tr><th scope=\"row\">%s</th><td class=\"n\">%d</td><td class=\"pl\">",
		     evidence_names[i], pg_int(d, "score"));
		pg_e(w, pg_str(d, "rationale"));
		source_links(w, json_object_get(d, "sources"));
		/* When the evidence dates from (the body's as_of): a reader judges its age. */
		if (*pg_str(d, "as_of")) {
			pg_s(w, " <span class=\"asof\">(as of <time datetime=\"");
			pg_e(w, pg_str(d, "as_of"));
			pg_s(w, "\">");
			pg_e(w, pg_str(d, "as_of"));
			pg_s(w, "</time>)</span>");
		}
		pg_s(w, "</td></tr>\n");
	}
	pg_f(w, "<tr><th scope=\"row\">Total</th><td class=\"n\">%d</td><td></td></tr>\n</tbody>\n"
		"</table></div>\n</section>\n", total);
}

static void section_barriers(struct rp *r)
{
	struct pg *w = r->w;
	json_t *b = json_object_get(r->a, "barriers"), *sb = json_object_get(r->sc, "barriers");
	int i;

	pg_s(w, "<section>\n<h2>Barrier Assessment</h2>\n<h3>Structural Barriers to AI</h3>\n"
		"<p class=\"big\">");
	pg_e(w, pg_str(sb, "strength"));
	pg_f(w, " %d/10</p>\n<div class=\"fig\">", pg_int(sb, "total"));
	svg_balance(w, pg_int(sb, "total"), 0, 10);
	pg_s(w, "</div>\n<ul>\n");
	for (i = 0; i < 5; i++)
		pg_f(w, "<li>%s: %d/2</li>\n", barrier_short[i],
		     pg_int(json_object_get(b, barrier_keys[i]), "score"));
	pg_s(w, "</ul>\n<p><strong>Reframed question:</strong> What prevents AI execution even when "
		"programmatically possible?</p>\n" PG_TABLE("Barriers")
			"\n<thead><tr><th scope=\"col\">Barrier</th>"
		"<th scope=\"col\" class=\"n\">Score (0-2)</th><th scope=\"col\">Rationale</th></tr>"
		"</thead>\n<tbody>\n");
	for (i = 0; i < 5; i++) {
		json_t *d = json_object_get(b, barrier_keys[i]);

		pg_f(w, "<tr><th scope=\"row\">%s</th><td class=\"n\">%d</td>", barrier_names[i],
		     pg_int(d, "score"));
		pg_text_cell(w, pg_str(d, "rationale"));
		pg_s(w, "</tr>\n");
	}
	pg_f(w, "<tr><th scope=\"row\">Total</th><td class=\"n\">%d/10</td><td></td></tr>\n</tbody>\n"
		"</table></div>\n</section>\n", pg_int(sb, "total"));
}

static void section_growth(struct rp *r)
{
	struct pg *w = r->w;
	json_t *g = json_object_get(r->sc, "growth");

	pg_s(w, "<section>\n<h2>AI Growth Correlation Check</h2>\n<p>AI growth correlation: ");
	signed_int(w, pg_int(g, "score"));
	pg_s(w, " (");
	pg_e(w, pg_str(g, "wording"));
	pg_f(w, "), modifier %.2f.</p>\n", pg_num_of(g, "modifier"));
	prose(w, comment(r, "growth_check"));
	pg_s(w, "</section>\n");
}

/* ---------------------------------------------------------------------------------------
 * The composite score, the sub-label, the override note
 */

static void section_composite(struct rp *r)
{
	static const char *const keys[5] = { "task_resistance", "evidence", "barriers",
					     "protective", "growth" };
	static const char *const names[5] = { "Task Resistance", "Evidence", "Barriers",
					      "Protective", "AI Growth" };
	struct pg *w = r->w;
	json_t *comp = json_object_get(r->sc, "composition"), *f = json_object_get(r->sc, "formula");
	double tr = pg_num_of(r->sc, "task_resistance"), raw = pg_num_of(r->sc, "raw");
	double em = pg_num_of(json_object_get(r->sc, "evidence"), "modifier");
	double bm = pg_num_of(json_object_get(r->sc, "barriers"), "modifier");
	double gm = pg_num_of(json_object_get(r->sc, "growth"), "modifier");
	double unclamped = (raw - 0.54) / 7.93 * 100.0;
	int i;

	pg_s(w, "<section>\n<h2>JobZone Composite Score (AIJRI)</h2>\n<h3>Score Waterfall</h3>\n"
		"<p class=\"big\">");
	pg_score(w, pg_num_of(f, "score"));
	pg_s(w, "/100</p>\n<div class=\"fig\">");
	svg_waterfall(w, comp, pg_num_of(f, "score"));
	pg_s(w, "</div>\n<ul>\n");
	for (i = 0; i < 5; i++)
		pg_f(w, "<li>%s: %+.1fpts</li>\n", names[i], pg_num_of(comp, keys[i]));
	pg_f(w, "<li><strong>Total: %.1f</strong></li>\n</ul>\n", pg_num_of(f, "score"));
	pg_s(w, PG_TABLE("Composite score inputs")
		"\n<thead><tr><th scope=\"col\">Input</th><th scope=\"col\">Value</th></tr>"
		"</thead>\n<tbody>\n");
	pg_f(w, "<tr><th scope=\"row\">Task Resistance Score</th><td>%.2f/5.0</td></tr>\n", tr);
	pg_f(w, "<tr><th scope=\"row\">Evidence Modifier</th><td>1.0 + (%d x 0.04) = %.2f</td></tr>\n",
	     pg_int(json_object_get(r->sc, "evidence"), "total"), em);
	pg_f(w, "<tr><th scope=\"row\">Barrier Modifier</th><td>1.0 + (%d x 0.02) = %.2f</td></tr>\n",
	     pg_int(json_object_get(r->sc, "barriers"), "total"), bm);
	pg_f(w, "<tr><th scope=\"row\">Growth Modifier</th><td>1.0 + (%d x 0.05) = %.2f</td></tr>\n",
	     pg_int(json_object_get(r->sc, "growth"), "score"), gm);
	pg_f(w, "</tbody>\n</table></div>\n<p><strong>Raw: %.2f x %.2f x %.2f x %.2f = %.4f</strong></p>\n",
	     tr, em, bm, gm, raw);
	pg_f(w, "<p><strong>JobZone Score: (%.4f - 0.54) / 7.93 x 100 = %.1f/100</strong>%s</p>\n", raw,
	     pg_num_of(f, "score"),
	     unclamped < -0.05 || unclamped > 100.05 ? " (held to the range 0 to 100)" : "");
	pg_s(w, "<p><strong>Zone: ");
	pg_label_caps(w, pg_str(f, "zone"));
	pg_s(w, "</strong> (Green &gt;=48, Yellow 25-47, Red &lt;25)</p>\n</section>\n");
}

/* Why the label is what it is: the rule of METHOD.md that gave it. */
static const char *label_rule(const char *label)
{
	static const char *const rules[][2] = {
		{ "Green (Accelerated)", "AIJRI >=48, Growth = 2" },
		{ "Green (Transforming)", "AIJRI >=48, >=20% of task time scores 3+, Growth != 2" },
		{ "Green (Stable)", "AIJRI >=48, <20% of task time scores 3+, Growth != 2" },
		{ "Yellow (Urgent)", "AIJRI 25-47, >=50% of task time scores 3+" },
		{ "Yellow (Moderate)", "AIJRI 25-47, <50% of task time scores 3+" },
		{ "Red (Imminent)", "AIJRI <25, >=70% of task time scores 3+" },
		{ "Red (Declining)", "AIJRI <25, <70% of task time scores 3+" },
	};
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!strcmp(label, rules[i][0]))
			return rules[i][1];
	return "";
}

static void section_sublabel(struct rp *r)
{
	struct pg *w = r->w;
	json_t *ov = json_object_get(r->sc, "override"), *f = json_object_get(r->sc, "formula");
	const char *label = pg_str(r->sc, "label");

	pg_s(w, "<section>\n<h2>Sub-Label Determination</h2>\n" PG_TABLE("Sub-label")
		"\n<thead><tr><th scope=\"col\">"
		"Metric</th><th scope=\"col\">Value</th></tr></thead>\n<tbody>\n"
		"<tr><th scope=\"row\">% of task time scoring 3+</th><td>");
	pg_num(w, pg_num_of(r->sc, "share_scoring_3plus"), 2);
	pg_f(w, "%%</td></tr>\n<tr><th scope=\"row\">AI Growth Correlation</th><td>%d</td></tr>\n"
		"<tr><th scope=\"row\">Sub-label</th><td>", pg_int(json_object_get(r->sc, "growth"),
								  "score"));
	pg_e(w, label);
	pg_s(w, " — ");
	pg_e(w, label_rule(label));
	pg_s(w, json_is_object(ov) ? " (from the assessor's override score)" : "");
	pg_s(w, "</td></tr>\n</tbody>\n</table></div>\n");
	if (!json_is_object(ov)) {
		labelled(w, "Assessor override: None — formula score accepted.",
			 comment(r, "calibration"));
		if (!comment(r, "calibration"))
			pg_s(w, "<p><strong>Assessor override: None — formula score accepted."
				"</strong></p>\n");
	} else {
		pg_s(w, "<p><strong>Assessor override: ");
		pg_score(w, pg_num_of(ov, "score"));
		pg_s(w, "</strong> (the formula gave ");
		pg_score(w, pg_num_of(f, "score"));
		pg_s(w, ", ");
		pg_e(w, pg_str(f, "label"));
		pg_s(w, "). Reason: ");
		pg_e(w, pg_str(ov, "reason"));
		pg_s(w, "</p>\n");
		prose(w, comment(r, "calibration"));
	}
	pg_s(w, "</section>\n");
}

/* ---------------------------------------------------------------------------------------
 * Commentary, outlook, sources
 */

static void section_commentary(struct rp *r)
{
	static const char *const parts[3][2] = {
		{ "score_vs_reality", "Score vs Reality Check" },
		{ "not_captured", "What the Numbers Don't Capture" },
		{ "who_should_worry", "Who Should Worry (and Who Shouldn't)" },
	};
	struct pg *w = r->w;
	int i;

	if (!comment(r, "score_vs_reality") && !comment(r, "not_captured") &&
	    !comment(r, "who_should_worry"))
		return;
	pg_s(w, "<section>\n<h2>Assessor Commentary</h2>\n");
	for (i = 0; i < 3; i++) {
		if (!comment(r, parts[i][0]))
			continue;
		pg_f(w, "<h3>%s</h3>\n", parts[i][1]);
		prose(w, comment(r, parts[i][0]));
	}
	pg_s(w, "</section>\n");
}

static void section_outlook(struct rp *r)
{
	struct pg *w = r->w;

	if (!comment(r, "outlook") && !comment(r, "survival_strategy") && !comment(r, "timeline"))
		return;
	pg_s(w, "<section>\n<h2>What This Means</h2>\n");
	prose(w, comment(r, "outlook"));
	labelled(w, "Survival strategy:", comment(r, "survival_strategy"));
	labelled(w, "Timeline:", comment(r, "timeline"));
	pg_s(w, "</section>\n");
}

static void section_sources(struct rp *r)
{
	static const char *const lists[2][2] = { { "sources", "Sources" },
						 { "resources", "Useful Resources" } };
	struct pg *w = r->w;
	int i;

	for (i = 0; i < 2; i++) {
		json_t *l = json_object_get(r->role, lists[i][0]);

		pg_f(w, "<section>\n<h2>%s</h2>\n", lists[i][1]);
		if (json_array_size(l))
			source_links(w, l);
		else
			pg_s(w, "<p class=\"muted\">None listed.</p>\n");
		pg_s(w, "</section>\n");
	}
}

/* ---------------------------------------------------------------------------------------
 * The page (its history and how to follow it are in follow.c)
 */

int pages_role_html(struct buf *out, const struct pages_role *p)
{
	struct pg w = PG_INIT(out);
	struct rp r;
	struct pg_head h;
	struct buf title = BUF_INIT(4096);
	struct pg tw = PG_INIT(&title);
	char canonical[160], feed[180];

	memset(&r, 0, sizeof(r));
	r.w = &w;
	r.p = p;
	r.role = p->role;
	r.a = json_object_get(p->role, "assessment");
	r.sc = p->score;
	r.commentary = json_object_get(p->role, "commentary");
	r.slug = pg_str(p->role, "slug");
	r.zone = pg_str(p->score, "zone");
	/* The zone names a CSS class: only the three known ones. */
	if (strcmp(r.zone, "green") && strcmp(r.zone, "yellow"))
		r.zone = "red";
	pg_s(&tw, "Will AI Replace ");
	pg_s(&tw, pg_str(p->role, "title"));
	pg_s(&tw, " Jobs? AIJRI ");
	pg_score(&tw, pg_num_of(p->score, "score"));
	pg_s(&tw, ", ");
	pg_s(&tw, pg_str(p->score, "label"));
	if (pg_int(p->score, "revision") < p->current)
		pg_f(&tw, " (revision %d)", pg_int(p->score, "revision"));
	snprintf(canonical, sizeof(canonical), "/roles/%.120s", r.slug);
	snprintf(feed, sizeof(feed), "/roles/%.120s/feed.atom", r.slug);
	memset(&h, 0, sizeof(h));
	h.base_url = p->base_url;
	h.title = tw.rc ? "" : buf_str(&title);
	h.canonical = canonical;
	h.feed = feed;
	h.feed_title = pg_str(p->role, "title");
	pg_head(&w, &h);
	section_hero(&r);
	section_glance(&r);
	section_composition(&r);
	section_summary(&r);
	section_definition(&r);
	section_protective(&r);
	section_tasks(&r);
	section_evidence(&r);
	section_barriers(&r);
	section_growth(&r);
	section_composite(&r);
	section_sublabel(&r);
	section_commentary(&r);
	section_outlook(&r);
	section_sources(&r);
	pg_role_history(&w, p);
	pg_role_follow(&w, p);
	pg_foot(&w, p->base_url);
	buf_release(&title);
	return w.rc ? w.rc : tw.rc;
}
