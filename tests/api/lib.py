"""The API-test harness: starts the real bin/aijri on a free loopback port with a temporary
database and talks HTTP to it. Standard library only.

A test file defines functions decorated with @test, then calls run(). Each check() counts one
assertion; run() prints "RESULT passed=N failed=M" for tests/run to add up. A server's stderr
is scanned for sanitizer reports when it stops: any report is a failed check.

Every answer a test receives over http.client from a loopback address (Server.request, and any
test's own http.client connections) is recorded: method, target, status, headers and body. At
the end, run() has tests/openapi/check-exchanges.js check them all against the /openapi.json
that the first server of the run served; each answer that the document does not declare is a
failed check of the pseudo-test "answers_conform_to_openapi". A test file gets this by using
this module: nothing to register.
"""
import base64
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

BIN = os.environ.get("AIJRI_BIN", "bin/aijri")
# AIJRI_VALGRIND=1 runs every server under valgrind's memcheck: an invalid access or a definite
# leak makes the server exit 99 at SIGTERM, which fails the test that stopped it.
VALGRIND = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite"] \
    if os.environ.get("AIJRI_VALGRIND") == "1" else []
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if not os.path.isabs(BIN):
    BIN = os.path.join(ROOT, BIN)

_tests = []
_passed = 0
_failed = 0
_current = None

# ---------------------------------------------------------------------------------------
# Recording the answers, for the OpenAPI check at the end of run()

CHECKER = os.path.join(ROOT, "tests", "openapi", "check-exchanges.js")
CHECKER_MODULES = os.path.join(ROOT, "tests", "openapi", "node_modules", "ajv")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_record_dir = tempfile.mkdtemp(prefix="aijri-exchanges-")
_record_path = os.path.join(_record_dir, "exchanges.jsonl")
_served_doc_path = os.path.join(_record_dir, "openapi.json")
_record_lock = threading.Lock()
_record_file = None
_recorded = 0
_record_seen = set()  # digests of the answers logged, one per distinct answer
_orig_request = http.client.HTTPConnection.request
_orig_getresponse = http.client.HTTPConnection.getresponse


def record_exchange(method, target, status, headers, body):
    """Adds one answer to the run's log. headers: (name, value) pairs; body: bytes. An answer
    the log holds already (the same request, status, headers but the date, and body: a loop
    reading one URL, the soak's repeated exports) is checked once: the log stays the size of
    the distinct answers, not of the run."""
    global _recorded
    merged = {}
    for k, v in headers:
        k = k.lower()
        merged[k] = f"{merged[k]}, {v}" if k in merged else v
    h = hashlib.sha256(json.dumps([method, target, status,
                                   sorted((k, v) for k, v in merged.items() if k != "date")]
                                  ).encode())
    h.update(body)
    digest = h.digest()
    with _record_lock:
        if digest in _record_seen:
            return
        _record_seen.add(digest)
    line = json.dumps({"test": _current, "method": method, "target": target, "status": status,
                       "headers": merged, "body_b64": base64.b64encode(body).decode()})
    global _record_file
    with _record_lock:
        if _record_file is None:
            _record_file = open(_record_path, "a", encoding="utf-8")
        _record_file.write(line + "\n")
        _recorded += 1


def _request(self, method, url, *args, **kw):
    self._aijri_sent = (method, url)
    return _orig_request(self, method, url, *args, **kw)


def _getresponse(self):
    r = _orig_getresponse(self)
    sent = getattr(self, "_aijri_sent", None)
    self._aijri_sent = None
    if sent is None or self.host not in LOOPBACK:
        return r
    # Read the whole body now (a failure raises here as the caller's read would have), and
    # hand the caller the same bytes from a buffer.
    body = r.read()
    buffered = io.BytesIO(body)
    r.read = lambda amt=None: buffered.read() if amt is None or amt < 0 else buffered.read(amt)
    record_exchange(sent[0], sent[1], r.status, r.getheaders(), body)
    return r


http.client.HTTPConnection.request = _request
http.client.HTTPConnection.getresponse = _getresponse


def check_exchanges(doc_path, log_path, timeout=600):
    """Runs the OpenAPI checker on a log; returns (ok, violations, summary): violations is
    the list of VIOLATION lines, summary the last line (or the error)."""
    node = shutil.which("node")
    if not node:
        return False, [], "node is not installed: the answers cannot be checked"
    if not os.path.isdir(CHECKER_MODULES):
        return False, [], (f"{CHECKER_MODULES} is missing: run `npm ci --prefix tests/openapi` "
                           "(deploy/setup-debian.sh --test does)")
    try:
        p = subprocess.run([node, CHECKER, doc_path, log_path], capture_output=True,
                           timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, [], f"the checker did not run: {e}"
    lines = p.stdout.decode(errors="replace").splitlines()
    violations = [ln for ln in lines if ln.startswith("VIOLATION")]
    summary = (lines[-1] if lines else "") + p.stderr.decode(errors="replace")[-2000:]
    return p.returncode == 0 and not violations, violations, summary


def _check_recorded():
    """The pseudo-test at the end of run(): every recorded answer conforms to the served
    document."""
    global _current, _failed, _record_file
    if not _recorded:
        return
    with _record_lock:
        _record_file.close()
        _record_file = None
    _current = "answers_conform_to_openapi"
    before = _failed
    if not os.path.exists(_served_doc_path):
        check(False, "answers were recorded but no server served /openapi.json")
    else:
        ok, violations, summary = check_exchanges(_served_doc_path, _record_path)
        shown = 40
        for v in violations[:shown]:
            check(False, v)
        if len(violations) > shown:
            print(f"... and {len(violations) - shown} more violations", flush=True)
            _failed += len(violations) - shown
        if not violations:
            check(ok, f"the OpenAPI check failed: {summary}")
        print(f"{_recorded} answers checked against the served /openapi.json: {summary.strip()}",
              flush=True)
    print(f"{'ok  ' if _failed == before else 'FAIL'} {_current}", flush=True)
    if _failed == before:
        shutil.rmtree(_record_dir, ignore_errors=True)
    else:
        print(f"the answers are kept in {_record_path}", flush=True)


def test(fn):
    _tests.append(fn)
    return fn


def check(cond, msg="check failed"):
    global _passed, _failed
    if cond:
        _passed += 1
    else:
        _failed += 1
        frame = traceback.extract_stack(limit=2)[0]
        print(f"FAIL {_current} (line {frame.lineno}): {msg}", flush=True)
    return cond


def check_eq(got, want, msg=""):
    return check(got == want, f"{msg} got {got!r}, want {want!r}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_cli(*args, db=None, input=None, env=None, check_rc=None):
    """Runs bin/aijri with args (and --db db when given); returns CompletedProcess."""
    argv = [BIN] + list(args)
    if db:
        argv += ["--db", db]
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(argv, input=input, capture_output=True, env=e, timeout=120)
    _scan_sanitizer(p.stderr.decode(errors="replace"), " ".join(argv[:3]))
    if check_rc is not None:
        check(p.returncode == check_rc,
              f"{' '.join(args)} exited {p.returncode}: {p.stderr.decode(errors='replace')[-400:]}")
    return p


def _scan_sanitizer(text, what):
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        if marker in text:
            i = text.index(marker)
            check(False, f"sanitizer report from {what}: {text[max(0, i - 200):i + 1500]}")
            return


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict of lower-case name -> value
        self.body = body

    @property
    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Server:
    """A running bin/aijri serve. Use as a context manager, or call start()/stop()."""

    def __init__(self, db=None, args=(), env=None, tmp=None):
        self.tmp = tmp or tempfile.mkdtemp(prefix="aijri-test-")
        self._own_tmp = tmp is None
        self.db = db or os.path.join(self.tmp, "aijri.db")
        self.args = list(args)
        self.env = dict(env or {})
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.tmp, "server.log")
        self._conn = None

    def start(self):
        # The free port is found by binding it and letting it go: on a shared machine another
        # process can take it before the server binds it. Then the server says so and exits,
        # and it is started again on another port.
        for attempt in range(5):
            if self._start_once(last=attempt == 4):
                return self
        raise RuntimeError("unreachable")

    def _start_once(self, last):
        """Starts the server; True once it answers, False when its port was taken."""
        self.port = free_port()
        e = dict(os.environ)
        e.update(self.env)
        self._log = open(self.log_path, "ab")
        log_from = self._log.tell()
        self.proc = subprocess.Popen(
            VALGRIND + [BIN, "serve", "--port", str(self.port), "--db", self.db] + self.args,
            stdout=self._log, stderr=self._log, env=e)
        deadline = time.time() + (60 if VALGRIND else 20)
        while time.time() < deadline:
            if self.proc.poll() is not None:
                with open(self.log_path, "rb") as f:
                    f.seek(log_from)
                    out = f.read().decode(errors="replace")
                if not last and "Address already in use" in out:
                    self._log.close()
                    self.proc = None
                    return False
                raise RuntimeError(f"server exited {self.proc.returncode}: {out[-2000:]}")
            try:
                r = self.request("GET", "/healthz")
                if r.status == 200:
                    self._keep_served_doc()
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not answer /healthz: " + self.log()[-2000:])

    def _keep_served_doc(self):
        """The first server of the run gives the document its answers are checked against."""
        if os.path.exists(_served_doc_path):
            return
        r = self.request("GET", "/openapi.json")
        if r.status == 200:
            with open(_served_doc_path, "wb") as f:
                f.write(r.body)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        """Stops the server; returns its exit code. SIGTERM must give exit 0."""
        self._close()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=120 if VALGRIND else 30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        if self.proc:
            self._log.close()
            _scan_sanitizer(self.log(), "server")
        self.proc = None
        return rc

    def kill9(self):
        self._close()
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self._log.close()
        self.proc = None

    def cleanup(self):
        if self.proc:
            self.stop()
        if self._own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        rc = self.stop()
        check(rc == 0, f"server exit code on SIGTERM: {rc}")
        if self._own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def token(self, name="tester"):
        """Creates an API token with the CLI (on the same database) and returns it."""
        p = run_cli("token", "create", name, db=self.db)
        if p.returncode != 0:
            raise RuntimeError("token create failed: " + p.stderr.decode())
        return p.stdout.decode().strip().splitlines()[-1]

    def _close(self):
        if self._conn:
            self._conn.close()
            self._conn = None

    def request(self, method, path, body=None, headers=None, token=None, raw=None, timeout=30):
        """One HTTP request on a kept-alive connection. body: a Python object sent as JSON;
        raw: bytes sent as they are. Returns a Response."""
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if token:
            h["Authorization"] = "Bearer " + token
        for attempt in range(2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                self._conn.request(method, path, body=data, headers=h)
                r = self._conn.getresponse()
                payload = r.read()
                hdrs = {k.lower(): v for k, v in r.getheaders()}
                if hdrs.get("connection", "").lower() == "close":
                    self._close()
                return Response(r.status, hdrs, payload)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                self._close()
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def seed_role():
    """The embedded default role body (data/edge-ai-engineer.json), as a Python object."""
    with open(os.path.join(ROOT, "data", "edge-ai-engineer.json")) as f:
        return json.load(f)


def run():
    """Runs every @test of the calling file; prints the RESULT line; exits 1 on failure."""
    global _current
    only = sys.argv[1:]
    for fn in _tests:
        if only and fn.__name__ not in only:
            continue
        _current = fn.__name__
        before = _failed
        try:
            fn()
        except Exception:
            check(False, "exception:\n" + traceback.format_exc())
        print(f"{'ok  ' if _failed == before else 'FAIL'} {fn.__name__}", flush=True)
    _check_recorded()
    print(f"RESULT passed={_passed} failed={_failed}", flush=True)
    sys.exit(1 if _failed else 0)
