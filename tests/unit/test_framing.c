/*
 * test_framing.c: framing_check against a table of requests (their version and header
 * lines) and the answer each must get: 0 (read it), 400, 411, 413 or 501.
 */
#include <stdint.h>

#include "server/framing.h"
#include "tests/unit/harness.h"

#define MAX_BODY 1048576

struct framing_case {
	const char *what;
	const char *version;
	struct framing_header h[6];
	int want;
};

static const struct framing_case cases[] = {
	{ "a plain GET", "HTTP/1.1", { { "Host", "x" } }, 0 },
	{ "a POST with a length", "HTTP/1.1", { { "Host", "x" }, { "Content-Length", "20" } }, 0 },
	{ "HTTP/1.0 without Host", "HTTP/1.0", { { "Accept", "*/*" } }, 0 },
	{ "the same length twice", "HTTP/1.1",
	  { { "Host", "x" }, { "Content-Length", "5" }, { "content-length", "5" } }, 0 },
	{ "two different lengths", "HTTP/1.1",
	  { { "Host", "x" }, { "Content-Length", "2" }, { "Content-Length", "30" } }, 400 },
	{ "length and chunked", "HTTP/1.1",
	  { { "Host", "x" }, { "Content-Length", "5" }, { "Transfer-Encoding", "chunked" } }, 400 },
	{ "chunked and length", "HTTP/1.1",
	  { { "Host", "x" }, { "Transfer-Encoding", "chunked" }, { "Content-Length", "5" } }, 400 },
	{ "space before the colon", "HTTP/1.1",
	  { { "Host", "x" }, { "Content-Length ", "5" } }, 400 },
	{ "tab before the colon", "HTTP/1.1", { { "Host\t", "x" } }, 400 },
	{ "space inside a name", "HTTP/1.1", { { "Host", "x" }, { "X Y", "1" } }, 400 },
	{ "a name of a slash", "HTTP/1.1", { { "Host", "x" }, { "a/b", "1" } }, 400 },
	{ "an empty name", "HTTP/1.1", { { "Host", "x" }, { "", "1" } }, 400 },
	{ "no Host in HTTP/1.1", "HTTP/1.1", { { "Accept", "*/*" } }, 400 },
	{ "two Hosts", "HTTP/1.1", { { "Host", "x" }, { "host", "y" } }, 400 },
	{ "chunked", "HTTP/1.1", { { "Host", "x" }, { "Transfer-Encoding", "chunked" } }, 411 },
	{ "Chunked, any case", "HTTP/1.1", { { "Host", "x" }, { "Transfer-Encoding", "ChUnKeD" } },
	  411 },
	{ "gzip", "HTTP/1.1", { { "Host", "x" }, { "Transfer-Encoding", "gzip" } }, 501 },
	{ "gzip, chunked", "HTTP/1.1", { { "Host", "x" }, { "Transfer-Encoding", "gzip, chunked" } },
	  501 },
	{ "gzip over two lines", "HTTP/1.1",
	  { { "Host", "x" }, { "Transfer-Encoding", "gzip" }, { "Transfer-Encoding", "chunked" } },
	  501 },
	{ "chunked, chunked", "HTTP/1.1",
	  { { "Host", "x" }, { "Transfer-Encoding", "chunked, chunked" } }, 400 },
	{ "chunked on two lines", "HTTP/1.1",
	  { { "Host", "x" }, { "Transfer-Encoding", "chunked" }, { "Transfer-Encoding", "chunked" } },
	  400 },
	{ "an empty coding list", "HTTP/1.1", { { "Host", "x" }, { "Transfer-Encoding", " , " } },
	  400 },
	{ "chunked in HTTP/1.0", "HTTP/1.0", { { "Transfer-Encoding", "chunked" } }, 400 },
	{ "a body over the limit, expecting 100-continue", "HTTP/1.1",
	  { { "Host", "x" }, { "Content-Length", "2000000" }, { "Expect", "100-continue" } }, 413 },
	{ "a body over the limit, read and dropped", "HTTP/1.1",
	  { { "Host", "x" }, { "Content-Length", "2000000" } }, 0 },
	{ "a body far over the limit", "HTTP/1.1",
	  { { "Host", "x" }, { "Content-Length", "1000000000" } }, 413 },
	{ NULL, NULL, { { NULL, NULL } }, 0 },
};

static void test_table(void)
{
	const struct framing_case *c;

	for (c = cases; c->what; c++) {
		const char *why = NULL;
		int n = 0, got;

		while (n < 6 && c->h[n].name)
			n++;
		got = framing_check(c->version, c->h, n, MAX_BODY, &why);
		CHECK(got == c->want, "%s: got %d, want %d", c->what, got, c->want);
		CHECK(got == 0 || (why && *why), "%s: refused without a reason", c->what);
	}
}

static const struct harness_test tests[] = {
	{ "table", test_table },
	{ NULL, NULL },
};

int main(void)
{
	return harness_main("framing", tests);
}
