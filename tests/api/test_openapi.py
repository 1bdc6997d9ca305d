#!/usr/bin/env python3
"""The OpenAPI document (api/openapi.json, served at GET /openapi.json): valid by a standard
validator (@apidevtools/swagger-parser, run by tests/openapi/validate.js with node), free of
errors under `redocly lint` (recommended rules), the same document as the server serves,
complete against the tables of API.md, with HEAD and OPTIONS declared wherever they work, and
with the bearer token required where API.md requires it. Every operation of the served document
is called (the answers are checked against it at the end of the run, as in every test file:
lib.py), and the answer checker is shown to catch a lie.

    python3 tests/api/test_openapi.py [TEST_NAME...]

The validators need node and `npm ci --prefix tests/openapi` (node_modules is not in git).
Without them the validity checks fail, they are not skipped.
"""
import base64
import copy
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (ROOT, Server, sqlite_only, check, check_eq, check_exchanges, free_port,  # noqa: E402
                 run, test)

DOC_PATH = os.path.join(ROOT, "api", "openapi.json")
VALIDATOR_DIR = os.path.join(ROOT, "tests", "openapi")
VALIDATOR = os.path.join(VALIDATOR_DIR, "validate.js")
PARSER_MODULE = os.path.join(VALIDATOR_DIR, "node_modules", "@apidevtools", "swagger-parser")
REDOCLY = os.path.join(VALIDATOR_DIR, "node_modules", ".bin", "redocly")
REDOCLY_CONFIG = os.path.join(VALIDATOR_DIR, "redocly.yaml")

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
WRITES = ("post", "put", "patch", "delete")

# Every (method, path template) of the tables of API.md: the contract.
CONTRACT = [
    ("GET", "/roles"),
    ("POST", "/roles"),
    ("GET", "/roles/{slug}"),
    ("PUT", "/roles/{slug}"),
    ("DELETE", "/roles/{slug}"),
    ("GET", "/roles/{slug}/score"),
    ("GET", "/roles/{slug}/tasks"),
    ("PUT", "/roles/{slug}/tasks"),
    ("GET", "/roles/{slug}/evidence"),
    ("POST", "/roles/{slug}/evidence"),
    ("PUT", "/roles/{slug}/barriers"),
    ("PUT", "/roles/{slug}/protective"),
    ("PUT", "/roles/{slug}/growth"),
    ("PUT", "/roles/{slug}/override"),
    ("DELETE", "/roles/{slug}/override"),
    ("GET", "/roles/{slug}/revisions"),
    ("GET", "/roles/{slug}/revisions/{n}"),
    ("POST", "/score"),
    ("GET", "/compare"),
    ("GET", "/export"),
    ("GET", "/methodology"),
    ("GET", "/openapi.json"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("POST", "/webhooks"),
    ("GET", "/webhooks"),
    ("GET", "/webhooks/{id}"),
    ("PATCH", "/webhooks/{id}"),
    ("DELETE", "/webhooks/{id}"),
    ("GET", "/webhooks/{id}/deliveries"),
    ("POST", "/webhooks/{id}/deliveries/{delivery_id}/redeliver"),
    ("POST", "/webhooks/{id}/ping"),
    # "Narrative" and "Pages, badges and feeds"
    ("PUT", "/roles/{slug}/commentary"),
    ("GET", "/"),
    ("GET", "/roles/{slug}/badge.svg"),
    ("GET", "/roles/{slug}/history.svg"),
    ("GET", "/roles/{slug}/feed.atom"),
    ("GET", "/feed.atom"),
    # "Analysis"
    ("GET", "/movers"),
    ("GET", "/roles/{slug}/neighbours"),
    ("POST", "/roles/{slug}/what-if"),
    ("GET", "/stats"),
]
# The reads of the parts that API.md's design adds beside its tables (GET of each PUT part).
DESIGN = [
    ("GET", "/roles/{slug}/barriers"),
    ("GET", "/roles/{slug}/protective"),
    ("GET", "/roles/{slug}/growth"),
    ("GET", "/roles/{slug}/override"),
    ("GET", "/roles/{slug}/commentary"),
]
OPERATION_IDS = {
    "listRoles", "createRole", "getRole", "replaceRole", "archiveRole", "getScore", "getTasks",
    "replaceTasks", "getEvidence", "updateEvidence", "getBarriers", "replaceBarriers",
    "getProtective", "replaceProtective", "getGrowth", "replaceGrowth", "getOverride",
    "setOverride", "deleteOverride", "listRevisions", "getRevision", "scoreAssessment",
    "compareRoles", "exportRoles", "getMethodology", "getOpenAPI", "healthz", "metrics",
    "createWebhook", "listWebhooks", "getWebhook", "updateWebhook", "deleteWebhook",
    "listDeliveries", "redeliver", "pingWebhook",
    "getCommentary", "replaceCommentary", "getIndexPage", "getFeed", "getBadge", "getHistoryChart",
    "getRoleFeed", "getFavicon", "listMovers", "getNeighbours", "whatIf", "getStats",
    "getWhatIfPage",
}
# Writes that need no token (API.md: POST /score stores nothing and needs no token).
PUBLIC_WRITES = {("POST", "/score"), ("POST", "/roles/{slug}/what-if")}


def load_doc():
    with open(DOC_PATH, encoding="utf-8") as f:
        return json.load(f)


def operations(doc):
    """(METHOD, path, operation) for every operation of doc."""
    for path, item in doc.get("paths", {}).items():
        for m in METHODS:
            if m in item:
                yield m.upper(), path, item[m]


def normalize(template):
    """A path template with its parameter names erased: /roles/{} ."""
    return re.sub(r"\{[^}]*\}", "{}", template)


def security_of(doc, op):
    return op["security"] if "security" in op else doc.get("security", [])


def needs_bearer(doc, op):
    """True when every alternative of the operation's security names bearerAuth."""
    sec = security_of(doc, op)
    return bool(sec) and all("bearerAuth" in alt for alt in sec)


def validate(data=None, path=None):
    """Runs the standard validator; returns (ok, message). A missing node or a missing
    node_modules is a failure with a message saying so."""
    node = shutil.which("node")
    if not node:
        return False, "node is not installed: the OpenAPI document cannot be validated"
    if not os.path.isdir(PARSER_MODULE):
        return False, (f"{PARSER_MODULE} is missing: run `npm ci --prefix tests/openapi` "
                       "to install the validator")
    argv = [node, VALIDATOR] + ([path] if path else [])
    try:
        p = subprocess.run(argv, input=data, capture_output=True, timeout=120, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"validator did not run: {e}"
    out = (p.stdout + p.stderr).decode(errors="replace").strip()
    return p.returncode == 0 and out.splitlines()[-1:] == ["valid"], out[-3000:]


@test
def test_document_is_valid():
    ok, msg = validate(path=DOC_PATH)
    check(ok, f"api/openapi.json is not a valid OpenAPI document: {msg}")
    doc = load_doc()
    check_eq(doc.get("openapi"), "3.0.3", "openapi version")
    info = doc.get("info", {})
    check_eq(info.get("title"), "aijri", "info.title")
    check_eq(info.get("version"), "1", "info.version")
    desc = info.get("description", "")
    for word in ("problem+json", "ETag", "If-None-Match", "If-Match", "Access-Control-Allow-Origin",
                 "limit", "offset"):
        check(word in desc, f"info.description does not describe {word}")
    check_eq(doc.get("servers"), [{"url": "/"}], "servers")
    scheme = doc.get("components", {}).get("securitySchemes", {}).get("bearerAuth")
    check_eq(scheme and (scheme.get("type"), scheme.get("scheme")), ("http", "bearer"),
             "securitySchemes.bearerAuth")
    ids = [op.get("operationId") for m, _, op in operations(doc) if m not in ("HEAD", "OPTIONS")]
    check_eq(sorted(set(ids) ^ OPERATION_IDS), [],
             "operationIds (other than HEAD and OPTIONS) differing from the expected ones:")


@test
def test_head_and_options_declared():
    """The server answers HEAD wherever GET works and OPTIONS on every path (API.md): the
    document declares both, so that a validating gateway lets them through. A new path gets
    them as its siblings have them: "head" a copy of its GET's responses without content,
    "options" the Preflight response."""
    doc = load_doc()
    for path, item in doc.get("paths", {}).items():
        if "get" in item:
            head = item.get("head")
            check(head is not None, f"{path} has GET but no HEAD")
            if head:
                check_eq(sorted(head.get("responses", {})), sorted(item["get"]["responses"]),
                         f"HEAD {path}: the statuses of its GET")
                check(all("content" not in r for r in head["responses"].values()),
                      f"HEAD {path}: a response declares a body")
                check_eq(head.get("security", doc.get("security")),
                         item["get"].get("security", doc.get("security")),
                         f"HEAD {path}: the security of its GET")
        opt = item.get("options")
        check(opt is not None, f"{path} has no OPTIONS")
        if opt:
            check_eq(opt.get("responses", {}).get("204"),
                     {"$ref": "#/components/responses/Preflight"}, f"OPTIONS {path}: 204")
            check_eq(opt.get("security"), [], f"OPTIONS {path}: a preflight needs no token")


@test
def test_document_semantics():
    """What swagger-parser checks only for Swagger 2.0, not for OpenAPI 3: unique
    operationIds, and path parameters that match the path templates. Also: every required
    property of a schema is one of its properties."""
    doc = load_doc()
    comp_params = doc.get("components", {}).get("parameters", {})

    def param(p):
        if "$ref" in p:
            return comp_params.get(p["$ref"].rsplit("/", 1)[-1], {})
        return p

    ids = [op.get("operationId") for _, _, op in operations(doc)]
    check(all(ids), "an operation has no operationId")
    check_eq(sorted({i for i in ids if ids.count(i) > 1}), [], "duplicate operationIds")
    for method, path, op in operations(doc):
        item = doc["paths"][path]
        declared = {}
        for p in item.get("parameters", []) + op.get("parameters", []):
            p = param(p)
            if p.get("in") == "path":
                declared[p.get("name")] = p
        names = set(re.findall(r"\{([^}]*)\}", path))
        check_eq(set(declared), names, f"{method} {path}: path parameters")
        for name, p in declared.items():
            check(p.get("required") is True, f"{method} {path}: path parameter {name} must "
                  "be required")

    def walk(node, where):
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict) and isinstance(node.get("required"), list):
                for name in node["required"]:
                    check(name in props, f"{where}: required {name} is not a property")
            for k, v in node.items():
                walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for k, v in enumerate(node):
                walk(v, f"{where}/{k}")

    walk(doc.get("components", {}), "#/components")
    walk(doc.get("paths", {}), "#/paths")


@test
def test_served_document():
    with open(DOC_PATH, "rb") as f:
        raw = f.read()
    with Server() as srv:
        r = srv.get("/openapi.json")
        check_eq(r.status, 200, "GET /openapi.json status")
        ctype = (r.header("content-type") or "").split(";")[0].strip()
        check_eq(ctype, "application/json", "GET /openapi.json Content-Type")
        check_eq(r.header("access-control-allow-origin"), "*", "GET /openapi.json CORS")
        served = r.json
        check(served is not None, f"GET /openapi.json is not JSON: {r.body[:200]!r}")
        check(served == json.loads(raw), "the served document differs from api/openapi.json")
        ok, msg = validate(data=r.body)
        check(ok, f"the served document is not a valid OpenAPI document: {msg}")


@test
def test_every_contract_route_present():
    doc = load_doc()
    have = {(m, normalize(p)) for m, p, _ in operations(doc)}
    for method, template in CONTRACT + DESIGN:
        check((method, normalize(template)) in have,
              f"{method} {template} of API.md is missing from the OpenAPI document")
    # and the path parameter names are those of API.md
    paths = set(doc.get("paths", {}))
    for _, template in CONTRACT + DESIGN:
        check(template in paths, f"path {template} is not spelt as in API.md")


@test
def test_writes_and_webhooks_need_bearer():
    doc = load_doc()
    seen = 0
    for method, path, op in operations(doc):
        oid = op.get("operationId", f"{method} {path}")
        if method == "OPTIONS":
            continue  # a CORS preflight carries no credentials (checked above)
        if path == "/webhooks" or path.startswith("/webhooks/"):
            seen += 1
            check(needs_bearer(doc, op), f"{oid} ({method} {path}) must require bearerAuth")
            check("401" in op.get("responses", {}), f"{oid} must document 401")
        elif method.lower() in WRITES and (method, path) not in PUBLIC_WRITES:
            seen += 1
            check(needs_bearer(doc, op), f"{oid} ({method} {path}) must require bearerAuth")
            check("401" in op.get("responses", {}), f"{oid} must document 401")
        else:
            check(not needs_bearer(doc, op),
                  f"{oid} ({method} {path}) is public in API.md but requires a token")
    check(seen >= 18, f"only {seen} protected operations found")


@test
def test_error_responses():
    """The error statuses of the conventions are documented where they apply."""
    doc = load_doc()
    comp = doc.get("components", {}).get("responses", {})

    def resolve(r):
        if "$ref" in r:
            return comp.get(r["$ref"].rsplit("/", 1)[-1], {})
        return r

    for method, path, op in operations(doc):
        oid = op.get("operationId")
        resp = op.get("responses", {})
        check("503" in resp, f"{oid} must document 503 (busy, or shutting down)")
        if method in ("HEAD", "OPTIONS"):
            continue  # no bodies; their statuses are checked above
        for status, r in resp.items():
            if status.startswith(("4", "5")):
                check("application/problem+json" in resolve(r).get("content", {}),
                      f"{oid} {status} is not application/problem+json")
        if "requestBody" in op:
            for status in ("400", "413", "415", "422"):
                check(status in resp, f"{oid} has a body but no {status}")
        if path.startswith("/roles/{slug}") or path.startswith("/webhooks/{id}"):
            check("404" in resp, f"{oid} must document 404")
        if path.startswith("/roles/{slug}"):
            check("308" in resp, f"{oid} must document 308 (an alias slug)")
        if path.startswith("/roles/{slug}") and method == "GET":
            check("308" in resp, f"{oid} must document 308")
            # An answer no cache may keep (the personal-score form) has no validator.
            if "Cache-Control" not in resp.get("200", {}).get("headers", {}) or \
                    resp["200"]["headers"]["Cache-Control"].get("schema", {}).get("enum") != \
                    ["no-store"]:
                check("304" in resp, f"{oid} must document 304")
                check("ETag" in resp.get("200", {}).get("headers", {}),
                      f"{oid} 200 must carry an ETag")
        if path.startswith("/roles/{slug}") and method in ("PUT", "POST", "DELETE"):
            check("412" in resp, f"{oid} must document 412 (If-Match)")
    create = doc["paths"]["/roles"]["post"]["responses"]
    check("201" in create and "409" in create, "createRole must document 201 and 409")
    check("Location" in create.get("201", {}).get("headers", {}),
          "createRole 201 must carry Location")



@test
def test_redocly_lint_has_no_error():
    """`redocly lint` with its recommended rules (tests/openapi/redocly.yaml): no error. The
    warnings it is told to ignore, each with its reason, are in
    tests/openapi/.redocly.lint-ignore.yaml."""
    if not os.path.exists(REDOCLY):
        check(False, f"{REDOCLY} is missing: run `npm ci --prefix tests/openapi`")
        return
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true")
    p = subprocess.run([REDOCLY, "lint", "--config", REDOCLY_CONFIG, "--format", "stylish",
                        DOC_PATH], capture_output=True, timeout=300, cwd=ROOT, env=env)
    out = (p.stdout + p.stderr).decode(errors="replace")
    check_eq(p.returncode, 0, f"redocly lint failed:\n{out[-4000:]}")
    check(not re.search(r"\berror\b", out, re.I) or "0 errors" in out or "valid" in out,
          f"redocly lint reports errors:\n{out[-4000:]}")


def concrete(template, values):
    return re.sub(r"\{([^}]*)\}", lambda m: values.get(m.group(1), "x"), template)


@test
def test_every_operation_answers_as_documented():
    """Every method of every path of the served document is called: as documented, without
    the token where one is needed, on an alias slug, on an unknown id, and with a method the
    path does not have. What each answer must be is the document's to say: the answers are
    checked against it at the end of the run (answers_conform_to_openapi)."""
    # Deliveries go to a closed port on loopback: nothing leaves the machine.
    with Server(args=["--allow-private-webhooks"]) as srv:
        tok = srv.token()
        doc = srv.get("/openapi.json").json or {}
        hook = f"http://127.0.0.1:{free_port()}/hook"
        wh = srv.post("/webhooks", {"url": hook}, token=tok).json or {}
        ping = srv.post(f"/webhooks/{wh.get('id')}/ping", token=tok).json or {}
        values = {"slug": "edge-ai-engineer", "n": "1", "id": wh.get("id", "x"),
                  "delivery_id": str(ping.get("delivery_id", 1))}
        unknown = {"slug": "no-such-role", "n": "999", "id": "wh_nope", "delivery_id": "999"}
        last = []
        seen = 0
        for path, item in doc.get("paths", {}).items():
            for m in METHODS:
                if m not in item:
                    continue
                op = item[m]
                secured = needs_bearer(doc, op)
                url = concrete(path, values)
                if secured:
                    r = srv.request(m.upper(), url)
                    check_eq(r.status, 401, f"{m.upper()} {url} without a token")
                if m == "delete" and path in ("/roles/{slug}", "/webhooks/{id}"):
                    last.append((m, url, secured))
                    continue
                body = None if m in ("get", "head", "options", "delete") else b"{}"
                hdrs = {"Content-Type": "application/json"} if body else {}
                r = srv.request(m.upper(), url, raw=body, headers=hdrs,
                                token=tok if secured else None)
                seen += 1
                check(str(r.status) in op.get("responses", {}),
                      f"{m.upper()} {url}: {r.status} is not declared")
                if "{" in path:
                    r = srv.request(m.upper(), concrete(path, unknown), raw=body, headers=hdrs,
                                    token=tok if secured else None)
                    # A body that breaks a rule may be named before the id is looked up.
                    check(r.status in (404, 308) or m == "options" or
                          (body is not None and r.status == 422),
                          f"{m.upper()} {concrete(path, unknown)}: {r.status}")
                if path.startswith("/roles/{slug}"):
                    alias = concrete(path, dict(values, slug="tinyml-engineer"))
                    r = srv.request(m.upper(), alias, raw=body, headers=hdrs,
                                    token=tok if secured else None)
                    check_eq(r.status, 204 if m == "options" else 308, f"{m.upper()} {alias}")
            missing = [m for m in ("put", "post", "patch", "delete") if m not in item]
            if missing:
                r = srv.request(missing[0].upper(), concrete(path, values), token=tok)
                check_eq(r.status, 405, f"{missing[0].upper()} {path}")
        check(seen >= 60, f"only {seen} operations were called")
        r = srv.request("DELETE", "/roles/edge-ai-engineer", token=tok,
                        headers={"If-Match": '"r999"'})
        check_eq(r.status, 412, "archive with a stale If-Match")
        for m, url, secured in last:
            r = srv.request(m.upper(), url, token=tok if secured else None)
            check(r.status in (204, 200), f"{m.upper()} {url}: {r.status}")
        for path in ("/no-such-path", "/roles/edge-ai-engineer/score/extra", "/webhooks/a/b/c"):
            for m in ("GET", "OPTIONS", "POST"):
                check_eq(srv.request(m, path).status, 404, f"{m} {path}")


def write_exchanges(path, exchanges):
    with open(path, "w", encoding="utf-8") as f:
        for x in exchanges:
            x = dict(x)
            x.setdefault("test", "lie")
            x.setdefault("headers", {})
            x["body_b64"] = base64.b64encode(x.pop("body", b"")).decode()
            f.write(json.dumps(x) + "\n")


def exchange_of(method, target, r):
    """A recorded answer (a lib.Response) as the checker reads it."""
    return {"method": method, "target": target, "status": r.status, "headers": r.headers,
            "body": r.body}


PROBLEM = {"content-type": "application/problem+json"}


@test
def test_checker_reports_lies():
    """The answer checker fails on answers the document does not declare, one kind of lie at
    a time, and passes the true ones."""
    with Server() as srv:
        served = srv.get("/openapi.json").body
    tmp = tempfile.mkdtemp(prefix="aijri-lies-")
    try:
        doc_path = os.path.join(tmp, "openapi.json")
        with open(doc_path, "wb") as f:
            f.write(served)
        j = {"content-type": "application/json"}
        wh = {"id": "wh_1", "url": "https://example.com/h", "events": ["score.changed"],
              "roles": None, "description": None, "status": "active", "disabled_reason": None,
              "created_at": "2026-11-24T12:00:00Z", "updated_at": "2026-11-24T12:00:00Z"}
        lies = [
            ("a number sent as a string",
             {"method": "POST", "target": "/webhooks/wh_1/ping", "status": 202, "headers": j,
              "body": b'{"event_id":"evt_1","delivery_id":"7"}'}, "delivery_id"),
            ("a status the operation does not declare",
             {"method": "POST", "target": "/webhooks/wh_1/ping", "status": 418,
              "headers": PROBLEM, "body": b"{}"}, "418 is not declared"),
            ("a member the document does not name",
             {"method": "GET", "target": "/webhooks/wh_1", "status": 200, "headers": j,
              "body": json.dumps(dict(wh, colour="red")).encode()}, "colour"),
            ("a required member missing",
             {"method": "GET", "target": "/webhooks/wh_1", "status": 200, "headers": j,
              "body": json.dumps({k: v for k, v in wh.items() if k != "status"}).encode()},
             "status"),
            ("a value outside its enum",
             {"method": "GET", "target": "/webhooks/wh_1", "status": 200, "headers": j,
              "body": json.dumps(dict(wh, status="sleeping")).encode()}, "allowed values"),
            ("a Content-Type the response does not declare",
             {"method": "GET", "target": "/healthz", "status": 200,
              "headers": {"content-type": "text/html"}, "body": b"<p>ok</p>"}, "text/html"),
            ("a body on HEAD",
             {"method": "HEAD", "target": "/healthz", "status": 200, "headers": j,
              "body": b"{}"}, "HEAD answer carries a body"),
            ("a method the path does not have, answered 200",
             {"method": "PUT", "target": "/healthz", "status": 200, "headers": j,
              "body": b"{}"}, "not an operation"),
            ("a 405 whose Allow is not the path's methods",
             {"method": "PUT", "target": "/healthz", "status": 405,
              "headers": dict(PROBLEM, allow="GET, HEAD, PUT, OPTIONS"),
              "body": json.dumps({"type": "urn:aijri:problem:method-not-allowed",
                                  "title": "Method not allowed", "status": 405,
                                  "detail": "x", "errors": []}).encode()}, "Allow says"),
            ("an unknown path answered 200",
             {"method": "GET", "target": "/nowhere", "status": 200, "headers": j,
              "body": b"{}"}, "no path of the document"),
            ("a 308 without its Location",
             {"method": "GET", "target": "/roles/tinyml-engineer", "status": 308,
              "headers": PROBLEM,
              "body": json.dumps({"type": "urn:aijri:problem:moved", "title": "Moved",
                                  "status": 308, "detail": "x", "errors": []}).encode()},
             "location"),
            ("a body on 204",
             {"method": "OPTIONS", "target": "/healthz", "status": 204,
              "headers": {"allow": "GET, HEAD, OPTIONS", "access-control-allow-origin": "*",
                          "access-control-allow-methods": "GET, HEAD, OPTIONS",
                          "access-control-allow-headers": "Authorization",
                          "access-control-max-age": "86400"}, "body": b"x"}, "204 answer"),
            ("a problem type the document does not list",
             {"method": "GET", "target": "/roles/nope", "status": 404, "headers": PROBLEM,
              "body": json.dumps({"type": "urn:aijri:problem:gone-fishing", "title": "x",
                                  "status": 404, "detail": None, "errors": []}).encode()},
             "/type"),
            ("an NDJSON line that is not a record",
             {"method": "GET", "target": "/export?format=ndjson", "status": 200,
              "headers": {"content-type": "application/x-ndjson"}, "body": b'{"slug":1}\n'},
             "line 1"),
            ("an undeclared header the API uses for its conventions",
             {"method": "GET", "target": "/healthz", "status": 200,
              "headers": dict(j, etag='"r1"'),
              "body": b'{"status":"ok","schema_version":1,"changes_seen":0}'}, "etag"),
            ("a framing status answered with HTML",
             {"method": "GET", "target": "/healthz", "status": 411,
              "headers": {"content-type": "text/html"}, "body": b"<p>no</p>"}, "text/html"),
            ("a status neither the operation nor framing declares",
             {"method": "GET", "target": "/nowhere", "status": 418, "headers": PROBLEM,
              "body": b"{}"}, "not 404"),
            ("an escaped path of the document answered as if unknown",
             {"method": "GET", "target": "/r%6Fles", "status": 404,
              "headers": PROBLEM,
              "body": json.dumps({"type": "urn:aijri:problem:not-found", "title": "Not found",
                                  "status": 404, "detail": "x", "errors": []}).encode()},
             "status 404 is not declared"),
        ]
        truths = [
            {"method": "GET", "target": "/healthz", "status": 200, "headers": j,
             "body": b'{"status":"ok","schema_version":1,"changes_seen":0}'},
            {"method": "GET", "target": "/webhooks/wh_1", "status": 200, "headers": j,
             "body": json.dumps(wh).encode()},
            # A framing refusal, on any method of any path (x-unlisted-responses.framing).
            {"method": "DELETE", "target": "/nowhere/at/all", "status": 411,
             "headers": dict(PROBLEM, connection="close"),
             "body": json.dumps({"type": "urn:aijri:problem:length-required",
                                 "title": "Length required", "status": 411, "detail": "x",
                                 "errors": []}).encode()},
            # A path read as the server reads it: segments percent-decoded.
            {"method": "GET", "target": "/r%6Fles", "status": 200, "headers": j,
             "body": json.dumps({"items": [], "total": 0, "limit": 20, "offset": 0,
                                 "links": {"next": None, "prev": None}}).encode()},
        ]
        # One run of the checker over all of them; its report numbers the answers from 1.
        log = os.path.join(tmp, "answers.jsonl")
        write_exchanges(log, truths + [x for _, x, _ in lies])
        ok, violations, summary = check_exchanges(doc_path, log)
        check(not ok, f"the lies passed: {summary}")

        def reported(i):
            return [v for v in violations if v.startswith(f"VIOLATION #{i} ")]

        for i in range(1, len(truths) + 1):
            check_eq(reported(i), [], f"true answer {i} reported")
        for i, (what, _, needle) in enumerate(lies, start=len(truths) + 1):
            check(reported(i), f"{what}: not reported ({summary})")
            check(any(needle.lower() in v.lower() for v in reported(i)),
                  f"{what}: the report does not say {needle!r}: {reported(i)}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_a_document_that_lies_fails():
    """Real answers pass against the served document, and fail against the same document
    changed in one place: points 1, 3 and 8 of issue 11 made to lie again."""
    with Server(args=["--allow-private-webhooks"]) as srv:
        tok = srv.token()
        doc = srv.get("/openapi.json").json or {}
        hook = f"http://127.0.0.1:{free_port()}/hook"  # closed: nothing leaves the machine
        wh = srv.post("/webhooks", {"url": hook}, token=tok).json or {}
        answers = []
        for method, target, kw in (
                ("POST", f"/webhooks/{wh.get('id')}/ping", {"token": tok}),
                ("GET", "/compare?roles=edge-ai-engineer", {}),
                ("HEAD", "/roles/edge-ai-engineer/score", {}),
                ("OPTIONS", "/roles/edge-ai-engineer/score", {})):
            answers.append(exchange_of(method, target, srv.request(method, target, **kw)))
    tmp = tempfile.mkdtemp(prefix="aijri-lies-")
    try:
        log = os.path.join(tmp, "answers.jsonl")
        write_exchanges(log, answers)

        def verdict(d):
            path = os.path.join(tmp, "doc.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(d, f)
            return check_exchanges(path, log)

        ok, violations, summary = verdict(doc)
        check(ok, f"the real answers do not pass the served document: {violations} {summary}")
        # Four lies in one document, each about one of the four answers (numbered from 1).
        d = copy.deepcopy(doc)
        d["components"]["schemas"]["PingResult"]["properties"]["delivery_id"]["type"] = "string"
        d["components"]["schemas"]["Comparison"]["properties"]["roles"]["minItems"] = 2
        del d["paths"]["/roles/{slug}/score"]["head"]
        del d["paths"]["/roles/{slug}/score"]["options"]
        ok, violations, summary = verdict(d)
        check(not ok, "the lies pass")
        for i, (what, needle) in enumerate((
                ("ping's delivery_id a string", "delivery_id"),
                ("compare takes two roles", "fewer than 2"),
                ("no HEAD", "HEAD is not an operation"),
                ("no OPTIONS", "OPTIONS is not an operation")), start=1):
            check(any(v.startswith(f"VIOLATION #{i} ") and needle in v for v in violations),
                  f"{what}: not reported: {violations} {summary}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_conventions_as_documented():
    """Issue 11's points 7 and 10: a 405 says what it refused (its detail is not null), every
    problem type the server can answer is listed, and the content types the server reads as
    JSON are the ones the document names."""
    with open(os.path.join(ROOT, "data", "edge-ai-engineer.json"), "rb") as f:
        role = f.read()
    with Server() as srv:
        doc = srv.get("/openapi.json").json or {}
        r = srv.request("PATCH", "/roles")
        check_eq(r.status, 405, "PATCH /roles")
        detail = (r.json or {}).get("detail")
        check(isinstance(detail, str) and "PATCH" in detail, f"405 detail: {detail!r}")
        check_eq(r.header("allow"), "GET, HEAD, POST, OPTIONS", "Allow")
        listed = (doc.get("components", {}).get("schemas", {}).get("Problem", {})
                  .get("properties", {}).get("type", {}).get("enum", []))
        for kind in ("malformed-json", "malformed-request", "unauthorized", "not-found",
                     "method-not-allowed", "conflict", "webhook-disabled",
                     "precondition-failed", "payload-too-large", "unsupported-media-type",
                     "validation-error", "internal", "busy", "moved"):
            check(f"urn:aijri:problem:{kind}" in listed, f"problem type {kind} is not listed")
        desc = doc.get("info", {}).get("description", "")
        for ctype, want in (("application/json", 200), ("application/x-www-form-urlencoded", 200),
                            (None, 200), ("application/merge-patch+json", 200),
                            ("text/plain", 415), ("application/xml", 415)):
            hdrs = {"Content-Type": ctype} if ctype else {}
            r = srv.request("POST", "/score", raw=role, headers=hdrs)
            check_eq(r.status, want, f"POST /score as {ctype}")
            if ctype and want == 200:
                check(ctype in desc or ctype.endswith("+json"),
                      f"{ctype} is read as JSON but the document does not say so")
        check("`+json`" in desc and "no `Content-Type`" in desc and "`415`" in desc,
              "the document's conventions name the JSON types and the 415")

@test
@sqlite_only
def test_busy_database_answers_503():
    """A write that finds the database locked past the busy timeout (5 s) answers 503 `busy`
    with Retry-After, as declared on every operation, and writes nothing."""
    with Server() as srv:
        tok = srv.token()
        before = srv.get("/roles/edge-ai-engineer").json or {}
        holder = sqlite3.connect(srv.db, timeout=30, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            r = srv.post("/roles/edge-ai-engineer/evidence",
                         {"dimensions": {"wage_trends": {"score": 2}}, "reason": "busy"},
                         token=tok, timeout=60)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        check_eq(r.status, 503, f"a write while the database is locked: {r.body[:200]!r}")
        check_eq((r.json or {}).get("type"), "urn:aijri:problem:busy", "problem type")
        check_eq(r.header("retry-after"), "1", "Retry-After")
        after = srv.get("/roles/edge-ai-engineer").json or {}
        check_eq(after.get("revision"), before.get("revision"), "nothing written")
        r = srv.post("/roles/edge-ai-engineer/evidence",
                     {"dimensions": {"wage_trends": {"score": 2}}, "reason": "free"}, token=tok)
        check_eq(r.status, 200, "the same write once the lock is gone")

if __name__ == "__main__":
    run()
