// The validating admission webhook: the API server POSTs an admission.k8s.io/v1 AdmissionReview for
// every workload created or updated, and we answer with the same compiled bundle and configuration as
// every other door. Strict namespaces refuse deny violations (the message names rules and fields, as
// kubectl shows it); advisory namespaces admit the object and return the findings as warnings.
//
// Enforcement of a namespace: the label kube-policy.io/enforcement (strict | advisory) on the
// Namespace, else the configuration's global.enforcement (advisory stays advisory, anything else is
// strict). The label stands in for global.enforcement: categories and rule overrides keep their own
// enforcement under "strict", and "advisory" never refuses anything. Whoever may label namespaces may
// relax enforcement: on most clusters that is a cluster administrator.
import https from "node:https";
import { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { listen } from "./listen.js";
import type http from "node:http";
import Koa from "koa";
import Router from "@koa/router";
import { z } from "zod";
import { ForbiddenError, InvalidInputError, NotFoundError, toAppError, type ErrorDetail } from "../errors.js";
import { WORKLOAD_KINDS, type WorkloadKind } from "../kube/source.js";
import { logger as defaultLogger } from "../logger.js";
import { namespaceAllowed, namespaceExcluded } from "../policy/enforcement.js";
import { PolicyEvaluator } from "../policy/evaluator.js";
import type { Finding, Severity } from "../policy/types.js";
import type { PolicyConfig } from "../config/types.js";
import type { Runtime } from "../runtime.js";
import { VERSION } from "../version.js";
import {
  DEFAULT_RELOAD_INTERVAL_MS,
  FileReloader,
  certificateInfo,
  checkTlsMaterial,
  parseCaBundle,
  type CertificateInfo,
  type ReloadOutcome,
  type TlsMaterial,
} from "./certificates.js";
import { readBodyText, UnauthorizedError } from "./server.js";

export const ENFORCEMENT_LABEL = "kube-policy.io/enforcement";
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
export const ADMISSION_PATH = "/admission/validate";
export type AdmissionMode = "strict" | "advisory";

/** The API group of each workload kind: an object of another group with the same kind is not ours. */
const WORKLOAD_GROUPS: Record<WorkloadKind, string> = {
  Deployment: "apps",
  StatefulSet: "apps",
  DaemonSet: "apps",
  ReplicaSet: "apps",
  Job: "batch",
  CronJob: "batch",
  Pod: "",
};

/** The API server shows at most 4 KiB of warnings from all sources and truncates long ones. */
export const WARNING_MAX_CHARS = 120;
export const WARNINGS_MAX = 20;
/** Findings spelled out in a denial message; the rest are counted. */
const DENIAL_DETAILS_MAX = 10;

// ---------------------------------------------------------------------------------------------
// The AdmissionReview contract (only what we read is checked; the rest passes through).

const groupVersionKind = z.object({ group: z.string(), version: z.string(), kind: z.string().min(1) });
const admissionRequest = z
  .object({
    uid: z.string().min(1),
    kind: groupVersionKind,
    subResource: z.string().optional(),
    name: z.string().optional(),
    namespace: z.string().optional(),
    operation: z.enum(["CREATE", "UPDATE", "DELETE", "CONNECT"]),
    userInfo: z.object({ username: z.string().optional() }).passthrough().optional(),
    object: z.record(z.unknown()).nullable().optional(),
    dryRun: z.boolean().optional(),
  })
  .passthrough();
const admissionReview = z
  .object({
    apiVersion: z.literal("admission.k8s.io/v1", {
      errorMap: () => ({ message: "only admission.k8s.io/v1 is served (admissionReviewVersions: [v1])" }),
    }),
    kind: z.literal("AdmissionReview"),
    request: admissionRequest,
  })
  .passthrough();

export type AdmissionRequest = z.infer<typeof admissionRequest>;

export interface AdmissionResponseReview {
  apiVersion: "admission.k8s.io/v1";
  kind: "AdmissionReview";
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; reason: string; message: string };
    warnings?: string[];
  };
}

/** Any JSON body → a checked AdmissionReview, or an InvalidInputError naming each bad field. */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  const parsed = admissionReview.safeParse(body);
  if (!parsed.success) {
    throw new InvalidInputError("the body is not an admission.k8s.io/v1 AdmissionReview with a request", {
      details: parsed.error.issues.map((issue) => ({ where: `/${issue.path.join("/")}`, message: issue.message })),
    });
  }
  const request = parsed.data.request;
  if ((request.operation === "CREATE" || request.operation === "UPDATE") && !request.object) {
    throw new InvalidInputError(`an AdmissionReview for ${request.operation} must carry request.object`, {
      details: [{ where: "/request/object", message: "required for CREATE and UPDATE" }],
    });
  }
  return request;
}

// ---------------------------------------------------------------------------------------------
// Decisions, as the audit log and the metrics see them.

export interface AdmissionFinding {
  ruleId: string;
  severity: Severity;
  /** Dotted field path, e.g. spec.template.spec.containers[0].securityContext.privileged. */
  path: string;
  message: string;
}

export interface AdmissionDecision {
  uid: string;
  /** ISO time the review arrived. */
  at: string;
  namespace: string;
  /** Group/version/kind as the API server sent it, e.g. apps/v1 Deployment. */
  kind: string;
  name: string;
  operation: string;
  user: string;
  /** A dry run changes nothing: an audit store records it as evaluated, never as a change. */
  dryRun: boolean;
  decision: "allowed" | "warned" | "denied";
  /** Null when the object was not evaluated. */
  mode: AdmissionMode | null;
  modeSource: "label" | "config" | null;
  /** Why the object passed without evaluation (not a workload, excluded namespace, ...). */
  skipped?: string;
  violations: AdmissionFinding[];
  warnings: AdmissionFinding[];
  exempt: { ruleId: string; reason: string }[];
  /** Rules that could not be evaluated (unknown facts). */
  notEvaluated: string[];
  /** Facts that could not be read, and labels that were ignored. */
  notes: ErrorDetail[];
  durationMs: number;
}

export interface AdmissionCounts {
  allowed: number;
  denied: number;
  warned: number;
  /** Reviews answered with an error (malformed, evaluation failure). */
  errors: number;
  /** Of allowed/denied/warned, how many were dry runs. */
  dryRun: number;
}

export interface AdmissionMetricsSnapshot {
  total: AdmissionCounts;
  namespaces: Record<string, AdmissionCounts>;
  /** How long POST /admission/validate took, from the request's arrival to the response handed to the socket. */
  duration?: DurationHistogram;
  /** The serving certificate of each running webhook server (by port), as served now. */
  certificates?: { port: number; subject: string; notAfterSeconds: number }[];
}

export interface DurationHistogram {
  /** Cumulative counts: requests that took at most `le` seconds. */
  buckets: { le: number; count: number }[];
  sumSeconds: number;
  count: number;
}

/** Seconds; the API server's own webhook timeout is at most 30 s and ours is 5 s (config/deploy). */
export const ADMISSION_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const UNKNOWN_NAMESPACE = "(unknown)";

export class AdmissionMetrics {
  private readonly byNamespace = new Map<string, AdmissionCounts>();
  private readonly durationCounts = ADMISSION_DURATION_BUCKETS.map(() => 0);
  private durationSum = 0;
  private durationCount = 0;
  private readonly certificates = new Map<number, CertificateInfo>();

  /** The certificate a webhook server on `port` serves now; undefined when it stopped. */
  setCertificate(port: number, info: CertificateInfo | undefined): void {
    if (info) this.certificates.set(port, info);
    else this.certificates.delete(port);
  }

  /** One answered POST /admission/validate, in seconds. */
  observe(seconds: number): void {
    this.durationSum += seconds;
    this.durationCount++;
    const bucket = ADMISSION_DURATION_BUCKETS.findIndex((le) => seconds <= le);
    if (bucket >= 0) this.durationCounts[bucket]!++;
  }

  record(namespace: string | undefined, outcome: "allowed" | "denied" | "warned" | "errors", dryRun = false): void {
    const key = namespace || UNKNOWN_NAMESPACE;
    let counts = this.byNamespace.get(key);
    if (!counts) this.byNamespace.set(key, (counts = { allowed: 0, denied: 0, warned: 0, errors: 0, dryRun: 0 }));
    counts[outcome]++;
    if (dryRun) counts.dryRun++;
  }

  snapshot(): AdmissionMetricsSnapshot {
    const total: AdmissionCounts = { allowed: 0, denied: 0, warned: 0, errors: 0, dryRun: 0 };
    const namespaces: Record<string, AdmissionCounts> = {};
    for (const [namespace, counts] of [...this.byNamespace].sort(([a], [b]) => a.localeCompare(b))) {
      namespaces[namespace] = { ...counts };
      for (const key of Object.keys(total) as (keyof AdmissionCounts)[]) total[key] += counts[key];
    }
    let cumulative = 0;
    const buckets = ADMISSION_DURATION_BUCKETS.map((le, i) => ({ le, count: (cumulative += this.durationCounts[i]!) }));
    const certificates = [...this.certificates]
      .sort(([a], [b]) => a - b)
      .map(([port, info]) => ({ port, subject: info.subject, notAfterSeconds: Date.parse(info.notAfter) / 1000 }));
    return { total, namespaces, duration: { buckets, sumSeconds: this.durationSum, count: this.durationCount }, certificates };
  }
}

const processMetrics = new AdmissionMetrics();

/** The process's admission counters (every webhook server that was not given its own AdmissionMetrics). */
export function admissionMetrics(): AdmissionMetricsSnapshot {
  return processMetrics.snapshot();
}

// ---------------------------------------------------------------------------------------------
// Namespace facts: a review carries the object, not its NetworkPolicies, PDBs or Namespace.

export interface NamespaceFacts {
  context: Record<string, unknown>;
  warnings: ErrorDetail[];
}

/** What ClusterSource offers; manifest and demo sources do not, and their fact rules are not evaluated. */
export interface NamespaceFactsSource {
  contextFor(namespace: string): Promise<NamespaceFacts>;
}

function hasNamespaceFacts(source: unknown): source is NamespaceFactsSource {
  return typeof (source as Partial<NamespaceFactsSource> | null)?.contextFor === "function";
}

/** Managed fields and last-applied copies are most of a fact's bytes, and every evaluation serialises them. */
function slimFacts(facts: NamespaceFacts): NamespaceFacts {
  const slimOne = (item: unknown): unknown => {
    const metadata = (item as KubeObject | null)?.metadata;
    if (!metadata) return item;
    const { managedFields: _managed, ...rest } = metadata;
    if (rest.annotations && LAST_APPLIED in rest.annotations) {
      const { [LAST_APPLIED]: _last, ...annotations } = rest.annotations;
      rest.annotations = annotations;
    }
    return { ...(item as KubeObject), metadata: rest };
  };
  const context: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(facts.context)) context[key] = Array.isArray(value) ? value.map(slimOne) : slimOne(value);
  return { context, warnings: facts.warnings };
}

interface CachedFacts {
  startedAt: number;
  facts: Promise<NamespaceFacts>;
  refreshing: boolean;
}

/**
 * A namespace's facts reused for `ttlMs`, so a burst of reviews costs one round of lists instead of one
 * per review. Concurrent callers share one round; past half the TTL a busy namespace is refreshed in the
 * background, so its reviews never wait for the API server. Facts are at most ttlMs old (counted from
 * when their lists started).
 */
export class NamespaceFactsCache {
  private readonly entries = new Map<string, CachedFacts>();

  constructor(
    private readonly source: NamespaceFactsSource,
    readonly ttlMs = 5_000,
    readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * `notBefore` (a time of `now`) asks for a round of lists started no earlier, e.g. after a review
   * began: concurrent reviews that need fresh facts share one round. `startedAt` says when the lists
   * of the facts returned began.
   */
  async get(namespace: string, options: { notBefore?: number } = {}): Promise<NamespaceFacts & { startedAt: number }> {
    let entry = this.entries.get(namespace);
    const age = entry ? this.now() - entry.startedAt : Infinity;
    const tooOld = entry !== undefined && options.notBefore !== undefined && entry.startedAt < options.notBefore;
    if (!entry || tooOld || age >= this.ttlMs) {
      entry = this.load(namespace);
      this.remember(namespace, entry);
    } else if (age >= this.ttlMs / 2 && !entry.refreshing) {
      const current = entry;
      current.refreshing = true;
      const next = this.load(namespace);
      next.facts.then(
        () => this.remember(namespace, next),
        () => (current.refreshing = false),
      );
    }
    const mine = entry;
    try {
      return { ...(await mine.facts), startedAt: mine.startedAt };
    } catch (error) {
      if (this.entries.get(namespace) === mine) this.entries.delete(namespace);
      throw error;
    }
  }

  private load(namespace: string): CachedFacts {
    return { startedAt: this.now(), facts: this.source.contextFor(namespace).then(slimFacts), refreshing: false };
  }

  private remember(namespace: string, entry: CachedFacts): void {
    // Namespaces that stopped getting reviews are dropped once the map grows, so it stays small.
    if (this.entries.size >= 512) {
      for (const [key, old] of this.entries) if (this.now() - old.startedAt >= this.ttlMs) this.entries.delete(key);
    }
    this.entries.set(namespace, entry);
  }
}

// ---------------------------------------------------------------------------------------------
// The controller: one review in, one decision out.

export interface DecisionLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface AdmissionOptions {
  /**
   * Called with every decision (the audit store hooks in here). It must not throw; a rejection or
   * throw is logged and the review is answered anyway, so an audit outage cannot block deploys.
   */
  onDecision?: (decision: AdmissionDecision) => void | Promise<void>;
  /** Counters; default the process-wide ones that admissionMetrics() returns. */
  metrics?: AdmissionMetrics;
  logger?: DecisionLogger;
  /** How long a namespace's facts are reused, in ms; default 5 000. */
  factsTtlMs?: number;
}

type KubeObject = Record<string, unknown> & {
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
    deletionTimestamp?: string;
    managedFields?: unknown;
  };
};

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };
const bySeverity = (a: AdmissionFinding, b: AdmissionFinding) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.ruleId.localeCompare(b.ruleId);

function admissionFinding(finding: Finding): AdmissionFinding {
  return { ruleId: finding.ruleId, severity: finding.severity, path: finding.path, message: finding.message };
}

/** Printable ASCII only: warnings travel in HTTP headers, and kubectl prints them on a terminal. */
function clip(text: string, max: number): string {
  const plain = text.replace(/[^\x20-\x7e]/g, "?");
  return plain.length <= max ? plain : `${plain.slice(0, max - 3)}...`;
}

/** One short line per finding (worst first), and a last line counting what did not fit. */
export function formatWarnings(findings: AdmissionFinding[]): string[] {
  const sorted = [...findings].sort(bySeverity);
  const shown = sorted.length > WARNINGS_MAX ? sorted.slice(0, WARNINGS_MAX - 1) : sorted;
  const lines = shown.map((f) => clip(`${f.ruleId}: ${f.message}`, WARNING_MAX_CHARS));
  if (shown.length < sorted.length) lines.push(`kube-policy: ${sorted.length - shown.length} more findings (kube-policy eval -f <manifest> lists all)`);
  return lines;
}

/** The status message kubectl prints after "admission webhook ... denied the request:". */
export function formatDenial(object: string, violations: AdmissionFinding[]): string {
  const sorted = [...violations].sort(bySeverity);
  const details = sorted
    .slice(0, DENIAL_DETAILS_MAX)
    .map((f) => `[${f.ruleId}] ${f.path ? `${f.path}: ` : ""}${clip(f.message, 240)}`);
  const more = sorted.length > DENIAL_DETAILS_MAX ? `; and ${sorted.length - DENIAL_DETAILS_MAX} more` : "";
  const rules = [...new Set(sorted.map((f) => f.ruleId))];
  return `kube-policy: ${object} violates ${rules.length} rule${rules.length === 1 ? "" : "s"} under strict enforcement (${rules.join(", ")}): ${details.join("; ")}${more}`;
}

/** What rules never read and what only makes the input large. */
function slim(object: KubeObject, namespace: string, apiVersion: string, kind: string): KubeObject {
  const { managedFields: _managed, ...metadata } = object.metadata ?? {};
  let annotations = metadata.annotations;
  if (annotations && LAST_APPLIED in annotations) {
    annotations = { ...annotations };
    delete annotations[LAST_APPLIED];
  }
  const { status: _status, ...rest } = object;
  // A create through generateName has no name yet; messages still need one.
  const name = metadata.name || (metadata.generateName ? `${metadata.generateName}<generated>` : "");
  return { ...rest, apiVersion, kind, metadata: { ...metadata, name, namespace, ...(annotations ? { annotations } : {}) } };
}

export class AdmissionController {
  readonly metrics: AdmissionMetrics;
  readonly logger: DecisionLogger;
  private readonly facts: NamespaceFactsCache | null;
  /** The evaluator under a strict label when the configuration is advisory, per base evaluator (bundle swaps). */
  private readonly strictEvaluators = new WeakMap<PolicyEvaluator, PolicyEvaluator>();

  constructor(
    readonly runtime: Runtime,
    private readonly options: AdmissionOptions = {},
  ) {
    this.metrics = options.metrics ?? processMetrics;
    this.logger = options.logger ?? defaultLogger;
    this.facts = hasNamespaceFacts(runtime.source) ? new NamespaceFactsCache(runtime.source, options.factsTtlMs) : null;
  }

  /**
   * Answers one AdmissionReview body. Malformed bodies throw InvalidInputError (a 400). `receivedAt`
   * (performance.now() when the request arrived) makes the decision's duration count reading the body.
   */
  async review(body: unknown, options: { receivedAt?: number } = {}): Promise<{ review: AdmissionResponseReview; decision: AdmissionDecision }> {
    const started = options.receivedAt ?? performance.now();
    const at = new Date().toISOString();
    let request: AdmissionRequest;
    try {
      request = parseAdmissionReview(body);
    } catch (error) {
      const namespace = (body as { request?: { namespace?: unknown } } | null)?.request?.namespace;
      this.metrics.record(typeof namespace === "string" ? namespace : undefined, "errors");
      throw error;
    }
    const object = (request.object ?? {}) as KubeObject;
    const namespace = request.namespace || object.metadata?.namespace || "";
    const decision: AdmissionDecision = {
      uid: request.uid,
      at,
      namespace,
      kind: `${request.kind.group ? `${request.kind.group}/` : ""}${request.kind.version} ${request.kind.kind}`,
      name: request.name || object.metadata?.name || object.metadata?.generateName || "",
      operation: request.operation,
      user: request.userInfo?.username ?? "",
      dryRun: request.dryRun === true,
      decision: "allowed",
      mode: null,
      modeSource: null,
      violations: [],
      warnings: [],
      exempt: [],
      notEvaluated: [],
      notes: [],
      durationMs: 0,
    };
    // One evaluator (and its configuration) for the whole review, even if the rules are reloaded meanwhile.
    const base = this.runtime.evaluator;
    try {
      decision.skipped = this.skipReason(request, object, namespace, base.config);
      if (!decision.skipped) await this.evaluate(request, object, namespace, base, decision);
    } catch (error) {
      this.metrics.record(namespace, "errors", decision.dryRun);
      this.logger.error({ admission: { uid: decision.uid, namespace, kind: decision.kind, name: decision.name }, err: toAppError(error).message }, "admission review failed");
      throw error;
    }
    decision.decision = decision.violations.length > 0 ? "denied" : decision.warnings.length > 0 ? "warned" : "allowed";
    decision.durationMs = performance.now() - started;

    const response: AdmissionResponseReview["response"] = { uid: request.uid, allowed: decision.decision !== "denied" };
    if (decision.decision === "denied") {
      const what = `${request.kind.kind} ${namespace}/${decision.name}`;
      response.status = { code: 403, reason: "Forbidden", message: formatDenial(what, decision.violations) };
    }
    if (decision.warnings.length > 0) response.warnings = formatWarnings(decision.warnings);
    this.record(decision);
    return { review: { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response }, decision };
  }

  /** Why this request passes without evaluation, or undefined when it is evaluated. */
  private skipReason(request: AdmissionRequest, object: KubeObject, namespace: string, config: PolicyConfig): string | undefined {
    const { kind, group } = request.kind;
    if (request.operation !== "CREATE" && request.operation !== "UPDATE") return `${request.operation} is not evaluated`;
    if (request.subResource) return `subresource ${request.subResource} is not evaluated`;
    if (!(WORKLOAD_KINDS as readonly string[]).includes(kind) || WORKLOAD_GROUPS[kind as WorkloadKind] !== group) {
      return `${group ? `${group}/` : ""}${kind} is not a workload kind`;
    }
    // Refusing an update of an object on its way out (finalizers being removed) would wedge its deletion.
    if (object.metadata?.deletionTimestamp) return "the object is being deleted";
    // Pods of a ReplicaSet, ReplicaSets of a Deployment, Jobs of a CronJob were evaluated through their
    // controller (as scans do): judging them again would refuse the pods of an exempt Deployment.
    const owner = object.metadata?.ownerReferences?.find((o) => o.controller);
    if (owner) return `owned by ${owner.kind ?? "a controller"}${owner.name ? ` ${owner.name}` : ""}, which is evaluated instead`;
    if (namespaceExcluded(namespace, config)) return `namespace ${namespace} is excluded by the configuration (excludedNamespaces)`;
    // namespaces.allow/deny bound what this tool looks at; the webhook stays out of the rest too.
    if (!namespaceAllowed(namespace, config)) return `namespace ${namespace} is outside the configuration's namespaces.allow/deny`;
    return undefined;
  }

  private async evaluate(request: AdmissionRequest, raw: KubeObject, namespace: string, base: PolicyEvaluator, decision: AdmissionDecision): Promise<void> {
    const apiVersion = request.kind.group ? `${request.kind.group}/${request.kind.version}` : request.kind.version;
    const object = slim(raw, namespace, apiVersion, request.kind.kind);
    const reviewStarted = this.facts?.now() ?? 0;
    let facts = await this.factsOf(namespace, decision);
    const { mode, source } = this.modeOf(facts.context, base.config, decision);
    decision.mode = mode;
    decision.modeSource = source;
    const evaluator = this.evaluatorFor(base, mode, source);
    let result = evaluator.evaluate({ object, context: facts.context });
    // Cached facts may miss a NetworkPolicy or PDB created a moment ago (kubectl apply -f dir/): a
    // denial that hinges on facts is confirmed with lists begun after the review arrived. Rules that
    // read facts report "not evaluated" while the facts are unknown (known() in rego/lib), so a
    // violation found with no facts at all stands whatever fresh facts say, and costs no API request.
    if (!result.passed && mode === "strict" && facts.startedAt < reviewStarted && evaluator.evaluate({ object, context: {} }).passed) {
      facts = await this.factsOf(namespace, decision, reviewStarted);
      result = evaluator.evaluate({ object, context: facts.context });
    }
    for (const finding of result.findings) {
      if (finding.outcome === "violation") decision.violations.push(admissionFinding(finding));
      else if (finding.outcome === "warning") decision.warnings.push(admissionFinding(finding));
      else if (finding.outcome === "exempt") decision.exempt.push({ ruleId: finding.ruleId, reason: finding.reason ?? "" });
      else decision.notEvaluated.push(finding.ruleId);
    }
    if (mode === "advisory") {
      decision.warnings.unshift(...decision.violations);
      decision.violations = [];
    }
  }

  private async factsOf(namespace: string, decision: AdmissionDecision, notBefore?: number): Promise<NamespaceFacts & { startedAt: number }> {
    // Without a facts source there is nothing to refresh: Infinity never asks again.
    if (!this.facts) return { context: {}, warnings: [], startedAt: Infinity };
    try {
      const facts = await this.facts.get(namespace, { notBefore });
      decision.notes.push(...facts.warnings.filter((w) => !decision.notes.some((n) => n.where === w.where)));
      return facts;
    } catch (error) {
      // Without facts the rules that need them are "not evaluated"; the object's own rules still hold.
      // Failing the review here would turn an API server hiccup into a blocked deploy.
      const message = `cannot read the facts of namespace ${namespace}: ${toAppError(error).message}; rules that need them were not evaluated`;
      decision.notes.push({ where: "facts", message });
      this.logger.warn({ namespace, err: toAppError(error).message }, "admission: namespace facts unavailable");
      return { context: {}, warnings: [], startedAt: Infinity };
    }
  }

  private modeOf(context: Record<string, unknown>, config: PolicyConfig, decision: AdmissionDecision): { mode: AdmissionMode; source: "label" | "config" } {
    const labels = (context.namespace as KubeObject | undefined)?.metadata?.labels;
    const label = labels?.[ENFORCEMENT_LABEL];
    if (label === "strict" || label === "advisory") return { mode: label, source: "label" };
    if (label !== undefined) {
      decision.notes.push({ where: `namespace label ${ENFORCEMENT_LABEL}`, message: `value ${JSON.stringify(label)} ignored (strict or advisory)` });
    }
    return { mode: config.global?.enforcement === "advisory" ? "advisory" : "strict", source: "config" };
  }

  private evaluatorFor(base: PolicyEvaluator, mode: AdmissionMode, source: "label" | "config"): PolicyEvaluator {
    const config = base.config;
    // Only a strict label over an advisory configuration needs other outcomes than the configured ones;
    // a disabled global stays disabled (a label never turns on rules the configuration turned off).
    if (!(mode === "strict" && source === "label" && config.global?.enforcement === "advisory")) return base;
    let strict = this.strictEvaluators.get(base);
    if (!strict) {
      strict = new PolicyEvaluator(base.bundle, { ...config, global: { ...config.global, enforcement: "strict" } });
      this.strictEvaluators.set(base, strict);
    }
    return strict;
  }

  private record(decision: AdmissionDecision): void {
    this.metrics.record(decision.namespace, decision.decision, decision.dryRun);
    this.logger.info(
      {
        admission: {
          uid: decision.uid,
          namespace: decision.namespace,
          kind: decision.kind,
          name: decision.name,
          operation: decision.operation,
          user: decision.user,
          dryRun: decision.dryRun,
          decision: decision.decision,
          mode: decision.mode,
          skipped: decision.skipped,
          violations: decision.violations.map((v) => v.ruleId),
          warnings: decision.warnings.map((w) => w.ruleId),
          exempt: decision.exempt.map((e) => e.ruleId),
          ms: Math.round(decision.durationMs * 100) / 100,
        },
      },
      "admission decision",
    );
    if (!this.options.onDecision) return;
    const failed = (error: unknown) => this.logger.error({ uid: decision.uid, err: toAppError(error).message }, "admission: the decision hook failed");
    try {
      const pending = this.options.onDecision(decision);
      if (pending) pending.catch(failed);
    } catch (error) {
      failed(error);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP: the koa app and its HTTPS server.

async function readJson(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const text = await readBodyText(req, limit);
  if (!text.trim()) throw new InvalidInputError("the request body is empty: POST an admission.k8s.io/v1 AdmissionReview");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`the request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Client-certificate authentication of the admission port (the API server's certificate, see ADMISSION.md). */
export interface AdmissionClientAuth {
  /** PEM bundle of the CAs a client certificate must chain to. */
  ca: string;
  /** The file `ca` was read from: named in refusals and logs, and polled for rotation like the serving pair. */
  caFile?: string;
  /** When given, the client certificate's subject CN must be one of these. */
  allowedNames?: string[];
}

/** The CN(s) of a peer certificate's subject (Node gives an array when the subject has several). */
function commonNames(subject: Record<string, string | string[]> | undefined): string[] {
  const cn = subject?.CN;
  return cn === undefined ? [] : Array.isArray(cn) ? cn : [cn];
}

/**
 * Refuses any request but GET /healthz (the kubelet's probes carry no client certificate) that did
 * not come with a client certificate chaining to the configured CAs (401), or whose CN is not allowed
 * (403). The TLS handshake asks for the certificate without failing on its absence, so the client gets
 * a message saying what is missing instead of a bare handshake failure.
 */
function clientAuthMiddleware(auth: Omit<AdmissionClientAuth, "ca">, logger: DecisionLogger): Koa.Middleware {
  const caName = auth.caFile ?? "the configured client CA bundle";
  const lastLogged = new Map<string, number>();
  const refuse = (ctx: Koa.Context, error: Error, reason: string) => {
    // One log line per reason and client address a minute: a port scanner must not flood the log.
    const key = `${ctx.req.socket.remoteAddress}\u0000${reason}`;
    const now = Date.now();
    if ((lastLogged.get(key) ?? 0) + 60_000 <= now) {
      if (lastLogged.size > 1000) lastLogged.clear();
      lastLogged.set(key, now);
      logger.warn({ remote: ctx.req.socket.remoteAddress, method: ctx.method, path: ctx.path, reason }, "admission: request refused by client-certificate authentication");
    }
    throw error;
  };
  return async (ctx, next) => {
    if (ctx.method === "GET" && ctx.path === "/healthz") return next();
    const socket = ctx.req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    const presented = Boolean(peer && Object.keys(peer).length > 0);
    if (!socket.authorized) {
      const reason = presented
        ? `the client certificate (subject CN=${commonNames(peer.subject as never).join(",") || "(none)"}) is not signed by a CA in ${caName}: ${String(socket.authorizationError)}`
        : `no client certificate was presented; this admission webhook requires one signed by a CA in ${caName}`;
      refuse(ctx, new UnauthorizedError(reason), reason);
    }
    if (auth.allowedNames && auth.allowedNames.length > 0) {
      const names = commonNames(peer.subject as never);
      if (!names.some((name) => auth.allowedNames!.includes(name))) {
        const reason = `the client certificate's subject CN=${names.join(",") || "(none)"} is not allowed (allowed: ${auth.allowedNames.join(", ")})`;
        refuse(ctx, new ForbiddenError(reason), reason);
      }
    }
    await next();
  };
}

/**
 * POST /admission/validate, GET /admission/metrics (the counters as JSON) and GET /healthz. An
 * AdmissionReview holds an object and, on update, its old version: etcd keeps objects below 1.5 MiB.
 * With `clientAuth`, every route but /healthz needs an authorized client certificate (the server must
 * request one: startAdmissionServer does).
 */
export function createAdmissionApp(controller: AdmissionController, options: { bodyLimit?: number; clientAuth?: Omit<AdmissionClientAuth, "ca"> } = {}): Koa {
  const bodyLimit = options.bodyLimit ?? 8 * 1024 * 1024;
  const app = new Koa();
  const router = new Router();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const appError = toAppError(error);
      ctx.status = appError.status;
      ctx.body = { error: appError.toJSON() };
      if (appError.status >= 500) controller.logger.warn({ err: appError.message, path: ctx.path }, "admission request failed");
    }
  });
  if (options.clientAuth) app.use(clientAuthMiddleware(options.clientAuth, controller.logger));
  router.post(ADMISSION_PATH, async (ctx) => {
    const receivedAt = performance.now();
    // Every answer counts, refusals too: the API server waits for those as well.
    ctx.res.once("finish", () => controller.metrics.observe((performance.now() - receivedAt) / 1000));
    const body = await readJson(ctx.req, bodyLimit).catch((error: unknown) => {
      controller.metrics.record(undefined, "errors");
      throw error;
    });
    ctx.body = (await controller.review(body, { receivedAt })).review;
  });
  router.get("/admission/metrics", (ctx) => {
    ctx.body = controller.metrics.snapshot();
  });
  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok", version: VERSION, rules: controller.runtime.evaluator.enabledRules };
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use((ctx) => {
    if (ctx.status === 404 && !ctx.body) throw new NotFoundError(`no route for ${ctx.method} ${ctx.path} (the webhook serves POST ${ADMISSION_PATH})`);
  });
  return app;
}

export interface AdmissionServerOptions extends AdmissionOptions {
  /** Default 127.0.0.1; in a cluster the pod listens on 0.0.0.0 behind its Service. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  tls: TlsMaterial;
  /**
   * The files `tls` was read from (cert-manager, a mounted Secret): read again every
   * `reloadIntervalMs`, and a changed pair that passes checkTlsMaterial is served to new connections
   * without a restart. A bad or half-written pair is refused (logged) and the old one keeps serving.
   */
  tlsFiles?: { cert: string; key: string };
  /** Default 15 000 (DEFAULT_RELOAD_INTERVAL_MS); 0 turns the polling off (reloadCertificates() still works). */
  reloadIntervalMs?: number;
  /** Require a client certificate (the API server's) on every route but /healthz. */
  clientAuth?: AdmissionClientAuth;
  bodyLimit?: number;
}

export interface RunningAdmissionServer {
  /** https://host:port (POST `${url}/admission/validate`). */
  url: string;
  port: number;
  controller: AdmissionController;
  /** The serving certificate new connections get now. */
  certificate(): CertificateInfo;
  /** Looks at the certificate files now (what the interval does); "unchanged" without tlsFiles. */
  reloadCertificates(): Promise<ReloadOutcome>;
  close(): Promise<void>;
}

export async function startAdmissionServer(runtime: Runtime, options: AdmissionServerOptions): Promise<RunningAdmissionServer> {
  const host = options.host ?? "127.0.0.1";
  const controller = new AdmissionController(runtime, options);
  const clientAuth = options.clientAuth;
  if (clientAuth) parseCaBundle(clientAuth.ca, clientAuth.caFile ?? "the admission client CA bundle");
  const app = createAdmissionApp(controller, { bodyLimit: options.bodyLimit, clientAuth });
  // Without client authentication no certificate is asked for (as before); with it the handshake asks
  // for one and verifies it against the bundle, and the app refuses requests that lack an authorized one.
  const context = (tls: TlsMaterial, ca: string | undefined) => ({ cert: tls.cert, key: tls.key, minVersion: "TLSv1.2" as const, ...(ca ? { ca } : {}) });
  let served = { tls: options.tls, ca: clientAuth?.ca, info: certificateInfo(new X509Certificate(options.tls.cert)) };
  const server = https.createServer(
    { ...context(served.tls, served.ca), ...(clientAuth ? { requestCert: true, rejectUnauthorized: false } : {}) },
    app.callback(),
  );
  // The API server keeps webhook connections idle for up to 90 s and does not retry a POST that hits a
  // connection we just closed: with Node's default 5 s keep-alive such races fail reviews now and then.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  const listening = await listen(server, host, options.port, "https");
  controller.metrics.setCertificate(listening.port, served.info);

  const files: Record<string, string> = { ...(options.tlsFiles ?? {}), ...(clientAuth?.caFile ? { clientCa: clientAuth.caFile } : {}) };
  const reloader =
    Object.keys(files).length === 0
      ? undefined
      : new FileReloader(
          files,
          { ...(options.tlsFiles ? { cert: served.tls.cert, key: served.tls.key } : {}), ...(clientAuth?.caFile ? { clientCa: clientAuth.ca } : {}) },
          (contents) => {
            const tls = options.tlsFiles ? { cert: contents.cert!, key: contents.key! } : served.tls;
            const certificate = options.tlsFiles ? checkTlsMaterial(tls, options.tlsFiles) : undefined;
            const ca = contents.clientCa ?? served.ca;
            if (contents.clientCa !== undefined) parseCaBundle(contents.clientCa, clientAuth!.caFile!);
            server.setSecureContext(context(tls, ca));
            const previous = served;
            served = { tls, ca, info: certificate ? certificateInfo(certificate) : served.info };
            controller.metrics.setCertificate(listening.port, served.info);
            if (tls.cert !== previous.tls.cert || tls.key !== previous.tls.key) {
              controller.logger.info(
                { certificate: served.info, previous: { fingerprint256: previous.info.fingerprint256, notAfter: previous.info.notAfter }, files: options.tlsFiles },
                "admission: serving certificate reloaded",
              );
            }
            if (ca !== previous.ca) {
              const subjects = parseCaBundle(ca!, clientAuth!.caFile!).map((c) => c.subject.replace(/\n/g, ", "));
              controller.logger.info({ file: clientAuth!.caFile, cas: subjects }, "admission: client CA bundle reloaded");
            }
          },
          controller.logger,
          "admission TLS reload",
        ).start(options.reloadIntervalMs ?? DEFAULT_RELOAD_INTERVAL_MS);

  return {
    ...listening,
    controller,
    certificate: () => served.info,
    reloadCertificates: () => reloader?.check() ?? Promise.resolve("unchanged"),
    close: async () => {
      reloader?.close();
      controller.metrics.setCertificate(listening.port, undefined);
      await listening.close();
    },
  };
}
