// Covers the BENCHMARKS.md section writer the benchmark scripts share: a section replaces its own
// previous version in place, a new one is appended, the others are kept. A temp file stands in for BENCHMARKS.md.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { writeBenchmarkSection } from "../../scripts/lib/benchmarks-md.js";

test("a benchmark section replaces itself in place and leaves the others", async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kube-policy-bench-md-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, "BENCHMARKS.md");
  await writeFile(file, "# Benchmarks\n\n## bench-a: first\n\nold a\n\n## bench-b: second (x)\n\nold b\n");
  await writeBenchmarkSection("## bench-a: first\n\nnew a\n", file);
  await writeBenchmarkSection("## bench-b: second (x)\n\nnew b\n", file);
  await writeBenchmarkSection("## bench-c: third\n\nc\n", file);
  t.is(await readFile(file, "utf8"), "# Benchmarks\n\n## bench-a: first\n\nnew a\n\n## bench-b: second (x)\n\nnew b\n\n## bench-c: third\n\nc\n");
  await t.throwsAsync(writeBenchmarkSection("no heading", file), { message: /starts with its "## " heading/ });
});
