"""API tests of webhooks sent by several instances of one PostgreSQL database (API.md, "Running as
several instances"): each event is sent by exactly one instance, in order per endpoint, signed;
and a delivery claimed by an instance killed mid-send is sent by another once the claim's lease
has passed (at least once, across crashes). Whatever AIJRI_TEST_ENGINE says, these run on
PostgreSQL (the run's cluster: AIJRI_TEST_PG, or one of their own).
Run: AIJRI_BIN=bin/aijri python3 tests/api/test_webhooks_instances.py
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import VALGRIND, Server, check, check_eq, pg_cluster, pg_psql, run, test  # noqa: E402
from webhook_receiver import (Receiver, deliveries, metrics_of, queue_settled,  # noqa: E402
                              signature_ok, subscribe, wait_until)

SLUG = "edge-ai-engineer"
PRIVATE = ["--allow-private-webhooks"]
TYPES = ["assessment.revised", "score.changed", "zone.changed"]


SUCCEEDED = 'aijri_webhook_deliveries_total{outcome="succeeded"}'


def succeeded_by_instance(srv):
    return [metrics_of(p).get(SUCCEEDED, 0) for p in srv.ports if p]


def expected_events(srv, tok, n):
    """Makes n score changes (the wage trend back and forth, writes going to the instances in
    turn); returns the (type, revision) each subscriber of every type must get, in order."""
    zone = (srv.get(f"/roles/{SLUG}/score").json or {}).get("zone")
    want = []
    for i in range(n):
        score = 2 if i % 2 == 0 else -2
        r = srv.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {
            "score": score, "rationale": f"change {i}"}}, "reason": f"change {i}"}, token=tok)
        check_eq(r.status, 200, f"change {i}: {r.body[:300]!r}")
        res = r.json or {}
        check_eq(res.get("score_changed"), True, f"change {i} moves the score")
        rev = res.get("revision")
        want += [("assessment.revised", rev), ("score.changed", rev)]
        new_zone = (res.get("score") or {}).get("zone")
        if new_zone != zone:
            want.append(("zone.changed", rev))
        zone = new_zone
    return want


def got_events(rec, path):
    return [(e.get("type"), ((e.get("data") or {}).get("current") or {}).get("revision"))
            for e in rec.events(path)]


@test
def three_instances_send_each_event_once_in_order():
    """Three instances on one database, three subscribers of every type: N score changes give
    each subscriber exactly N assessment.revised and N score.changed events (and a zone.changed
    for each change of zone), each once, in the order of the revisions, each signed; the
    delivery log shows one attempt each, and the instances' counters of deliveries sent add up
    to the deliveries made, so no instance sent one that another sent too."""
    n = 8
    uri = pg_cluster().new_database()
    rec = Receiver()
    srv = Server(db=uri, args=PRIVATE, instances=3)
    try:
        srv.start()
        tok = srv.token()
        paths = ["/a", "/b", "/c"]
        subs = {p: subscribe(srv, tok, rec.url(p), events=TYPES) for p in paths}
        want = expected_events(srv, tok, n)
        check_eq(sum(1 for t, _ in want if t == "score.changed"), n, "N score changes")
        total = len(want) * len(paths)
        check(rec.wait(total, timeout=60), f"{total} deliveries arrived: {len(rec.requests)}")
        check(queue_settled(srv, timeout=60, step=0.05), "nothing left pending")
        # A ping to each subscriber, queued behind everything else of its endpoint: once they
        # arrived and the queue is empty again, every delivery was sent and recorded, so a
        # copy sent by a second instance would have arrived by now.
        for p in paths:
            r = srv.post(f"/webhooks/{subs[p].get('id')}/ping", token=tok)
            check_eq(r.status, 202, "ping")
        check(rec.wait(total + len(paths), timeout=60), "the pings arrived")
        check(queue_settled(srv, timeout=60, step=0.05), "nothing left pending after the pings")
        for p in paths:
            got = got_events(rec, p)
            check_eq(got[:-1], want, f"{p}: every event once, in order")
            check_eq(got[-1:], [("ping", None)], f"{p}: the ping last")
            reqs = [q for q in rec.requests if q["path"] == p]
            ids = [q["headers"].get("webhook-id") for q in reqs]
            check_eq(len(set(ids)), len(ids), f"{p}: no event id twice")
            check_eq(ids, [e.get("id") for e in rec.events(p)], f"{p}: webhook-id is the event id")
            check(all(signature_ok(subs[p].get("secret", "whsec_"), q) for q in reqs),
                  f"{p}: every signature verifies")
            log = deliveries(srv, tok, subs[p].get("id"), limit=100)
            check_eq(len(log), len(want) + 1, f"{p}: the log has every delivery")
            check_eq({(d.get("status"), d.get("attempts")) for d in log}, {("succeeded", 1)},
                     f"{p}: each sent once, and succeeded")
        check_eq(len(rec.requests), total + len(paths), "nothing sent twice")
        sent = succeeded_by_instance(srv)
        print(f"deliveries sent by each instance: {sent}", flush=True)
        check_eq(sum(sent), total + len(paths), f"sent by the instances: {sent}")
    finally:
        rec.close()
        if any(srv.procs):
            check_eq(srv.stop(), 0, "exit code on SIGTERM")
        srv.cleanup()
        pg_cluster().drop_database(uri)


def claim_of(uri, delivery_id):
    """(claimed_by, claimed_until in Unix ms) of a delivery, read from the database."""
    row = pg_psql(uri, "SELECT coalesce(claimed_by, ''), coalesce(claimed_until, 0) FROM "
                  f"deliveries WHERE id = {int(delivery_id)}")
    by, _, until = row.partition("|")
    return by, int(until or 0)


@test
def a_claim_outlives_its_killed_instance():
    """Instance A sends a delivery to an endpoint that holds the request open, and is killed
    (SIGKILL) mid-send, its claim held. Instance B, running beside it all along, leaves the
    delivery alone while the claim's lease (AIJRI_WEBHOOK_CLAIM_SECONDS) lasts, and sends it
    once the lease has passed: the same event id and body, signed; the delivery log shows B's
    attempt only (A never recorded one). A later event of the endpoint comes after it."""
    lease = 30 if VALGRIND else 4
    env = {"AIJRI_WEBHOOK_CLAIM_SECONDS": str(lease)}
    uri = pg_cluster().new_database()
    rec = Receiver(stall=1)
    a = Server(db=uri, args=PRIVATE, env=env, instances=1)
    b = Server(db=uri, args=PRIVATE, env=env, instances=1)
    try:
        a.start()
        tok = a.token()
        wh = subscribe(a, tok, rec.url(), events=["assessment.revised"])
        r = a.post(f"/webhooks/{wh.get('id')}/ping", token=tok)
        check_eq(r.status, 202, "ping")
        delivery = (r.json or {}).get("delivery_id")
        check(rec.wait(1, timeout=30), "A sends the ping, and the endpoint holds it")
        claimed_by, until_ms = claim_of(uri, delivery)
        check(len(claimed_by) == 16 and until_ms > 0, f"A holds a claim: {claimed_by!r}")
        b.start()
        killed_at = time.time()
        a.kill9()
        check(killed_at < until_ms / 1000, "A was killed while its claim held "
              f"({until_ms / 1000 - killed_at:.2f} s of lease left)")
        check_eq(claim_of(uri, delivery), (claimed_by, until_ms), "the claim outlives A")
        check(rec.wait(2, timeout=lease + 30), f"B sends it: {len(rec.requests)} requests")
        if len(rec.requests) >= 2:
            first, again = rec.requests[0], rec.requests[1]
            check(again["at"] >= until_ms / 1000, "not before the lease passed "
                  f"({until_ms / 1000 - again['at']:.3f} s early)")
            check_eq(again["headers"].get("webhook-id"), first["headers"].get("webhook-id"),
                     "the same event id")
            check_eq(again["body"], first["body"], "the same body")
            check(signature_ok(wh.get("secret", "whsec_"), again), "signed")
        log = wait_until(lambda: [d for d in deliveries(b, tok, wh.get("id"), limit=100)
                                  if d.get("status") == "succeeded"], timeout=30, step=0.05)
        check_eq([(d.get("id"), d.get("attempts"), d.get("last_status_code")) for d in log],
                 [(delivery, 1, 200)], "B's attempt is the one recorded")
        check_eq(claim_of(uri, delivery), ("", 0), "recording the attempt ended the claim")
        # A later event of the endpoint comes after it, and nothing else does.
        r = b.post(f"/webhooks/{wh.get('id')}/ping", token=tok)
        check_eq(r.status, 202, "a second ping")
        check(rec.wait(3, timeout=30), "the second ping arrives")
        check(queue_settled(b, timeout=60, step=0.05), "nothing left pending")
        check_eq(len(rec.requests), 3, "the held request, B's send, the second ping")
        check_eq([q["headers"].get("webhook-id") for q in rec.requests[2:]],
                 [(r.json or {}).get("event_id")], "the second ping last")
    finally:
        rec.close()
        a.cleanup()
        if any(b.procs):
            check_eq(b.stop(), 0, "B's exit code on SIGTERM")
        b.cleanup()
        pg_cluster().drop_database(uri)


run()
