// JSON Pointers (what fixes address) rendered as the dotted paths people read and kubectl explains.

const cache = new Map<string, string>();

/** `/spec/template/spec/containers/0/securityContext` → `spec.template.spec.containers[0].securityContext`. */
export function pointerToPath(pointer: string): string {
  const cached = cache.get(pointer);
  if (cached !== undefined) return cached;
  const path = convert(pointer);
  // Findings repeat the same few hundred pointers; a bounded cache keeps conversion off the hot path.
  if (cache.size >= 10_000) cache.clear();
  cache.set(pointer, path);
  return path;
}

// Maps whose keys are data (a label "8080" is a key, not the index of an array).
const MAP_FIELDS = new Set(["labels", "annotations", "matchLabels", "data", "stringData", "parameters", "requests", "limits", "nodeSelector", "selector"]);

function convert(pointer: string): string {
  if (!pointer) return "";
  let out = "";
  let parent = "";
  for (const raw of pointer.replace(/^\//, "").split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    const arrayIndex = /^\d+$/.test(segment) && !MAP_FIELDS.has(parent);
    parent = segment;
    if (arrayIndex) out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
