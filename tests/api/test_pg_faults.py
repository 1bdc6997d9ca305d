"""API test of PostgreSQL faults (API.md "Running as several instances (PostgreSQL)"): the
database unreachable, crashed and restarted, and an instance killed, under the real binary and a
PostgreSQL cluster of this test's own (tests/pg/pgcluster.py: Cluster.start(), which it may take
down, bring up and restart; never the run's shared one).

- Start-up: a server that is not there, a URI libpq cannot read, a login refused (a role that
  may not log in, a wrong password under scram-sha-256, a database that does not exist): serve,
  migrate, token, export and import exit 2 with a message that says why, and the password given
  in the URI never appears in what they print. backup and restore name pg_dump and pg_restore.
  migrate, token, export and import work on a PostgreSQL URI.
- An outage: with the database down, writes answer 503 problem+json (type unavailable) with
  Retry-After and are not applied; cached answers and the role lists (the catalog held in
  memory) are still served 200; once the database is back, writes work again without a restart
  and the other instance (its listener reconnected) shows them.
- Under load (once: not in the sanitizer tier, not under valgrind): three instances, writer
  threads and a webhook receiver; one instance is killed with SIGKILL and PostgreSQL is
  restarted (an immediate stop, as a crash) while the writes go on. Every write answered 200 is
  in the revision history under the revision it was answered with, the history has no gap, and
  every acknowledged revision's assessment.revised event reaches the receiver.

Run: AIJRI_BIN=bin/aijri python3 tests/api/test_pg_faults.py
"""
import http.client
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (BIN, ROOT, VALGRIND, Server, check, check_eq, free_port, run,  # noqa: E402
                 run_cli, test)

sys.path.insert(0, os.path.join(ROOT, "tests", "pg"))
from pgcluster import Cluster  # noqa: E402
from webhook_receiver import Receiver  # noqa: E402

SLUG = "edge-ai-engineer"
SECRET = "SeCrEt"           # the password put in URIs: it must never be printed
HEAVY = not BIN.endswith("-san") and not VALGRIND
_cluster = None


def cluster():
    """This file's own cluster, started once, stopped at exit."""
    global _cluster
    if _cluster is None:
        import atexit
        _cluster = Cluster.start()
        atexit.register(_cluster.stop)
    return _cluster


def until_available(send, timeout=15):
    """Sends again while the answer is 503 unavailable (as a client honouring Retry-After
    would, sooner), up to timeout s; returns the last answer."""
    deadline = time.time() + timeout
    while True:
        r = send()
        if not is_unavailable(r) or time.time() > deadline:
            return r
        time.sleep(0.1)


def wait_for(cond, what, timeout=30):
    """Polls cond until it is true; fails the check (and returns False) after timeout s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return check(cond(), f"not within {timeout} s: {what}")


def evidence_body(tag, score=1):
    return {"dimensions": {"wage_trends": {"score": score, "rationale": f"fault {tag}"}},
            "reason": f"fault {tag}"}


def all_revisions(srv):
    """Every revision of the role, as {revision: reason}."""
    revs, offset = {}, 0
    while True:
        r = until_available(lambda: srv.get(f"/roles/{SLUG}/revisions?limit=200&offset={offset}"))
        if not check_eq(r.status, 200, "GET revisions"):
            return revs
        for item in r.json["items"]:
            revs[item["revision"]] = item.get("reason")
        offset += len(r.json["items"])
        if not r.json["items"] or offset >= r.json["total"]:
            return revs


def is_unavailable(r):
    """503 problem+json of type unavailable with Retry-After, naming the database."""
    body = r.json or {}
    return (r.status == 503 and bool(r.header("Retry-After"))
            and (r.header("Content-Type") or "").startswith("application/problem+json")
            and body.get("type") == "urn:aijri:problem:unavailable"
            and "database" in (body.get("detail") or ""))


# ---------------------------------------------------------------------------------------
# Start-up


def assert_refused(args, uri, what, expect_in):
    p = run_cli(*args, db=uri)
    out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    check_eq(p.returncode, 2, f"{' '.join(args)} on {what}: {out[-300:]}")
    check(SECRET not in out, f"{' '.join(args)} on {what} printed the password: {out[-300:]}")
    check(any(s in out for s in expect_in), f"{' '.join(args)} on {what}: says {out[-300:]!r}, "
                                            f"want one of {expect_in}")


@test
def bad_uris_and_refused_logins_exit_2_without_the_password():
    pg = cluster()
    port = pg.port()
    pg.psql(f"CREATE ROLE cannot_login NOLOGIN PASSWORD '{SECRET}'")
    pg.psql("CREATE ROLE with_password LOGIN PASSWORD 'the-right-one'")
    # The cluster trusts every login (initdb -A trust): this role must give its password.
    hba = os.path.join(pg.dir, "data", "pg_hba.conf")
    with open(hba) as f:
        rules = f.read()
    with open(hba, "w") as f:
        f.write("host all with_password 127.0.0.1/32 scram-sha-256\n" + rules)
    pg.psql("SELECT pg_reload_conf()")
    cases = [
        (f"postgresql://bad:{SECRET}@127.0.0.1:1/x", "nothing listening",
         ["Connection refused", "cannot connect"]),
        (f"postgresql://u:{SECRET}@[::1", "a URI libpq cannot read", ["database URI"]),
        (f"postgresql://cannot_login:{SECRET}@127.0.0.1:{port}/postgres", "a role without login",
         ["not permitted to log in"]),
        (f"postgresql://with_password:{SECRET}@127.0.0.1:{port}/postgres", "a wrong password",
         ["password authentication failed"]),
        (f"postgresql://127.0.0.1:{port}/postgres?user=with_password&password={SECRET}",
         "a wrong password as a parameter", ["password authentication failed"]),
        (f"postgresql://postgres:{SECRET}@127.0.0.1:{port}/no_such_database",
         "a database that does not exist", ["does not exist"]),
    ]
    for uri, what, expect_in in cases:
        assert_refused(["serve", "--port", str(free_port())], uri, what, expect_in)
        assert_refused(["migrate"], uri, what, expect_in)
    # The other commands that open the database, on one case each.
    uri, what, expect_in = cases[3]
    assert_refused(["token", "create", "x"], uri, what, expect_in)
    assert_refused(["export", "-"], uri, what, expect_in)
    assert_refused(["import", os.path.join(ROOT, "data", "edge-ai-engineer.json")], uri, what,
                   expect_in)


@test
def commands_work_on_a_postgresql_uri():
    pg = cluster()
    src, dst = pg.new_database(), pg.new_database()
    p = run_cli("migrate", db=src, check_rc=0)
    check(b"schema version" in p.stdout, f"migrate: {p.stdout!r}")
    with Server(db=src) as srv:           # the first start loads the default role
        tok = srv.token("cli")
        check(tok.startswith("aijri_"), f"token create: {tok!r}")
        p = run_cli("token", "list", db=src, check_rc=0)
        check(b"cli" in p.stdout, f"token list: {p.stdout!r}")
    p = run_cli("export", "-", db=src, check_rc=0)
    lines = p.stdout.decode().splitlines()
    check_eq(len(lines), 1, "export: one role")
    path = os.path.join(pg.dir, "roles.ndjson")
    with open(path, "w") as f:
        f.write(p.stdout.decode())
    run_cli("migrate", db=dst, check_rc=0)
    p = run_cli("import", path, db=dst, check_rc=0)
    check(b"imported 1 roles" in p.stdout, f"import: {p.stdout!r}")
    p = run_cli("export", "-", db=dst, check_rc=0)
    check_eq(json.loads(p.stdout.decode().splitlines()[0])["slug"], SLUG, "imported role")
    p = run_cli("backup", os.path.join(pg.dir, "b.db"), db=src, check_rc=2)
    check(b"pg_dump" in p.stderr, f"backup names pg_dump: {p.stderr!r}")
    p = run_cli("restore", os.path.join(pg.dir, "b.db"), db=src, check_rc=2)
    check(b"pg_restore" in p.stderr, f"restore names pg_restore: {p.stderr!r}")
    pg.drop_database(src)
    pg.drop_database(dst)


# ---------------------------------------------------------------------------------------
# An outage


@test
def database_down_gives_503_serves_what_it_holds_and_recovers():
    pg = cluster()
    uri = pg.new_database()
    a, b = Server(db=uri), Server(db=uri)
    try:
        a.start()
        b.start()
        tok = a.token("outage")
        r = a.post(f"/roles/{SLUG}/evidence", evidence_body("before"), token=tok)
        check_eq(r.status, 200, f"a write before the outage: {r}")
        held = [f"/roles/{SLUG}", f"/roles/{SLUG}/score", "/roles", "/roles?q=edge"]
        for path in held:           # asked twice: the second answer comes from the cache
            for _ in range(2):
                check_eq(a.get(path).status, 200, f"GET {path} before the outage")
        pg.down()
        for n in range(3):
            r = a.post(f"/roles/{SLUG}/evidence", evidence_body(f"down {n}"), token=tok)
            check(is_unavailable(r), f"a write while the database is down: {r} "
                                     f"{r.header('Retry-After')!r}")
        r = b.post(f"/roles/{SLUG}/evidence", evidence_body("down b"), token=tok)
        check(is_unavailable(r), f"a write on the other instance while down: {r}")
        for path in held:
            check_eq(a.get(path).status, 200, f"GET {path} while the database is down")
        # A list never asked before: from the catalog held in memory.
        r = a.get("/roles?q=engineer&sort=-score")
        check_eq(r.status, 200, f"a new list while the database is down: {r}")
        check_eq([i["slug"] for i in (r.json or {}).get("items", [])], [SLUG], "its items")
        # A read that needs the database: 200 or 503 with Retry-After, nothing else.
        r = a.get(f"/roles/{SLUG}/revisions/1")
        check(r.status == 200 or is_unavailable(r), f"an uncached read while down: {r}")
        check_eq(a.get("/healthz").status, 200, "healthz while down")
        pg.up()
        # Once the database is back, writes work again without a restart: the writer
        # reconnects by itself. A client told 503 with Retry-After sends again; the first
        # tries may still find the connection between two attempts to reconnect.
        r = until_available(lambda: a.post(f"/roles/{SLUG}/evidence", evidence_body("after"),
                                           token=tok))
        check_eq(r.status, 200, f"a write once the database is back: {r}")
        after = (r.json or {}).get("revision")
        # The other instance's listener reconnected: it shows the write.
        wait_for(lambda: b.get(f"/roles/{SLUG}/score").json.get("revision") == after,
                 f"instance b shows revision {after}")
        r = until_available(lambda: b.post(f"/roles/{SLUG}/evidence", evidence_body("after b"),
                                           token=tok))
        check_eq(r.status, 200, f"a write on the other instance once it is back: {r}")
        revs = all_revisions(a)
        reasons = set(revs.values())
        check("fault before" in reasons and "fault after" in reasons and
              "fault after b" in reasons, f"the acknowledged writes: {sorted(reasons)}")
        check(not any(str(x).startswith("fault down") for x in reasons),
              f"a write refused with 503 was applied: {sorted(reasons)}")
        check_eq(sorted(revs), list(range(1, len(revs) + 1)), "revisions without a gap")
        log = a.log() + b.log()
        check("reconnected" in log, "the log says the connection came back")
    finally:
        for srv in (a, b):
            rc = srv.stop()
            check_eq(rc, 0, "exit code on SIGTERM")
            srv.cleanup()
        pg.drop_database(uri)


# ---------------------------------------------------------------------------------------
# Under load: an instance killed, PostgreSQL restarted


class Load:
    """Writer threads spread over the instances still up (ports, replaced as they go)."""

    def __init__(self, token, ports):
        self.token = token
        self.ports = list(ports)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acks = []          # (revision, reason) of each 200
        self.unavailable = 0    # 503 with Retry-After
        self.types = {}         # their problem types
        self.refused = 0        # connection failures (the killed instance)
        self.bad = []           # anything else

    def worker(self, n):
        rnd = random.Random(n)
        conns, i = {}, 0
        while not self.stop.is_set():
            i += 1
            port = rnd.choice(self.ports)
            reason = f"load t{n} n{i}"
            body = json.dumps({"dimensions": {"wage_trends": {
                "score": rnd.choice([-2, -1, 0, 1, 2]), "rationale": reason}},
                "reason": reason})
            try:
                if port not in conns:
                    conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                c = conns[port]
                c.request("POST", f"/roles/{SLUG}/evidence", body=body, headers={
                    "Authorization": "Bearer " + self.token,
                    "Content-Type": "application/json"})
                r = c.getresponse()
                payload = r.read()
            except (OSError, http.client.HTTPException):
                conns.pop(port).close()
                with self.lock:
                    self.refused += 1
                continue
            with self.lock:
                if r.status == 200:
                    self.acks.append((json.loads(payload)["revision"], reason))
                elif r.status == 503 and r.getheader("Retry-After"):
                    self.unavailable += 1
                    kind = (json.loads(payload) or {}).get("type", "?").split(":")[-1]
                    self.types[kind] = self.types.get(kind, 0) + 1
                else:
                    self.bad.append((r.status, payload[:200]))
            if r.status == 503:
                time.sleep(0.05)
        for c in conns.values():
            c.close()

    def acked(self):
        with self.lock:
            return len(self.acks)


@test
def acknowledged_writes_and_events_survive_a_killed_instance_and_a_database_restart():
    if not HEAVY:
        print("skip acknowledged_writes_and_events_survive_a_killed_instance_and_a_database_"
              "restart: run once, in the release tier", flush=True)
        return
    pg = cluster()
    uri = pg.new_database()
    rec = Receiver()
    # A claim of the killed instance holds its endpoint's later events until its lease passes
    # (60 s by default): a short one, well above what a send to this receiver takes.
    env = {"AIJRI_WEBHOOK_RETRY_SCHEDULE": "1,1,1,1,1,1,1,1", "AIJRI_WEBHOOK_CLAIM_SECONDS": "5"}
    servers = [Server(db=uri, args=["--allow-private-webhooks"], env=env) for _ in range(3)]
    load, threads = None, []
    try:
        for srv in servers:
            srv.start()
        a, victim = servers[0], servers[2]
        tok = a.token("load")
        r = a.post("/webhooks", {"url": f"http://127.0.0.1:{rec.port}/hook",
                                 "events": ["assessment.revised"]}, token=tok)
        check_eq(r.status, 201, f"subscribe: {r}")
        load = Load(tok, [srv.port for srv in servers])
        threads = [threading.Thread(target=load.worker, args=(n,), daemon=True)
                   for n in range(6)]
        for t in threads:
            t.start()
        # Phases end on writes acknowledged, not on time.
        wait_for(lambda: load.acked() >= 40, "40 writes acknowledged before the kill", 60)
        victim.kill9()
        with load.lock:
            load.ports = [srv.port for srv in servers[:2]]
        mark = load.acked()
        wait_for(lambda: load.acked() >= mark + 40, "40 more writes after the kill", 60)
        with load.lock:
            unavailable_before = load.unavailable
        pg.restart()
        mark = load.acked()
        wait_for(lambda: load.acked() >= mark + 40,
                 "40 more writes after PostgreSQL restarted (the instances reconnect)", 60)
        load.stop.set()
        for t in threads:
            t.join(timeout=60)
        check(not any(t.is_alive() for t in threads), "writer threads did not stop")

        acks = list(load.acks)
        check(not load.bad, f"answers other than 200 and 503 with Retry-After: {load.bad[:5]}")
        check_eq(len({rev for rev, _ in acks}), len(acks), "two writes answered one revision")
        revs = all_revisions(a)
        lost = [(rev, why) for rev, why in acks if revs.get(rev) != why]
        check(not lost, f"{len(lost)} acknowledged writes missing from the history: {lost[:5]}")
        check_eq(sorted(revs), list(range(1, len(revs) + 1)), "revision numbers with a gap")

        def seen():
            return rec.keys("assessment.revised", lambda ev: (ev["data"]["current"]["revision"],
                                                              ev["data"].get("reason")))

        wait_for(lambda: set(acks) <= seen(),
                 "every acknowledged write's assessment.revised delivered", 60)
        missing = [ack for ack in acks if ack not in seen()]
        check(not missing, f"{len(missing)} of {len(acks)} acknowledged writes' events never "
                           f"arrived: {missing[:5]}")
        print(f"  acknowledged {len(acks)}, 503 {load.unavailable} "
              f"({load.unavailable - unavailable_before} from the restart on; {load.types}), "
              f"connection failures {load.refused}, revisions {len(revs)}, "
              f"deliveries received {len(rec.requests)}", flush=True)
    finally:
        if load:
            load.stop.set()
        for t in threads:
            t.join(timeout=60)
        for srv in servers:
            if any(srv.procs):
                check_eq(srv.stop(), 0, "exit code on SIGTERM")
            srv.cleanup()
        rec.close()
        pg.drop_database(uri)


if __name__ == "__main__":
    run()
