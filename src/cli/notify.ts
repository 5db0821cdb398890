// kube-policy notify test: sends a test message to a configured channel (the same delivery, retries and
// recording as real alerts) and prints each attempt. Needs only the configuration and the history
// database, not a cluster. Exit codes: 0 delivered, 3 every attempt failed, 2 bad configuration.
import { loadConfig } from "../config/load.js";
import { DeliveryError } from "../notify/delivery.js";
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
