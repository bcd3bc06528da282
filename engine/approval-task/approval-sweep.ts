/**
 * The approval tasks' durable clock and recovery, run from the workers' claim loop (api/worker.ts
 * calls Engine.sweepApprovals between claims): for every run parked by an approval task it
 * applies timeouts that have passed (`onTimeout: reject` fails the task; `escalate` records an
 * escalation once, which widens the reviewers to `escalateTo` and starts a second window of the
 * same length, after which the task is rejected), and settles the run (approval-task.ts), which
 * also finishes a settle a crash interrupted. Deadlines come from stored times only (the task's
 * move to waiting_for_approval, the escalation row), so a restart, a kill -9 or another replica
 * sees the same deadline. Why a sweep and not a timer: a waiting run holds no process; the seam
 * for a store-level "not before T" timer is `dueTimeouts`, which such a timer would replace.
 */
import { Reason, TaskState } from '../../core/index.ts';
import type { EngineContext } from '../context.ts';
import type { RunRecord, TaskApprovalRecord, TaskRecord } from '../store/store.ts';
import { transitionRun, transitionTask } from '../transitions.ts';
import { RunState } from '../../core/index.ts';
import { approvalSpecOf, isApprovalTask, describeAllowed, type ApprovalSpec } from './approval-spec.ts';
import { cas, isParked, keysOf, settleRun } from './approve-task.ts';
import type { ApprovalKeys } from './approval-types.ts';

type Ctx = Pick<EngineContext, 'store' | 'clock' | 'emit' | 'logger'>;
const BY = 'engine:approval-timeout';

export interface SweepResult {
  settled: string[];
  escalated: string[];
  rejected: string[];
}

interface Due {
  task: TaskRecord;
  spec: ApprovalSpec;
  action: 'escalate' | 'reject';
}

/** The waiting approval tasks of `run` whose timeout has passed at `now`, and what follows. */
export function dueTimeouts(
  run: RunRecord,
  tasks: readonly TaskRecord[],
  rows: readonly TaskApprovalRecord[],
  now: number,
): Due[] {
  const due: Due[] = [];
  for (const task of tasks) {
    const plan = run.plan.tasks.find((p) => p.id === task.taskId);
    if (task.state !== TaskState.waitingForApproval || !plan || !isApprovalTask(plan)) continue;
    const spec = approvalSpecOf(plan);
    if (spec.timeoutMs === undefined) continue;
    const escalation = rows.find((r) => r.kind === 'escalation' && r.taskId === task.taskId);
    const from = escalation?.createdAt ?? task.updatedAt;
    if (now < from + spec.timeoutMs) continue;
    due.push({ task, spec, action: spec.onTimeout === 'escalate' && !escalation ? 'escalate' : 'reject' });
  }
  return due;
}

export async function sweepApprovals(ctx: Ctx, approvalKeys: ApprovalKeys | undefined): Promise<SweepResult> {
  const result: SweepResult = { settled: [], escalated: [], rejected: [] };
  const runs = (await ctx.store.listRuns({ status: [RunState.waitingForApproval] })).filter(isParked);
  for (const run of runs) {
    const now = ctx.clock.now();
    const tasks = await ctx.store.listTasks(run.id);
    const rows = await ctx.store.listTaskApprovals(run.id);
    for (const d of dueTimeouts(run, tasks, rows, now)) {
      if (d.action === 'escalate') await escalate(ctx, approvalKeys, run, d, now);
      else await reject(ctx, approvalKeys, run, d, now);
      result[d.action === 'escalate' ? 'escalated' : 'rejected'].push(`${run.id}/${d.task.taskId}`);
    }
    // Settling counts signatures, so it needs the key; without it only timeouts apply, and a run
    // whose approval tasks all timed out still goes back to queued to be closed.
    const after = approvalKeys?.signer.publicKeyPem
      ? await settleRun(ctx, keysOf(approvalKeys), run.id, 'engine:approval-sweep')
      : await settleWithoutKey(ctx, run.id);
    if (after.status === RunState.queued) result.settled.push(run.id);
  }
  return result;
}

async function escalate(ctx: Ctx, keys: ApprovalKeys | undefined, run: RunRecord, d: Due, now: number) {
  const inserted = await ctx.store.putTaskApproval({
    runId: run.id,
    taskId: d.task.taskId,
    kind: 'escalation',
    approver: '',
    digest: '',
    bundle: null,
    via: 'engine',
    createdAt: now,
  });
  if (!inserted) return;
  const to = describeAllowed({ reviewers: d.spec.escalateTo.reviewers, teams: d.spec.escalateTo.teams });
  const text = `approval of ${d.task.taskId} timed out: escalated to ${to}; rejected if still unapproved in ${d.spec.timeoutMs} ms`;
  ctx.logger.warn({ runId: run.id, taskId: d.task.taskId }, text);
  await ctx.store.appendLogs([
    { runId: run.id, taskId: d.task.taskId, attempt: null, stream: 'system', time: now, text },
  ]);
  ctx.emit({
    type: 'log',
    runId: run.id,
    taskId: d.task.taskId,
    attempt: null,
    stream: 'system',
    time: now,
    text,
  });
  await logDecision(keys, run, d, now, `approval escalated to ${to}`);
}

async function reject(ctx: Ctx, keys: ApprovalKeys | undefined, run: RunRecord, d: Due, now: number) {
  const detail = `no ${d.spec.approvals} approval(s) within the timeout`;
  await cas(() =>
    transitionTask(ctx, d.task, TaskState.failed, Reason.approvalTimedOut, BY, undefined, detail),
  );
  await logDecision(keys, run, d, now, `approval timed out: ${detail}`);
}

async function logDecision(
  keys: ApprovalKeys | undefined,
  run: RunRecord,
  d: Due,
  now: number,
  reason: string,
) {
  await keys?.log?.append({
    decisionId: `approval-${d.action}:${run.id}/${d.task.taskId}`,
    time: new Date(now).toISOString(),
    runId: run.id,
    taskId: d.task.taskId,
    attempt: 0,
    deliveryId: null,
    inputDigest: run.planDigest,
    bundleDigest: run.planDigest,
    allow: false,
    unavailable: false,
    reasons: [reason],
  });
}

async function settleWithoutKey(ctx: Ctx, runId: string): Promise<RunRecord> {
  const run = await ctx.store.getRun(runId);
  const tasks = await ctx.store.listTasks(runId);
  if (isParked(run) && !tasks.some((t) => t.state === TaskState.waitingForApproval))
    await cas(() =>
      transitionRun(ctx, runId, run.status, RunState.queued, Reason.resumed, 'engine:approval-sweep'),
    );
  return ctx.store.getRun(runId);
}
