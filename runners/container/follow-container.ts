/**
 * Following one attempt's container to its end: its logs (demultiplexed, split, redacted), its
 * deadline, cancel, its outputs file, and the result; the container is removed afterwards. The
 * same code follows a container this runner just created (attach, then start) and one that
 * outlived a previous engine (`reattach`: its whole log again, then its end).
 */
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import {
  AttemptOutcome,
  type AttemptIsolation,
  type AttemptResult,
  type Clock,
  type LogLine,
  type RunnerHandle,
  type Redactor,
} from '../../core/index.ts';
import {
  cancelledBy,
  collectMessages,
  deadlineExceeded,
  LineSplitter,
  LOG_DRAIN_MS,
  logCutOff,
  logStreamDrained,
  nonZeroExit,
  oomKilled,
  parseOutputsFile,
  takeOutputsFile,
  type LogChannel,
} from '../shared/index.ts';

interface DockerError {
  statusCode?: number;
}

class CancelledBeforeStart extends Error {}

export interface FollowOptions {
  docker: Docker;
  container: Docker.Container;
  clock: Clock;
  redact: Redactor;
  logs: LogChannel;
  /** Declared output names (empty: keep every output, as after a re-attach). */
  outputs: readonly string[];
  outputsFile: string;
  /** $MAESTRO_MESSAGES on the host (docs/task-protocol.md), read after the outputs file. */
  messagesFile: string;
  startedAt: number;
  /** Epoch ms after which the attempt is stopped as timed out. */
  deadline?: number;
  timeoutMs?: number;
  graceMs: number;
  /** What the attempt runs in, for its result (and receipt). */
  isolation: AttemptIsolation;
  /** `start`: attach, then start the created container; `reattach`: it runs already (or ran). */
  mode: 'start' | 'reattach';
}

type Ending = { outcome: AttemptOutcome; reason: string; message: string };

/**
 * The outputs the container left in its bind-mounted file. The container owns that directory and
 * could swap the file for a link to any host file the engine can read, so it is read by
 * takeOutputsFile (no links followed, regular files only); a refused file fails the attempt.
 */
function collectOutputs(file: string, declared: readonly string[]) {
  try {
    return { ...parseOutputsFile(takeOutputsFile(file), declared), refused: undefined };
  } catch (error) {
    const message = (error as Error).message;
    return { outputs: {}, problems: [message], refused: message };
  }
}

/** Both files the task reports through; a message wins over an outputs line of the same name. */
function collectReports(o: FollowOptions, now: () => number) {
  const fromFile = collectOutputs(o.outputsFile, o.outputs);
  const messages = collectMessages(o.messagesFile, o.outputs, o.redact, now);
  const problems: LogLine[] = fromFile.problems.map((p) => ({
    stream: 'system',
    text: o.redact(p),
    time: now(),
  }));
  return {
    outputs: { ...fromFile.outputs, ...messages.outputs },
    lines: [...problems, ...messages.lines],
    refused: fromFile.refused ?? messages.refused,
    state: messages.state,
    builtImages: messages.images,
    reason: fromFile.refused ? 'OutputsFileRefused' : 'MessagesFileRefused',
  };
}

async function stopContainer(container: Docker.Container, graceMs: number): Promise<void> {
  try {
    await container.stop({ t: Math.max(0, Math.ceil(graceMs / 1000)) });
  } catch (error) {
    const status = (error as DockerError).statusCode;
    if (status !== 304 && status !== 404) throw error; // 304: already stopped
  }
}

/** How an exited container's attempt ended, from its exit code, OOM flag and outputs file. */
function classify(
  exitCode: number,
  oom: boolean,
  refused: { reason: string; message: string } | undefined,
  ending: Ending | undefined,
): Pick<AttemptResult, 'outcome' | 'retryable' | 'reason' | 'message'> {
  if (ending) return { ...ending, retryable: ending.outcome === AttemptOutcome.timedOut };
  if (oom) return oomKilled();
  if (refused) return { outcome: AttemptOutcome.failed, retryable: false, ...refused };
  if (exitCode === 0) return { outcome: AttemptOutcome.succeeded, retryable: false };
  return nonZeroExit(exitCode);
}

export function followContainer(o: FollowOptions): RunnerHandle {
  const { docker, container, clock, redact, logs } = o;
  const push = logs.push.bind(logs);
  const now = () => clock.now();
  const stdout = new LineSplitter('stdout', redact, push, now);
  const stderr = new LineSplitter('stderr', redact, push, now);
  let ending: Ending | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const base = () => ({ exitCode: null, outputs: {}, startedAt: o.startedAt, finishedAt: clock.now() });

  const logStream = async (): Promise<NodeJS.ReadableStream> =>
    o.mode === 'start'
      ? // Attach before start so no early output is lost; Tty false means a multiplexed stream.
        ((await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream)
      : // Its whole log again (lines the dead engine stored come twice rather than not at all).
        ((await container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream);

  const run = async (): Promise<AttemptResult> => {
    try {
      const stream = await logStream();
      const out = new PassThrough();
      const err = new PassThrough();
      out.on('data', (c: Buffer) => stdout.write(c));
      err.on('data', (c: Buffer) => stderr.write(c));
      docker.modem.demuxStream(stream, out, err);
      const streamEnded = new Promise<void>((resolve) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
      });
      if (ending?.outcome === AttemptOutcome.cancelled) throw new CancelledBeforeStart();
      if (o.mode === 'start') await container.start();
      if (o.deadline !== undefined)
        timer = setTimeout(
          () => {
            ending ??= deadlineExceeded(`timed out after ${o.timeoutMs} ms`);
            void stopContainer(container, o.graceMs).catch(() => {});
          },
          Math.max(0, o.deadline - clock.now()),
        );
      const waited = (await container.wait()) as { StatusCode: number };
      // The rest of the output, however long the engine takes to copy it (runners/shared/log-drain.ts).
      const complete = await logStreamDrained(streamEnded, clock);
      stdout.end();
      stderr.end();
      if (!complete) push({ stream: 'system', text: logCutOff(LOG_DRAIN_MS), time: now() });
      const info = await container.inspect();
      const collected = collectReports(o, now);
      for (const line of collected.lines) push(line);
      const refused = collected.refused
        ? { reason: collected.reason, message: collected.refused }
        : undefined;
      const verdict = classify(waited.StatusCode, info.State.OOMKilled === true, refused, ending);
      return {
        ...verdict,
        exitCode: waited.StatusCode,
        ...(verdict.message ? { message: redact(verdict.message) } : {}),
        outputs: collected.outputs,
        ...(collected.state === undefined ? {} : { state: collected.state }),
        ...(collected.builtImages ? { builtImages: collected.builtImages } : {}),
        startedAt: o.startedAt,
        finishedAt: clock.now(),
        isolation: o.isolation,
      };
    } catch (error) {
      if (error instanceof CancelledBeforeStart)
        return { ...base(), ...cancelledBy(redact(ending?.message ?? 'cancelled')) };
      return {
        ...base(),
        outcome: AttemptOutcome.runnerError,
        retryable: true,
        reason: 'ContainerApiError',
        message: redact(`container API failed: ${(error as Error).message}`),
      };
    } finally {
      if (timer) clearTimeout(timer);
      await container.remove({ force: true, v: true }).catch(() => {});
      logs.close();
    }
  };
  const result = run();

  return {
    logs: () => logs,
    wait: () => result,
    cancel: async (reason, grace) => {
      ending ??= cancelledBy(reason);
      await stopContainer(container, grace ?? o.graceMs);
    },
  };
}
