// Structured logs (pino) on stderr: stdout belongs to the MCP stdio transport and to CLI output.
// Secrets never reach a log line: known secret-bearing fields are redacted.
import { pino } from "pino";

export const logger = pino(
  {
    name: "kube-policy",
    level: process.env.LOG_LEVEL ?? "info",
    redact: {
      paths: ["token", "*.token", "authorization", "*.authorization", "password", "*.password", "headers.authorization", "webhookUrl", "*.webhookUrl"],
      censor: "[redacted]",
    },
  },
  pino.destination(2),
);

export type Logger = typeof logger;
