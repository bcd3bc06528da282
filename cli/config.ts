/**
 * Engine configuration read from the command line and the environment (only surfaces read the
 * environment): the data dir, secrets, and the trace exporter.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { InputError, UsageError } from '../core/index.ts';
import type { CliIo } from './io.ts';

/** `--data-dir`, else MAESTRO_DATA_DIR, else $XDG_DATA_HOME/maestro, else ~/.local/share/maestro. */
export function resolveDataDir(flag: string | undefined, io: CliIo): string {
  const chosen = flag ?? io.env.MAESTRO_DATA_DIR;
  if (chosen !== undefined && chosen !== '') return isAbsolute(chosen) ? chosen : resolve(io.cwd, chosen);
  const xdg = io.env.XDG_DATA_HOME;
  if (xdg) return join(xdg, 'maestro');
  return join(io.env.HOME ?? homedir(), '.local', 'share', 'maestro');
}

/**
 * Parses a secrets file: `NAME=value` lines, `#` comments and blank lines ignored, an optional
 * `export ` prefix, and values optionally in single or double quotes. Errors name the line but
 * never echo a value.
 */
export function parseSecretsFile(text: string, file: string): Record<string, string> {
  const secrets: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const body = line.startsWith('export ') ? line.slice(7).trim() : line;
    const eq = body.indexOf('=');
    const name = eq > 0 ? body.slice(0, eq).trim() : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new InputError('secrets_file_invalid', `${file}:${index + 1}: expected NAME=value`, {
        hint: 'each line is NAME=value; names are letters, digits and _',
      });
    let value = body.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0])
      value = value.slice(1, -1);
    secrets[name] = value;
  });
  return secrets;
}

/**
 * Secrets for tasks: the file (`--secrets`, else <data-dir>/secrets.env when present), then
 * MAESTRO_SECRET_<NAME> variables, which win.
 */
export function loadSecrets(flag: string | undefined, dataDir: string, io: CliIo): Record<string, string> {
  const file = flag === undefined ? join(dataDir, 'secrets.env') : resolve(io.cwd, flag);
  let secrets: Record<string, string> = {};
  if (flag !== undefined && !existsSync(file))
    throw new UsageError(`the secrets file ${file} does not exist`, { hint: 'check the --secrets path' });
  if (existsSync(file)) secrets = parseSecretsFile(readFileSync(file, 'utf8'), file);
  for (const [key, value] of Object.entries(io.env))
    if (key.startsWith('MAESTRO_SECRET_') && key.length > 15 && value !== undefined)
      secrets[key.slice(15)] = value;
  return secrets;
}

export type OtelExporterKind = 'console' | 'otlp' | 'none';

export function otelExporterKind(io: CliIo): OtelExporterKind {
  const value = io.env.MAESTRO_OTEL_EXPORTER ?? 'none';
  if (value === 'console' || value === 'otlp' || value === 'none') return value;
  throw new UsageError(`MAESTRO_OTEL_EXPORTER=${value} is not one of console, otlp, none`);
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
