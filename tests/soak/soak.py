"""The soak test: the server as a deployment sees it over minutes, with hostile clients. Run
once by tests/all, on the release build only (sanitizers and valgrind inflate memory and
time). It asserts what is not a timing: file sizes, memory growth, every request answered,
exports not rebuilt per call; the times it sees (stop, start-up) are printed for the record,
and measured by bench/run.

  1. 1,500 roles are imported (an export of about 14 MB), then 8 clients write at full speed
     for SOAK_WRITE_SECONDS (60): the -wal file stays under 64 MiB throughout, the database
     file holds the data, and once writes pause the WAL is cut to nothing. SIGTERM then exits
     0 with no -wal file left, and a restart finds every acknowledged revision.
  2. 12,000 distinct anonymous URLs (unknown parameters, search terms, pages, exports with
     cache-busting parameters) grow the server's RSS by less than 64 MiB, and the response
     cache stays within its bound.
  3. 1,500 idle connections are held (and reopened as the server closes them) from the same
     address as a normal client, which gets every answer.
  4. 4 clients loop exports while another reads scores: every export is the same bytes, built
     once (aijri_export_builds_total), and every read is answered.
  5. The framing cases of tests/api/framing_cases.py: refused and closed.

Run: AIJRI_BIN=bin/aijri python3 tests/soak/soak.py
"""
import hashlib
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
import lib  # noqa: E402
from lib import Server, check, check_eq, run, run_cli, test  # noqa: E402
import framing_cases  # noqa: E402

ROOT = lib.ROOT
WRITE_SECONDS = int(os.environ.get("SOAK_WRITE_SECONDS", "60"))
N_ROLES = 1500
N_URLS = 12000
N_IDLE = 1500
MiB = 1 << 20
SLUG = "soak-writer"


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def metric(port, name, labels=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    for line in text.splitlines():
        m = re.match(r'^([a-z_]+)(\{[^}]*\})? (\S+)$', line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if labels is None or all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return None


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def small_role():
    """A valid role with short texts, so that a minute of writes stays small on disk."""
    with open(os.path.join(ROOT, "data", "edge-ai-engineer.json")) as f:
        r = json.load(f)
    r["slug"], r["title"], r["aliases"] = SLUG, "Soak Writer", []
    for k in ("primary_function", "not_this_role", "typical_experience"):
        r[k] = None
    a = r["assessment"]
    a["tasks"] = [{"name": "Write", "time_share": 60, "score": 3, "rationale": "w"},
                  {"name": "Read", "time_share": 40, "score": 2, "rationale": "r"}]
    for part in ("evidence", "barriers", "protective"):
        for v in a[part].values():
            v["rationale"] = "x"
            if "sources" in v:
                v["sources"] = []
    a["growth"]["rationale"] = "x"
    return r


def revisions_total(port, slug):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", f"/roles/{slug}/revisions?limit=1")
    v = json.loads(c.getresponse().read())
    c.close()
    return v["total"]


def write_load(srv, token, seconds):
    """8 clients writing for `seconds`: wrk with bench/write.lua when there is a wrk, else
    Python threads. Returns the number of 200 answers and of others."""
    wrk = shutil.which("wrk")
    if wrk:
        env = dict(os.environ, BENCH_TOKEN=token, BENCH_SLUG=SLUG)
        p = subprocess.run([wrk, "-t2", "-c8", f"-d{seconds}s", "-s",
                            os.path.join(ROOT, "bench", "write.lua"),
                            f"http://127.0.0.1:{srv.port}"],
                           capture_output=True, env=env, timeout=seconds + 60)
        m = re.search(rb"statuses 200=(\d+) other=(\d+)", p.stdout)
        return (int(m.group(1)), int(m.group(2))) if m else (0, -1)
    counts = [0, 0]
    lock = threading.Lock()
    end = time.time() + seconds

    def client(n):
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        i = 0
        while time.time() < end:
            i += 1
            body = json.dumps({"dimensions": {"wage_trends": {
                "score": 2 if i % 2 else -2, "rationale": f"soak t{n} n{i}"}}, "reason": "soak"})
            c.request("POST", f"/roles/{SLUG}/evidence", body=body, headers={
                "Authorization": "Bearer " + token, "Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            with lock:
                counts[0 if r.status == 200 else 1] += 1
    ths = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    return counts[0], counts[1]


class Soak:
    def __init__(self):
        self.tmp = None
        self.srv = None


S = Soak()


@test
def setup_roles_and_server():
    raise_fd_limit(8192)
    S.srv = Server()
    S.tmp = S.srv.tmp
    nd = os.path.join(S.tmp, "roles.ndjson")
    with open(nd, "wb") as f:
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_roles.py"),
                        str(N_ROLES)], stdout=f, check=True)
    run_cli("import", nd, db=S.srv.db, check_rc=0)
    S.srv.start()
    S.token = S.srv.token("soak")
    r = S.srv.post("/roles", small_role(), token=S.token)
    check_eq(r.status, 201, f"the writer's role: {r}")


@test
def a_minute_of_writes_keeps_the_wal_small():
    srv = S.srv
    wal = srv.db + "-wal"
    sizes, done = [], threading.Event()

    def watch():
        while not done.is_set():
            try:
                sizes.append(os.stat(wal).st_size)
            except OSError:
                sizes.append(0)
            time.sleep(0.1)

    before = revisions_total(srv.port, SLUG)
    db_before = os.stat(srv.db).st_size
    w = threading.Thread(target=watch)
    w.start()
    ok, other = write_load(srv, S.token, WRITE_SECONDS)
    done.set()
    w.join()
    after = revisions_total(srv.port, SLUG)
    check(ok > 1000, f"only {ok} writes in {WRITE_SECONDS} s")
    check_eq(other, 0, "non-200 answers to writes")
    # wrk stops with writes in flight: they may commit after its count.
    check(ok <= after - before <= ok + 8, f"revisions added {after - before}, 200s {ok}")
    peak = max(sizes or [0])
    check(peak < 64 * MiB, f"the WAL reached {peak / MiB:.1f} MiB")
    grown = os.stat(srv.db).st_size - db_before
    check(grown > 0, "the database file did not grow: the data is only in the WAL")
    deadline = time.time() + 20
    while time.time() < deadline and metric(srv.port, "aijri_sqlite_wal_bytes") != 0:
        time.sleep(0.1)
    check_eq(metric(srv.port, "aijri_sqlite_wal_bytes"), 0.0, "the WAL once writes paused")
    print(f"  writes: {ok} in {WRITE_SECONDS} s, WAL peak {peak / MiB:.1f} MiB over "
          f"{len(sizes)} samples, database grew {grown / MiB:.1f} MiB", flush=True)
    # The writes wrk left in flight commit after its count (see above): what the restart must
    # find is what the server holds once they have, read here, just before SIGTERM.
    S.revisions = revisions_total(srv.port, SLUG)

    # Stop and start again on what the minute left.
    t0 = time.time()
    rc = srv.stop()
    stop_s = time.time() - t0
    check_eq(rc, 0, "exit code on SIGTERM")
    check(not os.path.exists(wal) or os.stat(wal).st_size == 0, "a -wal file left at exit")
    db = sqlite3.connect(srv.db)
    try:
        check_eq(db.execute("PRAGMA integrity_check").fetchone()[0], "ok", "integrity_check")
    finally:
        db.close()
    t0 = time.time()
    srv.start()
    start_s = time.time() - t0
    check_eq(revisions_total(srv.port, SLUG), S.revisions, "revisions after the restart")
    print(f"  after the minute of writes: SIGTERM to exit {stop_s:.2f} s, "
          f"start to the first /healthz {start_s:.2f} s", flush=True)


def get(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    return r.status, body


@test
def distinct_urls_do_not_grow_memory():
    srv = S.srv
    slugs = [f"bench-role-{i:05d}" for i in range(1, N_ROLES + 1)]

    def urls(start, n):
        out = []
        for i in range(start, start + n):
            k = i % 10
            s = slugs[i % len(slugs)]
            if k == 0:
                out.append(f"/openapi.json?v={i}")
            elif k == 1:
                out.append(f"/roles/{s}/score?cb={i}")
            elif k == 2:
                out.append(f"/roles?q=zz{i}")
            elif k == 3:
                out.append(f"/roles?limit={1 + i % 200}&offset={i}&sort=-score")
            elif k == 4:
                out.append(f"/roles/{s}?utm_source={i}")
            elif k == 5:
                out.append(f"/compare?roles={s},{slugs[(i * 7) % len(slugs)]}&x={i}")
            elif k == 6:
                out.append(f"/roles/{s}/revisions?limit={1 + i % 50}&z={i}")
            elif k == 7:
                out.append(f"/roles/{s}/evidence?n={i}")
            elif k == 8:
                out.append(f"/no/such/path/{i}")
            else:
                out.append(f"/methodology?v={i}" if i % 120 else f"/export?format=ndjson&v={i}")
        return out

    def fetch(paths, errors):
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        for p in paths:
            status, _ = get(c, p)
            if status not in (200, 404):
                errors.append((p, status))

    errors = []
    fetch(urls(10 ** 6, 600), errors)  # warm-up: every kind of answer built once
    base = rss_bytes(srv.proc.pid)
    all_urls = urls(0, N_URLS)
    check_eq(len(set(all_urls)), N_URLS, "distinct URLs")
    ths = [threading.Thread(target=fetch, args=(all_urls[i::4], errors)) for i in range(4)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    grown = rss_bytes(srv.proc.pid) - base
    check(not errors, f"unexpected answers: {errors[:5]}")
    check(grown < 64 * MiB, f"RSS grew {grown / MiB:.1f} MiB for {N_URLS} URLs")
    used = metric(srv.port, "aijri_http_cache_bytes")
    bound = metric(srv.port, "aijri_http_cache_max_bytes")
    check(used is not None and used <= bound, f"cache {used} bytes, bound {bound}")
    print(f"  {N_URLS} distinct URLs: RSS {base / MiB:.1f} -> "
          f"{(base + grown) / MiB:.1f} MiB ({grown / MiB:+.1f}), cache {used / MiB:.1f} MiB",
          flush=True)


@test
def idle_connections_do_not_lock_out_a_client():
    srv = S.srv
    stop = threading.Event()
    held = []
    reopened = [0]

    def holder():
        # Hold N_IDLE sockets; reopen each one the server closes, until told to stop.
        for _ in range(N_IDLE):
            try:
                held.append(socket.create_connection(("127.0.0.1", srv.port), timeout=5))
            except OSError:
                pass
        while not stop.is_set():
            for i, s in enumerate(held):
                if stop.is_set():
                    break
                s.setblocking(False)
                try:
                    gone = s.recv(1) == b""
                except BlockingIOError:
                    gone = False
                except OSError:
                    gone = True
                if gone:
                    s.close()
                    try:
                        held[i] = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
                        reopened[0] += 1
                    except OSError:
                        pass
            time.sleep(0.05)

    h = threading.Thread(target=holder)
    h.start()
    while len(held) < N_IDLE and h.is_alive():
        time.sleep(0.05)
    answered, failures = 0, []
    for i in range(300):
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        try:
            for _ in range(3):  # a few on one kept-alive connection, as a client does
                status, _ = get(c, f"/roles/{SLUG}/score")
                answered += status == 200
                if status != 200:
                    failures.append(status)
        except (OSError, http.client.HTTPException) as e:
            failures.append(repr(e))
        c.close()
    stop.set()
    h.join()
    for s in held:
        s.close()
    check_eq(len(held), N_IDLE, "idle connections held")
    check_eq(answered, 900, f"a normal client's answers; failures {failures[:5]}")
    print(f"  {N_IDLE} idle connections held ({reopened[0]} reopened after the server closed "
          f"them): the normal client got {answered} of 900 answers", flush=True)


@test
def looping_exports_are_built_once_and_shared():
    srv = S.srv
    builds0 = metric(srv.port, "aijri_export_builds_total", {"format": "ndjson"})
    digests, errors, reads = set(), [], [0, 0]
    lock = threading.Lock()
    done = threading.Event()

    def exporter():
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
        for _ in range(8):
            status, body = get(c, "/export?format=ndjson")
            with lock:
                if status != 200:
                    errors.append(status)
                digests.add((len(body), hashlib.sha256(body).hexdigest()))

    def reader():
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        while not done.is_set():
            status, _ = get(c, "/roles/bench-role-00001/score")
            reads[0 if status == 200 else 1] += 1

    r = threading.Thread(target=reader)
    r.start()
    ths = [threading.Thread(target=exporter) for _ in range(4)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    done.set()
    r.join()
    builds = metric(srv.port, "aijri_export_builds_total", {"format": "ndjson"}) - builds0
    check(not errors, f"export answers: {errors}")
    check_eq(len(digests), 1, "every export the same bytes")
    size = next(iter(digests))[0] if digests else 0
    check(size > 10 * MiB, f"an export of {N_ROLES} roles is {size} bytes")
    check(builds <= 1, f"{builds:.0f} builds for 32 exports with no write between")
    check(reads[0] > 0 and reads[1] == 0, f"score reads during the exports: {reads}")
    print(f"  32 exports of {size / MiB:.1f} MiB by 4 clients: {builds:.0f} build(s); "
          f"{reads[0]} score reads meanwhile", flush=True)


@test
def framing_cases_are_refused_and_closed():
    srv = S.srv
    for what, status, kind, data in framing_cases.AMBIGUOUS:
        got, closed, _ = framing_cases.exchange(srv.port, data)
        check(got.startswith(b"HTTP/1.1 %d " % status) and closed and kind.encode() in got,
              f"{what}: {got[:100]!r}, closed {closed}")


@test
def stop():
    check_eq(S.srv.stop(), 0, "exit code on SIGTERM")
    S.srv.cleanup()


if __name__ == "__main__":
    run()
