import { createHash, type KeyObject } from 'node:crypto';
import { ProvenanceError, RejectReason } from '../errors.ts';
import { bundledTrustedRoot } from '../trust-root.ts';
import { compileMaestroFieldsCheck, type MaestroFieldsCheck } from '../maestro-fields.ts';
import type { MaestroAttemptFields, MaestroRunFields } from '../statement.ts';
import { ARTIFACT_SUBJECT_PREFIX } from '../statement.ts';
import { verifyBundle, type TrustedIdentity, type VerifiedBundle, type VerifiedSigner } from '../verify.ts';
import {
  APPROVAL_FILE,
  INDEX_BUNDLE_FILE,
  INDEX_FILE,
  INDEX_MEDIA_TYPE,
  PUBLIC_KEY_FILE,
  RUN_RECEIPT_FILE,
  parseArtifactFile,
  parseAttemptReceiptFile,
  type DisclosureIndex,
} from './layout.ts';
import { DEFAULT_READ_LIMITS, readTgzStrict, type ReadLimits } from './tar-read.ts';

export interface VerifyDisclosureOptions {
  /** Pin the signer's public key (PEM). */
  publicKey?: string | KeyObject;
  /**
   * Pin a keyless identity. The trust root is the caller's, else the Sigstore public-good root
   * shipped with sigstore-js: never the archive's own `verification/trusted-root.json`, which
   * whoever made the archive chose.
   */
  trustedIdentity?: Omit<TrustedIdentity, 'trustedRoot'> & { trustedRoot?: unknown };
  /**
   * With neither pin, accept the archive's own public key. That proves only that the archive is
   * internally consistent (anyone can sign an archive with a key of their own), so it must be
   * asked for; without it an unpinned verification is refused (`signer_not_pinned`).
   */
  allowUnpinned?: boolean;
  /**
   * The App's approval-attestation public key, when approvals are signed with their own key
   * (MAESTRO_APPROVAL_SIGNING_KEY) rather than the receipts' signer.
   */
  approvalPublicKey?: string | KeyObject;
  limits?: ReadLimits;
}

export interface DisclosureReport {
  runId: string;
  signer: VerifiedSigner;
  /** `pinned` when the caller gave the key or identity; `unpinned` when the archive's own key was used. */
  trust: 'pinned' | 'unpinned';
  /** Keyless only: the trust root the certificate chain was checked under. */
  trustRoot?: 'given' | 'sigstore-public-good';
  files: number;
  receipts: number;
  artifacts: number;
  /** Set when the archive holds an approval attestation: which key it verified with. */
  approval?: 'signer' | 'approval-key';
  warnings: string[];
}

/**
 * `maestro disclose verify`: checks a disclosure archive entirely in memory and offline. The
 * first problem found is thrown as a ProvenanceError whose `reason` names it.
 */
export async function verifyDisclosure(
  tgz: Uint8Array,
  options: VerifyDisclosureOptions = {},
): Promise<DisclosureReport> {
  const files = await readTgzStrict(tgz, options.limits ?? DEFAULT_READ_LIMITS);
  const indexBytes = files.get(INDEX_FILE);
  const indexBundleBytes = files.get(INDEX_BUNDLE_FILE);
  if (!indexBytes || !indexBundleBytes)
    throw new ProvenanceError(
      RejectReason.indexMissing,
      `the archive has no ${!indexBytes ? INDEX_FILE : INDEX_BUNDLE_FILE}`,
    );
  const { trust, trustRoot, material } = trustMaterial(files, options);
  const verified = verifyIndexBundle(indexBundleBytes, material);
  if (!verified.payload.equals(indexBytes))
    throw new ProvenanceError(
      RejectReason.indexMismatch,
      `${INDEX_FILE} is not the index that ${INDEX_BUNDLE_FILE} signs`,
    );
  const index = parseIndex(indexBytes);
  checkFiles(index, files);
  const receipts = checkReceipts(index.runId, files, material, compileMaestroFieldsCheck());
  const approval = checkApproval(files, material, options.approvalPublicKey);
  return {
    runId: index.runId,
    signer: verified.signer,
    trust,
    ...(trustRoot ? { trustRoot } : {}),
    files: index.files.length,
    receipts: receipts.count,
    artifacts: receipts.artifacts,
    ...(approval ? { approval } : {}),
    warnings: [...verified.warnings, ...(trust === 'unpinned' ? [unpinnedWarning(verified.signer)] : [])],
  };
}

type Material = { publicKey?: string | KeyObject; trustedIdentity?: TrustedIdentity };

function trustMaterial(
  files: Map<string, Buffer>,
  options: VerifyDisclosureOptions,
): { trust: 'pinned' | 'unpinned'; trustRoot?: DisclosureReport['trustRoot']; material: Material } {
  if (options.publicKey) return { trust: 'pinned', material: { publicKey: options.publicKey } };
  if (options.trustedIdentity) {
    // Never the archive's trusted-root.json: a forger ships the root that trusts the forger.
    const given = options.trustedIdentity.trustedRoot;
    const root = given ?? bundledTrustedRoot();
    return {
      trust: 'pinned',
      trustRoot: given ? 'given' : 'sigstore-public-good',
      material: { trustedIdentity: { ...options.trustedIdentity, trustedRoot: root } },
    };
  }
  if (!options.allowUnpinned)
    throw new ProvenanceError(
      RejectReason.signerNotPinned,
      'no signer is pinned: pass --key <public.pem> (or --certificate-identity and --certificate-oidc-issuer); ' +
        '--allow-unpinned checks the archive only against its own key, which proves nothing about who made it',
    );
  const key = files.get(PUBLIC_KEY_FILE);
  if (!key)
    throw new ProvenanceError(
      RejectReason.verificationMaterialMissing,
      `the archive has no ${PUBLIC_KEY_FILE}; pass --key or a certificate identity`,
    );
  return { trust: 'unpinned', material: { publicKey: key.toString('utf8') } };
}

function unpinnedWarning(signer: VerifiedSigner): string {
  const who = signer.kind === 'key' ? `key ${signer.keyFingerprint}` : signer.subjectAlternativeName;
  return `unpinned: verified against the archive's own ${who}; pass --key to pin the key you expect`;
}

function verifyIndexBundle(bytes: Buffer, material: Material): VerifiedBundle {
  try {
    return verifyBundle(parseJson(bytes, INDEX_BUNDLE_FILE), { ...material, payloadType: INDEX_MEDIA_TYPE });
  } catch (error) {
    if (error instanceof ProvenanceError && error.reason === RejectReason.signerMismatch) throw error;
    if (error instanceof ProvenanceError && error.reason === RejectReason.identityMismatch) throw error;
    throw new ProvenanceError(
      RejectReason.indexSignatureInvalid,
      `the index signature does not verify: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

function parseJson(bytes: Buffer | undefined, name: string): unknown {
  try {
    if (!bytes) throw new Error('missing');
    return JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new ProvenanceError(RejectReason.indexMalformed, `${name} is missing or not JSON`, { cause });
  }
}

function parseIndex(bytes: Buffer): DisclosureIndex {
  const index = parseJson(bytes, INDEX_FILE) as DisclosureIndex;
  if (typeof index !== 'object' || index === null)
    throw new ProvenanceError(RejectReason.indexMalformed, `${INDEX_FILE} is not an object`);
  if (index.mediaType !== INDEX_MEDIA_TYPE)
    throw new ProvenanceError(
      RejectReason.indexMediaType,
      `${INDEX_FILE} has media type ${JSON.stringify(index.mediaType)}, expected ${INDEX_MEDIA_TYPE}`,
    );
  if (typeof index.runId !== 'string' || !Array.isArray(index.files))
    throw new ProvenanceError(RejectReason.indexMalformed, `${INDEX_FILE} lacks runId or files`);
  const seen = new Set<string>();
  for (const entry of index.files) {
    if (
      typeof entry?.path !== 'string' ||
      !/^[0-9a-f]{64}$/.test(entry.sha256) ||
      !Number.isSafeInteger(entry.size)
    )
      throw new ProvenanceError(
        RejectReason.indexMalformed,
        `${INDEX_FILE} has a malformed entry ${JSON.stringify(entry)}`,
      );
    if (seen.has(entry.path))
      throw new ProvenanceError(RejectReason.duplicateEntry, `${INDEX_FILE} lists ${entry.path} twice`);
    seen.add(entry.path);
  }
  return index;
}

function checkFiles(index: DisclosureIndex, files: Map<string, Buffer>): void {
  const listed = new Set(index.files.map((entry) => entry.path));
  for (const path of files.keys())
    if (path !== INDEX_FILE && path !== INDEX_BUNDLE_FILE && !listed.has(path))
      throw new ProvenanceError(
        RejectReason.extraFile,
        `${path} is in the archive but not in the signed index`,
      );
  for (const entry of index.files) {
    const data = files.get(entry.path);
    if (!data)
      throw new ProvenanceError(
        RejectReason.missingFile,
        `${entry.path} is in the signed index but not in the archive`,
      );
    if (data.length !== entry.size)
      throw new ProvenanceError(
        RejectReason.sizeMismatch,
        `${entry.path} is ${data.length} bytes, the index says ${entry.size}`,
      );
    if (createHash('sha256').update(data).digest('hex') !== entry.sha256)
      throw new ProvenanceError(
        RejectReason.digestMismatch,
        `${entry.path} does not match its sha256 in the signed index`,
      );
  }
}

/** Receipts must verify with the same signer, belong to this run, sit at their own path, and
 * attest every artifact shipped beside them; the run receipt must cover exactly those receipts. */
function checkReceipts(
  runId: string,
  files: Map<string, Buffer>,
  material: Material,
  check: MaestroFieldsCheck,
): { count: number; artifacts: number } {
  const attempts = new Map<string, { subjects: Map<string, string>; digest: string }>();
  for (const [path, data] of files) {
    const where = parseAttemptReceiptFile(path);
    if (!where) continue;
    const verified = verifyReceipt(path, data, material);
    const maestro = maestroFields(verified, path, check) as MaestroAttemptFields;
    if (maestro.kind !== 'attempt' || maestro.runId !== runId)
      throw new ProvenanceError(
        RejectReason.receiptRunMismatch,
        `${path} is a receipt of run ${maestro.runId}, not ${runId}`,
      );
    if (maestro.taskId !== where.taskId || maestro.attempt !== where.attempt)
      throw new ProvenanceError(
        RejectReason.receiptSwapped,
        `${path} holds the receipt of ${maestro.taskId} attempt ${maestro.attempt}`,
      );
    const subjects = new Map<string, string>();
    for (const s of verified.statement!.subject)
      if (s.name?.startsWith(ARTIFACT_SUBJECT_PREFIX) && s.digest?.sha256)
        subjects.set(s.name.slice(ARTIFACT_SUBJECT_PREFIX.length), s.digest.sha256);
    attempts.set(`${where.taskId}#${where.attempt}`, { subjects, digest: verified.payloadDigest });
  }
  let artifacts = 0;
  for (const [path, data] of files) {
    const where = parseArtifactFile(path);
    if (!where) continue;
    const attested = attempts.get(`${where.taskId}#${where.attempt}`)?.subjects.get(where.path);
    if (attested !== createHash('sha256').update(data).digest('hex'))
      throw new ProvenanceError(
        RejectReason.artifactNotAttested,
        `${path} is not attested by its attempt's receipt`,
      );
    artifacts++;
  }
  const runReceipt = files.get(RUN_RECEIPT_FILE);
  if (runReceipt) {
    const maestro = maestroFields(
      verifyReceipt(RUN_RECEIPT_FILE, runReceipt, material),
      RUN_RECEIPT_FILE,
      check,
    ) as MaestroRunFields;
    if (maestro.kind !== 'run' || maestro.runId !== runId)
      throw new ProvenanceError(
        RejectReason.receiptRunMismatch,
        `${RUN_RECEIPT_FILE} is not the receipt of run ${runId}`,
      );
    const listed = Object.entries(maestro.attemptReceipts ?? {});
    const mismatch =
      listed.length !== attempts.size || listed.some(([key, digest]) => attempts.get(key)?.digest !== digest);
    if (mismatch)
      throw new ProvenanceError(
        RejectReason.receiptSetMismatch,
        `the attempt receipts are not the set the run receipt signs`,
      );
  }
  return { count: attempts.size + (runReceipt ? 1 : 0), artifacts };
}

/** The approval attestation verifies with the approval key when one is pinned, else the signer's. */
function checkApproval(
  files: Map<string, Buffer>,
  material: Material,
  approvalKey: string | KeyObject | undefined,
): DisclosureReport['approval'] {
  const approval = files.get(APPROVAL_FILE);
  if (!approval) return undefined;
  if (approvalKey) {
    verifyReceipt(APPROVAL_FILE, approval, { publicKey: approvalKey });
    return 'approval-key';
  }
  try {
    verifyReceipt(APPROVAL_FILE, approval, material);
  } catch (error) {
    const message = `${(error as Error).message}; if approvals are signed with their own key, pass --approval-key`;
    throw new ProvenanceError(RejectReason.receiptSignatureInvalid, message, { cause: error });
  }
  return 'signer';
}

function verifyReceipt(path: string, data: Buffer, material: Material): VerifiedBundle {
  try {
    return verifyBundle(JSON.parse(data.toString('utf8')), material);
  } catch (error) {
    throw new ProvenanceError(
      RejectReason.receiptSignatureInvalid,
      `${path} does not verify: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

function maestroFields(
  verified: VerifiedBundle,
  path: string,
  check: MaestroFieldsCheck,
): MaestroAttemptFields | MaestroRunFields {
  const predicate = verified.statement?.predicate as
    | { buildDefinition?: { internalParameters?: { maestro?: MaestroAttemptFields | MaestroRunFields } } }
    | undefined;
  const maestro = predicate?.buildDefinition?.internalParameters?.maestro;
  const problem = check(maestro);
  if (problem)
    throw new ProvenanceError(
      RejectReason.statementMalformed,
      `${path} is not a Maestro receipt (${problem})`,
    );
  return maestro!;
}
