/**
 * The App's approval sweep (engine/approval-task/approval-sweep.ts) over the one store its
 * engines share: timeouts of parked runs are applied by whichever process sweeps, and a run the
 * App dispatched that a timeout sends back to queued is taken back here, under the run's lease
 * for the engine that dispatched it (the untrusted one for a fork), and executed by this process,
 * which reports its check run: as after an approving review (events/on-review.ts). Why here: an
 * App deployment runs the App's runs itself, so without a sweep in the App's process a replica
 * with only the app role never timed a parked run out. Runs the App did not dispatch are left
 * queued for any worker.
 */
import { isMaestroError } from '../../core/index.ts';
import type { Engine, SweepResult } from '../../engine/index.ts';
import type { AppStore } from '../app-store.ts';
import type { GitHubClient } from '../github/github-client.ts';
import { startRun, type DispatchContext, type Engines } from './dispatch-runs.ts';

export interface SweepDeps {
  engines: Engines;
  store: AppStore;
  clientFor: (owner: string, repo: string, installationId: number) => GitHubClient;
  dispatchContext: (client: GitHubClient, engines: Engines) => DispatchContext;
}

export async function sweepAppApprovals(deps: SweepDeps): Promise<SweepResult> {
  const engineOf = (fromFork: boolean): Engine => (fromFork ? deps.engines.untrusted : deps.engines.trusted);
  const result = await deps.engines.trusted.sweepApprovals({
    reserve: async (run) => {
      const stored = await deps.store.getRun(run.id);
      if (!stored) return undefined;
      try {
        return await engineOf(stored.fromFork).reserve(run.id);
      } catch (error) {
        // Another live engine holds it: left to that engine (it cannot happen to a parked run
        // unless someone executes it by hand).
        if (isMaestroError(error) && error.code === 'run_busy') return undefined;
        throw error;
      }
    },
  });
  for (const runId of result.reserved) {
    const stored = (await deps.store.getRun(runId))!;
    const slash = stored.repo.indexOf('/');
    const client = deps.clientFor(
      stored.repo.slice(0, slash),
      stored.repo.slice(slash + 1),
      stored.installationId,
    );
    const engine = engineOf(stored.fromFork);
    await startRun(deps.dispatchContext(client, deps.engines), engine, runId, stored.headSha, (id) =>
      engine.execute(id),
    );
  }
  return result;
}
