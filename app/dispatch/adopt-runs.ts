/**
 * A run the App dispatched that this process executes without having started it: a replica's
 * worker claimed it (its dispatcher died and its lease ran out, or it was sent back to queued
 * elsewhere). Its check run is then reported from here, from the first event this process's
 * engines emit once it executes (to `running`), to its final state; the source fetch needs nothing from the dispatcher
 * (github/source-access.ts derives the token from the stored run). Why: otherwise the check run
 * of a run resumed on another replica stays `in_progress` for ever.
 */
import type { AppStore } from '../app-store.ts';
import type { GitHubClient } from '../github/github-client.ts';
import { reportRun, type DispatchContext, type Engines } from './dispatch-runs.ts';

export interface AdoptDeps {
  engines: Engines;
  store: AppStore;
  clientFor: (owner: string, repo: string, installationId: number) => GitHubClient;
  dispatchContext: (client: GitHubClient, engines: Engines) => DispatchContext;
  /** Whether this process already reports the run (it started it, or adopted it before). */
  isReported: (runId: string) => boolean;
  onError: (error: unknown) => void;
}

/** Watches both engines; returns the function that stops watching. */
export function adoptClaimedRuns(deps: AdoptDeps): () => void {
  const adopting = new Set<string>();
  const adopt = async (runId: string, fromFork: boolean) => {
    const run = await deps.store.getRun(runId);
    if (!run || run.fromFork !== fromFork || deps.isReported(runId)) return;
    const slash = run.repo.indexOf('/');
    const client = deps.clientFor(run.repo.slice(0, slash), run.repo.slice(slash + 1), run.installationId);
    const engine = fromFork ? deps.engines.untrusted : deps.engines.trusted;
    await reportRun(deps.dispatchContext(client, deps.engines), engine, runId, run.headSha);
  };
  const watch = (fromFork: boolean) =>
    (fromFork ? deps.engines.untrusted : deps.engines.trusted).subscribe((event) => {
      // Only execution shows adoption is due (a claim makes the run, an attempt its task,
      // running); a submit, retry or approval here is followed by this process's own startRun.
      if (event.type === 'log' || event.to !== 'running') return;
      if (adopting.has(event.runId) || deps.isReported(event.runId)) return;
      adopting.add(event.runId);
      adopt(event.runId, fromFork)
        .catch(deps.onError)
        .finally(() => adopting.delete(event.runId));
    });
  const stops = [watch(false), watch(true)];
  return () => {
    for (const stop of stops) stop();
  };
}
