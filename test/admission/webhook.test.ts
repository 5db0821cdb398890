// Covers the validating admission webhook on a real kube-apiserver: the ValidatingWebhookConfiguration
// of config/deploy/admission-webhook.yaml is registered through the API with the webhook's URL on
// 127.0.0.1 and the generated CA as caBundle, and workloads are created through the API server as
// kubectl would: a violating Deployment (and Pod) in a strict namespace is refused with the rule's
// message and field; in a namespace labelled advisory it is created and the warnings come back to the
// client as Warning headers; a compliant one passes; exemptions and excluded namespaces pass untouched;
// dry runs are evaluated (refused in strict) but nothing is created and the decision is marked dryRun;
// a denial is confirmed with fresh facts (a NetworkPolicy created a moment ago counts); a burst of
// reviews reads a namespace's facts once; a strict label overrides an advisory configuration; a
// malformed AdmissionReview gets a 400 and the server keeps answering; the counters add up.
// Real components: etcd + kube-apiserver (test/harness/cluster.ts), the webhook's HTTPS server with a
// generated CA, ClusterSource reading facts from the same API server, the committed policy.wasm.
// Stand-in: the decision logger is an array (the audit store is wired later), so tests can read it.
import test from "ava";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { startCluster, type Cluster } from "../harness/cluster.js";
import { ClusterSource } from "../../src/kube/cluster-source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import { generateDevCertificates } from "../../src/http/certificates.js";
import {
  ADMISSION_PATH,
  AdmissionController,
  AdmissionMetrics,
  ENFORCEMENT_LABEL,
  startAdmissionServer,
  type AdmissionDecision,
  type AdmissionResponseReview,
  type DecisionLogger,
  type RunningAdmissionServer,
} from "../../src/http/admission.js";
import type { PolicyConfig } from "../../src/config/types.js";
import { PRIVILEGED_PATH, admissionReview, compliantDeployment, compliantFacts, httpsRequest, kube, violatingDeployment, type Json } from "./helpers.js";

const STRICT = "adm-strict";
const ADVISORY = "adm-advisory";
const EXCLUDED = "adm-excluded";
const FRESH = "adm-fresh";
const LABELLED_STRICT = "adm-labelled-strict";
const BAD_LABEL = "adm-bad-label";
const WEBHOOK_NAME = "validate.kube-policy.io";

const CONFIG: PolicyConfig = { global: { enforcement: "strict" }, excludedNamespaces: [EXCLUDED] };

interface Fixture {
  cluster: Cluster;
  apiCa: string;
  tlsCa: string;
  server: RunningAdmissionServer;
  source: ClusterSource;
  bundle: PolicyBundle;
  decisions: AdmissionDecision[];
  logLines: { level: string; obj: Json; msg?: string }[];
  metrics: AdmissionMetrics;
}

let fixture: Fixture | undefined;
const f = (): Fixture => {
  if (!fixture) throw new Error("the cluster or the webhook did not start (see test.before)");
  return fixture;
};

const deploymentsPath = (ns: string) => `/apis/apps/v1/namespaces/${ns}/deployments`;
const decisionFor = (name: string, namespace: string, dryRun = false) =>
  f().decisions.filter((d) => d.name === name && d.namespace === namespace && d.dryRun === dryRun).at(-1);

test.before(async (t) => {
  t.timeout(30 * 60_000); // a first run builds the API server binaries (scripts/install-kube.sh)
  const cluster = await startCluster();
  const apiCa = readFileSync(cluster.caPath, "utf8");
  try {
    const namespaces: [string, Record<string, string>][] = [
      [STRICT, {}],
      [ADVISORY, { [ENFORCEMENT_LABEL]: "advisory" }],
      [EXCLUDED, {}],
      [FRESH, {}],
      [LABELLED_STRICT, { [ENFORCEMENT_LABEL]: "strict" }],
      [BAD_LABEL, { [ENFORCEMENT_LABEL]: "loud" }],
    ];
    for (const [name, labels] of namespaces) {
      const res = await kube(cluster, apiCa, "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });
      if (res.status !== 201) throw new Error(`create namespace ${name}: ${res.status} ${res.body}`);
    }
    for (const fact of compliantFacts(STRICT)) {
      const res = await kube(cluster, apiCa, "POST", fact.path, fact.body);
      if (res.status !== 201) throw new Error(`create ${fact.path}: ${res.status} ${res.body}`);
    }

    const tls = await generateDevCertificates();
    const bundle = await PolicyBundle.load();
    const source = ClusterSource.connect({ kind: "file", path: cluster.adminKubeconfig });
    const runtime = new Runtime(CONFIG, bundle, source);
    const decisions: AdmissionDecision[] = [];
    const logLines: Fixture["logLines"] = [];
    const logger: DecisionLogger = {
      info: (obj, msg) => logLines.push({ level: "info", obj: obj as Json, msg }),
      warn: (obj, msg) => logLines.push({ level: "warn", obj: obj as Json, msg }),
      error: (obj, msg) => logLines.push({ level: "error", obj: obj as Json, msg }),
    };
    const metrics = new AdmissionMetrics();
    const server = await startAdmissionServer(runtime, { port: 0, tls, onDecision: (d) => void decisions.push(d), logger, metrics });
    fixture = { cluster, apiCa, tlsCa: tls.ca, server, source, bundle, decisions, logLines, metrics };

    // The shipped manifest, pointed at our server; Fail so a broken webhook fails the tests instead of
    // admitting everything unchecked.
    const docs = parseAllDocuments(readFileSync(new URL("../../config/deploy/admission-webhook.yaml", import.meta.url), "utf8")).map((d) => d.toJS() as Json);
    const vwc = docs.find((d) => d.kind === "ValidatingWebhookConfiguration") as Json & { webhooks: Json[] };
    vwc.webhooks[0]!.clientConfig = { url: `${server.url}${ADMISSION_PATH}`, caBundle: Buffer.from(tls.ca).toString("base64") };
    vwc.webhooks[0]!.failurePolicy = "Fail";
    const created = await kube(cluster, apiCa, "POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", vwc);
    if (created.status !== 201) throw new Error(`create ValidatingWebhookConfiguration: ${created.status} ${created.body}`);

    // The API server picks the configuration up asynchronously: wait until a dry run is refused by us.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await kube(cluster, apiCa, "POST", `${deploymentsPath(STRICT)}?dryRun=All`, violatingDeployment(STRICT, "warm-up"));
      if (res.status === 403 && res.body.includes(WEBHOOK_NAME)) break;
      if (Date.now() > deadline) throw new Error(`the webhook never answered: last ${res.status} ${res.body}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (error) {
    await fixture?.server.close();
    await cluster.stop();
    fixture = undefined;
    throw error;
  }
});

test.after.always(async () => {
  await fixture?.server.close();
  await fixture?.cluster.stop();
});

test.serial("strict namespace: a violating Deployment is refused with the rules and fields, and not stored", async (t) => {
  const { cluster, apiCa } = f();
  const res = await kube(cluster, apiCa, "POST", deploymentsPath(STRICT), violatingDeployment(STRICT, "app"));
  t.is(res.status, 403, res.body);
  const status = res.json as { message: string; reason: string };
  t.true(status.message.startsWith(`admission webhook "${WEBHOOK_NAME}" denied the request: kube-policy: Deployment ${STRICT}/app violates`), status.message);
  t.regex(status.message, /\[privileged-container\] spec\.template\.spec\.containers\[0\]\.securityContext\.privileged: container "app"/);
  t.true(status.message.includes("image-tag-latest"), "the rule list names every violated rule");
  t.is((await kube(cluster, apiCa, "GET", `${deploymentsPath(STRICT)}/app`)).status, 404);

  const decision = decisionFor("app", STRICT);
  t.is(decision?.decision, "denied");
  t.is(decision?.mode, "strict");
  t.is(decision?.modeSource, "config");
  t.is(decision?.operation, "CREATE");
  t.is(decision?.user, "admin");
  t.true(decision?.violations.some((v) => v.ruleId === "privileged-container" && v.path === PRIVILEGED_PATH));
});

test.serial("strict namespace: a privileged bare Pod is refused too", async (t) => {
  const { cluster, apiCa } = f();
  const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "debug" }, spec: { containers: [{ name: "sh", image: "busybox:1.36", securityContext: { privileged: true } }] } };
  const res = await kube(cluster, apiCa, "POST", `/api/v1/namespaces/${STRICT}/pods`, pod);
  t.is(res.status, 403, res.body);
  t.regex((res.json as { message: string }).message, /\[privileged-container\] spec\.containers\[0\]\.securityContext\.privileged/);
});

test.serial("advisory namespace (label): the violating Deployment is created and the findings come back as warnings", async (t) => {
  const { cluster, apiCa } = f();
  const res = await kube(cluster, apiCa, "POST", deploymentsPath(ADVISORY), violatingDeployment(ADVISORY, "app"));
  t.is(res.status, 201, res.body);
  t.true(res.warnings.some((w) => w.startsWith('privileged-container: container "app"')), res.warnings.join("\n"));
  t.true(res.warnings.some((w) => w.startsWith("image-tag-latest: ")));
  for (const warning of res.warnings) t.true(warning.length <= 120, `warning longer than 120 characters: ${warning}`);
  t.is((await kube(cluster, apiCa, "GET", `${deploymentsPath(ADVISORY)}/app`)).status, 200);

  const decision = decisionFor("app", ADVISORY);
  t.is(decision?.decision, "warned");
  t.is(decision?.mode, "advisory");
  t.is(decision?.modeSource, "label");
  t.deepEqual(decision?.violations, []);
  t.is(res.warnings.length, Math.min(decision!.warnings.length, 20));
});

test.serial("strict namespace: a compliant Deployment passes without warnings", async (t) => {
  const { cluster, apiCa } = f();
  const res = await kube(cluster, apiCa, "POST", deploymentsPath(STRICT), compliantDeployment(STRICT));
  t.is(res.status, 201, res.body);
  t.deepEqual(res.warnings, []);
  const decision = decisionFor("web-app", STRICT);
  t.is(decision?.decision, "allowed");
  t.is(decision?.skipped, undefined, "it was evaluated, not waved through");
  t.is(decision?.mode, "strict");
  t.deepEqual(decision?.violations, []);

  // An update is reviewed as well: breaking the running Deployment is refused.
  const current = (await kube(cluster, apiCa, "GET", `${deploymentsPath(STRICT)}/web-app`)).json as Json & { spec: { template: { spec: { containers: Json[] } } } };
  current.spec.template.spec.containers[0]!.securityContext = { privileged: true };
  const update = await kube(cluster, apiCa, "PUT", `${deploymentsPath(STRICT)}/web-app`, current);
  t.is(update.status, 403, update.body);
  t.is(decisionFor("web-app", STRICT)?.operation, "UPDATE");
});

test.serial("exemptions and excluded namespaces pass untouched", async (t) => {
  const { cluster, apiCa } = f();
  const exempt = violatingDeployment(STRICT, "legacy", { "kube-policy.io/exempt": "*", "kube-policy.io/exempt-reason": "vendor appliance, ticket SEC-42" });
  const res = await kube(cluster, apiCa, "POST", deploymentsPath(STRICT), exempt);
  t.is(res.status, 201, res.body);
  t.deepEqual(res.warnings, []);
  const decision = decisionFor("legacy", STRICT);
  t.is(decision?.decision, "allowed");
  t.true(decision!.exempt.some((e) => e.ruleId === "privileged-container" && e.reason.includes("SEC-42")));

  const excluded = await kube(cluster, apiCa, "POST", deploymentsPath(EXCLUDED), violatingDeployment(EXCLUDED, "app"));
  t.is(excluded.status, 201, excluded.body);
  t.deepEqual(excluded.warnings, []);
  t.regex(decisionFor("app", EXCLUDED)?.skipped ?? "", /excluded by the configuration/);
});

test.serial("dry runs are evaluated (refused in strict), create nothing, and are marked dryRun", async (t) => {
  const { cluster, apiCa, logLines } = f();
  const strict = await kube(cluster, apiCa, "POST", `${deploymentsPath(STRICT)}?dryRun=All`, violatingDeployment(STRICT, "dry"));
  t.is(strict.status, 403, strict.body);
  t.true((strict.json as { message: string }).message.includes("[privileged-container]"));
  t.is(decisionFor("dry", STRICT, true)?.decision, "denied");
  t.is(decisionFor("dry", STRICT, false), undefined, "no decision of a real change");

  const advisory = await kube(cluster, apiCa, "POST", `${deploymentsPath(ADVISORY)}?dryRun=All`, violatingDeployment(ADVISORY, "dry"));
  t.is(advisory.status, 201, advisory.body);
  t.true(advisory.warnings.some((w) => w.startsWith("privileged-container: ")));
  t.is((await kube(cluster, apiCa, "GET", `${deploymentsPath(ADVISORY)}/dry`)).status, 404, "a dry run stores nothing");
  t.is(decisionFor("dry", ADVISORY, true)?.decision, "warned");

  const logged = logLines.filter((l) => (l.obj.admission as Json | undefined)?.name === "dry");
  t.is(logged.length, 2);
  for (const line of logged) t.is((line.obj.admission as Json).dryRun, true);
});

test.serial("a denial is confirmed with fresh facts: a NetworkPolicy created a moment ago counts", async (t) => {
  const { cluster, apiCa, decisions } = f();
  // Caches the namespace's facts (nothing there yet): the compliant Deployment lacks its NetworkPolicy.
  const before = await kube(cluster, apiCa, "POST", `${deploymentsPath(FRESH)}?dryRun=All`, compliantDeployment(FRESH));
  t.is(before.status, 403, before.body);
  t.true((before.json as { message: string }).message.includes("[network-policy]"));
  for (const fact of compliantFacts(FRESH)) t.is((await kube(cluster, apiCa, "POST", fact.path, fact.body)).status, 201);
  const started = decisions.length;
  const after = await kube(cluster, apiCa, "POST", deploymentsPath(FRESH), compliantDeployment(FRESH));
  t.is(after.status, 201, after.body);
  const decision = decisions.slice(started).find((d) => d.namespace === FRESH && !d.dryRun);
  t.is(decision?.decision, "allowed");
});

test.serial("a burst of reviews in one namespace reads its facts once; denials on the object alone read none", async (t) => {
  const { cluster, apiCa, source } = f();
  await kube(cluster, apiCa, "POST", `${deploymentsPath(STRICT)}?dryRun=All`, compliantDeployment(STRICT, "burst-0")); // warm
  const requestsBefore = source.client.requests;
  const results = await Promise.all(
    Array.from({ length: 30 }, (_, i) => kube(cluster, apiCa, "POST", `${deploymentsPath(STRICT)}?dryRun=All`, compliantDeployment(STRICT, `burst-${i + 1}`))),
  );
  t.deepEqual(results.map((r) => r.status), Array(30).fill(201));
  // One round of facts is 10 requests (8 fact lists, StorageClasses, the Namespace); without the cache 30 reviews make 300.
  t.true(source.client.requests - requestsBefore <= 20, `${source.client.requests - requestsBefore} API requests for 30 reviews`);

  // A denial on the object's own rules (privileged) stands whatever the facts: it re-reads nothing.
  const deniedBefore = source.client.requests;
  for (let i = 0; i < 5; i++) {
    const res = await kube(cluster, apiCa, "POST", `${deploymentsPath(STRICT)}?dryRun=All`, violatingDeployment(STRICT, `denied-${i}`));
    t.is(res.status, 403);
  }
  t.true(source.client.requests - deniedBefore <= 10, `${source.client.requests - deniedBefore} API requests for 5 denials`);
});

test.serial("a namespace labelled strict is enforced under an advisory configuration; an unknown label value is ignored", async (t) => {
  const { source, bundle } = f();
  const runtime = new Runtime({ global: { enforcement: "advisory" } }, bundle, source);
  const controller = new AdmissionController(runtime, { metrics: new AdmissionMetrics(), logger: { info() {}, warn() {}, error() {} } });
  const labelled = await controller.review(admissionReview(violatingDeployment(LABELLED_STRICT, "app"), { uid: "uid-labelled" }));
  t.is(labelled.review.response.uid, "uid-labelled");
  t.false(labelled.review.response.allowed);
  t.is(labelled.decision.modeSource, "label");
  t.true(labelled.decision.violations.some((v) => v.ruleId === "privileged-container"));

  const unlabelled = await controller.review(admissionReview(violatingDeployment(STRICT, "app"), { uid: "uid-unlabelled" }));
  t.true(unlabelled.review.response.allowed);
  t.is(unlabelled.decision.mode, "advisory");
  t.true((unlabelled.review.response.warnings ?? []).some((w) => w.startsWith("privileged-container: ")));

  const bad = await controller.review(admissionReview(violatingDeployment(BAD_LABEL, "app"), { uid: "uid-bad" }));
  t.is(bad.decision.modeSource, "config");
  t.true(bad.review.response.allowed);
  t.true(bad.decision.notes.some((n) => n.where === `namespace label ${ENFORCEMENT_LABEL}` && n.message.includes('"loud"')));
});

test.serial("a malformed AdmissionReview gets a 400 with a JSON error, and the server keeps answering", async (t) => {
  const { server, tlsCa, metrics } = f();
  const url = `${server.url}${ADMISSION_PATH}`;
  const errorsBefore = metrics.snapshot().total.errors;
  const cases: { body: string | Json; message: RegExp; where?: string }[] = [
    { body: "{not json", message: /not valid JSON/ },
    { body: "", message: /empty/ },
    { body: { ...admissionReview(violatingDeployment(STRICT)), apiVersion: "admission.k8s.io/v1beta1" }, message: /not an admission\.k8s\.io\/v1 AdmissionReview/, where: "/apiVersion" },
    { body: { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" }, message: /AdmissionReview/, where: "/request" },
    { body: admissionReview(violatingDeployment(STRICT), { uid: "" }), message: /AdmissionReview/, where: "/request/uid" },
    { body: admissionReview(null), message: /must carry request\.object/, where: "/request/object" },
    { body: [1, 2, 3] as unknown as Json, message: /AdmissionReview/ },
  ];
  for (const c of cases) {
    const res = await httpsRequest(url, { method: "POST", body: c.body, ca: tlsCa });
    t.is(res.status, 400, `${JSON.stringify(c.body).slice(0, 80)} → ${res.body}`);
    const error = (res.json as { error: { code: string; message: string; details?: { where: string }[] } }).error;
    t.is(error.code, "invalid_input");
    t.regex(error.message, c.message);
    if (c.where) t.true(error.details?.some((d) => d.where === c.where), JSON.stringify(error.details));
  }
  t.is(metrics.snapshot().total.errors - errorsBefore, cases.length);

  const ok = await httpsRequest(url, { method: "POST", body: admissionReview(compliantDeployment(STRICT), { uid: "after-the-bad-ones" }), ca: tlsCa });
  t.is(ok.status, 200);
  const review = ok.json as AdmissionResponseReview;
  t.is(review.apiVersion, "admission.k8s.io/v1");
  t.is(review.kind, "AdmissionReview");
  t.is(review.response.uid, "after-the-bad-ones");
  t.true(review.response.allowed);
});

test.serial("GET /admission/metrics counts every decision per namespace", async (t) => {
  const { server, tlsCa, decisions, metrics } = f();
  const res = await httpsRequest(`${server.url}/admission/metrics`, { ca: tlsCa });
  t.is(res.status, 200);
  const body = res.json as ReturnType<AdmissionMetrics["snapshot"]>;
  t.deepEqual(body, metrics.snapshot());
  for (const namespace of [STRICT, ADVISORY, EXCLUDED, FRESH]) {
    const mine = decisions.filter((d) => d.namespace === namespace);
    const counts = body.namespaces[namespace];
    t.is(counts?.denied, mine.filter((d) => d.decision === "denied").length, namespace);
    t.is(counts?.warned, mine.filter((d) => d.decision === "warned").length, namespace);
    t.is(counts?.dryRun, mine.filter((d) => d.dryRun).length, namespace);
  }
  t.is(body.namespaces[ADVISORY]?.warned, 2); // the create and the dry run
  t.true((body.namespaces[STRICT]?.denied ?? 0) >= 4);
});
