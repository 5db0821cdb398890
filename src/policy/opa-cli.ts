// Runs the real OPA CLI (pinned, installed by scripts/install-opa.sh) to check and compile Rego.
// The server itself needs it only for custom rules; the built-in bundle ships prebuilt in wasm/.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { PolicyCompileError, ToolchainError } from "../errors.js";
import { PACKAGE_ROOT, TOOLS_BIN } from "../paths.js";

const run = promisify(execFile);

export const OPA_VERSION = "1.22.3";

/** The opa binary: $KUBE_POLICY_OPA, the project's .tools/bin/opa, or opa on PATH. */
export function findOpa(): string {
  const candidates = [process.env.KUBE_POLICY_OPA, path.join(TOOLS_BIN, "opa")].filter(
    (p): p is string => typeof p === "string" && p.length > 0,
  );
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "opa");
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new ToolchainError(
    `the OPA CLI is not installed: run 'bash ${path.relative(process.cwd(), path.join(PACKAGE_ROOT, "scripts/install-opa.sh")) || "scripts/install-opa.sh"}' (needs Go) or set KUBE_POLICY_OPA`,
  );
}

/** Runs opa with args; a failure becomes a PolicyCompileError listing OPA's own file:line errors. */
export async function opa(args: string[], options: { cwd?: string; what?: string } = {}): Promise<string> {
  const binary = findOpa();
  try {
    const { stdout } = await run(binary, args, { cwd: options.cwd, maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    const output = `${e.stderr ?? ""}${e.stdout ?? ""}`.trim() || e.message;
    throw new PolicyCompileError(`opa ${args[0]} failed${options.what ? ` for ${options.what}` : ""}`, {
      details: parseOpaErrors(output),
      cause: error,
    });
  }
}

/**
 * OPA prints `file:line: rego_xxx_error: message` (after "N errors occurred:" or "N error occurred during
 * loading:"), each possibly followed by the offending source line and a caret: keep one detail per error,
 * with its location, and drop the excerpts.
 */
export function parseOpaErrors(output: string): { where?: string; message: string }[] {
  const details: { where?: string; message: string }[] = [];
  for (const line of output.split("\n")) {
    const match = /^\s*(?:\d+ errors? occurred(?: during loading)?:\s*)?([^\s:][^:]*\.rego):(\d+)(?::\d+)?:\s*(.*)$/.exec(line);
    if (match) details.push({ where: `${match[1]}:${match[2]}`, message: match[3]!.trim() });
  }
  return details.length > 0 ? details : [{ message: output.trim() }];
}
