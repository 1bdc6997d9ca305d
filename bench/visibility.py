#!/usr/bin/env python3
"""visibility.py: the cross-instance visibility benchmark of bench/run (part pg).

  bench/visibility.py TOKEN URL_A URL_B [URL_C ...] [--writes N] [--pause-ms MS]
                      [--timeout S] [--max-misses N]     (URLs like http://127.0.0.1:8080)

Several `aijri serve` instances on one PostgreSQL database. N times (default 300): one write on
instance A (POST /roles/edge-ai-engineer/evidence, wage_trends with a rationale never used
before, so each write is a new revision), and from the moment its 200 arrives, every other
instance is polled, each by a thread of its own on a kept-alive connection and as fast as it
answers, with GET /roles/edge-ai-engineer/evidence until the body shows that rationale. The
delay of an instance is from the 200 on A to the first poll answer that shows the write. A
write's delay is that of the last instance to show it. Between writes a random pause of 0 to
--pause-ms (default 100) ms, so that the writes do not fall in step with anything periodic in
the servers. An instance that has not shown a write after --timeout (default 10) s counts as a
miss (its delay is not among the figures); after --max-misses (default 5) writes with a miss the
run stops there (the figures are then of the writes made, and "stopped" says so), so that
instances that never see each other's writes cost a minute, not an hour.

When an instance shows the rationale, its ETag must be that write's revision ("rN" from A's
answer): a different one counts in etag_mismatches.

Prints one line of JSON: writes (made), write_errors, misses, etag_mismatches, p50_ms/p99_ms/max_ms of
the writes' delays (until every other instance shows the write), per_instance (the same figures
for each instance on its own), polls (answers read in all), poll_ms_p50 (one poll's round trip,
the resolution of the figures) and seconds.
"""
import argparse
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

SLUG = "edge-ai-engineer"
PATH = f"/roles/{SLUG}/evidence"


def connect(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(p * len(v)))]


class Poller(threading.Thread):
    """Polls one instance for each write it is handed; reports when the write showed."""

    def __init__(self, url, timeout):
        super().__init__(daemon=True)
        self.url = url
        self.timeout = timeout
        self.conn = connect(url)
        self.cv = threading.Condition()
        self.job = None        # (needle bytes, revision, t0) while a write is awaited
        self.result = None     # (seconds or None for a miss, etag ok)
        self.polls = 0
        self.poll_times = []

    def get(self):
        t = time.monotonic()
        try:
            self.conn.request("GET", PATH)
            r = self.conn.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = connect(self.url)
            return None, None, None
        self.polls += 1
        if len(self.poll_times) < 100000:
            self.poll_times.append(time.monotonic() - t)
        return r.status, r.getheader("ETag"), body

    def run(self):
        while True:
            with self.cv:
                while self.job is None:
                    self.cv.wait()
                needle, revision, t0 = self.job
            seen = None
            etag_ok = True
            while time.monotonic() - t0 < self.timeout:
                status, etag, body = self.get()
                if status == 200 and needle in body:
                    seen = time.monotonic() - t0
                    etag_ok = etag == f'"r{revision}"'
                    break
            with self.cv:
                self.job = None
                self.result = (seen, etag_ok)
                self.cv.notify_all()

    def start_job(self, needle, revision, t0):
        with self.cv:
            self.result = None
            self.job = (needle, revision, t0)
            self.cv.notify_all()

    def wait_result(self):
        with self.cv:
            while self.result is None:
                self.cv.wait()
            return self.result


def main():
    ap = argparse.ArgumentParser(description="cross-instance visibility delay")
    ap.add_argument("token")
    ap.add_argument("writer")
    ap.add_argument("readers", nargs="+")
    ap.add_argument("--writes", type=int, default=300)
    ap.add_argument("--pause-ms", type=float, default=100)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--max-misses", type=int, default=5)
    a = ap.parse_args()

    pollers = [Poller(u, a.timeout) for u in a.readers]
    for p in pollers:
        p.start()
    w = connect(a.writer)
    headers = {"Authorization": "Bearer " + a.token, "Content-Type": "application/json"}
    tag = f"vis-{int(time.time())}-{random.randrange(1 << 30)}"
    delays = []                                  # per write: until every reader shows it
    per = [[] for _ in pollers]                  # per reader: its own delays
    write_errors = misses = mismatches = missed_writes = made = 0
    stopped = None
    start = time.monotonic()
    for i in range(a.writes):
        if missed_writes >= a.max_misses:
            stopped = f"after {missed_writes} writes that an instance did not show"
            break
        made += 1
        time.sleep(random.uniform(0, a.pause_ms) / 1000)
        rationale = f"{tag} write {i}"
        body = json.dumps({"dimensions": {"wage_trends": {
            "score": 2 if i % 2 else -2, "rationale": rationale}}, "reason": "visibility"})
        try:
            w.request("POST", PATH, body=body, headers=headers)
            r = w.getresponse()
            answer = r.read()
            t0 = time.monotonic()
        except (OSError, http.client.HTTPException) as e:
            print(f"visibility.py: write {i}: {e}", file=sys.stderr)
            w.close()
            w = connect(a.writer)
            write_errors += 1
            continue
        if r.status != 200:
            write_errors += 1
            if write_errors <= 3:
                print(f"visibility.py: write {i}: {r.status} {answer[:300]!r}", file=sys.stderr)
            continue
        revision = json.loads(answer)["revision"]
        # The needle as the server writes it in JSON: the rationale has nothing to escape.
        needle = json.dumps(rationale).encode()
        for p in pollers:
            p.start_job(needle, revision, t0)
        worst = 0.0
        missed = False
        for k, p in enumerate(pollers):
            seen, etag_ok = p.wait_result()
            if seen is None:
                misses += 1
                missed = True
                continue
            if not etag_ok:
                mismatches += 1
            per[k].append(seen)
            worst = max(worst, seen)
        if missed:
            missed_writes += 1
        else:
            delays.append(worst)

    def ms(v):
        return None if v is None else round(v * 1000, 3)

    polls = sum(p.polls for p in pollers)
    poll_times = [t for p in pollers for t in p.poll_times]
    print(json.dumps({
        "writes": made,
        "stopped": stopped,
        "write_errors": write_errors,
        "readers": len(pollers),
        "misses": misses,
        "etag_mismatches": mismatches,
        "p50_ms": ms(pct(delays, 0.50)),
        "p99_ms": ms(pct(delays, 0.99)),
        "max_ms": ms(max(delays) if delays else None),
        "per_instance": [{"url": p.url, "p50_ms": ms(pct(v, 0.50)), "p99_ms": ms(pct(v, 0.99)),
                          "max_ms": ms(max(v) if v else None), "n": len(v)}
                         for p, v in zip(pollers, per)],
        "polls": polls,
        "poll_ms_p50": ms(pct(poll_times, 0.50)),
        "seconds": round(time.monotonic() - start, 2),
    }))
    return 0 if delays else 1


if __name__ == "__main__":
    sys.exit(main())
