// GET /reports/compliance?format=text|json|sarif|junit|html&namespace=...&junitBy=workload|rule: the
// compliance report of the cluster or a namespace (with the stored trend) in the format asked, for
// pipelines and browsers. Query mistakes are 400s naming the parameter.
import type { Context } from "koa";
import { InvalidInputError } from "../errors.js";
import { parseReportFormat, renderReport } from "../report/formats/index.js";
import { JUNIT_GROUPINGS, type JunitGrouping } from "../report/formats/junit.js";
import type { Runtime } from "../runtime.js";
import { NAMESPACE_NAME } from "../scans/scan.js";
import { complianceReportData } from "../tools/report.js";


function single(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw new InvalidInputError(`query parameter ${name} is given ${value.length} times`, { details: [{ where: `query.${name}`, message: "give it once" }] });
  return value === undefined || value === "" ? undefined : value;
}

export function complianceReportRoute(runtime: Runtime): (ctx: Context) => Promise<void> {
  return async (ctx) => {
    const known = new Set(["format", "namespace", "junitBy"]);
    const unknown = Object.keys(ctx.query).filter((k) => !known.has(k));
    if (unknown.length > 0) {
      throw new InvalidInputError(`unknown query parameter(s): ${unknown.join(", ")}`, {
        details: unknown.map((k) => ({ where: `query.${k}`, message: "not a parameter of /reports/compliance (format, namespace, junitBy)" })),
      });
    }
    const format = parseReportFormat(single(ctx, "format") ?? "json", "query.format");
    const namespace = single(ctx, "namespace");
    if (namespace !== undefined && !NAMESPACE_NAME.test(namespace)) {
      throw new InvalidInputError(`invalid namespace ${JSON.stringify(namespace)}`, { details: [{ where: "query.namespace", message: "lowercase letters, digits and '-', at most 63" }] });
    }
    const junitBy = single(ctx, "junitBy") ?? "workload";
    if (!(JUNIT_GROUPINGS as readonly string[]).includes(junitBy)) {
      throw new InvalidInputError(`invalid junitBy ${JSON.stringify(junitBy)}`, { details: [{ where: "query.junitBy", message: `must be one of ${JUNIT_GROUPINGS.join(", ")}` }] });
    }
    const data = await complianceReportData(runtime, { namespace });
    const rendered = renderReport(format, data, { junitGrouping: junitBy as JunitGrouping });
    ctx.type = rendered.contentType;
    ctx.body = rendered.body;
  };
}
