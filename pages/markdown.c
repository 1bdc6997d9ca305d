/*
 * markdown.c: the narrative's CommonMark as HTML, through libcmark (CommonMark's reference
 * implementation), made safe for a page before it is rendered.
 *
 * libcmark's safe mode already drops raw HTML and javascript:-like links. This goes further,
 * on the parsed tree, so that what a page shows is the writer's text and nothing else:
 *   - raw HTML (inline or block) becomes text, so markup in a narrative shows as what it is;
 *   - a link is kept only when its URL is http(s) with a host or mailto; otherwise its text
 *     stays and the link goes;
 *   - an image becomes a link to it (a page loads nothing from elsewhere), or text;
 *   - a heading becomes a bold paragraph: the page's own headings make its outline.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmark.h>

#include "pages/pages_int.h"
#include "util/rc.h"
#include "util/url.h"

static int md_url_ok(const char *url)
{
	if (!url)
		return 0;
	if (!strncasecmp(url, "mailto:", 7)) {
		const char *p;

		for (p = url + 7; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				return 0;
		return url[7] != '\0';
	}
	return url_http_ok(url);
}

static int md_needs_fix(cmark_node *node)
{
	switch (cmark_node_get_type(node)) {
	case CMARK_NODE_HTML_BLOCK:
	case CMARK_NODE_HTML_INLINE:
	case CMARK_NODE_IMAGE:
	case CMARK_NODE_HEADING:
		return 1;
	case CMARK_NODE_LINK:
		return !md_url_ok(cmark_node_get_url(node));
	default:
		return 0;
	}
}

/* Moves every child of from to the end of to. */
static void md_move_children(cmark_node *from, cmark_node *to)
{
	cmark_node *c;

	while ((c = cmark_node_first_child(from)))
		cmark_node_append_child(to, c);
}

/* Replaces node by its children, in place. */
static void md_unwrap(cmark_node *node)
{
	cmark_node *c;

	while ((c = cmark_node_first_child(node)))
		cmark_node_insert_before(node, c);
	cmark_node_free(node);
}

/* Replaces node by a new node of `type` holding its children (and, for a link, its URL).
 * RC_NOMEM leaves node as it was. */
static int md_rewrap(cmark_node *node, cmark_node_type type, cmark_node *outer)
{
	cmark_node *inner = cmark_node_new(type);

	if (!inner)
		return RC_NOMEM;
	if (type == CMARK_NODE_LINK)
		cmark_node_set_url(inner, cmark_node_get_url(node));
	md_move_children(node, inner);
	if (outer)
		cmark_node_append_child(outer, inner);
	cmark_node_replace(node, outer ? outer : inner);
	cmark_node_free(node);
	return RC_OK;
}

/* Raw HTML as text: inline as a text node, a block as a paragraph of text. */
static int md_html_as_text(cmark_node *node, int block)
{
	const char *lit = cmark_node_get_literal(node);
	cmark_node *text = cmark_node_new(CMARK_NODE_TEXT), *para = NULL;
	char *copy = strdup(lit ? lit : "");
	size_t n;

	if (!text || !copy || (block && !(para = cmark_node_new(CMARK_NODE_PARAGRAPH)))) {
		cmark_node_free(text);
		free(copy);
		return RC_NOMEM;
	}
	n = strlen(copy);
	while (n && (copy[n - 1] == '\n' || copy[n - 1] == '\r'))
		copy[--n] = '\0';
	cmark_node_set_literal(text, copy);
	free(copy);
	if (para)
		cmark_node_append_child(para, text);
	cmark_node_replace(node, para ? para : text);
	cmark_node_free(node);
	return RC_OK;
}

static int md_in_link(cmark_node *node)
{
	while ((node = cmark_node_parent(node)))
		if (cmark_node_get_type(node) == CMARK_NODE_LINK)
			return 1;
	return 0;
}

static int md_fix(cmark_node *node)
{
	switch (cmark_node_get_type(node)) {
	case CMARK_NODE_HTML_BLOCK:
		return md_html_as_text(node, 1);
	case CMARK_NODE_HTML_INLINE:
		return md_html_as_text(node, 0);
	case CMARK_NODE_IMAGE:
		/* A link in a link is no HTML: an image inside one keeps its text only. */
		if (md_url_ok(cmark_node_get_url(node)) && !md_in_link(node))
			return md_rewrap(node, CMARK_NODE_LINK, NULL);
		md_unwrap(node);
		return RC_OK;
	case CMARK_NODE_HEADING: {
		cmark_node *para = cmark_node_new(CMARK_NODE_PARAGRAPH);
		int rc;

		if (!para)
			return RC_NOMEM;
		rc = md_rewrap(node, CMARK_NODE_STRONG, para);
		if (rc)
			cmark_node_free(para);
		return rc;
	}
	default: /* a link whose URL is not allowed */
		md_unwrap(node);
		return RC_OK;
	}
}

int pages_markdown(struct buf *out, const char *text)
{
	struct buf clean = BUF_INIT(PAGES_MAX_BYTES);
	cmark_node *doc = NULL, **todo = NULL;
	cmark_iter *it = NULL;
	cmark_event_type ev;
	size_t n = 0, cap = 0;
	char *html = NULL;
	int rc;

	rc = pg_clean(&clean, text ? text : "");
	if (rc)
		goto out;
	doc = cmark_parse_document(buf_str(&clean), clean.len,
				   CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8);
	it = doc ? cmark_iter_new(doc) : NULL;
	if (!it) {
		rc = RC_NOMEM;
		goto out;
	}
	/* The tree is changed after the walk (the iterator allows changes to leaves only). */
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *node = cmark_iter_get_node(it);

		if (ev != CMARK_EVENT_ENTER || !md_needs_fix(node))
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 16;
			cmark_node **t = realloc(todo, c * sizeof(*t));

			if (!t) {
				rc = RC_NOMEM;
				goto out;
			}
			todo = t;
			cap = c;
		}
		todo[n++] = node;
	}
	/* Last first: a node's descendants come after it in document order, so each is fixed
	 * before any node it lies in, and no fixed (freed) node is touched again. */
	while (n && !rc)
		rc = md_fix(todo[--n]);
	if (rc)
		goto out;
	html = cmark_render_html(doc, CMARK_OPT_SAFE);
	rc = html ? buf_adds(out, html) : RC_NOMEM;
out:
	if (html)
		cmark_get_default_mem_allocator()->free(html);
	if (it)
		cmark_iter_free(it);
	if (doc)
		cmark_node_free(doc);
	free(todo);
	buf_release(&clean);
	return rc;
}

/* The page writer's form of pages_markdown (declared in pages_int.h beside pg_e). */
void pg_md(struct pg *w, const char *text)
{
	if (!w->rc && text)
		w->rc = pages_markdown(w->b, text);
}
