"""A webhook endpoint for the API tests (test_webhooks.py, test_webhooks_instances.py,
test_pg_faults.py, test_load_fault.py): a real HTTP server on loopback that records every
request, the Standard Webhooks verification of a request's signature, and the calls the
webhook tests share (subscribing, the delivery log, the servers' webhook metrics)."""
import base64
import hashlib
import hmac
import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lib import check_eq


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records every request and answers with the next
    status of a scripted list (200 once the list is used up). With stall=n, the first n
    requests are recorded as they arrive but not answered until release() (a receiver that
    holds its sender mid-send)."""

    def __init__(self, statuses=(), port=0, stall=0):
        self.requests = []  # dicts: path, headers (lower-case names), body (bytes), at
        self._parsed = []   # keys(): the bodies of requests[:len(_parsed)], parsed
        self.statuses = list(statuses)
        self.stall = stall
        self.released = threading.Event()
        self.cond = threading.Condition()
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The headers and the body go out in two writes: without TCP_NODELAY the second
            # waits for the sender's delayed ACK (about 40 ms a delivery).
            disable_nagle_algorithm = True

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with rec.cond:
                    status = rec.statuses.pop(0) if rec.statuses else 200
                    rec.requests.append({"path": self.path, "body": body, "at": time.time(),
                                         "headers": {k.lower(): v for k, v in self.headers.items()}})
                    stalled = len(rec.requests) <= rec.stall
                    rec.cond.notify_all()
                if stalled:
                    rec.released.wait(300)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender is gone (killed while it waited)

            def log_message(self, *a):
                pass

        class Srv(ThreadingHTTPServer):
            request_queue_size = 512  # bursts of deliveries (load tests, several instances)
            daemon_threads = True

        self.httpd = Srv(("127.0.0.1", port), Handler)
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

    def keys(self, event_type, key):
        """The set of key(event) over the events of event_type received (bodies that do not
        parse, or lack what key reads, are left out). Each body is parsed once, whatever
        the number of calls: a test polls this while deliveries arrive."""
        with self.cond:
            fresh = self.requests[len(self._parsed):]
        for r in fresh:
            try:
                self._parsed.append(json.loads(r["body"]))
            except ValueError:
                self._parsed.append(None)
        out = set()
        for ev in self._parsed:
            try:
                if isinstance(ev, dict) and ev.get("type") == event_type:
                    out.add(key(ev))
            except (KeyError, TypeError, AttributeError):
                pass
        return out

    def release(self):
        """Answers the stalled requests (and lets later ones through at once)."""
        self.released.set()

    def close(self):
        self.released.set()
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
    """Polls fn until it gives a true value (returned), for up to timeout s; then fn() once
    more."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def metrics_of(port):
    """{sample: value} of one instance's /metrics (sample: the name with its labels)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode(errors="replace")
    finally:
        c.close()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def queue_settled(srv, timeout=30, step=0.1):
    """Waits until no webhook delivery is pending (each one sent and answered, or given up):
    the condition after which nothing more arrives. The gauge counts the table, so any
    instance tells. True if it came."""
    return wait_until(lambda: metrics_of(srv.ports[0]).get("aijri_webhook_queue_depth") == 0,
                      timeout=timeout, step=step)


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


def deliveries(srv, tok, wh, limit=None):
    r = srv.get(f"/webhooks/{wh}/deliveries" + (f"?limit={limit}" if limit else ""), token=tok)
    check_eq(r.status, 200, "delivery log")
    return (r.json or {}).get("items", [])
