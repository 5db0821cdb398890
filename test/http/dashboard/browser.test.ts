// Covers the dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium, which .ci/run
// installs) driven by playwright-core, on the koa app serving a store with several scans. The overview
// shows the latest score, the trend chart with one point per succeeded scan at the right heights, the
// breakdowns and the failed scan; the violations table filters through its GET form; the scope and
// status selects submit on change with JavaScript (a button without it); the scans page shows the failed
// scan; a workload page shows its findings with fix hints and its fix history; a hostile workload name
// runs no script; and with JavaScript disabled the core numbers, the chart and the filters still work.
// Screenshots are saved under test-results/ (git-ignored) as artefacts.
// Real components: Chromium, the koa app on 127.0.0.1, SQLite written through ScanStore and FixStore
// (fixture.ts). No cluster and no network: Chromium runs with its background networking off, and the
// test fails if a page requests anything from another origin.
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import test from "ava";
import type { BrowserContext, Page } from "playwright-core";
import { launchBrowser, RESULTS, watchedPage } from "./browser-helpers.js";
import { EXPECTED, HOSTILE_NAME, serve, tempDir, writeHistory, type Served } from "./fixture.js";

const dir = tempDir("kube-policy-dashboard-browser-");
let s: Served;
const contexts: BrowserContext[] = [];

async function browser(options: { javaScriptEnabled: boolean }): Promise<BrowserContext> {
  const context = await launchBrowser(dir, options);
  contexts.push(context);
  return context;
}

let withJs: BrowserContext;

test.before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  const file = path.join(dir, "store.db");
  writeHistory(file, Date.now());
  s = await serve(file);
  withJs = await browser({ javaScriptEnabled: true });
});

test.after.always(async () => {
  for (const c of contexts) await c.close();
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

const watched = (context: BrowserContext) => watchedPage(context, s.url);

const text = async (page: Page, selector: string) => ((await page.locator(selector).first().textContent()) ?? "").trim();

/** The chart's y for a percent, as trendSvg draws it (top 16, 170 high). */
const chartY = (percent: number) => (16 + 170 - (percent / 100) * 170).toFixed(1);

test.serial("the overview shows the latest score, the trend with one point per scan, the breakdowns and the failed scan", async (t) => {
  const { page, dialogs, errors, foreign } = await watched(withJs);
  const res = await page.goto(`${s.url}/`);
  t.is(res?.status(), 200);
  t.is(await text(page, "[data-metric=score]"), `${EXPECTED.latestScore}%`);
  t.regex(await text(page, ".card.score .note"), /\+10 points/, "80 after 70");
  t.is(await text(page, "[data-metric=open]"), String(EXPECTED.open));
  t.is(await text(page, "[data-metric=workloads-failed]"), String(EXPECTED.workloadsFailed));
  t.is(await text(page, "[data-metric=workloads]"), String(EXPECTED.workloads));
  t.is(await text(page, "[data-metric=failing-rules]"), "6");

  // The trend: four succeeded scans, at the heights of 60, 65, 70 and 80 %, left to right.
  t.is(await text(page, "[data-metric=trend-scans]"), "4");
  const points = page.locator("#trend svg circle");
  t.is(await points.count(), EXPECTED.scores.length);
  const ys = await points.evaluateAll((cs) => cs.map((c) => c.getAttribute("cy")));
  t.deepEqual(ys, EXPECTED.scores.map(chartY));
  const xs = await points.evaluateAll((cs) => cs.map((c) => Number(c.getAttribute("cx"))));
  t.deepEqual([...xs].sort((a, b) => a - b), xs, "oldest first");
  const titles = await points.evaluateAll((cs) => cs.map((c) => c.textContent ?? ""));
  EXPECTED.scores.forEach((score, i) => t.regex(titles[i]!, new RegExp(`: ${score}% `)));
  t.regex(await text(page, "#trend .sub"), /1 failed/);

  for (const [category, percent] of Object.entries(EXPECTED.categoryScores)) t.is(await text(page, `[data-category-score=${category}]`), `${percent}%`, category);
  t.is(await text(page, "[data-framework-score=CIS]"), "75%");
  for (const [severity, n] of Object.entries(EXPECTED.bySeverity)) t.is(await text(page, `[data-severity-open=${severity}]`), String(n), severity);
  t.regex(await text(page, "#top-rules tbody tr"), /privileged-container/, "the critical rule first");
  t.regex(await text(page, "#top-workloads tbody tr"), /shop\/api/, "the workload with the most severe findings first");
  t.is(await page.locator("#namespaces tbody tr").count(), 2);
  t.regex(await text(page, "[data-alert=failed-scans]"), new RegExp(EXPECTED.failedReason.replace(/[.]/g, "\\.")));

  const shot = path.join(RESULTS, "dashboard-overview.png");
  await page.screenshot({ path: shot, fullPage: true });
  t.deepEqual([...readFileSync(shot).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG");
  t.true(readFileSync(shot).length > 20_000, "a page, not a blank image");

  t.deepEqual(dialogs, [], "the hostile workload name on this page ran no script");
  t.deepEqual(errors, [], "no console error (a CSP refusal of the inline script would be one)");
  t.deepEqual(foreign, [], "nothing requested from another origin");
  await page.close();
});

test.serial("the violations table filters through its GET form by severity, namespace and category, framework and rule", async (t) => {
  const { page, errors } = await watched(withJs);
  await page.goto(`${s.url}/violations`);
  const rows = page.locator("#violations tbody tr");
  t.is(await rows.count(), EXPECTED.open);
  // Several filters are set before one submit: this form does not submit on every change.
  t.true(await page.locator("#filters button[type=submit]").isVisible());

  await page.selectOption("select[name=severity]", "medium");
  await Promise.all([page.waitForURL(/severity=medium/), page.click("#filters button[type=submit]")]);
  t.is(await rows.count(), EXPECTED.filters["severity=medium"]);
  t.is(await text(page, "[data-metric=matching]"), "4");
  t.deepEqual(await rows.locator("td:first-child").allTextContents(), ["medium", "medium", "medium", "medium"]);

  await page.goto(`${s.url}/violations`);
  await page.selectOption("select[name=namespace]", "shop");
  await page.selectOption("select[name=category]", "performance");
  await Promise.all([page.waitForURL(/namespace=shop.*category=performance/), page.click("#filters button[type=submit]")]);
  t.is(await rows.count(), EXPECTED.filters["namespace=shop&category=performance"]);
  for (const workload of await rows.locator("td:nth-child(4)").allTextContents()) t.regex(workload, /shop\//);

  await page.goto(`${s.url}/violations`);
  await page.selectOption("select[name=framework]", "CIS");
  await Promise.all([page.waitForURL(/framework=CIS/), page.click("#filters button[type=submit]")]);
  t.is(await rows.count(), EXPECTED.filters["framework=CIS"]);
  t.false((await rows.allTextContents()).some((r) => r.includes("cpu-limits")), "cpu-limits maps to no CIS control");

  await page.goto(`${s.url}/violations`);
  await page.selectOption("select[name=rule]", "cpu-limits");
  await Promise.all([page.waitForURL(/rule=cpu-limits/), page.click("#filters button[type=submit]")]);
  t.is(await rows.count(), EXPECTED.filters["rule=cpu-limits"]);
  t.is(await page.locator("select[name=rule]").inputValue(), "cpu-limits", "the form shows the filter in force");

  await page.screenshot({ path: path.join(RESULTS, "dashboard-violations.png"), fullPage: true });
  t.deepEqual(errors, []);
  await page.close();
});

test.serial("the scans page shows the failed scan with its reason, and filters by status", async (t) => {
  const { page } = await watched(withJs);
  await page.goto(`${s.url}/scans`);
  t.is(await page.locator("#scans tbody tr").count(), 5);
  const failed = page.locator("#scans tbody tr.failed");
  t.is(await failed.count(), 1);
  t.regex((await failed.textContent()) ?? "", new RegExp(`failed.*${EXPECTED.failedReason.replace(/[.]/g, "\\.")}`));
  await Promise.all([page.waitForURL(/status=failed/), page.selectOption("select[name=status]", "failed")]);
  t.is(await page.locator("#scans tbody tr").count(), 1);
  t.regex(await text(page, "#scan-names tbody tr"), /nightly\s*failed\s*4\s*1/);
  await page.close();
});

test.serial("a workload page shows its findings with fix hints and its fix history", async (t) => {
  const { page } = await watched(withJs);
  await page.goto(`${s.url}/`);
  await Promise.all([page.waitForURL(/\/workloads\/shop\/Deployment\/api$/), page.click("#top-workloads >> text=Deployment shop/api")]);
  t.is(await text(page, "h1"), "Deployment shop/api");
  const findings = page.locator("#findings tbody tr");
  t.is(await findings.count(), 3);
  const privileged = findings.filter({ hasText: "privileged-container" });
  t.regex((await privileged.textContent()) ?? "", /Remove securityContext\.privileged or set it to false\./, "the rule's remediation");
  t.regex((await privileged.textContent()) ?? "", /Automatic fix \(high risk\) after an approval: high-risk fixes always need an approval/);
  t.regex(await text(page, "pre"), /auto_fix_policy_violations .*"namespace": "shop", "deployment": "api", "dryRun": true/);
  const history = await page.locator("section:has(h2:text('Change history')) tbody tr").allTextContents();
  t.is(history.length, 2, "newest first: the rollback, then the fix it undid");
  t.regex(history[0]!, /rollback.*rollback\s*of chg-/);
  t.regex(history[1]!, /fix.*rolled-back\s*by chg-/);
  t.regex(await text(page, "section:has(h2:text('Resolved findings')) tbody tr"), /host-pid.*fixed/);
  await page.screenshot({ path: path.join(RESULTS, "dashboard-workload.png"), fullPage: true });
  await page.close();
});

test.serial("a workload with a hostile name gets its page, with the name as text and no script run", async (t) => {
  const { page, dialogs } = await watched(withJs);
  await page.goto(`${s.url}/violations?severity=low`);
  await Promise.all([page.waitForURL(/\/workloads\/shop\/Deployment\/%3Cscript%3E/), page.click("#violations tbody tr >> a")]);
  t.is(await text(page, "h1"), `Deployment shop/${HOSTILE_NAME}`);
  t.is(await page.locator("#findings tbody tr").count(), 1);
  t.is(await page.locator("img").count(), 0, "the message's <img> is text");
  t.deepEqual(dialogs, []);
  await page.close();
});

test.serial("with JavaScript disabled the core numbers, the chart and the filters work", async (t) => {
  const noJs = await browser({ javaScriptEnabled: false });
  const { page } = await watched(noJs);
  await page.goto(`${s.url}/`);
  t.is(await text(page, "[data-metric=score]"), `${EXPECTED.latestScore}%`);
  t.is(await text(page, "[data-metric=open]"), String(EXPECTED.open));
  t.is(await text(page, "[data-metric=workloads-failed]"), String(EXPECTED.workloadsFailed));
  t.is(await page.locator("#trend svg circle").count(), EXPECTED.scores.length);
  t.true(await page.locator("form.auto button[type=submit]").isVisible(), "without the script the Show button stays");
  await page.screenshot({ path: path.join(RESULTS, "dashboard-overview-nojs.png"), fullPage: true });

  await page.goto(`${s.url}/violations`);
  await page.selectOption("select[name=severity]", "critical");
  t.is(await page.locator("#violations tbody tr").count(), EXPECTED.open, "a change alone submits nothing without JavaScript");
  await Promise.all([page.waitForURL(/severity=critical/), page.click("#filters button[type=submit]")]);
  t.is(await page.locator("#violations tbody tr").count(), EXPECTED.bySeverity.critical);

  // And with it on, the same button is hidden: the two contexts really differ.
  const withScript = await withJs.newPage();
  await withScript.goto(`${s.url}/`);
  t.false(await withScript.locator("form.auto button[type=submit]").isVisible());
  await withScript.close();
  await page.close();
});
