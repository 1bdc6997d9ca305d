"""pgcluster.py: a throwaway PostgreSQL cluster for the Python tests, on tests/pg/cluster.sh.

    sys.path.insert(0, os.path.join(ROOT, "tests", "pg"))
    from pgcluster import Cluster

    with Cluster.shared() as pg:       # the run's cluster (AIJRI_TEST_PG), else one of its own
        uri = pg.new_database()          # a fresh, empty database: its URI, for --db
        ...
        pg.drop_database(uri)            # also closes sessions still on it

tests/all starts one cluster for every tier and exports its URI as AIJRI_TEST_PG; a test run
alone starts its own and stops it when the `with` block ends. Only a cluster this object started
may be restarted (restart(): an immediate stop, as a crash would, then a start on the same
port), taken down and brought up again (down(), up(): the same in two steps) or stopped. SQL goes through psql (Debian's postgresql-client), so the tests need no
Python driver.

`python3 tests/pg/pgcluster.py` checks the helper itself and prints a RESULT line.
"""
import glob
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER_SH = os.path.join(HERE, "cluster.sh")
_names = itertools.count(1)


def _psql_path():
    found = shutil.which("psql")
    if found:
        return found
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    if not cands:
        raise RuntimeError("no psql (apt-get install postgresql-client)")
    return cands[-1]


def with_dbname(uri, dbname):
    """The URI with another database: a dbname query parameter, which libpq lets override the
    path's."""
    sep = "&" if "?" in uri else "?"
    return f"{uri}{sep}dbname={urllib.parse.quote(dbname)}"


class Cluster:
    def __init__(self, uri, directory=None):
        self.uri = uri              # the cluster's maintenance database (postgres)
        self.dir = directory        # set when this object started the cluster
        self.psql_bin = _psql_path()

    @classmethod
    def start(cls, port=None):
        """Starts a cluster of our own in a new temporary directory."""
        directory = tempfile.mkdtemp(prefix="aijri-pg-")
        argv = ["bash", CLUSTER_SH, "start", directory] + ([str(port)] if port else [])
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=180)
        if p.returncode != 0:
            subprocess.run(["bash", CLUSTER_SH, "stop", directory], timeout=120)
            raise RuntimeError(f"the PostgreSQL cluster did not start: {p.stderr.strip()}")
        return cls(p.stdout.strip().splitlines()[-1], directory)

    @classmethod
    def shared(cls):
        """The run's cluster when tests/all started one, else a cluster of our own."""
        uri = os.environ.get("AIJRI_TEST_PG")
        return cls(uri) if uri else cls.start()

    @property
    def owned(self):
        return self.dir is not None

    def port(self):
        return urllib.parse.urlsplit(self.uri).port

    def psql(self, sql, dbname=None):
        """Runs SQL (stops at the first error) and returns psql's unaligned output."""
        uri = with_dbname(self.uri, dbname) if dbname else self.uri
        p = subprocess.run([self.psql_bin, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-d", uri, "-c", sql],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f"psql: {sql}: {p.stderr.strip()}")
        return p.stdout.strip()

    def new_database(self, prefix="aijri_test"):
        """Creates a fresh database with a name no other test uses; returns its URI."""
        name = f"{prefix}_{os.getpid()}_{next(_names)}"
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.psql(f"CREATE DATABASE {name}")
        return with_dbname(self.uri, name)

    def drop_database(self, uri_or_name):
        name = uri_or_name
        if "://" in uri_or_name:
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(uri_or_name).query)
            name = q["dbname"][-1]
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def restart(self):
        """Crashes the server (immediate stop) and starts it again on the same port."""
        if not self.owned:
            raise RuntimeError("only a cluster this test started may be restarted")
        subprocess.run(["bash", CLUSTER_SH, "restart", self.dir], check=True, timeout=180)

    def down(self):
        """Crashes the server (immediate stop) and leaves it down, until up()."""
        if not self.owned:
            raise RuntimeError("only a cluster this test started may be stopped")
        subprocess.run(["bash", CLUSTER_SH, "down", self.dir], check=True, timeout=180)

    def up(self):
        """Starts a server that down() stopped, on the same port."""
        if not self.owned:
            raise RuntimeError("only a cluster this test started may be started")
        subprocess.run(["bash", CLUSTER_SH, "up", self.dir], check=True, timeout=180)

    def stop(self):
        if self.owned:
            subprocess.run(["bash", CLUSTER_SH, "stop", self.dir], timeout=120)
            self.dir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def _self_test():
    passed = failed = 0

    def check(cond, msg):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            print(f"FAIL pgcluster: {msg}", flush=True)

    with Cluster.shared() as pg:
        check(pg.psql("SELECT 1") == "1", "SELECT 1 on the maintenance database")
        a, b = pg.new_database(), pg.new_database()
        check(a != b, f"two fresh databases: {a} {b}")
        pg.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (7)", dbname=a.split("dbname=")[-1])
        check(pg.psql("SELECT current_database()", dbname=b.split("dbname=")[-1]) in b,
              "the URI names the database")
        check(pg.psql("SELECT count(*) FROM pg_tables WHERE tablename = 't'",
                      dbname=b.split("dbname=")[-1]) == "0", "a fresh database is empty")
        check(pg.psql("SHOW lc_collate") == "C", "C collation, as SQLite sorts")
        pg.drop_database(a)
        pg.drop_database(b)
        gone = pg.psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'aijri_test_%s_%%'"
                       % os.getpid())
        check(gone == "0", f"databases dropped: {gone} left")
    # Our own, with a crash and a restart: what it committed is still there.
    with Cluster.start() as own:
        db = own.new_database()
        name = db.split("dbname=")[-1]
        own.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (1)", dbname=name)
        own.restart()
        check(own.psql("SELECT count(*) FROM t", dbname=name) == "1",
              "a committed row survives an immediate stop")
        directory = own.dir
    check(not os.path.exists(directory), "stop removes the cluster's directory")
    print(f"RESULT passed={passed} failed={failed}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_self_test())
