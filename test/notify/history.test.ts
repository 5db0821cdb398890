// Covers the notification history (src/notify/history.ts, NotificationStore.history): the
// list_notification_history tool (registered, offered in read-only mode, output matching its
// outputSchema, every filter: channel, to, status including retrying and pending, eventType, kind,
// since/until, limit with `more`; bad filters refused naming the field) and `kube-policy notify history`
// as a subprocess (text and JSON, filters, exit 2 naming the option). The history is made by real
// deliveries: a Slack receiver answering 429 + Retry-After: 1 then 200, one answering 404, and an SMTP
// server with AUTH; no webhook token, webhook path or SMTP password may appear in any output.
// Real components: the committed wasm bundle and the bundled demo (the runtime the tool needs), HTTP and
// SMTP servers on 127.0.0.1, SQLite on temporary files, the CLI through tsx.
import { writeFileSync } from "node:fs";
import test from "ava";
import { z } from "zod";
import type { NotificationsConfig } from "../../src/config/types.js";
import { InvalidInputError } from "../../src/errors.js";
import { MemorySource } from "../../src/kube/memory-source.js";
import type { HistoryResult } from "../../src/notify/history.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import { NotificationStore } from "../../src/store/notification-store.js";
import { ALL_TOOLS, toolsFor } from "../../src/tools/index.js";
import { finding, quickNotifier, scan, smtpReceiver, tempDir, webhookReceiver } from "./helpers.js";
import { runCli, type CliRun as Run } from "../helpers/cli.js";

const bundle = await PolicyBundle.load();
const demo = await MemorySource.demo();
const dir = tempDir("kube-policy-notify-history-");

const SMTP_PASSWORD = "smtp-pa55word-never-shown";
const tool = ALL_TOOLS.find((t) => t.name === "list_notification_history");

// One history for every test: made once, by real deliveries, in this database.
const dbFile = dir.file("history.db");
const slack = await webhookReceiver((n) => (n === 0 ? { status: 429, body: "rate_limited", headers: { "retry-after": "1" } } : { status: 200 }));
const gone = await webhookReceiver(() => ({ status: 404, body: "no_service" }));
const smtp = await smtpReceiver({ user: "alerts-bot", password: SMTP_PASSWORD });
const slackConfig: NotificationsConfig = { slack: { webhookUrl: slack.url, channel: "#k8s-alerts" } };
const runtimeConfig = { notifications: { ...slackConfig, email: { recipients: ["ops@example.com"], smtp: { host: "127.0.0.1", port: smtp.port, userEnv: "U", passwordEnv: "P" } } } };
const rt = new Runtime(runtimeConfig, bundle, demo, { databasePath: dbFile });
const store = new NotificationStore(rt.db());

const critical = finding("priv", "critical", { ruleId: "privileged-container" });
const high = finding("latest", "high", { ruleId: "image-latest-tag" });
let t0 = 0;
let t1 = 0;
{
  t0 = Date.now();
  // 1. A scan alert to #k8s-alerts: 429 (Retry-After 1), then delivered.
  const a = quickNotifier(store, slackConfig);
  a.onScanCompleted(null, scan(1, [critical, high]));
  await a.idle();
  // 2. A fix alert to a revoked webhook: 404, failed, not retried.
  const b = quickNotifier(store, { slack: { webhookUrl: gone.url, channel: "#k8s-fixes" } });
  b.onFixEvent({ type: "fix-applied", workload: { namespace: "shop", kind: "Deployment", name: "web" }, ruleIds: ["run-as-non-root"], changeId: "chg-1", severity: "high" });
  await b.idle();
  // 3. A scan alert by e-mail, with SMTP AUTH.
  const c = quickNotifier(store, { email: runtimeConfig.notifications.email }, { env: { U: "alerts-bot", P: SMTP_PASSWORD } });
  c.onScanCompleted(null, scan(3, [high], { scope: "staging" }));
  await c.idle();
  // 4. and 5. Messages in flight: one waiting for its first attempt, one retrying after a failure.
  const now = Date.now();
  store.createNotification({ channel: "slack", kind: "digest", eventIds: [], eventTypes: [], subject: "digest in flight", destination: { targets: ["#k8s-alerts"], endpoint: "x" } }, now);
  const retrying = store.createNotification({ channel: "email", kind: "test", eventIds: [], eventTypes: [], subject: "test in flight" }, now + 1);
  store.recordAttempt({ notificationId: retrying, attempt: 1, status: "failed", retryable: true, statusCode: 421, error: "SMTP delivery to 127.0.0.1 failed: try later", startedAt: now + 1, durationMs: 5, waitMs: 1000 });
  t1 = Date.now();
}

// Declared after the awaits above: ava wants every declaration in the same turn.
test.after.always(async () => {
  rt.close();
  await Promise.all([slack.close(), gone.close(), smtp.close()]);
  dir.remove();
});

const SECRETS = ["s3cr3tT0kenXYZ", "/services/", "T0000", SMTP_PASSWORD];

async function history(args: Record<string, unknown>): Promise<{ result: HistoryResult; text: string }> {
  if (!tool) throw new Error("list_notification_history is not in ALL_TOOLS");
  const { structured, text } = await tool.run(args, { runtime: rt, actor: "mcp:test" });
  return { result: structured as unknown as HistoryResult, text };
}

test("list_notification_history is registered, read-only (offered in --read-only mode) and returns what its outputSchema says", async (t) => {
  if (!tool) return t.fail("list_notification_history is not in ALL_TOOLS");
  t.false(tool.writes);
  t.is(tool.annotations.readOnlyHint, true);
  t.truthy(toolsFor({ readOnly: true }).find((x) => x.name === "list_notification_history"));
  const { structured } = await tool.run({}, { runtime: rt, actor: "mcp:test" });
  t.notThrows(() => z.object(tool.outputSchema).strict().parse(structured));
});

test("every message, newest first, with what it told, where it went, and every attempt; no secret anywhere", async (t) => {
  const { result, text } = await history({});
  t.is(result.total, 5);
  t.false(result.more);
  const [retrying, pending, email, fix, alert] = result.notifications;
  t.like(retrying, { status: "retrying", channel: "email", kind: "test", destination: null });
  t.like(pending, { status: "pending", attempts: [] });

  t.like(alert, { channel: "slack", kind: "alert", status: "sent", eventTypes: ["scan-new-violations"], error: null });
  t.deepEqual(alert!.destination!.targets, ["#k8s-alerts"]);
  t.regex(alert!.destination!.endpoint, /^http:\/\/127\.0\.0\.1:\d+\/\[redacted\] \(key [0-9a-f]{8}\)$/);
  t.like(alert!.events[0], { type: "scan-new-violations", scanId: 1, scope: "production", namespaces: ["production"], ruleIds: ["privileged-container", "image-latest-tag"], severity: "critical" });
  t.is(alert!.attempts.length, 2);
  t.like(alert!.attempts[0], { attempt: 1, outcome: "failed", protocol: "http", statusCode: 429, retryAfterMs: 1000, waitMs: 1000, error: "Slack rate-limited us (HTTP 429, Retry-After 1 s): rate_limited" });
  t.like(alert!.attempts[1], { attempt: 2, outcome: "sent", statusCode: 200, response: "ok", error: null, waitMs: null });
  t.true(Date.parse(alert!.attempts[1]!.startedAt) - Date.parse(alert!.attempts[0]!.startedAt) >= 1000);

  t.like(fix, { channel: "slack", status: "failed", error: "Slack answered HTTP 404: no_service", eventTypes: ["fix-applied"] });
  t.like(fix!.events[0], { type: "fix-applied", scanId: null, namespaces: ["shop"], resource: "Deployment shop/web", ruleIds: ["run-as-non-root"], severity: "high" });
  t.deepEqual(fix!.attempts.map((a) => [a.attempt, a.statusCode, a.retryable, a.waitMs]), [[1, 404, false, null]]);

  t.like(email, { channel: "email", status: "sent", destination: { targets: ["ops@example.com"], endpoint: `smtp://127.0.0.1:${smtp.port}` } });
  t.like(email!.attempts[0], { outcome: "sent", protocol: "smtp", statusCode: 250 });
  t.regex(email!.attempts[0]!.response ?? "", /^250 /);

  t.regex(text, /^5 of 5 notification\(s\), newest first\.\n/);
  t.regex(text, /slack alert sent → #k8s-alerts via http:\/\/127\.0\.0\.1:\d+\/\[redacted\]/);
  t.regex(text, /attempt 1 at \S+: failed, HTTP 429, \d+ ms: Slack rate-limited us \(HTTP 429, Retry-After 1 s\): rate_limited; waited 1 s \(Retry-After\)/);
  t.regex(text, /event fix-applied: Deployment shop\/web, rule run-as-non-root/);
  for (const secret of SECRETS) {
    t.false(JSON.stringify(result).includes(secret), `the result contains ${secret}`);
    t.false(text.includes(secret), `the text contains ${secret}`);
  }
});

test("namespace isolation: messages about namespaces the configuration hides are left out, as the audit log does", async (t) => {
  if (!tool) return t.fail("list_notification_history is not in ALL_TOOLS");
  const everything = (await tool.run({}, { runtime: rt, actor: "mcp:test" })).structured as unknown as HistoryResult;
  const isolated = new Runtime({ ...runtimeConfig, namespaces: { deny: ["shop"] } }, bundle, demo, { databasePath: dbFile });
  t.teardown(() => isolated.close());
  const { structured, text } = await tool.run({}, { runtime: isolated, actor: "mcp:test" });
  const result = structured as unknown as HistoryResult;
  const aboutShop = (r: HistoryResult) => r.notifications.filter((n) => n.events.some((e) => e.namespaces.includes("shop")));
  t.is(aboutShop(everything).length, 1, "the fix alert on shop is in the unrestricted history");
  t.deepEqual(aboutShop(result), []);
  t.is(result.total, everything.total - 1);
  t.deepEqual(result.notifications.map((n) => n.id), everything.notifications.map((n) => n.id).filter((id) => id !== aboutShop(everything)[0]!.id));
  t.false(text.includes("shop/web"));
});

test("filters: channel, to, status, eventType, kind, since/until, limit with more", async (t) => {
  const ids = async (args: Record<string, unknown>) => (await history(args)).result.notifications.map((n) => n.subject);
  const slackOnly = (await history({ channel: "slack" })).result;
  t.is(slackOnly.total, 3);
  t.true(slackOnly.notifications.every((n) => n.channel === "slack"));
  t.deepEqual((await history({ to: "#k8s-alerts" })).result.notifications.map((n) => n.kind), ["digest", "alert"]);
  t.deepEqual((await history({ to: "K8S-ALERTS" })).result.total, 2, "a channel with or without #, any case");
  t.deepEqual((await history({ to: "ops@example.com" })).result.notifications.map((n) => n.channel), ["email"]);
  t.is((await history({ to: "#nobody" })).result.total, 0);
  t.deepEqual((await history({ status: "failed" })).result.notifications.map((n) => n.error), ["Slack answered HTTP 404: no_service"]);
  t.deepEqual(await ids({ status: "retrying" }), ["test in flight"]);
  t.deepEqual(await ids({ status: "pending" }), ["digest in flight"]);
  t.is((await history({ status: "sent" })).result.total, 2);
  t.deepEqual((await history({ eventType: "fix-applied" })).result.notifications.map((n) => n.eventTypes), [["fix-applied"]]);
  t.is((await history({ eventType: "scan-new-violations", channel: "email" })).result.total, 1);
  t.is((await history({ kind: "alert" })).result.total, 3);
  t.is((await history({ since: new Date(t1 + 60_000).toISOString() })).result.total, 0);
  t.is((await history({ until: new Date(t0 - 60_000).toISOString() })).result.total, 0);
  t.is((await history({ since: new Date(t0).toISOString(), until: new Date(t1 + 1000).toISOString() })).result.total, 5);
  const today = new Date(t0).toISOString().slice(0, 10);
  t.is((await history({ since: today, until: today })).result.total, 5, "bare dates cover the whole day");

  const one = await history({ limit: 2 });
  t.is(one.result.notifications.length, 2);
  t.is(one.result.total, 5);
  t.true(one.result.more);
  t.regex(one.text, /^2 of 5 notification\(s\), newest first \(3 more: raise the limit or narrow the filters\)\./);
});

test("bad filters are refused, each problem naming its field", async (t) => {
  if (!tool) return t.fail("list_notification_history is not in ALL_TOOLS");
  const refused = async (args: Record<string, unknown>) => {
    const error = await t.throwsAsync(tool.run(args, { runtime: rt, actor: "mcp:test" }), { instanceOf: InvalidInputError });
    return error?.details ?? [];
  };
  const [status] = await refused({ status: "deduplicated" });
  t.is(status?.where, "status");
  t.regex(status?.message ?? "", /"deduplicated" is not a status: one of pending, retrying, sent, failed \(deduplicated events are dropped before any message is made/);
  t.deepEqual((await refused({ channel: "pager" }))[0], { where: "channel", message: '"pager" is not a channel: one of slack, email' });
  t.is((await refused({ eventType: "scan-done" }))[0]?.where, "eventType");
  t.deepEqual((await refused({ since: "yesterday" }))[0], { where: "since", message: '"yesterday" is not an ISO 8601 date or date-time (2026-01-31, 2026-01-31T12:00:00Z)' });
  t.deepEqual((await refused({ until: "2026-13-45" }))[0]?.where, "until");
  t.deepEqual(await refused({ since: "2026-02-01", until: "2026-01-01" }), [{ where: "until", message: "2026-01-01 is before since (2026-02-01)" }]);
  t.is((await refused({ limit: 0 }))[0]?.where, "limit");
});

const cli = (args: string[]): Promise<Run> =>
  runCli(args, { from: "src", env: { LOG_LEVEL: undefined } });

const configFile = dir.file("config.json");
writeFileSync(configFile, JSON.stringify(runtimeConfig));

test("kube-policy notify history prints the attempts as text, without secrets", async (t) => {
  const run = await cli(["notify", "history", "--db", dbFile, "--config", configFile, "--channel", "slack"]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^3 of 3 notification\(s\), newest first\.\n/);
  t.regex(run.stdout, /attempt 1 at \S+: failed, HTTP 429, \d+ ms: Slack rate-limited us \(HTTP 429, Retry-After 1 s\): rate_limited; waited 1 s \(Retry-After\)\n {2}attempt 2 at \S+: sent, HTTP 200, \d+ ms: ok\n/);
  t.regex(run.stdout, /attempt 1 at \S+: failed, HTTP 404, \d+ ms: Slack answered HTTP 404: no_service\n/);
  t.regex(run.stdout, /event scan-new-violations: scan #1, namespace production, rules privileged-container, image-latest-tag/);
  t.false(run.stdout.includes("email"));
  for (const secret of SECRETS) t.false(run.stdout.includes(secret) || run.stderr.includes(secret), `the output contains ${secret}`);
});

test("kube-policy notify history --format json applies the filters and says when there are more", async (t) => {
  const run = await cli(["notify", "history", "--db", dbFile, "--config", configFile, "--format", "json", "--status", "sent", "--limit", "1"]);
  t.is(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as HistoryResult;
  t.is(result.total, 2);
  t.true(result.more);
  t.is(result.notifications.length, 1);
  t.like(result.notifications[0], { channel: "email", status: "sent" });
  const failed = JSON.parse((await cli(["notify", "history", "--db", dbFile, "--config", configFile, "-o", "json", "--event-type", "fix-applied", "--to", "#k8s-fixes"])).stdout) as HistoryResult;
  t.deepEqual(failed.notifications.map((n) => [n.status, n.attempts.length]), [["failed", 1]]);
  for (const secret of SECRETS) t.false(run.stdout.includes(secret));
});

test("kube-policy notify history exits 2 for bad filters, naming each option", async (t) => {
  const run = await cli(["notify", "history", "--db", dbFile, "--config", configFile, "--status", "suppressed", "--since", "2026-02-01", "--until", "2026-01-01", "--event-type", "nope", "--limit", "many"]);
  t.is(run.code, 2);
  t.is(run.stdout, "");
  t.regex(run.stderr, /^kube-policy: invalid notification history filter\n/);
  t.regex(run.stderr, /\n {2}- --status: "suppressed" is not a status: one of pending, retrying, sent, failed \(deduplicated events/);
  t.regex(run.stderr, /\n {2}- --event-type: "nope" is not a notification event type: one of scan-new-violations/);
  t.regex(run.stderr, /\n {2}- --until: 2026-01-01 is before since \(2026-02-01\)\n/);
  t.regex(run.stderr, /\n {2}- --limit: "many" is not a whole number from 1 to 500\n/);
});
