"""The API-test harness: starts the real bin/aijri on a free loopback port with a temporary
database and talks HTTP to it. Standard library only.

A test file defines functions decorated with @test, then calls run(). Each check() counts one
assertion; run() prints "RESULT passed=N failed=M" for tests/run to add up. A server's stderr
is scanned for sanitizer reports when it stops: any report is a failed check.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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
        self.port = free_port()
        e = dict(os.environ)
        e.update(self.env)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            VALGRIND + [BIN, "serve", "--port", str(self.port), "--db", self.db] + self.args,
            stdout=self._log, stderr=self._log, env=e)
        deadline = time.time() + (60 if VALGRIND else 20)
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.log()[-2000:]}")
            try:
                r = self.request("GET", "/healthz")
                if r.status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not answer /healthz: " + self.log()[-2000:])

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
    print(f"RESULT passed={_passed} failed={_failed}", flush=True)
    sys.exit(1 if _failed else 0)
