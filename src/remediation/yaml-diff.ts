// A readable, unified-style diff of two Kubernetes objects as YAML lines: what an SRE reviews before
// approving a fix. Longest-common-subsequence on lines after trimming the common head and tail, which
// keeps it exact and cheap for objects of a few hundred lines.
import { stringify } from "yaml";

const CONTEXT = 3;
/** Beyond this many cells the LCS table is not built: the changed middle is shown as removed + added. */
const MAX_CELLS = 4_000_000;

type Line = { kind: " " | "-" | "+"; text: string; a: number; b: number };

export function toYamlLines(object: unknown): string[] {
  return stringify(object, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd().split("\n");
}

/** "" when both objects print the same. Labels name the two sides (--- / +++ lines). */
export function unifiedDiff(before: unknown, after: unknown, labels: { from: string; to: string } = { from: "before", to: "after" }): string {
  const a = toYamlLines(before);
  const b = toYamlLines(after);
  const lines = diffLines(a, b);
  if (!lines.some((l) => l.kind !== " ")) return "";
  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  for (const hunk of hunks(lines)) {
    const first = hunk[0]!;
    const aCount = hunk.filter((l) => l.kind !== "+").length;
    const bCount = hunk.filter((l) => l.kind !== "-").length;
    out.push(`@@ -${aCount === 0 ? first.a : first.a + 1},${aCount} +${bCount === 0 ? first.b : first.b + 1},${bCount} @@`);
    for (const l of hunk) out.push(`${l.kind}${l.text}`);
  }
  return out.join("\n");
}

function diffLines(a: string[], b: string[]): Line[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const lines: Line[] = [];
  for (let i = 0; i < head; i++) lines.push({ kind: " ", text: a[i]!, a: i, b: i });
  let ai = head;
  let bi = head;
  for (const step of lcsSteps(midA, midB)) {
    if (step === " ") lines.push({ kind: " ", text: a[ai]!, a: ai++, b: bi++ });
    else if (step === "-") lines.push({ kind: "-", text: a[ai]!, a: ai++, b: bi });
    else lines.push({ kind: "+", text: b[bi]!, a: ai, b: bi++ });
  }
  for (let i = 0; i < tail; i++) lines.push({ kind: " ", text: a[ai]!, a: ai++, b: bi++ });
  return lines;
}

function lcsSteps(a: string[], b: string[]): (" " | "-" | "+")[] {
  if (a.length * b.length > MAX_CELLS) return [...a.map(() => "-" as const), ...b.map(() => "+" as const)];
  const n = a.length;
  const m = b.length;
  // table[i][j]: LCS length of a[i..] and b[j..], flattened.
  const table = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * (m + 1) + j] = a[i] === b[j] ? table[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(table[(i + 1) * (m + 1) + j]!, table[i * (m + 1) + j + 1]!);
    }
  }
  const steps: (" " | "-" | "+")[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      steps.push(" ");
      i++;
      j++;
    } else if (i < n && (j === m || table[(i + 1) * (m + 1) + j]! >= table[i * (m + 1) + j + 1]!)) {
      // Removals before additions, as diff(1) prints them.
      steps.push("-");
      i++;
    } else {
      steps.push("+");
      j++;
    }
  }
  return steps;
}

/** Groups changed lines with CONTEXT unchanged lines around them; nearby groups share one hunk. */
function hunks(lines: Line[]): Line[][] {
  const changed = lines.flatMap((l, i) => (l.kind === " " ? [] : [i]));
  const result: Line[][] = [];
  let start = -1;
  let end = -1;
  for (const i of changed) {
    if (start >= 0 && i - CONTEXT <= end + 1) {
      end = Math.min(lines.length - 1, i + CONTEXT);
      continue;
    }
    if (start >= 0) result.push(lines.slice(start, end + 1));
    start = Math.max(0, i - CONTEXT);
    end = Math.min(lines.length - 1, i + CONTEXT);
  }
  if (start >= 0) result.push(lines.slice(start, end + 1));
  return result;
}
