// The kube-policy command line: thin calls into the policy modules. Errors print as one clear
// message (what and where) without a stack trace; exit codes: 0 ok, 1 strict violations, 2 bad input.
import { Command, Option } from "commander";
import { AppError, toAppError } from "../errors.js";
import { evalCommand } from "./eval.js";
import { rulesCommand } from "./rules.js";
import { serveCommand, type ServeOptions } from "./serve.js";

export async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("kube-policy")
    .description("Policy as code for Kubernetes: Rego rules compiled to WebAssembly, served over MCP and HTTP.")
    .showHelpAfterError()
    .exitOverride();

  let exitCode = 0;
  program
    .command("eval")
    .description("evaluate manifests offline (files, directories, or - for stdin)")
    .requiredOption("-f, --filename <path...>", "manifest file or directory; - reads stdin")
    .option("-c, --config <file|preset>", "policy configuration file, or production|staging|development")
    .addOption(new Option("-o, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (options: { filename: string[]; config?: string; format: "text" | "json" }) => {
      exitCode = await evalCommand(options);
    });
  program
    .command("rules")
    .description("list the rule catalogue with this configuration's view of each rule")
    .addOption(new Option("--category <category>", "only this category").choices(["security", "compliance", "performance", "cost", "operations"]))
    .option("-c, --config <file|preset>", "policy configuration file, or production|staging|development")
    .addOption(new Option("-o, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (options: { category?: string; config?: string; format: "text" | "json" }) => {
      exitCode = await rulesCommand(options);
    });

  program
    .command("serve")
    .description("serve the tools over MCP (stdio by default) or HTTP (--http PORT: REST at /tools/<name>, MCP at /mcp)")
    .option("--http <port>", "serve HTTP on this port instead of MCP over stdio")
    .option("--host <address>", "address to listen on (non-loopback needs KUBE_POLICY_TOKEN)", "127.0.0.1")
    .option("-c, --config <file|preset>", "policy configuration file, or production|staging|development")
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--context <name>", "kubeconfig context")
    .option("-f, --filename <path...>", "serve these manifests as a read-only cluster instead")
    .option("--demo", "serve the bundled demo manifests")
    .option("--read-only", "hide the tools that change the cluster")
    .action(async (options: ServeOptions) => {
      exitCode = await serveCommand(options);
    });

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    const e = error as { code?: string; exitCode?: number };
    if (typeof e.code === "string" && e.code.startsWith("commander.")) {
      // commander already printed its message (or the help / version).
      return e.code === "commander.helpDisplayed" || e.code === "commander.version" ? 0 : 2;
    }
    const appError = toAppError(error);
    process.stderr.write(`kube-policy: ${appError.describe()}\n`);
    if (!(error instanceof AppError) && process.env.KUBE_POLICY_DEBUG) console.error(error);
    return 2;
  }
}
