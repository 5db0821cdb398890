// Covers the dashboard's authentication (src/http/dashboard/auth.ts and its mount in server.ts): with
// tokens configured a page without credentials is a 401 sign-in page; `?token=` once sets an HttpOnly,
// SameSite=Strict session cookie and redirects to the same page without the token; the sign-in form
// does the same; the cookie opens dashboard pages only (not the tools, MCP, /tools or /metrics); wrong
// tokens, tampered and expired cookies are refused; sign-out clears the cookie; the redirect after
// sign-in never leaves the dashboard; without tokens everything is open as before.
// Real components: the koa app on 127.0.0.1 with Node's fetch as the client (redirects not followed, so
// each step is visible), SQLite written through ScanStore (fixture.ts). The session clock is injected
// for the expiry test.
import { rmSync } from "node:fs";
import path from "node:path";
import test from "ava";
import { DashboardSessions, SESSION_TTL_MS, safeNext } from "../../../src/http/dashboard/auth.js";
import { serve, tempDir, writeHistory, type Served } from "./fixture.js";

const dir = tempDir("kube-policy-dashboard-auth-");
const TOKEN = "dashboard-token-0123456789";
const servers: Served[] = [];
let s: Served;

test.before(async () => {
  const file = path.join(dir, "store.db");
  writeHistory(file, Date.now());
  s = await serve(file, { tokens: new Map([["alice", TOKEN]]) });
  servers.push(s);
});

test.after.always(async () => {
  await Promise.all(servers.map((x) => x.close()));
  rmSync(dir, { recursive: true, force: true });
});

function request(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { redirect: "manual", ...init });
}

/** "name=value" of the session cookie a response sets, with its attributes. */
function sessionCookie(res: Response): { pair: string; attributes: string[] } {
  const header = res.headers.getSetCookie().find((c) => c.startsWith("kube_policy_session="));
  if (!header) throw new Error(`no session cookie set (status ${res.status})`);
  const [pair, ...attributes] = header.split(";").map((p) => p.trim());
  return { pair: pair!, attributes: attributes.map((a) => a.toLowerCase()) };
}

test("without credentials a page is a 401 sign-in page; the API answers 401 JSON as before", async (t) => {
  const page = await request(`${s.url}/violations?severity=high`);
  t.is(page.status, 401);
  t.is(page.headers.get("www-authenticate"), 'Bearer realm="kube-policy-mcp"');
  const body = await page.text();
  t.regex(body, /<form method="post" action="\/login">/);
  t.true(body.includes('name="next" value="/violations?severity=high"'), "comes back to the page asked for");
  t.false(body.includes('data-metric="'), "no data without credentials");
  const api = await request(`${s.url}/tools`);
  t.is(api.status, 401);
  t.is(((await api.json()) as { error: { code: string } }).error.code, "unauthorized");
});

test("?token= sets an HttpOnly SameSite=Strict cookie and redirects to the same page without the token", async (t) => {
  const res = await request(`${s.url}/violations?severity=high&token=${TOKEN}&rule=x`);
  t.is(res.status, 303);
  t.is(res.headers.get("location"), "/violations?severity=high&rule=x");
  const cookie = sessionCookie(res);
  t.true(cookie.attributes.includes("httponly"));
  t.true(cookie.attributes.includes("samesite=strict"));
  t.true(cookie.attributes.includes("path=/"));
  t.false(cookie.pair.includes(TOKEN), "the cookie holds a signed session, not the token");
  const page = await request(`${s.url}/violations?severity=high`, { headers: { cookie: cookie.pair } });
  t.is(page.status, 200);
  const body = await page.text();
  t.regex(body, /data-metric="matching">2</);
  t.regex(body, /Sign out/);
  t.false(body.includes(TOKEN), "the token is never on a page");
});

test("the session cookie opens dashboard pages only: not the tools, /tools, MCP or /metrics", async (t) => {
  const { pair } = sessionCookie(await request(`${s.url}/?token=${TOKEN}`));
  const headers = { cookie: pair };
  for (const page of ["/", "/violations", "/fixes", "/scans", "/workloads/shop/Deployment/api"]) {
    t.is((await request(`${s.url}${page}`, { headers })).status, 200, page);
  }
  t.is((await request(`${s.url}/tools`, { headers })).status, 401);
  t.is((await request(`${s.url}/metrics`, { headers })).status, 401);
  t.is((await request(`${s.url}/tools/list_policy_rules`, { method: "POST", headers, body: "{}" })).status, 401);
  t.is((await request(`${s.url}/mcp`, { method: "POST", headers, body: "{}" })).status, 401);
  t.is((await request(`${s.url}/tools`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200, "the bearer token still works");
  t.is((await request(`${s.url}/`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200, "and opens pages for curl");
});

test("a wrong token, a tampered cookie or a wrong bearer header is refused", async (t) => {
  const wrong = await request(`${s.url}/?token=nope`);
  t.is(wrong.status, 401);
  t.deepEqual(wrong.headers.getSetCookie(), []);
  t.regex(await wrong.text(), /That token is not valid/);
  const { pair } = sessionCookie(await request(`${s.url}/?token=${TOKEN}`));
  const [name64, expires, mac] = pair.split("=")[1]!.split(".");
  const forged = `kube_policy_session=${Buffer.from("admin").toString("base64url")}.${expires}.${mac}`;
  t.is((await request(`${s.url}/`, { headers: { cookie: forged } })).status, 401, "another name under the same MAC");
  const extended = `kube_policy_session=${name64}.${Number(expires) + 10 * SESSION_TTL_MS}.${mac}`;
  t.is((await request(`${s.url}/`, { headers: { cookie: extended } })).status, 401, "a later expiry under the same MAC");
  t.is((await request(`${s.url}/`, { headers: { cookie: `${pair}x` } })).status, 401);
  t.is((await request(`${s.url}/`, { headers: { authorization: "Bearer nope" } })).status, 401);
});

test("the sign-in form sets the cookie and goes back to the page; a bad token stays on the form", async (t) => {
  const form = (token: string, next: string) =>
    request(`${s.url}/login`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token, next }).toString() });
  const ok = await form(TOKEN, "/scans?status=failed");
  t.is(ok.status, 303);
  t.is(ok.headers.get("location"), "/scans?status=failed");
  const { pair } = sessionCookie(ok);
  t.is((await request(`${s.url}/scans`, { headers: { cookie: pair } })).status, 200);
  const bad = await form("nope", "/scans");
  t.is(bad.status, 401);
  t.deepEqual(bad.headers.getSetCookie(), []);
  const away = await form(TOKEN, "//evil.example/steal");
  t.is(away.headers.get("location"), "/", "never redirected off the dashboard");
  const login = await request(`${s.url}/login?next=/fixes`, { headers: { cookie: pair } });
  t.is(login.status, 302);
  t.is(login.headers.get("location"), "/fixes", "already signed in: straight back");
});

test("sign-out clears the cookie", async (t) => {
  const res = await request(`${s.url}/logout`, { method: "POST" });
  t.is(res.status, 303);
  t.is(res.headers.get("location"), "/login");
  const cleared = res.headers.getSetCookie().find((c) => c.startsWith("kube_policy_session="));
  t.truthy(cleared);
  t.regex(cleared!, /^kube_policy_session=;/);
  t.regex(cleared!.toLowerCase(), /expires=thu, 01 jan 1970/);
});

test("sessions expire after 12 hours and die with a token name that is gone", (t) => {
  let now = 1_000_000;
  const sessions = new DashboardSessions(new Map([["alice", "a-token"]]), () => now);
  const cookie = sessions.issue("alice");
  t.is(sessions.verify(cookie), "alice");
  now += SESSION_TTL_MS - 1;
  t.is(sessions.verify(cookie), "alice");
  now += 2;
  t.is(sessions.verify(cookie), null);
  const other = new DashboardSessions(new Map([["alice", "a-token"]]), () => now);
  t.is(other.verify(sessions.issue("alice")), null, "another process's key");
  t.is(sessions.verify(sessions.issue("bob")), null, "a name without a token");
  t.is(sessions.nameOf("a-token"), "alice");
  t.is(sessions.nameOf("a-token "), null);
});

test("safeNext keeps sign-in redirects on dashboard pages", (t) => {
  t.is(safeNext("/violations?severity=high"), "/violations?severity=high");
  t.is(safeNext("/workloads/shop/Deployment/api"), "/workloads/shop/Deployment/api");
  t.is(safeNext("/?token=abc&namespace=shop"), "/?namespace=shop");
  for (const bad of ["//evil.example", "https://evil.example/", "/\\evil.example", "/tools/rollback_fix", "javascript:alert(1)", "", null]) {
    t.is(safeNext(bad), "/", String(bad));
  }
});

test("without tokens the pages are open and /login goes to the overview", async (t) => {
  const file = path.join(dir, "open.db");
  writeHistory(file, Date.now());
  const open = await serve(file);
  servers.push(open);
  t.is((await request(`${open.url}/`)).status, 200);
  const login = await request(`${open.url}/login`);
  t.is(login.status, 302);
  t.is(login.headers.get("location"), "/");
  t.false((await (await request(`${open.url}/`)).text()).includes("Sign out"));
});
