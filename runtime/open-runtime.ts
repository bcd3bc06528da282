/**
 * The one composition root (DESIGN.md): configuration in, the wired parts out. The CLI, the App,
 * the Action and the server call it, so the catalog, store, policy gate, runners, signers,
 * tracing and durability are the same whichever surface started the run.
 */
import pino, { type Logger } from 'pino';
import {
  RunnerRegistry,
  TelemetryBus,
  ensurePrivateDir,
  type Attestor,
  type Clock,
  type PolicyChoice,
  type SourceContext,
  type TaskCatalog,
} from '../core/index.ts';
import {
  createEngine,
  openAsyncStore,
  s3ArtifactStore,
  type AsyncStore,
  type Engine,
  type EngineOptions,
} from '../engine/index.ts';
import { REMOTE_ARTIFACT_RUNNERS } from './artifact-store-setting.ts';
import {
  createAttestor,
  createWorkloadIdentityIssuer,
  resolveApprovalSigner,
  resolveSigner,
  type ProvenanceSigner,
} from '../provenance/index.ts';
import type { DecisionLog } from '../policy/index.ts';
import { loadBuiltinCatalog, sdkNodeArgs, sendHttpRequest, taskDigestOfFolder } from '../tasks/index.ts';
import { createSourceFetcher, type GitCredential } from '../workspace/index.ts';
import { openPolicy, openPolicyLog } from './open-policy.ts';
import { timedGate } from './timed-gate.ts';
import { openImageGate } from './open-image-gate.ts';
import { createBuiltImageRecorder, type SbomSink } from './built-image-sboms.ts';
import { openRunners } from './open-runners.ts';
import { openTracing, type Tracing } from './open-tracing.ts';
import type { RuntimeConfig } from './runtime-config.ts';

export interface RuntimeOptions {
  clock?: Clock;
  /** The task catalog (default: the built-in one read from tasks/; the bundled Action embeds its own). */
  catalog?: TaskCatalog;
  /** Default: pino at config.logLevel, to stderr. */
  logger?: Logger;
  /** Resolve the approval-attestation signer too (the App). */
  approvals?: boolean;
  /**
   * The token for fetching a remote source (the App's installation token), asked for at fetch
   * time. Without it remote sources are fetched anonymously (the CLI: local repositories, public URLs).
   */
  sourceToken?: (repo: string, context?: SourceContext) => Promise<string | GitCredential | undefined>;
  /**
   * The server's SBOM store (the API store), opened on first use: with it, an image a task
   * reports it built gets its SBOM made, signed and stored (docs/supply-chain.md).
   */
  sbomStore?: () => Promise<SbomSink>;
}

/**
 * What a narrowed engine of this runtime keeps: fewer secrets and runners (fork code). Both are
 * required: a scope that forgot one must not quietly get every secret or every runner.
 */
export interface EngineScope {
  /** The secrets its tasks may receive (`{}`: none). */
  secrets: Record<string, string>;
  /** Runner kinds this engine may use (`[]`: none). */
  runnerKinds: readonly string[];
}

export interface Runtime {
  readonly config: RuntimeConfig;
  readonly catalog: TaskCatalog;
  readonly store: AsyncStore;
  readonly policy: PolicyChoice;
  /** The policy gate's decision log (GET /v1/runs/{id}/decisions); undefined with the policy off. */
  readonly decisions: DecisionLog | undefined;
  readonly runners: RunnerRegistry;
  /** Signs receipts; undefined when provenance is off. */
  readonly signer: ProvenanceSigner | undefined;
  /** Signs approval attestations; resolved only with `approvals: true`. */
  readonly approvalSigner: ProvenanceSigner | undefined;
  readonly tracing: Tracing;
  /** Measurements from below the surfaces (policy decisions, circuit breakers) for the server's metrics. */
  readonly telemetry: TelemetryBus;
  readonly logger: Logger;
  /** The engine for trusted work: every configured runner and the configured secrets. */
  readonly engine: Engine;
  /** Another engine on the same store, policy and signer, narrowed (e.g. for fork code). */
  createEngine(scope: EngineScope): Engine;
  close(): Promise<void>;
}

export async function openRuntime(config: RuntimeConfig, options: RuntimeOptions = {}): Promise<Runtime> {
  // Runners first: a bad runners file fails before anything is opened or written (the image
  // policy is read first of all, so a bad one fails the same way; its log opens only when valid).
  const logSetting = {
    dataDir: config.dataDir,
    durability: config.durability,
    databaseUrl: config.databaseUrl,
  };
  if (config.runners.imagePolicy !== undefined) ensurePrivateDir(config.dataDir);
  // The store opens after the runners; the image gate logs its decisions in it (first use).
  const opened: { store?: AsyncStore } = {};
  const images = await openImageGate(config.runners, logSetting, () => opened.store!);
  let runners: ReturnType<typeof openRunners>;
  try {
    runners = openRunners(config.runners, {
      baseEnv: config.baseEnv,
      hiddenPaths: config.hiddenPaths,
      localSandbox: config.localSandbox,
      ...(images.gate ? { imageGate: images.gate } : {}),
    });
  } catch (error) {
    await images.close();
    throw error;
  }
  const logger = options.logger ?? pino({ level: config.logLevel }, pino.destination(2));
  for (const note of config.runners.notes) logger.info(note);
  const catalog = options.catalog ?? (await loadBuiltinCatalog());
  // The data dir holds the policy log, keys and attempts' work even when the runs are stored in
  // PostgreSQL (SQLite's store used to be what created it): private (0700) either way.
  ensurePrivateDir(config.dataDir);
  const store = await openAsyncStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    durability: config.durability,
  });
  opened.store = store;
  await images.openLog();
  // The decision log lives in the store's database on SQLite (one file, one group commit).
  const policy = await openPolicy(config.policy, logSetting, store, options.clock);
  const signer = config.provenance === 'on' ? await resolveSigner(config.signing) : undefined;
  // Approval attestations have their own key: a leaked receipt key cannot forge an approval.
  const approvalSigner = options.approvals ? await resolveApprovalSigner(config.signing) : undefined;
  const attestor: Attestor | undefined = signer ? createAttestor({ signer }) : undefined;
  // `${workload.identity}`: signed with the receipts' key, so a service verifies it against the
  // key GET /v1/keys publishes; none without a key signer (a task using one then fails closed).
  const workloadIdentity = signer ? createWorkloadIdentityIssuer({ signer }) : undefined;
  // SBOMs of images tasks build: signed with the receipts' signer, stored where the surface says.
  const builtImages =
    signer && options.sbomStore
      ? createBuiltImageRecorder({
          client: images.registry(),
          signer,
          insecureRegistries: images.insecureRegistries,
          openStore: options.sbomStore,
        })
      : undefined;
  // Approval tasks (`uses: tasks/approval@1`) sign and verify with the approval key, and log each
  // approval, escalation and timeout in the decision log: the policy gate's, or (policy off) one
  // opened for them on the same chain.
  const ownApprovalLog = approvalSigner && !policy.log ? await openPolicyLog(logSetting, store) : undefined;
  const approvalLog = approvalSigner ? (policy.log ?? ownApprovalLog) : undefined;
  const tracing = await openTracing(config.tracing.exporter);
  const telemetry = new TelemetryBus();
  const gate = timedGate(policy.choice, telemetry);
  const gitEnv = { PATH: config.baseEnv.PATH, HOME: config.baseEnv.HOME };
  const source = createSourceFetcher({
    dataDir: config.dataDir,
    baseEnv: gitEnv,
    ...(options.sourceToken ? { tokenFor: options.sourceToken } : {}),
  });
  const artifactStore = config.artifactStore ? s3ArtifactStore(config.artifactStore) : undefined;
  if (artifactStore)
    logger.info(
      `artifacts of ${REMOTE_ARTIFACT_RUNNERS.join(' and ')} tasks move through ${artifactStore.location}`,
    );
  const base: EngineOptions = {
    store,
    dataDir: config.dataDir,
    catalog,
    policy: gate,
    runners: runners.registry,
    secrets: config.secrets,
    telemetry,
    tracer: tracing.tracer,
    logger,
    source,
    // `import '@summit-maestro/sdk'` in a repository task resolves to this install's SDK.
    taskNodeArgs: sdkNodeArgs(),
    catalogTaskDigest: (folder) => taskDigestOfFolder(folder),
    // A `wait` task's HTTP condition is polled with the http task's request: one HTTP client,
    // one set of redirect and egress rules.
    httpProbe: (request, env) => sendHttpRequest(request, env, () => undefined),
    ...(attestor ? { attestor } : {}),
    ...(workloadIdentity ? { workloadIdentity } : {}),
    ...(builtImages ? { builtImages } : {}),
    ...(approvalSigner
      ? { approvals: { signer: approvalSigner, ...(approvalLog ? { log: approvalLog } : {}) } }
      : {}),
    ...(artifactStore ? { artifacts: { store: artifactStore, runners: REMOTE_ARTIFACT_RUNNERS } } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(config.concurrency === undefined ? {} : { concurrency: config.concurrency }),
    ...(config.reattempts === undefined ? {} : { reattempts: config.reattempts }),
    ...(config.leaseMs === undefined ? {} : { leaseMs: config.leaseMs }),
    ...(config.prices ? { prices: config.prices } : {}),
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
  };
  const createScoped = (scope: EngineScope): Engine => {
    const registry = new RunnerRegistry();
    // A JavaScript caller (or a cast) that leaves one out gets none of it (fail closed).
    for (const kind of scope.runnerKinds ?? []) {
      const runner = runners.registry.get(kind);
      if (runner) registry.register(runner);
    }
    return createEngine({ ...base, runners: registry, secrets: scope.secrets ?? {} });
  };
  return {
    config,
    catalog,
    store,
    policy: gate,
    decisions: policy.log,
    runners: runners.registry,
    signer,
    approvalSigner,
    tracing,
    telemetry,
    logger,
    engine: createEngine(base),
    createEngine: createScoped,
    async close() {
      await runners.close();
      await images.close();
      await builtImages?.close();
      await tracing.shutdown();
      // The logs first: on SQLite they share the store's connection, which its close ends.
      await policy.close();
      await ownApprovalLog?.close();
      await store.close();
      artifactStore?.close();
    },
  };
}
