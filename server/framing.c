/* framing.c: see framing.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/framing.h"

/* A token character of RFC 9110 5.6.2, what a field name is made of. */
static int tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int token_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!tchar((unsigned char)*s))
			return 0;
	return 1;
}

/* Reads the transfer codings of one Transfer-Encoding value: counts "chunked" in *chunked,
 * sets *last_chunked when the last coding is chunked, and returns 1 if any other coding is
 * named. Parameters (";q=...") and whitespace are skipped. */
static int te_codings(const char *v, int *chunked, int *last_chunked, int *empty)
{
	int other = 0;

	while (*v) {
		const char *s, *e;
		size_t n;

		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		if (!*v)
			break;
		s = v;
		while (*v && *v != ',' && *v != ';' && *v != ' ' && *v != '\t')
			v++;
		e = v;
		while (*v && *v != ',')
			v++;
		n = (size_t)(e - s);
		if (n == 7 && !strncasecmp(s, "chunked", 7)) {
			(*chunked)++;
			*last_chunked = 1;
		} else {
			other = 1;
			*last_chunked = 0;
		}
		*empty = 0;
	}
	return other;
}

int framing_check(const char *version, const struct framing_header *headers, int n,
		  uint64_t max_body, const char **why)
{
	const char *cl = NULL;
	int i, te = 0, hosts = 0, chunked = 0, last_chunked = 0, other = 0, empty = 1, expect = 0;
	int http11 = version && !strcmp(version, "HTTP/1.1");

	for (i = 0; i < n; i++) {
		const char *name = headers[i].name, *v = headers[i].value ? headers[i].value : "";

		if (!token_ok(name)) {
			*why = "a header name holds whitespace or a character a field name cannot "
			       "have (RFC 9112 5.1)";
			return 400;
		}
		if (!strcasecmp(name, "Host")) {
			hosts++;
		} else if (!strcasecmp(name, "Content-Length")) {
			if (cl && strcmp(cl, v)) {
				*why = "Content-Length is given twice with different values";
				return 400;
			}
			cl = v;
		} else if (!strcasecmp(name, "Expect")) {
			expect = !strcasecmp(v, "100-continue");
		} else if (!strcasecmp(name, "Transfer-Encoding")) {
			te = 1;
			other |= te_codings(v, &chunked, &last_chunked, &empty);
		}
	}
	if (http11 && hosts != 1) {
		*why = hosts ? "an HTTP/1.1 request has one Host header, not several"
			     : "an HTTP/1.1 request needs a Host header (RFC 9112 3.2)";
		return 400;
	}
	if (te) {
		if (cl) {
			*why = "Transfer-Encoding and Content-Length together are ambiguous "
			       "(RFC 9112 6.1)";
			return 400;
		}
		if (!http11) {
			*why = "Transfer-Encoding is not part of HTTP/1.0 (RFC 9112 6.1)";
			return 400;
		}
		if (other) {
			*why = "the only transfer coding this server reads is chunked";
			return 501;
		}
		if (empty || chunked != 1 || !last_chunked) {
			*why = "chunked must be named once, as the last transfer coding "
			       "(RFC 9112 6.1)";
			return 400;
		}
		*why = "send the body with a Content-Length; chunked request bodies are not read";
		return 411;
	}
	if (cl) {
		uint64_t len = strtoull(cl, NULL, 10);

		if (len > max_body && (expect || len > FRAMING_DRAIN_FACTOR * max_body)) {
			*why = "the body is over 1 MiB (1048576 bytes)";
			return 413;
		}
	}
	return 0;
}
