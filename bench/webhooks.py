#!/usr/bin/env python3
"""webhooks.py: the webhook fan-out benchmark of bench/run.

  bench/webhooks.py BASE_URL TOKEN [N]      (BASE_URL like http://127.0.0.1:8080)

Starts a threaded receiver on a loopback port, subscribes N (default 1000) webhooks to
score.changed, one per receiver path /hook/<i> so each delivery can be checked against its own
secret, makes one score change (POST /roles/edge-ai-engineer/evidence), and waits (at most
30 s) until every subscription has received its event. Every delivery's Standard Webhooks
signature is verified. The server must run with --allow-private-webhooks.

Prints one line of JSON: subscriptions, delivered (distinct subscriptions reached), duplicates,
bad_signatures, seconds (from sending the write to the last first delivery), p50/p99 of the
per-delivery delays, and setup_seconds (time to create the subscriptions).
"""
import base64
import hashlib
import hmac
import http.client
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLUG = "edge-ai-engineer"


class Receiver:
    def __init__(self):
        self.lock = threading.Condition()
        self.first = {}        # index -> arrival time of the first delivery
        self.count = 0
        self.raw = []          # (index, headers, body) kept for the signature check
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                at = time.monotonic()
                try:
                    idx = int(self.path.rsplit("/", 1)[1])
                except ValueError:
                    idx = -1
                hdrs = {k.lower(): v for k, v in self.headers.items()}
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with rec.lock:
                    rec.count += 1
                    rec.first.setdefault(idx, at)
                    rec.raw.append((idx, hdrs, body))
                    rec.lock.notify_all()

            def log_message(self, *a):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 2048  # the default 5 would drop a burst of connections
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, n, timeout):
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.first) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(left)
        return True


def verify(secret, hdrs, body):
    key = base64.b64decode(secret[len("whsec_"):])
    msg = f"{hdrs.get('webhook-id')}.{hdrs.get('webhook-timestamp')}.".encode() + body
    want = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    sigs = [s.split(",", 1)[1] for s in hdrs.get("webhook-signature", "").split() if "," in s]
    return any(hmac.compare_digest(want, s) for s in sigs)


def main():
    base, token = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    host, port = base.split("//", 1)[1].split(":")
    port = int(port)
    local = threading.local()

    def call(method, path, body):
        for attempt in range(3):
            c = getattr(local, "c", None)
            if c is None:
                c = local.c = http.client.HTTPConnection(host, port, timeout=30)
            try:
                c.request(method, path, body=json.dumps(body),
                          headers={"Authorization": "Bearer " + token,
                                   "Content-Type": "application/json"})
                r = c.getresponse()
                return r.status, r.read()
            except (OSError, http.client.HTTPException):
                c.close()
                local.c = None
                if attempt == 2:
                    raise
        raise RuntimeError("unreachable")

    rec = Receiver()
    secrets = {}

    def subscribe(i):
        st, body = call("POST", "/webhooks", {"url": f"http://127.0.0.1:{rec.port}/hook/{i}",
                                              "events": ["score.changed"]})
        if st != 201:
            raise RuntimeError(f"POST /webhooks: {st} {body[:300]!r}")
        secrets[i] = json.loads(body)["secret"]

    t = time.monotonic()
    with ThreadPoolExecutor(16) as ex:
        list(ex.map(subscribe, range(n)))
    setup = time.monotonic() - t

    result = {"subscriptions": n, "setup_seconds": round(setup, 2)}
    for score in (2, -2, 1):
        t0 = time.monotonic()
        st, body = call("POST", f"/roles/{SLUG}/evidence",
                        {"dimensions": {"wage_trends": {"score": score, "rationale": "webhook bench"}},
                         "reason": "webhook bench"})
        if st != 200:
            raise RuntimeError(f"POST evidence: {st} {body[:300]!r}")
        if json.loads(body).get("score_changed"):
            break
    else:
        raise RuntimeError("no score change happened")
    result["write_seconds"] = round(time.monotonic() - t0, 4)
    all_in = rec.wait(n, 30)
    with rec.lock:
        times = sorted(v - t0 for k, v in rec.first.items() if k >= 0)
        raw = list(rec.raw)
        count = rec.count
    bad = sum(1 for idx, h, b in raw if idx not in secrets or not verify(secrets[idx], h, b))
    result.update({
        "delivered": len(times), "all_delivered": all_in, "duplicates": count - len(times),
        "signatures_checked": len(raw), "bad_signatures": bad,
        "seconds": round(times[-1], 3) if times else None,
        "p50": round(times[len(times) // 2], 3) if times else None,
        "p99": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3) if times else None,
    })
    print(json.dumps(result), flush=True)
    rec.httpd.shutdown()
    return 0 if all_in and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
