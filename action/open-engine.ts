/**
 * The engine mode `run` uses, wired from the same parts as `maestro run` (cli/open-engine.ts):
 * the embedded store, the built-in policy bundle, the receipts signer provenance/ resolves
 * (keyless with `id-token: write`, MAESTRO_SIGNING_KEY, else the development key), the local
 * runner (mode `job-vm` on GitHub: the job VM is the sandbox) and the source fetcher.
 *
 * NOTE: this is a copy of the CLI's wiring, because action/ may not import cli/. It goes away
 * when runtime/openRuntime() (issue 11, "One composition root") lands: then this file becomes a
 * call to openRuntime(runtimeConfigFromEnv(...)) and the Action wires nothing itself.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { trace } from '@opentelemetry/api';
import pino from 'pino';
import { RunnerRegistry, ensurePrivateDatabaseFile, systemClock, type TaskCatalog } from '../core/index.ts';
import { createEngine, openStore, type Engine, type Store } from '../engine/index.ts';
import { createOpaPolicyGate, defaultBundlePath, openDecisionLog } from '../policy/index.ts';
import {
  createAttestor,
  resolveSigner,
  signingConfigFromEnv,
  type ProvenanceSigner,
} from '../provenance/index.ts';
import { baseEnvFrom, createLocalRunner } from '../runners/index.ts';
import { createSourceFetcher } from '../workspace/index.ts';

export interface ActionEngine {
  engine: Engine;
  store: Store;
  dataDir: string;
  /** Signs the receipts (and the disclosure bundles' index). */
  signer: ProvenanceSigner;
  close(): Promise<void>;
}

export interface OpenActionEngineOptions {
  dataDir: string;
  catalog: TaskCatalog;
  env: Record<string, string | undefined>;
  secrets: Record<string, string>;
}

/**
 * The built-in policy bundle. From source it sits beside policy/; in the bundle (action/dist)
 * `defaultBundlePath` points beside dist/, so the checkout's own policy/default is used instead
 * (`uses: owner/maestro/action@v1` checks out the whole repository).
 */
function policyBundlePath(): string {
  if (existsSync(defaultBundlePath)) return defaultBundlePath;
  return fileURLToPath(new URL('../../policy/default/bundle.tar.gz', import.meta.url));
}

export async function openActionEngine(options: OpenActionEngineOptions): Promise<ActionEngine> {
  const { dataDir, env } = options;
  const store = openStore({ dataDir, durability: 'normal' });
  ensurePrivateDatabaseFile(join(dataDir, 'decisions.db'));
  const db = new DatabaseSync(join(dataDir, 'decisions.db'), { timeout: 5000 });
  db.exec('PRAGMA journal_mode = WAL');
  // Our own bounded Rego, evaluated inline (as the CLI does for the built-in bundle).
  const gate = createOpaPolicyGate({
    bundle: policyBundlePath(),
    log: openDecisionLog(db),
    clock: systemClock,
    isolation: 'inline',
  });
  const signer = await resolveSigner(signingConfigFromEnv(env, dataDir));
  const keys = [env['MAESTRO_SIGNING_KEY']].filter((k): k is string => Boolean(k));
  const runner = createLocalRunner({
    baseEnv: baseEnvFrom(env),
    // Inside GitHub Actions the job VM is the sandbox (bubblewrap when it works, else none, said
    // in the task log, the receipt and the job summary); elsewhere bubblewrap or refused.
    sandbox: env['GITHUB_ACTIONS'] === 'true' ? 'job-vm' : 'bwrap',
    // The bundle has no launcher source beside it to compile: child_process.
    spawn: 'node',
    hiddenPaths: [dataDir, ...keys, ...keys.map((k) => dirname(k))],
  });
  const runners = new RunnerRegistry().register(runner);
  const engine = createEngine({
    store,
    dataDir,
    runners,
    catalog: options.catalog,
    secrets: options.secrets,
    policy: gate,
    attestor: createAttestor({ signer }),
    tracer: trace.getTracer('summit-maestro'),
    source: createSourceFetcher({ dataDir, baseEnv: { PATH: env['PATH'], HOME: env['HOME'] } }),
    logger: pino({ level: env['MAESTRO_LOG_LEVEL'] ?? 'silent' }, pino.destination(2)),
  });
  return {
    engine,
    store,
    dataDir,
    signer,
    async close() {
      await runner.close();
      store.close();
      await gate.close();
      if (db.isOpen) db.close();
    },
  };
}
