// Covers the doors to the test message: the send_test_notification tool (registered in ALL_TOOLS, its
// output matching its outputSchema, argument validation, a channel that is not configured) and
// `kube-policy notify test` run as a subprocess (exit 0 delivered with the attempts printed and recorded
// in the database, 3 when every attempt failed, 2 for a missing channel or a malformed configuration).
// Real components: the committed wasm bundle and the bundled demo manifests (the runtime the tool
// needs), an HTTP receiver at the Slack webhook URL on 127.0.0.1, SQLite on temporary files, and the CLI
// through tsx (src/, so no build is needed).
import { writeFileSync } from "node:fs";
import test from "ava";
import { z } from "zod";
import type { PolicyConfig } from "../../src/config/types.js";
import { ConfigError, InvalidInputError } from "../../src/errors.js";
import { MemorySource } from "../../src/kube/memory-source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import { openDatabase } from "../../src/store/db.js";
import { NotificationStore } from "../../src/store/notification-store.js";
import { ALL_TOOLS } from "../../src/tools/index.js";
import { tempDir, webhookReceiver } from "./helpers.js";
import { runCli, type CliRun as Run } from "../helpers/cli.js";

// Awaited before the first test() call: ava wants every declaration in the same turn.
const bundle = await PolicyBundle.load();
const demo = await MemorySource.demo();
const dir = tempDir("kube-policy-notify-doors-");
test.after.always(dir.remove);
let counter = 0;

const tool = ALL_TOOLS.find((t) => t.name === "send_test_notification");

function runtime(config: PolicyConfig): Runtime {
  return new Runtime(config, bundle, demo, { databasePath: dir.file(`tool-${counter++}.db`) });
}

test("send_test_notification is registered, sends to the configured webhook and returns what its outputSchema says", async (t) => {
  if (!tool) return t.fail("send_test_notification is not in ALL_TOOLS");
  const receiver = await webhookReceiver();
  t.teardown(receiver.close);
  const rt = runtime({ notifications: { slack: { webhookUrl: receiver.url } } });
  t.teardown(() => rt.close());
  t.false(tool.writes, "it does not change the cluster");
  t.is(tool.annotations.openWorldHint, true);

  const result = await tool.run({ channel: "slack" }, { runtime: rt, actor: "mcp:test-client" });
  t.notThrows(() => z.object(tool.outputSchema).strict().parse(result.structured));
  t.like(result.structured, { channel: "slack", status: "sent" });
  t.is((result.structured.attempts as unknown[]).length, 1);
  t.is(result.text, "Test notification sent to slack after 1 attempt(s) (HTTP 200).\n");
  t.is(receiver.requests.length, 1);
  const payload = receiver.requests[0]!.json as { text: string; blocks: { type: string; fields?: { text: string }[] }[] };
  t.is(payload.text, "[kube-policy] Test notification (slack)");
  t.true(JSON.stringify(payload.blocks).includes("mcp:test-client"), "the message says who asked");
});

test("send_test_notification refuses an unknown channel and a channel that is not configured", async (t) => {
  if (!tool) return t.fail("send_test_notification is not in ALL_TOOLS");
  const rt = runtime({});
  t.teardown(() => rt.close());
  const bad = await t.throwsAsync(tool.run({ channel: "pager" }, { runtime: rt, actor: "cli" }), { instanceOf: InvalidInputError });
  t.deepEqual(bad?.details.map((d) => d.where), ["channel"]);
  const missing = await t.throwsAsync(tool.run({ channel: "slack" }, { runtime: rt, actor: "cli" }), { instanceOf: ConfigError });
  t.is(missing?.message, "no slack notifications are configured");
});

const cli = (args: string[]): Promise<Run> =>
  runCli(args, { from: "src", env: { LOG_LEVEL: undefined } });

function configFile(name: string, config: object): string {
  const file = dir.file(name);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

test("kube-policy notify test --channel slack delivers, prints the attempts and records them", async (t) => {
  const receiver = await webhookReceiver((n) => (n === 0 ? { status: 503 } : { status: 200 }));
  t.teardown(receiver.close);
  const db = dir.file("cli-ok.db");
  const config = configFile("ok.json", { notifications: { slack: { webhookUrl: receiver.url }, delivery: { maxAttempts: 3, backoffMs: 0, timeoutMs: 5000 } } });
  const run = await cli(["notify", "test", "--channel", "slack", "--config", config, "--db", db]);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, `attempt 1: failed (503): Slack answered HTTP 503: error\nattempt 2: sent (200)\nTest notification sent to slack (configuration ${config}).\n`);
  t.is(receiver.requests.length, 2);
  t.false(run.stdout.includes("/services/") || run.stderr.includes("/services/"), "the webhook path is not printed");
  const store = new NotificationStore(openDatabase(db));
  const [record] = store.listNotifications();
  t.like(record, { channel: "slack", kind: "test", status: "sent", attempts: 2 });
});

test("kube-policy notify test exits 3 when every attempt failed, 2 when the channel is missing or the configuration malformed", async (t) => {
  const receiver = await webhookReceiver(() => ({ status: 500 }));
  t.teardown(receiver.close);
  const failing = configFile("failing.json", { notifications: { slack: { webhookUrl: receiver.url }, delivery: { maxAttempts: 2, backoffMs: 0, timeoutMs: 5000 } } });
  const failed = await cli(["notify", "test", "--channel", "slack", "--config", failing, "--db", dir.file("cli-failed.db")]);
  t.is(failed.code, 3);
  t.is(
    failed.stderr,
    "kube-policy: the test notification to slack failed after 2 attempt(s): Slack answered HTTP 500: error\n" +
      "  - attempt 1: 500 Slack answered HTTP 500: error\n" +
      "  - attempt 2: 500 Slack answered HTTP 500: error\n",
  );

  const noEmail = await cli(["notify", "test", "--channel", "email", "--config", failing, "--db", dir.file("cli-none.db")]);
  t.is(noEmail.code, 2);
  t.regex(noEmail.stderr, /no email notifications are configured\n {2}- \/notifications\/email: add notifications.email.recipients/);

  const malformed = configFile("malformed.json", { notifications: { slack: { webhookUrl: "hooks.slack.com/services/T/B/leak-me" } } });
  const refused = await cli(["notify", "test", "--channel", "slack", "--config", malformed, "--db", dir.file("cli-bad.db")]);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /\/notifications\/slack\/webhookUrl: is not an absolute http\(s\) URL/);
  t.false(refused.stderr.includes("leak-me"));

  const badChannel = await cli(["notify", "test", "--channel", "pager", "--db", dir.file("cli-x.db")]);
  t.is(badChannel.code, 2);
  t.regex(badChannel.stderr, /Allowed choices are slack, email/);
});
