// Cron schedules of the configured scans: validation with JSON paths, and the scheduled times between two
// instants (node-cron only answers "from now on"), which is what finding runs missed during downtime needs.
import cron from "node-cron";
import { ConfigError, type ErrorDetail } from "../errors.js";
import { NAMESPACE_NAME, SCAN_NAME, type ScanConfig } from "./scan.js";


export function timezoneValid(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** Checks `scans` of the configuration beyond its JSON Schema: cron syntax, time zones, names, namespaces. */
export function validateScans(scans: ScanConfig[] | undefined): void {
  const details: ErrorDetail[] = [];
  const names = new Map<string, number>();
  (scans ?? []).forEach((scan, i) => {
    if (!SCAN_NAME.test(scan.name)) details.push({ where: `/scans/${i}/name`, message: `${JSON.stringify(scan.name)} is not a scan name (1-100 letters, digits and _ . : , / -)` });
    if (names.has(scan.name)) details.push({ where: `/scans/${i}/name`, message: `duplicate scan name ${JSON.stringify(scan.name)} (also /scans/${names.get(scan.name)}/name)` });
    names.set(scan.name, i);
    const validation = cron.validateDetailed(scan.cron);
    if (!validation.valid) {
      const why = validation.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
      details.push({ where: `/scans/${i}/cron`, message: `${JSON.stringify(scan.cron)} is not a cron expression${why ? ` (${why})` : ""}` });
    }
    if (scan.timezone !== undefined && !timezoneValid(scan.timezone)) {
      details.push({ where: `/scans/${i}/timezone`, message: `unknown time zone ${JSON.stringify(scan.timezone)} (an IANA name such as Europe/Berlin)` });
    }
    scan.namespaces?.forEach((ns, j) => {
      if (!NAMESPACE_NAME.test(ns)) details.push({ where: `/scans/${i}/namespaces/${j}`, message: `${JSON.stringify(ns)} is not a namespace name` });
    });
  });
  if (details.length > 0) throw new ConfigError(`invalid scan schedule in the policy configuration: ${details.length} problem(s)`, { details });
}

interface LocalParts {
  month: number;
  day: number;
  weekday: number;
  hour: number;
  minute: number;
  second: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function localParts(ms: number, timezone: string | undefined): LocalParts {
  const key = timezone ?? "";
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      month: "numeric",
      day: "numeric",
      weekday: "short",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(key, format);
  }
  const parts: Record<string, string> = {};
  for (const p of format.formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: WEEKDAYS[parts.weekday ?? ""] ?? -1,
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** Steps through a schedule: each call to next() gives the following scheduled second after `from` (exclusive). */
export class ScheduleWalker {
  private readonly fields: ReturnType<typeof cron.parse>;
  private readonly task: ReturnType<typeof cron.createTask>;
  private readonly numericDays: boolean;
  private readonly sets: { second: Set<number>; minute: Set<number>; hour: Set<number>; month: Set<number>; dom: Set<number>; dow: Set<number> };

  constructor(
    readonly expression: string,
    readonly timezone?: string,
  ) {
    this.fields = cron.parse(expression);
    // The final word on a candidate second is node-cron's own matcher ("L", "#" and friends included);
    // the sets below only let the walk skip hours and minutes that cannot match.
    this.task = cron.createTask(expression, () => undefined, { timezone });
    this.numericDays = [...this.fields.dayOfMonth, ...this.fields.dayOfWeek].every((v) => typeof v === "number");
    this.sets = {
      second: new Set(this.fields.second),
      minute: new Set(this.fields.minute),
      hour: new Set(this.fields.hour),
      month: new Set(this.fields.month),
      dom: new Set(this.fields.dayOfMonth.filter((v): v is number => typeof v === "number")),
      dow: new Set(this.fields.dayOfWeek.filter((v): v is number => typeof v === "number")),
    };
  }

  /** The first scheduled instant in (after, until], or null. */
  nextBetween(after: number, until: number): number | null {
    let t = Math.floor(after / 1000) * 1000 + 1000;
    for (let steps = 0; steps < 5_000_000 && t <= until; steps++) {
      const p = localParts(t, this.timezone);
      const toNextHour = (3600 - p.minute * 60 - p.second) * 1000;
      if (!this.sets.month.has(p.month) || (this.numericDays && (!this.sets.dom.has(p.day) || !this.sets.dow.has(p.weekday)))) {
        t += toNextHour; // hour steps, not day steps: a day is 23 or 25 hours long across DST changes
        continue;
      }
      if (!this.sets.hour.has(p.hour)) {
        t += toNextHour;
        continue;
      }
      if (!this.sets.minute.has(p.minute)) {
        t += (60 - p.second) * 1000;
        continue;
      }
      if (this.sets.second.has(p.second) && this.task.match(new Date(t))) return t;
      t += 1000;
    }
    return null;
  }

  destroy(): void {
    void this.task.destroy();
  }
}

/**
 * Scheduled runs that fell between the last sign of a scan and now (minus a tolerance for a run that is
 * just starting): the first one and how many (counting stops at `cap`).
 */
export function missedRuns(
  schedule: { cron: string; timezone?: string },
  lastActivity: number,
  now: number,
  options: { toleranceMs?: number; cap?: number } = {},
): { first: number; count: number } | null {
  const walker = new ScheduleWalker(schedule.cron, schedule.timezone);
  try {
    const until = now - (options.toleranceMs ?? 60_000);
    const first = walker.nextBetween(lastActivity, until);
    if (first === null) return null;
    let count = 1;
    const cap = options.cap ?? 10_000;
    for (let t = walker.nextBetween(first, until); t !== null && count < cap; t = walker.nextBetween(t, until)) count++;
    return { first, count };
  } finally {
    walker.destroy();
  }
}
