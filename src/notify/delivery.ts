// Delivering one message over one channel: bounded attempts, a timeout per attempt, exponential backoff
// between attempts, and a retry only for failures that a later attempt can cure (5xx answers, timeouts,
// refused or dropped connections). A rate limit with a wait (Slack's 429 + Retry-After) replaces the
// backoff by that wait, within a cap and the delivery's total waiting budget. Every attempt is reported to
// the caller, which records it.
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

  constructor(
    message: string,
    options: { retryable: boolean; statusCode?: number | null; retryAfterMs?: number | null; cause?: unknown; details?: { where?: string; message: string }[] },
  ) {
    super(message, { cause: options.cause, details: options.details });
    this.retryable = options.retryable;
    this.statusCode = options.statusCode ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
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
}

export interface DeliveryResult {
  status: "sent" | "failed";
  attempts: AttemptOutcome[];
  /** The last attempt's error when the delivery failed. */
  error: string | null;
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
): { retryInMs: number | null; error?: string } {
  if (!failure.retryable) return { retryInMs: null };
  const retryAfter = failure.retryAfterMs;
  const lastAttempt = attempt >= policy.maxAttempts;
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

/**
 * Sends with retries. Never throws: the result (and each attempt, through onAttempt as it happens) says
 * what happened. `sleep` is injectable so that tests run the backoff with short delays.
 */
export async function deliver(
  sender: Sender,
  content: MessageContent,
  policy: DeliveryPolicy,
  onAttempt: (outcome: AttemptOutcome) => void,
  sleep: (ms: number) => Promise<void> = defaultSleep,
): Promise<DeliveryResult> {
  const attempts: AttemptOutcome[] = [];
  let waitedMs = 0;
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    const startedAt = Date.now();
    let outcome: AttemptOutcome;
    try {
      const { statusCode, response } = await attemptOnce(sender, content, policy.timeoutMs);
      outcome = { attempt, status: "sent", retryable: false, statusCode, error: null, response: response ? scrub(response, sender.secrets()) : null, startedAt, durationMs: Date.now() - startedAt, retryInMs: null, retryAfterMs: null };
    } catch (error) {
      const failure = error instanceof DeliveryError ? error : new DeliveryError(error instanceof Error ? error.message : String(error), { retryable: false, cause: error });
      const next = nextStep(sender, failure, attempt, policy, waitedMs);
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
      };
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
