// Field paths of custom rule conditions: `spec.template.spec.containers[*].image`,
// `metadata.labels["app.kubernetes.io/name"]`, `metadata.labels.pci-scope`, `containers[0].name`.
// The first segment may name a root: `context.` (raw context facts) or `facts.` (derived facts, see
// rego/lib/facts.rego); anything else is a field of the object itself.

export type Segment = { kind: "key"; key: string } | { kind: "index"; index: number } | { kind: "all" };

export interface FieldPath {
  root: "object" | "context" | "facts";
  segments: Segment[];
}

export class FieldPathError extends Error {}

export function parseFieldPath(text: string): FieldPath {
  const segments: Segment[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new FieldPathError(`field path ${JSON.stringify(text)}: ${why} at character ${i + 1}`);
  };
  if (!text.trim()) fail("is empty");
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === "[") {
      const close = text.indexOf("]", i);
      if (close < 0) fail("unclosed [");
      const inner = text.slice(i + 1, close).trim();
      if (inner === "*") segments.push({ kind: "all" });
      else if (/^\d+$/.test(inner)) segments.push({ kind: "index", index: Number(inner) });
      else if (/^"(?:[^"\\]|\\.)*"$/.test(inner) || /^'[^']*'$/.test(inner)) {
        segments.push({ kind: "key", key: inner.startsWith('"') ? (JSON.parse(inner) as string) : inner.slice(1, -1) });
      } else fail(`[${inner}] must be [*], an index or a quoted key`);
      i = close + 1;
      if (i < text.length && text[i] === ".") {
        i++;
        if (i >= text.length) fail("ends with a dot");
      }
      continue;
    }
    let end = i;
    while (end < text.length && text[end] !== "." && text[end] !== "[") end++;
    const key = text.slice(i, end);
    if (!key) fail("has an empty segment");
    if (!/^[A-Za-z0-9_$:/-]+$/.test(key)) fail(`segment ${JSON.stringify(key)} needs brackets and quotes (e.g. ["${key}"])`);
    segments.push({ kind: "key", key });
    i = end;
    if (text[i] === ".") {
      i++;
      if (i >= text.length) fail("ends with a dot");
    }
  }
  const first = segments[0];
  if (first?.kind === "key" && (first.key === "context" || first.key === "facts")) {
    if (segments.length === 1) throw new FieldPathError(`field path ${JSON.stringify(text)}: name a fact after ${first.key}.`);
    return { root: first.key, segments: segments.slice(1) };
  }
  return { root: "object", segments };
}

/** The path as people read it, for messages: containers[*].image. */
export function formatFieldPath(path: FieldPath): string {
  let out = path.root === "object" ? "" : path.root;
  for (const s of path.segments) {
    if (s.kind === "all") out += "[*]";
    else if (s.kind === "index") out += `[${s.index}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(s.key)) out += out ? `.${s.key}` : s.key;
    else out += `[${JSON.stringify(s.key)}]`;
  }
  return out;
}
