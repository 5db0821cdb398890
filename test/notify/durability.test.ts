// Covers delivery that survives rate limits, restarts and time (src/notify/delivery.ts, notifier.ts,
// src/store/notification-store.ts, migration 007):
// - a 429 + Retry-After pauses the whole webhook: a second message queued during the pause is not sent
//   before it ends (by the same notifier, or by another one on the same database), both are delivered,
//   and the history shows the waits (the 429'd message's Retry-After, the other's pause and whose it was);
//   an SMTP 421 pauses the SMTP server for the backoff the same way;
// - a message a stopped process left pending is sent by the next notifier to start (its attempts continue),
//   an old one is marked failed saying why, one whose last attempt was delivered is marked sent without
//   resending, and one another live process holds is left alone; two notifiers starting on one database
//   deliver each message exactly once (requests counted at the receiver);
// - storage.retentionDays, applied after a scan, removes old finished messages with their attempts and
//   unreferenced old events, and keeps recent and unfinished ones (and their events).
// Real components: an HTTP receiver at the webhook URL on 127.0.0.1, SQLite on temporary files, real
// timers with short configured values, the committed wasm bundle and the demo manifests for the scan.
import test from "ava";
import { MemorySource } from "../../src/kube/memory-source.js";
import { composeAlert } from "../../src/notify/content.js";
import type { NotificationEvent } from "../../src/notify/events.js";
import { historyText, notificationHistory } from "../../src/notify/history.js";
import { Notifier } from "../../src/notify/notifier.js";
import { redactWebhookUrl } from "../../src/notify/slack.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import { runScan } from "../../src/scans/scan.js";
import { openDatabase } from "../../src/store/db.js";
import { NotificationStore } from "../../src/store/notification-store.js";
import { finding, freshStore, memoryLogger, quickNotifier, scan, smtpReceiver, tempDir, webhookReceiver } from "./helpers.js";

const bundle = await PolicyBundle.load();
const demo = await MemorySource.demo();
const dir = tempDir("kube-policy-durability-");
test.after.always(dir.remove);
let counter = 0;

const DAY = 86_400_000;

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// ---- shared rate limit ----

for (const variant of ["the same notifier", "another notifier on the same database (serve and a CLI scan)"] as const) {
  test(`a 429 with Retry-After: 1 pauses the webhook: a second message from ${variant} waits for the pause, both are delivered, the history shows the waits`, async (t) => {
    const receiver = await webhookReceiver((n) => (n === 0 ? { status: 429, body: "rate_limited", headers: { "retry-after": "1" } } : { status: 200 }));
    t.teardown(receiver.close);
    const file = dir.file(`pause-${counter++}.db`);
    const store = new NotificationStore(openDatabase(file));
    const config = { slack: { webhookUrl: receiver.url } };
    const first = quickNotifier(store, config);
    const second = variant === "the same notifier" ? first : quickNotifier(new NotificationStore(openDatabase(file)), config);

    const a = first.onScanCompleted(null, scan(1, [finding("a", "critical")], { scope: "shop" })).notifications[0]!;
    // The first message has met the rate limit (its failed attempt is recorded) before the second is queued.
    await until(() => store.attempts(a.id).length === 1, "the first message's 429");
    const limitedAt = receiver.requests[0]!.at;
    const b = second.onScanCompleted(null, scan(2, [finding("b", "critical")], { scope: "billing" })).notifications[0]!;
    await first.idle();
    await second.idle();

    t.is(receiver.requests.length, 3, "one 429, then each message once");
    for (const request of receiver.requests.slice(1)) {
      t.true(request.at - limitedAt >= 950, `a request went ${request.at - limitedAt} ms after the 429 with Retry-After: 1`);
    }
    t.like(store.notification(a.id), { status: "sent", attempts: 2 });
    t.like(store.notification(b.id), { status: "sent", attempts: 1 });
    const [a1, a2] = store.attempts(a.id);
    t.like(a1, { attempt: 1, status: "failed", statusCode: 429, retryAfterMs: 1_000, waitMs: 1_000, pausedMs: null });
    t.like(a2, { attempt: 2, status: "sent", statusCode: 200 });
    const [b1] = store.attempts(b.id);
    t.like(b1, { attempt: 1, status: "sent", statusCode: 200, pausedBy: a.id });
    t.true(b1!.pausedMs !== null && b1!.pausedMs >= 500 && b1!.pausedMs <= 1_000, `the second message waited ${b1!.pausedMs} ms for the pause`);
    // What `kube-policy notify history` prints for it.
    const text = historyText(notificationHistory(store, { limit: 10 }));
    t.regex(text, new RegExp(`attempt 1 at \\S+: sent, HTTP 200, \\d+ ms \\(after waiting \\d+(\\.\\d)? s for the destination's rate limit met by #${a.id}\\)`));
  });
}

test("a pause longer than the delivery may wait fails the other message without sending it, saying whose rate limit it was", async (t) => {
  const receiver = await webhookReceiver((n) => (n === 0 ? { status: 429, body: "rate_limited", headers: { "retry-after": "30" } } : { status: 200 }));
  t.teardown(receiver.close);
  const store = freshStore(dir);
  // Retry-After 30 s is within maxRetryAfterMs, beyond the 2 s budget: the first fails at once, and so does the second.
  const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url } }, { delivery: { maxAttempts: 3, backoffMs: 10, timeoutMs: 2_000, retryBudgetMs: 2_000 } });
  const a = notifier.onScanCompleted(null, scan(1, [finding("a", "critical")], { scope: "shop" })).notifications[0]!;
  await notifier.idle();
  const b = notifier.onScanCompleted(null, scan(2, [finding("b", "critical")], { scope: "billing" })).notifications[0]!;
  await notifier.idle();

  t.is(receiver.requests.length, 1, "the second message was not sent into the pause");
  const record = store.notification(b.id)!;
  t.is(record.status, "failed");
  t.regex(record.error ?? "", new RegExp(`^not sent: the Slack webhook is paused for \\d+(\\.\\d)? s more \\(message #${a.id}: Slack rate-limited us \\(HTTP 429, Retry-After 30 s\\): rate_limited\\), longer than the 2 s left of the retry budget`));
  t.like(store.attempts(b.id)[0], { attempt: 1, status: "failed", statusCode: null, pausedBy: a.id });
  t.false((record.error ?? "").includes("s3cr3tT0kenXYZ"));
});

test("an SMTP 421 (service not available, try later) pauses the server for the backoff: another message to it waits too", async (t) => {
  const smtp = await smtpReceiver({ reject: (n) => (n === 0 ? 421 : null) });
  t.teardown(smtp.close);
  const store = freshStore(dir);
  const notifier = quickNotifier(
    store,
    { email: { recipients: ["ops@example.com"], smtp: { host: "127.0.0.1", port: smtp.port, secure: false } } },
    { delivery: { maxAttempts: 3, backoffMs: 800, timeoutMs: 5_000 } },
  );
  const a = notifier.onScanCompleted(null, scan(1, [finding("a", "critical")], { scope: "shop" })).notifications[0]!;
  await until(() => store.attempts(a.id).length === 1, "the first message's 421");
  const b = notifier.onScanCompleted(null, scan(2, [finding("b", "critical")], { scope: "billing" })).notifications[0]!;
  await notifier.idle();

  t.is(smtp.messages.length, 2);
  t.like(store.attempts(a.id)[0], { attempt: 1, status: "failed", statusCode: 421, waitMs: 800 });
  const [b1] = store.attempts(b.id);
  t.like(b1, { attempt: 1, status: "sent", pausedBy: a.id });
  t.true(b1!.pausedMs !== null && b1!.pausedMs >= 300, `the second message waited ${b1!.pausedMs} ms`);
});

// ---- resuming after a restart ----

/** A message as a process killed in the middle of its delivery leaves it: pending, claimed by a dead owner. */
function leftPending(store: NotificationStore, webhookUrl: string, subjectKey: string, createdAt: number, options: { leaseUntil?: number; attempts?: ("failed" | "sent")[] } = {}): number {
  const event: NotificationEvent = { type: "fix-failed", at: new Date(createdAt).toISOString(), scope: "shop", workload: { kind: "Deployment", namespace: "shop", name: subjectKey }, ruleIds: ["privileged-container"], reason: "boom" };
  const content = { ...composeAlert([event]), subject: `left pending: ${subjectKey}` };
  const id = store.createNotification(
    {
      channel: "slack",
      kind: "alert",
      eventIds: [],
      eventTypes: ["fix-failed"],
      subject: content.subject,
      destination: { targets: [], endpoint: redactWebhookUrl(webhookUrl) },
      content,
      claim: { owner: "12345-a-process-that-was-killed", leaseUntil: options.leaseUntil ?? createdAt + 30_000 },
    },
    createdAt,
  );
  (options.attempts ?? []).forEach((status, i) =>
    store.recordAttempt({ notificationId: id, attempt: i + 1, status, retryable: status === "failed", statusCode: status === "failed" ? 503 : 200, error: status === "failed" ? "Slack answered HTTP 503" : null, startedAt: createdAt + i, durationMs: 3, waitMs: status === "failed" ? 1_000 : null }),
  );
  return id;
}

test("a new notifier sends a young message a stopped process left pending, fails an old one saying why, and leaves delivered and live-claimed ones alone", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const store = freshStore(dir);
  const now = Date.now();
  const young = leftPending(store, receiver.url, "young", now - 5 * 60_000, { attempts: ["failed"] });
  const old = leftPending(store, receiver.url, "old", now - 3 * 3_600_000);
  const delivered = leftPending(store, receiver.url, "delivered", now - 60_000, { attempts: ["failed", "sent"] });
  const live = leftPending(store, receiver.url, "live", now - 1_000, { leaseUntil: now + 60_000 });

  const log = memoryLogger();
  const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url } }, { logger: log.logger });
  notifier.start();
  t.teardown(() => notifier.stop());
  await notifier.idle();

  t.deepEqual(receiver.requests.map((r) => (r.json as { text: string }).text), ["left pending: young"]);
  t.like(store.notification(young), { status: "sent", attempts: 2, error: null });
  t.deepEqual(store.attempts(young).map((a) => [a.attempt, a.status]), [[1, "failed"], [2, "sent"]]);

  const expired = store.notification(old)!;
  t.is(expired.status, "failed");
  t.is(
    expired.error,
    "not sent: the process delivering it stopped before it was delivered (kube-policy was stopped or crashed), and it was 3 h old when kube-policy started again, older than notifications.delivery.resumeWithinMs (60 min) allows to send late",
  );
  t.like(store.notification(delivered), { status: "sent", attempts: 2 });
  t.like(store.notification(live), { status: "pending" }, "a message another live process holds is not taken");
  t.regex(log.text(), /resuming a notification left unfinished by a stopped process/);
});

test("notifications.delivery.resumeWithinMs sets how old a left-over message may be to be sent late", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const store = freshStore(dir);
  const id = leftPending(store, receiver.url, "ten minutes", Date.now() - 10 * 60_000);
  const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url }, delivery: { resumeWithinMs: 5 * 60_000 } });
  t.deepEqual(notifier.resumeUnfinished(), { resumed: [], expired: [id], delivered: [], unconfigured: [] });
  await notifier.idle();
  t.is(receiver.requests.length, 0);
  t.regex(store.notification(id)!.error ?? "", /it was 10 min old .* older than notifications\.delivery\.resumeWithinMs \(5 min\)/);
});

test("two notifiers starting at once on one database deliver each left-over message exactly once", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const file = dir.file(`race-${counter++}.db`);
  const seed = new NotificationStore(openDatabase(file));
  const now = Date.now();
  const ids = ["one", "two", "three", "four", "five"].map((key) => leftPending(seed, receiver.url, key, now - 60_000));
  const config = { slack: { webhookUrl: receiver.url } };
  // Two processes' worth: each its own connection to the file, its own owner name.
  const serve = new Notifier({ store: new NotificationStore(openDatabase(file)), config, logger: memoryLogger().logger, delivery: { backoffMs: 10, timeoutMs: 2_000 } });
  const cliScan = new Notifier({ store: new NotificationStore(openDatabase(file)), config, logger: memoryLogger().logger, delivery: { backoffMs: 10, timeoutMs: 2_000 } });
  const results = await Promise.all([Promise.resolve().then(() => serve.resumeUnfinished()), Promise.resolve().then(() => cliScan.resumeUnfinished())]);
  await Promise.all([serve.idle(), cliScan.idle()]);

  t.deepEqual([...results[0].resumed, ...results[1].resumed].sort(), [...ids].sort(), "each message claimed by exactly one of them");
  const subjects = receiver.requests.map((r) => (r.json as { text: string }).text).sort();
  t.deepEqual(subjects, ["left pending: five", "left pending: four", "left pending: one", "left pending: three", "left pending: two"]);
  for (const id of ids) t.like(seed.notification(id), { status: "sent", attempts: 1 });
});

test("a message whose claim lapses while its process is gone is picked up by a running server's periodic look", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const store = freshStore(dir);
  // Claimed until 300 ms from now: at start it still looks owned; the server looks again every lease (200 ms here).
  const id = leftPending(store, receiver.url, "lapsing", Date.now() - 1_000, { leaseUntil: Date.now() + 300 });
  const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url } }, { leaseMs: 200 });
  notifier.start();
  t.teardown(() => notifier.stop());
  t.is(receiver.requests.length, 0);
  await until(() => store.notification(id)?.status === "sent", "the lapsed message to be sent");
  t.is(receiver.requests.length, 1);
});

test("a notifier keeps its claim on a message it is still delivering, so another one starting meanwhile does not send it too", async (t) => {
  // Every attempt fails with 503 and backs off 150 ms: the delivery outlasts the 100 ms claim several times.
  const receiver = await webhookReceiver(() => ({ status: 503 }));
  t.teardown(receiver.close);
  const file = dir.file(`lease-${counter++}.db`);
  const store = new NotificationStore(openDatabase(file));
  const config = { slack: { webhookUrl: receiver.url } };
  const delivery = { maxAttempts: 4, backoffMs: 150, maxBackoffMs: 150, timeoutMs: 2_000 };
  const running = quickNotifier(store, config, { leaseMs: 100, delivery });
  const other = quickNotifier(new NotificationStore(openDatabase(file)), config, { leaseMs: 100, delivery });
  const { id } = running.onScanCompleted(null, scan(1, [finding("a", "critical")])).notifications[0]!;
  await until(() => store.attempts(id).length >= 2, "two attempts");
  t.deepEqual(other.resumeUnfinished().resumed, []);
  await running.idle();
  t.is(receiver.requests.length, 4, "only the owner's attempts");
});

// ---- retention ----

test("storage.retentionDays after a scan removes old finished notifications with their attempts and old unreferenced events, keeps recent and unfinished ones", async (t) => {
  const runtime = new Runtime({ storage: { retentionDays: 30 } }, bundle, demo, { databasePath: dir.file(`retention-${counter++}.db`) });
  t.teardown(() => runtime.close());
  const store = new NotificationStore(runtime.db());
  const now = Date.now();
  const event = (key: string, at: number) =>
    store.recordEventOnce({ type: "fix-failed", fingerprint: key, scope: "shop", scanId: null, severity: null, payload: { key } }, at, Number.MAX_SAFE_INTEGER)!.id;
  const message = (subject: string, at: number, eventIds: number[], status: "sent" | "failed" | "pending") => {
    const id = store.createNotification({ channel: "slack", kind: "alert", eventIds, eventTypes: ["fix-failed"], subject }, at);
    store.recordAttempt({ notificationId: id, attempt: 1, status: status === "sent" ? "sent" : "failed", retryable: status === "pending", statusCode: 200, error: null, startedAt: at, durationMs: 1 });
    if (status !== "pending") store.finishNotification(id, status, null, at + 1);
    return id;
  };
  const oldEvent = event("old", now - 40 * DAY);
  const oldPendingEvent = event("old-pending", now - 40 * DAY);
  const orphanEvent = event("orphan", now - 40 * DAY);
  const recentEvent = event("recent", now - 2 * DAY);
  const oldSent = message("old sent", now - 40 * DAY, [oldEvent], "sent");
  const oldFailed = message("old failed", now - 35 * DAY, [], "failed");
  const oldPending = message("old pending", now - 40 * DAY, [oldPendingEvent], "pending");
  const recent = message("recent sent", now - 2 * DAY, [recentEvent], "sent");

  await runScan(runtime, {});

  t.is(store.notification(oldSent), undefined);
  t.is(store.notification(oldFailed), undefined);
  t.deepEqual(store.attempts(oldSent), []);
  t.like(store.notification(oldPending), { status: "pending" });
  t.is(store.attempts(oldPending).length, 1);
  t.like(store.notification(recent), { status: "sent" });
  t.is(store.attempts(recent).length, 1);
  t.deepEqual(
    store.eventsByIds([oldEvent, oldPendingEvent, orphanEvent, recentEvent]).map((e) => e.id),
    [oldPendingEvent, recentEvent],
  );
});

test("retention keeps events inside the deduplication window and each channel's last delivered digest, whatever their age", (t) => {
  const store = freshStore(dir);
  const now = Date.now();
  const digest = store.createNotification({ channel: "email", kind: "digest", eventIds: [], eventTypes: [], subject: "digest" }, now - 10 * DAY);
  store.finishNotification(digest, "sent", null, now - 10 * DAY);
  const older = store.createNotification({ channel: "email", kind: "digest", eventIds: [], eventTypes: [], subject: "older digest" }, now - 11 * DAY);
  store.finishNotification(older, "sent", null, now - 11 * DAY);
  const inWindow = store.recordEventOnce({ type: "fix-failed", fingerprint: "w", scope: "shop", scanId: null, severity: null, payload: {} }, now - 1.5 * DAY, Number.MAX_SAFE_INTEGER)!.id;
  // retentionDays 1, deduplication 48 h: the event of 36 h ago still stops a repeat.
  const removed = store.applyRetention(1, now, now - 2 * DAY);
  t.deepEqual(removed, { notifications: 1, attempts: 0, events: 0 });
  t.like(store.notification(digest), { status: "sent" });
  t.is(store.notification(older), undefined);
  t.is(store.eventsByIds([inWindow]).length, 1);
  t.is(store.lastDigestSentAt("email"), now - 10 * DAY);
});
