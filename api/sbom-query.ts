/**
 * The one SBOM query, for GET /v1/sbom and `maestro sbom query`: the store finds the component by
 * name, the semver range (provenance/sbom) narrows by version. A bad range is refused before the
 * store is asked.
 */
import type { ApiBody } from '../core/index.ts';
import { parseVersionRange, versionSatisfies } from '../provenance/index.ts';
import type { ApiStore } from './api-store.ts';

export async function findSbomMatches(
  store: ApiStore,
  component: string,
  range?: string,
): Promise<ApiBody.SbomMatch[]> {
  const valid = range === undefined ? undefined : parseVersionRange(range);
  const found = await store.findSbomComponents(component);
  return found
    .filter((m) => valid === undefined || versionSatisfies(m.component.version, valid))
    .map(({ sbom, component: c }) => ({
      kind: sbom.kind,
      subject: sbom.subject,
      ...(sbom.version === null ? {} : { version: sbom.version }),
      subjectDigest: sbom.subjectDigest,
      sbomDigest: sbom.digest,
      component: c,
    }));
}
