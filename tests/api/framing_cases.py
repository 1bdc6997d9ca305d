"""The framing cases of tests/api/test_framing.py and of the soak test (tests/soak/soak.py):
requests over a raw socket, each with the answer it must get. No tests of its own.
"""
import socket
import time

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
    ("a chunked PATCH", 411, "length-required",
     b"PATCH /webhooks/wh_x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"),
    ("a DELETE with an unknown coding", 501, "not-implemented",
     b"DELETE /roles/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc"),
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


