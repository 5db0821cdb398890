// Covers src/notify/notifier.ts (with src/store/notification-store.ts and migration 004): two identical
// scans send one alert, not two (and the deduplication window); one message per scan and channel
// grouping all of the scan's events; per-channel severity filters, event filters and enabled flags;
// stale detection; fix events; the daily digest; schedules refused with the config path; a broken store
// never failing the caller; the test message.
// Real components: an HTTP receiver at the Slack webhook URL and smtp-server on 127.0.0.1 (mail parsed
// with mailparser), SQLite on temporary files. The clock is injected where hours must pass.
import test from "ava";
import type { NotificationsConfig } from "../../src/config/types.js";
import { ConfigError } from "../../src/errors.js";
import { DeliveryError } from "../../src/notify/delivery.js";
import { openDatabase } from "../../src/store/db.js";
import { NotificationStore } from "../../src/store/notification-store.js";
import { finding, freshStore, memoryLogger, quickNotifier, scan, smtpReceiver, tempDir, webhookReceiver } from "./helpers.js";

const dir = tempDir("kube-policy-notifier-");
test.after.always(dir.remove);

const HOUR = 3_600_000;
const critical = finding("priv", "critical", { ruleId: "privileged-container" });
const high = finding("latest", "high", { ruleId: "image-latest-tag" });
const medium = finding("limits", "medium", { ruleId: "cpu-limits" });

type Payload = { text: string; blocks: { type: string; text?: { text: string } }[] };
const sectionTexts = (p: Payload) => p.blocks.filter((b) => b.type === "section" && b.text).map((b) => b.text!.text);

test("two identical scans send one alert, not two", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const store = freshStore(dir);
  const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url } });

  // Both compared with the same baseline (e.g. two processes finishing the same scheduled scan).
  const first = notifier.onScanCompleted(null, scan(1, [critical, high]));
  const second = notifier.onScanCompleted(null, scan(2, [high, critical]));
  t.is(first.notifications.length, 1);
  t.deepEqual(second, { events: [], duplicates: 1, notifications: [] });
  // The next scan against its real baseline: nothing is new, so nothing is derived at all.
  t.deepEqual(notifier.onScanCompleted(scan(1, [critical, high]), scan(3, [critical, high])), { events: [], duplicates: 0, notifications: [] });
  await notifier.idle();
  t.is(receiver.requests.length, 1);
  t.is(store.listNotifications().length, 1);
});

test("a new violation after identical scans alerts with only that violation", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const notifier = quickNotifier(freshStore(dir), { slack: { webhookUrl: receiver.url } });
  notifier.onScanCompleted(null, scan(1, [critical]));
  notifier.onScanCompleted(scan(1, [critical]), scan(2, [critical]));
  notifier.onScanCompleted(scan(2, [critical]), scan(3, [critical, medium]));
  await notifier.idle();
  t.is(receiver.requests.length, 2);
  const second = receiver.requests[1]!.json as Payload;
  t.regex(second.text, /^\[kube-policy\] 1 new violation in /);
  t.true(sectionTexts(second).some((s) => s.includes("`cpu-limits`")));
  t.false(sectionTexts(second).some((s) => s.includes("`privileged-container`")), "the violation already told is not repeated");
});

test("deduplication lasts dedupeHours: an identical event after the window is sent again; dedupeHours 0 turns it off", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  let now = Date.UTC(2026, 0, 1);
  const notifier = quickNotifier(freshStore(dir), { slack: { webhookUrl: receiver.url }, dedupeHours: 6 }, { now: () => now });
  t.is(notifier.onScanCompleted(null, scan(1, [critical])).notifications.length, 1);
  now += 5 * HOUR;
  t.is(notifier.onScanCompleted(null, scan(2, [critical])).duplicates, 1);
  now += 2 * HOUR;
  t.is(notifier.onScanCompleted(null, scan(3, [critical])).notifications.length, 1);

  const off = quickNotifier(freshStore(dir), { slack: { webhookUrl: receiver.url }, dedupeHours: 0 });
  t.is(off.onScanCompleted(null, scan(1, [critical])).notifications.length, 1);
  t.is(off.onScanCompleted(null, scan(2, [critical])).notifications.length, 1);
  await notifier.idle();
  await off.idle();
  t.is(receiver.requests.length, 4);
});

test("all events of one scan go out as one message per channel", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const store = freshStore(dir);
  const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url }, scoreBelow: 80, scoreDropPoints: 10 });
  const result = notifier.onScanCompleted(scan(1, [], { score: 95 }), scan(2, [critical], { score: 70 }));
  t.deepEqual(result.events.map((e) => e.type), ["scan-new-violations", "score-below-threshold", "score-dropped"]);
  await notifier.idle();
  t.is(receiver.requests.length, 1);
  const texts = sectionTexts(receiver.requests[0]!.json as Payload);
  t.true(texts.includes("The compliance score is 70.0%, below the threshold of 80% (it was 95.0%)."));
  t.true(texts.includes("The compliance score dropped 25.0 points, from 95.0% to 70.0% (alert threshold: more than 10 points)."));
  t.deepEqual(store.listNotifications()[0]!.eventTypes, ["scan-new-violations", "score-below-threshold", "score-dropped"]);
  t.is(store.listNotifications()[0]!.eventIds.length, 3);
});

test("per-channel severity filters: each channel gets the new violations at its severities, or nothing", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const smtp = await smtpReceiver();
  t.teardown(smtp.close);
  const config: NotificationsConfig = {
    slack: { webhookUrl: receiver.url, severityLevels: ["critical"] },
    email: { recipients: ["ops@example.com"], severityLevels: ["critical", "high", "medium"], smtp: { host: "127.0.0.1", port: smtp.port } },
  };
  const notifier = quickNotifier(freshStore(dir), config);

  notifier.onScanCompleted(null, scan(1, [critical, medium, finding("low", "low")]));
  await notifier.idle();
  t.is(receiver.requests.length, 1);
  const slack = receiver.requests[0]!.json as Payload;
  t.regex(slack.text, /1 new violation in/);
  t.false(JSON.stringify(slack).includes("cpu-limits"));
  t.is(smtp.messages.length, 1);
  t.regex(smtp.messages[0]!.mail.subject ?? "", /2 new violations in/);
  t.false((smtp.messages[0]!.mail.text ?? "").includes("rule-low"), "low is not among the e-mail's severities");

  // Only a medium one is new: e-mail only.
  notifier.onScanCompleted(scan(1, [critical, medium]), scan(2, [critical, medium, finding("m2", "medium")]));
  await notifier.idle();
  t.is(receiver.requests.length, 1);
  t.is(smtp.messages.length, 2);
});

test("score, failure and stale events pass severity filters; event filters and enabled: false do apply", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const smtp = await smtpReceiver();
  t.teardown(smtp.close);
  const store = freshStore(dir);
  const config: NotificationsConfig = {
    slack: { webhookUrl: receiver.url, severityLevels: ["critical"], events: ["scan-failed", "score-below-threshold"] },
    email: { recipients: ["ops@example.com"], enabled: false, smtp: { host: "127.0.0.1", port: smtp.port } },
    scoreBelow: 90,
  };
  const notifier = quickNotifier(store, config);
  const failed = notifier.onScanCompleted(null, scan(1, [], { status: "failed", reason: "forbidden: cannot list deployments", errorCode: "forbidden", score: null }));
  t.deepEqual(failed.notifications.map((n) => n.channel), ["slack"]);
  const below = notifier.onScanCompleted(null, scan(2, [critical], { score: 50 }));
  t.deepEqual(below.events.map((e) => e.type), ["scan-new-violations", "score-below-threshold"], "both events are kept (for the digest)");
  await notifier.idle();

  t.is(smtp.messages.length, 0, "a disabled channel sends nothing");
  t.is(receiver.requests.length, 2);
  t.is((receiver.requests[0]!.json as Payload).text, "[kube-policy] Scan nightly of namespace production (kind-test) failed");
  const second = receiver.requests[1]!.json as Payload;
  t.is(second.text, "[kube-policy] Compliance of namespace production (kind-test) fell below 90%: 50.0%");
  t.false(sectionTexts(second).some((s) => s.includes("privileged-container")), "new violations are not among slack's events");
  t.deepEqual(store.listNotifications().map((n) => n.eventTypes), [["score-below-threshold"], ["scan-failed"]]);
});

test("stale detection: alerts once when no scan succeeded for longer than staleAfterHours, and not after a success", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const t0 = Date.UTC(2026, 0, 1, 0, 0);
  const notifier = quickNotifier(freshStore(dir), { slack: { webhookUrl: receiver.url }, staleAfterHours: 24 }, { now: () => t0 });
  notifier.onScanCompleted(null, scan(1, [], { finishedAt: new Date(t0).toISOString() }));
  notifier.onScanCompleted(scan(1, []), scan(2, [], { status: "failed", reason: "cluster unreachable", score: null, finishedAt: new Date(t0 + 20 * HOUR).toISOString() }));
  notifier.onScanCompleted(null, scan(3, [], { scope: "staging", finishedAt: new Date(t0 + 20 * HOUR).toISOString() }));
  await notifier.idle();
  const before = receiver.requests.length; // the failure alert

  t.deepEqual(notifier.checkStale(t0 + 23 * HOUR).events, []);
  const stale = notifier.checkStale(t0 + 25 * HOUR);
  t.deepEqual(stale.events.map((e) => [e.type, e.scope]), [["stale", "production"]], "a failed scan does not count; staging is fresh");
  t.like(stale.events[0], { hours: 25, lastSuccessScanId: 1, lastSuccessAt: new Date(t0).toISOString() });
  t.is(notifier.checkStale(t0 + 26 * HOUR).duplicates, 1, "the same staleness is told once");
  await notifier.idle();
  t.is(receiver.requests.length, before + 1);
  const payload = receiver.requests.at(-1)!.json as Payload;
  t.is(payload.text, "[kube-policy] No successful scan of namespace production (kind-test) for 25 hours");

  notifier.onScanCompleted(null, scan(4, [], { finishedAt: new Date(t0 + 30 * HOUR).toISOString() }));
  t.deepEqual(notifier.checkStale(t0 + 40 * HOUR).events, [], "a success resets the clock");

  const off = quickNotifier(freshStore(dir), { slack: { webhookUrl: receiver.url } });
  off.onScanCompleted(null, scan(1, [], { finishedAt: new Date(t0).toISOString() }));
  t.deepEqual(off.checkStale(t0 + 1000 * HOUR).events, [], "staleAfterHours unset: no stale check");
});

test("fix events: awaiting approval shows what would change; severity filters apply; the same pending fix is told once", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const notifier = quickNotifier(freshStore(dir), { slack: { webhookUrl: receiver.url, severityLevels: ["critical", "high"] } });
  const pending = {
    type: "fix-awaiting-approval" as const,
    workload: { namespace: "shop", kind: "Deployment", name: "web" },
    ruleIds: ["privileged-container"],
    severity: "critical" as const,
    pendingId: "fix-1a2b3c4d",
    risk: "high",
    reason: "high-risk fixes always need an approval",
    diff: "-privileged: true\n+privileged: false",
    actor: "mcp:claude",
  };
  t.is(notifier.onFixEvent(pending).notifications.length, 1);
  t.is(notifier.onFixEvent(pending).duplicates, 1);
  t.deepEqual(
    notifier.onFixEvent({ type: "fix-applied", workload: pending.workload, ruleIds: ["cpu-limits"], severity: "medium", changeId: "chg-00000001" }).notifications,
    [],
    "a medium fix is below slack's severities",
  );
  const rollback = notifier.onFixEvent({ type: "rollback", workload: pending.workload, ruleIds: ["privileged-container"], changeId: "chg-2", rolledBack: "chg-1", actor: "cli" });
  t.like(rollback.events[0], { scope: "shop", type: "rollback" });
  t.true(typeof rollback.events[0]!.at === "string");
  await notifier.idle();
  t.is(receiver.requests.length, 2);
  const first = receiver.requests[0]!.json as Payload;
  t.is(first.text, "[kube-policy] Fix fix-1a2b3c4d awaits approval: Deployment shop/web (privileged-container)");
  t.true(sectionTexts(first).some((s) => s.includes("What it would change:\n-privileged: true\n+privileged: false")));
  t.is((receiver.requests[1]!.json as Payload).text, "[kube-policy] Change chg-1 rolled back on Deployment shop/web");
});

test("digest: channels in digest mode get no immediate alert, then one digest of the period; quiet when nothing happened", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const smtp = await smtpReceiver();
  t.teardown(smtp.close);
  let now = Date.UTC(2026, 0, 1, 8);
  const notifier = quickNotifier(
    freshStore(dir),
    {
      slack: { webhookUrl: receiver.url },
      email: { recipients: ["ops@example.com"], mode: "digest", smtp: { host: "127.0.0.1", port: smtp.port } },
    },
    { now: () => now },
  );
  now += HOUR;
  notifier.onScanCompleted(null, scan(1, [critical, high], { score: 80 }));
  now += HOUR;
  notifier.onScanCompleted(scan(1, [critical, high], { score: 80 }), scan(2, [], { status: "failed", reason: "cluster unreachable", score: null }));
  await notifier.idle();
  t.is(receiver.requests.length, 2, "slack is immediate");
  t.is(smtp.messages.length, 0, "e-mail waits for the digest");

  now += HOUR;
  const digest = notifier.sendDigest(now);
  t.deepEqual(digest.notifications.map((n) => n.channel), ["email"]);
  await notifier.idle();
  t.is(smtp.messages.length, 1);
  const mail = smtp.messages[0]!.mail;
  t.is(mail.subject, "[kube-policy] Digest: 2 events, 2 new violations");
  t.true((mail.text ?? "").includes("New violations: 2 (1 critical, 1 high)"));
  t.true((mail.text ?? "").includes("Failed scans: 1"));
  t.true((mail.text ?? "").includes("Scan nightly of namespace production (kind-test) failed. The scan failed: cluster unreachable."));

  now += HOUR;
  t.deepEqual(notifier.sendDigest(now).notifications, [], "nothing since the last digest");
  await notifier.idle();
  t.is(smtp.messages.length, 1);
});

test("start() refuses a bad digest schedule with the config path, and starts and stops a good one", async (t) => {
  const store = freshStore(dir);
  const bad = quickNotifier(store, { email: { recipients: ["ops@example.com"], mode: "both" }, digest: { cron: "every morning" } });
  const error = t.throws(() => bad.start(), { instanceOf: ConfigError });
  t.deepEqual(error?.details.map((d) => d.where), ["/notifications/digest/cron"]);
  t.regex(error?.details[0]?.message ?? "", /"every morning" is not a cron expression/);

  const good = quickNotifier(store, { email: { recipients: ["ops@example.com"], mode: "digest" }, staleAfterHours: 12 });
  t.notThrows(() => good.start());
  await t.notThrowsAsync(good.stop());
});

test("a broken store never fails the caller: the event is logged and dropped", (t) => {
  const db = openDatabase(dir.file("broken.db"));
  const store = new NotificationStore(db);
  db.close();
  const { logger, text } = memoryLogger();
  const notifier = quickNotifier(store, { slack: { webhookUrl: "http://127.0.0.1:9/hook" } }, { logger });
  t.deepEqual(notifier.onScanCompleted(null, scan(1, [critical])), { events: [], duplicates: 0, notifications: [] });
  t.deepEqual(notifier.onFixEvent({ type: "fix-failed", workload: { namespace: "a", kind: "Deployment", name: "b" }, ruleIds: ["x"], reason: "conflict" }).events, []);
  t.regex(text(), /could not process the event; nothing was sent/);
});

test("sendTest: a configured channel gets the test message; an unconfigured one is a ConfigError; a failing one a DeliveryError with every attempt", async (t) => {
  const ok = await webhookReceiver();
  t.teardown(ok.close);
  const failing = await webhookReceiver(() => ({ status: 502 }));
  t.teardown(failing.close);
  const store = freshStore(dir);

  const sent = await quickNotifier(store, { slack: { webhookUrl: ok.url, enabled: false } }).sendTest("slack", "cli");
  t.like(sent, { channel: "slack", status: "sent" });
  t.is(sent.attempts.length, 1);
  t.is((ok.requests[0]!.json as Payload).text, "[kube-policy] Test notification (slack)");
  t.like(store.notification(sent.notificationId), { kind: "test", status: "sent" });

  const missing = await t.throwsAsync(quickNotifier(store, {}).sendTest("email"), { instanceOf: ConfigError });
  t.deepEqual(missing?.details.map((d) => d.where), ["/notifications/email"]);

  const error = await t.throwsAsync(quickNotifier(store, { slack: { webhookUrl: failing.url } }).sendTest("slack"), { instanceOf: DeliveryError });
  t.is(error?.message, "the test notification to slack failed after 3 attempt(s): Slack answered HTTP 502: error");
  t.deepEqual(error?.details.map((d) => d.where), ["attempt 1", "attempt 2", "attempt 3"]);
  t.is(failing.requests.length, 3);
});
