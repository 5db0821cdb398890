// Covers Slack rate limits (src/notify/slack.ts reads Retry-After, src/notify/delivery.ts waits for it):
// 429 + Retry-After: 1 then 200 waits at least a second instead of the 10 ms backoff and records both
// attempts with the wait; a Retry-After above the cap or above what is left of the retry budget fails at
// once with a message saying Slack rate-limited us for N s; a 429 on the last attempt says so; a 429
// without Retry-After backs off as before; 403 and 404 are not retried; Retry-After as an HTTP date.
// Real components: an HTTP server on 127.0.0.1 standing at the webhook URL, @slack/webhook, SQLite on
// temporary files, real timers (no injected sleep).
import test from "ava";
import { parseRetryAfter } from "../../src/notify/slack.js";
import { finding, freshStore, quickNotifier, scan, tempDir, webhookReceiver } from "./helpers.js";

const dir = tempDir("kube-policy-ratelimit-");
test.after.always(dir.remove);

const critical = finding("priv", "critical", { ruleId: "privileged-container" });

test("429 with Retry-After: 1, then 200: the second attempt comes at least 1 s after the first, both attempts and the wait recorded", async (t) => {
  const receiver = await webhookReceiver((n) =>
    n === 0 ? { status: 429, body: "rate_limited", headers: { "retry-after": "1" } } : { status: 200 },
  );
  t.teardown(receiver.close);
  const store = freshStore(dir);
  // The notifier's own backoff is 10 ms: only Retry-After can make it wait a second.
  const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url } });
  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();

  t.is(receiver.requests.length, 2);
  const gap = receiver.requests[1]!.at - receiver.requests[0]!.at;
  t.true(gap >= 1_000, `the retry came ${gap} ms after the first attempt`);
  const [record] = store.listNotifications();
  t.like(record, { status: "sent", attempts: 2, error: null });
  const attempts = store.attempts(record!.id);
  t.is(attempts.length, 2);
  t.like(attempts[0], {
    attempt: 1,
    status: "failed",
    statusCode: 429,
    retryable: true,
    retryAfterMs: 1_000,
    waitMs: 1_000,
    error: "Slack rate-limited us (HTTP 429, Retry-After 1 s): rate_limited",
  });
  t.like(attempts[1], { attempt: 2, status: "sent", statusCode: 200, retryAfterMs: null, waitMs: null, response: "ok" });
  t.true(Date.parse(attempts[1]!.startedAt) - Date.parse(attempts[0]!.startedAt) >= 1_000);
});

test("a Retry-After longer than the cap fails the message at once, saying Slack rate-limited us for N s", async (t) => {
  const receiver = await webhookReceiver(() => ({ status: 429, body: "rate_limited", headers: { "retry-after": "120" } }));
  t.teardown(receiver.close);
  const store = freshStore(dir);
  const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url } });
  const started = performance.now();
  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();
  const took = performance.now() - started;
  t.true(took < 5_000, `the delivery gave up after ${took.toFixed(0)} ms instead of waiting`);

  t.is(receiver.requests.length, 1);
  const [record] = store.listNotifications();
  const message = "Slack rate-limited us for 120 s (Retry-After), longer than the 60 s a delivery waits at most (delivery.maxRetryAfterMs); not retried";
  t.like(record, { status: "failed", attempts: 1, error: message });
  t.like(store.attempts(record!.id)[0], { status: "failed", statusCode: 429, retryAfterMs: 120_000, waitMs: null, error: message });
});

test("a Retry-After longer than what is left of the retry budget fails the message, after the waits that fitted", async (t) => {
  const receiver = await webhookReceiver((n) => (n < 2 ? { status: 429, headers: { "retry-after": "1" } } : { status: 200 }));
  t.teardown(receiver.close);
  const store = freshStore(dir);
  // 1.5 s of waiting in all: the first Retry-After (1 s) fits, the second does not (0.5 s left).
  const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url } }, { delivery: { maxAttempts: 4, backoffMs: 10, timeoutMs: 2_000, retryBudgetMs: 1_500 } });
  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();

  t.is(receiver.requests.length, 2, "no third request");
  const [record] = store.listNotifications();
  const message = "Slack rate-limited us for 1 s (Retry-After), longer than the 0.5 s left of the retry budget (delivery.retryBudgetMs 1.5 s); not retried";
  t.like(record, { status: "failed", attempts: 2, error: message });
  const attempts = store.attempts(record!.id);
  t.like(attempts[0], { statusCode: 429, retryAfterMs: 1_000, waitMs: 1_000 });
  t.like(attempts[1], { statusCode: 429, retryAfterMs: 1_000, waitMs: null, error: message });
});

test("a 429 on the last attempt says Slack rate-limited us and no attempt is left", async (t) => {
  const receiver = await webhookReceiver(() => ({ status: 429, headers: { "retry-after": "2" } }));
  t.teardown(receiver.close);
  const store = freshStore(dir);
  const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url } }, { delivery: { maxAttempts: 1 } });
  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();
  t.is(receiver.requests.length, 1);
  const [record] = store.listNotifications();
  t.like(record, { status: "failed", error: "Slack rate-limited us for 2 s (Retry-After) and no attempt is left (delivery.maxAttempts 1)" });
});

test("a 429 without Retry-After is retried with the usual backoff", async (t) => {
  const receiver = await webhookReceiver((n) => (n === 0 ? { status: 429, body: "rate_limited" } : { status: 200 }));
  t.teardown(receiver.close);
  const store = freshStore(dir);
  const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url } });
  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();
  t.is(receiver.requests.length, 2);
  const [record] = store.listNotifications();
  t.like(record, { status: "sent", attempts: 2 });
  t.like(store.attempts(record!.id)[0], { statusCode: 429, retryable: true, retryAfterMs: null, waitMs: 10, error: "Slack rate-limited us (HTTP 429, no Retry-After): rate_limited" });
});

for (const [status, body] of [
  [404, "no_service"],
  [403, "invalid_token"],
  [400, "invalid_payload"],
] as const) {
  test(`HTTP ${status} (${body}) is not retried, even with a Retry-After`, async (t) => {
    const receiver = await webhookReceiver(() => ({ status, body, headers: { "retry-after": "1" } }));
    t.teardown(receiver.close);
    const store = freshStore(dir);
    const notifier = quickNotifier(store, { slack: { webhookUrl: receiver.url } });
    notifier.onScanCompleted(null, scan(1, [critical]));
    await notifier.idle();
    t.is(receiver.requests.length, 1);
    const [record] = store.listNotifications();
    t.like(record, { status: "failed", attempts: 1, error: `Slack answered HTTP ${status}: ${body}` });
    t.like(store.attempts(record!.id)[0], { retryable: false, statusCode: status, waitMs: null });
  });
}

test("Retry-After is read as seconds or as an HTTP date; anything else is ignored", (t) => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  t.is(parseRetryAfter("30", now), 30_000);
  t.is(parseRetryAfter(" 0 ", now), 0);
  t.is(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now), 5_000);
  t.is(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now), 0, "a date in the past: no wait");
  t.is(parseRetryAfter("-1", now), null);
  t.is(parseRetryAfter("1.5", now), null);
  t.is(parseRetryAfter("soon", now), null);
  t.is(parseRetryAfter(null, now), null);
});
