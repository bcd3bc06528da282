/**
 * Maestro's bundles verify with an independent Sigstore client: cosign v2.6.1, built by
 * scripts/setup/cosign.sh. A real `maestro run` signs with an operator P-256 key; cosign checks an
 * exported attempt receipt against the artifact file (so it checks the subject digest against the
 * artifact's bytes), the run receipt against the attempt receipt it covers, a receipt taken out of
 * a `maestro disclose` archive, and an approval attestation signed by the App's code. Tampered
 * bundles and artifacts are rejected by cosign, and so is the keyid Maestro used to write. A
 * keyless receipt (Maestro's keyless signer through a Sigstore of the test's own) verifies by
 * certificate identity under that Sigstore's root and fails under public good's.
 *
 * cosign flags, and why: `--new-bundle-format` (Sigstore bundle v0.3); `--key` (the operator's
 * public key); `--trusted-root` (the public-good snapshot shipped with sigstore-js, so cosign does
 * not try to reach Sigstore's TUF repository: this runs offline); `--insecure-ignore-tlog=true`
 * because a key-signed receipt carries no Rekor entry (Maestro signs offline with the operator's
 * key; keyless receipts carry one).
 *
 * Skipped only when cosign is absent and CI is not set; in CI a missing cosign fails the test.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signApproval } from '../provenance/index.ts';
import { canonicalJson, sha256Digest } from '../core/index.ts';
import { runCaptured } from './cli-helpers.ts';
import { startAttackerSigstore } from './helpers/attacker-sigstore.ts';
import { attemptEvidence } from './helpers/provenance-evidence.ts';
import { freshKeyPairPem } from './helpers/provenance-keys.ts';
import {
  bundledTrustedRoot,
  createAttestor,
  createLocalKeySigner,
  readTgzStrict,
  withEmptyDsseKeyIds,
} from '../provenance/index.ts';

const SLSA = 'https://slsa.dev/provenance/v1';
const APPROVAL = 'https://summit-maestro.dev/attestations/approval/v1';

function findCosign(): string | undefined {
  const candidates = [
    process.env.MAESTRO_COSIGN,
    join(homedir(), '.cache/maestro/bin/cosign'),
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'cosign')),
  ];
  return candidates.find((path): path is string => !!path && existsSync(path));
}

const cosign = findCosign();
const run = promisify(execFile);

const MANIFEST = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: cosign-demo, namespace: test }
spec:
  defaults: { runner: local, timeout: 30s }
  tasks:
    - id: produce
      artifacts: [out]
      run: mkdir -p out && printf 'rows=42\\n' > out/report.txt
`;

let dir: string;
let publicKeyFile: string;
let privateKeyPem: string;
let rootFile: string;

/** Runs `cosign verify-blob-attestation` on a bundle and a blob; never throws. */
async function cosignVerify(bundle: string, blob: string, type: string, signer?: string[]) {
  // A key-signed bundle has no Rekor entry; a keyless one has, and cosign checks it.
  const who = signer ?? ['--key', publicKeyFile, '--insecure-ignore-tlog=true', '--trusted-root', rootFile];
  try {
    const { stdout, stderr } = await run(
      cosign!,
      ['verify-blob-attestation', '--new-bundle-format', ...who, '--type', type, '--bundle', bundle, blob],
      { cwd: dir, env: { PATH: process.env.PATH, HOME: dir }, timeout: 120_000 },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

const cli = (args: string[]) =>
  runCaptured(args, dir, {
    PATH: process.env.PATH,
    HOME: dir,
    MAESTRO_SIGNING_KEY: join(dir, 'keys', 'signing.pem'),
  });

const write = (name: string, data: Uint8Array | string) => {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
};

describe.skipIf(!cosign && !process.env.CI)('cosign verify-blob-attestation on Maestro bundles', () => {
  let runId: string;
  let files: Map<string, Buffer>;

  beforeAll(async () => {
    if (!cosign) throw new Error('cosign is not installed: run `bash scripts/setup/cosign.sh` (CI must)');
    dir = mkdtempSync(join(tmpdir(), 'maestro-cosign-'));
    const keys = freshKeyPairPem();
    privateKeyPem = keys.privateKeyPem;
    mkdirSync(join(dir, 'keys'), { mode: 0o700 });
    writeFileSync(join(dir, 'keys', 'signing.pem'), privateKeyPem, { mode: 0o600 });
    publicKeyFile = write('signing.pub.pem', keys.publicKeyPem);
    rootFile = write('trusted_root.json', JSON.stringify(bundledTrustedRoot()));
    mkdirSync(join(dir, '.maestro', 'workflows'), { recursive: true });
    write('.maestro/workflows/demo.yaml', MANIFEST);
    const data = join(dir, 'data');
    const ran = await cli(['run', '.maestro/workflows/demo.yaml', '--data-dir', data]);
    runId = /run (\S+) succeeded/.exec(ran.stdout)?.[1] ?? '';
    expect(runId, ran.stdout + ran.stderr).not.toBe('');
    const exported = await cli([
      'receipts',
      runId,
      '--data-dir',
      data,
      '-o',
      'receipts',
      '--key',
      publicKeyFile,
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    const packed = await cli(['disclose', runId, '-o', 'run.tgz', '--data-dir', data]);
    expect(packed.code, packed.stderr).toBe(0);
    files = await readTgzStrict(readFileSync(join(dir, 'run.tgz')));
    write('report.txt', files.get('artifacts/produce/1/out/report.txt')!);
  }, 180_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('verifies an attempt receipt against the artifact file it attests', async () => {
    const verdict = await cosignVerify('receipts/produce-1.sigstore.json', 'report.txt', SLSA);
    expect(verdict.output).toContain('Verified OK');
    expect(verdict.code).toBe(0);
  });

  it('verifies the run receipt against the attempt statement it covers', async () => {
    const attempt = JSON.parse(readFileSync(join(dir, 'receipts/produce-1.sigstore.json'), 'utf8'));
    const statement = write('produce-1.statement.json', Buffer.from(attempt.dsseEnvelope.payload, 'base64'));
    const verdict = await cosignVerify('receipts/run-0.sigstore.json', statement, SLSA);
    expect(verdict.output).toContain('Verified OK');
    expect(verdict.code).toBe(0);
  });

  it('verifies a receipt taken out of a maestro disclose archive, against the archived artifact', async () => {
    const bundle = write('disclosed.sigstore.json', files.get('receipts/produce/1.sigstore.json')!);
    const verdict = await cosignVerify(bundle, 'report.txt', SLSA);
    expect(verdict.output).toContain('Verified OK');
    expect(verdict.code).toBe(0);
  });

  it('verifies an approval attestation against the plan it approves', async () => {
    const plan = write('plan.json', canonicalJson(JSON.parse(files.get('run/plan.json')!.toString('utf8'))));
    const signer = createLocalKeySigner({ privateKeyPem });
    const approval = await signApproval(
      {
        repository: 'acme/shop',
        workflow: 'cosign-demo',
        pullRequest: 7,
        headSha: 'a'.repeat(40),
        baseSha: 'b'.repeat(40),
        planDigest: sha256Digest(readFileSync(plan)),
        approvers: [{ login: 'reviewer', reviewId: 1, commitId: 'a'.repeat(40) }],
        required: 1,
        issuedAt: '2026-01-01T00:00:00.000Z',
        expiresAt: '2026-01-08T00:00:00.000Z',
      },
      signer,
    );
    const bundle = write('approval.sigstore.json', JSON.stringify(approval.bundle));
    const verdict = await cosignVerify(bundle, plan, APPROVAL);
    expect(verdict.output).toContain('Verified OK');
    expect(verdict.code).toBe(0);
  });

  it('rejects a flipped artifact byte, a re-written statement, and the keyid Maestro used to write', async () => {
    const flipped = Buffer.from(readFileSync(join(dir, 'report.txt')));
    flipped[0] = flipped[0]! ^ 1;
    const wrongArtifact = await cosignVerify(
      'receipts/produce-1.sigstore.json',
      write('flipped.txt', flipped),
      SLSA,
    );
    expect(wrongArtifact.code).not.toBe(0);
    expect(wrongArtifact.output).toContain('does not match any digest');

    const original = JSON.parse(readFileSync(join(dir, 'receipts/produce-1.sigstore.json'), 'utf8'));
    const forged = structuredClone(original);
    const statement = JSON.parse(Buffer.from(forged.dsseEnvelope.payload, 'base64').toString('utf8'));
    statement.subject[0].digest.sha256 = sha256Digest(flipped).slice('sha256:'.length);
    forged.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const rewritten = await cosignVerify(
      write('forged.sigstore.json', JSON.stringify(forged)),
      'flipped.txt',
      SLSA,
    );
    expect(rewritten.code).not.toBe(0);
    expect(rewritten.output).not.toContain('Verified OK');

    // The old format: the keyid held Maestro's own fingerprint, and cosign found no signature to
    // check. Maestro's verifier still accepts such bundles; exports re-emit them without it.
    const old = structuredClone(original);
    old.dsseEnvelope.signatures[0].keyid = original.verificationMaterial.publicKey.hint;
    const oldBundle = write('old-keyid.sigstore.json', JSON.stringify(old));
    const oldFormat = await cosignVerify(oldBundle, 'report.txt', SLSA);
    expect(oldFormat.code).not.toBe(0);
    expect(oldFormat.output).toContain('Found: 0');
    const reissued = write('reissued.sigstore.json', JSON.stringify(withEmptyDsseKeyIds(old)));
    expect((await cosignVerify(reissued, 'report.txt', SLSA)).code).toBe(0);
  });

  it('verifies a keyless receipt by certificate identity under the root that issued it, and only that root', async () => {
    // Maestro's keyless signer against a Sigstore of the test's own (CA, CT log, Rekor): the
    // bundle carries a certificate, an SCT and a Rekor entry, as one from public good would.
    const san = 'https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main';
    const issuer = 'https://token.actions.githubusercontent.com';
    const sigstore = await startAttackerSigstore({ san, issuer });
    try {
      const artifact = readFileSync(join(dir, 'report.txt'));
      const receipt = await createAttestor({ signer: sigstore.signer }).attestAttempt(
        attemptEvidence({ path: 'out/report.txt', data: artifact }),
      );
      const bundle = write('keyless.sigstore.json', JSON.stringify(receipt.bundle));
      const itsRoot = write('own-root.json', JSON.stringify(sigstore.trustedRoot));
      const identity = ['--certificate-identity', san, '--certificate-oidc-issuer', issuer];
      const underItsRoot = await cosignVerify(bundle, 'report.txt', SLSA, [
        ...identity,
        '--trusted-root',
        itsRoot,
      ]);
      expect(underItsRoot.output).toContain('Verified OK');
      expect(underItsRoot.code).toBe(0);
      const otherIdentity = [
        '--certificate-identity',
        'https://github.com/evil/x',
        '--certificate-oidc-issuer',
        issuer,
      ];
      expect(
        (await cosignVerify(bundle, 'report.txt', SLSA, [...otherIdentity, '--trusted-root', itsRoot])).code,
      ).not.toBe(0);
      const publicGood = await cosignVerify(bundle, 'report.txt', SLSA, [
        ...identity,
        '--trusted-root',
        rootFile,
      ]);
      expect(publicGood.code).not.toBe(0);
      expect(publicGood.output).not.toContain('Verified OK');
    } finally {
      await sigstore.close();
    }
  });
});
