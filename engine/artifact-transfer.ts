/**
 * Artifacts through the operator's ArtifactStore (artifact-store/), for tasks on the runners it
 * serves (the composition root names them: container, kubernetes). Local tasks keep today's
 * path: their artifacts stay in the data dir and dependants get hard links (artifact-flow.ts).
 *
 * A producer whose runner, or one of whose dependants' runners, uses the store puts each kept
 * object there by digest after it ends (and after a cache hit: the bucket may have been emptied
 * since). A dependant on such a runner receives its needs' artifacts from the store: each object
 * is got by the digest and size its producer's kept record says, and refused if the bytes differ
 * (ArtifactDigestMismatchError fails the attempt before it starts). The record (paths, digests)
 * stays in the data dir for receipts, the cache key and disclosure.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SpanStatusCode } from '@opentelemetry/api';
import {
  AttemptOutcome,
  describeError,
  type AttemptResult,
  type DigestedFile,
  type PlanTask,
  type ReceivedArtifact,
  type Runner,
} from '../core/index.ts';
import { sealFolders, type ProducedArtifacts } from './artifact-flow.ts';
import { digestArtifacts } from './artifacts.ts';
import type { ArtifactStore } from './artifact-store/artifact-store.ts';
import type { AttemptHost, AttemptInfo } from './attempt-host.ts';
import type { EngineContext } from './context.ts';

/** The store `plan`'s artifacts move through, or undefined when they stay in the data dir. */
export function storeOf(ctx: EngineContext, plan: PlanTask): ArtifactStore | undefined {
  const remote = ctx.artifacts;
  return remote && remote.runners.includes(plan.runner) ? remote.store : undefined;
}

/** Whether the producer's artifacts must be in the store: its runner or a dependant's uses it. */
function shipsTo(exec: AttemptHost, taskId: string): ArtifactStore | undefined {
  // No object store configured: nothing ships anywhere. Without this the loop below ran over
  // every task of the run for every attempt's end: quadratic, ~1 s of a 1,000-task run's profile.
  if (!exec.ctx.artifacts) return undefined;
  const own = storeOf(exec.ctx, exec.planTask(taskId));
  if (own) return own;
  for (const task of exec.allTasks()) {
    const plan = exec.planTask(task.taskId);
    if (plan.needs.includes(taskId) && storeOf(exec.ctx, plan)) return exec.ctx.artifacts!.store;
  }
  return undefined;
}

/**
 * Puts the attempt's kept artifacts into the store when they must be there; the message of the
 * failure (logged) when they could not be stored, else undefined.
 */
export async function putKeptArtifacts(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
): Promise<string | undefined> {
  if ((exec.planTask(taskId).artifacts?.length ?? 0) === 0) return undefined;
  const store = shipsTo(exec, taskId);
  if (!store) return undefined;
  const files = digestArtifacts(info.artifactsDir);
  const span = exec.ctx.tracer.startSpan('maestro.artifacts.put', {
    attributes: {
      'maestro.run.id': exec.runId,
      'maestro.task.id': taskId,
      'maestro.artifacts.count': files.length,
    },
  });
  try {
    for (const file of files) await store.put(file, join(info.artifactsDir, file.path));
    void exec.taskLog(
      taskId,
      info.attempt,
      'system',
      `${files.length} artifact file(s) stored in ${store.location}`,
    );
    return undefined;
  } catch (error) {
    const message = `cannot store the artifacts in ${store.location}: ${describeError(error)}`;
    void exec.taskLog(taskId, info.attempt, 'system', message);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    return message;
  } finally {
    span.end();
  }
}

/** A succeeded attempt whose artifacts cannot be stored fails: its dependants could not receive them. */
export async function shipArtifacts(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  result: AttemptResult,
): Promise<AttemptResult> {
  if (result.outcome !== AttemptOutcome.succeeded) return result;
  const message = await putKeptArtifacts(exec, taskId, info);
  if (message === undefined) return result;
  return {
    ...result,
    outcome: AttemptOutcome.failed,
    reason: 'artifact_store_error',
    message,
    retryable: true,
  };
}

/**
 * Places each producer's artifacts under `inputsDir/<task>/`, read-only, got from the store and
 * verified against the producer's kept digests; returns them as stageInputs does.
 */
export async function receiveArtifacts(
  store: ArtifactStore,
  producers: readonly ProducedArtifacts[],
  inputsDir: string,
): Promise<DigestedFile[]> {
  const staged: DigestedFile[] = [];
  for (const producer of producers) {
    const root = join(inputsDir, producer.taskId);
    mkdirSync(root, { recursive: true });
    for (const file of digestArtifacts(producer.dir)) {
      const target = join(root, file.path);
      mkdirSync(dirname(target), { recursive: true });
      const executable = (lstatSync(join(producer.dir, file.path)).mode & 0o111) !== 0;
      await store.get(file, target, { executable });
      staged.push({ ...file, path: `${producer.taskId}/${file.path}` });
    }
    sealFolders(root);
  }
  return staged;
}

/** How long a received artifact's URL reads its object: from the Job's creation to its pod's init. */
export const RECEIVED_URL_TTL_SECONDS = 3600;

/**
 * The artifacts `info` received, each with a URL that reads its object from the store, for a
 * runner whose tasks do not see the engine's disk (runner port: `received`); undefined when the
 * task's runner does not use the store or the store gives no URLs.
 */
export async function receivedWithUrls(
  exec: AttemptHost,
  plan: PlanTask,
  info: AttemptInfo,
  runner: Runner,
): Promise<ReceivedArtifact[] | undefined> {
  const store = storeOf(exec.ctx, plan);
  // A URL is a capability: none is made for a runner that mounts the staged folder instead.
  if (!runner.fetchesReceived || !store?.presignGet || info.inputArtifacts.length === 0) return undefined;
  const received: ReceivedArtifact[] = [];
  for (const file of info.inputArtifacts) {
    const executable = (lstatSync(join(info.inputsDir, file.path)).mode & 0o111) !== 0;
    const url = await store.presignGet(file, RECEIVED_URL_TTL_SECONDS);
    received.push({ path: file.path, digest: file.digest, executable, url });
  }
  return received;
}
