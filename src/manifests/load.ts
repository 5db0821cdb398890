// Reads Kubernetes manifests from files, directories or stdin: multi-document YAML, JSON, `kind: List`
// (what `kubectl get -o yaml` prints). Every bad document is reported with file and line; the good
// ones are kept, so one typo does not hide the findings of everything else.
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { LineCounter, parseAllDocuments, isMap, isSeq, type Document } from "yaml";
import type { ErrorDetail } from "../errors.js";

export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

export interface SourceDocument {
  object: KubeObject;
  /** file:line of the document (or list item), for messages. */
  source: string;
}

export interface LoadedManifests {
  documents: SourceDocument[];
  errors: ErrorDetail[];
}

const MANIFEST_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

async function expand(input: string): Promise<string[]> {
  if (input === "-") return ["-"];
  const info = await stat(input);
  if (!info.isDirectory()) return [input];
  const out: string[] = [];
  for (const entry of (await readdir(input, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(input, entry.name);
    if (entry.isDirectory()) out.push(...(await expand(full)));
    else if (MANIFEST_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) out.push(full);
  }
  return out;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Loads every manifest under the given paths ("-" is stdin). */
export async function loadManifests(inputs: string[], options: { stdin?: () => Promise<string> } = {}): Promise<LoadedManifests> {
  const result: LoadedManifests = { documents: [], errors: [] };
  for (const input of inputs) {
    let files: string[];
    try {
      files = await expand(input);
    } catch (error) {
      result.errors.push({ where: input, message: `cannot read: ${fsReason(error)}` });
      continue;
    }
    for (const file of files) {
      const name = file === "-" ? "(stdin)" : file;
      let text: string;
      try {
        text = file === "-" ? await (options.stdin ?? readStdin)() : await readFile(file, "utf8");
      } catch (error) {
        result.errors.push({ where: name, message: `cannot read: ${fsReason(error)}` });
        continue;
      }
      const parsed = parseManifestText(text, name);
      result.documents.push(...parsed.documents);
      result.errors.push(...parsed.errors);
    }
  }
  return result;
}

/** The yaml library's message without its own position suffix (the caller names file:line:col). */
export function yamlMessage(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "").replace(/:$/, "");
}

const FS_REASONS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
};

export function fsReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${FS_REASONS[code] ?? code} (${code})` : (error as Error).message;
}

/** Parses one file's text into Kubernetes objects. */
export function parseManifestText(text: string, name: string): LoadedManifests {
  const out: LoadedManifests = { documents: [], errors: [] };
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true });
  if (!Array.isArray(documents)) {
    // An empty stream parses to an EmptyStream: nothing to evaluate, nothing wrong.
    return out;
  }
  const lineOf = (offset: number | undefined) => (offset === undefined ? 1 : lines.linePos(offset).line);
  for (const [index, doc] of documents.entries()) {
    const start = lineOf(doc.contents?.range?.[0] ?? doc.range?.[0]);
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const at = error.linePos?.[0];
        out.errors.push({ where: `${name}:${at?.line ?? start}:${at?.col ?? 1}`, message: `invalid YAML: ${yamlMessage(error.message)}` });
      }
      continue;
    }
    if (doc.contents === null) continue;
    collect(doc, doc.toJS() as unknown, `${name}:${start}`, `document ${index + 1}`, out, name, lineOf);
  }
  return out;
}

function collect(
  doc: Document,
  value: unknown,
  where: string,
  label: string,
  out: LoadedManifests,
  name: string,
  lineOf: (offset: number | undefined) => number,
): void {
  if (value === null || value === undefined) return;
  if (typeof value !== "object" || Array.isArray(value)) {
    out.errors.push({ where, message: `${label} is not a Kubernetes object (expected a mapping with apiVersion and kind)` });
    return;
  }
  const object = value as Record<string, unknown>;
  const missing = ["apiVersion", "kind"].filter((k) => typeof object[k] !== "string" || object[k] === "");
  if (missing.length > 0) {
    out.errors.push({ where, message: `${label} has no ${missing.join(" and no ")}` });
    return;
  }
  if (typeof object.kind === "string" && object.kind.endsWith("List") && Array.isArray(object.items)) {
    const itemsNode = isMap(doc.contents) ? doc.contents.get("items", true) : undefined;
    object.items.forEach((item, i) => {
      const node = isSeq(itemsNode) ? (itemsNode.items[i] as { range?: [number, number, number] } | undefined) : undefined;
      collect(doc, item, `${name}:${lineOf(node?.range?.[0])}`, `${label} item ${i + 1}`, out, name, lineOf);
    });
    return;
  }
  const metadata = object.metadata;
  if (metadata !== undefined && (typeof metadata !== "object" || metadata === null || Array.isArray(metadata))) {
    out.errors.push({ where, message: `${label} (${String(object.kind)}): metadata must be a mapping` });
    return;
  }
  out.documents.push({ object: object as KubeObject, source: where });
}
