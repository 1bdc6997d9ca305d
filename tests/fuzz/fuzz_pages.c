/*
 * fuzz_pages.c: libFuzzer target for what pages/ does with untrusted text: CommonMark through
 * libcmark made safe (pages_markdown), escaping (pages_escape) and the Accept header's
 * negotiation (api_accept). Built by tests/fuzz/build.sh.
 *
 * Beyond "no crash, no leak", it checks the module's rule on every input: the HTML has no
 * script, iframe or event handler, and no link but http, https and mailto; escaped text has no
 * markup character left.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "pages/pages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts (a finding) when the tag at p (just after '<') has an attribute named on...; returns
 * the end of the tag. */
static const char *check_tag(const char *p)
{
	p += strcspn(p, " \t\n>");
	for (;;) {
		size_t n;

		p += strspn(p, " \t\n/");
		if (!*p)
			abort(); /* a tag left open */
		if (*p == '>')
			return p;
		n = strcspn(p, " \t\n=>");
		if (n >= 2 && !strncasecmp(p, "on", 2))
			abort();
		p += n;
		if (*p != '=')
			continue;
		p++;
		if (*p == '"' || *p == '\'') {
			const char *q = strchr(p + 1, *p);

			if (!q)
				abort();
			p = q + 1;
		} else {
			p += strcspn(p, " \t\n>");
		}
	}
}

/* The rule on rendered HTML: aborts (a finding) when it is broken. */
static void check_html(const char *html)
{
	const char *p;

	if (strcasestr(html, "<script") || strcasestr(html, "<iframe") || strcasestr(html, "<img") ||
	    strcasestr(html, "<object") || strcasestr(html, "<style"))
		abort();
	for (p = html; (p = strchr(p, '<')); )
		p = check_tag(p + 1);
	for (p = html; (p = strstr(p, "href=\"")); p++) {
		p += 6;
		if (strncasecmp(p, "http://", 7) && strncasecmp(p, "https://", 8) &&
		    strncasecmp(p, "mailto:", 7))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT(PAGES_MAX_BYTES);
	char *text;

	if (size > 64 * 1024)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (pages_markdown(&out, text) == 0)
		check_html(buf_str(&out));
	buf_reset(&out);
	if (pages_escape(&out, text) == 0 && strpbrk(buf_str(&out), "<>\"'"))
		abort();
	(void)api_accept(text);
	buf_release(&out);
	free(text);
	return 0;
}
