// Shared by the notification tests: real receivers on loopback (an HTTP server at the Slack webhook URL,
// an SMTP server from the smtp-server package whose mail is parsed with mailparser), a pino logger that
// writes into memory so tests can read every log line, a notification store on a temporary SQLite file,
// and scan summaries to feed the notifier. Nothing here stands in for a product component.
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { simpleParser, type ParsedMail } from "mailparser";
import { pino } from "pino";
import { SMTPServer } from "smtp-server";
import type { NotificationsConfig } from "../../src/config/types.js";
import type { ScanFinding, ScanSummary } from "../../src/notify/events.js";
import { Notifier, type NotifierOptions, type NotifyLogger } from "../../src/notify/notifier.js";
import { openDatabase } from "../../src/store/db.js";
import { NotificationStore } from "../../src/store/notification-store.js";

/** A directory removed when the test file ends (register with test.after.always(dir.remove)). */
export function tempDir(prefix: string): { path: string; file: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { path: dir, file: (name) => path.join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

let counter = 0;
export function freshStore(dir: { file: (name: string) => string }): NotificationStore {
  return new NotificationStore(openDatabase(dir.file(`notify-${process.pid}-${counter++}.db`)));
}

/** A pino logger at debug level whose lines (JSON text) land in `lines`. */
export function memoryLogger(): { logger: NotifyLogger; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(line) });
  return { logger, lines, text: () => lines.join("") };
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: unknown;
  at: number;
}

/** What the receiver answers to the n-th request (0-based): a status, body and headers, or "hang" (never answer). */
export type Answer = { status: number; body?: string; headers?: Record<string, string> } | "hang";

/** An HTTP server on 127.0.0.1 standing where the Slack webhook would be; it records every request. */
export async function webhookReceiver(answer: (n: number) => Answer = () => ({ status: 200, body: "ok" })) {
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        // recorded as text only
      }
      const n = requests.length;
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body, json, at: Date.now() });
      const a = answer(n);
      if (a === "hang") return; // never answers: the client's timeout must end it
      res.writeHead(a.status, { "content-type": "text/plain", ...a.headers }).end(a.body ?? (a.status < 400 ? "ok" : "error"));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/services/T0000/B0000/s3cr3tT0kenXYZ`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on loopback with nothing listening (connections are refused). */
export async function refusedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A real SMTP server on 127.0.0.1 (smtp-server), optionally requiring AUTH; received mail is parsed with mailparser. */
export async function smtpReceiver(options: { user?: string; password?: string; reject?: (n: number) => number | null } = {}) {
  let received = 0;
  const messages: { mail: ParsedMail; from: string; to: string[]; user: string | undefined }[] = [];
  const auths: { user: string; ok: boolean }[] = [];
  const requireAuth = options.user !== undefined;
  const server = new SMTPServer({
    authOptional: !requireAuth,
    // No certificate on loopback: plain SMTP, with AUTH allowed over it only where the test asks for AUTH.
    ...(requireAuth ? { allowInsecureAuth: true, authMethods: ["PLAIN", "LOGIN"] } : {}),
    disabledCommands: requireAuth ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    logger: false,
    onAuth(auth, _session, callback) {
      const ok = auth.username === options.user && auth.password === options.password;
      auths.push({ user: auth.username ?? "", ok });
      if (!ok) return callback(new Error("Invalid username or password"));
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const code = options.reject?.(received++) ?? null;
      if (code !== null) {
        // Refuse this message with an SMTP reply code (4xx: try later, 5xx: permanent).
        stream.resume();
        stream.on("end", () => callback(Object.assign(new Error(`refused by the test server (${code})`), { responseCode: code })));
        return;
      }
      simpleParser(stream)
        .then((mail) => {
          messages.push({
            mail,
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            user: typeof session.user === "string" ? session.user : undefined,
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    messages,
    auths,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function finding(key: string, severity: ScanFinding["severity"], overrides: Partial<ScanFinding> = {}): ScanFinding {
  return {
    key,
    ruleId: `rule-${key}`,
    severity,
    category: "security",
    resource: { kind: "Deployment", namespace: "production", name: `app-${key}` },
    message: `finding ${key} is open`,
    remediation: `Remediate ${key}.`,
    ...overrides,
  };
}

export function scan(scanId: number, findings: ScanFinding[], overrides: Partial<ScanSummary> = {}): ScanSummary {
  return {
    scanId,
    name: "nightly",
    cluster: "kind-test",
    finishedAt: new Date(Date.UTC(2026, 0, 1, 0, scanId)).toISOString(),
    scope: "production",
    status: "succeeded",
    score: 90,
    findings,
    ...overrides,
  };
}

/** A notifier with short delays: three attempts, 10 ms then 20 ms between them, 2 s per attempt (loopback answers in far less). */
export function quickNotifier(store: NotificationStore, config: NotificationsConfig, options: Partial<NotifierOptions> = {}): Notifier {
  return new Notifier({
    store,
    config,
    logger: memoryLogger().logger,
    delivery: { maxAttempts: 3, backoffMs: 10, timeoutMs: 2_000 },
    ...options,
  });
}
