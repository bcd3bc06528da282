/**
 * GET /v1/runs/{id}/graph: the run's plan laid out (api/plan-layout.ts, cached by plan digest)
 * and each task's duration estimate from the workflow's history, which the console's critical
 * path uses for the tasks that have not finished. The layout is the plan's; the estimates are
 * read fresh on every call (a few store reads), so a cached layout never carries stale numbers.
 */
import { AttemptOutcome, RunState, type ApiBody } from '../core/index.ts';
import type { RunRecord } from '../engine/index.ts';
import type { ApiContext } from './api-context.ts';
import type { Caller } from './auth.ts';
import { NODE_HEIGHT, NODE_WIDTH } from './plan-layout.ts';
import { findRun } from './run-routes.ts';

/** How many of the workflow's latest finished runs the estimates are the median of. */
const HISTORY_RUNS = 10;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** Each task's median duration over its last succeeded attempt in the workflow's latest finished runs. */
export async function durationEstimates(ctx: ApiContext, run: RunRecord): Promise<Map<string, number>> {
  const store = ctx.runtime.store;
  const history = await store.listRuns({
    workflow: run.workflow,
    namespace: run.namespace,
    status: [RunState.succeeded, RunState.failed],
    before: null,
    limit: HISTORY_RUNS,
  });
  const samples = new Map<string, number[]>();
  for (const past of history) {
    for (const a of await store.listAttempts(past.id)) {
      if (a.outcome !== AttemptOutcome.succeeded || a.finishedAt === null || a.cacheHit) continue;
      const list = samples.get(a.taskId) ?? [];
      list.push(a.finishedAt - a.startedAt);
      samples.set(a.taskId, list);
    }
  }
  return new Map([...samples].map(([task, values]) => [task, median(values)]));
}

export async function getRunGraph(ctx: ApiContext, caller: Caller, id: string): Promise<ApiBody.RunGraph> {
  const run = await findRun(ctx, caller, id);
  const plan = { digest: run.planDigest, tasks: run.plan.tasks };
  const [layout, estimates] = await Promise.all([ctx.layouts.of(plan), durationEstimates(ctx, run)]);
  const at = new Map(layout.positions.map((p) => [p.id, p]));
  return {
    planDigest: run.planDigest,
    width: layout.width,
    height: layout.height,
    nodeWidth: NODE_WIDTH,
    nodeHeight: NODE_HEIGHT,
    nodes: run.plan.tasks.map((t) => ({
      id: t.id,
      x: at.get(t.id)?.x ?? 0,
      y: at.get(t.id)?.y ?? 0,
      needs: [...t.needs],
      estimateMs: estimates.get(t.id) ?? null,
    })),
  };
}
