/*
 * pages.h: what people see: the HTML pages (the index, a role's page, a past revision's page),
 * the SVG pictures (the badge, the history chart and the figures of a page) and the Atom feeds.
 *
 * Every function here is pure: stored data in (the normalized role body and its score block as
 * the store keeps them, revision summaries as GET /roles/{slug}/revisions lists them), bytes
 * out, appended to a bounded buffer. Nothing here reads the store, knows HTTP or keeps state
 * between calls, so a page is built once per stored revision and served from the server's
 * response cache like any JSON answer.
 *
 * Safety, the module's one rule: every stored text is escaped where it lands (HTML, SVG or
 * XML), with the characters XML forbids replaced; CommonMark goes through libcmark with raw
 * HTML shown as text and only http, https and mailto links kept; no page has a script, an
 * inline event handler or a style attribute, so that PAGES_CSP can forbid them all.
 */
#ifndef PAGES_PAGES_H
#define PAGES_PAGES_H

#include <jansson.h>

#include "util/buf.h"

#define PAGES_WARN __attribute__((warn_unused_result))

/* Bounds on what one page or feed shows (anything that grows with time has one). */
#define PAGES_HISTORY_MAX 200 /* revisions drawn in a history chart, the newest */
#define PAGES_HISTORY_ROWS 20 /* revisions listed in a page's history table, the newest */
#define PAGES_FEED_MAX 50     /* entries of an Atom feed, the newest */
#define PAGES_MAX_BYTES (8u << 20)

/* The Content-Security-Policy of every page: nothing but the page's own stylesheet (by its
 * hash) and images from the same origin; no script at all. */
const char *pages_csp(void);

/* A role's page, current or past. */
struct pages_role {
	const char *base_url; /* the configured public URL, no trailing slash */
	json_t *role;         /* the normalized role body of the revision shown */
	json_t *score;        /* its score block */
	json_t *revisions;    /* summaries up to the revision shown, newest first, at most
			       * PAGES_HISTORY_MAX (RevisionSummary of the OpenAPI document) */
	int revisions_total;  /* revisions up to the one shown */
	int current;          /* the role's current revision: a past page links to it */
};
int pages_role_html(struct buf *out, const struct pages_role *p) PAGES_WARN;

/*
 * The personal-score page of a role: a form of its tasks' time shares and scores and its AI
 * growth correlation, and the personal score once the form was sent (or the fields to
 * correct). Sent values are shown as sent; absent ones as published.
 */
struct pages_what_if {
	const char *base_url;
	json_t *role;   /* the normalized role body of the current revision */
	json_t *score;  /* its score block */
	json_t *form;   /* the sent form, {field name: value as sent}; NULL when not sent */
	json_t *result; /* the what-if answer (WhatIf of the OpenAPI document), or NULL */
	json_t *errors; /* [{field, message}] when the sent figures are refused, or NULL */
};
int pages_what_if_html(struct buf *out, const struct pages_what_if *p) PAGES_WARN;

/* The index: a page of roles, its search, and the distribution of the matching roles. */
#define PAGES_BINS 10
struct pages_index {
	const char *base_url;
	json_t *items;         /* list items (RoleSummary) of this page */
	int total, limit, offset;
	const char *q, *zone, *sort; /* the search as given (NULL when absent) */
	/* The list's other filters as given (NULL when absent): kept by the page links and the
	 * search form, which does not show them. */
	const char *min_score, *max_score, *soc, *isco, *stale;
	int bins[PAGES_BINS][3];     /* matching roles by score decile and zone (red, yellow, green) */
};
int pages_index_html(struct buf *out, const struct pages_index *p) PAGES_WARN;

/* The embeddable badge: "AI resistance", the score and zone, in the zone's colour. */
int pages_badge_svg(struct buf *out, double score, const char *zone, const char *label) PAGES_WARN;

/* The site's icon (/favicon.svg), so that a browser asks for no /favicon.ico. */
int pages_favicon_svg(struct buf *out) PAGES_WARN;

/* The published score over the revisions (summaries, newest first), on the zone bands;
 * a standalone SVG document. */
int pages_history_svg(struct buf *out, const char *title, json_t *revisions) PAGES_WARN;

/*
 * An Atom feed (RFC 4287) of revisions, newest first, at most PAGES_FEED_MAX entries: each
 * entry a revision summary with "slug" and "title" members (the role's), its id and link the
 * revision's page. self_path and alt_path are paths under base_url; updated is the feed's time
 * when it has no entry.
 */
struct pages_feed {
	const char *base_url;
	const char *title;
	const char *self_path;  /* "/roles/edge-ai-engineer/feed.atom" */
	const char *alt_path;   /* "/roles/edge-ai-engineer" */
	const char *updated;
	json_t *entries;
};
int pages_feed_atom(struct buf *out, const struct pages_feed *f) PAGES_WARN;

/* CommonMark text as safe HTML (see above); for the unit tests and the pages. */
int pages_markdown(struct buf *out, const char *text) PAGES_WARN;
/* Text escaped for HTML and XML alike. */
int pages_escape(struct buf *out, const char *text) PAGES_WARN;

#endif
