// Covers `kube-policy serve --admission PORT` as a subprocess: with no certificate options it makes a
// development CA in the data directory and says where on stderr, serves POST /admission/validate over
// HTTPS on 127.0.0.1 (a review of the demo's privileged Deployment is refused, the uid echoed), keeps
// running without MCP over stdio (stdin is closed), and stops cleanly on SIGTERM; the certificate
// options are checked (one without the other, a bad port) with exit code 2.
// Real components: the CLI from src/ run by tsx (main() as bin/kube-policy.js calls it), the bundled
// demo manifests as the source, the committed policy.wasm, files in a temporary data directory.
import test from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import https from "node:https";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { AdmissionResponseReview } from "../../src/http/admission.js";
import { admissionReview, httpsRequest, violatingDeployment } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const data = mkdtempSync(path.join(tmpdir(), "kube-policy-serve-"));
test.after.always(() => rmSync(data, { recursive: true, force: true }));

function cli(args: string[]): ChildProcess & { output: () => string; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "-e", 'const { main } = await import("./src/cli/main.ts"); process.exitCode = await main(process.argv.slice(1));', ...args],
    { cwd: ROOT, env: { ...process.env, XDG_DATA_HOME: data, KUBECONFIG: "", HOME: data }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (output += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return Object.assign(child, { output: () => output, exited });
}

test("serve --admission 0: development CA, HTTPS on 127.0.0.1, a review answered, SIGTERM stops it", async (t) => {
  const child = cli(["serve", "--demo", "--admission", "0"]);
  try {
    const deadline = Date.now() + 60_000;
    let match: RegExpExecArray | null = null;
    while (!(match = /admission webhook on (https:\/\/127\.0\.0\.1:\d+)\/admission\/validate with development CA (\S+) \(new;/.exec(child.output()))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        t.fail(`no admission URL on stderr:\n${child.output()}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const [, url, caFile] = match;
    t.is(path.dirname(caFile!), path.join(data, "kube-policy-mcp", "admission-tls"));
    const ca = readFileSync(caFile!, "utf8");
    const res = await httpsRequest(`${url}/admission/validate`, { method: "POST", body: admissionReview(violatingDeployment("production"), { uid: "cli-uid" }), ca });
    t.is(res.status, 200, res.body);
    const review = res.json as AdmissionResponseReview;
    t.is(review.response.uid, "cli-uid");
    t.false(review.response.allowed);
    t.regex(review.response.status?.message ?? "", /\[privileged-container\]/);
    t.is(child.exitCode, null, "still running with stdin closed");
    child.kill("SIGTERM");
    t.is(await child.exited, 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

test("serve --admission: a certificate without its key, or a bad port, is refused with exit code 2", async (t) => {
  const half = cli(["serve", "--demo", "--admission", "0", "--admission-cert", "/tmp/x.crt"]);
  t.is(await half.exited, 2);
  t.regex(half.output(), /--admission-cert and --admission-key go together/);
  const port = cli(["serve", "--demo", "--admission", "https"]);
  t.is(await port.exited, 2);
  t.regex(port.output(), /--admission needs a port number \(got "https"\)/);
});

test("serve --admission with certificate files and --admission-client-ca: the API server's certificate is required, files are re-read", async (t) => {
  const { generateDevCertificates } = await import("../../src/http/certificates.js");
  const { clientCertificate, testCa } = await import("./helpers.js");
  const { writeFileSync } = await import("node:fs");
  const serving = await generateDevCertificates();
  const clientCa = await testCa("apiserver client CA");
  const files = { cert: path.join(data, "tls.crt"), key: path.join(data, "tls.key"), ca: path.join(data, "client-ca.crt") };
  writeFileSync(files.cert, serving.cert);
  writeFileSync(files.key, serving.key);
  writeFileSync(files.ca, clientCa.cert);
  const child = cli([
    "serve", "--demo", "--admission", "0",
    "--admission-cert", files.cert, "--admission-key", files.key, "--admission-reload-interval", "5",
    "--admission-client-ca", files.ca, "--admission-client-cn", "kube-apiserver,  other ",
  ]);
  try {
    const deadline = Date.now() + 60_000;
    let match: RegExpExecArray | null = null;
    while (!(match = /admission webhook on (https:\/\/127\.0\.0\.1:\d+)\/admission\/validate with certificate (\S+) \(re-read every 5 s\); client certificates required \(CA (\S+), CN kube-apiserver, other\)/.exec(child.output()))) {
      if (child.exitCode !== null || Date.now() > deadline) return t.fail(`no admission URL on stderr:\n${child.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    t.is(match[2], files.cert);
    t.is(match[3], files.ca);
    const url = `${match[1]}/admission/validate`;
    const body = JSON.stringify(admissionReview(violatingDeployment("production"), { uid: "mtls-uid" }));
    const post = (client?: { cert: string; key: string }) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = https.request(url, { method: "POST", ca: serving.ca, agent: false, ...(client ?? {}), headers: { "Content-Type": "application/json" } }, (res) => {
          let text = "";
          res.setEncoding("utf8").on("data", (c: string) => (text += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on("error", reject);
        req.end(body);
      });
    const refused = await post();
    t.is(refused.status, 401, refused.body);
    t.regex(refused.body, /no client certificate was presented/);
    const wrongName = await post(await clientCertificate(clientCa, "someone"));
    t.is(wrongName.status, 403, wrongName.body);
    const served = await post(await clientCertificate(clientCa, "kube-apiserver"));
    t.is(served.status, 200, served.body);
    t.regex(served.body, /"uid":"mtls-uid"/);
    child.kill("SIGTERM");
    t.is(await child.exited, 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

test("serve --admission: bad reload interval, a CN list without a CA, an unreadable CA bundle are refused with exit code 2", async (t) => {
  const interval = cli(["serve", "--demo", "--admission", "0", "--admission-reload-interval", "often"]);
  t.is(await interval.exited, 2);
  t.regex(interval.output(), /--admission-reload-interval needs a number of seconds from 1 to 86400, or 0 .* \(got "often"\)/);
  const cnOnly = cli(["serve", "--demo", "--admission", "0", "--admission-client-cn", "kube-apiserver"]);
  t.is(await cnOnly.exited, 2);
  t.regex(cnOnly.output(), /--admission-client-cn needs --admission-client-ca/);
  const missing = path.join(data, "no-such-ca.crt");
  const noCa = cli(["serve", "--demo", "--admission", "0", "--admission-client-ca", missing]);
  t.is(await noCa.exited, 2);
  t.true(noCa.output().includes(`cannot read the admission client CA bundle ${missing}: ENOENT`), noCa.output());
});
