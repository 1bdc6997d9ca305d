#!/usr/bin/env node
// Checks recorded HTTP exchanges against an OpenAPI 3.0 document: every answer the API tests
// received must be one the document declares. Driven by the document alone: no list of
// endpoints lives here.
//
//   node tests/openapi/check-exchanges.js DOC.json EXCHANGES.jsonl
//
// EXCHANGES.jsonl has one JSON object per line (tests/api/lib.py writes them):
//   {"test": "name", "method": "GET", "target": "/roles?q=x", "status": 200,
//    "headers": {"content-type": "..."}, "body_b64": "..."}
// Prints one line per violation ("VIOLATION #i test: METHOD target -> status: what"), then
// "checked N exchanges, M violations"; exits 1 when there is any violation, 2 on bad input.
//
// The rules, each from the document:
// - the path is split at its slashes, then each segment is percent-decoded (as the server
//   and RFC 3986 read it: `/r%6Fles` is `/roles`, while `%2F` stays inside its segment), and
//   matched against the document's path templates (literal segments beat parameters); a path
//   no template matches must be answered 404 with the response that the document's root
//   extension `x-unlisted-responses.path` names;
// - a refusal made on the request's headers before any operation is looked at (framing) may
//   answer any method on any path: a status that `x-unlisted-responses.framing` lists, and
//   that the operation (if any) does not declare itself, is checked against that response;
// - the method must be an operation of that path item; a method that is not must be answered
//   405 with the response `x-unlisted-responses.method` names, and its Allow header must list
//   exactly the path item's operations (so must an OPTIONS answer's);
// - the status must be declared by the operation (exactly, or as 2XX-style ranges, or
//   `default`);
// - the Content-Type must be one of the response's `content` media types (parameters of the
//   declared type must be present with the same value); no body where none is declared, and
//   none on HEAD, 204 or 304; a declared body must not be empty;
// - JSON bodies (application/json, any +json) are validated by Ajv against the media type's
//   schema; each line of application/x-ndjson against the schema (one record per line);
//   text bodies as a string against the schema (so `pattern` applies); an object schema that
//   lists its `properties` and says nothing of `additionalProperties` is read as closed, so
//   that a member the document does not name is reported (except in the branches of a
//   multi-branch allOf, which name their properties between them);
// - each response header declared `required: true` must be present, and each declared header
//   present must match its schema; the headers the API uses for its own conventions (ETag,
//   Location, Link, Allow, Retry-After, WWW-Authenticate, Idempotent-Replayed) must be declared
//   when they are sent.
"use strict";
const fs = require("fs");
const readline = require("readline");
const Ajv = require("ajv");
const addFormats = require("ajv-formats");

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const MUST_DECLARE = ["etag", "location", "link", "allow", "retry-after", "www-authenticate",
                      "idempotent-replayed"];
const SEQUENTIAL_JSON = ["application/x-ndjson", "application/jsonl", "application/json-seq"];

/* JSON pointer helpers over the document. */
function unescapePtr(s) {
  return s.replace(/~1/g, "/").replace(/~0/g, "~");
}
function escapePtr(s) {
  return String(s).replace(/~/g, "~0").replace(/\//g, "~1");
}
function at(doc, ptr) {
  let node = doc;
  for (const part of ptr.replace(/^#\/?/, "").split("/").filter((p) => p !== "")) {
    if (node === undefined || node === null) return undefined;
    node = node[unescapePtr(part)];
  }
  return node;
}
/* Follows local $refs (responses, headers, parameters): {obj, ptr}. */
function resolve(doc, obj, ptr) {
  let seen = 0;
  while (obj && typeof obj === "object" && typeof obj.$ref === "string") {
    if (!obj.$ref.startsWith("#/") || ++seen > 20) throw new Error(`cannot resolve ${obj.$ref}`);
    ptr = obj.$ref;
    obj = at(doc, ptr);
  }
  return { obj, ptr };
}

/* Path templates of the document, most specific first. */
function compileTemplates(doc) {
  const list = [];
  for (const tpl of Object.keys(doc.paths || {})) {
    const segs = tpl.split("/").slice(1);
    const params = [];
    const re = segs
      .map((s) => {
        const m = /^\{([^}]+)\}$/.exec(s);
        if (m) {
          params.push(m[1]);
          return "([^/]+)";
        }
        return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      })
      .join("/");
    // A segment that is all literal ranks before one with a parameter at the same place.
    const rank = segs.map((s) => (s.startsWith("{") ? "1" : "0")).join("");
    list.push({ tpl, re: new RegExp("^/" + re + "$"), params, rank });
  }
  list.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
  return list;
}

/* The path with each segment percent-decoded; a slash decoded inside a segment is kept
 * encoded, so that it never reads as a separator. A malformed escape is left as it is. */
function decodeSegments(path) {
  return path
    .split("/")
    .map((seg) => {
      try {
        return decodeURIComponent(seg).replace(/\//g, "%2F");
      } catch (e) {
        return seg;
      }
    })
    .join("/");
}

function mediaType(value) {
  const parts = String(value || "").split(";");
  const type = parts.shift().trim().toLowerCase();
  const params = {};
  for (const p of parts) {
    const i = p.indexOf("=");
    if (i > 0) params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"|"$/g, "");
  }
  return { type, params };
}
function typeMatches(declared, sent) {
  const d = mediaType(declared);
  const [dt, ds] = d.type.split("/");
  const [st, ss] = sent.type.split("/");
  if (!(dt === "*" || dt === st) || !(ds === "*" || ds === ss)) return false;
  return Object.entries(d.params).every(([k, v]) => (sent.params[k] || "").toLowerCase() === v.toLowerCase());
}
function isJson(type) {
  return type === "application/json" || type.endsWith("+json");
}

function ajvErrors(errors) {
  return (errors || [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || "(root)"} ${e.message}${e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ""}${e.params && e.params.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}` : ""}`)
    .join("; ");
}

/* OpenAPI 3.0 writes an exclusive bound as `minimum: 0, exclusiveMinimum: true` (JSON Schema
 * draft 4); Ajv reads draft 7, where the bound is the value of exclusiveMinimum. */
function toDraft7(node) {
  if (Array.isArray(node)) {
    node.forEach(toDraft7);
    return node;
  }
  if (!node || typeof node !== "object") return node;
  for (const [flag, bound] of [["exclusiveMinimum", "minimum"], ["exclusiveMaximum", "maximum"]]) {
    if (typeof node[flag] === "boolean" && typeof node[bound] === "number") {
      if (node[flag]) {
        node[flag] = node[bound];
        delete node[bound];
      } else {
        delete node[flag];
      }
    }
  }
  for (const v of Object.values(node)) toDraft7(v);
  return node;
}

/* Closes the object schemas of the document (see the rules above), in place. */
function closeObjects(doc) {
  const open = new Set();
  (function findAllOf(node) {
    if (Array.isArray(node)) return node.forEach(findAllOf);
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node.allOf) && node.allOf.length > 1) {
      for (const branch of node.allOf) {
        open.add(branch);
        if (branch && typeof branch.$ref === "string") open.add(at(doc, branch.$ref));
      }
    }
    Object.values(node).forEach(findAllOf);
  })(doc);
  (function close(node, key) {
    if (Array.isArray(node)) return node.forEach((v) => close(v, null));
    if (!node || typeof node !== "object") return;
    if (key !== "properties" && node.properties && typeof node.properties === "object" &&
        !("additionalProperties" in node) && !open.has(node)) {
      node.additionalProperties = false;
    }
    for (const [k, v] of Object.entries(node)) close(v, k);
  })(doc, null);
  return doc;
}

class Checker {
  constructor(doc) {
    this.doc = closeObjects(toDraft7(JSON.parse(JSON.stringify(doc))));
    this.templates = compileTemplates(doc);
    // OpenAPI 3.0 schemas are a JSON Schema dialect: `nullable`, `discriminator` and a few
    // annotation keywords on top of draft 7's subset. Ajv knows `nullable`; the rest are
    // annotations for this purpose.
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema(this.doc, "openapi");
    this.validators = new Map();
  }

  schemaValidator(ptr) {
    let v = this.validators.get(ptr);
    if (!v) {
      v = this.ajv.getSchema("openapi" + ptr);
      if (!v) throw new Error(`no schema at ${ptr}`);
      this.validators.set(ptr, v);
    }
    return v;
  }

  route(path) {
    for (const t of this.templates) {
      const m = t.re.exec(path);
      if (m) return t;
    }
    return null;
  }

  declaredMethods(item) {
    return METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
  }

  check(x) {
    const out = [];
    const target = String(x.target || "");
    const rawPath = decodeSegments(target.split("?")[0].split("#")[0]);
    const method = String(x.method || "").toLowerCase();
    const headers = {};
    for (const [k, v] of Object.entries(x.headers || {})) headers[k.toLowerCase()] = String(v);
    const body = Buffer.from(x.body_b64 || "", "base64");
    const t = this.route(rawPath);

    const unlisted = this.doc["x-unlisted-responses"] || {};
    const framing = unlisted.framing || {};
    const status0 = String(x.status);
    if (framing[status0] && typeof framing[status0] === "object") {
      const item0 = t ? this.doc.paths[t.tpl] : null;
      const op0 = item0 ? resolve(this.doc, item0, "#/paths/" + escapePtr(t.tpl)).obj[method] : null;
      if (!op0 || !(op0.responses || {})[status0]) {
        this.checkResponse(out, { method, headers, body, status: x.status }, framing[status0],
                           `#/x-unlisted-responses/framing/${status0}`, null);
        return out;
      }
    }
    if (!t) {
      if (x.status !== 404) out.push(`no path of the document matches ${rawPath}, yet the answer is ${x.status}, not 404`);
      else if (!unlisted.path) out.push("the document has no x-unlisted-responses.path for unknown paths");
      else this.checkResponse(out, { method, headers, body, status: x.status }, unlisted.path, "#/x-unlisted-responses/path", null);
      return out;
    }
    const itemPtr = "#/paths/" + escapePtr(t.tpl);
    const item = resolve(this.doc, this.doc.paths[t.tpl], itemPtr);
    const declared = this.declaredMethods(item.obj);
    const op = item.obj[method];
    if (!op) {
      if (x.status !== 405) {
        out.push(`${method.toUpperCase()} is not an operation of ${t.tpl} (it has ${declared.join(", ")}), yet the answer is ${x.status}`);
      } else if (!unlisted.method) {
        out.push("the document has no x-unlisted-responses.method for 405 answers");
      } else {
        this.checkResponse(out, { method, headers, body, status: x.status }, unlisted.method, "#/x-unlisted-responses/method", null);
        this.checkAllow(out, headers, declared, t.tpl);
      }
      return out;
    }
    const opPtr = resolve(this.doc, this.doc.paths[t.tpl], itemPtr).ptr + "/" + method;
    const responses = op.responses || {};
    const status = String(x.status);
    const key = responses[status] ? status : responses[status[0] + "XX"] ? status[0] + "XX" : responses.default ? "default" : null;
    if (!key) {
      out.push(`status ${status} is not declared for ${method.toUpperCase()} ${t.tpl} (declared: ${Object.keys(responses).join(", ")})`);
      return out;
    }
    const r = resolve(this.doc, responses[key], `${opPtr}/responses/${escapePtr(key)}`);
    this.checkResponse(out, { method, headers, body, status: x.status }, r.obj, r.ptr, op);
    if ((method === "options" && x.status < 300) || x.status === 405) this.checkAllow(out, headers, declared, t.tpl);
    return out;
  }

  checkAllow(out, headers, declared, tpl) {
    if (!("allow" in headers)) {
      out.push(`no Allow header (the path ${tpl} has ${declared.join(", ")})`);
      return;
    }
    const sent = headers.allow.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean).sort();
    const want = declared.slice().sort();
    if (sent.join(",") !== want.join(",")) {
      out.push(`Allow says ${sent.join(", ")} but the document declares ${want.join(", ")} on ${tpl}`);
    }
  }

  checkResponse(out, x, resp, respPtr, op) {
    if (!resp || typeof resp !== "object") {
      out.push(`response ${respPtr} is not an object`);
      return;
    }
    const r = resolve(this.doc, resp, respPtr);
    resp = r.obj;
    respPtr = r.ptr;
    this.checkHeaders(out, x.headers, resp, respPtr);
    const content = resp.content || {};
    const noBody = x.method === "head" || x.status === 204 || x.status === 304;
    if (noBody) {
      if (x.body.length) out.push(`a ${x.method === "head" ? "HEAD answer" : x.status + " answer"} carries a body of ${x.body.length} bytes`);
      return;
    }
    const types = Object.keys(content);
    if (!types.length) {
      if (x.body.length) out.push(`a body (${x.headers["content-type"] || "no type"}, ${x.body.length} bytes) where the document declares none (${respPtr})`);
      return;
    }
    if (!("content-type" in x.headers)) {
      out.push(`no Content-Type; the document declares ${types.join(", ")}`);
      return;
    }
    const sent = mediaType(x.headers["content-type"]);
    const declared = types.find((d) => typeMatches(d, sent));
    if (!declared) {
      out.push(`Content-Type ${x.headers["content-type"]} is not among ${types.join(", ")} (${respPtr})`);
      return;
    }
    if (!x.body.length) {
      out.push(`an empty body where the document declares ${declared}`);
      return;
    }
    const media = content[declared];
    if (!media || !media.schema) return;
    const schemaPtr = `${respPtr}/content/${escapePtr(declared)}/schema`;
    const validate = this.schemaValidator(schemaPtr);
    const text = x.body.toString("utf8");
    const where = `${declared} body against ${media.schema.$ref || schemaPtr}`;
    if (isJson(sent.type)) {
      let value;
      try {
        value = JSON.parse(text);
      } catch (e) {
        out.push(`${declared} body is not JSON: ${e.message}`);
        return;
      }
      if (!validate(value)) out.push(`${where}: ${ajvErrors(validate.errors)}`);
    } else if (SEQUENTIAL_JSON.includes(sent.type)) {
      const lines = text.split("\n");
      if (lines[lines.length - 1] === "") lines.pop();
      lines.forEach((line, i) => {
        let value;
        try {
          value = JSON.parse(line);
        } catch (e) {
          out.push(`${declared} line ${i + 1} is not JSON: ${e.message}`);
          return;
        }
        if (!validate(value)) out.push(`${where}, line ${i + 1}: ${ajvErrors(validate.errors)}`);
      });
    } else if (!validate(text)) {
      out.push(`${where}: ${ajvErrors(validate.errors)}`);
    }
  }

  checkHeaders(out, headers, resp, respPtr) {
    const declared = {};
    for (const [name, h] of Object.entries(resp.headers || {})) {
      declared[name.toLowerCase()] = resolve(this.doc, h, `${respPtr}/headers/${escapePtr(name)}`);
    }
    for (const [name, h] of Object.entries(declared)) {
      const value = headers[name];
      if (value === undefined) {
        if (h.obj && h.obj.required) out.push(`the required header ${name} is missing (${respPtr})`);
        continue;
      }
      if (!h.obj || !h.obj.schema) continue;
      const validate = this.schemaValidator(`${h.ptr}/schema`);
      let v = value;
      const type = h.obj.schema.type;
      if ((type === "integer" || type === "number") && /^-?\d+(\.\d+)?$/.test(value)) v = Number(value);
      if (!validate(v)) out.push(`header ${name}: ${JSON.stringify(value)}: ${ajvErrors(validate.errors)}`);
    }
    for (const name of MUST_DECLARE) {
      if (name in headers && !(name in declared)) out.push(`header ${name} is sent but not declared (${respPtr})`);
    }
  }
}

/* Reads the log a line at a time: the log of a long run (the soak's, with its exports) can be
 * larger than one string may be. */
async function main() {
  const [docPath, logPath] = process.argv.slice(2);
  if (!docPath || !logPath) {
    console.log("usage: check-exchanges.js DOC.json EXCHANGES.jsonl");
    process.exit(2);
  }
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(docPath, "utf8"));
  } catch (e) {
    console.log(`cannot read the document ${docPath}: ${e.message}`);
    process.exit(2);
  }
  const checker = new Checker(doc);
  const lines = readline.createInterface({ input: fs.createReadStream(logPath), crlfDelay: Infinity });
  let violations = 0;
  let i = 0;
  for await (const line of lines) {
    if (!line.trim()) continue;
    i++;
    let x;
    try {
      x = JSON.parse(line);
    } catch (e) {
      console.log(`VIOLATION #${i}: unreadable record: ${e.message}`);
      violations++;
      continue;
    }
    let problems;
    try {
      problems = checker.check(x);
    } catch (e) {
      problems = [`the checker failed: ${e.message}`];
    }
    for (const p of problems) {
      console.log(`VIOLATION #${i} ${x.test || "?"}: ${String(x.method).toUpperCase()} ${x.target} -> ${x.status}: ${p}`);
      violations++;
    }
  }
  console.log(`checked ${i} exchanges, ${violations} violations`);
  process.exit(violations ? 1 : 0);
}

main().catch((e) => {
  console.log(`the checker failed: ${e && e.stack ? e.stack : e}`);
  process.exit(2);
});
