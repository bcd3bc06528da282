/**
 * A real Kubernetes control plane for tests and the dispatch bench, from the binaries
 * scripts/setup/kubernetes.sh builds: etcd, kube-apiserver (RBAC, Pod Security admission, audit
 * log), kube-controller-manager (the real Job, garbage-collector, TTL and service-account
 * controllers), kube-scheduler, and kwok playing the kubelet of one fake node (pod status is
 * simulated by the Stages in kwok-stages.yaml; no container ever runs: the container log is a
 * canned file kwok serves through its kubelet API, fetched via the real API server).
 * Every process runs on free loopback ports in a temporary directory and is stopped by `stop()`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { freePort } from '../helpers/free-port.ts';

export const K8S_VERSION = 'v1.34.4';
const SETUP_HINT = 'run `bash scripts/setup/kubernetes.sh` (builds and caches the control plane binaries)';
const ADMIN_TOKEN = 'maestro-test-admin-token';
const RUNNER_TOKEN = 'maestro-test-runner-token';
export const RUNNER_USER = 'maestro-runner';
export const FAKE_NODE = 'kwok-node-0';
/** A three-line PEM-like secret every container "prints" (with `"` and `\` in its middle line). */
export const KWOK_PEM =
  '-----BEGIN KWOK TEST KEY-----\nMIIBkwIB"q"\\AAKBgQC7/xyz\n-----END KWOK TEST KEY-----';

/** What every container "printed" (kwok serves this file as the container log; nothing runs). */
export const KWOK_POD_LOG = [
  { stream: 'stdout', text: 'compiling 3 packages' },
  { stream: 'stderr', text: 'warning: using token s3cr3t-token from env' },
  ...KWOK_PEM.split('\n').map((text) => ({ stream: 'stdout', text })),
  { stream: 'stdout', text: 'done' },
] as const;

const CONTROLLERS = [
  'job-controller',
  'garbage-collector-controller',
  'ttl-after-finished-controller',
  'serviceaccount-controller',
  'namespace-controller',
  'pod-garbage-collector-controller',
  'node-lifecycle-controller',
];

function binDir(): string {
  return process.env.MAESTRO_K8S_BIN ?? join(homedir(), '.cache', 'maestro', 'k8s', K8S_VERSION);
}

export interface TestCluster {
  /** Kubeconfig for the runner's own user (counted separately in the audit log). */
  runnerKubeconfig: string;
  adminKubeconfig: string;
  admin: KubeConfig;
  runner: KubeConfig;
  apiserverUrl: string;
  etcdUrl: string;
  auditLog: string;
  /** Kills the API server (SIGKILL), runs `between` (etcd keeps running), and starts it again on the same port. */
  restartApiserver(between?: () => Promise<void>): Promise<void>;
  /** Compacts etcd up to its current revision, so older resourceVersions answer 410 Gone. */
  compactEtcd(): Promise<number>;
  stop(): Promise<void>;
}

export interface TestClusterOptions {
  /**
   * More kube-controller-manager controllers, beyond the Job set (for example
   * `deployment-controller` and `replicaset-controller`, which roll Deployments for the runbooks).
   */
  extraControllers?: string[];
}

export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const bin = binDir();
  for (const b of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'])
    if (!existsSync(join(bin, b))) throw new Error(`${join(bin, b)} is missing: ${SETUP_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'maestro-k8s-'));
  const children: ChildProcess[] = [];
  const dead: string[] = [];
  let stopping = false;
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs: number, logFile?: string) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (dead.length > 0) throw new Error(`${what}: ${dead.join('; ')}`);
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    const tail =
      logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
    throw new Error(`${what} did not become ready within ${timeoutMs} ms\n${tail}`);
  };
  const start = (name: string, args: string[]): ChildProcess => {
    const log = openSync(join(dir, `${name}.log`), 'a');
    const child = spawn(join(bin, name), args, { stdio: ['ignore', log, log] });
    children.push(child);
    child.once('exit', (code) => {
      if (!stopping) dead.push(`${name} exited with ${code}: see ${join(dir, `${name}.log`)}`);
    });
    return child;
  };

  const [etcdPort, peerPort, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  start('etcd', [
    '--name=default',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
    '--unsafe-no-fsync',
    '--log-level=warn',
  ]);
  await until('etcd', async () => (await fetch(`${etcdUrl}/health`)).ok, 30_000, join(dir, 'etcd.log'));

  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(
    join(dir, 'tokens.csv'),
    `${ADMIN_TOKEN},admin,admin,system:masters\n${RUNNER_TOKEN},${RUNNER_USER},${RUNNER_USER},maestro-runners\n`,
  );
  // Only the runner's requests are audited, so the bench can count API requests per task.
  writeFileSync(
    join(dir, 'audit-policy.yaml'),
    [
      'apiVersion: audit.k8s.io/v1',
      'kind: Policy',
      'omitStages: ["RequestReceived", "ResponseStarted"]',
      'rules:',
      `- level: Metadata\n  users: ["${RUNNER_USER}"]`,
      '- level: None',
      '',
    ].join('\n'),
  );
  const auditLog = join(dir, 'audit.log');
  const apiserverArgs = [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${join(dir, 'certs')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--authorization-mode=RBAC',
    // As real clusters run (kubeadm's default): the API server itself allows privileged pods, so
    // what refuses them in a restricted namespace is Pod Security admission (test/helm-chart.test.ts).
    '--allow-privileged=true',
    '--service-cluster-ip-range=10.96.0.0/16',
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`,
    `--audit-log-path=${auditLog}`,
    '--audit-log-mode=batch',
    '--audit-log-batch-max-wait=1s',
    '--enable-priority-and-fairness=false',
  ];
  const apiserverUrl = `https://127.0.0.1:${apiPort}`;
  let apiserver = start('kube-apiserver', apiserverArgs);
  // The serving certificate is self-signed by the API server itself, hence no verification here.
  const readyInsecure = () =>
    new Promise<boolean>((resolve) => {
      const req = httpsRequest(
        `${apiserverUrl}/readyz`,
        { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, rejectUnauthorized: false, timeout: 5000 },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        },
      );
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  await until('kube-apiserver', readyInsecure, 120_000, join(dir, 'kube-apiserver.log'));

  const kubeconfig = (user: string, token: string) =>
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: test, cluster: {server: "${apiserverUrl}", insecure-skip-tls-verify: true}}]`,
      `users: [{name: ${user}, user: {token: ${token}}}]`,
      `contexts: [{name: test, context: {cluster: test, user: ${user}}}]`,
      'current-context: test',
      '',
    ].join('\n');
  const adminKubeconfig = join(dir, 'admin.kubeconfig');
  const runnerKubeconfig = join(dir, 'runner.kubeconfig');
  writeFileSync(adminKubeconfig, kubeconfig('admin', ADMIN_TOKEN));
  writeFileSync(runnerKubeconfig, kubeconfig(RUNNER_USER, RUNNER_TOKEN));
  const admin = new KubeConfig();
  admin.loadFromFile(adminKubeconfig);
  const runner = new KubeConfig();
  runner.loadFromFile(runnerKubeconfig);

  start('kube-controller-manager', [
    `--kubeconfig=${adminKubeconfig}`,
    `--controllers=${[...CONTROLLERS, ...(options.extraControllers ?? [])].join(',')}`,
    '--leader-elect=false',
    '--secure-port=0',
    '--concurrent-job-syncs=10',
  ]);
  start('kube-scheduler', [`--kubeconfig=${adminKubeconfig}`, '--leader-elect=false', '--secure-port=0']);
  // kwok also serves the kubelet API (HTTPS, self-signed; the API server does not verify kubelet
  // certificates without --kubelet-certificate-authority), so `kubectl logs`-style requests go
  // through the real API server to it. Every container's log is the canned KWOK_POD_LOG below.
  const kubeletPort = await freePort();
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=kwok-node',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'kwok.key'),
      '-out',
      join(dir, 'kwok.crt'),
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(
    join(dir, 'pod.log'),
    KWOK_POD_LOG.map((l) => `2026-01-01T00:00:00.000000000Z ${l.stream} F ${l.text}\n`).join(''),
  );
  const stages = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'kwok-stages.yaml'), 'utf8');
  writeFileSync(
    join(dir, 'kwok.yaml'),
    `${stages}\n---\napiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterLogs\nmetadata:\n  name: maestro-canned-logs\n` +
      `spec:\n  logs:\n  - containers: [task]\n    logsFile: ${join(dir, 'pod.log')}\n    follow: false\n`,
  );
  start('kwok', [
    `--kubeconfig=${adminKubeconfig}`,
    `--config=${join(dir, 'kwok.yaml')}`,
    '--manage-all-nodes=false',
    '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    '--node-lease-duration-seconds=40',
    '--node-ip=127.0.0.1',
    `--node-port=${kubeletPort}`,
    `--server-address=127.0.0.1:${kubeletPort}`,
    `--tls-cert-file=${join(dir, 'kwok.crt')}`,
    `--tls-private-key-file=${join(dir, 'kwok.key')}`,
  ]);

  const core = admin.makeApiClient(CoreV1Api);
  await core.createNode({
    body: {
      metadata: {
        name: FAKE_NODE,
        annotations: { 'kwok.x-k8s.io/node': 'fake' },
        labels: { 'kubernetes.io/hostname': FAKE_NODE, type: 'kwok' },
      },
      status: {
        allocatable: { cpu: '64', memory: '256Gi', 'ephemeral-storage': '1Ti', pods: '1000' },
        capacity: { cpu: '64', memory: '256Gi', 'ephemeral-storage': '1Ti', pods: '1000' },
      },
    },
  });
  // kwok marks the node Ready; the node lifecycle controller then lifts the not-ready taint the
  // API server put on it at creation, and only then will the scheduler bind pods to it.
  await until(
    'kwok node',
    async () => {
      const node = await core.readNode({ name: FAKE_NODE });
      const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      return ready && (node.spec?.taints ?? []).length === 0;
    },
    60_000,
    join(dir, 'kwok.log'),
  );

  mkdirSync(join(dir, 'etcd-snap'), { recursive: true });
  return {
    runnerKubeconfig,
    adminKubeconfig,
    admin,
    runner,
    apiserverUrl,
    etcdUrl,
    auditLog,
    restartApiserver: async (between) => {
      stopping = true;
      // SIGKILL: a crash, and immediate (a graceful stop waits ~60 s for long-running requests).
      apiserver.kill('SIGKILL');
      await new Promise((r) => apiserver.once('exit', r));
      await between?.();
      stopping = false;
      apiserver = start('kube-apiserver', apiserverArgs);
      await until('kube-apiserver (restarted)', readyInsecure, 120_000, join(dir, 'kube-apiserver.log'));
    },
    compactEtcd: async () => {
      const res = await fetch(`${etcdUrl}/v3/kv/range`, {
        method: 'POST',
        body: JSON.stringify({ key: 'AA==' }),
      });
      const revision = Number(((await res.json()) as { header: { revision: string } }).header.revision);
      const compact = await fetch(`${etcdUrl}/v3/kv/compaction`, {
        method: 'POST',
        body: JSON.stringify({ revision, physical: true }),
      });
      if (!compact.ok) throw new Error(`etcd compaction failed: ${await compact.text()}`);
      return revision;
    },
    stop: async () => {
      stopping = true;
      for (const child of children.reverse()) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        child.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => (child.kill('SIGKILL'), r(undefined)), 5000);
          child.once('exit', () => (clearTimeout(t), r(undefined)));
        });
      }
      if (!process.env.MAESTRO_KEEP_K8S_DIR) rmSync(dir, { recursive: true, force: true });
      else console.log(`kept ${dir}`);
    },
  };
}
