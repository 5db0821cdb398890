// Preload for benchmarks (`node --import ./scripts/print-max-rss.mjs ...`): prints the process's peak
// resident set size on stderr when it exits, so a benchmark can measure a real CLI run from outside.
process.on("exit", () => process.stderr.write(`\nmax-rss-kib ${process.resourceUsage().maxRSS}\n`));
