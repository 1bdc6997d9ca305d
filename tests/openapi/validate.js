#!/usr/bin/env node
// Validates an OpenAPI document with @apidevtools/swagger-parser (schema and semantic checks:
// the OpenAPI 3.0 JSON schema, unique operationIds, path parameters, resolvable $refs).
//   node tests/openapi/validate.js FILE     or     node tests/openapi/validate.js < FILE
// Prints "valid" and exits 0, or prints the error and exits 1.
"use strict";
const fs = require("fs");
const SwaggerParser = require("@apidevtools/swagger-parser");

async function main() {
  const file = process.argv[2];
  const text = file && file !== "-" ? fs.readFileSync(file, "utf8") : fs.readFileSync(0, "utf8");
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error("not JSON: " + e.message);
  }
  await SwaggerParser.validate(doc);
  console.log("valid");
}

main().catch((e) => {
  console.log("invalid: " + (e && e.message ? e.message : String(e)));
  process.exit(1);
});
