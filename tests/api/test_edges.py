"""API tests of the edges a new user trips over: an encoded slash in a path, revision numbers
spelt two ways, empty slugs in a compare list, the JSON request log and bytes that are not
UTF-8, a token's last use recorded on every authenticated request, who archived a role,
evidence links that are not web addresses, control characters in texts, and an alias equal
to the role's own slug.
Run: AIJRI_BIN=bin/aijri python3 tests/api/test_edges.py
"""
import copy
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Server, check, check_eq, run, run_cli, seed_role, test  # noqa: E402

SLUG = "edge-ai-engineer"


def is_problem(r, status, field=None, msg=""):
    check_eq(r.status, status, f"{msg} status ({r.body[:300]!r})")
    check_eq((r.header("content-type") or "").split(";")[0], "application/problem+json",
             f"{msg} content type")
    j = r.json or {}
    if field is not None:
        fields = [e.get("field") for e in j.get("errors") or []]
        check(field in fields, f"{msg} errors name {field}: {fields}")
    return j


def evidence(rationale="ok", sources=None, reason=None):
    dim = {"score": 1, "rationale": rationale}
    if sources is not None:
        dim["sources"] = sources
    body = {"dimensions": {"wage_trends": dim}}
    if reason is not None:
        body["reason"] = reason
    return body


@test
def encoded_slash_is_part_of_its_segment():
    with Server() as s:
        check_eq(s.get(f"/roles/{SLUG}/score").status, 200, "the score")
        is_problem(s.get(f"/roles/{SLUG}%2Fscore"), 404, msg="%2F inside the slug")
        is_problem(s.get(f"/roles/{SLUG}%2fscore"), 404, msg="%2f inside the slug")
        is_problem(s.get(f"/roles%2F{SLUG}/score"), 404, msg="%2F after roles")
        is_problem(s.get(f"/roles/{SLUG}%00"), 404, msg="%00 in the slug")
        # Other encoded characters are decoded inside their segment as before.
        check_eq(s.get("/roles/edge%2Dai-engineer/score").status, 200, "an encoded hyphen")
        check_eq(s.get("/r%6Fles").status, 200, "an encoded letter of a literal segment")


@test
def revision_numbers_have_one_spelling():
    with Server() as s:
        check_eq(s.get(f"/roles/{SLUG}/revisions/1").status, 200, "revision 1")
        for n in ("01", "+1", "1.0", "0", "-1", " 1", "1e0", "0x1", "99999999999"):
            is_problem(s.get(f"/roles/{SLUG}/revisions/" + n.replace(" ", "%20")), 404,
                       msg=f"revision {n!r}")
        check_eq(s.get(f"/roles/{SLUG}/revisions/%31").status, 200, "revision %31 (1)")


@test
def compare_lists_with_empty_slugs_are_refused():
    with Server() as s:
        for q in (f"{SLUG},,", f",{SLUG}", f"{SLUG},", f"{SLUG},,{SLUG}", ",", "%20,%20"):
            j = is_problem(s.get(f"/compare?roles={q}"), 422, "roles", f"roles={q!r}")
            check("empty" in (j.get("detail") or ""), f"roles={q!r}: detail {j.get('detail')}")
        r = s.get(f"/compare?roles={SLUG},%20{SLUG}")
        check_eq(r.status, 200, "spaces around a slug")
        check_eq(len((r.json or {}).get("roles") or []), 2, "two blocks")
        is_problem(s.get("/compare?roles=" + ",".join([SLUG] * 11)), 422, "roles", "11 slugs")
        is_problem(s.get(f"/compare?roles={SLUG},nobody"), 404, msg="an unknown slug")


@test
def json_log_lines_stay_valid_utf8():
    srv = Server(args=["--log-format", "json"])
    try:
        srv.start()
        for raw in (b"GET /\xff\xfe\xc3 HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET /roles?q=\xe9t\xe9 HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET /\xed\xa0\x80/\xc0\xaf HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET /caf\xc3\xa9/%FF HTTP/1.1\r\nHost: x\r\n\r\n"):
            c = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            c.sendall(raw)
            got = c.recv(100)
            c.close()
            check(got.startswith(b"HTTP/1.1 "), f"{raw[:30]!r} answered: {got[:40]!r}")
        check_eq(srv.stop(), 0, "exit code")
        lines = open(srv.log_path, "rb").read().splitlines()
        paths = []
        for line in lines:
            try:
                v = json.loads(line.decode("utf-8", errors="strict"))
            except (UnicodeDecodeError, ValueError) as e:
                check(False, f"not a valid UTF-8 JSON line: {line[:120]!r}: {e}")
                continue
            if "path" in v:
                paths.append(v["path"])
        check("/caf\u00e9/%FF" in paths, f"valid UTF-8 kept as it is: {paths}")
        check(any("\ufffd" in p for p in paths), f"invalid bytes replaced: {paths}")
    finally:
        srv.cleanup()


def last_used(db, name):
    p = run_cli("token", "list", db=db)
    for line in p.stdout.decode().splitlines():
        if line.split() and line.split()[0] == name:
            return line
    return None


@test
def every_authenticated_use_records_the_token():
    with Server() as s:
        tok = s.token("hooks-only")
        line = last_used(s.db, "hooks-only")
        check(line is not None and "never" in line, f"a new token: {line}")
        check_eq(s.get("/webhooks", token=tok).status, 200, "GET /webhooks")
        deadline = time.time() + 10
        while time.time() < deadline and "never" in (last_used(s.db, "hooks-only") or "never"):
            time.sleep(0.05)
        line = last_used(s.db, "hooks-only")
        check(line is not None and "never" not in line, f"after GET /webhooks: {line}")
        # A refused write is a use of the token too.
        tok2 = s.token("refused-write")
        r = s.post(f"/roles/{SLUG}/evidence", {"dimensions": {"wage_trends": {"score": 9}}},
                   token=tok2)
        check_eq(r.status, 422, "a refused write")
        deadline = time.time() + 10
        while time.time() < deadline and "never" in (last_used(s.db, "refused-write") or "never"):
            time.sleep(0.05)
        line = last_used(s.db, "refused-write")
        check(line is not None and "never" not in line, f"after a refused write: {line}")


@test
def the_history_says_who_archived_a_role():
    with Server() as s:
        tok = s.token("archivist")
        body = copy.deepcopy(seed_role())
        body["slug"] = "data-engineer"
        body["title"] = "Data Engineer"
        body["aliases"] = ["Pipeline Engineer"]
        check_eq(s.post("/roles", body, token=tok).status, 201, "create")
        check_eq(s.delete("/roles/data-engineer", token=tok).status, 204, "archive")
        is_problem(s.get("/roles/data-engineer"), 404, msg="an archived role")
        r = s.get("/roles/data-engineer/revisions")
        check_eq(r.status, 200, "the history of an archived role")
        items = (r.json or {}).get("items") or []
        check_eq([i["revision"] for i in items], [2, 1], "revisions")
        if items:
            top = items[0]
            check_eq((top.get("actor"), top.get("reason"), top.get("changed")),
                     ("archivist", "archived", ["archived"]), "the archive revision")
        r = s.get("/roles/data-engineer/revisions/2")
        check_eq(r.status, 200, "the archive revision in full")
        check_eq((r.json or {}).get("score", {}).get("score"),
                 (s.get("/roles/data-engineer/revisions/1").json or {}).get("score", {}).get("score"),
                 "the archive keeps the last score")
        check_eq(s.get("/roles/pipeline-engineer/revisions").status, 404,
                 "an alias of an archived role")


@test
def evidence_links_are_web_addresses():
    with Server() as s:
        tok = s.token()
        path = f"/roles/{SLUG}/evidence"
        field = "dimensions.wage_trends.sources[0].url"
        for url in ("javascript:alert(1)", "data:text/html,x", "file:///etc/passwd",
                    "ftp://example.org/x", "http://", "example.org/x", "//example.org/x"):
            r = s.post(path, evidence(sources=[{"title": "t", "url": url}]), token=tok)
            is_problem(r, 422, field, f"url {url!r}")
        for url in ("https://example.org/report.pdf", "http://example.org/a?b=c#d",
                    "HTTPS://EXAMPLE.ORG/"):
            r = s.post(path, evidence(rationale=url, sources=[{"title": "t", "url": url}]),
                       token=tok)
            check_eq(r.status, 200, f"url {url!r}")
        body = copy.deepcopy(seed_role())
        body["slug"] = "x-role"
        body["assessment"]["evidence"]["wage_trends"]["sources"] = [
            {"title": "t", "url": "javascript:void(0)"}]
        is_problem(s.post("/roles", body, token=tok), 422,
                   "assessment.evidence.wage_trends.sources[0].url", "create")


@test
def texts_refuse_control_characters():
    with Server() as s:
        tok = s.token()
        path = f"/roles/{SLUG}/evidence"
        field = "dimensions.wage_trends.rationale"
        for bad in ("a\u0007b", "a\u001b[31mred", "a\u007fb", "a\u0085b", "a\u000bb"):
            is_problem(s.post(path, evidence(rationale=bad), token=tok), 422, field, repr(bad))
        r = s.post(path, evidence(rationale="line one\nline two\r\n\tindented"), token=tok)
        check_eq(r.status, 200, "tab and line breaks in prose")
        is_problem(s.post(path, evidence(reason="why\u001b[2J"), token=tok), 422, "reason",
                   "reason")
        check_eq(s.post(path, evidence(rationale="r2", reason="two\nlines"), token=tok).status,
                 200, "a reason over two lines")
        r = s.put(f"/roles/{SLUG}/tasks", {"tasks": [
            {"name": "a\tb", "time_share": 100, "score": 3, "rationale": "x"}]}, token=tok)
        is_problem(r, 422, "tasks[0].name", "a tab in a task name")
        body = copy.deepcopy(seed_role())
        body["title"] = "Edge\nAI"
        is_problem(s.put(f"/roles/{SLUG}", body, token=tok), 422, "title", "a line break in a title")


@test
def an_alias_equal_to_the_slug_is_refused():
    with Server() as s:
        tok = s.token()
        body = copy.deepcopy(seed_role())
        body["aliases"] = ["TinyML Engineer", "Edge AI Engineer"]
        j = is_problem(s.put(f"/roles/{SLUG}", body, token=tok), 422, "aliases[1]", "PUT")
        check("own slug" in json.dumps(j), f"message: {j}")
        body = copy.deepcopy(seed_role())
        body["slug"] = "ml-engineer"
        body["title"] = "ML Engineer"
        body["aliases"] = ["ML  engineer"]
        is_problem(s.post("/roles", body, token=tok), 422, "aliases[0]", "POST")
        # What was stored is unchanged: the body never says what the alias table does not.
        check_eq(s.get(f"/roles/{SLUG}").json["aliases"], seed_role()["aliases"], "aliases kept")
        check_eq(s.get("/roles/ml-engineer").status, 404, "nothing created")


if __name__ == "__main__":
    run()
