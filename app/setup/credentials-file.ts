import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { AppConfigError } from '../errors.ts';

/** Where the manifest flow leaves the App's credentials, inside the data directory. */
export const CREDENTIALS_FILE = 'github-app.env';

/** What GitHub returns for a converted manifest, under probot's variable names. */
export interface AppCredentials {
  APP_ID: string;
  PRIVATE_KEY: string;
  WEBHOOK_SECRET: string;
  GITHUB_CLIENT_ID: string;
  GITHUB_CLIENT_SECRET: string;
}

/**
 * Writes the credentials as `NAME=value` lines (probot's .env format: newlines escaped as `\n`),
 * mode 0600, through a temporary file renamed into place, and never over an existing file: a
 * second registration must not silently replace the App the data dir already belongs to.
 */
export function writeCredentials(dataDir: string, credentials: AppCredentials): string {
  const path = join(dataDir, CREDENTIALS_FILE);
  if (exists(path)) throw new AppConfigError('APP_ID', `${path} already exists: this data dir has an App`);
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    const lines = Object.entries(credentials).map(
      ([name, value]) => `${name}=${value.replaceAll('\n', '\\n')}`,
    );
    writeSync(fd, `${lines.join('\n')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temporary, path);
  } catch (error) {
    unlinkSync(temporary);
    throw error;
  }
  return path;
}

/**
 * The variables of `<data-dir>/github-app.env`, or none when there is no such file. A file that
 * others can read is refused (fail closed, like the signing keys): it holds the App's private key.
 */
export function readCredentials(dataDir: string): Record<string, string> {
  const path = join(dataDir, CREDENTIALS_FILE);
  if (!exists(path)) return {};
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new AppConfigError(
      'PRIVATE_KEY',
      `${path} is readable by others (mode ${mode.toString(8)}): it holds the App's private key`,
      { hint: `chmod 600 ${path}` },
    );
  const values: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) values[match[1] as string] = (match[2] as string).replaceAll('\\n', '\n');
  }
  return values;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
