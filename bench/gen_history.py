#!/usr/bin/env python3
"""gen_history.py: a long revision history for the analysis benchmark of bench/run, loaded
straight into a copy of a database (the server stopped), not through the API: at the API's
~4,000 writes/s a million revisions would take minutes of the benchmark's time on their own.

  bench/gen_history.py DB TOTAL_REVISIONS SPAN_DAYS [SEED]

DB holds roles made by `aijri import` (revision 1 each). The loader moves every role's
revision 1 to the start of a window of SPAN_DAYS ending now, then adds revisions until the
database holds TOTAL_REVISIONS, each to a random role at a random time of the window (a role's
revisions in time order), its published score a random walk of the role's (one decimal,
0..100, zone and a label of that zone), and writes them as the server would: a revision row
with the role's whole JSON and a score block (as revisions store them today), its score history
row with the previous result, and the roles row brought to its last revision. Deterministic for
a SEED. Prints the figures bench/run reports: revisions, database bytes, bytes per revision and
the score history's share.
"""
import math
import random
import sqlite3
import struct
import sys
import time

LABELS = {"green": "Green (Transforming)", "yellow": "Yellow (Moderate)", "red": "Red (Declining)"}
BATCH = 20000


def entry(role_id, rev, score, zone, label, prev_score, prev_zone, prev_label):
    """A score history entry, packed as store/history.c's aijri_history_entry() packs it."""
    lab, plab = label.encode()[:255], (prev_label or "").encode()[:255]
    return (struct.pack("<Bqiddcc", 1, role_id, rev, score,
                        math.nan if prev_score is None else prev_score, zone[0].encode(),
                        prev_zone[0].encode() if prev_zone else b"\0")
            + bytes([len(lab)]) + lab + bytes([len(plab)]) + plab)


def zone_of(score):
    return "green" if score >= 48.0 else "yellow" if score >= 25.0 else "red"


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def main():
    db, total, span_days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 15)
    con = sqlite3.connect(db, isolation_level=None)
    # A bench copy: no journal while it is loaded (the server turns WAL on when it opens it).
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -262144")
    now = int(time.time()) - 60
    start = now - span_days * 86400
    roles = con.execute("SELECT r.id, r.score, v.role_json, v.score_json FROM roles r"
                        " JOIN revisions v ON v.role_id = r.id AND v.revision = 1"
                        " WHERE r.revision = 1 AND r.archived = 0 ORDER BY r.id").fetchall()
    if not roles:
        sys.exit("gen_history: no roles at revision 1 in " + db)
    have = con.execute("SELECT count(*) FROM revisions").fetchone()[0]
    extra = max(0, total - have)
    # The history is a bench copy's: its append-only triggers are set aside while it is made.
    con.execute("BEGIN")
    con.execute("DROP TRIGGER IF EXISTS revisions_no_update")
    con.execute("UPDATE revisions SET created_at = ? WHERE revision = 1", (iso(start),))
    # The score history keeps times in Unix milliseconds (migration 0009).
    con.execute("UPDATE score_history SET at = ? WHERE revision = 1", (start * 1000,))
    con.execute("UPDATE roles SET created_at = ?, updated_at = ?", (iso(start), iso(start)))
    con.execute("CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions BEGIN"
                " SELECT RAISE(ABORT, 'revisions are append-only'); END")
    con.execute("COMMIT")
    # Each extra revision: a role and a time; then per role in time order.
    times = {}
    for _ in range(extra):
        rid = rng.randrange(len(roles))
        times.setdefault(rid, []).append(rng.randint(start + 1, now))
    state = {i: (r[1], zone_of(r[1]), LABELS[zone_of(r[1])], 1) for i, r in enumerate(roles)}
    rows = []
    for i, ts in times.items():
        ts.sort()
        rid, _, role_json, score_json = roles[i]
        score, zone, label, rev = state[i]
        for t in ts:
            new = round(min(100.0, max(0.0, score + rng.uniform(-3.0, 3.0))), 1)
            z = zone_of(new)
            rows.append((t, rid, rev + 1, new, z, LABELS[z], score, zone, label, role_json,
                         score_json))
            score, zone, label, rev = new, z, LABELS[z], rev + 1
        state[i] = (score, zone, label, rev)
    rows.sort()
    t0 = time.time()
    for at in range(0, len(rows), BATCH):
        chunk = rows[at:at + BATCH]
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO revisions (role_id, revision, role_json, score_json, score, zone, label,"
            " reason, changed_json, actor, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'bench history', '[\"evidence.wage_trends\"]',"
            " 'bench', ?)",
            [(r[1], r[2], r[9], r[10], r[3], r[4], r[5], iso(r[0])) for r in chunk])
        con.executemany(
            "INSERT INTO score_history (at, role_id, revision, entry) VALUES (?, ?, ?, ?)",
            [(r[0] * 1000, r[1], r[2], entry(*r[1:9])) for r in chunk])
        con.execute("COMMIT")
    con.execute("BEGIN")
    last = {}
    for r in rows:
        last[r[1]] = r
    con.executemany("UPDATE roles SET score = ?, zone = ?, label = ?, revision = ?, updated_at = ?"
                    " WHERE id = ?", [(r[3], r[4], r[5], r[2], iso(r[0]), rid)
                                      for rid, r in last.items()])
    con.execute("COMMIT")
    n = con.execute("SELECT count(*) FROM revisions").fetchone()[0]
    pages, psize = con.execute("PRAGMA page_count").fetchone()[0], \
        con.execute("PRAGMA page_size").fetchone()[0]
    hist = con.execute("SELECT sum(pgsize) FROM dbstat WHERE name = 'score_history'").fetchone()[0]
    con.close()
    print(f"revisions {n}")
    print(f"roles {len(roles)}")
    print(f"span_days {span_days}")
    print(f"load_seconds {time.time() - t0:.1f}")
    print(f"db_bytes {pages * psize}")
    print(f"bytes_per_revision {pages * psize / n:.0f}")
    print(f"score_history_bytes_per_revision {(hist or 0) / n:.1f}")
    print(f"window_start {start}")
    print(f"window_end {now}")


if __name__ == "__main__":
    main()
