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
import urllib.parse

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


# AIJRI_TEST_ENGINE chooses where every Server keeps its data: "sqlite" (the default, a file in
# its temporary directory), "pg" (a fresh database on the run's PostgreSQL cluster, one
# instance) or "pg3" (three instances on one fresh database; requests go to them in turn, and
# after each write the next request waits until every instance has taken the write in: its
# /healthz changes_seen reaches the database's count of changes, read after the answer; API.md
# bounds that wait at 100 ms p99).
ENGINE = os.environ.get("AIJRI_TEST_ENGINE", "sqlite")
if ENGINE not in ("sqlite", "pg", "pg3"):
    raise SystemExit(f"AIJRI_TEST_ENGINE: {ENGINE!r} is not sqlite, pg or pg3")
INSTANCES = 3 if ENGINE == "pg3" else 1
# How long another instance may take to show a write before the test fails: far above the
# bound (100 ms p99), so that a loaded machine does not fail a test, yet a lost invalidation
# does.
VISIBILITY_DEADLINE_S = 10
_pg = None
_pg_lock = threading.Lock()


def pg_cluster():
    """The run's PostgreSQL cluster (tests/pg/pgcluster.py; AIJRI_TEST_PG, else our own)."""
    global _pg
    with _pg_lock:
        if _pg is None:
            sys.path.insert(0, os.path.join(ROOT, "tests", "pg"))
            from pgcluster import Cluster
            import atexit
            _pg = Cluster.shared()
            atexit.register(_pg.stop)
            atexit.register(_drop_pg_databases)
        return _pg


def pg_psql(uri, sql):
    """Runs SQL on the PostgreSQL database of uri (a URI of pg_cluster's new_database)."""
    name = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["dbname"][-1]
    return pg_cluster().psql(sql, dbname=name)


_pg_databases = []


def _drop_pg_databases():
    for uri in _pg_databases:
        try:
            pg_cluster().drop_database(uri)
        except RuntimeError:
            pass


def on_sqlite():
    return ENGINE == "sqlite"


def skip_unless(cond, why):
    """A decorator for a @test that means nothing on this engine (a SQLite file read with
    sqlite3, one process's log): the test is reported as skipped, and counts neither way."""
    def wrap(fn):
        if cond:
            return fn

        def skipped():
            print(f"skip {fn.__name__}: {why}", flush=True)
        skipped.__name__ = fn.__name__
        return skipped
    return wrap


def sqlite_only(fn):
    return skip_unless(on_sqlite(), "reads the SQLite file itself")(fn)


def one_instance(fn):
    return skip_unless(INSTANCES == 1, "needs one process (its log, its counters)")(fn)


class Server:
    """A running bin/aijri serve (or, with AIJRI_TEST_ENGINE=pg3, three on one database). Use
    as a context manager, or call start()/stop(). instances: how many to start on a
    PostgreSQL database (default: the engine's, 3 for pg3 and 1 otherwise)."""

    def __init__(self, db=None, args=(), env=None, tmp=None, instances=None):
        self.tmp = tmp or tempfile.mkdtemp(prefix="aijri-test-")
        self._own_tmp = tmp is None
        if db:
            self.db = db
        elif on_sqlite():
            self.db = os.path.join(self.tmp, "aijri.db")
        else:
            self.db = pg_cluster().new_database()
            _pg_databases.append(self.db)
        self.args = list(args)
        self.env = dict(env or {})
        self.n = (instances or INSTANCES) if "://" in self.db else 1
        self.procs = [None] * self.n
        self.ports = [None] * self.n
        self.log_paths = [os.path.join(self.tmp, "server.log" if i == 0 else f"server.{i}.log")
                          for i in range(self.n)]
        self._logs = [None] * self.n
        self._conns = [None] * self.n
        self._turn = 0
        self._must_sync = None

    # The first instance stands for the server where a test needs one process.
    @property
    def proc(self):
        return self.procs[0]

    @proc.setter
    def proc(self, p):
        self.procs[0] = p

    @property
    def port(self):
        return self.ports[0]

    @property
    def log_path(self):
        return self.log_paths[0]

    def start(self):
        # The free port is found by binding it and letting it go: on a shared machine another
        # process can take it before the server binds it. Then the server says so and exits,
        # and it is started again on another port.
        for i in range(self.n):
            for attempt in range(5):
                if self._start_once(i, last=attempt == 4):
                    break
        return self

    def _start_once(self, i, last):
        """Starts instance i; True once it answers, False when its port was taken."""
        self.ports[i] = free_port()
        e = dict(os.environ)
        e.update(self.env)
        self._logs[i] = open(self.log_paths[i], "ab")
        log_from = self._logs[i].tell()
        self.procs[i] = subprocess.Popen(
            VALGRIND + [BIN, "serve", "--port", str(self.ports[i]), "--db", self.db] + self.args,
            stdout=self._logs[i], stderr=self._logs[i], env=e)
        deadline = time.time() + (60 if VALGRIND else 20)
        while time.time() < deadline:
            if self.procs[i].poll() is not None:
                with open(self.log_paths[i], "rb") as f:
                    f.seek(log_from)
                    out = f.read().decode(errors="replace")
                if not last and "Address already in use" in out:
                    self._logs[i].close()
                    self.procs[i] = None
                    return False
                raise RuntimeError(f"server exited {self.procs[i].returncode}: {out[-2000:]}")
            try:
                r = self._request_on(i, "GET", "/healthz", None, {}, 30)
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
        out = []
        for path in self.log_paths:
            try:
                with open(path, "rb") as f:
                    out.append(f.read().decode(errors="replace"))
            except OSError:
                pass
        return "".join(out)

    def stop(self, sig=signal.SIGTERM):
        """Stops the server; returns its exit code (the first instance's that is not 0).
        SIGTERM must give exit 0."""
        self._close()
        rcs = []
        for i, proc in enumerate(self.procs):
            if proc and proc.poll() is None:
                proc.send_signal(sig)
        for i, proc in enumerate(self.procs):
            if proc:
                try:
                    proc.wait(timeout=120 if VALGRIND else 30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                rcs.append(proc.returncode)
                self._logs[i].close()
        if any(self.procs):
            _scan_sanitizer(self.log(), "server")
        self.procs = [None] * self.n
        if not rcs:
            return None
        return next((rc for rc in rcs if rc != 0), 0)

    def kill9(self):
        self._close()
        for i, proc in enumerate(self.procs):
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc:
                self._logs[i].close()
        self.procs = [None] * self.n

    def cleanup(self):
        if any(self.procs):
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
        for i, c in enumerate(self._conns):
            if c:
                c.close()
            self._conns[i] = None

    def changes_seen(self, i):
        r = self._request_on(i, "GET", "/healthz", None, {}, 30)
        return r.json["changes_seen"] if r.status == 200 else None

    def sync(self):
        """Waits until every instance has taken in the changes counted in the database when the
        last write was answered (polling /healthz, up to VISIBILITY_DEADLINE_S)."""
        if self._must_sync is None:
            return
        i, want = self._must_sync
        self._must_sync = None
        deadline = time.time() + VISIBILITY_DEADLINE_S
        for j in range(self.n):
            if not self.procs[j] or self.procs[j].poll() is not None:
                continue
            while True:
                got = self.changes_seen(j)
                if got is not None and got >= want:
                    break
                if time.time() > deadline:
                    raise AssertionError(f"instance {j} shows changes_seen {got} after "
                                         f"{VISIBILITY_DEADLINE_S} s; instance {i} wrote {want}")
                time.sleep(0.002)

    def request(self, method, path, body=None, headers=None, token=None, raw=None, timeout=30):
        """One HTTP request on a kept-alive connection. body: a Python object sent as JSON;
        raw: bytes sent as they are. Returns a Response. With several instances, each request
        goes to the next one, once the last write is visible on all of them."""
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if token:
            h["Authorization"] = "Bearer " + token
        if self.n == 1:
            return self._request_on(0, method, path, data, h, timeout)
        self.sync()
        i = self._turn
        self._turn = (self._turn + 1) % self.n
        r = self._request_on(i, method, path, data, h, timeout)
        if method not in ("GET", "HEAD", "OPTIONS") and r.status < 500:
            self._must_sync = (i, self.db_changes())
        return r

    def db_changes(self):
        """The database's count of changes (0010_changes.sql): at least that of every write
        answered so far."""
        return int(pg_psql(self.db, "SELECT n FROM changes"))

    def _request_on(self, i, method, path, data, h, timeout):
        for attempt in range(2):
            if self._conns[i] is None:
                self._conns[i] = http.client.HTTPConnection("127.0.0.1", self.ports[i],
                                                            timeout=timeout)
            c = self._conns[i]
            try:
                c.request(method, path, body=data, headers=h)
                r = c.getresponse()
                payload = r.read()
                hdrs = {k.lower(): v for k, v in r.getheaders()}
                if hdrs.get("connection", "").lower() == "close":
                    c.close()
                    self._conns[i] = None
                return Response(r.status, hdrs, payload)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                c.close()
                self._conns[i] = None
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
        before_passed = _passed
        try:
            fn()
        except Exception:
            check(False, "exception:\n" + traceback.format_exc())
        if _failed == before and _passed == before_passed:
            continue  # skipped: it printed why
        print(f"{'ok  ' if _failed == before else 'FAIL'} {fn.__name__}", flush=True)
    _check_recorded()
    print(f"RESULT passed={_passed} failed={_failed}", flush=True)
    sys.exit(1 if _failed else 0)
