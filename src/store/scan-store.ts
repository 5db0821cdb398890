// The scan history repository: every SQL statement about scans, findings, scores and trends lives
// here (store/ owns the schema). Callers pass plain values and get plain records back; the policy of
// what counts as resolved stays in scans/, which hands this module a classifier.
//
// Writes: begin() inserts the "running" row in a short transaction of its own (so a scan killed mid-way
// leaves a trace that recoverInterrupted() turns into "failed: interrupted"); complete() then writes the
// whole result — finding lifecycle, scores, counts, the scan row — in one transaction.
import { hash } from "node:crypto";
import os from "node:os";
import { AppError } from "../errors.js";
import type { Db } from "./db.js";

export class ScanBusyError extends AppError {
  static override code = "scan_running";
  static override status = 409;
}

export type ScanStatus = "running" | "succeeded" | "failed";
export const SCAN_STATUSES = ["running", "succeeded", "failed"] as const;
export type ScanTrigger = "schedule" | "manual" | "missed";
export const RESOLUTIONS = ["fixed", "exempted", "excluded", "workload-removed", "rule-disabled"] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/** The whole cluster, or these namespaces (sorted, deduplicated). */
export const CLUSTER_SCOPE = "*";

export function scopeKey(namespaces: readonly string[] | null | undefined): string {
  if (!namespaces || namespaces.length === 0) return CLUSTER_SCOPE;
  return [...new Set(namespaces)].sort().join(",");
}

export function scopeNamespaces(scope: string): string[] | null {
  return scope === CLUSTER_SCOPE ? null : scope.split(",");
}

export interface ScanRecord {
  id: number;
  name: string;
  trigger: ScanTrigger;
  cluster: string;
  /** null: the whole cluster. */
  namespaces: string[] | null;
  ruleSetHash: string;
  status: ScanStatus;
  reason: string | null;
  errorCode: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  owner: string;
  workloads: { total: number; evaluated: number; passed: number; failed: number; skipped: number };
  compliancePercent: number | null;
  findings: { open: number; new: number; resolved: number };
  warnings: { where?: string; message: string }[];
}

/** An open finding (violation or warning) as a scan saw it. */
export interface FindingInput {
  ruleId: string;
  severity: string;
  category: string;
  outcome: "violation" | "warning";
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  pointer: string;
  message: string;
}

/** A finding the series had open that this scan did not see: what scans/ decides about it. */
export interface OpenFindingRow {
  id: number;
  identity: string;
  ruleId: string;
  severity: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface ScoreInput {
  /** "" for the scan's whole scope. */
  namespace: string;
  dimension: "overall" | "category" | "framework";
  key: string;
  percent: number | null;
  passed: number;
  failed: number;
}

export interface ScanResultInput {
  finishedAt?: number;
  workloads: ScanRecord["workloads"];
  compliancePercent: number | null;
  warnings: ScanRecord["warnings"];
  /** Iterated once: a generator saves holding a second copy of every finding. */
  findings: Iterable<FindingInput>;
  /** Workloads evaluated (and failed) per namespace. */
  namespaces: { namespace: string; workloads: number; failed: number }[];
  scores: ScoreInput[];
  /** An open finding this scan did not see: keep it open (not judged this time) or resolve it, and why. */
  classify: (row: OpenFindingRow) => Resolution | "keep";
}

export interface StoreOptions {
  /** Who runs scans from this process: "host:pid". */
  owner?: string;
  /** Whether a running scan's owner still lives (default: same host and the pid answers signal 0). */
  ownerAlive?: (owner: string, heartbeatAt: number) => boolean;
  clock?: () => number;
}

/** A heartbeat older than this marks a running scan as abandoned whatever its owner looks like (pid reuse, other hosts). */
export const STALE_HEARTBEAT_MS = 15 * 60 * 1000;

export function defaultOwner(): string {
  return `${os.hostname()}:${process.pid}`;
}

export function ownerAliveOnThisHost(owner: string, heartbeatAt: number, now: number = Date.now()): boolean {
  if (now - heartbeatAt > STALE_HEARTBEAT_MS) return false;
  const at = owner.lastIndexOf(":");
  const host = owner.slice(0, at);
  const pid = Number(owner.slice(at + 1));
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0) return true; // cannot tell: trust the heartbeat
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The identity of a finding within a series: rule, workload, and the field (or the message when the rule names none). */
export function findingIdentity(f: Pick<FindingInput, "ruleId" | "kind" | "namespace" | "name" | "pointer" | "message">): string {
  // One-shot hash: a scan hashes every finding it saw, a hundred thousand on a large cluster.
  return hash("sha1", `${f.ruleId}\u0000${f.kind}\u0000${f.namespace}\u0000${f.name}\u0000${f.pointer || `msg:${f.message}`}`, "base64url").slice(0, 22);
}

interface ScanRow {
  id: number;
  name: string;
  trigger: ScanTrigger;
  cluster: string;
  scope: string;
  rule_set_hash: string;
  status: ScanStatus;
  reason: string | null;
  error_code: string | null;
  started_at: number;
  finished_at: number | null;
  duration_ms: number | null;
  owner: string;
  heartbeat_at: number;
  workloads_total: number;
  workloads_evaluated: number;
  workloads_passed: number;
  workloads_failed: number;
  workloads_skipped: number;
  compliance_percent: number | null;
  findings_open: number;
  findings_new: number;
  findings_resolved: number;
  warnings: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function toRecord(row: ScanRow): ScanRecord {
  let warnings: ScanRecord["warnings"] = [];
  try {
    warnings = JSON.parse(row.warnings) as ScanRecord["warnings"];
  } catch {
    warnings = [{ message: "stored warnings are not valid JSON" }];
  }
  return {
    id: row.id,
    name: row.name,
    trigger: row.trigger,
    cluster: row.cluster,
    namespaces: scopeNamespaces(row.scope),
    ruleSetHash: row.rule_set_hash,
    status: row.status,
    reason: row.reason,
    errorCode: row.error_code,
    startedAt: iso(row.started_at)!,
    finishedAt: iso(row.finished_at),
    durationMs: row.duration_ms,
    owner: row.owner,
    workloads: {
      total: row.workloads_total,
      evaluated: row.workloads_evaluated,
      passed: row.workloads_passed,
      failed: row.workloads_failed,
      skipped: row.workloads_skipped,
    },
    compliancePercent: row.compliance_percent,
    findings: { open: row.findings_open, new: row.findings_new, resolved: row.findings_resolved },
    warnings,
  };
}

const SEVERITY_COLUMNS = ["critical", "high", "medium", "low"] as const;

export interface SeriesRef {
  cluster: string;
  scope: string;
}

export interface TrendPointRow {
  scanId: number;
  at: number;
  workloads: number;
  workloadsFailed: number;
  open: number;
  new: number;
  resolved: number;
  bySeverity: Record<(typeof SEVERITY_COLUMNS)[number], number>;
}

export interface FindingChangeRow {
  ruleId: string;
  severity: string;
  kind: string;
  namespace: string;
  name: string;
  pointer: string;
  message: string;
  firstSeenAt: number;
  resolvedAt: number | null;
  resolution: string | null;
}

export class ScanStore {
  readonly owner: string;
  private readonly ownerAlive: (owner: string, heartbeatAt: number) => boolean;
  private readonly clock: () => number;

  constructor(
    readonly db: Db,
    options: StoreOptions = {},
  ) {
    this.owner = options.owner ?? defaultOwner();
    this.clock = options.clock ?? Date.now;
    this.ownerAlive = options.ownerAlive ?? ((owner, heartbeatAt) => ownerAliveOnThisHost(owner, heartbeatAt, this.clock()));
  }

  /**
   * Marks the running scans whose process is gone (killed, crashed, host rebooted) as failed with reason
   * "interrupted"; their end is the last heartbeat. Safe to call at any time: live scans are left alone.
   */
  recoverInterrupted(): ScanRecord[] {
    const rows = this.db.prepare("SELECT * FROM scans WHERE status = 'running'").all() as ScanRow[];
    const dead = rows.filter((row) => !this.ownerAlive(row.owner, row.heartbeat_at));
    if (dead.length === 0) return [];
    const mark = this.db.prepare(
      "UPDATE scans SET status = 'failed', reason = ?, error_code = 'interrupted', finished_at = heartbeat_at, duration_ms = heartbeat_at - started_at WHERE id = ? AND status = 'running'",
    );
    this.db.transaction(() => {
      for (const row of dead) {
        mark.run(`interrupted: the process running it (${row.owner}) stopped before the scan finished; last sign of life ${iso(row.heartbeat_at)}`, row.id);
      }
    })();
    return dead.map((row) => this.get(row.id)!);
  }

  /** Starts a scan: refused while a scan of the same name runs in a live process. */
  begin(start: { name: string; trigger: ScanTrigger; cluster: string; scope: string; ruleSetHash: string; startedAt?: number }): ScanRecord {
    const now = start.startedAt ?? this.clock();
    const id = this.db
      .transaction(() => {
        const running = this.db.prepare("SELECT * FROM scans WHERE status = 'running' AND name = ?").all(start.name) as ScanRow[];
        const live = running.find((row) => this.ownerAlive(row.owner, row.heartbeat_at));
        if (live) {
          throw new ScanBusyError(
            `scan ${JSON.stringify(start.name)} is already running (scan ${live.id}, started ${iso(live.started_at)} by ${live.owner}); overlapping runs are refused`,
          );
        }
        return Number(
          this.db
            .prepare(
              "INSERT INTO scans (name, trigger, cluster, scope, rule_set_hash, status, started_at, owner, heartbeat_at) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?)",
            )
            .run(start.name, start.trigger, start.cluster, start.scope, start.ruleSetHash, now, this.owner, now).lastInsertRowid,
        );
      })
      .immediate();
    return this.get(id)!;
  }

  heartbeat(id: number): void {
    this.db.prepare("UPDATE scans SET heartbeat_at = ? WHERE id = ? AND status = 'running'").run(this.clock(), id);
  }

  fail(id: number, reason: string, errorCode: string | null = null): ScanRecord {
    const now = this.clock();
    this.db
      .prepare(
        "UPDATE scans SET status = 'failed', reason = ?, error_code = ?, finished_at = ?, duration_ms = ? - started_at, heartbeat_at = ? WHERE id = ? AND status = 'running'",
      )
      .run(reason, errorCode, now, now, now, id);
    return this.get(id)!;
  }

  /** Records scheduled runs that never happened (the process was down): a failed scan row saying so. */
  recordMissed(missed: { name: string; cluster: string; scope: string; ruleSetHash: string; firstMissedAt: number; count: number; lastRunAt: number }): ScanRecord {
    const now = this.clock();
    const reason = `missed ${missed.count} scheduled run(s) from ${iso(missed.firstMissedAt)} on: no kube-policy process was running since the last run at ${iso(missed.lastRunAt)}`;
    const id = Number(
      this.db
        .prepare(
          "INSERT INTO scans (name, trigger, cluster, scope, rule_set_hash, status, reason, error_code, started_at, finished_at, duration_ms, owner, heartbeat_at) VALUES (?, 'missed', ?, ?, ?, 'failed', ?, 'missed', ?, ?, 0, ?, ?)",
        )
        .run(missed.name, missed.cluster, missed.scope, missed.ruleSetHash, reason, missed.firstMissedAt, now, this.owner, now).lastInsertRowid,
    );
    return this.get(id)!;
  }

  /**
   * Stores a finished scan in one transaction: findings not open before are opened, open ones still seen
   * are marked seen, the others are resolved or kept as `classify` says; scores and counts are written
   * and the scan row is closed as succeeded.
   */
  complete(id: number, result: ScanResultInput): ScanRecord {
    // When the scan observed what it stores: first seen and resolved times of its findings.
    const finishedAt = result.finishedAt ?? this.clock();
    const scan = this.db.prepare("SELECT * FROM scans WHERE id = ?").get(id) as ScanRow | undefined;
    if (!scan) throw new AppError(`scan ${id} does not exist`);
    const { cluster, scope } = scan;

    const write = this.db.transaction(() => {
      const current = this.db.prepare("SELECT status FROM scans WHERE id = ?").get(id) as { status: ScanStatus };
      if (current.status !== "running") throw new AppError(`scan ${id} is ${current.status}, not running: its result cannot be stored`);
      // The scan that saw, last, the open findings whose last_seen is NULL.
      const previous = this.db
        .prepare("SELECT id, finished_at FROM scans WHERE cluster = ? AND scope = ? AND status = 'succeeded' ORDER BY finished_at DESC, id DESC LIMIT 1")
        .get(cluster, scope) as { id: number; finished_at: number } | undefined;
      // What every open finding needs for the diff, read from the covering index alone (as arrays, not
      // objects: a large cluster has a hundred thousand); the rest only for the few the scan did not see.
      type OpenRow = [id: number, firstSeenAt: number, lastSeenScan: number | null];
      const open = new Map<string, OpenRow>();
      for (const [identity, ...row] of this.db
        .prepare(
          "SELECT identity, id, first_seen_at, last_seen_scan FROM findings INDEXED BY findings_open_diff WHERE cluster = ? AND scope = ? AND resolved_at IS NULL",
        )
        .raw(true)
        .all(cluster, scope) as [string, ...OpenRow][]) {
        open.set(identity, row);
      }
      const details = this.db.prepare(
        "SELECT id, identity, rule_id AS ruleId, severity, kind, namespace, name, last_seen_at AS lastSeenAt FROM findings WHERE id = ?",
      );

      type Counts = { open: number; new: number; resolved: number } & Record<(typeof SEVERITY_COLUMNS)[number], number>;
      type RuleCount = { open: number; oldest: number };
      type Tally = { counts: Counts; rules: Map<string, Map<string, RuleCount>> }; // rule → severity → count
      const tallies = new Map<string, Tally>(); // "" is the whole scope
      const tallyFor = (namespace: string): Tally => {
        let t = tallies.get(namespace);
        if (!t) tallies.set(namespace, (t = { counts: { open: 0, new: 0, resolved: 0, critical: 0, high: 0, medium: 0, low: 0 }, rules: new Map() }));
        return t;
      };
      const countsFor = (namespace: string): Counts => tallyFor(namespace).counts;
      const bump = (t: Tally, ruleId: string, severity: string, firstSeenAt: number, isNew: boolean) => {
        const c = t.counts;
        c.open++;
        if (isNew) c.new++;
        if (severity === "critical" || severity === "high" || severity === "medium" || severity === "low") c[severity]++;
        let bySeverity = t.rules.get(ruleId);
        if (!bySeverity) t.rules.set(ruleId, (bySeverity = new Map()));
        const r = bySeverity.get(severity);
        if (!r) bySeverity.set(severity, { open: 1, oldest: firstSeenAt });
        else {
          r.open++;
          if (firstSeenAt < r.oldest) r.oldest = firstSeenAt;
        }
      };
      const whole = tallyFor("");
      // Findings arrive workload by workload: remember the last namespace's tally.
      let lastNamespace: string | undefined;
      let lastTally = whole;
      const countOpen = (namespace: string, ruleId: string, severity: string, firstSeenAt: number, isNew: boolean) => {
        if (namespace !== lastNamespace) {
          lastNamespace = namespace;
          lastTally = tallyFor(namespace);
        }
        bump(whole, ruleId, severity, firstSeenAt, isNew);
        bump(lastTally, ruleId, severity, firstSeenAt, isNew);
      };
      for (const n of result.namespaces) countsFor(n.namespace);

      const seen = new Set<string>();
      const insert = this.db.prepare(
        `INSERT INTO findings (cluster, scope, identity, rule_id, severity, category, outcome, api_version, kind, namespace, name, pointer, message,
           first_seen_scan, first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const seenAgain = this.db.prepare("UPDATE findings SET last_seen_scan = NULL, last_seen_at = NULL WHERE id = ?");
      for (const f of result.findings) {
        const identity = findingIdentity(f);
        if (seen.has(identity)) continue; // the same field reported twice by one rule: one finding
        seen.add(identity);
        const known = open.get(identity);
        if (known) {
          if (known[2] !== null) seenAgain.run(known[0]); // kept unjudged before, seen again now
          countOpen(f.namespace, f.ruleId, f.severity, known[1], false);
        } else {
          insert.run(cluster, scope, identity, f.ruleId, f.severity, f.category, f.outcome, f.apiVersion, f.kind, f.namespace, f.name, f.pointer, f.message, id, finishedAt);
          countOpen(f.namespace, f.ruleId, f.severity, finishedAt, true);
        }
      }

      const resolve = this.db.prepare(
        "UPDATE findings SET resolved_scan = ?, resolved_at = ?, resolution = ?, last_seen_scan = ?, last_seen_at = ? WHERE id = ?",
      );
      const keep = this.db.prepare("UPDATE findings SET last_seen_scan = ?, last_seen_at = ? WHERE id = ?");
      for (const [identity, [rowId, firstSeenAt, previousLastSeen]] of open) {
        if (seen.has(identity)) continue;
        const row = details.get(rowId) as OpenFindingRow & { lastSeenAt: number | null };
        const lastSeenScan = previousLastSeen ?? previous?.id ?? null;
        const lastSeenAt = row.lastSeenAt ?? previous?.finished_at ?? null;
        const decision = result.classify(row);
        if (decision === "keep") {
          if (previousLastSeen === null) keep.run(lastSeenScan, lastSeenAt, row.id);
          countOpen(row.namespace, row.ruleId, row.severity, firstSeenAt, false);
          continue;
        }
        resolve.run(id, finishedAt, decision, lastSeenScan, lastSeenAt, row.id);
        for (const c of [countsFor(""), countsFor(row.namespace)]) c.resolved++;
      }

      const score = this.db.prepare("INSERT INTO scan_scores (scan_id, namespace, dimension, key, percent, passed, failed) VALUES (?, ?, ?, ?, ?, ?, ?)");
      for (const s of result.scores) score.run(id, s.namespace, s.dimension, s.key, s.percent, s.passed, s.failed);

      const workloads = new Map(result.namespaces.map((n) => [n.namespace, n]));
      const count = this.db.prepare(
        "INSERT INTO scan_counts (scan_id, namespace, workloads, workloads_failed, open, new, resolved, critical, high, medium, low) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      );
      for (const [namespace, { counts: c }] of tallies) {
        const w = namespace === "" ? { workloads: result.workloads.evaluated, failed: result.workloads.failed } : workloads.get(namespace);
        count.run(id, namespace, w?.workloads ?? 0, w?.failed ?? 0, c.open, c.new, c.resolved, c.critical, c.high, c.medium, c.low);
      }
      const ruleCount = this.db.prepare(
        "INSERT INTO scan_rule_counts (scan_id, namespace, rule_id, severity, open, oldest_first_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
      );
      for (const [namespace, t] of tallies) {
        for (const [ruleId, bySeverity] of t.rules) for (const [severity, r] of bySeverity) ruleCount.run(id, namespace, ruleId, severity, r.open, r.oldest);
      }

      const total = countsFor("");
      // The scan itself ends once its result is written, this transaction included.
      const done = result.finishedAt ?? this.clock();
      this.db
        .prepare(
          `UPDATE scans SET status = 'succeeded', finished_at = ?, duration_ms = ? - started_at, heartbeat_at = ?,
             workloads_total = ?, workloads_evaluated = ?, workloads_passed = ?, workloads_failed = ?, workloads_skipped = ?,
             compliance_percent = ?, findings_open = ?, findings_new = ?, findings_resolved = ?, warnings = ? WHERE id = ?`,
        )
        .run(
          done,
          done,
          done,
          result.workloads.total,
          result.workloads.evaluated,
          result.workloads.passed,
          result.workloads.failed,
          result.workloads.skipped,
          result.compliancePercent,
          total.open,
          total.new,
          total.resolved,
          JSON.stringify(result.warnings),
          id,
        );
    });
    write.immediate();
    return this.get(id)!;
  }

  get(id: number): ScanRecord | null {
    const row = this.db.prepare("SELECT * FROM scans WHERE id = ?").get(id) as ScanRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** Newest first. */
  list(options: { limit?: number; status?: ScanStatus; name?: string } = {}): ScanRecord[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (options.status) {
      where.push("status = ?");
      params.push(options.status);
    }
    if (options.name) {
      where.push("name = ?");
      params.push(options.name);
    }
    const sql = `SELECT * FROM scans ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY started_at DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, options.limit ?? 20) as ScanRow[]).map(toRecord);
  }

  /** When a scan of this name last showed activity (finished, or its last heartbeat); null if it never ran. */
  lastActivity(name: string): number | null {
    const row = this.db.prepare("SELECT MAX(MAX(started_at, COALESCE(finished_at, heartbeat_at))) AS at FROM scans WHERE name = ?").get(name) as {
      at: number | null;
    };
    return row.at;
  }

  /** Drops scans that started before the cutoff (with their scores and counts) and findings resolved before it. */
  applyRetention(retentionDays: number, now: number = this.clock()): { scans: number; findings: number } {
    const cutoff = now - retentionDays * 86_400_000;
    return this.db.transaction(() => {
      const scans = this.db.prepare("DELETE FROM scans WHERE started_at < ? AND status != 'running'").run(cutoff).changes;
      const findings = this.db.prepare("DELETE FROM findings WHERE resolved_at IS NOT NULL AND resolved_at < ?").run(cutoff).changes;
      return { scans, findings };
    })();
  }

  // ---- trend queries ----

  /**
   * The series whose history answers for a scope: for the whole cluster, the cluster-wide scans; for a
   * namespace, scans of exactly that namespace, else cluster-wide scans, else the series that scanned it most.
   */
  seriesFor(cluster: string, namespace: string | null, since: number): SeriesRef | null {
    if (namespace === null) {
      const row = this.db
        .prepare("SELECT 1 AS found FROM scans WHERE cluster = ? AND scope = ? AND status = 'succeeded' AND started_at >= ? LIMIT 1")
        .get(cluster, CLUSTER_SCOPE, since);
      return row ? { cluster, scope: CLUSTER_SCOPE } : null;
    }
    const rows = this.db
      .prepare(
        `SELECT s.scope AS scope, COUNT(*) AS scans FROM scan_counts c JOIN scans s ON s.id = c.scan_id
         WHERE c.namespace = ? AND s.cluster = ? AND s.status = 'succeeded' AND s.started_at >= ? GROUP BY s.scope`,
      )
      .all(namespace, cluster, since) as { scope: string; scans: number }[];
    if (rows.length === 0) return null;
    const pick = rows.find((r) => r.scope === namespace) ?? rows.find((r) => r.scope === CLUSTER_SCOPE) ?? [...rows].sort((a, b) => b.scans - a.scans)[0]!;
    return { cluster, scope: pick.scope };
  }

  /** Succeeded scans of a series since a time, oldest first, with their counts for the whole scope ("") or one namespace. */
  trendPoints(series: SeriesRef, namespace: string, since: number): TrendPointRow[] {
    const rows = this.db
      .prepare(
        `SELECT s.id AS scanId, s.started_at AS at, c.workloads, c.workloads_failed AS workloadsFailed, c.open, c.new, c.resolved,
                c.critical, c.high, c.medium, c.low
         FROM scans s JOIN scan_counts c ON c.scan_id = s.id AND c.namespace = ?
         WHERE s.cluster = ? AND s.scope = ? AND s.status = 'succeeded' AND s.started_at >= ? ORDER BY s.started_at, s.id`,
      )
      .all(namespace, series.cluster, series.scope, since) as (Omit<TrendPointRow, "bySeverity"> & Record<(typeof SEVERITY_COLUMNS)[number], number>)[];
    return rows.map(({ critical, high, medium, low, ...rest }) => ({ ...rest, bySeverity: { critical, high, medium, low } }));
  }

  /** Scores of the succeeded scans of a series since a time, for the whole scope ("") or one namespace. */
  trendScores(series: SeriesRef, namespace: string, since: number): (ScoreInput & { scanId: number })[] {
    return this.db
      .prepare(
        `SELECT sc.scan_id AS scanId, sc.namespace, sc.dimension, sc.key, sc.percent, sc.passed, sc.failed
         FROM scans s JOIN scan_scores sc ON sc.scan_id = s.id AND sc.namespace = ?
         WHERE s.cluster = ? AND s.scope = ? AND s.status = 'succeeded' AND s.started_at >= ? ORDER BY s.started_at, s.id`,
      )
      .all(namespace, series.cluster, series.scope, since) as (ScoreInput & { scanId: number })[];
  }

  /** Failed scans of a series since a time. */
  failedScans(series: SeriesRef, since: number): number {
    return (
      this.db
        .prepare("SELECT COUNT(*) AS n FROM scans WHERE cluster = ? AND scope = ? AND status = 'failed' AND started_at >= ?")
        .get(series.cluster, series.scope, since) as { n: number }
    ).n;
  }

  /**
   * How long the findings resolved since a time had been open, per rule and severity or per severity:
   * count, mean, median and longest, in milliseconds. Aggregated by SQLite (median() of its percentile
   * extension) over the covering index, so the rows never cross into JavaScript.
   */
  resolutionStats(
    series: SeriesRef,
    namespace: string | null,
    since: number,
    by: "rule" | "severity",
  ): { ruleId: string | null; severity: string; resolved: number; meanMs: number; medianMs: number; maxMs: number }[] {
    const group = by === "rule" ? "rule_id, severity" : "severity";
    const sql = `SELECT ${by === "rule" ? "rule_id" : "NULL"} AS ruleId, severity, COUNT(*) AS resolved, AVG(resolved_at - first_seen_at) AS meanMs,
                   median(resolved_at - first_seen_at) AS medianMs, MAX(resolved_at - first_seen_at) AS maxMs
                 FROM findings WHERE cluster = ? AND scope = ? ${namespace === null ? "" : "AND namespace = ?"} AND resolved_at >= ? GROUP BY ${group}`;
    const params = namespace === null ? [series.cluster, series.scope, since] : [series.cluster, series.scope, namespace, since];
    return this.db.prepare(sql).all(...params) as { ruleId: string | null; severity: string; resolved: number; meanMs: number; medianMs: number; maxMs: number }[];
  }

  /** Findings open after a scan per rule and severity, with the oldest first-seen time (whole scope: namespace ""). */
  openByRule(scanId: number, namespace: string): { ruleId: string; severity: string; open: number; oldest: number }[] {
    return this.db
      .prepare("SELECT rule_id AS ruleId, severity, open, oldest_first_seen_at AS oldest FROM scan_rule_counts WHERE scan_id = ? AND namespace = ?")
      .all(scanId, namespace) as { ruleId: string; severity: string; open: number; oldest: number }[];
  }

  /** The findings a scan opened ("new") or resolved, most severe first, at most `limit`. */
  changesOf(scanId: number, kind: "new" | "resolved", namespace: string | null, limit: number): FindingChangeRow[] {
    const column = kind === "new" ? "first_seen_scan" : "resolved_scan";
    const sql = `SELECT rule_id AS ruleId, severity, kind, namespace, name, pointer, message, first_seen_at AS firstSeenAt, resolved_at AS resolvedAt, resolution
                 FROM findings WHERE ${column} = ? ${namespace === null ? "" : "AND namespace = ?"}
                 ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, rule_id, namespace, name LIMIT ?`;
    const params = namespace === null ? [scanId, limit] : [scanId, namespace, limit];
    return this.db.prepare(sql).all(...params) as FindingChangeRow[];
  }

  // ---- dashboard and metrics queries (src/http/dashboard, src/http/metrics.ts) ----

  /** The newest succeeded scan of each series, of one cluster or of all, newest first. */
  latestSucceededPerSeries(cluster: string | null = null): ScanRecord[] {
    const rows = this.db
      .prepare(
        `SELECT s.* FROM scans s WHERE s.status = 'succeeded' AND (@cluster IS NULL OR s.cluster = @cluster)
           AND s.id = (SELECT l.id FROM scans l WHERE l.cluster = s.cluster AND l.scope = s.scope AND l.status = 'succeeded' ORDER BY l.started_at DESC, l.id DESC LIMIT 1)
         ORDER BY s.started_at DESC, s.id DESC`,
      )
      .all({ cluster }) as ScanRow[];
    return rows.map(toRecord);
  }

  /** Scores of one scan: its whole scope (namespace "") and each namespace in it. */
  scoresOfScan(scanId: number): ScoreInput[] {
    return this.db
      .prepare("SELECT namespace, dimension, key, percent, passed, failed FROM scan_scores WHERE scan_id = ? ORDER BY namespace, dimension, key")
      .all(scanId) as ScoreInput[];
  }

  /** Workload and finding counts of one scan: its whole scope (namespace "") and each namespace in it. */
  countsOfScan(scanId: number): ScanCountRow[] {
    const rows = this.db
      .prepare(
        `SELECT namespace, workloads, workloads_failed AS workloadsFailed, open, new, resolved, critical, high, medium, low
         FROM scan_counts WHERE scan_id = ? ORDER BY namespace`,
      )
      .all(scanId) as (Omit<ScanCountRow, "bySeverity"> & Record<(typeof SEVERITY_COLUMNS)[number], number>)[];
    return rows.map(({ critical, high, medium, low, ...rest }) => ({ ...rest, bySeverity: { critical, high, medium, low } }));
  }

  /** Open findings of a series counted per namespace, rule, severity and category, with the workloads they are on. */
  openFindingGroups(series: SeriesRef, filter: Pick<FindingFilter, "namespaces"> = {}): OpenFindingGroup[] {
    const where = findingWhere(series, filter);
    return this.db
      .prepare(
        `SELECT namespace, rule_id AS ruleId, severity, category, COUNT(*) AS open, COUNT(DISTINCT kind || '/' || name) AS workloads
         FROM findings WHERE ${where.sql} GROUP BY namespace, rule_id, severity, category`,
      )
      .all(...where.params) as OpenFindingGroup[];
  }

  /** The workloads with the most severe open findings in a series, at most `limit`. */
  openByWorkload(series: SeriesRef, filter: Pick<FindingFilter, "namespaces">, limit: number): WorkloadFindingCount[] {
    const where = findingWhere(series, filter);
    const rows = this.db
      .prepare(
        `SELECT kind, namespace, name, COUNT(*) AS open, SUM(severity = 'critical') AS critical, SUM(severity = 'high') AS high,
                SUM(severity = 'medium') AS medium, SUM(severity = 'low') AS low
         FROM findings WHERE ${where.sql} GROUP BY kind, namespace, name
         ORDER BY critical DESC, high DESC, open DESC, namespace, name, kind LIMIT ?`,
      )
      .all(...where.params, limit) as (Omit<WorkloadFindingCount, "bySeverity"> & Record<(typeof SEVERITY_COLUMNS)[number], number>)[];
    return rows.map(({ critical, high, medium, low, ...rest }) => ({ ...rest, bySeverity: { critical, high, medium, low } }));
  }

  /** Findings of a series matching a filter, open ones first and most severe first, one page of them and how many match. */
  findFindings(series: SeriesRef, filter: FindingFilter, page: { limit: number; offset: number }): { total: number; rows: StoredFinding[] } {
    const where = findingWhere(series, filter);
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM findings WHERE ${where.sql}`).get(...where.params) as { n: number }).n;
    const rows = this.db
      .prepare(
        `SELECT id, rule_id AS ruleId, severity, category, outcome, kind, namespace, name, pointer, message, first_seen_at AS firstSeenAt,
                last_seen_at AS lastSeenAt, resolved_at AS resolvedAt, resolution
         FROM findings WHERE ${where.sql}
         ORDER BY resolved_at IS NOT NULL, resolved_at DESC, CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
                  namespace, name, kind, rule_id, pointer, id LIMIT ? OFFSET ?`,
      )
      .all(...where.params, page.limit, page.offset) as StoredFinding[];
    return { total, rows };
  }

  /** Per scan name: stored scans by status, when it last succeeded and failed, and its newest finished scan. */
  scanNameStats(): ScanNameStats[] {
    const rows = this.db
      .prepare(
        `SELECT name, SUM(status = 'succeeded') AS succeeded, SUM(status = 'failed') AS failed, SUM(status = 'running') AS running,
                MAX(CASE WHEN status = 'succeeded' THEN finished_at END) AS lastSuccessAt,
                MAX(CASE WHEN status = 'failed' THEN finished_at END) AS lastFailureAt,
                (SELECT l.id FROM scans l WHERE l.name = s.name AND l.status != 'running' ORDER BY l.finished_at DESC, l.id DESC LIMIT 1) AS lastFinishedId
         FROM scans s GROUP BY name ORDER BY name`,
      )
      .all() as (Omit<ScanNameStats, "lastFinished"> & { lastFinishedId: number | null })[];
    return rows.map(({ lastFinishedId, ...rest }) => ({ ...rest, lastFinished: lastFinishedId === null ? null : this.get(lastFinishedId) }));
  }
}

export interface ScanCountRow {
  /** "" for the scan's whole scope. */
  namespace: string;
  workloads: number;
  workloadsFailed: number;
  open: number;
  new: number;
  resolved: number;
  bySeverity: Record<(typeof SEVERITY_COLUMNS)[number], number>;
}

export interface OpenFindingGroup {
  namespace: string;
  ruleId: string;
  severity: string;
  category: string;
  open: number;
  workloads: number;
}

export interface WorkloadFindingCount {
  kind: string;
  namespace: string;
  name: string;
  open: number;
  bySeverity: Record<(typeof SEVERITY_COLUMNS)[number], number>;
}

/** One open interval of a finding (or a closed one, when asked for history). */
export interface StoredFinding {
  id: number;
  ruleId: string;
  severity: string;
  category: string;
  outcome: "violation" | "warning";
  kind: string;
  namespace: string;
  name: string;
  pointer: string;
  message: string;
  firstSeenAt: number;
  /** Null while the latest scan of the series saw it; set when a scan could not judge it (kept open) or once resolved. */
  lastSeenAt: number | null;
  resolvedAt: number | null;
  resolution: string | null;
}

export interface FindingFilter {
  /** A list keeps the findings whose field is in it (an empty list keeps none); omitted, no condition. */
  namespaces?: readonly string[];
  severities?: readonly string[];
  categories?: readonly string[];
  ruleIds?: readonly string[];
  workload?: { kind: string; namespace: string; name: string };
  /** Resolved intervals too (a workload's history), not only the open ones. */
  includeResolved?: boolean;
}

export interface ScanNameStats {
  name: string;
  succeeded: number;
  failed: number;
  running: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  /** The newest scan of this name that finished, succeeded or failed. */
  lastFinished: ScanRecord | null;
}

function findingWhere(series: SeriesRef, filter: FindingFilter): { sql: string; params: (string | number)[] } {
  const where = ["cluster = ?", "scope = ?"];
  const params: (string | number)[] = [series.cluster, series.scope];
  if (!filter.includeResolved) where.push("resolved_at IS NULL");
  const oneOf = (column: string, values: readonly string[] | undefined) => {
    if (values === undefined) return;
    // One bound JSON array whatever its length: no statement per list size, no bound-variable limit.
    where.push(`${column} IN (SELECT value FROM json_each(?))`);
    params.push(JSON.stringify(values));
  };
  oneOf("namespace", filter.namespaces);
  oneOf("severity", filter.severities);
  oneOf("category", filter.categories);
  oneOf("rule_id", filter.ruleIds);
  if (filter.workload) {
    where.push("kind = ?", "namespace = ?", "name = ?");
    params.push(filter.workload.kind, filter.workload.namespace, filter.workload.name);
  }
  return { sql: where.join(" AND "), params };
}
