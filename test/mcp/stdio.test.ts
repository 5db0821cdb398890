// Covers `kube-policy serve` as an MCP server over stdio, the way Claude Desktop or Cursor run it:
// `node bin/kube-policy.js serve --demo` spawned and driven by the MCP SDK Client (initialize,
// tools/list, tools/call), `--read-only`, and stdout carrying nothing but JSON-RPC messages (logs go
// to stderr), checked on the raw bytes of a session driven by hand.
// What stands in for a cluster: the bundled demo manifests (--demo). The server is the compiled CLI in
// dist/ (build it first: `npx tsc -p tsconfig.json`, as scripts/test.sh does; a stale dist/ fails the
// file up front).
import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { assertDistFresh, connectStdio, PRODUCT_TOOLS, registeredTools, ROOT, type StdioServer } from "../integration/helpers.js";

interface CallResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, any>;
}

const tmp = mkdtempSync(join(tmpdir(), "kube-policy-stdio-test-"));
// The children's store (audit trail) goes here, not to the user's data directory.
process.env.KUBE_POLICY_DB = join(tmp, "kube-policy.db");

let demo: StdioServer | undefined;
let readOnly: StdioServer | undefined;

test.before(async () => {
  assertDistFresh();
  [demo, readOnly] = await Promise.all([connectStdio(["serve", "--demo"]), connectStdio(["serve", "--demo", "--read-only"])]);
});

test.after.always(async () => {
  await demo?.close();
  await readOnly?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function need(server: StdioServer | undefined): StdioServer {
  if (!server) throw new Error("server not started (see test.before)");
  return server;
}

const text = (result: CallResult) => result.content.filter((c) => c.type === "text").map((c) => c.text ?? "").join("\n");

test("initialize: the server names itself, offers tools and explains them", (t) => {
  const { client } = need(demo);
  t.is(client.getServerVersion()?.name, "kube-policy-mcp");
  t.regex(client.getServerVersion()?.version ?? "", /^\d+\.\d+\.\d+/);
  t.truthy(client.getServerCapabilities()?.tools);
  const instructions = client.getInstructions() ?? "";
  for (const name of ["evaluate_deployment_policies", "generate_compliance_report", "list_policy_rules"]) t.true(instructions.includes(name), name);
});

test("tools/list: every registered tool, the product document's five among them, read-only", async (t) => {
  const { tools } = await need(demo).client.listTools();
  t.deepEqual(tools.map((tool) => tool.name).sort(), registeredTools().map((tool) => tool.name).sort());
  for (const name of PRODUCT_TOOLS) {
    const tool = tools.find((x) => x.name === name);
    t.is(tool?.annotations?.readOnlyHint, true, name);
    t.truthy(tool?.outputSchema, `${name} declares its structured output`);
    t.truthy(tool?.description, name);
  }
});

test("tools/call evaluate_deployment_policies: production/web-app passes", async (t) => {
  const result = (await need(demo).client.callTool({
    name: "evaluate_deployment_policies",
    arguments: { namespace: "production", deployment: "web-app" },
  })) as CallResult;
  t.falsy(result.isError);
  t.true(result.structuredContent?.passed);
  t.is(result.structuredContent?.status, "pass");
  t.deepEqual(result.structuredContent?.violations, []);
  t.true(text(result).startsWith("Deployment production/web-app: PASS"), text(result));
});

test("tools/call evaluate_deployment_policies: staging/app fails, naming its violations", async (t) => {
  const result = (await need(demo).client.callTool({
    name: "evaluate_deployment_policies",
    arguments: { namespace: "staging", deployment: "app" },
  })) as CallResult;
  t.falsy(result.isError);
  t.false(result.structuredContent?.passed);
  t.is(result.structuredContent?.status, "fail");
  const ids = (result.structuredContent?.violations as { ruleId: string }[]).map((v) => v.ruleId);
  t.true(ids.includes("dangerous-capabilities"), "NET_ADMIN");
  t.true(ids.includes("host-port"));
  t.true(text(result).startsWith("Deployment staging/app: FAIL"), text(result));
});

test("tools/call with a workload that does not exist is an isError result, not a protocol error", async (t) => {
  const result = (await need(demo).client.callTool({
    name: "evaluate_deployment_policies",
    arguments: { namespace: "staging", deployment: "ghost" },
  })) as CallResult;
  t.true(result.isError);
  t.regex(text(result), /^not_found: Deployment "ghost" not found in namespace "staging"/);
});

test("serve --demo --read-only lists the read-only tools, the product's five included", async (t) => {
  const { tools } = await need(readOnly).client.listTools();
  const names = tools.map((tool) => tool.name).sort();
  t.deepEqual(names, registeredTools(true).map((tool) => tool.name).sort(), "the registry without its write tools");
  t.deepEqual(
    names.filter((name) => registeredTools().find((tool) => tool.name === name)?.writes),
    [],
    "no tool that changes the cluster",
  );
  for (const name of PRODUCT_TOOLS) t.true(names.includes(name), name);
  t.false(tools.some((tool) => tool.annotations?.destructiveHint === true), "nothing destructive");

  const result = (await need(readOnly).client.callTool({
    name: "evaluate_deployment_policies",
    arguments: { namespace: "production", deployment: "web-app" },
  })) as CallResult;
  t.true(result.structuredContent?.passed);
});

test("the SDK client saw no unparsable output, and the server logged to stderr", async (t) => {
  for (const server of [need(demo), need(readOnly)]) {
    await server.client.listTools();
    t.deepEqual(server.transportErrors.map(String), []);
    // stderr is another pipe: its bytes may trail the protocol messages a little.
    for (const deadline = Date.now() + 5_000; !/policy runtime ready/.test(server.stderr()) && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    t.regex(server.stderr(), /"msg":"policy runtime ready"/);
  }
});

// Driven by hand so every byte of stdout can be checked: a stray console.log or a log line on stdout
// would break the framing of a real client.
test("stdout carries only JSON-RPC messages; logs go to stderr; the server exits 0 when stdin closes", async (t) => {
  const child = spawn(process.execPath, ["bin/kube-policy.js", "serve", "--demo"], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "debug" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));

  const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
  const responses = () =>
    stdout
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => {
        try {
          return JSON.parse(line) as { id?: number };
        } catch {
          return { unparsable: line } as { id?: number };
        }
      });
  const waitFor = async (id: number) => {
    const deadline = Date.now() + 30_000;
    while (!responses().some((m) => m.id === id)) {
      if (Date.now() > deadline) throw new Error(`no response to request ${id}; stdout so far:\n${stdout}\nstderr:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  try {
    send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "raw-test", version: "1.0.0" } },
    });
    await waitFor(1);
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "evaluate_deployment_policies", arguments: { namespace: "staging", deployment: "app" } } });
    send({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "evaluate_deployment_policies", arguments: { namespace: "staging", deployment: "ghost" } } });
    send({ jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "generate_compliance_report", arguments: {}, _meta: { progressToken: "p-5" } } });
    for (const id of [2, 3, 4, 5]) await waitFor(id);
  } finally {
    child.stdin.end();
  }
  t.is(await exited, 0, `exit code; stderr:\n${stderr}`);

  const lines = stdout.split("\n");
  t.is(lines.at(-1), "", "stdout ends with a newline");
  for (const line of lines.slice(0, -1)) {
    let message: { jsonrpc?: string } | undefined;
    t.notThrows(() => (message = JSON.parse(line) as { jsonrpc?: string }), `not JSON: ${line.slice(0, 200)}`);
    t.is(message?.jsonrpc, "2.0", line.slice(0, 200));
  }
  const messages = responses() as { id?: number; method?: string; result?: any; params?: any }[];
  t.deepEqual(
    messages.filter((m) => m.id !== undefined).map((m) => m.id).sort(),
    [1, 2, 3, 4, 5],
    "one response per request",
  );
  t.is(messages.find((m) => m.id === 3)?.result?.structuredContent?.passed, false);
  t.is(messages.find((m) => m.id === 4)?.result?.isError, true);
  t.deepEqual(
    messages.filter((m) => m.method === "notifications/progress").map((m) => m.params),
    [
      { progressToken: "p-5", progress: 0, total: 4, message: "collected 4 workloads in 2 namespace(s)" },
      { progressToken: "p-5", progress: 4, total: 4, message: "evaluated 4 of 4 workloads" },
    ],
  );
  // The logs are there, on stderr, as pino JSON lines.
  t.regex(stderr, /"msg":"policy runtime ready"/);
});
