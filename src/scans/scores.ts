// The scores a scan stores, for its whole scope and for each namespace in it: overall (rules passed /
// rules judged), per category, per framework (controls passed / judged). The same definitions as the
// compliance report (report/compliance.ts: a rule fails with an open finding, passes when some workload
// could judge it; a control takes the worst status of its rules), computed in one pass over the findings
// instead of one report per namespace: a large cluster has a hundred thousand findings and dozens of
// namespaces. test/scans/scores.test.ts holds the two to the same numbers.
import type { CatalogueView, WorkloadResult } from "../policy/evaluator.js";
import type { ScoreInput } from "../store/scan-store.js";

type Status = "passed" | "failed" | "not-evaluated";

interface Tally {
  evaluated: number;
  passed: number;
  failed: number;
  skipped: number;
  /** Rules with an open finding (violation or warning). */
  open: Set<string>;
  /** Per rule, the workloads where it could not be evaluated. */
  notEvaluated: Map<string, number>;
}

const newTally = (): Tally => ({ evaluated: 0, passed: 0, failed: 0, skipped: 0, open: new Set(), notEvaluated: new Map() });

export interface ScanScores {
  scores: ScoreInput[];
  /** The overall percent of the whole scope (the report's "Overall Compliance"). */
  percent: number | null;
  workloads: { total: number; evaluated: number; passed: number; failed: number; skipped: number };
  namespaces: { namespace: string; workloads: number; failed: number }[];
}

const percentOf = (passed: number, total: number) => (total === 0 ? null : Math.round((passed / total) * 100));
const percent1 = (passed: number, failed: number) => (passed + failed === 0 ? null : Math.round((passed / (passed + failed)) * 1000) / 10);

export function scanScores(results: WorkloadResult[], catalogue: CatalogueView[]): ScanScores {
  const whole = newTally();
  const byNamespace = new Map<string, Tally>();
  for (const result of results) {
    const ns = result.resource.namespace ?? "default";
    let tally = byNamespace.get(ns);
    if (!tally) byNamespace.set(ns, (tally = newTally()));
    if (result.skipped) {
      whole.skipped++;
      tally.skipped++;
      continue;
    }
    for (const t of [whole, tally]) {
      t.evaluated++;
      if (result.passed) t.passed++;
      else t.failed++;
    }
    let notEvaluatedHere: Set<string> | undefined;
    for (const f of result.findings) {
      if (f.outcome === "violation" || f.outcome === "warning") {
        whole.open.add(f.ruleId);
        tally.open.add(f.ruleId);
      } else if (f.outcome === "not-evaluated") {
        // Counted once per workload, as the report counts workloads, not findings.
        notEvaluatedHere ??= new Set();
        if (notEvaluatedHere.has(f.ruleId)) continue;
        notEvaluatedHere.add(f.ruleId);
        for (const t of [whole, tally]) t.notEvaluated.set(f.ruleId, (t.notEvaluated.get(f.ruleId) ?? 0) + 1);
      }
    }
  }

  const enabled = catalogue.filter((r) => r.enabled);
  const frameworks = [...new Set(enabled.flatMap((r) => Object.keys(r.frameworks)))].sort();
  const controlsOf = new Map(
    frameworks.map((framework) => {
      const controls = new Map<string, string[]>();
      for (const rule of enabled) for (const control of rule.frameworks[framework] ?? []) controls.set(control, [...(controls.get(control) ?? []), rule.id]);
      return [framework, controls] as const;
    }),
  );

  const scoresFor = (tally: Tally, namespace: string): { scores: ScoreInput[]; percent: number | null } => {
    const status = new Map<string, Status>();
    for (const rule of enabled) {
      status.set(
        rule.id,
        tally.open.has(rule.id) ? "failed" : tally.evaluated > 0 && (tally.notEvaluated.get(rule.id) ?? 0) < tally.evaluated ? "passed" : "not-evaluated",
      );
    }
    const count = (ids: Iterable<string>) => {
      let passed = 0;
      let failed = 0;
      for (const id of ids) {
        const s = status.get(id);
        if (s === "passed") passed++;
        else if (s === "failed") failed++;
      }
      return { passed, failed };
    };
    const all = count(status.keys());
    const overall = percentOf(all.passed, all.passed + all.failed);
    const scores: ScoreInput[] = [{ namespace, dimension: "overall", key: "", percent: overall, ...all }];
    const categories = new Map<string, string[]>();
    for (const rule of enabled) categories.set(rule.category, [...(categories.get(rule.category) ?? []), rule.id]);
    for (const [category, ids] of categories) {
      const c = count(ids);
      scores.push({ namespace, dimension: "category", key: category, percent: percent1(c.passed, c.failed), ...c });
    }
    for (const [framework, controls] of controlsOf) {
      let passed = 0;
      let failed = 0;
      for (const ids of controls.values()) {
        const statuses = ids.map((id) => status.get(id));
        if (statuses.includes("failed")) failed++;
        else if (statuses.includes("passed")) passed++;
      }
      scores.push({ namespace, dimension: "framework", key: framework, percent: percentOf(passed, passed + failed), passed, failed });
    }
    return { scores, percent: overall };
  };

  const top = scoresFor(whole, "");
  const scores = [...top.scores];
  const namespaces: ScanScores["namespaces"] = [];
  for (const [ns, tally] of byNamespace) {
    scores.push(...scoresFor(tally, ns).scores);
    namespaces.push({ namespace: ns, workloads: tally.evaluated, failed: tally.failed });
  }
  return {
    scores,
    percent: top.percent,
    workloads: { total: results.length, evaluated: whole.evaluated, passed: whole.passed, failed: whole.failed, skipped: whole.skipped },
    namespaces,
  };
}
