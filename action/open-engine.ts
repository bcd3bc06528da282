/**
 * The engine mode `run` uses: the one composition root (runtime/openRuntime) from the step's
 * environment, read the same way as `maestro run` reads it (MAESTRO_RUNNERS_CONFIG, a detected
 * Docker socket, MAESTRO_SIGNING_KEY / keyless with `id-token: write`, MAESTRO_POLICY,
 * MAESTRO_SECRET_<NAME>, ...). Two things differ because the Action runs from a bundle in
 * action/dist with no tasks/ or policy/ folder beside it: the task catalog is the one embedded at
 * build time, and the built-in policy bundle is read from the Action's checkout.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TaskCatalog } from '../core/index.ts';
import type { AsyncStore, Engine } from '../engine/index.ts';
import { defaultBundlePath } from '../policy/index.ts';
import type { ProvenanceSigner } from '../provenance/index.ts';
import { openRuntime, runtimeConfigFromEnv } from '../runtime/index.ts';

export interface ActionEngine {
  engine: Engine;
  store: AsyncStore;
  dataDir: string;
  /** Signs the receipts and the disclosure bundles' index; undefined with MAESTRO_PROVENANCE=off. */
  signer: ProvenanceSigner | undefined;
  /** Runner kinds this job has: local, plus the configured or detected ones. */
  runnerKinds: string[];
  close(): Promise<void>;
}

export interface OpenActionEngineOptions {
  cwd: string;
  /** Used when MAESTRO_DATA_DIR is not set (the runner's temp directory). */
  defaultDataDir: string;
  catalog: TaskCatalog;
  env: Record<string, string | undefined>;
}

/**
 * The built-in policy bundle. From source it sits beside policy/; in the bundle (action/dist)
 * `defaultBundlePath` points beside dist/, so the checkout's own policy/default is used instead
 * (`uses: <owner>/maestro/action@<ref>` checks out the whole repository).
 */
function builtinPolicyBundle(): string {
  if (existsSync(defaultBundlePath)) return defaultBundlePath;
  return fileURLToPath(new URL('../../policy/default/bundle.tar.gz', import.meta.url));
}

export async function openActionEngine(options: OpenActionEngineOptions): Promise<ActionEngine> {
  const { env } = options;
  const config = runtimeConfigFromEnv(env, {
    cwd: options.cwd,
    flags: env['MAESTRO_DATA_DIR'] ? {} : { dataDir: options.defaultDataDir },
  });
  const policy =
    config.policy.kind === 'default'
      ? { kind: 'default' as const, path: builtinPolicyBundle() }
      : config.policy;
  // openRuntime logs the runners' notes (a detected socket, a DOCKER_HOST it cannot use).
  const runtime = await openRuntime({ ...config, policy }, { catalog: options.catalog });
  return {
    engine: runtime.engine,
    store: runtime.store,
    dataDir: config.dataDir,
    signer: runtime.signer,
    runnerKinds: runtime.runners.kinds(),
    close: () => runtime.close(),
  };
}
