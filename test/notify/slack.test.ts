// Covers Slack delivery (src/notify/slack.ts, delivery.ts, the notifier's background queue): the Block
// Kit payload as the webhook receives it (header, score and delta, counts by severity, top violations
// with fix hint, context with scan id and time, channel override, mrkdwn escaping); retries (500 then
// 200: one retry, one success, both recorded), timeouts (a receiver that never answers is recorded as
// failed without holding up the caller), refused connections, no retry on 4xx; and the webhook URL's
// secret path never reaching a log line or the database.
// Real components: an HTTP server on 127.0.0.1 standing at the webhook URL, @slack/webhook, SQLite on
// temporary files, pino writing into memory.
import test from "ava";
import type { NotificationsConfig } from "../../src/config/types.js";
import { slackMessage } from "../../src/notify/slack.js";
import { finding, freshStore, memoryLogger, quickNotifier, refusedPort, scan, tempDir, webhookReceiver } from "./helpers.js";

const dir = tempDir("kube-policy-slack-");
test.after.always(dir.remove);

type Block = { type: string; text?: { type: string; text: string }; fields?: { text: string }[]; elements?: { text: string }[] };
type Payload = { channel?: string; text: string; blocks: Block[] };

const critical = finding("priv", "critical", {
  ruleId: "privileged-container",
  resource: { kind: "Deployment", namespace: "production", name: "web" },
  message: "container app runs privileged",
  remediation: "Remove securityContext.privileged.",
  fixHint: "auto-fixable: set securityContext.privileged to false (approval required)",
});
const high = finding("latest", "high", {
  ruleId: "image-latest-tag",
  resource: { kind: "StatefulSet", namespace: "production", name: "db" },
  message: "image postgres:latest uses the latest tag",
  remediation: "Pin the image to a version.",
});
const medium = finding("limits", "medium", { ruleId: "cpu-limits", message: "no cpu limit <b>&</b>" });

test("the webhook receives a Block Kit message: header, score and delta, counts, top violations with fix hint, context; channel override", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const store = freshStore(dir);
  const config: NotificationsConfig = { slack: { webhookUrl: receiver.url, channel: "#k8s-alerts" } };
  const notifier = quickNotifier(store, config);

  const previous = scan(1, [], { score: 90 });
  const current = scan(2, [medium, high, critical], { score: 82.5, finishedAt: "2026-01-02T03:04:05.000Z" });
  const result = notifier.onScanCompleted(previous, current);
  t.deepEqual(result.events.map((e) => e.type), ["scan-new-violations"]);
  t.deepEqual(result.notifications.map((n) => n.channel), ["slack"]);
  await notifier.idle();

  t.is(receiver.requests.length, 1);
  const request = receiver.requests[0]!;
  t.is(request.method, "POST");
  t.is(request.path, "/services/T0000/B0000/s3cr3tT0kenXYZ");
  t.regex(String(request.headers["content-type"]), /application\/json/);
  const payload = request.json as Payload;
  t.is(payload.channel, "#k8s-alerts");
  t.is(payload.text, "[kube-policy] 3 new violations in namespace production (kind-test): score 82.5% (▼ 7.5 from 90.0%)");

  const [header, headline, facts, counts, divider, ...rest] = payload.blocks;
  t.deepEqual(header, { type: "header", text: { type: "plain_text", text: payload.text, emoji: true } });
  t.is(headline!.type, "section");
  t.regex(headline!.text!.text, /found 3 violations that the previous scan did not have/);
  t.deepEqual(
    facts!.fields!.map((f) => f.text),
    ["*Score*\n82.5% (▼ 7.5 from 90.0%)", "*New violations*\n3 (1 critical, 1 high, 1 medium)", "*Resolved*\n0", "*Open*\n3"],
  );
  t.is(counts!.type, "context");
  t.deepEqual(counts!.elements!.map((e) => e.text), [":red_circle: 1 critical", ":large_orange_circle: 1 high", ":large_yellow_circle: 1 medium", ":white_circle: 0 low"]);
  t.is(divider!.type, "divider");

  const findings = rest.slice(0, 3).map((b) => b.text!.text);
  t.is(findings[0], ":red_circle: *critical* · `privileged-container` · Deployment production/web\ncontainer app runs privileged\n_Fix:_ auto-fixable: set securityContext.privileged to false (approval required)");
  t.is(findings[1], ":large_orange_circle: *high* · `image-latest-tag` · StatefulSet production/db\nimage postgres:latest uses the latest tag\n_Fix:_ Pin the image to a version.", "no fix hint: the remediation");
  t.true(findings[2]!.includes("no cpu limit &lt;b&gt;&amp;&lt;/b&gt;"), "text from the cluster is escaped for mrkdwn");

  const context = payload.blocks.at(-1)!;
  t.is(context.type, "context");
  t.is(context.elements![0]!.text, "Scan #2 · 2026-01-02T03:04:05.000Z · namespace production (kind-test)");

  const [record] = store.listNotifications();
  t.like(record, { channel: "slack", kind: "alert", status: "sent", attempts: 1, eventTypes: ["scan-new-violations"] });
  t.like(store.attempts(record!.id)[0], { attempt: 1, status: "sent", statusCode: 200, error: null });
});

test("maxFindings limits the listed violations and says how many more there are", async (t) => {
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const many = Array.from({ length: 5 }, (_, i) => finding(`f${i}`, i === 4 ? "critical" : "low"));
  const notifier = quickNotifier(freshStore(dir), { slack: { webhookUrl: receiver.url }, maxFindings: 3 });
  notifier.onScanCompleted(null, scan(1, many));
  await notifier.idle();
  const { blocks } = receiver.requests[0]!.json as Payload;
  const listed = blocks.filter((b) => b.type === "section" && b.text?.text.includes("_Fix:_"));
  t.is(listed.length, 3);
  t.true(listed[0]!.text!.text.includes("*critical*"), "the most severe are the ones listed");
  t.truthy(blocks.find((b) => b.type === "context" && b.elements?.[0]?.text === "…and 2 more new violation(s)"));
});

test("slackMessage never exceeds Slack's 50 blocks and keeps the context line last", (t) => {
  const { blocks } = slackMessage({
    subject: "s",
    headline: "h",
    facts: [],
    severityCounts: null,
    findings: [],
    moreFindings: 0,
    notes: Array.from({ length: 60 }, (_, i) => `note ${i}`),
    context: ["the context"],
  }) as { blocks: Block[] };
  t.is(blocks.length, 50);
  t.is(blocks.at(-1)!.elements![0]!.text, "the context");
});

test("a receiver that answers 500 then 200 gets exactly one retry and one success, both attempts recorded", async (t) => {
  const receiver = await webhookReceiver((n) => (n === 0 ? { status: 500, body: "internal_error" } : { status: 200 }));
  t.teardown(receiver.close);
  const store = freshStore(dir);
  const { logger, text } = memoryLogger();
  const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url } }, { logger });

  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();

  t.is(receiver.requests.length, 2);
  t.deepEqual(receiver.requests[1]!.json, receiver.requests[0]!.json, "the retry sends the same message");
  t.true(receiver.requests[1]!.at - receiver.requests[0]!.at >= 10, "the retry waited for the backoff");
  const [record] = store.listNotifications();
  t.like(record, { status: "sent", attempts: 2, error: null });
  const attempts = store.attempts(record!.id);
  t.is(attempts.length, 2);
  t.like(attempts[0], { attempt: 1, status: "failed", statusCode: 500, retryable: true, error: "Slack answered HTTP 500: internal_error" });
  t.like(attempts[1], { attempt: 2, status: "sent", statusCode: 200, retryable: false, error: null });
  t.regex(text(), /notification delivery attempt failed; retrying/);
  t.regex(text(), /"msg":"notification sent"/);
});

test("a receiver that never answers times out; the caller is not held up; every attempt is recorded as failed", async (t) => {
  const receiver = await webhookReceiver(() => "hang");
  t.teardown(receiver.close);
  const store = freshStore(dir);
  const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url } }, { delivery: { maxAttempts: 2, timeoutMs: 200, backoffMs: 10 } });

  const started = performance.now();
  const result = notifier.onScanCompleted(null, scan(1, [critical]));
  const callerMs = performance.now() - started;
  t.true(callerMs < 100, `onScanCompleted returned after ${callerMs.toFixed(1)} ms`);
  t.is(result.notifications.length, 1);
  t.is(store.notification(result.notifications[0]!.id)!.status, "pending", "still being delivered when the caller goes on");

  await notifier.idle();
  const total = performance.now() - started;
  // Two attempts of 200 ms and a 10 ms backoff: bounded, whatever the receiver does.
  t.true(total >= 400 && total < 2_000, `delivery gave up after ${total.toFixed(0)} ms`);
  t.is(receiver.requests.length, 2);
  const record = store.notification(result.notifications[0]!.id)!;
  t.like(record, { status: "failed", attempts: 2, error: "no answer within 200 ms (timed out)" });
  const attempts = store.attempts(record.id);
  t.deepEqual(attempts.map((a) => [a.attempt, a.status, a.retryable, a.statusCode]), [
    [1, "failed", true, null],
    [2, "failed", true, null],
  ]);
  for (const a of attempts) t.true(a.durationMs >= 190 && a.durationMs < 1_000, `attempt took ${a.durationMs} ms`);
});

test("a refused connection is retried up to the attempt limit and recorded", async (t) => {
  const port = await refusedPort();
  const store = freshStore(dir);
  const notifier = quickNotifier(store, { slack: { webhookUrl: `http://127.0.0.1:${port}/services/T/B/refusedS3cret` } });
  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();
  const [record] = store.listNotifications();
  t.like(record, { status: "failed", attempts: 3 });
  const attempts = store.attempts(record!.id);
  t.is(attempts.length, 3);
  for (const a of attempts) t.like(a, { status: "failed", retryable: true, statusCode: null, error: "cannot reach the Slack webhook: ECONNREFUSED" });
});

test("a 4xx answer (revoked webhook) is not retried", async (t) => {
  const receiver = await webhookReceiver(() => ({ status: 404, body: "no_service" }));
  t.teardown(receiver.close);
  const store = freshStore(dir);
  const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url } });
  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();
  t.is(receiver.requests.length, 1);
  const [record] = store.listNotifications();
  t.like(record, { status: "failed", attempts: 1, error: "Slack answered HTTP 404: no_service" });
  t.like(store.attempts(record!.id)[0], { retryable: false, statusCode: 404 });
});

test("the webhook URL and its secret path appear in no log line and no stored error, whatever happened", async (t) => {
  const failing = await webhookReceiver((n) => (n === 0 ? { status: 503 } : { status: 200 }));
  t.teardown(failing.close);
  const port = await refusedPort();
  const refusedUrl = `http://127.0.0.1:${port}/services/T/B/refusedS3cret`;
  const store = freshStore(dir);
  const { logger, text, lines } = memoryLogger();
  for (const url of [failing.url, refusedUrl]) {
    const notifier = quickNotifier(store, { slack: { webhookUrl: url } }, { logger });
    notifier.onScanCompleted(null, scan(url === refusedUrl ? 2 : 1, [critical], { scope: url === refusedUrl ? "staging" : "production" }));
    await notifier.idle();
  }
  t.true(lines.length >= 4, "the deliveries were logged");
  for (const secret of ["s3cr3tT0kenXYZ", "refusedS3cret", "/services/"]) {
    t.false(text().includes(secret), `logs contain ${secret}`);
    for (const n of store.listNotifications()) {
      t.false(JSON.stringify(n).includes(secret));
      t.false(JSON.stringify(store.attempts(n.id)).includes(secret), `attempts of ${n.id} contain ${secret}`);
    }
  }
});
