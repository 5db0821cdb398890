// Recompiles the rules in the background when the configuration file or the custom rule directory
// changes, and swaps the new bundle in atomically. A rule set that fails to compile changes nothing:
// the old bundle keeps serving and the error is logged and kept for /healthz.
import { watch, type FSWatcher } from "node:fs";
import path from "node:path";
import { toAppError } from "../../errors.js";
import type { Runtime } from "../../runtime.js";
import { loadPolicySetup } from "../setup.js";
import { loadConfig } from "../../config/load.js";

export interface RuleWatcher {
  close(): void;
  /** Resolves when the reload in progress (if any) is done; for tests. */
  settled(): Promise<void>;
}

export function watchRules(
  runtime: Runtime,
  configFile: string,
  options: { debounceMs?: number; cacheDir?: string; log?: { info(o: object, m?: string): void; error(o: object, m?: string): void } } = {},
): RuleWatcher {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let watchedDir: string | undefined;

  const reload = () => {
    running = running.then(async () => {
      try {
        const setup = await loadPolicySetup(configFile, { cacheDir: options.cacheDir });
        runtime.reload(setup);
        watchDir(setup.config.customRulesDir);
        options.log?.info({ rules: setup.bundle.catalogue.length, bundle: setup.bundle.hash, cached: setup.compiled?.cached ?? true }, "rules reloaded");
      } catch (error) {
        runtime.lastReloadError = toAppError(error);
        // A newly named rule directory is watched even when its rules do not compile yet: fixing them must reload.
        await loadConfig(configFile).then(
          ({ config }) => watchDir(config.customRulesDir),
          () => undefined,
        );
        options.log?.error({ error: runtime.lastReloadError.toJSON() }, "rules changed but do not compile: the previous rules keep serving");
      }
    });
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(reload, options.debounceMs ?? 300);
  };
  const watchDir = (dir: string | undefined) => {
    const resolved = dir ? path.resolve(path.dirname(configFile), dir) : undefined;
    if (resolved === watchedDir) return;
    watchedDir = resolved;
    if (resolved) watchers.push(watch(resolved, { recursive: true }, schedule));
  };
  // Watch the directory of the config file: editors replace files on save, which ends a file watch.
  const configName = path.basename(configFile);
  watchers.push(watch(path.dirname(path.resolve(configFile)), (_event, name) => name === configName && schedule()));
  watchDir(runtime.config.customRulesDir);
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
    settled: async () => {
      await new Promise((r) => setTimeout(r, (options.debounceMs ?? 300) + 50));
      await running;
    },
  };
}
