/**
 * The first phase of an attempt, before anything is stored: the task resolved, the policy's
 * decision on it, the run's source exported, the workspace and received artifacts staged, and the cache
 * key over all of them. A step that cannot be done fails the task (runner_error) with the reason
 * in its log; nothing has started, so there is no attempt to close.
 */
import { Reason, TaskState, describeError, sha256Digest } from '../core/index.ts';
import { createRedactor } from '../core/index.ts';
import { claimAttemptDirs, releaseAttemptDirs, stageAttemptDirs, type AttemptDirs } from './attempt-dirs.ts';
import type { AttemptHost, AttemptInfo } from './attempt-host.ts';
import { keyedSecretsDigest } from './cache-secret.ts';
import { cacheKeyOf, resolveTask, type ResolvedTask } from './dispatch.ts';
import { checkBudget } from './budget-guard.ts';
import { checkPolicy } from './policy-check.ts';
import type { AttemptPlacement } from './placement/choose-placement.ts';

/** The attempt's info, or undefined when the task was blocked or failed before it could start. */
export async function prepareAttempt(
  exec: AttemptHost,
  taskId: string,
  attempt: number,
  placement?: AttemptPlacement,
): Promise<AttemptInfo | undefined> {
  const { ctx } = exec;
  const plan = exec.planTask(taskId);
  // Resolved once, before policy: the hosts policy checks are those of the very values the task
  // receives (a URL from a param, a secret or an output), never of a second resolution.
  let resolved: ResolvedTask | undefined;
  let unresolved: unknown;
  try {
    resolved = resolveTask(plan, await exec.dispatchContext(taskId));
  } catch (error) {
    unresolved = error;
  }
  // The folders are claimed while the policy decides (folders of the data dir only, removed
  // again when the attempt does not start): the claim's round trips through the thread pool were
  // the longest part of a hand-off, after the decision (bench/run/RESULTS.md, 2026-12-04).
  const claimed = claimDirs(exec, taskId, attempt);
  // A task that cannot be resolved is still asked about first (its hosts unknown), so a denial
  // stays a denial; allowed, it fails below on the resolution error.
  const decision = await checkPolicy(exec, taskId, attempt, resolved?.with);
  const cost = decision.allowed ? await checkBudget(exec, taskId, attempt, placement) : undefined;
  const got = await claimed;
  if (!decision.allowed || !cost || !resolved || !('dirs' in got)) {
    if ('dirs' in got) await releaseAttemptDirs(got.dirs);
    if (!decision.allowed || !cost) return undefined;
  }
  const fail = async (what: string, error: unknown): Promise<undefined> => {
    void exec.taskLog(taskId, attempt, 'system', `cannot ${what}: ${describeError(error)}`);
    const by = `engine:${ctx.owner}`;
    await exec.serial(() =>
      exec.transitionTask(taskId, TaskState.failed, Reason.runnerError, by, undefined, describeError(error)),
    );
    return undefined;
  };

  if (!resolved) return await fail('dispatch', unresolved);
  if (!('dirs' in got)) return await fail(got.what, got.error);
  const redact = createRedactor([...resolved.redact, ...Object.values(ctx.secrets)]);
  const attemptId = `a-${sha256Digest(`${exec.runId}/${taskId}/${attempt}`).slice(7, 31)}`;
  // The workspace and the artifacts received come first: both count in the cache key.
  let dirs: AttemptDirs;
  try {
    dirs = await stageAttemptDirs(exec, plan, got.dirs);
  } catch (error) {
    await releaseAttemptDirs(got.dirs);
    return await fail('prepare the workspace', error);
  }
  return {
    attempt,
    attemptId,
    ...dirs,
    startedAt: ctx.clock.now(),
    cacheKey: plan.cache.enabled
      ? cacheKeyOf(plan, resolved, redact, {
          source: exec.run.source,
          trust: exec.run.trust,
          secretsDigest: keyedSecretsDigest(ctx.cacheSecret, resolved.secrets),
          artifacts: dirs.inputArtifacts,
        })
      : null,
    decisionIds: decision.decisionIds,
    cost,
    ...(placement ? { placement } : {}),
    ...(decision.egressAllowedHosts ? { egressAllowedHosts: decision.egressAllowedHosts } : {}),
    resolved,
    redact,
  };
}

type Claimed = { dirs: AttemptDirs } | { what: string; error: unknown };

/** The run's source exported and the attempt's folders claimed over it; never rejects. */
async function claimDirs(exec: AttemptHost, taskId: string, attempt: number): Promise<Claimed> {
  let sourceDir: string | undefined;
  try {
    sourceDir = await exec.sourceExport();
  } catch (error) {
    return { what: 'prepare the source', error };
  }
  try {
    return { dirs: await claimAttemptDirs(exec, exec.planTask(taskId), attempt, sourceDir) };
  } catch (error) {
    return { what: 'prepare the workspace', error };
  }
}
