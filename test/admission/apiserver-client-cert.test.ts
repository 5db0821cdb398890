// Covers the API server authenticating itself to the webhook with a client certificate, end to end:
// kube-apiserver is started with --admission-control-config-file pointing at an AdmissionConfiguration
// (apiserver.config.k8s.io/v1) whose ValidatingAdmissionWebhook plugin reads a kubeconfig holding a
// client certificate for the webhook's host:port (the format ADMISSION.md documents); the webhook
// requires client certificates from that CA. Deployments created through the API server are reviewed
// (a violating one refused with our message, a compliant one created), while a caller without the
// certificate gets a 401 from the same port.
// Real components: etcd + kube-apiserver (test/harness/cluster.ts, extraApiserverArgs), the webhook's
// HTTPS server, certificates made with selfsigned, the committed policy.wasm, the demo manifests as
// the source (no namespace facts, so fact rules are not evaluated). Stand-in: decisions are an array.
import test from "ava";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { startCluster, type Cluster } from "../harness/cluster.js";
import { ADMISSION_PATH, AdmissionMetrics, startAdmissionServer, type AdmissionDecision, type DecisionLogger, type RunningAdmissionServer } from "../../src/http/admission.js";
import { generateDevCertificates } from "../../src/http/certificates.js";
import { MemorySource } from "../../src/kube/memory-source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import { clientCertificate, compliantDeployment, httpsRequest, kube, testCa, violatingDeployment, type Json } from "./helpers.js";

const NAMESPACE = "adm-mtls";
const WEBHOOK_NAME = "validate.kube-policy.io";
const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-apiserver-mtls-"));

interface Fixture {
  cluster: Cluster;
  apiCa: string;
  tlsCa: string;
  server: RunningAdmissionServer;
  decisions: AdmissionDecision[];
}
let fixture: Fixture | undefined;
const f = (): Fixture => {
  if (!fixture) throw new Error("the cluster or the webhook did not start (see test.before)");
  return fixture;
};
const b64 = (pem: string) => Buffer.from(pem).toString("base64");

test.before(async (t) => {
  t.timeout(30 * 60_000);
  const serving = await generateDevCertificates();
  const clientCa = await testCa("kube-apiserver webhook client CA");
  const apiserverClient = await clientCertificate(clientCa, "kube-apiserver-webhook-client");
  const caFile = path.join(dir, "client-ca.crt");
  writeFileSync(caFile, clientCa.cert);

  const quiet: DecisionLogger = { info() {}, warn() {}, error() {} };
  const decisions: AdmissionDecision[] = [];
  const runtime = new Runtime({ global: { enforcement: "strict" } }, await PolicyBundle.load(), await MemorySource.demo(), { databasePath: path.join(dir, "none.db") });
  const server = await startAdmissionServer(runtime, {
    port: 0,
    tls: serving,
    clientAuth: { ca: clientCa.cert, caFile, allowedNames: ["kube-apiserver-webhook-client"] },
    logger: quiet,
    metrics: new AdmissionMetrics(),
    onDecision: (d) => void decisions.push(d),
  });

  // The kubeconfig user is chosen by the webhook's host (and port, when not 443): here the URL's
  // 127.0.0.1:<port>; for the Service in the cluster, kube-policy-admission.kube-policy.svc.
  const kubeconfig = path.join(dir, "webhook-kubeconfig.yaml");
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "users:",
      `- name: "127.0.0.1:${server.port}"`,
      "  user:",
      `    client-certificate-data: ${b64(apiserverClient.cert)}`,
      `    client-key-data: ${b64(apiserverClient.key)}`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  const admissionConfig = path.join(dir, "admission-config.yaml");
  writeFileSync(
    admissionConfig,
    [
      "apiVersion: apiserver.config.k8s.io/v1",
      "kind: AdmissionConfiguration",
      "plugins:",
      "- name: ValidatingAdmissionWebhook",
      "  configuration:",
      "    apiVersion: apiserver.config.k8s.io/v1",
      "    kind: WebhookAdmissionConfiguration",
      `    kubeConfigFile: ${kubeconfig}`,
      "",
    ].join("\n"),
  );

  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster({ extraApiserverArgs: [`--admission-control-config-file=${admissionConfig}`] });
    const apiCa = readFileSync(cluster.caPath, "utf8");
    const ns = await kube(cluster, apiCa, "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } });
    if (ns.status !== 201) throw new Error(`create namespace: ${ns.status} ${ns.body}`);
    const docs = parseAllDocuments(readFileSync(new URL("../../config/deploy/admission-webhook.yaml", import.meta.url), "utf8")).map((d) => d.toJS() as Json);
    const vwc = docs.find((d) => d.kind === "ValidatingWebhookConfiguration") as Json & { webhooks: Json[] };
    vwc.webhooks[0]!.clientConfig = { url: `${server.url}${ADMISSION_PATH}`, caBundle: b64(serving.ca) };
    vwc.webhooks[0]!.failurePolicy = "Fail";
    const created = await kube(cluster, apiCa, "POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", vwc);
    if (created.status !== 201) throw new Error(`create ValidatingWebhookConfiguration: ${created.status} ${created.body}`);
    fixture = { cluster, apiCa, tlsCa: serving.ca, server, decisions };
    // Wait until the API server calls the webhook (a dry run refused by us, not failed by TLS or a 401).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await kube(cluster, apiCa, "POST", `/apis/apps/v1/namespaces/${NAMESPACE}/deployments?dryRun=All`, violatingDeployment(NAMESPACE, "warm-up"));
      if (res.status === 403 && String((res.json as { message?: string } | undefined)?.message).includes(`admission webhook "${WEBHOOK_NAME}" denied the request`)) break;
      if (Date.now() > deadline) throw new Error(`the webhook never answered the API server: last ${res.status} ${res.body}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (error) {
    fixture = undefined;
    await server.close();
    await cluster?.stop();
    throw error;
  }
});

test.after.always(async () => {
  await fixture?.server.close();
  await fixture?.cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

test.serial("the API server presents its client certificate: Deployments are reviewed (refused, created) through the authenticated webhook", async (t) => {
  const { cluster, apiCa } = f();
  const refused = await kube(cluster, apiCa, "POST", `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`, violatingDeployment(NAMESPACE, "app"));
  t.is(refused.status, 403, refused.body);
  t.regex(String((refused.json as { message?: string }).message), /^admission webhook "validate\.kube-policy\.io" denied the request: kube-policy: Deployment adm-mtls\/app violates .*\[privileged-container\]/);
  t.is(f().decisions.filter((d) => d.name === "app" && !d.dryRun).at(-1)?.decision, "denied");

  const created = await kube(cluster, apiCa, "POST", `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`, compliantDeployment(NAMESPACE, "web-app"));
  t.is(created.status, 201, created.body);
  const decision = f().decisions.filter((d) => d.name === "web-app" && !d.dryRun).at(-1);
  t.not(decision, undefined, "the create went through the webhook");
  t.not(decision?.decision, "denied");
  t.is(decision?.user, "admin");
});

test.serial("the same port refuses a caller without the API server's certificate", async (t) => {
  const before = f().decisions.length;
  const res = await httpsRequest(`${f().server.url}${ADMISSION_PATH}`, { method: "POST", body: { kind: "AdmissionReview" }, ca: f().tlsCa });
  t.is(res.status, 401);
  t.regex(res.body, /no client certificate was presented/);
  t.is(f().decisions.length, before);
});
