// Covers GET /reports/compliance (src/http/reports.ts through src/http/server.ts) over a real socket on
// 127.0.0.1: each format with its content type, the namespace filter, JSON by default, and 400s that
// name the query parameter (unknown format, repeated or unknown parameter, bad namespace), 403 for a
// namespace the configuration denies; the server keeps serving after bad requests.
// Real components: the koa app, the compiled policy bundle, the bundled demo manifests as the cluster,
// SQLite on a temporary file for the history (one stored scan gives the report its trend).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { XMLValidator } from "fast-xml-parser";
import { startHttpServer, type RunningServer } from "../../src/http/server.js";
import { MemorySource } from "../../src/kube/memory-source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import { runScan } from "../../src/scans/scan.js";

const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-report-http-"));
let server: RunningServer;
let runtime: Runtime;

test.before(async () => {
  runtime = new Runtime({ namespaces: { deny: ["kube-system"] } }, await PolicyBundle.load(), await MemorySource.demo(), { databasePath: path.join(dir, "h.db") });
  await runScan(runtime, {});
  server = await startHttpServer(runtime, { port: 0 });
});

test.after.always(async () => {
  await server?.close();
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = async (query: string) => {
  const res = await fetch(`${server.url}/reports/compliance${query}`);
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
};

test("each format comes with its content type", async (t) => {
  const expected: [string, RegExp][] = [
    ["text", /^text\/plain/],
    ["json", /^application\/json/],
    ["sarif", /^application\/sarif\+json/],
    ["junit", /^application\/xml/],
    ["html", /^text\/html/],
  ];
  for (const [format, type] of expected) {
    const res = await get(`?format=${format}`);
    t.is(res.status, 200, format);
    t.regex(res.type, type, format);
  }
  t.regex((await get("?format=text")).text, /Trend Analysis/);
  t.is(XMLValidator.validate((await get("?format=junit")).text), true);
  t.is((JSON.parse((await get("?format=sarif")).text) as { version: string }).version, "2.1.0");
});

test("JSON by default, and the namespace filter applies", async (t) => {
  const all = await get("");
  t.regex(all.type, /^application\/json/);
  const report = JSON.parse(all.text) as { scope: { namespace: string | null }; workloads: { evaluated: number }; trend: unknown };
  t.is(report.scope.namespace, null);
  t.is(report.workloads.evaluated, 4);
  t.truthy(report.trend);
  const staging = JSON.parse((await get("?namespace=staging")).text) as typeof report;
  t.is(staging.scope.namespace, "staging");
  t.is(staging.workloads.evaluated, 1);
});

test("bad queries are 400s naming the parameter; a denied namespace is 403; the server keeps serving", async (t) => {
  const cases: [string, number, string][] = [
    ["?format=pdf", 400, "query.format"],
    ["?format=json&format=html", 400, "query.format"],
    ["?namespace=Bad_Name", 400, "query.namespace"],
    ["?junitBy=team", 400, "query.junitBy"],
    ["?fromat=json", 400, "query.fromat"],
  ];
  for (const [query, status, where] of cases) {
    const res = await get(query);
    t.is(res.status, status, query);
    const body = JSON.parse(res.text) as { error: { code: string; details: { where: string }[] } };
    t.is(body.error.code, "invalid_input", query);
    t.is(body.error.details[0]!.where, where, query);
  }
  const denied = await get("?namespace=kube-system");
  t.is(denied.status, 403);
  t.is((await get("?format=text")).status, 200);
});
