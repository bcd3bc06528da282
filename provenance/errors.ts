import { InputError, type MaestroErrorOptions } from '../core/index.ts';

/**
 * Every reason a receipt, a bundle or a disclosure archive is rejected. A closed set: callers and
 * tests decide on `code`, never on the message (EXAMPLES.md habit 4).
 */
export const RejectReason = {
  bundleMalformed: 'bundle_malformed',
  bundleMediaType: 'bundle_media_type',
  signatureInvalid: 'signature_invalid',
  signerMismatch: 'signer_mismatch',
  identityMismatch: 'identity_mismatch',
  verificationMaterialMissing: 'verification_material_missing',
  signerNotPinned: 'signer_not_pinned',
  statementMalformed: 'statement_malformed',
  artifactMismatch: 'artifact_mismatch',
  // Disclosure archives.
  notGzip: 'not_gzip',
  truncatedArchive: 'truncated_archive',
  archiveMalformed: 'archive_malformed',
  oversize: 'oversize',
  unsafePath: 'unsafe_path',
  linkEntry: 'link_entry',
  unsupportedEntry: 'unsupported_entry',
  duplicateEntry: 'duplicate_entry',
  indexMissing: 'index_missing',
  indexMalformed: 'index_malformed',
  indexMediaType: 'index_media_type',
  indexMismatch: 'index_mismatch',
  indexSignatureInvalid: 'index_signature_invalid',
  missingFile: 'missing_file',
  extraFile: 'extra_file',
  digestMismatch: 'digest_mismatch',
  sizeMismatch: 'size_mismatch',
  receiptSignatureInvalid: 'receipt_signature_invalid',
  receiptSwapped: 'receipt_swapped',
  receiptRunMismatch: 'receipt_run_mismatch',
  receiptSetMismatch: 'receipt_set_mismatch',
  artifactNotAttested: 'artifact_not_attested',
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

/** A verification failed: the input (bundle, archive, artifact) is not what it claims. */
export class ProvenanceError extends InputError {
  readonly reason: RejectReason;
  constructor(reason: RejectReason, message: string, options: MaestroErrorOptions = {}) {
    super(reason, message, { ...options, details: { reason, ...options.details } });
    this.reason = reason;
  }
}

/** The operator's signing configuration is unusable (unreadable key, wrong curve). */
export class SigningConfigError extends InputError {
  constructor(message: string, options: MaestroErrorOptions = {}) {
    super('signing_config', message, options);
  }
}
