// Turns a normalised custom rule into a Rego v1 module of the same shape as the built-in rules: a
// METADATA block (read into the catalogue by the same build), `violation` with a message naming the
// failing field, `not_evaluated` when a fact it reads is unknown. All checks run in Rego (lib.custom).
import { parseQuantity } from "../quantity.js";
import { formatFieldPath, type FieldPath, type Segment } from "./field-path.js";
import type { Condition, CustomRule } from "./rules.js";

export const CUSTOM_GROUP = "custom";

export function packageName(rule: CustomRule): string {
  return `kubepolicy.${CUSTOM_GROUP}.${rule.id.replace(/-/g, "_")}`;
}

const rego = (value: unknown) => JSON.stringify(value);

function baseOf(path: FieldPath): string {
  if (path.root === "facts") return "data.lib.facts.values";
  if (path.root === "context") return 'c.at(input, ["context"])';
  return "input.object";
}

/** Splits a path at its [*] wildcards: chunks of plain segments between them. */
function chunks(segments: Segment[]): Segment[][] {
  const out: Segment[][] = [[]];
  for (const s of segments) {
    if (s.kind === "all") out.push([]);
    else out[out.length - 1]!.push(s);
  }
  return out;
}

const keyOf = (s: Segment) => (s.kind === "key" ? rego(s.key) : s.kind === "index" ? String(s.index) : "");
const pointerPart = (s: Segment) => (s.kind === "key" ? rego(s.key.replace(/~/g, "~0").replace(/\//g, "~1")) : s.kind === "index" ? rego(String(s.index)) : "");
const readablePart = (s: Segment, first: boolean) =>
  s.kind === "index" ? `[${s.index}]` : s.kind === "key" && /^[A-Za-z_$][\w$-]*$/.test(s.key) ? `${first ? "" : "."}${s.key}` : s.kind === "key" ? `[${JSON.stringify(s.key)}]` : "";

function describeCondition(c: Condition): string {
  switch (c.operator) {
    case "equals":
      return `must equal ${JSON.stringify(c.value)}`;
    case "not_equals":
      return `must be set and not equal ${JSON.stringify(c.value)}`;
    case "contains":
      return `must contain ${JSON.stringify(c.value)}`;
    case "not_contains":
      return `must not contain ${JSON.stringify(c.value)}`;
    case "greater_than":
      return `must be greater than ${String(c.value)}`;
    case "less_than":
      return `must be less than ${String(c.value)}`;
    case "regex_match":
      return `must match ${String(c.value)}`;
    case "exists":
      return c.value === false ? "must not be set" : "must be set";
    case "not_exists":
      return "must not be set";
    case "in":
      return `must be one of ${(c.value as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "not_in":
      return `must be set and not one of ${(c.value as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  }
}

/**
 * A regex that only says "starts with / ends with / is / contains this literal" becomes a string test:
 * OPA's WebAssembly runtime compiles every regex on every evaluation, and most registry or naming
 * rules are such literals (^registry\.acme\.com/).
 */
export function literalRegex(pattern: string): { operator: "_prefix" | "_suffix" | "_exact" | "_substring"; literal: string } | null {
  const anchoredStart = pattern.startsWith("^");
  // `$` anchors unless escaped, i.e. preceded by an odd number of backslashes.
  const anchoredEnd = pattern.endsWith("$") && (/(\\*)\$$/.exec(pattern)![1]!.length % 2 === 0);
  const body = pattern.slice(anchoredStart ? 1 : 0, anchoredEnd ? -1 : undefined);
  let literal = "";
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === "\\") {
      const next = body[i + 1];
      if (next === undefined || /[A-Za-z0-9]/.test(next)) return null; // \d, \b, \1... are not literals
      literal += next;
      i++;
    } else if (".^$*+?()[]{}|".includes(ch)) return null;
    else literal += ch;
  }
  if (!literal) return null;
  const operator = anchoredStart && anchoredEnd ? "_exact" : anchoredStart ? "_prefix" : anchoredEnd ? "_suffix" : "_substring";
  return { operator, literal };
}

/**
 * The body of `ok_<n>(value)`: the condition as plain Rego expressions, its operands worked out at
 * compile time (quantities parsed, literal regexes turned into string tests). A generic multi-clause
 * check() function was the largest cost of custom rules in WebAssembly.
 */
export function checkBody(c: Condition): string[] {
  const v = c.value;
  switch (c.operator) {
    case "equals":
      return [`value == ${rego(v)}`];
    case "not_equals":
      return ["value != null", `value != ${rego(v)}`];
    case "contains":
      return [`c.holds_value(value, ${rego(v)})`];
    case "not_contains":
      return ["value != null", `not c.holds_value(value, ${rego(v)})`];
    case "greater_than":
      return [`quantity.parse(value) > ${rego(parseQuantity(v))}`];
    case "less_than":
      return [`quantity.parse(value) < ${rego(parseQuantity(v))}`];
    case "regex_match": {
      const literal = literalRegex(String(v));
      if (!literal) return ["is_string(value)", `regex.match(${rego(v)}, value)`];
      if (literal.operator === "_exact") return [`value == ${rego(literal.literal)}`];
      const test = literal.operator === "_prefix" ? "startswith" : literal.operator === "_suffix" ? "endswith" : "contains";
      return ["is_string(value)", `${test}(value, ${rego(literal.literal)})`];
    }
    case "exists":
      return [v === false ? "value == null" : "value != null"];
    case "not_exists":
      return ["value == null"];
    case "in":
      return ["value != null", `value in ${rego(v)}`];
    case "not_in":
      return ["value != null", `not value in ${rego(v)}`];
  }
}

/**
 * A partial set of the places where condition `c` fails: {"pointer", "path"}. Each [*] becomes a
 * `some i, x in c.indexed(...)`, so every element must satisfy the condition (none: vacuously true).
 */
function failureRule(name: string, c: Condition): string[] {
  const parts = chunks(c.path.segments);
  const body: string[] = [];
  let current = baseOf(c.path);
  const pointer: string[] = [];
  const readable: string[] = [];
  const rootLabel = c.path.root === "object" ? "" : c.path.root;
  if (rootLabel) readable.push(rego(rootLabel));
  let first = !rootLabel;
  parts.forEach((chunk, level) => {
    const keys = chunk.map(keyOf);
    for (const s of chunk) {
      pointer.push(pointerPart(s));
      readable.push(rego(readablePart(s, first)));
      first = false;
    }
    if (level < parts.length - 1) {
      body.push(`\tsome i${level}, x${level} in c.indexed(c.at(${current}, [${keys.join(", ")}]))`);
      pointer.push(`c.segment(i${level})`);
      readable.push(`c.index_label(i${level})`);
      current = `x${level}`;
      first = false;
    } else {
      body.push(`\tvalue := c.at(${current}, [${keys.join(", ")}])`);
    }
  });
  body.push(`\tnot ${name.replace(/failed/, "ok")}(value)`);
  const pointerExpr = c.path.root === "object" ? `concat("/", ["", ${pointer.join(", ")}])` : rego("");
  return [
    `# ${formatFieldPath(c.path)} ${describeCondition(c)}${c.description ? ` (${c.description})` : ""}`,
    `${name.replace(/failed/, "ok")}(value) if {`,
    ...checkBody(c).map((e) => `\t${e}`),
    "}",
    "",
    `${name} contains {"pointer": ${pointerExpr}, "path": concat("", [${readable.join(", ") || '""'}])} if {`,
    ...body,
    "}",
  ];
}

function factsRead(rule: CustomRule): { facts: string[]; context: string[] } {
  const facts = new Set<string>();
  const context = new Set<string>();
  for (const c of [...rule.conditions, ...rule.match]) {
    const first = c.path.segments[0];
    if (first?.kind !== "key") continue;
    if (c.path.root === "facts") facts.add(first.key);
    if (c.path.root === "context") context.add(first.key);
  }
  return { facts: [...facts].sort(), context: [...context].sort() };
}

/** The Rego module of one rule (before `opa fmt`). */
export function generateRego(rule: CustomRule): string {
  const custom: Record<string, unknown> = {
    id: rule.id,
    category: rule.category,
    severity: rule.severity,
    action: rule.action,
    enabled: rule.enabled,
    frameworks: rule.frameworks,
    remediation: rule.remediation,
  };
  if (rule.fix) custom.fix = { risk: rule.fix.risk };
  const lines = [
    `# Generated from ${rule.origin}; do not edit.`,
    "",
    "# METADATA",
    `# title: ${rego(rule.title)}`,
    `# description: ${rego(rule.description)}`,
    `# custom: ${rego(custom)}`,
    `package ${packageName(rule)}`,
    "",
    "import data.lib.custom as c",
    "import data.lib.kubernetes as k8s",
    ...([...rule.conditions, ...rule.match].some((c) => c.operator === "greater_than" || c.operator === "less_than") ? ["import data.lib.quantity"] : []),
    ...(rule.labelSelector ? ["import data.lib.selectors"] : []),
    "",
    "applies if {",
    "\tk8s.is_workload",
  ];
  if (rule.kinds) lines.push(`\tk8s.kind in ${rego(rule.kinds).replace(/^\[/, "{").replace(/\]$/, "}")}`);
  if (rule.namespaces) lines.push("\tin_namespaces");
  if (rule.labelSelector) lines.push(`\tselectors.matches(${rego(rule.labelSelector)}, k8s.labels)`);
  rule.match.forEach((_, i) => lines.push(`\tcount(match_failed_${i}) == 0`));
  lines.push("}", "");
  if (rule.namespaces) {
    for (const pattern of rule.namespaces) lines.push(`in_namespaces if glob.match(${rego(pattern)}, [], k8s.namespace)`, "");
  }
  rule.match.forEach((c, i) => lines.push(...failureRule(`match_failed_${i}`, c), ""));
  rule.conditions.forEach((c, i) => lines.push(...failureRule(`failed_${i}`, c), ""));

  const { facts, context } = factsRead(rule);
  for (const fact of facts) lines.push(`unknown contains ${rego(`facts.${fact}`)} if not c.fact_known(${rego(fact)})`, "");
  for (const key of context) lines.push(`unknown contains ${rego(`context.${key}`)} if not c.context_present(${rego(key)})`, "");
  if (facts.length + context.length === 0) lines.push("unknown := set()", "");

  lines.push(
    `not_evaluated contains {"msg": concat("", [${rego(`${rule.id}: `)}, k8s.workload, " was not checked: ", concat(", ", sort(unknown)), " not known"])} if {`,
    "\tapplies",
    "\tcount(unknown) > 0",
    "}",
    "",
  );
  const fix = rule.fix ? `, "fix": ${rego(rule.fix.patch)}` : "";
  if (rule.combine === "all") {
    rule.conditions.forEach((c, i) => {
      lines.push(
        `violation contains {"msg": concat("", [${rego(`${rule.message} (`)}, failure.path, ${rego(` ${describeCondition(c)})`)}]), "path": failure.pointer${fix}} if {`,
        "\tapplies",
        "\tcount(unknown) == 0",
        `\tsome failure in failed_${i}`,
        "}",
        "",
      );
    });
  } else {
    const summary = rule.conditions.map((c) => `${formatFieldPath(c.path)} ${describeCondition(c)}`).join("; or ");
    lines.push(
      `violation contains {"msg": ${rego(`${rule.message} (none of: ${summary})`)}, "path": ""${fix}} if {`,
      "\tapplies",
      "\tcount(unknown) == 0",
      ...rule.conditions.map((_, i) => `\tcount(failed_${i}) > 0`),
      "}",
      "",
    );
  }
  return lines.join("\n");
}
