/**
 * The keyless verification path, offline, on a real Sigstore public-good bundle: GitHub's own
 * build-provenance attestation for a gh CLI release, as published in GitHub's OpenAPI
 * description (@octokit/openapi, the `list-attestations-bulk` example), checked against the
 * trust root snapshot sigstore-js ships. Keyless *signing* needs Fulcio, Rekor and a CI identity
 * token, none of which exist here, so it is not exercised by any test.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ProvenanceError, bundledTrustedRoot, verifyBundle } from '../provenance/index.ts';
import { runCaptured } from './cli-helpers.ts';
import { freshKeySignerPem } from './helpers/provenance-keys.ts';

const SAN = 'https://github.com/cli/cli/.github/workflows/deployment.yml@refs/heads/trunk';
const ISSUER = 'https://token.actions.githubusercontent.com';

function publishedBundle(): Record<string, unknown> {
  const path = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
  const api = JSON.parse(readFileSync(path, 'utf8'));
  const example = api.components.examples['list-attestations-bulk'].value;
  const bySubject = example.attestations_subject_digests[0] as Record<string, { bundle: unknown }[]>;
  const bundle = structuredClone(Object.values(bySubject)[0]![0]!.bundle) as {
    verificationMaterial: { tlogEntries: { inclusionProof: { checkpoint: { envelope: string } } }[] };
  };
  // The OpenAPI example stores the checkpoint's newlines double-escaped; undo only that.
  const checkpoint = bundle.verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint;
  checkpoint.envelope = checkpoint.envelope.replaceAll('\\n', '\n');
  return bundle as unknown as Record<string, unknown>;
}

const reasonOf = (fn: () => unknown) => {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    if (error instanceof ProvenanceError) return error.reason;
    throw error;
  }
};

describe('keyless verification (Fulcio certificate + Rekor entry), offline', () => {
  it('accepts the expected identity and issuer, and reports the statement', () => {
    const verified = verifyBundle(publishedBundle(), {
      trustedIdentity: { subjectAlternativeName: SAN, issuer: ISSUER, trustedRoot: bundledTrustedRoot() },
    });
    expect(verified.signer).toEqual({ kind: 'certificate', subjectAlternativeName: SAN, issuer: ISSUER });
    expect(verified.statement?.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(verified.statement?.subject[0]?.name).toBe('gh_2.50.0_windows_arm64.zip');
  });

  it('rejects another identity, another issuer, a changed payload and a key-only check, by reason', () => {
    const root = bundledTrustedRoot();
    const bundle = publishedBundle();
    expect(
      reasonOf(() =>
        verifyBundle(bundle, {
          trustedIdentity: {
            subjectAlternativeName: 'https://github.com/evil/x',
            issuer: ISSUER,
            trustedRoot: root,
          },
        }),
      ),
    ).toBe('identity_mismatch');
    expect(
      reasonOf(() =>
        verifyBundle(bundle, {
          trustedIdentity: {
            subjectAlternativeName: SAN,
            issuer: 'https://accounts.google.com',
            trustedRoot: root,
          },
        }),
      ),
    ).toBe('identity_mismatch');
    const changed = structuredClone(bundle) as { dsseEnvelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(changed.dsseEnvelope.payload, 'base64').toString());
    statement.subject[0].digest.sha256 = '0'.repeat(64);
    changed.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    expect(
      reasonOf(() =>
        verifyBundle(changed, {
          trustedIdentity: { subjectAlternativeName: SAN, issuer: ISSUER, trustedRoot: root },
        }),
      ),
    ).not.toBe('accepted');
    expect(reasonOf(() => verifyBundle(bundle, { publicKey: freshKeySignerPem() }))).toBe('signer_mismatch');
  });
});

describe('maestro verify, keyless', () => {
  it('verifies the published bundle offline with the shipped trust root, and exits 1 for another identity', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-keyless-'));
    const file = join(dir, 'gh.sigstore.json');
    writeFileSync(file, JSON.stringify(publishedBundle()));
    const run = (san: string) =>
      runCaptured(['verify', file, '--certificate-identity', san, '--certificate-oidc-issuer', ISSUER], dir);
    const ok = await run(SAN);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`signer:    ${SAN} issued by ${ISSUER}`);
    const bad = await run('https://github.com/evil/x/.github/workflows/release.yml@refs/heads/main');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('identity_mismatch');
  });
});
