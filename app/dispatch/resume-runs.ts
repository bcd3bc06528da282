/**
 * Runs the app dispatched that were still live when it stopped (crash, kill, redeploy) are
 * executed again on start: the engine resumes a run from its store (interrupted attempts are
 * retried under their task's policy), and the run's check run is reported again from its
 * current state to its final update. Runs the app did not dispatch (e.g. `maestro run` on the
 * same data dir) are left alone.
 */
import { isMaestroError, RunState, type RunState as RunStateT } from '../../core/index.ts';
import type { Engine } from '../../engine/index.ts';
import type { AppStore, StoredRun } from '../app-store.ts';
import type { DispatchContext, Engines } from './dispatch-runs.ts';
import { startRun } from './dispatch-runs.ts';
import type { GitHubClient } from '../github/github-client.ts';

const LIVE: RunStateT[] = [RunState.queued, RunState.waitingForApproval, RunState.running];

export interface ResumeDeps {
  engines: Engines;
  store: AppStore;
  clientFor: (owner: string, repo: string, installationId: number) => GitHubClient;
  dispatchContext: (client: GitHubClient, engines: Engines) => DispatchContext;
  /** Waits between tries while another engine still holds the run's lease. Default 1000 ms. */
  busyRetryMs?: number;
  /** Tries before giving up on a busy run. Default 120 (two minutes; leases last 15 s). */
  busyTries?: number;
}

/**
 * A run whose previous engine died on this host is taken over at once (its pid is gone); one
 * whose engine ran on another host (a rescheduled container) is taken when its lease expires.
 */
async function executeWhenFree(engine: Engine, runId: string, deps: ResumeDeps): Promise<unknown> {
  const tries = deps.busyTries ?? 120;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await engine.execute(runId);
    } catch (error) {
      if (!(isMaestroError(error) && error.code === 'run_busy') || attempt >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, deps.busyRetryMs ?? 1000));
    }
  }
}

/** Starts every live run the app dispatched; returns their ids. */
export async function resumeLiveRuns(deps: ResumeDeps): Promise<string[]> {
  const resumed: string[] = [];
  // Both engines share one store; which engine resumes a run is what the app recorded.
  for (const record of await deps.engines.trusted.store.listRuns({ status: LIVE })) {
    const run: StoredRun | undefined = await deps.store.getRun(record.id);
    if (!run) continue;
    const slash = run.repo.indexOf('/');
    const client = deps.clientFor(run.repo.slice(0, slash), run.repo.slice(slash + 1), run.installationId);
    const engine = run.fromFork ? deps.engines.untrusted : deps.engines.trusted;
    await startRun(deps.dispatchContext(client, deps.engines), engine, run.runId, run.headSha, (id) =>
      executeWhenFree(engine, id, deps),
    );
    resumed.push(run.runId);
  }
  return resumed;
}
