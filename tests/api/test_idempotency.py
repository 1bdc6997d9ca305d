"""API tests of Idempotency-Key (API.md "Idempotent retries"): a replay gives the first answer
whole (status, body, Location, ETag, a new subscription's secret) with Idempotent-Replayed and
writes nothing; the same key with another method, path or body is 422; while the first is in
flight, 409; concurrent duplicates never write twice; answers survive a restart and kill -9;
a request refused (401, 422, 404, 412) keeps nothing, so its key can be used again; keys are
per token; bad keys are 422 naming the header.
Run: AIJRI_BIN=bin/aijri python3 tests/api/test_idempotency.py [test_name...]
"""
import http.client
import json
import os
import sys
import tempfile
import shutil
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Server, check, check_eq, run, seed_role, sqlite_only, test  # noqa: E402

SLUG = "edge-ai-engineer"


def revisions(s):
    return s.get(f"/roles/{SLUG}/revisions").json["total"]


def key(k):
    return {"Idempotency-Key": k}


def same_answer(a, b, msg, headers=("etag", "location", "content-type")):
    check_eq(b.status, a.status, f"{msg}: status")
    check_eq(b.body, a.body, f"{msg}: body")
    for h in headers:
        check_eq(b.header(h), a.header(h), f"{msg}: {h}")
    check_eq(b.header("idempotent-replayed"), "true", f"{msg}: Idempotent-Replayed")


def is_422_key(r, msg):
    check_eq(r.status, 422, f"{msg}: status ({r.body[:200]!r})")
    fields = [e.get("field") for e in (r.json or {}).get("errors", [])]
    check_eq(fields, ["Idempotency-Key"], f"{msg}: the header is named")


@test
def replay_gives_the_first_answer():
    with Server() as s:
        tok = s.token()
        body = {"dimensions": {"wage_trends": {"score": 2}}, "reason": "retry me"}
        first = s.post(f"/roles/{SLUG}/evidence", body, token=tok, headers=key("ev-1"))
        check_eq(first.status, 200, "first write")
        check_eq(first.header("idempotent-replayed"), None, "the first is no replay")
        n = revisions(s)
        again = s.post(f"/roles/{SLUG}/evidence", body, token=tok, headers=key("ev-1"))
        same_answer(first, again, "replay of an evidence write")
        check_eq(again.header("cache-control"), "no-store", "replay: no-store")
        check_eq(revisions(s), n, "the replay wrote nothing")
        # Even after another write moved the role on, the replay is the first answer.
        check_eq(s.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {"score": 0}}},
                        token=tok).status, 200, "another write")
        same_answer(first, s.post(f"/roles/{SLUG}/evidence", body, token=tok,
                                  headers=key("ev-1")), "replay after another write")

        # A create: 201, Location and the whole role, again.
        b = seed_role()
        b["slug"], b["title"] = "nurse", "Nurse"
        b.pop("aliases")
        c1 = s.post("/roles", b, token=tok, headers=key("create-nurse"))
        check_eq((c1.status, c1.header("location")), (201, "/roles/nurse"), "create")
        c2 = s.post("/roles", b, token=tok, headers=key("create-nurse"))
        same_answer(c1, c2, "replay of a create")
        # Without the key the same create is a conflict: the replay is not a second try.
        check_eq(s.post("/roles", b, token=tok).status, 409, "the role exists")

        # A write that changed nothing is kept and replayed too.
        u1 = s.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {"score": 0}}},
                    token=tok, headers=key("same"))
        check_eq((u1.status, (u1.json or {}).get("changed")), (200, False), "unchanged write")
        same_answer(u1, s.post(f"/roles/{SLUG}/evidence",
                               {"dimensions": {"wage_trends": {"score": 0}}}, token=tok,
                               headers=key("same")), "replay of an unchanged write")

        # PUT, DELETE (204 without a body), archive.
        p1 = s.put(f"/roles/{SLUG}/growth", {"growth": {"score": 2}}, token=tok,
                   headers=key("put-growth"))
        same_answer(p1, s.put(f"/roles/{SLUG}/growth", {"growth": {"score": 2}}, token=tok,
                              headers=key("put-growth")), "replay of a PUT")
        d1 = s.delete("/roles/nurse", token=tok, headers=key("del"))
        check_eq(d1.status, 204, "archive")
        d2 = s.delete("/roles/nurse", token=tok, headers=key("del"))
        same_answer(d1, d2, "replay of a DELETE")
        check_eq(s.delete("/roles/nurse", token=tok).status, 404, "gone without the key")


@test
def webhooks_replay_with_their_secret():
    with Server() as s:
        tok = s.token()
        sub = {"url": "https://example.org/hooks/a", "events": ["score.changed"]}
        w1 = s.post("/webhooks", sub, token=tok, headers=key("sub-1"))
        check_eq(w1.status, 201, "subscribe")
        secret = (w1.json or {}).get("secret", "")
        check(secret.startswith("whsec_"), "secret shown")
        w2 = s.post("/webhooks", sub, token=tok, headers=key("sub-1"))
        same_answer(w1, w2, "replay of a subscription")
        check_eq((w2.json or {}).get("secret"), secret, "the same secret again")
        check_eq(s.get("/webhooks", token=tok).json["total"], 1, "one subscription")
        wid = w1.json["id"]
        pa = s.patch(f"/webhooks/{wid}", {"description": "d"}, token=tok, headers=key("patch"))
        same_answer(pa, s.patch(f"/webhooks/{wid}", {"description": "d"}, token=tok,
                                headers=key("patch")), "replay of a PATCH")
        pi = s.post(f"/webhooks/{wid}/ping", token=tok, headers=key("ping"))
        check_eq(pi.status, 202, f"ping {pi.body[:200]!r}")
        check(isinstance((pi.json or {}).get("delivery_id"), int), "ping names its delivery")
        same_answer(pi, s.post(f"/webhooks/{wid}/ping", token=tok, headers=key("ping")),
                    "replay of a ping")
        deliveries = s.get(f"/webhooks/{wid}/deliveries", token=tok).json
        check_eq(deliveries["total"], 1, "one ping queued")
        did = pi.json["delivery_id"]
        rd = s.post(f"/webhooks/{wid}/deliveries/{did}/redeliver", token=tok, headers=key("rd"))
        check_eq(rd.status, 202, f"redeliver {rd.body[:200]!r}")
        check_eq((rd.json or {}).get("event_id"), pi.json["event_id"], "redelivery's event")
        same_answer(rd, s.post(f"/webhooks/{wid}/deliveries/{did}/redeliver", token=tok,
                               headers=key("rd")), "replay of a redelivery")
        check_eq(s.get(f"/webhooks/{wid}/deliveries", token=tok).json["total"], 2,
                 "one redelivery queued")
        dl = s.delete(f"/webhooks/{wid}", token=tok, headers=key("del"))
        same_answer(dl, s.delete(f"/webhooks/{wid}", token=tok, headers=key("del")),
                    "replay of a webhook DELETE")


@test
def reuse_with_another_request_is_422():
    with Server() as s:
        tok = s.token()
        body = {"dimensions": {"wage_trends": {"score": 2}}}
        check_eq(s.post(f"/roles/{SLUG}/evidence", body, token=tok, headers=key("k")).status,
                 200, "first")
        n = revisions(s)
        is_422_key(s.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {"score": 1}}},
                          token=tok, headers=key("k")), "another body")
        is_422_key(s.put(f"/roles/{SLUG}/growth", {"growth": {"score": 2}}, token=tok,
                         headers=key("k")), "another method and path")
        is_422_key(s.post("/roles/tinyml-engineer/evidence", body, token=tok, headers=key("k")),
                   "another path")
        check_eq(revisions(s), n, "nothing written")
        # The same bytes with another spelling of the same JSON are another body.
        raw = json.dumps(body, indent=1).encode()
        is_422_key(s.post(f"/roles/{SLUG}/evidence", raw=raw, token=tok,
                          headers={"Idempotency-Key": "k", "Content-Type": "application/json"}),
                   "another serialization")
        # Keys are per token.
        other = s.token("other")
        r = s.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {"score": 1}}},
                   token=other, headers=key("k"))
        check_eq((r.status, r.header("idempotent-replayed")), (200, None),
                 "the same key of another token is its own")


@test
def refused_requests_keep_nothing():
    with Server() as s:
        tok = s.token()
        n = revisions(s)
        # Refused by authentication: 401, not a replay, not a 422.
        r = s.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {"score": 2}}},
                   headers=key("fix-me"))
        check_eq(r.status, 401, "no token")
        r = s.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {"score": 9}}},
                   token=tok, headers=key("fix-me"))
        check_eq(r.status, 422, "refused by validation")
        r = s.put(f"/roles/{SLUG}/growth", {"growth": {"score": 2}}, token=tok,
                  headers={"Idempotency-Key": "fix-me", "If-Match": '"r7"'})
        check_eq(r.status, 412, "refused by If-Match")
        r = s.post("/roles/nobody/evidence", {"dimensions": {"wage_trends": {"score": 2}}},
                   token=tok, headers=key("fix-me"))
        check_eq(r.status, 404, "refused: no such role")
        check_eq(revisions(s), n, "nothing written")
        r = s.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {"score": 2}}},
                   token=tok, headers=key("fix-me"))
        check_eq((r.status, r.header("idempotent-replayed")), (200, None),
                 "the corrected request runs under the same key")
        check_eq(revisions(s), n + 1, "one write")
        # A refused webhook body keeps nothing either.
        r = s.post("/webhooks", {"url": "ftp://x"}, token=tok, headers=key("wh"))
        check_eq(r.status, 422, "bad subscription")
        r = s.post("/webhooks", {"url": "https://example.org/h"}, token=tok, headers=key("wh"))
        check_eq((r.status, r.header("idempotent-replayed")), (201, None), "then a good one")


@test
def bad_keys_are_422():
    with Server() as s:
        tok = s.token()
        body = {"dimensions": {"wage_trends": {"score": 2}}}
        for k in ("x" * 256, "has space", "tab\tkey", "caf\u00e9".encode().decode("latin-1")):
            is_422_key(s.post(f"/roles/{SLUG}/evidence", body, token=tok,
                              headers={"Idempotency-Key": k}), f"key {k[:20]!r}")
        check_eq(revisions(s), 1, "nothing written")
        r = s.post(f"/roles/{SLUG}/evidence", body, token=tok,
                   headers={"Idempotency-Key": "k" * 255})
        check_eq(r.status, 200, "255 characters")
        r = s.post(f"/roles/{SLUG}/evidence", body, token=tok,
                   headers={"Idempotency-Key": "!~" + "a" * 10})
        check_eq(r.status, 200, "any visible ASCII")
        # The stateless POSTs store nothing: a key changes nothing for them.
        r = s.post("/score", seed_role()["assessment"], headers={"Idempotency-Key": "bad key"})
        check_eq(r.status, 200, "POST /score ignores the header")
        r = s.post(f"/roles/{SLUG}/what-if", {}, headers={"Idempotency-Key": "bad key"})
        check_eq(r.status, 200, "what-if ignores the header")
        r = s.request("OPTIONS", f"/roles/{SLUG}/evidence")
        check("Idempotency-Key" in (r.header("access-control-allow-headers") or ""),
              "preflight allows the header")
        check("Idempotent-Replayed" in (r.header("access-control-expose-headers") or "") or
              "Idempotent-Replayed" in (s.get("/roles").header("access-control-expose-headers")
                                        or ""), "the replay header is exposed")


@test
def durable_across_restart_and_kill():
    tmp = tempfile.mkdtemp(prefix="aijri-test-")
    try:
        s = Server(tmp=tmp)
        s.start()
        tok = s.token()
        body = {"dimensions": {"company_actions": {"score": 2}}}
        first = s.post(f"/roles/{SLUG}/evidence", body, token=tok, headers=key("durable"))
        check_eq(first.status, 200, "first")
        check_eq(s.stop(), 0, "SIGTERM")
        s = Server(db=s.db, tmp=tmp)
        s.start()
        same_answer(first, s.post(f"/roles/{SLUG}/evidence", body, token=tok,
                                  headers=key("durable")), "replay after a restart")
        second = s.post(f"/roles/{SLUG}/evidence", {"dimensions": {"company_actions":
                                                                    {"score": 0}}},
                        token=tok, headers=key("killed"))
        check_eq(second.status, 200, "acknowledged")
        s.kill9()
        s = Server(db=s.db, tmp=tmp)
        s.start()
        same_answer(second, s.post(f"/roles/{SLUG}/evidence",
                                   {"dimensions": {"company_actions": {"score": 0}}}, token=tok,
                                   headers=key("killed")), "replay after kill -9")
        check_eq(revisions(s), 3, "two writes in all")
        check_eq(s.stop(), 0, "SIGTERM")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def concurrent_duplicates_write_once():
    with Server() as s:
        tok = s.token()
        n0 = revisions(s)
        body = json.dumps({"dimensions": {"wage_trends": {"score": -2}}}).encode()
        results = []
        lock = threading.Lock()
        go = threading.Barrier(12)
        ports = iter(s.ports * 12)  # with several instances, the duplicates reach all of them

        def send(port):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            go.wait()
            c.request("POST", f"/roles/{SLUG}/evidence", body=body,
                      headers={"Authorization": "Bearer " + tok, "Idempotency-Key": "race",
                               "Content-Type": "application/json"})
            r = c.getresponse()
            payload = r.read()
            with lock:
                results.append((r.status, r.getheader("Idempotent-Replayed"), payload))
            c.close()

        threads = [threading.Thread(target=send, args=(next(ports),)) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check_eq(revisions(s), n0 + 1, "exactly one write")
        statuses = sorted(st for st, _, _ in results)
        check(all(st in (200, 409) for st in statuses), f"200 or 409 only: {statuses}")
        ok = [(rp, p) for st, rp, p in results if st == 200]
        check_eq(sum(1 for rp, _ in ok if rp is None), 1, "one first answer")
        check_eq(len({p for _, p in ok}), 1, "every 200 is the same answer")
        for st, rp, p in results:
            if st == 409:
                j = json.loads(p)
                check_eq([e.get("field") for e in j.get("errors", [])], ["Idempotency-Key"],
                         "409 names the header")
        # After the first is answered, the key replays.
        r = s.post(f"/roles/{SLUG}/evidence", raw=body, token=tok,
                   headers={"Idempotency-Key": "race", "Content-Type": "application/json"})
        check_eq((r.status, r.header("idempotent-replayed")), (200, "true"), "then a replay")
        check_eq(revisions(s), n0 + 1, "still one write")


@test
@sqlite_only
def in_flight_is_409():
    """The database's write lock, held by the test, keeps the first request in flight: the
    second with the same key is 409 (whichever of the two comes second), the first completes
    once the lock is let go, and the key then replays."""
    import sqlite3
    import time
    with Server() as s:
        tok = s.token()
        n0 = revisions(s)
        body = json.dumps({"dimensions": {"wage_trends": {"score": 0}}}).encode()
        results = []
        lock = threading.Lock()

        def send():
            c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
            c.request("POST", f"/roles/{SLUG}/evidence", body=body,
                      headers={"Authorization": "Bearer " + tok, "Idempotency-Key": "held",
                               "Content-Type": "application/json"})
            r = c.getresponse()
            with lock:
                results.append((r.status, r.getheader("Idempotent-Replayed"), r.read()))
            c.close()

        db = sqlite3.connect(s.db, timeout=10, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        threads = [threading.Thread(target=send) for _ in range(2)]
        try:
            for t in threads:
                t.start()
            deadline = time.time() + 4
            while time.time() < deadline:
                with lock:
                    if results:
                        break
                time.sleep(0.01)
        finally:
            db.execute("ROLLBACK")
            db.close()
        for t in threads:
            t.join()
        check_eq(sorted(st for st, _, _ in results), [200, 409], "one in flight, one 409")
        for st, _, payload in results:
            if st == 409:
                j = json.loads(payload)
                check_eq([e.get("field") for e in j.get("errors", [])], ["Idempotency-Key"],
                         "409 names the header")
        check_eq(revisions(s), n0 + 1, "one write")
        r = s.post(f"/roles/{SLUG}/evidence", raw=body, token=tok,
                   headers={"Idempotency-Key": "held", "Content-Type": "application/json"})
        check_eq((r.status, r.header("idempotent-replayed")), (200, "true"), "then a replay")


if __name__ == "__main__":
    run()
