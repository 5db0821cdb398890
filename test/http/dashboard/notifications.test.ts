// Covers the dashboard's notification history (/notifications: src/http/dashboard/audit.ts notificationsPage
// over src/notify/history.ts, rendered by audit-pages.ts): every message newest first with every attempt
// (time, outcome, HTTP status or SMTP reply, error, Retry-After and the wait), the filters (channel, status,
// event type, kind, recipient, since/until) leaving exactly the expected messages, namespace isolation
// (a message about a denied namespace is absent, and present without the configuration), no secret of the
// configured channels on the page, a hostile workload name rendered as text, and bad filters as HTML errors
// naming the parameter.
// Real components: real deliveries by the Notifier (test/notify/helpers.ts): a Slack receiver on 127.0.0.1
// answering 429 + Retry-After: 1 then 200, one answering 404, an SMTP server with AUTH; the koa app on a
// runtime whose SQLite file holds that history.
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import test from "ava";
import { openDatabase } from "../../../src/store/db.js";
import { NotificationStore } from "../../../src/store/notification-store.js";
import { finding, quickNotifier, scan, smtpReceiver, webhookReceiver } from "../../notify/helpers.js";
import { serve, tempDir, type Served } from "./fixture.js";

const dir = tempDir("kube-policy-dashboard-notifications-");
const SMTP_PASSWORD = "smtp-pa55word-never-on-a-page";
const HOSTILE = "<script>alert('fix')</script>";

const slack = await webhookReceiver((n) => (n === 0 ? { status: 429, body: "rate_limited", headers: { "retry-after": "1" } } : { status: 200 }));
const gone = await webhookReceiver(() => ({ status: 404, body: "no_service" }));
const smtp = await smtpReceiver({ user: "alerts-bot", password: SMTP_PASSWORD });
const email = { recipients: ["ops@example.com"], smtp: { host: "127.0.0.1", port: smtp.port, userEnv: "DASH_SMTP_USER", passwordEnv: "DASH_SMTP_PASSWORD" } };

const file = path.join(dir, "history.db");
const times: number[] = [];
{
  const db = openDatabase(file);
  const store = new NotificationStore(db);
  times.push(Date.now());
  // 1. A scan alert to #k8s-alerts: 429 with Retry-After 1, then delivered.
  const a = quickNotifier(store, { slack: { webhookUrl: slack.url, channel: "#k8s-alerts" } });
  a.onScanCompleted(null, scan(1, [finding("priv", "critical", { ruleId: "privileged-container" })]));
  await a.idle();
  times.push(Date.now());
  // 2. A fix alert about a hostile workload name to a revoked webhook: 404, failed, not retried.
  const b = quickNotifier(store, { slack: { webhookUrl: gone.url, channel: "#k8s-fixes" } });
  b.onFixEvent({ type: "fix-applied", workload: { namespace: "shop", kind: "Deployment", name: HOSTILE }, ruleIds: ["run-as-non-root"], changeId: "chg-1", severity: "high" });
  await b.idle();
  times.push(Date.now());
  // 3. A scan alert by e-mail, with SMTP AUTH.
  const c = quickNotifier(store, { email }, { env: { DASH_SMTP_USER: "alerts-bot", DASH_SMTP_PASSWORD: SMTP_PASSWORD } });
  c.onScanCompleted(null, scan(3, [finding("latest", "high", { ruleId: "image-latest-tag" })], { scope: "staging" }));
  await c.idle();
  times.push(Date.now());
  // 4. A fix alert about kube-system, which one of the servers below denies.
  const d = quickNotifier(store, { slack: { webhookUrl: slack.url, channel: "#k8s-alerts" } });
  d.onFixEvent({ type: "fix-applied", workload: { namespace: "kube-system", kind: "DaemonSet", name: "proxy" }, ruleIds: ["host-pid"], changeId: "chg-2", severity: "high" });
  await d.idle();
  times.push(Date.now());
  db.close();
}

const servers: Served[] = [];
async function served(extra: Record<string, unknown> = {}): Promise<Served> {
  const config = path.join(dir, `config-${servers.length}.json`);
  writeFileSync(config, JSON.stringify({ notifications: { slack: { webhookUrl: slack.url, channel: "#k8s-alerts" }, email }, ...extra }));
  const s = await serve(file, { config });
  servers.push(s);
  return s;
}
const isolated = await served({ namespaces: { deny: ["kube-system"] } });
const open = await served();

test.after.always(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all([slack.close(), gone.close(), smtp.close()]);
  rmSync(dir, { recursive: true, force: true });
});

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** The message ids a page shows, in order, and each message's row. */
function rows(body: string): { id: number; html: string }[] {
  const tbody = /<table id="notifications">[\s\S]*?<tbody>([\s\S]*)<\/tbody><\/table>\s*(?:<nav|<\/section>)/.exec(body)?.[1] ?? "";
  return tbody
    .split(/(?=<tr><td><span class="id" data-notification=)/)
    .filter((r) => r.includes("data-notification="))
    .map((html) => ({ id: Number(/data-notification="(\d+)"/.exec(html)![1]), html }));
}
const ids = (body: string) => rows(body).map((r) => r.id);
const iso = (ms: number) => new Date(ms).toISOString();

test("every message newest first, with every attempt: time, outcome, HTTP status or SMTP reply, error, Retry-After and wait", async (t) => {
  const { status, body } = await get(`${isolated.url}/notifications`);
  t.is(status, 200);
  const [mail, fix, alert] = rows(body);
  t.deepEqual(ids(body), [3, 2, 1], "the kube-system message (4) is left out");
  t.regex(body, /data-metric="shown">3<\/strong> of <strong data-metric="total">3</);

  // The Slack alert: 429 with Retry-After 1 s, a wait of 1 s, then HTTP 200.
  const attempts = [...alert!.html.matchAll(/<tr><td>(\d+)<\/td>([\s\S]*?)<\/tr>/g)].map((m) => m[2]!);
  t.is(attempts.length, 2);
  t.regex(attempts[0]!, /<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z"/);
  t.regex(attempts[0]!, /failed<\/span> <span class="muted">retryable<\/span>/);
  t.regex(attempts[0]!, /<td>HTTP 429<\/td><td><span class="down">Slack rate-limited us \(HTTP 429, Retry-After 1 s\): rate_limited<\/span><\/td><td class="num nowrap">1 s<\/td><td class="num nowrap">1 s <span class="muted">\(Retry-After\)<\/span>/);
  t.regex(attempts[1]!, /sent<\/span><\/td><td>HTTP 200<\/td><td>ok<\/td><td class="num nowrap"><\/td><td class="num nowrap"><\/td>$/);
  t.regex(alert!.html, /#k8s-alerts<br><span class="muted">via <code>http:\/\/127\.0\.0\.1:\d+\/\[redacted\] \(key [0-9a-f]{8}\)<\/code>/);
  t.regex(alert!.html, /<code>scan-new-violations<\/code> scan #1 · namespace production · privileged-container · critical/);

  t.regex(fix!.html, /<span class="status st-error">failed<\/span>/);
  t.regex(fix!.html, /<td>HTTP 404<\/td><td><span class="down">Slack answered HTTP 404: no_service<\/span>/);
  t.notRegex(fix!.html, /retryable/, "a 404 is not retried");

  t.regex(mail!.html, /ops@example\.com<br><span class="muted">via <code>smtp:\/\/127\.0\.0\.1:\d+<\/code>/);
  t.regex(mail!.html, /<td>SMTP 250<\/td><td>250 /);

  for (const secret of ["s3cr3tT0kenXYZ", "/services/", "T0000", SMTP_PASSWORD, "DASH_SMTP_PASSWORD"]) t.false(body.includes(secret), `the page shows ${secret}`);
});

test("namespace isolation: the message about a denied namespace is absent, and shown without the configuration", async (t) => {
  const hidden = await get(`${isolated.url}/notifications?eventType=fix-applied`);
  t.deepEqual(ids(hidden.body), [2]);
  t.false(hidden.body.includes("kube-system"));
  t.regex(hidden.body, /data-note="isolation"/);
  const shown = await get(`${open.url}/notifications?eventType=fix-applied`);
  t.deepEqual(ids(shown.body), [4, 2]);
  t.regex(shown.body, /DaemonSet kube-system\/proxy/);
  t.notRegex(shown.body, /data-note="isolation"/);
});

test("the filters leave exactly the expected messages", async (t) => {
  const cases: [string, number[]][] = [
    ["channel=email", [3]],
    ["channel=slack", [2, 1]],
    ["status=failed", [2]],
    ["status=sent", [3, 1]],
    ["eventType=scan-new-violations", [3, 1]],
    ["kind=alert", [3, 2, 1]],
    ["kind=test", []],
    ["to=%23k8s-fixes", [2]],
    ["to=OPS@example.com", [3]],
    [`since=${iso(times[1]!)}`, [3, 2]],
    [`until=${iso(times[1]! - 1)}`, [1]],
    [`since=${iso(times[1]!)}&until=${iso(times[2]! - 1)}&channel=slack`, [2]],
    ["channel=slack&limit=2", [2]],
  ];
  for (const [query, expected] of cases) {
    const { status, body } = await get(`${isolated.url}/notifications?${query}`);
    t.is(status, 200, query);
    t.deepEqual(ids(body), expected, query);
  }
  // limit counts messages before isolation (as list_notification_history does): the newest Slack message is
  // the hidden one, so the isolated page shows none of one, and offers more.
  const paged = await get(`${open.url}/notifications?channel=slack&limit=1`);
  t.deepEqual(ids(paged.body), [4]);
  t.regex(paged.body, /<a data-page="more" href="\/notifications\?channel=slack&amp;limit=51">show 50 more<\/a>/);
  const pagedIsolated = await get(`${isolated.url}/notifications?channel=slack&limit=1`);
  t.deepEqual(ids(pagedIsolated.body), []);
  t.regex(pagedIsolated.body, /data-metric="total">2</);
  t.regex(pagedIsolated.body, /data-page="more"/);
  t.regex(paged.body, /<select name="channel">.*<option value="slack" selected>/, "the form shows the filter in force");
});

test("a hostile workload name in a message is rendered as text", async (t) => {
  const { body } = await get(`${isolated.url}/notifications`);
  t.false(body.includes(HOSTILE));
  t.true(body.includes("Deployment shop/&lt;script&gt;alert(&#39;fix&#39;)&lt;/script&gt;"));
  t.is(body.match(/<script/g)?.length, 1, "only the page's own script element");
});

test("bad filters are HTML error pages naming the parameter", async (t) => {
  const cases: [string, RegExp][] = [
    ["channel=pager", /<code>query\.channel<\/code>: &quot;pager&quot; is not a channel: one of slack, email/],
    ["status=deduplicated", /<code>query\.status<\/code>: .*deduplicated events are dropped before any message is made/],
    ["eventType=boom", /<code>query\.eventType<\/code>/],
    ["since=soon", /<code>query\.since<\/code>: &quot;soon&quot; is not an ISO 8601 date/],
    ["since=2026-02-01&until=2026-01-01", /<code>query\.until<\/code>/],
    ["limit=501", /<code>query\.limit<\/code>: &quot;501&quot; is not a whole number from 1 to 500/],
    ["kind=a&kind=b", /query parameter kind is given 2 times/],
  ];
  for (const [query, message] of cases) {
    const res = await get(`${isolated.url}/notifications?${query}`);
    t.is(res.status, 400, query);
    t.regex(res.body, message, query);
  }
  t.is((await get(`${isolated.url}/notifications`)).status, 200, "the server is still up");
});

test("secrets of the configured channels are scrubbed from stored texts that still hold them (older rows)", async (t) => {
  // A message stored with the webhook URL and the SMTP password in its texts, as a row from before scrubbing could be.
  const legacy = path.join(dir, "legacy.db");
  const db = openDatabase(legacy);
  const store = new NotificationStore(db);
  const at = Date.now();
  const id = store.createNotification({ channel: "slack", kind: "test", eventIds: [], eventTypes: [], subject: `test via ${slack.url}` }, at);
  store.recordAttempt({ notificationId: id, attempt: 1, status: "failed", retryable: false, statusCode: 535, error: `POST ${slack.url} failed; SMTP AUTH ${SMTP_PASSWORD} refused`, startedAt: at, durationMs: 3 });
  store.finishNotification(id, "failed", `POST ${slack.url} failed`, at + 5);
  db.close();
  process.env.DASH_SMTP_PASSWORD = SMTP_PASSWORD; // where the configuration says the password is
  const config = path.join(dir, "legacy.json");
  writeFileSync(config, JSON.stringify({ notifications: { slack: { webhookUrl: slack.url, channel: "#k8s-alerts" }, email } }));
  const s = await serve(legacy, { config });
  servers.push(s);
  const { status, body } = await get(`${s.url}/notifications`);
  t.is(status, 200);
  t.deepEqual(ids(body), [id]);
  for (const secret of ["s3cr3tT0kenXYZ", "/services/T0000", SMTP_PASSWORD]) t.false(body.includes(secret), `the page shows ${secret}`);
  t.regex(body, /\[redacted\]/);
});
