"""API tests of request framing over the wire (RFC 9112 6.1, 6.3): every request whose length
a proxy and this server could read differently is refused (400; 501 for a transfer coding
it does not know; 411 for a chunked body; 413 for a length far over the limit) with a
problem+json body and the connection closed, so nothing left of it is read as a request of
its own; and the cases the library answers by itself (README) are answered and closed too.
The server's own refusals are recorded like every other answer, so that the OpenAPI check of
lib.run() holds them to the document (x-unlisted-responses.framing); the library's HTML
answers are not the API's and are not recorded.
Run: AIJRI_BIN=bin/aijri python3 tests/api/test_framing.py
"""
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from framing_cases import AMBIGUOUS, LIBRARY, exchange  # noqa: E402
from lib import Server, check, check_eq, record_exchange, run, test  # noqa: E402


def record_raw(data, got):
    """Records an answer read off a raw socket: the request line of data, and the status,
    headers and body (as Content-Length bounds it) of got."""
    line = data.split(b"\r\n", 1)[0].split(b" ")
    head, _, body = got.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = [tuple(x.strip() for x in h.split(":", 1)) for h in lines[1:] if ":" in h]
    n = next((int(v) for k, v in headers if k.lower() == "content-length"), len(body))
    record_exchange(line[0].decode(), line[1].decode("latin-1"), status, headers, body[:n])


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
            if got.startswith(b"HTTP/1."):
                record_raw(data, got)
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
        if got.startswith(b"HTTP/1."):
            record_raw(b"POST /score HTTP/1.1", got)
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
