// Golden fixes, offline: for every built-in rule with an automatic fix, test/fixtures/fixes/<rule-id>/
// holds input.yaml (an object the rule fires on) and mutated.yaml (that object after the rule's fix).
// The rule's JSON Patch applied with plain RFC 6902, and with the merging applier remediation uses, must
// give mutated.yaml exactly; re-evaluating mutated.yaml must not fire the rule, nor any rule that did
// not fire on input. Real components: the committed wasm bundle (PolicyBundle.load) and the manifest
// loader; nothing stands in.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { parseManifestText } from "../../src/manifests/load.js";
import { offlineInputs } from "../../src/manifests/offline-context.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { PolicyEvaluator } from "../../src/policy/evaluator.js";
import { applyPatch } from "../../src/remediation/json-patch.js";

const DIR = fileURLToPath(new URL("../fixtures/fixes/", import.meta.url));
const bundle = await PolicyBundle.load();
// Every rule enabled and strict, built-in defaults for the fix values (100m, 128Mi, 500m, 512Mi, 2 replicas).
const evaluator = new PolicyEvaluator(bundle, {});

function load(rule: string, file: "input.yaml" | "mutated.yaml") {
  const name = path.join(DIR, rule, file);
  const parsed = parseManifestText(readFileSync(name, "utf8"), name);
  if (parsed.errors.length > 0 || parsed.documents.length !== 1) throw new Error(`${name}: expected one document (${JSON.stringify(parsed.errors)})`);
  const { inputs } = offlineInputs(parsed.documents);
  return { object: parsed.documents[0]!.object, input: inputs[0]!.input };
}

/** Rules a fix legitimately brings into play: a second replica makes spreading and disruption budgets matter. */
const NEWLY_RELEVANT: Record<string, string[]> = { "replicas-minimum": ["pod-anti-affinity", "pod-disruption-budget"] };

const fixable = bundle.catalogue.filter((r) => r.fixRisk !== null && r.source === "built-in").map((r) => r.id);
const fixtures = readdirSync(DIR).filter((f) => !f.startsWith("."));

test("every built-in rule with a fix has a golden fixture, and every fixture names one", (t) => {
  t.true(fixable.length >= 20, `the catalogue lists ${fixable.length} fixable rules`);
  t.deepEqual([...fixtures].sort(), [...fixable].sort());
});

for (const rule of fixtures) {
  test(`${rule}: its fix turns input.yaml into mutated.yaml and the rule stops firing`, (t) => {
    const input = load(rule, "input.yaml");
    const mutated = load(rule, "mutated.yaml");
    const before = evaluator.evaluate(input.input).findings.filter((f) => f.outcome === "violation" || f.outcome === "warning");
    const own = before.filter((f) => f.ruleId === rule);
    t.true(own.length > 0, `${rule} fires on input.yaml`);
    t.true(own.every((f) => f.fix !== null), "every finding of the rule carries a fix");
    const patch = own.flatMap((f) => f.fix!.patch);

    t.deepEqual(applyPatch(input.object, patch), mutated.object, "RFC 6902 applied to input.yaml gives mutated.yaml");
    t.deepEqual(applyPatch(input.object, patch, { mergeObjects: true }), mutated.object, "the merging applier agrees for a single rule");

    const after = evaluator.evaluate(mutated.input).findings.filter((f) => f.outcome === "violation" || f.outcome === "warning");
    t.deepEqual(after.filter((f) => f.ruleId === rule).map((f) => f.message), [], `${rule} no longer fires on mutated.yaml`);
    const firedBefore = new Set(before.map((f) => f.ruleId));
    t.deepEqual(
      [...new Set(after.map((f) => f.ruleId))].filter((id) => !firedBefore.has(id)).sort(),
      NEWLY_RELEVANT[rule] ?? [],
      "the fix makes no other rule fire (beyond the documented ones)",
    );
  });
}
