import type { Server } from 'node:http';
import { trace, type Tracer } from '@opentelemetry/api';
import { traceDelivery } from './delivery-trace.ts';
import { readAppId } from './config.ts';
import pino, { type Logger } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { systemClock, type Clock } from '../core/index.ts';
import type { ProvenanceSigner } from '../provenance/index.ts';
import type { AppStore } from './app-store.ts';
import type { SensitivityCheck } from './gate/approval-gate.ts';
import type { CompileFn } from './source/compile-snapshot.ts';
import type { DispatchStep, Engines } from './dispatch/dispatch-runs.ts';
import { registerHandlers } from './events/register-handlers.ts';
import {
  createIngressServer,
  createWebhookIngress,
  DeliveryQueue,
  DEFAULT_INGRESS_LIMITS,
  listen,
  type DeliveryStore,
  type IngressLimits,
  type WebhookIngress,
} from './ingress/index.ts';
import { resumeLiveRuns } from './dispatch/resume-runs.ts';
import { adoptClaimedRuns } from './dispatch/adopt-runs.ts';
import { sweepAppApprovals } from './dispatch/sweep-runs.ts';
import { createAppScheduler, type AppScheduleOptions } from './schedules/app-schedules.ts';
import { startApprovalSweeper, type CronScheduler } from '../engine/index.ts';
import type { RunReporter } from './dispatch/run-reporter.ts';
import type { SourceAccess } from './github/source-access.ts';

export interface MaestroAppOptions {
  appId: string;
  privateKey: string;
  webhookSecret: string;
  webhookPath: string;
  baseUrl: string;
  store: AppStore;
  /** Webhook deliveries (ingress's store, beside the app's: a SQLite file or PostgreSQL). */
  deliveries: DeliveryStore;
  /** Where bodies past the in-memory size are spooled (0700; under the data dir). */
  spoolDir: string;
  /** Ingress bounds (body size, deadline, concurrency, retention); defaults in DEFAULT_INGRESS_LIMITS. */
  ingressLimits?: Partial<IngressLimits>;
  /** The runtime's tracer: a delivery's processing, its compile, gate and dispatch are spans of it. */
  tracer?: Tracer;
  compile: CompileFn;
  signer: ProvenanceSigner;
  engines?: Engines;
  /** Policy's say on which plans are sensitive (need approval although they declare none). */
  sensitive?: SensitivityCheck;
  clock?: Clock;
  logger?: Logger;
  runUpdateIntervalMs?: number;
  /** First GitHub retry backoff in ms (default 200). */
  backoffMs?: number;
  /** Approvals a workflow only a pull request's head has, using secrets or privileged runners, needs (default 1). */
  defaultApprovals?: number;
  /** How long an approval and its attestation stay valid (default 7 days). */
  approvalTtlMs?: number;
  /** Test seam: called after each durable dispatch step (the crash tests SIGKILL there). */
  onDispatchStep?: (step: DispatchStep) => void;
  /** Fire `triggers.schedule` of the default branches' manifests (absent: no schedules fire). */
  schedules?: AppScheduleOptions;
  /** Gets the installation tokens that fetch runs' sources (the runtime's sourceToken asks it). */
  sources?: SourceAccess;
  /**
   * Between two approval sweeps of this process (dispatch/sweep-runs.ts; default 1000 ms); the
   * sweeper runs whenever the App has engines: the App executes its own runs, so it must also
   * time out those parked on an approval task.
   */
  approvalSweepMs?: number;
  /**
   * Receive webhooks (default true). false: this process only executes runs (`maestro server
   * --role worker` with the App's credentials): it reports the check runs of the App's runs its
   * worker claims and times out their approvals, but processes no delivery, fires no schedule and
   * leaves the App's live runs to the claims of the workers (no resume at start).
   */
  webhooks?: boolean;
}

export const DEFAULT_APPROVAL_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface MaestroApp {
  readonly server: Server;
  /** The webhook endpoint alone, for a server that mounts it itself (see createWebhookIngress). */
  readonly ingress: WebhookIngress;
  readonly probot: Probot;
  /** The schedule firer, when schedules are on (tests call its tick()). */
  readonly schedules: CronScheduler | undefined;
  listen(port: number, host?: string): Promise<number>;
  /** Sweeps approval timeouts now (tests; the App's timer does it every approvalSweepMs). */
  sweepApprovals(): Promise<void>;
  /** Waits until every accepted delivery and every live run's final check-run write is done. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The GitHub App: our own HTTP front (signature, storage, 202) in front of a Probot instance that
 * routes stored deliveries to the handlers with installation-authenticated Octokit clients.
 * Probot's own throttling and retry plugins are switched off: GitHubClient applies one retry
 * policy, and check-run writes are already coalesced per run.
 */
export async function createMaestroApp(options: MaestroAppOptions): Promise<MaestroApp> {
  // Before anything starts: a non-numeric id would become NaN in the JWTs and the comment check.
  const appId = readAppId(options.appId);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? pino({ level: 'silent' });
  const tracer = options.tracer ?? trace.getTracer('maestro-app');
  const Octokit = ProbotOctokit.defaults((instance: Record<string, unknown>) => ({
    ...instance,
    throttle: { ...(instance.throttle as object), enabled: false },
    retry: { enabled: false },
  }));
  const probot = new Probot({
    appId: options.appId,
    privateKey: options.privateKey,
    secret: options.webhookSecret,
    baseUrl: options.baseUrl,
    Octokit,
    log: logger.child({ name: 'probot' }),
  });
  const reporters = new Set<RunReporter>();
  const reported = (runId: string) => [...reporters].some((r) => r.runId === runId);
  const onError = (error: unknown) => logger.error({ err: error }, 'maestro app error');
  const handlers = registerHandlers(probot, {
    store: options.store,
    compile: options.compile,
    signer: options.signer,
    engines: options.engines,
    sensitive: options.sensitive ?? (() => undefined),
    clock,
    runUpdateIntervalMs: options.runUpdateIntervalMs ?? 5000,
    backoffMs: options.backoffMs ?? 200,
    defaultApprovals: options.defaultApprovals ?? 1,
    approvalTtlMs: options.approvalTtlMs ?? DEFAULT_APPROVAL_TTL_MS,
    ...(options.onDispatchStep ? { onDispatchStep: options.onDispatchStep } : {}),
    appId,
    track: (reporter) => {
      reporters.add(reporter);
      void reporter.done.then(() => reporters.delete(reporter));
    },
    onError,
  });
  options.sources?.useMinter(handlers.installationToken);
  // App runs a worker of this process claimed (started elsewhere) are reported from here too.
  const stopAdopting = options.engines
    ? adoptClaimedRuns({
        engines: options.engines,
        store: options.store,
        clientFor: handlers.clientFor,
        dispatchContext: handlers.dispatchContext,
        isReported: reported,
        onError,
      })
    : () => undefined;
  const queue = new DeliveryQueue({
    store: options.deliveries,
    handle: (delivery, payload) =>
      traceDelivery(tracer, delivery, () =>
        probot.receive({ id: delivery.id, name: delivery.name, payload } as Parameters<Probot['receive']>[0]),
      ),
    onError: (delivery, error) =>
      logger.error({ err: error, delivery: delivery.id, event: delivery.name }, 'delivery failed'),
    onStoreError: (error) => logger.warn({ err: error }, 'delivery claims round failed'),
  });
  const claimMs = options.ingressLimits?.claimMs ?? DEFAULT_INGRESS_LIMITS.claimMs;
  let open = true;
  const ingress = createWebhookIngress({
    secret: options.webhookSecret,
    deliveries: options.deliveries,
    spoolDir: options.spoolDir,
    accept: (delivery, payload) => queue.enqueue(delivery, payload),
    clock: () => clock.now(),
    logger: logger.child({ name: 'ingress' }),
    tracer,
    ...(options.ingressLimits ? { limits: options.ingressLimits } : {}),
  });
  const server = createIngressServer({ ingress, webhookPath: options.webhookPath, isReady: () => open });
  const webhooks = options.webhooks !== false;
  // Runs that were live when the app stopped are executed again and their check runs finished.
  if (options.engines && webhooks)
    await resumeLiveRuns({
      engines: options.engines,
      store: options.store,
      clientFor: handlers.clientFor,
      dispatchContext: handlers.dispatchContext,
    });
  // Approval timeouts of parked runs, after the resume (which executes the runs already queued).
  const sweeper = options.engines
    ? startApprovalSweeper(
        () =>
          sweepAppApprovals({
            engines: options.engines!,
            store: options.store,
            clientFor: handlers.clientFor,
            dispatchContext: handlers.dispatchContext,
          }),
        {
          logger,
          ...(options.approvalSweepMs === undefined ? {} : { intervalMs: options.approvalSweepMs }),
        },
      )
    : undefined;
  // Schedules start after the resume above: a run a previous life dispatched is live again
  // before a claim it left behind is completed.
  const schedules =
    options.engines && options.schedules && webhooks
      ? createAppScheduler({
          probot,
          services: handlers.services,
          engines: options.engines,
          store: options.store.schedules,
          clock,
          logger,
          settings: options.schedules,
          tracer,
        })
      : undefined;
  if (schedules && options.schedules?.start !== false) schedules.start();
  // Deliveries stored before a crash or restart are processed now, in arrival order. A file of
  // this data dir is this process's alone, so every pending delivery in it is ours; on a shared
  // database only those whose claimer's claim ran out are (another replica may be on the rest).
  const now = clock.now();
  const orphansAt = options.deliveries.shared ? now : Number.MAX_SAFE_INTEGER;
  if (webhooks)
    for (const delivery of await options.deliveries.claimPending(orphansAt, now + claimMs))
      queue.enqueue(delivery);
  const stopClaims = webhooks ? queue.keepClaims(claimMs, () => clock.now()) : () => undefined;
  return {
    server,
    ingress,
    probot,
    schedules,
    listen: (port, host = '0.0.0.0') => listen(server, port, host),
    sweepApprovals: async () => sweeper?.sweep(),
    idle: async () => {
      for (;;) {
        await queue.drain();
        if (reporters.size === 0 && queue.inFlight === 0) return;
        await Promise.all([...reporters].map((r) => r.done));
      }
    },
    close: async () => {
      open = false;
      await sweeper?.close();
      stopAdopting();
      await schedules?.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await ingress.close();
      await closed;
      await queue.drain();
      // After the drain: what this process holds stays claimed until it is finished.
      stopClaims();
    },
  };
}
