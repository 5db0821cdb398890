// Covers reading Kubernetes manifests (src/manifests/load.ts): multi-document YAML with the source line of
// each document, JSON, `kind: List` expanded item by item, empty documents, malformed YAML reported with
// file:line:col while the other documents are kept, documents that are not Kubernetes objects,
// directories read recursively (.yaml/.yml/.json only), stdin, and paths that do not exist.
// Real components: the yaml parser and the file system. Stand-ins: fixture files under
// test/fixtures/unit/manifests, and the options.stdin hook instead of the process's stdin.
import test from "ava";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadManifests, parseManifestText, type LoadedManifests } from "../../src/manifests/load.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/unit/manifests/", import.meta.url));
const fixture = (name: string) => path.join(FIXTURES, name);

/** [source, kind, name] of each loaded document, in order. */
const summary = (loaded: LoadedManifests) =>
  loaded.documents.map((d) => [d.source, d.object.kind, d.object.metadata?.name ?? ""]);

test("multi-document YAML gives each document with its own first line, skipping empty ones", async (t) => {
  const file = fixture("multi.yaml");
  const loaded = await loadManifests([file]);
  t.deepEqual(loaded.errors, []);
  t.deepEqual(summary(loaded), [
    [`${file}:3`, "ConfigMap", "settings"],
    [`${file}:14`, "Deployment", "web"],
    [`${file}:23`, "Service", "web"],
  ]);
  t.deepEqual(loaded.documents[0]!.object, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings", namespace: "shop" },
    data: { mode: "fast" },
  });
  t.deepEqual(loaded.documents[1]!.object, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "shop" },
    spec: { replicas: 2 },
  });
});

test("a JSON file is one document", async (t) => {
  const file = fixture("deployment.json");
  const loaded = await loadManifests([file]);
  t.deepEqual(loaded, {
    documents: [
      {
        object: {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "api", namespace: "shop", labels: { "app.kubernetes.io/name": "api" } },
          spec: { replicas: 3 },
        },
        source: `${file}:1`,
      },
    ],
    errors: [],
  });
});

test("kind: List is expanded into its items, each with its own line", async (t) => {
  const file = fixture("list.yaml");
  const loaded = await loadManifests([file]);
  t.deepEqual(loaded.errors, []);
  t.deepEqual(summary(loaded), [
    [`${file}:7`, "Deployment", "web"],
    [`${file}:12`, "Service", "web"],
    [`${file}:18`, "Pod", "debug"],
  ]);
  t.deepEqual(loaded.documents[2]!.object, { apiVersion: "v1", kind: "Pod", metadata: { name: "debug", namespace: "ops" } });
});

test("a JSON List and a typed list (PodList) are expanded too, and bad items are named", (t) => {
  const json = [
    "{",
    '  "apiVersion": "v1",',
    '  "kind": "List",',
    '  "items": [',
    '    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}},',
    '    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b"}}',
    "  ]",
    "}",
  ].join("\n");
  t.deepEqual(summary(parseManifestText(json, "list.json")), [
    ["list.json:5", "Pod", "a"],
    ["list.json:6", "Pod", "b"],
  ]);
  const typed = parseManifestText(
    ["apiVersion: v1", "kind: PodList", "items:", "- apiVersion: v1", "  kind: Pod", "  metadata:", "    name: p", "- not an object", "- kind: Pod"].join("\n"),
    "pods.yaml",
  );
  t.deepEqual(summary(typed), [["pods.yaml:4", "Pod", "p"]]);
  t.deepEqual(typed.errors, [
    { where: "pods.yaml:8", message: "document 1 item 2 is not a Kubernetes object (expected a mapping with apiVersion and kind)" },
    { where: "pods.yaml:9", message: "document 1 item 3 has no apiVersion" },
  ]);
});

test("empty input, comment-only input and empty documents give nothing and no error", (t) => {
  for (const text of ["", "\n\n", "# only a comment\n", "---\n---\n", "---\n# c\n---\n...\n", "~\n"]) {
    t.deepEqual(parseManifestText(text, "empty.yaml"), { documents: [], errors: [] }, JSON.stringify(text));
  }
});

test("a scalar document and documents without apiVersion or kind are errors naming where; good ones are kept", async (t) => {
  const file = fixture("invalid.yaml");
  const loaded = await loadManifests([file]);
  t.deepEqual(loaded.errors, [
    { where: `${file}:1`, message: "document 1 is not a Kubernetes object (expected a mapping with apiVersion and kind)" },
    { where: `${file}:3`, message: "document 2 has no apiVersion and no kind" },
    { where: `${file}:6`, message: "document 3 has no kind" },
    { where: `${file}:10`, message: "document 4 is not a Kubernetes object (expected a mapping with apiVersion and kind)" },
  ]);
  t.deepEqual(summary(loaded), [[`${file}:13`, "Pod", "good"]]);
});

test("metadata that is not a mapping is an error", (t) => {
  const loaded = parseManifestText("apiVersion: v1\nkind: Pod\nmetadata: [a]\n", "m.yaml");
  t.deepEqual(loaded, { documents: [], errors: [{ where: "m.yaml:1", message: "document 1 (Pod): metadata must be a mapping" }] });
  const empty = parseManifestText("apiVersion: v1\nkind: \"\"\n", "k.yaml");
  t.deepEqual(empty.errors, [{ where: "k.yaml:1", message: "document 1 has no kind" }]);
});

test("malformed YAML is reported with file:line:col and everything else is still loaded", async (t) => {
  const broken = fixture("mixed/broken.yaml");
  const good = fixture("mixed/good.yaml");
  const loaded = await loadManifests([broken, good]);
  t.deepEqual(summary(loaded), [
    [`${broken}:1`, "ConfigMap", "before"],
    [`${broken}:12`, "ConfigMap", "after"],
    [`${good}:1`, "Pod", "fine"],
  ]);
  t.is(loaded.errors.length, 1);
  t.regex(loaded.errors[0]!.message, /^invalid YAML: Nested mappings are not allowed in compact mappings/);
  // `name: bad: value` is on line 9; the parser points at column 9, where the second mapping starts.
  t.is(loaded.errors[0]!.where, `${broken}:9:9`);
});

test("duplicate keys are malformed YAML", (t) => {
  const loaded = parseManifestText("apiVersion: v1\nkind: Pod\nkind: Service\n", "dup.yaml");
  t.deepEqual(loaded.documents, []);
  t.is(loaded.errors.length, 1);
  t.regex(loaded.errors[0]!.message, /^invalid YAML: Map keys must be unique/);
});

test("a directory is read recursively, only .yaml, .yml and .json files, in name order", async (t) => {
  const dir = fixture("tree");
  const loaded = await loadManifests([dir]);
  t.deepEqual(loaded.errors, []);
  t.deepEqual(summary(loaded), [
    [path.join(dir, "a.yaml:1"), "ConfigMap", "a"],
    [path.join(dir, "b.yml:1"), "ConfigMap", "b"],
    [path.join(dir, "c.json:1"), "ConfigMap", "c"],
    [path.join(dir, "nested", "d.YAML:1"), "ConfigMap", "d"],
    [path.join(dir, "nested", "deeper", "e.yaml:1"), "ConfigMap", "e"],
  ]);
});

test('"-" reads stdin through the options.stdin hook', async (t) => {
  let calls = 0;
  const stdin = async () => {
    calls++;
    return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n";
  };
  const loaded = await loadManifests(["-"], { stdin });
  t.is(calls, 1);
  t.deepEqual(loaded.errors, []);
  t.deepEqual(summary(loaded), [
    ["(stdin):1", "Pod", "a"],
    ["(stdin):6", "Pod", "b"],
  ]);
});

test("stdin that cannot be read is an error naming (stdin)", async (t) => {
  const loaded = await loadManifests(["-"], {
    stdin: async () => {
      throw new Error("stream closed");
    },
  });
  t.deepEqual(loaded, { documents: [], errors: [{ where: "(stdin)", message: "cannot read: stream closed" }] });
});

test("a path that does not exist is an error, and the other inputs are still read", async (t) => {
  const missing = fixture("no-such-file.yaml");
  const json = fixture("deployment.json");
  const loaded = await loadManifests([missing, json]);
  t.deepEqual(loaded.errors, [{ where: missing, message: "cannot read: no such file or directory (ENOENT)" }]);
  t.deepEqual(summary(loaded), [[`${json}:1`, "Deployment", "api"]]);
});

test("several inputs are read in the order given", async (t) => {
  const loaded = await loadManifests([fixture("deployment.json"), fixture("tree/a.yaml")]);
  t.deepEqual(
    loaded.documents.map((d) => d.object.metadata?.name),
    ["api", "a"],
  );
});
