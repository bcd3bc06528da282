import { InputError, type MaestroErrorOptions } from '../../core/index.ts';

/** Why an SBOM is refused or cannot be found. A closed set: callers switch on `code`. */
export const SbomReason = {
  /** Not a CycloneDX JSON document (or not one Maestro can read). */
  malformed: 'sbom_malformed',
  /** A version range that is not a semver range. */
  rangeInvalid: 'sbom_range_invalid',
  /** No stored SBOM matches what was asked for. */
  notFound: 'sbom_not_found',
  /** The image could not be read to make its SBOM (Podman could not create or export it). */
  imageUnreadable: 'sbom_image_unreadable',
} as const;
export type SbomReason = (typeof SbomReason)[keyof typeof SbomReason];

export class SbomError extends InputError {
  readonly reason: SbomReason;
  constructor(reason: SbomReason, message: string, options: MaestroErrorOptions = {}) {
    super(reason, message, { ...options, details: { reason, ...options.details } });
    this.reason = reason;
  }
}
