// Starts the throwaway etcd + kube-apiserver of test/harness/cluster.ts, prints where it
// is and how long each step took, checks the admin and readonly users, and stops it.
//
//   npx tsx scripts/kube-smoke.ts          # start, check, stop
//   npx tsx scripts/kube-smoke.ts --keep   # start, check, keep running until Ctrl-C
//                                          # (export KUBECONFIG=<printed admin path>)
import { ApiException, AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startCluster } from '../test/harness/cluster.js';

const keep = process.argv.includes('--keep');
const say = (m: string): void => void process.stderr.write(`kube-smoke: ${m}\n`);

const cluster = await startCluster({ log: say });
let failed = false;
try {
  say(`server              ${cluster.server}`);
  say(`admin kubeconfig    ${cluster.adminKubeconfig}`);
  say(`readonly kubeconfig ${cluster.readonlyKubeconfig}`);
  say(`logs                ${cluster.apiserverLog}, ${cluster.etcdLog}`);
  for (const [k, v] of Object.entries(cluster.timings)) say(`${k.padEnd(19)} ${v} ms`);

  const admin = new KubeConfig();
  admin.loadFromFile(cluster.adminKubeconfig);
  const readonly = new KubeConfig();
  readonly.loadFromFile(cluster.readonlyKubeconfig);

  const namespaces = await admin.makeApiClient(CoreV1Api).listNamespace();
  say(`admin sees namespaces: ${namespaces.items.map((n) => n.metadata?.name).join(', ')}`);
  const deployments = await readonly.makeApiClient(AppsV1Api).listDeploymentForAllNamespaces();
  say(`readonly lists deployments: ${deployments.items.length} found`);
  try {
    await readonly.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'smoke-denied' } } });
    say('FAIL: readonly user created a namespace');
    failed = true;
  } catch (e) {
    if (e instanceof ApiException && e.code === 403) say('readonly create namespace: 403 as expected');
    else throw e;
  }

  if (keep) {
    say('running; Ctrl-C stops it');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  }
} catch (e) {
  failed = true;
  say(`FAIL: ${(e as Error).stack ?? String(e)}`);
} finally {
  const t = Date.now();
  await cluster.stop();
  say(`stopped in ${Date.now() - t} ms`);
}
process.exitCode = failed ? 1 : 0;
