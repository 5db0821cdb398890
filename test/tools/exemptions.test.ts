// Covers exception management: the list_exemptions tool (registered, read-only, output matching its
// schema), the exemptions of a set of workloads with active, expiring, expired and invalid annotations plus
// configuration exemptions (exact list, statuses, problems), the suppressed-findings counts against what
// evaluate_workload reports as exempt, the filters, namespace isolation, the compliance report's Exemptions
// section (text, JSON, HTML) equal to the tool's numbers, and `kube-policy exemptions` (text, JSON, exit 2
// on a bad option). Real components: the committed wasm bundle, manifests and a configuration file on a
// temporary directory served by the MemorySource, the CLI through tsx.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { z } from "zod";
import type { PolicyConfig } from "../../src/config/types.js";
import { ForbiddenError, InvalidInputError } from "../../src/errors.js";
import { MemorySource } from "../../src/kube/memory-source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { renderReport } from "../../src/report/formats/index.js";
import { Runtime } from "../../src/runtime.js";
import { ALL_TOOLS, toolsFor } from "../../src/tools/index.js";
import { complianceReportData } from "../../src/tools/report.js";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-exemptions-"));

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const A = "run-as-non-root";
const B = "cpu-limits";
const C = "image-tag-latest";

function deployment(namespace: string, name: string, annotations?: Record<string, string>): string {
  return `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${namespace}
${annotations ? `  annotations:\n${Object.entries(annotations).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`).join("\n")}\n` : ""}spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: app
        image: nginx:latest
`;
}
const exempt = (rules: string, reason?: string, until?: string) => ({
  "kube-policy.io/exempt": rules,
  ...(reason ? { "kube-policy.io/exempt-reason": reason } : {}),
  ...(until ? { "kube-policy.io/exempt-until": until } : {}),
});

const manifests = path.join(dir, "manifests.yaml");
writeFileSync(
  manifests,
  [
    deployment("shop", "active", exempt(`${A},${C}`, "vendor image runs as root", day(100))),
    deployment("shop", "forever", exempt(A, "legacy, tracked in JIRA-1")),
    deployment("shop", "soon", exempt(A, "migration in progress", day(5))),
    deployment("shop", "old", exempt(A, "was a hotfix", day(-3))),
    deployment("shop", "baddate", exempt(A, "someday", "next-week")),
    deployment("shop", "noreason", exempt(A)),
    deployment("shop", "typo", exempt(`${A},run-as-nonroot`, "typo in one id", day(60))),
    deployment("shop", "plain"),
    deployment("batch", "job-runner"),
    deployment("secret", "hidden", exempt(A, "not for your eyes")),
  ].join(""),
);

const config: PolicyConfig = {
  namespaces: { deny: ["secret"] },
  exemptions: [
    { rules: [B], namespace: "shop", name: "plain", reason: "cpu limits come from the namespace LimitRange", expires: day(30) },
    { rules: [B], namespace: "secret", reason: "hidden namespace" },
    { rules: ["*"], name: "old", reason: "old quarter freeze", expires: day(-1) },
    { rules: [C], namespace: "b*", reason: "batch images are pinned by the pipeline", expires: day(2) },
  ],
};
const configFile = path.join(dir, "config.json");
writeFileSync(configFile, JSON.stringify(config));

const bundle = await PolicyBundle.load();
const source = await MemorySource.fromFiles([manifests]);
// Awaited before the first test() call: ava wants every declaration in the same turn.
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const runtimeWith = (c: PolicyConfig = config) => new Runtime(c, bundle, source, { databasePath: path.join(dir, `db-${counter++}.db`) });

const tool = ALL_TOOLS.find((t) => t.name === "list_exemptions")!;
const evaluateWorkload = ALL_TOOLS.find((t) => t.name === "evaluate_workload")!;

interface Entry {
  id: string;
  status: string;
  rules: string[];
  reason: string | null;
  expires: string | null;
  daysLeft: number | null;
  problems: string[];
  suppressedFindings: number;
  openFindings: number;
  workloads: { kind: string; namespace: string; name: string }[];
  workloadCount: number;
  note: string;
  where: string;
}
interface List {
  counts: Record<string, number>;
  suppressedFindings: number;
  exemptions: Entry[];
}

async function list(args: Record<string, unknown> = {}, rt = runtimeWith()): Promise<List> {
  const result = await tool.run(args, { runtime: rt, actor: "test" });
  z.object(tool.outputSchema).strict().parse(result.structured);
  return result.structured as unknown as List;
}

test("list_exemptions is registered and offered in read-only mode", (t) => {
  t.truthy(ALL_TOOLS.find((x) => x.name === "list_exemptions"));
  t.false(tool.writes);
  t.true(toolsFor({ readOnly: true }).some((x) => x.name === "list_exemptions"));
  t.is(tool.annotations.readOnlyHint, true);
});

test("every exemption of the configuration and the annotations, with status, problems and counts", async (t) => {
  const result = await list();
  const summary = result.exemptions.map((e) => [e.id, e.status, e.suppressedFindings, e.openFindings, e.daysLeft]);
  t.deepEqual(summary, [
    ["config:/exemptions/0", "active", 1, 0, 30],
    // /exemptions/1 names the hidden namespace: not listed.
    ["config:/exemptions/2", "expired", 0, 25, -1], // every open finding of shop/old: the test below counts them
    ["config:/exemptions/3", "expiring", 1, 0, 2],
    ["annotation:Deployment/shop/active", "active", 2, 0, 100],
    ["annotation:Deployment/shop/forever", "active", 1, 0, null],
    ["annotation:Deployment/shop/soon", "expiring", 1, 0, 5],
    ["annotation:Deployment/shop/old", "expired", 0, 1, -3],
    ["annotation:Deployment/shop/baddate", "invalid", 0, 1, null],
    ["annotation:Deployment/shop/noreason", "invalid", 0, 1, null],
    ["annotation:Deployment/shop/typo", "invalid", 1, 0, 60],
  ]);
  t.deepEqual(result.counts, { total: 10, active: 3, expiring: 2, expired: 2, invalid: 3 });
  t.is(result.suppressedFindings, 7);

  const byId = new Map(result.exemptions.map((e) => [e.id, e]));
  const plain = byId.get("config:/exemptions/0")!;
  t.like(plain, { where: "/exemptions/0", rules: [B], reason: "cpu limits come from the namespace LimitRange", expires: day(30), workloadCount: 1 });
  t.deepEqual(plain.workloads, [{ kind: "Deployment", namespace: "shop", name: "plain" }]);
  t.deepEqual(byId.get("config:/exemptions/3")!.workloads, [{ kind: "Deployment", namespace: "batch", name: "job-runner" }]);
  t.regex(byId.get("annotation:Deployment/shop/old")!.note, /expired on .* its findings are no longer exempt \(1 open finding/);
  t.regex(byId.get("config:/exemptions/2")!.note, /no longer exempt/);
  t.deepEqual(byId.get("annotation:Deployment/shop/baddate")!.problems, [
    'annotation kube-policy.io/exempt-until "next-week" is not a date (YYYY-MM-DD): the exemption is treated as expired, its findings are not exempt',
  ]);
  t.deepEqual(byId.get("annotation:Deployment/shop/noreason")!.problems, [
    "annotation kube-policy.io/exempt-reason is missing: a reason is required, so the exemption is ignored and its findings are not exempt",
  ]);
  t.deepEqual(byId.get("annotation:Deployment/shop/typo")!.problems, [
    'annotation kube-policy.io/exempt: unknown rule id(s) "run-as-nonroot" (no finding of such a rule exists to exempt)',
  ]);
  t.regex(byId.get("annotation:Deployment/shop/active")!.where, /^Deployment shop\/active annotation kube-policy\.io\/exempt \(.*manifests\.yaml:\d+\)$/);
});

test("the suppressed counts are what evaluate_workload reports as exempt", async (t) => {
  const rt = runtimeWith();
  const result = await list({}, rt);
  const names = ["active", "forever", "soon", "old", "baddate", "noreason", "typo", "plain"];
  let exemptTotal = 0;
  for (const name of names) {
    const evaluated = await evaluateWorkload.run({ namespace: "shop", kind: "Deployment", name }, { runtime: rt, actor: "test" });
    const exemptFindings = JSON.stringify(evaluated.structured).match(/"outcome":"exempt"/g)?.length ?? 0;
    if (name === "old") {
      const open = JSON.stringify(evaluated.structured).match(/"outcome":"(violation|warning)"/g)?.length ?? 0;
      t.is(result.exemptions.find((e) => e.id === "config:/exemptions/2")!.openFindings, open, "the expired * exemption no longer suppresses any of them");
    }
    exemptTotal += exemptFindings;
    const annotation = result.exemptions.find((e) => e.id === `annotation:Deployment/shop/${name}`);
    const configured = name === "plain" ? result.exemptions.find((e) => e.id === "config:/exemptions/0")! : undefined;
    t.is((annotation?.suppressedFindings ?? 0) + (configured?.suppressedFindings ?? 0), exemptFindings, name);
  }
  const batch = await evaluateWorkload.run({ namespace: "batch", kind: "Deployment", name: "job-runner" }, { runtime: rt, actor: "test" });
  exemptTotal += JSON.stringify(batch.structured).match(/"outcome":"exempt"/g)?.length ?? 0;
  t.is(result.suppressedFindings, exemptTotal);
  t.is(exemptTotal, 7);
});

test("filters: status, ruleId, namespace, expiringWithinDays", async (t) => {
  const ids = (l: List) => l.exemptions.map((e) => e.id);
  t.deepEqual(ids(await list({ status: "expiring" })), ["config:/exemptions/3", "annotation:Deployment/shop/soon"]);
  t.deepEqual(ids(await list({ status: "expired" })), ["config:/exemptions/2", "annotation:Deployment/shop/old"]);
  t.deepEqual(ids(await list({ ruleId: B })), ["config:/exemptions/0", "config:/exemptions/2"]);
  t.deepEqual(ids(await list({ namespace: "batch" })), ["config:/exemptions/2", "config:/exemptions/3"]);
  const threeDays = await list({ expiringWithinDays: 3 });
  t.is(threeDays.exemptions.find((e) => e.id === "annotation:Deployment/shop/soon")!.status, "active");
  t.is(threeDays.exemptions.find((e) => e.id === "config:/exemptions/3")!.status, "expiring");
  t.deepEqual(threeDays.counts, { total: 10, active: 4, expiring: 1, expired: 2, invalid: 3 });
  const filtered = await list({ status: "invalid", namespace: "shop" });
  t.deepEqual(filtered.counts, { total: 3, active: 0, expiring: 0, expired: 0, invalid: 3 });
});

test("namespace isolation: denied namespaces are neither listed nor asked for", async (t) => {
  const all = await list();
  t.false(JSON.stringify(all).includes("secret"));
  t.false(JSON.stringify(all).includes("hidden"));
  const error = await t.throwsAsync(list({ namespace: "secret" }));
  t.true(error instanceof ForbiddenError);
  // Without the deny list, the same source shows them.
  const open = await list({}, runtimeWith({ ...config, namespaces: {} }));
  t.truthy(open.exemptions.find((e) => e.id === "annotation:Deployment/secret/hidden"));
  t.truthy(open.exemptions.find((e) => e.id === "config:/exemptions/1"));
});

test("bad filters are refused, naming the field", async (t) => {
  const details = async (args: Record<string, unknown>) => {
    const error = await t.throwsAsync(list(args));
    t.true(error instanceof InvalidInputError, String(error));
    return (error as InvalidInputError).details;
  };
  t.deepEqual(await details({ status: "lapsed" }), [{ where: "status", message: '"lapsed" is not an exemption status: one of active, expiring, expired, invalid' }]);
  t.deepEqual((await details({ ruleId: "no-such-rule" })).map((d) => d.where), ["ruleId"]);
  t.deepEqual((await details({ expiringWithinDays: -1 })).map((d) => d.where), ["expiringWithinDays"]);
  t.deepEqual((await details({ expiringWithinDays: 1.5 })).map((d) => d.where), ["expiringWithinDays"]);
  t.deepEqual((await details({ namespace: "Not_A_Namespace" })).map((d) => d.where), ["namespace"]);
  t.deepEqual((await details({ expiringWithinDays: "7" })).map((d) => d.where), ["expiringWithinDays"]);
});

test("the compliance report's Exemptions section has the tool's numbers in every format", async (t) => {
  const rt = runtimeWith();
  const data = await complianceReportData(rt, {});
  const tool14 = await list({}, rt);
  const section = data.report.exemptions!;
  t.deepEqual(section.counts, tool14.counts);
  t.is(section.suppressedFindings, tool14.suppressedFindings);
  t.deepEqual(
    section.expiring.map((e) => [e.id, e.daysLeft]),
    [["config:/exemptions/3", 2], ["annotation:Deployment/shop/soon", 5]],
  );
  const text = renderReport("text", data).body;
  t.true(text.includes(["Exemptions:", "- Active: 3", "- Expiring within 14 days: 2", "- Expired but still annotated or configured: 2", "- Invalid: 3", "- Findings suppressed now: 7"].join("\n")), text);
  t.true(text.includes(`- ⏳ Deployment shop/soon annotation kube-policy.io/exempt`));
  const json = JSON.parse(renderReport("json", data).body) as { exemptions: unknown };
  t.deepEqual(json.exemptions, section);
  const html = renderReport("html", data).body;
  t.regex(html, /data-metric="exemptions-active">3</);
  t.regex(html, /data-metric="exemptions-invalid">3</);
  // A namespace report counts that namespace's exemptions, as the tool filtered by namespace does.
  const shop = await complianceReportData(rt, { namespace: "batch" });
  t.deepEqual(shop.report.exemptions!.counts, (await list({ namespace: "batch" }, rt)).counts);
});

test("kube-policy exemptions prints text and JSON; a bad option exits 2 naming it", async (t) => {
  const env = { LOG_LEVEL: "silent" };
  const text = await runCli(["exemptions", "-f", manifests, "--config", configFile, "--status", "expiring"], { from: "src", env });
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, /^Exemptions: 2 \(0 active, 2 expiring within 14 day\(s\), 0 expired, 0 invalid\); 2 finding\(s\) suppressed now\n/);
  t.true(text.stdout.includes("[expiring] /exemptions/3 covers b*/*: 1 workload(s)"), text.stdout);
  t.true(text.stdout.includes("[expiring] Deployment shop/soon annotation kube-policy.io/exempt"), text.stdout);

  const json = await runCli(["exemptions", "-f", manifests, "--config", configFile, "--format", "json", "--expiring-within", "3", "-n", "shop"], { from: "src", env });
  t.is(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as List & { expiringWithinDays: number };
  t.is(parsed.expiringWithinDays, 3);
  t.deepEqual(parsed.counts, { total: 9, active: 4, expiring: 0, expired: 2, invalid: 3 });

  const bad = await runCli(["exemptions", "-f", manifests, "--config", configFile, "--status", "gone"], { from: "src", env });
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--status: "gone" is not an exemption status/);
  const badDays = await runCli(["exemptions", "-f", manifests, "--expiring-within", "soon"], { from: "src", env });
  t.is(badDays.code, 2);
  t.regex(badDays.stderr, /--expiring-within: "soon" is not a whole number of days/);
});
