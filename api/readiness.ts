/** What /readyz checks: each part a run needs, with the reason it is not ready (empty: ready). */
import type { ApiContext } from './api-context.ts';

export async function readiness(ctx: ApiContext): Promise<string[]> {
  const reasons: string[] = [];
  try {
    await ctx.runtime.store.listRuns({ limit: 1 });
  } catch (error) {
    reasons.push(`store: ${(error as Error).message}`);
  }
  try {
    await ctx.apiStore.listTokens();
  } catch (error) {
    reasons.push(`api store: ${(error as Error).message}`);
  }
  // Always a gate or an explicit off (runtime/): absent would mean the composition root failed.
  if ((ctx.runtime.policy as unknown) === undefined) reasons.push('policy: no policy choice');
  if (ctx.runtime.config.provenance === 'on' && !ctx.runtime.signer)
    reasons.push('signer: no receipt signer');
  return reasons;
}
