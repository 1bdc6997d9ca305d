/*
 * pages_int.h: what the files of pages/ share and nothing outside includes: a writer with a
 * sticky error (so that a page is a sequence of appends, checked once at its end), reading the
 * stored JSON, the page frame, and the figures that pages draw inline.
 */
#ifndef PAGES_PAGES_INT_H
#define PAGES_PAGES_INT_H

#include "pages/pages.h"

/* Appends to b until one append fails; then every later one does nothing and rc keeps the
 * first failure. */
struct pg {
	struct buf *b;
	int rc;
};
#define PG_INIT(b_) { (b_), 0 }

void pg_s(struct pg *w, const char *s);                     /* as it is (markup) */
void pg_f(struct pg *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pg_e(struct pg *w, const char *text);                  /* escaped; NULL: nothing */
void pg_md(struct pg *w, const char *text);                 /* CommonMark, made safe */
/* Appends text with the characters a page must not carry replaced, nothing escaped. */
int pg_clean(struct buf *out, const char *text);
/* A number with at most `decimals` decimals and no trailing zeros: 25, 12.5. */
void pg_num(struct pg *w, double x, int decimals);
/* A published score: always one decimal, as the score block rounds it (49.0, 55.2). */
void pg_score(struct pg *w, double score);
/* An absolute URL: base_url + path, escaped for an attribute. */
void pg_url(struct pg *w, const char *base_url, const char *path);

/* A stored time ("2026-11-24T12:00:00Z") as a <time> element a person reads. */
void pg_time(struct pg *w, const char *iso);
/* A link to a stored http(s) URL; any other URL is shown as text, not linked. */
void pg_link(struct pg *w, const char *title, const char *url);

/* A table in a region of its own that scrolls sideways when the page is too narrow for it
 * (focusable, and named, so that a keyboard can scroll it too); close with PG_TABLE_END. */
#define PG_TABLE(label) \
	"<div class=\"tw\" role=\"region\" tabindex=\"0\" aria-label=\"" label "\"><table>"

/* Members of stored JSON, tolerant of their absence ("" and 0 then). */
const char *pg_str(json_t *o, const char *key);
double pg_num_of(json_t *o, const char *key);
int pg_int(json_t *o, const char *key);

/* The zone's colours: text on white, and a light tint for bands; by zone name. */
const char *pg_zone_fg(const char *zone);
const char *pg_zone_tint(const char *zone);
/* "GREEN (Transforming)" from "Green (Transforming)". */
void pg_label_caps(struct pg *w, const char *label);
/* "Edge AI Engineer (Mid-Level)": the title and the seniority's first words. */
void pg_role_name(struct pg *w, json_t *role);

/* The page frame: doctype, head (title, canonical and feed links, the stylesheet), the site
 * header; then pg_foot closes main, adds the footer and closes the document. */
struct pg_head {
	const char *base_url;
	const char *title;     /* text, escaped here */
	const char *canonical; /* path, or NULL */
	const char *feed;      /* path of the page's Atom feed, or NULL */
	const char *feed_title;
};
void pg_head(struct pg *w, const struct pg_head *h);
void pg_foot(struct pg *w, const char *base_url);

/* A table cell of plain stored text (a rationale, a definition): escaped, its line breaks
 * kept by the stylesheet. */
void pg_text_cell(struct pg *w, const char *text);

/* The end of a role's page (follow.c): the revision history, then how to follow the role. */
void pg_role_history(struct pg *w, const struct pages_role *p);
void pg_role_follow(struct pg *w, const struct pages_role *p);

/* Figures drawn inline in pages (svg.c). Each is decorative (aria-hidden) unless it says:
 * the page states every figure in text beside it. */
void svg_gauge(struct pg *w, double score, const char *zone);
void svg_scale(struct pg *w, double score, const char *zone);
void svg_composition(struct pg *w, json_t *composition);
void svg_split(struct pg *w, double displaced, double augmented, double not_involved);
void svg_share_bar(struct pg *w, double share, int score);
void svg_balance(struct pg *w, int value, int min, int max);
void svg_waterfall(struct pg *w, json_t *composition, double total);
void svg_distribution(struct pg *w, const int bins[PAGES_BINS][3]);
/* The history chart; standalone adds the XML declaration and namespace. */
void svg_history(struct pg *w, const char *title, json_t *revisions, int standalone);

/* The colours of the five parts of the composition, in the order of composition_parts. */
extern const char *const pg_part_colours[5];

#endif
