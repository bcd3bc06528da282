/** POST /v1/runs, GET /v1/runs, GET /v1/runs/{id}, cancel, retry, receipts. */
import { randomUUID } from 'node:crypto';
import {
  digestOf,
  isTerminalRunState,
  RunState,
  type ApiBody,
  type RunState as RunStateT,
} from '../core/index.ts';
import type { RunRecord } from '../engine/index.ts';
import type { ApiContext } from './api-context.ts';
import { assertNamespace, type Caller } from './auth.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { ApiError } from './problem.ts';
import { runDetail, runSummary } from './run-view.ts';
import { findWorkflow } from './workflow-routes.ts';

async function resolveWorkflow(ctx: ApiContext, caller: Caller, ref: ApiBody.WorkflowRef) {
  if (typeof ref === 'string') return findWorkflow(ctx, caller, ref);
  assertNamespace(caller, ref.namespace);
  const workflow = await ctx.apiStore.latestWorkflow(ref.namespace, ref.name);
  if (!workflow)
    throw new ApiError(404, 'workflow_not_found', `no workflow ${ref.namespace}/${ref.name} is stored`, {
      hint: 'POST the manifest to /v1/workflows first',
    });
  return workflow;
}

export async function createRun(
  ctx: ApiContext,
  caller: Caller,
  body: ApiBody.RunCreate,
  idempotencyKey: string | undefined,
  /** The request's trace context (request-tracing.ts): the run's trace continues it. */
  traceParent?: string,
): Promise<ApiBody.RunAccepted> {
  const workflow = await resolveWorkflow(ctx, caller, body.workflow);
  // A gated workflow's run is stored waiting (never queued) and starts only once approvals
  // arrive through POST /v1/runs/{id}/approvals (approval-routes.ts).
  const gated = workflow.plan.approvals !== undefined;
  let runId = `r-${randomUUID()}`;
  if (idempotencyKey !== undefined) {
    const claim = await ctx.apiStore.claimIdempotencyKey(
      idempotencyKey,
      caller.tokenId,
      digestOf(body),
      runId,
      ctx.clock.now(),
    );
    if (claim.bodyDigest !== digestOf(body))
      throw new ApiError(409, 'idempotency_conflict', 'this Idempotency-Key was used with another body', {
        hint: 'use a new key for a different request',
      });
    if (!claim.fresh)
      return { id: claim.runId, status: (await ctx.runtime.store.getRun(claim.runId)).status };
    runId = claim.runId;
  }
  try {
    await ctx.runtime.engine.submit(workflow.plan, {
      runId,
      params: body.params ?? {},
      priority: body.priority ?? 0,
      trigger: 'api',
      actor: caller.user,
      // The caller holds an operator-issued token with runs:write: an operator's run, as the CLI's.
      trust: 'trusted',
      ...(traceParent !== undefined ? { traceParent } : {}),
      ...(gated ? { awaitApproval: true } : {}),
    });
  } catch (error) {
    // Nothing half-stored: the key is free again for a corrected request.
    if (idempotencyKey !== undefined)
      await ctx.apiStore.releaseIdempotencyKey(idempotencyKey, caller.tokenId);
    throw error;
  }
  if (gated) return { id: runId, status: RunState.waitingForApproval };
  ctx.wake(runId);
  return { id: runId, status: RunState.queued };
}

/** An RFC 3339 query parameter as epoch ms; anything else is a 400 naming the parameter. */
export function parseTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || !/^\d{4}-\d\d-\d\d/.test(value))
    throw new ApiError(400, 'invalid_request', `${name} is not an RFC 3339 date-time`, {
      errors: [{ pointer: `/query/${name}`, message: 'expected a date-time such as 2026-12-01T09:00:00Z' }],
    });
  return ms;
}

/** `team=data,tier=gold` (the schema's pattern has checked the form) as pairs; a key twice is refused. */
function parseLabels(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const labels: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at);
    if (Object.hasOwn(labels, key))
      throw new ApiError(400, 'invalid_request', `label ${key} is given twice`, {
        errors: [{ pointer: '/query/label', message: `label ${JSON.stringify(key)} twice` }],
      });
    labels[key] = pair.slice(at + 1);
  }
  return labels;
}

/**
 * `fields=id,status,…`: each item with only those RunSummary properties (and `id`, which a caller
 * needs to ask for more), so a poller of many runs reads what it uses. The schema's pattern has
 * already refused any other name.
 */
function fieldsOf(fields: string | undefined): (summary: ApiBody.RunSummary) => ApiBody.RunSummaryFields {
  if (fields === undefined) return (summary) => summary;
  const wanted = new Set(['id', ...fields.split(',')]);
  return (summary) =>
    Object.fromEntries(
      Object.entries(summary).filter(([key]) => wanted.has(key)),
    ) as unknown as ApiBody.RunSummaryFields;
}

export async function listRuns(
  ctx: ApiContext,
  caller: Caller,
  query: ApiBody.RunListQuery,
): Promise<ApiBody.RunList> {
  if (query.namespace !== undefined) assertNamespace(caller, query.namespace);
  const statuses = query.status?.split(',').map((s) => s.trim());
  const known = Object.values(RunState) as string[];
  for (const s of statuses ?? [])
    if (!known.includes(s))
      throw new ApiError(400, 'invalid_request', `status ${s} is not one of ${known.join(', ')}`, {
        errors: [{ pointer: '/query/status', message: `unknown status ${JSON.stringify(s)}` }],
      });
  const limit = query.limit ?? 100;
  const cursor = decodeCursor<{ c: number; i: string }>(query.cursor, { c: 'number', i: 'string' });
  const labels = parseLabels(query.label);
  const since = parseTime(query.since, 'since');
  const until = parseTime(query.until, 'until');
  // Keyset on (created, id) in the store: a page reads limit + 1 rows (the one more says whether
  // there is a next page), however many runs the store holds.
  const rows = await ctx.runtime.store.listRuns({
    ...(statuses ? { status: statuses as RunStateT[] } : {}),
    ...(query.workflow !== undefined ? { workflow: query.workflow } : {}),
    ...(query.namespace !== undefined ? { namespace: query.namespace } : {}),
    ...(query.sha !== undefined ? { sha: query.sha } : {}),
    ...(caller.namespaces.length ? { namespaces: caller.namespaces } : {}),
    ...(labels ? { labels } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    before: cursor ? { createdAt: cursor.c, id: cursor.i } : null,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const project = fieldsOf(query.fields);
  return {
    items: page.map((run) => project(runSummary(run))),
    nextCursor: rows.length > limit && last ? encodeCursor({ c: last.createdAt, i: last.id }) : null,
  };
}

export async function findRun(ctx: ApiContext, caller: Caller, id: string): Promise<RunRecord> {
  let run: RunRecord;
  try {
    run = await ctx.runtime.store.getRun(id);
  } catch (error) {
    if ((error as { code?: string }).code === 'not_found')
      throw new ApiError(404, 'run_not_found', `no run ${id}`, { hint: 'list runs with GET /v1/runs' });
    throw error;
  }
  assertNamespace(caller, run.namespace);
  return run;
}

export async function getRun(ctx: ApiContext, caller: Caller, id: string): Promise<ApiBody.RunDetail> {
  const run = await findRun(ctx, caller, id);
  const store = ctx.runtime.store;
  return runDetail(
    run,
    await store.listTasks(id),
    await store.listAttempts(id),
    await store.listReceipts(id),
    await ctx.apiStore.listApprovals(id),
  );
}

export async function cancelRun(ctx: ApiContext, caller: Caller, id: string): Promise<ApiBody.RunDetail> {
  await findRun(ctx, caller, id);
  await ctx.runtime.engine.cancel(id, { by: caller.user });
  return getRun(ctx, caller, id);
}

export async function retryRun(
  ctx: ApiContext,
  caller: Caller,
  id: string,
  task?: string,
): Promise<ApiBody.RunDetail> {
  const run = await findRun(ctx, caller, id);
  // Idempotent: while the run (or an earlier retry of it) is live, a second call changes nothing.
  if (!isTerminalRunState(run.status)) return getRun(ctx, caller, id);
  if (run.status === RunState.succeeded)
    throw new ApiError(409, 'run_succeeded', `run ${id} succeeded: there is nothing to retry`, {
      hint: 'start a new run with POST /v1/runs',
    });
  await ctx.runtime.engine.retry(id, { by: caller.user, ...(task !== undefined ? { tasks: [task] } : {}) });
  ctx.wake(id);
  return getRun(ctx, caller, id);
}

export async function listReceipts(
  ctx: ApiContext,
  caller: Caller,
  id: string,
  task?: string,
): Promise<ApiBody.ReceiptList> {
  await findRun(ctx, caller, id);
  return (await ctx.runtime.store.listReceipts(id))
    .filter((r) => task === undefined || r.taskId === task)
    .map((r) => ({
      task: r.taskId === '' ? null : r.taskId,
      attempt: r.attempt,
      digest: r.digest,
      bundle: r.bundle as Record<string, unknown>,
    }));
}

/**
 * GET /v1/runs/{id}/transitions: what `maestro run --server` replays into its live view. The
 * store's transition log is append-only and ordered, so a position is a stable cursor.
 */
export async function listTransitions(
  ctx: ApiContext,
  caller: Caller,
  id: string,
  after = 0,
): Promise<ApiBody.TransitionList> {
  await findRun(ctx, caller, id);
  const all = await ctx.runtime.store.listTransitions(id);
  return {
    items: all.slice(after).map((t) => ({
      task: t.taskId,
      from: t.from,
      to: t.to,
      reason: t.reason,
      by: t.by,
      time: new Date(t.time).toISOString(),
      detail: t.detail,
    })),
    next: Math.max(after, all.length),
  };
}
