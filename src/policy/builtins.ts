// Host implementations of Rego builtins that OPA's WebAssembly runtime delegates to JavaScript.
// sprintf matters most: the SDK's own (sprintf-js) rejects Go verbs Rego authors use (%q) and
// formats %v differently from `opa test`, so messages would differ between tests and production.

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
/** The SDK's own JavaScript builtins (yaml, json, regex helpers), not exported by its package map. */
export const SDK_BUILTINS = createRequire(require.resolve("@open-policy-agent/opa-wasm"))("./builtins/index.js") as Record<
  string,
  unknown
>;

/** Formats a value the way OPA prints terms: strings bare at top level, composites as Rego literals. */
function term(value: unknown, nested: boolean): string {
  if (typeof value === "string") return nested ? JSON.stringify(value) : value;
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return `[${value.map((v) => term(v, true)).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${JSON.stringify(k)}: ${term(v, true)}`)
      .join(", ")}}`;
  }
  return String(value);
}

type Piece = string | { whole: string; flags: string; width?: string; precision?: string; verb: string };
const parsedFormats = new Map<string, Piece[]>();

/** A format string split into literal text and verbs, parsed once: rules reuse a few dozen formats. */
function pieces(format: string): Piece[] {
  let cached = parsedFormats.get(format);
  if (cached) return cached;
  cached = [];
  const verb = /%([-+ 0#]*)(\d+)?(?:\.(\d+))?([svqdfxXtTe%])/g;
  let last = 0;
  for (let m = verb.exec(format); m; m = verb.exec(format)) {
    if (m.index > last) cached.push(format.slice(last, m.index));
    if (m[4] === "%") cached.push("%");
    else cached.push({ whole: m[0], flags: m[1] ?? "", width: m[2], precision: m[3], verb: m[4]! });
    last = m.index + m[0].length;
  }
  if (last < format.length) cached.push(format.slice(last));
  if (parsedFormats.size < 1000) parsedFormats.set(format, cached);
  return cached;
}

/** Go fmt semantics for the verbs Rego policies use: %s %v %q %d %f %x %t %% (with width/precision). */
export function goSprintf(format: string, args: unknown[]): string {
  let index = 0;
  let out = "";
  for (const piece of pieces(format)) {
    out += typeof piece === "string" ? piece : formatVerb(piece, args, index++);
  }
  return out;
}

function formatVerb(piece: Exclude<Piece, string>, args: unknown[], index: number): string {
  {
    const { whole, flags, width, precision, verb } = piece;
    if (verb === "%") return "%";
    if (index >= args.length) return `%!${verb}(MISSING)`;
    const arg = args[index];
    let out: string;
    switch (verb) {
      case "s":
      case "v":
        out = term(arg, false);
        break;
      case "q":
        out = JSON.stringify(typeof arg === "string" ? arg : term(arg, false));
        break;
      case "d":
        out = typeof arg === "number" ? Math.trunc(arg).toString() : `%!d(${term(arg, false)})`;
        break;
      case "f":
      case "e":
        out =
          typeof arg === "number"
            ? verb === "f"
              ? arg.toFixed(precision === undefined ? 6 : Number(precision))
              : arg.toExponential(precision === undefined ? 6 : Number(precision))
            : `%!${verb}(${term(arg, false)})`;
        break;
      case "x":
      case "X": {
        const hex =
          typeof arg === "number" ? Math.trunc(arg).toString(16) : Buffer.from(term(arg, false), "utf8").toString("hex");
        out = verb === "X" ? hex.toUpperCase() : hex;
        break;
      }
      case "t":
        out = typeof arg === "boolean" ? String(arg) : `%!t(${term(arg, false)})`;
        break;
      case "T":
        out = Array.isArray(arg) ? "array" : arg === null ? "null" : typeof arg;
        break;
      default:
        out = whole;
    }
    if (width !== undefined && out.length < Number(width)) {
      const pad = (flags.includes("0") && !flags.includes("-") ? "0" : " ").repeat(Number(width) - out.length);
      out = flags.includes("-") ? out + pad : pad + out;
    }
    return out;
  }
}

export const HOST_BUILTINS: Record<string, (...args: never[]) => unknown> = {
  sprintf: (format: string, args: unknown[]) => goSprintf(format, args),
};
