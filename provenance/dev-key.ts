import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalKeySigner } from './local-key.ts';
import type { ProvenanceSigner } from './signer.ts';

export const DEV_KEY_DIR = 'keys';
export const DEV_PRIVATE_KEY_FILE = 'dev-signing-key.pem';
export const DEV_PUBLIC_KEY_FILE = 'dev-signing-key.pub.pem';

/**
 * The development key: created once in `<dataDir>/keys/` (directory 0700, private key 0600) when
 * the operator configured no key and no identity token exists. It lives in the data directory,
 * never under an attempt's working or artifacts directory, and runners give tasks a minimal env,
 * so no task can read it. Receipts it signs are marked, and every output says so.
 */
export async function loadOrCreateDevKey(dataDir: string): Promise<ProvenanceSigner> {
  const dir = join(dataDir, DEV_KEY_DIR);
  const privatePath = join(dir, DEV_PRIVATE_KEY_FILE);
  let pem: string;
  try {
    pem = await readFile(privatePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      // `wx`: if another process created the key meanwhile, keep theirs.
      await writeFile(privatePath, pem, { mode: 0o600, flag: 'wx' });
      await writeFile(join(dir, DEV_PUBLIC_KEY_FILE), publicKey.export({ type: 'spki', format: 'pem' }), {
        mode: 0o644,
      });
    } catch (raced) {
      if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
      pem = await readFile(privatePath, 'utf8');
    }
    await chmod(privatePath, 0o600);
  }
  return createLocalKeySigner({ privateKeyPem: pem, source: privatePath, development: true });
}
