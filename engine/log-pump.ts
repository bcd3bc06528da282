/**
 * Copies an attempt's log lines into the store in small batches, redacting them again first. The
 * last batch is held (RunLog.hold), for the attempt's result to store in its own transaction.
 */
import type { RunnerHandle } from '../core/index.ts';
import type { AttemptHost } from './attempt-host.ts';
import type { HeldLines } from './run-log.ts';
import type { StoredLogLine } from './store/store.ts';

export async function pumpLogs(
  exec: AttemptHost,
  taskId: string,
  attempt: number,
  handle: RunnerHandle,
  redact: (text: string) => string,
): Promise<HeldLines> {
  let batch: StoredLogLine[] = [];
  let lastFlush = Date.now();
  // Awaited: a slow store slows the reading of the runner's lines instead of buffering them all.
  const flush = async (): Promise<void> => {
    const lines = batch;
    batch = [];
    lastFlush = Date.now();
    await exec.appendLogs(lines);
  };
  let ended = false;
  try {
    for await (const line of handle.logs()) {
      const text = redact(line.text);
      batch.push({ runId: exec.runId, taskId, attempt, stream: line.stream, time: line.time, text });
      exec.ctx.emit({
        type: 'log',
        runId: exec.runId,
        taskId,
        attempt,
        stream: line.stream,
        text,
        time: line.time,
      });
      // Wall time here only paces batching; it never decides behaviour.
      if (batch.length >= 200 || Date.now() - lastFlush > 200) await flush();
    }
    ended = true;
  } finally {
    // The stream failed: what was read is stored now (and the failure thrown to the caller).
    if (!ended) await flush();
  }
  // Held at once, before any later line can be published: stored with the attempt's result.
  return exec.holdLogs(batch);
}
