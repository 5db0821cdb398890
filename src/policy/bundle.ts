// A compiled policy bundle: the WebAssembly module and its catalogue, loaded once, instantiated per engine.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { PolicyBundleError } from "../errors.js";
import { WASM_DIR } from "../paths.js";
import type { CatalogueEntry } from "./types.js";
import { HOST_BUILTINS, SDK_BUILTINS } from "./builtins.js";


export class PolicyBundle {
  readonly byPackage: Map<string, CatalogueEntry>;
  readonly byId: Map<string, CatalogueEntry>;

  constructor(
    readonly module: WebAssembly.Module,
    readonly catalogue: CatalogueEntry[],
    /** A short content hash naming this bundle (for scans and caches). */
    readonly hash: string,
  ) {
    this.byPackage = new Map(catalogue.map((e) => [e.package, e]));
    this.byId = new Map(catalogue.map((e) => [e.id, e]));
    const missing = requiredBuiltins(module).filter((name) => !(name in SDK_BUILTINS) && !(name in HOST_BUILTINS));
    if (missing.length > 0) {
      throw new PolicyBundleError(
        `the policy bundle calls builtins that neither OPA's WebAssembly runtime nor this host implements: ${missing.join(", ")}`,
      );
    }
  }

  /** Loads policy.wasm and catalogue.json from a directory (the committed wasm/ by default). */
  static async load(dir: string = WASM_DIR): Promise<PolicyBundle> {
    let wasm: Buffer;
    let catalogue: CatalogueEntry[];
    try {
      wasm = await readFile(path.join(dir, "policy.wasm"));
      catalogue = JSON.parse(await readFile(path.join(dir, "catalogue.json"), "utf8")) as CatalogueEntry[];
    } catch (error) {
      throw new PolicyBundleError(
        `cannot read the policy bundle in ${dir}: ${(error as Error).message} (build it with 'npm run policy:build')`,
        { cause: error },
      );
    }
    return PolicyBundle.fromParts(wasm, catalogue);
  }

  static async fromParts(wasm: Uint8Array, catalogue: CatalogueEntry[]): Promise<PolicyBundle> {
    const { createHash } = await import("node:crypto");
    const hash = createHash("sha256").update(wasm).update(JSON.stringify(catalogue)).digest("hex").slice(0, 16);
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(wasm);
    } catch (error) {
      throw new PolicyBundleError(`policy.wasm is not a valid WebAssembly module: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new PolicyBundle(module, catalogue, hash);
  }
}

/**
 * Names of the builtins the module dispatches to the host (opa_builtinN imports), read from its
 * `builtins()` export, so a missing one fails at load time instead of in the middle of a scan.
 */
function requiredBuiltins(module: WebAssembly.Module): string[] {
  const memory = new WebAssembly.Memory({ initial: 5 });
  const fail = () => {
    throw new Error("not callable during inspection");
  };
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      opa_abort: fail,
      opa_println: () => {},
      opa_builtin0: fail,
      opa_builtin1: fail,
      opa_builtin2: fail,
      opa_builtin3: fail,
      opa_builtin4: fail,
    },
  });
  const exports = instance.exports as Record<string, (...args: number[]) => number>;
  const address = exports.opa_json_dump!(exports.builtins!());
  const bytes = new Uint8Array(memory.buffer);
  let end = address;
  while (bytes[end] !== 0) end++;
  const builtins = JSON.parse(new TextDecoder().decode(bytes.subarray(address, end))) as Record<string, number>;
  return Object.keys(builtins);
}
