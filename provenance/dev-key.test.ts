import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateDevKey } from './dev-key.ts';
import { resolveApprovalSigner, resolveSigner, signingConfigFromEnv } from './resolve-signer.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('signing keys: receipts and approvals apart, owner-only', () => {
  it('creates each development key on first use in its own file, 0600 in a 0700 directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'maestro-keys-'));
    const receipts = await loadOrCreateDevKey(dataDir, 'receipts');
    const approvals = await loadOrCreateDevKey(dataDir, 'approvals');
    expect(receipts.publicKeyPem).not.toBe(approvals.publicKeyPem);
    expect(mode(join(dataDir, 'keys'))).toBe(0o700);
    expect(mode(join(dataDir, 'keys', 'dev-signing-key.pem'))).toBe(0o600);
    expect(mode(join(dataDir, 'keys', 'dev-approval-key.pem'))).toBe(0o600);
    // Stable: the next start loads the same keys.
    expect((await loadOrCreateDevKey(dataDir, 'approvals')).publicKeyPem).toBe(approvals.publicKeyPem);
  });

  it('reads MAESTRO_APPROVAL_SIGNING_KEY beside MAESTRO_SIGNING_KEY, each its own key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-keys-'));
    const pem = (name: string) => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const file = join(dir, name);
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      return file;
    };
    const env = {
      MAESTRO_SIGNING_KEY: pem('receipts.pem'),
      MAESTRO_APPROVAL_SIGNING_KEY: pem('approvals.pem'),
    };
    const config = signingConfigFromEnv(env, dir);
    const receipts = await resolveSigner(config);
    const approvals = await resolveApprovalSigner(config);
    expect(receipts.publicKeyPem).not.toBe(approvals.publicKeyPem);
    expect(receipts.warning).toBeUndefined();
    expect(approvals.warning).toBeUndefined();
  });

  it('refuses an operator key readable by others, saying how to fix it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-keys-'));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = join(dir, 'loose.pem');
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o644 });
    const config = signingConfigFromEnv({ MAESTRO_APPROVAL_SIGNING_KEY: file }, dir);
    await expect(resolveApprovalSigner(config)).rejects.toMatchObject({
      message: expect.stringContaining('readable by others (mode 0644)'),
      hint: expect.stringContaining(`chmod 600 ${file}`),
    });
  });
});
