/**
 * A real, throwaway Kubernetes control plane for tests: etcd + kube-apiserver, no
 * controller manager, no scheduler, no nodes. Objects are stored and served exactly as
 * on a real cluster (validation, defaulting, admission, RBAC), but nothing reconciles
 * them: a Deployment never gets a ReplicaSet or pods.
 *
 * The binaries come from scripts/install-kube.sh (built once from the Go module proxy and
 * cached outside the clone). Build them before the test run: the first build takes
 * 10-20 minutes, longer than AVA's inactivity timeout. KUBE_APISERVER_BIN and ETCD_BIN
 * in the environment override the script.
 *
 * Everything lives in one temp dir (certificates, etcd data, kubeconfigs, logs), removed
 * by stop(). Set KUBE_POLICY_KEEP_CLUSTER_DIR=1 to keep it for a post-mortem.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';

export interface StartClusterOptions {
  /** How long to wait for the apiserver's /readyz, in ms. Default 120 000. */
  readyTimeoutMs?: number;
  /** Path of kube-apiserver; default: $KUBE_APISERVER_BIN, else scripts/install-kube.sh. */
  apiserverBin?: string;
  /** Path of etcd; default: $ETCD_BIN, else scripts/install-kube.sh. */
  etcdBin?: string;
  /** Keep the temp dir after stop() (also: KUBE_POLICY_KEEP_CLUSTER_DIR=1). */
  keepDir?: boolean;
  /** Extra kube-apiserver flags, e.g. ['--v=4']; appended after the defaults. */
  extraApiserverArgs?: string[];
  /** Progress messages (default: none). */
  log?: (message: string) => void;
}

export interface ClusterTimings {
  binariesMs: number;
  certificatesMs: number;
  etcdMs: number;
  /** From spawning kube-apiserver to /readyz answering 200. */
  apiserverReadyMs: number;
  rbacMs: number;
  totalMs: number;
}

export interface Cluster {
  /** Same as adminKubeconfig. */
  kubeconfigPath: string;
  /** Kubeconfig of the "admin" user (group system:masters). */
  adminKubeconfig: string;
  /** Kubeconfig of the "readonly" user, bound to ClusterRole kube-policy-readonly. */
  readonlyKubeconfig: string;
  /** https://127.0.0.1:<port> */
  server: string;
  adminToken: string;
  readonlyToken: string;
  /** PEM of the CA that signed the apiserver's serving certificate. */
  caPath: string;
  /** The temp dir holding certificates, etcd data, kubeconfigs and logs. */
  dir: string;
  etcdUrl: string;
  apiserverLog: string;
  etcdLog: string;
  timings: ClusterTimings;
  /** Stops both processes (SIGTERM, then SIGKILL) and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export const READONLY_CLUSTER_ROLE = 'kube-policy-readonly';
export const ADMIN_USER = 'admin';
export const READONLY_USER = 'readonly';

/** What the readonly user may get/list/watch, cluster-wide. */
export const READONLY_RULES: V1PolicyRule[] = [
  {
    apiGroups: [''],
    resources: ['pods', 'namespaces', 'services', 'resourcequotas', 'persistentvolumeclaims'],
    verbs: ['get', 'list', 'watch'],
  },
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'],
    verbs: ['get', 'list', 'watch'],
  },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
];

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const STOP_GRACE_MS = 5_000;

// ---------------------------------------------------------------------------------------
// Process bookkeeping: whatever happens to the test process, the children must go.

interface Running {
  procs: ChildProcess[];
  watchdog?: ChildProcess;
  dir: string;
  keepDir: boolean;
}

const running = new Set<Running>();
let handlersInstalled = false;

function killNowSync(r: Running): void {
  for (const p of r.procs) {
    if (p.exitCode === null && p.signalCode === null && p.pid !== undefined) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  if (r.watchdog?.pid !== undefined) {
    try {
      process.kill(r.watchdog.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  if (!r.keepDir) rmSync(r.dir, { recursive: true, force: true });
  running.delete(r);
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const r of [...running]) killNowSync(r);
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      for (const r of [...running]) killNowSync(r);
      // Keep the default behaviour (exit on the signal) unless someone else handles it.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.once(sig, onSignal);
  }
}

/**
 * A detached shell that outlives a SIGKILLed test process: once `parent` is gone it
 * stops the children and removes the temp dir. stop() kills it first.
 */
function spawnWatchdog(parent: number, pids: number[], dir: string, keepDir: boolean): ChildProcess {
  const script = `
    while kill -0 ${parent} 2>/dev/null; do sleep 1; done
    kill -TERM ${pids.join(' ')} 2>/dev/null
    for i in 1 2 3 4 5; do
      alive=0; for p in ${pids.join(' ')}; do kill -0 $p 2>/dev/null && alive=1; done
      [ $alive = 1 ] || break; sleep 1
    done
    kill -KILL ${pids.join(' ')} 2>/dev/null
    ${keepDir ? '' : `rm -rf '${dir.replace(/'/g, `'\\''`)}'`}
  `;
  const w = spawn('bash', ['-c', script], { detached: true, stdio: 'ignore' });
  w.unref();
  return w;
}

// ---------------------------------------------------------------------------------------
// Small helpers.

function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number; stderr?: 'inherit' | 'capture' } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024, env: process.env },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}${stderr ? `\n${stderr}` : ''}`));
        } else {
          resolve(stdout);
        }
      },
    );
    if (opts.stderr === 'inherit') child.stderr?.pipe(process.stderr);
  });
}

async function freePorts(count: number): Promise<number[]> {
  // Hold all listeners open together so the ports are distinct.
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

function tail(path: string, lines = 40): string {
  try {
    const all = readFileSync(path, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).join('\n');
  } catch (e) {
    return `(no log: ${(e as Error).message})`;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function httpGet(url: string, opts: { ca?: string; token?: string; timeoutMs?: number } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const fn = url.startsWith('https:') ? request : httpRequest;
    const req = fn(url, { method: 'GET', headers, ca: opts.ca, timeout: opts.timeoutMs ?? 3_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const spawnErrors = new WeakMap<ChildProcess, Error>();

/** Registers a child for cleanup; a failed spawn (no 'exit' event) counts as exited. */
function track(r: Running, p: ChildProcess, name: string): void {
  p.on('error', (e) => spawnErrors.set(p, new Error(`${name}: ${e.message}`)));
  r.procs.push(p);
}

function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null || spawnErrors.has(p) || p.pid === undefined;
}

function describeExit(p: ChildProcess): string {
  const err = spawnErrors.get(p);
  if (err) return err.message;
  return p.exitCode !== null ? `exit code ${p.exitCode}` : `signal ${p.signalCode}`;
}

async function findBinaries(options: StartClusterOptions): Promise<{ apiserver: string; etcd: string }> {
  let apiserver = options.apiserverBin ?? process.env.KUBE_APISERVER_BIN;
  let etcd = options.etcdBin ?? process.env.ETCD_BIN;
  if (!apiserver || !etcd) {
    const script = join(repoRoot, 'scripts', 'install-kube.sh');
    // Instant when cached; a cold build prints its progress to our stderr.
    const out = await run('bash', [script], { cwd: repoRoot, timeoutMs: 60 * 60_000, stderr: 'inherit' });
    const vars = new Map<string, string>();
    for (const line of out.split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      if (m?.[1] && m[2] !== undefined) vars.set(m[1], m[2]);
    }
    apiserver ??= vars.get('KUBE_APISERVER_BIN');
    etcd ??= vars.get('ETCD_BIN');
  }
  if (!apiserver || !existsSync(apiserver)) throw new Error(`kube-apiserver binary not found (${apiserver ?? 'no path'}); run scripts/install-kube.sh`);
  if (!etcd || !existsSync(etcd)) throw new Error(`etcd binary not found (${etcd ?? 'no path'}); run scripts/install-kube.sh`);
  return { apiserver, etcd };
}

async function makeCertificates(dir: string): Promise<{ ca: string; serverCert: string; serverKey: string; saKey: string; saPub: string }> {
  const p = (name: string): string => join(dir, name);
  const ecKey = (out: string): Promise<string> => run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out]);
  await Promise.all([ecKey(p('ca.key')), ecKey(p('apiserver.key')), ecKey(p('sa.key'))]);
  await run('openssl', [
    'req', '-x509', '-new', '-key', p('ca.key'), '-days', '2', '-subj', '/CN=kube-policy-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', p('ca.crt'),
  ]);
  await run('openssl', ['req', '-new', '-key', p('apiserver.key'), '-subj', '/CN=kube-apiserver', '-out', p('apiserver.csr')]);
  writeFileSync(
    p('apiserver.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc',
      '',
    ].join('\n'),
  );
  await run('openssl', [
    'x509', '-req', '-in', p('apiserver.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'),
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2', '-extfile', p('apiserver.ext'),
    '-out', p('apiserver.crt'),
  ]);
  await run('openssl', ['pkey', '-in', p('sa.key'), '-pubout', '-out', p('sa.pub')]);
  return { ca: p('ca.crt'), serverCert: p('apiserver.crt'), serverKey: p('apiserver.key'), saKey: p('sa.key'), saPub: p('sa.pub') };
}

function kubeconfigYaml(server: string, caPem: string, user: string, token: string): string {
  const ca = Buffer.from(caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: kube-policy-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: ${user}@kube-policy-test`,
    '  context:',
    '    cluster: kube-policy-test',
    `    user: ${user}`,
    `current-context: ${user}@kube-policy-test`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------

export async function startCluster(options: StartClusterOptions = {}): Promise<Cluster> {
  const log = options.log ?? ((): void => {});
  const t0 = Date.now();
  const keepDir = options.keepDir ?? process.env.KUBE_POLICY_KEEP_CLUSTER_DIR === '1';
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;

  const bins = await findBinaries(options);
  const tBins = Date.now();

  const dir = mkdtempSync(join(tmpdir(), 'kube-policy-cluster-'));
  const r: Running = { procs: [], dir, keepDir };
  installExitHandlers();
  running.add(r);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (r.watchdog?.pid !== undefined) {
        try {
          process.kill(r.watchdog.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      // apiserver first, so it does not log a burst of etcd errors on the way down.
      for (const p of [...r.procs].reverse()) {
        if (exited(p)) continue;
        const gone = new Promise<void>((resolve) => p.once('exit', () => resolve()));
        p.kill('SIGTERM');
        const timer = setTimeout(() => p.kill('SIGKILL'), STOP_GRACE_MS);
        await gone;
        clearTimeout(timer);
      }
      running.delete(r);
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
      else log(`cluster dir kept: ${dir}`);
    })();
    return stopped;
  };

  try {
    log(`cluster dir ${dir}`);
    const certs = await makeCertificates(dir);
    const caPem = readFileSync(certs.ca, 'utf8');
    const tCerts = Date.now();

    const [etcdPort, peerPort, apiPort] = (await freePorts(3)) as [number, number, number];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const server = `https://127.0.0.1:${apiPort}`;

    // ---- etcd
    const etcdLog = join(dir, 'etcd.log');
    const etcdFd = openSync(etcdLog, 'a');
    const etcd = spawn(
      bins.etcd,
      [
        '--name=kube-policy-test',
        `--data-dir=${join(dir, 'etcd-data')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=kube-policy-test=${peerUrl}`,
        '--initial-cluster-state=new',
        '--quota-backend-bytes=268435456', // 256 MiB
        '--snapshot-count=5000',
        // One member, nobody to lose an election to: shorter ticks elect it sooner.
        '--heartbeat-interval=20',
        '--election-timeout=200',
        '--unsafe-no-fsync=true', // throwaway data: no need to wait for the disk
        '--log-level=warn',
      ],
      { stdio: ['ignore', etcdFd, etcdFd] },
    );
    closeSync(etcdFd);
    track(r, etcd, 'etcd');
    const etcdDeadline = Date.now() + 30_000;
    for (;;) {
      if (exited(etcd)) throw new Error(`etcd exited early (${describeExit(etcd)}); tail of ${etcdLog}:\n${tail(etcdLog)}`);
      try {
        const res = await httpGet(`${etcdUrl}/health`, { timeoutMs: 1_000 });
        if (res.status === 200 && res.body.includes('"health":"true"')) break;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > etcdDeadline) throw new Error(`etcd not healthy after 30s; tail of ${etcdLog}:\n${tail(etcdLog)}`);
      await sleep(50);
    }
    const tEtcd = Date.now();
    log(`etcd healthy at ${etcdUrl} (${tEtcd - tCerts} ms)`);

    // ---- kube-apiserver
    const adminToken = randomBytes(24).toString('hex');
    const readonlyToken = randomBytes(24).toString('hex');
    const tokensFile = join(dir, 'tokens.csv');
    writeFileSync(
      tokensFile,
      `${adminToken},${ADMIN_USER},uid-admin,"system:masters"\n${readonlyToken},${READONLY_USER},uid-readonly\n`,
      { mode: 0o600 },
    );
    const apiserverLog = join(dir, 'kube-apiserver.log');
    const apiFd = openSync(apiserverLog, 'a');
    const apiserver = spawn(
      bins.apiserver,
      [
        `--etcd-servers=${etcdUrl}`,
        `--secure-port=${apiPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--cert-dir=${join(dir, 'apiserver-certs')}`,
        `--tls-cert-file=${certs.serverCert}`,
        `--tls-private-key-file=${certs.serverKey}`,
        `--client-ca-file=${certs.ca}`,
        `--token-auth-file=${tokensFile}`,
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc',
        `--service-account-key-file=${certs.saPub}`,
        `--service-account-signing-key-file=${certs.saKey}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        // No controller manager runs: nothing would create the service-account tokens.
        '--disable-admission-plugins=ServiceAccount',
        '--enable-priority-and-fairness=false',
        // The "kubernetes" Service's endpoints cannot hold a loopback address; skip them.
        '--endpoint-reconciler-type=none',
        '--allow-privileged=true',
        '--profiling=false',
        '--v=1',
        ...(options.extraApiserverArgs ?? []),
      ],
      { stdio: ['ignore', apiFd, apiFd] },
    );
    closeSync(apiFd);
    track(r, apiserver, 'kube-apiserver');
    if (etcd.pid !== undefined && apiserver.pid !== undefined) {
      r.watchdog = spawnWatchdog(process.pid, [apiserver.pid, etcd.pid], dir, keepDir);
    }

    const readyDeadline = Date.now() + readyTimeoutMs;
    let last = '';
    for (;;) {
      if (exited(apiserver) || exited(etcd)) {
        const who = exited(apiserver) ? `kube-apiserver (${describeExit(apiserver)})` : `etcd (${describeExit(etcd)})`;
        throw new Error(
          `${who} exited before /readyz answered.\n--- tail of ${apiserverLog}:\n${tail(apiserverLog)}\n--- tail of ${etcdLog}:\n${tail(etcdLog)}`,
        );
      }
      try {
        const res = await httpGet(`${server}/readyz`, { ca: caPem, token: adminToken, timeoutMs: 2_000 });
        if (res.status === 200) break;
        last = `HTTP ${res.status}: ${res.body.slice(0, 2_000)}`;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > readyDeadline) {
        throw new Error(
          `kube-apiserver not ready after ${readyTimeoutMs} ms (last /readyz: ${last}).\n--- tail of ${apiserverLog}:\n${tail(apiserverLog)}\n--- tail of ${etcdLog}:\n${tail(etcdLog)}`,
        );
      }
      await sleep(250);
    }
    const tReady = Date.now();
    log(`kube-apiserver ready at ${server} (${tReady - tEtcd} ms)`);

    // ---- kubeconfigs + RBAC for the readonly user
    const adminKubeconfig = join(dir, 'admin.kubeconfig');
    const readonlyKubeconfig = join(dir, 'readonly.kubeconfig');
    writeFileSync(adminKubeconfig, kubeconfigYaml(server, caPem, ADMIN_USER, adminToken), { mode: 0o600 });
    writeFileSync(readonlyKubeconfig, kubeconfigYaml(server, caPem, READONLY_USER, readonlyToken), { mode: 0o600 });

    const kc = new KubeConfig();
    kc.loadFromFile(adminKubeconfig);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({
      body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: READONLY_CLUSTER_ROLE }, rules: READONLY_RULES },
    });
    await rbac.createClusterRoleBinding({
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: READONLY_CLUSTER_ROLE },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: READONLY_CLUSTER_ROLE },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: READONLY_USER }],
      },
    });
    const tRbac = Date.now();

    return {
      kubeconfigPath: adminKubeconfig,
      adminKubeconfig,
      readonlyKubeconfig,
      server,
      adminToken,
      readonlyToken,
      caPath: certs.ca,
      dir,
      etcdUrl,
      apiserverLog,
      etcdLog,
      timings: {
        binariesMs: tBins - t0,
        certificatesMs: tCerts - tBins,
        etcdMs: tEtcd - tCerts,
        apiserverReadyMs: tReady - tEtcd,
        rbacMs: tRbac - tReady,
        totalMs: tRbac - t0,
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
