/*
 * framing.h: the checks of a request's framing that libmicrohttpd 0.9.75 does not make, run
 * on its headers before any of its body is read (RFC 9112 sections 3.2, 5.1, 6.1 and 6.3).
 * Where a front proxy and this server could read a request's length differently, the
 * request is refused and its connection closed, so that nothing left of it can be read as a
 * request of its own (request smuggling).
 *
 * Refused: a header name with whitespace or another character a field name cannot hold
 * ("Content-Length : 5"); Transfer-Encoding together with Content-Length; Content-Length
 * given twice with different values; Transfer-Encoding on an HTTP/1.0 request; "chunked"
 * twice or not last (400); a transfer coding other than chunked (501); no Host, or two, on
 * an HTTP/1.1 request (400). A chunked body is refused with 411 (send Content-Length): the
 * library waits for any chunk size that fits 64 bits and answers a chunk line longer than
 * the connection's buffer with its own 500, so chunked bodies cannot be read safely with it
 * (RFC 9112 6.3 lets a server require a length). A Content-Length over the body limit is 413
 * before the body is read when the client waits for "100 Continue" (it has not sent the body)
 * or the body is over FRAMING_DRAIN_FACTOR times the limit; in between, the body is read and
 * dropped and 413 answered after it, since a client that is still sending when the
 * connection closes may never read the answer.
 *
 * Pure: no I/O, no allocation (tests/unit/test_framing.c holds its table of cases).
 */
#ifndef SERVER_FRAMING_H
#define SERVER_FRAMING_H

#include <stdint.h>

#define FRAMING_DRAIN_FACTOR 8

struct framing_header {
	const char *name;
	const char *value;
};

/*
 * Checks the request's framing: version is "HTTP/1.1" or "HTTP/1.0", headers[0..n) every
 * header line as received, max_body the body limit. Returns 0 when the request may be read,
 * else the status to answer it with (400, 411, 413 or 501), the connection to be closed
 * after; *why is then a sentence for the answer's detail.
 */
int framing_check(const char *version, const struct framing_header *headers, int n,
		  uint64_t max_body, const char **why);

#endif
