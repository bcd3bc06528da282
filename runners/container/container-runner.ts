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
import type Docker from 'dockerode';
import { dockerClient } from './docker-library.ts';
import {
  AttemptOutcome,
  InputError,
  systemClock,
  type AttemptIsolation,
  type AttemptRef,
  type ReattachKnown,
  type AttemptResult,
  type AttemptImage,
  type Clock,
  type ImageGate,
  type Runner,
  type RunnerHandle,
  type RunnerStartRequest,
} from '../../core/index.ts';
import { LogChannel, imageCheckOf, requestedImage, withImage } from '../shared/index.ts';
import { createRedactor } from '../../core/index.ts';
import { containerNetworkMode, validateContainerConfig, type ContainerRunnerConfig } from './config.ts';
import { followContainer } from './follow-container.ts';

const ARTIFACTS_PATH = '/maestro/artifacts';
/** The attempt's workspace (the source at the run's commit, writable), the task's working directory. */
const WORKSPACE_PATH = '/workspace';
const OUTPUT_DIR = '/maestro/output';
// Both in the one bind-mounted directory beside the workspace (docs/task-protocol.md).
const OUTPUTS_FILE = 'outputs.env';
const MESSAGES_FILE = 'messages.jsonl';
/** The checkpoint handed in (docs/task-protocol.md, MAESTRO_STATE); written by us, never read back. */
const STATE_FILE = 'state.json';
const LABEL_ATTEMPT_ID = 'maestro.dev/attempt-id';
/** Epoch ms when the attempt times out, and its timeout: a re-attaching engine keeps both. */
const LABEL_DEADLINE = 'maestro.dev/deadline';
const LABEL_TIMEOUT = 'maestro.dev/timeout-ms';

interface DockerError {
  statusCode?: number;
  message?: string;
}

export interface ContainerRunnerDeps {
  clock?: Clock;
  /** The operator's image policy: when set, every image is verified and run by its digest. */
  imageGate?: ImageGate;
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

/** What an attempt ran in, for its receipt: a container, with the network the one rule gave it. */
function isolationOf(networkMode: string): AttemptIsolation {
  return { sandbox: 'container', network: networkMode === 'none' ? 'none' : 'on' };
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
      throw new InputError('ImageNotFound', `image ${image} is not present locally and pulling is disabled`, {
        hint: 'build or import the image on the runner host, or set pull: missing in the runner config',
      });
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())),
    );
  }

  /**
   * The engine's copy must be the digest that was verified: a local image store that answers a
   * digest reference with other content (a poisoned cache) is refused, not started.
   */
  async function confirmDigest(image: string, digest: string): Promise<void> {
    const info = await docker.getImage(image).inspect();
    const repository = image.slice(0, image.lastIndexOf('@'));
    if (!(info.RepoDigests ?? []).includes(`${repository}@${digest}`))
      throw new InputError(
        'ImageDigestChanged',
        `the engine's image for ${image} is not the verified digest ${digest} (it has ${JSON.stringify(info.RepoDigests ?? [])})`,
        { hint: 'remove the local image and let the runner pull it by digest' },
      );
  }

  async function start(request: RunnerStartRequest): Promise<RunnerHandle> {
    const startedAt = clock.now();
    const logs = new LogChannel();
    const redact = createRedactor(request.redact);
    const resourceClass = config.resourceClasses[request.resources];
    let resolveResult!: (r: AttemptResult) => void;
    const result = new Promise<AttemptResult>((resolve) => (resolveResult = resolve));

    const finishEarly = (
      reason: string,
      message: string,
      retryable: boolean,
      image?: AttemptImage,
    ): RunnerHandle => {
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
        ...(image ? { image } : {}),
      });
      return { logs: () => logs, wait: () => result, cancel: async () => {} };
    };

    if (!resourceClass)
      return finishEarly(
        'UnknownResourceClass',
        `resource class ${JSON.stringify(request.resources)} is not configured for the container runner`,
        false,
      );
    const named = requestedImage(request, config.defaultImage);
    // Verified before anything is created, and run by the digest verified, never by the tag.
    const checked = deps.imageGate ? await deps.imageGate.check(imageCheckOf(request, named)) : undefined;
    if (checked && !checked.allowed)
      return finishEarly(
        checked.reason,
        `image ${named} refused (${checked.reason}): ${checked.message}`,
        checked.retryable,
        checked.image,
      );
    if (checked?.warning)
      logs.push({
        stream: 'system',
        text: redact(`image policy (warn): ${checked.warning}`),
        time: clock.now(),
      });
    const image = checked ? checked.pinned : named;
    const attemptImage = checked?.image.verification === 'unchecked' ? undefined : checked?.image;
    // Beside the workspace, not in it: no file of the repository can collide with it.
    const outputHostDir = `${request.workDir}.output`;
    try {
      await mkdir(request.artifactsDir, { recursive: true });
      await prepareWorkspace(request.workDir);
      await prepareDir(outputHostDir);
      for (const file of [OUTPUTS_FILE, MESSAGES_FILE]) {
        await writeFile(join(outputHostDir, file), '');
        if (process.getuid?.() === 0 && Number.isInteger(uid))
          await chown(join(outputHostDir, file), uid!, Number.isInteger(gid) ? gid! : uid!);
        else await chmod(join(outputHostDir, file), 0o666);
      }
      if (request.state !== undefined)
        await writeFile(join(outputHostDir, STATE_FILE), request.state, { mode: 0o644 });
      await ensureImage(image);
      if (attemptImage?.digest) await confirmDigest(image, attemptImage.digest);
    } catch (error) {
      const retryable = !(error instanceof InputError);
      const reason = error instanceof InputError ? error.code : 'PrepareFailed';
      return finishEarly(reason, (error as Error).message, retryable, attemptImage);
    }

    const { cmd, entrypoint } = commandOf(request);
    const deadline = request.timeoutMs === undefined ? undefined : startedAt + request.timeoutMs;
    const env: Record<string, string> = {
      ...request.env,
      MAESTRO_OUTPUT: `${OUTPUT_DIR}/${OUTPUTS_FILE}`,
      MAESTRO_MESSAGES: `${OUTPUT_DIR}/${MESSAGES_FILE}`,
      MAESTRO_ARTIFACTS: ARTIFACTS_PATH,
      HOME: '/tmp',
    };
    // Only the engine hands a checkpoint in: a manifest's own MAESTRO_STATE never reaches the task.
    if (request.state === undefined) delete env.MAESTRO_STATE;
    else env.MAESTRO_STATE = `${OUTPUT_DIR}/${STATE_FILE}`;
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
          [LABEL_ATTEMPT_ID]: request.attemptId,
          // What a re-attaching engine needs to keep the attempt's timeout (reattach).
          ...(deadline === undefined
            ? {}
            : { [LABEL_DEADLINE]: String(deadline), [LABEL_TIMEOUT]: String(request.timeoutMs) }),
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

    const handle = followContainer({
      docker,
      container,
      clock,
      redact,
      logs,
      outputs: request.outputs,
      outputsFile: join(outputHostDir, OUTPUTS_FILE),
      messagesFile: join(outputHostDir, MESSAGES_FILE),
      startedAt,
      ...(deadline === undefined ? {} : { deadline, timeoutMs: request.timeoutMs }),
      graceMs,
      isolation: isolationOf(networkMode),
      mode: 'start',
    });
    return withImage(handle, attemptImage);
  }

  /**
   * A container that outlived the engine which created it (crash, kill -9): found by its name,
   * checked by its attempt-id label, followed to its end like a new one (deadline from its label,
   * outputs file from its mount). One created but never started is removed: the engine that
   * would start it is gone, so the engine closes the attempt as interrupted and retries it.
   */
  async function reattach(ref: AttemptRef, known?: ReattachKnown): Promise<RunnerHandle | undefined> {
    const container = docker.getContainer(containerName(ref.attemptId));
    let info: Docker.ContainerInspectInfo;
    try {
      info = await container.inspect();
    } catch (error) {
      if ((error as DockerError).statusCode === 404) return undefined;
      throw error;
    }
    if (info.Config.Labels?.[LABEL_ATTEMPT_ID] !== ref.attemptId) return undefined;
    const outputMount = info.Mounts.find((m) => m.Destination === OUTPUT_DIR);
    if (info.State.Status === 'created' || !outputMount) {
      await container.remove({ force: true, v: true }).catch(() => {});
      return undefined;
    }
    const deadline = Number(info.Config.Labels?.[LABEL_DEADLINE] ?? NaN);
    const timeoutMs = Number(info.Config.Labels?.[LABEL_TIMEOUT] ?? NaN);
    return followContainer({
      docker,
      container,
      clock,
      redact: createRedactor(known?.redact ?? []),
      logs: new LogChannel(),
      outputs: known?.outputs ?? [],
      outputsFile: join(outputMount.Source, OUTPUTS_FILE),
      messagesFile: join(outputMount.Source, MESSAGES_FILE),
      startedAt: Date.parse(info.State.StartedAt) || clock.now(),
      ...(Number.isFinite(deadline) ? { deadline, timeoutMs } : {}),
      graceMs,
      isolation: isolationOf(info.HostConfig.NetworkMode ?? 'none'),
      mode: 'reattach',
    });
  }

  return {
    kind: 'container',
    // From the operator's configuration, the same values createContainer is given below.
    posture: () => ({ privileged: config.privileged === true, hostNetwork: config.network === 'host' }),
    start,
    reattach,
    close: async () => {},
  };
}
