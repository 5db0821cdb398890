// Runs the configured scans (`scans: [{name, cron, namespaces?, timezone?}]`) on their node-cron
// schedules inside a serving process. On start it marks scans a dead process left running as
// interrupted and records runs missed while no process was up; while running, a scan still busy when
// its next run comes is not started twice (node-cron's noOverlap, and the store's refusal across processes).
import cron, { type ScheduledTask } from "node-cron";
import { toAppError, type AppError } from "../errors.js";
import type { Runtime } from "../runtime.js";
import { CLUSTER_SCOPE, scopeKey, type ScanRecord } from "../store/scan-store.js";
import { ScanFailedError, runScan, scanStoreFor, takeRecoveredAtOpen, type ScanConfig } from "./scan.js";
import { missedRuns, validateScans } from "./schedule.js";

export interface SchedulerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SchedulerOptions {
  logger?: SchedulerLogger;
  /** The current time (missed-run detection); tests fix it. */
  now?: () => number;
  /** Told about every scheduled run: the stored scan, or why there is none (refused, failed). */
  onRun?: (event: { name: string; scan: ScanRecord | null; error?: AppError }) => void;
}

export interface SchedulerStart {
  /** Scans a dead process had left running, now failed ("interrupted"). */
  interrupted: ScanRecord[];
  /** One failed "missed" scan per configured scan whose runs fell in a downtime. */
  missed: ScanRecord[];
}

const quiet: SchedulerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export class ScanScheduler {
  private readonly tasks = new Map<string, ScheduledTask>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly logger: SchedulerLogger;
  private readonly now: () => number;

  constructor(
    readonly runtime: Runtime,
    private readonly options: SchedulerOptions = {},
  ) {
    this.logger = options.logger ?? quiet;
    this.now = options.now ?? Date.now;
  }

  private readonly cronLogger = {
    info: (message: string) => this.logger.info({ source: "node-cron" }, message),
    // Overlaps and missed executions are reported by the task events below, with the scan's name.
    warn: () => undefined,
    error: (message: string | Error) => this.logger.error({ source: "node-cron" }, String(message)),
    debug: () => undefined,
  };

  get scans(): ScanConfig[] {
    return this.runtime.config.scans ?? [];
  }

  /** Validates the schedules (ConfigError naming /scans/i/...), reports what downtime left behind, starts the timers. */
  start(): SchedulerStart {
    validateScans(this.scans);
    const store = scanStoreFor(this.runtime);
    const interrupted = [...takeRecoveredAtOpen(this.runtime), ...store.recoverInterrupted()];
    for (const scan of interrupted) this.logger.warn({ scan: scan.id, scanName: scan.name }, `scan ${scan.id} (${scan.name}) was interrupted: marked failed`);
    const missed: ScanRecord[] = [];
    const now = this.now();
    for (const scan of this.scans) {
      const last = store.lastActivity(scan.name);
      if (last === null) continue; // never ran: nothing was missed yet
      const gap = missedRuns(scan, last, now);
      if (!gap) continue;
      const record = store.recordMissed({
        name: scan.name,
        cluster: this.runtime.source.clusterName,
        scope: scopeKey(scan.namespaces),
        ruleSetHash: this.runtime.evaluator.bundle.hash,
        firstMissedAt: gap.first,
        count: gap.count,
        lastRunAt: last,
      });
      missed.push(record);
      this.logger.warn({ scan: record.id, scanName: scan.name, missed: gap.count, since: new Date(gap.first).toISOString() }, record.reason ?? "missed runs");
    }
    for (const scan of this.scans) {
      const task = cron.createTask(scan.cron, () => this.fire(scan), {
        name: `kube-policy-scan:${scan.name}`,
        timezone: scan.timezone,
        noOverlap: true,
        // node-cron's own messages go to our log, not to the console (stdout is the MCP transport).
        logger: this.cronLogger,
      });
      task.on("execution:overlap", () => {
        this.logger.warn({ scanName: scan.name }, `scan ${scan.name}: the previous run is still going; this run is refused`);
        this.options.onRun?.({ name: scan.name, scan: null, error: toAppError(new Error("overlapping run refused")) });
      });
      task.on("execution:missed", (ctx) => {
        this.logger.warn({ scanName: scan.name, at: ctx.date.toISOString() }, `scan ${scan.name}: a run was missed (the process was busy)`);
      });
      this.tasks.set(scan.name, task);
      void task.start();
      this.logger.info(
        { scanName: scan.name, cron: scan.cron, scope: scopeKey(scan.namespaces) === CLUSTER_SCOPE ? "cluster" : scan.namespaces, next: task.getNextRun()?.toISOString() },
        `scheduled scan ${scan.name}`,
      );
    }
    return { interrupted, missed };
  }

  /** When each configured scan runs next. */
  nextRuns(): { name: string; next: string | null }[] {
    return [...this.tasks].map(([name, task]) => ({ name, next: task.getNextRun()?.toISOString() ?? null }));
  }

  private fire(scan: ScanConfig): Promise<void> {
    const run = (async () => {
      try {
        const record = await runScan(this.runtime, { name: scan.name, trigger: "schedule" });
        this.logger.info({ scan: record.id, scanName: scan.name, percent: record.compliancePercent, open: record.findings.open, ms: record.durationMs }, `scan ${scan.name} succeeded`);
        this.options.onRun?.({ name: scan.name, scan: record });
      } catch (error) {
        const appError = toAppError(error);
        // Not stored when refused before it started (another run of it is going on).
        const stored = error instanceof ScanFailedError ? error.scan : null;
        this.logger.error({ scanName: scan.name, code: appError.code, err: appError.message, scan: stored?.id }, `scan ${scan.name} ${stored ? "failed" : "was refused"}`);
        this.options.onRun?.({ name: scan.name, scan: stored, error: appError });
      }
    })();
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    return run;
  }

  /** Stops the timers and waits (up to `graceMs`) for running scans; one still running then is marked interrupted by the next start. */
  async stop(graceMs = 30_000): Promise<void> {
    await Promise.all([...this.tasks.values()].map((task) => task.destroy()));
    this.tasks.clear();
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }
}

/** Starts the scheduler when the configuration has scans; null otherwise. */
export function startScheduler(runtime: Runtime, options: SchedulerOptions = {}): { scheduler: ScanScheduler; started: SchedulerStart } | null {
  if (!runtime.config.scans || runtime.config.scans.length === 0) return null;
  const scheduler = new ScanScheduler(runtime, options);
  return { scheduler, started: scheduler.start() };
}
