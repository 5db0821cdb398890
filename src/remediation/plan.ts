// What to fix on one workload: the fixes of its failing findings, grouped per rule, sorted into those the
// configuration lets us apply now, those that need an approval, and the findings left to a human.
// Then the merge of the chosen fixes into one object, checking that no fix undoes another.
import { InvalidInputError, type ErrorDetail } from "../errors.js";
import type { WorkloadResult } from "../policy/evaluator.js";
import type { Category, Finding, FixRisk, JsonPatchOp, Severity } from "../policy/types.js";
import { applyPatch, deepEqual, formatPointer, isPlainObject, JsonPatchError, parsePointer, valueAt } from "./json-patch.js";

/** The fix of one rule on one workload: the patches of all its findings (one per container, say), in order. */
export interface RuleFix {
  ruleId: string;
  title: string;
  severity: Severity;
  category: Category;
  risk: FixRisk;
  patch: JsonPatchOp[];
  findings: { message: string; path: string }[];
  /** Why the configuration wants an approval; null when it may be applied on request. */
  approval: string | null;
}

export interface ManualFinding {
  ruleId: string;
  severity: Severity;
  outcome: "violation" | "warning";
  message: string;
  path: string;
  remediation: string;
}

export interface FixPlan {
  auto: RuleFix[];
  needsApproval: RuleFix[];
  manual: ManualFinding[];
  skipped: { ruleId: string; reason: string }[];
}

const APPROVAL_PREFIX = "fix needs approval: ";

/** Checks a `rules` filter against the catalogue: every unknown id is named with its index. */
export function checkRuleFilter(rules: string[] | undefined, known: ReadonlySet<string>, where = "rules"): void {
  if (!rules) return;
  const problems: ErrorDetail[] = rules.flatMap((id, i) => (known.has(id) ? [] : [{ where: `${where}[${i}]`, message: `unknown rule id ${JSON.stringify(id)}` }]));
  if (problems.length > 0) throw new InvalidInputError(`the rules filter names rules that do not exist`, { details: problems });
}

/** Sorts the failing findings (violations and warnings; exempt ones stay untouched) of one evaluation. */
export function planFixes(result: WorkloadResult, options: { rules?: string[] } = {}): FixPlan {
  const wanted = options.rules ? new Set(options.rules) : null;
  const byRule = new Map<string, RuleFix>();
  const manual: ManualFinding[] = [];
  const failing = new Set<string>();
  for (const finding of result.findings) {
    if (finding.outcome !== "violation" && finding.outcome !== "warning") continue;
    failing.add(finding.ruleId);
    if (!finding.fix) {
      manual.push({ ruleId: finding.ruleId, severity: finding.severity, outcome: finding.outcome, message: finding.message, path: finding.path, remediation: finding.remediation });
      continue;
    }
    const fix = byRule.get(finding.ruleId) ?? byRule.set(finding.ruleId, newRuleFix(finding)).get(finding.ruleId)!;
    fix.patch.push(...finding.fix.patch);
    fix.findings.push({ message: finding.message, path: finding.path });
  }
  const plan: FixPlan = { auto: [], needsApproval: [], manual, skipped: [] };
  for (const fix of byRule.values()) {
    if (wanted && !wanted.has(fix.ruleId)) plan.skipped.push({ ruleId: fix.ruleId, reason: "not in the rules filter" });
    else if (fix.approval) plan.needsApproval.push(fix);
    else plan.auto.push(fix);
  }
  for (const id of wanted ?? []) {
    if (!failing.has(id)) plan.skipped.push({ ruleId: id, reason: "the rule does not fail on this workload" });
    else if (!byRule.has(id)) plan.skipped.push({ ruleId: id, reason: "the rule has no automatic fix here (see manual)" });
  }
  return plan;
}

function newRuleFix(finding: Finding): RuleFix {
  return {
    ruleId: finding.ruleId,
    title: finding.title,
    severity: finding.severity,
    category: finding.category,
    risk: finding.fix!.risk,
    patch: [],
    findings: [],
    approval: finding.autoFixable ? null : (finding.reason?.startsWith(APPROVAL_PREFIX) ? finding.reason.slice(APPROVAL_PREFIX.length) : (finding.reason ?? "the configuration requires an approval")),
  };
}

export interface MergeResult<T> {
  /** The object with every merged fix applied. */
  object: T;
  merged: RuleFix[];
  /** Fixes left out: their patch does not apply, or it would undo (or be undone by) an earlier fix. */
  failed: { ruleId: string; reason: string }[];
}

/**
 * Merges rule fixes onto one object. Each fix was computed against the object as read, so they are
 * applied in order with mergeObjects (an `add` of a parent another fix already added merges into it).
 * After each fix, every fix merged so far must still hold on the result as it holds when that fix is
 * applied alone; a fix that breaks one (say two removals by index in one array) is left out and
 * reported, to be applied by the next run against the updated object.
 */
export function mergeFixes<T>(object: T, fixes: RuleFix[]): MergeResult<T> {
  let current = object;
  const merged: { fix: RuleFix; alone: unknown }[] = [];
  const failed: { ruleId: string; reason: string }[] = [];
  for (const fix of fixes) {
    let alone: unknown;
    let next: T;
    try {
      alone = applyPatch(object, fix.patch);
      next = applyPatch(current, fix.patch, { mergeObjects: true });
    } catch (error) {
      if (!(error instanceof JsonPatchError)) throw error;
      failed.push({ ruleId: fix.ruleId, reason: `its fix does not apply to the object: ${error.message}` });
      continue;
    }
    const broken = [...merged, { fix, alone }].flatMap((m) => {
      const path = unheldPath(next, m.alone, m.fix.patch);
      return path === null ? [] : [{ ruleId: m.fix.ruleId, path }];
    });
    if (broken.length > 0) {
      const first = broken[0]!;
      failed.push({
        ruleId: fix.ruleId,
        reason:
          first.ruleId === fix.ruleId
            ? `its fix at ${first.path} is undone by the fixes merged before it; run the fix again once they are applied`
            : `its fix conflicts with the fix of ${first.ruleId} at ${first.path}; run the fix again once that one is applied`,
      });
      continue;
    }
    merged.push({ fix, alone });
    current = next;
  }
  return { object: current, merged: merged.map((m) => m.fix), failed };
}

/** The first path a fix sets (as it does when applied alone) that `result` does not hold; null when all hold. */
function unheldPath(result: unknown, alone: unknown, patch: JsonPatchOp[]): string | null {
  for (const op of patch) {
    if (op.op === "test") continue;
    const tokens = parsePointer(op.path);
    const last = tokens[tokens.length - 1];
    // Appends and removals by index are checked on the whole array: indexes shift when others edit it.
    const parent = tokens.slice(0, -1);
    const parentValue = valueAt(alone, formatPointer(parent));
    const checked = last === "-" || (op.op === "remove" && Array.isArray(parentValue.value)) ? formatPointer(parent) : op.path;
    const want = valueAt(alone, checked);
    const have = valueAt(result, checked);
    if (want.found ? !(have.found && contains(have.value, want.value)) : have.found) return checked;
    // A removal by index must leave exactly as many elements as it does alone (else another element went).
    if (op.op === "remove" && checked !== op.path && (have.value as unknown[]).length !== (want.value as unknown[]).length) return checked;
    if (op.op === "move") {
      const from = valueAt(alone, op.from!);
      if (!from.found && valueAt(result, op.from!).found) return op.from!;
    }
  }
  return null;
}

/** `have` holds everything `want` says: objects key by key, arrays element by element (each matched once, order free), scalars equal. */
function contains(have: unknown, want: unknown): boolean {
  if (isPlainObject(want)) return isPlainObject(have) && Object.entries(want).every(([k, v]) => Object.hasOwn(have, k) && contains(have[k], v));
  if (Array.isArray(want)) {
    if (!Array.isArray(have)) return false;
    const unused = [...have];
    return want.every((w) => {
      const i = unused.findIndex((h) => contains(h, w));
      if (i < 0) return false;
      unused.splice(i, 1);
      return true;
    });
  }
  return deepEqual(have, want);
}
