// Debian's Chromium through playwright-core for the dashboard's browser tests: a context on a fresh
// profile, and pages that record what must not happen (dialogs: a script ran; console errors: CSP
// refusals; requests to anywhere but the server under test).
import { existsSync, mkdtempSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** Screenshots and downloads worth keeping after a run (git-ignored). */
export const RESULTS = fileURLToPath(new URL("../../../test-results/", import.meta.url));

/** A browser context on a fresh profile directory under `dir` (Playwright passes it as --user-data-dir). */
export async function launchBrowser(
  dir: string,
  options: { javaScriptEnabled?: boolean; acceptDownloads?: boolean; viewport?: { width: number; height: number } } = {},
): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  return chromium.launchPersistentContext(mkdtempSync(path.join(dir, "profile-")), {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    acceptDownloads: options.acceptDownloads ?? false,
  });
}

export interface WatchedPage {
  page: Page;
  dialogs: string[];
  errors: string[];
  foreign: string[];
}

/** A new page of `context` that records dialogs, console and page errors, and requests outside `baseUrl`. */
export async function watchedPage(context: BrowserContext, baseUrl: string): Promise<WatchedPage> {
  const page = await context.newPage();
  const watched: WatchedPage = { page, dialogs: [], errors: [], foreign: [] };
  page.on("dialog", (d) => {
    watched.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("console", (m) => {
    if (m.type() === "error") watched.errors.push(m.text());
  });
  page.on("pageerror", (e) => watched.errors.push(e.message));
  page.on("request", (r) => {
    if (!r.url().startsWith(baseUrl)) watched.foreign.push(r.url());
  });
  return watched;
}
