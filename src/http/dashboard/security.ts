// Response headers of every dashboard page: the CSP (no resource from anywhere, one hashed inline
// script), no framing, no sniffing, no Referer (a `?token=` URL never leaks through a link), and no
// caching of pages that show the state of a cluster.
import type { Context } from "koa";
import { CONTENT_SECURITY_POLICY } from "./pages.js";

export function securityHeaders(ctx: Context): void {
  ctx.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  ctx.set("X-Content-Type-Options", "nosniff");
  ctx.set("X-Frame-Options", "DENY");
  ctx.set("Referrer-Policy", "no-referrer");
  ctx.set("Cache-Control", "no-store");
}
