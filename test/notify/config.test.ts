// Covers the notifications section of the policy configuration (config/policies/schema.json and
// src/config/load.ts): the product document's shapes load unchanged, the extensions load, and a
// malformed webhook URL or e-mail address is refused at load time with the field's JSON path and a clear
// reason (the webhook URL itself, a secret, is not repeated). The schema's event list matches the code's.
// Real components: the committed schema, ajv with ajv-formats, loadConfig on temporary YAML / JSON files.
import { writeFileSync } from "node:fs";
import test from "ava";
import { loadConfig, validateConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";
import { NOTIFICATION_EVENT_TYPES } from "../../src/notify/events.js";
import { SCHEMA_PATH } from "../../src/config/load.js";
import { readFile } from "node:fs/promises";
import { tempDir } from "./helpers.js";

const dir = tempDir("kube-policy-notify-config-");
test.after.always(dir.remove);

async function problems(value: unknown): Promise<{ where?: string; message: string }[]> {
  try {
    await validateConfig(value, "test");
  } catch (error) {
    if (error instanceof ConfigError) return error.details;
    throw error;
  }
  return [];
}

const URL_REASON =
  "is not an absolute http(s) URL (expected https://hooks.slack.com/services/T000/B000/XXXX); the value is not shown because a webhook URL is a secret";

test("the product document's notification shapes load unchanged", async (t) => {
  const config = {
    notifications: {
      slack: { webhookUrl: "https://hooks.slack.com/services/T000/B000/XXXX", channel: "#k8s-alerts", severityLevels: ["critical", "high"] },
      email: { recipients: ["security@acme.com", "platform@acme.com"], severityLevels: ["critical"] },
    },
  };
  t.deepEqual(await validateConfig(config, "test"), config);
});

test("the extensions load: thresholds, digest, delivery, per-channel events and mode, SMTP from the environment", async (t) => {
  const config = {
    notifications: {
      slack: { webhookUrl: "https://hooks.slack.com/services/T000/B000/XXXX", enabled: true, events: ["scan-new-violations", "stale"], mode: "both" },
      email: {
        recipients: ["security@acme.com"],
        from: "kube-policy@acme.com",
        mode: "digest",
        smtp: { host: "smtp.acme.com", port: 587, secure: false, requireTLS: true, userEnv: "SMTP_USER", passwordEnv: "SMTP_PASSWORD" },
      },
      scoreBelow: 85,
      scoreDropPoints: 5,
      staleAfterHours: 26,
      dedupeHours: 12,
      maxFindings: 15,
      digest: { cron: "0 8 * * 1-5", timezone: "Europe/Berlin" },
      delivery: { maxAttempts: 5, timeoutMs: 5000, backoffMs: 500 },
    },
  };
  t.deepEqual(await problems(config), []);
});

for (const [label, url] of [
  ["no scheme", "hooks.slack.com/services/T000/B000/XXXX"],
  ["a scheme and no host", "https://"],
  ["another scheme", "ftp://hooks.slack.com/services/T000/B000/XXXX"],
  ["a port out of range", "https://hooks.slack.com:99999/services/T000/B000/XXXX"],
  ["a space in the host", "https://hooks slack.com/services/T000/B000/XXXX"],
] as const) {
  test(`a webhook URL with ${label} is refused with its field path, once, without repeating the URL`, async (t) => {
    const details = await problems({ notifications: { slack: { webhookUrl: url } } });
    t.deepEqual(details, [{ where: "/notifications/slack/webhookUrl", message: URL_REASON }]);
  });
}

test("malformed e-mail addresses are refused with the path of each one", async (t) => {
  const details = await problems({
    notifications: { email: { recipients: ["ops@acme.com", "ops@", "not an address"], from: "kube-policy at acme" } },
  });
  t.deepEqual(details, [
    { where: "/notifications/email/recipients/1", message: '"ops@" is not an e-mail address (expected name@example.com)' },
    { where: "/notifications/email/recipients/2", message: '"not an address" is not an e-mail address (expected name@example.com)' },
    { where: "/notifications/email/from", message: '"kube-policy at acme" is not an e-mail address (expected name@example.com)' },
  ]);
});

test("loadConfig refuses a YAML file with a malformed webhook URL and names the field", async (t) => {
  const file = dir.file("bad.yaml");
  writeFileSync(file, "notifications:\n  slack:\n    webhookUrl: hooks.slack.com/services/T1/B1/secretpart\n  email:\n    recipients: [ops@]\n");
  const error = await t.throwsAsync(loadConfig(file), { instanceOf: ConfigError });
  t.deepEqual(error?.details.map((d) => d.where), ["/notifications/slack/webhookUrl", "/notifications/email/recipients/0"]);
  t.false(error!.describe().includes("secretpart"), "the refused URL is not echoed");
  t.regex(error!.describe(), /\/notifications\/email\/recipients\/0: "ops@" is not an e-mail address/);
});

test("other notification mistakes are named too: an unknown event type, a mode, an environment variable name, thresholds", async (t) => {
  const details = await problems({
    notifications: {
      slack: { webhookUrl: "https://hooks.slack.com/services/T/B/X", events: ["scan-new-violation"], mode: "sometimes" },
      email: { recipients: ["ops@acme.com"], smtp: { passwordEnv: "my password" } },
      scoreBelow: 120,
      delivery: { maxAttempts: 0 },
    },
  });
  t.deepEqual(
    details.map((d) => d.where),
    ["/notifications/slack/events/0", "/notifications/slack/mode", "/notifications/email/smtp/passwordEnv", "/notifications/scoreBelow", "/notifications/delivery/maxAttempts"],
  );
  t.regex(details[0]!.message, /must be one of "scan-new-violations", /);
});

test("the schema's event types are exactly the ones the notifier knows", async (t) => {
  const schema = JSON.parse(await readFile(SCHEMA_PATH, "utf8")) as { definitions: { notificationEvents: { items: { enum: string[] } } } };
  t.deepEqual(schema.definitions.notificationEvents.items.enum, [...NOTIFICATION_EVENT_TYPES]);
});
