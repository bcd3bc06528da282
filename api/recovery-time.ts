/**
 * Time to recovery of a workflow (the MTTR panel): when a run succeeds, how long the workflow had
 * been failing, from the end of the first failed run since its previous success to the end of
 * this one. Read from the store, not from what this process saw: with replicas a workflow's
 * failed run is often executed by one process and its next success by another. Only the process
 * that stores the success observes it, so a recovery is counted once.
 */
import type { AsyncStore, RunOf, RunRecord } from '../engine/index.ts';
import { RunState } from '../core/index.ts';

/**
 * Pages of the look-back, 200 runs in all (a longer streak counts from the oldest failure read):
 * the first is one run, as the run before a success is most often a success (one small read per
 * succeeded run; a run record holds its plan).
 */
const PAGES = [1, 9, 40, 150];
const FAILED = new Set<string>([RunState.failed, RunState.timedOut]);

/**
 * When the failing streak `run` (a succeeded run) ends began: the finish time of the earliest
 * failed or timed-out run of the same workflow and namespace created after its previous success.
 * Undefined when the run before it succeeded, or it is the workflow's first. Cancelled runs are
 * neither: a cancelled run does not break or start a streak.
 */
export async function failingSince(
  store: AsyncStore,
  run: Pick<RunRecord, 'id' | 'workflow' | 'namespace' | 'createdAt'>,
): Promise<number | undefined> {
  let since: number | undefined;
  let before = { createdAt: run.createdAt, id: run.id };
  for (const limit of PAGES) {
    const page = await store.listRuns({
      workflow: run.workflow,
      namespace: run.namespace,
      status: [RunState.succeeded, RunState.failed, RunState.timedOut],
      before,
      limit,
    });
    // Newest first: every failure until the previous success belongs to the streak.
    for (const r of page) {
      if (!FAILED.has(r.status)) return since;
      since = r.finishedAt ?? r.createdAt;
    }
    if (page.length < limit) return since;
    const last = page.at(-1)!;
    before = { createdAt: last.createdAt, id: last.id };
  }
  return since;
}

/**
 * Seconds from the streak's start to `endedAt` (the success's transition), or undefined (no
 * streak). `known`: the run's workflow, namespace and creation time when the caller has them
 * (its events carried them); otherwise the run is read.
 */
export async function recoverySeconds(
  store: AsyncStore,
  runId: string,
  endedAt: number,
  known?: RunOf,
): Promise<number | undefined> {
  const since = await failingSince(store, known ? { id: runId, ...known } : await store.getRun(runId));
  return since === undefined ? undefined : Math.max(0, endedAt - since) / 1000;
}
