// Covers the audit log page in a real browser: headless Chromium (Debian's /usr/bin/chromium, as
// browser.test.ts uses it) driven by playwright-core, against a server with a token. It signs in through
// the form, opens /audit from the navigation, filters by actor and outcome through the GET form, opens an
// entry's details (<details>, no script), follows the "older" link, downloads the CSV of the filtered view
// (an attachment the browser saves, equal to the rows the page shows) and checks that no hostile string
// ran a script and nothing was requested from another origin. A screenshot goes to test-results/.
// Real components: Chromium, the koa app on 127.0.0.1, SQLite written through AuditStore and ScanStore.
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import test from "ava";
import type { BrowserContext } from "playwright-core";
import { openDatabase } from "../../../src/store/db.js";
import { AuditStore } from "../../../src/store/audit-store.js";
import { launchBrowser, RESULTS, watchedPage } from "./browser-helpers.js";
import { serve, tempDir, writeHistory, type Served } from "./fixture.js";

const TOKEN = "browser-audit-token-0123456789";
const HOSTILE_ACTOR = "http:<img src=x onerror=alert(1)>";
const dir = tempDir("kube-policy-dashboard-audit-browser-");
let s: Served;
let context: BrowserContext;

test.before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  const file = path.join(dir, "store.db");
  writeHistory(file, Date.now());
  const db = openDatabase(file);
  const audit = new AuditStore(db);
  for (let i = 0; i < 30; i++) {
    const failed = i % 3 === 0;
    audit.append({
      time: new Date(Date.UTC(2026, 0, 10, 0, i)).toISOString(),
      actor: i % 2 === 0 ? "http:ci" : i === 7 ? HOSTILE_ACTOR : "mcp-stdio:claude",
      action: failed ? "rollback_fix" : "evaluate_workload",
      namespace: "shop",
      resource: "Deployment/api",
      ruleIds: ["run-as-non-root"],
      outcome: failed ? "error:conflict" : "fail",
      details: failed ? { error: { code: "conflict", message: `the object changed since the fix (${i})` } } : { durationMs: i },
    });
  }
  db.close();
  s = await serve(file, { tokens: new Map([["auditor", TOKEN]]) });
  context = await launchBrowser(dir, { viewport: { width: 1400, height: 900 }, acceptDownloads: true });
});

test.after.always(async () => {
  await context?.close();
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("sign in, open the audit log, filter, open details, page, and download the filtered CSV", async (t) => {
  const { page, dialogs, errors, foreign } = await watchedPage(context, s.url);

  // Signed out: the sign-in form, which comes back to the page asked for.
  const first = await page.goto(`${s.url}/audit`);
  t.is(first?.status(), 401);
  await page.fill("input[name=token]", TOKEN);
  await Promise.all([page.waitForURL(`${s.url}/audit`), page.click("button[type=submit]")]);
  t.is(await page.locator("h1").textContent(), "Audit log");
  t.deepEqual(errors, ["Failed to load resource: the server responded with a status of 401 (Unauthorized)"], "only the sign-in page's 401");
  errors.length = 0;
  await page.goto(`${s.url}/`);
  await Promise.all([page.waitForURL(/\/audit$/), page.click("header nav >> text=Audit log")]);
  t.is(await page.locator("#audit tbody tr").count(), 30, "every entry fits the default page of 50");

  // Filter: mcp-stdio:claude's failed evaluations, 20 a page.
  await page.fill("input[name=actor]", "mcp-stdio:claude");
  await page.fill("input[name=outcome]", "fail");
  await page.selectOption("select[name=limit]", "20");
  await Promise.all([page.waitForURL(/actor=mcp-stdio%3Aclaude/), page.click("#audit-filters button[type=submit]")]);
  // Odd minutes not divisible by 3, except 7 (the hostile actor): 1, 5, 11, 13, 17, 19, 23, 25, 29.
  const actors = await page.locator("#audit tbody tr td:nth-child(3)").allTextContents();
  t.deepEqual(actors, Array(9).fill("mcp-stdio:claude"));
  t.deepEqual(
    await page.locator("#audit tbody tr td:nth-child(2) > time").evaluateAll((ts) => ts.map((x) => x.getAttribute("datetime"))),
    [29, 25, 23, 19, 17, 13, 11, 5, 1].map((m) => new Date(Date.UTC(2026, 0, 10, 0, m)).toISOString()),
    "newest first",
  );

  // Errors, with an entry's details opened (no script: <details>).
  await page.goto(`${s.url}/audit?outcome=error&limit=20`);
  t.is(await page.locator("#audit tbody tr").count(), 10);
  const details = page.locator("#audit tbody tr").first().locator("details");
  t.is(await details.locator("summary").textContent(), "the object changed since the fix (27)");
  t.false(await details.locator("pre").isVisible(), "closed until asked");
  await details.locator("summary").click();
  t.true(await details.locator("pre").isVisible());
  t.regex((await details.locator("pre").textContent()) ?? "", /"code": "conflict"/);
  await page.goto(`${s.url}/audit?outcome=error&limit=20&actor=http:ci`);
  t.is(await page.locator("#audit tbody tr").count(), 5, "minutes 0, 6, 12, 18, 24");

  // Paging: 20, then the older 10, among them the hostile actor's entry, as text.
  await page.goto(`${s.url}/audit?limit=20`);
  t.is(await page.locator("#audit tbody tr").count(), 20);
  await Promise.all([page.waitForURL(/before=\d+/), page.click("a[data-page=older]")]);
  t.is(await page.locator("#audit tbody tr").count(), 10);
  t.is(await page.locator("#audit tbody tr", { hasText: HOSTILE_ACTOR }).count(), 1);
  t.is(await page.locator("#audit img").count(), 0);
  await page.screenshot({ path: path.join(RESULTS, "dashboard-audit.png"), fullPage: true });

  // Download the filtered view: an attachment with a dated name, the rows the page shows, oldest first.
  await page.goto(`${s.url}/audit?actor=http:ci&outcome=error`);
  const shownIds = await page.locator("#audit tbody tr [data-entry]").allTextContents();
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("a[data-download=csv]")]);
  t.regex(download.suggestedFilename(), /^kube-policy-audit-\d{4}-\d{2}-\d{2}T\d{4}Z\.csv$/);
  const saved = path.join(dir, "download.csv");
  await download.saveAs(saved);
  const lines = readFileSync(saved, "utf8").trimEnd().split("\r\n");
  t.is(lines[0], "id,time,actor,action,namespace,resource,rule_ids,outcome,details");
  t.deepEqual(lines.slice(1).map((l) => l.split(",")[0]), [...shownIds].reverse());
  t.true(lines.slice(1).every((l) => l.includes(",http:ci,rollback_fix,shop,Deployment/api,") && l.includes(",error:conflict,")));

  // The download is in the log, by the signed-in token's name.
  await page.goto(`${s.url}/audit?action=audit_export`);
  t.deepEqual(await page.locator("#audit tbody tr td:nth-child(3)").allTextContents(), ["http:auditor"]);

  t.deepEqual(dialogs, [], "no hostile string ran a script");
  t.deepEqual(errors, [], "no console error (a CSP refusal would be one)");
  t.deepEqual(foreign, [], "nothing requested from another origin");
  await page.close();
});
