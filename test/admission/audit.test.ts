// Covers the admission webhook's audit trail: every decision is appended to the audit log, a dry run
// recorded as a dry-run review. Real SQLite file in a temp dir; the decision object stands in for a review.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { auditDecision } from "../../src/cli/serve-admission.js";
import type { AdmissionDecision } from "../../src/http/admission.js";
import { MemorySource } from "../../src/kube/memory-source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import { AuditStore } from "../../src/store/audit-store.js";

test("admission decisions land in the audit log with user, outcome, rules and dry-run flag", async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kube-policy-admission-audit-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const runtime = new Runtime({}, await PolicyBundle.load(), await MemorySource.demo(), { databasePath: path.join(dir, "audit.db") });
  t.teardown(() => runtime.close());
  const decision = (dryRun: boolean, outcome: AdmissionDecision["decision"]): AdmissionDecision =>
    ({
      uid: `uid-${dryRun}`,
      at: "2026-11-29T07:00:00.000Z",
      namespace: "shop",
      kind: "apps/v1 Deployment",
      name: "web",
      operation: "CREATE",
      user: "alice",
      dryRun,
      decision: outcome,
      mode: "strict",
      modeSource: "config",
      violations: [{ ruleId: "privileged-container" }, { ruleId: "privileged-container" }],
      warnings: [{ ruleId: "image-digest" }],
      exempt: [],
    }) as unknown as AdmissionDecision;
  auditDecision(runtime, decision(false, "denied"));
  auditDecision(runtime, decision(true, "denied"));
  const entries = new AuditStore(runtime.db()).query({ namespace: "shop" });
  t.is(entries.length, 2);
  const real = entries.find((e) => e.action === "admission-review")!;
  t.is(real.actor, "admission:alice");
  t.is(real.outcome, "denied");
  t.is(real.resource, "apps/v1 Deployment shop/web");
  t.deepEqual(real.ruleIds, ["privileged-container", "image-digest"]);
  t.truthy(entries.find((e) => e.action === "admission-review (dry run)"));
});
