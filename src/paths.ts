// Where the package's own files live, whether running from src/ (tsx) or dist/ (compiled).
import { fileURLToPath } from "node:url";
import path from "node:path";

export const PACKAGE_ROOT = path.resolve(fileURLToPath(new URL("../", import.meta.url)));
export const REGO_DIR = path.join(PACKAGE_ROOT, "rego");
export const WASM_DIR = path.join(PACKAGE_ROOT, "wasm");
export const CONFIG_DIR = path.join(PACKAGE_ROOT, "config");
export const TOOLS_BIN = path.join(PACKAGE_ROOT, ".tools", "bin");
