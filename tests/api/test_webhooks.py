"""API tests of the score-change webhooks (API.md "Score-change webhooks" and "Events and
subscription states"): subscriptions, signed deliveries to a real receiver on loopback, filters,
retries, crash recovery, the address guard, redelivery and ping, role.archived, paused
subscriptions (PATCH and 410) and the expiry of what waited too long.
Run: AIJRI_BIN=bin/aijri python3 tests/api/test_webhooks.py
"""
import base64
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (VALGRIND, Server, on_sqlite, pg_psql, check, check_eq, free_port, run, seed_role,  # noqa: E402
                 test)
from webhook_receiver import (Receiver, deliveries, metrics_of, queue_settled,  # noqa: E402
                              signature_ok, subscribe, wait_until)

SLUG = "edge-ai-engineer"
PRIVATE = ["--allow-private-webhooks"]
FAST = {"AIJRI_WEBHOOK_RETRY_SCHEDULE": "1,1,1"}


def metric_total(srv, name):
    """A counter of /metrics summed over the server's instances (each counts what it sent);
    None when one of them does not show it."""
    values = [metrics_of(port).get(name) for port in srv.ports]
    return None if None in values else sum(values)


def move_score(srv, tok):
    r = srv.post(f"/roles/{SLUG}/evidence",
                 {"dimensions": {"wage_trends": {"score": 2, "rationale": "x"}}, "reason": "test"},
                 token=tok)
    check_eq(r.status, 200, f"evidence change: {r.body[:300]!r}")
    return r.json or {}


@test
def auth_required_everywhere():
    with Server() as srv:
        tok = srv.token()
        wh = subscribe(srv, tok, "https://example.com/hook").get("id", "wh_x")
        paths = [("GET", "/webhooks"), ("POST", "/webhooks"), ("GET", f"/webhooks/{wh}"),
                 ("PATCH", f"/webhooks/{wh}"), ("DELETE", f"/webhooks/{wh}"),
                 ("GET", f"/webhooks/{wh}/deliveries"),
                 ("POST", f"/webhooks/{wh}/deliveries/1/redeliver"),
                 ("POST", f"/webhooks/{wh}/ping")]
        for method, path in paths:
            body = {"url": "https://example.com/x"} if method in ("POST", "PATCH") else None
            r = srv.request(method, path, body=body)
            check_eq(r.status, 401, f"{method} {path} without a token")
            r = srv.request(method, path, body=body, token="not-a-token")
            check_eq(r.status, 401, f"{method} {path} with a wrong token")
        check_eq(srv.get(f"/webhooks/{wh}", token=tok).status, 200, "still there")


@test
def subscription_lifecycle():
    with Server() as srv:
        tok = srv.token()
        r = srv.post("/webhooks", {"url": "https://example.com/a", "roles": [SLUG],
                                   "description": "mine"}, token=tok)
        check_eq(r.status, 201, "create")
        wh = r.json or {}
        check_eq(r.header("Location"), f"/webhooks/{wh.get('id')}", "Location")
        check(wh.get("id", "").startswith("wh_"), f"id {wh.get('id')}")
        secret = wh.get("secret", "")
        check(secret.startswith("whsec_"), f"secret {secret}")
        check(len(base64.b64decode(secret[6:] or "AA==")) >= 24, "secret of 24+ random bytes")
        check_eq(sorted(wh.get("events") or []),
                 ["assessment.revised", "role.archived", "score.changed", "zone.changed"],
                 "events absent: every event, as roles absent is every role")
        check_eq(wh.get("disabled_reason"), None, "no disabled_reason while active")
        check_eq(wh.get("roles"), [SLUG], "roles")
        check_eq(wh.get("description"), "mine", "description")
        check_eq(wh.get("status"), "active", "status")
        for k in ("created_at", "updated_at"):
            check(isinstance(wh.get(k), str) and wh[k].endswith("Z"), f"{k} {wh.get(k)}")

        g = srv.get(f"/webhooks/{wh['id']}", token=tok)
        check_eq(g.status, 200, "get")
        check("secret" not in (g.json or {}), "the secret is shown once")
        check_eq((g.json or {}).get("url"), "https://example.com/a", "url")

        subscribe(srv, tok, "http://example.org/b", events=["zone.changed", "assessment.revised"])
        lst = srv.get("/webhooks", token=tok).json or {}
        check_eq(lst.get("total"), 2, "list total")
        check_eq([w["url"] for w in lst.get("items", [])],
                 ["https://example.com/a", "http://example.org/b"], "oldest first")
        check(all("secret" not in w for w in lst.get("items", [])), "no secret in the list")
        check_eq(srv.get("/webhooks?limit=1&offset=1", token=tok).json.get("items", [{}])[0]
                 .get("url"), "http://example.org/b", "paging")

        p = srv.patch(f"/webhooks/{wh['id']}", {"status": "disabled", "roles": None,
                                                 "events": ["zone.changed"]}, token=tok)
        check_eq(p.status, 200, f"patch {p.body[:200]!r}")
        check_eq((p.json or {}).get("status"), "disabled", "disabled")
        check_eq((p.json or {}).get("disabled_reason"), "set to disabled by PATCH",
                 "the record says why")
        check_eq((p.json or {}).get("roles"), None, "roles back to every role")
        check_eq((p.json or {}).get("events"), ["zone.changed"], "events patched")
        for bad in ({"status": "paused"}, {"url": "ftp://example.com"}, {"secret": "x"},
                    {"events": []}):
            check_eq(srv.patch(f"/webhooks/{wh['id']}", bad, token=tok).status, 422, f"patch {bad}")
        r = srv.patch(f"/webhooks/{wh['id']}", {}, token=tok)
        check_eq(r.status, 422, "a PATCH that sets nothing")
        check_eq([e.get("field") for e in (r.json or {}).get("errors", [])], ["body"],
                 "names the body")
        r = srv.patch(f"/webhooks/{wh['id']}", {"status": "active"}, token=tok)
        check_eq(((r.json or {}).get("status"), (r.json or {}).get("disabled_reason")),
                 ("active", None), "active again, no reason")

        check_eq(srv.delete(f"/webhooks/{wh['id']}", token=tok).status, 204, "delete")
        check_eq(srv.get(f"/webhooks/{wh['id']}", token=tok).status, 404, "gone")
        check_eq(srv.delete(f"/webhooks/{wh['id']}", token=tok).status, 404, "delete again")
        check_eq(srv.get("/webhooks/wh_nope/deliveries", token=tok).status, 404, "no log")
        check_eq(srv.post("/webhooks/wh_nope/ping", token=tok).status, 404, "no ping")


@test
def validation():
    with Server() as srv:
        tok = srv.token()
        for url in ("not a url", "ftp://example.com/x", "http://", "/relative/path", "https:///x",
                    "file:///etc/passwd", 42, ""):
            r = srv.post("/webhooks", {"url": url}, token=tok)
            check_eq(r.status, 422, f"url {url!r}")
            fields = [e.get("field") for e in (r.json or {}).get("errors", [])]
            check("url" in fields, f"url {url!r}: errors {fields}")
        for url in ("https://user:secret@example.com/hook", "https://user@example.com/hook",
                    "https://:secret@example.com/hook"):
            r = srv.post("/webhooks", {"url": url}, token=tok)
            check_eq(r.status, 422, f"credentials in {url}")
            errs = (r.json or {}).get("errors", [])
            check_eq([e.get("field") for e in errs], ["url"], f"{url}: names url")
            check("secret" not in r.body.decode(), f"{url}: the password is not echoed")
        r = srv.post("/webhooks", {"url": "https://example.com", "roles": [SLUG, "no-such-role"]},
                     token=tok)
        check_eq(r.status, 422, "unknown role")
        check_eq([e.get("field") for e in (r.json or {}).get("errors", [])], ["roles[1]"],
                 "names the slug")
        r = srv.post("/webhooks", {"url": "https://example.com", "events": ["score.changed", "x"]},
                     token=tok)
        check_eq(r.status, 422, "unknown event")
        check_eq([e.get("field") for e in (r.json or {}).get("errors", [])], ["events[1]"],
                 "names the event")
        r = srv.post("/webhooks", {"url": "https://example.com", "colour": "red"}, token=tok)
        check_eq(r.status, 422, "unknown field")
        r = srv.post("/webhooks", {"events": ["score.changed"]}, token=tok)
        check_eq(r.status, 422, "url required")
        r = srv.post("/webhooks", raw=b"{", headers={"Content-Type": "application/json"}, token=tok)
        check_eq(r.status, 400, "malformed JSON")
        check_eq(srv.get("/webhooks", token=tok).json.get("total"), 0, "nothing stored")


@test
def score_change_is_delivered_signed():
    rec = Receiver()
    try:
        with Server(args=PRIVATE) as srv:
            tok = srv.token()
            wh = subscribe(srv, tok, rec.url(),
                           events=["score.changed", "zone.changed", "assessment.revised"],
                           roles=[SLUG])
            before = srv.get(f"/roles/{SLUG}/score").json or {}
            res = move_score(srv, tok)
            check_eq(res.get("score_changed"), True, "the score moved")
            check(rec.wait(2), f"two events arrived: {len(rec.requests)}")
            check(queue_settled(srv), "no delivery left pending")
            evs = rec.events()
            types = [e.get("type") for e in evs]
            want = ["assessment.revised", "score.changed"]
            if (res.get("score") or {}).get("zone") != before.get("zone"):
                want.append("zone.changed")
            check_eq(types, want, "events in order")
            for req in rec.requests:
                h = req["headers"]
                check(signature_ok(wh.get("secret", "whsec_"), req), f"signature {h}")
                check_eq(h.get("webhook-id"), json.loads(req["body"]).get("id"),
                         "webhook-id is the event id")
                check(abs(int(h.get("webhook-timestamp", "0")) - time.time()) < 60, "timestamp")
                check_eq(h.get("content-type"), "application/json", "content type")
                check(h.get("user-agent", "").startswith("aijri-webhooks/"), "user agent")
            sc = next((e for e in evs if e.get("type") == "score.changed"), {})
            check(sc.get("id", "").startswith("evt_"), "event id")
            # evt_ + creation time in ms (12 hex digits) + 16 random base64url characters.
            eid = sc.get("id", "")
            check(len(eid) == 32 and all(c in "0123456789abcdef" for c in eid[4:16]) and
                  all(c.isalnum() or c in "-_" for c in eid[16:]), f"event id form {eid!r}")
            check(abs(int(eid[4:16] or "0", 16) / 1000 - time.time()) < 60,
                  f"event id {eid!r} does not begin with the time it was made")
            ids = [e.get("id", "") for e in evs]
            check(len(set(ids)) == len(ids), f"event ids repeat: {ids}")
            check(sc.get("created_at", "").endswith("Z"), "created_at")
            data = sc.get("data", {})
            check_eq(data.get("role"), {"slug": SLUG, "title": before.get("title")}, "role")
            prev, cur = data.get("previous") or {}, data.get("current") or {}
            check_eq(prev.get("score"), 55.2, "previous score")
            check_eq(prev.get("revision"), before.get("revision"), "previous revision")
            check_eq(prev.get("zone"), before.get("zone"), "previous zone")
            check_eq(prev.get("label"), before.get("label"), "previous label")
            check(isinstance(cur.get("score"), float) and cur["score"] > 55.2,
                  f"current score {cur.get('score')}")
            check_eq(cur.get("score"), (res.get("score") or {}).get("score"), "current = answer")
            check_eq(cur.get("revision"), res.get("revision"), "current revision")
            check_eq(data.get("reason"), "test", "reason")
            check(b"55.2," in rec.requests[1]["body"] or b"55.2}" in rec.requests[1]["body"],
                  "55.2 serialised as 55.2")
            log = deliveries(srv, tok, wh.get("id"))
            check_eq([d.get("status") for d in log], ["succeeded"] * len(want), "log")
            check_eq(sorted(d.get("event_type") for d in log), sorted(want), "log types")
            m = srv.get("/metrics").body.decode(errors="replace")
            check('aijri_webhook_deliveries_total{outcome="succeeded"}' in m, "metrics")
            check("aijri_webhook_queue_depth 0" in m, "queue empty")
    finally:
        rec.close()


@test
def unmoved_score_sends_only_assessment_revised():
    rec = Receiver()
    try:
        with Server(args=PRIVATE) as srv:
            tok = srv.token()
            subscribe(srv, tok, rec.url(),
                      events=["score.changed", "zone.changed", "assessment.revised"])
            barriers = seed_role()["assessment"]["barriers"]
            for b in barriers.values():
                b["rationale"] = (b.get("rationale") or "") + " (reworded)"
            r = srv.put(f"/roles/{SLUG}/barriers", {"barriers": barriers, "reason": "wording"},
                        token=tok)
            check_eq(r.status, 200, f"barriers {r.body[:300]!r}")
            check_eq((r.json or {}).get("score_changed"), False, "score kept")
            check(rec.wait(1), "an event arrived")
            check(queue_settled(srv), "no delivery left pending")
            evs = rec.events()
            check_eq([e.get("type") for e in evs], ["assessment.revised"], "only the revision")
            if evs:
                d = evs[0].get("data", {})
                check_eq((d.get("previous") or {}).get("score"), 55.2, "previous")
                check_eq((d.get("current") or {}).get("score"), 55.2, "current")
                check_eq(d.get("reason"), "wording", "reason")
    finally:
        rec.close()


@test
def role_and_event_filters():
    rec = Receiver()
    try:
        with Server(args=PRIVATE) as srv:
            tok = srv.token()
            other = seed_role()
            other["slug"] = "other-role"
            other["title"] = "Other Role"
            other["aliases"] = []
            r = srv.post("/roles", other, token=tok)
            check_eq(r.status, 201, f"second role {r.body[:300]!r}")
            subscribe(srv, tok, rec.url("/other"), roles=["other-role"],
                      events=["score.changed", "zone.changed", "assessment.revised"])
            subscribe(srv, tok, rec.url("/zone"), events=["zone.changed"])
            subscribe(srv, tok, rec.url("/revised"), events=["assessment.revised"], roles=None)
            subscribe(srv, tok, rec.url("/edge"), events=["score.changed"], roles=[SLUG])
            res = move_score(srv, tok)
            check(rec.wait(2), "deliveries arrived")
            check(queue_settled(srv), "no delivery left pending")
            check_eq([e["type"] for e in rec.events("/revised")], ["assessment.revised"], "revised")
            check_eq([e["type"] for e in rec.events("/edge")], ["score.changed"], "edge")
            check_eq(rec.events("/other"), [], "another role's subscription gets nothing")
            zone_moved = (res.get("score") or {}).get("zone") != "green"
            check_eq(len(rec.events("/zone")), 1 if zone_moved else 0, "zone only if it moved")
    finally:
        rec.close()


@test
def retries_keep_the_event_id():
    rec = Receiver([500, 500, 200])
    try:
        with Server(args=PRIVATE, env=FAST) as srv:
            tok = srv.token()
            wh = subscribe(srv, tok, rec.url())
            r = srv.post(f"/webhooks/{wh.get('id')}/ping", token=tok)
            check_eq(r.status, 202, "ping")
            check(rec.wait(3, timeout=20), f"three attempts: {len(rec.requests)}")
            ids = {q["headers"].get("webhook-id") for q in rec.requests}
            check_eq(ids, {(r.json or {}).get("event_id")}, "one event id")
            at = [q["at"] for q in rec.requests]
            for a, b in zip(at, at[1:]):
                check(0.5 <= b - a <= 4.0, f"about a second apart: {b - a:.2f}")
            check(all(signature_ok(wh.get("secret", "whsec_"), q) for q in rec.requests),
                  "every attempt signed")
            log = wait_until(lambda: [d for d in deliveries(srv, tok, wh.get("id"))
                                      if d.get("status") == "succeeded"])
            check(log and log[0].get("attempts") == 3, f"log {log}")
            check(log and log[0].get("last_status_code") == 200, "last code")
            check(log and log[0].get("next_attempt_at") is None, "no next attempt")
            attempts = (log[0].get("attempt_log") if log else None) or []
            check_eq([(a.get("attempt"), a.get("status_code")) for a in attempts],
                     [(1, 500), (2, 500), (3, 200)], "the log shows every attempt")
            check(attempts and attempts[0].get("error") == "HTTP 500" and attempts[2].get("error") is None,
                  f"attempt errors {attempts}")
            check_eq(metric_total(srv, 'aijri_webhook_deliveries_total{outcome="retry"}'), 2,
                     "retry metric")
    finally:
        rec.close()


@test
def paused_subscriptions_keep_their_events():
    """A subscription is paused by a PATCH to disabled, or by a 410 from its endpoint (the
    Standard Webhooks advice; disabled_reason says which). Its events are kept (the delivery
    that got the 410 too), shown as paused, and sent in order once it is active again; ping and
    redeliver answer 409 meanwhile."""
    gone = Receiver([410])
    paused = Receiver()
    watch = Receiver()
    try:
        with Server(args=PRIVATE, env=FAST) as srv:
            tok = srv.token()
            events = ["assessment.revised", "score.changed"]
            g = subscribe(srv, tok, gone.url(), events=events).get("id")
            p = subscribe(srv, tok, paused.url(), events=["assessment.revised"]).get("id")
            subscribe(srv, tok, watch.url(), events=["assessment.revised"])
            ping = srv.post(f"/webhooks/{g}/ping", token=tok).json or {}
            check(gone.wait(1), "the ping was sent")
            w = wait_until(lambda: (lambda w: w.get("status") == "disabled" and w)(
                srv.get(f"/webhooks/{g}", token=tok).json or {}))
            check_eq((w or {}).get("disabled_reason"), "the endpoint answered 410 Gone",
                     "a 410 disables, and the record says why")
            r = srv.patch(f"/webhooks/{p}", {"status": "disabled"}, token=tok)
            check_eq((r.json or {}).get("disabled_reason"), "set to disabled by PATCH", "PATCH")
            revs = []
            for score in (2, 1, 2):
                r = srv.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {
                    "score": score, "rationale": f"s{score}"}}, "reason": f"to {score}"},
                    token=tok)
                check_eq(r.status, 200, "a write while paused")
                revs.append((r.json or {}).get("revision"))
            # The active subscription gets the same events: once it has them, they would have
            # reached the paused endpoints too.
            check(watch.wait(3), "the active subscription got the events")
            check_eq((len(gone.requests), len(paused.requests)), (1, 0), "nothing sent while paused")
            log = deliveries(srv, tok, g)
            check_eq([(d.get("event_type"), d.get("status"), d.get("next_attempt_at"))
                      for d in log][-1:], [("ping", "paused", None)], "the 410'd ping waits")
            check(log and log[-1].get("last_status_code") == 410 and log[-1].get("attempts") == 1,
                  f"its attempt is logged: {log[-1:]}")
            check_eq([d.get("status") for d in deliveries(srv, tok, p)], ["paused"] * 3,
                     "three deliveries kept, paused")
            check_eq(srv.post(f"/webhooks/{g}/ping", token=tok).status, 409,
                     "no ping to a paused subscription")
            r = srv.post(f"/webhooks/{g}/deliveries/{ping.get('delivery_id')}/redeliver",
                         token=tok)
            check_eq((r.status, (r.json or {}).get("type")),
                     (409, "urn:aijri:problem:webhook-disabled"), "no redelivery either")
            for whid in (g, p):
                r = srv.patch(f"/webhooks/{whid}", {"status": "active"}, token=tok)
                check_eq(((r.json or {}).get("status"), (r.json or {}).get("disabled_reason")),
                         ("active", None), "active again, no reason")
            check(paused.wait(3), f"the events of the pause: {len(paused.requests)}")
            check_eq([e["data"]["current"]["revision"] for e in paused.events()], revs,
                     "sent in order")
            check_eq([e["data"]["reason"] for e in paused.events()], ["to 2", "to 1", "to 2"],
                     "their reasons")
            n = len([d for d in deliveries(srv, tok, g)])
            check(gone.wait(n + 1), f"the 410'd subscription's events: {len(gone.requests)}")
            types = [e.get("type") for e in gone.events()[1:]]
            check_eq(types[:2], ["ping", "assessment.revised"], "its ping first, then the rest")
            check_eq([e["data"]["current"]["revision"] for e in gone.events()[2:]
                      if e.get("type") == "assessment.revised"], revs, "in order")
            log = wait_until(lambda: (lambda l: all(d.get("status") == "succeeded" for d in l)
                                      and l)(deliveries(srv, tok, g)))
            check(log, f"all succeeded: {deliveries(srv, tok, g)}")
            if log:
                check_eq([a.get("status_code") for a in log[-1].get("attempt_log", [])],
                         [410, 200], "the ping's attempts")
    finally:
        gone.close()
        paused.close()
        watch.close()


def backdate(db, delivery_ids, days):
    """Moves the creation of deliveries back by days, as if they had waited that long."""
    if not on_sqlite():
        for i in delivery_ids:
            pg_psql(db, "UPDATE deliveries SET created_at = to_char((CAST(created_at AS "
                    f"timestamptz) - interval '{int(days)} days') AT TIME ZONE 'UTC', "
                    f"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') WHERE id = {int(i)}")
        return
    c = sqlite3.connect(db, timeout=30)
    try:
        with c:
            for i in delivery_ids:
                c.execute("UPDATE deliveries SET created_at = strftime('%Y-%m-%dT%H:%M:%SZ', "
                          "created_at, ?) WHERE id = ?", (f"-{days} days", i))
    finally:
        c.close()


@test
def paused_deliveries_expire_after_the_pause_window():
    """A paused delivery older than the pause window (AIJRI_WEBHOOK_PAUSE_DAYS, here 3)
    expires, the delivery log says so, and it is not sent when the subscription resumes.
    (The default of 30 days is tested in tests/unit/test_webhooks.c.) Not run under valgrind:
    its restarts cost a minute there, and its code runs there anyway (the clean-up at every
    start, the resume)."""
    if VALGRIND:
        return
    rec = Receiver()
    srv = Server(args=PRIVATE)
    try:
        srv.start()
        tok = srv.token()
        wh = subscribe(srv, tok, rec.url(), events=["assessment.revised"])
        whid = wh.get("id")
        srv.patch(f"/webhooks/{whid}", {"status": "disabled"}, token=tok)
        for score in (2, 1, 2):
            move = srv.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {
                "score": score, "rationale": f"s{score}"}}, "reason": f"to {score}"}, token=tok)
            check_eq(move.status, 200, "write while paused")
        ids = sorted(d.get("id") for d in deliveries(srv, tok, whid))
        check_eq(len(ids), 3, "three paused deliveries")
        srv.stop()
        backdate(srv.db, ids[:1], 31)
        backdate(srv.db, ids[1:2], 2)

        def statuses(s):
            return {d.get("id"): d.get("status") for d in deliveries(s, tok, whid)}

        # The clean-up at start expires the one of 31 days, and keeps the one of 2.
        with Server(db=srv.db, tmp=srv.tmp, args=PRIVATE,
                    env={"AIJRI_WEBHOOK_PAUSE_DAYS": "3"}) as s2:
            got = wait_until(lambda: statuses(s2).get(ids[0]) == "expired" and statuses(s2))
            check_eq(got, {ids[0]: "expired", ids[1]: "paused", ids[2]: "paused"},
                     "31 days: expired; 2 days: kept")
            d0 = next((d for d in deliveries(s2, tok, whid) if d.get("id") == ids[0]), {})
            check_eq(d0.get("last_error"), "expired: its subscription was paused for more than "
                     "3 days", "the log says why")
            check_eq(d0.get("next_attempt_at"), None, "never due")
            # Two more days while the server runs: the resume expires it in its transaction.
            backdate(srv.db, ids[1:2], 2)
            r = s2.patch(f"/webhooks/{whid}", {"status": "active"}, token=tok)
            check_eq(r.status, 200, "resume")
            check(rec.wait(1), "the delivery still in the window is sent")
            log = wait_until(lambda: (lambda st: st.get(ids[2]) == "succeeded" and st)(
                statuses(s2)))
            check_eq(log, {ids[0]: "expired", ids[1]: "expired", ids[2]: "succeeded"},
                     "the expired ones are not sent")
            check_eq(len(rec.requests), 1, "one request only")
            check_eq([e["data"]["reason"] for e in rec.events()], ["to 2"], "the newest")
    finally:
        rec.close()
        srv.cleanup()


@test
def role_archived_event():
    """Archiving a role sends role.archived: the role's last published result as previous,
    current null; to subscriptions of that role, and to those without events (every type).
    The archive is a revision too, so those without events also get its assessment.revised
    (API.md: every revision), first.
    Subscriptions may name the role by an alias slug, as every read may: it is stored as the
    role's own slug, once."""
    rec = Receiver()
    try:
        with Server(args=PRIVATE) as srv:
            tok = srv.token()
            wh = subscribe(srv, tok, rec.url("/archived"), events=["role.archived"],
                           roles=["tinyml-engineer", SLUG, "edge-ml-engineer"])
            check_eq(wh.get("roles"), [SLUG], "the role's slug, once")
            r = srv.patch(f"/webhooks/{wh.get('id')}", {"roles": ["embedded-ai-engineer"]},
                          token=tok)
            check_eq((r.json or {}).get("roles"), [SLUG], "PATCH too")
            r = srv.post("/webhooks", {"url": rec.url(), "roles": ["no-such-alias"]}, token=tok)
            check_eq(r.status, 422, "an unknown slug")
            subscribe(srv, tok, rec.url("/all"))
            scores = subscribe(srv, tok, rec.url("/scores"), events=["score.changed"])
            before = srv.get(f"/roles/{SLUG}/score").json or {}
            check_eq(srv.delete(f"/roles/{SLUG}", token=tok).status, 204, "archive")
            check(rec.wait(3), f"three deliveries: {len(rec.requests)}")
            check_eq(sorted(r["path"] for r in rec.requests), ["/all", "/all", "/archived"],
                     "to the subscribers of role.archived, and of every event")
            # Deliveries are written with the archive: none for the score.changed subscriber.
            check_eq(deliveries(srv, tok, scores.get("id")), [], "not to the others")
            ev = (rec.events("/archived") or [{}])[0]
            check_eq(ev.get("type"), "role.archived", "type")
            data = ev.get("data", {})
            check_eq(data.get("role"), {"slug": SLUG, "title": before.get("title")}, "role")
            check_eq(data.get("previous"), {"score": before.get("score"), "zone": before.get(
                "zone"), "label": before.get("label"), "revision": before.get("revision")},
                "previous: the last published result")
            check_eq(data.get("current"), None, "current: null")
            check_eq(data.get("reason"), "archived", "reason: the archive revision's")
            req = next((q for q in rec.requests if q["path"] == "/archived"), None)
            check(req and signature_ok(wh.get("secret", "whsec_"), req), "signed")
            every = rec.events("/all") or []
            check_eq([e.get("type") for e in every], ["assessment.revised", "role.archived"],
                     "every event: the archive's revision, then the archive")
            rev = (every or [{}])[0].get("data", {})
            check_eq((rev.get("previous", {}).get("revision"), rev.get("current", {}).get("revision"),
                      rev.get("current", {}).get("score"), rev.get("reason")),
                     (before.get("revision"), before.get("revision", 0) + 1, before.get("score"),
                      "archived"), "assessment.revised of the archive revision")
            check_eq(every[-1].get("id") if every else None, ev.get("id"),
                     "one role.archived event, two deliveries")
            r = srv.post("/webhooks", {"url": rec.url(), "roles": ["tinyml-engineer"]}, token=tok)
            check_eq(r.status, 422, "an alias of an archived role")
    finally:
        rec.close()


@test
def survives_kill9():
    port = free_port()  # nobody listens there yet
    # The kill may come while a delivery is claimed (between its claim and its attempt's
    # record): the restarted server sends it once that claim's lease has passed.
    env = dict(FAST, AIJRI_WEBHOOK_CLAIM_SECONDS="2")
    srv = Server(args=PRIVATE, env=env)
    rec = None
    try:
        srv.start()
        tok = srv.token()
        subscribe(srv, tok, f"http://127.0.0.1:{port}/hook",
                  events=["score.changed", "assessment.revised"])
        res = move_score(srv, tok)
        srv.kill9()
        rec = Receiver(port=port)
        srv2 = Server(db=srv.db, tmp=srv.tmp, args=PRIVATE, env=env)
        with srv2:
            check(rec.wait(2, timeout=20), f"delivered after restart: {len(rec.requests)}")
            evs = rec.events()
            check_eq([e.get("type") for e in evs], ["assessment.revised", "score.changed"],
                     "in order")
            if len(evs) == 2:
                check_eq(evs[1]["data"]["current"]["revision"], res.get("revision"), "revision")
    finally:
        if rec:
            rec.close()
        srv.cleanup()


@test
def private_addresses_refused():
    """Without --allow-private-webhooks, a URL whose host is a private address written out, or
    localhost, is refused at once (422 naming url); one that only resolves to such an address
    is refused when it is sent: that delivery fails at once, not retried, and the next one
    goes on."""
    rec = Receiver()
    srv = Server(args=PRIVATE)
    try:
        srv.start()
        tok = srv.token()
        # Subscribed while private addresses were allowed, then the server restarts without.
        wh = subscribe(srv, tok, rec.url())
        srv.stop()
        with Server(db=srv.db, tmp=srv.tmp) as s2:
            for host in ("127.0.0.1", "localhost", "LOCALHOST", "api.localhost", "[::1]",
                         "10.1.2.3", "192.168.1.1", "172.16.0.9", "169.254.169.254", "127.1",
                         "2130706433", "[64:ff9b::7f00:1]", "[2002:7f00:1::]",
                         "[::ffff:127.0.0.1]", "[fe80::1%25eth0]", "[fd00::1]"):
                r = s2.post("/webhooks", {"url": f"http://{host}:{rec.port}/x"}, token=tok)
                check_eq(r.status, 422, f"{host}")
                check_eq([e.get("field") for e in (r.json or {}).get("errors", [])], ["url"],
                         f"{host}: names url")
            r = s2.patch(f"/webhooks/{wh.get('id')}", {"url": "http://10.0.0.1/x"}, token=tok)
            check_eq(r.status, 422, "PATCH to a private address")
            ids = []
            for _ in range(2):
                r = s2.post(f"/webhooks/{wh.get('id')}/ping", token=tok)
                check_eq(r.status, 202, "ping")
                ids.append((r.json or {}).get("delivery_id"))
            log = wait_until(lambda: (lambda l: len(l) == 2 and all(
                d.get("status") == "failed" for d in l) and l)(deliveries(s2, tok, wh.get("id"))))
            check(log, f"both failed at once: {deliveries(s2, tok, wh.get('id'))}")
            for d in log or []:
                check_eq(d.get("last_error"), "address not allowed: 127.0.0.1; not retried",
                         "the log says why")
                check_eq((d.get("attempts"), d.get("last_status_code"), d.get("next_attempt_at")),
                         (1, None, None), "one attempt, no answer, no retry")
            check_eq(rec.requests, [], "the receiver got nothing")
            check_eq(metric_total(s2, 'aijri_webhook_deliveries_total{outcome="failed"}'), 2,
                     "counted as failed")
    finally:
        rec.close()
        srv.cleanup()


@test
def redeliver_and_ping():
    rec = Receiver([200, 200, 200])
    try:
        with Server(args=PRIVATE) as srv:
            tok = srv.token()
            wh = subscribe(srv, tok, rec.url(), events=["assessment.revised"])
            whid = wh.get("id")
            r = srv.post(f"/webhooks/{whid}/ping", token=tok)
            check_eq(r.status, 202, "ping")
            ping = r.json or {}
            check(ping.get("event_id", "").startswith("evt_"), f"event id {ping}")
            check(isinstance(ping.get("delivery_id"), int), f"delivery id {ping}")
            check(rec.wait(1), "ping delivered")
            body = rec.events()[0] if rec.requests else {}
            check_eq(body.get("type"), "ping", "type")
            check_eq(body.get("id"), ping.get("event_id"), "id")
            check_eq(body.get("data"), {"webhook_id": whid}, "data")
            check(signature_ok(wh.get("secret", "whsec_"), rec.requests[0]), "signed")

            wait_until(lambda: deliveries(srv, tok, whid)[0].get("status") == "succeeded")
            r = srv.post(f"/webhooks/{whid}/deliveries/{ping.get('delivery_id')}/redeliver",
                         token=tok)
            check_eq(r.status, 202, f"redeliver {r.body[:200]!r}")
            d = r.json or {}
            check_eq(d.get("event_id"), ping.get("event_id"), "same event")
            check_eq(d.get("event_type"), "ping", "type")
            check(d.get("id") != ping.get("delivery_id"), "a new delivery")
            check_eq(d.get("attempt_log"), [], "its attempt log, empty")
            check(rec.wait(2), "redelivered")
            check_eq(rec.requests[1]["headers"].get("webhook-id") if len(rec.requests) > 1 else None,
                     ping.get("event_id"), "redelivery keeps the webhook-id")
            log = wait_until(lambda: (lambda l: len(l) == 2 and all(
                x.get("status") == "succeeded" for x in l) and l)(deliveries(srv, tok, whid)))
            check(log, f"log {log}")
            if log:
                check_eq([x.get("id") for x in log], [d.get("id"), ping.get("delivery_id")],
                         "newest first")
                for x in log:
                    check_eq(x.get("attempts"), 1, "one attempt each")
                    check_eq(x.get("last_status_code"), 200, "code")
                    for k in ("event_id", "event_type", "status", "last_error", "next_attempt_at",
                              "created_at", "updated_at"):
                        check(k in x, f"field {k}")
            check_eq(srv.post(f"/webhooks/{whid}/deliveries/99999/redeliver", token=tok).status,
                     404, "unknown delivery")
            check_eq(srv.post(f"/webhooks/{whid}/deliveries/abc/redeliver", token=tok).status,
                     404, "not a delivery id")
    finally:
        rec.close()


if __name__ == "__main__":
    run()
