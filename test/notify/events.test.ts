// Covers src/notify/events.ts: eventsForScan() (only what is new since the previous succeeded scan, one
// event for all of a scan's new violations, resolved counts, quiet when nothing changed, failed scans,
// score thresholds that alert when crossed), the stale check, and the fingerprints deduplication uses.
// Pure functions on plain data: no stand-ins needed.
import test from "ava";
import { eventsForScan, fingerprint, staleEvent, type ScanNewViolationsEvent } from "../../src/notify/events.js";
import { finding, scan } from "./helpers.js";

const a = finding("a", "low");
const b = finding("b", "high");
const c = finding("c", "critical");
const d = finding("d", "medium");

test("the first scan reports every open violation as new, most severe first, in one event; warnings never alert", (t) => {
  const warning = finding("w", "critical", { outcome: "warning" });
  const events = eventsForScan(null, scan(1, [a, b, c, warning]));
  t.is(events.length, 1);
  const [event] = events as [ScanNewViolationsEvent];
  t.is(event.type, "scan-new-violations");
  t.deepEqual(event.newFindings.map((f) => f.key), ["c", "b", "a"]);
  t.is(event.previousScanId, null);
  t.is(event.previousScore, null);
  t.is(event.resolvedCount, 0);
  t.is(event.openCount, 3);
  t.is(event.scanId, 1);
  t.is(event.scope, "production");
  t.is(event.cluster, "kind-test");
});

test("only violations the previous scan did not have are new; the ones it had and this one does not are counted resolved", (t) => {
  const events = eventsForScan(scan(1, [a, b], { score: 80 }), scan(2, [b, c, d], { score: 75 }));
  t.is(events.length, 1);
  const event = events[0] as ScanNewViolationsEvent;
  t.deepEqual(event.newFindings.map((f) => f.key), ["c", "d"]);
  t.is(event.resolvedCount, 1);
  t.is(event.openCount, 3);
  t.is(event.previousScanId, 1);
  t.is(event.previousScore, 80);
  t.is(event.score, 75);
});

test("nothing changed: no event, whatever the order of the findings", (t) => {
  t.deepEqual(eventsForScan(scan(1, [a, b, c]), scan(2, [c, a, b])), []);
});

test("violations only resolved (none new) are quiet", (t) => {
  t.deepEqual(eventsForScan(scan(1, [a, b, c], { score: 70 }), scan(2, [a], { score: 95 })), []);
});

test("a key repeated in one scan is one new finding", (t) => {
  const event = eventsForScan(null, scan(1, [c, { ...c }]))[0] as ScanNewViolationsEvent;
  t.is(event.newFindings.length, 1);
});

test("a failed scan is one scan-failed event with its reason and code, and no diff", (t) => {
  const events = eventsForScan(scan(1, [a]), scan(2, [], { status: "failed", reason: "cluster unreachable at https://10.0.0.1:6443", errorCode: "cluster_unavailable", score: null }));
  t.deepEqual(events, [
    {
      type: "scan-failed",
      at: scan(2, []).finishedAt,
      scope: "production",
      cluster: "kind-test",
      scanId: 2,
      scanName: "nightly",
      reason: "cluster unreachable at https://10.0.0.1:6443",
      errorCode: "cluster_unavailable",
    },
  ]);
});

test("a failed previous scan is no baseline: its (absent) findings do not make everything look resolved or new against it", (t) => {
  const events = eventsForScan(scan(1, [], { status: "failed", score: null }), scan(2, [a]));
  const event = events[0] as ScanNewViolationsEvent;
  t.is(event.previousScanId, null, "the failed scan is not named as the baseline");
  t.is(event.resolvedCount, 0);
});

test("score below the threshold alerts when it is crossed, not at every scan that stays below", (t) => {
  const config = { scoreBelow: 80 };
  const crossed = eventsForScan(scan(1, [], { score: 85 }), scan(2, [], { score: 79.5 }), config);
  t.deepEqual(crossed.map((e) => e.type), ["score-below-threshold"]);
  t.like(crossed[0], { score: 79.5, previousScore: 85, threshold: 80 });
  t.deepEqual(eventsForScan(scan(2, [], { score: 79.5 }), scan(3, [], { score: 70 }), config), [], "still below: quiet");
  t.deepEqual(eventsForScan(scan(1, [], { score: 85 }), scan(2, [], { score: 80 }), config), [], "at the threshold is not below it");
  t.deepEqual(eventsForScan(null, scan(1, [], { score: 60 }), config).map((e) => e.type), ["score-below-threshold"], "a first scan below alerts");
  t.deepEqual(eventsForScan(scan(1, [], { score: 85 }), scan(2, [], { score: 60 })), [], "no threshold configured: no alert");
});

test("a score drop alerts when it is more than the configured points", (t) => {
  const config = { scoreDropPoints: 5 };
  const dropped = eventsForScan(scan(1, [], { score: 90 }), scan(2, [], { score: 84.9 }), config);
  t.deepEqual(dropped.map((e) => e.type), ["score-dropped"]);
  t.like(dropped[0], { drop: 5.1, previousScore: 90, score: 84.9, previousScanId: 1 });
  t.deepEqual(eventsForScan(scan(1, [], { score: 90 }), scan(2, [], { score: 85 }), config), [], "exactly N points is not more than N");
  t.deepEqual(eventsForScan(scan(1, [], { score: 80 }), scan(2, [], { score: 95 }), config), [], "a rise is quiet");
  t.deepEqual(eventsForScan(null, scan(2, [], { score: 10 }), config), [], "no previous score: no drop");
});

test("one scan can yield new violations, a threshold crossing and a drop together", (t) => {
  const events = eventsForScan(scan(1, [a], { score: 90 }), scan(2, [a, c], { score: 70 }), { scoreBelow: 80, scoreDropPoints: 10 });
  t.deepEqual(events.map((e) => e.type), ["scan-new-violations", "score-below-threshold", "score-dropped"]);
});

test("fingerprints: the same scope and the same set of new keys are the same event, whatever the scan ids and order", (t) => {
  const first = eventsForScan(null, scan(1, [a, c]))[0]!;
  const again = eventsForScan(null, scan(7, [c, a], { finishedAt: "2026-02-01T00:00:00.000Z" }))[0]!;
  t.is(fingerprint(first), fingerprint(again));
  t.not(fingerprint(first), fingerprint(eventsForScan(null, scan(1, [a]))[0]!), "another set of keys");
  t.not(fingerprint(first), fingerprint(eventsForScan(null, scan(1, [a, c], { scope: "staging" }))[0]!), "another scope");
  t.not(fingerprint(first), fingerprint(eventsForScan(null, scan(1, [a, c], { cluster: "other" }))[0]!), "another cluster");
});

test("stale: only when the last success is older than the limit; a scope that never succeeded counts from when it was first seen", (t) => {
  const hour = 3_600_000;
  const state = { scope: "production", firstSeenAt: 0, lastSuccessAt: 10 * hour, lastSuccessScanId: 4 };
  t.is(staleEvent(state, 34 * hour, 24), null, "exactly 24 hours is not older than 24");
  const stale = staleEvent(state, 35 * hour, 24);
  t.like(stale, { type: "stale", scope: "production", hours: 25, staleAfterHours: 24, lastSuccessScanId: 4, lastSuccessAt: new Date(10 * hour).toISOString() });
  t.like(staleEvent({ ...state, lastSuccessAt: null, lastSuccessScanId: null }, 30 * hour, 24), { hours: 30, lastSuccessAt: null });
});
