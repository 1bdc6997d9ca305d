/*
 * html.c: the pieces every page is made of: the writer with a sticky error, escaping (for HTML
 * and XML alike), reading stored JSON, the page frame with its one stylesheet, and the
 * Content-Security-Policy that names that stylesheet by its hash.
 *
 * Escaping is the module's safety: every text that came from a client goes through pg_e()
 * (or pg_md() for CommonMark), which also replaces what XML 1.0 forbids (control characters,
 * U+FFFE, U+FFFF) and any byte that is not UTF-8 (a query string can hold anything) with
 * U+FFFD, so that a page or a feed is always well-formed.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages/pages_int.h"
#include "util/crypto.h"
#include "util/rc.h"
#include "util/url.h"

/* ---------------------------------------------------------------------------------------
 * The writer
 */

void pg_s(struct pg *w, const char *s)
{
	if (!w->rc && s)
		w->rc = buf_adds(w->b, s);
}

void pg_f(struct pg *w, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	if (w->rc)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		w->rc = RC_IO;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		w->rc = buf_add(w->b, small, (size_t)n);
		return;
	}
	/* Longer than the stack buffer: let buf format it (it sizes the text first). */
	va_start(ap, fmt);
	{
		char *big = NULL;

		if (vasprintf(&big, fmt, ap) < 0)
			w->rc = RC_NOMEM;
		else
			w->rc = buf_adds(w->b, big);
		free(big);
	}
	va_end(ap);
}

/* The length of the UTF-8 sequence at s and its code point; 0 when it is not valid UTF-8
 * (overlong forms, surrogates and values past U+10FFFF included). */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n, i;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		v = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
	    (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

/* Characters a page or feed must not carry as they are: XML 1.0 forbids the C0 controls but
 * tab and line breaks, U+FFFE and U+FFFF; DEL and the C1 controls are noise in both. */
static int char_unwanted(uint32_t cp)
{
	return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
	       (cp >= 0x7F && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF;
}

/* Appends text with what a page must not carry replaced by U+FFFD, and with the markup
 * characters escaped when `escape` is set. */
static void put_text(struct pg *w, const char *text, int escape)
{
	const unsigned char *p = (const unsigned char *)text, *run;

	if (!text || w->rc)
		return;
	run = p;
	while (*p && !w->rc) {
		const char *rep = NULL;
		uint32_t cp = 0;
		size_t n = 1;

		switch (escape ? *p : 0) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			n = utf8_decode(p, &cp);
			if (!n || char_unwanted(cp)) {
				rep = "\xEF\xBF\xBD"; /* U+FFFD */
				n = n ? n : 1;
			}
		}
		if (rep) {
			w->rc = buf_add(w->b, run, (size_t)(p - run));
			if (!w->rc)
				w->rc = buf_adds(w->b, rep);
			p += n;
			run = p;
		} else {
			p += n;
		}
	}
	if (!w->rc && p > run)
		w->rc = buf_add(w->b, run, (size_t)(p - run));
}

void pg_e(struct pg *w, const char *text)
{
	put_text(w, text, 1);
}

int pg_clean(struct buf *out, const char *text)
{
	struct pg w = PG_INIT(out);

	put_text(&w, text, 0);
	return w.rc;
}

void pg_num(struct pg *w, double x, int decimals)
{
	char s[64];
	char *dot, *end;

	if (!isfinite(x))
		x = 0;
	snprintf(s, sizeof(s), "%.*f", decimals, x);
	dot = strchr(s, '.');
	if (dot) {
		end = s + strlen(s);
		while (end > dot + 1 && end[-1] == '0')
			*--end = '\0';
		if (end == dot + 1)
			*dot = '\0';
	}
	if (!strcmp(s, "-0"))
		snprintf(s, sizeof(s), "0");
	pg_s(w, s);
}

void pg_score(struct pg *w, double score)
{
	pg_f(w, "%.1f", isfinite(score) ? score : 0.0);
}

void pg_url(struct pg *w, const char *base_url, const char *path)
{
	pg_e(w, base_url);
	pg_e(w, path);
}

void pg_link(struct pg *w, const char *title, const char *url)
{
	/* Stored URLs are checked when they are written, and again here: a row written before
	 * the check, or by another path, must not become a javascript: link. */
	if (!url_http_ok(url)) {
		pg_e(w, title);
		pg_s(w, " (");
		pg_e(w, url);
		pg_s(w, ")");
		return;
	}
	pg_s(w, "<a rel=\"nofollow\" href=\"");
	pg_e(w, url);
	pg_s(w, "\">");
	pg_e(w, *title ? title : url);
	pg_s(w, "</a>");
}

void pg_text_cell(struct pg *w, const char *text)
{
	pg_s(w, "<td class=\"pl\">");
	pg_e(w, text);
	pg_s(w, "</td>");
}

void pg_time(struct pg *w, const char *iso)
{
	/* "2026-11-24T12:00:00Z" reads "2026-11-24 12:00 UTC"; anything else as it is. */
	if (strlen(iso) == 20 && iso[10] == 'T' && iso[19] == 'Z') {
		pg_s(w, "<time datetime=\"");
		pg_e(w, iso);
		pg_f(w, "\">%.10s %.5s UTC</time>", iso, iso + 11);
		return;
	}
	pg_e(w, iso);
}

int pages_escape(struct buf *out, const char *text)
{
	struct pg w = PG_INIT(out);

	pg_e(&w, text);
	return w.rc;
}

/* ---------------------------------------------------------------------------------------
 * Stored JSON
 */

const char *pg_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

double pg_num_of(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

int pg_int(json_t *o, const char *key)
{
	return (int)json_number_value(json_object_get(o, key));
}

/* ---------------------------------------------------------------------------------------
 * Zones and names
 */

static const struct {
	const char *zone, *fg, *tint;
} zone_colours[] = {
	/* Each fg has a contrast of at least 4.5:1 on white and on its own tint (WCAG AA). */
	{ "green", "#1a7f37", "#d1f5d8" },
	{ "yellow", "#8a5c00", "#fff3b8" },
	{ "red", "#c21f2b", "#ffe1de" },
};

const char *pg_zone_fg(const char *zone)
{
	size_t i;

	for (i = 0; zone && i < sizeof(zone_colours) / sizeof(zone_colours[0]); i++)
		if (!strcmp(zone, zone_colours[i].zone))
			return zone_colours[i].fg;
	return "#57606a";
}

const char *pg_zone_tint(const char *zone)
{
	size_t i;

	for (i = 0; zone && i < sizeof(zone_colours) / sizeof(zone_colours[0]); i++)
		if (!strcmp(zone, zone_colours[i].zone))
			return zone_colours[i].tint;
	return "#f6f8fa";
}

void pg_label_caps(struct pg *w, const char *label)
{
	char word[32];
	size_t n = strcspn(label, " "), i;

	if (n >= sizeof(word)) {
		pg_e(w, label);
		return;
	}
	for (i = 0; i < n; i++)
		word[i] = (char)(label[i] >= 'a' && label[i] <= 'z' ? label[i] - 32 : label[i]);
	word[n] = '\0';
	pg_e(w, word);
	pg_e(w, label + n);
}

void pg_role_name(struct pg *w, json_t *role)
{
	const char *sen = pg_str(role, "seniority");
	size_t n = strcspn(sen, "("), i;
	int up = 1;

	pg_e(w, pg_str(role, "title"));
	while (n > 0 && sen[n - 1] == ' ')
		n--;
	if (!n || n > 60)
		return;
	/* "Mid-level (3-6 years experience)" gives "(Mid-Level)", as the seed names the role. */
	pg_s(w, " (");
	for (i = 0; i < n; i++) {
		char c[2] = { sen[i], '\0' };

		if (up && c[0] >= 'a' && c[0] <= 'z')
			c[0] = (char)(c[0] - 32);
		up = c[0] == '-' || c[0] == ' ';
		pg_e(w, c);
	}
	pg_s(w, ")");
}

/* ---------------------------------------------------------------------------------------
 * The frame
 */

/* The one stylesheet, inline so that a page is one request; the CSP names it by its hash. */
static const char css[] =
	":root{color-scheme:light}"
	"*{box-sizing:border-box}"
	"body{margin:0;font:16px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
	"color:#1f2328;background:#fff}"
	"a{color:#0969da}"
	".skip{position:absolute;left:-10000px;top:0}"
	".skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px}"
	".site{background:#f6f8fa;border-bottom:1px solid #d0d7de}"
	".site p{margin:0;padding:10px 0}"
	".wrap{max-width:1040px;margin:0 auto;padding:0 16px}"
	"footer.site{border-top:1px solid #d0d7de;border-bottom:0;margin-top:3rem;font-size:.9rem}"
	".brand{font-weight:700;color:#1f2328;text-decoration:none}"
	"main{display:block;padding-bottom:1rem}"
	"h1{font-size:1.9rem;line-height:1.2;margin:1.2rem 0 .6rem}"
	"h2{font-size:1.4rem;line-height:1.3;margin:2.4rem 0 .8rem;padding-top:.8rem;"
	"border-top:1px solid #d0d7de}"
	"h3{font-size:1.1rem;margin:1.4rem 0 .5rem}"
	"p,li{overflow-wrap:break-word}"
	".muted{color:#57606a}"
	".z-green{color:#1a7f37}.z-yellow{color:#8a5c00}.z-red{color:#c21f2b}"
	".pill{display:inline-block;padding:1px 10px;border:1px solid currentColor;"
	"border-radius:999px;font-weight:600}"
	".hero{display:flex;flex-wrap:wrap;gap:8px 24px;align-items:center}"
	".hero .gauge{flex:0 0 240px;max-width:100%}"
	".big{font-size:1.5rem;font-weight:700}"
	".hero .big{font-size:2.6rem;line-height:1}"
	".cards{list-style:none;padding:0;margin:0;display:grid;"
	"grid-template-columns:repeat(auto-fit,minmax(148px,1fr));gap:10px}"
	".cards li{border:1px solid #d0d7de;border-radius:8px;padding:12px}"
	".cards .t{font-weight:600;margin:0}"
	".cards .v{font-size:1.6rem;font-weight:700;margin:.2rem 0 0;white-space:nowrap}"
	".cards .h{font-size:.85rem;color:#57606a;margin:.3rem 0 0}"
	".fig svg,.gauge svg{display:block;width:100%;height:auto}"
	".fig{margin:.6rem 0;max-width:760px}"
	"caption{text-align:left;padding:4px 0}"
	".kw{overflow-wrap:normal}"
	".legend{list-style:none;padding:0;margin:.4rem 0;display:flex;flex-wrap:wrap;gap:4px 18px}"
	".sw{display:inline-block;width:.8em;height:.8em;margin-right:.35em;vertical-align:-.05em;"
	"border-radius:2px}"
	".sw0{background:#0a3069}.sw1{background:#1a7f37}.sw2{background:#8250df}"
	".sw3{background:#bc4c00}.sw4{background:#0969da}"
	".swd{background:#c21f2b}.swa{background:#8a5c00}.swn{background:#1a7f37}"
	".tasks{list-style:none;padding:0;margin:.6rem 0}"
	".tasks li{padding:6px 0;border-bottom:1px solid #eaeef2}"
	".tasks svg{display:block;width:100%;height:8px;margin-top:4px}"
	".ends{display:flex;justify-content:space-between;font-size:.9rem}"
	".tw{overflow-x:auto;margin:.5rem 0 1rem}"
	"table{border-collapse:collapse;width:100%}"
	"th,td{border-bottom:1px solid #d0d7de;padding:6px 8px;text-align:left;vertical-align:top}"
	"th,td{overflow-wrap:break-word}"
	"thead th{background:#f6f8fa}"
	".n{text-align:right;white-space:nowrap}"
	".prose{max-width:75ch}"
	".lp>strong+p{display:inline}"
	".pl{white-space:pre-line}"
	"pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;padding:8px 10px;"
	"border-radius:6px}"
	"code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}"
	".note{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px}"
	"form.search{display:flex;flex-wrap:wrap;gap:10px 16px;align-items:flex-end;margin:1rem 0}"
	"form.search label{display:block;font-size:.9rem;font-weight:600}"
	"input,select,button{font:inherit;padding:6px 8px;border:1px solid #6e7781;border-radius:6px;"
	"background:#fff;color:#1f2328;max-width:100%}"
	"button{background:#0969da;color:#fff;border-color:#0969da;cursor:pointer}"
	"input[type=number]{width:5.5em}"
	".note h2{border-top:0;margin-top:.2rem;padding-top:0}"
	".pager{display:flex;flex-wrap:wrap;gap:8px 24px;align-items:center;margin:1rem 0}"
	"@media (max-width:600px){h1{font-size:1.5rem}h2{font-size:1.25rem}"
	".hero .gauge{flex-basis:180px}th,td{padding:4px 5px}table{font-size:.9rem}}";

static char csp[256];
static pthread_once_t csp_once = PTHREAD_ONCE_INIT;

static void csp_build(void)
{
	unsigned char hash[CRYPTO_SHA256_LEN];
	char b64[64];

	crypto_sha256(css, strlen(css), hash);
	crypto_base64(hash, sizeof(hash), b64);
	snprintf(csp, sizeof(csp),
		 "default-src 'none'; style-src 'sha256-%s'; img-src 'self'; form-action 'self'; "
		 "base-uri 'none'; frame-ancestors 'none'",
		 b64);
}

const char *pages_csp(void)
{
	pthread_once(&csp_once, csp_build);
	return csp;
}

void pg_head(struct pg *w, const struct pg_head *h)
{
	pg_s(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	pg_e(w, h->title);
	pg_s(w, "</title>\n");
	if (h->canonical) {
		pg_s(w, "<link rel=\"canonical\" href=\"");
		pg_url(w, h->base_url, h->canonical);
		pg_s(w, "\">\n");
	}
	if (h->feed) {
		pg_s(w, "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"");
		pg_e(w, h->feed_title);
		pg_s(w, "\" href=\"");
		pg_url(w, h->base_url, h->feed);
		pg_s(w, "\">\n");
	}
	pg_s(w, "<link rel=\"icon\" type=\"image/svg+xml\" href=\"/favicon.svg\">\n<style>");
	pg_s(w, css);
	pg_s(w, "</style>\n</head>\n<body>\n<header class=\"site\"><div class=\"wrap\">"
		"<a class=\"skip\" href=\"#main\">Skip to content</a><p>"
		"<a class=\"brand\" href=\"/\">AI Job Resistance Index</a></p></div></header>\n"
		"<main id=\"main\" class=\"wrap\">\n");
}

void pg_foot(struct pg *w, const char *base_url)
{
	(void)base_url;
	pg_s(w, "</main>\n<footer class=\"site\"><div class=\"wrap\"><p>aijri: the AI Job "
		"Resistance Index. <a href=\"/\">All roles</a> · <a href=\"/feed.atom\">Feed of every "
		"revision</a> · <a href=\"/methodology\">Method (JSON)</a> · "
		"<a href=\"/openapi.json\">API (OpenAPI)</a></p></div></footer>\n</body>\n</html>\n");
}
