// The RFC 6902 / 6901 implementation remediation relies on: the RFC's own examples (appendix A), the
// errors it must raise (naming the operation and path), the merging `add` mode used to combine rule
// fixes, the object diff that becomes the patch sent to the API server, and the YAML diff shown to
// reviewers. Pure functions; nothing stands in for anything.
import test from "ava";
import { applyPatch, diffPatch, formatPointer, JsonPatchError, parsePointer, valueAt } from "../../src/remediation/json-patch.js";
import type { JsonPatchOp } from "../../src/policy/types.js";
import { unifiedDiff } from "../../src/remediation/yaml-diff.js";

const rfcCases: { name: string; doc: unknown; patch: JsonPatchOp[]; expected: unknown }[] = [
  { name: "A.1 add an object member", doc: { foo: "bar" }, patch: [{ op: "add", path: "/baz", value: "qux" }], expected: { baz: "qux", foo: "bar" } },
  { name: "A.2 add an array element", doc: { foo: ["bar", "baz"] }, patch: [{ op: "add", path: "/foo/1", value: "qux" }], expected: { foo: ["bar", "qux", "baz"] } },
  { name: "A.3 remove an object member", doc: { baz: "qux", foo: "bar" }, patch: [{ op: "remove", path: "/baz" }], expected: { foo: "bar" } },
  { name: "A.4 remove an array element", doc: { foo: ["bar", "qux", "baz"] }, patch: [{ op: "remove", path: "/foo/1" }], expected: { foo: ["bar", "baz"] } },
  { name: "A.5 replace a value", doc: { baz: "qux", foo: "bar" }, patch: [{ op: "replace", path: "/baz", value: "boo" }], expected: { baz: "boo", foo: "bar" } },
  {
    name: "A.6 move a value",
    doc: { foo: { bar: "baz", waldo: "fred" }, qux: { corge: "grault" } },
    patch: [{ op: "move", from: "/foo/waldo", path: "/qux/thud" }],
    expected: { foo: { bar: "baz" }, qux: { corge: "grault", thud: "fred" } },
  },
  { name: "A.7 move an array element", doc: { foo: ["all", "grass", "cows", "eat"] }, patch: [{ op: "move", from: "/foo/1", path: "/foo/3" }], expected: { foo: ["all", "cows", "eat", "grass"] } },
  {
    name: "A.8 test a value (success)",
    doc: { baz: "qux", foo: ["a", 2, "c"] },
    patch: [{ op: "test", path: "/baz", value: "qux" }, { op: "test", path: "/foo/1", value: 2 }],
    expected: { baz: "qux", foo: ["a", 2, "c"] },
  },
  { name: "A.10 add a nested member object", doc: { foo: "bar" }, patch: [{ op: "add", path: "/child", value: { grandchild: {} } }], expected: { foo: "bar", child: { grandchild: {} } } },
  { name: "A.14 ~ escape ordering", doc: { "/": 9, "~1": 10 }, patch: [{ op: "test", path: "/~01", value: 10 }], expected: { "/": 9, "~1": 10 } },
  { name: "A.16 add an array value", doc: { foo: ["bar"] }, patch: [{ op: "add", path: "/foo/-", value: ["abc", "def"] }], expected: { foo: ["bar", ["abc", "def"]] } },
  { name: "copy", doc: { a: { b: 1 } }, patch: [{ op: "copy", from: "/a", path: "/c" }], expected: { a: { b: 1 }, c: { b: 1 } } },
  { name: "replace the whole document", doc: { a: 1 }, patch: [{ op: "replace", path: "", value: [1] }], expected: [1] },
];

for (const c of rfcCases) {
  test(`RFC 6902 ${c.name}`, (t) => {
    const before = JSON.stringify(c.doc);
    t.deepEqual(applyPatch(c.doc, c.patch), c.expected);
    t.is(JSON.stringify(c.doc), before, "the input document is not modified");
  });
}

const errorCases: { name: string; doc: unknown; patch: JsonPatchOp[]; message: string }[] = [
  { name: "A.9 a failed test", doc: { baz: "qux" }, patch: [{ op: "test", path: "/baz", value: "bar" }], message: 'operation 0 (test /baz): test failed: the value is "qux", not "bar"' },
  { name: "A.12 add to a nonexistent target", doc: { foo: "bar" }, patch: [{ op: "add", path: "/baz/bat", value: "qux" }], message: "operation 0 (add /baz/bat): the parent /baz does not exist or is not an object or array" },
  { name: "A.15 comparing strings and numbers", doc: { "/": 9, "~1": 10 }, patch: [{ op: "test", path: "/~01", value: "10" }], message: 'operation 0 (test /~01): test failed: the value is 10, not "10"' },
  { name: "remove of a missing member", doc: { a: 1 }, patch: [{ op: "add", path: "/b", value: 2 }, { op: "remove", path: "/c" }], message: 'operation 1 (remove /c): nothing to remove: "c" does not exist' },
  { name: "replace of a missing member", doc: { a: 1 }, patch: [{ op: "replace", path: "/b", value: 2 }], message: 'operation 0 (replace /b): nothing to replace: "b" does not exist' },
  { name: "an index past the end", doc: { a: [1] }, patch: [{ op: "add", path: "/a/2", value: 2 }], message: 'operation 0 (add /a/2): index "2" is out of range (the array has 1 elements)' },
  { name: "an index with a leading zero", doc: { a: [1, 2] }, patch: [{ op: "remove", path: "/a/01" }], message: 'operation 0 (remove /a/01): index "01" is out of range' },
  { name: "an unknown operation", doc: {}, patch: [{ op: "merge" as JsonPatchOp["op"], path: "/a" }], message: 'operation 0 (merge /a): unknown operation "merge"' },
  { name: "add without a value", doc: {}, patch: [{ op: "add", path: "/a" }], message: 'operation 0 (add /a): "add" needs a "value"' },
  { name: "a pointer without a leading slash", doc: {}, patch: [{ op: "add", path: "a", value: 1 }], message: 'operation 0 (add a): JSON Pointer "a" must be empty or start with "/"' },
  { name: "a move into its own child", doc: { a: { b: {} } }, patch: [{ op: "move", from: "/a", path: "/a/b/c" }], message: "operation 0 (move /a/b/c): cannot move a value into one of its own children" },
];

for (const c of errorCases) {
  test(`refuses ${c.name}, naming the operation`, (t) => {
    const error = t.throws(() => applyPatch(c.doc, c.patch), { instanceOf: JsonPatchError });
    t.is(error?.message, c.message);
    t.is(error?.details[0]?.where, c.message.slice(0, c.message.indexOf(":")));
  });
}

test("pointers: RFC 6901 escapes both ways, and valueAt finds members, array elements and absent paths", (t) => {
  t.deepEqual(parsePointer("/metadata/labels/app.kubernetes.io~1name/~0x"), ["metadata", "labels", "app.kubernetes.io/name", "~x"]);
  t.is(formatPointer(["metadata", "labels", "app.kubernetes.io/name", "~x", 0]), "/metadata/labels/app.kubernetes.io~1name/~0x/0");
  t.throws(() => parsePointer("/a~2b"), { instanceOf: JsonPatchError, message: 'JSON Pointer "/a~2b" has an invalid escape in "a~2b"' });
  const doc = { a: [{ b: null }] };
  t.deepEqual(valueAt(doc, "/a/0/b"), { found: true, value: null });
  t.deepEqual(valueAt(doc, "/a/1"), { found: false });
  t.deepEqual(valueAt(doc, "/a/0/c"), { found: false });
});

test("mergeObjects: a second add of a parent merges into the first instead of replacing it", (t) => {
  const container = { name: "app", image: "web:1" };
  const patch: JsonPatchOp[] = [
    { op: "add", path: "/securityContext", value: { allowPrivilegeEscalation: false, capabilities: { drop: ["NET_RAW"] } } },
    { op: "add", path: "/securityContext", value: { readOnlyRootFilesystem: true, capabilities: { drop: ["ALL", "NET_RAW"] } } },
  ];
  t.deepEqual(applyPatch(container, patch), { name: "app", image: "web:1", securityContext: { readOnlyRootFilesystem: true, capabilities: { drop: ["ALL", "NET_RAW"] } } }, "plain RFC 6902 replaces");
  t.deepEqual(
    applyPatch(container, patch, { mergeObjects: true }),
    { name: "app", image: "web:1", securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["NET_RAW", "ALL"] } } },
    "merged: both fields kept, the drop list gains only the missing element",
  );
  t.deepEqual(applyPatch({ a: { b: 1 } }, [{ op: "add", path: "/a", value: 2 }], { mergeObjects: true }), { a: 2 }, "a scalar still replaces");
});

const diffCases: [string, unknown, unknown][] = [
  ["nested objects", { a: { b: 1, c: 2 }, d: 1 }, { a: { b: 2, e: { f: 1 } }, d: 1 }],
  ["a growing array", { l: [1, 2] }, { l: [1, 3, 4, 5] }],
  ["a shrinking array", { l: [{ a: 1 }, { b: 2 }, { c: 3 }] }, { l: [{ a: 2 }] }],
  ["keys that need escaping", { m: { "a/b": 1, "c~d": 2 } }, { m: { "a/b": 3 } }],
  ["a type change", { a: { b: 1 } }, { a: [1] }],
  ["equal documents", { a: 1 }, { a: 1 }],
];

for (const [name, from, to] of diffCases) {
  test(`diffPatch turns one object into the other: ${name}`, (t) => {
    const patch = diffPatch(from, to);
    t.deepEqual(applyPatch(from, patch), to);
    if (JSON.stringify(from) === JSON.stringify(to)) t.deepEqual(patch, []);
  });
}

test("diffPatch names only the fields that changed, so it applies to a fuller copy of the object", (t) => {
  const slim = { metadata: { name: "web", labels: { app: "web" } }, spec: { replicas: 1 } };
  const full = { ...slim, metadata: { ...slim.metadata, managedFields: [{ manager: "kubectl" }] }, status: { replicas: 1 } };
  const patch = diffPatch(slim, { ...slim, spec: { replicas: 2 }, metadata: { ...slim.metadata, labels: { app: "web", team: "a" } } });
  t.deepEqual(patch, [
    { op: "add", path: "/metadata/labels/team", value: "a" },
    { op: "replace", path: "/spec/replicas", value: 2 },
  ]);
  t.deepEqual(applyPatch(full, patch), { ...full, spec: { replicas: 2 }, metadata: { ...full.metadata, labels: { app: "web", team: "a" } } });
});

test("unifiedDiff shows YAML lines with context and hunk headers, and nothing for equal objects", (t) => {
  const before = { spec: { containers: [{ name: "app", image: "web:1" }], replicas: 1, a: 1, b: 2, c: 3, x: 0, y: 0, d: 4, e: 5, f: 6, g: 7 } };
  const after = { spec: { containers: [{ name: "app", image: "web:1", securityContext: { runAsNonRoot: true } }], replicas: 1, a: 1, b: 2, c: 3, x: 0, y: 0, d: 4, e: 5, f: 8, g: 7 } };
  t.is(
    unifiedDiff(before, after, { from: "a", to: "b" }),
    [
      "--- a",
      "+++ b",
      "@@ -2,6 +2,8 @@",
      "   containers:",
      "     - name: app",
      "       image: web:1",
      "+      securityContext:",
      "+        runAsNonRoot: true",
      "   replicas: 1",
      "   a: 1",
      "   b: 2",
      "@@ -10,5 +12,5 @@",
      "   y: 0",
      "   d: 4",
      "   e: 5",
      "-  f: 6",
      "+  f: 8",
      "   g: 7",
    ].join("\n"),
  );
  t.is(unifiedDiff(before, structuredClone(before)), "");
});
