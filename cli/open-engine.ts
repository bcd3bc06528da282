/** Builds the engine the CLI commands use: the embedded store, the local runner, the compiler's expressions. */
import pino from 'pino';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  RunnerRegistry,
  ensurePrivateDatabaseFile,
  systemClock,
  UsageError,
  type Attestor,
  type PolicyGate,
} from '../core/index.ts';
import { createOpaPolicyGate, defaultBundlePath, openDecisionLog } from '../policy/index.ts';
import { createAttestor, resolveSigner, signingConfigFromEnv } from '../provenance/index.ts';
import { loadBuiltinCatalog } from '../tasks/index.ts';
import { createSourceFetcher } from '../workspace/index.ts';
import { createEngine, openStore, type Engine, type Store } from '../engine/index.ts';
import { loadSecrets, resolveDataDir } from './config.ts';
import type { CliIo } from './io.ts';
import { createCliLocalRunner } from './local-runner.ts';
import { createConfiguredRunners, readLocalRunnerConfig, runnersConfigPath } from './runners-config.ts';
import { createTracing, type CliTracing } from './tracing.ts';

export interface DataDirOptions {
  dataDir?: string;
}

export function openCliStore(options: DataDirOptions, io: CliIo): Store {
  return openStore({ dataDir: resolveDataDir(options.dataDir, io), durability: durabilityFrom(io) });
}

/** MAESTRO_DURABILITY=normal (default: survives kill -9) or full (also power loss; fsync per commit). */
function durabilityFrom(io: CliIo): 'normal' | 'full' {
  const value = io.env.MAESTRO_DURABILITY ?? 'normal';
  if (value === 'normal' || value === 'full') return value;
  throw new UsageError(`MAESTRO_DURABILITY=${value} is not one of normal, full`);
}

export interface CliEngine {
  engine: Engine;
  dataDir: string;
  store: Store;
  tracing: CliTracing;
  /** Runner kinds registered: local, plus those the runners config adds. */
  runnerKinds: string[];
  close(): Promise<void>;
}

export async function openCliEngine(
  options: DataDirOptions & { secrets?: string; concurrency?: number; policy?: string; runners?: string },
  io: CliIo,
): Promise<CliEngine> {
  const dataDir = resolveDataDir(options.dataDir, io);
  // Container/Kubernetes runners from --runners or MAESTRO_RUNNERS_CONFIG; read first so a bad
  // config fails before anything is opened.
  const runnersFile = runnersConfigPath(options.runners, io);
  const extraRunners = createConfiguredRunners(runnersFile);
  const catalog = await loadBuiltinCatalog();
  const secrets = loadSecrets(options.secrets, dataDir, io);
  const durability = durabilityFrom(io);
  const store = openStore({ dataDir, durability });
  const policy = policyGate(options.policy ?? io.env.MAESTRO_POLICY ?? 'default', dataDir, io, durability);
  const attestor = await attestorFor(io.env.MAESTRO_PROVENANCE ?? 'on', dataDir, io);
  const runner = createCliLocalRunner(
    {
      dataDir,
      ...(options.secrets !== undefined ? { secretsFile: options.secrets } : {}),
      config: readLocalRunnerConfig(runnersFile),
    },
    io,
  );
  const runners = new RunnerRegistry().register(runner);
  for (const extra of extraRunners) runners.register(extra);
  const tracing = createTracing(io);
  const level = io.env.MAESTRO_LOG_LEVEL ?? 'silent';
  const engine = createEngine({
    store,
    dataDir,
    runners,
    catalog,
    secrets,
    ...(policy ? { policy: policy.gate } : {}),
    ...(attestor ? { attestor } : {}),
    tracer: tracing.tracer,
    // A CLI run's source is a local repository or a public URL: no token to give.
    source: createSourceFetcher({ dataDir, baseEnv: { PATH: io.env.PATH, HOME: io.env.HOME } }),
    logger: pino({ level }, pino.destination(2)),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  return {
    engine,
    dataDir,
    store,
    tracing,
    runnerKinds: runners.kinds(),
    async close() {
      await runner.close();
      for (const extra of extraRunners) await extra.close?.();
      await tracing.shutdown();
      store.close();
      if (policy?.db.isOpen) policy.db.close();
    },
  };
}

/**
 * The policy gate: `default` (the built-in bundle), `off`, or a bundle.tar.gz path; from
 * --policy or MAESTRO_POLICY. Decisions are logged in <data-dir>/decisions.db.
 */
function policyGate(
  choice: string,
  dataDir: string,
  io: CliIo,
  durability: 'normal' | 'full',
): { gate: PolicyGate; db: DatabaseSync } | undefined {
  if (choice === 'off') return undefined;
  const bundle = choice === 'default' ? defaultBundlePath : resolve(io.cwd, choice);
  // The decision log gets the store's durability: WAL, and an fsync per commit only with `full`.
  ensurePrivateDatabaseFile(join(dataDir, 'decisions.db'));
  const db = new DatabaseSync(join(dataDir, 'decisions.db'), { timeout: 5000 });
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  // The built-in bundle is our own trusted Rego (bounded: no recursion, iterates only over the
  // input's lists), so it is evaluated inline, saving a worker round trip per attempt; a
  // repository bundle is user-written and keeps the worker's hard deadline (docs/policy.md "Deadline").
  const isolation = choice === 'default' ? 'inline' : 'worker';
  return {
    gate: createOpaPolicyGate({ bundle, log: openDecisionLog(db), clock: systemClock, isolation }),
    db,
  };
}

/** Receipts for every attempt and run, signed as provenance/ resolves (keyless, key, or dev key). */
async function attestorFor(choice: string, dataDir: string, io: CliIo): Promise<Attestor | undefined> {
  if (choice === 'off') return undefined;
  if (choice !== 'on') throw new UsageError(`MAESTRO_PROVENANCE=${choice} is not one of on, off`);
  return createAttestor({ signer: await resolveSigner(signingConfigFromEnv(io.env, dataDir)) });
}
