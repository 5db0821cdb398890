// Covers `kube-policy serve --admission PORT` as a subprocess: with no certificate options it makes a
// development CA in the data directory and says where on stderr, serves POST /admission/validate over
// HTTPS on 127.0.0.1 (a review of the demo's privileged Deployment is refused, the uid echoed), keeps
// running without MCP over stdio (stdin is closed), and stops cleanly on SIGTERM; the certificate
// options are checked (one without the other, a bad port) with exit code 2.
// Real components: the CLI from src/ run by tsx (main() as bin/kube-policy.js calls it), the bundled
// demo manifests as the source, the committed policy.wasm, files in a temporary data directory.
import test from "ava";
import { spawn, type ChildProcess } from "node:child_process";
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
