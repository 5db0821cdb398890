// Starts the real etcd + kube-apiserver once and checks the harness's contract:
// the admin can write, the readonly user can read but not write.
// Needs the binaries from `bash scripts/install-kube.sh` (built once, then cached).
import test from 'ava';
import { ApiException, AppsV1Api, CoreV1Api, KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { startCluster, type Cluster } from './cluster.js';

let cluster: Cluster | undefined;

function clusterOrFail(): Cluster {
  if (!cluster) throw new Error('cluster did not start (see test.before)');
  return cluster;
}

function kubeconfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

function deployment(name: string, namespace: string): V1Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0.0' }] },
      },
    },
  };
}

const NS = 'harness-test';

test.before(async (t) => {
  // Seconds with cached binaries. The margin is for a first run on a fresh machine, where
  // startCluster() runs scripts/install-kube.sh and builds them (~6-7 min on 2 cores);
  // a hook's t.timeout() also holds off AVA's global 5m inactivity timeout.
  t.timeout(30 * 60_000);
  cluster = await startCluster();
  t.log(`cluster at ${cluster.server}: ${JSON.stringify(cluster.timings)}`);
});

test.after.always(async () => {
  await cluster?.stop();
});

test.serial('admin creates a namespace and a Deployment', async (t) => {
  const c = clusterOrFail();
  const core = kubeconfig(c.adminKubeconfig).makeApiClient(CoreV1Api);
  const apps = kubeconfig(c.adminKubeconfig).makeApiClient(AppsV1Api);

  const ns = await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });
  t.is(ns.metadata?.name, NS);

  const created = await apps.createNamespacedDeployment({ namespace: NS, body: deployment('web', NS) });
  t.is(created.metadata?.name, 'web');
  t.truthy(created.metadata?.uid);
  // Defaulted by the apiserver, as on a real cluster.
  t.is(created.spec?.strategy?.type, 'RollingUpdate');

  const read = await apps.readNamespacedDeployment({ name: 'web', namespace: NS });
  t.is(read.spec?.template.spec?.containers[0]?.image, 'registry.example/app:1.0.0');
});

test.serial('readonly user lists Deployments but may not create one', async (t) => {
  const c = clusterOrFail();
  const apps = kubeconfig(c.readonlyKubeconfig).makeApiClient(AppsV1Api);

  const list = await apps.listNamespacedDeployment({ namespace: NS });
  t.deepEqual(list.items.map((d) => d.metadata?.name), ['web']);
  const all = await apps.listDeploymentForAllNamespaces();
  t.true(all.items.some((d) => d.metadata?.name === 'web'));

  const err = await t.throwsAsync(apps.createNamespacedDeployment({ namespace: NS, body: deployment('nope', NS) }));
  t.true(err instanceof ApiException, `expected an ApiException, got ${String(err)}`);
  t.is((err as ApiException<unknown>).code, 403);
});

test.serial('readonly user may not read secrets (not in its ClusterRole)', async (t) => {
  const c = clusterOrFail();
  const core = kubeconfig(c.readonlyKubeconfig).makeApiClient(CoreV1Api);
  const err = await t.throwsAsync(core.listNamespacedSecret({ namespace: NS }));
  t.is((err as ApiException<unknown>).code, 403);
});
