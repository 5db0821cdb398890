// kube-policy effectiveness: policy effectiveness per rule from the scan history (text or JSON); exit 0
// (also with no data: the answer says so), 2 on bad input naming the option.
import { existsSync } from "node:fs";
import { Option, type Command } from "commander";
import { loadPolicySetup } from "../policy/setup.js";
import { PolicyEvaluator } from "../policy/evaluator.js";
import { CATEGORIES } from "../policy/types.js";
import { defaultDatabasePath } from "../runtime.js";
import { computePolicyEffectiveness, noEffectivenessData, renderEffectivenessText } from "../scans/effectiveness.js";
import { DEFAULT_TREND_DAYS } from "../scans/trends.js";
import { openDatabase } from "../store/db.js";
import { EffectivenessStore } from "../store/effectiveness-store.js";
import { ScanStore } from "../store/scan-store.js";

export interface EffectivenessOptions {
  days?: string;
  namespace?: string;
  category?: string;
  cluster?: string;
  format: "text" | "json";
  config?: string;
  db?: string;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export async function effectivenessCommand(options: EffectivenessOptions, env: NodeJS.ProcessEnv = process.env, now: number = Date.now()): Promise<number> {
  const refuse = (option: string, message: string) => {
    process.stderr.write(`kube-policy: invalid arguments for effectiveness\n  - ${option}: ${message}\n`);
    return 2;
  };
  const days = options.days === undefined ? DEFAULT_TREND_DAYS : Number(options.days);
  if (!/^\d+$/.test(options.days ?? "30") || !Number.isInteger(days) || days < 1 || days > 3650) {
    return refuse("--days", `expected a whole number of days from 1 to 3650, got ${JSON.stringify(options.days)}`);
  }
  if (options.namespace !== undefined && !NAMESPACE.test(options.namespace)) {
    return refuse("--namespace", `${JSON.stringify(options.namespace)} is not a Kubernetes namespace name (lower case letters, digits and '-', at most 63)`);
  }
  const { config, bundle } = await loadPolicySetup(options.config);
  const file = options.db ?? defaultDatabasePath(config, env);
  const namespace = options.namespace ?? null;
  const write = (effectiveness: ReturnType<typeof computePolicyEffectiveness>, cluster: string) => {
    if (options.format === "json") {
      process.stdout.write(`${JSON.stringify({ namespace, category: options.category ?? null, days, effectiveness }, null, 2)}\n`);
    } else process.stdout.write(effectiveness ? renderEffectivenessText(effectiveness) : noEffectivenessData(cluster, namespace, days));
    return 0;
  };
  if (file !== ":memory:" && !existsSync(file)) return write(null, options.cluster ?? "any cluster");
  const db = openDatabase(file);
  try {
    const clusters = new EffectivenessStore(db).clusters();
    let cluster = options.cluster;
    if (cluster === undefined) {
      if (clusters.length > 1) return refuse("--cluster", `the database holds scans of several clusters (${clusters.join(", ")}): name one`);
      cluster = clusters[0] ?? "any cluster";
    }
    const rules = new PolicyEvaluator(bundle, config)
      .catalogue()
      .map((r) => ({ id: r.id, category: r.category, severity: r.effectiveSeverity, enabled: r.enabled }));
    const result = computePolicyEffectiveness(new ScanStore(db), { cluster, namespace, category: options.category ?? null, days, now, rules });
    return write(result, cluster);
  } finally {
    db.close();
  }
}

export function registerEffectivenessCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command("effectiveness")
    .description("policy effectiveness per rule from the scan history: open, opened, resolved (by kube-policy fix or otherwise), time to resolve, recurrence, rankings")
    .option("--days <n>", `period in days (default ${DEFAULT_TREND_DAYS})`)
    .option("-n, --namespace <namespace>", "only this namespace (default: the whole cluster)")
    .addOption(new Option("--category <category>", "only the rules of this category").choices([...CATEGORIES]))
    .option("--cluster <name>", "the cluster whose scans to read (default: the only one in the database)")
    .addOption(new Option("-o, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .option("-c, --config <file|preset>", "policy configuration file, or production|staging|development")
    .option("--db <file>", "scan history database (default: storage.path, $KUBE_POLICY_DB, ~/.local/share/kube-policy-mcp)")
    .action(async (options: EffectivenessOptions) => {
      setExitCode(await effectivenessCommand(options));
    });
}
