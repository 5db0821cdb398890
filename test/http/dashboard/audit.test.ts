// Covers the dashboard's audit log (src/http/dashboard/audit.ts, audit-pages.ts and their routes): every
// filter (time range, actor, action, namespace, resource, outcome, rule id) leaves exactly the expected
// entries, newest first; paging by the "older" cursor walks the whole match once, without repeats; namespace
// isolation as query_audit_log applies it (entries of a denied namespace absent from pages and downloads,
// asking for it a 403); the CSV and JSON Lines downloads are byte for byte what `kube-policy audit export`
// writes for the same range, and with filters the CLI export's matching rows; downloads are attachments with
// a dated name, recorded in the log with the actor, and need the same authentication as the pages; hostile
// actor, namespace and resource strings are rendered as text; bad filters are HTML errors naming the
// parameter; the workload and fixes pages link to a workload's entries.
// Real components: the koa app on 127.0.0.1, SQLite on temporary files written through the real AuditStore,
// ScanStore and FixStore (fixture.ts), and the CLI (src/cli/main.ts through tsx) for the reference export.
import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import test from "ava";
import { openDatabase } from "../../../src/store/db.js";
import { AuditStore, type AuditEntry } from "../../../src/store/audit-store.js";
import { runCli } from "../../helpers/cli.js";
import { serve, tempDir, writeHistory, type Served } from "./fixture.js";

const dir = tempDir("kube-policy-dashboard-audit-");
const NOW = Date.now();
const servers: Served[] = [];
test.after.always(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

const HOSTILE_ACTOR = 'http:<script>alert("actor")</script>';
const HOSTILE_NS = "<img src=x onerror=alert(2)>";
const HOSTILE_RESOURCE = "Deployment/<b onmouseover=alert(3)>x</b>";

type Named = AuditEntry & { name: string };
const entry = (name: string, time: string, actor: string, action: string, namespace: string | null, resource: string | null, ruleIds: string[], outcome: string): Named => ({
  name,
  time,
  actor,
  action,
  namespace,
  resource,
  ruleIds,
  outcome,
  details: { args: { namespace }, durationMs: 12, note: "<script>alert('details')</script>" },
});

/** The log, in append order. kube-system is the namespace the isolation tests deny. */
const ENTRIES: Named[] = [
  entry("eval-api", "2026-01-10T08:00:00.000Z", "http:ci", "evaluate_deployment_policies", "shop", "Deployment/api", ["privileged-container", "run-as-non-root"], "fail"),
  entry("fix-api", "2026-01-10T09:00:00.000Z", "mcp-stdio:claude", "auto_fix_policy_violations", "shop", "Deployment/api", ["run-as-non-root"], "applied"),
  entry("fix-ledger", "2026-01-10T10:00:00.000Z", "http:ci", "fix_workload", "payments", "StatefulSet/ledger", ["host-network"], "pending-approval"),
  entry("rollback-api", "2026-01-11T08:00:00.000Z", "cli:alice", "rollback_fix", "shop", "Deployment/api", ["run-as-non-root"], "error:conflict"),
  entry("eval-proxy", "2026-01-11T09:30:00.000Z", "http:ci", "evaluate_workload", "kube-system", "DaemonSet/proxy", ["privileged-container"], "fail"),
  entry("report", "2026-01-11T10:00:00.000Z", "http:ci", "generate_compliance_report", null, null, [], "ok"),
  entry("hostile", "2026-01-12T00:00:00.000Z", HOSTILE_ACTOR, "evaluate_workload", HOSTILE_NS, HOSTILE_RESOURCE, ["<i>rule</i>"], "error:invalid_input"),
  entry("denied-query", "2026-01-12T01:00:00.000Z", "cli:alice", "query_audit_log", "kube-system", null, [], "error:forbidden"),
  entry("eval-web", "2026-01-12T02:00:00.000Z", "http:ci", "evaluate_deployment_policies", "shop", "Deployment/web", ["image-tag-latest"], "pass"),
];
/** 23 more, for paging: one an hour on 2026-01-13, three of them in kube-system. */
for (let i = 0; i < 23; i++) {
  ENTRIES.push(entry(`bulk-${i}`, `2026-01-13T${String(i).padStart(2, "0")}:00:00.000Z`, "http:bulk", "evaluate_manifest", i % 8 === 3 ? "kube-system" : "shop", null, [], "ok"));
}

/** Writes the scan history and the log into a new file; returns the file and the id of each named entry. */
let counter = 0;
function history(): { file: string; ids: Map<string, number> } {
  const file = path.join(dir, `store-${counter++}.db`);
  writeHistory(file, NOW);
  const db = openDatabase(file);
  const store = new AuditStore(db);
  const ids = new Map<string, number>();
  for (const { name, ...e } of ENTRIES) ids.set(name, store.append(e));
  db.close();
  return { file, ids };
}

async function served(options: { config?: Record<string, unknown>; tokens?: Map<string, string> } = {}): Promise<Served & { file: string; ids: Map<string, number> }> {
  const { file, ids } = history();
  let config: string | undefined;
  if (options.config) {
    config = path.join(dir, `config-${counter++}.json`);
    writeFileSync(config, JSON.stringify(options.config));
  }
  const s = await serve(file, { tokens: options.tokens, config });
  servers.push(s);
  return { ...s, file, ids };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, { headers, redirect: "manual" });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** The entry ids a page shows, in order. */
const shownIds = (body: string) => [...body.matchAll(/data-entry="(\d+)"/g)].map((m) => Number(m[1]));
const namesOf = (ids: Map<string, number>, shown: number[]) => {
  const byId = new Map([...ids].map(([name, id]) => [id, name]));
  return shown.map((id) => byId.get(id) ?? `#${id}`);
};
const olderLink = (body: string) => /<a data-page="older" href="([^"]+)"/.exec(body)?.[1]?.replace(/&amp;/g, "&") ?? null;
const bulk = (...indexes: number[]) => indexes.map((i) => `bulk-${i}`);

// ---- filters and paging ----

const FILTERS: [string, string[]][] = [
  ["actor=cli:alice", ["denied-query", "rollback-api"]],
  ["actor=http:ci&action=evaluate_deployment_policies", ["eval-web", "eval-api"]],
  ["namespace=payments", ["fix-ledger"]],
  ["namespace=shop&resource=Deployment/api", ["rollback-api", "fix-api", "eval-api"]],
  ["outcome=error", ["denied-query", "hostile", "rollback-api"]],
  ["outcome=error:conflict", ["rollback-api"]],
  ["outcome=fail", ["eval-proxy", "eval-api"]],
  ["rule=run-as-non-root", ["rollback-api", "fix-api", "eval-api"]],
  ["rule=privileged-container&since=2026-01-11", ["eval-proxy"]],
  ["since=2026-01-10T09:00&until=2026-01-10", ["fix-ledger", "fix-api"]],
  ["since=2026-01-11T09:30:00Z&until=2026-01-12T00:00:00%2B00:00&actor=http:ci", ["report", "eval-proxy"]],
  ["until=2026-01-10T08:59:59.999Z", ["eval-api"]],
  ["actor=nobody", []],
];

test("each filter leaves exactly the expected entries, newest first", async (t) => {
  const s = await served();
  for (const [query, expected] of FILTERS) {
    const { status, body } = await get(`${s.url}/audit?${query}`);
    t.is(status, 200, query);
    t.deepEqual(namesOf(s.ids, shownIds(body)), expected, query);
    t.is(olderLink(body), null, `${query}: one page`);
  }
  const all = await get(`${s.url}/audit?limit=500`);
  t.deepEqual(shownIds(all.body), [...s.ids.values()].reverse(), "without a filter (and no isolation configured): everything, newest first");
  t.regex((await get(`${s.url}/audit?actor=http:bulk`)).body, /name="actor" value="http:bulk"/, "the form shows the filter in force");
});

test("paging: the older link walks every match once, newest first, and the last page has none", async (t) => {
  const s = await served();
  let next: string | null = "/audit?actor=http:bulk&limit=5";
  const pages: string[][] = [];
  while (next !== null && pages.length < 10) {
    const { status, body } = await get(`${s.url}${next}`);
    t.is(status, 200, next);
    pages.push(namesOf(s.ids, shownIds(body)));
    next = olderLink(body);
    if (next) t.regex(next, /actor=http%3Abulk/, "the filters stay on the older link");
  }
  t.deepEqual(pages, [bulk(22, 21, 20, 19, 18), bulk(17, 16, 15, 14, 13), bulk(12, 11, 10, 9, 8), bulk(7, 6, 5, 4, 3), bulk(2, 1, 0)]);
  // A page of exactly `limit` entries at the end has no older link either.
  const exact = await get(`${s.url}/audit?actor=cli:alice&limit=2`);
  t.is(shownIds(exact.body).length, 2);
  t.is(olderLink(exact.body), null);
  const before = await get(`${s.url}/audit?before=${s.ids.get("report")}&limit=2`);
  t.deepEqual(namesOf(s.ids, shownIds(before.body)), ["eval-proxy", "rollback-api"], "before=<id>: the entries below it");
  t.regex(before.body, /data-page="newest" href="\/audit\?limit=2"/);
});

test("namespace isolation: entries of denied namespaces are in no page and no download; asking for one is a 403", async (t) => {
  const s = await served({ config: { namespaces: { deny: ["kube-system"] } } });
  const hidden = ["eval-proxy", "denied-query", ...bulk(3, 11, 19)];
  let next: string | null = "/audit?limit=7";
  const seen: string[] = [];
  while (next !== null && seen.length < 100) {
    const { body } = await get(`${s.url}${next}`);
    t.regex(body, /data-note="isolation"/, "the page says entries may be left out");
    seen.push(...namesOf(s.ids, shownIds(body)));
    next = olderLink(body);
  }
  const visible = [...s.ids.keys()].filter((n) => !hidden.includes(n)).reverse();
  t.deepEqual(seen, visible, "every visible entry once, entries without a namespace included");
  t.true(seen.includes("report"));
  t.is((await get(`${s.url}/audit?actor=cli:alice`)).body.match(/data-entry=/g)?.length, 1, "cli:alice's query about kube-system is left out");

  const forbidden = await get(`${s.url}/audit?namespace=kube-system`);
  t.is(forbidden.status, 403);
  t.regex(forbidden.body, /data-error="forbidden">namespace &quot;kube-system&quot; is not allowed by the policy configuration/);
  t.is((await get(`${s.url}/audit/export.csv?namespace=kube-system`)).status, 403);

  for (const format of ["csv", "jsonl"] as const) {
    const download = await get(`${s.url}/audit/export.${format}?until=2026-01-31`);
    t.is(download.status, 200);
    t.false(download.body.includes("kube-system"), `${format}: no entry of the denied namespace`);
    const cli = await runCli(["audit", "export", "--db", s.file, "--format", format, "--until", "2026-01-31"], { from: "src" });
    t.is(cli.code, 0, cli.stderr);
    t.true(cli.stdout.includes("kube-system"), "the CLI export, for auditors on the host, has them");
    // The download is the CLI's export without the denied namespace's lines.
    const cliLines = cli.stdout.split(format === "csv" ? "\r\n" : "\n");
    t.is(download.body, cliLines.filter((l) => !l.includes(",kube-system,") && !l.includes('"namespace":"kube-system"')).join(format === "csv" ? "\r\n" : "\n"));
  }
});

// ---- downloads ----

test("the downloads are byte for byte what kube-policy audit export writes for the same range", async (t) => {
  const s = await served();
  for (const format of ["csv", "jsonl"] as const) {
    for (const [since, until] of [["2026-01-10", "2026-01-12"], ["2026-01-11T09:30:00Z", "2026-01-13T05:00:00.000Z"], [undefined, "2026-01-31T00:00:00Z"]] as const) {
      const query = new URLSearchParams();
      const args = ["audit", "export", "--db", s.file, "--format", format];
      if (since) query.set("since", since), args.push("--since", since);
      query.set("until", until);
      args.push("--until", until);
      const cli = await runCli(args, { from: "src" });
      t.is(cli.code, 0, cli.stderr);
      const download = await fetch(`${s.url}/audit/export.${format}?${query}`);
      t.is(download.status, 200);
      t.is(download.headers.get("content-type"), format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8");
      t.regex(download.headers.get("content-disposition") ?? "", new RegExp(`^attachment; filename="kube-policy-audit-\\d{4}-\\d{2}-\\d{2}T\\d{4}Z\\.${format}"$`));
      const bytes = Buffer.from(await download.arrayBuffer());
      t.true(bytes.equals(Buffer.from(cli.stdout)), `${format} ${since ?? "-"}..${until}`);
      t.true(bytes.length > 200, "not empty");
    }
  }
  const jsonl = await runCli(["audit", "export", "--db", s.file, "--format", "jsonl", "--until", "2026-01-12T23:59:59Z"], { from: "src" });
  t.is(jsonl.stdout.trim().split("\n").length, 9, "the range holds the nine named entries");
});

test("filtered downloads hold exactly the CLI export's rows that match, oldest first", async (t) => {
  const s = await served();
  const cli = await runCli(["audit", "export", "--db", s.file, "--format", "jsonl", "--until", "2026-01-31"], { from: "src" });
  const all = cli.stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: number; actor: string; namespace: string | null; outcome: string; rule_ids: string[] });
  const cases: [string, (r: (typeof all)[number]) => boolean][] = [
    ["actor=http:ci", (r) => r.actor === "http:ci"],
    ["outcome=error", (r) => r.outcome.startsWith("error:")],
    ["rule=run-as-non-root&namespace=shop", (r) => r.rule_ids.includes("run-as-non-root") && r.namespace === "shop"],
  ];
  for (const [query, keep] of cases) {
    const download = await get(`${s.url}/audit/export.jsonl?${query}&until=2026-01-31`);
    const rows = download.body.trim().split("\n").map((l) => JSON.parse(l) as unknown);
    t.deepEqual(rows, all.filter(keep), query);
    t.true(rows.length > 0, query);
  }
  const csv = await get(`${s.url}/audit/export.csv?actor=nobody`);
  t.is(csv.body, "id,time,actor,action,namespace,resource,rule_ids,outcome,details\r\n", "no match: the header alone");
});

test("downloads need the same authentication as the pages, and are recorded in the log with the actor", async (t) => {
  const token = "audit-download-token-0123456789";
  const s = await served({ tokens: new Map([["alice", token]]) });
  for (const page of ["/audit", "/audit/export.csv", "/audit/export.jsonl", "/notifications"]) {
    const anonymous = await get(`${s.url}${page}`);
    t.is(anonymous.status, 401, page);
    t.regex(anonymous.body, /<form method="post" action="\/login">/, `${page}: the sign-in page`);
    t.false(anonymous.body.includes("http:ci"), `${page}: no data`);
    t.is((await get(`${s.url}${page}`, { authorization: "Bearer wrong-token-000000000000000" })).status, 401, page);
  }
  const bearer = await get(`${s.url}/audit/export.csv?until=2026-01-31`, { authorization: `Bearer ${token}` });
  t.is(bearer.status, 200);
  t.regex(bearer.body, /^id,time,actor/);
  // The browser's way: ?token= once, then the cookie.
  const signIn = await get(`${s.url}/audit/export.jsonl?actor=cli:alice&token=${token}`);
  t.is(signIn.status, 303);
  t.is(signIn.headers.get("location"), "/audit/export.jsonl?actor=cli%3Aalice");
  const cookie = signIn.headers.getSetCookie()[0]!.split(";")[0]!;
  const withCookie = await get(`${s.url}/audit/export.jsonl?actor=cli:alice`, { cookie });
  t.is(withCookie.status, 200);
  t.is(withCookie.body.trim().split("\n").length, 2);
  const page = await get(`${s.url}/audit?action=audit_export`, { cookie });
  t.is(shownIds(page.body).length, 2, "both downloads are in the log");
  t.regex(page.body, /<a href="\/audit\?actor=http%3Aalice">http:alice<\/a>/, "recorded as the token's name");
  t.regex(page.body, /&quot;output&quot;: &quot;dashboard download&quot;/);
  t.regex(page.body, /&quot;filters&quot;: \{\s*&quot;actor&quot;: &quot;cli:alice&quot;/);
  t.false(page.body.includes(token), "never the token");
  t.is((await get(`${s.url}/tools/query_audit_log`, { cookie })).status, 401, "the cookie still opens no tool");
});

// ---- escaping, errors, links ----

test("a hostile actor, namespace, resource, rule id and details are rendered as text", async (t) => {
  const s = await served();
  for (const page of ["/audit", `/audit?actor=${encodeURIComponent(HOSTILE_ACTOR)}`]) {
    const { status, body } = await get(`${s.url}${page}`);
    t.is(status, 200, page);
    t.deepEqual(namesOf(s.ids, shownIds(body)).includes("hostile"), true, page);
    for (const raw of [HOSTILE_ACTOR, HOSTILE_NS, "<b onmouseover", "<i>rule</i>", "<script>alert('details')"]) t.false(body.includes(raw), `${page}: raw ${raw}`);
    t.true(body.includes("http:&lt;script&gt;alert(&quot;actor&quot;)&lt;/script&gt;"), `${page}: the actor as text`);
    t.true(body.includes("&lt;img src=x onerror=alert(2)&gt;"), `${page}: the namespace as text`);
    t.is(body.match(/<script/g)?.length, 1, `${page}: only the page's own script element`);
    t.is(body.match(/<img/g), null);
  }
  const filled = (await get(`${s.url}/audit?actor=${encodeURIComponent(HOSTILE_ACTOR)}`)).body;
  t.true(filled.includes('name="actor" value="http:&lt;script&gt;alert(&quot;actor&quot;)&lt;/script&gt;"'), "the form's value, escaped");
});

test("bad filters are HTML error pages naming the parameter, for the page and the downloads", async (t) => {
  const s = await served();
  const cases: [string, number, RegExp][] = [
    ["since=yesterday", 400, /<code>query\.since<\/code>: &quot;yesterday&quot; is not an ISO 8601 date/],
    ["since=2026-02-01&until=2026-01-01", 400, /<code>query\.until<\/code>: 2026-01-01 is before since/],
    ["limit=0", 400, /<code>query\.limit<\/code>: &quot;0&quot; is not a whole number from 1 to 500/],
    ["limit=abc", 400, /<code>query\.limit<\/code>/],
    ["before=-3", 400, /<code>query\.before<\/code>: &quot;-3&quot; is not an audit entry id/],
    ["namespace=Not_A_Namespace", 400, /<code>query\.namespace<\/code>/],
    ["actor=a&actor=b", 400, /query parameter actor is given 2 times/],
    [`rule=${"x".repeat(201)}`, 400, /<code>query\.rule<\/code>: longer than 200 characters/],
    ["until=bad&limit=9999", 400, /<code>query\.until<\/code>[\s\S]*<code>query\.limit<\/code>/],
  ];
  for (const path of ["/audit", "/audit/export.csv", "/audit/export.jsonl"]) {
    for (const [query, status, message] of cases) {
      const res = await get(`${s.url}${path}?${query}`);
      t.is(res.status, status, `${path}?${query}`);
      t.is(res.headers.get("content-type"), "text/html; charset=utf-8", `${path}?${query}`);
      t.is(res.headers.get("content-disposition"), null, "an error is no download");
      t.regex(res.body, message, `${path}?${query}`);
    }
  }
  t.is((await get(`${s.url}/audit`)).status, 200, "the server is still up");
});

test("the workload and fixes pages link to the workload's audit entries", async (t) => {
  const s = await served();
  const link = "/audit?namespace=shop&amp;resource=Deployment%2Fapi";
  const workload = await get(`${s.url}/workloads/shop/Deployment/api`);
  t.true(workload.body.includes(`<a data-link="audit" href="${link}">`));
  const fixes = await get(`${s.url}/fixes`);
  t.true(fixes.body.includes(`<a class="muted" data-link="audit" href="${link}">audit</a>`), "each change's workload");
  t.true(fixes.body.includes('href="/audit?namespace=payments&amp;resource=StatefulSet%2Fledger"'), "each proposed fix's workload");
  const audit = await get(`${s.url}${link.replace(/&amp;/g, "&")}`);
  t.deepEqual(namesOf(s.ids, shownIds(audit.body)), ["rollback-api", "fix-api", "eval-api"]);
  for (const page of ["/", "/audit", "/notifications"]) {
    const { body } = await get(`${s.url}${page}`);
    t.regex(body, /<nav>.*<a href="\/audit"[^>]*>Audit log<\/a><a href="\/notifications"[^>]*>Notifications<\/a><\/nav>/, `${page}: the nav`);
  }
  t.regex((await get(`${s.url}/audit`)).body, /<a href="\/audit" class="active" aria-current="page">Audit log<\/a>/);
});

test("with no history database the page says so and creates none; a download is an empty export", async (t) => {
  const file = path.join(dir, "never-created.db");
  const s = await serve(file);
  servers.push(s);
  const page = await get(`${s.url}/audit`);
  t.is(page.status, 200);
  t.regex(page.body, /data-empty="true"/);
  const csv = await get(`${s.url}/audit/export.csv`);
  t.is(csv.body, "id,time,actor,action,namespace,resource,rule_ids,outcome,details\r\n");
  t.is((await get(`${s.url}/audit/export.jsonl`)).body, "");
  t.false(existsSync(file), "no database was created");
});
