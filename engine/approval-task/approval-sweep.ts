/**
 * The approval tasks' durable clock and recovery, run on a timer by every process that serves
 * a role (approval-sweeper.ts; the App's runs its own, which executes the App's runs it sent
 * back): for every run parked by an approval task it
 * applies timeouts that have passed (`onTimeout: reject` fails the task; `escalate` records an
 * escalation once, which widens the reviewers to `escalateTo` and starts a second window of the
 * same length, after which the task is rejected), and settles the run (approval-task.ts), which
 * also finishes a settle a crash interrupted. Deadlines come from stored times only (the task's
 * move to waiting_for_approval, the escalation row), so a restart, a kill -9 or another replica
 * sees the same deadline. Why a sweep and not a timer: a waiting run holds no process; the seam
 * for a store-level "not before T" timer is `dueTimeouts`, which such a timer would replace.
 *
 * Exactly once across replicas, in two layers: a sweep takes the store's named lease
 * `sweep:approvals` (a replica that finds it held by another skips its turn), and every effect
 * (a rejection's decision, log line and count; an escalation; a run sent back to queued) is made
 * only by the sweep whose compare-and-set on the stored state won, so two sweeps that do overlap
 * (a lease that ran out under a slow sweep, clocks apart) still reject once.
 */
import { Reason, TaskState } from '../../core/index.ts';
import type { EngineContext } from '../context.ts';
import type { RunRecord, TaskApprovalRecord, TaskRecord } from '../store/store.ts';
import { transitionRun, transitionTask } from '../transitions.ts';
import { RunState } from '../../core/index.ts';
import { LeaseLostError } from '../errors.ts';
import { approvalSpecOf, isApprovalTask, describeAllowed, type ApprovalSpec } from './approval-spec.ts';
import { cas, isParked, keysOf, settleRun } from './approve-task.ts';
import type { ApprovalKeys } from './approval-types.ts';
import { countTaskApprovals } from './approval-count.ts';
import { recordApprovalSpan } from './approval-span.ts';

type Ctx = Pick<EngineContext, 'store' | 'clock' | 'emit' | 'logger' | 'owner' | 'leaseMs' | 'tracer'>;
const BY = 'engine:approval-timeout';
/** The store's named lease one sweep at a time holds, whichever replica and role runs it. */
export const SWEEP_LEASE = 'sweep:approvals';

export interface SweepResult {
  /** Runs this sweep sent back to queued (its compare-and-set won). */
  settled: string[];
  escalated: string[];
  /** `run/task` this sweep rejected (its compare-and-set won): each appears in one sweep only. */
  rejected: string[];
  /**
   * Of `settled`, the runs sent back to queued under a run lease `reserve` took: the caller
   * executes each (no worker can claim it first), as after `approveTask` with `reserve`.
   */
  reserved: string[];
  /** Another sweeper held `sweep:approvals`: this one did nothing. */
  skipped: boolean;
}

export interface SweepOptions {
  /**
   * Asked for a run in which this sweep has just rejected a task: take the run's lease for the
   * engine that will execute it and return its release, or undefined to leave the run to any
   * worker. The App's sweep takes its own runs so that it reports their check runs.
   */
  reserve?: (run: RunRecord) => Promise<(() => Promise<void>) | undefined>;
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

export async function sweepApprovals(
  ctx: Ctx,
  approvalKeys: ApprovalKeys | undefined,
  options: SweepOptions = {},
): Promise<SweepResult> {
  const result: SweepResult = { settled: [], escalated: [], rejected: [], reserved: [], skipped: false };
  const lease = await takeSweepLease(ctx);
  if (!lease) return { ...result, skipped: true };
  try {
    const runs = (await ctx.store.listRuns({ status: [RunState.waitingForApproval] })).filter(isParked);
    for (const run of runs) await sweepRun(ctx, approvalKeys, run, options, result);
  } finally {
    await ctx.store.releaseLease(SWEEP_LEASE, ctx.owner, lease.token).catch(() => undefined);
  }
  return result;
}

/** The sweep's lease, or undefined while another sweeper holds it (its turn is skipped). */
async function takeSweepLease(ctx: Ctx): Promise<{ token: number } | undefined> {
  try {
    return await ctx.store.acquireLease(SWEEP_LEASE, ctx.owner, ctx.clock.now(), ctx.leaseMs);
  } catch (error) {
    if (error instanceof LeaseLostError) return undefined;
    throw error;
  }
}

async function sweepRun(
  ctx: Ctx,
  approvalKeys: ApprovalKeys | undefined,
  run: RunRecord,
  options: SweepOptions,
  result: SweepResult,
): Promise<void> {
  const now = ctx.clock.now();
  const tasks = await ctx.store.listTasks(run.id);
  const rows = await ctx.store.listTaskApprovals(run.id);
  let rejectedHere = false;
  for (const d of dueTimeouts(run, tasks, rows, now)) {
    const won =
      d.action === 'escalate'
        ? await escalate(ctx, approvalKeys, run, d, now)
        : await reject(ctx, approvalKeys, run, d, now, rows);
    if (!won) continue;
    rejectedHere ||= d.action === 'reject';
    result[d.action === 'escalate' ? 'escalated' : 'rejected'].push(`${run.id}/${d.task.taskId}`);
  }
  // Still parked (the run itself is moved only below), so no worker can claim it before this.
  const release = rejectedHere && options.reserve ? await options.reserve(run) : undefined;
  let moved = false;
  try {
    // Settling counts signatures, so it needs the key; without it only timeouts apply, and a run
    // whose approval tasks all timed out still goes back to queued to be closed.
    moved = approvalKeys?.signer.publicKeyPem
      ? await settleRun(ctx, keysOf(approvalKeys), run.id, 'engine:approval-sweep')
      : await settleWithoutKey(ctx, run.id);
  } finally {
    if (release && !moved) await release();
  }
  if (!moved) return;
  result.settled.push(run.id);
  if (release) result.reserved.push(run.id);
}

/** True when this sweep recorded the escalation (its row was new). */
async function escalate(
  ctx: Ctx,
  keys: ApprovalKeys | undefined,
  run: RunRecord,
  d: Due,
  now: number,
): Promise<boolean> {
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
  if (!inserted) return false;
  const to = describeAllowed({ reviewers: d.spec.escalateTo.reviewers, teams: d.spec.escalateTo.teams });
  const text = `approval of ${d.task.taskId} timed out: escalated to ${to}; rejected if still unapproved in ${d.spec.timeoutMs} ms`;
  await systemLine(ctx, run, d, now, text);
  await logDecision(keys, run, d, now, `approval escalated to ${to}`);
  return true;
}

/**
 * True when this sweep rejected the task: only the sweep whose compare-and-set on the task's
 * state won logs the rejection and records its decision (the decision id is unique, so a second
 * append would fail that sweep).
 */
async function reject(
  ctx: Ctx,
  keys: ApprovalKeys | undefined,
  run: RunRecord,
  d: Due,
  now: number,
  rows: readonly TaskApprovalRecord[],
): Promise<boolean> {
  const detail = `no ${d.spec.approvals} approval(s) within the timeout`;
  const won = await cas(() =>
    transitionTask(ctx, d.task, TaskState.failed, Reason.approvalTimedOut, BY, undefined, detail),
  );
  if (!won) return false;
  // Verified approvals only (without the key none can be verified, so none counted).
  const pem = keys?.signer.publicKeyPem;
  const counted = pem ? countTaskApprovals(run, d.task.taskId, d.spec, rows, pem).approvers.length : 0;
  recordApprovalSpan(ctx.tracer, run, d.task, {
    outcome: 'timed_out',
    required: d.spec.approvals,
    received: counted,
    escalated: rows.some((r) => r.kind === 'escalation' && r.taskId === d.task.taskId),
    at: now,
  });
  const text = `approval of ${d.task.taskId} timed out: rejected (${detail})`;
  await systemLine(ctx, run, d, now, text);
  await logDecision(keys, run, d, now, `approval timed out: ${detail}`);
  return true;
}

/** A line of the sweep's outcome: the process log, the run's stored log and its live events. */
async function systemLine(ctx: Ctx, run: RunRecord, d: Due, now: number, text: string): Promise<void> {
  ctx.logger.warn({ runId: run.id, taskId: d.task.taskId }, text);
  const line = {
    runId: run.id,
    taskId: d.task.taskId,
    attempt: null,
    stream: 'system' as const,
    time: now,
    text,
  };
  await ctx.store.appendLogs([line]);
  ctx.emit({ type: 'log', ...line });
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

/** True when this call sent the run back to queued. */
async function settleWithoutKey(ctx: Ctx, runId: string): Promise<boolean> {
  const run = await ctx.store.getRun(runId);
  const tasks = await ctx.store.listTasks(runId);
  if (!isParked(run) || tasks.some((t) => t.state === TaskState.waitingForApproval)) return false;
  return cas(() =>
    transitionRun(ctx, runId, run.status, RunState.queued, Reason.resumed, 'engine:approval-sweep'),
  );
}
