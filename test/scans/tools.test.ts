// Covers src/tools/scans.ts over MCP: the three scan tools are listed with their annotations (the scan
// writes only the local history: not read-only, not destructive, and visible in read-only mode);
// run_compliance_scan sends progress notifications and returns the stored scan; a configured scan runs
// with its own namespaces; bad arguments and denied namespaces are error results naming the field;
// get_compliance_trends and list_scans read the history, and say so when there is none.
// Real components: the MCP SDK client and server over its in-memory transport (the protocol messages
// are real, only the pipe is in memory), the compiled policy bundle, the bundled demo manifests as the
// cluster, SQLite on temporary files.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { PolicyConfig } from "../../src/config/types.js";
import { MemorySource } from "../../src/kube/memory-source.js";
import { createMcpServer } from "../../src/mcp/server.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import { toolsFor } from "../../src/tools/index.js";

const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-scan-tools-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

async function connect(config: PolicyConfig = {}): Promise<{ client: Client; runtime: Runtime; close: () => Promise<void> }> {
  const runtime = new Runtime(config, await PolicyBundle.load(), await MemorySource.demo(), { databasePath: path.join(dir, `h-${counter++}.db`) });
  const server = createMcpServer(runtime);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "scan-tools-test", version: "1.0.0" });
  await client.connect(clientSide);
  return {
    client,
    runtime,
    close: async () => {
      await client.close();
      await server.close();
      await runtime.close();
    },
  };
}

type Text = { type: string; text: string }[];

test("the scan tools are listed with annotations that say what they change", async (t) => {
  const { client, close } = await connect();
  const tools = (await client.listTools()).tools;
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  t.like(byName.get("run_compliance_scan")?.annotations, { readOnlyHint: false, destructiveHint: false, idempotentHint: false });
  t.like(byName.get("get_compliance_trends")?.annotations, { readOnlyHint: true });
  t.like(byName.get("list_scans")?.annotations, { readOnlyHint: true });
  t.truthy(byName.get("get_compliance_trends")?.outputSchema);
  t.true(toolsFor({ readOnly: true }).some((tool) => tool.name === "run_compliance_scan"), "it does not change the cluster");
  await close();
});

test("run_compliance_scan reports progress and returns the stored scan; the trend and the list follow", async (t) => {
  const { client, close } = await connect({ organization: { compliance: ["SOC2"] } });
  const empty = await client.callTool({ name: "get_compliance_trends", arguments: {} });
  t.is((empty.structuredContent as { trend: unknown }).trend, null);
  t.regex((empty.content as Text)[0]!.text, /^No stored scan of the whole cluster on demo-cluster in the last 30 days/);

  const progress: { progress: number; total?: number }[] = [];
  const first = await client.callTool({ name: "run_compliance_scan", arguments: {} }, undefined, { onprogress: (p) => progress.push(p) });
  t.falsy(first.isError, JSON.stringify(first.content));
  const scan = (first.structuredContent as { scan: { id: number; status: string; workloads: { evaluated: number }; namespaces: null } }).scan;
  t.is(scan.status, "succeeded");
  t.is(scan.workloads.evaluated, 4);
  t.is(scan.namespaces, null);
  t.true(progress.length >= 1);
  t.deepEqual(progress.at(-1), { progress: 4, total: 4, message: "evaluated 4 of 4 workloads" });
  t.regex((first.content as Text)[0]!.text, new RegExp(`^scan ${scan.id} "adhoc:cluster" of the whole cluster on demo-cluster: succeeded`));

  await client.callTool({ name: "run_compliance_scan", arguments: { namespace: "production" } });
  const trends = await client.callTool({ name: "get_compliance_trends", arguments: { days: 7 } });
  const trend = (trends.structuredContent as { days: number; trend: { scans: { succeeded: number }; frameworks: { key: string }[] } }).trend;
  t.is((trends.structuredContent as { days: number }).days, 7);
  t.is(trend.scans.succeeded, 1, "the namespace scan is another series");
  t.true(trend.frameworks.some((f) => f.key === "SOC2"));
  const listed = await client.callTool({ name: "list_scans", arguments: { limit: 1 } });
  t.deepEqual((listed.structuredContent as { scans: { name: string }[] }).scans.map((s) => s.name), ["adhoc:production"]);
  const failed = await client.callTool({ name: "list_scans", arguments: { status: "failed" } });
  t.deepEqual((failed.structuredContent as { scans: unknown[] }).scans, []);
  await close();
});

test("a configured scan runs with its namespaces; asking for others is refused", async (t) => {
  const { client, close } = await connect({ scans: [{ name: "prod-nightly", cron: "0 2 * * *", namespaces: ["production"] }] });
  const run = await client.callTool({ name: "run_compliance_scan", arguments: { name: "prod-nightly" } });
  t.deepEqual((run.structuredContent as { scan: { namespaces: string[] } }).scan.namespaces, ["production"]);
  const conflict = await client.callTool({ name: "run_compliance_scan", arguments: { name: "prod-nightly", namespace: "staging" } });
  t.true(conflict.isError);
  t.regex((conflict.content as Text)[0]!.text, /namespaces: scan "prod-nightly" is configured for namespaces production; omit namespaces or choose another name/);
  await close();
});

test("bad arguments and denied namespaces are error results that name the field", async (t) => {
  const { client, close } = await connect({ namespaces: { deny: ["kube-system"] } });
  const badName = await client.callTool({ name: "run_compliance_scan", arguments: { namespace: "Not_A_Namespace" } });
  t.true(badName.isError);
  t.regex((badName.content as Text)[0]!.text, /namespaces\[0\]: "Not_A_Namespace" is not a namespace name/);
  const both = await client.callTool({ name: "run_compliance_scan", arguments: { namespace: "a", namespaces: ["b"] } });
  t.true(both.isError);
  t.regex((both.content as Text)[0]!.text, /namespace: give namespace or namespaces, not both/);
  const denied = await client.callTool({ name: "run_compliance_scan", arguments: { namespaces: ["kube-system"] } });
  t.true(denied.isError);
  t.regex((denied.content as Text)[0]!.text, /^forbidden: .*\n {2}- namespaces\[0\]: namespace "kube-system" is not allowed by the policy configuration/);
  const days = await client.callTool({ name: "get_compliance_trends", arguments: { days: 0 } });
  t.true(days.isError);
  t.regex((days.content as Text)[0]!.text, /days/);
  const status = await client.callTool({ name: "list_scans", arguments: { status: "done" } });
  t.true(status.isError);
  t.regex((status.content as Text)[0]!.text, /status/);
  await close();
});
