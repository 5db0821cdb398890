// Browser sign-in for the dashboard when the server has API tokens. A browser cannot attach a bearer
// header to a link, so a token is exchanged once (the sign-in form's POST, or `?token=` on any page,
// which is then redirected away) for a session cookie: HttpOnly (scripts cannot read it),
// SameSite=Strict (no other site can make the browser send it) and valid for 12 hours. The cookie
// holds the token's name, an expiry and an HMAC under a key made at process start, never the token,
// so a restart signs everyone out and a copied cookie dies with its expiry.
//
// The cookie authenticates GET and HEAD of the dashboard pages only: the tools, MCP and /metrics still
// require the bearer header, so a session in a browser cannot change the cluster.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, Middleware, Next } from "koa";
import { InvalidInputError } from "../../errors.js";
import { loginPage } from "./pages.js";
import { securityHeaders } from "./security.js";

export const SESSION_COOKIE = "kube_policy_session";
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const FORM_LIMIT = 8 * 1024;

/** The dashboard's pages: what a session cookie may open. */
export function isDashboardPath(path: string): boolean {
  return (
    path === "/" ||
    path === "/violations" ||
    path === "/fixes" ||
    path === "/scans" ||
    path === "/audit" ||
    path === "/audit/export.csv" ||
    path === "/audit/export.jsonl" ||
    path === "/notifications" ||
    path.startsWith("/workloads/")
  );
}

export class DashboardSessions {
  private readonly key = randomBytes(32);

  constructor(
    private readonly tokens: Map<string, string>,
    private readonly clock: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.tokens.size > 0;
  }

  /** The name of the token given, compared in constant time as the bearer check does; null if none matches. */
  nameOf(token: string): string | null {
    const given = Buffer.from(token);
    for (const [name, expected] of this.tokens) {
      const e = Buffer.from(expected);
      if (e.length === given.length && timingSafeEqual(e, given)) return name;
    }
    return null;
  }

  issue(name: string): string {
    const payload = `${Buffer.from(name).toString("base64url")}.${this.clock() + SESSION_TTL_MS}`;
    return `${payload}.${this.mac(payload)}`;
  }

  /** The token name a cookie was issued for, if it is ours, unexpired, and the name still has a token. */
  verify(value: string | undefined): string | null {
    if (!value) return null;
    const parts = value.split(".");
    if (parts.length !== 3) return null;
    const [name64, expires, mac] = parts as [string, string, string];
    const expected = Buffer.from(this.mac(`${name64}.${expires}`));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    if (!(Number(expires) > this.clock())) return null;
    const name = Buffer.from(name64, "base64url").toString("utf8");
    return this.tokens.has(name) ? name : null;
  }

  private mac(payload: string): string {
    return createHmac("sha256", this.key).update(payload).digest("base64url");
  }
}

/** Where to go after signing in: a dashboard page of this server, nothing else (no open redirect). */
export function safeNext(value: string | null | undefined): string {
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.includes("\\")) return "/";
  const url = new URL(value, "http://dashboard.invalid");
  if (url.host !== "dashboard.invalid" || !isDashboardPath(url.pathname)) return "/";
  url.searchParams.delete("token");
  return `${url.pathname}${url.search}`;
}

async function readForm(ctx: Context): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > FORM_LIMIT) throw new InvalidInputError(`the sign-in form is larger than ${FORM_LIMIT} bytes`);
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function setSession(ctx: Context, sessions: DashboardSessions, name: string): void {
  // Secure only over TLS: a browser drops a Secure cookie sent over plain HTTP (the loopback case).
  ctx.cookies.set(SESSION_COOKIE, sessions.issue(name), { httpOnly: true, sameSite: "strict", path: "/", maxAge: SESSION_TTL_MS, secure: ctx.secure, overwrite: true });
}

function showLogin(ctx: Context, next: string, failed: boolean): void {
  ctx.status = 401;
  ctx.set("WWW-Authenticate", 'Bearer realm="kube-policy-mcp"');
  securityHeaders(ctx);
  ctx.type = "text/html; charset=utf-8";
  ctx.body = loginPage({ next, failed }, { session: false, now: Date.now() });
}

/**
 * Runs before the bearer check of server.ts. Handles /login and /logout; for a dashboard page with a
 * valid session cookie marks the request authenticated (ctx.state.dashboardSession) so the bearer
 * check lets it through; for a dashboard page with neither cookie nor bearer header shows the sign-in
 * page (401). Everything else goes on to the bearer check unchanged.
 */
export function dashboardAuth(tokens: Map<string, string>, sessions: DashboardSessions = new DashboardSessions(tokens)): Middleware {
  return async (ctx: Context, next: Next) => {
    if (ctx.path === "/login" || ctx.path === "/logout") {
      securityHeaders(ctx);
      if (!sessions.enabled) return ctx.redirect("/");
      if (ctx.path === "/logout") {
        ctx.cookies.set(SESSION_COOKIE, "", { httpOnly: true, sameSite: "strict", path: "/", maxAge: 0, secure: ctx.secure, overwrite: true });
        ctx.status = 303;
        return ctx.redirect("/login");
      }
      if (ctx.method === "POST") {
        const form = await readForm(ctx);
        const target = safeNext(form.get("next"));
        const name = sessions.nameOf(form.get("token") ?? "");
        if (!name) return showLogin(ctx, target, true);
        setSession(ctx, sessions, name);
        ctx.status = 303;
        return ctx.redirect(target);
      }
      const target = safeNext(typeof ctx.query.next === "string" ? ctx.query.next : "/");
      if (sessions.verify(ctx.cookies.get(SESSION_COOKIE))) return ctx.redirect(target);
      return showLogin(ctx, target, false);
    }
    if (!sessions.enabled || !isDashboardPath(ctx.path) || (ctx.method !== "GET" && ctx.method !== "HEAD")) return next();

    const params = new URLSearchParams(ctx.querystring);
    const token = params.get("token");
    if (token !== null) {
      params.delete("token");
      const rest = params.toString();
      const target = `${ctx.path}${rest ? `?${rest}` : ""}`;
      const name = sessions.nameOf(token);
      if (!name) return showLogin(ctx, target, true);
      setSession(ctx, sessions, name);
      // Off the address bar, the history and any Referer at once.
      securityHeaders(ctx);
      ctx.status = 303;
      return ctx.redirect(target);
    }
    if (ctx.get("authorization")) return next(); // an API client: the bearer check decides
    const name = sessions.verify(ctx.cookies.get(SESSION_COOKIE));
    if (name) {
      ctx.state.actor = `http:${name}`;
      ctx.state.dashboardSession = true;
      return next();
    }
    return showLogin(ctx, safeNext(ctx.url), false);
  };
}
