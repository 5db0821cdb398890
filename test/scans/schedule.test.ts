// Covers src/scans/schedule.ts: validation of the configured scans with JSON paths, and the scheduled
// times between two instants that missed-run detection counts (UTC, an IANA time zone, a day skipped by
// a DST change, node-cron's "L", a six-field every-second schedule). Real components: node-cron's
// parser and matcher; nothing stands in.
import test from "ava";
import { ConfigError } from "../../src/errors.js";
import { ScheduleWalker, missedRuns, validateScans } from "../../src/scans/schedule.js";

const at = (s: string) => Date.parse(s);

test("a daily 02:00 UTC scan last run on Jan 1 has missed Jan 2, 3 and 4 by Jan 4 noon", (t) => {
  const missed = missedRuns({ cron: "0 2 * * *", timezone: "UTC" }, at("2026-01-01T02:00:05Z"), at("2026-01-04T12:00:00Z"));
  t.deepEqual(missed, { first: at("2026-01-02T02:00:00Z"), count: 3 });
});

test("the time zone decides when 02:00 is: New York's 02:00 is 07:00 UTC", (t) => {
  const missed = missedRuns({ cron: "0 2 * * *", timezone: "America/New_York" }, at("2026-01-01T02:00:05Z"), at("2026-01-04T12:00:00Z"));
  t.deepEqual(missed, { first: at("2026-01-01T07:00:00Z"), count: 4 });
});

test("02:30 does not exist in Berlin on the day clocks go forward: that day has no run", (t) => {
  const missed = missedRuns({ cron: "30 2 * * *", timezone: "Europe/Berlin" }, at("2026-03-27T12:00:00Z"), at("2026-03-31T12:00:00Z"));
  t.deepEqual(missed, { first: at("2026-03-28T01:30:00Z"), count: 3 });
});

test("node-cron's L (last day of the month) is honoured", (t) => {
  const walker = new ScheduleWalker("0 0 L * *", "UTC");
  try {
    t.is(walker.nextBetween(at("2026-02-01T00:00:00Z"), at("2026-12-31T00:00:00Z")), at("2026-02-28T00:00:00Z"));
    t.is(walker.nextBetween(at("2028-02-01T00:00:00Z"), at("2028-12-31T00:00:00Z")), at("2028-02-29T00:00:00Z"), "leap year");
  } finally {
    walker.destroy();
  }
});

test("a run that is due within the tolerance is not missed, and nothing is missed right after a run", (t) => {
  t.is(missedRuns({ cron: "0 2 * * *", timezone: "UTC" }, at("2026-01-01T02:00:05Z"), at("2026-01-02T02:00:30Z")), null);
  t.is(missedRuns({ cron: "0 2 * * *", timezone: "UTC" }, at("2026-01-01T02:00:05Z"), at("2026-01-01T23:00:00Z")), null);
});

test("every second for an hour: the count covers all of them up to the tolerance", (t) => {
  const missed = missedRuns({ cron: "* * * * * *" }, at("2026-01-02T00:00:00Z"), at("2026-01-02T01:00:00Z"));
  t.deepEqual(missed, { first: at("2026-01-02T00:00:01Z"), count: 3540 });
});

test("configured scans are checked: cron syntax, time zone, duplicate names, namespaces, each with its JSON path", (t) => {
  t.notThrows(() => validateScans([{ name: "nightly", cron: "0 2 * * *", timezone: "Europe/Berlin", namespaces: ["shop"] }]));
  t.notThrows(() => validateScans(undefined));
  const error = t.throws(
    () =>
      validateScans([
        { name: "nightly", cron: "61 * * * *" },
        { name: "nightly", cron: "0 2 * * *", timezone: "Mars/Olympus" },
        { name: "ok", cron: "0 2 * * *", namespaces: ["Shop_1"] },
      ]),
    { instanceOf: ConfigError },
  );
  t.deepEqual(
    error.details.map((d) => d.where),
    ["/scans/0/cron", "/scans/1/name", "/scans/1/timezone", "/scans/2/namespaces/0"],
  );
  t.regex(error.details[0]!.message, /"61 \* \* \* \*" is not a cron expression \(minute: 61/);
  t.regex(error.details[1]!.message, /duplicate scan name "nightly" \(also \/scans\/0\/name\)/);
  t.regex(error.details[2]!.message, /unknown time zone "Mars\/Olympus"/);
});
