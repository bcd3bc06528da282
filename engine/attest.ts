/**
 * The provenance seam: evidence for every attempt (and the run) goes to the Attestor; the signed
 * receipt is stored. A failing attestor is logged on the run, never hides the task's result.
 */
import {
  Reason,
  describeError,
  isPolicyOff,
  type AttemptEvidence,
  type AttemptImage,
  type AttemptIsolation,
} from '../core/index.ts';
import { digestArtifacts } from './artifacts.ts';
import { inputDigests } from './dispatch.ts';
import type { AttemptHost, AttemptInfo } from './attempt-host.ts';
import { reattemptOrigin } from './reattempt.ts';
import { attemptCost } from './cost.ts';

export async function attestAttempt(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  end: {
    status: string;
    exitCode: number | null;
    finishedAt: number;
    outputs: Record<string, string>;
    cacheHit: boolean;
    isolation?: AttemptIsolation;
    image?: AttemptImage;
  },
): Promise<void> {
  const { attestor, store } = exec.ctx;
  if (!attestor) return;
  const plan = exec.planTask(taskId);
  const run = exec.run;
  const evidence: AttemptEvidence = {
    runId: exec.runId,
    taskId,
    attempt: info.attempt,
    attemptId: info.attemptId,
    planDigest: run.planDigest,
    workflow: { name: run.workflow, namespace: run.namespace },
    params: run.params,
    definitionDigest: plan.definitionDigest,
    runner: plan.runner,
    inputDigests: inputDigests(info.resolved, info.redact),
    outputs: end.outputs,
    // Symlinks and special files are not artifacts (engine/artifacts.ts): say so in the task's log.
    artifacts: digestArtifacts(
      info.artifactsDir,
      (skipped) =>
        void exec.taskLog(
          taskId,
          info.attempt,
          'system',
          `artifact ${skipped.path} is a ${skipped.kind}, not a regular file: not digested, attested or cached`,
        ),
    ),
    status: end.status,
    exitCode: end.exitCode,
    startedAt: info.startedAt,
    finishedAt: end.finishedAt,
    cache: info.cacheKey ? { hit: end.cacheHit, key: info.cacheKey } : { hit: false },
    policy: isPolicyOff(exec.ctx.policy)
      ? { decisionIds: info.decisionIds, off: true }
      : { decisionIds: info.decisionIds },
  };
  if (info.resolved.codeDigest) evidence.codeDigest = info.resolved.codeDigest;
  if (run.approvalDigest) evidence.approvalDigest = run.approvalDigest;
  if (run.source) evidence.source = run.source;
  if (end.isolation) evidence.isolation = end.isolation;
  if (end.image) evidence.image = end.image;
  if (info.inputArtifacts.length > 0) evidence.inputArtifacts = info.inputArtifacts;
  try {
    // Read from the store (not the in-memory view): a receipt signed after a further crash names the same origin.
    if (info.attempt > 1) {
      const origin = reattemptOrigin(
        await store.listTransitions(exec.runId, taskId),
        await store.listAttempts(exec.runId, taskId),
        info.attempt,
      );
      if (origin) evidence.reattemptOf = origin;
    }
    // As recorded when it started (the cluster it was created on), not today's config's answer:
    // the start stored it and kept it in `info` (a rebuilt info has it from the record).
    if (info.runnerPlacement) evidence.placement = info.runnerPlacement;
    evidence.cost = {
      currency: exec.ctx.prices.currency,
      pricePerHour: info.cost.pricePerHour,
      estimated: info.cost.estimatedCost,
      actual: attemptCost(info.cost.pricePerHour, info.startedAt, end.finishedAt),
    };
    const receipt = await attestor.attestAttempt(evidence);
    await store.putReceipt({
      runId: exec.runId,
      taskId,
      attempt: info.attempt,
      ...receipt,
      createdAt: exec.ctx.clock.now(),
    });
  } catch (error) {
    void exec.runLog(
      'system',
      `attestation of ${taskId} attempt ${info.attempt} failed: ${describeError(error)}`,
    );
  }
}

export async function attestRunEnd(exec: AttemptHost): Promise<void> {
  const { attestor, store, clock } = exec.ctx;
  if (!attestor) return;
  const run = exec.run;
  const attemptReceipts: Record<string, string> = {};
  // Every attempt's receipt is stored by now (the run closes after its deferred signing), and run
  // receipts are written only here, in the run's queue: one read serves both uses below.
  // A run attested again after a user retry gets a new row under a later attempt number. The
  // listed rows (one per attempt) are not kept: the run's memory peaks while its receipt is signed.
  let previous = 0;
  for (const r of await store.listReceiptDigests(exec.runId))
    if (r.taskId !== '') attemptReceipts[`${r.taskId}#${r.attempt}`] = r.digest;
    else previous++;
  try {
    const evidence = {
      runId: run.id,
      planDigest: run.planDigest,
      workflow: { name: run.workflow, namespace: run.namespace },
      params: run.params,
      status: run.status,
      startedAt: run.startedAt ?? run.createdAt,
      finishedAt: run.finishedAt ?? clock.now(),
      attemptReceipts,
      ...(isPolicyOff(exec.ctx.policy) ? { policyOff: true as const } : {}),
      ...(run.approvalDigest ? { approvalDigest: run.approvalDigest } : {}),
      ...(run.source ? { source: run.source } : {}),
    };
    const receipt = await attestor.attestRun(evidence);
    await store.putReceipt({
      runId: run.id,
      taskId: '',
      attempt: previous,
      ...receipt,
      createdAt: clock.now(),
    });
  } catch (error) {
    void exec.runLog(
      'system',
      `attestation of the run failed: ${describeError(error)} (${Reason.runnerError})`,
    );
  }
}
