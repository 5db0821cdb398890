// Delivering one message over one channel: bounded attempts, a timeout per attempt, exponential backoff
// between attempts, and a retry only for failures that a later attempt can cure (5xx answers, timeouts,
// refused or dropped connections). A rate limit with a wait (Slack's 429 + Retry-After) replaces the
// backoff by that wait, within a cap and the delivery's total waiting budget. A rate limit concerns the
// whole destination (the webhook, the SMTP server), not the message that met it: it pauses the destination
// through the caller's gate, and every delivery to it waits for the pause before its next attempt (by the
// same cap and budget) instead of sending into it. Every attempt is reported to the caller, which records it.
import { AppError } from "../errors.js";
import type { NotificationChannel } from "../store/notification-store.js";
import type { MessageContent } from "./content.js";

/** A delivery that did not succeed; `retryable` says whether another attempt may. */
export class DeliveryError extends AppError {
  static override code = "notification_failed";
  static override status = 502;
  readonly retryable: boolean;
  /** The HTTP status (Slack) or SMTP reply code (e-mail), when the other side answered. */
  readonly statusCode: number | null;
  /** How long the other side asked us to wait before trying again (Slack's Retry-After), in ms. */
  readonly retryAfterMs: number | null;
  /** The other side refused the destination as a whole for a while (Slack 429, SMTP 421): every message to it should wait. */
  readonly pausesDestination: boolean;

  constructor(
    message: string,
    options: {
      retryable: boolean;
      statusCode?: number | null;
      retryAfterMs?: number | null;
      pausesDestination?: boolean;
      cause?: unknown;
      details?: { where?: string; message: string }[];
    },
  ) {
    super(message, { cause: options.cause, details: options.details });
    this.retryable = options.retryable;
    this.statusCode = options.statusCode ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
    this.pausesDestination = options.pausesDestination ?? false;
  }
}

/** A channel's way of sending a message once. */
export interface Sender {
  readonly channel: NotificationChannel;
  /** Sends once; aborting `signal` (the attempt's timeout) must end the attempt. Throws DeliveryError. */
  send(content: MessageContent, signal: AbortSignal): Promise<{ statusCode: number | null; response?: string }>;
  /** Values that must never reach a log line or the database (webhook URL, SMTP password). */
  secrets(): string[];
  /** Where messages go, with nothing secret in it: the history shows it. */
  destination(): Destination;
  /** What a rate limit applies to, with nothing secret in it: slack:<SHA-256 of the webhook URL>, smtp://host:port. */
  destinationKey(): string;
}

/** A destination's pause: until when (ms), the message that met the rate limit, and what the other side said. */
export interface Pause {
  until: number;
  notificationId: number | null;
  reason: string;
}

/** Where the pauses of destinations are kept (the notifier's: SQLite, so processes sharing a database share them). */
export interface DestinationGate {
  /** The destination's pause in force at `now`, or null. */
  pausedUntil(destination: string, now: number): Pause | null;
  /** Pauses the destination until `until` (ms) because this delivery met a rate limit. */
  pause(destination: string, until: number, reason: string): void;
}

/** A channel's target as recorded with each message: the Slack channel or the recipients, and the endpoint with its secret part redacted. */
export interface Destination {
  /** The Slack channel (empty: the webhook's own channel) or the e-mail recipients. */
  targets: string[];
  /** https://hooks.slack.com/[redacted] (key 1a2b3c4d), smtp://mail.example.com:587 */
  endpoint: string;
}

export interface DeliveryPolicy {
  maxAttempts: number;
  timeoutMs: number;
  /** Delay before the second attempt; doubled for each further one, up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** The longest single wait a rate limit (Retry-After) may ask for; a longer one fails the delivery at once. */
  maxRetryAfterMs: number;
  /** The longest a delivery waits in total between its attempts; a Retry-After beyond what is left fails it at once. */
  retryBudgetMs: number;
}

export const DEFAULT_DELIVERY: DeliveryPolicy = {
  maxAttempts: 4,
  timeoutMs: 10_000,
  backoffMs: 1_000,
  maxBackoffMs: 30_000,
  maxRetryAfterMs: 60_000,
  retryBudgetMs: 300_000,
};

export interface AttemptOutcome {
  attempt: number;
  status: "sent" | "failed";
  retryable: boolean;
  statusCode: number | null;
  /** Secrets removed. */
  error: string | null;
  /** What the other side answered to a delivered message (Slack's body, the SMTP reply), secrets removed; null when nothing. */
  response: string | null;
  startedAt: number;
  durationMs: number;
  /** The delay before the next attempt; null when there is none. */
  retryInMs: number | null;
  /** The wait the other side asked for (Retry-After), whether or not it was honoured; null when it asked none. */
  retryAfterMs: number | null;
  /** How long the attempt waited, before it was made, for its destination's pause; null when it did not. */
  pausedMs: number | null;
  /** The message whose rate limit paused the destination. */
  pausedBy: number | null;
}

export interface DeliveryResult {
  status: "sent" | "failed";
  attempts: AttemptOutcome[];
  /** The last attempt's error when the delivery failed. */
  error: string | null;
}

/**
 * The number of the last attempt: maxAttempts, counting the attempts a resumed message made before its
 * process stopped, with at least one more for it.
 */
function lastAttemptOf(policy: DeliveryPolicy, firstAttempt: number): number {
  return Math.max(firstAttempt, policy.maxAttempts);
}

export function backoffDelay(policy: DeliveryPolicy, attempt: number): number {
  return Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (attempt - 1));
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
const whoOf = (sender: Sender) => (sender.channel === "slack" ? "Slack" : "the SMTP server");

/**
 * What to do after a failed attempt: the delay before the next one (null: stop) and, when a rate limit
 * stops the delivery, the error that says so.
 */
function nextStep(
  sender: Sender,
  failure: DeliveryError,
  attempt: number,
  policy: DeliveryPolicy,
  waitedMs: number,
  firstAttempt: number,
): { retryInMs: number | null; error?: string } {
  if (!failure.retryable) return { retryInMs: null };
  const retryAfter = failure.retryAfterMs;
  const lastAttempt = attempt >= lastAttemptOf(policy, firstAttempt);
  if (retryAfter === null) return { retryInMs: lastAttempt ? null : backoffDelay(policy, attempt) };
  const limited = `${whoOf(sender)} rate-limited us for ${seconds(retryAfter)} (Retry-After)`;
  if (lastAttempt) return { retryInMs: null, error: `${limited} and no attempt is left (delivery.maxAttempts ${policy.maxAttempts})` };
  if (retryAfter > policy.maxRetryAfterMs) {
    return { retryInMs: null, error: `${limited}, longer than the ${seconds(policy.maxRetryAfterMs)} a delivery waits at most (delivery.maxRetryAfterMs); not retried` };
  }
  const left = Math.max(0, policy.retryBudgetMs - waitedMs);
  if (retryAfter > left) {
    return { retryInMs: null, error: `${limited}, longer than the ${seconds(left)} left of the retry budget (delivery.retryBudgetMs ${seconds(policy.retryBudgetMs)}); not retried` };
  }
  // At least what was asked, instead of our own backoff.
  return { retryInMs: retryAfter };
}

/** Replaces every secret (and, for URLs, their path) in a text. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue; // a one-letter "secret" would shred the message and protects nothing
    out = out.split(secret).join("[redacted]");
  }
  return out;
}

// Not unref'd: a CLI awaiting a delivery must not exit in the middle of a backoff.
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One attempt, bounded by the timeout whether or not the sender honours the abort. */
async function attemptOnce(sender: Sender, content: MessageContent, timeoutMs: number): Promise<{ statusCode: number | null; response?: string }> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DeliveryError(`no answer within ${timeoutMs} ms (timed out)`, { retryable: true });
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([sender.send(content, controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Options of one delivery: the gate of shared pauses, and where a resumed message's attempts continue. */
export interface DeliverOptions {
  gate?: DestinationGate;
  /** The number of this delivery's first attempt (a resumed message continues its history); default 1. */
  firstAttempt?: number;
}

/**
 * Waits while the destination is paused, within the cap and what is left of the budget. Returns how long it
 * waited and whose pause it was, or the error that stops the delivery when the pause lasts too long.
 */
async function waitForPause(
  sender: Sender,
  gate: DestinationGate,
  policy: DeliveryPolicy,
  waitedMs: number,
  sleep: (ms: number) => Promise<void>,
): Promise<{ pausedMs: number; pausedBy: number | null; error?: string }> {
  const key = sender.destinationKey();
  let pausedMs = 0;
  let pausedBy: number | null = null;
  for (;;) {
    const now = Date.now();
    const pause = gate.pausedUntil(key, now);
    if (!pause) return { pausedMs, pausedBy };
    const wait = pause.until - now;
    const where = sender.channel === "slack" ? "the Slack webhook" : "the SMTP server";
    const since = `${where} is paused for ${seconds(wait)} more${pause.notificationId !== null ? ` (message #${pause.notificationId}: ${pause.reason})` : ` (${pause.reason})`}`;
    if (wait > policy.maxRetryAfterMs) {
      return { pausedMs, pausedBy: pause.notificationId, error: `not sent: ${since}, longer than the ${seconds(policy.maxRetryAfterMs)} a delivery waits at most (delivery.maxRetryAfterMs)` };
    }
    const left = Math.max(0, policy.retryBudgetMs - waitedMs - pausedMs);
    if (wait > left) {
      return {
        pausedMs,
        pausedBy: pause.notificationId,
        error: `not sent: ${since}, longer than the ${seconds(left)} left of the retry budget (delivery.retryBudgetMs ${seconds(policy.retryBudgetMs)})`,
      };
    }
    pausedBy = pause.notificationId;
    pausedMs += wait;
    await sleep(wait);
  }
}

/**
 * Sends with retries. Never throws: the result (and each attempt, through onAttempt as it happens) says
 * what happened. `sleep` is injectable so that tests run the backoff with short delays. With a gate, each
 * attempt first waits for its destination's pause, and a rate limit pauses the destination for the others.
 */
export async function deliver(
  sender: Sender,
  content: MessageContent,
  policy: DeliveryPolicy,
  onAttempt: (outcome: AttemptOutcome) => void,
  sleep: (ms: number) => Promise<void> = defaultSleep,
  options: DeliverOptions = {},
): Promise<DeliveryResult> {
  const attempts: AttemptOutcome[] = [];
  const firstAttempt = options.firstAttempt ?? 1;
  const gate = options.gate;
  let waitedMs = 0;
  for (let attempt = firstAttempt; attempt <= lastAttemptOf(policy, firstAttempt); attempt++) {
    let outcome: AttemptOutcome;
    const paused = gate ? await waitForPause(sender, gate, policy, waitedMs, sleep) : { pausedMs: 0, pausedBy: null };
    waitedMs += paused.pausedMs;
    const pausedMs = paused.pausedMs > 0 ? paused.pausedMs : null;
    const pausedBy = paused.pausedMs > 0 || paused.error ? paused.pausedBy : null;
    const startedAt = Date.now();
    if (paused.error !== undefined) {
      // Not sent at all: the pause outlasts what this delivery may wait.
      outcome = { attempt, status: "failed", retryable: true, statusCode: null, error: scrub(paused.error, sender.secrets()), response: null, startedAt, durationMs: 0, retryInMs: null, retryAfterMs: null, pausedMs, pausedBy };
    } else {
      try {
        const { statusCode, response } = await attemptOnce(sender, content, policy.timeoutMs);
        outcome = { attempt, status: "sent", retryable: false, statusCode, error: null, response: response ? scrub(response, sender.secrets()) : null, startedAt, durationMs: Date.now() - startedAt, retryInMs: null, retryAfterMs: null, pausedMs, pausedBy };
      } catch (error) {
        const failure = error instanceof DeliveryError ? error : new DeliveryError(error instanceof Error ? error.message : String(error), { retryable: false, cause: error });
        const next = nextStep(sender, failure, attempt, policy, waitedMs, firstAttempt);
        outcome = {
          attempt,
          status: "failed",
          retryable: failure.retryable,
          statusCode: failure.statusCode,
          error: scrub(next.error ?? failure.message, sender.secrets()),
          response: null,
          startedAt,
          durationMs: Date.now() - startedAt,
          retryInMs: next.retryInMs,
          retryAfterMs: failure.retryAfterMs,
          pausedMs,
          pausedBy,
        };
        // The rate limit is the destination's: the other messages to it wait as long (what it asked, else our backoff).
        const pauseMs = failure.retryAfterMs ?? next.retryInMs;
        if (gate && failure.pausesDestination && pauseMs !== null && pauseMs > 0) {
          try {
            gate.pause(sender.destinationKey(), Date.now() + pauseMs, scrub(failure.message, sender.secrets()));
          } catch {
            // a busy database: the others meet the rate limit themselves, as before
          }
        }
      }
    }
    attempts.push(outcome);
    try {
      onAttempt(outcome);
    } catch {
      // recording is the caller's concern; a full disk must not turn a sent message into a retry
    }
    if (outcome.status === "sent") return { status: "sent", attempts, error: null };
    if (outcome.retryInMs === null) break;
    waitedMs += outcome.retryInMs;
    await sleep(outcome.retryInMs);
  }
  return { status: "failed", attempts, error: attempts.at(-1)?.error ?? null };
}
