import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Digest } from '../../core/index.ts';
import { createAttestor } from '../attestor.ts';
import { ProvenanceError } from '../errors.ts';
import { signStatement } from '../sign.ts';
import { attemptEvidence, freshKeySigner } from '../test-fixtures.ts';
import type { ProvenanceSigner } from '../signer.ts';
import { INDEX_BUNDLE_FILE, INDEX_FILE, PUBLIC_KEY_FILE } from './layout.ts';
import { buildDisclosureArchive, packDisclosure, type DisclosureInput } from './pack.ts';
import { readTgzStrict } from './tar-read.ts';
import { writeTar, writeTgz, type TarEntryInput } from './tar-write.ts';
import { verifyDisclosure, type VerifyDisclosureOptions } from './verify-disclosure.ts';

const REPORT = Buffer.from('{"rows":42}\n');
const SUMMARY = Buffer.from('all good\n');

interface Fixture {
  signer: ProvenanceSigner;
  publicKeyPem: string;
  input: DisclosureInput;
  good: Buffer;
  files: Map<string, Buffer>;
}

/** A real two-task run: receipts signed by the attestor, packed by packDisclosure. */
async function makeFixture(): Promise<Fixture> {
  const { signer, publicKeyPem } = freshKeySigner();
  const attestor = createAttestor({ signer });
  const extract = await attestor.attestAttempt(attemptEvidence());
  const failed = await attestor.attestAttempt(
    attemptEvidence({
      taskId: 'validate',
      attemptId: 'att-validate-1',
      status: 'failed',
      exitCode: 1,
      artifacts: [],
    }),
  );
  const summarise = await attestor.attestAttempt(
    attemptEvidence({
      taskId: 'summarise',
      attemptId: 'att-summarise-1',
      artifacts: [{ path: 'out/summary.txt', digest: sha256Digest(SUMMARY), size: SUMMARY.length }],
    }),
  );
  const otherRun = await attestor.attestAttempt(attemptEvidence({ runId: 'run-2' }));
  const run = await attestor.attestRun({
    runId: 'run-1',
    planDigest: sha256Digest('plan'),
    workflow: { name: 'nightly-etl', namespace: 'data' },
    params: {},
    status: 'failed',
    startedAt: 0,
    finishedAt: 1,
    attemptReceipts: {
      'extract#1': extract.digest,
      'validate#1': failed.digest,
      'summarise#1': summarise.digest,
    },
  });
  const input: DisclosureInput = {
    runId: 'run-1',
    createdAt: Date.UTC(2026, 0, 2),
    plan: { apiVersion: 'maestro/v1', tasks: ['extract', 'validate', 'summarise'] },
    manifest: 'apiVersion: maestro/v1\nkind: Workflow\n',
    runReceipt: run.bundle,
    attemptReceipts: [
      { taskId: 'extract', attempt: 1, bundle: extract.bundle },
      { taskId: 'validate', attempt: 1, bundle: failed.bundle },
      { taskId: 'summarise', attempt: 1, bundle: summarise.bundle },
    ],
    artifacts: [
      { taskId: 'extract', attempt: 1, path: 'report.json', data: REPORT },
      { taskId: 'summarise', attempt: 1, path: 'out/summary.txt', data: SUMMARY },
    ],
    policyDecisions: '{"decisionId":"dec-1","allow":true}\n',
  };
  const good = await packDisclosure(input, signer);
  const files = await readTgzStrict(good);
  (input as DisclosureInput & { otherRunReceipt: unknown }).otherRunReceipt = otherRun.bundle;
  return { signer, publicKeyPem, input, good, files };
}

/** Unpinned unless the case pins: the matrix is about the archive, not the pinning rule. */
async function reasonOf(
  tgz: Uint8Array,
  options: VerifyDisclosureOptions = { allowUnpinned: true },
): Promise<string> {
  try {
    await verifyDisclosure(tgz, options);
    return 'accepted';
  } catch (error) {
    if (error instanceof ProvenanceError) return error.reason;
    throw error;
  }
}

/** The archive's entries in their original order, as writable input. */
function entriesOf(files: Map<string, Buffer>): TarEntryInput[] {
  return [...files].map(([path, data]) => ({ path, data }));
}

/** Everything except the index files, for re-signing a consistently altered archive. */
function payloadFiles(files: Map<string, Buffer>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>(files);
  out.delete(INDEX_FILE);
  out.delete(INDEX_BUNDLE_FILE);
  return out;
}

function flip(data: Buffer, at = Math.floor(data.length / 2)): Buffer {
  const copy = Buffer.from(data);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

function replaceEntry(files: Map<string, Buffer>, path: string, data: Buffer): Buffer {
  return writeTgz(entriesOf(files).map((e) => (e.path === path ? { path, data } : e)));
}

let fx: Fixture;
beforeAll(async () => {
  fx = await makeFixture();
});

describe('a good disclosure archive', () => {
  it('verifies offline against the pinned key, and against its own key only when asked', async () => {
    expect(await reasonOf(fx.good, {})).toBe('signer_not_pinned');
    const report = await verifyDisclosure(fx.good, { allowUnpinned: true });
    expect(report).toMatchObject({ runId: 'run-1', trust: 'unpinned', receipts: 4, artifacts: 2 });
    expect(report.warnings.join('\n')).toMatch(/^unpinned: .*pass --key/m);
    const pinned = await verifyDisclosure(fx.good, { publicKey: fx.publicKeyPem });
    expect(pinned).toMatchObject({
      trust: 'pinned',
      signer: { kind: 'key', keyFingerprint: fx.signer.keyFingerprint },
    });
    expect(pinned.warnings).toEqual([]);
  });

  it('holds every kind of evidence, indexed', async () => {
    const paths = [...fx.files.keys()].sort();
    expect(paths).toEqual([
      'artifacts/extract/1/report.json',
      'artifacts/summarise/1/out/summary.txt',
      INDEX_FILE,
      INDEX_BUNDLE_FILE,
      'policy/decisions.jsonl',
      'receipts/extract/1.sigstore.json',
      'receipts/run.sigstore.json',
      'receipts/summarise/1.sigstore.json',
      'receipts/validate/1.sigstore.json',
      'run/manifest.yaml',
      'run/plan.json',
      PUBLIC_KEY_FILE,
    ]);
  });

  it('has a reproducible index (only the ECDSA signature varies between packs)', async () => {
    const a = await readTgzStrict(await packDisclosure(fx.input, fx.signer));
    expect(a.get(INDEX_FILE)!.equals(fx.files.get(INDEX_FILE)!)).toBe(true);
  });
});

describe('tamper matrix: each alteration is rejected with its reason', () => {
  const cases: [string, string, () => Promise<Uint8Array> | Uint8Array, VerifyDisclosureOptions?][] = [
    [
      'flipped byte in an artifact',
      'digest_mismatch',
      () =>
        replaceEntry(
          fx.files,
          'artifacts/extract/1/report.json',
          flip(fx.files.get('artifacts/extract/1/report.json')!),
        ),
    ],
    [
      'flipped byte in a receipt',
      'digest_mismatch',
      () =>
        replaceEntry(
          fx.files,
          'receipts/extract/1.sigstore.json',
          flip(fx.files.get('receipts/extract/1.sigstore.json')!),
        ),
    ],
    [
      'flipped byte in the plan',
      'digest_mismatch',
      () => replaceEntry(fx.files, 'run/plan.json', flip(fx.files.get('run/plan.json')!)),
    ],
    [
      'flipped byte in the policy decisions',
      'digest_mismatch',
      () => replaceEntry(fx.files, 'policy/decisions.jsonl', flip(fx.files.get('policy/decisions.jsonl')!)),
    ],
    [
      'flipped byte in index.json',
      'index_mismatch',
      () => replaceEntry(fx.files, INDEX_FILE, flip(fx.files.get(INDEX_FILE)!)),
    ],
    [
      'flipped byte in the index signature',
      'index_signature_invalid',
      () => {
        const bundle = JSON.parse(fx.files.get(INDEX_BUNDLE_FILE)!.toString());
        const sig = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64');
        bundle.dsseEnvelope.signatures[0].sig = flip(sig, sig.length - 3).toString('base64');
        return replaceEntry(fx.files, INDEX_BUNDLE_FILE, Buffer.from(JSON.stringify(bundle)));
      },
    ],
    [
      'missing file',
      'missing_file',
      () => writeTgz(entriesOf(fx.files).filter((e) => e.path !== 'artifacts/extract/1/report.json')),
    ],
    [
      'extra file',
      'extra_file',
      () =>
        writeTgz([
          ...entriesOf(fx.files),
          { path: 'artifacts/extract/1/backdoor.sh', data: Buffer.from('#!/bin/sh\n') },
        ]),
    ],
    [
      'missing index',
      'index_missing',
      () => writeTgz(entriesOf(fx.files).filter((e) => e.path !== INDEX_FILE)),
    ],
    [
      'swapped receipts (re-indexed)',
      'receipt_swapped',
      () => {
        const files = payloadFiles(fx.files);
        const a = files.get('receipts/extract/1.sigstore.json')!;
        files.set('receipts/extract/1.sigstore.json', files.get('receipts/summarise/1.sigstore.json')!);
        files.set('receipts/summarise/1.sigstore.json', a);
        return buildDisclosureArchive(files, fx.input, fx.signer);
      },
    ],
    [
      "another run's receipt (re-indexed)",
      'receipt_run_mismatch',
      () => {
        const files = payloadFiles(fx.files);
        const other = (fx.input as DisclosureInput & { otherRunReceipt: unknown }).otherRunReceipt;
        files.set('receipts/extract/1.sigstore.json', Buffer.from(JSON.stringify(other)));
        return buildDisclosureArchive(files, fx.input, fx.signer);
      },
    ],
    [
      'receipt dropped from the set the run receipt signs (re-indexed)',
      'receipt_set_mismatch',
      () => {
        const files = payloadFiles(fx.files);
        files.delete('receipts/validate/1.sigstore.json');
        return buildDisclosureArchive(files, fx.input, fx.signer);
      },
    ],
    [
      'artifact no receipt attests (re-indexed)',
      'artifact_not_attested',
      () => {
        const files = payloadFiles(fx.files);
        files.set('artifacts/extract/1/report.json', Buffer.from('{"rows":0}\n'));
        return buildDisclosureArchive(files, fx.input, fx.signer);
      },
    ],
    [
      'index re-signed by another key, archive key kept',
      'signer_mismatch',
      async () => {
        const attacker = freshKeySigner().signer;
        const forged = await readTgzStrict(
          await buildDisclosureArchive(payloadFiles(fx.files), fx.input, attacker),
        );
        return replaceEntry(fx.files, INDEX_BUNDLE_FILE, forged.get(INDEX_BUNDLE_FILE)!);
      },
    ],
    [
      'whole archive re-signed by another key, verified with the pinned key',
      'signer_mismatch',
      async () => {
        const attacker = freshKeySigner().signer;
        const files = payloadFiles(fx.files);
        files.set(PUBLIC_KEY_FILE, Buffer.from(attacker.publicKeyPem!));
        return buildDisclosureArchive(files, fx.input, attacker);
      },
      { publicKey: undefined },
    ],
    [
      'receipts signed by another key than the index',
      'receipt_signature_invalid',
      async () => {
        const attacker = freshKeySigner().signer;
        const files = payloadFiles(fx.files);
        files.set(PUBLIC_KEY_FILE, Buffer.from(attacker.publicKeyPem!));
        return buildDisclosureArchive(files, fx.input, attacker);
      },
    ],
    [
      'receipt whose Maestro fields break the schema (re-signed)',
      'statement_malformed',
      async () => {
        const files = payloadFiles(fx.files);
        const forged = await signStatement(
          {
            _type: 'https://in-toto.io/Statement/v1',
            subject: [{ name: 'x', digest: { sha256: '0'.repeat(64) } }],
            predicateType: 'https://slsa.dev/provenance/v1',
            predicate: {
              buildDefinition: { internalParameters: { maestro: { kind: 'attempt', runId: 'run-1' } } },
            },
          },
          fx.signer,
        );
        files.set('receipts/extract/1.sigstore.json', Buffer.from(JSON.stringify(forged.bundle)));
        return buildDisclosureArchive(files, fx.input, fx.signer);
      },
    ],
    [
      'index with the wrong media type (re-signed)',
      'index_media_type',
      async () => {
        const index = JSON.parse(fx.files.get(INDEX_FILE)!.toString());
        index.mediaType = 'application/json';
        const bytes = Buffer.from(JSON.stringify(index));
        const bundle = await fx.signer.signDsse(
          bytes,
          'application/vnd.summit-maestro.disclosure.index.v1+json',
        );
        return writeTgz(
          entriesOf(fx.files).map((e) =>
            e.path === INDEX_FILE
              ? { path: e.path, data: bytes }
              : e.path === INDEX_BUNDLE_FILE
                ? { path: e.path, data: Buffer.from(JSON.stringify(bundle)) }
                : e,
          ),
        );
      },
    ],
    [
      "entry with '..'",
      'unsafe_path',
      () => writeTgz([{ path: '../../etc/cron.d/x', data: Buffer.from('x') }, ...entriesOf(fx.files)]),
    ],
    [
      'entry with an absolute path',
      'unsafe_path',
      () => writeTgz([...entriesOf(fx.files), { path: '/etc/passwd', data: Buffer.from('x') }]),
    ],
    [
      'symlink entry',
      'link_entry',
      () =>
        writeTgz([
          ...entriesOf(fx.files),
          { path: 'artifacts/extract/1/link', type: 'SymbolicLink', linkpath: '/etc/shadow' },
        ]),
    ],
    [
      'hard link entry',
      'link_entry',
      () =>
        writeTgz([
          ...entriesOf(fx.files),
          { path: 'artifacts/extract/1/hard', type: 'Link', linkpath: 'run/plan.json' },
        ]),
    ],
    [
      'directory entry',
      'unsupported_entry',
      () => writeTgz([{ path: 'artifacts', type: 'Directory' }, ...entriesOf(fx.files)]),
    ],
    [
      'duplicate entry',
      'duplicate_entry',
      () => writeTgz([...entriesOf(fx.files), { path: 'run/plan.json', data: Buffer.from('{"evil":true}') }]),
    ],
    ['truncated gzip stream', 'truncated_archive', () => fx.good.subarray(0, fx.good.length - 40)],
    [
      'truncated tar inside a valid gzip',
      'truncated_archive',
      () => {
        const tar = gunzipSync(fx.good);
        return gzipSync(tar.subarray(0, tar.length - 1024 - 700));
      },
    ],
    ['not gzip at all', 'not_gzip', () => writeTar(entriesOf(fx.files))],
    [
      'oversize entry',
      'oversize',
      () => fx.good,
      { limits: { maxTotalBytes: 1 << 20, maxEntryBytes: 100, maxEntries: 100 } },
    ],
    [
      'archive expanding past the cap',
      'oversize',
      () => fx.good,
      { limits: { maxTotalBytes: 4096, maxEntryBytes: 4096, maxEntries: 100 } },
    ],
  ];

  it('has at least 15 distinct kinds', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    expect(new Set(cases.map(([, reason]) => reason)).size).toBeGreaterThanOrEqual(15);
  });

  it.each(cases)('%s → %s', async (_name, reason, make, options) => {
    const opts =
      options && 'publicKey' in options
        ? { publicKey: fx.publicKeyPem }
        : { allowUnpinned: true, ...options };
    expect(await reasonOf(await make(), opts)).toBe(reason);
  });
});
