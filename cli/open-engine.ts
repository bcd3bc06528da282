/**
 * The engine the CLI commands use: the runtime (runtime/) built from the command's flags and its
 * environment, the same composition root the App uses.
 */
import type { AsyncStore, Engine } from '../engine/index.ts';
import { openAsyncStore } from '../engine/index.ts';
import {
  durabilityFrom,
  openRuntime,
  runtimeConfigFromEnv,
  type RuntimeFlags,
  type Tracing,
} from '../runtime/index.ts';
import { catalogCredentialFor } from '../workspace/index.ts';
import { resolveDataDir } from './config.ts';
import type { CliIo } from './io.ts';
import { noteSandboxInJobSummary } from './local-runner.ts';

export interface DataDirOptions {
  dataDir?: string;
}

/** Only the store (listing, logs): no runners, policy or signer are opened. */
export function openCliStore(options: DataDirOptions, io: CliIo): Promise<AsyncStore> {
  return openAsyncStore({
    dataDir: resolveDataDir(options.dataDir, io),
    databaseUrl: io.env.MAESTRO_DATABASE_URL,
    durability: durabilityFrom(io.env),
  });
}

export interface CliEngine {
  engine: Engine;
  dataDir: string;
  store: AsyncStore;
  tracing: Tracing;
  /** Runner kinds registered: local, plus the configured or detected ones. */
  runnerKinds: string[];
  close(): Promise<void>;
}

export async function openCliEngine(options: DataDirOptions & RuntimeFlags, io: CliIo): Promise<CliEngine> {
  const config = runtimeConfigFromEnv(io.env, { cwd: io.cwd, flags: options });
  // Images a task builds get their SBOM stored where `maestro sbom query` reads (the API store).
  // Loaded on first use: a run that builds no image never loads the API's modules.
  const sbomStore = async () =>
    (await import('../api/index.ts')).openApiStore({
      dataDir: config.dataDir,
      databaseUrl: config.databaseUrl,
    });
  // A locked catalog task from a private catalog is fetched with the same credentials as
  // `maestro tasks lock` (the environment's per-host token, else the git credential helper).
  const baseEnv = { PATH: io.env.PATH, HOME: io.env.HOME };
  const sourceToken = (repo: string) => catalogCredentialFor(repo, { env: io.env, baseEnv });
  const runtime = await openRuntime(config, { sbomStore, sourceToken });
  noteSandboxInJobSummary(runtime, io);
  return {
    engine: runtime.engine,
    dataDir: runtime.config.dataDir,
    store: runtime.store,
    tracing: runtime.tracing,
    runnerKinds: runtime.runners.kinds(),
    close: () => runtime.close(),
  };
}
