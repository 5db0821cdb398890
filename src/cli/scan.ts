// kube-policy scan: one compliance scan now (a configured one by --name, or ad-hoc namespaces), stored
// in the history database, with progress on stderr. Exit codes: 0 stored as succeeded, 3 stored as
// failed (cluster unreachable, forbidden), 2 refused (bad arguments, the same scan already running).
import { notifierFor } from "../notify/notifier.js";
import { Runtime } from "../runtime.js";
import { describeScan, runScan, ScanFailedError } from "../scans/scan.js";
import { terminalProgress } from "./progress.js";
import { openSource } from "./serve.js";

export interface ScanCommandOptions {
  namespace?: string[];
  name?: string;
  config?: string;
  kubeconfig?: string;
  context?: string;
  filename?: string[];
  demo?: boolean;
  db?: string;
  format: "text" | "json";
}

export async function scanCommand(options: ScanCommandOptions): Promise<number> {
  const source = await openSource(options);
  const runtime = await Runtime.create({ config: options.config, source, databasePath: options.db });
  const progress = terminalProgress("scan");
  // This process delivers the scan's notifications: it also sends those a stopped process left unfinished.
  const notifier = runtime.config.notifications ? notifierFor(runtime) : undefined;
  notifier?.resumeUnfinished();
  try {
    const scan = await runScan(runtime, { name: options.name, namespaces: options.namespace, trigger: "manual" }, { progress: (done, total) => progress.update(done, total) });
    progress.finish();
    process.stdout.write(options.format === "json" ? `${JSON.stringify(scan, null, 2)}\n` : `${describeScan(scan)}\n`);
    return 0;
  } catch (error) {
    progress.finish();
    if (error instanceof ScanFailedError) {
      if (options.format === "json") process.stdout.write(`${JSON.stringify(error.scan, null, 2)}\n`);
      process.stderr.write(`kube-policy: ${error.describe()}\n`);
      return 3;
    }
    throw error;
  } finally {
    // The deliveries run in the background: the database must stay open until they are recorded.
    await notifier?.idle();
    await runtime.close();
  }
}
