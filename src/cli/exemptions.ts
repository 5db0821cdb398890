// kube-policy exemptions: the list_exemptions tool from a terminal, over a cluster (--kubeconfig,
// --context), manifests (-f) or the demo. Exit 0 listed, 2 bad input (a bad filter names the option).
import { Option, type Command } from "commander";
import { InvalidInputError } from "../errors.js";
import { renderExemptionsText } from "../report/exemptions.js";
import { Runtime } from "../runtime.js";
import { exemptionsData } from "../tools/exemptions.js";
import { openSource } from "./serve.js";

export interface ExemptionsCommandOptions {
  namespace?: string;
  status?: string;
  expiringWithin?: string;
  ruleId?: string;
  format: "text" | "json";
  config?: string;
  kubeconfig?: string;
  context?: string;
  filename?: string[];
  demo?: boolean;
}

const OPTION_OF: Record<string, string> = { namespace: "--namespace", status: "--status", expiringWithinDays: "--expiring-within", ruleId: "--rule" };

export async function exemptionsCommand(options: ExemptionsCommandOptions): Promise<number> {
  const source = await openSource(options);
  const runtime = await Runtime.create({ config: options.config, source });
  try {
    const args: Record<string, unknown> = {};
    if (options.namespace !== undefined) args.namespace = options.namespace;
    if (options.status !== undefined) args.status = options.status;
    if (options.expiringWithin !== undefined) args.expiringWithinDays = options.expiringWithin;
    if (options.ruleId !== undefined) args.ruleId = options.ruleId;
    let list;
    try {
      list = await exemptionsData(runtime, args);
    } catch (error) {
      // Name the command-line option rather than the tool's argument.
      if (error instanceof InvalidInputError) {
        throw new InvalidInputError(error.message.replace(/^invalid exemption filter: .*/, "invalid exemptions option(s)"), {
          details: error.details.map((d) => ({ where: OPTION_OF[d.where ?? ""] ?? d.where, message: d.message })),
        });
      }
      throw error;
    }
    process.stdout.write(options.format === "json" ? `${JSON.stringify(list, null, 2)}\n` : renderExemptionsText(list));
    return 0;
  } finally {
    await runtime.close();
  }
}

export function registerExemptionsCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command("exemptions")
    .description("list every exemption (configuration and workload annotations) with its status and the findings it suppresses now")
    .option("-n, --namespace <namespace>", "only exemptions that apply in this namespace")
    .option("--status <status>", "active | expiring | expired | invalid")
    .option("--expiring-within <days>", "an exemption ending within this many days is expiring", "14")
    .option("--rule <rule-id>", "only exemptions naming this rule (or *)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .option("-c, --config <file|preset>", "policy configuration file, or production|staging|development")
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--context <name>", "kubeconfig context")
    .option("-f, --filename <path...>", "list the exemptions of these manifests instead of a cluster")
    .option("--demo", "list the exemptions of the bundled demo manifests")
    .action(async (options: ExemptionsCommandOptions & { rule?: string }) => {
      setExitCode(await exemptionsCommand({ ...options, ruleId: options.rule }));
    });
}
