/** Builds the engine the CLI commands use: the embedded store, the local runner, the compiler's expressions. */
import pino from 'pino';
import { RunnerRegistry } from '../core/index.ts';
import { loadBuiltinCatalog } from '../tasks/index.ts';
import { evaluateCondition, renderTemplate } from '../compiler/index.ts';
import { createEngine, openStore, type Engine, type ExpressionScope, type Store } from '../engine/index.ts';
import { baseEnvFrom, createLocalRunner } from '../runners/local/index.ts';
import { loadSecrets, resolveDataDir } from './config.ts';
import type { CliIo } from './io.ts';
import { createTracing, type CliTracing } from './tracing.ts';

export interface DataDirOptions {
  dataDir?: string;
}

export function openCliStore(options: DataDirOptions, io: CliIo): Store {
  return openStore({ dataDir: resolveDataDir(options.dataDir, io) });
}

export interface CliEngine {
  engine: Engine;
  store: Store;
  tracing: CliTracing;
  close(): Promise<void>;
}

export async function openCliEngine(
  options: DataDirOptions & { secrets?: string; concurrency?: number },
  io: CliIo,
): Promise<CliEngine> {
  const dataDir = resolveDataDir(options.dataDir, io);
  const catalog = await loadBuiltinCatalog();
  const secrets = loadSecrets(options.secrets, dataDir, io);
  const store = openStore({ dataDir });
  const runner = createLocalRunner({ baseEnv: baseEnvFrom(io.env) });
  const tracing = createTracing(io);
  const level = io.env.MAESTRO_LOG_LEVEL ?? 'silent';
  const engine = createEngine({
    store,
    dataDir,
    runners: new RunnerRegistry().register(runner),
    catalog,
    expressions: {
      renderTemplate: (value, scope) =>
        renderTemplate(value, scope as unknown as Parameters<typeof renderTemplate>[1]),
      evaluateCondition: (cel, scope: ExpressionScope) =>
        evaluateCondition(cel, scope as unknown as Parameters<typeof evaluateCondition>[1]),
    },
    secrets,
    tracer: tracing.tracer,
    logger: pino({ level }, pino.destination(2)),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  return {
    engine,
    store,
    tracing,
    async close() {
      await runner.close();
      await tracing.shutdown();
      store.close();
    },
  };
}
