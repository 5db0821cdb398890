// Covers Auto-Fix Efficiency (src/scans/autofix.ts, src/store/autofix-store.ts, src/report/autofix.ts):
// exact counts over a history where one violation is fixed by an applied fix, one by hand, one by a fix
// that was later rolled back (twice: once it came back, once it stayed resolved), one by a fix applied
// too early (a later scan still saw it), one exempted; the window, a namespace, the headroom under two
// configurations, and "no data" (no history, no scan in the window, no violation) rather than 0%.
// Real components: SQLite on temporary files written through ScanStore and FixStore
// (autofix-fixture.ts), the compiled policy bundle's catalogue and the configuration's fix policy.
import { rmSync } from "node:fs";
import path from "node:path";
import test from "ava";
import type { PolicyConfig } from "../../src/config/types.js";
import { MemorySource } from "../../src/kube/memory-source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { renderAutoFixText } from "../../src/report/autofix.js";
import { Runtime } from "../../src/runtime.js";
import { computeAutoFixEfficiency, fixabilityFor } from "../../src/scans/autofix.js";
import { openDatabase } from "../../src/store/db.js";
import { ScanStore } from "../../src/store/scan-store.js";
import { tempDir } from "../http/dashboard/fixture.js";
import { CLUSTER, DAY, EXPECTED, writeAutoFixHistory } from "./autofix-fixture.js";

const dir = tempDir("kube-policy-autofix-");
const NOW = Date.UTC(2026, 0, 15, 12);
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
let bundle: PolicyBundle;
test.before(async () => {
  bundle = await PolicyBundle.load();
});

async function fixability(config: PolicyConfig) {
  const runtime = new Runtime(config, bundle, await MemorySource.demo(), { databasePath: ":memory:" });
  return fixabilityFor(runtime.evaluator.catalogue(), runtime.config);
}

function history(options: { rollbacks?: boolean } = {}): ScanStore {
  const file = path.join(dir, `h-${counter++}.db`);
  writeAutoFixHistory(file, NOW, options);
  return new ScanStore(openDatabase(file));
}

const AUTO_FIX_ON: PolicyConfig = { global: { autoFix: true } };

test("30 days, whole cluster: applied fixes count, hand fixes, exemptions and rolled-back fixes do not", async (t) => {
  const e = computeAutoFixEfficiency(history(), { cluster: CLUSTER, now: NOW, fixability: await fixability(AUTO_FIX_ON) });
  t.truthy(e);
  t.like(e, {
    violations: EXPECTED.violations,
    autoRemediated: EXPECTED.autoRemediated,
    resolvedOtherwise: EXPECTED.resolvedOtherwise,
    resolvedOtherwiseBy: EXPECTED.resolvedOtherwiseBy,
    stillOpen: EXPECTED.stillOpen,
    percent: EXPECTED.percent,
    ratio: EXPECTED.ratio,
    ofResolvedPercent: EXPECTED.ofResolvedPercent,
    fixes: EXPECTED.fixes,
    headroom: EXPECTED.headroom,
  });
  t.deepEqual(e!.headroom.rules, [
    { ruleId: "cpu-limits", severity: "medium", open: 1 },
    { ruleId: "cpu-requests", severity: "medium", open: 1 },
  ]);
  t.deepEqual(e!.scope, { cluster: CLUSTER, namespace: null, scannedNamespaces: null });
  t.deepEqual(e!.window, { days: 30, from: new Date(NOW - 30 * DAY).toISOString(), to: new Date(NOW).toISOString() });
  t.regex(e!.definition, /not been rolled back/);
});

test("without the rollbacks, the rolled-back fixes count: one more auto-remediated, one fewer resolved otherwise", async (t) => {
  // C's fix resolved it at S3; without the rollback it would not come back at S4 in real life, but the
  // history here still shows it reopened, so C stays open; D's fix now counts; B's early fix still does
  // not (S2 saw B after it).
  const e = computeAutoFixEfficiency(history({ rollbacks: false }), { cluster: CLUSTER, now: NOW, fixability: await fixability(AUTO_FIX_ON) });
  t.like(e, { violations: 12, autoRemediated: 3, resolvedOtherwise: 4, stillOpen: 5, percent: 25, fixes: { applied: 9, rolledBack: 0 } });
  t.is(e!.resolvedOtherwiseBy.fixed, 3);
});

test("a 2-day window keeps what was open in it: what S4 and S5 resolved and what is open", async (t) => {
  const e = computeAutoFixEfficiency(history(), { cluster: CLUSTER, now: NOW, days: 2, fixability: await fixability(AUTO_FIX_ON) });
  t.like(e, {
    violations: 8,
    autoRemediated: 1,
    resolvedOtherwise: 2,
    resolvedOtherwiseBy: { fixed: 1, exempted: 1 },
    stillOpen: 5,
    percent: 12.5,
    fixes: { applied: 1, rolledBack: 0 },
    window: { days: 2 },
  });
});

test("one namespace: its violations and fixes only; 0% is a number when violations were open and none was auto-fixed", async (t) => {
  const e = computeAutoFixEfficiency(history(), { cluster: CLUSTER, namespace: "payments", now: NOW, fixability: await fixability(AUTO_FIX_ON) });
  t.like(e, {
    scope: { namespace: "payments", scannedNamespaces: null },
    violations: 5,
    autoRemediated: 0,
    resolvedOtherwise: 3,
    resolvedOtherwiseBy: { fixed: 2, exempted: 1 },
    stillOpen: 2,
    percent: 0,
    ratio: 0,
    fixes: { applied: 2, rolledBack: 1 },
    headroom: { open: 2, autoFixable: 1, needsApproval: 1, manual: 0, percent: 50 },
  });
});

test("the headroom follows the configuration: with auto-fix off (the default) every fix needs an approval", async (t) => {
  const store = history();
  const off = computeAutoFixEfficiency(store, { cluster: CLUSTER, now: NOW, fixability: await fixability({}) });
  t.like(off?.headroom, { open: 5, autoFixable: 0, needsApproval: 4, manual: 1, percent: 0 });
  t.deepEqual(off?.headroom.rules, []);
  const noMedium = computeAutoFixEfficiency(store, {
    cluster: CLUSTER,
    now: NOW,
    fixability: await fixability({ global: { autoFix: true }, autoFixPolicy: { allowMediumRisk: false } }),
  });
  t.like(noMedium?.headroom, { autoFixable: 1, needsApproval: 3, manual: 1 }, "cpu-requests (low risk) only");
  t.is(off?.percent, EXPECTED.percent, "the efficiency itself does not depend on today's configuration");
});

test("no data: no history, another cluster, nothing in the window; a history with no violation has no percent", async (t) => {
  const fix = await fixability(AUTO_FIX_ON);
  const empty = new ScanStore(openDatabase(path.join(dir, `empty-${counter++}.db`)));
  t.is(computeAutoFixEfficiency(empty, { cluster: CLUSTER, now: NOW, fixability: fix }), null);
  const store = history();
  t.is(computeAutoFixEfficiency(store, { cluster: "other-cluster", now: NOW, fixability: fix }), null);
  t.is(computeAutoFixEfficiency(store, { cluster: CLUSTER, now: NOW + 40 * DAY, fixability: fix }), null, "every scan is older than the window");
  t.is(computeAutoFixEfficiency(store, { cluster: CLUSTER, namespace: "nowhere", now: NOW, fixability: fix }), null);

  const clean = new ScanStore(openDatabase(path.join(dir, `clean-${counter++}.db`)), { clock: () => NOW });
  const scan = clean.begin({ name: "nightly", trigger: "manual", cluster: CLUSTER, scope: "*", ruleSetHash: "x", startedAt: NOW - DAY });
  clean.complete(scan.id, {
    finishedAt: NOW - DAY + 1000,
    workloads: { total: 1, evaluated: 1, passed: 1, failed: 0, skipped: 0 },
    compliancePercent: 100,
    warnings: [],
    findings: [],
    namespaces: [{ namespace: "shop", workloads: 1, failed: 0 }],
    scores: [],
    classify: () => "fixed",
  });
  const none = computeAutoFixEfficiency(clean, { cluster: CLUSTER, now: NOW, fixability: fix });
  t.like(none, { violations: 0, autoRemediated: 0, stillOpen: 0, percent: null, ratio: null, ofResolvedPercent: null, headroom: { open: 0, percent: null } });

  t.deepEqual(renderAutoFixText(null, { days: 30 }), ["Auto-Fix Efficiency (last 30 days): no data (no stored scan of this scope in the period)"]);
  t.deepEqual(renderAutoFixText(none, { days: 30 }), ["Auto-Fix Efficiency (last 30 days): no data (no violation was open in the period)"]);
});

test("the text names every count", async (t) => {
  const e = computeAutoFixEfficiency(history(), { cluster: CLUSTER, now: NOW, fixability: await fixability(AUTO_FIX_ON) });
  t.deepEqual(renderAutoFixText(e, { days: 30 }), [
    "Auto-Fix Efficiency (last 30 days): 16.7% auto-remediated",
    "- Violations open in the period: 12: 2 auto-remediated, 5 resolved otherwise (4 fixed outside kube-policy, 1 exempted), 5 still open",
    "- Fixes applied by kube-policy: 9 (3 rolled back, not counted)",
    "- Headroom: 2 of 5 open violation(s) auto-fixable now (40%); 2 need an approval, 1 have no automatic fix",
    "  🔧 cpu-limits (1), cpu-requests (1)",
  ]);
});
