// The rule catalogue: each rule's facts, read from the METADATA annotations of its Rego package
// (`opa inspect -a`), checked here so a malformed annotation fails the build with file and field.
import { PolicyCompileError, type ErrorDetail } from "../errors.js";
import { CATEGORIES, FIX_RISKS, SEVERITIES, type CatalogueEntry, type Category } from "./types.js";

/** Root of rule packages: data.kubepolicy.<category-or-group>.<rule>. */
export const RULE_ROOT = "kubepolicy";

interface InspectAnnotation {
  annotations: {
    scope?: string;
    title?: string;
    description?: string;
    custom?: Record<string, unknown>;
  };
  location: { file: string; row: number };
  path: { type: string; value: string }[];
}

export interface InspectOutput {
  annotations?: InspectAnnotation[];
}

const CATEGORY_ORDER = new Map<string, number>(CATEGORIES.map((c, i) => [c, i]));

export function sortCatalogue(entries: CatalogueEntry[]): CatalogueEntry[] {
  return [...entries].sort(
    (a, b) =>
      (CATEGORY_ORDER.get(a.category) ?? 99) - (CATEGORY_ORDER.get(b.category) ?? 99) ||
      (a.source === b.source ? 0 : a.source === "built-in" ? -1 : 1) ||
      a.id.localeCompare(b.id),
  );
}

/** Builds catalogue entries from `opa inspect -a --format json`; every problem is listed, none half-kept. */
export function catalogueFromInspect(
  inspect: InspectOutput,
  options: { source: CatalogueEntry["source"]; fileOf?: (bundlePath: string) => string },
): CatalogueEntry[] {
  const errors: ErrorDetail[] = [];
  const entries: CatalogueEntry[] = [];
  const seen = new Map<string, string>();
  for (const annotation of inspect.annotations ?? []) {
    const segments = annotation.path.slice(1).map((p) => p.value);
    if (segments[0] !== RULE_ROOT || segments.length !== 3 || annotation.annotations.scope !== "package") continue;
    const file = options.fileOf ? options.fileOf(annotation.location.file) : annotation.location.file.replace(/^\//, "");
    const where = `${file}:${annotation.location.row}`;
    const custom = annotation.annotations.custom ?? {};
    const problems: string[] = [];
    const text = (value: unknown, field: string): string => {
      if (typeof value === "string" && value.trim()) return value.trim();
      problems.push(`METADATA ${field} must be a non-empty string`);
      return "";
    };
    const id = text(custom.id, "custom.id");
    const title = text(annotation.annotations.title, "title");
    const description = text(annotation.annotations.description, "description");
    const remediation = text(custom.remediation, "custom.remediation");
    const category = custom.category as string;
    if (!CATEGORIES.includes(category as Category)) {
      problems.push(`METADATA custom.category must be one of ${CATEGORIES.join(", ")} (got ${JSON.stringify(category)})`);
    }
    const severity = custom.severity as string;
    if (!SEVERITIES.includes(severity as CatalogueEntry["severity"])) {
      problems.push(`METADATA custom.severity must be one of ${SEVERITIES.join(", ")} (got ${JSON.stringify(severity)})`);
    }
    const frameworks: Record<string, string[]> = {};
    const rawFrameworks = custom.frameworks ?? {};
    if (typeof rawFrameworks !== "object" || rawFrameworks === null || Array.isArray(rawFrameworks)) {
      problems.push("METADATA custom.frameworks must map framework names to lists of control ids");
    } else {
      for (const [framework, controls] of Object.entries(rawFrameworks)) {
        if (!Array.isArray(controls) || !controls.every((c) => typeof c === "string" || typeof c === "number")) {
          problems.push(`METADATA custom.frameworks.${framework} must be a list of control ids`);
        } else frameworks[framework] = controls.map(String);
      }
    }
    let fixRisk: CatalogueEntry["fixRisk"] = null;
    if (custom.fix !== undefined && custom.fix !== null) {
      const risk = (custom.fix as { risk?: unknown }).risk;
      if (!FIX_RISKS.includes(risk as (typeof FIX_RISKS)[number])) {
        problems.push(`METADATA custom.fix.risk must be one of ${FIX_RISKS.join(", ")} (got ${JSON.stringify(risk)})`);
      } else fixRisk = risk as CatalogueEntry["fixRisk"];
    }
    const action = custom.action === "warn" ? "warn" : "deny";
    if (custom.action !== undefined && custom.action !== "warn" && custom.action !== "deny") {
      problems.push(`METADATA custom.action must be deny or warn (got ${JSON.stringify(custom.action)})`);
    }
    if (id) {
      const other = seen.get(id);
      if (other) problems.push(`rule id ${id} is already defined in ${other}`);
      else seen.set(id, where);
    }
    if (problems.length > 0) {
      for (const message of problems) errors.push({ where: `${where} (${segments.join(".")})`, message });
      continue;
    }
    entries.push({
      id,
      title,
      description,
      category: category as Category,
      severity: severity as CatalogueEntry["severity"],
      frameworks,
      remediation,
      fixRisk,
      action,
      source: options.source,
      enabledByDefault: custom.enabled !== false,
      package: segments.join("."),
      file,
    });
  }
  if (errors.length > 0) {
    throw new PolicyCompileError(`${errors.length} problem(s) in rule METADATA`, { details: errors });
  }
  return sortCatalogue(entries);
}
