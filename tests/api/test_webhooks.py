"""API tests of the score-change webhooks (API.md "Score-change webhooks"): subscriptions,
signed deliveries to a real receiver on loopback, filters, retries, 410, crash recovery, the
address guard, redelivery and ping. Run: AIJRI_BIN=bin/aijri python3 tests/api/test_webhooks.py
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (Server, check, check_eq, free_port, run, seed_role, test)  # noqa: E402

SLUG = "edge-ai-engineer"
PRIVATE = ["--allow-private-webhooks"]
FAST = {"AIJRI_WEBHOOK_RETRY_SCHEDULE": "1,1,1"}


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records every request and answers with the next
    status of a scripted list (200 once the list is used up)."""

    def __init__(self, statuses=(), port=0):
        self.requests = []  # dicts: path, headers (lower-case names), body (bytes), at
        self.statuses = list(statuses)
        self.cond = threading.Condition()
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with rec.cond:
                    status = rec.statuses.pop(0) if rec.statuses else 200
                    rec.requests.append({"path": self.path, "body": body, "at": time.time(),
                                         "headers": {k.lower(): v for k, v in self.headers.items()}})
                    rec.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def wait(self, n, timeout=15):
        """Waits until n requests arrived; returns True if they did."""
        deadline = time.time() + timeout
        with self.cond:
            while len(self.requests) < n:
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def events(self, path=None):
        return [json.loads(r["body"]) for r in list(self.requests)
                if path is None or r["path"] == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def signature_ok(secret, req):
    """The Standard Webhooks verification: HMAC-SHA256 over id.timestamp.body keyed with the
    base64-decoded secret after whsec_, compared with each v1 signature of the header."""
    h = req["headers"]
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + req["body"]
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for sig in h.get("webhook-signature", "").split(" "):
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value, want):
            return True
    return False


def wait_until(fn, timeout=15, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def subscribe(srv, tok, url, events=None, roles=None, **extra):
    body = {"url": url}
    if events is not None:
        body["events"] = events
    if roles is not None:
        body["roles"] = roles
    body.update(extra)
    r = srv.post("/webhooks", body, token=tok)
    check_eq(r.status, 201, f"subscribe {body}: {r.body[:300]!r}")
    return r.json or {}


def deliveries(srv, tok, wh):
    r = srv.get(f"/webhooks/{wh}/deliveries", token=tok)
    check_eq(r.status, 200, "delivery log")
    return (r.json or {}).get("items", [])


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
                 ["assessment.revised", "score.changed", "zone.changed"],
                 "events absent: every event, as roles absent is every role")
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
        check_eq((p.json or {}).get("roles"), None, "roles back to every role")
        check_eq((p.json or {}).get("events"), ["zone.changed"], "events patched")
        for bad in ({"status": "paused"}, {"url": "ftp://example.com"}, {"secret": "x"},
                    {"events": []}):
            check_eq(srv.patch(f"/webhooks/{wh['id']}", bad, token=tok).status, 422, f"patch {bad}")

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
            time.sleep(1.0)
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
            time.sleep(2.0)
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
            time.sleep(2.0)
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
            m = srv.get("/metrics").body.decode(errors="replace")
            check('aijri_webhook_deliveries_total{outcome="retry"} 2' in m, "retry metric")
    finally:
        rec.close()


@test
def gone_disables_the_subscription():
    rec = Receiver([410])
    try:
        with Server(args=PRIVATE, env=FAST) as srv:
            tok = srv.token()
            wh = subscribe(srv, tok, rec.url())
            check_eq(srv.post(f"/webhooks/{wh.get('id')}/ping", token=tok).status, 202, "ping")
            check(rec.wait(1), "delivered once")
            g = wait_until(lambda: (srv.get(f"/webhooks/{wh.get('id')}", token=tok).json or {})
                           .get("status") == "disabled")
            check(g, "status disabled")
            log = deliveries(srv, tok, wh.get("id"))
            check(log and log[0].get("status") == "failed" and log[0].get("last_status_code") == 410,
                  f"log {log}")
            move_score(srv, tok)
            time.sleep(2.0)
            check_eq(len(rec.requests), 1, "nothing more to a disabled endpoint")
    finally:
        rec.close()


@test
def survives_kill9():
    port = free_port()  # nobody listens there yet
    srv = Server(args=PRIVATE, env=FAST)
    rec = None
    try:
        srv.start()
        tok = srv.token()
        subscribe(srv, tok, f"http://127.0.0.1:{port}/hook",
                  events=["score.changed", "assessment.revised"])
        res = move_score(srv, tok)
        srv.kill9()
        rec = Receiver(port=port)
        srv2 = Server(db=srv.db, tmp=srv.tmp, args=PRIVATE, env=FAST)
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
def private_addresses_refused_at_connect():
    rec = Receiver()
    try:
        with Server() as srv:  # without --allow-private-webhooks
            tok = srv.token()
            wh = subscribe(srv, tok, rec.url())  # accepted: the address is checked at connect
            check_eq(srv.post(f"/webhooks/{wh.get('id')}/ping", token=tok).status, 202, "ping")
            log = wait_until(lambda: [d for d in deliveries(srv, tok, wh.get("id"))
                                      if d.get("attempts", 0) >= 1], timeout=15)
            check(log, "an attempt was made")
            if log:
                check("address not allowed" in (log[0].get("last_error") or ""),
                      f"error {log[0].get('last_error')}")
                check("127.0.0.1" in (log[0].get("last_error") or ""), "names the address")
                check_eq(log[0].get("last_status_code"), None, "no answer")
                check_eq(log[0].get("status"), "pending", "retried on the schedule")
                check(log[0].get("next_attempt_at"), "next attempt")
            for host in ("localhost", "[::1]", "10.1.2.3", "192.168.1.1", "169.254.169.254",
                         "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "[::ffff:127.0.0.1]"):
                w2 = subscribe(srv, tok, f"http://{host}:{rec.port}/x")
                srv.post(f"/webhooks/{w2.get('id')}/ping", token=tok)
                log = wait_until(lambda: [d for d in deliveries(srv, tok, w2.get("id"))
                                          if d.get("attempts", 0) >= 1], timeout=15)
                check(log and "address not allowed" in (log[0].get("last_error") or ""),
                      f"{host}: {log}")
            check_eq(rec.requests, [], "the receiver got nothing")
    finally:
        rec.close()


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
