// Covers the HTTP door (src/http/server.ts) over real sockets on 127.0.0.1, port 0: the REST tool
// routes and their error contract (404 unknown tool or workload, 400 bad arguments naming the field or
// a body that is not a JSON object, 413 over the body limit, 503 cluster unreachable, 403 namespaces the
// configuration denies), GET /tools with JSON Schemas, /healthz, bearer tokens, and the refusal to
// listen beyond loopback without a token.
// What stands in for a cluster: the bundled demo manifests (MemorySource.demo(), the same data
// `npm start` serves without a kubeconfig); for "unreachable", a ClusterSource on a kubeconfig whose
// server is a closed local port. The koa app, the policy bundle and the tools are the real ones.
import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHttpServer, tokensFromEnv, type HttpOptions, type RunningServer } from "../../src/http/server.js";
import { ClusterSource } from "../../src/kube/cluster-source.js";
import { MemorySource } from "../../src/kube/memory-source.js";
import { Runtime } from "../../src/runtime.js";
import { http, postTool, PRODUCT_TOOLS, registeredTools, unreachableKubeconfig } from "../integration/helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "kube-policy-http-test-"));
// Every runtime's store (audit trail, scan history) goes here, not to the user's data directory.
process.env.KUBE_POLICY_DB = join(tmp, "kube-policy.db");

const servers: RunningServer[] = [];
const runtimes: Runtime[] = [];

async function demoRuntime(config?: Record<string, unknown>): Promise<Runtime> {
  let configPath: string | undefined;
  if (config) {
    configPath = join(tmp, `config-${runtimes.length}.json`);
    writeFileSync(configPath, JSON.stringify(config));
  }
  const runtime = await Runtime.create({ config: configPath, source: await MemorySource.demo() });
  runtimes.push(runtime);
  return runtime;
}

async function serve(runtime: Runtime, options: HttpOptions = {}): Promise<string> {
  const server = await startHttpServer(runtime, { port: 0 }, options);
  servers.push(server);
  return server.url;
}

let demoUrl: string;

test.before(async () => {
  demoUrl = await serve(await demoRuntime());
});

test.after.always(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(runtimes.map((r) => r.close()));
  rmSync(tmp, { recursive: true, force: true });
});

// ---- the happy paths ----

test("startHttpServer listens on 127.0.0.1 on a free port", (t) => {
  t.regex(demoUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.not(Number(new URL(demoUrl).port), 0);
});

test("GET /healthz answers with the version, the source and the rule count", async (t) => {
  const res = await http(`${demoUrl}/healthz`);
  t.is(res.status, 200);
  t.is(res.json.status, "ok");
  t.regex(res.json.version, /^\d+\.\d+\.\d+/);
  t.regex(res.json.source, /bundled demo manifests/);
  t.true(Number.isInteger(res.json.rules) && res.json.rules >= 53, `rules: ${res.json.rules}`);
});

test("GET /tools lists every tool with its JSON Schemas", async (t) => {
  const res = await http(`${demoUrl}/tools`);
  t.is(res.status, 200);
  const tools = res.json.tools as { name: string; annotations: Record<string, unknown>; inputSchema: any; outputSchema: any }[];
  t.deepEqual(tools.map((tool) => tool.name).sort(), registeredTools().map((tool) => tool.name).sort());
  for (const name of PRODUCT_TOOLS) {
    const tool = tools.find((x) => x.name === name);
    t.truthy(tool, name);
    t.is(tool?.annotations.readOnlyHint, true, name);
    t.is(tool?.inputSchema.type, "object", name);
    t.is(tool?.inputSchema.additionalProperties, false, `${name}: unknown arguments are refused`);
    t.is(tool?.outputSchema.type, "object", name);
  }
  const evaluate = tools.find((x) => x.name === "evaluate_deployment_policies")!;
  t.deepEqual(Object.keys(evaluate.inputSchema.properties).sort(), ["deployment", "namespace"]);
  t.deepEqual([...evaluate.inputSchema.required].sort(), ["deployment", "namespace"]);
  t.is(evaluate.inputSchema.properties.namespace.type, "string");
  t.true(["passed", "violations", "summary", "errors"].every((k) => k in evaluate.outputSchema.properties));
  const report = tools.find((x) => x.name === "generate_compliance_report")!;
  t.deepEqual(report.inputSchema.required ?? [], [], "namespace is optional");
  const rules = tools.find((x) => x.name === "list_policy_rules")!;
  t.deepEqual([...rules.inputSchema.properties.category.enum].sort(), ["compliance", "cost", "operations", "performance", "security"]);
});

test("POST /tools/evaluate_deployment_policies, curl -d style, returns the structured result", async (t) => {
  const pass = await postTool(demoUrl, "evaluate_deployment_policies", '{"namespace": "production", "deployment": "web-app"}');
  t.is(pass.status, 200, pass.text);
  t.true(pass.json.passed);
  t.is(pass.json.status, "pass");
  t.deepEqual(pass.json.violations, []);

  const fail = await postTool(demoUrl, "evaluate_deployment_policies", '{"namespace": "staging", "deployment": "app"}');
  t.is(fail.status, 200, fail.text);
  t.false(fail.json.passed);
  t.true((fail.json.violations as { ruleId: string }[]).some((v) => v.ruleId === "dangerous-capabilities"), "NET_ADMIN");

  const api = await postTool(demoUrl, "evaluate_deployment_policies", { namespace: "production", deployment: "api" });
  const critical = (api.json.violations as { ruleId: string; severity: string }[]).filter((v) => v.severity === "critical");
  t.deepEqual(critical.map((v) => v.ruleId), ["privileged-container"]);
});

test("an empty body is no arguments: generate_compliance_report covers every namespace", async (t) => {
  const res = await postTool(demoUrl, "generate_compliance_report", "");
  t.is(res.status, 200, res.text);
  t.deepEqual(res.json.scope, { namespace: null, namespaces: ["production", "staging"] });
  t.is(res.json.workloads.evaluated, 4);
});

// ---- errors ----

test("an unknown tool is 404 not_found, listing the tools there are", async (t) => {
  const res = await postTool(demoUrl, "delete_cluster", {});
  t.is(res.status, 404);
  t.is(res.json.error.code, "not_found");
  t.true(String(res.json.error.message).startsWith('unknown tool "delete_cluster"; available: '), res.json.error.message);
  for (const name of PRODUCT_TOOLS) t.true(String(res.json.error.message).includes(name), name);
});

test("an unknown route is 404 not_found in the same error shape", async (t) => {
  const res = await http(`${demoUrl}/nope`);
  t.is(res.status, 404);
  t.deepEqual(res.json, { error: { code: "not_found", message: "no route for GET /nope" } });
});

test("bad arguments are 400 invalid_input with a detail naming the field", async (t) => {
  const cases: [string, unknown, string, RegExp][] = [
    ["evaluate_deployment_policies", { namespace: "production" }, "deployment", /required/i],
    ["evaluate_deployment_policies", { namespace: 7, deployment: "web-app" }, "namespace", /expected string/i],
    ["evaluate_deployment_policies", { namespace: "", deployment: "web-app" }, "namespace", /at least 1/i],
    ["evaluate_deployment_policies", { namespace: "production", deployment: "web-app", force: true }, "(arguments)", /unknown argument\(s\): force/],
    ["list_policy_rules", { category: "vibes" }, "category", /security/],
    ["evaluate_workload", { namespace: "production", kind: "Service", name: "web" }, "kind", /"Service" is not a workload kind/],
    ["evaluate_manifest", { yaml: "" }, "yaml", /at least 1/i],
  ];
  for (const [tool, args, where, message] of cases) {
    const res = await postTool(demoUrl, tool, args);
    const label = `${tool} ${JSON.stringify(args)}`;
    t.is(res.status, 400, label);
    t.is(res.json?.error?.code, "invalid_input", label);
    t.is(res.json?.error?.message, `invalid arguments for ${tool}`, label);
    const detail = (res.json?.error?.details as { where: string; message: string }[] | undefined)?.find((d) => d.where === where);
    t.truthy(detail, `${label}: a detail for ${where} in ${JSON.stringify(res.json?.error?.details)}`);
    t.regex(detail?.message ?? "", message, label);
  }
});

test("a body that is not JSON, or not a JSON object, is 400", async (t) => {
  const broken = await postTool(demoUrl, "evaluate_deployment_policies", "{namespace: production");
  t.is(broken.status, 400);
  t.is(broken.json.error.code, "invalid_input");
  t.true(String(broken.json.error.message).startsWith("request body is not valid JSON: "), broken.json.error.message);

  for (const body of ["[]", '"production"', "42", "null"]) {
    const res = await postTool(demoUrl, "evaluate_deployment_policies", body);
    t.is(res.status, 400, body);
    t.deepEqual(res.json.error, { code: "invalid_input", message: "request body must be a JSON object of the tool's arguments" }, body);
  }
});

test("a workload that does not exist is 404 naming its namespace and name", async (t) => {
  const res = await postTool(demoUrl, "evaluate_deployment_policies", { namespace: "production", deployment: "ghost" });
  t.is(res.status, 404);
  t.is(res.json.error.code, "not_found");
  t.true(String(res.json.error.message).startsWith('Deployment "ghost" not found in namespace "production"'), res.json.error.message);

  const wrongKind = await postTool(demoUrl, "evaluate_workload", { namespace: "production", kind: "statefulset", name: "web-app" });
  t.is(wrongKind.status, 404);
  t.true(String(wrongKind.json.error.message).startsWith('StatefulSet "web-app" not found in namespace "production"'), wrongKind.json.error.message);
});

test("a body over the limit is 413 payload_too_large", async (t) => {
  const url = await serve(await demoRuntime(), { bodyLimit: 1024 });
  const yaml = `# ${"x".repeat(2048)}\napiVersion: v1\nkind: Pod\n`;
  const res = await postTool(url, "evaluate_manifest", { yaml });
  t.is(res.status, 413);
  t.deepEqual(res.json.error, { code: "payload_too_large", message: "request body is larger than 1024 bytes" });
  // A body within the limit is read as usual.
  const small = await postTool(url, "evaluate_deployment_policies", { namespace: "production", deployment: "web-app" });
  t.is(small.status, 200);
});

test("the default body limit is 4 MiB", async (t) => {
  const body = JSON.stringify({ yaml: `# ${"x".repeat(4 * 1024 * 1024)}` });
  const res = await postTool(demoUrl, "evaluate_manifest", body);
  t.is(res.status, 413);
  t.is(res.json.error.message, `request body is larger than ${4 * 1024 * 1024} bytes`);
});

test("a cluster that cannot be reached is 503 cluster_unavailable naming the server", async (t) => {
  const { path, server } = await unreachableKubeconfig(tmp);
  const runtime = await Runtime.create({ source: ClusterSource.connect({ kind: "file", path }) });
  runtimes.push(runtime);
  const url = await serve(runtime);

  const evaluate = await postTool(url, "evaluate_deployment_policies", { namespace: "production", deployment: "web-app" });
  t.is(evaluate.status, 503, evaluate.text);
  t.is(evaluate.json.error.code, "cluster_unavailable");
  t.true(String(evaluate.json.error.message).startsWith(`cluster unreachable at ${server}: cannot get deployments.apps "web-app" in namespace "production"`), evaluate.json.error.message);
  t.regex(evaluate.json.error.message, /ECONNREFUSED/);

  const report = await postTool(url, "generate_compliance_report", {});
  t.is(report.status, 503, report.text);
  t.is(report.json.error.code, "cluster_unavailable");

  // What needs no cluster still works.
  const rules = await postTool(url, "list_policy_rules", { category: "security" });
  t.is(rules.status, 200);
});

// ---- authentication ----

test("with tokens configured: 401 without or with a wrong token, 200 with the right one, /healthz open", async (t) => {
  const url = await serve(await demoRuntime(), { tokens: new Map([["ci", "s3cret-token-for-ci"], ["ops", "another-token"]]) });
  const args = { namespace: "production", deployment: "web-app" };

  const none = await postTool(url, "evaluate_deployment_policies", args);
  t.is(none.status, 401);
  t.is(none.json.error.code, "unauthorized");
  t.is(none.headers.get("www-authenticate"), 'Bearer realm="kube-policy-mcp"');

  for (const header of ["Bearer wrong-token", "Bearer s3cret-token-for-c", "Basic czNjcmV0LXRva2VuLWZvci1jaQ==", "s3cret-token-for-ci"]) {
    const res = await postTool(url, "evaluate_deployment_policies", args, { Authorization: header });
    t.is(res.status, 401, header);
  }
  for (const token of ["s3cret-token-for-ci", "another-token"]) {
    const ok = await postTool(url, "evaluate_deployment_policies", args, { Authorization: `Bearer ${token}` });
    t.is(ok.status, 200, token);
    t.true(ok.json.passed);
  }

  t.is((await http(`${url}/healthz`)).status, 200, "health checks need no token");
  t.is((await http(`${url}/tools`)).status, 401, "the tool list does");
  t.is((await http(`${url}/mcp`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })).status, 401, "so does MCP");
});

test("without tokens the server refuses to listen beyond loopback, pointing at KUBE_POLICY_TOKEN", async (t) => {
  const runtime = await demoRuntime();
  for (const tokens of [undefined, new Map<string, string>()]) {
    const error = await t.throwsAsync(startHttpServer(runtime, { host: "0.0.0.0", port: 0 }, { tokens }));
    t.regex(error?.message ?? "", /KUBE_POLICY_TOKEN/);
    t.regex(error?.message ?? "", /refusing to listen on 0\.0\.0\.0 without authentication/);
  }
});

test("tokensFromEnv reads KUBE_POLICY_TOKEN and name=token pairs from KUBE_POLICY_TOKENS", (t) => {
  t.deepEqual([...tokensFromEnv({ KUBE_POLICY_TOKEN: "abc", KUBE_POLICY_TOKENS: "ci=t1, ops=t2=x" })], [["default", "abc"], ["ci", "t1"], ["ops", "t2=x"]]);
  t.deepEqual([...tokensFromEnv({})], []);
  t.throws(() => tokensFromEnv({ KUBE_POLICY_TOKENS: "ci" }), { message: /name=token/ });
  t.throws(() => tokensFromEnv({ KUBE_POLICY_TOKENS: "=t" }), { message: /name=token/ });
});

// ---- namespace allow / deny lists ----

test("a namespace the configuration denies is 403 forbidden and left out of the compliance report", async (t) => {
  const url = await serve(await demoRuntime({ namespaces: { deny: ["staging"] } }));

  const denied = await postTool(url, "evaluate_deployment_policies", { namespace: "staging", deployment: "app" });
  t.is(denied.status, 403, denied.text);
  t.is(denied.json.error.code, "forbidden");
  t.regex(denied.json.error.message, /^namespace "staging" is not allowed by the policy configuration/);

  const scoped = await postTool(url, "generate_compliance_report", { namespace: "staging" });
  t.is(scoped.status, 403);

  const allowed = await postTool(url, "evaluate_deployment_policies", { namespace: "production", deployment: "web-app" });
  t.is(allowed.status, 200);

  const report = await postTool(url, "generate_compliance_report", {});
  t.is(report.status, 200, report.text);
  t.deepEqual(report.json.scope.namespaces, ["production"]);
  t.is(report.json.workloads.evaluated, 3, "web-app, api and nightly-report; not staging/app");
  const namespacesInReport = (report.json.topFailingWorkloads as { resource: { namespace: string } }[]).map((w) => w.resource.namespace);
  t.false(namespacesInReport.includes("staging"));
  // Rules only the staging workload breaks pass without it.
  t.is((report.json.rules as { id: string; status: string }[]).find((r) => r.id === "dangerous-capabilities")?.status, "passed");

  const manifest = await postTool(url, "evaluate_manifest", {
    yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: staging}\nspec: {containers: [{name: c, image: nginx:1.27}]}\n",
  });
  t.is(manifest.status, 200);
  t.deepEqual(manifest.json.workloads, []);
  t.regex((manifest.json.errors as { message: string }[])[0]?.message ?? "", /namespace "staging" is not allowed/);
});

test("an allow list admits only the namespaces it matches", async (t) => {
  const url = await serve(await demoRuntime({ namespaces: { allow: ["prod*"] } }));
  t.is((await postTool(url, "evaluate_deployment_policies", { namespace: "production", deployment: "web-app" })).status, 200);
  t.is((await postTool(url, "evaluate_deployment_policies", { namespace: "staging", deployment: "app" })).status, 403);
  const report = await postTool(url, "generate_compliance_report", {});
  t.deepEqual(report.json.scope.namespaces, ["production"]);
});

// ---- MCP at /mcp ----

test("GET /mcp is 405: the Streamable HTTP endpoint is stateless and takes POST only", async (t) => {
  const res = await http(`${demoUrl}/mcp`);
  t.is(res.status, 405);
  t.is(res.headers.get("allow"), "POST");
  t.is(res.json.jsonrpc, "2.0");
});
