// The public face of provenance/: receipts (in-toto + SLSA v1), Sigstore signing and offline
// verification, disclosure archives, and the replay comparison.
export * from './errors.ts';
export * from './statement.ts';
export * from './signer.ts';
export { createLocalKeySigner, keyFingerprint, type LocalKeySignerOptions } from './local-key.ts';
export {
  loadOrCreateDevKey,
  DEV_KEY_DIR,
  DEV_PRIVATE_KEY_FILE,
  DEV_PUBLIC_KEY_FILE,
  DEV_APPROVAL_PRIVATE_KEY_FILE,
  DEV_APPROVAL_PUBLIC_KEY_FILE,
  type DevKeyPurpose,
} from './dev-key.ts';
export { createKeylessSigner, type KeylessSignerOptions } from './keyless.ts';
export { signStatement } from './sign.ts';
export { withEmptyDsseKeyIds } from './dsse-keyid.ts';
export * from './verify.ts';
export * from './attestor.ts';
export * from './compare.ts';
export * from './disclosure/layout.ts';
export {
  packDisclosure,
  disclosureFiles,
  buildDisclosureArchive,
  type DisclosureInput,
} from './disclosure/pack.ts';
export {
  verifyDisclosure,
  type VerifyDisclosureOptions,
  type DisclosureReport,
} from './disclosure/verify-disclosure.ts';
export { readTgzStrict, DEFAULT_READ_LIMITS, type ReadLimits } from './disclosure/tar-read.ts';
export { compileMaestroFieldsCheck } from './maestro-fields.ts';
export {
  resolveApprovalSigner,
  resolveSigner,
  signingConfigFromEnv,
  type SigningConfig,
} from './resolve-signer.ts';
export { bundledTrustedRoot, SIGSTORE_PUBLIC_GOOD_TUF } from './trust-root.ts';
export {
  loadKeylessIdentity,
  type KeylessIdentity,
  type KeylessIdentitySetting,
} from './keyless-identity.ts';
export {
  buildReleaseStatement,
  RELEASE_BUILD_TYPE,
  type ReleaseEvidence,
  type ReleaseProvenance,
} from './release-statement.ts';
export { writeTgz, type TarEntryInput } from './disclosure/tar-write.ts';
// Signed approvals: of a plan on a pull request (the App), of one run (the REST API), and the
// grant that releases a run. Below the surfaces, so the API does not load the App to approve.
export {
  APPROVAL_PREDICATE_TYPE,
  checkApproval,
  signApproval,
  type ApprovalPredicate,
} from './approvals/approval-attestation.ts';
export {
  RUN_APPROVAL_PREDICATE_TYPE,
  RUN_APPROVAL_GRANT_PREDICATE_TYPE,
  checkRunApproval,
  signRunApproval,
  signRunApprovalGrant,
  type RunApprovalBinding,
  type RunApprovalPredicate,
  type RunApprovalGrantPredicate,
} from './approvals/run-approval-attestation.ts';
export {
  TASK_APPROVAL_PREDICATE_TYPE,
  checkTaskApproval,
  signTaskApproval,
  type TaskApprovalBinding,
  type TaskApprovalPredicate,
} from './approvals/task-approval-attestation.ts';
export * from './image/index.ts';
export * from './sbom/index.ts';
export * from './workload-identity.ts';
