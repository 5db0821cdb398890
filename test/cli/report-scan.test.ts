// Covers `kube-policy report` and `kube-policy scan` end to end, run as subprocesses: report formats
// to stdout and to --output files (SARIF and JUnit parse), the trend of stored scans in a report,
// scan progress on stderr, exit codes (0 stored, 3 stored as failed, 2 refused), clear errors for bad
// options. Real components: the compiled CLI (bin/kube-policy.js runs dist/, which `npm test` builds
// before ava), the committed policy bundle, the eval fixture manifests as the cluster, SQLite files in
// a temporary directory; for an unreachable cluster, a kubeconfig whose server is a closed local port.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { openDatabase } from "../../src/store/db.js";
import { runCli, type CliRun as Run } from "../helpers/cli.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MANIFESTS = "test/fixtures/eval/manifests";
const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-cli-report-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]): Promise<Run> =>
  runCli(args, { env: { LOG_LEVEL: "silent" } });

test.before(() => {
  if (!existsSync(path.join(ROOT, "dist/cli/report.js"))) throw new Error("dist/ is missing the report command: run `npm run build` first");
});

test("scan stores the manifests' scan with progress on stderr; a second scan and report show the trend", async (t) => {
  const db = path.join(dir, "history.db");
  const first = await cli(["scan", "-f", MANIFESTS, "--db", db, "--name", "fixtures"]);
  t.is(first.code, 0, first.stderr);
  const summary = /^scan 1 "fixtures" of the whole cluster on manifests: succeeded in \d+\.\d s\ncompliance: \d+%; workloads: (\d+) evaluated/.exec(first.stdout);
  t.truthy(summary, first.stdout);
  const workloads = Number(summary![1]);
  t.true(workloads > 10);
  t.true(first.stderr.includes(`scan: ${workloads}/${workloads} workloads (100%)`), "progress lines on a non-terminal stderr");
  const second = await cli(["scan", "-f", MANIFESTS, "--db", db, "--name", "fixtures", "--format", "json"]);
  t.is(second.code, 0, second.stderr);
  const scan = JSON.parse(second.stdout) as { id: number; status: string; findings: { new: number; resolved: number } };
  t.deepEqual([scan.id, scan.status, scan.findings.new, scan.findings.resolved], [2, "succeeded", 0, 0]);

  const report = await cli(["report", "-f", MANIFESTS, "--db", db]);
  t.is(report.code, 0, report.stderr);
  t.regex(report.stdout, /Trend Analysis \(last 30 days, 2 scan\(s\)\):/);
});

test("report writes SARIF and JUnit files that parse", async (t) => {
  const sarifFile = path.join(dir, "out", "report.sarif");
  const sarif = await cli(["report", "-f", MANIFESTS, "--format", "sarif", "--output", sarifFile, "--db", path.join(dir, "none.db")]);
  t.is(sarif.code, 0, sarif.stderr);
  t.is(sarif.stdout, "");
  t.regex(sarif.stderr, /wrote the sarif report to .*report\.sarif/);
  const log = JSON.parse(readFileSync(sarifFile, "utf8")) as { version: string; runs: { results: unknown[] }[] };
  t.is(log.version, "2.1.0");
  t.true(log.runs[0]!.results.length > 0);

  const junit = await cli(["report", "-f", MANIFESTS, "--format", "junit", "--junit-by", "rule"]);
  t.is(junit.code, 0, junit.stderr);
  t.is(XMLValidator.validate(junit.stdout), true);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(junit.stdout) as { testsuites: { failures: string } };
  t.true(Number(doc.testsuites.failures) > 0);
});

test("a scan of an unreachable cluster exits 3 and is stored as failed", async (t) => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const kubeconfig = path.join(dir, "gone.kubeconfig");
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: gone, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: gone, context: {cluster: gone, user: u}}]\ncurrent-context: gone\n`,
  );
  const db = path.join(dir, "gone.db");
  const run = await cli(["scan", "--kubeconfig", kubeconfig, "--db", db]);
  t.is(run.code, 3, run.stderr);
  t.regex(run.stderr, /^kube-policy: scan 1 \(adhoc:cluster\) failed and is stored as failed: cluster unreachable at https:\/\/127\.0\.0\.1:\d+/);
  const stored = openDatabase(db);
  t.deepEqual(stored.prepare("SELECT status, error_code FROM scans").all(), [{ status: "failed", error_code: "cluster_unavailable" }]);
  stored.close();
});

test("bad options are refused with exit 2 and say what was wrong", async (t) => {
  const format = await cli(["report", "-f", MANIFESTS, "--format", "pdf"]);
  t.is(format.code, 2);
  t.regex(format.stderr, /argument 'pdf' is invalid\. Allowed choices are text, json, sarif, junit, html/);
  const ns = await cli(["scan", "-f", MANIFESTS, "--db", path.join(dir, "bad.db"), "--namespace", "Not_Valid"]);
  t.is(ns.code, 2);
  t.regex(ns.stderr, /namespaces\[0\]: "Not_Valid" is not a namespace name/);
});
