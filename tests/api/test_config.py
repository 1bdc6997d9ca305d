#!/usr/bin/env python3
"""Configuration of `aijri serve`: a flag beats the environment, which beats the config file,
which beats the default; --help lists every setting; a bad value stops the start (exit 2).

The lib's Server passes --port itself, so the precedence cases start the binary directly."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from lib import BIN, ROOT, Server, check, check_eq, free_port, run, run_cli, test, _scan_sanitizer

# name, environment variable, default: the table of server/config.c as documented.
SETTINGS = [
    ("port", "AIJRI_PORT", "8080"),
    ("db", "AIJRI_DB", "./aijri.db"),
    ("bind", "AIJRI_BIND", "0.0.0.0"),
    ("public-url", "AIJRI_PUBLIC_URL", "none"),
    ("allow-private-webhooks", "AIJRI_ALLOW_PRIVATE_WEBHOOKS", "false"),
    ("threads", "AIJRI_THREADS", "0"),
    ("max-connections", "AIJRI_MAX_CONNECTIONS", "1024"),
    ("connection-timeout", "AIJRI_CONNECTION_TIMEOUT", "30"),
    ("log-format", "AIJRI_LOG_FORMAT", "text"),
    ("webhook-retry-schedule", "AIJRI_WEBHOOK_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,36000"),
    ("webhook-timeout", "AIJRI_WEBHOOK_TIMEOUT", "10"),
    ("webhook-concurrency", "AIJRI_WEBHOOK_CONCURRENCY", "64"),
    ("webhook-claim-seconds", "AIJRI_WEBHOOK_CLAIM_SECONDS", "0"),
    ("stale-after-days", "AIJRI_STALE_AFTER_DAYS", "180"),
    ("webhook-pause-days", "AIJRI_WEBHOOK_PAUSE_DAYS", "30"),
]
# The example files' value of the settings that have no default.
EXAMPLE_VALUES = {"public-url": "https://aijri.example.org"}


def clean_env(**extra):
    """The test's environment without any AIJRI_ setting, plus extra."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("AIJRI_")}
    e.update(extra)
    return e


def healthy(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", "/healthz")
        ok = c.getresponse().status == 200
        c.close()
        return ok
    except OSError:
        return False


class Direct:
    """bin/aijri serve started with exactly the given argv and environment."""

    def __init__(self, tmp, args, env):
        self.log_path = os.path.join(tmp, f"serve-{time.time_ns()}.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BIN, "serve"] + args, stdout=self.log, stderr=self.log,
                                     env=env, cwd=tmp)

    def wait_port(self, port, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            if healthy(port):
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        with open(self.log_path, "rb") as f:
            text = f.read().decode(errors="replace")
        _scan_sanitizer(text, "server")
        return self.proc.returncode, text


def three_ports():
    ports = set()
    while len(ports) < 3:
        ports.add(free_port())
    return list(ports)


@test
def test_precedence_flag_env_file():
    tmp = tempfile.mkdtemp(prefix="aijri-cfg-")
    try:
        a, b, c = three_ports()
        conf = os.path.join(tmp, "aijri.conf")
        db = os.path.join(tmp, "aijri.db")
        with open(conf, "w") as f:
            f.write(f"# test\nport = {a}\nbind = 127.0.0.1\n")
        cases = [
            ("flag beats env and file", ["--config", conf, "--port", str(c), "--db", db],
             clean_env(AIJRI_PORT=str(b)), c, (a, b)),
            ("env beats file", ["--config", conf, "--db", db], clean_env(AIJRI_PORT=str(b)), b,
             (a, c)),
            ("file beats default", ["--config", conf, "--db", db], clean_env(), a, (b, c)),
            # The file named by AIJRI_CONFIG instead of --config, the database by AIJRI_DB.
            ("AIJRI_CONFIG", [], clean_env(AIJRI_CONFIG=conf, AIJRI_DB=db), a, (b, c)),
        ]
        for name, args, env, want, others in cases:
            s = Direct(tmp, args, env)
            up = s.wait_port(want)
            check(up, f"{name}: no answer on port {want}")
            if up:
                for p in others:
                    check(not healthy(p), f"{name}: something answers on port {p} too")
            rc, log = s.stop()
            check_eq(rc, 0, f"{name}: exit code on SIGTERM ({log[-500:]})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_port_in_use_is_refused():
    """A second server on a port that one already serves must fail, not share the port."""
    with Server() as srv:
        tmp = tempfile.mkdtemp(prefix="aijri-cfg-")
        try:
            p = subprocess.run([BIN, "serve", "--port", str(srv.port), "--db",
                                os.path.join(tmp, "other.db")], env=clean_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
            check(p.returncode != 0, f"second server on port {srv.port} exited {p.returncode}")
            check(b"cannot listen" in p.stderr and str(srv.port).encode() in p.stderr,
                  f"the refusal names neither the failure nor the port: {p.stderr[-300:]!r}")
            r = srv.get("/healthz")
            check(r.status == 200, f"the first server still answers: {r}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


@test
def test_request_log_one_line_per_request():
    """One line per request on standard error, with time, method, path, status and duration;
    a path cannot forge a line of its own. In text and in JSON."""
    for fmt in ("text", "json"):
        srv = Server(args=["--log-format", fmt])
        srv.start()
        try:
            srv.get("/roles/edge-ai-engineer/score")
            srv.get("/roles/x%0aFAKE%20LINE")
            srv.request("HEAD", "/healthz")
        finally:
            check_eq(srv.stop(), 0, f"{fmt}: exit code")
        lines = [ln for ln in srv.log().splitlines() if "/roles/" in ln or "/healthz" in ln]
        if fmt == "json":
            recs = []
            for ln in lines:
                try:
                    recs.append(json.loads(ln))
                except ValueError:
                    check(False, f"json: not a JSON line: {ln!r}")
            got = [(r.get("method"), r.get("path"), r.get("status")) for r in recs]
            check(all(set(r) >= {"time", "method", "path", "status", "duration_ms"} for r in recs),
                  f"json: fields {recs}")
        else:
            got = []
            for ln in lines:
                f = ln.split(" ")
                check(len(f) == 5 and f[4].endswith("ms") and f[0].endswith("Z"),
                      f"text: time method path status duration: {ln!r}")
                got.append((f[1], f[2], int(f[3])) if len(f) == 5 else None)
        check(not any("FAKE" in ln and "/roles/" not in ln for ln in srv.log().splitlines()),
              f"{fmt}: a forged line: {srv.log()[-600:]!r}")
        roles = [g for g in got if g and g[1].startswith("/roles/")]
        check_eq(len(roles), 2, f"{fmt}: one line for each of the two role requests: {got}")
        check(("GET", "/roles/edge-ai-engineer/score", 200) in got, f"{fmt}: the read: {got}")
        check(("HEAD", "/healthz", 200) in got, f"{fmt}: the HEAD: {got}")
        shutil.rmtree(srv.tmp, ignore_errors=True)


@test
def test_help_lists_every_setting():
    p = run_cli("serve", "--help", env=clean_env(), check_rc=0)
    out = p.stdout.decode()
    for name, env, default in SETTINGS:
        line = next((l for l in out.splitlines() if l.strip().startswith(f"--{name} ")), None)
        if not check(line is not None, f"--help has no line for --{name}:\n{out}"):
            continue
        check(env in line, f"--{name}: {env} not named: {line!r}")
        check(re.search(r"default\s+" + re.escape(default) + r"\s*$", line) is not None,
              f"--{name}: default {default} not shown: {line!r}")
    check("--config" in out and "AIJRI_CONFIG" in out, "--config missing from --help")
    # The environment must not change what --help calls the default.
    p = run_cli("serve", "--help", env=clean_env(AIJRI_PORT="9999"), check_rc=0)
    check("default 8080" in p.stdout.decode(), "--help default of port follows the environment")


def serve_fails(args, env, tmp):
    """Runs serve expecting it to refuse to start; returns (rc, stderr)."""
    try:
        p = subprocess.run([BIN, "serve"] + args, capture_output=True, env=env, cwd=tmp,
                           timeout=20)
    except subprocess.TimeoutExpired:
        check(False, f"serve {args} started instead of failing")
        return None, ""
    err = p.stderr.decode(errors="replace")
    _scan_sanitizer(err, "serve")
    return p.returncode, err


@test
def test_bad_values_exit_2():
    tmp = tempfile.mkdtemp(prefix="aijri-cfg-")
    try:
        db = os.path.join(tmp, "aijri.db")
        rc, err = serve_fails(["--port", "0", "--db", db], clean_env(), tmp)
        check_eq(rc, 2, f"--port 0: {err}")
        check("port" in err, f"--port 0: the setting is not named: {err!r}")

        rc, err = serve_fails(["--db", db], clean_env(AIJRI_PORT="http"), tmp)
        check_eq(rc, 2, f"AIJRI_PORT=http: {err}")
        check("AIJRI_PORT" in err, f"AIJRI_PORT=http: the variable is not named: {err!r}")

        conf = os.path.join(tmp, "unknown.conf")
        with open(conf, "w") as f:
            f.write("port = 8080\n\n# comment\nportt = 9090\n")
        rc, err = serve_fails(["--config", conf, "--db", db], clean_env(), tmp)
        check_eq(rc, 2, f"unknown key: {err}")
        check("portt" in err and f"{conf}:4" in err,
              f"unknown key: the key and file:line are not named: {err!r}")

        conf = os.path.join(tmp, "range.conf")
        with open(conf, "w") as f:
            f.write("webhook-timeout = 0\n")
        rc, err = serve_fails(["--config", conf, "--db", db], clean_env(), tmp)
        check_eq(rc, 2, f"webhook-timeout 0: {err}")
        check("webhook-timeout" in err and f"{conf}:1" in err, f"bad file value: {err!r}")

        for line, what in (("webhook-retry-schedule = 5,abc", "webhook-retry-schedule"),
                           ("log-format = xml", "log-format")):
            conf = os.path.join(tmp, "form.conf")
            with open(conf, "w") as f:
                f.write(line + "\n")
            rc, err = serve_fails(["--config", conf, "--db", db], clean_env(), tmp)
            check_eq(rc, 2, f"{line}: {err}")
            check(what in err and f"{conf}:1" in err, f"{line}: setting and file:line: {err!r}")
        rc, err = serve_fails(["--db", db], clean_env(AIJRI_WEBHOOK_RETRY_SCHEDULE="1,x"), tmp)
        check_eq(rc, 2, f"AIJRI_WEBHOOK_RETRY_SCHEDULE=1,x: {err}")
        check("AIJRI_WEBHOOK_RETRY_SCHEDULE" in err, f"the variable is not named: {err!r}")

        rc, err = serve_fails(["--no-such-flag", "--db", db], clean_env(), tmp)
        check_eq(rc, 2, f"unknown flag: {err}")
        check("--no-such-flag" in err, f"unknown flag not named: {err!r}")

        rc, err = serve_fails(["--config", os.path.join(tmp, "absent.conf"), "--db", db],
                              clean_env(), tmp)
        check_eq(rc, 2, f"missing config file: {err}")
        check("absent.conf" in err, f"missing config file not named: {err!r}")
        check(not os.path.exists(db), "a refused start created the database")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def example_values(path, pattern):
    """The commented-out settings of an example file: {name: value}."""
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(pattern, line.rstrip("\n"))
            if m:
                out[m.group(1)] = m.group(2)
    return out


@test
def test_deploy_examples_cover_every_setting():
    env_ex = example_values(os.path.join(ROOT, "deploy", "aijri.env.example"),
                            r"^#(AIJRI_[A-Z_]+)=(.*)$")
    conf_ex = example_values(os.path.join(ROOT, "deploy", "aijri.conf.example"),
                             r"^#([a-z-]+) = (.*)$")
    for name, env, default in SETTINGS:
        # A setting with no default shows an example value instead.
        default = EXAMPLE_VALUES.get(name, default)
        check_eq(env_ex.get(env), default, f"aijri.env.example: {env}")
        check_eq(conf_ex.get(name), default, f"aijri.conf.example: {name}")
    check("AIJRI_CONFIG" in env_ex, "aijri.env.example: AIJRI_CONFIG missing")

    # The example, uncommented, is a config file the server takes as it is.
    tmp = tempfile.mkdtemp(prefix="aijri-cfg-")
    try:
        port = free_port()
        conf = os.path.join(tmp, "aijri.conf")
        with open(os.path.join(ROOT, "deploy", "aijri.conf.example")) as f:
            text = re.sub(r"^#([a-z-]+ = )", r"\1", f.read(), flags=re.M)
        text = text.replace("port = 8080", f"port = {port}").replace("bind = 0.0.0.0",
                                                                     "bind = 127.0.0.1")
        with open(conf, "w") as f:
            f.write(text)
        s = Direct(tmp, ["--config", conf], clean_env())
        check(s.wait_port(port), "the uncommented aijri.conf.example does not start a server")
        rc, log = s.stop()
        check_eq(rc, 0, f"exit code on SIGTERM ({log[-500:]})")
        check(os.path.exists(os.path.join(tmp, "aijri.db")), "db = ./aijri.db not honoured")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run()
