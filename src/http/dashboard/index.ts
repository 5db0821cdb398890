// The compliance dashboard's routes on the API's koa router: GET / (overview), /violations,
// /workloads/:namespace/:kind/:name, /fixes, /scans, /audit (and its downloads /audit/export.csv and
// /audit/export.jsonl), /notifications. Every page is HTML rendered on the server from
// the scan history and the fix store; errors are HTML pages too (a browser shows them), with the
// status and message of the error hierarchy. Sign-in for browsers is auth.ts, mounted before the
// bearer check.
import type Router from "@koa/router";
import type { RouterContext } from "@koa/router";
import { toAppError } from "../../errors.js";
import type { Runtime } from "../../runtime.js";
import { fixes, overview, scans, violations, workload } from "./data.js";
import { emptyPage, errorPage, fixesPage, overviewPage, scansPage, violationsPage, workloadPage, type PageContext } from "./pages.js";
import { securityHeaders } from "./security.js";
import { auditPage, EXPORT_TYPES, exportFilename, notificationsPage, parseAuditQuery, streamAuditExport } from "./audit.js";
import { auditLogPage, notificationHistoryPage } from "./audit-pages.js";

export { dashboardAuth, DashboardSessions, isDashboardPath, SESSION_COOKIE } from "./auth.js";

interface Logger {
  warn(obj: object, msg?: string): void;
}

export function mountDashboard(router: Router, runtime: Runtime, logger?: Logger): void {
  const page = (render: (ctx: RouterContext, pc: PageContext) => string) => async (ctx: RouterContext) => {
    const pc: PageContext = { session: ctx.state.dashboardSession === true, now: Date.now() };
    securityHeaders(ctx);
    ctx.type = "text/html; charset=utf-8";
    try {
      ctx.body = render(ctx, pc);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) logger?.warn({ err: appError.message, path: ctx.path }, "dashboard page failed");
      ctx.status = appError.status;
      ctx.body = errorPage(appError, pc);
      ctx.type = "text/html; charset=utf-8";
    }
  };

  router.get(
    "/",
    page((ctx, pc) => {
      const model = overview(runtime, ctx.query, pc.now);
      return model.kind === "empty" ? emptyPage(model, pc) : overviewPage(model, pc);
    }),
  );
  router.get(
    "/violations",
    page((ctx, pc) => {
      const model = violations(runtime, ctx.query, pc.now);
      return model.kind === "empty" ? emptyPage(model, pc) : violationsPage(model, pc);
    }),
  );
  router.get(
    "/workloads/:namespace/:kind/:name",
    page((ctx, pc) => {
      const { namespace = "", kind = "", name = "" } = ctx.params;
      const model = workload(runtime, { namespace, kind, name }, pc.now);
      return model.kind === "empty" ? emptyPage(model, pc) : workloadPage(model, pc);
    }),
  );
  router.get(
    "/fixes",
    page((ctx, pc) => fixesPage(fixes(runtime, ctx.query), pc)),
  );
  router.get(
    "/scans",
    page((ctx, pc) => scansPage(scans(runtime, ctx.query), pc)),
  );
  router.get(
    "/audit",
    page((ctx, pc) => auditLogPage(auditPage(runtime, ctx.query), pc)),
  );
  router.get(
    "/notifications",
    page((ctx, pc) => notificationHistoryPage(notificationsPage(runtime, ctx.query), pc)),
  );
  for (const format of ["csv", "jsonl"] as const) {
    router.get(`/audit/export.${format}`, async (ctx) => {
      // The filters are checked before anything is sent: a mistake is an error page, not a broken file.
      let filters;
      try {
        filters = parseAuditQuery(runtime, ctx.query);
      } catch (error) {
        const appError = toAppError(error);
        securityHeaders(ctx);
        ctx.status = appError.status;
        ctx.type = "text/html; charset=utf-8";
        ctx.body = errorPage(appError, { session: ctx.state.dashboardSession === true, now: Date.now() });
        return;
      }
      securityHeaders(ctx);
      ctx.status = 200;
      ctx.set("Content-Type", EXPORT_TYPES[format]);
      ctx.set("Content-Disposition", `attachment; filename="${exportFilename(format, Date.now())}"`);
      if (ctx.method === "HEAD") return;
      ctx.respond = false;
      await streamAuditExport(runtime, filters, format, ctx.res, { actor: String(ctx.state.actor ?? "http:anonymous"), logger });
    });
  }
}
