/**
 * Follows one attempt's Job to its end: events for its Job and pods come from the namespace's shared
 * watches (watch-hub.ts), routed by Job name; pod logs are streamed while the
 * pod runs, and cancel by deleting the Job with a propagation policy. Only ever touches the Job it
 * was created for (name + uid), in the one namespace it was given.
 */
import { Writable } from 'node:stream';
import type { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Job, V1Pod } from '@kubernetes/client-node';
import { kubernetesClient } from './client-library.ts';
import {
  AttemptOutcome,
  type AttemptResult,
  type Clock,
  type LogLine,
  type RunnerHandle,
} from '../../core/index.ts';
import {
  cancelledBy,
  LineSplitter,
  logCutOff,
  LogChannel,
  logStreamDrained,
  parseOutputsFile,
} from '../shared/index.ts';
import { type Redactor } from '../../core/index.ts';
import { classifyJob, classifyStuckPod, type Verdict } from './classify.ts';
import type { KubernetesRunnerConfig } from './config.ts';
import { secretNameOf } from './job-secret.ts';
import { CONTAINER_NAME } from './job-spec.ts';
import type { WatchStats } from './resilient-watch.ts';
import type { NamespaceWatchHub } from './watch-hub.ts';

/** How long after the pod's container ends its followed log may take to end (see #finish). */
const KUBELET_LOG_DRAIN_MS = 2000;

export interface KubernetesRunnerStats {
  /** Non-watch API requests made by the runner (create, read, list, delete). */
  requests: number;
  watch: WatchStats;
}

export interface TrackerContext {
  kubeConfig: KubeConfig;
  batch: BatchV1Api;
  core: CoreV1Api;
  config: KubernetesRunnerConfig;
  clock: Clock;
  stats: KubernetesRunnerStats;
}

export interface TrackedAttempt {
  namespace: string;
  job: V1Job;
  outputs: string[];
  redact: Redactor;
  startedAt: number;
}

export class AttemptTracker implements RunnerHandle {
  readonly #ctx: TrackerContext;
  readonly #attempt: TrackedAttempt;
  readonly #name: string;
  readonly #uid: string | undefined;
  readonly #logs = new LogChannel();
  #unsubscribe: (() => void) | undefined;
  readonly #result: Promise<AttemptResult>;
  #resolve!: (result: AttemptResult) => void;
  #job: V1Job;
  #pod: V1Pod | undefined;
  #cancelReason: string | undefined;
  #done = false;
  #logAbort: AbortController | undefined;
  #logSplitter: LineSplitter | undefined;
  #logEnded: Promise<void> | undefined;
  #stuckVerdict: Verdict | undefined;
  #stuckTimer: ReturnType<typeof setInterval> | undefined;
  readonly #onClose: () => void;

  constructor(ctx: TrackerContext, attempt: TrackedAttempt, onClose: () => void) {
    this.#ctx = ctx;
    this.#attempt = attempt;
    this.#job = attempt.job;
    this.#name = attempt.job.metadata!.name!;
    this.#uid = attempt.job.metadata?.uid;
    this.#onClose = onClose;
    this.#result = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Subscribes to the namespace's shared watches; returns at once. */
  begin(hub: NamespaceWatchHub): void {
    this.#unsubscribe = hub.subscribe(this.#name, {
      onJob: (job) => this.#onJob(job),
      onJobDeleted: (job) => this.#onJobDeleted(job),
      onPod: (pod) => this.#onPod(pod),
      onTrouble: (message) => this.#system(message),
    });
    const limit = this.#ctx.config.unschedulableTimeoutMs ?? 300_000;
    this.#stuckTimer = setInterval(() => this.#checkStuck(), Math.max(250, Math.min(5000, limit / 4)));
  }

  logs(): AsyncIterable<LogLine> {
    return this.#logs;
  }

  wait(): Promise<AttemptResult> {
    return this.#result;
  }

  async cancel(reason: string, graceMs?: number): Promise<void> {
    if (this.#done) return;
    this.#cancelReason ??= reason;
    const deleted = await this.#deleteJob(graceMs);
    if (!deleted) this.#finishCancelled();
  }

  /** Stops watching without touching the Job (a crash or shutdown of Maestro; reattach resumes). */
  detach(): void {
    this.#teardown();
  }

  get name(): string {
    return this.#name;
  }

  #onJob(job: V1Job): void {
    if (this.#done || (this.#uid && job.metadata?.uid !== this.#uid)) return;
    this.#job = job;
    this.#evaluate();
  }

  #onJobDeleted(job: V1Job): void {
    if (this.#done || (this.#uid && job.metadata?.uid !== this.#uid)) return;
    if (this.#stuckVerdict) return this.#finish(this.#stuckVerdict);
    if (this.#cancelReason !== undefined) return this.#finishCancelled();
    const verdict = classifyJob(job, this.#pod);
    if (verdict) return this.#finish(verdict);
    this.#finish({
      outcome: AttemptOutcome.runnerError,
      exitCode: null,
      retryable: true,
      reason: 'JobDeleted',
      message: `Job ${this.#name} was deleted by someone else before it finished`,
    });
  }

  #onPod(pod: V1Pod): void {
    if (this.#done) return;
    const owner = pod.metadata?.ownerReferences?.find((r) => r.kind === 'Job');
    if (this.#uid && owner && owner.uid !== this.#uid) return;
    this.#pod = pod;
    if (pod.status?.phase === 'Running' && !this.#logAbort && this.#ctx.config.streamLogs !== false)
      this.#streamLogs(pod);
    this.#evaluate();
  }

  #evaluate(): void {
    if (this.#done || this.#cancelReason !== undefined) return;
    const verdict = classifyJob(this.#job, this.#pod);
    if (verdict) return this.#finish(verdict);
    this.#checkStuck();
  }

  #checkStuck(): void {
    if (this.#done || this.#cancelReason !== undefined || !this.#pod) return;
    const limit = this.#ctx.config.unschedulableTimeoutMs ?? 300_000;
    const verdict = classifyStuckPod(this.#pod, this.#ctx.clock.now(), limit);
    if (!verdict || this.#stuckVerdict) return;
    // The pod will not run as is: free the cluster's resources before reporting.
    this.#stuckVerdict = verdict;
    void this.#deleteJob(0).finally(() => this.#finish(verdict));
  }

  #streamLogs(pod: V1Pod): void {
    const abort = new AbortController();
    this.#logAbort = abort;
    const splitter = new LineSplitter(
      'stdout',
      this.#attempt.redact,
      (line) => this.#logs.push(line),
      () => this.#ctx.clock.now(),
    );
    this.#logSplitter = splitter;
    const sink = new Writable({
      write(chunk: Buffer, _enc, callback) {
        splitter.write(chunk);
        callback();
      },
    });
    // The client pipes its own response stream into `sink`; aborting that stream makes it emit an
    // error nobody listens to, so listen here (an aborted log stream is expected at the end).
    sink.on('pipe', (source: NodeJS.ReadableStream) => source.on('error', () => sink.end()));
    let noStream: () => void = () => {};
    this.#logEnded = new Promise<void>((resolve) => {
      noStream = resolve;
      sink.once('finish', resolve);
      sink.once('close', resolve);
      sink.once('error', () => resolve());
      abort.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const log = new (kubernetesClient().Log)(this.#ctx.kubeConfig);
    this.#ctx.stats.requests += 1;
    log
      .log(this.#attempt.namespace, pod.metadata!.name!, CONTAINER_NAME, sink, { follow: true })
      .then((controller) => abort.signal.addEventListener('abort', () => controller.abort(), { once: true }))
      .catch((error: unknown) => {
        noStream(); // no stream will come: nothing to wait for at the end
        if (!this.#done)
          this.#system(`logs are not available for pod ${pod.metadata?.name}: ${(error as Error).message}`);
      });
  }

  /**
   * The attempt's Secret is needed only while its pod starts: delete it when the attempt ends
   * rather than when the Job's TTL expires (the garbage collector removes it with the Job too).
   */
  async #deleteSecret(): Promise<void> {
    const name = secretNameOf(this.#name);
    const env = this.#job.spec?.template.spec?.containers.flatMap((c) => c.env ?? []) ?? [];
    if (!env.some((e) => e.valueFrom?.secretKeyRef?.name === name)) return;
    this.#ctx.stats.requests += 1;
    // A failure leaves it to the garbage collector, which deletes it with its Job.
    await this.#ctx.core.deleteNamespacedSecret({ name, namespace: this.#attempt.namespace }).catch(() => {});
  }

  async #deleteJob(graceMs: number | undefined): Promise<boolean> {
    try {
      this.#ctx.stats.requests += 1;
      await this.#ctx.batch.deleteNamespacedJob({
        name: this.#name,
        namespace: this.#attempt.namespace,
        propagationPolicy: this.#ctx.config.deletePropagation ?? 'Background',
        ...(graceMs !== undefined ? { gracePeriodSeconds: Math.ceil(graceMs / 1000) } : {}),
        body: {
          propagationPolicy: this.#ctx.config.deletePropagation ?? 'Background',
          ...(this.#uid ? { preconditions: { uid: this.#uid } } : {}),
        },
      });
      return true;
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === 404 || code === 409) return false; // already gone (or a different Job now)
      this.#system(`could not delete Job ${this.#name}: ${(error as Error).message}`);
      return false;
    }
  }

  #finishCancelled(): void {
    this.#finish({ ...cancelledBy(this.#cancelReason ?? 'cancelled'), exitCode: null });
  }

  #finish(verdict: Verdict): void {
    if (this.#done) return;
    this.#done = true;
    // The container has ended, so a followed log stream ends too; give its last lines a moment,
    // and say so when they may be cut off. Only a moment: with no kubelet to answer (kwok, a
    // partitioned node) the stream neither ends nor fails, and every attempt would wait it out.
    const drained = this.#logEnded
      ? logStreamDrained(this.#logEnded, this.#ctx.clock, KUBELET_LOG_DRAIN_MS)
      : Promise.resolve(true);
    void drained.then((complete) => {
      if (!complete) this.#system(logCutOff(KUBELET_LOG_DRAIN_MS));
      this.#complete(verdict);
    });
  }

  #complete(verdict: Verdict): void {
    this.#logSplitter?.end();
    void this.#deleteSecret();
    const parsed = parseOutputsFile(verdict.terminationMessage ?? '', this.#attempt.outputs);
    for (const problem of parsed.problems) this.#system(problem);
    this.#teardown();
    const redact = this.#attempt.redact;
    this.#resolve({
      outcome: verdict.outcome,
      exitCode: verdict.exitCode,
      retryable: verdict.retryable,
      ...(verdict.reason ? { reason: verdict.reason } : {}),
      ...(verdict.message ? { message: redact(verdict.message) } : {}),
      outputs: parsed.outputs,
      startedAt: this.#attempt.startedAt,
      finishedAt: this.#ctx.clock.now(),
    });
  }

  #teardown(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#stuckTimer) clearInterval(this.#stuckTimer);
    this.#logAbort?.abort();
    this.#logs.close();
    this.#onClose();
  }

  #system(text: string): void {
    this.#logs.push({ stream: 'system', text: this.#attempt.redact(text), time: this.#ctx.clock.now() });
  }
}
