/**
 * Keyless image signatures, offline (docs/supply-chain.md, "Keyless, tested offline"): an image
 * signed by Maestro's real keyless signer through a Sigstore of the test's own
 * (helpers/attacker-sigstore.ts: @sigstore/mock's Fulcio-like CA issuing a short-lived certificate
 * for a GitHub Actions workflow identity, its CT log and a Rekor log, on 127.0.0.1), and the
 * trusted_root.json that trusts exactly those services. Checked:
 * `maestro image verify --certificate-identity … --certificate-oidc-issuer … --trusted-root …`
 * (and its refusals: another identity, another issuer, the public-good root), cosign verifying the
 * same signature by identity, and the image policy's identity form at runner start.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryClient, parseImageReference, signImage } from '../provenance/index.ts';
import { runtimeConfigFromEnv } from '../runtime/index.ts';
import { openAsyncStore } from '../engine/index.ts';
import { openImageGate } from '../runtime/open-image-gate.ts';
import { runCaptured } from './cli-helpers.ts';
import { startAttackerSigstore, type AttackerSigstore } from './helpers/attacker-sigstore.ts';
import { startOciRegistry, type OciRegistry } from './setup/oci-registry.ts';

const SAN = 'https://github.com/acme/images/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const cosignPath = [join(homedir(), '.cache', 'maestro', 'bin', 'cosign')].find((p) => existsSync(p));

let dir: string;
let registry: OciRegistry;
let sigstore: AttackerSigstore;
let image: { reference: string; digest: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-image-keyless-'));
  [registry, sigstore] = await Promise.all([
    startOciRegistry(),
    startAttackerSigstore({ san: SAN, issuer: ISSUER }),
  ]);
  image = registry.pushImage('keyless/app', 'v1', 'keyless');
  await signImage(createRegistryClient(), parseImageReference(image.reference), sigstore.signer);
  writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
  mkdirSync(join(dir, 'data'), { mode: 0o700 });
}, 180_000);

afterAll(async () => {
  await sigstore?.close();
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function verify(identity: string, issuer: string, root?: string) {
  const r = await runCaptured(
    [
      'image',
      'verify',
      image.reference,
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      issuer,
      ...(root ? ['--trusted-root', root] : []),
      '--format',
      'json',
    ],
    dir,
    { PATH: process.env.PATH ?? '', HOME: dir },
  );
  return { code: r.code, ...(JSON.parse(r.stdout) as { ok: boolean; reason?: string; signer?: unknown }) };
}

describe('keyless image signatures, verified by identity without the internet', () => {
  it('maestro image verify accepts the workflow identity under the root that issued it', async () => {
    const ok = await verify(SAN, ISSUER, 'trusted_root.json');
    expect(ok).toMatchObject({ code: 0, ok: true, signer: { subjectAlternativeName: SAN, issuer: ISSUER } });
  });

  it('refuses another identity, another issuer, and the same identity under the public-good root', async () => {
    const other = await verify(
      'https://github.com/evil/images/.github/workflows/x.yml@refs/heads/main',
      ISSUER,
      'trusted_root.json',
    );
    expect(other).toMatchObject({ code: 1, ok: false, reason: 'ImageSignerUntrusted' });
    const issuer = await verify(SAN, 'https://accounts.google.com', 'trusted_root.json');
    expect(issuer).toMatchObject({ code: 1, ok: false, reason: 'ImageSignerUntrusted' });
    // Without --trusted-root: sigstore-js's public-good snapshot, which never issued this certificate.
    const publicGood = await verify(SAN, ISSUER);
    expect(publicGood.code).toBe(1);
    expect(publicGood.ok).toBe(false);
  });

  it.skipIf(!cosignPath && !process.env.CI)(
    'cosign verifies the same keyless signature by identity',
    async () => {
      const args = [
        'verify',
        '--new-bundle-format',
        '--certificate-identity',
        SAN,
        '--certificate-oidc-issuer',
        ISSUER,
        '--trusted-root',
        join(dir, 'trusted_root.json'),
        '--allow-http-registry',
        image.reference,
      ];
      const { stdout, stderr } = await promisify(execFile)(cosignPath!, args, {
        env: { PATH: process.env.PATH, HOME: dir },
        timeout: 120_000,
      });
      expect(stdout + stderr).toContain(image.digest);
    },
    150_000,
  );

  it("the image policy's identity form: the workflow identity runs, another one is refused", async () => {
    const check = async (subject: string) => {
      writeFileSync(
        join(dir, 'runners.yaml'),
        `imagePolicy:\n  namespaces:\n    "*":\n      mode: enforce\n      rules:\n        - images: "${registry.host}/keyless/**"\n          identities:\n            - subject: ${subject}\n              issuer: ${ISSUER}\n              trustedRoot: trusted_root.json\n`,
      );
      const config = runtimeConfigFromEnv(
        { HOME: dir, MAESTRO_DATA_DIR: join(dir, 'data'), MAESTRO_RUNNERS_CONFIG: 'runners.yaml' },
        { cwd: dir, socketExists: () => false },
      );
      // The gate's decisions go to the decision log in the engine store's database.
      const store = await openAsyncStore({ dataDir: config.dataDir });
      const opened = await openImageGate(
        config.runners,
        { dataDir: config.dataDir, durability: config.durability },
        () => store,
      );
      try {
        return await opened.gate!.check({
          runId: 'r',
          taskId: 't',
          attempt: 1,
          namespace: 'ci',
          image: image.reference,
        });
      } finally {
        await opened.close();
        await store.close();
      }
    };
    const allowed = await check(SAN);
    expect(allowed).toMatchObject({
      allowed: true,
      pinned: `${registry.host}/keyless/app@${image.digest}`,
      image: { verification: 'verified', signer: `${SAN} (${ISSUER})` },
    });
    const refused = await check('https://github.com/acme/images/.github/workflows/other.yml@refs/heads/main');
    expect(refused).toMatchObject({ allowed: false, reason: 'ImageSignerUntrusted' });
  });
});
