"""API tests of request framing over the wire (RFC 9112 6.1, 6.3): every request whose length
a proxy and this server could read differently is refused (400; 501 for a transfer coding
it does not know; 411 for a chunked body; 413 for a length far over the limit) with a
problem+json body and the connection closed, so nothing left of it is read as a request of
its own; and the cases the library answers by itself (README) are answered and closed too.
Run: AIJRI_BIN=bin/aijri python3 tests/api/test_framing.py
"""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Server, check, check_eq, run, test  # noqa: E402

# A second request behind each: answered only if the first one's end were misread.
BEHIND = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"

AMBIGUOUS = [
    ("Content-Length with Transfer-Encoding", 400, "malformed-request",
     b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"0\r\n\r\n" + BEHIND),
    ("Transfer-Encoding then Content-Length", 400, "malformed-request",
     b"POST /score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n"
     b"0\r\n\r\n" + BEHIND),
    ("two different Content-Lengths", 400, "malformed-request",
     b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 38\r\n\r\n{}" +
     BEHIND),
    ("whitespace before a colon", 400, "malformed-request",
     b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length : 36\r\n\r\n" + BEHIND),
    ("a tab before a colon", 400, "malformed-request",
     b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n"),
    ("an unknown transfer coding", 501, "not-implemented",
     b"POST /score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc"),
    ("an unknown coding before chunked", 501, "not-implemented",
     b"POST /score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ("chunked twice", 400, "malformed-request",
     b"POST /score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
    ("Transfer-Encoding in HTTP/1.0", 400, "malformed-request",
     b"POST /score HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"),
    ("a giant chunk size", 411, "length-required",
     b"POST /score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"ffffffffffffffff\r\nabc\r\n0\r\n\r\n" + BEHIND),
    ("a huge chunk extension", 411, "length-required",
     b"POST /score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;" + b"e" * 20000 +
     b"\r\nabc\r\n0\r\n\r\n"),
    ("HTTP/1.1 without Host", 400, "malformed-request", b"GET /healthz HTTP/1.1\r\n\r\n"),
    ("two Hosts", 400, "malformed-request",
     b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ("a length far over the limit", 413, "payload-too-large",
     b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n{}"),
]

# Answered by libmicrohttpd before the access handler runs: HTML, connection closed.
LIBRARY = [
    ("Content-Length with a sign", 400,
     b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n{}"),
    ("Content-Length as a list", 400,
     b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n{}"),
    ("a header line without a colon", 400,
     b"GET /healthz HTTP/1.1\r\nHost: x\r\nBogus\r\n\r\n"),
    ("a request line without a version", 400, b"GET /healthz\r\n\r\n"),
    ("HTTP/2.0 in a request line", 505, b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n"),
    ("a request target over 16 KiB", 414,
     b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("header fields over 16 KiB", 431,
     b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"),
    ("a Content-Length past 64 bits", 413,
     b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
]


def exchange(port, data, timeout=5.0):
    """Sends data and reads until the server closes or timeout; (bytes, closed, seconds).
    The client keeps its side open: a closed connection is the server's doing."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got, closed, t0 = b"", False, time.time()
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while time.time() - t0 < timeout:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                closed = True
                break
            except socket.timeout:
                break
            if not b:
                closed = True
                break
            got += b
    finally:
        s.close()
    return got, closed, time.time() - t0


@test
def ambiguous_requests_are_refused_and_closed():
    with Server() as srv:
        for what, status, kind, data in AMBIGUOUS:
            got, closed, _ = exchange(srv.port, data)
            head, _, body = got.partition(b"\r\n\r\n")
            check(got.startswith(b"HTTP/1.1 %d " % status), f"{what}: {got[:120]!r}")
            check(closed, f"{what}: the connection stays open")
            check(b"\r\nConnection: close" in head, f"{what}: no Connection: close")
            check(b"Content-Type: application/problem+json" in head, f"{what}: not problem+json")
            n = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0]) \
                if b"Content-Length: " in head else -1
            check_eq(len(body), n, f"{what}: bytes after the one answer (a second request read)")
            try:
                j = json.loads(body)
            except ValueError:
                j = {}
            check_eq((j.get("status"), j.get("type")), (status, "urn:aijri:problem:" + kind),
                     f"{what}: problem")
            check(j.get("detail"), f"{what}: no detail")
        check_eq(srv.get("/healthz").status, 200, "served after the refusals")


@test
def what_the_library_answers_itself_is_answered_and_closed():
    with Server() as srv:
        for what, status, data in LIBRARY:
            got, closed, _ = exchange(srv.port, data)
            check(got.startswith(b"HTTP/1.1 %d " % status), f"{what}: {got[:120]!r}")
            check(closed, f"{what}: the connection stays open")
        check_eq(srv.get("/healthz").status, 200, "served after them")


@test
def a_body_over_the_limit_is_read_then_refused():
    with Server() as srv:
        body = b"{" + b" " * (2 * 1024 * 1024) + b"}"
        got, closed, _ = exchange(srv.port, b"POST /score HTTP/1.1\r\nHost: x\r\n"
                                  b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                                  % len(body) + body)
        check(got.startswith(b"HTTP/1.1 413 ") and b"payload-too-large" in got,
              f"2 MiB body: {got[:120]!r}")
        # Expecting 100-continue: refused before the body is sent.
        got, closed, _ = exchange(srv.port, b"POST /score HTTP/1.1\r\nHost: x\r\n"
                                  b"Content-Length: 2097152\r\nExpect: 100-continue\r\n\r\n")
        check(got.startswith(b"HTTP/1.1 413 ") and closed, f"100-continue: {got[:120]!r}")
        check(b"100 Continue" not in got, "a 100 Continue for a body that would be refused")


@test
def a_plain_request_keeps_its_connection():
    with Server() as srv:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        for _ in range(3):
            s.sendall(b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                      b"Content-Length: 2\r\n\r\n{}")
            got = b""
            while b"\r\n\r\n" not in got:
                got += s.recv(4096)
            check(got.startswith(b"HTTP/1.1 422 "), f"the same length twice: {got[:80]!r}")
            check(b"Connection: close" not in got, "closed after a plain request")
            head, _, rest = got.partition(b"\r\n\r\n")
            n = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            while len(rest) < n:
                rest += s.recv(4096)
        s.close()


if __name__ == "__main__":
    run()
