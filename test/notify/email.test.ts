// Covers e-mail delivery (src/notify/email.ts through the notifier): a real SMTP server receives the
// alert and mailparser reads it back (subject, envelope, an HTML and a plain-text part with the same
// content, escaping); SMTP authentication with the user and password taken only from the environment
// variables the configuration names, and neither value in any log line or stored record; a refused
// login or an unset variable fails without retries; an SMTP 4xx reply is retried, a refused connection
// too; a server that never greets is cut off by the per-attempt timeout; requireTLS refuses clear text.
// Real components: smtp-server on 127.0.0.1, nodemailer, mailparser, SQLite on temporary files, pino
// writing into memory.
import net from "node:net";
import type { AddressInfo } from "node:net";
import test from "ava";
import type { NotificationsConfig } from "../../src/config/types.js";
import { finding, freshStore, memoryLogger, quickNotifier, refusedPort, scan, smtpReceiver, tempDir } from "./helpers.js";

const dir = tempDir("kube-policy-email-");
test.after.always(dir.remove);

const critical = finding("priv", "critical", {
  ruleId: "privileged-container",
  resource: { kind: "Deployment", namespace: "production", name: "web" },
  message: "container app runs privileged",
  remediation: "Remove securityContext.privileged.",
  fixHint: "auto-fixable: set securityContext.privileged to false",
});
const medium = finding("limits", "medium", { ruleId: "cpu-limits", message: "no cpu limit <b>&</b>", remediation: "Set resources.limits.cpu." });

const emailConfig = (port: number, extra: Partial<NonNullable<NotificationsConfig["email"]>> = {}): NotificationsConfig => ({
  email: {
    recipients: ["ops@example.com", "security@example.com"],
    from: "kube-policy@example.com",
    smtp: { host: "127.0.0.1", port, secure: false },
    ...extra,
  },
});

test("the SMTP server receives one mail with the subject, an HTML and a plain-text part carrying the same content", async (t) => {
  const smtp = await smtpReceiver();
  t.teardown(smtp.close);
  const store = freshStore(dir);
  const notifier = quickNotifier(store, emailConfig(smtp.port));

  notifier.onScanCompleted(scan(1, [], { score: 95 }), scan(2, [medium, critical], { score: 88, finishedAt: "2026-03-04T05:06:07.000Z" }));
  await notifier.idle();

  t.is(smtp.messages.length, 1);
  const { mail, from, to } = smtp.messages[0]!;
  t.is(from, "kube-policy@example.com");
  t.deepEqual(to, ["ops@example.com", "security@example.com"]);
  t.is(mail.subject, "[kube-policy] 2 new violations in namespace production (kind-test): score 88.0% (▼ 7.0 from 95.0%)");
  const html = mail.html;
  const text = mail.text ?? "";
  t.is(typeof html, "string");
  if (typeof html !== "string") return;
  for (const expected of [
    "Score: 88.0% (▼ 7.0 from 95.0%)",
    "New violations: 2 (1 critical, 1 medium)",
    "privileged-container",
    "Deployment production/web",
    "container app runs privileged",
    "auto-fixable: set securityContext.privileged to false",
    "cpu-limits",
    "Set resources.limits.cpu.",
    "Scan #2 · 2026-03-04T05:06:07.000Z · namespace production (kind-test)",
  ]) {
    t.true(text.includes(expected), `text part lacks ${expected}`);
    const inHtml = expected.replace(/^(Score|New violations): /, "");
    t.true(html.includes(inHtml), `HTML part lacks ${inHtml}`);
  }
  t.true(text.includes("no cpu limit <b>&</b>"), "the text part keeps the message as it is");
  t.true(html.includes("no cpu limit &lt;b&gt;&amp;&lt;/b&gt;"), "the HTML part escapes it");
  t.false(html.includes("<b>&</b>"));
  t.true(text.indexOf("privileged-container") < text.indexOf("cpu-limits"), "most severe first");
  t.true(html.indexOf("privileged-container") < html.indexOf("cpu-limits"), "most severe first in HTML too");

  const [record] = store.listNotifications();
  t.like(record, { channel: "email", status: "sent", attempts: 1 });
  t.like(store.attempts(record!.id)[0], { status: "sent", statusCode: 250 });
});

test("SMTP credentials come from the named environment variables; neither appears in logs or stored records", async (t) => {
  const user = "alerts-bot";
  const password = "Pa55-w0rd-that-must-not-leak";
  const smtp = await smtpReceiver({ user, password });
  t.teardown(smtp.close);
  process.env.KP_TEST_SMTP_USER = user;
  process.env.KP_TEST_SMTP_PASSWORD = password;
  t.teardown(() => {
    delete process.env.KP_TEST_SMTP_USER;
    delete process.env.KP_TEST_SMTP_PASSWORD;
  });
  const store = freshStore(dir);
  const { logger, text, lines } = memoryLogger();
  // Anything else printed meanwhile (nodemailer's own logger, were it switched on) is read as well.
  const printed: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      printed.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof stream.write;
    t.teardown(() => void (stream.write = write));
  }
  const config = emailConfig(smtp.port, { smtp: { host: "127.0.0.1", port: smtp.port, userEnv: "KP_TEST_SMTP_USER", passwordEnv: "KP_TEST_SMTP_PASSWORD" } });
  // No env option: the notifier reads process.env, as in production.
  const notifier = quickNotifier(store, config, { logger });

  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();
  const test = await notifier.sendTest("email", "cli");

  t.deepEqual(smtp.auths, [
    { user, ok: true },
    { user, ok: true },
  ]);
  t.is(smtp.messages.length, 2);
  t.is(smtp.messages[0]!.user, user);
  t.is(smtp.messages[1]!.mail.subject, "[kube-policy] Test notification (email)");
  t.is(test.status, "sent");
  t.true(lines.length >= 2, "the deliveries were logged");
  t.false(text().includes(password), "a log line contains the password");
  t.false(printed.join("").includes(password), "stdout or stderr got the password");
  t.false(text().includes(Buffer.from(`\u0000${user}\u0000${password}`).toString("base64")), "a log line contains the AUTH PLAIN token");
  for (const n of store.listNotifications()) {
    t.false(JSON.stringify([n, store.attempts(n.id)]).includes(password));
  }
});

test("a refused login fails at once (no retry), and the error recorded and logged does not contain the password", async (t) => {
  const password = "wrong-Pa55word-42";
  const smtp = await smtpReceiver({ user: "alerts-bot", password: "the-right-one" });
  t.teardown(smtp.close);
  const store = freshStore(dir);
  const { logger, text } = memoryLogger();
  const notifier = quickNotifier(store, emailConfig(smtp.port, { smtp: { host: "127.0.0.1", port: smtp.port, userEnv: "U", passwordEnv: "P" } }), {
    logger,
    env: { U: "alerts-bot", P: password },
  });
  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();
  t.is(smtp.auths.length, 1);
  const [record] = store.listNotifications();
  t.like(record, { status: "failed", attempts: 1 });
  const [attempt] = store.attempts(record!.id);
  t.like(attempt, { retryable: false, statusCode: 535 });
  t.regex(attempt!.error!, /EAUTH/);
  t.false(attempt!.error!.includes(password));
  t.regex(text(), /notification not delivered/);
  t.false(text().includes(password));
});

test("an unset credential variable fails without connecting and names the variable, not a value", async (t) => {
  const smtp = await smtpReceiver({ user: "u", password: "p" });
  t.teardown(smtp.close);
  const store = freshStore(dir);
  const notifier = quickNotifier(store, emailConfig(smtp.port, { smtp: { host: "127.0.0.1", port: smtp.port, userEnv: "KP_UNSET_USER", passwordEnv: "KP_UNSET_PASSWORD" } }), { env: {} });
  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();
  t.is(smtp.auths.length, 0);
  t.is(smtp.messages.length, 0);
  const [record] = store.listNotifications();
  t.like(record, {
    status: "failed",
    attempts: 1,
    error: "the environment variable(s) holding the SMTP credentials are not set: KP_UNSET_USER (smtp.userEnv), KP_UNSET_PASSWORD (smtp.passwordEnv)",
  });
});

test("an SMTP 4xx reply (try later) is retried once and the second attempt delivers", async (t) => {
  const smtp = await smtpReceiver({ reject: (n) => (n === 0 ? 451 : null) });
  t.teardown(smtp.close);
  const store = freshStore(dir);
  const notifier = quickNotifier(store, emailConfig(smtp.port));
  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();
  t.is(smtp.messages.length, 1);
  const [record] = store.listNotifications();
  t.like(record, { status: "sent", attempts: 2 });
  t.deepEqual(store.attempts(record!.id).map((a) => [a.status, a.statusCode, a.retryable]), [
    ["failed", 451, true],
    ["sent", 250, false],
  ]);
});

test("an SMTP 5xx reply to the message is permanent: not retried", async (t) => {
  const smtp = await smtpReceiver({ reject: () => 554 });
  t.teardown(smtp.close);
  const store = freshStore(dir);
  const notifier = quickNotifier(store, emailConfig(smtp.port));
  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();
  const [record] = store.listNotifications();
  t.like(record, { status: "failed", attempts: 1 });
  t.like(store.attempts(record!.id)[0], { statusCode: 554, retryable: false });
});

test("a refused SMTP connection is retried up to the attempt limit", async (t) => {
  const port = await refusedPort();
  const store = freshStore(dir);
  const notifier = quickNotifier(store, emailConfig(port));
  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();
  const [record] = store.listNotifications();
  t.like(record, { status: "failed", attempts: 3 });
  for (const a of store.attempts(record!.id)) {
    t.true(a.retryable);
    t.regex(a.error ?? "", /ECONNREFUSED/);
  }
});

test("a server that accepts the connection but never greets is cut off by the per-attempt timeout", async (t) => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => void sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const { port } = silent.address() as AddressInfo;
  const store = freshStore(dir);
  const notifier = quickNotifier(store, emailConfig(port), { delivery: { maxAttempts: 2, timeoutMs: 250, backoffMs: 10 } });
  const started = performance.now();
  notifier.onScanCompleted(null, scan(1, [critical]));
  t.true(performance.now() - started < 100, "the caller is not held up");
  await notifier.idle();
  const total = performance.now() - started;
  t.true(total >= 500 && total < 2_000, `gave up after ${total.toFixed(0)} ms`);
  t.is(sockets.size, 2, "one connection per attempt");
  const [record] = store.listNotifications();
  t.like(record, { status: "failed", attempts: 2, error: "no answer within 250 ms (timed out)" });
  for (const a of store.attempts(record!.id)) t.like(a, { status: "failed", retryable: true });
});

test("requireTLS refuses a server without STARTTLS before any credential or message is sent, and is not retried", async (t) => {
  const smtp = await smtpReceiver({ user: "alerts-bot", password: "pw-never-sent" });
  t.teardown(smtp.close);
  const store = freshStore(dir);
  const notifier = quickNotifier(store, emailConfig(smtp.port, { smtp: { host: "127.0.0.1", port: smtp.port, requireTLS: true, userEnv: "U", passwordEnv: "P" } }), {
    env: { U: "alerts-bot", P: "pw-never-sent" },
  });
  notifier.onScanCompleted(null, scan(1, [critical]));
  await notifier.idle();
  t.deepEqual(smtp.auths, [], "no AUTH over a clear-text connection");
  t.is(smtp.messages.length, 0);
  const [record] = store.listNotifications();
  t.like(record, { status: "failed", attempts: 1 });
  t.like(store.attempts(record!.id)[0], { retryable: false });
  t.regex(record!.error ?? "", /STARTTLS|ETLS/);
});
