// Covers the wiring of scans to notifications: a scan with new violations sends one Slack message, an
// identical scan sends none, a scan that finds a new violation sends one naming it. A local HTTP receiver
// stands in for Slack; the demo manifests for the cluster; SQLite is a real file.
import { mkdtemp, rm, writeFile, readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { DEMO_DIR, MemorySource } from "../../src/kube/memory-source.js";
import { notifierFor } from "../../src/notify/notifier.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import { runScan } from "../../src/scans/scan.js";

test("scans notify what is new since the previous scan, once", async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kube-policy-scan-notify-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const received: string[] = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      received.push(body);
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/slack`;
  const bundle = await PolicyBundle.load();
  const config = { notifications: { slack: { webhookUrl, severityLevels: ["critical" as const] } } };
  const database = path.join(dir, "store.db");

  const scan = async (source: MemorySource) => {
    const runtime = new Runtime(config, bundle, source, { databasePath: database });
    await runScan(runtime, { name: "nightly" });
    await notifierFor(runtime).idle();
    await runtime.close();
  };

  await scan(await MemorySource.demo());
  t.is(received.length, 1, "the first scan alerts on its critical violations");
  t.regex(received[0]!, /privileged-container/);

  await scan(await MemorySource.demo());
  t.is(received.length, 1, "an identical scan sends nothing");

  const extra = path.join(dir, "more.yaml");
  const demo = await readFile(path.join(DEMO_DIR, "production.yaml"), "utf8");
  await writeFile(
    extra,
    `${demo}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\n  namespace: production\nspec:\n  containers:\n    - name: shell\n      image: busybox:1.36\n      securityContext:\n        privileged: true\n`,
  );
  await scan(await MemorySource.fromFiles([extra, path.join(DEMO_DIR, "staging.yaml")], { clusterName: "demo-cluster" }));
  t.is(received.length, 2, "a new critical violation sends one message");
  t.regex(received[1]!, /debug/);
});
