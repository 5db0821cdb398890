// Covers src/store/fix-store.ts and migration 002: pending fixes (one open proposal per workload and
// rule; a changed proposal supersedes the old one; a decision is taken once), and recorded changes with
// their before / after objects and the rollback link. Real components: SQLite on a temporary file.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { openDatabase } from "../../src/store/db.js";
import { FixStore, type PendingFix } from "../../src/store/fix-store.js";

const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-fixes-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const freshStore = () => new FixStore(openDatabase(path.join(dir, `fixes-${counter++}.db`)));

const proposal = (patchValue: boolean): Parameters<FixStore["propose"]>[0] => ({
  actor: "http:ci",
  namespace: "shop",
  kind: "Deployment",
  name: "web",
  ruleId: "privileged-container",
  severity: "critical",
  category: "security",
  risk: "high",
  reason: "high-risk fixes always need an approval",
  patch: [{ op: "replace", path: "/spec/template/spec/containers/0/securityContext/privileged", value: patchValue }],
  findings: [{ message: "runs privileged", path: "spec.template.spec.containers[0].securityContext.privileged" }],
  diff: "-privileged: true\n+privileged: false",
  resourceVersion: "42",
  generation: 3,
});

test("a proposal is stored once per workload and rule; a different patch supersedes the open one", (t) => {
  const store = freshStore();
  const { fix: first, created } = store.propose(proposal(false));
  t.true(created);
  t.regex(first.id, /^fix-[0-9a-f]{8}$/);
  t.is(first.status, "pending");
  t.deepEqual(first.patch, proposal(false).patch);
  t.deepEqual(store.propose(proposal(false)), { fix: first, created: false }, "the same proposal again is the same pending fix");

  const second = store.propose({ ...proposal(false), patch: [{ op: "remove", path: "/spec/template/spec/containers/0/securityContext/privileged" }] }).fix;
  t.not(second.id, first.id);
  const old = store.pending(first.id) as PendingFix;
  t.is(old.status, "stale");
  t.is(old.decisionNote, "superseded by a newer proposal for the same rule");
  t.deepEqual(store.listPending({ status: "pending" }).map((p) => p.id), [second.id]);
  t.deepEqual(store.listPending({ namespace: "other" }), []);
});

test("a decision is taken once: a second one reports false and keeps the first", (t) => {
  const store = freshStore();
  const { fix } = store.propose(proposal(false));
  t.true(store.decide(fix.id, "rejected", "http:alice", "not during the freeze"));
  t.false(store.decide(fix.id, "approved", "http:bob"));
  const now = store.pending(fix.id)!;
  t.is(now.status, "rejected");
  t.is(now.decidedBy, "http:alice");
  t.is(now.decisionNote, "not during the freeze");
  t.is(store.pending("fix-00000000"), undefined);
});

test("changes keep the objects before and after, and a rollback is linked both ways", (t) => {
  const store = freshStore();
  const before = { spec: { template: { spec: { containers: [{ name: "app", securityContext: { privileged: true } }] } } } };
  const after = { spec: { template: { spec: { containers: [{ name: "app", securityContext: { privileged: false } }] } } } };
  const applied = store.recordChange({
    actor: "http:alice",
    action: "approve",
    namespace: "shop",
    kind: "Deployment",
    name: "web",
    ruleIds: ["privileged-container"],
    patch: [{ op: "test", path: "/metadata/resourceVersion", value: "42" }],
    diff: "d",
    before,
    after,
    resourceVersionBefore: "42",
    resourceVersionAfter: "43",
    generationAfter: 4,
    pendingId: null,
    rollbackOf: null,
  });
  t.regex(applied.id, /^chg-[0-9a-f]{8}$/);
  t.deepEqual(store.change(applied.id)?.before, before);
  t.deepEqual(store.change(applied.id)?.after, after);
  const rollback = store.recordChange({ ...applied, action: "rollback", before: after, after: before, rollbackOf: applied.id });
  t.is(store.change(applied.id)?.rolledBackBy, rollback.id);
  t.is(rollback.rollbackOf, applied.id);
  t.deepEqual(store.listChanges({ namespace: "shop" }).map((c) => c.action).sort(), ["approve", "rollback"]);
  t.deepEqual(store.listChanges({ namespace: "shop", limit: 1 }).length, 1);
  t.deepEqual(store.listChanges({ namespace: "elsewhere" }), []);
});
