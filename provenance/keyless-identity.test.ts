import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKeylessIdentity } from './keyless-identity.ts';
import { signingConfigFromEnv } from './resolve-signer.ts';
import { bundledTrustedRoot } from './trust-root.ts';

const SAN = 'https://github.com/acme/ops/.github/workflows/maestro.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';

describe('the keyless identity a server publishes', () => {
  it('reads MAESTRO_KEYLESS_IDENTITY, MAESTRO_KEYLESS_ISSUER and MAESTRO_TRUSTED_ROOT only when keyless', () => {
    const env = {
      MAESTRO_KEYLESS_IDENTITY: SAN,
      MAESTRO_KEYLESS_ISSUER: ISSUER,
      MAESTRO_TRUSTED_ROOT: '/etc/root.json',
    };
    expect(signingConfigFromEnv({ ...env, MAESTRO_SIGNING: 'keyless' }, '/d').keylessIdentity).toEqual({
      certificateIdentity: SAN,
      certificateOidcIssuer: ISSUER,
      trustedRootPath: '/etc/root.json',
    });
    expect(signingConfigFromEnv(env, '/d').keylessIdentity).toBeUndefined();
  });

  it("publishes public good's bundled root without MAESTRO_TRUSTED_ROOT, and the operator's file with it", async () => {
    const bundled = await loadKeylessIdentity({ certificateIdentity: SAN, certificateOidcIssuer: ISSUER });
    expect(bundled).toEqual({
      certificateIdentity: SAN,
      certificateOidcIssuer: ISSUER,
      trustedRoot: bundledTrustedRoot(),
      trustedRootSource: 'bundled',
    });
    const path = join(mkdtempSync(join(tmpdir(), 'maestro-root-')), 'trusted_root.json');
    writeFileSync(path, JSON.stringify(bundledTrustedRoot()));
    const file = await loadKeylessIdentity({
      certificateIdentity: SAN,
      certificateOidcIssuer: ISSUER,
      trustedRootPath: path,
    });
    expect(file?.trustedRootSource).toBe('file');
    expect(await loadKeylessIdentity({})).toBeUndefined();
  });

  it('refuses an identity without its issuer, and a trust root that is not one, at start', async () => {
    await expect(loadKeylessIdentity({ certificateIdentity: SAN })).rejects.toMatchObject({
      code: 'signing_config',
      message: expect.stringContaining('go together'),
    });
    const path = join(mkdtempSync(join(tmpdir(), 'maestro-root-')), 'root.json');
    writeFileSync(path, JSON.stringify({ mediaType: 'application/json', tlogs: [] }));
    await expect(
      loadKeylessIdentity({ certificateIdentity: SAN, certificateOidcIssuer: ISSUER, trustedRootPath: path }),
    ).rejects.toMatchObject({
      code: 'signing_config',
      message: expect.stringContaining('not a readable Sigstore trusted_root.json'),
    });
  });
});
