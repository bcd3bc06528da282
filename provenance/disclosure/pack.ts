import { createHash } from 'node:crypto';
import { canonicalJson } from '../../core/index.ts';
import { withEmptyDsseKeyIds } from '../dsse-keyid.ts';
import type { ProvenanceSigner } from '../signer.ts';
import {
  APPROVAL_FILE,
  INDEX_BUNDLE_FILE,
  INDEX_FILE,
  INDEX_MEDIA_TYPE,
  MANIFEST_FILE,
  PLAN_FILE,
  POLICY_DECISIONS_FILE,
  PUBLIC_KEY_FILE,
  RUN_RECEIPT_FILE,
  TRUSTED_ROOT_FILE,
  artifactFile,
  attemptReceiptFile,
  type DisclosureIndex,
} from './layout.ts';
import { writeTgz } from './tar-write.ts';

export interface DisclosureInput {
  runId: string;
  /** When the archive is made (ms since epoch), injected for reproducibility. */
  createdAt: number;
  plan: unknown;
  manifest?: string;
  runReceipt?: unknown;
  attemptReceipts: { taskId: string; attempt: number; bundle: unknown }[];
  artifacts: { taskId: string; attempt: number; path: string; data: Uint8Array }[];
  /** The policy decision log lines for this run (JSON Lines), when one exists. */
  policyDecisions?: string;
  /** The approval attestation's Sigstore bundle, when the run was approved. */
  approval?: unknown;
  /** A Sigstore trusted_root.json snapshot, for keyless signers. */
  trustedRoot?: unknown;
}

const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');

/** Lays a run's evidence out as archive files (path → bytes). Pure. */
export function disclosureFiles(input: DisclosureInput, signer: ProvenanceSigner): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const put = (path: string, data: Uint8Array) => {
    if (files.has(path)) throw new TypeError(`two files map to ${path}`);
    files.set(path, data);
  };
  put(PLAN_FILE, json(input.plan));
  if (input.manifest !== undefined) put(MANIFEST_FILE, Buffer.from(input.manifest, 'utf8'));
  // Bundles issued before the DSSE keyid was left empty are re-emitted without it (unsigned), so
  // every bundle in an archive verifies with cosign too.
  const bundle = (value: unknown) => json(withEmptyDsseKeyIds(value));
  if (input.runReceipt !== undefined) put(RUN_RECEIPT_FILE, bundle(input.runReceipt));
  for (const r of input.attemptReceipts) put(attemptReceiptFile(r.taskId, r.attempt), bundle(r.bundle));
  for (const a of input.artifacts) put(artifactFile(a.taskId, a.attempt, a.path), a.data);
  if (input.policyDecisions !== undefined)
    put(POLICY_DECISIONS_FILE, Buffer.from(input.policyDecisions, 'utf8'));
  if (input.approval !== undefined) put(APPROVAL_FILE, bundle(input.approval));
  if (signer.publicKeyPem) put(PUBLIC_KEY_FILE, Buffer.from(signer.publicKeyPem, 'utf8'));
  if (input.trustedRoot !== undefined) put(TRUSTED_ROOT_FILE, json(input.trustedRoot));
  return files;
}

/**
 * Signs an index over the given files and writes the archive: index.json (every file with its
 * sha256 and size), index.sigstore.json (a DSSE bundle whose payload is exactly index.json), then
 * the files in path order. Also used by tests to build internally consistent hostile archives.
 */
export async function buildDisclosureArchive(
  files: Map<string, Uint8Array>,
  meta: { runId: string; createdAt: number },
  signer: ProvenanceSigner,
): Promise<Buffer> {
  const paths = [...files.keys()].sort();
  const index: DisclosureIndex = {
    mediaType: INDEX_MEDIA_TYPE,
    runId: meta.runId,
    createdAt: new Date(meta.createdAt).toISOString(),
    signer: {
      kind: signer.kind,
      ...(signer.keyFingerprint ? { keyFingerprint: signer.keyFingerprint } : {}),
    },
    files: paths.map((path) => ({
      path,
      sha256: createHash('sha256').update(files.get(path)!).digest('hex'),
      size: files.get(path)!.length,
    })),
  };
  const indexBytes = Buffer.from(canonicalJson(index), 'utf8');
  const bundle = await signer.signDsse(indexBytes, INDEX_MEDIA_TYPE);
  return writeTgz([
    { path: INDEX_FILE, data: indexBytes },
    { path: INDEX_BUNDLE_FILE, data: json(bundle) },
    ...paths.map((path) => ({ path, data: files.get(path)! })),
  ]);
}

/** `maestro disclose`: a run's evidence as one signed, offline-verifiable .tgz. */
export async function packDisclosure(input: DisclosureInput, signer: ProvenanceSigner): Promise<Buffer> {
  return buildDisclosureArchive(disclosureFiles(input, signer), input, signer);
}
