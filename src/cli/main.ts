// The kube-policy command line: thin calls into the policy modules. Errors print as one clear
// message (what and where) without a stack trace; exit codes: 0 ok, 1 strict violations, 2 bad input.
import { Command, Option } from "commander";
import { AppError, toAppError } from "../errors.js";
import { evalCommand } from "./eval.js";
import { rulesCommand } from "./rules.js";
import { reportCommand, type ReportCommandOptions } from "./report.js";
import { scanCommand, type ScanCommandOptions } from "./scan.js";
import { compileCommand, testCommand } from "./custom.js";
import { serveCommand, type ServeOptions } from "./serve.js";
import { notifyTestCommand, registerNotifyHistoryCommand, type NotifyTestOptions } from "./notify.js";
import { registerFixCommands } from "./fix.js";
import { registerAuditCommands } from "./audit.js";
import { registerExemptionsCommand } from "./exemptions.js";
import { registerEffectivenessCommand } from "./effectiveness.js";

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
    .command("compile")
    .description("compile the configuration's custom rules with the built-in ones and print the generated Rego")
    .requiredOption("-c, --config <file>", "policy configuration file with customRules or customRulesDir")
    .action(async (options: { config: string }) => {
      exitCode = await compileCommand(options);
    });
  program
    .command("test")
    .description("run opa test over the built-in library and the custom rules (generated and hand-written, with their _test.rego files)")
    .option("-c, --config <file>", "policy configuration file with customRules or customRulesDir")
    .option("-v, --verbose", "list every test")
    .action(async (options: { config?: string; verbose?: boolean }) => {
      exitCode = await testCommand(options);
    });
  program
    .command("report")
    .description("the compliance report of a cluster, a namespace or manifests (with the trend of stored scans) as text, json, sarif, junit or html")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "sarif", "junit", "html"]).default("text"))
    .option("-n, --namespace <namespace>", "only this namespace (default: the whole cluster)")
    .option("--output <file>", "write the report to this file instead of stdout")
    .addOption(new Option("--junit-by <grouping>", "junit: one testsuite per workload or per rule").choices(["workload", "rule"]).default("workload"))
    .option("-c, --config <file|preset>", "policy configuration file, or production|staging|development")
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--context <name>", "kubeconfig context")
    .option("-f, --filename <path...>", "report on these manifests instead of a cluster")
    .option("--demo", "report on the bundled demo manifests")
    .option("--db <file>", "scan history database (default: storage.path, $KUBE_POLICY_DB, ~/.local/share/kube-policy-mcp)")
    .action(async (options: ReportCommandOptions) => {
      exitCode = await reportCommand(options);
    });
  program
    .command("scan")
    .description("run a compliance scan now and store it in the history (exit 3 when it failed and was stored as failed)")
    .option("-n, --namespace <namespace...>", "scan these namespaces (default: the whole cluster)")
    .option("--name <name>", "a configured scan's name (its namespaces apply), or a name for this ad-hoc scan")
    .option("-c, --config <file|preset>", "policy configuration file, or production|staging|development")
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--context <name>", "kubeconfig context")
    .option("-f, --filename <path...>", "scan these manifests instead of a cluster")
    .option("--demo", "scan the bundled demo manifests")
    .option("--db <file>", "scan history database (default: storage.path, $KUBE_POLICY_DB, ~/.local/share/kube-policy-mcp)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (options: ScanCommandOptions) => {
      exitCode = await scanCommand(options);
    });
  const notify = program.command("notify").description("notifications (Slack, e-mail)");
  notify
    .command("test")
    .description("send a test message to a configured channel and print each delivery attempt (exit 3 when it could not be delivered)")
    .addOption(new Option("--channel <channel>", "the channel to try").choices(["slack", "email"]).makeOptionMandatory())
    .option("-c, --config <file|preset>", "policy configuration file, or production|staging|development")
    .option("--db <file>", "history database the attempts are recorded in (default: storage.path, $KUBE_POLICY_DB, ~/.local/share/kube-policy-mcp)")
    .action(async (options: NotifyTestOptions) => {
      exitCode = await notifyTestCommand(options);
    });
  registerNotifyHistoryCommand(notify, (code: number) => (exitCode = code));
  registerFixCommands(program, (code: number) => (exitCode = code));
  registerAuditCommands(program, (code: number) => (exitCode = code));
  registerExemptionsCommand(program, (code: number) => (exitCode = code));
  registerEffectivenessCommand(program, (code: number) => (exitCode = code));
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
    .option("--admission <port>", "serve the validating admission webhook over HTTPS on this port (POST /admission/validate); alone, without MCP over stdio")
    .option("--admission-host <address>", "address the admission webhook listens on", "127.0.0.1")
    .option("--admission-cert <file>", "webhook serving certificate (PEM); default: a generated development CA and certificate. Re-read while serving: a rotated pair (cert-manager, Secret volume) is served without a restart")
    .option("--admission-key <file>", "private key (PEM) of --admission-cert")
    .option("--admission-reload-interval <seconds>", "how often --admission-cert/--admission-key (and --admission-client-ca) are re-read; 0: only at start-up", "15")
    .option("--admission-client-ca <file>", "require a client certificate (the API server's, see ADMISSION.md) signed by a CA in this PEM bundle on the admission port; /healthz stays open")
    .option("--admission-client-cn <names>", "with --admission-client-ca: comma-separated subject CNs allowed (default: any certificate the CA signed)")
    .option("--no-watch", "do not recompile the rules when the configuration file or custom rule directory changes")
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
