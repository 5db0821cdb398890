// `kube-policy <args>` in a child process of its own, for the tests of the command line: the compiled
// bin/kube-policy.js over dist/ (what users run; npm test builds dist/ first) or src/cli/main.ts through
// tsx (no build needed). KUBE_POLICY_DEBUG is always removed: it adds stack traces, which the tests
// check are absent.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** "bin" (default): bin/kube-policy.js over dist/; "src": src/cli/main.ts through tsx. */
  from?: "bin" | "src";
  /** Variables to set on top of this process's environment; undefined removes one. */
  env?: Record<string, string | undefined>;
  /** Standard input (default: empty, closed at once). */
  stdin?: string;
}

const FROM_SRC = 'import { main } from "./src/cli/main.ts"; process.exitCode = await main(process.argv.slice(1));';

export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.KUBE_POLICY_DEBUG;
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const argv = options.from === "src" ? ["--import", "tsx", "--input-type=module", "-e", FROM_SRC, ...args] : ["bin/kube-policy.js", ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? "");
  });
}
