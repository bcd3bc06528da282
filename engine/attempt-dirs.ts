/**
 * An attempt's three directories, beside each other under the run's work folder:
 *   `<task>.<n>/`           its workspace (cwd): the run's source layered for it, writable
 *   `<task>.<n>.in/`        $MAESTRO_ARTIFACTS: what the tasks it needs kept, read-only
 *   `<task>.<n>.artifacts/` what it keeps (its declared `artifacts`), for receipts and the cache
 * The last two sit outside the workspace so no file of the repository can collide with them.
 */
import { readdirSync } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
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
 * Makes `<base>.in` then `<base>` (over the source, if any); false when either is taken. All on
 * the thread pool, not the event loop every other run shares: a synchronous mkdir on ext4 cost
 * the main thread 30–100 µs, a queued one 10–16 µs (bench/run/RESULTS.md).
 */
export async function claim(base: string, sourceDir: string | undefined): Promise<boolean> {
  try {
    await mkdir(`${base}.in`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    if (sourceDir) await layerExport(sourceDir, base);
    else await mkdir(base);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await rmdir(`${base}.in`); // ours, and empty: the name is taken by a leftover workspace
    return false;
  }
}

/**
 * Creates the workspace (over the source export, if any) and stages the needs' artifacts: from
 * the operator's object store for a task on a runner that uses one, else from the data dir.
 */
export async function prepareAttemptDirs(
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
  const dirs: AttemptDirs = {
    workDir: base,
    inputsDir: `${base}.in`,
    artifactsDir: `${base}.artifacts`,
    inputArtifacts: [],
  };
  // A locked catalog task's code joins its workspace, checked against the plan's digest first.
  await placeCatalogTask(exec.ctx.source, plan, base, exec.runId, exec.ctx.catalogTaskDigest);
  const producers = await producersOf(exec.ctx.store, exec.runId, plan, (id) => exec.planTask(id));
  const store = storeOf(exec.ctx, plan);
  dirs.inputArtifacts = store
    ? await receiveArtifacts(store, producers, dirs.inputsDir)
    : stageInputs(producers, dirs.inputsDir);
  return dirs;
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
