import { traceIdOfParent, type Engine, type TaskRecord, type TransitionRecord } from '../../engine/index.ts';
import type { CheckRunAction, CheckRunWrite } from './check-runs.ts';

export const RUN_CHECK_PREFIX = 'maestro / run';
export const RETRY_ACTION = 'retry_failed';
export const CANCEL_ACTION = 'cancel';

const RETRY: CheckRunAction = {
  label: 'Retry failed',
  description: 'Re-run the failed tasks of this run',
  identifier: RETRY_ACTION,
};
const CANCEL: CheckRunAction = { label: 'Cancel', description: 'Cancel this run', identifier: CANCEL_ACTION };

const CONCLUSIONS: Record<string, CheckRunWrite['conclusion']> = {
  succeeded: 'success',
  failed: 'failure',
  cancelled: 'cancelled',
  timed_out: 'timed_out',
};

/**
 * Why each blocked task was blocked: the reasons the policy gave (stored as the transition's
 * detail), so the author sees what to change without opening the logs.
 */
function policyDenials(tasks: readonly TaskRecord[], transitions: readonly TransitionRecord[]): string[] {
  const lines: string[] = [];
  for (const task of tasks) {
    if (task.state !== 'blocked_by_policy') continue;
    const last = transitions.filter((t) => t.taskId === task.taskId && t.to === 'blocked_by_policy').at(-1);
    const verdict = task.reason === 'policy_unavailable' ? 'policy unavailable' : 'denied by policy';
    lines.push(`- \`${task.taskId}\` ${verdict}: ${last?.detail ?? 'no reason recorded'}`);
  }
  return lines;
}

export function runExternalId(runId: string): string {
  return `run:${runId}`;
}

/** The run's check run from the engine's stored state: task table, receipts, buttons. */
export async function renderRun(
  engine: Pick<Engine, 'store' | 'policyOff'>,
  runId: string,
  headSha: string,
): Promise<CheckRunWrite> {
  const run = await engine.store.getRun(runId);
  const tasks = await engine.store.listTasks(runId);
  const transitions = tasks.some((t) => t.state === 'blocked_by_policy')
    ? await engine.store.listTransitions(runId)
    : [];
  const attempts = await engine.store.listAttempts(runId);
  const receipts = await engine.store.listReceipts(runId);
  const terminal = run.status in CONCLUSIONS;
  const traceId = traceIdOfParent(run.traceParent);
  const status: CheckRunWrite['status'] = terminal
    ? 'completed'
    : run.status === 'running' || run.status === 'waiting_for_approval'
      ? 'in_progress'
      : 'queued';
  // Parked on approval tasks: say what releases them (gate/task-approvals.ts).
  const waiting = tasks.filter((t) => t.state === 'waiting_for_approval').map((t) => `\`${t.taskId}\``);
  const rows = tasks.map((task) => {
    const mine = attempts.filter((a) => a.taskId === task.taskId);
    const duration = mine.reduce((sum, a) => sum + ((a.finishedAt ?? a.startedAt) - a.startedAt), 0);
    const hits = mine.filter((a) => a.cacheHit).length + (task.state === 'cached' ? 1 : 0);
    return `| \`${task.taskId}\` | ${task.state} | ${task.attempts} | ${(duration / 1000).toFixed(2)} s | ${hits} |`;
  });
  const receiptRows = receipts.map((r) => `| \`${r.taskId}\` | ${r.attempt} | \`${r.digest}\` |`);
  const summary = [
    `Run \`${run.id}\` of **${run.namespace}/${run.workflow}** (${run.trigger} by @${run.actor}) is **${run.status}** (${run.reason}).`,
    '',
    `- plan digest: \`${run.planDigest}\``,
    run.approvalDigest
      ? `- approval attestation: \`${run.approvalDigest}\``
      : '- approval attestation: not required',
    engine.policyOff
      ? `- policy: **off** (${engine.policyOff.source}): tasks ran without a policy decision`
      : '- policy: asked before every task',
    // Where to find the run's spans (its delivery, compile, gate, policy decisions, attempts).
    ...(traceId ? [`- trace id: \`${traceId}\``] : []),
    ...policyDenials(tasks, transitions),
    ...(waiting.length > 0
      ? [
          `- waiting for approval: ${waiting.join(', ')}; an approving review of this commit by a reviewer the task allows (a writer, not the author or a pusher of this commit) releases it`,
        ]
      : []),
    '',
    '| task | state | attempts | duration | cache hits |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    receiptRows.length > 0
      ? '**Receipts**\n\n| task | attempt | digest |\n|---|---|---|\n' + receiptRows.join('\n')
      : '',
  ].join('\n');
  const failed = tasks.some((t) =>
    ['failed', 'timed_out', 'cancelled', 'blocked_by_policy'].includes(t.state),
  );
  const actions = terminal ? (failed ? [RETRY] : []) : [CANCEL];
  return {
    name: `${RUN_CHECK_PREFIX} ${run.namespace}/${run.workflow}`,
    headSha,
    externalId: runExternalId(runId),
    status,
    ...(terminal ? { conclusion: CONCLUSIONS[run.status] } : {}),
    title: `${run.workflow}: ${run.status}`,
    summary,
    actions,
  };
}
