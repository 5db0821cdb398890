// Compiles custom rules (JSON rules of the configuration and of customRulesDir, hand-written .rego in
// customRulesDir) together with the built-in catalogue into one WebAssembly bundle. Bundles are cached
// by content hash: a restart with the same rules loads the cached bundle and needs no OPA at all.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseDocument } from "yaml";
import type { CustomRuleJson, PolicyConfig } from "../../config/types.js";
import { PolicyCompileError, type ErrorDetail } from "../../errors.js";
import { REGO_DIR, WASM_DIR } from "../../paths.js";
import { buildBundle, writeBundle, type BundleRoot } from "../build.js";
import { PolicyBundle } from "../bundle.js";
import { opa, OPA_VERSION } from "../opa-cli.js";
import { PolicyEngine } from "../engine.js";
import { generateRego } from "./generate.js";
import { normaliseRules, type CustomRule, type RuleSource } from "./rules.js";

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(env.HOME ?? os.homedir(), ".cache"), "kube-policy-mcp", "bundles");
}

export interface CustomRuleSet {
  rules: CustomRule[];
  /** Generated Rego by rule id (before opa fmt). */
  generated: Map<string, string>;
  /** Hand-written .rego files: path → content. */
  regoFiles: Map<string, string>;
  regoDir: string | null;
}

async function listFiles(dir: string, extensions: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full, extensions)));
    else if (extensions.some((e) => entry.name.endsWith(e))) out.push(full);
  }
  return out.sort();
}

/** JSON rule files of a directory: {"customRules": [...]} or a bare list of rules. */
async function ruleFiles(dir: string): Promise<RuleSource[]> {
  const sources: RuleSource[] = [];
  const problems: ErrorDetail[] = [];
  for (const file of await listFiles(dir, [".json", ".yaml", ".yml"])) {
    const document = parseDocument(await readFile(file, "utf8"));
    if (document.errors.length > 0) {
      const e = document.errors[0]!;
      problems.push({ where: `${file}:${e.linePos?.[0]?.line ?? "?"}`, message: e.message.split("\n")[0]! });
      continue;
    }
    const value = document.toJS() as unknown;
    const list = Array.isArray(value) ? value : (value as { customRules?: unknown } | null)?.customRules;
    if (!Array.isArray(list)) {
      problems.push({ where: file, message: 'expected {"customRules": [...]} or a list of rules' });
      continue;
    }
    list.forEach((rule, i) => sources.push({ rule: rule as CustomRuleJson, file, pointer: Array.isArray(value) ? `/${i}` : `/customRules/${i}` }));
  }
  if (problems.length > 0) throw new PolicyCompileError("cannot read custom rule files", { details: problems });
  return sources;
}

/** Gathers and checks every custom rule of a configuration (nothing is compiled yet). */
export async function loadCustomRules(config: PolicyConfig, configFile: string, builtIn: PolicyBundle): Promise<CustomRuleSet> {
  const sources: RuleSource[] = (config.customRules ?? []).map((rule, i) => ({ rule, file: configFile, pointer: `/customRules/${i}` }));
  let regoDir: string | null = null;
  const regoFiles = new Map<string, string>();
  if (config.customRulesDir) {
    regoDir = path.resolve(path.dirname(configFile === "(built-in default)" ? "." : configFile), config.customRulesDir);
    if (!existsSync(regoDir)) {
      throw new PolicyCompileError(`customRulesDir ${regoDir} does not exist`, { details: [{ where: "/customRulesDir", message: "no such directory" }] });
    }
    sources.push(...(await ruleFiles(regoDir)));
    for (const file of await listFiles(regoDir, [".rego"])) regoFiles.set(file, await readFile(file, "utf8"));
  }
  const engine = new PolicyEngine(builtIn);
  const rules = normaliseRules(sources, new Set(builtIn.catalogue.map((e) => e.id)), (pattern) => engine.regexValid(pattern));
  return { rules, generated: new Map(rules.map((r) => [r.id, generateRego(r)])), regoFiles, regoDir };
}

/** A content hash of everything that goes into the bundle. */
export function ruleSetHash(set: CustomRuleSet, builtInWasm: Buffer): string {
  const hash = createHash("sha256").update(OPA_VERSION).update(builtInWasm);
  for (const [id, text] of [...set.generated].sort(([a], [b]) => a.localeCompare(b))) hash.update(`\0gen:${id}\0${text}`);
  for (const [file, text] of [...set.regoFiles].sort(([a], [b]) => a.localeCompare(b))) hash.update(`\0rego:${path.basename(file)}\0${text}`);
  return hash.digest("hex").slice(0, 24);
}

export interface CompiledRules {
  bundle: PolicyBundle;
  hash: string;
  /** True when the bundle came from the cache (no OPA run). */
  cached: boolean;
  dir: string;
  /** Where the formatted generated Rego was written (for kube-policy test). */
  generatedDir: string;
}

/**
 * Builds (or loads from the cache) the bundle of built-in + custom rules. A rule set that does not
 * compile throws a PolicyCompileError naming files and lines, and leaves the cache untouched.
 */
export async function compileCustomRules(set: CustomRuleSet, options: { cacheDir?: string } = {}): Promise<CompiledRules> {
  const builtInWasm = await readFile(path.join(WASM_DIR, "policy.wasm"));
  const hash = ruleSetHash(set, builtInWasm);
  const dir = path.join(options.cacheDir ?? defaultCacheDir(), hash);
  const generatedDir = path.join(dir, "generated");
  if (existsSync(path.join(dir, "policy.wasm")) && existsSync(path.join(dir, "catalogue.json"))) {
    return { bundle: await PolicyBundle.load(dir), hash, cached: true, dir, generatedDir };
  }
  const work = `${dir}.build-${process.pid}-${Date.now()}`;
  const workGenerated = path.join(work, "generated");
  await mkdir(workGenerated, { recursive: true });
  try {
    for (const [id, text] of set.generated) await writeFile(path.join(workGenerated, `${id.replace(/-/g, "_")}.rego`), text);
    if (set.generated.size > 0) await opa(["fmt", "-w", workGenerated], { what: "generated custom rules" });
    const roots: BundleRoot[] = [{ dir: REGO_DIR, source: "built-in", label: "rego" }];
    // Generated rules are named by their origin (file#id) in the catalogue and in messages, not by the temp file.
    const originByFile = new Map(set.rules.map((r) => [`${r.id.replace(/-/g, "_")}.rego`, r.origin]));
    if (set.generated.size > 0) {
      roots.push({ dir: workGenerated, source: "custom", fileLabel: (file) => originByFile.get(file) ?? file });
    }
    if (set.regoDir && set.regoFiles.size > 0) roots.push({ dir: set.regoDir, source: "custom", label: set.regoDir });
    await opa(["check", "--strict", ...roots.map((r) => r.dir)], { what: "custom rules" });
    const built = await buildBundle(roots, { entryDir: path.join(work, "entry") });
    await writeBundle(work, built);
    await mkdir(path.dirname(dir), { recursive: true });
    // Another process may have built the same rule set meanwhile: the first complete bundle wins.
    if (!existsSync(path.join(dir, "policy.wasm"))) {
      await rm(dir, { recursive: true, force: true });
      try {
        await rename(work, dir);
      } catch (error) {
        if (!existsSync(path.join(dir, "policy.wasm"))) throw error;
      }
    }
    await rm(work, { recursive: true, force: true });
    return { bundle: await PolicyBundle.load(dir), hash, cached: false, dir, generatedDir };
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}
