// Who a command-line call is recorded as, in the audit log and the fix history. The actor is the person at
// the terminal: `cli:<OS user>` (stable, so `query_audit_log {actor}` finds all of one person's calls); the
// identity the cluster saw is recorded beside it (details.via: host, kubeconfig context and user), since
// RBAC decides with the kubeconfig's credentials, not with the OS account.
import os from "node:os";
import type { WorkloadSource } from "../kube/source.js";

export function osUser(env: NodeJS.ProcessEnv = process.env): string {
  try {
    const name = os.userInfo().username;
    if (name) return name;
  } catch {
    // No passwd entry for this uid (containers): fall back to the environment, then the uid.
  }
  return env.USER || env.LOGNAME || `uid-${process.getuid?.() ?? "unknown"}`;
}

export function cliActor(env: NodeJS.ProcessEnv = process.env): string {
  return `cli:${osUser(env)}`;
}

/** details.via of the audit entries of one command: who, where, and as which kubeconfig identity. */
export function cliVia(source: WorkloadSource | undefined, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const via: Record<string, string> = { door: "cli", osUser: osUser(env), host: os.hostname() };
  const client = (source as { client?: { contextName?: string; kubeConfig?: { getCurrentUser(): { name?: string } | null } } } | undefined)?.client;
  if (client?.contextName) via.kubeContext = client.contextName;
  const user = client?.kubeConfig?.getCurrentUser()?.name;
  if (user) via.kubeUser = user;
  return via;
}
