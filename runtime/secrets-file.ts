/**
 * Secrets for trusted runs: a NAME=value file and MAESTRO_SECRET_<NAME> variables. Read by the
 * surface through runtimeConfigFromEnv, never by the engine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError, UsageError } from '../core/index.ts';

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
 * The file (`--secrets`, else <data-dir>/secrets.env when present), then MAESTRO_SECRET_<NAME>
 * variables, which win.
 */
export function loadSecrets(
  flag: string | undefined,
  dataDir: string,
  env: Record<string, string | undefined>,
  cwd: string,
): Record<string, string> {
  const file = flag === undefined ? join(dataDir, 'secrets.env') : resolve(cwd, flag);
  let secrets: Record<string, string> = {};
  if (flag !== undefined && !existsSync(file))
    throw new UsageError(`the secrets file ${file} does not exist`, { hint: 'check the --secrets path' });
  if (existsSync(file)) secrets = parseSecretsFile(readFileSync(file, 'utf8'), file);
  for (const [key, value] of Object.entries(env))
    if (key.startsWith('MAESTRO_SECRET_') && key.length > 15 && value !== undefined)
      secrets[key.slice(15)] = value;
  return secrets;
}
