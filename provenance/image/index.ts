// Image signatures in OCI registries (cosign's new bundle format) and the image gate runners ask.
export { ImageError, ImageReason, RegistryError } from './image-errors.ts';
export {
  parseImageReference,
  pinnedReference,
  repositoryOf,
  formatImageReference,
  type ImageReference,
} from './image-reference.ts';
export {
  CREDENTIAL_HELPER_ENV,
  credentialHelperEnv,
  dockerConfigCredentials,
  registryAuthFile,
  type BasicCredentials,
  type CredentialLookup,
} from './registry-auth.ts';
export {
  createRegistryClient,
  isPlainHttpRegistry,
  type RegistryClient,
  type RegistryClientOptions,
} from './registry-client.ts';
export {
  signImage,
  attestImage,
  pushBundleReferrer,
  verifyImage,
  verifyImageAttestation,
  SIGSTORE_BUNDLE_TYPE,
  COSIGN_SIGN_PREDICATE,
  type ImageSignature,
  type ImageTrust,
  type VerifiedImage,
  type VerifiedAttestation,
} from './image-signature.ts';
export { parseImagePolicy, type ImagePolicy, type PolicyFiles } from './image-policy.ts';
export { createImageGate, type ImageDecisionRecord, type ImageGateOptions } from './image-gate.ts';
