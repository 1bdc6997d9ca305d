"""API tests of what keeps the server bounded: connections (the longest-idle one makes room at
the limit, per address too), the response cache (keyed by the normalised request, bounded in
bytes), exports built once per write generation and shared, checkpoints reported in /metrics
(promtool-clean), and SIGTERM under load answering 503 instead of closing connections.
Run: AIJRI_BIN=bin/aijri python3 tests/api/test_limits.py
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import Server, check, check_eq, run, test  # noqa: E402

SLUG = "edge-ai-engineer"


def metric(srv, name, labels=None):
    """The value of one sample of /metrics, or None."""
    text = srv.get("/metrics").body.decode()
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r'^([a-z_]+)(\{[^}]*\})? (\S+)$', line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if labels is None or all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return None


def wait_for(cond, seconds=10.0, step=0.02):
    deadline = time.time() + seconds
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def closed_by_server(s, seconds=5.0):
    """True once the server has closed s (EOF or reset) within the time given."""
    s.settimeout(seconds)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def get_on(s, path="/healthz"):
    """One request on an open socket, its answer read whole; the status, or None when the
    connection was closed instead."""
    try:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(4096)
            if not chunk:
                return None
            got += chunk
        head, _, body = got.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        while len(body) < length:
            chunk = s.recv(4096)
            if not chunk:
                return None
            body += chunk
        return int(head.split(b" ", 2)[1])
    except (OSError, AttributeError):
        return None


def connect(port, source="127.0.0.1"):
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


@test
def the_longest_idle_connection_makes_room():
    with Server(args=["--max-connections", "8", "--max-connections-per-address", "0"]) as srv:
        used = connect(srv.port)
        check_eq(get_on(used), 200, "a request on the first connection")
        # Two held sockets that never send anything, one connection whose request is
        # arriving (half sent), then the harness's own connection fills the limit.
        # One at a time, each counted by the server before the next: with several accepting
        # threads, two sockets connected back to back may be registered in either order.
        held = []
        for i in range(2):
            before = metric(srv, "aijri_http_connections")
            held.append(connect(srv.port))
            check(wait_for(lambda: metric(srv, "aijri_http_connections") == before + 1),
                  f"held socket {i} counted")
        arriving = connect(srv.port)
        arriving.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        filler = [connect(srv.port) for _ in range(3)]
        for s in filler:
            check_eq(get_on(s), 200, "a filler connection is served")
        check(wait_for(lambda: metric(srv, "aijri_http_connections") == 8),
              f"connections open: {metric(srv, 'aijri_http_connections')}, want 8")
        # Over the limit: held sockets go first, the longest held first, although the kept-
        # alive connection is idle longer; then the longest-idle kept-alive connection; never
        # the one whose request is arriving.
        n1 = connect(srv.port)
        check(closed_by_server(held[0], 20.0), "the longest-held socket was not closed")
        check_eq(get_on(n1), 200, "the first newcomer is served")
        n2 = connect(srv.port)
        check(closed_by_server(held[1], 20.0), "the second held socket was not closed")
        check_eq(get_on(n2), 200, "the second newcomer is served")
        n3 = connect(srv.port)
        check(closed_by_server(used, 20.0),
              "the longest-idle kept-alive connection was not closed")
        check_eq(get_on(n3), 200, "the third newcomer is served")
        arriving.sendall(b"\r\n")
        arriving.settimeout(5)
        check(arriving.recv(200).startswith(b"HTTP/1.1 200"), "the arriving request is answered")
        check_eq([get_on(s) for s in filler], [200] * 3, "the newer kept-alive connections stay")
        check(metric(srv, "aijri_http_connections_closed_total", {"reason": "evicted"}) >= 3,
              "evictions counted")
        check_eq(metric(srv, "aijri_http_connections_closed_total", {"reason": "refused"}), 0.0,
                 "nothing refused while connections were idle")
        for s in held + filler + [used, arriving, n1, n2, n3]:
            s.close()


@test
def per_address_limit_closes_that_address_idle_connections():
    with Server(args=["--max-connections-per-address", "3"]) as srv:
        srv._close()
        others = [connect(srv.port) for _ in range(2)]  # held, from 127.0.0.1
        first = connect(srv.port, "127.0.0.2")
        check_eq(get_on(first), 200, "127.0.0.2 is served")
        more = [connect(srv.port, "127.0.0.2") for _ in range(2)]
        check_eq(get_on(more[1]), 200, "the third connection from 127.0.0.2")
        # The fourth from 127.0.0.2: that address's held socket goes, and only that
        # address's (127.0.0.1's are held longer still).
        fourth = connect(srv.port, "127.0.0.2")
        check(closed_by_server(more[0]), "127.0.0.2's held socket was not closed")
        check_eq(get_on(fourth), 200, "the fourth connection from 127.0.0.2 is served")
        # The fifth: now its longest-idle kept-alive connection.
        fifth = connect(srv.port, "127.0.0.2")
        # The server makes room when it accepts the fifth, which under the sanitizers on a
        # loaded machine can take a while: wait for it, and say what the server counted.
        closed = closed_by_server(first, 20.0)
        counts = [] if closed else [
            l for l in srv.get("/metrics").body.decode().splitlines()
            if l.startswith("aijri_http_connections")]
        check(closed, f"127.0.0.2's longest-idle connection was not closed: {counts}")
        check_eq(get_on(fifth), 200, "the fifth connection from 127.0.0.2 is served")
        check_eq([get_on(s) for s in others], [200, 200], "127.0.0.1's connections stay")
        for s in others + more + [first, fourth, fifth]:
            s.close()


@test
def unknown_query_parameters_make_no_cache_entries():
    with Server() as srv:
        srv.get(f"/roles/{SLUG}/score")
        before = metric(srv, "aijri_http_cache_entries")
        for i in range(300):
            for p in (f"/openapi.json?v={i}", f"/roles/{SLUG}/score?x={i}",
                      f"/roles/{SLUG}?utm_source={i}", f"/export?format=csv&v={i}",
                      f"/roles?unknown={i}"):
                r = srv.get(p)
                check(r.status == 200, f"{p}: {r.status}")
        after = metric(srv, "aijri_http_cache_entries")
        # One entry per resource, whatever was added to its URL.
        check(after - before <= 5, f"cache entries grew from {before} to {after}")
        # Equivalent spellings share one entry: encoded unreserved characters, parameter order.
        n = metric(srv, "aijri_http_cache_entries")
        a = srv.get("/roles?zone=green&q=edge").body
        b = srv.get("/roles?q=edge&zone=green").body
        c = srv.get("/roles/edge%2Dai-engineer/score")
        check_eq(a, b, "parameter order changes the answer")
        check_eq(c.status, 200, "an encoded hyphen in the slug")
        check(metric(srv, "aijri_http_cache_entries") - n <= 1, "two spellings, two entries")


@test
def cache_stays_within_its_bound():
    with Server(args=["--cache-mb", "1"]) as srv:
        for i in range(2500):
            r = srv.get(f"/roles?q=nothing-{i}&limit={1 + i % 200}")
            if r.status != 200:
                check(False, f"list {i}: {r.status}")
                break
        used = metric(srv, "aijri_http_cache_bytes")
        bound = metric(srv, "aijri_http_cache_max_bytes")
        check_eq(bound, float(1 << 20), "the bound is --cache-mb")
        check(used is not None and 0 < used <= bound, f"cache holds {used} bytes, bound {bound}")
        check(metric(srv, "aijri_http_cache_evictions_total") > 0, "nothing was evicted")
        # A write frees what it made stale at the next lookup.
        tok = srv.token()
        r = srv.post(f"/roles/{SLUG}/evidence",
                     {"dimensions": {"wage_trends": {"score": 1, "rationale": "x"}}}, token=tok)
        check_eq(r.status, 200, "write")
        srv.get(f"/roles/{SLUG}/score")
        check(metric(srv, "aijri_http_cache_entries") <= 2, "stale entries kept after a write")


@test
def exports_are_built_once_per_write_and_shared():
    with Server() as srv:
        tok = srv.token()
        bodies = set()
        for i in range(20):
            r = srv.get("/export?format=ndjson" + ("&v=%d" % i if i % 2 else ""))
            check_eq(r.status, 200, "export")
            bodies.add(r.body)
        check_eq(len(bodies), 1, "every export call sends the same bytes")
        check_eq(metric(srv, "aijri_export_builds_total", {"format": "ndjson"}), 1.0,
                 "ndjson builds for 20 calls")
        r = srv.request("HEAD", "/export?format=ndjson")
        check_eq((r.status, r.body), (200, b""), "HEAD of an export")
        line = json.loads(next(iter(bodies)).splitlines()[0])
        check_eq((line["slug"], line["revision"]), (SLUG, 1), "the export's line")
        r = srv.post(f"/roles/{SLUG}/evidence",
                     {"dimensions": {"wage_trends": {"score": 2, "rationale": "y"}}}, token=tok)
        check_eq(r.status, 200, "write")
        line = json.loads(srv.get("/export?format=ndjson").body.splitlines()[0])
        check_eq(line["revision"], 2, "the export after a write")
        check_eq(metric(srv, "aijri_export_builds_total", {"format": "ndjson"}), 2.0,
                 "one more build after the write")
        csv = srv.get("/export?format=csv")
        check(csv.body.startswith(b"slug,title,") and SLUG.encode() in csv.body, "csv export")


@test
def metrics_report_checkpoints_and_pass_promtool():
    with Server() as srv:
        tok = srv.token()
        for i in range(30):
            srv.post(f"/roles/{SLUG}/evidence",
                     {"dimensions": {"wage_trends": {"score": i % 3 - 1, "rationale": f"m{i}"}}},
                     token=tok)
        # Writes pause: the WAL is copied into the database and cut to nothing.
        check(wait_for(lambda: metric(srv, "aijri_sqlite_wal_bytes") == 0 and
                       (metric(srv, "aijri_sqlite_checkpoints_total",
                               {"mode": "truncate", "result": "complete"}) or 0) >= 1),
              f"WAL {metric(srv, 'aijri_sqlite_wal_bytes')} bytes once writes paused")
        check(metric(srv, "aijri_sqlite_last_complete_checkpoint_timestamp_seconds") > 1.7e9,
              "the last complete checkpoint's time")
        check(metric(srv, "aijri_sqlite_database_bytes") > 100000, "the database file holds the data")
        text = srv.get("/metrics").body
        promtool = shutil.which("promtool")
        if check(promtool is not None, "promtool is installed (deploy/setup-debian.sh --test)"):
            p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True)
            check(p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(),
                  f"promtool: {p.stdout.decode()} {p.stderr.decode()}")


@test
def sigterm_under_load_answers_503_not_closed_connections():
    srv = Server()
    try:
        srv.start()
        tok = srv.token()
        srv._close()
        port = srv.port
        results = {"ok": 0, "503": 0, "closed": 0, "refused": 0, "other": 0, "bad503": 0}
        lock = threading.Lock()
        started = threading.Event()

        def worker(n):
            conn, i = None, 0
            while True:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
                i += 1
                try:
                    if n % 2:
                        body = json.dumps({"dimensions": {"wage_trends": {
                            "score": 1 + i % 2, "rationale": f"t{n} {i}"}}})
                        conn.request("POST", f"/roles/{SLUG}/evidence", body=body, headers={
                            "Authorization": "Bearer " + tok, "Content-Type": "application/json"})
                    else:
                        conn.request("GET", f"/roles/{SLUG}/score")
                except ConnectionRefusedError:
                    with lock:
                        results["refused"] += 1  # nothing was sent: a clean refusal
                    return
                except OSError:
                    with lock:
                        results["closed"] += 1
                    conn.close()
                    conn = None
                    continue
                try:
                    r = conn.getresponse()
                    payload = r.read()
                except (OSError, http.client.HTTPException):
                    with lock:
                        results["closed"] += 1  # sent, and the connection closed unanswered
                    conn.close()
                    conn = None
                    continue
                with lock:
                    if r.status == 200:
                        results["ok"] += 1
                    elif r.status == 503:
                        results["503"] += 1
                        ok = (r.getheader("Content-Type") == "application/problem+json" and
                              r.getheader("Retry-After") and
                              (r.getheader("Connection") or "").lower() == "close" and
                              b"unavailable" in payload)
                        results["bad503"] += not ok
                    else:
                        results["other"] += 1
                if i == 20:
                    started.set()
                if (r.getheader("Connection") or "").lower() == "close":
                    conn.close()
                    conn = None

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(12)]
        for t in threads:
            t.start()
        started.wait(20)
        # The load runs until SIGTERM; the server's exit ends it (connections refused).
        deadline = time.time() + 2
        while time.time() < deadline and results["ok"] < 500:
            time.sleep(0.01)
        srv.proc.send_signal(signal.SIGTERM)
        rc = srv.proc.wait(30)
        for t in threads:
            t.join(30)
        lib._scan_sanitizer(srv.log(), "server")
        check_eq(rc, 0, "exit code on SIGTERM")
        check(results["ok"] > 100, f"load before SIGTERM: {results}")
        check(results["503"] > 0, f"no request was turned away with 503: {results}")
        check_eq(results["bad503"], 0, f"503 answers without problem+json, Retry-After, close")
        check_eq(results["closed"], 0, f"requests that saw their connection closed: {results}")
        check_eq(results["other"], 0, f"other statuses: {results}")
        print(f"  SIGTERM under load: {results}", flush=True)
    finally:
        srv.kill9()
        srv.cleanup()


if __name__ == "__main__":
    run()
