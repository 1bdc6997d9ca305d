#!/usr/bin/env node
// Loads pages of a running aijri in Debian's chromium (headless, driven by playwright-core with
// the system browser) and reports what a reader gets, as JSON on stdout; the Python test
// (tests/browser/test_pages.py) judges it. Nothing here decides a verdict.
//
//   node tests/browser/check.js < spec.json
//   spec: {"base": "http://127.0.0.1:PORT", "shots": "DIR" | null,
//          "pages": [{"name": "role", "path": "/roles/x", "widths": [360, 1440],
//                     "clip": HEIGHT (optional: shoot the top HEIGHT pixels, not the whole page),
//                     "steps": [...] (optional: what a reader does on it first, in order:
//                       {"fill": {"field name": "value", ...}} types into the named inputs,
//                       {"click": "CSS selector"} clicks a link or button and waits for the
//                       page it loads)}]}
//
// What is reported is about the last page loaded (its status and final URL, "url").
// For each page and width: the HTTP status, the title, the headings (h1 to h3, in order), the
// text as rendered (innerText), the page's width against the window's (horizontal overflow),
// scripts, inline handlers and javascript: URLs in the DOM, dialogs opened, console messages
// (a CSP violation is one), requests that failed or left the server, axe-core's violations,
// and a full-page screenshot when shots is given.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");
const axeSource = require("axe-core").source;

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// headless: true adds --headless; the rest are Debian's chromium without a sandbox (the tests
// may run as root), a GPU or any call home.
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];

async function inspect(page) {
  return page.evaluate(() => {
    const all = Array.from(document.querySelectorAll("*"));
    const handlers = all.filter((el) => Array.from(el.attributes).some((a) => /^on/i.test(a.name)));
    const urls = all.flatMap((el) => ["href", "src", "action", "formaction", "xlink:href"]
      .map((n) => el.getAttribute(n)).filter((v) => v !== null));
    return {
      title: document.title,
      headings: Array.from(document.querySelectorAll("h1, h2, h3"))
        .map((h) => ({ level: Number(h.tagName[1]), text: h.innerText.trim() })),
      text: document.body.innerText,
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      scripts: document.querySelectorAll("script").length,
      handlers: handlers.map((el) => el.outerHTML.slice(0, 200)),
      jsUrls: urls.filter((u) => /^\s*(javascript|data|vbscript):/i.test(u)),
      links: Array.from(document.querySelectorAll("a[href]")).map((a) => a.getAttribute("href")),
      images: Array.from(document.querySelectorAll("img")).map((i) => ({
        src: i.getAttribute("src"), alt: i.getAttribute("alt"), loaded: i.complete && i.naturalWidth > 0,
      })),
      // Every inline figure as XML, for the test to parse.
      svgs: Array.from(document.querySelectorAll("svg")).map((e) => new XMLSerializer().serializeToString(e)),
      historyPoints: document.querySelectorAll("svg[aria-labelledby=history-title] circle").length,
      historyRows: Array.from(document.querySelectorAll("section table tbody tr th a"))
        .map((a) => a.getAttribute("href")).filter((h) => /\/revisions\/\d+$/.test(h)),
    };
  });
}

async function axe(page) {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern: the page
  // itself still runs no script of its own.
  await page.evaluate(axeSource);
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.html.slice(0, 200)),
  }));
}

async function main() {
  const spec = JSON.parse(fs.readFileSync(0, "utf8"));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aijri-chromium-"));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args: FLAGS,
  });
  const out = [];
  try {
    for (const p of spec.pages) {
      for (const width of p.widths) {
        const page = await ctx.newPage();
        const r = { name: p.name, path: p.path, width, console: [], dialogs: [], failed: [], foreign: [] };
        page.on("console", (m) => r.console.push(`${m.type()}: ${m.text()}`));
        page.on("dialog", async (d) => { r.dialogs.push(d.message()); await d.dismiss(); });
        page.on("requestfailed", (q) => r.failed.push(q.url()));
        page.on("request", (q) => { if (!q.url().startsWith(spec.base)) r.foreign.push(q.url()); });
        await page.setViewportSize({ width, height: 900 });
        let resp = await page.goto(spec.base + p.path, { waitUntil: "load" });
        for (const step of p.steps || []) {
          for (const [name, value] of Object.entries(step.fill || {})) {
            await page.fill(`[name=${JSON.stringify(name)}]`, value);
          }
          if (step.click) {
            const [next] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }),
              page.click(step.click)]);
            resp = next || resp;
          }
        }
        r.status = resp.status();
        r.url = page.url();
        r.contentType = resp.headers()["content-type"];
        Object.assign(r, await inspect(page));
        r.axe = await axe(page);
        if (spec.shots) {
          r.shot = path.join(spec.shots, `${p.name}-${width}.png`);
          const clip = p.clip ? { x: 0, y: 0, width, height: p.clip } : undefined;
          await page.screenshot({ path: r.shot, fullPage: true, clip });
        }
        out.push(r);
        await page.close();
      }
    }
  } finally {
    await ctx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(1);
});
