"""API tests of the "Roles and assessments" endpoints and of every convention of API.md:
the seed's score block, evidence and part writes, revisions, validation (422), malformed JSON
(400), 413, 404, 405, 401, revoked tokens, ETag / If-None-Match / If-Match, aliases (308),
create / replace / archive, list filters and pagination, POST /score, compare, export,
methodology, healthz, metrics, CORS, HEAD, concurrent writers, restart and SIGTERM.
Run: AIJRI_BIN=bin/aijri python3 tests/api/test_roles_api.py [test_name...]
"""
import copy
import csv
import io
import json
import os
import re
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Server, check, check_eq, one_instance, run, run_cli, seed_role, test  # noqa: E402

SLUG = "edge-ai-engineer"
EVIDENCE = ["job_posting_trends", "company_actions", "wage_trends", "ai_tool_maturity",
            "expert_consensus"]
BARRIERS = ["regulatory", "physical_presence", "union_power", "liability", "cultural"]
PROTECTIVE = ["embodied_physicality", "deep_interpersonal_connection", "moral_judgment"]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


# ---------------------------------------------------------------- helpers

def without_as_of(assessment):
    """The assessment with its evidence dimensions' as_of left out: the server dates every
    dimension (the revision's day when the body gives none), the other members are as sent."""
    a = copy.deepcopy(assessment)
    for d in (a or {}).get("evidence", {}).values():
        if isinstance(d, dict):
            d.pop("as_of", None)
    return a


def expected(assessment):
    """The published score, zone and label of an assessment, by METHOD.md (no override)."""
    tasks = assessment["tasks"]
    w = sum(t["time_share"] / 100 * t["score"] for t in tasks)
    e = sum(d["score"] for d in assessment["evidence"].values())
    b = sum(d["score"] for d in assessment["barriers"].values())
    g = assessment["growth"]["score"]
    raw = (6 - w) * (1 + 0.04 * e) * (1 + 0.02 * b) * (1 + 0.05 * g)
    exact = max(0.0, min(100.0, (raw - 0.54) / 7.93 * 100))
    x = exact + 1e-9
    score = float(int(x * 10 + 0.5)) / 10
    s3 = sum(t["time_share"] for t in tasks if t["score"] >= 3)
    if score >= 48:
        zone = "green"
        label = ("Green (Accelerated)" if g == 2 else
                 "Green (Transforming)" if s3 >= 20 else "Green (Stable)")
    elif score >= 25:
        zone, label = "yellow", "Yellow (Urgent)" if s3 >= 50 else "Yellow (Moderate)"
    else:
        zone, label = "red", "Red (Imminent)" if s3 >= 70 else "Red (Declining)"
    return score, zone, label


def role_body(slug, title, task_scores=None, evidence=None, aliases=(), growth=None):
    """A valid role body built on the seed's, with its own slug and title; task_scores
    replaces the seed's task scores (same shares), evidence sets every dimension's score."""
    r = seed_role()
    r["slug"], r["title"], r["aliases"] = slug, title, list(aliases)
    a = r["assessment"]
    if task_scores is not None:
        for t, s in zip(a["tasks"], task_scores):
            t["score"] = s
    if evidence is not None:
        for d in a["evidence"].values():
            d["score"] = evidence
    if growth is not None:
        a["growth"]["score"] = growth
    return r


def is_problem(r, status, msg=""):
    ok = check_eq(r.status, status, f"{msg} status ({r.body[:300]!r})")
    ct = (r.header("content-type") or "").split(";")[0].strip()
    check_eq(ct, "application/problem+json", f"{msg} content type")
    j = r.json
    if check(isinstance(j, dict), f"{msg} problem body is JSON: {r.body[:200]!r}"):
        for k in ("type", "title", "status", "detail", "errors"):
            check(k in j, f"{msg} problem has {k}: {j}")
        check_eq(j.get("status"), status, f"{msg} problem status")
        check(isinstance(j.get("errors"), list), f"{msg} errors is a list")
    return ok


def fields(r):
    j = r.json or {}
    return [e.get("field", "") for e in j.get("errors") or []]


def names_field(r, want, msg=""):
    """The 422 lists an error whose field is want (a full path) or ends with it."""
    fs = fields(r)
    return check(any(f == want or f.endswith("." + want) or f.endswith(want) for f in fs),
                 f"{msg} errors name {want!r}: {fs}")


def revision_count(s, slug=SLUG):
    r = s.get(f"/roles/{slug}/revisions?limit=200")
    return r.json["total"] if r.status == 200 else None


def current(s, slug=SLUG):
    return s.get(f"/roles/{slug}").json


# ---------------------------------------------------------------- the seed

@test
def edge_inputs_named_and_refused():
    """Inputs at the edges: each refused with the field named, nothing stored."""
    with Server() as s:
        tok = s.token()
        n = revision_count(s)
        ev = f"/roles/{SLUG}/evidence"
        # Well-formed JSON whose integer overflows 64 bits: a rule break, named (not a 400).
        r = s.request("POST", ev, token=tok, headers={"Content-Type": "application/json"},
                      raw=b'{"dimensions":{"wage_trends":{"score":99999999999999999999999}}}')
        is_problem(r, 422, "huge integer")
        names_field(r, "dimensions.wage_trends.score", "huge integer")
        # A reason of the wrong type: one error, and not "unknown field".
        r = s.put(f"/roles/{SLUG}/growth", {"growth": {"score": 1}, "reason": ["a"]}, token=tok)
        is_problem(r, 422, "reason of the wrong type")
        check_eq([e["field"] for e in r.json.get("errors", [])], ["reason"], "one error on reason")
        # Blank texts where a text is required.
        r = s.put(f"/roles/{SLUG}/override", {"override": {"score": 50, "reason": "  "}}, token=tok)
        is_problem(r, 422, "blank override reason")
        names_field(r, "override.reason", "blank override reason")
        body = role_body("blank-title", " \t ")
        r = s.post("/roles", body, token=tok)
        is_problem(r, 422, "blank title")
        names_field(r, "title", "blank title")
        # If-Match compares strongly: a weak tag of the current revision does not match.
        r = s.post(ev, {"dimensions": {"wage_trends": {"score": 2}}}, token=tok,
                   headers={"If-Match": 'W/"r1"'})
        is_problem(r, 412, "weak If-Match")
        r = s.get(f"/roles/{SLUG}", headers={"If-None-Match": 'W/"r1"'})
        check_eq(r.status, 304, "If-None-Match compares weakly")
        # A NUL in the path is no slug.
        is_problem(s.get(f"/roles/{SLUG}%00"), 404, "slug followed by %00")
        check_eq(revision_count(s), n, "nothing was stored")
        check_eq(s.get("/roles?limit=200").json["total"], 1, "no role was created")


@test
def fresh_seed_score_block():
    with Server() as s:
        r = s.get(f"/roles/{SLUG}/score")
        check_eq(r.status, 200, "GET score")
        check_eq((r.header("content-type") or "").split(";")[0], "application/json", "type")
        check_eq(r.header("etag"), '"r1"', "ETag of the seed")
        b = r.json
        want = {"role": SLUG, "title": "Edge AI Engineer", "score": 55.2, "score_exact": 55.1576,
                "zone": "green", "label": "Green (Transforming)", "weighted_task_score": 2.25,
                "task_resistance": 3.75, "evidence": {"total": 5, "modifier": 1.2},
                "barriers": {"total": 2, "modifier": 1.04, "strength": "Weak"},
                "protective": {"total": 3},
                "growth": {"score": 1, "modifier": 1.05, "wording": "AI slightly boosts jobs"},
                "raw": 4.914, "share_scoring_3plus": 25,
                "impact": {"displaced": 5, "augmented": 90, "not_involved": 5},
                "composition": {"task_resistance": 37.5, "evidence": 10.0, "barriers": 3.0,
                                "protective": 3.3, "growth": 2.5},
                "override": None, "revision": 1, "method_version": "1"}
        for k, v in want.items():
            check_eq(b.get(k), v, f"score block {k}")
        check_eq(b.get("formula"), {"score": 55.2, "zone": "green", "label": "Green (Transforming)"},
                 "formula: API.md's three members")
        check(RFC3339.match(str(b.get("updated_at"))), f"updated_at is RFC 3339: {b.get('updated_at')}")
        check_eq(expected(seed_role()["assessment"]), (55.2, "green", "Green (Transforming)"),
                 "this file's formula agrees with the seed")

        r = s.get(f"/roles/{SLUG}")
        check_eq(r.status, 200, "GET role")
        check_eq(r.header("etag"), '"r1"', "ETag of role")
        j = r.json
        seed = seed_role()
        for k in ("slug", "title", "aliases", "seniority", "category", "primary_function",
                  "not_this_role", "typical_experience"):
            check_eq(j.get(k), seed[k], f"role {k}")
        check_eq(without_as_of(j.get("assessment")), seed["assessment"],
                 "role assessment is the seed's")
        check(all(re.match(r"^\d{4}-\d\d-\d\d$", str(d.get("as_of")))
                  for d in j["assessment"]["evidence"].values()), "each dimension has its as_of")
        check_eq(j.get("revision"), 1, "role revision")
        check_eq((j.get("score") or {}).get("score"), 55.2, "role score block")
        check(RFC3339.match(str(j.get("created_at"))), "created_at")
        check(RFC3339.match(str(j.get("updated_at"))), "updated_at")

        r = s.get(f"/roles/{SLUG}/tasks")
        check_eq(r.status, 200, "GET tasks")
        tasks = r.json.get("tasks") or []
        check_eq(len(tasks), 8, "8 tasks")
        check_eq([t.get("impact") for t in tasks],
                 ["augmented"] * 6 + ["displaced", "not_involved"], "impact labels")
        check_eq([t.get("weighted") for t in tasks],
                 [0.5, 0.4, 0.3, 0.3, 0.3, 0.2, 0.2, 0.05], "weighted contributions")
        r = s.get(f"/roles/{SLUG}/evidence")
        check_eq(r.status, 200, "GET evidence")
        check_eq(sorted((r.json.get("evidence") or {}).keys()), sorted(EVIDENCE), "5 dimensions")
        check_eq(r.header("etag"), '"r1"', "ETag of evidence")


# ---------------------------------------------------------------- evidence and revisions

@test
def evidence_write_and_revisions():
    with Server() as s:
        tok = s.token("alice")
        before = s.get(f"/roles/{SLUG}/evidence").json["evidence"]
        src = [{"title": "Pay survey 2026", "url": "https://example.org/pay"}]
        r = s.post(f"/roles/{SLUG}/evidence",
                   {"dimensions": {"wage_trends": {"score": 2, "rationale": "wages rising",
                                                   "sources": src}},
                    "reason": "new pay data"}, token=tok)
        check_eq(r.status, 200, f"POST evidence {r.body[:300]!r}")
        a = r.json or {}
        check_eq(a.get("revision"), 2, "answer revision")
        check_eq(a.get("changed"), True, "changed")
        check_eq(a.get("score_changed"), True, "score_changed")
        check_eq(a.get("changes"), ["evidence.wage_trends"], "changes")
        check_eq((a.get("score") or {}).get("score"), 57.2, "answer score")
        check_eq((a.get("score") or {}).get("evidence"), {"total": 6, "modifier": 1.24},
                 "answer evidence")
        check_eq((a.get("score") or {}).get("revision"), 2, "answer score revision")
        check_eq(r.header("etag"), '"r2"', "write answers the new ETag")

        r = s.get(f"/roles/{SLUG}/score")
        check_eq((r.json["score"], r.json["revision"], r.json["zone"]), (57.2, 2, "green"), "score")
        check_eq(r.header("etag"), '"r2"', "ETag after write")
        ev = s.get(f"/roles/{SLUG}/evidence").json["evidence"]
        check_eq(ev["wage_trends"]["score"], 2, "wage_trends stored")
        check_eq(ev["wage_trends"]["rationale"], "wages rising", "rationale stored")
        check_eq(ev["wage_trends"].get("sources"), src, "sources stored")
        for d in EVIDENCE:
            if d != "wage_trends":
                check_eq(ev[d], before[d], f"{d} kept")

        r = s.get(f"/roles/{SLUG}/revisions")
        check_eq(r.status, 200, "GET revisions")
        h = r.json
        check_eq(h.get("total"), 2, "2 revisions")
        items = h.get("items") or []
        check_eq([i.get("revision") for i in items], [2, 1], "newest first")
        top = items[0] if items else {}
        check_eq(top.get("reason"), "new pay data", "reason")
        check_eq(top.get("changed"), ["evidence.wage_trends"], "changed paths")
        check_eq(top.get("actor"), "alice", "actor is the token name")
        check_eq((top.get("score"), top.get("zone"), top.get("label")),
                 (57.2, "green", "Green (Transforming)"), "revision score")
        check(RFC3339.match(str(top.get("created_at"))), "created_at")
        check_eq(items[1].get("score") if len(items) > 1 else None, 55.2, "revision 1 score")
        check_eq(r.header("etag"), '"r2"', "ETag of revisions")

        r = s.get(f"/roles/{SLUG}/revisions/1")
        check_eq(r.status, 200, "GET revisions/1")
        old = r.json or {}
        check_eq(old.get("revision"), 1, "revision number")
        check_eq(without_as_of(old.get("assessment")), seed_role()["assessment"],
                 "old assessment")
        check_eq((old.get("score") or {}).get("score"), 55.2, "old score block")
        check_eq((old.get("score") or {}).get("evidence", {}).get("total"), 5, "old evidence")
        r = s.get(f"/roles/{SLUG}/revisions/2")
        check_eq(((r.json or {}).get("assessment") or {}).get("evidence", {})
                 .get("wage_trends", {}).get("score"), 2, "revision 2 assessment")
        check_eq(((r.json or {}).get("score") or {}).get("score"), 57.2, "revision 2 score")
        r = s.get(f"/roles/{SLUG}/revisions/3")
        is_problem(r, 404, "revision that does not exist")
        r = s.get(f"/roles/{SLUG}/revisions/abc")
        check(r.status in (404, 422), f"revisions/abc: {r.status}")


@test
def write_that_changes_nothing():
    with Server() as s:
        tok = s.token()
        seed = seed_role()
        wt = seed["assessment"]["evidence"]["wage_trends"]
        r = s.post(f"/roles/{SLUG}/evidence",
                   {"dimensions": {"wage_trends": wt}, "reason": "same again"}, token=tok)
        check_eq(r.status, 200, f"POST same evidence {r.body[:200]!r}")
        check_eq((r.json or {}).get("changed"), False, "changed false")
        check_eq((r.json or {}).get("score_changed"), False, "score_changed false")
        check_eq((r.json or {}).get("revision"), 1, "revision unchanged")
        check_eq(revision_count(s), 1, "no revision made")
        g = seed["assessment"]["growth"]
        r = s.put(f"/roles/{SLUG}/growth", {"growth": g, "reason": "same"}, token=tok)
        check_eq(((r.json or {}).get("changed"), r.status), (False, 200), "PUT same growth")
        r = s.put(f"/roles/{SLUG}", seed, token=tok)
        check_eq(((r.json or {}).get("changed"), r.status), (False, 200), "PUT same role")
        check_eq(revision_count(s), 1, "still one revision")
        check_eq(s.get(f"/roles/{SLUG}").header("etag"), '"r1"', "ETag unchanged")


@test
def change_that_keeps_the_score():
    with Server() as s:
        tok = s.token()
        r = s.post(f"/roles/{SLUG}/evidence",
                   {"dimensions": {"wage_trends": {"score": 1, "rationale": "Reworded."}},
                    "reason": "wording"}, token=tok)
        a = r.json or {}
        check_eq(r.status, 200, "rationale write")
        check_eq((a.get("changed"), a.get("score_changed"), a.get("revision")),
                 (True, False, 2), "a revision with score_changed false")
        check_eq((a.get("score") or {}).get("score"), 55.2, "score as it was")
        check_eq(revision_count(s), 2, "revision stored")
        top = s.get(f"/roles/{SLUG}/revisions").json["items"][0]
        check_eq((top.get("revision"), top.get("score"), top.get("reason")),
                 (2, 55.2, "wording"), "revision entry")
        ev = s.get(f"/roles/{SLUG}/evidence").json["evidence"]
        check_eq(ev["wage_trends"]["rationale"], "Reworded.", "rationale stored")


# ---------------------------------------------------------------- parts

@test
def put_parts_and_override():
    with Server() as s:
        tok = s.token()
        seed = seed_role()
        a = copy.deepcopy(seed["assessment"])
        rev = 1

        def write(method, path, body, want_changes, msg):
            nonlocal rev
            r = s.request(method, f"/roles/{SLUG}/{path}", body=body, token=tok)
            check_eq(r.status, 200, f"{msg}: {r.body[:300]!r}")
            j = r.json or {}
            rev += 1
            check_eq(j.get("revision"), rev, f"{msg} revision")
            check_eq(j.get("changed"), True, f"{msg} changed")
            if want_changes is not None:
                check_eq(sorted(j.get("changes") or []), sorted(want_changes), f"{msg} changes")
            return j

        # tasks: two tasks, 60% at 4 and 40% at 1 -> W = 2.8
        tasks = [{"name": "Write code", "time_share": 60, "score": 4, "rationale": "r1"},
                 {"name": "Talk to people", "time_share": 40, "score": 1, "rationale": "r2"}]
        j = write("PUT", "tasks", {"tasks": tasks, "reason": "new decomposition"}, ["tasks"],
                  "PUT tasks")
        a["tasks"] = tasks
        sb = j.get("score") or {}
        check_eq((sb.get("score"), sb.get("zone"), sb.get("label")), expected(a), "tasks score")
        check_eq(sb.get("weighted_task_score"), 2.8, "W")
        check_eq(sb.get("impact"), {"displaced": 60, "augmented": 0, "not_involved": 40}, "impact")
        check_eq(sb.get("share_scoring_3plus"), 60, "S3")
        check_eq(j.get("score_changed"), True, "tasks score_changed")
        got = s.get(f"/roles/{SLUG}/tasks").json["tasks"]
        check_eq([(t["name"], t["time_share"], t["score"]) for t in got],
                 [("Write code", 60, 4), ("Talk to people", 40, 1)], "tasks stored")
        check_eq([t.get("impact") for t in got], ["displaced", "not_involved"], "impact labels")

        # barriers: all five at 2 -> B = 10, Strong
        bars = {k: {"score": 2, "rationale": f"{k} strong"} for k in BARRIERS}
        j = write("PUT", "barriers", {"barriers": bars, "reason": "barriers"}, None, "PUT barriers")
        check(all(c.startswith("barriers") for c in j.get("changes") or [""]),
              f"barrier changes: {j.get('changes')}")
        a["barriers"] = bars
        sb = j.get("score") or {}
        check_eq(sb.get("barriers"), {"total": 10, "modifier": 1.2, "strength": "Strong"},
                 "barriers block")
        check_eq((sb.get("score"), sb.get("zone"), sb.get("label")), expected(a), "barriers score")
        r = s.get(f"/roles/{SLUG}")
        check_eq(r.json["assessment"]["barriers"], bars, "barriers stored")

        # protective: P does not enter the formula -> score_changed false
        prot = {k: {"score": 3, "rationale": f"{k} high"} for k in PROTECTIVE}
        before = sb.get("score")
        j = write("PUT", "protective", {"protective": prot, "reason": "protective"}, None,
                  "PUT protective")
        check_eq(j.get("score_changed"), False, "protective leaves the score")
        check_eq((j.get("score") or {}).get("score"), before, "same score")
        check_eq((j.get("score") or {}).get("protective"), {"total": 9}, "P total")
        check_eq(((j.get("score") or {}).get("composition") or {}).get("protective"), 10.0,
                 "composition of P")

        # growth +2 -> Green (Accelerated) when green
        j = write("PUT", "growth", {"growth": {"score": 2, "rationale": "boom"},
                                    "reason": "growth"}, ["growth"], "PUT growth")
        a["growth"] = {"score": 2, "rationale": "boom"}
        sb = j.get("score") or {}
        check_eq((sb.get("score"), sb.get("zone"), sb.get("label")), expected(a), "growth score")
        check_eq(sb.get("growth"), {"score": 2, "modifier": 1.1,
                                    "wording": "AI strongly boosts jobs"}, "growth block")
        formula = (sb.get("score"), sb.get("zone"), sb.get("label"))

        # override 30 -> yellow published, formula kept
        j = write("PUT", "override", {"override": {"score": 30, "reason": "panel view"},
                                      "reason": "override"}, ["override"], "PUT override")
        sb = j.get("score") or {}
        check_eq(sb.get("score"), 30, "published score from the override")
        check_eq(sb.get("zone"), "yellow", "zone from the override")
        check(str(sb.get("label", "")).startswith("Yellow ("), f"label: {sb.get('label')}")
        check_eq(sb.get("label"), "Yellow (Urgent)", "label from override with S3 60")
        f = sb.get("formula") or {}
        check_eq((f.get("score"), f.get("zone"), f.get("label")), formula, "formula kept")
        ov = sb.get("override") or {}
        check_eq((ov.get("score"), ov.get("reason")), (30, "panel view"), "override reported")
        check_eq(j.get("score_changed"), True, "override moves the published score")
        r = s.get(f"/roles/{SLUG}/score")
        check_eq((r.json["score"], r.json["zone"]), (30, "yellow"), "GET score after override")
        check_eq(s.get(f"/roles/{SLUG}").json["assessment"].get("override"),
                 {"score": 30, "reason": "panel view"}, "override stored in assessment")
        lst = s.get("/roles?zone=yellow").json
        check_eq([i["slug"] for i in lst["items"]], [SLUG], "list uses the published score")

        # DELETE override -> back to the formula
        r = s.delete(f"/roles/{SLUG}/override", token=tok)
        check_eq(r.status, 200, f"DELETE override {r.body[:200]!r}")
        j = r.json or {}
        rev += 1
        check_eq((j.get("revision"), j.get("changed"), j.get("score_changed")),
                 (rev, True, True), "DELETE override answer")
        sb = j.get("score") or {}
        check_eq((sb.get("score"), sb.get("zone"), sb.get("label")), formula, "formula again")
        check_eq(sb.get("override"), None, "no override")
        r = s.delete(f"/roles/{SLUG}/override", token=tok)
        check_eq((r.status, (r.json or {}).get("changed")), (200, False),
                 "DELETE override again changes nothing")
        check_eq(revision_count(s), rev, "one revision per change")
        hist = s.get(f"/roles/{SLUG}/revisions").json["items"]
        check_eq([h["revision"] for h in hist], list(range(rev, 0, -1)), "gapless history")
        check_eq(hist[0].get("changed"), ["override"], "override revision changed")


# ---------------------------------------------------------------- validation

@test
def validation_rules_422():
    with Server() as s:
        tok = s.token()
        seed = seed_role()
        ev_path = f"/roles/{SLUG}/evidence"

        def bad(method, path, body, want_fields, msg):
            n0 = revision_count(s)
            r = s.request(method, path, body=body, token=tok)
            is_problem(r, 422, msg)
            check_eq((r.json or {}).get("type"), "urn:aijri:problem:validation-error", f"{msg} type")
            for f in want_fields:
                names_field(r, f, msg)
            for e in (r.json or {}).get("errors") or []:
                check(bool(e.get("message")), f"{msg}: every error has a message {e}")
            check_eq(revision_count(s), n0, f"{msg}: nothing stored")
            return r

        def ev(dims, **extra):
            b = {"dimensions": dims, "reason": "x"}
            b.update(extra)
            return b

        bad("POST", ev_path, ev({"wage_trends": {"score": 3, "rationale": "x"}}),
            ["wage_trends.score"], "evidence 3")
        bad("POST", ev_path, ev({"wage_trends": {"score": -3, "rationale": "x"}}),
            ["wage_trends.score"], "evidence -3")
        bad("POST", ev_path, ev({"wage_trends": {"score": 1.5, "rationale": "x"}}),
            ["wage_trends.score"], "non-integer score")
        bad("POST", ev_path, ev({"wage_trends": {"score": "2", "rationale": "x"}}),
            ["wage_trends.score"], "string score")
        bad("POST", ev_path, ev({"salary_vibes": {"score": 1, "rationale": "x"}}),
            ["salary_vibes"], "unknown dimension")
        bad("POST", ev_path, ev({"wage_trends": {"score": 1, "rationale": "x"}}, colour="red"),
            ["colour"], "unknown top-level field")
        bad("POST", ev_path, ev({"wage_trends": {"score": 1, "rationale": "x", "weight": 2}}),
            ["wage_trends.weight"], "unknown nested field")
        bad("POST", ev_path, ev({"wage_trends": {"score": 1, "rationale": "x",
                                                 "sources": [{"title": "t", "url": "u",
                                                              "year": 1}]}}),
            ["year"], "unknown source field")
        bad("POST", ev_path, ev({}), ["dimensions"], "no dimension")
        # several errors in one body, listed together
        r = bad("POST", ev_path,
                ev({"wage_trends": {"score": 5, "rationale": "x"},
                    "company_actions": {"score": -4, "rationale": "x"},
                    "expert_consensus": {"score": 0.5, "rationale": "x"}}),
                ["wage_trends.score", "company_actions.score", "expert_consensus.score"],
                "three bad dimensions")
        check(len(fields(r)) >= 3, f"three errors listed: {fields(r)}")
        # an unknown field beside broken values: every broken field is listed
        r = bad("POST", ev_path,
                ev({"wage_trends": {"score": 9, "rationale": "x"},
                    "bogus": {"score": 1, "rationale": "x"}}, extra=1),
                ["extra", "wage_trends.score", "bogus"], "unknown and out-of-range together")
        bad("PUT", f"/roles/{SLUG}/growth",
            {"growth": {"score": 9, "rationale": "r"}, "reason": "x", "extra": 1},
            ["extra", "growth.score"], "PUT growth: unknown field and out-of-range together")

        task = {"name": "t", "time_share": 50, "score": 2, "rationale": "r"}
        tp = f"/roles/{SLUG}/tasks"
        bad("PUT", tp, {"tasks": [task, dict(task, time_share=40)], "reason": "x"},
            ["tasks"], "shares add up to 90")
        bad("PUT", tp, {"tasks": [task, dict(task, time_share=50.02)], "reason": "x"},
            ["tasks"], "shares add up to 100.02")
        r = s.put(tp, {"tasks": [task, dict(task, time_share=50.005)], "reason": "tol"},
                  token=tok)
        check_eq(r.status, 200, f"shares within 0.01 accepted: {r.body[:200]!r}")
        score_now = s.get(f"/roles/{SLUG}/score").json["score"]
        bad("PUT", tp, {"tasks": [dict(task, score=0), dict(task, score=6)], "reason": "x"},
            ["tasks[0].score", "tasks[1].score"], "task scores 0 and 6")
        bad("PUT", tp, {"tasks": [dict(task, score=2.5), task], "reason": "x"},
            ["tasks[0].score"], "non-integer task score")
        bad("PUT", tp, {"tasks": [dict(task, time_share=0), dict(task, time_share=100)],
                        "reason": "x"}, ["tasks[0].time_share"], "time_share 0")
        bad("PUT", tp, {"tasks": [], "reason": "x"}, ["tasks"], "no task")
        bad("PUT", tp, {"tasks": [dict(task, time_share=2)] * 51, "reason": "x"}, ["tasks"],
            "51 tasks")
        bad("PUT", tp, {"tasks": [{"time_share": 100, "score": 2, "rationale": "r"}],
                        "reason": "x"}, ["tasks[0].name"], "task without a name")

        bars = {k: {"score": 1, "rationale": "r"} for k in BARRIERS}
        bp = f"/roles/{SLUG}/barriers"
        b4 = dict(bars)
        del b4["cultural"]
        bad("PUT", bp, {"barriers": b4, "reason": "x"}, ["barriers.cultural"], "missing barrier")
        bad("PUT", bp, {"barriers": dict(bars, regulatory={"score": 3, "rationale": "r"}),
                        "reason": "x"}, ["barriers.regulatory.score"], "barrier 3")
        bad("PUT", bp, {"barriers": dict(bars, moat={"score": 1, "rationale": "r"}),
                        "reason": "x"}, ["barriers.moat"], "unknown barrier")
        prot = {k: {"score": 1, "rationale": "r"} for k in PROTECTIVE}
        bad("PUT", f"/roles/{SLUG}/protective",
            {"protective": dict(prot, moral_judgment={"score": 4, "rationale": "r"}),
             "reason": "x"}, ["protective.moral_judgment.score"], "protective 4")
        bad("PUT", f"/roles/{SLUG}/growth", {"growth": {"score": 3, "rationale": "r"},
                                             "reason": "x"}, ["growth.score"], "growth 3")
        bad("PUT", f"/roles/{SLUG}/growth", {"growth": {"score": -1.5, "rationale": "r"},
                                             "reason": "x"}, ["growth.score"], "growth -1.5")
        op = f"/roles/{SLUG}/override"
        bad("PUT", op, {"override": {"score": 101, "reason": "r"}}, ["override.score"],
            "override 101")
        bad("PUT", op, {"override": {"score": -1, "reason": "r"}}, ["override.score"],
            "override -1")
        bad("PUT", op, {"override": {"score": 50, "reason": ""}}, ["override.reason"],
            "override without reason")

        # whole bodies: POST /roles and PUT /roles/{slug}
        nb = role_body("valid-role", "Valid Role")
        nb["assessment"]["evidence"]["wage_trends"]["score"] = 7
        del nb["assessment"]["barriers"]["liability"]
        r = s.post("/roles", nb, token=tok)
        is_problem(r, 422, "POST /roles with two broken fields")
        names_field(r, "assessment.evidence.wage_trends.score", "POST /roles")
        names_field(r, "assessment.barriers.liability", "POST /roles")
        check_eq(s.get("/roles/valid-role").status, 404, "rejected role not created")
        nb = role_body("Not A Slug!", "")
        r = s.post("/roles", nb, token=tok)
        is_problem(r, 422, "POST /roles with a bad slug and an empty title")
        names_field(r, "slug", "bad slug")
        names_field(r, "title", "empty title")
        nb = role_body("no-title", "x")
        del nb["title"]
        r = s.post("/roles", nb, token=tok)
        is_problem(r, 422, "POST /roles without a title")
        names_field(r, "title", "missing title")
        r = s.request("POST", ev_path, raw=b'{"dimensions":{}}', token=tok,
                      headers={"Content-Type": "text/plain"})
        is_problem(r, 415, "a write with text/plain")
        bad_put = copy.deepcopy(seed)
        bad_put["assessment"]["growth"]["score"] = 5
        bad_put["colour"] = "red"
        bad("PUT", f"/roles/{SLUG}", bad_put, ["assessment.growth.score", "colour"],
            "PUT role with two broken fields")
        check_eq(s.get(f"/roles/{SLUG}/score").json["score"], score_now, "score as it was")
        check_eq(current(s)["revision"], 2, "only the accepted tolerance write was stored")


# ---------------------------------------------------------------- HTTP errors

@test
def malformed_json_400():
    with Server() as s:
        tok = s.token()
        body = b'{\n  "dimensions": {\n    "wage_trends": ,\n  }\n}'
        r = s.request("POST", f"/roles/{SLUG}/evidence", raw=body,
                      headers={"Content-Type": "application/json"}, token=tok)
        is_problem(r, 400, "malformed JSON")
        j = r.json or {}
        check_eq(j.get("type"), "urn:aijri:problem:malformed-json", "type")
        check_eq(j.get("line"), 3, "line of the syntax error")
        check_eq(j.get("column"), 20, "column of the syntax error")
        r = s.request("POST", "/roles", raw=b'{"slug": "x"', token=tok,
                      headers={"Content-Type": "application/json"})
        is_problem(r, 400, "truncated JSON")
        check("line" in (r.json or {}) and "column" in (r.json or {}), "line and column")
        r = s.request("POST", "/score", raw=b"[1, 2,]", headers={"Content-Type": "application/json"})
        is_problem(r, 400, "malformed JSON on POST /score")
        check_eq(((r.json or {}).get("line"), (r.json or {}).get("column")), (1, 7),
                 "line and column of [1, 2,]")
        # No body at all: malformed at its start, with line and column like any other.
        r = s.request("POST", f"/roles/{SLUG}/evidence", raw=b"", token=tok,
                      headers={"Content-Type": "application/json"})
        is_problem(r, 400, "an empty body")
        check_eq(((r.json or {}).get("line"), (r.json or {}).get("column")), (1, 0),
                 "line and column of an empty body")
        # JSON that parses but is not an object breaks a rule: 422 naming the body.
        for raw in (b'"x"', b"12", b"null", b"[]"):
            r = s.request("POST", "/score", raw=raw, headers={"Content-Type": "application/json"})
            check_eq(r.status, 422, f"POST /score {raw!r}: status")
            check_eq([e.get("field") for e in (r.json or {}).get("errors", [])], ["body"],
                     f"POST /score {raw!r}: the field")
        check_eq(revision_count(s), 1, "nothing stored")


@test
def body_over_1mib_413():
    with Server() as s:
        tok = s.token()
        big = {"dimensions": {"wage_trends": {"score": 2, "rationale": "x" * (1024 * 1024 + 10)}},
               "reason": "big"}
        r = s.post(f"/roles/{SLUG}/evidence", big, token=tok)
        is_problem(r, 413, "over 1 MiB")
        check_eq(revision_count(s), 1, "nothing stored")
        check_eq(s.get(f"/roles/{SLUG}/score").json["score"], 55.2, "score unchanged")
        # a body just under 1 MiB (padded with JSON whitespace) is parsed: a 200 write
        ok = json.dumps({"dimensions": {"wage_trends": {"score": 2, "rationale": "x"}},
                         "reason": "large"}).encode()
        ok = ok[:-1] + b" " * (1024 * 1024 - len(ok) - 16) + b"}"
        r = s.request("POST", f"/roles/{SLUG}/evidence", raw=ok, token=tok,
                      headers={"Content-Type": "application/json"})
        check_eq(r.status, 200, f"a body under 1 MiB is accepted: {r.body[:200]!r}")
        check_eq(revision_count(s), 2, "and stored")
        long = {"dimensions": {"wage_trends": {"score": 1, "rationale": "z" * 500000}},
                "reason": "a long rationale"}
        r = s.post(f"/roles/{SLUG}/evidence", long, token=tok)
        check_eq(r.status, 200, f"a 500,000-character rationale fits in 1 MiB: {r.body[:200]!r}")
        ev = s.get(f"/roles/{SLUG}/evidence").json["evidence"]["wage_trends"]
        check_eq(len(ev["rationale"]), 500000, "stored whole")
        r = s.post("/score", raw=b" " * (1024 * 1024 + 1),
                   headers={"Content-Type": "application/json"})
        check_eq(r.status, 413, "POST /score over 1 MiB")


@test
def unknown_role_404():
    with Server() as s:
        tok = s.token()
        for path in ("/roles/no-such-role", "/roles/no-such-role/score",
                     "/roles/no-such-role/tasks", "/roles/no-such-role/evidence",
                     "/roles/no-such-role/revisions", "/roles/no-such-role/revisions/1"):
            r = s.get(path)
            is_problem(r, 404, f"GET {path}")
            check_eq((r.json or {}).get("type"), "urn:aijri:problem:not-found", f"{path} type")
        r = s.post("/roles/no-such-role/evidence",
                   {"dimensions": {"wage_trends": {"score": 1, "rationale": "x"}}, "reason": "x"},
                   token=tok)
        is_problem(r, 404, "POST evidence of an unknown role")
        r = s.put("/roles/no-such-role/growth", {"growth": {"score": 1, "rationale": "x"},
                                                  "reason": "x"}, token=tok)
        is_problem(r, 404, "PUT growth of an unknown role")
        is_problem(s.delete("/roles/no-such-role", token=tok), 404, "DELETE unknown role")
        is_problem(s.get("/no/such/path"), 404, "unknown path")


@test
def wrong_method_405():
    with Server() as s:
        tok = s.token()
        cases = [("PATCH", f"/roles/{SLUG}/score", {"GET"}),
                 ("PATCH", "/roles/x/score", {"GET"}),
                 ("POST", f"/roles/{SLUG}/score", {"GET"}),
                 ("DELETE", "/roles", {"GET", "POST"}),
                 ("POST", f"/roles/{SLUG}", {"GET", "PUT", "DELETE"}),
                 ("GET", "/score", {"POST"}),
                 ("POST", "/healthz", {"GET"}),
                 ("DELETE", f"/roles/{SLUG}/evidence", {"GET", "POST"}),
                 ("POST", f"/roles/{SLUG}/revisions", {"GET"})]
        for method, path, want in cases:
            r = s.request(method, path, token=tok)
            is_problem(r, 405, f"{method} {path}")
            allow = {m.strip() for m in (r.header("allow") or "").split(",") if m.strip()}
            check(want <= allow and method not in allow, f"{method} {path} Allow: {allow}")
        check_eq(revision_count(s), 1, "nothing written")


@test
def auth_401_on_every_write():
    with Server() as s:
        s.token()
        seed = seed_role()
        new = role_body("auth-role", "Auth Role")
        writes = [
            ("POST", "/roles", new),
            ("PUT", f"/roles/{SLUG}", dict(seed, title="Changed")),
            ("DELETE", f"/roles/{SLUG}", None),
            ("PUT", f"/roles/{SLUG}/tasks", {"tasks": seed["assessment"]["tasks"][:1] and
                                              [dict(seed["assessment"]["tasks"][0],
                                                    time_share=100)], "reason": "x"}),
            ("POST", f"/roles/{SLUG}/evidence",
             {"dimensions": {"wage_trends": {"score": 2, "rationale": "x"}}, "reason": "x"}),
            ("PUT", f"/roles/{SLUG}/barriers",
             {"barriers": {k: {"score": 2, "rationale": "r"} for k in BARRIERS}, "reason": "x"}),
            ("PUT", f"/roles/{SLUG}/protective",
             {"protective": {k: {"score": 0, "rationale": "r"} for k in PROTECTIVE},
              "reason": "x"}),
            ("PUT", f"/roles/{SLUG}/growth", {"growth": {"score": -2, "rationale": "r"},
                                              "reason": "x"}),
            ("PUT", f"/roles/{SLUG}/override", {"override": {"score": 10, "reason": "r"}}),
            ("DELETE", f"/roles/{SLUG}/override", None),
        ]
        bad_headers = [None, {"Authorization": "Bearer not-a-real-token"},
                       {"Authorization": "Bearer "}, {"Authorization": "Basic dXNlcjpwYXNz"}]
        for method, path, body in writes:
            for h in bad_headers:
                r = s.request(method, path, body=body, headers=h)
                is_problem(r, 401, f"{method} {path} with {h}")
                check_eq((r.json or {}).get("type"), "urn:aijri:problem:unauthorized",
                         f"{method} {path} type")
        check_eq(revision_count(s), 1, "nothing written")
        check_eq(s.get("/roles/auth-role").status, 404, "no role created")
        check_eq(s.get("/roles").json["total"], 1, "one role still")
        # reads need no token
        for path in ("/roles", f"/roles/{SLUG}", f"/roles/{SLUG}/score", "/methodology"):
            check_eq(s.get(path).status, 200, f"GET {path} without a token")


@test
def revoked_token_stops_working():
    with Server() as s:
        tok = s.token("bob")
        body = {"dimensions": {"wage_trends": {"score": 2, "rationale": "x"}}, "reason": "x"}
        check_eq(s.post(f"/roles/{SLUG}/evidence", body, token=tok).status, 200, "token works")
        run_cli("token", "revoke", "bob", db=s.db, check_rc=0)
        body["dimensions"]["wage_trends"]["score"] = 0
        r = s.post(f"/roles/{SLUG}/evidence", body, token=tok)
        is_problem(r, 401, "revoked token")
        check_eq(revision_count(s), 2, "nothing written by a revoked token")
        other = s.token("carol")
        check_eq(s.post(f"/roles/{SLUG}/evidence", body, token=other).status, 200,
                 "another token still works")


# ---------------------------------------------------------------- ETag, If-Match

@test
def etag_and_if_none_match():
    with Server() as s:
        tok = s.token()
        paths = [f"/roles/{SLUG}", f"/roles/{SLUG}/score", f"/roles/{SLUG}/tasks",
                 f"/roles/{SLUG}/evidence", f"/roles/{SLUG}/barriers",
                 f"/roles/{SLUG}/protective", f"/roles/{SLUG}/growth",
                 f"/roles/{SLUG}/override", f"/roles/{SLUG}/revisions",
                 f"/roles/{SLUG}/revisions/1"]
        for p in paths:
            r = s.get(p)
            check_eq((r.status, r.header("etag")), (200, '"r1"'), f"ETag of {p}")
            r = s.get(p, headers={"If-None-Match": '"r1"'})
            check_eq(r.status, 304, f"If-None-Match on {p}")
            check_eq(r.body, b"", f"304 of {p} has no body")
            check_eq(r.header("etag"), '"r1"', f"304 of {p} repeats the ETag")
        r = s.get(f"/roles/{SLUG}", headers={"If-None-Match": '"r7"'})
        check_eq(r.status, 200, "another ETag gives 200")
        r = s.get(f"/roles/{SLUG}", headers={"If-None-Match": '"r0", "r1"'})
        check_eq(r.status, 304, "a list containing the ETag gives 304")
        s.post(f"/roles/{SLUG}/evidence",
               {"dimensions": {"wage_trends": {"score": 2, "rationale": "x"}}, "reason": "x"},
               token=tok)
        r = s.get(f"/roles/{SLUG}/score", headers={"If-None-Match": '"r1"'})
        check_eq((r.status, r.header("etag")), (200, '"r2"'), "after a write: 200 with r2")
        check_eq((r.json or {}).get("score"), 57.2, "new body")
        r = s.get(f"/roles/{SLUG}/score", headers={"If-None-Match": '"r2"'})
        check_eq(r.status, 304, "r2 now matches")


@test
def if_match_412():
    with Server() as s:
        tok = s.token()
        body = {"dimensions": {"wage_trends": {"score": 2, "rationale": "x"}}, "reason": "x"}
        r = s.post(f"/roles/{SLUG}/evidence", body, token=tok, headers={"If-Match": '"r1"'})
        check_eq(r.status, 200, "If-Match current succeeds")
        check_eq((r.json or {}).get("revision"), 2, "revision 2")
        body["dimensions"]["wage_trends"]["score"] = -2
        for method, path, b in [("POST", f"/roles/{SLUG}/evidence", body),
                                ("PUT", f"/roles/{SLUG}/growth",
                                 {"growth": {"score": 0, "rationale": "r"}, "reason": "x"}),
                                ("PUT", f"/roles/{SLUG}/override",
                                 {"override": {"score": 1, "reason": "r"}}),
                                ("PUT", f"/roles/{SLUG}", seed_role()),
                                ("DELETE", f"/roles/{SLUG}", None)]:
            r = s.request(method, path, body=b, token=tok, headers={"If-Match": '"r1"'})
            is_problem(r, 412, f"stale If-Match on {method} {path}")
            check_eq((r.json or {}).get("type"), "urn:aijri:problem:precondition-failed", "type")
        check_eq(revision_count(s), 2, "nothing written")
        check_eq(s.get(f"/roles/{SLUG}/score").json["score"], 57.2, "score as it was")
        r = s.put(f"/roles/{SLUG}/growth", {"growth": {"score": 0, "rationale": "r"},
                                            "reason": "x"}, token=tok,
                  headers={"If-Match": '"r2"'})
        check_eq((r.status, (r.json or {}).get("revision")), (200, 3), "If-Match r2 succeeds")
        r = s.delete(f"/roles/{SLUG}", token=tok, headers={"If-Match": '"r3"'})
        check_eq(r.status, 204, "DELETE with the current If-Match")


# ---------------------------------------------------------------- aliases

@test
def alias_redirects_308():
    with Server() as s:
        for alias in ("tinyml-engineer", "edge-ml-engineer", "embedded-ai-engineer"):
            for sub in ("", "/score", "/tasks", "/evidence", "/revisions"):
                r = s.get(f"/roles/{alias}{sub}")
                check_eq(r.status, 308, f"GET /roles/{alias}{sub}")
                check_eq(r.header("location"), f"/roles/{SLUG}{sub}", f"Location of {alias}{sub}")
        r = s.get("/roles/tinyml-engineer/revisions?limit=1")
        check_eq(r.status, 308, "alias with a query string")
        check_eq(r.header("location"), f"/roles/{SLUG}/revisions?limit=1", "query string kept")
        r = s.request("HEAD", "/roles/tinyml-engineer/score")
        check_eq((r.status, r.header("location")), (308, f"/roles/{SLUG}/score"), "HEAD alias")


# ---------------------------------------------------------------- create, replace, archive

@test
def create_replace_archive():
    with Server() as s:
        tok = s.token("dana")
        body = role_body("data-engineer", "Data Engineer", task_scores=[3, 3, 3, 3, 3, 3, 3, 3],
                         evidence=0, aliases=["Pipeline Engineer"])
        r = s.post("/roles", body, token=tok)
        check_eq(r.status, 201, f"POST /roles {r.body[:300]!r}")
        check_eq(r.header("location"), "/roles/data-engineer", "Location")
        want = expected(body["assessment"])
        j = r.json or {}
        sb = j.get("score") or j
        check_eq((sb.get("score"), sb.get("zone"), sb.get("label")), want, "created score")
        r = s.get("/roles/data-engineer")
        check_eq(r.status, 200, "GET created role")
        g = r.json
        check_eq((g.get("title"), g.get("revision")), ("Data Engineer", 1), "created role")
        check_eq(without_as_of(g.get("assessment")), body["assessment"], "assessment stored")
        check_eq(r.header("etag"), '"r1"', "ETag r1")
        check_eq(s.get("/roles/pipeline-engineer").header("location"), "/roles/data-engineer",
                 "new alias redirects")
        h = s.get("/roles/data-engineer/revisions").json["items"]
        check_eq([(i["revision"], i["actor"]) for i in h], [(1, "dana")], "creation revision")

        r = s.post("/roles", body, token=tok)
        is_problem(r, 409, "POST existing slug")
        check_eq((r.json or {}).get("type"), "urn:aijri:problem:conflict", "conflict type")
        check_eq(fields(r), ["slug"], "the 409 names the slug")
        r = s.post("/roles", role_body("fresh-role", "Fresh", aliases=["TinyML Engineer"]),
                   token=tok)
        is_problem(r, 409, "POST with another role's alias")
        check_eq(fields(r), ["aliases"], "the 409 names the aliases")
        is_problem(s.get("/roles/fresh-role"), 404, "the 409 created nothing")
        r = s.post("/roles", dict(seed_role(), title="Another"), token=tok)
        is_problem(r, 409, "POST the seed's slug")
        r = s.post("/roles", role_body("tinyml-engineer", "Tiny"), token=tok)
        check(r.status in (409, 422), f"slug that is another role's alias: {r.status}")
        check_eq(s.get("/roles").json["total"], 2, "two roles")
        check_eq(revision_count(s, "data-engineer"), 1, "409 wrote nothing")

        # PUT /roles/{slug}: a new revision
        body2 = copy.deepcopy(body)
        body2["title"] = "Data Platform Engineer"
        body2["assessment"]["growth"] = {"score": -2, "rationale": "shrinks"}
        r = s.put("/roles/data-engineer", body2, token=tok)
        check_eq(r.status, 200, f"PUT role {r.body[:300]!r}")
        j = r.json or {}
        check_eq((j.get("revision"), j.get("changed")), (2, True), "PUT role revision")
        check(set(j.get("changes") or []) >= {"title", "growth"}, f"changes: {j.get('changes')}")
        check_eq(((j.get("score") or {}).get("score"), (j.get("score") or {}).get("zone")),
                 expected(body2["assessment"])[:2], "PUT role score")
        g = s.get("/roles/data-engineer").json
        check_eq((g["title"], g["revision"], g["assessment"]["growth"]["score"]),
                 ("Data Platform Engineer", 2, -2), "PUT role stored")
        check_eq(g["created_at"] <= g["updated_at"], True, "created_at <= updated_at")

        # DELETE: archived
        r = s.delete("/roles/data-engineer", token=tok)
        check_eq(r.status, 204, "DELETE role")
        check_eq(r.body, b"", "204 without body")
        for p in ("/roles/data-engineer", "/roles/data-engineer/score"):
            is_problem(s.get(p), 404, f"archived {p}")
        check_eq(s.get("/roles/pipeline-engineer").status, 404, "alias of archived role")
        lst = s.get("/roles").json
        check_eq(([i["slug"] for i in lst["items"]], lst["total"]), ([SLUG], 1), "gone from list")
        check("data-engineer" not in s.get("/export?format=csv").body.decode(), "gone from export")
        check_eq(s.get(f"/compare?roles={SLUG},data-engineer").status, 404, "gone from compare")
        is_problem(s.delete("/roles/data-engineer", token=tok), 404, "DELETE again")
        r = s.post("/roles/data-engineer/evidence",
                   {"dimensions": {"wage_trends": {"score": 1, "rationale": "x"}}, "reason": "x"},
                   token=tok)
        is_problem(r, 404, "write to an archived role")


# ---------------------------------------------------------------- lists

@test
def list_filters_sort_pagination():
    with Server() as s:
        tok = s.token()
        specs = [("data-engineer", "Data Engineer", [3] * 8, 0, ["Pipeline Engineer"]),
                 ("tax-preparer", "Tax Preparer", [5] * 8, -2, []),
                 ("nurse", "Registered Nurse", [1] * 8, 2, ["RN"]),
                 ("copywriter", "Copywriter", [4] * 8, -1, ["Content Writer"])]
        scores = {SLUG: 55.2}
        for slug, title, ts, e, al in specs:
            b = role_body(slug, title, task_scores=ts, evidence=e, aliases=al)
            r = s.post("/roles", b, token=tok)
            check_eq(r.status, 201, f"create {slug}")
            scores[slug] = expected(b["assessment"])[0]
        zones = {sl: ("green" if v >= 48 else "yellow" if v >= 25 else "red")
                 for sl, v in scores.items()}

        def slugs(q):
            r = s.get("/roles" + q)
            check_eq(r.status, 200, f"GET /roles{q}")
            return [i["slug"] for i in (r.json or {}).get("items", [])]

        r = s.get("/roles")
        j = r.json
        check_eq((j["total"], j["limit"], j["offset"]), (5, 20, 0), "default envelope")
        check_eq(j["links"], {"next": None, "prev": None}, "one page: no links")
        item = [i for i in j["items"] if i["slug"] == SLUG][0]
        check_eq((item["title"], item["score"], item["zone"], item["label"], item["revision"]),
                 ("Edge AI Engineer", 55.2, "green", "Green (Transforming)", 1), "list item")
        check_eq((item.get("category"), item.get("seniority")),
                 ("AI/ML Engineering", "Mid-level (3-6 years experience)"),
                 "list item category and seniority")
        titles = {SLUG: "Edge AI Engineer"}
        titles.update({sp[0]: sp[1] for sp in specs})
        check_eq(slugs("?sort=title"), sorted(titles, key=lambda k: titles[k]), "sort=title")
        check_eq(slugs("?sort=score"), sorted(scores, key=lambda k: scores[k]), "sort=score")
        check_eq(slugs("?sort=-score"), sorted(scores, key=lambda k: -scores[k]), "sort=-score")
        check_eq(slugs("?q=engineer&sort=title"), ["data-engineer", SLUG], "q in title")
        check_eq(slugs("?q=TINYML"), [SLUG], "q in alias, case-insensitive")
        check_eq(slugs("?q=content%20writer"), ["copywriter"], "q in alias with a space")
        check_eq(slugs("?q=zzz"), [], "q matching nothing")
        for z in ("green", "yellow", "red"):
            check_eq(sorted(slugs(f"?zone={z}")), sorted(k for k in zones if zones[k] == z),
                     f"zone={z}")
        check_eq(sorted(slugs("?min_score=50")), sorted(k for k in scores if scores[k] >= 50),
                 "min_score")
        check_eq(sorted(slugs("?max_score=30")), sorted(k for k in scores if scores[k] <= 30),
                 "max_score")
        check_eq(slugs("?min_score=55.2&max_score=55.2"), [SLUG], "bounds inclusive")
        check_eq(slugs("?min_score=20&max_score=60&sort=-score"),
                 sorted([k for k in scores if 20 <= scores[k] <= 60], key=lambda k: -scores[k]),
                 "min and max with sort")

        order = slugs("?sort=title")
        r = s.get("/roles?sort=title&limit=2")
        j = r.json
        check_eq(([i["slug"] for i in j["items"]], j["total"], j["limit"], j["offset"]),
                 (order[:2], 5, 2, 0), "first page")
        check_eq(j["links"]["prev"], None, "no prev on the first page")
        nxt = j["links"]["next"]
        check(isinstance(nxt, str) and "offset=2" in nxt and "limit=2" in nxt
              and "sort=title" in nxt, f"next keeps the arguments: {nxt}")
        check_eq(r.header("link"), f'<{nxt}>; rel="next"', "Link header of the first page")
        r2 = s.get(str(nxt))
        check_eq(r2.header("link"), f'<{r2.json["links"]["next"]}>; rel="next", '
                 f'<{r2.json["links"]["prev"]}>; rel="prev"', "Link header of a middle page")
        check_eq(s.get("/roles?limit=200").header("link"), None, "no Link on a single page")
        pages, seen = 0, []
        while nxt and pages < 5:
            j = s.get(nxt).json
            seen += [i["slug"] for i in j["items"]]
            last = j
            nxt = j["links"]["next"]
            pages += 1
        check_eq(seen, order[2:], "following next walks the rest")
        check_eq(pages, 2, "two more pages")
        prev = last["links"]["prev"]
        check(isinstance(prev, str) and "offset=2" in prev, f"prev of the last page: {prev}")
        if isinstance(prev, str):
            check_eq([i["slug"] for i in s.get(prev).json["items"]], order[2:4], "prev page")
        j = s.get("/roles?limit=200&offset=10").json
        check_eq((j["items"], j["total"]), ([], 5), "offset beyond the end")
        j = s.get("/roles?zone=green&limit=1").json
        check(j["links"]["next"] is None or "zone=green" in j["links"]["next"], "next keeps zone")
        check_eq(s.get("/roles?zone=Green").json["total"], s.get("/roles?zone=green").json["total"],
                 "zone in any case")

        for q in ("limit=201", "limit=0", "limit=-1", "offset=-1", "limit=abc", "zone=blue",
                  "sort=salary", "min_score=abc"):
            r = s.get("/roles?" + q)
            is_problem(r, 422, f"/roles?{q}")
        names_field(s.get("/roles?limit=201"), "limit", "limit over 200")
        check_eq(s.get("/roles?limit=200").status, 200, "limit 200 is allowed")
        j = s.get(f"/roles/{SLUG}/revisions?limit=1").json
        check_eq((len(j["items"]), j["total"], j["limit"]), (1, 1, 1), "revisions envelope")
        is_problem(s.get(f"/roles/{SLUG}/revisions?limit=201"), 422, "revisions limit 201")


# ---------------------------------------------------------------- stateless reads

@test
def post_score_stateless():
    with Server() as s:
        seed = seed_role()
        want = (55.2, "green", "Green (Transforming)")
        for name, body in [("bare", seed["assessment"]),
                           ("wrapped", {"assessment": seed["assessment"]}),
                           ("whole role", seed)]:
            r = s.post("/score", body)
            check_eq(r.status, 200, f"POST /score {name}: {r.body[:300]!r}")
            j = r.json or {}
            check_eq((j.get("score"), j.get("zone"), j.get("label")), want, f"{name} score")
            check_eq((j.get("score_exact"), j.get("raw"), j.get("task_resistance")),
                     (55.1576, 4.914, 3.75), f"{name} figures")
            check_eq(j.get("impact"), {"displaced": 5, "augmented": 90, "not_involved": 5},
                     f"{name} impact")
        low = copy.deepcopy(seed["assessment"])
        for t in low["tasks"]:
            t["score"] = 5
        for d in low["evidence"].values():
            d["score"] = -2
        for d in low["barriers"].values():
            d["score"] = 0
        low["growth"]["score"] = -2
        j = s.post("/score", low).json or {}
        check_eq((j.get("score"), j.get("zone"), j.get("raw")), (0.0, "red", 0.54), "floor")
        high = copy.deepcopy(low)
        for t in high["tasks"]:
            t["score"] = 1
        for d in high["evidence"].values():
            d["score"] = 2
        for d in high["barriers"].values():
            d["score"] = 2
        high["growth"]["score"] = 2
        j = s.post("/score", high).json or {}
        check_eq((j.get("score"), j.get("label"), j.get("raw")),
                 (100.0, "Green (Accelerated)", 9.24), "clamped to 100")
        ov = copy.deepcopy(seed["assessment"])
        ov["override"] = {"score": 20, "reason": "r"}
        j = s.post("/score", ov).json or {}
        check_eq((j.get("score"), j.get("zone"), (j.get("formula") or {}).get("score")),
                 (20, "red", 55.2), "override in POST /score")
        bad = copy.deepcopy(seed["assessment"])
        bad["tasks"][0]["time_share"] = 30
        r = s.post("/score", bad)
        is_problem(r, 422, "POST /score shares 105")
        names_field(r, "tasks", "POST /score")
        r = s.post("/score", dict(seed["assessment"], extra=1))
        is_problem(r, 422, "POST /score unknown field")
        check_eq(revision_count(s), 1, "POST /score stored nothing")
        check_eq(s.get("/roles").json["total"], 1, "no role created")
        r = s.request("POST", "/score", raw=b"score me",
                      headers={"Content-Type": "text/plain"})
        check_eq(r.status, 415, "POST /score with text/plain is 415")


@test
def compare_export_methodology_health():
    with Server() as s:
        tok = s.token()
        b = role_body("tax-preparer", "Tax Preparer", task_scores=[5] * 8, evidence=-2)
        check_eq(s.post("/roles", b, token=tok).status, 201, "create")
        r = s.get(f"/compare?roles=tax-preparer,{SLUG}")
        check_eq(r.status, 200, "compare")
        roles = (r.json or {}).get("roles") or []
        check_eq([x.get("role") for x in roles], ["tax-preparer", SLUG], "in the order given")
        check_eq([x.get("score") for x in roles], [expected(b["assessment"])[0], 55.2], "scores")
        check_eq(roles[1].get("composition") if len(roles) > 1 else None,
                 {"task_resistance": 37.5, "evidence": 10.0, "barriers": 3.0, "protective": 3.3,
                  "growth": 2.5}, "whole score blocks")
        is_problem(s.get(f"/compare?roles={SLUG},nope"), 404, "compare unknown slug")
        r = s.get(f"/compare?roles={SLUG}")
        check_eq(r.status, 200, "compare one role")
        check_eq([b["role"] for b in r.json["roles"]], [SLUG], "compare one role: its block")
        is_problem(s.get("/compare?roles=,"), 422, "compare with an empty list")
        is_problem(s.get("/compare"), 422, "compare without roles")

        r = s.get("/export?format=ndjson")
        check_eq(r.status, 200, "ndjson")
        check_eq((r.header("content-type") or "").split(";")[0], "application/x-ndjson", "type")
        lines = [json.loads(x) for x in r.body.decode().splitlines() if x.strip()]
        check_eq(sorted(x.get("slug") for x in lines), [SLUG, "tax-preparer"], "ndjson roles")
        e = [x for x in lines if x.get("slug") == SLUG]
        if check(e, "seed in ndjson"):
            sc = e[0].get("score")
            check_eq(sc.get("score") if isinstance(sc, dict) else sc, 55.2, "ndjson score")
            check_eq(e[0].get("title"), "Edge AI Engineer", "ndjson title")
        r = s.get("/export?format=csv")
        check_eq(r.status, 200, "csv")
        check_eq((r.header("content-type") or "").split(";")[0], "text/csv", "csv type")
        rows = list(csv.reader(io.StringIO(r.body.decode())))
        check_eq(rows[0], ["slug", "title", "category", "seniority", "score", "zone", "label",
                           "revision", "updated_at", "soc", "isco"], "csv header")
        byslug = {x[0]: x for x in rows[1:]}
        check_eq(sorted(byslug), [SLUG, "tax-preparer"], "csv rows")
        if SLUG in byslug:
            check_eq(byslug[SLUG][1:8], ["Edge AI Engineer", "AI/ML Engineering",
                                         "Mid-level (3-6 years experience)", "55.2", "green",
                                         "Green (Transforming)", "1"], "csv row of the seed")
        check_eq(s.get("/export").status, 200, "export default format")
        is_problem(s.get("/export?format=xml"), 422, "export format xml")

        r = s.get("/methodology")
        check_eq(r.status, 200, "methodology")
        m = r.json or {}
        check_eq(m.get("method_version"), "1", "method version")
        c = m.get("constants") or {}
        check_eq((c.get("raw_floor"), c.get("raw_span"), c.get("task_resistance_base")),
                 (0.54, 7.93, 6.0), "constants")
        txt = json.dumps(m.get("zones"))
        check("48.0" in txt and "25.0" in txt, f"zone thresholds: {txt}")
        labels = json.dumps(m.get("labels"))
        for lab in ("Green (Accelerated)", "Green (Transforming)", "Green (Stable)",
                    "Yellow (Urgent)", "Yellow (Moderate)", "Red (Imminent)", "Red (Declining)"):
            check(lab in labels, f"label rule {lab}")

        r = s.get("/healthz")
        check_eq(r.status, 200, "healthz")
        check_eq((r.json or {}).get("status"), "ok", "healthz status")


@test
@one_instance
def metrics_prometheus():
    with Server() as s:
        s.get(f"/roles/{SLUG}/score")
        s.get("/roles/no-such/score")
        s.get("/roles")
        r = s.get("/metrics")
        check_eq(r.status, 200, "metrics")
        check((r.header("content-type") or "").startswith("text/plain"), "Prometheus text")
        t = r.body.decode()

        def counter(route, status, method="GET"):
            for line in t.splitlines():
                if line.startswith("#") or "requests_total{" not in line:
                    continue
                labels = dict(re.findall(r'(\w+)="([^"]*)"', line.rsplit(" ", 1)[0]))
                if (labels.get("route") in (route, route.replace("{slug}", ":slug")) and labels.get("status") == status
                        and labels.get("method", method) == method):
                    return float(line.rsplit(" ", 1)[1])
            return None

        check((counter("/roles/{slug}/score", "200") or 0) >= 1, "score 200 counted by route")
        check((counter("/roles/{slug}/score", "404") or 0) >= 1, "score 404 counted")
        check((counter("/roles", "200") or 0) >= 1, "/roles counted")
        check("# TYPE" in t and " histogram" in t, "a histogram is declared")
        check(re.search(r'_bucket\{[^}]*le="\+Inf"[^}]*\} \d+', t), "+Inf bucket")
        check(re.search(r'_sum(\{[^}]*\})? [0-9.e+-]+', t), "_sum")
        check(re.search(r'_count(\{[^}]*\})? \d+', t), "_count")
        check("webhook" in t and "queue" in t, "webhook deliveries and queue depth")


# ---------------------------------------------------------------- CORS and HEAD

@test
def cors_and_preflight():
    with Server() as s:
        for p in ("/roles", f"/roles/{SLUG}", f"/roles/{SLUG}/score", "/methodology",
                  "/export?format=csv", f"/compare?roles={SLUG},{SLUG}"):
            r = s.get(p, headers={"Origin": "https://example.org"})
            check_eq(r.header("access-control-allow-origin"), "*", f"ACAO on GET {p}")
        r = s.request("HEAD", f"/roles/{SLUG}/score", headers={"Origin": "https://example.org"})
        check_eq(r.header("access-control-allow-origin"), "*", "ACAO on HEAD")
        r = s.post("/score", seed_role()["assessment"], headers={"Origin": "https://a.example"})
        check_eq(r.header("access-control-allow-origin"), "*", "ACAO on POST /score")
        for p, want in ((f"/roles/{SLUG}/score", {"GET"}), ("/roles", {"GET", "POST"}),
                        (f"/roles/{SLUG}/evidence", {"GET", "POST"}), ("/score", {"POST"})):
            r = s.request("OPTIONS", p, headers={
                "Origin": "https://example.org", "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "Authorization, Content-Type"})
            check(r.status in (200, 204), f"OPTIONS {p}: {r.status}")
            check_eq(r.header("access-control-allow-origin"), "*", f"OPTIONS {p} ACAO")
            meth = {m.strip() for m in (r.header("access-control-allow-methods") or "").split(",")}
            check(want <= meth, f"OPTIONS {p} methods {meth}")
            hdrs = (r.header("access-control-allow-headers") or "").lower()
            check("authorization" in hdrs and "content-type" in hdrs, f"allowed headers {hdrs}")
        check_eq(revision_count(s), 1, "OPTIONS writes nothing")


@test
def head_like_get():
    with Server() as s:
        for p in ("/roles", f"/roles/{SLUG}", f"/roles/{SLUG}/score", f"/roles/{SLUG}/tasks",
                  f"/roles/{SLUG}/evidence", f"/roles/{SLUG}/revisions",
                  f"/roles/{SLUG}/revisions/1", f"/compare?roles={SLUG},{SLUG}",
                  "/export?format=csv", "/export?format=ndjson", "/methodology", "/healthz",
                  "/openapi.json", "/roles/no-such-role"):
            g = s.get(p)
            h = s.request("HEAD", p)
            check_eq(h.status, g.status, f"HEAD {p} status")
            check_eq(h.body, b"", f"HEAD {p} has no body")
            for k in ("content-type", "etag", "content-length", "access-control-allow-origin"):
                check_eq(h.header(k), g.header(k), f"HEAD {p} header {k}")
        # the connection stays usable after HEAD
        check_eq(s.get("/healthz").status, 200, "GET after HEAD")


# ---------------------------------------------------------------- concurrency, restart

@test
def concurrent_writers():
    with Server() as s:
        tok = s.token("writer")
        results, errors = [], []
        lock = threading.Lock()

        def worker(i):
            import http.client
            c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
            for k in range(10):
                body = json.dumps({"dimensions": {"wage_trends": {
                    "score": 1 + (i + k) % 2, "rationale": f"w{i}-{k}"}},
                    "reason": f"writer {i} write {k}"}).encode()
                try:
                    c.request("POST", f"/roles/{SLUG}/evidence", body=body,
                              headers={"Content-Type": "application/json",
                                       "Authorization": "Bearer " + tok})
                    r = c.getresponse()
                    data = r.read()
                    with lock:
                        results.append((r.status, json.loads(data) if data else None))
                except Exception as e:  # noqa: BLE001
                    with lock:
                        errors.append(repr(e))
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
            c.close()

        ths = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        check_eq(errors, [], "no connection errors")
        check_eq(len(results), 80, "80 answers")
        check_eq([st for st, _ in results if st != 200], [], "every write 200")
        revs = [j.get("revision") for st, j in results if st == 200 and j]
        check_eq(len(set(revs)), len(revs), "every answer's revision once")
        check_eq(sorted(revs), list(range(2, 82)), "revisions 2..81")
        h = s.get(f"/roles/{SLUG}/revisions?limit=200").json
        check_eq(h["total"], 81, "81 revisions")
        nums = [i["revision"] for i in h["items"]]
        check_eq(nums, list(range(81, 0, -1)), "gapless, newest first")
        check(set(revs) <= set(nums), "every answered revision is in the history")
        reasons = {i["reason"] for i in h["items"]}
        check_eq(len(reasons & {f"writer {i} write {k}" for i in range(8) for k in range(10)}),
                 80, "every write's reason recorded")
        sc = s.get(f"/roles/{SLUG}/score").json
        check_eq(sc["revision"], 81, "score at the last revision")
        check(sc["score"] in (55.2, 57.2), f"score consistent: {sc['score']}")
        last = s.get(f"/roles/{SLUG}/revisions/81").json
        check_eq(last["score"]["score"], sc["score"], "last revision agrees with the score")


@test
def restart_keeps_data():
    s = Server()
    try:
        s.start()
        tok = s.token("erin")
        check_eq(s.post(f"/roles/{SLUG}/evidence",
                        {"dimensions": {"wage_trends": {"score": 2, "rationale": "x"}},
                         "reason": "before restart"}, token=tok).status, 200, "write")
        b = role_body("nurse", "Registered Nurse", task_scores=[1] * 8)
        check_eq(s.post("/roles", b, token=tok).status, 201, "create")
        check_eq(s.put(f"/roles/{SLUG}/override", {"override": {"score": 61, "reason": "r"}},
                       token=tok).status, 200, "override")
        roles_before = s.get("/roles").json
        hist_before = s.get(f"/roles/{SLUG}/revisions").json
        rc = s.stop()
        check_eq(rc, 0, "SIGTERM exits 0")
        s.start()
        check_eq(s.get("/roles").json, roles_before, "same list after restart")
        check_eq(s.get(f"/roles/{SLUG}/revisions").json, hist_before, "same history")
        sc = s.get(f"/roles/{SLUG}/score")
        check_eq((sc.json["score"], (sc.json.get("formula") or {}).get("score"), sc.json["revision"]),
                 (61, 57.2, 3), "score after restart")
        check_eq(sc.header("etag"), '"r3"', "ETag after restart")
        check_eq(without_as_of(s.get("/roles/nurse").json["assessment"]), b["assessment"],
                 "created role kept")
        r = s.delete(f"/roles/{SLUG}/override", token=tok)
        check_eq((r.status, (r.json or {}).get("revision")), (200, 4), "token still valid")
        rc = s.stop()
        check_eq(rc, 0, "SIGTERM exits 0 again")
    finally:
        s.cleanup()


if __name__ == "__main__":
    run()
