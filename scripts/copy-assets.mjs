// Copies the non-TypeScript files src/ needs at run time (SQL migrations) into dist/.
import { cpSync, mkdirSync } from "node:fs";

mkdirSync("dist/store", { recursive: true });
cpSync("src/store/migrations", "dist/store/migrations", { recursive: true });
