// kube-policy notify test: sends a test message to a configured channel (the same delivery, retries and
// recording as real alerts) and prints each attempt. Needs only the configuration and the history
// database, not a cluster. Exit codes: 0 delivered, 3 every attempt failed, 2 bad configuration.
// kube-policy notify history: the stored notifications with every attempt, filtered (text or JSON); exit 2
// for a bad filter, each problem named by its option.
import { namespaceAllowed } from "../policy/enforcement.js";
import { Option, type Command } from "commander";
import { loadConfig } from "../config/load.js";
import { InvalidInputError } from "../errors.js";
import { DeliveryError } from "../notify/delivery.js";
import { configuredSecrets, historyText, notificationHistory, parseHistoryQuery, type HistoryQuery } from "../notify/history.js";
import { Notifier, type NotifyLogger } from "../notify/notifier.js";
import { defaultDatabasePath } from "../runtime.js";
import { openDatabase } from "../store/db.js";
import { NotificationStore } from "../store/notification-store.js";
import { logger } from "../logger.js";

export interface NotifyTestOptions {
  channel: "slack" | "email";
  config?: string;
  db?: string;
}

// The command prints the attempts itself; JSON log lines on stderr only when LOG_LEVEL asks for them.
const quiet: NotifyLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export async function notifyTestCommand(options: NotifyTestOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { config, source } = await loadConfig(options.config);
  const db = openDatabase(options.db ?? defaultDatabasePath(config, env));
  try {
    const notifier = new Notifier({
      store: new NotificationStore(db),
      config: config.notifications,
      env,
      logger: env.LOG_LEVEL ? logger.child({ component: "notifications" }) : quiet,
    });
    try {
      const result = await notifier.sendTest(options.channel, "cli");
      for (const a of result.attempts) {
        process.stdout.write(`attempt ${a.attempt}: ${a.status}${a.statusCode !== null ? ` (${a.statusCode})` : ""}${a.error ? `: ${a.error}` : ""}\n`);
      }
      process.stdout.write(`Test notification sent to ${options.channel} (configuration ${source}).\n`);
      return 0;
    } catch (error) {
      if (!(error instanceof DeliveryError)) throw error;
      process.stderr.write(`kube-policy: ${error.describe()}\n`);
      return 3;
    }
  } finally {
    db.close();
  }
}

export interface NotifyHistoryOptions extends Omit<HistoryQuery, "limit"> {
  limit?: string;
  format: "text" | "json";
  config?: string;
  db?: string;
}

const OPTION_OF: Record<string, string> = { eventType: "--event-type" };
const optionName = (field: string) => OPTION_OF[field] ?? `--${field}`;

export async function notifyHistoryCommand(options: NotifyHistoryOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let filter;
  try {
    filter = parseHistoryQuery(options);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    process.stderr.write(`kube-policy: ${error.message}\n${error.details.map((d) => `  - ${optionName(d.where ?? "")}: ${d.message}\n`).join("")}`);
    return 2;
  }
  const { config } = await loadConfig(options.config);
  const db = openDatabase(options.db ?? defaultDatabasePath(config, env));
  try {
    const result = notificationHistory(new NotificationStore(db), filter, configuredSecrets(config.notifications, env), (ns) => namespaceAllowed(ns, config));
    process.stdout.write(options.format === "json" ? `${JSON.stringify(result, null, 2)}\n` : historyText(result));
    return 0;
  } finally {
    db.close();
  }
}

/** Adds `history` under the `notify` command. */
export function registerNotifyHistoryCommand(notify: Command, setExitCode: (code: number) => void): void {
  notify
    .command("history")
    .description("list the notifications sent or tried, newest first, with every delivery attempt (no webhook URL or SMTP secret is shown)")
    .option("--channel <channel>", "only slack or email")
    .option("--to <target>", "only messages to this Slack channel (#alerts) or e-mail recipient")
    .option("--status <status>", "only pending, retrying, sent or failed")
    .option("--event-type <type>", "only messages carrying this event type (scan-new-violations, score-dropped, fix-applied, ...)")
    .option("--kind <kind>", "only alert, digest or test messages")
    .option("--since <time>", "created at or after (ISO 8601 date or date-time)")
    .option("--until <time>", "created at or before (ISO 8601 date or date-time)")
    .option("--limit <n>", "at most this many (default 20, at most 500)")
    .addOption(new Option("-o, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .option("-c, --config <file|preset>", "policy configuration file, or production|staging|development")
    .option("--db <file>", "history database (default: storage.path, $KUBE_POLICY_DB, ~/.local/share/kube-policy-mcp)")
    .action(async (options: NotifyHistoryOptions) => {
      setExitCode(await notifyHistoryCommand(options));
    });
}
