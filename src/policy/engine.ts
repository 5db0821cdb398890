// Evaluates Kubernetes objects against a compiled policy bundle, in process, with OPA's WebAssembly SDK.
// One call per object runs every rule (the bundle's single entrypoint collects them all).
import { createRequire } from "node:module";
import { PolicyBundleError } from "../errors.js";
import type { PolicyBundle } from "./bundle.js";
import { HOST_BUILTINS, SDK_BUILTINS } from "./builtins.js";
import type { CatalogueEntry, JsonPatchOp } from "./types.js";
import { ENTRYPOINT, REGEX_ENTRYPOINT } from "./entrypoint.js";

const require = createRequire(import.meta.url);
const { LoadedPolicy: SdkLoadedPolicy } = require("@open-policy-agent/opa-wasm") as {
  LoadedPolicy: new (instance: WebAssembly.Instance, memory: WebAssembly.Memory, minorVersion: number) => LoadedPolicy;
};

interface LoadedPolicy {
  mem: WebAssembly.Memory;
  wasmInstance: WebAssembly.Instance;
  dataAddr: number;
  dataHeapPtr: number;
  minorVersion: number;
  entrypoints: Record<string, number>;
  evaluate(input: unknown, entrypoint?: number | string): { result: unknown }[];
  setData(data: unknown): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PAGE = 64 * 1024;

/**
 * The SDK's ABI 1.2 fast path, with the input encoded straight into wasm memory and the result read
 * with a native scan for its terminating NUL: the SDK's byte-by-byte JavaScript loop over the output
 * was the largest single cost of an evaluation. Same exports, same heap discipline as the SDK.
 */
function evaluateFast(policy: LoadedPolicy, input: unknown, entrypoint = 0): { result: unknown }[] {
  const exports = policy.wasmInstance.exports as Record<string, (...args: number[]) => number>;
  const json = JSON.stringify(input);
  const inputAddr = policy.dataHeapPtr;
  const worstCase = json.length * 3;
  const shortfall = inputAddr + worstCase - policy.mem.buffer.byteLength;
  if (shortfall > 0) policy.mem.grow(Math.ceil(shortfall / PAGE));
  const { written } = encoder.encodeInto(json, new Uint8Array(policy.mem.buffer, inputAddr, worstCase));
  const resultAddr = exports.opa_eval!(0, entrypoint, policy.dataAddr, inputAddr, written, inputAddr + written, 0);
  const bytes = new Uint8Array(policy.mem.buffer);
  const end = bytes.indexOf(0, resultAddr);
  return JSON.parse(decoder.decode(bytes.subarray(resultAddr, end))) as { result: unknown }[];
}

type Exports = Record<string, (...args: number[]) => number>;

function readCString(memory: WebAssembly.Memory, address: number): string {
  const bytes = new Uint8Array(memory.buffer);
  return decoder.decode(bytes.subarray(address, bytes.indexOf(0, address)));
}

/**
 * Instantiates the module with our own host imports, then hands it to the SDK's LoadedPolicy (data
 * loading, entrypoints). Our builtin dispatch reads values with a native NUL scan instead of the
 * SDK's per-byte loop, and uses the host builtins (Go-compatible sprintf) before the SDK's own.
 */
function instantiate(module: WebAssembly.Module): LoadedPolicy {
  const memory = new WebAssembly.Memory({ initial: 32 });
  let exports: Exports = {};
  let names: Record<number, string> = {};
  const dump = (address: number): unknown => JSON.parse(readCString(memory, exports.opa_json_dump!(address)));
  const load = (value: unknown): number => {
    const bytes = encoder.encode(JSON.stringify(value) ?? "null");
    const address = exports.opa_malloc!(bytes.length);
    new Uint8Array(memory.buffer).set(bytes, address);
    const parsed = exports.opa_json_parse!(address, bytes.length);
    if (parsed === 0) throw new PolicyBundleError(`builtin returned a value that is not JSON`);
    return parsed;
  };
  const call = (id: number, addresses: number[]): number => {
    const name = names[id] ?? `#${id}`;
    const impl = (HOST_BUILTINS[name] ?? SDK_BUILTINS[name]) as ((...args: unknown[]) => unknown) | undefined;
    if (!impl) throw new PolicyBundleError(`builtin ${name} is not implemented by this host`);
    return load(impl(...addresses.map(dump)));
  };
  const env = {
    memory,
    opa_abort: (address: number) => {
      throw new PolicyBundleError(`policy aborted: ${readCString(memory, address)}`);
    },
    opa_println: () => {},
    opa_builtin0: (id: number) => call(id, []),
    opa_builtin1: (id: number, _ctx: number, a: number) => call(id, [a]),
    opa_builtin2: (id: number, _ctx: number, a: number, b: number) => call(id, [a, b]),
    opa_builtin3: (id: number, _ctx: number, a: number, b: number, c: number) => call(id, [a, b, c]),
    opa_builtin4: (id: number, _ctx: number, a: number, b: number, c: number, d: number) => call(id, [a, b, c, d]),
  };
  const instance = new WebAssembly.Instance(module, { env });
  exports = instance.exports as Exports;
  names = Object.fromEntries(Object.entries(dump(exports.builtins!()) as Record<string, number>).map(([n, i]) => [i, n]));
  const minor = (instance.exports.opa_wasm_abi_minor_version as WebAssembly.Global | undefined)?.value as number | undefined;
  return new SdkLoadedPolicy(instance, memory, minor ?? 0);
}

export interface PolicyInput {
  object: Record<string, unknown>;
  context: Record<string, unknown>;
}

/** What one rule said about one object. */
export interface RuleResult {
  rule: CatalogueEntry;
  violations: { msg: string; path: string; fix: JsonPatchOp[] | null }[];
  notEvaluated: { msg: string }[];
}

export interface EngineOptions {
  /** data.config for the rules: the organisation's tunables (see rego/lib/config.rego). */
  settings?: Record<string, unknown>;
  /**
   * Memory (bytes) past which the wasm instance is replaced by a fresh one. The SDK's fast path
   * lets the wasm heap grow across evaluations (npm-opa-wasm issue 143); a fresh instance from the
   * already compiled module costs well under a millisecond, so this keeps memory bounded.
   */
  maxMemoryBytes?: number;
}

/** "<group>.<rule>" → what the rule said; rules that said nothing are absent. */
type RawOutput = Record<string, { violation: unknown[]; not_evaluated: unknown[] }>;

export class PolicyEngine {
  private policy: LoadedPolicy;
  private readonly settings: Record<string, unknown>;
  private readonly maxMemoryBytes: number;
  /** How many times the instance was recycled (exposed for tests and metrics). */
  recycled = 0;
  evaluations = 0;

  constructor(
    readonly bundle: PolicyBundle,
    options: EngineOptions = {},
  ) {
    this.settings = options.settings ?? {};
    this.maxMemoryBytes = options.maxMemoryBytes ?? 64 * 1024 * 1024;
    this.policy = this.instantiate();
  }

  private instantiate(): LoadedPolicy {
    const policy = instantiate(this.bundle.module);
    if (policy.minorVersion < 2 || !(ENTRYPOINT in policy.entrypoints)) {
      throw new PolicyBundleError(`policy.wasm lacks the ${ENTRYPOINT} entrypoint or the OPA wasm ABI 1.2 fast path`);
    }
    policy.setData({ config: this.settings });
    return policy;
  }

  /** Bytes of wasm linear memory in use by the current instance. */
  get memoryBytes(): number {
    return this.policy.mem.buffer.byteLength;
  }

  /** True when OPA's regex engine (RE2) accepts the pattern; undefined for bundles built without that entrypoint. */
  regexValid(pattern: string): boolean | undefined {
    const id = this.policy.entrypoints[REGEX_ENTRYPOINT];
    if (id === undefined) return undefined;
    const raw = evaluateFast(this.policy, { pattern }, id);
    return raw[0]?.result === true;
  }

  /** Runs every rule of the bundle on one object; returns the rules that said something (violations or not evaluated). */
  evaluate(input: PolicyInput): RuleResult[] {
    if (this.policy.mem.buffer.byteLength > this.maxMemoryBytes) {
      this.policy = this.instantiate();
      this.recycled++;
    }
    let raw: { result: unknown }[];
    try {
      raw = evaluateFast(this.policy, input, this.policy.entrypoints[ENTRYPOINT]);
    } catch (error) {
      // A wasm trap leaves the instance in an unknown state: start afresh before reporting.
      this.policy = this.instantiate();
      this.recycled++;
      const message = error instanceof Error ? error.message : JSON.stringify(error);
      throw new PolicyBundleError(`policy evaluation failed for ${describe(input.object)}: ${message}`, {
        cause: error,
      });
    }
    this.evaluations++;
    const output = (raw[0]?.result ?? {}) as RawOutput;
    const results: RuleResult[] = [];
    for (const [key, result] of Object.entries(output)) {
      const pkg = `kubepolicy.${key}`;
      const rule = this.bundle.byPackage.get(pkg);
      if (!rule) throw new PolicyBundleError(`rule package ${pkg} has no catalogue entry (missing METADATA custom.id?)`);
      results.push({
        rule,
        violations: result.violation.map((v) => normaliseViolation(v, rule)),
        notEvaluated: result.not_evaluated.map((n) => ({
          msg: typeof n === "string" ? n : String((n as { msg?: unknown }).msg ?? JSON.stringify(n)),
        })),
      });
    }
    return results;
  }
}

function normaliseViolation(value: unknown, rule: CatalogueEntry): RuleResult["violations"][number] {
  const v = (typeof value === "object" && value !== null ? value : { msg: String(value) }) as {
    msg?: unknown;
    path?: unknown;
    fix?: unknown;
  };
  return {
    msg: typeof v.msg === "string" ? v.msg : `${rule.title}`,
    path: typeof v.path === "string" ? v.path : "",
    fix: Array.isArray(v.fix) && v.fix.length > 0 ? (v.fix as JsonPatchOp[]) : null,
  };
}

function describe(object: Record<string, unknown>): string {
  const metadata = (object.metadata ?? {}) as { name?: string; namespace?: string };
  return `${String(object.kind ?? "object")} ${metadata.namespace ? `${metadata.namespace}/` : ""}${metadata.name ?? "(unnamed)"}`;
}
