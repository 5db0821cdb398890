// Covers rendering JSON Pointers (what fixes address) as the dotted paths people read
// (src/policy/field-path.ts): array indexes, RFC 6901 escapes (~1 for /, ~0 for ~), keys that are not
// identifiers (annotation and label keys), and the empty pointer. Pure function: nothing stands in.
import test from "ava";
import { pointerToPath } from "../../src/policy/field-path.js";

test("the empty pointer (the whole document) is the empty path", (t) => {
  t.is(pointerToPath(""), "");
});

test("identifier segments are joined with dots", (t) => {
  t.is(pointerToPath("/metadata"), "metadata");
  t.is(pointerToPath("/spec/template/metadata/labels"), "spec.template.metadata.labels");
  t.is(pointerToPath("/spec/hostPID"), "spec.hostPID");
});

test("numeric segments are array indexes", (t) => {
  t.is(pointerToPath("/spec/template/spec/containers/0/securityContext"), "spec.template.spec.containers[0].securityContext");
  t.is(
    pointerToPath("/spec/template/spec/containers/0/securityContext/privileged"),
    "spec.template.spec.containers[0].securityContext.privileged",
  );
  t.is(pointerToPath("/spec/containers/10/env/2/valueFrom"), "spec.containers[10].env[2].valueFrom");
  t.is(pointerToPath("/spec/containers/0/ports/1"), "spec.containers[0].ports[1]");
  t.is(pointerToPath("/0/name"), "[0].name");
});

test("~1 is a slash: annotation and label keys with dots and slashes are quoted whole", (t) => {
  t.is(pointerToPath("/metadata/annotations/app.kubernetes.io~1name"), 'metadata.annotations["app.kubernetes.io/name"]');
  t.is(
    pointerToPath("/spec/template/metadata/annotations/compliance.policy~1audit-logging"),
    'spec.template.metadata.annotations["compliance.policy/audit-logging"]',
  );
  t.is(pointerToPath("/metadata/labels/kube-policy.io~1exempt"), 'metadata.labels["kube-policy.io/exempt"]');
});

test("~0 is a tilde, and escapes are decoded ~1 first so ~01 stays ~1", (t) => {
  t.is(pointerToPath("/metadata/labels/a~0b"), 'metadata.labels["a~b"]');
  t.is(pointerToPath("/metadata/labels/~01"), 'metadata.labels["~1"]');
  t.is(pointerToPath("/metadata/labels/~10"), 'metadata.labels["/0"]');
});

test("keys that are not identifiers are quoted as JSON strings", (t) => {
  t.is(pointerToPath("/metadata/labels/app.kubernetes.io"), 'metadata.labels["app.kubernetes.io"]');
  t.is(pointerToPath("/metadata/labels/1abc"), 'metadata.labels["1abc"]');
  t.is(pointerToPath("/data/a b"), 'data["a b"]');
  t.is(pointerToPath('/metadata/labels/with"quote'), 'metadata.labels["with\\"quote"]');
  t.is(pointerToPath("/a b/c"), '["a b"].c');
});

test("dashes, underscores and dollars are part of an identifier segment", (t) => {
  t.is(pointerToPath("/metadata/labels/app-name"), "metadata.labels.app-name");
  t.is(pointerToPath("/data/_private"), "data._private");
  t.is(pointerToPath("/data/$ref"), "data.$ref");
});
