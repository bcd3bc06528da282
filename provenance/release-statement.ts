/**
 * The SLSA v1 build provenance of a Maestro release (scripts/release.ts): one in-toto Statement
 * whose subjects are the release files (the npm package, the Action bundle, the SBOM, and later
 * the image), signed with the same signers as receipts, so `maestro verify` checks it.
 */
import {
  IN_TOTO_STATEMENT_V1,
  SLSA_PROVENANCE_V1,
  type InTotoStatement,
  type ResourceDescriptor,
} from './statement.ts';

export const RELEASE_BUILD_TYPE = 'https://summit-maestro.dev/build-types/release/v1';

export interface ReleaseEvidence {
  /** Each release file by name with its sha256 (hex). */
  subjects: { name: string; sha256: string }[];
  version: string;
  /** The repository and the exact commit built. */
  repository: string;
  commit: string;
  /** The ref that triggered the build (a tag in CI), when known. */
  ref?: string;
  /** Uncommitted changes were present: the files do not come from `commit` alone. */
  dirty: boolean;
  /** sha256 (hex) of package-lock.json: the exact dependency set. */
  lockfileSha256: string;
  builderId: string;
  invocationId: string;
  startedOn: Date;
  finishedOn: Date;
  /** Tool versions (node, npm) for the record. */
  tools: Record<string, string>;
}

export interface ReleaseProvenance {
  buildDefinition: {
    buildType: string;
    externalParameters: { repository: string; ref?: string; version: string };
    internalParameters: { dirty: boolean; tools: Record<string, string> };
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string };
    metadata: { invocationId: string; startedOn: string; finishedOn: string };
  };
}

export function buildReleaseStatement(e: ReleaseEvidence): InTotoStatement<ReleaseProvenance> {
  if (e.subjects.length === 0) throw new TypeError('a release statement needs at least one subject');
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: e.subjects.map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: RELEASE_BUILD_TYPE,
        externalParameters: {
          repository: e.repository,
          ...(e.ref ? { ref: e.ref } : {}),
          version: e.version,
        },
        internalParameters: { dirty: e.dirty, tools: e.tools },
        resolvedDependencies: [
          { uri: `git+${e.repository}`, digest: { gitCommit: e.commit } },
          { name: 'package-lock.json', digest: { sha256: e.lockfileSha256 } },
        ],
      },
      runDetails: {
        builder: { id: e.builderId },
        metadata: {
          invocationId: e.invocationId,
          startedOn: e.startedOn.toISOString(),
          finishedOn: e.finishedOn.toISOString(),
        },
      },
    },
  };
}
