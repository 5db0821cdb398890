// RFC 6902 JSON Patch and RFC 6901 JSON Pointer, small and strict: the remediation code applies the rules'
// fixes offline (golden tests, merging, previews) with exactly the semantics the API server uses, and
// diffs two objects into the one patch it sends. A `mergeObjects` mode changes one thing on purpose:
// an `add` of an object onto an existing object merges into it (see applyPatch).
import { AppError } from "../errors.js";
import type { JsonPatchOp } from "../policy/types.js";

export class JsonPatchError extends AppError {
  static override code = "invalid_patch";
  static override status = 422;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type Container = JsonValue[] | { [key: string]: JsonValue };

const OPS = new Set(["add", "remove", "replace", "move", "copy", "test"]);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 6901: "/a~1b/0" → ["a/b", "0"]; "" is the whole document. */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new JsonPatchError(`JSON Pointer ${JSON.stringify(pointer)} must be empty or start with "/"`);
  return pointer
    .slice(1)
    .split("/")
    .map((token) => {
      if (/~[^01]|~$/.test(token)) throw new JsonPatchError(`JSON Pointer ${JSON.stringify(pointer)} has an invalid escape in ${JSON.stringify(token)}`);
      return token.replace(/~1/g, "/").replace(/~0/g, "~");
    });
}

export function formatPointer(tokens: readonly (string | number)[]): string {
  return tokens.map((t) => `/${String(t).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** The value at a pointer, or found: false. */
export function valueAt(doc: unknown, pointer: string): { found: boolean; value?: unknown } {
  let current: unknown = doc;
  for (const token of parsePointer(pointer)) {
    if (Array.isArray(current)) {
      const index = arrayIndex(token, current.length - 1);
      if (index === null) return { found: false };
      current = current[index];
    } else if (isPlainObject(current) && Object.hasOwn(current, token)) {
      current = current[token];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: current };
}

/** A decimal array index without leading zeros, at most `max`; null otherwise. */
function arrayIndex(token: string, max: number): number | null {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return null;
  const index = Number(token);
  return index <= max ? index : null;
}

export interface ApplyOptions {
  /**
   * Each rule computes its fix against the object as it was read, so two rules may both `add` a missing
   * parent (…/securityContext with {allowPrivilegeEscalation} and with {readOnlyRootFilesystem}); plain
   * RFC 6902 would let the second replace the first. With mergeObjects an `add` of an object onto an
   * existing object merges recursively (arrays: the new elements not already present are appended).
   */
  mergeObjects?: boolean;
}

/** Applies a patch to a copy of doc; throws JsonPatchError naming the operation and path that failed. */
export function applyPatch<T>(doc: T, patch: readonly JsonPatchOp[], options: ApplyOptions = {}): T {
  if (!Array.isArray(patch)) throw new JsonPatchError("a JSON Patch must be an array of operations");
  let root = clone(doc) as unknown as JsonValue;
  patch.forEach((op, i) => {
    try {
      root = applyOp(root, op, options);
    } catch (error) {
      if (error instanceof JsonPatchError) {
        const where = `operation ${i} (${String((op as { op?: unknown }).op)} ${String((op as { path?: unknown }).path)})`;
        throw new JsonPatchError(`${where}: ${error.message}`, { details: [{ where, message: error.message }] });
      }
      throw error;
    }
  });
  return root as unknown as T;
}

function checkOp(op: JsonPatchOp): void {
  if (!isPlainObject(op) || typeof op.op !== "string" || !OPS.has(op.op)) throw new JsonPatchError(`unknown operation ${JSON.stringify((op as { op?: unknown })?.op)}`);
  if (typeof op.path !== "string") throw new JsonPatchError(`"path" must be a string`);
  if ((op.op === "add" || op.op === "replace" || op.op === "test") && !("value" in op)) throw new JsonPatchError(`"${op.op}" needs a "value"`);
  if ((op.op === "move" || op.op === "copy") && typeof op.from !== "string") throw new JsonPatchError(`"${op.op}" needs a "from" pointer`);
}

function applyOp(root: JsonValue, op: JsonPatchOp, options: ApplyOptions): JsonValue {
  checkOp(op);
  switch (op.op) {
    case "add":
      return add(root, parsePointer(op.path), clone(op.value) as JsonValue, options);
    case "remove":
      return remove(root, parsePointer(op.path)).root;
    case "replace": {
      const tokens = parsePointer(op.path);
      if (tokens.length === 0) return clone(op.value) as JsonValue;
      const { parent, key } = locate(root, tokens);
      if (Array.isArray(parent)) {
        const index = arrayIndex(key, parent.length - 1);
        if (index === null) throw new JsonPatchError(`index ${JSON.stringify(key)} is out of range`);
        parent[index] = clone(op.value) as JsonValue;
      } else {
        if (!Object.hasOwn(parent, key)) throw new JsonPatchError(`nothing to replace: ${JSON.stringify(key)} does not exist`);
        parent[key] = clone(op.value) as JsonValue;
      }
      return root;
    }
    case "move": {
      const from = parsePointer(op.from!);
      const to = parsePointer(op.path);
      if (to.length > from.length && from.every((t, i) => t === to[i])) throw new JsonPatchError(`cannot move a value into one of its own children`);
      const removed = remove(root, from);
      return add(removed.root, to, removed.value, {});
    }
    case "copy": {
      const found = valueAt(root, op.from!);
      if (!found.found) throw new JsonPatchError(`"from" ${op.from} does not exist`);
      return add(root, parsePointer(op.path), clone(found.value) as JsonValue, {});
    }
    case "test": {
      const found = valueAt(root, op.path);
      if (!found.found || !deepEqual(found.value, op.value)) {
        throw new JsonPatchError(`test failed: the value is ${found.found ? JSON.stringify(found.value) : "absent"}, not ${JSON.stringify(op.value)}`);
      }
      return root;
    }
  }
}

/** The container holding the last token; every parent must exist (RFC 6902 never creates parents). */
function locate(root: JsonValue, tokens: string[]): { parent: Container; key: string } {
  let current: JsonValue = root;
  for (const [i, token] of tokens.slice(0, -1).entries()) {
    let next: JsonValue | undefined;
    if (Array.isArray(current)) {
      const index = arrayIndex(token, current.length - 1);
      next = index === null ? undefined : current[index];
    } else if (isPlainObject(current)) {
      next = Object.hasOwn(current, token) ? current[token] : undefined;
    }
    if (next === undefined || next === null || typeof next !== "object") {
      throw new JsonPatchError(`the parent ${formatPointer(tokens.slice(0, i + 1))} does not exist or is not an object or array`);
    }
    current = next;
  }
  if (current === null || typeof current !== "object") throw new JsonPatchError(`the parent is not an object or array`);
  return { parent: current, key: tokens[tokens.length - 1]! };
}

function add(root: JsonValue, tokens: string[], value: JsonValue, options: ApplyOptions): JsonValue {
  if (tokens.length === 0) return options.mergeObjects ? mergeInto(root, value) : value;
  const { parent, key } = locate(root, tokens);
  if (Array.isArray(parent)) {
    if (key === "-") {
      parent.push(value);
      return root;
    }
    const index = arrayIndex(key, parent.length);
    if (index === null) throw new JsonPatchError(`index ${JSON.stringify(key)} is out of range (the array has ${parent.length} elements)`);
    parent.splice(index, 0, value);
  } else {
    parent[key] = options.mergeObjects && Object.hasOwn(parent, key) ? mergeInto(parent[key]!, value) : value;
  }
  return root;
}

/** Recursive merge for `add` onto an existing value: objects merge key by key, arrays gain missing elements, scalars are replaced. */
function mergeInto(existing: JsonValue, value: JsonValue): JsonValue {
  if (isPlainObject(existing) && isPlainObject(value)) {
    const merged: { [key: string]: JsonValue } = { ...existing };
    for (const [k, v] of Object.entries(value)) merged[k] = Object.hasOwn(merged, k) ? mergeInto(merged[k]!, v) : v;
    return merged;
  }
  if (Array.isArray(existing) && Array.isArray(value)) {
    return [...existing, ...value.filter((v) => !existing.some((e) => deepEqual(e, v)))];
  }
  return value;
}

function remove(root: JsonValue, tokens: string[]): { root: JsonValue; value: JsonValue } {
  if (tokens.length === 0) throw new JsonPatchError(`cannot remove the whole document`);
  const { parent, key } = locate(root, tokens);
  if (Array.isArray(parent)) {
    const index = arrayIndex(key, parent.length - 1);
    if (index === null) throw new JsonPatchError(`index ${JSON.stringify(key)} is out of range`);
    const [value] = parent.splice(index, 1);
    return { root, value: value! };
  }
  if (!Object.hasOwn(parent, key)) throw new JsonPatchError(`nothing to remove: ${JSON.stringify(key)} does not exist`);
  const value = parent[key]!;
  delete parent[key];
  return { root, value };
}

/**
 * The patch that turns `from` into `to`: objects key by key, arrays index by index (then appends or
 * trailing removals, highest index first), anything else replaced. Not minimal for reordered arrays,
 * always correct, and every path it names exists in `from`, so it also applies to a fuller copy of
 * the object (the one with status and managed fields the API server holds).
 */
export function diffPatch(from: unknown, to: unknown, base: (string | number)[] = []): JsonPatchOp[] {
  if (deepEqual(from, to)) return [];
  if (isPlainObject(from) && isPlainObject(to)) {
    const ops: JsonPatchOp[] = [];
    for (const key of Object.keys(from)) {
      if (!Object.hasOwn(to, key)) ops.push({ op: "remove", path: formatPointer([...base, key]) });
    }
    for (const [key, value] of Object.entries(to)) {
      if (!Object.hasOwn(from, key)) ops.push({ op: "add", path: formatPointer([...base, key]), value: clone(value) });
      else ops.push(...diffPatch(from[key], value, [...base, key]));
    }
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const ops: JsonPatchOp[] = [];
    const common = Math.min(from.length, to.length);
    for (let i = 0; i < common; i++) ops.push(...diffPatch(from[i], to[i], [...base, i]));
    for (let i = common; i < to.length; i++) ops.push({ op: "add", path: formatPointer([...base, "-"]), value: clone(to[i]) });
    for (let i = from.length - 1; i >= common; i--) ops.push({ op: "remove", path: formatPointer([...base, i]) });
    return ops;
  }
  return [{ op: "replace", path: formatPointer(base), value: clone(to) }];
}
