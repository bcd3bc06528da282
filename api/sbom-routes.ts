/**
 * GET /v1/sbom?component=&version=: which stored releases and images contain a component. The
 * store finds the component by name (indexed); the range is applied here with `semver`, the one
 * matcher `maestro sbom query` also uses (provenance/sbom), so the CLI and the API agree.
 */
import type { ApiBody } from '../core/index.ts';
import { SbomError } from '../provenance/index.ts';
import { findSbomMatches } from './sbom-query.ts';
import type { ApiContext } from './api-context.ts';
import { ApiError } from './problem.ts';

export async function querySbom(ctx: ApiContext, query: ApiBody.SbomQuery): Promise<ApiBody.SbomMatches> {
  try {
    const matches = await findSbomMatches(ctx.apiStore, query.component, query.version);
    return { items: matches };
  } catch (error) {
    if (error instanceof SbomError)
      throw new ApiError(422, error.code, error.message, { hint: error.hint ?? 'give a semver range' });
    throw error;
  }
}
