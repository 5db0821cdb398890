// kube-policy report: the compliance report of a cluster, a namespace or manifests, in text, JSON,
// SARIF, JUnit XML or HTML, to stdout or a file; with the trend of the stored scans when there are any.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { InvalidInputError } from "../errors.js";
import { renderReport, type ReportFormat } from "../report/formats/index.js";
import type { JunitGrouping } from "../report/formats/junit.js";
import { Runtime } from "../runtime.js";
import { complianceReportData } from "../tools/report.js";
import { checkNamespace } from "../tools/evaluation.js";
import { terminalProgress } from "./progress.js";
import { openSource } from "./serve.js";

export interface ReportCommandOptions {
  format: ReportFormat;
  namespace?: string;
  output?: string;
  config?: string;
  kubeconfig?: string;
  context?: string;
  filename?: string[];
  demo?: boolean;
  db?: string;
  junitBy: JunitGrouping;
}

export async function reportCommand(options: ReportCommandOptions): Promise<number> {
  const source = await openSource(options);
  const runtime = await Runtime.create({ config: options.config, source, databasePath: options.db });
  try {
    if (options.namespace) checkNamespace(runtime, options.namespace);
    const progress = terminalProgress("report");
    const data = await complianceReportData(runtime, { namespace: options.namespace }, { progress: (done, total) => progress.update(done, total) });
    progress.finish();
    const rendered = renderReport(options.format, data, { junitGrouping: options.junitBy });
    if (options.output) {
      try {
        await mkdir(path.dirname(path.resolve(options.output)), { recursive: true });
        await writeFile(options.output, rendered.body);
      } catch (error) {
        throw new InvalidInputError(`cannot write the report to --output ${options.output}: ${(error as Error).message}`, { cause: error });
      }
      process.stderr.write(`kube-policy: wrote the ${options.format} report to ${options.output}\n`);
    } else {
      process.stdout.write(rendered.body);
    }
    return 0;
  } finally {
    await runtime.close();
  }
}
