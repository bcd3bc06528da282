/**
 * The cache key must change when a secret a task receives changes (a rotated token must not
 * reuse a result computed with the old one), yet the key is stored and shown (`runs show`), so it
 * must reveal nothing about the values. It covers an HMAC-SHA256 of the task's secrets under a
 * per-data-dir key: without that key a digest cannot be checked against guesses (a plain hash of
 * a short token could be brute-forced). The key lives in `<data-dir>/keys/cache-hmac.key`
 * (directory 0700, file 0600; the data dir is outside every task's sandbox), created on first use.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SystemError, canonicalJson, ensurePrivateDir } from '../core/index.ts';

export const CACHE_KEY_FILE = join('keys', 'cache-hmac.key');
const KEY_BYTES = 32;

/** Reads the data dir's cache HMAC key, creating it (32 random bytes, 0600) on first use. */
export function loadOrCreateCacheSecret(dataDir: string): Buffer {
  ensurePrivateDir(join(dataDir, 'keys'));
  const file = join(dataDir, CACHE_KEY_FILE);
  try {
    // O_EXCL: when another process created it meanwhile, keep theirs (read below).
    const fd = openSync(
      file,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      writeSync(fd, randomBytes(KEY_BYTES).toString('hex'));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  chmodSync(file, 0o600);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  if (key.length < KEY_BYTES)
    throw new SystemError('cache_key_damaged', `the cache key ${file} is damaged`, {
      hint: `delete ${file}; a new key is made on the next run (earlier cache entries stop matching)`,
    });
  return key;
}

/** `hmac-sha256:<hex>` over the task's secrets by name; null when it receives none. */
export function keyedSecretsDigest(key: Buffer, secrets: Record<string, string>): string | null {
  if (Object.keys(secrets).length === 0) return null;
  return `hmac-sha256:${createHmac('sha256', key).update(canonicalJson(secrets)).digest('hex')}`;
}
