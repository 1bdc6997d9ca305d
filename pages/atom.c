/*
 * atom.c: Atom feeds (RFC 4287) of revisions: one per role and one of every role. An entry is
 * a revision: its id and link the revision's page (absolute, from the configured public URL,
 * never from a request), the score and zone in its title, the reason and the changed paths in
 * its text content. Feeds are bounded (PAGES_FEED_MAX entries, the newest).
 */
#include <string.h>

#include "pages/pages_int.h"

static void entry(struct pg *w, const struct pages_feed *f, json_t *e, json_t *older)
{
	json_t *changed = json_object_get(e, "changed"), *c;
	const char *slug = pg_str(e, "slug");
	size_t i;
	int n = pg_int(e, "revision");

	pg_s(w, "<entry>\n<id>");
	pg_url(w, f->base_url, "/roles/");
	pg_e(w, slug);
	pg_f(w, "/revisions/%d</id>\n<title>", n);
	pg_e(w, pg_str(e, "title"));
	pg_s(w, ": ");
	pg_score(w, pg_num_of(e, "score"));
	pg_s(w, ", ");
	pg_e(w, pg_str(e, "label"));
	pg_f(w, " (revision %d)</title>\n<updated>", n);
	pg_e(w, pg_str(e, "created_at"));
	pg_s(w, "</updated>\n<link rel=\"alternate\" type=\"text/html\" href=\"");
	pg_url(w, f->base_url, "/roles/");
	pg_e(w, slug);
	pg_f(w, "/revisions/%d\"/>\n<author><name>", n);
	pg_e(w, json_is_string(json_object_get(e, "actor")) ? pg_str(e, "actor") : "aijri");
	pg_s(w, "</name></author>\n<content type=\"text\">Score: ");
	pg_score(w, pg_num_of(e, "score"));
	pg_s(w, ", ");
	pg_e(w, pg_str(e, "label"));
	/* The revision before it, when it is the same role's and in the feed. */
	if (older && !strcmp(pg_str(older, "slug"), slug) && pg_int(older, "revision") == n - 1) {
		pg_s(w, " (was ");
		pg_score(w, pg_num_of(older, "score"));
		pg_s(w, ", ");
		pg_e(w, pg_str(older, "label"));
		pg_s(w, ")");
	}
	pg_s(w, ".\nReason: ");
	pg_e(w, json_is_string(json_object_get(e, "reason")) ? pg_str(e, "reason") : "none given");
	pg_s(w, "\nChanged: ");
	json_array_foreach(changed, i, c) {
		pg_s(w, i ? ", " : "");
		pg_e(w, json_string_value(c));
	}
	pg_s(w, json_array_size(changed) ? "\n" : "(a new role)\n");
	pg_s(w, "</content>\n</entry>\n");
}

int pages_feed_atom(struct buf *out, const struct pages_feed *f)
{
	struct pg w = PG_INIT(out);
	size_t n = json_array_size(f->entries), i;
	json_t *newest = json_array_get(f->entries, 0);

	if (n > PAGES_FEED_MAX)
		n = PAGES_FEED_MAX;
	pg_s(&w, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		 "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<id>");
	pg_url(&w, f->base_url, f->self_path);
	pg_s(&w, "</id>\n<title>");
	pg_e(&w, f->title);
	pg_s(&w, "</title>\n<subtitle>Revisions of the AI Job Resistance Index, newest first (the "
		 "last " );
	pg_f(&w, "%d)</subtitle>\n<updated>", PAGES_FEED_MAX);
	pg_e(&w, newest ? pg_str(newest, "created_at") : f->updated);
	pg_s(&w, "</updated>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"");
	pg_url(&w, f->base_url, f->self_path);
	pg_s(&w, "\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"");
	pg_url(&w, f->base_url, f->alt_path);
	pg_s(&w, "\"/>\n<author><name>aijri</name></author>\n<generator>aijri</generator>\n");
	for (i = 0; i < n; i++)
		entry(&w, f, json_array_get(f->entries, i), json_array_get(f->entries, i + 1));
	pg_s(&w, "</feed>\n");
	return w.rc;
}
