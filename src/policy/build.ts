// Compiles Rego directories into one WebAssembly bundle with `opa build -t wasm`, and writes the
// rule catalogue read from the METADATA annotations beside it.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, mkdir, readFile, rm, writeFile, rename } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { PolicyCompileError } from "../errors.js";
import { catalogueFromInspect, RULE_ROOT, type InspectOutput } from "./catalogue.js";
import { opa, OPA_VERSION } from "./opa-cli.js";
import { PACKAGE_ROOT } from "../paths.js";
import { ENTRYPOINT, ENTRYPOINTS, generateEntrypoint, scanRulePackages } from "./entrypoint.js";
import type { CatalogueEntry } from "./types.js";

const run = promisify(execFile);


export interface BundleRoot {
  /** Directory of .rego files (tests, *_test.rego, are left out of the bundle). */
  dir: string;
  source: CatalogueEntry["source"];
  /** How files of this root are named in the catalogue (default: relative to cwd). */
  label?: string;
  /** Names a file of this root (path relative to the root) for the catalogue and messages; overrides label. */
  fileLabel?: (relativeFile: string) => string;
}

export interface BuiltBundle {
  wasm: Buffer;
  catalogue: CatalogueEntry[];
}

/** Runs `opa check --strict` and `opa fmt --list` on the roots; lists every problem with file and line. */
export async function checkRego(dirs: string[]): Promise<void> {
  await opa(["check", "--strict", ...dirs], { what: dirs.join(", ") });
  const unformatted = (await opa(["fmt", "--list", ...dirs])).trim();
  if (unformatted) {
    throw new PolicyCompileError("Rego files are not opa fmt-clean (run opa fmt -w)", {
      details: unformatted.split("\n").map((file) => ({ where: file, message: "not formatted" })),
    });
  }
}

/**
 * Compiles the roots into policy.wasm + catalogue in memory. The generated entrypoint is written under
 * entryDir (default: the package's git-ignored .build/), in a folder named by its content hash: OPA
 * embeds source paths in the wasm, so the same rules must always compile from the same path.
 */
export async function buildBundle(roots: BundleRoot[], options: { entryDir?: string } = {}): Promise<BuiltBundle> {
  const work = await mkdtemp(path.join(os.tmpdir(), "kube-policy-build-"));
  try {
    const tarball = path.join(work, "bundle.tar.gz");
    const packages = new Map<string, { notEvaluated: boolean }>();
    for (const root of roots) for (const [pkg, info] of await scanRulePackages(root.dir)) packages.set(pkg, info);
    const entry = generateEntrypoint(packages);
    const entryDir = path.join(
      options.entryDir ?? path.join(PACKAGE_ROOT, ".build"),
      `entry-${createHash("sha256").update(entry).digest("hex").slice(0, 12)}`,
    );
    await mkdir(entryDir, { recursive: true });
    await writeFile(path.join(entryDir, "main.rego"), entry);
    // Roots inside the package are passed relative to it: OPA embeds source paths in the wasm, and the
    // committed bundle must not depend on where the clone lives. Annotation paths map back by prefix.
    const args = [...roots.map((r) => bundleArg(r.dir)), bundleArg(entryDir)];
    await opa(["build", "-t", "wasm", ...ENTRYPOINTS.flatMap((e) => ["-e", e]), "--ignore", "*_test.rego", "-o", tarball, ...args], {
      cwd: PACKAGE_ROOT,
      what: roots.map((r) => r.dir).join(", "),
    });
    await run("tar", ["-xzf", tarball, "-C", work]);
    const wasm = await readFile(path.join(work, "policy.wasm"));
    const inspect = JSON.parse(await opa(["inspect", "-a", "--format", "json", tarball])) as InspectOutput;
    const catalogue: CatalogueEntry[] = [];
    for (const [i, root] of roots.entries()) {
      const prefix = `/${args[i]!.replace(/^\//, "")}/`;
      const label = root.label ?? path.relative(process.cwd(), root.dir);
      const mine = { annotations: (inspect.annotations ?? []).filter((a) => a.location.file.startsWith(prefix)) };
      catalogue.push(
        ...catalogueFromInspect(mine, {
          source: root.source,
          fileOf: (file) => (root.fileLabel ? root.fileLabel(file.slice(prefix.length)) : path.join(label, file.slice(prefix.length))),
        }),
      );
    }
    return { wasm, catalogue: dedupeCheck(catalogue) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function bundleArg(dir: string): string {
  const relative = path.relative(PACKAGE_ROOT, path.resolve(dir));
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : path.resolve(dir);
}

function dedupeCheck(entries: CatalogueEntry[]): CatalogueEntry[] {
  const byId = new Map<string, CatalogueEntry>();
  const details: { where: string; message: string }[] = [];
  for (const entry of entries) {
    const other = byId.get(entry.id);
    if (other) {
      details.push({
        where: `${entry.file} (${entry.id})`,
        message:
          other.source === "built-in" && entry.source === "custom"
            ? `rule id ${entry.id} shadows the built-in rule of the same id (${other.file})`
            : `rule id ${entry.id} is already defined in ${other.file}`,
      });
    } else byId.set(entry.id, entry);
  }
  if (details.length > 0) throw new PolicyCompileError("duplicate rule ids", { details });
  return entries;
}

export interface BundleManifest {
  opaVersion: string;
  entrypoint: string;
  rules: number;
  ruleRoot: string;
}

/** Writes policy.wasm, catalogue.json and manifest.json into outDir atomically (temp files, then rename). */
export async function writeBundle(outDir: string, bundle: BuiltBundle): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const manifest: BundleManifest = {
    opaVersion: OPA_VERSION,
    entrypoint: ENTRYPOINT,
    rules: bundle.catalogue.length,
    ruleRoot: RULE_ROOT,
  };
  const files: [string, Buffer | string][] = [
    ["policy.wasm", bundle.wasm],
    ["catalogue.json", `${JSON.stringify(bundle.catalogue, null, 2)}\n`],
    ["manifest.json", `${JSON.stringify(manifest, null, 2)}\n`],
  ];
  for (const [name, content] of files) {
    const tmp = path.join(outDir, `.${name}.tmp`);
    await writeFile(tmp, content);
    await rename(tmp, path.join(outDir, name));
  }
}
