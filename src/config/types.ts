// The policy configuration as the rest of the code sees it (config/policies/schema.json is the contract).
import type { Category, Enforcement, Severity } from "../policy/types.js";
import type { NotificationEventType } from "../notify/events.js";

export interface CategoryConfig {
  enabled?: boolean;
  enforcement?: Enforcement;
  autoFix?: boolean;
}

export interface RuleOverride {
  enabled?: boolean;
  severity?: Severity;
  enforcement?: Enforcement;
  autoFix?: boolean;
}

export interface ConfigExemption {
  rules: string[];
  namespace?: string;
  name?: string;
  kind?: string;
  reason: string;
  expires?: string;
}

export interface CustomRuleJson {
  id: string;
  name?: string;
  description?: string;
  severity: Severity;
  category: Category;
  enabled?: boolean;
  scope?: string;
  match?: Record<string, unknown>;
  combine?: "all" | "any";
  conditions: { field: string; operator: string; value?: unknown; description?: string }[];
  actions: { type: "deny" | "warn"; message?: string }[];
  frameworks?: Record<string, string[]>;
  remediation?: string;
  fix?: { patch: { op: string; path: string; value?: unknown }[]; risk: "low" | "medium" | "high" };
}

export interface PolicyConfig {
  organization?: { name?: string; environment?: string; compliance?: string[] };
  global?: { enforcement?: Enforcement; autoFix?: boolean };
  categories?: Partial<Record<Category, CategoryConfig>>;
  ruleOverrides?: Record<string, RuleOverride>;
  excludedNamespaces?: string[];
  namespaces?: { allow?: string[]; deny?: string[] };
  settings?: Record<string, unknown>;
  exemptions?: ConfigExemption[];
  autoFixPolicy?: {
    allowMediumRisk?: boolean;
    requireApproval?: { categories?: Category[]; severities?: Severity[]; rules?: string[] };
  };
  customRules?: CustomRuleJson[];
  customRulesDir?: string;
  notifications?: NotificationsConfig;
  scans?: { name: string; cron: string; namespaces?: string[]; timezone?: string }[];
  storage?: { path?: string; retentionDays?: number };
}

/** What one notification channel receives: the product document's severityLevels, extended. */
export interface NotificationChannelConfig {
  /** Default true: a configured channel is on. */
  enabled?: boolean;
  /** New violations (and fix events) of these severities; default all. */
  severityLevels?: Severity[];
  /** These event types only; default all. */
  events?: NotificationEventType[];
  /** immediate (default): an alert per scan or fix event; digest: only the daily digest; both. */
  mode?: "immediate" | "digest" | "both";
}

export interface SlackNotificationConfig extends NotificationChannelConfig {
  webhookUrl: string;
  /** Overrides the webhook's default channel. */
  channel?: string;
}

export interface EmailNotificationConfig extends NotificationChannelConfig {
  recipients: string[];
  from?: string;
  smtp?: {
    host?: string;
    port?: number;
    /** Implicit TLS (port 465); false: STARTTLS when offered. */
    secure?: boolean;
    /** Refuse to send without STARTTLS; default true when credentials are used with a host that is not loopback. */
    requireTLS?: boolean;
    /** Names of the environment variables holding the credentials: the values never appear in the file. */
    userEnv?: string;
    passwordEnv?: string;
  };
}

export interface NotificationsConfig {
  slack?: SlackNotificationConfig;
  email?: EmailNotificationConfig;
  /** Alert when the compliance score falls below this percentage. */
  scoreBelow?: number;
  /** Alert when the score falls by more than this many points since the previous scan. */
  scoreDropPoints?: number;
  /** Alert when a scope has had no successful scan for longer than this. */
  staleAfterHours?: number;
  /** An identical event within this many hours is not sent again (default 24). */
  dedupeHours?: number;
  /** Findings listed in one message (default 10); the rest are counted. */
  maxFindings?: number;
  /** The daily digest of channels in digest or both mode. */
  digest?: { cron?: string; timezone?: string };
  delivery?: { maxAttempts?: number; timeoutMs?: number; backoffMs?: number; maxRetryAfterMs?: number; retryBudgetMs?: number; resumeWithinMs?: number };
}

/** A loaded configuration and where it came from (for messages). */
export interface LoadedConfig {
  config: PolicyConfig;
  /** File path, or "(built-in default)". */
  source: string;
}
