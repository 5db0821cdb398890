// Repository of remediation state (migration 002): fixes waiting for an approval, and the changes applied
// to workloads with the object before and after, for history and rollback. The only SQL about fixes.
import { randomBytes } from "node:crypto";
import type { JsonPatchOp } from "../policy/types.js";
import type { Db } from "./db.js";

export type PendingStatus = "pending" | "approved" | "rejected" | "stale" | "obsolete";
export type ChangeAction = "fix" | "approve" | "rollback";

export interface WorkloadKey {
  namespace: string;
  kind: string;
  name: string;
}

export interface PendingFix extends WorkloadKey {
  id: string;
  createdAt: string;
  actor: string;
  ruleId: string;
  severity: string;
  category: string;
  risk: string;
  reason: string;
  patch: JsonPatchOp[];
  findings: { message: string; path: string }[];
  diff: string;
  resourceVersion: string | null;
  generation: number | null;
  status: PendingStatus;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionNote: string | null;
  changeId: string | null;
}

export interface FixChange extends WorkloadKey {
  id: string;
  createdAt: string;
  actor: string;
  action: ChangeAction;
  ruleIds: string[];
  patch: JsonPatchOp[];
  diff: string;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  resourceVersionBefore: string | null;
  resourceVersionAfter: string | null;
  generationAfter: number | null;
  pendingId: string | null;
  rollbackOf: string | null;
  rolledBackBy: string | null;
}

interface PendingRow {
  id: string;
  created_at: string;
  actor: string;
  namespace: string;
  kind: string;
  name: string;
  rule_id: string;
  severity: string;
  category: string;
  risk: string;
  reason: string;
  patch: string;
  findings: string;
  diff: string;
  resource_version: string | null;
  generation: number | null;
  status: PendingStatus;
  decided_at: string | null;
  decided_by: string | null;
  decision_note: string | null;
  change_id: string | null;
}

interface ChangeRow {
  id: string;
  created_at: string;
  actor: string;
  action: ChangeAction;
  namespace: string;
  kind: string;
  name: string;
  rule_ids: string;
  patch: string;
  diff: string;
  before_object: string;
  after_object: string;
  resource_version_before: string | null;
  resource_version_after: string | null;
  generation_after: number | null;
  pending_id: string | null;
  rollback_of: string | null;
  rolled_back_by: string | null;
}

/** Short, unguessable enough to avoid collisions, easy to type: fix-1a2b3c4d, chg-1a2b3c4d. */
export function shortId(prefix: "fix" | "chg"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

const pendingFrom = (r: PendingRow): PendingFix => ({
  id: r.id,
  createdAt: r.created_at,
  actor: r.actor,
  namespace: r.namespace,
  kind: r.kind,
  name: r.name,
  ruleId: r.rule_id,
  severity: r.severity,
  category: r.category,
  risk: r.risk,
  reason: r.reason,
  patch: JSON.parse(r.patch) as JsonPatchOp[],
  findings: JSON.parse(r.findings) as { message: string; path: string }[],
  diff: r.diff,
  resourceVersion: r.resource_version,
  generation: r.generation,
  status: r.status,
  decidedAt: r.decided_at,
  decidedBy: r.decided_by,
  decisionNote: r.decision_note,
  changeId: r.change_id,
});

const changeFrom = (r: ChangeRow): FixChange => ({
  id: r.id,
  createdAt: r.created_at,
  actor: r.actor,
  action: r.action,
  namespace: r.namespace,
  kind: r.kind,
  name: r.name,
  ruleIds: JSON.parse(r.rule_ids) as string[],
  patch: JSON.parse(r.patch) as JsonPatchOp[],
  diff: r.diff,
  before: JSON.parse(r.before_object) as Record<string, unknown>,
  after: JSON.parse(r.after_object) as Record<string, unknown>,
  resourceVersionBefore: r.resource_version_before,
  resourceVersionAfter: r.resource_version_after,
  generationAfter: r.generation_after,
  pendingId: r.pending_id,
  rollbackOf: r.rollback_of,
  rolledBackBy: r.rolled_back_by,
});

export class FixStore {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * Stores a fix waiting for an approval. The same rule's fix for the same workload is proposed once:
   * an identical pending one is returned as it is (created: false); one with a different patch is marked stale.
   */
  propose(fix: Omit<PendingFix, "id" | "createdAt" | "status" | "decidedAt" | "decidedBy" | "decisionNote" | "changeId">): { fix: PendingFix; created: boolean } {
    return this.db.transaction(() => {
      const open = this.db
        .prepare("SELECT * FROM fix_pending WHERE namespace = ? AND kind = ? AND name = ? AND rule_id = ? AND status = 'pending'")
        .all(fix.namespace, fix.kind, fix.name, fix.ruleId) as PendingRow[];
      for (const row of open) {
        if (row.patch === JSON.stringify(fix.patch)) return { fix: pendingFrom(row), created: false };
        this.decide(row.id, "stale", fix.actor, "superseded by a newer proposal for the same rule");
      }
      const id = shortId("fix");
      this.db
        .prepare(
          `INSERT INTO fix_pending (id, created_at, actor, namespace, kind, name, rule_id, severity, category, risk, reason, patch, findings, diff, resource_version, generation)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          this.clock().toISOString(),
          fix.actor,
          fix.namespace,
          fix.kind,
          fix.name,
          fix.ruleId,
          fix.severity,
          fix.category,
          fix.risk,
          fix.reason,
          JSON.stringify(fix.patch),
          JSON.stringify(fix.findings),
          fix.diff,
          fix.resourceVersion,
          fix.generation,
        );
      return { fix: this.pending(id)!, created: true };
    })();
  }

  pending(id: string): PendingFix | undefined {
    const row = this.db.prepare("SELECT * FROM fix_pending WHERE id = ?").get(id) as PendingRow | undefined;
    return row && pendingFrom(row);
  }

  listPending(filter: { namespace?: string; status?: PendingStatus; limit?: number } = {}): PendingFix[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM fix_pending WHERE (@namespace IS NULL OR namespace = @namespace) AND (@status IS NULL OR status = @status)
         ORDER BY created_at DESC, rowid DESC LIMIT @limit`,
      )
      .all({ namespace: filter.namespace ?? null, status: filter.status ?? null, limit: filter.limit ?? 100 }) as PendingRow[];
    return rows.map(pendingFrom);
  }

  /** Records the decision on a pending fix; false when it was not pending any more (decided concurrently). */
  decide(id: string, status: Exclude<PendingStatus, "pending">, actor: string, note: string | null = null, changeId: string | null = null): boolean {
    const result = this.db
      .prepare("UPDATE fix_pending SET status = ?, decided_at = ?, decided_by = ?, decision_note = ?, change_id = ? WHERE id = ? AND status = 'pending'")
      .run(status, this.clock().toISOString(), actor, note, changeId, id);
    return result.changes === 1;
  }

  recordChange(change: Omit<FixChange, "id" | "createdAt" | "rolledBackBy">): FixChange {
    const id = shortId("chg");
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO fix_changes (id, created_at, actor, action, namespace, kind, name, rule_ids, patch, diff, before_object, after_object,
             resource_version_before, resource_version_after, generation_after, pending_id, rollback_of)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          this.clock().toISOString(),
          change.actor,
          change.action,
          change.namespace,
          change.kind,
          change.name,
          JSON.stringify(change.ruleIds),
          JSON.stringify(change.patch),
          change.diff,
          JSON.stringify(change.before),
          JSON.stringify(change.after),
          change.resourceVersionBefore,
          change.resourceVersionAfter,
          change.generationAfter,
          change.pendingId,
          change.rollbackOf,
        );
      if (change.rollbackOf) this.db.prepare("UPDATE fix_changes SET rolled_back_by = ? WHERE id = ?").run(id, change.rollbackOf);
    })();
    return this.change(id)!;
  }

  change(id: string): FixChange | undefined {
    const row = this.db.prepare("SELECT * FROM fix_changes WHERE id = ?").get(id) as ChangeRow | undefined;
    return row && changeFrom(row);
  }

  /** Newest first. */
  listChanges(filter: { namespace?: string; limit?: number } = {}): FixChange[] {
    const rows = this.db
      .prepare("SELECT * FROM fix_changes WHERE (@namespace IS NULL OR namespace = @namespace) ORDER BY created_at DESC, rowid DESC LIMIT @limit")
      .all({ namespace: filter.namespace ?? null, limit: filter.limit ?? 100 }) as ChangeRow[];
    return rows.map(changeFrom);
  }
}
