// Copies the non-TypeScript files src/ needs at run time (SQL migrations) into dist/.
import { cpSync, mkdirSync, rmSync } from "node:fs";

mkdirSync("dist/store", { recursive: true });
// A migration renamed or renumbered in src/ must not survive in dist/.
rmSync("dist/store/migrations", { recursive: true, force: true });
cpSync("src/store/migrations", "dist/store/migrations", { recursive: true });
