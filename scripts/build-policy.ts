// Compiles rego/ into wasm/policy.wasm and wasm/catalogue.json.
//   tsx scripts/build-policy.ts          rebuild (after checking fmt and check --strict)
//   tsx scripts/build-policy.ts --check  fail when the committed wasm/ differs from a fresh build
import { readFile } from "node:fs/promises";
import { buildBundle, checkRego, writeBundle } from "../src/policy/build.js";
import { AppError } from "../src/errors.js";
import { REGO_DIR, WASM_DIR } from "../src/paths.js";
import path from "node:path";

const check = process.argv.includes("--check");

try {
  await checkRego([REGO_DIR]);
  const bundle = await buildBundle([{ dir: REGO_DIR, source: "built-in", label: "rego" }]);
  if (check) {
    const stale: string[] = [];
    const committedWasm = await readFile(path.join(WASM_DIR, "policy.wasm")).catch(() => null);
    if (!committedWasm || !committedWasm.equals(bundle.wasm)) stale.push("wasm/policy.wasm");
    const committedCatalogue = await readFile(path.join(WASM_DIR, "catalogue.json"), "utf8").catch(() => null);
    if (committedCatalogue !== `${JSON.stringify(bundle.catalogue, null, 2)}\n`) stale.push("wasm/catalogue.json");
    if (stale.length > 0) {
      console.error(`build-policy: ${stale.join(" and ")} ${stale.length > 1 ? "are" : "is"} stale: rego/ changed since they were built; run 'npm run policy:build' and commit wasm/`);
      process.exit(1);
    }
    console.log(`build-policy: wasm/ is up to date (${bundle.catalogue.length} rules)`);
  } else {
    await writeBundle(WASM_DIR, bundle);
    console.log(`build-policy: wrote wasm/policy.wasm (${bundle.wasm.length} bytes) and wasm/catalogue.json (${bundle.catalogue.length} rules)`);
  }
} catch (error) {
  if (error instanceof AppError) {
    console.error(`build-policy: ${error.describe()}`);
    process.exit(1);
  }
  throw error;
}
