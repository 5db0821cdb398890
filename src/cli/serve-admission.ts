// kube-policy serve --admission PORT: the validating admission webhook on its own HTTPS port, apart
// from the REST port (the API server needs TLS; the tools do not share its exposure). Certificates come
// from --admission-cert/--admission-key (re-read every --admission-reload-interval seconds, so a rotated
// Secret is served without a restart), else a development CA kept next to the database. With
// --admission-client-ca the port requires the API server's client certificate.
import path from "node:path";
import { InvalidInputError } from "../errors.js";
import { ADMISSION_PATH, startAdmissionServer, type AdmissionDecision, type RunningAdmissionServer } from "../http/admission.js";
import { auditStoreFor } from "../store/audit-store.js";
import { devCertificates, loadCaBundleFile, loadCertificateFiles, type TlsMaterial } from "../http/certificates.js";
import { logger } from "../logger.js";
import { defaultDatabasePath, type Runtime } from "../runtime.js";

export interface AdmissionCliOptions {
  admission: string;
  admissionHost?: string;
  admissionCert?: string;
  admissionKey?: string;
  /** Seconds between looks at the certificate files; "0" turns it off. Default 15. */
  admissionReloadInterval?: string;
  /** PEM CA bundle client certificates must chain to. */
  admissionClientCa?: string;
  /** Comma-separated subject CNs allowed (with admissionClientCa). */
  admissionClientCn?: string;
}

/** Where generated development certificates are kept: beside the SQLite store. */
export function devCertificateDir(runtime: Runtime): string {
  return path.join(path.dirname(runtime.options.databasePath ?? defaultDatabasePath(runtime.config)), "admission-tls");
}

/** Every admission decision goes to the append-only audit log; a dry run is recorded as such, never as a change. */
export function auditDecision(runtime: Runtime, decision: AdmissionDecision): void {
  try {
    auditStoreFor(runtime.db()).append({
      time: decision.at,
      actor: `admission:${decision.user}`,
      action: decision.dryRun ? "admission-review (dry run)" : "admission-review",
      namespace: decision.namespace,
      resource: `${decision.kind} ${decision.namespace}/${decision.name}`,
      ruleIds: [...new Set([...decision.violations, ...decision.warnings].map((f) => f.ruleId))],
      outcome: decision.decision,
      details: { uid: decision.uid, operation: decision.operation, mode: decision.mode, modeSource: decision.modeSource, skipped: decision.skipped ?? null },
    });
  } catch (error) {
    logger.warn({ err: (error as Error).message, uid: decision.uid }, "audit log unavailable: this admission decision is only in the log lines");
  }
}

export async function startAdmissionFromCli(runtime: Runtime, options: AdmissionCliOptions): Promise<RunningAdmissionServer> {
  const port = Number(options.admission);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidInputError(`--admission needs a port number (got ${JSON.stringify(options.admission)})`);
  }
  if (Boolean(options.admissionCert) !== Boolean(options.admissionKey)) {
    throw new InvalidInputError("--admission-cert and --admission-key go together: give both, or neither for a development certificate");
  }
  const interval = Number(options.admissionReloadInterval ?? "15");
  if (!Number.isFinite(interval) || interval < 0 || (interval > 0 && interval < 1) || interval > 86_400) {
    throw new InvalidInputError(
      `--admission-reload-interval needs a number of seconds from 1 to 86400, or 0 to re-read the certificate files only at start-up (got ${JSON.stringify(options.admissionReloadInterval)})`,
    );
  }
  const allowedNames = options.admissionClientCn
    ?.split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  if (options.admissionClientCn !== undefined && !options.admissionClientCa) {
    throw new InvalidInputError("--admission-client-cn needs --admission-client-ca (the CA bundle the client certificates are checked against)");
  }
  if (options.admissionClientCn !== undefined && allowedNames!.length === 0) {
    throw new InvalidInputError(`--admission-client-cn needs at least one name (got ${JSON.stringify(options.admissionClientCn)})`);
  }
  const clientAuth = options.admissionClientCa
    ? { ca: await loadCaBundleFile(options.admissionClientCa), caFile: options.admissionClientCa, allowedNames }
    : undefined;
  let tls: TlsMaterial;
  let caNote: string;
  if (options.admissionCert && options.admissionKey) {
    tls = await loadCertificateFiles(options.admissionCert, options.admissionKey);
    caNote = `certificate ${options.admissionCert}${interval > 0 ? ` (re-read every ${interval} s)` : ""}`;
  } else {
    const generated = await devCertificates(devCertificateDir(runtime));
    tls = generated;
    const caFile = path.join(generated.dir, "ca.crt");
    caNote = `development CA ${caFile} (${generated.generated ? "new" : "reused"}; caBundle: base64 -w0 ${caFile})`;
  }
  const tlsFiles = options.admissionCert && options.admissionKey ? { cert: options.admissionCert, key: options.admissionKey } : undefined;
  const running = await startAdmissionServer(runtime, {
    host: options.admissionHost,
    port,
    tls,
    tlsFiles,
    reloadIntervalMs: interval * 1000,
    clientAuth,
    onDecision: (decision) => auditDecision(runtime, decision),
  });
  const authNote = clientAuth
    ? `; client certificates required (CA ${clientAuth.caFile}${allowedNames ? `, CN ${allowedNames.join(", ")}` : ""})`
    : "; no client authentication";
  logger.info({ url: `${running.url}${ADMISSION_PATH}`, tls: caNote, certificate: running.certificate(), clientAuth: Boolean(clientAuth) }, "admission webhook listening");
  process.stderr.write(`kube-policy: admission webhook on ${running.url}${ADMISSION_PATH} with ${caNote}${authNote}\n`);
  return running;
}
