// Auto-Fix Efficiency through every door that shows the dashboard metrics, on one history: the compliance
// report (text, JSON, HTML from GET /reports/compliance; generate_compliance_report over MCP, whose output
// schema the SDK checks), get_compliance_trends over MCP, the dashboard overview page and GET /metrics all
// show the same numbers (test/scans/autofix-fixture.ts tells where each comes from); a namespace; and "no
// data" everywhere when there is no history.
// Real components: the koa app on 127.0.0.1, the MCP SDK client and server over its in-memory transport,
// the compiled policy bundle, the bundled demo manifests as the cluster, SQLite on temporary files written
// through ScanStore and FixStore.
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import test from "ava";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { createMcpServer } from "../../src/mcp/server.js";
import type { Runtime } from "../../src/runtime.js";
import { openDatabase } from "../../src/store/db.js";
import { EXPECTED, writeAutoFixHistory } from "../scans/autofix-fixture.js";
import { serve, tempDir, type Served } from "./dashboard/fixture.js";

const dir = tempDir("kube-policy-autofix-doors-");
const NOW = Date.now();
const servers: Served[] = [];
test.after.always(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

const config = path.join(dir, "config.json");
writeFileSync(config, JSON.stringify({ global: { autoFix: true } }));

let counter = 0;
async function served(history: "full" | "empty-db" | "none"): Promise<Served> {
  const file = path.join(dir, `store-${counter++}.db`);
  if (history === "full") writeAutoFixHistory(file, NOW);
  if (history === "empty-db") openDatabase(file).close();
  const s = await serve(file, { config });
  servers.push(s);
  return s;
}

async function get(url: string): Promise<string> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.text();
}

async function mcp(runtime: Runtime, name: string, args: Record<string, unknown> = {}): Promise<{ structured: Record<string, unknown>; text: string }> {
  const server = createMcpServer(runtime);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "autofix-test", version: "1.0.0" });
  await client.connect(clientSide);
  try {
    const result = await client.callTool({ name, arguments: args });
    const text = (result.content as { type: string; text: string }[]).map((c) => c.text).join("");
    if (result.isError) throw new Error(text);
    return { structured: result.structuredContent as Record<string, unknown>, text };
  } finally {
    await client.close();
    await server.close();
  }
}

const metricValue = (text: string, name: string, labels: Record<string, string>) => {
  const family = parsePrometheusTextFormat(text).find((f) => f.name === name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return sample === undefined ? undefined : Number(sample.value);
};

const TEXT_LINES = [
  "Auto-Fix Efficiency (last 30 days): 16.7% auto-remediated",
  "- Violations open in the period: 12: 2 auto-remediated, 5 resolved otherwise (4 fixed outside kube-policy, 1 exempted), 5 still open",
  "- Fixes applied by kube-policy: 9 (3 rolled back, not counted)",
  "- Headroom: 2 of 5 open violation(s) auto-fixable now (40%); 2 need an approval, 1 have no automatic fix",
].join("\n");

const EXPECTED_JSON = {
  violations: EXPECTED.violations,
  autoRemediated: EXPECTED.autoRemediated,
  resolvedOtherwise: EXPECTED.resolvedOtherwise,
  resolvedOtherwiseBy: EXPECTED.resolvedOtherwiseBy,
  stillOpen: EXPECTED.stillOpen,
  percent: EXPECTED.percent,
  ratio: EXPECTED.ratio,
  fixes: EXPECTED.fixes,
  headroom: EXPECTED.headroom,
};

test("the report (text, JSON, HTML, MCP), the trends tool, the dashboard and /metrics show the same numbers", async (t) => {
  const s = await served("full");

  const text = await get(`${s.url}/reports/compliance?format=text`);
  t.true(text.includes(TEXT_LINES), text);

  const json = JSON.parse(await get(`${s.url}/reports/compliance?format=json`)) as { autoFixEfficiency: unknown };
  t.like(json.autoFixEfficiency, EXPECTED_JSON);

  const report = await mcp(s.runtime, "generate_compliance_report");
  t.like(report.structured.autoFixEfficiency, EXPECTED_JSON);
  t.true(report.text.includes(TEXT_LINES));

  const trends = await mcp(s.runtime, "get_compliance_trends", { days: 30 });
  t.like(trends.structured.autoFixEfficiency, EXPECTED_JSON);
  t.true(trends.text.includes(TEXT_LINES));

  const html = await get(`${s.url}/reports/compliance?format=html`);
  t.regex(html, /data-metric="autofix-percent">16\.7%</);
  t.regex(html, /<strong>12<\/strong> violation\(s\) open at some point in the last 30 days: <strong>2<\/strong> auto-remediated/);

  const page = await get(`${s.url}/`);
  const shown = (attr: string) => page.match(new RegExp(`data-${attr}">([^<]*)<`))?.[1];
  t.is(shown("metric=\"autofix-percent"), "16.7%");
  t.is(shown("metric=\"autofix-auto"), "2");
  t.is(shown("metric=\"autofix-violations"), "12");
  t.is(shown("autofix=\"auto"), "2");
  t.is(shown("autofix=\"otherwise"), "5");
  t.is(shown("autofix=\"open"), "5");
  t.is(shown("autofix=\"violations"), "12");
  t.is(shown("autofix=\"fixes-applied"), "9");
  t.is(shown("autofix=\"fixes-rolled-back"), "3");
  t.is(shown("autofix=\"headroom-auto"), "2");
  t.is(shown("autofix=\"headroom-open"), "5");

  const metrics = await get(`${s.url}/metrics`);
  const series = { cluster: "demo-cluster", scope: "*" };
  t.is(metricValue(metrics, "kube_policy_autofix_efficiency_ratio", series), EXPECTED.ratio);
  t.is(metricValue(metrics, "kube_policy_autofix_violations", { ...series, state: "auto_remediated" }), 2);
  t.is(metricValue(metrics, "kube_policy_autofix_violations", { ...series, state: "resolved_otherwise" }), 5);
  t.is(metricValue(metrics, "kube_policy_autofix_violations", { ...series, state: "still_open" }), 5);
  t.is(metricValue(metrics, "kube_policy_autofix_headroom_violations", { ...series, fix: "auto" }), 2);
  t.is(metricValue(metrics, "kube_policy_autofix_headroom_violations", { ...series, fix: "approval" }), 2);
  t.is(metricValue(metrics, "kube_policy_autofix_headroom_violations", { ...series, fix: "manual" }), 1);
  t.is(metricValue(metrics, "kube_policy_autofix_fixes", { ...series, state: "applied" }), 9);
  t.is(metricValue(metrics, "kube_policy_autofix_fixes", { ...series, state: "rolled_back" }), 3);
});

test("a namespace: the report and the dashboard agree on its numbers, 0% being a real value", async (t) => {
  const s = await served("full");
  const json = JSON.parse(await get(`${s.url}/reports/compliance?format=json&namespace=payments`)) as { autoFixEfficiency: unknown };
  t.like(json.autoFixEfficiency, { scope: { namespace: "payments" }, violations: 5, autoRemediated: 0, resolvedOtherwise: 3, stillOpen: 2, percent: 0 });
  t.regex(await get(`${s.url}/reports/compliance?format=text&namespace=payments`), /Auto-Fix Efficiency \(last 30 days\): 0% auto-remediated\n- Violations open in the period: 5: 0 auto-remediated, 3 resolved otherwise \(2 fixed outside kube-policy, 1 exempted\), 2 still open/);
  const page = await get(`${s.url}/?namespace=payments`);
  t.regex(page, /data-metric="autofix-percent">0%</);
  t.regex(page, /data-autofix="violations">5</);
  const trends = await mcp(s.runtime, "get_compliance_trends", { namespace: "payments", days: 2 });
  t.like(trends.structured.autoFixEfficiency, { window: { days: 2 }, violations: 4, resolvedOtherwise: 2, stillOpen: 2, percent: 0 });
});

test("no history: \"no data\" in the report, the tools, the HTML report and /metrics, never 0%", async (t) => {
  for (const history of ["none", "empty-db"] as const) {
    const s = await served(history);
    const text = await get(`${s.url}/reports/compliance?format=text`);
    t.true(text.includes("Auto-Fix Efficiency (last 30 days): no data (no stored scan of this scope in the period)"), history);
    t.false(/Auto-Fix Efficiency[^\n]*0%/.test(text), history);
    const json = JSON.parse(await get(`${s.url}/reports/compliance?format=json`)) as Record<string, unknown>;
    t.true("autoFixEfficiency" in json && json.autoFixEfficiency === null, history);
    t.regex(await get(`${s.url}/reports/compliance?format=html`), /data-metric="autofix-percent">no data</, history);
    const trends = await mcp(s.runtime, "get_compliance_trends");
    t.is(trends.structured.autoFixEfficiency, null, history);
    const report = await mcp(s.runtime, "generate_compliance_report");
    t.is(report.structured.autoFixEfficiency, null, history);
    const metrics = await get(`${s.url}/metrics`);
    t.true(metrics.includes("# TYPE kube_policy_autofix_efficiency_ratio gauge"), history);
    t.false(/^kube_policy_autofix_efficiency_ratio[{ ]/m.test(metrics), `${history}: no sample without data`);
    t.is((await fetch(`${s.url}/`)).status, 200, `${history}: the dashboard answers`);
  }
});
