// Loads and validates the policy configuration: JSON Schema first (every error as a JSON path and a
// reason), then the checks a schema cannot express (known rule ids, parseable quantities).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createRequire } from "node:module";
import { parseDocument } from "yaml";
import { ConfigError, type ErrorDetail } from "../errors.js";
import { CONFIG_DIR } from "../paths.js";
import { parseQuantity } from "../policy/quantity.js";
import type { LoadedConfig, PolicyConfig } from "./types.js";
import { fsReason, yamlMessage } from "../manifests/load.js";

const require = createRequire(import.meta.url);
const Ajv = require("ajv") as typeof import("ajv").default;
const addFormats = require("ajv-formats") as typeof import("ajv-formats").default;

export const SCHEMA_PATH = path.join(CONFIG_DIR, "policies", "schema.json");
export const PRESETS = ["production", "staging", "development"] as const;

let validator: import("ajv").ValidateFunction | undefined;

async function schemaValidator(): Promise<import("ajv").ValidateFunction> {
  if (!validator) {
    const schema = JSON.parse(await readFile(SCHEMA_PATH, "utf8")) as object;
    // verbose: format errors quote the offending value (see formatMessage).
    const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
    addFormats(ajv);
    validator = ajv.compile(schema);
  }
  return validator;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The reason for a value that breaks a string format, clearer than ajv's `must match format "email"`.
 * URLs are not quoted: the only URL in the configuration is a webhook URL, which is a secret.
 */
function formatMessage(format: string, value: unknown): string | undefined {
  if (format === "email") return `${JSON.stringify(value)} is not an e-mail address (expected name@example.com)`;
  if (format === "uri") {
    return "is not an absolute http(s) URL (expected https://hooks.slack.com/services/T000/B000/XXXX); the value is not shown because a webhook URL is a secret";
  }
  return undefined;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "";
  } catch {
    return false;
  }
}

/** Validates a parsed configuration; throws ConfigError listing every problem. */
export async function validateConfig(
  value: unknown,
  source: string,
  options: { knownRuleIds?: Set<string> } = {},
): Promise<PolicyConfig> {
  const validate = await schemaValidator();
  const details: ErrorDetail[] = [];
  if (!validate(value)) {
    for (const error of validate.errors ?? []) {
      const where = error.instancePath || "/";
      let message = error.message ?? "is invalid";
      if (error.keyword === "additionalProperties") {
        message = `unknown field ${JSON.stringify((error.params as { additionalProperty: string }).additionalProperty)}`;
      } else if (error.keyword === "enum") {
        message = `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
      } else if (error.keyword === "format" || (error.keyword === "pattern" && where.endsWith("/webhookUrl"))) {
        message = formatMessage(error.keyword === "format" ? (error.params as { format: string }).format : "uri", error.data) ?? message;
      }
      // A webhook URL can break both its format and its pattern: one line per field and reason.
      if (!details.some((d) => d.where === where && d.message === message)) details.push({ where, message });
    }
  }
  // The checks a schema cannot express run on whatever is well-formed, so one pass lists every problem.
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const config = value as PolicyConfig;
    const settings = (isObject(config.settings) ? config.settings : {}) as Record<string, unknown>;
    const quantities: [string, unknown][] = [
      ["/settings/maxCpuLimit", settings.maxCpuLimit],
      ["/settings/maxMemoryLimit", settings.maxMemoryLimit],
      ...Object.entries((isObject(settings.defaults) ? settings.defaults : {}) as Record<string, unknown>).map(
        ([k, v]) => [`/settings/defaults/${k}`, v] as [string, unknown],
      ),
    ];
    for (const [where, q] of quantities) {
      if (q !== undefined && parseQuantity(q) === undefined) {
        details.push({ where, message: `${JSON.stringify(q)} is not a Kubernetes quantity (e.g. 500m, 2, 1.5Gi)` });
      }
    }
    // ajv-formats' "uri" accepts "https://" and out-of-range ports; the URL parser the webhook client uses does not.
    const webhookUrl = isObject(config.notifications) && isObject(config.notifications.slack) ? config.notifications.slack.webhookUrl : undefined;
    if (typeof webhookUrl === "string" && !isHttpUrl(webhookUrl)) {
      const where = "/notifications/slack/webhookUrl";
      const message = formatMessage("uri", webhookUrl)!;
      if (!details.some((d) => d.where === where && d.message === message)) details.push({ where, message });
    }
    const defaults = (isObject(settings.defaults) ? settings.defaults : {}) as Record<string, unknown>;
    for (const resource of ["cpu", "memory"] as const) {
      const request = parseQuantity(defaults[`${resource}Request`]);
      const limit = parseQuantity(defaults[`${resource}Limit`]);
      if (request !== undefined && limit !== undefined && request > limit) {
        details.push({
          where: `/settings/defaults/${resource}Request`,
          message: `the default ${resource} request is above the default ${resource} limit: fixes would produce invalid pods`,
        });
      }
    }
    if (options.knownRuleIds) {
      const custom = new Set((Array.isArray(config.customRules) ? config.customRules : []).map((r) => r?.id));
      const known = (id: unknown) => typeof id !== "string" || options.knownRuleIds!.has(id) || custom.has(id);
      for (const id of Object.keys(isObject(config.ruleOverrides) ? config.ruleOverrides : {})) {
        if (!known(id)) details.push({ where: `/ruleOverrides/${id}`, message: `unknown rule id ${JSON.stringify(id)}` });
      }
      for (const [i, exemption] of (Array.isArray(config.exemptions) ? config.exemptions : []).entries()) {
        for (const [j, id] of (Array.isArray(exemption?.rules) ? exemption.rules : []).entries()) {
          if (id !== "*" && !known(id)) {
            details.push({ where: `/exemptions/${i}/rules/${j}`, message: `unknown rule id ${JSON.stringify(id)}` });
          }
        }
      }
      const approvalRules = config.autoFixPolicy?.requireApproval?.rules;
      for (const [i, id] of (Array.isArray(approvalRules) ? approvalRules : []).entries()) {
        if (!known(id)) {
          details.push({ where: `/autoFixPolicy/requireApproval/rules/${i}`, message: `unknown rule id ${JSON.stringify(id)}` });
        }
      }
    }
  }
  if (details.length > 0) {
    throw new ConfigError(`invalid policy configuration ${source}: ${details.length} problem(s)`, { details });
  }
  return value as PolicyConfig;
}

/**
 * Loads a configuration file (JSON or YAML) or a preset name (production, staging, development).
 * Syntax errors name the file, line and column.
 */
export async function loadConfig(
  fileOrPreset: string | undefined,
  options: { knownRuleIds?: Set<string> } = {},
): Promise<LoadedConfig> {
  if (!fileOrPreset) return { config: {}, source: "(built-in default)" };
  const file = (PRESETS as readonly string[]).includes(fileOrPreset)
    ? path.join(CONFIG_DIR, "policies", `${fileOrPreset}.json`)
    : fileOrPreset;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read policy configuration ${file}: ${fsReason(error)}`, {
      cause: error,
    });
  }
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(`policy configuration ${file} is not valid JSON or YAML`, {
      details: document.errors.map((e) => ({
        where: `${file}:${e.linePos?.[0]?.line ?? "?"}:${e.linePos?.[0]?.col ?? "?"}`,
        message: yamlMessage(e.message),
      })),
    });
  }
  const value = document.toJS() as unknown;
  const config = await validateConfig(value ?? {}, file, options);
  return { config, source: file };
}
