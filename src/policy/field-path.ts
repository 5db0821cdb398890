// JSON Pointers (what fixes address) rendered as the dotted paths people read and kubectl explains.

/** `/spec/template/spec/containers/0/securityContext` → `spec.template.spec.containers[0].securityContext`. */
export function pointerToPath(pointer: string): string {
  if (!pointer || pointer === "/") return "";
  let out = "";
  for (const raw of pointer.replace(/^\//, "").split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(segment)) out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
