#!/usr/bin/env python3
"""The pages in a real browser: Debian's chromium, headless, driven by playwright-core
(tests/browser/check.js) against the real binary. At 360 and 1,440 pixels wide it loads the
index and the role page and checks what a reader gets: every figure and section heading of the
seed's page, no horizontal scrolling, no script and no request anywhere but the server, no
console error (a CSP violation is one), axe-core with no violation; then the history after three
writes, a role whose every field holds hostile markup (it must show as text and run nothing),
the Atom feeds through a feed parser (python3-feedparser) and every SVG, inline or not, parsed
as XML. Screenshots are taken of each page; with AIJRI_DOCS_SHOTS=DIR the README's are written
there (docs/).

The heavy tier: run once, on the release build (tests/all), not under sanitizers.
    AIJRI_BIN=bin/aijri python3 tests/browser/test_pages.py [TEST_NAME...]
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
from lib import Server, check, check_eq, run, seed_role, test  # noqa: E402
from page_fixtures import FIGURES, HEADINGS, HOSTILE, SECTIONS, hostile_role, norm  # noqa: E402

SLUG = "edge-ai-engineer"
WIDTHS = [360, 1440]
CHECK_JS = os.path.join(HERE, "check.js")


def browse(srv, pages, shots=None):
    """Loads pages ([(name, path)], [(name, path, clip)] or [(name, path, {check.js keys})])
    at every width in chromium; returns check.js's report, one dict per page and width."""
    def extra(p):
        if len(p) < 3:
            return {}
        return p[2] if isinstance(p[2], dict) else {"clip": p[2]}

    spec = {"base": f"http://127.0.0.1:{srv.port}", "shots": shots,
            "pages": [{"name": p[0], "path": p[1], "widths": WIDTHS, **extra(p)} for p in pages]}
    node = shutil.which("node")
    if not check(node is not None, "node is not installed"):
        return []
    if not check(os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")),
                 "tests/browser/node_modules is missing: bash deploy/setup-debian.sh --test"):
        return []
    p = subprocess.run([node, CHECK_JS], input=json.dumps(spec).encode(), capture_output=True,
                       timeout=600)
    if not check(p.returncode == 0, f"check.js failed: {p.stderr.decode()[-3000:]}"):
        return []
    return json.loads(p.stdout)


def reads_cleanly(r, what):
    """What every page must be, at every width."""
    w = f"{what} at {r['width']} px"
    check_eq(r["status"], 200, f"{w}: status")
    check(r["scrollWidth"] <= r["clientWidth"], f"{w}: scrolls sideways "
          f"({r['scrollWidth']} > {r['clientWidth']})")
    check_eq(r["scripts"], 0, f"{w}: script elements")
    check_eq(r["handlers"], [], f"{w}: event handler attributes")
    check_eq(r["jsUrls"], [], f"{w}: javascript: or data: URLs")
    check_eq(r["dialogs"], [], f"{w}: dialogs opened (script ran)")
    check_eq(r["foreign"], [], f"{w}: requests to anywhere but the server")
    check_eq(r["failed"], [], f"{w}: failed requests")
    errors = [c for c in r["console"] if c.startswith("error")]
    check_eq(errors, [], f"{w}: console errors (a CSP violation is one)")
    for v in r["axe"]:
        check(False, f"{w}: axe-core: {v['id']} ({v['impact']}): {v['help']}: {v['nodes'][:2]}")
    for svg in r["svgs"]:
        try:
            ET.fromstring(svg)
        except ET.ParseError as e:
            check(False, f"{w}: an inline SVG is not well-formed XML: {e}: {svg[:200]}")
    if r.get("shot"):
        check(os.path.getsize(r["shot"]) > 10000, f"{w}: screenshot {r['shot']}")


def shots_dir(tmp):
    d = os.environ.get("AIJRI_DOCS_SHOTS")
    if d:
        os.makedirs(d, exist_ok=True)
        return os.path.abspath(d)
    return tmp


@test
def seed_page_and_index_as_read():
    with Server(args=["--public-url", "https://aijri.example.org"]) as srv:
        tmp = tempfile.mkdtemp(prefix="aijri-shots-")
        shots = shots_dir(tmp)
        # The README's screenshots: the top of each page (the whole page is checked anyway).
        report = browse(srv, [("role-page", f"/roles/{SLUG}", 2200), ("index", "/", 1100)], shots)
        check_eq(len(report), 4, "two pages at two widths")
        role = seed_role()
        for r in report:
            reads_cleanly(r, r["name"])
            if r["name"] == "index":
                check_eq([h["text"] for h in r["headings"]],
                         ["AI Job Resistance Index", "Distribution of scores", "Roles"],
                         "index headings")
                check(f"/roles/{SLUG}" in r["links"], "the index links the role's page")
                check("1 role in all: 1 Green, 0 Yellow, 0 Red." in r["text"],
                      f"the distribution in words at {r['width']}")
                continue
            text = norm(r["text"])
            heads = [h["text"] for h in r["headings"]]
            check_eq(heads[0], "Will AI Replace Edge AI Engineer Jobs?", "h1")
            at = [heads.index(h) if h in heads else -1 for h in HEADINGS]
            check(-1 not in at, f"{r['width']} px: headings missing: "
                  f"{[h for h, i in zip(HEADINGS, at) if i < 0]}")
            check_eq(at, sorted(at), f"{r['width']} px: headings in the seed's order")
            for f in FIGURES:
                check(norm(f) in text, f"{r['width']} px: the figure {f!r}")
            for k in SECTIONS:
                for line in role["commentary"][k].split("\n"):
                    line = norm(re.sub(r"^(- |\d+\. )", "", line).replace("**", ""))
                    check(not line or line in text, f"{r['width']} px: commentary.{k}: {line[:60]}")
            for k in ("summary", "seniority_note", "primary_function", "not_this_role",
                      "typical_experience"):
                check(norm(role[k]) in text, f"{r['width']} px: {k}")
            check_eq(r["historyPoints"], 1, "the history chart's one point")
            badge = [i for i in r["images"] if i["src"] == f"/roles/{SLUG}/badge.svg"]
            check(badge and badge[0]["loaded"] and "55.2" in (badge[0]["alt"] or ""),
                  f"the badge loads and says its score: {badge}")
        shutil.rmtree(tmp, ignore_errors=True)


@test
def history_after_three_writes():
    with Server() as srv:
        tok = srv.token("editor")
        writes = [
            ("POST", f"/roles/{SLUG}/evidence",
             {"dimensions": {"wage_trends": {"score": 2}}, "reason": "premiums keep rising"}),
            ("PUT", f"/roles/{SLUG}/growth",
             {"growth": {"score": 2, "rationale": "on-device AI everywhere"}, "reason": "growth"}),
            ("PUT", f"/roles/{SLUG}/commentary",
             {"commentary": dict(seed_role()["commentary"], timeline="Sooner than thought."),
              "reason": "timeline revised"}),
        ]
        for method, path, body in writes:
            r = srv.request(method, path, body=body, token=tok)
            check_eq(r.status, 200, f"{method} {path}: {r.body[:200]!r}")
        score = srv.get(f"/roles/{SLUG}/score").json
        report = browse(srv, [("role-after", f"/roles/{SLUG}"),
                              ("revision-1", f"/roles/{SLUG}/revisions/1")])
        for r in report:
            reads_cleanly(r, r["name"])
            text = norm(r["text"])
            if r["name"] == "revision-1":
                check("This is revision 1 of this assessment" in text, "the past page says so")
                check("55.2 /100" in text, "the past page's score")
                continue
            check_eq(r["historyPoints"], 4, f"{r['width']} px: four points in the chart")
            check_eq(r["historyRows"][:4], [f"/roles/{SLUG}/revisions/{n}" for n in (4, 3, 2, 1)],
                     f"{r['width']} px: newest revision first")
            for reason in ("premiums keep rising", "growth", "timeline revised", "default data"):
                check(reason in text, f"{r['width']} px: the reason {reason!r}")
            check("%.1f /100" % score["score"] in text, f"the new score {score['score']}")
            check(score["label"] in text, "the new label")
            check("Timeline: Sooner than thought." in text, "the new timeline")
            check("editor" in text, "who made the revisions")


@test
def hostile_texts_stay_text():
    with Server() as srv:
        tok = srv.token()
        r = srv.post("/roles", hostile_role("hostile-role"), token=tok)
        check_eq(r.status, 201, f"hostile role {r.body[:200]!r}")
        srv.post("/roles/hostile-role/evidence",
                 {"dimensions": {"wage_trends": {"score": 2}}, "reason": HOSTILE}, token=tok)
        report = browse(srv, [("hostile", "/roles/hostile-role"), ("hostile-index", "/?q=role")])
        for r in report:
            reads_cleanly(r, r["name"])
            check(HOSTILE in r["text"], f"{r['name']} {r['width']} px: the markup shows as text")
            if r["name"] == "hostile":
                check("<script>alert(3)</script>" in r["text"], "CommonMark's raw HTML as text")
                check(not any(l.lower().startswith("javascript") for l in r["links"]),
                      "no javascript: link")


def import_feedparser():
    """Debian's python3-feedparser; found through Debian's package folder too when the tests
    run on another Python 3 (a pyenv one, say): the package is pure Python."""
    try:
        import feedparser
        return feedparser
    except ImportError:
        pass
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import feedparser
        return feedparser
    except ImportError:
        return None


@test
def feeds_through_a_feed_parser_and_svgs_as_xml():
    feedparser = import_feedparser()
    if not check(feedparser is not None,
                 "python3-feedparser is not installed: bash deploy/setup-debian.sh --test"):
        return
    with Server(args=["--public-url", "https://aijri.example.org"]) as srv:
        tok = srv.token()
        for i in range(3):
            srv.post(f"/roles/{SLUG}/evidence",
                     {"dimensions": {"wage_trends": {"score": 2 - i % 2, "rationale": f"r{i}"}},
                      "reason": f"write {i} <&>"}, token=tok)
        for path in (f"/roles/{SLUG}/feed.atom", "/feed.atom"):
            r = srv.get(path)
            d = feedparser.parse(r.body)
            check_eq((d.bozo, d.version), (0, "atom10"), f"{path}: a well-formed Atom 1.0 feed "
                     f"({d.get('bozo_exception')})")
            check_eq(len(d.entries), 4, f"{path}: an entry per revision")
            e = d.entries[0]
            check_eq(e.id, f"https://aijri.example.org/roles/{SLUG}/revisions/4", f"{path}: newest")
            check_eq(e.link, e.id, f"{path}: the entry links its page")
            check("57.2, Green (Transforming)" in e.title, f"{path}: score and zone: {e.title}")
            check("Reason: write 2 <&>" in e.summary, f"{path}: reason: {e.summary!r}")
            check("evidence.wage_trends" in e.summary, f"{path}: changed paths")
            check(e.updated_parsed is not None, f"{path}: a date")
            check_eq(d.feed.link, "https://aijri.example.org" + ("/" if path == "/feed.atom"
                                                                 else f"/roles/{SLUG}"),
                     f"{path}: alternate link")
        for path in (f"/roles/{SLUG}/badge.svg", f"/roles/{SLUG}/history.svg"):
            r = srv.get(path)
            root = ET.fromstring(r.body)
            check_eq(root.tag, "{http://www.w3.org/2000/svg}svg", f"{path}: SVG")


@test
def personal_score_form_in_the_browser():
    """The personal-score form as a reader uses it: reached from the role page's link, a few
    figures typed in, sent with the button (no script: a plain GET form), and the personal
    score shown; the form alone and a refused form read cleanly too (axe-core included)."""
    with Server() as srv:
        form = f"/roles/{SLUG}/what-if"
        sent = {"tasks[0].score": "5", "tasks[0].time_share": "30", "tasks[1].time_share": "15",
                "growth.score": "2"}
        tasks = seed_role()["assessment"]["tasks"]
        tasks[0]["score"], tasks[0]["time_share"], tasks[1]["time_share"] = 5, 30, 15
        want = srv.post(form, {"tasks": tasks, "growth": {"score": 2}}).json or {}
        tmp = tempfile.mkdtemp(prefix="aijri-shots-")
        report = browse(srv, [
            ("what-if-used", f"/roles/{SLUG}",
             {"steps": [{"click": f'a[href="{form}"]'}, {"fill": sent},
                        {"click": "form button[type=submit]"}]}),
            ("what-if-form", form),
            ("what-if-refused", form + "?tasks%5B0%5D.score=9&growth.score=x"),
        ], tmp)
        check_eq(len(report), 6, "three pages at two widths")
        for r in report:
            reads_cleanly(r, r["name"])
            w = f"{r['name']} at {r['width']} px"
            heads = [h["text"] for h in r["headings"]]
            check(heads and heads[0].startswith("Your personal score: Edge AI Engineer"),
                  f"{w}: h1 {heads[:1]}")
            if r["name"] == "what-if-used":
                check(r["url"].startswith(srv_url(srv, form) + "?"), f"{w}: sent to {r['url']}")
                for k, v in sent.items():
                    check(f"{k}={v}".replace("[", "%5B").replace("]", "%5D") in r["url"],
                          f"{w}: {k} sent")
                score = f"{want['score']['score']:.1f}"
                check(re.search(r"Your score\s+" + re.escape(score), r["text"]) is not None,
                      f"{w}: the personal score {score} shown: {r['text'][:400]!r}")
                check(want["score"]["label"] in r["text"], f"{w}: its label")
            elif r["name"] == "what-if-form":
                check("Your score" not in r["text"], f"{w}: no score before sending")
                check(f"/roles/{SLUG}" in r["links"], f"{w}: links back to the role")
            else:
                check("tasks[0].score: must be an integer from 1 to 5" in r["text"] and
                      "growth.score: must be an integer" in r["text"],
                      f"{w}: the refused fields named: {r['text'][:600]!r}")
                check("Your score" not in r["text"], f"{w}: nothing scored")
        shutil.rmtree(tmp, ignore_errors=True)


def srv_url(srv, path):
    return f"http://127.0.0.1:{srv.port}{path}"


if __name__ == "__main__":
    run()
