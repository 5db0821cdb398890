// BENCHMARKS.md is shared by every benchmark script: each owns one "## <name>: ..." section, replaced in
// place when it runs again, appended the first time; the other sections stay as they are.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { PACKAGE_ROOT } from "../../src/paths.js";

export const BENCHMARKS_FILE = path.join(PACKAGE_ROOT, "BENCHMARKS.md");

/** Writes `section` (starting with its "## " heading line) into BENCHMARKS.md. */
export async function writeBenchmarkSection(section: string, file: string = BENCHMARKS_FILE): Promise<void> {
  const heading = section.split("\n", 1)[0]!;
  if (!heading.startsWith("## ")) throw new Error(`a benchmark section starts with its "## " heading (got ${JSON.stringify(heading)})`);
  const existing = await readFile(file, "utf8").catch(() => "# Benchmarks\n");
  const escaped = heading.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const marker = new RegExp(`${escaped}\\n[\\s\\S]*?(?=\\n## |$)`);
  const next = marker.test(existing) ? existing.replace(marker, `${section.trimEnd()}\n`) : `${existing.trimEnd()}\n\n${section}`;
  await writeFile(file, next.endsWith("\n") ? next : `${next}\n`);
}
