import { InputError, SystemError, type MaestroErrorOptions } from '../../core/index.ts';

/**
 * Why an image is refused (or could not be checked). A closed set, named in the task's failure,
 * the decision log and the receipt; callers switch on it, never on the message.
 */
export const ImageReason = {
  referenceInvalid: 'ImageReferenceInvalid',
  /** The registry has no such tag or digest. */
  notFound: 'ImageNotFound',
  /** No Sigstore bundle refers to the image's digest. */
  unsigned: 'ImageUnsigned',
  /** A bundle is there but does not verify, or does not cover this digest (tampered, lifted). */
  signatureInvalid: 'ImageSignatureInvalid',
  /** Signatures verify only against signers the policy does not trust (or none are recognised). */
  signerUntrusted: 'ImageSignerUntrusted',
  /** What the registry or the engine served is not the digest that was verified. */
  digestChanged: 'ImageDigestChanged',
  /** An enforced namespace, and no rule of the image policy names this image. */
  notInPolicy: 'ImageNotInPolicy',
  registryUnavailable: 'ImageRegistryUnavailable',
} as const;
export type ImageReason = (typeof ImageReason)[keyof typeof ImageReason];

/** An image's signature or digest check failed: the image is not what the policy requires. */
export class ImageError extends InputError {
  readonly reason: ImageReason;
  constructor(reason: ImageReason, message: string, options: MaestroErrorOptions = {}) {
    super(reason, message, { ...options, details: { reason, ...options.details } });
    this.reason = reason;
  }
}

/** The registry could not be reached or answered out of protocol: retryable, not the image's fault. */
export class RegistryError extends SystemError {
  readonly reason = ImageReason.registryUnavailable;
  constructor(message: string, options: MaestroErrorOptions = {}) {
    super('registry_unavailable', message, {
      retryable: true,
      hint: 'check that the registry is up and reachable from the runner host',
      ...options,
    });
  }
}
