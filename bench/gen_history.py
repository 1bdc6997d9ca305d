#!/usr/bin/env python3
"""gen_history.py: a long revision history for the analysis and history benchmarks of
bench/run, loaded straight into a copy of a database (the server stopped), not through the
API: at the API's ~4,000 writes/s a million revisions would take minutes of the benchmark's
time on their own.

  bench/gen_history.py DB TOTAL_REVISIONS SPAN_DAYS [SEED]

DB holds roles made by `aijri import` (revision 1 each). The loader moves every role's
revision 1 to the start of a window of SPAN_DAYS ending now, then adds revisions until the
database holds TOTAL_REVISIONS, each to a random role at a random time of the window (a role's
revisions in time order), each a one-dimension evidence change (wage_trends: a new score,
rationale and as_of), its published score a random walk of the role's (one decimal, 0..100,
zone and a label of that zone), and writes them as the server would (migration 0007): the
new evidence dimension as a piece of its own, the revision row with its manifest (the ids of
its pieces, store/pieces.c) and its score block (a role's last revision with its body whole,
which revision 1 then drops), its score history row with the previous result, and the roles
row brought to its last revision. Deterministic for a
SEED. Prints the figures bench/run reports: revisions, database bytes, bytes per revision
(all of the database, and what the added revisions cost: the growth of the file divided by
their number), what the same revisions would have stored whole (their role JSON and score
block, before 0007) and the score history's share.
"""
import hashlib
import json
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


PIECES_DEPTH = 3


def split(t):
    """The pieces of a body's text (bytes), cut as store/pieces.c cuts them."""
    cuts, start, depth, in_str, want_key, esc = [], 0, 0, False, False, False
    cut_here = [False] * PIECES_DEPTH
    for i, ch in enumerate(t):
        if in_str:
            if esc:
                esc = False
            elif ch == 0x5c:
                esc = True
            elif ch == 0x22:
                in_str = False
            continue
        if ch == 0x22:
            if want_key and i > start:
                cuts.append(t[start:i])
                start = i
            want_key, in_str = False, True
        elif ch in (0x7b, 0x5b):
            cut = ch == 0x7b and depth < PIECES_DEPTH and (depth == 0 or cut_here[depth - 1])
            if depth < PIECES_DEPTH:
                cut_here[depth] = cut
            depth += 1
            want_key = cut
        elif ch in (0x7d, 0x5d):
            depth = max(0, depth - 1)
            want_key = False
        elif ch == 0x2c:
            want_key = 0 < depth <= PIECES_DEPTH and cut_here[depth - 1]
    if len(t) > start:
        cuts.append(t[start:])
    return cuts


def piece_hash(b):
    return int.from_bytes(hashlib.sha256(b).digest()[:8], "big", signed=True)


def manifest(ids):
    """A manifest as store/pieces.c writes it: format 1, zigzag deltas as varints."""
    out, last = bytearray([1]), 0
    for i in ids:
        d = i - last
        v = (d << 1) ^ (d >> 63) if d < 0 else d << 1
        v &= (1 << 64) - 1
        while True:
            byte = v & 0x7f
            v >>= 7
            out.append(byte | (0x80 if v else 0))
            if not v:
                break
        last = i
    return bytes(out)


def unmanifest(m):
    ids, last, i = [], 0, 1
    while i < len(m):
        v, shift = 0, 0
        while True:
            v |= (m[i] & 0x7f) << shift
            shift += 7
            i += 1
            if not m[i - 1] & 0x80:
                break
        last += (v >> 1) ^ -(v & 1)
        ids.append(last)
    return ids


class Pieces:
    """The pieces table: new ones are numbered on from the largest id and inserted in bulk."""

    def __init__(self, con):
        self.by_body = {bytes(b): i for i, b in con.execute("SELECT id, body FROM pieces")}
        self.next = (con.execute("SELECT max(id) FROM pieces").fetchone()[0] or 0) + 1
        self.new = []

    def id(self, body):
        i = self.by_body.get(body)
        if i is None:
            i = self.by_body[body] = self.next
            self.next += 1
            self.new.append((i, piece_hash(body), body))
        return i

    def flush(self, con):
        con.executemany("INSERT INTO pieces (id, hash, body) VALUES (?, ?, ?)", self.new)
        self.new = []


def dimension_piece(piece, rng, rev, t):
    """A new text for the piece of one evidence dimension: another score, rationale, as_of."""
    key, _, rest = piece.decode().partition(":")
    value, end = json.JSONDecoder().raw_decode(rest)
    value["score"] = rng.randint(-2, 2)
    value["rationale"] = f"bench revision {rev}: wage data of {iso(t)[:10]}, premiums moving"
    value["as_of"] = iso(t)[:10]
    return (key + ":" + json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            + rest[end:]).encode()


def score_block(base, rev, t, score, zone, label):
    b = json.loads(base)
    b.update(score=score, zone=zone, label=label, revision=rev, updated_at=iso(t))
    if isinstance(b.get("formula"), dict):
        b["formula"] = {"score": score, "zone": zone, "label": label}
    return json.dumps(b, separators=(",", ":"), ensure_ascii=False)


def load_roles(con):
    """Each live role at revision 1: id, score, body, score block, its pieces' ids, and the
    place of its wage_trends piece."""
    out = []
    for rid, score, text, sj, m in con.execute(
            "SELECT r.id, r.score, v.role_json, v.score_json, v.body FROM roles r"
            " JOIN revisions v ON v.role_id = r.id AND v.revision = 1"
            " WHERE r.revision = 1 AND r.archived = 0 ORDER BY r.id"):
        cuts = split(text.encode())
        ids = unmanifest(bytes(m))
        if len(ids) != len(cuts):
            sys.exit(f"gen_history: role {rid}: its manifest does not match its body")
        wage = next(i for i, c in enumerate(cuts) if c.startswith(b'"wage_trends":'))
        out.append((rid, score, cuts, ids, wage, sj))
    return out


def db_bytes(con):
    return (con.execute("PRAGMA page_count").fetchone()[0]
            * con.execute("PRAGMA page_size").fetchone()[0])


def plan(roles, extra, start, now, rng):
    """The added revisions, each (time, role index, revision, score, zone, label, previous
    score, zone, label), in time order."""
    times = {}
    for _ in range(extra):
        times.setdefault(rng.randrange(len(roles)), []).append(rng.randint(start + 1, now))
    rows = []
    for i, ts in times.items():
        ts.sort()
        score = roles[i][1]
        zone, rev = zone_of(score), 1
        label = LABELS[zone]
        for t in ts:
            new = round(min(100.0, max(0.0, score + rng.uniform(-3.0, 3.0))), 1)
            z = zone_of(new)
            rows.append((t, i, rev + 1, new, z, LABELS[z], score, zone, label))
            score, zone, label, rev = new, z, LABELS[z], rev + 1
    rows.sort()
    return rows


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
    roles = load_roles(con)
    if not roles:
        sys.exit("gen_history: no roles at revision 1 in " + db)
    have = con.execute("SELECT count(*) FROM revisions").fetchone()[0]
    extra = max(0, total - have)
    # The history is a bench copy's: its append-only triggers are set aside while it is made.
    con.execute("BEGIN")
    triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                           " AND tbl_name = 'revisions'").fetchall()
    for name, _ in triggers:
        con.execute(f"DROP TRIGGER {name}")
    con.execute("UPDATE revisions SET created_at = ? WHERE revision = 1", (iso(start),))
    # The score history keeps times in Unix milliseconds (migration 0009).
    con.execute("UPDATE score_history SET at = ? WHERE revision = 1", (start * 1000,))
    con.execute("UPDATE roles SET created_at = ?, updated_at = ?", (iso(start), iso(start)))
    for _, sql in triggers:
        con.execute(sql)
    con.execute("COMMIT")
    rows = plan(roles, extra, start, now, rng)
    final = {(r[1], r[2]) for r in {r[1]: r for r in rows}.values()}  # each role's last
    before = db_bytes(con)
    # Revision 1 of each role written to is no longer current: its whole body goes first (its
    # pieces keep it), as a write drops it, so that the freed pages are used again by what
    # follows, as they are under writes, and the last revision keeps the body whole.
    con.execute("BEGIN")
    con.executemany("UPDATE revisions SET role_json = NULL WHERE role_id = ? AND revision = 1",
                    [(roles[i][0],) for i in {r[1] for r in rows}])
    con.execute("COMMIT")
    pieces = Pieces(con)
    cur = {}     # role index -> (its pieces' texts, ids), as its last revision left them
    whole = 0    # what the added revisions would have stored whole
    t0 = time.time()
    for at in range(0, len(rows), BATCH):
        revs, hist = [], []
        for t, i, rev, score, zone, label, ps, pz, pl in rows[at:at + BATCH]:
            rid, _, cuts, ids, wage, sj = roles[i]
            cuts, ids = cur.get(i, (cuts, ids))
            cuts, ids = list(cuts), list(ids)
            cuts[wage] = dimension_piece(cuts[wage], rng, rev, t)
            ids[wage] = pieces.id(cuts[wage])
            block = score_block(sj, rev, t, score, zone, label)
            cur[i] = (cuts, ids)
            whole += sum(len(c) for c in cuts) + len(block.encode())
            text = b"".join(cuts).decode() if (i, rev) in final else None
            revs.append((rid, rev, manifest(ids), block, score, zone, label, iso(t), text))
            # The score history keeps times in Unix milliseconds (migration 0009).
            hist.append((t * 1000, rid, rev, entry(rid, rev, score, zone, label, ps, pz, pl)))
        con.execute("BEGIN")
        pieces.flush(con)
        con.executemany(
            "INSERT INTO revisions (role_id, revision, body, score_json, score, zone, label,"
            " reason, changed_json, actor, created_at, role_json)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'bench history', '[\"evidence.wage_trends\"]',"
            " 'bench', ?, ?)", revs)
        con.executemany(
            "INSERT INTO score_history (at, role_id, revision, entry) VALUES (?, ?, ?, ?)", hist)
        con.execute("COMMIT")
    last = {}
    for r in rows:
        last[r[1]] = r
    con.execute("BEGIN")
    con.executemany("UPDATE roles SET score = ?, zone = ?, label = ?, revision = ?, updated_at = ?"
                    " WHERE id = ?", [(r[3], r[4], r[5], r[2], iso(r[0]), roles[i][0])
                                      for i, r in last.items()])
    con.execute("COMMIT")
    n = con.execute("SELECT count(*) FROM revisions").fetchone()[0]
    after = db_bytes(con)
    hist = con.execute("SELECT sum(pgsize) FROM dbstat WHERE name = 'score_history'").fetchone()[0]
    con.close()
    added = max(1, len(rows))
    print(f"revisions {n}")
    print(f"roles {len(roles)}")
    print(f"span_days {span_days}")
    print(f"load_seconds {time.time() - t0:.1f}")
    print(f"db_bytes {after}")
    print(f"db_bytes_before_history {before}")
    print(f"bytes_per_revision {after / n:.0f}")
    print(f"bytes_per_added_revision {(after - before) / added:.0f}")
    print(f"whole_bytes_per_added_revision {whole / added:.0f}")
    print(f"score_history_bytes_per_revision {(hist or 0) / n:.1f}")
    print(f"window_start {start}")
    print(f"window_end {now}")


if __name__ == "__main__":
    main()
