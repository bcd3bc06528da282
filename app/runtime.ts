import { join } from 'node:path';
import type { Logger } from 'pino';
import { RunnerRegistry, systemClock, type Clock, type Runner } from '../core/index.ts';
import { compileManifest } from '../compiler/index.ts';
import { createEngine, openStore, type Engine, type Store } from '../engine/index.ts';
import { readDefaultBundle } from '../policy/index.ts';
import { createAttestor, loadOrCreateDevKey, type ProvenanceSigner } from '../provenance/index.ts';
import { createLocalRunner } from '../runners/index.ts';
import { loadBuiltinCatalog } from '../tasks/index.ts';
import { openAppStore, type AppStore } from './app-store.ts';
import type { SensitivityCheck } from './gate/approval-gate.ts';
import type { CompileFn } from './source/compile-snapshot.ts';
import { openDeliveryStore, type DeliveryStore, type IngressLimits } from './ingress/index.ts';
import { createMaestroApp, type MaestroApp } from './maestro-app.ts';
import { policySensitivity } from './gate/policy-sensitivity.ts';

export interface AppRuntimeOptions {
  appId: string;
  privateKey: string;
  webhookSecret: string;
  webhookPath: string;
  baseUrl: string;
  dataDir: string;
  /** Secrets trusted runs may use; fork runs get none. */
  secrets: Record<string, string>;
  /** PATH, HOME, ... for tasks (see runners' baseEnvFrom). */
  baseEnv: Record<string, string>;
  /** Runner kind fork runs may use (`local` only in tests; `none` refuses to run fork code). */
  forkRunner: string;
  runUpdateIntervalMs: number;
  /** Ingress bounds (tests shorten the body deadline; the CLI sets the retention). */
  ingressLimits?: Partial<IngressLimits>;
  /** Signs receipts (default: the development receipt key in the data dir). */
  signer?: ProvenanceSigner;
  /** Signs approval attestations: a different key (default: the development approval key). */
  approvalSigner?: ProvenanceSigner;
  /** Default: the sensitivity lists of the default policy bundle's configuration. */
  sensitive?: SensitivityCheck;
  clock?: Clock;
  logger?: Logger;
  backoffMs?: number;
  /** See MaestroAppOptions (MAESTRO_DEFAULT_APPROVALS, MAESTRO_APPROVAL_TTL_HOURS). */
  defaultApprovals?: number;
  approvalTtlMs?: number;
  /** Engine concurrency (default: CPU count). */
  concurrency?: number;
}

export interface AppRuntime {
  app: MaestroApp;
  appStore: AppStore;
  deliveryStore: DeliveryStore;
  engineStore: Store;
  engines: { trusted: Engine; untrusted: Engine };
  signer: ProvenanceSigner;
  approvalSigner: ProvenanceSigner;
  close(): Promise<void>;
}

/**
 * Wires the real components behind the app: the compiler with the built-in catalog, the
 * embedded SQLite stores, the engine with the local runner (trusted) and a second engine without
 * secrets for fork code, and the provenance signer (the development key in the data dir unless
 * one is given) for receipts and approval attestations.
 */
export async function openAppRuntime(options: AppRuntimeOptions): Promise<AppRuntime> {
  const catalog = await loadBuiltinCatalog();
  const compile: CompileFn = (source, file) => compileManifest(source, { file, catalog });
  const signer = options.signer ?? (await loadOrCreateDevKey(options.dataDir, 'receipts'));
  // Approval attestations are signed with their own key: a leaked receipt key cannot forge one.
  const approvalSigner = options.approvalSigner ?? (await loadOrCreateDevKey(options.dataDir, 'approvals'));
  const attestor = createAttestor({ signer });
  const engineStore = openStore({ dataDir: options.dataDir });
  const appStore = openAppStore(options.dataDir);
  const deliveryStore = openDeliveryStore(options.dataDir);
  // Sandboxed (runners/local: bwrap); the data directory, with the app's and the engine's
  // databases and the keys, is never visible to a task.
  const sandboxed = { baseEnv: options.baseEnv, hiddenPaths: [options.dataDir] };
  const trustedRunner = createLocalRunner(sandboxed);
  const untrustedRunners: Runner[] = options.forkRunner === 'local' ? [createLocalRunner(sandboxed)] : [];
  const common = {
    store: engineStore,
    dataDir: options.dataDir,
    catalog,
    attestor,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  };
  const trusted = createEngine({
    ...common,
    runners: new RunnerRegistry().register(trustedRunner),
    secrets: options.secrets,
  });
  const untrustedRegistry = new RunnerRegistry();
  for (const runner of untrustedRunners) untrustedRegistry.register(runner);
  const untrusted = createEngine({ ...common, runners: untrustedRegistry, secrets: {} });
  const engines = { trusted, untrusted };
  const app = await createMaestroApp({
    appId: options.appId,
    privateKey: options.privateKey,
    webhookSecret: options.webhookSecret,
    webhookPath: options.webhookPath,
    baseUrl: options.baseUrl,
    store: appStore,
    deliveries: deliveryStore,
    spoolDir: join(options.dataDir, 'ingress-spool'),
    ...(options.ingressLimits ? { ingressLimits: options.ingressLimits } : {}),
    compile,
    signer: approvalSigner,
    engines,
    sensitive: options.sensitive ?? policySensitivity((await readDefaultBundle()).data),
    clock: options.clock ?? systemClock,
    runUpdateIntervalMs: options.runUpdateIntervalMs,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}),
    ...(options.defaultApprovals !== undefined ? { defaultApprovals: options.defaultApprovals } : {}),
    ...(options.approvalTtlMs !== undefined ? { approvalTtlMs: options.approvalTtlMs } : {}),
  });
  return {
    app,
    appStore,
    deliveryStore,
    engineStore,
    engines,
    signer,
    approvalSigner,
    close: async () => {
      await app.close();
      await app.idle();
      await trustedRunner.close?.();
      for (const runner of untrustedRunners) await runner.close?.();
      engineStore.close();
      appStore.close();
      deliveryStore.close();
    },
  };
}
