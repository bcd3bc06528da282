import { generateKeyPairSync } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir } from '../core/index.ts';
import { createLocalKeySigner } from './local-key.ts';
import type { ProvenanceSigner } from './signer.ts';

export const DEV_KEY_DIR = 'keys';
export const DEV_PRIVATE_KEY_FILE = 'dev-signing-key.pem';
export const DEV_PUBLIC_KEY_FILE = 'dev-signing-key.pub.pem';
/** The approval-attestation key is a different key, in its own file: see `DevKeyPurpose`. */
export const DEV_APPROVAL_PRIVATE_KEY_FILE = 'dev-approval-key.pem';
export const DEV_APPROVAL_PUBLIC_KEY_FILE = 'dev-approval-key.pub.pem';

/**
 * `receipts` signs attempt and run receipts (MAESTRO_SIGNING_KEY in production); `approvals`
 * signs the App's approval attestations (MAESTRO_APPROVAL_SIGNING_KEY). Two keys, so that a
 * receipt key that leaks (it signs on every attempt, on every worker) cannot forge an approval.
 */
export type DevKeyPurpose = 'receipts' | 'approvals';

const FILES: Record<DevKeyPurpose, { privateFile: string; publicFile: string }> = {
  receipts: { privateFile: DEV_PRIVATE_KEY_FILE, publicFile: DEV_PUBLIC_KEY_FILE },
  approvals: { privateFile: DEV_APPROVAL_PRIVATE_KEY_FILE, publicFile: DEV_APPROVAL_PUBLIC_KEY_FILE },
};

/**
 * A development key: created on first use in `<dataDir>/keys/` (directory 0700, private key 0600)
 * when the operator configured no key and no identity token exists, one file per purpose. It lives
 * in the data directory, which no task's sandbox shows (runners/local/README.md, "Sandbox"), never
 * under an attempt's working or artifacts directory. Receipts it signs are marked, and every
 * output says so.
 */
export async function loadOrCreateDevKey(
  dataDir: string,
  purpose: DevKeyPurpose = 'receipts',
): Promise<ProvenanceSigner> {
  const dir = join(dataDir, DEV_KEY_DIR);
  const { privateFile, publicFile } = FILES[purpose];
  const privatePath = join(dir, privateFile);
  // 0700, also for a directory made by an older version or under a loose umask (core's one rule
  // for the data dir and what it holds).
  ensurePrivateDir(dir);
  let pem: string;
  try {
    pem = await readFile(privatePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      // `wx`: if another process created the key meanwhile, keep theirs.
      await writeFile(privatePath, pem, { mode: 0o600, flag: 'wx' });
      await writeFile(join(dir, publicFile), publicKey.export({ type: 'spki', format: 'pem' }), {
        mode: 0o644,
      });
    } catch (raced) {
      if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
      pem = await readFile(privatePath, 'utf8');
    }
  }
  // Also for a key made by an older version, or with a loose umask.
  await chmod(privatePath, 0o600);
  return createLocalKeySigner({ privateKeyPem: pem, source: privatePath, development: true });
}
