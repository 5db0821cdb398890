// kube-policy compile | test: the authoring loop for custom rules.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { findOpa } from "../policy/opa-cli.js";
import { REGO_DIR } from "../paths.js";
import { loadPolicySetup } from "../policy/setup.js";

/** Prints the Rego generated from the configuration's JSON rules (formatted, as compiled). */
export async function compileCommand(options: { config?: string }): Promise<number> {
  const setup = await loadPolicySetup(options.config);
  if (!setup.compiled) {
    process.stderr.write(`kube-policy: ${setup.configSource} defines no custom rules (customRules or customRulesDir)\n`);
    return 0;
  }
  const dir = setup.compiled.generatedDir;
  const files = existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith(".rego")).sort() : [];
  for (const file of files) process.stdout.write(`${await readFile(path.join(dir, file), "utf8")}\n`);
  const custom = setup.bundle.catalogue.filter((e) => e.source === "custom");
  process.stderr.write(
    `kube-policy: ${custom.length} custom rule(s) compiled with the ${setup.bundle.catalogue.length - custom.length} built-in ones (bundle ${setup.compiled.hash}${setup.compiled.cached ? ", from cache" : ""})\n`,
  );
  return 0;
}

/** Runs `opa test` over the built-in library, the generated rules and the hand-written ones with their tests. */
export async function testCommand(options: { config?: string; verbose?: boolean }): Promise<number> {
  const setup = await loadPolicySetup(options.config);
  const dirs = [REGO_DIR];
  if (setup.compiled && existsSync(setup.compiled.generatedDir)) dirs.push(setup.compiled.generatedDir);
  if (setup.config.customRulesDir) dirs.push(path.resolve(path.dirname(setup.configSource), setup.config.customRulesDir));
  const args = ["test", ...(options.verbose ? ["-v"] : []), ...dirs];
  return new Promise((resolve, reject) => {
    const child = spawn(findOpa(), args, { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code) => resolve(code ?? 1));
  });
}
