"""API test of durability under load and crashes: 60 client threads mix reads and evidence
writes (20 of them writing) for about 15 s while the server is killed with SIGKILL and restarted twice. Afterwards
every acknowledged write (its revision number from the 200 answer) is in the role's history,
the history's revision numbers have no gap, the database passes integrity_check, and every
acknowledged score change was delivered to a webhook receiver (matched by
data.current.revision), retries and restarts included.
Run: AIJRI_BIN=bin/aijri python3 tests/api/test_load_fault.py
"""
import http.client
import json
import os
import random
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Server, check, check_eq, run, test  # noqa: E402
from webhook_receiver import Receiver  # noqa: E402

SLUG = "edge-ai-engineer"
THREADS = 60
PHASE_SECONDS = 5      # load between start, the two kills and the end: 3 phases
WRITERS = 20           # of the THREADS, these write (one every WRITE_PAUSE s at most) ...
WRITE_PAUSE = 0.2      # ... so score changes stay within what one endpoint, served in order,
                       # can receive in the time allowed (about 100 writes/s in all)
DELIVERY_WAIT = 15     # seconds allowed after the last restart for the webhooks


class Load:
    """Client threads that follow the server's current port across restarts."""

    def __init__(self, token):
        self.token = token
        self.port = None
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acks = []          # (revision, score_changed)
        self.reads = 0
        self.bad = []           # unexpected answers
        self.errors = 0         # connection failures (expected around a kill)

    def worker(self, n):
        rnd = random.Random(n)
        conn, conn_port, i = None, None, 0
        while not self.stop.is_set():
            port = self.port
            if conn is None or conn_port != port:
                if conn:
                    conn.close()
                conn, conn_port = http.client.HTTPConnection("127.0.0.1", port, timeout=10), port
            i += 1
            write = n < WRITERS and rnd.random() < 0.8
            if write:
                time.sleep(WRITE_PAUSE)
            try:
                if write:
                    body = json.dumps({"dimensions": {"wage_trends": {
                        "score": rnd.choice([-2, -1, 0, 1, 2]), "rationale": f"load t{n} n{i}"}},
                        "reason": f"load t{n} n{i}"})
                    conn.request("POST", f"/roles/{SLUG}/evidence", body=body, headers={
                        "Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
                else:
                    conn.request("GET", f"/roles/{SLUG}/score")
                r = conn.getresponse()
                payload = r.read()
            except (OSError, http.client.HTTPException):
                # The server was killed or is restarting: the write is not acknowledged.
                conn.close()
                conn = None
                with self.lock:
                    self.errors += 1
                time.sleep(0.05)
                continue
            with self.lock:
                if r.status == 200 and write:
                    v = json.loads(payload)
                    self.acks.append((v["revision"], bool(v["score_changed"])))
                elif r.status == 200:
                    self.reads += 1
                elif r.status != 503:  # busy is a clean refusal
                    self.bad.append((r.status, payload[:200]))
        if conn:
            conn.close()


def all_revisions(srv):
    revs, offset = [], 0
    while True:
        r = srv.get(f"/roles/{SLUG}/revisions?limit=200&offset={offset}")
        if not check_eq(r.status, 200, "GET revisions"):
            return revs
        page = r.json
        revs += [item["revision"] for item in page["items"]]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return revs


@test
def acknowledged_writes_survive_kill9_and_are_delivered():
    rec = Receiver()
    srv = Server(args=["--allow-private-webhooks"],
                 env={"AIJRI_WEBHOOK_RETRY_SCHEDULE": "1,1,1,1,1"})
    try:
        srv.start()
        token = srv.token("load")
        r = srv.post("/webhooks", {"url": f"http://127.0.0.1:{rec.port}/hook",
                                   "events": ["score.changed"]}, token=token)
        check_eq(r.status, 201, f"subscribe: {r}")
        load = Load(token)
        load.port = srv.port
        threads = [threading.Thread(target=load.worker, args=(n,), daemon=True)
                   for n in range(THREADS)]
        for t in threads:
            t.start()
        for kill in range(2):
            time.sleep(PHASE_SECONDS)
            srv.kill9()
            srv.start()          # a new port; the same database
            load.port = srv.port
        time.sleep(PHASE_SECONDS)
        load.stop.set()
        for t in threads:
            t.join(timeout=15)
        check(not any(t.is_alive() for t in threads), "client threads did not stop")
        last_restart = time.time() - PHASE_SECONDS

        acked = sorted(rev for rev, _ in load.acks)
        check(len(acked) > 50, f"only {len(acked)} writes were acknowledged")
        check(load.reads > 100, f"only {load.reads} reads were answered")
        check(not load.bad, f"unexpected answers: {load.bad[:5]}")
        check_eq(len(set(acked)), len(acked), "two acknowledged writes share a revision")

        revs = all_revisions(srv)
        present = set(revs)
        lost = [rev for rev in acked if rev not in present]
        check(not lost, f"{len(lost)} acknowledged revisions missing after kill -9: {lost[:10]}")
        check_eq(sorted(revs), list(range(1, len(revs) + 1)), "revision numbers with a gap")
        check_eq(len(revs), len(present), "a revision number listed twice")

        changed = {rev for rev, sc in load.acks if sc}
        check(len(changed) > 5, f"only {len(changed)} score changes were acknowledged")
        deadline = last_restart + DELIVERY_WAIT
        def delivered():
            return rec.keys("score.changed", lambda ev: ev["data"]["current"]["revision"])

        while time.time() < deadline:
            if changed <= delivered():
                break
            time.sleep(0.2)
        missing = sorted(changed - delivered())
        check(not missing, f"{len(missing)} acknowledged score changes never delivered: "
                           f"{missing[:10]} (of {len(changed)}; {len(rec.requests)} requests "
                           "received)")
        print(f"  acked writes {len(acked)}, reads {load.reads}, score changes {len(changed)}, "
              f"revisions {len(revs)}, deliveries received {len(rec.requests)}, "
              f"connection errors {load.errors}", flush=True)

        check_eq(srv.stop(), 0, "exit code on SIGTERM")
        db = sqlite3.connect(srv.db)
        try:
            check_eq(db.execute("PRAGMA integrity_check").fetchone()[0], "ok", "integrity_check")
        finally:
            db.close()
    finally:
        srv.cleanup()
        rec.close()


if __name__ == "__main__":
    run()
