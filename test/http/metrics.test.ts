// Covers GET /metrics (src/http/metrics.ts) and the store queries it reads: the Prometheus text format
// (checked twice: parsed by the independent parse-prometheus-text-format package, and by a strict
// line-by-line check of the 0.0.4 grammar written here, which is itself shown to reject bad input),
// the scores per scope, namespace, category and framework, open findings by severity, scan failures,
// durations and last-success times, the admission counters, process basics, label escaping, an empty
// store (no database is created), and bearer-token protection.
// Real components: SQLite on temporary files written through ScanStore / FixStore (test/http/dashboard/
// fixture.ts), the koa app on 127.0.0.1, an AdmissionController answering real AdmissionReviews. No
// cluster: the store is what /metrics reads.
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import test from "ava";
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";
import { ADMISSION_DURATION_BUCKETS, ADMISSION_PATH, AdmissionController, AdmissionMetrics, startAdmissionServer, type DecisionLogger } from "../../src/http/admission.js";
import { generateDevCertificates } from "../../src/http/certificates.js";
import { renderMetrics } from "../../src/http/metrics.js";
import { openDatabase } from "../../src/store/db.js";
import { ScanStore } from "../../src/store/scan-store.js";
import { admissionReview, httpsRequest, violatingDeployment } from "../admission/helpers.js";
import { CLUSTER, DAY, EXPECTED, serve, tempDir, writeHistory, type Served } from "./dashboard/fixture.js";

const dir = tempDir("kube-policy-metrics-");
const NOW = Date.now();
const servers: Served[] = [];
test.after.always(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
async function served(options: { history?: boolean; tokens?: Map<string, string> } = {}): Promise<Served & { file: string }> {
  const file = path.join(dir, `store-${counter++}.db`);
  if (options.history !== false) writeHistory(file, NOW);
  const s = await serve(file, { tokens: options.tokens });
  servers.push(s);
  return { ...s, file };
}

// ---- a strict reading of the text format 0.0.4 ----

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"$/;
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|NaN|[+-]Inf)$/;

function splitLabels(body: string): string[] | null {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (quoted && c === "\\") {
      current += c + (body[i + 1] ?? "");
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === "," && !quoted) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  if (quoted) return null;
  if (current) parts.push(current);
  return parts;
}

/** Every way the text breaks the format, as "line N: why"; [] when it is valid. */
function formatProblems(text: string): string[] {
  const problems: string[] = [];
  if (!text.endsWith("\n")) problems.push("the exposition must end with a line feed");
  const lines = text.split("\n").slice(0, -1);
  const typed = new Map<string, string>();
  const helped = new Set<string>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | null = null;
  lines.forEach((line, i) => {
    const at = `line ${i + 1}`;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind = "", name = "", rest = ""] = meta;
      if (!METRIC_NAME.test(name)) problems.push(`${at}: bad metric name ${name}`);
      if (name !== current) {
        if (current) closed.add(current);
        if (closed.has(name)) problems.push(`${at}: family ${name} appears twice`);
        current = name;
      }
      if (kind === "HELP") {
        if (helped.has(name)) problems.push(`${at}: second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) problems.push(`${at}: bad escape in HELP`);
        helped.add(name);
      } else {
        if (typed.has(name)) problems.push(`${at}: second TYPE for ${name}`);
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest)) problems.push(`${at}: unknown type ${rest}`);
        typed.set(name, rest);
      }
      return;
    }
    if (line.startsWith("#")) return; // a plain comment
    const sample = /^([^{\s]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) {
      problems.push(`${at}: not a sample line: ${line}`);
      return;
    }
    const [, name = "", labelBody, value = ""] = sample;
    if (!METRIC_NAME.test(name)) problems.push(`${at}: bad metric name ${name}`);
    // A histogram's samples are <name>_bucket (with an le label), <name>_sum and <name>_count.
    const histogramPart = current !== null && typed.get(current) === "histogram" ? /^(?:_bucket|_sum|_count)$/.exec(name.slice(current.length))?.[0] : undefined;
    const familyName = histogramPart && name.startsWith(current!) ? current! : name;
    if (familyName !== current) problems.push(`${at}: sample of ${name} outside its family (${current ?? "none"})`);
    if (!typed.has(familyName)) problems.push(`${at}: sample of ${name} before its TYPE`);
    if (typed.get(familyName) === "histogram" && !histogramPart) problems.push(`${at}: histogram sample ${name} is not _bucket, _sum or _count`);
    if (typed.get(name) === "counter" && !name.endsWith("_total")) problems.push(`${at}: counter ${name} does not end in _total`);
    if (!VALUE.test(value)) problems.push(`${at}: bad value ${value}`);
    const labels = labelBody === undefined ? [] : splitLabels(labelBody);
    if (labels === null) {
      problems.push(`${at}: unterminated label value`);
      return;
    }
    if (histogramPart === "_bucket" && !labels.some((l) => l.startsWith("le="))) problems.push(`${at}: bucket without an le label`);
    const names = new Set<string>();
    for (const label of labels) {
      const m = LABEL.exec(label);
      if (!m) problems.push(`${at}: bad label ${label}`);
      else if (names.has(m[1]!)) problems.push(`${at}: label ${m[1]} twice`);
      else names.add(m[1]!);
    }
    const key = `${name}{${[...labels].sort().join(",")}}`;
    if (series.has(key)) problems.push(`${at}: duplicate series ${key}`);
    series.add(key);
  });
  return problems;
}

function family(families: ParsedFamily[], name: string): ParsedFamily {
  const f = families.find((x) => x.name === name);
  if (!f) throw new Error(`no family ${name}`);
  return f;
}

/** The value of the one sample of a family whose labels include `labels`. */
function value(families: ParsedFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const matches = family(families, name).metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (matches.length > 1) throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matches[0] === undefined ? undefined : Number(matches[0].value);
}

test("the strict format check rejects what Prometheus would refuse", (t) => {
  t.deepEqual(formatProblems("# HELP a_b x\n# TYPE a_b gauge\na_b 1\n"), []);
  t.deepEqual(formatProblems('# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n'), ['line 3: duplicate series a{x="1"}']);
  t.deepEqual(formatProblems("a 1\n"), ["line 1: sample of a outside its family (none)", "line 1: sample of a before its TYPE"]);
  t.deepEqual(formatProblems('# TYPE a gauge\na{x="\\q"} 1\n'), ['line 2: bad label x="\\q"']);
  t.deepEqual(formatProblems("# TYPE a counter\na 1\n"), ["line 2: counter a does not end in _total"]);
  t.deepEqual(formatProblems("# TYPE a gauge\na one\n"), ["line 2: bad value one"]);
  t.deepEqual(formatProblems("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n"), ["line 5: family a appears twice", "line 5: second TYPE for a"]);
  t.deepEqual(formatProblems("# TYPE a gauge\na 1"), ["the exposition must end with a line feed"]);
  t.deepEqual(formatProblems('# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 0.5\nh_count 1\n'), []);
  t.deepEqual(formatProblems("# TYPE h histogram\nh_bucket 1\nh 1\nh_total 1\n"), [
    "line 2: bucket without an le label",
    "line 3: histogram sample h is not _bucket, _sum or _count",
    "line 4: sample of h_total outside its family (h)",
    "line 4: sample of h_total before its TYPE",
  ]);
});

test("GET /metrics is valid text format 0.0.4 with the scan history's scores, findings and failures", async (t) => {
  const s = await served();
  const res = await fetch(`${s.url}/metrics`);
  t.is(res.status, 200);
  t.is(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  t.deepEqual(formatProblems(text), []);
  const families = parsePrometheusTextFormat(text);
  const whole = { cluster: CLUSTER, scope: "*" };

  t.is(value(families, "kube_policy_compliance_score_ratio", whole), EXPECTED.latestScore / 100);
  for (const [category, percent] of Object.entries(EXPECTED.categoryScores)) {
    t.is(value(families, "kube_policy_category_compliance_score_ratio", { ...whole, category }), Math.round(percent * 10) / 1000, category);
  }
  t.is(value(families, "kube_policy_framework_compliance_score_ratio", { ...whole, framework: "CIS" }), 0.75);
  t.is(value(families, "kube_policy_framework_compliance_score_ratio", { ...whole, framework: "SOC2" }), 0.824);
  t.is(value(families, "kube_policy_namespace_compliance_score_ratio", { cluster: CLUSTER, namespace: "shop" }), 0.75);
  t.is(value(families, "kube_policy_namespace_compliance_score_ratio", { cluster: CLUSTER, namespace: "payments" }), 0.7);
  for (const [severity, n] of Object.entries(EXPECTED.bySeverity)) t.is(value(families, "kube_policy_open_findings", { ...whole, severity }), n, severity);
  t.is(value(families, "kube_policy_namespace_open_findings", { namespace: "shop", severity: "medium" }), 3);
  t.is(value(families, "kube_policy_namespace_open_findings", { namespace: "payments", severity: "critical" }), 1);
  t.is(value(families, "kube_policy_workloads", { ...whole, result: "failed" }), 6);

  // The newest "nightly" failed 12 h ago after four successes: alertable as last_failed == 1 or a stale last success.
  t.is(value(families, "kube_policy_scans", { name: "nightly", status: "succeeded" }), 4);
  t.is(value(families, "kube_policy_scans", { name: "nightly", status: "failed" }), 1);
  t.is(value(families, "kube_policy_scan_last_failed", { name: "nightly" }), 1);
  t.is(value(families, "kube_policy_scan_last_duration_seconds", { name: "nightly" }), 30);
  t.is(value(families, "kube_policy_scan_last_success_timestamp_seconds", { name: "nightly" }), (NOW - DAY + 90_000) / 1000);
  t.is(value(families, "kube_policy_series_last_success_timestamp_seconds", whole), (NOW - DAY + 90_000) / 1000);
  t.is(value(families, "kube_policy_scan_last_failure_timestamp_seconds", { name: "nightly" }), (NOW - 12 * 3_600_000) / 1000);

  t.is(family(families, "kube_policy_admission_reviews_total").type, "COUNTER");
  t.is(value(families, "kube_policy_build_info", {}), 1);
  t.true((value(families, "process_resident_memory_bytes") ?? 0) > 1_000_000);
  t.true((value(families, "process_cpu_seconds_total") ?? 0) > 0);
  const started = value(families, "process_start_time_seconds") ?? 0;
  t.true(Math.abs(started - (Date.now() / 1000 - process.uptime())) < 5, `process_start_time_seconds ${started}`);
  t.is(family(families, "nodejs_version_info").metrics[0]?.labels?.version, process.version);
});

test("admission decisions of this process are counted per namespace and decision", async (t) => {
  const s = await served();
  const quiet: DecisionLogger = { info() {}, warn() {}, error() {} };
  const controller = new AdmissionController(s.runtime, { logger: quiet });
  await controller.review(admissionReview(violatingDeployment("metrics-denied")));
  await controller.review(admissionReview(violatingDeployment("metrics-denied", "app-2"), { dryRun: true }));
  await t.throwsAsync(controller.review({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { namespace: "metrics-denied" } }));
  const text = await (await fetch(`${s.url}/metrics`)).text();
  t.deepEqual(formatProblems(text), []);
  const families = parsePrometheusTextFormat(text);
  t.is(value(families, "kube_policy_admission_reviews_total", { namespace: "metrics-denied", decision: "denied" }), 2);
  t.is(value(families, "kube_policy_admission_reviews_total", { namespace: "metrics-denied", decision: "allowed" }), 0);
  t.is(value(families, "kube_policy_admission_reviews_total", { namespace: "metrics-denied", decision: "error" }), 1);
  t.is(value(families, "kube_policy_admission_dry_run_reviews_total", { namespace: "metrics-denied" }), 1);
});

test("answered admission reviews are timed in a histogram, from arrival to answer", async (t) => {
  const s = await served();
  const quiet: DecisionLogger = { info() {}, warn() {}, error() {} };
  const metrics = new AdmissionMetrics();
  const tls = await generateDevCertificates();
  const webhook = await startAdmissionServer(s.runtime, { port: 0, tls, metrics, logger: quiet });
  try {
    const post = (body: unknown) => httpsRequest(`${webhook.url}${ADMISSION_PATH}`, { method: "POST", body: JSON.stringify(body), ca: tls.ca });
    t.is((await post(admissionReview(violatingDeployment("metrics-timed")))).status, 200);
    t.is((await post(admissionReview(violatingDeployment("metrics-timed", "app-2")))).status, 200);
    t.is((await post({ kind: "AdmissionReview" })).status, 400, "a malformed review is answered, and timed, too");
    // GET /admission/metrics is not a review: not timed.
    t.is((await httpsRequest(`${webhook.url}/admission/metrics`, { ca: tls.ca })).status, 200);

    const text = renderMetrics(s.runtime, metrics.snapshot());
    t.deepEqual(formatProblems(text), []);
    const histogram = family(parsePrometheusTextFormat(text), "kube_policy_admission_review_duration_seconds");
    t.is(histogram.type, "HISTOGRAM");
    const sample = histogram.metrics[0] as unknown as { buckets: Record<string, string>; count: string; sum: string };
    t.is(Number(sample.count), 3);
    t.true(Number(sample.sum) > 0 && Number(sample.sum) < 30, `sum ${sample.sum}`);
    // (Object keys like "1" and "10" come first in any object: order by le.)
    const counts = Object.entries(sample.buckets)
      .map(([le, count]) => [le === "+Inf" ? Infinity : Number(le), Number(count)] as const)
      .sort(([a], [b]) => a - b);
    t.deepEqual(counts.map(([le]) => le), [...ADMISSION_DURATION_BUCKETS, Infinity]);
    t.is(counts.at(-1)![1], 3);
    t.true(counts.every(([, count], i) => i === 0 || count >= counts[i - 1]![1]), "buckets are cumulative");
  } finally {
    await webhook.close();
  }
});

test("label values are escaped: quotes, backslashes and line feeds survive a round trip", async (t) => {
  const s = await served();
  const namespace = 'we"ird\\name\nline';
  const text = renderMetrics(s.runtime, {
    total: { allowed: 1, denied: 0, warned: 0, errors: 0, dryRun: 0 },
    namespaces: { [namespace]: { allowed: 1, denied: 0, warned: 0, errors: 0, dryRun: 0 } },
  });
  t.deepEqual(formatProblems(text), []);
  t.true(text.includes('namespace="we\\"ird\\\\name\\nline"'));
  t.is(value(parsePrometheusTextFormat(text), "kube_policy_admission_reviews_total", { namespace, decision: "allowed" }), 1);
});

test("a namespace scanned by two series takes its numbers from the newest scan, once", async (t) => {
  const s = await served();
  // A scan of shop alone, newer than the whole-cluster ones, with another score for shop.
  const db = openDatabase(s.file);
  const store = new ScanStore(db);
  const scan = store.begin({ name: "shop-hourly", trigger: "schedule", cluster: CLUSTER, scope: "shop", ruleSetHash: "test", startedAt: NOW - 3_600_000 });
  store.complete(scan.id, {
    finishedAt: NOW - 3_590_000,
    workloads: { total: 3, evaluated: 3, passed: 1, failed: 2, skipped: 0 },
    compliancePercent: 91,
    warnings: [],
    findings: [],
    namespaces: [{ namespace: "shop", workloads: 3, failed: 2 }],
    scores: [
      { namespace: "", dimension: "overall", key: "", percent: 91, passed: 41, failed: 4 },
      { namespace: "shop", dimension: "overall", key: "", percent: 91, passed: 41, failed: 4 },
    ],
    classify: () => "fixed",
  });
  db.close();
  const text = await (await fetch(`${s.url}/metrics`)).text();
  t.deepEqual(formatProblems(text), [], "no duplicate series");
  const families = parsePrometheusTextFormat(text);
  t.is(value(families, "kube_policy_namespace_compliance_score_ratio", { namespace: "shop" }), 0.91);
  t.is(value(families, "kube_policy_namespace_compliance_score_ratio", { namespace: "payments" }), 0.7, "payments: only the whole-cluster series has it");
  t.is(value(families, "kube_policy_compliance_score_ratio", { scope: "shop" }), 0.91);
  t.is(value(families, "kube_policy_compliance_score_ratio", { scope: "*" }), 0.8);
  t.is(value(families, "kube_policy_scan_last_failed", { name: "shop-hourly" }), 0);
});

test("without a history database /metrics has the process and admission families only, and creates no database", async (t) => {
  const s = await served({ history: false });
  const res = await fetch(`${s.url}/metrics`);
  t.is(res.status, 200);
  const text = await res.text();
  t.deepEqual(formatProblems(text), []);
  const families = parsePrometheusTextFormat(text);
  t.deepEqual(family(families, "kube_policy_compliance_score_ratio").metrics, []);
  t.deepEqual(family(families, "kube_policy_scans").metrics, []);
  t.is(value(families, "kube_policy_build_info"), 1);
  t.false(existsSync(s.file), "reading metrics must not create the store");
});

test("with tokens configured /metrics needs the bearer token (a dashboard cookie is not enough)", async (t) => {
  const s = await served({ tokens: new Map([["prometheus", "scrape-secret-1"]]) });
  const anonymous = await fetch(`${s.url}/metrics`);
  t.is(anonymous.status, 401);
  t.is(anonymous.headers.get("www-authenticate"), 'Bearer realm="kube-policy-mcp"');
  const signedIn = await fetch(`${s.url}/?token=scrape-secret-1`, { redirect: "manual" });
  const cookie = signedIn.headers.getSetCookie()[0]?.split(";")[0] ?? "";
  t.regex(cookie, /^kube_policy_session=/);
  t.is((await fetch(`${s.url}/metrics`, { headers: { cookie } })).status, 401);
  const scraped = await fetch(`${s.url}/metrics`, { headers: { authorization: "Bearer scrape-secret-1" } });
  t.is(scraped.status, 200);
  t.deepEqual(formatProblems(await scraped.text()), []);
});
