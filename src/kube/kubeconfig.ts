// Finds cluster credentials the way kubectl does: --kubeconfig, $KUBECONFIG, ~/.kube/config, then the
// in-cluster service account. No credentials at all is not an error: the server falls back to the demo.
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export type KubeconfigLocation = { kind: "file"; path: string; context?: string } | { kind: "in-cluster" };

export const IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export function findKubeconfig(options: { kubeconfig?: string; context?: string; env?: NodeJS.ProcessEnv } = {}): KubeconfigLocation | null {
  const env = options.env ?? process.env;
  if (options.kubeconfig) return { kind: "file", path: options.kubeconfig, context: options.context };
  const fromEnv = (env.KUBECONFIG ?? "").split(path.delimiter).find((p) => p && existsSync(p));
  if (fromEnv) return { kind: "file", path: fromEnv, context: options.context };
  const home = path.join(env.HOME ?? os.homedir(), ".kube", "config");
  if (existsSync(home)) return { kind: "file", path: home, context: options.context };
  if (env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) return { kind: "in-cluster" };
  return null;
}
