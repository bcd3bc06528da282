/**
 * Command-line values the commands parse themselves. Everything the engine is built from
 * (data dir, secrets, runners, policy, signing, tracing) is read by runtime/'s
 * runtimeConfigFromEnv from the command's flags and environment.
 */
import { UsageError } from '../core/index.ts';
import { resolveDataDir as resolveRuntimeDataDir } from '../runtime/index.ts';
import type { CliIo } from './io.ts';

/** `--data-dir`, else MAESTRO_DATA_DIR, else $XDG_DATA_HOME/maestro, else ~/.local/share/maestro. */
export function resolveDataDir(flag: string | undefined, io: CliIo): string {
  return resolveRuntimeDataDir(flag, io.env, io.cwd);
}

export function parseConcurrency(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--concurrency must be a positive integer, got ${value}`);
  return n;
}

/** `--param k=v` values as strings; the engine converts them to the declared types. */
export function parseParams(pairs: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param expects key=value, got ${JSON.stringify(pair)}`);
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return params;
}
