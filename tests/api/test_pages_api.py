"""API tests of the narrative (API.md "Narrative") and of the pages, badges and feeds (API.md
"Pages, badges and feeds"), over HTTP against the real binary: the narrative's validation,
storage, revisions and PUT /roles/{slug}/commentary; content negotiation on a role's URL (Vary,
ETags, the cache keeping JSON and HTML apart, 304); the role page's sections and figures against
the seed's page text; the index; badge.svg and history.svg as XML; the Atom feeds (bounded,
newest first, absolute URLs from --public-url and never from Host); hostile texts in every field
escaped; pages built once per write (aijri_page_builds_total).
The browser's view of the same pages is tests/browser/test_pages.py.
Run: AIJRI_BIN=bin/aijri python3 tests/api/test_pages_api.py [test_name...]
"""
import copy
import html.parser
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from page_fixtures import FIGURES, HEADINGS, HOSTILE, SECTIONS, hostile_role, norm  # noqa: E402
from lib import ROOT, Server, check, check_eq, one_instance, run, run_cli, seed_role, test  # noqa: E402

SLUG = "edge-ai-engineer"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ATOM = "{http://www.w3.org/2005/Atom}"
SVG = "{http://www.w3.org/2000/svg}"
# The seed's page as text (a copy of the seed the default data was taken from).
SEED_TEXT = os.path.join(ROOT, "tests", "fixtures", "seed-page.txt")
class Page(html.parser.HTMLParser):
    """A page as a reader gets it: its visible text (lines), headings, and every tag with its
    attributes."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.headings, self.parts = [], [], []
        self._skip = 0
        self._heading = None
        self.feed(text)
        self.close()
        self.text = re.sub(r"[ \t\r\n]+", " ", "".join(self.parts))

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "title", "svg", "script"):
            self._skip += 1
        if tag in ("h1", "h2", "h3"):
            self._heading = [tag, ""]
        if tag in ("p", "li", "tr", "h1", "h2", "h3", "div", "br", "td", "th", "pre"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("style", "title", "svg", "script") and self._skip:
            self._skip -= 1
        if tag in ("h1", "h2", "h3") and self._heading:
            self.headings.append((self._heading[0], self._heading[1].strip()))
            self._heading = None
        if tag in ("td", "th"):
            self.parts.append(" ")

    def handle_data(self, data):
        if self._skip:
            return
        self.parts.append(data)
        if self._heading:
            self._heading[1] += data


def page(s, path, accept=BROWSER, **kw):
    r = s.get(path, headers={"Accept": accept, **kw.pop("headers", {})}, **kw)
    return r, Page(r.body.decode()) if r.status == 200 else None


def seed_lines():
    """The seed page's lines, as a reader of it reads them."""
    with open(SEED_TEXT, encoding="utf-8") as f:
        return [l.strip().lstrip("•").strip() for l in f.read().split("\n") if l.strip()]


def write_commentary(s, tok, commentary, reason="commentary edited", **kw):
    return s.put(f"/roles/{SLUG}/commentary", {"commentary": commentary, "reason": reason},
                 token=tok, **kw)


def metric(s, name):
    m = re.search(r"^" + re.escape(name) + r" (\d+)$", s.get("/metrics").body.decode(), re.M)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------- the narrative

@test
def narrative_stored_with_the_seed_text():
    with Server() as s:
        role = s.get(f"/roles/{SLUG}").json
        data = seed_role()
        for k in ("summary", "seniority_note", "commentary", "sources", "resources"):
            check_eq(role.get(k), data[k], f"GET /roles: {k} as in data/edge-ai-engineer.json")
        check_eq(sorted(role["commentary"]), sorted(SECTIONS), "every commentary section")
        check(all(isinstance(role["commentary"][k], str) and len(role["commentary"][k]) > 40
                  for k in SECTIONS), "the seed has text in every section")
        # The data carries the seed's prose word for word (CommonMark emphasis aside).
        seed = norm(" ".join(seed_lines()))
        for k in SECTIONS:
            for para in role["commentary"][k].split("\n"):
                plain = norm(re.sub(r"^(- |\d+\. )", "", para).replace("**", ""))
                check(not plain or plain in seed, f"commentary.{k} not in the seed: {plain[:80]!r}")
        check(norm(role["summary"]) in seed, "summary is the seed's")
        check("Seniority note: " + norm(role["seniority_note"]) in seed, "seniority note")
        v = s.get(f"/roles/{SLUG}/commentary")
        check_eq(v.status, 200, "GET commentary")
        check_eq(v.json, {"role": SLUG, "revision": 1, "commentary": data["commentary"]},
                 "GET commentary body")
        check_eq(v.header("etag"), '"r1"', "GET commentary ETag")


@test
def put_commentary_is_a_revision_that_keeps_the_score():
    with Server() as s:
        tok = s.token()
        before = s.get(f"/roles/{SLUG}/score").json
        c = dict(seed_role()["commentary"], outlook="A **new** outlook.")
        r = write_commentary(s, tok, c, headers={"If-Match": '"r1"'})
        check_eq(r.status, 200, f"PUT commentary {r.body[:300]!r}")
        j = r.json or {}
        check_eq((j.get("revision"), j.get("changed"), j.get("score_changed"), j.get("changes")),
                 (2, True, False, ["commentary.outlook"]), "write answer")
        check_eq(r.header("etag"), '"r2"', "write ETag")
        after = s.get(f"/roles/{SLUG}/score").json
        check_eq((after["score"], after["score_exact"], after["label"]),
                 (before["score"], before["score_exact"], before["label"]), "score not moved")
        check_eq(s.get(f"/roles/{SLUG}").json["commentary"]["outlook"], "A **new** outlook.",
                 "stored")
        revs = s.get(f"/roles/{SLUG}/revisions").json["items"]
        check_eq((revs[0]["changed"], revs[0]["reason"]), (["commentary.outlook"],
                                                            "commentary edited"), "revision")
        # The same again changes nothing; absent sections become null; null clears all.
        r = write_commentary(s, tok, c)
        check_eq((r.json or {}).get("changed"), False, "same commentary: no revision")
        r = write_commentary(s, tok, {"outlook": "Only this."})
        check_eq(sorted((r.json or {}).get("changes") or []),
                 sorted(f"commentary.{k}" for k in SECTIONS), "all sections changed")
        cur = s.get(f"/roles/{SLUG}/commentary").json["commentary"]
        check_eq(cur, {k: ("Only this." if k == "outlook" else None) for k in SECTIONS},
                 "absent sections are null")
        r = write_commentary(s, tok, None)
        check_eq((r.json or {}).get("changes"), ["commentary.outlook"], "null clears")
        r = write_commentary(s, tok, c, headers={"If-Match": '"r1"'})
        check_eq(r.status, 412, "stale If-Match")
        # A replace of the whole role changes summary and sources, and names them.
        body = seed_role()
        body["summary"] = "Changed."
        body["sources"] = [{"title": "Survey", "url": "https://example.org/s"}]
        r = s.put(f"/roles/{SLUG}", body, token=tok)
        check_eq(set((r.json or {}).get("changes") or []) >= {"summary", "sources"}, True,
                 f"PUT role changes {r.json}")
        check_eq((r.json or {}).get("score_changed"), False, "PUT role: score kept")


@test
def narrative_validation_names_the_field():
    with Server() as s:
        tok = s.token()

        def refused(method, path, body, field, msg):
            n0 = s.get(f"/roles/{SLUG}/revisions").json["total"]
            r = s.request(method, path, body=body, token=tok)
            check_eq(r.status, 422, f"{msg}: status {r.body[:200]!r}")
            fields = [e.get("field") for e in (r.json or {}).get("errors") or []]
            check(field in fields, f"{msg}: errors name {field}: {fields}")
            check_eq(s.get(f"/roles/{SLUG}/revisions").json["total"], n0, f"{msg}: nothing stored")

        cpath = f"/roles/{SLUG}/commentary"
        refused("PUT", cpath, {"commentary": {"outlook": "x" * 10001}}, "commentary.outlook",
                "10,001 characters")
        refused("PUT", cpath, {"commentary": {"mood": "x"}}, "commentary.mood", "unknown section")
        refused("PUT", cpath, {"commentary": {"timeline": 5}}, "commentary.timeline", "number")
        refused("PUT", cpath, {"commentary": ["x"]}, "commentary", "array")
        refused("PUT", cpath, {"reason": "no commentary"}, "commentary", "missing")
        refused("PUT", cpath, {"commentary": {}, "extra": 1}, "extra", "unknown field")
        refused("PUT", cpath, {"commentary": {"outlook": "bell\u0007"}}, "commentary.outlook",
                "control character")
        role = seed_role()
        for key, value, field in [
                ("summary", 7, "summary"),
                ("seniority_note", "y" * 10001, "seniority_note"),
                ("sources", [{"title": "x", "url": "javascript:alert(1)"}], "sources[0].url"),
                ("resources", [{"title": "x", "url": "ftp://example.org/f"}], "resources[0].url"),
                ("resources", [{"title": "x", "url": "//example.org/f"}], "resources[0].url"),
                ("sources", [{"url": "https://example.org"}], "sources[0].title")]:
            body = copy.deepcopy(role)
            body[key] = value
            refused("PUT", f"/roles/{SLUG}", body, field, f"{key}={str(value)[:30]}")
        refused("POST", f"/roles/{SLUG}/evidence",
                {"dimensions": {"wage_trends": {"sources": [{"title": "t",
                                                             "url": "data:text/html,x"}]}}},
                "dimensions.wage_trends.sources[0].url", "evidence source URL")
        # 10,000 characters (not bytes: "é" is two) are accepted.
        r = write_commentary(s, tok, {"outlook": "é" * 10000})
        check_eq(r.status, 200, f"10,000 characters accepted {r.body[:200]!r}")


# ---------------------------------------------------------------- content negotiation

@test
def negotiation_vary_etags_and_cache():
    with Server() as s:
        cases = [(None, "application/json"), ("*/*", "application/json"),
                 ("application/json", "application/json"), (BROWSER, "text/html"),
                 ("text/html", "text/html"), ("text/html;q=0.5, application/json", "application/json"),
                 ("application/json;q=0.5, text/html", "text/html"), ("text/*", "text/html"),
                 ("image/png", "application/json")]
        # Twice round, so that the second answer of each comes from the cache.
        for _ in range(2):
            for accept, want in cases:
                r = s.get(f"/roles/{SLUG}", headers={"Accept": accept} if accept else {})
                got = (r.header("content-type") or "").split(";")[0]
                check_eq((r.status, got), (200, want), f"Accept {accept!r}")
                check_eq(r.header("vary"), "Accept", f"Vary for Accept {accept!r}")
                if want == "text/html":
                    check_eq(r.header("etag"), '"r1-html"', "page ETag")
                    check(r.body.startswith(b"<!DOCTYPE html>"), "an HTML document")
                else:
                    check_eq(r.header("etag"), '"r1"', "JSON ETag")
                    check_eq((r.json or {}).get("slug"), SLUG, "JSON body")
        for path, status in [(f"/roles/{SLUG}", 200), ("/roles/tinyml-engineer", 308),
                             ("/roles/no-such-role", 404), (f"/roles/{SLUG}/revisions/1", 200),
                             (f"/roles/{SLUG}/revisions/9", 404)]:
            for accept in (BROWSER, "application/json"):
                r = s.get(path, headers={"Accept": accept})
                check_eq((r.status, r.header("vary")), (status, "Accept"), f"{path} {accept}")
        # Every answer of the URL, whatever the method: a write, a refused one, OPTIONS, 405.
        tok = s.token("vary")
        for method, path, status in [("PUT", f"/roles/{SLUG}", 422), ("PUT", f"/roles/{SLUG}", 401),
                                     ("PATCH", f"/roles/{SLUG}", 405),
                                     ("OPTIONS", f"/roles/{SLUG}", 204),
                                     ("POST", f"/roles/{SLUG}/revisions/1", 405)]:
            r = s.request(method, path, body={} if method == "PUT" else None,
                          token=tok if status != 401 else None)
            check_eq((r.status, r.header("vary")), (status, "Accept"), f"{method} {path}")
        r = s.get("/roles/tinyml-engineer", headers={"Accept": BROWSER})
        check_eq(r.header("location"), f"/roles/{SLUG}", "alias page redirects")
        # Conditional requests: each form's own tag.
        r = s.get(f"/roles/{SLUG}", headers={"Accept": BROWSER, "If-None-Match": '"r1-html"'})
        check_eq(r.status, 304, "page If-None-Match")
        r = s.get(f"/roles/{SLUG}", headers={"Accept": BROWSER, "If-None-Match": 'W/"r1-html"'})
        check_eq(r.status, 304, "page If-None-Match weak")
        r = s.get(f"/roles/{SLUG}", headers={"Accept": BROWSER, "If-None-Match": '"r1"'})
        check_eq(r.status, 200, "the JSON tag does not match the page")
        r = s.get(f"/roles/{SLUG}", headers={"If-None-Match": '"r1-html"'})
        check_eq(r.status, 200, "the page tag does not match the JSON")
        r = s.request("HEAD", f"/roles/{SLUG}", headers={"Accept": BROWSER})
        check_eq((r.status, (r.header("content-type") or "").split(";")[0], r.body),
                 (200, "text/html", b""), "HEAD of the page")
        r = s.get(f"/roles/{SLUG}/revisions/1", headers={"Accept": BROWSER})
        check_eq((r.status, r.header("etag")), (200, '"r1-html"'), "revision page while current")
        tok = s.token()
        s.post(f"/roles/{SLUG}/evidence",
               {"dimensions": {"wage_trends": {"score": 2}}, "reason": "pay up"}, token=tok)
        r, p = page(s, f"/roles/{SLUG}")
        check_eq(r.header("etag"), '"r2-html"', "page ETag after a write")
        check("57.2 /100" in p.text, "the page shows the new score")
        r, p = page(s, f"/roles/{SLUG}/revisions/1")
        check_eq(r.header("etag"), '"r1-html-past"', "past revision's page ETag")
        check("55.2 /100" in p.text and "This is revision 1" in p.text, "the past page")
        check_eq(s.get(f"/roles/{SLUG}/revisions/1").header("etag"), '"r1"', "JSON revision ETag")


@test
@one_instance
def pages_built_once_per_write():
    with Server() as s:
        b0 = metric(s, "aijri_page_builds_total")
        check_eq(b0, 0, "no page built at start")
        bodies = {page(s, f"/roles/{SLUG}")[0].body for _ in range(5)}
        check_eq(len(bodies), 1, "the same page every time")
        for _ in range(3):
            s.get("/")
            s.get(f"/roles/{SLUG}/badge.svg")
        check_eq(metric(s, "aijri_page_builds_total"), 3, "page, index, badge: each built once")
        tok = s.token()
        s.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {"score": 2}}}, token=tok)
        page(s, f"/roles/{SLUG}")
        page(s, f"/roles/{SLUG}")
        check_eq(metric(s, "aijri_page_builds_total"), 4, "rebuilt once after the write")


# ---------------------------------------------------------------- the role page

@test
def role_page_has_every_section_and_figure_of_the_seed():
    with Server() as s:
        r, p = page(s, f"/roles/{SLUG}")
        check_eq(r.status, 200, "page status")
        csp = r.header("content-security-policy") or ""
        check("default-src 'none'" in csp and "script-src" not in csp and "unsafe" not in csp,
              f"CSP allows no script: {csp}")
        check_eq(r.header("x-content-type-options"), "nosniff", "nosniff")
        check_eq(p.headings[0], ("h1", "Will AI Replace Edge AI Engineer Jobs?"), "h1")
        texts = [t for _, t in p.headings]
        at = [texts.index(h) if h in texts else -1 for h in HEADINGS]
        check(-1 not in at, f"headings missing: {[h for h, i in zip(HEADINGS, at) if i < 0]}")
        check_eq(at, sorted(at), "headings in the seed's order")
        for f in FIGURES:
            check(f in p.text, f"figure {f!r} is on the page")
        # Every line of the seed's prose and tables of text, word for word.
        role = seed_role()
        texts = [role["summary"], role["seniority_note"], role["primary_function"],
                 role["not_this_role"], role["typical_experience"]]
        texts += [t["rationale"] for t in role["assessment"]["tasks"]]
        for part in ("evidence", "barriers", "protective"):
            texts += [d["rationale"] for d in role["assessment"][part].values()]
        texts.append(role["assessment"]["growth"]["rationale"])
        for k in SECTIONS:
            texts += [re.sub(r"^(- |\d+\. )", "", l).replace("**", "")
                      for l in role["commentary"][k].split("\n") if l.strip()]
        for t in texts:
            check(norm(t) in p.text, f"seed text on the page: {t[:70]!r}")
        for line in ("Seniority note: Junior Edge AI", "Quick screen result: Protective 3/9",
                     "Reinstatement check (Acemoglu): AI creates",
                     "Reframed question: What prevents AI execution",
                     "Survival strategy:", "Timeline: 5-7+ years",
                     "Also known as: Edge Computing Engineer · Edge ML Engineer"):
            check(line in p.text, f"labelled text {line!r}")
        check(not any(t == "script" for t, _ in p.tags), "no script element")
        links = [a.get("href", "") for t, a in p.tags if t == "a"]
        check(f"/roles/{SLUG}/revisions/1" in links, "history links the revision page")
        check("http://localhost:%d/roles/%s/feed.atom" % (s.port, SLUG) in links,
              f"feed link from the default public URL: {links}")


@test
def index_page_search_filter_sort_pages():
    with Server() as s:
        tok = s.token()
        for i, (slug, title, scores) in enumerate([
                ("alpha-analyst", "Alpha Analyst", [5, 5, 5, 5, 5, 5, 5, 5]),
                ("beta-builder", "Beta Builder", [3, 3, 3, 3, 3, 3, 3, 3]),
                ("gamma-gardener", "Gamma Gardener", [1, 1, 1, 1, 1, 1, 1, 1])]):
            body = seed_role()
            body.update(slug=slug, title=title, aliases=[])
            for t, sc in zip(body["assessment"]["tasks"], scores):
                t["score"] = sc
            check_eq(s.post("/roles", body, token=tok).status, 201, f"create {slug}")
        r, p = page(s, "/")
        check_eq((r.status, (r.header("content-type") or "").split(";")[0]), (200, "text/html"),
                 "GET /")
        check("4 roles in all" in p.text, f"distribution summary: {p.text[:600]}")
        rows = [a["href"] for t, a in p.tags if t == "a" and a.get("href", "").startswith("/roles/")]
        check_eq(rows, ["/roles/alpha-analyst", "/roles/beta-builder", f"/roles/{SLUG}",
                        "/roles/gamma-gardener"], "by title")
        r, p = page(s, "/?sort=-score")
        rows = [a["href"] for t, a in p.tags if t == "a" and a.get("href", "").startswith("/roles/")]
        check_eq(rows[0], "/roles/gamma-gardener", "highest score first")
        r, p = page(s, "/?zone=red")
        rows = [a["href"] for t, a in p.tags if t == "a" and a.get("href", "").startswith("/roles/")]
        check_eq(rows, ["/roles/alpha-analyst"], "zone filter")
        check("1 role match" in p.text and "1 Red" in p.text, "distribution of the matches")
        r, p = page(s, "/?q=gard")
        rows = [a["href"] for t, a in p.tags if t == "a" and a.get("href", "").startswith("/roles/")]
        check_eq(rows, ["/roles/gamma-gardener"], "search")
        values = [a.get("value") for t, a in p.tags if t == "input" and a.get("name") == "q"]
        check_eq(values, ["gard"], "the search box keeps the query")
        r, p = page(s, "/?limit=2&sort=title")
        nxt = [a["href"] for t, a in p.tags if t == "a" and a.get("rel") == "next"]
        check_eq(nxt, ["/?sort=title&limit=2&offset=2"], "next page link")
        r, p = page(s, nxt[0])
        prv = [a["href"] for t, a in p.tags if t == "a" and a.get("rel") == "prev"]
        check_eq(prv, ["/?sort=title&limit=2"], "previous page link")
        check("Showing 3 to 4 of 4" in p.text, "page position")
        r = s.get("/?zone=purple", headers={"Accept": BROWSER})
        check_eq(r.status, 422, "bad zone")
        check("zone" in [e["field"] for e in (r.json or {}).get("errors", [])], "names zone")
        r, p = page(s, "/?q=%3Cscript%3Ex%3C%2Fscript%3E%FF")
        check_eq(r.status, 200, "hostile query")
        check(b"<script>" not in r.body and b"&lt;script&gt;" in r.body, "query escaped")


# ---------------------------------------------------------------- SVG and Atom

@test
def badge_and_history_svg():
    with Server() as s:
        r = s.get(f"/roles/{SLUG}/badge.svg")
        check_eq((r.status, r.header("content-type"), r.header("etag")),
                 (200, "image/svg+xml", '"r1"'), "badge")
        root = ET.fromstring(r.body)
        check_eq(root.tag, SVG + "svg", "an SVG document")
        texts = [t.text for t in root.iter(SVG + "text")]
        check_eq(texts, ["AI resistance", "55.2 Green"], "badge texts")
        fills = [e.get("fill") for e in root.iter(SVG + "rect")]
        check("#1a7f37" in fills, f"the green zone colour: {fills}")
        check(re.search(r"^\d+$", root.get("width") or "") is not None, "a width")
        check_eq(s.get(f"/roles/{SLUG}/badge.svg", headers={"If-None-Match": '"r1"'}).status, 304,
                 "badge 304")
        check_eq(s.get("/roles/tinyml-engineer/badge.svg").status, 308, "alias badge 308")
        check_eq(s.get("/roles/nope/badge.svg").status, 404, "unknown badge 404")
        tok = s.token()
        for sc, why in [(2, "wages up"), (-2, "wages down"), (-2, "no change in score")]:
            s.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {"score": sc,
                                                                              "rationale": why}},
                                               "reason": why}, token=tok)
        r = s.get(f"/roles/{SLUG}/history.svg")
        check_eq((r.status, r.header("content-type"), r.header("etag")),
                 (200, "image/svg+xml", '"r4"'), "history")
        root = ET.fromstring(r.body)
        check_eq(len(list(root.iter(SVG + "circle"))), 4, "a point per revision")
        pts = root.find(SVG + "polyline").get("points").split()
        ys = [float(p.split(",")[1]) for p in pts]
        check_eq(len(ys), 4, "a line through the four")
        check(ys[1] < ys[0] < ys[2], f"up then down: {ys}")
        title = root.find(SVG + "title").text
        check("4 revisions" in title and "now 49.0" in title, f"title: {title}")
        bands = [t.text for t in root.iter(SVG + "text")]
        check(all(b in bands for b in ("Green", "Yellow", "Red")), f"zone bands: {bands}")
        badge = ET.fromstring(s.get(f"/roles/{SLUG}/badge.svg").body)
        check_eq([t.text for t in badge.iter(SVG + "text")][1], "49.0 Green", "badge follows")


def parse_feed(body):
    root = ET.fromstring(body)
    check_eq(root.tag, ATOM + "feed", "an Atom feed")
    for k in ("id", "title", "updated"):
        check(root.find(ATOM + k) is not None, f"feed has {k}")
    entries = []
    for e in root.findall(ATOM + "entry"):
        for k in ("id", "title", "updated", "content", "link"):
            check(e.find(ATOM + k) is not None, f"entry has {k}")
        entries.append({"id": e.find(ATOM + "id").text, "title": e.find(ATOM + "title").text,
                        "updated": e.find(ATOM + "updated").text,
                        "content": e.find(ATOM + "content").text,
                        "href": e.find(ATOM + "link").get("href")})
    return root, entries


@test
def feeds_newest_first_bounded_from_the_public_url():
    with Server(args=["--public-url", "https://aijri.example.org/"]) as s:
        tok = s.token()
        for i in range(54):
            r = s.post(f"/roles/{SLUG}/evidence",
                       {"dimensions": {"wage_trends": {"score": i % 2 + 1,
                                                       "rationale": f"<b>step</b> & {i}"}},
                        "reason": f"step {i} <i>&</i>"}, token=tok)
            check_eq(r.status, 200, f"write {i}")
        r = s.get(f"/roles/{SLUG}/feed.atom", headers={"Host": "evil.example"})
        check_eq((r.status, r.header("content-type"), r.header("etag")),
                 (200, "application/atom+xml; charset=utf-8", '"r55"'), "role feed")
        check(b"evil.example" not in r.body, "nothing from Host")
        root, entries = parse_feed(r.body)
        check_eq(len(entries), 50, "bounded to the newest 50")
        check_eq(entries[0]["id"], f"https://aijri.example.org/roles/{SLUG}/revisions/55",
                 "newest first, id from the public URL")
        check_eq(entries[-1]["id"], f"https://aijri.example.org/roles/{SLUG}/revisions/6", "oldest")
        check_eq(entries[0]["href"], entries[0]["id"], "link to the revision's page")
        # Odd steps set the dimension to 2 (57.2), even ones back to 1 (55.2).
        check_eq(entries[0]["title"], "Edge AI Engineer: 57.2, Green (Transforming) (revision 55)",
                 "title with score and zone")
        check("Reason: step 53 <i>&</i>" in entries[0]["content"], "reason in the content")
        check("Changed: evidence.wage_trends" in entries[0]["content"], "changed paths")
        check("(was 55.2, Green (Transforming))" in entries[0]["content"], "previous score")
        check_eq(root.find(ATOM + "updated").text, entries[0]["updated"], "feed updated")
        self_link = [l.get("href") for l in root.findall(ATOM + "link") if l.get("rel") == "self"]
        check_eq(self_link, [f"https://aijri.example.org/roles/{SLUG}/feed.atom"], "self link")
        # The feed of every role, with a second role and an archived third.
        for slug in ("second-role", "gone-role"):
            body = seed_role()
            body.update(slug=slug, title=slug.replace("-", " ").title(), aliases=[])
            check_eq(s.post("/roles", body, token=tok).status, 201, f"create {slug}")
        check_eq(s.delete("/roles/gone-role", token=tok).status, 204, "archive")
        r = s.get("/feed.atom", headers={"Host": "evil.example"})
        check_eq((r.status, r.header("content-type")), (200, "application/atom+xml; charset=utf-8"),
                 "feed of every role")
        root, entries = parse_feed(r.body)
        check_eq(len(entries), 50, "bounded")
        check_eq(entries[0]["id"], "https://aijri.example.org/roles/second-role/revisions/1",
                 "the newest revision first")
        check(not any("gone-role" in e["id"] for e in entries), "archived roles left out")
        check_eq(entries[1]["id"], f"https://aijri.example.org/roles/{SLUG}/revisions/55",
                 "then the role before")
        r, p = page(s, f"/roles/{SLUG}", headers={"Host": "evil.example"})
        canon = [a["href"] for t, a in p.tags if t == "link" and a.get("rel") == "canonical"]
        check_eq(canon, [f"https://aijri.example.org/roles/{SLUG}"], "canonical from public URL")
        check(b"evil.example" not in r.body, "page: nothing from Host")


@test
def public_url_settings():
    with Server(env={"AIJRI_PUBLIC_URL": "http://env.example:8000"}) as s:
        check(b"<id>http://env.example:8000/feed.atom</id>" in s.get("/feed.atom").body,
              "AIJRI_PUBLIC_URL")
    for bad in ("ftp://x.org", "not a url", "https://x.org/?q=1", "https:///nohost"):
        p = run_cli("serve", "--port", "1", "--public-url", bad)
        check_eq(p.returncode, 2, f"--public-url {bad!r} refused")
        check("public-url" in p.stderr.decode(), f"names the setting: {p.stderr[-200:]!r}")


# ---------------------------------------------------------------- hostile texts

def safe_markup(p, what):
    """No tag that runs or loads anything from elsewhere, no handler, only safe URLs."""
    active = [t for t, a in p.tags if t in ("script", "iframe", "object", "embed", "base", "frame")
              or (t == "img" and not a.get("src", "").startswith("/roles/"))]
    check_eq(active, [], f"{what}: no active tag")
    handlers = [(t, k) for t, a in p.tags for k in a if k.lower().startswith("on")]
    check_eq(handlers, [], f"{what}: no event handler attribute")
    for t, a in p.tags:
        for k in ("href", "src", "action"):
            v = (a.get(k) or "").strip().lower()
            check(not v or v.startswith(("/", "#", "http://", "https://", "mailto:")),
                  f"{what}: {t} {k}={v[:60]!r}")


@test
def hostile_texts_render_as_text():
    with Server() as s:
        tok = s.token()
        r = s.post("/roles", hostile_role("hostile-role"), token=tok)
        check_eq(r.status, 201, f"hostile role stored {r.body[:300]!r}")
        s.post("/roles/hostile-role/evidence",
               {"dimensions": {"wage_trends": {"score": 2}},
                "reason": HOSTILE}, token=tok)
        for path in ("/roles/hostile-role", "/roles/hostile-role/revisions/1", "/",
                     "/?q=" + "%3Cscript%3E"):
            r, p = page(s, path)
            check_eq(r.status, 200, f"{path} status")
            safe_markup(p, path)
        r, p = page(s, "/roles/hostile-role")
        check("Role " + HOSTILE in p.text, "the title reads as written")
        check("<script>alert(3)</script>" in p.text, "raw HTML in CommonMark shows as text")
        check("<b onclick=alert(6)>bold</b>" in p.text, "inline HTML shows as text")
        links = [a.get("href") for t, a in p.tags if t == "a"]
        check("https://example.org/ok" in links and "mailto:a@example.org" in links,
              "allowed links kept")
        check("https://evil.example/i.png" in links, "an image becomes a link")
        check(not any(l and ("javascript" in l.lower() or l == "/relative") for l in links),
              f"javascript: and relative links dropped: {links}")
        check("click" in p.text and "javascript:alert(5)" in p.text, "their text stays")
        check(not any(h in ("Heading",) for _, h in p.headings), "prose headings are not headings")
        check("Assessor override: 50" in p.text and "Reason: " + HOSTILE in p.text, "override")
        for path in ("/roles/hostile-role/badge.svg", "/roles/hostile-role/history.svg",
                     "/roles/hostile-role/feed.atom", "/feed.atom"):
            r = s.get(path)
            check_eq(r.status, 200, f"{path} status")
            try:
                root = ET.fromstring(r.body)
            except ET.ParseError as e:
                check(False, f"{path} is not well-formed XML: {e}")
                continue
            check(not any(el.tag.endswith("script") for el in root.iter()), f"{path}: no script")
            check(not any(k.lower().startswith("on") for el in root.iter() for k in el.attrib),
                  f"{path}: no handler")
        feed = ET.fromstring(s.get("/roles/hostile-role/feed.atom").body)
        titles = [e.find(ATOM + "title").text for e in feed.findall(ATOM + "entry")]
        check(titles and titles[0].startswith("Role " + HOSTILE), f"feed title as text {titles[:1]}")


if __name__ == "__main__":
    run()
