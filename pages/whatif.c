/*
 * whatif.c: the personal-score page (GET /roles/{slug}/what-if): a form that works without
 * script, holding the role's tasks (each one's time share and score) and its AI growth
 * correlation, prefilled from the published assessment or as the reader last sent them, and,
 * once sent, the personal score beside the published one, or the fields to correct. The form
 * is sent with method=get to its own URL: the caller scores it (the what-if of the API) and
 * hands this page the answer or the errors. Every value is escaped here, sent ones too.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pages/pages_int.h"

/* A form field's id: its name with every character other than a letter or a digit as "-"
 * ("tasks[0].score" -> "f-tasks-0--score"), so it is a valid id and a fragment. */
static void field_id(char *out, size_t len, const char *name)
{
	size_t i = 0;

	snprintf(out, len, "f-%s", name);
	for (i = 2; out[i]; i++)
		if (!((out[i] >= 'a' && out[i] <= 'z') || (out[i] >= 'A' && out[i] <= 'Z') ||
		      (out[i] >= '0' && out[i] <= '9') || out[i] == '_'))
			out[i] = '-';
}

/* The message of the first error naming field, or NULL. */
static const char *error_of(json_t *errors, const char *field)
{
	json_t *e;
	size_t i;

	json_array_foreach(errors, i, e)
		if (!strcmp(pg_str(e, "field"), field))
			return pg_str(e, "message");
	return NULL;
}

/* A number input named name: the value sent when the form was sent, else the published one.
 * labels: the ids that name it (aria-labelledby), or NULL when a <label> does. */
static void number_input(struct pg *w, const struct pages_what_if *p, const char *name,
			 double published, const char *range, const char *labels)
{
	char id[64];
	const char *sent = p->form ? json_string_value(json_object_get(p->form, name)) : NULL;
	const char *err = error_of(p->errors, name);

	field_id(id, sizeof(id), name);
	pg_f(w, "<input type=\"number\" id=\"%s\" name=\"", id);
	pg_e(w, name);
	pg_f(w, "\" %s value=\"", range);
	if (sent)
		pg_e(w, sent);
	else
		pg_num(w, published, 2);
	pg_s(w, "\"");
	if (labels)
		pg_f(w, " aria-labelledby=\"%s\"", labels);
	if (err)
		pg_f(w, " aria-invalid=\"true\" aria-describedby=\"%s-e\"", id);
	pg_s(w, ">");
	if (err) {
		pg_f(w, "<br><span class=\"z-red\" id=\"%s-e\">", id);
		pg_e(w, err);
		pg_s(w, "</span>");
	}
}

/* The errors of a sent form, each linking its field. */
static void errors_box(struct pg *w, json_t *errors)
{
	json_t *e;
	size_t i;
	char id[64];

	pg_s(w, "<div class=\"note\" role=\"alert\">\n<h2>Your figures need a correction</h2>\n"
		"<p>Nothing was scored. Each field below says what it needs:</p>\n<ul>\n");
	json_array_foreach(errors, i, e) {
		field_id(id, sizeof(id), pg_str(e, "field"));
		pg_f(w, "<li><a href=\"#%s\"><code>", id);
		pg_e(w, pg_str(e, "field"));
		pg_s(w, "</code></a>: ");
		pg_e(w, pg_str(e, "message"));
		pg_s(w, "</li>\n");
	}
	pg_s(w, "</ul>\n</div>\n");
}

/* The personal score beside the published one. */
static void result(struct pg *w, json_t *answer)
{
	json_t *sc = json_object_get(answer, "score"), *pub = json_object_get(answer, "published");
	json_t *formula;
	const char *zone = pg_str(sc, "zone");
	double delta = pg_num_of(answer, "delta");

	if (strcmp(zone, "green") && strcmp(zone, "yellow"))
		zone = "red";
	pg_s(w, "<section>\n<h2>Your personal score</h2>\n<ul class=\"cards\">\n"
		"<li><p class=\"t\">Your score</p><p class=\"v\">");
	pg_score(w, pg_num_of(sc, "score"));
	pg_f(w, "</p><p class=\"h z-%s\">", zone);
	pg_e(w, pg_str(sc, "label"));
	pg_s(w, "</p></li>\n<li><p class=\"t\">Published score</p><p class=\"v\">");
	pg_score(w, pg_num_of(pub, "score"));
	pg_s(w, "</p><p class=\"h\">");
	pg_e(w, pg_str(pub, "label"));
	pg_f(w, " (revision %d)</p></li>\n<li><p class=\"t\">Difference</p><p class=\"v\">%s",
	     pg_int(pub, "revision"), delta > 0 ? "+" : "");
	pg_num(w, delta, 1);
	pg_s(w, "</p><p class=\"h\">points against the published score</p></li>\n</ul>\n<p>");
	pg_s(w, delta > 0 ? "With your figures the role is more resistant to AI than published."
		 : delta < 0 ? "With your figures the role is less resistant to AI than published."
			     : "With your figures the score is the published one.");
	pg_s(w, " Computed by the method of the published score; nothing was stored.</p>\n");
	/* Under an override the score is the override's; the method's own result differs. */
	formula = json_object_get(sc, "formula");
	if (formula && fabs(pg_num_of(formula, "score") - pg_num_of(sc, "score")) > 1e-9) {
		pg_s(w, "<p>The method alone gives your figures ");
		pg_score(w, pg_num_of(formula, "score"));
		pg_s(w, ", ");
		pg_e(w, pg_str(formula, "label"));
		pg_s(w, "; the assessor's override stands.</p>\n");
	}
	pg_s(w, "</section>\n");
}

/* The form: a row per task (its time share and score), then the growth correlation. */
static void form(struct pg *w, const struct pages_what_if *p, const char *slug)
{
	json_t *a = json_object_get(p->role, "assessment"), *tasks = json_object_get(a, "tasks");
	json_t *t;
	size_t i;
	char name[64], labels[64], id[64];

	pg_s(w, "<form method=\"get\" action=\"/roles/");
	pg_e(w, slug);
	/* "tasks" names the list in an error of the whole of it (shares not adding up). */
	pg_s(w, "/what-if\">\n<div id=\"f-tasks\">" PG_TABLE("Your tasks")
		"\n<caption>Your tasks: the share of your working time each takes (the shares add "
		"up to 100), and how far AI can do it, from 1 (irreducibly human) to 5 (fully "
		"automatable).</caption>\n<thead><tr><th scope=\"col\" id=\"c-task\">Task</th>"
		"<th scope=\"col\" id=\"c-share\">Time share (%)</th><th scope=\"col\" "
		"id=\"c-score\">Score (1-5)</th></tr></thead>\n<tbody>\n");
	json_array_foreach(tasks, i, t) {
		pg_f(w, "<tr><th scope=\"row\" id=\"t%zu\">", i);
		pg_e(w, pg_str(t, "name"));
		pg_s(w, "</th><td>");
		snprintf(name, sizeof(name), "tasks[%zu].time_share", i);
		snprintf(labels, sizeof(labels), "t%zu c-share", i);
		number_input(w, p, name, pg_num_of(t, "time_share"),
			     "min=\"0\" max=\"100\" step=\"any\"", labels);
		pg_s(w, "</td><td>");
		snprintf(name, sizeof(name), "tasks[%zu].score", i);
		snprintf(labels, sizeof(labels), "t%zu c-score", i);
		number_input(w, p, name, pg_num_of(t, "score"), "min=\"1\" max=\"5\" step=\"1\"",
			     labels);
		pg_s(w, "</td></tr>\n");
	}
	field_id(id, sizeof(id), "growth.score");
	pg_f(w, "</tbody>\n</table></div></div>\n<p><label for=\"%s\">AI growth correlation: how more "
		"AI adoption changes the demand for your work, from -2 (strongly shrinks it) to +2 "
		"(strongly boosts it)</label><br>",
	     id);
	number_input(w, p, "growth.score", pg_num_of(json_object_get(a, "growth"), "score"),
		     "min=\"-2\" max=\"2\" step=\"1\"", NULL);
	pg_s(w, "</p>\n<p><button type=\"submit\">Work out my score</button></p>\n</form>\n");
}

int pages_what_if_html(struct buf *out, const struct pages_what_if *p)
{
	struct pg w = PG_INIT(out);
	struct pg_head h;
	struct buf title = BUF_INIT(4096);
	struct pg tw = PG_INIT(&title);
	const char *slug = pg_str(p->role, "slug"), *zone = pg_str(p->score, "zone");
	char canonical[160];

	if (strcmp(zone, "green") && strcmp(zone, "yellow"))
		zone = "red";
	pg_s(&tw, "Your personal score: ");
	pg_s(&tw, pg_str(p->role, "title"));
	snprintf(canonical, sizeof(canonical), "/roles/%.120s/what-if", slug);
	memset(&h, 0, sizeof(h));
	h.base_url = p->base_url;
	h.title = tw.rc ? "" : buf_str(&title);
	h.canonical = canonical;
	pg_head(&w, &h);
	pg_s(&w, "<p><a href=\"/roles/");
	pg_e(&w, slug);
	pg_s(&w, "\">Back to the role's page</a></p>\n<h1>Your personal score: ");
	pg_role_name(&w, p->role);
	pg_s(&w, "</h1>\n<p class=\"prose\">The published score, <strong>");
	pg_score(&w, pg_num_of(p->score, "score"));
	pg_f(&w, "</strong> <span class=\"z-%s\">", zone);
	pg_e(&w, pg_str(p->score, "label"));
	pg_s(&w, "</span>, comes from the assessment's task mix and its view of AI growth. Put in "
		 "your own: the score is worked out by the same method, with the rest of the "
		 "assessment (evidence, barriers, protective principles) as published. Nothing you "
		 "send is stored.</p>\n");
	/* The what-if keeps the assessment's override (as POST .../what-if does): say so, or
	 * a reader would wonder why no figure moves the score. */
	if (json_is_object(json_object_get(json_object_get(p->role, "assessment"), "override"))) {
		pg_s(&w, "<p class=\"note\">This role's published score is set by an assessor's "
			 "override, which stands for a personal score too: your figures do not move "
			 "it, though the page also shows what the method alone makes of them.</p>\n");
	}
	if (json_array_size(p->errors))
		errors_box(&w, p->errors);
	else if (p->result)
		result(&w, p->result);
	form(&w, p, slug);
	pg_foot(&w, p->base_url);
	buf_release(&title);
	return w.rc;
}
