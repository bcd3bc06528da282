/**
 * An attempt's three directories, beside each other under the run's work folder:
 *   `<task>.<n>/`           its workspace (cwd): the run's source layered for it, writable
 *   `<task>.<n>.in/`        $MAESTRO_ARTIFACTS: what the tasks it needs kept, read-only
 *   `<task>.<n>.artifacts/` what it keeps (its declared `artifacts`), for receipts and the cache
 * The last two sit outside the workspace so no file of the repository can collide with them.
 */
import { readdirSync } from 'node:fs';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AttemptOutcome, type AttemptResult, type DigestedFile, type PlanTask } from '../core/index.ts';
import {
  collectArtifacts,
  contentStoreDir,
  stageInputs,
  strayInputs,
  type ProducedArtifacts,
} from './artifact-flow.ts';
import { receiveArtifacts, storeOf } from './artifact-transfer.ts';
import type { AttemptHost, AttemptInfo } from './attempt-host.ts';
import type { AsyncStore } from './store/async-store.ts';
import { layerExport } from './workspace-layer.ts';
import { placeCatalogTask } from './catalog-task.ts';

export interface AttemptDirs {
  workDir: string;
  inputsDir: string;
  artifactsDir: string;
  inputArtifacts: DigestedFile[];
}

function safeSegment(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/**
 * The artifacts directory of each need's latest successful attempt, for the needs that keep any,
 * in the task's `needs` order: the order counts in its cache key, so it must not be the order the
 * needs happened to start in (that made two runs of the same inputs miss each other's entry).
 */
export async function producersOf(
  store: AsyncStore,
  runId: string,
  plan: PlanTask,
  planTask: (id: string) => PlanTask,
): Promise<ProducedArtifacts[]> {
  const producers: ProducedArtifacts[] = [];
  // Only needs that declare artifacts cost a look, at their own attempts (not the whole run's).
  for (const need of plan.needs) {
    if ((planTask(need).artifacts?.length ?? 0) === 0) continue;
    const kept = (await store.listAttempts(runId, need))
      .filter((a) => a.outcome === 'succeeded' || a.outcome === 'cached')
      .at(-1);
    if (kept) producers.push({ taskId: need, dir: kept.artifactsDir });
  }
  return producers;
}

/**
 * Makes `<base>.in` and `<base>` at once, then layers the source into `<base>`; false when either
 * name is taken (the one made here is removed again, empty). On the thread pool, not the event
 * loop every other run shares: a synchronous mkdir on ext4 cost the main thread 30–100 µs, a
 * queued one 10–16 µs (bench/run/RESULTS.md). Both folders at once, not one after the other: a
 * round trip through the pool fewer on every hand-off (bench/run/RESULTS.md, 2026-12-04).
 */
export async function claim(base: string, sourceDir: string | undefined): Promise<boolean> {
  const made = await Promise.allSettled([mkdir(`${base}.in`), mkdir(base)]);
  const failed = made.find(
    (m): m is PromiseRejectedResult =>
      m.status === 'rejected' && (m.reason as NodeJS.ErrnoException).code !== 'EEXIST',
  );
  const taken = made.some((m) => m.status === 'rejected');
  if (taken || failed) {
    // Ours and empty: undone, so a leftover of a crash keeps its name and ours takes the next.
    const [inputs, work] = made;
    await Promise.all([
      inputs?.status === 'fulfilled' ? rmdir(`${base}.in`) : undefined,
      work?.status === 'fulfilled' ? rmdir(base) : undefined,
    ]);
    if (failed) throw failed.reason;
    return false;
  }
  if (sourceDir) await layerExport(sourceDir, base, { made: true });
  return true;
}

/**
 * The attempt's folders, claimed under the first free name (see `claim`), with the run's source
 * layered into the workspace. Nothing is received yet (`stageAttemptDirs`): this part may run
 * while the policy decides, since it only makes folders of the data dir, which `releaseAttemptDirs`
 * removes again when the attempt is not started.
 */
export async function claimAttemptDirs(
  exec: AttemptHost,
  plan: PlanTask,
  attempt: number,
  sourceDir: string | undefined,
): Promise<AttemptDirs> {
  const name = join(exec.ctx.dataDir, 'work', exec.runId, `${safeSegment(plan.id)}.${attempt}`);
  // A crash between preparing an attempt and storing it leaves its directories behind under the
  // number the next preparation gets again (nothing was stored): that one takes a free name
  // beside them (the attempt row records its workDir). Found by the replica kill drill.
  // Claimed by creating it (one mkdir, not two existence checks first): EEXIST means taken.
  let base = name;
  for (let k = 2; !(await claim(base, sourceDir)); k++) base = `${name}~${k}`;
  return { workDir: base, inputsDir: `${base}.in`, artifactsDir: `${base}.artifacts`, inputArtifacts: [] };
}

/** Removes the folders of an attempt that will not start (denied, or failed before its start). */
export async function releaseAttemptDirs(dirs: AttemptDirs): Promise<void> {
  await Promise.all(
    [dirs.workDir, dirs.inputsDir].map((dir) => rm(dir, { recursive: true, force: true }).catch(() => {})),
  );
}

/**
 * Completes claimed folders once the policy has allowed the attempt: a locked catalog task's
 * code, and the needs' artifacts, from the operator's object store for a task on a runner that
 * uses one, else from the data dir. After the decision, not beside it: a transfer from a bucket
 * is work a denied attempt must not cause.
 */
export async function stageAttemptDirs(
  exec: AttemptHost,
  plan: PlanTask,
  dirs: AttemptDirs,
): Promise<AttemptDirs> {
  // A locked catalog task's code joins its workspace, checked against the plan's digest first.
  await placeCatalogTask(exec.ctx.source, plan, dirs.workDir, exec.runId, exec.ctx.catalogTaskDigest);
  const producers = await producersOf(exec.ctx.store, exec.runId, plan, (id) => exec.planTask(id));
  const store = storeOf(exec.ctx, plan);
  const inputArtifacts = store
    ? await receiveArtifacts(store, producers, dirs.inputsDir)
    : stageInputs(producers, dirs.inputsDir);
  return { ...dirs, inputArtifacts };
}

/** A cache hit's artifacts, linked from the content store into the new attempt's directory. */
export function reuseArtifacts(exec: AttemptHost, from: string, info: AttemptInfo): void {
  let names: string[];
  try {
    names = readdirSync(from);
  } catch {
    return;
  }
  collectArtifacts(from, names, info.artifactsDir, contentStoreDir(exec.ctx.dataDir), () => {});
}

/**
 * Keeps the task's declared artifacts once it has ended. A succeeded attempt that lacks one of
 * them fails (its dependants would start without what they need); symlinks are not kept.
 */
export function keepArtifacts(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  result: AttemptResult,
): AttemptResult {
  const plan = exec.planTask(taskId);
  const staged = new Set(info.inputArtifacts.map((f) => f.path.split('/')[0]!));
  for (const name of strayInputs(info.inputsDir, staged))
    void exec.taskLog(
      taskId,
      info.attempt,
      'system',
      `${name} was written to $MAESTRO_ARTIFACTS, which holds the artifacts this task receives: it is not kept (declare artifacts: [paths] of the workspace instead)`,
    );
  const declared = plan.artifacts ?? [];
  if (declared.length === 0) return result;
  const { missing } = collectArtifacts(
    info.workDir,
    declared,
    info.artifactsDir,
    contentStoreDir(exec.ctx.dataDir),
    (skipped) =>
      void exec.taskLog(
        taskId,
        info.attempt,
        'system',
        `artifact ${skipped.path} is a ${skipped.kind}, not a regular file or folder: not kept`,
      ),
  );
  if (missing.length === 0 || result.outcome !== AttemptOutcome.succeeded) return result;
  const message = `declared artifact${missing.length > 1 ? 's' : ''} not found in the workspace: ${missing.join(', ')}`;
  void exec.taskLog(taskId, info.attempt, 'system', message);
  return { ...result, outcome: AttemptOutcome.failed, reason: 'artifact_missing', message, retryable: false };
}
