/**
 * GET /v1/runs/{id}/disclosure: the run's evidence as `maestro disclose` packs it (the plan, the
 * manifest the run's workflow was stored with, the latest receipts, the artifact bytes each
 * receipt attests, the run's policy decisions, the approval grant the run started on, and for
 * keyless receipts the trust root), under an index signed by this server's signer, as
 * `application/gzip`. The same gatherDisclosure and packDisclosure as the CLI and the Action, so
 * `maestro disclose verify` checks an archive from here offline exactly as one made by hand.
 * Refused, before anything is read, for a token that may not see the run's namespace (404 for a
 * run that does not exist); 409 when this server signs nothing (provenance off) or when an
 * attested artifact is gone from the data dir or changed since it was attested.
 */
import { InputError } from '../core/index.ts';
import { gatherDisclosure } from '../engine/index.ts';
import { bundledTrustedRoot, packDisclosure } from '../provenance/index.ts';
import type { ApiContext } from './api-context.ts';
import type { Caller } from './auth.ts';
import { ApiError } from './problem.ts';
import { findRun } from './run-routes.ts';

/** The archive's media type (a gzipped tar, as `maestro disclose -o bundle.tgz` writes). */
export const DISCLOSURE_MEDIA = 'application/gzip';

export async function getDisclosure(ctx: ApiContext, caller: Caller, id: string): Promise<Buffer> {
  const run = await findRun(ctx, caller, id);
  const signer = ctx.runtime.signer;
  if (!signer)
    throw new ApiError(
      409,
      'provenance_off',
      `this server signs no receipts, so it cannot sign run ${id}'s disclosure`,
      {
        hint: 'start the server with provenance on (MAESTRO_PROVENANCE, docs/provenance.md)',
      },
    );
  const workflow = await ctx.apiStore.getWorkflow(run.planDigest);
  const grant = await ctx.apiStore.getGrant(id);
  const config = ctx.runtime.config;
  try {
    const input = await gatherDisclosure(ctx.runtime.store, id, {
      dataDir: config.dataDir,
      databaseUrl: config.databaseUrl,
      now: ctx.clock.now(),
      ...(workflow ? { manifest: workflow.manifest } : {}),
      ...(grant ? { approval: grant.bundle } : {}),
      // Keyless receipts travel with the trust root they verify against (offline verification).
      ...(signer.kind === 'keyless'
        ? { trustedRoot: signer.keyless?.trustedRoot ?? bundledTrustedRoot() }
        : {}),
    });
    return await packDisclosure(input, signer);
  } catch (error) {
    // The run's stored evidence no longer matches what its receipts attest: not the caller's fault.
    if (error instanceof InputError && error.code.startsWith('disclose_'))
      // The server's own paths stay out of the answer.
      throw new ApiError(409, error.code, error.message.replaceAll(config.dataDir, '<data-dir>'), {
        hint: 'the artifacts of the run in the data dir are not those its receipts attest',
      });
    throw error;
  }
}
