import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, withRepositoryTasks, type Clock } from '../core/index.ts';
import { compileManifest } from '../compiler/index.ts';
import type { AsyncStore, Engine } from '../engine/index.ts';
import { defaultBundlePath, readPolicyBundleFile } from '../policy/index.ts';
import type { ProvenanceSigner } from '../provenance/index.ts';
import { openRuntime, type PolicySetting, type Runtime, type RuntimeConfig } from '../runtime/index.ts';
import type { AppStore } from './app-store.ts';
import { openAppStore } from './store/open-app-store.ts';
import type { SensitivityCheck } from './gate/approval-gate.ts';
import type { CompileFn } from './source/compile-snapshot.ts';
import { openDeliveryStore, type DeliveryStore, type IngressLimits } from './ingress/index.ts';
import { createMaestroApp, type MaestroApp, type MaestroAppOptions } from './maestro-app.ts';
import { policySensitivity } from './gate/policy-sensitivity.ts';
import { SourceAccess } from './github/source-access.ts';
import { readAppId } from './config.ts';

export interface AppRuntimeOptions {
  appId: string;
  privateKey: string;
  webhookSecret: string;
  webhookPath: string;
  baseUrl: string;
  /**
   * The same configuration `maestro run` reads (runtimeConfigFromEnv): data dir, runners
   * (file or detected socket), policy, signing keys, durability, tracing, secrets.
   */
  runtime: RuntimeConfig;
  /** Runner kind fork runs may use (`local` only in tests; `none` refuses to run fork code). */
  forkRunner: string;
  runUpdateIntervalMs: number;
  /** Ingress bounds (tests shorten the body deadline; the CLI sets the retention). */
  ingressLimits?: Partial<IngressLimits>;
  /** Default: the sensitivity lists of the configured policy bundle (runtime.policy; the built-in one when policy is off). */
  sensitive?: SensitivityCheck;
  clock?: Clock;
  logger?: Logger;
  backoffMs?: number;
  /** See MaestroAppOptions (MAESTRO_DEFAULT_APPROVALS, MAESTRO_APPROVAL_TTL_HOURS). */
  defaultApprovals?: number;
  approvalTtlMs?: number;
  /** See MaestroAppOptions.onDispatchStep (tests only). */
  onDispatchStep?: MaestroAppOptions['onDispatchStep'];
  /** See MaestroAppOptions.approvalSweepMs. */
  approvalSweepMs?: number;
  /** See MaestroAppOptions.webhooks (false: a worker replica that executes and reports App runs). */
  webhooks?: boolean;
  /** See MaestroAppOptions.schedules (`maestro app` turns them on). */
  schedules?: MaestroAppOptions['schedules'];
}

export interface AppRuntime {
  app: MaestroApp;
  appStore: AppStore;
  deliveryStore: DeliveryStore;
  engineStore: AsyncStore;
  engines: { trusted: Engine; untrusted: Engine };
  /** Signs receipts (MAESTRO_SIGNING_KEY, keyless, else the development receipt key); none with MAESTRO_PROVENANCE=off. */
  signer: ProvenanceSigner | undefined;
  /**
   * Signs approval attestations: its own key (MAESTRO_APPROVAL_SIGNING_KEY, else the development
   * approval key), so a leaked receipt key cannot forge an approval.
   */
  approvalSigner: ProvenanceSigner;
  runtime: Runtime;
  close(): Promise<void>;
}

/**
 * The App on the one composition root (runtime/): the trusted engine has every configured
 * runner, the secrets and the policy gate; the untrusted engine (fork code) has the same gate
 * and store but no secrets and only the fork runner. The App adds its own store and GitHub side.
 */
export async function openAppRuntime(options: AppRuntimeOptions): Promise<AppRuntime> {
  // Checked before the runtime opens, so a bad id leaves nothing open behind it.
  readAppId(options.appId);
  // Runs fetch their repository with the installation token of the event's installation.
  const sources = new SourceAccess(options.baseUrl);
  const runtime = await openRuntime(options.runtime, {
    approvals: true,
    sourceToken: (repo, context) => sources.tokenFor(repo, context),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const compile: CompileFn = (source, file, sources) =>
    compileManifest(source, {
      file,
      catalog: sources
        ? withRepositoryTasks(runtime.catalog, sources.repository, sources.locked)
        : runtime.catalog,
    });
  const approvalSigner = runtime.approvalSigner!;
  // The App's tables and its deliveries live on the runtime's database: with MAESTRO_DATABASE_URL
  // every replica shares them (a redelivery another replica stored, a pusher, an attestation, a
  // dispatch, a schedule slot's claim), else the data dir's github-app.sqlite.
  const where = { dataDir: options.runtime.dataDir, databaseUrl: runtime.config.databaseUrl };
  const appStore = await openAppStore(where).catch(async (error: unknown) => {
    await runtime.close();
    throw error;
  });
  const deliveryStore = await openDeliveryStore(where).catch(async (error: unknown) => {
    await appStore.close();
    await runtime.close();
    throw error;
  });
  // Any replica derives which installation fetches a run's code from the run's stored records.
  sources.useRuns(async (runId) => {
    const dispatched = await appStore.getRun(runId);
    if (!dispatched) return undefined;
    const { source, plan } = await runtime.store.getRun(runId);
    return { installationId: dispatched.installationId, source, plan };
  });
  const trusted = runtime.engine;
  const untrusted = runtime.createEngine({
    secrets: {},
    runnerKinds: options.forkRunner === 'local' ? ['local'] : [],
  });
  const engines = { trusted, untrusted };
  const app = await createMaestroApp({
    appId: options.appId,
    privateKey: options.privateKey,
    webhookSecret: options.webhookSecret,
    webhookPath: options.webhookPath,
    baseUrl: options.baseUrl,
    store: appStore,
    deliveries: deliveryStore,
    spoolDir: join(options.runtime.dataDir, 'ingress-spool'),
    ...(options.ingressLimits ? { ingressLimits: options.ingressLimits } : {}),
    compile,
    signer: approvalSigner,
    engines,
    tracer: runtime.tracing.tracer,
    sensitive: options.sensitive ?? (await sensitivityOf(options.runtime.policy)),
    clock: options.clock ?? systemClock,
    runUpdateIntervalMs: options.runUpdateIntervalMs,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}),
    ...(options.defaultApprovals !== undefined ? { defaultApprovals: options.defaultApprovals } : {}),
    ...(options.approvalTtlMs !== undefined ? { approvalTtlMs: options.approvalTtlMs } : {}),
    ...(options.onDispatchStep ? { onDispatchStep: options.onDispatchStep } : {}),
    ...(options.approvalSweepMs !== undefined ? { approvalSweepMs: options.approvalSweepMs } : {}),
    ...(options.webhooks === false ? { webhooks: false } : {}),
    ...(options.schedules ? { schedules: options.schedules } : {}),
    sources,
  });
  return {
    app,
    appStore,
    deliveryStore,
    engineStore: runtime.store,
    engines,
    signer: runtime.signer,
    approvalSigner,
    runtime,
    close: async () => {
      await app.close();
      await app.idle();
      await runtime.close();
      await appStore.close();
      await deliveryStore.close();
    },
  };
}

/**
 * "Policy marks it sensitive" from the bundle the engines enforce: an operator's bundle adds its
 * own sensitive namespaces, labels and tasks, which must gate as the built-in ones do. With policy
 * off the built-in lists still apply: turning policy off does not turn approvals off.
 */
async function sensitivityOf(setting: PolicySetting): Promise<SensitivityCheck> {
  const path = setting.kind === 'off' ? defaultBundlePath : (setting.path ?? defaultBundlePath);
  return policySensitivity((await readPolicyBundleFile(path)).data);
}
