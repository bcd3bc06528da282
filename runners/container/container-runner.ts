/**
 * The container runner: one container per attempt through the Docker Engine API (dockerode), so
 * the same code drives Docker Engine and Podman's Docker-compatible service. Containers run as a
 * non-root user, not privileged (unless the operator sets `privileged`, which policy denies by default), with every capability dropped, no new privileges, a read-only
 * root filesystem (tmpfs /tmp) and the resource class's limits. The attempt's artifacts directory
 * and an outputs directory are bind-mounted; the task writes `key=value` lines to $MAESTRO_OUTPUT.
 */
import { createHash } from 'node:crypto';
import { chmod, chown, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { dockerClient } from './docker-library.ts';
import {
  AttemptOutcome,
  InputError,
  systemClock,
  type AttemptResult,
  type Clock,
  type LogLine,
  type Runner,
  type RunnerHandle,
  type RunnerStartRequest,
} from '../../core/index.ts';
import {
  LineSplitter,
  LogChannel,
  createRedactor,
  parseOutputsFile,
  takeOutputsFile,
} from '../shared/index.ts';
import { containerNetworkMode, validateContainerConfig, type ContainerRunnerConfig } from './config.ts';

const ARTIFACTS_PATH = '/maestro/artifacts';
/** The attempt's workspace (the source at the run's commit, writable), the task's working directory. */
const WORKSPACE_PATH = '/workspace';
const OUTPUT_DIR = '/maestro/output';

interface DockerError {
  statusCode?: number;
  message?: string;
}

class CancelledBeforeStart extends Error {}

export interface ContainerRunnerDeps {
  clock?: Clock;
}

/** A container name from the attempt id: readable prefix plus a hash so distinct ids never collide. */
export function containerName(attemptId: string): string {
  const hash = createHash('sha256').update(attemptId).digest('hex').slice(0, 10);
  const readable = attemptId
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .slice(0, 40);
  return `maestro-${readable}-${hash}`;
}

function commandOf(request: RunnerStartRequest): { cmd?: string[]; entrypoint?: string[] } {
  const command = request.command;
  if (command.kind === 'shell') return { entrypoint: ['/bin/sh', '-c'], cmd: [command.script] };
  if (command.kind === 'argv') return { entrypoint: command.argv.slice(0, 1), cmd: command.argv.slice(1) };
  return { entrypoint: command.command, cmd: command.args };
}

/**
 * The outputs the container left in its bind-mounted file. The container owns that directory and
 * could swap the file for a link to any host file the engine can read, so it is read by
 * takeOutputsFile (no links followed, regular files only); a refused file fails the attempt.
 */
function collectOutputs(
  file: string,
  declared: readonly string[],
): { outputs: Record<string, string>; problems: string[]; refused?: string } {
  try {
    return parseOutputsFile(takeOutputsFile(file), declared);
  } catch (error) {
    const message = (error as Error).message;
    return { outputs: {}, problems: [message], refused: message };
  }
}

export function createContainerRunner(config: ContainerRunnerConfig, deps: ContainerRunnerDeps = {}): Runner {
  validateContainerConfig(config);
  const docker = new (dockerClient())({ socketPath: config.socketPath });
  const clock = deps.clock ?? systemClock;
  const user = config.user ?? '1000:1000';
  const [uid, gid] = user.split(':').map(Number);
  const graceMs = config.stopGraceMs ?? 10_000;

  async function prepareDir(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    // The task runs as a non-root uid; when Maestro runs as root (rootful Podman/Docker) the host
    // directories must belong to that uid or the task cannot write its artifacts and outputs.
    if (process.getuid?.() === 0 && Number.isInteger(uid))
      await chown(dir, uid!, Number.isInteger(gid) ? gid! : uid!);
    else await chmod(dir, 0o777);
  }

  /**
   * The workspace's folders become the task user's so it can create and replace files; the files
   * stay as the engine sealed them (read-only, shared with the run's source export).
   */
  async function prepareWorkspace(dir: string): Promise<void> {
    await prepareDir(dir);
    for (const entry of await readdir(dir, { withFileTypes: true }))
      if (entry.isDirectory()) await prepareWorkspace(join(dir, entry.name));
  }

  async function ensureImage(image: string): Promise<void> {
    try {
      await docker.getImage(image).inspect();
      return;
    } catch (error) {
      if ((error as DockerError).statusCode !== 404) throw error;
    }
    if (config.pull !== 'missing')
      throw new InputError(
        'image_not_found',
        `image ${image} is not present locally and pulling is disabled`,
        {
          hint: 'build or import the image on the runner host, or set pull: missing in the runner config',
        },
      );
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())),
    );
  }

  async function start(request: RunnerStartRequest): Promise<RunnerHandle> {
    const startedAt = clock.now();
    const logs = new LogChannel();
    const redact = createRedactor(request.redact);
    const resourceClass = config.resourceClasses[request.resources];
    let resolveResult!: (r: AttemptResult) => void;
    const result = new Promise<AttemptResult>((resolve) => (resolveResult = resolve));

    const finishEarly = (reason: string, message: string, retryable: boolean): RunnerHandle => {
      logs.push({ stream: 'system', text: redact(message), time: clock.now() });
      logs.close();
      resolveResult({
        outcome: AttemptOutcome.runnerError,
        exitCode: null,
        retryable,
        reason,
        message: redact(message),
        outputs: {},
        startedAt,
        finishedAt: clock.now(),
      });
      return { logs: () => logs, wait: () => result, cancel: async () => {} };
    };

    if (!resourceClass)
      return finishEarly(
        'UnknownResourceClass',
        `resource class ${JSON.stringify(request.resources)} is not configured for the container runner`,
        false,
      );
    const image =
      request.command.kind === 'container' ? request.command.image : (request.image ?? config.defaultImage);
    // Beside the workspace, not in it: no file of the repository can collide with it.
    const outputHostDir = `${request.workDir}.output`;
    try {
      await mkdir(request.artifactsDir, { recursive: true });
      await prepareWorkspace(request.workDir);
      await prepareDir(outputHostDir);
      await writeFile(join(outputHostDir, 'outputs.env'), '');
      if (process.getuid?.() === 0 && Number.isInteger(uid))
        await chown(join(outputHostDir, 'outputs.env'), uid!, Number.isInteger(gid) ? gid! : uid!);
      else await chmod(join(outputHostDir, 'outputs.env'), 0o666);
      await ensureImage(image);
    } catch (error) {
      const retryable = !(error instanceof InputError);
      const reason = error instanceof InputError ? 'ImageNotFound' : 'PrepareFailed';
      return finishEarly(reason, (error as Error).message, retryable);
    }

    const { cmd, entrypoint } = commandOf(request);
    const env = {
      ...request.env,
      MAESTRO_OUTPUT: `${OUTPUT_DIR}/outputs.env`,
      MAESTRO_ARTIFACTS: ARTIFACTS_PATH,
      HOME: '/tmp',
    };
    const networkMode = containerNetworkMode(request, config);
    let container: Docker.Container;
    try {
      container = await docker.createContainer({
        name: containerName(request.attemptId),
        Image: image,
        ...(entrypoint && entrypoint.length > 0 ? { Entrypoint: entrypoint } : {}),
        ...(cmd ? { Cmd: cmd } : {}),
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        User: user,
        WorkingDir: WORKSPACE_PATH,
        Tty: false,
        AttachStdout: true,
        AttachStderr: true,
        Labels: {
          'maestro.dev/run-id': request.runId,
          'maestro.dev/task-id': request.taskId,
          'maestro.dev/attempt': String(request.attempt),
          'maestro.dev/attempt-id': request.attemptId,
        },
        HostConfig: {
          Privileged: config.privileged === true,
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          ReadonlyRootfs: true,
          Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
          NetworkMode: networkMode,
          // The artifacts received are read-only; the workspace and the outputs file are the task's.
          Binds: [
            `${request.workDir}:${WORKSPACE_PATH}:rw`,
            `${request.artifactsDir}:${ARTIFACTS_PATH}:ro`,
            `${outputHostDir}:${OUTPUT_DIR}:rw`,
          ],
          ...(resourceClass.memoryBytes
            ? { Memory: resourceClass.memoryBytes, MemorySwap: resourceClass.memoryBytes }
            : {}),
          ...(resourceClass.cpus ? { NanoCpus: Math.round(resourceClass.cpus * 1e9) } : {}),
          ...(resourceClass.pids ? { PidsLimit: resourceClass.pids } : {}),
        },
      });
    } catch (error) {
      const status = (error as DockerError).statusCode;
      return finishEarly(
        status === 409 ? 'AlreadyExists' : 'CreateFailed',
        `could not create the container: ${(error as Error).message}`,
        status === undefined || status >= 500,
      );
    }

    const push = (line: LogLine) => logs.push(line);
    const now = () => clock.now();
    const stdout = new LineSplitter('stdout', redact, push, now);
    const stderr = new LineSplitter('stderr', redact, push, now);
    let ending: { outcome: AttemptOutcome; reason: string; message: string } | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const stop = async (graceForStop: number) => {
      try {
        await container.stop({ t: Math.max(0, Math.ceil(graceForStop / 1000)) });
      } catch (error) {
        const status = (error as DockerError).statusCode;
        if (status !== 304 && status !== 404) throw error; // 304: already stopped
      }
    };

    const run = async (): Promise<AttemptResult> => {
      try {
        // Attach before start so no early output is lost; Tty false means a multiplexed stream.
        const attached = (await container.attach({
          stream: true,
          stdout: true,
          stderr: true,
        })) as NodeJS.ReadableStream;
        const out = new PassThrough();
        const err = new PassThrough();
        out.on('data', (c: Buffer) => stdout.write(c));
        err.on('data', (c: Buffer) => stderr.write(c));
        docker.modem.demuxStream(attached, out, err);
        const streamEnded = new Promise<void>((resolve) => {
          attached.on('end', resolve);
          attached.on('close', resolve);
          attached.on('error', () => resolve());
        });
        if (ending?.outcome === AttemptOutcome.cancelled) throw new CancelledBeforeStart();
        await container.start();
        if (request.timeoutMs !== undefined)
          timer = setTimeout(() => {
            ending ??= {
              outcome: AttemptOutcome.timedOut,
              reason: 'DeadlineExceeded',
              message: `timed out after ${request.timeoutMs} ms`,
            };
            void stop(graceMs).catch(() => {});
          }, request.timeoutMs);
        const waited = (await container.wait()) as { StatusCode: number };
        // The attach stream closes shortly after exit; bound the wait so a stuck stream cannot hang us.
        await Promise.race([streamEnded, clock.sleep(2000)]);
        stdout.end();
        stderr.end();
        const info = await container.inspect();
        const collected = collectOutputs(join(outputHostDir, 'outputs.env'), request.outputs);
        for (const problem of collected.problems)
          logs.push({ stream: 'system', text: redact(problem), time: clock.now() });
        const outputs = collected.outputs;
        const exitCode = waited.StatusCode;
        const oom = info.State.OOMKilled === true;
        let outcome: AttemptOutcome;
        let reason: string | undefined;
        let message: string | undefined;
        let retryable = false;
        if (ending) ({ outcome, reason, message } = ending);
        else if (oom) {
          outcome = AttemptOutcome.failed;
          reason = 'OOMKilled';
          message = 'the container exceeded its memory limit';
          retryable = false;
        } else if (collected.refused) {
          outcome = AttemptOutcome.failed;
          reason = 'OutputsFileRefused';
          message = collected.refused;
        } else if (exitCode === 0) outcome = AttemptOutcome.succeeded;
        else {
          outcome = AttemptOutcome.failed;
          reason = 'NonZeroExit';
          message = `exited with code ${exitCode}`;
          // 137/143 without our cancel mean something outside killed it: worth a retry.
          retryable = exitCode === 137 || exitCode === 143;
        }
        return {
          outcome,
          exitCode,
          retryable: outcome === AttemptOutcome.timedOut ? true : retryable,
          ...(reason ? { reason } : {}),
          ...(message ? { message: redact(message) } : {}),
          outputs,
          startedAt,
          finishedAt: clock.now(),
          // What it ran in, for its receipt: a container, with the network the one rule gave it.
          isolation: { sandbox: 'container', network: networkMode === 'none' ? 'none' : 'on' },
        };
      } catch (error) {
        if (error instanceof CancelledBeforeStart)
          return {
            outcome: AttemptOutcome.cancelled,
            exitCode: null,
            retryable: false,
            reason: 'Cancelled',
            message: redact(ending?.message ?? 'cancelled'),
            outputs: {},
            startedAt,
            finishedAt: clock.now(),
          };
        return {
          outcome: AttemptOutcome.runnerError,
          exitCode: null,
          retryable: true,
          reason: 'ContainerApiError',
          message: redact(`container API failed: ${(error as Error).message}`),
          outputs: {},
          startedAt,
          finishedAt: clock.now(),
        };
      } finally {
        if (timer) clearTimeout(timer);
        await container.remove({ force: true, v: true }).catch(() => {});
        logs.close();
      }
    };
    void run().then(resolveResult);

    return {
      logs: () => logs,
      wait: () => result,
      cancel: async (reason, grace) => {
        ending ??= { outcome: AttemptOutcome.cancelled, reason: 'Cancelled', message: reason };
        await stop(grace ?? graceMs);
      },
    };
  }

  return {
    kind: 'container',
    // From the operator's configuration, the same values createContainer is given below.
    posture: () => ({ privileged: config.privileged === true, hostNetwork: config.network === 'host' }),
    start,
    close: async () => {},
  };
}
