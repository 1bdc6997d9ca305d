"""The store's commands on real database files: `aijri token` and `aijri migrate`."""
import hashlib
import os
import shutil
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import check, check_eq, run, run_cli, test  # noqa: E402


def _tmpdb():
    d = tempfile.mkdtemp(prefix="aijri-cli-")
    return d, os.path.join(d, "aijri.db")


def _db_bytes(path):
    """The database and its WAL, where a committed row lives until a checkpoint."""
    data = b""
    for p in (path, path + "-wal"):
        if os.path.exists(p):
            with open(p, "rb") as f:
                data += f.read()
    return data


@test
def token_create_prints_token_and_stores_hash_only():
    d, db = _tmpdb()
    try:
        p = run_cli("token", "create", "ci-bot", db=db, check_rc=0)
        lines = p.stdout.decode().splitlines()
        check(len(lines) >= 1, "no output")
        token = lines[-1]
        check(token.startswith("aijri_") and len(token) >= 6 + 43, f"token {token!r}")
        check(token.strip() == token and " " not in token, "token not alone on its line")
        check(token not in p.stderr.decode(), "token printed to stderr")
        check(token.encode() not in _db_bytes(db), "the token text is in the database")
        con = sqlite3.connect(db)
        rows = con.execute("SELECT name, hash FROM tokens").fetchall()
        con.close()
        check_eq(rows, [("ci-bot", hashlib.sha256(token.encode()).digest())], "stored row")

        p2 = run_cli("token", "create", "other", db=db, check_rc=0)
        check(p2.stdout.decode().splitlines()[-1] != token, "two tokens are equal")
    finally:
        shutil.rmtree(d, ignore_errors=True)


@test
def token_duplicate_list_revoke():
    d, db = _tmpdb()
    try:
        token = run_cli("token", "create", "ci", db=db, check_rc=0).stdout.decode().splitlines()[-1]
        p = run_cli("token", "create", "ci", db=db)
        check_eq(p.returncode, 1, "duplicate exit code")
        check(b"exists" in p.stderr, f"duplicate message: {p.stderr!r}")

        p = run_cli("token", "list", db=db, check_rc=0)
        out = p.stdout.decode()
        check("ci" in out and "live" in out, f"list: {out!r}")
        check(token not in out and token[6:] not in out, "list shows the token")

        run_cli("token", "revoke", "ci", db=db, check_rc=0)
        out = run_cli("token", "list", db=db, check_rc=0).stdout.decode()
        check("revoked" in out, f"list after revoke: {out!r}")
        p = run_cli("token", "revoke", "ci", db=db)
        check_eq(p.returncode, 1, "second revoke exit code")
        p = run_cli("token", "revoke", "nobody", db=db)
        check_eq(p.returncode, 1, "unknown revoke exit code")
    finally:
        shutil.rmtree(d, ignore_errors=True)


@test
def token_usage_errors():
    d, db = _tmpdb()
    try:
        for args in (("token",), ("token", "create"), ("token", "create", "bad name"),
                     ("token", "create", "x" * 65), ("token", "frobnicate"),
                     ("token", "create", "")):
            p = run_cli(*args, db=db)
            check_eq(p.returncode, 2, f"{args} exit code")
        run_cli("token", "create", "x" * 64, db=db, check_rc=0)
        run_cli("token", "create", "a.b_c-D9", db=db, check_rc=0)
    finally:
        shutil.rmtree(d, ignore_errors=True)


@test
def migrate_reports_version_and_is_idempotent():
    d, db = _tmpdb()
    try:
        p = run_cli("migrate", db=db, check_rc=0)
        line = p.stdout.decode().strip()
        parts = line.split()
        check(len(parts) == 5 and parts[:2] == ["schema", "version"], f"output {line!r}")
        n = int(parts[2])
        check_eq(line, f"schema version {n} (latest {n})", "first migrate")
        con = sqlite3.connect(db)
        check_eq(con.execute("PRAGMA user_version").fetchone()[0], n, "user_version")
        schema = con.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        con.close()
        p = run_cli("migrate", db=db, check_rc=0)
        check_eq(p.stdout.decode().strip(), line, "second migrate")
        con = sqlite3.connect(db)
        check_eq(con.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall(),
                 schema, "schema after the second migrate")
        con.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)


@test
def migrate_refuses_newer_database():
    d, db = _tmpdb()
    try:
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE future (x)")
        con.execute("INSERT INTO future VALUES (1)")
        con.execute("PRAGMA user_version = 999")
        con.commit()
        con.close()
        with open(db, "rb") as f:
            before = f.read()
        p = run_cli("migrate", db=db)
        check(p.returncode != 0, "migrate accepted a newer database")
        err = p.stderr.decode()
        check("999" in err and "newer" in err, f"message: {err!r}")
        with open(db, "rb") as f:
            check(f.read() == before, "the database file changed")
        p = run_cli("token", "create", "x", db=db)
        check_eq(p.returncode, 1, "token create on a newer database")
        with open(db, "rb") as f:
            check(f.read() == before, "the database file changed after token create")
    finally:
        shutil.rmtree(d, ignore_errors=True)


run()
