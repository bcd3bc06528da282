/**
 * Artifacts a task keeps on a runner whose workspace stays where it ran (a Kubernetes pod's
 * emptyDir: `runner.uploadsKept`). Before the attempt starts, the engine signs one URL that
 * writes one per-attempt upload object (`uploadName(attemptId)`, not a digest: nothing is known of
 * the bytes yet) and hands it to the runner with the declared paths (`request.keep`); the pod
 * uploads a tar of those paths when its task ends. When the attempt has ended, the engine reads
 * the upload (refused past the store's size limit), extracts it with every check of
 * upload-extract.ts into `<attempt>.kept/`, and keeps from there exactly as it keeps a local
 * task's workspace (keepArtifacts: hashed, content-addressed, recorded, then put in the store
 * under the digest for the dependants). The upload object is removed once read, or refused.
 * The URL is a bearer capability: it goes into the request only, never into the recorded
 * inputs, a log line or a receipt.
 */
import { mkdirSync } from 'node:fs';
import { SpanStatusCode } from '@opentelemetry/api';
import {
  AttemptOutcome,
  describeError,
  isMaestroError,
  type AttemptResult,
  type KeepUpload,
  type PlanTask,
} from '../core/index.ts';
import { uploadName, type ArtifactUploads } from './artifact-store/artifact-store.ts';
import { storeOf } from './artifact-transfer.ts';
import type { AttemptHost, AttemptInfo } from './attempt-host.ts';
import type { EngineContext } from './context.ts';
import { extractUpload } from './upload-extract.ts';

/** A task without a timeout gets a day to run and upload; one with a timeout, that plus this. */
const UPLOAD_GRACE_SECONDS = 15 * 60;
const UNBOUNDED_UPLOAD_SECONDS = 24 * 3600;
/** SigV4's longest presigned URL. */
const MAX_URL_SECONDS = 7 * 24 * 3600;

/** The uploads `plan`'s attempts hand their artifacts back through, or undefined when none. */
export function uploadsOf(ctx: EngineContext, plan: PlanTask): ArtifactUploads | undefined {
  if ((plan.artifacts?.length ?? 0) === 0) return undefined;
  if (!ctx.runners.get(plan.runner)?.uploadsKept) return undefined;
  return storeOf(ctx, plan)?.uploads;
}

/** `request.keep` for the attempt, or undefined when its runner keeps nothing this way. */
export async function keepUploadFor(
  plan: PlanTask,
  info: AttemptInfo,
  ctx: EngineContext,
): Promise<KeepUpload | undefined> {
  const uploads = uploadsOf(ctx, plan);
  if (!uploads) return undefined;
  const seconds =
    plan.timeoutMs === undefined
      ? UNBOUNDED_UPLOAD_SECONDS
      : Math.ceil(plan.timeoutMs / 1000) + UPLOAD_GRACE_SECONDS;
  const url = await uploads.presignPut(uploadName(info.attemptId), Math.min(seconds, MAX_URL_SECONDS));
  return { paths: [...plan.artifacts!], url, maxBytes: uploads.maxBytes };
}

/**
 * Reads the attempt's upload, when its runner made one, into `<workDir>.kept/`, and returns the
 * info to keep from (its workDir that folder) with the result: failed when a succeeded attempt's
 * upload was refused or could not be read. Without an upload the folder stays empty, and
 * keepArtifacts fails a succeeded attempt for each declared path it lacks (artifact_missing).
 */
export async function receiveUpload(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  result: AttemptResult,
): Promise<{ info: AttemptInfo; result: AttemptResult }> {
  const plan = exec.planTask(taskId);
  const uploads = uploadsOf(exec.ctx, plan);
  if (!uploads) return { info, result };
  const kept = { ...info, workDir: `${info.workDir}.kept` };
  mkdirSync(kept.workDir, { recursive: true });
  const name = uploadName(info.attemptId);
  const log = (text: string) => void exec.taskLog(taskId, info.attempt, 'system', text);
  if (result.outcome !== AttemptOutcome.succeeded) {
    await uploads.remove(name).catch(() => {});
    return { info: kept, result };
  }
  const span = exec.ctx.tracer.startSpan('maestro.artifacts.upload', {
    attributes: { 'maestro.run.id': exec.runId, 'maestro.task.id': taskId, 'maestro.attempt': info.attempt },
  });
  try {
    const body = await uploads.open(name);
    if (!body) {
      log('the pod uploaded no artifacts');
      return { info: kept, result };
    }
    const declared = plan.artifacts!;
    const got = await extractUpload(body, declared, kept.workDir, (skipped) =>
      log(`artifact ${skipped.path} is a ${skipped.kind}, not a regular file or folder: not kept`),
    );
    span.setAttributes({ 'maestro.artifacts.entries': got.entries, 'maestro.artifacts.bytes': got.bytes });
    log(`the pod's upload read: ${got.entries} entr${got.entries === 1 ? 'y' : 'ies'}, ${got.bytes} bytes`);
    return { info: kept, result };
  } catch (error) {
    const message = info.redact(describeError(error));
    log(message);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    const reason = isMaestroError(error) ? error.code : 'artifact_store_error';
    const retryable = isMaestroError(error) ? error.retryable : true;
    // Nothing of a refused upload is kept: a fresh, empty folder is what keepArtifacts sees.
    const empty = { ...info, workDir: `${info.workDir}.refused` };
    mkdirSync(empty.workDir, { recursive: true });
    return { info: empty, result: { ...result, outcome: AttemptOutcome.failed, reason, message, retryable } };
  } finally {
    span.end();
    await uploads
      .remove(name)
      .catch((error: unknown) => log(`cannot remove the upload: ${describeError(error)}`));
  }
}
