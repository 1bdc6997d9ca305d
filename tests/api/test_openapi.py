#!/usr/bin/env python3
"""The OpenAPI document (api/openapi.json, served at GET /openapi.json): valid by a standard
validator (@apidevtools/swagger-parser, run by tests/openapi/validate.js with node), the same
document as the server serves, complete against the tables of API.md, and with the bearer
token required where API.md requires it.

    python3 tests/api/test_openapi.py [TEST_NAME...]

The validator needs node and `npm ci --prefix tests/openapi` (node_modules is not in git).
Without them the validity checks fail, they are not skipped.
"""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import ROOT, Server, check, check_eq, run, test  # noqa: E402

DOC_PATH = os.path.join(ROOT, "api", "openapi.json")
VALIDATOR_DIR = os.path.join(ROOT, "tests", "openapi")
VALIDATOR = os.path.join(VALIDATOR_DIR, "validate.js")
PARSER_MODULE = os.path.join(VALIDATOR_DIR, "node_modules", "@apidevtools", "swagger-parser")

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
    "getRoleFeed", "getFavicon",
}
# Writes that need no token (API.md: POST /score stores nothing and needs no token).
PUBLIC_WRITES = {("POST", "/score")}


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
    ids = [op.get("operationId") for _, _, op in operations(doc)]
    check_eq(sorted(set(ids) ^ OPERATION_IDS), [],
             "operationIds differing from the expected ones:")


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
        for status, r in resp.items():
            if status.startswith(("4", "5")):
                check("application/problem+json" in resolve(r).get("content", {}),
                      f"{oid} {status} is not application/problem+json")
        if "requestBody" in op:
            for status in ("400", "413", "415", "422"):
                check(status in resp, f"{oid} has a body but no {status}")
        if path.startswith("/roles/{slug}") or path.startswith("/webhooks/{id}"):
            check("404" in resp, f"{oid} must document 404")
        if path.startswith("/roles/{slug}") and method == "GET":
            for status in ("304", "308"):
                check(status in resp, f"{oid} must document {status}")
            check("ETag" in resp.get("200", {}).get("headers", {}),
                  f"{oid} 200 must carry an ETag")
        if path.startswith("/roles/{slug}") and method in ("PUT", "POST", "DELETE"):
            check("412" in resp, f"{oid} must document 412 (If-Match)")
    create = doc["paths"]["/roles"]["post"]["responses"]
    check("201" in create and "409" in create, "createRole must document 201 and 409")
    check("Location" in create.get("201", {}).get("headers", {}),
          "createRole 201 must carry Location")


if __name__ == "__main__":
    run()
