"""API tests of what analysts, assessors and readers come for beyond one role's score
(API.md "Codes, evidence recency" and "Analysis"): SOC and ISCO codes (in the body, lists,
filters, exports and imports), evidence as_of and stale (given or dated by the revision,
round-tripping through GET and PUT, GET /roles?stale=true, the stale-after setting, ETags and
the server's cache across midnight), GET /movers, GET /roles/{slug}/neighbours, GET /stats and
POST /roles/{slug}/what-if, each with its bad input refused by a 422 naming the parameter.
Run: AIJRI_BIN=bin/aijri python3 tests/api/test_analysis.py [test_name...]
"""
import copy
import csv
import datetime
import email.utils
import html.parser
import io
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import BIN, Server, check, check_eq, run, run_cli, one_instance, seed_role, sqlite_only, test  # noqa: E402

SLUG = "edge-ai-engineer"
EVIDENCE = ["job_posting_trends", "company_actions", "wage_trends", "ai_tool_maturity",
            "expert_consensus"]
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"

# The members of a role body that a PUT replaces (a GET adds the score block and times).
BODY_KEYS = ("title", "aliases", "seniority", "category", "primary_function", "not_this_role",
             "typical_experience", "codes", "summary", "seniority_note", "commentary", "sources",
             "resources", "assessment")


def is_422(r, field, msg):
    """A validation problem that names field among its errors."""
    ok = check_eq(r.status, 422, f"{msg}: status ({r.body[:300]!r})")
    j = r.json or {}
    check_eq((r.header("content-type") or "").split(";")[0], "application/problem+json",
             f"{msg}: problem type")
    fields = [e.get("field") for e in j.get("errors", [])]
    check(field in fields, f"{msg}: errors name {field}: {fields}")
    return ok


KEEP = object()


def role_body(slug, title, task_scores=(2, 2, 2, 3, 3, 2, 4, 1), growth=1, category=KEEP,
              codes=KEEP, evidence=None):
    """A role body from the seed's, with its own slug, title and task scores."""
    b = seed_role()
    b["slug"], b["title"] = slug, title
    b.pop("aliases", None)
    for t, s in zip(b["assessment"]["tasks"], task_scores):
        t["score"] = s
    b["assessment"]["growth"]["score"] = growth
    if category is not KEEP:
        b["category"] = category
    if codes is not KEEP:
        b["codes"] = codes
    for name, fields in (evidence or {}).items():
        b["assessment"]["evidence"][name].update(fields)
    return b


def day(s):
    return datetime.date.fromisoformat(s[:10])


def days_ago(today, n):
    return (today - datetime.timedelta(days=n)).isoformat()


def evidence_has_no_stale(assessment, msg):
    for name, d in (assessment or {}).get("evidence", {}).items():
        check("stale" not in d, f"{msg}: stale inside the body's evidence.{name}")


# ---------------------------------------------------------------- codes

@test
def codes_in_body_lists_filters_exports():
    with Server() as s:
        tok = s.token()
        g = s.get(f"/roles/{SLUG}").json
        check_eq(g.get("codes"), {"soc": ["15-1252.00"], "isco": ["2512"]}, "seed's codes")
        item = s.get("/roles").json["items"][0]
        check_eq(item.get("codes"), {"soc": ["15-1252.00"], "isco": ["2512"]}, "codes in list")

        b = role_body("nurse", "Registered Nurse", codes={"soc": ["29-1141", "29-1141.01"],
                                                          "isco": ["2221"]})
        r = s.post("/roles", b, token=tok)
        check_eq(r.status, 201, f"create with codes {r.body[:200]!r}")
        check_eq(s.get("/roles/nurse").json.get("codes"),
                 {"soc": ["29-1141", "29-1141.01"], "isco": ["2221"]}, "codes stored")
        b2 = role_body("plain", "Plain Role")
        b2.pop("codes", None)
        # Descriptive texts left null: the export's line and the revision say so as null (the
        # answers are held to the document at the end of the run).
        for k in ("seniority", "category", "primary_function", "not_this_role"):
            b2[k] = None
        check_eq(s.post("/roles", b2, token=tok).status, 201, "create without codes")
        check_eq(s.get("/roles/plain/revisions/1").json["role"].get("primary_function"), None,
                 "a null text in a revision")
        check_eq(s.get("/roles/plain").json.get("codes"), {"soc": [], "isco": []},
                 "no codes: both empty")

        def slugs(q):
            r = s.get("/roles?" + q)
            check_eq(r.status, 200, f"{q} status")
            return sorted(i["slug"] for i in (r.json or {}).get("items", []))

        check_eq(slugs("soc=15-1252"), [SLUG], "soc prefix 15-1252")
        check_eq(slugs("soc=15-1252.00"), [SLUG], "O*NET-SOC code")
        check_eq(slugs("soc=29-1141.01"), ["nurse"], "second code of a role")
        check_eq(slugs("soc=2"), ["nurse"], "major group prefix")
        check_eq(slugs("soc=15-2"), [], "no match")
        check_eq(slugs("isco=2"), [SLUG, "nurse"], "isco major group")
        check_eq(slugs("isco=25"), [SLUG], "isco sub-major group")
        check_eq(slugs("isco=2221"), ["nurse"], "isco unit group")
        check_eq(slugs("isco=2&soc=29"), ["nurse"], "both filters")
        r = s.get("/roles?soc=29&limit=1&offset=0&sort=score")
        check("soc=29" in (r.header("link") or "") or r.json["links"]["next"] is None,
              "pagination keeps the filter")
        # The HTML index takes the same filters and keeps them in its links and its form.
        page = s.get("/?isco=2&stale=false&limit=1", headers={"Accept": "text/html"})
        check_eq(page.status, 200, "index with the code and stale filters")
        html = page.body.decode()
        check('href="/?isco=2&amp;stale=false&amp;limit=1&amp;offset=1"' in html,
              "the index's next link keeps isco and stale")
        check('<input type="hidden" name="isco" value="2">' in html and
              '<input type="hidden" name="stale" value="false">' in html,
              "the index's search form keeps isco and stale")
        check("2 roles match" in html, "the index counts the matches")
        page = s.get("/roles/nurse", headers={"Accept": "text/html"}).body.decode()
        check("<th scope=\"row\">SOC / O*NET-SOC Codes</th><td class=\"pl\">29-1141, 29-1141.01"
              in page and "<th scope=\"row\">ISCO-08 Codes</th><td class=\"pl\">2221" in page,
              "the role page shows the codes")
        is_422(s.get("/?soc=x", headers={"Accept": "text/html"}), "soc", "GET /?soc=x")
        for q, field in (("soc=15_1252", "soc"), ("soc=15-1252.000", "soc"), ("soc=", "soc"),
                         ("soc=a", "soc"), ("isco=12345", "isco"), ("isco=2x", "isco"),
                         ("isco=", "isco")):
            is_422(s.get("/roles?" + q), field, f"GET /roles?{q}")

        # A change of codes alone is a revision naming "codes", with the score unchanged.
        g = s.get("/roles/nurse").json
        body = {k: g[k] for k in BODY_KEYS if k != "codes"}
        body["codes"] = {"soc": ["29-1141.00"], "isco": ["2221", "3221"]}
        r = s.put("/roles/nurse", body, token=tok)
        check_eq((r.status, (r.json or {}).get("changes"), (r.json or {}).get("score_changed")),
                 (200, ["codes"], False), "codes changed")
        body["codes"] = {"soc": ["29-1141.00"], "isco": ["2221", "3221"]}
        check_eq((s.put("/roles/nurse", body, token=tok).json or {}).get("changed"), False,
                 "same codes again: no revision")

        r = s.get("/export?format=ndjson")
        lines = [json.loads(x) for x in r.body.decode().splitlines() if x.strip()]
        by = {x["slug"]: x for x in lines}
        check_eq(by["nurse"].get("codes"), {"soc": ["29-1141.00"], "isco": ["2221", "3221"]},
                 "codes in the NDJSON export")
        for x in lines:
            evidence_has_no_stale(x.get("assessment"), "NDJSON export")
        rows = list(csv.DictReader(io.StringIO(s.get("/export?format=csv").body.decode())))
        rb = {x["slug"]: x for x in rows}
        check_eq((rb["nurse"]["soc"], rb["nurse"]["isco"]), ("29-1141.00", "2221;3221"),
                 "codes in the CSV export")
        check_eq((rb["plain"]["soc"], rb["plain"]["isco"]), ("", ""), "no codes in the CSV")
        export = r.body
    # The export imports into a new database with its codes and as_of dates.
    tmp = Server()
    try:
        path = os.path.join(tmp.tmp, "roles.ndjson")
        with open(path, "wb") as f:
            f.write(export)
        run_cli("import", path, db=tmp.db, check_rc=0)
        with tmp:
            g = tmp.get("/roles/nurse").json
            check_eq(g.get("codes"), {"soc": ["29-1141.00"], "isco": ["2221", "3221"]},
                     "codes imported")
            src = by["nurse"]["assessment"]["evidence"]
            check_eq([g["assessment"]["evidence"][n].get("as_of") for n in EVIDENCE],
                     [src[n].get("as_of") for n in EVIDENCE], "as_of imported as exported")
    finally:
        tmp.cleanup()


@test
def codes_refused_by_name():
    with Server() as s:
        tok = s.token()
        cases = [
            ({"soc": ["15-125"]}, "codes.soc[0]"),
            ({"soc": ["15-1252", "151252"]}, "codes.soc[1]"),
            ({"soc": ["15-1252.0"]}, "codes.soc[0]"),
            ({"soc": ["15-1252", "15-1252"]}, "codes.soc[1]"),
            ({"soc": "15-1252"}, "codes.soc"),
            ({"isco": ["25123"]}, "codes.isco[0]"),
            ({"isco": [2512]}, "codes.isco[0]"),
            ({"isco": [""]}, "codes.isco[0]"),
            ({"esco": ["x"]}, "codes.esco"),
            (["15-1252"], "codes"),
            ({"soc": ["15-1252.%02d" % i for i in range(21)]}, "codes.soc"),
        ]
        for codes, field in cases:
            r = s.post("/roles", role_body("bad-codes", "Bad", codes=codes), token=tok)
            is_422(r, field, f"codes {codes}")
        check_eq(s.get("/roles/bad-codes").status, 404, "nothing was written")
        check_eq(s.post("/roles", role_body("null-codes", "Null", codes=None), token=tok).status,
                 201, "codes null: none")
        r = s.post("/score", {"assessment": seed_role()["assessment"],
                              "codes": {"soc": ["x"]}})
        is_422(r, "codes.soc[0]", "POST /score checks codes too")


# ---------------------------------------------------------------- evidence recency

@test
def as_of_given_dated_and_round_tripped():
    with Server() as s:
        tok = s.token()
        g = s.get(f"/roles/{SLUG}").json
        today = day(g["created_at"])
        check_eq([g["assessment"]["evidence"][n].get("as_of") for n in EVIDENCE],
                 [today.isoformat()] * 5, "the seed's dimensions date from its revision")
        check_eq(g.get("stale"), False, "nothing stale")
        check_eq(sorted(g.get("recency", {})), sorted(EVIDENCE), "recency per dimension")
        evidence_has_no_stale(g.get("assessment"), "role read")

        old = days_ago(today, 400)
        r = s.post(f"/roles/{SLUG}/evidence",
                   {"dimensions": {"wage_trends": {"score": 2, "as_of": old}}}, token=tok)
        check_eq((r.status, (r.json or {}).get("changes")), (200, ["evidence.wage_trends"]),
                 "evidence with its as_of")
        ev = s.get(f"/roles/{SLUG}/evidence")
        j = ev.json
        check_eq(j["evidence"]["wage_trends"].get("as_of"), old, "as_of as given")
        check_eq(j["recency"]["wage_trends"], {"as_of": old, "stale": True}, "stale dimension")
        check_eq(j["recency"]["company_actions"], {"as_of": today.isoformat(), "stale": False},
                 "fresh dimension")
        check_eq(j.get("stale"), True, "evidence read: stale")
        check_eq(ev.header("etag"), '"r2-s4"', "the tag names the stale dimensions")
        # The evidence read shows each dimension's flag in the dimension too (API.md: "as_of
        # and stale per dimension"); the role read keeps its body as it can be sent back.
        check_eq({n: j["evidence"][n].get("stale") for n in EVIDENCE},
                 {n: j["recency"][n]["stale"] for n in EVIDENCE}, "stale in each dimension")
        # What the evidence read shows can be sent back: the flag is read-only and ignored.
        r = s.post(f"/roles/{SLUG}/evidence",
                   {"dimensions": {"wage_trends": j["evidence"]["wage_trends"]}}, token=tok)
        check_eq((r.status, (r.json or {}).get("changed")), (200, False),
                 "a dimension sent back as read, stale flag and all")
        is_422(s.post(f"/roles/{SLUG}/evidence",
                      {"dimensions": {"wage_trends": {"stale": "no"}}}, token=tok),
               "dimensions.wage_trends.stale", "a stale flag that is not a boolean")
        g = s.get(f"/roles/{SLUG}")
        check_eq((g.json.get("stale"), g.header("etag")), (True, '"r2-s4"'), "role read: stale")
        check_eq(s.get(f"/roles/{SLUG}/score").header("etag"), '"r2"', "the score's tag: r2")
        check_eq(s.get(f"/roles/{SLUG}/evidence", headers={"If-None-Match": '"r2-s4"'}).status,
                 304, "If-None-Match with the stale tag")
        check_eq(s.get(f"/roles/{SLUG}/evidence", headers={"If-None-Match": '"r2"'}).status,
                 200, "the tag without the flags is another representation")
        lst = s.get("/roles?stale=true").json
        check_eq([i["slug"] for i in lst["items"]], [SLUG], "listed as stale")
        check_eq(lst["items"][0].get("stale"), True, "list item stale")
        check_eq(s.get("/roles?stale=false").json["total"], 0, "not among the fresh")
        is_422(s.get("/roles?stale=yes"), "stale", "stale=yes")

        # If-Match accepts the read's tag, with or without the flags.
        r = s.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {"rationale": "x"}}},
                   token=tok, headers={"If-Match": '"r2-s4"'})
        check_eq(r.status, 200, "If-Match with the stale tag")
        # A change without as_of dates the dimension to the revision.
        j = s.get(f"/roles/{SLUG}/evidence").json
        check_eq(j["evidence"]["wage_trends"].get("as_of"), today.isoformat(),
                 "changed without as_of: the revision's date")
        check_eq(j.get("stale"), False, "fresh again")
        r = s.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {"rationale": "x"}}},
                   token=tok, headers={"If-Match": '"r3"'})
        check_eq((r.status, (r.json or {}).get("changed")), (200, False), "no change, no revision")
        r = s.post(f"/roles/{SLUG}/evidence",
                   {"dimensions": {"wage_trends": {"as_of": days_ago(today, 10)}}}, token=tok)
        check_eq((r.status, (r.json or {}).get("changes"), (r.json or {}).get("score_changed")),
                 (200, ["evidence.wage_trends"], False), "re-dated: a revision, same score")

        # PUT round trip: the GET's body goes back unchanged; leaving as_of out of an unchanged
        # dimension keeps it; a changed one without as_of gets the revision's date.
        g = s.get(f"/roles/{SLUG}").json
        body = {k: g[k] for k in BODY_KEYS}
        r = s.put(f"/roles/{SLUG}", body, token=tok)
        check_eq((r.status, (r.json or {}).get("changed")), (200, False), "GET body PUT back")
        # The whole read, its read-only members (score, revision, times, recency) included,
        # can be sent back too: they are ignored.
        r = s.put(f"/roles/{SLUG}", g, token=tok)
        check_eq((r.status, (r.json or {}).get("changed")), (200, False), "the whole read PUT back")
        r = s.put(f"/roles/{SLUG}", dict(g, extra=1), token=tok)
        is_422(r, "extra", "an unknown member is still refused")
        b2 = copy.deepcopy(body)
        for n in EVIDENCE:
            b2["assessment"]["evidence"][n].pop("as_of")
        r = s.put(f"/roles/{SLUG}", b2, token=tok)
        check_eq((r.status, (r.json or {}).get("changed")), (200, False),
                 "as_of left out of unchanged dimensions: kept")
        check_eq(s.get(f"/roles/{SLUG}").json["assessment"]["evidence"]["wage_trends"]["as_of"],
                 days_ago(today, 10), "kept date")
        b2["assessment"]["evidence"]["expert_consensus"]["score"] = 0
        b2["assessment"]["evidence"]["job_posting_trends"]["as_of"] = days_ago(today, 3)
        r = s.put(f"/roles/{SLUG}", b2, token=tok)
        check_eq(sorted((r.json or {}).get("changes", [])),
                 ["evidence.expert_consensus", "evidence.job_posting_trends"], "PUT changes")
        ev = s.get(f"/roles/{SLUG}").json["assessment"]["evidence"]
        check_eq((ev["expert_consensus"]["as_of"], ev["job_posting_trends"]["as_of"],
                  ev["wage_trends"]["as_of"]),
                 (today.isoformat(), days_ago(today, 3), days_ago(today, 10)), "PUT dates")
        # The revision read shows the body as it was (with its as_of), never stale.
        rv = s.get(f"/roles/{SLUG}/revisions/2").json
        check_eq(rv["assessment"]["evidence"]["wage_trends"].get("as_of"), old,
                 "revision 2 kept its as_of")
        evidence_has_no_stale(rv.get("assessment"), "revision read")


@test
def as_of_refused_by_name():
    with Server() as s:
        tok = s.token()
        today = day(s.get(f"/roles/{SLUG}").json["created_at"])
        tomorrow = (today + datetime.timedelta(days=1)).isoformat()
        for value in (tomorrow, "2026-02-30", "2026-1-01", "01/02/2026", 20260101, None, "",
                      "2026-01-01T00:00:00Z"):
            r = s.post(f"/roles/{SLUG}/evidence",
                       {"dimensions": {"wage_trends": {"as_of": value}}}, token=tok)
            is_422(r, "dimensions.wage_trends.as_of", f"as_of {value!r}")
        b = role_body("x-role", "X", evidence={"company_actions": {"as_of": tomorrow}})
        is_422(s.post("/roles", b, token=tok), "assessment.evidence.company_actions.as_of",
               "create with a future as_of")
        b = seed_role()
        b["assessment"]["barriers"]["regulatory"]["as_of"] = today.isoformat()
        is_422(s.put(f"/roles/{SLUG}", b, token=tok), "assessment.barriers.regulatory.as_of",
               "as_of belongs to evidence only")
        # stale is read-only: never stored; sent back as read (a boolean) it is ignored, any
        # other value is refused by name.
        b = seed_role()
        b["assessment"]["evidence"]["wage_trends"]["stale"] = 1
        is_422(s.put(f"/roles/{SLUG}", b, token=tok), "assessment.evidence.wage_trends.stale",
               "stale that is not a boolean")
        b["assessment"]["evidence"]["wage_trends"]["stale"] = True
        r = s.put(f"/roles/{SLUG}", b, token=tok)
        check_eq((r.status, (r.json or {}).get("changed")), (200, False), "stale sent back: ignored")
        evidence_has_no_stale(s.get(f"/roles/{SLUG}").json.get("assessment"), "never stored")
        check_eq(s.get(f"/roles/{SLUG}").json["revision"], 1, "nothing written")


@test
def stale_after_setting():
    tmp = Server(tmp=tempfile.mkdtemp(prefix="aijri-test-"))
    try:
        with tmp:
            tok = tmp.token()
            today = day(tmp.get(f"/roles/{SLUG}").json["created_at"])
            r = tmp.post(f"/roles/{SLUG}/evidence",
                         {"dimensions": {"company_actions": {"as_of": days_ago(today, 30)}}},
                         token=tok)
            check_eq(r.status, 200, "dated 30 days ago")
            ev = tmp.get(f"/roles/{SLUG}/evidence")
            check_eq((ev.json["stale"], ev.header("etag")), (False, '"r2"'),
                     "not stale after 30 days by default (180)")
        for args, env in ((["--stale-after-days", "29"], {}), ([], {"AIJRI_STALE_AFTER_DAYS": "29"})):
            srv = Server(db=tmp.db, tmp=tmp.tmp, args=args, env=env)
            with srv:
                ev = srv.get(f"/roles/{SLUG}/evidence")
                check_eq((ev.json["stale"], ev.json["recency"]["company_actions"]["stale"],
                          ev.header("etag")), (True, True, '"r2-s2"'),
                         f"stale after 29 days ({args or env})")
                check_eq(srv.get("/roles?stale=true").json["total"], 1, "listed stale")
                st = srv.get("/stats?stale=true").json
                check_eq(st.get("total"), 1, "stats of the stale roles")
        srv = Server(db=tmp.db, tmp=tmp.tmp, args=["--stale-after-days", "30"])
        with srv:
            check_eq(srv.get(f"/roles/{SLUG}/evidence").json["stale"], False,
                     "exactly 30 days old is not older than 30 days")
        for bad in ("0", "-1", "x", "36501"):
            p = run_cli("serve", "--stale-after-days", bad, "--port", "1", db=tmp.db)
            check(p.returncode == 2 and b"stale-after-days" in p.stderr,
                  f"--stale-after-days {bad}: {p.returncode} {p.stderr[-200:]!r}")
        p = run_cli("serve", "--help")
        out = p.stdout.decode()
        check("--stale-after-days" in out and "AIJRI_STALE_AFTER_DAYS" in out and "180" in out,
              "serve --help lists the setting")
    finally:
        shutil.rmtree(tmp.tmp, ignore_errors=True)


def http_day(r):
    """The (date, seconds into the day) of a response's Date header."""
    t = email.utils.parsedate_to_datetime(r.header("date"))
    return t.date(), t.hour * 3600 + t.minute * 60 + t.second


@test
def stale_flags_turn_at_midnight_through_the_cache():
    """The server runs 20 s before a UTC midnight (libfaketime). A dimension dated two days
    before that day is not stale with --stale-after-days 1 until midnight, and is after it:
    every answer well after midnight shows it stale, so no cached answer outlived its day."""
    if not os.path.exists(FAKETIME_LIB):
        check(False, f"{FAKETIME_LIB} is missing: deploy/setup-debian.sh --test installs faketime")
        return
    env = {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME": "@2026-12-01 23:59:40",
           "DONT_FAKE_MONOTONIC": "1", "TZ": "UTC"}
    if BIN.endswith("-san"):
        env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    srv = Server(args=["--stale-after-days", "1"], env=env)
    with srv:
        tok = srv.token()
        r = srv.post(f"/roles/{SLUG}/evidence",
                     {"dimensions": {"wage_trends": {"as_of": "2026-11-30"}}}, token=tok)
        check_eq(r.status, 200, "dated 2026-11-30")
        seen = {"before": 0, "after": 0}
        deadline = time.time() + 60
        while time.time() < deadline and seen["after"] < 3:
            for path in (f"/roles/{SLUG}/evidence", f"/roles/{SLUG}", "/roles?stale=true",
                         "/roles"):
                r = srv.get(path)
                d, secs = http_day(r)
                j = r.json or {}
                if path == "/roles?stale=true":
                    flag = j.get("total") == 1
                elif path == "/roles":
                    flag = (j.get("items") or [{}])[0].get("stale")
                else:
                    flag = j.get("stale")
                if d == datetime.date(2026, 12, 1) and secs < 86399:
                    seen["before"] += 1
                    check_eq(flag, False, f"{path} before midnight ({r.header('date')})")
                    if path != "/roles":
                        check(r.header("etag") in (None, '"r2"'), f"{path} tag {r.header('etag')}")
                elif d == datetime.date(2026, 12, 2) and secs >= 1:
                    seen["after"] += 1
                    check_eq(flag, True, f"{path} after midnight ({r.header('date')})")
                    if path.startswith("/roles/"):
                        check_eq(r.header("etag"), '"r2-s4"', f"{path} tag after midnight")
            time.sleep(0.2)
        check(seen["before"] >= 4 and seen["after"] >= 3, f"answers on both days: {seen}")


@test
@sqlite_only
def bodies_stored_before_codes_read_and_export_filled_in():
    """A role whose stored body predates codes and as_of (as migration 0005 leaves one: the
    body as it was, the dates in the roles row) reads, pages and exports as if it had them, and
    the export's line equals the GET's body."""
    tmp = tempfile.mkdtemp(prefix="aijri-test-")
    srv = Server(tmp=tmp)
    try:
        srv.start()
        check_eq(srv.stop(), 0, "first start and stop")
        old_bodies_checked(srv)
    finally:
        srv.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def old_bodies_checked(srv):
    with sqlite3.connect(srv.db) as db:
        dims = ", ".join(f"'$.assessment.evidence.{n}.as_of'" for n in EVIDENCE)
        # Revisions are append-only (a trigger): lifted for this one rewrite of the past.
        triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                              " AND tbl_name = 'revisions'").fetchall()
        for name, _ in triggers:
            db.execute(f"DROP TRIGGER {name}")
        db.execute(f"UPDATE revisions SET role_json = json_remove(role_json, '$.codes', {dims})")
        for _, sql in triggers:
            db.execute(sql)
        db.execute("UPDATE roles SET evidence_as_of = json_object(" +
                   ", ".join(f"'{n}', '2026-01-0{i + 1}'" for i, n in enumerate(EVIDENCE)) +
                   "), oldest_as_of = '2026-01-01', soc_codes = NULL, isco_codes = NULL")
        stored = json.loads(db.execute("SELECT role_json FROM revisions").fetchone()[0])
    check("codes" not in stored and "as_of" not in stored["assessment"]["evidence"]["wage_trends"],
          "the stored body is the old one")
    with srv:
        g = srv.get(f"/roles/{SLUG}").json
        check_eq(g.get("codes"), {"soc": [], "isco": []}, "old body: no codes")
        check_eq([g["assessment"]["evidence"][n].get("as_of") for n in EVIDENCE],
                 [f"2026-01-0{i + 1}" for i in range(5)], "old body: as_of from the roles row")
        line = json.loads(srv.get("/export?format=ndjson").body.decode().splitlines()[0])
        for k in BODY_KEYS:
            check_eq(line.get(k), g.get(k), f"export line's {k} equals the GET's")
        check_eq((line.get("revision"), line.get("updated_at")), (g["revision"], g["updated_at"]),
                 "export line's revision and time")
        check_eq(line.get("score"), g.get("score"), "export line's score block")
        page = srv.get(f"/roles/{SLUG}", headers={"Accept": "text/html"}).body.decode()
        check('(as of <time datetime="2026-01-03">2026-01-03</time>)' in page,
              "the page shows the wage trends' as_of from the roles row")


# ---------------------------------------------------------------- movers

def wait_past(s, iso):
    """Polls until the server's clock (its Date header) is past the second iso names."""
    want = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    deadline = time.time() + 10
    while time.time() < deadline:
        t = email.utils.parsedate_to_datetime(s.get("/healthz").header("date"))
        if t > want:
            return True
        time.sleep(0.05)
    return check(False, f"the server's clock did not pass {iso}")


@test
def movers_between_two_times():
    with Server() as s:
        tok = s.token()
        # Scores: a (yellow) rises, b falls, c leaves the green zone, d does not move.
        specs = {"m-a": (4, 4, 4, 4, 4, 4, 4, 4), "m-b": (2, 2, 2, 2, 2, 2, 2, 2),
                 "m-c": (2, 2, 2, 3, 3, 2, 4, 1), "m-d": (3, 3, 3, 3, 3, 3, 3, 3),
                 "m-gone": (3, 3, 3, 3, 3, 3, 3, 3)}
        for slug, scores in specs.items():
            check_eq(s.post("/roles", role_body(slug, slug.upper(), scores), token=tok).status,
                     201, f"create {slug}")
        since = max(s.get(f"/roles/{x}").json["created_at"] for x in list(specs) + [SLUG])
        before = {x: s.get(f"/roles/{x}/score").json for x in specs}
        wait_past(s, since)
        ev = lambda v: {"dimensions": {n: {"score": v} for n in EVIDENCE}}  # noqa: E731
        check_eq(s.post("/roles/m-a/evidence", ev(2), token=tok).status, 200, "a up")
        check_eq(s.post("/roles/m-b/evidence", ev(-2), token=tok).status, 200, "b down")
        check_eq(s.put("/roles/m-c/growth", {"growth": {"score": -2}}, token=tok).status, 200,
                 "c down")
        check_eq(s.post("/roles/m-c/evidence", ev(-2), token=tok).status, 200, "c down more")
        check_eq(s.post("/roles/m-d/evidence", {"dimensions": {"wage_trends": {"rationale": "r"}}},
                        token=tok).status, 200, "d: a revision with the same score")
        check_eq(s.post("/roles/m-gone/evidence", ev(2), token=tok).status, 200, "gone moves")
        check_eq(s.delete("/roles/m-gone", token=tok).status, 204, "then is archived")
        check_eq(s.post("/roles", role_body("m-new", "New"), token=tok).status, 201,
                 "a role created inside the window")
        after = {x: s.get(f"/roles/{x}/score").json for x in specs if x != "m-gone"}

        r = s.get(f"/movers?since={since}")
        check_eq(r.status, 200, f"movers {r.body[:200]!r}")
        j = r.json or {}
        check_eq(j.get("since"), since, "since echoed")
        rs_ = {i["slug"]: i for i in j.get("risers", [])}
        fs = {i["slug"]: i for i in j.get("fallers", [])}
        zs = [i["slug"] for i in j.get("zone_changes", [])]
        check_eq(sorted(rs_), ["m-a"], "risers")
        check_eq(sorted(fs), ["m-b", "m-c"], "fallers (archived and new roles left out)")
        check_eq([i["slug"] for i in j.get("fallers", [])],
                 sorted(fs, key=lambda x: (fs[x]["delta"], x)), "fallers by delta ascending")
        check("m-c" in zs and "m-a" not in zs, f"zone changes {zs}")
        a = rs_.get("m-a", {})
        check_eq((a.get("from", {}).get("score"), a.get("from", {}).get("revision"),
                  a.get("to", {}).get("score"), a.get("to", {}).get("revision"), a.get("title")),
                 (before["m-a"]["score"], 1, after["m-a"]["score"], 2, "M-A"), "m-a item")
        check_eq(a.get("delta"), round(after["m-a"]["score"] - before["m-a"]["score"], 1),
                 "delta")
        c = fs.get("m-c", {})
        check_eq((c.get("from", {}).get("zone"), c.get("to", {}).get("zone"),
                  c.get("to", {}).get("label"), c.get("to", {}).get("revision")),
                 (before["m-c"]["zone"], after["m-c"]["zone"], after["m-c"]["label"], 3),
                 "m-c from/to")
        check(before["m-c"]["zone"] != after["m-c"]["zone"], "m-c changed zone")
        one = s.get(f"/movers?since={since}&limit=1").json
        check_eq([len(one[k]) for k in ("risers", "fallers", "zone_changes")], [1, 1, 1],
                 "limit applies to each list")
        check_eq(one["fallers"][0]["slug"], j["fallers"][0]["slug"], "limit keeps the first")
        # until before the changes: nothing moved yet.
        r = s.get(f"/movers?since={since}&until={since}").json
        check_eq((r["risers"], r["fallers"], r["zone_changes"]), ([], [], []), "empty window")
        # A date alone: since is the start of its day, until the end of it. Every role was
        # created today, so none was live at the start of today.
        today = since[:10]
        r = s.get(f"/movers?since={today}&until={today}").json
        check_eq((r.get("since"), r.get("until")), (today + "T00:00:00Z", today + "T23:59:59Z"),
                 "a date alone")
        check_eq((r["risers"], r["fallers"]), ([], []), "roles created inside a window")
        # An offset is the same instant in UTC.
        t = datetime.datetime.fromisoformat(since.replace("Z", "+00:00"))
        off = (t + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S") + "%2B02:00"
        check_eq(s.get(f"/movers?since={off}").json.get("since"), since, "offset")
        d = s.get("/movers").json
        u = datetime.datetime.fromisoformat(d["until"].replace("Z", "+00:00"))
        si = datetime.datetime.fromisoformat(d["since"].replace("Z", "+00:00"))
        check_eq(u - si, datetime.timedelta(days=30), "since defaults to 30 days before until")


@test
def movers_tell_writes_within_one_second():
    """A `since` taken just after a role was created and just before it changed, all within
    one second: the change is after it (the history keeps milliseconds), the creation before."""
    with Server() as s:
        tok = s.token()
        for attempt in range(3):
            slug = f"ms-{attempt}"
            check_eq(s.post("/roles", role_body(slug, "Ms"), token=tok).status, 201,
                     f"create {slug}")
            now = datetime.datetime.now(datetime.timezone.utc)
            since = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
            # Past since by more than a millisecond on this machine's clock (the server's).
            while datetime.datetime.now(datetime.timezone.utc) < now + datetime.timedelta(
                    milliseconds=2):
                pass
            r = s.put(f"/roles/{slug}/growth", {"growth": {"score": -2}}, token=tok)
            check_eq((r.status, (r.json or {}).get("score_changed")), (200, True), "a fall")
            j = s.get(f"/movers?since={since}").json or {}
            got = [i["slug"] for i in j.get("fallers", [])]
            check(slug in got, f"the change after {since} is a move: fallers {got}")
            check_eq(j.get("since"), since if not since.endswith(".000Z") else since[:-5] + "Z",
                     "since echoed to the millisecond")


@test
def movers_refused_by_name():
    with Server() as s:
        for q, field in (("since=2026-13-01", "since"), ("since=yesterday", "since"),
                         ("until=2026-11-31", "until"), ("until=2026-11-01T25:00:00Z", "until"),
                         ("since=2026-11-02&until=2026-11-01", "since"),
                         ("since=2024-01-01&until=2026-01-01", "since"),
                         ("limit=0", "limit"), ("limit=201", "limit"), ("limit=x", "limit"),
                         ("since=", "since")):
            is_422(s.get("/movers?" + q), field, f"/movers?{q}")
        check_eq(s.get("/movers?since=2025-01-01&until=2025-12-31").status, 200, "a year")


# ---------------------------------------------------------------- neighbours and stats

def seeded_population(s, tok):
    """Roles around the seed (55.2, AI/ML Engineering) with known published scores."""
    made = {}
    specs = [("n-close-same", (2, 2, 2, 3, 3, 2, 4, 2), "AI/ML Engineering"),
             ("n-close-other", (2, 2, 2, 3, 3, 2, 4, 2), "Embedded"),
             ("n-far", (5, 5, 5, 5, 5, 5, 5, 5), "Embedded"),
             ("n-mid", (3, 3, 3, 3, 3, 3, 3, 3), None),
             ("n-high", (1, 1, 1, 1, 1, 1, 1, 1), "AI/ML Engineering")]
    for slug, scores, cat in specs:
        b = role_body(slug, slug.title(), scores, category=cat)
        r = s.post("/roles", b, token=tok)
        check_eq(r.status, 201, f"create {slug}")
        made[slug] = s.get(f"/roles/{slug}/score").json["score"]
    made[SLUG] = 55.2
    return made, {slug: cat for slug, _, cat in specs}


@test
def neighbours_nearest_first():
    with Server() as s:
        tok = s.token()
        scores, cats = seeded_population(s, tok)
        cats[SLUG] = "AI/ML Engineering"
        r = s.get(f"/roles/{SLUG}/neighbours")
        check_eq(r.status, 200, f"neighbours {r.body[:200]!r}")
        j = r.json
        check_eq((j.get("role"), j.get("score")), (SLUG, 55.2), "the role")
        items = j.get("items", [])
        want = sorted((x for x in scores if x != SLUG),
                      key=lambda x: (round(abs(scores[x] - 55.2), 1), cats[x] != cats[SLUG], x))
        check_eq([i["slug"] for i in items], want, "nearest first, own category first at ties")
        check(SLUG not in [i["slug"] for i in items], "the role itself is left out")
        for i in items:
            check_eq(i.get("distance"), round(abs(scores[i["slug"]] - 55.2), 1),
                     f"{i['slug']} distance")
            check_eq(set(i), {"slug", "title", "score", "zone", "label", "category", "distance"},
                     "item fields")
        check_eq(len(s.get(f"/roles/{SLUG}/neighbours?limit=2").json["items"]), 2, "limit")
        tag = r.header("etag")
        check(tag and tag.startswith('"n'), f"ETag {tag}")
        check_eq(s.get(f"/roles/{SLUG}/neighbours", headers={"If-None-Match": tag}).status, 304,
                 "If-None-Match")
        check_eq(s.get("/roles/tinyml-engineer/neighbours").status, 308, "an alias redirects")
        check_eq(s.get("/roles/tinyml-engineer/neighbours").header("location"),
                 f"/roles/{SLUG}/neighbours", "to the role's neighbours")
        check_eq(s.get("/roles/nobody/neighbours").status, 404, "unknown role")
        # Without limit, as every list: 20 (22 other roles here).
        for k in range(17):
            check_eq(s.post("/roles", role_body(f"n-more-{k:02d}", f"N More {k:02d}"),
                            token=tok).status, 201, f"create n-more-{k:02d}")
        check_eq(len(s.get(f"/roles/{SLUG}/neighbours").json["items"]), 20, "default limit 20")
        for q in ("limit=0", "limit=201", "limit=ten"):
            is_422(s.get(f"/roles/{SLUG}/neighbours?{q}"), "limit", q)
        check_eq(s.delete("/roles/n-close-same", token=tok).status, 204, "archive one")
        names = [i["slug"] for i in s.get(f"/roles/{SLUG}/neighbours").json["items"]]
        check("n-close-same" not in names, "archived roles are no neighbours")
        check_eq(s.get(f"/roles/{SLUG}/neighbours", headers={"If-None-Match": tag}).status, 200,
                 "the tag changed with the roles")


@test
def stats_of_live_roles():
    with Server() as s:
        tok = s.token()
        scores, cats = seeded_population(s, tok)
        cats[SLUG] = "AI/ML Engineering"
        r = s.get("/stats")
        check_eq(r.status, 200, f"stats {r.body[:200]!r}")
        j = r.json
        vals = sorted(scores.values())
        zones = {x: s.get(f"/roles/{x}/score").json["zone"] for x in scores}
        check_eq(j.get("total"), len(vals), "total")
        check_eq(j.get("zones"), {z: list(zones.values()).count(z) for z in
                                  ("green", "yellow", "red")}, "zones")
        check_eq(j.get("mean"), round(sum(vals) / len(vals), 2), "mean")
        n = len(vals)
        med = vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2
        check_eq(j.get("median"), round(med, 2), "median")
        h = j.get("histogram", [])
        check_eq([(b["from"], b["to"]) for b in h], [(i * 10, i * 10 + 10) for i in range(10)],
                 "ten bins of ten points")
        check_eq([b["count"] for b in h],
                 [sum(1 for v in vals if min(int(v // 10), 9) == i) for i in range(10)], "counts")
        want_cats = {}
        for x, c in cats.items():
            want_cats.setdefault(c, []).append(scores[x])
        got = {c["category"]: (c["count"], c["mean"]) for c in j.get("categories", [])}
        check_eq(got, {c: (len(v), round(sum(v) / len(v), 2)) for c, v in want_cats.items()},
                 "categories")
        counts = [c["count"] for c in j.get("categories", [])]
        check_eq(counts, sorted(counts, reverse=True), "most roles first")
        g = s.get("/stats?zone=green").json
        check_eq(g["total"], list(zones.values()).count("green"), "zone filter")
        check_eq(g["zones"]["red"], 0, "only green counted")
        check_eq(s.get("/stats?q=close").json["total"], 2, "q filter")
        check_eq(s.get("/stats?soc=15-1252").json["total"], len(vals), "soc filter")
        check_eq(s.get("/stats?min_score=60").json["total"],
                 sum(1 for v in vals if v >= 60), "min_score")
        e = s.get("/stats?soc=99").json
        check_eq((e["total"], e["mean"], e["median"], e["categories"]), (0, None, None, []),
                 "no roles")
        for q, f in (("zone=blue", "zone"), ("soc=x", "soc"), ("isco=99999", "isco"),
                     ("stale=1", "stale"), ("min_score=101", "min_score")):
            is_422(s.get("/stats?" + q), f, f"/stats?{q}")
        check_eq(s.delete("/roles/n-far", token=tok).status, 204, "archive")
        check_eq(s.get("/stats").json["total"], len(vals) - 1, "archived roles not counted")


# ---------------------------------------------------------------- what-if

@test
def what_if_personal_score():
    with Server() as s:
        seed = seed_role()
        revs = s.get(f"/roles/{SLUG}/revisions").json["total"]
        patch = {"growth": {"score": 2}, "tasks": [
            {"name": "My own work", "time_share": 60, "score": 1},
            {"name": "Reports", "time_share": 40, "score": 4}]}
        r = s.post(f"/roles/{SLUG}/what-if", patch,
                   headers={"Content-Type": "application/merge-patch+json"})
        check_eq(r.status, 200, f"what-if {r.body[:300]!r}")
        j = r.json or {}
        a = copy.deepcopy(seed["assessment"])
        a["growth"]["score"] = 2
        a["tasks"] = patch["tasks"]
        ref = s.post("/score", a).json
        check_eq(j.get("score", {}).get("score"), ref["score"], "scored by the one core")
        check_eq(j.get("score", {}).get("label"), ref["label"], "label")
        check_eq(j.get("score", {}).get("role"), SLUG, "the block names the role")
        check_eq(j.get("published"), {"score": 55.2, "zone": "green",
                                      "label": "Green (Transforming)", "revision": 1}, "published")
        check_eq(j.get("delta"), round(ref["score"] - 55.2, 1), "delta")
        check_eq(s.get(f"/roles/{SLUG}/revisions").json["total"], revs, "nothing stored")
        check_eq(s.get(f"/roles/{SLUG}/score").json["score"], 55.2, "published unchanged")
        r = s.post(f"/roles/{SLUG}/what-if", {})
        check_eq(((r.json or {}).get("delta"), (r.json or {}).get("score", {}).get("score")),
                 (0, 55.2), "an empty patch is the published score")
        # null removes: an override patched away, or a member the method requires.
        r = s.post(f"/roles/{SLUG}/what-if", {"growth": None})
        is_422(r, "growth", "growth removed")
        r = s.post(f"/roles/{SLUG}/what-if", {"override": {"score": 20, "reason": "mine"}})
        check_eq((r.json or {}).get("score", {}).get("score"), 20, "override in a what-if")
        # Errors name the fields of the patch as sent.
        r = s.post(f"/roles/{SLUG}/what-if", {"tasks": [{"name": "x", "time_share": 50,
                                                         "score": 9}]})
        is_422(r, "tasks[0].score", "task score")
        is_422(r, "tasks", "shares")
        is_422(s.post(f"/roles/{SLUG}/what-if", {"evidence": {"wage_trends": {"score": 3}}}),
               "evidence.wage_trends.score", "evidence score")
        is_422(s.post(f"/roles/{SLUG}/what-if", {"vibes": 1}), "vibes", "unknown member")
        is_422(s.post(f"/roles/{SLUG}/what-if", [1]), "body", "not an object")
        check_eq(s.post(f"/roles/{SLUG}/what-if", raw=b"{", headers={
            "Content-Type": "application/json"}).status, 400, "malformed")
        check_eq(s.post(f"/roles/{SLUG}/what-if", raw=b"{}", headers={
            "Content-Type": "text/plain"}).status, 415, "not JSON")
        check_eq(s.post("/roles/tinyml-engineer/what-if", {}).status, 308, "alias")
        check_eq(s.post("/roles/nobody/what-if", {}).status, 404, "unknown")
        check_eq(s.post(f"/roles/{SLUG}/what-if", {}, headers={"If-Match": '"r9"'}).status, 412,
                 "If-Match of another revision")
        check_eq(s.post(f"/roles/{SLUG}/what-if", {}, headers={"If-Match": '"r1"'}).status, 200,
                 "If-Match of the current one")
        check_eq(s.request("PUT", f"/roles/{SLUG}/what-if").status, 405, "PUT")


# ---------------------------------------------------------------- the personal-score form

class FormPage(html.parser.HTMLParser):
    """What a reader of the personal-score page sees: its inputs (name -> attributes), the
    ids on the page, the form's method and action, the text, and any script element."""

    def __init__(self, text):
        super().__init__()
        self.inputs, self.ids, self.forms, self.scripts, self.links = {}, set(), [], 0, []
        self.text = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "input":
            self.inputs[a.get("name")] = a
        elif tag == "form":
            self.forms.append(a)
        elif tag == "script":
            self.scripts += 1
        elif tag == "a":
            self.links.append(a.get("href"))

    def handle_data(self, data):
        self.text.append(data)

    def words(self):
        """The text, its pieces apart (one per element)."""
        return " ".join(" ".join(self.text).split())

    def flat(self):
        """The text as it reads inline (pieces joined as the markup joins them)."""
        return " ".join("".join(self.text).split())


def form_url(fields):
    return f"/roles/{SLUG}/what-if?" + urllib.parse.urlencode(fields)


def page_builds(s):
    m = s.get("/metrics").body.decode()
    return int(float(next(x.split()[1] for x in m.splitlines()
                          if x.startswith("aijri_page_builds_total "))))


@test
@one_instance
def what_if_form_prefilled_from_the_assessment():
    """GET /roles/{slug}/what-if is a form that works without script: every task's time
    share and score and the growth score, prefilled as published, each input labelled, sent
    with method=get to the same URL; never cached (each call builds it), CSP as every page's."""
    with Server() as s:
        seed = seed_role()
        role_page = s.get(f"/roles/{SLUG}", headers={"Accept": "text/html"})
        r = s.get(f"/roles/{SLUG}/what-if")
        check_eq(r.status, 200, "form status")
        check_eq((r.header("content-type") or "").split(";")[0], "text/html", "form type")
        check_eq(r.header("content-security-policy"), role_page.header("content-security-policy"),
                 "the CSP of every page")
        check_eq(r.header("cache-control"), "no-store", "no cache keeps it")
        check_eq(r.header("etag"), None, "no validator")
        p = FormPage(r.body.decode())
        check_eq(p.scripts, 0, "no script")
        check_eq([(f.get("method"), f.get("action")) for f in p.forms],
                 [("get", f"/roles/{SLUG}/what-if")], "one form, method get, to itself")
        tasks = seed["assessment"]["tasks"]
        for i, t in enumerate(tasks):
            for key in ("time_share", "score"):
                inp = p.inputs.get(f"tasks[{i}].{key}") or {}
                check_eq(float(inp.get("value", "nan")), float(t[key]), f"task {i} {key} prefilled")
                labels = (inp.get("aria-labelledby") or "").split()
                check(len(labels) == 2 and all(x in p.ids for x in labels),
                      f"task {i} {key} labelled by its row and column: {labels}")
            check(t["name"] in p.words(), f"task {i}'s name shown")
        g = p.inputs.get("growth.score") or {}
        check_eq(g.get("value"), str(seed["assessment"]["growth"]["score"]), "growth prefilled")
        check(f'<label for="{g.get("id")}">' in r.body.decode(), "growth has a label")
        check_eq(sorted(p.inputs), sorted([f"tasks[{i}].{k}" for i in range(len(tasks))
                                           for k in ("time_share", "score")] + ["growth.score"]),
                 "the form's fields")
        check("Your score" not in p.words(), "no score before the form is sent")
        b0 = page_builds(s)
        s.get(f"/roles/{SLUG}/what-if")
        s.get(f"/roles/{SLUG}/what-if")
        check_eq(page_builds(s) - b0, 2, "each call builds the page: none is cached")
        # The role page offers it; a past revision's page does not (it is today's assessment).
        rp = FormPage(role_page.body.decode())
        check(f"/roles/{SLUG}/what-if" in rp.links, "the role page links the form")
        check("Personal AI Risk Assessment Report" in rp.words(), "the seed's heading")
        tok = s.token()
        s.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {"rationale": "new"}}},
               token=tok)
        past = FormPage(s.get(f"/roles/{SLUG}/revisions/1",
                              headers={"Accept": "text/html"}).body.decode())
        check(f"/roles/{SLUG}/what-if" not in past.links, "a past page does not")
        h = s.request("HEAD", f"/roles/{SLUG}/what-if")
        check_eq((h.status, h.body), (200, b""), "HEAD")
        o = s.request("OPTIONS", f"/roles/{SLUG}/what-if")
        check_eq(o.header("allow"), "GET, HEAD, POST, OPTIONS", "OPTIONS lists GET")
        r = s.get(f"/roles/tinyml-engineer/what-if?growth.score=2")
        check_eq((r.status, r.header("location")),
                 (308, f"/roles/{SLUG}/what-if?growth.score=2"), "an alias keeps the form")
        r = s.get("/roles/nobody/what-if")
        check_eq((r.status, (r.header("content-type") or "").split(";")[0]),
                 (404, "application/problem+json"), "unknown role")
        r = s.get(f"/roles/{SLUG}/what-if?colour=red")
        check("Your score" not in FormPage(r.body.decode()).words(),
              "an unknown parameter sends nothing")


@test
def what_if_form_scores_as_the_json_endpoint():
    """The form sent: the personal score, zone, label and difference are those of
    POST /roles/{slug}/what-if for the same patch; nothing stored."""
    with Server() as s:
        seed = seed_role()
        revs = s.get(f"/roles/{SLUG}/revisions").json["total"]
        tasks = copy.deepcopy(seed["assessment"]["tasks"])
        tasks[0]["score"], tasks[0]["time_share"] = 5, 30
        tasks[1]["time_share"] = 15
        fields = {"tasks[0].score": "5", "tasks[0].time_share": "30",
                  "tasks[1].time_share": "15", "growth.score": "2"}
        r = s.get(form_url(fields))
        check_eq(r.status, 200, "sent form status")
        p = FormPage(r.body.decode())
        ref = s.post(f"/roles/{SLUG}/what-if", {"tasks": tasks, "growth": {"score": 2}}).json
        words = p.words()
        score = f'{ref["score"]["score"]:.1f}'
        check(f"Your score {score} {ref['score']['label']}" in words,
              f"the personal score {score} {ref['score']['label']}: {words[:600]}")
        delta = ref["delta"]
        check(f"Difference {'+' if delta > 0 else ''}{delta:g} points" in words,
              f"the difference {delta}")
        check("Published score 55.2 Green (Transforming) (revision 1)" in words,
              "the published score")
        check_eq(p.inputs["tasks[0].score"]["value"], "5", "the form keeps what was sent")
        check_eq(p.inputs["tasks[2].score"]["value"], str(tasks[2]["score"]),
                 "and the published values of the rest")
        check_eq(s.get(f"/roles/{SLUG}/revisions").json["total"], revs, "nothing stored")
        # The published figures sent back: the published score, a difference of 0.
        r = s.get(form_url({"growth.score": str(seed["assessment"]["growth"]["score"])}))
        check("Your score 55.2" in FormPage(r.body.decode()).words() and
              "Difference 0 points" in FormPage(r.body.decode()).words(), "unchanged figures")
        # Under an assessor's override the personal score is the override's (as the JSON
        # endpoint says); the page says so and shows what the method alone makes of the figures.
        tok = s.token()
        check_eq(s.put(f"/roles/{SLUG}/override", {"override": {"score": 30, "reason": "x"}},
                       token=tok).status, 200, "an override")
        ref = s.post(f"/roles/{SLUG}/what-if", {"tasks": tasks, "growth": {"score": 2}}).json
        p = FormPage(s.get(form_url(fields)).body.decode())
        flat = p.flat()
        check(f"Your score {ref['score']['score']:.1f}" in p.words(),
              f"the override's score: {ref['score']['score']}")
        check("override, which stands for a personal score too" in flat, "the override said")
        check(f"The method alone gives your figures {ref['score']['formula']['score']:.1f}, "
              f"{ref['score']['formula']['label']}" in flat, "the method's own result")


@test
def what_if_form_names_refused_fields():
    """A refused value is named in the page as the JSON endpoint names it, beside its input
    (which keeps the value sent), and nothing is scored; whatever was sent is escaped."""
    with Server() as s:
        seed = seed_role()
        hostile = '"><script>alert(1)</script>'
        fields = {"tasks[0].score": "9", "tasks[1].time_share": "60", "growth.score": hostile}
        r = s.get(form_url(fields))
        check_eq(r.status, 200, "refused figures: the page")
        body = r.body.decode()
        p = FormPage(body)
        check_eq(p.scripts, 0, "the sent value runs nothing")
        check(hostile not in body and "&lt;script&gt;" in body, "the sent value is escaped")
        tasks = copy.deepcopy(seed["assessment"]["tasks"])
        tasks[0]["score"], tasks[1]["time_share"] = 9, 60
        j = s.post(f"/roles/{SLUG}/what-if",
                   {"tasks": tasks, "growth": {"score": hostile}}).json or {}
        want = [(e["field"], e["message"]) for e in j.get("errors", [])]
        check(len(want) >= 3, f"the JSON endpoint refuses three fields: {want}")
        words, flat = p.words(), p.flat()
        for field, message in want:
            check(f"{field}: {message}" in flat, f"the page names {field}: {message}")
        for name in ("tasks[0].score", "growth.score"):
            inp = p.inputs.get(name) or {}
            check_eq(inp.get("aria-invalid"), "true", f"{name} marked invalid")
            check(inp.get("aria-describedby") in p.ids, f"{name} described by its message")
        check_eq(p.inputs["tasks[0].score"]["value"], "9", "the input keeps the value sent")
        check("Your score" not in words, "nothing scored")
        check(f'href="#{p.inputs["tasks[0].score"]["id"]}"' in body, "the error links its field")


if __name__ == "__main__":
    run()
