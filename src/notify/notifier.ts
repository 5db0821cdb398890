// The notifier: what the scans and remediation code call when something happened. It derives the events,
// drops the ones already told (deduplication), applies each channel's enabled flag, event and severity
// filters, and delivers one message per scan (or fix event) per channel in the background, with retries.
// Nothing here can fail or hold up the caller: onScanCompleted / onFixEvent / checkStale return at once
// and never throw; idle() is how tests (and a shutting-down server) wait for deliveries in flight.
// Every message is stored with its content and claimed by this notifier (a lease it renews while it
// delivers), so that a message left unfinished by a stopped process is sent again by the next notifier
// to start (resumeUnfinished) when it is young enough, and marked failed when it is not. Rate limits pause
// the whole destination (SQLite notification_pauses), so processes sharing the database wait together.
//
//   notifierFor(runtime).onScanCompleted(previousSucceededScan, finishedScan)
//   notifierFor(runtime).onFixEvent({ type: "fix-applied", workload, ruleIds, changeId, ... })
import { randomUUID } from "node:crypto";
import cron, { type ScheduledTask } from "node-cron";
import type { EmailNotificationConfig, NotificationChannelConfig, NotificationsConfig, SlackNotificationConfig } from "../config/types.js";
import { ConfigError, toAppError } from "../errors.js";
import { logger as rootLogger } from "../logger.js";
import type { Runtime } from "../runtime.js";
import {
  NotificationStore,
  type AttemptRecord,
  type NotificationChannel,
  type NotificationKind,
  type NotificationRecord,
} from "../store/notification-store.js";
import { composeAlert, composeDigest, composeTest, type MessageContent } from "./content.js";
import { DEFAULT_DELIVERY, DeliveryError, deliver, type DeliveryPolicy, type DeliveryResult, type DestinationGate, type Sender } from "./delivery.js";
import { EmailSender } from "./email.js";
import {
  eventSeverity,
  eventsForScan,
  fingerprint,
  staleEvent,
  type FixEvent,
  type FixEventInput,
  type NotificationEvent,
  type ScanSummary,
} from "./events.js";
import { SlackSender } from "./slack.js";

export const CHANNELS = ["slack", "email"] as const satisfies readonly NotificationChannel[];
export const DEFAULT_DEDUPE_HOURS = 24;
export const DEFAULT_DIGEST_CRON = "0 8 * * *";
const HOUR = 3_600_000;
/** Unfinished messages younger than this are sent again when a notifier starts (notifications.delivery.resumeWithinMs). */
export const DEFAULT_RESUME_WITHIN_MS = HOUR;
/** How long a notifier's claim on a message holds without renewal; it renews a third of the way. */
export const DEFAULT_LEASE_MS = 30_000;

/** 45 s, 12 min, 3 h, 2 d: an age or a limit as people say it. */
export function humanDuration(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 2 * HOUR) return `${Math.round(ms / 60_000)} min`;
  if (ms < 48 * HOUR) return `${Math.round((ms / HOUR) * 10) / 10} h`;
  return `${Math.round((ms / (24 * HOUR)) * 10) / 10} d`;
}

/** The subset of pino the notifier logs through (tests pass a pino writing to memory). */
export interface NotifyLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface NotifierOptions {
  store: NotificationStore;
  /** The notifications section; a function so that a configuration reload takes effect at the next event. */
  config: NotificationsConfig | undefined | (() => NotificationsConfig | undefined);
  logger?: NotifyLogger;
  /** Where the SMTP credentials are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** Overrides notifications.delivery (tests use short delays). */
  delivery?: Partial<DeliveryPolicy>;
  sleep?: (ms: number) => Promise<void>;
  /** Overrides notifications.delivery.resumeWithinMs. */
  resumeWithinMs?: number;
  /** How long a claim on a message holds without renewal (default 30 s; tests use less). */
  leaseMs?: number;
}

/** What resumeUnfinished() found: messages sent again, marked failed as too old, or found delivered already. */
export interface ResumeResult {
  resumed: number[];
  expired: number[];
  delivered: number[];
  /** Not sent again because their channel is no longer configured (marked failed). */
  unconfigured: number[];
}

/** What a call did: the events kept (after deduplication), how many were duplicates, and the messages queued. */
export interface NotifyResult {
  events: NotificationEvent[];
  duplicates: number;
  notifications: { id: number; channel: NotificationChannel }[];
}

export interface TestDeliveryResult {
  notificationId: number;
  channel: NotificationChannel;
  status: "sent" | "failed";
  attempts: AttemptRecord[];
}

const empty = (): NotifyResult => ({ events: [], duplicates: 0, notifications: [] });

/** The part of an event one channel receives: null when its event filter or severity filter leaves nothing. */
export function eventForChannel(event: NotificationEvent, channel: NotificationChannelConfig): NotificationEvent | null {
  if (channel.events && !channel.events.includes(event.type)) return null;
  const levels = channel.severityLevels;
  if (!levels) return event;
  if (event.type === "scan-new-violations") {
    const newFindings = event.newFindings.filter((f) => levels.includes(f.severity));
    return newFindings.length > 0 ? { ...event, newFindings } : null;
  }
  const severity = eventSeverity(event);
  // Score, failure and stale events concern no severity: severity filters do not hide them.
  return severity === null || levels.includes(severity) ? event : null;
}

export class Notifier {
  private readonly store: NotificationStore;
  private readonly log: NotifyLogger;
  private readonly now: () => number;
  private readonly pending = new Set<Promise<unknown>>();
  private digestTask: ScheduledTask | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private resumeTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** This notifier's name as the owner of the messages it delivers. */
  readonly owner = `${process.pid}-${randomUUID()}`;
  private readonly leaseMs: number;

  constructor(private readonly options: NotifierOptions) {
    this.store = options.store;
    this.log = options.logger ?? rootLogger.child({ component: "notifications" });
    this.now = options.now ?? Date.now;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  get config(): NotificationsConfig {
    const c = typeof this.options.config === "function" ? this.options.config() : this.options.config;
    return c ?? {};
  }

  /**
   * A scan finished (succeeded or failed). `previous` is the last *succeeded* scan of the same scope
   * before it, or null. Alerts on what is new since then, as one message per channel; quiet when nothing
   * changed. Returns at once; delivery happens in the background.
   */
  onScanCompleted(previous: ScanSummary | null, current: ScanSummary): NotifyResult {
    return this.guard("scan", () => {
      this.store.recordScan({ cluster: current.cluster ?? "", scope: current.scope, scanId: current.scanId, status: current.status, at: Date.parse(current.finishedAt) || this.now() });
      return this.dispatch(eventsForScan(previous, current, this.config));
    });
  }

  /** A fix was applied, failed, awaits approval, or was rolled back. Returns at once. */
  onFixEvent(input: FixEventInput): NotifyResult {
    return this.guard("fix", () => {
      const event = { ...input, at: input.at ?? new Date(this.now()).toISOString(), scope: input.scope ?? input.workload.namespace } as FixEvent;
      return this.dispatch([event]);
    });
  }

  /** Alerts on every scanned scope without a successful scan for longer than staleAfterHours (off when unset). */
  checkStale(now: number = this.now()): NotifyResult {
    return this.guard("stale", () => {
      const hours = this.config.staleAfterHours;
      const result = empty();
      if (!hours) return result;
      for (const state of this.store.scopes()) {
        const event = staleEvent(
          { scope: state.scope, ...(state.cluster ? { cluster: state.cluster } : {}), firstSeenAt: state.firstSeenAt, lastSuccessAt: state.lastSuccessAt, lastSuccessScanId: state.lastSuccessId },
          now,
          hours,
        );
        if (!event) continue;
        const one = this.dispatch([event]);
        result.events.push(...one.events);
        result.duplicates += one.duplicates;
        result.notifications.push(...one.notifications);
      }
      return result;
    });
  }

  /** The digest of the events since each digest channel's last delivered digest (the last day for the first one); quiet when there were none. */
  sendDigest(now: number = this.now()): NotifyResult {
    return this.guard("digest", () => {
      const config = this.config;
      const result = empty();
      for (const channel of CHANNELS) {
        const channelConfig = this.channelConfig(channel);
        if (!channelConfig || channelConfig.enabled === false) continue;
        const mode = channelConfig.mode ?? "immediate";
        if (mode === "immediate") continue;
        const from = this.store.lastDigestSentAt(channel) ?? now - 24 * HOUR;
        const stored = this.store.eventsBetween<NotificationEvent>(from, now);
        const views = stored.map((e) => ({ id: e.id, event: eventForChannel(e.payload, channelConfig) })).filter((v) => v.event !== null);
        if (views.length === 0) continue;
        const content = composeDigest(views.map((v) => v.event!), { from, to: now }, { maxFindings: config.maxFindings });
        result.notifications.push(this.queue(channel, "digest", views.map((v) => v.id), views.map((v) => v.event!.type), content, now));
      }
      return result;
    });
  }

  /**
   * Sends a test message to a configured channel and waits for the outcome (with the usual retries);
   * ignores the channel's enabled flag and filters, so a channel can be tried before it is switched on.
   * Throws ConfigError when the channel is not configured, DeliveryError when every attempt failed.
   */
  async sendTest(channel: NotificationChannel, origin = "kube-policy"): Promise<TestDeliveryResult> {
    const channelConfig = this.channelConfig(channel);
    if (!channelConfig) {
      throw new ConfigError(`no ${channel} notifications are configured`, {
        details: [{ where: `/notifications/${channel}`, message: channel === "slack" ? "add notifications.slack.webhookUrl" : "add notifications.email.recipients (and smtp)" }],
      });
    }
    const now = this.now();
    const content = composeTest(channel, now, origin);
    const sender = this.sender(channel);
    const id = this.store.createNotification(
      { channel, kind: "test", eventIds: [], eventTypes: [], subject: content.subject, destination: sender.destination(), content, claim: this.claim(now) },
      now,
    );
    const result = await this.deliverInBackground(id, sender, content);
    const attempts = this.store.attempts(id);
    if (result.status === "failed") {
      throw new DeliveryError(`the test notification to ${channel} failed after ${attempts.length} attempt(s): ${result.error ?? "unknown error"}`, {
        retryable: false,
        statusCode: attempts.at(-1)?.statusCode ?? null,
        details: attempts.map((a) => ({ where: `attempt ${a.attempt}`, message: `${a.statusCode !== null ? `${a.statusCode} ` : ""}${a.error ?? a.status}` })),
      });
    }
    return { notificationId: id, channel, status: result.status, attempts };
  }

  /** Resolves when every delivery started so far (and any retry it schedules) has finished. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /**
   * Picks up the messages a stopped process left unfinished (no claim, or a claim that lapsed): those
   * created within notifications.delivery.resumeWithinMs are sent again through the usual delivery (same
   * message, attempts continuing its history; their events were recorded once and are not re-derived), older
   * ones are marked failed saying so, and one whose last attempt was delivered is marked sent without sending
   * it again. The claim is one IMMEDIATE transaction: two processes starting together cannot both take a
   * message. Returns at once (delivery runs in the background) and never throws.
   */
  resumeUnfinished(now: number = this.now()): ResumeResult {
    const result: ResumeResult = { resumed: [], expired: [], delivered: [], unconfigured: [] };
    try {
      const within = this.resumeWithinMs();
      const claimed = this.store.claimUnfinished(this.owner, now, now + this.leaseMs, now - within, (age) =>
        `not sent: the process delivering it stopped before it was delivered (kube-policy was stopped or crashed), and it was ${humanDuration(age)} old when kube-policy started again, older than notifications.delivery.resumeWithinMs (${humanDuration(within)}) allows to send late`,
      );
      for (const n of claimed.delivered) {
        result.delivered.push(n.id);
        this.log.info({ notification: n.id, channel: n.channel }, "notification found delivered by a process that stopped before recording it; marked sent");
      }
      for (const n of claimed.expired) {
        result.expired.push(n.id);
        this.log.warn({ notification: n.id, channel: n.channel, createdAt: n.createdAt }, "notification left unfinished by a stopped process is too old to send; marked failed");
      }
      for (const n of claimed.resumed) {
        const channelConfig = this.channelConfig(n.channel);
        if (!channelConfig || (n.kind !== "test" && channelConfig.enabled === false)) {
          const error = `not sent: the process delivering it stopped before it was delivered, and notifications.${n.channel} is ${channelConfig ? "disabled" : "no longer configured"}`;
          this.store.finishNotification(n.id, "failed", error, this.now());
          result.unconfigured.push(n.id);
          this.log.warn({ notification: n.id, channel: n.channel }, "notification left unfinished by a stopped process has no configured channel any more; marked failed");
          continue;
        }
        const content = this.storedContent(n);
        result.resumed.push(n.id);
        this.log.info({ notification: n.id, channel: n.channel, createdAt: n.createdAt, attempts: n.attempts }, "resuming a notification left unfinished by a stopped process");
        void this.deliverInBackground(n.id, this.sender(n.channel), content, n.attempts + 1);
      }
    } catch (error) {
      const e = toAppError(error);
      this.log.error({ code: e.code, err: e.message }, "notifications: could not resume unfinished messages; the next start will try again");
    }
    return result;
  }

  /** Starts the digest schedule (when a channel wants one), the periodic stale check (when configured), and resumes unfinished messages now and periodically. */
  start(): void {
    this.resumeUnfinished();
    if (!this.resumeTimer) {
      // Messages of a process that stopped moments ago still hold a claim at start: look again once it lapses.
      this.resumeTimer = setInterval(() => void this.resumeUnfinished(), this.leaseMs);
      this.resumeTimer.unref();
    }
    const config = this.config;
    const wantsDigest = CHANNELS.some((c) => {
      const cc = this.channelConfig(c);
      return cc && cc.enabled !== false && (cc.mode === "digest" || cc.mode === "both");
    });
    if (wantsDigest && !this.digestTask) {
      const expression = config.digest?.cron ?? DEFAULT_DIGEST_CRON;
      if (!cron.validate(expression)) {
        throw new ConfigError("invalid notifications digest schedule", {
          details: [{ where: "/notifications/digest/cron", message: `${JSON.stringify(expression)} is not a cron expression (e.g. 0 8 * * * for 08:00 every day)` }],
        });
      }
      try {
        this.digestTask = cron.createTask(expression, () => void this.sendDigest(), { name: "kube-policy-digest", timezone: config.digest?.timezone, noOverlap: true });
      } catch (error) {
        throw new ConfigError("invalid notifications digest schedule", {
          details: [{ where: "/notifications/digest/timezone", message: toAppError(error).message }],
          cause: error,
        });
      }
      void this.digestTask.start();
    }
    if (config.staleAfterHours && !this.staleTimer) {
      // Often enough to notice within a quarter of the allowed age, never more than every 15 minutes.
      const every = Math.min(15 * 60_000, Math.max(60_000, (config.staleAfterHours * HOUR) / 4));
      this.staleTimer = setInterval(() => void this.checkStale(), every);
      this.staleTimer.unref();
    }
  }

  /** Stops the schedules and waits for deliveries in flight. */
  async stop(): Promise<void> {
    if (this.staleTimer) clearInterval(this.staleTimer);
    this.staleTimer = undefined;
    if (this.resumeTimer) clearInterval(this.resumeTimer);
    this.resumeTimer = undefined;
    await this.digestTask?.destroy();
    this.digestTask = undefined;
    await this.idle();
  }

  private channelConfig(channel: "slack"): SlackNotificationConfig | undefined;
  private channelConfig(channel: "email"): EmailNotificationConfig | undefined;
  private channelConfig(channel: NotificationChannel): SlackNotificationConfig | EmailNotificationConfig | undefined;
  private channelConfig(channel: NotificationChannel): SlackNotificationConfig | EmailNotificationConfig | undefined {
    return channel === "slack" ? this.config.slack : this.config.email;
  }

  private sender(channel: NotificationChannel): Sender {
    if (channel === "slack") return new SlackSender(this.config.slack!);
    return new EmailSender(this.config.email!, this.options.env);
  }

  private policy(): DeliveryPolicy {
    const { resumeWithinMs: _resume, ...delivery } = this.config.delivery ?? {};
    return { ...DEFAULT_DELIVERY, ...delivery, ...this.options.delivery };
  }

  private resumeWithinMs(): number {
    return this.options.resumeWithinMs ?? this.config.delivery?.resumeWithinMs ?? DEFAULT_RESUME_WITHIN_MS;
  }

  private claim(now: number): { owner: string; leaseUntil: number } {
    return { owner: this.owner, leaseUntil: now + this.leaseMs };
  }

  /** The message as composed when it was queued; for messages stored before contents were, composed again from its events. */
  private storedContent(n: NotificationRecord): MessageContent {
    if (n.content) return n.content as MessageContent;
    const created = Date.parse(n.createdAt);
    if (n.kind === "test") return composeTest(n.channel, created, "kube-policy");
    const events = this.store.eventsByIds<NotificationEvent>(n.eventIds);
    const maxFindings = this.config.maxFindings;
    if (n.kind === "digest") {
      const from = Math.min(created, ...events.map((e) => Date.parse(e.createdAt)));
      return composeDigest(events.map((e) => e.payload), { from, to: created }, { maxFindings });
    }
    return composeAlert(events.map((e) => e.payload), { maxFindings });
  }

  /** The shared pauses of destinations, as this message sees them (SQLite: shared with every process on the database). */
  private gate(id: number): DestinationGate {
    return {
      pausedUntil: (destination, now) => this.store.destinationPause(destination, now),
      pause: (destination, until, reason) => this.store.pauseDestination(destination, until, id, reason),
    };
  }

  /** Renews the claims on the messages in flight while there are any. */
  private beat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      try {
        this.store.renewClaims(this.owner, this.now() + this.leaseMs);
      } catch (error) {
        this.log.warn({ err: toAppError(error).message }, "notifications: could not renew the claim on messages in flight");
      }
    }, Math.max(10, Math.floor(this.leaseMs / 3)));
    this.heartbeat.unref();
  }

  /** Runs the body; a failure (a broken database, a bug) is logged and becomes an empty result, never the caller's problem. */
  private guard(what: string, body: () => NotifyResult): NotifyResult {
    try {
      return body();
    } catch (error) {
      const e = toAppError(error);
      this.log.error({ code: e.code, err: e.message, what }, "notifications: could not process the event; nothing was sent");
      return empty();
    }
  }

  /** Stores the events that are not duplicates and queues one message per channel that wants any of them. */
  private dispatch(events: NotificationEvent[]): NotifyResult {
    const result = empty();
    if (events.length === 0) return result;
    const config = this.config;
    const now = this.now();
    const dedupeHours = config.dedupeHours ?? DEFAULT_DEDUPE_HOURS;
    // dedupeHours 0: nothing counts as a duplicate.
    const since = dedupeHours > 0 ? now - dedupeHours * HOUR : Number.MAX_SAFE_INTEGER;
    const stored: { id: number; event: NotificationEvent }[] = [];
    for (const event of events) {
      const record = this.store.recordEventOnce(
        { type: event.type, fingerprint: fingerprint(event), scope: event.scope, scanId: "scanId" in event ? event.scanId : null, severity: eventSeverity(event), payload: event },
        now,
        since,
      );
      if (record) {
        stored.push({ id: record.id, event });
        result.events.push(event);
      } else {
        result.duplicates += 1;
        this.log.debug({ type: event.type, scope: event.scope }, "notifications: an identical event was already sent; not sending it again");
      }
    }
    if (stored.length === 0) return result;
    for (const channel of CHANNELS) {
      const channelConfig = this.channelConfig(channel);
      if (!channelConfig || channelConfig.enabled === false) continue;
      if ((channelConfig.mode ?? "immediate") === "digest") continue;
      const views = stored.map((s) => ({ id: s.id, event: eventForChannel(s.event, channelConfig) })).filter((v) => v.event !== null);
      if (views.length === 0) continue;
      const content = composeAlert(views.map((v) => v.event!), { maxFindings: config.maxFindings });
      result.notifications.push(this.queue(channel, "alert", views.map((v) => v.id), views.map((v) => v.event!.type), content, now));
    }
    return result;
  }

  private queue(channel: NotificationChannel, kind: NotificationKind, eventIds: number[], eventTypes: string[], content: MessageContent, now: number) {
    const sender = this.sender(channel);
    const id = this.store.createNotification(
      { channel, kind, eventIds, eventTypes, subject: content.subject, destination: sender.destination(), content, claim: this.claim(now) },
      now,
    );
    void this.deliverInBackground(id, sender, content);
    return { id, channel };
  }

  /**
   * Delivers after the caller's turn of the event loop (so not even the first connection attempt runs on
   * its time), records every attempt, and resolves with the outcome; never rejects.
   */
  private deliverInBackground(id: number, sender: Sender, content: MessageContent, firstAttempt = 1): Promise<DeliveryResult> {
    const policy = this.policy();
    this.beat();
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() =>
        deliver(
          sender,
          content,
          policy,
          (a) => {
            this.store.recordAttempt({
              notificationId: id,
              attempt: a.attempt,
              status: a.status,
              retryable: a.retryable,
              statusCode: a.statusCode,
              error: a.error,
              startedAt: a.startedAt,
              durationMs: a.durationMs,
              response: a.response,
              retryAfterMs: a.retryAfterMs,
              waitMs: a.retryInMs,
              pausedMs: a.pausedMs,
              pausedBy: a.pausedBy,
            });
            if (a.status === "failed") {
              this.log.warn(
                { notification: id, channel: sender.channel, attempt: a.attempt, statusCode: a.statusCode, error: a.error, retryInMs: a.retryInMs, retryAfterMs: a.retryAfterMs },
                a.retryInMs === null ? "notification delivery attempt failed" : "notification delivery attempt failed; retrying",
              );
            }
          },
          this.options.sleep,
          { gate: this.gate(id), firstAttempt },
        ),
      )
      .then((result) => {
        this.store.finishNotification(id, result.status, result.error, this.now());
        if (result.status === "sent") this.log.info({ notification: id, channel: sender.channel, attempts: result.attempts.length }, "notification sent");
        else this.log.error({ notification: id, channel: sender.channel, attempts: result.attempts.length, error: result.error }, "notification not delivered");
        return result;
      })
      .catch((error: unknown): DeliveryResult => {
        const e = toAppError(error);
        this.log.error({ notification: id, channel: sender.channel, code: e.code, error: e.message }, "notification delivery could not be recorded");
        return { status: "failed", attempts: [], error: e.message };
      });
    this.pending.add(run);
    void run.finally(() => {
      this.pending.delete(run);
      if (this.pending.size === 0 && this.heartbeat) {
        clearInterval(this.heartbeat);
        this.heartbeat = undefined;
      }
    });
    return run;
  }
}

/**
 * storage.retentionDays applied to the notification history: finished messages older than that go with
 * their attempts, and so do older events no remaining message carries (events within the deduplication
 * window stay, so that nothing is told twice). Runs after each scan's own retention and when serve starts;
 * null when no retention is configured.
 */
export function applyNotificationRetention(runtime: Runtime, now: number = Date.now()): { notifications: number; attempts: number; events: number } | null {
  const days = runtime.config.storage?.retentionDays;
  if (!days) return null;
  const dedupeHours = runtime.config.notifications?.dedupeHours ?? DEFAULT_DEDUPE_HOURS;
  return new NotificationStore(runtime.db()).applyRetention(days, now, now - dedupeHours * HOUR);
}

const notifiers = new WeakMap<Runtime, Notifier>();

/** The runtime's notifier (its SQLite store, its configuration as reloaded), created on first use. */
export function notifierFor(runtime: Runtime, options: Partial<Omit<NotifierOptions, "store" | "config">> = {}): Notifier {
  let notifier = notifiers.get(runtime);
  if (!notifier) {
    notifier = new Notifier({ ...options, store: new NotificationStore(runtime.db()), config: () => runtime.config.notifications });
    notifiers.set(runtime, notifier);
  }
  return notifier;
}
