/**
 * What the container and Kubernetes runners share about an image policy's answer: the request
 * with the image replaced by its verified digest (in both places a request can name one), and
 * the attempt's result carrying the image that ran, for its receipt.
 */
import type { AttemptImage, ImageCheckRequest, RunnerHandle, RunnerStartRequest } from '../../core/index.ts';

/** The image a request runs: the container command's own, else the request's, else the default. */
export function requestedImage(request: RunnerStartRequest, defaultImage: string): string {
  return request.command.kind === 'container' ? request.command.image : (request.image ?? defaultImage);
}

/** Only what the gate decides on: never the request's env or secrets. */
export function imageCheckOf(request: RunnerStartRequest, image: string): ImageCheckRequest {
  return {
    image,
    namespace: request.namespace,
    runId: request.runId,
    taskId: request.taskId,
    attempt: request.attempt,
  };
}

/** The request with `pinned` (`registry/repo@sha256:…`) wherever it named an image. */
export function pinImage(request: RunnerStartRequest, pinned: string): RunnerStartRequest {
  const command =
    request.command.kind === 'container' ? { ...request.command, image: pinned } : request.command;
  return { ...request, command, image: pinned };
}

/** The handle whose result names the image that ran. */
export function withImage(handle: RunnerHandle, image: AttemptImage | undefined): RunnerHandle {
  if (!image) return handle;
  return { ...handle, wait: async () => ({ ...(await handle.wait()), image }) };
}
