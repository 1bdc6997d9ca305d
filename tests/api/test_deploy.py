"""Several instances on one PostgreSQL database behind nginx: deploy/compose.yaml, deploy/nginx.conf
and the README's section "Running several instances (PostgreSQL)".

No container engine runs here, so the images are never built. Instead:
  - the compose file is parsed (PyYAML) and its shape checked: postgres with a volume and a
    pg_isready health check, a one-shot migrate service that the instances wait for, three
    instances built from deploy/Containerfile, nginx waiting for their /healthz;
  - its commands and settings are compared with the ones the README's section gives;
  - `nginx -t` runs on deploy/nginx.conf, with the compose file's include files and with the
    test's;
  - the same main nginx.conf runs in front of real servers: one that answers 503 as an instance
    shutting down does (GETs are asked of another instance, writes are never sent twice), and
    the whole topology: `aijri migrate` once on a fresh PostgreSQL database, three
    `aijri serve` on loopback ports, nginx in front; requests through nginx are answered, spread
    over the three, and a write through nginx is then read through nginx.
The parts that run nginx in front of servers run in the release tier only (tests/run runs this
file in the sanitizer tier too, with bin/aijri-san).

Run: AIJRI_BIN=bin/aijri python3 tests/api/test_deploy.py
"""
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lib import BIN, ROOT, Server, check, check_eq, free_port, run, run_cli, test  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "pg"))
from pgcluster import Cluster  # noqa: E402

try:
    import yaml
except ImportError:  # reported by the tests that need it
    yaml = None

DEPLOY = os.path.join(ROOT, "deploy")
COMPOSE = os.path.join(DEPLOY, "compose.yaml")
NGINX_CONF = os.path.join(DEPLOY, "nginx.conf")
README = os.path.join(ROOT, "README.md")
SECTION = "Running several instances (PostgreSQL)"
SLUG = "edge-ai-engineer"
SANITIZER = BIN.endswith("-san")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# libpq's environment variables a compose service may set beside the AIJRI_ settings.
LIBPQ_ENV = {"PGPASSWORD", "PGPASSFILE", "PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY",
             "PGCONNECT_TIMEOUT", "PGAPPNAME", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE",
             "PGOPTIONS", "PGTARGETSESSIONATTRS"}
# A write is visible on every instance within 100 ms at p99 (API.md); one sample is given this
# long, so that a slow machine does not fail the run.
VISIBLE_DEADLINE = 10.0


# ---------------------------------------------------------------------------------------
# The files

def load_compose():
    if yaml is None:
        raise RuntimeError("python3-yaml is missing: deploy/setup-debian.sh --test installs it")
    with open(COMPOSE) as f:
        return yaml.safe_load(f)


def argv_of(svc):
    """The command a service runs: its entrypoint and command, each a list or a string."""
    out = []
    for key in ("entrypoint", "command"):
        v = svc.get(key)
        if isinstance(v, str):
            out += shlex.split(v)
        elif v:
            out += [str(x) for x in v]
    return out


def instances(compose):
    """The names of the services that run `aijri serve`, sorted."""
    return sorted(n for n, s in compose["services"].items() if argv_of(s)[:2] == ["aijri", "serve"])


def env_of(svc):
    """A service's environment as a dict (compose takes a mapping or NAME=value lines)."""
    e = svc.get("environment") or {}
    if isinstance(e, list):
        e = dict(x.split("=", 1) if "=" in x else (x, None) for x in e)
    return {k: (None if v is None else str(v)) for k, v in e.items()}


VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def resolved(value):
    """A compose value with its interpolations: ${X:-default} gives the default; a value that
    needs a variable with no default (${X}, ${X:?message}) gives None."""
    if value is None or required_vars(value):
        return None
    return VAR.sub(lambda m: m.group(3), value)


def required_vars(value):
    """The variables a compose value needs from the environment or deploy/.env: those
    without a default."""
    return [m.group(1) for m in VAR.finditer(value or "") if m.group(2) not in (":-", "-")]


def depends(svc):
    """depends_on as {service: condition} (the short list form means service_started)."""
    d = svc.get("depends_on") or {}
    if isinstance(d, list):
        return {n: "service_started" for n in d}
    return {n: (c or {}).get("condition", "service_started") for n, c in d.items()}


def readme_section():
    """The text of the README's section, up to the next heading of its level."""
    with open(README) as f:
        text = f.read()
    m = re.search(r"^## " + re.escape(SECTION) + r"\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    return m.group(1) if m else None


def code_blocks(text):
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.M | re.S)]


def settings_block(section):
    """The README's block of the settings every instance gets: (assignments, commands).
    Assignments: NAME -> value as written (quotes removed); commands: the `aijri ...` lines.
    Comments (from " #" on) are dropped."""
    for _, body in code_blocks(section):
        if not re.search(r"^AIJRI_DB=", body, re.M):
            continue
        names, commands = {}, []
        for line in body.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            m = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
            if m:
                v = m.group(2)
                if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
                    v = v[1:-1]
                names[m.group(1)] = v
            elif line.startswith("aijri "):
                commands.append(line)
        return names, commands
    return None, None


def nginx_includes():
    """The files deploy/nginx.conf includes (relative names, from its directory)."""
    with open(NGINX_CONF) as f:
        text = re.sub(r"#.*", "", f.read())
    return re.findall(r"^\s*include\s+(\S+?);", text, re.M)


def upstream_params():
    """The parameters of the compose file's upstream server lines (one set, the same on each)."""
    with open(os.path.join(DEPLOY, "nginx-upstreams.conf")) as f:
        lines = re.findall(r"^\s*server\s+(\S+)([^;]*);", f.read(), re.M)
    params = {p.strip() for _, p in lines}
    if len(params) != 1:
        raise RuntimeError(f"deploy/nginx-upstreams.conf: server lines differ: {lines}")
    return lines, params.pop()


def nginx_dir(upstreams, listen, temp=True):
    """A directory with deploy/nginx.conf as it is and include files for this run: upstreams is
    a list of "HOST:PORT", each given the compose file's server parameters; listen is the
    content of nginx-listen.conf, plus temporary paths of the directory's own when temp."""
    d = tempfile.mkdtemp(prefix="aijri-nginx-")
    os.chmod(d, 0o755)  # the workers (nobody) reach their temporary files below it
    shutil.copyfile(NGINX_CONF, os.path.join(d, "nginx.conf"))
    _, params = upstream_params()
    with open(os.path.join(d, "nginx-upstreams.conf"), "w") as f:
        for u in upstreams:
            f.write(f"server {u}{(' ' + params) if params else ''};\n")
    with open(os.path.join(d, "nginx-listen.conf"), "w") as f:
        f.write(listen + "\n")
        if temp:
            f.write(f"client_body_temp_path {d}/body;\nproxy_temp_path {d}/proxy;\n")
    return d


def nginx_t(d):
    return subprocess.run([NGINX, "-t", "-p", d, "-e", os.path.join(d, "error.log"),
                           "-c", os.path.join(d, "nginx.conf"),
                           "-g", f"pid {d}/nginx.pid;"], capture_output=True, text=True,
                          timeout=60)


class Nginx:
    """nginx on a free loopback port in front of the given upstreams, from deploy/nginx.conf."""

    def __init__(self, upstreams):
        self.upstreams = upstreams
        self.dir = None
        self.proc = None
        self.port = None

    def start(self):
        for attempt in range(5):
            self.port = free_port()
            self.dir = nginx_dir(self.upstreams, f"listen 127.0.0.1:{self.port};")
            self.out = open(os.path.join(self.dir, "access.log"), "wb")
            self.err = open(os.path.join(self.dir, "nginx.stderr"), "wb")
            self.proc = subprocess.Popen(
                [NGINX, "-p", self.dir, "-e", os.path.join(self.dir, "error.log"),
                 "-c", os.path.join(self.dir, "nginx.conf"),
                 "-g", f"daemon off; pid {self.dir}/nginx.pid;"],
                stdout=self.out, stderr=self.err)
            deadline = time.time() + 20
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return self
                except OSError:
                    time.sleep(0.05)
            err = self.errors()
            self.stop()
            if "Address already in use" in err and attempt < 4:
                continue
            raise RuntimeError(f"nginx did not start: {err[-2000:]}")
        raise RuntimeError("unreachable")

    def errors(self):
        text = ""
        for name in ("nginx.stderr", "error.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def access_log(self):
        with open(os.path.join(self.dir, "access.log"), errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.out.close()
            self.err.close()
        self.proc = None

    def cleanup(self):
        self.stop()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, method, path, body=None, token=None, headers=None):
        """One request on a new connection to nginx; returns (status, headers, body bytes)."""
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if token:
            h["Authorization"] = "Bearer " + token
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()


def need_nginx():
    if os.path.exists(NGINX):
        return True
    check(False, "nginx is not installed: deploy/setup-debian.sh --test installs it")
    return False


def release_tier_only(name):
    if SANITIZER:
        print(f"skip {name}: nginx in front of servers runs in the release tier only", flush=True)
        return False
    return True


# ---------------------------------------------------------------------------------------
# (a) the compose file

@test
def compose_file_has_the_topology():
    c = load_compose()
    svcs = c.get("services") or {}
    names = instances(c)
    check_eq(len(names), 3, "services running `aijri serve`")
    for want in ("postgres", "migrate", "nginx"):
        check(want in svcs, f"no service {want}: {sorted(svcs)}")
    if not all(n in svcs for n in ("postgres", "migrate", "nginx")):
        return
    pg, mig, ngx = svcs["postgres"], svcs["migrate"], svcs["nginx"]

    check(str(pg.get("image", "")).startswith("postgres:15"), f"postgres image: {pg.get('image')}")
    vols = [str(v) for v in pg.get("volumes") or []]
    named = [v.split(":")[0] for v in vols if v.split(":")[1:2] == ["/var/lib/postgresql/data"]]
    check(len(named) == 1 and named[0] in (c.get("volumes") or {}),
          f"postgres keeps its data in a named volume: {vols}, volumes {c.get('volumes')}")
    hc = " ".join(argv_of({"command": (pg.get("healthcheck") or {}).get("test")}))
    check("pg_isready" in hc, f"postgres health check: {hc!r}")

    check_eq(argv_of(mig), ["aijri", "migrate"], "the migrate service's command")
    check_eq(depends(mig), {"postgres": "service_healthy"}, "migrate waits for postgres")
    check(str(mig.get("restart", "no")) == "no", f"migrate runs once: restart {mig.get('restart')}")
    check(not mig.get("ports"), "migrate publishes nothing")

    with open(os.path.join(DEPLOY, "Containerfile")) as f:
        containerfile = f.read()
    for n in ["migrate"] + names:
        s = svcs[n]
        b = s.get("build") or {}
        check_eq(b.get("dockerfile"), "deploy/Containerfile", f"{n} is built from")
        check(os.path.samefile(os.path.join(DEPLOY, b.get("context", ".")), ROOT),
              f"{n}: the build context is the repository: {b.get('context')}")
        check("/usr/local/bin/aijri" in containerfile and s.get("entrypoint") in (["aijri"], "aijri"),
              f"{n}: entrypoint {s.get('entrypoint')} is the image's aijri")
    for n in names:
        s = svcs[n]
        check_eq(depends(s).get("migrate"), "service_completed_successfully",
                 f"{n} starts after the migrations")
        check_eq(depends(s).get("postgres"), "service_healthy", f"{n} waits for postgres")
        hc = " ".join(argv_of({"command": (s.get("healthcheck") or {}).get("test")}))
        check("/healthz" in hc, f"{n} health check: {hc!r}")
        check(not s.get("ports"), f"{n} is reached through nginx only: ports {s.get('ports')}")
        grace = str(s.get("stop_grace_period", "10s"))
        secs = int(re.match(r"(\d+)", grace).group(1)) * (60 if grace.endswith("m") else 1)
        check(secs >= 20, f"{n}: stop_grace_period {grace} leaves no time to finish requests "
                          "(the server waits up to 15 s for those in flight)")
    envs = [env_of(svcs[n]) for n in names]
    check(all(e == envs[0] for e in envs), "the three instances have one environment")
    e = envs[0]
    db = e.get("AIJRI_DB") or ""
    check(re.match(r"^postgres(ql)?://", db) is not None, f"AIJRI_DB is a PostgreSQL URI: {db!r}")
    userinfo = db.split("://", 1)[-1].split("@", 1)[0] if "@" in db else ""
    check(":" not in userinfo and "password=" not in db, f"no password in AIJRI_DB: {db!r}")
    check_eq(env_of(mig).get("AIJRI_DB"), db, "migrate and the instances use one database")
    for key, svc in (("PGPASSWORD", e), ("POSTGRES_PASSWORD", env_of(pg))):
        v = svc.get(key) or ""
        check(required_vars(v) and resolved(v) is None,
              f"{key} comes from the environment or deploy/.env, not from the file: {v!r}")
    # Every setting is one the server has (its --help lists the environment names), or libpq's.
    p = run_cli("serve", "--help", check_rc=0)
    help_text = p.stdout.decode()
    for k in e:
        check(k in LIBPQ_ENV or (k.startswith("AIJRI_") and k in help_text),
              f"{k} is neither an aijri setting (serve --help) nor libpq's")
    check_eq(e.get("AIJRI_BIND"), "0.0.0.0", "instances listen on every interface (AIJRI_BIND)")
    check_eq(e.get("AIJRI_MAX_CONNECTIONS_PER_ADDRESS"), "0",
             "behind nginx every client has nginx's address")

    check_eq({n: depends(ngx).get(n) for n in names}, {n: "service_healthy" for n in names},
             "nginx waits for every instance's health check")
    vols = [str(v) for v in ngx.get("volumes") or []]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in vols}
    check_eq(mounts.get("/etc/nginx/nginx.conf"), "./nginx.conf", "nginx's configuration")
    for inc in nginx_includes():
        src = mounts.get("/etc/nginx/" + inc)
        check(src is not None and os.path.exists(os.path.join(DEPLOY, src)),
              f"deploy/nginx.conf includes {inc}: compose mounts {src} there")
    hc = " ".join(argv_of({"command": (ngx.get("healthcheck") or {}).get("test")}))
    check("/healthz" in hc, f"nginx health check: {hc!r}")
    check(any(str(p).endswith(":8080") for p in ngx.get("ports") or []),
          f"nginx is published: {ngx.get('ports')}")
    # The upstream names are the instances' service names, on the port they listen on.
    lines, _ = upstream_params()
    check_eq(sorted(h for h, _ in lines), [f"{n}:{e.get('AIJRI_PORT')}" for n in names],
             "deploy/nginx-upstreams.conf")


@test
def setup_installs_what_this_test_needs():
    with open(os.path.join(DEPLOY, "setup-debian.sh")) as f:
        text = f.read()
    test_part = text[text.index('if [ "${1:-}" = "--test" ]'):]
    test_part = test_part[:test_part.index("\nfi\n")]
    pkgs = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", " ".join(re.findall(r"pkgs\+=\(([^)]*)\)", test_part))))
    for want in ("python3-yaml", "nginx-light", "postgresql"):
        check(want in pkgs, f"deploy/setup-debian.sh --test does not install {want}")


# ---------------------------------------------------------------------------------------
# (b) the compose file and the README agree

@test
def compose_file_agrees_with_the_readme():
    c = load_compose()
    svcs = c["services"]
    section = readme_section()
    if not check(section is not None, f"README.md has no section '## {SECTION}'"):
        return
    for path in ("deploy/compose.yaml", "deploy/nginx.conf", "deploy/Containerfile"):
        check(path in section, f"the README's section does not name {path}")
    names, commands = settings_block(section)
    if not check(names is not None, "the README's section has no block of settings (AIJRI_DB=...)"):
        return
    env = env_of(svcs[instances(c)[0]])
    check_eq(sorted(names), sorted(env), "the settings the README gives and compose's instances get")
    for k, v in env.items():
        want = resolved(v)
        if want is not None and k in names:
            check_eq(names[k], want, f"{k} in the README")
    # The commands: the README's are the ones the services run.
    ran = sorted({" ".join(argv_of(s)) for s in svcs.values() if argv_of(s)[:1] == ["aijri"]})
    check_eq(sorted(set(commands)), ran, "the aijri commands of the README and of compose")
    # Whatever compose needs from the environment (the password), the README says how to give.
    needed = set()
    for s in svcs.values():
        for v in env_of(s).values():
            needed.update(required_vars(v))
    for var in needed:
        check(var + "=" in section, f"compose needs {var}; the README does not show how to set it")
    # No password in the README beyond a placeholder or one made on the spot.
    for m in re.finditer(r"(PGPASSWORD|POSTGRES_PASSWORD|AIJRI_PG_PASSWORD)=(\S+)", section):
        v = m.group(2)
        check(v in ("...", "'...'") or "$" in v or v.startswith("%s"),
              f"a password in the README: {m.group(0)}")
    # The pool size: the README's connections per instance fit PostgreSQL's max_connections.
    m = re.search(r"threads \+ (\d+)", section)
    if check(m is not None, "the README gives no connections per instance (threads + N)"):
        per = int(env["AIJRI_THREADS"]) + int(m.group(1))
        pg_cmd = " ".join(argv_of(svcs["postgres"]))
        mc = re.search(r"max_connections=(\d+)", pg_cmd)
        limit = int(mc.group(1)) if mc else 100
        # superuser_reserved_connections (3), migrate, a CLI command or two, pg_dump
        check(len(instances(c)) * per + 3 + 10 <= limit,
              f"{len(instances(c))} instances x {per} connections do not fit max_connections {limit}")
        check(f"max_connections={limit}" in pg_cmd and "max_connections" in section,
              "compose sets max_connections and the README explains it")
    # The README's commands for the database's own tools.
    for word in ("pg_dump", "pg_restore", "sslmode", "PGPASSWORD", "LISTEN", "SKIP LOCKED",
                 "hash $http_authorization"):
        check(word in section, f"the README's section does not mention {word}")


# ---------------------------------------------------------------------------------------
# (c) nginx -t

@test
def nginx_conf_passes_nginx_t():
    if not need_nginx():
        return
    c = load_compose()
    env = env_of(c["services"][instances(c)[0]])
    # The compose file's include files as they are, with the instances' names (which only
    # compose's network resolves) as loopback addresses.
    lines, _ = upstream_params()
    d = nginx_dir([f"127.0.0.1:{h.split(':')[1]}" for h, _ in lines], "", temp=False)
    try:
        shutil.copyfile(os.path.join(DEPLOY, "nginx-listen.conf"), os.path.join(d, "nginx-listen.conf"))
        p = nginx_t(d)
        check(p.returncode == 0 and "test is successful" in p.stderr,
              f"nginx -t, compose's include files: {p.stderr[-1500:]}")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    # The test's, as the topology below uses them.
    d = nginx_dir([f"127.0.0.1:{free_port()}" for _ in range(3)], f"listen 127.0.0.1:{free_port()};")
    try:
        p = nginx_t(d)
        check(p.returncode == 0 and "test is successful" in p.stderr,
              f"nginx -t, the test's include files: {p.stderr[-1500:]}")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    # What the container and the test give on the command line must not be in the file.
    with open(NGINX_CONF) as f:
        text = re.sub(r"#.*", "", f.read())
    for word in ("pid", "daemon", "listen"):
        check(re.search(r"^\s*" + word + r"\s", text, re.M) is None,
              f"deploy/nginx.conf sets {word}: leave it to the command line or nginx-listen.conf")
    check(env.get("AIJRI_PORT") == "8080", "instances listen on 8080, as nginx-upstreams.conf says")


# ---------------------------------------------------------------------------------------
# nginx in front of servers

class ShuttingDown:
    """An instance that is shutting down, as aijri's server answers then: every request gets a
    503 problem (type unavailable) with Retry-After and the connection closed. Counts what it
    was asked, by method."""

    def __init__(self):
        self.count = {}
        self.lock = threading.Lock()
        me = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                with me.lock:
                    me.count[self.command] = me.count.get(self.command, 0) + 1
                body = json.dumps({"type": "urn:aijri:problem:unavailable",
                                   "title": "Service unavailable", "status": 503,
                                   "detail": "the server is shutting down; try again",
                                   "errors": []}).encode()
                self.send_response(503)
                self.send_header("Content-Type", "application/problem+json")
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Retry-After", "1")
                self.send_header("Connection", "close")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                self.close_connection = True

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = answer

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def asked(self, method):
        with self.lock:
            return self.count.get(method, 0)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def instance_args():
    """The compose file's instance settings, as the environment of a server started here: the
    database (--db) and the port (--port) are the test's."""
    c = load_compose()
    env = {}
    for k, v in env_of(c["services"][instances(c)[0]]).items():
        v = resolved(v)
        if k.startswith("AIJRI_") and k not in ("AIJRI_DB", "AIJRI_PORT") and v is not None:
            env[k] = v
    return env


@test
def nginx_asks_another_instance_after_a_503_but_never_sends_a_write_twice():
    if not release_tier_only("nginx_asks_another_instance_after_a_503") or not need_nginx():
        return
    fake = ShuttingDown()
    srv = Server(env=instance_args())
    ngx = None
    try:
        srv.start()
        tok = srv.token("deploy")
        ngx = Nginx([f"127.0.0.1:{fake.port}", f"127.0.0.1:{srv.port}"]).start()
        answers = [ngx.request("GET", f"/roles/{SLUG}/score") for _ in range(8)]
        check_eq([a[0] for a in answers], [200] * 8, "GETs through nginx, one instance shutting down")
        check(fake.asked("GET") >= 2, f"the instance shutting down was asked {fake.asked('GET')} GETs")
        # Writes: an answered 503 is passed on as it is, never sent to another instance.
        rev0 = srv.get(f"/roles/{SLUG}/score").json["revision"]
        statuses = []
        for i in range(6):
            s, h, b = ngx.request("POST", f"/roles/{SLUG}/evidence", token=tok,
                                  body={"dimensions": {"wage_trends": {
                                      "rationale": f"through nginx, write {i}"}},
                                        "reason": f"through nginx {i}"})
            statuses.append(s)
            if s == 503:
                check_eq(h.get("retry-after"), "1", "a write's 503 keeps its Retry-After")
                check_eq(json.loads(b).get("type"), "urn:aijri:problem:unavailable",
                         "a write's 503 keeps its problem")
        ok, refused = statuses.count(200), statuses.count(503)
        check_eq(ok + refused, 6, f"write statuses {statuses}")
        check(refused >= 1 and ok >= 1, f"writes spread over both: {statuses}")
        check_eq(fake.asked("POST"), refused, "each POST the instance shutting down got was answered 503")
        rev1 = srv.get(f"/roles/{SLUG}/score").json["revision"]
        check_eq(rev1 - rev0, ok, "revisions made: one per 200, none twice")
        # A 503 does not take the instance out (a database outage must not take every
        # instance out): it is still asked.
        before = fake.asked("GET")
        for _ in range(6):
            check_eq(ngx.request("GET", f"/roles/{SLUG}")[0], 200, "GET after the writes")
        check(fake.asked("GET") > before, "the instance that answered 503 is still asked")
        # An instance that is gone: every request goes to the other, writes included (a
        # refused connection sent nothing).
        fake.close()
        for i in range(4):
            s, _, _ = ngx.request("POST", f"/roles/{SLUG}/evidence", token=tok,
                                  body={"dimensions": {"wage_trends": {
                                      "rationale": f"one instance gone, write {i}"}},
                                        "reason": f"one instance gone {i}"})
            check_eq(s, 200, f"write {i} with one instance gone")
    finally:
        if ngx:
            ngx.cleanup()
        fake.close()
        rc = srv.stop()
        check_eq(rc, 0, "server exit code on SIGTERM")
        srv.cleanup()


def score_requests(srv):
    """How many GET /roles/{slug}/score a server answered 200, from its /metrics."""
    text = srv.get("/metrics").body.decode()
    m = re.search(r'^aijri_http_requests_total\{method="GET",route="/roles/:slug/score",'
                  r'status="200"\} (\d+)$', text, re.M)
    return int(m.group(1)) if m else 0


def revision_of(status_headers_body):
    s, h, b = status_headers_body
    return json.loads(b).get("revision") if s == 200 else None


@test
def three_instances_on_postgresql_behind_nginx():
    """The topology of deploy/compose.yaml without containers."""
    if not release_tier_only("three_instances_on_postgresql_behind_nginx") or not need_nginx():
        return
    with Cluster.shared() as pg:
        uri = pg.new_database()
        try:
            topology(uri)
        finally:
            pg.drop_database(uri)


def topology(uri):
    # Migrations run once, before any instance.
    p = run_cli("migrate", db=uri)
    out = p.stdout.decode() + p.stderr.decode()
    m = re.search(r"schema version (\d+) \(latest (\d+)\)", out)
    if not check(p.returncode == 0 and m and m.group(1) == m.group(2),
                 f"aijri migrate on PostgreSQL exited {p.returncode}: {out[-600:]}"):
        return
    latest = int(m.group(2))
    servers = [Server(db=uri, env=instance_args()) for _ in range(3)]
    ngx = None
    try:
        for s in servers:
            s.start()
        ngx = Nginx([f"127.0.0.1:{s.port}" for s in servers]).start()
        s_, h, b = ngx.request("GET", "/healthz")
        check_eq(s_, 200, "GET /healthz through nginx")
        check_eq(json.loads(b).get("schema_version"), latest, "the instances' schema")

        before = [score_requests(s) for s in servers]
        n = 30
        for _ in range(n):
            s_, h, b = ngx.request("GET", f"/roles/{SLUG}/score")
            check(s_ == 200 and json.loads(b).get("score") == 55.2,
                  f"GET /roles/{SLUG}/score through nginx: {s_} {b[:200]!r}")
        grew = [score_requests(s) - b0 for s, b0 in zip(servers, before)]
        check(all(g >= 1 for g in grew), f"requests spread over the three instances: {grew}")
        check_eq(sum(grew), n, f"each request answered by one instance: {grew}")

        # A write through nginx, then read through nginx.
        p = run_cli("token", "create", "deploy-test", db=uri, check_rc=0)
        tok = p.stdout.decode().strip().splitlines()[-1]
        s_, h, b = ngx.request("POST", f"/roles/{SLUG}/evidence", token=tok,
                               body={"dimensions": {"wage_trends": {"score": 2,
                                                                    "rationale": "premiums rising"}},
                                     "reason": "through nginx"})
        if not check_eq(s_, 200, f"a write through nginx: {b[:300]!r}"):
            return
        rev = json.loads(b)["revision"]
        written = time.monotonic()
        # Every instance shows it (its cache told by the writer's instance), within the deadline.
        lag = {}
        deadline = written + VISIBLE_DEADLINE
        while time.monotonic() < deadline and len(lag) < len(servers):
            for i, s in enumerate(servers):
                if i not in lag:
                    r = s.get(f"/roles/{SLUG}/score")
                    if r.status == 200 and r.json.get("revision") == rev:
                        lag[i] = time.monotonic() - written
            time.sleep(0.005)
        check_eq(sorted(lag), [0, 1, 2], f"instances showing revision {rev} within "
                                         f"{VISIBLE_DEADLINE:.0f} s")
        print("write visible on the instances after " +
              ", ".join(f"{lag[i] * 1000:.1f} ms" for i in sorted(lag)), flush=True)
        # Then through nginx, whichever instance answers.
        revs = [revision_of(ngx.request("GET", f"/roles/{SLUG}/score")) for _ in range(9)]
        check_eq(revs, [rev] * 9, "the write read through nginx")
        ngx.stop()
        upstreams = set(re.findall(r"upstream=(\S+)", ngx.access_log()))
        check_eq(upstreams, {f"127.0.0.1:{s.port}" for s in servers},
                 "nginx's log names the three instances")
    finally:
        if ngx:
            ngx.cleanup()
        for s in servers:
            rc = s.stop()
            check(rc in (0, None), f"server exit code on SIGTERM: {rc}")
            s.cleanup()


if __name__ == "__main__":
    run()
