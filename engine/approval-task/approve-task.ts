/**
 * The commands on an approval task, applied to a run nobody executes (a waiting run holds no
 * process and no lease): a reviewer's approval (checked, signed, stored once, logged), and the
 * settling that follows it: once a task's count is met it succeeds, and once no approval task of
 * the run still waits the run goes back to `queued`, where any worker claims it and carries on.
 * Each step is a compare-and-set on the stored state, so concurrent approvals, sweeps and
 * replicas converge, and a crash between steps is finished by the next sweep (approval-sweep.ts).
 */
import { NotFoundError, Reason, RunState, TaskState } from '../../core/index.ts';
import { signTaskApproval } from '../../provenance/index.ts';
import type { EngineContext } from '../context.ts';
import { StaleStateError } from '../errors.ts';
import type { PlanTask } from '../../core/index.ts';
import type { RunRecord, TaskApprovalRecord, TaskRecord } from '../store/store.ts';
import { transitionRun, transitionTask } from '../transitions.ts';
import { bindingOf, countTaskApprovals, type TaskApprovalCount } from './approval-count.ts';
import {
  ApprovalKeyMissingError,
  ApproverIsAuthorError,
  ApproverNotAllowedError,
  TaskNotWaitingError,
} from './approval-errors.ts';
import { allowedNow, approvalSpecOf, describeAllowed, isAllowed, isApprovalTask } from './approval-spec.ts';
import type { ApprovalKeys, TaskApprovalRequest } from './approval-types.ts';
import { recordApprovalSpan } from './approval-span.ts';

type Ctx = Pick<EngineContext, 'store' | 'clock' | 'emit' | 'logger' | 'tracer'>;

export function keysOf(keys: ApprovalKeys | undefined): ApprovalKeys & { publicKeyPem: string } {
  const pem = keys?.signer.publicKeyPem;
  if (!keys || !pem) throw new ApprovalKeyMissingError();
  return { ...keys, publicKeyPem: pem };
}

/** A run parked by an approval task (it ran before), as opposed to a run gated before it starts. */
export function isParked(run: RunRecord): boolean {
  return run.status === RunState.waitingForApproval && run.startedAt !== null;
}

/** The approval task `taskId` of `run`, which must be waiting for approvals (tasks as just read). */
function waitingTask(run: RunRecord, tasks: readonly TaskRecord[], taskId: string): PlanTask {
  const plan = run.plan.tasks.find((t) => t.id === taskId);
  if (!plan || !isApprovalTask(plan)) throw new TaskNotWaitingError(run.id, taskId, 'not an approval task');
  const task = tasks.find((t) => t.taskId === taskId);
  // As the store's getTask: a plan task the store has no row for is not found.
  if (!task) throw new NotFoundError('task', `${run.id}/${taskId}`);
  if (task.state !== TaskState.waitingForApproval || !isParked(run))
    throw new TaskNotWaitingError(run.id, taskId, task.state);
  return plan;
}

/** Engine.approveTask: records `request.approver`'s approval once, then settles the run. */
export async function approveTask(
  ctx: Ctx,
  approvalKeys: ApprovalKeys | undefined,
  runId: string,
  taskId: string,
  request: TaskApprovalRequest,
): Promise<{ recorded: boolean; count: TaskApprovalCount; run: RunRecord }> {
  const keys = keysOf(approvalKeys);
  const run = await ctx.store.getRun(runId);
  const tasks = await ctx.store.listTasks(runId);
  const plan = waitingTask(run, tasks, taskId);
  const approver = request.approver;
  // Fail closed on the surface's word too: the run's author never approves its own gate.
  if (approver.toLowerCase() === run.actor.toLowerCase()) throw new ApproverIsAuthorError(approver, runId);
  const spec = approvalSpecOf(plan);
  const before = await ctx.store.listTaskApprovals(runId);
  const ofTask = before.filter((r) => r.taskId === taskId);
  const allowed = allowedNow(
    spec,
    ofTask.some((r) => r.kind === 'escalation'),
  );
  if (!isAllowed(allowed, approver, request.teams ?? []))
    throw new ApproverNotAllowedError(approver, taskId, describeAllowed(allowed));
  const mine = ofTask.some(
    (r) => r.kind === 'approval' && r.approver.toLowerCase() === approver.toLowerCase(),
  );
  const recorded = mine ? false : await record(ctx, keys, run, taskId, request);
  // Read again after our insert (nothing changed when nothing was recorded): of two approvers
  // inserting at once, the one whose read comes last sees both rows and settles the run.
  const rows = recorded ? await ctx.store.listTaskApprovals(runId) : before;
  const { counts } = await settleParked(ctx, keys, run, tasks, rows, `${request.via}:${approver}`);
  const count = counts.get(taskId) ?? countTaskApprovals(run, taskId, spec, rows, keys.publicKeyPem);
  return { recorded, count, run: await ctx.store.getRun(runId) };
}

/** Engine.countTaskApprovals: an approval task's approvals as they stand (verified rows only). */
export async function countApprovalsOfTask(
  ctx: Pick<Ctx, 'store'>,
  approvalKeys: ApprovalKeys | undefined,
  runId: string,
  taskId: string,
): Promise<TaskApprovalCount> {
  const run = await ctx.store.getRun(runId);
  const plan = run.plan.tasks.find((t) => t.id === taskId);
  if (!plan || !isApprovalTask(plan)) throw new TaskNotWaitingError(runId, taskId, 'not an approval task');
  const { publicKeyPem } = keysOf(approvalKeys);
  return countTaskApprovals(
    run,
    taskId,
    approvalSpecOf(plan),
    await ctx.store.listTaskApprovals(runId, taskId),
    publicKeyPem,
  );
}

async function record(
  ctx: Ctx,
  keys: ApprovalKeys,
  run: RunRecord,
  taskId: string,
  request: TaskApprovalRequest,
): Promise<boolean> {
  const now = ctx.clock.now();
  const signed = await signTaskApproval(
    {
      ...bindingOf(run, taskId),
      approver: request.approver,
      approvedAt: new Date(now).toISOString(),
      via: request.via,
      teams: [...(request.teams ?? [])],
      ...(request.review ? { review: request.review } : {}),
    },
    keys.signer,
  );
  const inserted = await ctx.store.putTaskApproval({
    runId: run.id,
    taskId,
    kind: 'approval',
    approver: request.approver,
    digest: signed.digest,
    bundle: signed.bundle,
    via: request.via,
    createdAt: now,
  });
  if (!inserted) return false;
  ctx.logger.info({ runId: run.id, taskId, approver: request.approver, via: request.via }, 'task approved');
  await keys.log?.append({
    decisionId: `approval:${signed.digest}`,
    time: new Date(now).toISOString(),
    runId: run.id,
    taskId,
    attempt: 0,
    deliveryId: null,
    inputDigest: signed.digest,
    bundleDigest: run.planDigest,
    allow: true,
    unavailable: false,
    reasons: [`approval by ${request.approver} via ${request.via}`],
  });
  return true;
}

/**
 * Settles a parked run: each waiting approval task whose count is met succeeds; when none waits
 * any more the run goes back to `queued`. Losing a compare-and-set to another settler is fine.
 * True when this call is the one that sent the run back to queued.
 */
export async function settleRun(
  ctx: Ctx,
  keys: ApprovalKeys & { publicKeyPem: string },
  runId: string,
  by: string,
): Promise<boolean> {
  const run = await ctx.store.getRun(runId);
  if (!isParked(run)) return false;
  const tasks = await ctx.store.listTasks(runId);
  const rows = await ctx.store.listTaskApprovals(runId);
  return (await settleParked(ctx, keys, run, tasks, rows, by)).moved;
}

/**
 * settleRun on what the caller has just read: counts each waiting approval task once (each row's
 * signature verified once) and returns those counts. Every move is a compare-and-set on the state
 * read, so a stale read loses to whoever moved the run first.
 */
async function settleParked(
  ctx: Ctx,
  keys: ApprovalKeys & { publicKeyPem: string },
  run: RunRecord,
  tasks: readonly TaskRecord[],
  rows: readonly TaskApprovalRecord[],
  by: string,
): Promise<{ counts: Map<string, TaskApprovalCount>; moved: boolean }> {
  const counts = new Map<string, TaskApprovalCount>();
  if (!isParked(run)) return { counts, moved: false };
  let waiting = 0;
  for (const t of tasks) {
    const plan = run.plan.tasks.find((p) => p.id === t.taskId);
    if (t.state !== TaskState.waitingForApproval || !plan) continue;
    const count = isApprovalTask(plan)
      ? countTaskApprovals(run, t.taskId, approvalSpecOf(plan), rows, keys.publicKeyPem)
      : undefined;
    if (count) counts.set(t.taskId, count);
    if (!count?.satisfied) {
      waiting++;
      continue;
    }
    const names = count.approvers.map((a) => a.approver).join(', ');
    const won = await cas(() =>
      transitionTask(
        ctx,
        t,
        TaskState.succeeded,
        Reason.approvalGranted,
        by,
        undefined,
        `approved by ${names}`,
      ),
    );
    // Only the settler whose compare-and-set won ends the gate's span: one span per gate.
    if (won)
      recordApprovalSpan(ctx.tracer, run, t, {
        outcome: 'granted',
        required: count.required,
        received: count.approvers.length,
        escalated: count.escalatedAt !== undefined,
        at: ctx.clock.now(),
      });
  }
  // Back to queued: approved, or (a timeout failed a task) to be closed by whoever claims it.
  const rejected = tasks.some((t) => t.state === TaskState.failed && t.reason === Reason.approvalTimedOut);
  const reason = rejected ? Reason.resumed : Reason.approvalGranted;
  const moved =
    waiting === 0 && (await cas(() => transitionRun(ctx, run.id, run.status, RunState.queued, reason, by)));
  return { counts, moved };
}

/** A compare-and-set another settler (or a cancel) may win: false then, with nothing to do. */
export async function cas(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (!(error instanceof StaleStateError)) throw error;
    return false;
  }
}
