// Covers every tool end to end against a real Kubernetes API server, through all three doors:
// MCP over stdio (the built CLI, `node bin/kube-policy.js serve --kubeconfig ... --config production`,
// driven by the MCP SDK Client), MCP over Streamable HTTP and REST (startHttpServer in process on a
// ClusterSource), with the same answers from each; RBAC-limited users (the harness's readonly user,
// and ServiceAccounts with narrower ClusterRoles and TokenRequest tokens) get partial results that
// name what they could not read, or a 403; a whole-cluster report costs a fixed number of API
// requests, however many namespaces there are.
// Real components: etcd + kube-apiserver from test/harness/cluster.ts (RBAC, validation and defaulting
// as on any cluster; no controller manager, so Deployments never get pods), the compiled CLI in dist/
// (build it first: `npx tsc -p tsconfig.json`, as scripts/test.sh does), the committed policy.wasm, the
// MCP SDK client and server. Nothing stands in for a product component.
import test from "ava";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppsV1Api, CoreV1Api } from "@kubernetes/client-node";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { READONLY_RULES, startCluster, type Cluster } from "../harness/cluster.js";
import { startHttpServer, type RunningServer } from "../../src/http/server.js";
import { ClusterSource, FACT_TYPES } from "../../src/kube/cluster-source.js";
import { WORKLOAD_KINDS } from "../../src/kube/source.js";
import { Runtime } from "../../src/runtime.js";
import { ALL_TOOLS } from "../../src/tools/index.js";
import {
  assertDistFresh,
  COMPLIANT,
  connectStdio,
  CRONJOB,
  kubeconfig,
  postTool,
  PRODUCTION,
  ROOT,
  seedCluster,
  serviceAccountKubeconfig,
  STAGING,
  STATEFULSET,
  PRODUCT_TOOLS,
  registeredTools,
  VIOLATING,
  violatingDeployment,
  type StdioServer,
} from "./helpers.js";

// ---- shapes of the structured results (the tools' output schemas) ----

interface Finding {
  ruleId: string;
  severity: "critical" | "high" | "medium" | "low";
  category: string;
  message: string;
  path: string;
  outcome: string;
  resource: { apiVersion: string; kind: string; namespace: string | null; name: string };
}

interface Evaluation {
  passed: boolean;
  status: "pass" | "fail";
  violations: Finding[];
  warnings: Finding[];
  exempt: Finding[];
  notEvaluated: Finding[];
  summary: { workloads: number; violations: number; bySeverity: Record<string, number> };
  workloads: { resource: Finding["resource"]; passed: boolean; source?: string }[];
  skipped: { kind: string; name: string; reason: string }[];
  errors: { where?: string; message: string }[];
}

interface ComplianceReport {
  generated: string;
  cluster: string;
  scope: { namespace: string | null; namespaces: string[] };
  compliance: { percent: number | null; rulesEvaluated: number; rulesPassed: number; rulesFailed: number; rulesNotEvaluated: number };
  workloads: { evaluated: number; passed: number; failed: number; skipped: number };
  frameworks: { framework: string; percent: number | null; controls: { control: string; status: string }[] }[];
  rules: { id: string; status: "passed" | "failed" | "not-evaluated"; category: string; severity: string; failedWorkloads: number }[];
  warnings: { where?: string; message: string }[];
}

interface RuleList {
  rules: { id: string; category: string; enabled: boolean; severity: string }[];
  total: number;
  enabled: number;
}

interface CallResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

// ---- the fixture: one cluster, its users, one server per door ----

let cluster: Cluster | undefined;
let tmp: string | undefined;
let stdio: StdioServer | undefined;
const servers: RunningServer[] = [];
const runtimes: Runtime[] = [];
const urls: { admin?: string; readonly?: string; noNetpol?: string; noDeployments?: string } = {};

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not set up (see test.before)`);
  return value;
}

async function serve(kubeconfigPath: string): Promise<{ url: string; source: ClusterSource }> {
  const source = ClusterSource.connect({ kind: "file", path: kubeconfigPath });
  const runtime = await Runtime.create({ config: "production", source });
  runtimes.push(runtime);
  const server = await startHttpServer(runtime, { port: 0 });
  servers.push(server);
  return { url: server.url, source };
}

test.before(async (t) => {
  // Seconds with cached binaries; a first run builds them (scripts/install-kube.sh), which takes minutes.
  t.timeout(30 * 60_000);
  assertDistFresh();
  cluster = await startCluster();
  t.log(`cluster at ${cluster.server}: ${JSON.stringify(cluster.timings)}`);
  await seedCluster(cluster);
  tmp = mkdtempSync(join(tmpdir(), "kube-policy-integration-"));
  // The store (scan history) of every runtime here, in process and in the stdio child: not the user's.
  process.env.KUBE_POLICY_DB = join(tmp, "kube-policy.db");

  // Narrower users than the harness's readonly one: the same rules minus NetworkPolicies, and minus
  // the whole apps group (no Deployments at all).
  const noNetpolRules = READONLY_RULES.filter((r) => !r.apiGroups?.includes("networking.k8s.io"));
  const noAppsRules = READONLY_RULES.filter((r) => !r.apiGroups?.includes("apps"));
  const noNetpolKubeconfig = await serviceAccountKubeconfig(cluster, { name: "no-netpol-reader", namespace: "default", rules: noNetpolRules, dir: tmp });
  const noDeploymentsKubeconfig = await serviceAccountKubeconfig(cluster, { name: "no-apps-reader", namespace: "default", rules: noAppsRules, dir: tmp });

  stdio = await connectStdio(["serve", "--kubeconfig", cluster.adminKubeconfig, "--config", "production"]);
  urls.admin = (await serve(cluster.adminKubeconfig)).url;
  urls.readonly = (await serve(cluster.readonlyKubeconfig)).url;
  urls.noNetpol = (await serve(noNetpolKubeconfig)).url;
  urls.noDeployments = (await serve(noDeploymentsKubeconfig)).url;
});

test.after.always(async () => {
  await stdio?.close();
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(runtimes.map((r) => r.close()));
  await cluster?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function call(name: string, args: Record<string, unknown>): Promise<CallResult> {
  return (await need(stdio, "stdio server").client.callTool({ name, arguments: args })) as CallResult;
}

function structured<T>(result: CallResult): T {
  if (result.isError) throw new Error(`tool returned an error: ${result.content.map((c) => c.text).join("\n")}`);
  if (!result.structuredContent) throw new Error("tool result has no structuredContent");
  return result.structuredContent as T;
}

function text(result: CallResult): string {
  return result.content.filter((c) => c.type === "text").map((c) => c.text ?? "").join("\n");
}

async function connectHttpMcp(url: string): Promise<Client> {
  const client = new Client({ name: "kube-policy-http-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
  return client;
}

const ruleIds = (findings: Finding[]) => [...new Set(findings.map((f) => f.ruleId))].sort();

/** Rule ids of one category, from the Rego sources (file name = rule id with _ for -). */
function regoRuleIds(category: string): string[] {
  return readdirSync(join(ROOT, "rego", category))
    .filter((f) => f.endsWith(".rego") && !f.endsWith("_test.rego"))
    .map((f) => f.replace(/\.rego$/, "").replaceAll("_", "-"))
    .sort();
}

/** The whole-cluster design: each workload kind and each fact listed once, plus storage classes and namespaces. */
const CLUSTER_REPORT_REQUESTS = WORKLOAD_KINDS.length + Object.keys(FACT_TYPES).length + 2;

// ---- e) API requests (serial: AVA runs serial tests before the concurrent ones, so the extra
// namespaces it adds are gone before any other test looks at the whole cluster) ----

test.serial("a whole-cluster compliance report lists each resource type once, however many namespaces there are", async (t) => {
  const c = need(cluster, "cluster");
  const source = ClusterSource.connect({ kind: "file", path: c.adminKubeconfig });
  const runtime = await Runtime.create({ config: "production", source });
  runtimes.push(runtime);
  const report = ALL_TOOLS.find((tool) => tool.name === "generate_compliance_report")!;

  source.client.requests = 0;
  const before = (await report.run({}, { runtime, actor: "test" })).structured as unknown as ComplianceReport;
  t.deepEqual(before.scope.namespaces, [PRODUCTION, STAGING]);
  t.is(source.client.requests, CLUSTER_REPORT_REQUESTS, "7 workload kinds + 8 facts + storage classes + namespaces");
  t.true(source.client.requests / before.scope.namespaces.length < 10, `${source.client.requests} requests for ${before.scope.namespaces.length} namespaces`);

  // Six more namespaces with a workload each: the request count stays the same.
  const core = kubeconfig(c.adminKubeconfig).makeApiClient(CoreV1Api);
  const apps = kubeconfig(c.adminKubeconfig).makeApiClient(AppsV1Api);
  const extra = ["team-a", "team-b", "team-c", "team-d", "team-e", "team-f"];
  for (const ns of extra) {
    await core.createNamespace({ body: { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } } });
    await apps.createNamespacedDeployment({ namespace: ns, body: violatingDeployment(ns, "svc") });
  }
  try {
    source.client.requests = 0;
    const after = (await report.run({}, { runtime, actor: "test" })).structured as unknown as ComplianceReport;
    t.deepEqual(after.scope.namespaces, [PRODUCTION, STAGING, ...extra], "sorted");
    t.is(after.workloads.evaluated, before.workloads.evaluated + extra.length);
    t.is(source.client.requests, CLUSTER_REPORT_REQUESTS);
    t.true(source.client.requests / after.scope.namespaces.length < 3);
  } finally {
    for (const ns of extra) await apps.deleteNamespacedDeployment({ name: "svc", namespace: ns });
  }
  const cleaned = (await report.run({}, { runtime, actor: "test" })).structured as unknown as ComplianceReport;
  t.deepEqual(cleaned.scope.namespaces, [PRODUCTION, STAGING], "the extra workloads are gone again");

  // One workload: its get, one list per fact of its namespace, storage classes, its namespace.
  source.client.requests = 0;
  const evaluate = ALL_TOOLS.find((tool) => tool.name === "evaluate_deployment_policies")!;
  await evaluate.run({ namespace: STAGING, deployment: VIOLATING }, { runtime, actor: "test" });
  t.is(source.client.requests, 1 + Object.keys(FACT_TYPES).length + 2);
});

// ---- a) MCP over stdio, against the built server ----

test("stdio: listTools shows the five tools, read-only, with input and output schemas", async (t) => {
  const { tools } = await need(stdio, "stdio server").client.listTools();
  const names = tools.map((tool) => tool.name).sort();
  t.deepEqual(names, registeredTools().map((tool) => tool.name).sort(), "exactly the tools of src/tools");
  for (const name of PRODUCT_TOOLS) t.true(names.includes(name), name);
  const writes = new Map(registeredTools().map((tool) => [tool.name, tool.writes]));
  for (const tool of tools) {
    if (writes.get(tool.name)) t.false(tool.annotations?.readOnlyHint ?? false, `${tool.name} changes the cluster: no readOnlyHint`);
    t.is(tool.inputSchema.type, "object", tool.name);
    t.is(tool.outputSchema?.type, "object", tool.name);
  }
  for (const tool of tools.filter((tool) => PRODUCT_TOOLS.includes(tool.name))) {
    t.is(tool.annotations?.readOnlyHint, true, tool.name);
    t.is(tool.annotations?.idempotentHint, true, tool.name);
    t.is(tool.annotations?.openWorldHint, false, tool.name);
  }
  const evaluate = tools.find((tool) => tool.name === "evaluate_deployment_policies")!;
  t.deepEqual(Object.keys(evaluate.inputSchema.properties ?? {}).sort(), ["deployment", "namespace"]);
  t.deepEqual([...(evaluate.inputSchema.required ?? [])].sort(), ["deployment", "namespace"]);
});

test("stdio: the violating deployment fails with a critical privileged-container violation", async (t) => {
  const result = await call("evaluate_deployment_policies", { namespace: STAGING, deployment: VIOLATING });
  t.falsy(result.isError);
  const out = structured<Evaluation>(result);
  t.false(out.passed);
  t.is(out.status, "fail");
  const privileged = out.violations.filter((v) => v.ruleId === "privileged-container");
  t.is(privileged.length, 1);
  t.is(privileged[0]!.severity, "critical");
  t.is(privileged[0]!.outcome, "violation");
  t.deepEqual(privileged[0]!.resource, { apiVersion: "apps/v1", kind: "Deployment", namespace: STAGING, name: VIOLATING });
  t.regex(privileged[0]!.path, /^spec\.template\.spec\.containers\[0\]\.securityContext/);
  t.true(out.violations.some((v) => v.ruleId === "image-tag-latest"), "nginx:latest");
  // No NetworkPolicy in staging: the admin can tell, so it is a violation, not "not evaluated".
  t.true(out.violations.some((v) => v.ruleId === "network-policy"));
  t.is(out.summary.violations, out.violations.length);
  t.is(out.summary.bySeverity.critical, out.violations.filter((v) => v.severity === "critical").length);
  t.deepEqual(out.workloads, [
    { resource: { apiVersion: "apps/v1", kind: "Deployment", namespace: STAGING, name: VIOLATING }, passed: false, source: `/apis/apps/v1/namespaces/${STAGING}/deployments/${VIOLATING}` },
  ]);
  t.deepEqual(out.errors, []);
  t.true(text(result).startsWith(`Deployment ${STAGING}/${VIOLATING}: FAIL`), text(result));
  t.regex(text(result), /\[critical\] privileged-container/);
});

test("stdio: the compliant deployment passes with its PDB, NetworkPolicy and ResourceQuota read from the cluster", async (t) => {
  const result = await call("evaluate_deployment_policies", { namespace: PRODUCTION, deployment: COMPLIANT });
  const out = structured<Evaluation>(result);
  t.true(out.passed);
  t.is(out.status, "pass");
  t.deepEqual(out.violations, []);
  t.deepEqual(out.warnings, []);
  t.deepEqual(out.errors, []);
  // What stays open: no image scanner (vulnerabilityreports API absent), no allowedRegistries configured.
  t.deepEqual(ruleIds(out.notEvaluated), ["allowed-registries", "image-vulnerabilities"]);
  t.true(text(result).startsWith(`Deployment ${PRODUCTION}/${COMPLIANT}: PASS — 0 violation(s)`), text(result));
});

test("stdio: generate_compliance_report for a namespace is consistent with its rule list", async (t) => {
  const result = await call("generate_compliance_report", { namespace: PRODUCTION });
  const report = structured<ComplianceReport>(result);
  const c = report.compliance;
  t.is(c.rulesPassed + c.rulesFailed, c.rulesEvaluated);
  t.true(c.rulesEvaluated > 0);
  t.is(c.percent, Math.round((100 * c.rulesPassed) / c.rulesEvaluated));
  t.is(report.rules.filter((r) => r.status === "passed").length, c.rulesPassed);
  t.is(report.rules.filter((r) => r.status === "failed").length, c.rulesFailed);
  t.is(report.rules.filter((r) => r.status === "not-evaluated").length, c.rulesNotEvaluated);
  t.deepEqual(report.scope, { namespace: PRODUCTION, namespaces: [PRODUCTION] });
  t.deepEqual(report.workloads, { evaluated: 2, passed: 1, failed: 1, skipped: 0 }, "web-app passes, the ledger StatefulSet fails");
  const status = new Map(report.rules.map((r) => [r.id, r.status]));
  t.is(status.get("host-path-volume"), "failed", "the StatefulSet mounts a hostPath");
  t.is(status.get("privileged-container"), "passed", "nothing privileged in production (the violating one is in staging)");
  t.is(status.get("image-vulnerabilities"), "not-evaluated");
  t.deepEqual(report.frameworks.map((f) => f.framework), ["SOC2", "ISO27001"], "the production preset's frameworks");
  t.deepEqual(report.warnings, []);
  t.is(report.cluster, "admin@kube-policy-test");

  const body = text(result);
  t.true(body.startsWith("📊 Compliance Report for"), body.slice(0, 80));
  t.true(body.startsWith("📊 Compliance Report for Production Namespace\n"));
  t.true(body.includes(`Overall Compliance: ${c.percent}%`));
  t.true(body.includes(`- Total Rules Evaluated: ${c.rulesEvaluated}`));
});

// Progress is checked on the wire: SDK 1.32's Client dispatches notifications a microtask later than
// responses, so when the last progress notification and the response arrive in one stdout chunk the
// response retires the progress handler first and onprogress never sees it ("Received a progress
// notification for an unknown token"; modelcontextprotocol/typescript-sdk#2580). Whatever onprogress
// does receive must match what was sent.
test("stdio: a whole-cluster report sends progress notifications when given a progress token", async (t) => {
  const server = need(stdio, "stdio server");
  const delivered: { progress: number; total?: number; message?: string }[] = [];
  const from = server.received.length;
  const result = (await server.client.callTool({ name: "generate_compliance_report", arguments: {} }, undefined, {
    onprogress: (p) => delivered.push(p),
  })) as CallResult;
  const report = structured<ComplianceReport>(result);
  t.deepEqual(report.scope, { namespace: null, namespaces: [PRODUCTION, STAGING] });
  t.is(report.workloads.evaluated, 4, "web-app, ledger, app, nightly-report");

  // The response is the one whose result is this report; its id is the progress token.
  const wire = server.received.slice(from) as { id?: number; method?: string; result?: unknown; params?: Record<string, unknown> }[];
  const responseAt = wire.findIndex((m) => m.result !== undefined && (m.result as CallResult).structuredContent?.generated === report.generated);
  t.true(responseAt >= 0, "the response came through the transport");
  const token = wire[responseAt]!.id;
  const progress = wire
    .map((m, i) => ({ m, i }))
    .filter(({ m }) => m.method === "notifications/progress" && m.params?.progressToken === token);
  t.true(progress.length >= 1, "at least one progress notification for this request");
  t.true(progress.every(({ i }) => i < responseAt), "progress arrives before the response");
  const last = progress.at(-1)!.m.params!;
  t.is(last.progress, report.workloads.evaluated);
  t.is(last.total, report.workloads.evaluated);
  t.is(last.message, "evaluated 4 of 4 workloads");
  const values = progress.map(({ m }) => m.params!.progress as number);
  t.deepEqual(values, [...values].sort((a, b) => a - b), "progress only grows");
  t.deepEqual(
    delivered,
    progress.slice(0, delivered.length).map(({ m }) => {
      const { progressToken: _token, ...rest } = m.params!;
      return rest;
    }),
    "what onprogress received is what was sent",
  );
  t.true(text(result).startsWith("📊 Compliance Report for Cluster\n"));
});

test("stdio: list_policy_rules {category: cost} lists exactly the cost rules", async (t) => {
  const list = structured<RuleList>(await call("list_policy_rules", { category: "cost" }));
  t.deepEqual(list.rules.map((r) => r.id).sort(), regoRuleIds("cost"));
  t.true(list.rules.every((r) => r.category === "cost"));
  t.is(list.total, list.rules.length);
  t.is(list.enabled, list.rules.filter((r) => r.enabled).length);
  t.true(list.enabled > 0);
});

test("stdio: evaluate_workload evaluates a StatefulSet and a CronJob (kind given as a plural)", async (t) => {
  const sts = structured<Evaluation>(await call("evaluate_workload", { namespace: PRODUCTION, kind: "StatefulSet", name: STATEFULSET }));
  t.false(sts.passed);
  const hostPath = sts.violations.find((v) => v.ruleId === "host-path-volume");
  t.truthy(hostPath);
  t.deepEqual(hostPath?.resource, { apiVersion: "apps/v1", kind: "StatefulSet", namespace: PRODUCTION, name: STATEFULSET });
  t.false(sts.violations.some((v) => v.ruleId === "network-policy"), "production's default-deny NetworkPolicy selects every pod");

  const cron = await call("evaluate_workload", { namespace: STAGING, kind: "cronjobs", name: CRONJOB });
  const out = structured<Evaluation>(cron);
  t.false(out.passed);
  t.deepEqual(out.workloads.map((w) => w.resource), [{ apiVersion: "batch/v1", kind: "CronJob", namespace: STAGING, name: CRONJOB }]);
  const socket = out.violations.find((v) => v.ruleId === "container-runtime-socket");
  t.is(socket?.severity, "critical");
  t.true(out.violations.some((v) => v.ruleId === "host-network"));
  t.true(text(cron).startsWith(`CronJob ${STAGING}/${CRONJOB}: FAIL`));
});

test("stdio: evaluate_workload refuses a kind that is not a workload, naming the argument", async (t) => {
  const result = await call("evaluate_workload", { namespace: STAGING, kind: "Service", name: "x" });
  t.true(result.isError);
  t.regex(text(result), /^invalid_input: invalid arguments for evaluate_workload/);
  t.regex(text(result), /kind: "Service" is not a workload kind/);
});

test("stdio: evaluate_manifest evaluates inline YAML, with the facts given beside it", async (t) => {
  const yaml = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: inline, namespace: review}
spec:
  selector: {matchLabels: {app: inline}}
  template:
    metadata: {labels: {app: inline}}
    spec:
      containers:
        - name: inline
          image: nginx:latest
          securityContext: {privileged: true}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: review}
spec: {podSelector: {}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: review}
data: {a: b}
`;
  const out = structured<Evaluation>(await call("evaluate_manifest", { yaml }));
  t.false(out.passed);
  t.deepEqual(out.workloads.map((w) => w.resource), [{ apiVersion: "apps/v1", kind: "Deployment", namespace: "review", name: "inline" }]);
  t.is(out.violations.find((v) => v.ruleId === "privileged-container")?.severity, "critical");
  t.true(out.violations.some((v) => v.ruleId === "image-tag-latest"));
  t.false(out.violations.some((v) => v.ruleId === "network-policy"), "the NetworkPolicy in the same text selects the pods");
  t.deepEqual(out.skipped.map((s) => `${s.kind}/${s.name}`), ["ConfigMap/settings"]);
});

test("stdio: a deployment that does not exist is an isError result naming namespace and name", async (t) => {
  const result = await call("evaluate_deployment_policies", { namespace: STAGING, deployment: "no-such-app" });
  t.true(result.isError);
  t.is(result.structuredContent, undefined);
  t.is(text(result), `not_found: Deployment "no-such-app" not found in namespace "${STAGING}"`);
});

// ---- b) MCP over Streamable HTTP ----

test("Streamable HTTP: the same tools and the same evaluations as over stdio", async (t) => {
  const client = await connectHttpMcp(need(urls.admin, "admin server"));
  try {
    const { tools } = await client.listTools();
    const overStdio = await need(stdio, "stdio server").client.listTools();
    t.deepEqual(
      tools.map((tool) => [tool.name, tool.annotations]).sort(),
      overStdio.tools.map((tool) => [tool.name, tool.annotations]).sort(),
      "the same tools and annotations as over stdio",
    );
    for (const [namespace, deployment] of [[STAGING, VIOLATING], [PRODUCTION, COMPLIANT]] as const) {
      const overHttp = (await client.callTool({ name: "evaluate_deployment_policies", arguments: { namespace, deployment } })) as CallResult;
      const overStdio = await call("evaluate_deployment_policies", { namespace, deployment });
      t.falsy(overHttp.isError);
      t.deepEqual(overHttp.structuredContent, overStdio.structuredContent, `${namespace}/${deployment}`);
      t.is(text(overHttp), text(overStdio));
    }
    const missing = (await client.callTool({ name: "evaluate_deployment_policies", arguments: { namespace: PRODUCTION, deployment: "ghost" } })) as CallResult;
    t.true(missing.isError);
    t.is(text(missing), `not_found: Deployment "ghost" not found in namespace "${PRODUCTION}"`);
  } finally {
    await client.close();
  }
});

// ---- c) REST ----

test("REST: curl -d style POST returns the same structured JSON, and the jq critical filter finds the violation", async (t) => {
  const url = need(urls.admin, "admin server");
  const violating = await postTool(url, "evaluate_deployment_policies", `{"namespace": "${STAGING}", "deployment": "${VIOLATING}"}`);
  t.is(violating.status, 200, violating.text);
  t.regex(violating.headers.get("content-type") ?? "", /^application\/json/);
  const viaStdio = await call("evaluate_deployment_policies", { namespace: STAGING, deployment: VIOLATING });
  t.deepEqual(violating.json, viaStdio.structuredContent);
  const critical = (violating.json as Evaluation).violations.filter((v) => v.severity === "critical");
  t.true(critical.length > 0);
  t.true(critical.some((v) => v.ruleId === "privileged-container"));

  const compliant = await postTool(url, "evaluate_deployment_policies", `{"namespace": "${PRODUCTION}", "deployment": "${COMPLIANT}"}`);
  t.is(compliant.status, 200, compliant.text);
  t.true((compliant.json as Evaluation).passed);
  t.deepEqual((compliant.json as Evaluation).violations.filter((v) => v.severity === "critical"), []);

  const report = await postTool(url, "generate_compliance_report", "");
  t.is(report.status, 200, report.text);
  t.deepEqual((report.json as ComplianceReport).scope.namespaces, [PRODUCTION, STAGING]);

  const missing = await postTool(url, "evaluate_deployment_policies", { namespace: STAGING, deployment: "ghost" });
  t.is(missing.status, 404);
  t.is(missing.json?.error?.code, "not_found");
  t.is(missing.json?.error?.message, `Deployment "ghost" not found in namespace "${STAGING}"`);
});

// ---- d) users with less than cluster-admin ----

test("read-only user: evaluations work where its ClusterRole allows", async (t) => {
  const url = need(urls.readonly, "readonly server");
  const violating = await postTool(url, "evaluate_deployment_policies", { namespace: STAGING, deployment: VIOLATING });
  t.is(violating.status, 200, violating.text);
  t.false(violating.json.passed);
  t.is((violating.json as Evaluation).violations.find((v) => v.ruleId === "privileged-container")?.severity, "critical");

  const compliant = await postTool(url, "evaluate_deployment_policies", { namespace: PRODUCTION, deployment: COMPLIANT });
  t.is(compliant.status, 200, compliant.text);
  t.true(compliant.json.passed);
  t.false(ruleIds((compliant.json as Evaluation).notEvaluated).includes("network-policy"), "it may list NetworkPolicies");
});

test("user without NetworkPolicy access: network-policy is not evaluated and errors name verb, resource and namespace", async (t) => {
  const url = need(urls.noNetpol, "no-netpol server");
  for (const [namespace, deployment] of [[PRODUCTION, COMPLIANT], [STAGING, VIOLATING]] as const) {
    const res = await postTool(url, "evaluate_deployment_policies", { namespace, deployment });
    t.is(res.status, 200, res.text);
    const out = res.json as Evaluation;
    t.deepEqual(
      out.notEvaluated.filter((f) => f.ruleId === "network-policy").map((f) => f.resource.name),
      [deployment],
      `${namespace}/${deployment}: network-policy not evaluated`,
    );
    t.false(out.violations.some((v) => v.ruleId === "network-policy"), `${namespace}/${deployment}: no network-policy violation`);
    const error = out.errors.find((e) => e.where === "networkPolicies");
    t.truthy(error, JSON.stringify(out.errors));
    t.true(
      error?.message.startsWith(`forbidden: cannot list networkpolicies.networking.k8s.io in namespace "${namespace}"`),
      error?.message,
    );
    t.regex(error?.message ?? "", /system:serviceaccount:default:no-netpol-reader/);
  }
  // The compliant one still passes: the other facts are known.
  const compliant = (await postTool(url, "evaluate_deployment_policies", { namespace: PRODUCTION, deployment: COMPLIANT })).json as Evaluation;
  t.true(compliant.passed);

  // A whole-cluster report: the rule is not evaluated anywhere, and the warning says so cluster-wide.
  const report = (await postTool(url, "generate_compliance_report", {})).json as ComplianceReport;
  t.is(report.rules.find((r) => r.id === "network-policy")?.status, "not-evaluated");
  const warning = report.warnings.find((w) => w.where === "networkPolicies");
  t.true(warning?.message.startsWith("forbidden: cannot list networkpolicies.networking.k8s.io in all namespaces"), warning?.message);
});

test("user who may not read Deployments: 403 forbidden over REST, isError over MCP", async (t) => {
  const url = need(urls.noDeployments, "no-apps server");
  const res = await postTool(url, "evaluate_deployment_policies", { namespace: STAGING, deployment: VIOLATING });
  t.is(res.status, 403, res.text);
  t.is(res.json?.error?.code, "forbidden");
  t.true(
    String(res.json?.error?.message).startsWith(`forbidden: cannot get deployments.apps "${VIOLATING}" in namespace "${STAGING}"`),
    res.json?.error?.message,
  );

  const client = await connectHttpMcp(url);
  try {
    const result = (await client.callTool({ name: "evaluate_deployment_policies", arguments: { namespace: STAGING, deployment: VIOLATING } })) as CallResult;
    t.true(result.isError);
    t.true(text(result).startsWith("forbidden: "), text(result));
    t.true(text(result).includes(`cannot get deployments.apps "${VIOLATING}" in namespace "${STAGING}"`), text(result));
  } finally {
    await client.close();
  }

  // A report still runs on what it may read (the CronJob) and says which kinds it could not list.
  const report = await postTool(url, "generate_compliance_report", {});
  t.is(report.status, 200, report.text);
  const r = report.json as ComplianceReport;
  t.is(r.workloads.evaluated, 1, "only the CronJob is readable");
  const warning = r.warnings.find((w) => w.where === "deployments.apps");
  t.true(warning?.message.startsWith("forbidden: cannot list deployments.apps in all namespaces"), warning?.message);
  t.regex(warning?.message ?? "", /these workloads were not evaluated$/);
});

// Fails at the time of writing (see the report): the cluster source tells the read-only user that
// "rules that need serviceMonitors are reported as not evaluated", yet monitoring-annotations reports a
// violation, because the rule reads an absent serviceMonitors key as "no ServiceMonitor exists".
test("read-only user: a fact it may not read (serviceMonitors) makes its rule not evaluated, as the error says", async (t) => {
  const url = need(urls.readonly, "readonly server");
  const out = (await postTool(url, "evaluate_deployment_policies", { namespace: STAGING, deployment: VIOLATING })).json as Evaluation;
  const error = out.errors.find((e) => e.where === "serviceMonitors");
  t.truthy(error, "the readonly ClusterRole has no servicemonitors rule");
  t.regex(error?.message ?? "", /rules that need serviceMonitors are reported as not evaluated/);
  t.false(out.violations.some((v) => v.ruleId === "monitoring-annotations"), "monitoring-annotations must not be a violation when ServiceMonitors are unknown");
  t.true(out.notEvaluated.some((v) => v.ruleId === "monitoring-annotations"));
});
