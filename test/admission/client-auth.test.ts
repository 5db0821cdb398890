// Covers client-certificate authentication on the admission port (startAdmissionServer's clientAuth,
// `serve --admission-client-ca/--admission-client-cn`): a client certificate signed by the configured
// CA gets its review answered; no certificate, or one from another CA, gets a 401 naming what is
// missing, and a CN outside the allowed list a 403, never a review (nothing decided, nothing counted);
// /healthz stays open for the kubelet's probes; a rotated CA bundle file is taken without a restart.
// Without clientAuth the port behaves as before (tested by webhook.test.ts and serve-cli.test.ts).
// Real components: node:https server and clients with real certificates on 127.0.0.1, the committed
// policy.wasm, files in a temporary directory. Stand-in: the decision logger is an array.
import test from "ava";
import https from "node:https";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ADMISSION_PATH, AdmissionMetrics, startAdmissionServer, type AdmissionDecision, type AdmissionResponseReview, type DecisionLogger } from "../../src/http/admission.js";
import { generateDevCertificates } from "../../src/http/certificates.js";
import { MemorySource } from "../../src/kube/memory-source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import { admissionReview, clientCertificate, testCa, violatingDeployment, type Json } from "./helpers.js";

const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-client-auth-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

interface Reply {
  status: number;
  json: { error?: { code: string; message: string } } & Partial<AdmissionResponseReview>;
}

/** One request on a fresh connection, with or without a client certificate. */
function request(url: string, ca: string, client?: { cert: string; key: string }, method = "POST", body: unknown = admissionReview(violatingDeployment("auth"), { uid: "auth-uid" })): Promise<Reply> {
  const text = method === "POST" ? JSON.stringify(body) : undefined;
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method, ca, agent: false, ...(client ?? {}), headers: text ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) } : {} },
      (res) => {
        let data = "";
        res.setEncoding("utf8").on("data", (c: string) => (data += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: data ? (JSON.parse(data) as Reply["json"]) : {} }));
      },
    );
    req.on("error", reject);
    if (text) req.write(text);
    req.end();
  });
}

async function setup(t: { teardown(fn: () => unknown): void }, allowedNames?: string[]) {
  const serving = await generateDevCertificates();
  const apiserverCa = await testCa("kube-apiserver client CA");
  const otherCa = await testCa("some other CA");
  const caFile = path.join(dir, `client-ca-${Math.random().toString(16).slice(2)}.crt`);
  writeFileSync(caFile, apiserverCa.cert);
  const decisions: AdmissionDecision[] = [];
  const lines: { level: string; obj: Json; msg?: string }[] = [];
  const logger: DecisionLogger = {
    info: (obj, msg) => lines.push({ level: "info", obj: obj as Json, msg }),
    warn: (obj, msg) => lines.push({ level: "warn", obj: obj as Json, msg }),
    error: (obj, msg) => lines.push({ level: "error", obj: obj as Json, msg }),
  };
  const runtime = new Runtime({ global: { enforcement: "strict" } }, await PolicyBundle.load(), await MemorySource.demo(), { databasePath: path.join(dir, "none.db") });
  const metrics = new AdmissionMetrics();
  const server = await startAdmissionServer(runtime, {
    port: 0,
    tls: serving,
    clientAuth: { ca: apiserverCa.cert, caFile, allowedNames },
    reloadIntervalMs: 0,
    logger,
    metrics,
    onDecision: (d) => void decisions.push(d),
  });
  t.teardown(() => server.close());
  return { serving, apiserverCa, otherCa, caFile, decisions, lines, metrics, server, url: `${server.url}${ADMISSION_PATH}` };
}

test("a client certificate from the configured CA is served; none, or one from another CA, gets a 401 and no review", async (t) => {
  const s = await setup(t);
  const apiserver = await clientCertificate(s.apiserverCa, "kube-apiserver-webhook-client");
  const ok = await request(s.url, s.serving.ca, apiserver);
  t.is(ok.status, 200);
  t.is(ok.json.response?.uid, "auth-uid");
  t.false(ok.json.response?.allowed);
  t.is(s.decisions.length, 1);

  const none = await request(s.url, s.serving.ca);
  t.is(none.status, 401);
  t.is(none.json.error?.message, `no client certificate was presented; this admission webhook requires one signed by a CA in ${s.caFile}`);
  t.is(none.json.response, undefined, "no review in the answer");

  const stranger = await request(s.url, s.serving.ca, await clientCertificate(s.otherCa, "kube-apiserver-webhook-client"));
  t.is(stranger.status, 401);
  t.regex(stranger.json.error?.message ?? "", new RegExp(`^the client certificate \\(subject CN=kube-apiserver-webhook-client\\) is not signed by a CA in ${s.caFile.replace(/[.]/g, "\\.")}: `));

  // The JSON counters are behind the same check; /healthz is open (kubelet probes carry no certificate).
  t.is((await request(`${s.server.url}/admission/metrics`, s.serving.ca, undefined, "GET")).status, 401);
  t.is((await request(`${s.server.url}/healthz`, s.serving.ca, undefined, "GET")).status, 200);

  t.is(s.decisions.length, 1, "refused requests were never reviewed");
  t.is(s.metrics.snapshot().total.denied, 1);
  t.is(s.metrics.snapshot().total.errors, 0);
  const refusals = s.lines.filter((l) => l.msg === "admission: request refused by client-certificate authentication");
  // Three refusals, two reasons: the second "no client certificate" from this address within a minute is not logged again.
  t.is(refusals.length, 2, "each refusal reason is logged once per address a minute");
  t.regex(String(refusals[0]?.obj.reason), /no client certificate was presented/);
});

test("an allowed CN list refuses other certificates of the same CA with a 403", async (t) => {
  const s = await setup(t, ["kube-apiserver-webhook-client"]);
  const allowed = await request(s.url, s.serving.ca, await clientCertificate(s.apiserverCa, "kube-apiserver-webhook-client"));
  t.is(allowed.status, 200);
  const other = await request(s.url, s.serving.ca, await clientCertificate(s.apiserverCa, "intruder"));
  t.is(other.status, 403);
  t.is(other.json.error?.message, "the client certificate's subject CN=intruder is not allowed (allowed: kube-apiserver-webhook-client)");
  t.is(s.decisions.length, 1);
});

test("a rotated client CA bundle file is taken without a restart; a bad one is refused and the old bundle kept", async (t) => {
  const s = await setup(t);
  const fromOld = await clientCertificate(s.apiserverCa, "kube-apiserver");
  const fromNew = await clientCertificate(s.otherCa, "kube-apiserver");
  writeFileSync(s.caFile, "-----BEGIN CERTIFICATE-----\ntruncated");
  t.is(await s.server.reloadCertificates(), "refused");
  t.regex(String(s.lines.at(-1)?.obj.problem), /holds no PEM certificate|cannot be parsed/);
  t.is((await request(s.url, s.serving.ca, fromOld)).status, 200, "the old bundle keeps serving");

  writeFileSync(s.caFile, s.otherCa.cert);
  t.is(await s.server.reloadCertificates(), "reloaded");
  t.is((await request(s.url, s.serving.ca, fromNew)).status, 200);
  t.is((await request(s.url, s.serving.ca, fromOld)).status, 401);
  t.true(s.lines.some((l) => l.msg === "admission: client CA bundle reloaded"));
});
