// The compliance report in every format the doors offer (`kube-policy report --format`, GET
// /reports/compliance): text, JSON, SARIF 2.1.0, JUnit XML and a standalone HTML page.
import { InvalidInputError } from "../../errors.js";
import type { CatalogueView, WorkloadResult } from "../../policy/evaluator.js";
import { renderComplianceText, type ComplianceReport } from "../compliance.js";
import { renderHtml } from "./html.js";
import { renderJunit, type JunitGrouping } from "./junit.js";
import { renderSarif } from "./sarif.js";

/** A live evaluation of a scope: the report, and the per-workload results the finding-level formats need. */
export interface ReportInput {
  report: ComplianceReport;
  /** With where each workload came from (file:line for manifests, the API path for a cluster). */
  results: (WorkloadResult & { source?: string })[];
  catalogue: CatalogueView[];
}

export const REPORT_FORMATS = ["text", "json", "sarif", "junit", "html"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface RenderedReport {
  body: string;
  contentType: string;
  /** File extension for downloads and --output defaults. */
  extension: string;
}

export function parseReportFormat(value: unknown, where: string): ReportFormat {
  if (typeof value === "string" && (REPORT_FORMATS as readonly string[]).includes(value)) return value as ReportFormat;
  throw new InvalidInputError(`unknown report format ${JSON.stringify(value)}`, {
    details: [{ where, message: `must be one of ${REPORT_FORMATS.join(", ")}` }],
  });
}

export function renderReport(format: ReportFormat, input: ReportInput, options: { junitGrouping?: JunitGrouping } = {}): RenderedReport {
  switch (format) {
    case "text":
      return { body: renderComplianceText(input.report), contentType: "text/plain; charset=utf-8", extension: "txt" };
    case "json":
      return { body: `${JSON.stringify(input.report, null, 2)}\n`, contentType: "application/json; charset=utf-8", extension: "json" };
    case "sarif":
      return { body: `${JSON.stringify(renderSarif(input), null, 2)}\n`, contentType: "application/sarif+json; charset=utf-8", extension: "sarif" };
    case "junit":
      return { body: renderJunit(input, { grouping: options.junitGrouping }), contentType: "application/xml; charset=utf-8", extension: "xml" };
    case "html":
      return { body: renderHtml(input), contentType: "text/html; charset=utf-8", extension: "html" };
  }
}
