// JSON custom rules: the product document's format (id, name, description, severity, category, enabled,
// scope, conditions, actions) plus match, combine, frameworks, remediation and fix. Semantics: the
// conditions state what a compliant object satisfies; an object the rule applies to that fails them
// gets the rule's action (deny or warn). Every problem is reported with file, rule id and condition index.
import type { CustomRuleJson } from "../../config/types.js";
import { PolicyCompileError, type ErrorDetail } from "../../errors.js";
import { parseQuantity } from "../quantity.js";
import { normaliseKind } from "../../kube/source.js";
import { CATEGORIES, FIX_RISKS, SEVERITIES, type Category, type FixRisk, type Severity } from "../types.js";
import { FieldPathError, parseFieldPath, type FieldPath } from "./field-path.js";

export const OPERATORS = [
  "equals",
  "not_equals",
  "contains",
  "not_contains",
  "greater_than",
  "less_than",
  "regex_match",
  "exists",
  "not_exists",
  "in",
  "not_in",
] as const;
export type Operator = (typeof OPERATORS)[number];

export interface Condition {
  field: string;
  path: FieldPath;
  operator: Operator;
  value: unknown;
  description?: string;
}

export interface CustomRule {
  id: string;
  title: string;
  description: string;
  category: Category;
  severity: Severity;
  enabled: boolean;
  action: "deny" | "warn";
  message: string;
  remediation: string;
  frameworks: Record<string, string[]>;
  fix: { patch: { op: string; path: string; value?: unknown }[]; risk: FixRisk } | null;
  /** Workload kinds the rule applies to; null: every workload kind. */
  kinds: string[] | null;
  namespaces: string[] | null;
  labelSelector: Record<string, unknown> | null;
  match: Condition[];
  conditions: Condition[];
  combine: "all" | "any";
  /** file#id, for messages and the generated header. */
  origin: string;
  file: string;
}

export interface RuleSource {
  rule: CustomRuleJson;
  /** The file the rule came from and its JSON path there: "acme.json" and "/customRules/0". */
  file: string;
  pointer: string;
}

const SCOPES: Record<string, string[] | null> = { workload: null, workloads: null, all: null };

/** Checks a pattern with the engine that will run it (RE2, through the bundle's regex_valid entrypoint). */
export type RegexValidator = (pattern: string) => boolean | undefined;

function regexProblem(pattern: string, validate: RegexValidator): string | null {
  const valid = validate(pattern);
  if (valid === true) return null;
  let hint = "";
  try {
    new RegExp(pattern);
  } catch (error) {
    hint = `: ${(error as Error).message.replace(/^Invalid regular expression: /, "")}`;
  }
  if (hint) return hint.slice(2);
  if (valid === undefined) return null;
  if (/\(\?<?[=!]/.test(pattern)) return "lookahead and lookbehind are not supported by OPA's regular expressions (RE2)";
  if (/\\([1-9]|k<)/.test(pattern)) return "backreferences are not supported by OPA's regular expressions (RE2)";
  return "not valid RE2 syntax (OPA's regular expressions)";
}

function conditionProblems(raw: Record<string, unknown>, where: string, problems: ErrorDetail[], validate: RegexValidator): Condition | null {
  const before = problems.length;
  let path: FieldPath | null = null;
  try {
    path = parseFieldPath(String(raw.field ?? ""));
  } catch (error) {
    if (error instanceof FieldPathError) problems.push({ where: `${where}.field`, message: error.message });
    else throw error;
  }
  const operator = raw.operator as Operator;
  if (!OPERATORS.includes(operator)) {
    problems.push({ where: `${where}.operator`, message: `unknown operator ${JSON.stringify(raw.operator)} (one of ${OPERATORS.join(", ")})` });
  }
  const value = raw.value;
  if (operator === "regex_match") {
    if (typeof value !== "string") problems.push({ where: `${where}.value`, message: "regex_match needs a string pattern" });
    else {
      const problem = regexProblem(value, validate);
      if (problem) problems.push({ where: `${where}.value`, message: `invalid regular expression ${JSON.stringify(value)}: ${problem}` });
    }
  }
  if ((operator === "greater_than" || operator === "less_than") && parseQuantity(value) === undefined) {
    problems.push({ where: `${where}.value`, message: `${JSON.stringify(value)} is not a number or a Kubernetes quantity (e.g. 2Gi, 500m, 1e3)` });
  }
  if ((operator === "in" || operator === "not_in") && !Array.isArray(value)) {
    problems.push({ where: `${where}.value`, message: `${operator} needs a list of values` });
  }
  if ((operator === "contains" || operator === "not_contains") && (value === undefined || typeof value === "object")) {
    problems.push({ where: `${where}.value`, message: `${operator} needs a string (or a scalar to find in a list)` });
  }
  if (operator === "exists" && value !== undefined && typeof value !== "boolean") {
    problems.push({ where: `${where}.value`, message: "exists takes true or false (or no value, meaning true)" });
  }
  if (["equals", "not_equals"].includes(operator) && value === undefined) {
    problems.push({ where: `${where}.value`, message: `${operator} needs a value` });
  }
  if (["equals", "not_equals"].includes(operator) && value === null) {
    problems.push({ where: `${where}.value`, message: `${operator} null is ambiguous with a missing field: use not_exists or exists` });
  }
  if (problems.length > before || !path) return null;
  return {
    field: String(raw.field),
    path,
    operator,
    value: operator === "exists" ? (value ?? true) : operator === "not_exists" ? null : value,
    ...(typeof raw.description === "string" ? { description: raw.description } : {}),
  };
}

/** Checks and normalises rules; throws one PolicyCompileError listing every problem (nothing half-loaded). */
export function normaliseRules(sources: RuleSource[], builtInIds: Set<string>, validate: RegexValidator): CustomRule[] {
  const problems: ErrorDetail[] = [];
  const rules: CustomRule[] = [];
  const seen = new Map<string, string>();
  for (const { rule: raw, file, pointer } of sources) {
    const id = typeof raw.id === "string" ? raw.id : "";
    const where = `${file}#${id || pointer}`;
    const before = problems.length;
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) problems.push({ where, message: `rule id ${JSON.stringify(raw.id)} must be lower-case letters, digits and dashes` });
    if (builtInIds.has(id)) problems.push({ where, message: `rule id ${id} shadows the built-in rule of the same id` });
    const other = seen.get(id);
    if (id && other) problems.push({ where, message: `duplicate rule id ${id} (also defined at ${other})` });
    else if (id) seen.set(id, `${file} ${pointer}`);
    if (!CATEGORIES.includes(raw.category)) problems.push({ where: `${where} category`, message: `must be one of ${CATEGORIES.join(", ")}` });
    if (!SEVERITIES.includes(raw.severity)) problems.push({ where: `${where} severity`, message: `must be one of ${SEVERITIES.join(", ")}` });
    if (!Array.isArray(raw.conditions) || raw.conditions.length === 0) {
      problems.push({ where: `${where} conditions`, message: "a rule needs at least one condition (what a compliant object satisfies)" });
    }
    const actions = Array.isArray(raw.actions) ? raw.actions : [];
    const action = actions[0];
    if (!action || (action.type !== "deny" && action.type !== "warn")) {
      problems.push({ where: `${where} actions[0].type`, message: "the first action must be of type deny or warn" });
    }
    if (actions.length > 1) problems.push({ where: `${where} actions`, message: "one action per rule (deny or warn)" });
    let kinds: string[] | null = null;
    const match = (raw.match ?? {}) as { kinds?: unknown; namespaces?: unknown; labelSelector?: unknown; conditions?: unknown };
    if (raw.scope !== undefined) {
      const scope = String(raw.scope).toLowerCase();
      if (scope in SCOPES) kinds = SCOPES[scope]!;
      else {
        const kind = normaliseKind(scope);
        if (kind) kinds = [kind];
        else problems.push({ where: `${where} scope`, message: `unknown scope ${JSON.stringify(raw.scope)} (a workload kind such as deployment, or workload for every kind)` });
      }
    }
    if (match.kinds !== undefined) {
      if (!Array.isArray(match.kinds) || match.kinds.length === 0) problems.push({ where: `${where} match.kinds`, message: "must be a non-empty list of workload kinds" });
      else {
        const normalised = match.kinds.map((k) => normaliseKind(String(k)));
        match.kinds.forEach((k, i) => {
          if (!normalised[i]) problems.push({ where: `${where} match.kinds[${i}]`, message: `${JSON.stringify(k)} is not a workload kind` });
        });
        kinds = normalised.filter((k): k is NonNullable<typeof k> => k !== undefined);
      }
    }
    if (match.namespaces !== undefined && (!Array.isArray(match.namespaces) || !match.namespaces.every((n) => typeof n === "string"))) {
      problems.push({ where: `${where} match.namespaces`, message: "must be a list of namespace names or glob patterns" });
    }
    if (match.labelSelector !== undefined && (typeof match.labelSelector !== "object" || match.labelSelector === null)) {
      problems.push({ where: `${where} match.labelSelector`, message: "must be a label selector ({matchLabels, matchExpressions})" });
    }
    const conditions = (Array.isArray(raw.conditions) ? raw.conditions : []).map((c, i) =>
      conditionProblems(c as Record<string, unknown>, `${where} conditions[${i}]`, problems, validate),
    );
    const matchConditions = (Array.isArray(match.conditions) ? match.conditions : []).map((c, i) =>
      conditionProblems(c as Record<string, unknown>, `${where} match.conditions[${i}]`, problems, validate),
    );
    if (raw.fix && !FIX_RISKS.includes(raw.fix.risk)) problems.push({ where: `${where} fix.risk`, message: `must be one of ${FIX_RISKS.join(", ")}` });
    if (problems.length > before) continue;
    const message = action?.message ?? raw.description ?? raw.name ?? id;
    rules.push({
      id,
      title: raw.name ?? id,
      description: raw.description ?? raw.name ?? message,
      category: raw.category,
      severity: raw.severity,
      enabled: raw.enabled !== false,
      action: action!.type,
      message,
      remediation: raw.remediation ?? message,
      frameworks: raw.frameworks ?? {},
      fix: raw.fix ? { patch: raw.fix.patch, risk: raw.fix.risk } : null,
      kinds,
      namespaces: Array.isArray(match.namespaces) ? (match.namespaces as string[]) : null,
      labelSelector: (match.labelSelector as Record<string, unknown> | undefined) ?? null,
      match: matchConditions as Condition[],
      conditions: conditions as Condition[],
      combine: raw.combine ?? "all",
      origin: `${file}#${id}`,
      file,
    });
  }
  if (problems.length > 0) {
    throw new PolicyCompileError(`${problems.length} problem(s) in custom rules`, { details: problems });
  }
  return rules;
}
