/**
 * bench:dispatch — 500 tasks through the Kubernetes runner against the real test control plane
 * (test/setup/k8s-cluster.ts: etcd, kube-apiserver, Job controller, scheduler, kwok node).
 *
 * Prints, for the runner and for a peer in the same run (the same Job specs created with a bare
 * `createNamespacedJob`, no tracking), the latency of submit → Job created (client side: the
 * create call returned) and Job created → pod bound (seen on a separate admin watch of pods), as
 * p50/p99, the ratio of medians, and the runner's API requests per task counted by the API
 * server's own audit log (only the runner's user is audited).
 *
 * Usage: node bench/dispatch/run.ts [tasks=500] [concurrency=50]
 */
import { readFileSync } from 'node:fs';
import { BatchV1Api, CoreV1Api, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import { systemClock, type RunnerStartRequest } from '../../core/index.ts';
import {
  buildJob,
  createKubernetesRunner,
  ResilientWatch,
  type KubernetesRunnerConfig,
  type KubernetesRunnerStats,
} from '../../runners/kubernetes/index.ts';
import { RUNNER_USER, startTestCluster } from '../../test/setup/k8s-cluster.ts';

const TASKS = Number(process.argv[2] ?? 500);
const CONCURRENCY = Number(process.argv[3] ?? 50);

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

const cluster = await startTestCluster();
try {
  const core = cluster.admin.makeApiClient(CoreV1Api);
  const batch = cluster.admin.makeApiClient(BatchV1Api);
  const namespaces = { runner: 'bench-runner', peer: 'bench-peer' };
  for (const name of Object.values(namespaces))
    await core.createNamespace({
      body: { metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
    });
  // The runner's user gets the rights it has in production: Jobs and pods, in its namespace only.
  const rbac = cluster.admin.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace: namespaces.runner,
    body: {
      metadata: { name: 'maestro-runner' },
      rules: [
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
        { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: namespaces.runner,
    body: {
      metadata: { name: 'maestro-runner' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'maestro-runner' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: RUNNER_USER }],
    },
  });
  for (const namespace of Object.values(namespaces))
    for (let i = 0; i < 100; i++) {
      const sa = await core
        .readNamespacedServiceAccount({ name: 'default', namespace })
        .catch(() => undefined);
      if (sa) break;
      await new Promise((r) => setTimeout(r, 200));
    }

  // Pod bound times, from an admin watch independent of the runner.
  const bound = new Map<string, number>();
  // The bench's own observer of pods, resilient like the runner's (re-watches, re-lists on 410).
  const observer = new ResilientWatch<V1Pod>({
    kubeConfig: cluster.admin,
    clock: systemClock,
    path: '/api/v1/pods',
    query: { labelSelector: 'app.kubernetes.io/managed-by=summit-maestro' },
    list: async () => {
      const list = await core.listPodForAllNamespaces({
        labelSelector: 'app.kubernetes.io/managed-by=summit-maestro',
      });
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    onObject: (pod) => {
      const job = pod.metadata?.labels?.['batch.kubernetes.io/job-name'];
      if (job && pod.spec?.nodeName && !bound.has(job)) bound.set(job, performance.now());
    },
    onDeleted: () => {},
  });
  void observer.run();

  const config: KubernetesRunnerConfig = {
    kubeconfig: cluster.runnerKubeconfig,
    namespaces: { runner: namespaces.runner, peer: namespaces.peer },
    defaultImage: 'registry.example/maestro/task:1',
    streamLogs: false,
    resourceClasses: { small: { requests: { cpu: '10m', memory: '16Mi' } } },
  };
  const requests = (ns: string): RunnerStartRequest[] =>
    Array.from({ length: TASKS }, (_, i) => ({
      runId: `bench-${ns}`,
      taskId: `task-${i}`,
      attempt: 1,
      attemptId: `bench-${ns}/task-${i}/1`,
      command: { kind: 'shell', script: 'true' },
      env: { SIM_RUN_FOR: '1s' },
      redact: [],
      workDir: '/unused',
      artifactsDir: '/unused',
      resources: 'small',
      namespace: ns,
      outputs: [],
    }));

  // Peer: bare creates of the same Job specs (what a script calling the API directly would do).
  const peerCreated = new Map<string, { submit: number; created: number }>();
  const peerStart = performance.now();
  await pool(requests('peer'), CONCURRENCY, async (req) => {
    const body = buildJob(req, namespaces.peer, config.resourceClasses.small!, config);
    const submit = performance.now();
    await batch.createNamespacedJob({ namespace: namespaces.peer, body });
    peerCreated.set(body.metadata!.name!, { submit, created: performance.now() });
  });
  const peerSubmitMs = performance.now() - peerStart;
  // Let the peer's Jobs finish so the runner's phase starts with an idle Job controller.
  for (;;) {
    const jobs = await batch.listNamespacedJob({ namespace: namespaces.peer });
    if (jobs.items.filter((j) => (j.status?.succeeded ?? 0) > 0).length >= TASKS) break;
    await new Promise((r) => setTimeout(r, 500));
  }

  // The runner: start every attempt, then wait for every result.
  const stats: KubernetesRunnerStats = { requests: 0, watch: { lists: 0, watches: 0, gone: 0 } };
  const runner = createKubernetesRunner(config, { stats });
  const runnerCreated = new Map<string, { submit: number; created: number }>();
  const waits: Promise<unknown>[] = [];
  const runnerStart = performance.now();
  await pool(requests('runner'), CONCURRENCY, async (req) => {
    const submit = performance.now();
    const handle = await runner.start(req);
    const created = performance.now();
    const body = buildJob(req, namespaces.runner, config.resourceClasses.small!, config);
    runnerCreated.set(body.metadata!.name!, { submit, created });
    waits.push(handle.wait());
  });
  const runnerSubmitMs = performance.now() - runnerStart;
  const results = (await Promise.all(waits)) as { outcome: string; message?: string }[];
  const firstFailure = results.find((x) => x.outcome !== 'succeeded');
  if (firstFailure) console.log(`first failure: ${firstFailure.outcome}: ${firstFailure.message}`);
  const runnerAllDoneMs = performance.now() - runnerStart;
  await runner.close?.();
  await new Promise((r) => setTimeout(r, 2500)); // audit batches flush every second

  const summarize = (created: Map<string, { submit: number; created: number }>) => {
    const toCreated = [...created.values()].map((v) => v.created - v.submit);
    const toBound = [...created.entries()]
      .filter(([name]) => bound.has(name))
      .map(([name, v]) => bound.get(name)! - v.created);
    return {
      createdP50: quantile(toCreated, 0.5),
      createdP99: quantile(toCreated, 0.99),
      boundP50: quantile(toBound, 0.5),
      boundP99: quantile(toBound, 0.99),
      boundCount: toBound.length,
    };
  };
  const r = summarize(runnerCreated);
  const p = summarize(peerCreated);
  const audit = readFileSync(cluster.auditLog, 'utf8')
    .split('\n')
    .filter((l) => l.includes(`"username":"${RUNNER_USER}"`));
  const verbs = new Map<string, number>();
  for (const line of audit) {
    const verb = (JSON.parse(line) as { verb: string }).verb;
    verbs.set(verb, (verbs.get(verb) ?? 0) + 1);
  }
  const succeeded = results.filter((x) => x.outcome === 'succeeded').length;
  const fmt = (n: number) => n.toFixed(1).padStart(8);
  console.log(`tasks: ${TASKS}, concurrency: ${CONCURRENCY}, runner succeeded: ${succeeded}/${TASKS}`);
  console.log('                          runner      peer   ratio (runner/peer medians)');
  console.log(
    `submit→created p50 ms  ${fmt(r.createdP50)}  ${fmt(p.createdP50)}   ${(r.createdP50 / p.createdP50).toFixed(2)}`,
  );
  console.log(`submit→created p99 ms  ${fmt(r.createdP99)}  ${fmt(p.createdP99)}`);
  console.log(
    `created→bound  p50 ms  ${fmt(r.boundP50)}  ${fmt(p.boundP50)}   ${(r.boundP50 / p.boundP50).toFixed(2)}`,
  );
  console.log(`created→bound  p99 ms  ${fmt(r.boundP99)}  ${fmt(p.boundP99)}`);
  console.log(
    `pods seen bound         ${String(r.boundCount).padStart(8)}  ${String(p.boundCount).padStart(8)}`,
  );
  console.log(`all submitted in ms    ${fmt(runnerSubmitMs)}  ${fmt(peerSubmitMs)}`);
  console.log(`runner: all finished in ${runnerAllDoneMs.toFixed(0)} ms`);
  console.log(
    `API requests per task (audit log): ${(audit.length / TASKS).toFixed(2)} ` +
      `(${[...verbs].map(([v, n]) => `${v} ${n}`).join(', ')}); ` +
      `runner's own count: ${stats.requests} requests + ${stats.watch.watches} watches, ${stats.watch.gone} 410 re-lists`,
  );
  observer.stop();
} finally {
  await cluster.stop();
}
