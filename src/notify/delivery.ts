// Delivering one message over one channel: bounded attempts, a timeout per attempt, exponential backoff
// between attempts, and a retry only for failures that a later attempt can cure (5xx answers, timeouts,
// refused or dropped connections). Every attempt is reported to the caller, which records it.
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

  constructor(message: string, options: { retryable: boolean; statusCode?: number | null; cause?: unknown; details?: { where?: string; message: string }[] }) {
    super(message, { cause: options.cause, details: options.details });
    this.retryable = options.retryable;
    this.statusCode = options.statusCode ?? null;
  }
}

/** A channel's way of sending a message once. */
export interface Sender {
  readonly channel: NotificationChannel;
  /** Sends once; aborting `signal` (the attempt's timeout) must end the attempt. Throws DeliveryError. */
  send(content: MessageContent, signal: AbortSignal): Promise<{ statusCode: number | null }>;
  /** Values that must never reach a log line or the database (webhook URL, SMTP password). */
  secrets(): string[];
}

export interface DeliveryPolicy {
  maxAttempts: number;
  timeoutMs: number;
  /** Delay before the second attempt; doubled for each further one, up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_DELIVERY: DeliveryPolicy = { maxAttempts: 4, timeoutMs: 10_000, backoffMs: 1_000, maxBackoffMs: 30_000 };

export interface AttemptOutcome {
  attempt: number;
  status: "sent" | "failed";
  retryable: boolean;
  statusCode: number | null;
  /** Secrets removed. */
  error: string | null;
  startedAt: number;
  durationMs: number;
  /** The delay before the next attempt; null when there is none. */
  retryInMs: number | null;
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
async function attemptOnce(sender: Sender, content: MessageContent, timeoutMs: number): Promise<{ statusCode: number | null }> {
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
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    const startedAt = Date.now();
    let outcome: AttemptOutcome;
    try {
      const { statusCode } = await attemptOnce(sender, content, policy.timeoutMs);
      outcome = { attempt, status: "sent", retryable: false, statusCode, error: null, startedAt, durationMs: Date.now() - startedAt, retryInMs: null };
    } catch (error) {
      const failure = error instanceof DeliveryError ? error : new DeliveryError(error instanceof Error ? error.message : String(error), { retryable: false, cause: error });
      const last = attempt === policy.maxAttempts || !failure.retryable;
      outcome = {
        attempt,
        status: "failed",
        retryable: failure.retryable,
        statusCode: failure.statusCode,
        error: scrub(failure.message, sender.secrets()),
        startedAt,
        durationMs: Date.now() - startedAt,
        retryInMs: last ? null : backoffDelay(policy, attempt),
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
    await sleep(outcome.retryInMs);
  }
  return { status: "failed", attempts, error: attempts.at(-1)?.error ?? null };
}
