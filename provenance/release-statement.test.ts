import { describe, expect, it } from 'vitest';
import { buildReleaseStatement, RELEASE_BUILD_TYPE } from './release-statement.ts';
import { SLSA_PROVENANCE_V1 } from './statement.ts';

const evidence = {
  subjects: [{ name: 'summit-maestro-1.0.0.tgz', sha256: 'a'.repeat(64) }],
  version: '1.0.0',
  repository: 'https://github.com/o/summit-maestro',
  commit: 'c'.repeat(40),
  dirty: false,
  lockfileSha256: 'b'.repeat(64),
  builderId: 'https://github.com/o/summit-maestro/.github/workflows/release.yml@refs/tags/v1.0.0',
  invocationId: 'run-1',
  startedOn: new Date(0),
  finishedOn: new Date(1000),
  tools: { node: 'v24.0.0' },
};

describe('buildReleaseStatement', () => {
  it('names every release file as a subject and records the commit, lockfile and builder', () => {
    const s = buildReleaseStatement({ ...evidence, ref: 'refs/tags/v1.0.0' });
    expect(s.predicateType).toBe(SLSA_PROVENANCE_V1);
    expect(s.subject).toEqual([{ name: 'summit-maestro-1.0.0.tgz', digest: { sha256: 'a'.repeat(64) } }]);
    expect(s.predicate.buildDefinition.buildType).toBe(RELEASE_BUILD_TYPE);
    expect(s.predicate.buildDefinition.externalParameters).toEqual({
      repository: evidence.repository,
      ref: 'refs/tags/v1.0.0',
      version: '1.0.0',
    });
    expect(s.predicate.buildDefinition.resolvedDependencies).toEqual([
      { uri: `git+${evidence.repository}`, digest: { gitCommit: evidence.commit } },
      { name: 'package-lock.json', digest: { sha256: evidence.lockfileSha256 } },
    ]);
    expect(s.predicate.runDetails.metadata.finishedOn).toBe('1970-01-01T00:00:01.000Z');
  });
  it('refuses a release with nothing in it', () => {
    expect(() => buildReleaseStatement({ ...evidence, subjects: [] })).toThrow('at least one subject');
  });
});
