/**
 * One list+watch of Maestro's Jobs and one of their pods per Kubernetes namespace, shared by every
 * attempt the runner tracks there, so the API cost per task is its create (plus a delete on
 * cancel) instead of two watches each. Events are routed to attempts by Job name; the latest
 * objects are cached so an attempt that subscribes after its Job's first events still sees them.
 * After a 410 re-list, Jobs that vanished while nobody was watching are reported as deleted.
 */
import type { KubeConfig, V1Job, V1Pod } from '@kubernetes/client-node';
import type { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { Clock } from '../../core/index.ts';
import { LABEL_MANAGED } from './job-spec.ts';
import { ResilientWatch, type WatchStats } from './resilient-watch.ts';

export interface HubListener {
  onJob(job: V1Job): void;
  onJobDeleted(job: V1Job): void;
  onPod(pod: V1Pod): void;
  onTrouble(message: string): void;
}

export interface HubContext {
  kubeConfig: KubeConfig;
  batch: BatchV1Api;
  core: CoreV1Api;
  clock: Clock;
  stats: { requests: number; watch: WatchStats };
}

const SELECTOR = `${LABEL_MANAGED}=summit-maestro`;
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

export class NamespaceWatchHub {
  readonly #listeners = new Map<string, Set<HubListener>>();
  readonly #jobs = new Map<string, V1Job>();
  readonly #pods = new Map<string, V1Pod>();
  readonly #watches: ResilientWatch<V1Job | V1Pod>[] = [];

  constructor(ctx: HubContext, namespace: string) {
    const trouble = (message: string) => {
      for (const set of this.#listeners.values()) for (const l of set) l.onTrouble(message);
    };
    const jobs = new ResilientWatch<V1Job>({
      kubeConfig: ctx.kubeConfig,
      clock: ctx.clock,
      stats: ctx.stats.watch,
      path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
      query: { labelSelector: SELECTOR },
      list: async () => {
        ctx.stats.requests += 1;
        const list = await ctx.batch.listNamespacedJob({ namespace, labelSelector: SELECTOR });
        const present = new Set(list.items.map((j) => j.metadata?.name));
        // Deleted while we were not watching (e.g. during a 410 gap): no DELETED event will come.
        for (const [name, job] of this.#jobs) if (!present.has(name)) this.#jobDeleted(job);
        return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
      },
      onObject: (job) => this.#job(job),
      onDeleted: (job) => this.#jobDeleted(job),
      onTrouble: trouble,
    });
    const pods = new ResilientWatch<V1Pod>({
      kubeConfig: ctx.kubeConfig,
      clock: ctx.clock,
      stats: ctx.stats.watch,
      path: `/api/v1/namespaces/${namespace}/pods`,
      query: { labelSelector: SELECTOR },
      list: async () => {
        ctx.stats.requests += 1;
        const list = await ctx.core.listNamespacedPod({ namespace, labelSelector: SELECTOR });
        return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
      },
      onObject: (pod) => this.#pod(pod),
      onDeleted: (pod) => this.#pods.delete(pod.metadata?.name ?? ''),
      onTrouble: trouble,
    });
    this.#watches.push(jobs as ResilientWatch<V1Job | V1Pod>, pods as ResilientWatch<V1Job | V1Pod>);
    void jobs.run();
    void pods.run();
  }

  /** Routes events of the Job named `jobName` to `listener`, starting with what is cached. */
  subscribe(jobName: string, listener: HubListener): () => void {
    let set = this.#listeners.get(jobName);
    if (!set) this.#listeners.set(jobName, (set = new Set()));
    set.add(listener);
    const job = this.#jobs.get(jobName);
    for (const pod of this.#pods.values())
      if (pod.metadata?.labels?.[JOB_NAME_LABEL] === jobName) listener.onPod(pod);
    if (job) listener.onJob(job);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(jobName);
    };
  }

  stop(): void {
    for (const w of this.#watches) w.stop();
  }

  #job(job: V1Job): void {
    const name = job.metadata?.name ?? '';
    this.#jobs.set(name, job);
    for (const l of this.#listeners.get(name) ?? []) l.onJob(job);
  }

  #jobDeleted(job: V1Job): void {
    const name = job.metadata?.name ?? '';
    this.#jobs.delete(name);
    for (const [podName, pod] of this.#pods)
      if (pod.metadata?.labels?.[JOB_NAME_LABEL] === name) this.#pods.delete(podName);
    for (const l of [...(this.#listeners.get(name) ?? [])]) l.onJobDeleted(job);
  }

  #pod(pod: V1Pod): void {
    this.#pods.set(pod.metadata?.name ?? '', pod);
    const jobName = pod.metadata?.labels?.[JOB_NAME_LABEL];
    if (jobName) for (const l of this.#listeners.get(jobName) ?? []) l.onPod(pod);
  }
}
