// Covers the dashboard pages as HTTP responses (src/http/dashboard/*.ts), without a browser: hostile
// names from the store are rendered inert on every page that shows them (and the workload page of
// such a name still opens), the page headers (CSP allowing only the page's own inline script, no
// framing, no caching), nothing loaded from outside the server, no secret of the configuration on
// any page, the empty-store page (and that visiting it creates no database), failed scans without a
// succeeded one, and query mistakes answered as HTML errors naming the parameter.
// Real components: the koa app on 127.0.0.1, SQLite on temporary files written through ScanStore and
// FixStore (fixture.ts), and for one test real scans of the bundled demo manifests (runScan), so the
// pages are checked against what the scanner itself stores. No cluster: the pages read only the store.
import { createHash } from "node:crypto";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import test from "ava";
import { escapeHtml, href, html, trusted } from "../../../src/http/dashboard/html.js";
import { runScan } from "../../../src/scans/scan.js";
import { openDatabase } from "../../../src/store/db.js";
import { ScanStore } from "../../../src/store/scan-store.js";
import { CLUSTER, HOSTILE_MESSAGE, HOSTILE_NAME, serve, tempDir, writeHistory, type Served } from "./fixture.js";

const dir = tempDir("kube-policy-dashboard-pages-");
const NOW = Date.now();
const servers: Served[] = [];
test.after.always(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
async function served(options: { history?: boolean; config?: Record<string, unknown>; tokens?: Map<string, string> } = {}): Promise<Served & { file: string }> {
  const file = path.join(dir, `store-${counter++}.db`);
  if (options.history !== false) writeHistory(file, NOW);
  let config: string | undefined;
  if (options.config) {
    config = path.join(dir, `config-${counter}.json`);
    writeFileSync(config, JSON.stringify(options.config));
  }
  const s = await serve(file, { tokens: options.tokens, config });
  servers.push(s);
  return { ...s, file };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

const HOSTILE_LINK = `/workloads/shop/Deployment/${encodeURIComponent(HOSTILE_NAME)}`;

// ---- the template ----

test("html`` escapes every interpolated value unless it is already safe markup", (t) => {
  const name = `<b onclick="x('y')">&</b>`;
  t.is(html`<td title="${name}">${name}</td>`.value, "<td title=\"&lt;b onclick=&quot;x(&#39;y&#39;)&quot;&gt;&amp;&lt;/b&gt;\">&lt;b onclick=&quot;x(&#39;y&#39;)&quot;&gt;&amp;&lt;/b&gt;</td>");
  t.is(html`<ul>${["<a>", html`<li>${"<b>"}</li>`, 3, null, undefined, false]}</ul>`.value, "<ul>&lt;a&gt;<li>&lt;b&gt;</li>3</ul>");
  t.is(html`${trusted("<svg></svg>")}`.value, "<svg></svg>");
  t.is(escapeHtml("'\""), "&#39;&quot;");
});

test("href() percent-encodes path segments so a name cannot change where a link goes", (t) => {
  t.is(href(["workloads", "shop", "Deployment", "a/b?c#d"]), "/workloads/shop/Deployment/a%2Fb%3Fc%23d");
  t.is(href(["violations"], { severity: "high", rule: "", namespace: null, page: 2 }), "/violations?severity=high&page=2");
  t.is(href([], { namespace: "shop" }), "/?namespace=shop");
});

// ---- hostile content from the store ----

test("a workload named <script>alert(1)</script> is rendered as text on every page that lists it", async (t) => {
  const s = await served();
  for (const page of ["/", "/violations", "/violations?severity=low", HOSTILE_LINK]) {
    const { status, body } = await get(`${s.url}${page}`);
    t.is(status, 200, page);
    t.false(body.includes(HOSTILE_NAME), `${page}: the raw name`);
    t.false(body.includes("<img src=x"), `${page}: the raw message markup`);
    t.true(body.includes("&lt;script&gt;alert(1)&lt;/script&gt;"), `${page}: the name as text`);
    t.is(body.match(/<script/g)?.length, 1, `${page}: only the page's own script element`);
  }
  const overview = (await get(`${s.url}/`)).body;
  t.true(overview.includes(`href="${HOSTILE_LINK}"`), "the link to its page encodes the name");
  const workload = (await get(`${s.url}${HOSTILE_LINK}`)).body;
  t.true(workload.includes(escapeHtml(HOSTILE_MESSAGE)), "its finding's message, escaped");
  t.true(workload.includes('data-workload="Deployment/shop/&lt;script&gt;alert(1)&lt;/script&gt;"'));
});

// ---- headers, resources, secrets ----

test("pages carry a CSP that allows only their own inline script, and load nothing from outside", async (t) => {
  const s = await served();
  for (const page of ["/", "/violations", "/fixes", "/scans", "/workloads/shop/Deployment/api"]) {
    const { status, body, headers } = await get(`${s.url}${page}`);
    t.is(status, 200, page);
    t.is(headers.get("content-type"), "text/html; charset=utf-8");
    const csp = headers.get("content-security-policy") ?? "";
    t.regex(csp, /default-src 'none'/);
    const script = /<script>([\s\S]*?)<\/script>/.exec(body)?.[1] ?? "";
    t.true(csp.includes(`'sha256-${createHash("sha256").update(script).digest("base64")}'`), `${page}: the CSP hash is the inline script's`);
    t.is(headers.get("x-frame-options"), "DENY");
    t.is(headers.get("referrer-policy"), "no-referrer");
    t.is(headers.get("cache-control"), "no-store");
    t.notRegex(body, /(src|href|action)="(https?:)?\/\//i, `${page}: a resource or link outside the server`);
    t.notRegex(body, /<link\b|<iframe\b|@import|url\(/i, page);
  }
});

test("no secret from the configuration or the environment reaches a page", async (t) => {
  const webhook = "https://hooks.slack.com/services/T000/B000/SECRETPART";
  const s = await served({
    tokens: new Map([["ops", "page-token-123456"]]),
    config: {
      notifications: {
        slack: { webhookUrl: webhook, channel: "#k8s" },
        email: { recipients: ["ops@acme.example"], smtp: { host: "smtp.internal.example", port: 587, userEnv: "SMTP_USER_VAR", passwordEnv: "SMTP_PASSWORD_VAR" } },
      },
    },
  });
  const auth = { authorization: "Bearer page-token-123456" };
  for (const page of ["/", "/violations", "/fixes", "/scans", "/workloads/shop/Deployment/api", "/?namespace=nowhere", "/violations?severity=bad"]) {
    const { body } = await get(`${s.url}${page}`, auth);
    for (const secret of ["SECRETPART", "hooks.slack.com", "page-token-123456", "smtp.internal.example", "SMTP_PASSWORD_VAR"]) {
      t.false(body.includes(secret), `${page} shows ${secret}`);
    }
  }
  // A page the bearer token opened is a page: the check above looked at real content.
  t.regex((await get(`${s.url}/`, auth)).body, /data-metric="score">80%</);
});

test("the pages show what real scans of the demo manifests stored", async (t) => {
  const s = await served({ history: false });
  await runScan(s.runtime, {});
  const latest = await runScan(s.runtime, {});
  const overview = (await get(`${s.url}/`)).body;
  t.true(overview.includes(`data-metric="score">${latest.compliancePercent}%<`), `score ${latest.compliancePercent}%`);
  t.true(overview.includes(`data-metric="open">${latest.findings.open}<`), `open ${latest.findings.open}`);
  t.true(overview.includes(`data-metric="workloads-failed">${latest.workloads.failed}<`));
  t.is(/<figure>[\s\S]*?<\/figure>/.exec(overview)?.[0].match(/<circle /g)?.length, 2, "one chart point per scan");
  t.true(overview.includes('href="/?namespace=production"'), "the demo's namespaces are listed");
  const violations = (await get(`${s.url}/violations`)).body;
  t.true(violations.includes(`data-metric="matching">${latest.findings.open}<`));
  const production = (await get(`${s.url}/violations?namespace=production&severity=critical`)).body;
  const rows = production.match(/<tr><td><span class="sev sev-critical">/g)?.length ?? 0;
  t.true(rows > 0 && rows < latest.findings.open, `${rows} critical finding(s) in production`);
});

// ---- empty and failing stores ----

test("with no history database the overview says so, shows how to run a scan, and creates no database", async (t) => {
  const s = await served({ history: false });
  for (const page of ["/", "/violations", `/workloads/shop/Deployment/api`]) {
    const { status, body } = await get(`${s.url}${page}`);
    t.is(status, 200, page);
    t.true(body.includes("No compliance scan stored yet"), page);
    t.true(body.includes("kube-policy scan"), page);
    t.true(body.includes("run_compliance_scan"), page);
  }
  for (const page of ["/fixes", "/scans"]) t.is((await get(`${s.url}${page}`)).status, 200, page);
  t.regex((await get(`${s.url}/scans`)).body, /No scan stored yet/);
  t.false(existsSync(s.file), "the dashboard must not create the store");
});

test("a store with only failed scans shows the empty state with the failures and their reasons", async (t) => {
  const file = path.join(dir, "failed-only.db");
  const db = openDatabase(file);
  const store = new ScanStore(db);
  const scan = store.begin({ name: "nightly", trigger: "schedule", cluster: CLUSTER, scope: "*", ruleSetHash: "x" });
  store.fail(scan.id, "forbidden: no workload kind could be listed", "forbidden");
  db.close();
  const s = await serve(file);
  servers.push(s);
  const { status, body } = await get(`${s.url}/`);
  t.is(status, 200);
  t.true(body.includes("No compliance scan stored yet"));
  t.true(body.includes("forbidden: no workload kind could be listed"));
  t.regex(body, /<tr class="failed">/);
});

test("with only namespace scans stored, the overview shows the newest scan's namespace and says why", async (t) => {
  const file = path.join(dir, "namespace-only.db");
  const db = openDatabase(file);
  const store = new ScanStore(db);
  for (const [namespace, at, percent] of [["billing", NOW - 7_200_000, 64], ["shop", NOW - 3_600_000, 88]] as const) {
    const scan = store.begin({ name: `only-${namespace}`, trigger: "manual", cluster: CLUSTER, scope: namespace, ruleSetHash: "x", startedAt: at });
    store.complete(scan.id, {
      finishedAt: at + 1000,
      workloads: { total: 1, evaluated: 1, passed: 0, failed: 1, skipped: 0 },
      compliancePercent: percent,
      warnings: [],
      findings: [{ ruleId: "cpu-limits", severity: "medium", category: "performance", outcome: "violation", apiVersion: "apps/v1", kind: "Deployment", namespace, name: "app", pointer: "/x", message: "m" }],
      namespaces: [{ namespace, workloads: 1, failed: 1 }],
      scores: [
        { namespace: "", dimension: "overall", key: "", percent, passed: 1, failed: 1 },
        { namespace, dimension: "overall", key: "", percent, passed: 1, failed: 1 },
      ],
      classify: () => "fixed",
    });
  }
  db.close();
  const s = await serve(file);
  servers.push(s);
  const overview = (await get(`${s.url}/`)).body;
  t.regex(overview, /No whole-cluster scan is stored/);
  t.regex(overview, /data-metric="score">88%</, "shop: the newest scan");
  t.false(overview.includes(">whole cluster</option>"), "no whole-cluster choice without whole-cluster scans");
  t.regex((await get(`${s.url}/?namespace=billing`)).body, /data-metric="score">64%</);
  t.regex((await get(`${s.url}/violations`)).body, /data-metric="matching">1</, "the violations of the namespace shown");
});

// ---- query mistakes ----

test("query mistakes are HTML error pages naming the parameter; unknown namespaces are 404s", async (t) => {
  const s = await served();
  const severity = await get(`${s.url}/violations?severity=urgent`);
  t.is(severity.status, 400);
  t.is(severity.headers.get("content-type"), "text/html; charset=utf-8");
  t.true(severity.body.includes("query.severity"));
  t.true(severity.body.includes("critical, high, medium, low"));
  const namespace = await get(`${s.url}/?namespace=${encodeURIComponent("<Bad>")}`);
  t.is(namespace.status, 400);
  t.true(namespace.body.includes("&lt;Bad&gt;") && !namespace.body.includes("<Bad>"), "the bad value is echoed escaped");
  const days = await get(`${s.url}/?days=0`);
  t.is(days.status, 400);
  t.true(days.body.includes("query.days"));
  const nowhere = await get(`${s.url}/?namespace=nowhere`);
  t.is(nowhere.status, 404);
  t.true(nowhere.body.includes("no stored scan of demo-cluster covers namespace"));
  const twice = await get(`${s.url}/violations?rule=a&rule=b`);
  t.is(twice.status, 400);
});

test("namespaces the configuration denies are refused (403) and left out of the lists", async (t) => {
  const s = await served({ config: { namespaces: { deny: ["payments"] } } });
  t.is((await get(`${s.url}/?namespace=payments`)).status, 403);
  t.is((await get(`${s.url}/workloads/payments/StatefulSet/ledger`)).status, 403);
  const violations = (await get(`${s.url}/violations`)).body;
  t.false(violations.includes("payments/"), "no finding of a denied namespace");
  t.regex(violations, /data-metric="matching">6</, "the 6 findings of shop");
  t.false((await get(`${s.url}/fixes`)).body.includes("payments/ledger"), "no fix of a denied namespace");
});
